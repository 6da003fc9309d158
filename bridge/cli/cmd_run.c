/* cmd_run.c: `nsr run`, which runs a Church program, and `nsr repl`, which
 * evaluates forms typed on standard input. Both parse their options with
 * cli_parse (cli.h) and share the interpreter's (LANG_OPTIONS).
 *
 * Church's errors are all the program's: a run-time error or an exhausted
 * budget is bad input (exit status 2), like an unreadable file or a syntax
 * error, reported on one line "nsr run: FILE:LINE:COL: message". */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "fileio.h"
#include "strbuf.h"
#include "nsr_ffi.h"
#include "nsr_core.h"
#include "nsr_lang.h"
#include "repl_tty.h"

#define CMD_RUN "run"
#define CMD_REPL "repl"

static const char run_description[] =
    "Runs a Church program (probmods' probabilistic Scheme) from FILE.church, or\n"
    "the forms of -e EXPR, and prints what it displays, then the value of its\n"
    "last top-level form.\n";

static const char run_epilog[] =
    "Arguments after -- are visible to the program as the list of strings\n"
    "command-line-arguments.\n"
    "\n"
    "A program error (a run-time error or an exhausted budget) is bad input,\n"
    "like an unreadable file or a syntax error: exit status 2.\n"
    "\n"
    "Examples: nsr run programs/number_game.church -- 16 8 2 64\n"
    "          nsr run -e '(enumeration-query (define a (flip)) a #t)' --json\n";

/* The interpreter's options, which nsr run and nsr repl share. */
typedef struct lang_options {
  nsr_lang_config cfg;
} lang_options;

/* The option rows of a lang_options *o. */
#define LANG_OPTIONS(o)                                                                        \
  CLI_OPTION("--seed", CLI_U64, &(o)->cfg.seed, "S",                                           \
             "seed of the random stream (the same seed, the\nsame output)"),                   \
  CLI_OPTION("--max-steps", CLI_U64, &(o)->cfg.max_steps, "N",                                 \
             "evaluation steps allowed, 0 = no limit"),                                        \
  CLI_OPTION("--max-memory", CLI_BYTES, &(o)->cfg.max_memory, "BYTES",                         \
             "memory budget (what the process holds), with\nan optional K, M or G suffix; 0 = no limit"),  \
  CLI_OPTION("--max-time", CLI_DOUBLE, &(o)->cfg.timeout_seconds, "SECONDS",                   \
             "wall-time budget, 0 = none", .min = 0,                                           \
             .max = 1e9),                                                                      \
  CLI_OPTION("--max-paths", CLI_U64, &(o)->cfg.max_paths, "N",                                 \
             "execution paths per enumeration-query,\n0 = no limit"),                          \
  CLI_FLAG_OPTION("--webchurch", &(o)->cfg.webchurch,                                          \
                  "webchurch's rules (JavaScript): 2.0 is the integer\n"                      \
                  "2, exact overflow turns inexact, round takes halves\n"                      \
                  "up, 0 is false, symbols equal strings, extra\n"                            \
                  "arguments are ignored, case evaluates its data;\n"                          \
                  "values print as webchurch prints them"),                    \
  CLI_OPTION("--plot-dir", CLI_STRING, &(o)->cfg.plot_dir, "DIR",                              \
             "hist, density, barplot, scatter and lineplot\n"                                  \
             "write SVG files DIR/plot-001-hist.svg, ... in\n"                                 \
             "call order (DIR is created if missing) instead\n"                                \
             "of printing a text summary")

/* The library's defaults plus a wall-time budget: steps alone do not bound
 * time (a step of a primitive's loop, of the collector's work or of a
 * query's bookkeeping costs very different times), and a program left to
 * run out of its step or memory budget could run for minutes. */
#define RUN_DEFAULT_MAX_TIME 20.0

static void lang_options_init(lang_options *o) {
  nsr_lang_config_default(&o->cfg);
  o->cfg.load_files = true; /* the user's own programs may (load FILE) */
  o->cfg.timeout_seconds = RUN_DEFAULT_MAX_TIME;
}

/* --plot-dir: the directory exists (made if missing) and can take files,
 * before the program runs, so a bad one is a usage error (exit 2) rather
 * than the first figure's. CLI_CONTINUE or the exit status after
 * reporting. */
