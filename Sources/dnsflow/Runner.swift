import DNSFlowCapture
import DNSFlowCore
import DNSFlowTUI
#if canImport(Glibc)
import Glibc
#endif

/// Handles to interrupt on SIGINT/SIGTERM (pcap_breakloop is safe in a signal handler).
nonisolated(unsafe) private var interruptibleHandles: [PcapHandle] = []
nonisolated(unsafe) private var stopRequested: sig_atomic_t = 0

/// Wires capture → pipeline → output for one invocation.
struct Runner {
    let command: DNSFlowCommand

    /// Returns the process exit status.
    func run() throws -> Int32 {
        var configuration = Pipeline.Configuration()
        configuration.decoder.ports = Set([53] + command.ports)
        configuration.matcher.windowSeconds = command.matchWindow
        configuration.sightingWindowNanoseconds = command.sightingWindow * 1_000_000
        // Flows feed --flows-csv and the CSV's flow column; the summary alone does not need them.
        configuration.tracksFlows = command.csv != nil || command.flowsCSV != nil || !command.summary
        // Only --flows-csv writes finished flows out; elsewhere (the interface groups its own) they are let go. Kept,
        // they piled up: a FlowStats with its latencies for every socket, and a sorted copy of the rest at the end.
        configuration.keepsFinishedFlows = command.flowsCSV != nil
        // Exact percentiles are the summary's of a file; the interface and the line printer, which may run for days,
        // count latencies in a histogram instead of keeping each one (16 bytes an answer, for ever), as a live summary
        // does (below).
        configuration.exactLatencies = command.summary
        // Records are written out by the CSV and the line printer only; elsewhere they are checked as they are parsed
        // and read again when shown (the interface's Detail reads its packets again anyway).
        configuration.recordsOnDemand = command.csv == nil && (command.summary || command.flowsCSV != nil || command.usesInterface)
        // Only the interface shows and exports packets' octets (Detail, `w`), and keeps them only when an input cannot
        // be read back (below).
        configuration.keepsPacketOctets = command.usesInterface
        let filter = command.expression.joined(separator: " ")
        let names = try command.namesFile.map { path throws(CommandError) in try NamesFile.load(path) } ?? AddressNames()
        configuration.names = names

        if command.replay != nil, !command.usesInterface {
            throw CommandError("--replay plays a capture in the interface: it needs a terminal on standard output, and no --csv, --flows-csv, --summary or --no-ui")
        }

        // Open everything before writing anything: a bad input or filter leaves no output behind.
        var handles: [PcapHandle] = []
        if let device = command.interface {
            var options = PcapHandle.LiveOptions()
            options.snaplen = command.snaplen
            options.bufferKiB = command.bufferSize
            options.promiscuous = !command.noPromiscuous
            let handle = try PcapHandle.openLive(device, input: 0, options: options)
            // In the kernel, keep only what can be DNS: the DNS ports, and IP fragments (no ports to see).
            let portFilter = "(" + configuration.decoder.ports.sorted().map { "port \($0)" }.joined(separator: " or ")
                + " or (ip[6:2] & 0x1fff != 0) or (ip6 and ip6[6] == 44))"
            try handle.setFilter(filter.isEmpty ? portFilter : "\(portFilter) and (\(filter))")
            handles.append(handle)
        } else {
            for (i, path) in command.files.enumerated() {
                let handle = try PcapHandle.openFile(path, input: i)
                if !filter.isEmpty { try handle.setFilter(filter) }
                handles.append(handle)
            }
        }
        // The interface reads packets back from their files (Detail, exports): opened now, while they can be.
        let packets = command.usesInterface ? PacketStore(capacity: command.maxQueries * 3, handles: handles) : nil
        // Files it reads back: the interface needs no packet's octets once decoded (a message then takes its payload
        // over, as in the batch outputs, where each was a copy).
        if packets?.readsEveryInputAgain == true { configuration.keepsPacketOctets = false }
        // Root is needed to open an interface, and for nothing after: give it up before reading a byte, and before
        // creating any file (which is then the user's).
        if let account = try Privileges.target(requested: command.user, environment: Privileges.sudoEnvironment,
                                               euid: geteuid()) {
            try Privileges.drop(to: account)
        }
        try Privileges.dropCapabilities()
        if let path = command.writeFile {
            if standardOutputWasClosed { throw CommandError("standard output is closed: nothing to write the packets to") }
            installSignalHandlers(handles)
            if handles[0].isLive {
                printError("listening on \(handles[0].name), link-type \(handles[0].linkType), snapshot length \(command.snaplen) bytes")
            }
            let written = try handles[0].write(to: path, limit: command.count, stop: { stopRequested != 0 })
            if handles[0].isLive { printError("\(written) packets written") }
            return reportInputProblems(handles, Summary()) ?? 0
        }
        // Standard output closed (`>&-`): an output meant for it is refused before any file is made.
        let linesWanted = command.csv == nil && command.flowsCSV == nil && !command.summary
        if standardOutputWasClosed, linesWanted || command.csv == "-" || command.flowsCSV == "-" || command.summary {
            throw CommandError("standard output is closed: nothing to write \(linesWanted ? "the lines" : command.summary ? "the summary" : "the CSV") to; write to a file (--csv FILE, --flows-csv FILE) or leave standard output open")
        }
        let csvOutput = try command.csv.map { path throws(CommandError) in try OutputFile(path: path) }
        let flowsOutput: OutputFile?
        do throws(CommandError) {
            flowsOutput = try command.flowsCSV.map { path throws(CommandError) in try OutputFile(path: path) }
        } catch {
            // The first output's file beside its target goes too.
            csvOutput?.abandon()
            throw error
        }
        let stdout = OutputFile.standardOutput()
        let printsLines = csvOutput == nil && flowsOutput == nil && !command.summary
        let isLive = handles.first?.isLive == true
        // Pipes of pcap (standard input, FIFOs, ssh, the kubectl plugin's streams): read as they come, like a live
        // capture, several merged as they arrive.
        let isStream = !handles.isEmpty && handles.allSatisfy(\.isStream) && command.replay == nil

        // Before any thread starts: threads inherit the signal mask the handlers' set-up unblocks.
        installSignalHandlers(handles)
        // Packets are read and decoded on a second thread (DecodeAhead for files, LiveReader for live captures and
        // streams), which also frees what the analysis is done with.
        configuration.handsBackSpent = true
        // Live (and replayed), the interface draws a pair's bracket as soon as its packets prove its state. A file read
        // at full speed settles each query a moment after it is read: there, a row shows its query at once and the
        // rest once it settles (`InterfaceSink.showsFates`).
        configuration.provisionalPairStates = command.usesInterface && (isLive || isStream || command.replay != nil)
        // A live capture or a stream runs for as long as it is let: its summary counts latencies in histograms too, and
        // so does a flow beyond its first 1,024 answers (figures within 0.05 %, shown to three digits), where keeping
        // each one grew without end (16 bytes an answer for the summary, 8 for the flow).
        if isLive || isStream {
            configuration.exactLatencies = false
            configuration.exactFlowLatencies = false
        }
        configuration.capturesAtOnePoint = handles.count == 1 && handles[0].isOnePoint
        let pipeline = Pipeline(configuration: configuration)
        let feed: PacketFeed
        if isLive || isStream {
            feed = LiveFeed(streams: handles, stage: pipeline.front, limit: command.count)
        } else if let speed = command.replay {
            feed = ReplayFeed(FileFeed(handles, stage: pipeline.front, limit: command.count), speed: speed)
        } else {
            // Files read at full speed: no clock moves matching between packets, so the decoding thread can match
            // too, ahead of the analysis (the busier thread), where the decoding thread has room to spare: `--summary`
            // and the lines (two threads), `--flows-csv` (its writer has little to do). With a busy third thread —
            // the CSV's writer, the interface's rows — matching there cost more than it saved.
            var stage = pipeline.front
            if !command.usesInterface, command.csv == nil { stage.matchAhead(configuration.matcher) }
            feed = FileFeed(handles, stage: stage, limit: command.count)
        }
        let driver = Driver(pipeline: pipeline, feed: feed)

        if command.usesInterface {
            var loop = InterfaceLoop(command: command, handles: handles, names: names, packets: packets!)
            let status = try loop.run(driver, stop: { stopRequested != 0 })
            reportStop(handles, driver.pipeline.summary)
            return reportInputProblems(handles, driver.pipeline.summary) ?? status
        }
        if isLive {
            printError("listening on \(handles[0].name), link-type \(handles[0].linkType), snapshot length \(command.snaplen) bytes")
        }
        var outputs = BatchOutputs(
            csv: csvOutput.map { CSVSink($0, names: names) }, flows: flowsOutput.map { FlowsSink($0, names: names) },
            lines: printsLines ? LinesSink(stdout, names: names, isLive: isLive || isStream) : nil)
        // Live, packets are analysed as they come (idle, the clock moves the analysis on); files to their end.
        // Interrupted: reading stops, and what was already read is still analysed (nothing counted goes missing).
        driver.shouldStop = { stopRequested != 0 || outputFailed != 0 }
        while true {
            if driver.shouldStop() { driver.stop() }
            let outcome = driver.run(into: &outputs, waitingUpTo: isLive || isStream ? 100 : 0)
            if outcome == .finished { break }
            if printsLines { stdout.flush() }
        }
        outputs.flush()
        for note in outputs.outOfOrder {
            printError("\(note) written after later ones: more rows waited for an earlier one than dnsflow holds (\(maxWaitingRowBytes >> 20) MiB)")
        }
        let pipelineDone = driver.pipeline
        let queueDropped = (feed as? LiveFeed)?.reader.overflowDropped ?? 0

        var notes: [(key: String, value: Int)] = []
        for h in handles {
            if let k = h.kernelStats() {
                notes.append((key: "kernel_received", value: Int(k.received)))
                notes.append((key: "kernel_dropped", value: Int(k.dropped)))
                notes.append((key: "interface_dropped", value: Int(k.interfaceDropped)))
                notes.append((key: "behind_dropped", value: queueDropped))
            }
        }
        let truncated = handles.filter { $0.readError != nil }
        notes.append((key: "truncated_inputs", value: truncated.count))

        if command.summary {
            let report = SummaryReport(summary: pipelineDone.summary, inputNames: handles.map(\.name), captureNotes: notes)
            let target = command.csv == "-" || command.flowsCSV == "-" ? OutputFile(stderr: ()) : stdout
            target.write(command.json ? report.json : report.text)
            target.flush()
        } else if let h = handles.first, h.isLive, let k = h.kernelStats() {
            let behind = queueDropped > 0 ? ", \(queueDropped) dropped by dnsflow (analysis fell behind)" : ""
            printError("\(pipelineDone.summary.packet.packets) packets captured, \(k.received) received by filter, \(k.dropped) dropped by kernel\(behind)")
        }
        stdout.flush()
        // An output that could not be written stopped the run: no file is left half written, and it says why.
        let files = [csvOutput, flowsOutput].compactMap { $0 }
        if outputFailed != 0 {
            let failing = (files + [stdout]).first { $0.failure != nil }
            for f in files { f.abandon() }
            throw failing?.failureError ?? CommandError("cannot write the output")
        }
        // All complete before any is put in place: one that fails leaves none behind.
        do throws(CommandError) {
            for f in files { try f.prepare() }
            for f in files { try f.publish() }
        } catch {
            for f in files { f.abandon() }
            throw error
        }

        reportStop(handles, pipelineDone.summary)
        return reportInputProblems(handles, pipelineDone.summary) ?? 0
    }

