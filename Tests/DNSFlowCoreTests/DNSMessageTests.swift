import Testing
#if canImport(Glibc)
import Glibc
#endif
@testable import DNSFlowCore

@Suite("DNS records and EDNS")
struct DNSMessageTests {
    /// A response to "example.com" with one answer of `type` and `rdata` (names in RDATA uncompressed).
    func answer(type: UInt16, _ rdata: [UInt8]) -> DNSResourceRecord? {
        let m = Wire.header(id: 1, flags: 0x8180, an: 1) + Wire.name("example.com") + Wire.u16(type) + Wire.u16(1)
            + [0xc0, 0x0c] + Wire.u16(type) + Wire.u16(1) + Wire.u32(3600) + Wire.u16(UInt16(rdata.count)) + rdata
        return DNSParser.parse(m)?.answers.first
    }

    func text(_ type: UInt16, _ rdata: [UInt8]) -> String? { answer(type: type, rdata)?.rdata }

    @Test func typedPresentation() {
        let n = Wire.name("ns1.example.net")
        #expect(text(1, [192, 0, 2, 7]) == "192.0.2.7")
        #expect(text(28, [0x20, 0x01, 0x0d, 0xb8] + [UInt8](repeating: 0, count: 11) + [1]) == "2001:db8::1")
        #expect(text(2, n) == "ns1.example.net.")
        #expect(text(5, n) == "ns1.example.net.")
        #expect(text(12, n) == "ns1.example.net.")
        #expect(text(15, Wire.u16(10) + n) == "10 ns1.example.net.")
        #expect(text(16, [5] + Array("hello".utf8) + [4] + Array("a\"b;".utf8)) == "\"hello\" \"a\\\"b\\059\"")
        #expect(text(6, n + Wire.name("hostmaster.example.net") + Wire.u32(2026112601) + Wire.u32(7200) + Wire.u32(3600) + Wire.u32(1209600) + Wire.u32(300))
            == "ns1.example.net. hostmaster.example.net. 2026112601 7200 3600 1209600 300")
        #expect(text(33, Wire.u16(0) + Wire.u16(5) + Wire.u16(5060) + n) == "0 5 5060 ns1.example.net.")
        #expect(text(257, [0, 5] + Array("issue".utf8) + Array("letsencrypt.org".utf8)) == "0 issue \"letsencrypt.org\"")
        #expect(text(43, Wire.u16(20326) + [8, 2] + [0xab, 0xcd]) == "20326 8 2 ABCD")
        #expect(text(48, Wire.u16(257) + [3, 8] + [1, 2, 3]) == "257 3 8 AQID")
        #expect(text(46, Wire.u16(1) + [8, 2] + Wire.u32(3600) + Wire.u32(1_767_225_600) + Wire.u32(1_764_547_200) + Wire.u16(12345) + Wire.name("example.com") + [0xff])
            == "A 8 2 3600 20260101000000 20251201000000 12345 example.com. /w==")
        #expect(text(47, Wire.name("a.example.com") + [0, 6, 0x40, 0x01, 0, 0, 0, 0x03]) == "a.example.com. A MX RRSIG NSEC")
        #expect(text(50, [1, 1] + Wire.u16(10) + [2, 0xaa, 0xbb] + [5, 1, 2, 3, 4, 5] + [0, 1, 0x40]) == "1 1 10 AABB 04106105 A")
        #expect(text(65, Wire.u16(1) + [0] + Wire.u16(1) + Wire.u16(3) + [2] + Array("h2".utf8) + Wire.u16(4) + Wire.u16(4) + [192, 0, 2, 1])
            == "1 . alpn=\"h2\" ipv4hint=192.0.2.1")
        #expect(text(44, [1, 2, 0xde, 0xad]) == "1 2 DEAD")
        #expect(text(52, [3, 1, 1, 0xbe, 0xef]) == "3 1 1 BEEF")
    }

    /// Owner names that point at the question (offset 12) are the question's name; addresses render as before.
    @Test func answersPointingAtTheQuestionShareItsName() throws {
        let bytes = Wire.response(id: 7, name: "Web.Default.svc.cluster.local", addresses: [[10, 0, 0, 1], [10, 0, 0, 2]])
        let m = try #require(DNSParser.parse(bytes))
        #expect(m.error == nil)
        #expect(m.answers.map(\.name) == [m.questions[0].name, m.questions[0].name])
        #expect(m.answers[0].name.description == "Web.Default.svc.cluster.local.")
        #expect(m.answers.map(\.rdata) == ["10.0.0.1", "10.0.0.2"])
        var csv: [UInt8] = []
        m.answers[1].appendRData(to: &csv)
        #expect(String(decoding: csv, as: UTF8.self) == "10.0.0.2")
        // A pointer to offset 12 with no question there points at itself: still an error, as before.
        let orphan = Wire.header(id: 7, flags: 0x8180, qd: 0, an: 1) + [0xc0, 0x0c] + Wire.u16(1) + Wire.u16(1) + Wire.u32(300) + Wire.u16(4) + [10, 0, 0, 1]
        let o = try #require(DNSParser.parse(orphan))
        #expect(o.error?.code == .badPointer)
    }

    @Test func unknownTypesUseRFC3597() {
        #expect(text(65280, [1, 2, 0xff]) == "\\# 3 0102FF")
        #expect(text(65280, []) == "\\# 0")
        #expect(DNSType(65280).description == "TYPE65280")
        #expect(DNSClass(9).description == "CLASS9")
    }

    @Test func badRDataIsFlaggedAndTheRecordKept() throws {
        let rr = try #require(answer(type: 1, [1, 2, 3]))
        #expect(rr.rdata == "\\# 3 010203")
        let m = try #require(DNSParser.parse(Wire.header(id: 1, flags: 0x8180, an: 1) + Wire.name("x") + Wire.u16(1) + Wire.u16(1)
            + [0xc0, 0x0c, 0, 1, 0, 1] + Wire.u32(1) + Wire.u16(5) + [1, 2, 3, 4, 5]))
        #expect(m.error?.code == .badRData)
        #expect(m.answers.count == 1)
    }

    @Test func rdlengthPastTheEnd() throws {
        let m = try #require(DNSParser.parse(Wire.header(id: 1, flags: 0x8180, an: 1) + Wire.name("x") + Wire.u16(1) + Wire.u16(1)
            + [0xc0, 0x0c, 0, 1, 0, 1] + Wire.u32(1) + Wire.u16(40) + [1, 2, 3, 4]))
        #expect(m.error?.code == .badRDLength)
        #expect(m.questions.count == 1)
    }

    /// The first question is held apart from any others: all are read in order, a defect keeps the ones before it,
    /// and a message rebuilt from its list reads the same.
    @Test func questionsAfterTheFirst() throws {
        let q1 = Wire.name("a.example") + Wire.u16(1) + Wire.u16(1), q2 = Wire.name("b.example") + Wire.u16(28) + Wire.u16(1)
        let q3 = Wire.name("c.example") + Wire.u16(16) + Wire.u16(1)
        let three = try #require(DNSParser.parse(Wire.header(id: 1, qd: 3) + q1 + q2 + q3))
        #expect(three.error == nil)
        #expect(three.questions.map(\.name.description) == ["a.example.", "b.example.", "c.example."])
        #expect(three.questions.map(\.type) == [.a, .aaaa, .txt])
        #expect(three.questionsRead == 3 && three.question?.name.description == "a.example.")
        let cut = try #require(DNSParser.parse(Wire.header(id: 1, qd: 3) + q1 + q2 + [3, 0x63]))
        #expect(cut.error?.code == .truncated)
        #expect(cut.questions.map(\.name.description) == ["a.example.", "b.example."])
        let firstOnly = try #require(DNSParser.parse(Wire.header(id: 1, qd: 2) + q1 + q2.prefix(4)))
        #expect(firstOnly.questions.map(\.name.description) == ["a.example."] && firstOnly.questionsRead == 1)
        let none = try #require(DNSParser.parse(Wire.header(id: 1, qd: 1) + [5, 0x61]))
        #expect(none.question == nil && none.questions.isEmpty && none.questionsRead == 0)
        var rebuilt = DNSMessage(header: three.header, questions: three.questions, size: three.size)
        #expect(rebuilt.questions == three.questions)
        rebuilt.questions[1].name = DNSName("z.example")
        #expect(rebuilt.questions.map(\.name.description) == ["a.example.", "z.example.", "c.example."])
    }

    /// What few messages have (later questions, a defect, trailing octets) is held apart: each reads back as set, two
    /// messages are equal (and hash alike) when these are, and one set back to a plain message's equals a plain one.
    @Test func irregularPartsReadBackAndCompareByValue() throws {
        let q = Wire.name("a.example") + Wire.u16(1) + Wire.u16(1)
        let plain = try #require(DNSParser.parse(Wire.header(id: 7, qd: 1) + q))
        #expect(plain.error == nil && plain.trailingBytes == 0 && plain.questionsRead == 1)
        let trailing = try #require(DNSParser.parse(Wire.header(id: 7, qd: 1) + q + [0, 0, 0]))
        #expect(trailing.trailingBytes == 3 && trailing.error == nil && trailing != plain)
        #expect(trailing == DNSParser.parse(Wire.header(id: 7, qd: 1) + q + [9, 9, 9]).map { var m = $0; m.size = trailing.size; return m })
        var mended = trailing
        mended.trailingBytes = 0
        mended.size = plain.size
        #expect(mended == plain && mended.hashValue == plain.hashValue)
        var broken = plain
        broken.error = DNSParseError(.truncated, "cut")
        broken.trailingBytes = 2
        #expect(broken.error?.code == .truncated && broken.trailingBytes == 2 && broken != plain)
        #expect(plain.error == nil && plain.trailingBytes == 0, "a copy's change leaves the original as it was")
        broken.error = nil
        #expect(broken.error == nil && broken.trailingBytes == 2 && broken != plain)
        broken.trailingBytes = 0
        #expect(broken == plain && Set([broken, plain]).count == 1)
        var two = plain
        two.questions = plain.questions + plain.questions
        #expect(two.questionsRead == 2 && two != plain)
        two.questions = plain.questions
        #expect(two == plain)
    }

    @Test func headerCountsLargerThanTheMessageDoNotAllocate() throws {
        let m = try #require(DNSParser.parse(Wire.header(id: 9, qd: 65535, an: 65535, ns: 65535, ar: 65535)))
        #expect(m.error?.code == .truncated)
        #expect(DNSParser.parse([0, 1, 2]) == nil)
    }

    @Test func ednsOptionsByName() throws {
        let options: [UInt8] =
            Wire.u16(3) + Wire.u16(4) + Array("ns-1".utf8)                               // NSID
            + Wire.u16(8) + Wire.u16(7) + Wire.u16(1) + [24, 0] + [198, 51, 100]         // ECS 198.51.100.0/24/0
            + Wire.u16(10) + Wire.u16(8) + [1, 2, 3, 4, 5, 6, 7, 8]                      // COOKIE
            + Wire.u16(11) + Wire.u16(2) + Wire.u16(1200)                                // keepalive 120 s
            + Wire.u16(12) + Wire.u16(3) + [0, 0, 0]                                     // padding
            + Wire.u16(15) + Wire.u16(6) + Wire.u16(18) + Array("oops".utf8)             // EDE 18
        let opt: [UInt8] = [0] + Wire.u16(41) + Wire.u16(1232) + [1, 0, 0x80, 0] + Wire.u16(UInt16(options.count)) + options
        let m = try #require(DNSParser.parse(Wire.header(id: 5, flags: 0x8183, ar: 1) + Wire.name("example.com") + Wire.u16(1) + Wire.u16(1) + opt))
        let edns = try #require(m.edns)
        #expect(m.error == nil)
        #expect(edns.udpPayloadSize == 1232)
        #expect(edns.dnssecOK)
        #expect(m.rcode == DNSRCode(16 + 3))        // extended RCODE 1 << 4 | NXDOMAIN
        #expect(m.rcode.description == "BADMODE")
        #expect(edns.options.map(\.presentation) == [
            "NSID=6e732d31 (\"ns-1\")", "CLIENT-SUBNET=198.51.100.0/24/0", "COOKIE=0102030405060708",
            "TCP-KEEPALIVE=120.0s", "PADDING=3", "EXTENDED-ERROR=18 \"oops\"",
        ])
    }

    @Test func ednsOptionOverrunIsFlagged() throws {
        let opt: [UInt8] = [0] + Wire.u16(41) + Wire.u16(512) + [0, 0, 0, 0] + Wire.u16(4) + Wire.u16(3) + Wire.u16(9)
        let m = try #require(DNSParser.parse(Wire.header(id: 5, ar: 1) + Wire.name("example.com") + Wire.u16(1) + Wire.u16(1) + opt))
        #expect(m.error?.code == .badEDNS)
    }

    @Test func flagsAndCodes() throws {
        let m = try #require(DNSParser.parse(Wire.header(id: 1, flags: 0x8000 | 0x2800 | 0x0400 | 0x0200 | 0x0100 | 0x0080 | 0x0020 | 0x0010 | 5)
            + Wire.name("x") + Wire.u16(1) + Wire.u16(1)))
        #expect(m.header.flagNames == ["qr", "aa", "tc", "rd", "ra", "ad", "cd"])
        #expect(m.header.opcode.description == "UPDATE")
        #expect(m.rcode.description == "REFUSED")
        #expect(m.header.isTruncated)
    }
}

