// mcp_sdk_client.mjs: `nsr mcp` driven by the official MCP TypeScript SDK
// client over its stdio transport. Lists the tools and calls every one,
// checking the answers against values known independently of nsr: the
// WebPPL peer's posteriors, a hand derivation, and numbergame_ref.mjs (a
// separate enumeration of the same model). The SDK also validates every
// structuredContent against the tool's outputSchema with its own JSON
// Schema validator.
//
// Usage: node mcp_sdk_client.mjs NSR MANIFEST...   (NSR_NPM_DIR: the npm dir)
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import path from 'node:path';
import { numberGame, rules } from './numbergame_ref.mjs';

const require = createRequire(path.join(process.env.NSR_NPM_DIR, 'node_modules', 'x.js'));
const { Client } = require('@modelcontextprotocol/sdk/client/index.js');
const { StdioClientTransport } = require('@modelcontextprotocol/sdk/client/stdio.js');

const [nsr, ...manifests] = process.argv.slice(2);
const serverArgs = ['mcp', ...manifests.flatMap((m) => ['--tools', m])];
const close = (a, b, tol, what) => assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} vs ${b}`);

const transport = new StdioClientTransport({ command: nsr, args: serverArgs, stderr: 'pipe' });
let stderr = '';
transport.stderr.on('data', (d) => { stderr += d; });
const client = new Client({ name: 'nsr-sdk-test', version: '1.0.0' });
await client.connect(transport);
assert.equal(client.getServerVersion().name, 'nsr');

const { tools } = await client.listTools();
const names = tools.map((t) => t.name).sort();
assert.deepEqual(names, ['cbrt', 'list_concepts', 'number_game', 't_add', 't_greet']);
for (const t of tools) {
  // nsr's own tools are pure computations; foreign ones are not vouched for.
  assert.equal(t.annotations?.readOnlyHint, ['number_game', 'list_concepts'].includes(t.name) ? true : undefined, t.name);
  assert.equal(t.inputSchema.type, 'object');
  assert.equal(t.outputSchema.type, 'object');
  assert.ok(t.description.length > 0);
}

// number_game, against the WebPPL peer (../shared/peers/README.md).
let calls = 0;
const call = async (name, args) => {
  calls++;
  return client.callTool({ name, arguments: args });
};
let r = await call('number_game', { examples: [16, 8, 2, 64] });
assert.equal(r.isError, false);
const hs = r.structuredContent.hypotheses;
assert.equal(hs[0].name, 'powers of 2');
close(hs[0].posterior, 0.999792, 5e-7, 'powers of 2');
assert.equal(hs[1].name, 'even');
close(hs[1].posterior, 2.073169e-4, 1e-9, 'even');
assert.equal(hs[2].name, 'interval 2..64');
close(hs[2].posterior, 4.757818e-8, 1e-13, 'interval 2..64');
assert.deepEqual(JSON.parse(r.content[0].text), r.structuredContent);

// Against the reference enumeration, for several sets and options: every
// listed hypothesis and every p(y in C | X).
const cases = [
  [[16, 8, 2, 64], {}],
  [[60], {}],
  [[60, 52, 57, 55], { top: 20 }],
  [[81, 25, 4, 36], { sigma: 5 }],
  [[98, 81, 86, 93], { prior: 'mixture', lambda: 0.5, sigma: 15 }],
  [[7, 7, 7], { range: 30, top: 50 }],
];
for (const [examples, opts] of cases) {
  r = await call('number_game', { examples, ...opts });
  assert.equal(r.isError, false, JSON.stringify(r.content));
  const got = r.structuredContent, want = numberGame(examples, opts);
  const what = JSON.stringify([examples, opts]);
  assert.equal(got.hypotheses.length, want.hypotheses.length, what);
  got.hypotheses.forEach((h, i) => {
    assert.equal(h.name, want.hypotheses[i].name, `${what} rank ${i + 1}`);
    close(h.posterior, want.hypotheses[i].posterior, 1e-9 * Math.max(1, want.hypotheses[i].posterior), `${what} ${h.name}`);
    close(h.prior, want.hypotheses[i].prior, 1e-12, `${what} prior ${h.name}`);
    assert.equal(h.size, want.hypotheses[i].size);
  });
  want.generalization.forEach((p, i) => close(got.generalization[i], p, 1e-9, `${what} p(${i + 1})`));
  close(got.log_evidence, want.log_evidence, 1e-9, `${what} log_evidence`);
  assert.deepEqual(got.consistent, want.consistent, what);
}

// Hand derivation: N = 4, X = {2}, rules only (lambda = 1): ends in 2
// (size 1) against even, primes, powers of 2 (size 2): 1 / 2.5 = 0.4.
r = await call('number_game', { examples: [2], range: 4, prior: 'mixture', lambda: 1, top: 1 });
close(r.structuredContent.hypotheses[0].posterior, 0.4, 1e-12, 'hand-derived');

// list_concepts: every rule's members, from the rule's own definition.
r = await call('list_concepts', {});
const lc = r.structuredContent;
assert.deepEqual(lc.range, [1, 100]);
assert.equal(lc.intervals.count, 5050);
const ref = rules();
assert.equal(lc.rules.length, ref.length);
lc.rules.forEach((rule, i) => {
  assert.equal(rule.name, ref[i][0]);
  const members = [];
  for (let y = 1; y <= 100; y++) if (ref[i][1](y)) members.push(y);
  assert.deepEqual(rule.members, members, rule.name);
  assert.equal(rule.size, members.length);
});

// Foreign tools.
r = await call('cbrt', { x: 27 });
close(r.structuredContent.result, 3, 1e-15, 'cbrt(27)');
r = await call('t_add', { a: 40, b: 2 });
assert.equal(r.structuredContent.result, 42);
r = await call('t_greet', { name: 'MCP', times: 1 });
assert.equal(r.structuredContent.result, 'hi MCP');

// Bad arguments: tool errors the model can read; the server keeps serving.
r = await call('number_game', { examples: [16], tpo: 3 });
assert.equal(r.isError, true);
assert.match(r.content[0].text, /unknown property "tpo" \(allowed: examples, range, prior, lambda, sigma, top\)/);
r = await call('number_game', { examples: ['sixteen'] });
assert.equal(r.isError, true);
assert.match(r.content[0].text, /arguments\.examples\[0\] must be an integer/);
r = await call('t_add', { a: 1 });
assert.equal(r.isError, true);
assert.match(r.content[0].text, /missing required property "b"/);
await assert.rejects(call('t_secret', {}), (e) => e.code === -32602 && /unknown tool/.test(e.message));
await assert.rejects(call('run_program', { source: '(+ 1 2)' }), (e) => e.code === -32602);
await client.ping();

await client.close();
assert.match(stderr, /nsr mcp: serving 5 tools/);
console.log(`ok: SDK client listed ${tools.length} tools and checked ${calls} calls`);
