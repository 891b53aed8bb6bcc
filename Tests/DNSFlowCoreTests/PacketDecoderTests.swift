import Testing
@testable import DNSFlowCore

@Suite("Link layers")
struct LinkLayerTests {
    let dns = Wire.query(id: 0x1234, name: "example.com")

    func ids(_ packets: [CapturedPacket]) -> [UInt16] {
        decodePackets(packets).payloads.compactMap { DNSParser.parse($0.bytes)?.id }
    }

    @Test func ethernetWithStackedVLANs() {
        let ip = Wire.ipv4(payload: Wire.udp(payload: dns))
        let stacks: [[(tpid: UInt16, id: UInt16)]] = [[], [(0x8100, 10)], [(0x88a8, 100), (0x8100, 10)], [(0x9100, 7), (0x88a8, 8), (0x8100, 9)]]
        for vlans in stacks {
            let result = decodePackets([Wire.packet(Wire.ethernet(vlans: vlans, payload: ip))])
            #expect(result.payloads.count == 1)
            #expect(result.payloads.first.map { Array($0.point.vlans) } == vlans.map(\.id))
        }
    }

    /// Eight tags (as many as a stack holds) are read, each ID whole across the stack's two words; a ninth is refused as
    /// a cut-off tag (the bound on the walk), as before.
    @Test func eightVLANTagsAtMost() {
        let ip = Wire.ipv4(payload: Wire.udp(payload: dns))
        let ids: [UInt16] = [0xfff, 0, 1, 0x800, 4094, 0x123, 0xabc, 7]
        let eight = decodePackets([Wire.packet(Wire.ethernet(vlans: ids.map { (0x8100, $0) }, payload: ip))])
        #expect(eight.payloads.first.map { Array($0.point.vlans) } == ids)
        let nine = decodePackets([Wire.packet(Wire.ethernet(vlans: (ids + [9]).map { (0x8100, $0) }, payload: ip))])
        #expect(nine.payloads.isEmpty)
        #expect(nine.stats.malformed[.truncatedLinkHeader] == 1)
    }

    @Test func vlanStacksAreLists() {
        var rng = SplitMix(state: 13)
        for n in 0...VLANStack.capacity {
            let ids = (0..<n).map { _ in UInt16.random(in: 0...0x0fff, using: &rng) }
            var stack = VLANStack()
            for id in ids { stack.append(id) }
            #expect(Array(stack) == ids)
            #expect(stack.count == n)
            var other = VLANStack()
            for id in ids { other.append(id | 0xf000) }   // only the 12 bits of an ID are kept
            #expect(other == stack && other.hashValue == stack.hashValue)
            if n > 0 {
                var changed = VLANStack()
                for (i, id) in ids.enumerated() { changed.append(i == n - 1 ? id ^ 1 : id) }
                #expect(changed != stack)
            }
        }
    }

    @Test func truncatedVLANTagIsCountedNotCrashed() {
        let frame = Array(Wire.ethernet(type: 0x8100, payload: [0x00]))
        let result = decodePackets([Wire.packet(frame)])
        #expect(result.payloads.isEmpty)
        #expect(result.stats.malformed[.truncatedLinkHeader] == 1)
    }

    @Test func linuxSLL2KeepsInterfaceAndDirection() {
        let ip = Wire.ipv4(payload: Wire.udp(payload: dns))
        // protocol, reserved, ifindex 7, ARPHRD 1, packet type 4 (outgoing), addr len 6, addr (8)
        let header: [UInt8] = [0x08, 0x00, 0, 0, 0, 0, 0, 7, 0, 1, 4, 6] + [UInt8](repeating: 0, count: 8)
        let result = decodePackets([Wire.packet(header + ip, link: .linuxSLL2)])
        #expect(result.payloads.first?.point.interfaceIndex == 7)
        #expect(result.payloads.first?.point.direction == "Out")
    }

    @Test func linuxSLL() {
        let ip = Wire.ipv4(payload: Wire.udp(payload: dns))
        let header: [UInt8] = [0, 0, 0, 1, 0, 6] + [UInt8](repeating: 0, count: 8) + [0x08, 0x00]
        let result = decodePackets([Wire.packet(header + ip, link: .linuxSLL)])
        #expect(result.payloads.first?.point.direction == "In")
        // Sent by us, over IPv6; and behind an 802.1Q tag (the general way, not the common case read in place).
        let ip6 = Wire.ipv6(next: 17, payload: Wire.udp(payload: dns))
        let out = decodePackets([Wire.packet([0, 4, 0, 1, 0, 6] + [UInt8](repeating: 0, count: 8) + [0x86, 0xdd] + ip6, link: .linuxSLL)])
        #expect(out.payloads.map(\.point.direction) == ["Out"])
        #expect(out.payloads.first?.source.address.description == "2001:db8::2")
        let tagged = decodePackets([Wire.packet([0, 3, 0, 1, 0, 6] + [UInt8](repeating: 0, count: 8) + [0x81, 0x00, 0x00, 0x2a, 0x08, 0x00] + ip,
                                                link: .linuxSLL)])
        #expect(tagged.payloads.map(\.point.direction) == ["P"])
        #expect(tagged.payloads.first?.point.vlans == [42])
    }

