@testable import DNSFlowCapture
import DNSFlowCore
import Foundation
import Testing

/// A pcap file's records read from the file directly (`PcapRecords`) must be exactly what libpcap gives: every packet
/// (time and its digits, octets, lengths, frame, offset), the error that ends a damaged file, the packets a filter
/// lets through — and libpcap must take over, at the right record, wherever it would read differently.
@Suite("pcap records read directly")
struct PcapRecordsTests {
    struct Read: Equatable {
        var packets: [String] = []
        var readError: String?
        var clamped = 0
        var framesRead = 0
    }

    /// Every packet `path` gives, directly or (`throughLibpcap`) as libpcap reads it; and whether it was read directly
    /// to the end.
    func read(_ path: String, throughLibpcap: Bool, filter: String? = nil) throws -> (read: Read, direct: Bool) {
        let h = try PcapHandle.openFile(path, input: 0)
        if throughLibpcap { h.readThroughLibpcap() }
        if let filter { try h.setFilter(filter) }
        var out = Read()
        while case .packet(let p) = h.next() {
            let t = p.timestamp
            out.packets.append("\(p.point.frame) @\(p.point.fileOffset) \(t.seconds).\(t.nanoseconds)/\(t.digits) "
                + "\(p.originalLength) \(p.linkType.rawValue) \(p.data)")
        }
        out.readError = h.readError
        out.clamped = h.clampedTimestamps
        out.framesRead = h.packetsRead
        return (out, h.readsRecordsDirectly)
    }

    func write(_ bytes: [UInt8], _ name: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("records-\(name)-\(UUID().uuidString).pcap")
        try Data(bytes).write(to: url)
        return url
    }

    /// A pcap file: `records` as (seconds, fraction, captured octets, original length).
    func pcap(bigEndian: Bool = false, nanosecond: Bool = false, snapshot: UInt32 = 65535, linkType: UInt32 = 1,
              _ records: [(UInt32, UInt32, [UInt8], UInt32)]) -> [UInt8] {
        var w = SyntheticCapture.Writer(bigEndian: bigEndian)
        w.u32(nanosecond ? 0xA1B2_3C4D : 0xA1B2_C3D4)
        w.u16(2)
        w.u16(4)
        w.u32(0)
        w.u32(0)
        w.u32(snapshot)
        w.u32(linkType)
        for (s, f, data, original) in records {
            w.u32(s)
            w.u32(f)
            w.u32(UInt32(data.count))
            w.u32(original)
            w.bytes += data
        }
        return w.bytes
    }

    static func octets(_ n: Int, _ seed: UInt8) -> [UInt8] { (0..<n).map { UInt8(truncatingIfNeeded: $0 &* 7) &+ seed } }

    @Test("every pcap file under Fixtures and in the public corpus, read directly, reads as through libpcap")
    func everyCapture() throws {
        var files = 0, direct = 0, packets = 0, differ: [String] = []
        for path in try captureFiles(endingIn: [".pcap", ".cap", ".pcapng"]) {
            guard let (expected, _) = try? read(path, throughLibpcap: true),
                  let (got, wasDirect) = try? read(path, throughLibpcap: false) else { continue }
            files += 1
            packets += got.packets.count
            if wasDirect { direct += 1 }
            if got != expected { differ.append(path) }
        }
        print("pcap records: \(files) files (\(direct) read directly to their end), \(packets) packets")
        #expect(direct >= 10)
        #expect(differ.isEmpty, "\(differ)")
    }

    @Test("either byte order, either precision; times past 2038 and fractions out of range as libpcap reads them")
    func byteOrdersAndPrecisions() throws {
        let records: [(UInt32, UInt32, [UInt8], UInt32)] = [
            (1_700_000_000, 123_456, Self.octets(60, 1), 60), (0x8000_0001, 999_999, Self.octets(80, 2), 1514),
            (0, 0, [], 0), (1_700_000_001, 5, Self.octets(33, 3), 33), (0xFFFF_FFFF, 0xFFFF_FFFF, Self.octets(9, 4), 9),
            (1_700_000_002, 0x8000_0000, Self.octets(12, 5), 12),
        ]
        for big in [false, true] {
            for nano in [false, true] {
                let url = try write(pcap(bigEndian: big, nanosecond: nano, records), "order")
                defer { try? FileManager.default.removeItem(at: url) }
                let (expected, _) = try read(url.path, throughLibpcap: true)
                let (got, direct) = try read(url.path, throughLibpcap: false)
                #expect(direct, "big-endian \(big), ns \(nano)")
                #expect(got == expected, "big-endian \(big), ns \(nano)")
                #expect(got.packets.count == records.count)
            }
        }
    }

    @Test("a damaged end: libpcap takes over at the record, and ends with its own message")
    func damagedEnds() throws {
        let whole = pcap([(1, 0, Self.octets(40, 1), 40), (2, 0, Self.octets(50, 2), 50), (3, 0, Self.octets(60, 3), 60)])
        // Cut in the last record's octets, in its header, and one octet into it.
        for cut in [whole.count - 7, whole.count - 60 - 9, whole.count - 60 - 15] {
            let url = try write(Array(whole.prefix(cut)), "cut")
            defer { try? FileManager.default.removeItem(at: url) }
            let (expected, _) = try read(url.path, throughLibpcap: true)
            let (got, direct) = try read(url.path, throughLibpcap: false)
            #expect(!direct && got.readError != nil, "cut at \(cut)")
            #expect(got == expected, "cut at \(cut): \(got.readError ?? "-") / \(expected.readError ?? "-")")
            #expect(got.packets.count == 2)
        }
    }

