import Foundation
import Testing

/// TCP streams of noise cost work in proportion to their size: one stream without its SYN of 20 × 60,000 octets of
/// 0xff (1.2 MB), where every offset is a candidate message start, is read in well under a second even in a debug
/// build — no candidate copied out before its header could be a message's, no buffer copied at each append.
/// (The figures before and after: bench/RESULTS.md and issue 20's note.)
@Suite("TCP reassembly cost")
struct ReassemblyCostTests {
    static func noiseCapture() -> Data {
        var d = Data()
        func u32(_ v: UInt32) -> [UInt8] { withUnsafeBytes(of: v.littleEndian, Array.init) }
        func be16(_ v: Int) -> [UInt8] { [UInt8(v >> 8 & 0xff), UInt8(v & 0xff)] }
        func be32(_ v: UInt32) -> [UInt8] { withUnsafeBytes(of: v.bigEndian, Array.init) }
        d += [0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0] + u32(0) + u32(0) + u32(262_144) + u32(1)
        for i in 0..<20 {
            let payload = [UInt8](repeating: 0xff, count: 60_000)
            let tcp = be16(40000) + be16(53) + be32(UInt32(1000 + i * 60_000)) + be32(0) + [0x50, 0x18] + be16(65535) + [0, 0, 0, 0] + payload
            let ip = [0x45, 0] + be16(20 + tcp.count) + [0, 1, 0, 0, 64, 6, 0, 0, 198, 18, 0, 2, 198, 18, 0, 1] + tcp
            let frame: [UInt8] = [2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 8, 0] + ip
            d += u32(1_700_000_000) + u32(UInt32(i)) + u32(UInt32(frame.count)) + u32(UInt32(frame.count)) + frame
        }
        return d
    }

    @Test(.timeLimit(.minutes(1)))
    func aStreamOfNoiseIsReadInLinearTime() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("tcp-noise-\(UUID().uuidString).pcap")
        try Self.noiseCapture().write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let start = Date()
        let r = try runDNSFlow(["-r", file.path, "--summary"])
        let seconds = Date().timeIntervalSince(start)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("tcp segments              20"), "\(r.stdout)")
        #expect(seconds < 2, "took \(seconds) s")
    }
}
