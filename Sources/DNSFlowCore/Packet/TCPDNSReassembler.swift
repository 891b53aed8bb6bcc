/// DNS over TCP (RFC 1035 §4.2.2, RFC 7766): each message is prefixed by a 2-octet length. One segment
/// may carry several messages (glibc `use-vc` sends A and AAAA together) and one message may span many
/// segments. This follows each direction of each connection by sequence number: in-order data is framed
/// at once, out-of-order segments wait, retransmitted bytes are dropped, and a stream that begins without
/// its SYN (or loses bytes in a gap) is resynchronised on the first offset where a whole, well-formed DNS
/// message follows its length.
///
/// State is bounded: at most `maxStreams` directions, `maxBufferedBytes` each; idle ones expire.
public struct TCPDNSReassembler {
    public struct Limits: Sendable {
        public var maxStreams = 4096
        public var maxBufferedBytes = 256 << 10
        public var idleTimeoutSeconds: Int64 = 120
        public init() {}
    }

    /// One direction of one connection as one capture point sees it: a node's `-i any` (or a pcapng with several
    /// interfaces, or merged captures) sees each segment once per interface it crosses, and each copy is its own
    /// stream — a second copy is another sighting of the same messages, not a retransmission.
    struct StreamKey: Hashable {
        var source: Endpoint
        var destination: Endpoint
        var input: Int
        var interfaceIndex: UInt32?
        var packetType: UInt16?

        init(_ s: Segment) {
            source = s.source
            destination = s.destination
            input = s.point.input
            interfaceIndex = s.point.interfaceIndex
            packetType = s.point.packetType
        }
    }

    public struct Segment {
        var source: Endpoint
        var destination: Endpoint
        var sequence: UInt32
        var isSYN: Bool
        var isFIN: Bool
        var isRST: Bool
        var payload: ArraySlice<UInt8>
        var timestamp: Timestamp
        var point: CapturePoint
    }

    /// One direction of one connection.
    struct Stream {
        var nextSequence: UInt32
        /// Unframed bytes; `head` is where the next length prefix starts.
        var buffer: [UInt8] = []
        var head = 0
        /// False until a message boundary is known (no SYN seen, or after a gap).
        var isSynchronised: Bool
        /// Out-of-order segments by sequence number.
        var waiting: [UInt32: [UInt8]] = [:]
        var waitingBytes = 0
        var lastSeen: Timestamp
        var lastPoint: CapturePoint
        /// The last few sequence ranges given up on (start, end): a segment arriving late into one is
        /// framed on its own instead of being taken for a retransmission.
        var skipped: [(start: UInt32, end: UInt32)] = []

        var buffered: Int { buffer.count - head }
    }

    public let limits: Limits
    private var streams: [StreamKey: Stream] = [:]
    private var lastSweep: Int64 = .min

    public init(limits: Limits = .init()) { self.limits = limits }

    public var streamCount: Int { streams.count }

    mutating func process(_ s: Segment, stats: inout PacketStats, emit: (DNSPayload) -> Void) {
        stats.tcpSegments += 1
        sweep(now: s.timestamp, stats: &stats)
        let key = StreamKey(s)
        if s.isRST {
            streams[key] = nil
            return
        }
        if s.isSYN {
            ensureRoom(for: key, stats: &stats)
            streams[key] = Stream(nextSequence: s.sequence &+ 1, isSynchronised: true, lastSeen: s.timestamp, lastPoint: s.point)
        }
        if !s.payload.isEmpty {
            if streams[key] == nil {
                // Mid-stream: no SYN in the capture. Start here, and find the first message boundary.
                ensureRoom(for: key, stats: &stats)
                streams[key] = Stream(nextSequence: s.sequence, isSynchronised: false, lastSeen: s.timestamp, lastPoint: s.point)
            }
            let dataSequence = s.isSYN ? s.sequence &+ 1 : s.sequence
            accept(key: key, sequence: dataSequence, payload: s.payload, segment: s, stats: &stats, emit: emit)
        }
        if s.isFIN, streams[key] != nil {
            // Nothing more comes in this direction: whatever still waits is behind a gap for good.
            while streams[key]?.waiting.isEmpty == false {
                skipGap(key: key, stats: &stats)
                frame(key: key, stats: &stats, emit: emit)
            }
            streams[key] = nil
        }
    }

    /// End of input: frame what can be framed past any gaps, then drop all state.
    mutating func finish(stats: inout PacketStats, emit: (DNSPayload) -> Void) {
        for key in Array(streams.keys) {
            while streams[key]?.waiting.isEmpty == false {
                skipGap(key: key, stats: &stats)
                frame(key: key, stats: &stats, emit: emit)
            }
        }
        streams.removeAll()
    }

