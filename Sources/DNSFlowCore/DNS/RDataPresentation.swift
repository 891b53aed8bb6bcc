/// RDATA in presentation form, one layout per type (the RFC that defines each is named beside it).
/// Every renderer must consume RDATA exactly; leftover or missing bytes are `bad-rdata`.
enum RDataPresentation {
    /// A well-formed A or AAAA RDATA's address (what `render` would write as text); nil for anything else.
    static func address(type: DNSType, _ bytes: [UInt8], _ range: Range<Int>) -> IPAddress? {
        isAddress(type: type, length: range.count) ? IPAddress(bytes: bytes[range]) : nil
    }

    /// Whether RDATA of this type and length is a well-formed A or AAAA address (`address` is not nil).
    @inline(__always) static func isAddress(type: DNSType, length: Int) -> Bool {
        (type == .a && length == 4) || (type == .aaaa && length == 16)
    }

    /// Whether `render` would write the RDATA out, without writing it: the same defect thrown. The layouts most
    /// answers have (names, MX, SOA, SRV) are stepped over; the rest are rendered and the text dropped.
    static func check(type: DNSType, rdata: ByteCursor) throws(DNSParseError) {
        var c = rdata
        switch type {
        case .ns, .cname, .ptr, .dname, .md, .mf, .mb, .mg, .mr:
            try DNSName.skip(from: &c)
        case .mx, .kx, .rt, .afsdb:
            guard c.readUInt16() != nil else { throw bad(type, rdata) }
            try DNSName.skip(from: &c)
        case .soa:
            try DNSName.skip(from: &c)
            try DNSName.skip(from: &c)
            guard c.skip(20) else { throw bad(type, rdata) }
        case .srv:
            guard c.skip(6) else { throw bad(type, rdata) }
            try DNSName.skip(from: &c)
        default:
            _ = try render(type: type, rdata: rdata)
            return
        }
        guard c.isAtEnd else {
            throw DNSParseError(.badRData, "\(type) RDATA has \(c.remaining) octets left over")
        }
    }

