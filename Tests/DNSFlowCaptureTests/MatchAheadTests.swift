import DNSFlowCapture
@testable import DNSFlowCore
import Foundation
import Testing

/// Matching on the decoding thread, ahead of the analysis (files read at full speed): the same transactions, in the
/// same order, with the same counts (re-sends, sightings of one message at two capture points, queries given up in a
/// flood), as matching in the pipeline one packet at a time.
@Suite("Matching ahead on the decoding thread")
struct MatchAheadTests {
    /// Fixture paths (merged by time), and the most queries waiting at once (nil: the default).
    static let inputs: [([String], Int?)] = [
        (["captures/dns.pcap"], nil), (["captures/dns_tcp.pcap"], nil), (["captures/frags.pcap"], nil),
        (["captures/dnsotcp-manyopkts.pcap"], nil), (["captures/dns-invalid-names.pcap"], nil),
        (["captures/dns.pcap", "captures/dns_udp.pcap"], nil),
        (["lab/race-10s/pod.pcap", "lab/race-10s/node-any.pcap"], nil),
        (["lab/both-lost/pod.pcap", "lab/both-lost/node-any.pcap"], nil),
        (["lab/race-10s/pod.pcap"], 1), (["captures/frags.pcap"], 1),
    ]

    struct Outcome: Equatable {
        var rows: [String] = []
        var counts: [Int] = []
    }

    static func outcome(_ rows: [String], _ s: Summary) -> Outcome {
        Outcome(rows: rows, counts: [s.packet.packets, s.dnsMessages, s.answered, s.unanswered, s.orphanResponses,
                                     s.unmatchable, s.foldedSightings, s.queriesGivenUp, s.resends, s.probableRetries,
                                     s.lookups, s.slowLookups, s.findings.values.map(\.count).reduce(0, +)])
    }

    func configuration(_ maxWaiting: Int?) -> Pipeline.Configuration {
        var c = Pipeline.Configuration()
        if let maxWaiting { c.matcher.maxWaiting = maxWaiting }
        c.handsBackSpent = true
        return c
    }

    func handles(_ paths: [String]) throws -> [PcapHandle] {
        try paths.enumerated().map { try PcapHandle.openFile(fixturesDirectory.appendingPathComponent($0.element).path, input: $0.offset) }
    }

    func onePacketAtATime(_ paths: [String], maxWaiting: Int?) throws -> Outcome {
        var pipeline = Pipeline(configuration: configuration(maxWaiting))
        let source = MergedSource(try handles(paths))
        var rows: [String] = []
        while let p = source.next() { pipeline.process(p) { rows.append(TransactionCSV.row($0)) } }
        pipeline.finish { rows.append(TransactionCSV.row($0)) }
        return Self.outcome(rows, pipeline.summary)
    }

    /// Through `DecodeAhead` with a stage that matches; also counts the payloads it matched.
    func ahead(_ paths: [String], maxWaiting: Int?, batchSize: Int) throws -> (Outcome, matched: Int) {
        let c = configuration(maxWaiting)
        var pipeline = Pipeline(configuration: c)
        var stage = pipeline.front
        stage.matchAhead(c.matcher)
        #expect(stage.matchesAhead)
        let reader = DecodeAhead(source: MergedSource(try handles(paths)), stage: stage, batchSize: batchSize, depth: 2)
        reader.start()
        var rows: [String] = []
        var matched = 0
        while var batch = reader.next() {
            for d in batch.packets {
                matched += d.parsed.filter { $0.matched != nil }.count
                pipeline.consume(d) { rows.append(TransactionCSV.row($0)) }
            }
            pipeline.updatePacketStats(batch.stats)
            reader.recycle(&batch.packets, Spent(transactions: pipeline.takeSpent()))
        }
        reader.stop()
        pipeline.front = reader.stage
        pipeline.finish { rows.append(TransactionCSV.row($0)) }
        return (Self.outcome(rows, pipeline.summary), matched)
    }

    @Test(arguments: inputs)
    func sameAsMatchingInThePipeline(paths: [String], maxWaiting: Int?) throws {
        let expected = try onePacketAtATime(paths, maxWaiting: maxWaiting)
        #expect(!expected.rows.isEmpty)
        for batchSize in [1, 1024] {
            let (got, matched) = try ahead(paths, maxWaiting: maxWaiting, batchSize: batchSize)
            #expect(matched > 0, "nothing was matched ahead")
            #expect(got.rows == expected.rows, "\(paths), batches of \(batchSize)")
            #expect(got.counts == expected.counts, "\(paths), batches of \(batchSize)")
        }
        if maxWaiting != nil { #expect(expected.counts[7] > 0, "no query was given up: the flood case tests nothing") }
        if paths.count == 2, paths[0].hasPrefix("lab/") {
            #expect(expected.counts[6] > 0, "no sighting was folded: the two-point case tests nothing")
        }
    }

    /// The command matches ahead for `--summary` and the lines, and not where a third thread is busy: the outputs are
    /// the same either way.
    @Test func commandOutputsAreTheSame() throws {
        let path = fixturesDirectory.appendingPathComponent("lab/race-10s/pod.pcap").path
        let summary = try runDNSFlow(["-r", path, "--summary", "--json"])
        let csv = try runDNSFlow(["-r", path, "--csv", "-", "--summary", "--json"])
        #expect(summary.status == 0 && csv.status == 0)
        // --csv and --summary: the summary goes to stderr, and it was made without matching ahead.
        #expect(!summary.stdout.isEmpty)
        #expect(summary.stdout == csv.stderr)
    }
}

/// Which inputs promise one capture point (`PcapHandle.isOnePoint`, for `Pipeline.Configuration.capturesAtOnePoint`):
/// a pcap file whose link layer names neither interface nor direction; not a Linux cooked or PKTAP link, nor pcapng.
@Suite("One capture point")
struct OnePointTests {
    @Test func whichInputsAreOnePoint() throws {
        let cases: [(String, Bool)] = [
            ("captures/dns.pcap", true), ("captures/LINKTYPE_IPV6.pcap", true), ("captures/dns-svcb.pcap", true),
            ("captures/nflog.pcap", true), ("captures/sll2.pcap", false), ("captures/LINKTYPE_PKTAP.pcap", false),
            ("lab/clean/node-any.pcap", false), ("lab/race-5s/pod.pcapng", false),
        ]
        for (path, expected) in cases {
            let handle = try PcapHandle.openFile(fixturesDirectory.appendingPathComponent(path).path, input: 0)
            #expect(handle.isOnePoint == expected, "\(path)")
        }
    }
}
