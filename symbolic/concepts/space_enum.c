/* space_enum.c: enumerates every expression of a space's grammar up to its
 * size bound, by dynamic programming over (size, extension) classes:
 * because every operation is a function of its operands' extensions, the
 * summed probability of all expressions of size s with extension e is
 *   π_s(e) = Σ_prim w_p [ext(p) = e]
 *          + Σ_op Σ_{s1 + s2 = s − 1} Σ_{op(e1, e2) = e} w_op π_s1(e1) π_s2(e2),
 * so expressions are never built one by one and the prior of a hypothesis
 * (π(e) = Σ_s π_s(e)) is exact. Extensions are deduplicated through an
 * open-addressing hash table over their bitsets. */
#include <assert.h>
#include <math.h>
#include <string.h>

#include "space.h"

/* A 64-bit mix of the words of a bitset (splitmix64 finaliser per word). */
static uint64_t hash_bits(const uint64_t *w, size_t words) {
  uint64_t h = 0x9e3779b97f4a7c15u;
  for (size_t i = 0; i < words; i++) {
    uint64_t z = h ^ w[i];
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    h = z ^ (z >> 31);
  }
  return h;
}

void space_slots_fill(uint32_t *slots, size_t cap, const uint64_t *bits, size_t n, size_t words) {
  for (size_t e = 0; e < n; e++) {
    size_t i = hash_bits(bits + e * words, words) & (cap - 1);
    while (slots[i]) i = (i + 1) & (cap - 1);
    slots[i] = (uint32_t)e + 1;
  }
}

size_t space_slots_probe(const uint32_t *slots, size_t cap, const uint64_t *bits, size_t words,
                         const uint64_t *w, bool *found) {
  assert(slots != NULL && cap > 0 && "the table is grown before it is probed");
  size_t i = hash_bits(w, words) & (cap - 1);
  for (; slots[i]; i = (i + 1) & (cap - 1)) {
    if (memcmp(bits + (size_t)(slots[i] - 1) * words, w, words * sizeof *w) == 0) {
      *found = true;
      return i;
    }
  }
  *found = false;
  return i;
}

/* Doubles the hash table and reinserts every extension (load stays under
 * one half, so probe runs stay short). */
static nsr_code grow_table(nsr_space *s, nsr_error *err) {
  size_t cap = s->table_cap ? 2 * s->table_cap : 1024;
  uint32_t *t = nsr_calloc(cap, sizeof *t);
  if (t == NULL) return nsr_fail(err, NSR_ERR_NOMEM, "extension table: out of memory");
  space_slots_fill(t, cap, s->bits, s->n_ext, s->words);
  nsr_free(s->table);
  s->table = t;
  s->table_cap = cap;
  return NSR_OK;
}

/* Grows every per-extension array together. */
static nsr_code grow_extensions(nsr_space *s, nsr_error *err) {
  size_t cap = s->cap_ext ? 2 * s->cap_ext : 1024;
  if (cap > s->max_ext) cap = s->max_ext;
  uint64_t *bits = nsr_reallocarray(s->bits, cap, s->words * sizeof *bits);
  if (bits) s->bits = bits;
  uint32_t *size = nsr_reallocarray(s->ext_size, cap, sizeof *size);
  if (size) s->ext_size = size;
  double *pi = nsr_reallocarray(s->pi, cap, sizeof *pi);
  if (pi) s->pi = pi;
  space_best *best = nsr_reallocarray(s->best, cap, sizeof *best);
  if (best) s->best = best;
  uint32_t *class_of = nsr_reallocarray(s->class_of, cap, sizeof *class_of);
  if (class_of) s->class_of = class_of;
  double *score = nsr_reallocarray(s->score, cap, sizeof *score);
  if (score) s->score = score;
  if (!bits || !size || !pi || !best || !class_of || !score) {
    return nsr_fail(err, NSR_ERR_NOMEM, "%zu extensions: out of memory", cap);
  }
  s->cap_ext = cap;
  return NSR_OK;
}

