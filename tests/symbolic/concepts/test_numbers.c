/* test_numbers.c: the number-game concept engine, checked against numbers
 * derived independently: the WebPPL peer (../shared/peers/numbergame.wppl),
 * hand derivations, and a brute-force enumeration written here that visits
 * every hypothesis one by one with its own rule predicates. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "numbers_brute.h"
#include "nsr_test_util.h"
#include "nsr_symbolic.h"

/* ---- helpers ------------------------------------------------------------ */

typedef struct answer {
  nsr_numbers *engine;
  nsr_numbers_result result;
} answer;

static void ask(answer *a, const nsr_numbers_config *cfg, const uint32_t *x,
                size_t n, size_t top) {
  nsr_error err;
  memset(a, 0, sizeof *a);
  assert_int_equal(nsr_numbers_new(cfg, &a->engine, &err), NSR_OK);
  nsr_code rc = nsr_numbers_infer(a->engine, x, n, top, &a->result, &err);
  if (rc != NSR_OK) fail_msg("infer: %s", err.message);
}

static void answer_free(answer *a) {
  nsr_numbers_result_free(&a->result);
  nsr_numbers_free(a->engine);
}

static const nsr_hypothesis *find_named(const nsr_numbers_result *r, const char *name) {
  for (size_t i = 0; i < r->n_top; i++) {
    char buf[NSR_NUMBERS_NAME_MAX];
    nsr_numbers_hypothesis_name(&r->top[i], buf, sizeof buf);
    if (strcmp(buf, name) == 0) return &r->top[i];
  }
  return NULL;
}

/* ---- the WebPPL peer's figures ------------------------------------------ */

/* From the issue and `webppl numbergame.wppl -- --x 16,8,2,64 --prior pmtk3`:
 * powers of 2 0.999792, even 2.073169e-4, interval 2..64 4.757818e-8. */
static void test_tenenbaum_powers_of_two(void **state) {
  (void)state;
  nsr_numbers_config cfg;
  nsr_numbers_config_default(&cfg);
  const uint32_t x[] = {16, 8, 2, 64};
  answer a;
  ask(&a, &cfg, x, 4, 10);
  const nsr_numbers_result *r = &a.result;
  char name[NSR_NUMBERS_NAME_MAX];
  nsr_numbers_hypothesis_name(&r->top[0], name, sizeof name);
  assert_string_equal(name, "powers of 2");
  assert_near(r->top[0].posterior, 0.999792, 1e-6, "p(powers of 2 | X)");
  assert_int_equal(r->top[0].size, 6);
  assert_near(find_named(r, "even")->posterior, 2.07317e-4, 1e-6, "p(even | X)");
  assert_near(find_named(r, "interval 2..64")->posterior, 4.757818e-8, 1e-13, "p(2..64 | X)");
  for (uint32_t y = 2; y <= 100; y += 2) {
    bool power = y == 2 || y == 4 || y == 8 || y == 16 || y == 32 || y == 64;
    if (power) assert_near(r->generalization[y - 1], 1.0, 1e-6, "power of 2");
    else assert_near(r->generalization[y - 1], 2.08e-4, 2e-6, "other even number");
  }
  assert_int_equal(r->consistent_rules, 2);
  answer_free(&a);
}

/* `webppl numbergame.wppl -- --x 60 --prior pmtk3`: top hypotheses and
 * p(y ∈ C | X) to 6 decimals. */
static void test_sixty_matches_webppl(void **state) {
  (void)state;
  nsr_numbers_config cfg;
  nsr_numbers_config_default(&cfg);
  const uint32_t x[] = {60};
  answer a;
  ask(&a, &cfg, x, 1, 10);
  static const struct { const char *name; double p; } want[] = {
      {"multiples of 12", 1.228031e-1}, {"ends in 0", 9.824251e-2},
      {"multiples of 10", 9.824251e-2}, {"multiples of 6", 6.140157e-2},
      {"multiples of 5", 4.912125e-2},  {"multiples of 4", 3.929700e-2},
      {"multiples of 3", 2.977046e-2},  {"even", 1.964850e-2},
      {"interval 60..60", 4.444675e-3}, {"interval 59..60", 4.021708e-3}};
  for (size_t i = 0; i < 10; i++) {
    const nsr_hypothesis *h = find_named(&a.result, want[i].name);
    if (h == NULL) fail_msg("%s missing from the top 10", want[i].name);
    assert_near(h->posterior, want[i].p, 1e-7, want[i].name); /* 7 digits printed */
  }
  static const struct { uint32_t y; double p; } gen[] = {
      {1, 0.000126}, {2, 0.019913}, {10, 0.267311}, {12, 0.275696},
      {59, 0.435541}, {60, 1.0}, {61, 0.434883}, {99, 0.031567}, {100, 0.305405}};
  for (size_t i = 0; i < sizeof gen / sizeof gen[0]; i++) {
    assert_near(a.result.generalization[gen[i].y - 1], gen[i].p, 6e-7, "p(y | 60)");
  }
  answer_free(&a);
}

