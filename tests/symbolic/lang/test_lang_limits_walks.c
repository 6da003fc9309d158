/* test_lang_limits_walks.c: walks over values (equal?, mem keys, printing,
 * JSON) on cyclic and shared values, and what the memory budget really
 * bounds: the heap as the process holds it, and the memory given back
 * afterwards. Through the API, and through the real `nsr run` process
 * (argv[1]), whose peak resident size the kernel reports (wait4).
 *
 * Values used throughout, derived by hand:
 * - (dbl n x) wraps x n times as (y y): 2^n leaves but 2n cells (each
 *   level is one list of two cells), so it is tiny in memory and prints as
 *   about 2^n * 2 bytes: (dbl 40 1) would print 2 TiB.
 * - (deep n x) wraps x in n one-element lists: n nested JSON arrays.
 * - A vector holding itself, #(v): equal? to another such vector (they
 *   unfold to the same infinite tree), and to no vector #(w 2) vs #(w 3). */
#define _DEFAULT_SOURCE /* wait4 */
#include "lang_test.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *nsr_bin;

#define DBL "(define (dbl n x) (if (= n 0) x (dbl (- n 1) (list x x)))) "
#define DEEP "(define (deep n x) (if (= n 0) x (deep (- n 1) (list x)))) "
#define SELF "(define v (vector 1)) (vector-set! v 0 v) (define w (vector 1)) (vector-set! w 0 w) "
#define MIB ((size_t)1 << 20)

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1 /* its allocator keeps freed memory (quarantine) */
#else
#define UNDER_ASAN 0
#endif

/* An interpreter with a memory budget of `mib` MiB (0: the default). */
static nsr_lang *new_with_memory(size_t mib) {
  nsr_lang_config cfg;
  nsr_lang_config_default(&cfg);
  if (mib > 0) cfg.max_memory = mib * MIB;
  nsr_lang *lang = NULL;
  nsr_error err;
  if (nsr_lang_new(&cfg, &lang, &err) != NSR_OK) fail_msg("nsr_lang_new: %s", err.message);
  return lang;
}

static void expect_contains(const char *text, const char *needle) {
  if (strstr(text, needle) == NULL) fail_msg("expected \"%s\" in: %s", needle, text);
}

/* ---- equal? and mem keys ------------------------------------------------- */

static void test_equal_cyclic(void **state) {
  (void)state;
  lt_expect(SELF "(equal? v w)", "#t");
  lt_expect(SELF "(list (equal? v v) (equal? (list v 1) (list w 1)) (equal? (list v 1) (list w 2)))",
            "(#t #t #f)");
  lt_expect("(define a (vector 1 2)) (vector-set! a 0 a) (define b (vector 1 3)) (vector-set! b 0 b)"
            " (equal? a b)",
            "#f");
  /* A two-vector cycle against a one-vector cycle: both unfold to #(#(...)). */
  lt_expect(SELF "(define p (vector 1)) (define q (vector p)) (vector-set! p 0 q) (equal? p v)", "#t");
}

static void test_equal_shared(void **state) {
  (void)state;
  lt_expect(DBL "(equal? (dbl 40 1) (dbl 40 1))", "#t");
  lt_expect(DBL "(equal? (dbl 40 1) (dbl 40 2))", "#f");
  /* Only the last of 2^40 leaves differs. */
  lt_expect(DBL "(equal? (dbl 40 1) (list (dbl 39 1) (list (dbl 38 1) (dbl 38 2))))", "#f");
  lt_expect(DBL "(equal? (dbl 40 1) (list (dbl 39 1) (list (dbl 38 1) (dbl 38 1))))", "#t");
}

/* A mem'd procedure returns its cached value for an equal argument: the
 * same object, so eq?. Hashing and comparing the keys must both return. */
static void test_mem_keys_shared_and_cyclic(void **state) {
  (void)state;
  lt_expect(DBL "(define f (mem (lambda (x) (list x)))) (eq? (f (dbl 40 1)) (f (dbl 40 1)))", "#t");
  lt_expect(DBL "(define f (mem (lambda (x) (list x)))) (eq? (f (dbl 40 1)) (f (dbl 40 2)))", "#f");
  lt_expect(SELF "(define f (mem (lambda (x) (list x)))) (eq? (f v) (f w))", "#t");
  lt_expect(SELF "(define h (make-hash-table)) (hash-table-set! h v 'found) (hash-table-ref h w)",
            "found");
}

