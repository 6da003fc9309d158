/* test_mcp_tools.c: run_program, query_rules and the rules://{id}
 * resources through a real `nsr mcp` on pipes, under hostile input:
 * programs that loop forever or allocate without bound, foreign forms
 * naming functions the host did not allow, SQL that writes or holds
 * several statements or runs too long, URIs that name nothing. Each gets a
 * clean error and the server keeps serving. argv: the nsr binary, the test
 * library. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "test_workdir.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mcp_proc.h"

/* Programs that loop forever or allocate without bound, hostile foreign
 * forms: each a tool error naming what to change, the server serving on. */
static void test_run_program_hostile(void **state) {
  (void)state;
  char allow[400];
  snprintf(allow, sizeof allow, "%s:t_add:int64(int64, int64)", testlib);
  server *s = start((const char *const[]){"--max-steps", "3000000", "--max-memory", "32M",
                                          "--foreign", allow, NULL});
  initialize(s, "2025-11-25", "2025-11-25");
  tool_fails(s, 1, "run_program", "{\"source\":\"(define (f) (f)) (f)\"}",
             "step budget of 3000000 steps exhausted");
  tool_fails(s, 2, "run_program", "{\"source\":\"(define (g s) (g (string-append s s))) (g \\\"xx\\\")\"}",
             "memory budget of 33554432 bytes exhausted");
  tool_fails(s, 3, "run_program", "{\"source\":\"(+ 1\"}", "source:1:");
  /* Recursion that is not a tail call grows the interpreter's stacks,
   * which the memory budget covers; nesting in the source is capped
   * before the reader could exhaust the C stack. */
  tool_fails(s, 3, "run_program", "{\"source\":\"(define (f n) (+ 1 (f n))) (f 0)\"}",
             "memory budget of 33554432 bytes exhausted");
  char *deep = malloc(200020);
  assert_non_null(deep);
  strcpy(deep, "{\"source\":\"");
  memset(deep + 11, '(', 100000);
  memset(deep + 100011, ')', 100000);
  strcpy(deep + 200011, "\"}");
  tool_fails(s, 3, "run_program", deep, "nested more than 1000 levels deep");
  free(deep);
  tool_fails(s, 4, "run_program", "{\"source\":\"(car 5)\"}", "expected a pair as argument 1, got 5");
  tool_fails(s, 5, "run_program", "{\"source\":\"1\",\"seed\":-1}", "below the minimum 0");
  tool_fails(s, 6, "run_program", "{\"source\":\"1\",\"args\":[[1]]}", "arguments.args[0]");
  /* Only the allow-listed pair is ever bound: not another function of
   * the same library (t_secret is in no manifest and no allow-list), not
   * libc's system, not the same name in another library. */
  char src[1200];
  snprintf(src, sizeof src, "{\"source\":\"(foreign \\\"%s\\\" \\\"t_secret\\\" \\\"int64\\\" '())\"}", testlib);
  tool_fails(s, 7, "run_program", src, ":t_secret' is not allow-listed");
  tool_fails(s, 8, "run_program",
             "{\"source\":\"(foreign \\\"libc.so.6\\\" \\\"system\\\" \\\"int64\\\" '(\\\"const char*\\\"))\"}",
             "'libc.so.6:system' is not allow-listed");
  tool_fails(s, 9, "run_program",
             "{\"source\":\"(foreign \\\"libm.so.6\\\" \\\"t_add\\\" \\\"int64\\\" '(\\\"int64\\\" \\\"int64\\\"))\"}",
             "'libm.so.6:t_add' is not allow-listed");
  snprintf(src, sizeof src, "{\"source\":\"(foreign \\\"%s\\\" \\\"t_add\\\" \\\"int64\\\" '(\\\"float\\\"))\"}", testlib);
  tool_fails(s, 10, "run_program", src, "each parameter type must be one of int64, int32, uint64, double, bool, const char*");
  snprintf(src, sizeof src, "{\"source\":\"(foreign \\\"%s\\\" \\\"t_add\\\" \\\"int64\\\" '(\\\"int64\\\" \\\"int64\\\")) (t_add 1.5 2)\"}", testlib);
  tool_fails(s, 11, "run_program", src, "t_add: argument 1 must be an exact integer (int64)");
  snprintf(src, sizeof src, "{\"source\":\"(foreign \\\"%s\\\" \\\"t_add\\\" \\\"int64\\\" '(\\\"int64\\\" \\\"int64\\\")) (t_add 1)\"}", testlib);
  tool_fails(s, 12, "run_program", src, "t_add");
  /* The allowed one works, and a program rebinding it in a loop reuses
   * one binding: 40 + 2 by the library, 1 + ... + 100 = 5050 by Gauss. */
  snprintf(src, sizeof src,
           "{\"source\":\"(define (bind) (foreign \\\"%s\\\" \\\"t_add\\\" \\\"int64\\\" '(\\\"int64\\\" \\\"int64\\\") 'add))"
           " (bind) (define (sum n) (bind) (if (= n 0) 0 (add n (sum (- n 1))))) (list (add 40 2) (sum 100))\"}",
           testlib);
  json_t *sc = tool_ok(s, 13, "run_program", src);
  assert_int_equal(json_integer_value(json_array_get(json_object_get(sc, "value"), 0)), 42);
  assert_int_equal(json_integer_value(json_array_get(json_object_get(sc, "value"), 1)), 5050);
  json_decref(sc);
  /* Printed output is capped at 64 KiB: 10,000 lines of 11 bytes (display
   * ends each line). */
  sc = tool_ok(s, 14, "run_program",
               "{\"source\":\"(define (p n) (if (> n 0) (begin (display \\\"0123456789\\\") (p (- n 1))) 'done)) (p 10000)\"}");
  assert_true(json_is_true(json_object_get(sc, "output_truncated")));
  assert_int_equal(json_string_length(json_object_get(sc, "output")), 65536); /* ASCII: cut at the byte */
  assert_string_equal(json_string_value(json_object_get(sc, "value")), "done");
  json_decref(sc);
  /* Every call is a fresh interpreter: nothing defined before survives. */
  json_decref(tool_ok(s, 15, "run_program", "{\"source\":\"(define secret 7) secret\"}"));
  tool_fails(s, 16, "run_program", "{\"source\":\"secret\"}", "unbound variable 'secret'");
  stop(s);
  /* Wall time, with steps to spare. */
  s = start((const char *const[]){"--max-time", "0.3", NULL});
  initialize(s, "2025-11-25", "2025-11-25");
  tool_fails(s, 1, "run_program", "{\"source\":\"(define (f) (f)) (f)\"}",
             "time budget of 0.3 seconds exhausted");
  /* Without --foreign no program may bind anything. */
  tool_fails(s, 2, "run_program",
             "{\"source\":\"(foreign \\\"libm.so.6\\\" \\\"cbrt\\\" \\\"double\\\" '(\\\"double\\\"))\"}",
             "it allows none");
  stop(s);
}

