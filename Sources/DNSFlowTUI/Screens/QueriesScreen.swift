import DNSFlowCore

/// What the list screens share: the filter, the problems-only switch and the sort column.
public enum SortKey: String, CaseIterable, Sendable {
    case time, wait, latency, name, type

    var next: SortKey { SortKey.allCases[(SortKey.allCases.firstIndex(of: self)! + 1) % SortKey.allCases.count] }

    func ordered(_ a: Entry, _ b: Entry) -> Bool {
        switch self {
        case .time: return a.sequence < b.sequence
        case .wait:
            // The longest lookups first (every row of a lookup carries what it waited); a lookup not settled yet last.
            let wa = a.facts.lookupNanoseconds ?? -1, wb = b.facts.lookupNanoseconds ?? -1
            return wa != wb ? wa > wb : a.sequence < b.sequence
        case .latency:
            // Slowest first; unanswered (no latency) slower than any answer.
            let la = a.facts.latencyNanoseconds ?? (a.isPending ? -1 : .max)
            let lb = b.facts.latencyNanoseconds ?? (b.isPending ? -1 : .max)
            return la != lb ? la > lb : a.sequence < b.sequence
        case .name: return a.searchName != b.searchName ? a.searchName < b.searchName : a.sequence < b.sequence
        case .type:
            let ta = a.facts.type?.rawValue ?? 0, tb = b.facts.type?.rawValue ?? 0
            return ta != tb ? ta < tb : a.sequence < b.sequence
        }
    }
}

/// The Queries screen: one row per query, grouped under a header row per flow (5-tuple) or flat in time order,
/// with pair markers, retry markers and latency bands. Keeps its lines cached; draws only the visible rows.
public struct QueriesScreen {
    public enum Line {
        case flow(FlowGroup)
        case query(Entry)

        /// Stable across recomputation: the cursor stays on its row as rows arrive.
        var identity: Int {
            switch self {
            case .flow(let g): -g.number
            case .query(let e): e.sequence
            }
        }
    }

    /// The lines as their identities, made into handles as they are read: only the lines drawn or acted on are. Four
    /// bytes a line: a row's sequence, or a flow's number with the top bit set, each as an offset from the lowest held
    /// (a million rows' handles would take six times that); `Int`s should an offset not fit.
    public struct Lines: RandomAccessCollection {
        let store: QueryStore?
        private let rowBase: Int, flowBase: Int
        private var narrow: [UInt32] = []
        private var wide: [Int]?
        private static let flowBit: UInt32 = 1 << 31

        init(store: QueryStore?) {
            self.store = store
            rowBase = store?.entries.first?.sequence ?? 0
            flowBase = store?.flows.first?.number ?? 0
        }

        /// Empty, for `store` now, in the storage of `old` (recomputed while a file loads, a million-line list would
        /// otherwise live twice for a moment).
        init(store: QueryStore, reusing old: consuming Lines) {
            self.init(store: store)
            var old = old
            swap(&narrow, &old.narrow)
            narrow.removeAll(keepingCapacity: true)
        }

        public var startIndex: Int { 0 }
        public var endIndex: Int { wide?.count ?? narrow.count }

        public subscript(i: Int) -> Line {
            let id = identity(at: i)
            // A row or flow gone since (the list is recomputed at the next change) reads as empty.
            if id < 0 { return .flow(store?.flow(number: -id) ?? FlowGroup(store: store!, slot: -1, number: -id)) }
            return .query(store?.entry(sequence: id) ?? Entry(store: store!, slot: -1, sequence: id))
        }

        /// A row's sequence, or a flow's number negated.
        func identity(at i: Int) -> Int {
            if let wide { return wide[i] }
            let v = narrow[i]
            return v & Lines.flowBit == 0 ? rowBase + Int(v) : -(flowBase + Int(v & ~Lines.flowBit))
        }

        func firstIndex(of identity: Int) -> Int? {
            if let wide { return wide.firstIndex(of: identity) }
            guard let v = encode(identity) else { return nil }
            return narrow.firstIndex(of: v)
        }

        private func encode(_ identity: Int) -> UInt32? {
            if identity >= 0 {
                let d = identity - rowBase
                return d >= 0 && d < Int(Lines.flowBit) ? UInt32(d) : nil
            }
            let d = -identity - flowBase
            return d >= 0 && d < Int(Lines.flowBit) ? UInt32(d) | Lines.flowBit : nil
        }

        mutating func removeLast() {
            if wide != nil { wide!.removeLast() } else { narrow.removeLast() }
        }

        mutating func append(_ identity: Int) {
            if wide != nil { wide!.append(identity); return }
            if let v = encode(identity) { narrow.append(v); return }
            wide = (0..<narrow.count).map { self.identity(at: $0) } + [identity]
            narrow = []
        }
    }

