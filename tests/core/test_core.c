/* test_core.c: core/: errors, allocator failure injection, arena, RNG,
 * bitsets, strings, atomic files, JSON helpers, progress bar. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "arena.h"
#include "fileio.h"
#include "json.h"
#include "nsr_core.h"
#include "progress.h"
#include "strbuf.h"

static void test_error_records_what_and_where(void **state) {
  (void)state;
  nsr_error err;
  nsr_error_clear(&err);
  nsr_code rc = nsr_fail(&err, NSR_ERR_RANGE, "value %d too big", 7);
  assert_int_equal(rc, NSR_ERR_RANGE);
  assert_int_equal(err.code, NSR_ERR_RANGE);
  assert_string_equal(err.message, "value 7 too big");
  assert_non_null(strstr(err.file, "test_core.c"));
  assert_true(err.line > 0);
  nsr_error_prefix(&err, "loading %s: ", "x.bin");
  assert_string_equal(err.message, "loading x.bin: value 7 too big");
  assert_int_equal(nsr_fail(NULL, NSR_ERR_IO, "ignored"), NSR_ERR_IO);
  assert_string_equal(nsr_code_name(NSR_ERR_NOMEM), "out of memory");
}

static void test_error_prefix_truncates_safely(void **state) {
  (void)state;
  nsr_error err;
  char long_text[NSR_ERROR_MESSAGE_MAX * 2];
  memset(long_text, 'a', sizeof long_text - 1);
  long_text[sizeof long_text - 1] = '\0';
  nsr_fail(&err, NSR_ERR_IO, "%s", long_text);
  assert_int_equal(strlen(err.message), NSR_ERROR_MESSAGE_MAX - 1);
  nsr_error_prefix(&err, "ctx: ");
  assert_int_equal(strlen(err.message), NSR_ERROR_MESSAGE_MAX - 1);
  assert_memory_equal(err.message, "ctx: aaa", 8);
}

static void test_alloc_fails_at_nth_call(void **state) {
  (void)state;
  nsr_alloc_fail_after(3);
  void *a = nsr_malloc(8), *b = nsr_calloc(2, 8), *c = nsr_malloc(8), *d = nsr_malloc(1);
  nsr_alloc_fail_reset();
  assert_non_null(a);
  assert_non_null(b);
  assert_null(c);
  assert_null(d); /* every allocation after the Nth fails too */
  void *e = nsr_malloc(8);
  assert_non_null(e);
  nsr_free(a);
  nsr_free(b);
  nsr_free(e);
}

static void test_alloc_array_overflow(void **state) {
  (void)state;
  assert_null(nsr_mallocarray(SIZE_MAX / 2, 4));
  assert_null(nsr_reallocarray(NULL, SIZE_MAX / 8, 16));
  char *s = nsr_strndup("hello world", 5);
  assert_string_equal(s, "hello");
  nsr_free(s);
}

static void test_arena_alignment_limit_and_rewind(void **state) {
  (void)state;
  nsr_arena arena;
  nsr_arena_init(&arena, 128, 1000);
  for (size_t align = 1; align <= 64; align *= 2) {
    void *p = nsr_arena_alloc(&arena, 3, align);
    assert_non_null(p);
    assert_int_equal((uintptr_t)p % align, 0);
  }
  nsr_arena_mark mark = nsr_arena_get_mark(&arena);
  size_t used = arena.bytes_used;
  assert_non_null(nsr_arena_alloc(&arena, 500, 8)); /* needs a new chunk */
  assert_null(nsr_arena_alloc(&arena, 600, 8));     /* past the 1000-byte limit */
  nsr_arena_rewind(&arena, mark);
  assert_int_equal(arena.bytes_used, used);
  char *s = nsr_arena_strdup(&arena, "kept");
  assert_string_equal(s, "kept");
  int *zeros = nsr_arena_calloc(&arena, 10, sizeof(int));
  for (int i = 0; i < 10; i++) assert_int_equal(zeros[i], 0);
  nsr_arena_free(&arena);
  assert_null(arena.head);
}

static void test_arena_survives_allocation_failure(void **state) {
  (void)state;
  nsr_arena arena;
  nsr_arena_init(&arena, 64, 0);
  nsr_alloc_fail_after(1);
  assert_null(nsr_arena_alloc(&arena, 8, 8));
  nsr_alloc_fail_reset();
  assert_non_null(nsr_arena_alloc(&arena, 8, 8));
  nsr_arena_free(&arena);
}

