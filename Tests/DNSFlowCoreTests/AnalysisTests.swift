import Testing
@testable import DNSFlowCore

@Suite("Analysis: sightings, attempts, pairs, lookups")
struct AnalysisTests {
    static let client: [UInt8] = [198, 18, 1, 2]
    static let clusterIP: [UInt8] = [198, 18, 3, 10]
    static let dnsPod: [UInt8] = [198, 18, 2, 2]

    /// A UDP packet on a Linux SLL2 link (interface index, direction), at `ms` milliseconds.
    func sll2(_ dns: [UInt8], from src: [UInt8], to dst: [UInt8], sport: UInt16, dport: UInt16, ifindex: UInt32, ms: Int64, frame: Int) -> CapturedPacket {
        let header: [UInt8] = [0x08, 0x00, 0, 0] + Wire.u32(ifindex) + [0, 1, 0, 6] + [UInt8](repeating: 0, count: 8)
        let ip = Wire.ipv4(src: src, dst: dst, payload: Wire.udp(sport: sport, dport: dport, payload: dns))
        return CapturedPacket(
            timestamp: Timestamp(seconds: 1_700_000_000 + ms / 1000, nanoseconds: UInt32(ms % 1000) * 1_000_000, digits: 6),
            linkType: .linuxSLL2, data: header + ip, originalLength: header.count + ip.count, point: CapturePoint(input: 0, frame: frame))
    }

    func run(_ packets: [CapturedPacket]) -> (transactions: [Transaction], summary: Summary) {
        var pipeline = Pipeline()
        var out: [Transaction] = []
        for p in packets { pipeline.process(p) { out.append($0) } }
        pipeline.finish { out.append($0) }
        return (out.sorted { $0.sequence < $1.sequence }, pipeline.summary)
    }

    @Test func dnatSightingsAreFoldedAndStillMatched() throws {
        // -i any on a node: the query on the pod's veth (to the ClusterIP), again on the uplink (to the DNS pod);
        // the response on the uplink (from the DNS pod), again on the veth (from the ClusterIP).
        let q = Wire.query(id: 7, name: "web.default.svc.cluster.local")
        let r = Wire.response(id: 7, name: "web.default.svc.cluster.local")
        let result = run([
            sll2(q, from: Self.client, to: Self.clusterIP, sport: 40000, dport: 53, ifindex: 5, ms: 0, frame: 1),
            sll2(q, from: Self.client, to: Self.dnsPod, sport: 40000, dport: 53, ifindex: 2, ms: 0, frame: 2),
            sll2(r, from: Self.dnsPod, to: Self.client, sport: 53, dport: 40000, ifindex: 2, ms: 1, frame: 3),
            sll2(r, from: Self.clusterIP, to: Self.client, sport: 53, dport: 40000, ifindex: 5, ms: 1, frame: 4),
        ])
        #expect(result.summary.queries == 1)
        #expect(result.summary.answered == 1)
        #expect(result.summary.foldedSightings == 2)
        let t = try #require(result.transactions.first)
        #expect(t.analysis.querySightings == 2)
        #expect(t.analysis.responseSightings == 2)
        #expect(t.server.address == IPAddress(bytes: Self.clusterIP[...]))
    }

