import DNSFlowCore

/// The Flows screen: one row per 5-tuple with its counts and latencies; Enter drills into its queries.
public struct FlowsScreen {
    public enum Sort: String, CaseIterable, Sendable { case first, wait, queries, unanswered, latency }

    public internal(set) var cursor = ListCursor()
    public var sort = Sort.first
    public private(set) var rows: [FlowGroup] = []

    public init() {}

    /// The flows with a row the queries' filter shows, in the chosen order.
    private var computed: (version: Int, filter: String, sort: Sort)?

    public mutating func update(_ store: QueryStore, shows: (Entry) -> Bool, filterKey: String, page: Int, allowStale: Bool = false) {
        if let c = computed, c.version == store.version || allowStale, c.filter == filterKey, c.sort == sort {
            cursor.clamp(count: rows.count, page: page)
            return
        }
        computed = (store.version, filterKey, sort)
        let selected = rows[safe: cursor.index]?.number
        rows = store.flows.filter { $0.entries.contains(where: shows) }
        switch sort {
        case .first: break
        case .wait: rows.sort { ($0.stats.worstWait ?? -1, $1.number) > ($1.stats.worstWait ?? -1, $0.number) }
        case .queries: rows.sort { ($0.stats.queries, $1.number) > ($1.stats.queries, $0.number) }
        case .unanswered: rows.sort { ($0.stats.unanswered, $0.stats.retries, $1.number) > ($1.stats.unanswered, $1.stats.retries, $0.number) }
        case .latency: rows.sort { ($0.stats.worstLatency ?? -1, $1.number) > ($1.stats.worstLatency ?? -1, $0.number) }
        }
        if !cursor.follows, let selected, let i = rows.firstIndex(where: { $0.number == selected }) {
            cursor.select(i, count: rows.count, page: page)
        }
        cursor.clamp(count: rows.count, page: page)
    }

    public var selected: FlowGroup? { rows[safe: cursor.index] }

    @discardableResult
    public mutating func perform(_ action: Action, store: QueryStore, page: Int) -> Bool {
        if cursor.move(action, count: rows.count, page: page) { return true }
        switch action {
        case .mark:
            guard let g = selected else { return false }
            store.toggleMark(g)
            cursor.move(.down, count: rows.count, page: page)
        case .sort:
            sort = Sort.allCases[(Sort.allCases.firstIndex(of: sort)! + 1) % Sort.allCases.count]
            cursor.move(.home, count: rows.count, page: page)
        default: return false
        }
        return true
    }

    /// Number columns (label, width); the median only when there is room for it.
    private static func columns(_ width: Int) -> [(String, Int)] {
        let all = [("WAITED", 10), ("QUERIES", 7), ("ANSWERED", 8), ("UNANS", 6), ("RETRIES", 7), ("MEDIAN", 10), ("WORST", 10)]
        // Narrower, the per-query figures give way first: the 5-tuple (both ports) and the wait stay whole.
        return width >= 120 ? all : width >= 100 ? all.filter { $0.0 != "MEDIAN" }
            : [("WAITED", 9), ("QUERIES", 7), ("UNANS", 5), ("RETRIES", 7)]
    }

    public func render(into canvas: inout Canvas, y0: Int, height: Int, names: AddressNames = .none) {
        let w = canvas.width
        let columns = FlowsScreen.columns(w)
        let numbersWidth = columns.map { $0.1 + 1 }.reduce(0, +)
        let numbersX = max(34, w - numbersWidth - 1)
        let narrow = w < 100
        canvas.put(0, y0, (narrow ? "     #  PR  " : "     #  PROTO ") + "CLIENT → SERVER" + (sort == .first ? "" : "   (by \(sort.rawValue)▼)"), .header)
        canvas.put(numbersX, y0, columns.map { " " + padLeft($0.0, $0.1) }.joined(), .header)
        canvas.paintRow(y0, .header)
        if rows.isEmpty {
            canvas.put(2, y0 + 2, "no flows yet", .dim)
            return
        }
        let end = min(rows.count, cursor.top + height - 1)
        for (row, i) in (cursor.top..<max(cursor.top, end)).enumerated() {
            let y = y0 + 1 + row
            let g = rows[i]
            let s = g.stats
            let mark = s.marked == 0 ? " " : s.marked == g.entries.count ? "*" : "+"
            var x = canvas.put(0, y, mark, .marked)
            x = canvas.put(x, y, padLeft(g.label, 5) + "  " + pad(g.key.transport.rawValue, narrow ? 3 : 5) + " ")
            canvas.put(x, y, QueryRow.fit("\(names.label(g.key.client)) → \(names.label(g.key.server))", max(8, numbersX - x - 1)))
            x = numbersX
            for (label, width) in columns {
                let (text, role): (String, Role)
                switch label {
                case "WAITED": (text, role) = s.worstWait.map(QueryRow.latencyText) ?? ("–", .normal)
                case "QUERIES": (text, role) = (String(s.queries), .normal)
                case "ANSWERED": (text, role) = (String(s.answered), .normal)
                case "UNANS": (text, role) = s.unanswered > 0 ? ("✗\(s.unanswered)", .unanswered) : ("0", .normal)
                case "RETRIES": (text, role) = s.retries > 0 ? ("↻\(s.retries)", .retry) : ("0", .normal)
                case "MEDIAN": (text, role) = (s.medianLatency.map(QueryRow.duration) ?? "–", .normal)
                default: (text, role) = s.worstLatency.map(QueryRow.latencyText) ?? ("–", .normal)
                }
                x = canvas.put(x, y, " " + padLeft(text, width), role)
            }
            if i == cursor.index { canvas.paintRow(y, .selected) }
        }
    }
}
