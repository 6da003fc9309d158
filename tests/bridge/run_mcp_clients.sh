#!/usr/bin/env bash
# run_mcp_clients.sh: installs the real MCP clients from npm (pinned) and
# runs one of the client checks against `nsr mcp`.
#
# Usage: run_mcp_clients.sh sdk|inspector NSR TESTLIB
# mcp_npm.sh installs the packages (pinned, once). Without node or npm, or
# when the install fails, the test fails: set NSR_SKIP_NPM=1 to skip it
# instead (exit 77, meson's "skipped").
set -euo pipefail
mode=${1:?usage: run_mcp_clients.sh sdk|inspector NSR TESTLIB}
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

case $mode in
  sdk) node "$here/mcp_sdk_client.mjs" "$nsr" "$work/manifest.json" "$work/testlib.json" ;;
  inspector) node "$here/mcp_inspector_check.mjs" "$nsr" "$work/manifest.json" "$work/testlib.json" ;;
  *) echo "usage: run_mcp_clients.sh sdk|inspector NSR TESTLIB" >&2; exit 2 ;;
esac
