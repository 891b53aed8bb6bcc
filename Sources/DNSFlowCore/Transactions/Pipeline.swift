/// The decoding core end to end: captured packets in; DNS messages, transactions and counts out.
/// Pure: no I/O. The capture layer feeds it in timestamp order; front ends consume what it emits.
public struct Pipeline {
    public struct Configuration: Sendable {
        public var decoder = PacketDecoder.Configuration()
        public var matcher = TransactionMatcher.Configuration()
        /// The same message seen again within this many nanoseconds is a sighting, not a new message (0: off).
        public var sightingWindowNanoseconds: Int64 = 50_000_000
        /// Every packet comes from one capture point: one input, whose link layer names neither interface nor direction
        /// and which has no pcapng interfaces (`PcapHandle.isOnePoint`). No message can then be another's sighting,
        /// and the first stage remembers none to find them.
        public var capturesAtOnePoint = false
        /// Keep per-5-tuple statistics (flow ids and `takeFinishedFlows`).
        public var tracksFlows = true
        /// Keep finished flows for `takeFinishedFlows` (`--flows-csv`); off, they are let go as they finish.
        public var keepsFinishedFlows = true
        /// Keep every answer's latency for exact percentiles (`--summary`); off, they are counted in histograms, in
        /// bounded memory (the interface and the line printer, which can run for days).
        public var exactLatencies = true
        /// Keep every answer's latency of each flow for `--flows-csv`'s exact percentiles; off, a flow's beyond
        /// `FlowStats.maxExactLatencies` are counted in a histogram (a live capture's flow may last for days).
        public var exactFlowLatencies = true
        /// Names for addresses (`--names`), used in the summary's examples.
        public var names = AddressNames()
        /// Keep the transactions released to `onTransaction` for `takeSpent`, so that their owner can free them
        /// elsewhere (on the reading thread: `DecodeAhead.recycle`). Off, they are freed as they go.
        public var handsBackSpent = false
        /// Diagnostics kept for display; all are counted regardless.
        public var maxDiagnostics = 1000
        /// Lookups the analysis holds open at most (a flood): see `Analyzer.Configuration.maxOpenLookups`. The
        /// matcher's own bound is `matcher.maxWaiting`.
        public var maxOpenLookups = 48_000
        /// Octets the analysis holds at most in settled transactions waiting for their lookup
        /// (`Analyzer.Configuration.maxHeldBytes`).
        public var maxHeldBytes = 64 << 20
        /// 5-tuples the analysis holds at most (`Analyzer.Configuration.maxFlows`).
        public var maxFlows = 192_000
        /// Pending queries carry their pair's state so far, for a view that draws brackets before lookups settle.
        public var provisionalPairStates = false
        /// Messages keep their records as octets, checked, and read them again when asked
        /// (`DNSParser.parse(_:recordsOnDemand:)`): for outputs that do not write every record out.
        public var recordsOnDemand = false
        /// The packets' octets are kept once decoded (for a view that shows or exports them). Off, a packet's UDP
        /// payload takes its octets over (`DecodingStage`): no copy of each message, and the packet holds none after.
        public var keepsPacketOctets = true
        public init() {}
    }

    public let configuration: Configuration
    /// The first stage (link to DNS payloads, each parsed). `DecodeAhead` runs a copy of it on a thread of its own
    /// and puts it back before `finish`.
    public var front: DecodingStage
    public var decoder: PacketDecoder { front.decoder }
    public private(set) var matcher: TransactionMatcher
    /// The summary's counts: a sink of the pipeline's own (every final transaction), beside what only the pipeline
    /// sees (packets, messages, malformed ones, sightings folded).
    private var counts: SummarySink
    public var summary: Summary { counts.summary }
    public private(set) var diagnostics: [Diagnostic] = []
    /// Which transaction each message the first stage's sighting index remembered went to.
    private var sighted = SightedSequences()
    private var lastTimestamp = Timestamp(seconds: 0, nanoseconds: 0)
    private var analyzer: Analyzer

