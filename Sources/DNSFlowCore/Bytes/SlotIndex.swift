/// Tables for records kept by slot, shared by the analysis's flows and the interface's: a slot index (records found by
/// a key they hold) and a counted table of addresses (each held once, by number).

/// Slots found by a key their records hold: an open-addressing table of 8-byte buckets (linear probing), each a slot
/// and 32 bits of its key's hash, where a dictionary from the key held the key again (the flows' 52-byte 5-tuples: 60
/// bytes an entry, 80 with its slack). A probe asks a record only when the bits agree: most finds are of a key no
/// record holds (a new socket), whose probes then read the table alone.
///
/// A bucket's place is taken from the bits it keeps (the hash's top 32), so the table is grown and a removal closed up
/// from the buckets alone: a removal shifts back the buckets after it that may move (no tombstone left to probe past,
/// no rebuild that asks every record for its hash).
public struct SlotIndex {
    /// A slot (low 32 bits: `empty` or the slot) and the top 32 bits of the hash it was filed under.
    private var buckets = [UInt64](repeating: SlotIndex.emptyBucket, count: 16)
    private static let empty: Int32 = -1
    private static let emptyBucket = UInt64(UInt32(bitPattern: SlotIndex.empty))
    /// A bucket's bits of the hash.
    private static let hashBits: UInt64 = 0xffff_ffff_0000_0000
    public private(set) var count = 0

    private var mask: Int { buckets.count - 1 }

    public init() {}

    @inline(__always) private static func slot(_ bucket: UInt64) -> Int32 { Int32(truncatingIfNeeded: bucket) }
    @inline(__always) private static func bucket(_ slot: Int32, hash: UInt64) -> UInt64 {
        hash & SlotIndex.hashBits | UInt64(UInt32(bitPattern: slot))
    }

    /// Where a probe for `hash` (or a bucket filed under it) starts.
    @inline(__always) private func home(_ hash: UInt64) -> Int { Int(truncatingIfNeeded: hash >> 32) & mask }

    /// The slot whose record `matches`, among those filed under `hash`.
    public func find(hash: UInt64, matches: (Int32) -> Bool) -> Int32? {
        let bits = hash & SlotIndex.hashBits
        var i = home(hash)
        while true {
            let b = buckets[i]
            let s = SlotIndex.slot(b)
            if s == SlotIndex.empty { return nil }
            if b & SlotIndex.hashBits == bits, matches(s) { return s }
            i = (i + 1) & mask
        }
    }

    /// Files `slot` under `hash` (not already filed).
    public mutating func insert(_ slot: Int32, hash: UInt64) {
        if (count + 1) * 4 > buckets.count * 3 {
            refill(buckets.filter { $0 != SlotIndex.emptyBucket }, size: buckets.count * 2)
        }
        var i = home(hash)
        while buckets[i] != SlotIndex.emptyBucket { i = (i + 1) & mask }
        buckets[i] = SlotIndex.bucket(slot, hash: hash)
        count += 1
    }

    /// Unfiles `slot`, filed under `hash`.
    public mutating func remove(_ slot: Int32, hash: UInt64) {
        var i = home(hash)
        while buckets[i] != SlotIndex.emptyBucket {
            if SlotIndex.slot(buckets[i]) == slot {
                closeUp(i)
                count -= 1
                return
            }
            i = (i + 1) & mask
        }
    }

    /// Empties bucket `gap`, moving back into it each bucket after it (up to the next empty one) that a probe from its
    /// place would otherwise no longer reach.
    private mutating func closeUp(_ gap: Int) {
        var gap = gap
        var j = gap
        while true {
            j = (j + 1) & mask
            let b = buckets[j]
            if b == SlotIndex.emptyBucket { break }
            // Movable when its place is not in (gap, j], cyclically: its probe passes the gap on the way to j.
            if (j &- home(b)) & mask >= (j &- gap) & mask {
                buckets[gap] = b
                gap = j
            }
        }
        buckets[gap] = SlotIndex.emptyBucket
    }

