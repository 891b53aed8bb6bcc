/// Builds attempts, pairs, resolutions and flows from queries as they arrive and transactions as they settle, and
/// releases each transaction, annotated, once everything its annotations depend on is known: when its resolution is
/// complete. Memory holds only unfinished resolutions.
///
/// Evidence each notion needs:
/// * attempt: same client address, same DNS id, same question, within `attemptWindow` — any port or transport.
/// * probable retry: same client address and question, a new id, the previous query still unanswered, within
///   `retryWindow`.
/// * pair: an A and an AAAA first attempt from one client address for one name, the second within `pairWindow`
///   of the first and not yet paired.
/// * resolution: a client's steps whose names walk one search list — the next name is the previous one's base
///   (its labels shared with the previous name) with another suffix, or the base alone — with no positive answer
///   yet, within `resolutionGap` of the previous activity.
/// * complete: all its queries settled, and either a positive answer to every query of its last step (then after
///   `sightingWindow`, for late sightings), or `horizon` without activity.
struct Analyzer {
    struct Configuration {
        var attemptWindow: Int64 = 60_000_000_000
        var retryWindow: Int64 = 10_000_000_000
        var pairWindow: Int64 = 30_000_000_000
        var resolutionGap: Int64 = 31_000_000_000
        var sightingWindow: Int64 = 50_000_000
        /// Every query answered and nothing new for this long: the walk is over, even without a positive answer.
        var quietAfterAnswers: Int64 = 2_000_000_000
        var horizon: Int64 = 61_000_000_000
        /// Per-5-tuple statistics (for `--flows-csv`, the CSV's `flow` column and the interface); off saves a
        /// dictionary entry per socket when only the summary is wanted.
        var tracksFlows = true
        /// Hand finished flows on (`finishedFlows`); off, they are let go as they finish.
        var keepsFinishedFlows = true
        /// Lookups held open at most (a flood of queries nobody answers would otherwise hold each one for the
        /// horizon): beyond it the oldest is finalised at once, as at the end of input, and counted (`cutShort`).
        var maxOpenLookups = 100_000
        /// 5-tuples held at most (a flood from random ports opens one per query): beyond it the longest idle end
        /// early, as idle ones do after the horizon.
        var maxFlows = 200_000
        /// Give pending queries their pair's state so far (`provisionalPairState`): the interface draws the bracket
        /// before the lookup settles. Off for batch outputs, which only read final states.
        var provisionalPairStates = false
    }

    struct ChainKey: Hashable {
        var client: IPAddress
        var id: UInt16
        var name: DNSName
        var type: DNSType
        var qclass: DNSClass

        func _rawHashValue(seed: Int) -> Int {
            let small = UInt64(id) << 32 | UInt64(type.rawValue) << 16 | UInt64(qclass.rawValue)
            return FastHash.mix(FastHash.fold(FastHash.fold(client.hashBits, name.fingerprint), small), seed: seed)
        }
    }

    struct QuestionKey: Hashable {
        var client: IPAddress
        var name: DNSName
        var type: DNSType

        func _rawHashValue(seed: Int) -> Int {
            FastHash.mix(FastHash.fold(FastHash.fold(client.hashBits, name.fingerprint), UInt64(type.rawValue)), seed: seed)
        }
    }

    struct FlowKey: Hashable {
        var transport: TransportProtocol
        var client: Endpoint
        var server: Endpoint

        func _rawHashValue(seed: Int) -> Int {
            FastHash.mix(FastHash.flow(transport, client, server), seed: seed)
        }
    }

    struct Chain {
        var id: Int
        var members: InlineList<Int>
        var lastTime: Timestamp
        var pair: Int
        var resolution: Int
    }

    struct Pair {
        var id: Int
        var chains: InlineList<Int>
        var sameSocket: Bool?
        var firstSocket: FlowKey
        var waitingType: DNSType?
        var firstTime: Timestamp
        var key: QuestionKey?
        var resolution: Int

        /// The sibling's first attempt arrived: the pair is whole.
        mutating func join(_ seq: Int, sameSocket: Bool) {
            chains.append(seq)
            self.sameSocket = sameSocket
            waitingType = nil
        }
    }

    struct Resolution {
        var id: Int
        var client: IPAddress
        var firstTime: Timestamp
        var lastActivity: Timestamp
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
    }

