import DNSFlowCore
import DNSFlowTUI
#if canImport(Glibc)
import Glibc
#endif

nonisolated(unsafe) let standardOutputStream: UnsafeMutablePointer<FILE> = standardStream(1)
nonisolated(unsafe) let standardErrorStream: UnsafeMutablePointer<FILE> = standardStream(2)
/// Standard output was closed when dnsflow started (`>&-`): nothing may be written there (it is /dev/null now).
nonisolated(unsafe) var standardOutputWasClosed = false

/// Descriptors 1 and 2 closed by the caller (`>&-`, `2>&-`) are opened on /dev/null before anything else opens a file:
/// otherwise the next file opened gets descriptor 1 or 2 and standard output or error is written into it, and the C
/// streams on them cannot be made (the trap this replaced).
func openClosedStandardDescriptors() {
    for fd: Int32 in [1, 2] where fcntl(fd, F_GETFD) < 0 {
        if fd == 1 { standardOutputWasClosed = true }
        let null = open("/dev/null", O_WRONLY)
        if null >= 0, null != fd {
            dup2(null, fd)
            close(null)
        }
    }
}

/// A C stream on descriptor 1 or 2; where none can be made (closed, and no /dev/null to open), one that writes nowhere.
private func standardStream(_ fd: Int32) -> UnsafeMutablePointer<FILE> {
    fdopen(fd, "w") ?? fmemopen(nil, 4096, "w") ?? fopen("/", "r")!
}
/// Set when an output could not be written (a full disk, a closed pipe): reading stops, as on SIGINT, since nothing
/// more can be written (read by the run loops beside `stopRequested`).
nonisolated(unsafe) var outputFailed: sig_atomic_t = 0

/// Buffered writes to a C stream; a file output is written beside its target and renamed into place
/// only when complete, so an error never leaves half a file.
final class OutputFile {
    private let stream: UnsafeMutablePointer<FILE>
    private let finalPath: String?
    private let temporaryPath: String?
    /// (One thread writes at a time — the run's, or a `RowWriter`'s from its start to its end —: not checked for
    /// overlapping access at run time, a check at every row.)
    @exclusivity(unchecked) private var buffer: [UInt8] = []
    /// The first write error (errno), kept: the message names it, not whatever errno holds by the end.
    private(set) var failure: Int32?
    /// What to say instead of the system's text for `failure`.
    private var reason: String?
    private var failed: Bool { failure != nil }
    /// Committed or abandoned: the stream is closed.
    private var finished = false
    /// Opened here on a device or pipe (closed on commit), not a standard stream.
    private var ownsStream = false


    /// What messages call it: the path given, or standard output.
    private var name = "standard output"

