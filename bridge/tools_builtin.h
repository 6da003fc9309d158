/* tools_builtin.h: the registry as `nsr mcp`, `nsr agent` and `nsr tools`
 * serve it (their options are in tools_cli.h).
 *
 * Tools and where they come from:
 *   number_game, list_concepts            always (tools_numbers.c)
 *   run_program {source, args?, seed?}    always (tools_program.c)
 *   query_rules {sql, limit?}             always, on the store at `db`
 *                                         (tools_rules.c)
 *   foreign tools                         one --tools MANIFEST each (ffi_tools.c)
 *   propose_hypotheses {examples, top?}   with `weights`, which the commands set to
 *                                         the shipped model by default
 *                                         (tools_propose.c) */
#ifndef NSR_TOOLS_BUILTIN_H
#define NSR_TOOLS_BUILTIN_H

#include "lang_foreign.h"
#include "tools_registry.h"

#define TOOLS_MAX_MANIFESTS 16

/* run_program's budgets when the options leave them 0: generous for real
 * programs (the probmods examples take well under a second), small enough
 * that a runaway one costs the server seconds, not its memory. */
#define TOOLS_DEFAULT_MAX_STEPS 100000000ull
#define TOOLS_DEFAULT_MAX_MEMORY ((size_t)256 << 20)
#define TOOLS_DEFAULT_TIMEOUT 10.0

/* Zero-initialise, then set what the command line gives. */
typedef struct tools_options {
  const char *manifests[TOOLS_MAX_MANIFESTS]; /* --tools, in order */
  size_t n_manifests;
  const char *db;          /* --db: the rule store; NULL means NSR_STORE_DEFAULT_PATH */
  const char *weights;     /* --weights: a proposal model; NULL: no propose_hypotheses */
  uint64_t max_steps;      /* run_program budgets; 0 means the default above */
  size_t max_memory;
  double timeout_seconds;
  const char *foreign[LANG_FOREIGN_MAX]; /* --foreign LIBRARY:FUNCTION */
  size_t n_foreign;
} tools_options;

/* The rule store the options name. */
const char *tools_db_path(const tools_options *opt);

/* Builds the registry: the built-in tools, then each manifest's foreign
 * functions. A bad manifest or allow-list entry fails the whole build with
 * a message naming it, so a server never starts with half its tools. */
nsr_code tools_registry_build(const tools_options *opt, tools_registry **out, nsr_error *err);

#endif
