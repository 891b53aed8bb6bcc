/// A named diagnosis: what the rows show, and what to do about it.
public struct Finding: Hashable, Sendable {
    public var id: String
    public var title: String
    public var fix: String
    /// Exactly what in the rows makes it fire (shown in the docs and the help).
    public var evidence: String
    /// Order of importance in reports (lower first).
    public var rank: Int

    public static let conntrackRace = Finding(
        id: "conntrack-race", title: "A and AAAA left from one socket, one was lost and re-sent after the resolver timeout",
        fix: "add `options: [{name: single-request-reopen}]` to the pod's dnsConfig (glibc), or run NodeLocal DNSCache; kernels before 5.0 lose the conntrack insertion race under DNAT",
        evidence: "a pair whose first attempts shared one 5-tuple, one answered at its first attempt, the other unanswered and re-sent with the same id at least 0.9 s later",
        rank: 0)
    public static let serialFallback = Finding(
        id: "serial-fallback", title: "after a timeout the client switched to asking one query at a time",
        fix: "the cause is the timeout before it (see conntrack-race / lost queries); single-request-reopen avoids the shared socket",
        evidence: "in a resolution that already had a re-send after 0.9 s or more, a pair whose second query left only after the first was answered",
        rank: 1)
    public static let answerGivenUp = Finding(
        id: "answer-given-up", title: "a query was never answered: the application got only the other address family",
        fix: "find where the query died (lost-between-points, server logs); glibc returns the A alone, musl fails the lookup",
        evidence: "a query with no answered attempt whose pair's other query was answered (pair state partial)",
        rank: 2)
    public static let lostBetweenPoints = Finding(
        id: "lost-between-points", title: "a query seen at one capture point and never at the next: it died in between",
        fix: "look at the hop between the two points (conntrack, DNAT, network policy, MTU); `conntrack -S` insert_failed counts the race",
        evidence: "a capture with several points (interfaces of -i any, or several inputs) where this client's queries are seen n times, and this unanswered query fewer",
        rank: 3)
    public static let tcFallback = Finding(
        id: "tc-fallback", title: "UDP answer truncated (TC=1), asked again over TCP",
        fix: "answers over 512 octets cost a TCP round trip; enable EDNS (options edns0) or trim the answer; make sure TCP/53 is open",
        evidence: "a query answered over UDP with TC=1 and the same question and id asked again over TCP (or, flagged, never asked again)",
        rank: 4)
    public static let tcFallbackFailed = Finding(
        id: "tc-fallback-failed", title: "UDP answer truncated (TC=1) and the TCP follow-up is missing or failed",
        fix: "open TCP/53 from the pods to the DNS service; musl before 1.2.4 never falls back (it uses the truncated answer)",
        evidence: "a query answered over UDP with TC=1 and no TCP attempt of the same question and id, or none that was answered without error",
        rank: 4)
    public static let serverErrors = Finding(
        id: "server-errors", title: "the server answered with an error (SERVFAIL, REFUSED or NOTIMP)",
        fix: "check the DNS server's logs and its upstreams",
        evidence: "a response whose RCODE is SERVFAIL, REFUSED or NOTIMP",
        rank: 5)
    public static let slowServer = Finding(
        id: "slow-server", title: "one DNS server answers far more slowly than the others",
        fix: "look at that server (load, upstream, cache misses); spread clients away from it",
        evidence: "capture-wide: at least two servers with 10 or more answers each, and one whose median latency is at least 5 times the others' and 20 ms more (shown in the summary, not on rows)",
        rank: 5)
    public static let ndotsExpansion = Finding(
        id: "ndots-expansion", title: "queries wasted on search-list NXDOMAINs before the real name",
        fix: "use the FQDN with a trailing dot (api.example.com.), or lower ndots in the pod's dnsConfig (options ndots:1 or 2)",
        evidence: "a resolution whose steps before a positive answer were answered NXDOMAIN",
        rank: 6)
    public static let muslResolver = Finding(
        id: "musl-resolver", title: "musl resolver (Alpine): only the unanswered query is re-sent, at a fraction of the timeout",
        fix: "musl has no single-request options and fails the whole lookup if an AAAA never comes; consider a glibc base image or NodeLocal DNSCache",
        evidence: "a pair from one socket where one query was answered at once and never re-sent, and the other re-sent with the same id; or one query sent with the same id and port to two or more servers within 50 ms (musl asks every nameserver at once)",
        rank: 7)

