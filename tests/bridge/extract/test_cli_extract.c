/* test_cli_extract.c: `nsr extract` and `nsr rules --weights` as a user runs
 * them: an encoder trained here on the number game, saved to a real
 * checkpoint, extracted into a real SQLite file; and every bad input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli_runner.h"
#include "sha256.h"
#include "tiny_model.h"

static char weights[300], wide[300], db[300];

static int64_t query_int(sqlite3 *conn, const char *sql) {
  sqlite3_stmt *st;
  assert_int_equal(sqlite3_prepare_v2(conn, sql, -1, &st, NULL), SQLITE_OK);
  assert_int_equal(sqlite3_step(st), SQLITE_ROW);
  int64_t v = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  return v;
}

static void test_extract_trained_model(void **state) {
  (void)state;
  /* 1..12 is enumerated: exact metrics, even when a sample is offered. */
  run_result r = RUN("extract", "--weights", weights, "--db", db, "--json", "--sample", "5");
  if (r.status != 0) fail_msg("%s", r.err);
  json_t *o = parse_json(r.out);
  assert_true(json_is_null(json_object_get(o, "sample")));
  json_t *rules = json_object_get(o, "rules");
  int64_t align = json_integer_value(json_object_get(rules, "alignment"));
  int64_t probe = json_integer_value(json_object_get(rules, "probe"));
  int64_t cart = json_integer_value(json_object_get(rules, "cart"));
  assert_true(align > 0 && probe > 0 && cart > 0);
  assert_int_equal(json_integer_value(json_array_get(json_object_get(o, "domain"), 1)), 12);
  assert_string_equal(json_string_value(json_object_get(o, "layout")), "space");
  json_t *tree = json_object_get(o, "cart_tree");
  assert_float_equal(json_real_value(json_object_get(tree, "completeness")), 1.0, 1e-9);
  double fidelity = json_real_value(json_object_get(tree, "fidelity"));
  assert_true(fidelity > 0 && fidelity <= 1);
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
   * fidelities and accuracies are shares of 12 inputs. */
  assert_int_equal(query_int(conn, "SELECT count(*) FROM rules WHERE method != 'cart' AND church IS NULL"), 0);
  assert_int_equal(query_int(conn, "SELECT count(*) FROM rules WHERE method = 'alignment'"
                                   " AND abs(fidelity * 12 - round(fidelity * 12)) > 1e-9"), 0);
  assert_int_equal(query_int(conn, "SELECT count(*) FROM rules WHERE method = 'probe'"
                                   " AND json_extract(details, '$.selectivity') IS NULL"), 0);
  assert_int_equal(query_int(conn, "SELECT round(sum(completeness), 9) FROM rules WHERE method = 'cart'"), 1);
  assert_int_equal(query_int(conn, "SELECT count(*) FROM rules WHERE sample_size IS NOT NULL"
                                   " OR fidelity_lo IS NOT NULL OR completeness_hi IS NOT NULL"), 0);
  /* The whole library over 1..12 is stored, and every alignment rule's
   * conclusion is one of its concepts. */
  assert_true(query_int(conn, "SELECT count(*) FROM concepts WHERE domain_max = 12") > 34);
  assert_int_equal(query_int(conn, "SELECT count(*) FROM rules r WHERE method = 'alignment' AND NOT"
                                   " EXISTS (SELECT 1 FROM concepts c WHERE c.name = r.conclusion"
                                   " AND c.domain_max = 12)"), 0);
  sqlite3_close(conn);

  /* Extracting again replaces the model's rules instead of adding more. */
  expect_run(RUN("extract", "--weights", weights, "--db", db, "--methods", "alignment,cart"), 0,
             "alignment");
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

/* 1..9000 is too large to enumerate: a stated sample, each rule with its
 * sample size and intervals, and no concepts over the sample stored. */
