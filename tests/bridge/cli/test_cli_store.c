/* test_cli_store.c: `nsr store init`, `nsr sql` and `nsr rules` as a user
 * runs them, on real database files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_runner.h"
#include "nsr_test_util.h"

static char db[300];

static void test_init_and_query(void **state) {
  (void)state;
  expect_run(RUN("store", "init", "--db", db), 0, "schema version 3");
  expect_run(RUN("store", "init", "--db", db), 0, NULL); /* idempotent */
  run_result r = RUN("sql", "SELECT name, size FROM concepts WHERE size <= 4 ORDER BY name", "--db", db);
  assert_int_equal(r.status, 0);
  /* Over 1..100: cubes {1,8,27,64}, powers of 4 {4,16,64}, powers of 5
   * {5,25}, ..., powers of 10 {10,100}, powers of 3 {3,9,27,81}. */
  assert_non_null(strstr(r.out, "cubes"));
  assert_non_null(strstr(r.out, "powers of 10  2"));
  assert_null(strstr(r.out, "even"));
  run_free(&r);
  r = RUN("sql", "SELECT name, size FROM concepts WHERE name = 'primes'", "--db", db, "--json");
  assert_int_equal(r.status, 0);
  json_t *o = parse_json(r.out);
  json_t *row = json_array_get(json_object_get(o, "rows"), 0);
  assert_int_equal(json_integer_value(json_array_get(row, 1)), 25); /* 25 primes below 100 */
  json_decref(o);
  run_free(&r);
  r = RUN("sql", "SELECT 'a,b' AS x, 'say \"hi\"' AS y", "--db", db, "--csv");
  assert_int_equal(r.status, 0);
  assert_string_equal(r.out, "x,y\r\n\"a,b\",\"say \"\"hi\"\"\"\r\n");
  run_free(&r);
  /* No such table. */
  expect_run(RUN("sql", "SELECT value FROM generate_series", "--db", db, "--limit", "5"), 2, NULL);
  expect_run(RUN("sql", "SELECT id FROM concepts", "--db", db, "--limit", "5"), 0, "(5 rows, truncated");
  expect_run(RUN("rules", "--db", db, "--min-fidelity", "0.9", "--method", "cart"), 0, "(0 rows)");
  /* --method takes only the methods' names: nothing else reaches the SQL. */
  expect_usage_error(RUN("rules", "--db", db, "--method", "x'; DROP TABLE rules; --"),
                     "--method: 'x'; DROP TABLE rules; --' is not one of alignment, probe, cart");
  r = RUN("sql", "SELECT count(*) FROM rules", "--db", db, "--csv");
  assert_string_equal(r.out, "count(*)\r\n0\r\n"); /* the table survived */
  run_free(&r);
}

/* --json prints reals in their shortest round-trip form and infinities
 * as the strings "Infinity" and "-Infinity" (SQLite turns NaN into NULL, so
 * a query cannot give one). Expected texts: Python's repr digits. */
static void test_json_numbers(void **state) {
  (void)state;
  const char *sql = "SELECT 1e308*10 AS inf, -1e308*10 AS ninf, 0.1, 1.0/3, 100.0, 5e-324, -0.0, "
                    "1.7976931348623157e308, 2.5e-7, 42, 0.0/0";
  run_result r = RUN("sql", sql, "--db", db, "--json");
  assert_int_equal(r.status, 0);
  assert_string_equal(r.out, "{\"columns\":[\"inf\",\"ninf\",\"0.1\",\"1.0/3\",\"100.0\",\"5e-324\",\"-0.0\","
                             "\"1.7976931348623157e308\",\"2.5e-7\",\"42\",\"0.0/0\"],"
                             "\"rows\":[[\"Infinity\",\"-Infinity\",0.1,0.3333333333333333,100.0,5e-324,-0.0,"
                             "1.7976931348623157e308,2.5e-7,42,null]],\"truncated\":false}\n");
  run_free(&r);
  /* The same values from a REAL column of a table. */
  r = RUN("sql", "SELECT x FROM (SELECT 1e999 AS x UNION ALL SELECT -1e999 UNION ALL SELECT 0.2) ORDER BY x",
          "--db", db, "--json");
  assert_int_equal(r.status, 0);
  assert_string_equal(r.out, "{\"columns\":[\"x\"],\"rows\":[[\"-Infinity\"],[0.2],[\"Infinity\"]],"
                             "\"truncated\":false}\n");
  run_free(&r);
  expect_run(RUN("sql", "SELECT 1e308*10 AS x", "--db", db), 0, "Infinity");
  /* Text JSON cannot carry is named as such, not as "out of memory". */
  expect_usage_error(RUN("sql", "SELECT CAST(x'ff' AS TEXT) AS t", "--db", db, "--json"),
                     "row 1, column 1 ('t'): text that is not UTF-8");
}