/* The host pins each foreign function's C signature: the two reproducers
 * of issue 19 (strlen declared int64(int64) and called on a number,
 * getenv declared to return int64) are clean errors naming both
 * signatures, a number where a string is pinned is a type error, and an
 * int result (isalpha's, nonzero for a letter by the C standard) is read
 * whole. The server serves on after each. */
static void test_run_program_pinned_foreign(void **state) {
  (void)state;
  server *s = start((const char *const[]){"--foreign", "libc.so.6:strlen:size_t(const char*)",
                                          "--foreign", "libc.so.6:getenv:const char*(const char*)",
                                          "--foreign", "libc.so.6:isalpha:int(int)", NULL});
  initialize(s, "2025-11-25", "2025-11-25");
  tool_fails(s, 1, "run_program",
             "{\"source\":\"(foreign \\\"libc.so.6\\\" \\\"strlen\\\" \\\"int64\\\" (list \\\"int64\\\")) (strlen 4096)\"}",
             "foreign: the host pins 'libc.so.6:strlen' as uint64(const char*), but the program declares int64(int64)");
  tool_fails(s, 2, "run_program", "{\"source\":\"(foreign \\\"libc.so.6\\\" \\\"strlen\\\") (strlen 4096)\"}",
             "strlen: argument 1 must be a string (const char*)");
  tool_fails(s, 3, "run_program",
             "{\"source\":\"(foreign \\\"libc.so.6\\\" \\\"getenv\\\" \\\"int64\\\" (list \\\"const char*\\\")) (getenv \\\"HOME\\\")\"}",
             "the host pins 'libc.so.6:getenv' as const char*(const char*), but the program declares int64(const char*)");
  tool_fails(s, 4, "run_program",
             "{\"source\":\"(foreign \\\"libc.so.6\\\" \\\"isalpha\\\" 'bool '(int))\"}",
             "as int32(int32), but the program declares bool(int32)");
  json_t *sc = tool_ok(s, 5, "run_program",
                       "{\"source\":\"(foreign \\\"libc.so.6\\\" \\\"strlen\\\" 'size_t '(\\\"const char*\\\"))"
                       " (foreign \\\"libc.so.6\\\" \\\"isalpha\\\")"
                       " (list (strlen \\\"hello\\\") (not (= 0 (isalpha 65))) (isalpha 48))\"}");
  json_t *want = json_pack("[i,b,i]", 5, 1, 0); /* 5 letters; 'A' is a letter, '0' is not */
  assert_true(json_equal(json_object_get(sc, "value"), want));
  json_decref(want);
  json_decref(sc);
  stop(s);
}

