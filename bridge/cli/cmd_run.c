/* cmd_run.c: `nsr run`, which runs a Church program, and `nsr repl`, which
 * evaluates forms typed on standard input.
 *
 *   nsr run FILE.church [options] [-- ARG ...]
 *   nsr run -e 'EXPR' [options]
 *   nsr repl [options]
 *
 * Exit status: 0 on success, 1 when the program fails (a run-time error or
 * an exhausted budget), 2 for bad usage or bad input (unreadable file,
 * syntax error). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nsr_ffi.h"
#include "nsr_core.h"
#include "nsr_lang.h"

int cmd_run(int argc, char **argv);
int cmd_repl(int argc, char **argv);

static const char run_usage[] =
    "usage: nsr run FILE.church [options] [-- ARG ...]\n"
    "       nsr run -e EXPR [options]\n"
    "       nsr repl [options]\n"
    "\n"
    "Runs a Church program (probmods' probabilistic Scheme) and prints what it\n"
    "displays, then the value of its last top-level form. repl reads forms from\n"
    "standard input and prints each value (definitions persist).\n"
    "\n"
    "options:\n"
    "  -e, --eval EXPR       run EXPR instead of a file\n"
    "  --seed S              seed of the random stream (default 0); the same\n"
    "                        seed gives the same output\n"
    "  --max-steps N         evaluation steps allowed (default 1000000000,\n"
    "                        0 = no limit)\n"
    "  --max-memory BYTES    heap budget, with optional K, M or G suffix\n"
    "                        (default 1G, 0 = no limit)\n"
    "  --timeout SECONDS     wall-time budget (default none)\n"
    "  --max-paths N         execution paths per enumeration-query\n"
    "                        (default 1000000, 0 = no limit)\n"
    "  --webchurch           numbers behave as in webchurch (JavaScript): 2.0\n"
    "                        is the integer 2, exact overflow turns inexact,\n"
    "                        round takes halves up\n"
    "  --foreign LIB:FUNC    allow (foreign \"LIB\" \"FUNC\" RET '(PARAMS)) to bind\n"
    "                        C function FUNC of library LIB (repeatable; none by\n"
    "                        default), e.g. --foreign libm.so.6:cbrt\n"
    "  --json                print {\"value\": ..., \"output\": \"...\"}: lists\n"
    "                        and vectors become arrays, symbols and strings\n"
    "                        strings, #t/#f true/false\n"
    "  -h, --help            show this help\n"
    "\n"
    "Arguments after -- are visible to the program as the list of strings\n"
    "command-line-arguments.\n"
    "\n"
    "exit status: 0 success; 2 for any error: bad usage, an unreadable file,\n"
    "             a syntax error, a program error or an exhausted budget\n";

/* Church's errors are all the program's: the issue fixes status 2 for them. */
enum { EXIT_PROGRAM_ERROR = 2, EXIT_BAD_INPUT = 2 };

static int usage_error(const char *fmt, const char *arg) {
  fprintf(stderr, "nsr run: ");
  fprintf(stderr, fmt, arg);
  fprintf(stderr, "\n(nsr run --help shows the options)\n");
  return EXIT_BAD_INPUT;
}

/* Parses a non-negative integer with an optional K/M/G (powers of 1024)
 * suffix when `suffixes`; false on anything else. */
static bool parse_count(const char *text, bool suffixes, uint64_t *out) {
  if (text[0] < '0' || text[0] > '9') return false;
  errno = 0;
  char *end;
  unsigned long long v = strtoull(text, &end, 10);
  if (errno == ERANGE) return false;
  uint64_t scale = 1;
  if (suffixes && *end != '\0' && end[1] == '\0') {
    switch (*end) {
      case 'k': case 'K': scale = 1ULL << 10; end++; break;
      case 'm': case 'M': scale = 1ULL << 20; end++; break;
      case 'g': case 'G': scale = 1ULL << 30; end++; break;
      default: break;
    }
  }
  if (*end != '\0' || (scale > 1 && v > UINT64_MAX / scale)) return false;
  *out = (uint64_t)v * scale;
  return true;
}

static bool parse_seconds(const char *text, double *out) {
  char *end;
  errno = 0;
  double v = strtod(text, &end);
  if (errno != 0 || *end != '\0' || end == text || !(v >= 0)) return false;
  *out = v;
  return true;
}

typedef struct run_options {
  bool need_program; /* run: a file or -e is required; repl: neither is allowed */
  const char *file;
  const char *expr;
  bool json;
  int nargs;    /* program arguments after -- */
  char **args;
  lang_foreign *foreign; /* the --foreign allow-list; NULL in nsr repl */
} run_options;

/* Fills cfg and opts from argv[1..]; returns -1 to go on, else an exit
 * status (0 after --help). */
