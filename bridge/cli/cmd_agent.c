/* cmd_agent.c: `nsr agent`, a tool-calling loop against an
 * OpenAI-compatible chat-completions server. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nsr_tools.h"
#include "cli.h"
#include "commands.h"
#include "json.h"
#include "tools_cli.h"

#define CMD "agent"

static const char description[] =
    "Asks a model on an OpenAI-compatible chat-completions server (llama.cpp\n"
    "server, ollama, vLLM, OpenAI) the question, offering nsr's tools; runs every\n"
    "tool call the model makes and sends the results back, until the model answers.\n"
    "Prints the answer; with --json {\"answer\", \"messages\"} (the whole transcript).\n"
    "--endpoint and --model are required. Exit status 1 also when the server is\n"
    "unreachable, answers with an HTTP error, times out, sends a malformed reply,\n"
    "or the turn limit is hit.\n";

static const char epilog[] =
    "Example: nsr agent --endpoint http://127.0.0.1:8080/v1 --model qwen2.5 \\\n"
    "           \"Which concept best explains 16, 8, 2, 64?\"\n";

typedef struct agent_options {
  const char *endpoint, *model, *key_env, *question;
  uint64_t max_turns, timeout_s;
  bool verbose, json;
} agent_options;

/* What cli_parse cannot check: the required options, one question, the key's
 * variable set. Returns CLI_CONTINUE or the usage error's status. */
static int check_options(agent_options *o, const cli_args *args) {
  if (o->endpoint == NULL) return cli_usage_error(CMD, "--endpoint URL is required");
  if (o->model == NULL) return cli_usage_error(CMD, "--model NAME is required");
  if (args->n == 0 || args->args[0][0] == '\0') return cli_usage_error(CMD, "no question given");
  if (args->n > 1) {
    return cli_usage_error(CMD, "one question only (quote it): unexpected '%s'", args->args[1]);
  }
  o->question = args->args[0];
  if (o->key_env && getenv(o->key_env) == NULL) {
    return cli_usage_error(CMD, "--api-key-env: environment variable '%s' is not set", o->key_env);
  }
  return CLI_CONTINUE;
}

static nsr_code print_result(const agent_options *o, const char *answer, json_t *transcript,
                             nsr_error *err) {
  if (!o->json) {
    puts(answer);
    return NSR_OK;
  }
  return cli_print_json(stdout, json_pack("{s:s, s:O}", "answer", answer, "messages", transcript),
                        err);
}

/* Runs the loop with the tools of reg and prints the answer. Everything
 * that fails here is the work failing (exit 1), whatever its error code. */
static int ask(const agent_options *o, tools_registry *reg) {
  nsr_error err = {0};
  char *url = agent_completions_url(o->endpoint);
  if (url == NULL) return cli_fail(CMD, CLI_EXIT_FAILURE, "out of memory");
  agent_config cfg = {url, o->model, o->key_env ? getenv(o->key_env) : NULL, (long)o->max_turns,
                      (long)o->timeout_s, o->verbose ? stderr : NULL};
  json_t *transcript = NULL;
  char *answer = NULL;
  nsr_code rc = agent_http_init(&err);
  if (rc == NSR_OK) {
    rc = agent_run(&cfg, reg, o->question, &answer, &transcript, &err);
    agent_http_cleanup();
  }
  if (rc == NSR_OK) rc = print_result(o, answer, transcript, &err);
  nsr_free(answer);
  json_decref(transcript);
  nsr_free(url);
  if (rc != NSR_OK) return cli_fail(CMD, CLI_EXIT_FAILURE, "%s", err.message);
  return cli_finish(CMD, CLI_EXIT_OK);
}

int cmd_agent(int argc, char **argv) {
  agent_options o = {.max_turns = 8, .timeout_s = 120};
  tools_cli tc;
  tools_cli_init(&tc);
  const cli_opt opts[] = {
      CLI_OPTION("--endpoint", CLI_STRING, &o.endpoint, "URL",
                 "the server's API base (http://127.0.0.1:8080/v1) or its full\n"
                 ".../chat/completions URL; required"),
      CLI_OPTION("--model", CLI_STRING, &o.model, "NAME", "the model to ask; required"),
      CLI_OPTION("--api-key-env", CLI_STRING, &o.key_env, "VAR",
                 "send the key in environment variable VAR as a bearer token"),
      CLI_OPTION("--max-turns", CLI_U64, &o.max_turns, "N", "requests to the server, at most",
                 .min = 1, .max = 100),
      CLI_OPTION("--timeout", CLI_U64, &o.timeout_s, "S", "seconds to wait for each reply", .min = 1,
                 .max = 3600),
      CLI_FLAG_OPTION("--verbose", &o.verbose, "show the transcript on stderr as it happens"),
      CLI_FLAG_OPTION("--json", &o.json, "print {\"answer\", \"messages\"} instead of the answer"),
      TOOLS_CLI_OPTIONS(&tc),
  };
  const cli_spec spec = {.name = CMD, .args = "\"QUESTION\"", .description = description,
                         .opts = opts, .n_opts = sizeof opts / sizeof opts[0],
                         .max_args = SIZE_MAX, .epilog = epilog};
  cli_args args;
  int status = cli_parse(&spec, argc, argv, &args);
  if (status == CLI_CONTINUE) status = check_options(&o, &args);
  if (status != CLI_CONTINUE) return status;
  nsr_error err = {0};
  tools_registry *reg = NULL;
  /* A bad manifest or model file is the caller's to fix (status 2). */
  if (tools_registry_build(tools_cli_options(&tc), &reg, &err) != NSR_OK) return cli_report(CMD, &err);
  status = ask(&o, reg);
  tools_registry_free(reg);
  return status;
}
