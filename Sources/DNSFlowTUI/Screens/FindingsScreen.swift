import DNSFlowCore

/// The Findings screen: what the analysis named, most important first, each with how often, an example, the
/// fix, and what in the rows made it fire. Enter shows its evidence rows in Queries.
public struct FindingsScreen {
    public internal(set) var cursor = ListCursor()
    public private(set) var items: [Summary.FindingCount] = []

    public init() {}

    public mutating func update(_ summary: Summary) {
        let selected = items[safe: cursor.index]?.finding.id
        items = summary.findings.values.sorted {
            ($0.finding.rank, -$0.count, $0.finding.id) < ($1.finding.rank, -$1.count, $1.finding.id)
        }
        if let selected, let i = items.firstIndex(where: { $0.finding.id == selected }) { cursor.index = i }
        cursor.index = max(0, min(cursor.index, items.count - 1))
    }

    public var selected: Summary.FindingCount? { items[safe: cursor.index] }

    @discardableResult
    public mutating func perform(_ action: Action, page: Int) -> Bool {
        cursor.move(action, count: items.count, page: 1)
    }

    /// The lines of one finding, wrapped to `width`.
    static func block(_ item: Summary.FindingCount, width: Int) -> [StyledLine] {
        let f = item.finding
        let what = f.id == "slow-server" ? "\(item.count) server\(item.count == 1 ? "" : "s")"
            : "\(item.count) lookup\(item.count == 1 ? "" : "s"), \(item.rows) quer\(item.rows == 1 ? "y" : "ies")"
        var lines = [StyledLine("● " + f.title, .finding)]
        let indent = "    "
        for (label, text, role) in [("finding", f.id + "  (" + what + ")", Role.normal), ("example", item.example, .normal), ("fix", f.fix, .normal), ("evidence", f.evidence, .dim)] {
            for (i, line) in wrap(text, width: max(20, width - indent.count - 10 - 2)).enumerated() {
                lines.append(StyledLine(runs: [.init(text: indent + (i == 0 ? pad(label + ":", 10) : String(repeating: " ", count: 10)), role: .dim), .init(text: line, role: role)]))
            }
        }
        return lines
    }

    public func render(into canvas: inout Canvas, y0: Int, height: Int) {
        let w = canvas.width
        canvas.put(0, y0, pad(" FINDINGS  (most important first; Enter shows the evidence rows in Queries)", w), .header)
        canvas.paintRow(y0, .header)
        if items.isEmpty {
            canvas.put(2, y0 + 2, "No findings: no lost, re-sent, truncated or failing queries were recognised.", .dim)
            return
        }
        // Whole blocks, scrolled so that the selected one is on screen.
        let blocks = items.map { FindingsScreen.block($0, width: w) }
        var first = 0, used = 0
        for i in stride(from: cursor.index, through: 0, by: -1) {
            used += blocks[i].count + 1
            if used > height - 1 && i != cursor.index { break }
            first = i
        }
        var y = y0 + 1
        for i in first..<blocks.count {
            for (n, line) in blocks[i].enumerated() where y < y0 + height {
                line.draw(into: &canvas, x: 1, y: y)
                if n == 0, i == cursor.index { canvas.paintRow(y, .selected) }
                y += 1
            }
            y += 1
            if y >= y0 + height { break }
        }
    }
}
