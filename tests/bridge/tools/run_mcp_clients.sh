#!/usr/bin/env bash
# run_mcp_clients.sh: installs the real MCP clients from npm (pinned) and
# runs one of the client checks against `nsr mcp`.
#
# Usage: run_mcp_clients.sh sdk|inspector NSR TESTLIB
# mcp_npm.sh installs the packages (pinned, once). Without node or npm, or
# when the install fails, the test fails: set NSR_SKIP_NPM=1 to skip it
# instead (exit 77, meson's "skipped").
set -euo pipefail
mode=${1:?usage: run_mcp_clients.sh sdk|inspector NSR TESTLIB [PROPOSE_MODEL]}
nsr=${2:?}
testlib=${3:?}
here=$(cd "$(dirname "$0")" && pwd)

if [ "${NSR_SKIP_NPM:-}" = 1 ]; then
  echo "skipped: NSR_SKIP_NPM=1 (real MCP clients from npm not run)"
  exit 77
fi
export NSR_NPM_DIR
NSR_NPM_DIR=$("$here/mcp_npm.sh")

work=$(mktemp -d /tmp/nsr_mcp_clients.XXXXXX)
trap 'rm -rf "$work"' EXIT
cat >"$work/manifest.json" <<JSON
{"library": "libm.so.6",
 "functions": [{"name": "cbrt", "description": "cube root of x", "returns": "double",
                "params": [{"name": "x", "type": "double"}]}]}
JSON
# A second library in the same server needs a second manifest.
cat >"$work/testlib.json" <<JSON
{"library": "$testlib",
 "functions": [{"name": "t_add", "description": "a + b", "returns": "int64",
                "params": [{"name": "a", "type": "int64"}, {"name": "b", "type": "int64"}]},
               {"name": "t_greet", "description": "greets name, times times", "returns": "const char*",
                "params": [{"name": "name", "type": "const char*"}, {"name": "times", "type": "int64"}]}]}
JSON

# A rule store made by nsr itself, with two rules written as an extractor
# would (nsr has no command that writes rules yet).
"$nsr" store init --db "$work/nsr.db" >/dev/null
python3 - "$work/nsr.db" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("INSERT INTO models(id, sha256, config_json) VALUES (1, 'ab12', '{}')")
db.executemany("INSERT INTO rules(id, model_id, method, layer, unit, body, conclusion, fidelity, support)"
               " VALUES (?, 1, ?, ?, ?, ?, ?, ?, ?)",
               [(1, 'probe', 2, 17, 'unit 17 > 0.42', 'multiples of 4', 0.97, 25),
                (2, 'cart', None, None, 'x mod 10 = 7', 'ends in 7', 0.88, 10)])
db.commit()
PY
# Programs may bind libm's cbrt, and nothing else, in the language.
args=("$nsr" "$work/nsr.db" "$work/manifest.json" "$work/testlib.json")
case $mode in
  sdk) NSR_PROPOSE_MODEL=${4:-} node "$here/mcp_sdk_client.mjs" "${args[@]}" ;;
  inspector) node "$here/mcp_inspector_check.mjs" "${args[@]}" ;;
  *) echo "usage: run_mcp_clients.sh sdk|inspector NSR TESTLIB [PROPOSE_MODEL]" >&2; exit 2 ;;
esac
