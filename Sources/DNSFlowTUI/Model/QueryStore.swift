import DNSFlowCore

/// One row of the interface: a query (or an orphan response, or a malformed message) from the moment it is seen.
/// A live query shows as pending until its transaction settles; then the settled transaction replaces it in place.
public final class Entry {
    public let sequence: Int
    public internal(set) var transaction: Transaction
    /// Seen but not settled yet (waiting for its answer, or for the analysis to finish with it).
    public internal(set) var isPending: Bool
    /// The first query of its A/AAAA pair (opens the bracket).
    public internal(set) var isFirstOfPair = false
    public internal(set) var isMarked = false
    public internal(set) unowned(unsafe) var flow: FlowGroup
    /// Lowercased name, for filtering (computed once).
    lazy var searchName: String = transaction.question.map { $0.name.presentation(trailingDot: false).lowercased() } ?? ""

    init(sequence: Int, transaction: Transaction, isPending: Bool, flow: FlowGroup) {
        self.sequence = sequence
        self.transaction = transaction
        self.isPending = isPending
        self.flow = flow
    }

    /// Seen, with no answer yet (pending, and nothing matched it).
    public var isWaiting: Bool { isPending && transaction.response == nil }

    /// A query answered whose analysis is not final yet (counted by the store, not yet by the pipeline).
    var isAnsweredEarly: Bool { isPending && transaction.query != nil && transaction.response != nil }

    /// A re-send (same id) or a probable one (new id, same question, while the previous was unanswered).
    public var isRetry: Bool { transaction.analysis.attempt > 1 || transaction.analysis.isProbableRetry }

    /// Unanswered, retried, in a pair that was not plain ok, slow (100 ms or more), a server error, an orphan or
    /// malformed: what `f` keeps. (NXDOMAIN is an answer; search-list NXDOMAINs are a finding, not a problem row.)
    public var isProblem: Bool {
        let t = transaction
        if t.status == .malformed || t.status == .orphanResponse { return true }
        if !isPending, t.status == .unanswered { return true }
        if isRetry { return true }
        if let state = t.analysis.pairState, state != .ok, state != .single { return true }
        if let l = t.latencyNanoseconds, l >= 100_000_000 { return true }
        if let r = t.response?.message.rcode, r != .noError, r != .nxDomain { return true }
        return false
    }
}

/// One 5-tuple (transport, client, server) as the interface groups it, with its rows in sequence order.
public final class FlowGroup {
    public struct Key: Hashable {
        public var transport: TransportProtocol
        public var client: Endpoint
        public var server: Endpoint

        public func _rawHashValue(seed: Int) -> Int {
            FastHash.mix(FastHash.flow(transport, client, server), seed: seed)
        }
    }

    public struct Stats: Equatable {
        public var queries = 0
        public var answered = 0
        public var unanswered = 0
        public var pending = 0
        public var retries = 0
        public var marked = 0
        public var worstLatency: Int64?
        public var medianLatency: Int64?
    }

    /// 1-based, in order of first appearance (the `flow:N` filter term).
    public let number: Int
    public let key: Key
    public internal(set) var entries: [Entry] = []
    private var cachedStats: Stats?

    init(number: Int, key: Key) {
        self.number = number
        self.key = key
    }

    func invalidate() { cachedStats = nil }

    public var stats: Stats {
        if let cachedStats { return cachedStats }
        var s = Stats()
        var latencies: [Int64] = []
        for e in entries {
            let t = e.transaction
            if t.query != nil { s.queries += 1 }
            if e.isMarked { s.marked += 1 }
            if e.isRetry { s.retries += 1 }
            if e.isWaiting { s.pending += 1; continue }
            switch t.status {
            case .answered: s.answered += 1
            case .unanswered: s.unanswered += 1
            default: break
            }
            if let l = t.latencyNanoseconds { latencies.append(l) }
        }
        latencies.sort()
        s.worstLatency = latencies.last
        s.medianLatency = latencies.isEmpty ? nil : latencies[(latencies.count - 1) / 2]
        cachedStats = s
        return s
    }
}

/// Every row the interface holds, bounded: the oldest are evicted beyond `maxEntries` (the count is kept).
/// Rows are appended in sequence order as queries are seen and updated in place as they settle.
public final class QueryStore {
    public private(set) var entries: [Entry] = []
    public private(set) var flows: [FlowGroup] = []
    private var flowByKey: [FlowGroup.Key: FlowGroup] = [:]
    private var bySequence = SequenceMap<Entry>()
    private var seenPairs = SequenceSet()
    private var flowNumbers = 0
    public let maxEntries: Int
    public private(set) var evicted = 0
    /// Every row at or before this sequence that is not here was evicted: its late news (an answer, the query settling
    /// unanswered a minute later) is dropped rather than bringing the row back into the middle of the list.
    private var evictedThrough = -1
    public private(set) var markedCount = 0
    /// Rows answered whose analysis is not final yet (the pipeline counts them once they settle).
    public private(set) var answeredPending = 0
    /// The latest time seen in any row (nanoseconds since the epoch): where an unanswered bar ends.
    public private(set) var latestTime: Int64 = 0
    /// Bumped on every change, so views know when to recompute.
    public private(set) var version = 0
    /// Told about rows as they are evicted (to let go of their packets).
    public var onEvict: ([Entry]) -> Void = { _ in }

