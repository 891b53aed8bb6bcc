/// Protocol code points as open structs: every value is representable, known ones have a mnemonic,
/// unknown ones print in RFC 3597 style (`TYPE65280`, `CLASS9`).
public struct DNSType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }
    public init(_ rawValue: UInt16) { self.rawValue = rawValue }

    public static let a = DNSType(1), ns = DNSType(2), md = DNSType(3), mf = DNSType(4), cname = DNSType(5)
    public static let soa = DNSType(6), mb = DNSType(7), mg = DNSType(8), mr = DNSType(9), null = DNSType(10)
    public static let wks = DNSType(11), ptr = DNSType(12), hinfo = DNSType(13), minfo = DNSType(14)
    public static let mx = DNSType(15), txt = DNSType(16), rp = DNSType(17), afsdb = DNSType(18)
    public static let rt = DNSType(21), sig = DNSType(24), key = DNSType(25), px = DNSType(26)
    public static let aaaa = DNSType(28), loc = DNSType(29), nxt = DNSType(30), srv = DNSType(33)
    public static let naptr = DNSType(35), kx = DNSType(36), cert = DNSType(37), dname = DNSType(39)
    public static let opt = DNSType(41), apl = DNSType(42), ds = DNSType(43), sshfp = DNSType(44)
    public static let ipseckey = DNSType(45), rrsig = DNSType(46), nsec = DNSType(47), dnskey = DNSType(48)
    public static let dhcid = DNSType(49), nsec3 = DNSType(50), nsec3param = DNSType(51), tlsa = DNSType(52)
    public static let smimea = DNSType(53), cds = DNSType(59), cdnskey = DNSType(60), openpgpkey = DNSType(61)
    public static let csync = DNSType(62), zonemd = DNSType(63), svcb = DNSType(64), https = DNSType(65)
    public static let spf = DNSType(99), tkey = DNSType(249), tsig = DNSType(250), ixfr = DNSType(251)
    public static let axfr = DNSType(252), any = DNSType(255), uri = DNSType(256), caa = DNSType(257)

    static let mnemonics: [UInt16: String] = [
        1: "A", 2: "NS", 3: "MD", 4: "MF", 5: "CNAME", 6: "SOA", 7: "MB", 8: "MG", 9: "MR", 10: "NULL",
        11: "WKS", 12: "PTR", 13: "HINFO", 14: "MINFO", 15: "MX", 16: "TXT", 17: "RP", 18: "AFSDB", 19: "X25",
        20: "ISDN", 21: "RT", 22: "NSAP", 23: "NSAP-PTR", 24: "SIG", 25: "KEY", 26: "PX", 27: "GPOS",
        28: "AAAA", 29: "LOC", 30: "NXT", 31: "EID", 32: "NIMLOC", 33: "SRV", 34: "ATMA", 35: "NAPTR",
        36: "KX", 37: "CERT", 38: "A6", 39: "DNAME", 40: "SINK", 41: "OPT", 42: "APL", 43: "DS",
        44: "SSHFP", 45: "IPSECKEY", 46: "RRSIG", 47: "NSEC", 48: "DNSKEY", 49: "DHCID", 50: "NSEC3",
        51: "NSEC3PARAM", 52: "TLSA", 53: "SMIMEA", 55: "HIP", 56: "NINFO", 57: "RKEY", 58: "TALINK",
        59: "CDS", 60: "CDNSKEY", 61: "OPENPGPKEY", 62: "CSYNC", 63: "ZONEMD", 64: "SVCB", 65: "HTTPS",
        66: "DSYNC", 99: "SPF", 100: "UINFO", 101: "UID", 102: "GID", 103: "UNSPEC", 104: "NID", 105: "L32",
        106: "L64", 107: "LP", 108: "EUI48", 109: "EUI64", 128: "NXNAME", 249: "TKEY", 250: "TSIG",
        251: "IXFR", 252: "AXFR", 253: "MAILB", 254: "MAILA", 255: "ANY", 256: "URI", 257: "CAA",
        258: "AVC", 259: "DOA", 260: "AMTRELAY", 261: "RESINFO", 262: "WALLET", 32768: "TA", 32769: "DLV",
    ]

    /// The mnemonics of the first 512 types by index: no hashing for a name printed on every row.
    static let table: [String?] = (0..<512).map { mnemonics[UInt16($0)] }

    public var description: String {
        (rawValue < 512 ? DNSType.table[Int(rawValue)] : DNSType.mnemonics[rawValue]) ?? "TYPE\(rawValue)"
    }
}

