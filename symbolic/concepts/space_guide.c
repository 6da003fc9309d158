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
#include <stdlib.h>

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

/* The table of row `row`, arity class c and need (see space.h). */
static inline size_t q_table(size_t row, int c, int need) {
  return (row * 3 + (size_t)c) * SPACE_NEEDS + (size_t)need;
}

/* The need of operand j of production k at a node of need `need`. */
static inline int q_child_need(const space_q *q, size_t k, int j, int need) {
  return q->child_need[(k * 2 + (size_t)j) * SPACE_NEEDS + (size_t)need];
}

/* The log q of choosing production k from table t: never positive
 * (fill_row keeps log_fit ≥ every log_p it holds), so a tree's log q,
 * summed node by node in prefix order, never rises: the order
 * space_q_grow and space_q_walk both add in, so they agree to the last bit
 * on which trees reach a threshold. */
static inline double q_term(const space_q *q, size_t np, size_t row, size_t k, size_t t) {
  return q->log_p[row * np + k] - q->log_fit[t];
}

/* space_q_grow with lq, the log q so far, added to in prefix order. */
static double q_grow_from(const nsr_space *s, const space_q *q, size_t ctx, int need, int room, nsr_rng *rng,
                          uint16_t *out, int *len, double lq) {
  size_t np = s->n_prods, row = q_row(q, ctx), t = q_table(row, room_class(room), need);
  size_t k = space_alias_draw(q->prob + t * np, q->col + t * np, q->alias + t * np, q->m[t], nsr_rng_uniform(rng));
  out[(*len)++] = (uint16_t)k;
  lq += q_term(q, np, row, k, t);
  int arity = space_arity(&s->prods[k]);
  if (arity == 1) lq = q_grow_from(s, q, q->ctx_base[k], q_child_need(q, k, 0, need), room - 1, rng, out, len, lq);
  if (arity == 2) {
    int before = *len;
    lq = q_grow_from(s, q, q->ctx_base[k], q_child_need(q, k, 0, need), room - 2, rng, out, len, lq);
    lq = q_grow_from(s, q, q->ctx_base[k] + 1u, q_child_need(q, k, 1, need), room - 1 - (*len - before), rng, out,
                     len, lq);
  }
  return lq;
}

double space_q_grow(const nsr_space *s, const space_q *q, size_t ctx, int need, int room, nsr_rng *rng,
                    uint16_t *out, int *len) {
  return q_grow_from(s, q, ctx, need, room, rng, out, len, 0.0);
}

/* The state of space_q_walk: the tree built so far and the contexts and
 * needs of the operands still to come (next on top). */
typedef struct q_walk {
  const nsr_space *s;
  const space_q *q;
  double log_tau;
  nsr_space_tree t;
  uint16_t pending[NSR_SPACE_TREE_MAX + 1];
  uint8_t need[NSR_SPACE_TREE_MAX + 1];
  int top;
  space_q_visit visit;
  void *arg;
} q_walk;

/* Pushes the operands of production k (at a node of need `need`), operand
 * 0 on top. */
static void walk_push(q_walk *w, size_t k, int need) {
  for (int j = space_arity(&w->s->prods[k]) - 1; j >= 0; j--) {
    w->pending[w->top] = (uint16_t)(w->q->ctx_base[k] + (size_t)j);
    w->need[w->top++] = (uint8_t)q_child_need(w->q, k, j, need);
  }
}

/* Extends w->t (log q so far lq ≥ log_tau) at its next pending operand by
 * every production that keeps log q ≥ log_tau, most probable first, and
 * visits each completed tree; false as soon as a visit does. A node's room
 * is what max_size leaves after the symbols placed and one for each operand
 * still pending, the room space_q_grow gives it. */
static bool walk_node(q_walk *w, double lq) {
  if (w->top == 0) return w->visit(w->arg, &w->t, lq);
  const space_q *q = w->q;
  w->top--;
  size_t np = w->s->n_prods, ctx = w->pending[w->top], row = q_row(q, ctx);
  int need = w->need[w->top], c = room_class(w->s->max_size - w->t.len - w->top);
  size_t t = q_table(row, c, need);
  const uint8_t *member = q->member + t * np;
  bool ok = true;
  for (size_t r = 0; r < np && ok; r++) {
    size_t k = q->order[row * np + r];
    double l = lq + q_term(q, np, row, k, t);
    if (l < w->log_tau) break; /* the rest of the row is no more probable */
    if (!member[k]) continue;
    w->t.prog[w->t.len++] = (uint16_t)k;
    walk_push(w, k, need);
    ok = walk_node(w, l);
    w->top -= space_arity(&w->s->prods[k]);
    w->t.len--;
  }
  w->pending[w->top] = (uint16_t)ctx; /* the operands' pushes wrote over it */
  w->need[w->top++] = (uint8_t)need;
  return ok;
}

