/* test_mcp_hostile.c: one `nsr mcp` answers a long run of hostile tool
 * calls, the reproducers of issue 19 and their cousins, one after another:
 * integer overflow traps, samplers given parameters they cannot serve, C
 * loops that grow with their arguments, walks over cyclic and shared
 * values, enumeration bombs, foreign functions declared against their pinned
 * signature, SQL that builds huge values or runs forever or reaches for
 * functions that leak addresses, number-game and proposal calls at their
 * limits, and malformed JSON-RPC lines. Each call gets exactly one reply for
 * its id, the server's resident memory stays bounded by the per-call memory
 * budget, and a normal call is answered correctly afterwards.
 *
 * No assertion depends on speed: the reply guard (mcp_proc.c) is a hang
 * guard of 60 s. The slowest reply and the peak RSS are printed, for the
 * figures in the closing note. argv: the nsr binary, the test
 * library. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "test_workdir.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mcp_proc.h"

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1 /* its allocator keeps freed memory (quarantine) */
#else
#define UNDER_ASAN 0
#endif

/* The calls in the run, cycled through until CALLS have been made. */
#define CALLS 1000
/* The server's per-call budgets in this test. */
#define MAX_STEPS "2000000"
#define MAX_MEMORY_MIB 32
#define MAX_TIME "1"

typedef struct hostile {
  const char *tool;
  const char *source; /* run_program's source, or query_rules' SQL, or
                         the raw arguments object for other tools */
} hostile;

/* (dbl n x) builds a value with 2^n paths in 2n+1 cells. */
#define DBL "(define (dbl n x) (if (= n 0) x (dbl (- n 1) (list x x)))) "
#define CYCLE(v) "(define " v " (make-vector 1 0)) (vector-set! " v " 0 " v ") "
#define FOREIGN_STRLEN "(foreign \"libc.so.6\" \"strlen\" \"int64\" (list \"int64\")) "

static const hostile cases[] = {
    /* exact integers at their edges */
    {"run_program", "(/ -9223372036854775808 -1)"},
    {"run_program", "(quotient -9223372036854775808 -1)"},
    {"run_program", "(remainder -9223372036854775808 -1)"},
    {"run_program", "(modulo -9223372036854775808 -1)"},
    {"run_program", "(abs -9223372036854775808)"},
    {"run_program", "(- -9223372036854775808)"},
    {"run_program", "(* 9223372036854775807 9223372036854775807)"},
    {"run_program", "(expt 3 100000000)"},
    {"run_program", "(expt 2.5 1e308)"},
    {"run_program", "(string->number \"99999999999999999999999999999\")"},
    {"run_program", "(round 1e300)"},
    {"run_program", "(exact->inexact (floor (exp 1000)))"},
    /* samplers given what they cannot serve */
    {"run_program", "(poisson 1e300)"},
    {"run_program", "(poisson (exp 1000))"},
    {"run_program", "(define (l) (binomial 0.5 100000000) (l)) (l)"},
    {"run_program", "(gaussian 0 (exp 1000))"},
    {"run_program", "(beta 0 0)"},
    {"run_program", "(uniform 1 (exp 1000))"},
    {"run_program", "(exponential 0)"},
    {"run_program", "(dirichlet '())"},
    {"run_program", "(multinomial '() '())"},
    /* loops in C that grow with their arguments */
    {"run_program", "(length (make-list 1000000000 1))"},
    {"run_program", "(length (iota 1000000000))"},
    {"run_program", "(length (repeat 1000000000 flip))"},
    {"run_program", "(vector-length (make-vector 1000000000 0))"},
    {"run_program", "(mh-query 1000000000 1 (define x (flip)) x #t)"},
    {"run_program", "(enumeration-query (define xs (repeat 60 flip)) xs #t)"},
    /* walks over cyclic and shared values */
    {"run_program", CYCLE("v") CYCLE("w") "(equal? v w)"},
    {"run_program", CYCLE("v") "v"},
    {"run_program", CYCLE("v") "(display v)"},
    {"run_program", DBL "(dbl 40 1)"},
    {"run_program", DBL "(display (dbl 40 1))"},
    {"run_program", DBL "(equal? (dbl 40 1) (dbl 40 1))"},
    {"run_program", DBL "(define f (mem (lambda (x) (flip)))) (f (dbl 40 1))"},
    {"run_program", "(define (deep n) (if (= n 0) '() (list (deep (- n 1))))) (deep 1004)"},
    /* budgets of the machine itself */
    {"run_program", "(define (f) (f)) (f)"},
    {"run_program", "(define (b l) (b (cons 1 l))) (b '())"},
    {"run_program", "(define (g s) (g (string-append s s))) (g \"xx\")"},
    {"run_program", "(define (f n) (+ 1 (f n))) (f 0)"},
    /* factors that are not finite log-weights */
    {"run_program", "(enumeration-query (define x (flip)) (factor (exp 1000)) x #t)"},
    {"run_program", "(enumeration-query (define x (flip)) (factor (- (exp 1000) (exp 1000))) x #t)"},
    {"run_program", "(rejection-query (define x (flip)) (factor (exp 1000)) x #t)"},
    /* a foreign function declared against its pinned signature */
    {"run_program", FOREIGN_STRLEN "(strlen 4096)"},
    {"run_program", "(foreign \"libc.so.6\" \"getenv\" \"int64\" (list \"const char*\")) (getenv \"HOME\")"},
    /* SQL: huge values, endless rows, functions that leak or register */
    {"query_rules", "SELECT printf('%.*c',2147483647,'x')"},
    {"query_rules", "SELECT length(hex(zeroblob(1000000000)))"},
    {"query_rules", "SELECT hex(fts3_tokenizer('simple'))"},
    {"query_rules", "SELECT fts3_tokenizer('evil', x'0100000000000000')"},
    {"query_rules", "SELECT load_extension('libc.so.6')"},
    {"query_rules", "SELECT length(replace(hex(zeroblob(10000000)),'0','0000000000'))"},
    {"query_rules", "SELECT length(randomblob(2000000000))"},
    {"query_rules", "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c LIMIT 100000) "
                    "SELECT length(group_concat(hex(zeroblob(1000)))) FROM c"},
    {"query_rules", "ATTACH DATABASE 'x.db' AS x"},
    {"query_rules", "PRAGMA writable_schema=1"},
    /* other tools at their limits */
    {"number_game", "{\"examples\":[1,9999,4096,77],\"range\":10000,\"prior\":\"mixture\"}"},
    {"propose_hypotheses", "{\"examples\":[1,2,3,4,5,100],\"top\":64}"},
    {"list_concepts", "{}"},
};
#define NCASES (sizeof cases / sizeof cases[0])

