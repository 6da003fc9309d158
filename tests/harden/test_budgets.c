/* test_budgets.c: hostile programs stop within their budgets with a
 * message naming the budget that ran out, and a long run of hostile calls
 * leaves memory bounded. run_program is not an MCP tool in this branch, so
 * the 1000-call run drives the interpreter as such a tool would (a fresh
 * interpreter with tight budgets per call), next to 1000 hostile
 * tools/call messages through one MCP server. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "json.h"
#include "mcp_server.h"
#include "nsr_lang.h"
#include "tools_builtin.h"

enum budget { STEPS, MEMORY, TIME, PATHS };

typedef struct hostile {
  const char *what;
  const char *program;
  enum budget tight; /* the one budget set low; the others are backstops */
  const char *message; /* what the error must say */
} hostile;

static const hostile programs[] = {
    {"infinite loop", "(define (loop n) (loop (+ n 1))) (loop 0)", STEPS, "step budget"},
    {"infinite loop", "(define (loop n) (loop (+ n 1))) (loop 0)", TIME, "time budget"},
    {"deep recursion", "(define (f n) (+ 1 (f (+ n 1)))) (f 0)", MEMORY, "memory budget"},
    {"exponential enumeration",
     "(enumeration-query (define xs (map (lambda (i) (flip)) (iota 40))) xs #t)", PATHS,
     "paths"},
    {"exponential enumeration",
     "(enumeration-query (define xs (map (lambda (i) (flip)) (iota 40))) xs #t)", STEPS,
     "step budget"},
    {"huge list", "(length (iota 100000000))", MEMORY, "memory budget"},
    {"huge list, built",
     "(define (build n acc) (build (+ n 1) (cons n acc))) (build 0 '())", MEMORY,
     "memory budget"},
    {"huge string", "(define (grow s) (grow (string-append s s))) (grow \"ab\")", MEMORY,
     "memory budget"},
    {"huge vector", "(make-vector 1000000000 0)", MEMORY, "memory budget"},
};

/* Tight budgets make the hostile run stop fast; backstops stop it anyway
 * (slowly) if the tight one is not enforced, so the test fails instead of
 * hanging. */
static void config_for(enum budget tight, nsr_lang_config *cfg) {
  nsr_lang_config_default(cfg);
  cfg->max_steps = tight == STEPS ? 100000 : tight == TIME ? 0 : 200000000;
  cfg->max_memory = tight == MEMORY ? 8u << 20 : 512u << 20;
  cfg->timeout_seconds = tight == TIME ? 0.2 : 30;
  cfg->max_paths = tight == PATHS ? 500 : 0;
}

static void test_hostile_programs_stop(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof programs / sizeof *programs; i++) {
    const hostile *h = &programs[i];
    nsr_lang_config cfg;
    config_for(h->tight, &cfg);
    nsr_lang *lang;
    nsr_error err;
    assert_int_equal(nsr_lang_new(&cfg, &lang, &err), NSR_OK);
    uint64_t start = nsr_now_ns();
    nsr_code rc = nsr_lang_eval_string(lang, "hostile", h->program, strlen(h->program), &err);
    double seconds = nsr_seconds_since(start);
    print_message("%-24s %-40.40s %.3f s: %s\n", h->what, h->program, seconds, err.message);
    assert_int_equal(rc, NSR_ERR_LIMIT);
    if (strstr(err.message, h->message) == NULL) {
      fail_msg("%s: expected '%s' in '%s'", h->what, h->message, err.message);
    }
    /* Generous for ASan on a shared machine; each stops in well under a
     * second in a normal build. */
    assert_true(seconds < 10);
    /* The interpreter is still usable after the budget stopped it, even
     * when the failed run left its garbage just below the collector's
     * threshold (the first eval after "huge list, built" used to fail). */
    assert_int_equal(nsr_lang_eval_string(lang, "after", "(+ 1 2)", 7, &err), NSR_OK);
    nsr_lang_free(lang);
  }
}

/* Resident set size in KiB, from /proc/self/statm. */
static long rss_kib(void) {
  long pages_total = 0, pages_resident = 0;
  FILE *f = fopen("/proc/self/statm", "r");
  if (f == NULL) return -1;
  if (fscanf(f, "%ld %ld", &pages_total, &pages_resident) != 2) pages_resident = -1;
  fclose(f);
  return pages_resident * (sysconf(_SC_PAGESIZE) / 1024);
}

/* Under AddressSanitizer freed memory sits in a quarantine of up to 256 MiB,
 * so RSS says nothing about leaks there; LeakSanitizer checks them at exit. */
