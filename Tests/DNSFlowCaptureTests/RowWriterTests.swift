@testable import dnsflow
import Foundation
import Testing

/// `--csv` and `--flows-csv` render and write rows on a thread of their own: every row added is written, in sequence
/// order however the rows settled, as on one thread; and many more rows than wait at once go through.
@Suite("Rows written on a thread of their own")
struct RowWriterTests {
    @Test(arguments: [1, 300, 20_000])
    func everyRowInSequenceOrder(count: Int) throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("dnsflow-rows-\(UUID().uuidString).csv").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let output = try OutputFile(path: path)
        output.write("header\n")
        let writer = RowWriter<Int>(output, weight: { _ in 100 }) { n, out in
            out.removeAll()
            out.append(contentsOf: "row \(n)\n".utf8)
            return n
        }
        // Settled out of order, as lookups finish: every other run of seven in reverse (the rows of the others come
        // each as the next: written from the writer's buffer as they are).
        var order = Array(0..<count)
        for start in stride(from: 0, to: count, by: 14) { order[start..<min(start + 7, count)].reverse() }
        for n in order { writer.add(n) }
        writer.finish()
        #expect(writer.skipped == 0)
        try output.commit()
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text == "header\n" + (0..<count).map { "row \($0)\n" }.joined())
    }
}
