/// What a key does: the key handling and the help screen are both generated from this one table (htop's way).
public enum Action: String, Hashable, Sendable, CaseIterable {
    case up, down, pageUp, pageDown, home, end, open, back, toggleGrouping, collapse, expand, mark, export, help, quit
}

public struct KeyBinding: Sendable {
    public var keys: [String]
    public var action: Action
    public var help: String
    /// Shown in the footer (the main keys only).
    public var inFooter: Bool
}

public enum KeyBindings {
    public static let table: [KeyBinding] = [
        KeyBinding(keys: ["Up", "k"], action: .up, help: "previous row", inFooter: false),
        KeyBinding(keys: ["Down", "j"], action: .down, help: "next row", inFooter: false),
        KeyBinding(keys: ["PgUp"], action: .pageUp, help: "previous page", inFooter: false),
        KeyBinding(keys: ["PgDn"], action: .pageDown, help: "next page", inFooter: false),
        KeyBinding(keys: ["Home"], action: .home, help: "first row", inFooter: false),
        KeyBinding(keys: ["End"], action: .end, help: "last row (and follow new rows)", inFooter: false),
        KeyBinding(keys: ["Enter"], action: .open, help: "open the query, or fold a flow", inFooter: true),
        KeyBinding(keys: ["Left"], action: .collapse, help: "fold the flow", inFooter: false),
        KeyBinding(keys: ["Right"], action: .expand, help: "unfold the flow", inFooter: false),
        KeyBinding(keys: ["g"], action: .toggleGrouping, help: "grouped by flow / flat in time order", inFooter: true),
        KeyBinding(keys: ["Space"], action: .mark, help: "mark the row (or the whole flow)", inFooter: true),
        KeyBinding(keys: ["e"], action: .export, help: "export the marked rows to CSV", inFooter: true),
        KeyBinding(keys: ["?", "F1"], action: .help, help: "this help", inFooter: true),
        KeyBinding(keys: ["Esc"], action: .back, help: "back", inFooter: false),
        KeyBinding(keys: ["q"], action: .quit, help: "back; quit on a top screen", inFooter: true),
    ]

    public static func action(for key: String) -> Action? {
        table.first { $0.keys.contains(key) }?.action
    }

    /// `Enter open  g group  …` for the footer, in table order.
    public static var footer: [(key: String, label: String)] {
        table.filter(\.inFooter).map { ($0.keys[0], $0.help.split(separator: " ").first.map(String.init) ?? "") }
    }
}
