import Testing
@testable import DNSFlowCore

@Suite("Name decompression")
struct DNSNameTests {
    /// Parses the question name of `header + body`.
    func firstName(_ body: [UInt8]) -> DNSMessage? {
        DNSParser.parse(Wire.header(id: 1) + body)
    }

    @Test func plainAndCompressedNames() throws {
        let m = try #require(DNSParser.parse(Wire.response(id: 7, name: "www.Example.com")))
        #expect(m.error == nil)
        #expect(m.question?.name.description == "www.Example.com.")
        #expect(m.answers.count == 1)
        #expect(m.answers[0].name.description == "www.Example.com.")
        #expect(m.answers[0].rdata == "192.0.2.1")
    }

    /// Names read whole in place (no pointer) and names that end in a pointer (labels, then a jump back): an owner name
    /// "mail" + a pointer to the question's "example.com", and one that is a pointer alone, read as the names they spell,
    /// and the records after them read from the right place.
    @Test func labelsThenAPointer() throws {
        // Question www.example.com at offset 12: "example" starts at 12 + 4 = 16.
        var m = Wire.header(id: 1, flags: 0x8180, qd: 1, an: 2) + Wire.name("www.example.com") + Wire.u16(1) + Wire.u16(1)
        m += [4] + Array("mail".utf8) + [0xc0, 16] + Wire.u16(1) + Wire.u16(1) + [0, 0, 0, 60] + Wire.u16(4) + [192, 0, 2, 1]
        m += [0xc0, 16] + Wire.u16(1) + Wire.u16(1) + [0, 0, 0, 60] + Wire.u16(4) + [192, 0, 2, 2]
        let parsed = try #require(DNSParser.parse(m))
        #expect(parsed.error == nil && parsed.trailingBytes == 0)
        #expect(parsed.question?.name.description == "www.example.com.")
        #expect(parsed.answers.map(\.name.description) == ["mail.example.com.", "example.com."])
        #expect(parsed.answers.map(\.rdata) == ["192.0.2.1", "192.0.2.2"])
        #expect(parsed.answers[0].name == DNSName("mail.example.com") && parsed.question?.name == DNSName("www.example.com"))
    }

    /// A chain of pointers to pointers (each one 2 octets before the last) in an earlier record's RDATA, and a name that
    /// starts at its end: every pointer points backwards, so it ends — after 300 jumps, for one name of a message that
    /// could hold thousands. More than 127 is refused, the work per name bounded.
    @Test func longPointerChainsAreRefused() throws {
        func message(chain n: Int) -> [UInt8] {
            var m = Wire.header(id: 1, flags: 0x8180, qd: 1, an: 2) + Wire.name("a") + Wire.u16(1) + Wire.u16(1)
            // Answer 1: owner = the question's name, an unknown type whose RDATA is the chain.
            let rdataStart = m.count + 2 + 2 + 2 + 4 + 2
            var chain: [UInt8] = [0]
            for k in 0..<n {
                let target = k == 0 ? rdataStart : rdataStart + 1 + 2 * (k - 1)
                chain += [0xc0 | UInt8(target >> 8), UInt8(target & 0xff)]
            }
            m += [0xc0, 0x0c] + Wire.u16(999) + Wire.u16(1) + [0, 0, 0, 60] + Wire.u16(UInt16(chain.count)) + chain
            // Answer 2: its owner name is a pointer to the chain's last pointer.
            let last = rdataStart + 1 + 2 * (n - 1)
            m += [0xc0 | UInt8(last >> 8), UInt8(last & 0xff)] + Wire.u16(1) + Wire.u16(1) + [0, 0, 0, 60] + Wire.u16(4) + [192, 0, 2, 1]
            return m
        }
        let fine = try #require(DNSParser.parse(message(chain: 100)))
        #expect(fine.error == nil && fine.answers.count == 2 && fine.answers[1].name.description == ".")
        let crafted = try #require(DNSParser.parse(message(chain: 300)))
        #expect(crafted.error?.code == .badPointer)
        #expect(crafted.error?.reason.contains("more than 127 compression pointers") == true)
    }

