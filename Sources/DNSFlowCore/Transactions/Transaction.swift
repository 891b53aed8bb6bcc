/// One DNS message as seen in the capture: the decoded message plus where and when it was seen.
public struct ObservedMessage: Sendable {
    /// What was seen, held once, in one box: a message passes from the decoding thread through matching, the analysis
    /// and the front ends, and is copied at each step; a copy is one reference, its destruction one release. A field
    /// set on a shared copy copies the box first (copy on write, as `Array`).
    private var storage: Box

    public var timestamp: Timestamp {
        get { storage.timestamp }
        set { unique(); storage.timestamp = newValue }
    }
    public var transport: TransportProtocol {
        get { storage.transport }
        set { unique(); storage.transport = newValue }
    }
    public var source: Endpoint {
        get { storage.source }
        set { unique(); storage.source = newValue }
    }
    public var destination: Endpoint {
        get { storage.destination }
        set { unique(); storage.destination = newValue }
    }
    public var point: CapturePoint {
        get { storage.point }
        set { unique(); storage.point = newValue }
    }
    /// Read out of more than the packet at `point`: IP fragments put together (TCP streams always are).
    public var isReassembled: Bool {
        get { storage.isReassembled }
        set { unique(); storage.isReassembled = newValue }
    }
    /// The decoded message, lent to the reader, not copied (a copy of the message is a handful of retained lists, for
    /// each field read).
    public var message: DNSMessage {
        _read { yield storage.message }
    }

    /// The message's id and first question, read where they lie (from another module, a field read through `message`
    /// copied the whole message first).
    public var id: UInt16 { storage.message.header.id }
    public var question: DNSQuestion? { storage.message.question }

    /// The first question as matching keys compare it (`QueryKey`: no question is the root name, type and class 0): its
    /// type, class and name's fingerprint (the name lowercased), read where they lie, no reference taken (a name with a
    /// capital is lowercased to be hashed; few are).
    var keyQuestionFields: (DNSType, DNSClass, UInt64) {
        guard storage.message.question != nil else { return (DNSType(0), DNSClass(0), DNSName.root.fingerprint) }
        let fingerprint = storage.message.question!.name.fingerprint
        return (storage.message.question!.type, storage.message.question!.qclass,
                fingerprint & DNSName.capitalBit == 0 ? fingerprint : storage.message.question!.name.lowercased.fingerprint)
    }

    /// Whether `other`'s first question's name is this one's as matching compares them (without regard to case; no
    /// question: the root), read where they lie.
    func hasKeyName(of other: ObservedMessage) -> Bool {
        switch (storage.message.question != nil, other.storage.message.question != nil) {
        case (true, true): storage.message.question!.name.equalsIgnoringCase(other.storage.message.question!.name)
        case (false, false): true
        case (true, false): storage.message.question!.name.isRoot
        case (false, true): other.storage.message.question!.name.isRoot
        }
    }

    /// Where the message's box lies (no reference taken): for prefetching.
    var boxAddress: UnsafeRawPointer { UnsafeRawPointer(Unmanaged.passUnretained(storage).toOpaque()) }

    /// The client, first question's name fingerprint and type of the message whose box lies at `box` (a message a
    /// packet still holds), as the analysis's question table hashes them (`QuestionKey`), read where they lie, no
    /// reference taken; nil without a question, or for a name with a capital (its lowercased fingerprint is worked out
    /// only when it is filed).
    static func questionKeyParts(atBox box: UnsafeRawPointer) -> (client: IPAddress, fingerprint: UInt64, type: DNSType)? {
        Unmanaged<Box>.fromOpaque(box)._withUnsafeGuaranteedRef { b in
            guard b.message.question != nil, b.message.question!.name.fingerprint & DNSName.capitalBit == 0 else { return nil }
            return (b.message.isResponse ? b.destination.address : b.source.address, b.message.question!.name.fingerprint,
                    b.message.question!.type)
        }
    }

    /// About what holding the message takes (`Transaction.heldBytes`), worked out once, in its box.
    var heldEstimate: Int { storage.heldEstimate }

    private mutating func unique() {
        if !isKnownUniquelyReferenced(&storage) { storage = storage.copy() }
    }

    /// A message and where it was seen, made once on the decoding thread. Changed only through a copy that holds it
    /// alone (`unique`): a box shared between threads is only read.
    private final class Box: @unchecked Sendable {
        var timestamp: Timestamp
        var transport: TransportProtocol
        var source: Endpoint
        var destination: Endpoint
        var point: CapturePoint
        var isReassembled: Bool
        let message: DNSMessage
        /// Its octets three times over, and 96 octets a record (by the header's counts, each record taking at least 11
        /// of the message's octets).
        let heldEstimate: Int

