/// What may reach a terminal, a report or a file as itself. Names and text from the wire are escaped where they are
/// presented (RFC 1035 `\DDD`: `DNSName.appendEscaped`, `RDataPresentation.quoted`), so they never hold anything
/// else; text from files a user gave (`--names`) and whatever a screen draws goes through this.
public enum SafeText {
    /// Whether a scalar is shown as itself: not a C0 or C1 control or DEL (ESC, CSI, OSC and BEL start terminal
    /// commands), not a format character (bidi overrides and isolates, zero-width joiners: they reorder or hide
    /// what follows), not a line or paragraph separator, not a surrogate, private-use or unassigned code point.
    public static func isShowable(_ s: Unicode.Scalar) -> Bool {
        if s.value < 0x20 || (0x7f...0x9f).contains(s.value) { return false }
        if s.isASCII { return true }
        switch s.properties.generalCategory {
        case .control, .format, .lineSeparator, .paragraphSeparator, .surrogate, .privateUse, .unassigned: return false
        default: return true
        }
    }

    /// The text with every scalar that is not `isShowable` written as its UTF-8 octets in `\DDD` (as dig writes names,
    /// and dnsflow too): for what a user typed or a file is called (paths, devices, filters), shown in messages.
    public static func escaped(_ s: String) -> String {
        guard !s.unicodeScalars.allSatisfy(isShowable) else { return s }
        var out = ""
        for u in s.unicodeScalars {
            if isShowable(u) {
                out.unicodeScalars.append(u)
            } else {
                for b in String(u).utf8 { out += "\\" + String(repeating: "0", count: b < 10 ? 2 : b < 100 ? 1 : 0) + String(b) }
            }
        }
        return out
    }

    /// The text with every scalar that is not `isShowable` replaced by `?`.
    public static func printable(_ s: String) -> String {
        guard !s.unicodeScalars.allSatisfy(isShowable) else { return s }
        var out = String.UnicodeScalarView()
        for u in s.unicodeScalars { out.append(isShowable(u) ? u : "?") }
        return String(out)
    }
}
