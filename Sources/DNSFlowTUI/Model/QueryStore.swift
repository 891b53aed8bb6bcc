import DNSFlowCore

/// One row of the interface: a query (or an orphan response, or a malformed message) from the moment it is seen.
/// A live query shows as pending until its transaction settles; then the settled transaction replaces it in place.
///
/// A row is small (about 200 bytes): it keeps what the list, the filters, the flows and the timeline need
/// (`facts`), with its name interned, not the decoded messages. Detail and the exports get the whole transaction
/// from `QueryStore.transaction(of:)`, which decodes the row's packets again.
public final class Entry {
    public let sequence: Int
    public internal(set) var facts: QueryFacts
    /// The whole transaction, kept only where it cannot be decoded again from the row's packets (no packet source,
    /// TCP, IP fragments, malformed). Boxed: inline, an absent transaction would still take its
    /// 400 bytes in every row.
    private var keptBox: Box<Transaction>?
    var kept: Transaction? {
        get { keptBox?.value }
        set { keptBox = newValue.map(Box.init) }
    }
    public internal(set) unowned(unsafe) var flow: FlowGroup
    /// Where the query's and the response's packets are (input, frame, file offset).
    public internal(set) var queryPacket: PacketRef? {
        get { queryRef.isNone ? nil : queryRef }
        set { queryRef = newValue ?? .none }
    }
    public internal(set) var responsePacket: PacketRef? {
        get { responseRef.isNone ? nil : responseRef }
        set { responseRef = newValue ?? .none }
    }
    /// Stored without Optional's extra byte, which padding makes eight.
    private var queryRef = PacketRef.none, responseRef = PacketRef.none
    // Last, where they fill the object's tail: 184 bytes a row, which the allocator serves from its 192-byte class
    // (between the flags and the flow, their padding made it 200 bytes, served from 224).
    /// Seen but not settled yet (waiting for its answer, or for the analysis to finish with it).
    public internal(set) var isPending: Bool
    /// The first query of its A/AAAA pair (opens the bracket).
    public internal(set) var isFirstOfPair = false
    public internal(set) var isMarked = false

    init(sequence: Int, facts: QueryFacts, isPending: Bool, flow: FlowGroup) {
        self.sequence = sequence
        self.facts = facts
        self.isPending = isPending
        self.flow = flow
    }

    /// Lowercased name, for filtering (computed once per distinct name).
    var searchName: String { facts.name?.search ?? "" }

    /// Seen, with no answer yet (pending, and nothing matched it).
    public var isWaiting: Bool { isPending && !facts.hasResponse }

    /// A query answered whose analysis is not final yet (counted by the store, not yet by the pipeline).
    var isAnsweredEarly: Bool { isPending && facts.hasQuery && facts.hasResponse }

    /// A re-send (same id) or a probable one (new id, same question, while the previous was unanswered).
    public var isRetry: Bool { facts.attempt > 1 || facts.isProbableRetry }

    /// Unanswered, retried, in a pair that was not plain ok, slow (100 ms or more), a server error, an orphan or
    /// malformed: what `f` keeps. (NXDOMAIN is an answer; search-list NXDOMAINs are a finding, not a problem row.)
    public var isProblem: Bool {
        let t = facts
        if t.status == .malformed || t.status == .orphanResponse { return true }
        if !isPending, t.status == .unanswered { return true }
        if isRetry { return true }
        if let state = t.pairState, state != .ok, state != .single { return true }
        if let l = t.latencyNanoseconds, l >= 100_000_000 { return true }
        if let r = t.rcode, r != .noError, r != .nxDomain { return true }
        return false
    }
}

/// A value held out of line: a row or a flow that rarely has one pays 8 bytes for it, not its size.
final class Box<Value> {
    let value: Value
    init(_ value: Value) { self.value = value }
}

