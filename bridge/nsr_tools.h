/* nsr_tools.h: the public API of nsr's tools for LLM loops: the registry, the built-in tools, the MCP server, the agent loop (bridge/tools/).
 * Sources and private headers live in that folder. */
#ifndef NSR_TOOLS_PUBLIC_H
#define NSR_TOOLS_PUBLIC_H

#include <jansson.h>
#include <stdio.h>

#include "nsr_core.h"
#include "nsr_ffi.h"

/* ---- tools_registry ------------------------------------------------------ */
/* tools_registry: nsr's capabilities as tools for LLM loops. A tool has a
 * name, a description, a JSON Schema for its input and one for its output,
 * and a C function. The MCP server, the agent loop and `nsr tools` all list
 * and call tools through this one registry. */

/* A tool's implementation. `args` has already passed the tool's input
 * schema (so types, ranges and property names are right); the function
 * checks what a schema cannot say (an example outside `range`). It returns
 * NSR_OK with *result, an object matching the output schema that the caller
 * then owns, or an error whose message is shown to the model, so it should
 * say what to change. */
typedef nsr_code (*tool_call_fn)(void *ctx, const json_t *args, json_t **result,
                                 nsr_error *err);

/* The same call for a tool whose work can be cut short, given at most
 * max_seconds (> 0) of wall time, less than its own budget when a caller
 * has a budget of its own (the agent's --max-tool-seconds). Running out is
 * an NSR_ERR_LIMIT error like the tool's own budget's. */
typedef nsr_code (*tool_timed_fn)(void *ctx, const json_t *args, double max_seconds,
                                  json_t **result, nsr_error *err);

typedef struct tool_def {
  const char *name;        /* copied */
  const char *description; /* copied */
  json_t *input_schema;    /* the registry takes this reference */
  json_t *output_schema;   /* the registry takes this reference */
  tool_call_fn call;
  void *ctx;                  /* passed to call; owned by the registry */
  void (*free_ctx)(void *ctx); /* may be NULL */
  /* A pure computation: no side effects, same answer for the same
   * arguments, nothing outside nsr consulted. MCP lists it with
   * annotations saying so, which lets clients run it without asking the
   * user first. */
  bool read_only;
} tool_def;

typedef struct tools_registry tools_registry;

nsr_code tools_registry_new(tools_registry **out, nsr_error *err);
/* Frees every tool and its context. NULL is allowed. */
void tools_registry_free(tools_registry *reg);

/* Adds a tool. Ownership of the schemas and the context passes to the
 * registry even on failure, so callers never clean up after a refusal.
 * Fails with NSR_ERR_INVALID when the name is taken or not a valid tool
 * name (1..64 of [A-Za-z0-9_.-]), or a schema is missing. */
nsr_code tools_register(tools_registry *reg, tool_def *def, nsr_error *err);

/* Registers a tool whose schemas are JSON literals in nsr's source: def's
 * schema fields are set from input_schema and output_schema, then it goes
 * to tools_register. The context passes to the registry in every case, as
 * there. A literal that does not parse is a bug in nsr (NSR_ERR_INTERNAL). */
nsr_code tools_register_literal(tools_registry *reg, tool_def *def, const char *input_schema,
                                const char *output_schema, nsr_error *err);

/* Gives the registered tool `name` its timed form (tools_call_timed); a
 * tool without one cannot be cut short and runs within its own bounds
 * only. Fails with NSR_ERR_INVALID when no tool has that name. */
nsr_code tools_set_call_timed(tools_registry *reg, const char *name, tool_timed_fn call_timed,
                              nsr_error *err);

/* Releases what def owns (its schemas, its context through free_ctx) for a
 * caller that gives up before registering it; the fields are cleared. */
void tools_def_discard(tool_def *def);

size_t tools_count(const tools_registry *reg);

/* Every tool as MCP lists it: a JSON array of
 * {"name","description","inputSchema","outputSchema"}, with "annotations"
 * for read-only tools. Caller owns *out. */
nsr_code tools_list_json(const tools_registry *reg, json_t **out, nsr_error *err);

/* Every tool in the OpenAI chat-completions format, ready to be the
 * request's "tools": [{"type":"function","function":{"name","description",
 * "parameters"}}]. Caller owns *out. */
nsr_code tools_list_openai_json(const tools_registry *reg, json_t **out, nsr_error *err);

typedef enum tools_status {
  TOOLS_OK,      /* *result holds the tool's output */
  TOOLS_UNKNOWN, /* no tool has that name: a protocol error, not a tool's */
  TOOLS_FAILED,  /* bad arguments or a failing tool: err says why */
} tools_status;

