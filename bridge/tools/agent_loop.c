/* agent_loop.c: the tool-calling loop of `nsr agent`. */
#include "nsr_tools.h"

#include <string.h>

#include "json.h"

#define TRACE_MAX 400

static const char system_prompt[] =
    "You can call tools that compute exact answers (Bayesian concept learning in the number "
    "game, and others). Prefer calling a tool to estimating. When a tool reports an error, "
    "fix the arguments as it says and call it again.";

typedef struct loop {
  const agent_config *cfg;
  tools_registry *reg;
  json_t *messages;
  json_t *tools; /* OpenAI function list */
} loop;

char *agent_completions_url(const char *endpoint) {
  static const char suffix[] = "/chat/completions";
  size_t n = strlen(endpoint), s = sizeof suffix - 1;
  if (n >= s && strcmp(endpoint + n - s, suffix) == 0) return nsr_strdup(endpoint);
  while (n > 0 && endpoint[n - 1] == '/') n--;
  char *url = nsr_malloc(n + s + 1);
  if (url) {
    memcpy(url, endpoint, n);
    memcpy(url + n, suffix, s + 1);
  }
  return url;
}

static void trace(const loop *l, const char *who, const char *text) {
  if (l->cfg->trace == NULL) return;
  size_t n = strlen(text);
  fprintf(l->cfg->trace, "%s: %.*s%s\n", who, (int)(n > TRACE_MAX ? TRACE_MAX : n), text,
          n > TRACE_MAX ? " ..." : "");
}

static nsr_code append_message(loop *l, json_t *msg, nsr_error *err) {
  return nsr_json_append(l->messages, msg, err);
}

/* What an error reply says: its error.message when it has one, else the
 * start of the body. */
static void http_error(const agent_http_reply *reply, const char *url, nsr_error *err) {
  json_t *body = json_loads(reply->body, 0, NULL);
  const json_t *e = json_object_get(body, "error");
  const char *msg = json_string_value(json_is_object(e) ? json_object_get(e, "message") : e);
  nsr_fail(err, NSR_ERR_IO, "the server at %s answered HTTP %ld: %.200s", url, reply->status,
           msg ? msg : reply->body);
  json_decref(body);
}

/* Sends the conversation; returns the reply's choices[0].message. */
static nsr_code post_turn(loop *l, json_t **message, nsr_error *err) {
  json_t *req = json_pack("{s:s, s:O, s:O, s:s}", "model", l->cfg->model, "messages", l->messages,
                          "tools", l->tools, "tool_choice", "auto");
  char *body = req ? nsr_json_dump(req) : NULL;
  json_decref(req);
  if (body == NULL) return nsr_fail(err, NSR_ERR_NOMEM, "agent request: out of memory");
  agent_http_reply reply;
  nsr_code rc = agent_http_post(l->cfg->url, l->cfg->api_key, body, l->cfg->timeout_s, &reply, err);
  free(body);
  if (rc != NSR_OK) return rc;
  if (reply.status < 200 || reply.status > 299) {
    http_error(&reply, l->cfg->url, err);
    nsr_free(reply.body);
    return NSR_ERR_IO;
  }
  json_error_t jerr;
  json_t *doc = json_loadb(reply.body, reply.len, 0, &jerr);
  const json_t *msg = json_object_get(json_array_get(json_object_get(doc, "choices"), 0), "message");
  if (doc == NULL) {
    rc = nsr_fail(err, NSR_ERR_FORMAT, "malformed reply from %s (not JSON: %s): %.120s", l->cfg->url,
                  jerr.text, reply.body);
  } else if (!json_is_object(msg)) {
    rc = nsr_fail(err, NSR_ERR_FORMAT, "malformed reply from %s (no choices[0].message): %.120s",
                  l->cfg->url, reply.body);
  } else {
    *message = json_incref((json_t *)msg);
  }
  json_decref(doc);
  nsr_free(reply.body);
  return rc;
}

/* Runs one tool call and answers it with a role "tool" message. Problems
 * the model caused (bad JSON, bad arguments, unknown tool) become the
 * message's content, so the model can correct itself. */