/* ---- printing ------------------------------------------------------------ */

/* Printing nests 1000 levels, then "...": 1001 "#(", "...", 1001 ")". */
static void test_print_cyclic(void **state) {
  (void)state;
  nsr_lang *lang = lt_new(1);
  lt_eval(lang, SELF "v");
  char *text = NULL;
  nsr_error err;
  assert_int_equal(nsr_lang_write(lang, nsr_lang_result(lang), &text, &err), NSR_OK);
  assert_int_equal(strlen(text), 1001 * 2 + 3 + 1001);
  assert_memory_equal(text + 1001 * 2, "...)", 4);
  nsr_free(text);
  nsr_lang_free(lang);
}

/* (dbl 40 1) prints 2 TiB: the text stops at the memory budget, with an
 * error naming it, for write, display and the API. */
static void test_print_shared_stops_at_budget(void **state) {
  (void)state;
  nsr_lang *lang = new_with_memory(64);
  lt_eval(lang, DBL "(dbl 40 1)");
  char *text = NULL;
  nsr_error err;
  assert_int_equal(nsr_lang_write(lang, nsr_lang_result(lang), &text, &err), NSR_ERR_LIMIT);
  assert_null(text);
  expect_contains(err.message, "memory budget of 67108864 bytes exhausted (--max-memory)");
  expect_contains(lt_eval_error(lang, DBL "(display (dbl 40 1))", NSR_ERR_LIMIT),
                  "memory budget of 67108864 bytes exhausted (--max-memory)");
  expect_contains(lt_eval_error(lang, DBL "(stringify (dbl 40 1))", NSR_ERR_LIMIT),
                  "memory budget of 67108864 bytes exhausted (--max-memory)");
  /* Calling it: the message shows 60 bytes of it. */
  expect_contains(lt_eval_error(lang, DBL "((dbl 40 1))", NSR_ERR_INVALID),
                  "cannot call ((((((((((((((((((((((((((((((((((((((((1 1) (1 1)) ((1 1) (...");
  /* nsr_lang_format prints no more than its buffer. */
  lt_eval(lang, DBL "(dbl 40 1)");
  char small[16];
  assert_true(nsr_lang_format(lang, nsr_lang_result(lang), small, sizeof small) >= sizeof small);
  assert_string_equal(small, "((((((((((((((("); /* 40 parentheses, cut to 15 */
  nsr_lang_free(lang);
}

/* ---- JSON ---------------------------------------------------------------- */

static void expect_json(nsr_lang *lang, const char *src, nsr_code code, const char *needle) {
  lt_eval(lang, src);
  char *json = NULL;
  nsr_error err;
  nsr_error_clear(&err);
  nsr_code got = nsr_lang_to_json(lang, nsr_lang_result(lang), &json, &err);
  if (got != code) fail_msg("%s: got %s (%s)", src, nsr_code_name(got), err.message);
  expect_contains(code == NSR_OK ? json : err.message, needle);
  nsr_free(json);
}

static void test_json_depth(void **state) {
  (void)state;
  nsr_lang *lang = new_with_memory(64);
  char inner[] = "[[[[[[[[[[1]]]]]]]]]]"; /* deep 10 */
  expect_json(lang, DEEP "(deep 100 1)", NSR_OK, inner);
  expect_json(lang, DEEP "(deep 101 1)", NSR_ERR_LIMIT, "deeper than 100 levels");
  expect_json(lang, DEEP "(deep 1004 1)", NSR_ERR_LIMIT, "deeper than 100 levels");
  expect_json(lang, DEEP "(list->vector (list (deep 100 1)))", NSR_ERR_LIMIT, "deeper than 100 levels");
  expect_json(lang, SELF "v", NSR_ERR_LIMIT, "deeper than 100 levels");
  expect_json(lang, DBL "(dbl 40 1)", NSR_ERR_LIMIT,
              "memory budget of 67108864 bytes exhausted (--max-memory)");
  nsr_lang_free(lang);
}

/* ---- memory: the process ------------------------------------------------- */