    @Test func loopbackInEitherByteOrder() {
        let ip6 = Wire.ipv6(next: 17, payload: Wire.udp(payload: dns))
        #expect(ids([Wire.packet([30, 0, 0, 0] + ip6, link: .null)]) == [0x1234])       // macOS, little-endian host
        #expect(ids([Wire.packet([0, 0, 0, 2] + Wire.ipv4(payload: Wire.udp(payload: dns)), link: .null)]) == [0x1234])
        #expect(ids([Wire.packet([0, 0, 0, 24] + ip6, link: .loop)]) == [0x1234])
    }

    @Test func rawLinkTypesGoByVersion() {
        let v4 = Wire.ipv4(payload: Wire.udp(payload: dns))
        let v6 = Wire.ipv6(next: 17, payload: Wire.udp(payload: dns))
        for link in [LinkType.raw, .rawOpenBSD, .linktypeRaw, .ipv4, .ipv6] {
            #expect(ids([Wire.packet(v4, link: link), Wire.packet(v6, link: link)]) == [0x1234, 0x1234])
        }
    }

    @Test func nflogPayloadTLV() {
        let ip = Wire.ipv4(payload: Wire.udp(payload: dns))
        // family AF_INET, version 0, resource 0; TLV prefix (len 8, type 1), then payload TLV (type 9).
        var frame: [UInt8] = [2, 0, 0, 0]
        frame += [8, 0, 1, 0, 0x08, 0x00, 0, 0]
        let length = UInt16(4 + ip.count)
        frame += [UInt8(length & 0xff), UInt8(length >> 8), 9, 0] + ip
        #expect(ids([Wire.packet(frame, link: .nflog)]) == [0x1234])
    }

    @Test func unsupportedLinkTypeIsCounted() {
        let result = decodePackets([Wire.packet([1, 2, 3], link: LinkType(147)), Wire.packet([], link: LinkType(147))])
        #expect(result.stats.unsupportedLinkTypes[LinkType(147)] == 2)
    }

    @Test func ipInIPAndVXLANAreDecapsulated() {
        let inner = Wire.ipv4(payload: Wire.udp(payload: dns))
        let ipip = Wire.ipv4(src: [198, 19, 0, 1], dst: [198, 19, 0, 2], proto: 4, payload: inner)
        #expect(ids([Wire.packet(Wire.ethernet(payload: ipip))]) == [0x1234])
        let vxlan = Wire.ipv4(proto: 17, payload: Wire.udp(sport: 50000, dport: 4789, payload: [0x08, 0, 0, 0, 0, 0, 1, 0] + Wire.ethernet(payload: inner)))
        #expect(ids([Wire.packet(Wire.ethernet(payload: vxlan))]) == [0x1234])
    }

    /// IP-in-IP nests at most `maxTunnelDepth` deep, like GRE and IPv6-in-IP: a packet of thousands of nested IPv4
    /// headers must not recurse thousands of frames deep. (The depth guard once applied to protocol 41 only.)
    @Test func ipInIPNestsOnlySoDeep() {
        let inner = Wire.ipv4(payload: Wire.udp(payload: dns))
        func nested(_ levels: Int) -> [UInt8] {
            var p = inner
            for _ in 0..<levels { p = Wire.ipv4(src: [198, 19, 0, 1], dst: [198, 19, 0, 2], proto: 4, payload: p) }
            return p
        }
        #expect(ids([Wire.packet(nested(3), link: .raw)]) == [0x1234])
        #expect(ids([Wire.packet(nested(6), link: .raw)]).isEmpty)
        // 3,000 levels: 60 KB of headers.
        #expect(ids([Wire.packet(nested(3000), link: .raw)]).isEmpty)
        var config = PacketDecoder.Configuration()
        config.decapsulatesTunnels = false
        #expect(decodePackets([Wire.packet(nested(1), link: .raw)], configuration: config).payloads.isEmpty)
    }

    @Test func otherPortsAreNotDNS() {
        let ip = Wire.ipv4(payload: Wire.udp(sport: 40000, dport: 5353, payload: dns))
        #expect(ids([Wire.packet(Wire.ethernet(payload: ip))]).isEmpty)
        var config = PacketDecoder.Configuration()
        config.ports = [53, 5353]
        #expect(decodePackets([Wire.packet(Wire.ethernet(payload: ip))], configuration: config).payloads.count == 1)
    }
}

