import Foundation
import Testing

/// `kubectl dnsflow` end to end, against a stand-in `kubectl` on PATH that records the calls it receives, answers
/// `get` as a cluster would, and for `kubectl debug … -- /usr/bin/dnsflow -i any -w -` streams a lab capture as the pod
/// would: the plugin must ask for the right things and the local dnsflow must analyse what comes back.
@Suite("kubectl dnsflow, against a stand-in kubectl")
struct KubectlPluginTests {
    static let plugin = packageRoot.appendingPathComponent("scripts/kubectl-dnsflow")
    /// What each stand-in pod streams: different lookups, at different times.
    static let captures = ["web-1": "race-5s/pod.pcap", "api-1": "clean/pod.pcap", "node_worker-1": "race-5s/node-any.pcap"]

    static let standIn = #"""
        #!/usr/bin/env bash
        # A cluster of two pods (web-1, api-1: container "app"), a node (worker-1), a pod the user may not debug
        # (locked-1), nothing else.
        printf '%s\n' "$*" >> "$KUBECTL_LOG"
        case "$1" in
          get)
            case "$2" in
              pod)
                case "$3" in
                  web-1|api-1|locked-1) if [[ "$*" == *jsonpath* ]]; then printf app; else echo "pod/$3"; fi ;;
                  *) echo "Error from server (NotFound): pods \"$3\" not found" >&2; exit 1 ;;
                esac ;;
              node/worker-1) echo node/worker-1 ;;
              *) echo "Error from server (NotFound): nodes \"${2#node/}\" not found" >&2; exit 1 ;;
            esac ;;
          debug)
            if [[ $2 == locked-1 ]]; then
              echo "Error from server (Forbidden): pods \"locked-1\" is forbidden: User \"dev\" cannot patch resource \"pods/ephemeralcontainers\"" >&2
              exit 1
            fi
            [[ "$*" == *"--profile=netadmin -i --quiet -- /usr/bin/dnsflow -i any -w -" ]] || { echo "unexpected call: $*" >&2; exit 3; }
            cat "$KUBECTL_CAPTURES/${2//\//_}.pcap" ;;
          *) echo "unexpected call: $*" >&2; exit 3 ;;
        esac
        """#

    struct Run {
        var status: Int32
        var stdout: String
        var stderr: String
        var calls: [String]
    }

    /// Runs the plugin with `arguments`, the stand-in first on PATH (or no kubectl at all).
    func plugin(_ arguments: [String], withKubectl: Bool = true) throws -> Run {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kubectl-standin-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let log = dir.appendingPathComponent("calls.log")
        FileManager.default.createFile(atPath: log.path, contents: Data())
        let kubectl = dir.appendingPathComponent("kubectl")
        if withKubectl {
            try Self.standIn.write(to: kubectl, atomically: true, encoding: .utf8)
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: kubectl.path)
        }
        for (name, path) in Self.captures {
            try FileManager.default.createSymbolicLink(at: dir.appendingPathComponent(name + ".pcap"),
                                                       withDestinationURL: labFixtures.appendingPathComponent(path))
        }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/bash")
        p.arguments = [Self.plugin.path] + arguments
        var env = ProcessInfo.processInfo.environment
        env["PATH"] = dir.path + ":/usr/bin:/bin"
        env["DNSFLOW"] = dnsflowBinary.path
        env["KUBECTL_LOG"] = log.path
        env["KUBECTL_CAPTURES"] = dir.path
        // The stand-in, not a kubectl this machine may have (none, for the case without one).
        env["KUBECTL"] = kubectl.path
        env["TMPDIR"] = dir.path
        env.removeValue(forKey: "DNSFLOW_IMAGE")
        p.environment = env
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        p.standardInput = FileHandle.nullDevice
        try p.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile(), stderr = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        let calls = (try? String(contentsOf: log, encoding: .utf8))?.split(separator: "\n").map(String.init) ?? []
        return Run(status: p.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
                   stderr: String(decoding: stderr, as: UTF8.self), calls: calls)
    }

    @Test func aPodsDNSIsAnalysedHere() throws {
        let r = try plugin(["web-1", "-n", "shop", "--image", "registry.example/dnsflow:0.18.0", "--", "--summary"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.calls.contains("get pod web-1 -n shop -o name"))
        #expect(r.calls.contains("get pod web-1 -n shop -o jsonpath={.spec.containers[0].name}"))
        #expect(r.calls.contains("debug web-1 -n shop --image registry.example/dnsflow:0.18.0 --target app --profile=netadmin -i --quiet -- /usr/bin/dnsflow -i any -w -"),
                "\(r.calls)")
        #expect(r.stdout.contains("queries                   4"), "\(r.stdout)")
        #expect(r.stdout.contains("conntrack-race"))
    }

    @Test func severalPodsAreMerged() throws {
        let r = try plugin(["web-1", "api-1", "-n", "shop", "-c", "app", "--image", "img", "--", "--csv", "-"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.calls.filter { $0.hasPrefix("debug ") }.count == 2)
        #expect(!r.calls.contains { $0.contains("jsonpath") }, "the container was given")
        let rows = r.stdout.split(separator: "\n")
        #expect(rows.first?.hasPrefix("time,proto,client_ip") == true)
        // race-5s's 4 queries and clean's 12.
        #expect(rows.count == 1 + 4 + 12, "two streams merged: \(rows.count - 1) rows")
    }

    @Test func aNodeIsCapturedOnAllItsInterfaces() throws {
        let r = try plugin(["node/worker-1", "--image", "img", "--", "--summary"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.calls.contains("debug node/worker-1 --image img --profile=netadmin -i --quiet -- /usr/bin/dnsflow -i any -w -"), "\(r.calls)")
        #expect(r.stdout.contains("queries                   4"))
    }

    @Test func clearErrors() throws {
        let missing = try plugin(["nosuch", "-n", "shop", "--image", "img"])
        #expect(missing.status != 0)
        #expect(missing.stderr.contains("no such pod nosuch in namespace shop"), "\(missing.stderr)")
        #expect(!missing.calls.contains { $0.hasPrefix("debug") })

        let locked = try plugin(["locked-1", "--image", "img", "--", "--summary"])
        #expect(locked.status != 0)
        #expect(locked.stderr.contains("locked-1: no permission to add an ephemeral debug container (RBAC: update pods/ephemeralcontainers)"),
                "\(locked.stderr)")

        let noKubectl = try plugin(["web-1", "--image", "img"], withKubectl: false)
        #expect(noKubectl.status != 0)
        #expect(noKubectl.stderr.contains("/kubectl not found ($KUBECTL)"), "\(noKubectl.stderr)")

        let noImage = try plugin(["web-1"])
        #expect(noImage.status != 0)
        #expect(noImage.stderr.contains("no image: give --image"), "\(noImage.stderr)")
    }
}
