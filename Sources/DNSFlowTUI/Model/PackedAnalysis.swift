import DNSFlowCore

/// `Analysis` in 36 bytes instead of 128: small counts in 8 bits, ids in 32, absent values as sentinels; the findings
/// list, and what is rare, in one shared object. A whole analysis whose values do not fit (a query re-sent 70,000
/// times, ids past 2^31) is boxed there.
struct PackedAnalysis {
    private var lookupNanosecondsValue: Int64
    /// The findings (most rows have none; rows with the same list share one `Extra`), and when the values do not pack
    /// (or a retry gap is set, rare) the whole analysis, which every accessor then reads; also a response time too
    /// far from the query's to pack.
    private var extra: Extra?
    private var chainValue: Int32, pairValue: Int32, lookupValue: Int32, flowValue: Int32
    private var attemptValue: UInt8
    private var querySightings: UInt8, responseSightings: UInt8
    private var bits: UInt8

    final class Extra {
        let findings: [String]
        let whole: Analysis?
        let responseTime: Timestamp?
        init(findings: [String], whole: Analysis? = nil, responseTime: Timestamp? = nil) {
            self.findings = findings
            self.whole = whole
            self.responseTime = responseTime
        }
    }

    var findings: [String] { extra?.findings ?? [] }

    private static let none = Int32.min
    private static let pairStates: [Analysis.PairState] = [.ok, .retried, .partial, .failed, .single]

    /// `shared`, when given, holds `a.findings` (and nothing else), for rows to share.
    init(_ a: Analysis, shared: Extra? = nil) {
        func pack(_ v: Int?) -> Int32?? {
            guard let v else { return .some(nil) }
            guard let n = Int32(exactly: v), n != PackedAnalysis.none else { return nil }
            return .some(n)
        }
        lookupNanosecondsValue = .min
        chainValue = PackedAnalysis.none
        pairValue = PackedAnalysis.none
        lookupValue = PackedAnalysis.none
        flowValue = PackedAnalysis.none
        attemptValue = 0
        querySightings = 0
        responseSightings = 0
        bits = 0
        let findings = shared?.findings ?? a.findings
        extra = findings.isEmpty ? nil : shared ?? Extra(findings: findings)
        // A re-send's gap (a fan-out copy's link, a lost query's last capture point) is kept whole with the rest (most
        // rows have none).
        guard a.retryGapNanoseconds == nil, a.link == nil, a.lastSeen == nil, let attempt = UInt8(exactly: a.attempt),
              let qs = UInt8(exactly: a.querySightings), let rs = UInt8(exactly: a.responseSightings),
              let chain = pack(a.chain), let pair = pack(a.pair), let lookup = pack(a.lookup), let flow = pack(a.flow),
              a.lookupNanoseconds != .min else {
            extra = Extra(findings: findings, whole: a)
            return
        }
        attemptValue = attempt
        querySightings = qs
        responseSightings = rs
        chainValue = chain ?? PackedAnalysis.none
        pairValue = pair ?? PackedAnalysis.none
        lookupValue = lookup ?? PackedAnalysis.none
        flowValue = flow ?? PackedAnalysis.none
        lookupNanosecondsValue = a.lookupNanoseconds ?? .min
        var bits: UInt8 = a.isProbableRetry ? 1 : 0
        if let s = a.sameSocket { bits |= s ? 2 : 4 }
        if let p = a.pairState { bits |= PackedAnalysis.number(p) << 3 }
        self.bits = bits
    }

    /// A pair state's place in `pairStates`, plus one.
    private static func number(_ p: Analysis.PairState) -> UInt8 {
        switch p {
        case .ok: 1
        case .retried: 2
        case .partial: 3
        case .failed: 4
        case .single: 5
        }
    }

    @inline(__always) private var whole: Analysis? { extra?.whole }

    /// A response time too far from the query's to pack (`QueryFacts` asks for it only then).
    @inline(__always) var farResponseTime: Timestamp? {
        get { extra?.responseTime }
        set { extra = Extra(findings: findings, whole: extra?.whole, responseTime: newValue) }
    }
    private static func unpack(_ v: Int32) -> Int? { v == PackedAnalysis.none ? nil : Int(v) }

    @inline(__always) var attempt: Int { whole?.attempt ?? Int(attemptValue) }
    @inline(__always) var isProbableRetry: Bool { whole?.isProbableRetry ?? (bits & 1 != 0) }
    @inline(__always) var pairState: Analysis.PairState? {
        if let whole { return whole.pairState }
        let i = Int(bits >> 3)
        return i == 0 ? nil : PackedAnalysis.pairStates[i - 1]
    }
    /// A pending row takes a state its pair proved through its sibling (the rest of its analysis stays).
    mutating func setPairState(_ state: Analysis.PairState?) {
        if var a = whole {
            a.pairState = state
            extra = Extra(findings: findings, whole: a, responseTime: extra?.responseTime)
        } else {
            bits = bits & 0b111 | (state.map(PackedAnalysis.number) ?? 0) << 3
        }
    }
    var chain: Int? { whole.map(\.chain) ?? PackedAnalysis.unpack(chainValue) }
    var pair: Int? { whole.map(\.pair) ?? PackedAnalysis.unpack(pairValue) }
    var lookup: Int? { whole.map(\.lookup) ?? PackedAnalysis.unpack(lookupValue) }
    var lookupNanoseconds: Int64? {
        whole.map(\.lookupNanoseconds) ?? (lookupNanosecondsValue == .min ? nil : lookupNanosecondsValue)
    }

    var analysis: Analysis {
        if let whole { return whole }
        var a = Analysis()
        a.attempt = Int(attemptValue)
        a.isProbableRetry = isProbableRetry
        a.chain = chain
        a.pair = pair
        a.pairState = pairState
        a.sameSocket = bits & 2 != 0 ? true : bits & 4 != 0 ? false : nil
        a.lookup = lookup
        a.lookupNanoseconds = lookupNanoseconds
        a.flow = PackedAnalysis.unpack(flowValue)
        a.querySightings = Int(querySightings)
        a.responseSightings = Int(responseSightings)
        a.findings = findings
        return a
    }
}
