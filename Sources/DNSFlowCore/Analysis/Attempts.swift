/// The sends of each query: which sends are attempts of one query (a chain), which were answered, and which first
/// attempts are probable retries of an earlier query.
///
/// Evidence:
/// * attempt: same client address, same DNS id, same question, within `attemptWindow` — any port or transport
///   (linked by `id`). The same send to another nameserver within `fanOutWindow` of the attempt's first send is a copy
///   of that attempt (musl asks every nameserver at once: `fanOut`), not a re-send.
/// * re-send with a new id: same client address and question, the chain's sends all unanswered, at least
///   `resendFloor` (a timeout) after its last send and within `retryWindow` — from any socket (Go's resolver re-sends
///   the lost query from a new socket with a new id: linked by `question`).
/// * probable retry: same client address and question, a new id, the previous query still unanswered, within
///   `retryWindow` but sooner than a timeout: a query of its own, flagged.
///
/// A chain is held until its lookup is final (`takeChain`). For the probable-retry rule each question's latest first
/// attempt is remembered for `retryWindow`, and at most twice `maxOpenLookups` of them (a flood of new questions: a
/// probable retry is then told only within the newest).
struct Attempts {
    /// One query's attempts: the first one's sequence (`id`, the chain's id), every attempt's, the pair and lookup the
    /// first one joined, and the key it is filed under.
    struct Chain {
        var id: Int
        var key: AttemptKey
        var members: SequenceList
        var lastTime: Timestamp
        var pair: Int
        var lookup: Int
        /// The latest attempt's number (fan-out copies share it), when it began and the nameserver of its last send.
        var attemptNumber = 1
        var attemptStart: Timestamp
        var lastServer: IPAddress
        /// Keys of re-sends with a new id linked to this chain (filed under them too; rare).
        var linkedKeys: [AttemptKey] = []

        init(id: Int, key: AttemptKey, members: SequenceList, lastTime: Timestamp, pair: Int, lookup: Int, server: IPAddress) {
            self.id = id
            self.key = key
            self.members = members
            self.lastTime = lastTime
            self.pair = pair
            self.lookup = lookup
            attemptStart = lastTime
            lastServer = server
        }

        /// A send joins the chain: a copy of the current attempt to another nameserver, or the next attempt.
        mutating func add(_ seq: Int, server: IPAddress, at time: Timestamp, fanOutWindow: Int64, link: Analysis.AttemptLink) -> Attempt {
            defer {
                members.append(seq)
                lastTime = time
                lastServer = server
            }
            if link == .id, server != lastServer, time.nanoseconds(since: attemptStart) <= fanOutWindow {
                return Attempt(number: attemptNumber, gap: nil, link: .fanOut, chain: id, pair: pair, lookup: lookup)
            }
            attemptNumber += 1
            attemptStart = time
            return Attempt(number: attemptNumber, gap: time.nanoseconds(since: lastTime), link: link, chain: id, pair: pair, lookup: lookup)
        }
    }

    /// A send the attempt rule added to an existing chain.
    struct Attempt {
        /// 2 for the second send, and so on (a fan-out copy has its attempt's number).
        var number: Int
        /// Since the chain's previous send (nil for a fan-out copy: not a re-send).
        var gap: Int64?
        /// The evidence that put it in the chain.
        var link: Analysis.AttemptLink
        var chain: Int
        var pair: Int
        var lookup: Int
    }

    private let attemptWindow: Int64
    private let retryWindow: Int64
    private let fanOutWindow: Int64
    private let resendFloor: Int64
    /// First attempts remembered at most for the probable-retry rule.
    private let maxQuestions: Int

    /// Chains by id, and the id of the latest chain of each `AttemptKey`: filed under the chain's own key, or
    /// (a re-send with a new id linked to it, rare) under the re-send's key. A key is in one of the two at a time. A
    /// chain taken leaves its id in its key's slot, read as absent (the chain is gone), until `open` drops such slots.
    private var chains = SequenceWindow<Chain>()
    private var chainByKey = HashFiled<AttemptKey>()
    private var chainByLinkedKey: [AttemptKey: Int] = [:]
    /// Sequences of the answered queries of the chains held.
    private var answered = SequenceWindow<Void>()
    /// The first attempts of the last `retryWindow` (at most `maxQuestions` of them), in arrival order, each question's
    /// latest found by its client and question: when it was sent and whether any attempt of it has been answered.
    private var questions = LatestByKey<QuestionKey, Asked>()
    private struct Asked {
        var sequence: Int
        var time: Timestamp
        var answered: Bool
    }

    init(configuration: Analyzer.Configuration) {
        attemptWindow = configuration.attemptWindow
        retryWindow = configuration.retryWindow
        fanOutWindow = configuration.fanOutWindow
        resendFloor = configuration.resendFloor
        maxQuestions = 2 * configuration.maxOpenLookups
    }

