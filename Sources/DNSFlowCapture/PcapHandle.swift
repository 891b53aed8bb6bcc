import CPcap
import DNSFlowCore
#if canImport(Glibc)
import Glibc
#endif

/// One open libpcap handle (file, stdin or interface), closed when released.
/// Read by one thread at a time (the one reading its packets, or the one writing them out): the fields touched for each
/// packet are not checked for overlapping access at run time (`@exclusivity(unchecked)`).
public final class PcapHandle {
    public let name: String
    public let input: Int
    public let isLive: Bool
    let handle: OpaquePointer
    public let linkType: LinkType
    @exclusivity(unchecked) private var frame = 0
    /// Sub-second digits: 6 until a timestamp shows sub-microsecond content.
    @exclusivity(unchecked) private var digits: UInt8 = 6
    /// Set when reading stopped on an error (a file cut off mid-record).
    public private(set) var readError: String?
    /// A regular file's stream, whose position before each read is the record's offset (`CapturePoint.fileOffset`),
    /// so that rows need not keep their packets: `SavefileReader` reads them again. Nil for pipes and interfaces.
    private let seekableFile: UnsafeMutablePointer<FILE>?
    /// Record offsets by arithmetic instead of `ftello` (a system call per packet: about 4 % of the reading thread).
    @exclusivity(unchecked) private var offsets: RecordOffsets?
    /// A pcap file's records read from the file directly, while they are ones libpcap would read the same
    /// (`readsDirectly`); nil for every other input. Never replaced: another thread asks it for `progress`.
    private let records: PcapRecords?
    /// `records`, read without taking a reference (the handle holds one for its life): taking one for each packet
    /// read is two atomic operations a packet.
    private let reader: Unmanaged<PcapRecords>?
    @exclusivity(unchecked) private var readsDirectly: Bool
    /// pcapng: each packet's interface (a capture point of its own).
    @exclusivity(unchecked) private var pcapngInterfaces: PcapngInterfaces?
    /// A pcapng file that describes more than one interface before its first packet: dumpcap writes each
    /// interface's packets as it gets them, so the file is in time order within an interface but not across them
    /// (`MergedSource` puts them back in order).
    @exclusivity(unchecked) public private(set) var hasSeveralInterfaces = false
    /// Whether every packet read here comes from one capture point (`CapturePoint`'s interface and direction): no
    /// pcapng interfaces, and a link layer that names neither (not Linux cooked, nor PKTAP, which may wrap it).
    public var isOnePoint: Bool {
        pcapngInterfaces == nil && linkType != .linuxSLL && linkType != .linuxSLL2 && linkType != .pktap
    }
    /// Packets whose time was outside what dnsflow represents, read as the nearest end of it (`Timestamp`).
    @exclusivity(unchecked) public private(set) var clampedTimestamps = 0

    init(name: String, input: Int, isLive: Bool, handle: OpaquePointer) {
        self.name = name
        self.input = input
        self.isLive = isLive
        self.handle = handle
        self.linkType = LinkType(UInt32(bitPattern: pcap_datalink(handle)))
        var st = stat()
        if !isLive, let file = pcap_file(handle), fstat(fileno(file), &st) == 0, st.st_mode & S_IFMT == S_IFREG,
           ftello(file) >= 0 {
            seekableFile = file
            // pcap only: a pcapng file's blocks vary (interfaces, statistics, options between packets).
            var magic: UInt32 = 0
            if pread(fileno(file), &magic, 4, 0) == 4, magic != 0x0A0D_0D0A {
                offsets = RecordOffsets(snapshot: Int64(pcap_snapshot(handle)))
                records = PcapRecords(descriptor: fileno(file), snapshot: pcap_snapshot(handle),
                                      linkType: UInt32(bitPattern: pcap_datalink(handle)))
            } else {
                pcapngInterfaces = PcapngInterfaces(descriptor: fileno(file))
                hasSeveralInterfaces = (pcapngInterfaces?.leadingInterfaces() ?? 0) > 1
                records = nil
            }
        } else {
            seekableFile = nil
            records = nil
        }
        reader = records.map { Unmanaged.passUnretained($0) }
        readsDirectly = records != nil
    }

