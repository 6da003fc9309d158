#!/usr/bin/env bash
# run_mcp.sh: the MCP benchmark (issue 6, section 6): tools/call
# number_game round trips on one connection, 10,000 calls, for `nsr mcp`
# and for a minimal MCP server built on the official TypeScript SDK serving
# the same tool (bench_mcp_sdk_server.mjs), computing each answer, and
# memoized (its protocol path alone); and nsr from a C client on plain
# pipes (bench_mcp_pipe.c), the server's latency without Node's.
#
# Usage: tests/bench/run_mcp.sh BUILD_DIR [--quick]   (--quick: 1,000 calls)
set -euo pipefail
build=${1:?usage: run_mcp.sh BUILD_DIR [--quick]}
here=$(cd "$(dirname "$0")" && pwd)
calls=10000
[ "${2:-}" = --quick ] && calls=1000
export NSR_NPM_DIR
NSR_NPM_DIR=$("$here/../bridge/mcp_npm.sh")
nsr=$(cd "$build" && pwd)/nsr

[ -x "$build/tests/bridge/tools/bench_mcp_pipe" ] || meson compile -C "$build" tests/bridge/tools/bench_mcp_pipe >/dev/null
echo "tools/call number_game {examples: [16, 8, 2, 64]}, $calls calls on one connection each"
"$build/tests/bridge/tools/bench_mcp_pipe" "$nsr" "$calls" | tee "$build/bench_mcp.txt"
node "$here/bench_mcp.mjs" --calls "$calls" --name nsr -- "$nsr" mcp | tee -a "$build/bench_mcp.txt"
node "$here/bench_mcp.mjs" --calls "$calls" --name sdk_server -- node "$here/bench_mcp_sdk_server.mjs" | tee -a "$build/bench_mcp.txt"
node "$here/bench_mcp.mjs" --calls "$calls" --name sdk_memo -- node "$here/bench_mcp_sdk_server.mjs" --memo | tee -a "$build/bench_mcp.txt"
awk '/^result/ { for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] } }
  END { printf "ratio (raw client, medians): nsr mcp is %.1fx faster per round trip than the SDK server\n", v["sdk_server_raw_median_us"] / v["nsr_raw_median_us"];
        printf "ratio (SDK client, medians): %.1fx\n", v["sdk_server_sdk_median_us"] / v["nsr_sdk_median_us"];
        printf "ratio against the memoized SDK server (its protocol path alone; raw client): %.1fx\n", v["sdk_memo_raw_median_us"] / v["nsr_raw_median_us"];
        printf "target: median round trip <= 1000 us: C client %s us, Node raw client %s us, SDK client %s us: %s\n", v["nsr_pipe_median_us"], v["nsr_raw_median_us"], v["nsr_sdk_median_us"], (v["nsr_sdk_median_us"] <= 1000 && v["nsr_raw_median_us"] <= 1000 ? "met" : "NOT met") }' "$build/bench_mcp.txt"
