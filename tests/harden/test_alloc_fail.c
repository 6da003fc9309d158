/* test_alloc_fail.c: for every N, the Nth allocation fails (and every one
 * after it, as nsr_alloc_fail_after does), through core, the interpreter,
 * checkpoint loading, the store's writer and query path and the MCP
 * handler. Each run must end in NSR_OK or a clean error with a message,
 * never a crash; under ASan (the ASan build of `meson test`) any leak on an
 * error path fails the suite at exit. SQLite and jansson allocate through
 * nsr_malloc here (nsr_store_route_alloc, nsr_json_init), so their
 * allocations fail too. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arena.h"
#include "fileio.h"
#include "json.h"
#include "nsr_tools.h"
#include "nsr_lang.h"
#include "nsr_neural.h"
#include "scratch.h"
#include "nsr_store.h"
#include "strbuf.h"

typedef nsr_code (*scenario_fn)(void *ctx, nsr_error *err);

/* In /dev/shm: the store's fsyncs on a disk would make the hundreds of
 * runs take minutes. */

/* Runs fn with the Nth allocation failing for N = 1, 2, ... until a run no
 * longer reaches its Nth allocation; that last run must succeed. Returns
 * how many runs failed cleanly. */
#define fail_each_allocation(fn, ctx) fail_allocations(#fn, fn, ctx)
static unsigned fail_allocations(const char *name, scenario_fn fn, void *ctx) {
  unsigned failures = 0;
  for (uint64_t n = 1;; n++) {
    nsr_error err;
    nsr_error_clear(&err);
    uint64_t before = nsr_alloc_count();
    nsr_alloc_fail_after(n);
    nsr_code rc = fn(ctx, &err);
    uint64_t used = nsr_alloc_count() - before;
    nsr_alloc_fail_reset();
    if (used < n) {
      if (rc != NSR_OK) fail_msg("no injected failure, yet: %s", err.message);
      print_message("%s: %llu allocations, %u runs failed cleanly\n", name,
                    (unsigned long long)used, failures);
      return failures;
    }
    if (rc != NSR_OK) {
      failures++;
      if (err.message[0] == '\0' || rc == NSR_ERR_INTERNAL) {
        fail_msg("allocation %llu: code %s, message '%s'", (unsigned long long)n,
                 nsr_code_name(rc), err.message);
      }
    }
  }
}

/* ---- core ---------------------------------------------------------------- */

static nsr_code core_scenario(void *ctx, nsr_error *err) {
  (void)ctx;
  nsr_bitset set;
  nsr_code rc = nsr_bitset_init(&set, 1000, err);
  if (rc != NSR_OK) return rc;
  nsr_bitset_add(&set, 999);
  nsr_bitset_free(&set);

  nsr_arena arena;
  nsr_arena_init(&arena, 256, 0);
  for (int i = 0; i < 20; i++) {
    if (nsr_arena_alloc(&arena, 100, 8) == NULL || nsr_arena_strdup(&arena, "word") == NULL) {
      nsr_arena_free(&arena);
      return nsr_fail(err, NSR_ERR_NOMEM, "arena: out of memory");
    }
  }
  nsr_arena_free(&arena);

  nsr_strbuf sb = {0};
  for (int i = 0; i < 50; i++) nsr_strbuf_printf(&sb, "line %d of text\n", i);
  char *text;
  size_t len;
  rc = nsr_strbuf_finish(&sb, &text, &len, err);
  if (rc != NSR_OK) return rc;
  rc = nsr_write_file_atomic(scratch_path("core.txt"), text, len, err);
  nsr_free(text);
  if (rc != NSR_OK) return rc;
  rc = nsr_read_file(scratch_path("core.txt"), 0, &text, &len, err);
  if (rc != NSR_OK) return rc;
  nsr_free(text);

  json_t *doc;
  const char *json = "{\"a\":[1,2.5,\"x\",{\"b\":null}],\"c\":true}";
  rc = nsr_json_parse(json, strlen(json), &doc, err);
  if (rc != NSR_OK) return rc;
  rc = nsr_json_set(doc, "d", nsr_json_real(-INFINITY), err);
  char *dumped = rc == NSR_OK ? nsr_json_dump_indent(doc, 2) : NULL;
  json_decref(doc);
  if (rc != NSR_OK) return rc;
  if (dumped == NULL) return nsr_fail(err, NSR_ERR_NOMEM, "JSON dump: out of memory");
  free(dumped);
  return NSR_OK;
}

static void test_core(void **state) {
  (void)state;
  assert_true(fail_each_allocation(core_scenario, NULL) > 20);
}

/* ---- the interpreter ------------------------------------------------------ */

static const char program[] =
    "(define (fact n) (if (= n 0) 1 (* n (fact (- n 1)))))\n"
    "(define xs (map (lambda (i) (list i (fact i))) (iota 8)))\n"
    "(define h (make-hash-table))\n"
    "(define d (enumeration-query (define a (flip 0.3)) (define b (flip 0.6)) a (or a b)))\n"
    "(display (string-append \"n=\" (number->string (length xs))))\n"
    "(list (fact 10) d (assoc 3 xs))\n";

static void lang_config(nsr_lang_config *cfg) {
  nsr_lang_config_default(cfg);
  cfg->max_steps = 1000000;
  cfg->max_memory = 64u << 20;
}

/* A whole interpreter life: creation (the prelude), the program, freeing. */
static nsr_code lang_life(void *ctx, nsr_error *err) {
  (void)ctx;
  nsr_lang_config cfg;
  lang_config(&cfg);
  nsr_lang *lang;
  nsr_code rc = nsr_lang_new(&cfg, &lang, err);
  if (rc != NSR_OK) return rc;
  rc = nsr_lang_eval_string(lang, "alloc.church", program, strlen(program), err);
  nsr_lang_free(lang);
  return rc;
}

