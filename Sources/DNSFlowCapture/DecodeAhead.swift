import DNSFlowCore
#if canImport(Glibc)
import Glibc
#endif

/// Reads capture files and runs the first stage (link layers to parsed DNS messages) on a thread of its own, a few
/// batches ahead of the consumer, which does the matching and the analysis: the two halves of the work on two cores.
///
/// Order is kept (one reader, batches handed over in sequence) and so is the first stage's state: when the consumer
/// is done, it takes `stage` back into its pipeline, whose `finish` then flushes what the stage still holds. At most
/// `depth` batches wait, each of at most `batchSize` packets and about `batchBytes` captured octets (then decoded: their
/// messages parsed), so memory stays bounded however far the reader could run ahead and however large the packets.
/// A batch is a thousand packets, a millisecond or two of either thread's work: a hand-over may wake the other
/// thread, which costs more than a much shorter batch's work; the few batches in flight — the decoded packets, their
/// messages, and what comes back to be freed — stay a few megabytes.
public final class DecodeAhead: @unchecked Sendable {
    public struct Batch: Sendable {
        public var packets: [DecodedPacket]
        /// The first stage's counts after the last of them.
        public var stats: PacketStats
    }

    private let source: MergedSource
    /// The decoding thread's own (read elsewhere only once it is done): not checked for overlapping access at run time,
    /// as `decoded` below, touched for every packet.
    @exclusivity(unchecked) private var reader: DecodingStage
    private let limit: Int?
    private let batchSize: Int
    private let batchBytes: Int
    private let depth: Int

    private let monitor = Monitor()
    private var queue: [Batch] = []
    private var finished = false
    private var stopping = false
    private var thread: pthread_t?
    /// No thread (never started, or it could not be created): `next` decodes a batch itself when asked.
    private var onDemand = true

    /// `limit`: decode at most this many packets (`-c`).
    public init(source: MergedSource, stage: DecodingStage, limit: Int? = nil, batchSize: Int = 1024,
                batchBytes: Int = 1 << 20, depth: Int = 4) {
        self.source = source
        self.reader = stage
        self.limit = limit
        self.batchSize = batchSize
        self.batchBytes = batchBytes
        self.depth = depth
    }

    deinit { stop() }

    /// Starts the reader thread (without one, `next` decodes each batch itself, on demand).
    public func start() {
        thread = spawnThread { self.run() }
        onDemand = thread == nil
        if let thread { DecodeAhead.readingThread = thread }
    }

    /// The thread reading files now (0: none): a signal handler sends it the signal it got (`pthread_kill`, safe
    /// there), so that a read blocked on a pipe (`-r -` with nothing coming) returns EINTR and the input ends.
    nonisolated(unsafe) public static var readingThread: pthread_t = 0

    /// The next batch, in order; waits for the reader. Nil once everything read has been taken.
    public func next() -> Batch? {
        if onDemand {
            if finished { return nil }
            let (batch, atEnd) = readBatch()
            finished = atEnd
            return batch.packets.isEmpty ? nil : batch
        }
        return monitor.locked {
            while queue.isEmpty, !finished { monitor.wait() }
            guard !queue.isEmpty else { return nil }
            monitor.wake()
            return queue.removeFirst()
        }
    }

    /// What the consumer is done with, freed on the reader's thread: the batches' packets and messages, and the
    /// transactions made of them. The consumer's thread is the busier of the two (matching and analysis); freeing a
    /// batch's object graph there cost it about a tenth of its time.
    private var spentPackets: [[DecodedPacket]] = []
    private var spentTransactions: [[Transaction]] = []
    private var spentEvidence: [EvidenceLog] = []

    /// Hands back what the consumer is done with, to be freed on the reader's thread, its packets that nothing else
    /// holds to be decoded into again. `packets` is emptied under the lock, so the reader never finds the list still
    /// held by the caller (a packet of a shared list is never its own, and would not be reused); give up any other
    /// references of your own first: the last one to go frees. Without a reader thread, or once it has finished, it
    /// is freed here.
    public func recycle(_ packets: inout [DecodedPacket], _ spent: consuming Spent = Spent()) {
        var spent = consume spent
        guard thread != nil else { packets = []; return }
        monitor.locked {
            guard !finished else { return }
            spentPackets.append(packets)
            packets = []
            spentTransactions.append(spent.transactions)
            if !spent.evidence.isEmpty { spentEvidence += spent.evidence }
            spent = Spent()
            monitor.wake()
        }
        packets = []
    }

    /// Stops reading after the batch in hand and waits for the thread. What was decoded can still be taken.
    public func stop() {
        guard let t = thread else { return }
        monitor.locked {
            stopping = true
            monitor.wake()
        }
        pthread_join(t, nil)
        thread = nil
        if DecodeAhead.readingThread == t { DecodeAhead.readingThread = 0 }
    }

    /// The first stage as the reader left it: hand it back to the pipeline once `next` has returned nil (or after
    /// `stop` and taking what was left).
    public var stage: DecodingStage { reader }

    @exclusivity(unchecked) private var decoded = 0
    /// Packets of spent batches that nothing else holds, to be decoded into again (the reader's own).
    @exclusivity(unchecked) private var spares: [DecodedPacket] = []
    /// How many packets were decoded into a spare (read once the reader is done: after `stop`, or `next` gave nil).
    @exclusivity(unchecked) public private(set) var packetsReused = 0

    /// Keeps the spent batches' packets that nothing else holds as spares (up to two batches' worth); the rest, and
    /// the lists, are let go.
    private func keepSpares(_ batches: inout [[DecodedPacket]]) {
        let room = 2 * batchSize
        for i in batches.indices {
            while spares.count < room, var p = batches[i].popLast() {
                if isKnownUniquelyReferenced(&p) { spares.append(consume p) }
            }
        }
        batches = []
    }

    /// Reads and decodes up to `batchSize` packets or `batchBytes` octets; true when the input (or the limit) is reached.
    private func readBatch() -> (Batch, Bool) {
        var packets: [DecodedPacket] = []
        packets.reserveCapacity(batchSize)
        var atEnd = false
        var bytes = 0
        while packets.count < batchSize, bytes < batchBytes {
            if let limit, decoded >= limit { atEnd = true; break }
            guard let p = source.next() else { atEnd = true; break }
            bytes += p.data.count
            let spare = spares.popLast()
            if spare != nil { packetsReused += 1 }
            packets.append(reader.decode(consume p, reusing: spare))
            decoded += 1
        }
        return (Batch(packets: packets, stats: reader.stats), atEnd)
    }

    private func run() {
        while true {
            var spent: ([[DecodedPacket]], [[Transaction]], [EvidenceLog]) = ([], [], [])
            let (stop, room) = monitor.locked {
                while queue.count >= depth, !stopping, spentPackets.isEmpty, spentTransactions.isEmpty,
                      spentEvidence.isEmpty { monitor.wait() }
                spent = (spentPackets, spentTransactions, spentEvidence)
                spentPackets = []
                spentTransactions = []
                spentEvidence = []
                return (stopping, queue.count < depth)
            }
            keepSpares(&spent.0)
            spent = ([], [], [])  // freed here, outside the lock
            if stop { break }
            guard room else { continue }
            let (batch, atEnd) = readBatch()
            monitor.locked {
                if !batch.packets.isEmpty { queue.append(batch) }
                monitor.wake()
            }
            if atEnd { break }
        }
        monitor.locked {
            finished = true
            monitor.wake()
        }
    }
}
