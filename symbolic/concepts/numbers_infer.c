/* numbers_infer.c: exact posterior and generalization for the number game.
 *
 * Scores are log p(h) − n log|h| (unnormalised). Every sum is scaled by the
 * largest consistent score L, so the best hypothesis contributes exactly 1
 * and nothing underflows that matters, whatever N and n are.
 *
 * Intervals: [a, b] is consistent with X iff a ≤ m = min X and b ≥ M = max X.
 * All intervals of size s share the scaled mass f(s); with the prefix sums
 * F(k) = Σ_{s ≤ k} f(s):
 *   total interval mass  T    = Σ_{a=1..m} [F(N−a+1) − F(M−a)]
 *   y < m:  mass with a ≤ y   = Σ_{a=1..y} [F(N−a+1) − F(M−a)]
 *   y > M:  mass with b ≥ y   = Σ_{b=y..N} [F(b) − F(b−m)]
 *   m ≤ y ≤ M: every consistent interval contains y, so T.
 * Both running sums take O(N) for all y together. */
#include <assert.h>
#include <math.h>
#include <string.h>

#include "numbers.h"

/* Candidates for the top-K list: sorted by posterior, then rules before
 * intervals, then rule index or lower bound. */
static bool hypothesis_before(const nsr_hypothesis *a, const nsr_hypothesis *b) {
  if (a->posterior != b->posterior) return a->posterior > b->posterior;
  if (a->kind != b->kind) return a->kind == NSR_HYP_RULE;
  if (a->kind == NSR_HYP_RULE) return a->rule < b->rule;
  return a->lo < b->lo;
}

/* Inserts h into top[0..*count) kept sorted, holding at most k entries. */
void numbers_top_insert(nsr_hypothesis *top, size_t *count, size_t k,
                        const nsr_hypothesis *h) {
  if (k == 0) return;
  if (*count == k && !hypothesis_before(h, &top[k - 1])) return;
  size_t i = *count < k ? (*count)++ : k - 1;
  while (i > 0 && hypothesis_before(h, &top[i - 1])) {
    top[i] = top[i - 1];
    i--;
  }
  top[i] = *h;
}

static nsr_code check_examples(const nsr_numbers *e, const uint32_t *x,
                               size_t n, nsr_error *err) {
  if (n == 0) return nsr_fail(err, NSR_ERR_INVALID, "no examples given");
  for (size_t i = 0; i < n; i++) {
    if (x[i] < 1 || x[i] > e->cfg.max) {
      return nsr_fail(err, NSR_ERR_RANGE, "example %u is outside the range 1..%u",
                      x[i], e->cfg.max);
    }
  }
  return NSR_OK;
}

nsr_code numbers_result_reserve(nsr_numbers_result *res, uint32_t max,
                                size_t top_k, nsr_error *err) {
  if (res->max != max || res->generalization == NULL) {
    double *g = nsr_reallocarray(res->generalization, max, sizeof *g);
    if (g == NULL) return nsr_fail(err, NSR_ERR_NOMEM, "generalization vector: out of memory");
    res->generalization = g;
    res->max = max;
  }
  if (res->top_capacity < top_k) {
    nsr_hypothesis *t = nsr_reallocarray(res->top, top_k, sizeof *t);
    if (t == NULL) return nsr_fail(err, NSR_ERR_NOMEM, "top hypotheses: out of memory");
    res->top = t;
    res->top_capacity = top_k;
  }
  return NSR_OK;
}

/* Per-query state shared by the steps below. */
typedef struct query {
  const uint32_t *x;
  size_t n;
  uint32_t lo, hi;              /* m = min X, M = max X */
  double rule_score[NSR_NUMBERS_RULES]; /* -INFINITY when inconsistent */
  double best;                  /* L */
} query;

/* Number of consistent intervals of size s: a ∈ [max(1, M−s+1),
 * min(m, N−s+1)]. */
static uint64_t intervals_of_size(uint32_t n, uint32_t lo, uint32_t hi,
                                  uint32_t s) {
  int64_t first = (int64_t)hi - s + 1 > 1 ? (int64_t)hi - s + 1 : 1;
  int64_t last = (int64_t)n - s + 1 < lo ? (int64_t)n - s + 1 : lo;
  return last >= first ? (uint64_t)(last - first + 1) : 0;
}

