/* tools_builtin.h: the registry as `nsr mcp`, `nsr agent` and `nsr tools`
 * serve it, and the command-line options they share.
 *
 * Tools and where they come from:
 *   number_game, list_concepts   always (tools_numbers.c)
 *   foreign tools                one --tools MANIFEST each (ffi_tools.c)
 *   query_rules {sql, limit?}    with --db, once the rule store exists
 *   propose_hypotheses {examples, top?}   with --weights, once the network exists
 *   run_program {source, args?, seed?}    once the language exists
 * A capability that is not built is not listed: --db and --weights are
 * refused with a message saying so, rather than serving a tool that cannot
 * work. Each future tool is one registration in tools_registry_build. */
#ifndef NSR_TOOLS_BUILTIN_H
#define NSR_TOOLS_BUILTIN_H

#include <stdbool.h>

#include "tools_registry.h"

#define TOOLS_MAX_MANIFESTS 16

typedef struct tools_options {
  const char *manifests[TOOLS_MAX_MANIFESTS]; /* --tools, in order */
  size_t n_manifests;
} tools_options;

/* When argv[*i] is --tools, --db or --weights (or NAME=VALUE), consumes it
 * (advancing *i past a separate value), stores the result in *rc and
 * returns true; otherwise returns false. *rc is NSR_ERR_INVALID with a
 * one-line message for a missing value, too many manifests, or an option
 * whose capability is not built. */
bool tools_cli_option(int argc, char **argv, int *i, tools_options *opt, nsr_code *rc,
                      nsr_error *err);

/* The help lines for those options, for each command's --help. */
extern const char tools_cli_help[];

/* Builds the registry: the number-game tools, then each manifest's foreign
 * functions. A bad manifest fails the whole build with a message naming
 * the file, so a server never starts with half its tools. */
nsr_code tools_registry_build(const tools_options *opt, tools_registry **out, nsr_error *err);

#endif