/// A packet behind a row: enough to find it again, in memory (input, frame) or in its file (offset).
/// 16 bytes: the input in the top 16 bits of one word and the frame in the other 48 (65,535 inputs, 2⁴⁸ frames),
/// and the file offset.
public struct PacketRef: Sendable, Equatable {
    private var inputAndFrame: UInt64
    public private(set) var fileOffset: Int64

    private static let frameBits: UInt64 = 48
    private static let frameMask: UInt64 = 1 << frameBits - 1
    static let none = PacketRef(inputAndFrame: .max, fileOffset: -1)

    private init(inputAndFrame: UInt64, fileOffset: Int64) {
        self.inputAndFrame = inputAndFrame
        self.fileOffset = fileOffset
    }

    /// Nil for a point beyond what packs (an input number of 65,535 or more, a frame of 2⁴⁸ or more): such a row keeps
    /// its transaction instead.
    init?(_ p: CapturePoint) {
        guard let input = UInt64(exactly: p.input), input < 0xffff, let frame = UInt64(exactly: p.frame),
              frame <= PacketRef.frameMask
        else { return nil }
        inputAndFrame = input << PacketRef.frameBits | frame
        fileOffset = p.fileOffset
    }

    var isNone: Bool { inputAndFrame == .max }
    public var input: Int { Int(inputAndFrame >> PacketRef.frameBits) }
    public var frame: Int { Int(inputAndFrame & PacketRef.frameMask) }
    public var point: CapturePoint { CapturePoint(input: input, frame: frame, fileOffset: fileOffset) }
}

/// A flow group's rows in sequence order. Most 5-tuples carry one lookup's A and AAAA (a resolver opens a socket
/// per lookup): both are held inline.
public typealias RowList = InlineList<Entry>

/// A name shared by every row that asked it (a cluster asks the same few thousand names millions of times).
public final class InternedName {
    public let name: DNSName
    /// Lowercased presentation without the trailing dot: what `name:` filters on.
    public private(set) lazy var search: String = name.presentation(trailingDot: false).lowercased()

    init(_ name: DNSName) { self.name = name }
}

/// What one row shows, filters and counts on, packed: the same names as `Transaction`'s, without the messages.
/// Exact for every transaction: what does not fit the packed form goes in a box (`PackedAnalysis.Rare`).
public struct QueryFacts: TransactionFacts {
    /// Query time, or the response's for an orphan.
    public private(set) var time: Timestamp
    /// The response's time as seconds after `time`'s and its own nanoseconds (exact however far apart).
    private var responseSeconds: Int64 = 0
    private var responseNanoseconds: UInt32 = 0
    private var responseDigits: UInt8 = 9
    private var bits: UInt8 = 0
    public private(set) var id: UInt16 = 0
    private var qtype: UInt16 = 0
    private var qclass: UInt16 = 0
    private var rcodeValue: UInt16 = 0
    public private(set) var name: InternedName?
    private var packed: PackedAnalysis

    private static let hasQueryBit: UInt8 = 1, hasResponseBit: UInt8 = 2, unmatchableBit: UInt8 = 4, questionBit: UInt8 = 8

    /// `findings`, when given, replaces the analysis's own list (the store passes one shared by every row with
    /// the same findings).
    init(_ t: Transaction, name: InternedName?, findings: [String]? = nil) {
        packed = PackedAnalysis(t.analysis, findings: findings)
        time = t.time
        id = t.id
        self.name = name
        if t.query != nil { bits |= QueryFacts.hasQueryBit }
        if t.isUnmatchable { bits |= QueryFacts.unmatchableBit }
        if let q = t.question {
            bits |= QueryFacts.questionBit
            qtype = q.type.rawValue
            qclass = q.qclass.rawValue
        }
        if let r = t.response {
            bits |= QueryFacts.hasResponseBit
            responseSeconds = r.timestamp.seconds &- time.seconds
            responseNanoseconds = r.timestamp.nanoseconds
            responseDigits = r.timestamp.digits
            rcodeValue = r.message.rcode.rawValue
        }
    }

    public var hasQuery: Bool { bits & QueryFacts.hasQueryBit != 0 }
    public var hasResponse: Bool { bits & QueryFacts.hasResponseBit != 0 }

