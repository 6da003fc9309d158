/* test_cli_extract.c: `nsr extract` and `nsr rules --weights` as a user runs
 * them: a proposal model trained here on the number game, saved to a real
 * checkpoint, extracted into a real SQLite file; the shipped model; the
 * domain read from the config; and every bad input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli_runner.h"
#include "sha256.h"
#include "tiny_model.h"

static char weights[300], wide[300], n50[300], db[300], guide[300];
static char space_a[300], space_b[300];

/* Two spaces over 1..30 that differ in one primitive (squares, cubes):
 * same range and production count, other signatures. */
#define SPACE_JSON(third)                                                                         "{\"range\": 30, \"max_size\": 3, \"lambda\": 0.7, \"sigma\": 10, \"primitives\": ["      "{\"family\": \"even\"}, {\"family\": \"odd\"}, {\"family\": \"" third "\"},"            "{\"family\": \"primes\"}, {\"family\": \"multiples\", \"args\": [3, 5]},"                "{\"family\": \"ends_in\", \"args\": [1, 5]}], \"operations\": ["                         "{\"family\": \"union\", \"weight\": 0.3}, {\"family\": \"intersection\", \"weight\": 0.3}]}"

/* A random guide for the space in `path`, saved to `out`. */
static int make_guide(const char *path, const char *out) {
  nsr_space *space = NULL;
  nsr_nn_model *m = NULL;
  nsr_error err;
  nsr_nn_config cfg;
  int rc = nsr_space_load(path, false, &space, &err) == NSR_OK ? 0 : 1;
  if (rc == 0) nsr_guide_config(space, 16, 1, &cfg);
  if (rc == 0 && nsr_nn_create(&cfg, &m, &err) != NSR_OK) rc = 1;
  if (rc == 0) nsr_nn_init_params(m, 7);
  if (rc == 0 && nsr_guide_save(m, space, "a.json", out, &err) != NSR_OK) rc = 1;
  nsr_nn_free(m);
  nsr_space_free(space);
  return rc;
}

static int64_t query_int(sqlite3 *conn, const char *sql) {
  sqlite3_stmt *st;
  assert_int_equal(sqlite3_prepare_v2(conn, sql, -1, &st, NULL), SQLITE_OK);
  assert_int_equal(sqlite3_step(st), SQLITE_ROW);
  int64_t v = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  return v;
}

/* Every number in o (recursively) is finite, and no value is null: the
 * JSON has no NaN and no missing measurement. */
static void assert_no_null(json_t *o) {
  const char *key;
  json_t *v;
  size_t i;
  if (json_is_object(o)) {
    json_object_foreach(o, key, v) {
      if (json_is_null(v)) fail_msg("\"%s\" is null", key);
      assert_no_null(v);
    }
  } else if (json_is_array(o)) {
    json_array_foreach(o, i, v) assert_no_null(v);
  } else if (json_is_real(o)) {
    assert_true(isfinite(json_real_value(o)));
  }
}

/* The cart_tree's three shares, each a number in [0, 1]. */
static void assert_tree_shares(json_t *o) {
  json_t *tree = json_object_get(o, "cart_tree");
  const char *keys[] = {"fidelity", "accuracy", "completeness"};
  for (int k = 0; k < 3; k++) {
    json_t *v = json_object_get(tree, keys[k]);
    assert_true(json_is_number(v));
    assert_true(json_number_value(v) >= 0 && json_number_value(v) <= 1);
  }
  assert_float_equal(json_number_value(json_object_get(tree, "completeness")), 1.0, 1e-9);
}

