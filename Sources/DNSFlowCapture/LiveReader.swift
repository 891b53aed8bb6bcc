import DNSFlowCore
import CPcap
#if canImport(Glibc)
import Glibc
#endif

/// Reads a live capture on a thread of its own, so that the kernel's buffer is drained however long the analysis,
/// a redraw or a key takes: packets wait in memory here, in order, until the consumer takes them.
///
/// Given the first stage (`DecodingStage`), the reader also runs it, on its thread: packets wait decoded, and the
/// consumer's thread is left the matching and the analysis (the two halves of the work on two cores, as `DecodeAhead`
/// does for files). It also frees, on its thread, what the consumer hands back (`recycle`). Without a stage (several
/// streams merged into one stage), packets wait as read and the consumer decodes them in merged order.
///
/// The waiting room is bounded (`maxQueuedBytes`, counting decoded messages too): a consumer that falls that far behind
/// loses the newest packets, and they are counted (`overflowDropped`) next to the kernel's drops — never silently;
/// dropped packets are not decoded. The consumer takes at most `maxBatch` packets at a time, so what it holds beyond the
/// waiting room is one batch. Only the reader thread touches the pcap handle while it runs; it copies the kernel's
/// counters out every 100 ms (`kernelStats`).
public final class LiveReader: @unchecked Sendable {
    public enum Batch {
        /// Packets, in capture order: through the first stage when the reader runs it (`decodes`), otherwise as read
        /// (`DecodedPacket(undecoded:)`).
        case packets([DecodedPacket])
        /// Nothing yet.
        case idle
        /// The capture ended (stopped, a read error: see the handle's `readError`, or the limit was read) and
        /// everything was taken.
        case ended
    }

    public let handle: PcapHandle
    public let maxQueuedBytes: Int
    /// Packets handed out by `take` at most.
    public let maxBatch: Int
    /// Whether the reader runs the first stage (it was given one).
    /// (Set once: `decoding` itself is the reader thread's while it runs, and reading it from another thread raced with
    /// its changes.)
    public let decodes: Bool
    /// The first stage, run on the reader's thread while it runs; the consumer's after `stop` (or the end). Touched for
    /// every packet by one thread at a time: not checked for overlapping access at run time.
    @exclusivity(unchecked) private var decoding: DecodingStage?
    private let limit: Int?

    private let monitor = Monitor()
    /// Waiting packets in the hand-overs they came in, each with its octets and the first stage's counts after its
    /// last packet; a FIFO from `head`.
    private var queue: [(packets: [DecodedPacket], bytes: Int, stats: PacketStats)] = []
    private var head = 0
    private var queuedBytes = 0
    private var finished = false
    private var stopping = false
    private var dropped = 0
    private var stats: PcapHandle.KernelStats?
    private var thread: pthread_t?
    /// What the consumer is done with, freed on the reader's thread.
    private var spentPackets: [[DecodedPacket]] = []
    private var spentTransactions: [[Transaction]] = []
    private var spentEvidence: [EvidenceLog] = []

    /// `stage`: run the first stage here (one reader per stage). `limit`: read at most this many packets (`-c`).
    public init(_ handle: PcapHandle, stage: DecodingStage? = nil, limit: Int? = nil, maxQueuedBytes: Int = 256 << 20,
                maxBatch: Int = 1024) {
        self.handle = handle
        decoding = stage
        decodes = stage != nil
        self.limit = limit
        self.maxQueuedBytes = maxQueuedBytes
        self.maxBatch = max(1, maxBatch)
    }

    deinit { stop() }

    /// Starts the reader thread.
    public func start() {
        thread = spawnThread { self.run() }
        if thread == nil { monitor.locked { finished = true } }
    }

    /// Ends the capture and waits for the reader thread (idempotent). Packets still queued can be taken.
    public func stop() {
        guard let t = thread else { return }
        monitor.locked { stopping = true }
        handle.breakLoop()
        pthread_join(t, nil)
        thread = nil
    }

    /// The first stage as the reader left it (only with `decodes`): take it once the reader has stopped or ended.
    public var stage: DecodingStage {
        stop()
        return decoding!
    }

    /// Takes what is queued, at most `maxBatch` packets; waits up to `milliseconds` for a first packet when the queue
    /// is empty.
    public func take(waitingUpTo milliseconds: Int = 0) -> Batch {
        takeCounted(waitingUpTo: milliseconds).batch
    }

