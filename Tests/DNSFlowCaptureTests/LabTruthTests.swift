import DNSFlowCore
import Foundation
import Testing

/// The ground truth of one lab scenario (scripts/lab/truth.py: tshark's decoding, matched independently).
struct LabTruth: Decodable {
    struct Capture: Decodable {
        var queries: Int
        var answered: Int
        var unanswered: Int
        var orphan_responses: Int
        var transactions: [TruthTransaction]
    }

    struct TruthTransaction: Decodable {
        var frame: Int
        var client: String
        var id: Int
        var qname: String
        var qtype: Int
        var status: String
        var latency_us: String?
    }

    struct Lookup: Decodable {
        var name: String
        var wall_s: Double
        var status: Int
    }

    var scenario: String
    var captures: [String: Capture]
    var queries_sent: Int
    var lost_between_pod_and_server: Int
    var nft_dropped: Int
    var resends: Int
    var lookups: [Lookup]

    static func load(_ directory: URL) throws -> LabTruth {
        try JSONDecoder().decode(LabTruth.self, from: Data(contentsOf: directory.appendingPathComponent("truth.json")))
    }
}

/// Compares dnsflow's transactions on every capture of a scenario with the truth: counts, and the latency of every
/// answered query to the nanosecond (the truth is exact decimal arithmetic on the capture's timestamps).
func checkAgainstTruth(_ directory: URL, sourceLocation: SourceLocation = #_sourceLocation) throws {
    let truth = try LabTruth.load(directory)
    #expect(truth.lost_between_pod_and_server == truth.nft_dropped, "\(truth.scenario): the drop counter must explain every loss",
            sourceLocation: sourceLocation)
    for (name, expected) in truth.captures.sorted(by: { $0.key < $1.key }) {
        let decoded = try decode([directory.appendingPathComponent(name).path])
        let label = "\(truth.scenario)/\(name)"
        let s = decoded.summary
        #expect(s.queries == expected.queries, "\(label): queries", sourceLocation: sourceLocation)
        #expect(s.answered == expected.answered, "\(label): answered", sourceLocation: sourceLocation)
        #expect(s.unanswered == expected.unanswered, "\(label): unanswered", sourceLocation: sourceLocation)
        #expect(s.orphanResponses == expected.orphan_responses, "\(label): orphan responses", sourceLocation: sourceLocation)
        #expect(s.malformedTotal == 0, "\(label): nothing malformed", sourceLocation: sourceLocation)

        var latencies: [String: Int64] = [:]
        for t in decoded.transactions where t.status == .answered {
            let q = t.question!
            let key = "\(t.client) \(t.id) \(q.name.presentation(trailingDot: false).lowercased()) \(q.type.rawValue) \(t.query!.point.frame)"
            latencies[key] = t.latencyNanoseconds
        }
        for t in expected.transactions where t.status == "answered" {
            let key = "\(t.client) \(t.id) \(t.qname.lowercased()) \(t.qtype) \(t.frame)"
            let want = try #require(Decimal(string: t.latency_us ?? ""), sourceLocation: sourceLocation) * 1000
            let got = latencies[key].map { Decimal($0) }
            #expect(got == want, "\(label): latency of \(key)", sourceLocation: sourceLocation)
        }
    }
}

extension Summary {
    var malformedTotal: Int { malformed.values.reduce(0, +) }
}

let labFixtures = fixturesDirectory.appendingPathComponent("lab")

@Suite("Lab fixtures against their ground truth")
struct LabFixtureTests {
    static var scenarios: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: labFixtures.path)) ?? []).filter { !$0.hasSuffix(".md") }.sorted()
    }

    @Test("transactions match the truth", arguments: scenarios)
    func matchesTruth(_ scenario: String) throws {
        try checkAgainstTruth(labFixtures.appendingPathComponent(scenario))
    }

    @Test func theCommittedScenariosShowWhatTheySay() throws {
        let race = try LabTruth.load(labFixtures.appendingPathComponent("race-5s"))
        #expect(race.nft_dropped == 1)
        #expect(race.lookups.map(\.wall_s).allSatisfy { $0 >= 5 && $0 < 6 })
        let race10 = try LabTruth.load(labFixtures.appendingPathComponent("race-10s"))
        #expect(race10.lookups.first.map { $0.wall_s >= 10 && $0.wall_s < 11 } == true)
        let reopen = try LabTruth.load(labFixtures.appendingPathComponent("single-request-reopen"))
        #expect(reopen.nft_dropped == 0)
        let vc = try decode([labFixtures.appendingPathComponent("use-vc/pod.pcap").path])
        #expect(vc.transactions.allSatisfy { $0.transport == .tcp })
        let tc = try decode([labFixtures.appendingPathComponent("tc-fallback/pod.pcap").path])
        #expect(tc.transactions.contains { $0.transport == .udp && $0.response?.message.header.isTruncated == true })
        #expect(tc.transactions.contains { $0.transport == .tcp && $0.response?.message.answers.count == 40 })
    }
}

let labTools = ["ip", "nft", "tcpdump", "dumpcap", "tshark", "getent", "python3", "dnsmasq"]
let canRunLab: Bool = canBuildNamespaces && labTools.allSatisfy { tool in
    ["/usr/sbin", "/usr/bin", "/sbin", "/bin"].contains { FileManager.default.isExecutableFile(atPath: "\($0)/\(tool)") }
} && ProcessInfo.processInfo.environment["DNSFLOW_SKIP_LAB"] == nil

/// The whole lab, live: real glibc (and musl) lookups through a DNAT, captured, with truth computed from the captures
/// and counters; dnsflow must agree with every figure. About a minute. Needs root, network namespaces and the lab's
/// tools (scripts/setup installs them); DNSFLOW_SKIP_LAB=1 skips it.
@Suite("The Kubernetes DNS lab, live", .serialized,
       .enabled(if: canRunLab, "needs root, ip netns, nft, tcpdump, dumpcap, tshark, getent and dnsmasq (scripts/setup)"))
struct LabLiveTests {
    @Test(arguments: [("dnsmasq", [String]()), ("unbound", ["clean", "race-5s", "tc-fallback"])])
    func labAgreesWithDNSFlow(server: String, scenarios: [String]) throws {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("dnsflow-lab-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: out) }
        let result = try runProcess(packageRoot.appendingPathComponent("scripts/lab/run").path,
                                    ["--server", server, "--out", out.path] + scenarios)
        #expect(result.status == 0, "lab failed: \(result.stderr)")
        let produced = try FileManager.default.contentsOfDirectory(atPath: out.path).sorted()
        #expect(produced.count == (scenarios.isEmpty ? 10 : scenarios.count))
        for scenario in produced {
            try checkAgainstTruth(out.appendingPathComponent(scenario))
        }
        if produced.contains("race-5s") {
            let race = try LabTruth.load(out.appendingPathComponent("race-5s"))
            #expect(race.nft_dropped == 1)
            #expect(race.lookups.allSatisfy { $0.wall_s >= 5 })
        }
    }
}
