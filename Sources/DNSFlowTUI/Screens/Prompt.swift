/// A one-line editor in the footer: a filter, a file name, or a yes/no question.
struct Prompt<Kind> {
    var kind: Kind
    var label: String
    var text: String
    /// A yes/no question: any key answers it.
    var isQuestion = false

    enum Outcome {
        case editing
        case cancelled
        case submitted(String)
        case answered(yes: Bool)
    }

    /// Edits with `key`: Enter submits, Esc cancels, Backspace and Ctrl-U delete; printable keys type.
    mutating func edit(_ key: String) -> Outcome {
        if isQuestion { return .answered(yes: key == "y" || key == "Y") }
        switch key {
        case "Esc": return .cancelled
        case "Enter": return .submitted(text)
        case "Backspace": if !text.isEmpty { text.removeLast() }
        case "Ctrl-U": text = ""
        case "Space": text.append(" ")
        default:
            guard key.count == 1, let scalar = key.unicodeScalars.first, scalar.value >= 0x20, scalar.value != 0x7f else { break }
            text.append(key)
        }
        return .editing
    }
}
