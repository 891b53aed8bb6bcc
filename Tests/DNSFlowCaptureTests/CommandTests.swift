import DNSFlowCore
import Foundation
import Testing

/// What a user can get wrong, and what the command does about it: one clear line, a non-zero exit,
/// nothing half-written.
@Suite("The dnsflow command")
struct CommandTests {
    let captures = fixturesDirectory.appendingPathComponent("captures")
    func capture(_ name: String) -> String { captures.appendingPathComponent(name).path }

    func temporaryDirectory() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("dnsflow-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    /// Exactly one line on stderr, starting with `dnsflow:` or `Error:` (argument validation).
    func expectOneLineError(_ r: CommandResult, containing text: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(r.status != 0, sourceLocation: sourceLocation)
        #expect(r.stdout.isEmpty, "stdout: \(r.stdout)", sourceLocation: sourceLocation)
        let lines = r.stderr.split(separator: "\n").filter { !$0.hasPrefix("Usage:") && !$0.hasPrefix("  See '") && !$0.isEmpty }
        #expect(lines.count == 1, "stderr: \(r.stderr)", sourceLocation: sourceLocation)
        #expect(r.stderr.contains(text), "stderr: \(r.stderr)", sourceLocation: sourceLocation)
    }

    @Test func missingFile() throws {
        expectOneLineError(try runDNSFlow(["-r", "/nonexistent/x.pcap", "--summary"]), containing: "/nonexistent/x.pcap: no such file")
    }

    /// `--csv` to a device or a pipe writes into it: renaming a finished file over it (the way regular files are
    /// written) would replace it — as root, /dev/null itself. Checked on a FIFO, never on /dev/null.
    @Test func csvIntoAPipeKeepsThePipe() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let fifo = dir.appendingPathComponent("rows.fifo").path
        #expect(mkfifo(fifo, 0o600) == 0)
        let received = dir.appendingPathComponent("received.csv")
        let reader = Process()
        reader.executableURL = URL(fileURLWithPath: "/bin/sh")
        reader.arguments = ["-c", "cat '\(fifo)' > '\(received.path)'"]
        try reader.run()
        let capture = packageRoot.appendingPathComponent("Fixtures/lab/race-5s/pod.pcap").path
        let r = try runDNSFlow(["-r", capture, "--csv", fifo])
        reader.waitUntilExit()
        #expect(r.status == 0, "\(r.stderr)")
        var st = stat()
        #expect(stat(fifo, &st) == 0 && (st.st_mode & S_IFMT) == S_IFIFO, "still a FIFO")
        let csv = try String(contentsOf: received, encoding: .utf8)
        #expect(csv.split(separator: "\n").count == 5)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted() == ["received.csv", "rows.fifo"])
    }

    /// The interface needs a terminal; options that only it uses say so instead of being ignored.
    @Test func replayNeedsTheInterface() throws {
        let capture = packageRoot.appendingPathComponent("Fixtures/lab/race-5s/pod.pcap").path
        expectOneLineError(try runDNSFlow(["-r", capture, "--replay", "--summary"]), containing: "--replay plays a capture in the interface")
        expectOneLineError(try runDNSFlow(["-r", capture, "--replay=0"]), containing: "--replay speed must be above 0")
        expectOneLineError(try runDNSFlow(["-r", capture, "--max-queries", "5"]), containing: "--max-queries must be at least 100")
        // Not a terminal: lines, as before.
        let lines = try runDNSFlow(["-r", capture])
        #expect(lines.status == 0)
        #expect(lines.stdout.split(separator: "\n").count == 4)
    }

    @Test func directoryIsNotACapture() throws {
        expectOneLineError(try runDNSFlow(["-r", captures.path, "--summary"]), containing: "is a directory")
    }

    @Test func unreadableFile() throws {
        guard getuid() != 0 else { return }   // root reads everything
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let f = dir.appendingPathComponent("locked.pcap")
        try Data([1, 2, 3]).write(to: f)
        chmod(f.path, 0)
        expectOneLineError(try runDNSFlow(["-r", f.path]), containing: "cannot read")
    }

    @Test func textFileIsNotACapture() throws {
        let r = try runDNSFlow(["-r", fixturesDirectory.appendingPathComponent("README.md").path, "--summary"])
        expectOneLineError(r, containing: "not a capture dnsflow can read as pcap or pcapng")
    }

