import Testing
@testable import DNSFlowCore

/// Wire-format builders for tests: DNS messages, and the headers that carry them.
enum Wire {
    static func name(_ text: String) -> [UInt8] {
        DNSName(text).wire + [0]
    }

    static func u16(_ v: UInt16) -> [UInt8] { [UInt8(v >> 8), UInt8(v & 0xff)] }
    static func u32(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8(v >> 16 & 0xff), UInt8(v >> 8 & 0xff), UInt8(v & 0xff)] }

    static func header(id: UInt16, flags: UInt16 = 0x0100, qd: UInt16 = 1, an: UInt16 = 0, ns: UInt16 = 0, ar: UInt16 = 0) -> [UInt8] {
        u16(id) + u16(flags) + u16(qd) + u16(an) + u16(ns) + u16(ar)
    }

    static func query(id: UInt16, name: String, type: UInt16 = 1) -> [UInt8] {
        header(id: id) + self.name(name) + u16(type) + u16(1)
    }

    /// A response with A records pointing back at the question name (offset 12).
    static func response(id: UInt16, name: String, type: UInt16 = 1, rcode: UInt16 = 0, addresses: [[UInt8]] = [[192, 0, 2, 1]]) -> [UInt8] {
        var m = header(id: id, flags: 0x8180 | rcode, an: UInt16(addresses.count)) + self.name(name) + u16(type) + u16(1)
        for a in addresses {
            m += [0xc0, 0x0c] + u16(a.count == 4 ? 1 : 28) + u16(1) + u32(300) + u16(UInt16(a.count)) + a
        }
        return m
    }

    static func ipv4(src: [UInt8] = [198, 18, 0, 2], dst: [UInt8] = [198, 18, 0, 1], proto: UInt8 = 17, id: UInt16 = 1,
                     fragmentOffset: Int = 0, moreFragments: Bool = false, payload: [UInt8]) -> [UInt8] {
        let total = UInt16(20 + payload.count)
        let frag = UInt16(fragmentOffset / 8) | (moreFragments ? 0x2000 : 0)
        return [0x45, 0] + u16(total) + u16(id) + u16(frag) + [64, proto, 0, 0] + src + dst + payload
    }

    static func ipv6(src: [UInt8] = [0x20, 0x01, 0x0d, 0xb8] + [UInt8](repeating: 0, count: 11) + [2],
                     dst: [UInt8] = [0x20, 0x01, 0x0d, 0xb8] + [UInt8](repeating: 0, count: 11) + [1],
                     next: UInt8, payload: [UInt8]) -> [UInt8] {
        [0x60, 0, 0, 0] + u16(UInt16(payload.count)) + [next, 64] + src + dst + payload
    }

    static func udp(sport: UInt16 = 40000, dport: UInt16 = 53, payload: [UInt8]) -> [UInt8] {
        u16(sport) + u16(dport) + u16(UInt16(8 + payload.count)) + [0, 0] + payload
    }

    static func tcp(sport: UInt16 = 40000, dport: UInt16 = 53, seq: UInt32, flags: UInt8 = 0x18, payload: [UInt8] = []) -> [UInt8] {
        u16(sport) + u16(dport) + u32(seq) + u32(0) + [0x50, flags] + u16(65535) + [0, 0, 0, 0] + payload
    }

    static func ethernet(type: UInt16 = 0x0800, vlans: [(tpid: UInt16, id: UInt16)] = [], payload: [UInt8]) -> [UInt8] {
        var f: [UInt8] = [2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2]
        for v in vlans { f += u16(v.tpid) + u16(v.id) }
        return f + u16(type) + payload
    }

    static func packet(_ data: [UInt8], link: LinkType = .ethernet, seconds: Int64 = 1_700_000_000, micros: UInt32 = 0, frame: Int = 1) -> CapturedPacket {
        CapturedPacket(
            timestamp: Timestamp(seconds: seconds, nanoseconds: micros * 1000, digits: 6), linkType: link, data: data,
            originalLength: data.count, point: CapturePoint(input: 0, frame: frame))
    }
}

/// Runs packets through a decoder and collects DNS payloads and diagnostics.
func decodePackets(_ packets: [CapturedPacket], configuration: PacketDecoder.Configuration = .init()) -> (payloads: [DNSPayload], diagnostics: [Diagnostic], stats: PacketStats) {
    var decoder = PacketDecoder(configuration: configuration)
    var payloads: [DNSPayload] = []
    var diagnostics: [Diagnostic] = []
    for p in packets { decoder.decode(p, emit: { payloads.append($0) }, diagnose: { diagnostics.append($0) }) }
    // The pipeline's way (the lists handed over whole) must yield the same, packet by packet.
    var lists = PacketDecoder(configuration: configuration)
    var listed: [DNSPayload] = [], listedDiagnostics: [Diagnostic] = []
    var some: [DNSPayload] = [], someDiagnostics: [Diagnostic] = [], someConnections: [ConnectionEvent] = []
    for p in packets {
        lists.decode(p, payloads: &some, diagnostics: &someDiagnostics, connections: &someConnections)
        listed += some
        listedDiagnostics += someDiagnostics
    }
    #expect(listed.map(\.bytes) == payloads.map(\.bytes))
    #expect(listed.map(\.point) == payloads.map(\.point) && listed.map(\.timestamp) == payloads.map(\.timestamp))
    #expect(listed.map(\.source) == payloads.map(\.source) && listed.map(\.destination) == payloads.map(\.destination))
    #expect(listed.map(\.isReassembled) == payloads.map(\.isReassembled) && listed.map(\.isCutShort) == payloads.map(\.isCutShort))
    #expect(listedDiagnostics.map(\.reason) == diagnostics.map(\.reason) && listedDiagnostics.map(\.point) == diagnostics.map(\.point))
    decoder.finish(emit: { payloads.append($0) })
    return (payloads, diagnostics, decoder.stats)
}

/// A seeded generator (SplitMix64): the same values, and the same failures, every run.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}

/// A key whose hash is its value modulo `buckets` (whatever the seed): three buckets make most keys collide. For the
/// tables that file keys by hash (`HashFiled`, `LatestByKey`).
struct CollidingKey: Hashable {
    var value: Int
    var buckets: Int
    func _rawHashValue(seed: Int) -> Int { value % buckets }
    func hash(into hasher: inout Hasher) { hasher.combine(value) }
    static func == (a: CollidingKey, b: CollidingKey) -> Bool { a.value == b.value }
}
