import DNSFlowCapture
import DNSFlowCore
import DNSFlowTUI
import Foundation
import Testing

/// The packets of a capture by frame, for the Detail hex view.
func packetsByFrame(_ relative: String) throws -> [Int: CapturedPacket] {
    let h = try PcapHandle.openFile(root.appendingPathComponent(relative).path, input: 0)
    var out: [Int: CapturedPacket] = [:]
    while case .packet(let p) = h.next() { out[p.point.frame] = p }
    return out
}

/// The interface on a capture, loaded whole, as the offline loop leaves it.
func loadedApp(_ relative: String) throws -> App {
    let (s, summary) = try store(relative)
    var app = App(source: relative, store: s)
    let packets = try packetsByFrame(relative)
    app.packets = { packets[$0.frame] }
    app.fileStamp = { "20261126-120000" }
    app.status.mode = "offline"
    app.update(summary: summary, percentiles: true)
    app.refresh(height: 24)
    return app
}

func temporaryDirectory() throws -> URL {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("dnsflow-app-\(getpid())-\(UUID().uuidString.prefix(8))")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return dir
}

extension App {
    mutating func keys(_ keys: String..., height: Int = 24) {
        for k in keys { handle(key: k, height: height) }
    }

    mutating func type(_ text: String, height: Int = 24) {
        for ch in text { handle(key: ch == " " ? "Space" : String(ch), height: height) }
    }
}

@Suite("The interface, screen by screen")
struct AppTests {
    /// Every screen at 80x24 and a wide size, on the 5 s race: the goldens are the screens a user sees.
    @Test(arguments: [(80, 24), (132, 34)])
    func everyScreen(width: Int, height: Int) throws {
        var app = try loadedApp("Fixtures/lab/race-5s/pod.pcap")
        let size = "\(width)x\(height)"
        func shot(_ name: String) throws {
            app.refresh(height: height)
            try expectGolden(app.render(width: width, height: height).text, "app-\(name)-race-5s-\(size).txt")
        }
        try shot("queries")
        app.keys("2", height: height)
        try shot("flows")
        app.keys("3", height: height)
        try shot("timeline")
        app.keys("4", height: height)
        try shot("findings")
        app.keys("1", "Down", "Enter", height: height)
        try shot("detail")
        app.keys("Esc", "?", height: height)
        try shot("help")
    }

    @Test func screensSwitchAndQuitComesBackFirst() throws {
        var app = try loadedApp("Fixtures/lab/race-5s/pod.pcap")
        app.keys("2")
        #expect(app.screen == .flows)
        app.keys("Tab")
        #expect(app.screen == .timeline)
        app.keys("BackTab", "BackTab")
        #expect(app.screen == .queries)
        // Enter on a flow drills into its queries; q comes back to Flows, q again quits.
        app.keys("2", "Enter")
        #expect(app.screen == .queries)
        #expect(app.queries.filter.text == "flow:1")
        app.keys("q")
        #expect(app.screen == .flows)
        #expect(app.queries.filter.isEmpty)
        #expect(!app.wantsQuit)
        // A finding's evidence rows.
        app.keys("4", "Enter")
        #expect(app.queries.filter.text == "finding:conntrack-race")
        app.keys("Esc")
        #expect(app.screen == .findings)
        // Detail and help are closed by q, not quit through.
        app.keys("1", "Down", "Enter")
        #expect(app.detail != nil)
        app.keys("q")
        #expect(app.detail == nil && !app.wantsQuit)
        app.keys("?", "q")
        #expect(app.help == nil && !app.wantsQuit)
        // Overlays stack: Help over Detail comes off first, and Detail is still there under it.
        app.keys("Enter", "?")
        #expect(app.help != nil && app.detail != nil)
        #expect(app.render(width: 100, height: 24).text.contains("Help — every key"))
        app.keys("Esc")
        #expect(app.help == nil && app.detail != nil)
        #expect(app.render(width: 100, height: 24).text.contains("Detail — "))
        app.keys("q")
        #expect(app.detail == nil && !app.wantsQuit)
        app.keys("q")
        #expect(app.wantsQuit)
    }

    @Test func detailShowsBothMessagesAndTheRawPacket() throws {
        var app = try loadedApp("Fixtures/lab/race-5s/pod.pcap")
        app.keys("Down", "Enter")
        let text = try #require(app.detail).lines.map(\.text).joined(separator: "\n")
        #expect(text.contains("ANSWER SECTION"))
        #expect(text.contains("0000  "))
    }

