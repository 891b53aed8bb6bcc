import DNSFlowCore

/// The Detail view's content: everything known about one transaction, dig-like for the messages and
/// tcpdump `-X`-like for the packets.
public enum DetailText {
    /// Everything known about one transaction, as lines for the Detail view (it scrolls; no width limit: the view clips).
    /// `packet` returns the captured bytes at a capture point, or nil when they are no longer (or never were) held.
    public static func lines(for t: Transaction, packet: (CapturePoint) -> CapturedPacket?, names: AddressNames = .none) -> [StyledLine] {
        var out = summary(t, names: names)
        if let q = t.query { out += [StyledLine("")] + message("Query", q) }
        if let r = t.response { out += [StyledLine("")] + message("Response", r) }
        out += [StyledLine("")] + analysis(t)
        for (title, observed) in [("Query packet", t.query), ("Response packet", t.response)] {
            guard let observed else { continue }
            out += [StyledLine("")] + packetSection(title, observed.point, packet(observed.point))
        }
        return out
    }

    static let indent = "  "

    /// Text wrapped at word boundaries to fit 80 columns (the page is drawn from column 1), each line after the first
    /// indented a further `hanging`: a finding's explanation and fix read whole, never cut at the screen's edge.
    static func wrapped(_ text: String, indent: String, hanging: String = "  ", role: Role = .normal, width: Int = 78) -> [StyledLine] {
        let first = wrap(text, width: width - indent.count)
        let rest = first.count > 1 ? wrap(first.dropFirst().joined(separator: " "), width: width - indent.count - hanging.count) : []
        return [StyledLine(indent + first[0], role)] + rest.map { StyledLine(indent + hanging + $0, role) }
    }

    /// `  name        value`: field names in one column.
    static func field(_ name: String, _ value: String, _ role: Role = .normal) -> StyledLine {
        var line = StyledLine(indent + name.padding(15))
        line.append(value, role)
        return line
    }

    // MARK: Summary

    static func summary(_ t: Transaction, names: AddressNames) -> [StyledLine] {
        var first = StyledLine()
        if let question = t.question {
            first.append(question.name.presentation(trailingDot: false) + " " + question.type.description, .title)
        } else {
            first.append("(no question)", .title)
        }
        first.append("  ")
        switch t.status {
        case .answered: first.append("answered")
        case .unanswered: first.append("unanswered", .unanswered)
        case .orphanResponse: first.append("response without a query", .unanswered)
        case .malformed: first.append("malformed", .rcodeError)
        }
        if let rcode = t.response?.message.rcode {
            first.append(" ")
            first.append(rcode.description, rcode == .noError ? .normal : .rcodeError)
        }
        if let ns = t.latencyNanoseconds {
            first.append("  ")
            first.append("latency " + TransactionCSV.formatMilliseconds(ns, digits: t.precisionDigits) + " ms", QueryRow.latency(t).1)
        } else if t.status == .unanswered {
            first.append("  ")
            first.append("no answer", .unanswered)
        }
        let second = StyledLine("client " + names.label(t.client) + " → server " + names.label(t.server) + "  " + t.transport.rawValue)
        return [first, second]
    }

    // MARK: Messages

    static func message(_ title: String, _ m: ObservedMessage) -> [StyledLine] {
        var out = [StyledLine(title, .title)]
        out.append(field("time", m.timestamp.iso8601))
        // A row whose packets could not be read again (`QueryStore.sketch`): its point is unknown, its message the
        // question alone.
        guard m.point.input >= 0 else {
            out.append(field("from", "\(m.source) to \(m.destination)"))
            out.append(StyledLine(indent + "packet not readable again (evicted; a message over TCP or from fragments let "
                + "go to stay within the memory bound; or the capture file changed or was cut since it was read): the row's "
                + "question and times only", .dim))
            return out + indented(dig(m.message))
        }
        out.append(field("capture", "input \(m.point.input) frame \(m.point.frame)"))
        if let index = m.point.interfaceIndex { out.append(field("interface", "index \(index)")) }
        if let direction = m.point.direction { out.append(field("direction", direction)) }
        if !m.point.vlans.isEmpty { out.append(field("VLANs", m.point.vlans.map(String.init).joined(separator: ", "))) }
        out.append(field("from", "\(m.source) to \(m.destination)"))
        out.append(field("size", "\(m.message.size) octets"))
        return out + indented(dig(m.message))
    }

