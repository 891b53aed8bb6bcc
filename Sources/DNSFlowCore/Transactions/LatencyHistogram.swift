/// Latencies in bounded memory, for a front end that runs for as long as the capture does (the interface): a
/// log-linear histogram in the manner of HdrHistogram. Below 2,048 ns every nanosecond has its bucket; above, each power
/// of two is cut into 1,024 buckets, so a bucket is at most 1/1,024 of its values wide and its middle is within 1/2,048
/// (0.05 %) of any value in it: 1.55 ms is known to within 0.8 µs, far below the two decimals the interface shows.
/// Memory grows with the distinct buckets met (at most about 27,000 up to a minute), not with the answers.
///
/// `--summary` and the CSV keep every latency and give exact figures; this is for where that list would grow without end.
public struct LatencyHistogram: Sendable, Equatable {
    /// Answers by bucket (sparse: a server's latencies fill a few hundred buckets), hashed as sequences are (`FastHash`).
    private var counts: [SequenceKey: Int] = [:]
    public private(set) var count = 0
    /// The largest value, exactly.
    public private(set) var max: Int64 = 0
    /// Buckets holding at least one value (what the memory grows with).
    public var bucketCount: Int { counts.count }

    public init() {}

    public mutating func add(_ nanoseconds: Int64) {
        counts[SequenceKey(LatencyHistogram.bucket(nanoseconds)), default: 0] += 1
        count += 1
        max = Swift.max(max, nanoseconds)
    }

    /// Every value of both.
    public mutating func add(_ other: LatencyHistogram) {
        counts.merge(other.counts, uniquingKeysWith: +)
        count += other.count
        max = Swift.max(max, other.max)
    }

    /// What is left of these values once `part`'s are taken out (`part` being counted in them). The largest value
    /// stays this one's: an upper bound.
    public func removing(_ part: LatencyHistogram) -> LatencyHistogram {
        var out = self
        for (bucket, n) in part.counts {
            let left = (out.counts[bucket] ?? 0) - n
            out.counts[bucket] = left > 0 ? left : nil
        }
        out.count = Swift.max(0, count - part.count)
        return out
    }

    /// Nearest-rank percentile (p in 0...100), like `nearestRankPercentile` on the sorted values: exact below 2,048 ns,
    /// else the middle of the bucket that holds it (never beyond the largest value).
    public func percentile(_ p: Double) -> Int64? {
        guard count > 0 else { return nil }
        let rank = Swift.max(1, Swift.min(count, Int((p / 100 * Double(count)).rounded(.up))))
        var seen = 0
        for (bucket, n) in counts.sorted(by: { $0.key.value < $1.key.value }) {
            seen += n
            if seen >= rank {
                let (low, width) = LatencyHistogram.range(of: bucket.value)
                return Swift.min(max, low + (width - 1) / 2)
            }
        }
        return max
    }

    /// p50, p90 and p99 from the buckets, the largest exactly; nil when empty.
    public var figures: Summary.LatencyFigures? {
        guard let p50 = percentile(50), let p90 = percentile(90), let p99 = percentile(99) else { return nil }
        return Summary.LatencyFigures(p50: p50, p90: p90, p99: p99, max: max)
    }

    /// The bucket of a value (negative values, which matching never gives, count as 0).
    static func bucket(_ nanoseconds: Int64) -> Int {
        let v = UInt64(Swift.max(0, nanoseconds))
        if v < 2048 { return Int(v) }
        let shift = (63 - v.leadingZeroBitCount) - 10
        return 2048 + (shift - 1) * 1024 + Int(v >> UInt64(shift)) - 1024
    }

    /// A bucket's lowest value and its width.
    static func range(of bucket: Int) -> (low: Int64, width: Int64) {
        if bucket < 2048 { return (Int64(bucket), 1) }
        let shift = (bucket - 2048) / 1024 + 1
        let mantissa = (bucket - 2048) % 1024 + 1024
        return (Int64(mantissa) << Int64(shift), Int64(1) << Int64(shift))
    }
}