/* Calls the tool `name` with `args` (a JSON object; NULL means {}). The
 * arguments are checked against the input schema first, so a bad argument
 * is a TOOLS_FAILED with a message naming it, never a crash. */
tools_status tools_call(tools_registry *reg, const char *name, const json_t *args,
                        json_t **result, nsr_error *err);

/* tools_call with at most max_seconds of wall time (> 0) for a tool that has
 * a timed form; a tool without one runs as tools_call runs it, so a caller
 * with a time budget checks its clock between calls as well. */
tools_status tools_call_timed(tools_registry *reg, const char *name, const json_t *args,
                              double max_seconds, json_t **result, nsr_error *err);

/* ---- mcp_server ---------------------------------------------------------- */
/* mcp_server: the Model Context Protocol over newline-delimited JSON-RPC
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

/* ---- tools_builtin ------------------------------------------------------- */
/* tools_builtin: the registry as `nsr mcp`, `nsr agent` and `nsr tools`
 * serve it (their options are in tools_cli.h).
 *
 * Tools and where they come from:
 *   number_game, list_concepts            always (tools_numbers.c); number_game
 *                                         takes the spaces of `spaces_dir` by
 *                                         name (tools_spaces.c)
 *   run_program {source, args?, seed?}    always (tools_program.c)
 *   query_rules {sql, limit?}             always, on the store at `db`
 *                                         (tools_rules.c)
 *   foreign tools                         one --tools MANIFEST each (ffi_tools.c)
 *   propose_hypotheses {examples, top?}   with `weights`, which the commands set to
 *                                         the shipped model by default
 *                                         (tools_propose.c) */

#define TOOLS_MAX_MANIFESTS 16

/* run_program's budgets when the options leave them 0: generous for real
 * programs (the probmods examples take well under a second), small enough
 * that a runaway one costs the server seconds, not its memory. */
#define TOOLS_DEFAULT_MAX_STEPS 100000000ull
#define TOOLS_DEFAULT_MAX_MEMORY ((size_t)256 << 20)
#define TOOLS_DEFAULT_TIMEOUT 10.0

/* Zero-initialise, then set what the command line gives. */
typedef struct tools_options {
  const char *manifests[TOOLS_MAX_MANIFESTS]; /* --tools, in order */
  size_t n_manifests;
  const char *db;          /* --db: the rule store; NULL means NSR_STORE_DEFAULT_PATH */
  const char *weights;     /* --weights: a proposal model; NULL: no propose_hypotheses */
  /* The folder of the shipped spaces (each NAME.json offered as "space":
   * "NAME"); NULL: none. The commands set it to the source tree's
   * programs/spaces, or <prefix>/share/nsr/spaces once installed. */
  const char *spaces_dir;
  uint64_t max_steps;      /* run_program budgets; 0 means the default above */
  size_t max_memory;
  double timeout_seconds;
  const char *foreign[LANG_FOREIGN_MAX]; /* --foreign LIBRARY:FUNCTION:SIGNATURE */
  size_t n_foreign;
} tools_options;

/* The rule store the options name. */
const char *tools_db_path(const tools_options *opt);

/* Builds the registry: the built-in tools, then each manifest's foreign
 * functions. A bad manifest or allow-list entry fails the whole build with
 * a message naming it, so a server never starts with half its tools. */
nsr_code tools_registry_build(const tools_options *opt, tools_registry **out, nsr_error *err);

/* ---- tools_rules --------------------------------------------------------- */
/* tools_rules: the rule store for LLM clients: the `query_rules` tool and
 * the rules://{id} resources. Both read through nsr_store_query (a
 * read-only connection with an authorizer, one statement, a row cap and a
 * time limit), so neither can change the store. */

#define TOOLS_RULES_DEFAULT_LIMIT 100
#define TOOLS_RULES_MAX_LIMIT 1000
#define TOOLS_RULES_TIMEOUT_MS 2000
/* Rules per resources/list page. */
#define TOOLS_RULES_PAGE 100

/* Registers query_rules on the store at db_path. The tool is listed even
 * when no store exists there yet: a call then fails with a message saying
 * how to create one, which the model can pass on to its user. */
nsr_code tools_add_query_rules(tools_registry *reg, const char *db_path, nsr_error *err);

/* The rules://{id} resources of the store at db_path (borrowed: it must
 * outlive the server). Without a store the list is empty and every read
 * is "not found". */
mcp_resources tools_rules_resources(const char *db_path);