/* `webppl numbergame.wppl -- --x 60,52,57,55 --prior mixture --lambda 0.5
 * --sigma 15`. */
static void test_mixture_prior_matches_webppl(void **state) {
  (void)state;
  nsr_numbers_config cfg;
  nsr_numbers_config_default(&cfg);
  cfg.prior = NSR_PRIOR_MIXTURE;
  cfg.lambda = 0.5;
  cfg.sigma = 15;
  const uint32_t x[] = {60, 52, 57, 55};
  answer a;
  ask(&a, &cfg, x, 4, 3);
  char name[NSR_NUMBERS_NAME_MAX];
  nsr_numbers_hypothesis_name(&a.result.top[0], name, sizeof name);
  assert_string_equal(name, "interval 52..60");
  assert_near(a.result.top[0].posterior, 6.233780e-2, 1e-8, "p(52..60 | X)");
  static const struct { uint32_t y; double p; } gen[] = {
      {1, 0.000066}, {50, 0.604626}, {51, 0.771156}, {61, 0.771004},
      {62, 0.604340}, {100, 0.000237}};
  for (size_t i = 0; i < sizeof gen / sizeof gen[0]; i++) {
    assert_near(a.result.generalization[gen[i].y - 1], gen[i].p, 6e-7, "p(y | X)");
  }
  answer_free(&a);
}

/* ---- by hand ------------------------------------------------------------- */

/* N = 1, X = {1}: the consistent hypotheses are odd, squares, cubes, ends in
 * 1 (prior weight 2/3 each) and interval 1..1 (weight (1/3)·Erlang(1; 10) =
 * e^-0.1/300), all of size 1, so the likelihood is 1 and the posterior is
 * the prior renormalised over these five. Every other rule is empty. */
static void test_one_number_universe_by_hand(void **state) {
  (void)state;
  nsr_numbers_config cfg;
  nsr_numbers_config_default(&cfg);
  cfg.max = 1;
  const uint32_t x[] = {1};
  answer a;
  ask(&a, &cfg, x, 1, 10);
  double w_interval = exp(-0.1) / 300.0;
  double z_consistent = 4 * (2.0 / 3.0) + w_interval;
  double z_all = 34 * (2.0 / 3.0) + w_interval;
  assert_int_equal(a.result.n_top, 5);
  assert_int_equal(a.result.consistent_rules, 4);
  assert_int_equal(a.result.consistent_intervals, 1);
  const nsr_hypothesis *odd = find_named(&a.result, "odd");
  assert_near(odd->posterior, (2.0 / 3.0) / z_consistent, 1e-15, "p(odd | 1)");
  assert_near(odd->prior, (2.0 / 3.0) / z_all, 1e-15, "p(odd)");
  assert_near(find_named(&a.result, "interval 1..1")->posterior, w_interval / z_consistent,
              1e-15, "p(1..1 | 1)");
  assert_near(a.result.generalization[0], 1.0, 1e-15, "p(1 | 1)");
  assert_near(a.result.log_evidence, log(z_consistent / z_all), 1e-12, "log p(X)");
  answer_free(&a);
}

/* ---- brute force (numbers_brute.c) --------------------------------------- */

static void compare_with_brute_force(const nsr_numbers_config *cfg, const uint32_t *x, size_t n) {
  brute b = {0};
  b.gen = calloc(cfg->max, sizeof *b.gen);
  brute_force(cfg, x, n, &b);
  answer a;
  ask(&a, cfg, x, n, 50);
  for (uint32_t y = 0; y < cfg->max; y++) assert_near(a.result.generalization[y], b.gen[y], 1e-9, "p(y | X)");
  assert_near(a.result.log_evidence, b.log_evidence, 1e-8, "log p(X)");
  bool saw_interval = false;
  for (size_t i = 0; i < a.result.n_top; i++) {
    const nsr_hypothesis *h = &a.result.top[i];
    if (i > 0) assert_true(h->posterior <= a.result.top[i - 1].posterior);
    if (h->kind == NSR_HYP_RULE) {
      assert_near(h->posterior, b.rule_post[h->rule], 1e-12, nsr_numbers_rule_name(h->rule));
      for (size_t k = 0; k < n; k++) assert_true(rule_has((int)h->rule, x[k]));
    } else {
      if (!saw_interval) assert_near(h->posterior, b.best_interval_post, 1e-12, "best interval");
      saw_interval = true;
      for (size_t k = 0; k < n; k++) assert_true(x[k] >= h->lo && x[k] <= h->hi);
    }
  }
  answer_free(&a);
  free(b.gen);
}

