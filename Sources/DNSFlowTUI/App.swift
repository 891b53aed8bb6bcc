import DNSFlowCore

/// The interface's state and what it draws, independent of the terminal: feed it queries, transactions, keys and
/// clicks; ask it for a canvas. The loop in the command wires it to libpcap and ncurses.
public struct App {
    /// What the status bar says beyond the pipeline's counts.
    public struct Status: Sendable {
        public var source: String
        /// live, offline, loading, replay.
        public var mode = "loading"
        /// Share of the input read so far (offline loading), 0...1.
        public var progress: Double?
        public var kernelDrops: Int?
        public var p50: Int64?
        public var p99: Int64?
        public var canPause = false
        /// Packets shown so far when that is not what the pipeline has read (a replay reads ahead of what it plays).
        public var packetsShown: Int?
    }

    public enum Mouse: Sendable { case click(x: Int, y: Int), wheelUp(x: Int, y: Int), wheelDown(x: Int, y: Int) }

    indirect enum PromptKind: Equatable {
        case filter, exportMarked, exportAll, savePcap
        /// Flows: the shown flows, in the `--flows-csv` columns. Findings: one finding's rows.
        case exportFlows
        case exportFinding(String)
        case overwrite(path: String, of: PromptKind)
    }


    enum Event {
        case query(Int, ObservedMessage, Analysis)
        case matched(Transaction)
        case settled(Transaction)
    }

    public let store: QueryStore
    public private(set) var screen = ScreenID.queries
    /// The tab screens, by id (`ScreenID.makeScreen`): App knows them only as `Screen`s, but for the four accessors
    /// below (the Queries filter rules what Flows and the Timeline show; tests read their state).
    private var screens: [ScreenID: any Screen] = Dictionary(uniqueKeysWithValues: ScreenID.tabs.compactMap { id in id.makeScreen().map { (id, $0) } })
    public var queries: QueriesScreen {
        get { screens[.queries] as! QueriesScreen }
        _modify {
            // Taken out while changed: the only reference to its rows, never copied.
            var screen = screens.removeValue(forKey: .queries) as! QueriesScreen
            defer { screens[.queries] = screen }
            yield &screen
        }
    }
    public var flows: FlowsScreen {
        get { screens[.flows] as! FlowsScreen }
        _modify {
            // Taken out while changed: the only reference to its rows, never copied.
            var screen = screens.removeValue(forKey: .flows) as! FlowsScreen
            defer { screens[.flows] = screen }
            yield &screen
        }
    }
    public var timeline: TimelineScreen {
        get { screens[.timeline] as! TimelineScreen }
        _modify {
            // Taken out while changed: the only reference to its rows, never copied.
            var screen = screens.removeValue(forKey: .timeline) as! TimelineScreen
            defer { screens[.timeline] = screen }
            yield &screen
        }
    }
    public var findings: FindingsScreen {
        get { screens[.findings] as! FindingsScreen }
        _modify {
            // Taken out while changed: the only reference to its rows, never copied.
            var screen = screens.removeValue(forKey: .findings) as! FindingsScreen
            defer { screens[.findings] = screen }
            yield &screen
        }
    }
    /// Detail and Help over the screen on view, the last one shown: Esc or q takes it off and shows what was under it.
    private var overlays: [(id: ScreenID, page: TextScreen)] = []
    /// What is on top: Help, Detail, or nil for the screen itself.
    private var overlay: ScreenID? { overlays.last?.id }
    public var detail: TextScreen? { overlays.last { $0.id == .detail }?.page }
    public var help: TextScreen? { overlays.last { $0.id == .help }?.page }
    public var status: Status
    public private(set) var summary = Summary()
    public var names = AddressNames()
    /// The raw packet behind a message, if still held (the Detail hex view and `w`).
    public var packets: (CapturePoint) -> CapturedPacket? = { _ in nil }
    /// `20261126-201500`, for default file names.
    public var fileStamp: () -> String = { "now" }
    /// Where exports go (default: the working directory).
    public var directory = ""
    public private(set) var wantsQuit = false
    /// While rows pour in, keys move over the rows as last computed (instant with a million rows) and the periodic
    /// redraw brings them up to date; a change of view (filter, grouping, sort) recomputes at once regardless.
    public var defersRecompute = false
    public private(set) var isPaused = false
    public private(set) var message: (text: String, role: Role)?
    var prompt: Prompt<PromptKind>?
    private var held: [Event] = []
    /// Screens and filters to return to (Enter on a flow or a finding drills in; q and Esc come back).
    private var backStack: [(screen: ScreenID, filter: QueryFilter)] = []

