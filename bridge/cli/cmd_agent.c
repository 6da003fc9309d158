/* cmd_agent.c: `nsr agent`, a tool-calling loop against an
 * OpenAI-compatible chat-completions server. */
#include <math.h>
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
    "Prints the answer; with --json {\"answer\", \"stopped\", \"requests\", \"tool_calls\",\n"
    "\"messages\"} (the whole transcript). --endpoint and --model are required.\n"
    "Bounds: the requests (--max-turns); the tool calls run per reply\n"
    "(--max-tool-calls: the others are answered \"not run\"); the tools' wall time\n"
    "for the question (--max-tool-seconds: each call gets at most what remains);\n"
    "the size of a tool result sent back (--max-tool-result: cut, with a note)\n"
    "and of a request (--max-request). Exit status 1 also when the server is\n"
    "unreachable, answers with an HTTP error, times out or sends a malformed\n"
    "reply, or when a bound stops the loop: the error line names the bound, and\n"
    "--json still prints the object, its \"stopped\" saying which bound and its value.\n";

static const char epilog[] =
    "Example: nsr agent --endpoint http://127.0.0.1:8080/v1 --model qwen2.5 \\\n"
    "           \"Which concept best explains 16, 8, 2, 64?\"\n";

typedef struct agent_options {
  const char *endpoint, *model, *key_env, *question;
  uint64_t max_turns, timeout_s, max_tool_calls;
  double max_tool_seconds;
  size_t max_tool_result, max_request;
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

/* A bound's value as JSON: whole numbers as integers. */
static json_t *limit_json(double v) {
  return v == (double)(json_int_t)v ? json_integer((json_int_t)v) : nsr_json_real(v);
}

/* The --json object: the answer (null when a bound stopped the run), the
 * bound that stopped it (null when none; `message` is the error line's),
 * what the tools did (their wall time to the millisecond), and the
 * transcript. */
static json_t *result_json(const char *answer, const agent_stats *st, const char *message,
                           json_t *transcript) {
  json_t *stopped = st->stopped_by ? json_pack("{s:s, s:o, s:s}", "bound", st->stopped_by,
                                               "limit", limit_json(st->stopped_limit),
                                               "message", message)
                                   : json_null();
  return json_pack("{s:s?, s:o, s:I, s:{s:I, s:I, s:I, s:o}, s:O}", "answer", answer,
                   "stopped", stopped, "requests", (json_int_t)st->requests, "tool_calls",
                   "run", (json_int_t)st->calls_run, "not_run", (json_int_t)st->calls_not_run,
                   "results_cut", (json_int_t)st->results_cut, "seconds",
                   nsr_json_real(round(st->tool_seconds * 1000) / 1000), "messages", transcript);
}

/* Says on stderr what the per-reply and result-size bounds held back from
 * a run that still answered. */
static void note_bounds(const agent_options *o, const agent_stats *st) {
  if (st->calls_not_run > 0) {
    fprintf(stderr, "nsr %s: note: %ld tool calls not run (at most %llu per reply, --max-tool-calls)\n",
            CMD, st->calls_not_run, (unsigned long long)o->max_tool_calls);
  }
  if (st->results_cut > 0) {
    fprintf(stderr, "nsr %s: note: %ld tool results cut at %zu bytes (--max-tool-result)\n", CMD,
            st->results_cut, o->max_tool_result);
  }
}

/* Prints the answer, or with --json the whole object, also when a bound
 * stopped the run (answer NULL, message the error line's). */
static nsr_code print_result(const agent_options *o, const char *answer, const agent_stats *st,
                             const char *message, json_t *transcript, nsr_error *err) {
  if (o->json) return cli_print_json(stdout, result_json(answer, st, message, transcript), err);
  if (answer) puts(answer);
  return NSR_OK;
}

/* Runs the loop with the tools of reg and prints the answer. Everything
 * that fails here is the work failing (exit 1), whatever its error code. */
static int ask(const agent_options *o, tools_registry *reg) {
  nsr_error err = {0};
  char *url = agent_completions_url(o->endpoint);
  if (url == NULL) return cli_fail(CMD, CLI_EXIT_FAILURE, "out of memory");
  agent_config cfg = {.url = url,
                      .model = o->model,
                      .api_key = o->key_env ? getenv(o->key_env) : NULL,
                      .max_turns = (long)o->max_turns,
                      .timeout_s = (long)o->timeout_s,
                      .trace = o->verbose ? stderr : NULL,
                      .max_tool_calls = (long)o->max_tool_calls,
                      .max_tool_seconds = o->max_tool_seconds,
                      .max_tool_result = o->max_tool_result,
                      .max_request = o->max_request};
  json_t *transcript = NULL;
  char *answer = NULL;
  agent_stats stats = {0};
  nsr_code rc = agent_http_init(&err);
  if (rc == NSR_OK) {
    rc = agent_run(&cfg, reg, o->question, &answer, &transcript, &stats, &err);
    agent_http_cleanup();
  }
  /* A bound that stopped the run still leaves a transcript worth printing. */
  nsr_error perr = {0};
  bool printed = rc == NSR_OK || (rc == NSR_ERR_LIMIT && stats.stopped_by && transcript);
  if (printed && print_result(o, answer, &stats, err.message, transcript, &perr) != NSR_OK) {
    err = perr;
    rc = perr.code;
  }
  if (rc == NSR_OK) note_bounds(o, &stats);
  nsr_free(answer);
  json_decref(transcript);
  nsr_free(url);
  if (rc != NSR_OK) return cli_finish(CMD, cli_fail(CMD, CLI_EXIT_FAILURE, "%s", err.message));
  return cli_finish(CMD, CLI_EXIT_OK);
}

int cmd_agent(int argc, char **argv) {
  agent_options o = {.max_turns = AGENT_DEFAULT_MAX_TURNS,
                     .timeout_s = 120,
                     .max_tool_calls = AGENT_DEFAULT_MAX_TOOL_CALLS,
                     .max_tool_seconds = AGENT_DEFAULT_MAX_TOOL_SECONDS,
                     .max_tool_result = AGENT_DEFAULT_MAX_TOOL_RESULT,
                     .max_request = AGENT_DEFAULT_MAX_REQUEST};
  tools_cli tc;
  tools_cli_init(&tc);
  const cli_opt opts[] = {
      CLI_OPTION("--endpoint", CLI_STRING, &o.endpoint, "URL",
                 "the server's API base (http://127.0.0.1:8080/v1) or its full\n"
                 ".../chat/completions URL; required"),
      CLI_OPTION("--model", CLI_STRING, &o.model, "NAME", "the model to ask; required"),
      CLI_OPTION("--api-key-env", CLI_STRING, &o.key_env, "VAR",
                 "send the key in environment variable VAR as a bearer token"),
      CLI_OPTION("--max-turns", CLI_U64, &o.max_turns, "N",
                 "requests to the server (model replies) for the\n"
                 "question, at most",
                 .min = 1, .max = 100),
      CLI_OPTION("--max-tool-calls", CLI_U64, &o.max_tool_calls, "N",
                 "tool calls run per model reply; the reply's further calls\n"
                 "are answered \"not run\" and the model may ask again",
                 .min = 1, .max = 1000),
      CLI_OPTION("--max-tool-seconds", CLI_DOUBLE, &o.max_tool_seconds, "S",
                 "wall time of all tool calls for the question; each call gets\n"
                 "at most what remains (a run_program call also at most\n"
                 "--max-time); when it runs out the loop stops",
                 .min = 0.001, .max = 86400),
      CLI_OPTION("--max-tool-result", CLI_BYTES, &o.max_tool_result, "BYTES",
                 "one tool result sent back to the model, at most; a longer one\n"
                 "is cut, with a note saying so (K/M/G suffixes)",
                 .min = 256, .max = 16 << 20),
      CLI_OPTION("--max-request", CLI_BYTES, &o.max_request, "BYTES",
                 "one request to the server, at most: the loop stops rather\n"
                 "than send a longer conversation (K/M/G suffixes)",
                 .min = 16 << 10, .max = 1 << 30),
      CLI_OPTION("--timeout", CLI_U64, &o.timeout_s, "S", "seconds to wait for each reply", .min = 1,
                 .max = 3600),
      CLI_FLAG_OPTION("--verbose", &o.verbose, "show the transcript on stderr as it happens"),
      CLI_FLAG_OPTION("--json", &o.json, "print the answer and the run as one JSON object (above)"),
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
