/// What a query is known by: the socket it was sent on (transport, client, server), its DNS id and its question.
///
/// The matcher pairs a response with a query under the same key (the response's endpoints swapped). (The analysis
/// files a query's attempts under the fields of it the attempt rule compares: `AttemptKey`.)
struct QueryKey: Hashable {
    /// A question as keys compare it: the name lowercased (names compare without regard to case), type and class.
    struct Question: Hashable {
        var name: DNSName
        var type: DNSType
        var qclass: DNSClass

        init(name: DNSName, type: DNSType, qclass: DNSClass) {
            self.name = name
            self.type = type
            self.qclass = qclass
        }

        init(_ question: DNSQuestion) {
            self.init(name: question.name.lowercased, type: question.type, qclass: question.qclass)
        }
    }

    var transport: TransportProtocol
    var client: Endpoint
    var server: Endpoint
    var id: UInt16
    var question: Question

    /// Every field equal; the cheap ones compared first (most keys a probe meets differ there).
    static func == (a: QueryKey, b: QueryKey) -> Bool {
        a.id == b.id && a.question.type == b.question.type && a.question.qclass == b.question.qclass
            && a.transport == b.transport && a.client == b.client && a.server == b.server && a.question.name == b.question.name
    }

    /// One word from every field (`FastHash`), finished with the table's seed.
    func _rawHashValue(seed: Int) -> Int {
        let small = UInt64(id) << 32 | UInt64(question.type.rawValue) << 16 | UInt64(question.qclass.rawValue)
        let socket = FastHash.flow(transport, client, server)
        return FastHash.mix(FastHash.fold(FastHash.fold(socket, question.name.fingerprint), small), seed: seed)
    }
}

extension QueryKey {
    /// The key of a message sent from `client` to `server` (a response's: its destination and its source). A message
    /// without a question is keyed by the root name and type and class 0.
    init(_ observed: ObservedMessage, client: Endpoint, server: Endpoint) {
        self.init(transport: observed.transport, client: client, server: server, id: observed.id,
                  question: observed.keyQuestion)
    }
}
