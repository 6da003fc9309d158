/* test_extract_sample.c: extraction over a domain too large to enumerate:
 * the uniform sample, the Wilson intervals (against a bisection of the
 * score test they invert), the rules' sampling columns in a real store,
 * and the exact mode still used for small domains. */
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

#include "nsr_extract.h"
#include "nsr_test_util.h"
#include "nsr_store.h"
#include "tiny_model.h"

#define Z95 1.959963984540054

/* Whether p0 passes the two-sided score test for k of n at 95%:
 * |k/n - p0| <= z sqrt(p0 (1 - p0) / n). The Wilson interval is the set of
 * such p0; its ends are found here by bisection on each side of k/n. */
static bool accepted(double p0, uint64_t k, uint64_t n) {
  double p = (double)k / (double)n;
  return fabs(p - p0) <= Z95 * sqrt(p0 * (1.0 - p0) / (double)n) + 1e-15;
}

static double bisect(double in, double out, uint64_t k, uint64_t n) {
  for (int i = 0; i < 200; i++) {
    double mid = 0.5 * (in + out);
    if (accepted(mid, k, n)) in = mid;
    else out = mid;
  }
  return in;
}

static void score_interval(uint64_t k, uint64_t n, double *lo, double *hi) {
  double p = (double)k / (double)n;
  *lo = k == 0 ? 0.0 : bisect(p, 0.0, k, n);
  *hi = k == n ? 1.0 : bisect(p, 1.0, k, n);
}

static void test_wilson(void **state) {
  (void)state;
  double lo, hi;
  /* Textbook values: 8 of 10 gives [0.4902, 0.9433]; 0 of 10 gives
   * [0, z^2 / (n + z^2)]. */
  nsr_wilson95(8, 10, &lo, &hi);
  assert_float_equal(lo, 0.4902, 1e-4);
  assert_float_equal(hi, 0.9433, 1e-4);
  nsr_wilson95(0, 10, &lo, &hi);
  assert_float_equal(lo, 0.0, 1e-12);
  assert_float_equal(hi, Z95 * Z95 / (10 + Z95 * Z95), 1e-9);
  const uint64_t cases[][2] = {{1, 1}, {3, 7}, {50, 100}, {99, 100}, {4000, 4096}, {17, 4096}};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    double blo, bhi;
    nsr_wilson95(cases[i][0], cases[i][1], &lo, &hi);
    score_interval(cases[i][0], cases[i][1], &blo, &bhi);
    assert_float_equal(lo, blo, 1e-9);
    assert_float_equal(hi, bhi, 1e-9);
  }
  nsr_wilson95(0, 0, &lo, &hi);
  assert_true(lo == 0.0 && hi == 1.0);
}

static void test_sample_domain(void **state) {
  (void)state;
  enum { K = 4096 };
  static uint32_t a[K], b[K], c[K];
  nsr_error err;
  assert_int_equal(nsr_sample_domain(1000000, K, 7, a, &err), NSR_OK);
  assert_int_equal(nsr_sample_domain(1000000, K, 7, b, &err), NSR_OK);
  assert_int_equal(nsr_sample_domain(1000000, K, 8, c, &err), NSR_OK);
  assert_memory_equal(a, b, sizeof a);
  assert_memory_not_equal(a, c, sizeof a);
  double sum = 0;
  size_t low_half = 0;
  for (size_t i = 0; i < K; i++) {
    assert_true(a[i] >= 1 && a[i] <= 1000000);
    if (i > 0) assert_true(a[i] > a[i - 1]);
    sum += a[i];
    low_half += a[i] <= 500000;
  }
  /* Uniform on 1..10^6: mean 500000.5, sd of the mean 288675 / 64 = 4511;
   * half below the middle, sd 32. Six sds either way. */
  assert_true(fabs(sum / K - 500000.5) < 6 * 4511);
  assert_true(labs((long)low_half - K / 2) < 6 * 32);
  /* k = n takes everything. */
  uint32_t all[50];
  assert_int_equal(nsr_sample_domain(50, 50, 3, all, &err), NSR_OK);
  for (uint32_t i = 0; i < 50; i++) assert_int_equal(all[i], i + 1);
}