#if defined(__SANITIZE_ADDRESS__)
#define RSS_MEANINGFUL false
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define RSS_MEANINGFUL false
#endif
#endif
#ifndef RSS_MEANINGFUL
#define RSS_MEANINGFUL true
#endif

#define CALLS 1000
#define WARMUP 50
#define RSS_GROWTH_MAX_KIB (8 * 1024)

static void check_rss(const char *what, long before, long after) {
  print_message("%s: RSS %ld KiB after %d calls, %ld KiB after %d more\n", what, before, WARMUP,
                after, CALLS);
  if (RSS_MEANINGFUL && after - before > RSS_GROWTH_MAX_KIB) {
    fail_msg("%s: RSS grew by %ld KiB over %d calls", what, after - before, CALLS);
  }
}

/* One call as a run_program tool would make it: a fresh interpreter with
 * tight budgets, the program, the error or value as text, teardown. */
static void run_program_call(const char *program) {
  nsr_lang_config cfg;
  nsr_lang_config_default(&cfg);
  cfg.max_steps = 20000;
  cfg.max_memory = 4u << 20;
  cfg.timeout_seconds = 1;
  cfg.max_paths = 100;
  nsr_lang *lang;
  nsr_error err;
  assert_int_equal(nsr_lang_new(&cfg, &lang, &err), NSR_OK);
  nsr_code rc = nsr_lang_eval_string(lang, "call", program, strlen(program), &err);
  assert_int_equal(rc, NSR_ERR_LIMIT);
  nsr_lang_free(lang);
}

static void test_thousand_program_calls(void **state) {
  (void)state;
  const size_t n = sizeof programs / sizeof *programs;
  long before = 0;
  for (int i = 0; i < WARMUP + CALLS; i++) {
    if (i == WARMUP) before = rss_kib();
    run_program_call(programs[(size_t)i % n].program);
  }
  check_rss("run_program calls", before, rss_kib());
}

/* Hostile tools/call messages: huge and malformed arguments, unknown
 * tools, deep nesting. Every one gets a reply. */
static const char *const mcp_hostile[] = {
    "{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":\"tools/call\",\"params\":{\"name\":\"number_game\","
    "\"arguments\":{\"examples\":[1,2,3],\"max\":1000000,\"top\":1000000}}}",
    "{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":\"tools/call\",\"params\":{\"name\":\"number_game\","
    "\"arguments\":{\"examples\":[-1,1e300,\"x\",null]}}}",
    "{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":\"tools/call\",\"params\":{\"name\":\"nope\"}}",
    "{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":\"tools/call\",\"params\":"
    "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}",
    "{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":\"tools/call\",\"params\":{\"name\":\"list_concepts\","
    "\"arguments\":{\"max\":-5}}}",
};

static void test_thousand_mcp_calls(void **state) {
  (void)state;
  tools_options opt = {0};
  tools_registry *reg;
  mcp_server *server;
  assert_int_equal(tools_registry_build(&opt, &reg, NULL), NSR_OK);
  assert_int_equal(mcp_server_new(reg, &server, NULL), NSR_OK);
  const char *init =
      "{\"jsonrpc\":\"2.0\",\"id\":0,\"method\":\"initialize\",\"params\":{\"protocolVersion\":"
      "\"2025-11-25\",\"capabilities\":{},\"clientInfo\":{\"name\":\"t\",\"version\":\"1\"}}}";
  char *reply;
  assert_int_equal(mcp_server_handle(server, init, strlen(init), &reply, NULL), NSR_OK);
  nsr_free(reply);
  const size_t n = sizeof mcp_hostile / sizeof *mcp_hostile;
  long before = 0;
  for (int i = 0; i < WARMUP + CALLS; i++) {
    if (i == WARMUP) before = rss_kib();
    char line[512];
    snprintf(line, sizeof line, mcp_hostile[(size_t)i % n], i + 1);
    reply = NULL;
    assert_int_equal(mcp_server_handle(server, line, strlen(line), &reply, NULL), NSR_OK);
    assert_non_null(reply);
    json_t *r = json_loads(reply, 0, NULL);
    assert_non_null(r);
    assert_int_equal(json_integer_value(json_object_get(r, "id")), i + 1);
    json_decref(r);
    nsr_free(reply);
  }
  check_rss("MCP tools/call", before, rss_kib());
  mcp_server_free(server);
  tools_registry_free(reg);
}

int main(void) {
  nsr_json_init();
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_hostile_programs_stop),
      cmocka_unit_test(test_thousand_program_calls),
      cmocka_unit_test(test_thousand_mcp_calls),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
