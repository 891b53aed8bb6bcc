/// Pairs queries with responses, in bounded memory.
///
/// A response answers the most recent still-unanswered query with the same key (`QueryKey`: socket, id, question; the
/// name, which the key holds by its fingerprint, compared with the query's) sent at or before it, within the window:
/// when a resolver re-sends on one socket with one id, the response goes to the latest send and the earlier ones stay
/// unanswered. A query nothing answers within the window is unanswered; a
/// response with no query is an orphan.
///
/// Each transaction is emitted once, as soon as it is settled (answered at once; unanswered when the window
/// has passed), and nothing is kept after that: memory holds only the queries still waiting. Every
/// transaction carries `sequence`, the order of its first message; `InSequence` restores that order.
public struct TransactionMatcher {
    public struct Configuration: Sendable {
        /// How long a query waits for its response, in capture time.
        public var windowSeconds: Int64 = 60
        /// Queries waiting at most: beyond it (a flood of queries nobody answers) the oldest stops waiting now, as
        /// if its window had passed, and is counted (`givenUp`).
        public var maxWaiting = 48_000
        /// And what they hold at most, in octets (`Transaction.heldBytes`): queries of 64 KiB each would otherwise be
        /// held by the `maxWaiting`.
        public var maxWaitingBytes = 64 << 20
        public init() {}
    }

    public let configuration: Configuration
    /// Queries still waiting, by sequence: their messages, a transaction made of each when it settles (one box, made
    /// once with what it holds; a match reads the query's box, not a transaction's box first).
    private var waiting = SequenceWindow<ObservedMessage>()
    /// The queries open under each matching key, oldest first, with their send times: almost always one (held
    /// inline: an array per query was an allocation, and reading the time from the waiting transaction copied it).
    private var open = OpenKeys()
    /// Waiting sequences in arrival order with the seconds of their times, all the window compares (answered ones are
    /// skipped lazily): checking the oldest, at every message, reads no transaction. 16 bytes a query of the last
    /// minute.
    private var expiry: [(sequence: Int, seconds: Int64)] = []
    private var expiryHead = 0
    private var nextSequence = 0

    public init(configuration: Configuration = .init()) { self.configuration = configuration }

    /// Queries waiting for a response.
    public var waitingCount: Int { waiting.count }
    /// Queries that stopped waiting before their window passed, because `maxWaiting` were waiting.
    public private(set) var givenUp = 0
    /// What the waiting queries hold (`Transaction.heldBytes`).
    public private(set) var waitingBytes = 0

    /// Adds a message; returns the sequence of the transaction it opened (a query, an orphan) or joined (a response).
    @discardableResult
    public mutating func add(_ observed: ObservedMessage, emit: (Transaction) -> Void) -> Int {
        expire(now: observed.timestamp, emit: emit)
        let seq = nextSequence
        if !observed.message.isResponse {
            nextSequence += 1
            // A re-send under the same key (same socket, id and question): a response goes to the latest send, so the
            // earlier ones can never be answered now. They settle unanswered at once, not when their window passes.
            // (One lookup of the key: the list is edited where it lies.)
            var superseded = SequenceList()
            let send = OpenSends.Send(sequence: seq, time: observed.timestamp)
            let key = QueryKey(observed, client: observed.source, server: observed.destination)
            let place = open.find(key)
            if let slot = place.slot {
                Self.append(send, of: observed, to: &open[slot], waiting: &waiting, superseded: &superseded)
                for old in superseded { settleSuperseded(old, emit: emit) }
            } else {
                open.add(key, at: place, OpenSends(send))
            }
            waitingBytes += Self.heldBytes(observed)
            waiting.updateValue(observed, forKey: seq)
            expiry.append((seq, observed.timestamp.seconds))
            return seq
        }
        let key = QueryKey(observed, client: observed.destination, server: observed.source)
        if let match = takeMatchingQuery(for: key, of: observed), let q = waiting.removeValue(forKey: match) {
            waitingBytes -= Self.heldBytes(q)
            if !sightingKeys.isEmpty, let aliases = sightingKeys.removeValue(forKey: match) {
                // Registered under several keys (sightings): forget the others too.
                close(match, key: QueryKey(q, client: q.source, server: q.destination))
                for alias in aliases { close(match, key: alias) }
            }
            emit(Transaction(sequence: match, query: q, response: observed))
            return match
        }
        nextSequence += 1
        emit(Transaction(sequence: seq, query: nil, response: observed))
        return seq
    }

    /// What a waiting query counts for in `waitingBytes`: `Transaction.heldBytes` of it alone, unanswered.
    private static func heldBytes(_ query: ObservedMessage) -> Int { Transaction.heldBytes(query: query, response: nil) }