    public init(source: String, store: QueryStore = QueryStore()) {
        self.status = Status(source: SafeText.escaped(source))
        self.store = store
    }

    // MARK: input from the capture

    /// A query as it enters matching, with what its arrival proved (shown pending until it settles).
    public mutating func queryArrived(_ sequence: Int, _ query: ObservedMessage, _ analysis: Analysis = Analysis()) {
        if isPaused { held.append(.query(sequence, query, analysis)) } else { store.queryArrived(sequence, query, analysis) }
    }

    /// A query's fate as soon as it is known: its response, or proof it is lost (the final analysis follows later).
    public mutating func matched(_ t: Transaction) {
        if isPaused { held.append(.matched(t)) } else { store.matched(t) }
    }

    /// A transaction whose analysis is final.
    public mutating func add(_ t: Transaction) {
        if isPaused { held.append(.settled(t)) } else { store.settled(t) }
    }

    /// Counts and findings from the pipeline; `percentiles` recomputes p50/p99 (call it now and then).
    /// The latencies are not kept: sharing them would make the pipeline copy them whole at its next answer after every
    /// redraw. The percentiles come from the pipeline's histogram (dnsflow's interface counts latencies so: bounded
    /// memory), or, from a pipeline that keeps every latency, from `sortedLatencies`, which takes in only the latencies
    /// added since the last time (sort those, merge).
    public mutating func update(summary: Summary, percentiles: Bool) {
        if percentiles, !summary.keepsExactLatencies {
            if let figures = summary.latencyFigures {
                status.p50 = figures.p50
                status.p99 = figures.p99
            }
        } else if percentiles {
            let fresh = summary.latencies[min(sortedLatencies.count, summary.latencies.count)...].sorted()
            if !fresh.isEmpty { sortedLatencies = App.merge(sortedLatencies, fresh) }
            if let figures = Summary.latencyFigures(sorted: sortedLatencies) {
                status.p50 = figures.p50
                status.p99 = figures.p99
            }
        }
        var kept = summary
        kept.latencies = []
        kept.serverLatencies = [:]
        kept.latencyHistogram = LatencyHistogram()
        kept.serverHistograms = [:]
        self.summary = kept
    }

    private var sortedLatencies: [Int64] = []

    static func merge(_ a: [Int64], _ b: [Int64]) -> [Int64] {
        var out: [Int64] = []
        out.reserveCapacity(a.count + b.count)
        var i = 0, j = 0
        while i < a.count, j < b.count {
            if a[i] <= b[j] { out.append(a[i]); i += 1 } else { out.append(b[j]); j += 1 }
        }
        out.append(contentsOf: a[i...])
        out.append(contentsOf: b[j...])
        return out
    }

    /// New rows seen while paused, waiting to be shown.
    public var heldCount: Int {
        var sequences: Set<Int> = []
        for event in held {
            switch event {
            case .query(let seq, _, _): sequences.insert(seq)
            case .matched(let t), .settled(let t): if store.entry(sequence: t.sequence) == nil { sequences.insert(t.sequence) }
            }
        }
        return sequences.count
    }

    static var helpPage: TextScreen { TextScreen(title: "Help — every key", lines: HelpText.lines) }

    // MARK: layout

    public static let minimumSize = (width: 60, height: 12)

    /// Rows of content between the two bars at the top and the footer.
    static func contentHeight(_ height: Int) -> Int { max(1, height - 3) }

    private func page(_ height: Int) -> Int {
        let content = App.contentHeight(height)
        return currentScreen()?.page(content: content) ?? max(1, content - 1)
    }

    /// Brings the shown screen's cached rows up to date (call before drawing or handling input). Only the screen on
    /// view is recomputed: the others catch up when switched to.
    public mutating func refresh(height: Int) {
        let context = self.context(height)
        withScreen { $0.update(context) }
    }

    /// What the screens see of the model, for a terminal `height` rows high.
    private func context(_ height: Int) -> ScreenContext {
        let q = queries
        return ScreenContext(store: store, page: page(height), names: names, summary: summary, shows: q.shows,
                             filterKey: "\(q.filter.text)|\(q.problemsOnly)", allowStale: defersRecompute)
    }

