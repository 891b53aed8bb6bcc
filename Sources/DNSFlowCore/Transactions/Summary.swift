/// Totals for `--summary`: every packet and message accounted for.
public struct Summary: Sendable {
    public var packet = PacketStats()
    public var dnsMessages = 0
    public var queryMessages = 0
    public var responses = 0
    public var answered = 0
    public var unanswered = 0
    public var orphanResponses = 0
    /// Messages whose question section did not decode: counted as malformed, in no transaction.
    public var unmatchableQueries = 0
    public var unmatchable = 0
    public var messagesWithTrailingBytes = 0
    /// Messages seen again (another interface, another capture): folded into the first sighting, not counted again.
    public var foldedSightings = 0
    /// DNS-level defects (and undecodable payloads) by kind.
    public var dnsMalformed: [Diagnostic.Kind: Int] = [:]
    public var unsupportedLinkTypes: [UnsupportedLink: Int] = [:]
    /// Queries that stopped waiting for their answer early because too many were waiting (a flood:
    /// `TransactionMatcher.Configuration.maxWaiting`), and transactions whose lookup was finalised early for the same
    /// reason (`maxOpenLookups`). Both are unanswered or partial figures, counted so that a flood shows.
    public var queriesGivenUp = 0
    public var lookupsCutShort = 0
    /// Queries that were the second or later attempt of a question (same client, id and question).
    public var resends = 0
    /// Same question, new id, while the previous query was unanswered.
    public var probableRetries = 0
    /// Re-sends joined to their query by its question alone: a new id after a timeout-sized gap (Go's resolver).
    public var resendsWithNewID = 0
    /// Copies of one attempt sent to further nameservers at once (musl): not re-sends.
    public var fanOutCopies = 0
    /// Queries lost between capture points, by the point they were last seen at (`CapturePoint.label`).
    public var lostLastSeen: [String: Int] = [:]
    /// A/AAAA pairs (and lone queries) by state.
    public var pairStates: [Analysis.PairState: Int] = [:]
    public var lookups = 0
    /// Lookups that took a second or more, and the slowest.
    public var slowLookups = 0
    public var slowestLookupNanoseconds: Int64 = 0
    public struct FindingCount: Sendable {
        public var finding: Finding
        /// Lookups it was found in.
        public var count: Int
        /// Transactions that are evidence for it.
        public var rows: Int
        /// The first evidence: `qname TYPE at time (client > server)`.
        public var example: String
        /// The example's sequence: the earliest evidence is the example, whatever order the lookups finish in (the
        /// analysis finishes the lookups complete at one instant in no set order).
        var exampleSequence = Int.max
    }

    /// Answer latencies by server address, for the capture-wide slow-server finding.
    public var serverLatencies: [IPAddress: [Int64]] = [:]

    /// Whether every latency is kept (`latencies`, `serverLatencies`: exact figures, memory growing with the answers)
    /// or counted in histograms (`latencyHistogram`, `serverHistograms`: bounded, figures within 0.05 %).
    public var keepsExactLatencies = true
    public var latencyHistogram = LatencyHistogram()
    public var serverHistograms: [IPAddress: LatencyHistogram] = [:]

    /// One answer's latency from `server`.
    mutating func addLatency(_ nanoseconds: Int64, server: IPAddress) {
        if keepsExactLatencies {
            latencies.append(nanoseconds)
            serverLatencies[server, default: []].append(nanoseconds)
        } else {
            latencyHistogram.add(nanoseconds)
            serverHistograms[server, default: LatencyHistogram()].add(nanoseconds)
        }
    }

    /// Each busy server's median latency, the median of the other busy servers' answers, and its answers.
    private var serverMedians: [(server: IPAddress, mine: Int64, theirs: Int64, answers: Int)] {
        var out: [(IPAddress, Int64, Int64, Int)] = []
        if keepsExactLatencies {
            let busy = serverLatencies.filter { $0.value.count >= 10 }
            guard busy.count >= 2 else { return [] }
            for (server, latencies) in busy {
                let others = busy.filter { $0.key != server }.values.flatMap { $0 }
                guard let mine = Selection.percentile(50, of: latencies), let theirs = Selection.percentile(50, of: others)
                else { continue }
                out.append((server, mine, theirs, latencies.count))
            }
        } else {
            let busy = serverHistograms.filter { $0.value.count >= 10 }
            guard busy.count >= 2 else { return [] }
            var all = LatencyHistogram()
            for h in busy.values { all.add(h) }
            for (server, h) in busy {
                guard let mine = h.percentile(50), let theirs = all.removing(h).percentile(50) else { continue }
                out.append((server, mine, theirs, h.count))
            }
        }
        return out.sorted { $0.0.description < $1.0.description }
    }

