/// Hashing for the dictionaries on the per-packet path.
///
/// Swift hashes every key with SipHash-1-3 through `Hasher`: for an `Int` key that is a seeded 64-bit hash with a
/// finalisation round, and a profile of `--summary` spent 18 % of its instructions in it. The keys here are a few
/// machine words (a sequence number, addresses and ports, an id, a name's fingerprint), so they are folded into one
/// word and finished with a 64-bit mixer (MurmurHash3's fmix64) keyed by the dictionary's own seed: every input bit
/// reaches every output bit, and the seed (random per process and per table, as for any Swift dictionary) keeps
/// bucket positions unpredictable from the wire. Equality is unchanged: a collision costs a probe, never a mix-up.
public enum FastHash {
    @inline(__always)
    public static func mix(_ x: UInt64, seed: Int) -> Int {
        var h = x ^ UInt64(UInt(bitPattern: seed))
        h ^= h >> 33
        h &*= 0xff51_afd7_ed55_8ccd
        h ^= h >> 33
        h &*= 0xc4ce_b9fe_1a85_ec53
        h ^= h >> 33
        return Int(Int64(bitPattern: h))
    }

    /// A 5-tuple (transport, client, server) folded into one word: the flow keys of the analysis, the matcher and the
    /// interface.
    @inline(__always)
    public static func flow(_ transport: TransportProtocol, _ client: Endpoint, _ server: Endpoint) -> UInt64 {
        fold(fold(client.hashBits, server.hashBits), transport == .tcp ? 1 : 0)
    }

    /// Folds one more word into an accumulated key (before `mix`).
    @inline(__always)
    public static func fold(_ acc: UInt64, _ x: UInt64) -> UInt64 {
        (acc ^ x) &* 0x9e37_79b9_7f4a_7c15 &+ 0x632b_e59b_d9b4_e019
    }
}

/// A 64-bit hash of a few dozen octets (a name's wire form, a whole message), eight at a time: a name's fingerprint
/// and the sighting index's key. (Byte-at-a-time FNV-1a cost 5 % of a run.) Not for anything stored: it may change.
public enum ByteHash {
    public static func hash(_ bytes: [UInt8], seed: UInt64 = 0xcbf2_9ce4_8422_2325) -> UInt64 {
        bytes.withUnsafeBytes { hash($0, seed: seed) }
    }

    /// The same hash of octets wherever they lie.
    public static func hash(_ raw: UnsafeRawBufferPointer, seed: UInt64 = 0xcbf2_9ce4_8422_2325) -> UInt64 {
        var h = seed ^ UInt64(raw.count) &* 0x9e37_79b9_7f4a_7c15
        var i = 0
        while i + 8 <= raw.count {
            h = FastHash.fold(h, raw.loadUnaligned(fromByteOffset: i, as: UInt64.self))
            h = h << 29 | h >> 35
            i += 8
        }
        var tail: UInt64 = 0
        if i < raw.count, raw.count >= 8 {
            // The last octets (fewer than eight) as one load of the eight that end the bytes, those before them shifted
            // out: the same word the loop below builds.
            tail = raw.loadUnaligned(fromByteOffset: raw.count - 8, as: UInt64.self) >> UInt64(8 * (8 - (raw.count - i)))
        } else {
            var shift: UInt64 = 0
            while i < raw.count {
                tail |= UInt64(raw[i]) << shift
                shift += 8
                i += 1
            }
        }
        return UInt64(UInt(bitPattern: FastHash.mix(FastHash.fold(h, tail), seed: 0)))
    }
}

/// A sequence number as a dictionary key, hashed by `FastHash`.
public struct SequenceKey: Hashable, Sendable {
    public var value: Int
    @inline(__always) public init(_ value: Int) { self.value = value }
    public func hash(into hasher: inout Hasher) { hasher.combine(value) }
    @inline(__always) public func _rawHashValue(seed: Int) -> Int { FastHash.mix(UInt64(UInt(bitPattern: value)), seed: seed) }
}

/// A dictionary from `Int` keys in any order (flow numbers, keys that are already hashes) to values. (Sequence numbers
/// that come about in order — transactions, chains, pairs, lookups — are kept by `SequenceWindow`.)
public struct SequenceMap<Value> {
    private var storage: [SequenceKey: Value] = [:]

    public init() {}

    public var count: Int { storage.count }
    public var isEmpty: Bool { storage.isEmpty }
    public var keys: [Int] { storage.keys.map(\.value) }
    @inline(__always) public func contains(_ key: Int) -> Bool { storage.index(forKey: SequenceKey(key)) != nil }

    public subscript(key: Int) -> Value? {
        @inline(__always) get { storage[SequenceKey(key)] }
        @inline(__always) _modify { yield &storage[SequenceKey(key)] }
    }

    public subscript(key: Int, default value: @autoclosure () -> Value) -> Value {
        @inline(__always) get { storage[SequenceKey(key), default: value()] }
        @inline(__always) _modify { yield &storage[SequenceKey(key), default: value()] }
    }

    @discardableResult
    public mutating func removeValue(forKey key: Int) -> Value? { storage.removeValue(forKey: SequenceKey(key)) }

    /// Changes a value where it lies; false when the key is absent. (The optional subscript's `_modify` moves the
    /// value out and back in: two copies of a lookup's 170 bytes at every change.)
    @discardableResult @inline(__always)
    public mutating func update(_ key: Int, _ change: (inout Value) -> Void) -> Bool {
        guard let i = storage.index(forKey: SequenceKey(key)) else { return false }
        change(&storage.values[i])
        return true
    }

    /// Reads a value (a copy of it: the table lends its values only to a caller that may change them, `lend`).
    @inline(__always)
    public func read<T>(_ key: Int, _ body: (borrowing Value) -> T) -> T? {
        guard let i = storage.index(forKey: SequenceKey(key)) else { return nil }
        return body(storage.values[i])
    }

    /// Reads a value where it lies, for a caller that may change the map (`read` copies the value out first, and
    /// destroys the copy after).
    @inline(__always)
    public mutating func lend<T>(_ key: Int, _ body: (borrowing Value) -> T) -> T? {
        var result: T?
        update(key) { result = body($0) }
        return result
    }
}

extension SequenceMap: Sendable where Value: Sendable {}

extension IPAddress {
    /// The address folded into one word, for `FastHash`.
    @inline(__always)
    public var hashBits: UInt64 {
        switch self {
        case .v4(let a): return UInt64(a)
        case .v6(let hi, let lo): return FastHash.fold(hi, lo) ^ 0x5555_5555_0000_0000
        }
    }
}

extension Endpoint {
    @inline(__always)
    public var hashBits: UInt64 { FastHash.fold(address.hashBits, UInt64(port)) }
}

extension IPAddress {
    @inline(__always) public func _rawHashValue(seed: Int) -> Int { FastHash.mix(hashBits, seed: seed) }
}

extension Endpoint {
    @inline(__always) public func _rawHashValue(seed: Int) -> Int { FastHash.mix(hashBits, seed: seed) }
}

extension DNSName {
    @inline(__always) public func _rawHashValue(seed: Int) -> Int { FastHash.mix(fingerprint, seed: seed) }
}
