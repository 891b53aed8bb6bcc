/// A transport-layer payload out of one IP datagram (reassembled if it came in fragments).
struct IPDatagram {
    var source: IPAddress
    var destination: IPAddress
    var protocolNumber: UInt8
    /// A datagram put together from fragments: its octets (nil: the transport header and data lie in the packet's
    /// octets). The packet's are not held here: holding them would be a reference counted for every packet.
    var reassembled: [UInt8]?
    /// Where the transport header and data lie: in the packet's octets, or in `reassembled`.
    var range: Range<Int>
    /// The IP length fields promised more than was captured.
    var isCutShort: Bool
    /// Put together from fragments: more than the packet at hand.
    var isReassembled: Bool { reassembled != nil }
}

enum IPLayerError: Error {
    case bad(Diagnostic.Kind, String)
}

enum IPDecodeResult {
    case datagram(IPDatagram)
    /// A fragment was stored; the datagram is not complete yet.
    case fragmentHeld
}

/// IPv4 (RFC 791) and IPv6 (RFC 8200) headers, extension headers and fragment reassembly.
struct IPLayer {
    var fragments: FragmentReassembler

    init(limits: FragmentReassembler.Limits = .init()) {
        fragments = FragmentReassembler(limits: limits)
    }

    mutating func decodeIPv4(_ bytes: [UInt8], at offset: Int, timestamp: Timestamp, stats: inout PacketStats)
        throws(IPLayerError) -> IPDecodeResult
    {
        // version/IHL (1), TOS (1), total length (2), id (2), flags/fragment offset (2), TTL (1),
        // protocol (1), checksum (2), source (4), destination (4), options (IHL*4 - 20). Read in place (a cursor holds
        // the octets: a retain and a release of them, for every packet).
        guard offset >= 0, bytes.count - offset >= 20 else { throw .bad(.truncatedIP, "IPv4 header cut off") }
        func u16(_ i: Int) -> UInt16 { UInt16(bytes[offset + i]) << 8 | UInt16(bytes[offset + i + 1]) }
        func u32(_ i: Int) -> UInt32 { UInt32(u16(i)) << 16 | UInt32(u16(i + 2)) }
        let vihl = bytes[offset], totalLength = u16(2), id = u16(4), fragField = u16(6), proto = bytes[offset + 9]
        let src = u32(12), dst = u32(16)
        guard vihl >> 4 == 4 else { throw .bad(.badIPHeader, "IPv4 header with version \(vihl >> 4)") }
        let headerLength = Int(vihl & 0x0f) * 4
        guard headerLength >= 20 else { throw .bad(.badIPHeader, "IPv4 header length \(headerLength) < 20") }
        guard offset + headerLength <= bytes.count else { throw .bad(.truncatedIP, "IPv4 options cut off") }
        var end = bytes.count
        var cutShort = false
        if totalLength == 0 {
            // TCP segmentation offload captures carry 0; trust the captured length.
        } else if Int(totalLength) < headerLength {
            throw .bad(.badIPHeader, "IPv4 total length \(totalLength) < header length \(headerLength)")
        } else if offset + Int(totalLength) <= bytes.count {
            end = offset + Int(totalLength)   // drop link-layer padding
        } else {
            cutShort = true
        }
        let payload = (offset + headerLength)..<end
        let source = IPAddress.v4(src), destination = IPAddress.v4(dst)
        let moreFragments = fragField & 0x2000 != 0
        let fragmentOffset = Int(fragField & 0x1fff) * 8
        if moreFragments || fragmentOffset != 0 {
            stats.ipFragments += 1
            if cutShort {
                // Never reassemblable; the first fragment still shows what it can (the DNS header, at least).
                guard fragmentOffset == 0 else { throw .bad(.truncatedIP, "IPv4 fragment cut off by the snaplen") }
                return .datagram(IPDatagram(source: source, destination: destination, protocolNumber: proto,
                                            range: payload, isCutShort: true))
            }
            let key = FragmentReassembler.Key(source: source, destination: destination, identification: UInt32(id), protocolNumber: proto)
            switch fragments.add(key: key, offset: fragmentOffset, data: bytes[payload], isLast: !moreFragments, at: timestamp, stats: &stats) {
            case .held: return .fragmentHeld
            case .invalid(let why): throw .bad(.badFragment, why)
            case .complete(let data):
                stats.reassembledDatagrams += 1
                return .datagram(IPDatagram(source: source, destination: destination, protocolNumber: proto,
                                            reassembled: data, range: data.indices, isCutShort: false))
            }
        }
        return .datagram(IPDatagram(source: source, destination: destination, protocolNumber: proto,
                                    range: payload, isCutShort: cutShort))
    }

