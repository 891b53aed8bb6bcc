/// DNS over TCP (RFC 1035 §4.2.2, RFC 7766): each message is prefixed by a 2-octet length. One segment
/// may carry several messages (glibc `use-vc` sends A and AAAA together) and one message may span many
/// segments. This follows each direction of each connection by sequence number: in-order data is framed
/// at once, out-of-order segments wait, retransmitted bytes are dropped, and a stream that begins without
/// its SYN (or loses bytes in a gap) is resynchronised on the first offset where a whole, well-formed DNS
/// message follows its length.
///
/// State is bounded: at most `maxStreams` directions, `maxBufferedBytes` each and `maxTotalBytes` in all (beyond it the
/// longest idle go, as when there are too many); idle ones expire.
public struct TCPDNSReassembler {
    public struct Limits: Sendable {
        public var maxStreams = 4096
        public var maxBufferedBytes = 256 << 10
        public var maxTotalBytes = 64 << 20
        public var idleTimeoutSeconds: Int64 = 120
        public init() {}
    }

    /// One direction of one connection as one capture point sees it: a node's `-i any` (or a pcapng with several
    /// interfaces, or merged captures) sees each segment once per interface it crosses, and each copy is its own
    /// stream — a second copy is another sighting of the same messages, not a retransmission.
    struct StreamKey: Hashable {
        var source: Endpoint
        var destination: Endpoint
        var origin: CapturePoint.Origin

        init(_ s: Segment) {
            source = s.source
            destination = s.destination
            origin = s.point.origin
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
        /// Where `nextSequence` is in the stream, counted without wrapping: waiting segments are ordered by it.
        var nextPosition: Int64 = 0
        /// Unframed bytes; `head` is where the next length prefix starts.
        var buffer: [UInt8] = []
        var head = 0
        /// False until a message boundary is known (no SYN seen, or after a gap).
        var isSynchronised: Bool
        /// What the search for a message boundary has already looked at (while not synchronised).
        var resync = Resync()
        /// Out-of-order segments, in stream order.
        var waiting: [Waiting] = []
        var waitingBytes = 0
        /// The earliest waiting segment already found not to start a whole message (`holeIsFollowedByMessage`).
        var refusedAfterHole: Int64?
        var lastSeen: Timestamp
        var lastPoint: CapturePoint
        /// The last few sequence ranges given up on (start, end): a segment arriving late into one is
        /// framed on its own instead of being taken for a retransmission.
        var skipped: [(start: UInt32, end: UInt32)] = []
        /// Octets removed from the front of `buffer` so far (compaction, gaps).
        var dropped = 0

        var buffered: Int { buffer.count - head }

        /// The memory it holds, as counted against `maxTotalBytes`.
        var heldBytes: Int { buffer.capacity + waitingBytes + waiting.capacity * MemoryLayout<Waiting>.stride + resync.indexBytes }

        /// Holds a segment that arrived ahead of a hole, in stream order; of two at one place, the longer.
        mutating func hold(_ segment: Waiting) {
            var low = 0, high = waiting.count
            if let last = waiting.last, last.position < segment.position { low = high }  // the usual case: in order
            while low < high {
                let mid = (low + high) / 2
                if waiting[mid].position < segment.position { low = mid + 1 } else { high = mid }
            }
            if low < waiting.count, waiting[low].position == segment.position {
                guard waiting[low].data.count < segment.data.count else { return }
                waitingBytes += segment.data.count - waiting[low].data.count
                waiting[low] = segment
            } else {
                waitingBytes += segment.data.count
                waiting.insert(segment, at: low)
            }
        }

        /// Moves the waiting segments that have become contiguous into the buffer.
        mutating func drainWaiting() {
            var taken = 0
            while taken < waiting.count, waiting[taken].position <= nextPosition {
                let w = waiting[taken]
                taken += 1
                waitingBytes -= w.data.count
                guard w.end > nextPosition else { continue }
                buffer.append(contentsOf: w.data[Int(nextPosition - w.position)...])
                nextSequence = w.sequence &+ UInt32(w.data.count)
                nextPosition = w.end
            }
            waiting.removeFirst(taken)
        }

        /// `count` octets of the waiting segments from `position` on (which they must hold without a hole).
        func waitingOctets(from position: Int64, count: Int) -> [UInt8] {
            var bytes: [UInt8] = []
            bytes.reserveCapacity(count)
            var at = position
            for w in waiting where w.end > at && bytes.count < count {
                guard w.position <= at else { break }
                let from = Int(at - w.position)
                let n = min(w.data.count - from, count - bytes.count)
                bytes += w.data[from..<(from + n)]
                at += Int64(n)
            }
            return bytes
        }

        /// Drops every buffered octet (a gap, or a partial message past the budget): the search for a boundary
        /// starts again from whatever comes next.
        mutating func dropBuffer() {
            dropped += buffer.count
            buffer = []
            head = 0
            resync = Resync()
        }
    }

