/* agent_loop.c: the tool-calling loop of `nsr agent`, within its bounds:
 * requests (--max-turns), tool calls per reply (--max-tool-calls), the tools'
 * wall time (--max-tool-seconds), the size of a tool result
 * (--max-tool-result) and of a request (--max-request). */
#include "nsr_tools.h"

#include <string.h>

#include "json.h"
#include "strbuf.h"

#define TRACE_MAX 400
/* Bytes of a reply body quoted in an error message. */
#define EXCERPT_MAX 200
/* Room for an error message and the "error: " before it. */
#define TOOL_ERROR_MAX (NSR_ERROR_MESSAGE_MAX + 16)

static const char system_prompt[] =
    "You can call tools that compute exact answers (Bayesian concept learning in the number "
    "game, and others). Prefer calling a tool to estimating. When a tool reports an error, "
    "fix the arguments as it says and call it again.";

typedef struct loop {
  const agent_config *cfg;
  tools_registry *reg;
  json_t *messages;
  json_t *tools; /* OpenAI function list */
  agent_stats *stats;
  bool out_of_time; /* --max-tool-seconds cut a call short or kept one from running */
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

/* Records that the bound `option` (its value `limit`) ended the run and
 * passes rc (the NSR_ERR_LIMIT its message was recorded with) on. */
static nsr_code stopped(loop *l, const char *option, double limit, nsr_code rc) {
  l->stats->stopped_by = option;
  l->stats->stopped_limit = limit;
  return rc;
}

/* The length of text[0..len) cut to at most max bytes without splitting a
 * UTF-8 character. */
static size_t utf8_cut(const char *text, size_t len, size_t max) {
  if (len <= max) return len;
  size_t n = max;
  while (n > 0 && ((unsigned char)text[n] & 0xC0) == 0x80) n--;
  return n;
}

/* A reply body (or a server's error message) as one line for an error
 * message, in out (EXCERPT_MAX + 4 bytes): trimmed, control bytes as
 * spaces, cut at EXCERPT_MAX bytes with "..."; a body with nothing to show
 * is "(empty body)". Returns the text to print. */
static const char *excerpt(const char *body, size_t len, char *out) {
  while (len > 0 && (unsigned char)*body <= ' ') {
    body++;
    len--;
  }
  while (len > 0 && (unsigned char)body[len - 1] <= ' ') len--;
  if (len == 0) return "(empty body)";
  size_t n = utf8_cut(body, len, EXCERPT_MAX);
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)body[i];
    out[i] = c < ' ' || c == 0x7F ? ' ' : (char)c;
  }
  strcpy(out + n, n < len ? "..." : "");
  return out;
}

/* What an error reply says: its error.message when it has one, else the
 * start of the body. */
static nsr_code http_error(const agent_http_reply *reply, const char *url, nsr_error *err) {
  json_t *body = json_loadb(reply->body, reply->len, 0, NULL);
  const json_t *e = json_object_get(body, "error");
  const char *msg = json_string_value(json_is_object(e) ? json_object_get(e, "message") : e);
  char buf[EXCERPT_MAX + 4];
  const char *shown = msg && msg[0] ? excerpt(msg, strlen(msg), buf)
                                    : excerpt(reply->body, reply->len, buf);
  nsr_fail(err, NSR_ERR_IO, "the server at %s answered HTTP %ld: %s", url, reply->status, shown);
  json_decref(body);
  return NSR_ERR_IO;
}

/* The request for the conversation so far, in *body (nsr_free); fails
 * without building it past max_request bytes. */
static nsr_code build_request(loop *l, char **body, nsr_error *err) {
  json_t *req = json_pack("{s:s, s:O, s:O, s:s}", "model", l->cfg->model, "messages", l->messages,
                          "tools", l->tools, "tool_choice", "auto");
  *body = req ? nsr_json_dump(req) : NULL;
  json_decref(req);
  if (*body == NULL) return nsr_fail(err, NSR_ERR_NOMEM, "agent request: out of memory");
  size_t size = strlen(*body), max = l->cfg->max_request;
  if (max == 0 || size <= max) return NSR_OK;
  nsr_free(*body);
  *body = NULL;
  return stopped(l, "--max-request", (double)max,
                 nsr_fail(err, NSR_ERR_LIMIT,
                          "the next request would be %zu bytes, over the limit of %zu bytes "
                          "(--max-request): the conversation grew too long",
                          size, max));
}

/* The reply's choices[0].message in *message (a new reference). */
static nsr_code read_reply(const loop *l, const agent_http_reply *reply, json_t **message,
                           nsr_error *err) {
  char buf[EXCERPT_MAX + 4];
  json_error_t jerr;
  json_t *doc = json_loadb(reply->body, reply->len, 0, &jerr);
  const json_t *msg = json_object_get(json_array_get(json_object_get(doc, "choices"), 0), "message");
  nsr_code rc = NSR_OK;
  if (doc == NULL) {
    rc = nsr_fail(err, NSR_ERR_FORMAT, "malformed reply from %s (not JSON: %s): %s", l->cfg->url,
                  jerr.text, excerpt(reply->body, reply->len, buf));
  } else if (!json_is_object(msg)) {
    rc = nsr_fail(err, NSR_ERR_FORMAT, "malformed reply from %s (no choices[0].message): %s",
                  l->cfg->url, excerpt(reply->body, reply->len, buf));
  } else {
    *message = json_incref((json_t *)msg);
  }
  json_decref(doc);
  return rc;
}