    /// Queries settled unanswered because a later send under their key made them unmatchable.
    public private(set) var superseded = 0

    /// Appends a send of `query` to its key's list, taking out (into `superseded`) the waiting sends it makes
    /// unanswerable: those of its name sent at or before it.
    private static func append(_ entry: OpenSends.Send, of query: ObservedMessage, to list: inout OpenSends,
                               waiting: inout SequenceWindow<ObservedMessage>, superseded: inout SequenceList) {
        if !list.isEmpty {
            var kept = OpenSends()
            for e in list {
                if e.time <= entry.time, waiting.lend(e.sequence, { $0.hasKeyName(of: query) }) == true {
                    superseded.append(e.sequence)
                } else {
                    kept.append(e)
                }
            }
            if !superseded.isEmpty { list = kept }
        }
        list.append(entry)
    }

    /// A waiting query a later send under its key made unanswerable: settled now, unanswered.
    private mutating func settleSuperseded(_ seq: Int, emit: (Transaction) -> Void) {
        guard let q = waiting.removeValue(forKey: seq) else { return }
        waitingBytes -= Self.heldBytes(q)
        for alias in sightingKeys.removeValue(forKey: seq) ?? [] { close(seq, key: alias) }
        superseded += 1
        emit(Transaction(sequence: seq, query: q, response: nil))
    }

    /// Another sighting of a waiting query, with the endpoints it had there (after DNAT, say): its response may
    /// come back on those endpoints first.
    public mutating func addSighting(of seq: Int, _ observed: ObservedMessage) {
        // Matched by the first sighting's time, as the query itself.
        guard let sent = waiting.read(seq, { $0.timestamp }) else { return }
        let key = QueryKey(observed, client: observed.source, server: observed.destination)
        let place = open.find(key)
        let send = OpenSends.Send(sequence: seq, time: sent)
        if let slot = place.slot {
            guard !open[slot].contains(where: { $0.sequence == seq }) else { return }
            open[slot].append(send)
        } else {
            open.add(key, at: place, OpenSends(send))
        }
        sightingKeys[seq, default: []].append(key)
    }

    /// A message that cannot be matched (its question did not decode) still takes its place in sequence.
    public mutating func addUnmatchable(_ observed: ObservedMessage, emit: (Transaction) -> Void) {
        expire(now: observed.timestamp, emit: emit)
        let seq = nextSequence
        nextSequence += 1
        var t = observed.message.isResponse
            ? Transaction(sequence: seq, query: nil, response: observed)
            : Transaction(sequence: seq, query: observed, response: nil)
        t.isUnmatchable = true
        emit(t)
    }

    /// Time moved on with no message (a live clock): the queries whose window has passed settle unanswered.
    public mutating func advance(to now: Timestamp, emit: (Transaction) -> Void) {
        expire(now: now, emit: emit)
    }

    /// End of input: every waiting query is unanswered.
    public mutating func finish(emit: (Transaction) -> Void) {
        expire(now: nil, emit: emit)
    }

    /// Removes and returns the most recent open query for `key` (the response's) of the response's name, sent at or
    /// before it, within the window. One hash lookup in the common case (one query per key).
    private mutating func takeMatchingQuery(for key: QueryKey, of response: ObservedMessage) -> Int? {
        let place = open.find(key)
        guard let slot = place.slot else { return nil }
        // The list read where it lies (read as a value, the whole list is copied out of the table).
        guard let (j, seq, count) = Self.latestSend(in: &open[slot], of: response, waiting: &waiting,
                                                    window: configuration.windowSeconds) else { return nil }
        // The key's last open query (most keys have one): the key goes.
        if count == 1 { open.remove(at: place) } else { open[slot].remove(at: j) }
        return seq
    }

    /// Newest first: the latest send in `list` at or before `response` still waiting, of its name, if within the window
    /// (its place in the list, its sequence, and the list's length).
    private static func latestSend(in list: inout OpenSends, of response: ObservedMessage,
                                   waiting: inout SequenceWindow<ObservedMessage>, window: Int64) -> (Int, Int, Int)? {
        let time = response.timestamp
        var j = list.count - 1
        while j >= 0 {
            let send = list[j]
            let (seq, sent) = (send.sequence, send.time)
            if sent <= time, waiting.lend(seq, { $0.hasKeyName(of: response) }) == true {
                guard time.seconds - sent.seconds <= window else { return nil }
                return (j, seq, list.count)
            }
            j -= 1
        }
        return nil
    }

    /// Keys a query was registered under besides its first sighting's (few, and only while it waits).
    private var sightingKeys = SequenceMap<[QueryKey]>()

    private mutating func close(_ seq: Int, key: QueryKey) {
        let place = open.find(key)
        guard let slot = place.slot else { return }
        open[slot].removeAll { $0.sequence == seq }
        if open[slot].isEmpty { open.remove(at: place) }
    }

