/* test_store.c: the SQLite rule store on real database files: schema
 * migrations, the concept library, models and rules written atomically, and
 * the read-only query path that tools and `nsr sql` use. */
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

#include "json.h"
#include "numbers_brute.h"
#include "nsr_test_util.h"
#include "nsr_store.h"

static char dir[] = "/tmp/nsr_store_XXXXXX";

static const char *db_path(const char *name) {
  static char path[300];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  return path;
}

/* A fresh store with the concept library over 1..100 and one model. */
static nsr_store *fresh_store(const char *name, int64_t *model) {
  unlink(db_path(name));
  nsr_store *s;
  nsr_error err;
  if (nsr_store_open(db_path(name), &s, &err) != NSR_OK) fail_msg("%s", err.message);
  nsr_numbers_config cfg;
  nsr_numbers_config_default(&cfg);
  nsr_numbers *e;
  assert_int_equal(nsr_numbers_new(&cfg, &e, NULL), NSR_OK);
  assert_int_equal(nsr_store_sync_concepts(s, e, &err), NSR_OK);
  nsr_numbers_free(e);
  if (model) assert_int_equal(nsr_store_add_model(s, "ab12", "m.safetensors", "{}", model, &err), NSR_OK);
  return s;
}

static json_t *query_ok(const char *name, const char *sql, size_t max_rows) {
  json_t *r;
  nsr_error err;
  if (nsr_store_query(db_path(name), sql, max_rows, 2000, &r, &err) != NSR_OK) {
    fail_msg("%s: %s", sql, err.message);
  }
  return r;
}

static json_t *first_cell(json_t *result) {
  return json_array_get(json_array_get(json_object_get(result, "rows"), 0), 0);
}

static void test_schema_and_wal(void **state) {
  (void)state;
  nsr_store *s = fresh_store("schema.db", NULL);
  nsr_store_close(s);
  /* Opening again migrates nothing and keeps the data. */
  nsr_error err;
  assert_int_equal(nsr_store_open(db_path("schema.db"), &s, &err), NSR_OK);
  nsr_store_close(s);
  sqlite3 *db;
  assert_int_equal(sqlite3_open(db_path("schema.db"), &db), SQLITE_OK);
  sqlite3_stmt *st;
  sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL);
  assert_int_equal(sqlite3_step(st), SQLITE_ROW);
  assert_int_equal(sqlite3_column_int(st, 0), NSR_STORE_SCHEMA_VERSION);
  sqlite3_finalize(st);
  sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL);
  assert_int_equal(sqlite3_step(st), SQLITE_ROW);
  assert_string_equal((const char *)sqlite3_column_text(st, 0), "wal");
  sqlite3_finalize(st);
  sqlite3_close(db);
  json_t *r = query_ok("schema.db",
                       "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN"
                       " ('models','concepts','rules','experiments','metrics')", 10);
  assert_int_equal(json_integer_value(first_cell(r)), 5);
  json_decref(r);
}

