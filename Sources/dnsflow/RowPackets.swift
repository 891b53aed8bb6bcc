import DNSFlowCapture
import DNSFlowCore
import DNSFlowTUI

/// The raw packets behind the rows shown (Detail's hex view, `w`, and the whole transactions Detail and the exports
/// decode again). A capture file that can be read again by offset keeps nothing in memory: the packet is read back
/// from the file when asked for. Other inputs (live, a pipe) keep the bytes, bounded in packets and in octets
/// (`maxBytes`, with each packet's bookkeeping): the oldest go first.
///
/// Kept packets are kept per input in arrival order (an input's frames come in order), their octets copied into
/// chunks of a megabyte: keeping one is a copy and an append, finding one a search by frame from the oldest (the rows
/// let go, and their packets with them, are the oldest), and the oldest go a chunk at a time. The capture's own
/// buffers stay the reading thread's to free.
final class PacketStore {
    /// One input's kept packets, oldest first, frames increasing.
    private struct Kept {
        struct Entry {
            var frame: Int
            var fileOffset: Int64
            var timestamp: Timestamp
            var originalLength: Int
            var linkType: LinkType
            var interfaceIndex: UInt32?
            /// Its octets: `length` of them from `offset` in chunk number `chunk`.
            var chunk: Int
            var offset: Int32
            var length: Int32
            /// Order of keeping across inputs: the oldest goes first.
            var arrival: Int
            /// Let go with its row: its place stays until the oldest reach it.
            var removed = false
        }
        var entries: [Entry] = []
        var head = 0
        /// Chunk number n is `chunks[n - droppedChunks]`.
        var chunks: [[UInt8]] = []
        var droppedChunks = 0

        var isEmpty: Bool { head == entries.count }

        /// The index of `frame` among the entries, searched from the oldest (doubling, then halving).
        func index(of frame: Int) -> Int? {
            let i = firstIndex(notBefore: frame)
            return i < entries.count && entries[i].frame == frame ? i : nil
        }

        /// The first entry whose frame is `frame` or later (`entries.count` if none).
        func firstIndex(notBefore frame: Int) -> Int {
            var lo = head, hi = entries.count, step = 1
            while true {
                let probe = lo + step - 1
                if probe >= entries.count { break }
                if entries[probe].frame >= frame { hi = probe; break }
                lo = probe + 1
                step *= 2
            }
            while lo < hi {
                let mid = (lo + hi) / 2
                if entries[mid].frame < frame { lo = mid + 1 } else { hi = mid }
            }
            return lo
        }

        func packet(at i: Int, input: Int) -> CapturedPacket {
            let e = entries[i]
            let c = chunks[e.chunk - droppedChunks]
            let data = Array(c[Int(e.offset) ..< Int(e.offset) + Int(e.length)])
            return CapturedPacket(timestamp: e.timestamp, linkType: e.linkType, data: data, originalLength: e.originalLength,
                                  point: CapturePoint(input: input, frame: e.frame, interfaceIndex: e.interfaceIndex,
                                                      fileOffset: e.fileOffset))
        }

        /// Copies `data` to the newest chunk (a new one when it does not fit); where it went.
        mutating func store(_ data: [UInt8]) -> (chunk: Int, offset: Int32) {
            if chunks.isEmpty || chunks[chunks.count - 1].count + data.count > chunks[chunks.count - 1].capacity {
                var c: [UInt8] = []
                c.reserveCapacity(max(PacketStore.chunkSize, data.count))
                chunks.append(c)
            }
            let last = chunks.count - 1
            let offset = chunks[last].count
            chunks[last].append(contentsOf: data)
            return (droppedChunks + last, Int32(offset))
        }

        /// Lets go of what lies before the oldest entry: entries passed, and chunks older than its (all of them when
        /// none is left).
        mutating func dropPassed() {
            entries.dropConsumed(head: &head)
            let keepFrom = isEmpty ? droppedChunks + chunks.count : entries[head].chunk
            let n = keepFrom - droppedChunks
            guard n > 0 else { return }
            chunks.removeFirst(n)
            droppedChunks += n
        }
    }

    private static let chunkSize = 1 << 20
    /// Entries out of frame order (merged streams with times out of order) are put in place when this close to the
    /// newest; an older one is not kept.
    private static let reorderWindow = 1024

