#!/usr/bin/env bash
# Byte-for-byte comparison of two dnsflow binaries' batch outputs (--csv, --flows-csv, --summary, --summary --json,
# and the line output) on every capture under Fixtures/ and, when it exists, ../shared/corpus.
# Usage: scripts/check/compare-outputs.sh OLD_BINARY NEW_BINARY [CAPTURE...]
# Prints each difference; exits 1 if there is any.
set -uo pipefail
old=$1 new=$2; shift 2
root=$(cd "$(dirname "$0")/../.." && pwd)
if (($#)); then captures=("$@"); else
  mapfile -t captures < <(find "$root/Fixtures" "$root/../shared/corpus" -type f \( -name '*.pcap' -o -name '*.pcapng' -o -name '*.cap' -o -name '*.pcap.gz' \) 2>/dev/null | sort)
fi
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
differ=0 runs=0
for c in "${captures[@]}"; do
  for mode in "--csv -" "--flows-csv -" "--summary" "--summary --json" "--no-ui"; do
    # shellcheck disable=SC2086
    timeout 120 "$old" -r "$c" $mode >"$tmp/old" 2>"$tmp/old.err"; a=$?
    # shellcheck disable=SC2086
    timeout 120 "$new" -r "$c" $mode >"$tmp/new" 2>"$tmp/new.err"; b=$?
    runs=$((runs + 1))
    if [[ $a != "$b" ]] || ! cmp -s "$tmp/old" "$tmp/new"; then
      differ=$((differ + 1))
      echo "DIFFERS: $c $mode (exit $a vs $b)"
      diff "$tmp/old" "$tmp/new" | head -8
    fi
  done
done
echo "compare-outputs: $runs runs, $differ differ"
((differ == 0))
