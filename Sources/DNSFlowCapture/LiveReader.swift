import DNSFlowCore
import CPcap
#if canImport(Glibc)
import Glibc
#endif

/// Reads a live capture on a thread of its own, so that the kernel's buffer is drained however long the analysis,
/// a redraw or a key takes: packets wait in memory here, in order, until the consumer takes them.
///
/// The waiting room is bounded (`maxQueuedBytes`): a consumer that falls that far behind loses the newest packets,
/// and they are counted (`overflowDropped`) next to the kernel's drops — never silently. Only the reader thread
/// touches the pcap handle while it runs; it copies the kernel's counters out every 100 ms (`kernelStats`).
public final class LiveReader: @unchecked Sendable {
    public enum Batch {
        /// Packets, in capture order.
        case packets([CapturedPacket])
        /// Nothing yet.
        case idle
        /// The capture ended (stopped, or a read error: see the handle's `readError`) and everything was taken.
        case ended
    }

    public let handle: PcapHandle
    public let maxQueuedBytes: Int

    private let monitor = Monitor()
    private var queue: [CapturedPacket] = []
    private var queuedBytes = 0
    private var finished = false
    private var stopping = false
    private var dropped = 0
    private var stats: PcapHandle.KernelStats?
    private var thread: pthread_t?

    /// Memory a queued packet costs beyond its octets (the array, the struct).
    static let overhead = 96

    public init(_ handle: PcapHandle, maxQueuedBytes: Int = 256 << 20) {
        self.handle = handle
        self.maxQueuedBytes = maxQueuedBytes
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

    /// Takes everything queued; waits up to `milliseconds` for a first packet when the queue is empty.
    public func take(waitingUpTo milliseconds: Int = 0) -> Batch {
        monitor.locked {
            if queue.isEmpty, !finished, milliseconds > 0 {
                let deadline = Monitor.deadline(in: milliseconds)
                while queue.isEmpty, !finished, monitor.wait(until: deadline) {}
            }
            if queue.isEmpty { return finished ? .ended : .idle }
            let batch = queue
            queue = []
            queue.reserveCapacity(batch.count)
            queuedBytes = 0
            return .packets(batch)
        }
    }

    /// The kernel's counters as last read (every 100 ms while capturing; exact once stopped).
    public var kernelStats: PcapHandle.KernelStats? {
        if thread == nil, let s = handle.kernelStats() { return s }
        return monitor.locked { stats }
    }

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
        var batchBytes = 0
        var lastStats = LiveReader.monotonicMilliseconds()
        var ended = false
        while !ended {
            if monitor.locked({ stopping }) { break }
            // Up to 256 packets or an idle read per hand-over: the lock is taken once per batch, not per packet.
            var idle = false
            while batch.count < 256 {
                if stream, !handle.streamReady() { idle = true; break }
                switch handle.next() {
                case .packet(let p):
                    batch.append(p)
                    batchBytes += p.data.count + LiveReader.overhead
                    continue
                case .idle: idle = true
                case .end: ended = true
                }
                break
            }
            let now = LiveReader.monotonicMilliseconds()
            let fresh = now - lastStats >= 100 ? handle.kernelStats() : nil
            if fresh != nil { lastStats = now }
            monitor.locked {
                if let fresh { stats = fresh }
                guard !batch.isEmpty else { return }
                if queuedBytes + batchBytes <= maxQueuedBytes {
                    queue.append(contentsOf: batch)
                    queuedBytes += batchBytes
                } else {
                    dropped += batch.count
                }
                monitor.wake()
            }
            batch.removeAll(keepingCapacity: true)
            batchBytes = 0
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
