#!/usr/bin/env bash
# Live capture, for real: two network namespaces joined by a veth pair (198.18.0.0/24 only), a tiny DNS server in
# one, a client in the other, and `dnsflow -i` capturing in the client's namespace until SIGTERM (as a service manager stops it).
# Touches nothing outside its namespaces; cleans up on every exit; every wait is bounded.
# Usage (as root): scripts/live/capture-check.sh DNSFLOW_BINARY OUTPUT_DIR [INTERFACE]
#   INTERFACE is veth-c (default) or any. Writes OUTPUT_DIR/{live.csv,summary.json,stderr.txt,client.txt}.
set -euo pipefail
# Children inherit blocked and ignored signals (test runners leave some): start again without them.
if [[ -z ${DNSFLOW_SIGNALS_RESET:-} ]]; then
  export DNSFLOW_SIGNALS_RESET=1
  exec "$(cd "$(dirname "$0")" && pwd)/../lab/unblock-signals" "$0" "$@"
fi
bin=$1 out=$2 iface=${3:-veth-c}
here=$(cd "$(dirname "$0")" && pwd)
client=dnsflow-c-$$ server=dnsflow-s-$$
pids=()
cleanup() {
  # SIGKILL: a parent may have left SIGTERM blocked in our helpers (test runners do).
  for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  ip netns del "$client" 2>/dev/null || true
  ip netns del "$server" 2>/dev/null || true
}
trap cleanup EXIT INT TERM
mkdir -p "$out"
# shellcheck source=scripts/live/veth-pair.sh
. "$here/veth-pair.sh"
veth_pair "$client" "$server"

# The server bounds itself (20 s); `ip netns exec` execs python, so its pid is ours to kill.
ip netns exec "$server" python3 "$here/dns_peer.py" serve 198.18.0.1 20 >"$out/server.txt" 2>&1 & pids+=($!)
# `ip netns exec` execs dnsflow itself, so $capture is dnsflow's pid.
ip netns exec "$client" "$bin" -i "$iface" --csv "$out/live.csv" --summary --json >"$out/summary.json" 2>"$out/stderr.txt" &
capture=$!
pids+=($capture)
for _ in $(seq 50); do grep -q "listening on" "$out/stderr.txt" 2>/dev/null && break; sleep 0.1; done
sleep 0.3
ip netns exec "$client" timeout -k 5 15 python3 "$here/dns_peer.py" ask 198.18.0.1 >"$out/client.txt"
sleep 0.5
kill -TERM "$capture"
for _ in $(seq 100); do kill -0 "$capture" 2>/dev/null || break; sleep 0.1; done
kill -0 "$capture" 2>/dev/null && { echo "dnsflow did not stop on SIGTERM" >&2; kill -KILL "$capture"; exit 1; }
wait "$capture"
