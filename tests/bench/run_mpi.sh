#!/usr/bin/env bash
# run_mpi.sh: nsr over several processes (issue 9) on this machine.
#
# Usage: tests/bench/run_mpi.sh BUILD_DIR [--quick]
# Training: bench_mpi (data-parallel `nsr train` steps, default model d 64,
# 2 layers, global batch 64) alone with OPENBLAS_NUM_THREADS=1 and =2, and
# under mpirun -np 2 with 1 thread per rank; median examples/s over runs,
# per-step compute and communication, allreduce bytes per step. Batch
# inference: `nsr numbers --batch` alone and with 2 ranks (wall time, so
# process and MPI start-up are included). Efficiency = rate at P=2 / (2 x
# rate at P=1, 1 thread). Then an estimate for a cluster from the measured
# compute per step and the allreduce size. --quick (CI) runs once, briefly.
set -euo pipefail
build=${1:?usage: run_mpi.sh BUILD_DIR [--quick]}
quick=${2:-}
bench="$build/tests/bench/bench_mpi"
nsr="$build/nsr"
if ! grep -q 'define NSR_HAVE_MPI 1' "$build/core/nsr_config.h" || ! command -v mpirun >/dev/null; then
  echo "run_mpi.sh: $build was built without MPI (or mpirun is missing); nothing to measure"
  exit 0
fi
# As root in a container, on 2 cores: see bridge/cli/README.md (MPI).
# Waiting ranks yield the core (the machine is shared; a spinning rank would
# take CPU from the rank it waits for).
mpirun=(mpirun --allow-run-as-root --oversubscribe --mca btl self,vader
        --mca btl_vader_single_copy_mechanism none --mca mpi_yield_when_idle 1 -x OPENBLAS_NUM_THREADS)
if [ "$quick" = --quick ]; then reps=1; steps=8; lines=1000; else reps=5; steps=60; lines=20000; fi

median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p"; }

# train LABEL THREADS [mpirun -np P]: runs bench_mpi reps times; prints the
# medians of each figure as one line and remembers it in $last.
train() {
  local label=$1 threads=$2; shift 2
  local runs=""
  for ((r = 0; r < reps; r++)); do
    runs+=$(OPENBLAS_NUM_THREADS=$threads "$@" "$bench" --steps "$steps")$'\n'
  done
  last=""
  for f in examples_per_s compute_ms compute_cpu_ms comm_ms bare_allreduce_ms; do
    last+=" $f=$(printf '%s' "$runs" | field "$f" | median)"
  done
  local one
  one=" $(printf '%s' "$runs" | head -1)"
  last+=" allreduce_bytes=$(echo "$one" | field allreduce_bytes)"
  echo "train $label: ranks=$(echo "$one" | field ranks) blas_threads=$threads$last"
  echo "  (blas_core=$(echo "$one" | field blas_core) params=$(echo "$one" | field params)" \
       "batch=$(echo "$one" | field batch) d_model=$(echo "$one" | field d_model) layers=$(echo "$one" | field layers))"
}

# run_batch FILE CMD...: medians of wall and CPU (user + system, every
# process) seconds of `CMD nsr numbers --batch FILE`, as "wall cpu".
run_batch() {
  local file=$1; shift
  local walls=() cpus=() t
  for ((r = 0; r < reps; r++)); do
    t=$( { TIMEFORMAT='%R %U %S'; time OPENBLAS_NUM_THREADS=1 "$@" "$nsr" numbers --batch "$file" --top 10 \
           > /dev/null 2>&1; } 2>&1 )
    walls+=("${t%% *}")
    cpus+=("$(echo "$t" | awk '{print $2 + $3}')")
  done
  echo "$(printf '%s\n' "${walls[@]}" | median) $(printf '%s\n' "${cpus[@]}" | median)"
}