    /// `-` is standard output; `/dev/stdout`, `/dev/stderr`, `/dev/fd/N` and `/proc/self/fd/N` are the descriptors
    /// they name, written through (never a file renamed over the name: as root that would replace `/dev/stdout`).
    init(path: String) throws(CommandError) {
        if path != "-" { name = path }
        if let descriptor = try OutputFile.descriptor(named: path) {
            guard fcntl(descriptor, F_GETFD) >= 0 else {
                throw CommandError("\(path): descriptor \(descriptor) is not open")
            }
            if descriptor == 1 {
                stream = standardOutputStream
            } else {
                // A descriptor of its own, so that closing this output leaves the one the shell opened alone.
                let fd = fcntl(descriptor, F_DUPFD_CLOEXEC, 3)
                guard fd >= 0 else { throw CommandError("\(path): cannot write: \(String(cString: strerror(errno)))") }
                var st = stat()
                guard fstat(fd, &st) == 0, st.st_mode & S_IFMT != S_IFBLK, st.st_mode & S_IFMT != S_IFDIR,
                      let f = fdopen(fd, "w") else {
                    close(fd)
                    throw CommandError("\(path): not a file, a pipe or a terminal; give a file name")
                }
                stream = f
                ownsStream = true
            }
            finalPath = nil
            temporaryPath = nil
        } else if OutputFile.isLink(path) {
            // dnsflow often runs as root: a link planted where the output goes would send it anywhere.
            throw CommandError("\(path) is a symbolic link: dnsflow does not write through links; give the file's own path")
        } else if AtomicFile.isSpecial(path) {
            // A device or a pipe (/dev/null, a FIFO): written in place. Renaming a file over it would replace
            // /dev/null with a regular file. Never a disk (a block device) or a directory. Opened without waiting: a
            // FIFO nobody reads would otherwise hold dnsflow in open(2) before it reads anything.
            let fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK)
            var st = stat()
            guard fd >= 0, fstat(fd, &st) == 0 else {
                let code = errno
                if fd >= 0 { close(fd) }
                if code == ENXIO { throw CommandError("\(path): a FIFO nobody reads: start its reader first") }
                throw CommandError("\(path): cannot write: \(String(cString: strerror(code)))")
            }
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)
            guard st.st_mode & S_IFMT != S_IFBLK, st.st_mode & S_IFMT != S_IFDIR, let f = fdopen(fd, "w") else {
                close(fd)
                throw CommandError("\(path): not a file, a pipe or a terminal; give a file name")
            }
            stream = f
            finalPath = nil
            temporaryPath = nil
            ownsStream = true
        } else {
            // Beside the target, created new (never an existing file or a link someone put there), renamed over the
            // target when complete (rename replaces a link itself, never what it points to).
            var opened: (UnsafeMutablePointer<FILE>, String)?
            for n in 0..<100 where opened == nil {
                let tmp = path + ".part-\(getpid())" + (n == 0 ? "" : "-\(n)")
                let fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o666)
                if fd < 0 {
                    if errno == EEXIST { continue }
                    throw CommandError("\(path): cannot write: \(String(cString: strerror(errno)))")
                }
                // Replacing a file: its mode and owner stay.
                AtomicFile.keepAttributes(of: path, on: fd)
                guard let f = fdopen(fd, "w") else {
                    close(fd)
                    unlink(tmp)
                    throw CommandError("\(path): cannot write: \(String(cString: strerror(errno)))")
                }
                opened = (f, tmp)
            }
            guard let (f, tmp) = opened else { throw CommandError("\(path): cannot write: no free temporary name beside it") }
            stream = f
            finalPath = path
            temporaryPath = tmp
        }
        buffer.reserveCapacity(1 << 16)
    }

    static func isLink(_ path: String) -> Bool { AtomicFile.isLink(path) }

    /// The descriptor a path names when it is one of the usual names of an open descriptor, which the user means
    /// to write through: `-` and `/dev/stdout` (1), `/dev/stderr` (2), `/dev/fd/N`, `/proc/self/fd/N`. Nil for any
    /// other path; such a name that names no descriptor (`/dev/fd/x`) is refused.
    static func descriptor(named path: String) throws(CommandError) -> Int32? {
        switch path {
        case "-", "/dev/stdout": return 1
        case "/dev/stderr": return 2
        case "/dev/stdin": return 0
        default: break
        }
        for prefix in ["/dev/fd/", "/proc/self/fd/", "/proc/thread-self/fd/"] where path.hasPrefix(prefix) {
            let digits = path.dropFirst(prefix.count)
            guard !digits.isEmpty, digits.count <= 9, digits.allSatisfy({ $0.isASCII && $0.isNumber }), let n = Int32(digits) else {
                throw CommandError("\(path): names no open descriptor; give a file name")
            }
            return n
        }
        return nil
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

    func write(_ octets: borrowing OctetBuffer) {
        octets.withUnsafeBytes { buffer.append(contentsOf: $0) }
        if buffer.count >= 1 << 16 { flush() }
    }

    func flush() {
        guard !buffer.isEmpty else { return }
        guard !failed else {
            buffer.removeAll(keepingCapacity: true)
            return
        }
        // Signals are handled without SA_RESTART (to cut a blocked read short): a write they interrupt goes on.
        var written = 0
        while written < buffer.count {
            written += buffer.withUnsafeBytes { fwrite($0.baseAddress! + written, 1, $0.count - written, stream) }
            guard written < buffer.count else { break }
            if errno == EINTR {
                clearerr(stream)
                continue
            }
            fail(errno)
            break
        }
        buffer.removeAll(keepingCapacity: true)
        guard !failed else { return }
        while fflush(stream) != 0 {
            guard errno == EINTR else {
                fail(errno)
                break
            }
            clearerr(stream)
        }
    }

    private func fail(_ code: Int32) {
        guard failure == nil else { return }
        failure = code == 0 ? EIO : code
        outputFailed = 1
    }

    /// What to tell and the exit status, when writing failed. A closed pipe on standard output (`dnsflow … | head`)
    /// ends as a program killed by SIGPIPE would (141).
    var failureError: CommandError? {
        guard let failure else { return nil }
        if failure == EPIPE, finalPath == nil {
            return CommandError("output closed (broken pipe): stopped reading", status: 128 + SIGPIPE)
        }
        return CommandError("\(name): cannot write: \(reason ?? String(cString: strerror(failure)))"
            + (finalPath == nil ? "" : "; nothing was left behind"))
    }

    /// Flushes and, for a file, renames it into place.
    func commit() throws(CommandError) {
        try prepare()
        try publish()
    }

    /// Prepared (`prepare`): complete and closed beside its target, to be renamed into place.
    private var prepared = false

    /// Everything but putting the file in place: flushed, synced, closed, its target checked. Several outputs are all
    /// prepared before any is published: one that fails leaves none of them behind.
    func prepare() throws(CommandError) {
        flush()
        guard !finished else { return }
        finished = true
        guard let finalPath, temporaryPath != nil else {
            if ownsStream, fclose(stream) != 0 { fail(errno) }
            if let failureError { throw failureError }
            return
        }
        // fsync: a full disk shows here for data the page cache took, before the file is put in place.
        // (EINTR, from a signal handled without SA_RESTART: fsync is tried again; close on Linux has closed anyway.)
        while !failed, fsync(fileno(stream)) != 0 {
            if errno != EINTR { fail(errno) }
        }
        if fclose(stream) != 0, errno != EINTR { fail(errno) }
        // Never renamed over a link or a device: the target checked when opened may have changed since.
        if !failed, !AtomicFile.isReplaceable(finalPath) {
            fail(EEXIST)
            reason = "it is no longer a regular file (a link or a device was put there)"
        }
        if let failureError {
            if let temporaryPath { unlink(temporaryPath) }
            throw failureError
        }
        prepared = true
    }

    /// Puts a prepared file in place.
    func publish() throws(CommandError) {
        guard prepared, let finalPath, let temporaryPath else { return }
        prepared = false
        if rename(temporaryPath, finalPath) != 0 {
            fail(errno)
            unlink(temporaryPath)
            if let failureError { throw failureError }
        }
    }

    /// Drops a partial or prepared file (nothing, once published).
    func abandon() {
        guard let temporaryPath else { return }
        if !finished {
            finished = true
            fclose(stream)
            unlink(temporaryPath)
        } else if prepared {
            prepared = false
            unlink(temporaryPath)
        }
    }
}

struct CommandError: Error, CustomStringConvertible {
    var description: String
    /// The exit status it ends with.
    var status: Int32 = 1
    init(_ description: String, status: Int32 = 1) {
        self.description = description
        self.status = status
    }
}

func printError(_ message: String) {
    // Messages name files, devices and filters as the user gave them: a control character in one is shown as \DDD,
    // never sent to the terminal (a capture named with an OSC sequence would retitle it).
    fputs("dnsflow: \(SafeText.escaped(message))\n", standardErrorStream)
    fflush(standardErrorStream)
}
