/// Records kept in arrival order, each under a key, the latest record of each key found by that key; the oldest are
/// forgotten from the front (a first-in-first-out list), as a window of recent events is.
///
/// The latest of each key is found through an open-addressing table of 16-byte buckets (the key's 64-bit hash and the
/// record's ordinal, linear probing), so that a key no record holds — almost every key looked up on a busy capture —
/// costs one bucket's cache line, and the records themselves are written one after another. A bucket whose record has
/// been forgotten reads as vacant (the next key filed there takes it); the buckets are rebuilt with only the live ones
/// when three quarters are used. Hashes are the key's `_rawHashValue` with a seed of the table's own, random per
/// table as a dictionary's is: keys that share a hash are told apart by the record's key, never mixed up.
struct LatestByKey<Key: Hashable, Value> {
    private struct Record {
        var key: Key
        var value: Value
    }

    private struct Bucket {
        var hash: UInt64
        /// The record's ordinal (`empty`: never used since the last rebuild).
        var ordinal: Int
    }

    private static var empty: Int { .min }

    /// Records from `head` on are held; `records[0]` is the `base`th filed.
    private var records: [Record] = []
    private var head = 0
    private var base = 0
    private var buckets = [Bucket](repeating: Bucket(hash: 0, ordinal: LatestByKey.empty), count: 16)
    /// Buckets not empty: live, or left by a record forgotten.
    private var used = 0
    private let seed: Int

    init(seed: Int = Int.random(in: .min ... .max)) { self.seed = seed }

    /// Records held (the latest of their key or not).
    var count: Int { records.count - head }

    /// Ordinals below this are forgotten.
    private var forgottenBelow: Int { base + head }

    /// Where `find` left off: the key's latest record if one is held, and the bucket a new latest is filed in. Good
    /// until the table next changes.
    struct Place {
        fileprivate let hash: UInt64
        fileprivate let bucket: Int
        fileprivate let ordinal: Int?
    }

    /// The key's latest record held, and where a new one is filed.
    func find(_ key: Key) -> Place {
        let hash = UInt64(UInt(bitPattern: key._rawHashValue(seed: seed)))
        let mask = buckets.count - 1
        let below = forgottenBelow
        var i = Int(truncatingIfNeeded: hash) & mask
        var vacant = -1
        while true {
            let b = buckets[i]
            if b.ordinal == LatestByKey.empty {
                return Place(hash: hash, bucket: vacant >= 0 ? vacant : i, ordinal: nil)
            }
            if b.ordinal < below {
                if vacant < 0 { vacant = i }
            } else if b.hash == hash, records[b.ordinal - base].key == key {
                return Place(hash: hash, bucket: i, ordinal: b.ordinal)
            }
            i = (i + 1) & mask
        }
    }

    /// Brings the first bucket `find` reads for a key into the caches ahead of it: `hash` hashes the key with a seed.
    @inline(__always) func prefetchBucket(_ hash: (Int) -> Int) {
        let i = Int(truncatingIfNeeded: UInt64(UInt(bitPattern: hash(seed)))) & (buckets.count - 1)
        buckets.withUnsafeBufferPointer { prefetch(UnsafeRawPointer($0.baseAddress! + i), lines: 1) }
    }

    /// The value of the key's latest record at `place` (nil: the key has none held).
    func value(at place: Place) -> Value? {
        guard let ordinal = place.ordinal else { return nil }
        return records[ordinal - base].value
    }

    /// Changes the value of the key's latest record at `place`, where it lies (nothing when the key has none held).
    mutating func update(at place: Place, _ change: (inout Value) -> Void) {
        guard let ordinal = place.ordinal else { return }
        change(&records[ordinal - base].value)
    }

    /// Files a record, from now on its key's latest, at `place` (`find`'s for this key, the table unchanged since).
    mutating func append(_ key: consuming Key, _ value: consuming Value, at place: Place) {
        let ordinal = base + records.count
        records.append(Record(key: key, value: value))
        var bucket = place.bucket
        if place.ordinal == nil, buckets[bucket].ordinal == LatestByKey.empty {
            if (used + 1) * 4 > buckets.count * 3 {
                rebuild()
                bucket = emptyBucket(place.hash)
            }
            used += 1
        }
        buckets[bucket] = Bucket(hash: place.hash, ordinal: ordinal)
    }

    /// Forgets the oldest records while more than `max` are held, or while `isOld` says so of the oldest.
    mutating func forgetOldest(beyond max: Int, while isOld: (Value) -> Bool) {
        while head < records.count, records.count - head > max || isOld(records[head].value) { head += 1 }
        let consumed = head
        records.dropConsumed(head: &head)
        base += consumed - head
    }

    /// The first empty bucket from the hash's (in a table with no bucket left by a forgotten record).
    private func emptyBucket(_ hash: UInt64) -> Int {
        let mask = buckets.count - 1
        var i = Int(truncatingIfNeeded: hash) & mask
        while buckets[i].ordinal != LatestByKey.empty { i = (i + 1) & mask }
        return i
    }

    /// The live buckets in a table of at least twice as many (a bucket left by a forgotten record is dropped).
    private mutating func rebuild() {
        let below = forgottenBelow
        let live = buckets.filter { $0.ordinal >= below }
        var size = 16
        while size < 2 * (live.count + 1) { size *= 2 }
        buckets = [Bucket](repeating: Bucket(hash: 0, ordinal: LatestByKey.empty), count: size)
        for b in live { buckets[emptyBucket(b.hash)] = b }
        used = live.count
    }
}
