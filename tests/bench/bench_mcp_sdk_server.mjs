// bench_mcp_sdk_server.mjs: the baseline for bench_mcp.mjs: a minimal MCP
// server built on the official TypeScript SDK (McpServer over stdio),
// serving the same number_game tool, computed by the reference
// enumeration in ../bridge/numbergame_ref.mjs. With --memo it answers a
// repeated argument set from a cache, so that what is measured is the SDK's
// protocol path alone, not JavaScript arithmetic.
//
// Usage: node bench_mcp_sdk_server.mjs [--memo]   (NSR_NPM_DIR: the npm dir)
import { createRequire } from 'node:module';
import path from 'node:path';
import { numberGame } from '../bridge/numbergame_ref.mjs';

const require = createRequire(path.join(process.env.NSR_NPM_DIR, 'node_modules', 'x.js'));
const { McpServer } = require('@modelcontextprotocol/sdk/server/mcp.js');
const { StdioServerTransport } = require('@modelcontextprotocol/sdk/server/stdio.js');
const { z } = require('zod');

const memo = process.argv.includes('--memo') ? new Map() : null;
const server = new McpServer({ name: 'sdk-number-game', version: '1.0.0' });
server.registerTool('number_game', {
  description: 'Exact Bayesian concept learning in the number game (reference enumeration).',
  inputSchema: {
    examples: z.array(z.number().int().min(1).max(10000)).min(1),
    range: z.number().int().min(1).max(10000).optional(),
    prior: z.enum(['pmtk3', 'mixture']).optional(),
    lambda: z.number().min(0).max(1).optional(),
    sigma: z.number().positive().optional(),
    top: z.number().int().min(0).max(1000).optional(),
  },
  outputSchema: {
    hypotheses: z.array(z.object({ name: z.string(), posterior: z.number(), prior: z.number(), size: z.number() })),
    generalization: z.array(z.number()),
    log_evidence: z.number(),
    consistent: z.object({ rules: z.number(), intervals: z.number() }),
  },
}, async (args) => {
  const key = memo && JSON.stringify(args);
  let out = memo?.get(key);
  if (!out) {
    const { examples, ...opts } = args;
    out = numberGame(examples, opts);
    memo?.set(key, out);
  }
  return { content: [{ type: 'text', text: JSON.stringify(out) }], structuredContent: out };
});
await server.connect(new StdioServerTransport());
