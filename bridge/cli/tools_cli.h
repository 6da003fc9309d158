/* tools_cli.h: the command-line options of the commands that serve tools
 * (`nsr mcp`, `nsr agent`, `nsr tools`): one set of cli_opt rows that each
 * of them puts in its own option table. */
#ifndef NSR_TOOLS_CLI_H
#define NSR_TOOLS_CLI_H

#include <stdbool.h>

#include "cli.h"
#include "nsr_ffi.h"
#include "nsr_tools.h"

/* The options' values: opt holds the single values, the lists collect the
 * repeatable ones until tools_cli_options copies them into opt. */
typedef struct tools_cli {
  tools_options opt;
  cli_list manifests; /* --tools */
  cli_list foreign;   /* --foreign */
} tools_cli;

/* Sets every option to its default: the store CLI_DEFAULT_DB, the shipped
 * model (so propose_hypotheses is served), the shipped spaces, run_program's default budgets,
 * no manifests and no foreign functions. */
void tools_cli_init(tools_cli *c);

/* The rows, for a command's table after its own rows:
 *   const cli_opt opts[] = {CLI_FLAG_OPTION("--json", ...), TOOLS_CLI_OPTIONS(&c)}; */
#define TOOLS_CLI_OPTIONS(c)                                                                   \
  CLI_OPTION("--tools", CLI_LIST, &(c)->manifests, "MANIFEST",                                 \
             "also serve the C functions a JSON manifest names, through\n"                     \
             "libffi (format in bridge/tools/README.md)",                                     \
             .max = TOOLS_MAX_MANIFESTS),                                                      \
      CLI_OPTION("--db", CLI_STRING, &(c)->opt.db, "PATH",                                     \
                 "the rule store for query_rules and rules://{id} resources\n"                 \
                 "(create it with 'nsr store init')",                                          \
                 .env = CLI_ENV_DB),                                                           \
      CLI_OPTION("--weights", CLI_STRING, &(c)->opt.weights, "FILE",                           \
                 "the proposal model propose_hypotheses serves (made by\n"                     \
                 "`nsr train`)",                                                               \
                 .env = CLI_ENV_WEIGHTS, .default_text = "the shipped model"),                 \
      CLI_OPTION("--max-steps", CLI_U64, &(c)->opt.max_steps, "N",                             \
                 "run_program: evaluation steps per call", .min = 1),                          \
      CLI_OPTION("--max-memory", CLI_BYTES, &(c)->opt.max_memory, "BYTES",                     \
                 "run_program: heap per call, K/M/G suffixes", .min = 1),                      \
      CLI_OPTION("--max-time", CLI_DOUBLE, &(c)->opt.timeout_seconds, "SECONDS",               \
                 "run_program: wall time per call", .min = 0.001, .max = 86400),               \
      CLI_OPTION("--foreign", CLI_LIST, &(c)->foreign, "LIB:FUNC:SIG",                         \
                 "let run_program's programs bind C function FUNC of library\n"                \
                 "LIB, with the C signature SIG, by (foreign \"LIB\" \"FUNC\")",                \
                 .max = LANG_FOREIGN_MAX)

/* After cli_parse: the options as tools_registry_build takes them (lists
 * copied into c->opt; their strings still point into argv). */
const tools_options *tools_cli_options(tools_cli *c);

#endif
