/* cmd_mcp.c: `nsr mcp`, the tool registry as an MCP server on stdio. */
#include <signal.h>
#include <stdio.h>

#include "cli.h"
#include "commands.h"
#include "nsr_tools.h"
#include "tools_cli.h"

#define CMD "mcp"

static const char description[] =
    "Serves nsr's tools over the Model Context Protocol on stdin/stdout:\n"
    "newline-delimited JSON-RPC 2.0, protocol 2025-11-25 (initialize handshake) and\n"
    "2026-07-28 (stateless: _meta on every request, server/discover). Logs go to\n"
    "stderr only. Exits 0 at end of input, 1 when the client goes away mid-reply;\n"
    "a bad manifest or model file stops it at the start with status 2.\n"
    "Tools: number_game, list_concepts, run_program, query_rules,\n"
    "propose_hypotheses, and each manifest's C functions. Resources: rules://{id},\n"
    "the rule store's rules.\n";

static const char epilog[] =
    "Example (Claude Desktop, claude_desktop_config.json):\n"
    "  {\"mcpServers\": {\"nsr\": {\"command\": \"/usr/local/bin/nsr\", \"args\": [\"mcp\"]}}}\n";

/* Serves reg and the rules of db until the end of input. */
static nsr_code serve(tools_registry *reg, const char *db, nsr_error *err) {
  mcp_server *server = NULL;
  nsr_code rc = mcp_server_new(reg, &server, err);
  if (rc != NSR_OK) return rc;
  mcp_resources rules = tools_rules_resources(db);
  mcp_server_set_resources(server, &rules);
  /* A client that closes the pipe must not kill us mid-write: we see
   * EPIPE and exit with a message instead. */
  signal(SIGPIPE, SIG_IGN);
  fprintf(stderr, "nsr mcp: serving %zu tools and the rules of '%s' on stdio (MCP %s and %s)\n",
          tools_count(reg), db, MCP_LEGACY_LATEST, MCP_MODERN_VERSION);
  rc = mcp_serve(server, stdin, stdout, stderr, MCP_MAX_LINE, err);
  mcp_server_free(server);
  return rc;
}

int cmd_mcp(int argc, char **argv) {
  tools_cli tc;
  tools_cli_init(&tc);
  const cli_opt opts[] = {TOOLS_CLI_OPTIONS(&tc)};
  const cli_spec spec = {.name = CMD, .description = description, .opts = opts,
                         .n_opts = sizeof opts / sizeof opts[0], .epilog = epilog};
  cli_args args;
  int status = cli_parse(&spec, argc, argv, &args);
  if (status != CLI_CONTINUE) return status;
  const tools_options *opt = tools_cli_options(&tc);
  nsr_error err = {0};
  tools_registry *reg = NULL;
  nsr_code rc = tools_registry_build(opt, &reg, &err);
  if (rc == NSR_OK) rc = serve(reg, tools_db_path(opt), &err);
  tools_registry_free(reg);
  return rc == NSR_OK ? cli_finish(CMD, CLI_EXIT_OK) : cli_report(CMD, &err);
}
