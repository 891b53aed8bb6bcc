/// A scrolling page of styled lines: the Detail and Help screens.
public struct TextScreen {
    public var title: String
    public private(set) var lines: [StyledLine]
    public private(set) var top = 0

    public init(title: String, lines: [StyledLine]) {
        self.title = title
        self.lines = lines
    }

    @discardableResult
    public mutating func perform(_ action: Action, page: Int) -> Bool {
        let last = max(0, lines.count - page)
        switch action {
        case .up: top = max(0, top - 1)
        case .down: top = min(last, top + 1)
        case .pageUp: top = max(0, top - max(1, page - 1))
        case .pageDown: top = min(last, top + max(1, page - 1))
        case .home: top = 0
        case .end: top = last
        default: return false
        }
        return true
    }

    public func render(into canvas: inout Canvas, y0: Int, height: Int) {
        let w = canvas.width
        let position = lines.count > height - 1 ? "  lines \(top + 1)–\(min(lines.count, top + height - 1)) of \(lines.count)" : ""
        canvas.put(0, y0, pad(" " + title + position, w), .header)
        canvas.paintRow(y0, .header)
        for (row, i) in (top..<min(lines.count, top + height - 1)).enumerated() {
            lines[i].draw(into: &canvas, x: 1, y: y0 + 1 + row)
        }
    }
}

public enum HelpText {
    /// Every key, from the table the key handling uses, screen by screen; then the filter's syntax.
    public static var lines: [StyledLine] {
        var out: [StyledLine] = []
        let groups: [(String, (KeyBinding) -> Bool)] = [
            ("Everywhere", { $0.screens == nil }),
            ("Queries", { $0.screens?.contains(.queries) == true }),
            ("Flows", { $0.screens?.contains(.flows) == true }),
            ("Timeline", { $0.screens?.contains(.timeline) == true }),
            ("Findings", { $0.screens?.contains(.findings) == true }),
        ]
        for (title, belongs) in groups {
            out.append(StyledLine(title, .title))
            for b in KeyBindings.table where belongs(b) {
                let keys = b.keys.joined(separator: " ")
                out.append(StyledLine(runs: [.init(text: "  ", role: .normal), .init(text: keys, role: .title), .init(text: String(repeating: " ", count: max(1, 12 - keys.count)) + "  " + b.help, role: .normal)]))
            }
            out.append(StyledLine(""))
        }
        out.append(StyledLine("Latency and waited", .title))
        out.append(StyledLine("  latency  one query: from its packet to its answer's (>100ms, s: latency)"))
        out.append(StyledLine("  waited   what the application waited: its lookup, the whole search-list walk of one"))
        out.append(StyledLine("           getaddrinfo call, first query to last answer or give-up, re-sends included"))
        out.append(StyledLine("           (status bar: lookups, slow = waited 1 s or more, worst; wait>1s; s: lookup wait)"))
        out.append(StyledLine(""))
        out.append(StyledLine("Filter terms (/), all must hold", .title))
        for term in QueryFilter.syntax { out.append(StyledLine("  " + term)) }
        out.append(StyledLine(""))
        out.append(StyledLine("Markers", .title))
        for (glyph, meaning, role) in [
            ("┌o └o", "the A and AAAA of one lookup, both answered at once", Role.pairOK),
            ("┌r └r", "a pair where a query was re-sent (│r: the re-send)", .pairRetried),
            ("┌p └p", "a pair where one query never got an answer", .pairPartial),
            ("┌f └f", "a pair where neither got an answer", .pairFailed),
            ("↻2 +5.00s", "attempt 2, sent 5.00 s after the first (↻? a probable re-send under a new id)", .retry),
            ("✗ no answer", "never answered, or re-sent under the same id and socket (an answer now goes to the re-send)", .unanswered),
            ("…3.20 s", "still waiting, for this long so far (✗6.2s timeout: past the resolvers' 5 s timeout)", .latencyTimeout),
            ("·  ▲  ‼", "latency under 100 ms, 100 ms to 1 s, 1 s or more", .latencySlow),
            ("*  +", "marked (in a flow header: all / some of its rows)", .marked),
        ] {
            out.append(StyledLine(runs: [.init(text: "  " + pad(glyph, 12), role: role), .init(text: "  " + meaning, role: .normal)]))
        }
        return out
    }
}