/* Sends the conversation; returns the reply's choices[0].message. */
static nsr_code post_turn(loop *l, json_t **message, nsr_error *err) {
  char *body = NULL;
  nsr_code rc = build_request(l, &body, err);
  if (rc != NSR_OK) return rc;
  agent_http_reply reply;
  l->stats->requests++;
  rc = agent_http_post(l->cfg->url, l->cfg->api_key, body, l->cfg->timeout_s, &reply, err);
  nsr_free(body);
  if (rc != NSR_OK) return rc;
  if (reply.status < 200 || reply.status > 299) {
    rc = http_error(&reply, l->cfg->url, err);
  } else {
    rc = read_reply(l, &reply, message, err);
  }
  nsr_free(reply.body);
  return rc;
}

/* Appends the role "tool" message answering call `id` with `text`, cut to
 * max_tool_result bytes (on a UTF-8 boundary) with a note saying so. */
static nsr_code answer_call(loop *l, const char *id, const char *text, nsr_error *err) {
  size_t len = strlen(text), max = l->cfg->max_tool_result;
  char *cut = NULL;
  if (max > 0 && len > max) {
    nsr_strbuf sb = {0};
    nsr_strbuf_append(&sb, text, utf8_cut(text, len, max));
    nsr_strbuf_printf(&sb,
                      " ... [cut by nsr agent: this result has %zu bytes, over the limit of %zu "
                      "bytes (--max-tool-result); ask for less]",
                      len, max);
    if (nsr_strbuf_finish(&sb, &cut, NULL, err) != NSR_OK) return NSR_ERR_NOMEM;
    l->stats->results_cut++;
  }
  /* nsr_json_string: a tool's text need not be UTF-8 (a foreign function's string). */
  json_t *msg = json_pack("{s:s, s:s, s:o}", "role", "tool", "tool_call_id", id, "content",
                          nsr_json_string(cut ? cut : text));
  nsr_free(cut);
  return append_message(l, msg, err);
}

/* Answers call `id` with "error: " and `message`: how a tool's failure or a
 * call that was not run reaches the model. */
static nsr_code answer_error(loop *l, const char *id, const char *message, nsr_error *err) {
  char text[TOOL_ERROR_MAX];
  snprintf(text, sizeof text, "error: %s", message);
  return answer_call(l, id, text, err);
}

/* The wall time the tools may still use, in seconds; 0 when there is no
 * bound (tools_call_timed's "no cap"). */
static double tool_seconds_cap(const loop *l) {
  return l->cfg->max_tool_seconds > 0 ? l->cfg->max_tool_seconds - l->stats->tool_seconds : 0;
}

static bool tool_time_spent(const loop *l) {
  return l->cfg->max_tool_seconds > 0 && l->stats->tool_seconds >= l->cfg->max_tool_seconds;
}

/* The call's arguments as an object (OpenAI sends a JSON string, some
 * servers the object itself); NULL with terr set when they are not JSON. */
static json_t *call_arguments(const json_t *raw, nsr_error *terr) {
  if (json_is_object(raw)) return json_incref((json_t *)raw);
  json_error_t jerr;
  json_t *args = json_loads(json_string_value(raw), 0, &jerr);
  if (args == NULL) {
    nsr_fail(terr, NSR_ERR_PARSE, "the arguments are not valid JSON (%s); send a JSON object",
             jerr.text);
  }
  return args;
}

/* Runs one tool call within what is left of the tools' time and answers
 * it. Problems the model caused (bad JSON, bad arguments, unknown tool)
 * become the message's content, so the model can correct itself. */
static nsr_code run_call(loop *l, const char *id, const char *name, const json_t *raw,
                         nsr_error *err) {
  trace(l, "assistant calls", name);
  json_t *output = NULL;
  nsr_error terr;
  nsr_error_clear(&terr);
  json_t *args = call_arguments(raw, &terr);
  uint64_t start = nsr_now_ns();
  tools_status st = TOOLS_FAILED;
  if (args) st = tools_call_timed(l->reg, name, args, tool_seconds_cap(l), &output, &terr);
  l->stats->tool_seconds += nsr_seconds_since(start);
  l->stats->calls_run++;
  json_decref(args);
  if (st == TOOLS_UNKNOWN) nsr_error_prefix(&terr, "call one of the tools offered: ");
  if (st == TOOLS_FAILED && terr.code == NSR_ERR_LIMIT && tool_time_spent(l)) {
    /* The call had only what remained of the run's time, not its own budget. */
    l->out_of_time = true;
    nsr_fail(&terr, NSR_ERR_LIMIT,
             "stopped: the tools' time for this question, %g s in all (--max-tool-seconds), ran "
             "out during this call",
             l->cfg->max_tool_seconds);
  }
  if (st != TOOLS_OK) {
    trace(l, name, terr.message);
    return answer_error(l, id, terr.message, err);
  }
  char *text = nsr_json_dump(output);
  json_decref(output);
  if (text == NULL) return nsr_fail(err, NSR_ERR_NOMEM, "agent: out of memory");
  trace(l, name, text);
  nsr_code rc = answer_call(l, id, text, err);
  nsr_free(text);
  return rc;
}