@Suite("IP fragments")
struct FragmentTests {
    let message = Wire.response(id: 0x4242, name: "big.example", addresses: (0..<60).map { [10, 0, 0, UInt8($0)] })

    /// Splits a UDP datagram into IPv4 fragments of `size` octets (a multiple of 8).
    func fragments(_ size: Int) -> [[UInt8]] {
        let udp = Wire.udp(sport: 53, dport: 40000, payload: message)
        return stride(from: 0, to: udp.count, by: size).map { start in
            let end = min(start + size, udp.count)
            return Wire.ipv4(id: 77, fragmentOffset: start, moreFragments: end < udp.count, payload: Array(udp[start..<end]))
        }
    }

    @Test(arguments: [8, 64, 256, 512])
    func inOrderAndReversed(size: Int) throws {
        for order in [fragments(size), fragments(size).reversed()] {
            let result = decodePackets(order.map { Wire.packet(Wire.ethernet(payload: $0)) })
            let payload = try #require(result.payloads.first)
            #expect(result.payloads.count == 1)
            #expect(payload.bytes == message)
            #expect(result.stats.reassembledDatagrams == 1)
        }
    }

    @Test func duplicatesAndOverlapsStillReassemble() throws {
        var parts = fragments(64)
        parts.insert(parts[1], at: 3)
        let result = decodePackets(parts.map { Wire.packet(Wire.ethernet(payload: $0)) })
        #expect(result.payloads.first?.bytes == message)
    }

    @Test func missingFragmentExpiresAndIsCounted() {
        var parts = fragments(64)
        parts.remove(at: 2)
        let result = decodePackets(parts.map { Wire.packet(Wire.ethernet(payload: $0)) })
        #expect(result.payloads.isEmpty)
        #expect(result.stats.fragmentEvictions == 1)
    }

    @Test func ipv6FragmentsReassemble() throws {
        let udp = Wire.udp(sport: 53, dport: 40000, payload: message)
        let cut = 256
        let first = [17, 0] + Wire.u16(UInt16(0) | 1) + Wire.u32(9) + Array(udp[0..<cut])
        let second = [17, 0] + Wire.u16(UInt16(cut)) + Wire.u32(9) + Array(udp[cut...])
        let packets = [second, first].map { Wire.packet(Wire.ethernet(type: 0x86dd, payload: Wire.ipv6(next: 44, payload: $0))) }
        let result = decodePackets(packets)
        #expect(result.payloads.first?.bytes == message)
    }

    @Test func fragmentBudgetEvictsOldest() {
        var config = PacketDecoder.Configuration()
        config.fragmentLimits.maxDatagrams = 4
        let udp = Wire.udp(sport: 53, dport: 40000, payload: message)
        let packets = (0..<10).map { i in
            Wire.packet(Wire.ethernet(payload: Wire.ipv4(id: UInt16(i), fragmentOffset: 0, moreFragments: true, payload: Array(udp[0..<64]))))
        }
        let result = decodePackets(packets, configuration: config)
        #expect(result.stats.fragmentEvictions == 10)   // 6 evicted for room, 4 dropped incomplete at the end
    }
}

@Suite("TCP DNS framing")
struct TCPFramingTests {
    let a = Wire.query(id: 1, name: "a.example")
    let b = Wire.query(id: 2, name: "b.example", type: 28)

    func framed(_ m: [UInt8]) -> [UInt8] { Wire.u16(UInt16(m.count)) + m }

    func segments(_ chunks: [[UInt8]], isn: UInt32 = 1000, syn: Bool = true) -> [CapturedPacket] {
        var packets: [CapturedPacket] = []
        var seq = isn
        if syn { packets.append(Wire.packet(Wire.ethernet(payload: Wire.ipv4(proto: 6, payload: Wire.tcp(seq: isn, flags: 0x02))))) }
        seq = isn &+ 1
        for (i, chunk) in chunks.enumerated() {
            packets.append(Wire.packet(Wire.ethernet(payload: Wire.ipv4(proto: 6, payload: Wire.tcp(seq: seq, payload: chunk))), frame: i + 2))
            seq = seq &+ UInt32(chunk.count)
        }
        return packets
    }

    func messages(_ packets: [CapturedPacket]) -> [[UInt8]] {
        decodePackets(packets).payloads.map(\.bytes)
    }

    @Test func twoMessagesInOneSegment() {
        #expect(messages(segments([framed(a) + framed(b)])) == [a, b])
    }

