#!/usr/bin/env bash
# tests/fuzz/run.sh SECONDS [HARNESS...]: builds the libFuzzer harnesses in
# build-fuzz/ (clang, ASan + UBSan, -fsanitize=fuzzer-no-link in c_args,
# which is what tests/fuzz/meson.build looks for) and runs each harness for
# SECONDS, FUZZ_JOBS at a time (default 1), printing executions and
# coverage. The seed corpora (tests/fuzz/corpus/NAME, plus programs/ and
# the checkpoint fixtures) are read-only inputs; what the fuzzer learns goes
# to build-fuzz/corpus/NAME and crashes to build-fuzz/crashes/. Exits 1 when
# any harness crashed, leaked, timed out or ran out of memory.
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:?usage: tests/fuzz/run.sh SECONDS [HARNESS...]}
shift
all=(lang_read lang_eval mcp safetensors numbers sql)
harnesses=("${@:-${all[@]}}")
jobs=${FUZZ_JOBS:-1}
out=build-fuzz

if [ ! -f $out/build.ninja ]; then
  CC=clang meson setup $out -Dwerror=true -Dc_args=-fsanitize=fuzzer-no-link \
    -Db_sanitize=address,undefined -Db_lundef=false >/dev/null
fi
meson compile -C $out "${harnesses[@]/#/fuzz_}" >$out/compile.log 2>&1 ||
  { tail -40 $out/compile.log; echo "fuzz: building the harnesses failed (log: $out/compile.log)"; exit 1; }

# Extra seed directories per harness, beyond tests/fuzz/corpus/NAME.
extra_seeds() {
  case $1 in
    lang_read|lang_eval) echo programs ;;
    safetensors) echo tests/neural/fixtures ;;
  esac
}

# Seconds one input may take before libFuzzer calls it a hang: ten times
# the harness's budgets; fuzz_mcp's inputs hold up to 8 calls of up to 2 s
# each (see there).
unit_timeout() {
  case $1 in
    mcp) echo 30 ;;
    *) echo 10 ;;
  esac
}

run_one() {
  local name=$1 corpus=$out/corpus/$1 log=$out/logs/$1.log seeds=()
  mkdir -p "$corpus" $out/crashes $out/logs
  [ -d tests/fuzz/corpus/$name ] && seeds+=(tests/fuzz/corpus/$name)
  for d in $(extra_seeds "$name"); do seeds+=("$d"); done
  # close_fd_mask=3: the harnesses' own stdout and stderr (nsr numbers
  # prints) are discarded; libFuzzer and sanitizer reports still show.
  local status=0
  UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 ASAN_OPTIONS=detect_leaks=1 \
    "$out/tests/fuzz/fuzz_$name" -max_total_time="$seconds" -timeout="$(unit_timeout "$name")" -rss_limit_mb=2048 \
      -max_len=65536 -close_fd_mask=3 -print_final_stats=1 \
      -artifact_prefix="$out/crashes/$name-" "$corpus" "${seeds[@]}" >"$log" 2>&1 || status=$?
  local execs cov ft
  # -a: a harness's discarded output can still leave NUL bytes in the log;
  # the last stat line is the run's total.
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  read -r cov ft < <(grep -a -E '^#[0-9]+' "$log" | tail -1 |
    sed -E 's/.* cov: ([0-9]+) ft: ([0-9]+).*/\1 \2/') || true
  printf '%-12s %4ss  execs %-10s cov %-6s ft %-6s %s\n' "$name" "$seconds" "${execs:-?}" \
    "${cov:-?}" "${ft:-?}" "$([ $status -eq 0 ] && echo ok || echo "FAILED (see $log)")"
  return $status
}

failed=0
running=0
for name in "${harnesses[@]}"; do
  run_one "$name" &
  running=$((running + 1))
  if [ $running -ge "$jobs" ]; then
    wait -n || failed=1
    running=$((running - 1))
  fi
done
while [ $running -gt 0 ]; do
  wait -n || failed=1
  running=$((running - 1))
done
exit $failed
