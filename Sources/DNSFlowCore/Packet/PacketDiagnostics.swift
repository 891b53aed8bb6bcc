/// What went wrong with one packet: a kind to count, a sentence for people, and where it was.
public struct Diagnostic: Hashable, Sendable {
    public struct Kind: RawRepresentable, Hashable, Sendable, CustomStringConvertible, Comparable {
        public var rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }
        public static func < (a: Kind, b: Kind) -> Bool { a.rawValue < b.rawValue }

        public static let truncatedLinkHeader = Kind(rawValue: "truncated-link-header")
        public static let badIPHeader = Kind(rawValue: "bad-ip-header")
        public static let truncatedIP = Kind(rawValue: "truncated-ip")
        public static let badUDPLength = Kind(rawValue: "bad-udp-length")
        public static let truncatedUDP = Kind(rawValue: "truncated-udp")
        public static let badTCPHeader = Kind(rawValue: "bad-tcp-header")
        public static let truncatedTCP = Kind(rawValue: "truncated-tcp")
        public static let badFragment = Kind(rawValue: "bad-fragment")

        /// A DNS-level defect (`truncated`, `bad-compression-pointer`, ...).
        public static func dns(_ code: DNSParseError.Code) -> Kind { Kind(rawValue: code.rawValue) }
    }

    public var kind: Kind
    public var reason: String
    public var timestamp: Timestamp
    public var point: CapturePoint

    public init(kind: Kind, reason: String, timestamp: Timestamp, point: CapturePoint) {
        self.kind = kind
        self.reason = reason
        self.timestamp = timestamp
        self.point = point
    }
}

/// Counters for everything below DNS. Nothing a packet does goes uncounted.
public struct PacketStats: Hashable, Sendable {
    public var packets = 0
    public var bytes = 0
    /// Packets cut by the snaplen (captured length < length on the wire).
    public var snaplenTruncated = 0
    /// Packets of a link type dnsflow does not decode, by link type.
    public var unsupportedLinkTypes: [LinkType: Int] = [:]
    /// Not IPv4/IPv6, or IP but neither UDP nor TCP.
    public var nonIP = 0
    public var otherTransport = 0
    /// UDP/TCP not on a DNS port.
    public var nonDNSPort = 0
    public var ipFragments = 0
    public var reassembledDatagrams = 0
    public var fragmentEvictions = 0
    public var tcpSegments = 0
    public var tcpRetransmissions = 0
    public var tcpOutOfOrder = 0
    public var tcpGaps = 0
    public var tcpResyncSkippedBytes = 0
    public var tcpStreamEvictions = 0
    /// Packets (or reassembled messages) that did not decode, by kind.
    public var malformed: [Diagnostic.Kind: Int] = [:]

    public init() {}

    public var malformedTotal: Int { malformed.values.reduce(0, +) }
}
