/// The analysis of the queries and transactions the matcher settles: it feeds the attempts (`Attempts`), the A/AAAA
/// pairs (`Pairs`), the lookups (`Lookups`) and the flows (`FlowTable`) — each with its evidence rule and its bound —
/// and holds each settled transaction until its lookup is complete. Then the lookup's transactions are released,
/// annotated with their pair states, what the application waited and the findings (`FindingRules`).
///
/// Events in: `queryArrived` (a query, as it arrives), `querySighting` and `responseSighting` (another capture
/// point's copy), `settled` (a transaction the matcher settled), `touch` (it may complete its lookup soon), `release`
/// (time moved on) and `finish` (end of input). Memory holds only unfinished lookups (and flows of the horizon).
struct Analyzer {
    struct Configuration {
        var attemptWindow: Int64 = 60_000_000_000
        var retryWindow: Int64 = 10_000_000_000
        var pairWindow: Int64 = 30_000_000_000
        var lookupGap: Int64 = 31_000_000_000
        var sightingWindow: Int64 = 50_000_000
        /// The same send to another nameserver this soon after its attempt began is a copy of that attempt (fan-out).
        var fanOutWindow: Int64 = 50_000_000
        /// A re-send with a new id is told from a new query by a timeout-sized gap at least this long.
        var resendFloor: Int64 = FindingRules.timeoutFloor
        /// A lookup whose TCP connection never completed waits this long without activity before it is over (the
        /// client may still be retrying the connect or go on with its walk).
        var quietAfterFailedConnect: Int64 = 10_000_000_000
        /// Every query answered and nothing new for this long: the walk is over, even without a positive answer.
        var quietAfterAnswers: Int64 = 2_000_000_000
        var horizon: Int64 = 61_000_000_000
        /// Per-5-tuple statistics (for `--flows-csv`, the CSV's `flow` column and the interface); off saves a
        /// dictionary entry per socket when only the summary is wanted.
        var tracksFlows = true
        /// Hand finished flows on (`takeFinishedFlows`); off, they are let go as they finish.
        var keepsFinishedFlows = true
        /// Keep every answer's latency of a flow (exact percentiles); off, a flow's latencies beyond
        /// `FlowStats.maxExactLatencies` go to a histogram (a live capture's flow may last for days).
        var exactFlowLatencies = true
        /// Lookups held open at most (a flood of queries nobody answers would otherwise hold each one for the
        /// horizon): beyond it the oldest is finalised at once, as at the end of input, and counted (`cutShort`).
        var maxOpenLookups = 48_000
        /// What the settled transactions waiting for their lookup hold at most, in octets (`Transaction.heldBytes`):
        /// beyond it the oldest lookups are finalised at once, as beyond `maxOpenLookups` (64 KiB answers would
        /// otherwise be held by the lookup's windows).
        var maxHeldBytes = 64 << 20
        /// 5-tuples held at most (a flood from random ports opens one per query): beyond it the longest idle end
        /// early, as idle ones do after the horizon.
        var maxFlows = 192_000
        /// Give pending queries their pair's state so far (`Pairs.provisionalState`): the interface draws the bracket
        /// before the lookup settles. Off for batch outputs, which only read final states.
        var provisionalPairStates = false
    }

    let configuration: Configuration
    private var attempts: Attempts
    private var pairs: Pairs
    private var lookups: Lookups
    /// Lookups open, and ids held in their opening order (finished ones' included until dropped).
    var lookupsHeld: (open: Int, ordered: Int) { (lookups.count, lookups.orderHeld) }
    private(set) var flows: FlowTable
    private var capturePoints = CapturePoints()
    /// What each query's arrival proved, until it settles.
    private var annotations = SequenceWindow<Analysis>()
    /// Settled transactions waiting for their lookup to be complete.
    private var held = SequenceWindow<Transaction>()
    /// What `held` holds (`Transaction.heldBytes`).
    private(set) var heldBytes = 0
    /// Transactions a query's arrival released early (`maxOpenLookups`), for the next `release` to hand on.
    private var heldEarly: [Transaction] = []
    private var lastSweep: Int64 = .min
    private var lastTime = Timestamp(seconds: 0, nanoseconds: 0)

    init(configuration: Configuration = .init()) {
        self.configuration = configuration
        attempts = Attempts(configuration: configuration)
        pairs = Pairs(configuration: configuration)
        lookups = Lookups(configuration: configuration)
        flows = FlowTable(configuration: configuration)
    }

    var heldCount: Int { held.count }
    /// Transactions released before their lookup was complete (`maxOpenLookups`): their pair and lookup figures
    /// cover what had been seen.
    var cutShort: Int { lookups.cutShort }