/* Reference outputs for seed 42 from an independent Python transcription of
 * the published splitmix64 and xoshiro256** definitions. */
static void test_rng_matches_reference_stream(void **state) {
  (void)state;
  static const uint64_t expected[] = {0x15780b2e0c2ec716ULL, 0x6104d9866d113a7eULL,
                                      0xae17533239e499a1ULL, 0xecb8ad4703b360a1ULL,
                                      0xfde6dc7fe2ec5e64ULL};
  nsr_rng rng;
  nsr_rng_seed(&rng, 42);
  for (size_t i = 0; i < 5; i++) assert_true(nsr_rng_u64(&rng) == expected[i]);
}

static void test_rng_distributions(void **state) {
  (void)state;
  nsr_rng rng;
  nsr_rng_seed(&rng, 7);
  enum { N = 200000 };
  double sum = 0, sum2 = 0, usum = 0;
  uint64_t counts[6] = {0};
  for (int i = 0; i < N; i++) {
    double z = nsr_rng_normal(&rng);
    sum += z;
    sum2 += z * z;
    double u = nsr_rng_uniform(&rng);
    assert_true(u >= 0.0 && u < 1.0);
    usum += u;
    counts[nsr_rng_below(&rng, 6)]++;
  }
  /* Standard errors: mean 1/sqrt(N) ≈ 0.0022; allow 5 of them. */
  assert_true(fabs(sum / N) < 0.011);
  assert_true(fabs(sum2 / N - 1.0) < 0.016);
  assert_true(fabs(usum / N - 0.5) < 0.0033);
  for (int k = 0; k < 6; k++) assert_true(labs((long)counts[k] - N / 6) < 5 * 167);
  nsr_rng a, b;
  nsr_rng_seed(&a, 1);
  b = a;
  nsr_rng_jump(&b);
  assert_true(nsr_rng_u64(&a) != nsr_rng_u64(&b));
}

/* Bitset operations against a plain bool array, on sizes around word
 * boundaries. */
static void test_bitset_against_bool_arrays(void **state) {
  (void)state;
  static const size_t sizes[] = {1, 63, 64, 65, 127, 128, 129, 1000};
  nsr_rng rng;
  nsr_rng_seed(&rng, 3);
  for (size_t t = 0; t < sizeof sizes / sizeof sizes[0]; t++) {
    size_t n = sizes[t];
    nsr_bitset a, b, c;
    assert_int_equal(nsr_bitset_init(&a, n, NULL), NSR_OK);
    assert_int_equal(nsr_bitset_init(&b, n, NULL), NSR_OK);
    assert_int_equal(nsr_bitset_init(&c, n, NULL), NSR_OK);
    bool *ra = calloc(n, 1), *rb = calloc(n, 1);
    for (size_t i = 0; i < n; i++) {
      if (nsr_rng_below(&rng, 3) == 0) { ra[i] = true; nsr_bitset_add(&a, i); }
      if (nsr_rng_below(&rng, 2) == 0) { rb[i] = true; nsr_bitset_add(&b, i); }
    }
    size_t na = 0, nand = 0, nor = 0, nandnot = 0;
    bool subset = true;
    for (size_t i = 0; i < n; i++) {
      na += ra[i];
      nand += ra[i] && rb[i];
      nor += ra[i] || rb[i];
      nandnot += ra[i] && !rb[i];
      if (ra[i] && !rb[i]) subset = false;
    }
    assert_int_equal(nsr_bitset_count(&a), na);
    assert_int_equal(nsr_bitset_count_and(&a, &b), nand);
    assert_int_equal(nsr_bitset_is_subset(&a, &b), subset);
    nsr_bitset_and(&c, &a, &b);
    assert_int_equal(nsr_bitset_count(&c), nand);
    nsr_bitset_or(&c, &a, &b);
    assert_int_equal(nsr_bitset_count(&c), nor);
    nsr_bitset_andnot(&c, &a, &b);
    assert_int_equal(nsr_bitset_count(&c), nandnot);
    size_t seen = 0;
    for (size_t i = nsr_bitset_next(&a, 0); i < a.nbits; i = nsr_bitset_next(&a, i + 1)) {
      assert_true(ra[i]);
      seen++;
    }
    assert_int_equal(seen, na);
    nsr_bitset_copy(&c, &a);
    assert_true(nsr_bitset_equal(&c, &a));
    assert_true(nsr_bitset_is_subset(&a, &c));
    nsr_bitset_clear_all(&c);
    assert_int_equal(nsr_bitset_count(&c), 0);
    assert_int_equal(nsr_bitset_next(&c, 0), n);
    assert_false(nsr_bitset_has(&c, n + 5)); /* outside the universe: absent */
    free(ra);
    free(rb);
    nsr_bitset_free(&a);
    nsr_bitset_free(&b);
    nsr_bitset_free(&c);
  }
}

