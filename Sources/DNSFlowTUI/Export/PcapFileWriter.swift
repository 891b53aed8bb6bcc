import DNSFlowCore

/// Packets as a classic pcap file (the libpcap format, tcpdump.org `pcap-savefile(5)`), nanosecond flavour.
public enum PcapFileWriter {
    /// Magic of a nanosecond-resolution file; written little-endian, readers detect the byte order from it.
    static let nanosecondMagic: UInt32 = 0xa1b2_3c4d
    static let snaplen: UInt32 = 262_144

    /// A classic pcap file (nanosecond magic 0xa1b23c4d, version 2.4, snaplen 262144, LINKTYPE from the packets' link
    /// type: DLT 12/14 → LINKTYPE_RAW 101, others equal), packets in timestamp order, caplen/origlen from
    /// data.count/originalLength. All packets must share one link type: else ExportError "the packets have different
    /// link types (EN10MB, LINUX_SLL2); save them separately".
    public static func encode(_ packets: [CapturedPacket]) throws(ExportError) -> [UInt8] {
        guard let first = packets.first else { throw ExportError("no packets to save") }
        var linkTypes: [LinkType] = []
        for p in packets where !linkTypes.contains(where: { linktype($0) == linktype(p.linkType) }) { linkTypes.append(p.linkType) }
        guard linkTypes.count == 1 else {
            throw ExportError("the packets have different link types (\(linkTypes.map(\.description).joined(separator: ", "))); save them separately")
        }
        var out: [UInt8] = []
        out.reserveCapacity(24 + packets.reduce(0) { $0 + 16 + $1.data.count })
        // File header: magic, version_major, version_minor, thiszone, sigfigs, snaplen, network.
        append32(nanosecondMagic, to: &out)
        append16(2, to: &out)
        append16(4, to: &out)
        append32(0, to: &out)
        append32(0, to: &out)
        append32(snaplen, to: &out)
        append32(linktype(first.linkType), to: &out)
        // A stable sort: packets with equal timestamps keep their order.
        let ordered = packets.enumerated().sorted { ($0.element.timestamp, $0.offset) < ($1.element.timestamp, $1.offset) }.map(\.element)
        for p in ordered {
            // Record header: ts_sec, ts_nsec, incl_len, orig_len (unsigned 32-bit seconds: 1970 to 2106).
            guard let seconds = UInt32(exactly: p.timestamp.seconds) else {
                throw ExportError("a packet's time (\(p.timestamp.iso8601)) is outside what a pcap file can hold (1970 to 2106)")
            }
            append32(seconds, to: &out)
            append32(p.timestamp.nanoseconds, to: &out)
            append32(UInt32(clamping: p.data.count), to: &out)
            append32(UInt32(clamping: max(p.originalLength, p.data.count)), to: &out)
            out += p.data
        }
        return out
    }

    /// The LINKTYPE a file carries for a DLT: DLT_RAW differs between systems (12, 14 on OpenBSD), LINKTYPE_RAW does not.
    static func linktype(_ dlt: LinkType) -> UInt32 {
        dlt == .raw || dlt == .rawOpenBSD ? LinkType.linktypeRaw.rawValue : dlt.rawValue
    }

    static func append16(_ v: UInt16, to out: inout [UInt8]) {
        out += [UInt8(v & 0xff), UInt8(v >> 8)]
    }

    static func append32(_ v: UInt32, to out: inout [UInt8]) {
        out += [UInt8(v & 0xff), UInt8(v >> 8 & 0xff), UInt8(v >> 16 & 0xff), UInt8(v >> 24)]
    }
}
