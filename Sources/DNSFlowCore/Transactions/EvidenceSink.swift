/// What the pipeline proves, as soon as it proves it: every consumer of dnsflow's analysis — the CSV, the line
/// output, the flows CSV, the summary, the interface — is one of these, fed by the one driver the same way whether the
/// packets come from files, standard input, an interface or a replay.
///
/// The events, in the order a transaction meets them:
/// * `querySeen`: a query entered matching, with what its arrival proved (a re-send's attempt and gap, its chain,
///   pair, lookup and flow);
/// * `matched`: a query's fate is known — answered, or lost (re-sent under the same key, or its window passed) — with
///   the analysis so far; also each orphan response and each message whose question does not decode;
/// * `settled`: the transaction is final, with its lookup's whole analysis (findings included), out of sequence
///   order (`InSequence` restores it).
/// Beside them: `packetRead` for each packet (and whether it carried DNS), `flowsFinished` for flows that ended (idle
/// for the horizon, or at the end of input), `clock` when time moved on without a packet (a live capture, a replay).
public protocol EvidenceSink {
    mutating func packetRead(_ packet: CapturedPacket, carriesDNS: Bool)
    mutating func querySeen(_ sequence: Int, _ query: ObservedMessage, _ analysis: Analysis)
    mutating func matched(_ t: Transaction)
    mutating func settled(_ t: Transaction)
    mutating func flowsFinished(_ flows: [FlowStats])
    mutating func clock(_ now: Timestamp)
}

extension EvidenceSink {
    public mutating func packetRead(_ packet: CapturedPacket, carriesDNS: Bool) {}
    public mutating func querySeen(_ sequence: Int, _ query: ObservedMessage, _ analysis: Analysis) {}
    public mutating func matched(_ t: Transaction) {}
    public mutating func settled(_ t: Transaction) {}
    public mutating func flowsFinished(_ flows: [FlowStats]) {}
    public mutating func clock(_ now: Timestamp) {}
}

extension Pipeline {
    /// One packet the first stage decoded, through matching and the analysis, into `sink`.
    @inlinable
    public mutating func consume<S: EvidenceSink>(_ decoded: DecodedPacket, into sink: inout S) {
        var carriesDNS = false
        consume(decoded, onMessage: { _ in carriesDNS = true }, onQuery: { sink.querySeen($0, $1, $2) },
                onMatched: { sink.matched($0) }, onTransaction: { sink.settled($0) })
        sink.packetRead(decoded.packet, carriesDNS: carriesDNS)
        handOnFinishedFlows(into: &sink)
    }

    /// Time moved on to `now` without a packet: what that proves (windows passed, lookups complete), into `sink`.
    @inlinable
    public mutating func tick<S: EvidenceSink>(now: Timestamp, into sink: inout S) {
        tick(now: now, onMatched: { sink.matched($0) }, onTransaction: { sink.settled($0) })
        sink.clock(now)
        handOnFinishedFlows(into: &sink)
    }

    /// End of input: everything still open settles, into `sink`.
    @inlinable
    public mutating func finish<S: EvidenceSink>(into sink: inout S) {
        finish(onQuery: { sink.querySeen($0, $1, $2) }, onMatched: { sink.matched($0) }, onTransaction: { sink.settled($0) })
        handOnFinishedFlows(into: &sink)
    }

    @inlinable
    mutating func handOnFinishedFlows<S: EvidenceSink>(into sink: inout S) {
        // Taken by a mutating call, which is handed the pipeline where it lies: a getter asked first (for every packet)
        // was handed a copy of all of it.
        let finished = takeFinishedFlows()
        if !finished.isEmpty { sink.flowsFinished(finished) }
    }
}
