/// The A and AAAA queries of one search step (getaddrinfo asks both at once), and how they fared together.
///
/// Evidence:
/// * pair: an A and an AAAA first attempt from one client address for one name, the second within `pairWindow`
///   of the first and not yet paired.
/// * its state: `retried` when a query of it had a second attempt (a fan-out copy to another nameserver is not one).
///
/// Any other first attempt is a pair of its own (state `single`). A pair is held until its lookup is final (`finish`);
/// a first query still waiting for its sibling is found by the sibling's `QuestionKey`. The lookups' bound
/// (`maxOpenLookups`) bounds the pairs: each belongs to one open lookup.
struct Pairs {
    struct Pair {
        /// The first attempt's sequence.
        var id: Int
        /// The chain of each query (its first attempt's sequence): one, or two once the sibling came.
        var chains: SequenceList
        /// Whether the two first attempts left from one socket (nil until the sibling came).
        var sameSocket: Bool?
        var firstSocket: FlowKey
        /// The sibling's type while the pair waits for it.
        var waitingType: DNSType?
        var firstTime: Timestamp
        /// The sibling's key in `pending` (an A or AAAA).
        var key: QuestionKey?
        var lookup: Int

        /// The sibling's first attempt arrived: the pair is whole.
        mutating func join(_ seq: Int, sameSocket: Bool) {
            chains.append(seq)
            self.sameSocket = sameSocket
            waitingType = nil
        }
    }

    private let pairWindow: Int64
    private var pairs = SequenceWindow<Pair>()
    /// Pairs waiting for their sibling, by the sibling's key.
    private var pending: [QuestionKey: Int] = [:]

    init(configuration: Analyzer.Configuration) { pairWindow = configuration.pairWindow }

    /// An A or AAAA first attempt whose sibling is waiting for it, within the pair window: the pair is whole. Returns
    /// the pair and its lookup; nil when no pair waits for this one.
    mutating func join(_ seq: Int, client: IPAddress, name: DNSName, type: DNSType, socket: FlowKey,
                       at time: Timestamp) -> (pair: Int, lookup: Int)? {
        guard type == .a || type == .aaaa,
              let pid = pending.removeValue(forKey: QuestionKey(client: client, name: name, type: type))
        else { return nil }
        // Read and joined where it lies (one find; a read copied the pair out, its key and lists retained).
        var lookup: Int?
        let window = pairWindow
        pairs.update(pid) { pair in
            guard time.nanoseconds(since: pair.firstTime) <= window, pair.waitingType == type else { return }
            pair.join(seq, sameSocket: pair.firstSocket == socket)
            lookup = pair.lookup
        }
        return lookup.map { (pid, $0) }
    }

    /// A first attempt no waiting pair took: a pair of its own, waiting for its sibling if it is an A or AAAA.
    mutating func open(_ seq: Int, client: IPAddress, name: DNSName, type: DNSType, socket: FlowKey,
                       at time: Timestamp, lookup: Int) {
        let waitFor: DNSType? = type == .a ? .aaaa : type == .aaaa ? .a : nil
        let key = waitFor.map { QuestionKey(client: client, name: name, type: $0) }
        if let key { pending[key] = seq }
        // Made whole and put in the table as it is (a pair made, then changed, was copied into the table).
        pairs.updateValue(Pair(id: seq, chains: SequenceList(seq), sameSocket: nil, firstSocket: socket,
                               waitingType: waitFor, firstTime: time, key: key, lookup: lookup), forKey: seq)
    }

    /// Whether the pair is whole (not waiting for a sibling) and every chain of it has an answer (a lost sibling could
    /// still be re-sent): the last step of a lookup with a positive answer is then over.
    /// (The pair lent, and its chains read out of it: a call that changes a table, made in the lent closure, had the
    /// whole pair copied out first.)
    mutating func isAnswered(_ pid: Int, attempts: inout Attempts) -> Bool {
        guard let chains = pairs.lend(pid, { $0.waitingType == nil ? $0.chains : nil }) ?? nil else { return false }
        return chains.allSatisfy { attempts.isAnswered(chain: $0) }
    }

    /// A pair's state as far as its packets show it now (`finish` decides it): `retried` once either of its queries
    /// was re-sent, `ok` once both were answered at once; nil while nothing is proven.
    func provisionalState(_ pid: Int?, attempts: Attempts) -> Analysis.PairState? {
        guard let pid, let chains = pairs.read(pid, { $0.chains }), chains.count == 2 else { return nil }
        var answeredChains = 0
        for c in chains {
            if attempts.attemptCount(c) > 1 { return .retried }
            if attempts.members(c).contains(where: { attempts.isAnswered($0) }) { answeredChains += 1 }
        }
        return answeredChains == 2 ? .ok : nil
    }

    /// The pair's lookup is final: its state from its chains' outcomes, and whether it left from one socket. The pair
    /// and its chains are forgotten.
    mutating func finish(_ pid: Int, forgetting attempts: inout Attempts) -> (state: Analysis.PairState, sameSocket: Bool?)? {
        guard let pair = pairs.removeValue(forKey: pid) else { return nil }
        // Still filed as waiting only if its sibling never came (`join` takes a whole pair's key out as it joins it).
        if pair.waitingType != nil, let key = pair.key, let i = pending.index(forKey: key), pending.values[i] == pid {
            pending.remove(at: i)
        }
        var answeredChains = 0
        var resent = false
        // Each chain read once and forgotten (the two chains of a pair have different keys, so forgetting one does
        // not change what the other reads).
        for c in pair.chains {
            let (members, tries) = attempts.takeChain(c)
            if members.contains(where: { attempts.isAnswered($0) }) { answeredChains += 1 }
            if tries > 1 { resent = true }
        }
        guard pair.chains.count == 2 else { return (.single, pair.sameSocket) }
        switch answeredChains {
        case 2: return (resent ? .retried : .ok, pair.sameSocket)
        case 1: return (.partial, pair.sameSocket)
        default: return (.failed, pair.sameSocket)
        }
    }
}
