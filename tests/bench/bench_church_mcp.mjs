// bench_church_mcp.mjs: the MCP `run_program` round trip on the Church
// benchmark programs. A client on plain pipes (newline-delimited JSON-RPC
// over the server's stdin/stdout, as an MCP stdio client speaks it): one
// connection to `nsr mcp`, each program sent as `source` CALLS times one
// call after another, each waiting for its reply.
//
// Usage: node bench_church_mcp.mjs --calls N -- NSR [SERVER_OPTIONS...] -- NAME=FILE...
// Prints per program `mcp NAME median_ms=… min_ms=… calls=N value=JSON`, and
// exits 1 when a call fails (a tool error names the program and the message).
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';

const argv = process.argv.slice(2);
let calls = 5;
if (argv[0] === '--calls') { calls = Number(argv[1]); argv.splice(0, 2); }
const first = argv.indexOf('--'), second = argv.indexOf('--', first + 1);
if (first < 0 || second < 0 || !(calls >= 1)) {
  console.error('usage: node bench_church_mcp.mjs --calls N -- NSR [OPTIONS...] -- NAME=FILE...');
  process.exit(2);
}
const server = argv.slice(first + 1, second);
const programs = argv.slice(second + 1).map((a) => {
  const eq = a.indexOf('=');
  return { name: a.slice(0, eq), source: readFileSync(a.slice(eq + 1), 'utf8') };
});

const child = spawn(server[0], ['mcp', ...server.slice(1)], { stdio: ['pipe', 'pipe', 'inherit'] });
const lines = createInterface({ input: child.stdout });
const waiting = [];
lines.on('line', (line) => waiting.shift()?.(line));
child.on('exit', () => { while (waiting.length) waiting.shift()(null); });

// Sends one request and resolves with its parsed reply (null when the server is gone).
function request(message) {
  return new Promise((resolve) => {
    waiting.push((line) => resolve(line === null ? null : JSON.parse(line)));
    child.stdin.write(JSON.stringify(message) + '\n');
  });
}

let id = 0;
const hello = await request({ jsonrpc: '2.0', id: id++, method: 'initialize',
  params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'bench_church', version: '1' } } });
if (!hello?.result) {
  console.error('mcp: the server did not answer initialize');
  process.exit(1);
}
child.stdin.write(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }) + '\n');

let failed = false;
for (const p of programs) {
  const times = [];
  let value = null;
  for (let i = 0; i < calls; i++) {
    const t0 = process.hrtime.bigint();
    const reply = await request({ jsonrpc: '2.0', id: id++, method: 'tools/call',
      params: { name: 'run_program', arguments: { source: p.source, seed: 1 } } });
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    const result = reply?.result;
    if (!result || result.isError) {
      console.error(`mcp ${p.name}: ${reply === null ? 'the server closed' : JSON.stringify(result?.content ?? reply.error)}`);
      failed = true;
      break;
    }
    value = result.structuredContent?.value ?? JSON.parse(result.content[0].text).value;
  }
  if (times.length === calls) {
    times.sort((a, b) => a - b);
    const median = calls % 2 ? times[(calls - 1) / 2] : (times[calls / 2 - 1] + times[calls / 2]) / 2;
    console.log(`mcp ${p.name} median_ms=${median.toFixed(2)} min_ms=${times[0].toFixed(2)} calls=${calls} value=${JSON.stringify(value)}`);
  }
}
child.stdin.end();
process.exit(failed ? 1 : 0);
