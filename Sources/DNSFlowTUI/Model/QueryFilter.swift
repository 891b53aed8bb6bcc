import DNSFlowCore

/// The `/` filter: space-separated terms, all of which must hold. A bare word is a name substring; the rest:
///
///     type:AAAA  rcode:NXDOMAIN  status:unanswered  proto:tcp  id:4660  retry  pair:partial
///     client:10.1.2.3  server:10.96.0.10  flow:3  finding:conntrack-race  >100ms  <5ms  >=1s
///     wait>1s  wait<=50ms
///
/// `>100ms` bounds one query's latency; `wait>1s` what its lookup waited (the whole search-list walk).
/// A leading `!` negates a term (`!type:PTR`).
public struct QueryFilter: Equatable, Sendable {
    public let text: String
    private let terms: [Term]

    enum Predicate: Equatable, Sendable {
        case name(String)
        case type(String)
        case rcode(String)
        case status(String)
        case proto(String)
        case id(UInt16)
        case retry
        case pair(String)
        case client(String)
        case server(String)
        case flow(Int)
        case finding(String)
        case latencyAbove(Int64, orEqual: Bool)
        case latencyBelow(Int64, orEqual: Bool)
        /// What the row's lookup waited (its whole search-list walk), above or below a bound.
        case waitAbove(Int64, orEqual: Bool)
        case waitBelow(Int64, orEqual: Bool)
    }

    struct Term: Equatable, Sendable {
        var negated: Bool
        var predicate: Predicate
    }

    public static let syntax = [
        "name substring (bare word)", "type:AAAA", "rcode:NXDOMAIN", "status:unanswered|answered|pending|orphan-response|malformed",
        "proto:udp|tcp", "id:4660", "retry", "pair:ok|retried|partial|failed|single", "client:10.1.2.3", "server:10.96.0.10",
        "flow:3", "finding:conntrack-race", ">100ms  <5ms  >=1s (one query's latency)",
        "wait>1s  wait<=50ms (what the query's lookup waited: its whole search-list walk)", "!term negates",
    ]

    public var isEmpty: Bool { terms.isEmpty }

    /// Parses `text`; a term it cannot read is an error naming it (the filter stays as it was).
    public init(_ text: String) throws(FilterError) {
        self.text = text.trimmingSpaces
        var terms: [Term] = []
        for word in self.text.split(separator: " ") where !word.isEmpty {
            var w = Substring(word)
            var negated = false
            if w.first == "!", w.count > 1 { negated = true; w = w.dropFirst() }
            terms.append(Term(negated: negated, predicate: try QueryFilter.predicate(String(w))))
        }
        self.terms = terms
    }

    public static let none = try! QueryFilter("")

    private static func predicate(_ w: String) throws(FilterError) -> Predicate {
        let lower = w.lowercased()
        if lower == "retry" { return .retry }
        if let p = try latency(lower) { return p }
        if lower.hasPrefix("wait"), let p = try latency(String(lower.dropFirst(4))) {
            switch p {
            case .latencyAbove(let ns, let eq): return .waitAbove(ns, orEqual: eq)
            case .latencyBelow(let ns, let eq): return .waitBelow(ns, orEqual: eq)
            default: break
            }
        }
        guard let colon = lower.firstIndex(of: ":"), colon != lower.startIndex else { return .name(lower) }
        let key = String(lower[..<colon])
        let value = String(lower[lower.index(after: colon)...])
        guard !value.isEmpty else { throw FilterError("\(w): nothing after the colon") }
        switch key {
        case "type": return .type(value)
        case "rcode": return .rcode(value)
        case "status":
            let known = ["answered", "unanswered", "pending", "orphan-response", "orphan", "malformed"]
            guard known.contains(value) else { throw FilterError("\(w): status is one of \(known.joined(separator: ", "))") }
            return .status(value == "orphan" ? "orphan-response" : value)
        case "proto": return .proto(value)
        case "id":
            guard let id = UInt16(value) ?? (value.hasPrefix("0x") ? UInt16(value.dropFirst(2), radix: 16) : nil) else {
                throw FilterError("\(w): an id is 0 to 65535")
            }
            return .id(id)
        case "pair": return .pair(value)
        case "client": return .client(value)
        case "server": return .server(value)
        case "flow":
            guard let n = Int(value.hasPrefix("#") ? String(value.dropFirst()) : value) else { throw FilterError("\(w): a flow is a number") }
            return .flow(n)
        case "finding": return .finding(value)
        default:
            // An IPv6 address or a name with a colon in it is a name substring; an unknown key is a mistake.
            if key.allSatisfy({ $0.isLetter }) { throw FilterError("\(w): unknown term \(key): (try ? for the syntax)") }
            return .name(lower)
        }
    }

