/// Link → IP (+ fragments, + tunnels) → UDP/TCP (+ stream reassembly) → DNS payloads on the DNS ports.
/// Every packet is counted: decoded, held for reassembly, not for us, or malformed by kind.
public struct PacketDecoder {
    public struct Configuration: Sendable {
        /// UDP/TCP ports that carry DNS (either end).
        public var ports: Set<UInt16>
        /// Decapsulate IP-in-IP, GRE, VXLAN (4789), Geneve (6081) and GTP-U (2152) to find DNS inside.
        public var decapsulatesTunnels = true
        public var fragmentLimits = FragmentReassembler.Limits()
        public var tcpLimits = TCPDNSReassembler.Limits()

        public init(ports: Set<UInt16> = [53]) { self.ports = ports }
    }

    /// Tunnels nest at most this deep (a crafted packet cannot recurse without bound).
    static let maxTunnelDepth = 4
    static let vxlanPort: UInt16 = 4789
    static let genevePort: UInt16 = 6081
    static let gtpUserPort: UInt16 = 2152

    public let configuration: Configuration
    /// Set by a caller that takes the packet's octets over once it is decoded (`DecodingStage`, when packets are not
    /// kept): a UDP payload that lies in the packet's own octets (not in a datagram put together from fragments, nor
    /// in a tunnel's inner packet copied out) is left there, its bytes empty, and `payloadInPacket` says which payload
    /// it is and where it lies (`moveOut` moves it in).
    var leavesPayloadInPacket = false
    /// After `decode`: the payload left in the packet's octets, and their range (`leavesPayloadInPacket`).
    private(set) var payloadInPacket: (index: Int, range: Range<Int>)?
    /// Where the octets of the packet being decoded start (`leavesPayloadInPacket`): octets that start there are the
    /// packet's own.
    private var packetOctets: UnsafeRawPointer?
    public private(set) var stats = PacketStats()
    private var ip: IPLayer
    private var tcp: TCPDNSReassembler
    /// What the TCP streams hold now, in octets (bounded by `tcpLimits.maxTotalBytes`).
    public var tcpHeldBytes: Int { tcp.heldBytes }

    /// The DNS ports as a bitmap (1,024 words): looked up twice a packet, where a `Set` hashed each port with SipHash.
    private let portBits: [UInt64]

    public init(configuration: Configuration = .init()) {
        self.configuration = configuration
        var bits = [UInt64](repeating: 0, count: 1024)
        for p in configuration.ports { bits[Int(p >> 6)] |= 1 << UInt64(p & 63) }
        portBits = bits
        ip = IPLayer(limits: configuration.fragmentLimits)
        tcp = TCPDNSReassembler(limits: configuration.tcpLimits)
    }

    /// Decodes one captured packet; `emit` receives each DNS payload it completes (none, one, or several
    /// for a TCP segment that carries several messages); `diagnose` receives each defect; `connect` each TCP
    /// connection attempt to a DNS port and its answer (SYN, SYN-ACK, RST).
    public mutating func decode(
        _ packet: CapturedPacket, emit: (DNSPayload) -> Void, diagnose: (Diagnostic) -> Void,
        connect: (ConnectionEvent) -> Void = { _ in }
    ) {
        // A payload left in the packet's octets is moved out by the caller of the lists' `decode` (`DecodingStage`).
        assert(!leavesPayloadInPacket, "payloads left in the packet's octets are handed on by the lists' decode only")
        // Handed on once the packet is decoded: the layers below collect into lists kept between packets, where
        // passing the three closures down (held in the context, so made escaping) boxed each of them per packet.
        collect(packet)
        handOn(emit: emit, diagnose: diagnose, connect: connect)
    }

    /// Decodes one captured packet as `decode(_:emit:diagnose:connect:)` does, and hands over the lists of what it
    /// yielded whole: `payloads`, `diagnostics` and `connections` are emptied and given what the packet yielded (the
    /// lists they held are kept for the next packet). Nothing is copied on the way.
    public mutating func decode(_ packet: CapturedPacket, payloads: inout [DNSPayload], diagnostics: inout [Diagnostic],
                                connections: inout [ConnectionEvent]) {
        collect(packet)
        // (Emptied only when not empty: emptying an empty list is a call each time.)
        if !payloads.isEmpty { payloads.removeAll(keepingCapacity: true) }
        if !diagnostics.isEmpty { diagnostics.removeAll(keepingCapacity: true) }
        if !connections.isEmpty { connections.removeAll(keepingCapacity: true) }
        swap(&payloads, &found.payloads)
        swap(&diagnostics, &found.diagnostics)
        swap(&connections, &found.connections)
    }

