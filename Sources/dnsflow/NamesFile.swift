import DNSFlowCore
import Foundation

/// Reads `--names FILE`: the JSON of `kubectl get pods,services -A -o json` (a List, or one object), or an
/// /etc/hosts-style file.
enum NamesFile {
    static func load(_ path: String) throws(CommandError) -> AddressNames {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CommandError("\(path): cannot read the names file")
        }
        var names = AddressNames()
        let text = String(decoding: data, as: UTF8.self)
        let start = text.first { !$0.isWhitespace }
        if start == "{" || start == "[" {
            guard let json = try? JSONSerialization.jsonObject(with: data) else {
                throw CommandError("\(path): not valid JSON (expected the output of kubectl get pods,services -A -o json)")
            }
            let items: [[String: Any]]
            if let list = json as? [String: Any], let listed = list["items"] as? [[String: Any]] {
                items = listed
            } else if let object = json as? [String: Any] {
                items = [object]
            } else {
                items = (json as? [[String: Any]]) ?? []
            }
            for item in items { addKubernetesObject(item, to: &names) }
        } else {
            _ = names.addHostsFile(text)
        }
        if names.isEmpty { throw CommandError("\(path): no addresses with names in it (kubectl JSON of pods and services, or hosts lines)") }
        return names
    }

    /// A Pod (`status.podIPs`, `status.podIP`; host-network pods skipped: their address is the node's) or a
    /// Service (`spec.clusterIPs`, `spec.clusterIP`), named `namespace/name`.
    static func addKubernetesObject(_ item: [String: Any], to names: inout AddressNames) {
        guard let kind = item["kind"] as? String, let metadata = item["metadata"] as? [String: Any],
              let name = metadata["name"] as? String
        else { return }
        let label = (metadata["namespace"] as? String).map { "\($0)/\(name)" } ?? name
        var addresses: [String] = []
        switch kind {
        case "Pod":
            if (item["spec"] as? [String: Any])?["hostNetwork"] as? Bool == true { return }
            let status = item["status"] as? [String: Any] ?? [:]
            addresses += (status["podIPs"] as? [[String: Any]] ?? []).compactMap { $0["ip"] as? String }
            if let ip = status["podIP"] as? String { addresses.append(ip) }
        case "Service":
            let spec = item["spec"] as? [String: Any] ?? [:]
            addresses += spec["clusterIPs"] as? [String] ?? []
            if let ip = spec["clusterIP"] as? String { addresses.append(ip) }
        default:
            return
        }
        for a in addresses where a != "None" {
            if let ip = IPAddress(text: a) { names.add(ip, label) }
        }
    }
}