static int prepare_plot_dir(const char *cmd, const char *dir) {
  if (dir == NULL) return CLI_CONTINUE;
  struct stat st;
  if (nsr_make_directories(dir, 0777) != 0) {
    return cli_usage_error(cmd, "--plot-dir: cannot make %s: %s", dir, strerror(errno));
  }
  if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
    return cli_usage_error(cmd, "--plot-dir: %s is not a directory", dir);
  }
  if (access(dir, W_OK | X_OK) != 0) {
    return cli_usage_error(cmd, "--plot-dir: cannot write into %s: %s", dir, strerror(errno));
  }
  return CLI_CONTINUE;
}

/* Binds command-line-arguments to the n strings args. */
static nsr_code define_arguments(nsr_lang *lang, char **args, size_t n, nsr_error *err) {
  nsr_lang_value items[n > 0 ? n : 1];
  for (size_t i = 0; i < n; i++) {
    nsr_code code = nsr_lang_string(lang, args[i], strlen(args[i]), &items[i], err);
    if (code != NSR_OK) return code;
  }
  nsr_lang_value list;
  nsr_code code = nsr_lang_list(lang, items, n, &list, err);
  if (code != NSR_OK) return code;
  return nsr_lang_define(lang, "command-line-arguments", list, err);
}

/* The files the program's figures went to, as the JSON array of their
 * paths (DIR/plot-001-hist.svg, ...) into *out (nsr_free). */
static nsr_code plots_json(nsr_lang *lang, const char *dir, char **out, nsr_error *err) {
  nsr_strbuf sb = {0};
  nsr_strbuf_puts(&sb, "[");
  for (size_t i = 0; i < nsr_lang_plot_count(lang); i++) {
    char path[4200], *item = NULL;
    snprintf(path, sizeof path, "%s/%s", dir, nsr_lang_plot_file(lang, i));
    if (nsr_lang_json_string(path, strlen(path), &item, err) != NSR_OK) {
      nsr_strbuf_free(&sb);
      return err->code;
    }
    if (i > 0) nsr_strbuf_puts(&sb, ",");
    nsr_strbuf_puts(&sb, item);
    nsr_free(item);
  }
  nsr_strbuf_puts(&sb, "]");
  return nsr_strbuf_finish(&sb, out, NULL, err);
}

/* Prints {"value": ..., "output": "..."} (and "plots": [...] with a plot
 * directory); a value JSON cannot hold is the program's error. */
static int print_json_result(nsr_lang *lang, const char *plot_dir) {
  nsr_error err;
  char *value = NULL, *output = NULL, *plots = NULL;
  size_t out_len;
  const char *out_text = nsr_lang_output(lang, &out_len);
  int status = CLI_EXIT_OK;
  if (nsr_lang_to_json(lang, nsr_lang_result(lang), &value, &err) != NSR_OK ||
      nsr_lang_json_string(out_text, out_len, &output, &err) != NSR_OK ||
      (plot_dir != NULL && plots_json(lang, plot_dir, &plots, &err) != NSR_OK)) {
    status = cli_fail(CMD_RUN, CLI_EXIT_USAGE, "%s", err.message);
  } else if (plots != NULL) {
    printf("{\"value\":%s,\"output\":%s,\"plots\":%s}\n", value, output, plots);
  } else {
    printf("{\"value\":%s,\"output\":%s}\n", value, output);
  }
  nsr_free(value);
  nsr_free(output);
  nsr_free(plots);
  return status;
}

/* Prints the result as `write` would; a value whose text would pass the
 * memory budget (shared structure prints far larger than it is) is the
 * program's error. */
static int print_plain_result(nsr_lang *lang) {
  nsr_lang_value v = nsr_lang_result(lang);
  if (v.type == NSR_LANG_UNSPECIFIED) return CLI_EXIT_OK;
  char *text = NULL;
  nsr_error err;
  if (nsr_lang_write(lang, v, &text, &err) != NSR_OK) {
    return cli_fail(CMD_RUN, CLI_EXIT_USAGE, "%s", err.message);
  }
  printf("%s\n", text);
  nsr_free(text);
  return CLI_EXIT_OK;
}

/* The program of a parsed `nsr run`: a file or -e, and its arguments. */
typedef struct run_program {
  const char *file, *expr;
  char **args;
  size_t n_args;
  bool json;
} run_program;

/* Runs p in an interpreter made with cfg (and the foreign functions F
 * allows) and prints its result; returns the exit status. */
