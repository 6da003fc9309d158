/* tools_registry.c: the list of tools and calls by name. */
#include "nsr_tools.h"

#include <string.h>

#include "json.h"
#include "tools_schema.h"

#define TOOL_NAME_MAX 64

typedef struct tool {
  char *name;
  char *description;
  json_t *input_schema;
  json_t *output_schema;
  tool_call_fn call;
  void *ctx;
  void (*free_ctx)(void *ctx);
  bool read_only;
  tool_timed_fn call_timed;
} tool;

struct tools_registry {
  tool *tools;
  size_t len, cap;
};

nsr_code tools_registry_new(tools_registry **out, nsr_error *err) {
  *out = nsr_calloc(1, sizeof **out);
  if (*out == NULL) return nsr_fail(err, NSR_ERR_NOMEM, "tool registry: out of memory");
  return NSR_OK;
}

static void tool_release(tool *t) {
  nsr_free(t->name);
  nsr_free(t->description);
  json_decref(t->input_schema);
  json_decref(t->output_schema);
  if (t->free_ctx) t->free_ctx(t->ctx);
}

void tools_registry_free(tools_registry *reg) {
  if (reg == NULL) return;
  for (size_t i = 0; i < reg->len; i++) tool_release(&reg->tools[i]);
  nsr_free(reg->tools);
  nsr_free(reg);
}

size_t tools_count(const tools_registry *reg) { return reg->len; }

static tool *find_tool(const tools_registry *reg, const char *name) {
  for (size_t i = 0; i < reg->len; i++) {
    if (strcmp(reg->tools[i].name, name) == 0) return &reg->tools[i];
  }
  return NULL;
}