    private var kept: [Kept] = []
    /// Entries held (let go or not: their octets stay until the oldest reach them).
    private var count = 0
    private var arrivals = 0
    let capacity: Int
    let maxBytes: Int
    /// What the held entries take: their octets and their bookkeeping.
    private(set) var heldBytes = 0
    /// Chunks of octets held, all inputs.
    var chunksHeld: Int { kept.reduce(0) { $0 + $1.chunks.count } }
    private static func weight(_ length: Int) -> Int { length + MemoryLayout<Kept.Entry>.stride }
    /// Per input: its file, read again by offset (nil: the bytes are kept).
    private let readers: [SavefileReader?]
    /// Every input is a file read again by offset: nothing here needs a packet's octets as it was decoded.
    var readsEveryInputAgain: Bool { !readers.isEmpty && readers.allSatisfy { $0 != nil } }
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
        let input = p.point.input
        guard input >= 0, reader(p.point) == nil else { return }
        while kept.count <= input { kept.append(Kept()) }
        var at = kept[input].entries.count
        if !kept[input].isEmpty, let newest = kept[input].entries.last, newest.frame >= p.point.frame {
            // Kept again (the same frame): the newer replaces it. Earlier than the newest: put in place if near.
            if newest.frame == p.point.frame {
                heldBytes -= PacketStore.weight(Int(newest.length))
                count -= 1
                kept[input].entries.removeLast()
                at -= 1
            } else {
                at = kept[input].firstIndex(notBefore: p.point.frame)
                guard kept[input].entries.count - at <= PacketStore.reorderWindow else { return }
                if kept[input].entries[at].frame == p.point.frame { remove(p.point) }
                at = kept[input].firstIndex(notBefore: p.point.frame)
            }
        }
        let (chunk, offset) = kept[input].store(p.data)
        arrivals += 1
        let entry = Kept.Entry(frame: p.point.frame, fileOffset: p.point.fileOffset, timestamp: p.timestamp,
                               originalLength: p.originalLength, linkType: p.linkType,
                               interfaceIndex: p.point.interfaceIndex, chunk: chunk, offset: offset,
                               length: Int32(p.data.count), arrival: arrivals)
        if at == kept[input].entries.count { kept[input].entries.append(entry) } else { kept[input].entries.insert(entry, at: at) }
        count += 1
        heldBytes += PacketStore.weight(p.data.count)
        while count > capacity || heldBytes > maxBytes, let oldest = oldestInput() {
            kept[oldest].entries[kept[oldest].head].removed = true
            dropRemoved(oldest)
        }
    }

    /// The input whose oldest entry was kept first.
    private func oldestInput() -> Int? {
        var best: Int?
        for (i, k) in kept.enumerated() where !k.isEmpty {
            if best == nil || k.entries[k.head].arrival < kept[best!].entries[kept[best!].head].arrival { best = i }
        }
        return best
    }

    /// Lets go of an input's oldest entries that were let go, with their chunks.
    private func dropRemoved(_ input: Int) {
        while !kept[input].isEmpty, kept[input].entries[kept[input].head].removed {
            heldBytes -= PacketStore.weight(Int(kept[input].entries[kept[input].head].length))
            count -= 1
            kept[input].head += 1
        }
        kept[input].dropPassed()
    }

    func remove(_ point: CapturePoint) {
        let input = point.input
        guard input >= 0, input < kept.count, let i = kept[input].index(of: point.frame), !kept[input].entries[i].removed else { return }
        kept[input].entries[i].removed = true
        // Its octets and bookkeeping are held until the oldest reach it (at once when it is the oldest).
        if i == kept[input].head { dropRemoved(input) }
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
        guard point.input >= 0, point.input < kept.count, let i = kept[point.input].index(of: point.frame),
              !kept[point.input].entries[i].removed else { return nil }
        return kept[point.input].packet(at: i, input: point.input)
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
            guard decoded.messages.count == 1, let m = decoded.messages[0], m.id == f.id, m.question == f.question
            else { return nil }
            return ObservedMessage(timestamp: time, transport: m.transport, source: m.source, destination: m.destination,
                                   point: m.point, message: m.message)
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
