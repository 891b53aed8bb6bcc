import DNSFlowTUI
import Foundation
import Testing

let tmuxPath = ["/usr/bin/tmux", "/bin/tmux"].first { FileManager.default.isExecutableFile(atPath: $0) }

/// glibc's `posix_spawn_file_actions_addclosefrom_np` (2.34 and later; Swift's Glibc module does not declare it).
let spawnCloseFrom: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32)? =
    dlsym(nil, "posix_spawn_file_actions_addclosefrom_np").map { unsafeBitCast($0, to: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32).self) }

/// A private tmux server (its own socket), so that tests never touch the user's sessions.
struct Tmux {
    let socket = "dnsflow-test-\(getpid())-\(UUID().uuidString.prefix(6))"
    let session = "t"

    /// Runs a tmux command (posix_spawn and waitpid: Foundation's Process can miss the exit of a client whose
    /// server forked off it). Only commands that print are read: the server holds inherited pipes open for ever.
    /// The child keeps only its standard descriptors: a server started here would otherwise hold, until it is killed,
    /// the pipes other tests in this process had open at that moment (Foundation's `Pipe` is not close-on-exec), and
    /// those tests would wait for an end of file that does not come.
    @discardableResult
    func run(_ args: [String], reads: Bool = true) throws -> String {
        let argv = [tmuxPath!, "-L", socket, "-f", "/dev/null"] + args
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        var fds: [Int32] = [-1, -1]
        if reads {
            guard pipe(&fds) == 0 else { throw POSIXError(.EMFILE) }
            posix_spawn_file_actions_adddup2(&actions, fds[1], 1)
        } else {
            posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        }
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        guard let closeFrom = spawnCloseFrom, closeFrom(&actions, 3) == 0 else { throw POSIXError(.ENOSYS) }
        var cArgs = argv.map { strdup($0) } + [nil]
        defer { for a in cArgs { free(a) } }
        var pid: pid_t = 0
        let status = posix_spawn(&pid, argv[0], &actions, nil, &cArgs, environ)
        if reads { close(fds[1]) }
        guard status == 0 else { throw POSIXError(POSIXErrorCode(rawValue: status) ?? .EINVAL) }
        var output: [UInt8] = []
        if reads {
            var buffer = [UInt8](repeating: 0, count: 65536)
            while true {
                let n = read(fds[0], &buffer, buffer.count)
                if n <= 0 { break }
                output += buffer[0..<n]
            }
            close(fds[0])
        }
        var code: Int32 = 0
        waitpid(pid, &code, 0)
        return String(decoding: output, as: UTF8.self)
    }

    func start(_ command: String, width: Int = 100, height: Int = 24, environment: String = "TERM=xterm-256color") throws {
        try run(["new-session", "-d", "-s", session, "-x", String(width), "-y", String(height),
                 "env -u NO_COLOR \(environment) sh -c '\(command)'; echo EXITED $?; sleep 30"], reads: false)
    }

    func screen(colours: Bool = false) throws -> String {
        try run(["capture-pane", "-p", "-t", session] + (colours ? ["-e"] : []))
    }

    func keys(_ keys: String...) throws { try run(["send-keys", "-t", session] + keys, reads: false) }

    /// Waits until the screen contains `text` (or 5 s pass); returns the screen.
    @discardableResult
    func wait(for text: String, timeout: Double = 5) throws -> String {
        var screen = ""
        let deadline = Date().addingTimeInterval(timeout)
        repeat {
            screen = try self.screen()
            if screen.contains(text) { return screen }
            Thread.sleep(forTimeInterval: 0.05)
        } while Date() < deadline
        return screen
    }

    func stop() { _ = try? run(["kill-server"], reads: false) }
}

let binary = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent().appendingPathComponent("dnsflow").path

