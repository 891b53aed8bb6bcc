import DNSFlowCore
import Foundation
import Testing

/// Giving up root once the capture is open (`-Z USER`, and by default the user who ran sudo), files created as that
/// user, and outputs never written through a planted symbolic link. Needs root and the `nobody` account.
@Suite("Privileges and output files", .enabled(if: getuid() == 0 && getpwnam("nobody") != nil, "needs root and user nobody"),
       .serialized)
struct PrivilegeTests {
    let nobody = getpwnam("nobody")!.pointee.pw_uid

    /// A directory anyone may write (as /tmp is), holding a capture only root may read.
    func workspace() throws -> (URL, String) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("dnsflow-priv-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        chmod(dir.path, 0o1777)
        let capture = dir.appendingPathComponent("root-only.pcap").path
        try FileManager.default.copyItem(atPath: fixturesDirectory.appendingPathComponent("captures/dns.pcap").path, toPath: capture)
        chmod(capture, 0o600)
        return (dir, capture)
    }

    func run(_ arguments: [String], in dir: URL, environment: [String: String] = [:]) throws -> CommandResult {
        let p = Process()
        p.executableURL = dnsflowBinary
        p.arguments = arguments
        p.currentDirectoryURL = dir
        var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("SUDO_") }
        env.merge(environment) { $1 }
        p.environment = env
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return CommandResult(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self),
                             stderr: String(decoding: e, as: UTF8.self))
    }

    func owner(_ url: URL) -> uid_t? {
        var st = stat()
        return lstat(url.path, &st) == 0 ? st.st_uid : nil
    }

    /// `-Z nobody`: the root-only capture is still read whole (opened before), the CSV is nobody's.
    @Test func dashZDropsRootAfterOpeningTheCapture() throws {
        let (dir, capture) = try workspace()
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try run(["-r", capture, "-Z", "nobody", "--csv", "out.csv"], in: dir)
        #expect(r.status == 0, "\(r.stderr)")
        let out = dir.appendingPathComponent("out.csv")
        #expect(owner(out) == nobody)
        #expect(try String(contentsOf: out, encoding: .utf8).split(separator: "\n").count == 42)
        // Nobody cannot open the capture (root's, mode 0600): its 41 exchanges were read because the drop came after.
        var st = stat()
        #expect(stat(capture, &st) == 0 && st.st_uid == 0 && st.st_mode & 0o077 == 0)
    }

    /// Started by sudo (its variables set), dnsflow becomes the user who ran it; `-Z root` keeps root.
    @Test func sudoDropsToTheInvokingUserByDefault() throws {
        let (dir, capture) = try workspace()
        defer { try? FileManager.default.removeItem(at: dir) }
        let sudo = ["SUDO_UID": String(nobody), "SUDO_GID": String(getpwnam("nobody")!.pointee.pw_gid), "SUDO_USER": "nobody"]
        var r = try run(["-r", capture, "--csv", "sudo.csv"], in: dir, environment: sudo)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(owner(dir.appendingPathComponent("sudo.csv")) == nobody)
        r = try run(["-r", capture, "-Z", "root", "--csv", "kept.csv"], in: dir, environment: sudo)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(owner(dir.appendingPathComponent("kept.csv")) == 0)
        r = try run(["-r", capture, "--csv", "plain.csv"], in: dir)
        #expect(owner(dir.appendingPathComponent("plain.csv")) == 0, "root without sudo or -Z stays root, as tcpdump")
    }

    @Test func anUnknownUserStopsBeforeAnyOutput() throws {
        let (dir, capture) = try workspace()
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try run(["-r", capture, "-Z", "no-such-user-here", "--csv", "out.csv"], in: dir)
        #expect(r.status != 0)
        #expect(r.stderr.contains("-Z no-such-user-here: no such user"))
        #expect(owner(dir.appendingPathComponent("out.csv")) == nil)
    }

    /// A link planted where the output goes is refused and what it points to is untouched; the usual names of
    /// standard output still work.
    @Test func outputsAreNeverWrittenThroughAPlantedLink() throws {
        let (dir, capture) = try workspace()
        defer { try? FileManager.default.removeItem(at: dir) }
        let victim = dir.appendingPathComponent("victim")
        try "precious\n".write(to: victim, atomically: true, encoding: .utf8)
        for (flag, name) in [("--csv", "planted.csv"), ("--flows-csv", "planted-flows.csv")] {
            try FileManager.default.createSymbolicLink(atPath: dir.appendingPathComponent(name).path, withDestinationPath: victim.path)
            let r = try run(["-r", capture, flag, name], in: dir)
            #expect(r.status != 0 && r.stderr.contains("is a symbolic link"), "\(r.stderr)")
        }
        #expect(try String(contentsOf: victim, encoding: .utf8) == "precious\n")
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.contains(".part") }
        #expect(leftovers.isEmpty)
        let r = try run(["-r", capture, "--csv", "/dev/stdout"], in: dir)
        #expect(r.status == 0 && r.stdout.hasPrefix("time,proto"))
    }
}