/* A tool call's parts; a call without them is a reply that is not a chat
 * completion. */
static nsr_code call_parts(const json_t *call, const char **id, const char **name,
                           const json_t **raw, nsr_error *err) {
  const json_t *fn = json_object_get(call, "function");
  *id = json_string_value(json_object_get(call, "id"));
  *name = json_string_value(json_object_get(fn, "name"));
  *raw = json_object_get(fn, "arguments");
  if (*id == NULL || *name == NULL || !(json_is_string(*raw) || json_is_object(*raw))) {
    return nsr_fail(err, NSR_ERR_FORMAT,
                    "malformed tool call in the reply (needs id, function.name, function.arguments)");
  }
  return NSR_OK;
}

/* Answers every tool call of one reply (the API wants an answer to each):
 * runs the first max_tool_calls while the tools' time lasts and answers
 * the others "not run", naming the bound. Stops the loop when the tools'
 * time ran out. */
static nsr_code run_calls(loop *l, const json_t *calls, nsr_error *err) {
  const agent_config *cfg = l->cfg;
  size_t n = json_array_size(calls);
  size_t max = cfg->max_tool_calls > 0 ? (size_t)cfg->max_tool_calls : n;
  char too_many[NSR_ERROR_MESSAGE_MAX], no_time[NSR_ERROR_MESSAGE_MAX];
  snprintf(too_many, sizeof too_many,
           "not run: this reply asks for %zu tool calls and at most %zu run per reply "
           "(--max-tool-calls); call again for the ones you still need",
           n, max);
  snprintf(no_time, sizeof no_time,
           "not run: the tools' time for this question, %g s in all (--max-tool-seconds), is spent",
           cfg->max_tool_seconds);
  nsr_code rc = NSR_OK;
  for (size_t i = 0; rc == NSR_OK && i < n; i++) {
    const char *id, *name;
    const json_t *raw;
    rc = call_parts(json_array_get(calls, i), &id, &name, &raw, err);
    if (rc == NSR_OK && (i >= max || tool_time_spent(l))) {
      l->stats->calls_not_run++;
      l->out_of_time |= i < max;
      rc = answer_error(l, id, i < max ? no_time : too_many, err);
    } else if (rc == NSR_OK) {
      rc = run_call(l, id, name, raw, err);
    }
  }
  if (rc == NSR_OK && n > max) trace(l, "nsr agent", too_many);
  if (rc != NSR_OK || !l->out_of_time) return rc;
  return stopped(l, "--max-tool-seconds", cfg->max_tool_seconds,
                 nsr_fail(err, NSR_ERR_LIMIT,
                          "the tools' time for this question ran out: %g s in all "
                          "(--max-tool-seconds); tool calls run: %ld, not run: %ld",
                          cfg->max_tool_seconds, l->stats->calls_run, l->stats->calls_not_run));
}

/* Asks, runs the tools, and asks again until a reply without tool calls
 * gives *answer (nsr_free) or a bound stops the loop. */
static nsr_code run_turns(loop *l, char **answer, nsr_error *err) {
  for (long turn = 1; turn <= l->cfg->max_turns; turn++) {
    if (l->cfg->trace) fprintf(l->cfg->trace, "[turn %ld] POST %s\n", turn, l->cfg->url);
    json_t *msg = NULL;
    nsr_code rc = post_turn(l, &msg, err);
    if (rc == NSR_OK) rc = append_message(l, json_incref(msg), err);
    const json_t *calls = json_object_get(msg, "tool_calls");
    if (rc == NSR_OK) rc = run_calls(l, calls, err);
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
  return stopped(l, "--max-turns", (double)l->cfg->max_turns,
                 nsr_fail(err, NSR_ERR_LIMIT,
                          "no answer after %ld turns (--max-turns); the model kept calling tools",
                          l->cfg->max_turns));
}

nsr_code agent_run(const agent_config *cfg, tools_registry *reg, const char *question,
                   char **answer, json_t **transcript, agent_stats *stats, nsr_error *err) {
  *answer = NULL;
  *stats = (agent_stats){0};
  loop l = {cfg, reg, NULL, NULL, stats, false};
  /* nsr_json_string: a question that is not UTF-8 is sent repaired, not refused. */
  l.messages = json_pack("[{s:s, s:s}, {s:s, s:o}]", "role", "system", "content", system_prompt,
                         "role", "user", "content", nsr_json_string(question));
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