/* Each stored extension decodes to the brute-force predicate's set. */
static void test_concept_library(void **state) {
  (void)state;
  nsr_store_close(fresh_store("concepts.db", NULL));
  json_t *r = query_ok("concepts.db",
                       "SELECT name, size, hex(extension), definition FROM concepts"
                       " WHERE domain_max = 100 ORDER BY id", 100);
  json_t *rows = json_object_get(r, "rows");
  assert_int_equal(json_array_size(rows), 34);
  for (int rule = 0; rule < 34; rule++) {
    json_t *row = json_array_get(rows, (size_t)rule);
    assert_string_equal(json_string_value(json_array_get(row, 0)), nsr_numbers_rule_name((uint32_t)rule));
    const char *hex = json_string_value(json_array_get(row, 2));
    int size = 0;
    for (uint32_t y = 0; y <= 100; y++) {
      unsigned byte;
      sscanf(hex + 2 * (y / 8), "%2x", &byte);
      bool in = (byte >> (y % 8)) & 1u;
      assert_int_equal(in, y >= 1 && rule_has(rule, y));
      size += in;
    }
    assert_int_equal(json_integer_value(json_array_get(row, 1)), size);
    assert_memory_equal(json_string_value(json_array_get(row, 3)), "(lambda (x)", 11);
  }
  json_decref(r);
  /* Syncing again adds nothing. */
  nsr_store *s;
  assert_int_equal(nsr_store_open(db_path("concepts.db"), &s, NULL), NSR_OK);
  nsr_numbers_config cfg;
  nsr_numbers_config_default(&cfg);
  nsr_numbers *e;
  assert_int_equal(nsr_numbers_new(&cfg, &e, NULL), NSR_OK);
  assert_int_equal(nsr_store_sync_concepts(s, e, NULL), NSR_OK);
  nsr_numbers_free(e);
  nsr_store_close(s);
  r = query_ok("concepts.db", "SELECT count(*) FROM concepts", 1);
  assert_int_equal(json_integer_value(first_cell(r)), 34);
  json_decref(r);
}

static void test_models_and_rules(void **state) {
  (void)state;
  int64_t model, again;
  nsr_store *s = fresh_store("rules.db", &model);
  nsr_error err;
  assert_int_equal(nsr_store_add_model(s, "ab12", "other/path", "{}", &again, &err), NSR_OK);
  assert_int_equal(again, model);
  nsr_store_rule rules[3] = {
      {"alignment", 0, 17, "unit 17 > 0.42", "multiples of 4", 0.97, 0.9, 0.25, 25, NULL, NULL, NULL},
      {"probe", 1, -1, "probe(layer 1)", "even", NAN, NAN, NAN, -1, NULL, NULL, NULL},
      {"cart", -1, -1, "u3 > 0.1 and u9 <= 0.7", "powers of 2", 0.88, 0.85, 0.06, 6, NULL, NULL, NULL}};
  assert_int_equal(nsr_store_add_rules(s, model, rules, 3, &err), NSR_OK);
  /* A rule for a model that does not exist fails the whole batch. */
  assert_int_equal(nsr_store_add_rules(s, model + 99, rules, 3, &err), NSR_ERR_IO);
  assert_non_null(strstr(err.message, "FOREIGN KEY"));
  nsr_store_close(s);
  json_t *r = query_ok("rules.db", "SELECT count(*), count(fidelity), count(unit) FROM rules", 1);
  json_t *row = json_array_get(json_object_get(r, "rows"), 0);
  assert_int_equal(json_integer_value(json_array_get(row, 0)), 3);
  assert_int_equal(json_integer_value(json_array_get(row, 1)), 2); /* NAN stored as NULL */
  assert_int_equal(json_integer_value(json_array_get(row, 2)), 1);
  json_decref(r);
}

/* One integer from SQL run on a plain connection (the query path refuses
 * PRAGMA). */
static int64_t raw_int(const char *name, const char *sql) {
  sqlite3 *db;
  sqlite3_stmt *st;
  assert_int_equal(sqlite3_open(db_path(name), &db), SQLITE_OK);
  assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
  assert_int_equal(sqlite3_step(st), SQLITE_ROW);
  int64_t v = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  sqlite3_close(db);
  return v;
}

/* A store written by schema 2 (schema 3 minus its columns, user_version
 * 2) is upgraded on open: its rows stay, the new columns read NULL, and
 * sampled rules can be added. */