    /// Flows that ended since the last call (all of them, after `finish`).
    mutating func takeFinishedFlows() -> [FlowStats] {
        defer { flows.finished.removeAll() }
        return flows.finished
    }

    /// Brings what a message of this client, name and type will look up first into the caches, ahead of it. (Mutating
    /// only to be read where it lies, as `Attempts.prefetchQuestion`.)
    mutating func prefetchQuestion(client: IPAddress, fingerprint: UInt64, type: DNSType) {
        attempts.prefetchQuestion(client: client, fingerprint: fingerprint, type: type)
    }

    // MARK: events

    mutating func queryArrived(_ seq: Int, _ q: ObservedMessage) {
        lastTime = max(lastTime, q.timestamp)
        guard let question = q.message.question else { return }
        let asked = QueryKey.Question(question)
        var a = Analysis()
        let socket = FlowKey(transport: q.transport, client: q.source, server: q.destination)
        if let flow = flows.sighted(socket, at: q.timestamp) {
            a.flow = flow
            flows.count(flow) { $0.queries += 1 }
        }

        let key = AttemptKey(client: q.source.address, id: q.message.id, question: asked)
        let client = q.source.address, server = q.destination.address
        let questionKey = QuestionKey(client: client, name: asked.name, type: asked.type)
        let send = attempts.continueChain(key, seq, server: server, at: q.timestamp).map { Attempts.Send.next($0) }
            ?? attempts.sent(key, seq, questionKey, server: server, at: q.timestamp)
        switch send {
        case .next(let attempt):
            a.attempt = attempt.number
            a.retryGapNanoseconds = attempt.gap
            a.link = attempt.link
            a.chain = attempt.chain
            a.pair = attempt.pair
            a.lookup = attempt.lookup
            if a.isResend { flows.count(a.flow) { $0.retries += 1 } }
        case .first(let probableRetry, let answeredIn):
            a.chain = seq
            a.isProbableRetry = probableRetry
            let (pair, lookup) = joinPair(seq, asked, client: client, socket: socket, answeredIn: answeredIn, at: q.timestamp)
            a.pair = pair
            a.lookup = lookup
            attempts.open(Attempts.Chain(id: seq, key: key, members: SequenceList(seq),
                                         lastTime: q.timestamp, pair: pair, lookup: lookup, server: server))
        }
        // (A query whose pair is its own opened that pair: the lookup gains both at once.)
        if let l = a.lookup {
            lookups.gained(l, query: seq, at: q.timestamp, retryGap: a.retryGapNanoseconds ?? 0, pair: a.pair == seq ? seq : nil)
        }
        annotations.updateValue(a, forKey: seq)
        if lookups.isBeyondBound {
            var early: [Transaction] = []
            limitOpenLookups(emit: { early.append($0) })
            heldEarly += early
        }
    }

    /// Another capture point's copy of a query (its response may have come already).
    mutating func querySighting(_ seq: Int, at point: CapturePoint) {
        if annotations.update(seq, { $0.querySightings += 1 }) {
            lastSightings[seq] = point
        } else {
            held.update(seq) { $0.analysis.querySightings += 1 }
        }
    }

    /// The latest other-point copy of each query still waiting (for an unanswered one's `lastSeen`).
    private var lastSightings = SequenceMap<CapturePoint>()

    /// Another capture point's copy of a response. It travels toward the client, so the latest copy is the one seen
    /// nearest the client: the transaction takes it, and its latency is measured where the client is (from the query's
    /// first copy, also the nearest the client).
    mutating func responseSighting(_ seq: Int, _ r: ObservedMessage) {
        var change = 0
        held.update(seq) {
            $0.analysis.responseSightings += 1
            if let current = $0.responseTime, r.timestamp >= current {
                change -= $0.heldBytes
                $0.response = r
                change += $0.heldBytes
            }
        }
        heldBytes += change
    }

    /// A TCP connection attempt to a DNS port (or its answer): evidence for its client's open lookup.
    mutating func connection(_ e: ConnectionEvent) {
        lookups.connection(e)
    }

    /// What a query's arrival proved of it (attempt, gap, chain, pair, lookup, flow; with `provisionalPairStates`, its
    /// pair's state so far): its analysis until it settles.
    @inline(__always)  // called on the pipeline's analyzer, which a call would be handed as a copy of all of it
    func provisional(_ seq: Int) -> Analysis? {
        guard var a = annotations[seq] else { return nil }
        if configuration.provisionalPairStates { a.pairState = pairs.provisionalState(a.pair, attempts: attempts) }
        return a
    }

