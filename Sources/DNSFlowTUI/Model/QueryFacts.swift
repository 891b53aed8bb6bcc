import DNSFlowCore

/// A name shared by every row that asked it (a cluster asks the same few thousand names millions of times).
public final class InternedName: Sendable {
    public let name: DNSName
    /// Lowercased presentation without the trailing dot: what `name:` filters on. Made each time: the store keeps
    /// the ones asked for (`QueryStore.searchName`), where a lazy property made every name's object twice its size.
    public var search: String { name.presentation(trailingDot: false).lowercased() }

    init(_ name: DNSName) { self.name = name }
}

/// What one row shows, filters and counts on, packed: the same names as `Transaction`'s, without the messages.
/// Exact for every transaction: what does not fit the packed form goes in a box (`PackedAnalysis.Rare`).
public struct QueryFacts: TransactionFacts {
    // In this order, the fields leave no padding: 76 bytes, and a row's other fields fill its record to 112.
    /// Query time, or the response's for an orphan.
    public private(set) var time: Timestamp
    /// The response's sub-second digits in the low four bits (at most 15: whatever reads them caps them at 9), the
    /// facts' flags in the high four.
    private var digitsAndBits: UInt8 = 9
    /// The flags of the row holding these facts (`RowRecord`'s), kept here where they take no room of their own.
    var rowFlags: UInt8 = 0
    /// The top eight of the 40 bits of the row's sequence (`RowRecord`'s), here for the same reason.
    var rowSequenceHigh: UInt8 = 0
    private var responseNanoseconds: UInt32 = 0
    public private(set) var id: UInt16 = 0
    private var qtype: UInt16 = 0
    private var qclass: UInt16 = 0
    private var rcodeValue: UInt16 = 0
    /// The response's time as seconds after `time`'s and its own nanoseconds. `Int32.min`: the response's time is in
    /// the analysis's box (more than 68 years apart: a corrupt capture), so that it stays exact.
    private var responseSeconds: Int32 = 0
    public private(set) var name: InternedName?
    private var packed: PackedAnalysis

    private static let hasQueryBit: UInt8 = 1, hasResponseBit: UInt8 = 2, unmatchableBit: UInt8 = 4, questionBit: UInt8 = 8
    @inline(__always) private var bits: UInt8 {
        get { digitsAndBits >> 4 }
        set { digitsAndBits = digitsAndBits & 0x0f | newValue << 4 }
    }
    @inline(__always) private var responseDigits: UInt8 {
        get { digitsAndBits & 0x0f }
        set { digitsAndBits = digitsAndBits & 0xf0 | min(newValue, 15) }
    }
    private static let farResponse = Int32.min

    /// `shared`, when given, holds the analysis's findings list, shared by every row with the same findings.
    init(_ t: Transaction, name: InternedName?, shared: PackedAnalysis.Extra? = nil) {
        self.init(time: t.time, id: t.id, question: t.question, hasQuery: t.hasQuery, isUnmatchable: t.isUnmatchable,
                  analysis: t.analysis, name: name, shared: shared)
        if let rcode = t.responseRCode, let time = t.responseTime { setResponse(rcode: rcode, time: time) }
    }

    /// A query alone, as it enters matching (no transaction made for it).
    init(query: ObservedMessage, analysis: Analysis, name: InternedName?, shared: PackedAnalysis.Extra? = nil) {
        self.init(time: query.timestamp, id: query.id, question: query.question, hasQuery: true,
                  isUnmatchable: false, analysis: analysis, name: name, shared: shared)
    }

    private init(time: Timestamp, id: UInt16, question: DNSQuestion?, hasQuery: Bool, isUnmatchable: Bool,
                 analysis: Analysis, name: InternedName?, shared: PackedAnalysis.Extra?) {
        packed = PackedAnalysis(analysis, shared: shared)
        self.time = time
        self.id = id
        self.name = name
        if hasQuery { bits |= QueryFacts.hasQueryBit }
        if isUnmatchable { bits |= QueryFacts.unmatchableBit }
        if let q = question {
            bits |= QueryFacts.questionBit
            qtype = q.type.rawValue
            qclass = q.qclass.rawValue
        }
    }

