/// The network-layer packet inside one link-layer frame.
struct LinkFrame {
    enum Network { case ipv4, ipv6, other }
    var network: Network
    /// Offset of the network header in the captured bytes.
    var offset: Int
    var interfaceIndex: UInt32?
    var packetType: UInt16?
    var vlans = VLANStack()
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
        // Almost every frame: IPv4 or IPv6 straight after an Ethernet or Linux cooked header (no tag, no tunnel). Read
        // in place, as the general way below would read it: that way holds the octets in a cursor (a retain and a
        // release of them, for every packet).
        switch linkType {
        case .ethernet where bytes.count >= 14:
            let type = UInt16(bytes[12]) << 8 | UInt16(bytes[13])
            if type == etherTypeIPv4 || type == etherTypeIPv6 { return LinkFrame(network: network(forEtherType: type), offset: 14) }
        case .linuxSLL where bytes.count >= 16:
            let type = UInt16(bytes[14]) << 8 | UInt16(bytes[15])
            if type == etherTypeIPv4 || type == etherTypeIPv6 {
                return LinkFrame(network: network(forEtherType: type), offset: 16, packetType: UInt16(bytes[0]) << 8 | UInt16(bytes[1]))
            }
        default:
            break
        }
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
        case .raw, .rawOpenBSD, .linktypeRaw, .ipv4, .ipv6:
            // By the version nibble, even for LINKTYPE_IPV4/IPV6: a mislabelled packet still decodes.
            return LinkFrame(network: ipVersion(c.peekUInt8()), offset: 0)
        case .ppp, .pppSerial:
            return try ppp(&c)
        case .fddi:
            // frame control (1), destination (6), source (6), then 802.2 LLC.
            guard c.skip(13) else { throw .truncated("FDDI header") }
            return try llc(&c, frame: LinkFrame(network: .other, offset: 0))
        case .ieee80211:
            return try ieee80211(&c, hasFCS: false)
        case .radiotap:
            // version (1), pad (1), length (2, little-endian), present flags...; flags field bit 0x10 = FCS at end.
            guard c.skip(2), let length = c.readUInt16LE(), length >= 8, c.moveTo(Int(length)) else {
                throw .truncated("radiotap header")
            }
            let hasFCS = radiotapHasFCS(bytes, length: Int(length))
            // A frame claiming an FCS it has no room for (fewer than 4 octets after the header) is cut short.
            let end = bytes.count - (hasFCS ? 4 : 0)
            guard end >= Int(length) else { throw .truncated("802.11 frame (its FCS)") }
            var inner = ByteCursor(bytes, range: Int(length)..<end)
            return try ieee80211(&inner, hasFCS: hasFCS)
        case .pktap:
            // Apple PKTAP: header length (4, host order), record type (4), inner DLT (4), ... then the frame.
            guard let rawLength = c.readUInt32LE(), c.skip(4), let rawDLT = c.readUInt32LE() else {
                throw .truncated("PKTAP header")
            }
            let length = rawLength > 0xffff ? Int(rawLength.byteSwapped) : Int(rawLength)
            let dlt = rawDLT > 0xffff ? rawDLT.byteSwapped : rawDLT
            let innerType = LinkType(dlt)
            guard length >= 12, length <= bytes.count, innerType != .pktap, innerType.isSupported else {
                throw .truncated("PKTAP header")
            }
            var frame = try decode(Array(bytes[length...]), linkType: innerType)
            frame.offset += length
            return frame
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
        // Bounded: a frame of stacked tags cannot hold more than a handful; 8 (what a stack holds) is generous.
        var tags = 0
        while type == 0x8100 || type == 0x88a8 || type == 0x9100 {  // vlanEtherTypes, without hashing
            tags += 1
            guard tags <= VLANStack.capacity, let tci = c.readUInt16(), let next = c.readUInt16() else {
                throw .truncated("VLAN tag")
            }
            frame.vlans.append(tci & 0x0fff)
            type = next
        }
        if type == 0x8864 {
            // PPPoE session (RFC 2516): version/type (1), code (1), session (2), length (2), then PPP.
            guard c.skip(6) else { throw .truncated("PPPoE header") }
            var inner = try ppp(&c)
            inner.vlans = frame.vlans
            inner.interfaceIndex = frame.interfaceIndex
            inner.packetType = frame.packetType
            return inner
        }
        if type == 0x8847 || type == 0x8848 {
            // MPLS (RFC 3032): 4-octet label entries until the bottom-of-stack bit; then IP by version.
            var labels = 0
            while true {
                labels += 1
                guard labels <= 16, let entry = c.readUInt32() else { throw .truncated("MPLS label stack") }
                if entry & 0x100 != 0 { break }
            }
            frame.offset = c.offset
            frame.network = ipVersion(c.peekUInt8())
            return frame
        }
        if type < 0x0600 {
            // An 802.3 length, not an EtherType: 802.2 LLC (with SNAP) follows.
            return try llc(&c, frame: frame)
        }
        frame.offset = c.offset
        frame.network = network(forEtherType: type)
        return frame
    }

    static func network(forEtherType type: UInt16) -> LinkFrame.Network {
        switch type {
        case etherTypeIPv4: .ipv4
        case etherTypeIPv6: .ipv6
        default: .other
        }
    }

    static func ipVersion(_ firstByte: UInt8?) -> LinkFrame.Network {
        switch (firstByte ?? 0) >> 4 {
        case 4: .ipv4
        case 6: .ipv6
        default: .other
        }
    }

    /// 802.2 LLC: DSAP (1), SSAP (1), control (1); SNAP (AA AA 03): OUI (3), EtherType (2).
    private static func llc(_ c: inout ByteCursor, frame: LinkFrame) throws(LinkLayerError) -> LinkFrame {
        guard let dsap = c.readUInt8(), let ssap = c.readUInt8(), let control = c.readUInt8() else {
            throw .truncated("802.2 LLC header")
        }
        var frame = frame
        guard dsap == 0xaa, ssap == 0xaa, control == 0x03 else { return frame }
        guard c.skip(3), let type = c.readUInt16() else { throw .truncated("SNAP header") }
        return try etherType(type, &c, frame: &frame)
    }

    /// PPP (RFC 1661): optional address/control FF 03, then a 1- or 2-octet protocol; 0x21 IPv4, 0x57 IPv6.
    static func ppp(_ c: inout ByteCursor) throws(LinkLayerError) -> LinkFrame {
        if c.peekUInt16() == 0xff03 { _ = c.skip(2) }
        guard let first = c.readUInt8() else { throw .truncated("PPP header") }
        var proto = UInt16(first)
        if first & 1 == 0 {
            guard let second = c.readUInt8() else { throw .truncated("PPP header") }
            proto = proto << 8 | UInt16(second)
        }
        switch proto {
        case 0x21: return LinkFrame(network: .ipv4, offset: c.offset)
        case 0x57: return LinkFrame(network: .ipv6, offset: c.offset)
        default: return LinkFrame(network: .other, offset: c.offset)
        }
    }

    /// IEEE 802.11 data frames: frame control (2, little-endian), duration (2), three addresses (18),
    /// sequence (2), a fourth address when to-DS and from-DS are both set, QoS control (2) for QoS
    /// subtypes, HT control (4) when the order bit is set on a QoS frame; then LLC/SNAP.
    private static func ieee80211(_ c: inout ByteCursor, hasFCS: Bool) throws(LinkLayerError) -> LinkFrame {
        guard let fc = c.readUInt16LE() else { throw .truncated("802.11 header") }
        let type = (fc >> 2) & 0x3, subtype = (fc >> 4) & 0xf
        guard type == 2 else { return LinkFrame(network: .other, offset: 0) }   // not a data frame
        var header = 24
        if fc & 0x0300 == 0x0300 { header += 6 }
        let isQoS = subtype & 0x8 != 0
        if isQoS { header += 2 }
        if isQoS, fc & 0x8000 != 0 { header += 4 }
        if fc & 0x4000 != 0 { return LinkFrame(network: .other, offset: 0) }   // protected: encrypted payload
        guard subtype & 0x4 == 0 else { return LinkFrame(network: .other, offset: 0) }   // null data
        guard c.skip(header - 2) else { throw .truncated("802.11 header") }
        return try llc(&c, frame: LinkFrame(network: .other, offset: 0))
    }

    /// Whether the radiotap Flags field (present bit 1) says the frame ends with an FCS (flag 0x10).
    private static func radiotapHasFCS(_ bytes: [UInt8], length: Int) -> Bool {
        var c = ByteCursor(bytes, range: 0..<length)
        guard c.skip(4), let present = c.readUInt32LE() else { return false }
        var flagsOffset = 8
        var word = present
        // Extended present bitmaps (bit 31) push the fields further.
        while word & 0x8000_0000 != 0, let next = c.readUInt32LE() {
            flagsOffset += 4
            word = next
        }
        guard present & 0x2 != 0 else { return false }
        // Field 0 (TSFT, 8 octets, 8-aligned) precedes Flags.
        if present & 0x1 != 0 { flagsOffset = (flagsOffset + 7) & ~7; flagsOffset += 8 }
        guard flagsOffset < length else { return false }
        return bytes[flagsOffset] & 0x10 != 0
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
