/// A map from sequence numbers to values, for keys that come in about the order they are numbered and leave about as
/// soon (a query's analysis until it settles, a transaction until its lookup is final, chains, pairs and lookups by
/// their first query): the operations of `SequenceMap`, with a key found by its place in a window instead of by a hash.
///
/// Keys of the latest sequences (from `base`, at most `maxWindow` of them) are found through a ring of 4-byte slots,
/// one a sequence, holding where the key's value lies; keys older than the window (a lookup held for its horizon, a
/// transaction that settled a minute late) are filed in a dictionary — correct for any key, only slower. The window
/// starts small, doubles while the keys held span more, then slides, handing the keys it leaves to the dictionary.
/// Values lie in storage of their own, each moved in once and left where it was put until it is taken out (read and
/// changed there); a copy of the map shares that storage until either changes (copy on write). Keys are sequence
/// numbers: two keys held at once are less than `Int.max` apart. (For this module's tables: from another module its
/// code runs unspecialised, each value handled through its type's generic witnesses.)
struct SequenceWindow<Value> {
    private var storage: Storage

    init(maxWindow: Int = 1 << 17) { storage = Storage(maxWindow: maxWindow) }

    var count: Int { storage.count }
    var isEmpty: Bool { storage.count == 0 }

    /// Every key held, in no particular order.
    var keys: [Int] {
        var out: [Int] = []
        out.reserveCapacity(storage.count)
        storage.forEachHeld { key, _ in out.append(key) }
        return out
    }

    @inline(__always) func contains(_ key: Int) -> Bool { storage.place(key) != nil }

    subscript(key: Int) -> Value? {
        @inline(__always) get { storage.place(key).map { storage.values[$0] } }
        _modify {
            unique()
            var value: Value? = storage.place(key).map { storage.take(key, at: $0) }
            yield &value
            if value != nil { storage.put(key, value.take()!) }
        }
    }

    subscript(key: Int, default value: @autoclosure () -> Value) -> Value {
        @inline(__always) get { storage.place(key).map { storage.values[$0] } ?? value() }
        _modify {
            unique()
            let i: Int
            if let held = storage.place(key) { i = held } else { i = storage.put(key, value()) }
            yield &storage.values[i]
        }
    }

    /// Files `value` under `key` (moved in: the cheapest way in); returns the value it replaced.
    @discardableResult @inline(__always)
    mutating func updateValue(_ value: consuming Value, forKey key: Int) -> Value? {
        unique()
        if let i = storage.place(key) {
            let old = (storage.values + i).move()
            (storage.values + i).initialize(to: value)
            return old
        }
        storage.put(key, value)
        return nil
    }

    @discardableResult
    mutating func removeValue(forKey key: Int) -> Value? {
        // (A copy made by `unique` keeps every value at the same place.)
        guard let i = storage.place(key) else { return nil }
        unique()
        return storage.take(key, at: i)
    }

    /// Changes a value where it lies; false when the key is absent.
    @discardableResult @inline(__always)
    mutating func update(_ key: Int, _ change: (inout Value) -> Void) -> Bool {
        guard let i = storage.place(key) else { return false }
        unique()
        change(&storage.values[i])
        return true
    }

    /// Reads a value where it lies.
    @inline(__always)
    func read<T>(_ key: Int, _ body: (borrowing Value) -> T) -> T? {
        guard let i = storage.place(key) else { return nil }
        return body(storage.values[i])
    }

    /// Where a value lies (nil: absent): for reading its bits without a copy, which a reference's count would take
    /// (a prefetch of what it refers to).
    @inline(__always)
    func withPlace<T>(_ key: Int, _ body: (UnsafePointer<Value>) -> T) -> T? {
        guard let i = storage.place(key) else { return nil }
        return body(storage.values + i)
    }

    /// Reads a value where it lies, for a caller that may change the map: through its own access to the map, where
    /// `read` takes a reference to the storage (counted and dropped at every call).
    @inline(__always)
    mutating func lend<T>(_ key: Int, _ body: (borrowing Value) -> T) -> T? { read(key, body) }

    @inline(__always)
    private mutating func unique() {
        if !isKnownUniquelyReferenced(&storage) { storage = storage.copy() }
    }

    /// (Its fields are used by one thread at a time, as the map holding it: not checked at run time, a check at every
    /// access.)
    private final class Storage {
        /// For key `k` in `base ..< base + ringCount`: where its value lies plus one (0: no value), at `k & (ringCount - 1)`.
        @exclusivity(unchecked) private var ring: UnsafeMutablePointer<Int32>
        @exclusivity(unchecked) private var ringCount: Int
        @exclusivity(unchecked) private var base = 0
        /// Above every key filed in the ring since it was last empty (`forEachHeld` looks no further).
        @exclusivity(unchecked) private var end = 0
        /// Keys below `base`, and where their values lie.
        @exclusivity(unchecked) private var older: [SequenceKey: Int32] = [:]
        /// Values at the places handed out (`used`), but for the vacant ones.
        @exclusivity(unchecked) private(set) var values: UnsafeMutablePointer<Value>
        @exclusivity(unchecked) private var capacity: Int
        @exclusivity(unchecked) private var used = 0
        /// The places below `used` free again, a stack (room for `capacity`: a place is free at most once).
        @exclusivity(unchecked) private var vacant: UnsafeMutablePointer<Int32>
        @exclusivity(unchecked) private var vacantCount = 0
        @exclusivity(unchecked) private(set) var count = 0
        let maxWindow: Int

