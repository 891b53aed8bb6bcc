import DNSFlowCapture
import DNSFlowCore
import DNSFlowTUI
import Foundation
import Testing

/// Every packet of a capture by (input, frame), read straight from libpcap: what a packet store would hold.
func packetsByFrame(_ relative: String, input: Int = 0) throws -> [Int: CapturedPacket] {
    let handle = try PcapHandle.openFile(root.appendingPathComponent(relative).path, input: input)
    var out: [Int: CapturedPacket] = [:]
    while case .packet(let p) = handle.next() { out[p.point.frame] = p }
    return out
}

/// The Detail lines of `t`, with the packets of `relative` held.
func detail(_ t: Transaction, _ relative: String) throws -> [StyledLine] {
    let packets = try packetsByFrame(relative)
    return DetailText.lines(for: t, packet: { packets[$0.frame] })
}

/// The roles that paint `text` on the first line containing it.
func roles(of text: String, in lines: [StyledLine]) -> [Role] {
    lines.first { $0.text.contains(text) }?.runs.filter { $0.text.contains(text) }.map(\.role) ?? []
}

@Suite("Detail text of one transaction")
struct DetailTextTests {
    static let race = "Fixtures/lab/race-5s/pod.pcap"

    /// race-5s: A and AAAA from one socket, the AAAA lost and both re-sent 5 s later.
    static func race5s() throws -> [Transaction] { try transactions(race) }

    @Test func answeredAAAAReadsLikeDig() throws {
        let all = try Self.race5s()
        let t = try #require(all.first { $0.question?.type == .aaaa && $0.status == .answered })
        let lines = try detail(t, Self.race)
        let text = lines.map(\.text)

        #expect(text[0] == "web.default.svc.cluster.local AAAA  answered NOERROR  latency 0.169 ms")
        #expect(roles(of: "latency 0.169 ms", in: lines) == [.latencyFast])
        #expect(text[1] == "client 198.18.1.2.58181 → server 198.18.3.10.53  udp")
        #expect(text.contains("Query") && text.contains("Response"))
        #expect(text.contains("  capture        input 0 frame 7"))
        #expect(text.contains("  size           75 octets"))
        // The response as tcpdump -vv decodes it: id 46376, qr aa rd ra (0x8580), one AAAA with TTL 0.
        #expect(text.contains("  ;; ->>HEADER<<- opcode: QUERY, status: NOERROR, id: 46376"))
        #expect(text.contains("  ;; flags: qr aa rd ra; QUERY: 1, ANSWER: 1, AUTHORITY: 0, ADDITIONAL: 0"))
        #expect(text.contains("  ;; flags: rd; QUERY: 1, ANSWER: 0, AUTHORITY: 0, ADDITIONAL: 0"))
        #expect(text.filter { $0 == "  ;web.default.svc.cluster.local. IN AAAA" }.count == 2)
        #expect(text.contains("  web.default.svc.cluster.local. 0 IN AAAA 2001:db8::10"))
        #expect(!text.contains { $0.contains("OPT PSEUDOSECTION") })   // no EDNS in this capture

        // The second attempt, 5 s after the first; its pair state with the letter the Queries screen shows.
        #expect(text.contains("  attempt        2  +5.00 s after the previous attempt; same id"))
        #expect(roles(of: "+5.00 s", in: lines) == [.retry])
        #expect(text.contains { $0.hasPrefix("  pair           ") && $0.contains("r retried") })
        #expect(text.contains("  same socket    yes"))
        #expect(text.contains("  sightings      query seen 1 time, response 1 time"))
    }

    @Test func hexDumpShowsThePacketBytes() throws {
        let all = try Self.race5s()
        let t = try #require(all.first { $0.question?.type == .aaaa && $0.status == .answered })
        let response = try #require(t.response)
        let packet = try #require(try packetsByFrame(Self.race)[response.point.frame])
        let text = try detail(t, Self.race).map(\.text)

        #expect(text.contains("  frame 7, 117 of 117 octets captured, link type EN10MB"))
        // The first row built independently from the bytes: offset, 8 + 8 hex octets, ASCII with dots.
        let row = Array(packet.data.prefix(16))
        let hex = row.map { String(format: "%02x", $0) }
        let ascii = String(row.map { (0x20..<0x7f).contains($0) ? Character(UnicodeScalar($0)) : "." })
        let want = "  0000  " + hex[0..<8].joined(separator: " ") + "  " + hex[8..<16].joined(separator: " ") + "  " + ascii
        let responsePacket = try #require(text.firstIndex(of: "Response packet"))
        #expect(text[responsePacket + 2] == want)
        // 117 octets: 8 rows, the last (5 octets, as tcpdump -XX ends with `0000 0000 10`) padded so its ASCII lines up.
        let rows = text[(responsePacket + 2)...].prefix { $0.hasPrefix("  00") }
        #expect(rows.count == 8)
        #expect(rows.last == "  0070  00 00 00 00 10" + String(repeating: " ", count: 36) + ".....")
    }

