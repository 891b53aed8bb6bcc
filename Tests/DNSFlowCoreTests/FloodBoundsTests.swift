import Testing
@testable import DNSFlowCore

/// A flood of queries nobody answers is held within fixed bounds: at most `maxWaiting` queries wait for an answer,
/// at most `maxOpenLookups` lookups stay open; beyond them the oldest goes on early and is counted. Nothing is lost:
/// every query still comes out once, answers to recent queries still match.
@Suite("Bounds under a flood")
struct FloodBoundsTests {
    func packet(_ payload: [UInt8], port: UInt16, ms: Int64, response: Bool, frame: Int) -> CapturedPacket {
        let client: [UInt8] = [198, 18, UInt8(port >> 8 & 0x3f), UInt8(port & 0xff)]
        let server: [UInt8] = [198, 19, 0, 10]
        let udp = response ? Wire.udp(sport: 53, dport: port, payload: payload) : Wire.udp(sport: port, dport: 53, payload: payload)
        let ip = response ? Wire.ipv4(src: server, dst: client, payload: udp) : Wire.ipv4(src: client, dst: server, payload: udp)
        return Wire.packet(Wire.ethernet(payload: ip), seconds: 1_700_000_000 + ms / 1000, micros: UInt32(ms % 1000) * 1000, frame: frame)
    }

    @Test func waitingQueriesAndOpenLookupsStayBounded() {
        var configuration = Pipeline.Configuration()
        configuration.matcher.maxWaiting = 50
        configuration.maxOpenLookups = 40
        configuration.maxFlows = 100
        var pipeline = Pipeline(configuration: configuration)
        var finishedFlows: [FlowStats] = []
        var out: [Transaction] = []
        // 1,000 queries in one second from 1,000 sockets, each its own name; the last 10 answered.
        for i in 0..<1000 {
            pipeline.process(packet(Wire.query(id: UInt16(i), name: "q\(i).flood.example"), port: UInt16(1024 + i), ms: Int64(i), response: false, frame: i + 1)) { out.append($0) }
            #expect(pipeline.activeFlows.count <= 100)
            finishedFlows += pipeline.takeFinishedFlows()
        }
        // Every socket's flow is still told: held, or ended early and handed on.
        #expect(finishedFlows.count + pipeline.activeFlows.count == 1000)
        for i in 990..<1000 {
            pipeline.process(packet(Wire.response(id: UInt16(i), name: "q\(i).flood.example"), port: UInt16(1024 + i), ms: 1000 + Int64(i - 990), response: true, frame: 1001 + i - 990)) { out.append($0) }
        }
        pipeline.finish { out.append($0) }
        #expect(out.count == 1000)
        #expect(Set(out.map(\.sequence)).count == 1000)
        #expect(out.filter { $0.status == .answered }.count == 10)
        let s = pipeline.summary
        #expect(s.unanswered == 990 && s.answered == 10)
        #expect(s.queriesGivenUp == 1000 - 50 + 1, "the oldest given up to make room for each beyond the 50th")
        #expect(s.lookupsCutShort >= 900)
        #expect(SummaryReport(summary: s, inputNames: ["flood"]).text.contains("queries given up early"))
    }

    /// A capture that runs for hours holds what its last seconds need: 20,000 lookups answered at once, 10 ms apart
    /// (200 s), leave the analysis holding a few hundred lookups at most — opened, or ids kept in opening order (each
    /// finished lookup's id was kept for as long as the capture ran: 8 bytes a lookup, without bound).
    @Test func answeredLookupsAreLetGo() {
        var pipeline = Pipeline()
        var most = (open: 0, ordered: 0)
        var out = 0
        for i in 0..<20_000 {
            let port = UInt16(1024 + i % 256), id = UInt16(truncatingIfNeeded: i), name = "svc\(i % 5000).example"
            pipeline.process(packet(Wire.query(id: id, name: name), port: port, ms: Int64(i) * 10, response: false, frame: 2 * i + 1)) { _ in out += 1 }
            pipeline.process(packet(Wire.response(id: id, name: name), port: port, ms: Int64(i) * 10 + 1, response: true, frame: 2 * i + 2)) { _ in out += 1 }
            let held = pipeline.lookupsHeld
            most = (max(most.open, held.open), max(most.ordered, held.ordered))
        }
        pipeline.finish { _ in out += 1 }
        #expect(out == 20_000)
        #expect(pipeline.summary.answered == 20_000)
        #expect(most.open < 1_000, "open \(most.open)")
        #expect(most.ordered < 1_000, "ordered \(most.ordered)")
    }

    /// A live capture's flow may last for days (a resolver's socket to its upstream): beyond
    /// `FlowStats.maxExactLatencies` answers its latencies are counted in a histogram, percentiles within 0.05 % and
    /// given to three digits in `--flows-csv`, the largest exact. A file's flows keep every latency.
    @Test(arguments: [true, false])
    func aLongFlowsLatenciesAreCountedWhenTheyNeedNotBeExact(exact: Bool) throws {
        var configuration = Pipeline.Configuration()
        configuration.exactFlowLatencies = exact
        var pipeline = Pipeline(configuration: configuration)
        var latencies: [Int64] = []
        for i in 0..<5_000 {
            let id = UInt16(truncatingIfNeeded: i), name = "svc\(i).example", wait = Int64(1 + i % 9)
            pipeline.process(packet(Wire.query(id: id, name: name), port: 1024, ms: Int64(i) * 20, response: false, frame: 2 * i + 1)) { _ in }
            pipeline.process(packet(Wire.response(id: id, name: name), port: 1024, ms: Int64(i) * 20 + wait, response: true, frame: 2 * i + 2)) { _ in }
            latencies.append(wait * 1_000_000)
        }
        pipeline.finish { _ in }
        let flows = pipeline.takeFinishedFlows()
        #expect(flows.count == 1)
        let f = try #require(flows.first)
        #expect(f.answered == 5_000)
        latencies.sort()
        if exact {
            #expect(f.latencies.count == 5_000 && f.latencyHistogram == nil)
        } else {
            #expect(f.latencies.isEmpty && f.latencyHistogram?.count == 5_000)
        }
        for p in [50.0, 90, 99] {
            let want = try #require(nearestRankPercentile(p, sorted: latencies))
            let got = try #require(f.latencyPercentile(p))
            #expect(abs(got - want) * 2_000 <= want, "p\(p): \(got) against \(want)")
        }
        #expect(f.latencyPercentile(100) == latencies.last)
        let row = FlowCSV.row(f).split(separator: ",").map(String.init)
        let column = { (name: String) in row[FlowCSV.columns.firstIndex(of: name)!] }
        #expect(column("latency_p50_ms") == (exact ? "5.000" : "5.00"))
        #expect(column("latency_max_ms") == "9.000")
    }

