// mcp_sdk_client.mjs: `nsr mcp` driven by the official MCP TypeScript SDK
// client over its stdio transport. Lists the tools and calls every one,
// checking the answers against values known independently of nsr: the
// WebPPL peer's posteriors, a hand derivation, and numbergame_ref.mjs (a
// separate enumeration of the same model). The SDK also validates every
// structuredContent against the tool's outputSchema with its own JSON
// Schema validator.
//
// run_program and query_rules are checked against hand derivations and
// the rows the test script wrote; the rules://{id} resources through the
// SDK's own resource calls.
//
// Usage: node mcp_sdk_client.mjs NSR DB MANIFEST...   (NSR_NPM_DIR: the npm dir)
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import path from 'node:path';
import { numberGame, rules } from './numbergame_ref.mjs';

const require = createRequire(path.join(process.env.NSR_NPM_DIR, 'node_modules', 'x.js'));
const { Client } = require('@modelcontextprotocol/sdk/client/index.js');
const { StdioClientTransport } = require('@modelcontextprotocol/sdk/client/stdio.js');

const [nsr, db, ...manifests] = process.argv.slice(2);
const model = process.env.NSR_PROPOSE_MODEL;
assert.ok(model, 'NSR_PROPOSE_MODEL names the proposal model');
const serverArgs = ['mcp', '--db', db, '--weights', model, '--foreign', 'libm.so.6:cbrt:double(double)',
  '--max-steps', '2000000', ...manifests.flatMap((m) => ['--tools', m])];
