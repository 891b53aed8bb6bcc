import DNSFlowCore

/// One line of styled text: runs of (text, role). Control characters never enter a run: they become `?`, as
/// `Canvas.put` draws them, so a line is safe whoever prints it.
public struct StyledLine: Sendable, Hashable {
    public struct Run: Sendable, Hashable {
        public var text: String
        public var role: Role

        public init(_ text: String, _ role: Role = .normal) {
            self.text = StyledLine.printable(text)
            self.role = role
        }
    }

    public var runs: [Run]

    public init(runs: [Run] = []) { self.runs = runs }

    /// A line of one run.
    public init(_ text: String, _ role: Role = .normal) { runs = [Run(text, role)] }

    /// Adds a run, merged into the last one when the role is the same.
    public mutating func append(_ text: String, _ role: Role = .normal) {
        guard !text.isEmpty else { return }
        if let last = runs.last, last.role == role {
            runs[runs.count - 1].text += StyledLine.printable(text)
        } else {
            runs.append(Run(text, role))
        }
    }

    /// The characters without their roles.
    public var text: String { runs.map(\.text).joined() }

    static func printable(_ s: String) -> String {
        guard s.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7f }) else { return s }
        return String(String.UnicodeScalarView(s.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7f ? "?" : $0 }))
    }
}
