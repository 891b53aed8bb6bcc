/// The screens: four on tabs (number keys), two opened over them.
public enum ScreenID: Int, Hashable, Sendable, CaseIterable {
    case queries = 1, flows, timeline, findings, detail, help

    public static let tabs: [ScreenID] = [.queries, .flows, .timeline, .findings]

    /// A tab's screen, new (nil for the overlays): a new screen is its file, its case here and its line below.
    func makeScreen() -> (any Screen)? {
        switch self {
        case .queries: QueriesScreen()
        case .flows: FlowsScreen()
        case .timeline: TimelineScreen()
        case .findings: FindingsScreen()
        case .detail, .help: nil
        }
    }

    public var title: String {
        switch self {
        case .queries: "Queries"
        case .flows: "Flows"
        case .timeline: "Timeline"
        case .findings: "Findings"
        case .detail: "Detail"
        case .help: "Help"
        }
    }
}

/// What a key does: the key handling and the help screen are both generated from this one table (htop's way).
public enum Action: String, Hashable, Sendable, CaseIterable {
    case up, down, pageUp, pageDown, home, end, open, back, quit, help
    case screen1, screen2, screen3, screen4, nextScreen, previousScreen
    case toggleGrouping, collapse, expand, mark, markAllShown, clearMarks, export, exportAll, savePcap, filter, problems, pause, sort
    case zoomIn, zoomOut, scrollEarlier, scrollLater, toggleHistogram
}

public struct KeyBinding: Sendable {
    public var keys: [String]
    public var action: Action
    public var help: String
    /// Screens where it applies; nil: everywhere.
    public var screens: Set<ScreenID>?
    /// The footer's word for it (the main keys only; nil: not in the footer).
    public var footer: String?

    public init(_ keys: [String], _ action: Action, _ help: String, on screens: Set<ScreenID>? = nil, footer: String? = nil) {
        self.keys = keys
        self.action = action
        self.help = help
        self.screens = screens
        self.footer = footer
    }

    public func applies(on screen: ScreenID) -> Bool { screens?.contains(screen) ?? true }
}

public enum KeyBindings {
    private static let lists: Set<ScreenID> = [.queries, .flows, .timeline, .findings]
    private static let rows: Set<ScreenID> = [.queries, .flows, .timeline]

    public static let table: [KeyBinding] = [
        KeyBinding(["Up", "k"], .up, "previous row (Detail, Help: scroll)"),
        KeyBinding(["Down", "j"], .down, "next row (Detail, Help: scroll)"),
        KeyBinding(["PgUp"], .pageUp, "previous page"),
        KeyBinding(["PgDn"], .pageDown, "next page"),
        KeyBinding(["Home"], .home, "first row"),
        KeyBinding(["End"], .end, "last row, and follow new rows"),
        KeyBinding(["Enter"], .open, "open: a query's detail, fold a flow, a flow's queries, a finding's rows", on: lists, footer: "open"),
        KeyBinding(["1"], .screen1, "Queries"),
        KeyBinding(["2"], .screen2, "Flows"),
        KeyBinding(["3"], .screen3, "Timeline"),
        KeyBinding(["4"], .screen4, "Findings"),
        KeyBinding(["Tab"], .nextScreen, "next screen"),
        KeyBinding(["BackTab"], .previousScreen, "previous screen"),
        KeyBinding(["Left"], .collapse, "fold the flow", on: [.queries]),
        KeyBinding(["Right"], .expand, "unfold the flow", on: [.queries]),
        KeyBinding(["g"], .toggleGrouping, "grouped by flow / flat in time order", on: [.queries], footer: "group"),
        KeyBinding(["Space"], .mark, "mark the row (Flows: the flow's queries)", on: rows, footer: "mark"),
        KeyBinding(["/"], .filter, "filter rows (name, type:AAAA, rcode:NXDOMAIN, status:unanswered, retry, client:IP, >100ms …)", on: lists, footer: "filter"),
        KeyBinding(["f"], .problems, "only problem rows: unanswered, retried, partial pairs, slow queries and lookups, errors", on: lists, footer: "problems"),
        KeyBinding(["s"], .sort, "sort by the next column (Queries: time, lookup wait, latency, name, type; Flows: first seen, wait, queries, unanswered, worst query)", on: [.queries, .flows]),
        KeyBinding(["T"], .markAllShown, "mark every row the filter shows (tag all)", on: rows),
        KeyBinding(["U"], .clearMarks, "clear every mark (untag all)", on: rows),
        KeyBinding(["e"], .export, "export the marked rows to CSV", on: lists, footer: "export"),
        KeyBinding(["E"], .exportAll, "export what the screen shows to CSV (Queries, Timeline: its rows; Flows: the flows, --flows-csv columns; Findings: the selected finding's rows)", on: lists),
        KeyBinding(["w"], .savePcap, "save the marked queries' packets to a pcap file", on: lists),
        KeyBinding(["p"], .pause, "pause / resume the display of a live capture or replay"),
        KeyBinding(["+", "="], .zoomIn, "zoom in", on: [.timeline], footer: "zoom"),
        KeyBinding(["-"], .zoomOut, "zoom out", on: [.timeline]),
        KeyBinding(["Left", "h"], .scrollEarlier, "earlier in time", on: [.timeline]),
        KeyBinding(["Right", "l"], .scrollLater, "later in time", on: [.timeline]),
        KeyBinding(["H"], .toggleHistogram, "show / hide the latency histogram", on: [.timeline]),
        KeyBinding(["?", "F1"], .help, "this help", footer: "help"),
        KeyBinding(["Esc"], .back, "back"),
        KeyBinding(["q"], .quit, "back; quit on a top screen", footer: "quit"),
    ]

    /// The binding of `key` on `screen` (the first that applies there).
    public static func action(for key: String, on screen: ScreenID) -> Action? {
        table.first { $0.keys.contains(key) && $0.applies(on: screen) }?.action
    }

    /// `Enter open  1 queries  …` for the footer of `screen`, in table order.
    public static func footer(on screen: ScreenID) -> [(key: String, label: String)] {
        table.compactMap { b in b.applies(on: screen) ? b.footer.map { (b.keys[0], $0) } : nil }
    }
}