    /// `body` on the screen on view, changed where it lies (nil: no screen has that id).
    @discardableResult
    private mutating func withScreen<R>(_ body: (inout any Screen) -> R) -> R? {
        guard screens[screen] != nil else { return nil }
        return body(&screens[screen]!)
    }

    /// The screen on view, for drawing.
    private func currentScreen() -> (any Screen)? { screens[screen] }

    // MARK: keys

    /// Applies a key (a name from the key table: `Up`, `Enter`, `q`, …); returns whether to redraw.
    @discardableResult
    public mutating func handle(key: String, height: Int) -> Bool {
        refresh(height: height)
        if prompt != nil {
            defer { refresh(height: height) }
            return editPrompt(key)
        }
        message = nil
        if key == "Resize" { return true }
        let on = overlay ?? screen
        guard let action = KeyBindings.action(for: key, on: on) else { return true }
        let p = page(height)
        if let top = overlay {
            switch action {
            case .back, .quit: overlays.removeLast()
            case .help:
                if top == .help { overlays.removeLast() } else { overlays.append((.help, App.helpPage)) }
            case .up, .down, .pageUp, .pageDown, .home, .end:
                overlays[overlays.count - 1].page.perform(action, page: p)
            default:
                // Switching screens leaves the overlays.
                overlays.removeAll()
                return handle(key: key, height: height)
            }
            return true
        }
        switch action {
        case .quit:
            if !goBack() { wantsQuit = true }
        case .back: _ = goBack()
        case .help: overlays.append((.help, App.helpPage))
        case .screen1, .screen2, .screen3, .screen4:
            // `screenN`: the N-th tab.
            if let n = Int(action.rawValue.dropFirst("screen".count)), ScreenID.tabs.indices.contains(n - 1) { switchTo(ScreenID.tabs[n - 1]) }
        case .nextScreen, .previousScreen:
            let tabs = ScreenID.tabs
            let i = tabs.firstIndex(of: screen) ?? 0
            switchTo(tabs[(i + (action == .nextScreen ? 1 : tabs.count - 1)) % tabs.count])
        case .filter:
            prompt = Prompt(kind: .filter, label: "filter: ", text: queries.filter.text)
        case .problems:
            queries.problemsOnly.toggle()
            message = (queries.problemsOnly ? "showing problem rows only (f: all rows)" : "showing all rows", .message)
        case .export:
            guard store.markedCount > 0 else {
                message = ("nothing marked: Space marks a row, or a flow on the Flows screen; E exports every row shown", .rcodeError)
                return true
            }
            prompt = Prompt(kind: .exportMarked, label: "export \(rowCount(store.markedCount, "marked ")) to CSV: ", text: directory + "dnsflow-\(fileStamp()).csv")
        case .exportAll:
            let file = directory + "dnsflow-\(fileStamp())"
            switch currentScreen()?.exportScope ?? .shownRows {
            case .flows:
                let n = flows.rows.count
                prompt = Prompt(kind: .exportFlows, label: "export \(n) flow\(n == 1 ? "" : "s") to CSV: ", text: file + "-flows.csv")
            case .finding(let id):
                prompt = Prompt(kind: .exportFinding(id), label: "export the \(rowCount(findingRows(id).count)) of \(id) to CSV: ",
                                text: file + "-\(id).csv")
            case .nothing(let why):
                message = (why, .message)
                return true
            case .shownRows:
                prompt = Prompt(kind: .exportAll, label: "export \(rowCount(queries.shownEntries(store).count)) to CSV: ", text: file + ".csv")
            }
        case .markAllShown:
            let shown = queries.shownEntries(store)
            for e in shown where !e.isMarked { store.setMarked(e, true) }
            message = ("marked \(rowCount(shown.count)) the filter shows (U clears every mark)", .message)
        case .clearMarks:
            let marked = store.markedEntries
            for e in marked { store.setMarked(e, false) }
            message = ("cleared the marks of \(rowCount(marked.count))", .message)
        case .savePcap:
            guard store.markedCount > 0 else {
                message = ("nothing marked: Space marks a row; w saves the marked queries' packets", .rcodeError)
                return true
            }
            prompt = Prompt(kind: .savePcap, label: "save the packets of \(rowCount(store.markedCount, "marked ")) to pcap: ", text: directory + "dnsflow-\(fileStamp()).pcap")
        case .pause:
            guard status.canPause else {
                message = ("p pauses a live capture or a replay; this file is read whole", .message)
                return true
            }
            setPaused(!isPaused)
        default:
            let context = self.context(height)
            switch withScreen({ $0.react(to: action, context) }) ?? .ignored {
            case .ignored, .handled: break
            case .drill(let filter): drill(into: filter)
            case .detail(let e): openDetail(e)
            case .message(let text, let role): message = (text, role)
            }
        }
        refresh(height: height)
        return true
    }

