#!/usr/bin/env bash
# Evidence on screen the moment its packet arrives, for real: a DNS server that drops the first AAAA query of each
# name, a real glibc lookup (`getent ahosts`: A and AAAA in parallel on one socket; the AAAA lost, both re-sent after
# the resolver's 5 s timeout), and dnsflow watching the client's interface:
#   ui      the interface in a private tmux server: within 1.5 s of the re-send the retry marker, the re-send count,
#           the lost query marked as not answered and the conntrack-race finding are on screen; then a query nobody
#           answers shows its age growing with no other traffic.
#   lines   `--no-ui`: the lost query's line is printed within 1 s of its re-send.
#   replay  no network: `--replay` of the lab's 5 s race capture (Fixtures/lab/race-5s/pod.pcap) counts packets as
#           they play, and shows the same evidence within 1.5 s of the re-send's place in the recording.
# Prints one line per measurement (`race-check: … after X.XX s`). Touches nothing outside its namespaces, its
# /etc/netns entry and its tmux socket; cleans up on every exit; every wait is bounded.
# Usage (as root): scripts/live/race-check.sh DNSFLOW_BINARY OUTPUT_DIR ui|lines
set -euo pipefail
if [[ -z ${DNSFLOW_SIGNALS_RESET:-} ]]; then
  export DNSFLOW_SIGNALS_RESET=1
  exec "$(cd "$(dirname "$0")" && pwd)/../lab/unblock-signals" "$0" "$@"