    @Test func chunkedAtEverySplitPoint() {
        let stream = framed(a) + framed(b)
        for cut in 1..<stream.count {
            #expect(messages(segments([Array(stream[..<cut]), Array(stream[cut...])])) == [a, b], "split at \(cut)")
        }
    }

    @Test func oneOctetPerSegment() {
        let stream = framed(a) + framed(b)
        #expect(messages(segments(stream.map { [$0] })) == [a, b])
    }

    @Test func outOfOrderSegmentsWait() {
        let stream = framed(a) + framed(b)
        var packets = segments([Array(stream[..<10]), Array(stream[10..<30]), Array(stream[30...])])
        packets.swapAt(1, 2)
        #expect(messages(packets) == [a, b])
    }

    @Test func retransmissionsAreDropped() {
        let stream = framed(a) + framed(b)
        var packets = segments([Array(stream[..<20]), Array(stream[20...])])
        packets.insert(packets[1], at: 2)
        let result = decodePackets(packets)
        #expect(result.payloads.map(\.bytes) == [a, b])
        #expect(result.stats.tcpRetransmissions == 1)
    }

    @Test func sequenceNumbersWrap() {
        #expect(messages(segments([framed(a), framed(b)], isn: UInt32.max - 3)) == [a, b])
    }

    @Test func streamWithoutSYNStartingMidMessage() {
        // Capture starts 5 octets into the first message: resynchronise on the second.
        let stream = framed(a) + framed(b)
        let result = decodePackets(segments([Array(stream[5...])], syn: false))
        #expect(result.payloads.map(\.bytes) == [b])
        #expect(result.stats.tcpResyncSkippedBytes == framed(a).count - 5)
    }

    @Test func streamWithoutSYNAtABoundary() {
        #expect(messages(segments([framed(a), framed(b)], syn: false)) == [a, b])
    }

    @Test func lostSegmentIsAGapAndFramingResumes() {
        let c = Wire.query(id: 3, name: "c.example")
        let stream = framed(a) + framed(b) + framed(c)
        let cut1 = framed(a).count, cut2 = cut1 + framed(b).count
        var packets = segments([Array(stream[..<cut1]), Array(stream[cut1..<cut2]), Array(stream[cut2...])])
        packets.remove(at: 2)      // b never arrives
        let result = decodePackets(packets)
        #expect(result.payloads.map(\.bytes) == [a, c])
        #expect(result.stats.tcpGaps == 1)
    }

    @Test func lostHalfMessageIsAGap() {
        let c = Wire.query(id: 3, name: "c.example")
        let stream = framed(a) + framed(b) + framed(c)
        let cut1 = framed(a).count + 7, cut2 = framed(a).count + framed(b).count
        var packets = segments([Array(stream[..<cut1]), Array(stream[cut1..<cut2]), Array(stream[cut2...])])
        packets.remove(at: 2)      // the tail of b is lost: b cannot be framed, c can once we give up
        let result = decodePackets(packets)
        #expect(result.payloads.map(\.bytes) == [a, c])
        #expect(result.stats.tcpGaps == 1)
    }

    @Test func streamBudgetEvicts() {
        var config = PacketDecoder.Configuration()
        config.tcpLimits.maxStreams = 2
        var packets: [CapturedPacket] = []
        for port in UInt16(1000)..<1010 {
            packets.append(Wire.packet(Wire.ethernet(payload: Wire.ipv4(proto: 6, payload: Wire.tcp(sport: port, seq: 1, payload: [0, 40, 1]))) ))
        }
        let result = decodePackets(packets, configuration: config)
        #expect(result.stats.tcpStreamEvictions == 8)
    }

    /// Once a second of capture time, the streams idle for longer than the timeout (120 s) go, and only those.
    @Test func idleStreamsEvicted() {
        let t0: Int64 = 1_700_000_000
        func segment(_ port: UInt16, seq: UInt32, _ payload: [UInt8], at seconds: Int64) -> CapturedPacket {
            Wire.packet(Wire.ethernet(payload: Wire.ipv4(proto: 6, payload: Wire.tcp(sport: port, seq: seq, payload: payload))),
                        seconds: seconds)
        }
        // Five streams each holding part of a message; the first goes on at 50 s.
        var packets = (UInt16(1000)..<1005).map { segment($0, seq: 1, [0, 40, 1], at: t0) }
        packets.append(segment(1000, seq: 4, [2], at: t0 + 50))
        packets.append(segment(2000, seq: 1, [0, 40, 1], at: t0 + 130))   // 1001-1004: idle 130 s
        var result = decodePackets(packets)
        #expect(result.stats.tcpStreamEvictions == 4)
        packets.append(segment(3000, seq: 1, [0, 40, 1], at: t0 + 171))   // 1000: idle 121 s; 2000: 41 s
        result = decodePackets(packets)
        #expect(result.stats.tcpStreamEvictions == 5)
    }
}