/* Calls that only a wall clock stops (query_rules' 2 s), each made once,
 * first, so that the suite stays short. */
static const hostile slow_cases[] = {
    {"query_rules", "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c) SELECT count(*) FROM c"},
};
#define NSLOW (sizeof slow_cases / sizeof slow_cases[0])

/* The server's resident set in KiB, from /proc. */
static long rss_kib(pid_t pid) {
  char path[64], line[256];
  snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
  FILE *f = fopen(path, "r");
  assert_non_null(f);
  long kib = -1;
  while (fgets(line, sizeof line, f)) {
    if (sscanf(line, "VmRSS: %ld kB", &kib) == 1) break;
  }
  fclose(f);
  assert_true(kib > 0);
  return kib;
}

static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* The arguments object of case c, as JSON text (caller frees). */
static char *case_args(const hostile *c) {
  json_t *args;
  if (strcmp(c->tool, "run_program") == 0) args = json_pack("{s:s}", "source", c->source);
  else if (strcmp(c->tool, "query_rules") == 0) args = json_pack("{s:s}", "sql", c->source);
  else args = json_loads(c->source, 0, NULL);
  assert_non_null(args);
  char *text = json_dumps(args, JSON_COMPACT);
  json_decref(args);
  return text;
}

/* The reply to call `id` answers it: a result (a tool error is a result
 * with isError and a non-empty message) or a JSON-RPC error. */
static void expect_answer(json_t *reply, int id, const hostile *c) {
  if (json_integer_value(json_object_get(reply, "id")) != id) {
    fail_msg("%s %s: reply for another id: %s", c->tool, c->source, json_dumps(reply, 0));
  }
  json_t *result = json_object_get(reply, "result"), *error = json_object_get(reply, "error");
  if ((result == NULL) == (error == NULL)) fail_msg("%s: neither result nor error", c->source);
  if (result && json_is_true(json_object_get(result, "isError"))) {
    const char *text = json_string_value(
        json_object_get(json_array_get(json_object_get(result, "content"), 0), "text"));
    if (text == NULL || text[0] == '\0') fail_msg("%s: a tool error without a message", c->source);
  }
  json_decref(reply);
}