    /// The first stage (the decoding thread) tells a sighting from a new message, by ordinal; the pipeline, given the
    /// packets it decoded, folds each sighting into the transaction its first copy went to.
    @Test func sightingsAreToldInTheFirstStage() throws {
        let q = Wire.query(id: 7, name: "web.default.svc.cluster.local")
        let r = Wire.response(id: 7, name: "web.default.svc.cluster.local")
        let packets = [
            sll2(q, from: Self.client, to: Self.clusterIP, sport: 40000, dport: 53, ifindex: 5, ms: 0, frame: 1),
            sll2(q, from: Self.client, to: Self.dnsPod, sport: 40000, dport: 53, ifindex: 2, ms: 0, frame: 2),
            sll2(r, from: Self.dnsPod, to: Self.client, sport: 53, dport: 40000, ifindex: 2, ms: 1, frame: 3),
            sll2(r, from: Self.clusterIP, to: Self.client, sport: 53, dport: 40000, ifindex: 5, ms: 1, frame: 4),
        ]
        var pipeline = Pipeline()
        var stage = pipeline.front
        let decoded = packets.map { stage.decode($0) }
        #expect(decoded.map(Self.told) == ["first 0", "again 0", "first 1", "again 1"])
        pipeline.front = stage
        var out: [Transaction] = []
        for d in decoded { pipeline.consume(d) { out.append($0) } }
        pipeline.finish { out.append($0) }
        #expect(pipeline.summary.foldedSightings == 2)
        #expect(out.count == 1)
        #expect(out.first?.analysis.querySightings == 2)
        #expect(out.first?.analysis.responseSightings == 2)
    }

    /// While the window holds one capture point's messages they are not filed by their octets; a message from a second
    /// point files them, and finds the one it repeats among them. Once the window empties, one point's messages are
    /// again only kept in order — and a later second point still finds them.
    @Test func theWindowIsFiledWhenASecondCapturePointComes() {
        let q1 = Wire.query(id: 7, name: "web.default.svc.cluster.local")
        let q2 = Wire.query(id: 8, name: "db.default.svc.cluster.local")
        let r1 = Wire.response(id: 7, name: "web.default.svc.cluster.local")
        let packets = [
            sll2(q1, from: Self.client, to: Self.clusterIP, sport: 40000, dport: 53, ifindex: 5, ms: 0, frame: 1),
            sll2(q2, from: Self.client, to: Self.clusterIP, sport: 40001, dport: 53, ifindex: 5, ms: 1, frame: 2),
            sll2(q1, from: Self.client, to: Self.dnsPod, sport: 40000, dport: 53, ifindex: 2, ms: 2, frame: 3),
            sll2(r1, from: Self.dnsPod, to: Self.client, sport: 53, dport: 40000, ifindex: 2, ms: 3, frame: 4),
            // A second later (the window emptied): one point again, then the other.
            sll2(q1, from: Self.client, to: Self.clusterIP, sport: 40000, dport: 53, ifindex: 5, ms: 1000, frame: 5),
            sll2(q1, from: Self.client, to: Self.clusterIP, sport: 40000, dport: 53, ifindex: 5, ms: 1001, frame: 6),
            sll2(q2, from: Self.client, to: Self.dnsPod, sport: 40001, dport: 53, ifindex: 2, ms: 1002, frame: 7),
            sll2(q1, from: Self.client, to: Self.dnsPod, sport: 40000, dport: 53, ifindex: 2, ms: 1003, frame: 8),
        ]
        var stage = Pipeline().front
        let told = packets.map { Self.told(stage.decode($0)) }
        #expect(told == ["first 0", "first 1", "again 0", "first 2", "first 3", "first 4", "first 5", "again 4"])
    }

    /// Promised one capture point (`Pipeline.Configuration.capturesAtOnePoint`), the first stage remembers no message:
    /// the oldest ordinal it may name is always the next. A message from another point after all breaks the promise
    /// (the copy it is of was not kept): from there on messages are remembered, and a later copy is found.
    @Test func atOnePointNoMessageIsRemembered() {
        let q1 = Wire.query(id: 7, name: "web.default.svc.cluster.local")
        let q2 = Wire.query(id: 8, name: "db.default.svc.cluster.local")
        let packets = [
            sll2(q1, from: Self.client, to: Self.clusterIP, sport: 40000, dport: 53, ifindex: 5, ms: 0, frame: 1),
            sll2(q2, from: Self.client, to: Self.clusterIP, sport: 40001, dport: 53, ifindex: 5, ms: 1, frame: 2),
            sll2(q1, from: Self.client, to: Self.dnsPod, sport: 40000, dport: 53, ifindex: 2, ms: 2, frame: 3),
            sll2(q1, from: Self.client, to: Self.clusterIP, sport: 40000, dport: 53, ifindex: 5, ms: 4, frame: 4),
        ]
        for atOnePoint in [false, true] {
            var configuration = Pipeline.Configuration()
            configuration.capturesAtOnePoint = atOnePoint
            var stage = Pipeline(configuration: configuration).front
            let decoded = packets.map { stage.decode($0) }
            let told = decoded.map(Self.told), oldest = decoded.map { $0.parsed.first!.oldestSighted }
            if atOnePoint {
                #expect(told == ["first 0", "first 1", "first 2", "again 2"])
                #expect(oldest == [1, 2, 2, 2])
            } else {
                #expect(told == ["first 0", "first 1", "again 0", "first 2"])
                #expect(oldest == [0, 0, 0, 0])
            }
        }
    }