        init(timestamp: Timestamp, transport: TransportProtocol, source: Endpoint, destination: Endpoint,
             point: CapturePoint, isReassembled: Bool, message: consuming DNSMessage) {
            self.timestamp = timestamp
            self.transport = transport
            self.source = source
            self.destination = destination
            self.point = point
            self.isReassembled = isReassembled
            heldEstimate = Box.estimate(message)
            self.message = message
        }

        private static func estimate(_ message: borrowing DNSMessage) -> Int {
            let h = message.header
            let counts = Int(h.questionCount) + Int(h.answerCount) + Int(h.authorityCount) + Int(h.additionalCount)
            return 3 * message.size + 96 * min(counts, message.size / 11)
        }

        func copy() -> Box {
            Box(timestamp: timestamp, transport: transport, source: source, destination: destination, point: point,
                isReassembled: isReassembled, message: message)
        }
    }

    public init(timestamp: Timestamp, transport: TransportProtocol, source: Endpoint, destination: Endpoint,
                point: CapturePoint, isReassembled: Bool = false, message: consuming DNSMessage) {
        storage = Box(timestamp: timestamp, transport: transport, source: source, destination: destination, point: point,
                      isReassembled: isReassembled, message: message)
    }
}

/// A query and its response (RFC 1035 §7.3 matching: transport, reversed endpoints, id, question).
///
/// A value with its fields in one shared box, copied only when a shared one is changed (copy on write, as `Array`):
/// a transaction passes from the matcher to the analysis to the front end, through lists and closures, and copying
/// its 400 bytes (two messages' metadata and the analysis) at each step cost a tenth of `--summary`'s time.
public struct Transaction: Sendable {
    public enum Status: String, Sendable {
        case answered
        case unanswered
        case orphanResponse = "orphan-response"
        /// A message whose question section does not decode: it cannot be matched, but it is shown.
        case malformed
    }

    private final class Fields: @unchecked Sendable {
        @exclusivity(unchecked) var sequence: Int
        @exclusivity(unchecked) var query: ObservedMessage?
        @exclusivity(unchecked) var response: ObservedMessage?
        @exclusivity(unchecked) var isUnmatchable = false
        @exclusivity(unchecked) var analysis = Analysis()
        /// `Transaction.heldBytes`, kept up to date when a message is set (it is read at every step of matching).
        @exclusivity(unchecked) var heldBytes = 0

        init(sequence: Int, query: consuming ObservedMessage?, response: consuming ObservedMessage?) {
            // (Estimated first, so that the messages are moved in, not copied.)
            heldBytes = Fields.estimate(query, response)
            self.sequence = sequence
            self.query = query
            self.response = response
        }

        func copy() -> Fields {
            let c = Fields(sequence: sequence, query: query, response: response)
            c.isUnmatchable = isUnmatchable
            c.analysis = analysis
            return c
        }

        static func estimate(_ query: ObservedMessage?, _ response: ObservedMessage?) -> Int {
            512 + (query?.heldEstimate ?? 0) + (response?.heldEstimate ?? 0)
        }
    }

    private var fields: Fields

    /// Before a change: a box shared with another copy is copied first.
    private mutating func unique() {
        if !isKnownUniquelyReferenced(&fields) { fields = fields.copy() }
    }

    public init(sequence: Int, query: ObservedMessage?, response: ObservedMessage?) {
        fields = Fields(sequence: sequence, query: query, response: response)
    }

    /// Order of arrival of the message that opened it (query, or response for an orphan).
    public var sequence: Int {
        get { fields.sequence }
        set { unique(); fields.sequence = newValue }
    }

    public var query: ObservedMessage? {
        get { fields.query }
        _modify {
            unique()
            yield &fields.query
            fields.heldBytes = Fields.estimate(fields.query, fields.response)
        }
    }

    public var response: ObservedMessage? {
        get { fields.response }
        _modify {
            unique()
            yield &fields.response
            fields.heldBytes = Fields.estimate(fields.query, fields.response)
        }
    }

    /// Set for a message that could not enter matching (see `Status.malformed`).
    public var isUnmatchable: Bool {
        get { fields.isUnmatchable }
        set { unique(); fields.isUnmatchable = newValue }
    }

