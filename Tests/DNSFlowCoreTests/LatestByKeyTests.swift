import Testing
@testable import DNSFlowCore

/// `LatestByKey` against a plain model (every record in a list, each key's latest in a dictionary), with keys whose
/// hashes collide as often as wanted: the latest record found, changed and forgotten is the same, through the
/// buckets' growth and rebuilds.
@Suite("Latest record of each key")
struct LatestByKeyTests {
    struct Model {
        var records: [(key: Int, value: Int)] = []
        var head = 0
        var latest: [Int: Int] = [:]  // key → index in `records`

        func find(_ key: Int) -> Int? {
            guard let i = latest[key], i >= head else { return nil }
            return records[i].value
        }
    }

    @Test(arguments: [3, 50, 1 << 40], [300, 5_000])
    func agreesWithAModel(buckets: Int, keys: Int) {
        var table = LatestByKey<CollidingKey, Int>()
        var model = Model()
        var rng = SplitMix(state: 0x2545_f491_4f6c_dd1d)
        func next(_ n: Int) -> Int { Int.random(in: 0..<n, using: &rng) }
        var stamp = 0
        for step in 0..<60_000 {
            let key = CollidingKey(value: next(keys), buckets: buckets)
            switch next(10) {
            case 0..<6:
                // A new record, its key's latest from now on (as a first attempt is filed).
                let place = table.find(key)
                #expect(table.value(at: place) == model.find(key.value), "step \(step): finding \(key.value)")
                stamp += 1
                table.append(key, stamp, at: place)
                model.records.append((key.value, stamp))
                model.latest[key.value] = model.records.count - 1
            case 6, 7:
                // The latest record's value changed where it lies (an answer), when it has one held.
                let place = table.find(key)
                #expect(table.value(at: place) == model.find(key.value))
                table.update(at: place) { $0 = -$0 }
                if let i = model.latest[key.value], i >= model.head { model.records[i].value = -model.records[i].value }
            case 8:
                // The oldest forgotten by their values (as by age), beyond a count, or both.
                let max = next(3) == 0 ? next(2_000) : Int.max
                let cutoff = stamp - next(3_000)
                table.forgetOldest(beyond: max) { abs($0) < cutoff }
                while model.head < model.records.count,
                      model.records.count - model.head > max || abs(model.records[model.head].value) < cutoff {
                    model.head += 1
                }
            default:
                #expect(table.value(at: table.find(key)) == model.find(key.value), "step \(step): finding \(key.value)")
            }
            #expect(table.count == model.records.count - model.head)
        }
        for value in 0..<keys {
            let key = CollidingKey(value: value, buckets: buckets)
            #expect(table.value(at: table.find(key)) == model.find(value))
        }
    }

    /// A key filed again is found with its new record (the earlier one stays held, no longer its latest); forgetting
    /// the oldest forgets a key whose latest they include, and not one whose latest is newer.
    @Test func aRecordFiledIsItsKeysLatest() {
        var table = LatestByKey<CollidingKey, String>(seed: 1)
        let a = CollidingKey(value: 1, buckets: 1), b = CollidingKey(value: 2, buckets: 1)
        table.append(a, "a1", at: table.find(a))
        table.append(b, "b1", at: table.find(b))
        table.append(a, "a2", at: table.find(a))
        #expect(table.value(at: table.find(a)) == "a2")
        #expect(table.value(at: table.find(b)) == "b1")
        #expect(table.count == 3)
        // The two oldest forgotten: a's latest (the third) is still held, b's is not.
        table.forgetOldest(beyond: 1) { _ in false }
        #expect(table.value(at: table.find(a)) == "a2")
        #expect(table.value(at: table.find(b)) == nil)
        #expect(table.count == 1)
    }
}