static int parse_run_args(int argc, char **argv, nsr_lang_config *cfg,
                          run_options *opts) {
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char *value = i + 1 < argc ? argv[i + 1] : NULL;
    uint64_t n;
    if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
      fputs(run_usage, stdout);
      return 0;
    } else if (strcmp(a, "--") == 0) {
      opts->nargs = argc - i - 1;
      opts->args = argv + i + 1;
      break;
    } else if (strcmp(a, "--json") == 0) {
      opts->json = true;
      continue;
    } else if (strcmp(a, "--webchurch") == 0) {
      cfg->webchurch = true;
      continue;
    } else if (a[0] != '-' || a[1] == '\0') {
      if (opts->file != NULL || opts->expr != NULL) {
        return usage_error("unexpected argument '%s'", a);
      }
      opts->file = a;
      continue;
    }
    static const char *const valued[] = {"-e", "--eval", "--seed", "--max-steps",
                                         "--max-paths", "--max-memory", "--timeout",
                                         "--foreign"};
    bool known = false;
    for (size_t k = 0; k < sizeof valued / sizeof valued[0]; k++) known |= strcmp(a, valued[k]) == 0;
    if (!known) return usage_error("unknown option '%s'", a);
    if (value == NULL) return usage_error("option %s needs a value", a);
    i++;
    if (strcmp(a, "-e") == 0 || strcmp(a, "--eval") == 0) {
      if (opts->file != NULL || opts->expr != NULL) {
        return usage_error("give either a file or -e, once (%s)", a);
      }
      opts->expr = value;
    } else if (strcmp(a, "--seed") == 0) {
      if (!parse_count(value, false, &n)) return usage_error("--seed needs an integer, got '%s'", value);
      cfg->seed = n;
    } else if (strcmp(a, "--max-steps") == 0) {
      if (!parse_count(value, false, &n)) return usage_error("--max-steps needs a count, got '%s'", value);
      cfg->max_steps = n;
    } else if (strcmp(a, "--max-paths") == 0) {
      if (!parse_count(value, false, &n)) return usage_error("--max-paths needs a count, got '%s'", value);
      cfg->max_paths = n;
    } else if (strcmp(a, "--max-memory") == 0) {
      if (!parse_count(value, true, &n) || n > SIZE_MAX) {
        return usage_error("--max-memory needs a byte count such as 512M, got '%s'", value);
      }
      cfg->max_memory = (size_t)n;
    } else if (strcmp(a, "--foreign") == 0) {
      nsr_error err;
      if (opts->foreign == NULL) return usage_error("%s", "--foreign is for nsr run only");
      if (lang_foreign_allow(opts->foreign, value, &err) != NSR_OK) {
        return usage_error("%s", err.message);
      }
    } else {
      if (!parse_seconds(value, &cfg->timeout_seconds)) {
        return usage_error("--timeout needs a number of seconds, got '%s'", value);
      }
    }
  }
  if (opts->need_program && opts->file == NULL && opts->expr == NULL) {
    return usage_error("%s", "no program given: pass FILE.church or -e EXPR");
  }
  if (!opts->need_program && (opts->file != NULL || opts->expr != NULL || opts->json)) {
    return usage_error("%s", "repl takes only the budget, --seed and --webchurch options");
  }
  return -1;
}

/* Binds command-line-arguments to the strings after --. */
static nsr_code define_arguments(nsr_lang *lang, const run_options *opts,
                                 nsr_error *err) {
  nsr_lang_value items[opts->nargs > 0 ? opts->nargs : 1];
  for (int i = 0; i < opts->nargs; i++) {
    nsr_code code = nsr_lang_string(lang, opts->args[i], strlen(opts->args[i]), &items[i], err);
    if (code != NSR_OK) return code;
  }
  nsr_lang_value list;
  nsr_code code = nsr_lang_list(lang, items, (size_t)opts->nargs, &list, err);
  if (code != NSR_OK) return code;
  return nsr_lang_define(lang, "command-line-arguments", list, err);
}

static int print_json_result(nsr_lang *lang) {
  nsr_error err;
  char *value = NULL, *output = NULL;
  size_t out_len;
  const char *out_text = nsr_lang_output(lang, &out_len);
  if (nsr_lang_to_json(lang, nsr_lang_result(lang), &value, &err) != NSR_OK ||
      nsr_lang_json_string(out_text, out_len, &output, &err) != NSR_OK) {
    fprintf(stderr, "nsr run: %s\n", err.message);
    nsr_free(value);
    return EXIT_PROGRAM_ERROR;
  }
  printf("{\"value\":%s,\"output\":%s}\n", value, output);
  nsr_free(value);
  nsr_free(output);
  return 0;
}

static void print_plain_result(nsr_lang *lang) {
  nsr_lang_value v = nsr_lang_result(lang);
  if (v.type == NSR_LANG_UNSPECIFIED) return;
  char small[4096];
  size_t n = nsr_lang_format(lang, v, small, sizeof small);
  if (n < sizeof small) {
    printf("%s\n", small);
    return;
  }
  char *big = nsr_malloc(n + 1);
  if (big == NULL) {
    printf("%s...\n", small);
    return;
  }
  nsr_lang_format(lang, v, big, n + 1);
  printf("%s\n", big);
  nsr_free(big);
}

