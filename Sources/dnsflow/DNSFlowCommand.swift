import ArgumentParser
import CBuildInfo
import DNSFlowCapture
import DNSFlowCore
#if canImport(Glibc)
import Glibc
#endif

@main
struct DNSFlowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dnsflow",
        abstract: "DNS packet inspector: every query with its answer and latency, from a capture or an interface.",
        discussion: """
            Reads captures (pcap, pcapng; several are merged by time) or captures live, decodes DNS over UDP and \
            TCP, matches queries to responses, and analyses them: re-sends, A/AAAA pairs, search-list \
            resolutions, flows, and findings that name the cause (conntrack race, ndots expansion, TC fallback, \
            lost between capture points, …). With --csv, --flows-csv or --summary it runs in batch. Otherwise, on \
            a terminal, it opens a full-screen interface (queries grouped by flow, flows, timeline, findings; ? \
            lists the keys); when the output is not a terminal, or with --no-ui, it prints one line per query.

            Examples:
              dnsflow -r capture.pcap --summary
              dnsflow -r node1.pcap -r node2.pcapng --csv out.csv --names cluster.json
              ssh node tcpdump -U -w - port 53 | dnsflow -r -
              nsenter -t PID -n dnsflow -i eth0 --csv -
              dnsflow -i any host 198.18.0.10
            """,
        version: DNSFlowCommand.versionLine
    )

    /// This release's version; `--version` prints it with the commit it was built from.
    static let version = "0.18.0"
    static var versionLine: String { "dnsflow \(version) (commit \(String(cString: dnsflow_commit())))" }

    @Option(name: .customShort("r"), help: ArgumentHelp("Read packets from a pcap/pcapng file (- for stdin). Repeatable; inputs are merged by timestamp.", valueName: "file"))
    var files: [String] = []

    @Option(name: .customShort("i"), help: ArgumentHelp("Capture live on an interface (any for all).", valueName: "interface"))
    var interface: String?

    @Option(name: .customShort("s"), help: ArgumentHelp("Snapshot length for live capture.", valueName: "snaplen"))
    var snaplen: Int32 = 262_144

    @Option(name: .customShort("B"), help: ArgumentHelp("Kernel capture buffer size in KiB (live; default 16384).", valueName: "KiB"))
    var bufferSize: Int32?

    @Flag(name: .customShort("p"), help: "Do not put the interface into promiscuous mode.")
    var noPromiscuous = false

    @Option(name: .customShort("w"), help: ArgumentHelp("Write the packets (the DNS ports, and the filter's) to standard output as pcap instead of analysing them (-w -; flushed per packet: a stream for dnsflow -r - elsewhere).", valueName: "-"))
    var writeFile: String?

    @Option(name: .customShort("c"), help: ArgumentHelp("Stop after this many packets.", valueName: "count"))
    var count: Int?

    @Option(name: .customLong("port"), help: ArgumentHelp("Also treat this UDP/TCP port as DNS (53 always is). Repeatable.", valueName: "port"))
    var ports: [UInt16] = []

    @Option(name: .customLong("csv"), help: ArgumentHelp("Write one row per query (and orphan response) to this file (- for stdout).", valueName: "out"))
    var csv: String?

    @Option(name: .customLong("names"), help: ArgumentHelp("Label addresses: the JSON of `kubectl get pods,services -A -o json`, or an /etc/hosts-style file.", valueName: "file"))
    var namesFile: String?

    @Option(name: .customLong("flows-csv"), help: ArgumentHelp("Write one row per flow (5-tuple: queries, answered, unanswered, retries, latency percentiles) to this file (- for stdout).", valueName: "out"))
    var flowsCSV: String?

    @Flag(name: .customLong("summary"), help: "Print totals: packets, messages, queries, answered, unanswered, malformed, latency percentiles.")
    var summary = false

    @Flag(name: .customLong("json"), help: "With --summary: print the totals as one JSON object.")
    var json = false

    @Option(name: .customLong("match-window"), help: ArgumentHelp("Seconds a query waits for its response.", valueName: "seconds"))
    var matchWindow: Int64 = 60

    @Option(name: .customLong("sighting-window"), help: ArgumentHelp("Milliseconds within which the same message seen at another point (interface, input, NAT) is one message seen twice; 0 turns folding off.", valueName: "ms"))
    var sightingWindow: Int64 = 50

    @Flag(name: .customLong("no-ui"), help: "Print one line per query even on a terminal (the default when the output is not a terminal).")
    var noUI = false

    @Option(name: .customLong("replay"), help: ArgumentHelp("Interface: play the capture at its recorded pace, times SPEED (--replay alone: 1).", valueName: "speed"))
    var replay: Double?

    @Option(name: .customLong("max-queries"), help: ArgumentHelp("Interface: rows to keep; beyond it the oldest are evicted (and counted).", valueName: "n"))
    var maxQueries = 200_000

    @Option(name: .customShort("Z"), help: ArgumentHelp("Once the capture is open, run as this user (as tcpdump -Z). Started as root by sudo, dnsflow runs as the user who ran sudo by default; -Z root keeps root.", valueName: "user"))
    var user: String?

    @Argument(parsing: .remaining, help: ArgumentHelp("A BPF filter expression, as in tcpdump.", valueName: "expression"))
    var expression: [String] = []

    func validate() throws {
        if !files.isEmpty && interface != nil { throw ValidationError("-r and -i cannot be used together: read files or capture live, not both") }
        if files.isEmpty && interface == nil { throw ValidationError("nothing to read: give -r FILE (or -r - for stdin) or -i INTERFACE") }
        if files.filter({ $0 == "-" }).count > 1 { throw ValidationError("standard input (-r -) can be read only once") }
        if csv == "-" && flowsCSV == "-" { throw ValidationError("--csv and --flows-csv cannot both write to standard output") }
        if json && !summary { throw ValidationError("--json goes with --summary") }
        if ports.contains(0) { throw ValidationError("--port must be 1-65535") }
        if snaplen < 64 || snaplen > 262_144 { throw ValidationError("-s must be between 64 and 262144") }
        if let count, count <= 0 { throw ValidationError("-c must be positive") }
        if matchWindow <= 0 { throw ValidationError("--match-window must be positive") }
        if let replay, !(replay > 0 && replay <= 10_000) { throw ValidationError("--replay speed must be above 0 and at most 10000") }
        if replay != nil && interface != nil { throw ValidationError("--replay plays files (-r); a live capture already runs at its own pace") }
        if maxQueries < 100 { throw ValidationError("--max-queries must be at least 100") }
        if sightingWindow < 0 || sightingWindow > 10_000 { throw ValidationError("--sighting-window must be 0-10000 ms") }
        if writeFile != nil {
            if csv != nil || flowsCSV != nil || summary || replay != nil {
                throw ValidationError("-w writes the packets themselves: it goes without --csv, --flows-csv, --summary and --replay")
            }
            if files.count > 1 { throw ValidationError("-w copies one input: give -i INTERFACE or one -r FILE") }
            if writeFile != "-" { throw ValidationError("-w writes to standard output only (-w -): redirect it to keep a file") }
        }
    }

    /// `--replay` may stand alone (speed 1), as `--replay=SPEED`, or with the speed as the next argument.
    static func main() {
        openClosedStandardDescriptors()
        var arguments = Array(CommandLine.arguments.dropFirst())
        var i = 0
        while i < arguments.count, arguments[i] != "--" {
            if arguments[i] == "--replay", i + 1 == arguments.count || Double(arguments[i + 1]) == nil {
                arguments[i] = "--replay=1"
            }
            i += 1
        }
        main(arguments)
    }

    /// The full-screen interface: no batch output asked for, and a terminal to draw on.
    var usesInterface: Bool {
        csv == nil && flowsCSV == nil && !summary && !noUI && isatty(1) != 0
    }

    func run() throws {
        do {
            let code = try Runner(command: self).run()
            if code != 0 { throw ExitCode(code) }
        } catch let error as CommandError {
            printError(error.description)
            throw ExitCode(error.status)
        } catch let error as CaptureError {
            printError(error.description)
            throw ExitCode(1)
        }
    }
}
