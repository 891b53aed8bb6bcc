import DNSFlowCore
import Foundation
import Testing

/// man/dnsflow.1 kept in step with the command: every option `--help` lists, every finding, the version.
@Suite("The man page")
struct ManPageTests {
    static let page = packageRoot.appendingPathComponent("man/dnsflow.1")

    /// roff's form of a command-line word: every `-` escaped.
    static func roff(_ s: String) -> String { s.replacingOccurrences(of: "-", with: "\\-") }

    @Test func everyOptionIsDescribed() throws {
        let man = try String(contentsOf: Self.page, encoding: .utf8)
        let help = try runDNSFlow(["--help"])
        #expect(help.status == 0)
        // Option lines of --help: "  -r <file>   …", "  --csv <out>   …", "  -h, --help   …".
        var options: [String] = []
        let optionsPart = try #require(help.stdout.components(separatedBy: "OPTIONS:").dropFirst().first)
        for line in optionsPart.split(separator: "\n") where line.hasPrefix("  -") {
            for word in line.split(separator: " ") {
                let name = word.trimmingCharacters(in: CharacterSet(charactersIn: ",:."))
                if name.wholeMatch(of: /--?[A-Za-z][A-Za-z-]*/) != nil { options.append(name) }
            }
        }
        #expect(options.count >= 20, "\(options)")
        // Each has an entry of its own: a .B/.BI/.BR line naming it (not a mention in an example).
        let entries = man.split(separator: "\n").filter { $0.hasPrefix(".B") }.map { $0 + " " }
        for option in options {
            let word = Self.roff(option)
            #expect(entries.contains { line in
                ["\"", " ", ","].contains { line.contains(" " + word + $0) } || ["\"", " "].contains { line.contains("\"" + word + $0) }
            }, "man/dnsflow.1 has no entry for \(option)")
        }
    }

    @Test func everyFindingIsDescribed() throws {
        let man = try String(contentsOf: Self.page, encoding: .utf8)
        let section = try #require(man.components(separatedBy: ".SH FINDINGS").dropFirst().first)
        for f in Finding.all {
            #expect(section.contains(".B " + Self.roff(f.id) + "\n"), "man/dnsflow.1 has no entry for the finding \(f.id)")
        }
    }

    @Test func theVersionIsTheCommands() throws {
        let man = try String(contentsOf: Self.page, encoding: .utf8)
        let version = try runDNSFlow(["--version"])
        #expect(version.status == 0)
        // "dnsflow 0.18.0 (commit …)"
        let words = version.stdout.split(separator: " ")
        #expect(words.first == "dnsflow" && words.count >= 2)
        #expect(man.contains("\"dnsflow \(words[1])\""), "the .TH line names another version than \(version.stdout)")
    }

    /// It renders without a warning where groff is installed.
    @Test func itRenders() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/groff") else { return }
        let r = try runProcess("/usr/bin/groff", ["-ww", "-z", "-man", "-Tutf8", Self.page.path])
        #expect(r.status == 0 && r.stderr.isEmpty, "\(r.stderr)")
    }
}
