@testable import DNSFlowCore
import Testing

/// Records on demand against records read, message by message: every defect a record can have is found alike.
@Suite("Records on demand: defects")
struct RecordsOnDemandDefectTests {
    /// Each kind of defect a record can have, on demand as read: a name running off the end, a pointer forward, a
    /// record header cut off, an RDLENGTH past the end, RDATA that does not fit its type (MX, SOA, SRV, a CNAME with
    /// octets left over), and a bad OPT.
    @Test func sameDefectsAsRecordsRead() throws {
        let question = Array(Wire.query(id: 1, name: "example.com").dropFirst(12))
        func message(answers: [[UInt8]], additionals: [[UInt8]] = []) -> [UInt8] {
            Wire.header(id: 1, flags: 0x8180, qd: 1, an: UInt16(answers.count), ar: UInt16(additionals.count))
                + question + answers.flatMap { $0 } + additionals.flatMap { $0 }
        }
        func record(_ name: [UInt8] = [0xC0, 0x0C], type: UInt16, rdata: [UInt8]) -> [UInt8] {
            name + Wire.u16(type) + Wire.u16(1) + Wire.u32(60) + Wire.u16(UInt16(rdata.count)) + rdata
        }
        let cases: [[UInt8]] = [
            message(answers: [record(type: 1, rdata: [192, 0, 2, 1])]),
            message(answers: [record(type: 5, rdata: Wire.name("www.example.com"))]),
            message(answers: [record(type: 5, rdata: Wire.name("www.example.com") + [0])]),
            message(answers: [record(type: 15, rdata: [0])]),
            message(answers: [record(type: 15, rdata: [0, 10, 0xC0, 0x0C])]),
            message(answers: [record(type: 6, rdata: [0xC0, 0x0C, 0xC0, 0x0C] + [UInt8](repeating: 1, count: 19))]),
            message(answers: [record(type: 6, rdata: [0xC0, 0x0C, 0xC0, 0x0C] + [UInt8](repeating: 1, count: 20))]),
            message(answers: [record(type: 33, rdata: [0, 1, 0, 2])]),
            message(answers: [record(type: 33, rdata: [0, 1, 0, 2, 0, 53, 0xC0, 0x0C])]),
            message(answers: [record(type: 2, rdata: [0xC0, 0x7F])]),
            message(answers: [record(type: 2, rdata: [5, 0x61])]),
            message(answers: [record([0xC0, 0x40], type: 1, rdata: [1, 2, 3, 4])]),
            message(answers: [record(type: 1, rdata: [1, 2, 3])]),
            message(answers: [record(type: 16, rdata: [3, 0x61])]),
            message(answers: [record(type: 1, rdata: [1, 2, 3, 4])], additionals: [record([0], type: 41, rdata: [0, 10, 0, 9, 1])]),
            Array(message(answers: [record(type: 1, rdata: [1, 2, 3, 4]), record(type: 1, rdata: [5, 6, 7, 8])]).dropLast(3)),
            Array(message(answers: [record(type: 1, rdata: [1, 2, 3, 4]), record(type: 1, rdata: [5, 6, 7, 8])]).dropLast(9)),
            message(answers: [record(type: 1, rdata: [1, 2, 3, 4])]) + [0, 0, 0],
        ]
        var errors: Set<String> = []
        for bytes in cases {
            let read = try #require(DNSParser.parse(bytes))
            let onDemand = try #require(DNSParser.parse(bytes, recordsOnDemand: true))
            #expect(DNSParser.sameContent(read, onDemand), "\(read.error.map { "\($0.code.rawValue): \($0.reason)" } ?? "no defect")")
            if let e = read.error { errors.insert(e.code.rawValue) }
        }
        #expect(errors.count >= 5, "\(errors)")
    }
}