static void test_upgrade_from_schema_2(void **state) {
  (void)state;
  int64_t model;
  nsr_store *s = fresh_store("v2.db", &model);
  nsr_error err;
  nsr_store_rule old = {"alignment", 0, 3, "ffn.0[3] > 0.5", "even", 0.9, NAN, 1.0, 50, NULL, NULL, NULL};
  assert_int_equal(nsr_store_add_rules(s, model, &old, 1, &err), NSR_OK);
  nsr_store_close(s);
  sqlite3 *db;
  assert_int_equal(sqlite3_open(db_path("v2.db"), &db), SQLITE_OK);
  const char *v3[] = {"sample_size", "fidelity_lo", "fidelity_hi", "accuracy_lo", "accuracy_hi",
                      "completeness_lo", "completeness_hi"};
  for (size_t i = 0; i < sizeof v3 / sizeof v3[0]; i++) {
    char sql[100];
    snprintf(sql, sizeof sql, "ALTER TABLE rules DROP COLUMN %s", v3[i]);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
  }
  assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 2", NULL, NULL, NULL), SQLITE_OK);
  sqlite3_close(db);
  assert_int_equal(raw_int("v2.db", "SELECT count(*) FROM pragma_table_info('rules') WHERE name = 'sample_size'"), 0);
  assert_int_equal(nsr_store_open(db_path("v2.db"), &s, &err), NSR_OK);
  nsr_store_rule sampled = {"cart", -1, -1, "pooled[1] > 0", "class 2", 0.75, NAN, 0.5, 20, NULL, NULL, NULL};
  nsr_store_sample stats = {.size = 40, .fidelity = {0.53, 0.89}, .accuracy = {NAN, NAN},
                            .completeness = {0.35, 0.65}};
  int64_t again;
  assert_int_equal(nsr_store_add_extraction(s, "cd34", "n.safetensors", "{}", &sampled, &stats, 1,
                                            &again, &err), NSR_OK);
  nsr_store_close(s);
  json_t *r = query_ok("v2.db", "SELECT method, sample_size, fidelity_lo, fidelity_hi, accuracy_lo, "
                        "completeness_hi, fidelity FROM rules ORDER BY id", 10);
  json_t *rows = json_object_get(r, "rows");
  assert_int_equal(json_array_size(rows), 2);
  json_t *a = json_array_get(rows, 0), *b = json_array_get(rows, 1);
  assert_string_equal(json_string_value(json_array_get(a, 0)), "alignment");
  for (size_t c = 1; c < 6; c++) assert_true(json_is_null(json_array_get(a, c)));
  assert_float_equal(json_real_value(json_array_get(a, 6)), 0.9, 1e-12);
  assert_int_equal(json_integer_value(json_array_get(b, 1)), 40);
  assert_float_equal(json_real_value(json_array_get(b, 2)), 0.53, 1e-12);
  assert_float_equal(json_real_value(json_array_get(b, 3)), 0.89, 1e-12);
  assert_true(json_is_null(json_array_get(b, 4)));
  assert_float_equal(json_real_value(json_array_get(b, 5)), 0.65, 1e-12);
  json_decref(r);
  assert_int_equal(raw_int("v2.db", "PRAGMA user_version"), NSR_STORE_SCHEMA_VERSION);
  assert_int_equal(raw_int("v2.db", "SELECT count(*) FROM pragma_table_info('rules') WHERE name = 'sample_size'"), 1);
}

/* `sql` under a time limit of ms fails with code and a message holding
 * needle. */
static void expect_refused_in(const char *sql, int ms, nsr_code code, const char *needle) {
  json_t *r = NULL;
  nsr_error err;
  nsr_code rc = nsr_store_query(db_path("rules.db"), sql, 100, ms, &r, &err);
  if (rc != code) fail_msg("%s: got %d (%s)", sql, rc, rc ? err.message : "ok");
  if (strstr(err.message, needle) == NULL) fail_msg("%s: '%s' not in '%s'", sql, needle, err.message);
  assert_null(r);
}

/* The same under a limit no machine reaches (valgrind included), so a
 * cap, never the clock, is what stops the statement. */
static void expect_refused(const char *sql, nsr_code code, const char *needle) {
  expect_refused_in(sql, 600000, code, needle);
}

