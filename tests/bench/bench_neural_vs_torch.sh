#!/bin/sh
# bench_neural_vs_torch.sh: runs bench_neural and the PyTorch peer
# (/work/shared/peers/torch_encoder.py, Debian's python3-torch) alternately,
# RUNS times each under the same OPENBLAS_CORETYPE, and prints the median of
# each figure over the runs and the speed-up of nsr over the peer's
# "explicit" model (the same op sequence as nsr), for nsr with OpenBLAS's
# default thread count and with one BLAS thread.
#
#   tests/bench/bench_neural_vs_torch.sh [BUILD_DIR] [RUNS]
#
# The peer runs with OPENBLAS_NUM_THREADS=${PEER_BLAS_THREADS:-1}, as its
# README advises: torch's own 2 threads each calling a multi-threaded
# OpenBLAS oversubscribe the 2 cores (set PEER_BLAS_THREADS= to leave it
# unset).
set -eu
build=${1:-build}
runs=${2:-3}
peer=${PEER:-/work/shared/peers/torch_encoder.py}
log=$(mktemp)
trap 'rm -f "$log"' EXIT
echo "OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset} OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-unset}"
i=0
while [ "$i" -lt "$runs" ]; do
  "$build/tests/neural/bench_neural" --steps 300 | tee -a "$log"
  if [ -n "${PEER_BLAS_THREADS-1}" ]; then
    OPENBLAS_NUM_THREADS=${PEER_BLAS_THREADS-1} /usr/bin/python3 "$peer" --threads 2 \
      --steps 300 --malloc-tune | tee -a "$log"
  else
    /usr/bin/python3 "$peer" --threads 2 --steps 300 --malloc-tune | tee -a "$log"
  fi
  i=$((i + 1))
done
# Lines look like "nsr train B=64  median  38.928 ms ..." and
# "explicit train B=64 (AdamW foreach=None)  median 101.206 ms ...".
awk '
  function median(key,   n, i, j, t, v) {
    n = count[key]
    for (i = 1; i <= n; i++) v[i] = val[key, i]
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++)
      if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
    return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
  }
  /^(nsr|nsr-1t|explicit|nn.TransformerEncoder) (train|infer) / {
    for (i = 1; i <= NF; i++) if ($i == "median") ms = $(i + 1)
    key = $1 " " $2 " " $3
    val[key, ++count[key]] = ms
  }
  END {
    split("train B=64|infer B=1|infer B=64", what, "|")
    printf "%-12s %10s %10s %14s %14s %9s %9s\n", "median ms", "nsr", "nsr-1t", \
      "torch explicit", "torch stock", "speed-up", "(1t)"
    for (w = 1; w <= 3; w++) {
      n = median("nsr " what[w]); n1 = median("nsr-1t " what[w])
      e = median("explicit " what[w]); s = median("nn.TransformerEncoder " what[w])
      printf "%-12s %10.3f %10.3f %14.3f %14.3f %8.2fx %8.2fx\n", what[w], n, n1, e, s, e / n, e / n1
    }
  }' "$log"