/* The program alone, in an interpreter that must stay usable after each
 * failure. */
static nsr_code lang_program(void *ctx, nsr_error *err) {
  nsr_lang *lang = ctx;
  nsr_lang_output_clear(lang);
  return nsr_lang_eval_string(lang, "alloc.church", program, strlen(program), err);
}

static void test_interpreter(void **state) {
  (void)state;
  nsr_lang_config cfg;
  lang_config(&cfg);
  nsr_lang *lang;
  assert_int_equal(nsr_lang_new(&cfg, &lang, NULL), NSR_OK);
  assert_true(fail_each_allocation(lang_program, lang) > 0);
  /* After all those failures the same interpreter still gets it right. */
  nsr_error err;
  assert_int_equal(nsr_lang_eval_string(lang, "again", "(fact 5)", 8, &err), NSR_OK);
  char text[32];
  nsr_lang_format(lang, nsr_lang_result(lang), text, sizeof text);
  assert_string_equal(text, "120");
  nsr_lang_free(lang);
  /* A whole life, creation included, failed at every allocation. */
  assert_true(fail_each_allocation(lang_life, NULL) > 0);
}

/* ---- checkpoint loading ---------------------------------------------------- */

static nsr_code checkpoint_scenario(void *ctx, nsr_error *err) {
  nsr_nn_model *model;
  nsr_code rc = nsr_nn_load(ctx, &model, err);
  if (rc == NSR_OK) nsr_nn_free(model);
  return rc;
}

static void test_checkpoint(void **state) {
  (void)state;
  char path[400];
  snprintf(path, sizeof path, "%s/softmax_hard.model.safetensors", getenv("NSR_FIXTURES"));
  assert_true(fail_each_allocation(checkpoint_scenario, path) > 5);
}

/* ---- the store --------------------------------------------------------------- */

static nsr_code store_writer(void *ctx, nsr_error *err) {
  (void)ctx;
  unlink(scratch_path("w.db"));
  unlink(scratch_path("w.db-wal"));
  unlink(scratch_path("w.db-shm"));
  nsr_store *s;
  nsr_code rc = nsr_store_open(scratch_path("w.db"), &s, err);
  if (rc != NSR_OK) return rc;
  int64_t model = 0;
  nsr_store_rule rules[] = {
      {"alignment", 0, 3, "unit 3 > 0.5", "even", 0.9, 0.8, 0.7, 10, NULL, NULL, NULL},
      {"probe", -1, -1, "probe > 0", "odd", 0.5, 0.5, 0.5, 5, NULL, NULL, NULL},
  };
  rc = nsr_store_add_model(s, "abcd", "m.safetensors", "{}", &model, err);
  if (rc == NSR_OK) rc = nsr_store_add_rules(s, model, rules, 2, err);
  nsr_store_close(s);
  return rc;
}

static nsr_code store_query(void *ctx, nsr_error *err) {
  (void)ctx;
  json_t *out;
  nsr_code rc = nsr_store_query(scratch_path("w.db"),
                                "SELECT method, count(*), avg(fidelity) FROM rules GROUP BY method",
                                100, 5000, &out, err);
  if (rc == NSR_OK) json_decref(out);
  return rc;
}

static void test_store(void **state) {
  (void)state;
  assert_true(fail_each_allocation(store_writer, NULL) > 50);
  /* A database for the query path, written without injected failures. */
  assert_int_equal(store_writer(NULL, NULL), NSR_OK);
  assert_true(fail_each_allocation(store_query, NULL) > 20);
}

/* ---- the MCP handler ----------------------------------------------------------- */

static const char *const mcp_lines[] = {
    "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{\"protocolVersion\":"
    "\"2025-11-25\",\"capabilities\":{},\"clientInfo\":{\"name\":\"t\",\"version\":\"1\"}}}",
    "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}",
    "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/list\"}",
    "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/call\",\"params\":{\"name\":\"number_game\","
    "\"arguments\":{\"examples\":[16,8,2,64],\"top\":3}}}",
    "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"nope\"}",
    "{not json",
};

static nsr_code mcp_scenario(void *ctx, nsr_error *err) {
  mcp_server *server;
  nsr_code rc = mcp_server_new(ctx, &server, err);
  for (size_t i = 0; rc == NSR_OK && i < sizeof mcp_lines / sizeof *mcp_lines; i++) {
    char *reply = NULL;
    rc = mcp_server_handle(server, mcp_lines[i], strlen(mcp_lines[i]), &reply, err);
    nsr_free(reply);
  }
  mcp_server_free(server);
  return rc;
}

static void test_mcp(void **state) {
  (void)state;
  tools_options opt = {0};
  tools_registry *reg;
  assert_int_equal(tools_registry_build(&opt, &reg, NULL), NSR_OK);
  assert_true(fail_each_allocation(mcp_scenario, reg) > 20);
  tools_registry_free(reg);
}

int main(void) {
  nsr_json_init();
  if (nsr_store_route_alloc(NULL) != NSR_OK) return 1;
  if (!scratch_make()) return 1;
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_core),       cmocka_unit_test(test_interpreter),
      cmocka_unit_test(test_checkpoint), cmocka_unit_test(test_store),
      cmocka_unit_test(test_mcp),
  };
  int failed = cmocka_run_group_tests(tests, NULL, NULL);
  if (!scratch_remove()) failed++;
  return failed;
}