    /// The status bar leads with what the application waited: lookups, the slow ones, the longest (the 10 s race's
    /// walk waited 10.01 s, though no query took a millisecond); `s` sorts by it, Flows shows it per flow.
    @Test func theLookupsWaitLeads() throws {
        var app = try loadedApp("Fixtures/lab/race-10s/pod.pcap")
        let wide = app.render(width: 132, height: 24).text.split(separator: "\n")
        #expect(wide[1].hasPrefix(" lookups 1  slow 1  worst 10.01 s  packets 14"), "\(wide[1])")
        let narrow = app.render(width: 80, height: 24).text.split(separator: "\n")
        #expect(narrow[1].hasPrefix(" lookups 1  slow 1  worst 10.01 s  pkts 14") && narrow[1].count <= 80, "\(narrow[1])")
        app.keys("g", "s")
        #expect(app.queries.sort == .wait)
        #expect(app.render(width: 132, height: 24).text.contains("NAME (by lookup wait▼)"))
        app.keys("2")
        let flows = app.render(width: 132, height: 24).text
        #expect(flows.contains("WAITED") && flows.contains("‼10.01 s"))
    }

    /// Timeline: zooming keeps the selected row on screen; scrolled before the first query and zoomed out, the axis
    /// reads as durations (`−10 s`), never as negative nanosecond counts; a query the client gave up on ends its red
    /// bar where its lookup ended, not at the end of the capture.
    @Test func theTimelineZoomsAroundTheSelectedRowAndReadsRight() throws {
        var app = try loadedApp("Fixtures/lab/race-10s/pod.pcap")
        app.keys("3")
        app.keys("End")
        app.keys("Up", "Up")
        let selected = app.timeline.rows[app.timeline.cursor.index].head
        let sent = selected.facts.time.totalNanoseconds
        for key in ["+", "+", "+", "+", "-", "-", "-", "-", "-", "-", "+"] {
            app.keys(key)
            _ = app.render(width: 132, height: 34)
            let start = try #require(app.timeline.start), span = try #require(app.timeline.span)
            #expect(sent >= start && sent < start + span, "the selected row's send left the window after \(key)")
            #expect(app.timeline.rows[app.timeline.cursor.index].head.sequence == selected.sequence)
        }
        app.keys("h", "h", "+", "+", "-", "-", "-", "-")
        let axis = app.render(width: 132, height: 34).text.split(separator: "\n")[2]
        #expect(!axis.contains("+-") && !axis.contains("000000"), "\(axis)")
        // parallel-loss: a query never answered, given up on when its lookup ended 3.0 s after it began.
        var lost = try loadedApp("Fixtures/lab/parallel-loss/pod.pcap")
        lost.keys("3")
        _ = lost.render(width: 132, height: 34)
        let row = try #require(lost.timeline.rows.first { $0.gaveUp != nil })
        let bar = try #require(row.gaveUp) - row.head.facts.time.totalNanoseconds
        #expect(bar > 0 && bar <= 3_100_000_000, "the bar runs \(bar) ns")
    }

    @Test func filterPromptAppliesAndRejects() throws {
        var app = try loadedApp("Fixtures/lab/race-5s/pod.pcap")
        app.keys("g", "/")
        app.type("type:AAAA")
        app.keys("Enter")
        #expect(app.queries.lines.count == 2)
        #expect(app.render(width: 100, height: 24).text.contains("/type:AAAA"))
        app.keys("/")
        app.keys("Ctrl-U")
        app.type("colour:red")
        app.keys("Enter")
        #expect(app.queries.filter.text == "type:AAAA", "a bad filter leaves the old one")
        #expect(app.message?.text.contains("unknown term") == true)
        app.keys("/", "Esc")
        #expect(app.queries.filter.text == "type:AAAA")
        app.keys("f")
        #expect(app.queries.problemsOnly)
    }