    public var status: Transaction.Status {
        if bits & QueryFacts.unmatchableBit != 0 { return .malformed }
        if !hasQuery { return .orphanResponse }
        return hasResponse ? .answered : .unanswered
    }

    public var question: DNSQuestion? {
        guard bits & QueryFacts.questionBit != 0, let name else { return nil }
        return DNSQuestion(name: name.name, type: DNSType(rawValue: qtype), qclass: DNSClass(rawValue: qclass))
    }

    public var type: DNSType? { bits & QueryFacts.questionBit != 0 ? DNSType(rawValue: qtype) : nil }
    public var rcode: DNSRCode? { hasResponse ? DNSRCode(rcodeValue) : nil }

    public var responseTime: Timestamp? {
        guard hasResponse else { return nil }
        return Timestamp(seconds: time.seconds &+ responseSeconds, nanoseconds: responseNanoseconds, digits: responseDigits)
    }

    /// As `Transaction.latencyNanoseconds` computes it (`Timestamp.nanoseconds(since:)`).
    public var latencyNanoseconds: Int64? {
        guard hasQuery, let r = responseTime else { return nil }
        return r.nanoseconds(since: time)
    }

    public var precisionDigits: UInt8 { min(hasQuery ? time.digits : 9, hasResponse ? responseDigits : 9) }

    public var analysis: Analysis { packed.analysis }

    /// The response added to a row that showed its query alone.
    mutating func setResponse(_ r: ObservedMessage) {
        bits |= QueryFacts.hasResponseBit
        responseSeconds = r.timestamp.seconds &- time.seconds
        responseNanoseconds = r.timestamp.nanoseconds
        responseDigits = r.timestamp.digits
        rcodeValue = r.message.rcode.rawValue
    }

    /// The analysis replaced, the rest as it was (a row settling with the messages it already shows).
    mutating func setAnalysis(_ a: Analysis, findings: [String]) {
        packed = PackedAnalysis(a, findings: findings)
    }
    public var attempt: Int { packed.attempt }
    public var isProbableRetry: Bool { packed.isProbableRetry }
    public var pairState: Analysis.PairState? { packed.pairState }
    public var chain: Int? { packed.chain }
    public var pair: Int? { packed.pair }
    public var resolution: Int? { packed.resolution }
    public var resolutionNanoseconds: Int64? { packed.resolutionNanoseconds }
    public var findings: [String] { packed.findings }
}

/// `Analysis` in 56 bytes instead of 128: small counts in 16 bits, ids in 32, absent values as sentinels, the
/// findings list as given (shared). A whole analysis whose values do not fit (a query re-sent 70,000 times, ids past
/// 2^31) is boxed.
struct PackedAnalysis {
    private var retryGap: Int64
    private var resolutionNanosecondsValue: Int64
    private var chainValue: Int32, pairValue: Int32, resolutionValue: Int32, flowValue: Int32
    private var attemptValue: UInt16
    private var querySightings: UInt16, responseSightings: UInt16
    private var bits: UInt8
    private(set) var findings: [String]
    /// Set when the values do not pack: every accessor reads it instead.
    private var wholeBox: Box<Analysis>?

    private static let none = Int32.min
    private static let pairStates: [Analysis.PairState] = [.ok, .retried, .partial, .failed, .single]

