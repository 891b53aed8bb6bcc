/// Why a DNS message (or part of it) did not decode. Equality is on the code only (as swift-asn1 does):
/// the reason is for people, the code for counting.
public struct DNSParseError: Error, Hashable, Sendable, CustomStringConvertible {
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public var rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// Fewer than the 12 header octets.
        public static let truncatedHeader = Code(rawValue: "truncated-header")
        /// A section, a name or a record's fixed fields run past the end of the message.
        public static let truncated = Code(rawValue: "truncated")
        /// A compression pointer that does not point strictly backwards (loops, self and forward pointers).
        public static let badPointer = Code(rawValue: "bad-compression-pointer")
        /// A label with the reserved type bits 01 or 10.
        public static let badLabelType = Code(rawValue: "bad-label-type")
        /// A name over 255 octets or 127 labels once decompressed.
        public static let nameTooLong = Code(rawValue: "name-too-long")
        /// RDLENGTH runs past the end of the message.
        public static let badRDLength = Code(rawValue: "bad-rdlength")
        /// Record data that does not fit its type's layout, or leaves bytes unread.
        public static let badRData = Code(rawValue: "bad-rdata")
        /// An OPT record whose options overrun its RDATA.
        public static let badEDNS = Code(rawValue: "bad-edns-option")
    }

    public var code: Code
    public var reason: String

    public init(_ code: Code, _ reason: String) {
        self.code = code
        self.reason = reason
    }

    public static func == (a: DNSParseError, b: DNSParseError) -> Bool { a.code == b.code }
    public func hash(into hasher: inout Hasher) { hasher.combine(code) }
    public var description: String { "\(code): \(reason)" }
}
