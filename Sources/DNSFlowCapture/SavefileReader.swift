#if canImport(Glibc)
import Glibc
#endif

/// Reads single packet records back from a capture file by file offset (pcap or pcapng), for rows whose packet
/// bytes are not kept in memory.
///
/// The offset is where the file's stream stood before libpcap read the packet (`ftello` before `pcap_next_ex`,
/// `CapturePoint.fileOffset`). For pcap that is the record header; for pcapng it may be a block before the packet
/// block (an interface description, statistics, name resolution, a new section), which is skipped. A record comes
/// back as libpcap returned it: data cut to the snapshot length, pcap time stamps signed or not as libpcap reads
/// them, pcapng time stamps scaled by the interface's `if_tsresol` and shifted by its `if_tsoffset`. (libpcap also
/// byte-swaps a few link-layer pseudo-headers — USB, NFLOG, SLL CAN — in files of the other byte order; the bytes
/// here are the file's.)
///
/// Every read is a pread(2) on a descriptor of its own, so a reader can work while another thread reads the same
/// file through libpcap's stream. The pcapng section and interface index is built lazily, one pass over the block
/// headers up to the furthest offset asked for, under a lock: a reader may be shared between threads.
public final class SavefileReader: @unchecked Sendable {
    public struct Record: Equatable, Sendable {
        public var data: [UInt8]
        public var originalLength: Int
        public var seconds: Int64
        public var nanoseconds: UInt32
        /// pcapng: the interface the packet block names (each interface is a capture point).
        public var interface: UInt32?

        public init(data: [UInt8], originalLength: Int, seconds: Int64, nanoseconds: UInt32, interface: UInt32? = nil) {
            self.data = data
            self.originalLength = originalLength
            self.seconds = seconds
            self.nanoseconds = nanoseconds
            self.interface = interface
        }
    }

    private let fd: Int32
    private let format: Format
    private let monitor = Monitor()
    /// pcapng only; guarded by `monitor`.
    private var index = BlockIndex()

