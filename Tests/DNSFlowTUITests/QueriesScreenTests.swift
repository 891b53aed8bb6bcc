import DNSFlowCapture
import DNSFlowCore
@testable import DNSFlowTUI
import Foundation
import Testing

let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
let goldens = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Goldens")

/// The transactions of a capture in sequence order, as the UI receives them.
func transactions(_ relative: String) throws -> [Transaction] {
    var pipeline = Pipeline()
    var out: [Transaction] = []
    let source = MergedSource([try PcapHandle.openFile(root.appendingPathComponent(relative).path, input: 0)])
    while let p = source.next() { pipeline.process(p) { out.append($0) } }
    pipeline.finish { out.append($0) }
    return out.sorted { $0.sequence < $1.sequence }
}

/// A store holding a capture's rows, fed as the live loop feeds it: queries as they arrive, then as they settle.
func store(_ relative: String, maxEntries: Int = 200_000) throws -> (QueryStore, Summary) {
    let store = QueryStore(maxEntries: maxEntries)
    var pipeline = Pipeline()
    let source = MergedSource([try PcapHandle.openFile(root.appendingPathComponent(relative).path, input: 0)])
    while let p = source.next() {
        pipeline.process(p, onQuery: { store.queryArrived($0, $1, $2) }, onTransaction: { store.settled($0) })
    }
    pipeline.finish(onQuery: { store.queryArrived($0, $1, $2) }, onTransaction: { store.settled($0) })
    return (store, pipeline.summary)
}

func render(_ screen: QueriesScreen, width: Int, height: Int) -> Canvas {
    var canvas = Canvas(width: width, height: height)
    screen.render(into: &canvas, y0: 0, height: height)
    return canvas
}

/// Compares with a golden file; set DNSFLOW_UPDATE_GOLDENS=1 to write it instead.
func expectGolden(_ text: String, _ name: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
    let url = goldens.appendingPathComponent(name)
    if ProcessInfo.processInfo.environment["DNSFLOW_UPDATE_GOLDENS"] != nil {
        try (text + "\n").write(to: url, atomically: true, encoding: .utf8)
        return
    }
    let want = try String(contentsOf: url, encoding: .utf8)
    #expect(text + "\n" == want, "\(name) differs; run with DNSFLOW_UPDATE_GOLDENS=1 and review", sourceLocation: sourceLocation)
}

@Suite("Queries screen, rendered as text")
struct QueriesScreenTests {
    @Test(arguments: [(80, 24), (132, 30)])
    func raceCaptureGrouped(width: Int, height: Int) throws {
        let (s, _) = try store("Fixtures/lab/race-10s/pod.pcap")
        var screen = QueriesScreen()
        screen.update(s, page: height - 1)
        try expectGolden(render(screen, width: width, height: height).text, "queries-race-10s-\(width)x\(height).txt")
    }

    @Test func flatViewAndMarkersCarryMeaningWithoutColour() throws {
        let (s, _) = try store("Fixtures/lab/race-5s/pod.pcap")
        var screen = QueriesScreen()
        screen.perform(.toggleGrouping, store: s, page: 9)
        let canvas = render(screen, width: 100, height: 10)
        let text = canvas.text
        try expectGolden(text, "queries-race-5s-flat-100x10.txt")
        // The pair bracket with its state letter, the retry marker, the unanswered mark: all visible as text.
        #expect(text.contains("┌r"))
        #expect(text.contains("└r"))
        #expect(text.contains("│r"))
        #expect(text.contains("↻2 +5.00s"))
        #expect(text.contains("✗ no answer"))
        // And coloured by role: the unanswered latency cell, the pair marker.
        let rows = (2..<canvas.height).map { canvas.roles(row: $0).map(\.0) }
        #expect(rows.contains { $0.contains(.unanswered) })
        #expect(rows.contains { $0.contains(.pairRetried) })
    }

    @Test func cursorScrollsAndFoldsFlows() throws {
        let (s, _) = try store("Fixtures/lab/race-10s/pod.pcap")
        var screen = QueriesScreen()
        screen.update(s, page: 5)
        let before = screen.lines.count
        screen.perform(.open, store: s, page: 5)        // cursor on the first flow header: fold it
        #expect(screen.lines.count < before)
        screen.perform(.open, store: s, page: 5)
        #expect(screen.lines.count == before)
        for _ in 0..<40 { screen.perform(.down, store: s, page: 5) }
        #expect(screen.cursor.index == before - 1)
        #expect(screen.cursor.top == before - 5)
        screen.perform(.home, store: s, page: 5)
        #expect(screen.cursor.index == 0 && screen.cursor.top == 0)
    }

