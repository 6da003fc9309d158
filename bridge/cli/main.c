/* main.c: the `nsr` command: dispatches to subcommands.
 *
 * Compiled twice (bridge/cli/meson.build). With NSR_FULL=0 it is `nsr`, which
 * links only the Church commands (run, repl) and help, so that it starts in a
 * few milliseconds; every other command, and `version`, which reports the
 * libraries only the full build links, is handed to the second executable
 * (`nsr-full`, NSR_FULL=1, every command) by exec with argv unchanged, so its
 * error lines and exit statuses are the command's own. See README.md. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "json.h"
#include "nsr_core.h"
#if NSR_FULL
#include "dist.h"
#include "nsr_store.h"
/* The full build runs every command itself. */
#define FULL_ONLY(fn) (fn)
#else
#include "exec_full.h"
/* The small build does not link this command: nsr_exec_full runs it. */
#define FULL_ONLY(fn) NULL
#endif

typedef struct command {
  const char *name;
  int (*run)(int argc, char **argv); /* NULL: run by nsr-full */
  const char *summary;
} command;

static const command commands[] = {
    {"numbers", FULL_ONLY(cmd_numbers), "Bayesian concept learning in Tenenbaum's number game"},
    {"nn", FULL_ONLY(cmd_nn), "the transformer encoder: init, info, forward, train on token files"},
    {"run", cmd_run, "run a Church program (probabilistic Scheme)"},
    {"repl", cmd_repl, "evaluate Church forms typed on standard input"},
    {"train", FULL_ONLY(cmd_train), "train a proposal network on the number game (knowledge injection)"},
    {"propose", FULL_ONLY(cmd_propose), "a network's hypotheses for examples, verified by the exact engine"},
    {"experiment", FULL_ONLY(cmd_experiment), "measure knowledge injection: accuracy vs training sets"},
    {"extract", FULL_ONLY(cmd_extract), "extract rules from a trained encoder into the rule store"},
    {"rules", FULL_ONLY(cmd_rules), "list extracted rules from the rule store"},
    {"sql", FULL_ONLY(cmd_sql), "run one read-only SQL query on the rule store"},
    {"store", FULL_ONLY(cmd_store), "create the rule store and its concept library"},
    {"mcp", FULL_ONLY(cmd_mcp), "serve nsr's tools to LLM clients over MCP (stdio)"},
    {"tools", FULL_ONLY(cmd_tools), "list the tools and their JSON schemas (MCP or OpenAI format)"},
    {"agent", FULL_ONLY(cmd_agent), "answer a question with an LLM that calls nsr's tools (OpenAI API)"},
    {"version", FULL_ONLY(cmd_version), NULL}, /* listed by print_help's header */
};

static void print_help(FILE *out) {
  fprintf(out,
          "nsr %s: a neuro-symbolic reasoning engine\n"
          "\n"
          "Usage: nsr COMMAND [ARGS...]\n"
          "\n"
          "Commands:\n"
          "  help [COMMAND]   show this help, or a command's help\n"
          "  version          print the version\n",
          nsr_version());
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
    if (commands[i].summary == NULL) continue;
    fprintf(out, "  %-16s %s\n", commands[i].name, commands[i].summary);
  }
  fprintf(out, "\nEvery command takes --help. Example: nsr numbers 16 8 2 64\n");
}

static const command *find_command(const char *name) {
  if (strcmp(name, "--version") == 0) name = "version";
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
    if (strcmp(commands[i].name, name) == 0) return &commands[i];
  }
  return NULL;
}

/* Runs cmd on argv[1..] (argv[1] is its name). The full build sets up what
 * its commands share first: SQLite allocating through nsr (before any store
 * is opened) and, under mpirun, the MPI job (dist.h splits the work). The
 * small build execs nsr-full on the whole argv for a command it lacks, and
 * returns only if that fails. */
static int run_command(const command *cmd, int argc, char **argv) {
#if NSR_FULL
  nsr_error err;
  if (nsr_store_route_alloc(&err) != NSR_OK) {
    fprintf(stderr, "nsr: %s\n", err.message);
    return CLI_EXIT_FAILURE;
  }
  if (nsr_dist_init(&argc, &argv, &err) != NSR_OK) {
    fprintf(stderr, "nsr: %s\n", err.message);
    return CLI_EXIT_FAILURE;
  }
  int rc = cmd->run(argc - 1, argv + 1);
  nsr_dist_finalize(rc);
  return rc;
#else
  if (cmd->run == NULL) return nsr_exec_full(cmd->name, argv);
  return cmd->run(argc - 1, argv + 1);
#endif
}

/* `nsr help [CMD SUB...]`: argv[0] is "help" (or --help), argv holds the
 * whole command line from argv[-1] on (the small build hands it to
 * nsr-full unchanged). `nsr help CMD SUB...` is `nsr CMD SUB... --help`. */
static int run_help(int argc, char **argv) {
  if (argc < 2) {
    print_help(stdout);
    return CLI_EXIT_OK;
  }
  const command *cmd = find_command(argv[1]);
  if (cmd == NULL) {
    fprintf(stderr, "nsr help: unknown command '%s' (see 'nsr help')\n", argv[1]);
    return CLI_EXIT_USAGE;
  }
#if !NSR_FULL
  if (cmd->run == NULL) return nsr_exec_full("help", argv - 1);
#endif
  char *help_argv[8];
  int n = 0;
  for (int i = 1; i < argc && n < 6; i++) help_argv[n++] = argv[i];
  help_argv[n++] = "--help";
  help_argv[n] = NULL;
  return cmd->run(n, help_argv);
}

int main(int argc, char **argv) {
  nsr_json_init();
  if (argc < 2) {
    print_help(stderr);
    return CLI_EXIT_USAGE;
  }
  const char *name = argv[1];
  if (strcmp(name, "help") == 0 || cli_is_help(name)) return run_help(argc - 1, argv + 1);
  const command *cmd = find_command(name);
  if (cmd == NULL) {
    fprintf(stderr, "nsr: unknown command '%s' (see 'nsr help')\n", name);
    return CLI_EXIT_USAGE;
  }
  return run_command(cmd, argc, argv);
}
