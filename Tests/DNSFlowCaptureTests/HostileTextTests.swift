import DNSFlowCore
import Foundation
import Testing

/// Names and text are data, never commands: `Fixtures/captures/hostile-text.pcap` (scripts/derive-fixtures.py)
/// carries terminal escape sequences, control characters, invalid UTF-8, a bidi override, labels of 63 ESC octets
/// and spreadsheet formulas in its names and TXT strings. Every batch output of the real binary shows them escaped,
/// and CSV cells a spreadsheet would run as formulas are neutralised. (The interface: `TerminalTests`.)
@Suite("Hostile names and text in every output")
struct HostileTextTests {
    let capture = fixturesDirectory.appendingPathComponent("captures/hostile-text.pcap").path

    /// Everything but LF that a terminal would obey, or that reorders or hides text, as scalars found in `s`.
    func unsafe(_ s: String) -> [String] {
        s.unicodeScalars.filter { $0 != "\n" && !SafeText.isShowable($0) }.map { String(format: "U+%04X", $0.value) }
    }

    @Test func linesSummaryAndJSONAreEscaped() throws {
        for args in [["--no-ui"], ["--summary"], ["--summary", "--json"], ["--flows-csv", "-"]] {
            let run = try runDNSFlow(["-r", capture] + args)
            #expect(run.status == 0, "\(args): \(run.stderr)")
            #expect(unsafe(run.stdout).isEmpty, "\(args): \(unsafe(run.stdout))")
            #expect(unsafe(run.stderr).isEmpty, "\(args) stderr")
            #expect(!run.stdout.utf8.contains(0x1b))
        }
        let lines = try runDNSFlow(["-r", capture, "--no-ui"]).stdout
        #expect(lines.contains(#"\027]0\;pwned\007.\027[2J\027[31mred.evil."#))
        #expect(lines.contains(#"[TXT "\027]2\059title\007" "\226\128\174txt.exe" "\15531m" "\255\254 invalid""#))
        #expect(lines.contains(#"CNAME \000\013\010.\007bell."#))
    }

    /// The CSV: escaped like the rest, and no name, answer or label cell starts with `=`, `+`, `-`, `@`, TAB or CR
    /// (a `'` is put in front); a names file's labels go through the same rules.
    @Test func csvIsEscapedAndFormulasNeutralised() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("dnsflow-hostile-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let names = dir.appendingPathComponent("hosts")
        try "198.18.0.1 =HYPERLINK(\"http://x\")\n198.18.0.53 dns\u{1b}]0;t\u{7}\u{202e}x\n".write(to: names, atomically: true, encoding: .utf8)
        for args in [["--csv", "-"], ["--flows-csv", "-"]] {
            let run = try runDNSFlow(["-r", capture, "--names", names.path] + args)
            #expect(run.status == 0, "\(args): \(run.stderr)")
            #expect(unsafe(run.stdout).isEmpty, "\(args): \(unsafe(run.stdout))")
            let rows = HostileTextTests.parseCSV(run.stdout)
            let header = try #require(rows.first)
            let textColumns = ["qname", "answer_data", "client_name", "server_name"].compactMap(header.firstIndex(of:))
            #expect(textColumns.count == (args[0] == "--csv" ? 4 : 2))
            for row in rows.dropFirst() {
                #expect(row.count == header.count)
                for c in textColumns where c < row.count {
                    #expect(!(row[c].first.map { "=+-@\t\r".contains($0) } ?? false), "\(header[c]): \(row[c])")
                }
            }
            #expect(rows.dropFirst().contains { $0.contains("'=HYPERLINK(\"http://x\")") })
            #expect(rows.dropFirst().contains { $0.contains("dns?]0;t??x") })
        }
        let csv = HostileTextTests.parseCSV(try runDNSFlow(["-r", capture, "--csv", "-"]).stdout)
        let qname = try #require(csv.first?.firstIndex(of: "qname"))
        #expect(csv.dropFirst().map { $0[qname] }.contains(#"'=cmd|'\032/C\032calc'!A0.example.com"#))
        #expect(csv.dropFirst().map { $0[qname] }.contains(#"'+1.-2.\@SUM\(1\).x"#))
    }