    public var grouped = true { didSet { invalidate() } }
    public var collapsed: Set<Int> = [] { didSet { invalidate() } }
    public var filter = QueryFilter.none { didSet { invalidate() } }
    public var problemsOnly = false { didSet { invalidate() } }
    public var sort = SortKey.time { didSet { invalidate() } }
    public internal(set) var cursor = ListCursor()
    public private(set) var lines = Lines(store: nil)
    private var linesVersion = -1
    private var selected: Int?

    public init() {}

    private mutating func invalidate() { linesVersion = -1 }

    public func shows(_ e: Entry) -> Bool {
        (!problemsOnly || e.isProblem) && filter.matches(e)
    }

    /// Recomputes the lines if the store or the view changed, keeping the cursor on the same row.
    public mutating func update(_ store: QueryStore, page: Int, allowStale: Bool = false) {
        if linesVersion != store.version, !(allowStale && linesVersion >= 0) {
            linesVersion = store.version
            // Moved out first, so that its storage is free to be refilled.
            var old = Lines(store: nil)
            swap(&old, &lines)
            lines = computeLines(store, reusing: old)
            if !cursor.follows, let selected, let i = lines.firstIndex(of: selected) {
                cursor.select(i, count: lines.count, page: page)
            }
        }
        cursor.clamp(count: lines.count, page: page)
        selected = lines.indices.contains(cursor.index) ? lines.identity(at: cursor.index) : nil
    }

    private func computeLines(_ store: QueryStore, reusing old: consuming Lines) -> Lines {
        var out = Lines(store: store, reusing: old)
        let folded = !collapsed.isEmpty
        if !grouped {
            if sort == .time {
                for e in store.entries where shows(e) { out.append(e.sequence) }
            } else {
                for e in store.entries.filter(shows).sorted(by: sort.ordered) { out.append(e.sequence) }
            }
            return out
        }
        for g in store.flows {
            let rows = g.entries
            if rows.isEmpty { continue }
            // The header first, taken back if none of the flow's rows is shown (no list of them per flow).
            let header = out.count
            out.append(-g.number)
            if folded, collapsed.contains(g.number) {
                if !rows.contains(where: shows) { out.removeLast() }
            } else if sort == .time {
                for e in rows where shows(e) { out.append(e.sequence) }
                if out.count == header + 1 { out.removeLast() }
            } else {
                let shown = rows.filter(shows).sorted(by: sort.ordered)
                if shown.isEmpty { out.removeLast() }
                for e in shown { out.append(e.sequence) }
            }
        }
        return out
    }

    public var selectedLine: Line? { lines.indices.contains(cursor.index) ? lines[cursor.index] : nil }

    /// Rows a `E` export takes: every query the filter shows, in time order.
    public func shownEntries(_ store: QueryStore) -> [Entry] { store.entries.filter(shows) }

    /// Navigation, folding, grouping, marking; returns whether it was handled here.
    @discardableResult
    public mutating func perform(_ action: Action, store: QueryStore, page: Int) -> Bool {
        update(store, page: page, allowStale: true)
        if cursor.move(action, count: lines.count, page: page) {
            selected = selectedLine?.identity
            return true
        }
        switch action {
        case .toggleGrouping:
            grouped.toggle()
        case .collapse, .expand, .open:
            switch selectedLine {
            case .flow(let g)?:
                if action == .collapse || (action == .open && !collapsed.contains(g.number)) { collapsed.insert(g.number) } else { collapsed.remove(g.number) }
            case .query(let e)? where action == .collapse && grouped:
                // Left on a query folds its flow and selects the header.
                collapsed.insert(e.flow.number)
                selected = -e.flow.number
            default: return false
            }
        case .mark:
            switch selectedLine {
            case .flow(let g)?: store.toggleMark(g)
            case .query(let e)?: store.toggleMark(e)
            case nil: return false
            }
            cursor.move(.down, count: lines.count, page: page)
            selected = selectedLine?.identity
        case .sort:
            // The list from its top, in the new order (keeping the old row in view looked unsorted).
            sort = sort.next
            update(store, page: page, allowStale: true)
            cursor.move(.home, count: lines.count, page: page)
            selected = selectedLine?.identity
        default: return false
        }
        update(store, page: page, allowStale: true)
        return true
    }

