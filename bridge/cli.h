/* cli.h: argument parsing and error reporting shared by nsr's commands. */
#ifndef NSR_CLI_H
#define NSR_CLI_H

#include <stdbool.h>
#include <stdint.h>

#include "nsr_core.h"

/* Exit statuses of every nsr command. */
enum {
  CLI_EXIT_OK = 0,
  CLI_EXIT_FAILURE = 1, /* the work itself failed (I/O, out of memory) */
  CLI_EXIT_USAGE = 2,   /* bad arguments or bad input */
};

/* Prints "nsr CMD: message (see 'nsr CMD --help')" on one line to stderr and
 * returns CLI_EXIT_USAGE. */
int cli_usage_error(const char *command, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Prints "nsr CMD: message" to stderr and returns the exit status that fits
 * err->code (CLI_EXIT_USAGE for bad input, CLI_EXIT_FAILURE otherwise). */
int cli_report(const char *command, const nsr_error *err);

/* True when args[*i] is `name` ("--top") or "name=value". On a match, *value
 * is the text after '=' or the next argument (then *i advances past it);
 * *value is NULL when the option has no value, which the caller reports. */
bool cli_option(int argc, char **argv, int *i, const char *name,
                const char **value);

/* True when arg is "-h" or "--help". */
bool cli_is_help(const char *arg);

/* Parses a whole decimal number in [min, max]. `what` names it in errors
 * ("--top"). */
nsr_code cli_parse_u64(const char *text, const char *what, uint64_t min,
                       uint64_t max, uint64_t *out, nsr_error *err);
/* Parses a finite real number. */
nsr_code cli_parse_double(const char *text, const char *what, double *out,
                          nsr_error *err);

#endif
