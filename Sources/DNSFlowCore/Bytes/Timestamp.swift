/// A capture timestamp: seconds since the Unix epoch plus nanoseconds, and how many sub-second digits the
/// capture actually carries (6 for classic microsecond pcap, 9 for nanosecond pcap/pcapng).
public struct Timestamp: Hashable, Comparable, Sendable {
    public var seconds: Int64
    public var nanoseconds: UInt32
    public var digits: UInt8

    public init(seconds: Int64, nanoseconds: UInt32, digits: UInt8 = 9) {
        self.seconds = seconds
        self.nanoseconds = nanoseconds
        self.digits = digits
    }

    /// The times dnsflow represents: 1970-01-01 to 2223-07-06 (8,000,000,000 s), so that a time in nanoseconds, and
    /// a time plus any window the analysis adds, fit in 64 bits. A capture's time outside it (a crafted pcapng's
    /// INT64_MIN, say) is read as the nearest end of it and counted (`PcapHandle.clampedTimestamps`).
    public static let representableSeconds: ClosedRange<Int64> = 0...8_000_000_000

    /// A capture's time, brought into `representableSeconds` (and its nanoseconds below a second); `clamped` says
    /// whether it had to be.
    public init(capturedSeconds seconds: Int64, nanoseconds: UInt32, digits: UInt8 = 9, clamped: inout Bool) {
        let range = Timestamp.representableSeconds
        let inside = range.contains(seconds) && nanoseconds < 1_000_000_000
        clamped = !inside
        self.init(seconds: min(max(seconds, range.lowerBound), range.upperBound),
                  nanoseconds: inside ? nanoseconds : min(nanoseconds, 999_999_999), digits: digits)
    }

    public static func < (a: Timestamp, b: Timestamp) -> Bool {
        a.seconds != b.seconds ? a.seconds < b.seconds : a.nanoseconds < b.nanoseconds
    }

    public static func == (a: Timestamp, b: Timestamp) -> Bool {
        a.seconds == b.seconds && a.nanoseconds == b.nanoseconds
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(seconds)
        hasher.combine(nanoseconds)
    }

    /// Nanoseconds since the epoch (valid until the year 2262).
    public var totalNanoseconds: Int64 { seconds &* 1_000_000_000 &+ Int64(nanoseconds) }

    /// `self - earlier` in nanoseconds.
    public func nanoseconds(since earlier: Timestamp) -> Int64 {
        (seconds - earlier.seconds) &* 1_000_000_000 &+ (Int64(nanoseconds) - Int64(earlier.nanoseconds))
    }

    /// The timestamp `n` nanoseconds since the epoch (with this one's digits).
    public func addingNanoseconds(_ n: Int64) -> Timestamp {
        Timestamp(seconds: n / 1_000_000_000, nanoseconds: UInt32(n % 1_000_000_000), digits: digits)
    }

    public func adding(seconds s: Int64) -> Timestamp {
        Timestamp(seconds: seconds + s, nanoseconds: nanoseconds, digits: digits)
    }