    let configuration: Configuration
    /// Flows seen within the horizon; idle ones are let go (to `finishedFlows`, when kept).
    /// A 5-tuple's id and when it was last active (`FlowMarks`). The counts are kept apart, and only for
    /// `finishedFlows`: every socket of the last minute has a mark (hundreds of thousands on a busy capture).
    private var flows = FlowMarks()
    /// Counts by flow id, for the flows in `flows`, when finished flows are kept.
    private(set) var flowStats = SequenceMap<FlowStats>()
    var finishedFlows: [FlowStats] = []
    var hasFinishedFlows: Bool { !finishedFlows.isEmpty }
    private var flowIDs = 0
    private var annotations = SequenceMap<Analysis>()
    private var chains: [ChainKey: Chain] = [:]
    private var chainByID = SequenceMap<ChainKey>()
    /// The latest first attempt of each question per client, and whether any attempt of it has been answered.
    private var lastQuestion: [QuestionKey: (sequence: Int, time: Timestamp, answered: Bool)] = [:]
    private var questionOrder: [(key: QuestionKey, time: Timestamp)] = []
    private var questionHead = 0
    private var pendingPairs: [QuestionKey: Int] = [:]
    private var pairs = SequenceMap<Pair>()
    private var resolutions = SequenceMap<Resolution>()
    private var openResolutions: [IPAddress: [Int]] = [:]
    private var held = SequenceMap<Transaction>()
    private var answered = SequenceSet()
    private var lastSweep: Int64 = .min
    private var lastTime = Timestamp(seconds: 0, nanoseconds: 0)

    init(configuration: Configuration = .init()) { self.configuration = configuration }

    var heldCount: Int { held.count }
    /// Transactions released before their lookup was complete (`maxOpenLookups`): their pair and resolution figures
    /// cover what had been seen.
    private(set) var cutShort = 0
    /// Lookup ids in the order they were opened (ids only grow): the oldest is found here when over the limit.
    private var lookupOrder: [Int] = []
    private var lookupHead = 0

    // MARK: events

    mutating func queryArrived(_ seq: Int, _ q: ObservedMessage) {
        lastTime = max(lastTime, q.timestamp)
        guard let question = q.message.question else { return }
        let name = question.name.lowercased
        var a = Analysis()
        let flowKey = FlowKey(transport: q.transport, client: q.source, server: q.destination)
        // State is updated in place (one lookup, no copy of the member arrays it holds).
        let flowIndex = configuration.tracksFlows ? flow(flowKey, at: q.timestamp) : nil
        if let flowIndex {
            a.flow = flows[flowIndex].id
            count(a.flow) { $0.queries += 1 }
        }

        let chainKey = ChainKey(client: q.source.address, id: q.message.id, name: name, type: question.type, qclass: question.qclass)
        let chainIndex = chains.index(forKey: chainKey)
        if let i = chainIndex, q.timestamp.nanoseconds(since: chains.values[i].lastTime) <= configuration.attemptWindow {
            let gap = q.timestamp.nanoseconds(since: chains.values[i].lastTime)
            a.attempt = chains.values[i].members.count + 1
            a.retryGapNanoseconds = gap
            a.chain = chains.values[i].id
            a.pair = chains.values[i].pair
            a.resolution = chains.values[i].resolution
            chains.values[i].members.append(seq)
            chains.values[i].lastTime = q.timestamp
            count(a.flow) { $0.retries += 1 }
        } else {
            a.chain = seq
            let questionKey = QuestionKey(client: q.source.address, name: name, type: question.type)
            if let previous = lastQuestion.updateValue((seq, q.timestamp, false), forKey: questionKey), !previous.answered,
               q.timestamp.nanoseconds(since: previous.time) <= configuration.retryWindow
            {
                a.isProbableRetry = true
            }
            questionOrder.append((questionKey, q.timestamp))
            if questionOrder.count - questionHead > 2 * configuration.maxOpenLookups { forgetQuestions(now: q.timestamp) }
            let (pair, resolution) = joinPair(seq, question: question, name: name, q, flowKey)
            a.pair = pair
            a.resolution = resolution
            let chain = Chain(id: seq, members: InlineList(CollectionOfOne(seq)), lastTime: q.timestamp, pair: pair, resolution: resolution)
            if let old = chains.updateValue(chain, forKey: chainKey) { chainByID[old.id] = nil }
            chainByID[seq] = chainKey
        }
        if let r = a.resolution { resolutions.update(r) { $0.gained(query: seq, at: q.timestamp, retryGap: a.retryGapNanoseconds ?? 0) } }
        annotations[seq] = a
        if resolutions.count > configuration.maxOpenLookups {
            var early: [Transaction] = []
            limitOpenLookups(emit: { early.append($0) })
            heldEarly += early
        }
    }

