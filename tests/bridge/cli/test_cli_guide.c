/* test_cli_guide.c: the guide options of `nsr numbers mh` (--guide,
 * --method, --guide-mix) and `nsr propose --space`, as a user runs them.
 * Arguments: the nsr binary and the source tree's bridge/models folder. */
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

#include "cli_runner.h"

static const char *models_dir;

/* A space small enough to solve by hand (test_cli_spaces.c derives it):
 * even, odd and multiples of 3 over 1..12, with union (weight 1/2) up to 3
 * symbols. For X = {6} five grammar hypotheses contain 6: multiples of 3
 * (posterior 9/23), even (6/23), even ∪ m3 and odd ∪ m3 (3/23 each) and
 * even ∪ odd (2/23); p(3 ∈ C | X) = 17/23, p(1 ∈ C | X) = 5/23,
 * p(X | grammar) = (23/24)/7.5. */
static const char tiny[] =
    "{\"range\": 12, \"max_size\": 3, \"primitives\": [{\"family\": \"even\"}, {\"family\": \"odd\"},"
    " {\"family\": \"multiples\", \"args\": [3]}], \"operations\": [{\"family\": \"union\", \"weight\": 0.5}]}";

/* Runs `nsr ARGS` in the work directory; it must exit 0. Returns its stdout
 * as JSON (the caller decrefs). */
static json_t *run_json(const char *args) {
  run_result r = run_line(NULL, args, NULL);
  if (r.status != 0) fail_msg("nsr %s: status %d (%s)", args, r.status, r.err);
  json_t *root = parse_json(r.out);
  run_free(&r);
  return root;
}

static double number_at(const json_t *obj, const char *key) {
  const json_t *v = json_object_get(obj, key);
  if (!json_is_number(v)) fail_msg("'%s' is not a number", key);
  return json_number_value(v);
}

/* Runs `nsr ARGS` and expects a usage error (status 2, one line) naming `needle`. */
static void expect_bad(const char *args, const char *needle) {
  expect_usage_error(run_line(NULL, args, NULL), needle);
}

/* The shipped guide of large.json, as an absolute path. */
static const char *large_guide(void) {
  static char path[4200];
  snprintf(path, sizeof path, "%s/guide-large.safetensors", models_dir);
  return path;
}

/* Unguided importance sampling draws trees from the grammar's prior, so a
 * tree's weight is its likelihood L(t) = 1/|h| ≤ 1/4 here, and E_q[L] =
 * p(X | grammar) = 23/180. The self-normalised estimate of p(y ∈ C | X) has
 * variance ≈ E_q[w² (f − μ)²] / (N E_q[w]²) ≤ max w / (N E_q[w]) =
 * (1/4)/(23/180) / N ≈ 1.96 / N: sd ≤ 0.0022 at N = 400,000, so 0.012
 * is more than 5 sd. */
static void test_mh_methods_json(void **state) {
  (void)state;
  cli_write("tiny.json", tiny);
  json_t *root = run_json("numbers mh --json --exact --space tiny.json --guide none --method importance "
                          "--samples 400000 --seed 5 6");
  assert_string_equal(json_string_value(json_object_get(root, "method")), "importance");
  assert_true(json_is_null(json_object_get(root, "guide")));
  json_t *g = json_object_get(root, "generalization"), *mh = json_object_get(root, "mh");
  assert_true(fabs(json_number_value(json_array_get(g, 2)) - 17.0 / 23) < 0.012);
  assert_true(fabs(json_number_value(json_array_get(g, 0)) - 5.0 / 23) < 0.012);
  assert_true(number_at(json_object_get(root, "exact"), "max_abs_diff") < 0.012);
  /* ESS = (Σw)²/Σw² ≥ N·E[w]²/E[w²] ≥ N·(23/180)/(1/4), about 0.51 N, and ≤ N. */
  double ess = number_at(mh, "ess");
  assert_true(ess > 0.45 * 400000 && ess <= 400000);
  assert_true(number_at(mh, "seconds") >= 0);
  assert_null(json_object_get(mh, "guide_mix"));
  json_decref(root);
  /* The chain, unguided: the old keys, method "mh", no importance figures.
   * No shipped guide is named guide-tiny, so the default is none too. */
  root = run_json("numbers mh --json --space tiny.json --samples 2000 6");
  assert_string_equal(json_string_value(json_object_get(root, "method")), "mh");
  assert_true(json_is_null(json_object_get(root, "guide")));
  mh = json_object_get(root, "mh");
  assert_non_null(json_object_get(mh, "acceptance"));
  assert_non_null(json_object_get(mh, "seconds"));
  assert_null(json_object_get(mh, "ess"));
  json_decref(root);
  run_result r = run_line(NULL, "numbers mh --space tiny.json --method importance --samples 2000 6", NULL);
  EXPECT_RUN_ALL(r, 0, "guide: none", "importance sampling from the grammar's prior", "effective sample size");
}

