/* cmd_mcp.c: `nsr mcp`, the tool registry as an MCP server on stdio. */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "nsr_tools.h"
#include "tools_cli.h"

#define CMD "mcp"

static const char help_text[] =
    "Usage: nsr mcp [--db PATH] [--tools MANIFEST]... [--foreign LIB:FUNC]...\n"
    "               [--max-steps N] [--max-memory BYTES] [--max-time SECONDS]\n"
    "\n"
    "Serves nsr's tools over the Model Context Protocol on stdin/stdout:\n"
    "newline-delimited JSON-RPC 2.0, protocol 2025-11-25 (initialize handshake) and\n"
    "2026-07-28 (stateless: _meta on every request, server/discover). Logs go to\n"
    "stderr only. Exits 0 at end of input.\n"
    "Tools: number_game, list_concepts, run_program, query_rules, and each\n"
    "manifest's C functions. Resources: rules://{id}, the rule store's rules.\n"
    "\n"
    "Options:\n"
    "%s"
    "  -h, --help         show this help\n"
    "\n"
    "Exit status: 0 at end of input, 2 on bad arguments or a bad manifest,\n"
    "1 when the client goes away mid-reply.\n"
    "Example (Claude Desktop, claude_desktop_config.json):\n"
    "  {\"mcpServers\": {\"nsr\": {\"command\": \"/usr/local/bin/nsr\", \"args\": [\"mcp\"]}}}\n";

int cmd_mcp(int argc, char **argv) {
  tools_options opt = {0};
  nsr_error err;
  nsr_error_clear(&err);
  for (int i = 1; i < argc; i++) {
    if (cli_is_help(argv[i])) {
      printf(help_text, tools_cli_help);
      return CLI_EXIT_OK;
    }
  }
  for (int i = 1; i < argc; i++) {
    nsr_code rc;
    if (tools_cli_option(argc, argv, &i, &opt, &rc, &err)) {
      if (rc != NSR_OK) return cli_usage_error(CMD, "%s", err.message);
      continue;
    }
    if (argv[i][0] == '-') return cli_usage_error(CMD, "unknown option '%s'", argv[i]);
    return cli_usage_error(CMD, "unexpected argument '%s'", argv[i]);
  }
  tools_registry *reg = NULL;
  mcp_server *server = NULL;
  nsr_code rc = tools_registry_build(&opt, &reg, &err);
  if (rc == NSR_OK) rc = mcp_server_new(reg, &server, &err);
  if (rc == NSR_OK) {
    mcp_resources rules = tools_rules_resources(tools_db_path(&opt));
    mcp_server_set_resources(server, &rules);
  }
  if (rc == NSR_OK) {
    /* A client that closes the pipe must not kill us mid-write: we see
     * EPIPE and exit with a message instead. */
    signal(SIGPIPE, SIG_IGN);
    fprintf(stderr, "nsr mcp: serving %zu tools and the rules of '%s' on stdio (MCP %s and %s)\n",
            tools_count(reg), tools_db_path(&opt), MCP_LEGACY_LATEST, MCP_MODERN_VERSION);
    rc = mcp_serve(server, stdin, stdout, stderr, MCP_MAX_LINE, &err);
  }
  mcp_server_free(server);
  tools_registry_free(reg);
  return rc == NSR_OK ? CLI_EXIT_OK : cli_report(CMD, &err);
}