    @Test func selfPointerIsRejected() throws {
        // The name at offset 12 is a pointer to offset 12.
        let m = try #require(firstName([0xc0, 0x0c, 0, 1, 0, 1]))
        #expect(m.error?.code == .badPointer)
        #expect(m.questions.isEmpty)
    }

    @Test func forwardPointerIsRejected() throws {
        // Pointer at 12 to offset 18, where a valid label would sit.
        let m = try #require(firstName([0xc0, 0x12, 0, 1, 0, 1, 3, 0x61, 0x62, 0x63, 0]))
        #expect(m.error?.code == .badPointer)
    }

    @Test func pointerLoopThroughTwoNamesIsRejected() throws {
        // Question "a" + pointer to itself via a label: 12: 01 'a' c0 0c  → label then pointer back to 12.
        let m = try #require(firstName([1, 0x61, 0xc0, 0x0c, 0, 1, 0, 1]))
        #expect(m.error?.code == .badPointer)
    }

    @Test func nameOf255OctetsIsAcceptedAnd256Rejected() throws {
        // 4 labels of 63 octets = 4 * 64 + 1 = 257 > 255; 3 x 63 + one of 61 = 3*64 + 62 + 1 = 255.
        func labels(_ sizes: [Int]) -> [UInt8] {
            sizes.flatMap { [UInt8($0)] + [UInt8](repeating: 0x61, count: $0) } + [0]
        }
        let ok = try #require(firstName(labels([63, 63, 63, 61]) + [0, 1, 0, 1]))
        #expect(ok.error == nil)
        #expect(ok.question?.name.wireLength == 255)
        let tooLong = try #require(firstName(labels([63, 63, 63, 62]) + [0, 1, 0, 1]))
        #expect(tooLong.error?.code == .nameTooLong)
    }

    @Test func longNameBuiltFromPointersIsCapped() throws {
        // Each name adds a 63-octet label in front of the previous one (pointer strictly backwards);
        // the fifth would exceed 255 octets once decompressed.
        var body: [UInt8] = [63] + [UInt8](repeating: 0x62, count: 63) + [0] + [0, 1, 0, 1]
        var answers: [UInt8] = []
        var previous = 12
        var offset = 12 + body.count
        for _ in 0..<4 {
            let rr: [UInt8] = [63] + [UInt8](repeating: 0x63, count: 63) + [0xc0 | UInt8(previous >> 8), UInt8(previous & 0xff)]
                + [0, 1, 0, 1] + Wire.u32(1) + [0, 4, 1, 2, 3, 4]
            previous = offset
            offset += rr.count
            answers += rr
        }
        body += answers
        let m = try #require(DNSParser.parse(Wire.header(id: 1, flags: 0x8180, an: 4) + body))
        #expect(m.error?.code == .nameTooLong)
        #expect(m.answers.count == 2)   // 64+64+1 = 129, 193, then 257 > 255
    }

    @Test func truncatedNamesAreTruncated() throws {
        let m1 = try #require(firstName([5, 0x61, 0x62]))                 // label runs off the end
        #expect(m1.error?.code == .truncated)
        let m2 = try #require(firstName([3, 0x61, 0x62, 0x63]))           // no terminating zero
        #expect(m2.error?.code == .truncated)
        let m3 = try #require(firstName([0xc0]))                          // half a pointer
        #expect(m3.error?.code == .truncated)
    }

    @Test func reservedLabelTypesAreRejected() throws {
        #expect(firstName([0x41, 0, 0, 1, 0, 1])?.error?.code == .badLabelType)   // 01xxxxxx (EDNS0 extended label)
        #expect(firstName([0x81, 0, 0, 1, 0, 1])?.error?.code == .badLabelType)   // 10xxxxxx
    }

    @Test func tooManyLabelsAreRejected() throws {
        let body = [UInt8](repeating: 0, count: 0) + (0..<128).flatMap { _ in [UInt8(1), 0x61] } + [0, 0, 1, 0, 1]
        #expect(firstName(body)?.error?.code == .nameTooLong)
    }

