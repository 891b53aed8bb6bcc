/// Where text written as octets goes: a list of octets (`[UInt8]`), or an `OctetBuffer` for text written in many small
/// pieces (a CSV row: numbers, times, addresses, names), where each octet appended to a list is a check that the list is
/// unique and has room.
public protocol OctetSink: ~Copyable {
    mutating func append(_ octet: UInt8)
    mutating func append<S: Sequence>(contentsOf octets: S) where S.Element == UInt8
    /// The low `count` octets of `word` (at most eight), its lowest octet first: a short run of text put together in a
    /// register (the digits of a number) and written at once.
    mutating func append(word: UInt64, count: Int)
}

extension OctetSink where Self: ~Copyable {
    public mutating func append(word: UInt64, count: Int) {
        var w = word
        for _ in 0..<count {
            append(UInt8(truncatingIfNeeded: w))
            w >>= 8
        }
    }
}

extension Array: OctetSink where Element == UInt8 {}

/// Octets appended at the cost of a store and a room check: memory of its own, never shared (not copyable), grown by
/// doubling.
public struct OctetBuffer: ~Copyable, OctetSink {
    private var base: UnsafeMutablePointer<UInt8>
    private var capacity: Int
    public private(set) var count = 0

    public init(capacity: Int = 256) {
        self.capacity = max(capacity, 16)
        base = .allocate(capacity: self.capacity)
    }

    deinit { base.deallocate() }

    @inline(__always)
    public mutating func append(_ octet: UInt8) {
        if count == capacity { grow(toHold: count + 1) }
        base[count] = octet
        count += 1
    }

    @inline(__always)
    public mutating func append<S: Sequence>(contentsOf octets: S) where S.Element == UInt8 {
        let copied: Void? = octets.withContiguousStorageIfAvailable { append(UnsafeRawBufferPointer($0)) }
        if copied == nil { for o in octets { append(o) } }
    }

    /// One store of the whole word (the octets beyond `count` are within the buffer, and written over next).
    @inline(__always)
    public mutating func append(word: UInt64, count n: Int) {
        if count + 8 > capacity { grow(toHold: count + 8) }
        UnsafeMutableRawPointer(base + count).storeBytes(of: word.littleEndian, as: UInt64.self)
        count += n
    }

    public mutating func append(_ octets: UnsafeRawBufferPointer) {
        let n = octets.count
        guard n > 0 else { return }
        if count + n > capacity { grow(toHold: count + n) }
        (base + count).initialize(from: octets.assumingMemoryBound(to: UInt8.self).baseAddress!, count: n)
        count += n
    }

    /// Empty again, its memory kept for what is written next.
    public mutating func removeAll() { count = 0 }

    public subscript(i: Int) -> UInt8 {
        precondition(i >= 0 && i < count, "octet index out of range")
        return base[i]
    }

    /// Whether an octet from `start` on satisfies `test`.
    public func contains(from start: Int, where test: (UInt8) -> Bool) -> Bool {
        var i = start
        while i < count {
            if test(base[i]) { return true }
            i += 1
        }
        return false
    }

    /// The octets from `start` on, taken out (the buffer ends before them).
    public mutating func removeTail(from start: Int) -> [UInt8] {
        precondition(start >= 0 && start <= count, "octet index out of range")
        let tail = Array(UnsafeBufferPointer(start: base + start, count: count - start))
        count = start
        return tail
    }

    /// `octet` put at `i`, the octets from there on moved up one.
    public mutating func insert(_ octet: UInt8, at i: Int) {
        precondition(i >= 0 && i <= count, "octet index out of range")
        if count == capacity { grow(toHold: count + 1) }
        UnsafeMutableRawPointer(base + i + 1).copyMemory(from: base + i, byteCount: count - i)  // overlapping: a memmove
        base[i] = octet
        count += 1
    }

    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try body(UnsafeRawBufferPointer(start: base, count: count))
    }

    /// The octets as text (UTF-8; what is not valid UTF-8 is replaced, as `String(decoding:as:)` does).
    public var string: String {
        String(decoding: UnsafeBufferPointer(start: base, count: count), as: UTF8.self)
    }

    private mutating func grow(toHold needed: Int) {
        var size = capacity * 2
        while size < needed { size *= 2 }
        let larger = UnsafeMutablePointer<UInt8>.allocate(capacity: size)
        larger.moveInitialize(from: base, count: count)
        base.deallocate()
        base = larger
        capacity = size
    }
}
