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
#include <stdio.h>
#include <stdlib.h>
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

/* Visit counts per extension (open addressing over the extensions' bits),
 * with the shortest tree seen for each, so the most visited hypotheses can
 * be named. */
typedef struct mh_visits {
  size_t words;
  uint32_t *slot;  /* [cap]: entry + 1, 0 = empty */
  size_t cap;      /* a power of two, at least twice n */
  uint64_t *bits;  /* [n * words] */
  double *hits;    /* [n] recorded samples spent in the entry */
  uint32_t *size;  /* [n] |h| */
  mh_tree *tree;   /* [n] shortest tree seen */
  size_t n, room;
} mh_visits;


static void visits_free(mh_visits *v) {
  nsr_free(v->slot);
  nsr_free(v->bits);
  nsr_free(v->hits);
  nsr_free(v->size);
  nsr_free(v->tree);
}

/* Doubles the slot table (rehashing) and the entry arrays; false when out
 * of memory (v unchanged). */
static bool visits_grow(mh_visits *v) {
  size_t room = v->room ? v->room * 2 : 1024, cap = 2 * room;
  uint32_t *slot = nsr_calloc(cap, sizeof *slot);
  uint64_t *bits = nsr_reallocarray(v->bits, room * v->words, sizeof *bits);
  if (bits) v->bits = bits;
  double *hits = nsr_reallocarray(v->hits, room, sizeof *hits);
  if (hits) v->hits = hits;
  uint32_t *size = nsr_reallocarray(v->size, room, sizeof *size);
  if (size) v->size = size;
  mh_tree *tree = nsr_reallocarray(v->tree, room, sizeof *tree);
  if (tree) v->tree = tree;
  if (!slot || !bits || !hits || !size || !tree) {
    nsr_free(slot);
    return false;
  }
  space_slots_fill(slot, cap, v->bits, v->n, v->words);
  nsr_free(v->slot);
  v->slot = slot;
  v->cap = cap;
  v->room = room;
  return true;
}

/* The entry of extension `ext` (|ext| = size), added when new; keeps the
 * shorter of its tree and t. Returns the entry, or SIZE_MAX when out of
 * memory. */
static size_t visits_find(mh_visits *v, const uint64_t *ext, uint32_t size, const mh_tree *t) {
  if (v->n == v->room && !visits_grow(v)) return SIZE_MAX;
  bool found;
  size_t i = space_slots_probe(v->slot, v->cap, v->bits, v->words, ext, &found);
  if (found) {
    size_t e = v->slot[i] - 1;
    if (t->len < v->tree[e].len) v->tree[e] = *t;
    return e;
  }
  size_t e = v->n++;
  memcpy(v->bits + e * v->words, ext, v->words * sizeof *ext);
  v->hits[e] = 0.0;
  v->size[e] = size;
  v->tree[e] = *t;
  v->slot[i] = (uint32_t)e + 1;
  return e;
}

/* Writes the description of the subtree at *i (advanced past it). */
static void describe_tree(const nsr_space *s, const uint16_t *prog, int *i, char *buf, size_t len) {
  const production *p = &s->prods[prog[(*i)++]];
  if (p->kind == PROD_PRIMITIVE) {
    snprintf(buf, len, "%s", p->name);
    return;
  }
  char a[NSR_SPACE_NAME_MAX], b[NSR_SPACE_NAME_MAX] = "";
  bool a_compound = s->prods[prog[*i]].kind != PROD_PRIMITIVE;
  describe_tree(s, prog, i, a, sizeof a);
  bool b_compound = p->kind == PROD_BINARY && s->prods[prog[*i]].kind != PROD_PRIMITIVE;
  if (p->kind == PROD_BINARY) describe_tree(s, prog, i, b, sizeof b);
  space_describe(p, a, a_compound, b, b_compound, buf, len);
}

typedef struct ranked {
  double hits;
  size_t entry;
} ranked;

/* Most hits first; ties: the entry found first. */
static int by_hits(const void *pa, const void *pb) {
  const ranked *a = pa, *b = pb;
  if (a->hits != b->hits) return a->hits < b->hits ? 1 : -1;
  return a->entry < b->entry ? -1 : a->entry > b->entry;
}

