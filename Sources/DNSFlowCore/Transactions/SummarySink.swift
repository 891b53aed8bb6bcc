/// `--summary`'s per-transaction counts: re-sends, pair states, findings with an example each, lookups and how long
/// they waited, answered and unanswered, latencies. Fed every final transaction, as every consumer is; the pipeline
/// keeps one for its `summary`, beside the counts only it sees (packets, messages, malformed ones).
public struct SummarySink: EvidenceSink {
    public var summary = Summary()
    /// Names for addresses (`--names`), used in the findings' examples.
    let names: AddressNames

    public init(names: AddressNames = AddressNames()) { self.names = names }

    private static let lostBetweenPoints = Finding.index(of: Finding.lostBetweenPoints.id)!

    public mutating func settled(_ t: Transaction) {
        let a = t.analysis
        if t.hasQuery, !t.isUnmatchable {
            if a.isResend { summary.resends += 1 }
            if a.link == .question { summary.resendsWithNewID += 1 }
            if a.link == .fanOut { summary.fanOutCopies += 1 }
            if t.status == .unanswered, let point = a.lastSeen, a.findingCodes.contains(index: SummarySink.lostBetweenPoints) {
                summary.lostLastSeen[point.label, default: 0] += 1
            }
            if a.isProbableRetry { summary.probableRetries += 1 }
            // A pair is counted on its first member's first attempt.
            if a.attempt == 1, let state = a.pairState, a.pair == t.sequence { summary.pairStates[state, default: 0] += 1 }
            a.findingCodes.forEachIndex { i in
                if summary.findingCounts[i] == nil {
                    summary.findingCounts[i] = Summary.FindingCount(finding: Finding.all[i], count: 0, rows: 0, example: "")
                }
                if t.sequence < summary.findingCounts[i]!.exampleSequence {
                    let q = t.question.map { "\($0.name.presentation(trailingDot: false)) \($0.type)" } ?? "?"
                    summary.findingCounts[i]!.example = "\(q) at \(t.time.iso8601) (\(names.label(t.client)) > \(names.label(t.server)))"
                    summary.findingCounts[i]!.exampleSequence = t.sequence
                }
                summary.findingCounts[i]!.rows += 1
                if summary.lastLookupByFinding[i] != a.lookup {
                    summary.findingCounts[i]!.count += 1
                    summary.lastLookupByFinding[i] = a.lookup
                }
            }
            if a.lookup == t.sequence, let total = a.lookupNanoseconds {
                summary.lookups += 1
                if total >= 1_000_000_000 { summary.slowLookups += 1 }
                summary.slowestLookupNanoseconds = max(summary.slowestLookupNanoseconds, total)
            }
        }
        switch t.status {
        case .answered:
            summary.answered += 1
            if let l = t.latencyNanoseconds { summary.addLatency(l, server: t.server.address) }
            summary.latencyDigits = max(summary.latencyDigits, t.precisionDigits)
        case .unanswered: summary.unanswered += 1
        case .orphanResponse: summary.orphanResponses += 1
        case .malformed:
            summary.unmatchable += 1
            if t.hasQuery { summary.unmatchableQueries += 1 }
        }
    }
}
