/* test_mcp_walks.c: run_program through a real `nsr mcp` on programs whose
 * values are cyclic, share structure or nest deeply, and programs that
 * fill the memory budget: each answers (a value or a tool error naming
 * the limit), the server serves the next call, and its resident size stays
 * within the budget and comes back down. argv: the nsr binary, the test
 * library.
 *
 * Values, derived by hand: (dbl 40 1) has 2^40 leaves in 80 pairs, so its
 * text (2 TiB) passes any budget; (deep 1004 1) is 1,004 nested arrays,
 * past the 100 levels a JSON result may nest; a vector holding itself
 * nests without end, and equals any other such vector. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "test_workdir.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mcp_proc.h"

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1 /* its allocator keeps freed memory (quarantine) */
#else
#define UNDER_ASAN 0
#endif

#define DBL "(define (dbl n x) (if (= n 0) x (dbl (- n 1) (list x x)))) "
#define DEEP "(define (deep n x) (if (= n 0) x (deep (- n 1) (list x)))) "
#define SELF "(define v (vector 1)) (vector-set! v 0 v) (define w (vector 1)) (vector-set! w 0 w) "

/* `key` (VmRSS or VmHWM) of the server, in KiB. */
static long server_kib(const server *s, const char *key) {
  char path[64], line[256];
  snprintf(path, sizeof path, "/proc/%d/status", (int)s->pid);
  FILE *f = fopen(path, "r");
  assert_non_null(f);
  long kib = -1;
  size_t n = strlen(key);
  while (fgets(line, sizeof line, f) != NULL) {
    if (strncmp(line, key, n) == 0 && line[n] == ':') kib = strtol(line + n + 1, NULL, 10);
  }
  fclose(f);
  assert_true(kib > 0);
  return kib;
}

/* run_program of `source` (JSON-escaped) fails with needle; then a plain
 * program still gets its value, 1 + 2 = 3. */
static void fails_then_serves(server *s, int id, const char *source, const char *needle) {
  char args[1024];
  snprintf(args, sizeof args, "{\"source\":\"%s\"}", source);
  tool_fails(s, id, "run_program", args, needle);
  json_t *sc = tool_ok(s, id + 1000, "run_program", "{\"source\":\"(+ 1 2)\"}");
  assert_int_equal(json_integer_value(json_object_get(sc, "value")), 3);
  json_decref(sc);
}

static void value_is(server *s, int id, const char *source, const char *want) {
  char args[1024];
  snprintf(args, sizeof args, "{\"source\":\"%s\"}", source);
  json_t *sc = tool_ok(s, id, "run_program", args);
  json_t *expected = json_loads(want, JSON_DECODE_ANY, NULL);
  assert_non_null(expected);
  if (!json_equal(json_object_get(sc, "value"), expected)) {
    char got[512];
    size_t n = json_dumpb(json_object_get(sc, "value"), got, sizeof got - 1, JSON_ENCODE_ANY);
    got[n < sizeof got ? n : sizeof got - 1] = '\0';
    fail_msg("%s: got %s, want %s", source, got, want);
  }
  json_decref(expected);
  json_decref(sc);
}

static void test_walks_answer(void **state) {
  (void)state;
  server *s = start((const char *const[]){"--max-memory", "64M", NULL});
  initialize(s, "2025-11-25", "2025-11-25");
  value_is(s, 1, SELF "(equal? v w)", "true");
  value_is(s, 2, DBL "(equal? (dbl 40 1) (dbl 40 1))", "true");
  value_is(s, 3, DBL "(define f (mem (lambda (x) (list x)))) (eq? (f (dbl 40 1)) (f (dbl 40 1)))",
               "true");
  char nested[256]; /* 100 arrays around 0 */
  memset(nested, '[', 100);
  nested[100] = '0';
  memset(nested + 101, ']', 100);
  nested[201] = '\0';
  value_is(s, 4, DEEP "(deep 100 0)", nested);
  fails_then_serves(s, 5, DEEP "(deep 1004 0)", "deeper than 100 levels");
  fails_then_serves(s, 6, SELF "v", "deeper than 100 levels");
  fails_then_serves(s, 7, DBL "(dbl 40 1)", "memory budget of 67108864 bytes exhausted");
  fails_then_serves(s, 8, DBL "(display (dbl 40 1))", "memory budget of 67108864 bytes exhausted");
  stop(s);
}

/* A cons bomb and a string bomb under a 64 MiB budget: the server's peak
 * resident size stays within 1.2 times the budget above its size before,
 * and after the call it is back within 16 MiB of it. */
static void test_memory_bounded_and_returned(void **state) {
  (void)state;
  server *s = start((const char *const[]){"--max-memory", "64M", NULL});
  initialize(s, "2025-11-25", "2025-11-25");
  json_decref(tool_ok(s, 1, "run_program", "{\"source\":\"(+ 1 2)\"}"));
  long before = server_kib(s, "VmRSS");
  fails_then_serves(s, 2, "(define (bomb l) (bomb (cons 1 l))) (bomb (list))",
                    "memory budget of 67108864 bytes exhausted");
  fails_then_serves(s, 3, "(define (sb s) (sb (string-append s s))) (sb \\\"x\\\")",
                    "memory budget of 67108864 bytes exhausted");
  long peak = server_kib(s, "VmHWM"), after = server_kib(s, "VmRSS");
  if (!UNDER_ASAN) {
    if (peak > before + 64 * 1024 * 12 / 10) fail_msg("peak %ld KiB from %ld KiB", peak, before);
    if (after > before + 16 * 1024) fail_msg("RSS %ld KiB after, %ld KiB before", after, before);
  }
  stop(s);
}

int main(int argc, char **argv) {
  if (!mcp_proc_args(argc, argv, workdir)) return 2;
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_walks_answer),
      cmocka_unit_test(test_memory_bounded_and_returned),
  };
  return cmocka_run_group_tests(tests, workdir_setup, workdir_teardown);
}
