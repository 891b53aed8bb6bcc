/// Recognises the same DNS message seen again: by `tcpdump -i any` on a node (the pod's veth before DNAT, the
/// uplink after), by a bridge and its port, or by merged captures from two points. Same transport, same DNS
/// octets, within `window`: one message, several sightings — never a second message, never a retry. (A resolver's
/// re-send repeats the octets too, but after its timeout: 300 ms for musl at the shortest, a second for glibc.)
/// A second sighting must also come from another capture point — another input, another interface (SLL2), or
/// another direction (SLL) — so that a duplicate on one wire, a fast re-send, or musl asking every nameserver at
/// once with the same octets stays a message of its own. The addresses may differ (NAT) or not (a bridge).
///
/// It runs in the first stage (`DecodingStage`, on the decoding thread), on each parsed message: the messages it
/// remembers are numbered in order (ordinals), and a sighting names the ordinal of the message it repeats. The
/// pipeline keeps which transaction (sequence) each ordinal went to, for as long as the index may name it.
struct SightingIndex {
    struct Entry {
        var bytes: [UInt8]
        var time: Timestamp
        /// The message's number among those remembered.
        var ordinal: Int
        var isResponse: Bool
        var origin: CapturePoint.Origin

        /// The message numbered `ordinal`, seen in `payload` (whose octets are `bytes`, taken over).
        init(_ bytes: consuming [UInt8], of payload: borrowing DNSPayload, ordinal: Int, isResponse: Bool) {
            self.bytes = bytes
            time = payload.timestamp
            self.ordinal = ordinal
            self.isResponse = isResponse
            origin = payload.point.origin
        }
    }

    let windowNanoseconds: Int64
    /// The sightings under each hash, oldest first: almost always one (held inline: a list per message was an
    /// allocation per message). Kept only while the window holds messages from more than one capture point.
    private var entries = SequenceMap<InlineList<Entry>>()
    /// The messages in the window, oldest first (from `orderHead`), each with its transport (the hash's seed) and its
    /// hash once it has been filed.
    private var order: [Remembered] = []
    /// A struct, not a tuple: the consumed front of `order` is destroyed element by element, and a tuple's destruction
    /// goes through the runtime's generic witnesses.
    private struct Remembered {
        var entry: Entry
        var transport: TransportProtocol
        var hash: Int
    }
    private var orderHead = 0
    /// The ordinal the next message remembered gets.
    private var nextOrdinal = 0
    /// Whether the messages in the window are filed by their octets (`entries`). While every message in the window
    /// came from one capture point — a run from one input whose link layer names neither interface nor direction, as
    /// almost every file — none can be another sighting of one remembered (a sighting comes from another point), so
    /// none is hashed or filed: the window is filed when a message from another point comes, and no longer once it
    /// empties.
    private var isFiled = false
    /// The capture point of every message in the window, while it is not filed.
    private var soleOrigin = CapturePoint.Origin(input: 0)

    /// Every message comes from one capture point (`Pipeline.Configuration.capturesAtOnePoint`): none can be another's
    /// sighting (a sighting comes from another point), so none is remembered. A message from another point after all
    /// ends it: from there on, messages are remembered as they are otherwise.
    private var atOnePoint: Bool
    /// The point every message came from, while `atOnePoint` (nil before the first).
    private var onePoint: CapturePoint.Origin?

    init(windowNanoseconds: Int64, atOnePoint: Bool = false) {
        self.windowNanoseconds = windowNanoseconds
        self.atOnePoint = atOnePoint
    }

    static func hash(_ transport: TransportProtocol, _ bytes: [UInt8]) -> Int {
        Int(truncatingIfNeeded: ByteHash.hash(bytes, seed: transport == .tcp ? 0x8422_2325_cbf2_9ce4 : 0xcbf2_9ce4_8422_2325))
    }

    /// The oldest ordinal the index may still name (every one below it is expired).
    var oldestHeld: Int { orderHead < order.count ? order[orderHead].entry.ordinal : nextOrdinal }

