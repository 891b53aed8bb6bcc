import Foundation
import Testing

/// Overwriting an output keeps the file's mode and owner: a 0600 file of another user stays theirs and 0600 (before,
/// it became a root-owned 0644 file). Root is needed to give the file to another user.
@Suite("Output files: their attributes kept, a FIFO without a reader, none left behind")
struct OutputAttributesTests {
    @Test(.enabled(if: geteuid() == 0, "needs root to make a file of another user"))
    func anOverwrittenOutputKeepsItsModeAndOwner() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("attrs-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("theirs.csv").path
        #expect(FileManager.default.createFile(atPath: out, contents: Data("old\n".utf8)))
        #expect(chown(out, 65534, 65534) == 0 && chmod(out, 0o600) == 0)
        let r = try runDNSFlow(["-r", labFixtures.appendingPathComponent("race-5s/pod.pcap").path, "--csv", out, "-Z", "root"])
        #expect(r.status == 0, "\(r.stderr)")
        var st = stat()
        #expect(stat(out, &st) == 0)
        #expect(st.st_mode & 0o7777 == 0o600, "mode \(String(st.st_mode & 0o7777, radix: 8))")
        #expect(st.st_uid == 65534 && st.st_gid == 65534, "owner \(st.st_uid):\(st.st_gid)")
        #expect(try String(contentsOfFile: out, encoding: .utf8).hasPrefix("time,proto"))
        // A new file: 0666 less the umask.
        let new = dir.appendingPathComponent("new.csv").path
        // (The umask set in a shell of its own: this process's is shared by every test running beside this one.)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        p.arguments = ["-c", "umask 077; exec \"$0\" -r \"$1\" --csv \"$2\" -Z root", dnsflowBinary.path,
                       labFixtures.appendingPathComponent("race-5s/pod.pcap").path, new]
        try p.run()
        p.waitUntilExit()
        #expect(p.terminationStatus == 0)
        #expect(stat(new, &st) == 0 && st.st_mode & 0o777 == 0o600, "new file mode \(String(st.st_mode & 0o777, radix: 8))")
    }

    /// `--csv good.csv --flows-csv FIFO` with nobody reading the FIFO: a clear error at once (it blocked in open(2)
    /// before, and Ctrl-C then left good.csv.part-PID behind), and nothing left beside good.csv.
    @Test(hangLimit)
    func aFIFONobodyReadsIsRefusedAndNothingIsLeft() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fifo-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let fifo = dir.appendingPathComponent("flows").path
        #expect(mkfifo(fifo, 0o600) == 0)
        let r = try runDNSFlow(["-r", labFixtures.appendingPathComponent("race-5s/pod.pcap").path,
                                "--csv", dir.appendingPathComponent("good.csv").path, "--flows-csv", fifo])
        #expect(r.status == 1)
        #expect(r.stderr.contains("a FIFO nobody reads"), "\(r.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["flows"], "left behind")
    }
}
