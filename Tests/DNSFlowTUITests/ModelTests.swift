import DNSFlowCapture
import DNSFlowCore
import DNSFlowTUI
import Testing

@Suite("Rows, flows, marks and the filter")
struct ModelTests {
    @Test func pendingQueriesShowAtOnceAndSettleInPlace() throws {
        let all = try transactions("Fixtures/lab/race-5s/pod.pcap")
        let s = QueryStore()
        let first = try #require(all.first { $0.query != nil })
        s.queryArrived(first.sequence, first.query!)
        #expect(s.count == 1)
        #expect(s.entries[0].isPending)
        var screen = QueriesScreen()
        screen.grouped = false
        screen.update(s, page: 10)
        var canvas = Canvas(width: 100, height: 4)
        screen.render(into: &canvas, y0: 0, height: 4)
        #expect(canvas.text.contains("…0.00 ms"), "a waiting query shows how long it has waited")
        // Time moves on with no packet (a live clock): the age grows, and past the resolvers' timeout the row says so.
        let sent = first.query!.timestamp.totalNanoseconds
        for (later, text) in [(3_200_000_000, "…3.20 s"), (6_250_000_000, "✗6.2s timeout")] as [(Int64, String)] {
            s.advance(to: sent + later)
            screen.update(s, page: 10)
            canvas = Canvas(width: 100, height: 4)
            screen.render(into: &canvas, y0: 0, height: 4)
            #expect(canvas.text.contains(text), "\(canvas.text)")
        }
        // The response shows as soon as it matches, before the analysis is final; then the row settles.
        s.matched(first)
        #expect(s.answeredPending == 1)
        screen.update(s, page: 10)
        canvas = Canvas(width: 100, height: 4)
        screen.render(into: &canvas, y0: 0, height: 4)
        #expect(!canvas.text.contains("timeout"))
        #expect(canvas.text.contains("NOERROR"))
        s.settled(first)
        #expect(s.answeredPending == 0)
        #expect(s.count == 1)
        #expect(!s.entries[0].isPending)
        #expect(s.entries[0].facts.hasResponse)
    }

    /// Live, a pair's state shows on both of its rows as soon as either proves it: in the race capture the A is
    /// answered at once and the AAAA lost and re-sent; from the re-send on, the A's row (pending, its first query)
    /// shows the opening bracket in the retried state, `┌r`, over the AAAA's `└r`, before the lookup settles. At every
    /// packet, the pending first queries of a pair agree on its state.
    @Test func livePairsShowTheirStateOnBothRowsAtOnce() throws {
        var configuration = Pipeline.Configuration()
        configuration.provisionalPairStates = true
        var pipeline = Pipeline(configuration: configuration)
        let s = QueryStore()
        s.showsPairsEarly = true
        let source = MergedSource([try PcapHandle.openFile(root.appendingPathComponent("Fixtures/lab/race-10s/pod.pcap").path, input: 0)])
        var bothBeforeSettling = false
        while let p = source.next() {
            pipeline.process(p, onQuery: { s.queryArrived($0, $1, $2) }, onMatched: { s.matched($0) }, onTransaction: { s.settled($0) })
            let firsts = s.entries.filter { $0.isPending && $0.facts.attempt == 1 && !$0.facts.isProbableRetry && $0.facts.pair != nil }
            for (_, rows) in Dictionary(grouping: firsts, by: { $0.facts.pair! }) where rows.contains(where: { $0.facts.pairState != nil }) {
                #expect(Set(rows.map { $0.facts.pairState }).count == 1, "pair \(rows[0].facts.pair!): \(rows.map { $0.facts.pairState as Any })")
                #expect(rows.filter(\.isFirstOfPair).map(\.sequence) == [rows[0].facts.pair!])
                if rows.count == 2, rows.allSatisfy({ $0.facts.pairState == .retried }) {
                    var screen = QueriesScreen()
                    screen.grouped = false
                    screen.update(s, page: 10)
                    let text = render(screen, width: 120, height: 10).text
                    #expect(text.contains("┌r") && text.contains("└r"), "\(text)")
                    bothBeforeSettling = true
                }
            }
        }
        #expect(bothBeforeSettling)
    }

