/// Recognises the same DNS message seen again: by `tcpdump -i any` on a node (the pod's veth before DNAT, the
/// uplink after), by a bridge and its port, or by merged captures from two points. Same transport, same DNS
/// octets, within `window`: one message, several sightings — never a second message, never a retry. (A resolver's
/// re-send repeats the octets too, but after its timeout: 300 ms for musl at the shortest, a second for glibc.)
/// A second sighting must also come from another capture point — another input, another interface (SLL2), or
/// another direction (SLL) — so that a duplicate on one wire, a fast re-send, or musl asking every nameserver at
/// once with the same octets stays a message of its own. The addresses may differ (NAT) or not (a bridge).
struct SightingIndex {
    struct Entry {
        var bytes: [UInt8]
        var time: Timestamp
        /// The transaction (sequence) the first sighting joined.
        var sequence: Int
        var isResponse: Bool
        var input: Int
        var interfaceIndex: UInt32?
        var packetType: UInt16?

        func isElsewhere(than m: ObservedMessage) -> Bool {
            input != m.point.input || interfaceIndex != m.point.interfaceIndex || packetType != m.point.packetType
        }
    }

    let windowNanoseconds: Int64
    /// The sightings under each hash, oldest first: almost always one (held inline: a list per message was an
    /// allocation per message).
    private var entries = SequenceMap<InlineList<Entry>>()
    private var order: [(hash: Int, time: Timestamp)] = []
    private var orderHead = 0

    init(windowNanoseconds: Int64) { self.windowNanoseconds = windowNanoseconds }

    static func hash(_ transport: TransportProtocol, _ bytes: [UInt8]) -> Int {
        Int(truncatingIfNeeded: ByteHash.hash(bytes, seed: transport == .tcp ? 0x8422_2325_cbf2_9ce4 : 0xcbf2_9ce4_8422_2325))
    }

    /// The earlier sighting of these octets (`hash`: `SightingIndex.hash` of them), if one is within the window.
    mutating func earlier(_ bytes: [UInt8], hash h: Int, of m: ObservedMessage) -> Entry? {
        guard windowNanoseconds > 0 else { return nil }
        expire(now: m.timestamp)
        return entries[h]?.last {
            $0.bytes == bytes && m.timestamp.nanoseconds(since: $0.time) <= windowNanoseconds && $0.isElsewhere(than: m)
        }
    }

    mutating func remember(_ bytes: [UInt8], hash h: Int, of m: ObservedMessage, sequence: Int) {
        guard windowNanoseconds > 0 else { return }
        let entry = Entry(
            bytes: bytes, time: m.timestamp, sequence: sequence, isResponse: m.message.isResponse, input: m.point.input,
            interfaceIndex: m.point.interfaceIndex, packetType: m.point.packetType)
        entries[h, default: InlineList()].append(entry)
        order.append((h, m.timestamp))
    }

    private mutating func expire(now: Timestamp) {
        while orderHead < order.count, now.nanoseconds(since: order[orderHead].time) > windowNanoseconds {
            let h = order[orderHead].hash
            // In place: copying the list out, trimming it and storing it back allocated a new list per message.
            if let n = entries.read(h, { $0.count }) {
                if n <= 1 { entries.removeValue(forKey: h) } else { entries.update(h) { $0.remove(at: 0) } }
            }
            orderHead += 1
        }
        if orderHead > 4096, orderHead * 2 > order.count {
            order.removeFirst(orderHead)
            orderHead = 0
        }
    }
}
