/// Lookups: the queries of one getaddrinfo call (its search-list walk), and when each is over.
///
/// Evidence:
/// * lookup: a client's steps whose names walk one search list — the next name is the previous one's base
///   (its labels shared with the previous name) with another suffix, or the base alone — with no positive answer
///   yet, within `lookupGap` of the previous activity.
/// * complete: all its queries settled, and either a positive answer to every query of its last step (then after
///   `sightingWindow`, for late sightings), or `horizon` without activity.
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
        var members = InlineList<Int>()
        var pairs = InlineList<Int>()
        var settled = 0
        var hasPositive = false
        var end: Timestamp
        var lastQuery: Timestamp
        var lastAnswer: Timestamp?
        /// The longest gap between two attempts: the client's timeout, as observed.
        var longestRetryGap: Int64 = 0

        mutating func gained(query seq: Int, at time: Timestamp, retryGap: Int64) {
            members.append(seq)
            lastActivity = max(lastActivity, time)
            end = max(end, time)
            lastQuery = max(lastQuery, time)
            longestRetryGap = max(longestRetryGap, retryGap)
        }

        mutating func settled(answer r: ObservedMessage?) {
            settled += 1
            guard let r else { return }
            lastActivity = max(lastActivity, r.timestamp)
            end = max(end, r.timestamp)
            lastAnswer = max(lastAnswer ?? r.timestamp, r.timestamp)
            if r.message.rcode == .noError, !r.message.answers.isEmpty { hasPositive = true }
        }

        /// What the application waited: from the first query to the last response (or last query). Ending on a query
        /// nothing answered, the client waited its timeout for it before giving up: the timeout its own re-sends
        /// showed is added (if it re-sent at all).
        var waitedNanoseconds: Int64 {
            var end = end
            if lastAnswer.map({ $0 < lastQuery }) ?? true, longestRetryGap > 0 {
                end = max(end, Timestamp(seconds: 0, nanoseconds: 0, digits: lastQuery.digits)
                    .addingNanoseconds(lastQuery.totalNanoseconds + longestRetryGap))
            }
            return end.nanoseconds(since: firstTime)
        }
    }

    private let configuration: Analyzer.Configuration
    private var lookups = SequenceMap<Lookup>()
    /// Each client's lookups a next step may still continue (at most 64 a client; stale ones dropped as they are met,
    /// and at each sweep by `forgetClosed`).
    private var openByClient: [IPAddress: [Int]] = [:]
    /// Lookup ids in the order they were opened (ids only grow; a FIFO from `orderHead`): the oldest is found here when
    /// over the bound.
    private var order: [Int] = []
    private var orderHead = 0
    /// Lookups that gained an answer, with when (a FIFO from `readyHead`: the times only grow), to look at a sighting
    /// window later.
    private var ready: [(at: Timestamp, id: Int)] = []
    private var readyHead = 0

    init(configuration: Analyzer.Configuration) { self.configuration = configuration }

    var count: Int { lookups.count }
    var ids: [Int] { lookups.keys }
    func contains(_ id: Int) -> Bool { lookups.contains(id) }
    /// Transactions finalised before their lookup was complete (`maxOpenLookups`).
    private(set) var cutShort = 0

    /// Continues the client's open lookup whose last name walks to this one, or starts a new one; returns its id.
    mutating func join(_ seq: Int, client: IPAddress, name: DNSName, at time: Timestamp) -> Int {
        // Taken out and put back: edited in place, not copied.
        var open = openByClient.removeValue(forKey: client) ?? []
        open.removeAll { id in
            guard let r = lookups[id] else { return true }
            return r.hasPositive || time.nanoseconds(since: r.lastActivity) > configuration.lookupGap
        }
        if let id = open.last(where: { Lookups.continues(from: lookups[$0]!.lastName, to: name) }) {
            lookups.update(id) { $0.lastName = name }
            openByClient[client] = open
            return id
        }
        order.append(seq)
        lookups[seq] = Lookup(id: seq, client: client, firstTime: time, lastActivity: time, lastName: name, end: time,
                              lastQuery: time)
        open.append(seq)
        if open.count > 64 { open.removeFirst(open.count - 64) }
        openByClient[client] = open
        return seq
    }

    mutating func gained(_ id: Int, query seq: Int, at time: Timestamp, retryGap: Int64) {
        lookups.update(id) { $0.gained(query: seq, at: time, retryGap: retryGap) }
    }

    mutating func gained(_ id: Int, pair pid: Int) {
        lookups.update(id) { $0.pairs.append(pid) }
    }

    mutating func settled(_ id: Int, answer: ObservedMessage?) {
        lookups.update(id) { $0.settled(answer: answer) }
    }

    /// A query of the lookup settled at `time`: it may be complete a sighting window later.
    mutating func touched(_ id: Int, at time: Timestamp) { ready.append((time, id)) }

    var isBeyondBound: Bool { lookups.count > configuration.maxOpenLookups }

    /// Beyond `maxOpenLookups`: the oldest open lookup, to be finalised now with what it has (its queries are counted
    /// in `cutShort`); nil once within the bound.
    mutating func nextBeyondBound() -> Int? {
        while lookups.count > configuration.maxOpenLookups, orderHead < order.count {
            let id = order[orderHead]
            orderHead += 1
            // Its transactions, settled or still to come (those go on at once when they settle).
            guard let members = lookups.read(id, { $0.members.count }) else { continue }
            cutShort += members
            return id
        }
        if orderHead > 4096, orderHead * 2 > order.count {
            order.removeFirst(orderHead)
            orderHead = 0
        }
        return nil
    }

    /// The next lookup that gained an answer more than a sighting window before `now`, to look at; nil when none.
    mutating func nextReady(now: Timestamp) -> Int? {
        if readyHead < ready.count, now.nanoseconds(since: ready[readyHead].at) > configuration.sightingWindow {
            readyHead += 1
            return ready[readyHead - 1].id
        }
        if readyHead > 4096, readyHead * 2 > ready.count {
            ready.removeFirst(readyHead)
            readyHead = 0
        }
        return nil
    }

    /// Whether the lookup is complete at `now` (the evidence rule above).
    func isComplete(_ id: Int, now: Timestamp, attempts: Attempts, pairs: Pairs) -> Bool {
        // Read where it lies: checked at every answer and every second for every open lookup.
        lookups.read(id) { r in
            guard r.settled == r.members.count else { return false }
            let quiet = now.nanoseconds(since: r.lastActivity)
            if quiet > configuration.horizon { return true }
            if quiet > configuration.quietAfterAnswers, r.members.allSatisfy({ attempts.isAnswered($0) }) { return true }
            guard r.hasPositive, quiet > configuration.sightingWindow, let last = r.pairs.last else { return false }
            // The last step is over.
            return pairs.isAnswered(last, attempts: attempts)
        } ?? false
    }

    /// Takes the lookup out, to finalise it: when all its queries settled, or in any case with `force`.
    mutating func take(_ id: Int, force: Bool) -> Lookup? {
        guard let r = lookups[id], force || r.settled == r.members.count else { return nil }
        lookups[id] = nil
        return r
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
