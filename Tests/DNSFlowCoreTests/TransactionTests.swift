import Testing
@testable import DNSFlowCore

@Suite("Transaction matching")
struct TransactionTests {
    static let client = Endpoint(address: .v4(0xc612_0002), port: 40000)
    static let server = Endpoint(address: .v4(0xc612_0001), port: 53)

    func observed(_ bytes: [UInt8], at ms: Int64, from: Endpoint = client, to: Endpoint = server, transport: TransportProtocol = .udp) -> ObservedMessage {
        ObservedMessage(
            timestamp: Timestamp(seconds: 1_700_000_000 + ms / 1000, nanoseconds: UInt32(ms % 1000) * 1_000_000, digits: 6),
            transport: transport, source: from, destination: to, point: CapturePoint(input: 0, frame: Int(ms)),
            message: DNSParser.parse(bytes)!)
    }

    func run(_ messages: [ObservedMessage], window: Int64 = 60) -> [Transaction] {
        var config = TransactionMatcher.Configuration()
        config.windowSeconds = window
        var matcher = TransactionMatcher(configuration: config)
        var ordered = InSequence<Transaction>()
        var out: [Transaction] = []
        for m in messages { matcher.add(m) { ordered.add($0.sequence, $0) { out.append($0) } } }
        matcher.finish { ordered.add($0.sequence, $0) { out.append($0) } }
        #expect(ordered.heldCount == 0)
        return out
    }

    /// `bytes`' message with its question's name replaced by `name` (a name made with the fingerprint a test wants).
    func observed(_ bytes: [UInt8], at ms: Int64, name: DNSName, from: Endpoint = client, to: Endpoint = server) -> ObservedMessage {
        var message = DNSParser.parse(bytes)!
        message.question = DNSQuestion(name: name, type: message.question!.type, qclass: message.question!.qclass)
        let original = observed(bytes, at: ms, from: from, to: to)
        return ObservedMessage(timestamp: original.timestamp, transport: .udp, source: original.source,
                               destination: original.destination, point: original.point, message: message)
    }

