#!/usr/bin/env bash
# run_numbers.sh: nsr's number game side by side with the WebPPL peer
# (../shared/peers/numbergame.wppl: same model, exact enumeration).
#
# Usage: tests/bench/run_numbers.sh BUILD_DIR [--quick]
# Runs bench_numbers (median per-query latency at N = 100 and N = 10,000,
# and --batch throughput), then WebPPL's Infer on the same eight sets several
# times, and prints the ratio of medians. --quick (used by CI) runs a few
# repetitions and skips the peer unless it is already installed.
set -euo pipefail
build=${1:?usage: run_numbers.sh BUILD_DIR [--quick]}
quick=${2:-}
here=$(cd "$(dirname "$0")" && pwd)
peer_dir=${NSR_PEER_DIR:-/tmp/peers}
peer_src=${NSR_PEER_WPPL:-$here/../../../shared/peers/numbergame.wppl}

if [ "$quick" = --quick ]; then reps=5; lines=2000; peer_runs=1; else reps=300; lines=50000; peer_runs=5; fi

out=$("$build/tests/bench/bench_numbers" --reps "$reps" --batch-lines "$lines" --nsr "$build/nsr")
echo "$out" | grep -v '^result '
nsr_us=$(echo "$out" | sed -n 's/^result median_us_n100=//p')

webppl="$peer_dir/node_modules/.bin/webppl"
if [ ! -x "$webppl" ] && [ "$quick" != --quick ] && command -v npm >/dev/null; then
  mkdir -p "$peer_dir" && (cd "$peer_dir" && npm install --silent webppl@0.9.15 >/dev/null 2>&1) || true
fi
if [ ! -x "$webppl" ] || [ ! -f "$peer_src" ]; then
  echo "peer: WebPPL not available (npm install webppl@0.9.15 in $peer_dir); ratio not measured"
  exit 0
fi
times=()
for ((run = 0; run < peer_runs; run++)); do
  for x in 16 60 16,8,2,64 60,52,57,55 25,4,36,81 23,16,19,20 80,10,60,30 98,81,86,93; do
    t=$("$webppl" "$peer_src" -- --x "$x" --prior pmtk3 | sed -n 's/.*infer=\([0-9.]*\).*/\1/p')
    times+=("$t")
  done
done
peer_ms=$(printf '%s\n' "${times[@]}" | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}')
echo "peer WebPPL 0.9.15 Infer (enumerate), N=100: median ${peer_ms} ms per query (${#times[@]} queries)"
awk -v p="$peer_ms" -v n="$nsr_us" 'BEGIN { printf "ratio: nsr is %.0fx faster per query than WebPPL (N=100, medians)\n", p * 1000 / n }'
