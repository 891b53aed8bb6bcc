import DNSFlowCore

/// Several offline inputs read as one stream, merged by timestamp (ties go to the earlier input).
///
/// An input whose packets come from several interfaces of one pcapng file is in time order per interface only: its
/// packets wait in a small reorder buffer until a packet `reorderWindow` later has been read (or `maxReordered` wait),
/// so that the copies of one message seen on two interfaces arrive in the order they crossed them.
public final class MergedSource {
    public let handles: [PcapHandle]
    /// The next packet of each input (read ahead, to compare timestamps). Only this thread touches it.
    @exclusivity(unchecked) private var heads: [CapturedPacket?]
    /// Per input, packets read ahead to put them in time order (empty unless the input has several interfaces).
    @exclusivity(unchecked) private var reorder: [PacketHeap]
    @exclusivity(unchecked) private var exhausted: [Bool]
    @exclusivity(unchecked) private var newest: [Timestamp]
    static let reorderWindow: Int64 = 2_000_000_000
    static let maxReordered = 4096

    /// The input when there is one, whose packets come in the file's order (no several interfaces to put in time
    /// order): read straight through, nothing held ahead but the first packet (`heads[0]`, read when made).
    private let single: Unmanaged<PcapHandle>?

    public init(_ handles: [PcapHandle]) {
        self.handles = handles
        // (Read without taking a reference, `handles` holding one: taking one a packet is two atomic operations a packet.)
        single = handles.count == 1 && !handles[0].hasSeveralInterfaces ? Unmanaged.passUnretained(handles[0]) : nil
        reorder = handles.map { _ in PacketHeap() }
        exhausted = handles.map { _ in false }
        newest = handles.map { _ in Timestamp(seconds: 0, nanoseconds: 0) }
        heads = handles.map { _ in nil }
        for i in handles.indices { heads[i] = read(i) }
    }

    private static func read(_ h: PcapHandle) -> CapturedPacket? {
        while true {
            switch h.next() {
            case .packet(let p): return p
            case .idle: continue
            case .end: return nil
            }
        }
    }

    /// The input's next packet in time order: straight from the file, or for a file of several interfaces through the
    /// reorder buffer (by time, then file order).
    private func read(_ i: Int) -> CapturedPacket? {
        let h = handles[i]
        guard h.hasSeveralInterfaces else { return MergedSource.read(h) }
        // Fill until the newest packet read is a window past the earliest waiting one (or the file ends).
        while !exhausted[i], reorder[i].count < MergedSource.maxReordered,
              reorder[i].first.map({ newest[i].nanoseconds(since: $0.timestamp) < MergedSource.reorderWindow }) ?? true
        {
            guard let p = MergedSource.read(h) else { exhausted[i] = true; break }
            newest[i] = max(newest[i], p.timestamp)
            reorder[i].push(p)
        }
        return reorder[i].pop()
    }

    /// The earliest pending packet across all inputs, or nil when all are exhausted.
    public func next() -> CapturedPacket? {
        if let single {
            if heads[0] != nil { return heads[0].take() }
            return single._withUnsafeGuaranteedRef { MergedSource.read($0) }
        }
        var best = -1
        for i in heads.indices {
            guard let p = heads[i] else { continue }
            if best < 0 || p.timestamp < heads[best]!.timestamp { best = i }
        }
        guard best >= 0 else { return nil }
        let packet = heads[best]
        heads[best] = read(best)
        return packet
    }
}

/// Packets by (time, frame), earliest first: a binary heap.
struct PacketHeap {
    private var items: [CapturedPacket] = []
    var count: Int { items.count }
    var first: CapturedPacket? { items.first }

    private static func earlier(_ a: CapturedPacket, _ b: CapturedPacket) -> Bool {
        (a.timestamp, a.point.frame) < (b.timestamp, b.point.frame)
    }

    mutating func push(_ p: CapturedPacket) {
        items.append(p)
        var i = items.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            guard Self.earlier(items[i], items[parent]) else { break }
            items.swapAt(i, parent)
            i = parent
        }
    }

    mutating func pop() -> CapturedPacket? {
        guard !items.isEmpty else { return nil }
        items.swapAt(0, items.count - 1)
        let top = items.removeLast()
        var i = 0
        while true {
            let l = 2 * i + 1, r = l + 1
            var m = i
            if l < items.count, Self.earlier(items[l], items[m]) { m = l }
            if r < items.count, Self.earlier(items[r], items[m]) { m = r }
            guard m != i else { break }
            items.swapAt(i, m)
            i = m
        }
        return top
    }
}
