#!/usr/bin/env bash
# run_guide.sh: what the shipped guides buy (issue 17, "Measure").
#
# Usage: tests/bench/run_guide.sh BUILD_DIR [--brief | --cap S]
# On programs/spaces/large.json (enumerated once, exact inference as the
# reference): guided and unguided Metropolis-Hastings and importance
# sampling, time to max |error| <= 0.01, error at 10 ms / 100 ms / 1 s, one
# exact query, recall of the exact MAP among the guide's proposals (two
# ways: see bench_guide.c), over 200 held-out sets from the prior plus
# Tenenbaum's 8 and Bigelow & Piantadosi's test sets. On
# programs/spaces/deep.json (not enumerable): guided against unguided chains
# and a pooled reference over 200 held-out sets plus the same human sets.
# --cap S: the longest single run of the time-to-error search (default
# 0.5 s); a method whose median run is capped reports only a bound, and
# the search costs about 2-4 S per capped set and method.
# --brief (for .ci's short bench run) takes 3 held-out sets, no human sets,
# a 0.05 s cap and equal-time errors on 1 set.
set -euo pipefail
build=${1:?usage: run_guide.sh BUILD_DIR [--brief | --cap S]}
here=$(cd "$(dirname "$0")" && pwd)
root=$here/../..
bench=$build/tests/bench/bench_guide
cap=0.5
case ${2:-} in
  --brief) args=(--sets 3 --cap 0.05 --equal 1) ;;
  --cap) cap=${3:?--cap needs seconds} ;&
  *) args=(--sets 200 --cap "$cap" --equal 30 --human "$root/tests/data") ;;
esac
echo "load at the start: $(cut -d' ' -f1-3 /proc/loadavg)"
for space in large deep; do
  "$bench" "$root/programs/spaces/$space.json" "$root/bridge/models/guide-$space.safetensors" "${args[@]}"
done
echo "load at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