    /// The matcher files a query under its name's fingerprint, not the name: two names with one fingerprint, asked on
    /// one socket with one id, stay two queries — the second does not supersede the first, and each response goes to
    /// its own name's query (the later one, the latest in the list, is not taken for the earlier's response); a
    /// response for a third such name is an orphan.
    /// What the analysis prefetches ahead of a message (`ObservedMessage.questionKeyParts`) hashes as the key it files
    /// and finds for it (`QuestionKey`: the client — a response's destination —, the lowercased name, the type), and a
    /// name with a capital is left out.
    @Test func questionKeyPartsHashAsTheQuestionKey() throws {
        let query = observed(Wire.query(id: 7, name: "svc.ns.svc.cluster.local", type: 28), at: 0)
        let response = observed(Wire.response(id: 7, name: "svc.ns.svc.cluster.local", type: 28), at: 2, from: Self.server,
                                to: Self.client)
        let key = QuestionKey(client: Self.client.address, name: query.question!.name.lowercased, type: DNSType(28))
        for m in [query, response] {
            let parts = try #require(ObservedMessage.questionKeyParts(atBox: m.boxAddress))
            #expect(QuestionKey.hash(client: parts.client, fingerprint: parts.fingerprint, type: parts.type, seed: 5)
                    == key._rawHashValue(seed: 5))
        }
        let capital = observed(Wire.query(id: 8, name: "Svc.ns.svc.cluster.local"), at: 4)
        #expect(ObservedMessage.questionKeyParts(atBox: capital.boxAddress) == nil)
    }

    /// What the analysis prefetches ahead of a response and of a lookup's end: a packet whose response the first stage
    /// matched names the box of the query's transaction, and that box names the query's; a transaction held in a
    /// window is read there as its box's address (a transaction is its box's reference alone).
    @Test func prefetchAddressesAreTheSettledTransactionsBoxes() throws {
        var stage = DecodingStage(configuration: .init(), recordsOnDemand: true, keepsPacketOctets: false)
        stage.matchAhead(TransactionMatcher.Configuration())
        let name = "svc.ns.svc.cluster.local"
        let query = stage.decode(Wire.packet(Wire.ethernet(payload: Wire.ipv4(payload: Wire.udp(payload: Wire.query(id: 9, name: name)))),
                                             micros: 0, frame: 1))
        #expect(query.parsed.firstSettledBox == 0)
        let response = stage.decode(Wire.packet(Wire.ethernet(payload: Wire.ipv4(src: [198, 18, 0, 1], dst: [198, 18, 0, 2],
                                                                                  payload: Wire.udp(sport: 53, dport: 40000, payload: Wire.response(id: 9, name: name)))),
                                                micros: 900, frame: 2))
        let settled = try #require(response.parsed[0].matched?.settled.first)
        #expect(settled.hasResponse && settled.query?.message.id == 9)
        #expect(response.parsed.firstSettledBox == UInt(bitPattern: settled.boxAddress))
        let queryBox = try #require(Transaction.queryBoxAddress(atBox: settled.boxAddress))
        #expect(queryBox == query.parsed[0].message!.boxAddress)

        #expect(MemoryLayout<Transaction>.size == MemoryLayout<UnsafeRawPointer>.size)
        var window = SequenceWindow<Transaction>()
        window.updateValue(settled, forKey: 4)
        #expect(window.withPlace(4) { Transaction.boxAddress(at: $0) } == settled.boxAddress)
        #expect(window.withPlace(5) { Transaction.boxAddress(at: $0) } == nil)
    }

    @Test func namesSharingAFingerprintAreNotMatchedToEachOther() {
        let fingerprint: UInt64 = 0x0123_4567_89ab_cdef
        let a = DNSName(wire: DNSName("a.example").wire, hash: fingerprint)
        let b = DNSName(wire: DNSName("b.example").wire, hash: fingerprint)
        let c = DNSName(wire: DNSName("c.example").wire, hash: fingerprint)
        #expect(a.fingerprint == b.fingerprint && a != b)
        let out = run([
            observed(Wire.query(id: 7, name: "a.example"), at: 0, name: a),
            observed(Wire.query(id: 7, name: "a.example"), at: 1, name: b),
            observed(Wire.response(id: 7, name: "a.example"), at: 5, name: a, from: Self.server, to: Self.client),
            observed(Wire.response(id: 7, name: "a.example"), at: 6, name: b, from: Self.server, to: Self.client),
            observed(Wire.response(id: 7, name: "a.example"), at: 7, name: c, from: Self.server, to: Self.client),
        ])
        #expect(out.map(\.status) == [.answered, .answered, .orphanResponse])
        #expect(out[0].question?.name == a && out[0].response?.question?.name == a)
        #expect(out[1].question?.name == b && out[1].response?.question?.name == b)
        #expect(out[2].response?.question?.name == c)
    }

    /// A message is one shared box: a field set on one copy leaves every other copy as it was.
    @Test func aMessageChangedThroughOneCopyLeavesTheOthers() {
        let original = observed(Wire.query(id: 1, name: "a.example"), at: 0)
        var changed = original
        changed.timestamp = Timestamp(seconds: 5, nanoseconds: 0)
        changed.source = Self.server
        changed.point.frame = 99
        changed.isReassembled = true
        #expect(original.timestamp == Timestamp(seconds: 1_700_000_000, nanoseconds: 0, digits: 6))
        #expect(original.source == Self.client && original.point.frame == 0 && !original.isReassembled)
        #expect(changed.timestamp == Timestamp(seconds: 5, nanoseconds: 0) && changed.source == Self.server)
        #expect(changed.point.frame == 99 && changed.isReassembled && changed.id == original.id)
        var sole = observed(Wire.query(id: 2, name: "b.example"), at: 1)
        sole.destination = Self.client
        #expect(sole.destination == Self.client && sole.id == 2)
    }

    @Test func queryAndResponse() throws {
        let t = run([observed(Wire.query(id: 1, name: "a.example"), at: 0),
                     observed(Wire.response(id: 1, name: "a.example"), at: 12, from: Self.server, to: Self.client)])
        #expect(t.count == 1)
        #expect(t[0].status == .answered)
        #expect(t[0].latencyNanoseconds == 12_000_000)
        #expect(TransactionCSV.formatMilliseconds(t[0].latencyNanoseconds!, digits: 6) == "12.000")
    }

    @Test func resendWithSameIDAnswersTheLatest() {
        // glibc re-sends the same id on the same socket after 5 s; the response answers the second send.
        let t = run([observed(Wire.query(id: 7, name: "a.example"), at: 0),
                     observed(Wire.query(id: 7, name: "a.example"), at: 5000),
                     observed(Wire.response(id: 7, name: "a.example"), at: 5003, from: Self.server, to: Self.client)])
        #expect(t.map(\.status) == [.unanswered, .answered])
        #expect(t[1].latencyNanoseconds == 3_000_000)
    }

    /// A re-send under the same key proves the earlier send lost (a response now goes to the newer one): it settles
    /// unanswered as the re-send arrives, not when its window passes. A re-send from another port does not: the
    /// first send's own answer could still come.
    @Test func aResendSettlesTheSendItMakesUnanswerable() {
        var matcher = TransactionMatcher()
        var settled: [(at: Int64, sequence: Int, status: Transaction.Status)] = []
        func add(_ m: ObservedMessage, _ ms: Int64) { matcher.add(m) { settled.append((ms, $0.sequence, $0.status)) } }
        add(observed(Wire.query(id: 7, name: "a.example", type: 28), at: 0), 0)
        add(observed(Wire.query(id: 9, name: "b.example"), at: 1), 1)
        #expect(settled.isEmpty)
        add(observed(Wire.query(id: 7, name: "a.example", type: 28), at: 5000), 5000)
        #expect(settled.map(\.sequence) == [0] && settled.first?.status == .unanswered && settled.first?.at == 5000)
        #expect(matcher.superseded == 1)
        let otherPort = Endpoint(address: Self.client.address, port: 40001)
        add(observed(Wire.query(id: 9, name: "b.example"), at: 5001, from: otherPort), 5001)
        #expect(settled.count == 1, "a re-send from a new port leaves the first send waiting")
        add(observed(Wire.response(id: 7, name: "a.example", type: 28), at: 5002, from: Self.server, to: Self.client), 5002)
        #expect(settled.last?.sequence == 2 && settled.last?.status == .answered)
        // Time moves on without a message: the first b.example send's window passes.
        matcher.advance(to: Timestamp(seconds: 1_700_000_000 + 70, nanoseconds: 0)) { settled.append((70_000, $0.sequence, $0.status)) }
        #expect(settled.suffix(2).map(\.sequence) == [1, 3] && settled.last?.status == .unanswered)
    }

    @Test func keyNeedsIDQuestionTransportAndEndpoints() {
        let q = observed(Wire.query(id: 1, name: "a.example"), at: 0)
        let others = [
            observed(Wire.response(id: 2, name: "a.example"), at: 1, from: Self.server, to: Self.client),
            observed(Wire.response(id: 1, name: "b.example"), at: 2, from: Self.server, to: Self.client),
            observed(Wire.response(id: 1, name: "a.example", type: 28, addresses: []), at: 3, from: Self.server, to: Self.client),
            observed(Wire.response(id: 1, name: "a.example"), at: 4, from: Self.server, to: Self.client, transport: .tcp),
            observed(Wire.response(id: 1, name: "a.example"), at: 5, from: Endpoint(address: .v4(9), port: 53), to: Self.client),
        ]
        let t = run([q] + others)
        #expect(t.map(\.status) == [.unanswered] + Array(repeating: .orphanResponse, count: 5))
    }

    @Test func questionMatchIsCaseInsensitive() {
        let t = run([observed(Wire.query(id: 1, name: "WwW.ExAmPlE.cOm"), at: 0),
                     observed(Wire.response(id: 1, name: "www.example.com"), at: 1, from: Self.server, to: Self.client)])
        #expect(t.map(\.status) == [.answered])
    }

    @Test func responseBeforeItsQueryIsAnOrphan() {
        let t = run([observed(Wire.response(id: 1, name: "a.example"), at: 0, from: Self.server, to: Self.client),
                     observed(Wire.query(id: 1, name: "a.example"), at: 1)])
        #expect(t.map(\.status) == [.orphanResponse, .unanswered])
    }

    @Test func responseAfterTheWindowIsAnOrphan() {
        let t = run([observed(Wire.query(id: 1, name: "a.example"), at: 0),
                     observed(Wire.response(id: 1, name: "a.example"), at: 3000, from: Self.server, to: Self.client)], window: 2)
        #expect(t.map(\.status) == [.unanswered, .orphanResponse])
    }

    @Test func outputIsInOrderOfFirstMessage() {
        let t = run([observed(Wire.query(id: 1, name: "slow.example"), at: 0),
                     observed(Wire.query(id: 2, name: "fast.example"), at: 1),
                     observed(Wire.response(id: 2, name: "fast.example"), at: 2, from: Self.server, to: Self.client),
                     observed(Wire.response(id: 1, name: "slow.example"), at: 900, from: Self.server, to: Self.client)])
        #expect(t.map(\.id) == [1, 2])
        #expect(t.map(\.status) == [.answered, .answered])
    }

    @Test func waitingQueriesAreBoundedByTheWindow() {
        var config = TransactionMatcher.Configuration()
        config.windowSeconds = 1
        var matcher = TransactionMatcher(configuration: config)
        var emitted = 0
        for i in 0..<10_000 {
            matcher.add(observed(Wire.query(id: UInt16(i & 0xffff), name: "a.example"), at: Int64(i) * 10)) { _ in emitted += 1 }
        }
        #expect(matcher.waitingCount <= 201)
        #expect(emitted >= 9_799)
    }

    @Test func answeredTransactionsLeaveNothingBehind() {
        var matcher = TransactionMatcher()
        var emitted = 0
        matcher.add(observed(Wire.query(id: 1, name: "slow.example"), at: 0)) { _ in emitted += 1 }
        for i in 0..<1000 {
            let id = UInt16(100 + i)
            matcher.add(observed(Wire.query(id: id, name: "x.example"), at: Int64(i) + 1)) { _ in emitted += 1 }
            matcher.add(observed(Wire.response(id: id, name: "x.example"), at: Int64(i) + 2, from: Self.server, to: Self.client)) { _ in emitted += 1 }
        }
        #expect(emitted == 1000)
        #expect(matcher.waitingCount == 1)
    }

    @Test func inSequenceRestoresOrder() {
        var order = InSequence<Int>()
        var out: [Int] = []
        for seq in [2, 0, 3, 1, 5] { order.add(seq, seq) { out.append($0) } }
        #expect(out == [0, 1, 2, 3])
        #expect(order.heldCount == 1)
        order.flush { out.append($0) }
        #expect(out == [0, 1, 2, 3, 5])
    }

    /// Long gaps (an unanswered query settles a minute later, after thousands of others): every item once, in order.
    @Test func inSequenceKeepsOrderAcrossLongGaps() {
        var sequences = Array(0..<30_000)
        // Each block of 1,000 arrives shuffled, and every 97th item only 5,000 later.
        var late: [Int] = []
        var arrivals: [Int] = []
        var seed: UInt64 = 42
        for block in stride(from: 0, to: sequences.count, by: 1000) {
            var part = Array(sequences[block..<block + 1000])
            for i in part.indices.reversed() {
                seed = seed &* 6364136223846793005 &+ 1442695040888963407
                part.swapAt(i, Int(seed >> 33) % (i + 1))
            }
            for s in part { if s % 97 == 0 { late.append(s) } else { arrivals.append(s) } }
            while let l = late.first, l + 5000 < block { arrivals.append(l); late.removeFirst() }
        }
        arrivals += late
        var order = InSequence<Int>()
        var out: [Int] = []
        for s in arrivals { order.add(s, s) { out.append($0) } }
        order.flush { out.append($0) }
        sequences.sort()
        #expect(out == sequences)
        #expect(order.heldCount == 0)
    }
}