/* The index of the extension `w`, added when new. */
static nsr_code intern(nsr_space *s, const uint64_t *w, uint32_t *out, nsr_error *err) {
  if (2 * (s->n_ext + 1) > s->table_cap) {
    nsr_code rc = grow_table(s, err);
    if (rc != NSR_OK) return rc;
  }
  assert(s->table != NULL && "grow_table ran: table_cap is 0 while table is NULL");
  bool found;
  size_t i = space_slots_probe(s->table, s->table_cap, s->bits, s->words, w, &found);
  if (found) {
    *out = s->table[i] - 1;
    return NSR_OK;
  }
  if (s->n_ext == s->max_ext) {
    return nsr_fail(err, NSR_ERR_LIMIT,
                    "more than %zu distinct extensions: raise \"max_extensions\" or lower \"max_size\"",
                    s->max_ext);
  }
  if (s->n_ext == s->cap_ext) {
    nsr_code rc = grow_extensions(s, err);
    if (rc != NSR_OK) return rc;
  }
  size_t e = s->n_ext++;
  memcpy(s->bits + e * s->words, w, s->words * sizeof *w);
  uint32_t count = 0;
  for (size_t k = 0; k < s->words; k++) count += (uint32_t)__builtin_popcountll(w[k]);
  s->ext_size[e] = count;
  s->pi[e] = 0.0;
  s->best[e] = (space_best){.prod = SPACE_NONE, .size = UINT32_MAX};
  s->class_of[e] = SPACE_NONE;
  s->table[i] = (uint32_t)e + 1;
  *out = (uint32_t)e;
  return NSR_OK;
}

/* The array `items` with room for one more item (doubled when full);
 * NULL when that allocation fails (items is then still valid). */
static void *reserve_one(void *items, size_t len, size_t *cap, size_t size) {
  if (len < *cap) return items;
  size_t grown = *cap ? 2 * *cap : 1024;
  void *p = nsr_reallocarray(items, grown, size);
  if (p) *cap = grown;
  return p;
}

static nsr_code push_class(nsr_space *s, uint32_t e, nsr_error *err) {
  space_class *c = reserve_one(s->classes, s->n_classes, &s->cap_classes, sizeof *c);
  if (c == NULL) return nsr_fail(err, NSR_ERR_NOMEM, "expression classes: out of memory");
  s->classes = c;
  s->classes[s->n_classes] = (space_class){.ext = e, .pi = 0.0, .count = 0.0};
  s->class_of[e] = (uint32_t)s->n_classes++;
  return NSR_OK;
}

static nsr_code push_edge(nsr_space *s, const space_edge *edge, nsr_error *err) {
  space_edge *e = reserve_one(s->edges, s->n_edges, &s->cap_edges, sizeof *e);
  if (e == NULL) return nsr_fail(err, NSR_ERR_NOMEM, "derivation graph: out of memory");
  s->edges = e;
  s->edges[s->n_edges++] = *edge;
  return NSR_OK;
}

static double class_pi_or_one(const nsr_space *s, uint32_t c) {
  return c == SPACE_NONE ? 1.0 : s->classes[c].pi;
}

static double class_count_or_one(const nsr_space *s, uint32_t c) {
  return c == SPACE_NONE ? 1.0 : s->classes[c].count;
}

/* Adds `mult` expressions (production edge->prod over classes edge->a and
 * edge->b) whose extension is w to the classes of size `size`. */
