/* test_cli_options.c: the command-line contract, for every command and
 * subcommand at once. The list of commands comes from `nsr help`, each
 * command's subcommands and options from its own --help, so a new command
 * or option is covered without editing this file. For each one:
 *  - an unknown option, a value-taking option without its value, and a
 *    number or choice option with a bad value each exit 2, print nothing on
 *    stdout and exactly one stderr line "nsr CMD [SUB]: ..." naming the
 *    option;
 *  - --help exits 0, lists the exit statuses, and shows a default, a range
 *    or an environment variable for every option that takes a number.
 * Every failing case is printed before the test fails, so one run shows
 * them all. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_runner.h"

#define MAX_ITEMS 64
#define MAX_ARGS 8

typedef struct name_list {
  char names[MAX_ITEMS][128];
  char values[MAX_ITEMS][128]; /* the option's value name, "" for a flag */
  char help[MAX_ITEMS][512];  /* the option's help text, lines joined */
  size_t n;
} name_list;

static int failures;

#define CASE_FAIL(...)       \
  do {                       \
    print_message(__VA_ARGS__); \
    print_message("\n");     \
    failures++;              \
  } while (0)

/* Runs nsr with words[0..n) (NULL-free). */
static run_result run_words(const char *const *words, size_t n) {
  const char *args[MAX_ARGS + 2];
  for (size_t i = 0; i < n; i++) args[i] = words[i];
  args[n] = NULL;
  return run_to(NULL, NULL, args);
}

/* The entries of the section of `text` that starts at the line `heading`
 * and ends at a blank line: each entry's first word (after two spaces of
 * indent) goes into list->names. For options, the value name and the whole
 * help text (continuation lines joined) are kept too. */
static void section_names(const char *text, const char *heading, bool options, name_list *list) {
  list->n = 0;
  const char *p = strstr(text, heading);
  if (p == NULL) return;
  p = strchr(p, '\n');
  bool keep = false; /* whether continuation lines belong to a kept entry */
  while (p && p[1] != '\n' && p[1] != '\0') {
    const char *line = p + 1;
    const char *end = strchr(line, '\n');
    size_t len = end ? (size_t)(end - line) : strlen(line);
    char buf[512];
    snprintf(buf, sizeof buf, "%.*s", (int)len, line);
    p = end;
    if (strncmp(buf, "  ", 2) != 0) continue;
    if (isspace((unsigned char)buf[2])) { /* a continuation line */
      if (keep) {
        char *help = list->help[list->n - 1];
        size_t used = strlen(help);
        snprintf(help + used, sizeof list->help[0] - used, " %s", buf + strspn(buf, " "));
      }
      continue;
    }
    char *word = buf + 2, *gap = strstr(word, "  ");
    char left[128];
    snprintf(left, sizeof left, "%.*s", gap ? (int)(gap - word) : (int)strlen(word), word);
    char *space = strchr(left, ' ');
    if (space) *space = '\0';
    keep = !(options && strncmp(left, "--", 2) != 0) && list->n < MAX_ITEMS; /* not "-h, --help" */
    if (!keep) continue;
    snprintf(list->names[list->n], sizeof list->names[0], "%s", left);
    snprintf(list->values[list->n], sizeof list->values[0], "%s", space ? space + 1 : "");
    snprintf(list->help[list->n], sizeof list->help[0], "%s", gap ? gap + strspn(gap, " ") : "");
    list->n++;
  }
}

/* The part of an option's help that cli_print_help generates: the last
 * parenthesised group, "(1..64, default: 10)", or "" when there is none. */
static const char *generated_part(const char *help) {
  size_t len = strlen(help);
  if (len == 0 || help[len - 1] != ')') return "";
  const char *open = strrchr(help, '(');
  return open ? open : "";
}

/* Whether an option's value is a number: its value name says so, or the
 * generated part of its help shows a numeric range. */
static bool numeric_value(const char *value, const char *help) {
  static const char *const numeric[] = {"N", "K", "S", "X", "T", "B", "F", "P", "MS", "SEED",
                                        "SECONDS", "BYTES", "LR", "STEPS", NULL};
  for (const char *const *n = numeric; *n; n++) {
    if (strcmp(value, *n) == 0) return true;
  }
  const char *g = generated_part(help);
  return g[0] == '(' && (isdigit((unsigned char)g[1]) || g[1] == '-') && strstr(g, "..");
}

