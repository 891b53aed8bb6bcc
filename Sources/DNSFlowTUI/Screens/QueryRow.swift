import DNSFlowCore

/// One query as a table row: the columns, their widths, and the glyphs that carry each colour's meaning.
public enum QueryRow {
    /// Pair markers: the first query of a pair opens a bracket, the second closes it, re-sends hang from it (`│`);
    /// the letter says the state (o ok, r retried, p partial, f failed), so colour is never the only carrier.
    public static func pairMarker(_ t: some TransactionFacts, isFirstOfPair: Bool, isResend: Bool = false) -> (String, Role) {
        guard let state = t.analysis.pairState, state != .single else { return ("  ", .pairSingle) }
        let bracket = isResend ? "│" : isFirstOfPair ? "┌" : "└"
        switch state {
        case .ok: return (bracket + "o", .pairOK)
        case .retried: return (bracket + "r", .pairRetried)
        case .partial: return (bracket + "p", .pairPartial)
        case .failed: return (bracket + "f", .pairFailed)
        case .single: return ("  ", .pairSingle)
        }
    }

    /// Latency with a band glyph: `·` under 100 ms, `▲` slow (100 ms to 1 s), `‼` a second or more.
    public static func latency(_ t: some TransactionFacts) -> (String, Role) {
        guard let ns = t.latencyNanoseconds else {
            switch t.status {
            case .unanswered: return ("✗ no answer", .unanswered)
            case .orphanResponse: return ("? orphan", .rcodeError)
            case .malformed: return ("! malformed", .rcodeError)
            case .answered: return ("", .normal)
            }
        }
        return latencyText(ns)
    }

    /// The resolvers' default timeout (glibc's and musl's `timeout:5`): a query unanswered for longer was given up on
    /// or re-sent by a resolver with default options.
    public static let resolverTimeoutNanoseconds: Int64 = 5_000_000_000

    /// A query still waiting: how long so far (`…320 ms`, `…3.20 s`), coloured by the latency bands; once the
    /// resolvers' timeout has passed, `✗6.2s timeout`.
    public static func waited(_ ns: Int64) -> (String, Role) {
        if ns >= resolverTimeoutNanoseconds {
            let s = Double(ns) / 1e9
            let text = s < 10 ? String(format2(s).dropLast()) : String(Int(s))
            return ("✗" + text + "s timeout", .unanswered)
        }
        let role: Role = ns >= 1_000_000_000 ? .latencyTimeout : ns >= 100_000_000 ? .latencySlow : .dim
        return ("…" + duration(ns), role)
    }

    public static func latencyText(_ ns: Int64) -> (String, Role) {
        let ms = Double(ns) / 1e6
        let text = ms >= 1000 ? String(format2(ms / 1000)) + " s" : String(format2(ms)) + " ms"
        if ms >= 1000 { return ("‼" + text, .latencyTimeout) }
        if ms >= 100 { return ("▲" + text, .latencySlow) }
        return ("·" + text, .latencyFast)
    }

    /// An axis label: `500 µs`, `20 ms`, `2 s`, `1.5 s` (no trailing zeros).
    public static func shortDuration(_ ns: Int64) -> String {
        if ns == 0 { return "0" }
        if ns < 0 { return "−" + shortDuration(ns == .min ? .max : -ns) }
        let (value, unit): (Double, String) =
            ns >= 1_000_000_000 ? (Double(ns) / 1e9, "s") : ns >= 1_000_000 ? (Double(ns) / 1e6, "ms") : ns >= 1_000 ? (Double(ns) / 1e3, "µs") : (Double(ns), "ns")
        var text = format2(value)
        while text.hasSuffix("0") { text.removeLast() }
        if text.hasSuffix(".") { text.removeLast() }
        return text + " " + unit
    }

    /// `12.35 ms` / `5.01 s`, without a band glyph.
    public static func duration(_ ns: Int64) -> String {
        let ms = Double(ns) / 1e6
        return ms >= 1000 ? format2(ms / 1000) + " s" : format2(ms) + " ms"
    }

