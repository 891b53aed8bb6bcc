import DNSFlowCapture
import DNSFlowCore
import Foundation
import Testing

/// The pipeline hands on evidence when a packet (or the clock) proves it, not when a window closes: the lab's 5 s race
/// (A answered, AAAA lost, both re-sent 5 s later) fed packet by packet, as a live capture would be.
@Suite("Evidence as it is proven")
struct LiveEvidenceTests {
    /// One event a packet (or a tick) produced: which packet, what kind, the row it is about.
    struct Event: Equatable {
        var afterPacket: Int
        var kind: String
        var sequence: Int
        var detail: String
    }

    func feed(_ path: String, tickAfter: Int64?, pairStates: Bool = false) throws -> (events: [Event], packets: Int) {
        var configuration = Pipeline.Configuration()
        configuration.provisionalPairStates = pairStates
        var pipeline = Pipeline(configuration: configuration)
        let handle = try PcapHandle.openFile(fixturesDirectory.appendingPathComponent(path).path, input: 0)
        var events: [Event] = []
        var n = 0
        var last = Timestamp(seconds: 0, nanoseconds: 0)
        let matched: (Transaction) -> Void = { t in
            let pair = t.analysis.pairState.map { " pair \($0.rawValue)" } ?? ""
            events.append(Event(afterPacket: n, kind: "matched", sequence: t.sequence, detail: "\(t.status.rawValue) attempt \(t.analysis.attempt)" + pair))
        }
        let final: (Transaction) -> Void = { t in
            events.append(Event(afterPacket: n, kind: "final", sequence: t.sequence, detail: t.analysis.findings.joined(separator: ",")))
        }
        let source = MergedSource([handle])
        while let p = source.next() {
            n += 1
            last = p.timestamp
            pipeline.process(p, onQuery: { seq, _, a in
                events.append(Event(afterPacket: n, kind: "query", sequence: seq, detail: "attempt \(a.attempt)" + (a.pairState.map { " pair \($0.rawValue)" } ?? "")))
            }, onMatched: matched, onTransaction: final)
        }
        if let tickAfter { pipeline.tick(now: last.addingNanoseconds(last.totalNanoseconds + tickAfter), onMatched: matched, onTransaction: final) }
        return (events, n)
    }

    @Test func aResendLinksAndSettlesWhatItProves() throws {
        let (events, packets) = try feed("lab/race-5s/pod.pcap", tickAfter: 100_000_000)
        #expect(packets == 7)
        // Packets: 1 A, 2 its answer, 3 AAAA (lost), 4 A re-sent, 5 its answer, 6 AAAA re-sent, 7 its answer.
        let resend = try #require(events.first { $0.kind == "query" && $0.detail == "attempt 2" && $0.sequence == 3 })
        #expect(resend.afterPacket == 6, "the AAAA re-send is linked to its original as it arrives")
        // The lost AAAA is settled unanswered by the re-send's packet, not 60 s later.
        #expect(events.contains(Event(afterPacket: 6, kind: "matched", sequence: 1, detail: "unanswered attempt 1")))
        // The lookup completes without another packet, on the clock: every row final with its finding, 0.1 s after the
        // last answer.
        let finals = events.filter { $0.kind == "final" }
        #expect(finals.count == 4)
        #expect(finals.allSatisfy { $0.afterPacket == 7 && $0.detail.contains("conntrack-race") }, "\(finals)")
        // Without the tick, the rows wait for more traffic (or the end of input).
        let (untick, _) = try feed("lab/race-5s/pod.pcap", tickAfter: nil)
        #expect(untick.filter { $0.kind == "final" }.isEmpty)
    }

    /// For the interface, pending rows carry their pair's state as far as the packets prove it: re-sent as soon as the
    /// re-send arrives, on the re-send and on the original it made unanswerable.
    @Test func aPairIsSeenReSentAsTheReSendArrives() throws {
        let (events, _) = try feed("lab/race-5s/pod.pcap", tickAfter: nil, pairStates: true)
        #expect(events.contains(Event(afterPacket: 6, kind: "query", sequence: 3, detail: "attempt 2 pair retried")), "\(events)")
        #expect(events.contains(Event(afterPacket: 6, kind: "matched", sequence: 1, detail: "unanswered attempt 1 pair retried")))
        #expect(events.contains(Event(afterPacket: 2, kind: "matched", sequence: 0, detail: "answered attempt 1")),
                "nothing proven yet when the A is answered: its AAAA has not been sent")
    }

    /// The summary is a consumer like the others: a `SummarySink` fed the settled transactions of a run counts what the
    /// pipeline's own summary counts.
    @Test func aSummarySinkCountsWhatThePipelineDoes() throws {
        for path in ["lab/race-10s/pod.pcap", "lab/musl/pod.pcap", "captures/dns.pcap"] where FileManager.default.fileExists(atPath: fixturesDirectory.appendingPathComponent(path).path) {
            let decoded = try decode([fixturesDirectory.appendingPathComponent(path).path])
            var sink = SummarySink()
            for t in decoded.transactions { sink.settled(t) }
            let a = sink.summary, b = decoded.summary
            #expect(a.answered == b.answered && a.unanswered == b.unanswered && a.resends == b.resends, "\(path)")
            #expect(a.pairStates == b.pairStates && a.lookups == b.lookups && a.slowLookups == b.slowLookups)
            #expect(a.findings.mapValues(\.count) == b.findings.mapValues(\.count) && a.findings.mapValues(\.example) == b.findings.mapValues(\.example))
            #expect(a.latencyFigures?.p99 == b.latencyFigures?.p99)
        }
    }
}
