/// The 5-tuples the analysis has seen within its horizon, each with its flow id and when it was last active:
/// 32-byte records (the addresses as numbers in a counted table) found through a table of 8-byte buckets
/// (`SlotIndex`). A dictionary from the 5-tuple held the 52-byte key and its slack for each of the hundreds of
/// thousands of sockets a busy minute opens.
struct FlowMarks {
    struct Mark {
        fileprivate var tuple: FlowTuple
        var id: Int
        var lastSeen: Int64
    }

    private var marks: [Mark] = []
    private var freeSlots: [Int32] = []
    private var index = SlotIndex()
    private var addresses = AddressTable()

    var count: Int { index.count }

    /// The slot of the 5-tuple's mark, if it has one.
    func find(_ key: FlowKey) -> Int32? {
        guard let wanted = addresses.tuple(key.transport, client: key.client, server: key.server) else { return nil }
        return index.find(hash: wanted.hash) { marks[Int($0)].tuple == wanted }
    }

    subscript(slot: Int32) -> Mark {
        get { marks[Int(slot)] }
        _modify { yield &marks[Int(slot)] }
    }

    /// A mark for a 5-tuple that has none.
    mutating func add(_ key: FlowKey, id: Int, lastSeen: Int64) -> Int32 {
        let mark = Mark(tuple: addresses.hold(key.transport, client: key.client, server: key.server), id: id,
                        lastSeen: lastSeen)
        let slot: Int32
        if let reused = freeSlots.popLast() {
            slot = reused
            marks[Int(slot)] = mark
        } else {
            slot = Int32(marks.count)
            marks.append(mark)
        }
        index.insert(slot, hash: mark.tuple.hash)
        return slot
    }

    /// Removes the marks `gone` says to, telling `each` of them first. A pass over the records in slot order (free ones
    /// have id 0), each one removed unfiled on its own: the idle sweep runs once a second of capture, so it must not
    /// rebuild the whole index each time.
    mutating func remove(where gone: (Mark) -> Bool, each: (Mark) -> Void) {
        for slot in marks.indices where marks[slot].id != 0 && gone(marks[slot]) {
            let m = marks[slot]
            each(m)
            index.remove(Int32(slot), hash: m.tuple.hash)
            addresses.letGo(m.tuple)
            marks[slot].id = 0
            freeSlots.append(Int32(slot))
        }
    }

    mutating func removeAll() { self = FlowMarks() }
}