static double interval_score(const nsr_numbers *e, const query *q, uint32_t s) {
  return e->interval_log_weight[s] - (double)q->n * log((double)s);
}

/* Scores the rules and finds L over rules and consistent interval sizes. */
static void score_hypotheses(const nsr_numbers *e, query *q) {
  q->best = -INFINITY;
  for (int r = 0; r < NSR_NUMBERS_RULES; r++) {
    bool consistent = e->rule_size[r] > 0;
    for (size_t i = 0; consistent && i < q->n; i++) {
      consistent = nsr_bitset_has(&e->rules[r], q->x[i]);
    }
    q->rule_score[r] = consistent ? e->rule_log_weight -
                                        (double)q->n * log((double)e->rule_size[r])
                                  : -INFINITY;
    if (q->rule_score[r] > q->best) q->best = q->rule_score[r];
  }
  for (uint32_t s = q->hi - q->lo + 1; s <= e->cfg.max; s++) {
    double sc = interval_score(e, q, s);
    if (sc > q->best) q->best = sc;
  }
}

/* Fills size_mass and size_prefix with f(s) and F(s); returns T. */
static long double interval_masses(nsr_numbers *e, const query *q,
                                   uint64_t *count) {
  uint32_t n = e->cfg.max, min_size = q->hi - q->lo + 1;
  long double acc = 0.0L;
  e->size_prefix[0] = 0.0L;
  *count = 0;
  for (uint32_t s = 1; s <= n; s++) {
    double f = 0.0;
    if (s >= min_size) {
      f = exp(interval_score(e, q, s) - q->best);
      *count += intervals_of_size(n, q->lo, q->hi, s);
    }
    e->size_mass[s] = f;
    acc += f;
    e->size_prefix[s] = acc;
  }
  long double total = 0.0L;
  for (uint32_t a = 1; a <= q->lo; a++) {
    total += e->size_prefix[n - a + 1] - e->size_prefix[q->hi - a];
  }
  return total;
}

/* Adds the interval share of p(y ∈ C | X) into g[y−1], scaled by 1/z. */
static void interval_generalization(const nsr_numbers *e, const query *q,
                                    long double total, long double z, double *g) {
  uint32_t n = e->cfg.max;
  const long double *F = e->size_prefix;
  long double below = 0.0L;
  for (uint32_t y = 1; y < q->lo; y++) {
    below += F[n - y + 1] - F[q->hi - y];
    g[y - 1] += (double)(below / z);
  }
  for (uint32_t y = q->lo; y <= q->hi; y++) g[y - 1] += (double)(total / z);
  long double above = 0.0L;
  for (uint32_t y = n; y > q->hi; y--) {
    above += F[y] - F[y - q->lo];
    g[y - 1] += (double)(above / z);
  }
}

/* Offers the best interval sizes to the top list: each size s contributes
 * its consistent intervals in order of lower bound, at most k of them. */
static void offer_intervals(const nsr_numbers *e, const query *q, double z,
                            size_t k, nsr_hypothesis *top, size_t *count) {
  uint32_t n = e->cfg.max;
  if (k == 0) return;
  for (uint32_t s = q->hi - q->lo + 1; s <= n; s++) {
    double post = e->size_mass[s] / z;
    if (*count == k && post < top[k - 1].posterior) continue;
    uint32_t first = q->hi >= s ? q->hi - s + 1 : 1;
    uint32_t last = n - s + 1 < q->lo ? n - s + 1 : q->lo;
    size_t offered = 0;
    for (uint32_t a = first; a <= last && offered < k; a++, offered++) {
      nsr_hypothesis h = {
          .kind = NSR_HYP_INTERVAL, .lo = a, .hi = a + s - 1, .size = s,
          .prior = exp(e->interval_log_weight[s] - e->log_prior_norm),
          .posterior = post};
      numbers_top_insert(top, count, k, &h);
    }
  }
}

/* Validates X, scores every hypothesis, and fills the engine's per-size
 * scratch. On success *z is the scaled evidence (rules + intervals) and
 * *intervals_mass the intervals' part of it. */