/* Resident size of this process in KiB (/proc/self/status VmRSS). */
static size_t rss_kib(void) {
  FILE *f = fopen("/proc/self/status", "r");
  assert_non_null(f);
  char line[256];
  size_t kib = 0;
  while (fgets(line, sizeof line, f) != NULL) {
    if (sscanf(line, "VmRSS: %zu kB", &kib) == 1) break;
  }
  fclose(f);
  assert_true(kib > 0);
  return kib;
}

/* After a program filled a 256 MiB budget and its interpreter is freed, the
 * memory goes back to the system: the process's resident size returns to
 * within 16 MiB of what it was. */
static void test_memory_given_back(void **state) {
  (void)state;
  if (UNDER_ASAN) skip();
  size_t before = rss_kib();
  nsr_lang *lang = new_with_memory(256);
  expect_contains(lt_eval_error(lang, "(define (bomb l) (bomb (cons 1 l))) (bomb (list))", NSR_ERR_LIMIT),
                  "memory budget of 268435456 bytes exhausted");
  nsr_lang_free(lang);
  size_t after = rss_kib();
  if (after > before + 16 * 1024) fail_msg("RSS %zu KiB before, %zu KiB after", before, after);
}

typedef struct child {
  int status;
  long maxrss_kib;
  char err[4096];
} child;

/* Runs `nsr run ARGS...` (stdout to /dev/null) and collects its exit
 * status, stderr and peak resident size. */
static void run_nsr(child *c, const char *const *args) {
  char path[] = "/tmp/nsr-walks-XXXXXX";
  int errfd = mkstemp(path);
  assert_true(errfd >= 0);
  unlink(path);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    int null = open("/dev/null", O_WRONLY);
    dup2(null, 1);
    dup2(errfd, 2);
    const char *argv[16] = {nsr_bin, "run"};
    for (int i = 0; args[i] != NULL && i < 13; i++) argv[i + 2] = args[i];
    execv(nsr_bin, (char *const *)argv);
    _exit(127);
  }
  struct rusage ru;
  int status;
  assert_int_equal(wait4(pid, &status, 0, &ru), pid);
  c->status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  c->maxrss_kib = ru.ru_maxrss;
  ssize_t n = pread(errfd, c->err, sizeof c->err - 1, 0);
  c->err[n > 0 ? n : 0] = '\0';
  close(errfd);
}

/* Hostile programs under `nsr run --max-memory 64M`: each stops with the
 * budget named, and the process's peak resident size stays within 1.2
 * times the budget above that of a trivial program. */
static void test_run_rss_within_budget(void **state) {
  (void)state;
  child base;
  run_nsr(&base, (const char *const[]){"-e", "1", NULL});
  assert_int_equal(base.status, 0);
  const char *programs[] = {
      "(define (bomb l) (bomb (cons 1 l))) (bomb (list))",
      "(define (sb s) (sb (string-append s s))) (sb \"x\")",
      "(define (f n) (+ 1 (f (+ n 1)))) (f 0)",
      "(enumeration-query (define xs (repeat 60 flip)) xs #t)",
      "(define (vb l) (vb (cons (make-vector 1000 0) l))) (vb (list))",
      DBL "(dbl 40 1)",
      DBL "(display (dbl 40 1))",
  };
  for (size_t i = 0; i < sizeof programs / sizeof programs[0]; i++) {
    child c;
    run_nsr(&c, (const char *const[]){"--max-memory", "64M", "--max-time", "0", "-e", programs[i], NULL});
    if (c.status != 2 || strstr(c.err, "memory budget of 67108864 bytes exhausted") == NULL) {
      fail_msg("%s: status %d, stderr %s", programs[i], c.status, c.err);
    }
    long bound = base.maxrss_kib + 64 * 1024 * 12 / 10;
    if (!UNDER_ASAN && c.maxrss_kib > bound) {
      fail_msg("%s: peak RSS %ld KiB, over %ld KiB", programs[i], c.maxrss_kib, bound);
    }
  }
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s NSR\n", argv[0]);
    return 2;
  }
  nsr_bin = argv[1];
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_equal_cyclic),
      cmocka_unit_test(test_equal_shared),
      cmocka_unit_test(test_mem_keys_shared_and_cyclic),
      cmocka_unit_test(test_print_cyclic),
      cmocka_unit_test(test_print_shared_stops_at_budget),
      cmocka_unit_test(test_json_depth),
      cmocka_unit_test(test_memory_given_back),
      cmocka_unit_test(test_run_rss_within_budget),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