    init(_ a: Analysis, findings: [String]? = nil) {
        func pack(_ v: Int?) -> Int32?? {
            guard let v else { return .some(nil) }
            guard let n = Int32(exactly: v), n != PackedAnalysis.none else { return nil }
            return .some(n)
        }
        retryGap = .min
        resolutionNanosecondsValue = .min
        chainValue = PackedAnalysis.none
        pairValue = PackedAnalysis.none
        resolutionValue = PackedAnalysis.none
        flowValue = PackedAnalysis.none
        attemptValue = 0
        querySightings = 0
        responseSightings = 0
        bits = 0
        self.findings = findings ?? a.findings
        guard let attempt = UInt16(exactly: a.attempt), let qs = UInt16(exactly: a.querySightings),
              let rs = UInt16(exactly: a.responseSightings),
              let chain = pack(a.chain), let pair = pack(a.pair), let resolution = pack(a.resolution), let flow = pack(a.flow),
              a.retryGapNanoseconds != .min, a.resolutionNanoseconds != .min else {
            wholeBox = Box(a)
            return
        }
        attemptValue = attempt
        querySightings = qs
        responseSightings = rs
        chainValue = chain ?? PackedAnalysis.none
        pairValue = pair ?? PackedAnalysis.none
        resolutionValue = resolution ?? PackedAnalysis.none
        flowValue = flow ?? PackedAnalysis.none
        retryGap = a.retryGapNanoseconds ?? .min
        resolutionNanosecondsValue = a.resolutionNanoseconds ?? .min
        var bits: UInt8 = a.isProbableRetry ? 1 : 0
        if let s = a.sameSocket { bits |= s ? 2 : 4 }
        if let p = a.pairState, let i = PackedAnalysis.pairStates.firstIndex(of: p) { bits |= UInt8(i + 1) << 3 }
        self.bits = bits
    }

    private var whole: Analysis? { wholeBox?.value }
    private static func unpack(_ v: Int32) -> Int? { v == PackedAnalysis.none ? nil : Int(v) }

    var attempt: Int { whole?.attempt ?? Int(attemptValue) }
    var isProbableRetry: Bool { whole?.isProbableRetry ?? (bits & 1 != 0) }
    var pairState: Analysis.PairState? {
        if let whole { return whole.pairState }
        let i = Int(bits >> 3)
        return i == 0 ? nil : PackedAnalysis.pairStates[i - 1]
    }
    var chain: Int? { whole.map(\.chain) ?? PackedAnalysis.unpack(chainValue) }
    var pair: Int? { whole.map(\.pair) ?? PackedAnalysis.unpack(pairValue) }
    var resolution: Int? { whole.map(\.resolution) ?? PackedAnalysis.unpack(resolutionValue) }
    var resolutionNanoseconds: Int64? {
        whole.map(\.resolutionNanoseconds) ?? (resolutionNanosecondsValue == .min ? nil : resolutionNanosecondsValue)
    }

    var analysis: Analysis {
        if let whole { return whole }
        var a = Analysis()
        a.attempt = Int(attemptValue)
        a.retryGapNanoseconds = retryGap == .min ? nil : retryGap
        a.isProbableRetry = isProbableRetry
        a.chain = chain
        a.pair = pair
        a.pairState = pairState
        a.sameSocket = bits & 2 != 0 ? true : bits & 4 != 0 ? false : nil
        a.resolution = resolution
        a.resolutionNanoseconds = resolutionNanoseconds
        a.flow = PackedAnalysis.unpack(flowValue)
        a.querySightings = Int(querySightings)
        a.responseSightings = Int(responseSightings)
        a.findings = findings
        return a
    }
}

/// One 5-tuple (transport, client, server) as the interface groups it, with its rows in sequence order.
public final class FlowGroup {
    public struct Key: Hashable {
        public var transport: TransportProtocol
        public var client: Endpoint
        public var server: Endpoint

        public func _rawHashValue(seed: Int) -> Int {
            FastHash.mix(FastHash.flow(transport, client, server), seed: seed)
        }
    }

    public struct Stats: Equatable {
        public var queries = 0
        public var answered = 0
        public var unanswered = 0
        public var pending = 0
        public var retries = 0
        public var marked = 0
        public var worstLatency: Int64?
        public var medianLatency: Int64?
    }

    /// 1-based, in order of first appearance (the `flow:N` filter term).
    public let number: Int
    public let key: Key
    public internal(set) var entries = RowList()
    /// Computed for the flows on screen only; boxed so that the others do not carry its 74 bytes.
    private var cachedStats: Box<Stats>?