    /// Transactions a query's arrival released early (`maxOpenLookups`), for the next `release` to hand on.
    private var heldEarly: [Transaction] = []

    /// Forgets questions older than the retry window, and the oldest beyond twice `maxOpenLookups` (a flood of new
    /// questions; a probable retry is then told only within the newest of them). A FIFO in arrival order; a newer
    /// entry for the same question is left alone.
    private mutating func forgetQuestions(now: Timestamp) {
        while questionHead < questionOrder.count,
              now.nanoseconds(since: questionOrder[questionHead].time) > configuration.retryWindow
                || questionOrder.count - questionHead > 2 * configuration.maxOpenLookups {
            let (key, time) = questionOrder[questionHead]
            if lastQuestion[key]?.time == time { lastQuestion[key] = nil }
            questionHead += 1
        }
        if questionHead > 4096, questionHead * 2 > questionOrder.count {
            questionOrder.removeFirst(questionHead)
            questionHead = 0
        }
    }

    /// Over `maxOpenLookups`: the oldest lookups are finalised now with what they have.
    private mutating func limitOpenLookups(emit: (Transaction) -> Void) {
        while resolutions.count > configuration.maxOpenLookups, lookupHead < lookupOrder.count {
            let id = lookupOrder[lookupHead]
            lookupHead += 1
            // Its transactions, settled or still to come (those go on at once when they settle: `settled`).
            guard let members = resolutions.read(id, { $0.members.count }) else { continue }
            cutShort += members
            finalize(id, emit: emit, force: true)
        }
        if lookupHead > 4096, lookupHead * 2 > lookupOrder.count {
            lookupOrder.removeFirst(lookupHead)
            lookupHead = 0
        }
    }

    mutating func querySighting(_ seq: Int) {
        annotations.update(seq) { $0.querySightings += 1 }
    }

    mutating func responseSighting(_ seq: Int) {
        held.update(seq) { $0.analysis.responseSightings += 1 }
    }

    /// What a query's arrival proved of it (attempt, gap, chain, pair, lookup, flow; with `provisionalPairStates`, its
    /// pair's state so far): its analysis until it settles.
    func provisional(_ seq: Int) -> Analysis? {
        guard var a = annotations[seq] else { return nil }
        if configuration.provisionalPairStates { a.pairState = provisionalPairState(a.pair) }
        return a
    }

    /// A pair's state as far as its packets show it now (`finalize` decides it): `retried` once either of its queries
    /// was re-sent, `ok` once both were answered at once; nil while nothing is proven.
    func provisionalPairState(_ pid: Int?) -> Analysis.PairState? {
        guard let pid, let chains = pairs.read(pid, { $0.chains }), chains.count == 2 else { return nil }
        var answeredChains = 0
        for c in chains {
            let members = chainMembers(c)
            if members.count > 1 { return .retried }
            if members.contains(where: { answered.contains($0) }) { answeredChains += 1 }
        }
        return answeredChains == 2 ? .ok : nil
    }

    /// A transaction settled in the matcher. Queries wait for their resolution; the rest go at once.
    /// Takes `t` over (`consuming`): the analysis is set in the transaction's own box, not in a copy of it.
    /// `shown` sees every transaction once, at once, with what is known so far (a query with its arrival's analysis;
    /// an orphan or a malformed message as it is), before `emit` has it final.
    mutating func settled(_ t: consuming Transaction, shown: (Transaction) -> Void = { _ in }, emit: (Transaction) -> Void) {
        if let r = t.response { lastTime = max(lastTime, r.timestamp) }
        guard t.query != nil, !t.isUnmatchable, var a = annotations.removeValue(forKey: t.sequence) else {
            if let r = t.response {
                let key = FlowKey(transport: r.transport, client: r.destination, server: r.source)
                if configuration.tracksFlows { t.analysis.flow = flows[flow(key, at: r.timestamp)].id }
                t.analysis.responseSightings = 1
            }
            shown(t)
            emit(t)
            return
        }
        let key = FlowKey(transport: t.transport, client: t.client, server: t.server)
        if let r = t.response {
            answered.insert(t.sequence)
            a.responseSightings = 1
            if let question = t.question {
                let qk = QuestionKey(client: t.client.address, name: question.name.lowercased, type: question.type)
                if lastQuestion[qk]?.sequence == a.chain { lastQuestion[qk]!.answered = true }
            }
            if let i = flows.find(key) {
                flows[i].lastSeen = max(flows[i].lastSeen, r.timestamp.totalNanoseconds)
                count(flows[i].id) {
                    $0.answered += 1
                    $0.lastSeen = max($0.lastSeen, r.timestamp)
                    if let l = t.latencyNanoseconds { $0.latencies.append(l) }
                }
            }
        } else if let i = flows.find(key) {
            count(flows[i].id) { $0.unanswered += 1 }
        }
        t.analysis = a
        if configuration.provisionalPairStates, a.pair != nil {
            t.analysis.pairState = provisionalPairState(a.pair)
            shown(t)
            t.analysis.pairState = nil
        } else {
            shown(t)
        }
        // Its lookup was finalised already (early, by `maxOpenLookups`; or a late re-send of a finished one):
        // nothing left to wait for.
        if let rid = a.resolution, !resolutions.contains(rid) {
            emit(t)
            return
        }
        held[t.sequence] = t
        if let rid = a.resolution { resolutions.update(rid) { $0.settled(answer: t.response) } }
        if resolutions.count > configuration.maxOpenLookups { limitOpenLookups(emit: emit) }
    }

