/* main.c: the `nsr` command: dispatches to subcommands. */
#include <cblas.h>
#include <curl/curl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "nsr_config.h"
#include "commands.h"
#include "dist.h"
#include "json.h"
#include "nsr.h"
#include "nsr_store.h"

typedef struct command {
  const char *name;
  int (*run)(int argc, char **argv);
  const char *summary;
} command;

static const command commands[] = {
    {"numbers", cmd_numbers, "Bayesian concept learning in Tenenbaum's number game"},
    {"nn", cmd_nn, "the transformer encoder: init, info, forward, train on token files"},
    {"run", cmd_run, "run a Church program (probabilistic Scheme)"},
    {"repl", cmd_repl, "evaluate Church forms typed on standard input"},
    {"train", cmd_train, "train a proposal network on the number game (knowledge injection)"},
    {"propose", cmd_propose, "a network's hypotheses for examples, verified by the exact engine"},
    {"experiment", cmd_experiment, "measure knowledge injection: accuracy vs training sets"},
    {"extract", cmd_extract, "extract rules from a trained encoder into the rule store"},
    {"rules", cmd_rules, "list extracted rules from the rule store"},
    {"sql", cmd_sql, "run one read-only SQL query on the rule store"},
    {"store", cmd_store, "create the rule store and its concept library"},
    {"mcp", cmd_mcp, "serve nsr's tools to LLM clients over MCP (stdio)"},
    {"tools", cmd_tools, "list the tools and their JSON schemas (MCP or OpenAI format)"},
    {"agent", cmd_agent, "answer a question with an LLM that calls nsr's tools (OpenAI API)"},
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
    fprintf(out, "  %-16s %s\n", commands[i].name, commands[i].summary);
  }
  fprintf(out, "\nEvery command takes --help. Example: nsr numbers 16 8 2 64\n");
}

static const command *find_command(const char *name) {
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
    if (strcmp(commands[i].name, name) == 0) return &commands[i];
  }
  return NULL;
}

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
  /* `nsr help CMD SUB...` is `nsr CMD SUB... --help`. */
  char *help_argv[8];
  int n = 0;
  for (int i = 1; i < argc && n < 6; i++) help_argv[n++] = argv[i];
  help_argv[n++] = "--help";
  help_argv[n] = NULL;
  return cmd->run(n, help_argv);
}

/* `nsr version`: the version and what this build was made with. */
static int run_version(int argc, char **argv) {
  bool json = false;
  const cli_opt opts[] = {CLI_FLAG_OPTION("--json", &json, "print one JSON object")};
  const cli_spec spec = {.name = "version", .opts = opts, .n_opts = 1,
                         .description = "Prints the version of nsr and the build's features: the BLAS\n"
                                        "library and the core it runs, MPI, libffi, SQLite, jansson, libcurl.\n"};
  cli_args args;
  int status = cli_parse(&spec, argc, argv, &args);
  if (status != CLI_CONTINUE) return status;
  const char *mpi = NSR_HAVE_MPI ? "yes" : "no";
  const char *curl = curl_version_info(CURLVERSION_NOW)->version;
  if (!json) {
    printf("nsr %s\nblas: %s (core %s)\nmpi: %s\nlibffi: %s\nsqlite: %s\njansson: %s\nlibcurl: %s\n",
           nsr_version(), openblas_get_config(), openblas_get_corename(), mpi, NSR_LIBFFI_VERSION,
           sqlite3_libversion(), jansson_version_str(), curl);
    return cli_finish("version", CLI_EXIT_OK);
  }
  json_t *root = json_pack("{s:s, s:s, s:s, s:b, s:s, s:s, s:s, s:s}", "version", nsr_version(),
                           "blas", openblas_get_config(), "blas_core", openblas_get_corename(),
                           "mpi", NSR_HAVE_MPI, "libffi", NSR_LIBFFI_VERSION,
                           "sqlite", sqlite3_libversion(), "jansson", jansson_version_str(),
                           "libcurl", curl);
  nsr_error err;
  if (cli_print_json(stdout, root, &err) != NSR_OK) return cli_report("version", &err);
  return cli_finish("version", CLI_EXIT_OK);
}

int main(int argc, char **argv) {
  nsr_json_init();
  /* Before any command opens a store, so SQLite allocates through nsr too. */
  nsr_error err;
  if (nsr_store_route_alloc(&err) != NSR_OK) {
    fprintf(stderr, "nsr: %s\n", err.message);
    return CLI_EXIT_FAILURE;
  }
  if (argc < 2) {
    print_help(stderr);
    return CLI_EXIT_USAGE;
  }
  const char *name = argv[1];
  if (strcmp(name, "help") == 0 || cli_is_help(name)) return run_help(argc - 1, argv + 1);
  if (strcmp(name, "version") == 0 || strcmp(name, "--version") == 0) {
    return run_version(argc - 1, argv + 1);
  }
  const command *cmd = find_command(name);
  if (cmd == NULL) {
    fprintf(stderr, "nsr: unknown command '%s' (see 'nsr help')\n", name);
    return CLI_EXIT_USAGE;
  }
  /* Under mpirun every rank runs the command; dist.h splits the work. */
  if (nsr_dist_init(&argc, &argv, &err) != NSR_OK) {
    fprintf(stderr, "nsr: %s\n", err.message);
    return CLI_EXIT_FAILURE;
  }
  int rc = cmd->run(argc - 1, argv + 1);
  nsr_dist_finalize(rc);
  return rc;
}
