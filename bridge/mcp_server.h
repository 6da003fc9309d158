/* mcp_server.h: the Model Context Protocol over newline-delimited JSON-RPC
 * 2.0, serving a tool registry. Both protocol eras are spoken on one
 * connection, message by message:
 *   2025-11-25 (and the earlier dated versions back to 2024-11-05):
 *     initialize, notifications/initialized, ping, tools/list, tools/call,
 *     and with resources resources/list, resources/read,
 *     resources/templates/list;
 *   2026-07-28 (stateless): every request carries _meta with
 *     io.modelcontextprotocol/protocolVersion and .../clientCapabilities;
 *     server/discover; results carry resultType "complete", and list and
 *     discover results ttlMs and cacheScope.
 * A request with modern _meta is answered in the modern era; one without it
 * is answered in the legacy era after an initialize, and refused with
 * -32602 naming the missing _meta before one. */
#ifndef NSR_MCP_SERVER_H
#define NSR_MCP_SERVER_H

#include <stdio.h>

#include "tools_registry.h"

/* JSON-RPC 2.0 and MCP error codes. */
enum {
  MCP_PARSE_ERROR = -32700,
  MCP_INVALID_REQUEST = -32600,
  MCP_METHOD_NOT_FOUND = -32601,
  MCP_INVALID_PARAMS = -32602,
  MCP_INTERNAL_ERROR = -32603,
  MCP_UNSUPPORTED_VERSION = -32022,
};

#define MCP_MODERN_VERSION "2026-07-28"
#define MCP_LEGACY_LATEST "2025-11-25"
/* Longest accepted message line; longer ones get -32600 and are skipped. */
#define MCP_MAX_LINE (1u << 20)

typedef struct mcp_server mcp_server;

/* Resources a server offers besides its tools (the rules://{id} of the rule
 * store). Each function fills *result with the method's result object, or
 * fails: NSR_ERR_INVALID for the client's mistake (a bad cursor, a URI that
 * names nothing: answered -32602, the URI in the error's data, as SEP-2164
 * settles), anything else for the server's (-32603). */
typedef struct mcp_resources {
  /* resources/list: {"resources":[...], "nextCursor"?}, the page after
   * `cursor` (NULL: the first page) */
  nsr_code (*list)(void *ctx, const char *cursor, json_t **result, nsr_error *err);
  /* resources/read: {"contents":[{"uri","mimeType","text"}]} */
  nsr_code (*read)(void *ctx, const char *uri, json_t **result, nsr_error *err);
  /* resources/templates/list: {"resourceTemplates":[...]} */
  nsr_code (*templates)(void *ctx, json_t **result, nsr_error *err);
  void *ctx;
} mcp_resources;

/* The server serves `reg` (borrowed: it must outlive the server). */
nsr_code mcp_server_new(tools_registry *reg, mcp_server **out, nsr_error *err);
void mcp_server_free(mcp_server *server);
/* Serves `res` too (copied; its ctx must outlive the server) and says so in
 * the capabilities. Without it the resource methods are -32601. */
void mcp_server_set_resources(mcp_server *server, const mcp_resources *res);

/* Answers one message (one line, without its newline). *reply is the
 * response line to send (caller frees with nsr_free), or NULL when nothing
 * is to be sent (a notification, or a response from the client). Every
 * malformed or unknown message gets a JSON-RPC error reply; the function
 * fails only when memory runs out. */
nsr_code mcp_server_handle(mcp_server *server, const char *line, size_t len, char **reply,
                           nsr_error *err);

/* The JSON-RPC error reply to a message that could not be read at all (an
 * over-long line): id null. Caller frees *reply with nsr_free. */
nsr_code mcp_error_reply(int code, const char *message, char **reply, nsr_error *err);

/* Serves messages from `in` until end of input, writing replies to `out`
 * (flushed after each). Lines longer than max_line bytes are answered with
 * -32600 and skipped. `log` (may be NULL) gets one line per framing error.
 * Fails with NSR_ERR_IO when writing fails (the client went away). */
nsr_code mcp_serve(mcp_server *server, FILE *in, FILE *out, FILE *log, size_t max_line,
                   nsr_error *err);

#endif
