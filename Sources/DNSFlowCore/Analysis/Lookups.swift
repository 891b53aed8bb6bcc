/// Lookups: the queries of one getaddrinfo call (its search-list walk), and when each is over.
///
/// Evidence:
/// * lookup: a client's steps whose names walk one search list — the next name is the previous one's base
///   (its labels shared with the previous name) with another suffix, or the base alone — with no positive answer
///   yet, within `lookupGap` of the previous activity. A question the lookup already had answered, asked again as a
///   new query, starts a new walk (the application asked again) — except the same name right after a truncated
///   exchange (within `sightingWindow` of its last answer: glibc repeats the UDP and TCP exchange inside one call).
///   A truncated answer (TC=1) is not a positive one: the client goes on over TCP.
/// * its TCP connects: SYNs to port 53 from the client while its open lookup waits for TCP (a truncated answer came)
///   belong to that lookup (a connect that never completes is what the client waited for); a SYN before any lookup
///   (use-vc) starts the lookup that its connection's first query opens.
/// * complete: all its queries settled, and either a positive answer to every query of its last step (then after
///   `sightingWindow`, for late sightings), or every query answered and `quietAfterAnswers` without activity
///   (`quietAfterFailedConnect` when a connect never completed), or `horizon` without activity.
/// * what the application waited: from the first query to the last response, SYN or query; ending on a query nothing
///   answered, plus the client's timeout as its re-sends showed it (this lookup's, else the client's latest).
///
/// A lookup is held until it is final (`take`). At most `maxOpenLookups` are held (a flood of queries nobody answers
/// would otherwise hold each one for the horizon): beyond it the oldest is finalised at once (`nextBeyondBound`).
struct Lookups {
    struct Lookup {
        /// Its first query's sequence.
        var id: Int
        var client: IPAddress
        var firstTime: Timestamp
        var lastActivity: Timestamp
        /// The name of its latest step: the next step's name walks on from it.
        var lastName: DNSName
        // Lists of a few: held inline (an array each was an allocation per lookup, per pair and per attempt).
        var members = SequenceList()
        var pairs = SequenceList()
        var settled = 0
        var hasPositive = false
        var end: Timestamp
        var lastQuery: Timestamp
        var lastAnswer: Timestamp?
        /// The longest gap between two attempts: the client's timeout, as observed.
        var longestRetryGap: Int64 = 0
        /// Its TCP connection attempts to port 53 and their answers.
        var connections = ConnectionTally()
        /// A UDP answer of it was truncated.
        var wasTruncated = false
        /// The client's timeout seen in its earlier lookups' re-sends (0: none), when this one has none of its own.
        var clientTimeout: Int64 = 0

        mutating func gained(query seq: Int, at time: Timestamp, retryGap: Int64) {
            members.append(seq)
            lastActivity = max(lastActivity, time)
            end = max(end, time)
            lastQuery = max(lastQuery, time)
            longestRetryGap = max(longestRetryGap, retryGap)
        }

        mutating func settled(answer r: Answer?) {
            settled += 1
            guard let r else { return }
            lastActivity = max(lastActivity, r.time)
            end = max(end, r.time)
            lastAnswer = max(lastAnswer ?? r.time, r.time)
            if r.isTruncated {
                wasTruncated = true
            } else if r.isPositive {
                hasPositive = true
            }
        }

        /// Whether glibc may be repeating a truncated exchange of this lookup at `time` (right after its last answer).
        func mayRepeatTruncated(at time: Timestamp, window: Int64) -> Bool {
            wasTruncated && lastAnswer.map { time.nanoseconds(since: $0) <= window } == true
        }

        /// A connection attempt of its client (a SYN, a SYN-ACK, a RST).
        mutating func connection(_ e: ConnectionEvent) {
            connections.add(e)
            if e.kind == .attempt {
                lastActivity = max(lastActivity, e.timestamp)
                end = max(end, e.timestamp)
            }
        }

