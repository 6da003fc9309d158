/* space_guide.c: a guide (a grammar conditioned on the examples, handed in
 * by the caller) as the proposal q(t | X) the samplers draw from and score
 * with, and the checks every sampler's inputs share.
 *
 * Contexts. Each node of a tree is in one context: the root, or operand j
 * of operation k. Operation k's operands are contexts ctx_base[k] + j,
 * numbered after the root (0) in production order, so a space with
 * operations of arities a_k has 1 + Σ a_k contexts. A guide gives one row
 * of production log weights per context (parent→child weights, as in
 * DreamCoder's bigram recognition model), or one row for all of them.
 *
 * Room. q never grows a tree past max_size = B: a node whose subtree may
 * take r more symbols (its room) chooses among the productions that fit
 * (arity ≤ r − 1: each operand needs a symbol), its row renormalised over
 * them. An only operand gets room r − 1; a binary node's first operand
 * r − 2 (one is kept for the second), its second what the first left. So
 *   q(t | X) = Π_{nodes} exp(l[ctx][k]) / Σ_{k' fits room} exp(l[ctx][k']),
 * every draw is a tree of at most B symbols, and q sums to 1 over those
 * trees (every choice is a normalised distribution over continuations that
 * all complete within B). */
#include <math.h>

#include "space.h"

/* log Σ_k exp(v[k]), k < n. */
static double log_sum_exp(const double *v, size_t n) {
  double best = -INFINITY, sum = 0.0;
  for (size_t k = 0; k < n; k++) best = fmax(best, v[k]);
  for (size_t k = 0; k < n; k++) sum += exp(v[k] - best);
  return best + log(sum);
}

/* base[k] = the context of operand 0 of operation k (0 for primitives);
 * returns the number of contexts. */
static size_t context_bases(const nsr_space *s, uint16_t *base) {
  size_t next = 1;
  for (size_t k = 0; k < s->n_prods; k++) {
    base[k] = (uint16_t)(s->prods[k].kind == PROD_PRIMITIVE ? 0 : next);
    next += (size_t)space_arity(&s->prods[k]);
  }
  return next;
}

size_t nsr_space_guide_contexts(const nsr_space *s) {
  size_t n = 1;
  for (size_t k = 0; k < s->n_prods; k++) n += (size_t)space_arity(&s->prods[k]);
  return n;
}

/* The context of every node of the well-formed tree t into ctx[0..len),
 * from the operand bases `base`. */
static void tree_contexts(const nsr_space *s, const uint16_t *base, const nsr_space_tree *t, uint16_t *ctx) {
  uint16_t pending[NSR_SPACE_TREE_MAX + 1]; /* contexts of the operands still to come, next on top */
  int top = 0;
  pending[top++] = 0;
  for (int i = 0; i < t->len && top > 0; i++) {
    uint16_t k = t->prog[i];
    ctx[i] = pending[--top];
    for (int j = space_arity(&s->prods[k]) - 1; j >= 0 && top <= NSR_SPACE_TREE_MAX; j--) {
      pending[top++] = (uint16_t)(base[k] + j);
    }
  }
}

void nsr_space_tree_contexts(const nsr_space *s, const nsr_space_tree *t, uint16_t *ctx) {
  uint16_t base[SPACE_MAX_PRODUCTIONS];
  context_bases(s, base);
  tree_contexts(s, base, t, ctx);
}

/* The arity class of a room: the largest arity that fits, at most 2. */
static inline int room_class(int room) { return room >= 3 ? 2 : room - 1; }

static inline size_t q_row(const space_q *q, size_t ctx) { return q->rows == 1 ? 0 : ctx; }

double space_q_grow(const nsr_space *s, const space_q *q, size_t ctx, int room, nsr_rng *rng, uint16_t *out,
                    int *len) {
  size_t np = s->n_prods, row = q_row(q, ctx);
  int c = room_class(room);
  size_t t = row * 3 + (size_t)c;
  size_t k = space_alias_draw(q->prob + t * np, q->col + t * np, q->alias + t * np, q->m[t], nsr_rng_uniform(rng));
  out[(*len)++] = (uint16_t)k;
  double lq = q->log_p[row * np + k] - q->log_fit[row * 3 + (size_t)c];
  int arity = space_arity(&s->prods[k]);
  if (arity == 1) lq += space_q_grow(s, q, q->ctx_base[k], room - 1, rng, out, len);
  if (arity == 2) {
    int before = *len;
    lq += space_q_grow(s, q, q->ctx_base[k], room - 2, rng, out, len);
    lq += space_q_grow(s, q, q->ctx_base[k] + 1u, room - 1 - (*len - before), rng, out, len);
  }
  return lq;
}