    public init(configuration: Configuration = .init()) {
        self.configuration = configuration
        front = DecodingStage(configuration: configuration.decoder, sightingWindow: configuration.sightingWindowNanoseconds,
                              atOnePoint: configuration.capturesAtOnePoint, recordsOnDemand: configuration.recordsOnDemand,
                              keepsPacketOctets: configuration.keepsPacketOctets)
        matcher = TransactionMatcher(configuration: configuration.matcher)
        var analysis = Analyzer.Configuration()
        analysis.sightingWindow = configuration.sightingWindowNanoseconds
        analysis.attemptWindow = configuration.matcher.windowSeconds * 1_000_000_000
        analysis.horizon = (configuration.matcher.windowSeconds + 1) * 1_000_000_000
        analysis.tracksFlows = configuration.tracksFlows
        analysis.keepsFinishedFlows = configuration.keepsFinishedFlows
        analysis.exactFlowLatencies = configuration.exactFlowLatencies
        analysis.maxOpenLookups = configuration.maxOpenLookups
        analysis.maxHeldBytes = configuration.maxHeldBytes
        analysis.maxFlows = configuration.maxFlows
        analysis.provisionalPairStates = configuration.provisionalPairStates
        analyzer = Analyzer(configuration: analysis)
        counts = SummarySink(names: configuration.names)
        counts.summary.keepsExactLatencies = configuration.exactLatencies
    }

    /// What the holders bounded in octets hold now: TCP streams, queries waiting for an answer, settled transactions
    /// waiting for their lookup (each within its bound in `configuration`).
    public var heldBytes: (tcp: Int, waiting: Int, settled: Int) {
        (front.decoder.tcpHeldBytes, matcher.waitingBytes, analyzer.heldBytes)
    }

    /// Lookups the analysis holds open, and lookup ids it holds in opening order.
    var lookupsHeld: (open: Int, ordered: Int) { analyzer.lookupsHeld }

    /// 5-tuples still active (idle ones are handed to `takeFinishedFlows`), when finished flows are kept.
    public var activeFlows: [FlowStats] { analyzer.flows.stats.keys.sorted().compactMap { analyzer.flows.stats[$0] } }

    /// Flows that went idle (all of them, after `finish`), once each; ids follow first sight.
    public mutating func takeFinishedFlows() -> [FlowStats] {
        analyzer.takeFinishedFlows()
    }

    /// Feeds one packet. The evidence goes out as soon as the packet proves it:
    /// * `onMessage`: every decoded DNS message (malformed ones, and every sighting of one);
    /// * `onQuery`: each new query as it enters matching, with its sequence and what its arrival proved (attempt and
    ///   gap of a re-send, its chain, pair, lookup and flow), so that a live view shows it before it settles;
    /// * `onMatched`: each query as soon as its fate is known — its response arrived, or it can no longer be answered
    ///   (re-sent under the same key, or its window passed) — with the analysis so far; and each orphan response;
    /// * `onTransaction`: every transaction once it and its analysis are final (out of order: see `InSequence`).
    public mutating func process(
        _ packet: CapturedPacket,
        onMessage: (ObservedMessage) -> Void = { _ in },
        onQuery: (Int, ObservedMessage, Analysis) -> Void = { _, _, _ in },
        onMatched: (Transaction) -> Void = { _ in },
        onTransaction: (Transaction) -> Void
    ) {
        consume(front.decode(packet), onMessage: onMessage, onQuery: onQuery, onMatched: onMatched, onTransaction: onTransaction)
        counts.summary.packet = front.decoder.stats
    }

    /// Feeds one packet the first stage already decoded (on another thread, say): the same as `process` from there on.
    public mutating func consume(
        _ decoded: DecodedPacket,
        onMessage: (ObservedMessage) -> Void = { _ in },
        onQuery: (Int, ObservedMessage, Analysis) -> Void = { _, _, _ in },
        onMatched: (Transaction) -> Void = { _ in },
        onTransaction: (Transaction) -> Void
    ) {
        note(decoded)
        for e in decoded.connections { analyzer.connection(e) }
        // Each payload read by `handle` where it lies in the packet's list: lent as a value, it was copied first (the
        // compiler cannot tell that nothing `handle` calls changes the list). What the first stage matched is taken
        // out of it (the analysis then holds each transaction alone, and annotates it without a copy).
        decoded.parsed.updateEach { parsed in
            withUnsafeMutablePointer(to: &parsed) {
                handle($0, onMessage: onMessage, onQuery: onQuery, onMatched: onMatched,
                       onTransaction: onTransaction)
            }
        }
    }