        /// Whether a new query for `name` walks on in this lookup; `answeredHere`: its question was asked and answered
        /// in this lookup already (then it is a new walk, unless glibc is repeating a truncated exchange).
        func takes(_ name: DNSName, answeredHere: Bool, at time: Timestamp, sightingWindow: Int64) -> Bool {
            if answeredHere { return name == lastName && mayRepeatTruncated(at: time, window: sightingWindow) }
            return Lookups.continues(from: lastName, to: name) || (wasTruncated && name == lastName)
        }

        /// What the application waited: from the first query to the last response (or last query). Ending on a query
        /// nothing answered, the client waited its timeout for it before giving up: the timeout its own re-sends
        /// showed is added (if it re-sent at all).
        var waitedNanoseconds: Int64 {
            var end = end
            let timeout = longestRetryGap > 0 ? longestRetryGap : clientTimeout
            if lastAnswer.map({ $0 < lastQuery }) ?? true, timeout > 0 {
                end = max(end, Timestamp(seconds: 0, nanoseconds: 0, digits: lastQuery.digits)
                    .addingNanoseconds(lastQuery.totalNanoseconds + timeout))
            }
            return end.nanoseconds(since: firstTime)
        }
    }

    private let configuration: Analyzer.Configuration
    private var lookups = SequenceWindow<Lookup>()
    /// Each client's lookups a next step may still continue (at most 64 a client; stale ones dropped as they are met,
    /// and at each sweep by `forgetClosed`).
    private var openByClient: [IPAddress: [Int]] = [:]
    /// Lookup ids in the order they were opened (ids only grow; a FIFO from `orderHead`): the oldest is found here when
    /// over the bound. Ids of finished lookups are dropped from the front as new ones open.
    private var order: [Int] = []
    private var orderHead = 0
    /// Lookups that gained an answer, with when (a FIFO from `readyHead`: the times only grow), to look at a sighting
    /// window later.
    private var ready: [(at: Timestamp, id: Int)] = []
    private var readyHead = 0
    /// Each client's latest re-send gap (its timeout, as seen), for a later lookup that ends on a lost query without
    /// re-sending it. Held for clients that re-sent at all; at most `maxOpenLookups` (then started afresh).
    private var timeoutByClient: [IPAddress: Int64] = [:]
    /// First SYNs no open lookup took, by the client's endpoint: the lookup that the connection's first query opens
    /// began there (use-vc connects before it asks). At most `maxOpenLookups` (then started afresh).
    private var connectBefore: [Endpoint: Timestamp] = [:]

    init(configuration: Analyzer.Configuration) { self.configuration = configuration }

    var count: Int { lookups.count }
    /// Ids held in `order`, finished lookups' included.
    var orderHeld: Int { order.count - orderHead }
    var ids: [Int] { lookups.keys }
    /// Transactions finalised before their lookup was complete (`maxOpenLookups`).
    private(set) var cutShort = 0

    /// Continues the client's open lookup whose last name walks to this one, or starts a new one; returns its id.
    /// `answeredIn`: the lookup in which this client's same question was last asked and answered, if any.
    mutating func join(_ seq: Int, client: IPAddress, name: DNSName, answeredIn: Int?, socket: FlowKey, at time: Timestamp) -> Int {
        // The client's list edited where it lies in the table: one find a query (taking it out and putting it back
        // would be a removal and an insertion).
        let listed = openByClient.index(forKey: client)
        if let i = listed, let id = Lookups.continuing(&openByClient.values[i], in: &lookups, name: name,
                                                        answeredIn: answeredIn, at: time, configuration: configuration) {
            lookups.update(id) { $0.lastName = name }
            return id
        }
        // (Lookups finish about in the order they opened: the front of `order` is where finished ones are.)
        while orderHead < order.count, !lookups.contains(order[orderHead]) { orderHead += 1 }
        order.dropConsumed(head: &orderHead)
        order.append(seq)
        var first = time
        if socket.transport == .tcp, !connectBefore.isEmpty, let syn = connectBefore.removeValue(forKey: socket.client),
           syn <= time, time.nanoseconds(since: syn) <= configuration.lookupGap {
            first = syn
        }
        lookups.updateValue(Lookup(id: seq, client: client, firstTime: first, lastActivity: time, lastName: name, end: time,
                                   lastQuery: time, clientTimeout: timeoutByClient[client] ?? 0), forKey: seq)
        // (`listed` still places the client's list: only other tables changed since.)
        if let i = listed {
            openByClient.values[i].append(seq)
            if openByClient.values[i].count > 64 { openByClient.values[i].removeFirst(openByClient.values[i].count - 64) }
        } else {
            openByClient[client] = [seq]
        }
        return seq
    }

