import DNSFlowCapture
import DNSFlowCore
import DNSFlowTUI
import Foundation
import Testing

/// A fresh empty directory under the system temporary directory.
func scratchDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("dnsflow-export-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// What is in a directory (temporary `.part-` files included: they start with a dot).
func entries(_ directory: URL) -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []).sorted()
}

/// A 64 KiB tmpfs mounted on a fresh directory, for running out of space; nil when mounting is not allowed.
let tinyTmpfs: URL? = {
    guard getuid() == 0, let dir = try? scratchDirectory() else { return nil }
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/bin/mount")
    p.arguments = ["-t", "tmpfs", "-o", "size=64k", "tmpfs", dir.path]
    p.standardOutput = FileHandle.nullDevice
    p.standardError = FileHandle.nullDevice
    guard (try? p.run()) != nil else { return nil }
    p.waitUntilExit()
    if p.terminationStatus != 0 { try? FileManager.default.removeItem(at: dir); return nil }
    return dir
}()

@Suite("Atomic file writes")
struct AtomicFileTests {
    @Test func writesAndReadsBack() throws {
        let dir = try scratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("out.pcap").path
        let bytes = (0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        try AtomicFile.write(bytes, to: path, overwrite: false)
        #expect(try [UInt8](Data(contentsOf: URL(fileURLWithPath: path))) == bytes)
        #expect(entries(dir) == ["out.pcap"])
        // An empty file is a file too.
        try AtomicFile.write([], to: dir.appendingPathComponent("empty").path, overwrite: false)
        #expect(try Data(contentsOf: dir.appendingPathComponent("empty")).isEmpty)
    }

    @Test func refusesAnExistingFileUnlessTold() throws {
        let dir = try scratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("out.pcap").path
        try AtomicFile.write([1, 2, 3], to: path, overwrite: false)

        let error = #expect(throws: ExportError.self) { try AtomicFile.write([9], to: path, overwrite: false) }
        #expect(error == ExportError("\(path) exists", exists: true))
        #expect(try [UInt8](Data(contentsOf: URL(fileURLWithPath: path))) == [1, 2, 3])

        try AtomicFile.write([4, 5], to: path, overwrite: true)
        #expect(try [UInt8](Data(contentsOf: URL(fileURLWithPath: path))) == [4, 5])
        #expect(entries(dir) == ["out.pcap"])
    }

    @Test func aMissingDirectorySaysSo() throws {
        let dir = try scratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("no-such-directory/out.pcap").path
        let error = #expect(throws: ExportError.self) { try AtomicFile.write([1], to: path, overwrite: false) }
        #expect(error?.description == "\(path): cannot write: No such file or directory")
        #expect(error?.exists == false)
        #expect(entries(dir) == [])
    }

    @Test func anUnwritableDirectorySaysWhyInOneLine() throws {
        // /sys refuses new files even to root (EACCES, or EROFS where it is mounted read-only).
        let path = "/sys/dnsflow-export-test.pcap"
        let error = #expect(throws: ExportError.self) { try AtomicFile.write([1], to: path, overwrite: true) }
        let prefix = "\(path): cannot write: "
        #expect(error?.description.hasPrefix(prefix) == true)
        #expect((error?.description.count ?? 0) > prefix.count)
        #expect(error?.description.contains("\n") == false)
        #expect(!entries(URL(fileURLWithPath: "/sys")).contains { $0.hasPrefix(".dnsflow-export-test") })
    }

    @Test(.enabled(if: getuid() != 0, "root writes into a mode 0555 directory regardless"))
    func aReadOnlyDirectoryIsRefused() throws {
        let dir = try scratchDirectory()
        defer {
            chmod(dir.path, 0o755)
            try? FileManager.default.removeItem(at: dir)
        }
        chmod(dir.path, 0o555)
        let path = dir.appendingPathComponent("out.pcap").path
        let error = #expect(throws: ExportError.self) { try AtomicFile.write([1], to: path, overwrite: false) }
        #expect(error?.description == "\(path): cannot write: Permission denied")
        #expect(entries(dir) == [])
    }

    @Test func aDirectoryInTheWayIsNotReplaced() throws {
        let dir = try scratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let target = dir.appendingPathComponent("taken")
        try FileManager.default.createDirectory(at: target, withIntermediateDirectories: false)
        let refused = #expect(throws: ExportError.self) { try AtomicFile.write([1], to: target.path, overwrite: false) }
        #expect(refused?.exists == true)
        let failed = #expect(throws: ExportError.self) { try AtomicFile.write([1], to: target.path, overwrite: true) }
        #expect(failed?.description == "\(target.path): cannot write: Is a directory")
        #expect(entries(dir) == ["taken"])
    }

    /// An export is never renamed over a link: `e` to /dev/stderr with standard error sent to a file would
    /// otherwise replace the system's /dev/stderr (issue 20, item 1). Checked on a link of the test's own.
    @Test func aLinkInTheWayIsNotReplaced() throws {
        let dir = try scratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let victim = dir.appendingPathComponent("victim"), link = dir.appendingPathComponent("link")
        try "precious\n".write(to: victim, atomically: true, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: link.path, withDestinationPath: victim.path)
        for overwrite in [false, true] {
            let refused = #expect(throws: ExportError.self) { try AtomicFile.write([1], to: link.path, overwrite: overwrite) }
            #expect(refused?.description == "\(link.path) is a symbolic link: dnsflow does not write through links; give the file's own path")
        }
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: link.path) == victim.path)
        #expect(try String(contentsOf: victim, encoding: .utf8) == "precious\n")
        #expect(entries(dir) == ["link", "victim"])
    }

    @Test(.enabled(if: tinyTmpfs != nil, "needs root to mount a 64 KiB tmpfs"))
    func aFullDiskLeavesNothingBehind() throws {
        let dir = try #require(tinyTmpfs)
        defer {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/bin/umount")
            p.arguments = [dir.path]
            try? p.run()
            p.waitUntilExit()
            try? FileManager.default.removeItem(at: dir)
        }
        let path = dir.appendingPathComponent("big.pcap").path
        let error = #expect(throws: ExportError.self) {
            try AtomicFile.write([UInt8](repeating: 0xab, count: 256 * 1024), to: path, overwrite: false)
        }
        #expect(error?.description == "\(path): cannot write: No space left on device")
        #expect(entries(dir) == [])
        // The space the failed write took is free again: a small file still fits.
        try AtomicFile.write([1, 2, 3], to: path, overwrite: false)
        #expect(entries(dir) == ["big.pcap"])
    }
}