@Suite("IP headers")
struct IPHeaderTests {
    let dns = Wire.query(id: 0x5151, name: "opt.example")

    @Test func ipv4OptionsAreSkipped() throws {
        var ip = Wire.ipv4(payload: Wire.udp(payload: dns))
        // IHL 6: one 4-octet option (NOP NOP NOP EOL) after the 20-octet header.
        ip[0] = 0x46
        ip.insert(contentsOf: [1, 1, 1, 0], at: 20)
        let total = UInt16(ip.count)
        ip[2] = UInt8(total >> 8)
        ip[3] = UInt8(total & 0xff)
        let result = decodePackets([Wire.packet(Wire.ethernet(payload: ip))])
        #expect(result.payloads.first?.bytes == dns)
    }

    @Test func ipv6ExtensionHeadersAreWalked() throws {
        // hop-by-hop (8 octets) → destination options (16 octets) → UDP.
        let udp = Wire.udp(payload: dns)
        let destination: [UInt8] = [17, 1] + [UInt8](repeating: 0, count: 14)
        let hopByHop: [UInt8] = [60, 0] + [UInt8](repeating: 0, count: 6)
        let ip = Wire.ipv6(next: 0, payload: hopByHop + destination + udp)
        let result = decodePackets([Wire.packet(Wire.ethernet(type: 0x86dd, payload: ip))])
        #expect(result.payloads.first?.bytes == dns)
    }

    @Test func ethernetPaddingIsNotPartOfTheMessage() throws {
        let ip = Wire.ipv4(payload: Wire.udp(payload: dns)) + [0, 0, 0, 0, 0, 0]
        let result = decodePackets([Wire.packet(Wire.ethernet(payload: ip))])
        #expect(result.payloads.first?.bytes == dns)
    }

    @Test func lyingLengthsAreCutShortNotTrusted() throws {
        var ip = Wire.ipv4(payload: Wire.udp(payload: dns))
        ip[2] = 0x05                       // total length 1280+ > captured
        let result = decodePackets([Wire.packet(Wire.ethernet(payload: ip))])
        #expect(result.payloads.first?.isCutShort == true)
        #expect(result.payloads.first?.bytes == dns)
    }

    @Test func badHeadersAreCountedByKind() {
        let bad: [[UInt8]] = [
            [0x45, 0, 0, 10] + [UInt8](repeating: 0, count: 16),           // total length < header length
            [0x43] + [UInt8](repeating: 0, count: 19),                       // IHL 3
            [0x45, 0, 0],                                                    // cut off
        ]
        let result = decodePackets(bad.map { Wire.packet(Wire.ethernet(payload: $0)) })
        #expect(result.stats.malformed[.badIPHeader] == 2)
        #expect(result.stats.malformed[.truncatedIP] == 1)
    }
}

@Suite("Per-packet lookups without hashing")
struct PacketLookupTests {
    @Test func supportedLinkTypesAgreeWithTheSet() {
        for raw in UInt32(0)..<2_000 { #expect(LinkType(raw).isSupported == LinkType.supported.contains(LinkType(raw)), "\(raw)") }
        #expect(LinkType(.max).isSupported == false)
    }

    @Test func vlanTagsAreTheListedOnes() {
        #expect(LinkLayer.vlanEtherTypes == [0x8100, 0x88a8, 0x9100])
    }

    /// The port bitmap says what the configured set says, for every port; a set without 53 does not take 53.
    @Test func dnsPortsAreTheConfiguredOnes() {
        let query = Wire.query(id: 1, name: "a.example")
        for ports: Set<UInt16> in [[53], [53, 5353], [5353], [0, 65535]] {
            for port: UInt16 in [0, 1, 52, 53, 54, 63, 64, 5353, 65534, 65535] {
                let packet = Wire.packet(Wire.ethernet(payload: Wire.ipv4(payload: Wire.udp(sport: 40000, dport: port, payload: query))))
                let found = decodePackets([packet], configuration: PacketDecoder.Configuration(ports: ports)).payloads.count
                #expect(found == (ports.contains(port) ? 1 : 0), "port \(port) with \(ports)")
            }
        }
    }
}


/// The transport header read where it lies in the packet (its offsets the packet's): options before the data, in IP
/// and in TCP, move where the DNS message starts; options that run past the end are a defect.
@Suite("Transport headers in place")
struct TransportInPlaceTests {
    let query = Wire.query(id: 7, name: "opts.example")

