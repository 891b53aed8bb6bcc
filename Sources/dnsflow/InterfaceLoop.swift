import DNSFlowCapture
import DNSFlowCore
import DNSFlowTUI
#if canImport(Glibc)
import Glibc
#endif

/// The full-screen interface's loop, on one thread: read packets for a few milliseconds, redraw what changed,
/// poll the keyboard (ncdu's way). Capture never waits for the user: reading goes on while they read, scroll or
/// type; live reads do not block.
struct InterfaceLoop {
    let command: DNSFlowCommand
    let handles: [PcapHandle]
    let names: AddressNames
    /// The rows' packets (read back from their files; opened before privileges were given up).
    let packets: PacketStore

    nonisolated(unsafe) static var keptUntilExit: [AnyObject] = []

    /// Ingestion time per turn; the rest of the turn is drawing and keys.
    private let sliceNanoseconds: Int64 = 25_000_000

    mutating func run(_ driver: Driver, stop: () -> Bool) throws -> Int32 {
        let store = QueryStore(maxEntries: command.maxQueries)
        let packets = self.packets
        // The process ends with the interface: freeing every row one by one would only delay the shell's prompt
        // (a second per million rows), so they stay referenced until exit.
        defer { InterfaceLoop.keptUntilExit += [store, packets] }
        store.onEvict = { gone in
            for e in gone {
                if let q = e.queryPacket { packets.remove(q.point) }
                if let r = e.responsePacket { packets.remove(r.point) }
            }
        }
        let isLive = driver.feed.isLive
        let replay = driver.feed as? ReplayFeed
        // A stream from elsewhere (a pipe): live, but on the clock of its own packets.
        let isStream = (driver.feed as? LiveFeed)?.followsPackets == true
        var sink = InterfaceSink(app: App(source: handles.map(\.name).joined(separator: " "), store: store), packets: packets,
                                 followsPackets: (!isLive && replay == nil) || isStream, showsFates: isLive || replay != nil)
        sink.app.names = names
        store.showsPairsEarly = sink.showsFates
        sink.app.packets = { packets[$0] }
        // Rows keep what the list needs; Detail and the exports decode their packets again.
        let configuration = driver.pipeline.configuration.decoder
        store.rebuild = { packets.transaction(of: $0, configuration: configuration) }
        sink.app.fileStamp = InterfaceLoop.fileStamp
        sink.app.status.canPause = isLive || replay != nil
        // A file read at full speed: matching and the analysis on a thread of their own, this one keeps the rows, draws
        // and reads keys (the three stages on two cores: the load takes less time than with the analysis here). Live,
        // replayed or streamed, packets come at their own pace and the analysis runs here between redraws (a thread of
        // its own cost more CPU and memory for nothing there).
        let analysis = AnalysisThread(driver: driver, keepsMatched: sink.showsFates)
        if !isLive, replay == nil { analysis.start() }
        defer { analysis.stop() }

        let terminal: Terminal
        do { terminal = try Terminal() } catch { throw CommandError(error.description) }
        defer { terminal.close() }

        var finished = false
        var lastDraw: Int64 = 0, lastFigures: Int64 = 0, drawCost: Int64 = 0
        var lastRecompute: Int64 = 0, recomputeCost: Int64 = 0
        var dirty = true
        var outcome = Driver.Outcome.more
        var lastEvents = 0

        while !stop(), !sink.app.wantsQuit {
            // 1. Packets, for one slice of time (idle: the clock moves the analysis on).
            replay?.isPaused = sink.app.isPaused
            let before = analysis.packets
            if !finished {
                outcome = analysis.run(into: &sink, until: monotonicNanoseconds() + sliceNanoseconds)
                if replay != nil { sink.app.status.packetsShown = analysis.packets }
            }
            // Redrawn when rows changed (a packet, or the clock settling something); ages move once a second below.
            if analysis.packets != before || sink.events != lastEvents { dirty = true }
            lastEvents = sink.events
            if outcome == .finished, !finished {
                finished = true
                dirty = true
                // Bad input loses nothing and says so: on screen now, on stderr once the terminal is back.
                if let h = handles.first(where: { $0.readError != nil }) {
                    sink.app.notify(h.isLive
                        ? "\(h.name): the capture ended (\(h.readError!)) after \(h.packetsRead) packets; showing what was read"
                        : "\(h.name): capture is cut off after \(h.packetsRead) packets; showing what was read", role: Role.rcodeError)
                }
            }
            if isLive, !isStream, !sink.app.isPaused { store.advance(to: realtimeNanoseconds()) }
            // 2. Draw, then keys. While data pours in, a redraw (which recomputes the rows on view) waits at least
            // 50 ms and four times what the last one cost: reading keeps 80 % of the time however many rows there are.
            let (w, h) = terminal.size
            let now = monotonicNanoseconds()
            if isLive || replay != nil, now - lastFigures >= 1_000_000_000 { dirty = true }
            if dirty, now - lastDraw >= max(50_000_000, 4 * drawCost) || (finished && now - lastDraw >= 50_000_000) {
                // Status: the counts at every draw; what costs (a sort for the percentiles, kernel counters) once a
                // second, and once more at the end.
                let figuresDue = now - lastFigures >= 1_000_000_000 || (finished && lastFigures >= 0)
                sink.app.update(summary: analysis.summary, percentiles: figuresDue)
                if figuresDue {
                    lastFigures = finished ? -1 : now
                    if let reader = (driver.feed as? LiveFeed)?.reader, let k = reader.kernelStats {
                        // Lost in the kernel, at the interface, or here when analysis fell too far behind.
                        sink.app.status.kernelDrops = Int(k.dropped) + Int(k.interfaceDropped) + reader.overflowDropped
                    }
                }
                sink.app.status.mode = isLive ? (finished ? "ended" : "live") : replay != nil ? (finished ? "replayed" : "replay ×\(InterfaceLoop.speed(command.replay!))") : finished ? "offline" : "loading"
                sink.app.status.progress = finished ? nil : progress()
                // The rows on view are recomputed at most once a second, and never more than a tenth of the time,
                // while rows pour in (rows already drawn update in place; new ones are appended off screen);
                // drawing, the status bar and the keys stay quick in between.
                // (Live and replayed, at most every 250 ms: evidence shows within a second of its packet.)
                let floor: Int64 = isLive || replay != nil ? 250_000_000 : 1_000_000_000
                let recompute = finished || now - lastRecompute >= max(floor, 10 * recomputeCost)
                sink.app.defersRecompute = !recompute
                sink.app.refresh(height: h)
                if recompute {
                    recomputeCost = monotonicNanoseconds() - now
                    lastRecompute = now
                }
                terminal.paint(sink.app.render(width: w, height: h))
                lastDraw = monotonicNanoseconds()
                drawCost = recompute ? 0 : lastDraw - now
                dirty = false
            }
            // More to read now (a file loading, a live capture behind): keys are only glanced at.
            let busy = outcome == .more
            var timeout: Int32 = busy ? 0 : (isLive || replay != nil ? 20 : 250)
            // Keys act on the rows as last drawn: no recompute per key while rows arrive.
            sink.app.defersRecompute = true
            while let input = terminal.read(milliseconds: timeout) {
                timeout = 0
                let (w, h) = terminal.size
                switch input {
                case .key("Ctrl-C"): return 0
                case .key(let key): sink.app.handle(key: key, height: h)
                case .mouse(let m): sink.app.handle(mouse: m, width: w, height: h)
                }
                sink.app.refresh(height: h)
                terminal.paint(sink.app.render(width: w, height: h))
                lastDraw = monotonicNanoseconds()
                if sink.app.wantsQuit { break }
            }
        }
        return 0
    }

