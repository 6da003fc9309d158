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
 * all complete within B).
 *
 * Needs. Given X, each node also has a need (H, V): its extension must
 * hold H and avoid V for the tree to contain X (operand_need: the
 * root (X, ∅); an operand's need follows from its parent's and, for a
 * binary operation's second operand, from the extension of the first,
 * drawn by then: A ∪ B ⊇ H needs B ⊇ H \ A). A node chooses only among
 * the productions that may meet its need (a primitive: H ⊆ ext, ext ∩ V
 * = ∅; a unary operation: H within its image; a binary one: always), its
 * row renormalised over them; over all the room allows when none may. The
 * need is a function of the prefix of the tree before the node, so the
 * product above is still a chain of normalised choices: q sums to 1, its
 * log q is exact for any tree (space_q_log recomputes the needs from the
 * operands' extensions), and every tree that contains X meets every need,
 * so only trees that cannot contain X lose mass. The needs (∅, ∅), (X, ∅)
 * and (∅, X) have tables made once, and the needs their operands get
 * without depending on operand 0 are worked out once (fill_fixed); any
 * other need's table is one of a small cache keyed by (row, room class, H,
 * V), filled when met (the same weights give the same table to the last
 * bit, so a refill changes no log q). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

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

/* The static needs, in the order of their tables. */
enum { NEED_ANY, NEED_HOLD_X, NEED_AVOID_X, STATIC_NEEDS };

static const space_need no_need; /* (∅, ∅) */

/* Which static need `need` is, or −1. */
static inline int static_need(const space_q *q, const space_need *need) {
  bool h0 = true, hx = true, v0 = true, vx = true;
  for (size_t i = 0; i < q->words; i++) {
    h0 &= need->hold[i] == 0;
    hx &= need->hold[i] == q->x[i];
    v0 &= need->avoid[i] == 0;
    vx &= need->avoid[i] == q->x[i];
  }
  if (h0 && v0) return NEED_ANY;
  if (hx && v0) return NEED_HOLD_X;
  return h0 && vx ? NEED_AVOID_X : -1;
}

/* Whether production k may meet need: a primitive when its extension
 * holds H and avoids V; a unary operation when H lies within its image
 * (its operand can then avoid the preimage of V, disjoint from H's);
 * binary ones always. */
static bool may_meet(const nsr_space *s, const space_q *q, size_t k, const space_need *need) {
  prod_kind kind = s->prods[k].kind;
  if (kind == PROD_BINARY) return true;
  const uint64_t *e = q->reach + k * q->words;
  for (size_t i = 0; i < q->words; i++) {
    if ((need->hold[i] & ~e[i]) != 0 || (kind == PROD_PRIMITIVE && (need->avoid[i] & e[i]) != 0)) return false;
  }
  return true;
}

/* Fills table t with row `row` restricted to arity class c and to the
 * productions that may meet need, all that fit c when none may. */
static void fill_table(const nsr_space *s, const space_q *q, size_t t, size_t row, int c, const space_need *need) {
  size_t np = s->n_prods;
  const double *lp = q->log_p + row * np, *wr = q->w + row * np;
  double *w = q->wbuf, fit = 0.0;
  for (int pass = 0; pass < 2 && fit == 0.0; pass++) {
    for (size_t k = 0; k < np; k++) {
      bool in = space_arity(&s->prods[k]) <= c && (pass == 1 || may_meet(s, q, k, need));
      w[k] = in ? wr[k] : 0.0;
      fit += w[k];
    }
  }
  q->log_fit[t] = log(fit);
  for (size_t k = 0; k < np; k++) {
    q->member[t * np + k] = w[k] > 0;
    if (w[k] > 0) q->log_fit[t] = fmax(q->log_fit[t], lp[k]);
  }
  q->m[t] = space_alias_build(w, np, q->cols + t * np);
}