    /// Under the bounds, nothing is given up or cut short, and the report says nothing of them.
    @Test func underTheBoundsNothingIsCounted() {
        var pipeline = Pipeline()
        var out: [Transaction] = []
        for i in 0..<200 {
            pipeline.process(packet(Wire.query(id: UInt16(i), name: "q\(i).example"), port: UInt16(1024 + i), ms: Int64(i), response: false, frame: i + 1)) { out.append($0) }
        }
        pipeline.finish { out.append($0) }
        #expect(out.count == 200 && pipeline.summary.queriesGivenUp == 0 && pipeline.summary.lookupsCutShort == 0)
        #expect(!SummaryReport(summary: pipeline.summary, inputNames: ["x"]).text.contains("given up"))
    }

    /// A query of about 53 KB (200 TXT records of 255 octets after its question: any bytes may come).
    func largeQuery(id: UInt16, name: String) -> [UInt8] {
        var m = Wire.header(id: id, an: 200) + Wire.name(name) + Wire.u16(16) + Wire.u16(1)
        let txt: [UInt8] = [0xc0, 0x0c, 0, 16, 0, 1, 0, 0, 0, 60, 1, 0, 255] + [UInt8](repeating: 0x78, count: 255)
        for _ in 0..<200 { m += txt }
        return m
    }

    /// Queries of 53 KB nobody answers: what waits stays within the matcher's budget in octets (here 1 MiB; 64 MiB by
    /// default), the oldest given up and counted as beyond `maxWaiting`; nothing is lost.
    @Test func largeQueriesWaitWithinABudgetInOctets() {
        var configuration = Pipeline.Configuration()
        configuration.matcher.maxWaitingBytes = 1 << 20
        var pipeline = Pipeline(configuration: configuration)
        var out: [Transaction] = []
        var most = 0
        for i in 0..<200 {
            pipeline.process(packet(largeQuery(id: UInt16(i), name: "big\(i).example"), port: UInt16(1024 + i), ms: Int64(i), response: false, frame: i + 1)) { out.append($0) }
            most = max(most, pipeline.heldBytes.waiting)
        }
        pipeline.finish { out.append($0) }
        #expect(most <= (1 << 20) + 200 << 10, "held \(most)")
        #expect(most > (1 << 20) / 2)
        #expect(pipeline.summary.queriesGivenUp > 150)
        #expect(out.count == 200 && Set(out.map(\.sequence)).count == 200)
    }

    /// Rows in order within a budget in octets: beyond it the earliest missing ones stop being waited for (counted),
    /// the held ones go on, and the missing ones are written when they come. Every row comes out once.
    @Test func rowsInOrderWithinABudget() {
        var rows = InSequence<String>(maxHeldBytes: 1000, weight: { $0.utf8.count })
        var written: [String] = []
        // Row 0 comes last; rows 1… of 100 octets each wait for it.
        for i in 1..<50 {
            rows.add(i, String(repeating: "x", count: 99) + "\(i % 10)") { written.append($0) }
            #expect(rows.heldBytes <= 1000 + 100)
        }
        #expect(rows.skipped == 1)
        #expect(written.count == 49 - rows.heldCount)
        rows.add(0, "first") { written.append($0) }
        rows.flush { written.append($0) }
        #expect(written.count == 50)
        #expect(written.contains("first"))
        // Under the budget, the order is kept and nothing is skipped.
        var ordered = InSequence<String>(maxHeldBytes: 1000, weight: { $0.utf8.count })
        var inOrder: [String] = []
        for i in [2, 1, 0, 4, 3] { ordered.add(i, "\(i)") { inOrder.append($0) } }
        #expect(inOrder == ["0", "1", "2", "3", "4"] && ordered.skipped == 0)
    }

    /// A writer that hands the next row on itself (`isNext`, `passed`) keeps the order with the rows that waited.
    @Test func rowsHandedOnByTheirWriter() {
        var rows = InSequence<String>(maxHeldBytes: 1000, weight: { $0.utf8.count })
        var written: [String] = []
        func write(_ i: Int) {
            if rows.isNext(i) {
                written.append("\(i)")
                rows.passed(i)
            } else {
                rows.add(i, "\(i)") { written.append($0) }
            }
        }
        for i in [0, 1, 3, 2, 4, 5, 7, 6, 8] {
            if i == 3 { #expect(rows.isNext(2) && !rows.isNext(3)) }
            if i == 2 { #expect(!rows.isNext(2), "2 is next, but 3 waits: the row goes through the waiting list") }
            write(i)
        }
        #expect(written == (0...8).map(String.init))
        #expect(rows.heldCount == 0 && rows.isNext(9))
    }
}