    struct Waiting {
        var position: Int64
        var sequence: UInt32
        var data: [UInt8]
        var end: Int64 { position + Int64(data.count) }
    }

    /// The search for a message boundary, kept between segments so that each offset is looked at once: every offset
    /// before `scanned` either cannot start a message (its bytes will not change) or is a pending candidate, a length
    /// prefix whose message runs past the bytes held, looked at again when the buffer reaches the message's end.
    /// Offsets count from the stream's first octet ever buffered (`Stream.dropped` + index), so compaction leaves them
    /// alone.
    struct Resync {
        struct Candidate {
            var start: Int
            var end: Int
        }
        var scanned: Int?
        /// The pending candidates in offset order (the head waits at the earliest still pending)…
        private var pending: [Candidate] = []
        private var firstPending = 0
        /// …and in a heap by the offset their message ends at.
        private var byEnd: [Candidate] = []

        init(scanned: Int? = nil) { self.scanned = scanned }

        /// What the index holds, counted against the stream's budget.
        var indexBytes: Int { (pending.count - firstPending + byEnd.count) * MemoryLayout<Candidate>.stride }

        mutating func add(_ c: Candidate) {
            pending.append(c)
            byEnd.append(c)
            var i = byEnd.count - 1
            while i > 0, byEnd[(i - 1) / 2].end > byEnd[i].end {
                byEnd.swapAt(i, (i - 1) / 2)
                i = (i - 1) / 2
            }
        }

        /// A pending candidate whose message the bytes up to `end` complete (each is returned once).
        mutating func takeCompleted(by end: Int) -> Candidate? {
            guard let top = byEnd.first, top.end <= end else { return nil }
            byEnd.swapAt(0, byEnd.count - 1)
            byEnd.removeLast()
            var i = 0
            while true {
                let l = 2 * i + 1, r = l + 1
                var least = i
                if l < byEnd.count, byEnd[l].end < byEnd[least].end { least = l }
                if r < byEnd.count, byEnd[r].end < byEnd[least].end { least = r }
                guard least != i else { break }
                byEnd.swapAt(i, least)
                i = least
            }
            return top
        }

        /// The earliest pending candidate whose message does not end by `end` (the ones that do were taken).
        mutating func firstPending(after end: Int) -> Int? {
            while firstPending < pending.count, pending[firstPending].end <= end { firstPending += 1 }
            if firstPending == pending.count {
                pending.removeAll(keepingCapacity: true)
                firstPending = 0
                return nil
            }
            if firstPending >= 4096, firstPending * 2 >= pending.count {
                pending.removeFirst(firstPending)
                firstPending = 0
            }
            return pending[firstPending].start
        }
    }

    public let limits: Limits
    private var streams: [StreamKey: Stream] = [:]
    private var lastSweep: Int64 = .min
    /// What the streams hold in all (`Stream.heldBytes`).
    private(set) var heldBytes = 0

    public init(limits: Limits = .init()) { self.limits = limits }

    public var streamCount: Int { streams.count }

