import Testing
@testable import DNSFlowCore

@Suite("SequenceMap")
struct SequenceMapTests {
    /// Every operation against a `Dictionary` doing the same; copies taken along the way keep what they held.
    @Test func behavesAsADictionary() {
        var rng = SplitMix(state: 7)
        var map = SequenceMap<[Int]>()
        var model: [Int: [Int]] = [:]
        var snapshots: [(SequenceMap<[Int]>, [Int: [Int]])] = []
        for step in 0..<40_000 {
            let key = Int(rng.next() % 600) - 100
            switch rng.next() % 9 {
            case 0: map[key] = [step]; model[key] = [step]
            case 1: #expect(map.removeValue(forKey: key) == model.removeValue(forKey: key))
            case 2: map[key, default: []].append(step); model[key, default: []].append(step)
            case 3: #expect(map.update(key) { $0.append(-step) } == (model[key] != nil)); model[key]?.append(-step)
            case 4: map[key]?.append(step); model[key]?.append(step)
            case 5: map[key] = nil; model[key] = nil
            case 6: #expect(map.read(key) { $0.count } == model[key]?.count)
            case 7: #expect(map[key] == model[key] && map.contains(key) == (model[key] != nil))
            default:
                if step % 1000 == 0 { snapshots.append((map, model)) }
                #expect(map.lend(key) { $0.first } == model[key].map { $0.first })
            }
            #expect(map.count == model.count)
        }
        expectSameAsModel(map, model, snapshots: snapshots)
        for k in model.keys { map.removeValue(forKey: k) }
        #expect(map.isEmpty && map.keys.isEmpty)
    }

    /// Values are freed when removed, replaced, or when the map goes.
    @Test func freesWhatItHolds() {
        final class Token {}
        weak var gone: Token?
        weak var replaced: Token?
        weak var kept: Token?
        do {
            var map = SequenceMap<Token>()
            for i in 0..<100 { map[i] = Token() }
            gone = map[5]
            replaced = map[6]
            kept = map[7]
            map.removeValue(forKey: 5)
            map[6] = Token()
            #expect(gone == nil && replaced == nil && kept != nil)
        }
        #expect(kept == nil)
    }

    /// Keys taken from message hashes may be any word.
    @Test func extremeKeys() {
        var map = SequenceMap<Int>()
        map[.max] = 1
        map[.min] = 2
        map[0] = 3
        #expect(map[.max] == 1 && map[.min] == 2 && map[0] == 3 && map[.min + 1] == nil && !map.contains(-1))
        #expect(map.removeValue(forKey: .min) == 2 && map.count == 2)
    }
}

/// What the dictionary-model tests of `SequenceMap` and `SequenceWindow` read of a map.
protocol SequenceKeyedMap {
    associatedtype Value
    var count: Int { get }
    var keys: [Int] { get }
    subscript(key: Int) -> Value? { get }
}

extension SequenceMap: SequenceKeyedMap {}
extension SequenceWindow: SequenceKeyedMap {}

/// The map holds what the model holds, and each copy taken along the way what the model held then.
func expectSameAsModel<Map: SequenceKeyedMap>(_ map: Map, _ model: [Int: Map.Value], snapshots: [(Map, [Int: Map.Value])])
where Map.Value: Equatable {
    #expect(map.keys.sorted() == model.keys.sorted())
    for k in model.keys { #expect(map[k] == model[k]) }
    for (copy, held) in snapshots {
        #expect(copy.count == held.count && copy.keys.sorted() == held.keys.sorted())
        for k in held.keys { #expect(copy[k] == held[k]) }
    }
}
