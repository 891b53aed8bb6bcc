/// A domain name as its uncompressed wire labels (each label: length byte + bytes; no terminating zero).
///
/// Kept as bytes, never as a raw `String`: a name may hold any octet, and it is only ever shown in
/// presentation form, where dots, backslashes and every non-printable byte are escaped (RFC 1035 §5.1).
public struct DNSName: Hashable, Sendable, CustomStringConvertible {
    /// Length-prefixed labels, root excluded.
    public private(set) var wire: [UInt8]
    /// A hash of the octets (`ByteHash`), computed once: names key the matcher's and the analysis's dictionaries, and
    /// hashing the bytes again at every lookup was a tenth of the run time. Equal names have equal fingerprints.
    /// Its top bit says whether the name has an ASCII capital (`lowercased` looks at it instead of the octets: it
    /// was asked five times a transaction, on the busier thread).
    let fingerprint: UInt64

    public static let maxLength = 255      // RFC 1035 §3.1, including length octets and the root
    public static let maxLabels = 127
    private static let capitalBit: UInt64 = 1 << 63

    public init(wire: [UInt8]) {
        self.wire = wire
        // Length octets are at most 63: only label octets can fall in A...Z.
        let capitals = wire.contains { $0 &- 0x41 < 26 }
        fingerprint = ByteHash.hash(wire) & ~DNSName.capitalBit | (capitals ? DNSName.capitalBit : 0)
    }

    public func hash(into hasher: inout Hasher) { hasher.combine(fingerprint) }

    public static func == (a: DNSName, b: DNSName) -> Bool { a.fingerprint == b.fingerprint && a.wire == b.wire }
    public static let root = DNSName(wire: [])

    /// A name from dotted text with no escapes (for tests and configuration).
    public init(_ text: String) {
        var wire = [UInt8]()
        for label in text.split(separator: ".", omittingEmptySubsequences: true) {
            let bytes = Array(label.utf8.prefix(63))
            wire.append(UInt8(bytes.count))
            wire += bytes
        }
        self.init(wire: wire)
    }

    public var isRoot: Bool { wire.isEmpty }

    public var labels: [ArraySlice<UInt8>] {
        var out = [ArraySlice<UInt8>]()
        var i = 0
        while i < wire.count {
            let n = Int(wire[i])
            out.append(wire[(i + 1)..<min(i + 1 + n, wire.count)])
            i += 1 + n
        }
        return out
    }

    /// Wire length including the root octet.
    public var wireLength: Int { wire.count + 1 }

    /// ASCII-lowercased copy, for case-insensitive comparison (DNS 0x20 randomisation).
    public var lowercased: DNSName {
        // Most names on the wire are lowercase already: then the name itself (no copy, no new fingerprint).
        guard fingerprint & DNSName.capitalBit != 0 else { return self }
        var copy = wire
        var i = 0
        while i < copy.count {
            let n = Int(copy[i])
            var j = i + 1
            while j <= i + n, j < copy.count {
                if copy[j] >= 0x41, copy[j] <= 0x5a { copy[j] |= 0x20 }
                j += 1
            }
            i += 1 + n
        }
        return DNSName(wire: copy)
    }

    /// Presentation form with a trailing dot (`www.example.com.`, `.` for the root).
    public var description: String { presentation(trailingDot: true) }