    /// What a parsed message is: another sighting of a remembered one (the same octets, from another capture point,
    /// within the window, and a query again or a response again), or a message of its own — numbered and
    /// remembered when it can be matched (it has its question, or asks none). `bytes`: the payload's octets, handed
    /// over (`consuming`, the payload holding them no more): remembered without another reference taken.
    mutating func classify(_ payload: borrowing DNSPayload, octets bytes: consuming [UInt8], _ message: DNSMessage) -> Sighting {
        guard message.question != nil || message.header.questionCount == 0 else { return .unmatchable }
        let ordinal = nextOrdinal
        nextOrdinal += 1
        guard windowNanoseconds > 0 else { return .first(ordinal: ordinal) }
        let origin = payload.point.origin
        if atOnePoint {
            guard let p = onePoint else {
                onePoint = origin
                return .first(ordinal: ordinal)
            }
            if p == origin { return .first(ordinal: ordinal) }
            atOnePoint = false
        }
        expire(now: payload.timestamp)
        if !isFiled {
            if orderHead == order.count { soleOrigin = origin }
            if origin == soleOrigin {
                let entry = Entry(bytes, of: payload, ordinal: ordinal, isResponse: message.isResponse)
                order.append(Remembered(entry: entry, transport: payload.transport, hash: 0))
                return .first(ordinal: ordinal)
            }
            fileWindow()
        }
        let h = SightingIndex.hash(payload.transport, bytes)
        if let earlier = entries[h]?.last(where: {
            $0.bytes == bytes && payload.timestamp.nanoseconds(since: $0.time) <= windowNanoseconds
                && $0.origin != origin
        }), earlier.isResponse == message.isResponse {
            nextOrdinal -= 1
            return .again(of: earlier.ordinal)
        }
        let entry = Entry(bytes, of: payload, ordinal: ordinal, isResponse: message.isResponse)
        entries[h, default: InlineList()].append(entry)
        order.append(Remembered(entry: entry, transport: payload.transport, hash: h))
        return .first(ordinal: ordinal)
    }

    /// Files every message in the window by its octets (a message from a second capture point came).
    private mutating func fileWindow() {
        for i in orderHead..<order.count {
            let h = SightingIndex.hash(order[i].transport, order[i].entry.bytes)
            order[i].hash = h
            entries[h, default: InlineList()].append(order[i].entry)
        }
        isFiled = true
    }

    private mutating func expire(now: Timestamp) {
        while orderHead < order.count, now.nanoseconds(since: order[orderHead].entry.time) > windowNanoseconds {
            if isFiled {
                let h = order[orderHead].hash
                // In place: copying the list out, trimming it and storing it back allocated a new list per message.
                if let n = entries.read(h, { $0.count }) {
                    if n <= 1 { entries.removeValue(forKey: h) } else { entries.update(h) { $0.remove(at: 0) } }
                }
            }
            orderHead += 1
        }
        if orderHead == order.count { isFiled = false }
        order.dropConsumed(head: &orderHead)
    }
}

/// What the first stage found a parsed message to be (`SightingIndex.classify`).
enum Sighting: Sendable {
    /// Its question did not decode: it cannot be matched (and is not remembered).
    case unmatchable
    /// A message of its own, remembered under this ordinal.
    case first(ordinal: Int)
    /// Another sighting of the message remembered under this ordinal.
    case again(of: Int)
}

/// Which transaction each message the sighting index remembered went to, by ordinal, for as long as the index may
/// name it: a list from `firstOrdinal` (ordinals are consecutive), trimmed from the front.
struct SightedSequences {
    private var sequences: [Int] = []
    private var head = 0
    private var firstOrdinal = 0

    /// The message numbered `ordinal` (the next one) went to transaction `sequence`.
    mutating func append(_ ordinal: Int, sequence: Int) {
        if ordinal != firstOrdinal + sequences.count - head {
            // Not the next one (only when ordinals were skipped): start afresh from it.
            sequences.removeAll(keepingCapacity: true)
            head = 0
            firstOrdinal = ordinal
        }
        sequences.append(sequence)
    }

    subscript(ordinal: Int) -> Int? {
        let i = head + ordinal - firstOrdinal
        return i >= head && i < sequences.count ? sequences[i] : nil
    }

    /// Ordinals below `oldest` will not be asked for again.
    mutating func forget(below oldest: Int) {
        let n = min(oldest - firstOrdinal, sequences.count - head)
        guard n > 0 else { return }
        head += n
        firstOrdinal += n
        if head == sequences.count {
            // All of it (at one capture point, every message: the index remembers none): emptied as a short list is,
            // where `removeAll` takes the general way of a replacement.
            sequences.empty()
            head = 0
        } else {
            sequences.dropConsumed(head: &head)
        }
    }
}
