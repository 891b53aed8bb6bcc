import DNSFlowCore

/// One row of the interface: a query (or an orphan response, or a malformed message) from the moment it is seen.
/// A live query shows as pending until its transaction settles; then the settled transaction replaces it in place.
///
/// A row is a record in the store's table (`RowRecord`, no object of its own); an `Entry` is a handle to it: the
/// store, the row's slot and its sequence. It keeps what the list, the filters, the flows and the timeline need
/// (`facts`), with its name interned, not the decoded messages. Detail and the exports get the whole transaction
/// from `QueryStore.transaction(of:)`, which decodes the row's packets again.
///
/// A handle held across changes to the store still reads its own row: a slot freed by eviction and given to a newer
/// row is told apart by the sequence, and the row is looked up again (or, gone, reads as an empty row).
public struct Entry {
    unowned(unsafe) let store: QueryStore
    let slot: Int32
    public let sequence: Int

    public var facts: QueryFacts { store.row(self).pointee.facts }
    public var flow: FlowGroup { store.flowGroup(slot: store.row(self).pointee.flow) }
    /// Where the query's and the response's packets are (input, frame, file offset).
    public var queryPacket: PacketRef? { store.row(self).pointee.queryPacket }
    public var responsePacket: PacketRef? { store.row(self).pointee.responsePacket }
    /// Seen but not settled yet (waiting for its answer, or for the analysis to finish with it).
    public var isPending: Bool { store.row(self).pointee.isPending }
    /// The first query of its A/AAAA pair (opens the bracket): the first of the pair's rows to settle; before they do,
    /// the pair's first query's.
    public var isFirstOfPair: Bool {
        let r = store.row(self)
        return r.pointee.has(RowRecord.firstOfPair) || (r.pointee.isPending && r.pointee.facts.pair == sequence)
    }
    public var isMarked: Bool { store.row(self).pointee.has(RowRecord.marked) }
    /// The whole transaction, kept only where it cannot be decoded again from the row's packets (no packet source,
    /// TCP, IP fragments, malformed).
    var kept: Transaction? { store.kept(sequence) }

    /// Lowercased name, for filtering (computed once per distinct name).
    var searchName: String { store.searchName(store.row(self).pointee.facts.name) }

    /// Seen, with no answer yet (pending, nothing matched it, and nothing proved it lost).
    public var isWaiting: Bool { store.row(self).pointee.isWaiting }

    /// How long a waiting query has waited so far: to the end of the data (a live capture's clock).
    public var waitedNanoseconds: Int64? {
        guard isWaiting else { return nil }
        return max(0, store.latestTime - facts.time.totalNanoseconds)
    }

    /// A query answered whose analysis is not final yet (counted by the store, not yet by the pipeline).
    @inline(__always) var isAnsweredEarly: Bool { store.row(self).pointee.isAnsweredEarly }

    /// A re-send (same id) or a probable one (new id, same question, while the previous was unanswered).
    public var isRetry: Bool { store.row(self).pointee.facts.isRetry }

    /// Unanswered, retried, in a pair that was not plain ok, slow (100 ms or more), a server error, an orphan or
    /// malformed: what `f` keeps. (NXDOMAIN is an answer; search-list NXDOMAINs are a finding, not a problem row.)
    public var isProblem: Bool { store.row(self).pointee.isProblem }
}

extension Entry: Equatable {
    public static func == (a: Entry, b: Entry) -> Bool { a.store === b.store && a.sequence == b.sequence }
}

/// A row as the store holds it: a value in its table (no object header, no allocator rounding, no pointer to it
/// from a list): 112 bytes a row.
struct RowRecord {
    // In this order, the fields leave no padding: 112 bytes.
    var facts: QueryFacts
    /// The low 32 bits of the row's sequence; the top 8 are in the facts' spare byte. 40 bits number 2^40 - 1
    /// transactions (63 days at 200,000 a second); all ones is a vacant slot's -1.
    private var sequenceLow: UInt32 = 0
    /// The row's flow (a slot in the store's flow table) and the flow's next row in sequence order (-1: the last).
    var flow: Int32
    var nextInFlow: Int32 = -1
    /// The first packet's place (the query's; the response's in a row without a query), stored without Optional's
    /// extra byte, which padding makes eight.
    private var firstRef = PacketRef.none
    /// The response's place after a query, relative to the query's (same input; frame and offset within 2^31 of
    /// it): eight bytes, where a place takes sixteen. One that does not fit is not stored (the row keeps its
    /// transaction instead).
    private var responseFrameDelta: Int32 = 0, responseOffsetDelta: Int32 = 0

