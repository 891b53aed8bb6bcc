/// A selection in a list taller than the screen: the cursor, the first row shown, and whether it follows the end
/// (autoscroll only while the cursor sits on the last row).
public struct ListCursor: Equatable, Sendable {
    public internal(set) var index = 0
    public internal(set) var top = 0
    public internal(set) var follows = false

    public init() {}

    /// Moves for a navigation action; returns false for an action that is not a move.
    @discardableResult
    public mutating func move(_ action: Action, count: Int, page: Int) -> Bool {
        let last = max(0, count - 1)
        switch action {
        case .up: index = max(0, index - 1)
        case .down: index = min(last, index + 1)
        case .pageUp: index = max(0, index - max(1, page - 1))
        case .pageDown: index = min(last, index + max(1, page - 1))
        case .home: index = 0
        case .end: index = last
        default: return false
        }
        follows = count > 0 && index == last
        scroll(page: page)
        return true
    }

    public mutating func select(_ i: Int, count: Int, page: Int) {
        index = max(0, min(i, count - 1))
        follows = count > 0 && index == count - 1
        scroll(page: page)
    }

    /// Keeps the cursor inside the list and on screen.
    public mutating func clamp(count: Int, page: Int) {
        index = max(0, min(index, count - 1))
        if follows { index = max(0, count - 1) }
        scroll(page: page)
    }

    private mutating func scroll(page: Int) {
        let page = max(1, page)
        if index < top { top = index }
        if index >= top + page { top = index - page + 1 }
        top = max(0, top)
    }

    /// Selects the row drawn `shown` rows below the first on view (a click); false when no row is there.
    public mutating func select(shown: Int, count: Int, page: Int) -> Bool {
        guard shown >= 0, top + shown < count else { return false }
        select(top + shown, count: count, page: page)
        return true
    }
}
