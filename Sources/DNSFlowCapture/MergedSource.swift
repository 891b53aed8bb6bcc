import DNSFlowCore

/// Several offline inputs read as one stream, merged by timestamp (ties go to the earlier input).
public final class MergedSource {
    public let handles: [PcapHandle]
    /// The next packet of each input (read ahead, to compare timestamps). Only this thread touches it.
    @exclusivity(unchecked) private var heads: [CapturedPacket?]

    public init(_ handles: [PcapHandle]) {
        self.handles = handles
        heads = handles.map { MergedSource.read($0) }
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

    /// The earliest pending packet across all inputs, or nil when all are exhausted.
    public func next() -> CapturedPacket? {
        if heads.count == 1 {
            // One input (the usual case): the pending packet out, the next one in, each moved, not copied.
            var packet = MergedSource.read(handles[0])
            swap(&packet, &heads[0])
            return packet
        }
        var best = -1
        for i in heads.indices {
            guard let p = heads[i] else { continue }
            if best < 0 || p.timestamp < heads[best]!.timestamp { best = i }
        }
        guard best >= 0 else { return nil }
        let packet = heads[best]
        heads[best] = MergedSource.read(handles[best])
        return packet
    }
}