    @Test func presentationEscapesEverythingUnsafe() {
        let name = DNSName(wire: [4, 0x61, 0x2e, 0x5c, 0x01, 3, 0x20, 0xff, 0x22])
        #expect(name.description == "a\\.\\\\\\001.\\032\\255\\\".")
        #expect(name.presentation(trailingDot: false) == "a\\.\\\\\\001.\\032\\255\\\"")
        #expect(DNSName.root.presentation(trailingDot: false) == ".")
        // Never a raw control byte or escape sequence for a terminal.
        #expect(!name.description.unicodeScalars.contains { $0.value < 0x20 || $0.value > 0x7e })
    }

    @Test func lowercasingOnlyTouchesASCIILetters() {
        #expect(DNSName(wire: [3, 0x41, 0x5a, 0xc1]).lowercased.wire == [3, 0x61, 0x7a, 0xc1])
        // The name knows whether it has a capital: a lowercased one is equal (and hashes equal) to one read in
        // lowercase; a lowercase name, and one whose octets above 0x7f only look like capitals, come back as they are.
        let mixed = DNSName("Web.Default.SVC.cluster.local"), lower = DNSName("web.default.svc.cluster.local")
        #expect(mixed != lower)
        #expect(mixed.lowercased == lower && mixed.lowercased.hashValue == lower.hashValue)
        #expect(mixed.lowercased.fingerprint == lower.fingerprint)
        #expect(lower.lowercased.wire == lower.wire)
        let high = DNSName(wire: [2, 0xc1, 0xda])
        #expect(high.lowercased.wire == high.wire)
        #expect(Set([mixed.lowercased, lower, DNSName("WEB.default.svc.cluster.local").lowercased]).count == 1)
    }

    /// Compared without regard to case as their lowercased forms compare, whichever of the two has capitals.
    @Test func namesCompareIgnoringCase() {
        let names = ["web.default.svc.cluster.local", "Web.Default.SVC.cluster.local", "WEB.DEFAULT.SVC.CLUSTER.LOCAL",
                     "web.default.svc.cluster.locals", "web.default.svc.cluster.loca", "web.other.svc.cluster.local", ""]
            .map { DNSName($0) } + [DNSName(wire: [2, 0xc1, 0xda]), DNSName(wire: [2, 0xe1, 0xfa])]
        for a in names {
            for b in names {
                #expect(a.equalsIgnoringCase(b) == (a.lowercased == b.lowercased), "\(a) \(b)")
            }
        }
        #expect(names[0].equalsIgnoringCase(names[2]) && !names[0].equalsIgnoringCase(names[3]))
        #expect(!names[7].equalsIgnoringCase(names[8]))
    }

    /// The eight-at-a-time capital test agrees with the octet-by-octet one on every length up to 40 and on octets
    /// around both ends of A...Z and above 0x7f (fails if a carry crosses octets or a high octet counts as a capital).
    @Test func capitalTestAgreesWithOctetByOctet() {
        var rng = SplitMix(state: 20261127)
        let edges: [UInt8] = [0x00, 0x3f, 0x40, 0x41, 0x5a, 0x5b, 0x60, 0x61, 0x7a, 0x7f, 0x80, 0xc0, 0xc1, 0xda, 0xff]
        for _ in 0..<20_000 {
            let count = Int(rng.next() % 41)
            let bytes = (0..<count).map { _ in
                rng.next() % 3 == 0 ? UInt8(truncatingIfNeeded: rng.next()) : edges[Int(rng.next() % UInt64(edges.count))]
            }
            #expect(DNSName.hasCapital(bytes) == bytes.contains { $0 &- 0x41 < 26 }, "\(bytes)")
        }
        for i in 0..<24 {
            for b: UInt8 in [0x40, 0x41, 0x5a, 0x5b, 0xc1] {
                var bytes = [UInt8](repeating: 0x61, count: 24)
                bytes[i] = b
                #expect(DNSName.hasCapital(bytes) == (b == 0x41 || b == 0x5a))
            }
        }
    }

