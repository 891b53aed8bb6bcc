/// Link-layer header types as libpcap reports them (`pcap_datalink`): DLT values, which for these types
/// equal the LINKTYPE values in files except DLT_RAW (12 on most systems, 14 on OpenBSD; LINKTYPE_RAW 101).
public struct LinkType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public init(_ rawValue: UInt32) { self.rawValue = rawValue }

    public static let null = LinkType(0)            // BSD loopback, host-order AF_ value
    public static let ethernet = LinkType(1)
    public static let ppp = LinkType(9)
    public static let fddi = LinkType(10)
    public static let pppSerial = LinkType(50)
    public static let ieee80211 = LinkType(105)
    public static let radiotap = LinkType(127)
    public static let pktap = LinkType(258)
    public static let raw = LinkType(12)            // DLT_RAW (Linux and most)
    public static let rawOpenBSD = LinkType(14)     // DLT_RAW on OpenBSD
    public static let linktypeRaw = LinkType(101)   // LINKTYPE_RAW, should libpcap hand it through
    public static let loop = LinkType(108)          // OpenBSD loopback, network-order AF_ value
    public static let linuxSLL = LinkType(113)
    public static let ipv4 = LinkType(228)
    public static let ipv6 = LinkType(229)
    public static let nflog = LinkType(239)
    public static let linuxSLL2 = LinkType(276)

    public static let supported: Set<LinkType> = [
        .null, .ethernet, .raw, .rawOpenBSD, .linktypeRaw, .loop, .linuxSLL, .ipv4, .ipv6, .nflog, .linuxSLL2,
        .ppp, .fddi, .pppSerial, .ieee80211, .radiotap, .pktap,
    ]

    /// Asked for every packet: a bitmap of the supported numbers (all below 320) instead of hashing into `supported`.
    private static let supportedBits: [UInt64] = {
        var bits = [UInt64](repeating: 0, count: 5)
        for t in supported { bits[Int(t.rawValue / 64)] |= 1 << UInt64(t.rawValue % 64) }
        return bits
    }()

    public var isSupported: Bool {
        rawValue < 320 && LinkType.supportedBits[Int(rawValue / 64)] & (1 << UInt64(rawValue % 64)) != 0
    }

    public var description: String {
        switch rawValue {
        case 0: "NULL"
        case 1: "EN10MB"
        case 9: "PPP"
        case 10: "FDDI"
        case 12, 14, 101: "RAW"
        case 50: "PPP_HDLC"
        case 105: "IEEE802_11"
        case 108: "LOOP"
        case 113: "LINUX_SLL"
        case 127: "IEEE802_11_RADIO"
        case 228: "IPV4"
        case 229: "IPV6"
        case 239: "NFLOG"
        case 258: "PKTAP"
        case 276: "LINUX_SLL2"
        default: "DLT\(rawValue)"
        }
    }
}

/// Where and how a packet was seen: which input, which frame in it, and what the link layer said.
public struct CapturePoint: Hashable, Sendable {
    /// Index of the input (the n-th `-r`, or the interface) the packet came from.
    public var input: Int
    /// 1-based frame number within that input, as tcpdump and Wireshark count.
    public var frame: Int
    /// Linux SLL2 interface index, when the link layer carries one.
    public var interfaceIndex: UInt32?
    /// Linux SLL/SLL2 packet type: 0 to us, 1 broadcast, 2 multicast, 3 to another host, 4 sent by us.
    public var packetType: UInt16?
    /// 802.1Q/802.1ad VLAN IDs, outermost first.
    public var vlans: VLANStack
    /// Where the packet's record starts in its capture file, when that file can be read again by offset (-1 for a
    /// pipe or a live capture). Not part of the point's identity: the input and frame are.
    public var fileOffset: Int64 = -1

    /// (`vlans`' default is `VLANStack()`, not `[]`: a literal would make and let go of a list for every packet.)
    public init(input: Int, frame: Int, interfaceIndex: UInt32? = nil, packetType: UInt16? = nil,
                vlans: VLANStack = VLANStack(), fileOffset: Int64 = -1) {
        self.input = input
        self.frame = frame
        self.interfaceIndex = interfaceIndex
        self.packetType = packetType
        self.vlans = vlans
        self.fileOffset = fileOffset
    }

    public static func == (a: CapturePoint, b: CapturePoint) -> Bool {
        a.input == b.input && a.frame == b.frame && a.interfaceIndex == b.interfaceIndex && a.packetType == b.packetType
            && a.vlans == b.vlans
    }

    public func hash(into h: inout Hasher) {
        h.combine(input)
        h.combine(frame)
        h.combine(interfaceIndex)
        h.combine(packetType)
        h.combine(vlans)
    }

