#!/usr/bin/env bash
# Floods against the stated memory bound: writes the two flood captures once (scripts/make-flood-capture.py, into
# .build/floods/) — 2,000,000 unanswered queries with random ids and ports, 500,000 TCP connections that never
# finish — and runs the release build on each with the defaults: `--summary`, `--csv`, and the interface (in tmux,
# until [offline]). Prints peak RSS and the flood counts, and fails if any run exceeds the bound or does not end.
#
#   scripts/check/flood-memory.sh [BOUND_MIB]     (default 600: the README states about 550 MiB)
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
bound=${1:-600}
swift build -c release --product dnsflow >/dev/null
bin=.build/release/dnsflow
mkdir -p .build/floods
for kind in unanswered tcp; do
  [ -s ".build/floods/$kind.pcap" ] || python3 scripts/make-flood-capture.py "$kind" ".build/floods/$kind.pcap"
done
failures=0
report() {  # name, peak KiB, seconds
  local mib=$(( $2 / 1024 ))
  if [ "$mib" -gt "$bound" ]; then echo "FAIL $1: $mib MiB (bound $bound)"; failures=$((failures + 1)); else echo "ok   $1: $mib MiB, $3 s"; fi
}
for kind in unanswered tcp; do
  f=".build/floods/$kind.pcap"
  for args in "--summary" "--csv /dev/null"; do
    # shellcheck disable=SC2086
    timeout 300 /usr/bin/time -o .build/floods/time.txt -f "%M %e" "$bin" -r "$f" $args >.build/floods/out.txt 2>&1 \
      || { echo "FAIL $kind $args: did not end cleanly"; failures=$((failures + 1)); continue; }
    read -r kib secs <.build/floods/time.txt
    report "$kind $args" "$kib" "$secs"
    grep -E "given up|cut short|streams evicted" .build/floods/out.txt | sed 's/^/       /' || true
  done
  if command -v tmux >/dev/null; then
    sock=dnsflow-flood-$$
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
