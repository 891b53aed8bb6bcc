/// The matcher's open queries by matching key: for each key, the sends still waiting under it.
///
/// Records of the key and its sends, kept by slot (a slot freed is given to the next key), found through a `SlotIndex`
/// of 8-byte buckets holding a slot and half the key's hash. A dictionary from the key compared the keys themselves,
/// a cache line each, along each probe, and almost every find is of a key no query holds (a new query's): here such a
/// find reads the buckets alone. Hashes are the key's `_rawHashValue` with a seed of the table's own, random per table
/// as a dictionary's is: keys that share a hash are told apart by the record's key, never mixed up.
struct OpenKeys {
    private struct Record {
        var key: QueryKey
        var sends: OpenSends
    }

    private var records: [Record] = []
    private var freeSlots: [Int32] = []
    private var index = SlotIndex()
    private let seed: Int

    init(seed: Int = Int.random(in: .min ... .max)) { self.seed = seed }

    /// Keys with sends open.
    var count: Int { index.count }

    /// Where `find` left off: the key's hash, and the slot of its sends if any are open. Good until the table next
    /// changes.
    struct Place {
        fileprivate let hash: UInt64
        let slot: Int32?
    }

    /// The key's sends, if any are open, and what `add` or `remove` needs of it.
    @inline(__always) func find(_ key: QueryKey) -> Place {
        let hash = UInt64(UInt(bitPattern: key._rawHashValue(seed: seed)))
        return Place(hash: hash, slot: index.find(hash: hash) { records[Int($0)].key == key })
    }

    /// The sends open under the key at `slot` (never empty: a key whose last send goes is removed).
    subscript(slot: Int32) -> OpenSends {
        get { records[Int(slot)].sends }
        _modify { yield &records[Int(slot)].sends }
    }

    /// Opens a key with no sends open (`find`'s place for it, which found none), with `sends`; returns its slot.
    @discardableResult
    mutating func add(_ key: QueryKey, at place: Place, _ sends: consuming OpenSends) -> Int32 {
        let slot: Int32
        if !freeSlots.isEmpty {
            // Filled where it lies (a record assigned whole was copied twice).
            slot = freeSlots.removeLast()
            records[Int(slot)].key = key
            records[Int(slot)].sends = sends
        } else {
            slot = Int32(records.count)
            records.append(Record(key: key, sends: sends))
        }
        index.insert(slot, hash: place.hash)
        return slot
    }

    /// Closes the key `find` found at `place` (its sends let go).
    mutating func remove(at place: Place) {
        guard let slot = place.slot else { return }
        index.remove(slot, hash: place.hash)
        records[Int(slot)].sends = OpenSends()
        freeSlots.append(slot)
    }
}

/// The sends open under one matching key, oldest first (almost always one).
struct OpenSends: PlainList {
    struct Send {
        var sequence: Int
        var time: Timestamp
    }

    typealias Element = Send
    static let blank = Send(sequence: 0, time: Timestamp(seconds: 0, nanoseconds: 0))
    var held = 0
    var slots = (blank, blank)
    var rest: [Send] = []

    init() {}

    /// A list of one.
    init(_ send: Send) { append(send) }
}
