import DNSFlowCapture
import DNSFlowCore
import Foundation
import Testing

/// tshark's view of one frame: the DNS fields it printed, occurrences joined by commas.
struct FrameFields: CustomStringConvertible {
    func sameFields(_ o: FrameFields) -> Bool {
        ids == o.ids && responses == o.responses && names == o.names && types == o.types
    }

    var ids: String
    var responses: String
    var names: String
    var types: String
    /// `dns.time`: tshark's latency for a response it matched to a query, seconds (comma-joined).
    var latency: String = ""
    var description: String {
        let text = "id=\(ids) qr=\(responses) qname=\(names) qtype=\(types)"
        return text.count > 240 ? String(text.prefix(240)) + "…" : text
    }
}

/// Walks every capture in ../shared/corpus with a `*.tshark.tsv` beside it: no crash, and for every frame in
/// which tshark decoded DNS, dnsflow's messages in that frame have the same id, QR bit, qname and qtype.
@Suite("Corpus agreement with tshark", .enabled(if: corpusExists, "../shared/corpus is not beside the checkout"))
struct CorpusAgreementTests {
    static let knownDifferences = CorpusQuirks.all

    static var captures: [String] {
        guard let walker = FileManager.default.enumerator(atPath: corpusDirectory.path) else { return [] }
        return walker.compactMap { $0 as? String }
            .filter { $0.hasSuffix(".tshark.tsv") }
            .map { String($0.dropLast(".tshark.tsv".count)) }
            .sorted()
    }

    @Test("every corpus capture decodes like tshark")
    func agreement() throws {
        var frames = 0, agreeing = 0, messages = 0, agreeingMessages = 0, quirks = 0
        var latencies = 0, latenciesAgreeing = 0
        var disagreements: [String] = []
        for capture in Self.captures {
            let path = corpusDirectory.appendingPathComponent(capture).path
            let extra = path + ".tshark-extra.tsv"
            let hasExtra = FileManager.default.fileExists(atPath: extra)
            let tsv = hasExtra ? extra : path + ".tshark.tsv"
            let expected = try Self.readTSV(tsv)
            // tshark decodes DNS on 5353 and 5355 (mDNS, LLMNR) by default, and the extra views on 8053 and
            // 1053 too: the same as `--port 5353 --port 5355 --port 8053 --port 1053`.
            let ports: Set<UInt16> = [53, 5353, 5355, 8053, 1053]
            let decoded: Decoded
            do {
                decoded = try decode([path], ports: ports)
            } catch {
                // Unreadable to libpcap: tshark must have decoded nothing either.
                #expect(expected.isEmpty, "\(capture): dnsflow could not open it (\(error)) but tshark decoded \(expected.count) frames")
                continue
            }
            // Latency: where tshark matched a response (dns.time), dnsflow's answered transaction agrees to 1 µs.
            for t in decoded.transactions where t.status == .answered {
                guard let frame = t.response?.point.frame, let theirs = expected[frame], !theirs.latency.isEmpty else { continue }
                latencies += 1
                let mine = Double(t.latencyNanoseconds!) / 1e9
                if theirs.latency.split(separator: ",").contains(where: { abs((Double($0) ?? -1) - mine) < 1e-6 }) {
                    latenciesAgreeing += 1
                } else if Self.knownDifferences["\(capture)#\(frame)"] != nil {
                    quirks += 1
                } else {
                    disagreements.append("\(capture) frame \(frame): latency tshark \(theirs.latency) s, dnsflow \(mine) s")
                }
            }
            var ours: [Int: [ObservedMessage]] = [:]
            for m in decoded.messages { ours[m.point.frame, default: []].append(m) }
            for (frame, theirs) in expected.sorted(by: { $0.key < $1.key }) {
                let count = theirs.ids.split(separator: ",").count
                frames += 1
                messages += count
                let mine = Self.fields(ours[frame] ?? [])
                if mine.sameFields(theirs) {
                    agreeing += 1
                    agreeingMessages += count
                } else if Self.sameUpToPlaceholder(theirs, mine, ours[frame] ?? []) {
                    // tshark writes a placeholder for a name it cannot decode; dnsflow flags the message.
                    quirks += 1
                } else if theirs.names.isEmpty, theirs.types.isEmpty, mine.ids.isEmpty,
                          decoded.diagnostics.contains(where: { $0.point.frame == frame })
                {
                    // Fewer than 12 octets of DNS: tshark prints the id from the partial header; dnsflow
                    // counts an incomplete header (a diagnostic for that frame), not a message.
                    quirks += 1
                } else if Self.sameUpToNonASCII(theirs, mine) {
                    quirks += 1
                } else if let why = Self.knownDifferences["\(capture)#\(frame)"] ?? Self.knownDifferences[capture] {
                    quirks += 1
                    _ = why
                } else {
                    disagreements.append("\(capture) frame \(frame):\n    tshark  \(theirs)\n    dnsflow \(mine)")
                }
            }
        }
        print("corpus: \(Self.captures.count) captures, \(frames) tshark DNS frames (\(messages) messages); "
            + "\(agreeing) frames (\(agreeingMessages) messages) agree exactly, \(quirks) differ by a documented tshark quirk, "
            + "\(disagreements.count) disagree; latency of \(latenciesAgreeing) of \(latencies) answered transactions tshark matched agrees to 1 µs")
        for d in disagreements { print(d) }
        #expect(disagreements.isEmpty, "\(disagreements.count) frames disagree with tshark")
    }

