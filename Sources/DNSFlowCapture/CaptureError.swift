import CPcap

/// Everything that can go wrong opening or reading a capture, each with the sentence a user needs.
/// libpcap's return codes are mapped here and nowhere else.
public enum CaptureError: Error, CustomStringConvertible, Equatable {
    case fileNotFound(String)
    case fileUnreadable(String, String)
    case notACapture(String, String)
    case stdinTwice
    case permissionDenied(String, String)
    case noSuchInterface(String, [String])
    case interfaceDown(String)
    case badFilter(String, String)
    case pcap(String, String)

    public var description: String {
        switch self {
        case .fileNotFound(let path):
            return "\(path): no such file"
        case .fileUnreadable(let path, let why):
            return "\(path): cannot read: \(why)"
        case .notACapture(let path, let why):
            return "\(path): not a capture dnsflow can read as pcap or pcapng (libpcap: \(why))"
        case .stdinTwice:
            return "standard input (-r -) can be read only once"
        case .permissionDenied(let device, let why):
            return "\(device): no permission to capture (\(why)); run as root, or give the binary the capabilities: "
                + "sudo setcap cap_net_raw,cap_net_admin=eip $(command -v dnsflow)"
        case .noSuchInterface(let device, let available):
            return "\(device): no such interface; available: " + (available.isEmpty ? "(none)" : available.joined(separator: ", "))
        case .interfaceDown(let device):
            return "\(device): interface is not up"
        case .badFilter(let expression, let why):
            return "bad filter expression '\(expression)': \(why)"
        case .pcap(let context, let why):
            return "\(context): \(why)"
        }
    }
}

enum PcapStatus {
    /// The text libpcap keeps for the last error on a handle.
    static func lastError(_ handle: OpaquePointer) -> String {
        String(cString: pcap_geterr(handle))
    }

    static func errorBuffer() -> [CChar] { [CChar](repeating: 0, count: Int(PCAP_ERRBUF_SIZE) + 1) }

    static func string(_ buffer: [CChar]) -> String {
        buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }

    /// Maps a `pcap_activate` failure to what the user must do about it.
    static func activationError(_ status: Int32, device: String, handle: OpaquePointer) -> CaptureError {
        let detail = lastError(handle)
        let why = detail.isEmpty ? String(cString: pcap_statustostr(status)) : detail
        switch status {
        case PCAP_ERROR_PERM_DENIED, PCAP_ERROR_PROMISC_PERM_DENIED:
            return .permissionDenied(device, why)
        case PCAP_ERROR_NO_SUCH_DEVICE:
            return .noSuchInterface(device, Interfaces.names())
        case PCAP_ERROR_IFACE_NOT_UP:
            return .interfaceDown(device)
        default:
            if why.contains("ermission") || why.contains("EPERM") || why.contains("Operation not permitted") {
                return .permissionDenied(device, why)
            }
            return .pcap(device, why)
        }
    }
}

public enum Interfaces {
    /// Names of the interfaces libpcap can capture on (`pcap_findalldevs`).
    public static func names() -> [String] {
        var errbuf = PcapStatus.errorBuffer()
        var list: UnsafeMutablePointer<pcap_if_t>?
        guard pcap_findalldevs(&list, &errbuf) == 0 else { return [] }
        defer { pcap_freealldevs(list) }
        var names = [String]()
        var node = list
        while let n = node {
            names.append(String(cString: n.pointee.name))
            node = n.pointee.next
        }
        return names
    }
}
