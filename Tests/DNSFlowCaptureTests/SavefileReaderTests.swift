import CPcap
import DNSFlowCapture
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// One packet as libpcap read it (nanosecond precision), with the stream's offset before the read.
struct LibpcapPacket {
    var offset: Int64
    var data: [UInt8]
    var originalLength: Int
    var seconds: Int64
    var nanoseconds: UInt32
}

/// Every packet libpcap reads from `path` (up to a read error), or nil when libpcap will not open it.
func libpcapPackets(_ path: String) -> [LibpcapPacket]? {
    var errbuf = [CChar](repeating: 0, count: Int(PCAP_ERRBUF_SIZE) + 1)
    guard let handle = pcap_open_offline_with_tstamp_precision(path, UInt32(PCAP_TSTAMP_PRECISION_NANO), &errbuf) else {
        return nil
    }
    defer { pcap_close(handle) }
    guard let file = pcap_file(handle) else { return nil }
    var packets: [LibpcapPacket] = []
    while true {
        let offset = Int64(ftello(file))
        var header: UnsafeMutablePointer<pcap_pkthdr>?
        var data: UnsafePointer<UInt8>?
        guard pcap_next_ex(handle, &header, &data) == 1, let h = header?.pointee, let data else { break }
        packets.append(LibpcapPacket(
            offset: offset, data: Array(UnsafeBufferPointer(start: data, count: Int(h.caplen))),
            originalLength: Int(h.len), seconds: Int64(h.ts.tv_sec), nanoseconds: UInt32(clamping: h.ts.tv_usec)))
    }
    return packets
}

/// A count several threads add to.
final class Tally: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func add(_ n: Int) { lock.withLock { count += n } }
    var value: Int { lock.withLock { count } }
}

/// The first four bytes of a file.
func fileMagic(_ path: String) -> [UInt8] {
    guard let handle = FileHandle(forReadingAtPath: path) else { return [] }
    defer { try? handle.close() }
    return [UInt8]((try? handle.read(upToCount: 4)) ?? Data())
}

/// Every capture file under Fixtures and in the public corpus (when it is there) whose name ends in one of `suffixes`,
/// sorted, gzipped ones left out.
func captureFiles(endingIn suffixes: [String]) throws -> [String] {
    var paths: [String] = []
    for dir in [fixturesDirectory] + (corpusExists ? [corpusDirectory] : []) {
        let walker = try #require(FileManager.default.enumerator(atPath: dir.path))
        paths += walker.compactMap { $0 as? String }.filter { name in suffixes.contains { name.hasSuffix($0) } }
            .map { dir.appendingPathComponent($0).path }
    }
    return paths.sorted().filter { !fileMagic($0).starts(with: [0x1F, 0x8B]) }
}

struct Comparison {
    var packets = 0
    /// pcapng packets whose record came back without a time stamp (simple packet blocks).
    var untimed = 0
    /// Offsets that pointed at a non-packet block (pcapng) before the packet.
    var beforeBlocks = 0
    var mismatches: [String] = []
}

/// Reads every packet of `path` with libpcap and again by offset with SavefileReader; nil when libpcap rejects it.
func compareWithLibpcap(_ path: String) -> Comparison? {
    guard let packets = libpcapPackets(path) else { return nil }
    var result = Comparison()
    guard let reader = SavefileReader(path: path) else {
        result.mismatches.append("\(path): SavefileReader would not open a file libpcap reads")
        return result
    }
    let pcapng = fileMagic(path) == [0x0A, 0x0D, 0x0D, 0x0A]
    for (i, p) in packets.enumerated() {
        result.packets += 1
        let label = "\(path) packet \(i + 1) at \(p.offset)"
        guard let record = reader.record(at: p.offset) else {
            result.mismatches.append("\(label): no record")
            continue
        }
        if pcapng, let block = blockType(path, at: p.offset), ![2, 3, 6].contains(block) { result.beforeBlocks += 1 }
        if record.data != p.data { result.mismatches.append("\(label): \(record.data.count) bytes, libpcap \(p.data.count)") }
        if record.originalLength != p.originalLength {
            result.mismatches.append("\(label): length \(record.originalLength), libpcap \(p.originalLength)")
        }
        if pcapng, record.seconds == 0, record.nanoseconds == 0, p.nanoseconds == 0 {
            result.untimed += 1
        } else if record.seconds != p.seconds || record.nanoseconds != p.nanoseconds {
            result.mismatches.append(
                "\(label): time \(stamp(record.seconds, record.nanoseconds)), libpcap \(stamp(p.seconds, p.nanoseconds))")
        }
    }
    return result
}