static nsr_code add_expression(nsr_space *s, int size, const uint64_t *w, space_edge *edge,
                               nsr_error *err) {
  double count = edge->mult * class_count_or_one(s, edge->a) * class_count_or_one(s, edge->b);
  s->n_expressions += count;
  bool empty = true;
  for (size_t k = 0; k < s->words && empty; k++) empty = w[k] == 0;
  if (empty) return NSR_OK; /* the empty set explains no examples */
  uint32_t e = 0;
  nsr_code rc = intern(s, w, &e, err);
  if (rc != NSR_OK) return rc;
  uint32_t c = s->class_of[e];
  if (c == SPACE_NONE || c < s->size_start[size]) {
    rc = push_class(s, e, err);
    if (rc != NSR_OK) return rc;
    c = s->class_of[e];
  }
  const production *p = &s->prods[edge->prod];
  s->classes[c].count += count;
  s->classes[c].pi += edge->mult * exp(p->log_w) * class_pi_or_one(s, edge->a) *
                      class_pi_or_one(s, edge->b);
  edge->parent = c;
  if (s->record_edges) {
    rc = push_edge(s, edge, err);
    if (rc != NSR_OK) return rc;
  }
  /* Shortest description: built from the operands' own shortest ones. */
  uint32_t ea = edge->a == SPACE_NONE ? SPACE_NONE : s->classes[edge->a].ext;
  uint32_t eb = edge->b == SPACE_NONE ? SPACE_NONE : s->classes[edge->b].ext;
  uint32_t cand = 1 + (ea == SPACE_NONE ? 0 : s->best[ea].size) + (eb == SPACE_NONE ? 0 : s->best[eb].size);
  double lw = p->log_w + (ea == SPACE_NONE ? 0 : s->best[ea].log_w) + (eb == SPACE_NONE ? 0 : s->best[eb].log_w);
  space_best *b = &s->best[e];
  if (cand < b->size || (cand == b->size && lw > b->log_w)) {
    *b = (space_best){.prod = edge->prod, .a = ea, .b = eb, .size = cand, .log_w = lw};
  }
  return NSR_OK;
}

/* Every unary production applied to every class of size s − 1. */
static nsr_code enumerate_unary(nsr_space *s, int size, uint64_t *tmp, nsr_error *err) {
  for (size_t p = 0; p < s->n_prods; p++) {
    if (s->prods[p].kind != PROD_UNARY) continue;
    for (size_t c = s->size_start[size - 1]; c < s->size_start[size]; c++) {
      space_apply(&s->prods[p], s->max, s->bits + (size_t)s->classes[c].ext * s->words, NULL, tmp,
                  s->words);
      space_edge edge = {.a = (uint32_t)c, .b = SPACE_NONE, .prod = (uint16_t)p, .mult = 1};
      nsr_code rc = add_expression(s, size, tmp, &edge, err);
      if (rc != NSR_OK) return rc;
    }
  }
  return NSR_OK;
}

/* Every binary production over classes of sizes s1 + s2 = s − 1. Union and
 * intersection are commutative: each unordered pair is visited once and
 * stands for both orders (mult 2), a class with itself once. */
static nsr_code enumerate_binary(nsr_space *s, int size, uint64_t *tmp, nsr_error *err) {
  for (size_t p = 0; p < s->n_prods; p++) {
    const production *prod = &s->prods[p];
    if (prod->kind != PROD_BINARY) continue;
    bool commutative = strcmp(space_family_name(prod->family), "difference") != 0;
    for (int s1 = 1; s1 <= size - 2; s1++) {
      int s2 = size - 1 - s1;
      if (commutative && s1 > s2) continue;
      for (size_t i = s->size_start[s1]; i < s->size_start[s1 + 1]; i++) {
        size_t j0 = commutative && s1 == s2 ? i : s->size_start[s2];
        for (size_t j = j0; j < s->size_start[s2 + 1]; j++) {
          space_apply(prod, s->max, s->bits + (size_t)s->classes[i].ext * s->words,
                      s->bits + (size_t)s->classes[j].ext * s->words, tmp, s->words);
          uint16_t mult = commutative && !(s1 == s2 && i == j) ? 2 : 1;
          space_edge edge = {.a = (uint32_t)i, .b = (uint32_t)j, .prod = (uint16_t)p, .mult = mult};
          nsr_code rc = add_expression(s, size, tmp, &edge, err);
          if (rc != NSR_OK) return rc;
        }
      }
    }
  }
  return NSR_OK;
}