/* The cache slot of (tag, need). */
static size_t slot_of(const space_q *q, uint64_t tag, const space_need *need) {
  uint64_t h = tag * UINT64_C(0x9E3779B97F4A7C15);
  for (size_t i = 0; i < q->words; i++) {
    h = (h ^ need->hold[i]) * UINT64_C(0xFF51AFD7ED558CCD);
    h = (h ^ (h >> 29) ^ need->avoid[i]) * UINT64_C(0xC4CEB9FE1A85EC53);
  }
  return (size_t)(h ^ (h >> 32)) & (q->slots - 1);
}

/* Whether the first `words` words of a and b are equal. */
static inline bool words_equal(const uint64_t *a, const uint64_t *b, size_t words) {
  for (size_t i = 0; i < words; i++) {
    if (a[i] != b[i]) return false;
  }
  return true;
}

/* The table of row `row`, arity class c and need, whose static_need is
 * `which`: a static one, or the cache slot of a dynamic one (filled first
 * when it holds another). A slot's table stays valid only until the next
 * lookup. */
static size_t q_table(const nsr_space *s, const space_q *q, size_t row, int c, const space_need *need, int which) {
  if (which >= 0) return (row * 3 + (size_t)c) * STATIC_NEEDS + (size_t)which;
  uint64_t tag = row * 3 + (uint64_t)c + 1;
  size_t slot = slot_of(q, tag, need), words = q->words;
  uint64_t *key = q->slot_key + slot * (2 * words + 1);
  if (key[0] != tag || !words_equal(key + 1, need->hold, words) || !words_equal(key + 1 + words, need->avoid, words)) {
    key[0] = tag;
    memcpy(key + 1, need->hold, words * sizeof *key);
    memcpy(key + 1 + words, need->avoid, words * sizeof *key);
    fill_table(s, q, q->n_static + slot, row, c, need);
  }
  return q->n_static + slot;
}

/* The log q of choosing production k from table t: never positive
 * (fill_table keeps log_fit ≥ every log_p it holds), so a tree's log q,
 * summed node by node in prefix order, never rises: the order
 * space_q_grow and space_q_walk both add in, so they agree to the last bit
 * on which trees reach a threshold. */
static inline double q_term(const space_q *q, size_t np, size_t row, size_t k, size_t t) {
  return q->log_p[row * np + k] - q->log_fit[t];
}

/* The need of operand j of production k at a node of need (H, V), given
 * `first`, the extension of operand 0, for operand 1 of a binary
 * operation (NULL when uses_first is false; unused otherwise):
 *   A ∪ B:  A (∅, V);  B (H \ A, V)
 *   A ∩ B:  A (H, ∅);  B (H, V ∩ A)
 *   A \ B:  A (H, ∅);  B (V ∩ A, H)
 *   op(A):  A (op⁻¹(H), op⁻¹(V))  (op(A) ⊇ H also needs H within op's image)
 * Each is exact: the node meets (H, V) iff its operands meet theirs (and
 * H lies within op's image), so every operand of a node meeting its need
 * meets its own. */
static void operand_need(const nsr_space *s, const space_q *q, size_t k, int j, const space_need *need,
                         const uint64_t *first, space_need *out) {
  const uint64_t *h = need->hold, *v = need->avoid;
  size_t words = q->words;
  switch (q->op[k]) {
    case SPACE_SET_UNION:
      for (size_t i = 0; i < words; i++) out->hold[i] = j == 0 ? 0 : h[i] & ~(first ? first[i] : 0);
      memcpy(out->avoid, v, words * sizeof *v);
      return;
    case SPACE_SET_INTERSECTION:
      memcpy(out->hold, h, words * sizeof *h);
      for (size_t i = 0; i < words; i++) out->avoid[i] = j == 0 || !first ? 0 : v[i] & first[i];
      return;
    case SPACE_SET_DIFFERENCE:
      for (size_t i = 0; i < words; i++) {
        out->hold[i] = j == 0 ? h[i] : first ? v[i] & first[i] : 0;
        out->avoid[i] = j == 0 ? 0 : h[i];
      }
      return;
    default: /* unary */
      space_unapply(&s->prods[k], h, out->hold, words);
      space_unapply(&s->prods[k], v, out->avoid, words);
  }
}