    /// Keeps only the slots `keep` says to, in a table sized for them.
    public mutating func filter(_ keep: (Int32) -> Bool) {
        let kept = buckets.filter { $0 != SlotIndex.emptyBucket && keep(SlotIndex.slot($0)) }
        var size = 16
        while size < kept.count * 2 { size *= 2 }
        refill(kept, size: size)
    }

    /// The buckets given, in a table of `size` buckets.
    private mutating func refill(_ kept: [UInt64], size: Int) {
        buckets = [UInt64](repeating: SlotIndex.emptyBucket, count: size)
        for b in kept {
            var i = home(b)
            while buckets[i] != SlotIndex.emptyBucket { i = (i + 1) & mask }
            buckets[i] = b
        }
        count = kept.count
    }
}

/// The addresses the flows hold, each once, counted by the flows that hold it; one no flow holds is let go and its
/// number given to the next.
public struct AddressTable {
    public static let none = UInt32.max
    private var addresses: [IPAddress] = []
    private var holders: [Int32] = []
    private var freeNumbers: [UInt32] = []
    private var numbers: [IPAddress: UInt32] = [:]

    public init() {}

    public var count: Int { numbers.count }

    public subscript(n: UInt32) -> IPAddress { n == AddressTable.none ? .v4(0) : addresses[Int(n)] }

    public func number(of a: IPAddress) -> UInt32? { numbers[a] }

    /// The address's number, held once more.
    public mutating func hold(_ a: IPAddress) -> UInt32 {
        if let n = numbers[a] {
            holders[Int(n)] += 1
            return n
        }
        let n: UInt32
        if let reused = freeNumbers.popLast() {
            n = reused
            addresses[Int(n)] = a
            holders[Int(n)] = 1
        } else {
            n = UInt32(addresses.count)
            addresses.append(a)
            holders.append(1)
        }
        numbers[a] = n
        return n
    }

    public mutating func letGo(_ n: UInt32) {
        guard n != AddressTable.none else { return }
        holders[Int(n)] -= 1
        if holders[Int(n)] == 0 {
            numbers[addresses[Int(n)]] = nil
            freeNumbers.append(n)
        }
    }
}

/// A 5-tuple with its addresses as numbers in an `AddressTable`: 13 bytes, compared and hashed as integers. The
/// interface's flow records and the analysis's flow marks are made of one.
public struct FlowTuple: Equatable, Sendable {
    public var client: UInt32, server: UInt32
    public var clientPort: UInt16, serverPort: UInt16
    public var transport: TransportProtocol

    public static let none = FlowTuple(client: AddressTable.none, server: AddressTable.none, clientPort: 0,
                                       serverPort: 0, transport: .udp)

    public var hash: UInt64 {
        let words = UInt64(client) << 32 | UInt64(server)
        let ports = UInt64(clientPort) << 17 | UInt64(serverPort) << 1 | (transport == .tcp ? 1 : 0)
        return UInt64(UInt(bitPattern: FastHash.mix(FastHash.fold(words, ports), seed: 0)))
    }
}

extension AddressTable {
    /// The tuple of these endpoints if both addresses are held (else no flow can have it).
    public func tuple(_ transport: TransportProtocol, client: Endpoint, server: Endpoint) -> FlowTuple? {
        guard let c = number(of: client.address), let s = number(of: server.address) else { return nil }
        return FlowTuple(client: c, server: s, clientPort: client.port, serverPort: server.port, transport: transport)
    }

    /// The tuple of these endpoints, both addresses held once more (until `letGo(_:)` of the tuple).
    public mutating func hold(_ transport: TransportProtocol, client: Endpoint, server: Endpoint) -> FlowTuple {
        FlowTuple(client: hold(client.address), server: hold(server.address), clientPort: client.port,
                  serverPort: server.port, transport: transport)
    }

    public mutating func letGo(_ t: FlowTuple) {
        letGo(t.client)
        letGo(t.server)
    }

    public func endpoints(of t: FlowTuple) -> (client: Endpoint, server: Endpoint) {
        (Endpoint(address: self[t.client], port: t.clientPort), Endpoint(address: self[t.server], port: t.serverPort))
    }
}