static void test_extract_sampled(void **state) {
  (void)state;
  char sampled_db[320];
  snprintf(sampled_db, sizeof sampled_db, "%s/sampled.db", cli_workdir);
  run_result r = RUN("extract", "--weights", wide, "--db", sampled_db, "--json", "--sample", "300",
                     "--methods", "alignment,cart", "--seed", "4");
  if (r.status != 0) fail_msg("%s", r.err);
  json_t *o = parse_json(r.out);
  assert_int_equal(json_integer_value(json_array_get(json_object_get(o, "domain"), 1)), 9000);
  json_t *sample = json_object_get(o, "sample");
  assert_int_equal(json_integer_value(json_object_get(sample, "size")), 300);
  assert_int_equal(json_integer_value(json_object_get(sample, "seed")), 4);
  assert_string_equal(json_string_value(json_object_get(o, "layout")), "other");
  json_decref(o);
  run_free(&r);
  sqlite3 *conn;
  assert_int_equal(sqlite3_open_v2(sampled_db, &conn, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
  int64_t n = query_int(conn, "SELECT count(*) FROM rules");
  assert_true(n > 0);
  assert_int_equal(query_int(conn, "SELECT count(*) FROM rules WHERE sample_size = 300"
                                   " AND fidelity BETWEEN fidelity_lo AND fidelity_hi"
                                   " AND completeness BETWEEN completeness_lo AND completeness_hi"), n);
  assert_int_equal(query_int(conn, "SELECT count(*) FROM concepts WHERE domain_max = 9000"), 0);
  sqlite3_close(conn);
  expect_run(RUN("extract", "--weights", wide, "--db", sampled_db, "--sample", "200", "--methods", "cart"), 0,
             "sampled: 200 numbers (seed 1)");
  expect_usage_error(RUN("extract", "--weights", wide, "--sample", "0"), "--sample");
  expect_usage_error(RUN("extract", "--weights", wide, "--sample", "4097"), "--sample");
  expect_usage_error(RUN("extract", "--weights", wide, "--max", "1000001"), "--max");
}

static void test_bad_inputs(void **state) {
  (void)state;
  expect_usage_error(RUN("extract", "--weights", "/no/such/m.safetensors", "--db", db),
                     "no readable weights file '/no/such/m.safetensors'");
  const char *corrupt = cli_write("corrupt.safetensors", "this is not a safetensors file at all");
  expect_usage_error(RUN("extract", "--weights", corrupt, "--db", db), "corrupt.safetensors");
  expect_usage_error(RUN("extract", "--weights", weights, "--db", db, "--max", "50"), "vocab is 13");
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
                 "(default: the shipped model; env NSR_WEIGHTS)", "--db PATH",
                 "(default: nsr.db; env NSR_DB)", "--methods LIST", "--max N", "--sample K",
                 "--cart-depth D", "--folds K", "--seed S", "--json", "\"cart_tree\"");
}

/* Without --weights, the shipped model (not a models/numbers.safetensors
 * that does not exist), or NSR_WEIGHTS; without --db, NSR_DB. */
static void test_defaults_and_environment(void **state) {
  (void)state;
  char env_db[320];
  snprintf(env_db, sizeof env_db, "%s/env.db", cli_workdir);
  setenv("NSR_DB", env_db, 1);
  run_result r = RUN("extract", "--methods", "cart", "--json");
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
  setenv("NSR_WEIGHTS", weights, 1);
  r = RUN("extract", "--methods", "cart", "--db", db, "--weights", wide, "--sample", "50", "--json");
  if (r.status != 0) fail_msg("%s", r.err);
  o = parse_json(r.out);
  assert_string_equal(json_string_value(json_object_get(json_object_get(o, "model"), "path")), wide);
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
  /* A real trained encoder over 1..12, a few hundred steps. */
  nsr_nn_model *m = tiny_trained(12, 16, 1, 300, 5);
  nsr_error err;
  if (nsr_nn_save(m, weights, &err) != NSR_OK) return 1;
  nsr_nn_free(m);
  /* A random encoder over tokens 1..9000 with 5 outputs. */
  snprintf(wide, sizeof wide, "%s/wide.safetensors", cli_workdir);
  m = tiny_wide(9000, 2);
  if (nsr_nn_save(m, wide, &err) != NSR_OK) return 1;
  nsr_nn_free(m);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_extract_trained_model),
      cmocka_unit_test(test_extract_sampled),
      cmocka_unit_test(test_bad_inputs),
      cmocka_unit_test(test_help),
      cmocka_unit_test(test_defaults_and_environment),
  };
  return cli_runner_finish(cmocka_run_group_tests(tests, NULL, NULL));
}
