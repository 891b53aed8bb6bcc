/// Flows: the 5-tuples (transport, client, server) queries and responses crossed, each with an id and its counts.
///
/// Evidence:
/// * flow: the messages of one 5-tuple (a response's endpoints swapped), from its first until it has been idle for
///   `horizon` (a resolver opens a new socket per search step).
///
/// A 5-tuple's id and when it was last active are marked (`FlowMarks`) while it is active; its counts
/// (`FlowStats`) are kept only with `keepsFinishedFlows`, and handed on in `finished` once it ends. At most `maxFlows`
/// are held (a flood from random ports opens one per query): beyond it the longest idle end early.
struct FlowTable {
    private let horizon: Int64
    private let maxFlows: Int
    private let tracksFlows: Bool
    private let keepsFinishedFlows: Bool
    private let exactLatencies: Bool
    /// The active 5-tuples' ids and last activity (every socket of the last minute: hundreds of thousands on a busy
    /// capture, so the counts are kept apart).
    private var marks = FlowMarks()
    /// Counts by flow id, for the flows in `marks`, when finished flows are kept.
    private(set) var stats = SequenceWindow<FlowStats>()
    /// Flows that ended, in the order they ended, until taken.
    var finished: [FlowStats] = []
    private var lastID = 0

    init(configuration: Analyzer.Configuration) {
        horizon = configuration.horizon
        maxFlows = configuration.maxFlows
        tracksFlows = configuration.tracksFlows
        keepsFinishedFlows = configuration.keepsFinishedFlows
        exactLatencies = configuration.exactFlowLatencies
    }

    /// The flow of a message on `key` at `time`: opened if new, its last activity moved on; its id. Nil when flows
    /// are not tracked.
    mutating func sighted(_ key: FlowKey, at time: Timestamp) -> Int? {
        guard tracksFlows else { return nil }
        if let i = marks.find(key) {
            marks[i].lastSeen = max(marks[i].lastSeen, time.totalNanoseconds)
            if keepsFinishedFlows { count(marks[i].id) { $0.lastSeen = max($0.lastSeen, time) } }
            return marks[i].id
        }
        if marks.count >= maxFlows { endIdlest(now: time.totalNanoseconds) }
        lastID += 1
        _ = marks.add(key, id: lastID, lastSeen: time.totalNanoseconds)
        if keepsFinishedFlows {
            stats.updateValue(FlowStats(id: lastID, transport: key.transport, client: key.client, server: key.server,
                                        firstSeen: time, lastSeen: time), forKey: lastID)
        }
        return lastID
    }

    /// Counts something for a flow (when its counts are kept).
    mutating func count(_ flow: Int?, _ change: (inout FlowStats) -> Void) {
        guard keepsFinishedFlows, let flow else { return }
        stats.update(flow, change)
    }

    /// A query on `key` was answered by `response` after `latency`.
    mutating func answered(_ key: FlowKey, response: Timestamp, latency: Int64?) {
        guard let i = marks.find(key) else { return }
        marks[i].lastSeen = max(marks[i].lastSeen, response.totalNanoseconds)
        let exact = exactLatencies
        count(marks[i].id) {
            $0.answered += 1
            $0.lastSeen = max($0.lastSeen, response)
            if let latency { $0.addLatency(latency, exact: exact) }
        }
    }

    /// A query on `key` settled unanswered.
    mutating func unanswered(_ key: FlowKey) {
        guard let i = marks.find(key) else { return }
        count(marks[i].id) { $0.unanswered += 1 }
    }

    /// Ends the flows idle for the horizon at `now`.
    mutating func endIdle(now: Timestamp) {
        end(idleSince: now.totalNanoseconds - horizon)
    }

    /// Over `maxFlows`: the flows idle longest end (as after the horizon), down to three quarters of the limit — idle
    /// half the horizon, then a quarter, … then any not seen at `now` itself.
    private mutating func endIdlest(now: Int64) {
        var idle = horizon / 2
        while marks.count > maxFlows * 3 / 4 {
            end(idleSince: now - idle)
            if idle == 0 { break }
            idle /= 2
        }
    }

    private mutating func end(idleSince cutoff: Int64) {
        marks.remove(where: { $0.lastSeen < cutoff }) { f in
            if let s = stats.removeValue(forKey: f.id) { finished.append(s) }
        }
    }

    /// End of input: every flow ends, in id order.
    mutating func finishAll() {
        finished += stats.keys.sorted().compactMap { stats[$0] }
        stats = SequenceWindow()
        marks.removeAll()
    }
}

/// A 5-tuple as the flows key it: the client's end and the server's.
struct FlowKey: Hashable {
    var transport: TransportProtocol
    var client: Endpoint
    var server: Endpoint

    func _rawHashValue(seed: Int) -> Int {
        FastHash.mix(FastHash.flow(transport, client, server), seed: seed)
    }
}
