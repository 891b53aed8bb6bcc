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

    /// `description`, appended to a buffer of octets (IPv4 without building a string).
    public func appendText(to out: inout [UInt8]) {
        guard case .v4(let a) = self else {
            out.append(contentsOf: description.utf8)
            return
        }
        for shift in [24, 16, 8, 0] as [UInt32] {
            if shift != 24 { out.append(UInt8(ascii: ".")) }
            let octet = UInt8(truncatingIfNeeded: a >> shift)
            if octet >= 100 { out.append(48 + octet / 100) }
            if octet >= 10 { out.append(48 + octet / 10 % 10) }
            out.append(48 + octet % 10)
        }
    }

    public var isIPv6: Bool { if case .v6 = self { return true } else { return false } }

    public var description: String {
        switch self {
        case .v4(let a):
            return "\(a >> 24).\(a >> 16 & 0xff).\(a >> 8 & 0xff).\(a & 0xff)"
        case .v6(let hi, let lo):
            var groups = [UInt16](repeating: 0, count: 8)
            for i in 0..<4 {
                groups[i] = UInt16(truncatingIfNeeded: hi >> UInt64(48 - 16 * i))
                groups[i + 4] = UInt16(truncatingIfNeeded: lo >> UInt64(48 - 16 * i))
            }
            // IPv4-mapped ::ffff:a.b.c.d
            if hi == 0, lo >> 32 == 0xffff {
                return "::ffff:" + IPAddress.v4(UInt32(truncatingIfNeeded: lo)).description
            }
            // Longest run (length >= 2) of zero groups becomes "::" (RFC 5952 §4.2).
            var bestStart = -1, bestLen = 0, i = 0
            while i < 8 {
                if groups[i] == 0 {
                    var j = i
                    while j < 8, groups[j] == 0 { j += 1 }
                    if j - i > bestLen { bestStart = i; bestLen = j - i }
                    i = j
                } else {
                    i += 1
                }
            }
            if bestLen < 2 { bestStart = -1 }
            var s = ""
            i = 0
            while i < 8 {
                if i == bestStart {
                    s += "::"
                    i += bestLen
                    continue
                }
                if !s.isEmpty, !s.hasSuffix(":") { s += ":" }
                s += String(groups[i], radix: 16)
                i += 1
            }
            return s
        }
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
