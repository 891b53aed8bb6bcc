/// One CSV row per transaction (RFC 4180 quoting), in the columns `--csv` promises.
public enum TransactionCSV {
    public static let columns = [
        "time", "proto", "client_ip", "client_port", "server_ip", "server_port", "id", "qname", "qtype",
        "qclass", "opcode", "rcode", "latency_ms", "answers", "answer_data", "tc", "status", "response_time",
        "query_size", "response_size", "edns_udp_size", "dnssec_ok", "malformed", "input", "query_frame",
        "response_frame", "attempt", "retry_gap_ms", "probable_retry", "pair", "pair_state", "same_socket",
        "resolution", "resolution_ms", "flow", "sightings", "finding", "client_name", "server_name", "attempt_link",
        "latency_point", "last_seen",
    ]

    public static var header: String { columns.joined(separator: ",") + "\n" }

    /// `answer_data` of a row exported from the interface whose packets could not be read again (evicted from memory,
    /// or the capture file changed or was cut since it was read).
    public static let notReadableAgain = "(packets not readable again: records unknown)"

    /// One row on its own. (A writer of many rows keeps a `Rows`.)
    public static func row(_ t: Transaction, names: AddressNames = .none) -> String {
        Rows().row(t, names: names)
    }

    /// A writer of rows, one after the other (on one thread at a time): what a row shares with the row before it (the
    /// second its times fall in) is worked out once.
    public final class Rows {
        /// (Not checked for overlapping access at run time: a check at every row.)
        @exclusivity(unchecked) private var time = ISO8601Second()

        public init() {}

        public func row(_ t: Transaction, names: AddressNames = .none) -> String {
            var out = OctetBuffer(capacity: 320)
            write(t, names: names, to: &out)
            return out.string
        }

        /// The row and its newline, in `out` (emptied first): written straight into the buffer, numbers, times,
        /// addresses and names included, with no string made for a field.
        public func write(_ t: Transaction, names: AddressNames = .none, to out: inout OctetBuffer) {
            var row = CSVRow(reusing: out)
            TransactionCSV.write(t, names: names, time: &time, to: &row)
            out = row.finish()
        }
    }

