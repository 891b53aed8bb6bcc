import DNSFlowCapture
import DNSFlowCore
#if canImport(Glibc)
import Glibc
#endif

/// Renders rows and writes them in order on a thread of its own (`--csv`, `--flows-csv`): rendering a transaction's row
/// costs about as much as analysing it, so the analysis's thread only hands over what settled, a batch at a time. The
/// rows wait for an earlier one as they would on one thread (`InSequence`, the same bound), so the file is the same.
/// The output is the writer's alone from `init` to `finish`.
final class RowWriter<Item>: @unchecked Sendable {
    private let output: OutputFile
    /// Writes an item's row into the buffer and says its sequence.
    private let render: (Item, inout OctetBuffer) -> Int
    /// The row being written (the writer's thread's alone: not checked for overlapping access at run time).
    @exclusivity(unchecked) private var row = OctetBuffer(capacity: 1024)
    private let weight: (Item) -> Int
    @exclusivity(unchecked) private var rows = InSequence.rows()
    /// Items added since the last hand-over (the analysis's thread's).
    private var pending: [Item] = []
    private var pendingBytes = 0
    private let monitor = Monitor()
    private var queue: [(items: [Item], bytes: Int)] = []
    private var queuedBytes = 0
    private var ended = false
    private var thread: pthread_t?

    /// Items handed over at a time (at most, and at most `maxBytes` / 4 of them), and what waits at most (then the
    /// analysis waits for the writer): hand-overs, and octets (`weight`: a transaction's `heldBytes`).
    static var batchSize: Int { 256 }
    static var depth: Int { 16 }
    static var maxBytes: Int { 16 << 20 }

    init(_ output: OutputFile, weight: @escaping (Item) -> Int, render: @escaping (Item, inout OctetBuffer) -> Int) {
        self.output = output
        self.weight = weight
        self.render = render
        pending.reserveCapacity(RowWriter.batchSize)
        thread = spawnThread { self.run() }  // held by its thread until `finish`
    }

    func add(_ item: Item) {
        guard thread != nil else { return write([item]) }  // no thread: written here
        pending.append(item)
        pendingBytes += weight(item)
        if pending.count >= RowWriter.batchSize || pendingBytes >= RowWriter.maxBytes / 4 { handOver() }
    }

    /// Everything added is written (the rows that waited for an earlier one last); the thread ends.
    func finish() {
        if let t = thread {
            if !pending.isEmpty { handOver() }
            monitor.locked {
                ended = true
                monitor.wake()
            }
            pthread_join(t, nil)
            thread = nil
        }
        rows.flush { output.write($0) }
    }

    /// Rows written after later ones to stay within the bound (after `finish`).
    var skipped: Int { rows.skipped }

    private func handOver() {
        let batch = (items: pending, bytes: pendingBytes)
        pending = []
        pending.reserveCapacity(RowWriter.batchSize)
        pendingBytes = 0
        monitor.locked {
            while !queue.isEmpty, queue.count >= RowWriter.depth || queuedBytes + batch.bytes > RowWriter.maxBytes {
                monitor.wait()
            }
            queue.append(batch)
            queuedBytes += batch.bytes
            monitor.wake()
        }
    }

    private func run() {
        while true {
            let batch: [Item]? = monitor.locked {
                while queue.isEmpty, !ended { monitor.wait() }
                guard !queue.isEmpty else { return nil }
                monitor.wake()
                let next = queue.removeFirst()
                queuedBytes -= next.bytes
                return next.items
            }
            guard let batch else { return }
            write(batch)
        }
    }

    private func write(_ items: [Item]) {
        for item in items {
            let sequence = render(item, &row)
            // The next row, nothing waiting (almost always): written from the buffer as it is. Else kept as text until
            // its turn.
            if rows.isNext(sequence) {
                output.write(row)
                rows.passed(sequence)
            } else {
                rows.add(sequence, row.string) { output.write($0) }
            }
        }
    }
}