    private mutating func switchTo(_ s: ScreenID) {
        screen = s
        backStack.removeAll()
    }

    /// Returns to the screen before a drill-down; false when there is none (a top screen).
    private mutating func goBack() -> Bool {
        guard let last = backStack.popLast() else { return false }
        screen = last.screen
        queries.filter = last.filter
        return true
    }

    private mutating func drill(into filterText: String) {
        backStack.append((screen, queries.filter))
        queries.filter = (try? QueryFilter(filterText)) ?? queries.filter
        screen = .queries
    }

    private mutating func openDetail(_ e: Entry) {
        let t = store.transaction(of: e)
        let q = t.question.map { "\($0.name.presentation(trailingDot: false)) \($0.type)" } ?? "?"
        overlays.append((.detail, TextScreen(title: "Detail — \(q)", lines: DetailText.lines(for: t, packet: packets, names: names))))
    }

    /// `1 marked row`, `2 marked rows`.
    private func rowCount(_ n: Int, _ kind: String = "") -> String { "\(n) \(kind)row\(n == 1 ? "" : "s")" }

    /// A line for the footer until the next key (a cut-off capture, an error of the loop).
    public mutating func notify(_ text: String, role: Role = .message) { message = (text, role) }

    public mutating func setPaused(_ paused: Bool) {
        isPaused = paused
        guard !paused else { return }
        for event in held {
            switch event {
            case .query(let seq, let q, let a): store.queryArrived(seq, q, a)
            case .matched(let t): store.matched(t)
            case .settled(let t): store.settled(t)
            }
        }
        held.removeAll()
    }

    // MARK: prompt

    private mutating func editPrompt(_ key: String) -> Bool {
        guard var p = prompt else { return false }
        let outcome = p.edit(key)
        prompt = nil
        switch outcome {
        case .editing: prompt = p
        case .cancelled: message = ("cancelled", .message)
        case .submitted: submit(p)
        case .answered(let yes):
            guard case .overwrite(let path, let kind) = p.kind else { break }
            if yes { write(kind, to: path, overwrite: true) } else { message = ("not written: \(path) exists", .message) }
        }
        return true
    }

    private mutating func submit(_ p: Prompt<PromptKind>) {
        switch p.kind {
        case .filter:
            do {
                queries.filter = try QueryFilter(p.text)
                message = queries.filter.isEmpty ? ("filter cleared", .message) : nil
            } catch {
                message = ("filter not applied: \(error.description)", .rcodeError)
            }
        case .exportMarked, .exportAll, .savePcap, .exportFlows, .exportFinding:
            let path = p.text.trimmingSpaces
            guard !path.isEmpty else {
                message = ("no file name: nothing written", .message)
                return
            }
            write(p.kind, to: path, overwrite: false)
        default: break
        }
    }

    /// The rows a finding names (what Enter on it shows).
    private func findingRows(_ id: String) -> [Entry] { store.entries.filter { $0.facts.findings.contains(id) } }

    /// Writes what `kind` exports (the prompt's answer) to `path`; says how it went in the footer.
    private mutating func write(_ kind: PromptKind, to path: String, overwrite: Bool) {
        let content: ExportContent
        switch kind {
        case .exportAll: content = .rows(queries.shownEntries(store))
        case .exportFinding(let id): content = .rows(findingRows(id))
        case .exportFlows: content = .flows(flows.rows)
        case .savePcap: content = .packets(store.markedEntries)
        default: content = .rows(store.markedEntries)
        }
        do {
            message = try Exports.write(content, to: path, overwrite: overwrite, store: store, names: names, packets: packets)
        } catch {
            if error.exists {
                prompt = Prompt(kind: .overwrite(path: path, of: kind), label: "\(path) exists; overwrite? (y/n) ", text: "", isQuestion: true)
            } else {
                message = ("not written: \(error.description)" + (kind == .exportMarked || kind == .savePcap ? "; the marks are kept" : ""), .rcodeError)
            }
        }
    }