    /// A file read stopped by a signal says so (a live capture ends that way anyway, and prints its counts).
    private func reportStop(_ handles: [PcapHandle], _ summary: Summary) {
        guard stopRequested != 0, handles.first?.isLive != true else { return }
        let name = [SIGINT: "SIGINT", SIGTERM: "SIGTERM", SIGHUP: "SIGHUP", SIGQUIT: "SIGQUIT"][stopRequested] ?? "signal \(stopRequested)"
        printError("stopped by \(name) after \(summary.packet.packets) packets; what was read is complete in the output")
    }

    /// Unsupported link types and cut-off captures, on stderr; 2 when an input was cut off.
    private func reportInputProblems(_ handles: [PcapHandle], _ summary: Summary) -> Int32? {
        for link in summary.unsupportedLinkTypes.keys.sorted(by: { $0.input < $1.input }) {
            printError("\(handles[link.input].name): link type \(link.linkType) (\(link.linkType.rawValue)) is not supported; its packets were counted, not decoded")
        }
        for h in handles where h.clampedTimestamps > 0 {
            printError("\(h.name): \(h.clampedTimestamps) packet\(h.clampedTimestamps == 1 ? "" : "s") with a time outside 1970-01-01 to 2223-07-06, read as the nearest end of that range")
        }
        let truncated = handles.filter { $0.readError != nil }
        for h in truncated {
            let what = h.isLive ? "the capture ended" : "capture is cut off"
            printError("\(h.name): \(what) after \(h.packetsRead) packets (libpcap: \(h.readError!)); the output covers what was read")
        }
        return truncated.isEmpty ? nil : 2
    }

