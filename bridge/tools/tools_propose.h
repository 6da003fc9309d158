/* tools_propose.h: the `propose_hypotheses` tool: a trained network's
 * proposals for a number-game example set, each rescored exactly. */
#ifndef NSR_TOOLS_PROPOSE_H
#define NSR_TOOLS_PROPOSE_H

#include "nsr_tools.h"

/* Loads the proposal model at weights_path and registers the tool. A bad
 * model file fails with its loader's message (NSR_ERR_FORMAT or
 * NSR_ERR_IO), so a server never starts with a tool that cannot work. */
nsr_code tools_add_propose_hypotheses(tools_registry *reg, const char *weights_path,
                                      nsr_error *err);

#endif
