/// EDNS options by name, with their values decoded where the RFC gives them a structure.
enum EDNSPresentation {
    static func describe(_ option: EDNS.Option) -> String {
        let name = option.code.description
        let data = option.data
        var c = ByteCursor(data)
        switch option.code.rawValue {
        case 3:                                               // NSID, RFC 5001: opaque, often ASCII
            guard !data.isEmpty else { return name }
            return "\(name)=\(Hex.encode(data)) (\(RDataPresentation.quoted(data)))"
        case 8:                                               // CLIENT-SUBNET, RFC 7871 §6
            guard let family = c.readUInt16(), let source = c.readUInt8(), let scope = c.readUInt8() else {
                return "\(name)=\(Hex.encode(data))"
            }
            let addressBytes = c.readRest()
            let width = family == 1 ? 4 : family == 2 ? 16 : 0
            guard width > 0, addressBytes.count <= width else { return "\(name)=\(Hex.encode(data))" }
            let padded = addressBytes + [UInt8](repeating: 0, count: width - addressBytes.count)
            let address = IPAddress(bytes: padded[...])?.description ?? Hex.encode(addressBytes)
            return "\(name)=\(address)/\(source)/\(scope)"
        case 10:                                              // COOKIE, RFC 7873 §4: client (8) [server (8-32)]
            guard data.count >= 8 else { return "\(name)=\(Hex.encode(data))" }
            let client = Hex.encode(data.prefix(8))
            return data.count == 8 ? "\(name)=\(client)" : "\(name)=\(client) \(Hex.encode(data.dropFirst(8)))"
        case 11:                                              // TCP-KEEPALIVE, RFC 7828: timeout in 100 ms units
            if data.isEmpty { return name }
            guard data.count == 2, let t = c.readUInt16() else { return "\(name)=\(Hex.encode(data))" }
            return "\(name)=\(Double(t) / 10)s"
        case 12:                                              // PADDING, RFC 7830
            return "\(name)=\(data.count)"
        case 9:                                               // EXPIRE, RFC 7314
            guard data.count == 4, let t = c.readUInt32() else { return data.isEmpty ? name : "\(name)=\(Hex.encode(data))" }
            return "\(name)=\(t)"
        case 5, 6, 7:                                         // DAU/DHU/N3U, RFC 6975: algorithm numbers
            return "\(name)=" + data.map(String.init).joined(separator: ",")
        case 13:                                              // CHAIN, RFC 7901: a closest trust point name
            var nameCursor = ByteCursor(data)
            if let n = try? DNSName.read(from: &nameCursor), nameCursor.isAtEnd { return "\(name)=\(n)" }
            return "\(name)=\(Hex.encode(data))"
        case 14:                                              // KEY-TAG, RFC 8145
            var tags = [String]()
            while let t = c.readUInt16() { tags.append(String(t)) }
            return "\(name)=" + tags.joined(separator: ",")
        case 15:                                              // EXTENDED-ERROR, RFC 8914: info-code, text
            guard let code = c.readUInt16() else { return "\(name)=\(Hex.encode(data))" }
            let text = c.readRest()
            return text.isEmpty ? "\(name)=\(code)" : "\(name)=\(code) \(RDataPresentation.quoted(text))"
        default:
            return data.isEmpty ? name : "\(name)=\(Hex.encode(data))"
        }
    }
}