    init(number: Int, key: Key) {
        self.number = number
        self.key = key
    }

    func invalidate() { cachedStats = nil }

    /// The latest time among its rows (nanoseconds since the epoch).
    var lastActivity: Int64 {
        guard let last = entries.last else { return .min }
        return max(last.facts.time.totalNanoseconds, last.facts.responseTime?.totalNanoseconds ?? .min)
    }

    public var stats: Stats {
        if let cachedStats { return cachedStats.value }
        var s = Stats()
        var latencies: [Int64] = []
        for e in entries {
            let t = e.facts
            if t.hasQuery { s.queries += 1 }
            if e.isMarked { s.marked += 1 }
            if e.isRetry { s.retries += 1 }
            if e.isWaiting { s.pending += 1; continue }
            switch t.status {
            case .answered: s.answered += 1
            case .unanswered: s.unanswered += 1
            default: break
            }
            if let l = t.latencyNanoseconds { latencies.append(l) }
        }
        latencies.sort()
        s.worstLatency = latencies.last
        s.medianLatency = latencies.isEmpty ? nil : latencies[(latencies.count - 1) / 2]
        cachedStats = Box(s)
        return s
    }
}

/// Every row the interface holds, bounded: the oldest are evicted beyond `maxEntries` (the count is kept).
/// Rows are appended in sequence order as queries are seen and updated in place as they settle.
public final class QueryStore {
    public private(set) var entries: [Entry] = []
    /// `entries`' sequence numbers, side by side: searched without touching the rows (8 bytes a row, where an index
    /// by sequence cost 30, and a search through the rows a cache miss a step).
    private var sequences: [Int] = []
    public private(set) var flows: [FlowGroup] = []
    /// The flows still open to new rows. A flow idle for `flowIdleNanoseconds` leaves it (its rows keep it), as the
    /// analysis ends a flow idle for its horizon: a resolver opens a new socket per lookup, and a million finished
    /// sockets would otherwise each hold a slot here.
    private var flowByKey: [FlowGroup.Key: FlowGroup] = [:]
    private var nextFlowSweep = 65_536
    /// The table's size below which it is not swept (smaller in tests).
    var flowSweepMinimum = 65_536 { didSet { nextFlowSweep = flowSweepMinimum } }
    static let flowIdleNanoseconds: Int64 = 61_000_000_000
    private var seenPairs = SequenceSet()
    /// Pairs whose first row is held (bounded by the rows).
    var pairsSeen: Int { seenPairs.count }
    private var flowNumbers = 0
    public let maxEntries: Int
    public private(set) var evicted = 0
    /// Every row at or before this sequence that is not here was evicted: its late news (an answer, the query settling
    /// unanswered a minute later) is dropped rather than bringing the row back into the middle of the list.
    private var evictedThrough = -1
    public private(set) var markedCount = 0
    /// Rows answered whose analysis is not final yet (the pipeline counts them once they settle).
    public private(set) var answeredPending = 0
    /// The latest time seen in any row (nanoseconds since the epoch): where an unanswered bar ends.
    public private(set) var latestTime: Int64 = 0
    /// Bumped on every change, so views know when to recompute.
    public private(set) var version = 0
    /// Told about rows as they are evicted (to let go of their packets).
    public var onEvict: ([Entry]) -> Void = { _ in }

    /// Decodes a row's packets again into its whole transaction (both messages). Set by whoever holds the packets;
    /// without it, or for what it cannot decode (TCP), rows keep their transactions.
    public var rebuild: ((Entry) -> Transaction?)? = nil
    /// One `InternedName` per distinct name among the rows. Names whose rows are all evicted are let go now and then
    /// (`pruneNames`): under `--max-queries`, a long capture would otherwise keep every name it ever saw.
    private var names: [DNSName: InternedName] = [:]
    private var nextNamePrune = 4_096
    /// Distinct names held (for tests).
    var internedNames: Int { names.count }

    public init(maxEntries: Int = 200_000) { self.maxEntries = max(1, maxEntries) }

