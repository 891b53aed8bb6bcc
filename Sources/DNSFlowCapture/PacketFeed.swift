import DNSFlowCore
#if canImport(Glibc)
import Glibc
#endif

/// What a feed has for the driver now.
public enum FeedItem {
    /// The next packets, in capture order, through the first stage (link layers to parsed DNS messages).
    case packets([DecodedPacket])
    /// Nothing due yet: a live capture whose queue is drained, a replay whose next packet's time has not come.
    /// `clock`: the capture time reached, when the feed knows it (the analysis moves on to it without a packet).
    case idle(clock: Timestamp?)
    /// Everything was handed out (the input ended, the count was reached, or the feed was stopped).
    case ended
}

/// Packets from where they come, decoded, in capture order: files (merged by time, read and decoded ahead on a thread
/// of their own), a live interface (drained on a thread of its own, decoded as taken), or a replay of files at their
/// recorded pace. The first stage lives in the feed; `finishedStage` hands it over once, at the end, with what it still
/// holds (an unfinished TCP stream, say), for the pipeline's `finish`.
public protocol PacketFeed: AnyObject {
    var isLive: Bool { get }
    /// The next packets, or why there are none now (waiting up to `milliseconds` for a live one). The consumer lets go
    /// of one batch before asking for the next (files free it on the reading thread).
    func next(waitingUpTo milliseconds: Int) -> FeedItem
    /// The first stage's counts, as of the packets handed out (files: as of the last whole batch, exact at the end).
    var stats: PacketStats { get }
    /// Stops reading: what was read already is still handed out, then `.ended`.
    func stop()
    /// After `.ended`: the first stage as the feed leaves it.
    func finishedStage() -> DecodingStage
    /// Where the feed gets what the consumer is done with, to free it with what it read (on the reading thread, the
    /// less busy one), each time it moves on to a new batch.
    var takeSpent: (() -> Spent)? { get set }
}

/// What a feed's consumer is done with, freed on the reading thread: the transactions made of the packets, and the
/// evidence an `AnalysisThread`'s consumer has told.
public struct Spent {
    public var transactions: [Transaction]
    public var evidence: [EvidenceLog]

    public init(transactions: [Transaction] = [], evidence: [EvidenceLog] = []) {
        self.transactions = transactions
        self.evidence = evidence
    }
}

/// Files (or standard input), merged by time, read and decoded a few batches ahead on a second thread (`DecodeAhead`).
public final class FileFeed: PacketFeed {
    private let ahead: DecodeAhead
    /// The batch handed out last: given back to the reading thread with the next one.
    private var handedOut: [DecodedPacket] = []
    private var ended = false
    public private(set) var stats = PacketStats()
    public var isLive: Bool { false }
    public var takeSpent: (() -> Spent)?

    /// `limit`: at most this many packets (`-c`).
    public init(_ handles: [PcapHandle], stage: DecodingStage, limit: Int? = nil) {
        ahead = DecodeAhead(source: MergedSource(handles), stage: stage, limit: limit)
        ahead.start()
    }

    public func next(waitingUpTo milliseconds: Int = 0) -> FeedItem {
        guard !ended, let next = ahead.next() else {
            ended = true
            ahead.recycle(&handedOut, takeSpent?() ?? Spent())
            return .ended
        }
        // The batch done with, and the transactions made of it, are freed on the reading thread.
        ahead.recycle(&handedOut, takeSpent?() ?? Spent())
        handedOut = next.packets
        stats = next.stats
        return .packets(next.packets)
    }

    public func stop() { ahead.stop() }

    public func finishedStage() -> DecodingStage {
        ahead.stop()
        return ahead.stage
    }
}