    /// A TCP header with `optionWords` words of options (NOPs), data offset set to match (or `offsetWords`).
    func tcp(optionWords: Int, offsetWords: Int? = nil, flags: UInt8 = 0x18, payload: [UInt8]) -> [UInt8] {
        let words = offsetWords ?? 5 + optionWords
        return Wire.u16(40000) + Wire.u16(53) + Wire.u32(1001) + Wire.u32(0) + [UInt8(words << 4), flags] + Wire.u16(65535)
            + [0, 0, 0, 0] + [UInt8](repeating: 1, count: optionWords * 4) + payload
    }

    @Test func tcpOptionsMoveTheData() {
        let syn = Wire.packet(Wire.ethernet(payload: Wire.ipv4(proto: 6, payload: Wire.tcp(seq: 1000, flags: 0x02))))
        let framed = Wire.u16(UInt16(query.count)) + query
        for words in [0, 1, 3, 10] {
            let data = Wire.packet(Wire.ethernet(payload: Wire.ipv4(proto: 6, payload: tcp(optionWords: words, payload: framed))), frame: 2)
            let out = decodePackets([syn, data])
            #expect(out.payloads.map(\.bytes) == [query], "\(words) words of TCP options")
            #expect(out.diagnostics.isEmpty)
        }
    }

    @Test func tcpOptionsPastTheEndAreADefect() {
        // Data offset 15 words (60 octets) on a 20-octet header with nothing after it.
        let p = Wire.packet(Wire.ethernet(payload: Wire.ipv4(proto: 6, payload: tcp(optionWords: 0, offsetWords: 15, payload: []))))
        let out = decodePackets([p])
        #expect(out.payloads.isEmpty)
        #expect(out.diagnostics.map(\.kind) == [.truncatedTCP])
    }

    @Test func ipv4OptionsMoveTheUDPHeader() {
        // IHL 6: four octets of IP options (NOP, NOP, NOP, end) before UDP.
        let udp = Wire.udp(payload: query)
        let total = UInt16(24 + udp.count)
        let ip: [UInt8] = [0x46, 0] + Wire.u16(total) + Wire.u16(1) + [0, 0, 64, 17, 0, 0] + [198, 18, 0, 2, 198, 18, 0, 1]
            + [1, 1, 1, 0] + udp
        let out = decodePackets([Wire.packet(Wire.ethernet(payload: ip))])
        #expect(out.payloads.map(\.bytes) == [query])
        #expect(out.payloads.first?.source.port == 40000 && out.payloads.first?.destination.port == 53)
    }
}

/// Where packets' octets are not kept (every output but the interface), a packet's UDP payload takes them over, moved
/// to their front: the same messages come out as when they are kept, a plain payload is the packet's own storage (no
/// copy), and a payload that lies elsewhere — a tunnel's inner packet, a datagram put together from fragments, a TCP
/// stream — is copied as before.
@Suite("Payloads in the packet's octets")
struct PayloadInPacketTests {
    let query = Wire.query(id: 0x7777, name: "in.place.example")
    let answer = Wire.response(id: 0x7777, name: "in.place.example", addresses: (0..<40).map { [198, 18, 1, UInt8($0)] })

    /// Each packet's messages, decoded by a stage that keeps the packets' octets or not.
    func messages(_ packets: [CapturedPacket], keepsPacketOctets: Bool) -> [DNSMessage] {
        var stage = DecodingStage(configuration: .init(), recordsOnDemand: true, keepsPacketOctets: keepsPacketOctets)
        return packets.flatMap { stage.decode($0).messages.compactMap { $0?.message } }
    }

    @Test func theSameMessagesComeOut() {
        let ip = Wire.ipv4(payload: Wire.udp(payload: query))
        let udp = Wire.udp(sport: 53, dport: 40000, payload: answer)
        let fragments = stride(from: 0, to: udp.count, by: 64).map { start in
            Wire.ipv4(id: 9, fragmentOffset: start, moreFragments: start + 64 < udp.count, payload: Array(udp[start..<min(start + 64, udp.count)]))
        }
        let framed = Wire.u16(UInt16(query.count)) + query
        let cases: [(String, [[UInt8]], [UInt8])] = [
            ("plain", [Wire.ethernet(payload: ip)], query),
            ("padded", [Wire.ethernet(payload: ip + [0, 0, 0, 0, 0, 0])], query),
            ("IPv6", [Wire.ethernet(type: 0x86dd, payload: Wire.ipv6(next: 17, payload: Wire.udp(payload: query)))], query),
            ("IP in IP", [Wire.ethernet(payload: Wire.ipv4(src: [198, 19, 0, 1], dst: [198, 19, 0, 2], proto: 4, payload: ip))], query),
            ("VXLAN", [Wire.ethernet(payload: Wire.ipv4(proto: 17, payload: Wire.udp(sport: 50000, dport: 4789,
                                                                                          payload: [0x08, 0, 0, 0, 0, 0, 1, 0] + Wire.ethernet(payload: ip))))], query),
            ("fragments", fragments.map { Wire.ethernet(payload: $0) }, answer),
            ("TCP", [Wire.ethernet(payload: Wire.ipv4(proto: 6, payload: Wire.tcp(seq: 1000, flags: 0x02))),
                     Wire.ethernet(payload: Wire.ipv4(proto: 6, payload: Wire.tcp(seq: 1001, payload: framed)))], query),
        ]
        for (name, frames, message) in cases {
            let kept = messages(frames.map { Wire.packet($0) }, keepsPacketOctets: true)
            let taken = messages(frames.map { Wire.packet($0) }, keepsPacketOctets: false)
            #expect(kept.count == 1, "\(name)")
            #expect(taken == kept, "\(name)")
            // Its octets kept to read its records again; a query has none, and keeps none.
            #expect(taken.first?.onDemand?.bytes == (message == answer ? answer : nil), "\(name)")
        }
    }