    private static func start(of octets: borrowing [UInt8]) -> UnsafeRawPointer? {
        octets.withUnsafeBufferPointer { UnsafeRawPointer($0.baseAddress) }
    }

    /// The octets of `range`, taken from `data` (left empty): moved to the front of the same storage and the rest let
    /// go, instead of copied into storage of their own (`data` held alone: it is the packet's, as read).
    static func moveOut(_ range: Range<Int>, of data: inout [UInt8]) -> [UInt8] {
        var octets: [UInt8] = []
        swap(&octets, &data)
        // (Octets after the datagram — a short frame's padding — are rare: cut only when there are some.)
        if range.upperBound < octets.count { octets.removeSubrange(range.upperBound...) }
        octets.removeSubrange(..<range.lowerBound)
        return octets
    }

    /// Decodes one captured packet into `found`.
    private mutating func collect(_ packet: CapturedPacket) {
        payloadInPacket = nil
        if leavesPayloadInPacket { packetOctets = PacketDecoder.start(of: packet.data) }
        defer { packetOctets = nil }
        stats.packets += 1
        stats.bytes += packet.originalLength
        if packet.data.count < packet.originalLength { stats.snaplenTruncated += 1 }
        if let straight = packet.data.withUnsafeBufferPointer({ PacketDecoder.readStraight($0, linkType: packet.linkType) }) {
            if isDNS(straight.sourcePort, straight.destinationPort) {
                collectStraight(straight, of: packet)
                return
            }
            // Another port, and no tunnel's: counted as the general way counts it, not read a second time.
            if !mayBeTunnel(sport: straight.sourcePort, dport: straight.destinationPort) {
                stats.nonDNSPort += 1
                return
            }
        }
        guard packet.linkType.isSupported else {
            stats.unsupportedLinkTypes[packet.linkType, default: 0] += 1
            return
        }
        let frame: LinkFrame
        do {
            frame = try LinkLayer.decode(packet.data, linkType: packet.linkType)
        } catch {
            if case .truncated(let what) = error {
                fail(.truncatedLinkHeader, "\(what) cut off", at: packet.timestamp, packet.point)
            }
            return
        }
        var point = packet.point
        // The link layer's interface (SLL2), else the file's (a pcapng interface).
        point.interfaceIndex = frame.interfaceIndex ?? packet.point.interfaceIndex
        point.packetType = frame.packetType
        point.vlans = frame.vlans
        var context = Context(timestamp: packet.timestamp, packetPoint: packet.point, point: point)
        decodeNetwork(packet.data, at: frame.offset, network: frame.network, depth: 0, &context)
    }

    /// A UDP datagram read straight from a packet's octets (`readStraight`).
    private struct Straight {
        var source: IPAddress, destination: IPAddress
        var sourcePort: UInt16, destinationPort: UInt16
        /// Where the UDP payload lies in the packet's octets.
        var payload: Range<Int>
        var isCutShort: Bool
        /// The Linux cooked header's packet type.
        var packetType: UInt16?
    }