    /// `>100ms`, `<=5ms`, `>1s`, `>250us`.
    private static func latency(_ w: String) throws(FilterError) -> Predicate? {
        guard let first = w.first, first == ">" || first == "<" else { return nil }
        var rest = w.dropFirst()
        let orEqual = rest.first == "="
        if orEqual { rest = rest.dropFirst() }
        let units: [(String, Double)] = [("ms", 1e6), ("us", 1e3), ("µs", 1e3), ("ns", 1), ("s", 1e9)]
        guard let (unit, scale) = units.first(where: { rest.hasSuffix($0.0) }),
              let v = Double(rest.dropLast(unit.count)), v >= 0
        else { throw FilterError("\(w): a latency bound reads like >100ms, <5ms or >=1s") }
        let ns = Int64(v * scale)
        return first == ">" ? .latencyAbove(ns, orEqual: orEqual) : .latencyBelow(ns, orEqual: orEqual)
    }

    public func matches(_ e: Entry) -> Bool {
        for term in terms where QueryFilter.holds(term.predicate, e) == term.negated { return false }
        return true
    }

    private static func holds(_ p: Predicate, _ e: Entry) -> Bool {
        let t = e.facts
        switch p {
        case .name(let s): return e.searchName.contains(s)
        case .type(let s): return t.type.map { $0.description.lowercased() == s } ?? false
        case .rcode(let s): return t.rcode.map { $0.description.lowercased() == s } ?? false
        case .status(let s): return e.isWaiting ? s == "pending" : t.status.rawValue == s
        case .proto(let s): return e.flow.key.transport.rawValue == s
        case .id(let id): return t.id == id
        case .retry: return e.isRetry
        case .pair(let s): return t.pairState?.rawValue == s
        case .client(let s): return matchesEndpoint(e.flow.key.client, s)
        case .server(let s): return matchesEndpoint(e.flow.key.server, s)
        case .flow(let n): return e.flow.number == n
        case .finding(let s): return t.findings.contains(s)
        case .latencyAbove(let ns, let eq):
            guard let l = t.latencyNanoseconds else { return false }
            return eq ? l >= ns : l > ns
        case .waitAbove(let ns, let eq):
            guard let w = t.lookupNanoseconds else { return false }
            return eq ? w >= ns : w > ns
        case .waitBelow(let ns, let eq):
            guard let w = t.lookupNanoseconds else { return false }
            return eq ? w <= ns : w < ns
        case .latencyBelow(let ns, let eq):
            guard let l = t.latencyNanoseconds else { return false }
            return eq ? l <= ns : l < ns
        }
    }

    /// `10.1.2.3` matches the address; `10.1.2.3.53` or `10.1.2.3:53` also the port; `10.1.` a prefix.
    private static func matchesEndpoint(_ endpoint: Endpoint, _ s: String) -> Bool {
        let address = endpoint.address.description.lowercased()
        if address == s || endpoint.description.lowercased() == s || "\(address):\(endpoint.port)" == s { return true }
        return s.last == "." || s.last == ":" ? address.hasPrefix(s) : false
    }
}

public struct FilterError: Error, Equatable, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}

extension String {
    var trimmingSpaces: String {
        var s = Substring(self)
        while s.first == " " { s = s.dropFirst() }
        while s.last == " " { s = s.dropLast() }
        return String(s)
    }
}