func stamp(_ seconds: Int64, _ nanoseconds: UInt32) -> String {
    let digits = String(nanoseconds)
    return "\(seconds)." + String(repeating: "0", count: max(0, 9 - digits.count)) + digits
}

/// The pcapng block type at `offset` (either byte order: only the low byte is looked at, for the small types).
func blockType(_ path: String, at offset: Int64) -> UInt32? {
    guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
    defer { try? handle.close() }
    guard (try? handle.seek(toOffset: UInt64(offset))) != nil, let b = try? handle.read(upToCount: 4), b.count == 4 else {
        return nil
    }
    let bytes = [UInt8](b)
    let little = UInt32(bytes[0]) | UInt32(bytes[1]) << 8 | UInt32(bytes[2]) << 16 | UInt32(bytes[3]) << 24
    return little & 0xFFFF_FF00 == 0 ? little : little.byteSwapped
}

@Suite("SavefileReader: a record read again by offset is the packet libpcap read")
struct SavefileReaderTests {
    /// Classic pcap little- and big-endian, microsecond and nanosecond (ipv6-gtp6), cut mid-record; pcapng with
    /// several interfaces, a time stamp past 2106, captures from the lab.
    static let fixtures = [
        "captures/dns.pcap", "captures/dns_udp-bigendian.pcap", "captures/ipv6-gtp6.pcap",
        "captures/dns-cut-mid-record.pcap", "captures/sll2.pcap", "lab/race-5s/node-any.pcap",
        "captures/pcapng-multi-interface.pcapng", "captures/time_2106_overflow.pcapng",
        "lab/clean/pod.pcapng", "lab/tc-fallback/pod.pcapng",
    ]

    @Test("same bytes, length and time stamp as libpcap", arguments: fixtures)
    func sameAsLibpcap(_ fixture: String) throws {
        let path = fixturesDirectory.appendingPathComponent(fixture).path
        let result = try #require(compareWithLibpcap(path), "libpcap would not open \(fixture)")
        #expect(result.packets > 0)
        #expect(result.untimed == 0)
        #expect(result.mismatches.isEmpty, "\(result.mismatches.prefix(10))")
    }

    @Test("every capture under Fixtures")
    func everyFixture() throws {
        let walker = try #require(FileManager.default.enumerator(atPath: fixturesDirectory.path))
        let paths = walker.compactMap { $0 as? String }.filter { $0.hasSuffix(".pcap") || $0.hasSuffix(".pcapng") }.sorted()
        var files = 0, packets = 0, mismatches: [String] = []
        for relative in paths {
            guard let result = compareWithLibpcap(fixturesDirectory.appendingPathComponent(relative).path) else { continue }
            files += 1
            packets += result.packets
            mismatches += result.mismatches
        }
        print("SavefileReader: \(packets) packets in \(files) fixture files agree with libpcap")
        #expect(files >= 4)
        #expect(mismatches.isEmpty, "\(mismatches.prefix(10))")
    }