static nsr_code run_tool_call(loop *l, const json_t *call, nsr_error *err) {
  const char *id = json_string_value(json_object_get(call, "id"));
  const json_t *fn = json_object_get(call, "function");
  const char *name = json_string_value(json_object_get(fn, "name"));
  const json_t *raw = json_object_get(fn, "arguments");
  if (id == NULL || name == NULL || !(json_is_string(raw) || json_is_object(raw))) {
    return nsr_fail(err, NSR_ERR_FORMAT, "malformed tool call in the reply (needs id, function.name, function.arguments)");
  }
  trace(l, "assistant calls", name);
  json_t *args = NULL, *output = NULL;
  nsr_error terr;
  nsr_error_clear(&terr);
  /* OpenAI sends a JSON string; some servers send the object itself. */
  if (json_is_object(raw)) {
    args = json_incref((json_t *)raw);
  } else {
    json_error_t jerr;
    args = json_loads(json_string_value(raw), 0, &jerr);
    if (args == NULL) nsr_fail(&terr, NSR_ERR_PARSE, "the arguments are not valid JSON (%s); send a JSON object", jerr.text);
  }
  tools_status st = TOOLS_FAILED;
  if (args) st = tools_call(l->reg, name, args, &output, &terr);
  if (st == TOOLS_UNKNOWN) nsr_error_prefix(&terr, "call one of the tools offered: ");
  char *text = st == TOOLS_OK ? nsr_json_dump(output) : NULL;
  json_t *msg = st == TOOLS_OK ? (text ? json_pack("{s:s, s:s, s:s}", "role", "tool", "tool_call_id", id, "content", text) : NULL)
                               : json_pack("{s:s, s:s, s:s+}", "role", "tool", "tool_call_id", id, "content", "error: ", terr.message);
  trace(l, name, text ? text : terr.message);
  free(text);
  json_decref(output);
  json_decref(args);
  return append_message(l, msg, err);
}

static nsr_code run_turns(loop *l, char **answer, nsr_error *err) {
  for (long turn = 1; turn <= l->cfg->max_turns; turn++) {
    if (l->cfg->trace) fprintf(l->cfg->trace, "[turn %ld] POST %s\n", turn, l->cfg->url);
    json_t *msg = NULL;
    nsr_code rc = post_turn(l, &msg, err);
    if (rc == NSR_OK) rc = append_message(l, json_incref(msg), err);
    const json_t *calls = json_object_get(msg, "tool_calls");
    for (size_t i = 0; rc == NSR_OK && i < json_array_size(calls); i++) {
      rc = run_tool_call(l, json_array_get(calls, i), err);
    }
    const char *content = json_string_value(json_object_get(msg, "content"));
    if (rc == NSR_OK && json_array_size(calls) == 0) {
      if (content == NULL) {
        rc = nsr_fail(err, NSR_ERR_FORMAT, "malformed reply from %s: a message with neither content nor tool calls",
                      l->cfg->url);
      } else {
        trace(l, "assistant", content);
        *answer = nsr_strdup(content);
        if (*answer == NULL) rc = nsr_fail(err, NSR_ERR_NOMEM, "agent: out of memory");
        json_decref(msg);
        return rc;
      }
    }
    json_decref(msg);
    if (rc != NSR_OK) return rc;
  }
  return nsr_fail(err, NSR_ERR_LIMIT, "no answer after %ld turns (--max-turns); the model kept calling tools",
                  l->cfg->max_turns);
}

nsr_code agent_run(const agent_config *cfg, tools_registry *reg, const char *question,
                   char **answer, json_t **transcript, nsr_error *err) {
  *answer = NULL;
  loop l = {cfg, reg, NULL, NULL};
  l.messages = json_pack("[{s:s, s:s}, {s:s, s:s}]", "role", "system", "content", system_prompt,
                         "role", "user", "content", question);
  nsr_code rc = l.messages ? tools_list_openai_json(reg, &l.tools, err)
                           : nsr_fail(err, NSR_ERR_NOMEM, "agent: out of memory");
  if (rc == NSR_OK) {
    trace(&l, "user", question);
    rc = run_turns(&l, answer, err);
  }
  json_decref(l.tools);
  *transcript = l.messages;
  return rc;
}