    /// Brings into this core's caches what the packets a few places after `index` in `batch` will be read for: each
    /// packet's object (8 ahead), its message's box and the box of the transaction its message settled (4 ahead),
    /// written on the decoding thread, then (2 ahead) the analysis's entry for its question, in a table larger than the
    /// caches, and that transaction's query's box. Only hints: nothing waits for them, and nothing is changed.
    public mutating func lookAhead(_ batch: UnsafeBufferPointer<DecodedPacket>, from index: Int) {
        // (The packets read as they lie in the list, no reference taken.)
        func packet(_ i: Int) -> UnsafeRawPointer? {
            i < batch.count ? UnsafeRawPointer(batch.baseAddress! + i).load(as: UnsafeRawPointer.self) : nil
        }
        // An address the packet noted for prefetching (its message's box, the box of the transaction it settled).
        func noted(_ i: Int, _ address: (DecodedPacket) -> UInt) -> UnsafeRawPointer? {
            guard let p = packet(i) else { return nil }
            return Unmanaged<DecodedPacket>.fromOpaque(p)._withUnsafeGuaranteedRef { UnsafeRawPointer(bitPattern: address($0)) }
        }
        func box(_ i: Int) -> UnsafeRawPointer? { noted(i) { $0.parsed.firstMessageBox } }
        func settledBox(_ i: Int) -> UnsafeRawPointer? { noted(i) { $0.parsed.firstSettledBox } }
        if let p = packet(index + 8) { prefetch(p, lines: 4) }
        if let b = box(index + 4) { prefetch(b, lines: 4) }
        if let t = settledBox(index + 4) { prefetch(t, lines: 4) }
        if let b = box(index + 2), let parts = ObservedMessage.questionKeyParts(atBox: b) {
            analyzer.prefetchQuestion(client: parts.client, fingerprint: parts.fingerprint, type: parts.type)
        }
        if let t = settledBox(index + 2), let q = Transaction.queryBoxAddress(atBox: t) { prefetch(q, lines: 3) }
    }

    /// What a packet tells before its DNS: the first stage's defects, a link type not decoded. (The packet's fields
    /// read where they lie: a copy of the packet is a retain of its octets and its lists.)
    private mutating func note(_ decoded: DecodedPacket) {
        for d in decoded.diagnostics { keep(d) }
        let linkType = decoded.packet.linkType
        if !linkType.isSupported {
            counts.summary.unsupportedLinkTypes[UnsupportedLink(input: decoded.packet.point.input, linkType: linkType), default: 0] += 1
        }
    }

    /// The first stage's counts, as of the last packet given to `consume`.
    public mutating func updatePacketStats(_ stats: PacketStats) { counts.summary.packet = stats }

    private var scratchSettled: [Transaction] = []
    private var scratchReleased: [Transaction] = []

    /// Time moved on to `now` with no packet (a live capture's clock, a replay's): queries whose window has passed
    /// settle, and lookups complete, as a packet at `now` would make them. A time before the last packet's does nothing.
    public mutating func tick(
        now: Timestamp,
        onMatched: (Transaction) -> Void = { _ in },
        onTransaction: (Transaction) -> Void
    ) {
        guard now > lastTimestamp else { return }
        lastTimestamp = now
        var settled: [Transaction] = []
        swap(&settled, &scratchSettled)
        matcher.advance(to: now) { settled.append($0) }
        finishHandling(&settled, onMatched, onTransaction)
    }

