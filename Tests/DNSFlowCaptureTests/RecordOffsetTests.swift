@testable import DNSFlowCapture
import DNSFlowCore
import Foundation
import Testing

/// PcapHandle gives each pcap record's offset by arithmetic instead of asking the stream before every read; the
/// offsets must be the stream's, whatever the file.
@Suite("Record offsets without a system call per packet")
struct RecordOffsetTests {
    /// Each packet's offset and octets as PcapHandle reads them (`throughLibpcap`: every record through libpcap, the
    /// offsets by `RecordOffsets`, not read from the file directly by `PcapRecords`).
    func handlePackets(_ path: String, filter: String? = nil, throughLibpcap: Bool = false) throws -> [(offset: Int64, data: [UInt8])] {
        let h = try PcapHandle.openFile(path, input: 0)
        if throughLibpcap { h.readThroughLibpcap() }
        if let filter { try h.setFilter(filter) }
        var out: [(Int64, [UInt8])] = []
        while case .packet(let p) = h.next() { out.append((p.point.fileOffset, p.data)) }
        return out
    }

    /// Whether PcapHandle's offsets are libpcap's stream positions for every packet of `path` (nil: libpcap rejects it).
    func agrees(_ path: String) throws -> (packets: Int, wrong: [String])? {
        guard let expected = libpcapPackets(path) else { return nil }
        var wrong: [String] = []
        for throughLibpcap in [false, true] {
            let got = try handlePackets(path, throughLibpcap: throughLibpcap)
            let how = throughLibpcap ? "through libpcap" : "read directly"
            if got.count != expected.count { wrong.append("\(path) \(how): \(got.count) packets, libpcap \(expected.count)") }
            for (i, (g, e)) in zip(got, expected).enumerated() where g.offset != e.offset || g.data != e.data {
                wrong.append("\(path) #\(i + 1) \(how): offset \(g.offset), libpcap \(e.offset)")
            }
        }
        return (expected.count, wrong)
    }

    @Test("synthetic captures: Kuznetzov's 24-octet headers, a record beyond the snapshot length", arguments: SyntheticCapture.all)
    func synthetic(_ capture: SyntheticCapture) throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("offsets-\(capture.name)-\(UUID().uuidString)")
        try Data(capture.bytes).write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        let result = try #require(try agrees(url.path))
        #expect(result.packets == capture.packets)
        #expect(result.wrong.isEmpty, "\(result.wrong)")
    }

    @Test("every capture under Fixtures, and the public corpus")
    func everyCapture() throws {
        var packets = 0, files = 0, wrong: [String] = []
        for path in try captureFiles(endingIn: [".pcap", ".pcapng"]) {
            guard let result = try? agrees(path) else { continue }
            files += 1
            packets += result.packets
            wrong += result.wrong
        }
        print("record offsets: \(packets) packets in \(files) files agree with the stream")
        #expect(files >= 4)
        #expect(wrong.isEmpty, "\(wrong.count) wrong: \(wrong.prefix(10))")
    }

    /// A filter makes libpcap skip records: the offsets are asked for again.
    @Test func aFilteredFileStillGivesTheRightOffsets() throws {
        let path = fixturesDirectory.appendingPathComponent("captures/dns_tcp.pcap").path
        let all = try #require(libpcapPackets(path))
        let byOffset = Dictionary(all.map { ($0.offset, $0.data) }, uniquingKeysWith: { a, _ in a })
        let filtered = try handlePackets(path, filter: "tcp[tcpflags] & tcp-push != 0")
        #expect(!filtered.isEmpty && filtered.count < all.count)
        for p in filtered { #expect(byOffset[p.offset] == p.data, "offset \(p.offset)") }
        // Frames keep their numbers in the file (as Wireshark shows them), filtered or not.
        let h = try PcapHandle.openFile(path, input: 0)
        try h.setFilter("tcp[tcpflags] & tcp-push != 0")
        var seen = 0
        while case .packet(let p) = h.next() {
            #expect(all[p.point.frame - 1].data == p.data, "frame \(p.point.frame)")
            seen += 1
        }
        #expect(seen == filtered.count)
        #expect(h.packetsRead == all.count)
    }

    /// The arithmetic checks itself against the stream every 4,096 records; told otherwise, it stops for good.
    @Test func aDisagreementTurnsTheArithmeticOff() {
        var o = RecordOffsets(snapshot: 262_144)
        var position: Int64 = 24, asked = 0
        func record(_ frame: Int, caplen: Int64, lie: Int64 = 0) -> Int64 {
            let at = o.next(frame: frame) { asked += 1; return position + lie }
            o.read(at: at, caplen: caplen)
            position += 16 + caplen
            return at
        }
        #expect(record(1, caplen: 100) == 24)
        #expect(record(2, caplen: 80) == 140)
        #expect(asked == 2)
        for f in 3..<4096 { _ = record(f, caplen: 70) }
        #expect(asked == 2, "learnt: no more asking")
        // The stream disagrees at the check: from then on it is asked every time.
        let at = record(4096, caplen: 70, lie: 8)
        #expect(at == position - 16 - 70 + 8)
        _ = record(4097, caplen: 70)
        _ = record(4098, caplen: 70)
        #expect(asked == 2 + 2 + 2)
        // A record as long as the snapshot may have been longer in the file: the next offset is asked for.
        o = RecordOffsets(snapshot: 64)
        position = 24
        asked = 0
        _ = record(1, caplen: 60)
        _ = record(2, caplen: 64)
        _ = record(3, caplen: 60)
        _ = record(4, caplen: 60)
        #expect(asked == 3)
    }
}