/* Option errors and guides that must be refused. */
static void test_mh_guide_errors(void **state) {
  (void)state;
  cli_write("tiny.json", tiny);
  char args[4400];
  expect_bad("numbers mh --space tiny.json --method gibbs 6", "--method");
  expect_bad("numbers mh --space tiny.json --guide-mix 1.5 6", "--guide-mix");
  expect_bad("numbers mh --space tiny.json --guide-mix 0 6", "--guide-mix");
  expect_bad("numbers mh --space tiny.json --guide none --guide-mix 0.3 6", "--guide-mix needs");
  expect_bad("numbers mh --space tiny.json --guide missing.safetensors 6", "missing.safetensors");
  cli_write("junk.safetensors", "not a checkpoint");
  expect_bad("numbers mh --space tiny.json --guide junk.safetensors 6", "--guide");
  /* A checkpoint that is not a guide: the shipped proposal model. */
  snprintf(args, sizeof args, "numbers mh --space tiny.json --guide '%s/propose-n100.safetensors' 6", models_dir);
  expect_bad(args, "--guide");
  /* A guide of another space, given or found by the space file's name. */
  snprintf(args, sizeof args, "numbers mh --space tiny.json --guide '%s' 6", large_guide());
  expect_bad(args, "large");
  cli_write("large.json", tiny);
  expect_bad("numbers mh --space large.json 6", "guide-large");
  json_t *root = run_json("numbers mh --json --space large.json --guide none --samples 1000 6");
  assert_true(json_is_null(json_object_get(root, "guide")));
  json_decref(root);
  expect_run(run_line(NULL, "numbers mh --help", NULL), 0, "--guide-mix");
}

/* Proposals drawn from the grammar's prior (--guide none) on the tiny space,
 * rescored exactly: every one of the five consistent hypotheses is drawn
 * (the rarest tree has prior at least 1/30: missed in 200,000 draws with
 * probability below 1e-2000), so they cover all the posterior mass and the
 * restricted posterior is the posterior. The weights are the importance
 * estimate of the same posterior: sd ≤ sqrt(1.96 / 200,000) = 0.0031 (see
 * above), so 0.0125 is 4 sd. */
static void test_propose_space(void **state) {
  (void)state;
  cli_write("tiny.json", tiny);
  json_t *root = run_json("propose --json --space tiny.json --guide none --draws 200000 --seed 2 --top 8 6");
  assert_string_equal(json_string_value(json_object_get(root, "rescored")), "exact");
  assert_true(json_is_null(json_object_get(root, "guide")));
  assert_int_equal((int)number_at(root, "distinct"), 5);
  assert_true(fabs(number_at(root, "covered") - 1.0) < 1e-9);
  json_t *props = json_object_get(root, "proposals");
  assert_int_equal(json_array_size(props), 5);
  json_t *first = json_array_get(props, 0);
  assert_string_equal(json_string_value(json_object_get(first, "name")), "multiples of 3");
  assert_int_equal((int)number_at(first, "size"), 4);
  assert_true(fabs(number_at(first, "posterior") - 9.0 / 23) < 1e-9);
  assert_true(fabs(number_at(first, "restricted") - 9.0 / 23) < 1e-9);
  assert_true(fabs(number_at(first, "weight") - 9.0 / 23) < 0.0125);
  double total = 0;
  for (size_t i = 0; i < json_array_size(props); i++) total += number_at(json_array_get(props, i), "posterior");
  assert_true(fabs(total - 1.0) < 1e-9);
  json_decref(root);
  /* A space that is not enumerated: importance weights only. */
  cli_write("lazy.json", "{\"enumerate\": false, \"range\": 12, \"primitives\": [{\"family\": \"even\"}]}");
  root = run_json("propose --json --space lazy.json --guide none --draws 1000 4");
  assert_string_equal(json_string_value(json_object_get(root, "rescored")), "importance");
  assert_null(json_object_get(root, "covered"));
  first = json_array_get(json_object_get(root, "proposals"), 0);
  assert_string_equal(json_string_value(json_object_get(first, "name")), "even");
  assert_null(json_object_get(first, "posterior"));
  assert_true(fabs(number_at(first, "weight") - 1.0) < 1e-12); /* the only hypothesis */
  json_decref(root);
  EXPECT_RUN_ALL(run_line(NULL, "propose --space tiny.json --guide none --top 2 6", NULL), 0, "multiples of 3",
                 "cover 1.0000");
}

static void test_propose_space_errors(void **state) {
  (void)state;
  cli_write("tiny.json", tiny);
  char args[4400];
  expect_bad("propose --space tiny.json --guide none 13", "13");
  expect_bad("propose --space tiny.json --guide none 1,2,3,4,5,6,7", "more than 6");
  expect_bad("propose --space tiny.json --guide none --draws 0 6", "--draws");
  expect_bad("propose --guide none 16 8", "need --space");
  expect_bad("propose --draws 10 16 8", "need --space");
  snprintf(args, sizeof args, "propose --space tiny.json --weights '%s/propose-n100.safetensors' 6", models_dir);
  expect_bad(args, "not with --space");
  snprintf(args, sizeof args, "propose --space tiny.json --guide '%s' 6", large_guide());
  expect_bad(args, "large");
  expect_bad("propose --space missing.json 6", "missing.json");
  expect_bad("propose --space tiny.json --guide none", "missing arguments");
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: test_cli_guide NSR_BINARY MODELS_DIR\n");
    return 2;
  }
  static char bin[4096], dir[4096];
  if (!realpath(argv[1], bin) || !realpath(argv[2], dir)) return 2; /* the tests cd */
  models_dir = dir;
  if (cli_runner_init(bin) != 0) return 1;
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_mh_methods_json),
      cmocka_unit_test(test_mh_guide_errors),
      cmocka_unit_test(test_propose_space),
      cmocka_unit_test(test_propose_space_errors),
  };
  return cli_runner_finish(cmocka_run_group_tests(tests, NULL, NULL));
}
