/// Decodes one DNS message (RFC 1035 §4.1) from its own byte array.
public enum DNSParser {
    /// The message, as far as it decodes. Returns nil only when there is no 12-octet header; any later
    /// defect is kept in `DNSMessage.error` with every section read up to it.
    /// `recordsOnDemand`: every record is checked as it would be read (the same defects found), but kept only as the
    /// message's octets, and read again when a section is asked for: the analysis asks only whether there are answers.
    public static func parse(_ bytes: [UInt8], recordsOnDemand: Bool = false) -> DNSMessage? {
        parse(bytes, recordsOnDemand: recordsOnDemand, names: nil)
    }

    /// `names`: the question's name taken from there when it was read lately (`NameCache`).
    static func parse(_ bytes: [UInt8], recordsOnDemand: Bool, names: NameCache?) -> DNSMessage? {
        var c = ByteCursor(bytes)
        guard bytes.count >= 12,
              let id = c.readUInt16(), let flags = c.readUInt16(),
              let qd = c.readUInt16(), let an = c.readUInt16(),
              let ns = c.readUInt16(), let ar = c.readUInt16()
        else { return nil }
        let header = DNSHeader(
            id: id, flags: DNSHeader.Flags(rawValue: flags),
            questionCount: qd, answerCount: an, authorityCount: ns, additionalCount: ar)
        var message = DNSMessage(header: header, size: bytes.count)
        read(bytes, from: &c, into: &message, recordsOnDemand: recordsOnDemand, names: names)
        // (Read into by a call of its own: a message the deferred steps touch was copied to be returned.)
        return message
    }

    /// The questions and records after the header, into `message`; its first defect in `message.error`.
    private static func read(_ bytes: [UInt8], from c: inout ByteCursor, into message: inout DNSMessage,
                             recordsOnDemand: Bool, names: NameCache?) {
        let header = message.header
        let (qd, an, ns, ar) = (header.questionCount, header.answerCount, header.authorityCount, header.additionalCount)
        do throws(DNSParseError) {
            if qd > 0 {
                message.question = try readQuestion(from: &c, names: names)
                if qd > 1 {
                    // A count can claim 65535 entries in a 12-byte message: reserve only what could fit.
                    var later: [DNSQuestion] = []
                    later.reserveCapacity(min(Int(qd) - 1, c.remaining / 5))
                    // Stored as they are read: a defect keeps the ones before it.
                    defer { if !later.isEmpty { message.questions = [message.question!] + later } }
                    for _ in 1..<qd { later.append(try readQuestion(from: &c)) }
                }
            }
            if recordsOnDemand {
                let start = c.offset
                var counts = DNSMessage.SectionCounts()
                // A message with no record read (most queries, an NXDOMAIN without an SOA) keeps no octets: nothing
                // would read them again, and they go with the payload on the decoding thread, not with the message.
                defer {
                    if counts != DNSMessage.SectionCounts() {
                        message.records = .onDemand(DNSMessage.RecordsOnDemand(bytes: bytes, start: start, counts: counts))
                    }
                }
                try checkRecords(count: an, from: &c, message: &message, read: &counts.answers)
                try checkRecords(count: ns, from: &c, message: &message, read: &counts.authorities)
                try checkRecords(count: ar, from: &c, message: &message, read: &counts.additionals)
            } else {
                // Stored once (also when a defect stops them: what was read is kept).
                var sections = DNSMessage.ReadSections()
                defer { if !sections.isEmpty { message.records = .read(sections) } }
                try readRecords(count: an, from: &c, into: &sections.answers, message: &message)
                try readRecords(count: ns, from: &c, into: &sections.authorities, message: &message)
                try readRecords(count: ar, from: &c, into: &sections.additionals, message: &message)
            }
            message.trailingBytes = c.remaining
        } catch {
            if message.error == nil { message.error = error }
        }
    }

    /// Whether two parses of a message hold the same (one with its records read, one with them on demand, say).
    static func sameContent(_ a: DNSMessage, _ b: DNSMessage) -> Bool {
        a.header == b.header && a.questions == b.questions && a.answers == b.answers && a.authorities == b.authorities
            && a.additionals == b.additionals && a.edns == b.edns && a.error == b.error
            && a.trailingBytes == b.trailingBytes && a.size == b.size && a.answersRead == b.answersRead
            && a.authoritiesRead == b.authoritiesRead && a.additionalsRead == b.additionalsRead
    }

    /// One section of a message parsed with `recordsOnDemand`, read again (`section`: 0 answers, 1 authorities, 2
    /// additionals): the sections before it stepped over, its `counts[section]` records read (the ones read the first
    /// time; defects then are not kept again).
    static func readAgain(_ bytes: [UInt8], start: Int, counts: DNSMessage.SectionCounts, question: DNSName?,
                          section: Int) -> [DNSResourceRecord] {
        var c = ByteCursor(bytes)
        _ = c.moveTo(start)
        var message = DNSMessage(header: DNSHeader(id: 0, flags: [], questionCount: 0, answerCount: 0, authorityCount: 0,
                                                   additionalCount: 0), size: bytes.count)
        if let question { message.question = DNSQuestion(name: question, type: DNSType(0), qclass: DNSClass(0)) }
        var stepped = 0
        for i in 0..<section { try? checkRecords(count: UInt16(counts[i]), from: &c, message: &message, read: &stepped) }
        var records: [DNSResourceRecord] = []
        try? readRecords(count: UInt16(counts[section]), from: &c, into: &records, message: &message)
        return records
    }

