/// Nearest-rank percentile (p in 0...100) of sorted values: the smallest value with at least p % at or below it.
func nearestRankPercentile(_ p: Double, sorted: [Int64]) -> Int64? {
    guard !sorted.isEmpty else { return nil }
    return sorted[nearestRank(p, count: sorted.count)]
}

/// Where the nearest-rank percentile p (0...100) of `count` values lies in their sorted order (`count` > 0).
@inline(__always)
func nearestRank(_ p: Double, count: Int) -> Int {
    let rank = Int((p / 100 * Double(count)).rounded(.up))
    return max(0, min(count - 1, rank - 1))
}

/// Order statistics of values not sorted: each found by selection, a pass or two over the values, where sorting them
/// all to read three ranks took n log n (the summary's latencies are every answer of the capture, read at its end).
enum Selection {
    /// Below this many values a sort is as quick (and a flow's few latencies are most of the calls).
    static let fewValues = 64

    /// The nearest-rank percentile p (0...100) of `values`, as `nearestRankPercentile` gives it on the sorted values;
    /// nil when empty.
    static func percentile(_ p: Double, of values: [Int64]) -> Int64? {
        guard !values.isEmpty else { return nil }
        let k = nearestRank(p, count: values.count)
        var work = values
        return work.withUnsafeMutableBufferPointer { b in
            _ = place(b, ranks: (k, k, k))
            return b[k]
        }
    }

    /// p50, p90, p99 and the largest of `values` (not empty), as sorting them would give them.
    static func latencyFigures(_ values: [Int64]) -> (p50: Int64, p90: Int64, p99: Int64, max: Int64) {
        let n = values.count
        let r50 = nearestRank(50, count: n), r90 = nearestRank(90, count: n), r99 = nearestRank(99, count: n)
        var work = values
        return work.withUnsafeMutableBufferPointer { b in
            let largest = place(b, ranks: (r50, r90, r99))
            return (b[r50], b[r90], b[r99], largest)
        }
    }

    /// Puts at each of the ranks (ascending, repeats allowed) what sorting `b` (not empty) would put there, and
    /// returns the largest value. Each rank is found in what lies at or after the one before: nothing smaller is there.
    private static func place(_ b: UnsafeMutableBufferPointer<Int64>, ranks: (Int, Int, Int)) -> Int64 {
        var b = b
        if b.count <= fewValues {
            b.sort()
            return b[b.count - 1]
        }
        select(b, ranks.0, in: 0..<b.count)
        if ranks.1 != ranks.0 { select(b, ranks.1, in: ranks.0..<b.count) }
        if ranks.2 != ranks.1 { select(b, ranks.2, in: ranks.1..<b.count) }
        var m = b[ranks.2]
        for i in ranks.2..<b.count where b[i] > m { m = b[i] }
        return m
    }

    /// Reorders `b[range]` so that `b[k]` holds what sorting the range would put there, with nothing greater before
    /// it and nothing smaller after it in the range (Hoare's selection, the pivot a median of three; a range that
    /// keeps failing to shrink — values arranged against the pivot rule — is sorted instead).
    static func select(_ b: UnsafeMutableBufferPointer<Int64>, _ k: Int, in range: Range<Int>) {
        precondition(range.contains(k) && range.lowerBound >= 0 && range.upperBound <= b.count)
        var lo = range.lowerBound, hi = range.upperBound - 1
        var rounds = 2 * (Int.bitWidth - range.count.leadingZeroBitCount) + 8
        while hi - lo > 16 {
            if rounds == 0 {
                var rest = UnsafeMutableBufferPointer(rebasing: b[lo...hi])
                rest.sort()
                return
            }
            rounds -= 1
            let mid = lo + (hi - lo) / 2
            if b[mid] < b[lo] { b.swapAt(mid, lo) }
            if b[hi] < b[lo] { b.swapAt(hi, lo) }
            if b[hi] < b[mid] { b.swapAt(hi, mid) }
            let pivot = b[mid]
            var i = lo, j = hi
            while i <= j {
                while b[i] < pivot { i += 1 }
                while b[j] > pivot { j -= 1 }
                if i <= j {
                    b.swapAt(i, j)
                    i += 1
                    j -= 1
                }
            }
            // Now b[lo...j] ≤ pivot ≤ b[i...hi], and whatever lies between j and i equals the pivot.
            if k <= j {
                hi = j
            } else if k >= i {
                lo = i
            } else {
                return
            }
        }
        // A few left: by insertion.
        if lo < hi {
            for x in (lo + 1)...hi {
                let v = b[x]
                var y = x
                while y > lo, b[y - 1] > v {
                    b[y] = b[y - 1]
                    y -= 1
                }
                b[y] = v
            }
        }
    }
}
