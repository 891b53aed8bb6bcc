import DNSFlowCapture
import DNSFlowCore
import DNSFlowTUI
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
        var screen = QueriesScreen()
        for t in try transactions("Fixtures/lab/race-10s/pod.pcap") { screen.add(t) }
        try expectGolden(render(screen, width: width, height: height).text, "queries-race-10s-\(width)x\(height).txt")
    }

    @Test func flatViewAndMarkersCarryMeaningWithoutColour() throws {
        var screen = QueriesScreen()
        for t in try transactions("Fixtures/lab/race-5s/pod.pcap") { screen.add(t) }
        screen.perform(.toggleGrouping, pageHeight: 20)
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
        let rows = (1..<canvas.height).map { canvas.roles(row: $0).map(\.0) }
        #expect(rows.contains { $0.contains(.unanswered) })
        #expect(rows.contains { $0.contains(.pairRetried) })
    }

    @Test func cursorScrollsAndFoldsFlows() throws {
        var screen = QueriesScreen()
        for t in try transactions("Fixtures/lab/race-10s/pod.pcap") { screen.add(t) }
        let before = screen.lines.count
        screen.perform(.open, pageHeight: 5)        // cursor on the first flow header: fold it
        #expect(screen.lines.count < before)
        screen.perform(.open, pageHeight: 5)
        #expect(screen.lines.count == before)
        for _ in 0..<20 { screen.perform(.down, pageHeight: 5) }
        #expect(screen.cursor == before - 1)
        #expect(screen.top == before - 5)
        screen.perform(.home, pageHeight: 5)
        #expect(screen.cursor == 0 && screen.top == 0)
    }

    @Test func helpAndFooterComeFromTheKeyTable() {
        #expect(KeyBindings.action(for: "j") == .down)
        #expect(KeyBindings.action(for: "F1") == .help)
        #expect(KeyBindings.footer.map(\.key) == ["Enter", "g", "Space", "e", "?", "q"])
        #expect(Set(KeyBindings.table.map(\.action)) == Set(Action.allCases))
    }

    @Test func canvasNeverCarriesControlCharacters() {
        var c = Canvas(width: 10, height: 1)
        c.put(0, 0, "a\u{1b}[2Jb\u{7}")
        #expect(c.text == "a?[2Jb?")
        c.put(8, 0, "xyz")
        #expect(c.text == "a?[2Jb? xy")
    }
}