    private static func readQuestion(from c: inout ByteCursor, names: NameCache? = nil) throws(DNSParseError) -> DNSQuestion {
        let name = try DNSName.read(from: &c, cache: names)
        guard let type = c.readUInt16(), let qclass = c.readUInt16() else {
            throw DNSParseError(.truncated, "question cut off at offset \(c.offset)")
        }
        return DNSQuestion(name: name, type: DNSType(type), qclass: DNSClass(qclass))
    }

    /// Reads a section's records into `records` (each appended as it is read: a defect keeps the ones before it).
    private static func readRecords(
        count: UInt16, from c: inout ByteCursor, into records: inout [DNSResourceRecord], message: inout DNSMessage
    ) throws(DNSParseError) {
        guard count > 0 else { return }
        records.reserveCapacity(min(Int(count), c.remaining / 11))
        // The first question's name starts at offset 12: an owner name that is only a pointer there (most answers)
        // is that name, shared rather than decoded again.
        let questionName = message.question?.name
        for _ in 0..<count {
            let name: DNSName
            if let questionName, c.peekUInt16() == 0xC00C {
                name = questionName
                _ = c.skip(2)
            } else {
                name = try DNSName.read(from: &c)
            }
            let (rrType, rrclass, ttl, range) = try readRecordHeader(from: &c)
            var rdata: DNSResourceRecord.RData
            if let address = RDataPresentation.address(type: rrType, c.bytes, range) {
                rdata = .address(address)
            } else {
                do {
                    rdata = .text(try RDataPresentation.render(type: rrType, rdata: ByteCursor(c.bytes, range: range)))
                } catch {
                    // Keep the record and go on: RDLENGTH framed it, so later records still decode.
                    if message.error == nil { message.error = error }
                    rdata = .text(RDataPresentation.generic(ByteCursor(c.bytes, range: range)))
                }
            }
            readOPT(rrType, rrclass: rrclass, ttl: ttl, range: range, in: c.bytes, message: &message)
            records.append(DNSResourceRecord(
                name: name, type: rrType, rrclass: DNSClass(rrclass), ttl: ttl, rdataRange: range, rdata: rdata))
        }
    }

    /// `readRecords`, keeping nothing but how many were read: the same checks in the same order (so the same defect,
    /// at the same record), with no name copied and no RDATA written out.
    private static func checkRecords(
        count: UInt16, from c: inout ByteCursor, message: inout DNSMessage, read: inout Int
    ) throws(DNSParseError) {
        let hasQuestion = message.question != nil
        for _ in 0..<count {
            if hasQuestion, c.peekUInt16() == 0xC00C {
                _ = c.skip(2)
            } else {
                try DNSName.skip(from: &c)
            }
            let (rrType, rrclass, ttl, range) = try readRecordHeader(from: &c)
            if !RDataPresentation.isAddress(type: rrType, length: range.count) {
                do throws(DNSParseError) {
                    try RDataPresentation.check(type: rrType, rdata: ByteCursor(c.bytes, range: range))
                } catch {
                    if message.error == nil { message.error = error }
                }
            }
            readOPT(rrType, rrclass: rrclass, ttl: ttl, range: range, in: c.bytes, message: &message)
            read += 1
        }
    }

    /// A record's fixed fields after its owner name, and where its RDATA lies (checked to be inside the message).
    @inline(__always) private static func readRecordHeader(
        from c: inout ByteCursor
    ) throws(DNSParseError) -> (type: DNSType, rrclass: UInt16, ttl: UInt32, rdata: Range<Int>) {
        guard let type = c.readUInt16(), let rrclass = c.readUInt16(), let ttl = c.readUInt32(),
              let rdlength = c.readUInt16()
        else { throw DNSParseError(.truncated, "record header cut off at offset \(c.offset)") }
        guard let range = c.readRange(Int(rdlength)) else {
            throw DNSParseError(.badRDLength, "RDLENGTH \(rdlength) at offset \(c.offset - 2) runs past the end of the message")
        }
        return (DNSType(type), rrclass, ttl, range)
    }

    /// The first OPT record is the message's EDNS.
    private static func readOPT(_ type: DNSType, rrclass: UInt16, ttl: UInt32, range: Range<Int>, in bytes: [UInt8],
                                message: inout DNSMessage) {
        guard type == .opt, message.edns == nil else { return }
        do {
            message.edns = try readEDNS(rrclass: rrclass, ttl: ttl, rdata: ByteCursor(bytes, range: range))
        } catch {
            if message.error == nil { message.error = error }
        }
    }

    /// OPT: CLASS = UDP payload size; TTL = extended RCODE (8) | version (8) | DO (1) | Z (15);
    /// RDATA = { code (16), length (16), data }* (RFC 6891 §6.1.2).
    static func readEDNS(rrclass: UInt16, ttl: UInt32, rdata: ByteCursor) throws(DNSParseError) -> EDNS {
        var c = rdata
        var options = [EDNS.Option]()
        while !c.isAtEnd {
            guard let code = c.readUInt16(), let length = c.readUInt16(), let data = c.readBytes(Int(length)) else {
                throw DNSParseError(.badEDNS, "EDNS option overruns the OPT record at offset \(c.offset)")
            }
            options.append(EDNS.Option(code: EDNSOptionCode(code), data: data))
        }
        return EDNS(
            udpPayloadSize: rrclass, extendedRCode: UInt8(ttl >> 24), version: UInt8(ttl >> 16 & 0xff),
            dnssecOK: ttl & 0x8000 != 0, zFlags: UInt16(ttl & 0x7fff), options: options)
    }
}
