import DNSFlowCapture
import DNSFlowCore
import Foundation
import Testing

/// The time limit of a test that would hang on the bug it guards (a FIFO blocking open(2), a stream that never ends,
/// work that grows without bound). Generous, because a test's time counts from when it is started, and a started test
/// may wait for a thread: on a 2-core machine the live and lab tests can hold both of the test run's threads (once, on
/// a fresh clone's first run, no test finished for a minute). The tests that measure their own run time check it on
/// the process they start.
let hangLimit: TimeLimitTrait = .timeLimit(.minutes(5))

/// The package root, found from this file's path.
let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
let fixturesDirectory = packageRoot.appendingPathComponent("Fixtures")
/// ../shared/corpus beside the checkout, when it exists.
let corpusDirectory = packageRoot.deletingLastPathComponent().appendingPathComponent("shared/corpus")
let corpusExists = FileManager.default.fileExists(atPath: corpusDirectory.appendingPathComponent("INDEX.tsv").path)

/// Everything the core made of one or more capture files.
struct Decoded {
    var messages: [ObservedMessage] = []
    var transactions: [Transaction] = []
    var summary = Summary()
    var diagnostics: [Diagnostic] = []
    var readErrors: [String] = []
}

func decode(_ paths: [String], ports: Set<UInt16> = [53], configure: (inout Pipeline.Configuration) -> Void = { _ in }) throws -> Decoded {
    var configuration = Pipeline.Configuration()
    configuration.decoder.ports = ports
    configure(&configuration)
    var pipeline = Pipeline(configuration: configuration)
    var out = Decoded()
    let handles = try paths.enumerated().map { try PcapHandle.openFile($0.element, input: $0.offset) }
    let source = MergedSource(handles)
    while let p = source.next() {
        pipeline.process(p, onMessage: { out.messages.append($0) }, onTransaction: { out.transactions.append($0) })
    }
    pipeline.finish(onMessage: { out.messages.append($0) }, onTransaction: { out.transactions.append($0) })
    out.summary = pipeline.summary
    out.diagnostics = pipeline.diagnostics
    out.readErrors = handles.compactMap(\.readError)
    return out
}

/// The built `dnsflow` binary, next to the test bundle.
var dnsflowBinary: URL {
    let exe = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
    return exe.deletingLastPathComponent().appendingPathComponent("dnsflow")
}

struct CommandResult {
    var status: Int32
    var stdout: String
    var stderr: String
}

/// Runs dnsflow with arguments (and optional stdin bytes), capturing everything.
func runDNSFlow(_ arguments: [String], stdin: Data? = nil, currentDirectory: URL? = nil) throws -> CommandResult {
    try runProcess(dnsflowBinary.path, arguments, stdin: stdin, currentDirectory: currentDirectory)
}

/// `environment`: the whole environment the process gets (nil: this one's).
func runProcess(_ executable: String, _ arguments: [String], stdin: Data? = nil, currentDirectory: URL? = nil,
                environment: [String: String]? = nil) throws -> CommandResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    if let currentDirectory { process.currentDirectoryURL = currentDirectory }
    if let environment { process.environment = environment }
    let out = Pipe(), inp = Pipe()
    // stderr goes to a file so that reading stdout to its end cannot deadlock on a full stderr pipe.
    let errURL = FileManager.default.temporaryDirectory.appendingPathComponent("dnsflow-test-\(UUID().uuidString).err")
    FileManager.default.createFile(atPath: errURL.path, contents: nil)
    defer { try? FileManager.default.removeItem(at: errURL) }
    let errHandle = try FileHandle(forWritingTo: errURL)
    process.standardOutput = out
    process.standardError = errHandle
    process.standardInput = stdin == nil ? FileHandle.nullDevice : inp
    try process.run()
    if let stdin {
        try inp.fileHandleForWriting.write(contentsOf: stdin)
        try inp.fileHandleForWriting.close()
    }
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    try errHandle.close()
    let errData = (try? Data(contentsOf: errURL)) ?? Data()
    return CommandResult(
        status: process.terminationStatus,
        stdout: String(decoding: outData, as: UTF8.self),
        stderr: String(decoding: errData, as: UTF8.self))
}

/// The reference for the threaded readers (`DecodeAhead`, `LiveReader`): fixture captures (`captures/NAME`, merged by
/// time) fed to the pipeline one packet at a time, at most `limit` packets; each transaction as its CSV row.
func rowsOnePacketAtATime(_ names: [String], limit: Int? = nil) throws -> (rows: [String], summary: Summary) {
    var pipeline = Pipeline()
    let handles = try names.enumerated().map {
        try PcapHandle.openFile(fixturesDirectory.appendingPathComponent("captures/\($0.element)").path, input: $0.offset)
    }
    let source = MergedSource(handles)
    var out: [String] = []
    var seen = 0
    while seen < (limit ?? .max), let p = source.next() {
        pipeline.process(p) { out.append(TransactionCSV.row($0)) }
        seen += 1
    }
    pipeline.finish { out.append(TransactionCSV.row($0)) }
    return (out, pipeline.summary)
}