    @Test func sortingByLatencyPutsTheUnansweredFirst() throws {
        let (s, _) = try store("Fixtures/lab/race-5s/pod.pcap")
        var screen = QueriesScreen()
        screen.grouped = false
        screen.sort = .latency
        screen.update(s, page: 10)
        guard case .query(let first)? = screen.lines.first else { Issue.record("no rows"); return }
        #expect(first.facts.status == .unanswered)
        let latencies = screen.lines.dropFirst().compactMap { line -> Int64? in
            if case .query(let e) = line { return e.facts.latencyNanoseconds } else { return nil }
        }
        #expect(latencies == latencies.sorted(by: >))
    }

    @Test func helpAndFooterComeFromTheKeyTable() {
        #expect(KeyBindings.action(for: "j", on: .queries) == .down)
        #expect(KeyBindings.action(for: "F1", on: .flows) == .help)
        // Left folds a flow in Queries and scrolls back in time in the Timeline.
        #expect(KeyBindings.action(for: "Left", on: .queries) == .collapse)
        #expect(KeyBindings.action(for: "Left", on: .timeline) == .scrollEarlier)
        #expect(KeyBindings.footer(on: .queries).map(\.key) == ["Enter", "g", "Space", "/", "f", "e", "?", "q"])
        #expect(Set(KeyBindings.table.map(\.action)) == Set(Action.allCases))
        let help = HelpText.lines.map(\.text).joined(separator: "\n")
        for b in KeyBindings.table { #expect(help.contains(b.help), "help lists \(b.action)") }
    }

    @Test func canvasNeverCarriesControlCharacters() {
        var c = Canvas(width: 10, height: 1)
        c.put(0, 0, "a\u{1b}[2Jb\u{7}")
        #expect(c.text == "a?[2Jb?")
        c.put(8, 0, "xyz")
        #expect(c.text == "a?[2Jb? xy")
        // 8-bit CSI and OSC, a bidi override and isolate, a zero-width joiner, a line separator, a private-use code
        // point: each drawn as "?"; the interface's own glyphs and accented letters as themselves.
        var d = Canvas(width: 20, height: 1)
        d.put(0, 0, "\u{9b}31m\u{9d}\u{202e}exe\u{2066}\u{200d}\u{2028}\u{e000}…▏é")
        #expect(d.text == "?31m??exe????…▏é")
    }

    /// Lines are kept as 4-byte offsets from the lowest row and flow held; one that does not fit turns the list into
    /// full identities, and every line reads back as it was added.
    @Test func linesKeepTheirIdentities() {
        var lines = QueriesScreen.Lines(store: nil)
        let ids = [0, 5, -1, -3, 7, Int(Int32.max), -Int(Int32.max)]
        for id in ids { lines.append(id) }
        #expect((0..<lines.count).map { lines.identity(at: $0) } == ids)
        #expect(lines.firstIndex(of: -3) == 3 && lines.firstIndex(of: 6) == nil)
        let far = [1 << 40, -(1 << 33), 9]
        for id in far { lines.append(id) }
        #expect((0..<lines.count).map { lines.identity(at: $0) } == ids + far)
        #expect(lines.firstIndex(of: 1 << 40) == ids.count && lines.firstIndex(of: -3) == 3)
    }
}

@Suite("Names on screen")
struct NameFitTests {
    /// The steps of one search-list walk, cut to the Queries column at 80x24 (28 characters): each reads differently,
    /// and what tells them apart (the search suffix) stays in view.
    @Test func theStepsOfAWalkNeverReadAlike() {
        let walk = ["api.example.com.default.svc.cluster.local", "api.example.com.svc.cluster.local",
                    "api.example.com.cluster.local", "api.example.com"]
        for width in [12, 16, 20, 28, 40] {
            let fitted = QueryRow.distinctFits(walk.map { ($0, width) })
            #expect(Set(fitted).count == walk.count, "width \(width): \(fitted)")
            #expect(fitted.allSatisfy { $0.count <= width }, "width \(width): \(fitted)")
        }
        let at28 = QueryRow.distinctFits(walk.map { ($0, 28) })
        #expect(at28[0].contains("default"), "\(at28)")
        #expect(at28[3] == "api.example.com")
        // Names that differ anywhere, cut anywhere.
        var state: UInt64 = 11
        func next(_ n: UInt64) -> Int { state = state &* 6_364_136_223_846_793_005 &+ 1; return Int((state >> 33) % n) }
        for _ in 0..<300 {
            let base = String((0..<(10 + next(30))).map { _ in Character(UnicodeScalar(UInt8(97 + next(3)))) })
            var other = Array(base)
            other[next(UInt64(other.count))] = "z"
            let width = 6 + next(30)
            let fitted = QueryRow.distinctFits([(base, width), (String(other), width)])
            #expect(fitted[0] != fitted[1], "\(base) / \(String(other)) at \(width): \(fitted)")
            #expect(fitted.allSatisfy { $0.count <= width })
        }
    }
}
