/* cli.h: the command-line contract of every nsr command and subcommand.
 *
 * A command declares its options in a table (cli_opt) and its usage in a
 * cli_spec; cli_parse() parses argv against it, rejects unknown options,
 * missing and bad values (exit 2, one line "nsr CMD: ..."), applies
 * environment defaults (NSR_DB, NSR_WEIGHTS) and answers --help with text
 * generated from the same table: every option, its default, the exit
 * statuses. Nothing else in nsr parses options. */
#ifndef NSR_CLI_H
#define NSR_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "nsr_core.h"

/* Exit statuses of every nsr command. */
enum {
  CLI_EXIT_OK = 0,
  CLI_EXIT_FAILURE = 1, /* the work itself failed (I/O, out of memory) */
  CLI_EXIT_USAGE = 2,   /* bad arguments or bad input */
};

/* cli_parse's answer when the command should go on with its work. */
#define CLI_CONTINUE (-1)

/* The environment variables that stand in for options everywhere. */
#define CLI_ENV_DB "NSR_DB"           /* --db: the rule store */
#define CLI_ENV_WEIGHTS "NSR_WEIGHTS" /* --weights: a model file */

typedef enum cli_kind {
  CLI_FLAG,   /* no value; target: bool, set true */
  CLI_STRING, /* target: const char *; the value as given (not copied) */
  CLI_U64,    /* target: uint64_t in [min, max] */
  CLI_INT,    /* target: int in [min, max] (min, max as int64 casts) */
  CLI_DOUBLE, /* target: double in [min, max], finite */
  CLI_CHOICE, /* target: const char *, one of choices (NULL-terminated) */
  CLI_LIST,   /* repeatable; target: cli_list, values in order; at most
                 max values when max > 0, else CLI_LIST_MAX */
  CLI_BYTES,  /* target: size_t, a byte count with an optional K, M or G
                 suffix (powers of 1024), in [min, max] bytes */
} cli_kind;

/* Values of a repeatable option, in command-line order. */
#define CLI_LIST_MAX 64
typedef struct cli_list {
  const char *items[CLI_LIST_MAX];
  size_t n;
} cli_list;

/* One option. `target` points at the variable that holds its value; the
 * variable's value before parsing is the default that --help shows, unless
 * default_text says it in words ("automatic"). */
typedef struct cli_opt {
  const char *name;       /* "--top" */
  const char *alias;      /* optional second spelling, e.g. "-e" for "--eval" */
  cli_kind kind;
  void *target;
  const char *value_name; /* "N", "FILE" in help; NULL for flags */
  const char *help;       /* one line; may hold '\n' for more lines */
  const char *default_text; /* NULL: shown from the target; "" : none shown */
  const char *env;        /* environment variable that sets the default */
  double min, max;        /* CLI_U64, CLI_INT, CLI_DOUBLE, CLI_BYTES: inclusive
                             range; max <= min: no bound but the type's.
                             CLI_LIST: max is the most values */
  const char *const *choices; /* CLI_CHOICE */
  bool *given;            /* optional: set true when given on the command line */
} cli_opt;

/* One table row: CLI_OPTION("--top", CLI_U64, &top, "K", "how many", .min = 1,
 * .max = 64). The trailing designated fields (min, max, env, default_text,
 * choices, given, alias) are optional. */
#define CLI_OPTION(opt_name, opt_kind, opt_target, opt_value_name, opt_help, ...) \
  {.name = (opt_name), .kind = (opt_kind), .target = (opt_target),              \
   .value_name = (opt_value_name), .help = (opt_help), __VA_ARGS__}
#define CLI_FLAG_OPTION(opt_name, opt_target, opt_help) \
  CLI_OPTION(opt_name, CLI_FLAG, opt_target, NULL, opt_help, .default_text = "")