    /// The packet almost every capture holds, read in one pass: IPv4 (not a fragment) or IPv6 (no extension header)
    /// carrying UDP, after an Ethernet or Linux cooked header or none. Read as the general way (`LinkLayer.decode`,
    /// `IPLayer`, `decodeTransport`) reads it; nil for anything else — a VLAN tag, a fragment, another transport, a
    /// header cut off or out of bounds, a UDP length under 8 — which the general way decodes (and reports).
    private static func readStraight(_ bytes: UnsafeBufferPointer<UInt8>, linkType: LinkType) -> Straight? {
        let n = bytes.count
        func u16(_ i: Int) -> UInt16 { UInt16(bytes[i]) << 8 | UInt16(bytes[i + 1]) }
        func u32(_ i: Int) -> UInt32 { UInt32(u16(i)) << 16 | UInt32(u16(i + 2)) }
        func u64(_ i: Int) -> UInt64 { UInt64(u32(i)) << 32 | UInt64(u32(i + 4)) }
        var offset = 0
        var packetType: UInt16?
        // By number: each of `LinkType`'s named values is a global, initialised once and looked up on every use.
        switch linkType.rawValue {
        case 1:                       // .ethernet
            guard n >= 14 else { return nil }
            offset = 14
        case 113:                     // .linuxSLL
            guard n >= 16 else { return nil }
            offset = 16
            packetType = u16(0)
        case 12, 14, 101, 228, 229:   // .raw, .rawOpenBSD, .linktypeRaw, .ipv4, .ipv6
            break
        default:
            return nil
        }
        if offset > 0 {
            // The EtherType (the cooked header's protocol) must say what the IP header's version says.
            let type = u16(offset - 2)
            guard n > offset, type == (bytes[offset] >> 4 == 4 ? LinkLayer.etherTypeIPv4 : LinkLayer.etherTypeIPv6) else { return nil }
        }
        let source: IPAddress, destination: IPAddress
        let udp: Int
        var end = n
        var cutShort = false
        switch n > offset ? bytes[offset] >> 4 : 0 {
        case 4:
            guard n - offset >= 20 else { return nil }
            let headerLength = Int(bytes[offset] & 0x0f) * 4, totalLength = Int(u16(offset + 2))
            guard headerLength >= 20, offset + headerLength <= n, u16(offset + 6) & 0x3fff == 0, bytes[offset + 9] == 17
            else { return nil }
            if totalLength != 0 {
                guard totalLength >= headerLength else { return nil }
                if offset + totalLength <= n { end = offset + totalLength } else { cutShort = true }
            }
            source = .v4(u32(offset + 12))
            destination = .v4(u32(offset + 16))
            udp = offset + headerLength
        case 6:
            guard n - offset >= 40, bytes[offset + 6] == 17 else { return nil }
            let payloadLength = Int(u16(offset + 4))
            udp = offset + 40
            if payloadLength != 0 {
                if udp + payloadLength <= n { end = udp + payloadLength } else { cutShort = true }
            }
            source = .v6(u64(offset + 8), u64(offset + 16))
            destination = .v6(u64(offset + 24), u64(offset + 32))
        default:
            return nil
        }
        guard end - udp >= 8 else { return nil }
        let length = Int(u16(udp + 4))
        guard length >= 8 else { return nil }
        var payloadLength = end - udp - 8
        if length - 8 <= payloadLength { payloadLength = length - 8 } else { cutShort = true }
        return Straight(source: source, destination: destination, sourcePort: u16(udp), destinationPort: u16(udp + 2),
                        payload: udp + 8..<udp + 8 + payloadLength, isCutShort: cutShort, packetType: packetType)
    }

    /// The DNS payload of a datagram read straight, as `decodeTransport` yields it.
    private mutating func collectStraight(_ s: Straight, of packet: CapturedPacket) {
        var point = packet.point
        point.packetType = s.packetType
        point.vlans = VLANStack()
        let payload: [UInt8]
        if leavesPayloadInPacket, !s.payload.isEmpty {
            payloadInPacket = (found.payloads.count, s.payload)
            payload = []
        } else {
            payload = Array(packet.data[s.payload])
        }
        found.payloads.append(DNSPayload(
            timestamp: packet.timestamp, transport: .udp,
            source: Endpoint(address: s.source, port: s.sourcePort),
            destination: Endpoint(address: s.destination, port: s.destinationPort),
            bytes: payload, point: point, isCutShort: s.isCutShort, isReassembled: false))
    }

    private mutating func handOn(
        emit: (DNSPayload) -> Void, diagnose: (Diagnostic) -> Void, connect: (ConnectionEvent) -> Void
    ) {
        if !found.diagnostics.isEmpty {
            for d in found.diagnostics { diagnose(d) }
            found.diagnostics.removeAll(keepingCapacity: true)
        }
        if !found.connections.isEmpty {
            for e in found.connections { connect(e) }
            found.connections.removeAll(keepingCapacity: true)
        }
        if !found.payloads.isEmpty {
            for p in found.payloads { emit(p) }
            found.payloads.removeAll(keepingCapacity: true)
        }
    }

    /// What the packet being decoded yielded so far, in order of each kind (handed on at the end of `decode`).
    private struct Found {
        var payloads: [DNSPayload] = []
        var diagnostics: [Diagnostic] = []
        var connections: [ConnectionEvent] = []
    }
    private var found = Found()

    /// End of input: frames what TCP still holds past its gaps, drops incomplete fragments.
    public mutating func finish(emit: (DNSPayload) -> Void) {
        tcp.finish(stats: &stats, emit: emit)
        ip.fragments.flush(stats: &stats)
    }