static void test_bad_input(void **state) {
  (void)state;
  expect_usage_error(RUN("sql", "DELETE FROM concepts", "--db", db), "not authorized");
  expect_usage_error(RUN("sql", "SELECT 1; SELECT 2", "--db", db), "only one statement");
  expect_usage_error(RUN("sql", "--db", db), "no SQL given");
  expect_usage_error(RUN("sql", "SELECT 1", "SELECT 2", "--db", db), "one argument");
  expect_usage_error(RUN("sql", "SELECT 1", "--db"), "nsr sql: --db needs a value (PATH)");
  expect_usage_error(RUN("sql", "SELECT 1", "--db", db, "--json", "--csv"), "exclude each other");
  expect_usage_error(RUN("sql", "SELECT 1", "--limit", "0", "--db", db), "--limit");
  expect_usage_error(RUN("sql", "SELECT 1", "--bogus"), "unknown option '--bogus'");
  expect_usage_error(RUN("sql", "SELECT 1", "--db", "/nonexistent/x.db"), "no rule store at");
  expect_usage_error(RUN("rules", "--db", db, "--min-fidelity", "high"), "not a number");
  /* Used to print nothing and exit 0. */
  expect_usage_error(RUN("rules", "--db", db, "--method", "foo", "--min-fidelity", "2"),
                     "nsr rules: --method: 'foo' is not one of alignment, probe, cart");
  expect_usage_error(RUN("rules", "--db", db, "--min-fidelity", "2"),
                     "nsr rules: --min-fidelity: 2 is outside the range 0..1");
  expect_usage_error(RUN("rules", "--db", db, "--min-fidelity", "-0.5"), "outside the range 0..1");
  expect_usage_error(RUN("rules", "--db", db, "--bogus"), "nsr rules: unknown option '--bogus'");
  expect_usage_error(RUN("rules", "--db", db, "--method"), "--method needs a value");
  expect_usage_error(RUN("store"), "nsr store: missing subcommand (see 'nsr store --help')");
  expect_usage_error(RUN("store", "burn"), "nsr store: unknown subcommand 'burn'");
  expect_usage_error(RUN("store", "init", "--max", "0"), "--max");
  expect_usage_error(RUN("store", "init", "--bogus"), "nsr store init: unknown option '--bogus'");
  expect_usage_error(RUN("store", "init", "--db"), "nsr store init: --db needs a value");
  /* A query that runs out of time is a failed run (status 1), not a usage error. */
  /* NOLINTNEXTLINE(bugprone-suspicious-missing-comma): one statement, two lines */
  expect_run(RUN("sql", "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c)"
                     " SELECT count(*) FROM c", "--db", db, "--timeout-ms", "100"),
             1, "time limit of 100 ms");
  expect_run(RUN("sql", "--help"), 0, "read-only");
  expect_run(RUN("store", "init", "--db", "/nonexistent/dir/x.db"), 1, "/nonexistent/dir/x.db");
}

/* The reproducers through `nsr sql` on a real store: each refused
 * or stopped with the cap it ran into, as a usage error (the SQL is the
 * user's) or a failed run (a budget). */
static void test_sql_caps(void **state) {
  (void)state;
  expect_run(RUN("store", "init", "--db", db), 0, NULL);
  expect_usage_error(RUN("sql", "SELECT length(printf('%.*c',2147483647,'x'))", "--db", db),
                     "nsr sql: SQL refused: not authorized: function printf() is not on the allow-list");
  expect_usage_error(RUN("sql", "SELECT hex(fts3_tokenizer('simple'))", "--db", db),
                     "function fts3_tokenizer() is not on the allow-list");
  expect_usage_error(RUN("sql", "SELECT hex(zeroblob(1000000))", "--db", db), "at most 262144 bytes");
  expect_usage_error(RUN("sql", "SELECT instr(hex(zeroblob(100000)), hex(zeroblob(1000)))", "--db", db),
                     "instr(): arguments of 200000 and 2000 bytes are too long together");
  /* 100000-byte blobs print as 200000 hex digits: 42 of them pass 8 MiB. */
  const char *blobs = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x<1000)"
                      " SELECT zeroblob(100000) FROM c";
  expect_run(RUN("sql", blobs, "--db", db, "--json", "--timeout-ms", "600000"), 1,
             "nsr sql: SQL stopped: the result passed 8388608 bytes at row 42");
  const char *endless = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c) SELECT count(*) FROM c";
  expect_run(RUN("sql", endless, "--db", db, "--timeout-ms", "100"),
             1, "nsr sql: SQL stopped: time limit of 100 ms reached (--timeout-ms)");
  expect_run(RUN("sql", "SELECT round(fidelity, 2) FROM rules", "--db", db), 0, "(0 rows)");
}