    public var count: Int { entries.count }
    /// The row of a sequence number: `entries` is in sequence order, and the rows asked for are mostly recent, so the
    /// search gallops back from the end of `sequences`, then halves.
    public func entry(sequence: Int) -> Entry? {
        let i = QueryStore.position(of: sequence, in: sequences)
        return i < sequences.count && sequences[i] == sequence ? entries[i] : nil
    }

    /// The first position whose sequence is not below `sequence`.
    static func position(of sequence: Int, in sequences: [Int]) -> Int {
        var hi = sequences.count, step = 1
        var lo = hi - 1
        while lo > 0, sequences[lo] > sequence {
            hi = lo
            lo = max(0, lo - step)
            step *= 2
        }
        if lo < 0 { return 0 }
        while lo < hi {
            let mid = (lo + hi) / 2
            if sequences[mid] < sequence { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    /// The row's whole transaction: kept, or decoded again from its packets. Should the packets be gone, what the
    /// row knows, with messages of the question alone.
    public func transaction(of e: Entry) -> Transaction {
        if let t = e.kept { return t }
        if let t = rebuild?(e) { return t }
        return QueryStore.sketch(e)
    }

    /// A transaction from a row's facts when its packets cannot be read again.
    static func sketch(_ e: Entry) -> Transaction {
        let f = e.facts, key = e.flow.key
        func message(response: Bool) -> DNSMessage {
            var flags: DNSHeader.Flags = response ? [.response] : []
            if response { flags.rawValue |= (f.rcode?.rawValue ?? 0) & 0x0f }
            let header = DNSHeader(id: f.id, flags: flags, questionCount: f.question == nil ? 0 : 1, answerCount: 0,
                                   authorityCount: 0, additionalCount: 0)
            return DNSMessage(header: header, questions: f.question.map { [$0] } ?? [], size: 0)
        }
        let unknown = CapturePoint(input: -1, frame: 0)
        let query = f.hasQuery ? ObservedMessage(timestamp: f.time, transport: key.transport, source: key.client,
                                                 destination: key.server, point: unknown, message: message(response: false)) : nil
        let response = f.responseTime.map {
            ObservedMessage(timestamp: $0, transport: key.transport, source: key.server, destination: key.client,
                            point: unknown, message: message(response: true))
        }
        var t = Transaction(sequence: e.sequence, query: query, response: response)
        t.isUnmatchable = f.status == .malformed
        t.analysis = f.analysis
        return t
    }

    private func intern(_ name: DNSName?) -> InternedName? {
        guard let name else { return nil }
        if let n = names[name] { return n }
        let n = InternedName(name)
        names[name] = n
        return n
    }

    private func facts(_ t: Transaction, name: InternedName? = nil) -> QueryFacts {
        QueryFacts(t, name: name ?? intern(t.question?.name), findings: intern(findings: t.analysis.findings))
    }

    /// One list per distinct set of findings (most rows have none; the others share a handful of lists).
    private var findingLists: [[String]: [String]] = [:]

    private func intern(findings: [String]) -> [String] {
        if findings.isEmpty { return [] }
        if let shared = findingLists[findings] { return shared }
        findingLists[findings] = findings
        return findings
    }

    /// Sets a row from a transaction: its facts, then its packets and the transaction itself if it cannot be rebuilt.
    private func set(_ e: Entry, _ t: Transaction) {
        // A row is one transaction (one sequence) from its first event to its last: its query does not change, and a
        // response, once shown, neither. (A row that keeps its transaction takes the new one whole, for its analysis.)
        let f = e.facts
        // Settling with the messages the row already shows: only the analysis is new.
        if e.kept == nil, f.hasQuery == t.hasQuery, f.responseTime == t.responseTime {
            e.facts.setAnalysis(t.analysis, findings: intern(findings: t.analysis.findings))
            return
        }
        // Its answer matched: the response's facts and place are added to the query's.
        if e.kept == nil, f.hasQuery, !f.hasResponse, let r = t.response, let place = PacketRef(r.point),
           QueryStore.rebuildable(t, rebuild: rebuild != nil)
        {
            e.facts.setResponse(r)
            e.facts.setAnalysis(t.analysis, findings: intern(findings: t.analysis.findings))
            e.responsePacket = place
            return
        }
        // A row's question does not change from arrival to settling: its interned name is looked up once.
        if let name = e.facts.name, let q = t.question, name.name == q.name {
            e.facts = facts(t, name: name)
        } else {
            e.facts = facts(t)
        }
        attach(e, t)
    }

    private func attach(_ e: Entry, _ t: Transaction) {
        let query = t.query.map { PacketRef($0.point) }, response = t.response.map { PacketRef($0.point) }
        if let query { e.queryPacket = query }
        if let response { e.responsePacket = response }
        // A packet whose place does not pack cannot be read again: the row keeps what it had.
        let placed = query != .some(nil) && response != .some(nil)
        e.kept = placed && QueryStore.rebuildable(t, rebuild: rebuild != nil) ? nil : t
    }

    /// One UDP datagram per message: a message out of IP fragments or a TCP stream is more than one packet can give
    /// back, so its transaction is kept (rare).
    private static func rebuildable(_ t: Transaction, rebuild: Bool) -> Bool {
        rebuild && t.transport == .udp && !t.isUnmatchable && t.query?.isReassembled != true
            && t.response?.isReassembled != true
    }

    private func makeEntry(_ t: Transaction, isPending: Bool) -> Entry {
        let e = Entry(sequence: t.sequence, facts: facts(t), isPending: isPending, flow: group(for: t))
        attach(e, t)
        return e
    }

    /// A query as it enters matching: shown at once, pending.
    public func queryArrived(_ sequence: Int, _ query: ObservedMessage) {
        guard entry(sequence: sequence) == nil else { return }
        insert(makeEntry(Transaction(sequence: sequence, query: query, response: nil), isPending: true))
    }

    /// A response matched to its query (or an orphan), before the analysis is final: the row shows the answer now.
    public func matched(_ t: Transaction) {
        guard let e = entry(sequence: t.sequence) else {
            if t.sequence <= evictedThrough { return }
            insert(makeEntry(t, isPending: true))
            if t.query != nil { answeredPending += 1 }
            return
        }
        guard e.isWaiting else { return }
        set(e, t)
        if t.query != nil { answeredPending += 1 }
        noteTime(e)
        e.flow.invalidate()
        version += 1
    }

    /// A settled transaction: replaces its pending row, or takes its place in sequence (orphans, malformed).
    public func settled(_ t: Transaction) {
        if let e = entry(sequence: t.sequence) {
            if e.isAnsweredEarly { answeredPending -= 1 }
            set(e, t)
            e.isPending = false
            noteTime(e)
            e.flow.invalidate()
            notePair(e)
            version += 1
            return
        }
        if t.sequence <= evictedThrough { return }
        let e = makeEntry(t, isPending: false)
        notePair(e)
        insert(e)
    }

    private func notePair(_ e: Entry) {
        let f = e.facts
        guard f.attempt == 1, !f.isProbableRetry, let p = f.pair else { return }
        if seenPairs.insert(p) { e.isFirstOfPair = true }
    }

    private func group(for t: Transaction) -> FlowGroup {
        let key = FlowGroup.Key(transport: t.transport, client: t.client, server: t.server)
        if let g = flowByKey[key] { return g }
        flowNumbers += 1
        let g = FlowGroup(number: flowNumbers, key: key)
        flows.append(g)
        if flowByKey.count >= nextFlowSweep { sweepIdleFlows() }
        flowByKey[key] = g
        return g
    }

    /// Closes the flows idle for `flowIdleNanoseconds` to new rows; amortised: the table at least doubles between
    /// sweeps.
    private func sweepIdleFlows() {
        let horizon = latestTime - QueryStore.flowIdleNanoseconds
        flowByKey = flowByKey.filter { $0.value.lastActivity >= horizon }
        nextFlowSweep = max(flowSweepMinimum, 2 * flowByKey.count)
    }

    private func noteTime(_ e: Entry) {
        latestTime = max(latestTime, e.facts.time.totalNanoseconds, e.facts.responseTime?.totalNanoseconds ?? 0)
    }

    /// Moves the end of the data forward without a row (the last packet's time, a live clock).
    public func advance(to nanoseconds: Int64) {
        if nanoseconds > latestTime { latestTime = nanoseconds; version += 1 }
    }

    private func insert(_ e: Entry) {
        noteTime(e)
        if let last = entries.last, last.sequence > e.sequence {
            let i = QueryStore.position(of: e.sequence, in: sequences)
            entries.insert(e, at: i)
            sequences.insert(e.sequence, at: i)
            e.flow.entries.insert(e, at: insertionIndex(e.sequence, in: e.flow.entries))
        } else {
            entries.append(e)
            sequences.append(e.sequence)
            e.flow.entries.append(e)
        }
        e.flow.invalidate()
        version += 1
        if entries.count > maxEntries {
            evict(max(1, maxEntries / 16))
            // After the evicted rows are gone (their names are free then).
            if names.count >= nextNamePrune { pruneNames() }
        }
    }

    private func insertionIndex(_ sequence: Int, in list: RowList) -> Int {
        var lo = 0, hi = list.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if list[mid].sequence < sequence { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    /// Drops the `n` oldest rows (in batches, so that eviction costs little per row).
    private func evict(_ n: Int) {
        let gone = Array(entries.prefix(n))
        entries.removeFirst(gone.count)
        sequences.removeFirst(gone.count)
        var touched: [ObjectIdentifier: FlowGroup] = [:]
        for e in gone {
            // Its pair leaves the set of pairs seen: a sibling settling later opens the bracket itself, and the set
            // stays as bounded as the rows.
            if let p = e.facts.pair, e.isFirstOfPair { seenPairs.remove(p) }
            if e.isMarked { markedCount -= 1 }
            if e.isAnsweredEarly { answeredPending -= 1 }
            touched[ObjectIdentifier(e.flow)] = e.flow
        }
        let cutoff = gone.last?.sequence ?? .min
        evictedThrough = max(evictedThrough, cutoff)
        var emptied = false
        for g in touched.values {
            // The evicted rows are all the rows up to the cutoff (`entries` is in sequence order).
            g.entries.removeAll { $0.sequence <= cutoff }
            g.invalidate()
            if g.entries.isEmpty {
                if flowByKey[g.key] === g { flowByKey[g.key] = nil }
                emptied = true
            }
        }
        // A flow whose rows are all gone goes too (its number is not reused).
        if emptied { flows.removeAll { $0.entries.isEmpty } }
        evicted += gone.count
        version += 1
        onEvict(gone)
    }

    /// Lets go of the names no row (nor anything else) refers to any more. Amortised: the table at least doubles
    /// between prunes.
    private func pruneNames() {
        var unused: [DNSName] = []
        var i = names.startIndex
        while i != names.endIndex {
            if isKnownUniquelyReferenced(&names.values[i]) { unused.append(names.keys[i]) }
            names.formIndex(after: &i)
        }
        for name in unused { names[name] = nil }
        nextNamePrune = max(4_096, 2 * names.count)
    }

    // MARK: marks

    public func setMarked(_ e: Entry, _ marked: Bool) {
        guard e.isMarked != marked else { return }
        e.isMarked = marked
        markedCount += marked ? 1 : -1
        e.flow.invalidate()
        version += 1
    }

    public func toggleMark(_ e: Entry) { setMarked(e, !e.isMarked) }

    /// Marks the whole flow, or unmarks it when every row already is.
    public func toggleMark(_ g: FlowGroup) {
        let all = g.entries.allSatisfy(\.isMarked)
        for e in g.entries { setMarked(e, !all) }
    }

    public var markedEntries: [Entry] { entries.filter(\.isMarked) }
}