    /// Settles as unanswered every query older than the window (`now == nil`: all of them), oldest first.
    private mutating func expire(now: Timestamp?, emit: (Transaction) -> Void) {
        while expiryHead < expiry.count {
            let (seq, sentSeconds) = expiry[expiryHead]
            guard waiting.contains(seq) else {
                expiryHead += 1
                continue
            }
            if let now, now.seconds - sentSeconds <= configuration.windowSeconds {
                // In its window; but a full table gives up on its oldest (this one) to make room for the next.
                guard waiting.count >= configuration.maxWaiting || waitingBytes > configuration.maxWaitingBytes else { break }
                givenUp += 1
            }
            guard let q = waiting.removeValue(forKey: seq) else { expiryHead += 1; continue }
            waitingBytes -= Self.heldBytes(q)
            close(seq, key: QueryKey(q, client: q.source, server: q.destination))
            for alias in sightingKeys.removeValue(forKey: seq) ?? [] { close(seq, key: alias) }
            expiryHead += 1
            emit(Transaction(sequence: seq, query: q, response: nil))
        }
        expiry.dropConsumed(head: &expiryHead)
    }
}

/// Puts items back in sequence order (0, 1, 2, …): each is held only until every earlier one has come.
/// Hold the cheapest form of what will be written (a rendered CSV row, not the transaction).
///
/// Sequences are dense (every one is emitted once), so the held items sit in a window indexed by their distance from
/// the next one due: no hashing, and the window only spans the oldest item still missing.
public struct InSequence<Item> {
    private var window: [Item?] = []
    private var head = 0
    private var next = 0
    /// Items for sequences already passed (not expected; kept, not lost, and written at the end).
    private var late: [(Int, Item)] = []
    public private(set) var heldCount = 0
    /// What the held items weigh (`weight`), and the most they may: beyond it the earliest missing items stop being
    /// waited for, the held ones go on, and the missing ones are emitted when they come (a hostile capture: one query
    /// nobody answers, then a minute of 64 KiB answers, would otherwise be held whole).
    public private(set) var heldBytes = 0
    private let maxHeldBytes: Int
    private let weight: (Item) -> Int
    /// Sequences no longer waited for, to stay within `maxHeldBytes`: their items came (or will come) after later ones.
    public private(set) var skipped = 0

    public init(maxHeldBytes: Int = .max, weight: @escaping (Item) -> Int = { _ in 0 }) {
        self.maxHeldBytes = maxHeldBytes
        self.weight = weight
    }

    /// Whether `sequence`'s item would be emitted at once (the next one, nothing waiting): then a caller may hand it on
    /// itself, as it is, and tell `passed`.
    public func isNext(_ sequence: Int) -> Bool { sequence == next && head == window.count }

    /// `sequence` (`isNext`) was handed on by the caller.
    public mutating func passed(_ sequence: Int) {
        precondition(isNext(sequence), "not the next in sequence")
        next += 1
    }

    // The batch outputs hold rendered rows: a copy made for them, so that each row does not look up `Item`'s metadata.
    @_specialize(exported: true, where Item == String)
    public mutating func add(_ sequence: Int, _ item: Item, emit: (Item) -> Void) {
        guard sequence >= next else {
            if skipped > 0 {
                emit(item)
                return
            }
            late.append((sequence, item))
            heldCount += 1
            return
        }
        if isNext(sequence) {
            emit(item)
            next += 1
            return
        }
        let i = head + (sequence - next)
        if i >= window.count { window.append(contentsOf: repeatElement(nil, count: i - window.count + 1)) }
        window[i] = item
        heldCount += 1
        heldBytes += weight(item)
        drain(emit: emit)
        while heldBytes > maxHeldBytes, head < window.count {
            // Stop waiting for the earliest missing ones.
            while head < window.count, window[head] == nil {
                head += 1
                next += 1
                skipped += 1
            }
            drain(emit: emit)
        }
        window.dropConsumed(head: &head)
    }

    private mutating func drain(emit: (Item) -> Void) {
        while head < window.count, let following = window[head] {
            window[head] = nil
            head += 1
            next += 1
            heldCount -= 1
            heldBytes -= weight(following)
            emit(following)
        }
    }

    /// Emits whatever is still held, in order (end of input).
    @_specialize(exported: true, where Item == String)
    public mutating func flush(emit: (Item) -> Void) {
        var rest = late
        for i in head..<window.count { if let item = window[i] { rest.append((next + i - head, item)) } }
        rest.sort { $0.0 < $1.0 }
        for (_, item) in rest { emit(item) }
        window.removeAll()
        late.removeAll()
        head = 0
        heldCount = 0
        heldBytes = 0
    }
}
