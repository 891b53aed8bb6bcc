import DNSFlowCore

/// What a screen sees of the model: the rows, the page it has, names for addresses, the counts, and the rows the
/// Queries filter shows (which Flows and the Timeline follow).
public struct ScreenContext {
    public let store: QueryStore
    /// Rows of the list on view (content less the screen's headings).
    public let page: Int
    public let names: AddressNames
    public let summary: Summary
    /// The rows the filter (and `f`) show, and a key that changes when they may.
    public let shows: (Entry) -> Bool
    public let filterKey: String
    /// Rows may be as last computed (keys while rows pour in): no recomputation.
    public let allowStale: Bool
}

/// What a key on a screen asks of the application beyond the screen itself.
public enum Reaction: Equatable {
    /// Not a key of this screen.
    case ignored
    /// Done, within the screen.
    case handled
    /// Show the Queries screen filtered so (a flow's, a finding's rows), with a way back.
    case drill(String)
    /// Open a row's Detail.
    case detail(Entry)
    /// A line for the footer.
    case message(String, Role)
}

/// What `E` exports on a screen.
public enum ExportScope: Equatable {
    /// Every row the filter shows (`--csv` columns).
    case shownRows
    /// The flows on the screen (`--flows-csv` columns).
    case flows
    /// One finding's rows.
    case finding(String)
    /// Nothing here to export, and why.
    case nothing(String)
}

/// One screen of the interface, as an object: it updates from the model, handles a key and says what the key asks
/// of the application, selects a row by its place on screen (a click), and renders into the rows it is given. A new
/// screen is a type conforming to this, plus its keys in `KeyBindings.table`.
public protocol Screen {
    init()
    /// Rows of heading between the top of the screen's area and its first row (a click's row is counted from there).
    var headingRows: Int { get }
    /// Rows of the list on view in `content` rows of screen.
    func page(content: Int) -> Int
    mutating func update(_ context: ScreenContext)
    mutating func react(to action: Action, _ context: ScreenContext) -> Reaction
    /// Selects the row drawn `row` rows below the headings; false when there is none there.
    mutating func select(row: Int, _ context: ScreenContext) -> Bool
    func render(into canvas: inout Canvas, y0: Int, height: Int, _ context: ScreenContext)
    /// What `E` exports here.
    var exportScope: ExportScope { get }
}

extension Screen {
    public func page(content: Int) -> Int { max(1, content - headingRows) }
    public var exportScope: ExportScope { .shownRows }
}

extension QueriesScreen: Screen {
    public var headingRows: Int { 1 }
    public mutating func update(_ c: ScreenContext) { update(c.store, page: c.page, allowStale: c.allowStale) }

    public mutating func react(to action: Action, _ c: ScreenContext) -> Reaction {
        if action == .open, case .query(let e)? = selectedLine { return .detail(e) }
        return perform(action, store: c.store, page: c.page) ? .handled : .ignored
    }

    public mutating func select(row: Int, _ c: ScreenContext) -> Bool {
        cursor.select(shown: row, count: lines.count, page: c.page)
    }

    public func render(into canvas: inout Canvas, y0: Int, height: Int, _ c: ScreenContext) {
        render(into: &canvas, y0: y0, height: height, names: c.names)
    }
}

extension FlowsScreen: Screen {
    public var headingRows: Int { 1 }
    public var exportScope: ExportScope { .flows }
    public mutating func update(_ c: ScreenContext) {
        update(c.store, shows: c.shows, filterKey: c.filterKey, page: c.page, allowStale: c.allowStale)
    }

    public mutating func react(to action: Action, _ c: ScreenContext) -> Reaction {
        if action == .open {
            guard let g = selected, g.number < FlowGroup.numberlessBase else { return .handled }
            return .drill("flow:\(g.number)")
        }
        return perform(action, store: c.store, page: c.page) ? .handled : .ignored
    }

    public mutating func select(row: Int, _ c: ScreenContext) -> Bool {
        cursor.select(shown: row, count: rows.count, page: c.page)
    }

    public func render(into canvas: inout Canvas, y0: Int, height: Int, _ c: ScreenContext) {
        render(into: &canvas, y0: y0, height: height, names: c.names)
    }
}

extension TimelineScreen: Screen {
    /// The column headings and the axis.
    public var headingRows: Int { 2 }
    /// Less the histogram below, when shown.
    public func page(content: Int) -> Int {
        let histogram = showsHistogram && content >= 18 ? min(TimelineScreen.bands.count + 3, content / 2) : 0
        return max(1, content - histogram - headingRows)
    }
    public mutating func update(_ c: ScreenContext) {
        update(c.store, shows: c.shows, filterKey: c.filterKey, page: c.page, allowStale: c.allowStale)
    }

    public mutating func react(to action: Action, _ c: ScreenContext) -> Reaction {
        if action == .open {
            guard let row = rows[safe: cursor.index] else { return .handled }
            return .detail(row.attempts[row.attempts.count - 1])
        }
        return perform(action, store: c.store, page: c.page) ? .handled : .ignored
    }

    public mutating func select(row: Int, _ c: ScreenContext) -> Bool {
        cursor.select(shown: row, count: rows.count, page: c.page)
    }

    public func render(into canvas: inout Canvas, y0: Int, height: Int, _ c: ScreenContext) {
        render(into: &canvas, y0: y0, height: height, store: c.store)
    }
}

extension FindingsScreen: Screen {
    public var headingRows: Int { 1 }
    public var exportScope: ExportScope {
        guard let f = selected, f.finding.id != "slow-server" else { return .nothing("no finding with rows selected (slow-server is capture-wide)") }
        return .finding(f.finding.id)
    }
    public mutating func update(_ c: ScreenContext) { update(c.summary) }

    public mutating func react(to action: Action, _ c: ScreenContext) -> Reaction {
        if action == .open {
            guard let f = selected else { return .handled }
            if f.finding.id == "slow-server" {
                return .message("slow-server is capture-wide: sort Flows by latency (s) to see the server", .message)
            }
            return .drill("finding:\(f.finding.id)")
        }
        return perform(action, page: c.page) ? .handled : .ignored
    }

    /// Findings are blocks of several lines: a click does not select one.
    public mutating func select(row: Int, _ c: ScreenContext) -> Bool { false }

    public func render(into canvas: inout Canvas, y0: Int, height: Int, _ c: ScreenContext) {
        render(into: &canvas, y0: y0, height: height)
    }
}
