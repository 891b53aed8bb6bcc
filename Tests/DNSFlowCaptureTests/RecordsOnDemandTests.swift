import DNSFlowCapture
@testable import DNSFlowCore
import Foundation
import Testing

/// Records on demand (`DNSParser.parse(_:recordsOnDemand:)`, what --summary, --flows-csv and the interface parse
/// with): every DNS message of every fixture and corpus capture holds the same as when its records are read at once —
/// the same records, EDNS, defect (code and reason) and trailing octets. (Random messages: the dns-parser fuzz target
/// checks the same, and `FuzzReplayTests` replays it.)
@Suite("Records on demand")
struct RecordsOnDemandTests {
    @Test func sameAsRecordsReadForEveryMessage() throws {
        var files = try FileManager.default.contentsOfDirectory(atPath: fixturesDirectory.appendingPathComponent("captures").path)
            .filter { $0.hasSuffix(".pcap") || $0.hasSuffix(".pcapng") }
            .map { fixturesDirectory.appendingPathComponent("captures/\($0)") }
        if corpusExists, let all = FileManager.default.enumerator(atPath: corpusDirectory.path) {
            for case let name as String in all where name.hasSuffix(".pcap") || name.hasSuffix(".pcapng") {
                files.append(corpusDirectory.appendingPathComponent(name))
            }
        }
        var messages = 0, withRecords = 0, defective = 0
        for file in files.sorted(by: { $0.path < $1.path }) {
            guard let handle = try? PcapHandle.openFile(file.path, input: 0) else { continue }
            var decoder = PacketDecoder(configuration: .init())
            var payloads: [[UInt8]] = []
            while case .packet(let p) = handle.next() {
                decoder.decode(p, emit: { payloads.append($0.bytes) }, diagnose: { _ in })
            }
            for bytes in payloads {
                guard let read = DNSParser.parse(bytes) else { continue }
                let onDemand = try #require(DNSParser.parse(bytes, recordsOnDemand: true))
                #expect(DNSParser.sameContent(read, onDemand), "\(file.lastPathComponent): a message of \(bytes.count) octets")
                messages += 1
                if read.answersRead + read.authoritiesRead + read.additionalsRead > 0 { withRecords += 1 }
                if read.error != nil { defective += 1 }
            }
        }
        // The fixtures alone (a checkout without the corpus: CI) hold a few hundred messages.
        #expect(messages > (corpusExists ? 1000 : 200) && withRecords > (corpusExists ? 500 : 100),
                "\(messages) messages, \(withRecords) with records")
        if corpusExists { #expect(defective > 10, "\(defective) defective messages") }
    }
}
