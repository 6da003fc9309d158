/* space_infer.c: exact inference over a grammar-defined space: every
 * grammar extension and every interval is scored with the size principle,
 * p(h | X) ∝ p(h) |h|^−n for h ⊇ X. Scores are scaled by the best one, as
 * in numbers_infer.c, so nothing that matters underflows. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "space.h"

void space_examples_mask(const nsr_space *s, const uint32_t *x, size_t n, uint64_t *mask) {
  memset(mask, 0, s->words * sizeof *mask);
  for (size_t i = 0; i < n; i++) mask[x[i] >> 6] |= UINT64_C(1) << (x[i] & 63);
}

/* Writes the shortest description of extension e (recursively through its
 * operands' shortest descriptions). */
static void describe(const nsr_space *s, uint32_t e, char *buf, size_t len) {
  const space_best *b = &s->best[e];
  const production *p = &s->prods[b->prod];
  if (p->kind == PROD_PRIMITIVE) {
    snprintf(buf, len, "%s", p->name);
    return;
  }
  char a[NSR_SPACE_NAME_MAX], c[NSR_SPACE_NAME_MAX] = "";
  describe(s, b->a, a, sizeof a);
  if (b->b != SPACE_NONE) describe(s, b->b, c, sizeof c);
  space_describe(p, a, s->best[b->a].size > 1, c, b->b != SPACE_NONE && s->best[b->b].size > 1,
                 buf, len);
}

void nsr_space_hypothesis_name(const nsr_space *s, const nsr_hypothesis *h, char *buf,
                               size_t len) {
  if (h->kind == NSR_HYP_INTERVAL) {
    nsr_numbers_hypothesis_name(h, buf, len);
  } else if (h->rule == SPACE_SIM_HYPOTHESIS) {
    snprintf(buf, len, "similar to the examples (tau %.3g)", s->params.sim_tau);
  } else if (h->rule < s->n_ext) {
    describe(s, h->rule, buf, len);
  } else {
    snprintf(buf, len, "(no extension %u in this space)", h->rule);
  }
}

void nsr_space_extension_set(const nsr_space *s, size_t i, nsr_bitset *out) {
  nsr_bitset_clear_all(out);
  if (i >= s->n_ext) return;
  const uint64_t *w = s->bits + i * s->words;
  for (uint32_t y = 1; y <= s->max && y < out->nbits; y++) {
    if ((w[y >> 6] >> (y & 63)) & 1) nsr_bitset_add(out, y);
  }
}

/* Per-query state. */
typedef struct query {
  double n; /* the exponent of 1/|h|: γ1 + γ (n − 1) */
  uint32_t lo, hi;
  double best;
  long double z;
  bool intervals;  /* false: the grammar component alone */
  double log_mass; /* log of the grammar component's prior mass: log λ(1 − μ), or 0 alone */
  double sim_score; /* of the similarity hypothesis; −∞ without it */
} query;

static double interval_score(const nsr_space *s, const query *q, uint32_t k) {
  return s->interval_lp[k] - q->n * log((double)k);
}

/* Scores every grammar extension into s->score and finds the best score. */
static void score_all(nsr_space *s, const uint64_t *mask, query *q, uint32_t *consistent) {
  double lg = q->log_mass - s->log_z_grammar;
  q->best = -INFINITY;
  *consistent = 0;
  for (size_t e = 0; e < s->n_ext; e++) {
    double sc = -INFINITY;
    if (space_ext_contains(s, e, mask)) {
      sc = lg + log(s->pi[e]) - q->n * log((double)s->ext_size[e]);
      (*consistent)++;
    }
    s->score[e] = sc;
    if (sc > q->best) q->best = sc;
  }
  for (uint32_t k = q->hi - q->lo + 1; q->intervals && k <= s->max; k++) {
    double sc = interval_score(s, q, k);
    if (sc > q->best) q->best = sc;
  }
}

/* Adds the grammar hypotheses' posterior mass to g and offers them to the
 * top list. */
static void grammar_share(nsr_space *s, const query *q, size_t top_k, nsr_numbers_result *res) {
  double lg = q->log_mass - s->log_z_grammar;
  double *g = res->generalization;
  for (size_t e = 0; e < s->n_ext; e++) {
    if (s->score[e] == -INFINITY) continue;
    double post = (double)(expl(s->score[e] - q->best) / q->z);
    const uint64_t *w = s->bits + e * s->words;
    for (size_t k = 0; k < s->words; k++) {
      for (uint64_t bits = w[k]; bits; bits &= bits - 1) {
        g[k * 64 + (size_t)__builtin_ctzll(bits) - 1] += post;
      }
    }
    nsr_hypothesis h = {.kind = NSR_HYP_RULE, .rule = (uint32_t)e, .size = s->ext_size[e],
                        .prior = exp(lg + log(s->pi[e])), .posterior = post};
    numbers_top_insert(res->top, &res->n_top, top_k, &h);
  }
}

