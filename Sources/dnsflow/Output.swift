import DNSFlowTUI
#if canImport(Glibc)
import Glibc
#endif

nonisolated(unsafe) let standardOutputStream: UnsafeMutablePointer<FILE> = fdopen(1, "w")
nonisolated(unsafe) let standardErrorStream: UnsafeMutablePointer<FILE> = fdopen(2, "w")

/// Buffered writes to a C stream; a file output is written beside its target and renamed into place
/// only when complete, so an error never leaves half a file.
final class OutputFile {
    private let stream: UnsafeMutablePointer<FILE>
    private let finalPath: String?
    private let temporaryPath: String?
    private var buffer: [UInt8] = []
    private var failed = false
    /// Opened here on a device or pipe (closed on commit), not a standard stream.
    private var ownsStream = false


    /// `-` is standard output.
    init(path: String) throws(CommandError) {
        if path == "-" {
            stream = standardOutputStream
            finalPath = nil
            temporaryPath = nil
        } else if AtomicFile.isSpecial(path) {
            // A device or a pipe (/dev/null, /dev/stdout, a FIFO): written in place. Renaming a file over it
            // would replace /dev/null with a regular file.
            guard let f = fopen(path, "wb") else {
                throw CommandError("\(path): cannot write: \(String(cString: strerror(errno)))")
            }
            stream = f
            finalPath = nil
            temporaryPath = nil
            ownsStream = true
        } else {
            let tmp = path + ".part-\(getpid())"
            guard let f = fopen(tmp, "wb") else {
                throw CommandError("\(path): cannot write: \(String(cString: strerror(errno)))")
            }
            stream = f
            finalPath = path
            temporaryPath = tmp
        }
        buffer.reserveCapacity(1 << 16)
    }

    private init(stream: UnsafeMutablePointer<FILE>) {
        self.stream = stream
        finalPath = nil
        temporaryPath = nil
    }

    static func standardOutput() -> OutputFile { OutputFile(stream: standardOutputStream) }

    convenience init(stderr: Void) { self.init(stream: standardErrorStream) }

    func write(_ s: String) {
        buffer.append(contentsOf: s.utf8)
        if buffer.count >= 1 << 16 { flush() }
    }

    func flush() {
        guard !buffer.isEmpty else { return }
        let n = buffer.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, stream) }
        if n != buffer.count { failed = true }
        buffer.removeAll(keepingCapacity: true)
        fflush(stream)
    }

    /// Flushes and, for a file, renames it into place.
    func commit() throws(CommandError) {
        flush()
        guard let finalPath, let temporaryPath else {
            if ownsStream, fclose(stream) != 0 { failed = true }
            if failed { throw CommandError("cannot write the output: \(String(cString: strerror(errno)))") }
            return
        }
        let closed = fclose(stream)
        guard !failed, closed == 0, rename(temporaryPath, finalPath) == 0 else {
            unlink(temporaryPath)
            throw CommandError("\(finalPath): cannot write: \(String(cString: strerror(errno)))")
        }
    }

    /// Drops a partial file.
    func abandon() {
        guard let temporaryPath else { return }
        fclose(stream)
        unlink(temporaryPath)
    }
}

struct CommandError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

func printError(_ message: String) {
    fputs("dnsflow: \(message)\n", standardErrorStream)
    fflush(standardErrorStream)
}