    @Test func spaceAndEExportTheMarkedRowsAtomically() throws {
        var app = try loadedApp("Fixtures/lab/race-5s/pod.pcap")
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        app.directory = dir.path + "/"
        app.keys("g", "Down", "Space", "Space")     // marks rows 2 and 3 (Space moves down)
        #expect(app.store.markedCount == 2)
        let marked = app.store.markedEntries.map { $0.facts.id }
        app.keys("e")
        #expect(app.render(width: 100, height: 24).text.contains("dnsflow-20261126-120000.csv"))
        app.keys("Enter")
        let path = dir.appendingPathComponent("dnsflow-20261126-120000.csv").path
        let csv = try String(contentsOfFile: path, encoding: .utf8)
        let rows = csv.split(separator: "\n")
        #expect(rows.count == 3)
        #expect(rows[0].hasPrefix("time,proto,client_ip"))
        let idColumn = TransactionCSV.columns.firstIndex(of: "id")!
        #expect(rows.dropFirst().map { UInt16($0.split(separator: ",", omittingEmptySubsequences: false)[idColumn])! } == marked)
        #expect(app.message?.text == "wrote 2 rows to \(path)")
        // The same name again: asks; n keeps the file, y overwrites.
        app.keys("e", "Enter")
        #expect(app.render(width: 100, height: 24).text.contains("exists; overwrite? (y/n)"))
        app.keys("n")
        #expect(app.message?.text.contains("not written") == true)
        app.keys("E", "Enter", "y")
        #expect(try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").count == 5)
        // An unwritable place: says why, keeps the marks, leaves nothing behind.
        app.directory = "/nonexistent-dir/"
        app.keys("e", "Enter")
        #expect(app.message?.text.contains("cannot write") == true)
        #expect(app.message?.text.contains("marks are kept") == true)
        #expect(app.store.markedCount == 2)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["dnsflow-20261126-120000.csv"])
    }

    /// `E` exports what the screen shows: Flows the flows, in `--flows-csv`'s columns and values; Findings the selected
    /// finding's rows. `T` marks every row the filter shows, `U` clears every mark; `s` shows the new order from its top.
    @Test func eachScreenExportsWhatItShowsAndMarksGoInOneKey() throws {
        var app = try loadedApp("Fixtures/lab/race-10s/pod.pcap")
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        app.directory = dir.path + "/"
        // The analysis's own flows, as --flows-csv writes them.
        var configuration = Pipeline.Configuration()
        configuration.keepsFinishedFlows = true
        var pipeline = Pipeline(configuration: configuration)
        let source = MergedSource([try PcapHandle.openFile(root.appendingPathComponent("Fixtures/lab/race-10s/pod.pcap").path, input: 0)])
        while let p = source.next() { pipeline.process(p) { _ in } }
        pipeline.finish { _ in }
        let expected = FlowCSV.header + pipeline.takeFinishedFlows().sorted { $0.id < $1.id }.map { FlowCSV.row($0) }.joined()
        app.keys("2", "E")
        #expect(app.render(width: 100, height: 24).text.contains("export 4 flows to CSV"))
        app.keys("Enter")
        let flows = try String(contentsOfFile: dir.appendingPathComponent("dnsflow-20261126-120000-flows.csv").path, encoding: .utf8)
        #expect(flows == expected)
        app.keys("4", "E", "Enter")
        let findingFile = try #require(try FileManager.default.contentsOfDirectory(atPath: dir.path).first { $0.contains("conntrack-race") || $0.contains("serial") || $0.contains("answer") || $0.contains("ndots") })
        let findingRows = try String(contentsOfFile: dir.appendingPathComponent(findingFile).path, encoding: .utf8).split(separator: "\n")
        let id = String(findingFile.dropFirst("dnsflow-20261126-120000-".count).dropLast(4))
        let findingColumn = TransactionCSV.columns.firstIndex(of: "finding")!
        #expect(findingRows.count > 1 && findingRows.dropFirst().allSatisfy { $0.split(separator: ",", omittingEmptySubsequences: false)[findingColumn].contains(id) })
        // Marks: all the filter shows, then none.
        app.keys("1", "/")
        app.type("type:AAAA")
        app.keys("Enter", "T")
        #expect(app.store.markedCount == 4 && app.store.markedEntries.allSatisfy { $0.facts.type == .aaaa })
        app.keys("U")
        #expect(app.store.markedCount == 0)
        // Sorting shows the list from its top.
        app.keys("/", "Ctrl-U", "Enter", "g", "End", "s")
        #expect(app.queries.cursor.index == 0)
    }

    @Test func wSavesTheMarkedPacketsAsPcap() throws {
        var app = try loadedApp("Fixtures/lab/race-5s/pod.pcap")
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        app.directory = dir.path + "/"
        app.keys("g", "Space")
        app.keys("w", "Enter")
        let path = dir.appendingPathComponent("dnsflow-20261126-120000.pcap").path
        let h = try PcapHandle.openFile(path, input: 0)
        var frames = 0
        while case .packet = h.next() { frames += 1 }
        #expect(frames == 2, "the query and its response")
    }

    @Test func statusPercentilesComeFromEitherKindOfSummary() {
        // dnsflow's interface counts latencies in a histogram; a pipeline that keeps them all gives exact figures.
        var counted = Summary(), listed = Summary()
        counted.keepsExactLatencies = false
        for i in 1...1_000 { counted.latencyHistogram.add(Int64(i) * 10_000) }
        listed.latencies = (1...1_000).map { Int64($0) * 10_000 }
        for summary in [counted, listed] {
            var app = App(source: "test", store: QueryStore())
            app.update(summary: summary, percentiles: true)
            #expect(app.status.p50.map { abs($0 - 5_000_000) <= 5_000_000 / 2048 } == true)
            #expect(app.status.p99.map { abs($0 - 9_900_000) <= 9_900_000 / 2048 } == true)
        }
    }