static void test_query_refuses_writes_and_tricks(void **state) {
  (void)state;
  expect_refused("DELETE FROM rules", NSR_ERR_INVALID, "not authorized");
  expect_refused("UPDATE rules SET fidelity = 1", NSR_ERR_INVALID, "not authorized");
  expect_refused("INSERT INTO models(sha256, config_json) VALUES ('x', '{}')", NSR_ERR_INVALID, "not authorized");
  expect_refused("DROP TABLE rules", NSR_ERR_INVALID, "not authorized");
  expect_refused("CREATE TABLE t(x)", NSR_ERR_INVALID, "not authorized");
  expect_refused("PRAGMA user_version = 7", NSR_ERR_INVALID, "not authorized");
  expect_refused("PRAGMA table_info(rules)", NSR_ERR_INVALID, "not authorized");
  expect_refused("ATTACH DATABASE '/tmp/x.db' AS x", NSR_ERR_INVALID, "not authorized");
  expect_refused("SELECT 1; DELETE FROM rules", NSR_ERR_INVALID, "only one statement");
  expect_refused("SELECT 1; SELECT 2", NSR_ERR_INVALID, "only one statement");
  expect_refused("SELECT load_extension('/tmp/evil.so')", NSR_ERR_INVALID, "");
  expect_refused("SELEKT 1", NSR_ERR_INVALID, "syntax error");
  expect_refused("", NSR_ERR_INVALID, "no statement");
  expect_refused("SELECT * FROM no_such_table", NSR_ERR_INVALID, "no such table");
  expect_refused("SELECT zeroblob(5000000)", NSR_ERR_INVALID, "too big");
  expect_refused_in("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c)"
                    " SELECT count(*) FROM c",
                    300, NSR_ERR_LIMIT, "time limit of 300 ms");
  json_t *r = query_ok("rules.db", "SELECT count(*) FROM rules; -- a trailing comment", 1);
  assert_int_equal(json_integer_value(first_cell(r)), 3);
  json_decref(r);
  /* Nothing was written. */
  r = query_ok("rules.db", "SELECT count(*) FROM models", 1);
  assert_int_equal(json_integer_value(first_cell(r)), 1);
  json_decref(r);
}

/* An SQL text of `n` copies of `unit` between `head` and `tail`; the
 * caller frees it. */
static char *repeated(const char *head, const char *unit, size_t n, const char *tail) {
  size_t len = strlen(head) + n * strlen(unit) + strlen(tail) + 1;
  char *sql = malloc(len);
  assert_non_null(sql);
  strcpy(sql, head);
  for (size_t i = 0; i < n; i++) strcat(sql, unit);
  strcat(sql, tail);
  return sql;
}

/* Functions by allow-list: the pointer leak and its two-argument
 * twin, the 10-second printf, and every other unlisted function or
 * table is refused while preparing, naming what was refused. */