/* π(e) = Σ over its classes, and log Z_G = log Σ_e π(e). */
static void sum_classes(nsr_space *s) {
  for (size_t e = 0; e < s->n_ext; e++) s->pi[e] = 0.0;
  for (size_t c = 0; c < s->n_classes; c++) s->pi[s->classes[c].ext] += s->classes[c].pi;
  long double z = 0.0L;
  for (size_t e = 0; e < s->n_ext; e++) z += s->pi[e];
  s->log_z_grammar = (double)logl(z);
}

nsr_code space_enumerate(nsr_space *s, nsr_error *err) {
  uint64_t start = nsr_now_ns();
  s->n_ext = s->n_classes = s->n_edges = 0;
  s->n_expressions = 0;
  if (s->table) memset(s->table, 0, s->table_cap * sizeof *s->table);
  uint64_t *tmp = nsr_mallocarray(s->words, sizeof *tmp);
  if (tmp == NULL) return nsr_fail(err, NSR_ERR_NOMEM, "space: out of memory");
  nsr_code rc = NSR_OK;
  s->size_start[1] = 0;
  for (size_t p = 0; p < s->n_prods && rc == NSR_OK; p++) {
    if (s->prods[p].kind != PROD_PRIMITIVE) continue;
    space_primitive_fill(&s->prods[p], s->max, tmp, s->words);
    space_edge edge = {.a = SPACE_NONE, .b = SPACE_NONE, .prod = (uint16_t)p, .mult = 1};
    rc = add_expression(s, 1, tmp, &edge, err);
  }
  s->size_start[2] = s->n_classes;
  for (int size = 2; size <= s->max_size && rc == NSR_OK; size++) {
    rc = enumerate_unary(s, size, tmp, err);
    if (rc == NSR_OK) rc = enumerate_binary(s, size, tmp, err);
    s->size_start[size + 1] = s->n_classes;
  }
  nsr_free(tmp);
  if (rc == NSR_OK && s->n_ext == 0) rc = nsr_fail(err, NSR_ERR_INVALID, "every primitive is empty over 1..%u", s->max);
  if (rc != NSR_OK) return rc;
  sum_classes(s);
  s->build_seconds = nsr_seconds_since(start);
  return NSR_OK;
}

void space_forward(nsr_space *s) {
  for (size_t c = 0; c < s->n_classes; c++) s->classes[c].pi = 0.0;
  for (size_t i = 0; i < s->n_edges; i++) {
    const space_edge *e = &s->edges[i];
    s->classes[e->parent].pi += e->mult * exp(s->prods[e->prod].log_w) *
                                class_pi_or_one(s, e->a) * class_pi_or_one(s, e->b);
  }
  sum_classes(s);
}

void space_interval_prior(nsr_space *s) {
  double sigma = s->params.sigma, log_z = -INFINITY, mean = 0.0;
  for (uint32_t k = 1; k <= s->max; k++) {
    log_z = numbers_log_add(log_z, log((double)(s->max - k + 1)) + numbers_log_erlang(k, sigma));
  }
  /* Intervals share 1 − sim_mass with the grammar. */
  double base = log1p(-s->params.lambda) + log1p(-s->params.sim_mass) - log_z;
  s->interval_lp[0] = -INFINITY;
  for (uint32_t k = 1; k <= s->max; k++) {
    s->interval_lp[k] = base + numbers_log_erlang(k, sigma);
    /* p(size k) of all intervals, in interval_cum until the cumulation */
    s->interval_cum[k - 1] = (s->max - k + 1) * exp(numbers_log_erlang(k, sigma) - log_z);
    mean += s->interval_cum[k - 1] * k;
  }
  s->interval_mean_size = mean;
  space_cum_build(s->interval_cum, s->max, s->interval_cum);
}
