import DNSFlowCore
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Reads `--names FILE`: the JSON of `kubectl get pods,services -A -o json` (a List, or one object, or an array of
/// them), or an /etc/hosts-style file. (FoundationEssentials' JSON decoder: the full Foundation would bring ICU's
/// tens of megabytes into the static release for this alone.)
enum NamesFile {
    static func load(_ path: String) throws(CommandError) -> AddressNames {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CommandError("\(path): cannot read the names file")
        }
        var names = AddressNames()
        let text = String(decoding: data, as: UTF8.self)
        let start = text.first { !$0.isWhitespace }
        if start == "{" || start == "[" {
            let objects: [KubernetesObject]
            if start == "[", let array = try? JSONDecoder().decode([KubernetesObject].self, from: data) {
                objects = array
            } else if start == "{", let object = try? JSONDecoder().decode(KubernetesObject.self, from: data) {
                objects = object.items ?? [object]
            } else {
                throw CommandError("\(path): not valid JSON (expected the output of kubectl get pods,services -A -o json)")
            }
            for object in objects { addKubernetesObject(object, to: &names) }
        } else {
            _ = names.addHostsFile(text)
        }
        if names.isEmpty { throw CommandError("\(path): no addresses with names in it (kubectl JSON of pods and services, or hosts lines)") }
        return names
    }

    /// What dnsflow reads of a Kubernetes object; any field of another type than expected is taken as absent (as
    /// kubectl's output of other kinds and versions may have).
    struct KubernetesObject: Decodable {
        var kind: String?
        var name: String?
        var namespace: String?
        var hostNetwork: Bool?
        var podIP: String?
        var podIPs: [String] = []
        var clusterIP: String?
        var clusterIPs: [String] = []
        var items: [KubernetesObject]?

        private enum Keys: String, CodingKey { case kind, metadata, spec, status, items, name, namespace, hostNetwork, podIP, podIPs, ip, clusterIP, clusterIPs }

        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: Keys.self)
            kind = try? c.decodeIfPresent(String.self, forKey: .kind)
            items = try? c.decodeIfPresent([KubernetesObject].self, forKey: .items)
            if let m = try? c.nestedContainer(keyedBy: Keys.self, forKey: .metadata) {
                name = try? m.decodeIfPresent(String.self, forKey: .name)
                namespace = try? m.decodeIfPresent(String.self, forKey: .namespace)
            }
            if let spec = try? c.nestedContainer(keyedBy: Keys.self, forKey: .spec) {
                hostNetwork = try? spec.decodeIfPresent(Bool.self, forKey: .hostNetwork)
                clusterIP = try? spec.decodeIfPresent(String.self, forKey: .clusterIP)
                clusterIPs = (try? spec.decodeIfPresent([String].self, forKey: .clusterIPs)) ?? []
            }
            if let status = try? c.nestedContainer(keyedBy: Keys.self, forKey: .status) {
                podIP = try? status.decodeIfPresent(String.self, forKey: .podIP)
                if var list = try? status.nestedUnkeyedContainer(forKey: .podIPs) {
                    while !list.isAtEnd {
                        guard let entry = try? list.nestedContainer(keyedBy: Keys.self) else { _ = try? list.decode(Skip.self); continue }
                        if let ip = try? entry.decodeIfPresent(String.self, forKey: .ip) { podIPs.append(ip) }
                    }
                }
            }
        }

        /// Any JSON value, read past.
        private struct Skip: Decodable { init(from decoder: any Decoder) throws {} }
    }

    /// A Pod (`status.podIPs`, `status.podIP`; host-network pods skipped: their address is the node's) or a
    /// Service (`spec.clusterIPs`, `spec.clusterIP`), named `namespace/name`.
    static func addKubernetesObject(_ item: KubernetesObject, to names: inout AddressNames) {
        guard let kind = item.kind, let name = item.name else { return }
        let label = item.namespace.map { "\($0)/\(name)" } ?? name
        var addresses: [String] = []
        switch kind {
        case "Pod":
            if item.hostNetwork == true { return }
            addresses += item.podIPs
            if let ip = item.podIP { addresses.append(ip) }
        case "Service":
            addresses += item.clusterIPs
            if let ip = item.clusterIP { addresses.append(ip) }
        default:
            return
        }
        for a in addresses where a != "None" {
            if let ip = IPAddress(text: a) { names.add(ip, label) }
        }
    }
}