    /// ISO 8601 in UTC with the capture's sub-second digits: `2026-11-26T14:22:49.123456Z`. Written as octets:
    /// every CSV row has two, and building it from small strings was a tenth of a `--csv` run.
    public var iso8601: String {
        var out: [UInt8] = []
        out.reserveCapacity(32)
        appendISO8601(to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// `iso8601`, appended to a buffer of octets.
    public func appendISO8601<Out: OctetSink & ~Copyable>(to out: inout Out) {
        var none = ISO8601Second()
        appendISO8601(to: &out, reusing: &none)
    }

    /// `appendISO8601`, for a writer of many timestamps in a row: the date and clock of the second written last are
    /// kept in `last`, and worked out again only for another second. Put together on the stack and appended in one run
    /// (to a list of octets, an octet appended alone is a check that the list is unique and has room).
    public func appendISO8601<Out: OctetSink & ~Copyable>(to out: inout Out, reusing last: inout ISO8601Second) {
        if last.seconds != seconds {
            var run = TextRun()
            appendDateAndClock(to: &run)
            last = ISO8601Second(seconds: seconds, text: run)
        }
        var run = last.text
        appendFraction(to: &run)
        run.append(UInt8(ascii: "Z"))
        run.write(to: &out)
    }

    /// `2026-11-26T14:22:49`: the date and the clock to the second.
    private func appendDateAndClock(to run: inout TextRun) {
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = seconds - days * 86_400
        let (y, m, d) = Timestamp.civil(fromDays: days)
        run.append(y, width: 4)
        run.append(UInt8(ascii: "-"))
        run.append(m, width: 2)
        run.append(UInt8(ascii: "-"))
        run.append(d, width: 2)
        run.append(UInt8(ascii: "T"))
        appendSecondOfDay(secondOfDay, to: &run)
    }

    /// `HH:MM:SS` and the fraction with the capture's digits.
    private func appendClock<Out: OctetSink & ~Copyable>(_ secondOfDay: Int64, to out: inout Out) {
        var run = TextRun()
        appendSecondOfDay(secondOfDay, to: &run)
        appendFraction(to: &run)
        run.write(to: &out)
    }

    /// `HH:MM:SS` (`secondOfDay` is within a day: 8 octets).
    private func appendSecondOfDay(_ secondOfDay: Int64, to run: inout TextRun) {
        run.append(secondOfDay / 3600, width: 2)
        run.append(UInt8(ascii: ":"))
        run.append(secondOfDay / 60 % 60, width: 2)
        run.append(UInt8(ascii: ":"))
        run.append(secondOfDay % 60, width: 2)
    }

    /// `.` and the capture's sub-second digits (none for a capture without them): at most 10 octets.
    private func appendFraction(to run: inout TextRun) {
        let n = Int(min(digits, 9))
        guard n > 0 else { return }
        run.append(UInt8(ascii: "."))
        var value = Int64(nanoseconds)
        for _ in 0..<(9 - n) { value /= 10 }
        run.append(value, width: n)
    }

    /// The sub-second part with exactly `digits` digits.
    public var fraction: String {
        let n = Int(min(digits, 9))
        var value = Int64(nanoseconds)
        for _ in 0..<(9 - n) { value /= 10 }
        return Timestamp.pad(value, n)
    }

    /// `HH:MM:SS.ffffff` in UTC, as tcpdump prints with `-tt`-less defaults (we always use UTC).
    public var timeOfDay: String {
        let secondOfDay = ((seconds % 86_400) + 86_400) % 86_400
        var out: [UInt8] = []
        out.reserveCapacity(20)
        appendClock(secondOfDay, to: &out)
        if digits == 0 { out += [UInt8(ascii: "."), UInt8(ascii: "0")] }    // as it always printed
        return String(decoding: out, as: UTF8.self)
    }

    static func pad<I: BinaryInteger>(_ value: I, _ width: Int) -> String {
        guard value >= 0, let v = Int64(exactly: value) else {
            let s = String(value)
            return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
        }
        var out: [UInt8] = []
        out.reserveCapacity(max(width, 20))
        append(v, width: width, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends a non-negative number in decimal, zero-padded to `width` (wider numbers keep every digit); a
    /// negative one (a year before 0) with its sign.
    static func append<Out: OctetSink & ~Copyable>(_ value: Int64, width: Int, to out: inout Out) {
        if value < 0 {
            guard value != .min else { return out.append(contentsOf: String(value).utf8) }
            out.append(UInt8(ascii: "-"))
            append(0 - value, width: max(0, width - 1), to: &out)
            return
        }
        var v = UInt64(value)
        // Eight digits at most with their padding (ports, counts, sizes, the parts of a time): one word, put together
        // from the right so that the first digit is its lowest octet, and written at once.
        if v < 100_000_000, width <= 8 {
            var word: UInt64 = 0
            var n = 0
            // Two digits a step (a division by a hundred, their two octets from a table), then the last one or two.
            while v >= 100 {
                let q = v / 100
                word = word << 16 | UInt64(Timestamp.digitPairs[Int(v &- q &* 100)])
                n += 2
                v = q
            }
            if v >= 10 {
                word = word << 16 | UInt64(Timestamp.digitPairs[Int(v)])
                n += 2
            } else {
                word = word << 8 | (v &+ 48)
                n += 1
            }
            if width > n {
                let pad = UInt64(width - n)
                word = word << (8 * pad) | 0x3030_3030_3030_3030 >> (8 * (8 - pad))
                n = width
            }
            return out.append(word: word, count: n)
        }
        // Sixteen digits at most go through the words below; a larger number's leading digits first, on their own.
        var width = width
        if v >= 10_000_000_000_000_000 {
            append(Int64(v / 10_000_000_000_000_000), width: max(0, width - 16), to: &out)
            v %= 10_000_000_000_000_000
            width = 16
        }
        // The digits from the right, an octet each in two words (no buffer in memory, no closure around the sink);
        // then the padding's zeros and the digits, left to right. (Unsigned: a division by ten is a multiplication and
        // a shift, with no sign to correct.)
        var low: UInt64 = 0, high: UInt64 = 0
        var n = 0
        repeat {
            let q = v / 10
            let digit = (v &- q &* 10) &+ 48
            if n < 8 { low |= digit << UInt64(8 * n) } else { high |= digit << UInt64(8 * (n - 8)) }
            n += 1
            v = q
        } while v > 0
        var pad = width - n
        while pad > 0 {
            out.append(48)
            pad -= 1
        }
        while n > 8 {
            n -= 1
            out.append(UInt8(truncatingIfNeeded: high >> UInt64(8 * (n - 8))))
        }
        while n > 0 {
            n -= 1
            out.append(UInt8(truncatingIfNeeded: low >> UInt64(8 * n)))
        }
    }

    /// The two digits of 0 to 99 as the two octets of a word, the first digit the lower octet (`append`'s order).
    private static let digitPairs: [UInt16] = (0..<100).map { UInt16(48 + $0 / 10) | UInt16(48 + $0 % 10) << 8 }

    /// Howard Hinnant's days-from-civil inverse: proleptic Gregorian (y, m, d) for days since 1970-01-01.
    static func civil(fromDays z0: Int64) -> (Int64, Int64, Int64) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let y = yoe + era * 400
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (m <= 2 ? y + 1 : y, m, d)
    }
}

/// The date and clock of one second as ISO 8601 writes them (`2026-11-26T14:22:49`), kept by a writer of many
/// timestamps (`Timestamp.appendISO8601(to:reusing:)`): a CSV row has two, mostly of the second of the row before.
public struct ISO8601Second {
    fileprivate var seconds: Int64 = .min
    fileprivate var text = TextRun()

    public init() {}

    fileprivate init(seconds: Int64, text: TextRun) {
        self.seconds = seconds
        self.text = text
    }
}

/// A few octets of text put together on the stack, then appended to a list of octets in one run: for text made of
/// many small pieces (a timestamp), where appending each piece to the list checked each time that the list is unique
/// and has room. Holds at most `capacity` octets; what would go past it is not written.
struct TextRun {
    static let capacity = 40
    private var storage: (UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0)
    private(set) var count = 0

    @inline(__always) mutating func append(_ byte: UInt8) {
        let i = count
        guard i < TextRun.capacity else { return }
        withUnsafeMutableBytes(of: &storage) { $0[i] = byte }
        count = i + 1
    }

    /// A number in decimal, zero-padded to `width` characters (a wider one keeps every digit); a negative one (a year
    /// before 0) with its sign, as `Timestamp.append` writes it.
    @inline(__always) mutating func append(_ number: Int64, width digits: Int) {
        var value = number, width = digits
        if value < 0 {
            guard value != .min else { return }
            append(UInt8(ascii: "-"))
            value = 0 - value
            width = max(0, width - 1)
        }
        var length = 1
        var rest = value / 10
        while rest > 0 {
            length += 1
            rest /= 10
        }
        let start = count, end = start + max(length, width)
        guard end <= TextRun.capacity else { return }
        withUnsafeMutableBytes(of: &storage) { bytes in
            var v = value
            var i = end
            while i > start {
                i -= 1
                bytes[i] = UInt8(truncatingIfNeeded: v % 10) &+ 48
                v /= 10
            }
        }
        count = end
    }

    func write<Out: OctetSink & ~Copyable>(to out: inout Out) {
        let n = count
        withUnsafeBytes(of: storage) { out.append(contentsOf: UnsafeRawBufferPointer(rebasing: $0[..<n])) }
    }
}
