/// RFC 1035 §4.1.1 header.
///
///     0  1  2  3  4  5  6  7  8  9 10 11 12 13 14 15
///     |                      ID                      |
///     |QR|  Opcode   |AA|TC|RD|RA| Z|AD|CD|   RCODE  |
///     QDCOUNT, ANCOUNT, NSCOUNT, ARCOUNT
public struct DNSHeader: Hashable, Sendable {
    public struct Flags: OptionSet, Hashable, Sendable {
        public var rawValue: UInt16
        public init(rawValue: UInt16) { self.rawValue = rawValue }
        public static let response = Flags(rawValue: 0x8000)
        public static let authoritative = Flags(rawValue: 0x0400)
        public static let truncated = Flags(rawValue: 0x0200)
        public static let recursionDesired = Flags(rawValue: 0x0100)
        public static let recursionAvailable = Flags(rawValue: 0x0080)
        public static let zero = Flags(rawValue: 0x0040)
        public static let authenticData = Flags(rawValue: 0x0020)
        public static let checkingDisabled = Flags(rawValue: 0x0010)
    }

    public var id: UInt16
    public var flags: Flags
    public var questionCount: UInt16
    public var answerCount: UInt16
    public var authorityCount: UInt16
    public var additionalCount: UInt16

    public init(id: UInt16, flags: Flags, questionCount: UInt16, answerCount: UInt16, authorityCount: UInt16,
                additionalCount: UInt16) {
        self.id = id
        self.flags = flags
        self.questionCount = questionCount
        self.answerCount = answerCount
        self.authorityCount = authorityCount
        self.additionalCount = additionalCount
    }

    public var isResponse: Bool { flags.contains(.response) }
    public var isTruncated: Bool { flags.contains(.truncated) }
    public var opcode: DNSOpcode { DNSOpcode(rawValue: UInt8(flags.rawValue >> 11 & 0x0f)) }
    /// The four header RCODE bits; `DNSMessage.rcode` adds EDNS's extended bits.
    public var headerRCode: UInt16 { flags.rawValue & 0x000f }

    /// Flag mnemonics as dig prints them: `qr aa tc rd ra ad cd`.
    public var flagNames: [String] {
        var names = [String]()
        if flags.contains(.response) { names.append("qr") }
        if flags.contains(.authoritative) { names.append("aa") }
        if flags.contains(.truncated) { names.append("tc") }
        if flags.contains(.recursionDesired) { names.append("rd") }
        if flags.contains(.recursionAvailable) { names.append("ra") }
        if flags.contains(.zero) { names.append("z") }
        if flags.contains(.authenticData) { names.append("ad") }
        if flags.contains(.checkingDisabled) { names.append("cd") }
        return names
    }
}

public struct DNSQuestion: Hashable, Sendable {
    public var name: DNSName
    public var type: DNSType
    public var qclass: DNSClass
    /// The QU bit of mDNS shares this position (RFC 6762 §5.4); plain DNS leaves it 0.
    public init(name: DNSName, type: DNSType, qclass: DNSClass) {
        self.name = name
        self.type = type
        self.qclass = qclass
    }
}

public struct DNSResourceRecord: Hashable, Sendable {
    public var name: DNSName
    public var type: DNSType
    /// For OPT this is the requestor's UDP payload size.
    public var rrclass: DNSClass
    public var ttl: UInt32
    /// Offset range of the RDATA inside the message bytes.
    public var rdataRange: Range<Int>
    /// RDATA in presentation form (RFC 3597 `\# len hex` for types without a typed form).
    public var rdata: String {
        get {
            switch stored {
            case .text(let s): s
            case .address(let a): a.description
            }
        }
        set { stored = .text(newValue) }
    }

    /// An A or AAAA record's address is kept as one and written out only when shown: most records are addresses,
    /// and most runs (`--summary`, the interface's list) never show them.
    enum RData: Hashable, Sendable {
        case text(String)
        case address(IPAddress)
    }

