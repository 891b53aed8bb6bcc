/// What a query is known by: the socket it was sent on (transport, client, server), its DNS id and its question (its
/// name by fingerprint).
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
    var type: DNSType
    var qclass: DNSClass
    /// The question's name, lowercased, by its fingerprint (`DNSName.fingerprint`): the key holds no name, so filing
    /// and dropping one takes no reference. Two names with one fingerprint share a key: a send filed under it is
    /// another name's unless its query's name is the message's (`ObservedMessage.hasKeyName(of:)`), which the matcher
    /// asks before it takes one.
    var name: UInt64

    /// Every field equal; the cheap ones compared first (most keys a probe meets differ there).
    static func == (a: QueryKey, b: QueryKey) -> Bool {
        a.id == b.id && a.type == b.type && a.qclass == b.qclass && a.name == b.name && a.transport == b.transport
            && a.client == b.client && a.server == b.server
    }

    /// One word from every field (`FastHash`), finished with the table's seed.
    func _rawHashValue(seed: Int) -> Int {
        let small = UInt64(id) << 32 | UInt64(type.rawValue) << 16 | UInt64(qclass.rawValue)
        let socket = FastHash.flow(transport, client, server)
        return FastHash.mix(FastHash.fold(FastHash.fold(socket, name), small), seed: seed)
    }
}

extension QueryKey {
    /// The key of a message sent from `client` to `server` (a response's: its destination and its source). A message
    /// without a question is keyed by the root name and type and class 0.
    init(_ observed: ObservedMessage, client: Endpoint, server: Endpoint) {
        let (type, qclass, name) = observed.keyQuestionFields
        self.init(transport: observed.transport, client: client, server: server, id: observed.id, type: type,
                  qclass: qclass, name: name)
    }
}