    /// The file the packets' offsets refer to (nil when they have none).
    public var rereadablePath: String? { seekableFile == nil || name == "-" ? nil : name }

    deinit {
        if var program = fileFilter { pcap_freecode(&program) }
        pcap_close(handle)
    }

    public var packetsRead: Int { frame }

    /// Opens a pcap or pcapng file, or standard input for `-`, with nanosecond timestamps.
    public static func openFile(_ path: String, input: Int) throws(CaptureError) -> PcapHandle {
        var errbuf = PcapStatus.errorBuffer()
        let handle: OpaquePointer?
        if path == "-" {
            // A descriptor of its own: closing the capture leaves standard input itself open (a descriptor 0 closed
            // while other threads open files would be given to one of them).
            let fd = fcntl(0, F_DUPFD_CLOEXEC, 3)
            guard fd >= 0, let stream = fdopen(fd, "rb") else {
                if fd >= 0 { close(fd) }
                throw .notACapture("standard input", "it is not open")
            }
            handle = pcap_fopen_offline_with_tstamp_precision(stream, UInt32(PCAP_TSTAMP_PRECISION_NANO), &errbuf)
            guard let handle else {
                fclose(stream)
                throw .notACapture("standard input", PcapStatus.string(errbuf))
            }
            return PcapHandle(name: "-", input: input, isLive: false, handle: handle)
        }
        var st = stat()
        guard stat(path, &st) == 0 else {
            if errno == ENOENT { throw .fileNotFound(path) }
            throw .fileUnreadable(path, String(cString: strerror(errno)))
        }
        if st.st_mode & S_IFMT == S_IFDIR { throw .fileUnreadable(path, "is a directory") }
        guard access(path, R_OK) == 0 else { throw .fileUnreadable(path, String(cString: strerror(errno))) }
        handle = pcap_open_offline_with_tstamp_precision(path, UInt32(PCAP_TSTAMP_PRECISION_NANO), &errbuf)
        guard let handle else { throw .notACapture(path, PcapStatus.string(errbuf)) }
        return PcapHandle(name: path, input: input, isLive: false, handle: handle)
    }

    public struct LiveOptions: Sendable {
        public var snaplen: Int32 = 262_144
        /// Kernel buffer in KiB, as tcpdump's -B (default `defaultBufferKiB`).
        public var bufferKiB: Int32?
        /// 16 MiB: half a second of 200,000 DNS packets/s, should the reader thread be kept off the CPU that long.
        public static let defaultBufferKiB: Int32 = 16384
        public var promiscuous = true
        public init() {}
    }

    /// Opens an interface for live capture: `pcap_create`, snaplen, block timeout, buffer, activate.
    public static func openLive(_ device: String, input: Int, options: LiveOptions) throws(CaptureError) -> PcapHandle {
        // An unknown name is that, whatever our privileges (libpcap would say "permission denied" first).
        if device != "any", access("/sys/class/net/\(device)", F_OK) != 0 {
            let names = Interfaces.names()
            if !names.contains(device) { throw .noSuchInterface(device, names) }
        }
        var errbuf = PcapStatus.errorBuffer()
        guard let handle = pcap_create(device, &errbuf) else {
            throw .pcap(device, PcapStatus.string(errbuf))
        }
        pcap_set_snaplen(handle, options.snaplen)
        pcap_set_promisc(handle, options.promiscuous ? 1 : 0)
        // Not immediate mode: on Linux that means TPACKET_V2, one slot per packet sized for the largest possible
        // frame (64 KiB with offloads), so a 2 MiB buffer held 32 packets and a burst of 64 lost half. TPACKET_V3
        // packs packets into blocks that the kernel hands over when full or after the timeout: at most 50 ms late.
        pcap_set_timeout(handle, 50)
        _ = pcap_set_tstamp_precision(handle, Int32(PCAP_TSTAMP_PRECISION_NANO))
        pcap_set_buffer_size(handle, (options.bufferKiB ?? LiveOptions.defaultBufferKiB) * 1024)
        let status = pcap_activate(handle)
        if status < 0 {
            let error = PcapStatus.activationError(status, device: device, handle: handle)
            pcap_close(handle)
            throw error
        }
        // On `any`, prefer LINUX_SLL2: it keeps the interface index of every packet.
        var list: UnsafeMutablePointer<Int32>?
        let n = pcap_list_datalinks(handle, &list)
        if n > 0, let list {
            if (0..<Int(n)).contains(where: { list[$0] == 276 }) { pcap_set_datalink(handle, 276) }
            pcap_free_datalinks(list)
        }
        return PcapHandle(name: device, input: input, isLive: true, handle: handle)
    }