    private struct Context {
        /// The packet's time and its point as read (what a defect is reported with); not the packet itself, which is
        /// copied for nothing.
        var timestamp: Timestamp
        var packetPoint: CapturePoint
        var point: CapturePoint
        /// An IP datagram on the way in was reassembled from fragments (several packets, not just this one).
        var reassembled = false
    }

    /// A defect of the packet being decoded (handed on at the end of `decode`).
    private mutating func fail(_ kind: Diagnostic.Kind, _ reason: String, _ context: Context) {
        fail(kind, reason, at: context.timestamp, context.packetPoint)
    }

    private mutating func fail(_ kind: Diagnostic.Kind, _ reason: String, at timestamp: Timestamp, _ point: CapturePoint) {
        stats.malformed[kind, default: 0] += 1
        found.diagnostics.append(Diagnostic(kind: kind, reason: reason, timestamp: timestamp, point: point))
    }

    private mutating func decodeNetwork(
        _ bytes: [UInt8], at offset: Int, network: LinkFrame.Network, depth: Int, _ context: inout Context
    ) {
        let result: IPDecodeResult
        do {
            switch network {
            case .ipv4: result = try ip.decodeIPv4(bytes, at: offset, timestamp: context.timestamp, stats: &stats)
            case .ipv6: result = try ip.decodeIPv6(bytes, at: offset, timestamp: context.timestamp, stats: &stats)
            case .other:
                if depth == 0 { stats.nonIP += 1 }
                return
            }
        } catch {
            if case .bad(let kind, let reason) = error { fail(kind, reason, context) }
            return
        }
        guard case .datagram(let datagram) = result else { return }
        if let whole = datagram.reassembled {
            context.reassembled = true
            decodeTransport(datagram, in: whole, depth: depth, &context)
        } else {
            decodeTransport(datagram, in: bytes, depth: depth, &context)
        }
    }

    /// `bytes`: the octets the datagram's transport header and data lie in (`datagram.range`).
    private mutating func decodeTransport(_ datagram: IPDatagram, in bytes: [UInt8], depth: Int, _ context: inout Context) {
        // Read where it lies in the packet (offsets are the packet's, not the transport header's).
        let start = ByteCursor(bytes, range: datagram.range)
        var c = start
        switch datagram.protocolNumber {
        case 17:
            // source port (2), destination port (2), length (2), checksum (2).
            guard let sport = c.readUInt16(), let dport = c.readUInt16(), let length = c.readUInt16(), c.skip(2) else {
                return headerCutOff(start, .truncatedUDP, "UDP", &context)
            }
            guard isDNS(sport, dport) else {
                if !decapsulateUDP(sport: sport, dport: dport, payload: c, depth: depth, &context) {
                    stats.nonDNSPort += 1
                }
                return
            }
            var cutShort = datagram.isCutShort
            var payloadLength = c.remaining
            if length == 0, datagram.range.count > 65_535 {
                // UDP jumbogram (RFC 2675): the length is in the IPv6 header.
            } else if length < 8 {
                fail(.badUDPLength, "UDP length \(length) < 8", context)
                return
            } else if Int(length) - 8 <= c.remaining {
                payloadLength = Int(length) - 8
            } else {
                cutShort = true
            }
            let payload: [UInt8]
            if leavesPayloadInPacket, payloadInPacket == nil, payloadLength > 0, payloadLength <= c.remaining,
               PacketDecoder.start(of: bytes) == packetOctets {
                // (A packet holds one UDP datagram in its own octets, tunnels or not: one payload at most is left there.)
                payloadInPacket = (found.payloads.count, c.offset..<c.offset + payloadLength)
                payload = []
            } else {
                guard let read = c.readBytes(payloadLength) else { return }
                payload = read
            }
            found.payloads.append(DNSPayload(
                timestamp: context.timestamp, transport: .udp,
                source: Endpoint(address: datagram.source, port: sport),
                destination: Endpoint(address: datagram.destination, port: dport),
                bytes: payload, point: context.point, isCutShort: cutShort, isReassembled: context.reassembled))
        case 6:
            // source port (2), destination port (2), sequence (4), ack (4), data offset/flags (2), window (2),
            // checksum (2), urgent (2), options.
            guard let sport = c.readUInt16(), let dport = c.readUInt16(), let seq = c.readUInt32(), c.skip(4),
                  let offsetFlags = c.readUInt16()
            else { return headerCutOff(start, .truncatedTCP, "TCP", &context) }
            guard isDNS(sport, dport) else {
                stats.nonDNSPort += 1
                return
            }
            let headerLength = Int(offsetFlags >> 12) * 4
            guard headerLength >= 20 else {
                fail(.badTCPHeader, "TCP data offset \(headerLength) < 20", context)
                return
            }
            guard c.moveTo(start.offset + headerLength) else {
                fail(.truncatedTCP, "TCP options cut off", context)
                return
            }
            if datagram.isCutShort {
                fail(.truncatedTCP, "TCP segment cut off by the snaplen", context)
            }
            connectionEvent(flags: offsetFlags, sport: sport, dport: dport, sequence: seq, payloadEmpty: c.remaining == 0,
                            datagram, &context)
            let segment = TCPDNSReassembler.Segment(
                source: Endpoint(address: datagram.source, port: sport),
                destination: Endpoint(address: datagram.destination, port: dport),
                sequence: seq, isSYN: offsetFlags & 0x02 != 0, isFIN: offsetFlags & 0x01 != 0,
                isRST: offsetFlags & 0x04 != 0, payload: c.bytes[c.offset..<c.end],
                timestamp: context.timestamp, point: context.point)
            var payloads = found.payloads
            found.payloads = []
            tcp.process(segment, stats: &stats, emit: { payloads.append($0) })
            found.payloads = payloads
        case 4 where configuration.decapsulatesTunnels && depth < PacketDecoder.maxTunnelDepth,
             41 where configuration.decapsulatesTunnels && depth < PacketDecoder.maxTunnelDepth:
            // IP in IP (RFC 2003) and IPv6 in IP (RFC 4213), as Calico's IPIP mode sends.
            decodeNetwork(c.readRest(), at: 0, network: datagram.protocolNumber == 4 ? .ipv4 : .ipv6, depth: depth + 1, &context)
        case 47 where configuration.decapsulatesTunnels && depth < PacketDecoder.maxTunnelDepth:
            decapsulateGRE(c, depth: depth, &context)
        default:
            if depth == 0 { stats.otherTransport += 1 }
        }
    }

