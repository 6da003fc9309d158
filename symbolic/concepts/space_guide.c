/* space_guide.c: a guide (a grammar conditioned on the examples, handed in
 * by the caller) as a PCFG the samplers draw from and score with, and the
 * checks every sampler's inputs share. */
#include <math.h>

#include "space.h"

/* log Σ_k exp(log_q[k]). */
static double log_sum_exp(const double *log_q, size_t n) {
  double best = -INFINITY, sum = 0.0;
  for (size_t k = 0; k < n; k++) best = fmax(best, log_q[k]);
  for (size_t k = 0; k < n; k++) sum += exp(log_q[k] - best);
  return best + log(sum);
}

double nsr_space_guide_log_q(const nsr_space *s, const nsr_space_guide *guide, const nsr_space_tree *t) {
  double lse = log_sum_exp(guide->log_q, s->n_prods), sum = 0.0;
  for (int i = 0; i < t->len; i++) {
    if (t->prog[i] >= s->n_prods) return NAN;
    sum += guide->log_q[t->prog[i]] - lse;
  }
  return sum;
}

nsr_code space_q_init(const nsr_space *s, const nsr_space_guide *guide, space_q *q, nsr_error *err) {
  size_t np = s->n_prods;
  q->log_p = nsr_mallocarray(np, sizeof *q->log_p);
  q->cum = nsr_mallocarray(np, sizeof *q->cum);
  if (!q->log_p || !q->cum) {
    space_q_free(q);
    return nsr_fail(err, NSR_ERR_NOMEM, "guide: out of memory");
  }
  for (size_t k = 0; k < np; k++) {
    double v = guide->log_q[k];
    if (!isfinite(v)) {
      space_q_free(q);
      return nsr_fail(err, NSR_ERR_RANGE, "guide: the log weight of '%s' is not finite", s->prods[k].name);
    }
    q->log_p[k] = v;
  }
  double lse = log_sum_exp(q->log_p, np);
  for (size_t k = 0; k < np; k++) {
    q->log_p[k] -= lse;
    q->cum[k] = exp(q->log_p[k]); /* the probabilities, cumulated in place */
  }
  space_cum_build(q->cum, np, q->cum);
  return NSR_OK;
}

void space_q_free(space_q *q) {
  nsr_free(q->log_p);
  nsr_free(q->cum);
  q->log_p = q->cum = NULL;
}

nsr_code space_check_examples(const nsr_space *s, const uint32_t *x, size_t n, nsr_error *err) {
  if (n == 0) return nsr_fail(err, NSR_ERR_INVALID, "no examples given");
  for (size_t i = 0; i < n; i++) {
    if (x[i] < 1 || x[i] > s->max) return nsr_fail(err, NSR_ERR_RANGE, "example %u is outside 1..%u", x[i], s->max);
  }
  return NSR_OK;
}