/* A rule store made by `nsr store init`, with two rules as an extractor
 * writes them. */
static void make_store(const char *path) {
  pid_t pid = fork();
  if (pid == 0) {
    freopen("/dev/null", "w", stdout);
    execl(nsr_bin, nsr_bin, "store", "init", "--db", path, (char *)NULL);
    _exit(127);
  }
  int status;
  waitpid(pid, &status, 0);
  assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  sqlite3 *db;
  assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
  assert_int_equal(sqlite3_exec(db,
      "INSERT INTO models(id, sha256, config_json) VALUES (1, 'ab12', '{}');"
      "INSERT INTO rules(id, model_id, method, layer, unit, body, conclusion, fidelity, support)"
      " VALUES (1, 1, 'probe', 2, 17, 'unit 17 > 0.42', 'multiples of 4', 0.5, 25),"
      " (2, 1, 'cart', NULL, NULL, 'x mod 10 = 7', 'ends in 7', 0.25, 10);",
      NULL, NULL, NULL), SQLITE_OK);
  sqlite3_close(db);
}

static void test_rules_hostile(void **state) {
  (void)state;
  char db[300];
  snprintf(db, sizeof db, "%s/rules.db", workdir);
  make_store(db);
  server *s = start((const char *const[]){"--db", db, NULL});
  initialize(s, "2025-11-25", "2025-11-25");
  json_t *sc = tool_ok(s, 1, "query_rules", "{\"sql\":\"SELECT id, conclusion, fidelity FROM rules ORDER BY id\"}");
  json_t *want = json_loads("{\"columns\":[\"id\",\"conclusion\",\"fidelity\"],"
                            "\"rows\":[[1,\"multiples of 4\",0.5],[2,\"ends in 7\",0.25]],\"truncated\":false}", 0, NULL);
  assert_true(json_equal(sc, want));
  json_decref(want);
  json_decref(sc);
  /* 34 concepts in the library; two of them asked for. */
  sc = tool_ok(s, 2, "query_rules", "{\"sql\":\"SELECT name FROM concepts\",\"limit\":2}");
  assert_int_equal(json_array_size(json_object_get(sc, "rows")), 2);
  assert_true(json_is_true(json_object_get(sc, "truncated")));
  json_decref(sc);
  tool_fails(s, 3, "query_rules", "{\"sql\":\"DELETE FROM rules\"}", "SQL refused");
  tool_fails(s, 4, "query_rules", "{\"sql\":\"SELECT 1; DELETE FROM rules\"}", "only one statement");
  tool_fails(s, 5, "query_rules", "{\"sql\":\"SELECT 1; SELECT 2\"}", "only one statement");
  tool_fails(s, 6, "query_rules", "{\"sql\":\"PRAGMA writable_schema = 1\"}", "SQL refused");
  tool_fails(s, 7, "query_rules", "{\"sql\":\"ATTACH DATABASE '/tmp/x.db' AS x\"}", "SQL refused");
  tool_fails(s, 8, "query_rules", "{\"sql\":\"UPDATE rules SET body = 'x'\"}", "SQL refused");
  tool_fails(s, 9, "query_rules", "{\"sql\":\"SELEKT 1\"}", "SQL refused");
  tool_fails(s, 10, "query_rules", "{\"sql\":\"SELECT 1\",\"limit\":0}", "below the minimum 1");
  tool_fails(s, 11, "query_rules", "{\"sql\":\"WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c\"}",
             "time limit of 2000 ms");
  /* The reproducers: a printf that ran 10.9 s, a pointer out of
   * libsqlite3, a zeroblob-to-hex result that ran 7.9 s; and cousins. */
  tool_fails(s, 13, "query_rules", "{\"sql\":\"SELECT length(printf('%.*c',2147483647,'x'))\"}",
             "function printf() is not on the allow-list");
  tool_fails(s, 14, "query_rules", "{\"sql\":\"SELECT hex(fts3_tokenizer('simple'))\"}",
             "function fts3_tokenizer() is not on the allow-list");
  tool_fails(s, 15, "query_rules", "{\"sql\":\"SELECT fts3_tokenizer('mine', x'0100000000000000')\"}",
             "function fts3_tokenizer() is not on the allow-list");
  /* (The 8 MiB result cap is checked in test_store.c, under a time limit
   * no machine reaches; query_rules' 2 s could come first on a slow one.) */
  tool_fails(s, 16, "query_rules", "{\"sql\":\"SELECT hex(zeroblob(200000))\"}", "at most 262144 bytes");
  tool_fails(s, 17, "query_rules", "{\"sql\":\"SELECT replace(hex(zeroblob(100000)), hex(zeroblob(1000)), '')\"}",
             "replace(): arguments of 200000 and 2000 bytes are too long together");
  tool_fails(s, 18, "query_rules", "{\"sql\":\"SELECT * FROM pragma_database_list\"}", "not authorized");
  /* Nothing was written. */
  sc = tool_ok(s, 12, "query_rules", "{\"sql\":\"SELECT count(*), sum(length(body)) FROM rules\"}");
  assert_int_equal(json_integer_value(json_array_get(json_array_get(json_object_get(sc, "rows"), 0), 0)), 2);
  assert_int_equal(json_integer_value(json_array_get(json_array_get(json_object_get(sc, "rows"), 0), 1)), 14 + 12);
  json_decref(sc);
  /* Resources. */
  json_t *r = expect_result(request(s, "{\"jsonrpc\":\"2.0\",\"id\":20,\"method\":\"resources/list\"}"), 20);
  json_t *list = json_object_get(r, "resources");
  assert_int_equal(json_array_size(list), 2);
  assert_string_equal(json_string_value(json_object_get(json_array_get(list, 0), "uri")), "rules://1");
  assert_string_equal(json_string_value(json_object_get(json_array_get(list, 0), "title")), "unit 17 > 0.42 => multiples of 4");
  assert_null(json_object_get(r, "nextCursor"));
  json_decref(r);
  r = expect_result(request(s, "{\"jsonrpc\":\"2.0\",\"id\":21,\"method\":\"resources/list\",\"params\":{\"cursor\":\"1\"}}"), 21);
  assert_int_equal(json_array_size(json_object_get(r, "resources")), 1);
  json_decref(r);
  r = expect_result(request(s, "{\"jsonrpc\":\"2.0\",\"id\":22,\"method\":\"resources/read\",\"params\":{\"uri\":\"rules://2\"}}"), 22);
  json_t *content = json_array_get(json_object_get(r, "contents"), 0);
  assert_string_equal(json_string_value(json_object_get(content, "uri")), "rules://2");
  json_t *rule = json_loads(json_string_value(json_object_get(content, "text")), 0, NULL);
  assert_string_equal(json_string_value(json_object_get(rule, "conclusion")), "ends in 7");
  assert_true(json_is_null(json_object_get(rule, "layer")));
  assert_true(json_real_value(json_object_get(rule, "fidelity")) == 0.25);
  json_decref(rule);
  json_decref(r);
  r = expect_result(request(s, "{\"jsonrpc\":\"2.0\",\"id\":23,\"method\":\"resources/templates/list\"}"), 23);
  assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(r, "resourceTemplates"), 0), "uriTemplate")), "rules://{id}");
  json_decref(r);
  static const char *const bad_uris[] = {"rules://3", "rules://0", "rules://1x", "rules://-1", "rules://",
                                         "rules://99999999999999999999", "file:///etc/passwd", "rules://1 OR 1=1"};
  for (size_t i = 0; i < sizeof bad_uris / sizeof bad_uris[0]; i++) {
    char line[300];
    snprintf(line, sizeof line, "{\"jsonrpc\":\"2.0\",\"id\":24,\"method\":\"resources/read\",\"params\":{\"uri\":\"%s\"}}", bad_uris[i]);
    r = request(s, line);
    assert_string_equal(json_string_value(json_object_get(json_object_get(json_object_get(r, "error"), "data"), "uri")), bad_uris[i]);
    expect_error(r, 24, -32602, "Resource not found");
  }
  expect_error(request(s, "{\"jsonrpc\":\"2.0\",\"id\":25,\"method\":\"resources/read\",\"params\":{}}"), 25, -32602, "params.uri must be a string");
  expect_error(request(s, "{\"jsonrpc\":\"2.0\",\"id\":26,\"method\":\"resources/list\",\"params\":{\"cursor\":\"x\"}}"), 26, -32602, "unknown cursor");
  expect_error(request(s, "{\"jsonrpc\":\"2.0\",\"id\":27,\"method\":\"resources/list\",\"params\":{\"cursor\":5}}"), 27, -32602, "cursor must be a string");
  /* The modern era, with its caching hints. */
  r = expect_result(request(s, "{\"jsonrpc\":\"2.0\",\"id\":28,\"method\":\"resources/read\",\"params\":{\"uri\":\"rules://1\"," MODERN_META "}}"), 28);
  assert_string_equal(json_string_value(json_object_get(r, "resultType")), "complete");
  assert_true(json_integer_value(json_object_get(r, "ttlMs")) > 0);
  json_decref(r);
  stop(s);
  /* No store at --db: the tool says how to make one; no resources. */
  snprintf(db, sizeof db, "%s/none.db", workdir);
  s = start((const char *const[]){"--db", db, NULL});
  initialize(s, "2025-11-25", "2025-11-25");
  tool_fails(s, 1, "query_rules", "{\"sql\":\"SELECT 1\"}", "create it with 'nsr store init --db");
  r = expect_result(request(s, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"resources/list\"}"), 2);
  assert_int_equal(json_array_size(json_object_get(r, "resources")), 0);
  json_decref(r);
  expect_error(request(s, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"resources/read\",\"params\":{\"uri\":\"rules://1\"}}"), 3, -32602, "no rule store");
  stop(s);
  assert_int_equal(access(db, F_OK), -1); /* and none was created */
}

int main(int argc, char **argv) {
  if (!mcp_proc_args(argc, argv, workdir)) return 2;
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_run_program_hostile),
      cmocka_unit_test(test_run_program_pinned_foreign),
      cmocka_unit_test(test_rules_hostile),
  };
  return cmocka_run_group_tests(tests, workdir_setup, workdir_teardown);
}