    public static let all: [Finding] = [
        .conntrackRace, .serialFallback, .answerGivenUp, .lostBetweenPoints, .tcFallbackFailed, .tcFallback, .serverErrors, .slowServer,
        .ndotsExpansion, .muslResolver,
    ]
    public static let byID: [String: Finding] = Dictionary(uniqueKeysWithValues: all.map { ($0.id, $0) })

    /// The finding's place in `all` (ten: a search, no hash).
    public static func index(of id: String) -> Int? { all.firstIndex { $0.id == id } }
}

/// How many capture points see each client's queries (2 on a node's `-i any`: before and after DNAT): the most
/// sightings of any of its queries so far. The lost-between-points rule compares a query's sightings with it. Only
/// clients seen at more than one point are held.
struct CapturePoints {
    private var byClient: [IPAddress: Int] = [:]

    /// The client's count, raised by the sightings of these rows (its finished lookup's).
    mutating func count(for client: IPAddress, rows: [Transaction]) -> Int {
        var points = byClient[client] ?? 1
        for t in rows { points = max(points, t.analysis.querySightings) }
        if points > 1 { byClient[client] = points }
        return points
    }
}

/// The rules, applied to the finished transactions of one lookup.
enum FindingRules {
    static let timeoutFloor: Int64 = 900_000_000

    /// Every query answered at its first attempt, not truncated, each its own chain: of the rules, only
    /// server-errors and ndots-expansion can fire (the others need an unanswered query, a re-send or TC=1).
    static func isAnsweredAtOnce(_ rows: [Transaction]) -> Bool {
        for t in rows {
            guard t.hasQuery, !t.isUnmatchable, let r = t.responseHeader, !r.isTruncated else { return false }
            guard t.analysis.attempt == 1, !t.analysis.isProbableRetry, t.analysis.retryGapNanoseconds == nil,
                  t.analysis.chain == nil || t.analysis.chain == t.sequence
            else { return false }
        }
        return true
    }

    /// Finding ids for each transaction (by sequence) of one lookup.
    /// `pointsForClient`: how many capture points saw this client's queries at most (1 on a single capture point).
    static func evaluate(_ rows: [Transaction], pointsForClient: Int) -> SequenceMap<[String]> {
        var out = SequenceMap<[String]>()
        let answeredAtOnce = isAnsweredAtOnce(rows)
        // Most lookups: answered at once and NOERROR throughout. No rule can fire on those, so they skip the
        // grouping below — it is most of the analysis's cost on a busy capture.
        if answeredAtOnce, rows.allSatisfy({ $0.responseRCode == .noError }) { return out }
        func mark(_ ts: [Transaction], _ f: Finding) {
            for t in ts where out[t.sequence]?.contains(f.id) != true { out[t.sequence, default: []].append(f.id) }
        }
        let queries = answeredAtOnce ? rows : rows.filter { $0.hasQuery && !$0.isUnmatchable }
        if !answeredAtOnce { groupRules(queries, pointsForClient: pointsForClient, mark: mark) }
        for t in queries {
            if let r = t.responseRCode, r == .servFail || r == .refused || r == .notImp { mark([t], .serverErrors) }
            if pointsForClient > 1, t.status == .unanswered, t.analysis.querySightings < pointsForClient { mark([t], .lostBetweenPoints) }
        }

        // ndots-expansion: NXDOMAIN answers for other names (earlier search steps) before the first positive answer.
        let positive = queries.filter(\.isPositive)
        if let first = positive.min(by: { $0.time < $1.time }), let answeredName = first.question?.name.lowercased {
            let wasted = queries.filter {
                $0.time < first.time && $0.responseRCode == .nxDomain && $0.question?.name.lowercased != answeredName
            }
            if !wasted.isEmpty { mark(wasted, .ndotsExpansion) }
        }
        return out
    }

