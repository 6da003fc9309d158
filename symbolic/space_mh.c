/* space_mh.c: Metropolis-Hastings over the expression trees of a space's
 * grammar, for spaces too large to enumerate.
 *
 * Target: p(t | X) ∝ Π_{k ∈ t} w_k · |ext(t)|^(−γn) · [X ⊆ ext(t)], over
 * trees of at most max_size symbols with no empty sub-expression: exactly
 * the grammar component of the enumerated space. Proposal: pick one of the
 * |t| nodes uniformly and regenerate its subtree from the PCFG whose rule
 * probabilities are p_k = w_k / W (W = Σ_k w_k). The parts of the tree
 * outside the subtree cancel, leaving the acceptance ratio
 *   W^(|t'| − |t|) · L(t') / L(t) · |t| / |t'|.
 * Trees are kept in prefix order (production indices), so a subtree is a
 * contiguous run. */
#include <math.h>
#include <string.h>

#include "space.h"

#define MH_MAX_SIZE 32
#define MH_INIT_TRIES 1000000

typedef struct mh_tree {
  uint16_t prog[MH_MAX_SIZE];
  int len;
} mh_tree;

typedef struct mh_state {
  const nsr_space *s;
  double *cum;  /* cumulative p_k for sampling productions */
  uint64_t *prim; /* [n_prods * words]: primitives' extensions, built once */
  double log_w_total;
  nsr_rng rng;
} mh_state;

static int arity(const production *p) { return p->kind == PROD_BINARY ? 2 : p->kind == PROD_UNARY ? 1 : 0; }

/* Appends a subtree drawn from the PCFG to out[*len..]; false when it
 * would exceed `budget` symbols in all (the proposal then has target 0). */
static bool generate(mh_state *m, uint16_t *out, int *len, int budget) {
  if (*len >= budget) return false;
  double u = nsr_rng_uniform(&m->rng);
  size_t lo = 0, hi = m->s->n_prods - 1;
  while (lo < hi) { /* first k with cum[k] > u */
    size_t mid = (lo + hi) / 2;
    if (m->cum[mid] > u) hi = mid;
    else lo = mid + 1;
  }
  out[(*len)++] = (uint16_t)lo;
  for (int c = 0; c < arity(&m->s->prods[lo]); c++) {
    if (!generate(m, out, len, budget)) return false;
  }
  return true;
}

/* The end (exclusive) of the subtree starting at i. */
static int subtree_end(const nsr_space *s, const uint16_t *prog, int i) {
  int need = 1;
  while (need > 0) need += arity(&s->prods[prog[i++]]) - 1;
  return i;
}

/* Evaluates the subtree at *i into out (scratch: one extension per depth);
 * false when any sub-expression, or the whole, is empty. */
static bool evaluate(const mh_state *m, const uint16_t *prog, int *i, uint64_t *out, uint64_t *scratch) {
  const nsr_space *s = m->s;
  size_t k = prog[(*i)++], w = s->words;
  const production *p = &s->prods[k];
  if (p->kind == PROD_PRIMITIVE) {
    memcpy(out, m->prim + k * w, w * sizeof *out);
  } else {
    uint64_t *a = scratch, *b = scratch + w;
    if (!evaluate(m, prog, i, a, scratch + 2 * w)) return false;
    if (p->kind == PROD_BINARY && !evaluate(m, prog, i, b, scratch + 2 * w)) return false;
    space_apply(p, s->max, a, b, out, w);
  }
  for (size_t j = 0; j < w; j++) {
    if (out[j]) return true;
  }
  return false;
}

/* log L(t) = −gn log|ext| (gn = γ1 + γ (n − 1)) when ext ⊇ X; −∞ otherwise. ext receives the
 * extension. */
static double log_likelihood(const mh_state *m, const mh_tree *t, const uint64_t *mask, double gn,
                             uint64_t *ext, uint64_t *scratch) {
  const nsr_space *s = m->s;
  int i = 0;
  if (!evaluate(m, t->prog, &i, ext, scratch)) return -INFINITY;
  uint32_t size = 0;
  for (size_t k = 0; k < s->words; k++) {
    if ((ext[k] & mask[k]) != mask[k]) return -INFINITY;
    size += (uint32_t)__builtin_popcountll(ext[k]);
  }
  if (size == 0) return -INFINITY; /* an empty set generates no examples */
  return -gn * log((double)size);
}

