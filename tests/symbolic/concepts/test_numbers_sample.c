/* test_numbers_sample.c: the number game's generative model and the index
 * layout of its whole hypothesis space, against the brute-force reference
 * (numbers_brute.c) and the WebPPL peer's figures. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "numbers_brute.h"
#include "nsr_symbolic.h"

static nsr_numbers *engine_for(uint32_t max) {
  nsr_numbers_config cfg;
  nsr_numbers_config_default(&cfg);
  cfg.max = max;
  nsr_numbers *e;
  assert_int_equal(nsr_numbers_new(&cfg, &e, NULL), NSR_OK);
  return e;
}

/* Every index maps to a hypothesis and back; intervals come in the order
 * [1,1], [1,2], .., [1,N], [2,2], .., [N,N]. */
static void test_index_layout_round_trips(void **state) {
  (void)state;
  nsr_numbers *e = engine_for(30);
  assert_int_equal(nsr_numbers_space_size(e), 34 + 30 * 31 / 2);
  uint64_t index = 0;
  nsr_hypothesis h;
  for (uint32_t r = 0; r < 34; r++, index++) {
    assert_int_equal(nsr_numbers_hypothesis_at(e, index, &h, NULL), NSR_OK);
    assert_int_equal(h.kind, NSR_HYP_RULE);
    assert_int_equal(h.rule, r);
    assert_int_equal(nsr_numbers_hypothesis_index(e, &h), index);
  }
  for (uint32_t lo = 1; lo <= 30; lo++)
    for (uint32_t hi = lo; hi <= 30; hi++, index++) {
      assert_int_equal(nsr_numbers_hypothesis_at(e, index, &h, NULL), NSR_OK);
      assert_int_equal(h.kind, NSR_HYP_INTERVAL);
      assert_int_equal(h.lo, lo);
      assert_int_equal(h.hi, hi);
      assert_int_equal(h.size, hi - lo + 1);
      assert_int_equal(nsr_numbers_hypothesis_index(e, &h), index);
    }
  nsr_error err;
  assert_int_equal(nsr_numbers_hypothesis_at(e, index, &h, &err), NSR_ERR_RANGE);
  nsr_numbers_free(e);
}

/* The full posterior vector equals brute force entry by entry and sums to 1. */
static void test_posterior_all_matches_brute_force(void **state) {
  (void)state;
  nsr_numbers_config cfg;
  nsr_numbers_config_default(&cfg);
  cfg.max = 60;
  cfg.prior = NSR_PRIOR_MIXTURE;
  cfg.lambda = 0.4;
  nsr_numbers *e;
  assert_int_equal(nsr_numbers_new(&cfg, &e, NULL), NSR_OK);
  const uint32_t x[] = {12, 18, 24};
  uint64_t len = nsr_numbers_space_size(e);
  float *post = calloc(len, sizeof *post);
  nsr_error err;
  assert_int_equal(nsr_numbers_posterior_all(e, x, 3, post, len, &err), NSR_OK);
  brute b = {0};
  b.gen = calloc(cfg.max, sizeof *b.gen);
  b.interval_post = calloc(len - 34, sizeof *b.interval_post);
  brute_force(&cfg, x, 3, &b);
  double total = 0;
  for (uint64_t i = 0; i < len; i++) {
    double want = i < 34 ? b.rule_post[i] : b.interval_post[i - 34];
    assert_true(fabs(post[i] - want) <= 1e-6 * want + 1e-12);
    total += post[i];
  }
  assert_true(fabs(total - 1.0) < 1e-5);
  assert_int_equal(nsr_numbers_posterior_all(e, x, 3, post, len - 1, &err), NSR_ERR_INVALID);
  const uint32_t bad[] = {61};
  assert_int_equal(nsr_numbers_posterior_all(e, bad, 1, post, len, &err), NSR_ERR_RANGE);
  free(b.gen);
  free(b.interval_post);
  free(post);
  nsr_numbers_free(e);
}