    /// Opens `path` read-only and reads its file header; nil when it cannot be opened, is not a regular file, or is
    /// not a pcap or pcapng file libpcap would read.
    public init?(path: String) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        var st = stat()
        guard fstat(fd, &st) == 0, st.st_mode & S_IFMT == S_IFREG,
              let format = Self.readFileHeader(fd, size: Int64(st.st_size)) else {
            close(fd)
            return nil
        }
        self.fd = fd
        self.format = format
    }

    deinit { close(fd) }

    /// The packet record that starts at `offset`, or, for pcapng, the first packet block at or after `offset`
    /// (skipping interface description, statistics, name resolution and other non-packet blocks).
    /// nil when the bytes there are not a valid record (bounds, lengths, truncated file) — never traps.
    public func record(at offset: Int64) -> Record? {
        guard offset >= 0, let size = fileSize(), offset < size else { return nil }
        switch format {
        case .pcap(let layout):
            return pcapRecord(at: offset, size: size, layout)
        case .pcapng:
            return monitor.locked { pcapngRecord(at: offset, size: size) }
        }
    }

    // MARK: - Formats

    enum Format {
        case pcap(PcapLayout)
        case pcapng
    }

    /// caplen and len in the record header: exchanged before pcap 2.3, perhaps exchanged in 2.3 (as libpcap).
    enum LengthOrder {
        case normal, exchanged, perhapsExchanged
    }

    struct PcapLayout {
        var bigEndian: Bool
        var nanosecond: Bool
        /// 16, or 24 for Kuznetzov's modified format (ifindex, protocol, pkt_type, pad).
        var recordHeaderSize: Int64
        var snapshot: UInt32
        /// libpcap's sanity limit for the link type: a larger incl_len is a damaged file.
        var maxCaptureLength: UInt32
        var lengths: LengthOrder
    }

    private static let shbType: UInt32 = 0x0A0D_0D0A
    private static let byteOrderMagic: UInt32 = 0x1A2B_3C4D
    /// Non-packet blocks skipped looking for a packet block before giving up.
    private static let maxSkippedBlocks = 64
    /// Larger interface description blocks are taken for damage (libpcap's initial maximum block size).
    private static let maxDescriptionBlock: Int64 = 16 * 1024 * 1024

    /// What kind of capture the file is (nil: not one libpcap reads), and for pcap how its records are laid out.
    static func readFileHeader(_ fd: Int32, size: Int64) -> Format? {
        guard size >= 24, let h = pread(fd, at: 0, count: 24) else { return nil }
        let magic = le32(h, 0)
        if magic == shbType {
            let big: Bool
            switch le32(h, 8) {
            case byteOrderMagic: big = false
            case byteOrderMagic.byteSwapped: big = true
            default: return nil
            }
            let length = Int64(u32(h, 4, big))
            let major = u16(h, 12, big), minor = u16(h, 14, big)
            guard length >= 28, length % 4 == 0, length <= size, major == 1, minor == 0 || minor == 2 else { return nil }
            return .pcapng
        }
        let big: Bool, nanosecond: Bool, modified: Bool
        switch magic {
        case 0xA1B2_C3D4: (big, nanosecond, modified) = (false, false, false)
        case 0xD4C3_B2A1: (big, nanosecond, modified) = (true, false, false)
        case 0xA1B2_3C4D: (big, nanosecond, modified) = (false, true, false)
        case 0x4D3C_B2A1: (big, nanosecond, modified) = (true, true, false)
        case 0xA1B2_CD34: (big, nanosecond, modified) = (false, false, true)
        case 0x34CD_B2A1: (big, nanosecond, modified) = (true, false, true)
        default: return nil
        }
        let major = u16(h, 4, big), minor = u16(h, 6, big)
        let lengths: LengthOrder
        switch (major, minor) {
        case (2, 0...2), (543, 0): lengths = .exchanged
        case (2, 3): lengths = .perhapsExchanged
        case (2, 4): lengths = .normal
        default: return nil
        }
        let linkType = u32(h, 20, big) & 0x03FF_FFFF
        var snapshot = adjustedSnapshot(u32(h, 16, big), linkType: linkType)
        // libpcap: a modified-format Ethernet capture may have been made in cooked mode, with a faked 14-byte header.
        if modified, linkType == 1 { snapshot = min(snapshot, UInt32(Int32.max) - 14) + 14 }
        return .pcap(PcapLayout(
            bigEndian: big, nanosecond: nanosecond, recordHeaderSize: modified ? 24 : 16, snapshot: snapshot,
            maxCaptureLength: maxSnapshot(linkType: linkType), lengths: lengths))
    }

    /// libpcap's `max_snaplen_for_dlt`: D-Bus, EBHSCR and USBPcap may be longer than 256 KiB.
    private static func maxSnapshot(linkType: UInt32) -> UInt32 {
        switch linkType {
        case 231: return 128 * 1024 * 1024
        case 279: return 8 * 1024 * 1024
        case 249: return 1024 * 1024
        default: return 0x40000
        }
    }

    /// libpcap's `pcap_adjust_snapshot`: 0 or more than the maximum means the maximum.
    private static func adjustedSnapshot(_ snaplen: UInt32, linkType: UInt32) -> UInt32 {
        let max = maxSnapshot(linkType: linkType)
        return snaplen == 0 || snaplen > max ? max : snaplen
    }

    // MARK: - pcap

    private func pcapRecord(at offset: Int64, size: Int64, _ f: PcapLayout) -> Record? {
        // Records start after the 24-byte file header.
        guard offset >= 24, size - offset >= f.recordHeaderSize,
              let h = read(at: offset, count: Int(f.recordHeaderSize)) else { return nil }
        var captured = Self.u32(h, 8, f.bigEndian), length = Self.u32(h, 12, f.bigEndian)
        switch f.lengths {
        case .normal: break
        case .perhapsExchanged where captured <= length: break
        case .exchanged, .perhapsExchanged: swap(&captured, &length)
        }
        guard captured <= f.maxCaptureLength, Int64(captured) <= size - offset - f.recordHeaderSize else { return nil }
        // Longer than the file's snapshot length: libpcap keeps the snapshot length and skips the rest.
        guard let data = read(at: offset + f.recordHeaderSize, count: Int(min(captured, f.snapshot))) else { return nil }
        // As libpcap: ts_sec and ts_usec are signed 32-bit numbers in a file of this host's byte order, unsigned in
        // one of the other (its SWAPLONG gives an unsigned value): they differ from 2038 on.
        let seconds = Self.timeField(Self.u32(h, 0, f.bigEndian), bigEndian: f.bigEndian)
        let fraction = Self.timeField(Self.u32(h, 4, f.bigEndian), bigEndian: f.bigEndian) * (f.nanosecond ? 1 : 1000)
        return Record(data: data, originalLength: Int(length), seconds: seconds, nanoseconds: UInt32(clamping: fraction))
    }

    static var hostIsBigEndian: Bool { UInt32(1).bigEndian == 1 }

    /// A pcap record's time field as libpcap reads it.
    @inline(__always) static func timeField(_ value: UInt32, bigEndian: Bool) -> Int64 {
        bigEndian == hostIsBigEndian ? Int64(Int32(bitPattern: value)) : Int64(value)
    }

    // MARK: - pcapng

    /// Time stamp units per second: 10^n or 2^n.
    private enum Resolution {
        case decimal(UInt8)
        case binary(UInt8)
    }

    private struct Interface {
        var snapshot: UInt32
        var resolution: Resolution
        /// `if_tsoffset`: seconds added to every time stamp.
        var offsetSeconds: Int64
        /// Where its description block starts: a packet block may use only interfaces described before it.
        var describedAt: Int64

        func time(_ t: UInt64) -> (seconds: Int64, nanoseconds: UInt32) {
            let whole: UInt64, nanos: UInt64
            switch resolution {
            case .decimal(let n):
                let unit = Self.power10(n)
                whole = t / unit
                let fraction = t % unit
                nanos = n <= 9 ? fraction * Self.power10(9 - n) : fraction / Self.power10(n - 9)
            case .binary(let n):
                whole = n == 0 ? t : t >> n
                let fraction = n == 0 ? 0 : t & ((1 << n) - 1)
                // fraction × 10^9 / 2^n as libpcap computes it, in 64 bits that wrap (for a resolution finer than
                // 2^-34 its times are not the file's; the record read back must be the one analysed).
                nanos = n == 0 ? 0 : (fraction &* 1_000_000_000) >> UInt64(n)
            }
            return (Int64(bitPattern: whole &+ UInt64(bitPattern: offsetSeconds)), UInt32(clamping: nanos))
        }

        static func power10(_ n: UInt8) -> UInt64 {
            var p: UInt64 = 1
            for _ in 0..<n { p &*= 10 }
            return p
        }
    }

    private struct Section {
        var start: Int64
        var bigEndian: Bool
        var interfaces: [Interface] = []
    }

    /// Read-ahead for the sequential index scan, so that small blocks cost no system call each.
    private struct Window {
        var start: Int64 = 0
        var bytes: [UInt8] = []
    }

    /// The sections and interface descriptions from the start of the file up to `frontier`, the first block not yet
    /// scanned. `broken` when the block at the frontier is damaged: libpcap stops there too, so nothing after it
    /// can be placed in a section. A block cut off at the end of the file is looked at again next time (the file may
    /// still be being written).
    private struct BlockIndex {
        var sections: [Section] = []
        var frontier: Int64 = 0
        var broken = false
        var window = Window()
    }

    private static let windowSize = 65536

    private func windowed(at offset: Int64, count: Int) -> [UInt8]? {
        let w = index.window
        if offset >= w.start, offset - w.start <= Int64(w.bytes.count - count) {
            let i = Int(offset - w.start)
            return Array(w.bytes[i..<i + count])
        }
        if count > Self.windowSize { return read(at: offset, count: count) }
        guard let bytes = Self.pread(fd, at: offset, upTo: Self.windowSize) else { return nil }
        index.window = Window(start: offset, bytes: bytes)
        return bytes.count >= count ? Array(bytes[0..<count]) : nil
    }

    /// Scans blocks from the frontier until the frontier is past `offset`, or no further block can be read.
    private func scan(through offset: Int64, size: Int64) {
        while !index.broken, index.frontier <= offset {
            let at = index.frontier
            guard size - at >= 12, let head = windowed(at: at, count: 12) else { return }
            let big: Bool
            if Self.le32(head, 0) == Self.shbType {
                switch Self.le32(head, 8) {
                case Self.byteOrderMagic: big = false
                case Self.byteOrderMagic.byteSwapped: big = true
                default: index.broken = true; return
                }
            } else if let section = index.sections.last {
                big = section.bigEndian
            } else {
                index.broken = true
                return
            }
            let type = Self.u32(head, 0, big)
            let length = Int64(Self.u32(head, 4, big))
            guard length >= 12, length % 4 == 0 else { index.broken = true; return }
            guard length <= size - at else { return }
            // libpcap checks the trailer of every block but the file's first (which it reads as the file's header).
            guard at == 0 || windowed(at: at + length - 4, count: 4).map({ Int64(Self.u32($0, 0, big)) == length }) == true else {
                index.broken = true
                return
            }
            switch type {
            case Self.shbType:
                guard length >= 28, let version = windowed(at: at + 12, count: 2), Self.u16(version, 0, big) == 1 else {
                    index.broken = true
                    return
                }
                index.sections.append(Section(start: at, bigEndian: big))
            case 1:
                guard length <= Self.maxDescriptionBlock, let body = windowed(at: at + 8, count: Int(length - 12)),
                      let interface = Self.interface(body, bigEndian: big, describedAt: at) else {
                    index.broken = true
                    return
                }
                index.sections[index.sections.count - 1].interfaces.append(interface)
            default:
                break
            }
            index.frontier = at + length
        }
    }

    /// An interface description block's body (without block header and trailer); nil when damaged (as libpcap).
    private static func interface(_ body: [UInt8], bigEndian big: Bool, describedAt: Int64) -> Interface? {
        guard body.count >= 8 else { return nil }
        let linkType = UInt32(u16(body, 0, big))
        var interface = Interface(
            snapshot: adjustedSnapshot(u32(body, 4, big), linkType: linkType), resolution: .decimal(6),
            offsetSeconds: 0, describedAt: describedAt)
        var i = 8, sawResolution = false, sawOffset = false
        options: while i < body.count {
            guard body.count - i >= 4 else { return nil }
            let code = u16(body, i, big), length = Int(u16(body, i + 2, big))
            let padded = (length + 3) & ~3
            i += 4
            guard body.count - i >= padded else { return nil }
            switch code {
            case 0:
                guard length == 0 else { return nil }
                break options
            case 9:
                guard length == 1, !sawResolution else { return nil }
                sawResolution = true
                let value = body[i]
                if value & 0x80 != 0 {
                    guard value & 0x7F <= 63 else { return nil }
                    interface.resolution = .binary(value & 0x7F)
                } else {
                    guard value <= 19 else { return nil }
                    interface.resolution = .decimal(value)
                }
            case 14:
                guard length == 8, !sawOffset else { return nil }
                sawOffset = true
                let low = UInt64(u32(body, i, big)), high = UInt64(u32(body, i + 4, big))
                interface.offsetSeconds = Int64(bitPattern: big ? low << 32 | high : high << 32 | low)
            default:
                break
            }
            i += padded
        }
        return interface
    }

    private func section(containing offset: Int64) -> Section? {
        var lo = 0, hi = index.sections.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if index.sections[mid].start <= offset { lo = mid + 1 } else { hi = mid }
        }
        return lo == 0 ? nil : index.sections[lo - 1]
    }

    private func pcapngRecord(at offset: Int64, size: Int64) -> Record? {
        var at = offset
        for _ in 0...Self.maxSkippedBlocks {
            scan(through: at, size: size)
            guard at < index.frontier, size - at >= 12, let head = read(at: at, count: 12),
                  let section = section(containing: at) else { return nil }
            var big = section.bigEndian
            if Self.le32(head, 0) == Self.shbType {
                switch Self.le32(head, 8) {
                case Self.byteOrderMagic: big = false
                case Self.byteOrderMagic.byteSwapped: big = true
                default: return nil
                }
            }
            let type = Self.u32(head, 0, big)
            let length = Int64(Self.u32(head, 4, big))
            guard length >= 12, length % 4 == 0, length <= size - at,
                  let tail = read(at: at + length - 4, count: 4), Int64(Self.u32(tail, 0, big)) == length else { return nil }
            switch type {
            case 6, 3, 2:
                let interfaces = section.interfaces.prefix { $0.describedAt < at }
                return packet(type: type, at: at, length: length, bigEndian: big, interfaces: Array(interfaces))
            default:
                at += length
            }
        }
        return nil
    }

    /// An enhanced (6), simple (3) or obsolete (2) packet block of `length` bytes at `at`.
    private func packet(type: UInt32, at: Int64, length: Int64, bigEndian big: Bool, interfaces: [Interface]) -> Record? {
        let body = length - 12
        if type == 3 {
            // Simple: original length, data. No interface id (the first), no time stamp.
            guard body >= 4, let interface = interfaces.first, let fixed = read(at: at + 8, count: 4) else { return nil }
            let original = Self.u32(fixed, 0, big)
            let captured = min(original, interface.snapshot, UInt32(clamping: body - 4))
            guard let data = read(at: at + 12, count: Int(captured)) else { return nil }
            return Record(data: data, originalLength: Int(original), seconds: 0, nanoseconds: 0, interface: 0)
        }
        // Enhanced: interface id(4); obsolete: interface id(2), drops(2). Then time stamp high, low, captured and
        // original lengths.
        guard body >= 20, let fixed = read(at: at + 8, count: 20) else { return nil }
        let id = type == 6 ? Int(Self.u32(fixed, 0, big)) : Int(Self.u16(fixed, 0, big))
        let captured = Self.u32(fixed, 12, big), original = Self.u32(fixed, 16, big)
        guard id < interfaces.count else { return nil }
        let interface = interfaces[id]
        guard captured <= interface.snapshot, Int64(captured) <= body - 20,
              let data = read(at: at + 28, count: Int(captured)) else { return nil }
        let time = interface.time(UInt64(Self.u32(fixed, 4, big)) << 32 | UInt64(Self.u32(fixed, 8, big)))
        return Record(data: data, originalLength: Int(original), seconds: time.seconds, nanoseconds: time.nanoseconds,
                      interface: UInt32(id))
    }

    // MARK: - Reading

    private func fileSize() -> Int64? {
        var st = stat()
        guard fstat(fd, &st) == 0 else { return nil }
        return Int64(st.st_size)
    }

    private func read(at offset: Int64, count: Int) -> [UInt8]? { Self.pread(fd, at: offset, count: count) }

    /// Exactly `count` bytes at `offset`, or nil.
    private static func pread(_ fd: Int32, at offset: Int64, count: Int) -> [UInt8]? {
        guard let bytes = pread(fd, at: offset, upTo: count), bytes.count == count else { return nil }
        return bytes
    }

    /// Up to `count` bytes at `offset` (fewer at the end of the file), or nil on an error.
    private static func pread(_ fd: Int32, at offset: Int64, upTo count: Int) -> [UInt8]? {
        guard offset >= 0, count >= 0, offset <= Int64.max - Int64(count) else { return nil }
        if count == 0 { return [] }
        var failed = false
        let bytes = [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            var done = 0
            while done < count {
                let n = Glibc.pread(fd, buffer.baseAddress! + done, count - done, off_t(offset + Int64(done)))
                if n > 0 {
                    done += n
                } else if n < 0, errno == EINTR {
                    continue
                } else {
                    failed = n < 0
                    break
                }
            }
            initialized = done
        }
        return failed ? nil : bytes
    }

    private static func le32(_ b: [UInt8], _ i: Int) -> UInt32 {
        UInt32(b[i]) | UInt32(b[i + 1]) << 8 | UInt32(b[i + 2]) << 16 | UInt32(b[i + 3]) << 24
    }

    private static func u32(_ b: [UInt8], _ i: Int, _ bigEndian: Bool) -> UInt32 {
        let v = le32(b, i)
        return bigEndian ? v.byteSwapped : v
    }

    private static func u16(_ b: [UInt8], _ i: Int, _ bigEndian: Bool) -> UInt16 {
        let v = UInt16(b[i]) | UInt16(b[i + 1]) << 8
        return bigEndian ? v.byteSwapped : v
    }
}