    /// Releases the transactions of every complete resolution: a full sweep once per second of capture time
    /// (which also forgets stale state), otherwise only the resolutions that just gained an answer.
    mutating func release(now: Timestamp, emit: (Transaction) -> Void) {
        if !heldEarly.isEmpty {
            for t in heldEarly { emit(t) }
            heldEarly.removeAll()
        }
        guard now.seconds != lastSweep else { return releaseQuick(now: now, emit: emit) }
        lastSweep = now.seconds
        releaseQuick(now: now, emit: emit)
        for id in Array(resolutions.keys) where isComplete(id, now: now) { finalize(id, emit: emit) }
        forgetQuestions(now: now)
        // A flow idle for the horizon is over (a resolver opens a new socket per search step): hand it on.
        let idleSince = now.totalNanoseconds - configuration.horizon
        flows.remove(where: { $0.lastSeen < idleSince }) { f in
            if let stats = flowStats.removeValue(forKey: f.id) { finishedFlows.append(stats) }
        }
        openResolutions = openResolutions.compactMapValues { ids in
            let live = ids.filter { resolutions.contains($0) }
            return live.isEmpty ? nil : live
        }
    }

    /// Between the once-a-second sweeps, a resolution that gained an answer is looked at once, a sighting window
    /// later (a FIFO: the times only grow).
    private mutating func releaseQuick(now: Timestamp, emit: (Transaction) -> Void) {
        while readyHead < ready.count, now.nanoseconds(since: ready[readyHead].at) > configuration.sightingWindow {
            let id = ready[readyHead].id
            readyHead += 1
            if isComplete(id, now: now) { finalize(id, emit: emit) }
        }
        if readyHead > 4096, readyHead * 2 > ready.count {
            ready.removeFirst(readyHead)
            readyHead = 0
        }
    }

    private var ready: [(at: Timestamp, id: Int)] = []
    private var readyHead = 0

    /// A transaction of this sequence just settled: its resolution may be complete soon.
    mutating func touch(_ seq: Int) {
        if let r = held.read(seq, { $0.analysis.resolution }) ?? nil { ready.append((lastTime, r)) }
    }

    /// End of input: everything is final.
    mutating func finish(emit: (Transaction) -> Void) {
        for t in heldEarly { emit(t) }
        heldEarly.removeAll()
        for id in resolutions.keys.sorted() { finalize(id, emit: emit, force: true) }
        for seq in held.keys.sorted() { emit(held.removeValue(forKey: seq)!) }
        finishedFlows += flowStats.keys.sorted().compactMap { flowStats[$0] }
        flowStats = SequenceMap()
        flows.removeAll()
    }

    // MARK: building

    /// Over `maxFlows`: the flows idle longest end (handed on as finished, as after the horizon), down to three
    /// quarters of the limit — idle half the horizon, then a quarter, … then any not seen at `now` itself.
    private mutating func endIdlestFlows(now: Int64) {
        var idle = configuration.horizon / 2
        while flows.count > configuration.maxFlows * 3 / 4 {
            let cutoff = now - idle
            flows.remove(where: { $0.lastSeen < cutoff }) { f in
                if let stats = flowStats.removeValue(forKey: f.id) { finishedFlows.append(stats) }
            }
            if idle == 0 { break }
            idle /= 2
        }
    }

