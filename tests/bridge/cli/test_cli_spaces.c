/* test_cli_spaces.c: `nsr numbers eval`, `nsr numbers fit` and
 * `nsr numbers --space/--prior-file` as a user runs them: real processes,
 * exit statuses, one-line messages, JSON read back with jansson. Arguments:
 * the nsr binary, then the source tree's programs/spaces folder. */
#define _XOPEN_SOURCE 700 /* realpath */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli_runner.h"
#include "nsr_test_util.h"

static const char *spaces_dir;

/* Runs `nsr ARGS` in the work directory into *o, freeing what it held. */
static void run(run_result *o, const char *args) {
  run_free(o);
  *o = run_line(NULL, args, NULL);
}

/* Runs `nsr ARGS` and checks its exit status and, when `needle` is not
 * NULL, that stdout (status 0) or stderr (otherwise) contains it. */
static void expect(run_result *o, const char *args, int status, const char *needle) {
  run(o, args);
  if (o->status != status) fail_msg("nsr %s: status %d, want %d (%s)", args, o->status, status, o->err);
  const char *text = status == 0 ? o->out : o->err;
  if (needle && strstr(text, needle) == NULL) fail_msg("nsr %s: '%s' lacks '%s'", args, text, needle);
}

static double json_number_at(const char *text, const char *key) {
  json_t *root = parse_json(text);
  json_t *v = json_object_get(root, key);
  double d = json_is_number(v) ? json_number_value(v) : NAN;
  json_decref(root);
  return d;
}

/* A run's texts, for tests that make several runs in turn. */
static run_result *new_outcome(void) {
  run_result *o = calloc(1, sizeof *o);
  assert_non_null(o);
  return o;
}

static void outcome_free(run_result *o) {
  run_free(o);
  free(o);
}

static void test_eval_reference_figures(void **state) {
  (void)state;
  run_result *o = new_outcome();
  char args[2048];
  snprintf(args, sizeof args, "numbers eval --json --data '%s'", test_data_path("tenenbaum_generalization.csv"));
  expect(o, args, 0, NULL);
  double r = json_number_at(o->out, "r");
  if (fabs(r - 0.948) > 0.0005) fail_msg("Tenenbaum r = %g, the data README says 0.948", r);
  snprintf(args, sizeof args, "numbers eval --json --data '%s' --plot scatter.svg", test_data_path("bigelow_piantadosi_2016.csv"));
  expect(o, args, 0, NULL);
  r = json_number_at(o->out, "r");
  if (fabs(r - 0.58) > 0.005) fail_msg("B&P r = %g, the data README says 0.58", r);
  assert_int_equal((int)json_number_at(o->out, "cells"), 25499); /* one cell is missing */
  char svg[300];
  snprintf(svg, sizeof svg, "%s/scatter.svg", cli_workdir);
  assert_int_equal(access(svg, R_OK), 0);
  outcome_free(o);
}

static void test_eval_input_errors(void **state) {
  (void)state;
  static const struct { const char *file, *text, *message; } cases[] = {
      {"empty.csv", "", "empty.csv: empty file"},
      {"cols.csv", "set_id,examples,p_yes\n1,16,0.5\n", "cols.csv:1: missing column 'probe'"},
      {"nan.csv", "set_id,examples,probe,p_yes\n1,16,2,zero\n", "nan.csv:2: p_yes 'zero'"},
      {"range.csv", "set_id,examples,probe,p_yes\n1,16,2,0.5\n1,16,250,0.5\n", "range.csv:3: target '250'"},
  };
  run_result *o = new_outcome();
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    cli_write(cases[i].file, cases[i].text);
    char args[512];
    snprintf(args, sizeof args, "numbers eval --data %s", cases[i].file);
    expect(o, args, 2, NULL);
    if (strstr(o->err, cases[i].message) == NULL) fail_msg("'%s' lacks '%s'", o->err, cases[i].message);
    size_t lines = 0;
    for (const char *c = o->err; *c; c++) lines += *c == '\n';
    assert_int_equal(lines, 1); /* one line */
  }
  expect(o, "numbers eval --data missing.csv", 2, NULL);
  expect(o, "numbers eval", 2, "--data CSV is required");
  expect(o, "numbers eval --data x.csv --split train", 2, NULL);
  expect(o, "numbers eval --help", 0, "Usage: nsr numbers eval");
  expect(o, "numbers fit --help", 0, "Usage: nsr numbers fit");
  expect(o, "numbers fit --data missing.csv --out p.json", 2, "missing.csv");
  outcome_free(o);
}

