/// Pairs queries with responses, in arrival order, in bounded memory.
///
/// A response answers the most recent still-unanswered query with the same key sent at or before it,
/// within `window`: when a resolver re-sends on one socket with one id, the response goes to the latest
/// send and the earlier ones stay unanswered. A query nothing answers within the window is unanswered; a
/// response with no query is an orphan. Transactions come out in order of their first message.
public struct TransactionMatcher {
    struct Key: Hashable {
        var transport: TransportProtocol
        var client: Endpoint
        var server: Endpoint
        var id: UInt16
        var name: DNSName
        var type: DNSType
        var qclass: DNSClass
    }

    public struct Configuration: Sendable {
        /// How long a query waits for its response, in capture time.
        public var windowSeconds: Int64 = 60
        /// Emit each transaction as soon as it is settled instead of in order of first message (live text).
        public var emitsInOrder = true
        public init() {}
    }

    public let configuration: Configuration
    private var slots: [Int: Transaction] = [:]
    private var open: [Key: [Int]] = [:]
    private var emitted: Set<Int> = []
    private var nextSequence = 0
    private var head = 0

    public init(configuration: Configuration = .init()) { self.configuration = configuration }

    /// Transactions held (open queries and settled ones waiting for their turn).
    public var heldCount: Int { slots.count }

    public mutating func add(_ observed: ObservedMessage, emit: (Transaction) -> Void) {
        let message = observed.message
        if !message.isResponse {
            let key = Key(observed, client: observed.source, server: observed.destination)
            let seq = nextSequence
            nextSequence += 1
            slots[seq] = Transaction(sequence: seq, query: observed, response: nil)
            open[key, default: []].append(seq)
        } else {
            let key = Key(observed, client: observed.destination, server: observed.source)
            if let seq = matchingQuery(for: key, at: observed.timestamp) {
                slots[seq]!.response = observed
                open[key]!.removeAll { $0 == seq }
                if open[key]!.isEmpty { open[key] = nil }
                if !configuration.emitsInOrder {
                    emit(slots[seq]!)
                    emitted.insert(seq)
                }
            } else {
                let seq = nextSequence
                nextSequence += 1
                slots[seq] = Transaction(sequence: seq, query: nil, response: observed)
                if !configuration.emitsInOrder {
                    emit(slots[seq]!)
                    emitted.insert(seq)
                }
            }
        }
        release(now: observed.timestamp, emit: emit)
    }

    /// A message that cannot be matched (its question did not decode) keeps its place in the output.
    public mutating func addUnmatchable(_ observed: ObservedMessage, emit: (Transaction) -> Void) {
        let seq = nextSequence
        nextSequence += 1
        var t = observed.message.isResponse
            ? Transaction(sequence: seq, query: nil, response: observed)
            : Transaction(sequence: seq, query: observed, response: nil)
        t.isUnmatchable = true
        slots[seq] = t
        if !configuration.emitsInOrder {
            emit(t)
            emitted.insert(seq)
        }
        release(now: observed.timestamp, emit: emit)
    }

    /// End of input: every open query is unanswered.
    public mutating func finish(emit: (Transaction) -> Void) {
        release(now: nil, emit: emit)
    }

    /// The most recent open query for `key` sent at or before `time`, within the window.
    private func matchingQuery(for key: Key, at time: Timestamp) -> Int? {
        guard let candidates = open[key] else { return nil }
        for seq in candidates.reversed() {
            guard let q = slots[seq]?.query else { continue }
            if q.timestamp <= time {
                return time.seconds - q.timestamp.seconds <= configuration.windowSeconds ? seq : nil
            }
        }
        return nil
    }

    /// Emits settled transactions from the head; an open query at the head settles as unanswered once the
    /// window has passed (`now == nil`: at once).
    private mutating func release(now: Timestamp?, emit: (Transaction) -> Void) {
        while head < nextSequence {
            guard let t = slots[head] else {
                head += 1
                continue
            }
            if t.status == .unanswered {
                if let now, now.seconds - t.time.seconds <= configuration.windowSeconds { break }
                if let q = t.query {
                    let key = Key(q, client: q.source, server: q.destination)
                    open[key]?.removeAll { $0 == head }
                    if open[key]?.isEmpty == true { open[key] = nil }
                }
            }
            if emitted.remove(head) == nil { emit(t) }
            slots[head] = nil
            head += 1
        }
    }
}

extension TransactionMatcher.Key {
    init(_ observed: ObservedMessage, client: Endpoint, server: Endpoint) {
        let q = observed.message.question
        self.init(
            transport: observed.transport, client: client, server: server, id: observed.message.id,
            name: q?.name.lowercased ?? .root, type: q?.type ?? DNSType(0), qclass: q?.qclass ?? DNSClass(0))
    }
}