/* Sampled hypotheses follow the prior. The WebPPL peer prints "effective
 * prior mass on rules = 0.456618" for the pmtk3 prior on 1..100; the mean
 * interval size is computed here by summing over all 5050 intervals. */
static void test_prior_samples_follow_the_prior(void **state) {
  (void)state;
  nsr_numbers *e = engine_for(100);
  nsr_rng rng;
  nsr_rng_seed(&rng, 11);
  enum { DRAWS = 200000 };
  int rules = 0;
  double size_sum = 0;
  int even = 0;
  for (int i = 0; i < DRAWS; i++) {
    nsr_hypothesis h;
    nsr_numbers_sample_hypothesis(e, &rng, &h);
    if (h.kind == NSR_HYP_RULE) {
      rules++;
      even += h.rule == 0;
    } else {
      assert_true(h.lo >= 1 && h.hi <= 100 && h.lo <= h.hi);
      size_sum += h.size;
    }
  }
  double p_rules = 0.456618, se = sqrt(p_rules * (1 - p_rules) / DRAWS);
  assert_true(fabs((double)rules / DRAWS - p_rules) < 5 * se);
  assert_true(fabs((double)even / rules - 1.0 / 34) < 0.004);
  double w = 0, ws = 0;
  for (int s = 1; s <= 100; s++) {
    double erl = s / 100.0 * exp(-s / 10.0);
    w += (101 - s) * erl;
    ws += (101 - s) * erl * s;
  }
  double mean_size = ws / w; /* ≈ 18; its sampling s.e. here is ≈ 0.03 */
  assert_true(fabs(size_sum / (DRAWS - rules) - mean_size) < 0.2);
  nsr_numbers_free(e);
}

/* Examples come uniformly from the hypothesis's extension. */
static void test_examples_follow_the_size_principle(void **state) {
  (void)state;
  nsr_numbers *e = engine_for(100);
  nsr_rng rng;
  nsr_rng_seed(&rng, 5);
  nsr_hypothesis squares = {.kind = NSR_HYP_RULE, .rule = 2, .size = 10};
  int counts[101] = {0};
  uint32_t x[1000];
  for (int round = 0; round < 100; round++) {
    nsr_numbers_sample_examples(e, &rng, &squares, x, 1000);
    for (int i = 0; i < 1000; i++) {
      assert_true(rule_has(2, x[i]));
      counts[x[i]]++;
    }
  }
  for (int k = 1; k <= 10; k++) assert_true(abs(counts[k * k] - 10000) < 500); /* 5 s.e. */
  nsr_hypothesis interval = {.kind = NSR_HYP_INTERVAL, .lo = 40, .hi = 44, .size = 5};
  nsr_numbers_sample_examples(e, &rng, &interval, x, 1000);
  for (int i = 0; i < 1000; i++) assert_true(x[i] >= 40 && x[i] <= 44);
  nsr_numbers_free(e);
}

/* For tiny N most rules are empty; sampling never returns one. */
static void test_empty_rules_are_never_sampled(void **state) {
  (void)state;
  nsr_numbers *e = engine_for(3);
  nsr_rng rng;
  nsr_rng_seed(&rng, 9);
  for (int i = 0; i < 20000; i++) {
    nsr_hypothesis h;
    nsr_numbers_sample_hypothesis(e, &rng, &h);
    assert_true(h.size > 0);
    uint32_t y;
    nsr_numbers_sample_examples(e, &rng, &h, &y, 1);
    assert_true(y >= 1 && y <= 3);
  }
  nsr_numbers_free(e);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_index_layout_round_trips),
      cmocka_unit_test(test_posterior_all_matches_brute_force),
      cmocka_unit_test(test_prior_samples_follow_the_prior),
      cmocka_unit_test(test_examples_follow_the_size_principle),
      cmocka_unit_test(test_empty_rules_are_never_sampled),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