/* The "prior" object of `nsr numbers --json` output names the model used:
 * its kind and its file. */
static void expect_prior(const char *json, const char *name, const char *file) {
  json_t *root = parse_json(json);
  json_t *prior = json_object_get(root, "prior");
  assert_string_equal(json_string_value(json_object_get(prior, "name")), name);
  const char *got = json_string_value(json_object_get(prior, "file"));
  if (got == NULL || strstr(got, file) == NULL) fail_msg("prior file '%s', want '%s'", got ? got : "(none)", file);
  json_decref(root);
}

/* A few cells of B&P's layout in small.csv: dev sets {16, 8} and {13}, a
 * test set {30}. */
static void write_small_data(void) {
  cli_write("small.csv",
             "split,set,n_examples,target,yes,no,n,p_yes\n"
             "dev,16 8,2,2,7,3,10,0.7\ndev,16 8,2,4,9,1,10,0.9\ndev,16 8,2,5,1,9,10,0.1\n"
             "dev,16 8,2,32,8,2,10,0.8\ndev,13,1,3,6,4,10,0.6\ndev,13,1,23,8,2,10,0.8\n"
             "dev,13,1,90,1,9,10,0.1\ntest,30,1,60,7,3,10,0.7\n");
}

/* A fit on a slice of dev, then the prior file alone reproduces the fitted
 * model: eval with it gives the training log-likelihood the fit reported. */
static void test_fit_then_prior_file(void **state) {
  (void)state;
  run_result *o = new_outcome();
  write_small_data();
  char args[1024];
  snprintf(args, sizeof args, "numbers fit --json --data small.csv --space '%s/tenenbaum.json' --out prior.json",
           spaces_dir);
  run(o, args);
  if (o->status != 0) fail_msg("fit failed: %s", o->err);
  double fit_ll = json_number_at(o->out, "log_lik");
  expect(o, "numbers eval --json --data small.csv --split dev --prior-file prior.json", 0, NULL);
  double eval_ll = json_number_at(o->out, "log_likelihood");
  if (!(fabs(eval_ll - fit_ll) < 1e-6 * fabs(fit_ll))) fail_msg("eval LL %g, fit LL %g", eval_ll, fit_ll);
  expect(o, "numbers 16 8 2 64 --json --top 1 --prior-file prior.json", 0, "\"powers of 2\"");
  assert_non_null(strstr(o->out, "\"space\""));
  expect_prior(o->out, "fitted", "prior.json");
  expect(o, "numbers 16 8 2 64 --top 1 --prior-file prior.json", 0, "range 1..100   fitted prior prior.json (lambda ");
  /* The same with a fitted similarity hypothesis, which the prior file keeps. */
  snprintf(args, sizeof args,
           "numbers fit --json --sim-hypothesis --data small.csv --space '%s/tenenbaum.json' --out sim.json", spaces_dir);
  run(o, args);
  if (o->status != 0) fail_msg("fit failed: %s", o->err);
  fit_ll = json_number_at(o->out, "log_lik");
  expect(o, "numbers eval --json --data small.csv --split dev --prior-file sim.json", 0, NULL);
  eval_ll = json_number_at(o->out, "log_likelihood");
  if (!(fabs(eval_ll - fit_ll) < 1e-6 * fabs(fit_ll))) fail_msg("eval LL %g, fit LL %g (similarity)", eval_ll, fit_ll);
  expect(o, "numbers 13 --top 200 --prior-file sim.json", 0, "similar to the examples");
  expect(o, "numbers 16 --prior-file prior.json --range 1..50", 2, NULL);
  expect(o, "numbers 16 --prior-file prior.json --space prior.json", 2, NULL);
  /* Cross-validation over the size bound and the prior's strength: the
   * table has one row per pair and the prior file records the choice. */
  snprintf(args, sizeof args,
           "numbers fit --data small.csv --space '%s/lot.json' --folds 2 --max-size 1,2 --weight-sd 0.5,1 "
           "--iterations 10 --out cv.json", spaces_dir);
  expect(o, args, 0, "chosen: max-size");
  char path[400];
  snprintf(path, sizeof path, "%s/cv.json", cli_workdir);
  json_error_t e;
  json_t *prior = json_load_file(path, 0, &e);
  assert_non_null(prior);
  json_t *cv = json_object_get(json_object_get(prior, "fit"), "cross_validation");
  assert_int_equal(json_array_size(json_object_get(cv, "grid")), 4);
  assert_int_equal(json_integer_value(json_object_get(cv, "chosen_max_size")),
                   json_integer_value(json_object_get(json_object_get(prior, "space"), "max_size")));
  json_decref(prior);
  expect(o, "numbers fit --data small.csv --space x.json --max-size 1,2 --out p.json", 2, "need --folds K");
  snprintf(args, sizeof args, "numbers fit --data small.csv --split test --space '%s/lot.json' --out p.json",
           spaces_dir);
  expect(o, args, 2, "fit on --split dev only");
  cli_write("broken.json", "{\"format\":\"nsr-prior/1\",\"space\":3}");
  expect(o, "numbers 16 --prior-file broken.json", 2, "broken.json");
  outcome_free(o);
}

