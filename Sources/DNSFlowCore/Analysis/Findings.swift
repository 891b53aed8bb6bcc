/// A named diagnosis: what the rows show, and what to do about it.
public struct Finding: Hashable, Sendable {
    public var id: String
    public var title: String
    public var fix: String
    /// Exactly what in the rows makes it fire (shown in the docs and the help).
    public var evidence: String
    /// Order of importance in reports (lower first).
    public var rank: Int

    public static let bothLost = Finding(
        id: "both-lost", title: "both queries of a lookup step were lost: not the A/AAAA race, the path lost everything for a while",
        fix: "the race loses one of two; losing both points at the path or the server: check the DNS service's endpoints and NetworkPolicy, `conntrack -S` (drop, early_drop: a full table), the DNS pods' load and restarts",
        evidence: "a pair whose A and AAAA first attempts both went unanswered, to a nameserver that answered something else in the lookup or to the only one asked",
        rank: 0)
    public static let deadNameserver = Finding(
        id: "dead-nameserver", title: "a nameserver never answered; the client failed over to the next one after its timeout",
        fix: "remove or repair the dead nameserver (the address in the example) in resolv.conf / the pod's dnsConfig; every lookup pays one timeout for it while it is listed first",
        evidence: "in one lookup, every query to one nameserver address unanswered while another nameserver answered the same lookup",
        rank: 0)
    public static let tcpBlocked = Finding(
        id: "tcp-blocked", title: "UDP answer truncated (TC=1) and the TCP connection to port 53 never completed: the client waited in connect",
        fix: "allow TCP/53 from the pods to the DNS service (and its NetworkPolicy, security groups, the node's firewall); or keep answers under 512 octets (EDNS, fewer records)",
        evidence: "a query answered over UDP with TC=1, then SYNs from the client to port 53 with no SYN-ACK (or a RST), and no DNS message over TCP",
        rank: 1)
    public static let lostQuery = Finding(
        id: "lost-query", title: "a query got no answer; the client waited its timeout and asked again",
        fix: "find where it died: capture on the node (`-i any`) and at the DNS pod to see the hop (lost-between-points); `conntrack -S`; the DNS server's logs",
        evidence: "an unanswered attempt re-sent 0.9 s or more later (same id, or a new id from a new socket as Go's resolver does), not explained by conntrack-race, both-lost or dead-nameserver",
        rank: 2)
    public static let conntrackRace = Finding(
        id: "conntrack-race", title: "A and AAAA left from one socket, one was lost and re-sent after the resolver timeout",
        fix: "add `options: [{name: single-request-reopen}]` to the pod's dnsConfig (glibc), or run NodeLocal DNSCache; kernels before 5.0 lose the conntrack insertion race under DNAT",
        evidence: "a pair whose first attempts shared one 5-tuple, one answered at its first attempt, the other unanswered and re-sent with the same id at least 0.9 s later (the race's signature; lost-between-points on node captures confirms the hop)",
        rank: 0)
    public static let serialFallback = Finding(
        id: "serial-fallback", title: "after a timeout the client switched to asking one query at a time",
        fix: "the cause is the timeout before it (see conntrack-race / lost queries); single-request-reopen avoids the shared socket",
        evidence: "in a lookup that already had a re-send after 0.9 s or more, a pair whose second query left from the same socket only after the first was answered",
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
        evidence: "a query answered over UDP with TC=1 and the same question and id asked again over TCP",
        rank: 4)
    public static let tcFallbackFailed = Finding(
        id: "tc-fallback-failed", title: "UDP answer truncated (TC=1) and the TCP follow-up is missing or failed",
        fix: "open TCP/53 from the pods to the DNS service; musl before 1.2.4 never falls back (it uses the truncated answer)",
        evidence: "a query answered over UDP with TC=1 and no TCP connection attempted (musl before 1.2.4), or a TCP query of the same question and id that was not answered without error",
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
        .conntrackRace, .deadNameserver, .bothLost, .serialFallback, .tcpBlocked, .answerGivenUp, .lostQuery, .lostBetweenPoints,
        .tcFallbackFailed, .tcFallback, .serverErrors, .slowServer, .ndotsExpansion, .muslResolver,
    ]
    public static let byID: [String: Finding] = Dictionary(uniqueKeysWithValues: all.map { ($0.id, $0) })

    /// The finding's place in `all` (fourteen: a search, no hash).
    public static func index(of id: String) -> Int? { all.firstIndex { $0.id == id } }
}

