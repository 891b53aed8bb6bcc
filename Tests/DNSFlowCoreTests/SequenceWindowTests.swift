import Testing
@testable import DNSFlowCore

/// `SequenceWindow` against a dictionary doing the same, with windows small enough that keys are found in the ring,
/// in the dictionary of older keys, across its growth and its slides (long jumps included).
@Suite("SequenceWindow")
struct SequenceWindowTests {
    /// How the keys come: anywhere in a small range (negative ones too), or about in order with stragglers, keys long
    /// gone and jumps far ahead (as queries, transactions and lookups do).
    enum Keys: CaseIterable { case scattered, aboutInOrder }

    @Test(arguments: [1, 8, 64, 1 << 17], Keys.allCases)
    func behavesAsADictionary(maxWindow: Int, keys: Keys) {
        var rng = SplitMix(state: UInt64(maxWindow) &* 31 &+ (keys == .scattered ? 1 : 2))
        var map = SequenceWindow<[Int]>(maxWindow: maxWindow)
        var model: [Int: [Int]] = [:]
        var snapshots: [(SequenceWindow<[Int]>, [Int: [Int]])] = []
        var front = 0
        for step in 0..<40_000 {
            let key: Int
            switch keys {
            case .scattered:
                key = Int(rng.next() % 600) - 100
            case .aboutInOrder:
                let r = rng.next() % 100
                front += r == 0 ? Int(rng.next() % 5_000) : Int(rng.next() % 2)  // now and then a jump far ahead
                key = r == 1 ? front - Int(rng.next() % 20_000) : front - Int(rng.next() % 40)
            }
            switch rng.next() % 9 {
            case 0:
                #expect(map.updateValue([step], forKey: key) == model.updateValue([step], forKey: key))
            case 1: map[key] = [step]; model[key] = [step]
            case 2: #expect(map.removeValue(forKey: key) == model.removeValue(forKey: key))
            case 3: map[key, default: []].append(step); model[key, default: []].append(step)
            case 4: #expect(map.update(key) { $0.append(-step) } == (model[key] != nil)); model[key]?.append(-step)
            case 5: map[key]?.append(step); model[key]?.append(step)
            case 6: map[key] = nil; model[key] = nil
            case 7: #expect(map.read(key) { $0.count } == model[key]?.count)
            default:
                if step % 1000 == 0 { snapshots.append((map, model)) }
                #expect(map[key] == model[key] && map.contains(key) == (model[key] != nil))
                #expect(map.lend(key) { $0.first } == model[key].map { $0.first })
            }
            #expect(map.count == model.count)
            // Now and then everything held is looked at: keys that moved to the older ones are still found.
            if step % 4_000 == 0 {
                #expect(map.keys.sorted() == model.keys.sorted())
                for (k, v) in model { #expect(map[k] == v) }
            }
        }
        expectSameAsModel(map, model, snapshots: snapshots)
        for k in model.keys { map.removeValue(forKey: k) }
        #expect(map.isEmpty && map.keys.isEmpty)
        // Emptied, it starts again wherever the next key is.
        map[1_000_000] = [1]
        map[3] = [2]
        #expect(map[1_000_000] == [1] && map[3] == [2] && map.count == 2)
    }

    /// Values are freed when removed, replaced, or when the map goes — in the ring and among the older keys.
    @Test func freesWhatItHolds() {
        final class Token {}
        weak var gone: Token?
        weak var replaced: Token?
        weak var kept: Token?
        weak var old: Token?
        do {
            var map = SequenceWindow<Token>(maxWindow: 16)
            for i in 0..<100 { map[i] = Token() }
            gone = map[95]
            replaced = map[96]
            kept = map[97]
            old = map[3]  // left behind by the window: among the older keys
            map.removeValue(forKey: 95)
            map[96] = Token()
            map[3] = nil
            #expect(gone == nil && replaced == nil && kept != nil && old == nil && map.count == 98)
        }
        #expect(kept == nil)
    }
}