static void test_extract_trained_model(void **state) {
  (void)state;
  run_result r = RUN("extract", "--weights", weights, "--db", db, "--json", "--sets", "200",
                     "--seed", "3");
  if (r.status != 0) fail_msg("%s", r.err);
  json_t *o = parse_json(r.out);
  assert_no_null(o);
  assert_tree_shares(o);
  json_t *inputs = json_object_get(o, "inputs");
  assert_int_equal(json_integer_value(json_object_get(inputs, "sets")), 200);
  assert_int_equal(json_integer_value(json_object_get(inputs, "seed")), 3);
  assert_string_equal(json_string_value(json_object_get(inputs, "split")), "heldout");
  json_t *rules = json_object_get(o, "rules");
  int64_t align = json_integer_value(json_object_get(rules, "alignment"));
  int64_t probe = json_integer_value(json_object_get(rules, "probe"));
  int64_t cart = json_integer_value(json_object_get(rules, "cart"));
  assert_true(align > 0 && probe > 0 && cart > 0);
  /* N = 12 from the config, not vocab - 1 = 18 (the count tokens). */
  assert_int_equal(json_integer_value(json_array_get(json_object_get(o, "domain"), 1)), 12);
  assert_string_equal(json_string_value(json_object_get(o, "layout")), "space");
  char sha[NSR_SHA256_HEX];
  nsr_error err;
  assert_int_equal(nsr_sha256_file(weights, sha, &err), NSR_OK);
  assert_string_equal(json_string_value(json_object_get(json_object_get(o, "model"), "sha256")), sha);
  json_decref(o);
  run_free(&r);

  sqlite3 *conn;
  assert_int_equal(sqlite3_open_v2(db, &conn, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
  char sql[400];
  snprintf(sql, sizeof sql, "SELECT count(*) FROM models WHERE sha256 = '%s'", sha);
  assert_int_equal(query_int(conn, sql), 1);
  assert_int_equal(query_int(conn, "SELECT count(*) FROM rules WHERE method = 'alignment'"), align);
  assert_int_equal(query_int(conn, "SELECT count(*) FROM rules WHERE method = 'probe'"), probe);
  assert_int_equal(query_int(conn, "SELECT count(*) FROM rules WHERE method = 'cart'"), cart);
  /* Every alignment and probe rule names its concept in Church; stored
   * fidelities are shares of the 200 sets, each with its Wilson interval. */
  assert_int_equal(query_int(conn, "SELECT count(*) FROM rules WHERE method != 'cart' AND church IS NULL"), 0);
  assert_int_equal(query_int(conn, "SELECT count(*) FROM rules WHERE method = 'alignment'"
                                   " AND abs(fidelity * 200 - round(fidelity * 200)) > 1e-9"), 0);
  assert_int_equal(query_int(conn, "SELECT count(*) FROM rules WHERE method = 'probe'"
                                   " AND json_extract(details, '$.selectivity') IS NULL"), 0);
  assert_int_equal(query_int(conn, "SELECT count(*) FROM rules WHERE sample_size = 200"
                                   " AND completeness BETWEEN completeness_lo AND completeness_hi"),
                   align + probe + cart);
  /* CART: the leaves partition the sets, and each leaf's fidelity and
   * accuracy are shares of the sets it covers. */
  assert_int_equal(query_int(conn, "SELECT round(sum(completeness), 9) FROM rules WHERE method = 'cart'"), 1);
  assert_int_equal(query_int(conn, "SELECT sum(support) FROM rules WHERE method = 'cart'"), 200);
  assert_int_equal(query_int(conn, "SELECT count(*) FROM rules WHERE method = 'cart' AND"
                                   " fidelity BETWEEN 0 AND 1 AND accuracy BETWEEN 0 AND 1 AND"
                                   " abs(fidelity * support - round(fidelity * support)) < 1e-9 AND"
                                   " fidelity BETWEEN fidelity_lo AND fidelity_hi"), cart);
  /* The library over 1..12 is stored, and every alignment rule's
   * conclusion is one of its concepts. */
  assert_true(query_int(conn, "SELECT count(*) FROM concepts WHERE domain_max = 12") > 34);
  assert_int_equal(query_int(conn, "SELECT count(*) FROM rules r WHERE method = 'alignment' AND NOT"
                                   " EXISTS (SELECT 1 FROM concepts c WHERE c.name = r.conclusion"
                                   " AND c.domain_max = 12)"), 0);
  sqlite3_close(conn);

  /* Extracting again replaces the model's rules instead of adding more. */
  expect_run(RUN("extract", "--weights", weights, "--db", db, "--methods", "alignment,cart",
                 "--sets", "200"), 0, "alignment");
  assert_int_equal(sqlite3_open_v2(db, &conn, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
  assert_int_equal(query_int(conn, "SELECT count(*) FROM rules"), align + probe + cart);
  sqlite3_close(conn);

  r = RUN("rules", "--db", db, "--weights", weights, "--min-fidelity", "0.9", "--json");
  assert_int_equal(r.status, 0);
  o = parse_json(r.out);
  json_t *row;
  size_t i;
  assert_true(json_array_size(json_object_get(o, "rows")) > 0);
  json_array_foreach(json_object_get(o, "rows"), i, row) {
    assert_true(json_real_value(json_array_get(row, 8)) >= 0.9);
  }
  json_decref(o);
  run_free(&r);
  /* Another file: no rules. */
  expect_run(RUN("rules", "--db", db, "--weights", db), 0, "(0 rows)");
  expect_usage_error(RUN("rules", "--db", db, "--weights", "/no/such/model"), "/no/such/model");
}

/* The domain is the model's own: a proposal model over 1..50 (vocab 57)
 * is read on 1..50. */
static void test_domain_from_config(void **state) {
  (void)state;
  run_result r = RUN("extract", "--weights", n50, "--db", db, "--methods", "cart", "--sets", "40",
                     "--json");
  if (r.status != 0) fail_msg("%s", r.err);
  json_t *o = parse_json(r.out);
  assert_no_null(o);
  assert_tree_shares(o);
  json_t *domain = json_object_get(o, "domain");
  assert_int_equal(json_integer_value(json_array_get(domain, 0)), 1);
  assert_int_equal(json_integer_value(json_array_get(domain, 1)), 50);
  json_decref(o);
  run_free(&r);
  EXPECT_RUN_ALL(RUN("extract", "--weights", n50, "--db", db, "--methods", "cart", "--sets", "40"),
                 0, "domain 1..50", "inputs: 40 held-out example sets (seed 1)");
}

/* The shipped model, found with no option: every stored number and every
 * printed one is a finite share in [0, 1], and the whole tree's fidelity
 * is its leaves' fidelities weighted by their support. */
static void test_shipped_model(void **state) {
  (void)state;
  char shipped_db[320];
  snprintf(shipped_db, sizeof shipped_db, "%s/shipped.db", cli_workdir);
  run_result r = RUN("extract", "--db", shipped_db, "--methods", "alignment,cart", "--sets", "100",
                     "--json");
  if (r.status != 0) fail_msg("%s", r.err);
  json_t *o = parse_json(r.out);
  assert_no_null(o);
  assert_tree_shares(o);
  assert_int_equal(json_integer_value(json_array_get(json_object_get(o, "domain"), 1)), 100);
  double fidelity = json_number_value(json_object_get(json_object_get(o, "cart_tree"), "fidelity"));
  json_decref(o);
  run_free(&r);
  sqlite3 *conn;
  assert_int_equal(sqlite3_open_v2(shipped_db, &conn, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
  assert_int_equal(query_int(conn, "SELECT count(*) FROM rules WHERE fidelity IS NULL OR"
                                   " fidelity < 0 OR fidelity > 1 OR completeness IS NULL"), 0);
  assert_int_equal(query_int(conn, "SELECT count(*) FROM rules WHERE method = 'cart' AND"
                                   " (accuracy IS NULL OR accuracy < 0 OR accuracy > 1)"), 0);
  assert_int_equal(query_int(conn, "SELECT count(*) FROM concepts WHERE domain_max = 106"), 0);
  sqlite3_stmt *st;
  assert_int_equal(sqlite3_prepare_v2(conn, "SELECT sum(fidelity * support) FROM rules WHERE"
                                            " method = 'cart'", -1, &st, NULL), SQLITE_OK);
  assert_int_equal(sqlite3_step(st), SQLITE_ROW);
  assert_float_equal(sqlite3_column_double(st, 0) / 100, fidelity, 1e-9);
  sqlite3_finalize(st);
  sqlite3_close(conn);
}

/* A guide over a small space (1..30, families even, odd, squares,
 * primes, multiples, ends_in, union, intersection): sets from the space's
 * prior, units named by rule families, CART over productions. */
static void test_guide(void **state) {
  (void)state;
  char guide_db[320];
  snprintf(guide_db, sizeof guide_db, "%s/guide.db", cli_workdir);
  run_result r = RUN("extract", "--space", space_a, "--weights", guide, "--db", guide_db, "--sets",
                     "150", "--json");
  if (r.status != 0) fail_msg("%s", r.err);
  json_t *o = parse_json(r.out);
  assert_no_null(o);
  assert_tree_shares(o);
  json_t *model = json_object_get(o, "model");
  assert_string_equal(json_string_value(json_object_get(model, "kind")), "guide");
  assert_string_equal(json_string_value(json_object_get(model, "space")), space_a);
  assert_string_equal(json_string_value(json_object_get(o, "layout")), "productions");
  assert_int_equal(json_integer_value(json_array_get(json_object_get(o, "domain"), 1)), 30);
  json_decref(o);
  run_free(&r);
  sqlite3 *conn;
  assert_int_equal(sqlite3_open_v2(guide_db, &conn, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
  assert_true(query_int(conn, "SELECT count(*) FROM rules WHERE method = 'alignment'") > 0);
  assert_int_equal(query_int(conn, "SELECT count(*) FROM rules WHERE method = 'alignment' AND"
                                   " conclusion NOT IN ('uses even', 'uses odd', 'uses squares',"
                                   " 'uses primes', 'uses multiples', 'uses ends_in', 'uses union',"
                                   " 'uses intersection', 'from an interval')"), 0);
  assert_int_equal(query_int(conn, "SELECT count(*) FROM rules WHERE method = 'cart' AND"
                                   " conclusion NOT IN ('even', 'odd', 'squares', 'primes',"
                                   " 'multiples of 3', 'multiples of 5', 'ends in 1', 'ends in 5',"
                                   " 'union', 'intersection', 'interval')"), 0);
  /* Probes measure accuracy, the others fidelity. */
  assert_int_equal(query_int(conn, "SELECT count(*) FROM rules WHERE method != 'probe' AND"
                                   " (fidelity IS NULL OR fidelity < 0 OR fidelity > 1)"), 0);
  assert_int_equal(query_int(conn, "SELECT count(*) FROM rules WHERE method = 'probe' AND"
                                   " (accuracy IS NULL OR accuracy < 0 OR accuracy > 1)"), 0);
  sqlite3_close(conn);
  /* Bad inputs: a guide of another space (same range and production
   * count), a proposal model or no file given as a guide, a guide given
   * as a proposal model. */
  expect_usage_error(RUN("extract", "--space", space_b, "--weights", guide, "--db", guide_db),
                     "a guide for space 'a.json'");
  expect_usage_error(RUN("extract", "--space", space_a, "--weights", weights, "--db", guide_db),
                     "m.safetensors");
  expect_usage_error(RUN("extract", "--space", space_a, "--db", guide_db),
                     "no shipped guide for");
  expect_usage_error(RUN("extract", "--weights", guide, "--db", guide_db),
                     "not a proposal model");
  expect_usage_error(RUN("extract", "--space", "/no/such/space.json", "--weights", guide),
                     "/no/such/space.json");
}

static void test_bad_inputs(void **state) {
  (void)state;
  expect_usage_error(RUN("extract", "--weights", "/no/such/m.safetensors", "--db", db),
                     "no readable weights file '/no/such/m.safetensors'");
  const char *corrupt = cli_write("corrupt.safetensors", "this is not a safetensors file at all");
  expect_usage_error(RUN("extract", "--weights", corrupt, "--db", db), "corrupt.safetensors");
  expect_usage_error(RUN("extract", "--weights", wide, "--db", db),
                     "wide.safetensors: not a proposal model");
  expect_usage_error(RUN("extract", "--weights", weights, "--sets", "5"), "--sets");
  expect_usage_error(RUN("extract", "--weights", weights, "--sets", "4097"), "--sets");
  expect_usage_error(RUN("extract", "--weights", weights, "--max", "50"), "--max");
  expect_usage_error(RUN("extract", "--weights", weights, "--methods", "alignment,magic"), "magic");
  expect_usage_error(RUN("extract", "--weights", weights, "--folds", "1"), "--folds");
  expect_usage_error(RUN("extract", "--weights", weights, "--cart-depth"), "needs a value");
  expect_usage_error(RUN("extract", "--bogus"), "--bogus");
  char unwritable[320];
  snprintf(unwritable, sizeof unwritable, "%s/no-such-dir/x.db", cli_workdir);
  expect_run(RUN("extract", "--weights", weights, "--db", unwritable), 1, "no-such-dir/x.db");
  expect_usage_error(RUN("extract", "--weights", weights, "--cart-depth", "deep"),
                     "nsr extract: --cart-depth: 'deep' is not a whole number");
  expect_usage_error(RUN("extract", "--weights", weights, "--json=yes"), "--json takes no value");
  expect_usage_error(RUN("extract", "stray"), "nsr extract: unexpected argument 'stray'");
  expect_usage_error(RUN("extract", "--db"), "nsr extract: --db needs a value");
}

/* Help lists every option, with the defaults and environment variables. */
static void test_help(void **state) {
  (void)state;
  EXPECT_RUN_ALL(RUN("extract", "--help"), 0, "--weights FILE",
                 "(default: the shipped model; with --space, its shipped guide; env NSR_WEIGHTS)", "--db PATH",
                 "(default: nsr.db; env NSR_DB)", "--methods LIST", "--sets K", "--space FILE",
                 "--cart-depth D", "--folds K", "--seed S", "--json", "\"cart_tree\"");
}

/* Without --weights, the shipped model (not a models/numbers.safetensors
 * that does not exist), or NSR_WEIGHTS; without --db, NSR_DB. */
static void test_defaults_and_environment(void **state) {
  (void)state;
  char env_db[320];
  snprintf(env_db, sizeof env_db, "%s/env.db", cli_workdir);
  setenv("NSR_DB", env_db, 1);
  run_result r = RUN("extract", "--methods", "cart", "--sets", "20", "--json");
  if (r.status != 0) fail_msg("%s", r.err);
  json_t *o = parse_json(r.out);
  const char *path = json_string_value(json_object_get(json_object_get(o, "model"), "path"));
  assert_non_null(strstr(path, "bridge/models/propose-n100.safetensors"));
  assert_string_equal(json_string_value(json_object_get(o, "db")), env_db);
  json_decref(o);
  run_free(&r);
  assert_int_equal(access(env_db, F_OK), 0);
  setenv("NSR_WEIGHTS", "/no/such/env.safetensors", 1);
  expect_usage_error(RUN("extract", "--methods", "cart"), "'/no/such/env.safetensors'");
  /* The options win over the environment. */
  setenv("NSR_WEIGHTS", wide, 1);
  r = RUN("extract", "--methods", "cart", "--db", db, "--weights", n50, "--sets", "20", "--json");
  if (r.status != 0) fail_msg("%s", r.err);
  o = parse_json(r.out);
  assert_string_equal(json_string_value(json_object_get(json_object_get(o, "model"), "path")), n50);
  assert_string_equal(json_string_value(json_object_get(o, "db")), db);
  json_decref(o);
  run_free(&r);
  unsetenv("NSR_WEIGHTS");
  unsetenv("NSR_DB");
}

int main(int argc, char **argv) {
  if (argc < 2 || cli_runner_init(argv[1]) != 0) return 1;
  snprintf(weights, sizeof weights, "%s/m.safetensors", cli_workdir);
  snprintf(db, sizeof db, "%s/x.db", cli_workdir);
  /* A real trained proposal model over 1..12, a few hundred steps. */
  nsr_nn_model *m = tiny_trained(12, 16, 1, 300, 5);
  nsr_error err;
  if (nsr_nn_save(m, weights, &err) != NSR_OK) return 1;
  nsr_nn_free(m);
  /* A random proposal model over 1..50. */
  snprintf(n50, sizeof n50, "%s/n50.safetensors", cli_workdir);
  m = tiny_proposal(50, 16, 1, 4);
  if (nsr_nn_save(m, n50, &err) != NSR_OK) return 1;
  nsr_nn_free(m);
  /* A random encoder over tokens 1..9000 with 5 outputs: not a proposal
   * model. */
  snprintf(wide, sizeof wide, "%s/wide.safetensors", cli_workdir);
  m = tiny_wide(9000, 2);
  if (nsr_nn_save(m, wide, &err) != NSR_OK) return 1;
  nsr_nn_free(m);
  /* cli_write's answer lasts until its next call. */
  snprintf(space_a, sizeof space_a, "%s", cli_write("a.json", SPACE_JSON("squares")));
  snprintf(space_b, sizeof space_b, "%s", cli_write("b.json", SPACE_JSON("cubes")));
  snprintf(guide, sizeof guide, "%s/guide-a.safetensors", cli_workdir);
  if (make_guide(space_a, guide) != 0) return 1;
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_extract_trained_model),
      cmocka_unit_test(test_domain_from_config),
      cmocka_unit_test(test_shipped_model),
      cmocka_unit_test(test_guide),
      cmocka_unit_test(test_bad_inputs),
      cmocka_unit_test(test_help),
      cmocka_unit_test(test_defaults_and_environment),
  };
  return cli_runner_finish(cmocka_run_group_tests(tests, NULL, NULL));
}
