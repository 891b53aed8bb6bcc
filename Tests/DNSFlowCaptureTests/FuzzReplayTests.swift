import DNSFlowCapture
@testable import DNSFlowCore
import Foundation
import Testing

/// The fuzz targets' code (`FuzzHarness`) run by the test suite: every input that once crashed a target
/// (`Fixtures/fuzz/TARGET/`) replayed, and a bounded, seeded mutation of the fixtures' packets — the fuzzers' work in
/// miniature, on every run. `scripts/fuzz/run` does the long runs with libFuzzer and AddressSanitizer.
@Suite("Fuzz replay and seeded mutation")
struct FuzzReplayTests {
    /// Each kept input goes through its target again and comes back; every file is listed in the folder's README
    /// with what it holds, and every listed file is there.
    @Test func keptInputsRunClean() throws {
        let root = fixturesDirectory.appendingPathComponent("fuzz")
        let readme = try String(contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8)
        let listed = Set(readme.split(separator: "\n").compactMap { line -> String? in
            guard line.hasPrefix("| "), let name = line.dropFirst(2).split(separator: " ").first, name.contains("/")
            else { return nil }
            return String(name)
        })
        var replayed: Set<String> = []
        for (target, run) in [("dns-parser", { (b: [UInt8]) in _ = FuzzHarness.dnsParser(b) }),
                              ("packet-decoder", { _ = FuzzHarness.packetDecoder($0) }),
                              ("tcp-reassembler", { _ = FuzzHarness.tcpReassembler($0) }),
                              ("capture-file", {
                                  let outcome = CaptureFileFuzzing.run($0)
                                  #expect(outcome.mismatches == 0 && outcome.directDifferences == 0)
                              })] {
            let dir = root.appendingPathComponent(target)
            for name in try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted() {
                run(Array(try Data(contentsOf: dir.appendingPathComponent(name))))
                replayed.insert("\(target)/\(name)")
            }
        }
        #expect(replayed == listed)
        #expect(replayed.count >= 19)
        // The hand-made files' outcomes: times no arithmetic survives read (brought into range), a resolution libpcap
        // cannot scale refused, a packet of no interface ends the file where it stands.
        func outcome(_ name: String) throws -> CaptureFileFuzzing.Outcome {
            CaptureFileFuzzing.run(Array(try Data(contentsOf: root.appendingPathComponent("capture-file/\(name)"))))
        }
        #expect(try outcome("pcapng-tsoffset-int64-max").transactions == 1)
        #expect(try outcome("pcapng-tsresol-2-power-63").transactions == 1)
        #expect(try outcome("pcap-nanosecond-fraction-max").transactions == 1)
        #expect(try outcome("pcapng-tsresol-10-power-127").refused)
        #expect(try outcome("pcapng-packet-of-no-interface").packets == 0)
        #expect(try outcome("pcapng-second-section-big-endian").packets == 1)
        // What the hand-made parser inputs must come to: refused, as malformed, with their names where they are whole.
        let loop = try #require(DNSParser.parse(Array(Data(contentsOf: root.appendingPathComponent("dns-parser/compression-loop")))))
        #expect(loop.error != nil)
        let counts = try #require(DNSParser.parse(Array(Data(contentsOf: root.appendingPathComponent("dns-parser/counts-65535")))))
        #expect(counts.error != nil && counts.questionsRead == 0)
    }

    /// The fixtures' packets, in the packet-decoder target's record format, mutated by a seeded generator: bits
    /// flipped, octets set to edge values, packets cut, lengthened, duplicated, swapped and moved in time. Every run
    /// gives the same inputs; the unmutated runs must make transactions (the harness reaches the analysis).
    @Test func seededMutationsOfTheFixturesRunClean() throws {
        var runs = try fixtureRuns()
        #expect(runs.count >= 20)
        var random = SplitMix64(seed: 0x5EED_D45F_10A0)
        var unmutated = 0, mutated = 0, payloads = 0
        for run in runs { unmutated += FuzzHarness.packetDecoder(FuzzReplayTests.encode(run)) }
        #expect(unmutated > 200)
        for round in 0..<2000 {
            var run = runs[Int(random.next() % UInt64(runs.count))]
            for _ in 0...(random.next() % 4) { FuzzReplayTests.mutate(&run, &random) }
            mutated += FuzzHarness.packetDecoder(FuzzReplayTests.encode(run))
            // The DNS payload alone (past the link and IP headers a typical packet has), mutated again.
            if var bytes = run.first?.data, bytes.count > 42 {
                bytes.removeFirst(42)
                for _ in 0..<8 {
                    var b = bytes
                    FuzzReplayTests.mutate(bytes: &b, &random)
                    if FuzzHarness.dnsParser(b) { payloads += 1 }
                }
            }
            if round % 100 == 0 { runs.append(run) }  // mutations of mutations, as a fuzzer's corpus grows
        }
        #expect(mutated > 2000, "\(mutated)")
        #expect(payloads > 4000, "\(payloads)")
    }

    /// Every fixture capture and every corpus file of up to 1 MB as the capture-file target reads it: each packet
    /// libpcap gives is the one read back by its offset (what the interface's Detail shows and `w` writes).
    @Test func everyPacketReadsBackByItsOffset() throws {
        var files = try FileManager.default.contentsOfDirectory(atPath: fixturesDirectory.appendingPathComponent("captures").path)
            .map { fixturesDirectory.appendingPathComponent("captures/\($0)") }
        if corpusExists, let all = FileManager.default.enumerator(atPath: corpusDirectory.path) {
            for case let name as String in all where name.hasSuffix(".pcap") || name.hasSuffix(".pcapng") {
                files.append(corpusDirectory.appendingPathComponent(name))
            }
        }
        var packets = 0, read = 0
        for file in files.sorted(by: { $0.path < $1.path }) {
            let bytes = Array(try Data(contentsOf: file))
            guard bytes.count <= 1 << 20 else { continue }
            let outcome = CaptureFileFuzzing.run(bytes)
            #expect(outcome.mismatches == 0 && outcome.directDifferences == 0, "\(file.lastPathComponent)")
            packets += outcome.packets
            read += 1
        }
        #expect(read >= 30 && packets > 1000, "\(read) files, \(packets) packets")
    }