    /// What the first stage told a decoded packet's first message to be.
    static func told(_ packet: DecodedPacket) -> String {
        switch packet.parsed.first?.sighting {
        case .first(let n): "first \(n)"
        case .again(let n): "again \(n)"
        case .unmatchable: "unmatchable"
        case nil: "none"
        }
    }

    /// The pipeline's side of it: which transaction each ordinal went to, for as long as the index may name it.
    @Test func sightedSequencesFollowTheIndex() {
        var s = SightedSequences()
        for n in 0..<10_000 { s.append(n, sequence: 3 * n) }
        #expect(s[0] == 0 && s[9_999] == 29_997 && s[10_000] == nil && s[-1] == nil)
        s.forget(below: 6_000)
        #expect(s[5_999] == nil && s[6_000] == 18_000 && s[9_999] == 29_997)
        s.forget(below: 20_000)
        #expect(s[9_999] == nil)
        s.append(10_000, sequence: 7)
        #expect(s[10_000] == 7)
        // An ordinal skipped: kept from there on.
        s.append(10_005, sequence: 8)
        #expect(s[10_005] == 8 && s[10_000] == nil)
    }

    @Test func sameOctetsToTwoServersOnOneWireAreTwoQueries() {
        // musl asks every nameserver at once, same port, same id, same octets: not sightings.
        let q = Wire.query(id: 9, name: "db.default.svc.cluster.local")
        let result = run([
            sll2(q, from: Self.client, to: [198, 18, 3, 10], sport: 40000, dport: 53, ifindex: 5, ms: 0, frame: 1),
            sll2(q, from: Self.client, to: [198, 18, 3, 11], sport: 40000, dport: 53, ifindex: 5, ms: 0, frame: 2),
        ])
        #expect(result.summary.queries == 2)
        #expect(result.summary.foldedSightings == 0)
    }

    @Test func resendWithSameIDFromANewPortIsTheNextAttempt() {
        let q = Wire.query(id: 5, name: "web.default.svc.cluster.local", type: 28)
        let result = run([
            sll2(q, from: Self.client, to: Self.clusterIP, sport: 40000, dport: 53, ifindex: 5, ms: 0, frame: 1),
            sll2(q, from: Self.client, to: Self.clusterIP, sport: 40000, dport: 53, ifindex: 5, ms: 5000, frame: 2),
            sll2(q, from: Self.client, to: Self.clusterIP, sport: 41000, dport: 53, ifindex: 5, ms: 10000, frame: 3),
        ])
        #expect(result.transactions.map(\.analysis.attempt) == [1, 2, 3])
        #expect(result.transactions.map(\.analysis.retryGapNanoseconds) == [nil, 5_000_000_000, 5_000_000_000])
        #expect(Set(result.transactions.map(\.analysis.chain)).count == 1)
    }

