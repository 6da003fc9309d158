/* mcp_server.c: MCP requests to tool registry calls, in both eras. */
#include "nsr_tools.h"

#include <stdarg.h>
#include <string.h>

#include "json.h"
#include "nsr_config.h"
#include "strbuf.h"

#define META_VERSION "io.modelcontextprotocol/protocolVersion"
#define META_CAPABILITIES "io.modelcontextprotocol/clientCapabilities"
/* The tool list changes only when the server restarts with other options. */
#define LIST_TTL_MS 3600000

static const char *const legacy_versions[] = {MCP_LEGACY_LATEST, "2025-06-18", "2025-03-26",
                                              "2024-11-05"};
static const char instructions[] =
    "nsr computes exactly what a language model would otherwise estimate: call number_game "
    "for Bayesian concept learning from example numbers (exact posteriors and "
    "generalization), list_concepts for the hypotheses it weighs, run_program to run a "
    "probabilistic program in Church (exact enumeration or sampling), query_rules for SQL "
    "on the rule store; rules are also resources rules://{id}.";

struct mcp_server {
  tools_registry *reg;
  mcp_resources res; /* res.list NULL: no resources */
  bool initialized; /* a legacy initialize was answered on this connection */
};

/* A JSON-RPC error on its way to the client. */
typedef struct rpc_error {
  int code;
  char message[NSR_ERROR_MESSAGE_MAX];
  json_t *data; /* owned; may be NULL */
} rpc_error;

typedef struct request {
  const json_t *id;
  const char *method;
  const json_t *params; /* an object (an empty one when absent) */
  bool modern;
  /* tools/call: the tool's output as JSON text (free()), sent both as the
   * text item and, spliced in verbatim, as structuredContent: formatting
   * its numbers once instead of twice halves the server's work per call. */
  char *structured;
} request;