    /// SYN to a DNS port, SYN-ACK or RST from one: the connection's fate, which carries no DNS message.
    private mutating func connectionEvent(
        flags: UInt16, sport: UInt16, dport: UInt16, sequence: UInt32, payloadEmpty: Bool, _ datagram: IPDatagram,
        _ context: inout Context
    ) {
        let syn = flags & 0x02 != 0, ack = flags & 0x10 != 0, rst = flags & 0x04 != 0
        let kind: ConnectionEvent.Kind
        if syn, !ack, !rst, isDNS(dport, nil) {
            kind = .attempt
        } else if syn, ack, !rst, isDNS(sport, nil) {
            kind = .accepted
        } else if rst, payloadEmpty, isDNS(sport, nil), !isDNS(dport, nil) {
            kind = .refused
        } else {
            return
        }
        let a = Endpoint(address: datagram.source, port: sport), b = Endpoint(address: datagram.destination, port: dport)
        found.connections.append(ConnectionEvent(
            kind: kind, timestamp: context.timestamp, client: kind == .attempt ? a : b, server: kind == .attempt ? b : a,
            sequence: sequence, point: context.point))
    }

    /// A transport header too short to read: a defect when its ports (if we have them) are DNS ports.
    private mutating func headerCutOff(_ start: ByteCursor, _ kind: Diagnostic.Kind, _ what: String, _ context: inout Context) {
        if isDNS(start.peekUInt16(at: 0), start.peekUInt16(at: 2)) {
            fail(kind, "\(what) header cut off", context)
        } else {
            stats.nonDNSPort += 1
        }
    }

    /// GRE (RFC 2784, 2890; PPTP's version 1, RFC 2637): flags/version (2), protocol (2), then checksum
    /// and offset (4) if C or R, key (4) if K, sequence (4) if S, acknowledgment (4) if version 1 and A.
    private mutating func decapsulateGRE(_ cursor: ByteCursor, depth: Int, _ context: inout Context) {
        var c = cursor
        guard let flags = c.readUInt16(), let proto = c.readUInt16() else { return }
        let version = flags & 0x7
        guard version <= 1, flags & 0x4000 == 0 || version == 1 else { return }   // source routing: obsolete
        if flags & 0xc000 != 0, version == 0 { guard c.skip(4) else { return } }
        if flags & 0x2000 != 0 { guard c.skip(4) else { return } }
        if flags & 0x1000 != 0 { guard c.skip(4) else { return } }
        if version == 1, flags & 0x0080 != 0 { guard c.skip(4) else { return } }
        decapsulate(etherType: proto, c.readRest(), depth: depth, &context)
    }

