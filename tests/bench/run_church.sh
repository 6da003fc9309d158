#!/usr/bin/env bash
# run_church.sh: the Church benchmark suite (issue 18, "Measure"): the
# probmods-style programs of tests/bench/church/suite.txt in nsr and in
# their WebPPL 0.9.15 translations, side by side in one run.
#
# Usage: tests/bench/run_church.sh BUILD_DIR [--brief] [--runs N] [--only NAME]
#                                  [--gc] [--mcp]
#
#   (default)  every program, N = 5 runs each, nsr and WebPPL interleaved
#   --brief    CI: the programs marked "brief", one run each, answers only;
#              WebPPL only if it is already installed
#   --gc       also the collector's share of nsr's time per program (perf
#              samples with call stacks inside a collection, lang_gc.c)
#   --mcp      also the MCP run_program round trip per program
#              (bench_church_mcp.mjs on `nsr mcp`, median of N calls)
#
# Timing: nsr's whole process (`nsr run --json FILE`, wall and CPU) against
# WebPPL's Infer alone: node's start-up and compilation are excluded by
# timing inside the program (performance.now and process.cpuUsage around the
# translation's body, which the runner wraps). Medians of N runs each. The
# ratio is WebPPL's Infer wall time over nsr's process wall time; at the end
# the geometric mean of the ratios, and the load average before and after.
#
# Answers: every answer is checked against the program's reference (an
# independent derivation, in suite.txt) and nsr's against WebPPL's: exact
# programs to 1e-9, samplers within 4 standard errors (4 sqrt(2) between the
# two estimates). A mismatch or a failed run is a failure (exit 1). A
# method nsr does not have yet (SMC until it lands) is "not supported" and
# not counted as a failure. WebPPL is installed with npm into NSR_PEER_DIR
# (default /tmp/peers) when missing; without it the figures are nsr's alone.
set -euo pipefail
usage='usage: run_church.sh BUILD_DIR [--brief] [--runs N] [--only NAME] [--gc] [--mcp]'
[ $# -gt 0 ] || { echo "$usage" >&2; exit 2; }
build=$1
shift
brief=0 runs=5 only="" gc=0 mcp=0
while [ $# -gt 0 ]; do
  case $1 in
    --brief) brief=1 runs=1 ;;
    --runs | --only)
      [ $# -gt 1 ] || { echo "run_church.sh: $1 needs a value" >&2; exit 2; }
      if [ "$1" = --runs ]; then runs=$2; else only=$2; fi
      shift ;;
    --gc) gc=1 ;;
    --mcp) mcp=1 ;;
    *) echo "run_church.sh: unknown option '$1'" >&2; exit 2 ;;
  esac
  shift
done
case $runs in '' | *[!0-9]* | 0) echo "run_church.sh: --runs needs a positive count, got '$runs'" >&2; exit 2 ;; esac
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
nsr=$( (cd "$build" 2>/dev/null && pwd) || true)/nsr
[ -x "$nsr" ] || { echo "run_church.sh: no nsr in '$build' (build first)" >&2; exit 2; }
peer_dir=${NSR_PEER_DIR:-/tmp/peers}
webppl="$peer_dir/node_modules/.bin/webppl"
seed=1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if [ ! -x "$webppl" ] && [ $brief = 0 ] && command -v npm >/dev/null; then
  (mkdir -p "$peer_dir" && cd "$peer_dir" && timeout 300 npm install --silent webppl@0.9.15 >/dev/null 2>&1) || true
fi
have_webppl=0
[ -x "$webppl" ] && have_webppl=1

# The programs: suite.txt rows, without comments, selected by --brief/--only.
names=() methods=() ses=() churches=() wppls=() refs=()
while read -r name method se in_brief church wppl ref; do
  case $name in '' | '#'*) continue ;; esac
  [ $brief = 1 ] && [ "$in_brief" != yes ] && continue
  [ -n "$only" ] && [ "$name" != "$only" ] && continue
  names+=("$name") methods+=("$method") ses+=("$se") churches+=("$root/$church")
  wppls+=("$root/$wppl") refs+=("$ref")