static void test_query_function_allow_list(void **state) {
  (void)state;
  expect_refused("SELECT length(printf('%.*c', 2147483647, 'x'))", NSR_ERR_INVALID,
                 "not authorized: function printf() is not on the allow-list");
  expect_refused("SELECT format('%d', 1)", NSR_ERR_INVALID, "function format()");
  expect_refused("SELECT hex(fts3_tokenizer('simple'))", NSR_ERR_INVALID, "function fts3_tokenizer()");
  expect_refused("SELECT fts3_tokenizer('mine', x'0100000000000000')", NSR_ERR_INVALID,
                 "function fts3_tokenizer()");
  expect_refused("SELECT load_extension('/tmp/evil.so')", NSR_ERR_INVALID, "function load_extension()");
  expect_refused("SELECT sqlite_compileoption_used('THREADSAFE')", NSR_ERR_INVALID,
                 "function sqlite_compileoption_used()");
  expect_refused("SELECT changes()", NSR_ERR_INVALID, "function changes()");
  expect_refused("SELECT sqlite_version()", NSR_ERR_INVALID, "function sqlite_version()");
  expect_refused("SELECT * FROM pragma_database_list", NSR_ERR_INVALID, "not authorized");
  expect_refused("SELECT * FROM pragma_table_info('rules')", NSR_ERR_INVALID, "not authorized");
  expect_refused("SELECT count(*) FROM temp.sqlite_master", NSR_ERR_INVALID,
                 "reading table 'sqlite_master' of 'temp'");
  expect_refused("DELETE FROM rules", NSR_ERR_INVALID, "DELETE from rules");
  /* Listed functions work; 5 and the strings below are read off the
   * literals by hand. */
  json_t *r = query_ok("rules.db",
                       "SELECT instr('hello world', 'o w'), replace('a-b-c', '-', '+'),"
                       " trim('xxhixx', 'x'), ltrim('  a'), rtrim('ab  ', ' '), trim('  a  '),"
                       " json_extract('{\"a\":[1,2]}', '$.a[1]'), round(2.567, 2), upper('x'),"
                       " '{\"k\":3}' ->> 'k'", 1);
  json_t *row = json_array_get(json_object_get(r, "rows"), 0);
  assert_int_equal(json_integer_value(json_array_get(row, 0)), 5);
  assert_string_equal(json_string_value(json_array_get(row, 1)), "a+b+c");
  assert_string_equal(json_string_value(json_array_get(row, 2)), "hi");
  assert_string_equal(json_string_value(json_array_get(row, 3)), "a");
  assert_string_equal(json_string_value(json_array_get(row, 4)), "ab");
  assert_string_equal(json_string_value(json_array_get(row, 5)), "a");
  assert_int_equal(json_integer_value(json_array_get(row, 6)), 2);
  assert_float_equal(json_real_value(json_array_get(row, 7)), 2.57, 1e-12);
  assert_string_equal(json_string_value(json_array_get(row, 8)), "X");
  assert_int_equal(json_integer_value(json_array_get(row, 9)), 3);
  json_decref(r);
  r = query_ok("rules.db", "SELECT max(n) FROM (SELECT row_number() OVER (ORDER BY id) AS n FROM rules)", 1);
  assert_int_equal(json_integer_value(first_cell(r)), 3);
  json_decref(r);
  r = query_ok("rules.db", "SELECT count(*) > 0 FROM sqlite_schema", 1);
  assert_int_equal(json_integer_value(first_cell(r)), 1);
  json_decref(r);
  r = query_ok("rules.db", "SELECT group_concat(method, '|') FROM (SELECT method FROM rules ORDER BY id)", 1);
  assert_non_null(json_string_value(first_cell(r)));
  json_decref(r);
}

/* What one value, one call and one result may cost, each cousin of the
 * issue's reproducers refused with the cap it ran into. */
