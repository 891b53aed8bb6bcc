import CNcurses
#if canImport(Glibc)
import Glibc
#endif

/// The terminal, through ncurses: set up on init, restored by `close()` (also from every error path). It paints
/// canvases and reads keys and clicks; it knows nothing of DNS. Keys come from the controlling terminal
/// (`/dev/tty`) when standard input is a pipe (`-r -`).
public final class Terminal {
    public enum Input: Sendable {
        case key(String)
        case mouse(App.Mouse)
    }

    private var isOpen = false
    private let screen: OpaquePointer
    private let input: UnsafeMutablePointer<FILE>
    private let ownsInput: Bool
    /// Colours off: NO_COLOR set, or a terminal without them (`TERM=vt100`); reverse and bold carry the bars.
    public let usesColour: Bool

    /// The release tarball carries the terminal descriptions the interface needs (`share/terminfo` beside `bin/`), for
    /// an empty container or a node without them: searched after the system's, unless TERMINFO or TERMINFO_DIRS says
    /// otherwise.
    static func useBundledTerminfo() {
        guard getenv("TERMINFO") == nil, getenv("TERMINFO_DIRS") == nil else { return }
        var buffer = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        // Without /proc (a bare chroot), the path it was started by.
        let exe = n > 0 ? String(decoding: buffer[..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self) : CommandLine.arguments.first ?? ""
        guard let slash = exe.lastIndex(of: "/") else { return }
        let bundled = String(exe[..<slash]) + "/../share/terminfo"
        var st = stat()
        guard stat(bundled, &st) == 0, st.st_mode & S_IFMT == S_IFDIR else { return }
        // An empty entry is ncurses' compiled-in default list (the system's).
        setenv("TERMINFO_DIRS", ":" + bundled, 1)
    }

    public struct OpenError: Error, CustomStringConvertible {
        public var description: String
    }

    public init() throws(OpenError) {
        dnsflow_set_locale()
        Terminal.useBundledTerminfo()
        if isatty(0) != 0 {
            input = dnsflow_stdin()
            ownsInput = false
        } else {
            guard let tty = fopen("/dev/tty", "r") else {
                throw OpenError(description: "no terminal to read keys from (/dev/tty: \(String(cString: strerror(errno)))); use --csv, --summary or pipe the output")
            }
            input = tty
            ownsInput = true
        }
        guard let screen = newterm(nil, dnsflow_stdout(), input) else {
            if ownsInput { fclose(input) }
            throw OpenError(description: "cannot use the terminal (TERM=\(String(cString: getenv("TERM") ?? strdup("")))); try TERM=xterm")
        }
        self.screen = screen
        dnsflow_install_crash_restore()
        set_escdelay(25)
        cbreak()
        noecho()
        nonl()
        keypad(dnsflow_stdscr(), true)
        curs_set(0)
        // Home and End as tmux, screen, rxvt and the Linux console send them, whatever TERM's description says.
        for (sequence, key) in [("\u{1b}[1~", KEY_HOME), ("\u{1b}[4~", KEY_END), ("\u{1b}[7~", KEY_HOME), ("\u{1b}[8~", KEY_END),
                                ("\u{1b}[H", KEY_HOME), ("\u{1b}[F", KEY_END), ("\u{1b}OH", KEY_HOME), ("\u{1b}OF", KEY_END)] {
            define_key(sequence, key)
        }
        mousemask(dnsflow_mouse_all(), nil)
        mouseinterval(0)
        let noColour = getenv("NO_COLOR").map { $0.pointee != 0 } ?? false
        usesColour = !noColour && has_colors()
        if usesColour {
            start_color()
            use_default_colors()
            for (i, role) in Role.allCases.enumerated() {
                let (fg, bg) = Terminal.colours(role)
                init_pair(Int16(i + 1), fg, bg)
            }
        }
        isOpen = true
    }

    deinit { close() }

    /// Restores the terminal (idempotent).
    public func close() {
        guard isOpen else { return }
        isOpen = false
        endwin()
        delscreen(screen)
        if ownsInput { fclose(input) }
    }

    public var size: (width: Int, height: Int) { (Int(dnsflow_cols()), Int(dnsflow_lines())) }

    /// One place for colours: role → (foreground, background); -1 is the terminal's default.
    static func colours(_ role: Role) -> (Int16, Int16) {
        switch role {
        case .normal, .message: return (-1, -1)
        case .dim: return (Int16(COLOR_BLUE) + 8, -1)
        case .title: return (Int16(COLOR_CYAN), -1)
        case .header, .footer, .tab: return (Int16(COLOR_BLACK), Int16(COLOR_CYAN))
        case .footerKey, .tabActive: return (Int16(COLOR_BLACK), Int16(COLOR_WHITE))
        case .selected: return (Int16(COLOR_BLACK), Int16(COLOR_YELLOW))
        case .marked: return (Int16(COLOR_MAGENTA), -1)
        case .pairOK, .latencyFast: return (Int16(COLOR_GREEN), -1)
        case .pairRetried, .latencySlow, .retry: return (Int16(COLOR_YELLOW), -1)
        case .pairPartial, .finding: return (Int16(COLOR_MAGENTA), -1)
        case .pairFailed, .unanswered, .latencyTimeout, .rcodeError: return (Int16(COLOR_RED), -1)
        case .pairSingle: return (-1, -1)
        }
    }

    private func attributes(_ role: Role) -> Int32 {
        var a: Int32 = 0
        if usesColour, let index = Role.allCases.firstIndex(of: role) {
            a = dnsflow_color_pair(Int32(index + 1))
        } else {
            switch role {
            case .selected, .header, .footer, .tab: a |= dnsflow_attr_reverse()
            case .footerKey, .tabActive, .unanswered, .latencyTimeout, .pairFailed: a |= dnsflow_attr_bold()
            case .marked: a |= dnsflow_attr_bold()
            case .dim: a |= dnsflow_attr_dim()
            default: break
            }
        }
        if role == .title || role == .header || role == .tabActive { a |= dnsflow_attr_bold() }
        return a
    }

    /// Paints a canvas (same size as the screen) and refreshes; ncurses sends only what changed.
    public func paint(_ canvas: Canvas) {
        erase()
        // Each run of one role goes to the terminal as one C string, its cells' UTF-8 put together in one buffer.
        var text: [CChar] = []
        text.reserveCapacity(4 * canvas.width + 1)
        for y in 0..<canvas.height {
            var x = 0
            for (role, count) in canvas.roles(row: y) {
                text.removeAll(keepingCapacity: true)
                for column in x..<(x + count) {
                    for byte in canvas.cell(column, y).character.utf8 { text.append(CChar(bitPattern: byte)) }
                }
                text.append(0)
                let a = attributes(role)
                attron(a)
                mvaddstr(Int32(y), Int32(x), text)
                attroff(a)
                x += count
            }
        }
        refresh()
    }

    /// The next key (a name from the key table: `Up`, `Enter`, `q`, …) or click, waiting at most `milliseconds`.
    public func read(milliseconds: Int32) -> Input? {
        timeout(milliseconds)
        var ch: wint_t = 0
        let status = get_wch(&ch)
        if status == ERR { return nil }
        if status == KEY_CODE_YES {
            switch Int32(ch) {
            case KEY_UP: return .key("Up")
            case KEY_DOWN: return .key("Down")
            case KEY_PPAGE: return .key("PgUp")
            case KEY_NPAGE: return .key("PgDn")
            case KEY_HOME: return .key("Home")
            case KEY_END: return .key("End")
            case KEY_LEFT: return .key("Left")
            case KEY_RIGHT: return .key("Right")
            case KEY_ENTER: return .key("Enter")
            case KEY_RESIZE: return .key("Resize")
            case KEY_BACKSPACE: return .key("Backspace")
            case KEY_BTAB: return .key("BackTab")
            case KEY_F0 + 1: return .key("F1")
            case KEY_MOUSE:
                var event = MEVENT()
                guard getmouse(&event) == OK else { return nil }
                let x = Int(event.x), y = Int(event.y)
                switch dnsflow_mouse_kind(event.bstate) {
                case 1: return .mouse(.click(x: x, y: y))
                case 4: return .mouse(.wheelUp(x: x, y: y))
                case 5: return .mouse(.wheelDown(x: x, y: y))
                default: return nil
                }
            default: return nil
            }
        }
        switch ch {
        case 10, 13: return .key("Enter")
        case 27: return .key("Esc")
        case 32: return .key("Space")
        case 9: return .key("Tab")
        case 8, 127: return .key("Backspace")
        case 21: return .key("Ctrl-U")
        case 3: return .key("Ctrl-C")
        default:
            guard ch >= 32, let scalar = Unicode.Scalar(UInt32(ch)) else { return nil }
            return .key(String(Character(scalar)))
        }
    }
}
