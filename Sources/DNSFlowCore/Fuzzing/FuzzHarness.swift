/// What the fuzz targets run (`Fuzz/`, built by `scripts/fuzz/run` with libFuzzer and AddressSanitizer), here so that
/// the test suite replays the inputs that once crashed them (`Fixtures/fuzz/`) and its own mutations through the
/// same code. Each takes any bytes and must return without a trap, whatever they hold; each returns how much it
/// made of them (for tests to see that an input reached past the first checks).
enum FuzzHarness {
    /// One DNS message as it would arrive in a UDP payload, parsed and presented. Whether it had a header.
    @discardableResult
    static func dnsParser(_ bytes: [UInt8]) -> Bool {
        guard let m = DNSParser.parse(bytes) else { return false }
        present(m)
        // Records checked as parsed and read again when asked: the same message, the same defect.
        let onDemand = DNSParser.parse(bytes, recordsOnDemand: true)!
        precondition(DNSParser.sameContent(m, onDemand), "records on demand differ from records read")
        present(onDemand)
        return true
    }

    /// A short capture — packets of any supported link type — through the whole pipeline (link, IP with fragments,
    /// UDP, TCP reassembly, DNS, matching, analysis); every message, transaction, flow and the summary presented.
    /// Input: records of [link type index: 1][time step: 1][length: 2][packet: length], until the bytes run out;
    /// a time step of 253 is followed by 8 octets of raw seconds (any 64-bit value, as a crafted pcapng has), brought
    /// into range as the capture readers bring them.
    /// How many transactions it made.
    @discardableResult
    static func packetDecoder(_ bytes: [UInt8]) -> Int {
        var input = FuzzReader(bytes)
        // Both ways of holding payloads, by the input's length: octets kept (the interface) or taken over by the
        // payloads (every other output).
        var configuration = Pipeline.Configuration()
        configuration.keepsPacketOctets = bytes.count % 2 == 0
        var pipeline = Pipeline(configuration: configuration)
        var seconds: Int64 = 1_700_000_000
        var frame = 0, transactions = 0
        func show(_ t: Transaction) {
            transactions += 1
            present(t)
        }
        while !input.isAtEnd {
            let link = links[Int(input.u8()) % links.count]
            let step = input.u8()
            // Steps up to about 5 minutes apart (timeouts, re-sends, idle flows), or back in time (a merged capture);
            // 254: the packet was cut by the snaplen.
            if step == 253 {
                var raw: UInt64 = 0
                for _ in 0..<8 { raw = raw << 8 | UInt64(input.u8()) }
                seconds = Int64(bitPattern: raw)
            } else {
                seconds += step == 255 ? -3 : Int64(step) * Int64(step) / 200
            }
            var clamped = false
            let time = Timestamp(capturedSeconds: seconds, nanoseconds: UInt32(frame % 1000) * 1_000_000, clamped: &clamped)
            seconds = time.seconds
            let data = input.take(Int(input.u16()))
            frame += 1
            let packet = CapturedPacket(
                timestamp: time, linkType: link,
                data: data, originalLength: data.count + (step == 254 ? 100 : 0),
                point: CapturePoint(input: 0, frame: frame))
            pipeline.process(packet, onMessage: { present($0.message) }, onTransaction: show)
        }
        pipeline.finish(onTransaction: show)
        for f in pipeline.activeFlows + pipeline.takeFinishedFlows() { _ = FlowCSV.row(f) }
        let report = SummaryReport(summary: pipeline.summary, inputNames: ["fuzz"])
        _ = report.text
        _ = report.json
        return transactions
    }

    /// The link types `packetDecoder` picks from, by index (`scripts/fuzz/seeds.py` writes the same order).
    static let links = LinkType.supported.sorted { $0.rawValue < $1.rawValue }

    /// DNS over TCP (RFC 7766): segments of four connections in both directions, with any sequence numbers, flags
    /// and payloads, through the reassembler with small limits (streams are evicted, buffers fill); each message it
    /// frames parsed and presented.
    /// Input: records of [flags: 1][sequence step: 2][time step: 1][length: 1][payload: length]. Flags: SYN 1, FIN 2,
    /// RST 4, from the server 8, connection in bits 4-5; bit 6: the step sets the top 16 bits of the sequence.
    /// How many messages it framed.
    @discardableResult
    static func tcpReassembler(_ bytes: [UInt8]) -> Int {
        var input = FuzzReader(bytes)
        var limits = TCPDNSReassembler.Limits()
        limits.maxStreams = 3
        limits.maxBufferedBytes = 600
        limits.idleTimeoutSeconds = 10
        var reassembler = TCPDNSReassembler(limits: limits)
        var stats = PacketStats()
        var sequences = [UInt32](repeating: 1000, count: 8)
        var seconds: Int64 = 1_700_000_000
        var frame = 0, framed = 0
        func emit(_ p: DNSPayload) {
            framed += 1
            if let m = DNSParser.parse(p.bytes) { present(m) }
        }
        while !input.isAtEnd {
            let flags = input.u8()
            let step = input.u16()
            seconds += Int64(input.u8() / 16)
            let payload = input.take(Int(input.u8()))
            let connection = Int(flags >> 4 & 3), fromServer = flags & 8 != 0
            let client = Endpoint(address: .v4(0xC612_0001 + UInt32(connection)), port: 40000 + UInt16(connection))
            let server = Endpoint(address: .v4(0xC612_00FE), port: 53)
            let direction = connection * 2 + (fromServer ? 1 : 0)
            if flags & 64 != 0 {
                sequences[direction] = UInt32(step) << 16
            } else {
                sequences[direction] &+= UInt32(step) &- 64
            }
            frame += 1
            let segment = TCPDNSReassembler.Segment(
                source: fromServer ? server : client, destination: fromServer ? client : server,
                sequence: sequences[direction], isSYN: flags & 1 != 0, isFIN: flags & 2 != 0, isRST: flags & 4 != 0,
                payload: payload[...], timestamp: Timestamp(seconds: seconds, nanoseconds: 0),
                point: CapturePoint(input: 0, frame: frame))
            reassembler.process(segment, stats: &stats, emit: emit)
        }
        reassembler.finish(stats: &stats, emit: emit)
        return framed
    }

    /// Everything that shows a transaction as text: the summary line, the CSV row, its messages.
    static func present(_ t: Transaction) {
        _ = TransactionLine.render(t)
        _ = TransactionCSV.row(t)
        for m in [t.query?.message, t.response?.message].compactMap({ $0 }) { present(m) }
    }

    /// A message's name, records and EDNS options in presentation form.
    static func present(_ m: DNSMessage) {
        _ = m.header.flagNames
        for q in m.questions {
            _ = q.name.description
            _ = q.name.lowercased
        }
        for r in m.answers + m.authorities + m.additionals { _ = r.presentation }
        for o in m.edns?.options ?? [] { _ = o.presentation }
    }
}

/// The fuzzer's bytes read front to back; reads past the end give zeros and empty arrays.
struct FuzzReader {
    let bytes: [UInt8]
    var offset = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var isAtEnd: Bool { offset >= bytes.count }

    mutating func u8() -> UInt8 {
        guard offset < bytes.count else { return 0 }
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func u16() -> UInt16 { UInt16(u8()) << 8 | UInt16(u8()) }

    mutating func take(_ n: Int) -> [UInt8] {
        let end = min(bytes.count, offset + n)
        defer { offset = end }
        return Array(bytes[offset..<end])
    }
}
