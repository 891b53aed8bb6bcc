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
        let r = try runProcess(packageRoot.appendingPathComponent("scripts/check/release-check.sh").path, [dnsflowBinary.path])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("in an empty chroot"), "\(r.stderr)")
    }
}
