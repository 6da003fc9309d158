/* space_mh.c: Metropolis-Hastings over the expression trees of a space's
 * grammar, for spaces too large to enumerate, optionally guided by a
 * grammar conditioned on the examples (nsr_space_guide); method
 * NSR_MH_IMPORTANCE hands over to space_importance.c.
 *
 * Target: π(t | X) ∝ p(t)·L(t) over the support S of trees of at most
 * max_size = B symbols with no empty sub-expression, where p(t) = Π_{k ∈ t} w_k
 * and L(t) = |ext(t)|^(−γ1 − γ(n − 1))·[X ⊆ ext(t)]: exactly the grammar
 * component of the enumerated space.
 *
 * Kernel: with probability m (guide_mix; 0 without a guide) an independence
 * proposal from the guide, else a subtree regeneration (with a guide, from
 * q or from the PCFG, probability 1/2 each). Each kernel alone
 * satisfies detailed balance with respect to π, and which one runs does
 * not depend on the state, so their mixture does too.
 *
 * Regeneration: pick one of the |t| nodes uniformly and regrow its subtree
 * s → s' from the PCFG with rule probabilities w_k / W (W = Σ_k w_k):
 * Q(t → t') = Π_{k ∈ s'} (w_k / W) / |t|, and the reverse move picks the same
 * node (the prefix before it is unchanged) and regrows s:
 * Q(t' → t) = Π_{k ∈ s} (w_k / W) / |t'|. With p(t')/p(t) = Π_{s'} w_k / Π_s w_k,
 *   A = p(t')L(t')Q(t' → t) / (p(t)L(t)Q(t → t')) = W^(|t'| − |t|) · L(t')/L(t) · |t|/|t'|.
 *
 * Independence: t' ~ q(· | X), the guide's grammar (space_guide.c: it
 * draws only trees of at most B symbols and its log q is exact):
 * Q(t → t') = q(t'), so
 *   A = p(t')L(t')q(t) / (p(t)L(t)q(t')) = ω(t')/ω(t),  ω = p·L/q,
 * the importance weight of space_importance.c.
 *
 * Guided regeneration (with a guide, half of the regeneration steps): pick
 * one of the |t| nodes uniformly, with context c (space_guide.c) and room
 * r = B − (|t| − |s|) (the symbols its subtree s may take), and regrow s'
 * from q at c with room r: Q(t → t') = q(s' | c, r) / |t|. The reverse
 * move picks the same node, whose context and room are the same in t'
 * (the rest of the tree is unchanged), so Q(t' → t) = q(s | c, r) / |t'| and
 *   A = p(t')L(t') q(s | c, r) |t| / (p(t)L(t) q(s' | c, r) |t'|).
 *
 * Truncation: a proposal outside S — a regeneration from the PCFG grown
 * past the symbols left (B minus the rest of the tree), a tree with an
 * empty sub-expression, or one not containing X — has π(t') = 0 and is
 * rejected: the chain stays. That is the Metropolis-Hastings rule itself
 * for a target that is zero there, so the unrestricted PCFG's density
 * above is the right one, and no normaliser of the PCFG over S is needed
 * (abandoning a subtree once it outgrows the budget rejects exactly the
 * trees that would have outgrown it). */
#include <math.h>
#include <string.h>

#include "space.h"

#define MH_INIT_TRIES 1000000

typedef struct chain {
  const nsr_space *s;
  const uint64_t *mask;
  int budget;
  nsr_rng rng;
  const space_q *q; /* NULL: regeneration only */
  double mix;
  uint64_t scratch[SPACE_EVAL_SCRATCH];
  double ll_size[NSR_SPACE_MAX_N + 1]; /* space_size_loglik */
} chain;

/* log L(t) when t ∈ S and ext ⊇ X (ext receives the extension); −∞ otherwise. */
static double log_likelihood(chain *c, const nsr_space_tree *t, uint64_t *ext) {
  const nsr_space *s = c->s;
  int i = 0;
  if (!space_tree_eval(s, t->prog, &i, ext, c->scratch)) return -INFINITY;
  for (size_t k = 0; k < s->words; k++) {
    if ((ext[k] & c->mask[k]) != c->mask[k]) return -INFINITY;
  }
  return c->ll_size[space_popcount(ext, s->words)];
}

/* log p(t) = Σ_{k ∈ t} log w_k. */
static double log_prior(const nsr_space *s, const nsr_space_tree *t) {
  return space_tree_sum(s->pcfg_log_p, t) + t->len * s->log_w_total;
}

/* log ω(t) = log p(t) + log L(t) − log q(t). */
static double log_omega(const chain *c, const nsr_space_tree *t, double ll) {
  return log_prior(c->s, t) + ll - space_q_tree_log(c->s, c->q, t);
}

