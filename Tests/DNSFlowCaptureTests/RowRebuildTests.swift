import DNSFlowCapture
import DNSFlowCore
@testable import DNSFlowTUI
@testable import dnsflow
import Foundation
import Testing

/// The interface keeps packed rows and decodes a row's packets again, from the capture file, when Detail or an
/// export needs the whole transaction. What it rebuilds must be what it saw.
@Suite("Rows rebuilt from their packets")
struct RowRebuildTests {
    struct Outcome {
        var rows = 0, rebuilt = 0, kept = 0, sketched = 0
    }

    /// Feeds a store as the interface does, then compares every row's Detail text and CSV line with the original's.
    /// Decoded as the interface decodes files it reads back: without keeping the packets' octets.
    func check(_ path: String) throws -> Outcome { try check([path]) }

    func check(_ paths: [String]) throws -> Outcome {
        let path = paths.joined(separator: " + ")
        let handles = try paths.enumerated().map { try PcapHandle.openFile($0.element, input: $0.offset) }
        let packets = PacketStore(capacity: 16, handles: handles)
        #expect(packets.readsEveryInputAgain, "\(path)")
        let decoded = try decode(paths) { $0.keepsPacketOctets = !packets.readsEveryInputAgain }
        let store = QueryStore(maxEntries: 1_000_000)
        let configuration = PacketDecoder.Configuration()
        store.rebuild = { packets.transaction(of: $0, configuration: configuration) }
        let originals = decoded.transactions.sorted { $0.sequence < $1.sequence }
        for t in originals { store.settled(t) }
        var outcome = Outcome()
        for (e, t) in zip(store.entries, originals) {
            outcome.rows += 1
            if e.kept != nil {
                outcome.kept += 1
            } else if packets.transaction(of: e, configuration: configuration) == nil {
                outcome.sketched += 1
                print("sketched: \(path) sequence \(t.sequence) \(t.status) \(t.question?.name.description ?? "-")")
                continue
            } else {
                outcome.rebuilt += 1
            }
            let again = store.transaction(of: e)
            let lookup: (CapturePoint) -> CapturedPacket? = { packets[$0] }
            #expect(DetailText.lines(for: again, packet: lookup) == DetailText.lines(for: t, packet: lookup),
                    "\(path) sequence \(t.sequence)")
            #expect(TransactionCSV.row(again) == TransactionCSV.row(t), "\(path) sequence \(t.sequence)")
        }
        return outcome
    }

    static var fixtureCaptures: [String] {
        let files = FileManager.default.enumerator(atPath: fixturesDirectory.path)?.compactMap { $0 as? String } ?? []
        return files.filter { $0.hasSuffix(".pcap") || $0.hasSuffix(".pcapng") }.sorted()
            .map { fixturesDirectory.appendingPathComponent($0).path }
    }

    @Test func everyFixtureRebuildsWhatItShowed() throws {
        var total = Outcome()
        for path in RowRebuildTests.fixtureCaptures {
            guard let o = try? check(path) else { continue }
            total.rows += o.rows
            total.rebuilt += o.rebuilt
            total.kept += o.kept
            total.sketched += o.sketched
        }
        print("rows \(total.rows): rebuilt \(total.rebuilt), kept \(total.kept), sketched \(total.sketched)")
        #expect(total.rebuilt > total.rows / 2)
        #expect(total.sketched == 0)
    }

    @Test(.enabled(if: corpusExists)) func everyPublicCaptureRebuildsWhatItShowed() throws {
        var total = Outcome()
        let files = (FileManager.default.enumerator(atPath: corpusDirectory.path)?.compactMap { $0 as? String } ?? [])
            .filter { $0.hasSuffix(".pcap") || $0.hasSuffix(".pcapng") }.sorted()
        for f in files {
            guard let o = try? check(corpusDirectory.appendingPathComponent(f).path) else { continue }
            total.rows += o.rows
            total.rebuilt += o.rebuilt
            total.kept += o.kept
            total.sketched += o.sketched
        }
        print("corpus rows \(total.rows): rebuilt \(total.rebuilt), kept \(total.kept), sketched \(total.sketched)")
        #expect(total.sketched == 0)
    }

    /// Merged captures (`-r a -r b`): each row's packets are read back from their own file.
    @Test func mergedCapturesRebuildFromTheirOwnFiles() throws {
        let paths = ["lab/race-5s/pod.pcap", "lab/race-10s/pod.pcapng", "captures/dns.pcap"]
            .map { fixturesDirectory.appendingPathComponent($0).path }
        let o = try check(paths)
        #expect(o.rows > 0 && o.sketched == 0)
        #expect(o.rebuilt == o.rows - o.kept && o.rebuilt > 0)
    }

    /// A pipe cannot be read again: its rows' packets are kept in memory instead, and rebuild from there.
    @Test func aPipesPacketsAreKeptInMemory() throws {
        let path = fixturesDirectory.appendingPathComponent("lab/race-5s/pod.pcap").path
        let handle = try PcapHandle.openFile(path, input: 0)
        #expect(handle.rereadablePath == path)
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        let written = bytes.withUnsafeBytes { write(fds[1], $0.baseAddress, $0.count) }
        #expect(written == bytes.count)
        close(fds[1])
        let saved = dup(0)
        dup2(fds[0], 0)
        close(fds[0])
        defer { dup2(saved, 0); close(saved) }
        let piped = try PcapHandle.openFile("-", input: 0)
        #expect(piped.rereadablePath == nil)
        let packets = PacketStore(capacity: 1000, handles: [piped])
        // (So the interface keeps the packets' octets as they are decoded.)
        #expect(!packets.readsEveryInputAgain)
        var kept = 0
        while case .packet(let p) = piped.next() {
            #expect(p.point.fileOffset == -1)
            packets.keep(p)
            if packets[p.point]?.data == p.data { kept += 1 }
        }
        #expect(kept > 0)
    }
    /// Live and piped packets are kept for Detail within a budget in octets as well as in packets: 200 packets of 1,000
    /// octets in a store of 100,000 octets keep the newest that fit, the oldest gone.
    @Test func keptPacketsStayWithinTheirOctets() {
        let packets = PacketStore(capacity: 1000, maxBytes: 100_000)
        for frame in 1...200 {
            packets.keep(CapturedPacket(timestamp: Timestamp(seconds: 1_700_000_000, nanoseconds: 0), linkType: .ethernet,
                                        data: [UInt8](repeating: 0, count: 1000), originalLength: 1000,
                                        point: CapturePoint(input: 0, frame: frame)))
            #expect(packets.heldBytes <= 100_000)
        }
        #expect(packets[CapturePoint(input: 0, frame: 200)] != nil)
        #expect(packets[CapturePoint(input: 0, frame: 1)] == nil)
        #expect(packets.heldBytes > 80_000)
    }

    private func packet(_ frame: Int, input: Int = 0, size: Int = 100, second: Int64 = 1_700_000_000) -> CapturedPacket {
        CapturedPacket(timestamp: Timestamp(seconds: second, nanoseconds: UInt32(frame % 1000) * 1000, digits: 6),
                       linkType: .ethernet, data: (0..<size).map { UInt8(truncatingIfNeeded: $0 &+ frame) },
                       originalLength: size + 10, point: CapturePoint(input: input, frame: frame, interfaceIndex: UInt32(input)))
    }

    /// A kept packet comes back as it was kept (time, link type, octets, original length, where); one let go, or
    /// never kept, does not.
    @Test func keptPacketsComeBackAsKept() {
        let packets = PacketStore(capacity: 1000)
        for frame in stride(from: 1, through: 99, by: 2) { packets.keep(packet(frame, size: 60 + frame)) }
        for frame in [1, 37, 99] {
            let p = packets[CapturePoint(input: 0, frame: frame)], want = packet(frame, size: 60 + frame)
            #expect(p?.data == want.data)
            #expect(p?.timestamp == want.timestamp)
            #expect(p?.originalLength == want.originalLength)
            #expect(p?.linkType == want.linkType)
            #expect(p?.point == want.point)
        }
        #expect(packets[CapturePoint(input: 0, frame: 2)] == nil)
        #expect(packets[CapturePoint(input: 0, frame: 101)] == nil)
        #expect(packets[CapturePoint(input: 1, frame: 1)] == nil)
        packets.remove(CapturePoint(input: 0, frame: 37))
        #expect(packets[CapturePoint(input: 0, frame: 37)] == nil)
        #expect(packets[CapturePoint(input: 0, frame: 35)]?.data == packet(35, size: 95).data)
        #expect(packets[CapturePoint(input: 0, frame: 39)]?.data == packet(39, size: 99).data)
    }

    /// A packet let go with its row frees its octets once it is the oldest held: at once when it is, with the ones
    /// let go before it; otherwise when the oldest before it go. What is held never exceeds the budget, counting them.
    @Test func packetsLetGoFreeTheirOctetsFromTheOldest() {
        let packets = PacketStore(capacity: 1000)
        for frame in 1...10 { packets.keep(packet(frame)) }
        let full = packets.heldBytes
        let each = full / 10
        packets.remove(CapturePoint(input: 0, frame: 3))
        packets.remove(CapturePoint(input: 0, frame: 2))
        #expect(packets.heldBytes == full)
        packets.remove(CapturePoint(input: 0, frame: 1))
        #expect(packets.heldBytes == full - 3 * each)
        packets.remove(CapturePoint(input: 0, frame: 1))
        #expect(packets.heldBytes == full - 3 * each)
        for frame in 4...10 { packets.remove(CapturePoint(input: 0, frame: frame)) }
        #expect(packets.heldBytes == 0)
        #expect(packets.chunksHeld == 0)
        packets.keep(packet(11))
        #expect(packets[CapturePoint(input: 0, frame: 11)] != nil)
        #expect(packets.heldBytes == each)
    }

    /// The oldest go a chunk at a time: megabytes of packets through a store of 2 MB hold at most three chunks.
    @Test func packetsKeptGoThroughChunks() {
        let packets = PacketStore(capacity: 1_000_000, maxBytes: 2 << 20)
        for frame in 1...20_000 {
            packets.keep(packet(frame, size: 500))
            #expect(packets.heldBytes <= 2 << 20)
        }
        #expect(packets.chunksHeld <= 3)
        #expect(packets[CapturePoint(input: 0, frame: 20_000)]?.data == packet(20_000, size: 500).data)
        #expect(packets[CapturePoint(input: 0, frame: 1)] == nil)
    }

    /// Inputs keep their packets apart; over the budget the packet kept first goes, whichever input it came from.
    /// A frame kept again replaces the first; one a little out of order (merged streams whose times go back) is put
    /// in its place.
    @Test func packetsOfSeveralInputsGoOldestFirst() {
        let packets = PacketStore(capacity: 16)
        for frame in 1...8 {
            packets.keep(packet(frame, input: 0, size: 10))
            packets.keep(packet(frame, input: 1, size: 20))
        }
        packets.keep(packet(9, input: 1, size: 20))
        #expect(packets[CapturePoint(input: 0, frame: 1)] == nil)
        #expect(packets[CapturePoint(input: 1, frame: 1)]?.data == packet(1, input: 1, size: 20).data)
        #expect(packets[CapturePoint(input: 0, frame: 2)]?.data == packet(2, input: 0, size: 10).data)
        packets.keep(packet(9, input: 1, size: 30))
        #expect(packets[CapturePoint(input: 1, frame: 9)]?.data == packet(9, input: 1, size: 30).data)
        packets.keep(packet(12, input: 0, size: 10))
        packets.keep(packet(10, input: 0, size: 11))
        packets.keep(packet(11, input: 0, size: 12))
        for (frame, size) in [(10, 11), (11, 12), (12, 10)] {
            #expect(packets[CapturePoint(input: 0, frame: frame)]?.data == packet(frame, input: 0, size: size).data)
        }
        packets.remove(CapturePoint(input: 0, frame: 11))
        #expect(packets[CapturePoint(input: 0, frame: 11)] == nil)
        #expect(packets[CapturePoint(input: 0, frame: 12)] != nil)
    }
}
