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

    /// How far behind the clock a live capture's time is taken to be (a packet timestamped by the kernel may still be
    /// on its way to the reader).
    static let liveClockMargin: Int64 = 250_000_000

    /// Ingestion time per turn; the rest of the turn is drawing and keys.
    private let sliceNanoseconds: Int64 = 25_000_000

    mutating func run(_ pipeline: inout Pipeline, stop: () -> Bool) throws -> Int32 {
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
        let isLive = handles.first?.isLive == true
        var app = App(source: handles.map(\.name).joined(separator: " "), store: store)
        app.names = names
        app.packets = { packets[$0] }
        // Rows keep what the list needs; Detail and the exports decode their packets again.
        let configuration = pipeline.front.decoder.configuration
        store.rebuild = { packets.transaction(of: $0, configuration: configuration) }
        app.fileStamp = InterfaceLoop.fileStamp
        app.status.canPause = isLive || command.replay != nil
        // Live: a reader thread drains the kernel's buffer whatever this loop is doing (drawing, a key, a filter).
        let reader = isLive ? LiveReader(handles[0]) : nil
        reader?.start()
        defer { reader?.stop() }
        var liveBatch: [CapturedPacket] = []
        var liveIndex = 0

        let terminal: Terminal
        do { terminal = try Terminal() } catch { throw CommandError(error.description) }
        defer { terminal.close() }

        // Files: read and decoded a few batches ahead on a second thread (DecodeAhead); analysed here.
        let ahead = isLive ? nil : DecodeAhead(source: MergedSource(handles), stage: pipeline.front, limit: command.count)
        ahead?.start()
        defer { ahead?.stop() }
        var fileBatch: [DecodedPacket] = []
        var fileIndex = 0
        var fileStats: PacketStats?
        var replay = command.replay.map { Replay(speed: $0, startedAt: monotonicNanoseconds()) }
        var waiting: DecodedPacket?
        var exhausted = false, finished = false
        var seen = 0
        var lastDraw: Int64 = 0, lastFigures: Int64 = 0, drawCost: Int64 = 0
        var lastRecompute: Int64 = 0, recomputeCost: Int64 = 0
        var dirty = true
        var behind = false

        while !stop(), !app.wantsQuit {
            // 1. Packets, for one slice of time.
            let sliceEnd = monotonicNanoseconds() + sliceNanoseconds
            var ingested = 0
            behind = false
            var drained = false
            ingest: while !exhausted {
                if ingested & 255 == 255, monotonicNanoseconds() > sliceEnd {
                    behind = true
                    break
                }
                let item: DecodedPacket
                if let w = waiting {
                    item = w
                } else if let ahead {
                    if fileIndex == fileBatch.count {
                        if let done = fileStats { pipeline.updatePacketStats(done) }
                        guard let batch = ahead.next() else { exhausted = true; break }
                        // The batch done with, and the transactions made of it, are freed on the reading thread.
                        ahead.recycle(fileBatch, pipeline.takeSpent())
                        fileBatch = batch.packets
                        fileIndex = 0
                        fileStats = batch.stats
                    }
                    item = fileBatch[fileIndex]
                    fileIndex += 1
                } else if let reader {
                    if liveIndex == liveBatch.count {
                        switch reader.take() {
                        case .packets(let batch): liveBatch = batch; liveIndex = 0
                        case .idle: drained = true; break ingest
                        case .ended: exhausted = true; break ingest
                        }
                    }
                    item = pipeline.front.decode(liveBatch[liveIndex])
                    liveIndex += 1
                } else {
                    exhausted = true
                    break ingest
                }
                let packet = item.packet
                if var r = replay {
                    // At the recorded pace: hold the packet until its time comes (paused: the clock stops).
                    if app.isPaused || !r.isDue(packet.timestamp, now: monotonicNanoseconds()) {
                        r.pause(app.isPaused, now: monotonicNanoseconds())
                        replay = r
                        waiting = item
                        break ingest
                    }
                    r.pause(false, now: monotonicNanoseconds())
                    replay = r
                }
                waiting = nil
                var carriesDNS = false
                pipeline.consume(
                    item, onMessage: { _ in carriesDNS = true }, onQuery: { app.queryArrived($0, $1, $2) },
                    onMatched: { app.matched($0) }, onTransaction: { app.add($0) })
                if isLive { pipeline.updatePacketStats(pipeline.front.stats) }
                if carriesDNS { packets.keep(packet) }
                if !isLive { store.advance(to: packet.timestamp.totalNanoseconds) }
                ingested += 1
                seen += 1
                if replay != nil { app.status.packetsShown = seen }
                // (Files stop at the count in DecodeAhead.)
                if isLive, let limit = command.count, seen >= limit {
                    exhausted = true
                    reader?.stop()
                }
            }
            if ingested > 0 { dirty = true }
            if exhausted, !finished {
                if let ahead {
                    // The first stage comes back from the reader thread: finish flushes what it still holds.
                    ahead.stop()
                    if let done = fileStats { pipeline.updatePacketStats(done) }
                    pipeline.front = ahead.stage
                }
                pipeline.finish(onQuery: { app.queryArrived($0, $1, $2) }, onMatched: { app.matched($0) }, onTransaction: { app.add($0) })
                finished = true
                dirty = true
                // Bad input loses nothing and says so: on screen now, on stderr once the terminal is back.
                if let h = handles.first(where: { $0.readError != nil }) {
                    app.notify(h.isLive
                        ? "\(h.name): the capture ended (\(h.readError!)) after \(h.packetsRead) packets; showing what was read"
                        : "\(h.name): capture is cut off after \(h.packetsRead) packets; showing what was read", role: .rcodeError)
                }
            }
            // Time moves on without packets: a waiting query ages on screen, its window passes, a lookup whose last
            // answer came completes. Live, once the kernel's queue is drained, on the clock (less a margin for a packet
            // still on its way); a replay on its own clock, up to the next packet not yet due.
            if !finished {
                var clock: Int64?
                if isLive, drained { clock = realtimeNanoseconds() - InterfaceLoop.liveClockMargin }
                if let r = replay, let next = waiting, let now = r.captureTime(now: monotonicNanoseconds()) {
                    clock = min(now, next.packet.timestamp.totalNanoseconds - 1)
                }
                if let clock {
                    pipeline.tick(now: Timestamp(seconds: 0, nanoseconds: 0).addingNanoseconds(max(0, clock)), onMatched: { app.matched($0) }, onTransaction: { app.add($0) })
                    if !app.isPaused { store.advance(to: clock) }
                    dirty = true
                }
            }
            if isLive, !app.isPaused { store.advance(to: realtimeNanoseconds()) }

            // 2. Draw, then keys. While data pours in, a redraw (which recomputes the rows on view) waits at least
            // 50 ms and four times what the last one cost: reading keeps 80 % of the time however many rows there are.
            let (w, h) = terminal.size
            let now = monotonicNanoseconds()
            if isLive, now - lastFigures >= 1_000_000_000 { dirty = true }
            if dirty, now - lastDraw >= max(50_000_000, 4 * drawCost) || (exhausted && finished && now - lastDraw >= 50_000_000) {
                // Status: the counts at every draw; what costs (a sort for the percentiles, kernel counters) once a
                // second, and once more at the end.
                let figuresDue = now - lastFigures >= 1_000_000_000 || (finished && lastFigures >= 0)
                app.update(summary: pipeline.summary, percentiles: figuresDue)
                if figuresDue {
                    lastFigures = finished ? -1 : now
                    if let reader, let k = reader.kernelStats {
                        // Lost in the kernel, at the interface, or here when analysis fell too far behind.
                        app.status.kernelDrops = Int(k.dropped) + Int(k.interfaceDropped) + reader.overflowDropped
                    }
                }
                app.status.mode = isLive ? (finished ? "ended" : "live") : replay != nil ? (finished ? "replayed" : "replay ×\(InterfaceLoop.speed(command.replay!))") : finished ? "offline" : "loading"
                app.status.progress = finished ? nil : progress()
                // The rows on view are recomputed at most once a second, and never more than a tenth of the time,
                // while rows pour in (rows already drawn update in place; new ones are appended off screen);
                // drawing, the status bar and the keys stay quick in between.
                // (Live and replayed, at most every 250 ms: evidence shows within a second of its packet.)
                let floor: Int64 = isLive || replay != nil ? 250_000_000 : 1_000_000_000
                let recompute = finished && exhausted || now - lastRecompute >= max(floor, 10 * recomputeCost)
                app.defersRecompute = !recompute
                app.refresh(height: h)
                if recompute {
                    recomputeCost = monotonicNanoseconds() - now
                    lastRecompute = now
                }
                terminal.paint(app.render(width: w, height: h))
                lastDraw = monotonicNanoseconds()
                drawCost = recompute ? 0 : lastDraw - now
                dirty = false
            }
            let busy = !exhausted && (waiting == nil || app.isPaused == false) && (!isLive || behind) && replay == nil
            var timeout: Int32 = busy ? 0 : (isLive || replay != nil ? 20 : 250)
            // Keys act on the rows as last drawn: no recompute per key while rows arrive.
            app.defersRecompute = true
            while let input = terminal.read(milliseconds: timeout) {
                timeout = 0
                let (w, h) = terminal.size
                switch input {
                case .key("Ctrl-C"): return 0
                case .key(let key): app.handle(key: key, height: h)
                case .mouse(let m): app.handle(mouse: m, width: w, height: h)
                }
                app.refresh(height: h)
                terminal.paint(app.render(width: w, height: h))
                lastDraw = monotonicNanoseconds()
                if app.wantsQuit { break }
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

/// Plays packets at their recorded pace: packet time minus the first packet's time, divided by the speed, is when it
/// is due on the monotonic clock. A pause shifts the schedule by its length.
struct Replay {
    let speed: Double
    var startedAt: Int64
    var firstPacket: Int64?
    var pausedAt: Int64?

    init(speed: Double, startedAt: Int64) {
        self.speed = speed
        self.startedAt = startedAt
    }

    mutating func isDue(_ t: Timestamp, now: Int64) -> Bool {
        let ts = t.totalNanoseconds
        if firstPacket == nil { firstPacket = ts }
        let due = startedAt + Int64(Double(ts - firstPacket!) / speed)
        return now >= due
    }

    /// The capture time the replay has reached (nanoseconds since the epoch), before its first packet nil.
    func captureTime(now: Int64) -> Int64? {
        guard let first = firstPacket else { return nil }
        let clock = pausedAt ?? now
        return first + Int64(Double(max(0, clock - startedAt)) * speed)
    }

    mutating func pause(_ paused: Bool, now: Int64) {
        if paused, pausedAt == nil { pausedAt = now }
        if !paused, let p = pausedAt {
            startedAt += now - p
            pausedAt = nil
        }
    }
}

func monotonicNanoseconds() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
}

func realtimeNanoseconds() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
}
