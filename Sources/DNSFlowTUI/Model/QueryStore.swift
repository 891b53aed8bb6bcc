import DNSFlowCore

/// Every row the interface holds, bounded: the oldest are evicted beyond `maxEntries` (the count is kept).
/// Rows are appended in sequence order as queries are seen and updated in place as they settle.
///
/// Rows and flows are records in tables of fixed chunks (`SlotTable`), not objects: a row costs its 112 bytes and
/// 4 for its place in `order`; a flow, its record. `Entry` and `FlowGroup` are handles to them.
/// Used from one thread: the fields touched for every event are not checked for overlapping access at run time
/// (`@exclusivity(unchecked)`).
public final class QueryStore {
    let rows = SlotTable<RowRecord>(vacant: .vacant)
    /// The rows' slots in sequence order.
    @exclusivity(unchecked) private var order: [Int32] = []
    let flowTable = SlotTable<FlowRecord>(vacant: .vacant)
    /// The flows' slots in the order their first rows came.
    @exclusivity(unchecked) private var flowOrder: [Int32] = []
    /// Each numbered flow's group (a slot in `flowTable`), by the analysis's flow number, while it has rows. (Numbers
    /// only grow, a flow a lookup for glibc's clients: a list indexed by them grew for as long as a capture ran.)
    @exclusivity(unchecked) private var slotByFlowNumber = SequenceMap<Int32>()
    /// Flow numbers held (the flows with rows).
    var flowNumbersHeld: Int { slotByFlowNumber.count }
    /// The groups of rows without a flow number, by 5-tuple and by their own numbers; and how many there have been.
    @exclusivity(unchecked) private var numberless = SlotIndex()
    @exclusivity(unchecked) private var numberlessByNumber: [Int: Int32] = [:]
    @exclusivity(unchecked) private var numberlessFlows = 0
    /// The flows' addresses, each once.
    @exclusivity(unchecked) private var addresses = AddressTable()
    /// Distinct addresses the flows hold (for tests).
    var addressesHeld: Int { addresses.count }
    /// Flow statistics computed (for the flows on screen, or sorted by), until the flow changes.
    @exclusivity(unchecked) private var statsCache: [Int32: FlowGroup.Stats] = [:]
    public let maxEntries: Int
    public private(set) var evicted = 0
    /// Every row at or before this sequence that is not here was evicted: its late news (an answer, the query settling
    /// unanswered a minute later) is dropped rather than bringing the row back into the middle of the list.
    @exclusivity(unchecked) private var evictedThrough = -1
    public private(set) var markedCount = 0
    /// Rows answered whose analysis is not final yet (the pipeline counts them once they settle).
    @exclusivity(unchecked) public private(set) var answeredPending = 0
    /// Rows proven unanswered (re-sent, or their window passed) whose analysis is not final yet.
    @exclusivity(unchecked) public private(set) var unansweredPending = 0
    /// Re-sends shown whose analysis is not final yet.
    @exclusivity(unchecked) public private(set) var resendsPending = 0
    /// The latest time seen in any row (nanoseconds since the epoch): where an unanswered bar ends.
    @exclusivity(unchecked) public private(set) var latestTime: Int64 = 0
    /// Bumped on every change, so views know when to recompute.
    @exclusivity(unchecked) public private(set) var version = 0
    /// Told about rows as they are evicted (to let go of their packets).
    public var onEvict: ([Entry]) -> Void = { _ in }

    /// Decodes a row's packets again into its whole transaction (both messages). Set by whoever holds the packets;
    /// without it, or for what it cannot decode (TCP), rows keep their transactions.
    @exclusivity(unchecked) public var rebuild: ((Entry) -> Transaction?)? = nil
    /// Transactions kept whole, by sequence: the rows that cannot be decoded again from their packets (TCP, IP
    /// fragments: rare). Bounded in octets, not only by the rows: beyond `maxKeptBytes` the oldest are let go, and
    /// their rows keep their facts (what the list, the flows and the findings show) without the messages' records.
    @exclusivity(unchecked) private var keptTransactions = SequenceMap<Transaction>()
    /// Sequences in the order they were kept (some since gone), and what the kept ones hold (`Transaction.heldBytes`).
    private var keptOrder: [Int] = []
    private var keptOrderHead = 0
    public private(set) var keptBytes = 0
    public let maxKeptBytes: Int
    /// Rows whose messages were let go to stay within `maxKeptBytes`.
    public private(set) var keptDropped = 0
    /// One `InternedName` per distinct name among the rows. Names whose rows are all evicted are let go now and then
    /// (`pruneNames`): under `--max-queries`, a long capture would otherwise keep every name it ever saw.
    @exclusivity(unchecked) private var names = NameTable()
    private var nextNamePrune = 4_096
    /// Distinct names held (for tests).
    var internedNames: Int { names.count }
    /// The names' search forms made so far (by identity: an entry goes with its name when names are pruned).
    private var searchNames: [ObjectIdentifier: String] = [:]