    /// `↻2 +5.00s` on a re-send: its attempt number and the gap since the previous attempt.
    public static func retryMarker(_ t: some TransactionFacts) -> String? {
        let a = t.analysis
        guard a.attempt > 1 else { return a.isProbableRetry ? "↻?" : nil }
        let gap = Double(a.retryGapNanoseconds ?? 0) / 1e9
        return "↻\(a.attempt) +" + format2(gap) + "s"
    }

    static func format2(_ v: Double) -> String {
        let hundredths = Int((v * 100).rounded())
        let whole = hundredths / 100, frac = hundredths % 100
        return "\(whole)." + (frac < 10 ? "0" : "") + "\(frac)"
    }

    /// Names cut to their widths so that two different names never read the same: each is cut in the middle (`fit`);
    /// where different names would then read alike — the steps of one search-list walk,
    /// `api.example.com.default.svc.cluster.local` and `api.example.com.svc.cluster.local` — each of them is cut only
    /// where those names agree, so that what tells them apart stays in view.
    public static func distinctFits(_ items: [(name: String, width: Int)]) -> [String] {
        var out = items.map { fit($0.name, $0.width) }
        var byRendering: [String: [Int]] = [:]
        for (i, s) in out.enumerated() { byRendering[s, default: []].append(i) }
        for (_, members) in byRendering where members.count > 1 && Set(members.map { items[$0].name }).count > 1 {
            let names = members.map { Array(items[$0].name) }
            let shortest = names.map(\.count).min() ?? 0
            var prefix = 0
            while prefix < shortest, names.allSatisfy({ $0[prefix] == names[0][prefix] }) { prefix += 1 }
            var suffix = 0
            while suffix < shortest - prefix, names.allSatisfy({ $0[$0.count - 1 - suffix] == names[0][names[0].count - 1 - suffix] }) { suffix += 1 }
            for i in members {
                out[i] = cut(Array(items[i].name), keeping: prefix..<(items[i].name.count - suffix), width: items[i].width)
            }
        }
        return out
    }

    /// `name` in `width` columns, cut with `…` only outside `keep` (and one character of context each side of it): in
    /// the part before it, the part after it, or both; where that cannot fit, the end of the name that holds `keep`.
    static func cut(_ name: [Character], keeping keep: Range<Int>, width: Int) -> String {
        let n = name.count
        guard n > width, width > 3 else { return String(name.prefix(max(0, width))) }
        let excess = n - width
        let before = max(1, keep.lowerBound - 1), after = min(n - 1, keep.upperBound + 1)
        let roomBefore = before - 1, roomAfter = max(0, n - 1 - after)
        func removing(_ ranges: [Range<Int>]) -> String {
            var s = "", i = 0
            for r in ranges {
                s += String(name[i..<r.lowerBound]) + "…"
                i = r.upperBound
            }
            return s + String(name[i...])
        }
        if roomBefore >= excess + 1 {
            let start = 1 + (roomBefore - excess - 1) / 2
            return removing([start..<(start + excess + 1)])
        }
        if roomAfter >= excess + 1 {
            let start = after + (roomAfter - excess - 1) / 2
            return removing([start..<(start + excess + 1)])
        }
        if roomBefore + roomAfter >= excess + 2, roomBefore > 0, roomAfter > 0 {
            let first = min(roomBefore, excess + 1), second = excess + 2 - first
            guard second <= roomAfter else { return "…" + String(name.suffix(width - 1)) }
            return removing([1..<(1 + first), after..<(after + second)])
        }
        // No room outside what differs: its end, which holds the search suffix.
        let end = min(n, keep.upperBound + 1)
        return "…" + String(name[max(0, end - (width - 1))..<end])
    }

    /// A name cut to `width` in the middle, so that both the host and the domain stay visible.
    public static func fit(_ s: String, _ width: Int) -> String {
        guard s.count > width, width > 3 else { return String(s.prefix(max(0, width))) }
        let head = (width - 1) / 2, tail = width - 1 - head
        return String(s.prefix(head)) + "…" + String(s.suffix(tail))
    }
}

/// What a row's glyphs are drawn from: a whole `Transaction`, or a row's packed `QueryFacts`.
public protocol TransactionFacts {
    var status: Transaction.Status { get }
    var latencyNanoseconds: Int64? { get }
    var analysis: Analysis { get }
}

extension Transaction: TransactionFacts {}