    @Test func unansweredQuerySaysSo() throws {
        let all = try Self.race5s()
        let t = try #require(all.first { $0.status == .unanswered })
        let lines = try detail(t, Self.race)
        let text = lines.map(\.text)

        #expect(text[0] == "web.default.svc.cluster.local AAAA  unanswered  no answer")
        #expect(roles(of: "no answer", in: lines) == [.unanswered])
        #expect(roles(of: "unanswered", in: lines) == [.unanswered])
        #expect(!text.contains("Response") && !text.contains("Response packet"))
        #expect(text.contains("  ;; ->>HEADER<<- opcode: QUERY, status: NOERROR, id: 46376"))
        #expect(text.contains("  attempt        1"))
        #expect(text.contains("  sightings      query seen 1 time, response 0 times"))
        // The findings this query is evidence for: the conntrack race, with its fix below, wrapped to 80 columns
        // (never cut at the edge of the screen).
        let race = try #require(text.firstIndex { $0.contains("conntrack-race: ") })
        #expect(lines[race].runs.map(\.role) == [.finding])
        let fix = try #require(text.firstIndex { $0.hasPrefix("      fix: add `options: [{name: single-request-reopen}]`") })
        #expect(fix > race && fix <= race + 2)
        #expect(text.allSatisfy { $0.count <= 78 } || text.filter { $0.count > 78 }.allSatisfy { !$0.contains("fix:") && !$0.contains("conntrack") })
        #expect(text[fix...].prefix(4).joined(separator: " ").contains("lose the conntrack insertion race under DNAT"))
    }

