import DNSFlowCore

/// Rows waiting for an earlier one to be written, at most (octets of rendered rows): beyond it the earliest missing
/// rows are written when they come, after later ones (`InSequence`), and the run says so.
let maxWaitingRowBytes = 128 << 20

extension InSequence<String> {
    static func rows() -> Self { InSequence(maxHeldBytes: maxWaitingRowBytes, weight: { $0.utf8.count }) }
}

/// `--csv`: one row per transaction, in the order of each one's first message, with its final values; rendered and
/// written on a thread of its own (`RowWriter`).
struct CSVSink: EvidenceSink {
    let writer: RowWriter<Transaction>

    init(_ output: OutputFile, names: AddressNames) {
        output.write(TransactionCSV.header)
        // (The rows are rendered on the writer's thread alone.)
        let rows = TransactionCSV.Rows()
        writer = RowWriter(output, weight: \.heldBytes) { t, out in
            rows.write(t, names: names, to: &out)
            return t.sequence
        }
    }

    mutating func settled(_ t: Transaction) { writer.add(t) }

    mutating func flush() { writer.finish() }
}

/// `--flows-csv`: one row per flow as it ends (idle for the horizon, or at the end of input), in flow order; rendered
/// and written on a thread of its own (`RowWriter`).
struct FlowsSink: EvidenceSink {
    let writer: RowWriter<FlowStats>

    init(_ output: OutputFile, names: AddressNames) {
        output.write(FlowCSV.header)
        writer = RowWriter(output, weight: { 256 + 8 * $0.latencies.count + 16 * ($0.latencyHistogram?.bucketCount ?? 0) }) { f, out in
            FlowCSV.write(f, names: names, to: &out)
            return f.id - 1
        }
    }

    mutating func flowsFinished(_ flows: [FlowStats]) {
        for f in flows { writer.add(f) }
    }

    mutating func flush() { writer.finish() }
}

/// The line output. Read from files, one line per transaction with its final values, in order. Live, a query's line
/// as soon as its fate is known (answered, or proven lost by a re-send or its window) with the analysis so far, and
/// the findings its lookup proves on lines of their own when it settles.
struct LinesSink: EvidenceSink {
    let output: OutputFile
    let names: AddressNames
    let isLive: Bool
    private(set) var lines = InSequence.rows()
    /// The lookup each finding was last printed for (a lookup's rows share its findings: printed once).
    private var lastFindingLookup: [String: Int] = [:]

    init(_ output: OutputFile, names: AddressNames, isLive: Bool) {
        self.output = output
        self.names = names
        self.isLive = isLive
    }

    mutating func matched(_ t: Transaction) {
        if isLive { output.write(TransactionLine.render(t, names: names) + "\n") }
    }

    mutating func settled(_ t: Transaction) {
        guard isLive else {
            lines.add(t.sequence, TransactionLine.render(t, names: names) + "\n") { output.write($0) }
            return
        }
        let lookup = t.analysis.lookup ?? t.sequence
        for id in t.analysis.findings where lastFindingLookup[id] != lookup {
            lastFindingLookup[id] = lookup
            output.write(TransactionLine.finding(id, t, names: names) + "\n")
        }
    }

    mutating func flush() {
        lines.flush { output.write($0) }
        output.flush()
    }
}

/// The batch outputs asked for, fed together.
struct BatchOutputs: EvidenceSink {
    var csv: CSVSink?
    var flows: FlowsSink?
    var lines: LinesSink?

    mutating func matched(_ t: Transaction) { lines?.matched(t) }

    mutating func settled(_ t: Transaction) {
        csv?.settled(t)
        lines?.settled(t)
    }

    mutating func flowsFinished(_ finished: [FlowStats]) { flows?.flowsFinished(finished) }

    /// End of input: what waited for an earlier row is written.
    mutating func flush() {
        csv?.flush()
        flows?.flush()
        lines?.flush()
    }

    /// What was written out of order to stay within `maxWaitingRowBytes`, per output, for a message.
    var outOfOrder: [String] {
        [("--csv", csv?.writer.skipped), ("--flows-csv", flows?.writer.skipped), ("the lines", lines?.lines.skipped)]
            .compactMap { name, n in n.flatMap { $0 > 0 ? "\(name): \($0) row\($0 == 1 ? "" : "s")" : nil } }
    }
}