bool space_q_walk(const nsr_space *s, const space_q *q, double log_tau, space_q_visit visit, void *arg) {
  q_walk w = {.s = s, .q = q, .log_tau = log_tau, .visit = visit, .arg = arg, .top = 1};
  w.need[0] = (uint8_t)q->root_need;
  return walk_node(&w, 0.0);
}

double space_q_log(const nsr_space *s, const space_q *q, const uint16_t *prog, int *i, size_t ctx, int need,
                   int room) {
  size_t np = s->n_prods, k = prog[(*i)++], row = q_row(q, ctx);
  int arity = space_arity(&s->prods[k]);
  if (arity > room - 1) return -INFINITY;
  size_t t = q_table(row, room_class(room), need);
  if (!q->member[t * np + k]) return -INFINITY;
  double lq = q_term(q, np, row, k, t);
  if (arity == 1) lq += space_q_log(s, q, prog, i, q->ctx_base[k], q_child_need(q, k, 0, need), room - 1);
  if (arity == 2) {
    int before = *i;
    lq += space_q_log(s, q, prog, i, q->ctx_base[k], q_child_need(q, k, 0, need), room - 2);
    if (lq == -INFINITY) return lq;
    lq += space_q_log(s, q, prog, i, q->ctx_base[k] + 1u, q_child_need(q, k, 1, need), room - 1 - (*i - before));
  }
  return lq;
}

double space_q_tree_log(const nsr_space *s, const space_q *q, const nsr_space_tree *t) {
  int i = 0;
  return space_q_log(s, q, t->prog, &i, 0, q->root_need, s->max_size);
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
  double lq = space_q_init(s, guide, NULL, &q, &err) == NSR_OK ? space_q_tree_log(s, &q, t) : NAN;
  space_q_free(&q);
  return lq;
}

typedef struct ranked {
  double log_p;
  uint16_t k;
} ranked;

/* Most probable first; ties by production index (qsort is not stable). */
static int by_log_p(const void *a, const void *b) {
  const ranked *x = a, *y = b;
  if (x->log_p != y->log_p) return x->log_p > y->log_p ? -1 : 1;
  return (x->k > y->k) - (x->k < y->k);
}

/* order[0..np) = the productions by decreasing lp (space_q_walk's order). */
static void rank_row(const double *lp, size_t np, uint16_t *order) {
  ranked r[SPACE_MAX_PRODUCTIONS] = {{0}};
  for (size_t k = 0; k < np; k++) r[k] = (ranked){lp[k], (uint16_t)k};
  qsort(r, np, sizeof *r, by_log_p);
  for (size_t k = 0; k < np; k++) order[k] = r[k].k;
}

/* Whether production k may meet need (mask: X; NULL meets every need): a
 * primitive when its extension holds or avoids X; a unary operation
 * holding X only when X lies within its image over 1..N (plus k: every
 * x > k; times k: every x a multiple of k); binary ones always may. */
static bool may_meet(const nsr_space *s, size_t k, int need, const uint64_t *mask) {
  const production *p = &s->prods[k];
  if (mask == NULL || need == SPACE_NEED_ANY || p->kind == PROD_BINARY) return true;
  uint64_t image[SPACE_WORDS_MAX], all[SPACE_WORDS_MAX] = {0};
  const uint64_t *e = s->prim + k * s->words;
  if (p->kind == PROD_UNARY) {
    if (need == SPACE_NEED_AVOID) return true;
    for (uint32_t y = 1; y <= s->max; y++) all[y / 64] |= UINT64_C(1) << (y % 64);
    space_apply(p, s->max, all, NULL, image, s->words);
    e = image;
  }
  for (size_t i = 0; i < s->words; i++) {
    if (need == SPACE_NEED_HOLD ? (e[i] & mask[i]) != mask[i] : (e[i] & mask[i]) != 0) return false;
  }
  return true;
}

/* meets[k * SPACE_NEEDS + need] = may_meet(s, k, need, mask): the same for
 * every row and arity class, so worked out once per q. */
static void fill_meets(const nsr_space *s, const uint64_t *mask, bool *meets) {
  for (size_t k = 0; k < s->n_prods; k++) {
    for (int need = 0; need < SPACE_NEEDS; need++) meets[k * SPACE_NEEDS + (size_t)need] = may_meet(s, k, need, mask);
  }
}

/* Fills table t of row lp (row `row`, arity class c, need) with the
 * productions that fit c and may meet the need (meets: fill_meets), all
 * that fit c when none may. */