static int rpc_fail(rpc_error *e, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int rpc_fail(rpc_error *e, int code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  /* The analyzer inlines this through the macro below and loses va_start. */
  vsnprintf(e->message, sizeof e->message, fmt, ap); // NOLINT(clang-analyzer-valist.Uninitialized)
  va_end(ap);
  e->code = code;
  return code;
}
#ifdef __clang_analyzer__
/* The analyzer does not follow variadic functions; tell it the result. */
#define rpc_fail(e, code, ...) (rpc_fail((e), (code), __VA_ARGS__), (code))
#endif

nsr_code mcp_server_new(tools_registry *reg, mcp_server **out, nsr_error *err) {
  *out = nsr_calloc(1, sizeof **out);
  if (*out == NULL) return nsr_fail(err, NSR_ERR_NOMEM, "MCP server: out of memory");
  (*out)->reg = reg;
  return NSR_OK;
}

void mcp_server_free(mcp_server *server) { nsr_free(server); }

void mcp_server_set_resources(mcp_server *server, const mcp_resources *res) {
  server->res = *res;
}

/* What the server offers, for initialize and server/discover. */
static json_t *capabilities(const mcp_server *s) {
  json_t *caps = json_pack("{s:{s:b}}", "tools", "listChanged", 0);
  if (caps && s->res.list) {
    json_object_set_new(caps, "resources", json_pack("{s:b, s:b}", "subscribe", 0, "listChanged", 0));
  }
  return caps;
}

static json_t *server_info(void) {
  return json_pack("{s:s, s:s, s:s}", "name", "nsr", "title", "nsr neuro-symbolic reasoning",
                   "version", NSR_VERSION);
}

/* ---- methods ------------------------------------------------------------- */

static bool is_legacy_version(const char *v) {
  for (size_t i = 0; i < sizeof legacy_versions / sizeof legacy_versions[0]; i++) {
    if (strcmp(v, legacy_versions[i]) == 0) return true;
  }
  return false;
}

/* Each method below fills *result and returns 0, or fills e and returns
 * its code. A 0 with *result still NULL means memory ran out. */

static int do_initialize(mcp_server *s, request *r, json_t **result, rpc_error *e) {
  const json_t *v = json_object_get(r->params, "protocolVersion");
  if (!json_is_string(v)) {
    return rpc_fail(e, MCP_INVALID_PARAMS, "initialize: params.protocolVersion must be a string");
  }
  /* Echo a version we speak, else offer our latest (the client decides). */
  const char *chosen = is_legacy_version(json_string_value(v)) ? json_string_value(v)
                                                                : MCP_LEGACY_LATEST;
  s->initialized = true;
  *result = json_pack("{s:s, s:o, s:o, s:s}", "protocolVersion", chosen, "capabilities",
                      capabilities(s), "serverInfo", server_info(), "instructions", instructions);
  return 0;
}

static int do_discover(mcp_server *s, request *r, json_t **result, rpc_error *e) {
  (void)r;
  (void)e;
  json_t *versions = json_pack("[s]", MCP_MODERN_VERSION);
  for (size_t i = 0; versions && i < sizeof legacy_versions / sizeof legacy_versions[0]; i++) {
    json_array_append_new(versions, json_string(legacy_versions[i]));
  }
  *result = json_pack("{s:o, s:o, s:o, s:s, s:i, s:s}", "supportedVersions", versions,
                      "capabilities", capabilities(s), "serverInfo", server_info(),
                      "instructions", instructions, "ttlMs", LIST_TTL_MS, "cacheScope", "public");
  return 0;
}

static int do_ping(mcp_server *s, request *r, json_t **result, rpc_error *e) {
  (void)s;
  (void)r;
  (void)e;
  *result = json_object();
  return 0;
}

/* The modern era's caching hints, which it requires on list results and
 * resources/read. */
static void list_cache_hints(const request *r, json_t *result, int ttl_ms) {
  if (result && r->modern) {
    json_object_set_new(result, "ttlMs", json_integer(ttl_ms));
    json_object_set_new(result, "cacheScope", json_string("public"));
  }
}

static int do_tools_list(mcp_server *s, request *r, json_t **result, rpc_error *e) {
  /* Every tool fits in one page, so no cursor of ours can exist. */
  if (json_object_get(r->params, "cursor")) {
    return rpc_fail(e, MCP_INVALID_PARAMS, "tools/list: unknown cursor (the list has one page)");
  }
  json_t *tools;
  nsr_error err;
  if (tools_list_json(s->reg, &tools, &err) != NSR_OK) return 0; /* *result stays NULL: OOM */
  *result = json_pack("{s:o}", "tools", tools);
  list_cache_hints(r, *result, LIST_TTL_MS);
  return 0;
}

/* A tools/call result: the tool's JSON as a text item (for clients that
 * show only text) and, through r->structured, as structuredContent; or
 * isError with the message. */
static json_t *call_result(request *r, json_t *output, const nsr_error *err) {
  if (output == NULL) {
    return json_pack("{s:[{s:s, s:s}], s:b}", "content", "type", "text", "text", err->message,
                     "isError", 1);
  }
  r->structured = nsr_json_dump(output);
  json_decref(output);
  if (r->structured == NULL) return NULL;
  return json_pack("{s:[{s:s, s:s}], s:b}", "content", "type", "text", "text", r->structured,
                   "isError", 0);
}

static int do_tools_call(mcp_server *s, request *r, json_t **result, rpc_error *e) {
  const json_t *name = json_object_get(r->params, "name");
  const json_t *args = json_object_get(r->params, "arguments");
  if (!json_is_string(name)) {
    return rpc_fail(e, MCP_INVALID_PARAMS, "tools/call: params.name must be a string");
  }
  if (args != NULL && !json_is_object(args) && !json_is_null(args)) {
    return rpc_fail(e, MCP_INVALID_PARAMS, "tools/call: params.arguments must be an object");
  }
  json_t *output;
  nsr_error err;
  nsr_error_clear(&err);
  tools_status st = tools_call(s->reg, json_string_value(name), json_is_null(args) ? NULL : args,
                               &output, &err);
  if (st == TOOLS_UNKNOWN) {
    return rpc_fail(e, MCP_INVALID_PARAMS, "tools/call: unknown tool '%.80s' (see tools/list)",
                    json_string_value(name));
  }
  *result = call_result(r, st == TOOLS_OK ? output : NULL, &err);
  return 0;
}

/* A resource provider's failure: the client's mistake (NSR_ERR_INVALID)
 * is -32602 with `uri` (may be NULL) as data, anything else -32603. */
static int resource_fail(rpc_error *e, const char *method, const char *uri, const nsr_error *err) {
  if (err->code != NSR_ERR_INVALID) {
    return rpc_fail(e, MCP_INTERNAL_ERROR, "%s: %s", method, err->message);
  }
  rpc_fail(e, MCP_INVALID_PARAMS, "%s", err->message);
  if (uri) e->data = json_pack("{s:s}", "uri", uri);
  return e->code;
}

static int no_resources(rpc_error *e, const char *method) {
  return rpc_fail(e, MCP_METHOD_NOT_FOUND, "Method not found: '%s' (this server has no resources)",
                  method);
}

/* The rule list changes when rules are written to the store. */
#define RESOURCES_TTL_MS 60000

static int do_resources_list(mcp_server *s, request *r, json_t **result, rpc_error *e) {
  if (s->res.list == NULL) return no_resources(e, r->method);
  const json_t *cursor = json_object_get(r->params, "cursor");
  if (cursor && !json_is_string(cursor)) {
    return rpc_fail(e, MCP_INVALID_PARAMS, "resources/list: params.cursor must be a string");
  }
  nsr_error err;
  nsr_error_clear(&err);
  if (s->res.list(s->res.ctx, json_string_value(cursor), result, &err) != NSR_OK) {
    return resource_fail(e, r->method, NULL, &err);
  }
  list_cache_hints(r, *result, RESOURCES_TTL_MS);
  return 0;
}

static int do_resources_read(mcp_server *s, request *r, json_t **result, rpc_error *e) {
  if (s->res.read == NULL) return no_resources(e, r->method);
  const char *uri = json_string_value(json_object_get(r->params, "uri"));
  if (uri == NULL) return rpc_fail(e, MCP_INVALID_PARAMS, "resources/read: params.uri must be a string");
  nsr_error err;
  nsr_error_clear(&err);
  if (s->res.read(s->res.ctx, uri, result, &err) != NSR_OK) {
    return resource_fail(e, r->method, uri, &err);
  }
  list_cache_hints(r, *result, RESOURCES_TTL_MS);
  return 0;
}

static int do_resource_templates(mcp_server *s, request *r, json_t **result, rpc_error *e) {
  if (s->res.templates == NULL) return no_resources(e, r->method);
  nsr_error err;
  nsr_error_clear(&err);
  if (s->res.templates(s->res.ctx, result, &err) != NSR_OK) {
    return resource_fail(e, r->method, NULL, &err);
  }
  list_cache_hints(r, *result, LIST_TTL_MS);
  return 0;
}

/* A method as described above do_initialize. */
typedef int (*method_fn)(mcp_server *s, request *r, json_t **result, rpc_error *e);

enum era { ERA_BOTH, ERA_LEGACY, ERA_MODERN };

static const struct {
  const char *name;
  method_fn fn;
  enum era era;
} methods[] = {
    {"initialize", do_initialize, ERA_LEGACY},   {"server/discover", do_discover, ERA_MODERN},
    {"ping", do_ping, ERA_BOTH},                 {"tools/list", do_tools_list, ERA_BOTH},
    {"tools/call", do_tools_call, ERA_BOTH},     {"resources/list", do_resources_list, ERA_BOTH},
    {"resources/read", do_resources_read, ERA_BOTH},
    {"resources/templates/list", do_resource_templates, ERA_BOTH},
};

/* ---- eras ---------------------------------------------------------------- */

/* Decides the era of a request and checks the modern _meta. A request is
 * modern when its _meta names 2026-07-28, and always for server/discover.
 * It is legacy when it is initialize, or comes on a connection that did
 * initialize and names no version or a legacy one; ping is answered
 * anywhere. Everything else lacks what the stateless era requires. */
static int choose_era(const mcp_server *s, request *r, enum era era, rpc_error *e) {
  const json_t *meta = json_object_get(r->params, "_meta");
  const json_t *version = json_is_object(meta) ? json_object_get(meta, META_VERSION) : NULL;
  const char *v = json_string_value(version);
  r->modern = era != ERA_LEGACY && v && strcmp(v, MCP_MODERN_VERSION) == 0;
  bool legacy_ok = era == ERA_LEGACY || (era == ERA_BOTH && s->initialized &&
                                         (version == NULL || (v && is_legacy_version(v))));
  if (!r->modern && (legacy_ok || (version == NULL && strcmp(r->method, "ping") == 0))) return 0;
  if (meta != NULL && !json_is_object(meta)) {
    return rpc_fail(e, MCP_INVALID_PARAMS, "%s: params._meta must be an object", r->method);
  }
  if (version == NULL) {
    return rpc_fail(e, MCP_INVALID_PARAMS,
                    "%s: params._meta[\"" META_VERSION "\"] is required (protocol "
                    MCP_MODERN_VERSION "); or send initialize first (protocol " MCP_LEGACY_LATEST ")",
                    r->method);
  }
  if (!r->modern) {
    rpc_fail(e, MCP_UNSUPPORTED_VERSION, "Unsupported protocol version");
    e->data = json_pack("{s:[s], s:O}", "supported", MCP_MODERN_VERSION, "requested", version);
    return e->code;
  }
  if (!json_is_object(json_object_get(meta, META_CAPABILITIES))) {
    return rpc_fail(e, MCP_INVALID_PARAMS,
                    "%s: params._meta[\"" META_CAPABILITIES "\"] must be an object", r->method);
  }
  return 0;
}

/* ---- messages ------------------------------------------------------------ */

/* Serialises a response: `result` when it is not NULL, else the error e
 * (whose data it releases). `structured` (may be NULL) is JSON text that
 * becomes the result's last member, structuredContent. */
static nsr_code reply_text(const json_t *id, json_t *result, const char *structured, rpc_error *e,
                           char **reply, nsr_error *err) {
  json_t *msg;
  if (result) {
    msg = json_pack("{s:s, s:O, s:O}", "jsonrpc", "2.0", "id", id ? id : json_null(), "result",
                    result);
  } else {
    /* The message may quote the client's text cut at the buffer's end,
     * maybe inside a UTF-8 sequence: nsr_json_string mends it, where "s"
     * would fail and turn a bad request into "out of memory". */
    json_t *error = json_pack("{s:i, s:o}", "code", e->code, "message", nsr_json_string(e->message));
    if (error && e->data) json_object_set(error, "data", e->data);
    msg = json_pack("{s:s, s:O, s:o}", "jsonrpc", "2.0", "id", id ? id : json_null(), "error",
                    error);
  }
  json_decref(e->data);
  e->data = NULL;
  char *text = msg ? nsr_json_dump(msg) : NULL;
  json_decref(msg);
  if (text == NULL) return nsr_fail(err, NSR_ERR_NOMEM, "MCP reply: out of memory");
  nsr_strbuf sb = {0};
  if (result && structured) {
    /* jansson keeps members in insertion order, so the text ends with the
     * result's "}" and the message's "}": insert before them. */
    nsr_strbuf_append(&sb, text, strlen(text) - 2);
    nsr_strbuf_puts(&sb, ",\"structuredContent\":");
    nsr_strbuf_puts(&sb, structured);
    nsr_strbuf_puts(&sb, "}}");
  } else {
    nsr_strbuf_puts(&sb, text);
  }
  free(text);
  nsr_code rc = nsr_strbuf_finish(&sb, reply, NULL, err);
  if (rc != NSR_OK) nsr_error_prefix(err, "MCP reply: ");
  return rc;
}

nsr_code mcp_error_reply(int code, const char *message, char **reply, nsr_error *err) {
  rpc_error e = {.code = code};
  snprintf(e.message, sizeof e.message, "%s", message);
  return reply_text(NULL, NULL, NULL, &e, reply, err);
}

static bool valid_id(const json_t *id) { return json_is_string(id) || json_is_integer(id); }

/* Checks the JSON-RPC envelope; fills r. A message with an unusable id is
 * answered with id null, as JSON-RPC asks. */
static int read_envelope(const json_t *msg, request *r, bool *is_response, rpc_error *e) {
  if (json_is_array(msg)) {
    return rpc_fail(e, MCP_INVALID_REQUEST, "Invalid Request: batches are not supported; send one message per line");
  }
  if (!json_is_object(msg)) return rpc_fail(e, MCP_INVALID_REQUEST, "Invalid Request: a message must be an object");
  const json_t *id = json_object_get(msg, "id");
  if (id != NULL && !valid_id(id)) {
    return rpc_fail(e, MCP_INVALID_REQUEST, "Invalid Request: id must be a string or an integer");
  }
  r->id = id;
  const json_t *version = json_object_get(msg, "jsonrpc");
  if (!json_is_string(version) || strcmp(json_string_value(version), "2.0") != 0) {
    return rpc_fail(e, MCP_INVALID_REQUEST, "Invalid Request: \"jsonrpc\" must be \"2.0\"");
  }
  const json_t *method = json_object_get(msg, "method");
  if (method == NULL && (json_object_get(msg, "result") || json_object_get(msg, "error"))) {
    *is_response = true; /* we send no requests, so there is nothing to match it with */
    return 0;
  }
  if (!json_is_string(method)) return rpc_fail(e, MCP_INVALID_REQUEST, "Invalid Request: \"method\" must be a string");
  r->method = json_string_value(method);
  const json_t *params = json_object_get(msg, "params");
  if (params != NULL && !json_is_object(params)) {
    return rpc_fail(e, MCP_INVALID_PARAMS, "%s: params must be an object", r->method);
  }
  r->params = params;
  return 0;
}

/* Runs a request's method; returns its result or fills e. */
static json_t *dispatch(mcp_server *s, request *r, rpc_error *e) {
  for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++) {
    if (strcmp(methods[i].name, r->method) != 0) continue;
    json_t *result = NULL;
    if (choose_era(s, r, methods[i].era, e) != 0) return NULL;
    if (methods[i].fn(s, r, &result, e) != 0) return NULL;
    if (result == NULL) {
      rpc_fail(e, MCP_INTERNAL_ERROR, "%s: out of memory", r->method);
      return NULL;
    }
    if (r->modern) json_object_set_new(result, "resultType", json_string("complete"));
    return result;
  }
  rpc_fail(e, MCP_METHOD_NOT_FOUND, "Method not found: '%.80s'", r->method);
  return NULL;
}