    /// Drops from a client's list of open lookups those that are over (a positive answer, or quiet for `lookupGap`), and
    /// returns the latest one a query for `name` walks on in. (Each lookup lent: `read` takes a reference to the table,
    /// counted and dropped.)
    private static func continuing(_ open: inout [Int], in lookups: inout SequenceWindow<Lookup>, name: DNSName,
                                   answeredIn: Int?, at time: Timestamp, configuration: Analyzer.Configuration) -> Int? {
        let window = configuration.sightingWindow, gap = configuration.lookupGap
        open.removeAll { id in
            lookups.lend(id) { r in
                (r.hasPositive && !r.mayRepeatTruncated(at: time, window: window)) || time.nanoseconds(since: r.lastActivity) > gap
            } ?? true
        }
        return open.last(where: { id in
            lookups.lend(id) { $0.takes(name, answeredHere: id == answeredIn, at: time, sightingWindow: window) } ?? false
        })
    }

    /// A query joined the lookup (and `pair`, the pair it opened, if it opened one).
    mutating func gained(_ id: Int, query seq: Int, at time: Timestamp, retryGap: Int64, pair: Int? = nil) {
        var client: IPAddress?
        lookups.update(id) {
            if let pair { $0.pairs.append(pair) }
            $0.gained(query: seq, at: time, retryGap: retryGap)
            client = $0.client
        }
        if retryGap > 0, let client {
            if timeoutByClient.count >= configuration.maxOpenLookups { timeoutByClient.removeAll() }
            timeoutByClient[client] = retryGap
        }
    }

    /// A TCP connection attempt (or its answer) of a client: it belongs to the client's latest open lookup that waits
    /// for TCP (a truncated answer came); a first SYN with none is remembered for the lookup its first query opens.
    mutating func connection(_ e: ConnectionEvent) {
        let client = e.client.address, gap = configuration.lookupGap
        if let open = openByClient[client],
           let id = open.last(where: { id in
               lookups.read(id) { $0.wasTruncated && e.timestamp.nanoseconds(since: $0.lastActivity) <= gap } ?? false
           })
        {
            lookups.update(id) { $0.connection(e) }
        } else if e.kind == .attempt, connectBefore[e.client] == nil {
            if connectBefore.count >= configuration.maxOpenLookups { connectBefore.removeAll() }
            connectBefore[e.client] = e.timestamp
        }
    }

    /// What a lookup takes from an answer: its time, whether it was cut short (TC), and whether it was positive (NOERROR
    /// with an answer record).
    typealias Answer = (time: Timestamp, isTruncated: Bool, isPositive: Bool)

    /// A query of the lookup settled; false when the lookup is no longer held (it was finalised).
    mutating func settled(_ id: Int, answer: Answer?) -> Bool {
        lookups.update(id) { $0.settled(answer: answer) }
    }

    /// A query of the lookup settled at `time`: it may be complete a sighting window later.
    mutating func touched(_ id: Int, at time: Timestamp) { ready.append((time, id)) }

    var isBeyondBound: Bool { lookups.count > configuration.maxOpenLookups }

