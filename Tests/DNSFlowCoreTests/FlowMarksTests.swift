@testable import DNSFlowCore
import Testing

@Suite("Flow marks")
struct FlowMarksTests {
    /// The analysis's 5-tuples agree with a dictionary through adds, idle sweeps (slots and address numbers reused)
    /// and lookups of 5-tuples that differ only in a port, an address or the transport.
    @Test func marksAgreeWithADictionary() {
        var rng = SplitMix(state: 42)
        var marks = FlowMarks()
        var reference: [FlowKey: (id: Int, lastSeen: Int64)] = [:]
        let server = Endpoint(address: .v4(0xc613_000a), port: 53)
        func key(_ n: UInt64) -> FlowKey {
            let address: IPAddress = n % 5 == 0 ? .v6(0x2001_0db8_0000_0000, n % 97) : .v4(0x0a00_0000 | UInt32(n % 97))
            return FlowKey(transport: n % 11 == 0 ? .tcp : .udp,
                                    client: Endpoint(address: address, port: UInt16(1024 + n % 300)), server: server)
        }
        var id = 0
        for step in 0..<20_000 {
            let k = key(rng.next() % 5_000)
            let now = Int64(step)
            if let slot = marks.find(k) {
                #expect(reference[k]?.id == marks[slot].id)
                marks[slot].lastSeen = now
                reference[k]!.lastSeen = now
            } else {
                #expect(reference[k] == nil)
                id += 1
                _ = marks.add(k, id: id, lastSeen: now)
                reference[k] = (id, now)
            }
            if step % 1_000 == 999 {
                var removed: [Int] = []
                marks.remove(where: { $0.lastSeen < now - 700 }) { removed.append($0.id) }
                let idle = reference.filter { $0.value.lastSeen < now - 700 }
                #expect(Set(removed) == Set(idle.map(\.value.id)))
                for k in idle.keys { reference[k] = nil }
            }
            #expect(marks.count == reference.count)
        }
        for (k, v) in reference { #expect(marks.find(k).map { marks[$0].id } == v.id) }
    }
}
