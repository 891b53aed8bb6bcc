import DNSFlowCore
#if canImport(Glibc)
import Glibc
#endif

/// What the capture-file fuzz target runs (`Fuzz/CaptureFileTarget.swift`, built by `scripts/fuzz/run` with libpcap,
/// libFuzzer and AddressSanitizer), here so that the test suite replays its kept inputs: any bytes as a capture file —
/// pcap or pcapng headers, section and interface blocks, `if_tsresol` and `if_tsoffset`, record lengths and times —
/// opened as dnsflow opens a file, read to its end (through the merge that puts a pcapng of several interfaces in time
/// order) and through the whole pipeline, and every packet read back by its offset as the interface's Detail and `w`
/// do. Must return without a trap whatever the bytes.
public enum CaptureFileFuzzing {
    public struct Outcome: Sendable {
        /// Packets libpcap read.
        public var packets = 0
        /// Transactions the pipeline made of them.
        public var transactions = 0
        /// Packets whose record read back by offset differs from what libpcap gave (data, lengths or time): the
        /// interface would show other bytes than it analysed. Always 0; the fuzz target stops on any.
        public var mismatches = 0
        /// Packets (or an ending) read directly from a pcap file (`PcapRecords`) that differ from libpcap's reading of
        /// the same file. Always 0; the fuzz target stops on any.
        public var directDifferences = 0
        /// The file was refused (not a capture libpcap reads).
        public var refused = false
    }

    /// `directory`: where the bytes are written to be opened (a file of its own per call, removed after).
    public static func run(_ bytes: [UInt8], directory: String = "/tmp") -> Outcome {
        var outcome = Outcome()
        var template = Array("\(directory)/dnsflow-fuzz-XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { return outcome }
        let path = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        defer { unlink(path) }
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
        guard written == bytes.count, let handle = try? PcapHandle.openFile(path, input: 0) else {
            outcome.refused = true
            return outcome
        }
        outcome.directDifferences = directDifferences(path)
        let reader = SavefileReader(path: path)
        let source = MergedSource([handle])
        var pipeline = Pipeline()
        while let p = source.next() {
            outcome.packets += 1
            if let reader, p.point.fileOffset >= 0 {
                let again = reader.record(at: p.point.fileOffset)
                var clamped = false
                let time = again.map { Timestamp(capturedSeconds: $0.seconds, nanoseconds: $0.nanoseconds, clamped: &clamped) }
                if again?.data != p.data || again?.originalLength != p.originalLength
                    || time?.totalNanoseconds != p.timestamp.totalNanoseconds {
                    outcome.mismatches += 1
                }
            }
            pipeline.process(p, onMessage: { _ in }, onTransaction: { _ in outcome.transactions += 1 })
        }
        pipeline.finish(onMessage: { _ in }, onTransaction: { _ in outcome.transactions += 1 })
        _ = SummaryReport(summary: pipeline.summary, inputNames: [path]).text
        return outcome
    }

    /// The file read twice, once directly where `PcapRecords` can and once all through libpcap: how many packets (and
    /// the ending) differ.
    static func directDifferences(_ path: String) -> Int {
        guard let direct = try? PcapHandle.openFile(path, input: 0), let libpcap = try? PcapHandle.openFile(path, input: 0)
        else { return 0 }
        libpcap.readThroughLibpcap()
        var differences = 0
        while true {
            switch (direct.next(), libpcap.next()) {
            case (.packet(let a), .packet(let b)):
                if a.data != b.data || a.originalLength != b.originalLength || a.timestamp != b.timestamp
                    || a.point != b.point { differences += 1 }
            case (.end, .end):
                if direct.readError != libpcap.readError || direct.clampedTimestamps != libpcap.clampedTimestamps {
                    differences += 1
                }
                return differences
            default:
                return differences + 1
            }
        }
    }
}