    /// Compiles and installs a BPF filter; libpcap's own message on failure.
    /// A regular file is filtered here, record by record (`pcap_offline_filter`), rather than by libpcap: libpcap
    /// would skip the records the filter rejects, and the stream's position before a read would then be the first
    /// skipped record's, not the packet's (so Detail and `w` read the wrong record back). Frames keep their numbers
    /// in the file, as Wireshark shows them.
    public func setFilter(_ expression: String) throws(CaptureError) {
        var program = bpf_program()
        guard pcap_compile(handle, &program, expression, 1, PCAP_NETMASK_UNKNOWN) == 0 else {
            throw .badFilter(expression, PcapStatus.lastError(handle))
        }
        if seekableFile != nil {
            if var old = fileFilter { pcap_freecode(&old) }
            fileFilter = program
            return
        }
        defer { pcap_freecode(&program) }
        guard pcap_setfilter(handle, &program) == 0 else {
            throw .badFilter(expression, PcapStatus.lastError(handle))
        }
    }

    @exclusivity(unchecked) private var fileFilter: bpf_program?

    public enum ReadResult {
        case packet(CapturedPacket)
        /// Live: nothing arrived within the timeout.
        case idle
        case end
    }

    /// The next packet. A read error ends the input and is kept in `readError`. Once ended, it stays ended: libpcap,
    /// asked again after an error, reads on from inside the damage.
    public func next() -> ReadResult {
        if ended { return .end }
        let result = read()
        if case .end = result { ended = true }
        return result
    }

    @exclusivity(unchecked) private var ended = false

    @inline(__always) private func read() -> ReadResult {
        if readsDirectly, let packet = nextRecord() { return packet }
        while true {
            var header: UnsafeMutablePointer<pcap_pkthdr>?
            var data: UnsafePointer<UInt8>?
            var offset: Int64 = -1
            if let file = seekableFile { offset = offsets?.next(frame: frame + 1) { Int64(ftello(file)) } ?? Int64(ftello(file)) }
            let status = pcap_next_ex(handle, &header, &data)
            switch status {
            case 1:
                guard let header, let data else { return .idle }
                frame += 1
                let h = header.pointee
                offsets?.read(at: offset, caplen: Int64(h.caplen))
                // A record the file's filter rejects: on to the next (its frame number counted).
                if var program = fileFilter, pcap_offline_filter(&program, header, data) == 0 { continue }
                let interface = offset >= 0 ? pcapngInterfaces?.interfaceID(at: offset) : nil
                return .packet(packet(seconds: Int64(h.ts.tv_sec), fraction: Int64(h.ts.tv_usec), data: data,
                                      capturedLength: Int(h.caplen), originalLength: Int(h.len), interface: interface,
                                      offset: offset))
            case 0:
                return .idle
            case PCAP_ERROR_BREAK:
                return .end
            default:
                if !breakRequested { readError = PcapStatus.lastError(handle) }
                return .end
            }
        }
    }

    /// The next packet from `records`; nil when libpcap is to read on (the stream moved to where `records` stopped).
    private func nextRecord() -> ReadResult? {
        while readsDirectly, let reader {
            // As libpcap's read loop: a break asked for ends the input before the next record.
            if breakRequested { return .end }
            switch reader._withUnsafeGuaranteedRef({ $0.next() }) {
            case .record(let r):
                frame += 1
                let data = r.data.baseAddress!.assumingMemoryBound(to: UInt8.self)
                if var program = fileFilter {
                    var header = pcap_pkthdr(ts: timeval(tv_sec: Int(r.seconds), tv_usec: Int(r.fraction)),
                                             caplen: r.capturedLength, len: r.originalLength)
                    if pcap_offline_filter(&program, &header, data) == 0 { continue }
                }
                return .packet(packet(seconds: r.seconds, fraction: r.fraction, data: data,
                                      capturedLength: Int(r.capturedLength), originalLength: Int(r.originalLength),
                                      interface: nil, offset: r.offset))
            case .end:
                return .end
            case .handOver(let offset):
                handOver(at: offset)
            }
        }
        return nil
    }

