import DNSFlowCapture
import DNSFlowCore
@testable import DNSFlowTUI
import Testing

/// Rows keep packed facts instead of whole transactions: the facts must say exactly what the transaction says.
@Suite("Packed rows")
struct QueryFactsTests {
    static let captures = [
        "Fixtures/lab/race-5s/pod.pcap", "Fixtures/captures/dns.pcap", "Fixtures/captures/dnssec.pcap",
        "Fixtures/captures/dns_tcp.pcap", "Fixtures/captures/dns-invalid-names.pcap", "Fixtures/captures/frags.pcap",
        "Fixtures/captures/dns-udp-double-request-response.pcap", "Fixtures/captures/pcapng-multi-interface.pcapng",
    ]

    @Test(arguments: captures)
    func factsSayWhatTheTransactionSays(_ capture: String) throws {
        let all = try transactions(capture)
        #expect(!all.isEmpty)
        for t in all {
            let f = QueryFacts(t, name: t.question.map { InternedName($0.name) })
            #expect(f.status == t.status)
            #expect(f.time == t.time)
            #expect(f.id == t.id)
            #expect(f.question == t.question)
            #expect(f.type == t.question?.type)
            #expect(f.rcode == t.response?.message.rcode)
            #expect(f.responseTime == t.response?.timestamp)
            #expect(f.latencyNanoseconds == t.latencyNanoseconds)
            #expect(f.precisionDigits == t.precisionDigits)
            #expect(f.hasQuery == (t.query != nil))
            #expect(f.analysis == t.analysis, "sequence \(t.sequence)")
            #expect(f.pairState == t.analysis.pairState && f.attempt == t.analysis.attempt)
            #expect(f.chain == t.analysis.chain && f.pair == t.analysis.pair && f.lookup == t.analysis.lookup)
        }
    }

    /// Fed as the interface feeds it — a query as it arrives, its answer as it matches, the analysis as it settles —
    /// each row ends with the facts of its final transaction (a row settling with the messages it shows takes the
    /// analysis alone).
    @Test(arguments: captures + ["Fixtures/lab/ndots-external/node-any.pcap", "Fixtures/captures/dns-wiresharkrepo.pcap",
                                 "Fixtures/captures/sll2.pcap"])
    func rowsFedEventByEventEndWithTheFinalFacts(_ capture: String) throws {
        let s = QueryStore()
        s.rebuild = { _ in nil }
        var pipeline = Pipeline()
        var final: [Int: Transaction] = [:]
        let source = MergedSource([try PcapHandle.openFile(root.appendingPathComponent(capture).path, input: 0)])
        let settle: (Transaction) -> Void = { t in
            s.settled(t)
            final[t.sequence] = t
        }
        while let p = source.next() {
            pipeline.process(p, onQuery: { s.queryArrived($0, $1, $2) }, onMatched: { s.matched($0) }, onTransaction: settle)
        }
        pipeline.finish(onQuery: { s.queryArrived($0, $1, $2) }, onMatched: { s.matched($0) }, onTransaction: settle)
        #expect(s.count == final.count)
        for e in s.entries {
            let t = try #require(final[e.sequence])
            let want = QueryFacts(t, name: t.question.map { InternedName($0.name) }), got = e.facts
            #expect(!e.isPending)
            #expect(got.status == want.status && got.time == want.time && got.responseTime == want.responseTime)
            #expect(got.rcode == want.rcode && got.id == want.id && got.question == want.question)
            #expect(got.analysis == want.analysis, "row \(e.sequence)")
            // Whether it is a problem is kept as a bit, worked out as its facts changed: it must be what the final
            // facts say (the rule as the list's `f` states it).
            #expect(e.isProblem == isProblem(t), "row \(e.sequence)")
        }
    }

