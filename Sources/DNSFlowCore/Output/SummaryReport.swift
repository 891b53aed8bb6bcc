/// `--summary` as text for people and as one JSON object (snake_case keys) for scripts.
public struct SummaryReport {
    public var summary: Summary
    /// Names of the inputs, by index (file paths, `-` for stdin, interface names).
    public var inputNames: [String]
    /// Capture-level facts the core cannot see: kernel drops, truncated files.
    public var captureNotes: [(key: String, value: Int)]

    public init(summary: Summary, inputNames: [String], captureNotes: [(key: String, value: Int)] = []) {
        self.summary = summary
        self.inputNames = inputNames
        self.captureNotes = captureNotes
    }

    private func ms(_ ns: Int64?) -> String {
        guard let ns else { return "null" }
        return TransactionCSV.formatMilliseconds(ns, digits: summary.latencyDigits)
    }

    /// A percentile: exact, or from the histogram (a live capture's) to three digits, `~` before it in the text.
    private func percentile(_ ns: Int64?, json: Bool = false) -> String {
        guard let ns, !summary.keepsExactLatencies else { return ms(ns) }
        return (json ? "" : "~") + Summary.threeDigitMilliseconds(ns)
    }

    public var text: String {
        let s = summary
        let p = s.packet
        var lines = [String]()
        func row(_ label: String, _ value: Any) {
            lines.append(label.padding(toLength: 26) + "\(value)")
        }
        row("packets", p.packets)
        row("dns messages", s.dnsMessages)
        row("queries", s.queries)
        row("responses", s.responses)
        row("answered", s.answered)
        row("unanswered", s.unanswered)
        row("orphan responses", s.orphanResponses)
        if s.foldedSightings > 0 { row("sightings folded", "\(s.foldedSightings) (the same message seen again: not counted twice)") }
        let malformed = s.malformed
        row("malformed", malformed.values.reduce(0, +))
        for (kind, n) in malformed.sorted(by: { $0.key < $1.key }) { row("  " + kind.rawValue, n) }
        if s.unmatchable > 0 { row("unmatchable (no question)", s.unmatchable) }
        for (link, n) in s.unsupportedLinkTypes.sorted(by: { $0.key.input < $1.key.input }) {
            row("unsupported link type", "\(link.linkType) (\(link.linkType.rawValue)) in \(name(link.input)): \(n) packets")
        }
        row("non-DNS packets", p.nonIP + p.otherTransport + p.nonDNSPort)
        row("ip fragments", "\(p.ipFragments) (\(p.reassembledDatagrams) datagrams reassembled, \(p.fragmentEvictions) dropped incomplete)")
        row("tcp segments", "\(p.tcpSegments) (\(p.tcpRetransmissions) retransmitted, \(p.tcpOutOfOrder) out of order)")
        row("tcp gaps", p.tcpGaps)
        if p.tcpStreamEvictions > 0 { row("tcp streams evicted", p.tcpStreamEvictions) }
        if s.queriesGivenUp > 0 { row("queries given up early", "\(s.queriesGivenUp) (more waiting at once than dnsflow holds: a flood)") }
        if s.lookupsCutShort > 0 { row("lookups cut short", "\(s.lookupsCutShort) transactions (more lookups open at once, or more octets held for them, than dnsflow holds)") }
        if p.snaplenTruncated > 0 { row("cut by snaplen", p.snaplenTruncated) }
        for (k, v) in captureNotes { row(k.replacingUnderscores(), v) }
        row("re-sends", "\(s.resends) (same client, id and question" + (s.resendsWithNewID > 0 ? "; \(s.resendsWithNewID) with a new id after a timeout" : "") + ")"
            + (s.probableRetries > 0 ? "; \(s.probableRetries) probable retries with a new id" : "")
            + (s.fanOutCopies > 0 ? "; \(s.fanOutCopies) copies to further nameservers at once (fan-out, not re-sends)" : ""))
        if !s.lostLastSeen.isEmpty {
            row("lost between points", "\(s.lostLastSeen.values.reduce(0, +)), last seen at "
                + s.lostLastSeen.sorted { ($0.value, $1.key) > ($1.value, $0.key) }.map { "\($0.key) (\($0.value))" }.joined(separator: ", ")
                + " and never at the next point")
        }
        let pairOrder: [Analysis.PairState] = [.ok, .retried, .partial, .failed, .single]
        row("A/AAAA pairs", pairOrder.map { "\(s.pairStates[$0] ?? 0) \($0.rawValue)" }.joined(separator: ", "))
        row("resolutions", "\(s.lookups), \(s.slowLookups) took 1 s or more, slowest \(ms(s.lookups > 0 ? s.slowestLookupNanoseconds : nil)) ms")
        if let l = s.latencyFigures {
            row("latency p50/p90/p99/max", "\(percentile(l.p50)) / \(percentile(l.p90)) / \(percentile(l.p99)) / \(ms(l.max)) ms")
        } else {
            row("latency", "no answered queries")
        }
        if s.findings.isEmpty {
            lines.append("findings                  none")
        } else {
            lines.append("findings (most important first):")
            for f in s.rankedFindings {
                lines.append("  \(f.finding.id): \(f.finding.title)")
                lines.append("      \(f.count) lookup\(f.count == 1 ? "" : "s"), \(f.rows) queries; e.g. \(f.example)")
                if f.finding == .conntrackRace {
                    // What the wire shows: the race's signature at one point, or the loss located between two.
                    lines.append(s.lostLastSeen.isEmpty
                        ? "      seen: the race's signature at one capture point; capture the node as well (-i any) to see the hop where the query died"
                        : "      confirmed: lost queries last seen at " + s.lostLastSeen.keys.sorted().joined(separator: ", ") + " and never at the next point")
                }
                lines.append("      fix: \(f.finding.fix)")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    public var json: String {
        let s = summary
        let p = s.packet
        let l = s.latencyFigures
        var fields: [(String, String)] = [
            ("packets", "\(p.packets)"),
            ("dns_messages", "\(s.dnsMessages)"),
            ("queries", "\(s.queries)"),
            ("responses", "\(s.responses)"),
            ("answered", "\(s.answered)"),
            ("unanswered", "\(s.unanswered)"),
            ("orphan_responses", "\(s.orphanResponses)"),
            ("sightings_folded", "\(s.foldedSightings)"),
            ("malformed", "{" + s.malformed.sorted(by: { $0.key < $1.key })
                .map { "\(JSON.string($0.key.rawValue)):\($0.value)" }.joined(separator: ",") + "}"),
            ("malformed_total", "\(s.malformed.values.reduce(0, +))"),
            ("unmatchable", "\(s.unmatchable)"),
            ("unsupported_link_types", "[" + s.unsupportedLinkTypes.sorted(by: { $0.key.input < $1.key.input }).map {
                "{\"input\":\(JSON.string(name($0.key.input))),\"link_type\":\($0.key.linkType.rawValue),"
                    + "\"link_type_name\":\(JSON.string($0.key.linkType.description)),\"packets\":\($0.value)}"
            }.joined(separator: ",") + "]"),
            ("non_dns_packets", "\(p.nonIP + p.otherTransport + p.nonDNSPort)"),
            ("ip_fragments", "\(p.ipFragments)"),
            ("reassembled_datagrams", "\(p.reassembledDatagrams)"),
            ("fragment_evictions", "\(p.fragmentEvictions)"),
            ("tcp_segments", "\(p.tcpSegments)"),
            ("tcp_retransmissions", "\(p.tcpRetransmissions)"),
            ("tcp_out_of_order", "\(p.tcpOutOfOrder)"),
            ("tcp_gaps", "\(p.tcpGaps)"),
            ("tcp_stream_evictions", "\(p.tcpStreamEvictions)"),
            ("queries_given_up", "\(s.queriesGivenUp)"),
            ("lookups_cut_short", "\(s.lookupsCutShort)"),
            ("snaplen_truncated_packets", "\(p.snaplenTruncated)"),
        ]
        for (k, v) in captureNotes { fields.append((k, "\(v)")) }
        fields.append(("resends", "\(s.resends)"))
        fields.append(("probable_retries", "\(s.probableRetries)"))
        fields.append(("resends_new_id", "\(s.resendsWithNewID)"))
        fields.append(("fan_out_copies", "\(s.fanOutCopies)"))
        fields.append(("lost_last_seen", "{" + s.lostLastSeen.sorted { $0.key < $1.key }
            .map { "\(JSON.string($0.key)):\($0.value)" }.joined(separator: ",") + "}"))
        fields.append(("pairs", "{" + [Analysis.PairState.ok, .retried, .partial, .failed, .single]
            .map { "\(JSON.string($0.rawValue)):\(s.pairStates[$0] ?? 0)" }.joined(separator: ",") + "}"))
        fields.append(("resolutions", "\(s.lookups)"))
        fields.append(("slow_resolutions", "\(s.slowLookups)"))
        fields.append(("slowest_resolution_ms", ms(s.lookups > 0 ? s.slowestLookupNanoseconds : nil)))
        fields.append(("findings", "[" + s.rankedFindings.map {
            "{\"id\":\(JSON.string($0.finding.id)),\"title\":\(JSON.string($0.finding.title)),\"count\":\($0.count),"
                + "\"rows\":\($0.rows),\"example\":\(JSON.string($0.example)),\"fix\":\(JSON.string($0.finding.fix))}"
        }.joined(separator: ",") + "]"))
        fields.append(("latency_ms", "{\"p50\":\(percentile(l?.p50, json: true)),\"p90\":\(percentile(l?.p90, json: true)),\"p99\":\(percentile(l?.p99, json: true)),\"max\":\(ms(l?.max))}"))
        return "{" + fields.map { "\(JSON.string($0.0)):\($0.1)" }.joined(separator: ",") + "}\n"
    }

    private func name(_ input: Int) -> String {
        input < inputNames.count ? inputNames[input] : "input \(input)"
    }
}

enum JSON {
    /// A JSON string literal (RFC 8259 §7): quotes, backslashes and control characters escaped.
    static func string(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where u.value < 0x20 || u.value == 0x7f:
                out += "\\u" + Timestamp.pad(0, 4 - String(u.value, radix: 16).count) + String(u.value, radix: 16)
            default: out.unicodeScalars.append(u)
            }
        }
        return out + "\""
    }
}

extension String {
    func padding(toLength n: Int) -> String {
        count >= n ? self + " " : self + String(repeating: " ", count: n - count)
    }

    func replacingUnderscores() -> String {
        String(map { $0 == "_" ? " " : $0 })
    }
}
