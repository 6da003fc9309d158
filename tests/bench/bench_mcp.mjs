// bench_mcp.mjs: tools/call number_game round trips on one MCP connection.
// For each server it measures two clients: a raw one (writes a JSON-RPC
// line, waits for the reply line: the server's own cost plus the pipe) and
// the official SDK client (what an application built on the SDK sees).
// Prints the median, p90 and p99 round trip and calls/s.
//
// Usage: node bench_mcp.mjs --calls N --name NAME -- COMMAND ARGS...
//        (NSR_NPM_DIR: the npm dir)
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import readline from 'node:readline';

const require = createRequire(path.join(process.env.NSR_NPM_DIR, 'node_modules', 'x.js'));
const { Client } = require('@modelcontextprotocol/sdk/client/index.js');
const { StdioClientTransport } = require('@modelcontextprotocol/sdk/client/stdio.js');

const argv = process.argv.slice(2);
const sep = argv.indexOf('--');
const opt = (name, dflt) => {
  const i = argv.indexOf(name);
  return i >= 0 && i < sep ? argv[i + 1] : dflt;
};
const calls = Number(opt('--calls', 10000));
const name = opt('--name', 'server');
const [command, ...args] = argv.slice(sep + 1);
const ARGS = { examples: [16, 8, 2, 64] };

function summary(label, times, totalMs) {
  const t = Float64Array.from(times).sort();
  const q = (p) => t[Math.min(t.length - 1, Math.floor(p * t.length))];
  const rate = (times.length / totalMs) * 1000;
  console.log(`${name} ${label}: median ${(q(0.5) * 1000).toFixed(1)} us, p90 ${(q(0.9) * 1000).toFixed(1)} us, ` +
    `p99 ${(q(0.99) * 1000).toFixed(1)} us, ${rate.toFixed(0)} calls/s (${times.length} calls)`);
  console.log(`result ${name}_${label}_median_us=${(q(0.5) * 1000).toFixed(1)} ${name}_${label}_calls_per_s=${rate.toFixed(0)}`);
}

async function rawClient() {
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'ignore'] });
  const lines = readline.createInterface({ input: child.stdout });
  const waiting = [];
  lines.on('line', (l) => waiting.shift()(l));
  const ask = (msg) => new Promise((resolve) => {
    waiting.push(resolve);
    child.stdin.write(JSON.stringify(msg) + '\n');
  });
  await ask({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'bench', version: '1' } } });
  child.stdin.write(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }) + '\n');
  const times = [];
  const start = performance.now();
  for (let i = 1; i <= calls; i++) {
    const t0 = performance.now();
    const reply = JSON.parse(await ask({ jsonrpc: '2.0', id: i, method: 'tools/call', params: { name: 'number_game', arguments: ARGS } }));
    times.push(performance.now() - t0);
    if (reply.result?.structuredContent?.hypotheses?.[0]?.name !== 'powers of 2') throw new Error(`bad reply: ${JSON.stringify(reply).slice(0, 200)}`);
  }
  summary('raw', times, performance.now() - start);
  child.stdin.end();
}

async function sdkClient() {
  const client = new Client({ name: 'bench', version: '1' });
  // The SDK passes only a few variables to the server by default; pass all.
  await client.connect(new StdioClientTransport({ command, args, stderr: 'ignore', env: process.env }));
  await client.listTools(); // the SDK validates results against the listed outputSchema
  const times = [];
  const start = performance.now();
  for (let i = 0; i < calls; i++) {
    const t0 = performance.now();
    const r = await client.callTool({ name: 'number_game', arguments: ARGS });
    times.push(performance.now() - t0);
    if (r.structuredContent.hypotheses[0].name !== 'powers of 2') throw new Error('bad reply');
  }
  summary('sdk', times, performance.now() - start);
  await client.close();
}

await rawClient();
await sdkClient();