static void test_bitset_init_reports_nomem(void **state) {
  (void)state;
  nsr_bitset s;
  nsr_error err;
  nsr_alloc_fail_after(1);
  assert_int_equal(nsr_bitset_init(&s, 100, &err), NSR_ERR_NOMEM);
  nsr_alloc_fail_reset();
  assert_non_null(strstr(err.message, "100 bits"));
  nsr_bitset_free(&s);
}

static void test_strbuf_and_sticky_failure(void **state) {
  (void)state;
  nsr_strbuf sb = {0};
  for (int i = 0; i < 1000; i++) nsr_strbuf_printf(&sb, "%d,", i);
  char *out;
  size_t len;
  assert_int_equal(nsr_strbuf_finish(&sb, &out, &len, NULL), NSR_OK);
  assert_int_equal(len, strlen(out));
  assert_memory_equal(out, "0,1,2,", 6);
  nsr_free(out);

  nsr_strbuf bad = {0};
  nsr_alloc_fail_after(1);
  nsr_strbuf_puts(&bad, "x");
  nsr_alloc_fail_reset();
  nsr_strbuf_puts(&bad, "more"); /* ignored after the failure */
  nsr_error err;
  assert_int_equal(nsr_strbuf_finish(&bad, &out, NULL, &err), NSR_ERR_NOMEM);
}

static void test_atomic_write_and_read(void **state) {
  (void)state;
  char dir[] = "/tmp/nsr_core_XXXXXX";
  assert_non_null(mkdtemp(dir));
  char path[256];
  snprintf(path, sizeof path, "%s/out.txt", dir);
  nsr_error err;
  assert_int_equal(nsr_write_file_atomic(path, "first", 5, &err), NSR_OK);
  assert_int_equal(nsr_write_file_atomic(path, "second", 6, &err), NSR_OK);
  char *text;
  size_t len;
  assert_int_equal(nsr_read_file(path, 0, &text, &len, &err), NSR_OK);
  assert_string_equal(text, "second");
  nsr_free(text);
  assert_int_equal(nsr_read_file(path, 3, &text, &len, &err), NSR_ERR_LIMIT);
  /* A temporary file left by a killed write (stale content, read-only) is
   * removed by the next write, and none is left behind. */
  char stale[300];
  snprintf(stale, sizeof stale, "%s%s", path, NSR_ATOMIC_TMP_SUFFIX);
  FILE *f = fopen(stale, "w");
  assert_non_null(f);
  fputs("stale", f);
  fclose(f);
  assert_int_equal(chmod(stale, 0400), 0);
  assert_int_equal(nsr_write_file_atomic(path, "second", 6, &err), NSR_OK);
  assert_int_equal(access(stale, F_OK), -1);
  char cmd[300];
  snprintf(cmd, sizeof cmd, "test $(ls %s | wc -l) -eq 1", dir);
  assert_int_equal(system(cmd), 0);
  /* A write into a missing directory fails cleanly. */
  snprintf(path, sizeof path, "%s/missing/out.txt", dir);
  assert_int_equal(nsr_write_file_atomic(path, "x", 1, &err), NSR_ERR_IO);
  assert_non_null(strstr(err.message, "missing/out.txt"));
  assert_int_equal(nsr_read_file(path, 0, &text, &len, &err), NSR_ERR_IO);
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  assert_int_equal(system(cmd), 0);
}

