// mcp_inspector_check.mjs: `nsr mcp` through the MCP Inspector's CLI
// (@modelcontextprotocol/inspector --cli mode), in the legacy era (the
// initialize handshake) and the modern one (server/discover, _meta on every
// request): lists the tools and calls every one, and lists and reads the
// rules://{id} resources.
//
// Usage: node mcp_inspector_check.mjs NSR DB MANIFEST...   (NSR_NPM_DIR: the npm dir)
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';

const [nsr, db, ...manifests] = process.argv.slice(2);
const serverArgs = ['mcp', '--db', db, '--foreign', 'libm.so.6:cbrt:double(double)', ...manifests.flatMap((m) => ['--tools', m])];
const cli = path.join(process.env.NSR_NPM_DIR, 'node_modules/@modelcontextprotocol/inspector/clients/cli/build/index.js');

function inspect(era, args) {
  let out;
  try {
    out = execFileSync('node', [cli, '-q', '--protocol-era', era, '--format', 'json', ...args,
      nsr, ...serverArgs], { encoding: 'utf8', timeout: 60000, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    return { status: e.status, out: e.stdout, err: e.stderr };
  }
  return { status: 0, out, json: JSON.parse(out) };
}

for (const era of ['legacy', 'modern']) {
  const list = inspect(era, ['--method', 'tools/list']);
  assert.equal(list.status, 0, `${era} tools/list: ${list.err}`);
  assert.deepEqual(list.json.result.tools.map((t) => t.name).sort(), ['cbrt', 'list_concepts', 'number_game', 'propose_hypotheses', 'query_rules', 'run_program', 't_add', 't_greet']);

  const call = (tool, args) => inspect(era, ['--method', 'tools/call', '--tool-name', tool, '--tool-args-json', JSON.stringify(args)]);
  let r = call('number_game', { examples: [16, 8, 2, 64], top: 2 });
  assert.equal(r.status, 0, r.err);
  const sc = r.json.result.structuredContent;
  assert.equal(sc.hypotheses[0].name, 'powers of 2');
  assert.ok(Math.abs(sc.hypotheses[0].posterior - 0.999792) < 5e-7);
  // Served without --weights: the shipped model is the default.
  r = call('propose_hypotheses', { examples: [16, 8, 2, 64], top: 1 });
  assert.equal(r.status, 0, r.err);
  assert.equal(r.json.result.structuredContent.proposals[0].name, 'powers of 2');
  r = call('list_concepts', {});
  assert.equal(r.json.result.structuredContent.rules.length, 34);
  r = call('cbrt', { x: -27 });
  assert.ok(Math.abs(r.json.result.structuredContent.result + 3) < 1e-15);
  r = call('t_add', { a: -5, b: 7 });
  assert.equal(r.json.result.structuredContent.result, 2);
  r = call('t_greet', { name: 'x', times: 2 });
  assert.equal(r.json.result.structuredContent.result, 'hi x, hi x');
  // p(both heads | at least one) = (1/4) / (3/4) = 1/3.
  r = call('run_program', { source: '(enumeration-query (define a (flip)) (define b (flip)) (and a b) (or a b))' });
  assert.ok(Math.abs(r.json.result.structuredContent.value[1][0] - 1 / 3) < 1e-15);
  r = call('run_program', { source: '(foreign "libm.so.6" "cbrt" "double" \'("double")) (cbrt -27)' });
  assert.ok(Math.abs(r.json.result.structuredContent.value + 3) < 1e-15);
  r = call('query_rules', { sql: 'SELECT conclusion FROM rules WHERE id = 2' });
  assert.deepEqual(r.json.result.structuredContent.rows, [['ends in 7']]);
  const res = inspect(era, ['--method', 'resources/list']);
  assert.equal(res.status, 0, res.err);
  assert.deepEqual(res.json.result.resources.map((x) => x.uri), ['rules://1', 'rules://2']);
  const tpl = inspect(era, ['--method', 'resources/templates/list']);
  assert.equal(tpl.json.result.resourceTemplates[0].uriTemplate, 'rules://{id}');
  const rd = inspect(era, ['--method', 'resources/read', '--uri', 'rules://2']);
  assert.equal(rd.status, 0, rd.err);
  assert.equal(JSON.parse(rd.json.result.contents[0].text).conclusion, 'ends in 7');
  // A tool error reaches the client as isError with the message.
  r = call('number_game', { examples: [0] });
  assert.notEqual(r.status, 0);
  assert.match(r.out, /below the minimum 1/);
  console.log(`ok: inspector --protocol-era ${era}: listed 8 tools, called each, read the rules`);
}
