import Foundation
import Testing

/// The release: `scripts/package`'s tarball, unpacked into an empty directory and run there with chroot (only /proc,
/// as every container has): static, the same CSV as this build, its interface up in tmux, users by number
/// (scripts/check/release-check.sh asserts and says what it checked).
@Suite("The release tarball")
struct ReleaseTests {
    static var canRun: Bool {
        geteuid() == 0 && ["/usr/bin/tmux", "/usr/bin/unshare", "/usr/bin/readelf", "/usr/bin/gcc"].allSatisfy {
            FileManager.default.isExecutableFile(atPath: $0)
        } && ProcessInfo.processInfo.environment["DNSFLOW_SKIP_RELEASE"] == nil
    }

    @Test(.enabled(if: canRun, "needs root, tmux, unshare, readelf and gcc (DNSFLOW_SKIP_RELEASE=1 skips it)"),
          .timeLimit(.minutes(15)))
    func runsInAnEmptyChroot() throws {
        let check = Process()
        check.executableURL = packageRoot.appendingPathComponent("scripts/check/release-check.sh")
        check.arguments = [dnsflowBinary.path]
        let errors = Pipe()
        check.standardError = errors
        check.standardOutput = FileHandle.nullDevice
        try check.run()
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        check.waitUntilExit()
        #expect(check.terminationStatus == 0, "\(message)")
        #expect(message.contains("in an empty chroot"), "\(message)")
    }
}