    /// Draws the table into `canvas` rows `y0..<y0+height` (the header and `height - 1` rows).
    public func render(into canvas: inout Canvas, y0: Int, height: Int, names: AddressNames = .none) {
        let w = canvas.width
        let rc = rcodeColumn(w)
        let arrow = "▼"
        canvas.put(0, y0, "  TIME         PR ID    TYPE  " + (sort == .name ? "NAME" + arrow : sort == .type ? "NAME (by type" + arrow + ")"
            : sort == .wait ? "NAME (by lookup wait" + arrow + ")" : "NAME"), .header)
        canvas.put(rc, y0, "RCODE    LATENCY" + (sort == .latency ? arrow : ""), .header)
        canvas.paintRow(y0, .header)
        if lines.isEmpty {
            let why = filter.isEmpty && !problemsOnly ? "no DNS queries yet" : "no rows match the filter"
            canvas.put(2, y0 + 2, why, .dim)
            return
        }
        let end = min(lines.count, cursor.top + height - 1)
        let visible = (cursor.top..<max(cursor.top, end)).map { lines[$0] }
        // The names on screen, cut so that different ones never read alike.
        var questions = [String](), widths = [Int]()
        for case .query(let e) in visible {
            questions.append(e.facts.name?.name.presentation(trailingDot: false) ?? "")
            widths.append(QueriesScreen.nameWidth(e.facts, rcodeColumn: rc))
        }
        var fitted = QueryRow.distinctFits(Array(zip(questions, widths)))[...]
        for (row, line) in visible.enumerated() {
            let y = y0 + 1 + row
            switch line {
            case .flow(let g): QueriesScreen.drawFlow(g, collapsed: collapsed.contains(g.number), into: &canvas, y: y, names: names)
            case .query(let e): QueriesScreen.drawQuery(e, name: fitted.popFirst() ?? "", into: &canvas, y: y, rcodeColumn: rc)
            }
            if cursor.top + row == cursor.index { canvas.paintRow(y, .selected) }
        }
    }

    /// Where a row's name starts: after the mark, time, pair marker, id and type.
    static let nameColumn = 30

    /// The room a row's name has: up to the retry marker, if any, before the RCODE column.
    static func nameWidth(_ t: QueryFacts, rcodeColumn: Int) -> Int {
        let retry = QueryRow.retryMarker(t).map { " " + $0 } ?? ""
        return max(8, rcodeColumn - nameColumn - 1 - retry.count)
    }

    static func flowLabel(_ g: FlowGroup, names: AddressNames) -> String {
        "\(g.key.transport.rawValue) \(names.label(g.key.client)) → \(names.label(g.key.server))"
    }

    static func drawFlow(_ g: FlowGroup, collapsed: Bool, into canvas: inout Canvas, y: Int, names: AddressNames) {
        let s = g.stats
        let fold = collapsed ? "▸" : "▾"
        let mark = s.marked == 0 ? " " : s.marked == g.entries.count ? "*" : "+"
        var x = canvas.put(0, y, "\(mark)\(fold) \(g.label) \(flowLabel(g, names: names))  \(s.queries) quer\(s.queries == 1 ? "y" : "ies")", .title)
        if s.unanswered > 0 { x = canvas.put(x, y, "  ✗\(s.unanswered)" + (canvas.width >= 100 ? " unanswered" : ""), .unanswered) }
        if s.retries > 0 { x = canvas.put(x, y, "  ↻\(s.retries)", .retry) }
        if s.pending > 0 {
            x = canvas.put(x, y, "  …\(s.pending) waiting", .dim)
            if let waited = g.waitedNanoseconds {
                let (text, role) = QueryRow.waited(waited)
                x = canvas.put(x, y, " " + text, role)
            }
        }
        if let waited = s.worstWait {
            let (text, role) = QueryRow.latencyText(waited)
            x = canvas.put(x, y, "  waited ", .title)
            x = canvas.put(x, y, text, role)
        }
        // The slowest single query, secondary: only where it fits whole.
        if let worst = s.worstLatency {
            let (text, role) = QueryRow.latencyText(worst)
            if x + 14 + text.count <= canvas.width {
                x = canvas.put(x, y, "  worst query ", .title)
                canvas.put(x, y, text, role)
            }
        }
    }

    static func drawQuery(_ e: Entry, name: String, into canvas: inout Canvas, y: Int, rcodeColumn: Int) {
        let t = e.facts
        var x = canvas.put(0, y, e.isMarked ? "*" : " ", .marked)
        x = canvas.put(x, y, " " + String(t.time.timeOfDay.prefix(12)) + " ")
        let (pair, pairRole) = QueryRow.pairMarker(t, isFirstOfPair: e.isFirstOfPair, isResend: e.isRetry)
        x = canvas.put(x, y, pair, pairRole)
        x = canvas.put(x, y, " " + pad(String(t.id), 5) + " ")
        x = canvas.put(x, y, pad(t.type?.description ?? "?", 5) + " ")
        let retry = QueryRow.retryMarker(t).map { " " + $0 } ?? ""
        canvas.put(x, y, name)
        if !retry.isEmpty { canvas.put(rcodeColumn - retry.count - 1, y, retry, .retry) }
        if let r = t.rcode {
            canvas.put(rcodeColumn, y, pad(r.description, 9), r == .noError || r == .nxDomain ? .normal : .rcodeError)
        }
        let (latency, role) = e.waitedNanoseconds.map(QueryRow.waited) ?? QueryRow.latency(t)
        canvas.put(rcodeColumn + 9, y, latency, role)
    }

    /// RCODE (9) and latency (12) take the right edge; the name gets the rest.
    static func rcodeColumn(_ width: Int) -> Int { max(40, width - 22) }
    private func rcodeColumn(_ width: Int) -> Int { QueriesScreen.rcodeColumn(width) }
}