    static func render(type: DNSType, rdata: ByteCursor) throws(DNSParseError) -> String {
        var c = rdata
        let text: String
        switch type {
        case .a:                                              // RFC 1035 §3.4.1
            guard c.remaining == 4, let a = c.readUInt32() else { throw bad(type, rdata) }
            text = IPAddress.v4(a).description
        case .aaaa:                                           // RFC 3596 §2.2
            guard c.remaining == 16, let r = c.readRange(16), let ip = IPAddress(bytes: c.bytes[r]) else {
                throw bad(type, rdata)
            }
            text = ip.description
        case .ns, .cname, .ptr, .dname, .md, .mf, .mb, .mg, .mr:   // a single domain name
            text = try DNSName.read(from: &c).description
        case .mx, .kx, .rt, .afsdb:                          // RFC 1035 §3.3.9: preference, exchange
            guard let pref = c.readUInt16() else { throw bad(type, rdata) }
            text = "\(pref) \(try DNSName.read(from: &c))"
        case .minfo, .rp:                                      // two names
            let a = try DNSName.read(from: &c)
            text = "\(a) \(try DNSName.read(from: &c))"
        case .soa:                                            // RFC 1035 §3.3.13
            let mname = try DNSName.read(from: &c)
            let rname = try DNSName.read(from: &c)
            guard let serial = c.readUInt32(), let refresh = c.readUInt32(), let retry = c.readUInt32(),
                  let expire = c.readUInt32(), let minimum = c.readUInt32()
            else { throw bad(type, rdata) }
            text = "\(mname) \(rname) \(serial) \(refresh) \(retry) \(expire) \(minimum)"
        case .txt, .spf:                                      // RFC 1035 §3.3.14: one or more strings
            var parts = [String]()
            repeat { parts.append(try characterString(&c, type)) } while !c.isAtEnd
            text = parts.joined(separator: " ")
        case .hinfo:
            let cpu = try characterString(&c, type)
            text = "\(cpu) \(try characterString(&c, type))"
        case .srv:                                            // RFC 2782
            guard let prio = c.readUInt16(), let weight = c.readUInt16(), let port = c.readUInt16() else {
                throw bad(type, rdata)
            }
            text = "\(prio) \(weight) \(port) \(try DNSName.read(from: &c))"
        case .naptr:                                          // RFC 3403 §4.1
            guard let order = c.readUInt16(), let pref = c.readUInt16() else { throw bad(type, rdata) }
            let flags = try characterString(&c, type)
            let services = try characterString(&c, type)
            let regexp = try characterString(&c, type)
            text = "\(order) \(pref) \(flags) \(services) \(regexp) \(try DNSName.read(from: &c))"
        case .caa:                                            // RFC 8659 §4.1
            guard let flags = c.readUInt8(), let tagLength = c.readUInt8(), tagLength > 0,
                  let tag = c.readBytes(Int(tagLength))
            else { throw bad(type, rdata) }
            let value = c.readRest()
            text = "\(flags) \(String(decoding: tag.map { $0 >= 0x21 && $0 <= 0x7e ? $0 : 0x3f }, as: UTF8.self)) \(quoted(value))"
        case .ds, .cds, .DLV:                                 // RFC 4034 §5.1
            guard let tag = c.readUInt16(), let alg = c.readUInt8(), let digestType = c.readUInt8(), !c.isAtEnd else {
                throw bad(type, rdata)
            }
            text = "\(tag) \(alg) \(digestType) \(Hex.encode(c.readRest(), uppercase: true))"
        case .dnskey, .cdnskey, .key:                          // RFC 4034 §2.1
            guard let flags = c.readUInt16(), let proto = c.readUInt8(), let alg = c.readUInt8() else {
                throw bad(type, rdata)
            }
            text = "\(flags) \(proto) \(alg) \(Base64.encode(c.readRest()))"
        case .rrsig, .sig:                                     // RFC 4034 §3.1
            guard let covered = c.readUInt16(), let alg = c.readUInt8(), let labels = c.readUInt8(),
                  let originalTTL = c.readUInt32(), let expiration = c.readUInt32(), let inception = c.readUInt32(),
                  let keyTag = c.readUInt16()
            else { throw bad(type, rdata) }
            let signer = try DNSName.read(from: &c)
            text = "\(DNSType(covered)) \(alg) \(labels) \(originalTTL) \(signatureTime(expiration)) "
                + "\(signatureTime(inception)) \(keyTag) \(signer) \(Base64.encode(c.readRest()))"
        case .nsec:                                           // RFC 4034 §4.1
            let next = try DNSName.read(from: &c)
            text = "\(next)" + (try typeBitmap(&c, type))
        case .nsec3:                                          // RFC 5155 §3.2
            guard let alg = c.readUInt8(), let flags = c.readUInt8(), let iterations = c.readUInt16(),
                  let saltLength = c.readUInt8(), let salt = c.readBytes(Int(saltLength)),
                  let hashLength = c.readUInt8(), hashLength > 0, let hash = c.readBytes(Int(hashLength))
            else { throw bad(type, rdata) }
            text = "\(alg) \(flags) \(iterations) \(salt.isEmpty ? "-" : Hex.encode(salt, uppercase: true)) "
                + Base32Hex.encode(hash) + (try typeBitmap(&c, type))
        case .nsec3param:                                     // RFC 5155 §4.2
            guard let alg = c.readUInt8(), let flags = c.readUInt8(), let iterations = c.readUInt16(),
                  let saltLength = c.readUInt8(), let salt = c.readBytes(Int(saltLength))
            else { throw bad(type, rdata) }
            text = "\(alg) \(flags) \(iterations) \(salt.isEmpty ? "-" : Hex.encode(salt, uppercase: true))"
        case .sshfp:                                          // RFC 4255 §3.1
            guard let alg = c.readUInt8(), let fpType = c.readUInt8() else { throw bad(type, rdata) }
            text = "\(alg) \(fpType) \(Hex.encode(c.readRest(), uppercase: true))"
        case .tlsa, .smimea:                                  // RFC 6698 §2.1
            guard let usage = c.readUInt8(), let selector = c.readUInt8(), let matching = c.readUInt8() else {
                throw bad(type, rdata)
            }
            text = "\(usage) \(selector) \(matching) \(Hex.encode(c.readRest(), uppercase: true))"
        case .uri:                                            // RFC 7553 §4.5
            guard let prio = c.readUInt16(), let weight = c.readUInt16() else { throw bad(type, rdata) }
            text = "\(prio) \(weight) \(quoted(c.readRest()))"
        case .svcb, .https:                                   // RFC 9460 §2.2
            text = try SVCBPresentation.render(&c)
        case .opt:                                            // RFC 6891: options, shown by name
            var parts = [String]()
            while !c.isAtEnd {
                guard let code = c.readUInt16(), let length = c.readUInt16(), let data = c.readBytes(Int(length)) else {
                    throw DNSParseError(.badEDNS, "EDNS option overruns the OPT record")
                }
                parts.append(EDNS.Option(code: EDNSOptionCode(code), data: data).presentation)
            }
            text = parts.joined(separator: " ")
        default:
            return generic(rdata)
        }
        guard c.isAtEnd else {
            throw DNSParseError(.badRData, "\(type) RDATA has \(c.remaining) octets left over")
        }
        return text
    }