/* Whether operand 1's need under binary production k depends on operand
 * 0's extension: a union that must hold something, an intersection or a
 * difference that must avoid something. */
static bool uses_first(const space_q *q, size_t k, const space_need *need) {
  const uint64_t *set = q->op[k] == SPACE_SET_UNION ? need->hold : need->avoid;
  for (size_t i = 0; i < q->words; i++) {
    if (set[i]) return true;
  }
  return false;
}

/* The need of operand 1 of binary production k at a node of need `need`,
 * operand 0 being the subtree at first (its extension evaluated when the
 * need depends on it; an empty one, whose tree is outside the support
 * anyway, counts as ∅). */
static void second_need(const nsr_space *s, const space_q *q, size_t k, const space_need *need,
                        const uint16_t *first, space_need *out) {
  uint64_t ext[SPACE_WORDS_MAX];
  bool uses = uses_first(q, k, need);
  int i = 0;
  if (uses && !space_tree_eval(s, first, &i, ext, q->scratch)) memset(ext, 0, sizeof ext);
  operand_need(s, q, k, 1, need, uses ? ext : NULL, out);
}

/* The need of operand j of production k at a node of need `need`, whose
 * static_need is `which` (operand 0 at first, for j = 1), with its own
 * static_need: from the needs fixed when q was made (fill_fixed) when the
 * parent's need is static and the operand's does not depend on operand 0,
 * else worked out into `set`. */
typedef struct q_child {
  space_need set;
  const space_need *need;
  int which;
} q_child;

/* child_need's work when the need is not fixed. */
static void child_work(const nsr_space *s, const space_q *q, size_t k, int j, const space_need *need,
                       const uint16_t *first, q_child *c) {
  if (j == 0) operand_need(s, q, k, 0, need, NULL, &c->set);
  else second_need(s, q, k, need, first, &c->set);
  c->need = &c->set;
  c->which = static_need(q, &c->set);
}

static inline void child_need(const nsr_space *s, const space_q *q, size_t k, int j, const space_need *need,
                              int which, const uint16_t *first, q_child *c) {
  int f = which >= 0 ? q->fixed_of[(k * 2 + (size_t)j) * STATIC_NEEDS + (size_t)which] : -1;
  if (f < 0) {
    child_work(s, q, k, j, need, first, c);
    return;
  }
  c->need = &q->fixed[f];
  c->which = q->fixed_which[f];
}

/* space_q_grow with lq, the log q so far, added to in prefix order; which
 * = static_need(q, need). */
static double q_grow_from(const nsr_space *s, const space_q *q, size_t ctx, const space_need *need, int which,
                          int room, nsr_rng *rng, uint16_t *out, int *len, double lq) {
  size_t np = s->n_prods, row = q_row(q, ctx), t = q_table(s, q, row, room_class(room), need, which);
  size_t k = space_alias_draw(q->cols + t * np, q->m[t], nsr_rng_uniform(rng));
  out[(*len)++] = (uint16_t)k;
  lq += q_term(q, np, row, k, t);
  int arity = q->arity[k], first = *len;
  if (arity == 0) return lq;
  q_child c;
  child_need(s, q, k, 0, need, which, NULL, &c);
  lq = q_grow_from(s, q, q->ctx_base[k], c.need, c.which, room - arity, rng, out, len, lq);
  if (arity == 2) {
    child_need(s, q, k, 1, need, which, out + first, &c);
    lq = q_grow_from(s, q, q->ctx_base[k] + 1u, c.need, c.which, room - 1 - (*len - first), rng, out, len, lq);
  }
  return lq;
}

