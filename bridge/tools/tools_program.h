/* tools_program.h: `run_program`, Church source run in a fresh interpreter
 * per call under the server's budgets. */
#ifndef NSR_TOOLS_PROGRAM_H
#define NSR_TOOLS_PROGRAM_H

#include "nsr_tools.h"

/* Largest value (as JSON text) and printed output a call returns; a larger
 * value is a tool error, longer output is cut (output_truncated). */
#define TOOLS_PROGRAM_MAX_VALUE (1u << 20)
#define TOOLS_PROGRAM_MAX_OUTPUT (64u << 10)

/* Registers run_program with opt's budgets (zeros mean the defaults in
 * nsr_tools.h) and foreign allow-list (opt->foreign). A malformed
 * allow-list entry fails with NSR_ERR_INVALID. */
nsr_code tools_add_run_program(tools_registry *reg, const tools_options *opt, nsr_error *err);

#endif