    /// `take`, with the first stage's counts after the batch's last packet (with `decodes`; nil otherwise or when none).
    public func takeCounted(waitingUpTo milliseconds: Int = 0) -> (batch: Batch, stats: PacketStats?) {
        monitor.locked {
            if head == queue.count, !finished, milliseconds > 0 {
                let deadline = Monitor.deadline(in: milliseconds)
                while head == queue.count, !finished, monitor.wait(until: deadline) {}
            }
            if head == queue.count { return (finished ? .ended : .idle, nil) }
            var batch = queue[head].packets
            var stats = queue[head].stats
            queuedBytes -= queue[head].bytes
            queue[head].packets = []
            head += 1
            while head < queue.count, batch.count + queue[head].packets.count <= maxBatch {
                batch += queue[head].packets
                stats = queue[head].stats
                queuedBytes -= queue[head].bytes
                queue[head].packets = []
                head += 1
            }
            queue.dropConsumed(head: &head, threshold: 1024)
            return (.packets(batch), decodes ? stats : nil)
        }
    }

    /// Hands back what the consumer is done with (packets it took, what was made of them), to be freed on the reader's
    /// thread. `packets` is emptied under the lock, so the reader never finds the list still held by the caller; give
    /// up any other references of your own first: the last one to go frees. Once the reader has finished, it is freed
    /// here.
    public func recycle(_ packets: inout [DecodedPacket], _ spent: consuming Spent = Spent()) {
        var spent = consume spent
        guard !packets.isEmpty || !spent.transactions.isEmpty || !spent.evidence.isEmpty else { return }
        monitor.locked {
            guard !finished else { return }
            spentPackets.append(packets)
            packets = []
            spentTransactions.append(spent.transactions)
            if !spent.evidence.isEmpty { spentEvidence += spent.evidence }
            spent = Spent()
        }
        packets = []
    }

    /// The kernel's counters as last read (every 100 ms while capturing; exact once stopped).
    public var kernelStats: PcapHandle.KernelStats? {
        if thread == nil, let s = handle.kernelStats() { return s }
        return monitor.locked { stats }
    }

    /// The reader has stopped reading (stopped, the end of input or the limit): what it read is all queued.
    public var isFinished: Bool { monitor.locked { finished } }

    /// Packets read from the kernel but dropped here because the consumer was `maxQueuedBytes` behind.
    public var overflowDropped: Int { monitor.locked { dropped } }

    private func run() {
        // Non-blocking reads, and poll(2) on the capture's descriptor when there is nothing: a partial batch is
        // handed over as soon as the kernel has no more, and a stop is seen within 100 ms.
        handle.setNonblocking()
        // A stream (a pipe of pcap) has no non-blocking mode: it is asked whether a packet is there before each read.
        let stream = handle.isStream
        let fd = stream ? handle.streamDescriptor : handle.selectableDescriptor
        var batch: [CapturedPacket] = []
        var lastStats = LiveReader.monotonicMilliseconds()
        var ended = false
        var read = 0
        while !ended {
            // What the consumer handed back is taken out under the lock and let go here, once the lock is released.
            let (_, stop, room) = monitor.locked {
                defer {
                    spentPackets = []
                    spentTransactions = []
                    spentEvidence = []
                }
                return ((spentPackets, spentTransactions, spentEvidence), stopping, queuedBytes < maxQueuedBytes)
            }
            if stop { break }
            // Up to 256 packets (`maxBatch`) or an idle read per hand-over: the lock is taken once per batch, not per
            // packet.
            var idle = false
            while batch.count < min(256, maxBatch) {
                if let limit, read >= limit { ended = true; break }
                if stream, !handle.streamReady() { idle = true; break }
                switch handle.next() {
                case .packet(let p):
                    batch.append(p)
                    read += 1
                    continue
                case .idle: idle = true
                case .end: ended = true
                }
                break
            }
            // With no room left the batch is dropped as read, never decoded (the first stage does not see it).
            var packets: [DecodedPacket] = []
            var bytes = 0
            if room, !batch.isEmpty {
                packets.reserveCapacity(batch.count)
                for p in batch {
                    let d = decoding?.decode(p) ?? DecodedPacket(undecoded: p)
                    bytes += d.heldBytes
                    packets.append(d)
                }
            }
            let counts = decoding?.stats ?? PacketStats()
            let now = LiveReader.monotonicMilliseconds()
            let fresh = now - lastStats >= 100 ? handle.kernelStats() : nil
            if fresh != nil { lastStats = now }
            monitor.locked {
                if let fresh { stats = fresh }
                guard !batch.isEmpty else { return }
                if room {
                    queue.append((packets, bytes, counts))
                    queuedBytes += bytes
                } else {
                    dropped += batch.count
                }
                monitor.wake()
            }
            batch.removeAll(keepingCapacity: true)
            if idle, !ended, fd >= 0 {
                var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                _ = poll(&p, 1, 100)
                // The interface went down (or another socket error): the capture ends, as tcpdump's does.
                if !stream, p.revents & Int16(POLLERR) != 0, handle.takeSocketError() { ended = true }
            }
        }
        let last = handle.kernelStats()
        monitor.locked {
            if let last { stats = last }
            finished = true
            monitor.wake()
        }
    }

    private static func monotonicMilliseconds() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
    }
}
