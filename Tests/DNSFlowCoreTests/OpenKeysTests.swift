@testable import DNSFlowCore
import Testing

@Suite("Open keys")
struct OpenKeysTests {
    /// The matcher's table of open keys agrees with a dictionary through keys opened, sends added and taken out, and
    /// keys closed (slots reused), with lookups of keys that differ only in the id, the question or an endpoint.
    @Test func openKeysAgreeWithADictionary() {
        var rng = SplitMix(state: 7)
        var table = OpenKeys(seed: 3)
        var reference: [QueryKey: [Int]] = [:]
        let server = Endpoint(address: .v4(0xc612_0035), port: 53)
        func key(_ n: UInt64) -> QueryKey {
            QueryKey(transport: n % 13 == 0 ? .tcp : .udp,
                     client: Endpoint(address: .v4(0xc612_0100 | UInt32(n % 7)), port: UInt16(40_000 + n % 5)),
                     server: server, id: UInt16(n % 23), type: DNSType(n % 2 == 0 ? 1 : 28), qclass: DNSClass(1),
                     name: n % 3)
        }
        func sends(_ list: OpenSends) -> [Int] { list.map(\.sequence) }
        for step in 0..<20_000 {
            let k = key(rng.next() % 3_000)
            let place = table.find(k)
            let slot = place.slot
            #expect(slot.map { sends(table[$0]) } == reference[k], "step \(step)")
            switch (slot, rng.next() % 3) {
            case (nil, _):
                let send = OpenSends.Send(sequence: step, time: Timestamp(seconds: 0, nanoseconds: 0))
                table.add(k, at: place, OpenSends(send))
                reference[k] = [step]
            case (let slot?, 0):
                table[slot].append(OpenSends.Send(sequence: step, time: Timestamp(seconds: 0, nanoseconds: 0)))
                reference[k]!.append(step)
            case (let slot?, _):
                table[slot].remove(at: 0)
                reference[k]!.removeFirst()
                if table[slot].isEmpty {
                    table.remove(at: place)
                    reference[k] = nil
                }
            }
            #expect(table.count == reference.count)
        }
    }
}
