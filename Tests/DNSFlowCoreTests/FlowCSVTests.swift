import Foundation
import Testing
@testable import DNSFlowCore

/// `--flows-csv` rows written as octets: the same text as each field made a string, quoted and joined.
@Suite("Flow CSV rows")
struct FlowCSVTests {
    @Test func sameAsFieldsJoined() {
        var rng = SplitMix(state: 21)
        var names = AddressNames()
        // Names a spreadsheet would run (guarded), names with a comma or a quote (quoted), plain ones.
        let labels = ["dns-0", "=cmd|' /C calc'!A0", "a,b", "say \"hi\"", "'quoted", "+1", "kube-dns.kube-system"]
        let addresses: [IPAddress] = (0..<12).map { i in
            i % 3 == 2 ? .v6(0x2001_0db8_0000_0000, UInt64(i)) : .v4(0xc612_0000 | UInt32(i))
        }
        for (i, a) in addresses.enumerated() where i % 2 == 0 { names.add(a, labels[i % labels.count]) }
        for id in 1...300 {
            let first = Timestamp(seconds: 1_700_000_000 + Int64.random(in: 0...100_000, using: &rng),
                                  nanoseconds: UInt32.random(in: 0..<1_000_000_000, using: &rng), digits: id % 2 == 0 ? 6 : 9)
            var f = FlowStats(id: id, transport: id % 5 == 0 ? .tcp : .udp,
                              client: Endpoint(address: addresses.randomElement(using: &rng)!, port: UInt16.random(in: 1...65535, using: &rng)),
                              server: Endpoint(address: addresses.randomElement(using: &rng)!, port: 53),
                              firstSeen: first, lastSeen: first.adding(seconds: Int64.random(in: 0...60, using: &rng)))
            f.queries = Int.random(in: 0...5000, using: &rng)
            f.answered = Int.random(in: 0...f.queries, using: &rng)
            f.unanswered = f.queries - f.answered
            f.retries = Int.random(in: 0...20, using: &rng)
            // None, a few exact latencies, or enough to be counted in a histogram (as live).
            let count = [0, 1, 7, 3000][id % 4]
            for _ in 0..<count { f.addLatency(Int64.random(in: 1...9_000_000_000, using: &rng), exact: id % 8 != 3) }
            let withNames = id % 3 == 0 ? names : .none
            #expect(FlowCSV.row(f, names: withNames) == FlowCSVTests.joined(f, names: withNames), "flow \(id)")
        }
    }

    /// The row as each field made a string, quoted and joined (how `FlowCSV.row` wrote it before it wrote octets).
    static func joined(_ f: FlowStats, names: AddressNames) -> String {
        let digits = f.firstSeen.digits
        let figures = f.latencyFigures
        func ms(_ ns: Int64?) -> String { ns.map { TransactionCSV.formatMilliseconds($0, digits: digits) } ?? "" }
        func percentile(_ ns: Int64?) -> String {
            guard let ns, f.latencyHistogram != nil else { return ms(ns) }
            return Summary.threeDigitMilliseconds(ns)
        }
        let fields = [
            String(f.id), f.transport.rawValue, f.client.address.description, String(f.client.port),
            f.server.address.description, String(f.server.port), String(f.queries), String(f.answered),
            String(f.unanswered), String(f.retries), percentile(figures?.p50), percentile(figures?.p90),
            percentile(figures?.p99), ms(figures?.max), f.firstSeen.iso8601, f.lastSeen.iso8601,
            neutralised(names[f.client.address] ?? ""), neutralised(names[f.server.address] ?? ""),
        ]
        return fields.map(quote).joined(separator: ",") + "\n"
    }

    /// RFC 4180 §2: a field with a comma, quote, CR or LF is quoted, quotes doubled.
    static func quote(_ field: String) -> String {
        guard field.utf8.contains(where: CSVRow.isSpecial) else { return field }
        return "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// A spreadsheet's formula (or the guard itself) first: a `'` in front.
    static func neutralised(_ s: String) -> String {
        guard let b = s.utf8.first, CSVRow.needsGuard(b) else { return s }
        return "'" + s
    }
}