    @Test func aPlainPayloadTakesThePacketsOctets() throws {
        let frame = Wire.ethernet(payload: Wire.ipv4(payload: Wire.udp(sport: 53, dport: 40000, payload: answer)))
        for keeps in [false, true] {
            var stage = DecodingStage(configuration: .init(), recordsOnDemand: true, keepsPacketOctets: keeps)
            let decoded = stage.decode(Wire.packet(frame))
            #expect(decoded.messages.first??.message.onDemand?.bytes == answer)
            #expect(decoded.packet.data == (keeps ? frame : []))
        }
        // Moved, not copied: the payload is in the storage the packet's octets were in (held alone, as a reader
        // hands them over), and a short frame's padding is cut off.
        func start(_ octets: [UInt8]) -> UnsafeRawPointer? { octets.withUnsafeBufferPointer { UnsafeRawPointer($0.baseAddress) } }
        let headers = frame.count - answer.count
        for padding in [0, 6] {
            var data = frame + [UInt8](repeating: 0, count: padding)
            let before = start(data)
            let payload = PacketDecoder.moveOut(headers..<frame.count, of: &data)
            #expect(payload == answer)
            #expect(start(payload) == before)
            #expect(data.isEmpty)
        }
    }
}

/// The packet almost every capture holds — IPv4 or IPv6 with UDP straight after an Ethernet or Linux cooked header or
/// none — is read in one pass (`PacketDecoder.readStraight`); the same datagram behind a VLAN tag goes the general
/// way. Both must yield the same payloads, defects and counts, for datagrams well formed or not: lying lengths, IPv4
/// options, zero lengths, fragments, other transports and ports, captures cut anywhere.
@Suite("Straight UDP")
struct StraightUDPTests {
    /// One datagram, its fields drawn from `rng`, at the IP layer: (octets, EtherType).
    static func datagram(_ rng: inout SplitMix) -> ([UInt8], UInt16) {
        let message = Wire.query(id: UInt16.random(in: 0...0xffff, using: &rng), name: "straight.example")
        let payload = Array(message.prefix([0, 5, 12, message.count].randomElement(using: &rng)!))
        let ports: [(UInt16, UInt16)] = [(40000, 53), (53, 40000), (40000, 8053), (53, 53), (5353, 40000)]
        let (sport, dport) = ports.randomElement(using: &rng)!
        var udp = Wire.udp(sport: sport, dport: dport, payload: payload)
        // The UDP length as written, too long (cut short), too short (padding), under 8, or 0.
        let udpLength = [udp.count, udp.count, udp.count + 9, max(8, udp.count - 3), 7, 0].randomElement(using: &rng)!
        udp.replaceSubrange(4..<6, with: Wire.u16(UInt16(udpLength)))
        let proto: UInt8 = [17, 17, 17, 6, 1].randomElement(using: &rng)!
        if Bool.random(using: &rng) {
            var ip = Wire.ipv4(proto: proto, payload: udp)
            if Int.random(in: 0..<4, using: &rng) == 0 {
                // Options (a record route of 4 octets): the UDP header moves.
                ip = [0x46] + ip[1..<20] + [7, 4, 4, 0] + ip[20...]
            }
            let headerLength = Int(ip[0] & 0x0f) * 4
            let total = [ip.count, ip.count, 0, ip.count + 20, headerLength - 1, ip.count - 2].randomElement(using: &rng)!
            ip.replaceSubrange(2..<4, with: Wire.u16(UInt16(max(0, total))))
            switch Int.random(in: 0..<8, using: &rng) {
            case 0: ip.replaceSubrange(6..<8, with: Wire.u16(0x2000))    // more fragments
            case 1: ip.replaceSubrange(6..<8, with: Wire.u16(0x0003))    // a later fragment
            case 2: ip.replaceSubrange(6..<8, with: Wire.u16(0x4000))    // don't fragment: not a fragment
            case 3: ip[0] = 0x55                                          // another version
            case 4: ip[0] = 0x44                                          // IHL under 5
            default: break
            }
            return (ip, 0x0800)
        }
        var ip = Wire.ipv6(next: proto, payload: udp)
        let length = [udp.count, udp.count, 0, udp.count + 30, udp.count - 3].randomElement(using: &rng)!
        ip.replaceSubrange(4..<6, with: Wire.u16(UInt16(max(0, length))))
        if Int.random(in: 0..<6, using: &rng) == 0 { ip[6] = 0 }           // a hop-by-hop header (not there): general way
        return (ip, 0x86dd)
    }