    /// The octets' hash takes its last octets (after the whole words) as the word an octet-by-octet loop builds, on
    /// every length up to 40, wherever the octets lie (fails if the eight-octet load keeps one octet too many or too
    /// few); a change of any octet changes it.
    @Test func hashOfTheLastOctetsAgreesWithOctetByOctet() {
        func reference(_ bytes: [UInt8]) -> UInt64 {
            var h = 0xcbf2_9ce4_8422_2325 ^ UInt64(bytes.count) &* 0x9e37_79b9_7f4a_7c15
            var i = 0
            while i + 8 <= bytes.count {
                var w: UInt64 = 0
                for k in 0..<8 { w |= UInt64(bytes[i + k]) << (8 * UInt64(k)) }
                h = FastHash.fold(h, w)
                h = h << 29 | h >> 35
                i += 8
            }
            var tail: UInt64 = 0, shift: UInt64 = 0
            while i < bytes.count {
                tail |= UInt64(bytes[i]) << shift
                shift += 8
                i += 1
            }
            return UInt64(UInt(bitPattern: FastHash.mix(FastHash.fold(h, tail), seed: 0)))
        }
        var rng = SplitMix(state: 20261206)
        for count in 0...40 {
            let bytes = (0..<count).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            #expect(ByteHash.hash(bytes) == reference(bytes), "\(count) octets")
            // The same octets inside a longer buffer, at an odd offset, with other octets around them.
            let framed = [0xaa, 0xbb, 0xcc] + bytes + [0xdd, 0xee]
            framed.withUnsafeBytes { raw in
                #expect(ByteHash.hash(UnsafeRawBufferPointer(rebasing: raw[3..<3 + count])) == reference(bytes))
            }
            for i in bytes.indices {
                var changed = bytes
                changed[i] ^= 0x20
                #expect(ByteHash.hash(changed) != ByteHash.hash(bytes), "\(count) octets, octet \(i)")
            }
        }
    }
}

/// Questions' names read lately are handed out again: the same octets shared, equal in every way (fingerprint and
/// capitals included) to the name read without the cache; a name that lands on a taken slot takes it.
@Suite("Names read again")
struct NameCacheTests {
    static func octetsAddress(_ n: DNSName) -> UnsafeRawPointer? { n.wire.withUnsafeBytes { $0.baseAddress } }

    @Test func aNameReadAgainIsTheOneAlreadyMade() throws {
        let cache = NameCache(slots: 4)
        for text in ["www.example.com", "WWW.Example.COM", "a", "kubernetes.default.svc.cluster.local"] {
            let query = Wire.query(id: 1, name: text), response = Wire.response(id: 1, name: text)
            let first = try #require(DNSParser.parse(query, recordsOnDemand: true, names: cache)?.question?.name)
            let again = try #require(DNSParser.parse(response, recordsOnDemand: true, names: cache)?.question?.name)
            let plain = try #require(DNSParser.parse(response)?.question?.name)
            #expect(first == plain && again == plain && first.fingerprint == plain.fingerprint, "\(text)")
            #expect(first.lowercased == plain.lowercased && first.description == plain.description)
            #expect(Self.octetsAddress(first) == Self.octetsAddress(again), "\(text): read again, not shared")
            #expect(Self.octetsAddress(first) != Self.octetsAddress(plain))
        }
    }

    /// One slot: each new name replaces the last, and a name read again after another is made anew, equal.
    @Test func aNameTakesItsSlot() throws {
        let cache = NameCache(slots: 1)
        let names = ["one.example", "two.example", "one.example", "one.example"]
        let read = try names.map { try #require(DNSParser.parse(Wire.query(id: 1, name: $0), recordsOnDemand: true, names: cache)?.question?.name) }
        #expect(read.map(\.description) == names.map { $0 + "." })
        #expect(Self.octetsAddress(read[0]) != Self.octetsAddress(read[2]))
        #expect(Self.octetsAddress(read[2]) == Self.octetsAddress(read[3]))
    }
}
