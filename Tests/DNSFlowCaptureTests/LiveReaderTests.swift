import DNSFlowCapture
import DNSFlowCore
import Foundation
import Testing

/// The live path's reader runs the first stage on its own thread and hands packets over in bounded batches: the
/// transactions are the same as feeding the pipeline one packet at a time, the waiting room's bound drops (and
/// counts) whole hand-overs without decoding them, and `-c` is read where the packets are read.
/// A capture file read through `LiveReader` stands in for an interface: the reader treats both alike.
@Suite("Live reader: decoding on its thread, bounded hand-overs")
struct LiveReaderTests {
    static let inputs = ["dns_tcp.pcap", "dnsotcp-manyopkts.pcap", "dns-tcp-multirequest-buffer.pcap", "frags.pcap",
                         "ipv6-fragmented-dns.pcap", "dns.pcap"]

    func handle(_ name: String) throws -> PcapHandle {
        try PcapHandle.openFile(fixturesDirectory.appendingPathComponent("captures/\(name)").path, input: 0)
    }

    func sequential(_ name: String, limit: Int? = nil) throws -> (rows: [String], summary: Summary) {
        try rowsOnePacketAtATime([name], limit: limit)
    }

    /// Through `LiveFeed` and the driver, as dnsflow runs a live capture.
    func live(_ name: String, limit: Int? = nil, maxBatch: Int) throws -> (rows: [String], summary: Summary) {
        var configuration = Pipeline.Configuration()
        configuration.handsBackSpent = true
        let pipeline = Pipeline(configuration: configuration)
        let feed = LiveFeed(streams: [try handle(name)], stage: pipeline.front, limit: limit, maxBatch: maxBatch)
        #expect(feed.reader.decodes)
        // Read to the end before the first batch is taken: a live feed that finds its queue empty moves the analysis on
        // to the wall clock's time, long after the capture's (and settles everything).
        for _ in 0..<500 where !feed.reader.isFinished { usleep(10_000) }
        #expect(feed.reader.isFinished)
        let driver = Driver(pipeline: pipeline, feed: feed)
        var sink = Rows()
        while driver.run(into: &sink, waitingUpTo: 20) != .finished {}
        return (sink.rows, driver.pipeline.summary)
    }

    @Test(arguments: inputs)
    func sameAsOnePacketAtATime(name: String) throws {
        let expected = try sequential(name)
        #expect(!expected.rows.isEmpty)
        for maxBatch in [1, 7, 1024] {
            let got = try live(name, maxBatch: maxBatch)
            #expect(got.rows == expected.rows, "max batch \(maxBatch)")
            #expect(got.summary.packet == expected.summary.packet)
            #expect(got.summary.dnsMessages == expected.summary.dnsMessages)
        }
    }

    /// The consumer never holds more than `maxBatch` packets at a time, however far behind it is.
    @Test func handsOverAtMostMaxBatch() throws {
        let all = try sequential("dns.pcap").summary.packet.packets
        let reader = LiveReader(try handle("dns.pcap"), stage: DecodingStage(configuration: .init()), maxBatch: 7)
        reader.start()
        for _ in 0..<500 where !reader.isFinished { usleep(10_000) }
        #expect(reader.isFinished)
        var sizes: [Int] = []
        while case .packets(let batch) = reader.take() { sizes.append(batch.count) }
        #expect(sizes.reduce(0, +) == all)
        #expect(sizes.allSatisfy { $0 >= 1 && $0 <= 7 }, "\(sizes)")
        #expect(sizes.count >= all / 7)
    }

    /// `-c`: the reader stops reading there; what is still open (TCP streams) is flushed at the end as it would be.
    @Test func stopsAtTheLimit() throws {
        let expected = try sequential("dns-tcp-multirequest-buffer.pcap", limit: 17)
        let got = try live("dns-tcp-multirequest-buffer.pcap", limit: 17, maxBatch: 5)
        #expect(got.summary.packet.packets == 17)
        #expect(got.rows == expected.rows)
    }

    /// Full waiting room: the rest is dropped as read — counted, and never decoded (the first stage saw only what
    /// waits).
    @Test func fullWaitingRoomDropsWithoutDecoding() throws {
        let all = try sequential("dns.pcap").summary.packet.packets
        let reader = LiveReader(try handle("dns.pcap"), stage: DecodingStage(configuration: .init()), maxQueuedBytes: 1,
                                maxBatch: 4)
        reader.start()
        // Nothing is taken until the reader has read everything.
        for _ in 0..<500 where !reader.isFinished { usleep(10_000) }
        #expect(reader.isFinished)
        var taken = 0
        while case .packets(let batch) = reader.take() { taken += batch.count }
        #expect(taken == 4)
        #expect(taken + reader.overflowDropped == all)
        #expect(reader.overflowDropped > 0)
        #expect(reader.stage.stats.packets == taken)
    }
}

/// Transactions as CSV rows, as the pipeline finalises them.
private struct Rows: EvidenceSink {
    var rows: [String] = []
    mutating func settled(_ t: Transaction) { rows.append(TransactionCSV.row(t)) }
}