static void test_closed_form_equals_brute_force(void **state) {
  (void)state;
  nsr_rng rng;
  nsr_rng_seed(&rng, 2024);
  static const uint32_t sizes[] = {1, 2, 7, 30, 100, 257};
  for (size_t t = 0; t < sizeof sizes / sizeof sizes[0]; t++) {
    for (int trial = 0; trial < 6; trial++) {
      nsr_numbers_config cfg;
      nsr_numbers_config_default(&cfg);
      cfg.max = sizes[t];
      if (trial % 2) {
        cfg.prior = NSR_PRIOR_MIXTURE;
        cfg.lambda = nsr_rng_uniform(&rng);
      }
      cfg.sigma = 1 + 30 * nsr_rng_uniform(&rng);
      uint32_t x[8];
      size_t n = 1 + nsr_rng_below(&rng, 8);
      for (size_t i = 0; i < n; i++) x[i] = 1 + (uint32_t)nsr_rng_below(&rng, cfg.max);
      compare_with_brute_force(&cfg, x, n);
    }
  }
}

/* Rules agree with the brute-force predicates over a large universe. */
static void test_rule_sets_match_predicates(void **state) {
  (void)state;
  nsr_numbers_config cfg;
  nsr_numbers_config_default(&cfg);
  cfg.max = 5000;
  nsr_numbers *e;
  assert_int_equal(nsr_numbers_new(&cfg, &e, NULL), NSR_OK);
  for (uint32_t r = 0; r < NSR_NUMBERS_RULES; r++) {
    const nsr_bitset *set = nsr_numbers_rule_set(e, r);
    assert_false(nsr_bitset_has(set, 0));
    for (uint32_t y = 1; y <= cfg.max; y++) {
      if (nsr_bitset_has(set, y) != rule_has((int)r, y)) {
        fail_msg("rule '%s' disagrees at %u", nsr_numbers_rule_name(r), y);
      }
    }
  }
  assert_false(nsr_bitset_has(nsr_numbers_rule_set(e, 15), 1)); /* 1 is no power of 2 */
  assert_null(nsr_numbers_rule_set(e, 34));
  assert_null(nsr_numbers_rule_name(34));
  nsr_numbers_free(e);
}

/* Large N and many examples: log space keeps everything finite, the answer
 * is normalised, and the closed form still matches brute force at N = 1500
 * (1.1 million intervals). */
static void test_large_n_and_many_examples(void **state) {
  (void)state;
  nsr_numbers_config cfg;
  nsr_numbers_config_default(&cfg);
  cfg.max = 10000;
  uint32_t x[400], xmin = UINT32_MAX, xmax = 0;
  for (int i = 0; i < 400; i++) {
    x[i] = 2 * (uint32_t)(1 + (i * 37) % 4000);
    if (x[i] < xmin) xmin = x[i];
    if (x[i] > xmax) xmax = x[i];
  }
  answer a;
  ask(&a, &cfg, x, 400, 5);
  assert_true(isfinite(a.result.log_evidence));
  /* [a, b] with a <= min X and b >= max X. */
  assert_int_equal(a.result.consistent_intervals, (uint64_t)xmin * (10000 - xmax + 1));
  double total = 0;
  for (size_t i = 0; i < a.result.n_top; i++) total += a.result.top[i].posterior;
  assert_near(a.result.top[0].posterior, 1.0, 1e-9, "even dominates");
  assert_true(total <= 1.0 + 1e-12);
  for (uint32_t y = 0; y < cfg.max; y++) {
    assert_true(a.result.generalization[y] >= 0.0 && a.result.generalization[y] <= 1.0);
  }
  answer_free(&a);

  cfg.max = 1500;
  const uint32_t few[] = {700, 722, 745};
  compare_with_brute_force(&cfg, few, 3);
}

static void test_top_k_zero_and_ties(void **state) {
  (void)state;
  nsr_numbers_config cfg;
  nsr_numbers_config_default(&cfg);
  const uint32_t x[] = {50};
  answer a;
  ask(&a, &cfg, x, 1, 0);
  assert_int_equal(a.result.n_top, 0);
  answer_free(&a);
  /* "ends in 0" and "multiples of 10" are the same set over 1..100: equal
   * posteriors, listed in rule order. */
  ask(&a, &cfg, x, 1, 34);
  for (size_t i = 1; i < a.result.n_top; i++) {
    const nsr_hypothesis *p = &a.result.top[i - 1], *h = &a.result.top[i];
    if (p->posterior == h->posterior && p->kind == h->kind) {
      assert_true(p->kind == NSR_HYP_RULE ? p->rule < h->rule : p->lo < h->lo);
    }
  }
  answer_free(&a);
}

