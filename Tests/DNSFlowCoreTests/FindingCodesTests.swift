import Testing
@testable import DNSFlowCore

@Suite("Findings held as codes")
struct FindingCodesTests {
    /// Ids come back as set, in order, duplicates and ids from outside the rules included, past the first word.
    @Test func idsComeBackAsSetInOrder() {
        var a = Analysis()
        #expect(a.findings.isEmpty && a.findingCodes.isEmpty)
        let known = Finding.all.map(\.id)
        let ids = [known[12], "parallel-a-aaaa-same-socket", known[0]] + known[1...9] + ["another-id", known[12]]
        a.findings = ids
        #expect(a.findings == ids)
        #expect(a.findingCodes.count == 14)
        #expect(a.findingCodes.contains(index: 0) && a.findingCodes.contains(index: 12) && !a.findingCodes.contains(index: 11))
        var seen: [Int] = []
        a.findingCodes.forEachIndex { seen.append($0) }
        #expect(seen == [12, 0] + Array(1...9) + [12])
        // An id from outside the rules keeps its code: set again, the analysis is equal.
        var b = Analysis()
        b.findings = ids
        #expect(a == b && a.hashValue == b.hashValue)
        b.findings = Array(ids.dropLast())
        #expect(a != b && b.findings == Array(ids.dropLast()))
    }

    /// The rules' marks become the same ids as their findings, in the order marked.
    @Test func marksBecomeTheirFindings() {
        var marks = FindingMarks()
        marks.insert(.ndotsExpansion)
        marks.insert(.conntrackRace)
        marks.insert(.lostBetweenPoints)
        var a = Analysis()
        a.findingCodes = marks.codes
        #expect(a.findings == marks.ids)
        #expect(a.findings == [Finding.ndotsExpansion.id, Finding.conntrackRace.id, Finding.lostBetweenPoints.id])
    }
}