/// How many capture points see each client's queries (2 on a node's `-i any`: before and after DNAT): the most
/// sightings of any of its queries so far. The lost-between-points rule compares a query's sightings with it. Only
/// clients seen at more than one point are held, at most `maxClients` (beyond it, counting starts afresh: a client's
/// next lookup with every copy seen sets its count again).
struct CapturePoints {
    private var byClient: [IPAddress: Int] = [:]
    static let maxClients = 48_000

    /// The client's count, raised by the sightings of these rows (its finished lookup's).
    mutating func count(for client: IPAddress, rows: [Transaction]) -> Int {
        var points = byClient[client] ?? 1
        for t in rows { points = max(points, t.analysis.querySightings) }
        if points > 1, byClient[client] != points {
            if byClient.count >= Self.maxClients { byClient.removeAll() }
            byClient[client] = points
        }
        return points
    }
}

/// What a lookup's client did over TCP besides DNS messages: connection attempts to port 53 (SYNs, retransmissions
/// included) and what came back. A connect that never completes carries no DNS message; this is its evidence.
public struct ConnectionTally: Hashable, Sendable {
    /// Counts (saturating): held in every open lookup, so kept small.
    public private(set) var attempts: UInt16 = 0
    public private(set) var accepted: UInt16 = 0
    public private(set) var refused: UInt16 = 0

    public init() {}

    /// SYNs went out and nothing accepted them.
    public var neverCompleted: Bool { attempts > 0 && accepted == 0 }

