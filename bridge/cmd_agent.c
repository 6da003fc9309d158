/* cmd_agent.c: `nsr agent`, a tool-calling loop against an
 * OpenAI-compatible chat-completions server. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent_http.h"
#include "agent_loop.h"
#include "cli.h"
#include "commands.h"
#include "json.h"
#include "tools_cli.h"

#define CMD "agent"

static const char help_text[] =
    "Usage: nsr agent --endpoint URL --model NAME [OPTIONS] \"question\"\n"
    "\n"
    "Asks a model on an OpenAI-compatible chat-completions server (llama.cpp\n"
    "server, ollama, vLLM, OpenAI) the question, offering nsr's tools; runs every\n"
    "tool call the model makes and sends the results back, until the model answers.\n"
    "Prints the answer.\n"
    "\n"
    "Options:\n"
    "  --endpoint URL     the server's API base (http://127.0.0.1:8080/v1) or its full\n"
    "                     .../chat/completions URL\n"
    "  --model NAME       the model to ask\n"
    "  --api-key-env VAR  send the key in environment variable VAR as a bearer token\n"
    "  --max-turns N      requests to the server, at most (default 8, 1..100)\n"
    "  --timeout S        seconds to wait for each reply (default 120, 1..3600)\n"
    "%s"
    "  --verbose          show the transcript on stderr as it happens\n"
    "  --json             print {\"answer\", \"messages\"} (the whole transcript) instead\n"
    "  -h, --help         show this help\n"
    "\n"
    "Exit status: 0 with an answer, 2 on bad arguments, 1 when the server is\n"
    "unreachable, answers with an HTTP error, times out, sends a malformed reply,\n"
    "or the turn limit is hit.\n"
    "Example: nsr agent --endpoint http://127.0.0.1:8080/v1 --model qwen2.5 \\\n"
    "           \"Which concept best explains 16, 8, 2, 64?\"\n";

typedef struct agent_options {
  tools_options tools;
  const char *endpoint, *model, *key_env, *question;
  uint64_t max_turns, timeout_s;
  bool verbose, json;
} agent_options;

/* One option with a value; returns false when argv[*i] is none of them. */
static bool valued_option(int argc, char **argv, int *i, agent_options *o, nsr_code *rc,
                          nsr_error *err) {
  static const char *const names[] = {"--endpoint", "--model", "--api-key-env", "--max-turns", "--timeout"};
  for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
    const char *v;
    if (!cli_option(argc, argv, i, names[k], &v)) continue;
    if (v == NULL) {
      *rc = nsr_fail(err, NSR_ERR_INVALID, "option '%s' needs a value", names[k]);
    } else if (k == 3) {
      *rc = cli_parse_u64(v, "--max-turns", 1, 100, &o->max_turns, err);
    } else if (k == 4) {
      *rc = cli_parse_u64(v, "--timeout", 1, 3600, &o->timeout_s, err);
    } else {
      const char **slot[] = {&o->endpoint, &o->model, &o->key_env};
      *slot[k] = v;
      *rc = NSR_OK;
    }
    return true;
  }
  return false;
}

static nsr_code parse_args(int argc, char **argv, agent_options *o, nsr_error *err) {
  for (int i = 1; i < argc; i++) {
    nsr_code rc = NSR_OK;
    if (tools_cli_option(argc, argv, &i, &o->tools, &rc, err) ||
        valued_option(argc, argv, &i, o, &rc, err)) {
      if (rc != NSR_OK) return rc;
    } else if (strcmp(argv[i], "--verbose") == 0) {
      o->verbose = true;
    } else if (strcmp(argv[i], "--json") == 0) {
      o->json = true;
    } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
      return nsr_fail(err, NSR_ERR_INVALID, "unknown option '%s'", argv[i]);
    } else if (o->question) {
      return nsr_fail(err, NSR_ERR_INVALID, "one question only (quote it): unexpected '%s'", argv[i]);
    } else {
      o->question = argv[i];
    }
  }
  if (o->endpoint == NULL) return nsr_fail(err, NSR_ERR_INVALID, "--endpoint URL is required");
  if (o->model == NULL) return nsr_fail(err, NSR_ERR_INVALID, "--model NAME is required");
  if (o->question == NULL || o->question[0] == '\0') return nsr_fail(err, NSR_ERR_INVALID, "no question given");
  if (o->key_env && getenv(o->key_env) == NULL) {
    return nsr_fail(err, NSR_ERR_INVALID, "--api-key-env: environment variable '%s' is not set", o->key_env);
  }
  return NSR_OK;
}

static nsr_code print_result(const agent_options *o, const char *answer, json_t *transcript,
                             nsr_error *err) {
  if (!o->json) {
    puts(answer);
    return NSR_OK;
  }
  json_t *doc = json_pack("{s:s, s:O}", "answer", answer, "messages", transcript);
  char *text = doc ? nsr_json_dump(doc) : NULL;
  json_decref(doc);
  if (text == NULL) return nsr_fail(err, NSR_ERR_NOMEM, "JSON output: out of memory");
  puts(text);
  free(text);
  return NSR_OK;
}

int cmd_agent(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    if (cli_is_help(argv[i])) {
      printf(help_text, tools_cli_help);
      return CLI_EXIT_OK;
    }
  }
  agent_options o = {.max_turns = 8, .timeout_s = 120};
  nsr_error err;
  nsr_error_clear(&err);
  if (parse_args(argc, argv, &o, &err) != NSR_OK) return cli_usage_error(CMD, "%s", err.message);
  char *url = agent_completions_url(o.endpoint);
  agent_config cfg = {url, o.model, o.key_env ? getenv(o.key_env) : NULL, (long)o.max_turns,
                      (long)o.timeout_s, o.verbose ? stderr : NULL};
  tools_registry *reg = NULL;
  json_t *transcript = NULL;
  char *answer = NULL;
  nsr_code rc = url ? tools_registry_build(&o.tools, &reg, &err) : nsr_fail(&err, NSR_ERR_NOMEM, "out of memory");
  if (rc == NSR_OK) rc = agent_http_init(&err);
  if (rc == NSR_OK) {
    rc = agent_run(&cfg, reg, o.question, &answer, &transcript, &err);
    agent_http_cleanup();
  }
  if (rc == NSR_OK) rc = print_result(&o, answer, transcript, &err);
  if (rc == NSR_OK && (fflush(stdout) != 0 || ferror(stdout))) rc = nsr_fail(&err, NSR_ERR_IO, "writing the output failed");
  nsr_free(answer);
  json_decref(transcript);
  tools_registry_free(reg);
  nsr_free(url);
  if (rc == NSR_OK) return CLI_EXIT_OK;
  fprintf(stderr, "nsr %s: %s\n", CMD, err.message);
  /* A bad manifest is a usage error; everything after the start is a failure. */
  return reg == NULL && rc != NSR_ERR_NOMEM ? CLI_EXIT_USAGE : CLI_EXIT_FAILURE;
}
