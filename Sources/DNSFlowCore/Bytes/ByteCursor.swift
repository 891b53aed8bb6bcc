/// One bounds-checked reader for every decoder (modelled on swift-nio's `ByteBuffer`).
///
/// Reads are big-endian unless named otherwise. A read that lacks bytes returns `nil` and leaves the
/// cursor where it was: "need more bytes" is not "bytes are wrong", which is what framing code needs.
public struct ByteCursor: Sendable {
    public let bytes: [UInt8]
    /// Index of the next byte to read.
    public private(set) var offset: Int
    /// One past the last readable index.
    public let end: Int

    public init(_ bytes: [UInt8]) {
        self.bytes = bytes
        self.offset = 0
        self.end = bytes.count
    }

    /// A cursor over `bytes[range]`; offsets stay absolute (DNS compression pointers need that).
    public init(_ bytes: [UInt8], range: Range<Int>) {
        self.bytes = bytes
        self.offset = max(0, min(range.lowerBound, bytes.count))
        self.end = max(self.offset, min(range.upperBound, bytes.count))
    }

    public var remaining: Int { end - offset }
    public var isAtEnd: Bool { offset >= end }

    public mutating func moveTo(_ newOffset: Int) -> Bool {
        guard newOffset >= 0, newOffset <= end else { return false }
        offset = newOffset
        return true
    }

    public mutating func skip(_ count: Int) -> Bool {
        guard count >= 0, count <= remaining else { return false }
        offset += count
        return true
    }

    public func peekUInt8(at relative: Int = 0) -> UInt8? {
        let i = offset + relative
        guard relative >= 0, i < end else { return nil }
        return bytes[i]
    }

    public func peekUInt16(at relative: Int = 0) -> UInt16? {
        let i = offset + relative
        guard relative >= 0, i + 2 <= end else { return nil }
        return UInt16(bytes[i]) << 8 | UInt16(bytes[i + 1])
    }

    public mutating func readUInt8() -> UInt8? {
        guard offset < end else { return nil }
        defer { offset += 1 }
        return bytes[offset]
    }

    public mutating func readUInt16() -> UInt16? {
        guard let v = peekUInt16() else { return nil }
        offset += 2
        return v
    }

    public mutating func readUInt16LE() -> UInt16? {
        guard let v = peekUInt16() else { return nil }
        offset += 2
        return v.byteSwapped
    }

    public mutating func readUInt32() -> UInt32? {
        guard remaining >= 4 else { return nil }
        let i = offset
        offset += 4
        return UInt32(bytes[i]) << 24 | UInt32(bytes[i + 1]) << 16 | UInt32(bytes[i + 2]) << 8 | UInt32(bytes[i + 3])
    }

    public mutating func readUInt32LE() -> UInt32? {
        readUInt32()?.byteSwapped
    }

    public mutating func readUInt48() -> UInt64? {
        guard remaining >= 6, let hi = readUInt16(), let lo = readUInt32() else { return nil }
        return UInt64(hi) << 32 | UInt64(lo)
    }

    public mutating func readUInt64() -> UInt64? {
        guard remaining >= 8, let hi = readUInt32(), let lo = readUInt32() else { return nil }
        return UInt64(hi) << 32 | UInt64(lo)
    }

    /// The next `count` bytes as a copy.
    public mutating func readBytes(_ count: Int) -> [UInt8]? {
        guard count >= 0, count <= remaining else { return nil }
        guard count > 0 else { return [] }
        defer { offset += count }
        // Copied straight from the octets (a slice of them would be a reference to count, and a generic copy).
        let start = offset
        return bytes.withUnsafeBufferPointer { Array(UnsafeBufferPointer(rebasing: $0[start..<start + count])) }
    }

    /// The range of the next `count` bytes, consumed without copying.
    public mutating func readRange(_ count: Int) -> Range<Int>? {
        guard count >= 0, count <= remaining else { return nil }
        defer { offset += count }
        return offset..<offset + count
    }

    /// The unread bytes as a copy (and consumes them).
    public mutating func readRest() -> [UInt8] {
        defer { offset = end }
        return Array(bytes[offset..<end])
    }
}
