import DNSFlowCore
#if canImport(Glibc)
import Glibc
#endif

/// The Timeline screen: a time axis and one bar per query from sent to answered — or to its re-send, or to the
/// end of the data, in red, when unanswered. A query's re-sends share its row (joined by `↻`), the A and AAAA of
/// a pair sit on adjacent rows, so a 5 s gap is a long red bar. Below it, a histogram of what lookups waited.
public struct TimelineScreen {
    public struct Row {
        /// The first attempt, then its re-sends in order.
        public var attempts: [Entry]
        public var head: Entry { attempts[0] }
        /// When the client stopped waiting for this query's last attempt, if it was never answered: its lookup's end
        /// (the lookup's first send and what it waited); nil while that is not known.
        public var gaveUp: Int64?
    }

    public internal(set) var cursor = ListCursor()
    public private(set) var rows: [Row] = []
    /// Viewport: start and width of the time window, in nanoseconds since the epoch; nil until there are rows.
    public private(set) var start: Int64?
    public private(set) var span: Int64?
    public var showsHistogram = true
    private var latest: Int64 = 0
    private var histogram = Histogram()
    private var version = -1
    private var selected: Int?
    private var filterKey = ""

    public init() {}

    // MARK: model

    public mutating func update(_ store: QueryStore, shows: (Entry) -> Bool, filterKey: String, page: Int, allowStale: Bool = false) {
        guard filterKey != self.filterKey || (version != store.version && !(allowStale && version >= 0)) else { return }
        version = store.version
        self.filterKey = filterKey
        let shown = store.entries.filter { $0.facts.hasQuery && shows($0) }
        rows = TimelineScreen.rows(shown)
        for i in rows.indices {
            let last = rows[i].attempts[rows[i].attempts.count - 1]
            guard !last.facts.hasResponse, !last.isPending, let waited = last.facts.lookupNanoseconds,
                  let lookup = last.facts.lookup, let first = store.entry(sequence: lookup) else { continue }
            rows[i].gaveUp = first.facts.time.totalNanoseconds + waited
        }
        histogram = Histogram(shown)
        latest = store.latestTime
        if !cursor.follows, let selected, let i = rows.firstIndex(where: { $0.head.sequence == selected }) {
            cursor.select(i, count: rows.count, page: page)
        }
        cursor.clamp(count: rows.count, page: page)
        if span == nil, !rows.isEmpty {
            let longest = rows.map { end(of: $0) - sent($0.head) }.max() ?? 0
            span = TimelineScreen.niceCeiling(max(1_000_000, longest + longest / 4))
        }
        follow()
        selected = rows[safe: cursor.index]?.head.sequence
    }

    /// One row per query: re-sends joined to their first attempt; pairs adjacent, in order of first appearance.
    static func rows(_ entries: [Entry]) -> [Row] {
        var rows: [Row] = []
        var rowOfChain: [Int: Int] = [:]
        for e in entries {
            let chain = e.facts.chain ?? e.sequence
            if let i = rowOfChain[chain], e.facts.attempt > 1 {
                rows[i].attempts.append(e)
            } else {
                rowOfChain[chain] = rows.count
                rows.append(Row(attempts: [e]))
            }
        }
        var firstOfPair: [Int: Int] = [:]
        var keyed: [(key: Int, index: Int)] = []
        for (i, r) in rows.enumerated() {
            let pair = r.head.facts.pair
            let key = pair.map { p in firstOfPair[p] ?? { firstOfPair[p] = i; return i }() } ?? i
            keyed.append((key, i))
        }
        keyed.sort { ($0.key, $0.index) < ($1.key, $1.index) }
        return keyed.map { rows[$0.index] }
    }

    private func sent(_ e: Entry) -> Int64 { e.facts.time.totalNanoseconds }

    /// Where an attempt's bar ends: its answer, its re-send; unanswered and last, when the client gave up on it (its
    /// lookup's end), or, still waiting, the end of the data.
    private func end(of attempt: Int, in row: Row) -> (Int64, answered: Bool) {
        let e = row.attempts[attempt]
        if let r = e.facts.responseTime, e.facts.hasQuery { return (r.totalNanoseconds, true) }
        if attempt + 1 < row.attempts.count { return (sent(row.attempts[attempt + 1]), false) }
        if let gaveUp = row.gaveUp { return (max(gaveUp, sent(e)), false) }
        return (max(latest, sent(e)), false)
    }