    /// Adds the send to the chain of its key, if the chain's last send is within the attempt window.
    mutating func continueChain(_ key: AttemptKey, _ seq: Int, server: IPAddress, at time: Timestamp) -> Attempt? {
        guard let id = chainByKey.find(key, holds: { Self.holds($0, key, in: chains) })
                ?? (chainByLinkedKey.isEmpty ? nil : chainByLinkedKey[key])
        else { return nil }
        var attempt: Attempt?
        let window = attemptWindow, fanOut = fanOutWindow
        // Edited where it lies (no copy of the member list).
        chains.update(id) { chain in
            guard time.nanoseconds(since: chain.lastTime) <= window else { return }
            attempt = chain.add(seq, server: server, at: time, fanOutWindow: fanOut, link: .id)
        }
        return attempt
    }

    /// What a send that continues no chain of its key is (`sent`).
    enum Send {
        /// The next attempt of its question's latest chain: a re-send with a new id.
        case next(Attempt)
        /// A first attempt, now its question's latest: whether it is a probable retry of the one before, and the lookup
        /// in which the one before was answered (asked again after an answer: a new walk).
        case first(probableRetry: Bool, answeredIn: Int?)
    }

    /// A send whose key continues no chain: a re-send with a new id when its question's latest chain is still
    /// unanswered, a timeout or more after that chain's last send and within the retry window (the chain's next attempt,
    /// filed under this key too); otherwise a first attempt, remembered as its question's latest.
    mutating func sent(_ key: AttemptKey, _ seq: Int, _ question: QuestionKey, server: IPAddress, at time: Timestamp) -> Send {
        // One find of the question: where this send is filed if it is a first attempt (almost every one is).
        let place = questions.find(question)
        var probableRetry = false, answeredIn: Int?
        if let previous = questions.value(at: place) {
            if !previous.answered, let attempt = linkResend(key, seq, to: previous.sequence, server: server, at: time) {
                // The question's latest stays the one before.
                return .next(attempt)
            }
            if !previous.answered {
                probableRetry = time.nanoseconds(since: previous.time) <= retryWindow
            } else {
                answeredIn = chains.read(previous.sequence) { $0.lookup }
            }
        }
        questions.append(question, Asked(sequence: seq, time: time, answered: false), at: place)
        if questions.count > maxQuestions { forget(now: time) }
        return .first(probableRetry: probableRetry, answeredIn: answeredIn)
    }

    /// Adds the send to chain `chainID` as its next attempt if it came a timeout or more after the chain's last send and
    /// within the retry window, and files the chain under the send's key too.
    private mutating func linkResend(_ key: AttemptKey, _ seq: Int, to chainID: Int, server: IPAddress, at time: Timestamp) -> Attempt? {
        var attempt: Attempt?
        let floor = resendFloor, window = retryWindow, fanOut = fanOutWindow
        chains.update(chainID) { chain in
            let gap = time.nanoseconds(since: chain.lastTime)
            guard gap >= floor, gap <= window else { return }
            attempt = chain.add(seq, server: server, at: time, fanOutWindow: fanOut, link: .question)
            chain.linkedKeys.append(key)
        }
        if attempt != nil {
            if let own = chainByKey.find(key, holds: { Self.holds($0, key, in: chains) }) { chainByKey.unfile(key, own) }
            chainByLinkedKey[key] = chainID
        }
        return attempt
    }

    /// Files a new chain under its key; an older chain of the key is forgotten (its members read as its id alone).
    /// Takes the chain over (`consuming`): moved into the table, not copied.
    mutating func open(_ chain: consuming Chain) {
        let id = chain.id
        let old = file(chain.key, id) ?? (chainByLinkedKey.isEmpty ? nil : chainByLinkedKey.removeValue(forKey: chain.key))
        if let old, old != id, let forgotten = chains.removeValue(forKey: old) { unfile(forgotten) }
        chains.updateValue(chain, forKey: id)
        // The slots of the chains taken (`unfile`) dropped once they are as many as the chains held: the table stays
        // within about twice the chains held, however many come in a second of capture time.
        if chainByKey.count > 2 * chains.count + 1024 {
            let chains = self.chains  // read by the check while the table changes (released on return)
            chainByKey.dropGone { !chains.contains($0) }
        }
    }

    /// A query of the chain `chain` was answered: so was its question, for the probable-retry rule, if this chain is
    /// still the question's latest.
    mutating func answered(_ seq: Int, chain: Int?, client: IPAddress, question: DNSQuestion?) {
        answered.updateValue((), forKey: seq)
        if let question {
            let key = QuestionKey(client: client, name: question.name.lowercased, type: question.type)
            // (One find: the entry changed where it lies.)
            questions.update(at: questions.find(key)) { if $0.sequence == chain { $0.answered = true } }
        }
    }

    func isAnswered(_ seq: Int) -> Bool { answered.contains(seq) }