    /// A name's search form (`InternedName.search`), made once.
    func searchName(_ n: InternedName?) -> String {
        guard let n else { return "" }
        if let s = searchNames[ObjectIdentifier(n)] { return s }
        let s = n.search
        searchNames[ObjectIdentifier(n)] = s
        return s
    }

    public init(maxEntries: Int = 200_000, maxKeptBytes: Int = 64 << 20) {
        self.maxEntries = min(max(1, maxEntries), 1 << 30)
        self.maxKeptBytes = maxKeptBytes
    }

    public var count: Int { order.count }
    /// Every row, in sequence order.
    public var entries: RowsView { RowsView(store: self, order: order) }
    /// Every flow with a row held, in order of their numbers.
    public var flows: FlowsView { FlowsView(store: self, order: flowOrder) }

    /// The row of a sequence number.
    public func entry(sequence: Int) -> Entry? {
        slot(sequence: sequence).map { Entry(store: self, slot: $0, sequence: sequence) }
    }

    /// The slot of a sequence number's row: `order` is in sequence order, and the rows asked for are mostly recent, so
    /// the search gallops back from the end, then halves.
    private func slot(sequence: Int) -> Int32? {
        let i = position(of: sequence)
        return i < order.count && rows.address(order[i]).pointee.sequence == sequence ? order[i] : nil
    }

    /// The first position in `order` whose sequence is not below `sequence`. Every sequence number is a row, so the
    /// rows held are almost always a run of consecutive sequences: the position is first guessed from the first row's
    /// sequence (and the gap the last search found), then searched for.
    private func position(of sequence: Int) -> Int {
        if let first = order.first {
            let guess = sequence - rows.address(first).pointee.sequence
            if holds(sequence, at: guess) { return guess }
            if positionGap != 0, holds(sequence, at: guess - positionGap) { return guess - positionGap }
        }
        let found = search(sequence)
        if let first = order.first, found < order.count { positionGap = sequence - rows.address(first).pointee.sequence - found }
        return found
    }

    /// How far behind its consecutive place the last row searched for was (rows missing before it).
    @exclusivity(unchecked) private var positionGap = 0

    @inline(__always) private func holds(_ sequence: Int, at i: Int) -> Bool {
        i >= 0 && i < order.count && rows.address(order[i]).pointee.sequence == sequence
    }