    private mutating func accept(
        key: StreamKey, sequence: UInt32, payload: ArraySlice<UInt8>, segment: Segment,
        stats: inout PacketStats, emit: (DNSPayload) -> Void
    ) {
        // Taken out of the table while it changes: a copy left there would make every append copy the whole buffer
        // (one-octet segments cost the buffer's size each). Every path below puts it back.
        guard var stream = streams.removeValue(forKey: key) else { return }
        stream.lastSeen = segment.timestamp
        stream.lastPoint = segment.point
        let delta = Int32(bitPattern: sequence &- stream.nextSequence)
        if delta > 0 {
            // A hole before this segment: hold it until the hole fills or we give up on it.
            stats.tcpOutOfOrder += 1
            if stream.waiting[sequence] == nil || stream.waiting[sequence]!.count < payload.count {
                stream.waitingBytes += payload.count - (stream.waiting[sequence]?.count ?? 0)
                stream.waiting[sequence] = Array(payload)
            }
            streams[key] = stream
            // Skip the hole at once when waiting cannot help: the buffer is between messages and what
            // follows the hole is a whole message (a capture that lost segments, as tshark would show it);
            // or when the budget is spent.
            let atBoundary = stream.isSynchronised && stream.buffered == 0
            if (atBoundary && startsWithWholeMessage(earliestWaiting(stream)))
                || stream.waitingBytes + stream.buffered > limits.maxBufferedBytes || stream.waiting.count > 256
            {
                skipGap(key: key, stats: &stats)
                frame(key: key, stats: &stats, emit: emit)
            }
            return
        }
        let overlap = -Int(delta)  // (Int(-delta) overflows for a segment exactly 2^31 behind)
        if overlap >= payload.count {
            if stream.skipped.contains(where: { TCPDNSReassembler.contains($0, sequence, payload.count) }) {
                // Late into a range we gave up on: frame it on its own.
                streams[key] = stream
                frameAlone(payload, key: key, emit: emit)
                return
            }
            stats.tcpRetransmissions += 1
            streams[key] = stream
            return
        }
        if overlap > 0 { stats.tcpRetransmissions += 1 }
        stream.buffer.append(contentsOf: payload.dropFirst(overlap))
        stream.nextSequence = sequence &+ UInt32(payload.count)
        drainWaiting(&stream, stats: &stats)
        streams[key] = stream
        frame(key: key, stats: &stats, emit: emit)
    }

    /// Moves waiting segments that have become contiguous into the buffer.
    private func drainWaiting(_ stream: inout Stream, stats: inout PacketStats) {
        var progressed = true
        while progressed, !stream.waiting.isEmpty {
            progressed = false
            for (seq, data) in stream.waiting {
                let delta = Int32(bitPattern: seq &- stream.nextSequence)
                guard delta <= 0 else { continue }
                stream.waiting[seq] = nil
                stream.waitingBytes -= data.count
                let overlap = -Int(delta)  // (Int(-delta) overflows for a segment exactly 2^31 behind)
                if overlap < data.count {
                    stream.buffer.append(contentsOf: data.dropFirst(overlap))
                    stream.nextSequence = seq &+ UInt32(data.count)
                }
                progressed = true
            }
        }
    }

    /// Gives up on the bytes missing before the earliest waiting segment: counts a gap, drops the
    /// partial message they belonged to, and resynchronises after them.
    private mutating func skipGap(key: StreamKey, stats: inout PacketStats) {
        guard var stream = streams[key], !stream.waiting.isEmpty else { return }
        let earliest = stream.waiting.keys.min { Int32(bitPattern: $0 &- stream.nextSequence) < Int32(bitPattern: $1 &- stream.nextSequence) }!
        stats.tcpGaps += 1
        stream.skipped.append((start: stream.nextSequence, end: earliest))
        if stream.skipped.count > 8 { stream.skipped.removeFirst() }
        stream.buffer.removeAll(keepingCapacity: true)
        stream.head = 0
        stream.nextSequence = earliest
        stream.isSynchronised = false
        drainWaiting(&stream, stats: &stats)
        streams[key] = stream
    }

    /// The waiting bytes that follow the hole without a further hole (up to one maximal message).
    private func earliestWaiting(_ stream: Stream) -> [UInt8] {
        guard var next = stream.waiting.keys.min(by: {
            Int32(bitPattern: $0 &- stream.nextSequence) < Int32(bitPattern: $1 &- stream.nextSequence)
        }) else { return [] }
        var run: [UInt8] = []
        while run.count < 65_537 {
            // The segment that starts at or covers `next`, reaching furthest.
            var best: (UInt32, [UInt8])?
            for (seq, data) in stream.waiting {
                let start = Int32(bitPattern: next &- seq)
                guard start >= 0, Int(start) < data.count else { continue }
                if best == nil || data.count - Int(start) > best!.1.count { best = (seq, Array(data[Int(start)...])) }
            }
            guard let (_, more) = best else { break }
            run += more
            next = next &+ UInt32(more.count)
        }
        return run
    }

    /// A length prefix, then that many octets that decode as a well-formed DNS message.
    private func startsWithWholeMessage(_ bytes: [UInt8]) -> Bool {
        guard bytes.count >= 14 else { return false }
        let length = Int(bytes[0]) << 8 | Int(bytes[1])
        guard length >= 12, 2 + length <= bytes.count, let m = DNSParser.parse(Array(bytes[2..<(2 + length)])) else { return false }
        return m.error == nil && m.trailingBytes == 0
    }