/// A live interface: a thread drains the kernel's buffer and runs the first stage (`LiveReader`), so that this thread
/// is left the matching and the analysis. Or streams of pcap from elsewhere (pipes: ssh, the kubectl plugin), a reader
/// each, merged as they come: what each has is taken and handed on in time order, so that a quiet stream never holds
/// the others back (then the packets are decoded here, in merged order, by the one first stage).
public final class LiveFeed: PacketFeed {
    public var reader: LiveReader { readers[0] }
    private let readers: [LiveReader]
    private var endedReaders: Set<Int> = []
    /// The first stage, when packets are decoded here (several streams).
    private var stage: DecodingStage
    private let limit: Int?
    private var handed = 0
    /// The batch handed out last: given back to the reading thread with the next one.
    private var handedOut: [DecodedPacket] = []
    /// A stream of pcap from elsewhere (a pipe): its time is its packets', moved on by the time passed here since the
    /// last one came (the other host's clock need not agree with this one's).
    public let followsPackets: Bool
    private var lastPacket: (time: Timestamp, arrived: Int64)?
    public var isLive: Bool { true }
    /// The first stage's counts as of the packets handed out.
    public private(set) var stats: PacketStats
    public var takeSpent: (() -> Spent)?

    /// How far behind the clock a live capture's time is taken to be: a packet the kernel stamped may still be on its
    /// way to the reader.
    public static let clockMargin: Int64 = 250_000_000

    /// `limit`: at most this many packets (`-c`); the capture stops there.
    public convenience init(_ handle: PcapHandle, stage: DecodingStage, limit: Int? = nil) {
        self.init(streams: [handle], stage: stage, limit: limit)
    }

    /// One live interface, or one or more streams (`PcapHandle.isStream`). `maxBatch`: packets handed out at a time at
    /// most.
    public init(streams handles: [PcapHandle], stage: DecodingStage, limit: Int? = nil, maxBatch: Int = 1024) {
        let one = handles.count == 1
        readers = handles.map { LiveReader($0, stage: one ? stage : nil, limit: one ? limit : nil, maxBatch: maxBatch) }
        self.stage = stage
        self.limit = limit
        stats = stage.stats
        followsPackets = handles.allSatisfy(\.isStream)
        for r in readers { r.start() }
    }

    public func next(waitingUpTo milliseconds: Int = 0) -> FeedItem {
        // What the consumer is done with (the last batch, the transactions made of it) is freed on the reading thread.
        reader.recycle(&handedOut, takeSpent?() ?? Spent())
        if let limit, handed >= limit {
            reader.stop()
            return .ended
        }
        switch take(waitingUpTo: milliseconds) {
        case .packets(var batch):
            if let limit, handed + batch.count > limit { batch.removeLast(handed + batch.count - limit) }
            handed += batch.count
            if followsPackets, let last = batch.last { lastPacket = (last.packet.timestamp, monotonicNanoseconds()) }
            if !reader.decodes {
                batch = batch.map { stage.decode($0.packet) }
                stats = stage.stats
            }
            handedOut = batch
            return .packets(batch)
        case .idle:
            // Drained: the capture's time is the clock's (a stream's: its last packet's, plus the time since).
            if followsPackets {
                guard let last = lastPacket else { return .idle(clock: nil) }
                let since = monotonicNanoseconds() - last.arrived - LiveFeed.clockMargin
                return .idle(clock: since > 0 ? last.time.addingNanoseconds(since) : nil)
            }
            return .idle(clock: Timestamp(seconds: 0, nanoseconds: 0).addingNanoseconds(realtimeNanoseconds() - LiveFeed.clockMargin))
        case .ended:
            return .ended
        }
    }

    /// One reader: its batch. Several: what each has now (waiting up to `milliseconds` for any), in time order.
    private func take(waitingUpTo milliseconds: Int) -> LiveReader.Batch {
        if readers.count == 1 {
            let (batch, counts) = readers[0].takeCounted(waitingUpTo: milliseconds)
            if let counts { stats = counts }
            return batch
        }
        let deadline = monotonicNanoseconds() + Int64(milliseconds) * 1_000_000
        while true {
            var merged: [DecodedPacket] = []
            for (i, r) in readers.enumerated() where !endedReaders.contains(i) {
                switch r.take(waitingUpTo: 0) {
                case .packets(let batch): merged += batch
                case .idle: break
                case .ended: endedReaders.insert(i)
                }
            }
            if !merged.isEmpty {
                // Stable: a stream's own order is kept where times tie.
                return .packets(merged.enumerated().sorted {
                    ($0.element.packet.timestamp, $0.offset) < ($1.element.packet.timestamp, $1.offset)
                }.map(\.element))
            }
            if endedReaders.count == readers.count { return .ended }
            if monotonicNanoseconds() >= deadline { return .idle }
            usleep(2_000)
        }
    }

