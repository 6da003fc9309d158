#!/usr/bin/env bash
# mcp_npm.sh: makes sure the pinned MCP packages from npm are installed and
# prints their directory. Installs once, under a lock, so parallel tests
# share one install. The directory is $NSR_NPM_DIR, by default
# /tmp/nsr-mcp-npm-<sdk version>-<inspector version>.
# Fails (exit 1, message on stderr) without node or npm, or when the
# install fails.
set -euo pipefail
sdk_version=1.32.2
inspector_version=2.12.0
dir=${NSR_NPM_DIR:-/tmp/nsr-mcp-npm-$sdk_version-$inspector_version}
for tool in node npm; do
  command -v "$tool" >/dev/null || { echo "FAIL: $tool not found; install Node.js >= 20 (or set NSR_SKIP_NPM=1 to skip)" >&2; exit 1; }
done
mkdir -p "$dir"
(
  flock 9
  if [ ! -f "$dir/.installed" ]; then
    echo "installing @modelcontextprotocol/sdk@$sdk_version @modelcontextprotocol/inspector@$inspector_version into $dir" >&2
    (cd "$dir" && npm install --no-audit --no-fund --loglevel=error \
      "@modelcontextprotocol/sdk@$sdk_version" "@modelcontextprotocol/inspector@$inspector_version") >&2 \
      || { echo "FAIL: npm install failed (set NSR_SKIP_NPM=1 to skip)" >&2; exit 1; }
    touch "$dir/.installed"
  fi
) 9>"$dir/.lock"
echo "$dir"