    /// From here on every record is read through libpcap (where reading directly left off).
    func readThroughLibpcap() {
        if readsDirectly, let reader = records { handOver(at: reader.offset) }
    }

    /// Whether records are read from the file directly (`PcapRecords`) for now.
    var readsRecordsDirectly: Bool { readsDirectly }

    /// From here on libpcap reads the file, from `offset` (a record's start).
    private func handOver(at offset: Int64) {
        readsDirectly = false
        records?.handOver()
        guard let file = seekableFile else { return }
        fseeko(file, off_t(offset), SEEK_SET)
        offsets = RecordOffsets(snapshot: Int64(pcap_snapshot(handle)))
    }

    /// A packet read: `fraction` in nanoseconds as libpcap's `tv_usec` holds it.
    private func packet(seconds: Int64, fraction: Int64, data: UnsafePointer<UInt8>, capturedLength: Int,
                        originalLength: Int, interface: UInt32?, offset: Int64) -> CapturedPacket {
        let nanos = UInt32(clamping: fraction)
        if digits < 9, nanos % 1000 != 0 { digits = 9 }
        var clamped = false
        let time = Timestamp(capturedSeconds: seconds, nanoseconds: nanos, digits: digits, clamped: &clamped)
        if clamped { clampedTimestamps += 1 }
        let bytes = Array(UnsafeBufferPointer(start: data, count: capturedLength))
        return CapturedPacket(
            timestamp: time, linkType: linkType, data: bytes, originalLength: originalLength,
            point: CapturePoint(input: input, frame: frame, interfaceIndex: interface, fileOffset: offset))
    }

    /// Copies every packet read to a pcap file (`-`: standard output), flushed packet by packet — a stream another
    /// dnsflow (or Wireshark) reads as it comes: `dnsflow -i any -w -` in a pod, read by `dnsflow -r -` on a laptop.
    /// Stops at `limit` packets, when `stop` says so, at the end of a file, or when the output cannot be written (its
    /// reader went away). Returns the packets written.
    public func write(to path: String, limit: Int?, stop: () -> Bool) throws(CaptureError) -> Int {
        readThroughLibpcap()
        guard let dumper = pcap_dump_open(handle, path) else {
            throw .pcap(path == "-" ? "standard output" : path, PcapStatus.lastError(handle))
        }
        defer { pcap_dump_close(dumper) }
        let user = UnsafeMutablePointer<UInt8>(dumper)
        var written = 0
        while !stop(), limit.map({ written < $0 }) ?? true {
            var header: UnsafeMutablePointer<pcap_pkthdr>?
            var data: UnsafePointer<UInt8>?
            let status = pcap_next_ex(handle, &header, &data)
            if status == 1, let header, let data {
                frame += 1
                if var program = fileFilter, pcap_offline_filter(&program, header, data) == 0 { continue }
                pcap_dump(user, header, data)
                guard pcap_dump_flush(dumper) == 0 else { break }
                written += 1
            } else if status == 0 {
                continue
            } else {
                if status != PCAP_ERROR_BREAK, !breakRequested {
                    readError = PcapStatus.lastError(handle)
                }
                break
            }
        }
        return written
    }

    /// Reads without waiting (live): `next()` returns `.idle` at once when nothing is there, so an interface can
    /// poll the capture and the keyboard in turn.
    public func setNonblocking() {
        var errbuf = PcapStatus.errorBuffer()
        _ = pcap_setnonblock(handle, 1, &errbuf)
    }

    /// After poll(2) said POLLERR on a live capture's socket: the error the kernel left there (ENETDOWN when the
    /// interface went down) ends the input as a read error does. Whether there was one.
    func takeSocketError() -> Bool {
        let fd = selectableDescriptor
        guard fd >= 0 else { return false }
        var code: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        guard getsockopt(fd, SOL_SOCKET, SO_ERROR, &code, &length) == 0, code != 0 else { return false }
        // libpcap's own words for it in blocking mode (pcap-linux.c), which non-blocking reads never reach.
        readError = code == ENETDOWN ? "The interface went down" : String(cString: strerror(code))
        return true
    }