    /// Attempts, pair, lookup, flow and sightings (filled in by the analysis).
    public var analysis: Analysis {
        get { fields.analysis }
        _modify { unique(); yield &fields.analysis }
    }

    // Read straight from the box (no copy of a whole message's metadata to read one field).
    public var status: Status {
        let f = fields
        if f.isUnmatchable { return .malformed }
        if f.query == nil { return .orphanResponse }
        return f.response == nil ? .unanswered : .answered
    }

    /// Query time, or the response's for an orphan.
    public var time: Timestamp { fields.query?.timestamp ?? fields.response!.timestamp }
    public var transport: TransportProtocol { fields.query?.transport ?? fields.response!.transport }
    public var client: Endpoint { fields.query?.source ?? fields.response!.destination }
    public var server: Endpoint { fields.query?.destination ?? fields.response!.source }
    /// The question as asked (or as echoed, for an orphan).
    public var question: DNSQuestion? { fields.query?.message.question ?? fields.response?.message.question }
    public var id: UInt16 { fields.query?.message.id ?? fields.response!.message.id }

    /// Where the transaction's box lies (no reference taken): for prefetching.
    var boxAddress: UnsafeRawPointer { UnsafeRawPointer(Unmanaged.passUnretained(fields).toOpaque()) }

    /// Where the query's box lies, for the transaction whose box lies at `box` (nil: no query), read where it lies, no
    /// reference taken: for prefetching.
    static func queryBoxAddress(atBox box: UnsafeRawPointer) -> UnsafeRawPointer? {
        Unmanaged<Fields>.fromOpaque(box)._withUnsafeGuaranteedRef { $0.query?.boxAddress }
    }

    /// Where the box lies of the transaction at `place` (a transaction is its box's reference alone), read there: no
    /// copy, whose count would touch the box.
    static func boxAddress(at place: UnsafePointer<Transaction>) -> UnsafeRawPointer {
        UnsafeRawPointer(place).load(as: UnsafeRawPointer.self)
    }

    /// The messages' boxes of the transaction whose box lies at `box` fetched ahead of a read (only hints: nothing
    /// waits, nothing changes), read where they lie, no reference taken.
    static func prefetchMessages(atBox box: UnsafeRawPointer) {
        Unmanaged<Fields>.fromOpaque(box)._withUnsafeGuaranteedRef { f in
            if let q = f.query?.boxAddress { prefetch(q, lines: 4) }
            if let r = f.response?.boxAddress { prefetch(r, lines: 4) }
        }
    }

    public var hasQuery: Bool { fields.query != nil }
    public var hasResponse: Bool { fields.response != nil }
    /// Where each message was seen, read in place.
    public var queryPoint: CapturePoint? { fields.query?.point }
    public var responsePoint: CapturePoint? { fields.response?.point }
    /// Either message was put together from more than one packet (IP fragments, a TCP stream).
    public var isReassembled: Bool { fields.query?.isReassembled == true || fields.response?.isReassembled == true }
    /// The response's header (its rcode, its flags), read in place.
    public var responseHeader: DNSHeader? { fields.response?.message.header }
    public var responseTime: Timestamp? { fields.response?.timestamp }
    /// The response's rcode, EDNS's extended bits included.
    public var responseRCode: DNSRCode? { fields.response?.message.rcode }
    /// A positive answer: NOERROR with at least one answer record.
    public var isPositive: Bool {
        guard let m = fields.response?.message else { return false }
        return m.rcode == .noError && m.answersRead > 0
    }

    /// Response time − query time, in nanoseconds.
    public var latencyNanoseconds: Int64? {
        guard let q = fields.query?.timestamp, let r = fields.response?.timestamp else { return nil }
        return r.nanoseconds(since: q)
    }

    /// Sub-second digits both timestamps carry (6 for microsecond captures, 9 for nanosecond).
    public var precisionDigits: UInt8 {
        min(fields.query?.timestamp.digits ?? 9, fields.response?.timestamp.digits ?? 9)
    }
}

extension Transaction {
    /// About what the transaction takes in memory while it is held: each message's octets, and its records parsed and
    /// shown as text. What the bounds in octets on held transactions count (the matcher's waiting queries, the
    /// analysis's settled ones, the interface's kept ones): a hostile capture of 64 KiB messages must not be held
    /// by the hundred thousand.
    public var heldBytes: Int { fields.heldBytes }

    /// `heldBytes` of a transaction holding these messages, before it is made (a query the matcher holds alone).
    static func heldBytes(query: ObservedMessage?, response: ObservedMessage?) -> Int { Fields.estimate(query, response) }
}
