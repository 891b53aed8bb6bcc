/// Names for addresses (`--names`): `namespace/pod` and `namespace/service` from Kubernetes, or hosts-file names.
public struct AddressNames: Sendable {
    public private(set) var names: [IPAddress: String] = [:]

    public init() {}

    public static let none = AddressNames()

    public var isEmpty: Bool { names.isEmpty }

    public subscript(_ address: IPAddress) -> String? { names[address] }

    /// The first name given for an address wins (a pod's IP is not overwritten by a later, stale entry).
    public mutating func add(_ address: IPAddress, _ name: String) {
        if names[address] == nil { names[address] = AddressNames.printable(name) }
    }

    /// `endpoint (name)` when the address has a name.
    public func label(_ e: Endpoint) -> String {
        names[e.address].map { "\(e) (\($0))" } ?? e.description
    }

    /// Names come from files a user gave; they are still never written raw to a terminal (`SafeText`).
    static func printable(_ s: String) -> String { SafeText.printable(s) }

    /// An /etc/hosts-style text: `ADDRESS NAME [ALIASES…]`, `#` comments.
    public mutating func addHostsFile(_ text: String) -> Int {
        var added = 0
        for line in text.split(whereSeparator: { $0 == "\n" || $0 == "\r" }) {
            let content = line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            let fields = content.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard fields.count >= 2, let address = IPAddress(text: String(fields[0])) else { continue }
            add(address, String(fields[1]))
            added += 1
        }
        return added
    }
}

extension IPAddress {
    /// Parses `192.0.2.1`, `2001:db8::1`, `::ffff:192.0.2.1`; nil for anything else.
    public init?(text: String) {
        if !text.contains(":") {
            let parts = text.split(separator: ".", omittingEmptySubsequences: false)
            guard parts.count == 4 else { return nil }
            var value: UInt32 = 0
            for p in parts {
                guard !p.isEmpty, p.count <= 3, let b = UInt8(p) else { return nil }
                value = value << 8 | UInt32(b)
            }
            self = .v4(value)
            return
        }
        var text = Substring(text)
        if let percent = text.firstIndex(of: "%") { text = text[..<percent] }   // zone index
        var groups: [UInt16] = []
        var tail: [UInt16] = []
        var seenDoubleColon = false
        // Split at "::" (at most once) without Foundation.
        var halves: [String] = []
        if let r = text.firstRange(of: "::") {
            halves = [String(text[..<r.lowerBound]), String(text[r.upperBound...])]
            guard !halves[1].contains("::") else { return nil }
        } else {
            halves = [String(text)]
        }
        func parse(_ part: String) -> [UInt16]? {
            if part.isEmpty { return [] }
            var out: [UInt16] = []
            let pieces = part.split(separator: ":", omittingEmptySubsequences: false)
            for (i, piece) in pieces.enumerated() {
                if i == pieces.count - 1, piece.contains("."), let v4 = IPAddress(text: String(piece)), case .v4(let a) = v4 {
                    out += [UInt16(a >> 16), UInt16(a & 0xffff)]
                } else {
                    guard !piece.isEmpty, piece.count <= 4, let g = UInt16(piece, radix: 16) else { return nil }
                    out.append(g)
                }
            }
            return out
        }
        guard let head = parse(halves[0]) else { return nil }
        groups = head
        if halves.count == 2 {
            seenDoubleColon = true
            guard let t = parse(halves[1]) else { return nil }
            tail = t
        }
        let missing = 8 - groups.count - tail.count
        guard seenDoubleColon ? missing >= 1 : missing == 0 else { return nil }
        let all = groups + [UInt16](repeating: 0, count: seenDoubleColon ? missing : 0) + tail
        var bytes: [UInt8] = []
        for g in all { bytes += [UInt8(g >> 8), UInt8(g & 0xff)] }
        self.init(bytes: bytes[...])
    }
}
