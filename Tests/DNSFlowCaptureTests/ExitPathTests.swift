import DNSFlowCore
import Foundation
import Testing

/// How a run ends when the world gets in the way: a signal, a reader that goes away, a full disk, a capture cut or
/// still being written. Each ends cleanly with a message, keeps what it read, and leaves no partial file.
/// (The interface: `TerminalTests`; an interface going down: `LiveCaptureTests`.)
@Suite("Exit paths", .serialized)
struct ExitPathTests {
    /// A capture's bytes: its header and each record whole.
    func records(_ name: String) throws -> (header: Data, records: [Data]) {
        let data = try Data(contentsOf: fixturesDirectory.appendingPathComponent("captures/\(name)"))
        var out: [Data] = []
        var offset = 24
        while offset + 16 <= data.count {
            let length = data[(offset + 8)..<(offset + 12)].enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
            out.append(data[offset..<(offset + 16 + length)])
            offset += 16 + length
        }
        return (data[0..<24], out)
    }

    func temporary() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("dnsflow-exit-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    /// Runs dnsflow with its standard output a pipe nobody reads (closed at once): it stops, says so, and ends as a
    /// program killed by SIGPIPE would.
    @Test(arguments: [["--no-ui"], ["--csv", "-"], ["--summary"]])
    func aClosedPipeOnStandardOutputStopsTheRun(arguments: [String]) throws {
        let p = Process()
        p.executableURL = dnsflowBinary
        p.arguments = ["-r", fixturesDirectory.appendingPathComponent("captures/dns.pcap").path] + arguments
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try out.fileHandleForReading.close()
        try p.run()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        #expect(p.terminationReason == .exit && p.terminationStatus == 141)
        #expect(String(decoding: e, as: UTF8.self).contains("output closed (broken pipe)"))
    }

    /// Killed politely while reading (a pipe still open, as `tcpdump -w - | dnsflow -r -` is): what was read is
    /// written whole, and it says which signal stopped it.
    @Test(arguments: [SIGINT, SIGTERM, SIGHUP])
    func aSignalEndsTheRunWithWhatWasRead(signal: Int32) throws {
        let dir = try temporary()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (header, recs) = try records("dns.pcap")
        let p = Process()
        p.executableURL = dnsflowBinary
        p.arguments = ["-r", "-", "--csv", dir.appendingPathComponent("out.csv").path]
        let input = Pipe(), err = Pipe()
        p.standardInput = input
        p.standardOutput = FileHandle.nullDevice
        p.standardError = err
        try p.run()
        try input.fileHandleForWriting.write(contentsOf: header + recs.prefix(20).reduce(Data(), +))
        Thread.sleep(forTimeInterval: 0.5)
        kill(p.processIdentifier, signal)
        let e = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        try? input.fileHandleForWriting.close()
        #expect(p.terminationStatus == 0, "\(e)")
        let name = [SIGINT: "SIGINT", SIGTERM: "SIGTERM", SIGHUP: "SIGHUP"][signal]!
        #expect(e.contains("stopped by \(name) after 20 packets"), "\(e)")
        let csv = try String(contentsOf: dir.appendingPathComponent("out.csv"), encoding: .utf8)
        #expect(csv.split(separator: "\n").count > 1)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["out.csv"])
    }

    /// A capture whose writer is still at work (its last record half written) or that was cut: everything whole is
    /// read and written, the rest is reported, and the exit status says the input was cut (2).
    @Test func aCaptureStillBeingWrittenIsReadAsFarAsItGoes() throws {
        let dir = try temporary()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (header, recs) = try records("dns.pcap")
        let path = dir.appendingPathComponent("growing.pcap")
        try (header + recs.prefix(30).reduce(Data(), +) + recs[30].prefix(20)).write(to: path)
        let r = try runDNSFlow(["-r", path.path, "--csv", "-"])
        #expect(r.status == 2)
        #expect(r.stderr.contains("capture is cut off after 30 packets"), "\(r.stderr)")
        let whole = try runDNSFlow(["-r", fixturesDirectory.appendingPathComponent("captures/dns.pcap").path, "-c", "30", "--csv", "-"])
        #expect(r.stdout == whole.stdout, "the 30 whole records, as a capture of them alone gives")
    }

    /// A full disk while writing the CSV (an 8 KiB tmpfs; the CSV is 10 KB): the run stops, says why, and leaves no file — neither
    /// the CSV nor the other output nor a temporary. Needs root to mount.
    @Test(.enabled(if: getuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/bin/mount"), "needs root to mount a tmpfs"))
    func aFullDiskLeavesNoPartialFile() throws {
        let dir = try temporary()
        defer { try? FileManager.default.removeItem(at: dir) }
        let mount = try runProcess("/usr/bin/mount", ["-t", "tmpfs", "-o", "size=8k", "tmpfs", dir.path])
        try #require(mount.status == 0, "\(mount.stderr)")
        defer { _ = try? runProcess("/usr/bin/umount", [dir.path]) }
        let r = try runDNSFlow(["-r", fixturesDirectory.appendingPathComponent("captures/dns.pcap").path,
                                "--csv", dir.appendingPathComponent("out.csv").path,
                                "--flows-csv", dir.appendingPathComponent("flows.csv").path])
        #expect(r.status == 1)
        #expect(r.stderr.contains("No space left on device") && r.stderr.contains("nothing was left behind"), "\(r.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).isEmpty)
    }
}