    /// The flow's index in `flows`, opened if new; its last sighting moved on to `time`.
    private mutating func flow(_ key: FlowKey, at time: Timestamp) -> Int32 {
        if let i = flows.find(key) {
            flows[i].lastSeen = max(flows[i].lastSeen, time.totalNanoseconds)
            if configuration.keepsFinishedFlows {
                count(flows[i].id) { $0.lastSeen = max($0.lastSeen, time) }
            }
            return i
        }
        if flows.count >= configuration.maxFlows { endIdlestFlows(now: time.totalNanoseconds) }
        flowIDs += 1
        let slot = flows.add(key, id: flowIDs, lastSeen: time.totalNanoseconds)
        if configuration.keepsFinishedFlows {
            flowStats[flowIDs] = FlowStats(id: flowIDs, transport: key.transport, client: key.client, server: key.server,
                                           firstSeen: time, lastSeen: time)
        }
        return slot
    }

    /// Counts something for a flow (when its counts are kept).
    private mutating func count(_ flow: Int?, _ change: (inout FlowStats) -> Void) {
        guard configuration.keepsFinishedFlows, let flow, flowStats[flow] != nil else { return }
        change(&flowStats[flow]!)
    }

    /// Pairs an A or AAAA first attempt with its waiting sibling, or opens a new step; returns (pair, resolution).
    private mutating func joinPair(_ seq: Int, question: DNSQuestion, name: DNSName, _ q: ObservedMessage, _ socket: FlowKey) -> (Int, Int) {
        let isAddress = question.type == .a || question.type == .aaaa
        if isAddress {
            let waitingKey = QuestionKey(client: q.source.address, name: name, type: question.type)
            if let pid = pendingPairs.removeValue(forKey: waitingKey), let (sameSocket, resolution) = pairs[pid].flatMap({ pair in
                q.timestamp.nanoseconds(since: pair.firstTime) <= configuration.pairWindow && pair.waitingType == question.type
                    ? (pair.firstSocket == socket, pair.resolution) : nil
            }) {
                pairs.update(pid) { $0.join(seq, sameSocket: sameSocket) }
                return (pid, resolution)
            }
        }
        let rid = joinResolution(seq, name: name, q)
        var pair = Pair(id: seq, chains: InlineList(CollectionOfOne(seq)), sameSocket: nil, firstSocket: socket, waitingType: nil, firstTime: q.timestamp, resolution: rid)
        if isAddress {
            let waitFor: DNSType = question.type == .a ? .aaaa : .a
            let key = QuestionKey(client: q.source.address, name: name, type: waitFor)
            pair.waitingType = waitFor
            pair.key = key
            pendingPairs[key] = seq
        }
        pairs[seq] = pair
        resolutions.update(rid) { $0.pairs.append(seq) }
        return (seq, rid)
    }

    /// Continues the client's open resolution whose last name walks to this one, or starts a new one.
    private mutating func joinResolution(_ seq: Int, name: DNSName, _ q: ObservedMessage) -> Int {
        let client = q.source.address
        // Taken out and put back: edited in place, not copied.
        var open = openResolutions.removeValue(forKey: client) ?? []
        open.removeAll { id in
            guard let r = resolutions[id] else { return true }
            return r.hasPositive || q.timestamp.nanoseconds(since: r.lastActivity) > configuration.resolutionGap
        }
        if let id = open.last(where: { Analyzer.continues(from: resolutions[$0]!.lastName, to: name) }) {
            resolutions.update(id) { $0.lastName = name }
            openResolutions[client] = open
            return id
        }
        lookupOrder.append(seq)
        resolutions[seq] = Resolution(
            id: seq, client: client, firstTime: q.timestamp, lastActivity: q.timestamp, lastName: name, end: q.timestamp,
            lastQuery: q.timestamp)
        open.append(seq)
        if open.count > 64 { open.removeFirst(open.count - 64) }
        openResolutions[client] = open
        return seq
    }

    /// Whether `next` is the next step of a search-list walk after `previous`: both are a shared base (the labels
    /// they have in common at the front) with different suffixes, or the base alone — `web.default.svc.cluster.local`
    /// → `web.svc.cluster.local` → `web.cluster.local` → `web`.
    /// Compared on the wire form, label by label, without building label lists (one per query, before).
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

    private func isComplete(_ id: Int, now: Timestamp) -> Bool {
        // Read where it lies: checked at every answer and every second for every open lookup.
        resolutions.read(id) { r in isComplete(r, now: now) } ?? false
    }

