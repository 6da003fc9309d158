/* tools_cli.h: the command-line options of the commands that serve tools
 * (`nsr mcp`, `nsr agent`, `nsr tools`). */
#ifndef NSR_TOOLS_CLI_H
#define NSR_TOOLS_CLI_H

#include <stdbool.h>

#include "nsr_tools.h"

/* When argv[*i] is one of the options in tools_cli_help (or NAME=VALUE),
 * consumes it (advancing *i past a separate value), stores the result in
 * *rc and returns true; otherwise returns false. *rc is NSR_ERR_INVALID
 * (or NSR_ERR_RANGE) with a one-line message for a missing or bad value,
 * too many manifests or allow-list entries, or an option whose capability
 * is not built. */
bool tools_cli_option(int argc, char **argv, int *i, tools_options *opt, nsr_code *rc,
                      nsr_error *err);

/* The help lines for those options, for each command's --help. */
extern const char tools_cli_help[];

#endif