static void test_sampled_extraction(void **state) {
  (void)state;
  enum { N = 20000, S = 600 };
  nsr_nn_model *m = tiny_wide(N, 3);
  nsr_error err;
  nsr_activations acts;
  assert_int_equal(nsr_activations_capture_sample(m, N, S + 5000, 1, &acts, &err), NSR_ERR_RANGE);
  assert_int_equal(nsr_activations_capture_sample(m, N + 1, S, 1, &acts, &err), NSR_ERR_INVALID);
  assert_int_equal(nsr_activations_capture_sample(m, N, S, 11, &acts, &err), NSR_OK);
  assert_int_equal(acts.max, S);
  assert_int_equal(acts.domain_max, N);
  assert_non_null(acts.inputs);
  nsr_numbers_config ncfg;
  nsr_numbers_config_default(&ncfg);
  ncfg.max = N;
  nsr_numbers *engine;
  assert_int_equal(nsr_numbers_new(&ncfg, &engine, &err), NSR_OK);
  nsr_concept_library lib;
  const uint32_t unsorted[] = {5, 3, 9}, outside[] = {1, N + 1};
  assert_int_equal(nsr_concept_library_build_sample(engine, unsorted, 3, &lib, &err), NSR_ERR_INVALID);
  assert_int_equal(nsr_concept_library_build_sample(engine, outside, 2, &lib, &err), NSR_ERR_INVALID);
  assert_int_equal(nsr_concept_library_build_sample(engine, unsorted, 0, &lib, &err), NSR_ERR_RANGE);
  assert_int_equal(nsr_concept_library_build_sample(engine, acts.inputs, acts.max, &lib, &err), NSR_OK);
  /* "even" over the sample is the sampled even numbers, counted by hand. */
  uint32_t evens = 0;
  for (uint32_t i = 0; i < S; i++) evens += acts.inputs[i] % 2 == 0;
  assert_string_equal(lib.items[0].name, "even");
  assert_int_equal(lib.items[0].size, evens);
  nsr_lang_config lcfg;
  nsr_lang_config_default(&lcfg);
  nsr_lang *lang;
  assert_int_equal(nsr_lang_new(&lcfg, &lang, &err), NSR_OK);
  assert_int_equal(nsr_concept_library_verify(&lib, lang, &err), NSR_OK);
  nsr_extract_opts opts;
  nsr_extract_opts_default(&opts);
  opts.probe = false; /* alignment and CART cover the three intervals */
  nsr_extraction ex;
  assert_int_equal(nsr_extract(&acts, &lib, engine, &opts, NULL, NULL, &ex, &err), NSR_OK);
  assert_true(ex.per_method[0] > 0 && ex.per_method[2] > 0);
  for (size_t i = 0; i < ex.n; i++) {
    const nsr_store_rule *r = &ex.rules[i];
    const nsr_store_sample *s = &ex.samples[i];
    assert_int_equal(s->size, S);
    /* fidelity = k / n with n = the inputs the rule covers */
    uint64_t n = strcmp(r->method, "cart") == 0 ? (uint64_t)r->support : S;
    uint64_t k = (uint64_t)llround(r->fidelity * (double)n);
    assert_float_equal(r->fidelity * (double)n, (double)k, 1e-6);
    double lo, hi;
    score_interval(k, n, &lo, &hi);
    assert_float_equal(s->fidelity[0], lo, 1e-9);
    assert_float_equal(s->fidelity[1], hi, 1e-9);
    assert_true(s->fidelity[0] <= r->fidelity && r->fidelity <= s->fidelity[1]);
    score_interval((uint64_t)llround(r->completeness * S), S, &lo, &hi);
    assert_float_equal(s->completeness[0], lo, 1e-9);
    assert_float_equal(s->completeness[1], hi, 1e-9);
    assert_true(isnan(s->accuracy[0])); /* the "other" layout has no exact classes */
  }
  /* The stored columns, through a real file. */
  char dir[] = "/tmp/nsr_sample_XXXXXX", path[300];
  assert_non_null(mkdtemp(dir));
  snprintf(path, sizeof path, "%s/s.db", dir);
  nsr_store *store;
  int64_t id;
  assert_int_equal(nsr_store_open(path, &store, &err), NSR_OK);
  assert_int_equal(nsr_store_add_extraction(store, "aa", "m", "{}", ex.rules, ex.samples, ex.n, &id, &err),
                   NSR_OK);
  nsr_store_close(store);
  json_t *q;
  assert_int_equal(nsr_store_query(path,
                                   "SELECT count(*), sum(sample_size = 600), "
                                   "sum(fidelity BETWEEN fidelity_lo AND fidelity_hi), "
                                   "sum(accuracy_lo IS NULL), sum(completeness_hi <= 1) FROM rules",
                                   10, 2000, &q, &err), NSR_OK);
  json_t *row = json_array_get(json_object_get(q, "rows"), 0);
  for (size_t c = 1; c < 5; c++) {
    assert_int_equal(json_integer_value(json_array_get(row, c)), (json_int_t)ex.n);
  }
  json_decref(q);
  remove_sqlite_file(path);
  rmdir(dir);
  nsr_extraction_free(&ex);
  nsr_lang_free(lang);
  nsr_concept_library_free(&lib);
  nsr_numbers_free(engine);
  nsr_activations_free(&acts);
  nsr_nn_free(m);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_wilson),
      cmocka_unit_test(test_sample_domain),
      cmocka_unit_test(test_sampled_extraction),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
