/// A sink that keeps what it is told, in order, so that another sink can be told the same later: the analysis runs on
/// one thread into a log, and the interface's thread tells the log to its rows (`AnalysisThread`).
///
/// Kept in columns, one list per kind of event and a list of the kinds in order: an event takes the room its kind
/// needs (a packet's is a third of a query's), and is told where it lies, without a copy.
public struct EvidenceLog: EvidenceSink {
    @usableFromInline enum Kind: UInt8 { case packet, query, matched, settled, flows, clock }

    @usableFromInline struct PacketRead {
        @usableFromInline var packet: CapturedPacket
        @usableFromInline var carriesDNS: Bool
    }

    @usableFromInline struct QuerySeen {
        @usableFromInline var sequence: Int
        @usableFromInline var query: ObservedMessage
        @usableFromInline var analysis: Analysis
    }

    @usableFromInline var kinds: [Kind] = []
    @usableFromInline var packets: [PacketRead] = []
    @usableFromInline var queries: [QuerySeen] = []
    /// Matched and settled transactions, in the order told.
    @usableFromInline var transactions: [Transaction] = []
    @usableFromInline var flows: [[FlowStats]] = []
    @usableFromInline var clocks: [Timestamp] = []

    /// Whether `matched` is kept: a consumer that shows a query's fate only once it settles (a file read at full speed)
    /// does without it. (Kept, a transaction is shared with the log while the analysis goes on annotating it: the
    /// analysis then copies it.)
    public let keepsMatched: Bool

    public init(keepsMatched: Bool = true) { self.keepsMatched = keepsMatched }

    /// Events kept.
    public var count: Int { kinds.count }
    public var isEmpty: Bool { kinds.isEmpty }

    /// An empty log like this one, with room for as many events of each kind as this one holds.
    public func emptied() -> EvidenceLog {
        var log = EvidenceLog(keepsMatched: keepsMatched)
        log.kinds.reserveCapacity(kinds.count)
        log.packets.reserveCapacity(packets.count)
        log.queries.reserveCapacity(queries.count)
        log.transactions.reserveCapacity(transactions.count)
        return log
    }

    public mutating func packetRead(_ packet: CapturedPacket, carriesDNS: Bool) {
        kinds.append(.packet)
        packets.append(PacketRead(packet: packet, carriesDNS: carriesDNS))
    }

    public mutating func querySeen(_ sequence: Int, _ query: ObservedMessage, _ analysis: Analysis) {
        kinds.append(.query)
        queries.append(QuerySeen(sequence: sequence, query: query, analysis: analysis))
    }

    public mutating func matched(_ t: Transaction) {
        guard keepsMatched else { return }
        kinds.append(.matched)
        transactions.append(t)
    }

    public mutating func settled(_ t: Transaction) {
        kinds.append(.settled)
        transactions.append(t)
    }

    public mutating func flowsFinished(_ flows: [FlowStats]) {
        kinds.append(.flows)
        self.flows.append(flows)
    }

    public mutating func clock(_ now: Timestamp) {
        kinds.append(.clock)
        clocks.append(now)
    }

    /// How far a log has been told.
    public struct Cursor {
        @usableFromInline var event = 0, packet = 0, query = 0, transaction = 0, flows = 0, clock = 0
        public init() {}
    }

    /// Tells `sink` the events from `cursor` on, in order, while `more()` (asked every 256 events) says so; true
    /// once all are told.
    @inlinable
    public func tell<S: EvidenceSink>(_ sink: inout S, from cursor: inout Cursor, while more: () -> Bool) -> Bool {
        var n = 0
        return kinds.withUnsafeBufferPointer { kinds in
            packets.withUnsafeBufferPointer { packets in
                queries.withUnsafeBufferPointer { queries in
                    transactions.withUnsafeBufferPointer { transactions in
                        while cursor.event < kinds.count {
                            switch kinds[cursor.event] {
                            case .packet:
                                sink.packetRead(packets[cursor.packet].packet, carriesDNS: packets[cursor.packet].carriesDNS)
                                cursor.packet += 1
                            case .query:
                                let q = queries.baseAddress! + cursor.query
                                sink.querySeen(q.pointee.sequence, q.pointee.query, q.pointee.analysis)
                                cursor.query += 1
                            case .matched:
                                sink.matched(transactions[cursor.transaction])
                                cursor.transaction += 1
                            case .settled:
                                sink.settled(transactions[cursor.transaction])
                                cursor.transaction += 1
                            case .flows:
                                sink.flowsFinished(flows[cursor.flows])
                                cursor.flows += 1
                            case .clock:
                                sink.clock(clocks[cursor.clock])
                                cursor.clock += 1
                            }
                            cursor.event += 1
                            n += 1
                            if n & 255 == 0, cursor.event < kinds.count, !more() { return false }
                        }
                        return true
                    }
                }
            }
        }
    }
}