static void test_query_value_caps(void **state) {
  (void)state;
  /* hex() of 131071 bytes is 262142 characters and its terminating zero:
   * within the cap; one byte more is not. */
  json_t *r = query_ok("rules.db", "SELECT length(hex(zeroblob(131071)))", 1);
  assert_int_equal(json_integer_value(first_cell(r)), 262142);
  json_decref(r);
  expect_refused("SELECT hex(zeroblob(131072))", NSR_ERR_INVALID, "at most 262144 bytes");
  expect_refused("SELECT hex(zeroblob(10000000))", NSR_ERR_INVALID, "at most 262144 bytes");
  /* 2000 characters with each '0' made 200: 400000 > 262144. */
  expect_refused("SELECT replace(hex(zeroblob(1000)), '0', hex(zeroblob(100)))", NSR_ERR_INVALID,
                 "at most 262144 bytes");
  /* 1000 pieces of 2000 characters. */
  expect_refused("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 1000)"
                 " SELECT group_concat(hex(zeroblob(1000))) FROM c",
                 NSR_ERR_INVALID, "at most 262144 bytes");
  /* instr(), replace() and trim(X, Y) cost len(X) * len(Y) in one step:
   * 4096 * 4096 = 16777216 is allowed, 4097 * 4096 is not. */
  r = query_ok("rules.db", "SELECT instr(hex(zeroblob(2048)), hex(zeroblob(2048)))", 1);
  assert_int_equal(json_integer_value(first_cell(r)), 1);
  json_decref(r);
  expect_refused("SELECT instr(hex(zeroblob(2048)) || '0', hex(zeroblob(2048)))", NSR_ERR_INVALID,
                 "instr(): arguments of 4097 and 4096 bytes are too long together");
  expect_refused("SELECT replace(hex(zeroblob(100000)), hex(zeroblob(100)), '')", NSR_ERR_INVALID,
                 "replace(): arguments of 200000 and 200 bytes");
  expect_refused("SELECT trim(hex(zeroblob(100000)), hex(zeroblob(100)))", NSR_ERR_INVALID, "trim():");
  expect_refused("SELECT ltrim(hex(zeroblob(100000)), hex(zeroblob(100)))", NSR_ERR_INVALID, "ltrim():");
  expect_refused("SELECT rtrim(hex(zeroblob(100000)), hex(zeroblob(100)))", NSR_ERR_INVALID, "rtrim():");
  /* The zeroblob-to-hex query: each row is 100000 bytes, 200000 as
   * hex, and 42 of them pass 8 MiB (41 * 200000 = 8200000 <= 8388608). */
  expect_refused("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 1000)"
                 " SELECT zeroblob(100000) FROM c",
                 NSR_ERR_LIMIT, "the result passed 8388608 bytes at row 42");
}

/* The statement's own size and shape. */
static void test_query_statement_caps(void **state) {
  (void)state;
  char *sql = repeated("SELECT 1", "+1", 150, "");
  expect_refused(sql, NSR_ERR_INVALID, "maximum depth 100");
  free(sql);
  sql = repeated("SELECT 1", " UNION ALL SELECT 1", 60, "");
  expect_refused(sql, NSR_ERR_INVALID, "too many terms in compound SELECT");
  free(sql);
  sql = repeated("SELECT 1", ",1", 100, "");
  expect_refused(sql, NSR_ERR_INVALID, "too many columns");
  free(sql);
  sql = repeated("SELECT max(1", ",1", 32, ")");
  expect_refused(sql, NSR_ERR_INVALID, "too many arguments on function max");
  free(sql);
  sql = repeated("SELECT 'a' LIKE '", "%", 1001, "'");
  expect_refused(sql, NSR_ERR_INVALID, "pattern too complex");
  free(sql);
  sql = repeated("SELECT 1 -- ", "x", 100000 - 12 + 1, "");
  expect_refused(sql, NSR_ERR_INVALID, "the statement is 100001 bytes long; at most 100000");
  free(sql);
  expect_refused("SELECT ?1", NSR_ERR_INVALID, "variable");
}

/* A store whose page 2 is overwritten is refused before anything is
 * written: the file keeps every byte. */
static void test_damaged_store_refused(void **state) {
  (void)state;
  nsr_store_close(fresh_store("damaged.db", NULL));
  damage_sqlite_page(db_path("damaged.db"), 2);
  long size, size_after;
  unsigned char *before = read_file_bytes(db_path("damaged.db"), &size);
  nsr_store *s = NULL;
  nsr_error err;
  assert_int_equal(nsr_store_open(db_path("damaged.db"), &s, &err), NSR_ERR_IO);
  assert_null(s);
  if (strstr(err.message, "is damaged (PRAGMA quick_check: ") == NULL ||
      strstr(err.message, "nothing was written") == NULL || strchr(err.message, '\n') != NULL) {
    fail_msg("%s", err.message);
  }
  unsigned char *after = read_file_bytes(db_path("damaged.db"), &size_after);
  assert_int_equal(size_after, size);
  assert_memory_equal(before, after, (size_t)size);
  free(before);
  free(after);
}