    /// End of input: flushes reassembly and settles every open query as unanswered.
    public mutating func finish(
        onMessage: (ObservedMessage) -> Void = { _ in },
        onQuery: (Int, ObservedMessage, Analysis) -> Void = { _, _, _ in },
        onMatched: (Transaction) -> Void = { _ in },
        onTransaction: (Transaction) -> Void
    ) {
        for var parsed in front.finish() {
            handle(&parsed, onMessage: onMessage, onQuery: onQuery, onMatched: onMatched, onTransaction: onTransaction)
        }
        var settled: [Transaction] = []
        if front.matchesAhead {
            front.finishMatching { settled.append($0) }
            givenUpAhead = front.matcherGivenUp
        } else {
            matcher.finish { settled.append($0) }
        }
        var released: [Transaction] = []
        for t in settled { analyzer.settled(t, shown: onMatched) { released.append($0) } }
        analyzer.finish { released.append($0) }
        for t in released { settle(t, onTransaction) }
        counts.summary.addCaptureWideFindings(names: configuration.names)
        counts.summary.packet = front.decoder.stats
    }

    private mutating func handle(
        _ parsed: UnsafeMutablePointer<ParsedPayload>, onMessage: (ObservedMessage) -> Void,
        onQuery: (Int, ObservedMessage, Analysis) -> Void, onMatched: (Transaction) -> Void,
        onTransaction: (Transaction) -> Void
    ) {
        // The message taken out of its packet, not copied: the packet, freed or reused on the decoding thread, then
        // holds no reference to the message's box, whose count this thread changes (a release there fetched it from
        // this core's cache).
        guard let observed = parsed.pointee.message.take() else {
            let payload = parsed.pointee.unparsed!.payload
            let kind: Diagnostic.Kind = payload.isCutShort ? .cutShort : .dns(.truncatedHeader)
            countMalformed(kind, "DNS message of \(payload.bytes.count) octets has no complete header",
                           at: payload.timestamp, payload.point)
            return
        }
        if let error = observed.message.error {
            // Running past the end of a datagram the capture cut short is the capture's doing, not the sender's.
            let cut = parsed.pointee.isCutShort
                && (error.code == .truncated || error.code == .badRDLength || error.code == .badEDNS)
            let kind: Diagnostic.Kind = cut ? .cutShort : .dns(error.code)
            countMalformed(kind, error.reason, at: observed.timestamp, observed.point)
        }
        if observed.message.trailingBytes > 0 { counts.summary.messagesWithTrailingBytes += 1 }
        lastTimestamp = max(lastTimestamp, observed.timestamp)
        onMessage(observed)
        var settled: [Transaction] = []
        swap(&settled, &scratchSettled)
        // Matched by the first stage already (a file read ahead): what settled is taken from the payload.
        var ahead: Int?
        if parsed.pointee.matched != nil {
            ahead = parsed.pointee.matched!.sequence
            givenUpAhead = parsed.pointee.matched!.givenUp
            if !parsed.pointee.matched!.settled.isEmpty { parsed.pointee.matched!.settled.moveAll(into: &settled) }
        }
        if ahead == nil { sighted.forget(below: parsed.pointee.oldestSighted) }
        switch parsed.pointee.sighting {
        case .unmatchable:
            // Without its question a message cannot be matched; it is shown as malformed in its place.
            if ahead == nil { matcher.addUnmatchable(observed) { settled.append($0) } }
        case .again(let ordinal):
            // Seen before: another sighting of that message, not a new one (and never a retry).
            guard let earlier = ahead ?? sighted[ordinal] else { preconditionFailure("a sighting of a message not held") }
            counts.summary.foldedSightings += 1
            if observed.message.isResponse {
                analyzer.responseSighting(earlier, observed)
            } else {
                analyzer.querySighting(earlier, at: observed.point)
                if ahead == nil { matcher.addSighting(of: earlier, observed) }
            }
            return finishHandling(&settled, onMatched, onTransaction)
        case .first(let ordinal):
            let seq: Int
            if let ahead {
                seq = ahead
            } else {
                seq = matcher.add(observed) { settled.append($0) }
                sighted.append(ordinal, sequence: seq)
            }
            if !observed.message.isResponse {
                analyzer.queryArrived(seq, observed)
                onQuery(seq, observed, analyzer.provisional(seq) ?? Analysis())
            }
        }
        countMessage(observed.message)
        finishHandling(&settled, onMatched, onTransaction)
    }

