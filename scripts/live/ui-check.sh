#!/usr/bin/env bash
# The interface on a live capture, for real: the namespaces and DNS peer of capture-check.sh, `dnsflow -i veth-c`
# in a private tmux server. Checks that queries show while the capture runs (a query never answered stays
# "… waiting"), that `p` holds new rows and releases them, that the status bar says live, and that q exits 0.
# Touches nothing outside its namespaces and its tmux socket; cleans up on every exit; every wait is bounded.
# Usage (as root): scripts/live/ui-check.sh DNSFLOW_BINARY OUTPUT_DIR   (screens are saved in OUTPUT_DIR)
set -euo pipefail
if [[ -z ${DNSFLOW_SIGNALS_RESET:-} ]]; then
  export DNSFLOW_SIGNALS_RESET=1
  exec "$(cd "$(dirname "$0")" && pwd)/../lab/unblock-signals" "$0" "$@"
fi
bin=$1 out=$2
here=$(cd "$(dirname "$0")" && pwd)
client=dnsflow-uc-$$ server=dnsflow-us-$$ sock=dnsflow-ui-$$
pids=()
tm() { tmux -L "$sock" -f /dev/null "$@"; }
cleanup() {
  tm kill-server 2>/dev/null || true
  for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  ip netns del "$client" 2>/dev/null || true
  ip netns del "$server" 2>/dev/null || true
}
trap cleanup EXIT INT TERM
fail() { echo "ui-check: $*" >&2; tm capture-pane -p -t ui >"$out/failed-screen.txt" 2>/dev/null || true; cat "$out/failed-screen.txt" >&2 || true; exit 1; }
# Waits (at most 10 s) until the screen contains $1 (at least $3 times, default once); saves it as $2.
wait_for() {
  local times=${3:-1}
  for _ in $(seq 200); do
    tm capture-pane -p -t ui >"$out/$2.txt" 2>/dev/null || true
    [[ $(grep -cF -- "$1" "$out/$2.txt") -ge $times ]] && return 0
    sleep 0.05
  done
  fail "no '$1' on the screen${3:+ $3 times}"
}
# Waits (at most 10 s) until the screen no longer contains $1; saves it as $2.
wait_gone() {
  for _ in $(seq 200); do
    tm capture-pane -p -t ui >"$out/$2.txt" 2>/dev/null || true
    grep -qF -- "$1" "$out/$2.txt" || return 0
    sleep 0.05
  done
  fail "'$1' still on the screen"
}
mkdir -p "$out"
# shellcheck source=scripts/live/veth-pair.sh
. "$here/veth-pair.sh"
veth_pair "$client" "$server"
ip netns exec "$server" python3 "$here/dns_peer.py" serve 198.18.0.1 30 >"$out/server.txt" 2>&1 & pids+=($!)

tm new-session -d -s ui -x 120 -y 30 \
  "env -u NO_COLOR TERM=xterm-256color ip netns exec $client $bin -i veth-c; echo EXITED \$?; sleep 30" >/dev/null
wait_for "[live]" started
sleep 0.3
ip netns exec "$client" timeout -k 5 15 python3 "$here/dns_peer.py" ask 198.18.0.1 >"$out/client.txt"
wait_for "tcp.lab.example" answered
grep -q "a.lab.example" "$out/answered.txt" || fail "a.lab.example missing"
# The dropped query waits for its answer: shown at once, pending, with its age (the flow header counts it).
grep -q "…1 waiting" "$out/answered.txt" || fail "the unanswered query is not shown as waiting"
grep "drop.lab.example" "$out/answered.txt" | grep -qE "…[0-9.]+ (ms|s)" || fail "the waiting query shows no age"

# Pause: the capture goes on, new rows are held and counted, then released.
tm send-keys -t ui p
wait_for "[paused" paused
ip netns exec "$client" timeout -k 5 15 python3 "$here/dns_peer.py" ask 198.18.0.1 >>"$out/client.txt"
wait_for "[paused +5]" paused-with-rows
grep -qE "(queries|q) 10 " "$out/paused-with-rows.txt" || fail "the status bar does not count the held queries"
tm send-keys -t ui p
wait_for "[live]" resumed
# The held rows come back (each wait is for what the key changes, never for what was on screen before it): grouped,
# or in the flat list `g` shows (no flow headers).
tm send-keys -t ui g
wait_gone "▾ #" flat
wait_for "tcp.lab.example" flat-with-rows 2
tm send-keys -t ui q
wait_for "EXITED" exited
grep -q "EXITED 0" "$out/exited.txt" || fail "dnsflow did not exit 0"
echo "ui-check: ok"