    private func end(of row: Row) -> Int64 { end(of: row.attempts.count - 1, in: row).0 }

    // MARK: keys

    @discardableResult
    public mutating func perform(_ action: Action, store: QueryStore, page: Int) -> Bool {
        if cursor.move(action, count: rows.count, page: page) {
            selected = rows[safe: cursor.index]?.head.sequence
            follow()
            return true
        }
        guard let span, let start else { return false }
        switch action {
        case .zoomIn, .zoomOut:
            // Around the selected row's first send (where the eye is), which keeps its place on screen: the row stays
            // in view however far in or out.
            let newSpan = action == .zoomIn ? max(1_000, span / 2) : min(86_400 * 1_000_000_000, span * 2)
            var focus = start + span / 2
            if let row = rows[safe: cursor.index] { focus = min(max(sent(row.head), start), start + span) }
            self.start = focus - Int64(Double(focus - start) * Double(newSpan) / Double(span))
            self.span = newSpan
            follow()
        case .scrollEarlier: self.start = start - span / 4
        case .scrollLater: self.start = start + span / 4
        case .toggleHistogram: showsHistogram.toggle()
        case .mark:
            guard let row = rows[safe: cursor.index] else { return false }
            let marked = !row.attempts.allSatisfy(\.isMarked)
            for e in row.attempts { store.setMarked(e, marked) }
            cursor.move(.down, count: rows.count, page: page)
            selected = rows[safe: cursor.index]?.head.sequence
            follow()
        default: return false
        }
        return true
    }

    /// Keeps the cursor row's first send inside the window.
    private mutating func follow() {
        guard let span, let row = rows[safe: cursor.index] else { return }
        let t = sent(row.head)
        if let start, t >= start, t < start + span - span / 20 { return }
        start = t - span / 10
    }

    // MARK: drawing

    /// Histogram bands, upper bounds in nanoseconds: log-scaled, with the resolver timeouts (5, 10, 15 s) apart.
    static let bands: [(label: String, upTo: Int64)] = [
        ("< 1 ms", 1_000_000), ("1–10 ms", 10_000_000), ("10–100 ms", 100_000_000), ("0.1–1 s", 1_000_000_000),
        ("1–4.5 s", 4_500_000_000), ("≈ 5 s   1 timeout", 5_500_000_000), ("5.5–9.5 s", 9_500_000_000),
        ("≈ 10 s  2 timeouts", 10_500_000_000), ("10.5–14.5 s", 14_500_000_000), ("≈ 15 s  3 timeouts", 15_500_000_000),
        ("> 15.5 s", .max),
    ]

    public func render(into canvas: inout Canvas, y0: Int, height: Int, store: QueryStore) {
        let histogramHeight = showsHistogram && height >= 18 ? min(TimelineScreen.bands.count + 3, height / 2) : 0
        let timelineHeight = height - histogramHeight
        drawTimeline(into: &canvas, y0: y0, height: timelineHeight)
        if histogramHeight > 0 { drawHistogram(into: &canvas, y0: y0 + timelineHeight, height: histogramHeight, store: store) }
    }