    /// VXLAN (RFC 7348), Geneve (RFC 8926) and GTP-U (3GPP TS 29.281) over UDP. Returns false when the
    /// datagram is none of them.
    private mutating func decapsulateUDP(sport: UInt16, dport: UInt16, payload: ByteCursor, depth: Int, _ context: inout Context) -> Bool {
        guard mayBeTunnel(sport: sport, dport: dport), depth < PacketDecoder.maxTunnelDepth else { return false }
        var c = payload
        if dport == PacketDecoder.vxlanPort {
            // flags (1, I bit 0x08), reserved (3), VNI (3), reserved (1); then Ethernet.
            guard let flags = c.readUInt8(), flags & 0x08 != 0, c.skip(7) else { return false }
            decapsulate(etherType: 0x6558, c.readRest(), depth: depth, &context)
            return true
        }
        if dport == PacketDecoder.genevePort {
            // version/option length (1), flags (1), protocol (2), VNI (3), reserved (1), options.
            guard let first = c.readUInt8(), first >> 6 == 0, c.skip(1), let proto = c.readUInt16(), c.skip(4),
                  c.skip(Int(first & 0x3f) * 4)
            else { return false }
            decapsulate(etherType: proto, c.readRest(), depth: depth, &context)
            return true
        }
        if dport == PacketDecoder.gtpUserPort || sport == PacketDecoder.gtpUserPort {
            // flags (1: version 3 bits, PT, E, S, PN), type (1; 0xff = G-PDU), length (2), TEID (4),
            // then sequence (2), N-PDU (1), next extension type (1) if E, S or PN; then extensions.
            guard let flags = c.readUInt8(), flags >> 5 == 1, let type = c.readUInt8(), type == 0xff, c.skip(6) else {
                return false
            }
            if flags & 0x07 != 0 {
                guard c.skip(3), var next = c.readUInt8() else { return false }
                var extensions = 0
                while next != 0 {
                    extensions += 1
                    guard extensions <= 16, let units = c.readUInt8(), units > 0, c.skip(Int(units) * 4 - 2),
                          let n = c.readUInt8()
                    else { return false }
                    next = n
                }
            }
            let inner = c.readRest()
            decodeNetwork(inner, at: 0, network: LinkLayer.ipVersion(inner.first), depth: depth + 1, &context)
            return true
        }
        return false
    }

    /// Whether a UDP datagram between these ports is one `decapsulateUDP` would open (VXLAN, Geneve, GTP-U).
    private func mayBeTunnel(sport: UInt16, dport: UInt16) -> Bool {
        configuration.decapsulatesTunnels
            && (dport == PacketDecoder.vxlanPort || dport == PacketDecoder.genevePort || dport == PacketDecoder.gtpUserPort
                || sport == PacketDecoder.gtpUserPort)
    }

    private mutating func decapsulate(etherType: UInt16, _ inner: [UInt8], depth: Int, _ context: inout Context) {
        switch etherType {
        case 0x6558:                  // transparent Ethernet bridging
            guard let frame = try? LinkLayer.decode(inner, linkType: .ethernet) else { return }
            decodeNetwork(inner, at: frame.offset, network: frame.network, depth: depth + 1, &context)
        case 0x880b:                  // PPP (PPTP)
            var c = ByteCursor(inner)
            guard let frame = try? LinkLayer.ppp(&c) else { return }
            decodeNetwork(inner, at: frame.offset, network: frame.network, depth: depth + 1, &context)
        default:
            let network = LinkLayer.network(forEtherType: etherType)
            if network != .other { decodeNetwork(inner, at: 0, network: network, depth: depth + 1, &context) }
        }
    }

    private func isDNS(_ a: UInt16?, _ b: UInt16?) -> Bool {
        func dns(_ p: UInt16) -> Bool { portBits[Int(p >> 6)] & (1 << UInt64(p & 63)) != 0 }
        return (a.map(dns) ?? false) || (b.map(dns) ?? false)
    }
}
