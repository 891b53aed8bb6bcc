import DNSFlowCapture
import DNSFlowCore
import Foundation
import Testing

/// Decoding on a second thread changes nothing: the same transactions, in the same order, with the same counts, as
/// feeding the pipeline one packet at a time, whatever the batch size; a limit and a stop are honoured.
@Suite("Decoding ahead on a second thread")
struct DecodeAheadTests {
    /// TCP streams (reassembly state carried across batches and flushed at the end), fragments, merged inputs.
    static let inputs: [[String]] = [
        ["dns_tcp.pcap"], ["dnsotcp-manyopkts.pcap"], ["dns-tcp-multirequest-buffer.pcap"], ["frags.pcap"],
        ["dns.pcap", "dns_udp.pcap"], ["ipv6-fragmented-dns.pcap"],
    ]

    /// `recycles`: each batch, and the transactions made of it, handed back to the reading thread to free, or to
    /// decode later packets into (as dnsflow does: the batch let go of first). `reused`: how many packets were.
    /// `pause`: microseconds the consumer waits after handing a batch back (a thread put off by a busy machine).
    func rows(_ paths: [String], limit: Int? = nil, batchSize: Int, depth: Int, recycles: Bool = false,
              pause: UInt32 = 0, reused: UnsafeMutablePointer<Int>? = nil) throws -> (rows: [String], summary: Summary) {
        var configuration = Pipeline.Configuration()
        configuration.handsBackSpent = recycles
        var pipeline = Pipeline(configuration: configuration)
        let handles = try paths.enumerated().map {
            try PcapHandle.openFile(fixturesDirectory.appendingPathComponent("captures/\($0.element)").path, input: $0.offset)
        }
        let ahead = DecodeAhead(source: MergedSource(handles), stage: pipeline.front, limit: limit, batchSize: batchSize, depth: depth)
        ahead.start()
        var out: [String] = []
        while var batch = ahead.next() {
            for d in batch.packets { pipeline.consume(d) { out.append(TransactionCSV.row($0)) } }
            pipeline.updatePacketStats(batch.stats)
            if recycles {
                ahead.recycle(&batch.packets, Spent(transactions: pipeline.takeSpent()))
                if pause > 0 { usleep(pause) }
            }
        }
        ahead.stop()
        reused?.pointee = ahead.packetsReused
        pipeline.front = ahead.stage
        pipeline.finish { out.append(TransactionCSV.row($0)) }
        // After the reader has finished: kept nowhere, freed here.
        if recycles {
            var none: [DecodedPacket] = []
            ahead.recycle(&none, Spent(transactions: pipeline.takeSpent()))
            #expect(pipeline.takeSpent().isEmpty)
        }
        return (out, pipeline.summary)
    }

    func sequential(_ paths: [String], limit: Int? = nil) throws -> (rows: [String], summary: Summary) {
        try rowsOnePacketAtATime(paths, limit: limit)
    }

    @Test(arguments: inputs)
    func sameAsOnePacketAtATime(paths: [String]) throws {
        let expected = try sequential(paths)
        #expect(!expected.rows.isEmpty)
        for (batchSize, depth, recycles) in [(1, 1, false), (3, 2, false), (256, 4, false), (1024, 4, false), (1024, 8, false), (1, 1, true), (3, 2, true)] {
            let got = try rows(paths, batchSize: batchSize, depth: depth, recycles: recycles)
            #expect(got.rows == expected.rows, "batch \(batchSize), depth \(depth), recycled \(recycles)")
            #expect(got.summary.packet == expected.summary.packet)
            #expect(got.summary.dnsMessages == expected.summary.dnsMessages)
        }
    }

    /// Packets handed back are decoded into again, and what they held before shows nowhere; also when the consumer
    /// is slow to go on after handing them back (the list is no longer its own by then: a list still shared when the
    /// reader looks has no packet of its own to reuse).
    @Test(arguments: [0, 3_000] as [UInt32])
    func packetsHandedBackAreReused(pause: UInt32) throws {
        for paths in [["dnsotcp-manyopkts.pcap"], ["dns.pcap", "dns_udp.pcap"]] {
            let expected = try sequential(paths)
            var reused = 0
            let got = try rows(paths, batchSize: 2, depth: 1, recycles: true, pause: pause, reused: &reused)
            #expect(got.rows == expected.rows)
            #expect(got.summary.packet == expected.summary.packet)
            #expect(reused > 0, "\(paths)")
            var none = 0
            _ = try rows(paths, batchSize: 2, depth: 1, recycles: false, reused: &none)
            #expect(none == 0)
        }
    }

    @Test func stopsAtTheLimit() throws {
        // 48 TCP segments: stopping at 17 leaves streams open, which finish flushes as it would have.
        let expected = try sequential(["dns-tcp-multirequest-buffer.pcap"], limit: 17)
        let got = try rows(["dns-tcp-multirequest-buffer.pcap"], limit: 17, batchSize: 5, depth: 1)
        #expect(got.summary.packet.packets == 17)
        #expect(got.rows == expected.rows)
    }

    /// `-c` on files goes through the same limit, in the command.
    @Test func commandCountsPacketsOfFiles() throws {
        let path = fixturesDirectory.appendingPathComponent("captures/dns.pcap").path
        let result = try runDNSFlow(["-r", path, "-c", "10", "--summary", "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("\"packets\":10,"), "\(result.stdout)")
    }

    /// A stop (Ctrl-C) ends reading soon; what was decoded is still handed over, and nothing hangs.
    @Test func stopEndsReadingAndHandsOverWhatWasDecoded() throws {
        let path = fixturesDirectory.appendingPathComponent("captures/frags.pcap").path
        let all = try sequential(["frags.pcap"]).summary.packet.packets
        let handle = try PcapHandle.openFile(path, input: 0)
        let ahead = DecodeAhead(source: MergedSource([handle]), stage: DecodingStage(configuration: .init()), batchSize: 1, depth: 1)
        ahead.start()
        var taken = 0
        if let first = ahead.next() { taken += first.packets.count }
        ahead.stop()
        while let batch = ahead.next() { taken += batch.packets.count }
        #expect(taken >= 1)
        #expect(taken < all)
        #expect(taken == ahead.stage.stats.packets)
    }
}