/* ---- agent_http ---------------------------------------------------------- */
/* agent_http: one JSON POST to an OpenAI-compatible server, with libcurl. */

/* Largest reply body accepted; a longer one is an error, not a crash. */
#define AGENT_HTTP_MAX_REPLY (16u << 20)

typedef struct agent_http_reply {
  long status; /* HTTP status */
  char *body;  /* NUL-terminated; free with nsr_free */
  size_t len;
} agent_http_reply;

/* Sets libcurl up once per process; call before the first post. */
nsr_code agent_http_init(nsr_error *err);
void agent_http_cleanup(void);

/* POSTs `body` (JSON) to `url`, with "Authorization: Bearer KEY" when
 * api_key is not NULL, waiting at most timeout_s seconds in all. A reply of
 * any status fills *reply; failing to get one is NSR_ERR_IO with a message
 * saying which: the server is unreachable, the request timed out, or the
 * transfer broke. */
nsr_code agent_http_post(const char *url, const char *api_key, const char *body,
                         long timeout_s, agent_http_reply *reply, nsr_error *err);

/* ---- agent_loop ---------------------------------------------------------- */
/* agent_loop: a tool-calling loop against an OpenAI-compatible
 * chat-completions server (llama.cpp server, ollama, vLLM, OpenAI). */

/* The bounds' defaults on the command line. In agent_config, 0 in one of
 * the four bound fields after `trace` means no such bound. */
#define AGENT_DEFAULT_MAX_TURNS 8
#define AGENT_DEFAULT_MAX_TOOL_CALLS 16
#define AGENT_DEFAULT_MAX_TOOL_SECONDS 60.0
#define AGENT_DEFAULT_MAX_TOOL_RESULT ((size_t)32 << 10)
#define AGENT_DEFAULT_MAX_REQUEST ((size_t)4 << 20)

typedef struct agent_config {
  const char *url;     /* full chat-completions URL */
  const char *model;
  const char *api_key; /* NULL: no Authorization header */
  long max_turns;      /* requests to the server, at most */
  long timeout_s;      /* per request */
  FILE *trace;         /* NULL, or where --verbose shows the transcript */
  /* Tool calls run per reply; the reply's further calls are answered "not
   * run", so the conversation stays valid and the model learns why. */
  long max_tool_calls;
  /* Wall time of all the run's tool calls together: each call gets at most
   * what remains (tools_call_timed); when it is spent the calls left are
   * answered "not run" and the loop stops. */
  double max_tool_seconds;
  size_t max_tool_result; /* bytes of one tool result sent back; cut beyond, with a note */
  size_t max_request;     /* bytes of one request; a longer one is not sent: the loop stops */
} agent_config;

/* What a run did, for the caller's report. stopped_by names the option of
 * the bound that ended the run without an answer ("--max-turns",
 * "--max-tool-seconds", "--max-request"), or is NULL; stopped_limit is its
 * value. */
typedef struct agent_stats {
  long requests;        /* sent to the server */
  long calls_run;       /* tool calls run */
  long calls_not_run;   /* tool calls answered "not run" because of a bound */
  long results_cut;     /* tool results cut at max_tool_result */
  double tool_seconds;  /* wall time spent in tool calls */
  const char *stopped_by;
  double stopped_limit;
} agent_stats;

/* The chat-completions URL for an --endpoint: used as is when it already
 * ends in /chat/completions, else with that appended ("http://h:8080/v1"
 * gives "http://h:8080/v1/chat/completions"). Caller frees with nsr_free. */
char *agent_completions_url(const char *endpoint);

/* Asks `question`, offering every tool of `reg` in the OpenAI function
 * format. Each reply with tool_calls is answered by running the tools
 * (arguments arrive as a JSON string) and sending their results as role
 * "tool" messages with the matching tool_call_id; a bad call (arguments
 * that are not JSON or fail the schema, an unknown tool) is answered with
 * an error message the model can act on. Ends when a reply has no tool
 * calls: *answer is its content (nsr_free). *transcript receives every
 * message exchanged, also on failure (json_decref; may be NULL on
 * NSR_ERR_NOMEM). Errors: NSR_ERR_IO (unreachable, timeout, HTTP error
 * status), NSR_ERR_FORMAT (a reply that is not a chat completion),
 * NSR_ERR_LIMIT (a bound stopped the run: stats->stopped_by says which).
 * *stats is filled in every case. */
nsr_code agent_run(const agent_config *cfg, tools_registry *reg, const char *question,
                   char **answer, json_t **transcript, agent_stats *stats, nsr_error *err);

#endif
