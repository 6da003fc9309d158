/* space_tree.c: expression trees of a space's grammar, shared by every
 * sampler (space_sample.c, space_mh.c, space_propose.c): drawing them,
 * evaluating them into extensions, naming them, and the tables those need.
 *
 * A tree is a program in prefix order (production indices, each followed by
 * its operands' subtrees), so a subtree is a contiguous run.
 *
 * Two distributions over trees are drawn from. The PCFG with rule
 * probabilities w_k / W (W = Σ_k w_k) grows subtrees (MH's regeneration
 * moves). The space's prior, the one the enumeration sums, is
 * p(t) ∝ Π_{k ∈ t} w_k over trees of at most max_size symbols: the PCFG
 * reweighted by W^|t|. It is drawn exactly, size first: with r_k = w_k / W,
 *   Z(1) = Σ_prim r_k,
 *   Z(s) = Σ_unary r_k · Z(s − 1) + Σ_binary r_k · Σ_{a=1}^{s−2} Z(a) Z(s − 1 − a),
 * the total r-weight of trees of s symbols, so p(|t| = s) ∝ W^s Z(s); a tree
 * of s symbols takes root k with probability ∝ r_k times the Z-weight of
 * what its operands can be (1 for a primitive when s = 1), and a binary
 * root splits its s − 1 remaining symbols as a + (s − 1 − a) with
 * probability ∝ Z(a) Z(s − 1 − a). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "space.h"

double space_cum_build(const double *w, size_t n, double *cum) {
  double total = 0.0;
  size_t last = 0;
  for (size_t k = 0; k < n; k++) {
    total += w[k];
    if (w[k] > 0) last = k;
  }
  double run = 0.0;
  for (size_t k = 0; k < n; k++) {
    run += w[k];
    cum[k] = k >= last ? 2.0 : run / total;
  }
  return total;
}

nsr_code space_tree_tables(nsr_space *s, nsr_error *err) {
  size_t np = s->n_prods, b = (size_t)s->max_size;
  s->prim = nsr_mallocarray(np * s->words, sizeof *s->prim);
  s->pcfg_cols = nsr_mallocarray(np, sizeof *s->pcfg_cols);
  s->pcfg_log_p = nsr_mallocarray(np, sizeof *s->pcfg_log_p);
  s->size_cum = nsr_mallocarray(b, sizeof *s->size_cum);
  s->size_prod_cum = nsr_mallocarray((b + 1) * np, sizeof *s->size_prod_cum);
  s->split_cum = nsr_mallocarray((b + 1) * b, sizeof *s->split_cum);
  if (!s->prim || !s->pcfg_cols || !s->pcfg_log_p || !s->size_cum || !s->size_prod_cum || !s->split_cum) {
    return nsr_fail(err, NSR_ERR_NOMEM, "sampler tables: out of memory");
  }
  for (size_t k = 0; k < np; k++) {
    if (s->prods[k].kind == PROD_PRIMITIVE) space_primitive_fill(&s->prods[k], s->max, s->prim + k * s->words, s->words);
  }
  space_tree_weights(s);
  return NSR_OK;
}

/* Fills the size-first tables from r[k] = w_k / W (see the top). */
static void size_tables(nsr_space *s, const double *r) {
  size_t np = s->n_prods, b = (size_t)s->max_size;
  double z[NSR_SPACE_TREE_MAX + 1] = {0}, pairs[NSR_SPACE_TREE_MAX + 1] = {0}, unary = 0.0, binary = 0.0;
  double w[SPACE_MAX_PRODUCTIONS]; /* weights of one table (max_size ≤ 32 < SPACE_MAX_PRODUCTIONS) */
  for (size_t k = 0; k < np; k++) {
    if (s->prods[k].kind == PROD_PRIMITIVE) z[1] += r[k];
    else if (s->prods[k].kind == PROD_UNARY) unary += r[k];
    else binary += r[k];
  }
  for (size_t sz = 2; sz <= b; sz++) {
    for (size_t a = 1; a + 2 <= sz; a++) pairs[sz] += z[a] * z[sz - 1 - a];
    z[sz] = unary * z[sz - 1] + binary * pairs[sz];
  }
  double log_size[NSR_SPACE_TREE_MAX], best = -INFINITY;
  for (size_t sz = 1; sz <= b; sz++) {
    log_size[sz - 1] = z[sz] > 0 ? (double)sz * s->log_w_total + log(z[sz]) : -INFINITY;
    if (log_size[sz - 1] > best) best = log_size[sz - 1];
  }
  for (size_t sz = 1; sz <= b; sz++) w[sz - 1] = exp(log_size[sz - 1] - best);
  space_cum_build(w, b, s->size_cum);
  for (size_t sz = 1; sz <= b; sz++) {
    for (size_t k = 0; k < np; k++) {
      prod_kind kind = s->prods[k].kind;
      double operands = kind == PROD_PRIMITIVE ? (sz == 1) : kind == PROD_UNARY ? (sz >= 2 ? z[sz - 1] : 0) : pairs[sz];
      w[k] = r[k] * operands;
    }
    space_cum_build(w, np, s->size_prod_cum + sz * np);
    for (size_t a = 1; a + 2 <= sz; a++) w[a - 1] = z[a] * z[sz - 1 - a];
    if (sz >= 3) space_cum_build(w, sz - 2, s->split_cum + sz * b);
  }
}

