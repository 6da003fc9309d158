/* tools_registry.h: nsr's capabilities as tools for LLM loops. A tool has a
 * name, a description, a JSON Schema for its input and one for its output,
 * and a C function. The MCP server, the agent loop and `nsr tools` all list
 * and call tools through this one registry. */
#ifndef NSR_TOOLS_REGISTRY_H
#define NSR_TOOLS_REGISTRY_H

#include <jansson.h>

#include "nsr_core.h"

/* A tool's implementation. `args` has already passed the tool's input
 * schema (so types, ranges and property names are right); the function
 * checks what a schema cannot say (an example outside `range`). It returns
 * NSR_OK with *result, an object matching the output schema that the caller
 * then owns, or an error whose message is shown to the model, so it should
 * say what to change. */
typedef nsr_code (*tool_call_fn)(void *ctx, const json_t *args, json_t **result,
                                 nsr_error *err);

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

#endif