    private static let sequenceMask = 1 << 40 - 1
    var sequence: Int {
        @inline(__always) get {
            let v = Int(facts.rowSequenceHigh) << 32 | Int(sequenceLow)
            return v == RowRecord.sequenceMask ? -1 : v
        }
        set {
            let v = newValue < 0 ? RowRecord.sequenceMask : newValue & RowRecord.sequenceMask
            facts.rowSequenceHigh = UInt8(truncatingIfNeeded: v >> 32)
            sequenceLow = UInt32(truncatingIfNeeded: v)
        }
    }

    static let pending: UInt8 = 1, firstOfPair: UInt8 = 2, marked: UInt8 = 4
    /// On a pair's first query's row: a row of the pair has opened its bracket.
    static let pairOpened: UInt8 = 64
    /// Pending, and proven unanswered: re-sent under the same key, or its window passed.
    static let lost: UInt8 = 128
    private static let hasResponsePlace: UInt8 = 8
    /// Whether the row is a problem (`isProblem`) once settled, and while pending: worked out when its facts change
    /// (`noteProblems`), read as a bit (deciding it from the facts for each row made a million-row list slow to redo).
    private static let problemSettled: UInt8 = 16, problemPending: UInt8 = 32

    /// Takes the facts over (`consuming`): moved into the row, not copied.
    init(sequence: Int, facts: consuming QueryFacts, flow: Int32, isPending: Bool) {
        self.facts = facts
        self.flow = flow
        self.sequence = sequence
        self.facts.rowFlags = isPending ? RowRecord.pending : 0
        noteProblems()
    }

    /// What a slot holds between rows, and what a handle to a row no longer held reads.
    nonisolated(unsafe) static let vacant = RowRecord(sequence: -1, facts: .nothing, flow: -1, isPending: false)

    @inline(__always) func has(_ flag: UInt8) -> Bool { facts.rowFlags & flag != 0 }
    mutating func set(_ flag: UInt8, _ on: Bool) {
        facts.rowFlags = on ? facts.rowFlags | flag : facts.rowFlags & ~flag
    }

    var queryPacket: PacketRef? { facts.hasQuery && !firstRef.isNone ? firstRef : nil }

    var responsePacket: PacketRef? {
        guard facts.hasQuery else { return firstRef.isNone ? nil : firstRef }
        guard has(RowRecord.hasResponsePlace) else { return nil }
        return PacketRef(CapturePoint(input: firstRef.input, frame: firstRef.frame + Int(responseFrameDelta),
                                      fileOffset: firstRef.fileOffset + Int64(responseOffsetDelta)))
    }

    /// The query's place (set before the response's).
    mutating func setQueryPlace(_ ref: PacketRef) {
        firstRef = ref
        set(RowRecord.hasResponsePlace, false)
    }

    /// The response's place; false when it cannot be stored (relative to the query's, it does not fit).
    mutating func setResponsePlace(_ ref: PacketRef) -> Bool {
        guard facts.hasQuery else {
            firstRef = ref
            return true
        }
        guard let (frame, offset) = responseDeltas(ref) else { return false }
        responseFrameDelta = frame
        responseOffsetDelta = offset
        set(RowRecord.hasResponsePlace, true)
        return true
    }

    /// Whether the response's place would be stored (`setResponsePlace` would succeed).
    func canPlaceResponse(_ ref: PacketRef) -> Bool { !facts.hasQuery || responseDeltas(ref) != nil }

    /// A response's place relative to the query's, if it fits.
    private func responseDeltas(_ ref: PacketRef) -> (frame: Int32, offset: Int32)? {
        guard !firstRef.isNone, ref.input == firstRef.input, let frame = Int32(exactly: ref.frame - firstRef.frame),
              let offset = Int32(exactly: ref.fileOffset - firstRef.fileOffset)
        else { return nil }
        return (frame, offset)
    }

    @inline(__always) var isPending: Bool { has(RowRecord.pending) }
    @inline(__always) var isWaiting: Bool { isPending && !facts.hasResponse && !has(RowRecord.lost) }
    var isAnsweredEarly: Bool { isPending && facts.hasQuery && facts.hasResponse }

    @inline(__always) var isProblem: Bool { has(isPending ? RowRecord.problemPending : RowRecord.problemSettled) }

    /// Works out `isProblem` for both states of the row; called whenever its facts change.
    mutating func noteProblems() {
        // Both worked out before either is set: the facts read where they lie (read in the argument of a call that
        // changes the record, they would be copied first, twice a row).
        let settled = RowRecord.isProblem(facts, pending: false)
        let pending = RowRecord.isProblem(facts, pending: !has(RowRecord.lost))
        set(RowRecord.problemSettled, settled)
        set(RowRecord.problemPending, pending)
    }

