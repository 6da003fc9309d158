/* tools_numbers.h: the number-game tools: `number_game` (exact Bayesian
 * concept learning, the output of `nsr numbers --json`) and `list_concepts`
 * (the hypothesis space it reasons over). */
#ifndef NSR_TOOLS_NUMBERS_H
#define NSR_TOOLS_NUMBERS_H

#include "nsr_tools.h"
#include "tools_spaces.h"

/* The largest `range` the tool accepts: the answer lists p(y in C | X) for
 * every y, and a model's context has no room for millions of numbers. */
#define TOOLS_NUMBERS_MAX_RANGE 10000
#define TOOLS_NUMBERS_MAX_TOP 1000
/* The most probes one call may ask about. */
#define TOOLS_NUMBERS_MAX_PROBES 1000

/* number_game, with Tenenbaum's model and the shipped spaces of `spaces`
 * (retained; none offered: no "space" property). */
nsr_code tools_add_number_game(tools_registry *reg, tools_spaces *spaces, nsr_error *err);
nsr_code tools_add_list_concepts(tools_registry *reg, nsr_error *err);

#endif
