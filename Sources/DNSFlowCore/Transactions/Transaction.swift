/// One DNS message as seen in the capture: the decoded message plus where and when it was seen.
public struct ObservedMessage: Sendable {
    public var timestamp: Timestamp
    public var transport: TransportProtocol
    public var source: Endpoint
    public var destination: Endpoint
    public var point: CapturePoint
    /// Read out of more than the packet at `point`: IP fragments put together (TCP streams always are).
    public var isReassembled = false
    /// The decoded message, held once: transactions are copied from stage to stage, the message never is.
    public var message: DNSMessage { storage.message }
    private let storage: Storage

    private final class Storage: Sendable {
        let message: DNSMessage
        init(_ message: DNSMessage) { self.message = message }
    }

    public init(timestamp: Timestamp, transport: TransportProtocol, source: Endpoint, destination: Endpoint,
                point: CapturePoint, message: DNSMessage) {
        self.timestamp = timestamp
        self.transport = transport
        self.source = source
        self.destination = destination
        self.point = point
        self.storage = Storage(message)
    }
}

/// A query and its response (RFC 1035 §7.3 matching: transport, reversed endpoints, id, question).
public struct Transaction: Sendable {
    public enum Status: String, Sendable {
        case answered
        case unanswered
        case orphanResponse = "orphan-response"
        /// A message whose question section does not decode: it cannot be matched, but it is shown.
        case malformed
    }

    /// Order of arrival of the message that opened it (query, or response for an orphan).
    public var sequence: Int
    public var query: ObservedMessage?
    public var response: ObservedMessage?
    /// Set for a message that could not enter matching (see `Status.malformed`).
    public var isUnmatchable = false
    /// Attempts, pair, resolution, flow and sightings (filled in by the analysis).
    public var analysis = Analysis()

    public init(sequence: Int, query: ObservedMessage?, response: ObservedMessage?) {
        self.sequence = sequence
        self.query = query
        self.response = response
    }

    public var status: Status {
        if isUnmatchable { return .malformed }
        if query == nil { return .orphanResponse }
        return response == nil ? .unanswered : .answered
    }

    /// Query time, or the response's for an orphan.
    public var time: Timestamp { (query ?? response)!.timestamp }
    public var transport: TransportProtocol { (query ?? response)!.transport }
    public var client: Endpoint { query?.source ?? response!.destination }
    public var server: Endpoint { query?.destination ?? response!.source }
    /// The question as asked (or as echoed, for an orphan).
    public var question: DNSQuestion? { query?.message.question ?? response?.message.question }
    public var id: UInt16 { (query ?? response)!.message.id }

    /// Response time − query time, in nanoseconds.
    public var latencyNanoseconds: Int64? {
        guard let q = query, let r = response else { return nil }
        return r.timestamp.nanoseconds(since: q.timestamp)
    }

    /// Sub-second digits both timestamps carry (6 for microsecond captures, 9 for nanosecond).
    public var precisionDigits: UInt8 {
        min(query?.timestamp.digits ?? 9, response?.timestamp.digits ?? 9)
    }
}
