import DNSFlowCapture
import DNSFlowCore
import DNSFlowTUI

/// The raw packets behind the rows shown (Detail's hex view, `w`, and the whole transactions Detail and the exports
/// decode again). A capture file that can be read again by offset keeps nothing in memory: the packet is read back
/// from the file when asked for. Other inputs (live, a pipe) keep the bytes, bounded in packets and in octets
/// (`maxBytes`, with each packet's bookkeeping): the oldest go first.
final class PacketStore {
    private struct Key: Hashable {
        var input: Int
        var frame: Int

        func _rawHashValue(seed: Int) -> Int {
            FastHash.mix(FastHash.fold(UInt64(UInt(bitPattern: input)), UInt64(UInt(bitPattern: frame))), seed: seed)
        }
    }

    private var packets: [Key: CapturedPacket] = [:]
    private var order: [Key] = []
    private var head = 0
    let capacity: Int
    let maxBytes: Int
    /// What the kept packets take: their octets and about 192 octets of bookkeeping each.
    private(set) var heldBytes = 0
    private static func weight(_ p: CapturedPacket) -> Int { p.data.count + 192 }
    /// Per input: its file, read again by offset (nil: the bytes are kept).
    private let readers: [SavefileReader?]
    private let linkTypes: [LinkType]

    init(capacity: Int, maxBytes: Int = 128 << 20, handles: [PcapHandle] = []) {
        self.capacity = max(16, capacity)
        self.maxBytes = maxBytes
        var readers: [SavefileReader?] = [], linkTypes: [LinkType] = []
        for h in handles {
            while readers.count <= h.input { readers.append(nil); linkTypes.append(h.linkType) }
            readers[h.input] = h.rereadablePath.flatMap { SavefileReader(path: $0) }
            linkTypes[h.input] = h.linkType
        }
        self.readers = readers
        self.linkTypes = linkTypes
    }

    private func reader(_ point: CapturePoint) -> SavefileReader? {
        guard point.fileOffset >= 0, point.input >= 0, point.input < readers.count else { return nil }
        return readers[point.input]
    }

    func keep(_ p: CapturedPacket) {
        if reader(p.point) != nil { return }
        let key = Key(input: p.point.input, frame: p.point.frame)
        if let old = packets.updateValue(p, forKey: key) {
            heldBytes += PacketStore.weight(p) - PacketStore.weight(old)
            return
        }
        heldBytes += PacketStore.weight(p)
        order.append(key)
        while packets.count > capacity || heldBytes > maxBytes, head < order.count {
            if let gone = packets.removeValue(forKey: order[head]) { heldBytes -= PacketStore.weight(gone) }
            head += 1
        }
        order.dropConsumed(head: &head)
    }

    func remove(_ point: CapturePoint) {
        if let gone = packets.removeValue(forKey: Key(input: point.input, frame: point.frame)) { heldBytes -= PacketStore.weight(gone) }
    }

    subscript(_ point: CapturePoint) -> CapturedPacket? {
        if let reader = reader(point) {
            guard let r = reader.record(at: point.fileOffset) else { return nil }
            let digits: UInt8 = r.nanoseconds % 1000 == 0 ? 6 : 9
            var point = point
            point.interfaceIndex = r.interface
            var clamped = false
            return CapturedPacket(timestamp: Timestamp(capturedSeconds: r.seconds, nanoseconds: r.nanoseconds, digits: digits, clamped: &clamped),
                                  linkType: linkTypes[point.input], data: r.data, originalLength: r.originalLength,
                                  point: point)
        }
        return packets[Key(input: point.input, frame: point.frame)]
    }

    /// A row's whole transaction, its messages decoded again from its packets; nil when a packet is gone or does
    /// not decode to the message the row recorded (then the row's facts are all there is).
    func transaction(of e: Entry, configuration: PacketDecoder.Configuration) -> Transaction? {
        let f = e.facts
        var stage = DecodingStage(configuration: configuration)
        func message(_ ref: PacketRef?, at time: Timestamp) -> ObservedMessage? {
            guard let ref, var packet = self[ref.point] else { return nil }
            packet.timestamp = time
            let decoded = stage.decode(packet)
            guard decoded.payloads.count == 1, let (payload, m) = decoded.payloads.first, let m,
                  m.id == f.id, m.question == f.question else { return nil }
            return ObservedMessage(timestamp: time, transport: payload.transport, source: payload.source,
                                   destination: payload.destination, point: payload.point, message: m)
        }
        var query: ObservedMessage?, response: ObservedMessage?
        if f.hasQuery {
            guard let m = message(e.queryPacket, at: f.time) else { return nil }
            query = m
        }
        if let time = f.responseTime {
            guard let m = message(e.responsePacket, at: time) else { return nil }
            response = m
        }
        var t = Transaction(sequence: e.sequence, query: query, response: response)
        t.isUnmatchable = f.status == .malformed
        t.analysis = f.analysis
        return t
    }
}