void space_tree_weights(nsr_space *s) {
  size_t np = s->n_prods;
  double r[SPACE_MAX_PRODUCTIONS], total = 0.0;
  for (size_t k = 0; k < np; k++) total += exp(s->prods[k].log_w);
  s->log_w_total = log(total);
  for (size_t k = 0; k < np; k++) {
    r[k] = exp(s->prods[k].log_w) / total;
    s->pcfg_log_p[k] = s->prods[k].log_w - s->log_w_total;
  }
  s->pcfg_m = space_alias_build(r, np, s->pcfg_cols);
  size_tables(s, r);
}

void space_size_loglik(const nsr_space *s, double gn, double *ll) {
  ll[0] = -INFINITY;
  for (uint32_t k = 1; k <= s->max; k++) ll[k] = -gn * log((double)k);
}

bool space_tree_grow(const nsr_space *s, nsr_rng *rng, uint16_t *out, int *len, int budget) {
  if (*len >= budget) return false;
  size_t k = space_alias_draw(s->pcfg_cols, s->pcfg_m, nsr_rng_uniform(rng));
  out[(*len)++] = (uint16_t)k;
  for (int c = 0; c < space_arity(&s->prods[k]); c++) {
    if (!space_tree_grow(s, rng, out, len, budget)) return false;
  }
  return true;
}

/* Appends a tree of exactly sz symbols drawn from the prior (Z(sz) > 0). */
static void draw_sized(const nsr_space *s, nsr_rng *rng, size_t sz, nsr_space_tree *t) {
  size_t np = s->n_prods, b = (size_t)s->max_size;
  size_t k = space_cum_find(s->size_prod_cum + sz * np, np, nsr_rng_uniform(rng));
  t->prog[t->len++] = (uint16_t)k;
  if (s->prods[k].kind == PROD_UNARY) {
    draw_sized(s, rng, sz - 1, t);
  } else if (s->prods[k].kind == PROD_BINARY) {
    size_t a = 1 + space_cum_find(s->split_cum + sz * b, sz - 2, nsr_rng_uniform(rng));
    draw_sized(s, rng, a, t);
    draw_sized(s, rng, sz - 1 - a, t);
  }
}

void space_tree_draw_prior(const nsr_space *s, nsr_rng *rng, nsr_space_tree *t) {
  size_t sz = 1 + space_cum_find(s->size_cum, (size_t)s->max_size, nsr_rng_uniform(rng));
  t->len = 0;
  draw_sized(s, rng, sz, t);
}

int space_subtree_end(const nsr_space *s, const uint16_t *prog, int i) {
  int need = 1;
  while (need > 0) need += space_arity(&s->prods[prog[i++]]) - 1;
  return i;
}

bool space_tree_valid(const nsr_space *s, const nsr_space_tree *t) {
  if (t->len < 1 || t->len > NSR_SPACE_TREE_MAX) return false;
  int need = 1;
  for (int i = 0; i < t->len; i++) {
    if (need == 0 || t->prog[i] >= s->n_prods) return false; /* symbols after a complete tree */
    need += space_arity(&s->prods[t->prog[i]]) - 1;
  }
  return need == 0;
}

bool space_tree_eval(const nsr_space *s, const uint16_t *prog, int *i, uint64_t *out, uint64_t *scratch) {
  size_t k = prog[(*i)++], w = s->words;
  const production *p = &s->prods[k];
  if (p->kind == PROD_PRIMITIVE) {
    memcpy(out, s->prim + k * w, w * sizeof *out);
  } else {
    uint64_t *a = scratch, *b = scratch + w;
    if (!space_tree_eval(s, prog, i, a, scratch + 2 * w)) return false;
    if (p->kind == PROD_BINARY && !space_tree_eval(s, prog, i, b, scratch + 2 * w)) return false;
    space_apply(p, s->max, a, b, out, w);
  }
  for (size_t j = 0; j < w; j++) {
    if (out[j]) return true;
  }
  return false;
}

void space_tree_describe(const nsr_space *s, const uint16_t *prog, int *i, char *buf, size_t len) {
  const production *p = &s->prods[prog[(*i)++]];
  if (p->kind == PROD_PRIMITIVE) {
    snprintf(buf, len, "%s", p->name);
    return;
  }
  char a[NSR_SPACE_NAME_MAX], b[NSR_SPACE_NAME_MAX] = "";
  bool a_compound = s->prods[prog[*i]].kind != PROD_PRIMITIVE;
  space_tree_describe(s, prog, i, a, sizeof a);
  bool b_compound = p->kind == PROD_BINARY && s->prods[prog[*i]].kind != PROD_PRIMITIVE;
  if (p->kind == PROD_BINARY) space_tree_describe(s, prog, i, b, sizeof b);
  space_describe(p, a, a_compound, b, b_compound, buf, len);
}
