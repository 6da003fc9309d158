/* test_core.c: core/: errors, allocator failure injection, arena, RNG,
 * bitsets, strings, atomic files, JSON helpers and writer, progress bar. */
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

/* Finishing a buffer nothing was appended to (a reply with an empty body,
 * say) hands over "" of length 0. The freed block of 'x' bytes is what the
 * allocator most likely returns next, so a missing NUL shows up as 'x' even
 * without ASan (which fills fresh blocks itself). */
static void test_strbuf_empty_finish_is_terminated(void **state) {
  (void)state;
  for (int round = 0; round < 2; round++) {
    char *junk = nsr_malloc(256);
    assert_non_null(junk);
    memset(junk, 'x', 256);
    nsr_free(junk);
    nsr_strbuf sb = {0};
    if (round == 1) nsr_strbuf_append(&sb, "", 0); /* an empty append changes nothing */
    char *out = NULL;
    size_t len = 99;
    assert_int_equal(nsr_strbuf_finish(&sb, &out, &len, NULL), NSR_OK);
    assert_int_equal(len, 0);
    assert_string_equal(out, "");
    nsr_free(out);
    /* The emptied buffer is reusable and finishes empty again. */
    assert_int_equal(nsr_strbuf_finish(&sb, &out, &len, NULL), NSR_OK);
    assert_string_equal(out, "");
    nsr_free(out);
  }
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
  char *dumped = nsr_json_dump(obj);
  assert_non_null(strstr(dumped, "\"s\":\"hi\""));
  free(dumped);
  json_decref(obj);
  assert_int_equal(nsr_json_parse("{\"a\": [1, }", 11, &obj, &err), NSR_ERR_PARSE);
  assert_non_null(strstr(err.message, "line 1"));
}

/* Expected texts: the digits are Python's repr (David Gay's shortest
 * round-trip), laid out as json.h documents. */
static void test_json_real_text_is_shortest(void **state) {
  (void)state;
  static const struct {
    double v;
    const char *text;
  } cases[] = {
      {0.1, "0.1"},
      {1.0 / 3.0, "0.3333333333333333"},
      {2.0 / 3.0, "0.6666666666666666"},
      {0.1 + 0.2, "0.30000000000000004"},
      {1e-300, "1e-300"},
      {5e-324, "5e-324"},
      {1.5e-323, "1.5e-323"},
      {2.2250738585072014e-308, "2.2250738585072014e-308"},
      {1.7976931348623157e308, "1.7976931348623157e308"},
      {-1.7976931348623157e308, "-1.7976931348623157e308"},
      {100.0, "100.0"},
      {1.0, "1.0"},
      {0.0, "0.0"},
      {-0.0, "-0.0"},
      {-2.5, "-2.5"},
      {1234.5, "1234.5"},
      {4.35, "4.35"},
      {0.0001, "0.0001"},
      {0.000123, "0.000123"},
      {0.00001, "1e-5"},
      {1.5e-5, "1.5e-5"},
      {-1.2345678901234567e-7, "-1.2345678901234566e-7"},
      {1e15 + 0.3, "1000000000000000.2"},
      {9007199254740993.0, "9007199254740992.0"},
      {1e16, "10000000000000000.0"},
      {1e17, "1e17"},
      {1e23, "1e23"},
      {123456789012345678.0, "1.2345678901234568e17"},
  };
  char buf[NSR_JSON_REAL_MAX];
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    assert_string_equal(nsr_json_real_text(cases[i].v, buf), cases[i].text);
  }
  assert_string_equal(nsr_json_real_text(INFINITY, buf), "\"Infinity\"");
  assert_string_equal(nsr_json_real_text(-INFINITY, buf), "\"-Infinity\"");
  assert_string_equal(nsr_json_real_text(NAN, buf), "\"NaN\"");
}

/* Significant digits of a real's text: "100.0" has 1, "0.0012" has 2. */
static int significant_digits(const char *text) {
  char digits[NSR_JSON_REAL_MAX];
  int n = 0;
  for (const char *p = text; *p && *p != 'e'; p++) {
    if (*p >= '0' && *p <= '9' && (n > 0 || *p != '0')) digits[n++] = *p;
  }
  while (n > 1 && digits[n - 1] == '0') n--;
  return n > 0 ? n : 1;
}

/* Dumps doubles from random bit patterns (every exponent, subnormals,
 * both signs) and from ordinary magnitudes: strtod must give the same bits
 * back, jansson must read a real, and one digit fewer must not round-trip. */