    /// Counted once per message, whatever number of times it was seen.
    private mutating func countMessage(_ message: DNSMessage) {
        counts.summary.dnsMessages += 1
        if message.isResponse { counts.summary.responses += 1 } else { counts.summary.queryMessages += 1 }
    }

    private mutating func finishHandling(
        _ settled: inout [Transaction], _ onMatched: (Transaction) -> Void, _ onTransaction: (Transaction) -> Void
    ) {
        // (The lists kept between messages swapped in and out, not assigned: an assignment is a retain and a release.)
        var released: [Transaction] = []
        swap(&released, &scratchReleased)
        // Each moved out of the list (from its end, the list reversed first when it holds more than one), so that the
        // analysis owns it alone and annotates it without a copy; the list is left empty with its capacity. (Most
        // messages settle nothing.)
        if settled.count > 1 { settled.reverse() }
        while let t = settled.popLast() { analyzer.settled(t, shown: onMatched) { released.append($0) } }
        swap(&settled, &scratchSettled)
        analyzer.release(now: lastTimestamp) { released.append($0) }
        if !released.isEmpty {
            for i in released.indices { settle(released[i], onTransaction) }
            // Handed on whole where the list of spent ones is empty (each one a retain and a release otherwise).
            if configuration.handsBackSpent, spent.isEmpty {
                swap(&spent, &released)
            } else {
                if configuration.handsBackSpent { spent.append(contentsOf: released) }
                released.empty()
            }
        }
        swap(&released, &scratchReleased)
    }

    private var spent: [Transaction] = []

    /// The transactions released since the last call (with `Configuration.handsBackSpent`), to be freed elsewhere.
    public mutating func takeSpent() -> [Transaction] {
        defer { spent = [] }
        return spent
    }

    /// The first stage's matcher's `givenUp`, as of the last payload it matched (when it matches).
    private var givenUpAhead: Int?

    private mutating func settle(_ t: Transaction, _ onTransaction: (Transaction) -> Void) {
        counts.summary.queriesGivenUp = givenUpAhead ?? matcher.givenUp
        counts.summary.lookupsCutShort = analyzer.cutShort
        counts.settled(t)
        onTransaction(t)
    }

    private mutating func countMalformed(_ kind: Diagnostic.Kind, _ reason: String, at time: Timestamp, _ point: CapturePoint) {
        counts.summary.dnsMalformed[kind, default: 0] += 1
        keep(Diagnostic(kind: kind, reason: reason, timestamp: time, point: point))
    }

    private mutating func keep(_ d: Diagnostic) {
        if diagnostics.count < configuration.maxDiagnostics { diagnostics.append(d) }
    }
}

extension Diagnostic.Kind {
    /// A DNS message cut short: the capture holds fewer octets than the IP/UDP lengths promise (snaplen).
    public static let cutShort = Diagnostic.Kind(rawValue: "cut-short")
}

public struct UnsupportedLink: Hashable, Sendable {
    public var input: Int
    public var linkType: LinkType
}

/// The first stage on its own: link layers to DNS payloads (fragments and TCP streams reassembled), each payload
/// parsed and told apart from another sighting of a message already seen (`SightingIndex`). It keeps state, so packets
/// go through it in capture order; it shares nothing with the later stages.
public struct DecodingStage: @unchecked Sendable {
    public internal(set) var decoder: PacketDecoder
    private var sightings: SightingIndex
    private let recordsOnDemand: Bool
    /// Questions' names read lately, handed out again (one array of octets shared, not one a message). A copy of the
    /// stage shares it: only one copy decodes at a time (a reader's, then the pipeline's once it is handed back).
    private let names = NameCache()
    private var scratch: [DNSPayload] = []
    /// Matching, run here too when asked (`matchAhead`): for files read at full speed, whose matching no clock moves
    /// between packets, it is the analysis's thread's work taken to the decoding thread. (Live and replayed, a clock
    /// settles the queries whose window passed: matching stays with the analysis.)
    private var matcher: TransactionMatcher?
    /// Which transaction each message the sighting index remembered went to (as `Pipeline` keeps it otherwise).
    private var sighted = SightedSequences()