double space_q_grow(const nsr_space *s, const space_q *q, size_t ctx, const space_need *need, int room,
                    nsr_rng *rng, uint16_t *out, int *len) {
  if (need == NULL) need = &no_need;
  return q_grow_from(s, q, ctx, need, static_need(q, need), room, rng, out, len, 0.0);
}

/* An operand still to come in space_q_walk: its context, and what its need
 * follows from (the need of its parent, production prod, whose operand 0
 * starts at t.prog[first]); prod = UINT16_MAX at the root, whose need is
 * `parent` itself. */
typedef struct q_pending {
  uint16_t ctx, prod;
  int operand, first;
  space_need parent;
} q_pending;

/* The state of space_q_walk: the tree built so far and the operands still
 * to come (next on top). */
typedef struct q_walk {
  const nsr_space *s;
  const space_q *q;
  double log_tau;
  nsr_space_tree t;
  q_pending pending[NSR_SPACE_TREE_MAX + 1];
  int top;
  space_q_visit visit;
  void *arg;
} q_walk;

/* Pushes the operands of production k, placed at t.prog[at] with need
 * `need`, operand 0 on top. */
static void walk_push(q_walk *w, size_t k, int at, const space_need *need) {
  for (int j = space_arity(&w->s->prods[k]) - 1; j >= 0; j--) {
    w->pending[w->top++] = (q_pending){.ctx = (uint16_t)(w->q->ctx_base[k] + (size_t)j), .prod = (uint16_t)k,
                                       .operand = j, .first = at + 1, .parent = *need};
  }
}

/* The need of pending operand e, every operand before it placed. */
static void pending_need(const q_walk *w, const q_pending *e, space_need *need) {
  if (e->prod == UINT16_MAX) {
    *need = e->parent;
    return;
  }
  if (e->operand == 1) second_need(w->s, w->q, e->prod, &e->parent, w->t.prog + e->first, need);
  else operand_need(w->s, w->q, e->prod, 0, &e->parent, NULL, need);
}

/* Extends w->t (log q so far lq ≥ log_tau) at its next pending operand by
 * every production that keeps log q ≥ log_tau, most probable first, and
 * visits each completed tree; false as soon as a visit does. A node's room
 * is what max_size leaves after the symbols placed and one for each operand
 * still pending, the room space_q_grow gives it. */
static bool walk_node(q_walk *w, double lq) {
  if (w->top == 0) return w->visit(w->arg, &w->t, lq);
  const space_q *q = w->q;
  q_pending e = w->pending[--w->top];
  space_need need;
  pending_need(w, &e, &need);
  size_t np = w->s->n_prods, row = q_row(q, e.ctx);
  int c = room_class(w->s->max_size - w->t.len - w->top);
  int which = static_need(q, &need);
  size_t t = q_table(w->s, q, row, c, &need, which);
  bool ok = true;
  for (size_t r = 0; r < np && ok; r++) {
    size_t k = q->order[row * np + r];
    double l = lq + q_term(q, np, row, k, t);
    if (l < w->log_tau) break; /* the rest of the row is no more probable */
    if (!q->member[t * np + k]) continue;
    w->t.prog[w->t.len++] = (uint16_t)k;
    walk_push(w, k, w->t.len - 1, &need);
    ok = walk_node(w, l);
    w->top -= space_arity(&w->s->prods[k]);
    w->t.len--;
    if (which < 0) t = q_table(w->s, q, row, c, &need, which); /* the walk below may have refilled its slot */
  }
  w->pending[w->top++] = e;
  return ok;
}

bool space_q_walk(const nsr_space *s, const space_q *q, double log_tau, space_q_visit visit, void *arg) {
  q_walk w = {.s = s, .q = q, .log_tau = log_tau, .visit = visit, .arg = arg, .top = 1};
  w.pending[0] = (q_pending){.prod = UINT16_MAX, .parent = q->root};
  return walk_node(&w, 0.0);
}

/* space_q_log with need never NULL and which = static_need(q, need)
 * (needs handed down as q_grow_from does). */