    private var stored: RData

    init(name: DNSName, type: DNSType, rrclass: DNSClass, ttl: UInt32, rdataRange: Range<Int>, rdata: RData) {
        self.name = name
        self.type = type
        self.rrclass = rrclass
        self.ttl = ttl
        self.rdataRange = rdataRange
        stored = rdata
    }

    /// The RDATA's presentation form, appended as octets (an address without building a string).
    public func appendRData<Out: OctetSink & ~Copyable>(to out: inout Out) {
        switch stored {
        case .text(let s): out.append(contentsOf: s.utf8)
        case .address(let a): a.appendText(to: &out)
        }
    }

    /// `name TTL CLASS TYPE rdata`, as a zone file (and dig) writes it.
    public var presentation: String { "\(name) \(ttl) \(rrclass) \(type) \(rdata)" }
}

/// The OPT pseudo-record, read (RFC 6891 §6.1).
public struct EDNS: Hashable, Sendable {
    public struct Option: Hashable, Sendable {
        public var code: EDNSOptionCode
        public var data: [UInt8]
        /// `NAME=value` in a readable form (client subnet as a prefix, cookie as hex, ...).
        public var presentation: String { EDNSPresentation.describe(self) }
    }

    public var udpPayloadSize: UInt16
    public var extendedRCode: UInt8
    public var version: UInt8
    public var dnssecOK: Bool
    public var zFlags: UInt16
    public var options: [Option]
}

public struct DNSMessage: Hashable, Sendable {
    public var header: DNSHeader
    /// The first question (almost every message has exactly one): held inline, where an array cost an allocation for
    /// each message.
    public var question: DNSQuestion?
    /// Any after the first.
    private var laterQuestions: [DNSQuestion] {
        get { irregular?.laterQuestions ?? [] }
        set { changeIrregular { $0.laterQuestions = newValue } }
    }
    public var questions: [DNSQuestion] {
        get { question.map { [$0] + laterQuestions } ?? [] }
        set {
            question = newValue.first
            laterQuestions = Array(newValue.dropFirst())
        }
    }
    /// How many questions were read (`questions.count`, without building the list).
    public var questionsRead: Int { question == nil ? 0 : 1 + laterQuestions.count }
    public var answers: [DNSResourceRecord] { section(0) }
    public var authorities: [DNSResourceRecord] { section(1) }
    public var additionals: [DNSResourceRecord] { section(2) }
    /// How many records of each section were read (`answers.count` and so on, without reading them again).
    public var answersRead: Int { sectionRead(0) }
    public var authoritiesRead: Int { sectionRead(1) }
    public var additionalsRead: Int { sectionRead(2) }
    /// The records as read (`DNSParser.parse`), or checked when the message was parsed and read again from its octets
    /// when asked for (`DNSParser.parse(_:recordsOnDemand:)`: most runs never show a record).
    var records = Records.empty
    public var edns: EDNS?
    /// The first defect met while decoding; the sections hold whatever was read before it (for a bad
    /// RDATA, every record, the bad one shown RFC 3597 style).
    public var error: DNSParseError? {
        get { irregular?.error }
        set { changeIrregular { $0.error = newValue } }
    }
    /// Octets after the last record the counts announce.
    public var trailingBytes: Int {
        get { irregular?.trailingBytes ?? 0 }
        set {
            guard newValue != 0 || irregular != nil else { return }
            changeIrregular { $0.trailingBytes = newValue }
        }
    }
    /// Size of the message on the wire.
    public var size: Int
    /// What few messages have — more than one question, a defect, trailing octets — in a box of its own (nil: none
    /// of them), so that a message is smaller to copy and to destroy.
    private var irregular: Irregular?

    public init(header: DNSHeader, questions: [DNSQuestion] = [], size: Int) {
        self.header = header
        self.size = size
        // (Through the setter only when there are questions: the parser gives none, and reads them in after.)
        if !questions.isEmpty { self.questions = questions }
    }