/* A command or subcommand. */
#define CLI_MAX_OPTS 48
typedef struct cli_spec {
  const char *name;        /* as in errors: "numbers eval" -> "nsr numbers eval: ..." */
  const char *args;        /* positional part of the usage line: "X1 X2 ..." */
  const char *description; /* paragraph(s) after the usage line */
  const cli_opt *opts;
  size_t n_opts;
  size_t min_args, max_args; /* positional arguments allowed */
  const char *subcommands; /* lines listing subcommands, or NULL */
  bool subcommand_optional; /* with subcommands: the command also works
                               without one, on `args` (two usage lines) */
  const char *epilog;      /* examples and notes after the exit statuses */
  bool rest_after_dashdash; /* arguments after "--" are kept apart (see cli_args) */
} cli_spec;

/* The positional arguments after parsing, pointing into argv. */
typedef struct cli_args {
  char **args;   /* positional arguments before any "--" */
  size_t n;
  char **rest;   /* with rest_after_dashdash: arguments after "--" */
  size_t n_rest;
} cli_args;

/* Parses argv[1..argc-1] (argv[0] is the command's own name) against spec.
 * Options and positional arguments may be mixed; "--" ends options.
 * Returns CLI_CONTINUE with the positionals in *out (argv is reordered in
 * place), CLI_EXIT_OK after printing help (-h or --help anywhere), or
 * CLI_EXIT_USAGE after printing one error line to stderr. */
int cli_parse(const cli_spec *spec, int argc, char **argv, cli_args *out);

/* A subcommand of a command with subcommands ("nsr nn init"). */
typedef struct cli_subcommand {
  const char *name;                  /* "init" */
  int (*run)(int argc, char **argv); /* argv[0] is the subcommand's name */
} cli_subcommand;

/* The subcommand called `name`, or NULL. */
const cli_subcommand *cli_find_subcommand(const cli_subcommand *subs, size_t n_subs,
                                          const char *name);

/* Runs the subcommand that argv[1] names with argv[1..argc-1] and returns
 * its exit status. -h or --help there prints spec's help (CLI_EXIT_OK); a
 * missing or unknown subcommand is one usage line (CLI_EXIT_USAGE). */
int cli_run_subcommand(const cli_spec *spec, const cli_subcommand *subs, size_t n_subs,
                       int argc, char **argv);

/* Writes the generated help of spec. */
void cli_print_help(const cli_spec *spec, FILE *out);

/* Prints "nsr CMD: message (see 'nsr CMD --help')" on one line to stderr and
 * returns CLI_EXIT_USAGE. */
int cli_usage_error(const char *command, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Prints "nsr CMD: message" to stderr and returns the exit status that fits
 * err->code (CLI_EXIT_USAGE for bad input, CLI_EXIT_FAILURE otherwise). */
int cli_report(const char *command, const nsr_error *err);

/* Prints "nsr CMD: message" on one line to stderr and returns status. */
int cli_fail(const char *command, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* True when arg is "-h" or "--help". */
bool cli_is_help(const char *arg);

/* Parses a whole decimal number in [min, max]. `what` names it in errors
 * ("--top"). */
nsr_code cli_parse_u64(const char *text, const char *what, uint64_t min,
                       uint64_t max, uint64_t *out, nsr_error *err);
/* Parses a finite real number. */
nsr_code cli_parse_double(const char *text, const char *what, double *out,
                          nsr_error *err);

/* The model a command reads when --weights and NSR_WEIGHTS are not given:
 * the shipped proposal model, from the source tree when nsr runs from a
 * build directory, else where `meson install` put it. */
const char *cli_default_model(void);

/* The folder of the shipped hypothesis spaces, found the same way: the
 * source tree's programs/spaces, else <prefix>/share/nsr/spaces. */
const char *cli_shipped_spaces(void);

/* The rule store used when --db and NSR_DB are not given. */
#define CLI_DEFAULT_DB "nsr.db"

/* Prints `value` as one line of compact JSON (json.h's number format) on
 * out and drops the caller's reference to it. A NULL value (an earlier
 * allocation failed) or a failed dump is NSR_ERR_NOMEM. */
nsr_code cli_print_json(FILE *out, json_t *value, nsr_error *err);

/* Ends a command: flushes stdout and reports a failed write (a full disk, a
 * closed pipe) as "nsr CMD: writing the output failed" with exit 1. */
int cli_finish(const char *command, int status);

#endif
