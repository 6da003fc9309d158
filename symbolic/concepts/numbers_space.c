/* numbers_space.c: Tenenbaum's hypothesis space for the number game (34
 * rules + all intervals over 1..N) and its two priors. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "numbers.h"

/* Rule order follows pmtk3's tenenbaumHypSpace: even, odd, squares, cubes,
 * primes, multiples of 3..12, powers of 2..10, ends in 0..9. */
static const char *const rule_names[NSR_NUMBERS_RULES] = {
    "even", "odd", "squares", "cubes", "primes",
    "multiples of 3", "multiples of 4", "multiples of 5", "multiples of 6",
    "multiples of 7", "multiples of 8", "multiples of 9", "multiples of 10",
    "multiples of 11", "multiples of 12",
    "powers of 2", "powers of 3", "powers of 4", "powers of 5", "powers of 6",
    "powers of 7", "powers of 8", "powers of 9", "powers of 10",
    "ends in 0", "ends in 1", "ends in 2", "ends in 3", "ends in 4",
    "ends in 5", "ends in 6", "ends in 7", "ends in 8", "ends in 9",
};

enum {
  RULE_EVEN, RULE_ODD, RULE_SQUARES, RULE_CUBES, RULE_PRIMES,
  RULE_MULTIPLES_FIRST, /* multiples of 3 */
  RULE_POWERS_FIRST = RULE_MULTIPLES_FIRST + 10, /* powers of 2 */
  RULE_ENDS_FIRST = RULE_POWERS_FIRST + 9,        /* ends in 0 */
};
_Static_assert(RULE_ENDS_FIRST + 10 == NSR_NUMBERS_RULES,
               "rule families must add up to Tenenbaum's 34 rules");

void nsr_numbers_config_default(nsr_numbers_config *cfg) {
  cfg->max = NSR_NUMBERS_DEFAULT_N;
  cfg->prior = NSR_PRIOR_PMTK3;
  cfg->lambda = NSR_NUMBERS_DEFAULT_LAMBDA;
  cfg->sigma = NSR_NUMBERS_DEFAULT_SIGMA;
}

const char *nsr_numbers_prior_name(nsr_numbers_prior prior) {
  return prior == NSR_PRIOR_MIXTURE ? "mixture" : "pmtk3";
}

nsr_code nsr_numbers_prior_parse(const char *text, nsr_numbers_prior *out,
                                 nsr_error *err) {
  if (strcmp(text, "pmtk3") == 0) {
    *out = NSR_PRIOR_PMTK3;
  } else if (strcmp(text, "mixture") == 0) {
    *out = NSR_PRIOR_MIXTURE;
  } else {
    return nsr_fail(err, NSR_ERR_INVALID,
                    "unknown prior '%s' (expected pmtk3 or mixture)", text);
  }
  return NSR_OK;
}

const char *nsr_numbers_rule_name(uint32_t rule) {
  return rule < NSR_NUMBERS_RULES ? rule_names[rule] : NULL;
}

const nsr_bitset *nsr_numbers_rule_set(const nsr_numbers *engine,
                                       uint32_t rule) {
  return rule < NSR_NUMBERS_RULES ? &engine->rules[rule] : NULL;
}

const nsr_numbers_config *nsr_numbers_get_config(const nsr_numbers *engine) {
  return &engine->cfg;
}

void nsr_numbers_hypothesis_name(const nsr_hypothesis *h, char *buf,
                                 size_t len) {
  if (h->kind == NSR_HYP_RULE) {
    snprintf(buf, len, "%s", rule_names[h->rule]);
  } else {
    snprintf(buf, len, "interval %u..%u", h->lo, h->hi);
  }
}

double numbers_log_erlang(double s, double sigma) {
  return log(s) - 2.0 * log(sigma) - s / sigma;
}

double numbers_log_add(double a, double b) {
  if (a == -INFINITY) return b;
  if (b == -INFINITY) return a;
  double hi = a > b ? a : b, lo = a > b ? b : a;
  return hi + log1p(exp(lo - hi));
}

/* Adds every y in 1..N with y ≡ 0 (mod step) offset by `first`. */
static void add_progression(nsr_bitset *set, uint32_t n, uint32_t first,
                            uint32_t step) {
  for (uint64_t y = first; y <= n; y += step) nsr_bitset_add(set, (size_t)y);
}

/* Adds base^1, base^2, ... up to N (1 = base^0 is not a power). */
static void add_powers(nsr_bitset *set, uint32_t n, uint32_t base) {
  for (uint64_t y = base; y <= n; y *= base) nsr_bitset_add(set, (size_t)y);
}

/* Adds k^exponent for k = 1, 2, ... up to N. */
static void add_perfect_powers(nsr_bitset *set, uint32_t n, int exponent) {
  for (uint64_t k = 1;; k++) {
    uint64_t y = exponent == 2 ? k * k : k * k * k;
    if (y > n) break;
    nsr_bitset_add(set, (size_t)y);
  }
}

/* Sieve of Eratosthenes into `set`. */
static void add_primes(nsr_bitset *set, uint32_t n) {
  for (uint32_t y = 2; y <= n; y++) nsr_bitset_add(set, y);
  for (uint64_t p = 2; p * p <= n; p++) {
    if (!nsr_bitset_has(set, (size_t)p)) continue;
    for (uint64_t q = p * p; q <= n; q += p) nsr_bitset_remove(set, (size_t)q);
  }
}