    private func progress() -> Double? {
        let parts = handles.compactMap(\.progress)
        guard !parts.isEmpty, parts.count == handles.count else { return nil }
        return parts.reduce(0, +) / Double(parts.count)
    }

    static func speed(_ s: Double) -> String {
        s == s.rounded() ? String(Int(s)) : String(s)
    }

    /// `20261126-201500` in local time, for default export names.
    static func fileStamp() -> String {
        var t = time(nil)
        var parts = tm()
        localtime_r(&t, &parts)
        var buffer = [CChar](repeating: 0, count: 32)
        let n = strftime(&buffer, buffer.count, "%Y%m%d-%H%M%S", &parts)
        return String(decoding: buffer.prefix(n).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// The interface as a consumer of the evidence: rows to the app's store as they are proven, each packet that carried DNS
/// kept for Detail and the exports, and the end of the data moved on (a file's packet times; a replay's clock).
struct InterfaceSink: EvidenceSink {
    var app: App
    let packets: PacketStore
    /// Files read at full speed: the data's end is the last packet's time (live, the loop moves it on the clock).
    let followsPackets: Bool
    /// Live and replayed, a query's fate (answered, or lost) is shown the moment it is known, before its lookup
    /// settles. A file read at full speed settles it a moment later: the row is brought up to date once, then.
    let showsFates: Bool

    mutating func packetRead(_ packet: CapturedPacket, carriesDNS: Bool) {
        if carriesDNS { packets.keep(packet) }
        if followsPackets { app.store.advance(to: packet.timestamp.totalNanoseconds) }
    }

    /// Rows' events so far (a change to draw).
    private(set) var events = 0

    mutating func querySeen(_ sequence: Int, _ query: ObservedMessage, _ analysis: Analysis) {
        app.queryArrived(sequence, query, analysis)
        events &+= 1
    }

    mutating func matched(_ t: Transaction) {
        guard showsFates else { return }
        app.matched(t)
        events &+= 1
    }

    mutating func settled(_ t: Transaction) {
        app.add(t)
        events &+= 1
    }

    mutating func clock(_ now: Timestamp) {
        if !app.isPaused { app.store.advance(to: now.totalNanoseconds) }
    }
}
