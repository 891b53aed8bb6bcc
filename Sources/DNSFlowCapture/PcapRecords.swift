#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// A pcap file's records read straight from the file in large blocks, each given as libpcap's `pcap_next_ex` would
/// give it — for a file read from start to end, where libpcap copies every record through its stream's buffer and
/// then its own.
///
/// Only what it reads exactly as libpcap does: a pcap 2.4 file with 16-octet record headers, in either byte order and
/// of either time stamp precision (read as nanoseconds), whose link type libpcap does not rewrite after reading (the
/// pflog, USB, NFLOG and cooked CAN pseudo-headers of a file of the other byte order, and memory-mapped USB lengths). At the
/// first record it would not read the same — a record longer than the file's snapshot length, or cut off by the end
/// of the file, or a read error — it stops and says where (`handOver`): libpcap reads on from there, with its own
/// messages for whatever is wrong.
///
/// Reads with pread(2) on the stream's descriptor, leaving the stream where libpcap left it after the file header.
final class PcapRecords {
    struct Record {
        var seconds: Int64
        /// Nanoseconds as libpcap's `tv_usec` holds them (a microsecond file's scaled up; never checked for range).
        var fraction: Int64
        var capturedLength: UInt32
        var originalLength: UInt32
        /// Valid until the next call.
        var data: UnsafeRawBufferPointer
        /// Where the record's header starts in the file.
        var offset: Int64
    }

    enum Next {
        case record(Record)
        case end
        /// libpcap is to read on from this offset (the start of a record it may not read as this reader would).
        case handOver(at: Int64)
    }

    private let descriptor: Int32
    private let swapped: Bool
    /// The file's byte order (the time fields are read as libpcap reads them in it).
    private let bigEndian: Bool
    private let scale: Int64
    private let snapshot: UInt32
    private var buffer: UnsafeMutableRawBufferPointer
    /// The file offset of `buffer`'s first octet, how many octets it holds, and where the next record starts in it.
    private var bufferStart: Int64 = 24
    private var filled = 0
    private var position = 0
    private var atEnd = false
    /// A read failed: libpcap is to read there again, and say why.
    private var failed = false
    /// How far the file has been read, for another thread to show progress by (`PcapHandle.progress`).
    private let readUpTo = Atomic<Int64>(24)

    static let blockSize = 1 << 20
    private static let headerSize = 16

    /// nil when the file is not one it reads as libpcap does. `snapshot`: libpcap's (`pcap_snapshot`, adjusted for the
    /// link type); `linkType`: libpcap's DLT (`pcap_datalink`).
    init?(descriptor: Int32, snapshot: Int32, linkType: UInt32) {
        // The file header as `SavefileReader` reads it (libpcap's reading of it): 2.4 (earlier versions may have caplen
        // and len exchanged), 16-octet record headers.
        var st = stat()
        guard snapshot > 0, fstat(descriptor, &st) == 0,
              case .pcap(let layout) = SavefileReader.readFileHeader(descriptor, size: Int64(st.st_size)),
              layout.recordHeaderSize == 16, layout.lengths == .normal else { return nil }
        // In this host's byte order, or the other (as libpcap tells them).
        swapped = layout.bigEndian != SavefileReader.hostIsBigEndian
        // libpcap's `pcap_post_process`: pseudo-headers swapped in a file of the other byte order (pflog, cooked,
        // USB, NFLOG), and memory-mapped USB lengths mended.
        guard !(swapped ? [113, 117, 189, 220, 239, 276] : [220]).contains(linkType) else { return nil }
        self.descriptor = descriptor
        self.snapshot = UInt32(snapshot)
        bigEndian = layout.bigEndian
        scale = layout.nanosecond ? 1 : 1000
        buffer = .allocate(byteCount: Self.blockSize, alignment: 8)
    }

    deinit { buffer.deallocate() }

    /// Where the next record starts in the file.
    var offset: Int64 { bufferStart + Int64(position) }

    /// The octets the reader holds room for.
    var capacity: Int { buffer.count }

    /// How far the file has been read (from any thread); -1 once handed over.
    var readOffset: Int64 { readUpTo.load(ordering: .relaxed) }

    /// libpcap reads on: the buffer is let go, and `readOffset` says so.
    func handOver() {
        readUpTo.store(-1, ordering: .relaxed)
        buffer.deallocate()
        buffer = .allocate(byteCount: 0, alignment: 8)
        (filled, position, atEnd) = (0, 0, true)
    }

    func next() -> Next {
        let start = offset
        guard ensure(Self.headerSize) else {
            return filled == position && atEnd && !failed ? .end : .handOver(at: start)
        }
        let header = UnsafeRawBufferPointer(rebasing: buffer[position..<position + Self.headerSize])
        func field(_ at: Int) -> UInt32 {
            let v = header.loadUnaligned(fromByteOffset: at, as: UInt32.self)
            return swapped ? v.byteSwapped : v
        }
        let captured = field(8), original = field(12)
        let seconds = SavefileReader.timeField(field(0), bigEndian: bigEndian)
        let fraction = SavefileReader.timeField(field(4), bigEndian: bigEndian) * scale
        // (`ensure` may move the buffer: the header is not read after it.)
        guard captured <= snapshot, ensure(Self.headerSize + Int(captured)) else { return .handOver(at: start) }
        let data = position + Self.headerSize
        position = data + Int(captured)
        return .record(Record(seconds: seconds, fraction: fraction, capturedLength: captured, originalLength: original,
                              data: UnsafeRawBufferPointer(rebasing: buffer[data..<position]), offset: start))
    }

    /// Whether `count` octets from `position` are in the buffer, reading more of the file when they are not (false: the
    /// file ends first, or cannot be read).
    private func ensure(_ count: Int) -> Bool {
        if filled - position >= count { return true }
        if atEnd { return false }
        // What is left moves to the front; the buffer grows for a record larger than it.
        let left = filled - position
        if position > 0 {
            if left > 0 { buffer.baseAddress!.copyMemory(from: buffer.baseAddress! + position, byteCount: left) }
            bufferStart += Int64(position)
            position = 0
            filled = left
        }
        if count > buffer.count {
            // Not beyond what the file holds (a damaged length may claim gigabytes): libpcap then says it is cut off.
            var st = stat()
            guard fstat(descriptor, &st) == 0, Int64(st.st_size) - bufferStart >= Int64(count) else { return false }
            let size = (count + Self.blockSize - 1) / Self.blockSize * Self.blockSize
            let larger = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 8)
            larger.baseAddress!.copyMemory(from: buffer.baseAddress!, byteCount: filled)
            buffer.deallocate()
            buffer = larger
        }
        while filled < buffer.count {
            let n = pread(descriptor, buffer.baseAddress! + filled, buffer.count - filled, off_t(bufferStart) + off_t(filled))
            if n < 0, errno == EINTR { continue }
            guard n > 0 else {
                atEnd = true
                failed = n < 0
                break
            }
            filled += n
            if filled - position >= count { break }
        }
        readUpTo.store(bufferStart + Int64(filled), ordering: .relaxed)
        return filled - position >= count
    }
}