    @Test func newIDSoonWhileUnansweredIsAProbableRetry() {
        let result = run([
            sll2(Wire.query(id: 1, name: "x.example"), from: Self.client, to: Self.clusterIP, sport: 40000, dport: 53, ifindex: 5, ms: 0, frame: 1),
            sll2(Wire.query(id: 2, name: "x.example"), from: Self.client, to: Self.clusterIP, sport: 40001, dport: 53, ifindex: 5, ms: 500, frame: 2),
        ])
        #expect(result.transactions.map(\.analysis.isProbableRetry) == [false, true])
        #expect(result.transactions.map(\.analysis.attempt) == [1, 1])
        #expect(result.transactions.map(\.analysis.link) == [nil, nil])
    }

    /// Go's resolver re-sends a lost query after its timeout from a new socket with a new id: the same question from
    /// the same client, a timeout later, the first still unanswered — the second attempt of one query.
    @Test func newIDAfterATimeoutIsAResendLinkedByItsQuestion() {
        let result = run([
            sll2(Wire.query(id: 1, name: "x.example"), from: Self.client, to: Self.clusterIP, sport: 40000, dport: 53, ifindex: 5, ms: 0, frame: 1),
            sll2(Wire.query(id: 2, name: "x.example"), from: Self.client, to: Self.clusterIP, sport: 40001, dport: 53, ifindex: 5, ms: 5000, frame: 2),
            sll2(Wire.query(id: 3, name: "x.example"), from: Self.client, to: Self.clusterIP, sport: 40002, dport: 53, ifindex: 5, ms: 10000, frame: 3),
        ])
        #expect(result.transactions.map(\.analysis.attempt) == [1, 2, 3])
        #expect(result.transactions.map(\.analysis.link) == [nil, .question, .question])
        #expect(result.transactions.map(\.analysis.isProbableRetry) == [false, false, false])
        #expect(Set(result.transactions.map(\.analysis.chain)).count == 1)
        #expect(result.summary.resends == 2 && result.summary.resendsWithNewID == 2)
        // Nothing answered: the client gave up a timeout after its last send.
        #expect(result.transactions.first?.analysis.lookupNanoseconds == 15_000_000_000)
    }

    /// A question's latest first attempt is remembered for the retry window whatever the once-a-second sweeps did with
    /// the table it was filed in (the first sweep hands x's to the older generation, the one at 12 s lets that go):
    /// found for a probable retry and for a re-send with a new id, and forgotten once the window has passed.
    @Test func questionsAreRememberedAcrossSweepsForTheRetryWindow() {
        let q = { (id: UInt16, name: String, port: UInt16, ms: Int64, frame: Int) in
            self.sll2(Wire.query(id: id, name: name), from: Self.client, to: Self.clusterIP, sport: port, dport: 53, ifindex: 5, ms: ms, frame: frame)
        }
        let result = run([
            q(1, "x.example", 40000, 0, 1),
            q(2, "z.example", 40001, 200, 2),
            q(3, "y.example", 40002, 1000, 3),
            q(4, "z.example", 40003, 1050, 4),     // 0.85 s after z's first, sooner than a timeout: a probable retry
            q(5, "x.example", 40004, 9500, 5),     // 9.5 s after x's: a re-send with a new id, linked by its question
            q(6, "y.example", 40005, 12000, 6),    // 11 s after y's first, beyond the retry window: a query of its own
            q(7, "x.example", 40006, 25000, 7),    // x's chain last sent 15.5 s before: a new query
        ])
        #expect(result.transactions.map(\.analysis.attempt) == [1, 1, 1, 1, 2, 1, 1])
        #expect(result.transactions.map(\.analysis.link) == [nil, nil, nil, nil, .question, nil, nil])
        #expect(result.transactions.map(\.analysis.isProbableRetry) == [false, false, false, true, false, false, false])
        #expect(result.transactions[4].analysis.chain == result.transactions[0].analysis.chain)
        #expect(result.transactions[6].analysis.chain != result.transactions[0].analysis.chain)
    }