    /// Presentation form: `.` for the root; otherwise labels joined by dots, with or without the final dot.
    public func presentation(trailingDot: Bool) -> String {
        var out = [UInt8]()
        out.reserveCapacity(wire.count + 8)
        appendPresentation(trailingDot: trailingDot, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// `presentation(trailingDot:)`, appended to a buffer of octets.
    public func appendPresentation(trailingDot: Bool, to out: inout [UInt8]) {
        if wire.isEmpty {
            out.append(UInt8(ascii: "."))
            return
        }
        var i = 0
        var first = true
        while i < wire.count {
            let n = Int(wire[i])
            if !first { out.append(UInt8(ascii: ".")) }
            first = false
            var j = i + 1
            while j <= i + n, j < wire.count {
                DNSName.appendEscaped(wire[j], to: &out)
                j += 1
            }
            i += 1 + n
        }
        if trailingDot { out.append(UInt8(ascii: ".")) }
    }

    /// RFC 1035 §5.1 escaping as BIND and dig write it: `\.` `\\` and the zone-file specials get a
    /// backslash; space, control and non-ASCII bytes become `\DDD` (decimal).
    static func appendEscaped(_ b: UInt8, to out: inout [UInt8]) {
        switch b {
        case UInt8(ascii: "."), UInt8(ascii: "\\"), UInt8(ascii: "\""), UInt8(ascii: ";"),
             UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: "@"), UInt8(ascii: "$"):
            out.append(UInt8(ascii: "\\"))
            out.append(b)
        case 0x21...0x7e:
            out.append(b)
        default:
            appendDecimalEscape(b, to: &out)
        }
    }

    static func appendDecimalEscape(_ b: UInt8, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\\"))
        out.append(0x30 + b / 100)
        out.append(0x30 + b / 10 % 10)
        out.append(0x30 + b % 10)
    }
}

extension DNSName {
    /// Reads a possibly compressed name starting at `cursor.offset` of a whole DNS message (RFC 1035 §4.1.4).
    ///
    /// It cannot loop or overrun: every compression pointer must point strictly before the start of the
    /// run of labels that contains it, so the targets strictly decrease; the decompressed name is capped
    /// at 255 octets and 127 labels; the reserved label types 0b01 and 0b10 are rejected; and every read is
    /// bounded by `cursor.end` (labels) or the message (pointer targets). On return the cursor is just past
    /// the name's bytes in place (after its first pointer, if any).
    static func read(from cursor: inout ByteCursor) throws(DNSParseError) -> DNSName {
        let message = cursor.bytes
        var pos = cursor.offset
        var runStart = pos          // pointer targets must be < this
        var limit = cursor.end      // labels in place are bounded by the cursor; after a jump, by the message
        var resumeAt = -1
        var wire = [UInt8]()
        wire.reserveCapacity(48)
        var labels = 0
        while true {
            guard pos < limit else {
                throw DNSParseError(.truncated, "name runs past the end at offset \(pos)")
            }
            let len = message[pos]
            switch len & 0xc0 {
            case 0x00:
                if len == 0 {
                    if resumeAt < 0 { resumeAt = pos + 1 }
                    _ = cursor.moveTo(resumeAt)
                    return DNSName(wire: wire)
                }
                let n = Int(len)
                guard pos + 1 + n <= limit else {
                    throw DNSParseError(.truncated, "label of \(n) octets runs past the end at offset \(pos)")
                }
                labels += 1
                guard labels <= DNSName.maxLabels, wire.count + 1 + n + 1 <= DNSName.maxLength else {
                    throw DNSParseError(.nameTooLong, "name longer than 255 octets at offset \(pos)")
                }
                wire.append(len)
                wire.append(contentsOf: message[(pos + 1)...(pos + n)])
                pos += 1 + n
            case 0xc0:
                guard pos + 1 < limit else {
                    throw DNSParseError(.truncated, "compression pointer cut off at offset \(pos)")
                }
                let target = Int(len & 0x3f) << 8 | Int(message[pos + 1])
                guard target < runStart else {
                    throw DNSParseError(.badPointer, "compression pointer at offset \(pos) to \(target) does not point backwards")
                }
                if resumeAt < 0 { resumeAt = pos + 2 }
                runStart = target
                pos = target
                limit = message.count
            default:
                throw DNSParseError(.badLabelType, "reserved label type 0x\(String(len & 0xc0, radix: 16)) at offset \(pos)")
            }
        }
    }
}