    /// On the node (`-i any`): where the latency was measured, and where the lost AAAA was seen last.
    @Test func severalPointsShowWhereTheLatencyWasMeasuredAndWhereTheLossWas() throws {
        let node = "Fixtures/lab/race-5s/node-any.pcap"
        let all = try transactions(node)
        let lost = try #require(all.first { $0.question?.type == .aaaa && $0.status == .unanswered })
        let lostText = try detail(lost, node).map(\.text)
        #expect(lostText.contains("  last seen      at point 0/if2/In, never at the next: it died after it"), "\(lostText)")
        let answered = try #require(all.first { $0.status == .answered })
        let answeredText = try detail(answered, node).map(\.text)
        #expect(answeredText.contains { $0.hasPrefix("  latency at     point 0/if2") && $0.hasSuffix("(the copies nearest the client)") },
                "\(answeredText)")
    }

    @Test func reSentQueryShowsItsGap() throws {
        let all = try Self.race5s()
        let t = try #require(all.first { $0.question?.type == .a && $0.analysis.attempt == 2 })
        let lines = try detail(t, Self.race)
        #expect(lines.map(\.text).contains("  attempt        2  +5.00 s after the previous attempt; same id"))
        #expect(roles(of: "+5.00 s", in: lines) == [.retry])
        #expect(lines.map(\.text).contains("  probable retry no"))
    }

    @Test func packetsNoLongerHeldAreSaidToBe() throws {
        let all = try Self.race5s()
        let t = try #require(all.first { $0.status == .answered })
        let lines = DetailText.lines(for: t, packet: { _ in nil })
        let missing = lines.filter { $0.text == "  packet bytes not held (evicted or not captured)" }
        #expect(missing.count == 2)
        #expect(missing.allSatisfy { $0.runs.map(\.role) == [.dim] })
        #expect(!lines.contains { $0.text.hasPrefix("  0000  ") })
    }

    @Test func namesLabelTheEndpoints() throws {
        let t = try #require(try Self.race5s().first)
        var names = AddressNames()
        names.add(try #require(IPAddress(text: "198.18.1.2")), "default/client")
        names.add(try #require(IPAddress(text: "198.18.3.10")), "kube-system/kube-dns")
        let lines = DetailText.lines(for: t, packet: { _ in nil }, names: names)
        #expect(lines[1].text == "client 198.18.1.2.58181 (default/client) → server 198.18.3.10.53 (kube-system/kube-dns)  udp")
    }

    @Test func capturePointShowsInterfaceDirectionAndVLAN() throws {
        // LINUX_SLL2: interface index 10, the query sent by us (Out), the answer to us (In).
        let sll2 = try #require(try transactions("Fixtures/captures/sll2.pcap").first { $0.status == .answered })
        let sll2Text = try detail(sll2, "Fixtures/captures/sll2.pcap").map(\.text)
        #expect(sll2Text.filter { $0 == "  interface      index 10" }.count == 2)
        #expect(sll2Text.contains("  direction      Out"))
        #expect(sll2Text.contains("  direction      In"))
        #expect(sll2Text.contains { $0.hasPrefix("  frame 1, ") && $0.hasSuffix("link type LINUX_SLL2") })
        // 802.1Q VLAN 11.
        let vlan = try #require(try transactions("Fixtures/captures/vlan11.pcap").first)
        let vlanText = try detail(vlan, "Fixtures/captures/vlan11.pcap").map(\.text)
        #expect(vlanText.filter { $0 == "  VLANs          11" }.count == 2)
        #expect(!vlanText.contains { $0.hasPrefix("  interface") || $0.hasPrefix("  direction") })
    }

    @Test func ednsIsAPseudoSectionNotAnAdditionalRecord() throws {
        let capture = "Fixtures/captures/edns-opts.pcap"
        let all = try transactions(capture)
        // 47424: the query asks UDPsize=12345 with DO; the answer carries an RRSIG and its own OPT (4096, DO).
        let t = try #require(all.first { $0.id == 47424 })
        let text = try detail(t, capture).map(\.text)
        #expect(text.contains("  ;; OPT PSEUDOSECTION:"))
        #expect(text.contains("  ; EDNS: version: 0, flags: do; udp: 12345"))
        #expect(text.contains("  ; EDNS: version: 0, flags: do; udp: 4096"))
        #expect(text.contains("  ;; flags: rd ad; QUERY: 1, ANSWER: 0, AUTHORITY: 0, ADDITIONAL: 1"))
        #expect(text.contains("  ;; flags: qr aa rd; QUERY: 1, ANSWER: 2, AUTHORITY: 0, ADDITIONAL: 1"))
        #expect(text.contains { $0.hasPrefix("  example.com. ") && $0.contains(" IN RRSIG A 8 2 86400 ") })
        // The OPT record is the pseudo-section, not an ADDITIONAL record.
        let opt = try #require(t.response?.message.additionals.first { $0.type == .opt })
        #expect(!text.contains("  ;; ADDITIONAL SECTION:"))
        #expect(!text.contains { $0.contains(opt.presentation) })

        // 41739: a client-subnet option, shown by its presentation.
        let ecs = try #require(all.first { $0.id == 41739 })
        let ecsText = try detail(ecs, capture).map(\.text)
        let option = try #require(ecs.query?.message.edns?.options.first)
        #expect(ecsText.contains("  ; " + option.presentation))
        #expect(option.presentation.contains("192.0.2.0/24/0"))
    }

    @Test func malformedMessageSaysWhy() throws {
        let capture = "Fixtures/captures/dns-invalid-names.pcap"
        let all = try transactions(capture)
        let bad = all.filter { ($0.query ?? $0.response)?.message.error != nil }
        #expect(!bad.isEmpty)
        for t in bad {
            let lines = try detail(t, capture)
            let line = try #require(lines.first { $0.text.hasPrefix("  ;; MALFORMED: ") })
            let error = try #require((t.query ?? t.response)?.message.error)
            #expect(line.text == "  ;; MALFORMED: \(error.code): \(error.reason)")
            #expect(line.runs.last?.role == .rcodeError)
        }
    }

    @Test func noControlCharacterReachesALine() {
        var line = StyledLine("a\u{1b}[2J", .title)
        line.append("b\u{7}\u{7f}\n")
        #expect(line.text == "a?[2Jb???")
        #expect(line.runs.map(\.role) == [.title, .normal])
        line.append("c")
        #expect(line.runs.count == 2)   // same role: merged into the last run
        #expect(!DetailText.hexDump(Array(0...255)).contains { $0.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7f } })
    }

    @Test func hexDumpLayout() {
        #expect(DetailText.hexDump([]) == [])
        let lines = DetailText.hexDump(Array(0x41...0x54))   // "ABCDEFGHIJKLMNOPQRST"
        #expect(lines == [
            "0000  41 42 43 44 45 46 47 48  49 4a 4b 4c 4d 4e 4f 50  ABCDEFGHIJKLMNOP",
            "0010  51 52 53 54" + String(repeating: " ", count: 39) + "QRST",
        ])
        // Past 64 KiB the offset widens rather than wraps.
        #expect(DetailText.hexDump([UInt8](repeating: 0, count: 0x10001)).last?.hasPrefix("10000  00") == true)
    }

    @Test func golden() throws {
        let all = try Self.race5s()
        let t = try #require(all.first { $0.question?.type == .aaaa && $0.status == .answered })
        try expectGolden(try detail(t, Self.race).map(\.text).joined(separator: "\n"), "detail-text-race-5s.txt")
    }
}
