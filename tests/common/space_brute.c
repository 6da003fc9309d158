/* space_brute.c: every tree of a tiny grammar space, by brute force (see
 * space_brute.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "space_brute.h"

int t_arity(char op) {
  return op == '+' || op == '*' || op == '^' ? 1 : (op == 'u' || op == 'i' || op == 'd') ? 2 : 0;
}

uint64_t t_prim(const grammar *g, const tprod *p) {
  uint64_t m = 0;
  for (uint32_t y = 1; y <= g->n; y++) {
    bool in = p->op == 'e' ? y % 2 == 0 : p->op == 'o' ? y % 2 == 1 : y % p->arg == 0;
    if (in) m |= UINT64_C(1) << y;
  }
  return m;
}

uint64_t t_unary(const grammar *g, const tprod *p, uint64_t a) {
  uint64_t r = 0;
  for (uint32_t y = 1; y <= g->n; y++) {
    if (!(a >> y & 1)) continue;
    uint64_t v = y; /* y^arg for '^' */
    if (p->op == '+') v = y + p->arg;
    else if (p->op == '*') v = (uint64_t)y * p->arg;
    else for (uint32_t k = 1; k < p->arg && v <= g->n; k++) v *= y;
    if (v <= g->n) r |= UINT64_C(1) << v;
  }
  return r;
}

uint64_t t_eval(const grammar *g, const uint16_t *prog, int *i) {
  const tprod *p = &g->prods[prog[(*i)++]];
  int arity = t_arity(p->op);
  if (arity == 0) return t_prim(g, p);
  uint64_t a = t_eval(g, prog, i), b = arity == 2 ? t_eval(g, prog, i) : 0, r = 0;
  if (a == 0 || (arity == 2 && b == 0)) return 0;
  if (p->op == 'u') r = a | b;
  if (p->op == 'i') r = a & b;
  if (p->op == 'd') r = a & ~b;
  if (arity == 1) r = t_unary(g, p, a);
  return r;
}

/* Fills prog[len..] with every completion needing `need` more subtrees,
 * within max_size symbols, recording each complete tree. */
static void t_grow(const grammar *g, brute *b, uint16_t *prog, int len, int need) {
  if (need == 0) {
    assert_true(b->count < MAX_TREES);
    nsr_space_tree *t = &b->tree[b->count];
    memcpy(t->prog, prog, (size_t)len * sizeof *prog);
    t->len = len;
    int i = 0;
    b->ext[b->count] = t_eval(g, prog, &i);
    b->p[b->count] = 1.0;
    for (int k = 0; k < len; k++) b->p[b->count] *= g->prods[prog[k]].w;
    b->count++;
    return;
  }
  for (int k = 0; k < g->n_prods; k++) {
    int a = t_arity(g->prods[k].op);
    if (len + 1 + (need - 1 + a) > g->max_size) continue; /* each pending subtree takes a symbol */
    prog[len] = (uint16_t)k;
    t_grow(g, b, prog, len + 1, need - 1 + a);
  }
}

brute *brute_build(const grammar *g) {
  brute *b = calloc(1, sizeof *b);
  assert_non_null(b);
  uint16_t prog[NSR_SPACE_TREE_MAX];
  t_grow(g, b, prog, 0, 1);
  return b;
}

int dist_index(dist *d, uint64_t mask) {
  for (int i = 0; i < d->n; i++) {
    if (d->mask[i] == mask) return i;
  }
  assert_true(d->n < MAX_EXT);
  d->mask[d->n] = mask;
  d->w[d->n] = 0.0;
  return d->n++;
}

void dist_normalise(dist *d) {
  double z = 0;
  for (int i = 0; i < d->n; i++) z += d->w[i];
  for (int i = 0; i < d->n; i++) d->w[i] /= z;
}

uint64_t mask_of(const uint32_t *x, size_t n) {
  uint64_t m = 0;
  for (size_t i = 0; i < n; i++) m |= UINT64_C(1) << x[i];
  return m;
}

void brute_posterior(const brute *b, const uint32_t *x, size_t n, dist *d) {
  uint64_t mx = mask_of(x, n);
  d->n = 0;
  for (int t = 0; t < b->count; t++) {
    if (b->ext[t] == 0 || (b->ext[t] & mx) != mx) continue;
    d->w[dist_index(d, b->ext[t])] += b->p[t] * pow(__builtin_popcountll(b->ext[t]), -(double)n);
  }
  dist_normalise(d);
}

void brute_generalization(const grammar *g, const brute *b, const uint32_t *x, size_t n, double *gen) {
  dist *d = calloc(1, sizeof *d);
  assert_non_null(d);
  brute_posterior(b, x, n, d);
  for (uint32_t y = 1; y <= g->n; y++) {
    gen[y - 1] = 0.0;
    for (int i = 0; i < d->n; i++) gen[y - 1] += (d->mask[i] >> y & 1) * d->w[i];
  }
  free(d);
}

double max_diff(const double *a, const double *b, size_t n) {
  double d = 0.0;
  for (size_t y = 0; y < n; y++) d = fmax(d, fabs(a[y] - b[y]));
  return d;
}

/* The extension of the tree named `name`; fails when no tree has that name. */
static uint64_t ext_of_name(const nsr_space *s, const brute *b, const char *name) {
  char buf[NSR_SPACE_NAME_MAX];
  for (int t = 0; t < b->count; t++) {
    nsr_space_tree_name(s, &b->tree[t], buf, sizeof buf);
    if (strcmp(buf, name) == 0) return b->ext[t];
  }
  fail_msg("no tree is named '%s'", name);
  return 0;
}

double tv_named(const nsr_space *s, const brute *b, const dist *exact, const nsr_mh_visit *top, size_t n_top) {
  dist *got = calloc(1, sizeof *got);
  assert_non_null(got);
  for (int i = 0; i < exact->n; i++) dist_index(got, exact->mask[i]);
  for (size_t k = 0; k < n_top; k++) got->w[dist_index(got, ext_of_name(s, b, top[k].name))] += top[k].posterior;
  double tv = 0;
  for (int i = 0; i < got->n; i++) tv += fabs(got->w[i] - (i < exact->n ? exact->w[i] : 0.0));
  free(got);
  return tv / 2;
}

double guided_tv(const nsr_space *s, const brute *b, const dist *exact, const uint32_t *x, size_t n,
                 const double *log_q, size_t rows, double mix, uint64_t seed, double steps, nsr_mh_report *rep) {
  nsr_space_guide guide = {.log_q = log_q, .rows = rows};
  nsr_mh_visit *top = calloc(MAX_EXT, sizeof *top);
  assert_non_null(top);
  nsr_mh_options opt = {.samples = (uint64_t)steps, .burn_in = 1000, .seed = seed, .top_k = MAX_EXT,
                        .top = top, .guide = log_q ? &guide : NULL, .guide_mix = mix};
  double g[64];
  nsr_error err;
  assert_int_equal(nsr_space_mh(s, x, n, &opt, g, rep, &err), NSR_OK);
  double tv = tv_named(s, b, exact, top, rep->n_top);
  free(top);
  return tv;
}

nsr_space *space_build(const char *json) {
  nsr_space *s = NULL;
  nsr_error err;
  if (nsr_space_from_json(json, strlen(json), "test", false, &s, &err) != NSR_OK) fail_msg("space: %s", err.message);
  return s;
}
