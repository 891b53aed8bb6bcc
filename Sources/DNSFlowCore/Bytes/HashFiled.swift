/// Entries (numbered by `Int` ids), each holding one key, found by that key, filed under the key's 64-bit hash alone:
/// a table of two words an entry, where a dictionary from the key held the key again (a query key: a name, two
/// endpoints, an id and a question, with a reference to count at every copy) and, removing one, hashed the keys
/// after it again.
///
/// The entry found is asked whether it holds the key (`holds`), so a hash two keys share costs a second table, never
/// a mix-up: the key filed first under a hash keeps the hash's slot, a different key filed while that one is held
/// goes to `colliding` (a dictionary from the key). A key is filed in one of the two at a time. Hashes are the key's
/// `_rawHashValue` with a seed of the table's own, random per table as a dictionary's is.
///
/// `SlotIndex` files records the same way with less memory (a slot and half a hash a bucket), but asks a record when
/// those bits agree, and an id here is a sequence number (beyond `Int32`) whose record is itself found by a lookup:
/// most finds here are misses (a new query's key), which cost this table a comparison of hashes and no record at all.
struct HashFiled<Key: Hashable> {
    private var byHash: [SequenceKey: Int] = [:]
    private var colliding: [Key: Int] = [:]
    private let seed: Int

    init(seed: Int = Int.random(in: .min ... .max)) { self.seed = seed }

    var count: Int { byHash.count + colliding.count }
    /// Keys filed in the colliding table (one whose hash another key's entry held when it was filed).
    var collidingCount: Int { colliding.count }

    @inline(__always) func hash(_ key: Key) -> SequenceKey { SequenceKey(key._rawHashValue(seed: seed)) }

    /// The entry filed under `key`; `holds(id)` says whether entry `id` holds `key`.
    @inline(__always)
    func find(_ key: Key, holds: (Int) -> Bool) -> Int? {
        if let id = byHash[hash(key)], holds(id) { return id }
        return colliding.isEmpty ? nil : colliding[key]
    }

    /// Files entry `id` (any but `Int.min`) under `key`, in place of the entry filed under it before (returned).
    /// `isGone(id)`: entry `id` is no more (left in its hash's slot by `unfileLater`): its slot reads as vacant.
    @discardableResult
    mutating func file(_ key: Key, _ id: Int, holds: (Int) -> Bool, isGone: (Int) -> Bool = { _ in false }) -> Int? {
        precondition(id != HashFiled.vacant, "an entry numbered Int.min")
        // One find: a hash no entry holds (almost every new key) gets the entry where the find left off.
        switch HashFiled.take(&byHash[hash(key), default: HashFiled.vacant], for: id, holds: holds, isGone: isGone) {
        case .vacant: return colliding.isEmpty ? nil : colliding.removeValue(forKey: key)
        case .replaced(let held): return held
        case .heldByAnother: return colliding.updateValue(id, forKey: key)
        }
    }

    /// A hash's slot as `file` finds it: vacant (just made, holding `vacant`, or holding an entry gone), or holding an
    /// entry of the same key (replaced) or of another key with the same hash (left as it is).
    private enum Slot {
        case vacant
        case replaced(Int)
        case heldByAnother
    }

    private static var vacant: Int { .min }

    private static func take(_ slot: inout Int, for id: Int, holds: (Int) -> Bool, isGone: (Int) -> Bool) -> Slot {
        if slot != vacant, holds(slot) {
            defer { slot = id }
            return .replaced(slot)
        }
        guard slot == vacant || isGone(slot) else { return .heldByAnother }
        slot = id
        return .vacant
    }

    /// Unfiles `key` from the colliding table if entry `id` is filed there; in its hash's slot, the entry is left to
    /// read as absent (`find` asks it whether it holds the key; `file`, whether it is gone) until `dropGone`: unfiling
    /// it there would be a find and a removal in a slot gone cold (the entry was filed seconds before).
    mutating func unfileLater(_ key: Key, _ id: Int) {
        if !colliding.isEmpty, let i = colliding.index(forKey: key), colliding.values[i] == id { colliding.remove(at: i) }
    }

    /// Drops the slots of entries that are gone (left by `unfileLater`): one pass over the table, into one of its size
    /// (it fills again).
    mutating func dropGone(_ isGone: (Int) -> Bool) {
        var kept = [SequenceKey: Int](minimumCapacity: byHash.capacity)
        for (hash, id) in byHash where !isGone(id) { kept[hash] = id }
        byHash = kept
    }

    /// Unfiles `key` if entry `id`, which holds it (or held it), is filed under it.
    mutating func unfile(_ key: Key, _ id: Int) {
        if let i = byHash.index(forKey: hash(key)), byHash.values[i] == id {
            byHash.remove(at: i)
        } else if !colliding.isEmpty, let i = colliding.index(forKey: key), colliding.values[i] == id {
            colliding.remove(at: i)
        }
    }
}