    /// tshark prints `<Name too long>`, `<Unknown extended label>`, `<Name contains a pointer that loops>` …
    /// where a name does not decode, and goes on; dnsflow stops at the defect and marks the message
    /// malformed. Then id and QR must agree, and dnsflow must have flagged the message.
    static func sameUpToPlaceholder(_ theirs: FrameFields, _ mine: FrameFields, _ messages: [ObservedMessage]) -> Bool {
        let placeholder = theirs.names.range(of: "<[A-Z][a-z ]+[a-z]>", options: .regularExpression).map { theirs.names[$0] != "<Root>" } ?? false
        return placeholder && theirs.ids == mine.ids && theirs.responses == mine.responses
            && messages.contains { $0.message.isMalformed }
    }

    /// tshark's rendering of octets over 0x7f is lossy (one U+FFFD for a varying number of octets, a
    /// trailing one added): compare names with everything outside ASCII removed.
    static func sameUpToNonASCII(_ theirs: FrameFields, _ mine: FrameFields) -> Bool {
        func ascii(_ s: String) -> String { String(s.unicodeScalars.filter(\.isASCII)) }
        return theirs.names != mine.names && ascii(theirs.names) == ascii(mine.names)
            && theirs.ids == mine.ids && theirs.responses == mine.responses && theirs.types == mine.types
    }

    /// dnsflow's messages in one frame, rendered as tshark prints its fields.
    static func fields(_ messages: [ObservedMessage]) -> FrameFields {
        let questions = messages.flatMap(\.message.questions)
        return FrameFields(
            ids: messages.map { "0x" + String(format: "%04x", $0.message.id) }.joined(separator: ","),
            responses: messages.map { $0.message.isResponse ? "1" : "0" }.joined(separator: ","),
            names: questions.map { tsharkName($0.name) }.joined(separator: ","),
            types: questions.map { String($0.type.rawValue) }.joined(separator: ","))
    }

    /// tshark 4.0's `format_text`: printable ASCII raw, C escapes for \a\b\f\n\r\t\v, octal for other
    /// control bytes, UTF-8 decoded (invalid sequences as U+FFFD); the root as `<Root>`.
    static func tsharkName(_ name: DNSName) -> String {
        if name.isRoot { return "<Root>" }
        var out = ""
        for (i, label) in name.labels.enumerated() {
            if i > 0 { out += "." }
            var high: [UInt8] = []
            func flushHigh() {
                if !high.isEmpty { out += String(decoding: high, as: UTF8.self); high = [] }
            }
            for b in label {
                if b >= 0x80 { high.append(b); continue }
                flushHigh()
                switch b {
                case 0x07: out += "\\a"
                case 0x08: out += "\\b"
                case 0x0c: out += "\\f"
                case 0x0a: out += "\\n"
                case 0x0d: out += "\\r"
                case 0x09: out += "\\t"
                case 0x0b: out += "\\v"
                case 0x20...0x7e: out.append(Character(Unicode.Scalar(b)))
                default: out += "\\" + String(format: "%03o", b)
                }
            }
            flushHigh()
        }
        return out
    }

    /// frame → fields, from tshark's TSV (header row first).
    static func readTSV(_ path: String) throws -> [Int: FrameFields] {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        var out: [Int: FrameFields] = [:]
        for line in text.split(separator: "\n", omittingEmptySubsequences: true).dropFirst() {
            let f = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            guard f.count >= 5, let frame = Int(f[0]) else { continue }
            out[frame] = FrameFields(ids: f[1], responses: f[2], names: f[3], types: f[4], latency: f.count > 5 ? f[5] : "")
        }
        return out
    }
}

/// Frames where tshark's output is not what the bytes say, each with the reason (checked by hand).
enum CorpusQuirks {
    static let icmp = "tshark decodes the DNS message quoted inside an ICMP error (port unreachable); "
        + "that copy is not a message on the wire, and dnsflow does not count it as one"
    static let port = "UDP between two non-DNS ports (the fuzzer rewrote them): tshark's DNS heuristic claims it; "
        + "dnsflow decodes DNS on the DNS ports only (53 and --port)"

    static let all: [String: String] = [
        "arkime/v6.pcap#137": icmp,                         // ICMPv6 destination unreachable
        "nDPI/KakaoTalk_chat.pcap#57": icmp,                // ICMP port unreachable
        "nDPI/fuzz-2006-06-26-2594.pcap#8": port,           // 2712 → 49973
        "nDPI/fuzz-2006-06-26-2594.pcap#29": port,          // 9587 → 156
        "nDPI/fuzz-2006-06-26-2594.pcap#109": port,         // 2724 → 9587
        "nDPI/fuzz-2006-06-26-2594.pcap#352": port,         // 2768 → 4
        "nDPI/fuzz-2006-06-26-2594.pcap#355": port,         // 117 → 2769
        "nDPI/fuzz-2006-06-26-2594.pcap#571": port,         // 2808 → 38709
        // Query re-sent with the same id and question (frames 497 and 499), one response (503): tshark measures
        // from the first send; dnsflow answers the latest send and leaves the first unanswered.
        "nDPI/fuzz-2006-06-26-2594.pcap#503": "latency measured from the re-send",
    ]
}