    /// A transaction settled in the matcher. Queries wait for their lookup; the rest go at once.
    /// Takes `t` over (`consuming`): the analysis is set in the transaction's own box, not in a copy of it.
    /// `shown` sees every transaction once, at once, with what is known so far (a query with its arrival's analysis;
    /// an orphan or a malformed message as it is), before `emit` has it final.
    mutating func settled(_ t: consuming Transaction, shown: (Transaction) -> Void = { _ in }, emit: (Transaction) -> Void) {
        // (The messages' fields read where they lie: `t.response` and `t.query` are copies of the whole message.)
        if let time = t.responseTime { lastTime = max(lastTime, time) }
        let lastSighting = lastSightings.isEmpty ? nil : lastSightings.removeValue(forKey: t.sequence)
        guard t.hasQuery, !t.isUnmatchable, var a = annotations.removeValue(forKey: t.sequence) else {
            if let r = t.response {
                let socket = FlowKey(transport: r.transport, client: r.destination, server: r.source)
                if let flow = flows.sighted(socket, at: r.timestamp) { t.analysis.flow = flow }
                t.analysis.responseSightings = 1
            }
            shown(t)
            emit(t)
            return
        }
        let socket = FlowKey(transport: t.transport, client: t.client, server: t.server)
        if let responseTime = t.responseTime {
            a.responseSightings = 1
            attempts.answered(t.sequence, chain: a.chain, client: t.client.address, question: t.question)
            flows.answered(socket, response: responseTime, latency: t.latencyNanoseconds)
        } else {
            flows.unanswered(socket)
            if let point = lastSighting { a.lastSeen = Analysis.Place(point) }
        }
        t.analysis = a
        if configuration.provisionalPairStates, a.pair != nil {
            t.analysis.pairState = pairs.provisionalState(a.pair, attempts: attempts)
            shown(t)
            t.analysis.pairState = nil
        } else {
            shown(t)
        }
        // Counted in its lookup — unless that was finalised already (early, by `maxOpenLookups`; or a late re-send of
        // a finished one): then there is nothing left to wait for.
        if let l = a.lookup, !lookups.settled(l, answer: t.responseTime.map { ($0, t.responseHeader!.isTruncated, t.isPositive) }) {
            emit(t)
            return
        }
        let seq = t.sequence
        heldBytes += t.heldBytes
        held.updateValue(t, forKey: seq)
        var bounded = false
        if lookups.isBeyondBound {
            limitOpenLookups(emit: emit)
            bounded = true
        }
        if heldBytes > configuration.maxHeldBytes {
            limitHeldBytes(emit: emit)
            bounded = true
        }
        // Its lookup may be complete a sighting window from now (if a bound has not just finalised it).
        if let l = a.lookup, !bounded || held.contains(seq) { lookups.touched(l, at: lastTime) }
    }

    /// Releases the transactions of every complete lookup: a full sweep once per second of capture time (which also
    /// forgets stale state), otherwise only the lookups that just gained an answer.
    mutating func release(now: Timestamp, emit: (Transaction) -> Void) {
        if !heldEarly.isEmpty {
            for t in heldEarly { emit(t) }
            heldEarly.removeAll()
        }
        guard now.seconds != lastSweep else { return releaseReady(now: now, emit: emit) }
        lastSweep = now.seconds
        releaseReady(now: now, emit: emit)
        for id in lookups.ids where isComplete(id, now: now) { finalize(id, emit: emit) }
        attempts.forget(now: now)
        flows.endIdle(now: now)
        lookups.forgetClosed()
    }

    /// End of input: everything is final.
    mutating func finish(emit: (Transaction) -> Void) {
        for t in heldEarly { emit(t) }
        heldEarly.removeAll()
        for id in lookups.ids.sorted() { finalize(id, emit: emit, force: true) }
        for seq in held.keys.sorted() { emit(held.removeValue(forKey: seq)!) }
        heldBytes = 0
        flows.finishAll()
    }

    // MARK: building

    /// Between the once-a-second sweeps, a lookup that gained an answer is looked at once, a sighting window later.
    private mutating func releaseReady(now: Timestamp, emit: (Transaction) -> Void) {
        while let id = lookups.nextReady(now: now) {
            if isComplete(id, now: now) { finalize(id, emit: emit) }
        }
    }

    /// Over `maxOpenLookups`: the oldest lookups are finalised now with what they have.
    private mutating func limitOpenLookups(emit: (Transaction) -> Void) {
        while let id = lookups.nextBeyondBound() { finalize(id, emit: emit, force: true) }
    }