    private static func isProblem(_ t: borrowing QueryFacts, pending: Bool) -> Bool {
        if t.status == .malformed || t.status == .orphanResponse { return true }
        if !pending, t.status == .unanswered { return true }
        if t.isRetry { return true }
        if let state = t.pairState, state != .ok, state != .single { return true }
        if let l = t.latencyNanoseconds, l >= 100_000_000 { return true }
        if let w = t.lookupNanoseconds, w >= 1_000_000_000 { return true }
        if let r = t.rcode, r != .noError, r != .nxDomain { return true }
        return false
    }
}

/// One 5-tuple (transport, client, server) as the interface groups it, with its rows in sequence order: a handle to
/// a record in the store's flow table, as `Entry` is to a row.
public struct FlowGroup {
    public struct Key: Hashable {
        public var transport: TransportProtocol
        public var client: Endpoint
        public var server: Endpoint
    }

    public struct Stats: Equatable {
        public var queries = 0
        public var answered = 0
        public var unanswered = 0
        public var pending = 0
        /// When the longest-waiting of the pending queries was sent (nanoseconds since the epoch).
        public var oldestWaiting: Int64?
        public var retries = 0
        public var marked = 0
        public var worstLatency: Int64?
        public var medianLatency: Int64?
        /// The longest any lookup with a query in this flow waited (its whole search-list walk).
        public var worstWait: Int64?
    }

    unowned(unsafe) let store: QueryStore
    let slot: Int32
    /// The analysis's flow number (the CSV's `flow` column, the `flow:N` filter term), 1-based in order of first
    /// appearance; from `numberlessBase` up, a group of rows the analysis gave no flow (`label` shows `#–`).
    public let number: Int
    /// Where the numbers of groups without an analysis flow number start (past any the analysis gives).
    public static let numberlessBase = 1 << 48
    /// `#3`, or `#–` for rows without a flow number.
    public var label: String { number < FlowGroup.numberlessBase ? "#\(number)" : "#–" }

    var record: FlowRecord { store.flowRecord(self) }
    public var key: Key { store.key(of: record) }
    /// How long its longest-waiting query has waited so far (to the end of the data: a live capture's clock).
    public var waitedNanoseconds: Int64? { stats.oldestWaiting.map { max(0, store.latestTime - $0) } }
    /// Its rows, in sequence order.
    public var entries: FlowRows { FlowRows(store: store, record: record) }
    /// Computed for the flows on screen only, and kept until the flow changes.
    public var stats: Stats { store.stats(of: self) }
}

extension FlowGroup: Equatable {
    public static func == (a: FlowGroup, b: FlowGroup) -> Bool { a.store === b.store && a.number == b.number }
}

/// A flow's rows, walked along the links between its rows' records.
public struct FlowRows: Sequence {
    unowned(unsafe) let store: QueryStore
    let first: Int32
    public let count: Int

    init(store: QueryStore, record: FlowRecord) {
        self.store = store
        first = record.first
        count = Int(record.count)
    }

    public var isEmpty: Bool { count == 0 }
    public var underestimatedCount: Int { count }

    public struct Iterator: IteratorProtocol {
        unowned(unsafe) let store: QueryStore
        var slot: Int32
        public mutating func next() -> Entry? {
            guard slot >= 0 else { return nil }
            let r = store.rows.address(slot)
            let e = Entry(store: store, slot: slot, sequence: r.pointee.sequence)
            slot = r.pointee.nextInFlow
            return e
        }
    }

    public func makeIterator() -> Iterator { Iterator(store: store, slot: count == 0 ? -1 : first) }
}

/// A flow as the store holds it (40 bytes): its 5-tuple with both addresses as numbers in the store's table of
/// addresses (a cluster's flows share a few thousand addresses; a 5-tuple with them written out took 52 bytes).
struct FlowRecord {
    var tuple: FlowTuple
    var number: Int
    /// Its first and last rows (slots), linked through `RowRecord.nextInFlow`.
    var first: Int32 = -1, last: Int32 = -1
    var count: Int32 = 0

    static let vacant = FlowRecord(tuple: .none, number: 0)
}

/// Values in chunks of 512 KiB, addressed by slot, in place; a removed value's slot is given to the next one added.
/// Growing adds a chunk: nothing is moved (an array of a million rows doubling would hold two copies at once), and
/// the rows are not objects of their own.
final class SlotTable<Element> {
    /// As many values as fill 512 KiB, one of the allocator's size classes (4,681 rows of 112 bytes): a chunk of a
    /// round number of values would be rounded up to the class, and the rest of it, recycled memory, resident.
    private static var chunkSize: Int { max(1, (512 << 10) / MemoryLayout<Element>.stride) }
    // Not checked for overlapping access at run time: the table is used from one thread, and the checks were a tenth
    // of recomputing a million-row list.
    @exclusivity(unchecked) private var chunks: [UnsafeMutablePointer<Element>] = []
    /// Slots ever used (initialized); the freed ones among them hold `vacant`.
    @exclusivity(unchecked) private(set) var filled = 0
    @exclusivity(unchecked) private var freeSlots: [Int32] = []
    private let vacant: Element

