import DNSFlowCore

/// What the interface writes to a file.
enum ExportContent {
    /// Rows in the `--csv` columns (a row whose packets cannot be read again says so).
    case rows([Entry])
    /// Flows in the `--flows-csv` columns.
    case flows([FlowGroup])
    /// The rows' packets (query and response) as a pcap file.
    case packets([Entry])
}

/// The interface's exports: each written whole or not at all (`AtomicFile`).
enum Exports {
    /// Writes `content` to `path`; returns the footer's line. `ExportError.exists`: the file is there (ask first).
    static func write(_ content: ExportContent, to path: String, overwrite: Bool, store: QueryStore, names: AddressNames,
                      packets: (CapturePoint) -> CapturedPacket?) throws(ExportError) -> (text: String, role: Role) {
        switch content {
        case .packets(let rows):
            var points: [CapturePoint] = []
            for e in rows {
                if let q = e.queryPacket { points.append(q.point) }
                if let r = e.responsePacket { points.append(r.point) }
            }
            let found = points.compactMap(packets)
            guard !found.isEmpty else { return ("no packets held for the marked rows (evicted): nothing written", .rcodeError) }
            let bytes = try PcapFileWriter.encode(found.sorted { $0.timestamp < $1.timestamp })
            try AtomicFile.write(bytes, to: path, overwrite: overwrite)
            let missing = points.count - found.count
            return ("wrote \(found.count) packets to \(path)" + (missing > 0 ? " (\(missing) no longer held)" : ""), .message)
        case .flows(let groups):
            var text = FlowCSV.header
            for g in groups { text += FlowCSV.row(QueryStore.flowStats(g), names: names) }
            try AtomicFile.write(Array(text.utf8), to: path, overwrite: overwrite)
            return ("wrote \(groups.count) flow\(groups.count == 1 ? "" : "s") to \(path)", .message)
        case .rows(let rows):
            var text = TransactionCSV.header
            let csv = TransactionCSV.Rows()
            for e in rows { text += csv.row(store.transaction(of: e), names: names) }
            try AtomicFile.write(Array(text.utf8), to: path, overwrite: overwrite)
            return ("wrote \(rows.count) row\(rows.count == 1 ? "" : "s") to \(path)", .message)
        }
    }
}