/* MCP and OpenAI both restrict function names; this is the common subset. */
static bool valid_tool_name(const char *name) {
  size_t n = name ? strlen(name) : 0;
  if (n == 0 || n > TOOL_NAME_MAX) return false;
  for (size_t i = 0; i < n; i++) {
    char c = name[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.';
    if (!ok) return false;
  }
  return true;
}

static nsr_code check_def(const tools_registry *reg, const tool_def *def, nsr_error *err) {
  if (!valid_tool_name(def->name)) {
    return nsr_fail(err, NSR_ERR_INVALID,
                    "tool name '%.80s' must be 1..64 characters of A-Z a-z 0-9 _ . -",
                    def->name ? def->name : "");
  }
  if (find_tool(reg, def->name)) {
    return nsr_fail(err, NSR_ERR_INVALID, "a tool named '%s' is already registered", def->name);
  }
  if (!json_is_object(def->input_schema) || !json_is_object(def->output_schema) ||
      def->call == NULL) {
    return nsr_fail(err, NSR_ERR_INVALID, "tool '%s': schemas and a function are required",
                    def->name);
  }
  return NSR_OK;
}

void tools_def_discard(tool_def *def) {
  json_decref(def->input_schema);
  json_decref(def->output_schema);
  if (def->free_ctx) def->free_ctx(def->ctx);
  def->input_schema = def->output_schema = NULL;
  def->ctx = NULL;
  def->free_ctx = NULL;
}

/* Room for one more tool. */
static nsr_code reserve(tools_registry *reg, nsr_error *err) {
  if (reg->len < reg->cap) return NSR_OK;
  size_t cap = reg->cap ? reg->cap * 2 : 8;
  tool *grown = nsr_reallocarray(reg->tools, cap, sizeof *grown);
  if (grown == NULL) return nsr_fail(err, NSR_ERR_NOMEM, "tool registry: out of memory");
  reg->tools = grown;
  reg->cap = cap;
  return NSR_OK;
}

nsr_code tools_register(tools_registry *reg, tool_def *def, nsr_error *err) {
  nsr_code rc = check_def(reg, def, err);
  if (rc == NSR_OK) rc = reserve(reg, err);
  char *name = NULL, *description = NULL;
  if (rc == NSR_OK) {
    name = nsr_strdup(def->name);
    description = nsr_strdup(def->description ? def->description : "");
    if (name == NULL || description == NULL) {
      rc = nsr_fail(err, NSR_ERR_NOMEM, "tool registry: out of memory");
    }
  }
  if (rc != NSR_OK) {
    nsr_free(name);
    nsr_free(description);
    tools_def_discard(def);
    return rc;
  }
  reg->tools[reg->len++] = (tool){name, description, def->input_schema, def->output_schema,
                                  def->call, def->ctx, def->free_ctx, def->read_only, NULL};
  return NSR_OK;
}

nsr_code tools_set_call_timed(tools_registry *reg, const char *name, tool_timed_fn call_timed,
                              nsr_error *err) {
  tool *t = find_tool(reg, name);
  if (t == NULL) return nsr_fail(err, NSR_ERR_INVALID, "no tool named '%.80s'", name);
  t->call_timed = call_timed;
  return NSR_OK;
}

nsr_code tools_register_literal(tools_registry *reg, tool_def *def, const char *input_schema,
                                const char *output_schema, nsr_error *err) {
  def->input_schema = def->output_schema = NULL;
  nsr_code rc = tools_schema_parse(input_schema, &def->input_schema, err);
  if (rc == NSR_OK) rc = tools_schema_parse(output_schema, &def->output_schema, err);
  if (rc != NSR_OK) {
    tools_def_discard(def);
    return rc;
  }
  return tools_register(reg, def, err);
}

static json_t *mcp_entry(const tool *t) {
  json_t *e = json_pack("{s:s, s:s, s:O, s:O}", "name", t->name, "description", t->description,
                        "inputSchema", t->input_schema, "outputSchema", t->output_schema);
  if (e && t->read_only &&
      json_object_set_new(e, "annotations",
                          json_pack("{s:b, s:b, s:b, s:b}", "readOnlyHint", 1, "destructiveHint", 0,
                                    "idempotentHint", 1, "openWorldHint", 0)) != 0) {
    json_decref(e);
    e = NULL;
  }
  return e;
}

/* OpenAI functions have no output schema; the model sees the output. */
static json_t *openai_entry(const tool *t) {
  return json_pack("{s:s, s:{s:s, s:s, s:O}}", "type", "function", "function", "name", t->name,
                   "description", t->description, "parameters", t->input_schema);
}

static nsr_code list_with(const tools_registry *reg, json_t *(*entry)(const tool *t),
                          json_t **out, nsr_error *err) {
  json_t *list = json_array();
  nsr_code rc = list ? NSR_OK : nsr_fail(err, NSR_ERR_NOMEM, "tool list: out of memory");
  for (size_t i = 0; rc == NSR_OK && i < reg->len; i++) {
    rc = nsr_json_append(list, entry(&reg->tools[i]), err);
  }
  if (rc != NSR_OK) {
    json_decref(list);
    return rc;
  }
  *out = list;
  return NSR_OK;
}

nsr_code tools_list_json(const tools_registry *reg, json_t **out, nsr_error *err) {
  return list_with(reg, mcp_entry, out, err);
}

nsr_code tools_list_openai_json(const tools_registry *reg, json_t **out, nsr_error *err) {
  return list_with(reg, openai_entry, out, err);
}

tools_status tools_call(tools_registry *reg, const char *name, const json_t *args,
                        json_t **result, nsr_error *err) {
  return tools_call_timed(reg, name, args, 0, result, err);
}

/* max_seconds 0: the tool's own bounds only (tools_call). */
tools_status tools_call_timed(tools_registry *reg, const char *name, const json_t *args,
                              double max_seconds, json_t **result, nsr_error *err) {
  *result = NULL;
  tool *t = name ? find_tool(reg, name) : NULL;
  if (t == NULL) {
    nsr_fail(err, NSR_ERR_INVALID, "unknown tool '%.80s'", name ? name : "");
    return TOOLS_UNKNOWN;
  }
  json_t *empty = NULL;
  if (args == NULL) {
    empty = json_object();
    if (empty == NULL) {
      nsr_fail(err, NSR_ERR_NOMEM, "tool '%s': out of memory", t->name);
      return TOOLS_FAILED;
    }
    args = empty;
  }
  nsr_code rc = tools_schema_check(t->input_schema, args, "arguments", err);
  if (rc == NSR_OK) {
    rc = max_seconds > 0 && t->call_timed ? t->call_timed(t->ctx, args, max_seconds, result, err)
                                          : t->call(t->ctx, args, result, err);
  }
  json_decref(empty);
  if (rc == NSR_OK && !json_is_object(*result)) {
    json_decref(*result);
    *result = NULL;
    rc = nsr_fail(err, NSR_ERR_INTERNAL, "tool '%s' returned no object", t->name);
  }
  return rc == NSR_OK ? TOOLS_OK : TOOLS_FAILED;
}
