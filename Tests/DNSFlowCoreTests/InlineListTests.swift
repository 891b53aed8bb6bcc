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
}