/// Runs a tool and returns its exit status and standard output (standard error discarded).
func runTool(_ path: String, _ arguments: [String]) throws -> (Int32, String) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: path)
    p.arguments = arguments
    let out = Pipe()
    p.standardOutput = out
    p.standardError = FileHandle.nullDevice
    try p.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return (p.terminationStatus, String(decoding: data, as: UTF8.self))
}

/// Every packet of a capture, in file order.
func readPackets(_ path: String) throws -> (LinkType, [CapturedPacket]) {
    let handle = try PcapHandle.openFile(path, input: 0)
    var out: [CapturedPacket] = []
    while case .packet(let p) = handle.next() { out.append(p) }
    return (handle.linkType, out)
}

let tcpdumpPath = ["/usr/bin/tcpdump", "/usr/sbin/tcpdump"].first { FileManager.default.isExecutableFile(atPath: $0) }

@Suite("pcap files from packets")
struct PcapFileWriterTests {
    /// Two packets of a fixture, given out of order: the file puts them back in time order.
    @Test func roundTripsThroughLibpcap() throws {
        let (_, fixture) = try readPackets(root.appendingPathComponent("Fixtures/lab/race-5s/pod.pcap").path)
        let chosen = [fixture[6], fixture[2]]
        let dir = try scratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("two.pcap").path
        try AtomicFile.write(try PcapFileWriter.encode(chosen), to: path, overwrite: false)

        let (linkType, back) = try readPackets(path)
        #expect(linkType == .ethernet)
        #expect(back.count == 2)
        for (got, want) in zip(back, [fixture[2], fixture[6]]) {
            #expect(got.timestamp.seconds == want.timestamp.seconds)
            #expect(got.timestamp.nanoseconds == want.timestamp.nanoseconds)
            #expect(got.data == want.data)
            #expect(got.originalLength == want.originalLength)
            #expect(got.linkType == want.linkType)
        }
    }