static void test_json_real_text_round_trips(void **state) {
  (void)state;
  nsr_rng rng;
  nsr_rng_seed(&rng, 20240601);
  /* 20,000 values: a few seconds under valgrind, which runs this suite. */
  for (int i = 0; i < 20000; i++) {
    double v;
    if (i % 2) {
      uint64_t bits = nsr_rng_u64(&rng);
      memcpy(&v, &bits, sizeof v);
      if (!isfinite(v)) continue;
    } else {
      v = (nsr_rng_uniform(&rng) - 0.5) * pow(10.0, (double)nsr_rng_below(&rng, 30) - 8.0);
    }
    char buf[NSR_JSON_REAL_MAX];
    const char *text = nsr_json_real_text(v, buf);
    double back = strtod(text, NULL);
    uint64_t back_bits, v_bits;
    memcpy(&back_bits, &back, sizeof back);
    memcpy(&v_bits, &v, sizeof v);
    if (back_bits != v_bits) fail_msg("%s reads back as %.17g, not %.17g", text, back, v);
    int n = significant_digits(text);
    if (n > 1) {
      char shorter[64];
      snprintf(shorter, sizeof shorter, "%.*e", n - 2, v);
      if (strtod(shorter, NULL) == v) fail_msg("%s: %s is shorter and reads back too", text, shorter);
    }
    if (i % 50 == 0) {
      json_t *j = json_loads(text, JSON_DECODE_ANY, NULL);
      if (!json_is_real(j) || json_real_value(j) != v) fail_msg("jansson does not read %s as a real", text);
      json_decref(j);
    }
  }
}