    /// `sightingWindow`, `atOnePoint`, `recordsOnDemand`, `keepsPacketOctets`: as `Pipeline.Configuration` has them
    /// (`sightingWindowNanoseconds`, `capturesAtOnePoint`, …).
    public init(configuration: PacketDecoder.Configuration, sightingWindow: Int64 = 50_000_000, atOnePoint: Bool = false,
                recordsOnDemand: Bool = false, keepsPacketOctets: Bool = true) {
        decoder = PacketDecoder(configuration: configuration)
        // Not kept: a packet's UDP payload takes the packet's octets over (the packet holds none once decoded).
        decoder.leavesPayloadInPacket = !keepsPacketOctets
        sightings = SightingIndex(windowNanoseconds: sightingWindow, atOnePoint: atOnePoint)
        self.recordsOnDemand = recordsOnDemand
    }

    /// Matches each message here too, from now on (before any packet).
    public mutating func matchAhead(_ configuration: TransactionMatcher.Configuration) {
        matcher = TransactionMatcher(configuration: configuration)
    }

    public var matchesAhead: Bool { matcher != nil }

    /// The matcher's `givenUp` (nil: this stage does not match).
    var matcherGivenUp: Int? { matcher?.givenUp }

    /// End of input, after `finish`: every query still waiting settles unanswered.
    mutating func finishMatching(emit: (Transaction) -> Void) {
        matcher?.finish(emit: emit)
    }

    /// `reusing`: a packet of an earlier batch that nothing else holds, to hold this one (what it held is let go).
    /// The packet is taken over (`consuming`): moved into what is returned, not copied.
    public mutating func decode(_ packet: consuming CapturedPacket, reusing spare: DecodedPacket? = nil) -> DecodedPacket {
        // The payloads' list is kept between packets (emptied, capacity kept): no allocation per packet.
        var payloads: [DNSPayload] = []
        swap(&payloads, &scratch)
        var diagnostics: [Diagnostic] = []
        var connections: [ConnectionEvent] = []
        var packet = packet
        decoder.decode(packet, payloads: &payloads, diagnostics: &diagnostics, connections: &connections)
        if let (index, range) = decoder.payloadInPacket {
            payloads[index].bytes = PacketDecoder.moveOut(range, of: &packet.data)
        }
        var parsed = PacketPayloads()
        // Each payload parsed where it lies in the list (taking one out copies it), and the list left empty with its
        // capacity.
        for i in payloads.indices { parsed.append(parse(&payloads[i])) }
        payloads.empty()
        swap(&payloads, &scratch)
        guard let spare else {
            return DecodedPacket(packet: consume packet, parsed: consume parsed, diagnostics: consume diagnostics,
                                 connections: consume connections)
        }
        spare.packet = consume packet
        spare.parsed = consume parsed
        spare.diagnostics = consume diagnostics
        spare.connections = consume connections
        return spare
    }

    /// End of input: what reassembly still holds, parsed.
    mutating func finish() -> [ParsedPayload] {
        var payloads: [DNSPayload] = []
        decoder.finish(emit: { payloads.append($0) })
        return payloads.indices.map { parse(&payloads[$0]) }
    }

