import Testing
@testable import DNSFlowCore

/// InlineList behaves as an array whatever its size, across its two inline slots and its overflow.
@Suite("Inline lists")
struct InlineListTests {
    @Test func behavesAsAnArray() {
        var rng = SplitMix(state: 7)
        for n in 0...6 {
            let base = Array(0..<n)
            #expect(Array(InlineList(base)) == base)
            for i in base.indices {
                var list = InlineList(base), array = base
                #expect(list.remove(at: i) == array.remove(at: i))
                #expect(Array(list) == array, "remove \(i) of \(n)")
                list.append(99)
                array.append(99)
                #expect(Array(list) == array)
            }
            for i in 0...n {
                var list = InlineList(base), array = base
                list.insert(-1, at: i)
                array.insert(-1, at: i)
                #expect(Array(list) == array, "insert at \(i) of \(n)")
            }
            for _ in 0..<8 {
                let keep = (0..<n).map { _ in Bool.random(using: &rng) }
                var list = InlineList(base)
                list.removeAll { !keep[$0] }
                #expect(Array(list) == base.filter { keep[$0] })
            }
        }
    }

    /// A list of sequence numbers reads back as the array of what was appended, across its two inline slots and its
    /// overflow (any integer, zero and negatives included: no value marks an empty slot).
    @Test func sequenceListsBehaveAsArrays() {
        for n in 0...7 {
            let values = (0..<n).map { [0, -1, Int.min, Int.max, 5, 0, 42][$0] }
            var list = SequenceList()
            for v in values { list.append(v) }
            #expect(Array(list) == values && list.count == n && list.isEmpty == (n == 0))
            #expect(list.last == values.last && list.contains(Int.max) == values.contains(Int.max))
            if let first = values.first {
                #expect(Array(SequenceList(first)) == [first])
            }
        }
    }

    /// The matcher's open sends read back as the array of what was appended, whatever is removed, across the inline
    /// slots and the overflow.
    @Test func openSendsBehaveAsArrays() {
        func send(_ i: Int) -> OpenSends.Send { OpenSends.Send(sequence: i, time: Timestamp(seconds: Int64(i), nanoseconds: 7)) }
        func contents(_ list: OpenSends) -> [Int] { list.map { $0.time.seconds == Int64($0.sequence) ? $0.sequence : -1 } }
        for n in 0...6 {
            var base = OpenSends()
            for i in 0..<n { base.append(send(i)) }
            #expect(contents(base) == Array(0..<n) && base.count == n)
            for i in 0..<n {
                var list = base, array = Array(0..<n)
                #expect(list.remove(at: i).sequence == array.remove(at: i))
                #expect(contents(list) == array, "remove \(i) of \(n)")
                list.append(send(99))
                array.append(99)
                #expect(contents(list) == array)
            }
            for odd in [false, true] {
                var list = base
                list.removeAll { ($0.sequence % 2 == 1) == odd }
                #expect(contents(list) == (0..<n).filter { ($0 % 2 == 1) != odd })
            }
        }
    }

    /// Changed in place and moved out whole, in order, whatever the size; an element moved out is held alone there.
    @Test func changedInPlaceAndMovedOut() {
        final class Token {}
        for n in 0...6 {
            var list = InlineList(Array(0..<n))
            list.updateEach { $0 *= 10 }
            #expect(Array(list) == (0..<n).map { $0 * 10 }, "update of \(n)")
            var into = [-1]
            list.moveAll(into: &into)
            #expect(into == [-1] + (0..<n).map { $0 * 10 }, "moved \(n)")
            #expect(list.isEmpty)

            var tokens = InlineList((0..<n).map { _ in Token() })
            var moved: [Token] = []
            tokens.moveAll(into: &moved)
            #expect(moved.count == n)
            for i in moved.indices { #expect(isKnownUniquelyReferenced(&moved[i]), "token \(i) of \(n)") }
        }
    }
}

/// The findings marked on a transaction keep the order they were first marked in, each once.
@Suite("Finding marks")
struct FindingMarksTests {
    @Test func keepTheirOrderOnceEach() {
        typealias Rule = FindingRules.Rule
        var marks = FindingMarks()
        #expect(marks.isEmpty && marks.ids.isEmpty)
        marks.insert(.answerGivenUp)
        marks.insert(.conntrackRace)
        marks.insert(.answerGivenUp)
        #expect(marks.ids == ["answer-given-up", "conntrack-race"])
        #expect(marks.contains(.conntrackRace) && !marks.contains(.bothLost))
        // Every rule at once, in reverse: all kept, in that order.
        var all = FindingMarks()
        for rule in Rule.allCases.reversed() { all.insert(rule); all.insert(rule) }
        #expect(all.ids == Rule.allCases.reversed().map(\.finding.id))
        // Each rule names a finding of its own, and every finding but the capture-wide one has a rule.
        #expect(Set(Rule.allCases.map(\.finding.id)).count == Rule.allCases.count)
        #expect(Set(Finding.all.map(\.id)).subtracting(Rule.allCases.map(\.finding.id)) == [Finding.slowServer.id])
    }
}