    /// Over `maxHeldBytes`: the oldest lookups are finalised now with what they have, until a quarter of it is free.
    private mutating func limitHeldBytes(emit: (Transaction) -> Void) {
        while heldBytes > configuration.maxHeldBytes / 4 * 3, let id = lookups.nextBeyondBound(overBudget: true) {
            finalize(id, emit: emit, force: true)
        }
    }

    /// Pairs an A or AAAA first attempt with its waiting sibling, or opens a new step (a pair, in the lookup it
    /// continues or a new one; the lookup gains the pair with the query, in `queryArrived`); returns (pair, lookup).
    private mutating func joinPair(_ seq: Int, _ asked: QueryKey.Question, client: IPAddress, socket: FlowKey,
                                   answeredIn: Int?, at time: Timestamp) -> (Int, Int) {
        if let joined = pairs.join(seq, client: client, name: asked.name, type: asked.type, socket: socket, at: time) {
            return joined
        }
        let lookup = lookups.join(seq, client: client, name: asked.name, answeredIn: answeredIn, socket: socket, at: time)
        pairs.open(seq, client: client, name: asked.name, type: asked.type, socket: socket, at: time, lookup: lookup)
        return (seq, lookup)
    }

    private mutating func isComplete(_ id: Int, now: Timestamp) -> Bool {
        lookups.isComplete(id, now: now, attempts: &attempts, pairs: &pairs)
    }

    /// `finalize`'s lists of a lookup's pair states and rows, kept between lookups.
    private var scratchStates: [(pair: Int, state: Analysis.PairState, sameSocket: Bool?)] = []
    private var scratchRows: [Transaction] = []

    /// Finalises a lookup (when all its queries settled, or in any case with `force`): its pairs' states, what the
    /// application waited and the findings go on its held transactions, which are emitted in sequence order.
    private mutating func finalize(_ id: Int, emit: (Transaction) -> Void, force: Bool = false) {
        guard let lookup = lookups.take(id, force: force) else { return }
        let waited = lookup.waitedNanoseconds
        // A lookup's few pairs, in a list (kept between lookups, as the rows' list: no allocation per lookup).
        // (Swapped in and out, not assigned: an assignment is a retain and a release.)
        var states: [(pair: Int, state: Analysis.PairState, sameSocket: Bool?)] = []
        swap(&states, &scratchStates)
        defer {
            states.empty()
            swap(&states, &scratchStates)
        }
        for pid in lookup.pairs {
            guard let (state, sameSocket) = pairs.finish(pid, forgetting: &attempts) else { continue }
            states.append((pid, state, sameSocket))
        }
        var rows: [Transaction] = []
        swap(&rows, &scratchRows)
        defer {
            rows.empty()
            swap(&rows, &scratchRows)
        }
        // Its queries joined it in arrival order, which is sequence order: sorted (a list made) only if they did not.
        let members = lookup.members
        var ascending = true
        for k in members.indices.dropFirst() where members[k - 1] >= members[k] {
            ascending = false
            break
        }
        let sorted = ascending ? nil : members.sorted()
        // Its transactions settled a while ago, most out of this core's caches by now: their boxes fetched all at once
        // (only hints), before each is read in turn, and each one's messages (what the rules and the sinks read next)
        // when it is.
        for seq in members { held.withPlace(seq) { prefetch(Transaction.boxAddress(at: $0), lines: 4) } }
        for k in members.indices {
            let seq = sorted?[k] ?? members[k]
            guard var t = held.removeValue(forKey: seq) else { continue }
            Transaction.prefetchMessages(atBox: t.boxAddress)
            heldBytes -= t.heldBytes
            t.analysis.lookupNanoseconds = waited
            if let p = t.analysis.pair {
                let s = states.first { $0.pair == p }
                t.analysis.pairState = s?.state
                t.analysis.sameSocket = s?.sameSocket ?? nil
            }
            attempts.forgetAnswer(seq)
            rows.append(t)
        }
        let points = capturePoints.count(for: lookup.client, rows: rows)
        let findings = FindingRules.evaluate(rows, pointsForClient: points, connections: lookup.connections)
        // Set in place: a copy out of the list would share the transaction's box, and the change would copy it.
        for i in rows.indices {
            if !findings.isEmpty, !findings[i].isEmpty {
                rows[i].analysis.findingCodes = findings[i].codes
                // Lost between points and seen at one only: its last point is its first.
                if rows[i].analysis.lastSeen == nil, findings[i].contains(.lostBetweenPoints) {
                    rows[i].analysis.lastSeen = rows[i].query.map { Analysis.Place($0.point) }
                }
            }
            emit(rows[i])
        }
    }
}