    /// `payload`: left without its octets when its message was parsed (they went to the message and the sighting
    /// index).
    private mutating func parse(_ payload: inout DNSPayload) -> ParsedPayload {
        // Told apart before it is boxed, then moved into its box (read back out of the box, it was copied first).
        var message: ObservedMessage?
        var sighting = Sighting.unmatchable
        if let parsed = DNSParser.parse(payload.bytes, recordsOnDemand: recordsOnDemand, names: names) {
            // The payload's octets handed to the sighting index (the message holds its own reference to them): the
            // payload then lets go of none.
            var octets: [UInt8] = []
            swap(&octets, &payload.bytes)
            sighting = sightings.classify(payload, octets: octets, parsed)
            message = ObservedMessage(payload, parsed)
        }
        let oldestSighted = sightings.oldestHeld
        // Matched before the message goes into its payload's slot: lent to the matcher from here, it needs no
        // reference of its own for the call.
        var matched: MatchedAhead?
        if matcher != nil, message != nil { matched = match(message!, sighting, oldestSighted: oldestSighted) }
        let unparsed = message == nil ? UnparsedPayload(payload) : nil
        return ParsedPayload(message: consume message, unparsed: unparsed, isCutShort: payload.isCutShort,
                             sighting: sighting, oldestSighted: oldestSighted, matched: matched)
    }

    /// What `Pipeline.handle` does with the matcher, done here: the sequence the message opened or joined (another
    /// sighting: the first's), and what settled.
    private mutating func match(_ observed: borrowing ObservedMessage, _ sighting: Sighting, oldestSighted: Int) -> MatchedAhead {
        var settled = InlineList<Transaction>()
        var sequence = -1
        sighted.forget(below: oldestSighted)
        switch sighting {
        case .unmatchable:
            matcher!.addUnmatchable(observed) { settled.append($0) }
        case .again(let ordinal):
            guard let earlier = sighted[ordinal] else { preconditionFailure("a sighting of a message not held") }
            if !observed.message.isResponse { matcher!.addSighting(of: earlier, observed) }
            sequence = earlier
        case .first(let ordinal):
            sequence = matcher!.add(observed) { settled.append($0) }
            sighted.append(ordinal, sequence: sequence)
        }
        let firstSettledBox = settled.isEmpty ? 0 : UInt(bitPattern: settled[0].boxAddress)
        return MatchedAhead(sequence: sequence, settled: settled, givenUp: matcher!.givenUp, firstSettledBox: firstSettledBox)
    }

    public var stats: PacketStats { decoder.stats }
}

/// One packet through the first stage: its DNS payloads and their parsed messages (nil: no 12-octet header), and
/// the defects met on the way. Made once on the decoding thread; from there on the analysis's thread reads it, and
/// takes out what the first stage matched. A reference, so that the analysis's thread takes each packet without
/// copying its lists; and reused by the decoding thread for a later packet once nothing else holds it (`decode`'s
/// `reusing`), where each was an allocation and a free.
public final class DecodedPacket: @unchecked Sendable {
    @exclusivity(unchecked) public internal(set) var packet: CapturedPacket
    /// Each payload with its message, boxed on the decoding thread (the first held inline: almost every packet has
    /// one). The analysis takes what the first stage matched out of it (a packet is handed from one thread to the other
    /// under a lock, so accesses never overlap: not checked at run time, as the fields around it, a check at every
    /// packet on each thread).
    @exclusivity(unchecked) var parsed: PacketPayloads
    /// Each payload's message as decoded (nil: no 12-octet header), where and when it was seen; the analysis takes each
    /// out as it consumes the packet.
    public var messages: [ObservedMessage?] { parsed.map(\.message) }
    @exclusivity(unchecked) public internal(set) var diagnostics: [Diagnostic]
    /// TCP connection attempts to DNS ports and their answers (no DNS message of their own).
    @exclusivity(unchecked) public internal(set) var connections: [ConnectionEvent]

    init(packet: CapturedPacket, parsed: PacketPayloads = PacketPayloads(), diagnostics: [Diagnostic] = [],
         connections: [ConnectionEvent] = []) {
        self.packet = packet
        self.parsed = parsed
        self.diagnostics = diagnostics
        self.connections = connections
    }
}

extension DecodedPacket {
    /// A packet as read, not yet through the first stage (no payloads): for a reader that leaves decoding to its
    /// consumer, which decodes `packet`.
    public convenience init(undecoded packet: CapturedPacket) { self.init(packet: packet) }