    private func isComplete(_ r: borrowing Resolution, now: Timestamp) -> Bool {
        guard r.settled == r.members.count else { return false }
        let quiet = now.nanoseconds(since: r.lastActivity)
        if quiet > configuration.horizon { return true }
        if quiet > configuration.quietAfterAnswers, r.members.allSatisfy({ answered.contains($0) }) { return true }
        guard r.hasPositive, quiet > configuration.sightingWindow, let last = r.pairs.last else { return false }
        // The last step is whole (an A still waiting for its AAAA is not) and every chain of it has an answer
        // (a lost sibling could still be re-sent).
        return pairs.read(last) { p in p.waitingType == nil && p.chains.allSatisfy { chainAnswered($0) } } ?? false
    }

    private func chainMembers(_ chainID: Int) -> InlineList<Int> {
        chainByID[chainID].flatMap { chains[$0]?.members } ?? InlineList(CollectionOfOne(chainID))
    }

    private func chainAnswered(_ chainID: Int) -> Bool {
        chainMembers(chainID).contains { answered.contains($0) }
    }

    private mutating func finalize(_ id: Int, emit: (Transaction) -> Void, force: Bool = false) {
        guard let r = resolutions[id], force || r.settled == r.members.count else { return }
        resolutions[id] = nil
        // Ending on a query nothing answered, the client waited its timeout for it before giving up: add the
        // timeout its own re-sends showed (if it re-sent at all).
        var end = r.end
        if r.lastAnswer.map({ $0 < r.lastQuery }) ?? true, r.longestRetryGap > 0 {
            end = max(end, Timestamp(seconds: 0, nanoseconds: 0, digits: r.lastQuery.digits).addingNanoseconds(r.lastQuery.totalNanoseconds + r.longestRetryGap))
        }
        let total = end.nanoseconds(since: r.firstTime)
        // A lookup's few pairs, in a list (two dictionaries per lookup, before).
        var states: [(pair: Int, state: Analysis.PairState, sameSocket: Bool?)] = []
        states.reserveCapacity(r.pairs.count)
        for pid in r.pairs {
            guard let pair = pairs.removeValue(forKey: pid) else { continue }
            if let key = pair.key, pendingPairs[key] == pid { pendingPairs[key] = nil }
            states.append((pid, pairState(pair), pair.sameSocket))
        }
        var rows: [Transaction] = []
        rows.reserveCapacity(r.members.count)
        for seq in r.members.sorted() {
            guard var t = held.removeValue(forKey: seq) else { continue }
            t.analysis.resolutionNanoseconds = total
            if let p = t.analysis.pair {
                let s = states.first { $0.pair == p }
                t.analysis.pairState = s?.state
                t.analysis.sameSocket = s?.sameSocket ?? nil
            }
            answered.remove(seq)
            rows.append(t)
        }
        // How many capture points see this client's queries (2 on a node's -i any: before and after DNAT).
        var points = pointsByClient[r.client] ?? 1
        for t in rows { points = max(points, t.analysis.querySightings) }
        if points > 1 { pointsByClient[r.client] = points }
        let findings = FindingRules.evaluate(rows, pointsForClient: points)
        // Set in place: a copy out of the list would share the transaction's box, and the change would copy it.
        for i in rows.indices {
            if let f = findings[rows[i].sequence] { rows[i].analysis.findings = f }
            emit(rows[i])
        }
    }

    private var pointsByClient: [IPAddress: Int] = [:]

    /// The pair's state from its chains' outcomes; forgets the chains.
    private mutating func pairState(_ pair: Pair) -> Analysis.PairState {
        var answeredChains = 0
        var resent = false
        // Each chain looked up once: its members read (as `chainMembers` reads them) and the chain forgotten (the
        // two chains of a pair have different keys, so forgetting one does not change what the other reads).
        for c in pair.chains {
            var members: InlineList<Int>?
            if let key = chainByID.removeValue(forKey: c), let i = chains.index(forKey: key) {
                members = chains.values[i].id == c ? chains.remove(at: i).value.members : chains.values[i].members
            }
            let m = members ?? InlineList(CollectionOfOne(c))
            if m.contains(where: { answered.contains($0) }) { answeredChains += 1 }
            if m.count > 1 { resent = true }
        }
        guard pair.chains.count == 2 else { return .single }
        switch answeredChains {
        case 2: return resent ? .retried : .ok
        case 1: return .partial
        default: return .failed
        }
    }
}
