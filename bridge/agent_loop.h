/* agent_loop.h: a tool-calling loop against an OpenAI-compatible
 * chat-completions server (llama.cpp server, ollama, vLLM, OpenAI). */
#ifndef NSR_AGENT_LOOP_H
#define NSR_AGENT_LOOP_H

#include <jansson.h>
#include <stdio.h>

#include "tools_registry.h"

typedef struct agent_config {
  const char *url;     /* full chat-completions URL */
  const char *model;
  const char *api_key; /* NULL: no Authorization header */
  long max_turns;      /* requests to the server, at most */
  long timeout_s;      /* per request */
  FILE *trace;         /* NULL, or where --verbose shows the transcript */
} agent_config;

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
 * NSR_ERR_LIMIT (no answer within max_turns). */
nsr_code agent_run(const agent_config *cfg, tools_registry *reg, const char *question,
                   char **answer, json_t **transcript, nsr_error *err);

#endif