static void test_json_helpers_name_the_key(void **state) {
  (void)state;
  json_t *obj;
  nsr_error err;
  const char *text = "{\"n\": 3, \"x\": 2.5, \"s\": \"hi\", \"b\": true, \"f\": 4.0, \"z\": null}";
  assert_int_equal(nsr_json_parse(text, strlen(text), &obj, &err), NSR_OK);
  int64_t n = 0;
  double x = 0;
  const char *s = NULL;
  bool b = false;
  assert_int_equal(nsr_json_get_int(obj, "n", &n, &err), NSR_OK);
  assert_int_equal(n, 3);
  assert_int_equal(nsr_json_get_int(obj, "f", &n, &err), NSR_OK); /* 4.0 is an integer */
  assert_int_equal(n, 4);
  assert_int_equal(nsr_json_get_int(obj, "x", &n, &err), NSR_ERR_INVALID);
  assert_string_equal(err.message, "\"x\" must be an integer");
  assert_int_equal(nsr_json_get_number(obj, "x", &x, &err), NSR_OK);
  assert_true(x == 2.5);
  assert_int_equal(nsr_json_get_string(obj, "s", &s, &err), NSR_OK);
  assert_string_equal(s, "hi");
  assert_int_equal(nsr_json_get_bool_opt(obj, "b", &b, &err), NSR_OK);
  assert_true(b);
  assert_int_equal(nsr_json_get_string(obj, "missing", &s, &err), NSR_ERR_INVALID);
  assert_string_equal(err.message, "\"missing\" must be a string");
  n = 99;
  assert_int_equal(nsr_json_get_int_opt(obj, "z", &n, &err), NSR_OK); /* null = absent */
  assert_int_equal(n, 99);
  assert_int_equal(nsr_json_set(obj, "k", NULL, &err), NSR_ERR_NOMEM);
  char *dumped = nsr_json_dump(obj, 15);
  assert_non_null(strstr(dumped, "\"s\":\"hi\""));
  free(dumped);
  json_decref(obj);
  assert_int_equal(nsr_json_parse("{\"a\": [1, }", 11, &obj, &err), NSR_ERR_PARSE);
  assert_non_null(strstr(err.message, "line 1"));
}

static void test_progress_quiet_off_tty_and_drawn_when_forced(void **state) {
  (void)state;
  FILE *f = tmpfile();
  nsr_progress bar;
  nsr_progress_start_on(&bar, f, "work", 10, false); /* a file is no TTY */
  nsr_progress_update(&bar, 5, NULL);
  nsr_progress_finish(&bar, 10, NULL);
  assert_int_equal(ftell(f), 0);
  nsr_progress_start_on(&bar, f, "work", 10, true);
  nsr_progress_update(&bar, 5, "loss 0.5");
  nsr_progress_finish(&bar, 10, "loss 0.1");
  rewind(f);
  char buf[512] = {0};
  size_t got = fread(buf, 1, sizeof buf - 1, f);
  assert_true(got > 0);
  assert_non_null(strstr(buf, "100% 10/10"));
  assert_non_null(strstr(buf, "loss 0.1"));
  fclose(f);
}

static void test_clock_is_monotonic(void **state) {
  (void)state;
  uint64_t a = nsr_now_ns(), b = nsr_now_ns();
  assert_true(b >= a);
  assert_true(nsr_seconds_since(a) >= 0.0);
}

int main(void) {
  nsr_json_init();
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_error_records_what_and_where),
      cmocka_unit_test(test_error_prefix_truncates_safely),
      cmocka_unit_test(test_alloc_fails_at_nth_call),
      cmocka_unit_test(test_alloc_array_overflow),
      cmocka_unit_test(test_arena_alignment_limit_and_rewind),
      cmocka_unit_test(test_arena_survives_allocation_failure),
      cmocka_unit_test(test_rng_matches_reference_stream),
      cmocka_unit_test(test_rng_distributions),
      cmocka_unit_test(test_bitset_against_bool_arrays),
      cmocka_unit_test(test_bitset_init_reports_nomem),
      cmocka_unit_test(test_strbuf_and_sticky_failure),
      cmocka_unit_test(test_atomic_write_and_read),
      cmocka_unit_test(test_json_helpers_name_the_key),
      cmocka_unit_test(test_progress_quiet_off_tty_and_drawn_when_forced),
      cmocka_unit_test(test_clock_is_monotonic),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