/// The real binary in a real terminal (tmux): markers, colours, screens, marks and export, and the terminal
/// restored on quit.
@Suite("The interface in a real terminal", .enabled(if: tmuxPath != nil, "needs tmux"), .serialized)
struct TerminalTests {
    @Test func pairsRetriesScreensExportAndQuit() throws {
        let tmux = Tmux()
        defer { tmux.stop() }
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let capture = root.appendingPathComponent("Fixtures/lab/race-10s/pod.pcap").path
        try tmux.start("cd \(dir.path) && \(binary) -r \(capture)")
        var screen = try tmux.wait(for: "[offline]")
        #expect(screen.contains("┌r"))
        #expect(screen.contains("↻2 +5.00s"))
        #expect(screen.contains("✗ no answer"))
        // Colour: the pair marker in yellow (retried), the unanswered cell in red.
        let coloured = try tmux.screen(colours: true)
        #expect(coloured.contains("\u{1b}[33m┌r"), "retried pair in yellow")
        #expect(coloured.contains("\u{1b}[31m✗ no answer"), "unanswered in red")
        for (key, title) in [("2", "CLIENT → SERVER"), ("3", "WAITED"), ("4", "FINDINGS"), ("1", "LATENCY")] {
            try tmux.keys(key)
            #expect(try tmux.wait(for: title).contains(title), "screen \(key)")
        }
        try tmux.keys("?")
        #expect(try tmux.wait(for: "Everywhere").contains("previous row"))
        try tmux.keys("Escape")
        // Flat view, mark two rows, export them.
        try tmux.keys("g", "Down", "Space", "Space", "e")
        screen = try tmux.wait(for: "export 2 marked rows")
        #expect(screen.contains("export 2 marked rows"))
        try tmux.keys("Enter")
        screen = try tmux.wait(for: "wrote 2 rows")
        #expect(screen.contains("wrote 2 rows"))
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".csv") }
        #expect(files.count == 1)
        if let f = files.first {
            let csv = try String(contentsOfFile: dir.appendingPathComponent(f).path, encoding: .utf8)
            #expect(csv.split(separator: "\n").count == 3)
        }
        try tmux.keys("q")
        screen = try tmux.wait(for: "EXITED")
        #expect(screen.contains("EXITED 0"))
        #expect(!screen.contains("[offline]"), "the terminal is restored")
    }

    /// The tmux server the tests start holds none of this process's other descriptors: an open pipe of another test
    /// (here one made the same way, by Foundation) is not among the server's, so that test's read still ends.
    @Test func aTmuxServerHoldsNoPipeOfTheTests() throws {
        let pipe = Pipe()
        defer { try? pipe.fileHandleForReading.close(); try? pipe.fileHandleForWriting.close() }
        let tmux = Tmux()
        defer { tmux.stop() }
        try tmux.start("sleep 30")
        let server = try tmux.run(["display-message", "-p", "-t", tmux.session, "#{pid}"])
            .trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(Int(server) != nil, "server pid: \(server)")
        let held = try FileManager.default.contentsOfDirectory(atPath: "/proc/\(server)/fd").compactMap {
            try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(server)/fd/\($0)")
        }
        let ours = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\(pipe.fileHandleForWriting.fileDescriptor)")
        #expect(held.contains { $0.hasPrefix("/dev/") }, "the server's descriptors were read: \(held)")
        #expect(!held.contains(ours), "the server holds \(ours): \(held)")
    }

    @Test func monochromeLosesNothing() throws {
        let tmux = Tmux()
        defer { tmux.stop() }
        let capture = root.appendingPathComponent("Fixtures/lab/race-5s/pod.pcap").path
        try tmux.start("\(binary) -r \(capture)", environment: "NO_COLOR=1 TERM=xterm-256color")
        let screen = try tmux.wait(for: "[offline]")
        #expect(screen.contains("┌r") && screen.contains("↻2 +5.00s") && screen.contains("✗ no answer"))
        let coloured = try tmux.screen(colours: true)
        #expect(!coloured.contains("\u{1b}[31m") && !coloured.contains("\u{1b}[33m"), "no colours with NO_COLOR")
        try tmux.keys("q")
        #expect(try tmux.wait(for: "EXITED").contains("EXITED 0"))
    }

    @Test func capturePipedOnStdinReadsKeysFromTheTerminal() throws {
        let tmux = Tmux()
        defer { tmux.stop() }
        let capture = root.appendingPathComponent("Fixtures/lab/race-5s/pod.pcap").path
        try tmux.start("cat \(capture) | \(binary) -r -")
        #expect(try tmux.wait(for: "[offline]").contains("↻2 +5.00s"))
        try tmux.keys("2")
        #expect(try tmux.wait(for: "CLIENT → SERVER").contains("CLIENT → SERVER"))
        try tmux.keys("q")
        #expect(try tmux.wait(for: "EXITED").contains("EXITED 0"))
    }

    @Test func resizeAndSignalsRestoreTheTerminal() throws {
        let tmux = Tmux()
        defer { tmux.stop() }
        let capture = root.appendingPathComponent("Fixtures/lab/race-5s/pod.pcap").path
        try tmux.start("\(binary) -r \(capture)")
        try tmux.wait(for: "[offline]")
        try tmux.run(["resize-window", "-t", tmux.session, "-x", "50", "-y", "10"], reads: false)
        #expect(try tmux.wait(for: "too small").contains("Terminal too small"))
        try tmux.run(["resize-window", "-t", tmux.session, "-x", "120", "-y", "30"], reads: false)
        #expect(try tmux.wait(for: "[offline]").contains("↻2"))
        try tmux.keys("C-c")
        let screen = try tmux.wait(for: "EXITED")
        #expect(screen.contains("EXITED"))
        #expect(!screen.contains("[offline]"))
    }

    /// A capture cut mid-record: the interface shows what was read and says so; on quit, stderr says it again and
    /// the exit status is 2, as in batch mode.
    @Test func aCutOffCaptureIsShownAndReported() throws {
        let tmux = Tmux()
        defer { tmux.stop() }
        let capture = root.appendingPathComponent("Fixtures/captures/dns-cut-mid-record.pcap").path
        try tmux.start("\(binary) -r \(capture)", width: 250)
        let screen = try tmux.wait(for: "cut off")
        #expect(screen.contains("capture is cut off after 20 packets; showing what was read"))
        #expect(screen.contains("[offline]"))
        try tmux.keys("q")
        let after = try tmux.wait(for: "EXITED")
        #expect(after.contains("capture is cut off after 20 packets (libpcap:"))
        #expect(after.contains("EXITED 2"))
    }

    @Test func replayPlaysAtTheRecordedPace() throws {
        let tmux = Tmux()
        defer { tmux.stop() }
        let capture = root.appendingPathComponent("Fixtures/lab/race-5s/pod.pcap").path
        // The re-sends come 5 s after the first queries: at ×10 about 0.5 s later, not at once.
        try tmux.start("\(binary) -r \(capture) --replay 10")
        let first = try tmux.wait(for: "web.default")
        #expect(first.contains("[replay ×10]"))
        #expect(!first.contains("↻2"), "the re-send is not there yet")
        #expect(try tmux.wait(for: "↻2 +5.00s").contains("↻2 +5.00s"))
        try tmux.keys("q")
        #expect(try tmux.wait(for: "EXITED").contains("EXITED 0"))
    }

    /// Names and TXT strings carrying terminal commands (set the title, clear the screen, colour, 8-bit CSI), control
    /// characters, invalid UTF-8 and a bidi override are shown escaped in the list and in Detail: the title stays,
    /// the screen is not cleared, nothing turns red that dnsflow did not paint.
    @Test func hostileNamesAreShownEscaped() throws {
        let tmux = Tmux()
        defer { tmux.stop() }
        let capture = root.appendingPathComponent("Fixtures/captures/hostile-text.pcap").path
        try tmux.start("\(binary) -r \(capture)", width: 160, height: 30)
        var screen = try tmux.wait(for: "[offline]")
        #expect(screen.contains(#"\027]0\;pwned\007.\027[2J\027[31mred.evil"#), "the title/clear/colour name, escaped")
        #expect(screen.contains(#"\226\128\174gnp.example"#), "the bidi override, escaped")
        #expect(screen.contains(#"\009TAB.\013CR.\127DEL"#))
        let title = try tmux.run(["display-message", "-p", "-t", tmux.session, "#{pane_title}"])
        #expect(!title.contains("pwned") && !title.contains("title"), "pane title: \(title)")
        let coloured = try tmux.screen(colours: true)
        #expect(!coloured.contains("\u{1b}[31mred"), "no colour from the wire")
        // Detail of the TXT answer: every string escaped, the formula left as text.
        try tmux.keys("g", "Home", "Down", "Enter")
        _ = try tmux.wait(for: "Detail —")
        try tmux.keys("Down", "Down", "Down", "Down", "Down", "Down", "Down", "Down", "Down", "Down")
        screen = try tmux.wait(for: "IN TXT \"")
        #expect(screen.contains(#"\027]2\059title\007"#) && screen.contains(#"\15531m"#) && screen.contains(#"\255\254"#),
                "Detail: \(screen)")
        let titleAfter = try tmux.run(["display-message", "-p", "-t", tmux.session, "#{pane_title}"])
        #expect(!titleAfter.contains("title") && !titleAfter.contains("pwned"))
        try tmux.keys("Escape", "q")
        #expect(try tmux.wait(for: "EXITED").contains("EXITED 0"))
    }

    /// SIGHUP (the ssh session went away), SIGTERM (a service manager) and SIGQUIT (Ctrl-\, where the Swift runtime
    /// would print a crash report over the screen and go on): the interface gives the terminal back and says what
    /// stopped it.
    @Test(arguments: ["HUP", "TERM", "QUIT"])
    func signalsEndTheInterfaceCleanly(signal: String) throws {
        let tmux = Tmux()
        defer { tmux.stop() }
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let capture = root.appendingPathComponent("Fixtures/lab/race-5s/pod.pcap").path
        try tmux.start("\(binary) -r \(capture) 2>\(dir.path)/stderr.txt")
        try tmux.wait(for: "[offline]")
        let pids = try tmux.run(["display-message", "-p", "-t", tmux.session, "#{pane_pid}"])
        // The pane runs sh, which runs dnsflow: its child.
        let shell = try #require(Int32(pids.trimmingCharacters(in: .whitespacesAndNewlines)))
        let children = (try? String(contentsOfFile: "/proc/\(shell)/task/\(shell)/children", encoding: .utf8)) ?? ""
        var target = children.split(separator: " ").compactMap { Int32($0) }.first
        // env and sh -c exec: the child may be one level further down.
        if let t = target, let grand = (try? String(contentsOfFile: "/proc/\(t)/task/\(t)/children", encoding: .utf8))?
            .split(separator: " ").compactMap({ Int32($0) }).first,
           (try? String(contentsOfFile: "/proc/\(grand)/comm", encoding: .utf8))?.hasPrefix("dnsflow") == true { target = grand }
        let pid = try #require(target)
        #expect(kill(pid, ["HUP": SIGHUP, "TERM": SIGTERM, "QUIT": SIGQUIT][signal]!) == 0)
        let screen = try tmux.wait(for: "EXITED")
        #expect(screen.contains("EXITED 0"))
        #expect(!screen.contains("[offline]"), "the terminal is restored")
        let stderr = try String(contentsOfFile: dir.path + "/stderr.txt", encoding: .utf8)
        #expect(stderr.contains("stopped by SIG\(signal)"), "\(stderr)")
        #expect(!stderr.contains("Crash") && !stderr.contains("backtrace") && !screen.contains("Crash"), "no crash report: \(stderr)")
    }

    /// The capture file cut after it was read: Detail says its packets cannot be read again and shows what the row
    /// kept, instead of wrong places and sizes.
    @Test func detailAfterTheFileWasCut() throws {
        let tmux = Tmux()
        defer { tmux.stop() }
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let capture = dir.appendingPathComponent("cut-later.pcap").path
        try FileManager.default.copyItem(atPath: root.appendingPathComponent("Fixtures/captures/dns.pcap").path, toPath: capture)
        try tmux.start("\(binary) -r \(capture)", width: 140, height: 40)
        try tmux.wait(for: "[offline]")
        #expect(truncate(capture, 30) == 0)
        try tmux.keys("g", "End", "Enter")
        let screen = try tmux.wait(for: "not readable again")
        #expect(screen.contains("packet not readable again"), "\(screen)")
        #expect(!screen.contains("input -1"))
        try tmux.keys("Escape", "q")
        #expect(try tmux.wait(for: "EXITED").contains("EXITED 0"))
    }
}
