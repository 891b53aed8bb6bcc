import DNSFlowCore

/// What a screen draws into: a grid of characters, each with a semantic role (never a raw colour). The ncurses
/// front end paints it; tests read it as text. Screens never touch the terminal directly.
public struct Canvas: Sendable {
    public struct Cell: Hashable, Sendable {
        public var character: Character
        public var role: Role
    }

    public let width: Int
    public let height: Int
    public private(set) var cells: [Cell]

    public init(width: Int, height: Int) {
        self.width = max(0, width)
        self.height = max(0, height)
        cells = Array(repeating: Cell(character: " ", role: .normal), count: self.width * self.height)
    }

    /// Writes `text` at (x, y), clipped to the canvas; returns the column after the last character written.
    /// A character the terminal would obey rather than show is drawn as `?` (`SafeText`): nothing a packet or a
    /// file carries reaches the terminal raw. (Names and text from the wire are escaped before they get here; this
    /// is the last line.)
    @discardableResult
    public mutating func put(_ x: Int, _ y: Int, _ text: String, _ role: Role = .normal) -> Int {
        guard y >= 0, y < height else { return x }
        var column = x
        // Most of what is drawn is printable ASCII: a cell a byte, with no grapheme breaking to find the characters.
        if text.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7f }) {
            for byte in text.utf8 {
                guard column < width else { break }
                if column >= 0 { cells[y * width + column] = Cell(character: Character(Unicode.Scalar(byte)), role: role) }
                column += 1
            }
            return column
        }
        for ch in text {
            guard column < width else { break }
            if column >= 0 {
                let safe: Character = ch.isASCII && ch.asciiValue! >= 0x20 && ch.asciiValue! != 0x7f
                    || !ch.isASCII && ch.unicodeScalars.allSatisfy(SafeText.isShowable) ? ch : "?"
                cells[y * width + column] = Cell(character: safe, role: role)
            }
            column += 1
        }
        return column
    }

    /// Gives a whole row one role (the selection bar, a header), keeping the characters.
    public mutating func paintRow(_ y: Int, _ role: Role) {
        guard y >= 0, y < height else { return }
        for x in 0..<width { cells[y * width + x].role = role }
    }

    /// Gives one cell the selection's role (the timeline highlights the label, not the bars).
    public mutating func highlight(_ x: Int, _ y: Int) {
        guard x >= 0, x < width, y >= 0, y < height else { return }
        cells[y * width + x].role = .selected
    }

    public func cell(_ x: Int, _ y: Int) -> Cell { cells[y * width + x] }

    /// The characters, one line per row, trailing spaces removed (for golden tests).
    public var text: String {
        (0..<height).map { y in
            var line = String(cells[(y * width)..<((y + 1) * width)].map(\.character))
            while line.last == " " { line.removeLast() }
            return line
        }.joined(separator: "\n")
    }

    /// The roles of one row, run-length encoded (`role×count`), for tests that check colour.
    public func roles(row y: Int) -> [(Role, Int)] {
        var out: [(Role, Int)] = []
        for x in 0..<width {
            let r = cells[y * width + x].role
            if let last = out.last, last.0 == r { out[out.count - 1].1 += 1 } else { out.append((r, 1)) }
        }
        return out
    }
}

/// Semantic roles, resolved to colours in one place (the theme); each has a glyph or text beside it so that a
/// monochrome terminal loses nothing.
public enum Role: String, Hashable, Sendable, CaseIterable {
    case normal, title, header, footer, footerKey, selected, dim, marked, tab, tabActive, message
    case pairOK, pairRetried, pairPartial, pairFailed, pairSingle
    case latencyFast, latencySlow, latencyTimeout
    case unanswered, rcodeError, retry, finding
}

extension StyledLine.Run {
    public init(text: String, role: Role) { self.init(text, role) }
}

extension StyledLine {
    /// Draws the runs from (x, y), clipped to the canvas; returns the column after the last character.
    @discardableResult
    public func draw(into canvas: inout Canvas, x: Int, y: Int) -> Int {
        var column = x
        for run in runs { column = canvas.put(column, y, run.text, run.role) }
        return column
    }
}
