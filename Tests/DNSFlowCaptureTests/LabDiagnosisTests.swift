import DNSFlowCore
import Foundation
import Testing

/// The lab's stall scenarios (scripts/lab/run: glibc 2.36, musl 1.2.3 and Go 1.19's own resolver against dnsmasq, loss
/// injected by counted nftables rules) against their ground truth: every lookup timed as the client lived it, re-sends
/// linked by the evidence that proves them, and the finding that names each cause — and none that the wire does not show.
/// (Each lookup's time against the client's own clock: `LabFixtureTests.analysisMatchesTruth`, for every scenario.)
@Suite("Lab: every stall named, every lookup timed as the client lived it")
struct LabDiagnosisTests {
    struct Expectation: Sendable {
        /// Findings that must fire on the pod's capture.
        var must: Set<String>
        /// Findings that must not.
        var mustNot: Set<String>
        /// Pair states the pod's queries must show (nil: not checked).
        var pairStates: Set<Analysis.PairState>?
    }

    static let loss: Set<String> = ["conntrack-race", "serial-fallback", "answer-given-up", "both-lost", "dead-nameserver", "lost-query"]

    static let expectations: [String: Expectation] = [
        // Go: A and AAAA from two sockets; the lost AAAA re-sent after 5 s from a new socket with a new id.
        "go-race": Expectation(must: ["lost-query"], mustNot: loss.subtracting(["lost-query"]).union(["musl-resolver"]), pairStates: [.retried]),
        "go-dead-nameserver": Expectation(must: ["dead-nameserver"], mustNot: ["conntrack-race", "both-lost", "answer-given-up", "lost-query", "serial-fallback"]),
        "go-all-lost": Expectation(must: ["both-lost"], mustNot: ["conntrack-race", "answer-given-up", "dead-nameserver", "serial-fallback"]),
        "both-lost": Expectation(must: ["both-lost"], mustNot: ["conntrack-race", "answer-given-up", "dead-nameserver", "lost-query"], pairStates: [.retried]),
        "dead-nameserver": Expectation(must: ["dead-nameserver"], mustNot: ["conntrack-race", "both-lost", "answer-given-up", "lost-query"]),
        "tcp-blocked": Expectation(must: ["tcp-blocked"], mustNot: loss.union(["tc-fallback", "tc-fallback-failed"])),
        "musl-two-nameservers": Expectation(must: ["musl-resolver"], mustNot: loss, pairStates: [.ok]),
        "failed-twice": Expectation(must: [], mustNot: loss, pairStates: [.ok]),
        "lost-last": Expectation(must: ["answer-given-up"], mustNot: ["conntrack-race", "serial-fallback", "both-lost", "dead-nameserver"]),
        // Earlier scenarios, held to the same rules.
        "single-request": Expectation(must: ["conntrack-race"], mustNot: ["serial-fallback", "both-lost", "lost-query"], pairStates: [.retried]),
        "tc-fallback": Expectation(must: ["tc-fallback"], mustNot: loss.union(["tc-fallback-failed", "tcp-blocked"]), pairStates: [.retried]),
        "race-5s": Expectation(must: ["conntrack-race", "serial-fallback"], mustNot: ["both-lost", "lost-query", "answer-given-up"], pairStates: [.retried]),
        "musl": Expectation(must: ["musl-resolver"], mustNot: ["conntrack-race", "both-lost", "dead-nameserver"]),
    ]

    static var scenarios: [String] { expectations.keys.filter { FileManager.default.fileExists(atPath: labFixtures.appendingPathComponent($0).path) }.sorted() }

    @Test("the findings that must fire do, the others do not", arguments: scenarios)
    func findings(_ scenario: String) throws {
        let want = try #require(Self.expectations[scenario])
        let pod = try decode([labFixtures.appendingPathComponent(scenario).appendingPathComponent("pod.pcap").path])
        let found = Set(pod.summary.findings.keys)
        #expect(want.must.isSubset(of: found), "\(scenario): must fire \(want.must.subtracting(found).sorted()), found \(found.sorted())")
        #expect(want.mustNot.isDisjoint(with: found), "\(scenario): must not fire \(want.mustNot.intersection(found).sorted())")
        if let states = want.pairStates {
            let seen = Set(pod.transactions.compactMap { $0.query != nil ? $0.analysis.pairState : nil })
            #expect(seen == states, "\(scenario): pair states \(seen)")
        }
    }

    /// Re-sends by id, re-sends by question (a new id after a timeout, Go), and fan-out copies (musl asking every
    /// nameserver at once) are each counted as the truth counts them.
    @Test("re-sends are linked by the evidence that proves them", arguments: scenarios)
    func resends(_ scenario: String) throws {
        let directory = labFixtures.appendingPathComponent(scenario)
        let truth = try LabTruth.load(directory)
        let pod = try decode([directory.appendingPathComponent("pod.pcap").path])
        let queries = pod.transactions.filter { $0.query != nil }
        let byQuestion = queries.filter { $0.analysis.link == .question }.count
        #expect(byQuestion == truth.resends_new_id ?? 0, "\(scenario): re-sends with a new id")
        #expect(queries.filter(\.analysis.isResend).count == truth.resends + (truth.resends_new_id ?? 0), "\(scenario): re-sends")
        #expect(pod.summary.resends == truth.resends + (truth.resends_new_id ?? 0), "\(scenario): re-sends in the summary")
        #expect(queries.filter { $0.analysis.link == .fanOut }.count == truth.fanouts ?? 0, "\(scenario): fan-out copies")
    }