    public init(maxEntries: Int = 200_000) { self.maxEntries = max(1, maxEntries) }

    public var count: Int { entries.count }
    public func entry(sequence: Int) -> Entry? { bySequence[sequence] }

    /// A query as it enters matching: shown at once, pending.
    public func queryArrived(_ sequence: Int, _ query: ObservedMessage) {
        guard !bySequence.contains(sequence) else { return }
        let t = Transaction(sequence: sequence, query: query, response: nil)
        insert(Entry(sequence: sequence, transaction: t, isPending: true, flow: group(for: t)))
    }

    /// A response matched to its query (or an orphan), before the analysis is final: the row shows the answer now.
    public func matched(_ t: Transaction) {
        guard let e = bySequence[t.sequence] else {
            if t.sequence <= evictedThrough { return }
            let e = Entry(sequence: t.sequence, transaction: t, isPending: true, flow: group(for: t))
            insert(e)
            if t.query != nil { answeredPending += 1 }
            return
        }
        guard e.isWaiting else { return }
        e.transaction = t
        if t.query != nil { answeredPending += 1 }
        noteTime(t)
        e.flow.invalidate()
        version += 1
    }

    /// A settled transaction: replaces its pending row, or takes its place in sequence (orphans, malformed).
    public func settled(_ t: Transaction) {
        if let e = bySequence[t.sequence] {
            if e.isAnsweredEarly { answeredPending -= 1 }
            e.transaction = t
            e.isPending = false
            noteTime(t)
            e.flow.invalidate()
            notePair(e)
            version += 1
            return
        }
        if t.sequence <= evictedThrough { return }
        let e = Entry(sequence: t.sequence, transaction: t, isPending: false, flow: group(for: t))
        notePair(e)
        insert(e)
    }

    private func notePair(_ e: Entry) {
        let a = e.transaction.analysis
        guard let p = a.pair, a.attempt == 1, !a.isProbableRetry else { return }
        if seenPairs.insert(p) { e.isFirstOfPair = true }
    }

    private func group(for t: Transaction) -> FlowGroup {
        let key = FlowGroup.Key(transport: t.transport, client: t.client, server: t.server)
        if let g = flowByKey[key] { return g }
        flowNumbers += 1
        let g = FlowGroup(number: flowNumbers, key: key)
        flows.append(g)
        flowByKey[key] = g
        return g
    }

    private func noteTime(_ t: Transaction) {
        latestTime = max(latestTime, t.time.totalNanoseconds, t.response?.timestamp.totalNanoseconds ?? 0)
    }

    /// Moves the end of the data forward without a row (the last packet's time, a live clock).
    public func advance(to nanoseconds: Int64) {
        if nanoseconds > latestTime { latestTime = nanoseconds; version += 1 }
    }

    private func insert(_ e: Entry) {
        noteTime(e.transaction)
        bySequence[e.sequence] = e
        if let last = entries.last, last.sequence > e.sequence {
            entries.insert(e, at: insertionIndex(e.sequence, in: entries))
            e.flow.entries.insert(e, at: insertionIndex(e.sequence, in: e.flow.entries))
        } else {
            entries.append(e)
            e.flow.entries.append(e)
        }
        e.flow.invalidate()
        version += 1
        if entries.count > maxEntries { evict(max(1, maxEntries / 16)) }
    }

    private func insertionIndex(_ sequence: Int, in list: [Entry]) -> Int {
        var lo = 0, hi = list.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if list[mid].sequence < sequence { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    /// Drops the `n` oldest rows (in batches, so that eviction costs little per row).
    private func evict(_ n: Int) {
        let gone = Array(entries.prefix(n))
        entries.removeFirst(gone.count)
        var touched: [ObjectIdentifier: FlowGroup] = [:]
        for e in gone {
            bySequence[e.sequence] = nil
            if e.isMarked { markedCount -= 1 }
            if e.isAnsweredEarly { answeredPending -= 1 }
            touched[ObjectIdentifier(e.flow)] = e.flow
        }
        let cutoff = gone.last?.sequence ?? .min
        evictedThrough = max(evictedThrough, cutoff)
        var emptied = false
        for g in touched.values {
            g.entries.removeAll { $0.sequence <= cutoff && !bySequence.contains($0.sequence) }
            g.invalidate()
            if g.entries.isEmpty {
                flowByKey[g.key] = nil
                emptied = true
            }
        }
        // A flow whose rows are all gone goes too (its number is not reused).
        if emptied { flows.removeAll { $0.entries.isEmpty } }
        evicted += gone.count
        version += 1
        onEvict(gone)
    }

    // MARK: marks

    public func setMarked(_ e: Entry, _ marked: Bool) {
        guard e.isMarked != marked else { return }
        e.isMarked = marked
        markedCount += marked ? 1 : -1
        e.flow.invalidate()
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