/* A store with a damaged page: `nsr extract` and `nsr store init` refuse
 * it (status 1) and leave every byte as it was. */
static void test_damaged_store(void **state) {
  (void)state;
  char bad[320];
  snprintf(bad, sizeof bad, "%s/damaged.db", cli_workdir);
  expect_run(RUN("store", "init", "--db", bad), 0, NULL);
  damage_sqlite_page(bad, 3);
  long size_before, size_after;
  unsigned char *before = read_file_bytes(bad, &size_before);
  EXPECT_RUN_ALL(RUN("extract", "--db", bad, "--methods", "cart"), 1, "nsr extract: rule store '",
                 "is damaged (PRAGMA quick_check: ", "nothing was written");
  expect_run(RUN("store", "init", "--db", bad), 1, "is damaged");
  unsigned char *after = read_file_bytes(bad, &size_after);
  assert_int_equal(size_after, size_before);
  assert_memory_equal(before, after, (size_t)size_before);
  free(before);
  free(after);
}

/* --db defaults to $NSR_DB in every store command; --json prints data. */
static void test_env_db_and_json(void **state) {
  (void)state;
  char env_db[320];
  snprintf(env_db, sizeof env_db, "%s/env.db", cli_workdir);
  setenv("NSR_DB", env_db, 1);
  run_result r = RUN("store", "init", "--max", "20", "--json");
  assert_int_equal(r.status, 0);
  json_t *o = parse_json(r.out);
  assert_string_equal(json_string_value(json_object_get(o, "db")), env_db);
  assert_int_equal(json_integer_value(json_object_get(o, "max")), 20);
  assert_true(json_integer_value(json_object_get(o, "schema_version")) >= 3);
  json_decref(o);
  run_free(&r);
  r = RUN("sql", "SELECT max(domain_max) FROM concepts", "--json");
  assert_int_equal(r.status, 0);
  o = parse_json(r.out);
  assert_int_equal(json_integer_value(json_array_get(json_array_get(json_object_get(o, "rows"), 0), 0)), 20);
  json_decref(o);
  run_free(&r);
  r = RUN("rules", "--json");
  assert_int_equal(r.status, 0);
  o = parse_json(r.out);
  assert_int_equal(json_array_size(json_object_get(o, "rows")), 0);
  assert_int_equal(json_array_size(json_object_get(o, "columns")), 12);
  json_decref(o);
  run_free(&r);
  /* --db wins over NSR_DB. */
  expect_run(RUN("sql", "SELECT max(domain_max) FROM concepts", "--db", db, "--csv"), 0, "\r\n100\r\n");
  unsetenv("NSR_DB");
  /* A path that is not UTF-8 is reported mended (U+FFFD for the stray
   * byte), not lost as a failed JSON output. */
  char odd[340];
  snprintf(odd, sizeof odd, "%s/s\xff.db", cli_workdir);
  r = RUN("store", "init", "--db", odd, "--max", "20", "--json");
  assert_int_equal(r.status, 0);
  o = parse_json(r.out);
  char mended[340];
  snprintf(mended, sizeof mended, "%s/s\xef\xbf\xbd.db", cli_workdir);
  assert_string_equal(json_string_value(json_object_get(o, "db")), mended);
  json_decref(o);
  run_free(&r);
}

/* Each help lists every option. */
static void test_help(void **state) {
  (void)state;
  EXPECT_RUN_ALL(RUN("sql", "--help"), 0, "read-only", "--db PATH", "env NSR_DB", "--json", "--csv",
                 "--limit N", "--timeout-ms T");
  EXPECT_RUN_ALL(RUN("rules", "--help"), 0, "--db PATH", "env NSR_DB", "--json", "--csv", "--limit N",
                 "--timeout-ms T", "--weights FILE", "--model ID", "--method alignment|probe|cart",
                 "--min-fidelity F", "(0..1, default: every rule)");
  EXPECT_RUN_ALL(RUN("store", "--help"), 0, "Usage: nsr store SUBCOMMAND", "  init ");
  EXPECT_RUN_ALL(RUN("store", "init", "--help"), 0, "Usage: nsr store init [OPTIONS]", "--db PATH",
                 "env NSR_DB", "--max N", "--json");
}

int main(int argc, char **argv) {
  if (argc < 2 || cli_runner_init(argv[1]) != 0) return 1;
  snprintf(db, sizeof db, "%s/rules.db", cli_workdir);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_init_and_query),
      cmocka_unit_test(test_json_numbers),
      cmocka_unit_test(test_bad_input),
      cmocka_unit_test(test_env_db_and_json),
      cmocka_unit_test(test_sql_caps),
      cmocka_unit_test(test_damaged_store),
      cmocka_unit_test(test_help),
  };
  return cli_runner_finish(cmocka_run_group_tests(tests, NULL, NULL));
}