@Suite("CSV")
struct CSVTests {
    @Test func quotingFollowsRFC4180() {
        func field(_ s: String) -> String {
            var row = CSVRow(reusing: OctetBuffer())
            row.text(s)
            return row.finish().string
        }
        #expect(field("plain") == "plain\n")
        #expect(field("a,b") == "\"a,b\"\n")
        #expect(field("say \"hi\"") == "\"say \"\"hi\"\"\"\n")
        #expect(field("two\nlines") == "\"two\nlines\"\n")
        #expect(field("cr\r") == "\"cr\r\"\n")
        // A special octet at every place of a field longer than a word, after a field already written.
        let long = "abcdefghijklmnopqrstu"
        for special in [",", "\"", "\n", "\r"] {
            for i in 0...long.count {
                let text = String(long.prefix(i)) + special + String(long.dropFirst(i))
                var row = CSVRow(reusing: OctetBuffer())
                row.text("x")
                row.text(text)
                let quoted = "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
                #expect(row.finish().string == "x," + quoted + "\n", "\(special) at \(i)")
            }
        }
    }

    @Test func latencyKeepsTheCapturePrecision() {
        #expect(TransactionCSV.formatMilliseconds(1_234_567, digits: 9) == "1.234567")
        #expect(TransactionCSV.formatMilliseconds(1_234_000, digits: 6) == "1.234")
        #expect(TransactionCSV.formatMilliseconds(5_000_000_000, digits: 6) == "5000.000")
    }

