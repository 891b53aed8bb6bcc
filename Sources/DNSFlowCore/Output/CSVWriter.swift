/// One CSV row per transaction (RFC 4180 quoting), in the columns `--csv` promises.
public enum TransactionCSV {
    public static let columns = [
        "time", "proto", "client_ip", "client_port", "server_ip", "server_port", "id", "qname", "qtype",
        "qclass", "opcode", "rcode", "latency_ms", "answers", "answer_data", "tc", "status", "response_time",
        "query_size", "response_size", "edns_udp_size", "dnssec_ok", "malformed", "input", "query_frame",
        "response_frame", "attempt", "retry_gap_ms", "probable_retry", "pair", "pair_state", "same_socket",
        "resolution", "resolution_ms", "flow", "sightings", "finding", "client_name", "server_name",
    ]

    public static var header: String { columns.joined(separator: ",") + "\n" }

    public static func row(_ t: Transaction, names: AddressNames = .none) -> String {
        let q = t.query?.message
        let r = t.response?.message
        let question = t.question
        var fields: [String] = []
        fields.reserveCapacity(columns.count)
        fields.append(t.time.iso8601)
        fields.append(t.transport.rawValue)
        fields.append(t.client.address.description)
        fields.append(String(t.client.port))
        fields.append(t.server.address.description)
        fields.append(String(t.server.port))
        fields.append(String(t.id))
        fields.append(question.map { $0.name.presentation(trailingDot: false) } ?? "")
        fields.append(question.map { $0.type.description } ?? "")
        fields.append(question.map { $0.qclass.description } ?? "")
        fields.append((q ?? r)!.header.opcode.description)
        fields.append(r.map { $0.rcode.description } ?? "")
        fields.append(t.latencyNanoseconds.map { formatMilliseconds($0, digits: t.precisionDigits) } ?? "")
        fields.append(r.map { String($0.answers.count) } ?? "")
        fields.append(r.map { $0.answers.map(\.rdata).joined(separator: ";") } ?? "")
        fields.append(r?.header.isTruncated == true ? "1" : "0")
        fields.append(t.status.rawValue)
        fields.append(t.response?.timestamp.iso8601 ?? "")
        fields.append(q.map { String($0.size) } ?? "")
        fields.append(r.map { String($0.size) } ?? "")
        fields.append((q ?? r)?.edns.map { String($0.udpPayloadSize) } ?? "")
        fields.append((q ?? r)?.edns.map { $0.dnssecOK ? "1" : "0" } ?? "")
        fields.append([q?.error, r?.error].compactMap { $0?.code.rawValue }.joined(separator: ";"))
        fields.append(String((t.query ?? t.response)!.point.input))
        fields.append(t.query.map { String($0.point.frame) } ?? "")
        fields.append(t.response.map { String($0.point.frame) } ?? "")
        let a = t.analysis
        let isQuery = t.query != nil && !t.isUnmatchable
        fields.append(isQuery ? String(a.attempt) : "")
        fields.append(a.retryGapNanoseconds.map { formatMilliseconds($0, digits: t.precisionDigits) } ?? "")
        fields.append(isQuery ? (a.isProbableRetry ? "1" : "0") : "")
        fields.append(a.pair.map(String.init) ?? "")
        fields.append(a.pairState?.rawValue ?? "")
        fields.append(a.sameSocket.map { $0 ? "1" : "0" } ?? "")
        fields.append(a.resolution.map(String.init) ?? "")
        fields.append(a.resolutionNanoseconds.map { formatMilliseconds($0, digits: t.precisionDigits) } ?? "")
        fields.append(a.flow.map(String.init) ?? "")
        fields.append(String(isQuery ? a.querySightings : max(1, a.responseSightings)))
        fields.append(a.findings.joined(separator: ";"))
        fields.append(names[t.client.address] ?? "")
        fields.append(names[t.server.address] ?? "")
        return joinedRow(fields)
    }

    /// `a,b,c\n` with each field quoted as needed, built as octets in one buffer.
    static func joinedRow(_ fields: [String]) -> String {
        var row: [UInt8] = []
        row.reserveCapacity(fields.reduce(fields.count + 8) { $0 + $1.utf8.count })
        for (i, field) in fields.enumerated() {
            if i > 0 { row.append(0x2c) }
            if needsQuotes(field) {
                row.append(0x22)
                for b in field.utf8 {
                    if b == 0x22 { row.append(0x22) }
                    row.append(b)
                }
                row.append(0x22)
            } else {
                row.append(contentsOf: field.utf8)
            }
        }
        row.append(0x0a)
        return String(decoding: row, as: UTF8.self)
    }

    static func needsQuotes(_ field: String) -> Bool {
        let special: (UInt8) -> Bool = { $0 == 0x2c || $0 == 0x22 || $0 == 0x0a || $0 == 0x0d }
        return field.utf8.withContiguousStorageIfAvailable { $0.contains(where: special) } ?? field.utf8.contains(where: special)
    }

    /// Milliseconds with the capture's precision: 3 decimals for microsecond captures, 6 for nanosecond.
    public static func formatMilliseconds(_ nanoseconds: Int64, digits: UInt8) -> String {
        let decimals = max(3, Int(digits) - 3)
        let negative = nanoseconds < 0
        let magnitude = nanoseconds.magnitude
        let whole = magnitude / 1_000_000
        var fraction = magnitude % 1_000_000
        for _ in 0..<(6 - min(decimals, 6)) { fraction /= 10 }
        return (negative ? "-" : "") + String(whole) + "." + Timestamp.pad(fraction, min(decimals, 6))
    }

    /// RFC 4180 §2: a field with a comma, quote, CR or LF is quoted, quotes doubled.
    public static func quote(_ field: String) -> String {
        guard needsQuotes(field) else { return field }
        var out = "\""
        for ch in field {
            if ch == "\"" { out += "\"\"" } else { out.append(ch) }
        }
        return out + "\""
    }
}

/// One CSV row per flow (5-tuple), for `--flows-csv`.
public enum FlowCSV {
    public static let columns = [
        "flow", "proto", "client_ip", "client_port", "server_ip", "server_port", "queries", "answered", "unanswered",
        "retries", "latency_p50_ms", "latency_p90_ms", "latency_p99_ms", "latency_max_ms", "first_seen", "last_seen",
        "client_name", "server_name",
    ]

    public static var header: String { columns.joined(separator: ",") + "\n" }

    public static func row(_ f: FlowStats, names: AddressNames = .none) -> String {
        let digits = f.firstSeen.digits
        func ms(_ p: Double) -> String { f.latencyPercentile(p).map { TransactionCSV.formatMilliseconds($0, digits: digits) } ?? "" }
        let fields = [
            String(f.id), f.transport.rawValue, f.client.address.description, String(f.client.port),
            f.server.address.description, String(f.server.port), String(f.queries), String(f.answered),
            String(f.unanswered), String(f.retries), ms(50), ms(90), ms(99), ms(100), f.firstSeen.iso8601, f.lastSeen.iso8601,
            names[f.client.address] ?? "", names[f.server.address] ?? "",
        ]
        return fields.map(TransactionCSV.quote).joined(separator: ",") + "\n"
    }
}
