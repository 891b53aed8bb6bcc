import Foundation
import Testing

/// A capture read from a pipe (`ssh node dnsflow -i any -w - | dnsflow -r -`, the kubectl plugin's stream) is read as it
/// comes, like a live capture: a query's line is out while the pipe stays open, not when it closes.
@Suite("Streams of pcap")
struct StreamInputTests {
    /// Where the first `count` records of a little-endian pcap end (after its 24-octet header).
    static func end(ofRecords count: Int, in capture: Data) -> Int {
        var end = 24
        for _ in 0..<count {
            let length = Int(capture[end + 8]) | Int(capture[end + 9]) << 8 | Int(capture[end + 10]) << 16 | Int(capture[end + 11]) << 24
            end += 16 + length
        }
        return end
    }

    /// What the pipe gave within `seconds`, up to its first line, without waiting for it to close.
    static func firstLine(of pipe: Pipe, within seconds: Double) -> String {
        let fd = pipe.fileHandleForReading.fileDescriptor
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        let deadline = Date().addingTimeInterval(seconds)
        var seen = ""
        while Date() < deadline, !seen.contains("\n") {
            var buffer = [UInt8](repeating: 0, count: 4096)
            let n = read(fd, &buffer, buffer.count)
            if n > 0 { seen += String(decoding: buffer[..<n], as: UTF8.self) } else { usleep(20_000) }
        }
        return seen
    }

    @Test(hangLimit)
    func aStreamIsAnalysedAsItComes() throws {
        let capture = try Data(contentsOf: labFixtures.appendingPathComponent("race-5s/pod.pcap"))
        let p = Process()
        p.executableURL = dnsflowBinary
        p.arguments = ["-r", "-", "--no-ui"]
        let input = Pipe(), output = Pipe()
        p.standardInput = input
        p.standardOutput = output
        p.standardError = FileHandle.nullDevice
        try p.run()
        // The file header and the first query and its response (race-5s: 24 + two records).
        let end = Self.end(ofRecords: 2, in: capture)
        input.fileHandleForWriting.write(capture.prefix(end))
        // Its line, while the pipe is still open.
        let seen = Self.firstLine(of: output, within: 3)
        #expect(seen.contains("A? web.default.svc.cluster.local. NOERROR"), "nothing within 3 s of the packets, pipe open: \(seen)")
        input.fileHandleForWriting.write(capture.dropFirst(end))
        try input.fileHandleForWriting.close()
        p.waitUntilExit()
        #expect(p.terminationStatus == 0)
    }

    /// A stream's summary counts latencies in a histogram (a stream, like a live capture, may run for days: keeping
    /// each latency grew without end): its percentiles are given to three digits, marked `~` in the text; the same
    /// capture read from its file gives them exactly. The largest is exact in both.
    @Test(hangLimit)
    func aStreamsSummaryGivesItsPercentilesFromAHistogram() throws {
        let path = labFixtures.appendingPathComponent("race-5s/pod.pcap")
        func summary(_ arguments: [String], stdin: Data?) throws -> String {
            let p = Process()
            p.executableURL = dnsflowBinary
            p.arguments = arguments
            let input = Pipe(), output = Pipe()
            p.standardInput = stdin == nil ? FileHandle.nullDevice : input
            p.standardOutput = output
            p.standardError = FileHandle.nullDevice
            try p.run()
            if let stdin {
                input.fileHandleForWriting.write(stdin)
                try input.fileHandleForWriting.close()
            }
            let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            p.waitUntilExit()
            #expect(p.terminationStatus == 0)
            return text
        }
        let streamed = try summary(["-r", "-", "--summary"], stdin: try Data(contentsOf: path))
        let read = try summary(["-r", path.path, "--summary"], stdin: nil)
        let line = { (text: String) in text.split(separator: "\n").first { $0.hasPrefix("latency p50") }.map(String.init) ?? "" }
        #expect(line(streamed).contains("~") && line(streamed).hasSuffix(" ms"), "\(line(streamed))")
        #expect(!line(read).contains("~") && line(read).hasSuffix(" ms"), "\(line(read))")
        // The largest latency is exact either way.
        #expect(line(streamed).split(separator: "/").last == line(read).split(separator: "/").last)
        let json = try summary(["-r", "-", "--summary", "--json"], stdin: try Data(contentsOf: path))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        let latency = try #require(object["latency_ms"] as? [String: Any])
        #expect(latency["p50"] is NSNumber && latency["max"] is NSNumber)
    }

    /// Two streams (two pods through the plugin), one of them quiet: the other's packets are analysed as they come.
    @Test(hangLimit)
    func aQuietStreamDoesNotHoldTheOthersBack() throws {
        let capture = try Data(contentsOf: labFixtures.appendingPathComponent("race-5s/pod.pcap"))
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("streams-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let fifos = ["a", "b"].map { dir.appendingPathComponent($0).path }
        for f in fifos { #expect(mkfifo(f, 0o600) == 0) }
        let p = Process()
        p.executableURL = dnsflowBinary
        p.arguments = ["-r", fifos[0], "-r", fifos[1], "--no-ui"]
        let output = Pipe()
        p.standardOutput = output
        p.standardError = FileHandle.nullDevice
        try p.run()
        // dnsflow opens the inputs in order, reading each one's header: each open here waits for its reader. Close-on-
        // exec: a process another test starts meanwhile must not keep a write end open (dnsflow would never see the end).
        let a = open(fifos[0], O_WRONLY | O_CLOEXEC), header = [UInt8](capture.prefix(24))
        #expect(write(a, header, 24) == 24)
        let b = open(fifos[1], O_WRONLY | O_CLOEXEC)
        #expect(write(b, header, 24) == 24)
        let end = Self.end(ofRecords: 2, in: capture)
        let first = [UInt8](capture[24..<end])
        #expect(write(a, first, first.count) == first.count)
        let seen = Self.firstLine(of: output, within: 3)
        #expect(seen.contains("A? web.default.svc.cluster.local. NOERROR"), "stream a's line while b is quiet: \(seen)")
        close(a)
        close(b)
        p.waitUntilExit()
        #expect(p.terminationStatus == 0)
    }
}