    /// An answered question asked again with a new id is not a re-send: it was answered.
    @Test func newIDAfterAnAnswerIsANewQuery() {
        let q1 = Wire.query(id: 1, name: "x.example"), q2 = Wire.query(id: 2, name: "x.example")
        let result = run([
            sll2(q1, from: Self.client, to: Self.clusterIP, sport: 40000, dport: 53, ifindex: 5, ms: 0, frame: 1),
            sll2(Wire.response(id: 1, name: "x.example"), from: Self.clusterIP, to: Self.client, sport: 53, dport: 40000, ifindex: 5, ms: 1, frame: 2),
            sll2(q2, from: Self.client, to: Self.clusterIP, sport: 40001, dport: 53, ifindex: 5, ms: 5000, frame: 3),
        ])
        #expect(result.transactions.map(\.analysis.attempt) == [1, 1])
        #expect(result.transactions.map(\.analysis.link) == [nil, nil])
    }

    @Test func pairStatesAndSockets() {
        let a = Wire.query(id: 10, name: "web.example"), aaaa = Wire.query(id: 11, name: "web.example", type: 28)
        let ra = Wire.response(id: 10, name: "web.example")
        // The AAAA is never answered: partial, one socket.
        let partial = run([
            sll2(a, from: Self.client, to: Self.clusterIP, sport: 40000, dport: 53, ifindex: 5, ms: 0, frame: 1),
            sll2(aaaa, from: Self.client, to: Self.clusterIP, sport: 40000, dport: 53, ifindex: 5, ms: 0, frame: 2),
            sll2(ra, from: Self.clusterIP, to: Self.client, sport: 53, dport: 40000, ifindex: 5, ms: 1, frame: 3),
        ])
        #expect(partial.transactions.map(\.analysis.pairState) == [.partial, .partial])
        #expect(partial.transactions.map(\.analysis.sameSocket) == [true, true])
        #expect(Set(partial.transactions.map(\.analysis.pair)).count == 1)
    }

    @Test func searchListWalkIsOneLookup() {
        let client = Self.client
        func step(_ name: String, _ id: UInt16, _ ms: Int64, _ port: UInt16, positive: Bool) -> [CapturedPacket] {
            let resp: [UInt8] = positive ? Wire.response(id: id, name: name) : Wire.header(id: id, flags: 0x8183) + Wire.name(name) + Wire.u16(1) + Wire.u16(1)
            return [sll2(Wire.query(id: id, name: name), from: client, to: Self.clusterIP, sport: port, dport: 53, ifindex: 5, ms: ms, frame: Int(id)),
                    sll2(resp, from: Self.clusterIP, to: client, sport: 53, dport: port, ifindex: 5, ms: ms + 1, frame: Int(id) + 100)]
        }
        let result = run(step("api.example.com.default.svc.cluster.local", 1, 0, 40001, positive: false)
            + step("api.example.com.svc.cluster.local", 2, 2, 40002, positive: false)
            + step("api.example.com.cluster.local", 3, 4, 40003, positive: false)
            + step("api.example.com", 4, 6, 40004, positive: true)
            + step("other.example", 5, 8, 40005, positive: true))
        let lookups = result.transactions.map(\.analysis.lookup)
        #expect(Set(lookups.prefix(4)).count == 1)
        #expect(lookups[4] != lookups[0])
        #expect(result.transactions[0].analysis.lookupNanoseconds == 7_000_000)
        // The three NXDOMAIN search steps were wasted; the answer and the other name were not.
        #expect(result.transactions.map { $0.analysis.findings.contains("ndots-expansion") } == [true, true, true, false, false])
    }