    /// No transaction: what a vacant slot of the store's table holds.
    nonisolated(unsafe) static let nothing = QueryFacts()

    private init() {
        time = Timestamp(seconds: 0, nanoseconds: 0)
        packed = PackedAnalysis(Analysis())
    }

    @inline(__always) public var hasQuery: Bool { bits & QueryFacts.hasQueryBit != 0 }
    @inline(__always) public var hasResponse: Bool { bits & QueryFacts.hasResponseBit != 0 }

    @inline(__always) public var status: Transaction.Status {
        if bits & QueryFacts.unmatchableBit != 0 { return .malformed }
        if !hasQuery { return .orphanResponse }
        return hasResponse ? .answered : .unanswered
    }

    public var question: DNSQuestion? {
        guard bits & QueryFacts.questionBit != 0, let name else { return nil }
        return DNSQuestion(name: name.name, type: DNSType(rawValue: qtype), qclass: DNSClass(rawValue: qclass))
    }

    @inline(__always) public var type: DNSType? { bits & QueryFacts.questionBit != 0 ? DNSType(rawValue: qtype) : nil }
    @inline(__always) public var rcode: DNSRCode? { hasResponse ? DNSRCode(rcodeValue) : nil }

    @inline(__always) public var responseTime: Timestamp? {
        guard hasResponse else { return nil }
        if responseSeconds == QueryFacts.farResponse { return packed.farResponseTime }
        return Timestamp(seconds: time.seconds &+ Int64(responseSeconds), nanoseconds: responseNanoseconds,
                         digits: responseDigits)
    }

    /// As `Transaction.latencyNanoseconds` computes it (`Timestamp.nanoseconds(since:)`).
    @inline(__always) public var latencyNanoseconds: Int64? {
        guard hasQuery, let r = responseTime else { return nil }
        return r.nanoseconds(since: time)
    }

    public var precisionDigits: UInt8 { min(hasQuery ? time.digits : 9, hasResponse ? responseDigits : 9) }

    public var analysis: Analysis { packed.analysis }

    /// The response added to a row that showed its query alone.
    mutating func setResponse(rcode: DNSRCode, time responseTime: Timestamp) {
        bits |= QueryFacts.hasResponseBit
        rcodeValue = rcode.rawValue
        responseDigits = responseTime.digits
        responseNanoseconds = responseTime.nanoseconds
        let apart = responseTime.seconds &- time.seconds
        if let s = Int32(exactly: apart), s != QueryFacts.farResponse, responseTime.seconds == time.seconds &+ Int64(s) {
            responseSeconds = s
        } else {
            responseSeconds = QueryFacts.farResponse
            packed.farResponseTime = responseTime
        }
    }

    /// The analysis replaced, the rest as it was (a row settling with the messages it already shows).
    mutating func setAnalysis(_ a: Analysis, shared: PackedAnalysis.Extra?) {
        let far = packed.farResponseTime
        packed = PackedAnalysis(a, shared: shared)
        if let far { packed.farResponseTime = far }
    }
    @inline(__always) public var attempt: Int { packed.attempt }
    @inline(__always) public var isProbableRetry: Bool { packed.isProbableRetry }
    @inline(__always) public var pairState: Analysis.PairState? { packed.pairState }
    mutating func setPairState(_ state: Analysis.PairState?) { packed.setPairState(state) }
    public var chain: Int? { packed.chain }
    public var pair: Int? { packed.pair }
    public var lookup: Int? { packed.lookup }
    public var lookupNanoseconds: Int64? { packed.lookupNanoseconds }
    public var findings: [String] { packed.findings }
    /// A re-send (same id) or a probable one (new id, same question, while the previous was unanswered).
    @inline(__always) public var isRetry: Bool { attempt > 1 || isProbableRetry }
}