    /// A row is found by its sequence whatever gaps the sequences have (runs of consecutive ones, where the store
    /// guesses the place) and in whatever order rows arrive; a sequence without a row finds none.
    @Test func rowsAreFoundBySequenceAcrossGapsAndDisorder() throws {
        let base = try #require(try transactions("Fixtures/lab/race-5s/pod.pcap").first { $0.query != nil })
        // Runs of consecutive sequences with gaps between them, added out of order now and then.
        var sequences: [Int] = []
        for run in 0..<40 { sequences += (0..<(run % 7 + 1)).map { run * 20 + $0 } }
        var arrival = sequences
        for i in stride(from: 0, to: arrival.count - 3, by: 5) { arrival.swapAt(i, i + 3) }
        let s = QueryStore()
        for (n, seq) in arrival.enumerated() {
            var t = base
            t.sequence = seq
            s.settled(t)
            // Asked for at every step, old and new, present and absent.
            for probe in [seq, seq - 1, seq + 1, arrival[n / 2], -1] {
                let present = arrival[...n].contains(probe)
                #expect((s.entry(sequence: probe)?.sequence == probe) == present, "\(probe) after \(n + 1) rows")
                #expect(present || s.entry(sequence: probe) == nil)
            }
        }
        #expect(s.entries.map(\.sequence) == sequences)
    }

    @Test func oldestRowsAreEvictedBeyondTheBoundAndCounted() throws {
        let base = try transactions("Fixtures/lab/race-5s/pod.pcap")
        let s = QueryStore(maxEntries: 160)
        var evicted: [Int] = []
        s.onEvict = { evicted += $0.map(\.sequence) }
        for copy in 0..<100 {
            for var t in base {
                t.sequence += copy * 1000
                s.settled(t)
            }
        }
        #expect(s.count <= 160)
        #expect(s.count + s.evicted == 100 * base.count)
        #expect(evicted.count == s.evicted)
        #expect(evicted == evicted.sorted(), "oldest first")
        #expect(s.entries.first!.sequence > evicted.last!)
        // Flow groups drop evicted rows too, and go when empty.
        #expect(s.flows.map(\.entries.count).reduce(0, +) == s.count)
        #expect(s.flows.allSatisfy { !$0.entries.isEmpty })
    }

    /// Rows whose transactions are kept whole (no packets to decode them from again: TCP, fragments, or no packet
    /// source as here) keep them within a budget in octets: the oldest let go first (counted), their rows keep their
    /// facts; the newest still show their records.
    @Test func keptTransactionsStayWithinTheirBudget() throws {
        let base = try transactions("Fixtures/lab/race-5s/pod.pcap")
        let budget = 50_000
        let s = QueryStore(maxKeptBytes: budget)
        var most = 0
        for copy in 0..<100 {
            for var t in base {
                t.sequence += copy * 1000
                s.settled(t)
                most = max(most, s.keptBytes)
            }
        }
        #expect(s.count == 100 * base.count, "rows are not evicted: only their messages")
        #expect(most <= budget + 4096, "held \(most)")
        #expect(s.keptDropped > 0)
        let answered = try #require(base.first { $0.response?.message.answers.isEmpty == false })
        let oldest = try #require(s.entries.first { $0.sequence == answered.sequence })
        let newest = try #require(s.entries.first { $0.sequence == answered.sequence + 99 * 1000 })
        #expect(s.transaction(of: oldest).response?.message.answers.isEmpty == true, "let go: the facts alone")
        #expect(s.transaction(of: newest).response?.message.answers.isEmpty == false, "kept whole")
        #expect(s.transaction(of: oldest).latencyNanoseconds == answered.latencyNanoseconds)
    }

    /// A row evicted while pending does not come back when its transaction settles (or its answer arrives) later: it
    /// would land in the middle of the list only to be evicted again, and be counted twice.
    @Test func evictedRowsDoNotComeBack() throws {
        let base = try transactions("Fixtures/lab/race-5s/pod.pcap").filter { $0.query != nil }
        let s = QueryStore(maxEntries: 100)
        var pending: [Transaction] = []
        for copy in 0..<40 {
            for var t in base {
                t.sequence += copy * 1000
                s.queryArrived(t.sequence, t.query!)
                pending.append(t)
            }
        }
        let evictedBefore = s.evicted
        #expect(evictedBefore > 0)
        let shown = s.entries.map(\.sequence)
        for t in pending where t.response != nil { s.matched(t) }
        for t in pending { s.settled(t) }
        #expect(s.entries.map(\.sequence) == shown)
        #expect(s.evicted == evictedBefore)
        #expect(s.entries.allSatisfy { !$0.isPending })
    }

