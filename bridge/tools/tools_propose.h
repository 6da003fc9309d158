/* tools_propose.h: the `propose_hypotheses` tool: a trained network's
 * proposals for a number-game example set, each rescored exactly. */
#ifndef NSR_TOOLS_PROPOSE_H
#define NSR_TOOLS_PROPOSE_H

#include "nsr_tools.h"

typedef struct tools_spaces tools_spaces;

/* Loads the proposal model at weights_path and registers the tool, which
 * also takes a space of `spaces` by name (it keeps a reference) and then
 * uses that space's shipped guide. A bad model file fails as bad input
 * (NSR_ERR_INVALID with the loader's message), so a server never starts with
 * a tool that cannot work. */
nsr_code tools_add_propose_hypotheses(tools_registry *reg, const char *weights_path, tools_spaces *spaces,
                                      nsr_error *err);

#endif
