#!/usr/bin/env bash
# An interface that goes down (or away) during a live capture: two network namespaces joined by a veth pair
# (198.18.0.0/24 only), a tiny DNS server and client, `dnsflow -i veth-c` capturing in the client's namespace, then
# the client's end of the pair set down (or deleted). dnsflow must end by itself within 5 s, keep what it captured
# (the CSV), say why, and — in the interface, run in tmux — give the terminal back.
# Touches nothing outside its namespaces; cleans up on every exit; every wait is bounded.
# Usage (as root): scripts/live/down-check.sh DNSFLOW_BINARY OUTPUT_DIR down|delete [batch|ui]
#   Writes OUTPUT_DIR/{live.csv (batch),stderr.txt,status.txt,screen-before.txt,screen-after.txt (ui)}.
set -euo pipefail
if [[ -z ${DNSFLOW_SIGNALS_RESET:-} ]]; then
  export DNSFLOW_SIGNALS_RESET=1
  exec "$(cd "$(dirname "$0")" && pwd)/../lab/unblock-signals" "$0" "$@"
fi
bin=$1 out=$2 how=$3 mode=${4:-batch}
here=$(cd "$(dirname "$0")" && pwd)
client=dnsflow-dc-$$ server=dnsflow-ds-$$ sock=dnsflow-down-$$
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  tmux -L "$sock" kill-server 2>/dev/null || true
  ip netns del "$client" 2>/dev/null || true
  ip netns del "$server" 2>/dev/null || true
}
trap cleanup EXIT INT TERM
mkdir -p "$out"
# shellcheck source=scripts/live/veth-pair.sh
. "$here/veth-pair.sh"
veth_pair "$client" "$server"
ip netns exec "$server" python3 "$here/dns_peer.py" serve 198.18.0.1 20 >"$out/server.txt" 2>&1 & pids+=($!)

if [ "$mode" = batch ]; then
  ip netns exec "$client" "$bin" -i veth-c --csv "$out/live.csv" >/dev/null 2>"$out/stderr.txt" &
  capture=$!
  pids+=($capture)
  for _ in $(seq 50); do grep -q "listening on" "$out/stderr.txt" 2>/dev/null && break; sleep 0.1; done
else
  tmux -L "$sock" -f /dev/null new-session -d -s ui -x 120 -y 30 \
    "ip netns exec $client env TERM=xterm-256color $bin -i veth-c 2>$out/stderr.txt; echo EXITED \$? >$out/status.txt; sleep 30"
  for _ in $(seq 50); do tmux -L "$sock" capture-pane -p -t ui | grep -q "veth-c" && break; sleep 0.1; done
fi
sleep 0.3
ip netns exec "$client" timeout -k 5 15 python3 "$here/dns_peer.py" ask 198.18.0.1 >"$out/client.txt"
sleep 0.5
[ "$mode" = ui ] && tmux -L "$sock" capture-pane -p -t ui >"$out/screen-before.txt"
if [ "$how" = down ]; then ip -n "$client" link set veth-c down; else ip -n "$client" link del veth-c; fi

if [ "$mode" = batch ]; then
  for _ in $(seq 50); do kill -0 "$capture" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$capture" 2>/dev/null; then echo "dnsflow still running 5 s after the interface went $how" >&2; exit 1; fi
  set +e; wait "$capture"; echo "EXITED $?" >"$out/status.txt"; set -e
else
  # The interface shows the capture ended (within 5 s); q then quits and gives the terminal back.
  for _ in $(seq 50); do tmux -L "$sock" capture-pane -p -t ui | grep -q "\[ended\]" && break; sleep 0.1; done
  sleep 0.3
  tmux -L "$sock" capture-pane -p -t ui >"$out/screen-ended.txt"
  tmux -L "$sock" send-keys -t ui q
  for _ in $(seq 50); do [ -s "$out/status.txt" ] && break; sleep 0.1; done
  tmux -L "$sock" capture-pane -p -t ui >"$out/screen-after.txt"
  [ -s "$out/status.txt" ] || { echo "the interface did not quit" >&2; exit 1; }
fi
cat "$out/status.txt"