/* A regeneration of a uniformly chosen subtree s of t into p (new subtree
 * s'): from the PCFG (q NULL; false when it outgrows the budget) or from q
 * at the node's context c and room r; *log_q_ratio = log of the proposal
 * probability of s over that of s' (q(s | c, r) / q(s' | c, r) with q). */
static bool regenerate(chain *c, const space_q *q, const nsr_space_tree *t, nsr_space_tree *p, double *log_q_ratio) {
  int node = (int)nsr_rng_below(&c->rng, (uint64_t)t->len), end = space_subtree_end(c->s, t->prog, node);
  memcpy(p->prog, t->prog, (size_t)node * sizeof *p->prog);
  p->len = node;
  int rest = t->len - end; /* symbols after the subtree */
  *log_q_ratio = 0.0;
  if (q) {
    int room = c->budget - (t->len - (end - node)), i = node;
    size_t ctx = space_q_context(c->s, q, t, node);
    *log_q_ratio = space_q_log(c->s, q, t->prog, &i, ctx, NULL, room);
    *log_q_ratio -= space_q_grow(c->s, q, ctx, NULL, room, &c->rng, p->prog, &p->len);
  } else if (!space_tree_grow(c->s, &c->rng, p->prog, &p->len, c->budget - rest)) {
    return false;
  }
  memcpy(p->prog + p->len, t->prog + end, (size_t)rest * sizeof *p->prog);
  p->len += rest;
  /* From the PCFG: q(s) / q(s') with rule probabilities w_k / W (the rest cancels). */
  if (!q) *log_q_ratio = space_tree_sum(c->s->pcfg_log_p, t) - space_tree_sum(c->s->pcfg_log_p, p);
  return true;
}

/* The chain's state. */
typedef struct state {
  nsr_space_tree t;
  double ll, lw; /* log L(t); log ω(t) with a guide */
  uint64_t accepted, guide_made, guide_accepted;
} state;

/* One step of the kernel from st; true when it moved, its new extension
 * then in ext_new (scratch otherwise). */
static bool step(chain *c, state *st, uint64_t *ext_new) {
  bool independent = c->q && nsr_rng_uniform(&c->rng) < c->mix;
  nsr_space_tree p = {.len = 0};
  double log_a = 0.0;
  if (independent) {
    st->guide_made++;
    space_q_grow(c->s, c->q, 0, &c->q->root, c->budget, &c->rng, p.prog, &p.len);
  } else {
    const space_q *q = c->q && nsr_rng_uniform(&c->rng) < 0.5 ? c->q : NULL;
    if (!regenerate(c, q, &st->t, &p, &log_a)) return false;
  }
  double ll_new = log_likelihood(c, &p, ext_new);
  if (ll_new == -INFINITY) return false;
  double lw_new = c->q ? log_omega(c, &p, ll_new) : 0.0;
  if (independent) {
    log_a = lw_new - st->lw;
  } else {
    log_a += log_prior(c->s, &p) - log_prior(c->s, &st->t) + ll_new - st->ll + log((double)st->t.len / p.len);
  }
  if (!(log(nsr_rng_uniform(&c->rng)) < log_a)) return false;
  st->t = p;
  st->ll = ll_new;
  st->lw = lw_new;
  st->accepted++;
  st->guide_accepted += independent;
  return true;
}

/* A first tree in the support, grown from the PCFG; NSR_ERR_INVALID when
 * none is found. */
static nsr_code start(chain *c, state *st, uint64_t *ext, nsr_error *err) {
  memset(ext, 0, c->s->words * sizeof *ext); /* written by the first tree that fits */
  st->ll = -INFINITY;
  for (int tries = 0; st->ll == -INFINITY && tries < MH_INIT_TRIES; tries++) {
    st->t.len = 0;
    if (space_tree_grow(c->s, &c->rng, st->t.prog, &st->t.len, c->budget)) {
      st->ll = log_likelihood(c, &st->t, ext);
    }
  }
  if (st->ll == -INFINITY) {
    return nsr_fail(err, NSR_ERR_INVALID, "no expression of the grammar drawn in %d tries contains every example",
                    MH_INIT_TRIES);
  }
  st->lw = c->q ? log_omega(c, &st->t, st->ll) : 0.0;
  return NSR_OK;
}

/* counts[y] += run for every y in ext. */
static void add_counts(const nsr_space *s, const uint64_t *ext, uint64_t run, double *counts) {
  for (size_t k = 0; k < s->words && run > 0; k++) {
    for (uint64_t bits = ext[k]; bits; bits &= bits - 1) counts[k * 64 + (size_t)__builtin_ctzll(bits)] += (double)run;
  }
}

/* Runs burn-in and recorded steps: counts[y] += 1 per recorded step in an
 * extension holding y (added once per stay, when the chain leaves, since
 * most steps are rejected); visits (when v is not NULL) count the steps
 * spent in each extension. */
