import Testing
@testable import DNSFlowCore

@Suite("Selection")
struct SelectionTests {
    static let ranks: [Double] = [0, 1, 25, 50, 90, 99, 99.9, 100]

    /// Each shape of input a sort-based percentile meets, at many sizes: selection gives what sorting gives.
    @Test func percentilesAsSortingGivesThem() {
        var rng = SplitMix(state: 11)
        for n in Array(1...40) + [63, 64, 65, 257, 1000, 4099, 20_000] {
            let shapes: [[Int64]] = [
                (0..<n).map { _ in Int64(rng.next() % 1_000_000_000) },     // spread
                (0..<n).map { _ in Int64(rng.next() % 3) },                 // few values, many repeats
                (0..<n).map { Int64($0) },                                   // ascending
                (0..<n).map { Int64(n - $0) },                               // descending
                (0..<n).map { _ in 5 },                                      // all equal
                (0..<n).map { Int64(min($0, n - $0)) },                      // organ pipe
                (0..<n).map { Int64($0 % 2 == 0 ? $0 : n - $0) },            // interleaved
            ]
            for values in shapes {
                let sorted = values.sorted()
                let got = Self.ranks.map { Selection.percentile($0, of: values)! }
                #expect(got == Self.ranks.map { nearestRankPercentile($0, sorted: sorted)! }, "n=\(n)")
                let figures = Summary.latencyFigures(unsorted: values)!
                let expected = Summary.latencyFigures(sorted: sorted)!
                #expect(figures.p50 == expected.p50 && figures.p90 == expected.p90 && figures.p99 == expected.p99
                        && figures.max == expected.max)
            }
        }
        #expect(Selection.percentile(50, of: []) == nil)
        #expect(Summary.latencyFigures(unsorted: []) == nil)
    }

    /// After selecting rank k, nothing before it is greater and nothing after it smaller, and the values are the same.
    @Test func selectPartitionsAroundTheRank() {
        var rng = SplitMix(state: 3)
        for _ in 0..<300 {
            let n = Int(rng.next() % 3000) + 1
            let spread = rng.next() % 2 == 0 ? UInt64(10) : UInt64(1 << 40)
            var values = (0..<n).map { _ in Int64(rng.next() % spread) }
            let before = values.sorted()
            let k = Int(rng.next() % UInt64(n))
            values.withUnsafeMutableBufferPointer { Selection.select($0, k, in: 0..<n) }
            #expect(values[k] == before[k])
            #expect(values[..<k].allSatisfy { $0 <= values[k] } && values[(k + 1)...].allSatisfy { $0 >= values[k] })
            #expect(values.sorted() == before)
        }
    }

    /// Values arranged so that a median of three keeps picking badly still finish (sorted once the rounds run out).
    @Test func finishesOnHostileOrder() {
        // Median-of-three killer (Musser): each round's pivot is near the smallest of the range.
        let n = 1 << 14
        var values = [Int64](repeating: 0, count: n)
        for i in 0..<(n / 2) {
            values[2 * i] = Int64(i + 1)
            values[2 * i + 1] = Int64(n / 2 + i + 1)
        }
        let sorted = values.sorted()
        #expect(Self.ranks.map { Selection.percentile($0, of: values)! } == Self.ranks.map { nearestRankPercentile($0, sorted: sorted)! })
        let figures = Summary.latencyFigures(unsorted: values)!
        #expect(figures.p50 == nearestRankPercentile(50, sorted: sorted) && figures.p99 == nearestRankPercentile(99, sorted: sorted)
                && figures.max == sorted.last)
    }
}