static int run_program_with(const nsr_lang_config *cfg, lang_foreign *F, const run_program *p) {
  nsr_lang_config c = *cfg;
  /* Plain mode streams printed output as it happens; --json collects it. */
  c.echo = p->json ? NULL : stdout;
  nsr_error err;
  nsr_lang *lang = NULL;
  nsr_code code = nsr_lang_new(&c, &lang, &err);
  if (code == NSR_OK) code = lang_foreign_install(F, lang, &err);
  if (code == NSR_OK) code = define_arguments(lang, p->args, p->n_args, &err);
  if (code == NSR_OK) {
    code = p->expr != NULL ? nsr_lang_eval_string(lang, "<expr>", p->expr, strlen(p->expr), &err)
                           : nsr_lang_eval_file(lang, p->file, &err);
  }
  int status = CLI_EXIT_OK;
  if (code != NSR_OK) {
    fflush(stdout); /* the program's output before its error */
    status = cli_fail(CMD_RUN, CLI_EXIT_USAGE, "%s", err.message);
  } else if (p->json) {
    status = print_json_result(lang, c.plot_dir);
  } else {
    status = print_plain_result(lang);
  }
  nsr_lang_free(lang);
  return status;
}

/* The --foreign allow-list of the entries; CLI_CONTINUE or the exit status
 * after reporting. */
static int make_foreign(const cli_list *entries, lang_foreign **out) {
  nsr_error err;
  if (lang_foreign_new(out, &err) != NSR_OK) return cli_report(CMD_RUN, &err);
  for (size_t i = 0; i < entries->n; i++) {
    if (lang_foreign_allow(*out, entries->items[i], &err) != NSR_OK) {
      lang_foreign_free(*out);
      return cli_usage_error(CMD_RUN, "--foreign: %s", err.message);
    }
  }
  return CLI_CONTINUE;
}

int cmd_run(int argc, char **argv) {
  lang_options lo;
  lang_options_init(&lo);
  run_program p = {0};
  cli_list foreign = {0};
  const cli_opt opts[] = {
      CLI_OPTION("--eval", CLI_STRING, &p.expr, "EXPR", "run EXPR instead of a file", .alias = "-e"),
      LANG_OPTIONS(&lo),
      CLI_OPTION("--foreign", CLI_LIST, &foreign, "LIB:FUNC:SIG",
                 "allow (foreign \"LIB\" \"FUNC\") to bind C function\n"
                 "FUNC of library LIB with the C signature SIG\n"
                 "(none by default), e.g.\n"
                 "--foreign 'libm.so.6:cbrt:double(double)'",
                 .max = LANG_FOREIGN_MAX),
      CLI_FLAG_OPTION("--json", &p.json,
                      "print {\"value\": ..., \"output\": \"...\"}: lists\n"
                      "and vectors become arrays, symbols and strings\n"
                      "strings, #t/#f true/false"),
  };
  const cli_spec spec = {.name = CMD_RUN, .args = "[FILE.church] [-- ARG ...]",
                         .description = run_description, .opts = opts,
                         .n_opts = sizeof opts / sizeof opts[0], .max_args = 1,
                         .epilog = run_epilog, .rest_after_dashdash = true};
  cli_args args;
  int status = cli_parse(&spec, argc, argv, &args);
  if (status != CLI_CONTINUE) return status;
  p.file = args.n > 0 ? args.args[0] : NULL;
  p.args = args.rest;
  p.n_args = args.n_rest;
  if (p.file != NULL && p.expr != NULL) {
    return cli_usage_error(CMD_RUN, "give either FILE.church or -e EXPR, not both");
  }
  if (p.file == NULL && p.expr == NULL) {
    return cli_usage_error(CMD_RUN, "no program given: pass FILE.church or -e EXPR");
  }
  status = prepare_plot_dir(CMD_RUN, lo.cfg.plot_dir);
  if (status != CLI_CONTINUE) return status;
  lang_foreign *F = NULL;
  status = make_foreign(&foreign, &F);
  if (status != CLI_CONTINUE) return status;
  status = run_program_with(&lo.cfg, F, &p);
  lang_foreign_free(F); /* after the interpreter that calls into it */
  return cli_finish(CMD_RUN, status);
}

/* ---- nsr repl ------------------------------------------------------------ */