fi
bin=$1 out=$2 mode=$3
here=$(cd "$(dirname "$0")" && pwd)
client=dnsflow-rc-$$ server=dnsflow-rs-$$ sock=dnsflow-race-$$
pids=()
tm() { tmux -L "$sock" -f /dev/null "$@"; }
cleanup() {
  tm kill-server 2>/dev/null || true
  for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  ip netns del "$client" 2>/dev/null || true
  ip netns del "$server" 2>/dev/null || true
  rm -rf "/etc/netns/$client"
}
trap cleanup EXIT INT TERM
fail() {
  echo "race-check: $*" >&2
  if [[ $mode == ui ]]; then tm capture-pane -p -t race >"$out/failed-screen.txt" 2>/dev/null || true; cat "$out/failed-screen.txt" >&2 || true; fi
  exit 1
}
now() { date +%s.%N; }
elapsed() { python3 -c "import sys; print('%.2f' % (float(sys.argv[1]) - float(sys.argv[2])))" "$1" "$2"; }
# The server's log time of the second AAAA query for $1 (the re-send), once it has come (at most 20 s).
resend_time() {
  for _ in $(seq 400); do
    local t
    t=$(awk -v n="$1" '$2 == 28 && $3 == n { c++; if (c == 2) { print $1; exit } }' "$out/server.txt")
    [[ -n $t ]] && { echo "$t"; return 0; }
    sleep 0.05
  done
  fail "no re-send of the AAAA query for $1 reached the server"
}
mkdir -p "$out"
# Waits until every pattern (grep -E) in the arguments is on the screen (at most $DEADLINE, an epoch time); saves it
# as $1.
wait_all() {
  local name=$1; shift
  while :; do
    tm capture-pane -p -t race >"$out/$name.txt" 2>/dev/null || true
    local missing=""
    for s in "$@"; do grep -qE -- "$s" "$out/$name.txt" || missing="$s"; done
    [[ -z $missing ]] && return 0
    python3 -c "import sys, time; sys.exit(time.time() < float(sys.argv[1]))" "$DEADLINE" && fail "$mode: '$missing' not on the screen in time"
    sleep 0.05
  done
}
if [[ $mode == replay ]]; then
  capture=$here/../../Fixtures/lab/race-5s/pod.pcap
  # Where the re-send lies in the recording: seconds after the first packet.
  offset=$("$bin" -r "$capture" --csv - | python3 -c '
import csv, sys, datetime
rows = list(csv.DictReader(sys.stdin))
t = lambda r: datetime.datetime.fromisoformat(r["time"].replace("Z", "+00:00")).timestamp()
first = min(t(r) for r in rows); resend = min(t(r) for r in rows if r["attempt"] == "2")
print("%.6f" % (resend - first))')
  total=$("$bin" -r "$capture" --summary | awk '$1 == "packets" { print $2; exit }')
  start=$(now)
  tm new-session -d -s race -x 120 -y 30 \
    "env -u NO_COLOR TERM=xterm-256color $bin -r $capture --replay; echo EXITED \$?; sleep 30" >/dev/null
  DEADLINE=$(python3 -c "import time; print(time.time() + 3)")
  wait_all playing "\[replay"
  sleep 1
  tm capture-pane -p -t race >"$out/one-second.txt"
  shown=$(grep -oE "(packets|pkts) [0-9]+" "$out/one-second.txt" | awk '{ print $2 }')
  [[ -n $shown && $shown -lt $total ]] || fail "replay: $shown of $total packets counted 1 s into a 5 s recording"
  resent=$(python3 -c "import sys; print(float(sys.argv[1]) + float(sys.argv[2]))" "$start" "$offset")
  DEADLINE=$(python3 -c "import sys; print(float(sys.argv[1]) + 1.5)" "$resent")
  wait_all resent "↻2 \+5" "(re-sends|↻) [1-9]" "✗ no answer" "(packets|pkts) $total"
  echo "race-check: replay: re-send marker, count and lost query on screen $(elapsed "$(now)" "$resent") s after the re-send's time"
  tm send-keys -t race 4
  wait_all finding "conntrack-race"
  echo "race-check: replay: conntrack-race on Findings $(elapsed "$(now)" "$resent") s after the re-send's time"
  tm send-keys -t race q
  DEADLINE=$(python3 -c "import time; print(time.time() + 5)")
  wait_all exited "EXITED 0"
  echo "race-check: ok"
  exit 0
fi
# shellcheck source=scripts/live/veth-pair.sh
. "$here/veth-pair.sh"
veth_pair "$client" "$server"
# The client's resolver: the lab's server only (`ip netns exec` mounts this over /etc/resolv.conf); glibc's defaults.
mkdir -p "/etc/netns/$client"
printf 'nameserver 198.18.0.1\n' >"/etc/netns/$client/resolv.conf"
ip netns exec "$server" python3 "$here/dns_peer.py" serve 198.18.0.1 60 drop-first-aaaa >"$out/server.txt" 2>&1 & pids+=($!)
lookup() {  # a real glibc lookup in the client's namespace, timed
  local start end
  start=$(now)
  ip netns exec "$client" timeout -k 2 20 getent ahosts "$1" >"$out/getent-$1.txt" || true
  end=$(now)
  echo "$1 $(elapsed "$end" "$start")" >>"$out/lookups.txt"
}

if [[ $mode == lines ]]; then
  ip netns exec "$client" "$bin" -i veth-c --no-ui >"$out/lines.txt" 2>"$out/lines.err" & pids+=($!)
  for _ in $(seq 100); do grep -q "listening on" "$out/lines.err" 2>/dev/null && break; sleep 0.05; done
  sleep 0.3
  lookup web.lines.test & pids+=($!)
  resent=$(resend_time web.lines.test)
  for _ in $(seq 60); do
    if grep -q "AAAA? web.lines.test. UNANSWERED" "$out/lines.txt"; then
      echo "race-check: lines: the lost AAAA's line printed after $(elapsed "$(now)" "$resent") s"
      exit 0
    fi
    sleep 0.05
  done
  fail "lines: no line for the lost AAAA 3 s after its re-send: $(cat "$out/lines.txt")"
fi

tm new-session -d -s race -x 120 -y 30 \
  "env -u NO_COLOR TERM=xterm-256color ip netns exec $client $bin -i veth-c; echo EXITED \$?; sleep 30" >/dev/null
DEADLINE=$(python3 -c "import time; print(time.time() + 10)")
wait_all started "\[live\]"
sleep 0.3
lookup web.live.test & pids+=($!)
resent=$(resend_time web.live.test)
DEADLINE=$(python3 -c "import sys; print(float(sys.argv[1]) + 1.5)" "$resent")
# On Queries: the re-send's marker, the count, the original marked as not answered in time.
wait_all resent "↻2 \+5" "(re-sends|↻) [1-9]" "✗ no answer"
echo "race-check: ui: re-send marker, count and lost query on screen after $(elapsed "$(now)" "$resent") s"
tm send-keys -t race 4
wait_all finding "conntrack-race"
echo "race-check: ui: conntrack-race on Findings after $(elapsed "$(now)" "$resent") s"
grep -q "web.live.test" "$out/lookups.txt" 2>/dev/null || sleep 0.5
cat "$out/lookups.txt" >&2 || true

# A query nobody answers ages on screen with no other traffic.
tm send-keys -t race 1
ip netns exec "$client" python3 -c '
import socket, struct
q = struct.pack(">HHHHHH", 0x4242, 0x0100, 1, 0, 0, 0) + b"\x04drop\x03age\x04test\x00" + struct.pack(">HH", 1, 1)
socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(q, ("198.18.0.1", 53))'
DEADLINE=$(python3 -c "import time; print(time.time() + 3)")
wait_all aging-1 "drop\.age\.test"
# The screen redraws the ages once a second: after 3.2 s they have moved on at least 2 s.
sleep 3.2
tm capture-pane -p -t race >"$out/aging-2.txt"
age() { grep "drop.age.test" "$1" | grep -oE "…[0-9.]+ (ms|s)" | head -1 | python3 -c "
import sys; t = sys.stdin.read().strip().lstrip('…'); v, u = t.split(); print('%.2f' % (float(v) / (1000 if u == 'ms' else 1)))"; }
a1=$(age "$out/aging-1.txt") a2=$(age "$out/aging-2.txt") || fail "ui: the unanswered query shows no age"
python3 -c "import sys; a, b = map(float, sys.argv[1:]); sys.exit(0 if b - a >= 2.0 else 1)" "$a1" "$a2" \
  || fail "ui: the unanswered query's age did not grow with the clock ($a1 s, then $a2 s)"
echo "race-check: ui: an unanswered query's age went from $a1 s to $a2 s with no traffic"
tm send-keys -t race q
DEADLINE=$(python3 -c "import time; print(time.time() + 5)")
wait_all exited "EXITED 0"
echo "race-check: ok"