/* Checks r is a usage error of `who` ("numbers eval") naming `needle`. */
static void check_usage_error(run_result r, const char *who, const char *needle, const char *what) {
  char prefix[128];
  snprintf(prefix, sizeof prefix, "nsr%s%s: ", who[0] ? " " : "", who);
  const char *err = r.err ? r.err : "";
  size_t lines = 0;
  for (const char *c = err; *c; c++) lines += *c == '\n';
  if (r.status != 2) {
    CASE_FAIL("nsr %s %s: exit %d, not 2 (stderr: %.200s)", who, what, r.status, err);
  } else if (r.out && r.out[0]) {
    CASE_FAIL("nsr %s %s: wrote to stdout: %.200s", who, what, r.out);
  } else if (lines != 1 || err[strlen(err) - 1] != '\n') {
    CASE_FAIL("nsr %s %s: %zu stderr lines, not 1: %.300s", who, what, lines, err);
  } else if (strncmp(err, prefix, strlen(prefix)) != 0) {
    CASE_FAIL("nsr %s %s: the error does not start with '%s': %s", who, what, prefix, err);
  } else if (needle && strstr(err, needle) == NULL) {
    CASE_FAIL("nsr %s %s: the error does not name '%s': %s", who, what, needle, err);
  }
  run_free(&r);
}

/* All checks of one command or subcommand: words[0..n) is its name. */
static void check_command(const char *const *words, size_t n, name_list *subs) {
  if (subs) subs->n = 0;
  char who[128] = "";
  for (size_t i = 0; i < n; i++) {
    size_t used = strlen(who);
    snprintf(who + used, sizeof who - used, "%s%s", i ? " " : "", words[i]);
  }
  const char *args[MAX_ARGS + 2];
  for (size_t i = 0; i < n; i++) args[i] = words[i];

  args[n] = "--help";
  run_result help = run_words(args, n + 1);
  if (help.status != 0 || help.out == NULL || strstr(help.out, "Exit status") == NULL) {
    CASE_FAIL("nsr %s --help: exit %d, or no exit statuses listed", who, help.status);
    run_free(&help);
    return;
  }
  name_list opts;
  section_names(help.out, "\nOptions:", true, &opts);
  if (subs) section_names(help.out, "\nSubcommands:", false, subs);

  args[n] = "--no-such-option";
  check_usage_error(run_words(args, n + 1), who, "--no-such-option", "--no-such-option");

  for (size_t i = 0; i < opts.n; i++) {
    if (opts.values[i][0] == '\0') continue; /* a flag */
    args[n] = opts.names[i];
    char what[160];
    snprintf(what, sizeof what, "%s (no value)", opts.names[i]);
    check_usage_error(run_words(args, n + 1), who, opts.names[i], what);
    const char *bad = NULL;
    if (strchr(opts.values[i], '|')) bad = "no-such-choice";
    else if (numeric_value(opts.values[i], opts.help[i])) bad = "not-a-number";
    if (bad == NULL) continue;
    const char *generated = generated_part(opts.help[i]);
    if (generated[0] == '\0' && strchr(opts.values[i], '|') == NULL) {
      CASE_FAIL("nsr %s --help: %s shows no default", who, opts.names[i]);
    }
    args[n] = opts.names[i];
    args[n + 1] = bad;
    snprintf(what, sizeof what, "%s %s", opts.names[i], bad);
    check_usage_error(run_words(args, n + 2), who, opts.names[i], what);
  }
  run_free(&help);
}

static void test_every_command_keeps_the_contract(void **state) {
  (void)state;
  run_result top = RUN("help");
  assert_int_equal(top.status, 0);
  name_list commands;
  section_names(top.out, "\nCommands:", false, &commands);
  run_free(&top);
  assert_true(commands.n >= 10);
  size_t checked = 0;
  for (size_t c = 0; c < commands.n; c++) {
    if (strcmp(commands.names[c], "help") == 0) continue;
    const char *words[2] = {commands.names[c], NULL};
    name_list subs;
    check_command(words, 1, &subs);
    checked++;
    for (size_t s = 0; s < subs.n; s++) {
      words[1] = subs.names[s];
      check_command(words, 2, NULL);
      checked++;
    }
  }
  print_message("%zu commands and subcommands checked, %d failing cases\n", checked, failures);
  assert_int_equal(failures, 0);
}

static void test_unknown_command_and_subcommand(void **state) {
  (void)state;
  check_usage_error(RUN("no-such-command"), "", NULL, "an unknown command");
  assert_int_equal(failures, 0);
}

int main(int argc, char **argv) {
  if (argc < 2 || cli_runner_init(argv[1]) != 0) {
    fprintf(stderr, "usage: test_cli_options NSR_BINARY\n");
    return 2;
  }
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_every_command_keeps_the_contract),
      cmocka_unit_test(test_unknown_command_and_subcommand),
  };
  return cli_runner_finish(cmocka_run_group_tests(tests, NULL, NULL));
}
