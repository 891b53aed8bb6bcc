import CPrivileges
#if canImport(Glibc)
import Glibc
#endif

/// Giving up root once the capture is open, as tcpdump does with `-Z`: nothing dnsflow does after opening its inputs
/// needs it, and everything after that reads bytes an attacker may control.
enum Privileges {
    /// Who dnsflow runs as from here on.
    struct Account: Equatable {
        var name: String
        var uid: uid_t
        var gid: gid_t
    }

    /// Whom to become: `-Z USER` (`-Z root`: stay), else, started by sudo as root, the user who ran sudo
    /// (`SUDO_UID`, `SUDO_GID`, `SUDO_USER`); nil to stay as we are.
    static func target(requested: String?, environment: [String: String], euid: uid_t) throws(CommandError) -> Account? {
        if let requested {
            guard let account = lookUp(requested) else { throw CommandError("-Z \(requested): no such user") }
            if account.uid == euid { return nil }
            guard euid == 0 else {
                throw CommandError("-Z \(requested): dnsflow is not running as root, so it has no privileges to give up")
            }
            return account.uid == 0 ? nil : account
        }
        guard euid == 0, let uidText = environment["SUDO_UID"], let uid = uid_t(uidText), uid != 0,
              let gid = environment["SUDO_GID"].flatMap({ gid_t($0) })
        else { return nil }
        return Account(name: environment["SUDO_USER"] ?? lookUp(uid: uid)?.name ?? uidText, uid: uid, gid: gid)
    }

    /// Becomes `account` for good: supplementary groups, then group, then user (real, effective and saved), and checks
    /// that root cannot be had back.
    static func drop(to account: Account) throws(CommandError) {
        let failed = { (what: String) in CommandError("cannot run as \(account.name) (\(what)): \(String(cString: strerror(errno)))") }
        guard initgroups(account.name, account.gid) == 0 || setgroups(0, nil) == 0 else { throw failed("groups") }
        // As root, setgid and setuid set the real, effective and saved ids alike (POSIX): there is no way back.
        guard setgid(account.gid) == 0 else { throw failed("setgid") }
        guard setuid(account.uid) == 0 else { throw failed("setuid") }
        guard setuid(0) != 0, geteuid() == account.uid, getegid() == account.gid else {
            throw CommandError("cannot run as \(account.name): root could be had back; stopping")
        }
    }

    /// Not root but given capabilities (`setcap cap_net_raw,cap_net_admin=eip`): gives them all up, the capture
    /// being open. Root keeps them unless it becomes a user (setuid from root clears them).
    static func dropCapabilities() throws(CommandError) {
        guard geteuid() != 0, dnsflow_has_capabilities() == 1 else { return }
        guard dnsflow_drop_capabilities() == 0, dnsflow_has_capabilities() == 0 else {
            throw CommandError("cannot give up the capabilities the capture was opened with: \(String(cString: strerror(errno)))")
        }
    }

    /// What `target` reads of the environment.
    static var sudoEnvironment: [String: String] {
        var e: [String: String] = [:]
        for key in ["SUDO_UID", "SUDO_GID", "SUDO_USER"] { if let v = getenv(key) { e[key] = String(cString: v) } }
        return e
    }

    static func lookUp(_ name: String) -> Account? {
        if let pw = getpwnam(name) { return Account(name: String(cString: pw.pointee.pw_name), uid: pw.pointee.pw_uid, gid: pw.pointee.pw_gid) }
        if let account = passwdFile().first(where: { $0.name == name }) { return account }
        // A number, as tcpdump's -Z does not take but `sudo -u '#1000'` does: `UID` or `UID:GID`. Where no account
        // has it (an empty container), the number alone, its group the same number unless given.
        let parts = name.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count <= 2, let uid = uid_t(parts[0]) else { return nil }
        if parts.count == 2 {
            guard let gid = gid_t(parts[1]) else { return nil }
            return Account(name: lookUp(uid: uid)?.name ?? String(uid), uid: uid, gid: gid)
        }
        return lookUp(uid: uid) ?? Account(name: String(uid), uid: uid, gid: gid_t(uid))
    }

    static func lookUp(uid: uid_t) -> Account? {
        if let pw = getpwuid(uid) {
            return Account(name: String(cString: pw.pointee.pw_name), uid: pw.pointee.pw_uid, gid: pw.pointee.pw_gid)
        }
        return passwdFile().first { $0.uid == uid }
    }

    /// The accounts of /etc/passwd, read directly: a static build cannot load glibc's NSS modules, so `getpwnam` finds
    /// nothing there even for users the file lists (an empty container has no file, and then no user but a number).
    static func passwdFile(_ path: String = "/etc/passwd") -> [Account] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { line in
            let f = line.split(separator: ":", omittingEmptySubsequences: false)
            guard f.count >= 4, !f[0].isEmpty, !f[0].hasPrefix("#"), let uid = uid_t(f[2]), let gid = gid_t(f[3]) else { return nil }
            return Account(name: String(f[0]), uid: uid, gid: gid)
        }
    }
}