    mutating func decodeIPv6(_ bytes: [UInt8], at offset: Int, timestamp: Timestamp, stats: inout PacketStats)
        throws(IPLayerError) -> IPDecodeResult
    {
        var c = ByteCursor(bytes, range: offset..<bytes.count)
        // version/class/flow (4), payload length (2), next header (1), hop limit (1), source (16), destination (16).
        guard let first = c.readUInt8(), c.skip(3), let payloadLength = c.readUInt16(), let next = c.readUInt8(),
              c.skip(1), let srcRange = c.readRange(16), let dstRange = c.readRange(16),
              let source = IPAddress(bytes: bytes[srcRange]), let destination = IPAddress(bytes: bytes[dstRange])
        else { throw .bad(.truncatedIP, "IPv6 header cut off") }
        guard first >> 4 == 6 else { throw .bad(.badIPHeader, "IPv6 header with version \(first >> 4)") }
        var end = bytes.count
        var cutShort = false
        let start = offset + 40
        if payloadLength == 0 {
            // Jumbogram or offload capture: trust the captured length.
        } else if start + Int(payloadLength) <= bytes.count {
            end = start + Int(payloadLength)
        } else {
            cutShort = true
        }
        var header = ByteCursor(bytes, range: start..<end)
        var nextHeader = next
        // Walk extension headers (RFC 8200 §4). Bounded: each is at least 8 octets, and we stop at 16.
        for _ in 0..<16 {
            switch nextHeader {
            case 0, 43, 60, 135, 139, 140:   // hop-by-hop, routing, destination options, mobility, HIP, shim6
                guard let n = header.readUInt8(), let len = header.readUInt8(), header.skip(Int(len) * 8 + 6) else {
                    throw .bad(.truncatedIP, "IPv6 extension header \(nextHeader) cut off")
                }
                nextHeader = n
            case 51:                          // AH: length in 4-octet units minus 2
                guard let n = header.readUInt8(), let len = header.readUInt8(), header.skip((Int(len) + 2) * 4 - 2) else {
                    throw .bad(.truncatedIP, "IPv6 AH header cut off")
                }
                nextHeader = n
            case 44:                          // fragment: next (1), reserved (1), offset/flags (2), id (4)
                guard let n = header.readUInt8(), header.skip(1), let field = header.readUInt16(), let id = header.readUInt32() else {
                    throw .bad(.truncatedIP, "IPv6 fragment header cut off")
                }
                stats.ipFragments += 1
                let fragmentOffset = Int(field & 0xfff8)
                let more = field & 1 != 0
                if cutShort {
                    guard fragmentOffset == 0 else { throw .bad(.truncatedIP, "IPv6 fragment cut off by the snaplen") }
                    nextHeader = n
                    continue
                }
                if fragmentOffset == 0 && !more {
                    nextHeader = n            // an atomic fragment (RFC 6946): not really fragmented
                    continue
                }
                let key = FragmentReassembler.Key(source: source, destination: destination, identification: id, protocolNumber: n)
                let data = bytes[header.offset..<end]
                switch fragments.add(key: key, offset: fragmentOffset, data: data, isLast: !more, at: timestamp, stats: &stats) {
                case .held: return .fragmentHeld
                case .invalid(let why): throw .bad(.badFragment, why)
                case .complete(let whole):
                    stats.reassembledDatagrams += 1
                    return .datagram(IPDatagram(source: source, destination: destination, protocolNumber: n,
                                                reassembled: whole, range: whole.indices, isCutShort: false))
                }
            default:
                return .datagram(IPDatagram(
                    source: source, destination: destination, protocolNumber: nextHeader,
                    range: header.offset..<end, isCutShort: cutShort))
            }
        }
        throw .bad(.badIPHeader, "more than 16 IPv6 extension headers")
    }
}