static void test_json_dump_values_and_escapes(void **state) {
  (void)state;
  json_t *doc = json_pack("{s:i, s:I, s:I, s:[i, f, [], {}], s:{s:n, s:b, s:b}}", "z", 1, "big",
                          (json_int_t)INT64_MAX, "small", (json_int_t)INT64_MIN, "a", -7, 2.5, "m", "k",
                          "t", 1, "f", 0);
  assert_non_null(doc);
  char *text = nsr_json_dump(doc);
  /* Members in insertion order, not sorted. */
  assert_string_equal(text, "{\"z\":1,\"big\":9223372036854775807,\"small\":-9223372036854775808,"
                            "\"a\":[-7,2.5,[],{}],\"m\":{\"k\":null,\"t\":true,\"f\":false}}");
  nsr_free(text);
  json_decref(doc);

  /* Quote, backslash, the named escapes, other control characters as
   * \u00XX, NUL inside a string, DEL, '/' and UTF-8 (2, 3 and 4 bytes) as is. */
  static const char raw[] = "q\"b\\s/\n\t\r\b\f\x01\x1f\x7f\xc3\xa9\xe6\x97\xa5\xf0\x9f\x98\x80" "\0z";
  json_t *s = json_stringn(raw, sizeof raw - 1);
  assert_non_null(s);
  text = nsr_json_dump(s);
  assert_string_equal(text, "\"q\\\"b\\\\s/\\n\\t\\r\\b\\f\\u0001\\u001F\x7f\xc3\xa9\xe6\x97\xa5\xf0\x9f\x98\x80"
                            "\\u0000z\"");
  /* jansson reads it back to the same bytes. */
  json_t *back = json_loads(text, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
  assert_true(json_equal(back, s));
  json_decref(back);
  nsr_free(text);
  /* Keys are escaped too. */
  json_t *o = json_object();
  assert_int_equal(json_object_set_new(o, "a\"\n", json_integer(0)), 0);
  text = nsr_json_dump(o);
  assert_string_equal(text, "{\"a\\\"\\n\":0}");
  nsr_free(text);
  json_decref(o);
  json_decref(s);

  /* Non-finite values: strings a reader tells apart from numbers. */
  doc = json_pack("[o, o, o, o]", nsr_json_real(INFINITY), nsr_json_real(-INFINITY), nsr_json_real(NAN),
                  nsr_json_real(0.1));
  assert_non_null(doc);
  text = nsr_json_dump(doc);
  assert_string_equal(text, "[\"Infinity\",\"-Infinity\",\"NaN\",0.1]");
  nsr_free(text);
  json_decref(doc);
  json_t *one = json_real(1e20);
  text = nsr_json_dump(one); /* any value, not only containers */
  assert_string_equal(text, "1e20");
  nsr_free(text);
  json_decref(one);
}

/* The indented layout is jansson's JSON_INDENT(n), which callers used
 * before (numbers here print alike in both). */
static void test_json_dump_indent_matches_jansson(void **state) {
  (void)state;
  const char *src = "{\"a\": [1, 2.5, [], {}, [true, null]], \"b\": {\"c\": \"x\\ty\", \"d\": {}},"
                    " \"e\": [], \"f\": -0.25}";
  json_t *doc = json_loads(src, 0, NULL);
  assert_non_null(doc);
  for (int indent = 0; indent <= 3; indent++) {
    char *ours = nsr_json_dump_indent(doc, indent);
    char *theirs = json_dumps(doc, indent ? JSON_INDENT(indent) : JSON_COMPACT);
    assert_string_equal(ours, theirs);
    nsr_free(ours);
    free(theirs);
  }
  char *compact = nsr_json_dump(doc);
  assert_string_equal(compact, "{\"a\":[1,2.5,[],{},[true,null]],\"b\":{\"c\":\"x\\ty\",\"d\":{}},\"e\":[],"
                               "\"f\":-0.25}");
  nsr_free(compact);
  json_decref(doc);
}

/* Checked against jansson, which accepts exactly the well-formed strings;
 * and nsr_json_string's repair of the others. */
static void test_json_utf8_valid(void **state) {
  (void)state;
  static const char *const good[] = {"", "abc", "\xc3\xa9", "\xe6\x97\xa5", "\xf0\x9f\x98\x80",
                                     "\xf4\x8f\xbf\xbf", "\xed\x9f\xbf", "\xee\x80\x80"};
  static const char *const bad[] = {"\xff", "\x80", "\xc0\x80", "\xc1\xbf", "\xe0\x80\x80",
                                    "\xed\xa0\x80", "\xf0\x80\x80\x80", "\xf4\x90\x80\x80",
                                    "\xf5\x80\x80\x80", "\xe6\x97", "a\xc3", "\xc3\x28"};
  for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
    assert_true(nsr_json_utf8_valid(good[i], strlen(good[i])));
  }
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    assert_false(nsr_json_utf8_valid(bad[i], strlen(bad[i])));
  }
  nsr_rng rng;
  nsr_rng_seed(&rng, 7);
  for (int i = 0; i < 20000; i++) {
    /* Short strings biased towards lead and continuation bytes. */
    char s[6];
    size_t len = (size_t)nsr_rng_below(&rng, sizeof s + 1);
    for (size_t k = 0; k < len; k++) {
      uint64_t r = nsr_rng_u64(&rng);
      s[k] = (char)((r & 1) ? 0x80 + (r >> 8) % 0x80 : (r >> 8) % 0x100);
      if (s[k] == 0) s[k] = 'x';
    }
    json_t *j = json_stringn(s, len);
    if (nsr_json_utf8_valid(s, len) != (j != NULL)) {
      fail_msg("string %d of %zu bytes: nsr says %d, jansson %d", i, len, nsr_json_utf8_valid(s, len), j != NULL);
    }
    json_decref(j);
  }
  /* nsr_json_string keeps well-formed text and replaces each bad byte. */
  json_t *v = nsr_json_string("ok \xc3\xa9");
  assert_string_equal(json_string_value(v), "ok \xc3\xa9");
  json_decref(v);
  v = nsr_json_string("a\xff\xc3(\xed\xa0\x80z\xe6\x97");
  assert_string_equal(json_string_value(v), "a\xef\xbf\xbd\xef\xbf\xbd(\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbdz"
                                            "\xef\xbf\xbd\xef\xbf\xbd");
  json_decref(v);
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
      cmocka_unit_test(test_strbuf_empty_finish_is_terminated),
      cmocka_unit_test(test_atomic_write_and_read),
      cmocka_unit_test(test_json_helpers_name_the_key),
      cmocka_unit_test(test_json_real_text_is_shortest),
      cmocka_unit_test(test_json_real_text_round_trips),
      cmocka_unit_test(test_json_dump_values_and_escapes),
      cmocka_unit_test(test_json_dump_indent_matches_jansson),
      cmocka_unit_test(test_json_utf8_valid),
      cmocka_unit_test(test_progress_quiet_off_tty_and_drawn_when_forced),
      cmocka_unit_test(test_clock_is_monotonic),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
