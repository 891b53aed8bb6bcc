import DNSFlowCore

/// The one loop from packets to evidence: takes packets from a feed (files, standard input, an interface, a replay),
/// runs each through the pipeline into a sink, moves the analysis on with the feed's clock when no packet comes, and
/// at the end of input finishes the pipeline with what the first stage still holds. Batch outputs run it to the end;
/// the interface runs it a slice of time at a time between redraws.
public final class Driver {
    // Not checked for overlapping access at run time: the driver is used from one thread, and these are touched for
    // every packet.
    @exclusivity(unchecked) @usableFromInline var pipelineState: Pipeline
    public var pipeline: Pipeline { pipelineState }
    /// The pipeline's summary (read where it lies: `pipeline` is a copy of the whole pipeline).
    public var summary: Summary { pipelineState.summary }
    public let feed: PacketFeed
    /// Packets run through the pipeline so far.
    @exclusivity(unchecked) @usableFromInline var packetCount = 0
    public var packets: Int { packetCount }
    /// The input ended and the pipeline is finished: every transaction is final.
    @usableFromInline var finished = false
    public var isFinished: Bool { finished }
    @usableFromInline var stopped = false
    /// The batch being fed, and how far.
    @exclusivity(unchecked) @usableFromInline var batch: [DecodedPacket] = []
    @exclusivity(unchecked) @usableFromInline var index = 0
    /// Asked every 256 packets and whenever the feed is idle: true stops reading (a signal, an output that failed).
    public var shouldStop: () -> Bool = { false }

    public enum Outcome: Equatable {
        /// Time (or the packet budget) ran out with more to read.
        case more
        /// The feed had nothing due (a live capture drained, a replay waiting for its next packet's time).
        case idle
        /// The input ended; the pipeline is finished.
        case finished
    }

    public init(pipeline: Pipeline, feed: PacketFeed) {
        self.pipelineState = pipeline
        self.feed = feed
        feed.takeSpent = { [unowned self] in
            Spent(transactions: self.pipelineState.configuration.handsBackSpent ? self.pipelineState.takeSpent() : [])
        }
    }

    /// Stops reading (a signal, an output that failed): what was read already is still analysed.
    public func stop() {
        guard !stopped else { return }
        stopped = true
        feed.stop()
    }

    /// Runs packets into `sink` until the feed is idle or ends, or (with a deadline, in monotonic nanoseconds) the
    /// deadline passes; checked every 256 packets. Idle, the feed's clock moves the analysis on. At the end of input the
    /// pipeline is finished into `sink`.
    @inlinable @discardableResult
    public func run<S: EvidenceSink>(into sink: inout S, until deadline: Int64? = nil, waitingUpTo milliseconds: Int = 0) -> Outcome {
        guard !finished else { return .finished }
        var n = 0
        while true {
            if index == batch.count {
                batch = []  // let go before the next: the feed frees it elsewhere
                index = 0
                switch feed.next(waitingUpTo: n == 0 ? milliseconds : 0) {
                case .packets(let next):
                    batch = next
                case .idle(let clock):
                    if !stopped, shouldStop() { stop() }
                    if let clock { pipelineState.tick(now: clock, into: &sink) }
                    if !feed.isLive { pipelineState.updatePacketStats(feed.stats) }
                    return .idle
                case .ended:
                    finish(into: &sink)
                    return .finished
                }
            }
            let live = feed.isLive
            // The batch's packets read where they lie (read out of the list, each packet was retained and released
            // around the call: an atomic update of its count, twice a packet), and the next few looked ahead at.
            let deadlinePassed: Outcome? = batch.withUnsafeBufferPointer { packets in
                while index < packets.count {
                    pipelineState.lookAhead(packets, from: index)
                    let packet = UnsafeRawPointer(packets.baseAddress! + index).load(as: UnsafeRawPointer.self)
                    Unmanaged<DecodedPacket>.fromOpaque(packet)._withUnsafeGuaranteedRef { pipelineState.consume($0, into: &sink) }
                    if live { pipelineState.updatePacketStats(feed.stats) }
                    index += 1
                    packetCount += 1
                    n += 1
                    if n & 255 == 0 {
                        if !stopped, shouldStop() { stop() }
                        if let deadline, monotonicNanoseconds() > deadline {
                            if !live { pipelineState.updatePacketStats(feed.stats) }
                            return .more
                        }
                    }
                }
                return nil
            }
            if let deadlinePassed { return deadlinePassed }
            if !live { pipelineState.updatePacketStats(feed.stats) }
        }
    }

    @usableFromInline
    func finish<S: EvidenceSink>(into sink: inout S) {
        pipelineState.front = feed.finishedStage()
        pipelineState.updatePacketStats(feed.stats)
        pipelineState.finish(into: &sink)
        finished = true
    }

    /// The first stage's counts, brought up to date (a file feed counts per batch).
    public func updatePacketStats() { pipelineState.updatePacketStats(feed.stats) }
}