public struct DNSClass: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }
    public init(_ rawValue: UInt16) { self.rawValue = rawValue }

    public static let internet = DNSClass(1), chaos = DNSClass(3), hesiod = DNSClass(4)
    public static let none = DNSClass(254), any = DNSClass(255)

    public var description: String {
        switch rawValue {
        case 1: "IN"
        case 3: "CH"
        case 4: "HS"
        case 254: "NONE"
        case 255: "ANY"
        default: "CLASS\(rawValue)"
        }
    }
}

/// RCODE, 12 bits once EDNS's extended bits are added (RFC 6891 §6.1.3).
public struct DNSRCode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }
    public init(_ rawValue: UInt16) { self.rawValue = rawValue }

    public static let noError = DNSRCode(0), formErr = DNSRCode(1), servFail = DNSRCode(2)
    public static let nxDomain = DNSRCode(3), notImp = DNSRCode(4), refused = DNSRCode(5)

    static let mnemonics: [UInt16: String] = [
        0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP", 5: "REFUSED", 6: "YXDOMAIN",
        7: "YXRRSET", 8: "NXRRSET", 9: "NOTAUTH", 10: "NOTZONE", 11: "DSOTYPENI", 16: "BADVERS", 17: "BADKEY",
        18: "BADTIME", 19: "BADMODE", 20: "BADNAME", 21: "BADALG", 22: "BADTRUNC", 23: "BADCOOKIE",
    ]

    static let table: [String?] = (0..<24).map { mnemonics[UInt16($0)] }

    public var description: String {
        (rawValue < 24 ? DNSRCode.table[Int(rawValue)] : DNSRCode.mnemonics[rawValue]) ?? "RCODE\(rawValue)"
    }
}

public struct DNSOpcode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let query = DNSOpcode(rawValue: 0)

    public var description: String {
        switch rawValue {
        case 0: "QUERY"
        case 1: "IQUERY"
        case 2: "STATUS"
        case 4: "NOTIFY"
        case 5: "UPDATE"
        case 6: "DSO"
        default: "OPCODE\(rawValue)"
        }
    }
}

/// EDNS option codes (IANA "DNS EDNS0 Option Codes (OPT)").
public struct EDNSOptionCode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }
    public init(_ rawValue: UInt16) { self.rawValue = rawValue }

    public static let nsid = EDNSOptionCode(3), clientSubnet = EDNSOptionCode(8), cookie = EDNSOptionCode(10)
    public static let tcpKeepalive = EDNSOptionCode(11), padding = EDNSOptionCode(12)
    public static let extendedError = EDNSOptionCode(15)

    static let mnemonics: [UInt16: String] = [
        1: "LLQ", 2: "UPDATE-LEASE", 3: "NSID", 5: "DAU", 6: "DHU", 7: "N3U", 8: "CLIENT-SUBNET", 9: "EXPIRE",
        10: "COOKIE", 11: "TCP-KEEPALIVE", 12: "PADDING", 13: "CHAIN", 14: "KEY-TAG", 15: "EXTENDED-ERROR",
        16: "CLIENT-TAG", 17: "SERVER-TAG", 18: "REPORT-CHANNEL", 19: "ZONEVERSION",
    ]

    public var description: String { EDNSOptionCode.mnemonics[rawValue] ?? "OPT\(rawValue)" }
}