    /// RFC 3597 §5: `\# <length> <hex>`.
    static func generic(_ rdata: ByteCursor) -> String {
        var c = rdata
        let bytes = c.readRest()
        return bytes.isEmpty ? "\\# 0" : "\\# \(bytes.count) \(Hex.encode(bytes, uppercase: true))"
    }

    private static func bad(_ type: DNSType, _ rdata: ByteCursor) -> DNSParseError {
        DNSParseError(.badRData, "\(type) RDATA of \(rdata.remaining) octets does not fit its layout")
    }

    /// `<character-string>`: one length octet and that many octets, written quoted.
    static func characterString(_ c: inout ByteCursor, _ type: DNSType) throws(DNSParseError) -> String {
        guard let n = c.readUInt8(), let bytes = c.readBytes(Int(n)) else {
            throw DNSParseError(.badRData, "\(type) character-string runs past its RDATA")
        }
        return quoted(bytes)
    }

    /// A quoted string with `"` and `\` escaped, `;` as `\059` (so `;`-joined lists stay unambiguous),
    /// and every byte outside printable ASCII as `\DDD`.
    static func quoted<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
        var out: [UInt8] = [UInt8(ascii: "\"")]
        for b in bytes {
            switch b {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"):
                out.append(UInt8(ascii: "\\"))
                out.append(b)
            case UInt8(ascii: ";"):
                DNSName.appendDecimalEscape(b, to: &out)
            case 0x20...0x7e:
                out.append(b)
            default:
                DNSName.appendDecimalEscape(b, to: &out)
            }
        }
        out.append(UInt8(ascii: "\""))
        return String(decoding: out, as: UTF8.self)
    }

    /// RFC 4034 §3.2: YYYYMMDDHHmmSS in UTC (serial-number arithmetic is the reader's business).
    static func signatureTime(_ t: UInt32) -> String {
        let iso = Timestamp(seconds: Int64(t), nanoseconds: 0, digits: 0).iso8601
        return iso.filter { $0.isNumber }
    }

    /// RFC 4034 §4.1.2 type bit maps: { window, length 1...32, bitmap }*; written as ` A NS SOA ...`.
    static func typeBitmap(_ c: inout ByteCursor, _ type: DNSType) throws(DNSParseError) -> String {
        var out = ""
        var lastWindow = -1
        while !c.isAtEnd {
            guard let window = c.readUInt8(), Int(window) > lastWindow, let length = c.readUInt8(),
                  length >= 1, length <= 32, let map = c.readBytes(Int(length))
            else { throw DNSParseError(.badRData, "\(type) type bitmap is malformed") }
            lastWindow = Int(window)
            for (i, byte) in map.enumerated() where byte != 0 {
                for bit in 0..<8 where byte & (0x80 >> UInt8(bit)) != 0 {
                    out += " \(DNSType(UInt16(window) << 8 | UInt16(i * 8 + bit)))"
                }
            }
        }
        return out
    }
}