    /// The point as the rules that tell capture points apart read it: input, interface (SLL2) and direction (SLL) — no
    /// frame, no VLANs. A message's second sighting comes from another origin; a TCP stream is one origin's copy.
    struct Origin: Hashable {
        var input: Int
        var interfaceIndex: UInt32?
        var packetType: UInt16?
    }

    var origin: Origin { Origin(input: input, interfaceIndex: interfaceIndex, packetType: packetType) }

    /// Where the packet was seen, for outputs: the input (the n-th `-r`, from 0), the interface (SLL2's index, or a
    /// pcapng interface) and the direction (SLL) when known — `0`, `0/if3`, `0/if3/In`.
    public var label: String {
        var s = String(input)
        if let i = interfaceIndex { s += "/if\(i)" }
        if let d = direction { s += "/" + d }
        return s
    }

    /// `In`/`Out`/`M`/`B`/`P` as tcpdump prints Linux cooked directions.
    public var direction: String? {
        switch packetType {
        case 0?: "In"
        case 1?: "B"
        case 2?: "M"
        case 3?: "P"
        case 4?: "Out"
        default: nil
        }
    }
}

/// A frame's VLAN IDs (802.1Q, 802.1ad), outermost first: at most `capacity`, as many as the link layer reads. Twelve
/// bits each, held in two words beside the count: a capture point is made of plain values, copied with every payload,
/// message and defect without a list's reference to count.
public struct VLANStack: RandomAccessCollection, Hashable, Sendable, ExpressibleByArrayLiteral {
    public static let capacity = 8
    /// IDs 0–4 in the low 60 bits, the count in the top 4.
    private var first: UInt64 = 0
    /// IDs 5–7.
    private var rest: UInt64 = 0

    public init() {}

    public init(arrayLiteral ids: UInt16...) {
        for id in ids { append(id) }
    }

    public var startIndex: Int { 0 }
    public var endIndex: Int { Int(truncatingIfNeeded: first >> 60) }

    public subscript(i: Int) -> UInt16 {
        precondition(i >= 0 && i < count, "VLAN index out of range")
        let word = i < 5 ? first : rest
        return UInt16(truncatingIfNeeded: word >> UInt64(12 * (i < 5 ? i : i - 5))) & 0x0fff
    }

    /// Adds the next inner tag's ID (its low 12 bits).
    public mutating func append(_ id: UInt16) {
        let n = count
        precondition(n < VLANStack.capacity, "more than \(VLANStack.capacity) VLAN tags")
        let bits = UInt64(id & 0x0fff)
        if n < 5 { first |= bits << UInt64(12 * n) } else { rest |= bits << UInt64(12 * (n - 5)) }
        first = first & ~(0xf << 60) | UInt64(n + 1) << 60
    }
}

/// One record from a capture, as libpcap handed it over.
public struct CapturedPacket: Sendable {
    public var timestamp: Timestamp
    public var linkType: LinkType
    public var data: [UInt8]
    /// The length on the wire; more than `data.count` when the snaplen cut the packet.
    public var originalLength: Int
    public var point: CapturePoint

    public init(timestamp: Timestamp, linkType: LinkType, data: [UInt8], originalLength: Int, point: CapturePoint) {
        self.timestamp = timestamp
        self.linkType = linkType
        self.data = data
        self.originalLength = originalLength
        self.point = point
    }
}

/// A TCP connection attempt to a DNS port and what came back: a client whose connect never completes sends no DNS
/// message at all, only SYNs (and their retransmissions), and its wait is in them.
public struct ConnectionEvent: Sendable, Hashable {
    public enum Kind: Sendable, Hashable {
        /// A SYN (without ACK) to a DNS port: the client's connect, or its retransmission.
        case attempt
        /// A SYN-ACK from a DNS port: the server accepted.
        case accepted
        /// A RST from a DNS port to a client that has not sent data yet: the server (or a firewall) refused.
        case refused
    }

    public var kind: Kind
    public var timestamp: Timestamp
    public var client: Endpoint
    public var server: Endpoint
    /// The SYN's sequence number (the client's initial one): a retransmission repeats it.
    public var sequence: UInt32
    public var point: CapturePoint

    public init(kind: Kind, timestamp: Timestamp, client: Endpoint, server: Endpoint, sequence: UInt32, point: CapturePoint) {
        self.kind = kind
        self.timestamp = timestamp
        self.client = client
        self.server = server
        self.sequence = sequence
        self.point = point
    }
}

/// A DNS message's bytes as carried by one UDP datagram or framed out of one TCP stream.
public struct DNSPayload: Sendable {
    public var timestamp: Timestamp
    public var transport: TransportProtocol
    public var source: Endpoint
    public var destination: Endpoint
    public var bytes: [UInt8]
    public var point: CapturePoint
    /// The datagram was cut short by the snaplen or a lying length field.
    public var isCutShort: Bool
    /// The datagram came in IP fragments: this packet alone does not hold the message.
    public var isReassembled = false
}