    @Test func nxdomainForTheAnsweredNameIsNotAnExpansion() {
        let name = "odd.example"
        let nx = Wire.header(id: 2, flags: 0x8183) + Wire.name(name) + Wire.u16(28) + Wire.u16(1)
        let result = run([
            sll2(Wire.query(id: 1, name: name), from: Self.client, to: Self.clusterIP, sport: 40000, dport: 53, ifindex: 5, ms: 0, frame: 1),
            sll2(Wire.query(id: 2, name: name, type: 28), from: Self.client, to: Self.clusterIP, sport: 40000, dport: 53, ifindex: 5, ms: 0, frame: 2),
            sll2(nx, from: Self.clusterIP, to: Self.client, sport: 53, dport: 40000, ifindex: 5, ms: 1, frame: 3),
            sll2(Wire.response(id: 1, name: name), from: Self.clusterIP, to: Self.client, sport: 53, dport: 40000, ifindex: 5, ms: 2, frame: 4),
        ])
        #expect(result.summary.findings.isEmpty)
        #expect(result.transactions.map(\.analysis.pairState) == [.ok, .ok])
    }

    @Test func summaryExampleIsTheEarliestEvidenceWhateverOrderLookupsFinishIn() {
        // Two hundred clients each get a SERVFAIL; no answer is positive, so the lookups finish together, two seconds later,
        // at the analysis's sweep (in no set order). The example is the first of them all the same.
        var packets: [CapturedPacket] = []
        let servfail: UInt16 = 0x8182
        for i in 0..<200 {
            let client: [UInt8] = [198, 18, UInt8(1 + i / 100), UInt8(10 + i % 100)], name = "svc\(i).default.svc.cluster.local"
            packets.append(sll2(Wire.query(id: UInt16(i), name: name), from: client, to: Self.clusterIP, sport: 40000, dport: 53,
                                ifindex: 5, ms: Int64(i), frame: 2 * i + 1))
            packets.append(sll2(Wire.header(id: UInt16(i), flags: servfail) + Wire.name(name) + Wire.u16(1) + Wire.u16(1),
                                from: Self.clusterIP, to: client, sport: 53, dport: 40000, ifindex: 5, ms: Int64(i) + 1, frame: 2 * i + 2))
        }
        packets.append(sll2(Wire.query(id: 999, name: "later.example"), from: Self.client, to: Self.clusterIP, sport: 40001,
                            dport: 53, ifindex: 5, ms: 5000, frame: 1001))
        let result = run(packets)
        let errors = result.summary.findings["server-errors"]
        #expect(errors?.count == 200)
        #expect(errors?.example.hasPrefix("svc0.default.svc.cluster.local A at ") == true)
    }

    @Test func continuationRule() {
        func labels(_ s: String) -> DNSName { DNSName(s) }
        #expect(Lookups.continues(from: labels("web.default.svc.cluster.local"), to: labels("web.svc.cluster.local")))
        #expect(Lookups.continues(from: labels("web.cluster.local"), to: labels("web")))
        #expect(Lookups.continues(from: labels("a.b.c.d.e.f"), to: labels("a.b.c.d.e.f.default.svc.cluster.local")))
        #expect(!Lookups.continues(from: labels("web.default.svc.cluster.local"), to: labels("db.default.svc.cluster.local")))
        #expect(!Lookups.continues(from: labels("web"), to: labels("web")))
        #expect(Lookups.continues(from: labels("web"), to: labels("web.cluster.local")))
        #expect(!Lookups.continues(from: labels("web.default"), to: labels("webx.default")))
        #expect(!Lookups.continues(from: labels("we.b"), to: labels("web")))
        #expect(Lookups.continues(from: labels("web.a"), to: labels("web.b")))
    }
}

@Suite("Names and capture-wide findings")
struct NamesTests {
    @Test func addressText() {
        #expect(IPAddress(text: "198.18.3.10") == .v4(0xc612_030a))
        #expect(IPAddress(text: "2001:db8::1")?.description == "2001:db8::1")
        #expect(IPAddress(text: "::")?.description == "::")
        #expect(IPAddress(text: "::ffff:192.0.2.1")?.description == "::ffff:192.0.2.1")
        #expect(IPAddress(text: "fe80::1%eth0")?.description == "fe80::1")
        #expect(IPAddress(text: "1:2:3:4:5:6:7:8")?.description == "1:2:3:4:5:6:7:8")
        for bad in ["", "1.2.3", "1.2.3.256", "1::2::3", "12345::", "1:2:3:4:5:6:7:8:9", "web", "1.2.3.4.5"] {
            #expect(IPAddress(text: bad) == nil, "\(bad)")
        }
    }