        init(maxWindow: Int) {
            precondition(maxWindow > 0 && maxWindow & (maxWindow - 1) == 0)
            self.maxWindow = maxWindow
            ringCount = min(1024, maxWindow)
            ring = .allocate(capacity: ringCount)
            ring.initialize(repeating: 0, count: ringCount)
            capacity = 16
            values = .allocate(capacity: capacity)
            vacant = .allocate(capacity: capacity)
        }

        deinit {
            forEachHeld { _, i in (values + i).deinitialize(count: 1) }
            values.deallocate()
            vacant.deallocate()
            ring.deallocate()
        }

        /// A storage holding copies of the same values at the same places.
        func copy() -> Storage {
            let c = Storage(maxWindow: maxWindow)
            c.ring.deallocate()
            c.ringCount = ringCount
            c.ring = .allocate(capacity: ringCount)
            c.ring.initialize(from: ring, count: ringCount)
            c.base = base
            c.end = end
            c.older = older
            c.values.deallocate()
            c.capacity = capacity
            c.values = .allocate(capacity: capacity)
            forEachHeld { _, i in (c.values + i).initialize(to: values[i]) }
            c.used = used
            c.vacant.deallocate()
            c.vacant = .allocate(capacity: capacity)
            c.vacant.initialize(from: vacant, count: vacantCount)
            c.vacantCount = vacantCount
            c.count = count
            return c
        }

        /// Where `key`'s value lies.
        @inline(__always)
        func place(_ key: Int) -> Int? {
            let offset = key &- base
            if offset >= 0, offset < ringCount {
                let s = ring[key & (ringCount - 1)]
                return s == 0 ? nil : Int(s) - 1
            }
            guard offset < 0, !older.isEmpty, let s = older[SequenceKey(key)] else { return nil }
            return Int(s)
        }

        /// Each key held and where its value lies.
        func forEachHeld(_ body: (Int, Int) -> Void) {
            if count > older.count {
                let mask = ringCount - 1
                for k in base..<max(base, min(end, base + ringCount)) where ring[k & mask] != 0 {
                    body(k, Int(ring[k & mask]) - 1)
                }
            }
            for (k, s) in older { body(k.value, Int(s)) }
        }

        /// Files a new key's value (moved in); returns where it lies.
        @discardableResult
        func put(_ key: Int, _ value: consuming Value) -> Int {
            let i: Int
            if vacantCount > 0 {
                vacantCount -= 1
                i = Int(vacant[vacantCount])
            } else {
                if used == capacity { growValues() }
                i = used
                used += 1
            }
            (values + i).initialize(to: value)
            count += 1
            if count == 1, older.isEmpty {
                // Nothing else held: the window starts at the key.
                base = key
                end = key
            }
            if key < base {
                older[SequenceKey(key)] = Int32(i)
            } else {
                if key &- base >= ringCount { makeRoom(for: key) }
                ring[key & (ringCount - 1)] = Int32(i + 1)
                end = max(end, key + 1)
            }
            return i
        }

        /// Takes `key`'s value (at `i`) out; its place is free.
        func take(_ key: Int, at i: Int) -> Value {
            if key >= base { ring[key & (ringCount - 1)] = 0 } else { older.removeValue(forKey: SequenceKey(key)) }
            vacant[vacantCount] = Int32(i)
            vacantCount += 1
            count -= 1
            return (values + i).move()
        }

        /// Room for twice the values: each held one moved to the same place in the new storage.
        private func growValues() {
            let moved = UnsafeMutablePointer<Value>.allocate(capacity: capacity * 2)
            forEachHeld { _, i in (moved + i).moveInitialize(from: values + i, count: 1) }
            values.deallocate()
            values = moved
            let stack = UnsafeMutablePointer<Int32>.allocate(capacity: capacity * 2)
            stack.moveInitialize(from: vacant, count: vacantCount)
            vacant.deallocate()
            vacant = stack
            capacity *= 2
        }

        /// Makes the window reach `key` (beyond it): a longer ring while it may grow, else the window slides up to the
        /// key, the keys it leaves handed to `older`.
        private func makeRoom(for key: Int) {
            while key - base >= ringCount, ringCount < maxWindow { growRing() }
            guard key - base >= ringCount else { return }
            let newBase = key - ringCount + 1
            let mask = ringCount - 1
            if newBase - base >= ringCount {
                // A jump longer than the ring: every slot once (its key is the one in base..<base + ringCount with the
                // slot's low bits).
                for p in 0..<ringCount where ring[p] != 0 {
                    older[SequenceKey(base + ((p - base) & mask))] = ring[p] - 1
                    ring[p] = 0
                }
            } else {
                for k in base..<newBase where ring[k & mask] != 0 {
                    older[SequenceKey(k)] = ring[k & mask] - 1
                    ring[k & mask] = 0
                }
            }
            base = newBase
        }

        /// The ring doubled, each key moved to its slot in it.
        private func growRing() {
            let old = ring, oldMask = ringCount - 1
            ringCount *= 2
            ring = .allocate(capacity: ringCount)
            ring.initialize(repeating: 0, count: ringCount)
            let mask = ringCount - 1
            for k in base..<base + oldMask + 1 where old[k & oldMask] != 0 { ring[k & mask] = old[k & oldMask] }
            old.deallocate()
        }
    }
}

/// Shared storage is only read (a change copies it first), as an array's.
extension SequenceWindow: @unchecked Sendable where Value: Sendable {}