    @Test func marksFollowRowsAndFlows() throws {
        let (s, _) = try store("Fixtures/lab/race-10s/pod.pcap")
        let g = try #require(s.flows.first)
        s.toggleMark(g)
        #expect(s.markedCount == g.entries.count)
        #expect(g.stats.marked == g.entries.count)
        s.toggleMark(g)
        #expect(s.markedCount == 0)
        s.toggleMark(s.entries[0])
        #expect(s.markedEntries.map(\.sequence) == [s.entries[0].sequence])
    }

    @Test func filterTerms() throws {
        let (s, _) = try store("Fixtures/lab/race-5s/pod.pcap")
        func count(_ text: String) throws -> Int {
            let f = try QueryFilter(text)
            return s.entries.filter(f.matches).count
        }
        #expect(try count("") == 4)
        #expect(try count("type:AAAA") == 2)
        #expect(try count("TYPE:aaaa") == 2)
        #expect(try count("!type:AAAA") == 2)
        #expect(try count("status:unanswered") == 1)
        #expect(try count("retry") == 2)
        #expect(try count("rcode:NOERROR") == 3)
        #expect(try count("web.default") == 4)
        #expect(try count("nosuchname") == 0)
        #expect(try count("client:198.18.1.2") == 4)
        #expect(try count("client:198.18.") == 4)
        #expect(try count("server:198.18.3.10.53") == 4)
        #expect(try count("client:10.0.0.1") == 0)
        #expect(try count(">100ms") == 0)
        #expect(try count("<100ms") == 3)
        #expect(try count(">=0.2ms type:A") == 2)
        #expect(try count("finding:conntrack-race") == 4)
        #expect(try count("pair:retried") == 4)
        #expect(try count("flow:1") == 4)
        #expect(try count("proto:tcp") == 0)
        // What the lookup waited (5.01 s, on every row of it), not one query's latency.
        #expect(try count("wait>1s") == 4)
        #expect(try count("wait>=5s") == 4)
        #expect(try count("wait<1s") == 0)
        #expect(try count("wait>6s") == 0)
        #expect(try count("waiter") == 0, "a word that only starts with wait is a name")
        #expect(throws: FilterError.self) { try QueryFilter("wait>soon") }
        #expect(throws: FilterError.self) { try QueryFilter("colour:red") }
        #expect(throws: FilterError.self) { try QueryFilter(">fast") }
        #expect(throws: FilterError.self) { try QueryFilter("status:lost") }
        #expect(throws: FilterError.self) { try QueryFilter("id:70000") }
    }

    @Test func problemRowsAreTheOnesWorthALook() throws {
        let (clean, _) = try store("Fixtures/lab/clean/pod.pcap")
        #expect(clean.entries.filter(\.isProblem).isEmpty)
        // A lookup that waited a second or more is a problem on every row, even where each query was fast and answered.
        let (walk, _) = try store("Fixtures/lab/race-10s/pod.pcap")
        let slow = walk.entries.filter { ($0.facts.lookupNanoseconds ?? 0) >= 1_000_000_000 }
        #expect(!slow.isEmpty && slow.allSatisfy(\.isProblem))
        #expect(slow.contains { $0.facts.status == .answered && $0.facts.attempt == 1 && ($0.facts.latencyNanoseconds ?? 0) < 1_000_000 })
        let (race, _) = try store("Fixtures/lab/race-5s/pod.pcap")
        #expect(race.entries.filter(\.isProblem).count == 4)
    }

    @Test func listCursorFollowsTheEndOnlyFromTheEnd() {
        var c = ListCursor()
        c.move(.end, count: 10, page: 4)
        #expect(c.index == 9 && c.follows && c.top == 6)
        c.clamp(count: 12, page: 4)
        #expect(c.index == 11 && c.top == 8)
        c.move(.up, count: 12, page: 4)
        #expect(!c.follows)
        c.clamp(count: 20, page: 4)
        #expect(c.index == 10)
    }
}