static nsr_code prepare_query(nsr_numbers *e, const uint32_t *examples, size_t n, query *q,
                              long double *z, long double *intervals_mass,
                              uint64_t *n_intervals, nsr_error *err) {
  nsr_code rc = check_examples(e, examples, n, err);
  if (rc != NSR_OK) return rc;
  *q = (query){.x = examples, .n = n, .lo = examples[0], .hi = examples[0]};
  for (size_t i = 1; i < n; i++) {
    if (examples[i] < q->lo) q->lo = examples[i];
    if (examples[i] > q->hi) q->hi = examples[i];
  }
  score_hypotheses(e, q);
  if (q->best == -INFINITY) {
    return nsr_fail(err, NSR_ERR_INVALID,
                    "no hypothesis with prior mass contains every example");
  }
  long double rules_mass = 0.0L;
  for (int r = 0; r < NSR_NUMBERS_RULES; r++) {
    if (q->rule_score[r] > -INFINITY) rules_mass += expl(q->rule_score[r] - q->best);
  }
  *intervals_mass = interval_masses(e, q, n_intervals);
  *z = rules_mass + *intervals_mass;
  assert(*z >= 1.0L && "the best hypothesis contributes exactly 1 to z");
  return NSR_OK;
}

nsr_code nsr_numbers_infer(nsr_numbers *e, const uint32_t *examples, size_t n,
                           size_t top_k, nsr_numbers_result *res,
                           nsr_error *err) {
  query q;
  long double z, intervals_mass;
  uint64_t n_intervals;
  nsr_code rc = prepare_query(e, examples, n, &q, &z, &intervals_mass, &n_intervals, err);
  if (rc != NSR_OK) return rc;
  rc = numbers_result_reserve(res, e->cfg.max, top_k, err);
  if (rc != NSR_OK) return rc;

  double *g = res->generalization;
  memset(g, 0, e->cfg.max * sizeof *g);
  interval_generalization(e, &q, intervals_mass, z, g);

  res->n_top = 0;
  res->consistent_rules = 0;
  for (uint32_t r = 0; r < NSR_NUMBERS_RULES; r++) {
    if (q.rule_score[r] == -INFINITY) continue;
    res->consistent_rules++;
    double post = (double)(expl(q.rule_score[r] - q.best) / z);
    const nsr_bitset *set = &e->rules[r];
    for (size_t y = nsr_bitset_next(set, 1); y < set->nbits;
         y = nsr_bitset_next(set, y + 1)) {
      g[y - 1] += post;
    }
    nsr_hypothesis h = {.kind = NSR_HYP_RULE, .rule = r, .size = e->rule_size[r],
                        .prior = exp(e->rule_log_weight - e->log_prior_norm),
                        .posterior = post};
    numbers_top_insert(res->top, &res->n_top, top_k, &h);
  }
  offer_intervals(e, &q, (double)z, top_k, res->top, &res->n_top);
  for (uint32_t y = 0; y < e->cfg.max; y++) {
    if (g[y] > 1.0) g[y] = 1.0; /* rounding past certainty */
  }
  res->consistent_intervals = n_intervals;
  res->log_evidence = q.best + (double)logl(z) - e->log_prior_norm;
  return NSR_OK;
}

nsr_code nsr_numbers_posterior_all(nsr_numbers *e, const uint32_t *examples, size_t n,
                                   float *out, uint64_t len, nsr_error *err) {
  if (len != nsr_numbers_space_size(e)) {
    return nsr_fail(err, NSR_ERR_INVALID, "posterior vector has %llu entries, the space %llu",
                    (unsigned long long)len, (unsigned long long)nsr_numbers_space_size(e));
  }
  query q;
  long double z, intervals_mass;
  uint64_t n_intervals;
  nsr_code rc = prepare_query(e, examples, n, &q, &z, &intervals_mass, &n_intervals, err);
  if (rc != NSR_OK) return rc;
  for (int r = 0; r < NSR_NUMBERS_RULES; r++) {
    out[r] = q.rule_score[r] == -INFINITY ? 0.0f : (float)(expl(q.rule_score[r] - q.best) / z);
  }
  uint32_t max = e->cfg.max;
  float *p = out + NSR_NUMBERS_RULES;
  for (uint32_t lo = 1; lo <= max; lo++) {
    for (uint32_t hi = lo; hi <= max; hi++) {
      bool consistent = lo <= q.lo && hi >= q.hi;
      *p++ = consistent ? (float)(e->size_mass[hi - lo + 1] / z) : 0.0f;
    }
  }
  return NSR_OK;
}

void nsr_numbers_result_free(nsr_numbers_result *res) {
  nsr_free(res->top);
  nsr_free(res->generalization);
  memset(res, 0, sizeof *res);
}