nsr_code mcp_server_handle(mcp_server *server, const char *line, size_t len, char **reply,
                           nsr_error *err) {
  *reply = NULL;
  /* Any JSON value parses ("42" is valid JSON, just not a request). */
  json_error_t jerr;
  json_t *msg = json_loadb(line, len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &jerr);
  if (msg == NULL) {
    char message[NSR_ERROR_MESSAGE_MAX];
    snprintf(message, sizeof message, "Parse error at column %d: %s", jerr.column, jerr.text);
    return mcp_error_reply(MCP_PARSE_ERROR, message, reply, err);
  }
  json_t *empty = json_object();
  request r = {NULL, NULL, empty, false, NULL};
  rpc_error e = {0};
  bool is_response = false;
  json_t *result = NULL;
  nsr_code rc = NSR_OK;
  if (empty == NULL) {
    rc = nsr_fail(err, NSR_ERR_NOMEM, "MCP: out of memory");
  } else if (read_envelope(msg, &r, &is_response, &e) != 0) {
    /* A notification is never answered, not even a malformed one. */
    if (r.method == NULL || r.id != NULL) rc = reply_text(r.id, NULL, NULL, &e, reply, err);
    json_decref(e.data);
  } else if (is_response || r.id == NULL) {
    /* Responses match no request of ours; notifications (initialized,
     * cancelled: calls finish before the next read) need no action. */
  } else {
    if (r.params == NULL) r.params = empty;
    result = dispatch(server, &r, &e);
    rc = reply_text(r.id, result, r.structured, &e, reply, err);
  }
  free(r.structured);
  json_decref(result);
  json_decref(empty);
  json_decref(msg);
  return rc;
}