/* Parenthesis depth of text, skipping strings and ; comments; square
 * brackets count as parentheses. A form is complete when the depth is back
 * to zero or below. */
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
    } else if (*p == '(' || *p == '[') {
      depth++;
    } else if (*p == ')' || *p == ']') {
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

/* Longest line the REPL reads; a longer one is refused whole. */
#define REPL_MAX_LINE (16u << 20)

/* The REPL's reading state: the lines of the form being typed. */
typedef struct repl_input {
  nsr_lang *lang;
  nsr_line line;       /* the line just read */
  unsigned long lineno;
  char *pending;       /* the form so far, NUL-terminated (nsr_free) */
  size_t pending_len;
  unsigned long first_line; /* the session's line where pending starts */
  bool exit_called;         /* (exit) was evaluated: the session ends */
} repl_input;

/* (exit): ends the session with status 0. It stops the form at once with
 * an error the REPL does not print, so nothing after it runs. */
static nsr_code repl_exit(nsr_lang *lang, void *user, const nsr_lang_value *args, int nargs,
                          nsr_lang_value *out, nsr_error *err) {
  (void)lang, (void)args, (void)nargs, (void)out;
  ((repl_input *)user)->exit_called = true;
  return nsr_fail(err, NSR_ERR_LIMIT, "the session ends");
}

/* Drops the pending form (Ctrl-C at the prompt, a line that cannot be
 * text, or the form evaluated). */
static void repl_drop(repl_input *in) {
  in->pending_len = 0;
  if (in->pending != NULL) in->pending[0] = '\0';
}

/* Evaluates the pending form, prints its value or its error, and empties it. */
static void repl_eval(repl_input *in) {
  nsr_error err;
  if (!only_space(in->pending)) {
    /* Positions count the session's lines, so an error points at the
     * line and column as typed. */
    uint32_t first = in->first_line < UINT32_MAX ? (uint32_t)in->first_line : UINT32_MAX;
    if (nsr_lang_eval_lines(in->lang, "<repl>", first, in->pending, in->pending_len, &err) ==
        NSR_OK) {
      print_plain_result(in->lang);
    } else if (!in->exit_called) {
      fflush(stdout);
      /* after the ^C the terminal echoed, on a line of its own */
      if (repl_tty_interrupted) fputc('\n', stderr);
      fprintf(stderr, "%s\n", err.message);
    }
  }
  repl_drop(in);
}

/* Adds the line just read to the pending form and evaluates the form once
 * its parentheses close. A line holding a NUL byte or longer than
 * REPL_MAX_LINE cannot be a form's text: it is refused with its number and
 * the form it was part of is dropped (half a form would mean something
 * else). False only when memory ran out. */
static bool repl_take_line(repl_input *in) {
  nsr_line *l = &in->line;
  in->lineno++;
  char problem[64] = "";
  if (l->too_long) snprintf(problem, sizeof problem, "is longer than %u bytes", REPL_MAX_LINE);
  else if (memchr(l->text, '\0', l->len)) snprintf(problem, sizeof problem, "holds a NUL byte");
  if (problem[0]) {
    fflush(stdout);
    fprintf(stderr, "nsr repl: line %lu %s; dropped%s\n", in->lineno, problem,
                    in->pending_len ? " with the form it continued" : "");
    repl_drop(in);
    return true;
  }
  char *grown = nsr_realloc(in->pending, in->pending_len + l->len + 2);
  if (grown == NULL) return false;
  if (in->pending_len == 0) in->first_line = in->lineno;
  in->pending = grown;
  memcpy(in->pending + in->pending_len, l->text, l->len);
  in->pending_len += l->len;
  in->pending[in->pending_len++] = '\n';
  in->pending[in->pending_len] = '\0';
  if (paren_depth(in->pending) <= 0) repl_eval(in);
  return true;
}

/* Standard input that is not a terminal (a pipe, a file): line by line,
 * no prompt, no history, so scripts and tests see plain text. Returns the
 * exit status. */
static int repl_piped(repl_input *in) {
  nsr_error err;
  int status = CLI_EXIT_OK;
  while (!in->exit_called && nsr_read_line(stdin, REPL_MAX_LINE, "standard input", &in->line, &err)) {
    if (!repl_take_line(in)) {
      status = cli_fail(CMD_REPL, CLI_EXIT_FAILURE, "out of memory");
      break;
    }
  }
  if (!in->exit_called && err.code != NSR_OK) {
    status = cli_fail(CMD_REPL, CLI_EXIT_FAILURE, "%s", err.message);
  }
  /* an unfinished form: its error says so */
  if (status == CLI_EXIT_OK && !in->exit_called && in->pending_len > 0) repl_eval(in);
  return status;
}

/* A terminal: libedit's line editing and history (repl_tty.c), a
 * continuation prompt while parentheses are open, Ctrl-C clearing the
 * line at the prompt and interrupting a running form. Returns the exit
 * status. */
static int repl_terminal(repl_input *in, const char *history) {
  repl_tty_open(history);
  int status = CLI_EXIT_OK;
  while (!in->exit_called) {
    char *text = NULL;
    repl_tty_rc rc = repl_tty_read(in->pending_len == 0 ? "church> " : "   ...> ", &text);
    if (rc == REPL_TTY_END) break;
    if (rc == REPL_TTY_CLEARED) {
      repl_drop(in);
      continue;
    }
    repl_tty_remember(text);
    in->line.text = text; /* repl_take_line reads it; freed below */
    in->line.len = strlen(text);
    in->line.too_long = in->line.len > REPL_MAX_LINE;
    repl_tty_interrupted = 0; /* a Ctrl-C before the form ran is not for it */
    bool ok = repl_take_line(in);
    repl_tty_interrupted = 0; /* a Ctrl-C that stopped the form is spent */
    in->line.text = NULL;
    free(text); /* libedit's allocation */
    if (!ok) {
      status = cli_fail(CMD_REPL, CLI_EXIT_FAILURE, "out of memory");
      break;
    }
  }
  if (status == CLI_EXIT_OK && !in->exit_called && in->pending_len > 0) repl_eval(in);
  repl_tty_close();
  if (!in->exit_called) fputc('\n', stdout); /* after the ^D */
  return status;
}

int cmd_repl(int argc, char **argv) {
  lang_options lo;
  lang_options_init(&lo);
  bool no_history = false;
  const char *history = NULL;
  const cli_opt opts[] = {
      LANG_OPTIONS(&lo),
      CLI_OPTION("--history", CLI_STRING, &history, "FILE",
                 "history file of a terminal session (default\n"
                 "$XDG_STATE_HOME/nsr/history, else\n"
                 "~/.local/state/nsr/history)", .env = "NSR_HISTORY"),
      CLI_FLAG_OPTION("--no-history", &no_history, "keep no history file"),
  };
  const cli_spec spec = {
      .name = CMD_REPL, .opts = opts, .n_opts = sizeof opts / sizeof opts[0],
      .description = "Evaluates the Church forms typed on standard input and prints each\n"
                     "value; definitions persist. An error is printed and the session goes on;\n"
                     "(exit) or end of input ends it (status 0).\n",
      .epilog = "On a terminal: line editing and history (libedit; Up and Down recall\n"
                "lines), a continuation prompt while parentheses are open, Ctrl-C clears\n"
                "the line or interrupts the running form (the session and its\n"
                "definitions stay). Other input is read line by line, without prompt or\n"
                "history.\n"
                "\n"
                "Programs from files: nsr run FILE.church (see 'nsr run --help').\n"};
  cli_args args;
  int status = cli_parse(&spec, argc, argv, &args);
  if (status == CLI_CONTINUE) status = prepare_plot_dir(CMD_REPL, lo.cfg.plot_dir);
  if (status != CLI_CONTINUE) return status;
  bool interactive = isatty(fileno(stdin));
  lo.cfg.echo = stdout;
  if (interactive) lo.cfg.interrupt = &repl_tty_interrupted;
  nsr_error err;
  nsr_lang *lang = NULL;
  repl_input in = {0};
  if (nsr_lang_new(&lo.cfg, &lang, &err) != NSR_OK || define_arguments(lang, NULL, 0, &err) != NSR_OK ||
      nsr_lang_define_primitive(lang, "exit", 0, 0, repl_exit, &in, &err) != NSR_OK) {
    nsr_lang_free(lang);
    return cli_fail(CMD_REPL, CLI_EXIT_USAGE, "%s", err.message);
  }
  in.lang = lang;
  if (interactive) {
    char *path = no_history ? NULL : history != NULL ? nsr_strdup(history) : repl_tty_default_history();
    status = repl_terminal(&in, path);
    nsr_free(path);
  } else {
    status = repl_piped(&in);
  }
  nsr_free(in.pending);
  nsr_free(in.line.text);
  nsr_lang_free(lang);
  return cli_finish(CMD_REPL, status);
}
