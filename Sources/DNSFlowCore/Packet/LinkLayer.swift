/// The network-layer packet inside one link-layer frame.
struct LinkFrame {
    enum Network { case ipv4, ipv6, other }
    var network: Network
    /// Offset of the network header in the captured bytes.
    var offset: Int
    var interfaceIndex: UInt32?
    var packetType: UInt16?
    var vlans: [UInt16] = []
}

enum LinkLayerError: Error {
    case truncated(String)
}

enum LinkLayer {
    static let etherTypeIPv4: UInt16 = 0x0800
    static let etherTypeIPv6: UInt16 = 0x86dd
    /// 802.1Q, 802.1ad (QinQ) and the pre-standard 0x9100 stacked tag.
    static let vlanEtherTypes: Set<UInt16> = [0x8100, 0x88a8, 0x9100]

    /// Address families of DLT_NULL/DLT_LOOP headers: AF_INET is 2 everywhere; AF_INET6 is 10 on Linux,
    /// 24 on NetBSD/OpenBSD, 28 on FreeBSD, 30 on macOS.
    static let inet6Families: Set<UInt32> = [10, 24, 28, 30]

    static func decode(_ bytes: [UInt8], linkType: LinkType) throws(LinkLayerError) -> LinkFrame {
        var c = ByteCursor(bytes)
        switch linkType {
        case .ethernet:
            // dst (6), src (6), EtherType/length (2), then any VLAN tags: TCI (2), EtherType (2).
            guard c.skip(12) else { throw .truncated("Ethernet header") }
            return try etherTypeChain(&c, frame: LinkFrame(network: .other, offset: 0))
        case .linuxSLL:
            // packet type (2), ARPHRD (2), address length (2), address (8), protocol (2).
            guard let packetType = c.readUInt16(), c.skip(12) else { throw .truncated("Linux SLL header") }
            return try etherTypeChain(&c, frame: LinkFrame(network: .other, offset: 0, packetType: packetType))
        case .linuxSLL2:
            // protocol (2), reserved (2), interface index (4), ARPHRD (2), packet type (1), addr len (1), addr (8).
            guard let proto = c.readUInt16(), c.skip(2), let ifIndex = c.readUInt32(), c.skip(2),
                  let packetType = c.readUInt8(), c.skip(9)
            else { throw .truncated("Linux SLL2 header") }
            var frame = LinkFrame(network: .other, offset: 0, interfaceIndex: ifIndex, packetType: UInt16(packetType))
            return try etherType(proto, &c, frame: &frame)
        case .raw, .rawOpenBSD, .linktypeRaw:
            guard let v = c.peekUInt8() else { throw .truncated("raw IP header") }
            return LinkFrame(network: v >> 4 == 4 ? .ipv4 : v >> 4 == 6 ? .ipv6 : .other, offset: 0)
        case .ipv4:
            return LinkFrame(network: .ipv4, offset: 0)
        case .ipv6:
            return LinkFrame(network: .ipv6, offset: 0)
        case .null, .loop:
            guard let raw = c.readUInt32() else { throw .truncated("loopback header") }
            // DLT_NULL is in the capturing host's byte order: a value over 0xffff was written the other way.
            let family = linkType == .loop ? raw : (raw > 0xffff ? raw.byteSwapped : raw)
            let network: LinkFrame.Network = family == 2 ? .ipv4 : inet6Families.contains(family) ? .ipv6 : .other
            return LinkFrame(network: network, offset: 4)
        case .nflog:
            return try nflog(&c)
        default:
            return LinkFrame(network: .other, offset: 0)
        }
    }

    private static func etherTypeChain(_ c: inout ByteCursor, frame: LinkFrame) throws(LinkLayerError) -> LinkFrame {
        guard let type = c.readUInt16() else { throw .truncated("EtherType") }
        var frame = frame
        return try etherType(type, &c, frame: &frame)
    }

    private static func etherType(_ first: UInt16, _ c: inout ByteCursor, frame: inout LinkFrame) throws(LinkLayerError) -> LinkFrame {
        var type = first
        // Bounded: a frame of stacked tags cannot hold more than a handful; 8 is generous.
        var tags = 0
        while vlanEtherTypes.contains(type) {
            tags += 1
            guard tags <= 8, let tci = c.readUInt16(), let next = c.readUInt16() else {
                throw .truncated("VLAN tag")
            }
            frame.vlans.append(tci & 0x0fff)
            type = next
        }
        frame.offset = c.offset
        switch type {
        case etherTypeIPv4: frame.network = .ipv4
        case etherTypeIPv6: frame.network = .ipv6
        default: frame.network = .other
        }
        return frame
    }

    /// NFLOG (LINKTYPE 239): family (1), version (1), resource id (2), then TLVs of { length (2, host
    /// order, includes this 4-octet header), type (2) } padded to 4 octets; type 9 is NFULA_PAYLOAD.
    private static func nflog(_ c: inout ByteCursor) throws(LinkLayerError) -> LinkFrame {
        guard let family = c.readUInt8(), c.skip(3) else { throw .truncated("NFLOG header") }
        var tlvs = 0
        while c.remaining >= 4, tlvs < 64 {
            tlvs += 1
            let start = c.offset
            guard let rawLength = c.readUInt16LE(), let rawType = c.readUInt16LE() else { break }
            // Lengths are host order; all real captures are little-endian hosts, but accept either.
            var length = Int(rawLength), type = rawType
            if length < 4 || start + length > c.end {
                length = Int(rawLength.byteSwapped)
                type = rawType.byteSwapped
            }
            guard length >= 4, start + length <= c.end else { throw .truncated("NFLOG TLV") }
            if type & 0x7fff == 9 {
                let network: LinkFrame.Network = family == 2 ? .ipv4 : family == 10 ? .ipv6 : .other
                return LinkFrame(network: network, offset: start + 4)
            }
            let padded = (length + 3) & ~3
            guard c.moveTo(min(start + padded, c.end)) else { break }
        }
        return LinkFrame(network: .other, offset: 0)
    }
}