    static func contains(_ range: (start: UInt32, end: UInt32), _ sequence: UInt32, _ count: Int) -> Bool {
        Int32(bitPattern: sequence &- range.start) >= 0 && Int32(bitPattern: (sequence &+ UInt32(count)) &- range.end) <= 0
    }

    /// Frames a segment that stands outside the stream's order; emits only whole messages.
    private func frameAlone(_ payload: ArraySlice<UInt8>, key: StreamKey, emit: (DNSPayload) -> Void) {
        guard let stream = streams[key] else { return }
        var c = ByteCursor(Array(payload))
        while let length = c.peekUInt16(), c.remaining >= 2 + Int(length), length >= 12 {
            _ = c.skip(2)
            guard let bytes = c.readBytes(Int(length)) else { return }
            emit(DNSPayload(
                timestamp: stream.lastSeen, transport: .tcp, source: key.source, destination: key.destination,
                bytes: bytes, point: stream.lastPoint, isCutShort: false))
        }
    }

    /// Frames every complete message at the head of the buffer.
    /// Messages take the time and capture point of the segment that completed them.
    private mutating func frame(key: StreamKey, stats: inout PacketStats, emit: (DNSPayload) -> Void) {
        guard var stream = streams.removeValue(forKey: key) else { return }
        defer { streams[key] = stream }
        while true {
            if !stream.isSynchronised {
                guard resynchronise(&stream, stats: &stats) else { break }
            }
            guard stream.buffered >= 2 else { break }
            let length = Int(stream.buffer[stream.head]) << 8 | Int(stream.buffer[stream.head + 1])
            guard stream.buffered >= 2 + length else {
                if stream.buffered > limits.maxBufferedBytes {
                    stats.tcpGaps += 1
                    stream.buffer.removeAll()
                    stream.head = 0
                    stream.isSynchronised = false
                }
                break
            }
            let start = stream.head + 2
            let bytes = Array(stream.buffer[start..<(start + length)])
            stream.head = start + length
            emit(DNSPayload(
                timestamp: stream.lastSeen, transport: .tcp, source: key.source, destination: key.destination,
                bytes: bytes, point: stream.lastPoint, isCutShort: false))
        }
        // Compact once the consumed prefix dominates.
        if stream.head > 0, stream.head * 2 >= stream.buffer.count {
            stream.buffer.removeFirst(stream.head)
            stream.head = 0
        }
    }

    /// Finds the first offset at which a length prefix is followed by that many octets that decode as
    /// a well-formed DNS message. Returns false when more bytes are needed to decide.
    private func resynchronise(_ stream: inout Stream, stats: inout PacketStats) -> Bool {
        var i = stream.head
        let end = stream.buffer.count
        // The first offset whose length runs past what we hold: it may yet be a message, so the head
        // stays there unless a whole, well-formed message is found after it.
        var firstIncomplete: Int?
        while i + 2 <= end {
            let length = Int(stream.buffer[i]) << 8 | Int(stream.buffer[i + 1])
            // A message's header says one question at most (queries and their answers): checked in place before the
            // candidate is copied out and parsed, so that a stream of noise costs a few reads an offset, not a copy of
            // up to 64 KiB each.
            if length >= 12, i + 2 + length > end || stream.buffer[i + 6] == 0 && stream.buffer[i + 7] <= 1 {
                if i + 2 + length > end {
                    if firstIncomplete == nil { firstIncomplete = i }
                } else if let message = DNSParser.parse(Array(stream.buffer[(i + 2)..<(i + 2 + length)])),
                          message.error == nil, message.trailingBytes == 0, message.header.questionCount <= 1
                {
                    stats.tcpResyncSkippedBytes += i - stream.head
                    stream.head = i
                    stream.isSynchronised = true
                    return true
                }
            }
            i += 1
        }
        // Bytes before the first candidate can never start a message.
        var keep = firstIncomplete ?? i
        if end - keep > limits.maxBufferedBytes { keep = i }
        stats.tcpResyncSkippedBytes += keep - stream.head
        stream.head = keep
        return false
    }

    private mutating func ensureRoom(for key: StreamKey, stats: inout PacketStats) {
        guard streams[key] == nil, streams.count >= limits.maxStreams else { return }
        if let oldest = streams.min(by: { $0.value.lastSeen < $1.value.lastSeen })?.key {
            streams[oldest] = nil
            stats.tcpStreamEvictions += 1
        }
    }

    private mutating func sweep(now: Timestamp, stats: inout PacketStats) {
        guard now.seconds != lastSweep, !streams.isEmpty else { return }
        lastSweep = now.seconds
        for (key, stream) in streams where now.seconds - stream.lastSeen.seconds > limits.idleTimeoutSeconds {
            streams[key] = nil
            stats.tcpStreamEvictions += 1
        }
    }
}
