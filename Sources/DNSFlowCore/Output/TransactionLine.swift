/// One line per transaction for a pipe or a log, tcpdump-style:
/// `14:22:49.123456 udp 10.0.0.2.41000 > 10.0.0.1.53 0x1a2b A? example.com. NOERROR 2/0/1 1.234 ms [93.184.216.34 ...]`
public enum TransactionLine {
    public static func render(_ t: Transaction, names: AddressNames = .none) -> String {
        var s = "\(t.time.timeOfDay) \(t.transport.rawValue) \(names.label(t.client)) > \(names.label(t.server)) id \(t.id)"
        if let q = t.question {
            s += " \(q.type)? \(q.name)"
        } else {
            s += " (no question)"
        }
        switch t.status {
        case .answered:
            let r = t.response!.message
            s += " \(r.rcode) \(r.answersRead)/\(r.authoritiesRead)/\(r.additionalsRead)"
            if r.header.isTruncated { s += " TC" }
            s += " " + TransactionCSV.formatMilliseconds(t.latencyNanoseconds ?? 0, digits: t.precisionDigits) + " ms"
            let answers = r.answers.prefix(4).map { "\($0.type) \($0.rdata)" }
            if !answers.isEmpty { s += " [" + answers.joined(separator: ", ") + (r.answersRead > 4 ? ", …" : "") + "]" }
        case .unanswered:
            s += " UNANSWERED"
        case .malformed:
            s += (t.query == nil ? " response" : " query") + " UNDECODABLE QUESTION"
        case .orphanResponse:
            let r = t.response!.message
            s += " \(r.rcode) \(r.answersRead)/\(r.authoritiesRead)/\(r.additionalsRead) ORPHAN-RESPONSE (no query seen)"
        }
        if let e = t.query?.message.error ?? t.response?.message.error { s += " MALFORMED(\(e.code))" }
        let a = t.analysis
        switch a.link {
        case .fanOut?: s += " [attempt \(a.attempt), the same send to another nameserver]"
        case .question? where a.attempt > 1:
            s += " [attempt \(a.attempt), +" + TransactionCSV.formatMilliseconds(a.retryGapNanoseconds ?? 0, digits: 6) + " ms, new id]"
        default:
            if a.attempt > 1 { s += " [attempt \(a.attempt), +" + TransactionCSV.formatMilliseconds(a.retryGapNanoseconds ?? 0, digits: 6) + " ms]" }
        }
        if !a.findings.isEmpty { s += " {" + a.findings.joined(separator: ", ") + "}" }
        return s
    }

    /// A finding a settled lookup proved, for a live line output (its queries' lines went out before):
    /// `14:22:54.123456 finding conntrack-race: <title> (AAAA? web.example. from 10.0.0.2.41000, lookup waited 5.00 s)`.
    public static func finding(_ id: String, _ t: Transaction, names: AddressNames = .none) -> String {
        let title = Finding.byID[id]?.title ?? id
        var s = "\(t.time.timeOfDay) finding \(id): \(title) ("
        if let q = t.question { s += "\(q.type)? \(q.name) " }
        s += "from \(names.label(t.client))"
        if let waited = t.analysis.lookupNanoseconds {
            s += ", lookup waited " + TransactionCSV.formatMilliseconds(waited, digits: 6) + " ms"
        }
        return s + ")"
    }
}