    public var id: UInt16 { header.id }
    public var isResponse: Bool { header.isResponse }
    public var isMalformed: Bool { error != nil }

    /// RCODE with the EDNS extended bits (RFC 6891 §6.1.3).
    public var rcode: DNSRCode {
        DNSRCode(UInt16(edns?.extendedRCode ?? 0) << 4 | header.headerRCode)
    }

    /// One section's records (0 answers, 1 authorities, 2 additionals).
    private func section(_ section: Int) -> [DNSResourceRecord] {
        switch records {
        case .empty: []
        case .read(let read): read[section]
        case .onDemand(let onDemand): onDemand.section(section, question: question)
        }
    }

    /// The records kept as octets (nil: read as values, or none).
    var onDemand: RecordsOnDemand? {
        if case .onDemand(let onDemand) = records { onDemand } else { nil }
    }

    private func sectionRead(_ section: Int) -> Int {
        switch records {
        case .empty: 0
        case .read(let read): read[section].count
        case .onDemand(let onDemand): onDemand.counts[section]
        }
    }

    /// Changes the irregular parts, keeping no box when they are all as in most messages (so two equal messages hold
    /// the same: a box or none).
    private mutating func changeIrregular(_ change: (inout Irregular.Parts) -> Void) {
        var parts = irregular?.parts ?? Irregular.Parts()
        change(&parts)
        irregular = parts == Irregular.Parts() ? nil : Irregular(parts)
    }
}

extension DNSMessage {
    /// A message's records: none read, read as values, or kept as the message's octets to be read again
    /// (`RecordsOnDemand`).
    enum Records: Hashable, Sendable {
        case empty
        case read(ReadSections)
        case onDemand(RecordsOnDemand)
    }

    /// The three sections' records as read (answers, authorities, additionals).
    struct ReadSections: Hashable, Sendable {
        var answers: [DNSResourceRecord] = []
        var authorities: [DNSResourceRecord] = []
        var additionals: [DNSResourceRecord] = []

        var isEmpty: Bool { answers.isEmpty && authorities.isEmpty && additionals.isEmpty }

        subscript(section: Int) -> [DNSResourceRecord] {
            section == 0 ? answers : section == 1 ? authorities : additionals
        }
    }

    /// More than one question, a defect, trailing octets: held by reference, never changed in place (a change makes a
    /// new box), compared by what it holds.
    final class Irregular: Hashable, Sendable {
        struct Parts: Hashable, Sendable {
            var laterQuestions: [DNSQuestion] = []
            var error: DNSParseError?
            var trailingBytes = 0
        }

        let parts: Parts

        init(_ parts: Parts) { self.parts = parts }

        var laterQuestions: [DNSQuestion] { parts.laterQuestions }
        var error: DNSParseError? { parts.error }
        var trailingBytes: Int { parts.trailingBytes }

        static func == (a: Irregular, b: Irregular) -> Bool { a === b || a.parts == b.parts }
        func hash(into hasher: inout Hasher) { hasher.combine(parts) }
    }
}

extension DNSMessage {
    /// A message's records kept as its octets: where its answer section starts, and how many records of each section
    /// were read (and checked) when it was parsed.
    struct RecordsOnDemand: Hashable, Sendable {
        var bytes: [UInt8]
        var start: Int
        var counts: SectionCounts

        func section(_ section: Int, question: DNSQuestion?) -> [DNSResourceRecord] {
            guard counts[section] > 0 else { return [] }
            return DNSParser.readAgain(bytes, start: start, counts: counts, question: question?.name, section: section)
        }
    }

    /// Three counts, one a section (answers, authorities, additionals): held inline.
    struct SectionCounts: Hashable, Sendable {
        var answers = 0, authorities = 0, additionals = 0

        subscript(section: Int) -> Int { section == 0 ? answers : section == 1 ? authorities : additionals }
    }
}