@Suite("Timestamps and addresses")
struct TimestampTests {
    @Test func iso8601WithCapturePrecision() {
        #expect(Timestamp(seconds: 1_795_702_969, nanoseconds: 123_456_000, digits: 6).iso8601 == "2026-11-26T14:22:49.123456Z")
        #expect(Timestamp(seconds: 1_795_702_969, nanoseconds: 123_456_789, digits: 9).iso8601 == "2026-11-26T14:22:49.123456789Z")
        #expect(Timestamp(seconds: 0, nanoseconds: 0, digits: 6).iso8601 == "1970-01-01T00:00:00.000000Z")
        #expect(Timestamp(seconds: 951_782_400, nanoseconds: 0, digits: 0).iso8601 == "2000-02-29T00:00:00Z")
        #expect(Timestamp(seconds: 4_294_967_296 + 86_400, nanoseconds: 0, digits: 6).iso8601 == "2106-02-08T06:28:16.000000Z")
    }

    /// The timestamp written on the stack in one run (`TextRun`), against glibc's `gmtime_r` for 5,000 times from
    /// 1970 to 9999 with every number of sub-second digits; and years of five digits or before 0 number by number.
    @Test func iso8601AgainstGmtime() {
        var rng = SplitMix(state: 0x15_0860_1)
        for n in 0..<5_000 {
            let seconds = Int64.random(in: 0...253_402_300_799, using: &rng)
            let nanoseconds = UInt32.random(in: 0..<1_000_000_000, using: &rng)
            let digits = UInt8(n % 10)
            var t = time_t(seconds)
            var parts = tm()
            gmtime_r(&t, &parts)
            func two(_ v: Int32) -> String { v < 10 ? "0\(v)" : "\(v)" }
            var fraction = ""
            if digits > 0 {
                let padded = String(repeating: "0", count: 9 - String(nanoseconds).count) + String(nanoseconds)
                fraction = "." + padded.prefix(Int(digits))
            }
            let year = String(repeating: "0", count: 4 - String(parts.tm_year + 1900).count) + String(parts.tm_year + 1900)
            let clock = "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec))\(fraction)"
            let stamp = Timestamp(seconds: seconds, nanoseconds: nanoseconds, digits: digits)
            #expect(stamp.iso8601 == "\(year)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))T\(clock)Z")
            #expect(stamp.timeOfDay == clock + (digits == 0 ? ".0" : ""))
        }
        #expect(Timestamp(seconds: 253_402_300_800, nanoseconds: 5_000, digits: 6).iso8601 == "10000-01-01T00:00:00.000005Z")
        #expect(Timestamp(seconds: -62_167_219_201, nanoseconds: 0, digits: 0).iso8601 == "-001-12-31T23:59:59Z")
    }