    @Test func emptyFileIsNotACapture() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let f = dir.appendingPathComponent("empty.pcap")
        try Data().write(to: f)
        expectOneLineError(try runDNSFlow(["-r", f.path, "--summary"]), containing: "not a capture dnsflow can read as pcap or pcapng")
    }

    @Test func capturesCutMidRecordKeepWhatWasRead() throws {
        let r = try runDNSFlow(["-r", capture("dns-cut-mid-record.pcap"), "--summary", "--json"])
        #expect(r.status == 2)
        #expect(r.stdout.contains("\"packets\":20"))
        #expect(r.stdout.contains("\"truncated_inputs\":1"))
        #expect(r.stderr.contains("capture is cut off after 20 packets"))
    }

    @Test func readAndLiveTogether() throws {
        expectOneLineError(try runDNSFlow(["-r", capture("dns.pcap"), "-i", "lo"]), containing: "-r and -i cannot be used together")
    }

    @Test func nothingToRead() throws {
        expectOneLineError(try runDNSFlow(["--summary"]), containing: "nothing to read")
    }

    @Test func badFilterGivesLibpcapsMessage() throws {
        let r = try runDNSFlow(["-r", capture("dns.pcap"), "--summary", "port", "not-a-number"])
        expectOneLineError(r, containing: "bad filter expression 'port not-a-number'")
    }

    /// Runs as an unprivileged user: directly when we are one, through setpriv(1) as `nobody` when root.
    func runUnprivileged(_ arguments: [String]) throws -> CommandResult? {
        if getuid() != 0 { return try runDNSFlow(arguments) }
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv") else { return nil }
        let r = try runProcess("/usr/bin/setpriv", ["--reuid=nobody", "--regid=nogroup", "--clear-groups", dnsflowBinary.path] + arguments)
        // `nobody` may not reach the build folder (a checkout under /root): then this cannot be checked here.
        return r.stderr.hasPrefix("setpriv:") ? nil : r
    }

    @Test func unknownInterfaceListsTheOthers() throws {
        let r = try runDNSFlow(["-i", "nosuchif0", "--summary"])
        expectOneLineError(r, containing: "nosuchif0: no such interface; available:")
        #expect(r.stderr.contains("lo"))
        if let unprivileged = try runUnprivileged(["-i", "nosuchif0"]) {
            expectOneLineError(unprivileged, containing: "nosuchif0: no such interface; available:")
        }
    }

    @Test func liveCaptureWithoutPrivilegeSaysHow() throws {
        guard let r = try runUnprivileged(["-i", "lo", "--summary"]) else {
            print("skipped: cannot run dnsflow as an unprivileged user here")
            return
        }
        expectOneLineError(r, containing: "lo: no permission to capture")
        #expect(r.stderr.contains("setcap cap_net_raw,cap_net_admin=eip"))
    }

    @Test func failedRunLeavesNoCSVBehind() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("out.csv")
        let r = try runDNSFlow(["-r", capture("dns.pcap"), "--csv", out.path, "port", "bogus"])
        #expect(r.status != 0)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).isEmpty)
        let ok = try runDNSFlow(["-r", capture("dns.pcap"), "--csv", out.path])
        #expect(ok.status == 0)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["out.csv"])
        #expect(try String(contentsOf: out, encoding: .utf8).split(separator: "\n").count == 42)
    }

    @Test func standardInputIsACapture() throws {
        let bytes = try Data(contentsOf: captures.appendingPathComponent("dns.pcap"))
        let piped = try runDNSFlow(["-r", "-", "--csv", "-"], stdin: bytes)
        let direct = try runDNSFlow(["-r", capture("dns.pcap"), "--csv", "-"])
        #expect(piped.status == 0)
        #expect(piped.stdout == direct.stdout)
        expectOneLineError(try runDNSFlow(["-r", "-", "-r", "-"], stdin: bytes), containing: "only once")
    }

    @Test func summaryJSONHasTheDocumentedKeys() throws {
        let r = try runDNSFlow(["-r", capture("dns.pcap"), "--summary", "--json"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        for key in ["packets", "dns_messages", "queries", "responses", "answered", "unanswered", "orphan_responses", "malformed", "latency_ms"] {
            #expect(object[key] != nil, "missing \(key)")
        }
        let latency = try #require(object["latency_ms"] as? [String: Any])
        #expect(Set(latency.keys) == ["p50", "p90", "p99", "max"])
        #expect(object["queries"] as? Int == 41)
        #expect(object["answered"] as? Int == 41)
    }

    @Test func csvToStdoutAndSummaryToStderrTogether() throws {
        let r = try runDNSFlow(["-r", capture("dns.pcap"), "--csv", "-", "--summary"])
        #expect(r.stdout.hasPrefix("time,proto,"))
        #expect(r.stderr.contains("answered"))
    }

    @Test func mergedInputsAreInTimeOrder() throws {
        // The same 41 exchanges three ways (plain, VLAN-tagged, fragmented), merged by timestamp. The plain and the
        // VLAN-tagged copies carry the same timestamps: one message each, seen twice. The fragmented copy was
        // captured at other times: messages of their own.
        let r = try runDNSFlow(["-r", capture("frags.pcap"), "-r", capture("vlan11.pcap"), "-r", capture("dns.pcap"), "--csv", "-"])
        let rows = r.stdout.split(separator: "\n").dropFirst().map { $0.split(separator: ",", omittingEmptySubsequences: false) }
        let times = rows.map { $0[0] }
        #expect(times.count == 82)
        #expect(times == times.sorted())
        let sightings = rows.map { $0[TransactionCSV.columns.firstIndex(of: "sightings")!] }
        #expect(sightings.filter { $0 == "2" }.count == 41)
        #expect(sightings.filter { $0 == "1" }.count == 41)
    }

    @Test func unsupportedLinkTypeIsReportedNotFatal() throws {
        // A valid pcap header with link type 147 (USER0) and one record.
        var bytes: [UInt8] = [0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 147, 0, 0, 0]
        bytes += [1, 0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 4, 0, 0, 0, 1, 2, 3, 4]
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let f = dir.appendingPathComponent("user0.pcap")
        try Data(bytes).write(to: f)
        let r = try runDNSFlow(["-r", f.path, "--summary", "--json"])
        #expect(r.status == 0)
        #expect(r.stdout.contains("\"link_type\":147"))
        #expect(r.stderr.contains("link type DLT147 (147) is not supported"))
    }

    @Test func flowsCSVHasOneRowPerFiveTuple() throws {
        let lab = fixturesDirectory.appendingPathComponent("lab/race-10s/pod.pcap").path
        let r = try runDNSFlow(["-r", lab, "--flows-csv", "-"])
        let rows = r.stdout.split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        #expect(rows.first == FlowCSV.columns)
        // glibc: the first search step's socket (A, AAAA, both re-sent), the second step's socket, then one new
        // socket per re-sent query.
        #expect(rows.dropFirst().map { $0[0] } == ["1", "2", "3", "4"])
        let queries = rows.dropFirst().map { Int($0[6])! }.reduce(0, +)
        let retries = rows.dropFirst().map { Int($0[9])! }.reduce(0, +)
        #expect(queries == 8)
        #expect(retries == 4)
        expectOneLineError(try runDNSFlow(["-r", lab, "--csv", "-", "--flows-csv", "-"]), containing: "cannot both write to standard output")
    }

    @Test func namesLabelAddresses() throws {
        let lab = fixturesDirectory.appendingPathComponent("lab/race-5s/pod.pcap").path
        let names = fixturesDirectory.appendingPathComponent("names/lab-cluster.json").path
        let csv = try runDNSFlow(["-r", lab, "--names", names, "--csv", "-"])
        let rows = csv.stdout.split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        let client = try #require(rows.first?.firstIndex(of: "client_name")), server = try #require(rows.first?.firstIndex(of: "server_name"))
        #expect(rows.dropFirst().allSatisfy { $0[client] == "default/web-7d4b9" && $0[server] == "kube-system/kube-dns" })
        let lines = try runDNSFlow(["-r", lab, "--names", names])
        #expect(lines.stdout.contains("198.18.1.2.58181 (default/web-7d4b9) > 198.18.3.10.53 (kube-system/kube-dns)"))
        let summary = try runDNSFlow(["-r", lab, "--names", names, "--summary"])
        #expect(summary.stdout.contains("(198.18.1.2.58181 (default/web-7d4b9) > 198.18.3.10.53 (kube-system/kube-dns))"))
        expectOneLineError(try runDNSFlow(["-r", lab, "--names", "/nonexistent/names.json"]), containing: "cannot read the names file")
    }

    @Test func linesWhenStdoutIsAPipe() throws {
        let r = try runDNSFlow(["-r", capture("dns_udp.pcap")])
        #expect(r.stdout.contains("udp 192.168.1.11.43966 > 209.87.249.18.53 id 22836 A? www.tcpdump.org. NOERROR"))
    }
}