    mutating func add(_ e: ConnectionEvent) {
        switch e.kind {
        case .attempt: attempts = attempts &+ (attempts == .max ? 0 : 1)
        case .accepted: accepted = accepted &+ (accepted == .max ? 0 : 1)
        case .refused: refused = refused &+ (refused == .max ? 0 : 1)
        }
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

    /// The findings of each transaction of one lookup, in the order of `rows` (which are in sequence order); empty
    /// when none fired. `pointsForClient`: how many capture points saw this client's queries at most (1 on a single
    /// capture point). `connections`: the lookup's TCP connection attempts to port 53.
    static func evaluate(_ rows: [Transaction], pointsForClient: Int, connections: ConnectionTally = ConnectionTally()) -> [FindingMarks] {
        // Most lookups: answered at once. Only two rules can fire on those (none when NOERROR throughout), so they skip
        // the grouping below — it is most of the analysis's cost on a busy capture.
        if isAnsweredAtOnce(rows) {
            // No list made unless a rule marks something.
            var out: [FindingMarks] = []
            answerRules(rows) { i, rule in
                if out.isEmpty { out = [FindingMarks](repeating: FindingMarks(), count: rows.count) }
                out[i].insert(rule)
            }
            return out
        }
        var out = [FindingMarks](repeating: FindingMarks(), count: rows.count)
        /// Where a transaction of the lookup lies in `rows` (by its sequence: the rows are in sequence order).
        func row(_ t: Transaction) -> Int? {
            var low = 0, high = rows.count
            while low < high {
                let mid = (low + high) / 2
                if rows[mid].sequence < t.sequence { low = mid + 1 } else { high = mid }
            }
            return low < rows.count && rows[low].sequence == t.sequence ? low : nil
        }
        func mark(_ ts: [Transaction], _ rule: Rule) {
            for t in ts { if let i = row(t) { out[i].insert(rule) } }
        }
        let queries = rows.filter(isQuery)
        groupRules(queries, connections: connections, mark: mark, marked: { t, rule in row(t).map { out[$0].contains(rule) } == true })
        for t in queries where pointsForClient > 1 && t.status == .unanswered && t.analysis.querySightings < pointsForClient {
            mark([t], .lostBetweenPoints)
        }
        // (An unanswered query has no RCODE: the rules below never mark one that lost-between-points marked.)
        answerRules(rows) { out[$0].insert($1) }
        return out
    }

    /// A row the rules look at: a query that could be matched.
    private static func isQuery(_ t: Transaction) -> Bool { t.hasQuery && !t.isUnmatchable }

    /// The rules that look at answers alone, on the queries among `rows` (`mark` gets a row's place): server-errors
    /// (SERVFAIL, REFUSED, NOTIMP) and ndots-expansion (NXDOMAIN answers for other names — earlier search steps —
    /// before the first positive answer).
    private static func answerRules(_ rows: [Transaction], mark: (Int, Rule) -> Void) {
        // The earliest positive answer (the first of equal times).
        var first: Int?
        for i in rows.indices where isQuery(rows[i]) {
            let r = rows[i].responseRCode
            if r == .servFail || r == .refused || r == .notImp { mark(i, .serverErrors) }
            if rows[i].isPositive, first.map({ rows[i].time < rows[$0].time }) ?? true { first = i }
        }
        guard let first, let answeredName = rows[first].question?.name else { return }
        let time = rows[first].time
        for i in rows.indices where isQuery(rows[i]) && rows[i].time < time && rows[i].responseRCode == .nxDomain
            && !(rows[i].question?.name.equalsIgnoringCase(answeredName) ?? false) {
            mark(i, .ndotsExpansion)
        }
    }

    /// The rules that look at pairs, chains and nameservers: dead-nameserver, both-lost, conntrack-race,
    /// answer-given-up, lost-query, musl-resolver, serial-fallback, tc-fallback, tcp-blocked.
    private static func groupRules(
        _ queries: [Transaction], connections: ConnectionTally, mark: ([Transaction], Rule) -> Void,
        marked: (Transaction, Rule) -> Bool
    ) {
        let chains = Dictionary(grouping: queries, by: { SequenceKey($0.analysis.chain ?? $0.sequence) }).mapValues { $0.sorted { $0.sequence < $1.sequence } }
        let pairs = Dictionary(grouping: queries, by: { SequenceKey($0.analysis.pair ?? $0.sequence) })
        let firstTimeoutResend = queries.filter { $0.analysis.isResend && ($0.analysis.retryGapNanoseconds ?? 0) >= timeoutFloor }.map(\.time).min()

        // dead-nameserver: a nameserver asked in this lookup that answered none of it, while another answered.
        var answeredBy: [IPAddress: Int] = [:], askedOf: [IPAddress: Int] = [:]
        for t in queries {
            askedOf[t.server.address, default: 0] += 1
            if t.status == .answered { answeredBy[t.server.address, default: 0] += 1 }
        }
        let dead = Set(askedOf.keys.filter { answeredBy[$0] == nil })
        if !dead.isEmpty, !answeredBy.isEmpty {
            mark(queries.filter { dead.contains($0.server.address) }, .deadNameserver)
        }
        let explainedByDeadServer = !dead.isEmpty && !answeredBy.isEmpty

        for (_, members) in pairs {
            let legs = Dictionary(grouping: members, by: { SequenceKey($0.analysis.chain ?? $0.sequence) }).values.map { $0.sorted { $0.sequence < $1.sequence } }
            guard legs.count == 2 else { continue }
            let sameSocket = members.first?.analysis.sameSocket == true
            // both-lost: neither first attempt answered (a fan-out copy of it counts as the same attempt).
            let firstAnswered = legs.map { leg in leg.contains { $0.analysis.attempt == 1 && $0.status == .answered } }
            if !firstAnswered[0], !firstAnswered[1], !explainedByDeadServer {
                mark(members, .bothLost)
            }
            for (lost, other) in [(legs[0], legs[1]), (legs[1], legs[0])] {
                guard let lostFirst = lost.first, let otherFirst = other.first else { continue }
                // conntrack-race
                if sameSocket, lostFirst.status == .unanswered, otherFirst.status == .answered, otherFirst.analysis.attempt == 1,
                   lost.dropFirst().contains(where: { $0.analysis.isResend && $0.analysis.link == .id && ($0.analysis.retryGapNanoseconds ?? 0) >= timeoutFloor }),
                   !explainedByDeadServer
                {
                    mark(members, .conntrackRace)
                }
                // answer-given-up
                if !lost.contains(where: { $0.status == .answered }), other.contains(where: { $0.status == .answered }) {
                    mark(lost, .answerGivenUp)
                }
                // musl-resolver
                if sameSocket, other.allSatisfy({ !$0.analysis.isResend }), otherFirst.status == .answered,
                   lost.contains(where: { $0.analysis.isResend }), lostFirst.status == .unanswered,
                   lost.filter(\.analysis.isResend).allSatisfy({ ($0.analysis.retryGapNanoseconds ?? 0) < timeoutFloor })
                {
                    mark(members, .muslResolver)
                }
            }
            // serial-fallback: at or after the lookup's first re-send that followed a timeout, the two sends of
            // one attempt went one at a time (the second after the first's answer) on one socket. (A client that was
            // sequential from the start — single-request — opens a socket per query after a timeout instead. A dead
            // nameserver already names the timeout's cause.)
            if let firstTimeout = firstTimeoutResend, !explainedByDeadServer {
                for (_, sends) in Dictionary(grouping: members.filter { $0.analysis.link != .fanOut }, by: { SequenceKey($0.analysis.attempt) })
                    where sends.count == 2
                {
                    let ordered = sends.sorted { $0.time < $1.time }
                    if ordered[0].time >= firstTimeout, let answer = ordered[0].responseTime, answer <= ordered[1].time,
                       ordered[0].client == ordered[1].client, ordered[0].transport == ordered[1].transport
                    {
                        mark(sends, .serialFallback)
                    }
                }
            }
        }

        for (_, attempts) in chains {
            // musl fan-out: the same send to several servers at once.
            if attempts.contains(where: { $0.analysis.link == .fanOut }) { mark(attempts, .muslResolver) }
            // lost-query: an unanswered send re-sent after a timeout, when nothing more specific names the cause.
            for (i, t) in attempts.enumerated() where t.analysis.isResend && (t.analysis.retryGapNanoseconds ?? 0) >= timeoutFloor {
                guard i > 0, attempts[i - 1].status == .unanswered else { continue }
                let specific: [Rule] = [.conntrackRace, .bothLost, .deadNameserver]
                if !specific.contains(where: { marked(t, $0) || marked(attempts[i - 1], $0) }) {
                    mark([attempts[i - 1], t], .lostQuery)
                }
            }
            // tc-fallback, tcp-blocked, tc-fallback-failed
            if let truncated = attempts.first(where: { $0.transport == .udp && $0.responseHeader?.isTruncated == true }) {
                let followUp = attempts.filter { $0.transport == .tcp && $0.sequence > truncated.sequence }
                if !followUp.isEmpty {
                    mark([truncated] + followUp, .tcFallback)
                    if !followUp.contains(where: { $0.status == .answered && $0.responseRCode == .noError }) {
                        mark([truncated] + followUp, .tcFallbackFailed)
                    }
                } else if connections.neverCompleted {
                    mark([truncated], .tcpBlocked)
                } else if connections.attempts == 0 {
                    mark([truncated], .tcFallbackFailed)
                }
            }
        }
    }
}

extension FindingRules {
    /// The findings a rule marks on rows (`slow-server` is capture-wide, never on a row).
    enum Rule: Int, CaseIterable {
        case conntrackRace, deadNameserver, bothLost, serialFallback, tcpBlocked, answerGivenUp, lostQuery,
             lostBetweenPoints, tcFallbackFailed, tcFallback, serverErrors, ndotsExpansion, muslResolver