static nsr_code run_chain(chain *c, const nsr_mh_options *opt, double *counts, space_visits *v, state *st,
                          nsr_error *err) {
  const nsr_space *s = c->s;
  uint64_t buf[2 * SPACE_WORDS_MAX], *ext = buf, *ext_new = buf + s->words;
  nsr_code rc = start(c, st, ext, err);
  if (rc != NSR_OK) return rc;
  size_t cur = v ? space_visits_find(v, ext, space_popcount(ext, s->words), &st->t) : 0;
  uint64_t steps = opt->burn_in + opt->samples, run = 0; /* recorded steps in ext */
  for (uint64_t i = 0; i < steps && cur != SIZE_MAX; i++) {
    if (step(c, st, ext_new)) {
      add_counts(s, ext, run, counts);
      run = 0;
      uint64_t *left = ext;
      ext = ext_new, ext_new = left;
      if (v) cur = space_visits_find(v, ext, space_popcount(ext, s->words), &st->t);
    }
    if (i < opt->burn_in || cur == SIZE_MAX) continue;
    if (v) v->hits[cur] += 1.0;
    run++;
  }
  add_counts(s, ext, run, counts);
  if (cur == SIZE_MAX) return nsr_fail(err, NSR_ERR_NOMEM, "Metropolis-Hastings: out of memory counting visits");
  return NSR_OK;
}

/* Checks the options shared by both methods. */
static nsr_code check_options(const nsr_space *s, const uint32_t *x, size_t n, const nsr_mh_options *opt,
                              nsr_error *err) {
  nsr_code rc = space_check_examples(s, x, n, err);
  if (rc != NSR_OK) return rc;
  if (opt->top_k > 0 && opt->top == NULL) return nsr_fail(err, NSR_ERR_INVALID, "top_k without a top array");
  if (!(opt->guide_mix >= 0.0 && opt->guide_mix <= 1.0)) {
    return nsr_fail(err, NSR_ERR_RANGE, "guide_mix %g must lie in [0, 1]", opt->guide_mix);
  }
  if (opt->method != NSR_MH_CHAIN && opt->method != NSR_MH_IMPORTANCE) {
    return nsr_fail(err, NSR_ERR_INVALID, "unknown sampling method %d", (int)opt->method);
  }
  return NSR_OK;
}

nsr_code nsr_space_mh(const nsr_space *s, const uint32_t *x, size_t n, const nsr_mh_options *opt, double *g,
                      nsr_mh_report *rep, nsr_error *err) {
  nsr_code rc = check_options(s, x, n, opt, err);
  if (rc != NSR_OK) return rc;
  if (opt->method == NSR_MH_IMPORTANCE) return space_importance(s, x, n, opt, g, rep, err);
  memset(rep, 0, sizeof *rep);
  uint64_t mask[SPACE_WORDS_MAX];
  space_examples_mask(s, x, n, mask);
  chain c = {.s = s, .mask = mask, .budget = s->max_size};
  space_size_loglik(s, nsr_space_sampling_exponent(&s->params, n), c.ll_size);
  nsr_rng_seed(&c.rng, opt->seed);
  space_q q = {0};
  space_visits v = {0};
  bool counting = opt->top_k > 0;
  double *counts = nsr_calloc(s->max + 1, sizeof *counts);
  if (counts == NULL || (counting && !space_visits_init(&v, s->words))) {
    rc = nsr_fail(err, NSR_ERR_NOMEM, "Metropolis-Hastings: out of memory");
  }
  if (rc == NSR_OK && opt->guide) {
    rc = space_q_init(s, opt->guide, mask, &q, err);
    c.q = &q;
    c.mix = opt->guide_mix > 0 ? opt->guide_mix : 0.5;
  }
  uint64_t begin = nsr_now_ns();
  state st = {0};
  if (rc == NSR_OK) rc = run_chain(&c, opt, counts, counting ? &v : NULL, &st, err);
  if (rc == NSR_OK) {
    double secs = nsr_seconds_since(begin);
    uint64_t steps = opt->burn_in + opt->samples;
    for (uint32_t y = 1; y <= s->max; y++) g[y - 1] = opt->samples ? counts[y] / (double)opt->samples : 0.0;
    rep->samples = opt->samples;
    rep->acceptance = steps ? (double)st.accepted / (double)steps : 0.0;
    rep->guide_acceptance = st.guide_made ? (double)st.guide_accepted / (double)st.guide_made : 0.0;
    rep->samples_per_second = secs > 0 ? (double)steps / secs : INFINITY;
    if (counting && !space_visits_top(s, &v, (double)opt->samples, opt->top, opt->top_k, &rep->n_top, &rep->distinct)) {
      rc = nsr_fail(err, NSR_ERR_NOMEM, "Metropolis-Hastings: out of memory");
    }
  }
  space_q_free(&q);
  space_visits_free(&v);
  nsr_free(counts);
  return rc;
}