    // MARK: mouse

    /// A click selects a row or switches a tab; the wheel scrolls.
    @discardableResult
    public mutating func handle(mouse: Mouse, width: Int, height: Int) -> Bool {
        refresh(height: height)
        guard prompt == nil else { return false }
        switch mouse {
        case .wheelUp: return handle(key: "Up", height: height) && handle(key: "Up", height: height) && handle(key: "Up", height: height)
        case .wheelDown: return handle(key: "Down", height: height) && handle(key: "Down", height: height) && handle(key: "Down", height: height)
        case .click(let x, let y):
            if y == 0 {
                for (tab, range) in App.tabRanges(findings: summary.findings.count) where range.contains(x) {
                    overlays.removeAll()
                    switchTo(tab)
                    refresh(height: height)
                    return true
                }
                return false
            }
            guard overlay == nil else { return false }
            // Rows from the layout: the two bars at the top, then the screen's own headings.
            let context = self.context(height)
            guard withScreen({ $0.select(row: y - 2 - $0.headingRows, context) }) == true else { return false }
            refresh(height: height)
            return true
        }
    }

    /// Each tab's label and columns in the top bar (Findings with its count).
    static func tabRanges(findings: Int) -> [(ScreenID, Range<Int>)] {
        var x = 9
        return ScreenID.tabs.map { tab in
            let label = tabLabel(tab, findings: findings)
            defer { x += label.count + 1 }
            return (tab, x..<(x + label.count))
        }
    }

    static func tabLabel(_ tab: ScreenID, findings: Int) -> String {
        " \(tab.rawValue) \(tab.title)" + (tab == .findings && findings > 0 ? " (\(findings))" : "") + " "
    }

    // MARK: drawing

    public func render(width: Int, height: Int) -> Canvas {
        var c = Canvas(width: width, height: height)
        guard width >= App.minimumSize.width, height >= App.minimumSize.height else {
            c.put(0, 0, "Terminal too small: \(width)x\(height).", .unanswered)
            c.put(0, 1, "dnsflow needs at least \(App.minimumSize.width)x\(App.minimumSize.height); q quits.")
            return c
        }
        drawTabs(into: &c)
        drawStatus(into: &c, y: 1)
        let content = App.contentHeight(height)
        if let top = overlays.last {
            top.page.render(into: &c, y0: 2, height: content)
        } else {
            currentScreen()?.render(into: &c, y0: 2, height: content, context(height))
        }
        drawFooter(into: &c, y: height - 1)
        return c
    }

    private func drawTabs(into c: inout Canvas) {
        c.paintRow(0, .tab)
        c.put(0, 0, " dnsflow ", .tabActive)
        let active = overlay == nil ? screen : nil
        let tabs = App.tabRanges(findings: summary.findings.count)
        for (tab, range) in tabs {
            c.put(range.lowerBound, 0, App.tabLabel(tab, findings: summary.findings.count), tab == active ? .tabActive : .tab)
        }
        var tabsEnd = (tabs.last?.1.upperBound ?? 50) + 1
        if let overlay = overlay?.title {
            tabsEnd = c.put(tabsEnd, 0, " ▸ \(overlay) ", .tabActive) + 1
        }
        var mode = status.mode
        if isPaused { mode = "paused" + (heldCount == 0 ? "" : " +\(heldCount)") }
        if let p = status.progress, status.mode == "loading" { mode += " \(Int(p * 100))%" }
        // Mode first, then the source, cut from the left (the file name matters most); the mode always shows.
        let modeText = " [\(mode)] "
        let room = c.width - tabsEnd - modeText.count - 1
        let source = room < 8 ? "" : status.source.count > room ? "…" + String(status.source.suffix(room - 1)) : status.source
        let x = max(min(tabsEnd, c.width - modeText.count), c.width - modeText.count - source.count - 1)
        let after = c.put(x, 0, modeText, isPaused || status.mode == "live" ? .tabActive : .tab)
        c.put(after, 0, source, .tab)
    }