        /// Its finding's place in `Finding.all`.
        var findingIndex: Int { FindingRules.Rule.indices[rawValue] }
        private static let indices = allCases.map { Finding.index(of: $0.finding.id)! }

        var finding: Finding {
            switch self {
            case .conntrackRace: .conntrackRace
            case .deadNameserver: .deadNameserver
            case .bothLost: .bothLost
            case .serialFallback: .serialFallback
            case .tcpBlocked: .tcpBlocked
            case .answerGivenUp: .answerGivenUp
            case .lostQuery: .lostQuery
            case .lostBetweenPoints: .lostBetweenPoints
            case .tcFallbackFailed: .tcFallbackFailed
            case .tcFallback: .tcFallback
            case .serverErrors: .serverErrors
            case .ndotsExpansion: .ndotsExpansion
            case .muslResolver: .muslResolver
            }
        }
    }
}

/// The findings marked on one transaction, in the order they were first marked (the order its rows show them in):
/// each rule's number plus one, four bits each, in one word (the thirteen rules fit; no list built per marked
/// transaction while the rules run; the ids are listed once, at the end).
struct FindingMarks: Equatable {
    private var packed: UInt64 = 0

    var isEmpty: Bool { packed == 0 }

    func contains(_ rule: FindingRules.Rule) -> Bool {
        var p = packed
        while p != 0 {
            if p & 0xf == UInt64(rule.rawValue + 1) { return true }
            p >>= 4
        }
        return false
    }

    /// Marks `rule` after those already marked (once: a rule marked again keeps its place).
    mutating func insert(_ rule: FindingRules.Rule) {
        guard !contains(rule) else { return }
        var shift: UInt64 = 0
        while packed >> shift & 0xf != 0 { shift += 4 }
        packed |= UInt64(rule.rawValue + 1) << shift
    }

    /// The findings, in the order marked.
    var codes: FindingCodes {
        var out = FindingCodes()
        var p = packed
        while p != 0 {
            out.append(index: FindingRules.Rule(rawValue: Int(p & 0xf) - 1)!.findingIndex)
            p >>= 4
        }
        return out
    }

    /// The findings' ids, in the order marked.
    var ids: [String] { codes.ids }
}
