import Foundation
import Testing

/// Standard output or error closed by the caller (`>&-`, `2>&-`): no trap. A file output is written; an output meant for
/// the closed stream is refused with a message (and an exit status) before anything is read or made.
@Suite("Closed standard streams")
struct ClosedStreamsTests {
    func sh(_ script: String) throws -> CommandResult { try runProcess("/bin/sh", ["-c", script]) }

    @Test func closedStandardOutputWithAFileOutput() throws {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("closed-\(UUID().uuidString).csv")
        defer { try? FileManager.default.removeItem(at: out) }
        let capture = labFixtures.appendingPathComponent("race-5s/pod.pcap").path
        let r = try sh("exec '\(dnsflowBinary.path)' -r '\(capture)' --csv '\(out.path)' >&-")
        #expect(r.status == 0, "\(r.stderr)")
        #expect(try String(contentsOf: out, encoding: .utf8).split(separator: "\n").count == 5)
    }

    @Test func closedStandardOutputForTheSummaryIsRefused() throws {
        let capture = labFixtures.appendingPathComponent("race-5s/pod.pcap").path
        for args in ["--summary", "--no-ui", "--csv -", "-w -"] {
            let r = try sh("exec '\(dnsflowBinary.path)' -r '\(capture)' \(args) >&-")
            #expect(r.status == 1, "\(args): \(r.status) \(r.stderr)")
            #expect(r.stderr.contains("standard output is closed"), "\(args): \(r.stderr)")
        }
    }

    @Test func closedStandardErrorStillGivesTheStatus() throws {
        let r = try sh("exec '\(dnsflowBinary.path)' -r /nonexistent/capture.pcap --summary 2>&-")
        #expect(r.status == 1, "\(r.status)")
        let ok = try sh("exec '\(dnsflowBinary.path)' -r '\(labFixtures.appendingPathComponent("race-5s/pod.pcap").path)' --summary 2>&-")
        #expect(ok.status == 0 && ok.stdout.contains("queries"), "\(ok.status)")
    }
}