/* `numbers fit` without --space fits the model of `nsr numbers`:
 * Tenenbaum's rules as a space whose lambda is pmtk3's rule mass (the
 * value in programs/spaces/tenenbaum.json), and its prior file works. */
static void test_fit_default_model(void **state) {
  (void)state;
  run_result *o = new_outcome();
  write_small_data();
  expect(o, "numbers fit --data small.csv --iterations 20 --out default.json", 0, "fitted tenenbaum on small.csv");
  char path[400];
  snprintf(path, sizeof path, "%s/default.json", cli_workdir);
  json_error_t e;
  json_t *prior = json_load_file(path, 0, &e);
  assert_non_null(prior);
  json_t *space = json_object_get(prior, "space");
  assert_true(fabs(json_number_value(json_object_get(space, "lambda")) - 0.45661839554726136) < 1e-12);
  assert_int_equal(json_array_size(json_object_get(space, "primitives")), 8);
  json_decref(prior);
  expect(o, "numbers 16 8 2 64 --json --prior-file default.json", 0, NULL);
  expect_prior(o->out, "fitted", "default.json");
  outcome_free(o);
}

static void test_space_option(void **state) {
  (void)state;
  run_result *o = new_outcome();
  char args[1024];
  snprintf(args, sizeof args, "numbers 16 8 2 64 --top 3 --space '%s/lot.json'", spaces_dir);
  expect(o, args, 0, "grammar hypotheses");
  assert_non_null(strstr(o->out, "powers of 2"));
  /* Every report names the space file, never Tenenbaum's "prior mixture". */
  assert_non_null(strstr(o->out, "range 1..100   prior of space "));
  assert_null(strstr(o->out, "prior mixture"));
  snprintf(args, sizeof args, "numbers 16 8 2 64 --json --top 3 --space '%s/lot.json' --plot lot.svg", spaces_dir);
  expect(o, args, 0, NULL);
  expect_prior(o->out, "space", "lot.json");
  char path[400];
  snprintf(path, sizeof path, "%s/lot.svg", cli_workdir);
  char *svg = slurp(path);
  assert_non_null(strstr(svg, "prior of space "));
  assert_non_null(strstr(svg, "lot.json (lambda 0.5, sigma 10)</text>"));
  assert_null(strstr(svg, "prior mixture"));
  free(svg);
  cli_write("bad_space.json", "{\"primitives\":[{\"family\":\"evens\"}]}");
  expect(o, "numbers 16 --space bad_space.json", 2, "bad_space.json");
  assert_non_null(strstr(o->err, "unknown primitive family 'evens'"));
  outcome_free(o);
}