    public func stop() { for r in readers { r.stop() } }

    public func finishedStage() -> DecodingStage {
        stop()
        reader.recycle(&handedOut, takeSpent?() ?? Spent())
        if reader.decodes {
            stage = reader.stage
            stats = stage.stats
        }
        return stage
    }
}

/// Files played at their recorded pace (× `speed`), as a live capture of the same packets would arrive: a packet is
/// handed out when its time comes, and in between the replay's clock is the capture time reached. Paused, the clock
/// stops and nothing is handed out.
public final class ReplayFeed: PacketFeed {
    private let files: FileFeed
    private var schedule: Replay
    /// Read, not yet due.
    private var waiting: [DecodedPacket] = []
    private var index = 0
    public var isPaused = false
    public var isLive: Bool { false }
    public var stats: PacketStats { files.stats }

    public init(_ files: FileFeed, speed: Double) {
        self.files = files
        schedule = Replay(speed: speed, startedAt: monotonicNanoseconds())
    }

    public func next(waitingUpTo milliseconds: Int = 0) -> FeedItem {
        let now = monotonicNanoseconds()
        schedule.pause(isPaused, now: now)
        if isPaused { return .idle(clock: nil) }
        if index == waiting.count {
            waiting = []
            switch files.next() {
            case .packets(let batch):
                waiting = batch
                index = 0
            case .idle(let clock): return .idle(clock: clock)
            case .ended: return .ended
            }
        }
        // The packets whose time has come.
        let start = index
        while index < waiting.count, schedule.isDue(waiting[index].packet.timestamp, now: now) { index += 1 }
        if index > start { return .packets(Array(waiting[start..<index])) }
        let next = waiting[index].packet.timestamp.totalNanoseconds
        let reached = schedule.captureTime(now: now).map { min($0, next - 1) }
        return .idle(clock: reached.map { Timestamp(seconds: 0, nanoseconds: 0).addingNanoseconds(max(0, $0)) })
    }

    public func stop() { files.stop() }
    public func finishedStage() -> DecodingStage { files.finishedStage() }
    public var takeSpent: (() -> Spent)? {
        get { files.takeSpent }
        set { files.takeSpent = newValue }
    }
}

/// Plays packets at their recorded pace: packet time minus the first packet's time, divided by the speed, is when it
/// is due on the monotonic clock. A pause shifts the schedule by its length.
public struct Replay {
    public let speed: Double
    var startedAt: Int64
    var firstPacket: Int64?
    var pausedAt: Int64?

    public init(speed: Double, startedAt: Int64) {
        self.speed = speed
        self.startedAt = startedAt
    }

    public mutating func isDue(_ t: Timestamp, now: Int64) -> Bool {
        let ts = t.totalNanoseconds
        if firstPacket == nil { firstPacket = ts }
        let due = startedAt + Int64(Double(ts - firstPacket!) / speed)
        return now >= due
    }

    /// The capture time the replay has reached (nanoseconds since the epoch); before its first packet, nil.
    public func captureTime(now: Int64) -> Int64? {
        guard let first = firstPacket else { return nil }
        let clock = pausedAt ?? now
        return first + Int64(Double(max(0, clock - startedAt)) * speed)
    }

    public mutating func pause(_ paused: Bool, now: Int64) {
        if paused, pausedAt == nil { pausedAt = now }
        if !paused, let p = pausedAt {
            startedAt += now - p
            pausedAt = nil
        }
    }
}

public func monotonicNanoseconds() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
}

public func realtimeNanoseconds() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
}