    @Test func pauseHoldsNewRowsUntilResumed() throws {
        let all = try transactions("Fixtures/lab/race-5s/pod.pcap")
        var app = App(source: "test")
        app.status.canPause = true
        app.add(all[0])
        app.keys("p")
        #expect(app.isPaused)
        app.add(all[1])
        #expect(app.store.count == 1)
        #expect(app.render(width: 100, height: 24).text.contains("[paused +1]"))
        app.keys("p")
        #expect(app.store.count == 2)
    }

    @Test func mouseSwitchesTabsSelectsRowsAndScrolls() throws {
        var app = try loadedApp("Fixtures/lab/race-10s/pod.pcap")
        let text = app.render(width: 100, height: 24).text
        let flowsTab = try #require(text.split(separator: "\n").first?.range(of: "2 Flows"))
        let x = text.split(separator: "\n").first!.distance(from: text.startIndex, to: flowsTab.lowerBound)
        app.handle(mouse: .click(x: x, y: 0), width: 100, height: 24)
        #expect(app.screen == .flows)
        app.handle(mouse: .click(x: 2, y: 0), width: 100, height: 24)   // the brand: nothing
        #expect(app.screen == .flows)
        app.keys("1")
        app.handle(mouse: .click(x: 10, y: 5), width: 100, height: 24)
        #expect(app.queries.cursor.index == 2)
        app.handle(mouse: .wheelDown(x: 10, y: 5), width: 100, height: 24)
        #expect(app.queries.cursor.index == 5)
        // Rows from each screen's layout: the Timeline has its axis under its headings, Flows has none.
        app.keys("3")
        app.handle(mouse: .click(x: 10, y: 6), width: 100, height: 24)
        #expect(app.timeline.cursor.index == 2)
        app.keys("2")
        app.handle(mouse: .click(x: 10, y: 4), width: 100, height: 24)
        #expect(app.flows.cursor.index == 1)
        // Findings are blocks: a click there selects nothing.
        app.keys("4")
        let selectedNothing = !app.handle(mouse: .click(x: 10, y: 6), width: 100, height: 24)
        #expect(selectedNothing)
    }

    @Test func aSmallTerminalSaysSo() throws {
        let app = try loadedApp("Fixtures/lab/race-5s/pod.pcap")
        #expect(app.render(width: 40, height: 8).text.hasPrefix("Terminal too small: 40x8"))
        #expect(!app.render(width: 60, height: 12).text.contains("too small"))
    }

    @Test func timelineZoomsScrollsAndShowsTheTimeout() throws {
        var app = try loadedApp("Fixtures/lab/race-5s/pod.pcap")
        app.keys("3")
        let span = try #require(app.timeline.span)
        app.keys("+")
        #expect(app.timeline.span == span / 2)
        app.keys("-", "-")
        #expect(app.timeline.span == span * 2)
        let start = try #require(app.timeline.start)
        app.keys("Right")
        #expect(app.timeline.start == start + span / 2)
        // The lost AAAA: a red bar until its re-send, and the lookup counted in the 5 s timeout band.
        let canvas = app.render(width: 132, height: 34)
        #expect(canvas.text.contains("░░░░"))
        let lines = canvas.text.split(separator: "\n")
        let band = try #require(lines.first { $0.contains("≈ 5 s") })
        #expect(band.contains("1"))
    }

    /// While rows pour in, keys move over the rows as last computed; the periodic redraw (or a change of view)
    /// brings them up to date.
    @Test func keysDoNotRecomputeWhileRowsArrive() throws {
        let all = try transactions("Fixtures/lab/race-5s/pod.pcap")
        var app = App(source: "test")
        app.keys("g")
        app.add(all[0])
        app.refresh(height: 24)
        #expect(app.queries.lines.count == 1)
        app.add(all[1])
        app.defersRecompute = true
        app.keys("Down")
        #expect(app.queries.lines.count == 1, "the key acted on the rows as drawn")
        app.defersRecompute = false
        app.refresh(height: 24)
        #expect(app.queries.lines.count == 2)
        app.add(all[2])
        app.defersRecompute = true
        app.keys("g")
        #expect(app.queries.lines.count == 4, "a change of view recomputes at once (grouped: a flow header and 3 rows)")
    }
}