/* `nsr numbers mh` on a space small enough to solve by hand: even, odd and
 * multiples of 3 over 1..12, with union (weight 1/2) up to 3 symbols. Every
 * tree's prior is the product of its weights; union(A, A) = A, and both
 * operand orders count, so π(even) = π(odd) = π(mult 3) = 1 + 1/2 and
 * π(even ∪ odd) = π(even ∪ m3) = π(odd ∪ m3) = 2 · 1/2 = 1. For X = {6}
 * the consistent hypotheses and π/|h| are: even 1.5/6, multiples of 3
 * 1.5/4, even ∪ odd 1/12, even ∪ m3 1/8, odd ∪ m3 1/8 (sum 23/24), so
 * p(multiples of 3 | X) = 9/23, p(3 ∈ C | X) = (9 + 2 + 3 + 3)/23 = 17/23
 * and p(1 ∈ C | X) = (2 + 3)/23 = 5/23; Z_G = 3 · 1.5 + 3 · 1 = 7.5, so
 * p(X | grammar) = (23/24)/7.5. Tolerance: over 20 seeds with
 * 400,000 samples the largest error of any p(y ∈ C | X) was 0.0035 (about
 * 5 times the independent-sample standard error: autocorrelation), so
 * 0.015 fails only a broken sampler. */
static void test_mh_command(void **state) {
  (void)state;
  run_result *o = new_outcome();
  cli_write("tiny.json", "{\"range\": 12, \"max_size\": 3, \"primitives\": [{\"family\": \"even\"},"
                          " {\"family\": \"odd\"}, {\"family\": \"multiples\", \"args\": [3]}],"
                          " \"operations\": [{\"family\": \"union\", \"weight\": 0.5}]}");
  expect(o, "numbers mh --json --exact --space tiny.json --samples 400000 --seed 3 6", 0, NULL);
  json_error_t e;
  json_t *root = json_loads(o->out, 0, &e);
  if (root == NULL) fail_msg("not JSON (%s): %.200s", e.text, o->out);
  json_t *g = json_object_get(root, "generalization"), *top = json_object_get(root, "hypotheses");
  assert_int_equal(json_array_size(g), 12);
  assert_true(fabs(json_number_value(json_array_get(g, 2)) - 17.0 / 23) < 0.015);
  assert_true(fabs(json_number_value(json_array_get(g, 0)) - 5.0 / 23) < 0.015);
  assert_true(fabs(json_number_value(json_array_get(g, 5)) - 1.0) < 1e-12); /* the example itself */
  assert_int_equal(json_array_size(top), 5); /* every consistent hypothesis was visited */
  assert_string_equal(json_string_value(json_object_get(json_array_get(top, 0), "name")), "multiples of 3");
  assert_true(fabs(json_number_value(json_object_get(json_array_get(top, 0), "posterior")) - 9.0 / 23) < 0.015);
  json_t *exact = json_object_get(root, "exact"), *mh = json_object_get(root, "mh");
  assert_int_equal(json_integer_value(json_object_get(exact, "consistent")), 5);
  assert_true(json_number_value(json_object_get(exact, "max_abs_diff")) < 0.015);
  assert_true(fabs(json_number_value(json_object_get(exact, "log_evidence")) - log(23.0 / 24 / 7.5)) < 1e-9);
  assert_true(json_number_value(json_object_get(mh, "samples_per_second")) > 0);
  json_decref(root);
  /* Text output, the same space without enumeration, and bad input. */
  expect(o, "numbers mh --space tiny.json --samples 1000 --top 2 6", 0, "steps/s");
  assert_non_null(strstr(o->out, "multiples of 3"));
  cli_write("lazy.json", "{\"enumerate\": false, \"range\": 12, \"primitives\": [{\"family\": \"even\"}]}");
  expect(o, "numbers mh --space lazy.json --samples 1000 4", 0, "even");
  expect(o, "numbers mh --space lazy.json --samples 1000 --exact 4", 2, "not enumerated");
  expect(o, "numbers mh --space lazy.json 3", 2, "contains every example");
  /* Sampling never enumerates the space (only --exact does): tiny.json
   * with room for 2 extensions samples, and fails only under --exact. */
  cli_write("cramped.json", "{\"range\": 12, \"max_size\": 3, \"max_extensions\": 2, \"primitives\":"
                            " [{\"family\": \"even\"}, {\"family\": \"odd\"}, {\"family\": \"multiples\","
                            " \"args\": [3]}], \"operations\": [{\"family\": \"union\", \"weight\": 0.5}]}");
  expect(o, "numbers mh --space cramped.json --samples 1000 --top 2 6", 0, "multiples of 3");
  expect(o, "numbers mh --space cramped.json --samples 1000 --exact 6", 1, "max_extensions");
  expect(o, "numbers mh --space tiny.json 13", 2, "examples: 13 is outside");
  expect(o, "numbers mh --space tiny.json six", 2, "examples");
  expect(o, "numbers mh --space tiny.json", 2, "no examples given");
  /* Without a space: the model of `nsr numbers`, Tenenbaum's rules. */
  expect(o, "numbers mh --json --top 1 --samples 1000 16 8 2 64", 0, "\"powers of 2\"");
  assert_non_null(strstr(o->out, "\"space\":\"tenenbaum\""));
  expect(o, "numbers mh --space tiny.json --samples 0 6", 2, "--samples");
  expect(o, "numbers mh --space tiny.json --samples", 2, "needs a value");
  expect(o, "numbers mh --space tiny.json --bogus 6", 2, "unknown option '--bogus'");
  expect(o, "numbers mh --space missing.json 6", 2, "missing.json");
  expect(o, "numbers mh --help", 0, "Usage: nsr numbers mh");
  outcome_free(o);
}