    @Test func ipv6Text() {
        func v6(_ groups: [UInt16]) -> String {
            IPAddress(bytes: groups.flatMap { Wire.u16($0) }[...])!.description
        }
        #expect(v6([0x2001, 0xdb8, 0, 0, 0, 0, 0, 1]) == "2001:db8::1")
        #expect(v6([0, 0, 0, 0, 0, 0, 0, 0]) == "::")
        #expect(v6([0x2001, 0xdb8, 0, 1, 0, 0, 0, 1]) == "2001:db8:0:1::1")
        #expect(v6([0x2001, 0, 0, 1, 0, 0, 0, 1]) == "2001:0:0:1::1")
        #expect(v6([0xfe80, 0, 0, 0, 0x200, 0x86ff, 0xfe05, 0x80da]) == "fe80::200:86ff:fe05:80da")
        #expect(v6([0, 0, 0, 0, 0, 0xffff, 0xc000, 0x0201]) == "::ffff:192.0.2.1")
        #expect(v6([1, 0, 1, 0, 1, 0, 1, 0]) == "1:0:1:0:1:0:1:0")
        #expect(v6([0, 0, 0, 0, 0, 0, 0x0102, 0x0304]) == "::102:304")   // no IPv4-compatible form (deprecated)
    }

    /// Addresses as text, written straight as octets: the same as `inet_ntop` for 20,000 addresses with zero runs of
    /// every length and place (but the deprecated IPv4-compatible form, `::a.b.c.d`, written as groups), and
    /// `description` the same octets.
    @Test func addressTextAsInetNtop() {
        var rng = SplitMix(state: 11)
        for n in 0..<20_000 {
            var groups = (0..<8).map { _ in UInt16.random(in: 0...0xffff, using: &rng) >> UInt16.random(in: 0...16, using: &rng) }
            let start = Int.random(in: 0..<8, using: &rng), length = Int.random(in: 0...8, using: &rng)
            for i in start..<min(8, start + length) { groups[i] = 0 }
            if n % 50 == 0 { groups = [0, 0, 0, 0, 0, 0xffff, groups[6], groups[7]] }
            let octets = groups.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xff)] }
            let address = IPAddress(bytes: octets[...])!
            if groups[0..<6].allSatisfy({ $0 == 0 }), groups[6] != 0 || groups[7] > 1 { continue }
            var buffer = [CChar](repeating: 0, count: 64)
            var raw = octets
            _ = inet_ntop(AF_INET6, &raw, &buffer, 64)
            let expected = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            var out: [UInt8] = []
            address.appendText(to: &out)
            #expect(String(decoding: out, as: UTF8.self) == expected, "\(groups)")
            #expect(address.description == expected)
            if String(decoding: out, as: UTF8.self) != expected { break }
        }
        for v4: UInt32 in [0, 1, 0x0a00_0001, 0xc000_0201, 0xffff_ffff, 0x6400_0a09] {
            var raw = v4.bigEndian, buffer = [CChar](repeating: 0, count: 32)
            _ = inet_ntop(AF_INET, &raw, &buffer, 32)
            #expect(IPAddress.v4(v4).description == String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
    }

    /// Numbers as the CSV and the times write them: `String(n)`, zero-padded to the width (a sign before the zeros).
    @Test func numbersPaddedAsStringWrites() {
        var rng = SplitMix(state: 5)
        let values: [Int64] = [0, 1, 9, 10, 99, 100, -1, -10, .max, .min + 1, 1_000_000_000] +
            (0..<2_000).map { _ in Int64.random(in: -1_000_000...Int64.max, using: &rng) >> Int64.random(in: 0...62, using: &rng) }
        for v in values {
            for width in 0...12 {
                var out: [UInt8] = [0x41]
                Timestamp.append(v, width: width, to: &out)
                let digits = String(v.magnitude)
                let padded = String(repeating: "0", count: max(0, (v < 0 ? width - 1 : width) - digits.count)) + digits
                #expect(String(decoding: out, as: UTF8.self) == "A" + (v < 0 ? "-" : "") + padded, "\(v) width \(width)")
            }
        }
    }
}