done <"$here/church/suite.txt"
[ ${#names[@]} -gt 0 ] || { echo "run_church.sh: no program named '$only'" >&2; exit 2; }

# Wraps a translation so that it prints its own body's wall and CPU time
# (bench_infer_ms, bench_infer_cpu_ms) after its answer line.
wrap_wppl() {
  {
    echo 'var benchWall0 = performance.now(); var benchCpu0 = process.cpuUsage();'
    cat "$1"
    echo 'var benchCpu = process.cpuUsage(benchCpu0);'
    echo 'console.log("bench_infer_ms " + (performance.now() - benchWall0));'
    echo 'console.log("bench_infer_cpu_ms " + (benchCpu.user + benchCpu.system) / 1000);'
  } >"$2"
}

numbers() { # the numbers in a printed answer, one a line
  grep -oE '[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?' || true
}

median() { # the median of the numbers on standard input
  sort -g | awk '{ a[NR] = $1 } END { if (NR == 0) print ""; else print (NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2) }'
}

# Runs nsr on program $1 once: appends "wall_ms cpu_ms" to $work/$name.nsr_times,
# keeps the answer in $work/$name.nsr (its first run) and the status.
run_nsr() {
  local i=$1 name=${names[$1]} t status=0
  # Wall time from bash's microsecond clock around the command (`time`
  # prints whole milliseconds, too coarse for the small programs); CPU time
  # from `time`.
  local TIMEFORMAT='%3U %3S'
  t=$( { time { echo "$EPOCHREALTIME"
                "$nsr" run --json --seed $seed --max-time 600 "${churches[$i]}" \
                  >"$work/$name.nsr_out" 2>"$work/$name.nsr_err" || echo "status $?" >"$work/$name.nsr_status"
                echo "$EPOCHREALTIME"; }; } 2>&1)
  [ -s "$work/$name.nsr_status" ] && status=1
  if [ $status = 0 ]; then
    echo $t | awk '{ printf "%.2f %.1f\n", ($2 - $1) * 1000, ($3 + $4) * 1000 }' >>"$work/$name.nsr_times"
    [ -f "$work/$name.nsr" ] || sed -n 's/^{"value":\(.*\),"output":.*/\1/p' "$work/$name.nsr_out" >"$work/$name.nsr"
  fi
}

# Runs the WebPPL translation of program $1 once, like run_nsr.
run_webppl() {
  local i=$1 name=${names[$1]} out
  [ -f "$work/$name.wppl" ] || wrap_wppl "${wppls[$i]}" "$work/$name.wppl"
  if ! out=$("$webppl" "$work/$name.wppl" --random-seed $seed 2>&1); then
    echo "$out" | tail -3 >"$work/$name.webppl_err"
    return
  fi
  echo "$out" | awk '/^bench_infer_ms / { w = $2 } /^bench_infer_cpu_ms / { c = $2 } END { printf "%.1f %.1f\n", w, c }' \
    >>"$work/$name.webppl_times"
  [ -f "$work/$name.webppl" ] || echo "$out" | grep -B1 '^bench_infer_ms ' | head -1 >"$work/$name.webppl"
}

# Checks answer file $2 against the numbers $3 (a space-separated list) for
# program $1 with tolerance factor $4 (1: one estimate against an exact
# value; 1.4142: two estimates). Prints "ok", or what differs.
check() {
  local i=$1 got want=$3 factor=$4
  got=$(numbers <"$2" | tr '\n' ' ')
  awk -v got="$got" -v want="$want" -v se="${ses[$i]}" -v f="$factor" 'BEGIN {
    n = split(got, g, " "); m = split(want, w, " ")
    if (n != m) { printf "%d numbers, expected %d", n, m; exit }
    tol = se > 0 ? 4 * se * f : 1e-9
    for (k = 1; k <= n; k++) {
      d = g[k] - w[k]; if (d < 0) d = -d
      if (!(d <= tol)) { printf "value %d: %.10g against %.10g (tolerance %.3g)", k, g[k], w[k], tol; exit }
    }
    print "ok" }'
}

echo "Church suite: ${#names[@]} programs, $runs run(s) each, seed $seed, nsr $nsr"
[ $have_webppl = 1 ] && echo "peer: WebPPL $("$webppl" --version 2>/dev/null || echo 0.9.15) in $peer_dir (Infer time alone)" ||
  echo "peer: WebPPL not available (npm install webppl@0.9.15 in $peer_dir): nsr's figures alone"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
for ((r = 0; r < runs; r++)); do
  for i in "${!names[@]}"; do
    [ -s "$work/${names[$i]}.nsr_status" ] || run_nsr "$i"
    [ $have_webppl = 1 ] && [ ! -s "$work/${names[$i]}.webppl_err" ] && run_webppl "$i"
  done
done
echo "load average after:  $(cut -d' ' -f1-3 /proc/loadavg)"

failures=0 unsupported=0 ratios=()
printf '\n%-22s %-9s %10s %10s %10s %11s %8s  %s\n' program method nsr_ms nsr_cpu_ms webppl_ms webppl_cpu ratio answers
for i in "${!names[@]}"; do
  name=${names[$i]} verdict="" nsr_ms=- nsr_cpu=- w_ms=- w_cpu=- ratio=-
  if [ -s "$work/$name.nsr_status" ]; then
    if grep -q "expected a method such as" "$work/$name.nsr_err"; then
      verdict="nsr: not supported ($(sed -n '1s/.*: query: /query: /p' "$work/$name.nsr_err" | head -c 100))"
      unsupported=$((unsupported + 1))
    else
      verdict="nsr FAILED: $(head -c 300 "$work/$name.nsr_err")"
      failures=$((failures + 1))
    fi
  else
    nsr_ms=$(cut -d' ' -f1 "$work/$name.nsr_times" | median)
    nsr_cpu=$(cut -d' ' -f2 "$work/$name.nsr_times" | median)
    v=$(check "$i" "$work/$name.nsr" "${refs[$i]}" 1)
    if [ "$v" = ok ]; then verdict="nsr=reference"; else verdict="nsr against reference: $v" failures=$((failures + 1)); fi
  fi
  if [ $have_webppl = 1 ]; then
    if [ -s "$work/$name.webppl_err" ]; then
      verdict="$verdict; WebPPL FAILED: $(tr '\n' ' ' <"$work/$name.webppl_err" | head -c 300)"
      failures=$((failures + 1))
    else
      w_ms=$(cut -d' ' -f1 "$work/$name.webppl_times" | median)
      w_cpu=$(cut -d' ' -f2 "$work/$name.webppl_times" | median)
      v=$(check "$i" "$work/$name.webppl" "${refs[$i]}" 1)
      [ "$v" = ok ] || { verdict="$verdict; WebPPL against reference: $v"; failures=$((failures + 1)); }
      if [ -f "$work/$name.nsr" ] && [ "$nsr_ms" != - ]; then
        v=$(check "$i" "$work/$name.nsr" "$(numbers <"$work/$name.webppl" | tr '\n' ' ')" 1.4142)
        if [ "$v" = ok ]; then verdict="$verdict, =WebPPL"; else verdict="$verdict; nsr against WebPPL: $v" failures=$((failures + 1)); fi
        ratio=$(awk -v w="$w_ms" -v n="$nsr_ms" 'BEGIN { printf "%.2f", w / (n > 0.1 ? n : 0.1) }')
        ratios+=("$ratio")
      fi
    fi
  fi
  printf '%-22s %-9s %10s %10s %10s %11s %8s  %s\n' "$name" "${methods[$i]}" "$nsr_ms" "$nsr_cpu" "$w_ms" "$w_cpu" \
    "$([ "$ratio" = - ] && echo - || echo "${ratio}x")" "$verdict"
done
if [ ${#ratios[@]} -gt 0 ]; then
  printf '%s\n' "${ratios[@]}" | awk '{ s += log($1); n++ } END {
    printf "\ngeometric mean of %d ratios (WebPPL Infer / nsr process, wall): %.2fx (goal: >= 20x, each >= 10x)\n", n, exp(s / n) }'
fi

# The collector's share of nsr's time on program $1: the perf samples
# (with call stacks) inside one of the collector's entry points in
# symbolic/lang/lang_gc.c (a collection, giving memory back, freeing the heap
# at the end), with all they call (the sweep's free() among it); beside it the
# allocator's (lang_alloc and what it calls, outside a collection), the
# process start-up's (the dynamic loader) and other threads' (OpenBLAS's
# idle workers).
gc_share() {
  local i=$1 name=${names[$1]}
  local gc_syms="lang_collect lang_release_memory lang_release_freed lang_free_all"
  perf record -q -F 499 --call-graph dwarf -o "$work/$name.perf" -- \
    "$nsr" run --seed $seed --max-time 600 "${churches[$i]}" >/dev/null 2>&1 || return 0
  perf script -i "$work/$name.perf" -F ip,sym 2>/dev/null |
    awk -v gc="$gc_syms" -v name="$name" '
      BEGIN { n = split(gc, g, " "); for (k = 1; k <= n; k++) is_gc[g[k]] = 1 }
      function close_sample() {
        if (!open) return
        total++
        if (in_gc) c++; else if (in_alloc) a++; else if (in_dl) d++; else if (in_thread) t++
        open = in_gc = in_alloc = in_dl = in_thread = 0
      }
      NF == 0 { close_sample(); next }
      { open = 1; sym = $2; sub(/\+0x.*/, "", sym)
        if (is_gc[sym]) in_gc = 1
        if (sym == "lang_alloc") in_alloc = 1
        if (sym ~ /^_?dl_/) in_dl = 1
        if (sym == "start_thread") in_thread = 1 }
      END { close_sample(); if (total == 0) total = 1
        printf "%-22s collector %5.1f%%   allocation %5.1f%%   start-up %5.1f%%   other threads %5.1f%%   (%d samples)\n",
          name, 100 * c / total, 100 * a / total, 100 * d / total, 100 * t / total, total }'
}

if [ $gc = 1 ]; then
  echo
  if command -v perf >/dev/null && perf record -q -o "$work/probe.perf" true >/dev/null 2>&1; then
    echo "share of nsr's time (perf samples at 499 Hz with call stacks; collector = inside lang_collect, lang_release_memory, lang_free_all):"
    for i in "${!names[@]}"; do
      [ -s "$work/${names[$i]}.nsr_status" ] || gc_share "$i"
    done
  else
    echo "collector share: perf is not available here"
  fi
fi

if [ $mcp = 1 ] && ! command -v node >/dev/null; then
  echo; echo "MCP round trip: node is not available here"
elif [ $mcp = 1 ]; then
  args=()
  for i in "${!names[@]}"; do
    [ -s "$work/${names[$i]}.nsr_status" ] || args+=("${names[$i]}=${churches[$i]}")
  done
  echo
  echo "MCP run_program round trip (nsr mcp, one connection, $runs calls a program, seed $seed):"
  node "$here/bench_church_mcp.mjs" --calls "$runs" -- "$nsr" --max-time 600 --max-steps 1000000000000 \
    --db "$work/mcp.db" -- "${args[@]}" 2>&1 | grep -v '^nsr mcp: serving' | tee "$work/mcp.out" || true
  for i in "${!names[@]}"; do # the answers over MCP are nsr's too: the same checks
    line=$(grep "^mcp ${names[$i]} median_ms=" "$work/mcp.out" || true)
    [ -n "$line" ] || continue
    echo "${line#* value=}" >"$work/${names[$i]}.mcp"
    v=$(check "$i" "$work/${names[$i]}.mcp" "${refs[$i]}" 1)
    [ "$v" = ok ] || { echo "mcp ${names[$i]} against reference: $v"; failures=$((failures + 1)); }
  done
  [ "$(grep -c ' median_ms=' "$work/mcp.out")" = ${#args[@]} ] || failures=$((failures + 1))
fi

echo
echo "church suite: $failures failure(s), $unsupported not supported by nsr"
[ $failures = 0 ]