    static func indented(_ lines: [StyledLine]) -> [StyledLine] {
        lines.map { line in
            guard !line.runs.isEmpty, !line.text.isEmpty else { return line }
            return StyledLine(runs: [StyledLine.Run(indent)] + line.runs)
        }
    }

    /// The message as dig prints it: header, flags and counts, the OPT pseudo-section, the four sections.
    static func dig(_ m: DNSMessage) -> [StyledLine] {
        let h = m.header
        var header = StyledLine(";; ->>HEADER<<- opcode: \(h.opcode), status: ")
        header.append(m.rcode.description, m.rcode == .noError ? .normal : .rcodeError)
        header.append(", id: \(h.id)")
        let flags = h.flagNames.isEmpty ? "" : " " + h.flagNames.joined(separator: " ")
        var out = [
            header,
            StyledLine(";; flags:\(flags); QUERY: \(h.questionCount), ANSWER: \(h.answerCount), "
                + "AUTHORITY: \(h.authorityCount), ADDITIONAL: \(h.additionalCount)"),
        ]
        if let edns = m.edns {
            out.append(StyledLine(""))
            out.append(StyledLine(";; OPT PSEUDOSECTION:"))
            let mbz = edns.zFlags == 0 ? "" : " MBZ: 0x" + hex(UInt32(edns.zFlags), width: 4) + ","
            out.append(StyledLine("; EDNS: version: \(edns.version), flags:\(edns.dnssecOK ? " do" : "");\(mbz) udp: \(edns.udpPayloadSize)"))
            out += edns.options.map { StyledLine("; " + $0.presentation) }
        }
        if !m.questions.isEmpty {
            out.append(StyledLine(""))
            out.append(StyledLine(";; QUESTION SECTION:"))
            out += m.questions.map { StyledLine(";\($0.name) \($0.qclass) \($0.type)") }
        }
        let additionals = m.edns == nil ? m.additionals : m.additionals.filter { $0.type != .opt }
        for (name, records) in [("ANSWER", m.answers), ("AUTHORITY", m.authorities), ("ADDITIONAL", additionals)] where !records.isEmpty {
            out.append(StyledLine(""))
            out.append(StyledLine(";; \(name) SECTION:"))
            out += records.map { StyledLine($0.presentation) }
        }
        if let error = m.error {
            out.append(StyledLine(""))
            out.append(StyledLine(";; MALFORMED: \(error)", .rcodeError))
        }
        if m.trailingBytes > 0 {
            out.append(StyledLine(";; TRAILING: \(m.trailingBytes) octets after the last record", .rcodeError))
        }
        return out
    }

    // MARK: Analysis

    static func analysis(_ t: Transaction) -> [StyledLine] {
        let a = t.analysis
        var out = [StyledLine("Analysis", .title)]
        if t.query != nil, !t.isUnmatchable {
            var attempt = field("attempt", String(a.attempt))
            switch a.link {
            case .fanOut?:
                attempt.append("  ")
                attempt.append("the same send to another nameserver at once (fan-out: not a re-send)", .normal)
            case let link? where a.attempt > 1:
                attempt.append("  ")
                attempt.append("+" + QueryRow.format2(Double(a.retryGapNanoseconds ?? 0) / 1e9) + " s after the previous attempt", .retry)
                attempt.append(link == .question ? "; a new id from a new socket, linked by its question" : "; same id", .retry)
            default: break
            }
            out.append(attempt)
            out.append(field("probable retry", a.isProbableRetry ? "yes (same question, new id, previous still unanswered)" : "no",
                             a.isProbableRetry ? .retry : .normal))
        }
        if let state = a.pairState {
            var pair = field("pair", pairMeaning(state), pairRole(state))
            if let id = a.pair { pair.append(" (pair \(id))") }
            out.append(pair)
        }
        if let same = a.sameSocket { out.append(field("same socket", same ? "yes" : "no")) }
        if let lookup = a.lookup {
            let time = a.lookupNanoseconds.map {
                ", " + TransactionCSV.formatMilliseconds($0, digits: t.precisionDigits) + " ms from its first query to its last answer"
            } ?? ""
            out.append(field("resolution", String(lookup) + time))
        }
        if let flow = a.flow { out.append(field("flow", String(flow))) }
        out.append(field("sightings", "query seen \(t.query == nil ? 0 : a.querySightings) \(times(t.query == nil ? 0 : a.querySightings)), "
            + "response \(a.responseSightings) \(times(a.responseSightings))"))
        if a.querySightings > 1 || a.responseSightings > 1, let q = t.query?.point, let r = t.response?.point {
            // Several capture points: the latency is measured on the copies nearest the client.
            let at = q.input == r.input && q.interfaceIndex == r.interfaceIndex ? "point " + Analysis.Place(q).label
                : "query at " + Analysis.Place(q).label + ", response at " + Analysis.Place(r).label
            out.append(field("latency at", at + " (the copies nearest the client)"))
        }
        if let place = a.lastSeen {
            out.append(field("last seen", "at point " + place.label + ", never at the next: it died after it", .retry))
        }
        if a.findings.isEmpty {
            out.append(field("findings", "none"))
        } else {
            out.append(StyledLine(indent + "findings"))
            for id in a.findings {
                let finding = Finding.byID[id]
                out += wrapped(finding.map { "\($0.id): \($0.title)" } ?? id, indent: indent + indent,
                               hanging: String(repeating: " ", count: id.count + 2), role: .finding)
                if let fix = finding?.fix { out += wrapped("fix: " + fix, indent: indent + indent + indent, hanging: "     ") }
            }
        }
        return out
    }