    @Test func hostsFile() {
        var names = AddressNames()
        let added = names.addHostsFile("# comment\n198.18.3.10 kube-dns alias\n\n2001:db8::10\tweb6 # v6\nnot-an-ip name\n")
        #expect(added == 2)
        #expect(names[.v4(0xc612_030a)] == "kube-dns")
        #expect(names.label(Endpoint(address: .v4(0xc612_030a), port: 53)) == "198.18.3.10.53 (kube-dns)")
        names.add(.v4(1), "evil\u{1b}[31m")
        #expect(names[.v4(1)] == "evil?[31m")
    }

    @Test func slowServerNeedsTwoBusyServersAndAClearGap() {
        var s = Summary()
        s.serverLatencies[.v4(1)] = Array(repeating: 2_000_000, count: 20)
        s.serverLatencies[.v4(2)] = Array(repeating: 150_000_000, count: 20)
        s.addCaptureWideFindings(names: .none)
        #expect(s.findings["slow-server"]?.count == 1)
        #expect(s.findings["slow-server"]?.example.hasPrefix("0.0.0.2: median 150.000 ms") == true)

        var fast = Summary()
        fast.serverLatencies[.v4(1)] = Array(repeating: 2_000_000, count: 20)
        fast.serverLatencies[.v4(2)] = Array(repeating: 3_000_000, count: 20)
        fast.serverLatencies[.v4(3)] = Array(repeating: 900_000_000, count: 5)   // too few answers to judge
        fast.addCaptureWideFindings(names: .none)
        #expect(fast.findings.isEmpty)
    }
}

@Suite("TC fallback")
struct TCFallbackTests {
    func packet(_ ip: [UInt8], ms: Int64, frame: Int) -> CapturedPacket {
        Wire.packet(Wire.ethernet(payload: ip), seconds: 1_700_000_000 + ms / 1000, micros: UInt32(ms % 1000) * 1000, frame: frame)
    }

    /// TC=1, then SYNs to port 53 that nothing accepts: the client waited in connect, and no DNS message went over
    /// TCP — tcp-blocked, not tc-fallback. The SYNs are the lookup's: it lasts until the last of them at least.
    @Test func truncatedAnswerThenUnansweredSYNsIsTCPBlocked() {
        let q = Wire.query(id: 77, name: "big.example")
        var tc = Wire.response(id: 77, name: "big.example")
        tc[2] |= 0x02   // TC
        var pipeline = Pipeline()
        var out: [Transaction] = []
        var events: [ConnectionEvent] = []
        pipeline.process(packet(Wire.ipv4(payload: Wire.udp(sport: 40000, dport: 53, payload: q)), ms: 0, frame: 1)) { out.append($0) }
        pipeline.process(packet(Wire.ipv4(src: [198, 18, 0, 1], dst: [198, 18, 0, 2], payload: Wire.udp(sport: 53, dport: 40000, payload: tc)), ms: 1, frame: 2)) { out.append($0) }
        for (i, ms) in [2, 1002, 2002, 3002].enumerated() {
            let syn = packet(Wire.ipv4(proto: 6, payload: Wire.tcp(sport: 41000, dport: 53, seq: 1000, flags: 0x02)), ms: Int64(ms), frame: 3 + i)
            var decoder = PacketDecoder()
            decoder.decode(syn, emit: { _ in }, diagnose: { _ in }, connect: { events.append($0) })
            pipeline.process(syn) { out.append($0) }
        }
        pipeline.finish { out.append($0) }
        #expect(events.map(\.kind) == [.attempt, .attempt, .attempt, .attempt])
        #expect(events.first.map { "\($0.client) > \($0.server)" } == "198.18.0.2.41000 > 198.18.0.1.53")
        #expect(Set(pipeline.summary.findings.keys) == ["tcp-blocked"])
        #expect(out.first?.analysis.lookupNanoseconds == 3_002_000_000)
    }