    /// `position(of:)` by search: galloping back from the end (the rows asked for are mostly recent), then halving.
    private func search(_ sequence: Int) -> Int {
        var hi = order.count, step = 1
        var lo = hi - 1
        while lo > 0, rows.address(order[lo]).pointee.sequence > sequence {
            hi = lo
            lo = max(0, lo - step)
            step *= 2
        }
        if lo < 0 { return 0 }
        while lo < hi {
            let mid = (lo + hi) / 2
            if rows.address(order[mid]).pointee.sequence < sequence { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    /// Where a handle's row lies: its slot's, or found again by sequence when the slot went to a newer row; a vacant
    /// row when it is gone. Read through it field by field (a closure given the record made the compiler copy it,
    /// retaining its references, for each row of a million-row list).
    @inline(__always) func row(_ e: Entry) -> UnsafePointer<RowRecord> {
        if let slot = liveSlot(e) { return UnsafePointer(rows.address(slot)) }
        return UnsafePointer(QueryStore.vacantRow)
    }

    private nonisolated(unsafe) static let vacantRow: UnsafeMutablePointer<RowRecord> = {
        let p = UnsafeMutablePointer<RowRecord>.allocate(capacity: 1)
        p.initialize(to: .vacant)
        return p
    }()

    /// The slot of a handle's row, if it is still held.
    @inline(__always) private func liveSlot(_ e: Entry) -> Int32? {
        if e.slot >= 0, e.slot < rows.filled, rows.address(e.slot).pointee.sequence == e.sequence { return e.slot }
        return slot(sequence: e.sequence)
    }

    func flowGroup(slot: Int32) -> FlowGroup {
        FlowGroup(store: self, slot: slot, number: slot < 0 ? 0 : flowTable[slot].number)
    }

    func flowRecord(_ g: FlowGroup) -> FlowRecord {
        if g.slot >= 0, g.slot < flowTable.filled, flowTable[g.slot].number == g.number { return flowTable[g.slot] }
        return .vacant
    }

    /// The flow with this number, if it still has rows.
    public func flow(number: Int) -> FlowGroup? {
        if let slot = numberlessByNumber[number] { return FlowGroup(store: self, slot: slot, number: number) }
        guard number > 0, let slot = slotByFlowNumber[number] else { return nil }
        return FlowGroup(store: self, slot: slot, number: number)
    }

    func kept(_ sequence: Int) -> Transaction? { keptTransactions.isEmpty ? nil : keptTransactions[sequence] }

    /// A flow group as the analysis's flows are exported (`--flows-csv` columns), from the rows it holds.
    public static func flowStats(_ g: FlowGroup) -> FlowStats {
        let key = g.key
        let rows = g.entries.map(\.facts)
        let first = rows.map(\.time).min() ?? Timestamp(seconds: 0, nanoseconds: 0)
        var last = first
        var f = FlowStats(id: g.number, transport: key.transport, client: key.client, server: key.server, firstSeen: first, lastSeen: first)
        for t in rows {
            last = max(last, t.time, t.responseTime ?? t.time)
            guard t.hasQuery else { continue }
            f.queries += 1
            if t.attempt > 1 { f.retries += 1 }
            switch t.status {
            case .answered:
                f.answered += 1
                if let l = t.latencyNanoseconds { f.latencies.append(l) }
            case .unanswered: f.unanswered += 1
            default: break
            }
        }
        f.lastSeen = last
        return f
    }

    func stats(of g: FlowGroup) -> FlowGroup.Stats {
        if let s = statsCache[g.slot], flowRecord(g).number == g.number { return s }
        var s = FlowGroup.Stats()
        var latencies: [Int64] = []
        let f = flowRecord(g)
        var slot = f.count == 0 ? -1 : f.first
        while slot >= 0 {
            let r = rows[slot]
            slot = r.nextInFlow
            let t = r.facts
            if t.hasQuery { s.queries += 1 }
            if r.has(RowRecord.marked) { s.marked += 1 }
            if t.isRetry { s.retries += 1 }
            if r.isWaiting {
                s.pending += 1
                s.oldestWaiting = min(s.oldestWaiting ?? .max, t.time.totalNanoseconds)
                continue
            }
            switch t.status {
            case .answered: s.answered += 1
            case .unanswered: s.unanswered += 1
            default: break
            }
            if let l = t.latencyNanoseconds { latencies.append(l) }
            if let w = t.lookupNanoseconds { s.worstWait = max(s.worstWait ?? 0, w) }
        }
        latencies.sort()
        s.worstLatency = latencies.last
        s.medianLatency = latencies.isEmpty ? nil : latencies[(latencies.count - 1) / 2]
        if g.slot >= 0 { statsCache[g.slot] = s }
        return s
    }

    private func invalidate(flow slot: Int32) {
        if !statsCache.isEmpty { statsCache[slot] = nil }
    }

    /// The latest time among a flow's rows (nanoseconds since the epoch).
    private func lastActivity(flow slot: Int32) -> Int64 {
        let f = flowTable[slot]
        guard f.count > 0 else { return .min }
        let t = rows[f.last].facts
        return max(t.time.totalNanoseconds, t.responseTime?.totalNanoseconds ?? .min)
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
        if let n = names.find(name) { return n }
        let n = InternedName(name)
        names.insert(n)
        return n
    }

    private func facts(_ t: Transaction, name: InternedName? = nil) -> QueryFacts {
        QueryFacts(t, name: name ?? intern(t.question?.name), shared: intern(findings: t.analysis.findings))
    }

    /// One list per distinct set of findings (most rows have none; the others share a handful of lists).
    @exclusivity(unchecked) private var findingLists: [[String]: PackedAnalysis.Extra] = [:]

    private func intern(findings: [String]) -> PackedAnalysis.Extra? {
        if findings.isEmpty { return nil }
        if let shared = findingLists[findings] { return shared }
        let shared = PackedAnalysis.Extra(findings: findings)
        findingLists[findings] = shared
        return shared
    }

    /// A row's analysis from its transaction's (read once: each read is a copy of it).
    private func setAnalysis(_ slot: Int32, _ t: Transaction) {
        let a = t.analysis
        rows[slot].facts.setAnalysis(a, shared: intern(findings: a.findings))
    }

    /// Sets a row from a transaction: its facts, then its packets and the transaction itself if it cannot be rebuilt.
    private func set(_ slot: Int32, _ t: Transaction) {
        defer { rows[slot].noteProblems() }
        // A row is one transaction (one sequence) from its first event to its last: its query does not change, and a
        // response, once shown, neither. (A row that keeps its transaction takes the new one whole, for its analysis.)
        // (The row's fields read where they lie: `rows[slot].facts` bound to a name is a copy, its name and findings
        // retained.)
        let hasQuery = rows[slot].facts.hasQuery, hasResponse = rows[slot].facts.hasResponse
        let keeps = kept(t.sequence) != nil
        // Settling with the messages the row already shows: only the analysis is new.
        if !keeps, hasQuery == t.hasQuery, rows[slot].facts.responseTime == t.responseTime {
            setAnalysis(slot, t)
            return
        }
        // Its answer matched: the response's facts and place are added to the query's.
        if !keeps, hasQuery, !hasResponse, let point = t.responsePoint, let place = PacketRef(point),
           let rcode = t.responseRCode, let time = t.responseTime,
           QueryStore.rebuildable(t, rebuild: rebuild != nil), rows[slot].canPlaceResponse(place)
        {
            rows[slot].facts.setResponse(rcode: rcode, time: time)
            setAnalysis(slot, t)
            _ = rows[slot].setResponsePlace(place)
            return
        }
        // A row's question does not change from arrival to settling: its interned name is looked up once.
        let f = rows[slot].facts
        var new = f.name.flatMap { name in t.question.flatMap { name.name == $0.name ? facts(t, name: name) : nil } }
            ?? facts(t)
        new.rowFlags = f.rowFlags  // the row's own fields travel with its facts
        new.rowSequenceHigh = f.rowSequenceHigh
        rows[slot].facts = new
        attach(slot, t)
    }

    private func attach(_ slot: Int32, _ t: Transaction) {
        // A packet whose place does not pack cannot be read again: the row keeps what it had.
        var placed = true
        if let point = t.queryPoint {
            if let ref = PacketRef(point) { rows[slot].setQueryPlace(ref) } else { placed = false }
        }
        if let point = t.responsePoint {
            if let ref = PacketRef(point), rows[slot].setResponsePlace(ref) {} else { placed = false }
        }
        if placed && QueryStore.rebuildable(t, rebuild: rebuild != nil) {
            if !keptTransactions.isEmpty { forget(t.sequence) }
        } else {
            keep(t)
        }
    }

    private func keep(_ t: Transaction) {
        forget(t.sequence)
        keptTransactions[t.sequence] = t
        keptBytes += t.heldBytes
        keptOrder.append(t.sequence)
        while keptBytes > maxKeptBytes, keptOrderHead < keptOrder.count {
            let oldest = keptOrder[keptOrderHead]
            keptOrderHead += 1
            if oldest != t.sequence, forget(oldest) { keptDropped += 1 }
        }
        keptOrder.dropConsumed(head: &keptOrderHead)
    }

    @discardableResult
    private func forget(_ sequence: Int) -> Bool {
        guard let t = keptTransactions.removeValue(forKey: sequence) else { return false }
        keptBytes -= t.heldBytes
        return true
    }


    /// One UDP datagram per message: a message out of IP fragments or a TCP stream is more than one packet can give
    /// back, so its transaction is kept (rare).
    private static func rebuildable(_ t: Transaction, rebuild: Bool) -> Bool {
        rebuildable(t.transport, isUnmatchable: t.isUnmatchable, isReassembled: t.isReassembled, rebuild: rebuild)
    }

    private static func rebuildable(_ transport: TransportProtocol, isUnmatchable: Bool, isReassembled: Bool,
                                    rebuild: Bool) -> Bool {
        rebuild && transport == .udp && !isUnmatchable && !isReassembled
    }

    private func makeRow(_ t: Transaction, isPending: Bool) -> Int32 {
        let slot = rows.add(RowRecord(sequence: t.sequence, facts: facts(t), flow: group(for: t), isPending: isPending))
        attach(slot, t)
        return slot
    }

    /// A query as it enters matching: shown at once, pending, with what its arrival proved (a re-send's attempt and
    /// gap, its pair and lookup).
    /// (The row is made from the query itself: a transaction is made only for a query that must be kept whole.)
    public func queryArrived(_ sequence: Int, _ query: ObservedMessage, _ analysis: Analysis = Analysis()) {
        guard slot(sequence: sequence) == nil else { return }
        if analysis.attempt > 1 { resendsPending += 1 }
        let facts = QueryFacts(query: query, analysis: analysis, name: intern(query.question?.name),
                               shared: intern(findings: analysis.findings))
        let flow = group(flow: analysis.flow, transport: query.transport, client: query.source, server: query.destination)
        let slot = rows.add(RowRecord(sequence: sequence, facts: facts, flow: flow, isPending: true))
        if let ref = PacketRef(query.point),
           QueryStore.rebuildable(query.transport, isUnmatchable: false, isReassembled: query.isReassembled, rebuild: rebuild != nil) {
            rows[slot].setQueryPlace(ref)
            if !keptTransactions.isEmpty { forget(sequence) }
        } else {
            var t = Transaction(sequence: sequence, query: query, response: nil)
            t.analysis = analysis
            attach(slot, t)
        }
        insert(slot)
        if showsPairsEarly, let p = analysis.pair { notePendingPair(slot, pair: p, state: analysis.pairState) }
    }

    /// A query whose fate is known before its analysis is final: its response matched (the row shows the answer now),
    /// or it can no longer be answered (re-sent under the same key, or its window passed: the row shows it lost).
    /// Also an orphan response.
    public func matched(_ t: Transaction) {
        guard let slot = slot(sequence: t.sequence) else {
            if t.sequence <= evictedThrough { return }
            let slot = makeRow(t, isPending: true)
            if t.hasQuery { notePending(slot, t) }
            insert(slot)
            return
        }
        guard rows[slot].isWaiting else { return }
        set(slot, t)
        if t.hasQuery { notePending(slot, t) }
        noteTime(slot)
        invalidate(flow: rows[slot].flow)
        version += 1
        if showsPairsEarly {
            let a = t.analysis
            if let p = a.pair { notePendingPair(slot, pair: p, state: a.pairState) }
        }
    }

    /// Live and replayed, a pair's state is known before the pair settles (both answered at once: ok; one re-sent:
    /// retried), proven by one query's event: both of the pair's rows still pending show it then, the second row's
    /// as soon as its sibling proves it. (Told by `matched` and `queryArrived`; the settled state replaces it.)
    @exclusivity(unchecked) public var showsPairsEarly = false
    /// Each pending pair's second query's row, by the pair's id (its first query's sequence), until the pair settles.
    @exclusivity(unchecked) private var secondOfPair: [Int: (slot: Int32, sequence: Int)] = [:]

    private func notePendingPair(_ slot: Int32, pair p: Int, state: Analysis.PairState?) {
        let f = rows[slot].facts
        if rows[slot].sequence != p, f.attempt == 1, !f.isProbableRetry {
            if secondOfPair.count >= maxEntries { secondOfPair.removeAll() }
            secondOfPair[p] = (slot, rows[slot].sequence)
        }
        guard let state else { return }
        func show(_ other: Int32) {
            guard other != slot, rows[other].isPending, rows[other].facts.pairState != state else { return }
            rows[other].facts.setPairState(state)
            rows[other].noteProblems()
            invalidate(flow: rows[other].flow)
            version += 1
        }
        if let first = self.slot(sequence: p) { show(first) }
        if let second = secondOfPair[p], rows[second.slot].sequence == second.sequence { show(second.slot) }
    }

    /// Counts a pending row's fate (answered or lost) until the pipeline counts it final.
    private func notePending(_ slot: Int32, _ t: Transaction) {
        if t.hasResponse {
            answeredPending += 1
        } else {
            unansweredPending += 1
            rows[slot].set(RowRecord.lost, true)
            rows[slot].noteProblems()
        }
    }

    /// A settled transaction: replaces its pending row, or takes its place in sequence (orphans, malformed).
    public func settled(_ t: Transaction) {
        if !secondOfPair.isEmpty, let p = t.analysis.pair { secondOfPair[p] = nil }
        if let slot = slot(sequence: t.sequence) {
            if rows[slot].isPending {
                if rows[slot].isAnsweredEarly { answeredPending -= 1 }
                if rows[slot].has(RowRecord.lost) { unansweredPending -= 1 }
                if rows[slot].facts.attempt > 1 { resendsPending -= 1 }
            }
            set(slot, t)
            rows[slot].set(RowRecord.pending, false)
            rows[slot].set(RowRecord.lost, false)
            rows[slot].noteProblems()
            noteTime(slot)
            invalidate(flow: rows[slot].flow)
            notePair(slot)
            version += 1
            return
        }
        if t.sequence <= evictedThrough { return }
        let slot = makeRow(t, isPending: false)
        notePair(slot)
        insert(slot)
    }

    /// The first row of a pair to settle opens its bracket. Which has is told by the pair's first query's row (its
    /// sequence is the pair's id): a flag there, where a set of every pair seen took 8 to 16 bytes a pair. Once that
    /// row is evicted, a sibling settling later opens the bracket itself.
    private func notePair(_ row: Int32) {
        // (Read where they lie: the facts bound to a name are a copy.)
        guard rows[row].facts.attempt == 1, !rows[row].facts.isProbableRetry, let p = rows[row].facts.pair else { return }
        // (This row may be the anchor before it is in `order`: a row made as it settles is noted first.)
        let anchor = rows[row].sequence == p ? row : slot(sequence: p)
        if let anchor, rows[anchor].has(RowRecord.pairOpened) { return }
        rows[row].set(RowRecord.firstOfPair, true)
        if let anchor { rows[anchor].set(RowRecord.pairOpened, true) }
    }

    /// A row's flow group. Numbered by the analysis (the CSV's `flow` column, the `flow:N` filter): one flow number
    /// everywhere, and a 5-tuple the analysis ended (idle for its horizon) and saw again is a new flow here too. A row
    /// without a number (a query whose question does not decode, a row made outside the pipeline) joins a group of its
    /// 5-tuple's numberless rows, numbered from `FlowGroup.numberlessBase` up (shown `#–`, never matched by `flow:N`).
    private func group(for t: Transaction) -> Int32 {
        group(flow: t.analysis.flow, transport: t.transport, client: t.client, server: t.server)
    }

    private func group(flow: Int?, transport: TransportProtocol, client: Endpoint, server: Endpoint) -> Int32 {
        if let number = flow, number > 0 {
            if let g = slotByFlowNumber[number] { return g }
            let tuple = addresses.hold(transport, client: client, server: server)
            let g = flowTable.add(FlowRecord(tuple: tuple, number: number))
            flowOrder.append(g)
            slotByFlowNumber[number] = g
            return g
        }
        if let wanted = addresses.tuple(transport, client: client, server: server),
           let g = numberless.find(hash: wanted.hash, matches: { flowTable[$0].tuple == wanted }) {
            return g
        }
        numberlessFlows += 1
        let tuple = addresses.hold(transport, client: client, server: server)
        let number = FlowGroup.numberlessBase + numberlessFlows
        let g = flowTable.add(FlowRecord(tuple: tuple, number: number))
        flowOrder.append(g)
        numberless.insert(g, hash: tuple.hash)
        numberlessByNumber[number] = g
        return g
    }

    private func flowHash(_ slot: Int32) -> UInt64 { flowTable[slot].tuple.hash }

    func key(of f: FlowRecord) -> FlowGroup.Key {
        let (client, server) = addresses.endpoints(of: f.tuple)
        return FlowGroup.Key(transport: f.tuple.transport, client: client, server: server)
    }

    private func noteTime(_ slot: Int32) {
        // (Read where they lie: the facts bound to a name are a copy.)
        latestTime = max(latestTime, rows[slot].facts.time.totalNanoseconds, rows[slot].facts.responseTime?.totalNanoseconds ?? 0)
    }

    /// Moves the end of the data forward without a row (the last packet's time, a live clock).
    public func advance(to nanoseconds: Int64) {
        if nanoseconds > latestTime { latestTime = nanoseconds; version += 1 }
    }

    private func insert(_ slot: Int32) {
        noteTime(slot)
        let sequence = rows[slot].sequence
        if let last = order.last, rows[last].sequence > sequence {
            order.insert(slot, at: position(of: sequence))
        } else {
            order.append(slot)
        }
        link(slot, into: rows[slot].flow)
        invalidate(flow: rows[slot].flow)
        version += 1
        if order.count > maxEntries {
            evict(max(1, maxEntries / 16))
            // After the evicted rows are gone (their names are free then).
            if names.count >= nextNamePrune { pruneNames() }
        }
    }

    /// Adds a row to its flow's list, in sequence order (at the end but for a row arriving out of order).
    private func link(_ slot: Int32, into flow: Int32) {
        let sequence = rows[slot].sequence
        let f = flowTable[flow]
        defer { flowTable[flow].count += 1 }
        if f.count == 0 {
            flowTable[flow].first = slot
            flowTable[flow].last = slot
            return
        }
        if rows[f.last].sequence < sequence {
            rows[f.last].nextInFlow = slot
            flowTable[flow].last = slot
            return
        }
        if rows[f.first].sequence > sequence {
            rows[slot].nextInFlow = f.first
            flowTable[flow].first = slot
            return
        }
        var before = f.first
        while rows[rows[before].nextInFlow].sequence < sequence { before = rows[before].nextInFlow }
        rows[slot].nextInFlow = rows[before].nextInFlow
        rows[before].nextInFlow = slot
    }

    /// Drops the `n` oldest rows (in batches, so that eviction costs little per row).
    private func evict(_ n: Int) {
        let goneSlots = Array(order.prefix(n))
        // Told while the rows are still there to be read.
        onEvict(goneSlots.map { Entry(store: self, slot: $0, sequence: rows[$0].sequence) })
        order.removeFirst(goneSlots.count)
        var emptied = false
        var cutoff = Int.min
        for slot in goneSlots {
            // Read where it lies: a copy of the record would retain and release its references, for every row evicted.
            let r = rows.address(slot)
            cutoff = max(cutoff, r.pointee.sequence)
            if r.pointee.has(RowRecord.marked) { markedCount -= 1 }
            if r.pointee.isAnsweredEarly { answeredPending -= 1 }
            if r.pointee.isPending, r.pointee.has(RowRecord.lost) { unansweredPending -= 1 }
            if r.pointee.isPending, r.pointee.facts.attempt > 1 { resendsPending -= 1 }
            if !keptTransactions.isEmpty { forget(r.pointee.sequence) }
            // The evicted rows are the oldest: each is the first of its flow's list.
            let flow = r.pointee.flow
            flowTable[flow].first = r.pointee.nextInFlow
            flowTable[flow].count -= 1
            invalidate(flow: flow)
            if flowTable[flow].count == 0 {
                let number = flowTable[flow].number
                if number < FlowGroup.numberlessBase {
                    slotByFlowNumber[number] = nil
                } else {
                    numberless.remove(flow, hash: flowHash(flow))
                    numberlessByNumber[number] = nil
                }
                flowTable[flow].first = -1
                flowTable[flow].last = -1
                emptied = true
            }
            rows.remove(slot)
        }
        evictedThrough = max(evictedThrough, cutoff)
        // A flow whose rows are all gone goes too (its number is not reused).
        if emptied {
            flowOrder.removeAll { slot in
                guard flowTable[slot].count == 0 else { return false }
                if !statsCache.isEmpty { statsCache[slot] = nil }
                addresses.letGo(flowTable[slot].tuple)
                flowTable.remove(slot)
                return true
            }
        }
        evicted += goneSlots.count
        version += 1
    }

    /// Lets go of the names no row (nor anything else) refers to any more. Amortised: the table at least doubles
    /// between prunes.
    private func pruneNames() {
        names.removeUnreferenced { n in
            if !searchNames.isEmpty { searchNames[ObjectIdentifier(n)] = nil }
        }
        nextNamePrune = max(4_096, 2 * names.count)
    }

    // MARK: marks

    public func setMarked(_ e: Entry, _ marked: Bool) {
        guard let slot = liveSlot(e), rows[slot].has(RowRecord.marked) != marked else { return }
        rows[slot].set(RowRecord.marked, marked)
        markedCount += marked ? 1 : -1
        invalidate(flow: rows[slot].flow)
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
