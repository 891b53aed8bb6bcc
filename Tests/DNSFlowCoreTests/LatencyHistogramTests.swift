import Testing
#if canImport(Glibc)
import Glibc
#endif
@testable import DNSFlowCore

@Suite("Latency histogram: bounded memory, figures within 0.05 %")
struct LatencyHistogramTests {
    @Test func everyValueLiesInItsBucketAndBucketsAreNarrow() {
        var rng = SplitMix(state: 1)
        var values: [Int64] = Array(0...5000) + [Int64.max, 1 << 40, (1 << 40) - 1, 60_000_000_000]
        for _ in 0..<100_000 { values.append(Int64.random(in: 0...(Int64(1) << Int64.random(in: 1...62, using: &rng)), using: &rng)) }
        for v in values {
            let (low, width) = LatencyHistogram.range(of: LatencyHistogram.bucket(v))
            #expect(low <= v && v - low < width, "value \(v)")
            #expect(width == 1 || width <= v / 1024, "value \(v): bucket \(width) wide")
        }
        #expect(LatencyHistogram.bucket(-5) == 0)
    }

    @Test func percentilesAgreeWithTheExactOnesWithinAPartIn2048() {
        var rng = SplitMix(state: 42)
        // Microsecond latencies (a pcap's), nanosecond ones, a long tail of timeouts, and tiny values held exactly.
        let sets: [[Int64]] = [
            (0..<200_000).map { _ in Int64.random(in: 200...3_000, using: &rng) * 1_000 },
            (0..<100_000).map { _ in Int64(exp(Double.random(in: 7...23, using: &rng))) },
            (0..<50_000).map { i in i % 100 == 0 ? 5_000_000_000 + Int64(i) : Int64.random(in: 500_000...900_000, using: &rng) },
            (0..<1_000).map { _ in Int64.random(in: 0..<2_048, using: &rng) },
        ]
        for values in sets {
            var h = LatencyHistogram()
            for v in values { h.add(v) }
            let sorted = values.sorted()
            #expect(h.count == values.count)
            #expect(h.max == sorted.last)
            for p in [0.1, 50, 90, 99, 99.9, 100] {
                let exact = nearestRankPercentile(p, sorted: sorted)!, approx = h.percentile(p)!
                #expect(abs(approx - exact) <= exact / 2048 + (exact < 2048 ? 0 : 1), "p\(p): \(approx) against \(exact)")
            }
        }
        #expect(LatencyHistogram().percentile(50) == nil)
    }

    @Test func aPartTakenOutLeavesTheRest() {
        var a = LatencyHistogram(), b = LatencyHistogram(), all = LatencyHistogram()
        for v in 1...100 { a.add(Int64(v) * 1_000_000) }
        for v in 1...300 { b.add(Int64(v) * 10) }
        all.add(a)
        all.add(b)
        #expect(all.count == 400)
        let rest = all.removing(a)
        #expect(rest.count == 300)
        #expect(rest.percentile(50) == b.percentile(50))
        #expect(rest.percentile(90) == b.percentile(90))
    }

    @Test func memoryGrowsWithBucketsNotAnswers() {
        var h = LatencyHistogram()
        for i in 0..<1_000_000 { h.add(Int64(1_000_000 + (i % 3_000) * 1_000)) }
        // 1,000,000 answers between 1 and 4 ms, in µs: at most a few thousand buckets (8 MB as a list).
        #expect(h.bucketCount < 3_100)
    }

    @Test func threeSignificantDigits() {
        #expect(Summary.threeDigitMilliseconds(150_000_000) == "150")
        #expect(Summary.threeDigitMilliseconds(150_013_000) == "150")
        #expect(Summary.threeDigitMilliseconds(2_050_000) == "2.05")
        #expect(Summary.threeDigitMilliseconds(31_200) == "0.0312")
        #expect(Summary.threeDigitMilliseconds(5_006_012_000) == "5006")
        #expect(Summary.threeDigitMilliseconds(7) == "0.000007")
        #expect(Summary.threeDigitMilliseconds(0) == "0")
    }

    @Test func slowServerFromHistograms() {
        var s = Summary()
        s.keepsExactLatencies = false
        for _ in 0..<20 {
            s.addLatency(2_000_000, server: .v4(1))
            s.addLatency(150_000_000, server: .v4(2))
        }
        #expect(s.latencies.isEmpty && s.serverLatencies.isEmpty)
        s.addCaptureWideFindings(names: .none)
        #expect(s.findings["slow-server"]?.count == 1)
        #expect(s.findings["slow-server"]?.rows == 20)
        #expect(s.findings["slow-server"]?.example == "0.0.0.2: median ~150 ms, the others ~2.00 ms")
        let figures = s.latencyFigures
        #expect(figures?.max == 150_000_000)
        #expect(figures.map { abs($0.p50 - 2_000_000) <= 1_000 } == true)
    }
}