extension DNSType {
    static let DLV = DNSType(32769)
}

/// SVCB/HTTPS: SvcPriority, TargetName, then SvcParams { key (16), length (16), value } in strictly
/// increasing key order (RFC 9460 §2.2).
enum SVCBPresentation {
    static let keyNames: [UInt16: String] = [
        0: "mandatory", 1: "alpn", 2: "no-default-alpn", 3: "port", 4: "ipv4hint", 5: "ech", 6: "ipv6hint",
        7: "dohpath", 8: "ohttp",
    ]

    static func render(_ c: inout ByteCursor) throws(DNSParseError) -> String {
        guard let priority = c.readUInt16() else { throw DNSParseError(.badRData, "SVCB RDATA cut off") }
        let target = try DNSName.read(from: &c)
        var out = "\(priority) \(target)"
        var lastKey = -1
        while !c.isAtEnd {
            guard let key = c.readUInt16(), Int(key) > lastKey, let length = c.readUInt16(),
                  let value = c.readBytes(Int(length))
            else { throw DNSParseError(.badRData, "SVCB parameter overruns its RDATA or is out of order") }
            lastKey = Int(key)
            let name = keyNames[key] ?? "key\(key)"
            out += " " + name + (try valueText(key: key, value))
        }
        return out
    }

    private static func valueText(key: UInt16, _ value: [UInt8]) throws(DNSParseError) -> String {
        var c = ByteCursor(value)
        switch key {
        case 0:
            var keys = [String]()
            while let k = c.readUInt16() { keys.append(keyNames[k] ?? "key\(k)") }
            guard c.isAtEnd, !keys.isEmpty else { throw DNSParseError(.badRData, "SVCB mandatory is malformed") }
            return "=" + keys.joined(separator: ",")
        case 1:
            var ids = [String]()
            while !c.isAtEnd {
                guard let n = c.readUInt8(), n > 0, let id = c.readBytes(Int(n)) else {
                    throw DNSParseError(.badRData, "SVCB alpn is malformed")
                }
                let quoted = RDataPresentation.quoted(id)
                ids.append(String(quoted.dropFirst().dropLast()).replacingCommas())
            }
            return "=\"" + ids.joined(separator: ",") + "\""
        case 2:
            guard value.isEmpty else { throw DNSParseError(.badRData, "SVCB no-default-alpn has a value") }
            return ""
        case 3:
            guard value.count == 2, let port = c.readUInt16() else { throw DNSParseError(.badRData, "SVCB port is malformed") }
            return "=\(port)"
        case 4, 6:
            let width = key == 4 ? 4 : 16
            guard !value.isEmpty, value.count % width == 0 else {
                throw DNSParseError(.badRData, "SVCB address hint is malformed")
            }
            var addresses = [String]()
            while let r = c.readRange(width), !r.isEmpty, let ip = IPAddress(bytes: c.bytes[r]) {
                addresses.append(ip.description)
            }
            return "=" + addresses.joined(separator: ",")
        case 5:
            return "=" + Base64.encode(value)
        default:
            return value.isEmpty ? "" : "=" + RDataPresentation.quoted(value)
        }
    }
}

private extension String {
    /// Inside an alpn value a literal comma is written `\,` (RFC 9460 Appendix A.1).
    func replacingCommas() -> String {
        var out = ""
        for ch in self { out += ch == "," ? "\\," : String(ch) }
        return out
    }
}
