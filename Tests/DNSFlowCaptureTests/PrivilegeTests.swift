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

    func run(_ arguments: [String], in dir: URL, environment: [String: String] = [:],
             executable: String? = nil) throws -> CommandResult {
        var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("SUDO_") }
        env.merge(environment) { $1 }
        return try runProcess(executable ?? dnsflowBinary.path, arguments, currentDirectory: dir, environment: env)
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

    /// As root, `--csv /dev/stdout > out.csv` wrote a temporary file in /dev and renamed it over the system's
    /// `/dev/stdout` link (issue 20, item 1). Each case runs in a mount namespace of its own with a /dev of its own
    /// (tmpfs holding the usual links), so a regression damages only that copy; the real /dev is checked too.
    @Test(arguments: [
        // (arguments, the shell's redirections, the file the output must reach, the link that must stay)
        (["--csv", "/dev/stdout"], "> out.txt", "out.txt", "stdout"),
        (["--flows-csv", "/dev/stderr"], "> /dev/null 2> out.txt", "out.txt", "stderr"),
        (["--csv", "/dev/fd/1"], "> out.txt", "out.txt", "fd"),
        (["--csv", "/proc/self/fd/4"], "> /dev/null 4> out.txt", "out.txt", "stdout"),
        (["--csv", "-"], "> out.txt", "out.txt", "stdout"),
    ])
    func outputsNamingADescriptorAreWrittenThroughIt(_ args: [String], _ redirect: String, _ target: String, _ link: String) throws {
        let (dir, capture) = try workspace()
        defer { try? FileManager.default.removeItem(at: dir) }
        let realDevBefore = OutputFileProbe.standardNames()
        let command = ([dnsflowBinary.path, "-r", capture] + args).map { "'\($0)'" }.joined(separator: " ")
        let status = try runWithOwnDev("\(command) \(redirect)", link: link, in: dir)
        #expect(status == "status 0\nkept\n", "\(args): \(status)")
        let devAfter = try String(contentsOf: dir.appendingPathComponent("dev-after.txt"), encoding: .utf8)
        #expect(devAfter.split(separator: "\n").sorted() == ["fd", "null", "stderr", "stdin", "stdout"], "\(args): nothing left in /dev: \(devAfter)")
        let written = try String(contentsOf: dir.appendingPathComponent(target), encoding: .utf8)
        let expected = try run(["-r", capture, args[0], "-"], in: dir).stdout
        #expect(expected.hasPrefix(args[0] == "--flows-csv" ? "flow," : "time,proto,"))
        #expect(written == expected, "\(args): \(written.prefix(80))")
        #expect(OutputFileProbe.standardNames() == realDevBefore, "the real /dev is as it was")
    }

    /// An output appended to (`>>`) keeps what was there: written through the descriptor, never reopened from the start.
    @Test func anAppendedStandardOutputKeepsWhatWasThere() throws {
        let (dir, capture) = try workspace()
        defer { try? FileManager.default.removeItem(at: dir) }
        let realDevBefore = OutputFileProbe.standardNames()
        let out = dir.appendingPathComponent("log.txt")
        try "before\n".write(to: out, atomically: true, encoding: .utf8)
        let command = [dnsflowBinary.path, "-r", capture, "--csv", "/dev/stdout"].map { "'\($0)'" }.joined(separator: " ")
        let status = try runWithOwnDev("\(command) >> log.txt", link: "stdout", in: dir)
        #expect(status == "status 0\nkept\n", "\(status)")
        let text = try String(contentsOf: out, encoding: .utf8)
        #expect(text.hasPrefix("before\ntime,proto,"))
        #expect(OutputFileProbe.standardNames() == realDevBefore, "the real /dev is as it was")
    }

    /// Runs a shell command line in a mount namespace of its own whose /dev is a tmpfs holding the usual links (and
    /// /dev/null), so that a command that damaged /dev damages only that copy. Returns `status N` and, when
    /// /dev/LINK is still a link afterwards, `kept`; `dev-after.txt` in `dir` lists that /dev afterwards.
    func runWithOwnDev(_ commandLine: String, link: String, in dir: URL) throws -> String {
        let script = """
            set -e
            mount -t tmpfs dnsflow-test-dev /dev
            mknod -m 666 /dev/null c 1 3
            ln -s /proc/self/fd /dev/fd
            ln -s /proc/self/fd/0 /dev/stdin
            ln -s /proc/self/fd/1 /dev/stdout
            ln -s /proc/self/fd/2 /dev/stderr
            set +e
            \(commandLine)
            echo "status $?" > status.txt
            ls -A /dev > dev-after.txt
            test -L /dev/\(link) && echo kept >> status.txt
            """
        let r = try run(["--mount", "--propagation", "private", "sh", "-c", script], in: dir, executable: "/usr/bin/unshare")
        guard let status = try? String(contentsOf: dir.appendingPathComponent("status.txt"), encoding: .utf8) else {
            Issue.record("the namespace did not run: \(r.stderr)")
            return ""
        }
        return status
    }

    /// A name of a descriptor that is not open, or that names none, is refused before anything is read.
    @Test func aClosedOrMalformedDescriptorNameIsRefused() throws {
        let (dir, capture) = try workspace()
        defer { try? FileManager.default.removeItem(at: dir) }
        var r = try run(["-r", capture, "--csv", "/proc/self/fd/7"], in: dir)
        #expect(r.status == 1 && r.stderr.contains("/proc/self/fd/7: descriptor 7 is not open"), "\(r.stderr)")
        r = try run(["-r", capture, "--csv", "/dev/fd/x"], in: dir)
        #expect(r.status == 1 && r.stderr.contains("/dev/fd/x: names no open descriptor"), "\(r.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: "/dev").filter { $0.contains(".part") }.isEmpty)
    }
}

/// lstat, for the checks above.
enum OutputFileProbe {
    /// What the machine's /dev/stdout, /dev/stderr, /dev/stdin and /dev/fd are (a link and where it points, another
    /// kind of file, or absent: some machines have no /dev/stdout), compared before and after a run: a run must leave
    /// them as they were, whatever they were.
    static func standardNames() -> [String: String] {
        var names: [String: String] = [:]
        for name in ["stdout", "stderr", "stdin", "fd"] {
            let path = "/dev/" + name
            var st = stat()
            if lstat(path, &st) != 0 {
                names[name] = "absent"
            } else if st.st_mode & S_IFMT == S_IFLNK {
                names[name] = "link to " + ((try? FileManager.default.destinationOfSymbolicLink(atPath: path)) ?? "?")
            } else {
                names[name] = "mode \(st.st_mode) inode \(st.st_ino) size \(st.st_size)"
            }
        }
        return names
    }
}