/// IP fragment reassembly (RFC 791 §3.2, RFC 8200 §4.5), bounded in datagrams, bytes and time.
public struct FragmentReassembler {
    public struct Limits: Sendable {
        public var maxDatagrams = 1024
        public var maxBytes = 16 << 20
        public var timeoutSeconds: Int64 = 30
        public init() {}
    }

    struct Key: Hashable {
        var source: IPAddress
        var destination: IPAddress
        var identification: UInt32
        var protocolNumber: UInt8
    }

    enum Outcome {
        case held
        case complete([UInt8])
        case invalid(String)
    }

    private struct Pending {
        var firstSeen: Timestamp
        var data: [UInt8] = []
        /// Sorted, merged byte ranges received so far.
        var covered: [Range<Int>] = []
        var totalLength: Int?
    }

    let limits: Limits
    private var pending: [Key: Pending] = [:]
    private var bytesHeld = 0
    private var lastSweep: Int64 = .min

    init(limits: Limits) { self.limits = limits }

    var count: Int { pending.count }

    mutating func add(key: Key, offset: Int, data: ArraySlice<UInt8>, isLast: Bool, at time: Timestamp, stats: inout PacketStats) -> Outcome {
        sweep(now: time, stats: &stats)
        let end = offset + data.count
        guard end <= 65_535 + 40 else { return .invalid("fragment ends past 65535 octets (offset \(offset))") }
        guard isLast || data.count % 8 == 0 else { return .invalid("non-final fragment of \(data.count) octets is not a multiple of 8") }
        if pending[key] == nil {
            while pending.count >= limits.maxDatagrams || bytesHeld + end > limits.maxBytes, evictOldest(stats: &stats) {}
        }
        var entry = pending[key] ?? Pending(firstSeen: time)
        if isLast {
            if let total = entry.totalLength, total != end {
                drop(key, stats: &stats)
                return .invalid("two last fragments disagree on the length (\(total) vs \(end))")
            }
            entry.totalLength = end
        }
        if entry.data.count < end {
            bytesHeld += end - entry.data.count
            entry.data += [UInt8](repeating: 0, count: end - entry.data.count)
        }
        // Overlaps: the later copy wins (as Linux does for identical retransmissions).
        entry.data.replaceSubrange(offset..<end, with: data)
        entry.covered = FragmentReassembler.merge(entry.covered, offset..<end)
        if let total = entry.totalLength, entry.covered.count == 1, entry.covered[0] == 0..<total {
            let whole = Array(entry.data[0..<total])
            bytesHeld -= entry.data.count
            pending[key] = nil
            return .complete(whole)
        }
        pending[key] = entry
        return .held
    }

    static func merge(_ ranges: [Range<Int>], _ new: Range<Int>) -> [Range<Int>] {
        var out = [Range<Int>]()
        var current = new
        var inserted = false
        for r in ranges {
            if r.upperBound < current.lowerBound {
                out.append(r)
            } else if current.upperBound < r.lowerBound {
                if !inserted { out.append(current); inserted = true }
                out.append(r)
            } else {
                current = min(r.lowerBound, current.lowerBound)..<max(r.upperBound, current.upperBound)
            }
        }
        if !inserted { out.append(current) }
        return out
    }

    /// Drops datagrams older than the timeout, at most once per second of capture time.
    mutating func sweep(now: Timestamp, stats: inout PacketStats) {
        guard now.seconds != lastSweep, !pending.isEmpty else { return }
        lastSweep = now.seconds
        for (key, entry) in pending where now.seconds - entry.firstSeen.seconds > limits.timeoutSeconds {
            drop(key, stats: &stats)
        }
    }

    /// Drops everything (end of input); returns how many incomplete datagrams were lost.
    mutating func flush(stats: inout PacketStats) {
        for key in Array(pending.keys) { drop(key, stats: &stats) }
    }

    private mutating func evictOldest(stats: inout PacketStats) -> Bool {
        guard let oldest = pending.min(by: { $0.value.firstSeen < $1.value.firstSeen })?.key else { return false }
        drop(oldest, stats: &stats)
        return true
    }

    private mutating func drop(_ key: Key, stats: inout PacketStats) {
        guard let entry = pending.removeValue(forKey: key) else { return }
        bytesHeld -= entry.data.count
        stats.fragmentEvictions += 1
    }
}