double space_q_log(const nsr_space *s, const space_q *q, const uint16_t *prog, int *i, size_t ctx, int room) {
  size_t np = s->n_prods, k = prog[(*i)++], row = q_row(q, ctx);
  int arity = space_arity(&s->prods[k]);
  if (arity > room - 1) return -INFINITY;
  double lq = q->log_p[row * np + k] - q->log_fit[row * 3 + (size_t)room_class(room)];
  if (arity == 1) lq += space_q_log(s, q, prog, i, q->ctx_base[k], room - 1);
  if (arity == 2) {
    int before = *i;
    lq += space_q_log(s, q, prog, i, q->ctx_base[k], room - 2);
    if (lq == -INFINITY) return lq;
    lq += space_q_log(s, q, prog, i, q->ctx_base[k] + 1u, room - 1 - (*i - before));
  }
  return lq;
}

double space_q_tree_log(const nsr_space *s, const space_q *q, const nsr_space_tree *t) {
  int i = 0;
  return space_q_log(s, q, t->prog, &i, 0, s->max_size);
}

size_t space_q_context(const nsr_space *s, const space_q *q, const nsr_space_tree *t, int node) {
  uint16_t ctx[NSR_SPACE_TREE_MAX];
  tree_contexts(s, q->ctx_base, t, ctx);
  return ctx[node];
}

double nsr_space_guide_log_q(const nsr_space *s, const nsr_space_guide *guide, const nsr_space_tree *t) {
  if (!space_tree_valid(s, t) || t->len > s->max_size) return t->len > s->max_size ? -INFINITY : NAN;
  space_q q = {0};
  nsr_error err;
  double lq = space_q_init(s, guide, &q, &err) == NSR_OK ? space_q_tree_log(s, &q, t) : NAN;
  space_q_free(&q);
  return lq;
}

/* Fills row r of q from the guide's row g[0..np) (finite, checked). */
static void fill_row(const nsr_space *s, space_q *q, size_t r, const double *g) {
  size_t np = s->n_prods;
  double *lp = q->log_p + r * np, w[SPACE_MAX_PRODUCTIONS];
  double lse = log_sum_exp(g, np);
  for (size_t k = 0; k < np; k++) lp[k] = g[k] - lse;
  for (int c = 0; c < 3; c++) {
    for (size_t k = 0; k < np; k++) w[k] = space_arity(&s->prods[k]) <= c ? exp(lp[k]) : 0.0;
    size_t t = r * 3 + (size_t)c;
    double fit = 0.0;
    for (size_t k = 0; k < np; k++) fit += w[k];
    q->log_fit[t] = log(fit);
    q->m[t] = space_alias_build(w, np, q->prob + t * np, q->col + t * np, q->alias + t * np);
  }
}

nsr_code space_q_init(const nsr_space *s, const nsr_space_guide *guide, space_q *q, nsr_error *err) {
  size_t np = s->n_prods, contexts = nsr_space_guide_contexts(s);
  size_t rows = guide->rows <= 1 ? 1 : guide->rows;
  if (rows != 1 && rows != contexts) {
    return nsr_fail(err, NSR_ERR_INVALID, "guide: %zu rows of weights; the space has %zu contexts (or give 1 row)",
                    rows, contexts);
  }
  for (size_t k = 0; k < rows * np; k++) {
    if (!isfinite(guide->log_q[k])) {
      return nsr_fail(err, NSR_ERR_RANGE, "guide: the log weight of '%s' in context %zu is not finite",
                      s->prods[k % np].name, k / np);
    }
  }
  q->rows = rows;
  q->ctx_base = nsr_mallocarray(np, sizeof *q->ctx_base);
  q->log_p = nsr_mallocarray(rows * np, sizeof *q->log_p);
  q->log_fit = nsr_mallocarray(rows * 3, sizeof *q->log_fit);
  q->prob = nsr_mallocarray(rows * 3 * np, sizeof *q->prob);
  q->col = nsr_mallocarray(rows * 3 * np, sizeof *q->col);
  q->alias = nsr_mallocarray(rows * 3 * np, sizeof *q->alias);
  q->m = nsr_mallocarray(rows * 3, sizeof *q->m);
  if (!q->ctx_base || !q->log_p || !q->log_fit || !q->prob || !q->col || !q->alias || !q->m) {
    space_q_free(q);
    return nsr_fail(err, NSR_ERR_NOMEM, "guide: out of memory");
  }
  context_bases(s, q->ctx_base);
  for (size_t r = 0; r < rows; r++) fill_row(s, q, r, guide->log_q + r * np);
  return NSR_OK;
}

void space_q_free(space_q *q) {
  nsr_free(q->ctx_base);
  nsr_free(q->log_p);
  nsr_free(q->log_fit);
  nsr_free(q->prob);
  nsr_free(q->col);
  nsr_free(q->alias);
  nsr_free(q->m);
  *q = (space_q){0};
}

nsr_code space_check_examples(const nsr_space *s, const uint32_t *x, size_t n, nsr_error *err) {
  if (n == 0) return nsr_fail(err, NSR_ERR_INVALID, "no examples given");
  for (size_t i = 0; i < n; i++) {
    if (x[i] < 1 || x[i] > s->max) return nsr_fail(err, NSR_ERR_RANGE, "example %u is outside 1..%u", x[i], s->max);
  }
  return NSR_OK;
}
