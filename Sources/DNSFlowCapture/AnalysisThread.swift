import DNSFlowCore
#if canImport(Glibc)
import Glibc
#endif

/// Runs the driver (matching and the analysis) on a thread of its own, for a consumer whose own thread has other work:
/// the interface loading a file, which keeps the rows and draws them. The evidence is kept in order (`EvidenceLog`)
/// and handed over a few milliseconds' worth at a time; the consumer tells it to its sink in `run(into:until:)`, as it
/// would run the driver itself. With files decoded on a thread of theirs (`DecodeAhead`), the three stages (decoding,
/// analysis, rows) each have a thread. For files read at full speed: live or replayed, packets come at their own pace
/// and the driver runs on the consumer's thread between redraws (not started, `run` runs it there).
///
/// Memory stays bounded: the thread waits when `maxPending` events wait for the consumer, and what the consumer has
/// told goes back to the feed, to be freed with its batches on the reading thread. The summary is copied out for the
/// consumer at most every `summaryInterval` nanoseconds, and whenever the driver is idle or finished (then exact).
/// Once the thread has been started, the driver is its own until `stop`.
public final class AnalysisThread: @unchecked Sendable {
    public let driver: Driver
    public let maxPending: Int
    private let keepsMatched: Bool
    private let summaryInterval: Int64
    /// How long the thread runs the driver before handing its evidence over (checked every 256 packets).
    private let handOverNanoseconds: Int64
    /// How long `run` waits for evidence when none waits.
    private let maxWait: Int64 = 5_000_000

    private let monitor = Monitor()
    // Shared with the thread, under `monitor`.
    /// Evidence handed over, in the hand-overs it came in.
    private var pending: [EvidenceLog] = []
    private var pendingCount = 0
    /// Hand-overs the consumer has told, for the feed to free on the reading thread.
    private var spentEvidence: [EvidenceLog] = []
    private var threadOutcome = Driver.Outcome.more
    private var packetsRead = 0
    private var latestSummary: Summary
    private var stopping = false
    private var ended = false
    private var thread: pthread_t?
    /// Started: evidence comes from the thread (and, once it is stopped, from the driver again).
    private var started = false
    /// The feed's own hand-back, which the thread's wraps.
    private var feedTakeSpent: (() -> Spent)?

    // The consumer's own.
    private var inHand: [EvidenceLog] = []
    private var chunkIndex = 0
    private var cursor = EvidenceLog.Cursor()
    private var told: [EvidenceLog] = []
    /// Packets the driver had read when the evidence last taken was handed over.
    public private(set) var packets = 0

    /// `keepsMatched`: whether the consumer is told `matched` (see `EvidenceLog.keepsMatched`).
    public init(driver: Driver, keepsMatched: Bool = true, maxPending: Int = 16_384, handOverNanoseconds: Int64 = 2_000_000,
                summaryInterval: Int64 = 200_000_000) {
        self.driver = driver
        self.handOverNanoseconds = handOverNanoseconds
        self.keepsMatched = keepsMatched
        self.maxPending = max(1, maxPending)
        self.summaryInterval = summaryInterval
        latestSummary = driver.summary
    }

    deinit {
        stop()
        if started { driver.feed.takeSpent = feedTakeSpent }
    }

    /// Starts the thread (without one, `run` runs the driver on the caller's thread).
    public func start() {
        // What the consumer has told is freed with the feed's batches, on the reading thread, not on the consumer's
        // (whose references to the packets and transactions in it are often the last).
        feedTakeSpent = driver.feed.takeSpent
        driver.feed.takeSpent = { [unowned self] in
            var spent = self.feedTakeSpent?() ?? Spent()
            spent.evidence = self.monitor.locked {
                defer { self.spentEvidence = [] }
                return self.spentEvidence
            }
            return spent
        }
        thread = spawnThread { self.work() }
        started = thread != nil
        if !started { driver.feed.takeSpent = feedTakeSpent }
    }

    /// The summary as last copied out (exact once the driver is idle, finished, or stopped).
    public var summary: Summary {
        thread == nil ? driver.summary : monitor.locked { latestSummary }
    }

    /// Events handed over and not yet taken by the consumer.
    var waitingEvents: Int { monitor.locked { pendingCount } }