    static func times(_ n: Int) -> String { n == 1 ? "time" : "times" }

    /// The state in words, with the letter the Queries screen's pair marker shows.
    static func pairMeaning(_ state: Analysis.PairState) -> String {
        switch state {
        case .ok: "o ok: the A and the AAAA both answered at their first attempt"
        case .retried: "r retried: both answered, at least one after a re-send"
        case .partial: "p partial: one of the two never answered"
        case .failed: "f failed: neither answered"
        case .single: "single: no A/AAAA sibling"
        }
    }

    static func pairRole(_ state: Analysis.PairState) -> Role {
        switch state {
        case .ok: .pairOK
        case .retried: .pairRetried
        case .partial: .pairPartial
        case .failed: .pairFailed
        case .single: .pairSingle
        }
    }

    // MARK: Packets

    static func packetSection(_ title: String, _ point: CapturePoint, _ packet: CapturedPacket?) -> [StyledLine] {
        var out = [StyledLine(title, .title)]
        guard let packet else {
            out.append(StyledLine(indent + "packet bytes not held (evicted or not captured)", .dim))
            return out
        }
        out.append(StyledLine(indent + "frame \(point.frame), \(packet.data.count) of \(packet.originalLength) octets captured, "
            + "link type \(packet.linkType)"))
        out += hexDump(packet.data).map { StyledLine(indent + $0) }
        return out
    }

    /// 16 octets a line, as tcpdump `-X` and Wireshark show them:
    /// `0000  45 00 00 3c 1c 46 40 00  40 06 b1 e6 c0 a8 00 68  E..<.F@.@.......`
    /// (the offset widens past 4 digits for packets over 64 KiB; only printable ASCII is shown, the rest as `.`).
    public static func hexDump(_ bytes: [UInt8]) -> [String] {
        let offsetWidth = max(4, String(max(bytes.count - 1, 0), radix: 16).count)
        var out: [String] = []
        out.reserveCapacity((bytes.count + 15) / 16)
        var start = 0
        while start < bytes.count {
            let row = bytes[start..<min(start + 16, bytes.count)]
            var hexPart = ""
            var ascii = ""
            for (i, b) in row.enumerated() {
                if i == 8 { hexPart += " " }
                hexPart += (i == 0 ? "" : " ") + hex(UInt32(b), width: 2)
                ascii.append(b >= 0x20 && b < 0x7f ? Character(Unicode.Scalar(b)) : ".")
            }
            out.append(hex(UInt32(start), width: offsetWidth) + "  " + hexPart.padding(48) + "  " + ascii)
            start += 16
        }
        return out
    }

    static func hex(_ value: UInt32, width: Int) -> String {
        let s = String(value, radix: 16)
        return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
    }
}

extension String {
    /// Right-padded with spaces to `width` characters (never cut).
    fileprivate func padding(_ width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }
}
