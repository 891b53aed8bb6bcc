/// An IPv4 or IPv6 address, stored inline (no allocation), printed as `inet_ntop` does (RFC 5952 for v6).
public enum IPAddress: Hashable, Sendable, CustomStringConvertible {
    case v4(UInt32)
    case v6(UInt64, UInt64)

    public init?(bytes: ArraySlice<UInt8>) {
        let s = bytes.startIndex  // read in place: no copy per address
        switch bytes.count {
        case 4:
            self = .v4(UInt32(bytes[s]) << 24 | UInt32(bytes[s + 1]) << 16 | UInt32(bytes[s + 2]) << 8 | UInt32(bytes[s + 3]))
        case 16:
            var hi: UInt64 = 0, lo: UInt64 = 0
            for i in 0..<8 { hi = hi << 8 | UInt64(bytes[s + i]) }
            for i in 8..<16 { lo = lo << 8 | UInt64(bytes[s + i]) }
            self = .v6(hi, lo)
        default:
            return nil
        }
    }

    /// `description`, appended to a buffer of octets (no string built).
    public func appendText<Out: OctetSink & ~Copyable>(to out: inout Out) {
        switch self {
        case .v4(let a):
            IPAddress.appendV4(a, to: &out)
        case .v6(let hi, let lo):
            // IPv4-mapped ::ffff:a.b.c.d
            if hi == 0, lo >> 32 == 0xffff {
                out.append(contentsOf: "::ffff:".utf8)
                return IPAddress.appendV4(UInt32(truncatingIfNeeded: lo), to: &out)
            }
            func group(_ i: Int) -> UInt16 {
                UInt16(truncatingIfNeeded: (i < 4 ? hi : lo) >> UInt64(48 - 16 * (i & 3)))
            }
            // Longest run (length >= 2) of zero groups becomes "::" (RFC 5952 §4.2), the first of equal runs.
            var bestStart = -1, bestLen = 0, i = 0
            while i < 8 {
                if group(i) == 0 {
                    var j = i
                    while j < 8, group(j) == 0 { j += 1 }
                    if j - i > bestLen { bestStart = i; bestLen = j - i }
                    i = j
                } else {
                    i += 1
                }
            }
            if bestLen < 2 { bestStart = -1 }
            i = 0
            while i < 8 {
                if i == bestStart {
                    out.append(UInt8(ascii: ":"))
                    out.append(UInt8(ascii: ":"))
                    i += bestLen
                    continue
                }
                if i > 0, i != bestStart + bestLen || bestStart < 0 { out.append(UInt8(ascii: ":")) }
                IPAddress.appendHex(group(i), to: &out)
                i += 1
            }
        }
    }

    private static func appendV4<Out: OctetSink & ~Copyable>(_ a: UInt32, to out: inout Out) {
        var shift: UInt32 = 24
        while true {
            let octet = UInt8(truncatingIfNeeded: a >> shift)
            if octet >= 100 { out.append(48 + octet / 100) }
            if octet >= 10 { out.append(48 + octet / 10 % 10) }
            out.append(48 + octet % 10)
            if shift == 0 { return }
            out.append(UInt8(ascii: "."))
            shift -= 8
        }
    }

    /// A group in lowercase hex without leading zeros (`0` for zero).
    private static func appendHex<Out: OctetSink & ~Copyable>(_ g: UInt16, to out: inout Out) {
        var shift = 12
        while shift > 0, g >> UInt16(shift) == 0 { shift -= 4 }
        while shift >= 0 {
            let d = UInt8(truncatingIfNeeded: g >> UInt16(shift) & 0xf)
            out.append(d < 10 ? 48 + d : 87 + d)
            shift -= 4
        }
    }

    public var isIPv6: Bool { if case .v6 = self { return true } else { return false } }

    public var description: String {
        var out: [UInt8] = []
        out.reserveCapacity(39)
        appendText(to: &out)
        return String(decoding: out, as: UTF8.self)
    }
}

public enum TransportProtocol: String, Hashable, Sendable {
    case udp, tcp
}

/// An address and port as seen in one packet.
public struct Endpoint: Hashable, Sendable, CustomStringConvertible {
    public var address: IPAddress
    public var port: UInt16

    public init(address: IPAddress, port: UInt16) {
        self.address = address
        self.port = port
    }

    /// `1.2.3.4.53` / `2001:db8::1.53`, as tcpdump prints endpoints.
    public var description: String { "\(address).\(port)" }
}
