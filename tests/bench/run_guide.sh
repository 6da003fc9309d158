#!/usr/bin/env bash
# run_guide.sh: what the shipped guides buy (issue 17, "Measure").
#
# Usage: tests/bench/run_guide.sh BUILD_DIR [--brief]
# On programs/spaces/large.json (enumerated once, exact inference as the
# reference): guided and unguided Metropolis-Hastings and importance
# sampling, time to max |error| <= 0.01, error at 10 ms / 100 ms / 1 s, one
# exact query, top-10 recall of the exact MAP, over 200 held-out sets from
# the prior plus Tenenbaum's 8 and Bigelow & Piantadosi's test sets. On
# programs/spaces/deep.json (not enumerable): guided against unguided chains
# and a pooled reference over 200 held-out sets plus the same human sets.
# --brief (for .ci's short bench run) takes 3 held-out sets, no human sets,
# a 0.05 s cap and equal-time errors on 1 set.
set -euo pipefail
build=${1:?usage: run_guide.sh BUILD_DIR [--brief]}
here=$(cd "$(dirname "$0")" && pwd)
root=$here/../..
bench=$build/tests/bench/bench_guide
if [[ ${2:-} == --brief ]]; then
  args=(--sets 3 --cap 0.05 --equal 1)
else
  args=(--sets 200 --cap 0.5 --equal 30 --human "$root/tests/data")
fi
echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"
for space in large deep; do
  "$bench" "$root/programs/spaces/$space.json" "$root/bridge/models/guide-$space.safetensors" "${args[@]}"
done