static void build_rules(nsr_numbers *e) {
  uint32_t n = e->cfg.max;
  add_progression(&e->rules[RULE_EVEN], n, 2, 2);
  add_progression(&e->rules[RULE_ODD], n, 1, 2);
  add_perfect_powers(&e->rules[RULE_SQUARES], n, 2);
  add_perfect_powers(&e->rules[RULE_CUBES], n, 3);
  add_primes(&e->rules[RULE_PRIMES], n);
  for (uint32_t k = 3; k <= 12; k++) {
    add_progression(&e->rules[RULE_MULTIPLES_FIRST + k - 3], n, k, k);
  }
  for (uint32_t b = 2; b <= 10; b++) {
    add_powers(&e->rules[RULE_POWERS_FIRST + b - 2], n, b);
  }
  /* "ends in 0" starts at 10; "ends in d" at d. */
  for (uint32_t d = 0; d <= 9; d++) {
    add_progression(&e->rules[RULE_ENDS_FIRST + d], n, d == 0 ? 10 : d, 10);
  }
  for (int r = 0; r < NSR_NUMBERS_RULES; r++) {
    e->rule_size[r] = (uint32_t)nsr_bitset_count(&e->rules[r]);
  }
}

/* Sets the unnormalised log weights of rules and of intervals by size, and
 * the log normaliser, for the configured prior. */
static void build_prior(nsr_numbers *e) {
  uint32_t n = e->cfg.max;
  double sigma = e->cfg.sigma;
  /* log Σ over all intervals of Erlang(|h|): (N − s + 1) intervals of size s. */
  double log_erlang_total = -INFINITY;
  for (uint32_t s = 1; s <= n; s++) {
    log_erlang_total = numbers_log_add(
        log_erlang_total, log((double)(n - s + 1)) + numbers_log_erlang(s, sigma));
  }
  double log_interval_scale;
  if (e->cfg.prior == NSR_PRIOR_PMTK3) {
    e->rule_log_weight = log(2.0 / 3.0);
    log_interval_scale = log(1.0 / 3.0);
  } else {
    e->rule_log_weight = log(e->cfg.lambda / NSR_NUMBERS_RULES);
    log_interval_scale = log(1.0 - e->cfg.lambda) - log_erlang_total;
  }
  e->interval_log_weight[0] = -INFINITY;
  for (uint32_t s = 1; s <= n; s++) {
    e->interval_log_weight[s] = log_interval_scale + numbers_log_erlang(s, sigma);
  }
  e->log_prior_norm = numbers_log_add(
      log((double)NSR_NUMBERS_RULES) + e->rule_log_weight,
      log_interval_scale + log_erlang_total);
  e->rules_prior_mass = exp(log((double)NSR_NUMBERS_RULES) + e->rule_log_weight - e->log_prior_norm);
  /* Sizes weighted by how many intervals have them, for sampling. */
  double acc = 0.0;
  e->size_cdf[0] = 0.0;
  for (uint32_t s = 1; s <= n; s++) {
    acc += exp(log((double)(n - s + 1)) + numbers_log_erlang(s, sigma) - log_erlang_total);
    e->size_cdf[s] = acc;
  }
}

static nsr_code check_config(const nsr_numbers_config *cfg, nsr_error *err) {
  if (cfg->max < 1 || cfg->max > NSR_NUMBERS_MAX_N) {
    return nsr_fail(err, NSR_ERR_RANGE, "range 1..%u: N must be between 1 and %u",
                    cfg->max, NSR_NUMBERS_MAX_N);
  }
  if (!(cfg->sigma > 0.0) || !isfinite(cfg->sigma)) {
    return nsr_fail(err, NSR_ERR_RANGE, "sigma %g: must be a positive number",
                    cfg->sigma);
  }
  if (cfg->prior == NSR_PRIOR_MIXTURE &&
      !(cfg->lambda >= 0.0 && cfg->lambda <= 1.0)) {
    return nsr_fail(err, NSR_ERR_RANGE, "lambda %g: must lie in [0, 1]",
                    cfg->lambda);
  }
  return NSR_OK;
}

nsr_code nsr_numbers_new(const nsr_numbers_config *cfg, nsr_numbers **out,
                         nsr_error *err) {
  *out = NULL;
  nsr_code rc = check_config(cfg, err);
  if (rc != NSR_OK) return rc;
  nsr_numbers *e = nsr_calloc(1, sizeof *e);
  if (e == NULL) return nsr_fail(err, NSR_ERR_NOMEM, "number game engine: out of memory");
  e->cfg = *cfg;
  size_t n = cfg->max;
  for (int r = 0; r < NSR_NUMBERS_RULES; r++) {
    rc = nsr_bitset_init(&e->rules[r], n + 1, err);
    if (rc != NSR_OK) goto fail;
  }
  e->interval_log_weight = nsr_mallocarray(n + 2, sizeof(double));
  e->size_mass = nsr_mallocarray(n + 2, sizeof(double));
  e->size_prefix = nsr_mallocarray(n + 2, sizeof(long double));
  e->size_cdf = nsr_mallocarray(n + 2, sizeof(double));
  if (!e->interval_log_weight || !e->size_mass || !e->size_prefix || !e->size_cdf) {
    rc = nsr_fail(err, NSR_ERR_NOMEM, "number game engine for N = %zu: out of memory", n);
    goto fail;
  }
  build_rules(e);
  build_prior(e);
  *out = e;
  return NSR_OK;
fail:
  nsr_numbers_free(e);
  return rc;
}

void nsr_numbers_free(nsr_numbers *engine) {
  if (engine == NULL) return;
  for (int r = 0; r < NSR_NUMBERS_RULES; r++) nsr_bitset_free(&engine->rules[r]);
  nsr_free(engine->interval_log_weight);
  nsr_free(engine->size_mass);
  nsr_free(engine->size_prefix);
  nsr_free(engine->size_cdf);
  nsr_free(engine);
}