/* Malformed JSON-RPC between the calls: each still gets one error reply. */
static void send_malformed(server *s) {
  enum { DEPTH = 100000 };
  char *deep = malloc(2 * DEPTH + 1);
  assert_non_null(deep);
  memset(deep, '[', DEPTH);
  memset(deep + DEPTH, ']', DEPTH);
  deep[2 * DEPTH] = '\0';
  json_t *r = request(s, deep);
  assert_non_null(json_object_get(r, "error"));
  json_decref(r);
  free(deep);
  r = request(s, "{\"jsonrpc\":\"2.0\",\"id\":\"x\",\"method\":\"tools/call\","
                 "\"params\":{\"name\":\"run_program\",\"arguments\":{\"source\":\"\xff\xfe\"}}}");
  assert_non_null(json_object_get(r, "error"));
  json_decref(r);
}

/* Makes call `id`, checks its answer; the seconds it took. */
static double call_hostile(server *s, int id, const hostile *c) {
  char *args = case_args(c);
  size_t cap = strlen(args) + 128;
  char *line = malloc(cap);
  assert_non_null(line);
  snprintf(line, cap,
           "{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":\"tools/call\",\"params\":{\"name\":\"%s\",\"arguments\":%s}}",
           id, c->tool, args);
  double t0 = now_s();
  expect_answer(request(s, line), id, c);
  double took = now_s() - t0;
  free(line);
  free(args);
  return took;
}

static void test_thousand_hostile_calls(void **state) {
  (void)state;
  char db[300], allow[300];
  snprintf(db, sizeof db, "%s/hostile.db", workdir);
  snprintf(allow, sizeof allow, "libc.so.6:strlen:size_t(const char*)");
  run_ok((const char *const[]){"store", "init", "--db", db, NULL});
  server *s = start((const char *const[]){"--max-steps", MAX_STEPS, "--max-memory",
                                          "32M", "--max-time", MAX_TIME, "--db", db,
                                          "--foreign", allow, NULL});
  initialize(s, "2025-11-25", "2025-11-25");
  json_decref(call_tool(s, 2, "run_program", "{\"source\":\"(+ 1 2)\"}"));
  long base_kib = rss_kib(s->pid), peak_kib = base_kib;
  double slowest[NSLOW + NCASES] = {0};
  for (size_t i = 0; i < CALLS; i++) {
    size_t k = i < NSLOW ? i : NSLOW + (i - NSLOW) % NCASES;
    const hostile *c = k < NSLOW ? &slow_cases[k] : &cases[k - NSLOW];
    double took = call_hostile(s, 100 + (int)i, c);
    if (took > slowest[k]) slowest[k] = took;
    long kib = rss_kib(s->pid);
    if (kib > peak_kib) peak_kib = kib;
    if (k == NSLOW + NCASES - 1) send_malformed(s);
  }
  long after_kib = rss_kib(s->pid);
  printf("# hostile: %d calls; RSS baseline %ld KiB, peak %ld KiB, after %ld KiB\n", CALLS,
         base_kib, peak_kib, after_kib);
  /* The budgets: run_program's --max-time above, query_rules' own 2 s. */
  for (size_t k = 0; k < NSLOW + NCASES; k++) {
    const hostile *c = k < NSLOW ? &slow_cases[k] : &cases[k - NSLOW];
    if (slowest[k] > 0.25) printf("# slowest reply %.3f s: %s %.70s\n", slowest[k], c->tool, c->source);
  }
  /* A normal call afterwards, answered correctly: 1 + 2 + ... + 10 = 55. */
  json_t *r = call_tool(s, 99, "run_program", "{\"source\":\"(apply + (iota 10 1))\"}");
  assert_false(json_is_true(json_object_get(r, "isError")));
  assert_int_equal(json_integer_value(json_object_get(json_object_get(r, "structuredContent"), "value")), 55);
  json_decref(r);
  stop(s);
  if (UNDER_ASAN) return;
  /* Resident memory: what one call may hold (its budget, with 20% for the
   * allocator's slack) above where the server started, plus 16 MiB for
   * SQLite's page cache and the number game's tables. */
  long bound_kib = base_kib + MAX_MEMORY_MIB * 1024 * 12 / 10 + 16 * 1024;
  if (peak_kib > bound_kib) fail_msg("peak RSS %ld KiB above %ld KiB", peak_kib, bound_kib);
}

int main(int argc, char **argv) {
  if (!mcp_proc_args(argc, argv, workdir)) return 2;
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_thousand_hostile_calls),
  };
  return cmocka_run_group_tests(tests, workdir_setup, workdir_teardown);
}