    @Test func headerHasTheRequiredColumnsInOrder() {
        let required = ["time", "proto", "client_ip", "client_port", "server_ip", "server_port", "id", "qname", "qtype",
                        "rcode", "latency_ms", "answers", "answer_data", "tc", "status"]
        let columns = TransactionCSV.columns
        #expect(required.allSatisfy(columns.contains))
        #expect(required.compactMap { columns.firstIndex(of: $0) } == required.compactMap { columns.firstIndex(of: $0) }.sorted())
    }
}

@Suite("Mutation fuzzing")
struct FuzzTests {
    @Test func mutatedPacketsNeverCrashAndAreAccountedFor() {
        var rng = SplitMix(state: 20261126)
        let seeds: [[UInt8]] = [
            Wire.ethernet(payload: Wire.ipv4(payload: Wire.udp(payload: Wire.response(id: 1, name: "www.example.com", addresses: [[1, 2, 3, 4], [5, 6, 7, 8]])))),
            Wire.ethernet(type: 0x86dd, payload: Wire.ipv6(next: 17, payload: Wire.udp(payload: Wire.query(id: 2, name: "a.b.c.d.example")))),
            Wire.ethernet(payload: Wire.ipv4(proto: 6, payload: Wire.tcp(seq: 5, payload: Wire.u16(33) + Wire.query(id: 3, name: "tcp.example")))),
            Wire.ethernet(vlans: [(0x8100, 5)], payload: Wire.ipv4(fragmentOffset: 0, moreFragments: true, payload: Wire.udp(payload: Wire.query(id: 4, name: "frag.example")))),
            Wire.ethernet(payload: Wire.ipv4(src: [198, 19, 0, 1], dst: [198, 19, 0, 2], proto: 4,
                                             payload: Wire.ipv4(payload: Wire.udp(payload: Wire.query(id: 5, name: "tunnel.example"))))),
        ]
        var pipeline = Pipeline()
        // The same packets through a pipeline whose payloads take the packets' octets over (every output but the
        // interface): the same rows. (Compared in sequence order, as the outputs write them: the order in which a
        // pipeline hands over transactions settled together follows its tables' hash seeds, which differ between
        // two pipelines.)
        var taking = Pipeline.Configuration()
        taking.keepsPacketOctets = false
        var takingPipeline = Pipeline(configuration: taking)
        var lines: [(Int, String)] = [], takenLines: [(Int, String)] = []
        var packets = 0
        for round in 0..<20_000 {
            var bytes = seeds[round % seeds.count]
            for _ in 0..<Int.random(in: 1...8, using: &rng) {
                switch Int.random(in: 0..<4, using: &rng) {
                case 0: if !bytes.isEmpty { bytes[Int.random(in: 0..<bytes.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng) }
                case 1: if !bytes.isEmpty { bytes.removeLast(Int.random(in: 0...min(8, bytes.count), using: &rng)) }
                case 2: bytes.insert(UInt8.random(in: 0...255, using: &rng), at: Int.random(in: 0...bytes.count, using: &rng))
                default: if bytes.count > 14 { bytes[Int.random(in: 14..<bytes.count, using: &rng)] ^= 0xc0 }
                }
            }
            let link: LinkType = [.ethernet, .ethernet, .ethernet, .linuxSLL2, .raw, .null, .nflog, .radiotap, .pktap].randomElement(using: &rng)!
            pipeline.process(Wire.packet(bytes, link: link, seconds: 1_700_000_000 + Int64(round / 100), frame: round + 1)) { t in
                // Anything shown must be safe to print.
                let line = TransactionLine.render(t) + TransactionCSV.row(t)
                #expect(!line.unicodeScalars.contains { $0.value < 0x20 && $0 != "\n" })
                lines.append((t.sequence, line))
            }
            takingPipeline.process(Wire.packet(bytes, link: link, seconds: 1_700_000_000 + Int64(round / 100), frame: round + 1)) { t in
                takenLines.append((t.sequence, TransactionLine.render(t) + TransactionCSV.row(t)))
            }
            packets += 1
        }
        pipeline.finish { lines.append(($0.sequence, TransactionLine.render($0) + TransactionCSV.row($0))) }
        takingPipeline.finish { takenLines.append(($0.sequence, TransactionLine.render($0) + TransactionCSV.row($0))) }
        lines.sort { $0.0 < $1.0 }
        takenLines.sort { $0.0 < $1.0 }
        #expect(lines.count > 1000 && takenLines.map(\.1) == lines.map(\.1))
        #expect(SummaryReport(summary: takingPipeline.summary, inputNames: ["fuzz"]).json
                    == SummaryReport(summary: pipeline.summary, inputNames: ["fuzz"]).json)
        #expect(pipeline.summary.packet.packets == packets)
        let s = pipeline.summary
        #expect(s.answered + s.unanswered + s.unmatchableQueries == s.queries)
        #expect(s.queries + s.responses == s.dnsMessages)
        #expect(s.orphanResponses + s.answered <= s.responses)
    }
}