    @Test func synAckAndResetAreTheConnectionsFate() {
        var events: [ConnectionEvent] = []
        var decoder = PacketDecoder()
        for (flags, sport, dport) in [(UInt8(0x12), UInt16(53), UInt16(41000)), (0x14, 53, 41000), (0x10, 41000, 53)] {
            let p = packet(Wire.ipv4(proto: 6, payload: Wire.tcp(sport: sport, dport: dport, seq: 5, flags: flags)), ms: 0, frame: 1)
            decoder.decode(p, emit: { _ in }, diagnose: { _ in }, connect: { events.append($0) })
        }
        // SYN-ACK: accepted; RST-ACK from the server: refused; a bare ACK: nothing.
        #expect(events.map(\.kind) == [.accepted, .refused])
        #expect(events.allSatisfy { $0.server.port == 53 && $0.client.port == 41000 })
    }

    @Test func truncatedAnswerWithoutTCPIsFlagged() {
        let q = Wire.query(id: 77, name: "big.example")
        var tc = Wire.response(id: 77, name: "big.example")
        tc[2] |= 0x02   // TC
        var pipeline = Pipeline()
        var out: [Transaction] = []
        pipeline.process(packet(Wire.ipv4(payload: Wire.udp(sport: 40000, dport: 53, payload: q)), ms: 0, frame: 1)) { out.append($0) }
        pipeline.process(packet(Wire.ipv4(src: [198, 18, 0, 1], dst: [198, 18, 0, 2], payload: Wire.udp(sport: 53, dport: 40000, payload: tc)), ms: 1, frame: 2)) { out.append($0) }
        pipeline.finish { out.append($0) }
        // No TCP follow-up and no connection attempted: the fallback is missing (musl before 1.2.4), not done.
        #expect(Set(pipeline.summary.findings.keys) == ["tc-fallback-failed"])
    }
}

@Suite("musl fan-out")
struct MuslFanOutTests {
    @Test func sameSendToTwoNameserversIsMusl() {
        let q = Wire.query(id: 300, name: "web.default.svc.cluster.local")
        var pipeline = Pipeline()
        var out: [Transaction] = []
        for (i, server) in [[198, 18, 3, 10], [198, 18, 3, 11]].enumerated() {
            let ip = Wire.ipv4(src: [198, 18, 1, 2], dst: server.map(UInt8.init), payload: Wire.udp(sport: 40000, dport: 53, payload: q))
            pipeline.process(Wire.packet(Wire.ethernet(payload: ip), micros: UInt32(i * 100), frame: i + 1)) { out.append($0) }
        }
        let r = Wire.ipv4(src: [198, 18, 3, 10], dst: [198, 18, 1, 2], payload: Wire.udp(sport: 53, dport: 40000, payload: Wire.response(id: 300, name: "web.default.svc.cluster.local")))
        pipeline.process(Wire.packet(Wire.ethernet(payload: r), micros: 900, frame: 3)) { out.append($0) }
        pipeline.finish { out.append($0) }
        #expect(pipeline.summary.findings["musl-resolver"] != nil)
        // One attempt asked of two nameservers: a fan-out copy, not a re-send.
        let queries = out.filter { $0.query != nil }.sorted { $0.sequence < $1.sequence }
        #expect(queries.map(\.analysis.attempt) == [1, 1])
        #expect(queries.map(\.analysis.link) == [nil, .fanOut])
        #expect(pipeline.summary.resends == 0 && pipeline.summary.fanOutCopies == 1)
        #expect(queries.compactMap(\.analysis.pairState).allSatisfy { $0 != .retried })
    }
}