    /// A file name is shown as the user's text, never as terminal commands: a capture named with an OSC title sequence
    /// is named with `\DDD` in the message, and its bytes never reach standard error raw.
    @Test func fileNamesInMessagesAreEscaped() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("names-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let hostile = dir.appendingPathComponent("x\u{1b}]2;pwned\u{07}.pcap").path
        let missing = try runDNSFlow(["-r", hostile, "--summary"])
        #expect(missing.status == 1)
        #expect(!missing.stderr.contains("\u{1b}") && !missing.stderr.contains("\u{07}"), "\(missing.stderr.debugDescription)")
        #expect(missing.stderr.contains(#"x\027]2;pwned\007.pcap: no such file"#), "\(missing.stderr)")
        // Not a capture: libpcap's words and the name, both escaped.
        try Data("not a capture".utf8).write(to: URL(fileURLWithPath: hostile))
        let bad = try runDNSFlow(["-r", hostile, "--csv", dir.appendingPathComponent("o\u{1b}[2J.csv").path])
        #expect(bad.status == 1)
        #expect(!bad.stderr.contains("\u{1b}"), "\(bad.stderr.debugDescription)")
    }

    /// A pcapng whose one query is stamped INT64_MIN seconds (its interface's `if_tsoffset`): every mode reads it,
    /// the time brought to the edge of what dnsflow represents and said so — no overflow trap (exit 132 before).
    @Test func extremeTimestampsAreBroughtIntoRange() throws {
        let capture = fixturesDirectory.appendingPathComponent("captures/timestamp-int64-min.pcapng").path
        for args in [["--csv", "-"], ["--flows-csv", "-"], ["--summary"], ["--summary", "--json"], ["--no-ui"]] {
            let r = try runDNSFlow(["-r", capture] + args)
            #expect(r.status == 0, "\(args): \(r.status) \(r.stderr)")
            #expect(r.stderr.contains("1 packet with a time outside 1970-01-01 to 2223-07-06"), "\(args): \(r.stderr)")
        }
        let csv = try runDNSFlow(["-r", capture, "--csv", "-"]).stdout
        #expect(csv.contains("1970-01-01T00:00:00.000000Z,udp,198.18.0.2,40000,198.18.0.1,53,4660,web.example,A"), "\(csv)")
    }

    /// The guard is never ambiguous: a name that starts with `'` gets one more, so one taken away always gives the name.
    @Test func theFormulaGuardCanBeTakenOff() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("guard-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let names = dir.appendingPathComponent("hosts")
        try "198.18.1.2 =x.example\n198.18.3.10 '=x.example\n".write(to: names, atomically: true, encoding: .utf8)
        let run = try runDNSFlow(["-r", labFixtures.appendingPathComponent("race-5s/pod.pcap").path, "--names", names.path, "--csv", "-"])
        #expect(run.status == 0, "\(run.stderr)")
        let rows = HostileTextTests.parseCSV(run.stdout)
        let client = try #require(rows.first?.firstIndex(of: "client_name")), server = try #require(rows.first?.firstIndex(of: "server_name"))
        let row = try #require(rows.dropFirst().first)
        #expect(row[client] == "'=x.example")
        #expect(row[server] == "''=x.example")
        #expect(String(row[client].dropFirst()) == "=x.example" && String(row[server].dropFirst()) == "'=x.example")
    }

    /// RFC 4180: fields separated by commas, quoted fields with doubled quotes, rows by LF.
    static func parseCSV(_ text: String) -> [[String]] {
        var rows: [[String]] = [], row: [String] = [], field = "", quoted = false
        var chars = Array(text)[...]
        while let ch = chars.popFirst() {
            if quoted {
                if ch == "\"" {
                    if chars.first == "\"" { field.append("\""); chars.removeFirst() } else { quoted = false }
                } else { field.append(ch) }
            } else if ch == "\"" { quoted = true
            } else if ch == "," { row.append(field); field = ""
            } else if ch == "\n" { row.append(field); rows.append(row); row = []; field = ""
            } else { field.append(ch) }
        }
        return rows
    }
}