    init(vacant: Element) { self.vacant = vacant }

    deinit {
        for (c, chunk) in chunks.enumerated() {
            chunk.deinitialize(count: min(SlotTable.chunkSize, filled - c * SlotTable.chunkSize))
            chunk.deallocate()
        }
    }

    var count: Int { filled - freeSlots.count }

    /// Where a slot's value lies (valid until the table changes): reading a field through it reads only that field.
    @inline(__always) func address(_ slot: Int32) -> UnsafeMutablePointer<Element> {
        let s = Int(slot)
        precondition(s >= 0 && s < filled, "slot \(s) out of the table")
        return chunks[s / SlotTable.chunkSize] + s % SlotTable.chunkSize
    }

    /// The value in place: reading one field reads only that field.
    subscript(slot: Int32) -> Element {
        unsafeAddress { UnsafePointer(address(slot)) }
        unsafeMutableAddress { address(slot) }
    }

    /// Takes the value over (`consuming`): moved into its slot, not copied.
    func add(_ value: consuming Element) -> Int32 {
        if let s = freeSlots.popLast() {
            address(s).pointee = consume value
            return s
        }
        precondition(filled < Int(Int32.max), "table full")
        if filled == chunks.count * SlotTable.chunkSize { chunks.append(.allocate(capacity: SlotTable.chunkSize)) }
        let s = Int32(filled)
        filled += 1
        address(s).initialize(to: consume value)
        return s
    }

    func remove(_ slot: Int32) {
        address(slot).pointee = vacant
        freeSlots.append(slot)
    }
}

/// The store's rows in sequence order, as handles.
public struct RowsView: RandomAccessCollection {
    unowned(unsafe) let store: QueryStore
    let order: [Int32]

    public var startIndex: Int { 0 }
    public var endIndex: Int { order.count }
    public subscript(i: Int) -> Entry {
        let slot = order[i]
        return Entry(store: store, slot: slot, sequence: store.rows.address(slot).pointee.sequence)
    }
}

/// The store's flows in order of their numbers, as handles.
public struct FlowsView: RandomAccessCollection {
    unowned(unsafe) let store: QueryStore
    let order: [Int32]

    public var startIndex: Int { 0 }
    public var endIndex: Int { order.count }
    public subscript(i: Int) -> FlowGroup { store.flowGroup(slot: order[i]) }
}

/// The interned names, found by their fingerprints through a `SlotIndex` (8-byte buckets), held in a list of references
/// (8 bytes a name), where a dictionary from the name held the name again (24 bytes a bucket).
struct NameTable {
    private var slots: [InternedName?] = []
    private var freeSlots: [Int32] = []
    private var index = SlotIndex()

    var count: Int { index.count }

    private static func hash(_ name: DNSName) -> UInt64 {
        UInt64(UInt(bitPattern: FastHash.mix(name.fingerprint, seed: 0)))
    }

    /// The name's interned form, if held. (Mutating, though it changes nothing: called on the store's table where it
    /// lies; a reading call was handed a copy of the table, its two lists retained and released, for every row.)
    mutating func find(_ name: DNSName) -> InternedName? {
        index.find(hash: NameTable.hash(name)) { slots[Int($0)]!.name == name }.map { slots[Int($0)]! }
    }

    /// Adds a name not in the table.
    mutating func insert(_ n: InternedName) {
        let slot: Int32
        if let reused = freeSlots.popLast() {
            slot = reused
            slots[Int(slot)] = n
        } else {
            slot = Int32(slots.count)
            slots.append(n)
        }
        index.insert(slot, hash: NameTable.hash(n.name))
    }

    /// Removes the names nothing else refers to (no row); tells `each` of them first.
    mutating func removeUnreferenced(_ each: (InternedName) -> Void) {
        var removed = false
        for i in slots.indices {
            // (No binding held across the check: it would be a second reference.)
            if slots[i] == nil { continue }
            if isKnownUniquelyReferenced(&slots[i]) {
                each(slots[i]!)
                slots[i] = nil
                freeSlots.append(Int32(i))
                removed = true
            }
        }
        if removed { index.filter { slots[Int($0)] != nil } }
    }
}