    @Test func headerIsClassicNanosecondLittleEndian() throws {
        let (_, fixture) = try readPackets(root.appendingPathComponent("Fixtures/lab/race-5s/pod.pcap").path)
        let p = fixture[0]
        let bytes = try PcapFileWriter.encode([p])
        // magic a1b23c4d, 2.4, thiszone 0, sigfigs 0, snaplen 262144, LINKTYPE_ETHERNET 1 (pcap-savefile(5)).
        #expect(Array(bytes[0..<24]) == [0x4d, 0x3c, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x00, 0x00, 0x04, 0x00, 1, 0, 0, 0])
        func le32(_ at: Int) -> UInt32 { (0..<4).reduce(0) { $0 | UInt32(bytes[at + $1]) << (8 * $1) } }
        #expect(le32(24) == UInt32(p.timestamp.seconds))
        #expect(le32(28) == p.timestamp.nanoseconds)
        #expect(le32(32) == UInt32(p.data.count))
        #expect(le32(36) == UInt32(p.originalLength))
        #expect(Array(bytes[40...]) == p.data)
    }

    @Test func truncatedPacketsKeepTheirWireLength() throws {
        let (_, fixture) = try readPackets(root.appendingPathComponent("Fixtures/captures/dns_udp_snaplen98.pcap").path)
        let cut = try #require(fixture.first { $0.originalLength > $0.data.count })
        let dir = try scratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("cut.pcap").path
        try AtomicFile.write(try PcapFileWriter.encode([cut]), to: path, overwrite: false)
        let back = try #require(try readPackets(path).1.first)
        #expect(back.data == cut.data)
        #expect(back.originalLength == cut.originalLength)
    }

    @Test func dltRawIsWrittenAsLinktypeRaw() throws {
        let (_, fixture) = try readPackets(root.appendingPathComponent("Fixtures/lab/race-5s/pod.pcap").path)
        var raw = fixture[0]
        raw.data = Array(raw.data.dropFirst(14))           // the IPv4 packet without its Ethernet header
        raw.originalLength -= 14
        raw.linkType = .raw                                // DLT_RAW 12, as libpcap reports it on Linux
        let bytes = try PcapFileWriter.encode([raw])
        #expect(Array(bytes[20..<24]) == [101, 0, 0, 0])
        let dir = try scratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("raw.pcap").path
        try AtomicFile.write(bytes, to: path, overwrite: false)
        let (linkType, back) = try readPackets(path)
        #expect(linkType == .raw)
        #expect(back.first?.data == raw.data)
    }