static void test_bad_input_is_reported(void **state) {
  (void)state;
  nsr_numbers_config cfg;
  nsr_numbers_config_default(&cfg);
  nsr_numbers *e;
  nsr_error err;
  assert_int_equal(nsr_numbers_new(&cfg, &e, &err), NSR_OK);
  nsr_numbers_result r = {0};
  const uint32_t bad[] = {5, 101};
  assert_int_equal(nsr_numbers_infer(e, bad, 2, 10, &r, &err), NSR_ERR_RANGE);
  assert_string_equal(err.message, "example 101 is outside the range 1..100");
  const uint32_t zero[] = {0};
  assert_int_equal(nsr_numbers_infer(e, zero, 1, 10, &r, &err), NSR_ERR_RANGE);
  assert_int_equal(nsr_numbers_infer(e, bad, 0, 10, &r, &err), NSR_ERR_INVALID);
  assert_string_equal(err.message, "no examples given");
  nsr_numbers_result_free(&r);
  nsr_numbers_free(e);

  nsr_numbers_config c = cfg;
  c.max = 0;
  assert_int_equal(nsr_numbers_new(&c, &e, &err), NSR_ERR_RANGE);
  c.max = NSR_NUMBERS_MAX_N + 1;
  assert_int_equal(nsr_numbers_new(&c, &e, &err), NSR_ERR_RANGE);
  c = cfg;
  c.sigma = 0;
  assert_int_equal(nsr_numbers_new(&c, &e, &err), NSR_ERR_RANGE);
  c.sigma = NAN;
  assert_int_equal(nsr_numbers_new(&c, &e, &err), NSR_ERR_RANGE);
  c = cfg;
  c.prior = NSR_PRIOR_MIXTURE;
  c.lambda = 1.5;
  assert_int_equal(nsr_numbers_new(&c, &e, &err), NSR_ERR_RANGE);
  assert_non_null(strstr(err.message, "lambda"));
  /* λ = 1: intervals have no mass; 7, 11 lie in no common rule. */
  c.lambda = 1.0;
  assert_int_equal(nsr_numbers_new(&c, &e, &err), NSR_OK);
  const uint32_t odd_pair[] = {7, 22};
  assert_int_equal(nsr_numbers_infer(e, odd_pair, 2, 10, &r, &err), NSR_ERR_INVALID);
  nsr_numbers_result_free(&r);
  nsr_numbers_free(e);
  nsr_numbers_prior p;
  assert_int_equal(nsr_numbers_prior_parse("flat", &p, &err), NSR_ERR_INVALID);
  assert_non_null(strstr(err.message, "flat"));
}

/* Every allocation in building the engine and answering can fail: the call
 * reports NSR_ERR_NOMEM and leaks nothing (the ASan build checks leaks). */
static void test_allocation_failures_are_clean(void **state) {
  (void)state;
  nsr_numbers_config cfg;
  nsr_numbers_config_default(&cfg);
  const uint32_t x[] = {16, 8, 2, 64};
  for (uint64_t k = 1;; k++) {
    nsr_numbers *e = NULL;
    nsr_numbers_result r = {0};
    nsr_error err;
    nsr_alloc_fail_after(k);
    nsr_code rc = nsr_numbers_new(&cfg, &e, &err);
    if (rc == NSR_OK) rc = nsr_numbers_infer(e, x, 4, 10, &r, &err);
    nsr_alloc_fail_reset();
    nsr_numbers_result_free(&r);
    nsr_numbers_free(e);
    if (rc == NSR_OK) break;
    assert_int_equal(rc, NSR_ERR_NOMEM);
    assert_true(k < 1000);
  }
}

int main(void) {
  nsr_json_init();
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_tenenbaum_powers_of_two),
      cmocka_unit_test(test_sixty_matches_webppl),
      cmocka_unit_test(test_mixture_prior_matches_webppl),
      cmocka_unit_test(test_one_number_universe_by_hand),
      cmocka_unit_test(test_closed_form_equals_brute_force),
      cmocka_unit_test(test_rule_sets_match_predicates),
      cmocka_unit_test(test_large_n_and_many_examples),
      cmocka_unit_test(test_top_k_zero_and_ties),
      cmocka_unit_test(test_bad_input_is_reported),
      cmocka_unit_test(test_allocation_failures_are_clean),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