    /// The descriptor to poll(2) for a live capture's packets (-1 where libpcap has none).
    public var selectableDescriptor: Int32 { pcap_get_selectable_fd(handle) }

    /// A capture read from a pipe or a FIFO (standard input, ssh, the kubectl plugin's stream): packets come as they
    /// are captured elsewhere, so it is read like a live capture (`LiveReader`), not in batches to its end.
    public var isStream: Bool {
        guard !isLive, seekableFile == nil, let file = pcap_file(handle) else { return false }
        var st = stat()
        return fstat(fileno(file), &st) == 0 && (st.st_mode & S_IFMT == S_IFIFO || st.st_mode & S_IFMT == S_IFSOCK)
    }

    /// For a stream: whether a packet can be read now without waiting; and its descriptor, to wait on.
    func streamReady() -> Bool { pcap_file(handle).map { dnsflow_stream_ready($0) != 0 } ?? true }
    var streamDescriptor: Int32 { pcap_file(handle).map { fileno($0) } ?? -1 }

    /// How far through a capture file reading has got (0...1); nil for a pipe or a live capture.
    public var progress: Double? {
        guard !isLive, let file = pcap_file(handle) else { return nil }
        var st = stat()
        guard fstat(fileno(file), &st) == 0, (st.st_mode & S_IFMT) == S_IFREG, st.st_size > 0 else { return nil }
        let direct = records?.readOffset ?? -1
        let offset = direct >= 0 ? direct : Int64(ftello(file))
        guard offset >= 0 else { return nil }
        return min(1, Double(offset) / Double(st.st_size))
    }

    /// Interrupts a blocking read (safe from a signal handler). A read that then fails (a file or pipe read cut by
    /// the signal: EINTR) ends the input as asked, not as a damaged capture.
    public func breakLoop() {
        breakRequested = true
        pcap_breakloop(handle)
    }

    nonisolated(unsafe) private var breakRequested = false

    public struct KernelStats: Sendable {
        public var received: UInt32
        public var dropped: UInt32
        public var interfaceDropped: UInt32
    }

    /// `pcap_stats` for a live capture.
    public func kernelStats() -> KernelStats? {
        guard isLive else { return nil }
        var s = pcap_stat()
        guard pcap_stats(handle, &s) == 0 else { return nil }
        return KernelStats(received: s.ps_recv, dropped: s.ps_drop, interfaceDropped: s.ps_ifdrop)
    }
}

/// Where each record of a pcap file starts, without asking the stream: the previous record's offset, plus its
/// record header, plus its captured octets. libpcap reads every record whole, so this holds as long as the captured
/// length it reports is the length in the file — below the file's snapshot length (above it, libpcap reports the
/// snapshot length and skips the rest) — and no filter makes it skip records. The header's size (16 octets; 24 in
/// some variants) is learnt from two consecutive positions, and the arithmetic is checked against the stream every
/// 4,096 records: a disagreement turns it off for good.
struct RecordOffsets {
    let snapshot: Int64
    private var headerSize: Int64?
    /// The offset of the record after the last one read, when it is known for sure.
    private var expected: Int64?
    private var last: (offset: Int64, caplen: Int64)?
    private var disabled = false

    init(snapshot: Int64) { self.snapshot = snapshot }

    /// The offset of the record about to be read (the `frame`-th); `ask` reads the stream's position.
    mutating func next(frame: Int, ask: () -> Int64) -> Int64 {
        guard !disabled, let expected else {
            let actual = ask()
            // Two records in a row, the first fully captured: the header's size is the gap beyond its octets.
            if headerSize == nil, let last, last.caplen < snapshot, actual - last.offset - last.caplen > 0 {
                headerSize = actual - last.offset - last.caplen
            }
            return actual
        }
        if frame % 4096 == 0, ask() != expected {
            disabled = true
            return ask()
        }
        return expected
    }

    /// A record was read at `offset` with `caplen` octets reported.
    mutating func read(at offset: Int64, caplen: Int64) {
        last = (offset, caplen)
        if let headerSize, offset >= 0, caplen < snapshot { expected = offset + headerSize + caplen } else { expected = nil }
    }
}