static void test_query_row_cap_and_types(void **state) {
  (void)state;
  json_t *r = query_ok("rules.db", "SELECT id, body, fidelity, NULL, x'00ff' FROM rules ORDER BY id", 2);
  assert_true(json_is_true(json_object_get(r, "truncated")));
  json_t *rows = json_object_get(r, "rows");
  assert_int_equal(json_array_size(rows), 2);
  json_t *row = json_array_get(rows, 0);
  assert_true(json_is_integer(json_array_get(row, 0)));
  assert_string_equal(json_string_value(json_array_get(row, 1)), "unit 17 > 0.42");
  assert_true(fabs(json_real_value(json_array_get(row, 2)) - 0.97) < 1e-12);
  assert_true(json_is_null(json_array_get(row, 3)));
  assert_string_equal(json_string_value(json_array_get(row, 4)), "00ff");
  assert_int_equal(json_array_size(json_object_get(r, "columns")), 5);
  json_decref(r);
}

static void test_bad_files(void **state) {
  (void)state;
  nsr_store *s;
  nsr_error err;
  FILE *f = fopen(db_path("text.db"), "w");
  fputs("this is not a database, it is a sentence that is long enough to look like a header.\n", f);
  fclose(f);
  assert_int_equal(nsr_store_open(db_path("text.db"), &s, &err), NSR_ERR_FORMAT);
  assert_non_null(strstr(err.message, "not a database"));
  json_t *r;
  assert_int_equal(nsr_store_query(db_path("text.db"), "SELECT 1 FROM rules", 1, 100, &r, &err), NSR_ERR_INVALID);
  /* A store from a newer nsr is left alone. */
  sqlite3 *db;
  assert_int_equal(sqlite3_open(db_path("future.db"), &db), SQLITE_OK);
  assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL), SQLITE_OK);
  sqlite3_close(db);
  assert_int_equal(nsr_store_open(db_path("future.db"), &s, &err), NSR_ERR_FORMAT);
  assert_non_null(strstr(err.message, "schema version 99"));
  assert_int_equal(nsr_store_open("/nonexistent/dir/x.db", &s, &err), NSR_ERR_IO);
  assert_int_equal(nsr_store_query("/nonexistent/x.db", "SELECT 1", 1, 100, &r, &err), NSR_ERR_IO);
}

/* A reader sees the last commit while a writer holds a transaction (WAL). */
static void test_reader_during_write(void **state) {
  (void)state;
  sqlite3 *writer;
  assert_int_equal(sqlite3_open(db_path("rules.db"), &writer), SQLITE_OK);
  assert_int_equal(sqlite3_exec(writer, "BEGIN IMMEDIATE; DELETE FROM rules;", NULL, NULL, NULL), SQLITE_OK);
  json_t *r = query_ok("rules.db", "SELECT count(*) FROM rules", 1);
  assert_int_equal(json_integer_value(first_cell(r)), 3);
  json_decref(r);
  sqlite3_exec(writer, "ROLLBACK", NULL, NULL, NULL);
  sqlite3_close(writer);
}

int main(void) {
  nsr_json_init();
  if (mkdtemp(dir) == NULL) return 1;
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_schema_and_wal),
      cmocka_unit_test(test_concept_library),
      cmocka_unit_test(test_models_and_rules),
      cmocka_unit_test(test_upgrade_from_schema_2),
      cmocka_unit_test(test_query_refuses_writes_and_tricks),
      cmocka_unit_test(test_query_function_allow_list),
      cmocka_unit_test(test_query_value_caps),
      cmocka_unit_test(test_query_statement_caps),
      cmocka_unit_test(test_query_row_cap_and_types),
      cmocka_unit_test(test_damaged_store_refused),
      cmocka_unit_test(test_bad_files),
      cmocka_unit_test(test_reader_during_write),
  };
  int failed = cmocka_run_group_tests(tests, NULL, NULL);
  char cmd[300];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  return system(cmd) != 0 ? 1 : failed;
}