    /// About what holding it takes, in octets: the captured octets and the packet's own lists and object (and its place
    /// in a waiting list), and each payload's octets with its parsed message (its box, and `Transaction.heldBytes`'
    /// estimate of its contents).
    public var heldBytes: Int {
        var bytes = packet.data.count + 352
        for p in parsed {
            if let m = p.message {
                bytes += m.message.size + 96 + 256 + m.heldEstimate
            } else {
                bytes += (p.unparsed?.payload.bytes.count ?? 0) + 96
            }
        }
        return bytes
    }
}

/// A packet's payloads: the first held inline, any more in a list. One inline slot, not `InlineList`'s two: a packet
/// with two DNS payloads is rare, and the packet goes from one thread to the other (a second slot was 200 more octets
/// to copy and to carry across).
struct PacketPayloads: RandomAccessCollection, Sendable {
    private var head: ParsedPayload?
    private var more: [ParsedPayload] = []
    /// Where the first payload's message lies (its box), for prefetching only: read without a reference taken.
    private(set) var firstMessageBox: UInt = 0
    /// Where the first transaction its first payload settled lies (its box: a response's answered query, written on
    /// the decoding thread when matched there), for prefetching only, as `firstMessageBox`.
    private(set) var firstSettledBox: UInt = 0

    init() {}

    var startIndex: Int { 0 }
    var endIndex: Int { head == nil ? 0 : 1 + more.count }
    subscript(i: Int) -> ParsedPayload { i == 0 ? head! : more[i - 1] }

    /// Takes the payload over (`consuming`): moved into its slot, not copied.
    mutating func append(_ p: consuming ParsedPayload) {
        if head == nil {
            if p.message != nil { firstMessageBox = UInt(bitPattern: p.message!.boxAddress) }
            if let box = p.matched?.firstSettledBox { firstSettledBox = box }
            head = consume p
        } else {
            more.append(consume p)
        }
    }

    /// Each payload, changed where it lies.
    mutating func updateEach(_ body: (inout ParsedPayload) -> Void) {
        if head != nil { body(&head!) }
        for i in more.indices { body(&more[i]) }
    }
}

/// A payload's parsed message (with where and when it was seen), and what the sighting index found it to be. A struct,
/// not a tuple: a list of tuples is copied through generic value witnesses. Small, as it crosses from one thread to
/// the other: the payload itself is kept only when it has no message.
struct ParsedPayload: Sendable {
    var message: ObservedMessage?
    /// A payload with no 12-octet header (then `message` is nil), kept for its diagnostic.
    var unparsed: UnparsedPayload?
    /// The datagram was cut short by the snaplen or a lying length field (`DNSPayload.isCutShort`).
    var isCutShort: Bool
    var sighting: Sighting
    /// The sighting index's oldest ordinal after it (`SightingIndex.oldestHeld`).
    var oldestSighted: Int
    /// What matching made of it, when the first stage matched it.
    var matched: MatchedAhead? = nil
}

/// A payload with no message (fewer than 12 octets), in a box of its own: rare, and kept out of `ParsedPayload`.
final class UnparsedPayload: Sendable {
    let payload: DNSPayload
    init(_ payload: DNSPayload) { self.payload = payload }
}

/// A message matched by the first stage: the transaction it opened or joined (another sighting: the first's; -1 for
/// a message that cannot be matched), what settled then, and the matcher's given-up count after it.
struct MatchedAhead: Sendable {
    var sequence: Int
    /// Held inline: most messages settle none or one.
    var settled: InlineList<Transaction>
    var givenUp: Int
    /// Where the first of `settled` lies (its box; 0: none), for prefetching only: read without a reference taken.
    var firstSettledBox: UInt = 0
}

extension ObservedMessage {
    /// A payload's parsed message, as matching and the analysis see it.
    init(_ payload: borrowing DNSPayload, _ message: consuming DNSMessage) {
        self.init(timestamp: payload.timestamp, transport: payload.transport, source: payload.source,
                  destination: payload.destination, point: payload.point, isReassembled: payload.isReassembled,
                  message: message)
    }
}
