/// What the analysis knows about one transaction beyond its query and response (DESIGN.md's vocabulary).
public struct Analysis: Hashable, Sendable {
    public enum PairState: String, Hashable, Sendable {
        /// Both the A and the AAAA answered at their first attempt.
        case ok
        /// Both answered, at least one after a re-send.
        case retried
        /// One of the two never answered: the application silently got no IPv6 (or no IPv4) answer.
        case partial
        /// Neither answered.
        case failed
        /// No sibling (a lone A, AAAA, or another type).
        case single

        /// Hashed by its case (a raw-value enum is otherwise hashed as its raw string, with `Hasher`, at every count).
        public func hash(into hasher: inout Hasher) { hasher.combine(caseNumber) }
        public func _rawHashValue(seed: Int) -> Int { FastHash.mix(UInt64(caseNumber), seed: seed) }

        private var caseNumber: UInt8 {
            switch self {
            case .ok: 0
            case .retried: 1
            case .partial: 2
            case .failed: 3
            case .single: 4
            }
        }
    }

    /// 1 for the first send of a question, n for its n-th send with the same id by the same client.
    public var attempt = 1
    /// Since the previous attempt.
    public var retryGapNanoseconds: Int64?
    /// Same question, new id, while the previous query was still unanswered: a re-send the id does not prove.
    public var isProbableRetry = false
    /// Sequence of the first attempt: shared by every attempt of one query.
    public var chain: Int?
    /// Shared by the A and AAAA queries of one search step (and their re-sends).
    public var pair: Int?
    public var pairState: PairState?
    /// Whether the pair's two first attempts left from one socket (transport and 5-tuple): the conntrack race's
    /// precondition.
    public var sameSocket: Bool?
    /// Shared by every query of one getaddrinfo call's search-list walk.
    public var lookup: Int?
    /// From the lookup's first query to its last response (or last query): what the application waited.
    public var lookupNanoseconds: Int64?
    /// The 5-tuple's id.
    public var flow: Int?
    /// How many times the query (and the response) was seen: more than once on `-i any` or merged captures.
    public var querySightings = 1
    public var responseSightings = 0
    /// An unanswered query seen at several capture points: where it was seen last — beyond it, it died.
    public var lastSeen: Place?

    /// A capture point as the analysis keeps it (no vlans, no frame: plain values, copied with every row).
    public struct Place: Hashable, Sendable {
        public var input: Int32
        public var interfaceIndex: UInt32?
        public var packetType: UInt16?

        public init(_ p: CapturePoint) {
            input = Int32(truncatingIfNeeded: p.input)
            interfaceIndex = p.interfaceIndex
            packetType = p.packetType
        }

        /// `CapturePoint.label`'s form: `0`, `0/if3`, `0/if3/In`.
        public var label: String {
            var p = CapturePoint(input: Int(input), frame: 0, interfaceIndex: interfaceIndex, packetType: packetType)
            p.vlans = []
            return p.label
        }
    }
    /// Ids of the findings this transaction is evidence for (`Finding.byID`), in the order they were marked.
    public var findings: [String] {
        get { findingCodes.ids }
        set { findingCodes = FindingCodes(ids: newValue) }
    }
    /// The same, as codes (no list in an analysis: it is copied at every stage).
    var findingCodes = FindingCodes()
    /// What joined this send to its chain (nil for a chain's first send).
    public var link: AttemptLink?

    /// The evidence that makes a send part of an earlier query's chain.
    public enum AttemptLink: String, Hashable, Sendable {
        /// Same client address, DNS id and question: a re-send (any port, transport or server).
        case id
        /// Same client address and question with a new id, the earlier send unanswered, a timeout-sized gap later: a
        /// re-send from a new socket (Go's resolver).
        case question
        /// The same send to another nameserver within `fanOutWindow` of the attempt's first: one attempt asking every
        /// nameserver at once (musl), not a re-send; it keeps the attempt number of the send it copies.
        case fanOut = "fan-out"
    }

    /// A re-send of the query (the second or later attempt), not a copy of one attempt to another nameserver.
    public var isResend: Bool { attempt > 1 && link != .fanOut }

    public init() {}
}

/// One 5-tuple (protocol, client, server) and what crossed it.
public struct FlowStats: Sendable {
    public var id: Int
    public var transport: TransportProtocol
    public var client: Endpoint
    public var server: Endpoint
    public var queries = 0
    public var answered = 0
    public var unanswered = 0
    public var retries = 0
    public var firstSeen: Timestamp
    public var lastSeen: Timestamp
    public var latencies: [Int64] = []
    /// Where a flow's latencies are counted once there are more than `maxExactLatencies` and they need not be exact
    /// (a live capture's: `latencies` is emptied into it): percentiles within 0.05 %, the largest exact.
    public var latencyHistogram: LatencyHistogram?
    public static let maxExactLatencies = 1024

    public init(id: Int, transport: TransportProtocol, client: Endpoint, server: Endpoint, firstSeen: Timestamp, lastSeen: Timestamp) {
        self.id = id
        self.transport = transport
        self.client = client
        self.server = server
        self.firstSeen = firstSeen
        self.lastSeen = lastSeen
    }

    /// Nearest-rank percentile in nanoseconds (from the histogram once there is one; the largest is exact either way).
    public func latencyPercentile(_ p: Double) -> Int64? {
        if let h = latencyHistogram { return p >= 100 ? h.max : h.percentile(p) }
        return nearestRankPercentile(p, sorted: latencies.sorted())
    }

    /// p50, p90, p99 and the largest, as `--flows-csv` gives them.
    public var latencyFigures: Summary.LatencyFigures? {
        latencyHistogram.map(\.figures) ?? Summary.latencyFigures(unsorted: latencies)
    }

    /// One answer's latency: kept, or, when it need not be `exact` and there are more than `maxExactLatencies`, counted.
    public mutating func addLatency(_ nanoseconds: Int64, exact: Bool) {
        if latencyHistogram != nil {
            latencyHistogram!.add(nanoseconds)
            return
        }
        latencies.append(nanoseconds)
        guard !exact, latencies.count > FlowStats.maxExactLatencies else { return }
        var h = LatencyHistogram()
        for l in latencies { h.add(l) }
        latencyHistogram = h
        latencies = []
    }
}
