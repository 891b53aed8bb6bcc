import Synchronization

/// The ids of one transaction's findings, in order, as one-octet codes in two words: an `Analysis` is copied at every
/// stage, and with no list in it a copy is a plain copy (no reference to retain, nothing to free).
///
/// A code is the finding's place in `Finding.all` plus one; any other id (set from outside the rules) is numbered once
/// per process. Holds up to `capacity` ids (a transaction's rules mark at most thirteen).
struct FindingCodes: Hashable, Sendable {
    private var low: UInt64 = 0
    private var high: UInt64 = 0

    static let capacity = 16

    init() {}

    init(ids: [String]) {
        for id in ids { append(FindingCodes.code(for: id)) }
    }

    var isEmpty: Bool { low == 0 }

    var count: Int {
        (64 - low.leadingZeroBitCount + 7) / 8 + (64 - high.leadingZeroBitCount + 7) / 8
    }

    private func code(at i: Int) -> UInt8 {
        UInt8(truncatingIfNeeded: i < 8 ? low >> (8 * i) : high >> (8 * (i - 8)))
    }

    mutating func append(_ code: UInt8) {
        precondition(code != 0)
        let i = count
        precondition(i < FindingCodes.capacity, "more than \(FindingCodes.capacity) findings on one transaction")
        if i < 8 { low |= UInt64(code) << (8 * i) } else { high |= UInt64(code) << (8 * (i - 8)) }
    }

    /// Appends the finding at `index` in `Finding.all`.
    mutating func append(index: Int) { append(UInt8(index + 1)) }

    /// Whether the finding at `index` in `Finding.all` is among them.
    func contains(index: Int) -> Bool {
        let code = UInt8(index + 1)
        for i in 0..<count where self.code(at: i) == code { return true }
        return false
    }

    /// The places in `Finding.all` of those that are there (ids from outside the rules left out), in order.
    func forEachIndex(_ body: (Int) -> Void) {
        for i in 0..<count {
            let c = Int(code(at: i))
            if c <= Finding.all.count { body(c - 1) }
        }
    }

    var ids: [String] {
        guard !isEmpty else { return [] }
        return (0..<count).map { FindingCodes.id(code(at: $0)) }
    }

    // MARK: codes

    /// Ids that are not in `Finding.all`, numbered as first met (code `Finding.all.count + 1 + i`).
    private static let others = Mutex<[String]>([])

    static func code(for id: String) -> UInt8 {
        if let i = Finding.index(of: id) { return UInt8(i + 1) }
        return others.withLock { list in
            let i = list.firstIndex(of: id) ?? {
                precondition(Finding.all.count + 1 + list.count <= Int(UInt8.max), "too many finding ids")
                list.append(id)
                return list.count - 1
            }()
            return UInt8(Finding.all.count + 1 + i)
        }
    }

    static func id(_ code: UInt8) -> String {
        let c = Int(code)
        if c <= Finding.all.count { return Finding.all[c - 1].id }
        return others.withLock { $0[c - Finding.all.count - 1] }
    }
}