    private func drawStatus(into c: inout Canvas, y: Int) {
        let s = summary
        // Final counts, and what the rows already prove (a re-send, a query it made unanswerable) before that.
        let unanswered = s.unanswered + store.unansweredPending, resends = s.resends + store.resendsPending
        // Long labels when they fit, short ones on a narrow terminal; narrower still, without p50 and no evictions; last,
        // the lookups' own words shortened.
        for level in 0..<4 {
            let short = level > 0, shortest = level >= 2
            func label(_ long: String, _ brief: String) -> String { short ? brief : long }
            // The lookups keep their words until nothing else can give way.
            func lookupLabel(_ long: String, _ brief: String) -> String { level == 3 ? brief : long }
            // What the application waited leads: lookups (whole search-list walks), how many took 1 s or more, the
            // longest; then the packets and queries behind them, and per-query latency.
            var parts: [(String, Role)] = [
                (lookupLabel("lookups", "lk") + " \(s.lookups)", .normal),
                ("slow \(s.slowLookups)", s.slowLookups > 0 ? .latencyTimeout : .normal),
            ]
            if s.lookups > 0 {
                let (text, role) = QueryRow.latencyText(s.slowestLookupNanoseconds)
                parts.append((lookupLabel("worst ", "max ") + text.dropFirst(), role))
            }
            parts += [
                (label("packets", "pkts") + " \(status.packetsShown ?? s.packet.packets)", .normal), (label("queries", "q") + " \(s.queryMessages)", .normal),
                (label("answered", "ans") + " \(s.answered + store.answeredPending)", .normal),
                (label("unanswered", "✗") + " \(unanswered)", unanswered > 0 ? .unanswered : .normal),
                (label("re-sends", "↻") + " \(resends)", resends > 0 ? .retry : .normal),
            ]
            if let p50 = status.p50, let p99 = status.p99 {
                if !shortest { parts.append(("p50 \(QueryRow.duration(p50))", .normal)) }
                parts.append(("p99 \(QueryRow.duration(p99))", QueryRow.latencyText(p99).1))
            }
            if let drops = status.kernelDrops { parts.append((label("drops", "drop") + " \(drops)", drops > 0 ? .unanswered : .normal)) }
            if store.evicted > 0 || !shortest {
                parts.append((label("evicted", "evict") + " \(store.evicted)", store.evicted > 0 ? .retry : .normal))
            }
            // A flood: queries that stopped waiting early, lookups finalised early (only when there are some).
            let cut = s.queriesGivenUp + s.lookupsCutShort
            if cut > 0 { parts.append((label("flood: given up", "given up") + " \(s.queriesGivenUp)/\(s.lookupsCutShort)", .unanswered)) }
            let streams = s.packet.tcpStreamEvictions
            if streams > 0 { parts.append((label("tcp streams evicted", "tcp evicted") + " \(streams)", .unanswered)) }
            if store.markedCount > 0 { parts.append((label("marked", "*") + " \(store.markedCount)", .marked)) }
            if !queries.filter.isEmpty { parts.append(("/" + queries.filter.text, .finding)) }
            if queries.problemsOnly { parts.append((label("problems only", "f"), .finding)) }
            let length = parts.map { $0.0.count + 2 }.reduce(0, +)
            if length > c.width, level < 3 { continue }
            var x = 1
            for (text, role) in parts { x = c.put(x, y, text, role) + 2 }
            return
        }
    }

    private func drawFooter(into c: inout Canvas, y: Int) {
        if let prompt {
            var x = c.put(0, y, prompt.label, .footerKey)
            x = c.put(x, y, prompt.text, .normal)
            c.put(x, y, "█", .normal)
            return
        }
        if let message {
            c.put(0, y, " " + message.text, message.role)
            return
        }
        let on = overlay ?? screen
        var x = 0
        let keys = overlay != nil ? [("Esc", "back"), ("↑↓", "scroll"), ("1-4", "screens"), ("q", "back")] : KeyBindings.footer(on: on)
        for (key, label) in keys where x + key.count + label.count + 2 < c.width {
            x = c.put(x, y, key, .footerKey)
            x = c.put(x, y, " " + label + " ", .footer)
        }
        c.put(x, y, String(repeating: " ", count: max(0, c.width - x)), .footer)
    }
}
