/// Link → IP (+ fragments) → UDP/TCP (+ stream reassembly) → DNS payloads on the DNS ports.
/// Every packet is counted: decoded, held for reassembly, not for us, or malformed by kind.
public struct PacketDecoder {
    public struct Configuration: Sendable {
        /// UDP/TCP ports that carry DNS (either end).
        public var ports: Set<UInt16>
        public var fragmentLimits = FragmentReassembler.Limits()
        public var tcpLimits = TCPDNSReassembler.Limits()

        public init(ports: Set<UInt16> = [53]) { self.ports = ports }
    }

    public let configuration: Configuration
    public private(set) var stats = PacketStats()
    private var ip: IPLayer
    private var tcp: TCPDNSReassembler

    public init(configuration: Configuration = .init()) {
        self.configuration = configuration
        ip = IPLayer(limits: configuration.fragmentLimits)
        tcp = TCPDNSReassembler(limits: configuration.tcpLimits)
    }

    /// Decodes one captured packet; `emit` receives each DNS payload it completes (none, one, or several
    /// for a TCP segment that carries several messages); `diagnose` receives each defect.
    public mutating func decode(
        _ packet: CapturedPacket, emit: (DNSPayload) -> Void, diagnose: (Diagnostic) -> Void
    ) {
        stats.packets += 1
        stats.bytes += packet.originalLength
        if packet.data.count < packet.originalLength { stats.snaplenTruncated += 1 }
        func fail(_ kind: Diagnostic.Kind, _ reason: String) {
            stats.malformed[kind, default: 0] += 1
            diagnose(Diagnostic(kind: kind, reason: reason, timestamp: packet.timestamp, point: packet.point))
        }
        guard packet.linkType.isSupported else {
            stats.unsupportedLinkTypes[packet.linkType, default: 0] += 1
            return
        }
        let frame: LinkFrame
        do {
            frame = try LinkLayer.decode(packet.data, linkType: packet.linkType)
        } catch {
            if case .truncated(let what) = error { fail(.truncatedLinkHeader, "\(what) cut off") }
            return
        }
        var point = packet.point
        point.interfaceIndex = frame.interfaceIndex
        point.packetType = frame.packetType
        point.vlans = frame.vlans

        let result: IPDecodeResult
        do {
            switch frame.network {
            case .ipv4: result = try ip.decodeIPv4(packet.data, at: frame.offset, timestamp: packet.timestamp, stats: &stats)
            case .ipv6: result = try ip.decodeIPv6(packet.data, at: frame.offset, timestamp: packet.timestamp, stats: &stats)
            case .other:
                stats.nonIP += 1
                return
            }
        } catch {
            if case .bad(let kind, let reason) = error { fail(kind, reason) }
            return
        }
        guard case .datagram(let datagram) = result else { return }
        var c = ByteCursor(Array(datagram.payload))
        switch datagram.protocolNumber {
        case 17:
            // source port (2), destination port (2), length (2), checksum (2).
            guard let sport = c.readUInt16(), let dport = c.readUInt16(), let length = c.readUInt16(), c.skip(2) else {
                if isDNS(c.peekUInt16(at: 0), c.peekUInt16(at: 2)) { fail(.truncatedUDP, "UDP header cut off") } else { stats.nonDNSPort += 1 }
                return
            }
            guard isDNS(sport, dport) else {
                stats.nonDNSPort += 1
                return
            }
            var cutShort = datagram.isCutShort
            var payloadLength = c.remaining
            if length == 0, datagram.payload.count > 65_535 {
                // UDP jumbogram (RFC 2675): the length is in the IPv6 header.
            } else if length < 8 {
                fail(.badUDPLength, "UDP length \(length) < 8")
                return
            } else if Int(length) - 8 <= c.remaining {
                payloadLength = Int(length) - 8
            } else {
                cutShort = true
            }
            guard let bytes = c.readBytes(payloadLength) else { return }
            emit(DNSPayload(
                timestamp: packet.timestamp, transport: .udp,
                source: Endpoint(address: datagram.source, port: sport),
                destination: Endpoint(address: datagram.destination, port: dport),
                bytes: bytes, point: point, isCutShort: cutShort))
        case 6:
            // source port (2), destination port (2), sequence (4), ack (4), data offset/flags (2), window (2),
            // checksum (2), urgent (2), options.
            guard let sport = c.readUInt16(), let dport = c.readUInt16(), let seq = c.readUInt32(), c.skip(4),
                  let offsetFlags = c.readUInt16()
            else {
                if isDNS(c.peekUInt16(at: 0), c.peekUInt16(at: 2)) { fail(.truncatedTCP, "TCP header cut off") } else { stats.nonDNSPort += 1 }
                return
            }
            guard isDNS(sport, dport) else {
                stats.nonDNSPort += 1
                return
            }
            let headerLength = Int(offsetFlags >> 12) * 4
            guard headerLength >= 20 else {
                fail(.badTCPHeader, "TCP data offset \(headerLength) < 20")
                return
            }
            guard c.moveTo(headerLength) else {
                fail(.truncatedTCP, "TCP options cut off")
                return
            }
            if datagram.isCutShort { fail(.truncatedTCP, "TCP segment cut off by the snaplen") }
            let segment = TCPDNSReassembler.Segment(
                source: Endpoint(address: datagram.source, port: sport),
                destination: Endpoint(address: datagram.destination, port: dport),
                sequence: seq, isSYN: offsetFlags & 0x02 != 0, isFIN: offsetFlags & 0x01 != 0,
                isRST: offsetFlags & 0x04 != 0, payload: c.bytes[c.offset..<c.end],
                timestamp: packet.timestamp, point: point)
            tcp.process(segment, stats: &stats, emit: emit)
        default:
            stats.otherTransport += 1
        }
    }

    /// End of input: frames what TCP still holds past its gaps, drops incomplete fragments.
    public mutating func finish(emit: (DNSPayload) -> Void) {
        tcp.finish(stats: &stats, emit: emit)
        var s = stats
        ip.fragments.flush(stats: &s)
        stats = s
    }

    private func isDNS(_ a: UInt16?, _ b: UInt16?) -> Bool {
        (a.map { configuration.ports.contains($0) } ?? false) || (b.map { configuration.ports.contains($0) } ?? false)
    }
}