    private func drawTimeline(into canvas: inout Canvas, y0: Int, height: Int) {
        let w = canvas.width
        let labelWidth = min(56, max(32, w * 2 / 5))
        let rightWidth = 13
        let barX = labelWidth + 1
        let barWidth = max(10, w - barX - rightWidth - 1)
        let showsTime = w >= 110
        canvas.put(0, y0, pad(showsTime ? "  SENT            TYPE  NAME" : "     TYPE  NAME", labelWidth), .header)
        canvas.put(barX + barWidth + 1, y0, " WAITED", .header)
        canvas.paintRow(y0, .header)
        guard let start, let span, !rows.isEmpty else {
            canvas.put(2, y0 + 3, "no queries yet", .dim)
            return
        }
        let x = { (t: Int64) -> Int in barX + Int((Double(t - start) / Double(span) * Double(barWidth)).rounded(.down)) }
        // Axis: tick labels in the header row, ticks on the line below.
        let tick = TimelineScreen.niceCeiling(max(1, span * 12 / Int64(barWidth)))
        // Ticks at whole multiples from the first query shown, labelled by the offset from it.
        let origin = sent(rows[0].head)
        var t = origin + ((start - origin) / tick) * tick
        while t < start { t += tick }
        let from = Timestamp(seconds: 0, nanoseconds: 0).addingNanoseconds(start).timeOfDay.prefix(12)
        canvas.put(0, y0 + 1, pad(" \(from), \(QueryRow.shortDuration(span)) wide", labelWidth), .dim)
        canvas.put(barX, y0 + 1, String(repeating: "─", count: barWidth), .dim)
        var lastLabelEnd = barX
        while t < start + span {
            let tx = x(t)
            if tx >= barX, tx < barX + barWidth {
                canvas.put(tx, y0 + 1, "┬", .dim)
                let label = (t >= origin ? "+" : "−") + QueryRow.shortDuration(abs(t - origin))
                if tx >= lastLabelEnd, tx + label.count <= barX + barWidth + 1 {
                    lastLabelEnd = canvas.put(tx, y0, label, .header) + 1
                }
            }
            t += tick
        }
        let visible = cursor.top..<min(rows.count, cursor.top + height - 2)
        // The names on screen, cut so that different ones never read alike (the steps of one walk).
        let nameX = 1 + (showsTime ? 14 : 1) + 2 + 7
        let names = QueryRow.distinctFits(visible.map {
            (rows[$0].head.facts.name?.name.presentation(trailingDot: false) ?? "", max(4, labelWidth - nameX))
        })
        for (row, i) in visible.enumerated() {
            let y = y0 + 2 + row
            let r = rows[i]
            let head = r.head.facts
            let mark = r.attempts.contains(where: \.isMarked) ? "*" : " "
            var lx = canvas.put(0, y, mark, .marked)
            lx = canvas.put(lx, y, showsTime ? " " + String(head.time.timeOfDay.prefix(12)) + " " : " ")
            let (pair, role) = QueryRow.pairMarker(head, isFirstOfPair: r.head.isFirstOfPair)
            lx = canvas.put(lx, y, pair, role)
            lx = canvas.put(lx, y, " " + pad(head.type?.description ?? "?", 5) + " ")
            canvas.put(lx, y, names[row])
            if i == cursor.index {
                for cx in 0..<labelWidth { canvas.highlight(cx, y) }
            }
            drawBars(r, into: &canvas, y: y, barX: barX, barWidth: barWidth, x: x)
            drawWaited(r, into: &canvas, x: barX + barWidth + 1, y: y)
        }
    }

    private func drawBars(_ r: Row, into canvas: inout Canvas, y: Int, barX: Int, barWidth: Int, x: (Int64) -> Int) {
        let limit = barX + barWidth
        var offLeft = false, offRight = false
        for a in r.attempts.indices {
            let e = r.attempts[a]
            let (endTime, answered) = end(of: a, in: r)
            var x0 = x(sent(e)), x1 = max(x0, x(endTime) - 1)
            if x1 < barX { offLeft = true; continue }
            if x0 >= limit { offRight = true; continue }
            x0 = max(barX, x0)
            x1 = min(limit - 1, x1)
            let role: Role
            let glyph: String
            if e.isWaiting {
                (glyph, role) = ("▒", .dim)
            } else if answered, let l = e.facts.latencyNanoseconds {
                role = QueryRow.latencyText(l).1
                glyph = "█"
            } else {
                (glyph, role) = ("░", .unanswered)
            }
            for cx in x0...x1 { canvas.put(cx, y, glyph, role) }
            if x0 == x1, answered { canvas.put(x0, y, "▌", role) }
            if a > 0, x(sent(e)) >= barX { canvas.put(x0, y, "↻", .retry) }
            if !answered, !e.isPending, a == r.attempts.count - 1, x1 + 1 < limit, x(endTime) < limit { canvas.put(x1 + 1, y, "✗", .unanswered) }
        }
        if offLeft, canvas.cell(barX, y).character == " " { canvas.put(barX, y, "◂", .dim) }
        if offRight, canvas.cell(limit - 1, y).character == " " { canvas.put(limit - 1, y, "▸", .dim) }
    }

