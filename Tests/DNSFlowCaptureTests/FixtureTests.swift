import Foundation
import Testing

/// One line of Fixtures/MANIFEST.tsv: captures in, arguments, the expected output and exit status.
struct FixtureCase: CustomTestStringConvertible, Sendable {
    var captures: [String]
    var arguments: [String]
    var expected: String
    var status: Int32
    var testDescription: String { "\(captures.joined(separator: " ")) \(arguments.joined(separator: " "))" }

    static func load() -> [FixtureCase] {
        let manifest = fixturesDirectory.appendingPathComponent("MANIFEST.tsv")
        guard let text = try? String(contentsOf: manifest, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { line in
            guard !line.hasPrefix("#") else { return nil }
            let f = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            guard f.count == 4, let status = Int32(f[3]) else { return nil }
            return FixtureCase(
                captures: f[0].split(separator: " ").map(String.init),
                arguments: f[1].split(separator: " ").map(String.init), expected: f[2], status: status)
        }
    }
}

@Suite("Fixtures: capture in, expected output out")
struct FixtureTests {
    @Test("manifest is complete") func manifestCoversEveryCapture() throws {
        let cases = FixtureCase.load()
        #expect(cases.count >= 30)
        let captures = try FileManager.default.contentsOfDirectory(atPath: fixturesDirectory.appendingPathComponent("captures").path)
        let used = Set(cases.flatMap(\.captures))
        #expect(Set(captures).subtracting(used).isEmpty, "captures without an expected output")
        let expected = try FileManager.default.contentsOfDirectory(atPath: fixturesDirectory.appendingPathComponent("expected").path)
        #expect(Set(expected) == Set(cases.map(\.expected)), "expected files and manifest disagree")
    }

    @Test("dnsflow output matches", arguments: FixtureCase.load())
    func output(_ fixture: FixtureCase) throws {
        let inputs = fixture.captures.flatMap { ["-r", $0] }
        let result = try runDNSFlow(inputs + fixture.arguments, currentDirectory: fixturesDirectory.appendingPathComponent("captures"))
        let expected = try String(contentsOf: fixturesDirectory.appendingPathComponent("expected/\(fixture.expected)"), encoding: .utf8)
        #expect(result.status == fixture.status, "stderr: \(result.stderr)")
        if result.stdout != expected {
            let got = result.stdout.split(separator: "\n", omittingEmptySubsequences: false)
            let want = expected.split(separator: "\n", omittingEmptySubsequences: false)
            let firstDifference = Array(zip(got, want)).firstIndex { $0 != $1 } ?? min(got.count, want.count)
            Issue.record("""
                \(fixture.expected) differs at line \(firstDifference + 1) (regenerate with scripts/update-expected.py and review):
                  expected: \(firstDifference < want.count ? String(want[firstDifference]) : "<end>")
                  got:      \(firstDifference < got.count ? String(got[firstDifference]) : "<end>")
                """)
        }
    }
}