    mutating func process(_ s: Segment, stats: inout PacketStats, emit: (DNSPayload) -> Void) {
        stats.tcpSegments += 1
        sweep(now: s.timestamp, stats: &stats)
        let key = StreamKey(s)
        if s.isRST {
            remove(key)
            return
        }
        if s.isSYN {
            ensureRoom(for: key, stats: &stats)
            remove(key)
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
        if s.isFIN, var stream = streams.removeValue(forKey: key) {
            heldBytes -= stream.heldBytes
            // Nothing more comes in this direction: whatever still waits is behind a gap for good.
            while !stream.waiting.isEmpty {
                skipGap(&stream, stats: &stats)
                frame(&stream, key: key, stats: &stats, emit: emit)
            }
        }
        if heldBytes > limits.maxTotalBytes { evictForRoom(stats: &stats) }
    }

    /// End of input: frame what can be framed past any gaps, then drop all state.
    mutating func finish(stats: inout PacketStats, emit: (DNSPayload) -> Void) {
        for key in Array(streams.keys) {
            guard var stream = streams.removeValue(forKey: key) else { continue }
            while !stream.waiting.isEmpty {
                skipGap(&stream, stats: &stats)
                frame(&stream, key: key, stats: &stats, emit: emit)
            }
        }
        heldBytes = 0
    }
    private mutating func accept(
        key: StreamKey, sequence: UInt32, payload: ArraySlice<UInt8>, segment: Segment,
        stats: inout PacketStats, emit: (DNSPayload) -> Void
    ) {
        // Taken out of the table while it changes, and put back when done: a copy left there (or held here while the
        // table's changes) would make every change copy the whole buffer (one-octet segments cost the buffer's size each).
        guard var stream = streams.removeValue(forKey: key) else { return }
        let held = stream.heldBytes
        defer {
            heldBytes += stream.heldBytes - held
            streams[key] = stream
        }
        stream.lastSeen = segment.timestamp
        stream.lastPoint = segment.point
        let delta = Int32(bitPattern: sequence &- stream.nextSequence)
        if delta > 0 {
            // A hole before this segment: hold it until the hole fills or we give up on it.
            stats.tcpOutOfOrder += 1
            stream.hold(Waiting(position: stream.nextPosition + Int64(delta), sequence: sequence, data: Array(payload)))
            // Skip the hole at once when waiting cannot help: the buffer is between messages and what
            // follows the hole is a whole message (a capture that lost segments, as tshark would show it);
            // or when the budget is spent.
            let atBoundary = stream.isSynchronised && stream.buffered == 0
            let skip = (atBoundary && holeIsFollowedByMessage(&stream))
                || stream.waitingBytes + stream.buffered > limits.maxBufferedBytes || stream.waiting.count > 256
            if skip {
                skipGap(&stream, stats: &stats)
                frame(&stream, key: key, stats: &stats, emit: emit)
            }
            return
        }
        let overlap = -Int(delta)  // (Int(-delta) overflows for a segment exactly 2^31 behind)
        if overlap >= payload.count {
            if stream.skipped.contains(where: { TCPDNSReassembler.contains($0, sequence, payload.count) }) {
                // Late into a range we gave up on: frame it on its own.
                frameAlone(payload, stream: stream, key: key, emit: emit)
                return
            }
            stats.tcpRetransmissions += 1
            return
        }
        if overlap > 0 { stats.tcpRetransmissions += 1 }
        stream.buffer.append(contentsOf: payload.dropFirst(overlap))
        stream.nextSequence = sequence &+ UInt32(payload.count)
        stream.nextPosition += Int64(payload.count - overlap)
        stream.drainWaiting()
        frame(&stream, key: key, stats: &stats, emit: emit)
    }

    /// Gives up on the bytes missing before the earliest waiting segment: counts a gap, drops the
    /// partial message they belonged to, and resynchronises after them.
    private func skipGap(_ stream: inout Stream, stats: inout PacketStats) {
        guard let earliest = stream.waiting.first else { return }
        stats.tcpGaps += 1
        stream.skipped.append((start: stream.nextSequence, end: earliest.sequence))
        if stream.skipped.count > 8 { stream.skipped.removeFirst() }
        stream.dropBuffer()
        stream.nextSequence = earliest.sequence
        stream.nextPosition = earliest.position
        stream.isSynchronised = false
        stream.drainWaiting()
    }

    /// Whether the bytes after the hole, as far as they run without a further hole, start with a length prefix and
    /// that many octets that decode as a well-formed DNS message. Each earliest waiting segment is parsed at most once:
    /// until its run is long enough, only the runs' lengths are added up.
    private func holeIsFollowedByMessage(_ stream: inout Stream) -> Bool {
        guard let first = stream.waiting.first, stream.refusedAfterHole != first.position else { return false }
        var reach = first.position
        for w in stream.waiting {
            guard w.position <= reach else { break }
            reach = max(reach, w.end)
            if reach - first.position >= 65_537 { break }
        }
        let available = Int(reach - first.position)
        guard available >= 14 else { return false }
        let prefix = stream.waitingOctets(from: first.position, count: 2)
        let length = Int(prefix[0]) << 8 | Int(prefix[1])
        guard length >= 12 else {
            stream.refusedAfterHole = first.position
            return false
        }
        guard 2 + length <= available else { return false }
        let bytes = stream.waitingOctets(from: first.position + 2, count: length)
        if let m = DNSParser.parse(bytes), m.error == nil, m.trailingBytes == 0 { return true }
        stream.refusedAfterHole = first.position
        return false
    }

    static func contains(_ range: (start: UInt32, end: UInt32), _ sequence: UInt32, _ count: Int) -> Bool {
        Int32(bitPattern: sequence &- range.start) >= 0 && Int32(bitPattern: (sequence &+ UInt32(count)) &- range.end) <= 0
    }

    /// Frames a segment that stands outside the stream's order; emits only whole messages.
    private func frameAlone(_ payload: ArraySlice<UInt8>, stream: Stream, key: StreamKey, emit: (DNSPayload) -> Void) {
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
    private func frame(_ stream: inout Stream, key: StreamKey, stats: inout PacketStats, emit: (DNSPayload) -> Void) {
        while true {
            if !stream.isSynchronised {
                guard resynchronise(&stream, stats: &stats) else { break }
            }
            guard stream.buffered >= 2 else { break }
            let length = Int(stream.buffer[stream.head]) << 8 | Int(stream.buffer[stream.head + 1])
            guard stream.buffered >= 2 + length else {
                if stream.buffered > limits.maxBufferedBytes {
                    stats.tcpGaps += 1
                    stream.dropBuffer()
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
        // Compact once the consumed prefix dominates; let a large buffer go once it is empty (a stream that carried
        // one 64 KiB answer and stays open would otherwise keep it).
        if stream.head == stream.buffer.count, stream.buffer.capacity > 4096 {
            stream.dropped += stream.head
            stream.buffer = []
            stream.head = 0
        } else if stream.head > 0, stream.head * 2 >= stream.buffer.count {
            stream.buffer.removeFirst(stream.head)
            stream.dropped += stream.head
            stream.head = 0
        }
    }

    /// Finds the first offset at which a length prefix is followed by that many octets that decode as
    /// a well-formed DNS message. Returns false when more bytes are needed to decide. Each offset is looked at once
    /// when it arrives and once more if its message was then incomplete (`Resync`), so a stream that never
    /// synchronises costs work in proportion to its length.
    private func resynchronise(_ stream: inout Stream, stats: inout PacketStats) -> Bool {
        let base = stream.dropped
        let end = stream.buffer.count
        if stream.resync.scanned == nil { stream.resync.scanned = base + stream.head }
        // Candidates seen before whose message the new bytes complete: the earliest that is one wins.
        var found: Int?
        while let c = stream.resync.takeCompleted(by: base + end) {
            if found.map({ c.start < $0 }) ?? true, Self.isMessage(stream.buffer, at: c.start - base, length: c.end - c.start - 2) {
                found = c.start
            }
        }
        // Then the offsets not looked at yet.
        var i = stream.resync.scanned! - base
        if found == nil {
            while i + 2 <= end {
                let length = Int(stream.buffer[i]) << 8 | Int(stream.buffer[i + 1])
                if length >= 12 {
                    if i + 2 + length > end {
                        // It may yet be a message (unless its header, when here, says otherwise): looked at again when
                        // the buffer reaches its end.
                        if i + 8 > end || Self.mayBeHeader(stream.buffer, at: i) {
                            stream.resync.add(.init(start: base + i, end: base + i + 2 + length))
                        }
                    } else if Self.isMessage(stream.buffer, at: i, length: length) {
                        found = base + i
                        break
                    }
                }
                i += 1
            }
        }
        if let found {
            stats.tcpResyncSkippedBytes += found - base - stream.head
            stream.head = found - base
            stream.isSynchronised = true
            stream.resync = Resync()
            return true
        }
        stream.resync.scanned = base + i
        // The head stays at the first candidate that may yet be a message; bytes before it can never start one.
        var keep = stream.resync.firstPending(after: base + end).map { $0 - base } ?? i
        if end - keep + stream.resync.indexBytes > limits.maxBufferedBytes {
            keep = i
            stream.resync = Resync(scanned: base + i)
        }
        stats.tcpResyncSkippedBytes += keep - stream.head
        stream.head = keep
        return false
    }

    /// Whether the header of a message whose length prefix is at `i` says one question at most (queries and their
    /// answers): checked in place, so that a stream of noise costs a few reads an offset, not a copy of up to 64 KiB.
    private static func mayBeHeader(_ buffer: [UInt8], at i: Int) -> Bool {
        buffer[i + 6] == 0 && buffer[i + 7] <= 1
    }

    /// A length prefix at `i` followed by `length` octets that decode as a well-formed DNS message.
    private static func isMessage(_ buffer: [UInt8], at i: Int, length: Int) -> Bool {
        guard mayBeHeader(buffer, at: i),
              let message = DNSParser.parse(Array(buffer[(i + 2)..<(i + 2 + length)]))
        else { return false }
        return message.error == nil && message.trailingBytes == 0 && message.header.questionCount <= 1
    }

    private mutating func ensureRoom(for key: StreamKey, stats: inout PacketStats) {
        guard streams[key] == nil, streams.count >= limits.maxStreams else { return }
        if let oldest = streams.min(by: { $0.value.lastSeen < $1.value.lastSeen })?.key {
            remove(oldest)
            stats.tcpStreamEvictions += 1
        }
    }

    /// Over `maxTotalBytes`: the longest idle streams go until a quarter of it is free again (so that the sort is
    /// paid once per so many octets, not once per segment).
    private mutating func evictForRoom(stats: inout PacketStats) {
        let byAge = streams.map { (key: $0.key, lastSeen: $0.value.lastSeen) }.sorted { $0.lastSeen < $1.lastSeen }
        for (key, _) in byAge where heldBytes > limits.maxTotalBytes / 4 * 3 {
            remove(key)
            stats.tcpStreamEvictions += 1
        }
    }

    private mutating func remove(_ key: StreamKey) {
        if let stream = streams.removeValue(forKey: key) { heldBytes -= stream.heldBytes }
    }

    /// Once a second of capture time: the streams idle for the timeout go. Each stream's time read where it lies, and
    /// the idle ones removed after the walk: walking `(key, stream)` pairs copied every stream (its lists retained and
    /// released), and a removal during the walk copied the whole table — thousands of streams, every second.
    private mutating func sweep(now: Timestamp, stats: inout PacketStats) {
        guard now.seconds != lastSweep, !streams.isEmpty else { return }
        lastSweep = now.seconds
        var idle: [StreamKey] = []
        var i = streams.startIndex
        while i != streams.endIndex {
            if now.seconds - streams.values[i].lastSeen.seconds > limits.idleTimeoutSeconds { idle.append(streams.keys[i]) }
            streams.formIndex(after: &i)
        }
        for key in idle {
            remove(key)
            stats.tcpStreamEvictions += 1
        }
    }
}
