#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

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
    public let fingerprint: UInt64

    public static let maxLength = 255      // RFC 1035 §3.1, including length octets and the root
    public static let maxLabels = 127
    /// Compression pointers one name may follow: a real name needs at most one per label (and every compressor
    /// writes one), so this is never reached but by a crafted chain of pointers to pointers.
    public static let maxPointers = 127
    static let capitalBit: UInt64 = 1 << 63

    public init(wire: [UInt8]) {
        self.init(wire: wire, hash: ByteHash.hash(wire))
    }

    /// `hash`: `ByteHash.hash(wire)`, already worked out (a test gives another, to make two names share a fingerprint).
    init(wire: [UInt8], hash: UInt64) {
        self.wire = wire
        // Length octets are at most 63: only label octets can fall in A...Z.
        let capitals = DNSName.hasCapital(wire)
        fingerprint = hash & ~DNSName.capitalBit | (capitals ? DNSName.capitalBit : 0)
    }

    public func hash(into hasher: inout Hasher) { hasher.combine(fingerprint) }

    /// Whether any octet is an ASCII capital, eight at a time: each octet's low seven bits plus 0x3f reach 0x80 from
    /// `A` up, plus 0x25 from `[` up (no carry crosses octets), and an octet with its top bit set is not ASCII.
    static func hasCapital(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { raw in
            let ones: UInt64 = 0x0101_0101_0101_0101, low7: UInt64 = 0x7f7f_7f7f_7f7f_7f7f, top = ones &* 0x80
            var i = 0
            while i + 8 <= raw.count {
                let w = raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)
                let l = w & low7
                if (l &+ ones &* 0x3f) & ~(l &+ ones &* 0x25) & ~w & top != 0 { return true }
                i += 8
            }
            while i < raw.count {
                if raw[i] &- 0x41 < 26 { return true }
                i += 1
            }
            return false
        }
    }

    public static func == (a: DNSName, b: DNSName) -> Bool {
        guard a.fingerprint == b.fingerprint, a.wire.count == b.wire.count else { return false }
        // Compared eight octets at a time (the array's own `==` went octet by octet, at every dictionary probe that hit),
        // unless both share their octets: names read again share them (`NameCache`), and most finds that hit are of a
        // name the cache gave both times.
        return a.wire.withUnsafeBytes { x in
            b.wire.withUnsafeBytes { y in
                if x.baseAddress == y.baseAddress { return true }
                var i = 0
                while i + 8 <= x.count {
                    if x.loadUnaligned(fromByteOffset: i, as: UInt64.self) != y.loadUnaligned(fromByteOffset: i, as: UInt64.self) {
                        return false
                    }
                    i += 8
                }
                while i < x.count {
                    if x[i] != y[i] { return false }
                    i += 1
                }
                return true
            }
        }
    }
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

    /// The same name without regard to ASCII case (the two `lowercased` equal), worked out without a lowercased copy
    /// when neither has a capital (most names on the wire).
    public func equalsIgnoringCase(_ other: DNSName) -> Bool {
        if (fingerprint | other.fingerprint) & DNSName.capitalBit == 0 { return self == other }
        return lowercased == other.lowercased
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
    public func appendPresentation<Out: OctetSink & ~Copyable>(trailingDot: Bool, to out: inout Out) {
        if wire.isEmpty {
            out.append(UInt8(ascii: "."))
            return
        }
        wire.withUnsafeBytes { labels in
            var i = 0
            while i < labels.count {
                if i > 0 { out.append(UInt8(ascii: ".")) }
                let end = min(i + 1 + Int(labels[i]), labels.count)
                let label = UnsafeRawBufferPointer(rebasing: labels[(i + 1)..<end])
                // A label with nothing to escape (almost every one) goes in one run.
                if label.allSatisfy(DNSName.isPlain) {
                    out.append(contentsOf: label)
                } else {
                    for b in label { DNSName.appendEscaped(b, to: &out) }
                }
                i = end
            }
        }
        if trailingDot { out.append(UInt8(ascii: ".")) }
    }

    /// An octet presentation form writes as it is: printable ASCII but the dot, the backslash and the zone file's
    /// specials.
    @inline(__always)
    static func isPlain(_ b: UInt8) -> Bool {
        b >= 0x21 && b <= 0x7e && b != UInt8(ascii: ".") && b != UInt8(ascii: "\\") && b != UInt8(ascii: "\"")
            && b != UInt8(ascii: ";") && b != UInt8(ascii: "(") && b != UInt8(ascii: ")") && b != UInt8(ascii: "@")
            && b != UInt8(ascii: "$")
    }

    /// RFC 1035 §5.1 escaping as BIND and dig write it: `\.` `\\` and the zone-file specials get a
    /// backslash; space, control and non-ASCII bytes become `\DDD` (decimal).
    static func appendEscaped<Out: OctetSink & ~Copyable>(_ b: UInt8, to out: inout Out) {
        if isPlain(b) {
            out.append(b)
        } else if b >= 0x21 && b <= 0x7e {
            out.append(UInt8(ascii: "\\"))
            out.append(b)
        } else {
            appendDecimalEscape(b, to: &out)
        }
    }

    static func appendDecimalEscape<Out: OctetSink & ~Copyable>(_ b: UInt8, to out: inout Out) {
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
    /// run of labels that contains it, so the targets strictly decrease; a name follows at most `maxPointers`
    /// pointers (a chain of pointers to pointers otherwise costs up to 32,768 jumps a name, and a message is
    /// thousands of names); the decompressed name is capped at 255 octets and 127 labels; the reserved label
    /// types 0b01 and 0b10 are rejected; and every read is
    /// bounded by `cursor.end` (labels) or the message (pointer targets). On return the cursor is just past
    /// the name's bytes in place (after its first pointer, if any).
    static func read(from cursor: inout ByteCursor, cache: NameCache? = nil) throws(DNSParseError) -> DNSName {
        let start = cursor.offset, end = cursor.end
        // The message's octets read where the cursor holds them (a local copy of the list would be a reference to count).
        let (name, resumeAt) = try cursor.bytes.withUnsafeBufferPointer { (m) throws(DNSParseError) -> (DNSName, Int) in
            // Two walks over the same labels: the first checks and measures, the second copies into a buffer of
            // exactly that size (no growing, no per-label slices: this ran for every question and most owner names).
            let (length, resumeAt, inPlace) = try measure(m, start: start, end: end)
            // A name with no compression pointer (every question's, most often) lies in the message as its wire form:
            // copied as one run (an array made from a buffer is specialised here; one made uninitialised goes through
            // the standard library's generic path).
            if inPlace {
                if let cache { return (cache.name(m, start: start, length: length), resumeAt) }
                return (DNSName(wire: Array(UnsafeBufferPointer(rebasing: m[start..<start + length]))), resumeAt)
            }
            let wire = [UInt8](unsafeUninitializedCapacity: length) { out, initialized in
                copyLabels(m, start: start, into: out)
                initialized = length
            }
            return (DNSName(wire: wire), resumeAt)
        }
        _ = cursor.moveTo(resumeAt)
        return name
    }

    /// Steps over a name as `read` reads it (the same checks, the same defects), copying nothing.
    static func skip(from cursor: inout ByteCursor) throws(DNSParseError) {
        let start = cursor.offset, end = cursor.end
        let (_, resumeAt, _) = try cursor.bytes.withUnsafeBufferPointer { (m) throws(DNSParseError) -> (Int, Int, Bool) in
            try measure(m, start: start, end: end)
        }
        _ = cursor.moveTo(resumeAt)
    }

    /// The name's wire length (labels with their length octets, root excluded), the offset just past it in place, and
    /// whether it lies whole in place (no compression pointer: its labels are `start..<start + length`).
    private static func measure(
        _ message: UnsafeBufferPointer<UInt8>, start: Int, end: Int
    ) throws(DNSParseError) -> (length: Int, resumeAt: Int, inPlace: Bool) {
        var pos = start
        var runStart = pos          // pointer targets must be < this
        var limit = end             // labels in place are bounded by the cursor; after a jump, by the message
        var resumeAt = -1
        var length = 0
        var labels = 0
        var pointers = 0
        while true {
            guard pos < limit else {
                throw DNSParseError(.truncated, "name runs past the end at offset \(pos)")
            }
            let len = message[pos]
            switch len & 0xc0 {
            case 0x00:
                if len == 0 {
                    return (length, resumeAt < 0 ? pos + 1 : resumeAt, resumeAt < 0)
                }
                let n = Int(len)
                guard pos + 1 + n <= limit else {
                    throw DNSParseError(.truncated, "label of \(n) octets runs past the end at offset \(pos)")
                }
                labels += 1
                guard labels <= DNSName.maxLabels, length + 1 + n + 1 <= DNSName.maxLength else {
                    throw DNSParseError(.nameTooLong, "name longer than 255 octets at offset \(pos)")
                }
                length += 1 + n
                pos += 1 + n
            case 0xc0:
                guard pos + 1 < limit else {
                    throw DNSParseError(.truncated, "compression pointer cut off at offset \(pos)")
                }
                let target = Int(len & 0x3f) << 8 | Int(message[pos + 1])
                guard target < runStart else {
                    throw DNSParseError(.badPointer, "compression pointer at offset \(pos) to \(target) does not point backwards")
                }
                pointers += 1
                guard pointers <= DNSName.maxPointers else {
                    throw DNSParseError(.badPointer, "more than \(DNSName.maxPointers) compression pointers in one name at offset \(pos)")
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

    /// The labels `measure` accepted, copied in order (it checked every bound and pointer on this same path).
    private static func copyLabels(_ message: UnsafeBufferPointer<UInt8>, start: Int, into out: UnsafeMutableBufferPointer<UInt8>) {
        var pos = start, written = 0
        while true {
            let len = message[pos]
            if len == 0 { return }
            if len & 0xc0 == 0xc0 {
                pos = Int(len & 0x3f) << 8 | Int(message[pos + 1])
                continue
            }
            let count = 1 + Int(len)
            UnsafeMutableRawPointer(out.baseAddress! + written)
                .copyMemory(from: message.baseAddress! + pos, byteCount: count)
            written += count
            pos += count
        }
    }
}

/// The names read lately, each kept where its octets' hash puts it (one a slot: a name that lands on a taken slot takes
/// it): a name read again — the response's question after the query's, the AAAA's after the A's, the next lookup of
/// the same name — is the one already made, its octets shared, where each was a new array. For the thread that reads
/// the messages (`DecodingStage`); bounded (its slots, and the names in them).
final class NameCache {
    @exclusivity(unchecked) private var slots: [DNSName?]
    private let mask: Int

    /// `slots`: a power of two.
    init(slots: Int = 4096) {
        precondition(slots > 0 && slots & (slots - 1) == 0)
        self.slots = Array(repeating: nil, count: slots)
        mask = slots - 1
    }

    /// The name whose wire form is `message[start..<start + length]` (checked labels, no pointer).
    func name(_ message: UnsafeBufferPointer<UInt8>, start: Int, length: Int) -> DNSName {
        let octets = UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(message)[start..<start + length])
        let hash = ByteHash.hash(octets)
        let slot = Int(truncatingIfNeeded: hash) & mask
        if let held = slots[slot], held.fingerprint & ~DNSName.capitalBit == hash & ~DNSName.capitalBit,
           held.wire.count == length, held.wire.withUnsafeBytes({ memcmp($0.baseAddress!, octets.baseAddress!, length) == 0 })
        {
            return held
        }
        let name = DNSName(wire: Array(octets), hash: hash)
        slots[slot] = name
        return name
    }
}