    /// Findings that need the whole capture (slow-server), added at the end.
    mutating func addCaptureWideFindings(names: AddressNames) {
        for (server, mine, theirs, answers) in serverMedians {
            guard mine >= 5 * theirs, mine - theirs >= 20_000_000 else { continue }
            let label = names[server].map { "\(server) (\($0))" } ?? server.description
            let slot = Finding.index(of: Finding.slowServer.id)!
            var entry = findingCounts[slot] ?? FindingCount(finding: .slowServer, count: 0, rows: 0, example: "")
            entry.count += 1
            entry.rows += answers
            if entry.example.isEmpty {
                let ms: (Int64) -> String = keepsExactLatencies
                    ? { TransactionCSV.formatMilliseconds($0, digits: 6) } : { "~" + Summary.threeDigitMilliseconds($0) }
                entry.example = "\(label): median \(ms(mine)) ms, the others \(ms(theirs)) ms"
            }
            findingCounts[slot] = entry
        }
    }

    /// Milliseconds to three significant digits (what a histogram's figure is good for): 150, 2.05, 0.0312.
    static func threeDigitMilliseconds(_ nanoseconds: Int64) -> String {
        guard nanoseconds > 0 else { return "0" }
        var decimals = 0, scale: Int64 = 1
        // Digits after the point in milliseconds, until three significant ones show (at most six: nanoseconds).
        while decimals < 6, nanoseconds * scale < 100_000_000 {
            decimals += 1
            scale *= 10
        }
        let unit = 1_000_000 / scale
        let units = (nanoseconds + unit / 2) / unit
        guard decimals > 0 else { return String(units) }
        let frac = String(units % scale)
        return "\(units / scale)." + String(repeating: "0", count: decimals - frac.count) + frac
    }

    /// Findings so far, by id.
    public var findings: [String: FindingCount] {
        var out: [String: FindingCount] = [:]
        for case let c? in findingCounts { out[c.finding.id] = c }
        return out
    }
    /// Findings by their place in `Finding.all` (counted per row: no string hashed per row).
    var findingCounts = [FindingCount?](repeating: nil, count: Finding.all.count)
    /// The lookup each finding was last counted for.
    var lastLookupByFinding = [Int?](repeating: nil, count: Finding.all.count)

    /// Findings, most important first.
    public var rankedFindings: [FindingCount] {
        findings.values.sorted { ($0.finding.rank, $0.finding.id) < ($1.finding.rank, $1.finding.id) }
    }

    /// Latency of every answered query, nanoseconds.
    public var latencies: [Int64] = []
    /// Finest sub-second precision among answered transactions (6 = µs, 9 = ns).
    public var latencyDigits: UInt8 = 6

    public init() {}

    /// Query messages (QR = 0); once finished, answered + unanswered + those without a question.
    public var queries: Int { queryMessages }

    /// Packet-level and DNS-level defects, by kind.
    public var malformed: [Diagnostic.Kind: Int] {
        packet.malformed.merging(dnsMalformed, uniquingKeysWith: +)
    }

    /// Nearest-rank percentile (p in 0...100) of the latencies, in nanoseconds.
    public func latencyPercentile(_ p: Double, sorted: [Int64]) -> Int64? {
        nearestRankPercentile(p, sorted: sorted)
    }

    public struct LatencyFigures: Sendable {
        public var p50, p90, p99, max: Int64
    }

    public var latencyFigures: LatencyFigures? {
        keepsExactLatencies ? Summary.latencyFigures(unsorted: latencies) : latencyHistogram.figures
    }

    /// The figures of latencies in any order (found by selection, not by sorting them).
    public static func latencyFigures(unsorted: [Int64]) -> LatencyFigures? {
        guard !unsorted.isEmpty else { return nil }
        let f = Selection.latencyFigures(unsorted)
        return LatencyFigures(p50: f.p50, p90: f.p90, p99: f.p99, max: f.max)
    }

    /// The figures of latencies already sorted (a caller that keeps them sorted as they come).
    public static func latencyFigures(sorted: [Int64]) -> LatencyFigures? {
        guard let p50 = nearestRankPercentile(50, sorted: sorted), let p90 = nearestRankPercentile(90, sorted: sorted),
              let p99 = nearestRankPercentile(99, sorted: sorted), let max = sorted.last
        else { return nil }
        return LatencyFigures(p50: p50, p90: p90, p99: p99, max: max)
    }
}
