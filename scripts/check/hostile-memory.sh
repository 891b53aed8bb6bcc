#!/usr/bin/env bash
# Hostile captures against the stated memory bound (README: Hostile input). Writes each capture once into
# .build/hostile/ — the two floods (scripts/make-flood-capture.py: 2,000,000 unanswered queries with random ids and
# ports; 500,000 TCP connections that never finish) and the cases of scripts/make-hostile-capture.py at the sizes
# issue 20 measured (4,096 TCP streams holding 256 KiB out of order each; 20,000 exchanges with 51 KB answers over
# TCP, and 20,000 with 60 KB answers over UDP after a query nobody answers; one-octet segments; noise without a SYN)
# — and runs the release build on each with the defaults: `--summary`, `--csv`, and the interface (in tmux, until
# [offline]). Prints peak RSS and time, and fails if any run exceeds the bound or does not end.
#
#   scripts/check/hostile-memory.sh [BOUND_MIB] [CAPTURE…]   (default 400; captures: every one above)
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
bound=${1:-400}
shift || true
swift build -c release --product dnsflow >/dev/null
bin=.build/release/dnsflow
dir=.build/hostile
mkdir -p "$dir"
all=(unanswered tcp-unfinished tcp-out-of-order tcp-large-answers udp-large-answers tcp-one-octet tcp-one-octet-after-hole tcp-noise)
kinds=("$@")
[ ${#kinds[@]} -gt 0 ] || kinds=("${all[@]}")
for kind in "${kinds[@]}"; do
  [ -s "$dir/$kind.pcap" ] && continue
  case "$kind" in
    unanswered) python3 scripts/make-flood-capture.py unanswered "$dir/$kind.pcap" ;;
    tcp-unfinished) python3 scripts/make-flood-capture.py tcp "$dir/$kind.pcap" ;;
    *) python3 scripts/make-hostile-capture.py "$kind" "$dir/$kind.pcap" ;;
  esac
done
failures=0
report() {  # name, peak KiB, seconds
  local mib=$(( $2 / 1024 ))
  if [ "$mib" -gt "$bound" ]; then echo "FAIL $1: $mib MiB (bound $bound)"; failures=$((failures + 1)); else echo "ok   $1: $mib MiB, $3 s"; fi
}
for kind in "${kinds[@]}"; do
  f="$dir/$kind.pcap"
  for args in "--summary" "--csv /dev/null"; do
    # shellcheck disable=SC2086
    timeout 300 /usr/bin/time -o "$dir/time.txt" -f "%M %e" "$bin" -r "$f" $args >"$dir/out.txt" 2>&1 \
      || { echo "FAIL $kind $args: did not end cleanly"; failures=$((failures + 1)); continue; }
    read -r kib secs <"$dir/time.txt"
    report "$kind $args" "$kib" "$secs"
    grep -E "given up|cut short|streams evicted|tcp gaps" "$dir/out.txt" | sed 's/^/       /' || true
  done
  if command -v tmux >/dev/null; then
    sock=dnsflow-hostile-$$
    tmux -L "$sock" -f /dev/null new-session -d -s ui -x 150 -y 30 "env TERM=xterm-256color $bin -r $f; sleep 30"
    start=$(date +%s)
    for _ in $(seq 3000); do tmux -L "$sock" capture-pane -p -t ui | grep -qF "[offline]" && break; sleep 0.1; done
    pid=$(pgrep -f "^$bin -r $f" | head -1)
    kib=$(awk '/VmHWM/ { print $2 }' "/proc/$pid/status")
    report "$kind interface" "$kib" "$(( $(date +%s) - start ))"
    tmux -L "$sock" capture-pane -p -t ui | sed -n 2p | sed 's/^/       /'
    tmux -L "$sock" kill-server
  fi
done
[ "$failures" -eq 0 ]
