#!/usr/bin/env bash
# Capturing without root: a copy of dnsflow given cap_net_raw,cap_net_admin by setcap, run as nobody in a private
# network namespace on its loopback (the lab's tiny DNS server and client on 198.18.0.1 there). dnsflow must capture,
# then hold no capability once the capture is open (CapPrm and CapEff 0 in /proc), and write its CSV as nobody.
# Touches nothing outside its namespace; cleans up on every exit.
# Usage (as root, with setcap and setpriv): scripts/live/setcap-check.sh DNSFLOW_BINARY OUTPUT_DIR
#   Writes OUTPUT_DIR/{status.txt (the /proc lines), live.csv, stderr.txt, client.txt}.
set -euo pipefail
if [[ -z ${DNSFLOW_SIGNALS_RESET:-} ]]; then
  export DNSFLOW_SIGNALS_RESET=1
  exec "$(cd "$(dirname "$0")" && pwd)/../lab/unblock-signals" "$0" "$@"
fi
bin=$1 out=$2
here=$(cd "$(dirname "$0")" && pwd)
ns=dnsflow-cap-$$
work=$(mktemp -d /tmp/dnsflow-setcap-XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  ip netns del "$ns" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT INT TERM
mkdir -p "$out"
chmod 755 "$work"
install -m 755 "$bin" "$work/dnsflow"
setcap cap_net_raw,cap_net_admin=eip "$work/dnsflow"
mkdir -m 777 "$work/out"
ip netns add "$ns"
ip -n "$ns" link set lo up
ip -n "$ns" addr add 198.18.0.1/32 dev lo
ip netns exec "$ns" python3 "$here/dns_peer.py" serve 198.18.0.1 20 >"$out/server.txt" 2>&1 & pids+=($!)
ip netns exec "$ns" setpriv --reuid=nobody --regid=nogroup --clear-groups \
  "$work/dnsflow" -i lo --csv "$work/out/live.csv" "host 198.18.0.1" >/dev/null 2>"$out/stderr.txt" &
capture=$!
pids+=($capture)
for _ in $(seq 50); do grep -q "listening on" "$out/stderr.txt" 2>/dev/null && break; sleep 0.1; done
dnsflow_pid=$(pgrep -f "^$work/dnsflow -i lo" | head -1)
grep -E "^(Uid|CapPrm|CapEff):" "/proc/$dnsflow_pid/status" >"$out/status.txt"
ip netns exec "$ns" timeout -k 5 15 python3 "$here/dns_peer.py" ask 198.18.0.1 >"$out/client.txt"
sleep 0.5
kill -TERM "$dnsflow_pid"
for _ in $(seq 50); do kill -0 "$dnsflow_pid" 2>/dev/null || break; sleep 0.1; done
set +e; wait "$capture"; echo "EXITED $?" >>"$out/status.txt"; set -e
stat -c "owner %U" "$work/out/live.csv" >>"$out/status.txt"
cp "$work/out/live.csv" "$out/live.csv"
cat "$out/status.txt"
