import DNSFlowCore
import Testing

/// A FIFO kept as an array read from `head`: what is not yet read stays, in order, whenever the front is dropped.
@Suite("FIFO arrays")
struct FIFOTests {
    @Test func unreadItemsSurviveEveryDrop() {
        var fifo: [Int] = []
        var head = 0
        var next = 0, expected = 0
        for round in 0..<20_000 {
            for _ in 0..<(round % 3) { fifo.append(next); next += 1 }
            if round % 5 != 0, head < fifo.count {
                #expect(fifo[head] == expected)
                head += 1
                expected += 1
            }
            fifo.dropConsumed(head: &head, threshold: 64)
            #expect(fifo.count - head == next - expected)
            if head < fifo.count { #expect(fifo[head] == expected && fifo[fifo.count - 1] == next - 1) }
            #expect(head <= max(64, fifo.count / 2 + 1), "the consumed front is dropped: \(head) of \(fifo.count)")
        }
        while head < fifo.count { head += 1 }
        fifo.dropConsumed(head: &head)
        #expect(fifo.isEmpty && head == 0)
    }

    /// Emptied whatever it holds, its capacity kept (a list kept between uses grows once).
    @Test func anEmptiedListKeepsItsCapacity() {
        for count in [0, 1, 2, 17] {
            var list = (0..<count).map { [$0] }
            list.reserveCapacity(32)
            let capacity = list.capacity
            list.empty()
            #expect(list.isEmpty && list.capacity == capacity)
        }
    }
}