nsr_code nsr_space_mh(const nsr_space *s, const uint32_t *x, size_t n, const nsr_mh_options *opt,
                      double *g, nsr_mh_report *rep, nsr_error *err) {
  if (n == 0) return nsr_fail(err, NSR_ERR_INVALID, "no examples given");
  for (size_t i = 0; i < n; i++) {
    if (x[i] < 1 || x[i] > s->max) return nsr_fail(err, NSR_ERR_RANGE, "example %u is outside 1..%u", x[i], s->max);
  }
  int budget = s->max_size < MH_MAX_SIZE ? s->max_size : MH_MAX_SIZE;
  mh_state m = {.s = s};
  nsr_rng_seed(&m.rng, opt->seed);
  m.cum = nsr_mallocarray(s->n_prods, sizeof *m.cum);
  m.prim = nsr_mallocarray(s->n_prods * s->words, sizeof *m.prim);
  /* ext, proposal ext, and two per level of evaluation depth */
  uint64_t *buf = nsr_mallocarray((size_t)(2 * MH_MAX_SIZE + 4) * s->words, sizeof *buf);
  double *counts = nsr_calloc(s->max + 1, sizeof *counts);
  if (!m.cum || !m.prim || !buf || !counts) {
    nsr_free(m.cum);
    nsr_free(m.prim);
    nsr_free(buf);
    nsr_free(counts);
    return nsr_fail(err, NSR_ERR_NOMEM, "Metropolis-Hastings: out of memory");
  }
  double total = 0.0;
  for (size_t k = 0; k < s->n_prods; k++) total += exp(s->prods[k].log_w);
  for (size_t k = 0; k < s->n_prods; k++) {
    m.cum[k] = (k ? m.cum[k - 1] : 0.0) + exp(s->prods[k].log_w) / total;
    if (s->prods[k].kind == PROD_PRIMITIVE) space_primitive_fill(&s->prods[k], s->max, m.prim + k * s->words, s->words);
  }
  m.cum[s->n_prods - 1] = 2.0; /* rounding never falls past the end */
  m.log_w_total = log(total);
  uint64_t mask[(NSR_SPACE_MAX_N + 64) / 64];
  space_examples_mask(s, x, n, mask);
  double gn = nsr_space_sampling_exponent(&s->params, n);
  uint64_t *ext = buf, *ext_new = buf + s->words, *scratch = buf + 2 * s->words;
  uint64_t start = nsr_now_ns();

  mh_tree t = {0};
  double ll = -INFINITY;
  for (int tries = 0; ll == -INFINITY && tries < MH_INIT_TRIES; tries++) {
    t.len = 0;
    if (generate(&m, t.prog, &t.len, budget)) ll = log_likelihood(&m, &t, mask, gn, ext, scratch);
  }
  nsr_code rc = NSR_OK;
  if (ll == -INFINITY) {
    rc = nsr_fail(err, NSR_ERR_INVALID, "no expression of the grammar drawn in %d tries contains every example",
                  MH_INIT_TRIES);
  }
  uint64_t accepted = 0, steps = opt->burn_in + opt->samples;
  for (uint64_t step = 0; rc == NSR_OK && step < steps; step++) {
    int node = (int)nsr_rng_below(&m.rng, (uint64_t)t.len), end = subtree_end(s, t.prog, node);
    mh_tree p;
    memcpy(p.prog, t.prog, (size_t)node * sizeof *p.prog);
    p.len = node;
    int rest = t.len - end; /* symbols after the subtree */
    if (generate(&m, p.prog, &p.len, budget - rest)) {
      memcpy(p.prog + p.len, t.prog + end, (size_t)rest * sizeof *p.prog);
      p.len += rest;
      double ll_new = log_likelihood(&m, &p, mask, gn, ext_new, scratch);
      double log_a = (p.len - t.len) * m.log_w_total + ll_new - ll + log((double)t.len / p.len);
      if (ll_new > -INFINITY && log(nsr_rng_uniform(&m.rng)) < log_a) {
        t = p;
        ll = ll_new;
        memcpy(ext, ext_new, s->words * sizeof *ext);
        accepted++;
      }
    }
    if (step < opt->burn_in) continue;
    for (size_t k = 0; k < s->words; k++) {
      for (uint64_t bits = ext[k]; bits; bits &= bits - 1) counts[k * 64 + (size_t)__builtin_ctzll(bits)] += 1.0;
    }
  }
  if (rc == NSR_OK) {
    for (uint32_t y = 1; y <= s->max; y++) g[y - 1] = opt->samples ? counts[y] / (double)opt->samples : 0.0;
    double secs = nsr_seconds_since(start);
    rep->samples = opt->samples;
    rep->acceptance = steps ? (double)accepted / (double)steps : 0.0;
    rep->samples_per_second = secs > 0 ? (double)steps / secs : INFINITY;
  }
  nsr_free(m.cum);
  nsr_free(m.prim);
  nsr_free(buf);
  nsr_free(counts);
  return rc;
}