static double q_log_from(const nsr_space *s, const space_q *q, const uint16_t *prog, int *i, size_t ctx,
                         const space_need *need, int which, int room) {
  size_t np = s->n_prods, k = prog[(*i)++], row = q_row(q, ctx);
  int arity = space_arity(&s->prods[k]), first = *i;
  if (arity > room - 1) return -INFINITY;
  size_t t = q_table(s, q, row, room_class(room), need, which);
  if (!q->member[t * np + k]) return -INFINITY;
  double lq = q_term(q, np, row, k, t);
  if (arity == 0) return lq;
  q_child c;
  child_need(s, q, k, 0, need, which, NULL, &c);
  lq += q_log_from(s, q, prog, i, q->ctx_base[k], c.need, c.which, room - arity);
  if (arity == 2 && lq != -INFINITY) {
    child_need(s, q, k, 1, need, which, prog + first, &c);
    lq += q_log_from(s, q, prog, i, q->ctx_base[k] + 1u, c.need, c.which, room - 1 - (*i - first));
  }
  return lq;
}

double space_q_log(const nsr_space *s, const space_q *q, const uint16_t *prog, int *i, size_t ctx,
                   const space_need *need, int room) {
  if (need == NULL) need = &no_need;
  return q_log_from(s, q, prog, i, ctx, need, static_need(q, need), room);
}

double space_q_tree_log(const nsr_space *s, const space_q *q, const nsr_space_tree *t) {
  int i = 0;
  return q_log_from(s, q, t->prog, &i, 0, &q->root, static_need(q, &q->root), s->max_size);
}

size_t space_q_context(const nsr_space *s, const space_q *q, const nsr_space_tree *t, int node) {
  uint16_t ctx[NSR_SPACE_TREE_MAX];
  tree_contexts(s, q->ctx_base, t, ctx);
  return ctx[node];
}

/* log q(t | X) of a whole tree, X given as bits (NULL: unrestricted). */
static double guide_log_q(const nsr_space *s, const nsr_space_guide *guide, const uint64_t *mask,
                          const nsr_space_tree *t) {
  if (!space_tree_valid(s, t) || t->len > s->max_size) return t->len > s->max_size ? -INFINITY : NAN;
  space_q q = {0};
  nsr_error err;
  double lq = space_q_init(s, guide, mask, &q, &err) == NSR_OK ? space_q_tree_log(s, &q, t) : NAN;
  space_q_free(&q);
  return lq;
}

double nsr_space_guide_log_q(const nsr_space *s, const nsr_space_guide *guide, const nsr_space_tree *t) {
  return guide_log_q(s, guide, NULL, t);
}