    /// Offsets that are not record starts: nil or some record, never a trap; real records still found after.
    @Test("garbage offsets give nil or a record, without trapping", arguments: [
        "captures/dns.pcap", "captures/dns_udp-bigendian.pcap", "captures/ipv6-gtp6.pcap",
        "captures/dns-cut-mid-record.pcap", "captures/pcapng-multi-interface.pcapng",
        "captures/time_2106_overflow.pcapng", "lab/clean/pod.pcapng",
    ])
    func garbageOffsets(_ fixture: String) throws {
        let path = fixturesDirectory.appendingPathComponent(fixture).path
        let reader = try #require(SavefileReader(path: path))
        let size = Int64(try #require(try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int))
        for offset: Int64 in [-1, -4096, .min, .max, .max - 3, size, size + 1, size + 4096, 0, 1, 2, 3] {
            let record = reader.record(at: offset)
            if offset < 0 || offset >= size { #expect(record == nil, "offset \(offset)") }
        }
        // Every offset in the file (they are small), and then random ones again in another order.
        var found = 0
        for offset in 0..<size where reader.record(at: offset) != nil { found += 1 }
        #expect(found > 0)
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2000 { _ = reader.record(at: Int64.random(in: -8...(size + 8), using: &generator)) }
        // Still the same answers for the real records afterwards.
        let packets = try #require(libpcapPackets(path))
        for p in packets { #expect(reader.record(at: p.offset)?.data == p.data) }
    }

    /// One reader shared by several threads (its pcapng index is built while they read), while libpcap reads the
    /// same file sequentially.
    @Test("one reader, several threads", arguments: ["lab/tc-fallback/pod.pcapng", "captures/dns.pcap"])
    func threads(_ fixture: String) throws {
        let path = fixturesDirectory.appendingPathComponent(fixture).path
        let packets = try #require(libpcapPackets(path))
        let reader = try #require(SavefileReader(path: path))
        let wrong = Tally()
        DispatchQueue.concurrentPerform(iterations: 8) { thread in
            if thread == 0 {
                let again = libpcapPackets(path)?.count ?? -1
                wrong.add(again == packets.count ? 0 : 1)
                return
            }
            // Each thread its own order: from the end first, so that the index is built by whichever comes first.
            let order = thread % 2 == 0 ? Array(packets.indices.reversed()) : packets.indices.shuffled()
            var bad = 0
            for i in order where reader.record(at: packets[i].offset)?.data != packets[i].data { bad += 1 }
            wrong.add(bad)
        }
        #expect(wrong.value == 0)
    }

    /// A copy cut at every length: the records that are wholly there come back, the cut one and those after not.
    @Test("truncated copies", arguments: ["captures/dns_udp.pcap", "captures/pcapng-multi-interface.pcapng"])
    func truncated(_ fixture: String) throws {
        let path = fixturesDirectory.appendingPathComponent(fixture).path
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        let packets = try #require(libpcapPackets(path))
        let copy = FileManager.default.temporaryDirectory.appendingPathComponent("savefile-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: copy) }
        for length in stride(from: 0, through: bytes.count, by: 1) {
            try bytes.prefix(length).write(to: copy)
            guard let reader = SavefileReader(path: copy.path) else {
                #expect(Int64(length) < packets[0].offset, "a \(length)-byte prefix of \(fixture) did not open")
                continue
            }
            for (i, p) in packets.enumerated() {
                let record = reader.record(at: p.offset)
                // The packet's record ends at the next packet's offset (or the end of the file) at the latest.
                let end = i + 1 < packets.count ? packets[i + 1].offset : Int64(bytes.count)
                if Int64(length) >= end { #expect(record?.data == p.data, "\(fixture) cut at \(length): packet \(i + 1)") }
                if Int64(length) < p.offset + 16 { #expect(record == nil, "\(fixture) cut at \(length): packet \(i + 1)") }
            }
        }
    }

    /// Damaged lengths: a huge incl_len, a pcapng block whose trailer disagrees, a block length not a multiple of 4.
    @Test("damaged lengths give nil")
    func damagedLengths() throws {
        let dir = FileManager.default.temporaryDirectory
        func patched(_ fixture: String, _ edit: (inout [UInt8]) -> Void) throws -> String {
            var bytes = [UInt8](try Data(contentsOf: fixturesDirectory.appendingPathComponent(fixture)))
            edit(&bytes)
            let url = dir.appendingPathComponent("savefile-\(UUID().uuidString)")
            try Data(bytes).write(to: url)
            return url.path
        }
        // dns_udp.pcap (little-endian): first record at 24, incl_len at 32.
        for value: UInt32 in [0x40001, 0xFFFF_FFFF, 0x7FFF_FFFF, 1000] {
            let path = try patched("captures/dns_udp.pcap") { b in
                for k in 0..<4 { b[32 + k] = UInt8(truncatingIfNeeded: value >> (8 * UInt32(k))) }
            }
            defer { try? FileManager.default.removeItem(atPath: path) }
            let reader = try #require(SavefileReader(path: path))
            #expect(reader.record(at: 24) == nil, "incl_len \(value)")
        }
        // pcapng: find the first packet block with libpcap's offsets, then damage its length or trailer.
        let fixture = "captures/pcapng-multi-interface.pcapng"
        let original = fixturesDirectory.appendingPathComponent(fixture).path
        let first = try #require(libpcapPackets(original)?.first)
        let data = [UInt8](try Data(contentsOf: URL(fileURLWithPath: original)))
        var at = Int(first.offset)
        while blockType(original, at: Int64(at)) != 6 {
            at += Int(UInt32(data[at + 4]) | UInt32(data[at + 5]) << 8 | UInt32(data[at + 6]) << 16 | UInt32(data[at + 7]) << 24)
        }
        let blockAt = at
        let length = Int(UInt32(data[at + 4]) | UInt32(data[at + 5]) << 8 | UInt32(data[at + 6]) << 16 | UInt32(data[at + 7]) << 24)
        for edit in ["trailer", "odd", "short", "huge", "caplen"] {
            let path = try patched(fixture) { b in
                switch edit {
                case "trailer": b[blockAt + length - 4] ^= 0x04
                case "odd": b[blockAt + 4] ^= 0x01
                case "short": b[blockAt + 4] = 8; b[blockAt + 5] = 0; b[blockAt + 6] = 0; b[blockAt + 7] = 0
                case "huge": b[blockAt + 7] = 0x7F
                default: b[blockAt + 20 + 3] = 0x01  // captured length += 16 MiB
                }
            }
            defer { try? FileManager.default.removeItem(atPath: path) }
            let reader = try #require(SavefileReader(path: path))
            #expect(reader.record(at: Int64(blockAt)) == nil, "\(edit)")
        }
    }

    @Test("files that are not captures do not open")
    func notACapture() throws {
        #expect(SavefileReader(path: packageRoot.appendingPathComponent("Package.swift").path) == nil)
        #expect(SavefileReader(path: packageRoot.appendingPathComponent("no-such-file.pcap").path) == nil)
        #expect(SavefileReader(path: fixturesDirectory.path) == nil)
        let dir = FileManager.default.temporaryDirectory
        for (name, bytes) in [
            ("empty", [UInt8]()),
            ("magic-only", [0xD4, 0xC3, 0xB2, 0xA1]),
            ("short-header", [0xD4, 0xC3, 0xB2, 0xA1, 2, 0, 4, 0, 0, 0, 0, 0]),
            ("version-9", [0xD4, 0xC3, 0xB2, 0xA1, 9, 0, 4, 0] + [UInt8](repeating: 0, count: 16)),
            ("shb-bad-magic", [0x0A, 0x0D, 0x0D, 0x0A, 28, 0, 0, 0, 1, 2, 3, 4] + [UInt8](repeating: 0, count: 16)),
            ("text", Array("hello, this is not a capture file at all\n".utf8)),
        ] {
            let url = dir.appendingPathComponent("savefile-\(name)-\(UUID().uuidString)")
            try Data(bytes).write(to: url)
            defer { try? FileManager.default.removeItem(at: url) }
            #expect(SavefileReader(path: url.path) == nil, "\(name)")
        }
    }

    /// What the fixtures lack: pcapng in both byte orders with simple and obsolete packet blocks, binary,
    /// millisecond and picosecond resolutions, a time stamp offset, non-packet blocks between packets, a second section
    /// whose interfaces are numbered afresh and an interface described after packets; pcap in Kuznetzov's format,
    /// with lengths in the pre-2.3 order, with a record longer than the snapshot length and a time stamp past 2038.
    @Test("synthetic captures", arguments: SyntheticCapture.all)
    func synthetic(_ capture: SyntheticCapture) throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("savefile-\(capture.name)-\(UUID().uuidString)")
        try Data(capture.bytes).write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        let packets = try #require(libpcapPackets(url.path), "libpcap would not open \(capture.name)")
        #expect(packets.count == capture.packets, "libpcap read \(packets.count) packets")
        let result = try #require(compareWithLibpcap(url.path))
        #expect(result.untimed == capture.untimed)
        #expect(result.mismatches.isEmpty, "\(result.mismatches)")
    }

    /// Every pcap/pcapng in ../shared/corpus that libpcap opens (gzip skipped).
    @Test("every corpus capture libpcap opens", .enabled(if: corpusExists, "../shared/corpus is not beside the checkout"))
    func corpus() throws {
        let walker = try #require(FileManager.default.enumerator(atPath: corpusDirectory.path))
        let paths = walker.compactMap { $0 as? String }.filter { $0.hasSuffix(".pcap") || $0.hasSuffix(".pcapng") }.sorted()
        var files = 0, rejected = 0, gzip = 0, packets = 0, beforeBlocks = 0, untimed = 0, mismatches: [String] = []
        for relative in paths {
            let path = corpusDirectory.appendingPathComponent(relative).path
            if fileMagic(path).starts(with: [0x1F, 0x8B]) {
                gzip += 1
                continue
            }
            guard let result = compareWithLibpcap(path) else {
                rejected += 1
                continue
            }
            files += 1
            packets += result.packets
            beforeBlocks += result.beforeBlocks
            untimed += result.untimed
            mismatches += result.mismatches
        }
        print("SavefileReader corpus: \(packets) packets in \(files) files agree with libpcap (\(rejected) files libpcap "
              + "rejects, \(gzip) gzip skipped; \(beforeBlocks) pcapng offsets before a non-packet block, \(untimed) untimed)")
        #expect(files > 0)
        #expect(mismatches.isEmpty, "\(mismatches.count) mismatches: \(mismatches.prefix(10))")
    }
}

/// A capture built byte by byte, and how many packets libpcap reads from it (how many of them simple packet blocks).
struct SyntheticCapture: CustomTestStringConvertible, Sendable {
    var name: String
    var bytes: [UInt8]
    var packets: Int
    var untimed = 0
    var testDescription: String { name }

    static var all: [SyntheticCapture] {
        [pcapng(bigEndian: false), pcapng(bigEndian: true),
         kuznetzov(bigEndian: false), kuznetzov(bigEndian: true),
         pcap(bigEndian: true, nanosecond: false, minor: 4), pcap(bigEndian: false, nanosecond: true, minor: 4),
         pcap(bigEndian: false, nanosecond: false, minor: 2)]
    }

    /// Integers in one byte order.
    struct Writer {
        var bigEndian: Bool
        var bytes: [UInt8] = []
        mutating func u16(_ v: UInt16) { append(UInt64(v), 2) }
        mutating func u32(_ v: UInt32) { append(UInt64(v), 4) }
        mutating func u64(_ v: UInt64) { append(v, 8) }
        mutating func append(_ v: UInt64, _ n: Int) {
            for i in 0..<n {
                let shift = bigEndian ? 8 * (n - 1 - i) : 8 * i
                bytes.append(UInt8(truncatingIfNeeded: v >> UInt64(shift)))
            }
        }
        mutating func raw(_ b: [UInt8]) {
            bytes += b
            while bytes.count % 4 != 0 { bytes.append(0) }
        }
        mutating func option(_ code: UInt16, _ value: [UInt8]) {
            u16(code)
            u16(UInt16(value.count))
            raw(value)
        }
    }

    static func payload(_ n: Int, _ seed: UInt8) -> [UInt8] { (0..<n).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ Int(seed)) } }

    static func pcapng(bigEndian big: Bool) -> SyntheticCapture {
        var file = Writer(bigEndian: big)
        func block(_ type: UInt32, _ body: (inout Writer) -> Void) {
            var w = Writer(bigEndian: big)
            body(&w)
            let total = UInt32(12 + w.bytes.count)
            file.u32(type)
            file.u32(total)
            file.bytes += w.bytes
            file.u32(total)
        }
        func shb() {
            block(0x0A0D_0D0A) { w in
                w.u32(0x1A2B_3C4D)
                w.u16(1)
                w.u16(0)
                w.u64(UInt64.max)
            }
        }
        func idb(_ options: (inout Writer) -> Void) {
            block(1) { w in
                w.u16(1)
                w.u16(0)
                w.u32(0)
                var o = Writer(bigEndian: big)
                options(&o)
                if !o.bytes.isEmpty {
                    w.bytes += o.bytes
                    w.option(0, [])
                }
            }
        }
        func epb(_ interface: UInt32, _ t: UInt64, _ data: [UInt8], original: Int? = nil) {
            block(6) { w in
                w.u32(interface)
                w.u32(UInt32(t >> 32))
                w.u32(UInt32(truncatingIfNeeded: t))
                w.u32(UInt32(data.count))
                w.u32(UInt32(original ?? data.count))
                w.raw(data)
                w.option(2, [0, 0, 0, 1])  // epb_flags
                w.option(0, [])
            }
        }
        var w8 = Writer(bigEndian: big)
        w8.u64(1_000)
        let tsoffset = w8.bytes
        shb()
        idb { $0.option(9, [9]) }                                               // 0: ns
        idb { $0.option(2, Array("eth1".utf8)); $0.option(9, [0x80 | 20]); $0.option(14, tsoffset) }  // 1: 2^-20, +1000 s
        idb { $0.option(9, [3]) }                                               // 2: ms
        idb { $0.option(9, [12]) }                                              // 3: ps
        idb { _ in }                                                            // 4: µs (default)
        epb(0, 1_700_000_000_123_456_789, payload(60, 1))
        block(4) { w in                                                         // name resolution
            w.u16(1)
            w.u16(14)
            w.raw([192, 0, 2, 1] + Array("a.example\0".utf8))
            w.u32(0)
        }
        epb(1, (1_700_000_001 << 20) | 0x7_FFFF, payload(61, 2), original: 1500)
        block(5) { w in w.u32(0); w.u32(0); w.u32(0) }                           // statistics
        block(0x0000_0BAD) { w in w.u32(32473); w.raw([1, 2, 3]) }              // custom
        epb(2, 1_700_000_002_999, payload(62, 3))
        epb(3, 1_000_003_123_456_789_012, payload(63, 4))  // 10^-12 s: seconds since 1970-01-12
        epb(4, 1_700_000_004_654_321, payload(1, 5))
        block(2) { w in                                                         // obsolete packet block, interface 1
            w.u16(1)
            w.u16(0)
            let t: UInt64 = (1_700_000_005 << 20) | 1
            w.u32(UInt32(t >> 32))
            w.u32(UInt32(truncatingIfNeeded: t))
            w.u32(40)
            w.u32(40)
            w.raw(payload(40, 6))
        }
        block(3) { w in w.u32(45); w.raw(payload(45, 7)) }                       // simple: interface 0, no time
        epb(0, 5, [])                                                           // empty
        // A second section: interfaces numbered afresh, one described after a packet.
        shb()
        idb { _ in }                                                            // 0: µs
        epb(0, 1_700_000_006_000_001, payload(70, 8))
        idb { $0.option(9, [9]) }                                               // 1: ns
        epb(1, 1_700_000_007_000_000_001, payload(71, 9))
        epb(0, 1_700_000_008_000_002, payload(72, 10))
        return SyntheticCapture(name: big ? "pcapng-big-endian" : "pcapng-little-endian", bytes: file.bytes,
                                packets: 11, untimed: 1)
    }

    /// Records: (seconds, fraction, data, original length).
    static let records: [(UInt32, UInt32, [UInt8], UInt32)] = [
        (1_700_000_000, 123_456, payload(60, 1), 60), (0x8000_0001, 999_999, payload(80, 2), 1514),
        (0, 0, [], 0), (1_700_000_001, 5, payload(33, 3), 33),
    ]

    static func pcap(bigEndian big: Bool, nanosecond: Bool, minor: UInt16) -> SyntheticCapture {
        var w = Writer(bigEndian: big)
        w.u32(nanosecond ? 0xA1B2_3C4D : 0xA1B2_C3D4)
        w.u16(2)
        w.u16(minor)
        w.u32(0)
        w.u32(0)
        w.u32(64)  // snapshot: the 80-byte record comes back as 64
        w.u32(1)
        for (s, f, data, original) in records {
            w.u32(s)
            w.u32(f)
            // Before 2.3, len came before caplen.
            if minor < 3 { w.u32(original); w.u32(UInt32(data.count)) } else { w.u32(UInt32(data.count)); w.u32(original) }
            w.bytes += data
        }
        return SyntheticCapture(
            name: "pcap-\(big ? "big" : "little")-\(nanosecond ? "ns" : "us")-2.\(minor)", bytes: w.bytes, packets: records.count)
    }

    static func kuznetzov(bigEndian big: Bool) -> SyntheticCapture {
        var w = Writer(bigEndian: big)
        w.u32(0xA1B2_CD34)
        w.u16(2)
        w.u16(4)
        w.u32(0)
        w.u32(0)
        w.u32(65535)
        w.u32(1)
        for (s, f, data, original) in records {
            w.u32(s)
            w.u32(f)
            w.u32(UInt32(data.count))
            w.u32(original)
            w.u32(3)        // ifindex
            w.u16(0x0800)   // protocol
            w.bytes += [0, 0]  // pkt_type, pad
            w.bytes += data
        }
        return SyntheticCapture(name: "pcap-kuznetzov-\(big ? "big" : "little")", bytes: w.bytes, packets: records.count)
    }
}
