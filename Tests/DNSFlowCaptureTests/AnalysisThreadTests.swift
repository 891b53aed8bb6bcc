@testable import DNSFlowCapture
import DNSFlowCore
import Foundation
import Testing

/// The analysis on a thread of its own (the interface loading a file) tells its consumer the same evidence, in the same
/// order, as the driver run on the consumer's thread: however small the hand-overs, however short the consumer's
/// turns, and after a stop.
@Suite("Analysis on a thread of its own")
struct AnalysisThreadTests {
    static let inputs = ["captures/dns.pcap", "captures/dns_tcp.pcap", "captures/frags.pcap",
                         "captures/dnsotcp-manyopkts.pcap", "lab/race-10s/pod.pcap", "lab/both-lost/pod.pcap"]

    /// Every event as a line: what the interface is told, in order.
    struct Lines: EvidenceSink {
        var lines: [String] = []
        mutating func packetRead(_ packet: CapturedPacket, carriesDNS: Bool) {
            lines.append("packet \(packet.point.frame) \(carriesDNS)")
        }
        mutating func querySeen(_ sequence: Int, _ query: ObservedMessage, _ analysis: Analysis) {
            lines.append("query \(sequence) \(query.message.id) attempt \(analysis.attempt) pair \(analysis.pair ?? -1)")
        }
        mutating func matched(_ t: Transaction) { lines.append("matched \(t.sequence) \(t.status)") }
        mutating func settled(_ t: Transaction) { lines.append("settled " + TransactionCSV.row(t)) }
        mutating func flowsFinished(_ flows: [FlowStats]) { lines.append("flows \(flows.map(\.id))") }
        mutating func clock(_ now: Timestamp) { lines.append("clock \(now.totalNanoseconds)") }
    }

    func driver(_ name: String) throws -> Driver {
        var configuration = Pipeline.Configuration()
        configuration.handsBackSpent = true
        let pipeline = Pipeline(configuration: configuration)
        let handle = try PcapHandle.openFile(fixturesDirectory.appendingPathComponent(name).path, input: 0)
        return Driver(pipeline: pipeline, feed: FileFeed([handle], stage: pipeline.front))
    }

    func direct(_ name: String) throws -> (lines: [String], summary: Summary) {
        let d = try driver(name)
        var sink = Lines()
        while d.run(into: &sink) != .finished {}
        return (sink.lines, d.summary)
    }

    /// `turn`: how long each of the consumer's turns lasts (0: one batch of 256 events at most).
    /// `handOver`: how long the thread runs the driver between hand-overs (0: 256 packets).
    func threaded(_ name: String, maxPending: Int, turn: Int64, handOver: Int64 = 2_000_000, keepsMatched: Bool = true) throws
        -> (lines: [String], summary: Summary) {
        let analysis = AnalysisThread(driver: try driver(name), keepsMatched: keepsMatched, maxPending: maxPending,
                                      handOverNanoseconds: handOver)
        analysis.start()
        var sink = Lines()
        var turns = 0
        while analysis.run(into: &sink, until: monotonicNanoseconds() + turn) != .finished {
            turns += 1
            if turns > 1_000_000 { break }
        }
        #expect(turns <= 1_000_000, "never finished")
        return (sink.lines, analysis.summary)
    }

    @Test(arguments: inputs)
    func sameEvidenceInTheSameOrder(name: String) throws {
        let expected = try direct(name)
        #expect(expected.lines.contains { $0.hasPrefix("settled ") })
        for (maxPending, turn, handOver) in [(16_384, Int64(25_000_000), Int64(2_000_000)), (1, 0, 0), (7, 1_000, 0)] {
            let got = try threaded(name, maxPending: maxPending, turn: turn, handOver: handOver)
            #expect(got.lines == expected.lines, "\(name): at most \(maxPending) waiting, turns of \(turn) ns")
            #expect(got.summary.packet == expected.summary.packet)
            #expect(got.summary.dnsMessages == expected.summary.dnsMessages)
            #expect(got.summary.answered == expected.summary.answered)
            #expect(got.summary.lookups == expected.summary.lookups)
        }
    }

    /// A consumer that shows fates only once they settle is not handed `matched` (the analysis need not share the
    /// transactions it is still annotating).
    @Test func withoutMatched() throws {
        let expected = try direct("lab/race-10s/pod.pcap").lines.filter { !$0.hasPrefix("matched ") }
        let got = try threaded("lab/race-10s/pod.pcap", maxPending: 16_384, turn: 25_000_000, keepsMatched: false)
        #expect(got.lines == expected)
    }

    /// The thread waits while `maxPending` events wait for the consumer: a consumer that does not come back holds at
    /// most that many, and one hand-over more.
    @Test func waitsForTheConsumer() throws {
        let all = try direct("captures/frags.pcap").lines.count
        // Hand-overs of 256 packets (the driver looks at the time every 256), the thread waiting after the first.
        let analysis = AnalysisThread(driver: try driver("captures/frags.pcap"), maxPending: 1, handOverNanoseconds: 0)
        analysis.start()
        for _ in 0..<400 where analysis.waitingEvents == 0 { usleep(5_000) }
        let first = analysis.waitingEvents
        var most = first
        for _ in 0..<40 {
            usleep(5_000)
            most = max(most, analysis.waitingEvents)
        }
        #expect(first > 256)
        #expect(first < all)
        #expect(most == first, "the thread handed over more while the first hand-over waited")
        var sink = Lines()
        while analysis.run(into: &sink, until: monotonicNanoseconds() + 25_000_000) != .finished {}
        #expect(sink.lines.count == all)
    }

    /// Stopped part-way (the interface quit while loading): nothing handed over is lost or told twice, and the driver,
    /// the caller's again, tells the rest of what it had read.
    @Test func stoppedPartWay() throws {
        let expected = try direct("captures/frags.pcap")
        let analysis = AnalysisThread(driver: try driver("captures/frags.pcap"), maxPending: 1, handOverNanoseconds: 0)
        analysis.start()
        for _ in 0..<400 where analysis.waitingEvents == 0 { usleep(5_000) }
        #expect(analysis.waitingEvents > 0)
        var sink = Lines()
        analysis.run(into: &sink, until: 0)
        analysis.stop()
        var turns = 0
        while analysis.run(into: &sink, until: monotonicNanoseconds() + 25_000_000) != .finished, turns < 10_000 { turns += 1 }
        #expect(analysis.driver.isFinished)
        // Reading stopped: what is told is the direct run's packets up to where reading stopped, each once, in order.
        let told = sink.lines.filter { $0.hasPrefix("packet ") }
        #expect(told.count > 256)
        #expect(told == Array(expected.lines.filter { $0.hasPrefix("packet ") }.prefix(told.count)))
        #expect(analysis.summary.packet.packets == told.count)
    }

    /// Told a handful of events at a time, a log resumes where it stopped.
    @Test func logToldInParts() throws {
        let d = try driver("captures/dns.pcap")
        var log = EvidenceLog()
        while d.run(into: &log) != .finished {}
        var whole = Lines()
        var cursor = EvidenceLog.Cursor()
        #expect(log.tell(&whole, from: &cursor, while: { true }))
        var parts = Lines()
        cursor = EvidenceLog.Cursor()
        var calls = 0
        while !log.tell(&parts, from: &cursor, while: { false }) { calls += 1 }
        #expect(parts.lines == whole.lines)
        #expect(whole.lines.count == log.count)
        #expect(calls == (log.count - 1) / 256)
    }
}
