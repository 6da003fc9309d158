#!/bin/sh
# bench_neural_vs_torch.sh: the encoder's performance goals (issue 4) in one
# command. Runs, RUNS times each and alternately, under the same
# OPENBLAS_CORETYPE:
#   - build/tests/neural/bench_neural (config A, as the peer; and d=512),
#   - the PyTorch peer /work/shared/peers/torch_encoder.py (Debian's
#     python3-torch) with --threads 2,
#   - build/tests/bench/bench_propose on bridge/models/propose-n100.safetensors
#     (the batch-1 forward behind `nsr propose`),
# then prints the median of each figure over the runs side by side, the
# speed-ups of nsr over the peer's "explicit" model (the same op sequence as
# nsr) against the goals, the OpenBLAS core of both sides, and `uptime`
# before and after (timings on a loaded machine mean little).
#
#   tests/bench/bench_neural_vs_torch.sh [BUILD_DIR] [RUNS]
#
# The peer runs with OPENBLAS_NUM_THREADS=${PEER_BLAS_THREADS:-1}, as its
# README advises: torch's own 2 threads each calling a multi-threaded
# OpenBLAS oversubscribe the 2 cores (set PEER_BLAS_THREADS= to leave it
# unset). nsr is timed with the model's automatic thread rule ("nsr"), on
# one thread with one BLAS thread ("nsr-1t"), without the encoder's pool on
# OpenBLAS's own threads ("nsr-blas"), always on the pool of 2
# ("nsr-pool"), and on that pool with the workers on the process's OpenBLAS
# instead of their own ("shared"); see bench_neural.c.
set -eu
build=${1:-build}
runs=${2:-3}
peer=${PEER:-/work/shared/peers/torch_encoder.py}
src=$(cd "$(dirname "$0")/../.." && pwd)
log=$(mktemp)
trap 'rm -f "$log"' EXIT
echo "OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset} OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-unset}"
echo "load before: $(uptime)"
# The core the peer's OpenBLAS picks under the same environment.
peer_core=$(/usr/bin/python3 -c '
import ctypes, torch
lib = ctypes.CDLL("libopenblas.so.0")
lib.openblas_get_corename.restype = ctypes.c_char_p
print(lib.openblas_get_corename().decode())' 2>/dev/null || echo unknown)
i=0
while [ "$i" -lt "$runs" ]; do
  "$build/tests/neural/bench_neural" --steps 300 | tee -a "$log"
  if [ -n "${PEER_BLAS_THREADS-1}" ]; then
    OPENBLAS_NUM_THREADS=${PEER_BLAS_THREADS-1} /usr/bin/python3 "$peer" --threads 2 \
      --steps 300 --malloc-tune | tee -a "$log"
  else
    /usr/bin/python3 "$peer" --threads 2 --steps 300 --malloc-tune | tee -a "$log"
  fi
  "$build/tests/bench/bench_propose" "$src/bridge/models/propose-n100.safetensors" \
    --reps 400 | tee -a "$log"
  i=$((i + 1))
done
echo "load after: $(uptime)"
# Lines look like "nsr train B=64  median  38.928 ms ...",
# "explicit train B=64 (AdamW foreach=None)  median 101.206 ms ...",
# "d=512 train B=64: ... ratio 69%  [Haswell]" and
# "network forward only   median  97.0 us  p90 ...".
awk -v peer_core="$peer_core" '
  function median(key,   n, i, j, t, v) {
    n = count[key]
    if (n == 0) return -1
    for (i = 1; i <= n; i++) v[i] = val[key, i]
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++)
      if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
    return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
  }
  function add(key, x) { val[key, ++count[key]] = x }
  /^config A:/ { for (i = 1; i <= NF; i++) if ($i == "core") core = $(i + 1); sub(",", "", core) }
  /^(nsr|nsr-1t|nsr-blas|nsr-pool|nsr-pool-shared|explicit|nn.TransformerEncoder) (train|infer) / {
    for (i = 1; i <= NF; i++) if ($i == "median") add($1 " " $2 " " $3, $(i + 1))
  }
  /^d=[0-9]+ train/ {
    for (i = 1; i <= NF; i++) if ($i == "ratio") { r = $(i + 1); sub("%", "", r); add("ratio", r) }
    d = $1
  }
  /^nsr_propose / { for (i = 1; i <= NF; i++) if ($i == "median") add("propose", $(i + 1)) }
  /^core-to-core round trip/ { for (i = 1; i <= NF; i++) if ($i == "median") add("bounce", $(i + 1)) }
  /^network forward only/ { for (i = 1; i <= NF; i++) if ($i == "median") add("forward", $(i + 1)) }
  END {
    printf "\nmedians of %d runs; OpenBLAS core: nsr %s, torch %s\n", count["ratio"], core, peer_core
    split("train B=64|infer B=1|infer B=64", what, "|")
    split("2|4|1", goal, "|")
    printf "%-12s %9s %9s %9s %9s %9s %15s %12s %9s %9s %6s\n", "median ms", "nsr", "nsr-1t", \
      "nsr-blas", "nsr-pool", "shared", "torch explicit", "torch stock", "speed-up", "(1t)", "goal"
    for (w = 1; w <= 3; w++) {
      n = median("nsr " what[w]); n1 = median("nsr-1t " what[w])
      nb = median("nsr-blas " what[w]); np = median("nsr-pool " what[w])
      ns = median("nsr-pool-shared " what[w])
      e = median("explicit " what[w]); s = median("nn.TransformerEncoder " what[w])
      printf "%-12s %9.3f %9.3f %9.3f %9.3f %9.3f %15.3f %12.3f %8.2fx %8.2fx %5s\n", what[w], n, \
        n1, nb, np, ns, e, s, e / n, e / n1, (w == 3 ? "-" : ">=" goal[w] "x")
    }
    printf "%s training matmuls: %.0f%% of cblas_sgemm alone on the same shapes (goal >= 60%%)\n", \
      d, median("ratio")
    printf "nsr propose (bench_propose): %.1f us per query, network forward %.1f us (goal <= 100 us per query)\n", \
      median("propose"), median("forward")
    printf "core-to-core round trip: %.0f ns (batch 1 on the pool is slower when the two cores are far apart)\n", \
      median("bounce")
  }' "$log"
