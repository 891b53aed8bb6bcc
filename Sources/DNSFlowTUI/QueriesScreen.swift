import DNSFlowCore

/// The Queries screen: one row per query, grouped under a header row per flow (5-tuple) or flat in time order,
/// with pair markers, retry markers and latency bands. Draws only the visible rows.
public struct QueriesScreen {
    public enum Line: Hashable {
        case flow(Int)
        case query(Int)
    }

    public private(set) var transactions: [Transaction] = []
    public var grouped = true
    public var collapsed: Set<Int> = []
    public var marked: Set<Int> = []
    public private(set) var cursor = 0
    public private(set) var top = 0

    public init() {}

    public mutating func add(_ t: Transaction) {
        transactions.append(t)
    }

    /// Visible lines in order: flows by first appearance with their queries beneath, or all queries by time.
    public var lines: [Line] {
        let queries = transactions.indices.filter { transactions[$0].query != nil }
        guard grouped else { return queries.map { .query($0) } }
        var order: [Int] = []
        var byFlow: [Int: [Int]] = [:]
        for i in queries {
            let f = transactions[i].analysis.flow ?? -1
            if byFlow[f] == nil { order.append(f) }
            byFlow[f, default: []].append(i)
        }
        return order.flatMap { f in [Line.flow(f)] + (collapsed.contains(f) ? [] : byFlow[f]!.map { .query($0) }) }
    }

    public mutating func perform(_ action: Action, pageHeight: Int) {
        let count = lines.count
        switch action {
        case .up: cursor = max(0, cursor - 1)
        case .down: cursor = min(max(0, count - 1), cursor + 1)
        case .pageUp: cursor = max(0, cursor - pageHeight)
        case .pageDown: cursor = min(max(0, count - 1), cursor + pageHeight)
        case .home: cursor = 0
        case .end: cursor = max(0, count - 1)
        case .toggleGrouping:
            grouped.toggle()
            cursor = min(cursor, max(0, lines.count - 1))
        case .collapse, .expand, .open:
            if case .flow(let f)? = lines[safe: cursor] {
                if action == .collapse || (action == .open && !collapsed.contains(f)) { collapsed.insert(f) } else { collapsed.remove(f) }
            }
        case .mark:
            if case .query(let i)? = lines[safe: cursor] {
                if marked.contains(i) { marked.remove(i) } else { marked.insert(i) }
            }
        default: break
        }
        if cursor < top { top = cursor }
        if cursor >= top + pageHeight { top = cursor - pageHeight + 1 }
    }

    /// Draws the table into `canvas` rows `y0..<y0+height`.
    public func render(into canvas: inout Canvas, y0: Int, height: Int) {
        let w = canvas.width
        canvas.put(0, y0, pad("  TIME         PR ID    TYPE  NAME", w), .header)
        canvas.put(rcodeColumn(w), y0, "RCODE    LATENCY", .header)
        canvas.paintRow(y0, .header)
        let all = lines
        let firstOfPair = firstMembers()
        for (row, lineIndex) in (top..<min(all.count, top + height - 1)).enumerated() {
            let y = y0 + 1 + row
            switch all[lineIndex] {
            case .flow(let f): drawFlow(f, into: &canvas, y: y)
            case .query(let i): drawQuery(transactions[i], index: i, firstOfPair: firstOfPair, into: &canvas, y: y)
            }
            if lineIndex == cursor { canvas.paintRow(y, .selected) }
        }
    }

    private func firstMembers() -> Set<Int> {
        var seen: Set<Int> = [], first: Set<Int> = []
        for (i, t) in transactions.enumerated() where t.query != nil {
            guard let p = t.analysis.pair, t.analysis.attempt == 1 else { continue }
            if !seen.contains(p) { seen.insert(p); first.insert(i) }
        }
        return first
    }

    private func drawFlow(_ f: Int, into canvas: inout Canvas, y: Int) {
        let members = transactions.filter { $0.analysis.flow == f && $0.query != nil }
        guard let t = members.first else { return }
        let unanswered = members.filter { $0.status == .unanswered }.count
        let worst = members.compactMap(\.latencyNanoseconds).max().map { " worst " + QueryRow.format2(Double($0) / 1e6) + " ms" } ?? ""
        let fold = collapsed.contains(f) ? "▸" : "▾"
        var x = canvas.put(0, y, "\(fold) \(t.transport.rawValue) \(t.client) → \(t.server)  \(members.count) quer\(members.count == 1 ? "y" : "ies")", .title)
        if unanswered > 0 { x = canvas.put(x, y, "  ✗\(unanswered) unanswered", .unanswered) }
        canvas.put(x, y, worst, .title)
    }

    private func drawQuery(_ t: Transaction, index: Int, firstOfPair: Set<Int>, into canvas: inout Canvas, y: Int) {
        let w = canvas.width
        var x = canvas.put(0, y, marked.contains(index) ? "*" : " ", .normal)
        x = canvas.put(x, y, " " + String(t.time.timeOfDay.prefix(12)) + " ")
        let (pair, pairRole) = QueryRow.pairMarker(t, isFirstOfPair: firstOfPair.contains(index), isResend: t.analysis.attempt > 1)
        x = canvas.put(x, y, pair, pairRole)
        x = canvas.put(x, y, " " + pad(String(t.id), 5) + " ")
        x = canvas.put(x, y, pad(t.question.map { $0.type.description } ?? "?", 5) + " ")
        let rcodeColumn = rcodeColumn(w)
        let retry = QueryRow.retryMarker(t).map { " " + $0 } ?? ""
        let nameWidth = max(8, rcodeColumn - x - 1 - retry.count)
        x = canvas.put(x, y, QueryRow.fit(t.question.map { $0.name.presentation(trailingDot: false) } ?? "", nameWidth))
        if !retry.isEmpty { canvas.put(rcodeColumn - retry.count - 1, y, retry, .retry) }
        if let r = t.response?.message.rcode {
            canvas.put(rcodeColumn, y, pad(r.description, 9), r == .noError || r == .nxDomain ? .normal : .rcodeError)
        }
        let (latency, role) = QueryRow.latency(t)
        canvas.put(rcodeColumn + 9, y, latency, role)
    }

    /// RCODE (9) and latency (12) take the right edge; the name gets the rest.
    private func rcodeColumn(_ width: Int) -> Int { max(40, width - 22) }

    private func pad(_ s: String, _ n: Int) -> String {
        s.count >= n ? s : s + String(repeating: " ", count: n - s.count)
    }
}

extension Array {
    subscript(safe i: Int) -> Element? { indices.contains(i) ? self[i] : nil }
}
