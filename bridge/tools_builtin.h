/* tools_builtin.h: the registry as `nsr mcp`, `nsr agent` and `nsr tools`
 * serve it (their options are in tools_cli.h).
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

#include "tools_registry.h"

#define TOOLS_MAX_MANIFESTS 16

typedef struct tools_options {
  const char *manifests[TOOLS_MAX_MANIFESTS]; /* --tools, in order */
  size_t n_manifests;
} tools_options;

/* Builds the registry: the number-game tools, then each manifest's foreign
 * functions. A bad manifest fails the whole build with a message naming
 * the file, so a server never starts with half its tools. */
nsr_code tools_registry_build(const tools_options *opt, tools_registry **out, nsr_error *err);

#endif
