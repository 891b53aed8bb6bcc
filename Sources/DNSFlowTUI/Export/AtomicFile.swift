#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Why an export did not happen, in the one line the status bar shows.
public struct ExportError: Error, CustomStringConvertible, Equatable {
    public var description: String
    /// True when the export was refused because the file exists (the UI may then ask to overwrite).
    public var exists: Bool

    public init(_ description: String, exists: Bool = false) {
        self.description = description
        self.exists = exists
    }
}

/// Files written whole or not at all.
public enum AtomicFile {
    /// Writes `bytes` to `path` through a temporary file in the same directory, renamed into place only when complete
    /// (fsync before rename). Refuses an existing path unless `overwrite` (ExportError with exists = true, message
    /// "<path> exists"). Errors say why in one line: "<path>: cannot write: <strerror>" (unwritable directory, disk
    /// full: ENOSPC from write/fsync/close), and leave no temporary file behind.
    public static func write(_ bytes: [UInt8], to path: String, overwrite: Bool) throws(ExportError) {
        guard !path.isEmpty else { throw ExportError("no file name given") }
        // Never renamed over a link: /dev/stderr redirected to a file would become that file (dnsflow runs as root).
        if isLink(path) { throw ExportError("\(path) is a symbolic link: dnsflow does not write through links; give the file's own path") }
        // A device or a pipe is never renamed over (that would turn /dev/null into a regular file).
        if isSpecial(path) { throw ExportError("\(path): not a regular file (a device, a pipe or a socket); give a file name") }
        if !overwrite, exists(path) { throw ExportError("\(path) exists", exists: true) }
        let (fd, temporary) = try createTemporary(beside: path)
        var closed = false
        do throws(ExportError) {
            try writeAll(bytes, to: fd, path: path)
            guard fsync(fd) == 0 else { throw failure(path) }
            closed = true
            guard close(fd) == 0 else { throw failure(path) }
            guard isReplaceable(path) else { throw ExportError("\(path): cannot write: it is no longer a regular file (a link or a device was put there)") }
            guard rename(temporary, path) == 0 else { throw failure(path) }
        } catch {
            if !closed { close(fd) }
            unlink(temporary)
            throw error
        }
    }

    /// An existing path (followed through links) that is neither a regular file nor a directory.
    public static func isSpecial(_ path: String) -> Bool {
        var st = stat()
        guard stat(path, &st) == 0 else { return false }
        let kind = st.st_mode & S_IFMT
        return kind != S_IFREG && kind != S_IFDIR
    }

    /// Whether `path` itself (not followed) is a symbolic link.
    public static func isLink(_ path: String) -> Bool {
        var st = stat()
        return lstat(path, &st) == 0 && st.st_mode & S_IFMT == S_IFLNK
    }

    /// Whether a file may be renamed over `path`: never a link, a device, a pipe or a socket (a directory is left
    /// to rename, which refuses it and says so).
    public static func isReplaceable(_ path: String) -> Bool {
        var st = stat()
        guard lstat(path, &st) == 0 else { return errno == ENOENT }
        let kind = st.st_mode & S_IFMT
        return kind == S_IFREG || kind == S_IFDIR
    }

    /// An output replacing a regular file keeps that file's permissions, and (as root, who may) its owner and group: a
    /// 0600 file of another user stays theirs and 0600, not root's and 0644. A new file gets 0666 less the umask.
    public static func keepAttributes(of path: String, on fd: Int32) {
        var st = stat()
        guard lstat(path, &st) == 0, st.st_mode & S_IFMT == S_IFREG else { return }
        _ = fchmod(fd, st.st_mode & 0o7777)
        if geteuid() == 0 || st.st_uid == geteuid() {
            // The group can be set by its member owner too; the owner only by root. Failure leaves ours.
            _ = fchown(fd, geteuid() == 0 ? st.st_uid : uid_t.max, st.st_gid)
        }
        // chown clears set-id bits: set the mode again.
        _ = fchmod(fd, st.st_mode & 0o7777)
    }

    /// Whether anything (a file, a directory, a dangling symbolic link) is at `path`.
    static func exists(_ path: String) -> Bool {
        var st = stat()
        return lstat(path, &st) == 0
    }

    /// `<directory>/.<basename>.part-<pid>-<n>`, created exclusively (mode 0666 less the umask), with the mode and
    /// owner of the file it will replace (`keepAttributes`).
    static func createTemporary(beside path: String) throws(ExportError) -> (Int32, String) {
        let (directory, base) = split(path)
        guard !base.isEmpty else { throw ExportError("\(path): cannot write: is a directory") }
        for n in 0..<100 {
            let temporary = directory + "." + base + ".part-\(getpid())-\(n)"
            let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o666)
            if fd >= 0 {
                keepAttributes(of: path, on: fd)
                return (fd, temporary)
            }
            if errno != EEXIST { throw failure(path) }
        }
        throw ExportError("\(path): cannot write: no free temporary name")
    }

    /// The directory part with its trailing slash (empty for the current directory), and the last component.
    static func split(_ path: String) -> (String, String) {
        guard let slash = path.lastIndex(of: "/") else { return ("", path) }
        return (String(path[...slash]), String(path[path.index(after: slash)...]))
    }

    /// write(2) until every byte is out: partial writes continue, EINTR retries.
    static func writeAll(_ bytes: [UInt8], to fd: Int32, path: String) throws(ExportError) {
        let failed = bytes.withUnsafeBytes { (buffer: UnsafeRawBufferPointer) -> Bool in
            var offset = 0
            while offset < buffer.count, let base = buffer.baseAddress {
                let n = systemWrite(fd, base + offset, buffer.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    return true
                }
                offset += n
            }
            return false
        }
        if failed { throw failure(path) }
    }

    /// `<path>: cannot write: <strerror(errno)>`.
    static func failure(_ path: String) -> ExportError {
        ExportError("\(path): cannot write: " + String(cString: strerror(errno)))
    }
}

/// write(2), out of reach of `AtomicFile.write`'s name.
private func systemWrite(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int {
    write(fd, buffer, count)
}
