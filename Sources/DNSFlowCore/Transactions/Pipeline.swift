/// The decoding core end to end: captured packets in; DNS messages, transactions and counts out.
/// Pure: no I/O. The capture layer feeds it in timestamp order; front ends consume what it emits.
public struct Pipeline {
    public struct Configuration: Sendable {
        public var decoder = PacketDecoder.Configuration()
        public var matcher = TransactionMatcher.Configuration()
        /// Diagnostics kept for display; all are counted regardless.
        public var maxDiagnostics = 1000
        public init() {}
    }

    public let configuration: Configuration
    public private(set) var decoder: PacketDecoder
    public private(set) var matcher: TransactionMatcher
    public private(set) var summary = Summary()
    public private(set) var diagnostics: [Diagnostic] = []

    public init(configuration: Configuration = .init()) {
        self.configuration = configuration
        decoder = PacketDecoder(configuration: configuration.decoder)
        matcher = TransactionMatcher(configuration: configuration.matcher)
    }

    /// Feeds one packet. `onMessage` sees every decoded DNS message (malformed ones too);
    /// `onTransaction` every settled transaction.
    public mutating func process(
        _ packet: CapturedPacket,
        onMessage: (ObservedMessage) -> Void = { _ in },
        onTransaction: (Transaction) -> Void
    ) {
        var payloads: [DNSPayload] = []
        var found: [Diagnostic] = []
        decoder.decode(packet, emit: { payloads.append($0) }, diagnose: { found.append($0) })
        for d in found { keep(d) }
        if !packet.linkType.isSupported {
            summary.unsupportedLinkTypes[UnsupportedLink(input: packet.point.input, linkType: packet.linkType), default: 0] += 1
        }
        for payload in payloads { handle(payload, onMessage: onMessage, onTransaction: onTransaction) }
        summary.packet = decoder.stats
    }

    /// End of input: flushes reassembly and settles every open query as unanswered.
    public mutating func finish(
        onMessage: (ObservedMessage) -> Void = { _ in },
        onTransaction: (Transaction) -> Void
    ) {
        var payloads: [DNSPayload] = []
        decoder.finish(emit: { payloads.append($0) })
        for payload in payloads { handle(payload, onMessage: onMessage, onTransaction: onTransaction) }
        var settled: [Transaction] = []
        matcher.finish { settled.append($0) }
        for t in settled { settle(t, onTransaction) }
        summary.packet = decoder.stats
    }

    private mutating func handle(
        _ payload: DNSPayload, onMessage: (ObservedMessage) -> Void, onTransaction: (Transaction) -> Void
    ) {
        guard let message = DNSParser.parse(payload.bytes) else {
            let kind: Diagnostic.Kind = payload.isCutShort ? .cutShort : .dns(.truncatedHeader)
            countMalformed(kind, "DNS message of \(payload.bytes.count) octets has no complete header", payload)
            return
        }
        summary.dnsMessages += 1
        if message.isResponse { summary.responses += 1 } else { summary.queryMessages += 1 }
        if let error = message.error {
            // Running past the end of a datagram the capture cut short is the capture's doing, not the sender's.
            let cut = payload.isCutShort && (error.code == .truncated || error.code == .badRDLength || error.code == .badEDNS)
            let kind: Diagnostic.Kind = cut ? .cutShort : .dns(error.code)
            countMalformed(kind, error.reason, payload)
        }
        if message.trailingBytes > 0 { summary.messagesWithTrailingBytes += 1 }
        let observed = ObservedMessage(
            timestamp: payload.timestamp, transport: payload.transport, source: payload.source,
            destination: payload.destination, point: payload.point, message: message)
        onMessage(observed)
        // Without its question a message cannot be matched; it is shown as malformed in its place.
        let matchable = message.questions.count == Int(message.header.questionCount) || message.questions.count > 0
        var settled: [Transaction] = []
        if matchable {
            matcher.add(observed) { settled.append($0) }
        } else {
            matcher.addUnmatchable(observed) { settled.append($0) }
        }
        for t in settled { settle(t, onTransaction) }
    }

    private mutating func settle(_ t: Transaction, _ onTransaction: (Transaction) -> Void) {
        switch t.status {
        case .answered:
            summary.answered += 1
            if let l = t.latencyNanoseconds { summary.latencies.append(l) }
            summary.latencyDigits = max(summary.latencyDigits, t.precisionDigits)
        case .unanswered: summary.unanswered += 1
        case .orphanResponse: summary.orphanResponses += 1
        case .malformed:
            summary.unmatchable += 1
            if t.query != nil { summary.unmatchableQueries += 1 }
        }
        onTransaction(t)
    }

    private mutating func countMalformed(_ kind: Diagnostic.Kind, _ reason: String, _ payload: DNSPayload) {
        summary.dnsMalformed[kind, default: 0] += 1
        keep(Diagnostic(kind: kind, reason: reason, timestamp: payload.timestamp, point: payload.point))
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
