#!/usr/bin/env bash
# The interface on the lab's captures, in a real terminal (a private tmux server at 80x24), for what a user of a
# 5- or 10-second lookup needs on screen:
#   * the status bar of the 10 s race leads with the lookup's 10 s wait; `f` keeps its rows, which show it;
#   * at 80x24 every distinct name on the Queries screen (an ndots:5 walk, the 10 s race) renders distinctly;
#   * the Timeline, scrolled before the first query and zoomed in and out, never prints a negative or nanosecond
#     offset, and the selected row's bar stays in the window;
#   * `E` on Flows writes the flows CSV columns (those of --flows-csv, with its values).
# Needs tmux only; touches nothing but its tmux socket and OUTPUT_DIR; every wait is bounded.
# Usage: scripts/live/screens-check.sh DNSFLOW_BINARY OUTPUT_DIR
set -euo pipefail
# Children inherit blocked and ignored signals (test runners leave some): start again without them, so that tmux
# can end what runs in its panes.
if [[ -z ${DNSFLOW_SIGNALS_RESET:-} ]]; then
  export DNSFLOW_SIGNALS_RESET=1
  exec "$(cd "$(dirname "$0")" && pwd)/../lab/unblock-signals" "$0" "$@"
fi
bin=$1 out=$2
root=$(cd "$(dirname "$0")/../.." && pwd)
sock=dnsflow-screens-$$
tm() { tmux -L "$sock" -f /dev/null "$@"; }
cleanup() { tm kill-server 2>/dev/null || true; }
trap cleanup EXIT INT TERM
mkdir -p "$out"
fail() { echo "screens-check: $*" >&2; tm capture-pane -p -t "$sess" >"$out/failed-screen.txt" 2>/dev/null || true; cat "$out/failed-screen.txt" >&2 || true; exit 1; }
# Waits (at most 10 s) until the screen matches the pattern $1 (grep -E); saves it as $2.
wait_for() {
  for _ in $(seq 200); do
    tm capture-pane -p -t "$sess" >"$out/$2.txt" 2>/dev/null || true
    grep -qE -- "$1" "$out/$2.txt" && return 0
    sleep 0.05
  done
  fail "no '$1' on the screen"
}
# Waits (at most 10 s) until the screen no longer matches $1 and has stopped changing (a key's effect, where the
# screen before it matches what is waited for next, and a capture may catch a redraw half done); saves it as $2.
wait_without() {
  for _ in $(seq 200); do
    tm capture-pane -p -t "$sess" >"$out/$2.txt" 2>/dev/null || true
    if ! grep -qE -- "$1" "$out/$2.txt"; then
      sleep 0.1
      tm capture-pane -p -t "$sess" >"$out/$2.again.txt" 2>/dev/null || true
      cmp -s "$out/$2.txt" "$out/$2.again.txt" && return 0
    fi
    sleep 0.05
  done
  fail "'$1' still on the screen, or the screen still changing"
}
sess=""
open_capture() {
  cleanup
  # The old server gone (a new one started while it exits is refused), then a session under a new name.
  for _ in $(seq 100); do tm list-sessions >/dev/null 2>&1 || break; sleep 0.05; done
  sess=screen-$((${#sess} + 1))$RANDOM
  local started=0
  for _ in 1 2 3 4 5; do
    if tm new-session -d -s "$sess" -x 80 -y 24 "cd '$out' && env TERM=xterm-256color '$bin' -r '$root/$1'; echo EXITED \$?; sleep 30" \
         >/dev/null 2>&1 </dev/null; then started=1; break; fi
    sleep 0.2
  done
  ((started)) || fail "tmux would not start a session for $1"
  wait_for "\[offline\]" loaded
}

# The 10 s race: the lookup's wait leads the status bar; f keeps its rows and their flow headers say it.
open_capture Fixtures/lab/race-10s/pod.pcap
wait_for "^ lookups 1  slow 1  worst 10\.01 s" status
tm send-keys -t "$sess" f
wait_for "problem rows only" problems
grep -q "waited ‼10.01 s" "$out/problems.txt" || fail "the f rows do not show the lookup's wait"
# Every distinct name on screen reads distinctly (flat list: no headers).
tm send-keys -t "$sess" f g
wait_without "▾ #" flat
wait_for "NAME" flat
python3 - "$out/flat.txt" "$bin" "$root/Fixtures/lab/race-10s/pod.pcap" <<'PY' || fail "two different names render alike on race-10s"
import csv, subprocess, sys
screen, binary, capture = sys.argv[1:4]
lines = [l for l in open(screen, encoding="utf-8").read().split("\n") if len(l) > 30 and l[2:4].isdigit() and l[4] == ":"]
full = [r["qname"] for r in csv.DictReader(subprocess.run([binary, "-r", capture, "--csv", "-"], capture_output=True, text=True).stdout.splitlines()) if r["attempt"]]
shown = [l[30:58].rstrip() for l in lines]
pairs = list(zip(shown, full))
for a, na in pairs:
    for b, nb in pairs:
        if na != nb and a == b:
            print(f"{na} and {nb} both read {a!r}", file=sys.stderr); sys.exit(1)
print(f"{len(set(full))} distinct names in {len(pairs)} rows, all distinct on screen")
PY

# The Timeline: scrolled early, zoomed in and out: offsets read as durations; the selected row stays in the window.
tm send-keys -t "$sess" 3
wait_for "WAITED" timeline
for k in h h + + - - - -; do tm send-keys -t "$sess" "$k"; sleep 0.1; done
tm capture-pane -p -t "$sess" >"$out/timeline-zoomed.txt"
sed -n 3p "$out/timeline-zoomed.txt" | grep -qE '\+-|[0-9]{7,}|ns' && fail "the Timeline's axis reads $(sed -n 3p "$out/timeline-zoomed.txt")"
for k in + + + +; do tm send-keys -t "$sess" "$k"; sleep 0.1; done
tm capture-pane -p -t "$sess" >"$out/timeline-zoomed-in.txt"
grep -q "◂\|▸\|█\|░\|▌" "$out/timeline-zoomed-in.txt" || fail "no bar in the window after zooming in"

# E on Flows: the flows CSV, as --flows-csv writes it.
tm send-keys -t "$sess" 2 E
wait_for "export [0-9]+ flows? to CSV" flows-prompt
tm send-keys -t "$sess" Enter
wait_for "wrote [0-9]+ flows? to" flows-written
written=$(ls "$out"/dnsflow-*-flows.csv | head -1)
"$bin" -r "$root/Fixtures/lab/race-10s/pod.pcap" --flows-csv - >"$out/expected-flows.csv"
cmp -s "$written" "$out/expected-flows.csv" || fail "E on Flows differs from --flows-csv: $(diff "$written" "$out/expected-flows.csv" | head -5)"

# An ndots:5 walk: its four steps read distinctly at 80x24.
open_capture Fixtures/lab/ndots-external/pod.pcap
tm send-keys -t "$sess" g
wait_without "▾ #" walk
wait_for "NAME" walk
python3 - "$out/walk.txt" <<'PY' || fail "the walk's steps render alike"
import sys
lines = [l for l in open(sys.argv[1], encoding="utf-8").read().split("\n") if len(l) > 30 and l[2:4].isdigit() and l[4] == ":"]
names = {l[30:58].rstrip() for l in lines}
sys.exit(0 if len(names) == 4 else 1)
PY
tm send-keys -t "$sess" q
wait_for "EXITED 0" exited
echo "screens-check: ok"