double nsr_space_guide_log_q_given(const nsr_space *s, const nsr_space_guide *guide, const uint32_t *x, size_t n,
                                   const nsr_space_tree *t) {
  nsr_error err;
  if (space_check_examples(s, x, n, &err) != NSR_OK) return NAN;
  uint64_t mask[SPACE_WORDS_MAX];
  space_examples_mask(s, x, n, mask);
  return guide_log_q(s, guide, mask, t);
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

/* Fills row r of q and its static tables from the guide's row g[0..np)
 * (finite, checked). */
static void fill_row(const nsr_space *s, space_q *q, size_t r, const double *g) {
  size_t np = s->n_prods;
  double *lp = q->log_p + r * np;
  double lse = log_sum_exp(g, np);
  for (size_t k = 0; k < np; k++) {
    lp[k] = g[k] - lse;
    q->w[r * np + k] = exp(lp[k]);
  }
  rank_row(lp, np, q->order + r * np);
  space_need hold = {.hold = {0}}, avoid = {.hold = {0}};
  memcpy(hold.hold, q->x, q->words * sizeof *q->x);
  memcpy(avoid.avoid, q->x, q->words * sizeof *q->x);
  const space_need *needs[STATIC_NEEDS] = {&no_need, &hold, &avoid};
  for (int c = 0; c < 3; c++) {
    for (int which = 0; which < STATIC_NEEDS; which++) {
      fill_table(s, q, (r * 3 + (size_t)c) * STATIC_NEEDS + (size_t)which, r, c, needs[which]);
    }
  }
}

/* q->reach: each primitive's extension, each unary operation's image of 1..N. */
static void fill_reach(const nsr_space *s, space_q *q) {
  uint64_t all[SPACE_WORDS_MAX] = {0};
  for (uint32_t y = 1; y <= s->max; y++) all[y / 64] |= UINT64_C(1) << (y % 64);
  for (size_t k = 0; k < s->n_prods; k++) {
    const production *p = &s->prods[k];
    uint64_t *e = q->reach + k * s->words;
    if (p->kind == PROD_PRIMITIVE) memcpy(e, s->prim + k * s->words, s->words * sizeof *e);
    else if (p->kind == PROD_UNARY) space_apply(p, s->max, all, NULL, e, s->words);
    else memset(e, 0, s->words * sizeof *e);
  }
}

/* q->fixed: the static needs (∅, ∅), (X, ∅), (∅, X), then every other need
 * an operand gets from a parent of static need without depending on operand
 * 0 (a unary operation's preimages of X), each with its static_need in
 * fixed_which; q->fixed_of maps (k, j, the parent's static need) to it, −1
 * when the operand's need depends on operand 0. */
static void fill_fixed(const nsr_space *s, space_q *q) {
  memset(&q->fixed[NEED_HOLD_X], 0, 2 * sizeof *q->fixed);
  memcpy(q->fixed[NEED_HOLD_X].hold, q->x, q->words * sizeof *q->x);
  memcpy(q->fixed[NEED_AVOID_X].avoid, q->x, q->words * sizeof *q->x);
  q->fixed[NEED_ANY] = no_need;
  size_t n = STATIC_NEEDS;
  for (int which = 0; which < STATIC_NEEDS; which++) q->fixed_which[which] = which;
  for (size_t k = 0; k < s->n_prods; k++) {
    for (int j = 0; j < 2; j++) {
      for (int which = 0; which < STATIC_NEEDS; which++) {
        int16_t *f = &q->fixed_of[(k * 2 + (size_t)j) * STATIC_NEEDS + (size_t)which];
        const space_need *need = &q->fixed[which];
        *f = -1;
        if (j >= space_arity(&s->prods[k]) || (j == 1 && uses_first(q, k, need))) continue;
        operand_need(s, q, k, j, need, NULL, &q->fixed[n]);
        int w = static_need(q, &q->fixed[n]);
        q->fixed_which[n] = (int16_t)w;
        *f = (int16_t)(w >= 0 ? (size_t)w : n++);
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

/* Cache slots for the dynamic needs' tables: a power of two, about
 * SPACE_Q_CACHE_BYTES of tables at most (a table takes 13 bytes per
 * production). */
#define SPACE_Q_CACHE_BYTES (4u << 20)
static size_t cache_slots(size_t np) {
  size_t slots = 1024;
  while (slots > 16 && slots * np * 13 > SPACE_Q_CACHE_BYTES) slots /= 2;
  return slots;
}

nsr_code space_q_init(const nsr_space *s, const nsr_space_guide *guide, const uint64_t *mask, space_q *q,
                      nsr_error *err) {
  size_t np = s->n_prods, rows = guide->rows <= 1 ? 1 : guide->rows;
  nsr_code rc = check_guide(s, guide, rows, err);
  if (rc != NSR_OK) return rc;
  q->rows = rows;
  q->words = s->words;
  memset(q->x, 0, sizeof q->x);
  if (mask) memcpy(q->x, mask, s->words * sizeof *mask);
  q->root = (space_need){.hold = {0}};
  memcpy(q->root.hold, q->x, s->words * sizeof *q->x);
  q->n_static = rows * 3 * STATIC_NEEDS;
  q->slots = cache_slots(np);
  size_t tables = q->n_static + q->slots;
  q->ctx_base = nsr_mallocarray(np, sizeof *q->ctx_base);
  q->op = nsr_mallocarray(np, sizeof *q->op);
  q->arity = nsr_mallocarray(np, sizeof *q->arity);
  q->log_p = nsr_mallocarray(rows * np, sizeof *q->log_p);
  q->w = nsr_mallocarray(rows * np, sizeof *q->w);
  q->wbuf = nsr_mallocarray(np, sizeof *q->wbuf);
  q->reach = nsr_mallocarray(np * s->words, sizeof *q->reach);
  q->slot_key = nsr_calloc(q->slots * (2 * s->words + 1), sizeof *q->slot_key);
  q->log_fit = nsr_mallocarray(tables, sizeof *q->log_fit);
  q->cols = nsr_mallocarray(tables * np, sizeof *q->cols);
  q->m = nsr_mallocarray(tables, sizeof *q->m);
  q->order = nsr_mallocarray(rows * np, sizeof *q->order);
  q->member = nsr_mallocarray(tables * np, sizeof *q->member);
  q->scratch = nsr_mallocarray(SPACE_EVAL_SCRATCH, sizeof *q->scratch);
  size_t unary = 0;
  for (size_t k = 0; k < np; k++) unary += s->prods[k].kind == PROD_UNARY;
  /* each unary operation adds at most two (under (X, ∅) and (∅, X)), and one scratch */
  q->fixed = nsr_mallocarray(STATIC_NEEDS + 2 * unary + 1, sizeof *q->fixed);
  q->fixed_which = nsr_mallocarray(STATIC_NEEDS + 2 * unary + 1, sizeof *q->fixed_which);
  q->fixed_of = nsr_mallocarray(np * 2 * STATIC_NEEDS, sizeof *q->fixed_of);
  if (!q->ctx_base || !q->op || !q->arity || !q->log_p || !q->w || !q->wbuf || !q->reach || !q->slot_key || !q->log_fit || !q->cols || !q->m || !q->order || !q->member || !q->scratch ||
      !q->fixed || !q->fixed_which || !q->fixed_of) {
    space_q_free(q);
    return nsr_fail(err, NSR_ERR_NOMEM, "guide: out of memory");
  }
  context_bases(s, q->ctx_base);
  for (size_t k = 0; k < np; k++) {
    q->op[k] = (uint8_t)space_set_op_of(&s->prods[k]);
    q->arity[k] = (uint8_t)space_arity(&s->prods[k]);
  }
  fill_reach(s, q);
  fill_fixed(s, q);
  for (size_t r = 0; r < rows; r++) fill_row(s, q, r, guide->log_q + r * np);
  return NSR_OK;
}

void space_q_free(space_q *q) {
  nsr_free(q->ctx_base);
  nsr_free(q->op);
  nsr_free(q->arity);
  nsr_free(q->log_p);
  nsr_free(q->w);
  nsr_free(q->wbuf);
  nsr_free(q->reach);
  nsr_free(q->slot_key);
  nsr_free(q->log_fit);
  nsr_free(q->cols);
  nsr_free(q->m);
  nsr_free(q->order);
  nsr_free(q->member);
  nsr_free(q->scratch);
  nsr_free(q->fixed);
  nsr_free(q->fixed_which);
  nsr_free(q->fixed_of);
  *q = (space_q){0};
}

nsr_code space_check_examples(const nsr_space *s, const uint32_t *x, size_t n, nsr_error *err) {
  if (n == 0) return nsr_fail(err, NSR_ERR_INVALID, "no examples given");
  for (size_t i = 0; i < n; i++) {
    if (x[i] < 1 || x[i] > s->max) return nsr_fail(err, NSR_ERR_RANGE, "example %u is outside 1..%u", x[i], s->max);
  }
  return NSR_OK;
}