# infer LABEL [mpirun -np P]: sets/s of `nsr numbers --batch` with and
# without start-up (the same command on an empty file: process and MPI
# start, the engine's tables); $rate is the latter.
infer() {
  local label=$1; shift
  local full empty
  full=$(run_batch "$input" "$@")
  empty=$(run_batch /dev/null "$@")
  rate=$(awk -v n="$lines" -v f="${full%% *}" -v e="${empty%% *}" 'BEGIN {printf "%.0f", n / (f - e)}')
  awk -v n="$lines" -v f="$full" -v e="$empty" -v l="$label" 'BEGIN {
    split(f, a, " "); split(e, b, " ")
    printf "batch inference %s: %d sets in %.3f s (%.0f sets/s); start-up %.3f s; without it %.0f sets/s;", l, n, a[1], n / a[1], b[1], n / (a[1] - b[1])
    printf " CPU %.2f s (start-up %.2f s)\n", a[2], b[2] }'
}

echo "load: $(uptime)"
echo "$steps steps per run, medians of $reps runs"
train "P=1" 1;                 p1=$last
train "P=1" 2;                 p1t2=$last
train "P=2" 1 "${mpirun[@]}" -np 2; p2=$last

input=$(mktemp)
trap 'rm -f "$input"' EXIT
awk -v n="$lines" 'BEGIN {srand(9); for (i = 0; i < n; i++) {k = 1 + int(rand() * 4); s = "";
  for (j = 0; j < k; j++) s = s (j ? " " : "") (1 + int(rand() * 100)); print s}}' > "$input"
infer "P=1";                         i1=$rate
infer "P=2" "${mpirun[@]}" -np 2;    i2=$rate

get() { echo " $1" | field "$2"; }
awk -v a="$(get "$p1" examples_per_s)" -v b="$(get "$p2" examples_per_s)" -v c="$(get "$p1t2" examples_per_s)" \
    -v i1="$i1" -v i2="$i2" 'BEGIN {
  printf "training efficiency P=2 vs P=1 (1 thread each): %.2f (speed-up %.2fx); vs P=1 with 2 BLAS threads: %.2fx\n", b / (2 * a), b / a, b / c
  printf "batch inference efficiency P=2 vs P=1 (start-up excluded): %.2f (speed-up %.2fx)\n", i2 / (2 * i1), i2 / i1 }'
# Contention-free view: CPU time of one rank'"'"'s compute per step (half the
# batch at P=2) against the whole batch at P=1, plus the bare allreduce.
awk -v c1="$(get "$p1" compute_cpu_ms)" -v c2="$(get "$p2" compute_cpu_ms)" -v ar="$(get "$p2" bare_allreduce_ms)" 'BEGIN {
  printf "CPU view: compute per step %.2f ms at P=1, %.2f ms per rank at P=2, bare allreduce %.3f ms:", c1, c2, ar
  printf " efficiency on idle cores %.2f\n", c1 / (2 * (c2 + ar)) }'

# Cluster estimate: global batch fixed (strong scaling); compute per step
# splits P ways (t1 / P, t1 measured at P=1, 1 thread, i.e. nodes as fast
# as one core here; CPU time, free of this machine's contention); ring allreduce of S bytes costs 2(P-1)/P * S / bw plus
# 2(P-1) latencies. Weak scaling (batch per rank fixed): t1 per step.
awk -v t1="$(get "$p1" compute_cpu_ms)" -v S="$(get "$p1" allreduce_bytes)" 'BEGIN {
  split("10 25", gbit); split("25 10", lat_us)
  printf "cluster estimate (per-step compute %.2f ms for the global batch, allreduce %.2f MB):\n", t1, S / 1e6
  for (k = 1; k <= 2; k++) {
    bw = gbit[k] * 1e9 / 8; a = lat_us[k] * 1e-6
    line = sprintf("  %2d Gb/s Ethernet (latency %d us):", gbit[k], lat_us[k])
    for (P = 2; P <= 32; P *= 2) {
      comm = (2 * (P - 1) / P * S / bw + 2 * (P - 1) * a) * 1e3
      strong = t1 / (P * (t1 / P + comm)); weak = t1 / (t1 + comm)
      line = line sprintf("  P=%d %.2f/%.2f", P, strong, weak)
    }
    print line "   (efficiency strong/weak)"
  } }'