    @Test(.enabled(if: tcpdumpPath != nil, "needs tcpdump"))
    func tcpdumpReadsIt() throws {
        let (_, fixture) = try readPackets(root.appendingPathComponent("Fixtures/lab/race-5s/pod.pcap").path)
        let dir = try scratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("two.pcap").path
        try AtomicFile.write(try PcapFileWriter.encode(Array(fixture[5...6])), to: path, overwrite: false)
        let (status, out) = try runTool(try #require(tcpdumpPath), ["-nn", "-r", path])
        #expect(status == 0)
        let lines = out.split(separator: "\n")
        #expect(lines.count == 2)
        #expect(lines.first?.contains("46376+ AAAA? web.default.svc.cluster.local.") == true)
        #expect(lines.last?.contains("46376* 1/0/0 AAAA 2001:db8::10") == true)
    }

    @Test func mixedLinkTypesAreRefused() throws {
        let (_, ethernet) = try readPackets(root.appendingPathComponent("Fixtures/lab/race-5s/pod.pcap").path)
        let (_, sll2) = try readPackets(root.appendingPathComponent("Fixtures/captures/sll2.pcap").path)
        let error = #expect(throws: ExportError.self) { try PcapFileWriter.encode([ethernet[0], sll2[0], ethernet[1]]) }
        #expect(error?.description == "the packets have different link types (EN10MB, LINUX_SLL2); save them separately")
        #expect(error?.exists == false)
    }

    @Test func timesAPcapFileCannotHoldAreRefused() throws {
        let (_, fixture) = try readPackets(root.appendingPathComponent("Fixtures/lab/race-5s/pod.pcap").path)
        var late = fixture[0]
        late.timestamp = Timestamp(seconds: 1 << 32, nanoseconds: 0)
        #expect(throws: ExportError.self) { try PcapFileWriter.encode([late]) }
        #expect(throws: ExportError("no packets to save")) { try PcapFileWriter.encode([]) }
    }

    @Test func aDeviceOrPipeIsNeverRenamedOver() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("dnsflow-fifo-\(getpid())-\(UUID().uuidString.prefix(6))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let fifo = dir.appendingPathComponent("p").path
        #expect(mkfifo(fifo, 0o600) == 0)
        #expect(throws: ExportError.self) { try AtomicFile.write(Array("x".utf8), to: fifo, overwrite: true) }
        var st = stat()
        #expect(stat(fifo, &st) == 0 && (st.st_mode & S_IFMT) == S_IFIFO)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["p"])
    }
}

@Suite("CSV export of rows")
struct RowExportTests {
    /// A row whose packets cannot be read again (evicted from memory, a file changed since) is exported with its
    /// question, times and analysis, and says it: never written as if its answer had no records.
    @Test func aRowWhosePacketsAreGoneSaysSoInItsExport() throws {
        let all = try transactions("Fixtures/lab/race-5s/pod.pcap")
        let s = QueryStore()
        s.rebuild = { _ in nil }  // the packets are gone
        for t in all { s.settled(t) }
        let answered = try #require(s.entries.first { $0.facts.hasResponse })
        let rows = CSVRows.parse(TransactionCSV.header + TransactionCSV.row(s.transaction(of: answered)))
        let column = Dictionary(uniqueKeysWithValues: zip(rows[0], rows[1]))
        #expect(column["status"] == "answered" && column["rcode"] == "NOERROR" && column["qname"] == "web.default.svc.cluster.local")
        #expect(column["answers"] == "" && column["answer_data"] == TransactionCSV.notReadableAgain)
        #expect(column["query_size"] == "" && column["response_size"] == "" && column["input"] == "" && column["tc"] == "")
        #expect(column["latency_ms"] != "" && column["flow"] == "1")
        // Read again, the same row has its records.
        let whole = try #require(all.first { $0.sequence == answered.sequence })
        let full = Dictionary(uniqueKeysWithValues: zip(rows[0], CSVRows.parse(TransactionCSV.header + TransactionCSV.row(whole))[1]))
        #expect(full["answers"] == "1" && full["answer_data"] != TransactionCSV.notReadableAgain && full["input"] == "0")
    }
}

/// RFC 4180 rows, for the checks above.
enum CSVRows {
    static func parse(_ text: String) -> [[String]] {
        var rows: [[String]] = [], row: [String] = [], field = "", quoted = false
        var chars = Array(text)[...]
        while let c = chars.popFirst() {
            if quoted {
                if c == "\"" { if chars.first == "\"" { field.append("\""); chars.removeFirst() } else { quoted = false } } else { field.append(c) }
            } else if c == "\"" { quoted = true } else if c == "," { row.append(field); field = "" } else if c == "\n" {
                row.append(field); rows.append(row); row = []; field = ""
            } else { field.append(c) }
        }
        return rows
    }
}