const close = (a, b, tol, what) => assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} vs ${b}`);

const transport = new StdioClientTransport({ command: nsr, args: serverArgs, stderr: 'pipe' });
let stderr = '';
transport.stderr.on('data', (d) => { stderr += d; });
const client = new Client({ name: 'nsr-sdk-test', version: '1.0.0' });
await client.connect(transport);
assert.equal(client.getServerVersion().name, 'nsr');

const { tools } = await client.listTools();
const names = tools.map((t) => t.name).sort();
assert.deepEqual(names, ['cbrt', 'list_concepts', 'number_game', 'propose_hypotheses', 'query_rules', 'run_program', 't_add', 't_greet']);
for (const t of tools) {
  // nsr's own tools are pure computations; foreign ones are not vouched
  // for, nor is run_program once programs may call C (--foreign).
  assert.equal(t.annotations?.readOnlyHint, ['number_game', 'list_concepts', 'query_rules', 'propose_hypotheses'].includes(t.name) ? true : undefined, t.name);
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

// A shipped space by name with probes: tenenbaum.json answers as the
// default model (programs/spaces/README.md), so the reference enumeration
// gives the expected p(y in C | X); the SDK checks the output schema.
r = await call('number_game', { examples: [16, 8, 2, 64], space: 'tenenbaum', probes: [32, 3, 60] });
assert.equal(r.isError, false, JSON.stringify(r.content));
assert.equal(r.structuredContent.generalization, undefined);
assert.equal(r.structuredContent.prior.file, 'tenenbaum.json');
const ref16 = numberGame([16, 8, 2, 64], {});
r.structuredContent.probes.forEach(({ y, p }, i) => {
  assert.equal(y, [32, 3, 60][i]);
  close(p, ref16.generalization[y - 1], 1e-9, `tenenbaum by name p(${y})`);
});
r = await call('number_game', { examples: [16], space: '../../etc/passwd' });
assert.equal(r.isError, true);
assert.match(r.content[0].text, /is not one of .*"large", .*"tenenbaum"/);

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

// run_program. Two fair coins, given at least one head: p(both) =
// (1/4) / (3/4) = 1/3.
r = await call('run_program', { source: '(enumeration-query (define a (flip)) (define b (flip)) (and a b) (or a b))' });
assert.equal(r.isError, false, JSON.stringify(r.content));
assert.deepEqual(r.structuredContent.value[0], [true, false]);
close(r.structuredContent.value[1][0], 1 / 3, 1e-15, 'p(both | one)');
r = await call('run_program', { source: '(display (length args)) (map (lambda (x) (* x x)) args)', args: [3, 4] });
// display ends its line.
assert.deepEqual(r.structuredContent, { value: [9, 16], output: '2\n', output_truncated: false });
// The foreign form, on the one function the server allows; the expected
// value is libm's own cbrt through the foreign tool.
const viaTool = (await call('cbrt', { x: 2 })).structuredContent.result;
r = await call('run_program', { source: '(foreign "libm.so.6" "cbrt" "double" \'("double")) (cbrt 2)' });
assert.equal(r.structuredContent.value, viaTool);
r = await call('run_program', { source: '(foreign "libm.so.6" "sqrt" "double" \'("double"))' });
assert.equal(r.isError, true);
assert.match(r.content[0].text, /'libm.so.6:sqrt' is not allow-listed/);
r = await call('run_program', { source: '(define (f n) (f (+ n 1))) (f 0)' });
assert.equal(r.isError, true);
assert.match(r.content[0].text, /step budget of 2000000 steps exhausted/);

// query_rules, against the rows run_mcp_clients.sh wrote.
r = await call('query_rules', { sql: 'SELECT id, conclusion, fidelity FROM rules ORDER BY id' });
assert.deepEqual(r.structuredContent, { columns: ['id', 'conclusion', 'fidelity'],
  rows: [[1, 'multiples of 4', 0.97], [2, 'ends in 7', 0.88]], truncated: false });
r = await call('query_rules', { sql: 'SELECT name FROM concepts ORDER BY id', limit: 2 });
assert.equal(r.structuredContent.rows.length, 2);
assert.equal(r.structuredContent.truncated, true);
r = await call('query_rules', { sql: 'DELETE FROM rules' });
assert.equal(r.isError, true);
assert.match(r.content[0].text, /SQL refused/);

// Resources: the two rules, by the SDK's own resource calls.
const { resources } = await client.listResources();
assert.deepEqual(resources.map((x) => x.uri), ['rules://1', 'rules://2']);
assert.equal(resources[1].title, 'x mod 10 = 7 => ends in 7');
const { resourceTemplates } = await client.listResourceTemplates();
assert.deepEqual(resourceTemplates.map((x) => x.uriTemplate), ['rules://{id}']);
const read = await client.readResource({ uri: 'rules://1' });
const rule = JSON.parse(read.contents[0].text);
assert.equal(read.contents[0].mimeType, 'application/json');
assert.deepEqual([rule.id, rule.method, rule.layer, rule.unit, rule.body, rule.conclusion, rule.fidelity, rule.support],
  [1, 'probe', 2, 17, 'unit 17 > 0.42', 'multiples of 4', 0.97, 25]);
await assert.rejects(client.readResource({ uri: 'rules://3' }), (e) => e.code === -32602 && /no rule has that id/.test(e.message));

// Bad arguments: tool errors the model can read; the server keeps serving.
r = await call('number_game', { examples: [16], tpo: 3 });
assert.equal(r.isError, true);
assert.match(r.content[0].text, /unknown property "tpo" \(allowed: examples, range, prior, lambda, sigma, top, probes, space\)/);
r = await call('number_game', { examples: ['sixteen'] });
assert.equal(r.isError, true);
assert.match(r.content[0].text, /arguments\.examples\[0\] must be an integer/);
r = await call('t_add', { a: 1 });
assert.equal(r.isError, true);
assert.match(r.content[0].text, /missing required property "b"/);
await assert.rejects(call('t_secret', {}), (e) => e.code === -32602 && /unknown tool/.test(e.message));
// propose_hypotheses: the network's proposals, rescored exactly (the exact
// posteriors are the WebPPL peer's).
r = await call('propose_hypotheses', { examples: [16, 8, 2, 64], top: 3 });
assert.equal(r.isError, false, JSON.stringify(r.content));
assert.equal(r.structuredContent.proposals[0].name, 'powers of 2');
close(r.structuredContent.proposals[0].posterior, 0.999792, 5e-7, 'proposed powers of 2');
assert.equal(r.structuredContent.exact_map.name, 'powers of 2');
r = await call('propose_hypotheses', { examples: [2, 3, 4, 5, 6, 7, 8] });
assert.equal(r.isError, true);
await client.ping();

await client.close();
assert.match(stderr, /nsr mcp: serving 8 tools/);
console.log(`ok: SDK client listed ${tools.length} tools and checked ${calls} calls`);