    @Test("a record beyond the snapshot length: libpcap reads it and the rest")
    func longerThanTheSnapshot() throws {
        let url = try write(pcap(snapshot: 64, [(1, 0, Self.octets(40, 1), 40), (2, 0, Self.octets(80, 2), 80),
                                                (3, 0, Self.octets(30, 3), 30)]), "snap")
        defer { try? FileManager.default.removeItem(at: url) }
        let (expected, _) = try read(url.path, throughLibpcap: true)
        let (got, direct) = try read(url.path, throughLibpcap: false)
        #expect(!direct)
        #expect(got == expected)
        #expect(got.packets.count == 3 && got.readError == nil)
    }

    @Test("records larger than the read block, and a filter, read directly")
    func largeRecordsAndFilters() throws {
        // D-Bus (231) may be captured 128 MiB a message: two records larger than the reader's block.
        let big = PcapRecords.blockSize + 12_345
        let url = try write(pcap(snapshot: 0, linkType: 231, [(1, 0, Self.octets(100, 1), 100), (2, 0, Self.octets(big, 2), UInt32(big)),
                                                              (3, 0, Self.octets(2 * big, 3), UInt32(2 * big)), (4, 0, Self.octets(7, 4), 7)]), "large")
        defer { try? FileManager.default.removeItem(at: url) }
        let (expected, _) = try read(url.path, throughLibpcap: true)
        let (got, direct) = try read(url.path, throughLibpcap: false)
        #expect(direct)
        #expect(got == expected && got.packets.count == 4)
        let dns = fixturesDirectory.appendingPathComponent("captures/dns_tcp.pcap").path
        let (filtered, filteredDirect) = try read(dns, throughLibpcap: false, filter: "tcp[tcpflags] & tcp-push != 0")
        #expect(filteredDirect)
        #expect(filtered == (try read(dns, throughLibpcap: true, filter: "tcp[tcpflags] & tcp-push != 0")).read)
        #expect(!filtered.packets.isEmpty && filtered.packets.count < filtered.framesRead)
    }

    @Test("a record claiming more octets than the file holds is not made room for: libpcap says where it is cut off")
    func lengthsPastTheFile() throws {
        // D-Bus (231) allows records of 128 MiB.
        var bytes = pcap(snapshot: 0, linkType: 231, [(1, 0, Self.octets(40, 1), 40), (2, 0, Self.octets(50, 2), 50)])
        bytes.replaceSubrange(bytes.count - 50 - 8..<bytes.count - 50 - 4, with: [0, 0, 0, 6])  // 100 MiB
        let url = try write(bytes, "past")
        defer { try? FileManager.default.removeItem(at: url) }
        let fd = open(url.path, O_RDONLY)
        defer { close(fd) }
        let reader = try #require(PcapRecords(descriptor: fd, snapshot: 128 << 20, linkType: 231))
        guard case .record(let first) = reader.next() else { Issue.record("no first record"); return }
        #expect(first.capturedLength == 40)
        guard case .handOver(let at) = reader.next() else { Issue.record("not handed over"); return }
        #expect(at == 24 + 16 + 40 && reader.capacity == PcapRecords.blockSize)
        let (expected, _) = try read(url.path, throughLibpcap: true)
        let (got, _) = try read(url.path, throughLibpcap: false)
        #expect(got == expected && got.packets.count == 1 && got.readError?.contains("truncated") == true, "\(got.readError ?? "-")")
    }

    @Test("link types libpcap rewrites after reading are left to it")
    func rewrittenLinkTypes() throws {
        for (big, linkType, direct) in [(true, UInt32(113), false), (false, UInt32(113), true), (false, UInt32(220), false),
                                         (true, UInt32(117), false), (true, UInt32(1), true)] {
            // A pflog header's first octet is its length: long enough for libpcap to swap its uid and pid fields.
            var data = Self.octets(70, 1)
            data[0] = 64
            let url = try write(pcap(bigEndian: big, linkType: linkType, [(1, 0, data, 70)]), "link")
            defer { try? FileManager.default.removeItem(at: url) }
            let h = try PcapHandle.openFile(url.path, input: 0)
            #expect(h.readsRecordsDirectly == direct, "link type \(linkType), big-endian \(big)")
            let (expected, _) = try read(url.path, throughLibpcap: true)
            #expect(try read(url.path, throughLibpcap: false).read == expected)
        }
    }

    @Test("progress follows what was read; a break asked for ends the input")
    func progressAndBreak() throws {
        let url = try write(pcap((0..<2000).map { (UInt32($0), 0, Self.octets(1000, UInt8(truncatingIfNeeded: $0)), 1000) }), "progress")
        defer { try? FileManager.default.removeItem(at: url) }
        let h = try PcapHandle.openFile(url.path, input: 0)
        let before = try #require(h.progress)
        guard case .packet = h.next() else { Issue.record("no packet"); return }
        let after = try #require(h.progress)
        #expect(before < 0.01 && after > 0.3 && after < 1, "\(before) → \(after)")
        var n = 1
        while n < 1500, case .packet = h.next() { n += 1 }
        h.breakLoop()
        guard case .end = h.next() else { Issue.record("read on after a break"); return }
        #expect(h.readError == nil && h.readsRecordsDirectly)
        let whole = try PcapHandle.openFile(url.path, input: 0)
        while case .packet = whole.next() {}
        #expect(whole.progress == 1 && whole.packetsRead == 2000)
    }
}
