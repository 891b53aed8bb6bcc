#!/usr/bin/env bash
# Every public capture (../shared/corpus, its bad-input folder included, and Fixtures/captures) through dnsflow under
# AddressSanitizer (with LeakSanitizer) and under valgrind's memcheck: no error or leak report, no crash, and each
# file dnsflow refuses or finds cut says so in a line on stderr.
#
#   scripts/check/corpus-sanitizers.sh [asan|valgrind|both] [CORPUS_DIR]      (default: both, ../shared/corpus)
#
# asan: a debug build with -sanitize=address in .build-asan/ (glibc's allocator: jemalloc is for release builds).
# valgrind: the release build, its DWARF 5 debug information stripped (valgrind 3.19 cannot read it; symbols stay),
# jemalloc's functions replaced by valgrind's. Each file runs as `--summary --json` and `--csv /dev/null
# --flows-csv /dev/null` (every output path). Writes a line per file and a total; exits 1 on any finding.
set -uo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
mode=${1:-both}
corpus=${2:-../shared/corpus}
files=$( { [ -d "$corpus" ] && find "$corpus" -type f ! -name '*.tsv' ! -name '*.md' ! -name '*.txt'; find Fixtures/captures -type f; } | sort)
[ -n "$files" ] || { echo "no captures found" >&2; exit 1; }
out=.build/sanitizers
mkdir -p "$out"
failures=0

check() {  # tool, file, status, stderr file
  local tool=$1 file=$2 status=$3 err=$4
  if grep -qE "ERROR: (AddressSanitizer|LeakSanitizer)|SUMMARY: AddressSanitizer|definitely lost: [1-9]|ERROR SUMMARY: [1-9]|Invalid (read|write)|uninitialised" "$err"; then
    echo "FAIL $tool $file: report in $err"; failures=$((failures + 1)); return
  fi
  if [ "$status" -ge 128 ] || { [ "$status" -ne 0 ] && [ "$status" -ne 1 ] && [ "$status" -ne 2 ]; }; then
    echo "FAIL $tool $file: exit $status"; failures=$((failures + 1)); return
  fi
  if [ "$status" -ne 0 ] && ! grep -q "^dnsflow: " "$err"; then
    echo "FAIL $tool $file: exit $status without a message"; failures=$((failures + 1)); return
  fi
  local said=""
  [ "$status" -ne 0 ] && said=" — $(grep -m1 '^dnsflow: ' "$err" | cut -c1-150)"
  echo "ok   $tool $file (exit $status)$said"
}

run_all() {  # tool, command prefix…
  local tool=$1; shift
  local n=0
  while IFS= read -r f; do
    n=$((n + 1))
    for args in "--summary --json" "--csv /dev/null --flows-csv /dev/null"; do
      local err="$out/$tool-$n-${args%% *}.err"
      # shellcheck disable=SC2086
      "$@" -r "$f" $args >/dev/null 2>"$err"
      check "$tool" "$f [$args]" $? "$err"
    done
  done <<<"$files"
}

if [ "$mode" = asan ] || [ "$mode" = both ]; then
  echo "building with AddressSanitizer…" >&2
  swift build --build-path .build-asan --sanitize=address --product dnsflow >/dev/null || exit 1
  export ASAN_OPTIONS=detect_leaks=1:halt_on_error=0:exitcode=99
  run_all asan "$(swift build --build-path .build-asan --sanitize=address --show-bin-path)/dnsflow"
fi
if [ "$mode" = valgrind ] || [ "$mode" = both ]; then
  command -v valgrind >/dev/null || { echo "valgrind not installed (apt-get install valgrind)" >&2; exit 1; }
  echo "building release for valgrind…" >&2
  swift build -c release --product dnsflow >/dev/null || exit 1
  objcopy --strip-debug .build/release/dnsflow "$out/dnsflow-valgrind"
  run_all valgrind valgrind --quiet --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
    --soname-synonyms=somalloc=*jemalloc* "$out/dnsflow-valgrind"
fi
echo "$failures findings"
[ "$failures" -eq 0 ]
