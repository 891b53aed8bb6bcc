import Testing
@testable import DNSFlowCore

/// `HashFiled` against a dictionary from the key, with keys whose hashes collide as often as wanted: what is found,
/// replaced and unfiled is the same whether a key has its hash's slot or goes to the colliding table.
@Suite("Entries filed by hash")
struct HashFiledTests {
    // `unfile(key, id)` is asked only with an entry that holds `key` (or held it): a chain's own key.

    /// `lazily`: entries unfiled later (`unfileLater`: their slots read as vacant once gone, and are dropped now and
    /// then by `dropGone`), as `Attempts` unfiles a chain taken.
    @Test(arguments: [3, 50, 1 << 40], [false, true]) func agreesWithADictionary(buckets: Int, lazily: Bool) {
        var filed = HashFiled<CollidingKey>()
        var reference: [CollidingKey: Int] = [:]
        // The key each entry holds (what `holds` asks); an entry is dropped when it is no longer filed.
        var keyOf: [Int: Int] = [:]
        var rng = SplitMix(state: 0x9e37_79b9_7f4a_7c15)
        func next(_ n: Int) -> Int { Int.random(in: 0..<n, using: &rng) }
        var nextID = 0
        var replaced: [Int: Int] = [:]
        let isGone = { (id: Int) in keyOf[id] == nil }
        for step in 0..<40_000 {
            let key = CollidingKey(value: next(200), buckets: buckets)
            let holds = { (id: Int) in keyOf[id] == key.value }
            switch next(3) {
            case 0:
                // A new entry, filed under its key in place of the one filed before.
                let id = nextID
                nextID += 1
                keyOf[id] = key.value
                let old = lazily ? filed.file(key, id, holds: holds, isGone: isGone) : filed.file(key, id, holds: holds)
                #expect(old == reference.updateValue(id, forKey: key), "filing \(key.value) as \(id)")
                if let old {
                    keyOf[old] = nil
                    replaced[key.value] = old
                }
            case 1:
                #expect(filed.find(key, holds: holds) == reference[key], "finding \(key.value)")
            default:
                // Unfiled only if that entry is the one filed (a chain taken unfiles its key); an entry filed under
                // the key before and replaced since unfiles nothing.
                let id = next(3) == 0 ? (replaced[key.value] ?? -1) : (reference[key] ?? -1)
                if lazily { filed.unfileLater(key, id) } else { filed.unfile(key, id) }
                if reference[key] == id {
                    reference[key] = nil
                    keyOf[id] = nil
                }
            }
            if lazily, step % 1000 == 999 { filed.dropGone(isGone) }
            // Without shared hashes, no key goes to the colliding table: a slot left by an entry gone is taken over.
            if buckets == 1 << 40 { #expect(filed.collidingCount == 0) }
            if lazily, step % 1000 != 999 {
                #expect(filed.count >= reference.count)
            } else {
                #expect(filed.count == reference.count)
            }
        }
        for value in 0..<200 {
            let key = CollidingKey(value: value, buckets: buckets)
            #expect(filed.find(key, holds: { keyOf[$0] == value }) == reference[key])
        }
    }
}
