/// The sends of each query: which sends are attempts of one query (a chain), which were answered, and which first
/// attempts are probable retries of an earlier query.
///
/// Evidence:
/// * attempt: same client address, same DNS id, same question, within `attemptWindow` — any port or transport.
/// * probable retry: same client address and question, a new id, the previous query still unanswered, within
///   `retryWindow`.
///
/// A chain is held until its lookup is final (`takeMembers`). For the probable-retry rule each question's latest first
/// attempt is remembered for `retryWindow`, and at most twice `maxOpenLookups` of them (a flood of new questions: a
/// probable retry is then told only within the newest).
struct Attempts {
    /// One query's attempts: the first one's sequence (`id`, the chain's id), every attempt's, the pair and lookup the
    /// first one joined, and the key it is filed under.
    struct Chain {
        var id: Int
        var key: QueryKey
        var members: InlineList<Int>
        var lastTime: Timestamp
        var pair: Int
        var lookup: Int
    }

    /// A send the attempt rule added to an existing chain.
    struct Attempt {
        /// 2 for the second send, and so on.
        var number: Int
        /// Since the chain's previous attempt.
        var gap: Int64
        var chain: Int
        var pair: Int
        var lookup: Int
    }

    private let attemptWindow: Int64
    private let retryWindow: Int64
    /// First attempts remembered at most for the probable-retry rule.
    private let maxQuestions: Int

    /// Chains by id, and the id of the latest chain of each `QueryKey.attemptKey`.
    private var chains = SequenceMap<Chain>()
    private var chainByKey: [QueryKey: Int] = [:]
    /// Sequences of the answered queries of the chains held.
    private var answered = SequenceSet()
    /// The latest first attempt of each question per client, and whether any attempt of it has been answered.
    private var lastQuestion: [QuestionKey: (sequence: Int, time: Timestamp, answered: Bool)] = [:]
    /// `lastQuestion`'s entries in arrival order (a FIFO from `questionHead`), for forgetting them.
    private var questionOrder: [(key: QuestionKey, time: Timestamp)] = []
    private var questionHead = 0

    init(configuration: Analyzer.Configuration) {
        attemptWindow = configuration.attemptWindow
        retryWindow = configuration.retryWindow
        maxQuestions = 2 * configuration.maxOpenLookups
    }

    /// Adds the send to the chain of its key, if the chain's last attempt is within the attempt window.
    mutating func continueChain(_ key: QueryKey, _ seq: Int, at time: Timestamp) -> Attempt? {
        guard let id = chainByKey[key] else { return nil }
        var attempt: Attempt?
        let window = attemptWindow
        // Edited where it lies (no copy of the member list).
        chains.update(id) { chain in
            let gap = time.nanoseconds(since: chain.lastTime)
            guard gap <= window else { return }
            attempt = Attempt(number: chain.members.count + 1, gap: gap, chain: id, pair: chain.pair, lookup: chain.lookup)
            chain.members.append(seq)
            chain.lastTime = time
        }
        return attempt
    }

    /// A first attempt of `question`: remembered as its latest, and whether it is a probable retry of the one before.
    mutating func firstAttempt(_ seq: Int, of question: QuestionKey, at time: Timestamp) -> Bool {
        var probableRetry = false
        if let previous = lastQuestion.updateValue((seq, time, false), forKey: question), !previous.answered,
           time.nanoseconds(since: previous.time) <= retryWindow
        {
            probableRetry = true
        }
        questionOrder.append((question, time))
        if questionOrder.count - questionHead > maxQuestions { forget(now: time) }
        return probableRetry
    }

    /// Files a new chain under its key; an older chain of the key is forgotten (its members read as its id alone).
    mutating func open(_ chain: Chain) {
        if let old = chainByKey.updateValue(chain.id, forKey: chain.key) { chains[old] = nil }
        chains[chain.id] = chain
    }

    /// A query of the chain `chain` was answered: so was its question, for the probable-retry rule, if this chain is
    /// still the question's latest.
    mutating func answered(_ seq: Int, chain: Int?, client: IPAddress, question: DNSQuestion?) {
        answered.insert(seq)
        if let question {
            let key = QuestionKey(client: client, name: question.name.lowercased, type: question.type)
            if lastQuestion[key]?.sequence == chain { lastQuestion[key]!.answered = true }
        }
    }

    func isAnswered(_ seq: Int) -> Bool { answered.contains(seq) }

    /// The query's lookup is final: its answer is no longer asked about.
    mutating func forgetAnswer(_ seq: Int) { answered.remove(seq) }

    /// The chain's attempts (its id alone once the chain is forgotten).
    func members(_ chainID: Int) -> InlineList<Int> {
        chains.read(chainID) { $0.members } ?? InlineList(CollectionOfOne(chainID))
    }

    func isAnswered(chain chainID: Int) -> Bool {
        members(chainID).contains { answered.contains($0) }
    }

    /// The chain's attempts, as `members` reads them, and the chain forgotten (its lookup is final).
    mutating func takeMembers(_ chainID: Int) -> InlineList<Int> {
        guard let chain = chains.removeValue(forKey: chainID) else { return InlineList(CollectionOfOne(chainID)) }
        // Only the latest chain of a key is held, so the key is this chain's; checked all the same.
        if let i = chainByKey.index(forKey: chain.key), chainByKey.values[i] == chainID { chainByKey.remove(at: i) }
        return chain.members
    }

    /// Forgets first attempts older than the retry window, and the oldest beyond `maxQuestions`. A newer entry for the
    /// same question is left alone.
    mutating func forget(now: Timestamp) {
        while questionHead < questionOrder.count,
              now.nanoseconds(since: questionOrder[questionHead].time) > retryWindow
                || questionOrder.count - questionHead > maxQuestions {
            let (key, time) = questionOrder[questionHead]
            if lastQuestion[key]?.time == time { lastQuestion[key] = nil }
            questionHead += 1
        }
        if questionHead > 4096, questionHead * 2 > questionOrder.count {
            questionOrder.removeFirst(questionHead)
            questionHead = 0
        }
    }
}

/// A client's question without the id: the probable-retry rule's key, and the key under which the first query of a
/// pair waits for its sibling.
struct QuestionKey: Hashable {
    var client: IPAddress
    var name: DNSName
    var type: DNSType

    func _rawHashValue(seed: Int) -> Int {
        FastHash.mix(FastHash.fold(FastHash.fold(client.hashBits, name.fingerprint), UInt64(type.rawValue)), seed: seed)
    }
}