    /// Tells `sink` the evidence handed over, in order, until it is all told or `deadline` (monotonic nanoseconds)
    /// passes; while the driver is busy and nothing waits, waits for it a few milliseconds (then `.more`, nothing
    /// told). `.finished` once the driver finished and everything was told. Stopped, it tells what was handed over,
    /// then runs the driver on this thread.
    @discardableResult
    public func run<S: EvidenceSink>(into sink: inout S, until deadline: Int64) -> Driver.Outcome {
        guard started else { return runHere(into: &sink, until: deadline) }
        var toldAny = false
        while true {
            if chunkIndex == inHand.count {
                if !inHand.isEmpty { inHand.removeAll(keepingCapacity: true) }
                chunkIndex = 0
                // Nothing told yet: waits a little for the thread (not until the deadline: the consumer's keys wait
                // meanwhile). Something told: returns with what waits now.
                let outcome = take(waitingUntil: toldAny ? 0 : min(deadline, monotonicNanoseconds() + maxWait))
                if inHand.isEmpty {
                    guard thread == nil, outcome != .finished else { return outcome }
                    // Stopped, and everything handed over told: the driver is this thread's again.
                    started = false
                    driver.feed.takeSpent = feedTakeSpent
                    return runHere(into: &sink, until: deadline)
                }
            }
            var at = cursor
            let done = inHand[chunkIndex].tell(&sink, from: &at) { monotonicNanoseconds() <= deadline }
            cursor = at
            toldAny = true
            guard done else { return .more }
            told.append(inHand[chunkIndex])
            chunkIndex += 1
            cursor = EvidenceLog.Cursor()
        }
    }

    private func runHere<S: EvidenceSink>(into sink: inout S, until deadline: Int64) -> Driver.Outcome {
        let outcome = driver.run(into: &sink, until: deadline)
        packets = driver.packets
        if outcome != .more { driver.updatePacketStats() }
        return outcome
    }

    /// Takes what waits (into `inHand`, empty) and hands back what was told; the thread's outcome, `.finished` only
    /// once nothing is left.
    private func take(waitingUntil deadline: Int64) -> Driver.Outcome {
        monitor.locked {
            if !told.isEmpty {
                spentEvidence += told
                told.removeAll(keepingCapacity: true)
            }
            while pending.isEmpty, !ended, threadOutcome == .more {
                let left = deadline - monotonicNanoseconds()
                if left <= 0 { break }
                monitor.wait(until: Monitor.deadline(in: max(1, Int(left / 1_000_000))))
            }
            swap(&inHand, &pending)
            pendingCount = 0
            packets = packetsRead
            monitor.wake()  // room for the thread
            if !inHand.isEmpty { return .more }
            return ended && threadOutcome != .finished ? .idle : threadOutcome
        }
    }

    /// Stops the thread and the driver's reading, and waits for the thread: what was handed over is still told by
    /// `run`, and then what the driver still has.
    public func stop() {
        if let t = thread {
            monitor.locked {
                stopping = true
                monitor.wake()
            }
            pthread_join(t, nil)
            thread = nil
        }
        driver.stop()
    }

    private func work() {
        var log = EvidenceLog(keepsMatched: keepsMatched)
        var lastSummary = monotonicNanoseconds()
        while true {
            let stop = monitor.locked {
                while pendingCount >= maxPending, !stopping { monitor.wait() }
                return stopping
            }
            if stop { break }
            let outcome = driver.run(into: &log, until: monotonicNanoseconds() + handOverNanoseconds)
            if outcome != .more { driver.updatePacketStats() }
            let now = monotonicNanoseconds()
            let summary = outcome != .more || now - lastSummary >= summaryInterval ? driver.summary : nil
            if summary != nil { lastSummary = now }
            monitor.locked {
                if !log.isEmpty {
                    pendingCount += log.count
                    pending.append(log)
                }
                threadOutcome = outcome
                packetsRead = driver.packets
                if let summary { latestSummary = summary }
                monitor.wake()
            }
            // A new log for the next hand-over, with room for as many events as this one (its lists are not grown
            // again, a copy at each doubling).
            if !log.isEmpty { log = log.emptied() }
            if outcome == .finished { break }
            // (A feed with nothing due — not a file's — is asked again a little later, not at once.)
            if outcome == .idle { usleep(5_000) }
        }
        monitor.locked {
            ended = true
            monitor.wake()
        }
    }
}