    /// The node's pcapng holds both of its interfaces: each is a capture point, so every message is one message seen
    /// twice, and a query dropped on the node was seen on one interface only.
    @Test("a two-interface pcapng is two capture points", arguments: scenarios)
    func nodePcapng(_ scenario: String) throws {
        let directory = labFixtures.appendingPathComponent(scenario)
        let path = directory.appendingPathComponent("node.pcapng").path
        guard FileManager.default.fileExists(atPath: path) else { return }
        let truth = try LabTruth.load(directory)
        let node = try decode([path]), pod = try decode([directory.appendingPathComponent("pod.pcap").path])
        func rows(_ d: Decoded) -> [String] {
            d.transactions.filter { $0.query != nil }.map {
                "\($0.id) \($0.question!.name.presentation(trailingDot: false).lowercased()) \($0.question!.type.rawValue) \($0.status.rawValue)"
            }.sorted()
        }
        #expect(rows(node) == rows(pod), "\(scenario): the node's rows are the pod's")
        #expect(node.summary.foldedSightings > 0)
        #expect(node.summary.packet.tcpRetransmissions == 0, "\(scenario): a segment seen on two interfaces is not a retransmission")
        let lost = node.transactions.filter { $0.analysis.findings.contains("lost-between-points") }.count
        #expect(lost == truth.nft_dropped, "\(scenario): lost-between-points \(lost), dropped \(truth.nft_dropped)")
    }

    /// The pod's capture and the DNS pod's, merged: each message is seen at both points, and the latency is measured
    /// where the client is — the query's first copy and the response's last, both the pod's — to the nanosecond of the
    /// pod's truth; a query lost on the way was last seen at the pod (input 0).
    @Test("merged capture points: latency where the client is, lost queries' last point", arguments: scenarios)
    func mergedPoints(_ scenario: String) throws {
        let directory = labFixtures.appendingPathComponent(scenario)
        let truth = try LabTruth.load(directory)
        let merged = try decode([directory.appendingPathComponent("pod.pcap").path, directory.appendingPathComponent("dns.pcap").path])
        let pod = try #require(truth.captures["pod.pcap"])
        var want: [String: String] = [:]
        for t in pod.transactions where t.status == "answered" { want["\(t.id) \(t.qname.lowercased()) \(t.qtype) \(t.frame)"] = t.latency_us }
        for t in merged.transactions where t.status == .answered && t.query?.point.input == 0 {
            let key = "\(t.id) \(t.question!.name.presentation(trailingDot: false).lowercased()) \(t.question!.type.rawValue) \(t.query!.point.frame)"
            guard let us = want[key].flatMap({ Decimal(string: $0) }), let l = t.latencyNanoseconds else { continue }
            #expect(Decimal(l) == us * 1000, "\(scenario): latency of \(key) at the pod")
            #expect(t.response?.point.input == 0, "\(scenario): \(key) answered at the pod's point")
        }
        let lost = merged.transactions.filter { $0.query != nil && $0.status == .unanswered }
        #expect(lost.count == truth.lost_between_pod_and_server, "\(scenario): lost queries")
        #expect(lost.allSatisfy { $0.analysis.lastSeen?.label == "0" && $0.analysis.findings.contains("lost-between-points") },
                "\(scenario): lost queries last seen at the pod")
        if !lost.isEmpty { #expect(merged.summary.lostLastSeen == ["0": lost.count]) }
    }

    /// Pod, node (`-i any`) and DNS pod merged: a TCP segment is seen at four points (the node sees it on two
    /// interfaces), each copy is its own stream and each message one message with four sightings — no segment taken
    /// for a retransmission (tshark finds none), no TCP query with fewer sightings than its UDP neighbours would have.
    @Test("TCP across capture points is folded like UDP", arguments: ["use-vc", "tc-fallback"])
    func tcpAcrossPoints(_ scenario: String) throws {
        let d = labFixtures.appendingPathComponent(scenario)
        let merged = try decode(["pod.pcap", "node-any.pcap", "dns.pcap"].map { d.appendingPathComponent($0).path })
        let pod = try decode([d.appendingPathComponent("pod.pcap").path])
        #expect(merged.summary.packet.tcpRetransmissions == 0, "\(scenario): retransmissions")
        #expect(merged.summary.queries == pod.summary.queries, "\(scenario): queries")
        let tcp = merged.transactions.filter { $0.query != nil && $0.transport == .tcp }
        #expect(!tcp.isEmpty)
        #expect(tcp.allSatisfy { $0.analysis.querySightings == 4 && $0.analysis.responseSightings == 4 },
                "\(scenario): \(tcp.map { ($0.analysis.querySightings, $0.analysis.responseSightings) })")
    }

    /// The line output says which evidence made a send a re-send, and that a fan-out copy is none.
    @Test func linesSayWhatLinkedASend() throws {
        let go = try decode([labFixtures.appendingPathComponent("go-race/pod.pcap").path]).transactions.map { TransactionLine.render($0) }
        #expect(go.contains { $0.contains("[attempt 2, +5004.099 ms, new id]") && $0.contains("AAAA?") })
        let musl = try decode([labFixtures.appendingPathComponent("musl-two-nameservers/pod.pcap").path]).transactions
            .map { TransactionLine.render($0) }
        #expect(musl.filter { $0.contains("[attempt 1, the same send to another nameserver]") }.count == 4)
        #expect(!musl.contains { $0.contains("attempt 2") })
    }
}
