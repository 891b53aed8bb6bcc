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
    /// Re-sends with a new id (Go), and copies of one send to further nameservers at once (musl): absent from the
    /// scenarios made before they were counted.
    var resends_new_id: Int?
    var fanouts: Int?
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
    for (name, captureTruth) in truth.captures.sorted(by: { $0.key < $1.key }) {
        let decoded = try decode([directory.appendingPathComponent(name).path])
        let label = "\(truth.scenario)/\(name)"
        if name == "node-any.pcap" || name == "node.pcapng", let pod = truth.captures["pod.pcap"] {
            // Every query crosses the node twice (before and after DNAT; on `-i any`, or dumpcap's two interfaces in
            // one pcapng): folded into one message with two sightings, the node's rows are the pod's rows.
            func rows(_ ts: [(String, Int, String, Int, String)]) -> [String] { ts.map { "\($0)" }.sorted() }
            let mine = rows(decoded.transactions.filter { $0.query != nil }.map {
                ($0.client.description, Int($0.id), $0.question!.name.presentation(trailingDot: false).lowercased(),
                 Int($0.question!.type.rawValue), $0.status.rawValue)
            })
            let theirs = rows(pod.transactions.filter { $0.status != "orphan-response" }.map {
                ($0.client, $0.id, $0.qname.lowercased(), $0.qtype, $0.status)
            })
            #expect(mine == theirs, "\(label): the node's rows are the pod's", sourceLocation: sourceLocation)
            #expect(decoded.summary.foldedSightings > 0, "\(label): sightings folded", sourceLocation: sourceLocation)
            let lost = decoded.transactions.filter { $0.analysis.findings.contains("lost-between-points") }.count
            #expect(lost == truth.nft_dropped, "\(label): lost-between-points \(lost), dropped \(truth.nft_dropped)",
                    sourceLocation: sourceLocation)
            continue
        }
        let expected = captureTruth
        let s = decoded.summary
        #expect(s.queries == expected.queries, "\(label): queries", sourceLocation: sourceLocation)
        #expect(s.answered == expected.answered, "\(label): answered", sourceLocation: sourceLocation)
        #expect(s.unanswered == expected.unanswered, "\(label): unanswered", sourceLocation: sourceLocation)
        #expect(s.orphanResponses == expected.orphan_responses, "\(label): orphan responses", sourceLocation: sourceLocation)
        #expect(s.malformedTotal == 0, "\(label): nothing malformed", sourceLocation: sourceLocation)
        if truth.nft_dropped == 0 {
            let loss: Set<String> = ["conntrack-race", "serial-fallback", "answer-given-up", "lost-between-points"]
            #expect(Set(s.findings.keys).isDisjoint(with: loss), "\(label): no loss, no loss finding", sourceLocation: sourceLocation)
        }

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

    /// Re-sends, pair states and lookup times against the truth and the client's own clock.
    @Test("analysis matches the truth", arguments: scenarios)
    func analysisMatchesTruth(_ scenario: String) throws {
        let directory = labFixtures.appendingPathComponent(scenario)
        let truth = try LabTruth.load(directory)
        let decoded = try decode([directory.appendingPathComponent("pod.pcap").path])
        let queries = decoded.transactions.filter { $0.query != nil }
        let resends = truth.resends + (truth.resends_new_id ?? 0)
        #expect(queries.filter(\.analysis.isResend).count == resends, "\(scenario): re-sends")
        #expect(decoded.summary.resends == resends, "\(scenario): re-sends in the summary")
        #expect(decoded.summary.lookups == Set(queries.compactMap(\.analysis.lookup)).count)
        #expect(queries.allSatisfy { $0.analysis.querySightings == 1 }, "\(scenario): one sighting each on the pod")

        // Each lookup the client timed is the span of the lookups dnsflow found that began during it (getent may call
        // getaddrinfo more than once), within max(25 ms, 2 %): the client's clock also counts its own start-up and exit.
        let client = try String(contentsOf: directory.appendingPathComponent("client.tsv"), encoding: .utf8)
        for line in client.split(separator: "\n").dropFirst() {
            let f = line.split(separator: "\t", omittingEmptySubsequences: false)
            let start = try #require(Double(f[1])), wall = try #require(Double(f[2]))
            let inside = queries.filter {
                let t = Double($0.time.seconds) + Double($0.time.nanoseconds) / 1e9
                return t >= start && t <= start + wall && $0.analysis.attempt == 1
            }
            let lookups = Dictionary(grouping: inside, by: { $0.analysis.lookup! })
            let first = try #require(inside.map(\.time).min(), "\(scenario): no query during the lookup of \(f[0])")
            let end = lookups.values.compactMap { r -> Int64? in
                guard let t = r.min(by: { $0.time < $1.time }), let total = t.analysis.lookupNanoseconds else { return nil }
                return t.time.nanoseconds(since: first) + total
            }.max() ?? 0
            let seen = Double(end) / 1e9
            #expect(abs(seen - wall) <= max(0.025, 0.02 * wall), "\(scenario): \(f[0]) took \(wall) s by the client's clock, \(seen) s by dnsflow's")
        }

        let states = Set(queries.compactMap(\.analysis.pairState))
        switch scenario {
        case "clean", "use-vc", "ndots-external", "single-request-reopen":
            #expect(states == [.ok], "\(scenario): \(states)")
        case "race-5s", "race-10s", "single-request", "tc-fallback":
            #expect(states == [.retried], "\(scenario): \(states)")
        default:
            #expect(!states.isEmpty)
        }
        let sameSocket = Set(queries.compactMap(\.analysis.sameSocket))
        // glibc's single-request-reopen and Go's resolver ask A and AAAA from a socket each.
        let socketEach: Set<String> = ["single-request-reopen", "lost-last", "go-race", "go-dead-nameserver", "go-all-lost"]
        #expect(sameSocket == (socketEach.contains(scenario) ? [false] : [true]), "\(scenario): same socket \(sameSocket)")
    }

    /// The findings each scenario must show, and the loss findings it must not.
    @Test("findings name the cause", arguments: scenarios)
    func findings(_ scenario: String) throws {
        let directory = labFixtures.appendingPathComponent(scenario)
        let truth = try LabTruth.load(directory)
        let pod = try decode([directory.appendingPathComponent("pod.pcap").path])
        let node = try decode([directory.appendingPathComponent("node-any.pcap").path])
        let found = Set(pod.summary.findings.keys)
        let lossFindings: Set<String> = ["conntrack-race", "serial-fallback", "answer-given-up", "lost-between-points"]
        let expected: [String: Set<String>] = [
            "clean": ["ndots-expansion"], "use-vc": [], "single-request-reopen": [], "ndots-external": ["ndots-expansion"],
            "race-5s": ["conntrack-race", "serial-fallback"], "race-10s": ["conntrack-race", "serial-fallback", "ndots-expansion"],
            // single-request was sequential from the start: nothing fell back (after the timeout it opens a socket per query).
            "single-request": ["conntrack-race"], "tc-fallback": ["tc-fallback"],
        ]
        if let want = expected[scenario] {
            #expect(found.intersection(lossFindings.union(["tc-fallback", "ndots-expansion", "musl-resolver"])) == want, "\(scenario): \(found)")
        }
        if scenario == "musl" { #expect(found.contains("musl-resolver")); #expect(!found.contains("conntrack-race")) }
        if truth.nft_dropped == 0 { #expect(found.isDisjoint(with: lossFindings), "\(scenario): no loss, no loss finding") }
        // The node saw every query before DNAT; those it dropped were never seen after: exactly the drop counter.
        let lost = node.transactions.filter { $0.analysis.findings.contains("lost-between-points") }
        #expect(lost.count == truth.nft_dropped, "\(scenario): lost-between-points rows \(lost.count), dropped \(truth.nft_dropped)")
        #expect(lost.allSatisfy { $0.status == .unanswered && $0.analysis.querySightings == 1 })
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