    private func installSignalHandlers(_ handles: [PcapHandle]) {
        interruptibleHandles = handles
        let handler: @convention(c) (Int32) -> Void = { signal in
            stopRequested = signal
            for h in interruptibleHandles { h.breakLoop() }
            // The file reader may be blocked in read(2) on a pipe: the signal, sent on to it, cuts that read short.
            let reader = DecodeAhead.readingThread
            if reader != 0, pthread_equal(reader, pthread_self()) == 0 { pthread_kill(reader, signal) }
        }
        // Without SA_RESTART, so that a blocked read returns EINTR. SIGHUP: the terminal or the ssh session went
        // away; it ends the run as SIGTERM does (outputs written, terminal restored). SIGQUIT (Ctrl-\) too: the Swift
        // runtime's own handler would print a crash report over the interface and leave the program running.
        var action = sigaction()
        action.__sigaction_handler.sa_handler = handler
        sigemptyset(&action.sa_mask)
        action.sa_flags = 0
        for s in [SIGINT, SIGTERM, SIGHUP, SIGQUIT] { sigaction(s, &action, nil) }
        signal(SIGPIPE, SIG_IGN)
        // A parent may have left these blocked (test runners, some supervisors): Ctrl-C must still stop us.
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGINT)
        sigaddset(&set, SIGTERM)
        sigaddset(&set, SIGHUP)
        sigaddset(&set, SIGQUIT)
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
    }
}
