/* numbers_sample.c: the number game as a generative model (a concept from
 * the prior, examples from the concept by the size principle), and the
 * index layout of the whole hypothesis space. */
#include <math.h>

#include "numbers.h"

uint64_t nsr_numbers_space_size(const nsr_numbers *e) {
  uint64_t n = e->cfg.max;
  return NSR_NUMBERS_RULES + n * (n + 1) / 2;
}

/* Index of the first interval with lower bound lo: intervals [a, *] for
 * a < lo come before it, N − a + 1 of each. */
static uint64_t interval_row_start(uint64_t n, uint64_t lo) {
  return NSR_NUMBERS_RULES + (lo - 1) * n - (lo - 1) * (lo - 2) / 2;
}

uint64_t nsr_numbers_hypothesis_index(const nsr_numbers *e, const nsr_hypothesis *h) {
  if (h->kind == NSR_HYP_RULE) return h->rule;
  return interval_row_start(e->cfg.max, h->lo) + (h->hi - h->lo);
}

static double interval_prior(const nsr_numbers *e, uint32_t size) {
  return exp(e->interval_log_weight[size] - e->log_prior_norm);
}

static void make_interval(const nsr_numbers *e, uint32_t lo, uint32_t hi, nsr_hypothesis *out) {
  *out = (nsr_hypothesis){.kind = NSR_HYP_INTERVAL, .lo = lo, .hi = hi, .size = hi - lo + 1,
                          .prior = interval_prior(e, hi - lo + 1)};
}

static void make_rule(const nsr_numbers *e, uint32_t rule, nsr_hypothesis *out) {
  *out = (nsr_hypothesis){.kind = NSR_HYP_RULE, .rule = rule, .size = e->rule_size[rule],
                          .prior = exp(e->rule_log_weight - e->log_prior_norm)};
}

nsr_code nsr_numbers_hypothesis_at(const nsr_numbers *e, uint64_t index, nsr_hypothesis *out,
                                   nsr_error *err) {
  if (index >= nsr_numbers_space_size(e)) {
    return nsr_fail(err, NSR_ERR_RANGE, "hypothesis index %llu is past the space's %llu",
                    (unsigned long long)index, (unsigned long long)nsr_numbers_space_size(e));
  }
  if (index < NSR_NUMBERS_RULES) {
    make_rule(e, (uint32_t)index, out);
    return NSR_OK;
  }
  /* Binary search for the row (lower bound) holding the index. */
  uint64_t n = e->cfg.max, lo = 1, hi = n;
  while (lo < hi) {
    uint64_t mid = (lo + hi + 1) / 2;
    if (interval_row_start(n, mid) <= index) lo = mid;
    else hi = mid - 1;
  }
  make_interval(e, (uint32_t)lo, (uint32_t)(lo + index - interval_row_start(n, lo)), out);
  return NSR_OK;
}

void nsr_numbers_sample_hypothesis(const nsr_numbers *e, nsr_rng *rng, nsr_hypothesis *out) {
  uint32_t n = e->cfg.max;
  for (;;) {
    double u = nsr_rng_uniform(rng);
    if (u < e->rules_prior_mass) {
      /* All rules share one prior weight: uniform among them. Empty rules
       * (only for small N) can generate no examples: draw again. */
      uint32_t r = (uint32_t)nsr_rng_below(rng, NSR_NUMBERS_RULES);
      if (e->rule_size[r] == 0) continue;
      make_rule(e, r, out);
      return;
    }
    /* An interval: its size by the size marginal, then its start uniformly. */
    double v = nsr_rng_uniform(rng) * e->size_cdf[n];
    uint32_t lo = 1, hi = n;
    while (lo < hi) {
      uint32_t mid = lo + (hi - lo) / 2;
      if (e->size_cdf[mid] > v) hi = mid;
      else lo = mid + 1;
    }
    uint32_t size = lo;
    uint32_t start = 1 + (uint32_t)nsr_rng_below(rng, n - size + 1);
    make_interval(e, start, start + size - 1, out);
    return;
  }
}

void nsr_numbers_sample_examples(const nsr_numbers *e, nsr_rng *rng, const nsr_hypothesis *h,
                                 uint32_t *out, size_t n) {
  for (size_t i = 0; i < n; i++) {
    if (h->kind == NSR_HYP_INTERVAL) {
      out[i] = h->lo + (uint32_t)nsr_rng_below(rng, h->size);
      continue;
    }
    /* The k-th member of the rule's extension, k uniform. */
    const nsr_bitset *set = &e->rules[h->rule];
    uint64_t k = nsr_rng_below(rng, e->rule_size[h->rule]);
    size_t y = nsr_bitset_next(set, 1);
    while (k-- > 0) y = nsr_bitset_next(set, y + 1);
    out[i] = (uint32_t)y;
  }
}