/* Adds the intervals' share (a difference array over y) and offers them. */
static uint64_t interval_share(nsr_space *s, const query *q, size_t top_k, nsr_numbers_result *res) {
  uint64_t count = 0;
  memset(s->diff, 0, (s->max + 2) * sizeof *s->diff);
  for (uint32_t a = 1; a <= q->lo; a++) {
    for (uint32_t b = q->hi; b <= s->max; b++) {
      uint32_t k = b - a + 1;
      double post = (double)(expl(interval_score(s, q, k) - q->best) / q->z);
      s->diff[a] += post;
      s->diff[b + 1] -= post;
      count++;
      if (top_k > 0 && (res->n_top < top_k || post >= res->top[top_k - 1].posterior)) {
        nsr_hypothesis h = {.kind = NSR_HYP_INTERVAL, .lo = a, .hi = b, .size = k,
                            .prior = exp(s->interval_lp[k]), .posterior = post};
        numbers_top_insert(res->top, &res->n_top, top_k, &h);
      }
    }
  }
  double run = 0.0;
  for (uint32_t y = 1; y <= s->max; y++) {
    run += s->diff[y];
    res->generalization[y - 1] += run;
  }
  return count;
}

/* Adds the similarity hypothesis' share (membership m[1..N], soft size
 * `soft`) to the generalization and offers it to the top list. */
static void sim_share(const nsr_space *s, const query *q, const double *m, double soft, size_t top_k,
                      nsr_numbers_result *res) {
  double post = (double)(expl(q->sim_score - q->best) / q->z);
  // NOLINTNEXTLINE(clang-analyzer-core.UndefinedBinaryOperatorResult): m is filled whenever sim_score is finite
  for (uint32_t y = 1; y <= s->max; y++) res->generalization[y - 1] += post * m[y];
  nsr_hypothesis h = {.kind = NSR_HYP_RULE, .rule = SPACE_SIM_HYPOTHESIS, .size = (uint32_t)lround(soft),
                      .prior = s->params.sim_mass, .posterior = post};
  numbers_top_insert(res->top, &res->n_top, top_k, &h);
}

/* Exact inference over the grammar extensions and, with `intervals`, every
 * interval and the similarity hypothesis: nsr_space_infer and
 * nsr_space_infer_grammar. */
static nsr_code infer(nsr_space *s, const uint32_t *x, size_t n, size_t top_k, bool intervals,
                      nsr_numbers_result *res, nsr_error *err) {
  if (n == 0) return nsr_fail(err, NSR_ERR_INVALID, "no examples given");
  if (!s->enumerated) {
    return nsr_fail(err, NSR_ERR_INVALID,
                    "the space is not enumerated (\"enumerate\": false): only sampling can use it");
  }
  query q = {.n = nsr_space_sampling_exponent(&s->params, n), .lo = x[0], .hi = x[0], .intervals = intervals,
             .log_mass = intervals ? log(s->params.lambda) + log1p(-s->params.sim_mass) : 0.0,
             .sim_score = -INFINITY};
  for (size_t i = 0; i < n; i++) {
    if (x[i] < 1 || x[i] > s->max) {
      return nsr_fail(err, NSR_ERR_RANGE, "example %u is outside the range 1..%u", x[i], s->max);
    }
    if (x[i] < q.lo) q.lo = x[i];
    if (x[i] > q.hi) q.hi = x[i];
  }
  nsr_code rc = numbers_result_reserve(res, s->max, top_k, err);
  if (rc != NSR_OK) return rc;
  uint64_t mask[(NSR_SPACE_MAX_N + 64) / 64];
  space_examples_mask(s, x, n, mask);
  score_all(s, mask, &q, &res->consistent_rules);
  double m[NSR_SPACE_MAX_N + 1], dist[NSR_SPACE_MAX_N + 1], soft = 0.0;
  if (intervals && s->params.sim_mass > 0) {
    soft = space_sim_profile(&s->params, x, n, s->max, m, dist);
    q.sim_score = log(s->params.sim_mass) - q.n * log(soft);
    if (q.sim_score > q.best) q.best = q.sim_score;
  }
  if (q.best == -INFINITY) { /* only without intervals: [1, N] holds everything */
    return nsr_fail(err, NSR_ERR_INVALID, "no grammar hypothesis contains every example");
  }
  q.z = 0.0L;
  for (size_t e = 0; e < s->n_ext; e++) {
    if (s->score[e] > -INFINITY) q.z += expl(s->score[e] - q.best);
  }
  for (uint32_t k = q.hi - q.lo + 1; intervals && k <= s->max; k++) {
    uint32_t first = q.hi >= k ? q.hi - k + 1 : 1, last = s->max - k + 1 < q.lo ? s->max - k + 1 : q.lo;
    if (last >= first) q.z += (last - first + 1) * expl(interval_score(s, &q, k) - q.best);
  }
  if (q.sim_score > -INFINITY) q.z += expl(q.sim_score - q.best);
  memset(res->generalization, 0, s->max * sizeof *res->generalization);
  res->n_top = 0;
  grammar_share(s, &q, top_k, res);
  res->consistent_intervals = intervals ? interval_share(s, &q, top_k, res) : 0;
  if (q.sim_score > -INFINITY) sim_share(s, &q, m, soft, top_k, res);
  for (uint32_t y = 0; y < s->max; y++) {
    if (res->generalization[y] > 1.0) res->generalization[y] = 1.0; /* rounding */
  }
  res->log_evidence = q.best + (double)logl(q.z);
  return NSR_OK;
}

nsr_code nsr_space_infer(nsr_space *s, const uint32_t *x, size_t n, size_t top_k,
                         nsr_numbers_result *res, nsr_error *err) {
  return infer(s, x, n, top_k, true, res, err);
}

nsr_code nsr_space_infer_grammar(nsr_space *s, const uint32_t *x, size_t n, size_t top_k,
                                 nsr_numbers_result *res, nsr_error *err) {
  return infer(s, x, n, top_k, false, res, err);
}