    private func drawWaited(_ r: Row, into canvas: inout Canvas, x: Int, y: Int) {
        let last = r.attempts[r.attempts.count - 1]
        let retries = r.attempts.count > 1 ? " ↻\(r.attempts.count)" : ""
        if last.isWaiting {
            canvas.put(x, y, " … waiting", .dim)
        } else if let response = last.facts.responseTime, last.facts.hasQuery {
            let waited = response.totalNanoseconds - sent(r.head)
            let (text, role) = QueryRow.latencyText(waited)
            let at = canvas.put(x, y, " " + text, role)
            canvas.put(at, y, retries, .retry)
        } else {
            let at = canvas.put(x, y, " ✗ none", .unanswered)
            canvas.put(at, y, retries, .retry)
        }
    }

    /// Per band: lookups (each lookup once, by what the application waited) and queries (by latency); and the
    /// queries never answered. Counted when the rows change, not at every draw.
    struct Histogram {
        var lookups = Array(repeating: 0, count: TimelineScreen.bands.count)
        var queries = Array(repeating: 0, count: TimelineScreen.bands.count)
        var never = 0

        init() {}

        init(_ entries: [Entry]) {
            for e in entries where !e.isWaiting && e.facts.hasQuery {
                let t = e.facts
                if let l = t.latencyNanoseconds { queries[TimelineScreen.band(l)] += 1 }
                if t.lookup == e.sequence, let total = t.lookupNanoseconds { lookups[TimelineScreen.band(total)] += 1 }
                if t.status == .unanswered { never += 1 }
            }
        }
    }

    private func drawHistogram(into canvas: inout Canvas, y0: Int, height: Int, store: QueryStore) {
        let lookups = histogram.lookups, queries = histogram.queries, never = histogram.never
        let w = canvas.width
        canvas.put(0, y0, pad(" LOOKUP TIME (what the application waited)   LOOKUPS  QUERIES", w), .header)
        canvas.put(max(0, w - 12), y0, "(log scale)", .header)
        canvas.paintRow(y0, .header)
        let barX = 45, barWidth = max(4, w - barX - 1)
        let maxCount = max(1, (lookups + queries).max() ?? 1)
        let rowsShown = min(TimelineScreen.bands.count, height - 2)
        for i in 0..<rowsShown {
            let y = y0 + 1 + i
            let label = TimelineScreen.bands[i].label
            let isTimeout = label.hasPrefix("≈")
            let role: Role = i <= 2 ? .latencyFast : i == 3 ? .latencySlow : .latencyTimeout
            canvas.put(1, y, pad(label, 20), isTimeout ? .latencyTimeout : .normal)
            canvas.put(21, y, padLeft(String(lookups[i]), 8) + padLeft(String(queries[i]), 9))
            let n = lookups[i]
            if n > 0 {
                let length = max(1, Int((log10(Double(n) + 1) / log10(Double(maxCount) + 1) * Double(barWidth)).rounded()))
                canvas.put(barX, y, String(repeating: "█", count: min(barWidth, length)), role)
            }
        }
        if height - 2 > rowsShown || rowsShown == TimelineScreen.bands.count, y0 + 1 + rowsShown < y0 + height {
            canvas.put(1, y0 + 1 + rowsShown, pad("never answered", 20), .unanswered)
            canvas.put(21, y0 + 1 + rowsShown, padLeft("", 8) + padLeft(String(never), 9), .unanswered)
        }
    }

    static func band(_ ns: Int64) -> Int { bands.firstIndex { ns < $0.upTo } ?? bands.count - 1 }

    /// The smallest 1, 2 or 5 × 10^n nanoseconds at or above `ns`.
    static func niceCeiling(_ ns: Int64) -> Int64 {
        var base: Int64 = 1
        while true {
            for m: Int64 in [1, 2, 5] where base * m >= ns { return base * m }
            if base > Int64.max / 100 { return ns }
            base *= 10
        }
    }
}