/* Issue 19, the "out of memory" family: a space file whose name is not
 * UTF-8 (Latin-1 "é") shows in the JSON answer as U+FFFD, in single runs and
 * batches, instead of every answer failing as "out of memory". */
static void test_space_path_not_utf8(void **state) {
  (void)state;
  char cmd[4400];
  snprintf(cmd, sizeof cmd, "cd '%s' && cp '%s/tenenbaum.json' \"$(printf 'caf\\351.json')\"", cli_workdir, spaces_dir);
  assert_int_equal(system(cmd), 0);
  cli_write("sets.txt", "16 8 2 64\n3 9\n");
  run_result *o = new_outcome();
  expect(o, "numbers 16 8 --json --space \"$(printf 'caf\\351.json')\"", 0, "\"file\":\"caf\xef\xbf\xbd.json\"");
  expect(o, "numbers --batch sets.txt --top 1 --space \"$(printf 'caf\\351.json')\"", 0, "\"file\":\"caf\xef\xbf\xbd.json\"");
  assert_int_equal(strchr(strchr(o->out, '\n') + 1, '\n')[1], '\0'); /* two answers */
  outcome_free(o);
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: test_cli_spaces NSR_BINARY SPACES_DIR\n");
    return 2;
  }
  static char bin[4096], dir[4096];
  if (!realpath(argv[1], bin) || !realpath(argv[2], dir)) return 2; /* the tests cd */
  spaces_dir = dir;
  if (cli_runner_init(bin) != 0) return 1;
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_eval_reference_figures),
      cmocka_unit_test(test_eval_input_errors),
      cmocka_unit_test(test_fit_then_prior_file),
      cmocka_unit_test(test_space_option),
      cmocka_unit_test(test_fit_default_model),
      cmocka_unit_test(test_mh_command),
      cmocka_unit_test(test_space_path_not_utf8),
  };
  return cli_runner_finish(cmocka_run_group_tests(tests, NULL, NULL));
}
