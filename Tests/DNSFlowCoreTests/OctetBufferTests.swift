import Testing
@testable import DNSFlowCore

/// The octet buffer behaves as a list of octets, and every writer of text as octets writes the same into either.
@Suite("Octet buffers")
struct OctetBufferTests {
    @Test func behavesAsAList() {
        var rng = SplitMix(state: 11)
        var buffer = OctetBuffer(capacity: 1)
        var list: [UInt8] = []
        // Past several doublings, by single octets and by runs of every length up to a few hundred.
        for round in 0..<200 {
            if round % 3 == 0 {
                let run = (0..<Int.random(in: 0...300, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
                buffer.append(contentsOf: run)
                list.append(contentsOf: run)
            } else {
                let o = UInt8.random(in: 0...255, using: &rng)
                buffer.append(o)
                list.append(o)
            }
        }
        let count = buffer.count, written = buffer.withUnsafeBytes { Array($0) }
        let indexed = (0..<list.count).allSatisfy { buffer[$0] == list[$0] }
        #expect(count == list.count)
        #expect(written == list)
        #expect(indexed)

        for i in [0, 1, list.count / 2, list.count - 1, list.count] {
            buffer.insert(0x27, at: i)
            list.insert(0x27, at: i)
            let after = buffer.withUnsafeBytes { Array($0) }
            #expect(after == list, "insert at \(i)")
        }
        let start = list.count - 37
        let found = buffer.contains(from: start, where: { $0 == list[start] })
        let pastEnd = buffer.contains(from: list.count, where: { _ in true })
        let tail = buffer.removeTail(from: start)
        #expect(found && !pastEnd)
        #expect(tail == Array(list[start...]))
        list.removeSubrange(start...)
        let left = buffer.withUnsafeBytes { Array($0) }
        #expect(left == list)
        let rest = buffer.removeTail(from: 0)
        let emptied = (buffer.count, buffer.string)
        #expect(rest == list)
        #expect(emptied == (0, ""))
    }

    @Test func textAsStrings() {
        var buffer = OctetBuffer()
        buffer.append(contentsOf: "héllo, ".utf8)
        buffer.append(contentsOf: "wörld".utf8.lazy.map { $0 })   // a sequence with no contiguous storage
        let text = buffer.string
        #expect(text == "héllo, wörld")
    }

    /// Numbers as `String(n)` writes them, zero-padded to the width; in one word (eight digits and padding at most,
    /// written in one store), across the digits' two words (8 and 16 digits) and beyond them. Each between two other
    /// writes, so that a store of a whole word is seen to leave what comes before and after as written.
    @Test func decimalNumbers() {
        var values: [Int64] = [0, 1, 9, 10, 99, 100, 12345, 9_999_999, 10_000_000, 99_999_999, 100_000_000, 123_456_789,
                               9_999_999_999_999_999, 10_000_000_000_000_000, 10_000_000_000_000_001, .max, -1, -42, .min + 1, .min]
        var rng = SplitMix(state: 3)
        for _ in 0..<500 { values.append(Int64.random(in: .min ... .max, using: &rng) >> Int64.random(in: 0...62, using: &rng)) }
        for v in values {
            for width in [0, 1, 2, 3, 5, 7, 8, 9, 17, 20, 25] {
                var buffer = OctetBuffer(capacity: 1)
                var list: [UInt8] = []
                buffer.append(UInt8(ascii: "<"))
                list.append(UInt8(ascii: "<"))
                Timestamp.append(v, width: width, to: &buffer)
                Timestamp.append(v, width: width, to: &list)
                buffer.append(UInt8(ascii: ">"))
                list.append(UInt8(ascii: ">"))
                let expected: String
                if v == .min {
                    expected = String(v)   // (no padding: the one number whose magnitude has no Int64)
                } else if v < 0 {
                    let digits = String(-v)
                    expected = "-" + String(repeating: "0", count: max(0, width - 1 - digits.count)) + digits
                } else {
                    let digits = String(v)
                    expected = String(repeating: "0", count: max(0, width - digits.count)) + digits
                }
                let text = buffer.string
                #expect(text == "<" + expected + ">", "\(v) width \(width)")
                #expect(String(decoding: list, as: UTF8.self) == "<" + expected + ">", "\(v) width \(width)")
            }
        }
    }

    /// A name's presentation form, label by label: the same into either sink, escapes included.
    @Test func namesIntoEitherSink() {
        var rng = SplitMix(state: 5)
        let alphabet: [UInt8] = Array("abcXYZ019-_.\\\"();@$ \t".utf8) + [0, 1, 0x7f, 0x80, 0xff]
        for _ in 0..<300 {
            var wire: [UInt8] = []
            for _ in 0..<Int.random(in: 0...5, using: &rng) {
                let n = Int.random(in: 0...12, using: &rng)
                wire.append(UInt8(n))
                for _ in 0..<n { wire.append(alphabet.randomElement(using: &rng)!) }
            }
            let name = DNSName(wire: wire)
            for dot in [false, true] {
                var buffer = OctetBuffer(capacity: 1)
                var list: [UInt8] = []
                name.appendPresentation(trailingDot: dot, to: &buffer)
                name.appendPresentation(trailingDot: dot, to: &list)
                let text = buffer.string
                #expect(text == String(decoding: list, as: UTF8.self))
                #expect(text == OctetBufferTests.escaped(wire, trailingDot: dot), "\(wire)")
            }
        }
    }

    /// RFC 1035 §5.1 presentation, written out octet by octet (what `appendPresentation` did before it copied labels
    /// with nothing to escape in one run).
    static func escaped(_ wire: [UInt8], trailingDot: Bool) -> String {
        guard !wire.isEmpty else { return "." }
        var out = ""
        var i = 0
        while i < wire.count {
            if i > 0 { out += "." }
            let n = Int(wire[i])
            for b in wire[(i + 1)..<min(i + 1 + n, wire.count)] {
                switch b {
                case UInt8(ascii: "."), UInt8(ascii: "\\"), UInt8(ascii: "\""), UInt8(ascii: ";"), UInt8(ascii: "("),
                     UInt8(ascii: ")"), UInt8(ascii: "@"), UInt8(ascii: "$"):
                    out += "\\" + String(UnicodeScalar(b))
                case 0x21...0x7e: out += String(UnicodeScalar(b))
                default: out += "\\" + String(repeating: "0", count: 3 - String(b).count) + String(b)
                }
            }
            i += 1 + n
        }
        return trailingDot ? out + "." : out
    }
}

/// A writer of many timestamps reuses the last second's date and clock: the text is the same as each written alone.
@Suite("ISO 8601 times in a row")
struct ISO8601InARowTests {
    @Test func sameTextAsAlone() {
        var rng = SplitMix(state: 9)
        var last = ISO8601Second()
        var seconds: Int64 = 1_700_000_000
        for _ in 0..<2000 {
            // Mostly the same second or the next, sometimes a jump (a day, a year), back as well as on.
            switch Int.random(in: 0..<10, using: &rng) {
            case 0: seconds += Int64.random(in: -400_000_000...400_000_000, using: &rng)
            case 1, 2: seconds += 1
            case 3: seconds -= 1
            default: break
            }
            seconds = min(max(seconds, 0), 8_000_000_000)
            let t = Timestamp(seconds: seconds, nanoseconds: UInt32.random(in: 0..<1_000_000_000, using: &rng),
                              digits: [0, 3, 6, 9].randomElement(using: &rng)!)
            var reused = OctetBuffer()
            t.appendISO8601(to: &reused, reusing: &last)
            let text = reused.string
            #expect(text == t.iso8601)
        }
    }
}