/* Fills opt->top with the most visited entries; false when out of memory. */
static bool visits_top(const mh_state *m, const mh_visits *v, const nsr_mh_options *opt, nsr_mh_report *rep) {
  ranked *order = nsr_mallocarray(v->n ? v->n : 1, sizeof *order);
  if (order == NULL) return false;
  size_t used = 0;
  for (size_t e = 0; e < v->n; e++) {
    if (v->hits[e] > 0) order[used++] = (ranked){v->hits[e], e};
  }
  qsort(order, used, sizeof *order, by_hits);
  rep->distinct = used;
  rep->n_top = used < opt->top_k ? used : opt->top_k;
  for (size_t k = 0; k < rep->n_top; k++) {
    size_t e = order[k].entry;
    int i = 0;
    describe_tree(m->s, v->tree[e].prog, &i, opt->top[k].name, sizeof opt->top[k].name);
    opt->top[k].size = v->size[e];
    opt->top[k].posterior = v->hits[e] / (double)opt->samples;
  }
  nsr_free(order);
  return true;
}

static uint32_t popcount_bits(const uint64_t *w, size_t words) {
  uint32_t n = 0;
  for (size_t i = 0; i < words; i++) n += (uint32_t)__builtin_popcountll(w[i]);
  return n;
}

/* Frees what nsr_space_mh allocated (any of it may be NULL). */
static void mh_release(mh_state *m, mh_visits *v, uint64_t *buf, double *counts) {
  visits_free(v);
  nsr_free(m->cum);
  nsr_free(m->prim);
  nsr_free(buf);
  nsr_free(counts);
}

nsr_code nsr_space_mh(const nsr_space *s, const uint32_t *x, size_t n, const nsr_mh_options *opt,
                      double *g, nsr_mh_report *rep, nsr_error *err) {
  if (n == 0) return nsr_fail(err, NSR_ERR_INVALID, "no examples given");
  for (size_t i = 0; i < n; i++) {
    if (x[i] < 1 || x[i] > s->max) return nsr_fail(err, NSR_ERR_RANGE, "example %u is outside 1..%u", x[i], s->max);
  }
  if (opt->top_k > 0 && opt->top == NULL) return nsr_fail(err, NSR_ERR_INVALID, "top_k without a top array");
  memset(rep, 0, sizeof *rep);
  int budget = s->max_size < MH_MAX_SIZE ? s->max_size : MH_MAX_SIZE;
  mh_state m = {.s = s};
  mh_visits v = {.words = s->words};
  bool counting = opt->top_k > 0;
  nsr_rng_seed(&m.rng, opt->seed);
  m.cum = nsr_mallocarray(s->n_prods, sizeof *m.cum);
  m.prim = nsr_mallocarray(s->n_prods * s->words, sizeof *m.prim);
  /* ext, proposal ext, and two per level of evaluation depth */
  uint64_t *buf = nsr_mallocarray((size_t)(2 * MH_MAX_SIZE + 4) * s->words, sizeof *buf);
  double *counts = nsr_calloc(s->max + 1, sizeof *counts);
  nsr_code rc = NSR_OK;
  if (!m.cum || !m.prim || !buf || !counts || (counting && !visits_grow(&v))) {
    mh_release(&m, &v, buf, counts);
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
  if (ll == -INFINITY) {
    rc = nsr_fail(err, NSR_ERR_INVALID, "no expression of the grammar drawn in %d tries contains every example",
                  MH_INIT_TRIES);
  }
  size_t cur = counting && rc == NSR_OK ? visits_find(&v, ext, popcount_bits(ext, s->words), &t) : 0;
  if (cur == SIZE_MAX) rc = nsr_fail(err, NSR_ERR_NOMEM, "Metropolis-Hastings: out of memory counting visits");
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
        if (counting) cur = visits_find(&v, ext, popcount_bits(ext, s->words), &t);
      }
    }
    if (cur == SIZE_MAX) rc = nsr_fail(err, NSR_ERR_NOMEM, "Metropolis-Hastings: out of memory counting visits");
    if (step < opt->burn_in || rc != NSR_OK) continue;
    if (counting) v.hits[cur] += 1.0;
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
    if (counting && !visits_top(&m, &v, opt, rep)) rc = nsr_fail(err, NSR_ERR_NOMEM, "Metropolis-Hastings: out of memory");
  }
  mh_release(&m, &v, buf, counts);
  return rc;
}
