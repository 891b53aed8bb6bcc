import Glibc

/// Which interface of a pcapng file each packet came from. libpcap reads pcapng but does not say which interface
/// description a packet block names; a node's capture of several interfaces in one file (`dumpcap -i a -i b`) needs
/// it, because each interface is a capture point: a message seen on two of them is one message seen twice.
///
/// Reads the packet block at the record's offset (the stream position before libpcap read it; it may point at
/// interface descriptions or other blocks before the packet block, which are walked over) through a read-ahead window,
/// so that a packet costs no system call of its own.
struct PcapngInterfaces {
    private let descriptor: Int32
    private var bigEndian = false
    private var window: [UInt8] = []
    private var windowStart: Int64 = 0
    private static let windowSize = 256 << 10
    /// Blocks walked at most from one offset to its packet block (a damaged file cannot make it loop).
    private static let maxBlocks = 64

    /// For the file open on `descriptor` (read with `pread`: its position is left alone); nil unless it is pcapng.
    init?(descriptor: Int32) {
        self.descriptor = descriptor
        guard let magic = read32(at: 0, bigEndian: false), magic == 0x0A0D_0D0A, let order = read32(at: 8, bigEndian: false)
        else { return nil }
        bigEndian = order != 0x1A2B_3C4D
    }

    /// How many interfaces the file describes before its first packet (dumpcap describes every interface it captures
    /// on there).
    mutating func leadingInterfaces() -> Int {
        var position: Int64 = 0, count = 0
        for _ in 0..<Self.maxBlocks {
            guard let type = read32(at: position, bigEndian: bigEndian),
                  let length = read32(at: position + 4, bigEndian: bigEndian), length >= 12, length % 4 == 0
            else { break }
            if type == 1 { count += 1 } else if type != 0x0A0D_0D0A { break }
            position += Int64(length)
        }
        return count
    }

    /// The interface id of the first packet block at or after `offset`; nil when none is found or the file is damaged.
    mutating func interfaceID(at offset: Int64) -> UInt32? {
        var position = offset
        for _ in 0..<Self.maxBlocks {
            guard let type = read32(at: position, bigEndian: bigEndian) else { return nil }
            if type == 0x0A0D_0D0A {
                // A new section: its byte order applies from here on.
                guard let order = read32(at: position + 8, bigEndian: false) else { return nil }
                bigEndian = order != 0x1A2B_3C4D
            }
            guard let length = read32(at: position + 4, bigEndian: bigEndian), length >= 12, length % 4 == 0 else { return nil }
            switch type {
            case 6: return read32(at: position + 8, bigEndian: bigEndian)          // enhanced packet block
            case 3: return 0                                                        // simple packet block: the first
            case 2:                                                                 // obsolete packet block: 16 bits
                return read32(at: position + 8, bigEndian: bigEndian).map { bigEndian ? $0 >> 16 : $0 & 0xFFFF }
            default: position += Int64(length)
            }
        }
        return nil
    }

    private mutating func read32(at offset: Int64, bigEndian: Bool) -> UInt32? {
        guard offset >= 0 else { return nil }
        if offset < windowStart || offset + 4 > windowStart + Int64(window.count) {
            var bytes = [UInt8](repeating: 0, count: Self.windowSize)
            let n = bytes.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, Self.windowSize, off_t(offset)) }
            guard n >= 4 else { return nil }
            bytes.removeLast(Self.windowSize - n)
            window = bytes
            windowStart = offset
        }
        let i = Int(offset - windowStart)
        let b0 = UInt32(window[i]), b1 = UInt32(window[i + 1]), b2 = UInt32(window[i + 2]), b3 = UInt32(window[i + 3])
        return bigEndian ? b0 << 24 | b1 << 16 | b2 << 8 | b3 : b3 << 24 | b2 << 16 | b1 << 8 | b0
    }
}