    /// The query's lookup is final: its answer is no longer asked about.
    mutating func forgetAnswer(_ seq: Int) { answered.removeValue(forKey: seq) }

    /// The chain's attempts (its id alone once the chain is forgotten).
    func members(_ chainID: Int) -> SequenceList {
        chains.read(chainID) { $0.members } ?? SequenceList(chainID)
    }

    /// Whether any attempt of the chain was answered. The chain lent (`read` takes a reference to the table, counted
    /// and dropped): asked for every open lookup's last step, at every answer and every second.
    mutating func isAnswered(chain chainID: Int) -> Bool {
        let members = chains.lend(chainID) { $0.members } ?? SequenceList(chainID)
        return members.contains { answered.contains($0) }
    }

    /// How many attempts the chain has had (fan-out copies not counted): more than one, it was re-sent.
    func attemptCount(_ chainID: Int) -> Int { chains.read(chainID) { $0.attemptNumber } ?? 1 }

    /// The chain's attempts, as `members` reads them, and how many attempts they were; the chain forgotten (its lookup
    /// is final).
    mutating func takeChain(_ chainID: Int) -> (members: SequenceList, attempts: Int) {
        guard let chain = chains.removeValue(forKey: chainID) else { return (SequenceList(chainID), 1) }
        unfile(chain)
        return (chain.members, chain.attemptNumber)
    }

    /// Unfiles a chain no longer held from its keys, where it is still the chain filed (a key re-filed since is left).
    /// Its own key's slot is left to read as absent, dropped with the others by `open` once they are many.
    private mutating func unfile(_ chain: Chain) {
        chainByKey.unfileLater(chain.key, chain.id)
        for key in chain.linkedKeys {
            if let i = chainByLinkedKey.index(forKey: key), chainByLinkedKey.values[i] == chain.id { chainByLinkedKey.remove(at: i) }
        }
    }

    /// Whether chain `id` is held and its own key is `key`.
    private static func holds(_ id: Int, _ key: AttemptKey, in chains: SequenceWindow<Chain>) -> Bool {
        chains.read(id) { $0.key == key } ?? false
    }

    /// Files chain `id` under `key`; returns the chain filed under it before.
    private mutating func file(_ key: AttemptKey, _ id: Int) -> Int? {
        let chains = self.chains  // read by the check while the table changes (released on return)
        return chainByKey.file(key, id, holds: { Self.holds($0, key, in: chains) }, isGone: { !chains.contains($0) })
    }

    /// Brings the question's entry into the caches ahead of a query or an answer of it (`sent`, `answered`). (Mutating
    /// only to be read where it lies: called on a stored property, a non-mutating method had its value copied first.)
    mutating func prefetchQuestion(client: IPAddress, fingerprint: UInt64, type: DNSType) {
        questions.prefetchBucket { QuestionKey.hash(client: client, fingerprint: fingerprint, type: type, seed: $0) }
    }

    /// Forgets first attempts older than the retry window, and the oldest beyond `maxQuestions` (a question's latest
    /// forgotten, the question reads as never asked).
    mutating func forget(now: Timestamp) {
        let window = retryWindow
        questions.forgetOldest(beyond: maxQuestions) { now.nanoseconds(since: $0.time) > window }
    }
}

/// A client's question without the id: the probable-retry rule's key, and the key under which the first query of a
/// pair waits for its sibling.
struct QuestionKey: Hashable {
    var client: IPAddress
    var name: DNSName
    var type: DNSType

    func _rawHashValue(seed: Int) -> Int { QuestionKey.hash(client: client, fingerprint: name.fingerprint, type: type, seed: seed) }

    /// The hash of a key made of these (the name's fingerprint), without the key.
    static func hash(client: IPAddress, fingerprint: UInt64, type: DNSType, seed: Int) -> Int {
        FastHash.mix(FastHash.fold(FastHash.fold(client.hashBits, fingerprint), UInt64(type.rawValue)), seed: seed)
    }
}

/// What the attempt rule compares of a send: its client's address, its DNS id and its question (any port, transport
/// or server). Two sends the rule calls attempts of one query have equal keys.
struct AttemptKey: Hashable {
    var client: IPAddress
    var id: UInt16
    var question: QueryKey.Question

    /// Every field equal; the cheap ones compared first (most keys a probe meets differ there).
    static func == (a: AttemptKey, b: AttemptKey) -> Bool {
        a.id == b.id && a.question.type == b.question.type && a.question.qclass == b.question.qclass
            && a.client == b.client && a.question.name == b.question.name
    }

    /// One word from every field (`FastHash`), finished with the table's seed.
    func _rawHashValue(seed: Int) -> Int {
        let small = UInt64(id) << 32 | UInt64(question.type.rawValue) << 16 | UInt64(question.qclass.rawValue)
        return FastHash.mix(FastHash.fold(FastHash.fold(client.hashBits, question.name.fingerprint), small), seed: seed)
    }
}