    private static func write(_ t: Transaction, names: AddressNames, time: inout ISO8601Second, to row: inout CSVRow) {
        // The messages read where they lie in their boxes (a message bound to a name is a copy: a handful of lists).
        let query = t.query, response = t.response
        let first = (query ?? response)!   // the message that opened it
        let question = first.question
        let a = t.analysis
        let isQuery = t.query != nil && !t.isUnmatchable
        let digits = t.precisionDigits
        // Made from an interface row whose packets could not be read again (input -1): what the packets held (the
        // records, sizes, EDNS, flags, frames) is left empty and `answer_data` says why, never a zero count.
        let readable = first.point.input >= 0
        row.plain { first.timestamp.appendISO8601(to: &$0, reusing: &time) }
        row.text(first.transport.rawValue)
        row.plain { t.client.address.appendText(to: &$0) }
        row.int(Int(t.client.port))
        row.plain { t.server.address.appendText(to: &$0) }
        row.int(Int(t.server.port))
        row.int(Int(first.id))
        row.untrusted { out in question.map { $0.name.appendPresentation(trailingDot: false, to: &out) } }
        row.text(question.map { $0.type.description })
        row.text(question.map { $0.qclass.description })
        row.text(first.message.header.opcode.description)
        row.text(response.map { $0.message.rcode.description })
        row.milliseconds(t.latencyNanoseconds, digits: digits)
        row.int(readable ? response.map { $0.message.answersRead } : nil)
        row.untrusted { out in
            guard readable else { return out.append(contentsOf: TransactionCSV.notReadableAgain.utf8) }
            guard let response else { return }
            for (i, answer) in response.message.answers.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ";")) }
                answer.appendRData(to: &out)
            }
        }
        row.text(readable ? (response?.message.header.isTruncated == true ? "1" : "0") : nil)
        row.text(t.status.rawValue)
        row.plain { out in response?.timestamp.appendISO8601(to: &out, reusing: &time) }
        row.int(readable ? query.map { $0.message.size } : nil)
        row.int(readable ? response.map { $0.message.size } : nil)
        row.int(readable ? first.message.edns.map { Int($0.udpPayloadSize) } : nil)
        row.text(readable ? first.message.edns.map { $0.dnssecOK ? "1" : "0" } : nil)
        row.field { out in
            let queryError = query?.message.error
            if let e = queryError { out.append(contentsOf: e.code.rawValue.utf8) }
            if let e = response?.message.error {
                if queryError != nil { out.append(UInt8(ascii: ";")) }
                out.append(contentsOf: e.code.rawValue.utf8)
            }
        }
        row.int(readable ? first.point.input : nil)
        row.int(readable ? query.map { $0.point.frame } : nil)
        row.int(readable ? response.map { $0.point.frame } : nil)
        row.int(isQuery ? a.attempt : nil)
        row.milliseconds(a.retryGapNanoseconds, digits: digits)
        row.text(isQuery ? (a.isProbableRetry ? "1" : "0") : nil)
        row.int(a.pair)
        row.text(a.pairState?.rawValue)
        row.text(a.sameSocket.map { $0 ? "1" : "0" })
        row.int(a.lookup)
        row.milliseconds(a.lookupNanoseconds, digits: digits)
        row.int(a.flow)
        row.int(isQuery ? a.querySightings : max(1, a.responseSightings))
        row.field { out in
            for (i, id) in a.findings.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ";")) }
                out.append(contentsOf: id.utf8)
            }
        }
        row.untrusted { out in if let n = names[t.client.address] { out.append(contentsOf: n.utf8) } }
        row.untrusted { out in if let n = names[t.server.address] { out.append(contentsOf: n.utf8) } }
        row.text(a.link?.rawValue)
        row.field { out in TransactionCSV.appendLatencyPoint(t, to: &out) }
        row.field { out in if let p = a.lastSeen { out.append(contentsOf: p.label.utf8) } }
    }

    /// Where the latency was measured: the capture point of the query's first copy (the one nearest the client), and
    /// of the response's last copy when that is another input or interface (`0/if3>1`). Written as octets: a string
    /// per row is a cost every row of `--csv` would pay.
    static func appendLatencyPoint<Out: OctetSink & ~Copyable>(_ t: Transaction, to out: inout Out) {
        guard let q = t.query?.point, let r = t.response?.point else { return }
        func append(_ p: CapturePoint) {
            Timestamp.append(Int64(p.input), width: 0, to: &out)
            if let i = p.interfaceIndex {
                out.append(contentsOf: "/if".utf8)
                Timestamp.append(Int64(i), width: 0, to: &out)
            }
        }
        append(q)
        if q.input != r.input || q.interfaceIndex != r.interfaceIndex {
            out.append(UInt8(ascii: ">"))
            append(r)
        }
    }

    /// Milliseconds with the capture's precision: 3 decimals for microsecond captures, 6 for nanosecond.
    public static func formatMilliseconds(_ nanoseconds: Int64, digits: UInt8) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(24)
        appendMilliseconds(nanoseconds, digits: digits, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    static func appendMilliseconds<Out: OctetSink & ~Copyable>(_ nanoseconds: Int64, digits: UInt8, to out: inout Out) {
        let decimals = min(max(3, Int(digits) - 3), 6)
        if nanoseconds < 0 { out.append(UInt8(ascii: "-")) }
        let magnitude = nanoseconds.magnitude
        var fraction = magnitude % 1_000_000
        for _ in 0..<(6 - decimals) { fraction /= 10 }
        Timestamp.append(Int64(magnitude / 1_000_000), width: 0, to: &out)
        out.append(UInt8(ascii: "."))
        Timestamp.append(Int64(fraction), width: decimals, to: &out)
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

    /// One row on its own.
    public static func row(_ f: FlowStats, names: AddressNames = .none) -> String {
        var out = OctetBuffer(capacity: 192)
        write(f, names: names, to: &out)
        return out.string
    }

    /// The row and its newline, in `out` (emptied first): written straight into the buffer, as `TransactionCSV`'s
    /// rows are.
    public static func write(_ f: FlowStats, names: AddressNames = .none, to out: inout OctetBuffer) {
        let digits = f.firstSeen.digits
        let figures = f.latencyFigures
        var row = CSVRow(reusing: out)
        row.int(f.id)
        row.text(f.transport.rawValue)
        row.plain { f.client.address.appendText(to: &$0) }
        row.int(Int(f.client.port))
        row.plain { f.server.address.appendText(to: &$0) }
        row.int(Int(f.server.port))
        row.int(f.queries)
        row.int(f.answered)
        row.int(f.unanswered)
        row.int(f.retries)
        // A histogram's percentile to three digits (what it is good for); the largest, and a list's, exactly.
        let histogram = f.latencyHistogram != nil
        percentile(figures?.p50, histogram: histogram, digits: digits, to: &row)
        percentile(figures?.p90, histogram: histogram, digits: digits, to: &row)
        percentile(figures?.p99, histogram: histogram, digits: digits, to: &row)
        row.milliseconds(figures?.max, digits: digits)
        row.plain { f.firstSeen.appendISO8601(to: &$0) }
        row.plain { f.lastSeen.appendISO8601(to: &$0) }
        row.untrusted { out in if let n = names[f.client.address] { out.append(contentsOf: n.utf8) } }
        row.untrusted { out in if let n = names[f.server.address] { out.append(contentsOf: n.utf8) } }
        out = row.finish()
    }

    private static func percentile(_ nanoseconds: Int64?, histogram: Bool, digits: UInt8, to row: inout CSVRow) {
        if let nanoseconds, histogram {
            row.text(Summary.threeDigitMilliseconds(nanoseconds))
        } else {
            row.milliseconds(nanoseconds, digits: digits)
        }
    }
}

/// One CSV row being written as octets: fields separated by commas, each quoted only when it holds a comma, a quote,
/// CR or LF (RFC 4180 §2), quotes doubled. Every field goes through the same check, whatever wrote it.
struct CSVRow: ~Copyable {
    private var bytes: OctetBuffer
    private var fields = 0

    /// A row written into `buffer`, emptied first (`finish` gives it back).
    init(reusing buffer: consuming OctetBuffer) {
        bytes = buffer
        bytes.removeAll()
    }

    /// Comma, quote, LF, CR: what makes a field need quotes.
    @inline(__always)
    static func isSpecial(_ b: UInt8) -> Bool { b == 0x2c || b == 0x22 || b == 0x0a || b == 0x0d }

    /// A field written by `write` (which may write nothing: an empty field).
    mutating func field(_ write: (inout OctetBuffer) -> Void) {
        let start = bytes.count + (fields > 0 ? 1 : 0)
        plain(write)
        guard bytes.contains(from: start, where: CSVRow.isSpecial) else { return }
        let field = bytes.removeTail(from: start)
        bytes.append(0x22)
        for b in field {
            if b == 0x22 { bytes.append(0x22) }
            bytes.append(b)
        }
        bytes.append(0x22)
    }

    /// A field that cannot hold a comma, quote or line end (a number, a time, an address): written without a look.
    mutating func plain(_ write: (inout OctetBuffer) -> Void) {
        if fields > 0 { bytes.append(0x2c) }
        fields += 1
        write(&bytes)
    }

    mutating func text(_ s: String?) { field { out in if let s { out.append(contentsOf: s.utf8) } } }

    /// A field whose text comes from the wire or a names file (names, answers): one that a spreadsheet would run as a
    /// formula (`=`, `+`, `-`, `@`, TAB or CR first: OWASP's list) gets a `'` in front, which spreadsheets show as text;
    /// so does one that starts with `'` itself, so that the guard is never ambiguous: a leading `'` is always the
    /// guard's, and taking one away gives the text back (`=x` is written `'=x`, `'=x` is written `''=x`).
    /// Names and answers are already escaped (RFC 1035 `\DDD`): no control octet or non-ASCII reaches the file.
    mutating func untrusted(_ write: (inout OctetBuffer) -> Void) {
        field { out in
            let start = out.count
            write(&out)
            if start < out.count, CSVRow.needsGuard(out[start]) { out.insert(UInt8(ascii: "'"), at: start) }
        }
    }

    /// A first octet that gets the guard: a formula's, or the guard's own `'`.
    @inline(__always)
    static func needsGuard(_ b: UInt8) -> Bool { isFormulaStart(b) || b == UInt8(ascii: "'") }

    @inline(__always)
    static func isFormulaStart(_ b: UInt8) -> Bool {
        b == UInt8(ascii: "=") || b == UInt8(ascii: "+") || b == UInt8(ascii: "-") || b == UInt8(ascii: "@")
            || b == 0x09 || b == 0x0d
    }

    /// A decimal number, as `String(n)` writes it; nil is an empty field.
    mutating func int(_ n: Int?) { plain { out in if let n { Timestamp.append(Int64(n), width: 0, to: &out) } } }

    mutating func milliseconds(_ nanoseconds: Int64?, digits: UInt8) {
        plain { out in if let nanoseconds { TransactionCSV.appendMilliseconds(nanoseconds, digits: digits, to: &out) } }
    }

    /// The row with its newline.
    consuming func finish() -> OctetBuffer {
        bytes.append(0x0a)
        return bytes
    }
}