int cmd_run(int argc, char **argv) {
  nsr_lang_config cfg;
  nsr_lang_config_default(&cfg);
  run_options opts = {.need_program = true};
  nsr_error err;
  nsr_error_clear(&err);
  if (lang_foreign_new(&opts.foreign, &err) != NSR_OK) {
    fprintf(stderr, "nsr run: %s\n", err.message);
    return EXIT_PROGRAM_ERROR;
  }
  int status = parse_run_args(argc, argv, &cfg, &opts);
  if (status >= 0) {
    lang_foreign_free(opts.foreign);
    return status;
  }
  /* Plain mode streams printed output as it happens; --json collects it. */
  cfg.echo = opts.json ? NULL : stdout;

  nsr_lang *lang = NULL;
  if (nsr_lang_new(&cfg, &lang, &err) != NSR_OK) {
    fprintf(stderr, "nsr run: %s\n", err.message);
    lang_foreign_free(opts.foreign);
    return EXIT_PROGRAM_ERROR;
  }
  nsr_code code = lang_foreign_install(opts.foreign, lang, &err);
  if (code == NSR_OK) code = define_arguments(lang, &opts, &err);
  if (code == NSR_OK) {
    code = opts.expr != NULL
               ? nsr_lang_eval_string(lang, "<expr>", opts.expr, strlen(opts.expr), &err)
               : nsr_lang_eval_file(lang, opts.file, &err);
  }
  if (code != NSR_OK) {
    fflush(stdout);
    fprintf(stderr, "%s\n", err.message);
    status = code == NSR_ERR_IO || code == NSR_ERR_PARSE ? EXIT_BAD_INPUT : EXIT_PROGRAM_ERROR;
  } else if (opts.json) {
    status = print_json_result(lang);
  } else {
    print_plain_result(lang);
    status = 0;
  }
  nsr_lang_free(lang);
  lang_foreign_free(opts.foreign); /* after the interpreter that calls into it */
  return status;
}

/* ---- nsr repl ------------------------------------------------------------ */

/* Parenthesis depth of text, skipping strings and ; comments. A form is
 * complete when the depth is back to zero or below. */
static int paren_depth(const char *text) {
  int depth = 0;
  bool in_string = false;
  for (const char *p = text; *p != '\0'; p++) {
    if (in_string) {
      if (*p == '\\' && p[1] != '\0') {
        p++;
      } else if (*p == '"') {
        in_string = false;
      }
    } else if (*p == '"') {
      in_string = true;
    } else if (*p == ';') {
      while (p[1] != '\0' && p[1] != '\n') p++;
    } else if (*p == '(') {
      depth++;
    } else if (*p == ')') {
      depth--;
    }
  }
  return depth;
}

static bool only_space(const char *text) {
  for (; *text != '\0'; text++) {
    if (*text == ';') {
      while (*text != '\0' && *text != '\n') text++;
      if (*text == '\0') break;
    } else if (*text != ' ' && *text != '\t' && *text != '\n' && *text != '\r') {
      return false;
    }
  }
  return true;
}

int cmd_repl(int argc, char **argv) {
  nsr_lang_config cfg;
  nsr_lang_config_default(&cfg);
  run_options opts = {.need_program = false};
  int status = parse_run_args(argc, argv, &cfg, &opts);
  if (status >= 0) return status;
  cfg.echo = stdout;
  nsr_error err;
  nsr_lang *lang = NULL;
  if (nsr_lang_new(&cfg, &lang, &err) != NSR_OK) {
    fprintf(stderr, "nsr repl: %s\n", err.message);
    return EXIT_PROGRAM_ERROR;
  }
  bool interactive = isatty(fileno(stdin));
  if (define_arguments(lang, &opts, &err) != NSR_OK) {
    fprintf(stderr, "nsr repl: %s\n", err.message);
    nsr_lang_free(lang);
    return EXIT_PROGRAM_ERROR;
  }
  char *pending = NULL;
  size_t pending_len = 0;
  char line[4096];
  status = 0;
  for (;;) {
    if (interactive) {
      fputs(pending_len == 0 ? "church> " : "   ...> ", stdout);
      fflush(stdout);
    }
    if (fgets(line, sizeof line, stdin) == NULL) break;
    size_t n = strlen(line);
    char *grown = nsr_realloc(pending, pending_len + n + 1);
    if (grown == NULL) {
      fprintf(stderr, "nsr repl: out of memory\n");
      status = EXIT_PROGRAM_ERROR;
      break;
    }
    pending = grown;
    memcpy(pending + pending_len, line, n + 1);
    pending_len += n;
    if (paren_depth(pending) > 0) continue;
    if (!only_space(pending)) {
      if (nsr_lang_eval_string(lang, "<repl>", pending, pending_len, &err) == NSR_OK) {
        print_plain_result(lang);
      } else {
        fflush(stdout);
        fprintf(stderr, "%s\n", err.message);
      }
    }
    pending_len = 0;
    pending[0] = '\0';
  }
  if (interactive) fputc('\n', stdout);
  nsr_free(pending);
  nsr_lang_free(lang);
  return status;
}