    /// The rules that look at pairs and chains: conntrack-race, answer-given-up, musl-resolver, serial-fallback,
    /// tc-fallback.
    private static func groupRules(_ queries: [Transaction], pointsForClient: Int, mark: ([Transaction], Finding) -> Void) {
        let chains = Dictionary(grouping: queries, by: { SequenceKey($0.analysis.chain ?? $0.sequence) }).mapValues { $0.sorted { $0.sequence < $1.sequence } }
        let pairs = Dictionary(grouping: queries, by: { SequenceKey($0.analysis.pair ?? $0.sequence) })
        let firstTimeoutResend = queries.filter { ($0.analysis.retryGapNanoseconds ?? 0) >= timeoutFloor }.map(\.time).min()

        for (_, members) in pairs {
            let legs = Dictionary(grouping: members, by: { SequenceKey($0.analysis.chain ?? $0.sequence) }).values.map { $0.sorted { $0.sequence < $1.sequence } }
            guard legs.count == 2 else { continue }
            let sameSocket = members.first?.analysis.sameSocket == true
            for (lost, other) in [(legs[0], legs[1]), (legs[1], legs[0])] {
                guard let lostFirst = lost.first, let otherFirst = other.first else { continue }
                // conntrack-race
                if sameSocket, lostFirst.status == .unanswered, otherFirst.status == .answered,
                   lost.dropFirst().contains(where: { ($0.analysis.retryGapNanoseconds ?? 0) >= timeoutFloor })
                {
                    mark(members, .conntrackRace)
                }
                // answer-given-up
                if !lost.contains(where: { $0.status == .answered }), other.contains(where: { $0.status == .answered }) {
                    mark(lost, .answerGivenUp)
                }
                // musl-resolver
                if sameSocket, other.count == 1, otherFirst.status == .answered, lost.count >= 2, lostFirst.status == .unanswered,
                   lost.dropFirst().allSatisfy({ ($0.analysis.retryGapNanoseconds ?? 0) < timeoutFloor })
                {
                    mark(members, .muslResolver)
                }
            }
            // serial-fallback: at or after the lookup's first re-send that followed a timeout, the two sends of
            // one attempt went one at a time (the second after the first's answer).
            if let firstTimeout = firstTimeoutResend {
                for (_, sends) in Dictionary(grouping: members, by: { SequenceKey($0.analysis.attempt) }) where sends.count == 2 {
                    let ordered = sends.sorted { $0.time < $1.time }
                    if ordered[0].time >= firstTimeout, let answer = ordered[0].responseTime, answer <= ordered[1].time {
                        mark(sends, .serialFallback)
                    }
                }
            }
        }

        for (_, attempts) in chains {
            // musl fan-out: the same send to several servers at once, from one port.
            if let first = attempts.first {
                let fanOut = attempts.filter {
                    $0.client == first.client && $0.transport == first.transport && $0.time.nanoseconds(since: first.time) < 50_000_000
                }
                if Set(fanOut.map(\.server.address)).count >= 2 { mark(fanOut, .muslResolver) }
            }
            // tc-fallback
            if let truncated = attempts.first(where: { $0.transport == .udp && $0.responseHeader?.isTruncated == true }) {
                let followUp = attempts.filter { $0.transport == .tcp && $0.sequence > truncated.sequence }
                mark([truncated] + followUp, .tcFallback)
                let succeeded = followUp.contains { $0.status == .answered && $0.responseRCode == .noError }
                if !succeeded { mark([truncated] + followUp, .tcFallbackFailed) }
            }
        }

    }
}