    /// The fixtures' files with their headers mutated by a seeded generator — the file header, each block's or
    /// record's header and options (lengths, interface ids, times, `if_tsresol`, `if_tsoffset`): every one read to
    /// its end or refused, never a trap, and every packet read back as read.
    @Test func seededHeaderMutationsRunClean() throws {
        let dir = fixturesDirectory.appendingPathComponent("captures")
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
            .map { Array(try Data(contentsOf: dir.appendingPathComponent($0))) }
            .filter { $0.count <= 64 << 10 }
        var random = SplitMix64(seed: 0xF11E_4EAD_E125)
        var readSome = 0
        for _ in 0..<600 {
            var bytes = files[Int(random.next() % UInt64(files.count))]
            for _ in 0...(random.next() % 3) {
                // Near the start (the file header, the first blocks) more often than not, anywhere otherwise.
                let span = random.next() % 2 == 0 ? min(bytes.count, 256) : bytes.count
                guard span >= 8 else { break }
                let at = Int(random.next() % UInt64(span - 7))
                switch random.next() % 3 {
                case 0: bytes[at] = [0, 0x7f, 0x80, 0xff, 0xbf][Int(random.next() % 5)]
                case 1: for k in 0..<8 { bytes[at + k] = UInt8(truncatingIfNeeded: random.next()) }
                default: for k in 0..<4 { bytes[at + k] = k == 3 ? 0x7f : 0xff }
                }
            }
            let outcome = CaptureFileFuzzing.run(bytes)
            #expect(outcome.mismatches == 0 && outcome.directDifferences == 0)
            if outcome.packets > 0 { readSome += 1 }
        }
        #expect(readSome > 200, "\(readSome) of 600 mutants read at all")
    }

    struct Packet {
        var link: Int
        var step: UInt8
        var data: [UInt8]
    }

    /// Runs of up to 12 packets from every fixture capture, as the seeds script cuts them.
    private func fixtureRuns() throws -> [[Packet]] {
        let dir = fixturesDirectory.appendingPathComponent("captures")
        var runs: [[Packet]] = []
        for name in try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted() {
            guard let handle = try? PcapHandle.openFile(dir.appendingPathComponent(name).path, input: 0) else { continue }
            guard let link = FuzzHarness.links.firstIndex(of: handle.linkType) else { continue }
            var run: [Packet] = []
            var last: Int64?
            while case .packet(let p) = handle.next(), runs.count < 400 {
                let gap = last.map { max(0, p.timestamp.seconds - $0) } ?? 0
                last = p.timestamp.seconds
                run.append(Packet(link: link, step: UInt8(min(253, Int(Double(gap * 200).squareRoot()))), data: p.data))
                if run.count == 12 {
                    runs.append(run)
                    run = []
                }
            }
            if !run.isEmpty { runs.append(run) }
        }
        return runs
    }

    static func encode(_ run: [Packet]) -> [UInt8] {
        var out: [UInt8] = []
        for p in run {
            let data = p.data.prefix(65535)
            out += [UInt8(p.link), p.step, UInt8(data.count >> 8), UInt8(data.count & 0xff)]
            out += data
        }
        return out
    }

    static func mutate(_ run: inout [Packet], _ random: inout SplitMix64) {
        guard !run.isEmpty else { return }
        let i = Int(random.next() % UInt64(run.count))
        switch random.next() % 6 {
        case 0: run.append(run[i])                                                    // a duplicate (a re-send)
        case 1: run.swapAt(i, Int(random.next() % UInt64(run.count)))                  // out of order
        case 2: run[i].step = UInt8(random.next() % 256)                               // any time step, back too
        case 3: run[i].link = Int(random.next() % UInt64(FuzzHarness.links.count))     // read as another link
        default: mutate(bytes: &run[i].data, &random)
        }
    }

    static func mutate(bytes: inout [UInt8], _ random: inout SplitMix64) {
        let edge: [UInt8] = [0, 1, 0x3f, 0x40, 0x7f, 0x80, 0xc0, 0xff]
        switch random.next() % 5 {
        case 0 where !bytes.isEmpty:                                                   // one bit
            let i = Int(random.next() % UInt64(bytes.count))
            bytes[i] ^= 1 << UInt8(random.next() % 8)
        case 1 where !bytes.isEmpty:                                                   // an edge value
            bytes[Int(random.next() % UInt64(bytes.count))] = edge[Int(random.next() % 8)]
        case 2 where !bytes.isEmpty:                                                   // cut short
            bytes.removeLast(Int(random.next() % UInt64(bytes.count)))
        case 3:                                                                         // longer
            for _ in 0..<(random.next() % 64) { bytes.append(UInt8(truncatingIfNeeded: random.next())) }
        case 4 where bytes.count >= 2:                                                  // a length or pointer field
            let i = Int(random.next() % UInt64(bytes.count - 1))
            bytes[i] = UInt8(truncatingIfNeeded: random.next())
            bytes[i + 1] = UInt8(truncatingIfNeeded: random.next())
        default: break
        }
    }
}

/// A small seeded generator (Steele, Lea, Flood 2014): the same seed, the same mutations, on every machine.
struct SplitMix64 {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