static void fill_table(const nsr_space *s, space_q *q, size_t row, int c, int need, const bool *meets) {
  size_t np = s->n_prods, t = q_table(row, c, need);
  const double *lp = q->log_p + row * np;
  double w[SPACE_MAX_PRODUCTIONS] = {0}, fit = 0.0;
  for (int pass = 0; pass < 2 && fit == 0.0; pass++) {
    for (size_t k = 0; k < np; k++) {
      bool in = space_arity(&s->prods[k]) <= c && (pass == 1 || meets[k * SPACE_NEEDS + (size_t)need]);
      w[k] = in ? exp(lp[k]) : 0.0;
      fit += w[k];
    }
  }
  q->log_fit[t] = log(fit);
  for (size_t k = 0; k < np; k++) {
    q->member[t * np + k] = w[k] > 0;
    if (w[k] > 0) q->log_fit[t] = fmax(q->log_fit[t], lp[k]);
  }
  q->m[t] = space_alias_build(w, np, q->prob + t * np, q->col + t * np, q->alias + t * np);
}

/* Fills row r of q from the guide's row g[0..np) (finite, checked). */
static void fill_row(const nsr_space *s, space_q *q, size_t r, const double *g, const bool *meets) {
  size_t np = s->n_prods;
  double *lp = q->log_p + r * np;
  double lse = log_sum_exp(g, np);
  for (size_t k = 0; k < np; k++) lp[k] = g[k] - lse;
  rank_row(lp, np, q->order + r * np);
  for (int c = 0; c < 3; c++) {
    for (int need = 0; need < SPACE_NEEDS; need++) fill_table(s, q, r, c, need, meets);
  }
}

/* q->child_need from space_operand_need. */
static void fill_child_needs(const nsr_space *s, space_q *q) {
  for (size_t k = 0; k < s->n_prods; k++) {
    for (int j = 0; j < 2; j++) {
      for (int need = 0; need < SPACE_NEEDS; need++) {
        int child = j < space_arity(&s->prods[k]) ? space_operand_need(&s->prods[k], j, need) : SPACE_NEED_ANY;
        q->child_need[(k * 2 + (size_t)j) * SPACE_NEEDS + (size_t)need] = (uint8_t)child;
      }
    }
  }
}

/* Checks the guide's shape and weights (see space_q_init). */
static nsr_code check_guide(const nsr_space *s, const nsr_space_guide *guide, size_t rows, nsr_error *err) {
  size_t np = s->n_prods, contexts = nsr_space_guide_contexts(s);
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
  return NSR_OK;
}

nsr_code space_q_init(const nsr_space *s, const nsr_space_guide *guide, const uint64_t *mask, space_q *q,
                      nsr_error *err) {
  size_t np = s->n_prods, rows = guide->rows <= 1 ? 1 : guide->rows, tables = rows * 3 * SPACE_NEEDS;
  nsr_code rc = check_guide(s, guide, rows, err);
  if (rc != NSR_OK) return rc;
  q->rows = rows;
  q->root_need = mask ? SPACE_NEED_HOLD : SPACE_NEED_ANY;
  q->ctx_base = nsr_mallocarray(np, sizeof *q->ctx_base);
  q->child_need = nsr_mallocarray(np * 2 * SPACE_NEEDS, sizeof *q->child_need);
  q->log_p = nsr_mallocarray(rows * np, sizeof *q->log_p);
  q->log_fit = nsr_mallocarray(tables, sizeof *q->log_fit);
  q->prob = nsr_mallocarray(tables * np, sizeof *q->prob);
  q->col = nsr_mallocarray(tables * np, sizeof *q->col);
  q->alias = nsr_mallocarray(tables * np, sizeof *q->alias);
  q->m = nsr_mallocarray(tables, sizeof *q->m);
  q->order = nsr_mallocarray(rows * np, sizeof *q->order);
  q->member = nsr_mallocarray(tables * np, sizeof *q->member);
  if (!q->ctx_base || !q->child_need || !q->log_p || !q->log_fit || !q->prob || !q->col || !q->alias || !q->m ||
      !q->order || !q->member) {
    space_q_free(q);
    return nsr_fail(err, NSR_ERR_NOMEM, "guide: out of memory");
  }
  context_bases(s, q->ctx_base);
  fill_child_needs(s, q);
  bool meets[SPACE_MAX_PRODUCTIONS * SPACE_NEEDS];
  fill_meets(s, mask, meets);
  for (size_t r = 0; r < rows; r++) fill_row(s, q, r, guide->log_q + r * np, meets);
  return NSR_OK;
}

void space_q_free(space_q *q) {
  nsr_free(q->ctx_base);
  nsr_free(q->child_need);
  nsr_free(q->log_p);
  nsr_free(q->log_fit);
  nsr_free(q->prob);
  nsr_free(q->col);
  nsr_free(q->alias);
  nsr_free(q->m);
  nsr_free(q->order);
  nsr_free(q->member);
  *q = (space_q){0};
}

nsr_code space_check_examples(const nsr_space *s, const uint32_t *x, size_t n, nsr_error *err) {
  if (n == 0) return nsr_fail(err, NSR_ERR_INVALID, "no examples given");
  for (size_t i = 0; i < n; i++) {
    if (x[i] < 1 || x[i] > s->max) return nsr_fail(err, NSR_ERR_RANGE, "example %u is outside 1..%u", x[i], s->max);
  }
  return NSR_OK;
}