    /// A file read at full speed feeds the interface without the fates told before a lookup settles, nor the pairs'
    /// provisional states (`InterfaceSink.showsFates`): every row and flow must end as the live feed leaves them.
    @Test(arguments: captures + ["Fixtures/lab/ndots-external/node-any.pcap", "Fixtures/captures/dns-wiresharkrepo.pcap",
                                 "Fixtures/lab/both-lost/node.pcapng", "Fixtures/lab/race-10s/pod.pcap"])
    func rowsFedWithoutTheirFatesEndAsTheLiveFeedLeavesThem(_ capture: String) throws {
        func load(fates: Bool) throws -> QueryStore {
            let s = QueryStore()
            s.rebuild = { _ in nil }
            var configuration = Pipeline.Configuration()
            configuration.provisionalPairStates = fates
            var pipeline = Pipeline(configuration: configuration)
            let source = MergedSource([try PcapHandle.openFile(root.appendingPathComponent(capture).path, input: 0)])
            var fatesTold = 0
            let matched: (Transaction) -> Void = { t in
                fatesTold += 1
                if fates { s.matched(t) }
            }
            while let p = source.next() {
                pipeline.process(p, onQuery: { s.queryArrived($0, $1, $2) }, onMatched: matched, onTransaction: { s.settled($0) })
            }
            pipeline.finish(onQuery: { s.queryArrived($0, $1, $2) }, onMatched: matched, onTransaction: { s.settled($0) })
            #expect(fatesTold > 0)
            return s
        }
        let live = try load(fates: true), file = try load(fates: false)
        #expect(file.count == live.count && file.count > 0)
        for (a, b) in zip(live.entries, file.entries) {
            let f = a.facts, g = b.facts
            #expect(a.sequence == b.sequence)
            #expect(f.status == g.status && f.time == g.time && f.responseTime == g.responseTime, "row \(a.sequence)")
            #expect(f.rcode == g.rcode && f.id == g.id && f.question == g.question, "row \(a.sequence)")
            #expect(f.analysis == g.analysis, "row \(a.sequence)")
            #expect(a.isPending == b.isPending && a.isProblem == b.isProblem && a.isFirstOfPair == b.isFirstOfPair,
                    "row \(a.sequence)")
            #expect(a.queryPacket == b.queryPacket && a.responsePacket == b.responsePacket, "row \(a.sequence)")
            #expect((a.kept == nil) == (b.kept == nil), "row \(a.sequence)")
            #expect(a.flow.number == b.flow.number && a.flow.key == b.flow.key, "row \(a.sequence)")
        }
        #expect(live.flows.map(\.number) == file.flows.map(\.number))
        #expect(file.answeredPending == 0 && file.unansweredPending == 0 && file.resendsPending == 0)
        #expect(live.latestTime == file.latestTime)
    }

    /// `f`'s rule, from the transaction itself.
    func isProblem(_ t: Transaction) -> Bool {
        let a = t.analysis
        if t.status != .answered, t.status != .unanswered { return true }
        if t.status == .unanswered || a.attempt > 1 || a.isProbableRetry { return true }
        if let state = a.pairState, state != .ok, state != .single { return true }
        if let l = t.latencyNanoseconds, l >= 100_000_000 { return true }
        if let w = a.lookupNanoseconds, w >= 1_000_000_000 { return true }
        if let r = t.responseRCode, r != .noError, r != .nxDomain { return true }
        return false
    }

    @Test func everyAnalysisValuePacksAndUnpacks() {
        var a = Analysis()
        a.attempt = 7
        a.retryGapNanoseconds = 5_000_000_123
        a.isProbableRetry = true
        a.chain = 0
        a.pair = Int(Int32.max)
        a.lookup = 12
        a.lookupNanoseconds = 0
        a.flow = 3
        a.querySightings = 2
        a.responseSightings = 255
        a.findings = ["parallel-a-aaaa-same-socket"]
        for gap in [Int64(5_000_000_123), nil] {  // with a re-send's gap the analysis is boxed; without, packed
            a.retryGapNanoseconds = gap
            for state in [nil, Analysis.PairState.ok, .retried, .partial, .failed, .single] {
                for same in [nil, true, false] {
                    a.pairState = state
                    a.sameSocket = same
                    #expect(PackedAnalysis(a).analysis == a)
                }
            }
        }
        // Beyond what packs, the whole analysis is boxed: every accessor still tells the truth.
        for change in [{ (a: inout Analysis) in a.chain = Int(Int32.max) + 1 }, { $0.attempt = 70_000 }, { $0.attempt = 256 },
                       { $0.querySightings = 1 << 20 }, { $0.responseSightings = 256 }, { $0.lookupNanoseconds = .min },
                       { $0.flow = Int(Int32.min) }] {
            var b = a
            change(&b)
            let p = PackedAnalysis(b)
            #expect(p.analysis == b)
            #expect(p.attempt == b.attempt && p.chain == b.chain && p.pair == b.pair && p.pairState == b.pairState)
            #expect(p.lookupNanoseconds == b.lookupNanoseconds && p.findings == b.findings)
        }
    }

    /// Times centuries apart (a corrupt capture) come back exact, and the latency as `Transaction` computes it.
    @Test func farApartTimesStayExact() throws {
        var t = try #require(try transactions("Fixtures/lab/race-5s/pod.pcap").first { $0.response != nil && $0.query != nil })
        for seconds in [Int64(0), -1, 9_999_999_999, -9_999_999_999, Int64.max / 2, Int64.min / 2] {
            t.response!.timestamp = Timestamp(seconds: seconds, nanoseconds: 999_999_999, digits: 9)
            let f = QueryFacts(t, name: nil)
            #expect(f.responseTime == t.response!.timestamp)
            #expect(f.latencyNanoseconds == t.latencyNanoseconds)
        }
    }

    /// Without a way to decode packets again the store keeps every transaction whole; Detail is unchanged.
    @Test func withoutPacketsRowsKeepTheirTransactions() throws {
        let all = try transactions("Fixtures/lab/race-5s/pod.pcap")
        let s = QueryStore()
        for t in all { s.settled(t) }
        for (e, t) in zip(s.entries, all) {
            #expect(DetailText.lines(for: s.transaction(of: e), packet: { _ in nil }) == DetailText.lines(for: t, packet: { _ in nil }))
        }
    }

    /// Should a row's packets be gone, Detail still shows what the row knows: the question, the times, the analysis.
    @Test func aRowWhosePacketsAreGoneShowsItsFacts() throws {
        let all = try transactions("Fixtures/lab/race-5s/pod.pcap")
        let s = QueryStore()
        s.rebuild = { _ in nil }
        for t in all { s.settled(t) }
        #expect(s.entries.allSatisfy { $0.kept == nil })
        for (e, t) in zip(s.entries, all) {
            let sketch = s.transaction(of: e)
            #expect(sketch.status == t.status && sketch.question == t.question && sketch.id == t.id)
            #expect(sketch.latencyNanoseconds == t.latencyNanoseconds && sketch.analysis == t.analysis)
            #expect(sketch.response?.message.rcode == t.response?.message.rcode)
            #expect(sketch.client == t.client && sketch.server == t.server)
        }
    }

    @Test func rowsShareOneNamePerDistinctName() throws {
        let all = try transactions("Fixtures/lab/race-5s/pod.pcap")
        let s = QueryStore()
        for t in all { s.settled(t) }
        var byName: [DNSName: ObjectIdentifier] = [:]
        for e in s.entries {
            guard let n = e.facts.name else { continue }
            if let seen = byName[n.name] { #expect(seen == ObjectIdentifier(n)) } else { byName[n.name] = ObjectIdentifier(n) }
        }
        #expect(byName.count < s.entries.count)
    }

    /// Rows are found by sequence without an index: every row, and nothing for a sequence without one (responses
    /// take sequence numbers too), before and after eviction.
    @Test func rowsAreFoundBySequence() throws {
        let all = try transactions("Fixtures/lab/race-10s/pod.pcap")
        for maxEntries in [1_000_000, 7] {
            let s = QueryStore(maxEntries: maxEntries)
            for t in all { s.settled(t) }
            let held = Dictionary(uniqueKeysWithValues: s.entries.map { ($0.sequence, $0.slot) })
            for sequence in -2...(all.map(\.sequence).max()! + 3) {
                #expect(s.entry(sequence: sequence).map(\.slot) == held[sequence], "sequence \(sequence)")
                #expect(s.entry(sequence: sequence).map(\.sequence) == held[sequence].map { _ in sequence })
            }
        }
    }

    /// One flow number everywhere: the interface groups rows by the analysis's flow (the CSV's `flow` column), so a
    /// 5-tuple the analysis ended (idle for its horizon) and saw again is a new group with the CSV's new number, and
    /// `flow:N` shows exactly the rows whose CSV column says N.
    @Test func flowGroupsAreTheAnalysisFlows() throws {
        var pipeline = Pipeline()
        let s = QueryStore()
        // The race capture's first exchange (an A query and its answer: packets 1 and 2, Ethernet, IPv4, UDP).
        let source = MergedSource([try PcapHandle.openFile(root.appendingPathComponent("Fixtures/lab/race-5s/pod.pcap").path, input: 0)])
        let exchange = [try #require(source.next()), try #require(source.next())]
        // The same socket at 0 s, 30 s and 100 s (idle 70 s: the analysis starts a new flow), another socket at 100 s.
        var csvFlows: [Int: Int] = [:]
        let settle: (Transaction) -> Void = { t in
            csvFlows[t.sequence] = t.analysis.flow
            s.settled(t)
        }
        var frame = 0
        for (seconds, port) in [(0, 1000), (30, 1000), (100, 2000), (100, 1000)] as [(Int64, UInt16)] {
            for (i, var p) in exchange.enumerated() {
                p.timestamp = p.timestamp.adding(seconds: seconds)
                frame += 1
                p.point.frame = frame
                let at = 14 + Int(p.data[14] & 0x0f) * 4 + (i == 0 ? 0 : 2)  // the client's port: source, then destination
                p.data[at] = UInt8(port >> 8)
                p.data[at + 1] = UInt8(port & 0xff)
                p.data[14 + Int(p.data[14] & 0x0f) * 4 + 6] = 0  // no UDP checksum
                p.data[14 + Int(p.data[14] & 0x0f) * 4 + 7] = 0
                pipeline.process(p, onQuery: { s.queryArrived($0, $1, $2) }, onMatched: { s.matched($0) }, onTransaction: settle)
            }
        }
        pipeline.finish(onMatched: { s.matched($0) }, onTransaction: settle)
        #expect(s.count == 4)
        let rows = s.entries.map { ($0.sequence, $0.flow.number) }
        #expect(rows.map(\.1) == [1, 1, 2, 3], "\(rows)")
        for (sequence, number) in rows { #expect(csvFlows[sequence] == number) }
        #expect(s.flow(number: 1)?.entries.count == 2 && s.flow(number: 3)?.key.client.port == 1000)
        // A row the analysis gave no flow joins a numberless group of its 5-tuple, never matched by `flow:N`.
        var loose = try #require(s.entries.first.map { s.transaction(of: $0) })
        loose.sequence = 1000
        loose.analysis.flow = nil
        s.settled(loose)
        let numberless = try #require(s.entries.last?.flow)
        #expect(numberless.label == "#–" && numberless.number >= FlowGroup.numberlessBase)
        #expect(s.flow(number: numberless.number) == numberless)
    }

    /// A pair's bracket is opened by the first of its rows to settle, once: in either order of settling, and under
    /// eviction (a sibling settling after the pair's first row went opens it itself).
    @Test func aPairsBracketOpensOnce() throws {
        let base = try transactions("Fixtures/lab/race-5s/pod.pcap")
        func copies(_ n: Int) -> [Transaction] {
            (0..<n).flatMap { copy in
                base.map { t in
                    var t = t
                    t.sequence += copy * 1000
                    if let p = t.analysis.pair { t.analysis.pair = p + copy * 1000 }
                    return t
                }
            }
        }
        func opened(_ s: QueryStore) -> [Int: [Int]] {
            var byPair: [Int: [Int]] = [:]
            for e in s.entries where e.isFirstOfPair { byPair[e.facts.pair!, default: []].append(e.sequence) }
            return byPair
        }
        let all = copies(50)
        let pairs = Set(all.compactMap { $0.analysis.attempt == 1 && !$0.analysis.isProbableRetry ? $0.analysis.pair : nil })
        #expect(!pairs.isEmpty)
        for reversed in [false, true] {
            let s = QueryStore()
            // The rows shown as their queries arrive, then settled in one order or the other.
            for t in all { if let q = t.query { s.queryArrived(t.sequence, q) } }
            for t in reversed ? all.reversed() : all { s.settled(t) }
            let byPair = opened(s)
            #expect(Set(byPair.keys) == pairs)
            for (p, rows) in byPair {
                #expect(rows.count == 1)
                // The first to settle: the pair's first query in time order, its sibling in reverse.
                #expect(reversed ? rows[0] != p || all.filter { $0.analysis.pair == p }.count == 1 : rows[0] == p)
            }
        }
        // Settled alone (each row made as it settles), then under eviction.
        let settledOnly = QueryStore()
        for t in all { settledOnly.settled(t) }
        #expect(Set(opened(settledOnly).keys) == pairs && opened(settledOnly).values.allSatisfy { $0.count == 1 })
        let evicting = QueryStore(maxEntries: 40)
        for t in all { evicting.settled(t) }
        #expect(evicting.evicted > 0)
        #expect(opened(evicting).values.allSatisfy { $0.count == 1 }, "\(opened(evicting).filter { $0.value.count > 1 })")
    }

    /// A flow keeps its addresses as numbers in the store's table: each row's flow gives back its 5-tuple, and under
    /// eviction the addresses of flows gone are let go (a long capture's clients are not all kept).
    @Test func flowAddressesGoWithTheirFlows() throws {
        let base = try #require(try transactions("Fixtures/lab/race-5s/pod.pcap").first { $0.query != nil && $0.response != nil })
        func from(_ i: Int) -> Transaction {
            var t = base
            t.sequence = i
            let client = Endpoint(address: i % 3 == 0 ? .v6(0x2001_0db8 << 32, UInt64(i)) : .v4(0x0a00_0000 | UInt32(i)),
                                  port: UInt16(1024 + i % 50_000))
            t.query!.source = client
            t.response!.destination = client
            t.analysis.flow = i + 1  // each its own socket: its own flow, as the analysis numbers them
            return t
        }
        for maxEntries in [1_000_000, 100] {
            let s = QueryStore(maxEntries: maxEntries)
            for i in 0..<5_000 { s.settled(from(i)) }
            for e in s.entries {
                let t = from(e.sequence)
                #expect(e.flow.key == FlowGroup.Key(transport: t.transport, client: t.client, server: t.server))
            }
            #expect(s.flows.count == s.count)
            // The server's address and one per client held.
            #expect(s.addressesHeld == s.flows.count + 1, "\(s.addressesHeld) addresses for \(s.flows.count) flows")
            // Flows are found by number while they have rows; the numbers of flows gone are not held (numbers only
            // grow: a live capture numbers a flow a lookup for as long as it runs).
            #expect(s.flowNumbersHeld == s.flows.count, "\(s.flowNumbersHeld) numbers for \(s.flows.count) flows")
            let newest = try #require(s.entries.last)
            #expect(s.flow(number: newest.sequence + 1)?.key == newest.flow.key)
            #expect((s.flow(number: 1) == nil) == (s.evicted > 0))
        }
    }

    /// Names go with their rows too: under eviction, a long capture's distinct names are not all kept.
    @Test func namesGoWithTheirRows() throws {
        let base = try #require(try transactions("Fixtures/lab/race-5s/pod.pcap").first { $0.query != nil && $0.response != nil })
        func named(_ i: Int) -> Transaction {
            func renamed(_ o: ObservedMessage) -> ObservedMessage {
                var m = o.message
                m.questions[0].name = DNSName("host\(i).example")
                return ObservedMessage(timestamp: o.timestamp, transport: o.transport, source: o.source,
                                       destination: o.destination, point: o.point, message: m)
            }
            var t = base
            t.sequence = i
            t.query = renamed(t.query!)
            t.response = renamed(t.response!)
            return t
        }
        let s = QueryStore(maxEntries: 100)
        for i in 0..<20_000 {
            s.settled(named(i))
            // A name filter now and then: the search forms made go with their names when names are pruned (a
            // stale one would be found by a new name at the same address).
            if i % 997 == 0 {
                let f = try QueryFilter("host\(i).")
                #expect(s.entries.filter(f.matches).map(\.sequence) == [i])
            }
        }
        #expect(s.evicted + s.count == 20_000 && s.count <= 100)
        #expect(s.internedNames < 8_192, "distinct names held: \(s.internedNames)")
        // The rows held keep theirs; a name seen again after its rows went is interned afresh.
        #expect(s.entries.map { $0.facts.name?.search } == s.entries.map { "host\($0.sequence).example" })
        s.settled(named(20_000))
        #expect(s.entries.last?.facts.name?.search == "host20000.example")
    }

    @Test func packetPlacesPackIntoSixteenBytes() throws {
        #expect(MemoryLayout<PacketRef>.size == 16)
        for (input, frame, offset) in [(0, 1, Int64(24)), (3, 123_456_789, Int64(1) << 40), (65_534, (1 << 48) - 1, 0)] {
            let ref = try #require(PacketRef(CapturePoint(input: input, frame: frame, fileOffset: offset)))
            #expect(ref.input == input && ref.frame == frame && ref.fileOffset == offset)
        }
        #expect(PacketRef(CapturePoint(input: 65_535, frame: 1)) == nil)
        #expect(PacketRef(CapturePoint(input: 0, frame: 1 << 48)) == nil)
        #expect(PacketRef(CapturePoint(input: -1, frame: 1)) == nil)
        // A row whose packet does not pack keeps its transaction (and stays whole in Detail and export).
        var t = try #require(try transactions("Fixtures/lab/race-5s/pod.pcap").first { $0.query != nil && $0.response != nil })
        t.response!.point = CapturePoint(input: 0, frame: 1 << 50)
        let s = QueryStore()
        s.rebuild = { _ in nil }
        s.settled(t)
        #expect(s.entries[0].kept != nil)
        #expect(s.entries[0].responsePacket == nil && s.entries[0].queryPacket != nil)
    }

    /// A row's flags (pending, marked, first of its pair) live in its facts' spare byte: replacing the facts as the
    /// row settles keeps them.
    @Test func aRowsFlagsOutliveItsFacts() throws {
        let all = try transactions("Fixtures/lab/race-10s/pod.pcap")
        let s = QueryStore()
        for t in all { if let q = t.query { s.queryArrived(t.sequence, q) } }
        #expect(s.entries.allSatisfy(\.isPending) && s.count > 4)
        for e in s.entries.prefix(4) { s.setMarked(e, true) }
        for t in all { s.settled(t) }
        #expect(s.entries.allSatisfy { !$0.isPending })
        #expect(s.entries.prefix(4).allSatisfy(\.isMarked) && s.markedCount == 4 && s.entries.filter(\.isMarked).count == 4)
        let opens = s.entries.filter(\.isFirstOfPair).count
        #expect(opens > 0)
    }

    /// A response's place is stored relative to its query's: one on another input, or too far (2^31 frames or octets)
    /// from it, is not, and the row keeps its transaction (Detail and export stay whole).
    @Test func aResponsePlaceFarFromItsQueryKeepsTheTransaction() throws {
        let base = try #require(try transactions("Fixtures/lab/race-5s/pod.pcap").first { $0.query != nil && $0.response != nil })
        let q = base.query!.point
        for (input, frame, offset, fits) in [(q.input, q.frame + 1, q.fileOffset + 100, true),
                                             (q.input, q.frame + (1 << 31) - 1, q.fileOffset, true),
                                             (q.input, q.frame + (1 << 31), q.fileOffset, false),
                                             (q.input, q.frame + 1, q.fileOffset + (1 << 31), false),
                                             (q.input, q.frame + 1, q.fileOffset - (1 << 31), true),
                                             (q.input + 1, q.frame + 1, q.fileOffset + 100, false)] {
            var t = base
            t.response!.point = CapturePoint(input: input, frame: frame, fileOffset: offset)
            let s = QueryStore()
            s.rebuild = { _ in nil }
            // Both ways in: settled at once, and answered after the query was shown alone.
            s.settled(t)
            let late = QueryStore()
            late.rebuild = { _ in nil }
            late.queryArrived(t.sequence, t.query!)
            late.matched(t)
            late.settled(t)
            for e in [s.entries[0], late.entries[0]] {
                #expect(e.queryPacket?.point == q)
                if fits {
                    #expect(e.responsePacket?.point == t.response!.point && e.kept == nil)
                } else {
                    #expect(e.responsePacket == nil && e.kept != nil)
                }
                #expect(e.facts.responseTime == t.response!.timestamp)
            }
        }
    }

    /// A probe asks a record only when the bits of the hash its bucket keeps agree: a key filed where another's hash
    /// put it (same place in the table, other bits) is not asked about, and found by its own.
    @Test func slotIndexAsksOnlyRecordsWhoseHashBitsAgree() {
        var index = SlotIndex()
        let hashes: [Int32: UInt64] = [0: 0x0000_0001_0000_0005, 1: 0x0001_0001_0000_0005]
        index.insert(0, hash: hashes[0]!)
        var asked: [Int32] = []
        #expect(index.find(hash: hashes[1]!) { asked.append($0); return true } == nil)
        #expect(asked.isEmpty)
        index.insert(1, hash: hashes[1]!)
        #expect(index.find(hash: hashes[1]!) { asked.append($0); return true } == 1)
        #expect(asked == [1])
        index.remove(0, hash: hashes[0]!)
        #expect(index.find(hash: hashes[0]!) { _ in true } == nil)
        #expect(index.find(hash: hashes[1]!) { _ in true } == 1)
    }

    /// The open-addressing index of slots agrees with a dictionary through inserts, removals (the buckets after a removed
    /// one shifted back), growth and filtering, with keys that collide on purpose: a hash of 16 values for 4,000 keys
    /// (long runs from one place), and one of 97 places whose runs meet and wrap around the table's end.
    @Test(arguments: [UInt64(16), 97])
    func slotIndexAgreesWithADictionary(values: UInt64) {
        var keys: [Int32: Int] = [:]      // slot -> key
        var reference: [Int: Int32] = [:] // key -> slot
        var index = SlotIndex()
        var state: UInt64 = 11
        func next() -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int(state >> 33)
        }
        func hash(_ key: Int) -> UInt64 {
            values == 16
                ? UInt64(key % 16) &* 0x9e37_79b9_7f4a_7c15
                : (UInt64(key) % values &* 0x9e37_79b9 & 0xffff_ffff) << 32 | UInt64(key)
        }
        var nextSlot: Int32 = 0
        for step in 0..<20_000 {
            let key = next() % 4_000
            switch next() % 10 {
            case 0..<6 where reference[key] == nil:
                keys[nextSlot] = key
                reference[key] = nextSlot
                index.insert(nextSlot, hash: hash(key))
                nextSlot += 1
            case 6..<9:
                if let slot = reference.removeValue(forKey: key) {
                    index.remove(slot, hash: hash(key))
                    keys[slot] = nil
                }
            case 9 where step % 500 == 0:
                index.filter { keys[$0]! % 3 != 0 }
                for (k, slot) in reference where k % 3 == 0 {
                    reference[k] = nil
                    keys[slot] = nil
                }
            default: break
            }
            let probe = next() % 4_000
            #expect(index.find(hash: hash(probe), matches: { keys[$0] == probe }) == reference[probe])
            #expect(index.count == reference.count)
        }
    }

    /// A flow's rows stay in sequence order as rows arrive in and out of order (orphans and malformed messages settle
    /// after later queries), and leave from the front as they are evicted.
    @Test func aFlowsRowsKeepTheirOrder() throws {
        let base = try #require(try transactions("Fixtures/lab/race-5s/pod.pcap").first)
        var state: UInt64 = 7
        func next() -> UInt64 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return state >> 33
        }
        for round in 0..<50 {
            let s = QueryStore(maxEntries: 12)
            var sequences = Array(0..<30).map { $0 * 10 }
            // Mostly in order, some late.
            for i in sequences.indices.dropFirst() where next() % 4 == 0 { sequences.swapAt(i, i - 1) }
            for seq in sequences {
                var t = base
                t.sequence = seq
                s.settled(t)
                let rows = s.entries.map(\.sequence)
                #expect(rows == rows.sorted(), "round \(round)")
                let flow = s.entries.map(\.flow)
                #expect(Set(flow.map(\.number)).count == 1)
                #expect(flow[0].entries.map(\.sequence) == rows && flow[0].entries.count == rows.count)
            }
            #expect(s.evicted + s.count == 30)
        }
    }

    /// A row's 40-bit sequence comes back whole, the vacant -1 too, and stays when the row's facts are replaced.
    @Test func rowSequencesComeBackWhole() throws {
        let facts = try QueryFacts(#require(try transactions("Fixtures/lab/race-5s/pod.pcap").first), name: nil)
        for sequence in [-1, 0, 1, 4_294_967_295, 4_294_967_296, 1 << 39 + 12_345, 1 << 40 - 2] {
            var r = RowRecord(sequence: sequence, facts: facts, flow: 3, isPending: true)
            #expect(r.sequence == sequence && r.flow == 3 && r.isPending)
            r.facts.setAnalysis(Analysis(), shared: nil)
            r.set(RowRecord.marked, true)
            #expect(r.sequence == sequence)
        }
        #expect(RowRecord.vacant.sequence == -1)
        // Through the store: a query's row settling (its facts made anew) keeps its sequence past 2^32.
        let all = try transactions("Fixtures/lab/race-5s/pod.pcap")
        let s = QueryStore()
        for (i, var t) in all.enumerated() {
            t.sequence = 1 << 33 + i
            if let q = t.query { s.queryArrived(t.sequence, q) }
            s.settled(t)
        }
        #expect(s.entries.map(\.sequence) == all.indices.map { 1 << 33 + $0 })
    }

    /// A row is a value of at most 112 bytes in the store's table (no object, no allocator rounding).
    @Test func aRowFitsIn112Bytes() throws {
        #expect(MemoryLayout<QueryFacts>.size <= 76, "facts: \(MemoryLayout<QueryFacts>.size) bytes")
        #expect(MemoryLayout<RowRecord>.stride <= 112, "\(MemoryLayout<RowRecord>.stride) bytes")
        let t = try #require(try transactions("Fixtures/lab/race-5s/pod.pcap").first)
        let s = QueryStore()
        s.settled(t)
        #expect(s.rows.count == 1 && s.entries[0].sequence == t.sequence)
    }
}