    /// What a decoder made of the packets, each payload without its VLANs (the tagged frames have one).
    struct Outcome: Equatable {
        var payloads: [String]
        var diagnostics: [String]
        var stats: String
    }

    static func outcome(_ packets: [CapturedPacket]) -> Outcome {
        let r = decodePackets(packets)
        return Outcome(
            payloads: r.payloads.map {
                "\($0.timestamp) \($0.transport) \($0.source) \($0.destination) \($0.bytes) \($0.isCutShort) "
                    + "\($0.isReassembled) \($0.point.input) \($0.point.frame) \(String(describing: $0.point.interfaceIndex)) "
                    + "\(String(describing: $0.point.packetType))"
            },
            diagnostics: r.diagnostics.map { "\($0.kind) \($0.reason) \($0.point)" },
            // (Not the octets: a tag adds four.)
            stats: "\(r.stats.packets) \(r.stats.snaplenTruncated) \(r.stats.nonIP) \(r.stats.nonDNSPort) "
                + "\(r.stats.otherTransport) \(r.stats.ipFragments) \(r.stats.malformed.sorted { "\($0.key)" < "\($1.key)" })")
    }

    func cooked(_ type: UInt16, packetType: UInt16, _ payload: [UInt8]) -> [UInt8] {
        Wire.u16(packetType) + Wire.u16(1) + Wire.u16(6) + [2, 0, 0, 0, 0, 1, 0, 0] + Wire.u16(type) + payload
    }

    @Test func theStraightWayYieldsWhatTheGeneralWayDoes() {
        var rng = SplitMix(state: 21)
        for round in 0..<1500 {
            let (ip, type) = StraightUDPTests.datagram(&rng)
            // Cut anywhere, as a snaplen would (now and then), and the capture's lengths as a reader gives them.
            let cut = Int.random(in: 0..<5, using: &rng) == 0 ? Int.random(in: 0...ip.count, using: &rng) : ip.count
            func packet(_ frame: [UInt8], headers: Int, link: LinkType) -> CapturedPacket {
                var p = Wire.packet(Array(frame.prefix(headers + cut)), link: link, frame: round + 1)
                p.originalLength = frame.count
                return p
            }
            let packetType = UInt16.random(in: 0...4, using: &rng)
            let pairs: [(straight: CapturedPacket, general: CapturedPacket)] = [
                (packet(Wire.ethernet(type: type, payload: ip), headers: 14, link: .ethernet),
                 packet(Wire.ethernet(type: type, vlans: [(0x8100, 5)], payload: ip), headers: 18, link: .ethernet)),
                (packet(cooked(type, packetType: packetType, ip), headers: 16, link: .linuxSLL),
                 packet(cooked(0x8100, packetType: packetType, Wire.u16(5) + Wire.u16(type) + ip), headers: 20, link: .linuxSLL)),
                (packet(ip, headers: 0, link: [.raw, .linktypeRaw, .ipv4, .ipv6].randomElement(using: &rng)!),
                 packet(Wire.ethernet(type: type, vlans: [(0x8100, 5)], payload: ip), headers: 18, link: .ethernet)),
            ]
            for (i, pair) in pairs.enumerated() {
                var straight = StraightUDPTests.outcome([pair.straight]), general = StraightUDPTests.outcome([pair.general])
                // A raw packet against a tagged Ethernet frame: the same but for the (absent) link header's octets.
                if i == 2 {
                    straight.stats = ""; general.stats = ""
                    // A raw packet's version says which IP it is, whatever the EtherType would have said.
                    if cut == 0 || ip.first.map({ $0 >> 4 == 4 ? 0x0800 : 0x86dd }) != type { continue }
                }
                #expect(straight == general, "round \(round), link \(i): \(ip)")
            }
        }
    }
}