    /// Beyond `maxOpenLookups` (or another bound, `overBudget`): the oldest open lookup, to be finalised now with what
    /// it has (its queries are counted in `cutShort`); nil once within the bound.
    mutating func nextBeyondBound(overBudget: Bool = false) -> Int? {
        while overBudget || lookups.count > configuration.maxOpenLookups, orderHead < order.count {
            let id = order[orderHead]
            orderHead += 1
            // Its transactions, settled or still to come (those go on at once when they settle).
            guard let members = lookups.read(id, { $0.members.count }) else { continue }
            cutShort += members
            return id
        }
        order.dropConsumed(head: &orderHead)
        return nil
    }

    /// The next lookup that gained an answer more than a sighting window before `now`, to look at; nil when none.
    mutating func nextReady(now: Timestamp) -> Int? {
        if readyHead < ready.count, now.nanoseconds(since: ready[readyHead].at) > configuration.sightingWindow {
            readyHead += 1
            return ready[readyHead - 1].id
        }
        ready.dropConsumed(head: &readyHead)
        return nil
    }

    /// Whether the lookup is complete at `now` (the evidence rule above).
    mutating func isComplete(_ id: Int, now: Timestamp, attempts: inout Attempts, pairs: inout Pairs) -> Bool {
        // Lent (`read` takes a reference to the table): checked at every answer and every second for every open lookup.
        // (Only reads in the lent closure: a call that changes a table, made there, had the lookup copied out first.)
        let configuration = configuration
        let verdict = lookups.lend(id) { r -> Completion in
            guard r.settled == r.members.count else { return .no }
            let quiet = now.nanoseconds(since: r.lastActivity)
            if quiet > configuration.horizon { return .yes }
            let quietEnough = r.connections.neverCompleted ? configuration.quietAfterFailedConnect : configuration.quietAfterAnswers
            if quiet > quietEnough, r.members.allSatisfy({ attempts.isAnswered($0) }) { return .yes }
            guard r.hasPositive, quiet > configuration.sightingWindow, let last = r.pairs.last else { return .no }
            return .ifAnswered(last)
        }
        switch verdict {
        case .yes: return true
        case .no, nil: return false
        // The last step is over.
        case .ifAnswered(let pair): return pairs.isAnswered(pair, attempts: &attempts)
        }
    }

    /// What a lookup's own fields say of its completion: yes, no, or yes once its last pair is answered.
    private enum Completion {
        case yes, no
        case ifAnswered(Int)
    }

    /// Takes the lookup out, to finalise it: when all its queries settled, or in any case with `force`.
    mutating func take(_ id: Int, force: Bool) -> Lookup? {
        // (Asked where it lies, then moved out: not copied out, then looked up again to be removed.)
        guard force || lookups.lend(id, { $0.settled == $0.members.count }) == true else { return nil }
        return lookups.removeValue(forKey: id)
    }

    /// Drops the finalised lookups from the clients' open lists (and clients left with none).
    mutating func forgetClosed() {
        openByClient = openByClient.compactMapValues { ids in
            let live = ids.filter { lookups.contains($0) }
            return live.isEmpty ? nil : live
        }
    }

    /// Whether `next` is the next step of a search-list walk after `previous`: both are a shared base (the labels
    /// they have in common at the front) with different suffixes, or the base alone — `web.default.svc.cluster.local`
    /// → `web.svc.cluster.local` → `web.cluster.local` → `web`.
    /// Compared on the wire form, label by label, without building label lists.
    static func continues(from previous: DNSName, to next: DNSName) -> Bool {
        let a = previous.wire, b = next.wire
        var i = 0, j = 0, common = 0
        while i < a.count, j < b.count {
            let n = Int(a[i])
            guard n == Int(b[j]), i + 1 + n <= a.count, j + 1 + n <= b.count,
                  a[(i + 1)..<(i + 1 + n)] == b[(j + 1)..<(j + 1 + n)] else { break }
            i += 1 + n
            j += 1 + n
            common += 1
        }
        // A shared base, and at least one of the two carries a search suffix (the other another one, or none).
        return common > 0 && (i < a.count || j < b.count)
    }
}
