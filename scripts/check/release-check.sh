#!/usr/bin/env bash
# The release tarball where nothing else is: builds it (scripts/package), unpacks it into an empty directory, and runs
# its dnsflow there with chroot — no toolchain, no libpcap, no ncurses, no /etc, only /proc mounted (as in every
# container) in a private mount namespace. Checks that it is static, reads a lab capture into the same CSV as the
# development build (DEV_BINARY), opens its interface in tmux (the bundled terminfo), knows users by number without
# /etc/passwd and says so for names, and that the tarball holds the plugin, the man page and the completions.
#
#   scripts/check/release-check.sh DEV_BINARY [TARBALL]      (as root; TARBALL: an existing one instead of building)
# Exits non-zero with the reason on the first failure. Cleans up on every exit; every wait is bounded.
set -euo pipefail
if [[ -z ${DNSFLOW_SIGNALS_RESET:-} ]]; then
  export DNSFLOW_SIGNALS_RESET=1
  exec "$(cd "$(dirname "$0")/../lab" && pwd)/unblock-signals" "$0" "$@"
fi
root=$(cd "$(dirname "$0")/../.." && pwd)
dev=$1
tarball=${2:-}
[[ $(id -u) -eq 0 ]] || { echo "release-check: run as root (chroot, mount namespaces)" >&2; exit 1; }
fail() { echo "release-check: $*" >&2; exit 1; }

work=$(mktemp -d /tmp/dnsflow-release.XXXXXX)
sock=dnsflow-release-$$
cleanup() {
  tmux -L "$sock" kill-server >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

[[ -n $tarball ]] || tarball=$("$root/scripts/package" 2>"$work/package.log" | tail -1) || { cat "$work/package.log" >&2; fail "scripts/package failed"; }
[[ -f $tarball ]] || fail "no tarball ($tarball)"
jail=$work/jail
mkdir -p "$jail/proc"
tar -C "$jail" -xzf "$tarball"
top=$(cd "$jail" && ls -d dnsflow-*)
bin=/$top/bin/dnsflow
for f in bin/dnsflow bin/kubectl-dnsflow share/man/man1/dnsflow.1 share/bash-completion/completions/dnsflow \
         share/zsh/site-functions/_dnsflow share/fish/vendor_completions.d/dnsflow.fish share/terminfo/x/xterm-256color \
         share/terminfo/t/tmux share/terminfo/s/screen share/terminfo/v/vt100 share/terminfo/l/linux README.md THIRD-PARTY \
         Containerfile; do
  [[ -s $jail/$top/$f ]] || fail "the tarball has no $f"
done
if readelf -l "$jail$bin" | grep -q "INTERP"; then fail "$bin asks for a dynamic loader"; fi
if readelf -d "$jail$bin" 2>/dev/null | grep -q "NEEDED"; then fail "$bin needs shared libraries"; fi
cp "$root/Fixtures/lab/race-10s/pod.pcap" "$jail/c.pcap"

# In the jail: /proc mounted privately (the Swift runtime reads its arguments and its path there), nothing else.
injail() { unshare -m --propagation private sh -c 'mount -t proc proc "$1/proc" && shift && exec chroot "$@"' sh "$jail" "$jail" "$@"; }

injail "$bin" --version > "$work/version" || fail "--version failed in the jail"
grep -q "^dnsflow [0-9.]* (commit " "$work/version" || fail "--version printed: $(cat "$work/version")"
injail "$bin" -r /c.pcap --csv - > "$work/release.csv" || fail "the release's --csv failed in the jail"
"$dev" -r "$jail/c.pcap" --csv - > "$work/dev.csv"
cmp -s "$work/release.csv" "$work/dev.csv" || { diff "$work/dev.csv" "$work/release.csv" | head -5 >&2; fail "the release's CSV differs from the development build's"; }
[[ $(wc -l < "$work/release.csv") -ge 9 ]] || fail "the CSV has $(wc -l < "$work/release.csv") lines"

# Users: by number without /etc/passwd; a name gets a clear message.
injail "$bin" -r /c.pcap -Z 65534 --summary > "$work/z.txt" 2>&1 || { cat "$work/z.txt" >&2; fail "-Z 65534 failed in the jail"; }
grep -q "^queries" "$work/z.txt" || fail "-Z 65534: no summary"
if injail "$bin" -r /c.pcap -Z nobody --summary > "$work/zname.txt" 2>&1; then fail "-Z nobody ran without /etc/passwd"; fi
grep -q -- "-Z nobody: no such user" "$work/zname.txt" || fail "-Z nobody said: $(cat "$work/zname.txt")"

# The interface, in tmux: the bundled terminfo (no /usr/share/terminfo in the jail).
tm() { tmux -L "$sock" -f /dev/null "$@" </dev/null >/dev/null 2>&1; }
tm new-session -d -s r -x 110 -y 30 "env -i TERM=tmux-256color unshare -m --propagation private sh -c 'mount -t proc proc $jail/proc && exec chroot $jail $bin -r /c.pcap'; sleep 30" \
  || fail "tmux would not start"
shown=""
for _ in $(seq 100); do
  shown=$(tmux -L "$sock" -f /dev/null capture-pane -p -t r 2>/dev/null || true)
  grep -q "lookups 1" <<<"$shown" && break
  sleep 0.1
done
grep -q "lookups 1" <<<"$shown" || { printf '%s\n' "$shown" >&2; fail "the interface did not come up in the jail"; }
grep -q "worst 10.01 s" <<<"$shown" || { printf '%s\n' "$shown" >&2; fail "the interface shows no 10 s lookup"; }
tm send-keys -t r q
echo "release-check: $(basename "$tarball"): static, $(du -h "$jail$bin" | cut -f1) binary; in an empty chroot: --version, the same CSV as the development build ($(($(wc -l < "$work/release.csv") - 1)) rows), -Z by number, the interface in tmux" >&2
