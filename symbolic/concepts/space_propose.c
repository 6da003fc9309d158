/* space_propose.c: self-normalised importance sampling over expression
 * trees (nsr_space_mh's NSR_MH_IMPORTANCE) and a guide's proposals rescored
 * exactly (nsr_space_propose).
 *
 * Target, as in space_mh.c: π(t | X) ∝ p(t)L(t) on the support S, with
 * p(t) = Π_{k ∈ t} w_k. A tree drawn from a proposal r has weight
 * ω(t) = p(t)L(t)/r(t) when t ∈ S and 0 otherwise, and Σ_i ω(t_i) f(t_i) /
 * Σ_i ω(t_i) → E_π[f] for any r positive on S; unnormalised p and r do,
 * since their constants cancel in the ratio. With a guide, r = q(· | X).
 * Without one, r
 * is the prior itself restricted to trees of at most max_size symbols
 * (space_tree_draw_prior), r ∝ p on S, so ω ∝ L: likelihood weighting.
 * q draws only trees of at most max_size symbols (space_guide.c).
 *
 * Stratum. With a guide, the sums A_f = Σ_t p(t)L(t)f(t) of the ratio split
 * over T = {t : n·q(t) ≥ stratum} (n draws) and the rest: A_f =
 * Σ_{t ∈ T} p(t)L(t)f(t) + E_q[ω(t)f(t)[t ∉ T]]. The first is summed over
 * T (space_q_walk), the second estimated by the draws, those in T counting
 * zero; each is unbiased, so the ratio converges as before. This needs q
 * normalised (it is: q sums to 1, space_guide.c): the two parts are added
 * in the same units, the pool holding n·p(t)L(t) for a tree of T.
 *
 * Weights are pooled by extension (the visits table), kept as
 * exp(log ω − ref) with ref the largest log ω so far (rescaled when it
 * grows), so nothing overflows. */
#include <math.h>
#include <string.h>

#include "space.h"

typedef struct pool {
  space_visits v; /* hits: Σ exp(log ω − ref) per extension; draws: how many */
  double ref;     /* the largest log ω drawn */
  double sum, sum2;
  uint64_t valid; /* draws of positive weight */
} pool;

static void pool_rescale(pool *p, double ref) {
  double f = exp(p->ref - ref);
  p->sum *= f;
  p->sum2 *= f * f;
  for (size_t e = 0; e < p->v.n; e++) p->v.hits[e] *= f;
  p->ref = ref;
}

/* log p(t)L(t) (unnormalised p) of a tree t in S whose extension holds X
 * with log likelihood ll; from the prior (q NULL), ω ∝ L, so just ll. */
static double log_target(const nsr_space *s, const space_q *q, const nsr_space_tree *t, double ll) {
  if (q == NULL) return ll;
  return space_tree_sum(s->pcfg_log_p, t) + t->len * s->log_w_total + ll;
}

/* What a query's draws and stratum share: the examples, the likelihood of
 * each extension size, scratch for evaluating a tree. */
typedef struct query {
  const nsr_space *s;
  const space_q *q;
  uint64_t mask[SPACE_WORDS_MAX];
  double ll_size[NSR_SPACE_MAX_N + 1];
  double log_draws; /* log of the number of draws */
  pool *p;
  bool nomem;
} query;

static void query_init(const nsr_space *s, const uint32_t *x, size_t n, const space_q *q, uint64_t draws, pool *p,
                       query *c) {
  *c = (query){.s = s, .q = q, .log_draws = log((double)draws), .p = p};
  space_examples_mask(s, x, n, c->mask);
  space_size_loglik(s, nsr_space_sampling_exponent(&s->params, n), c->ll_size);
}

/* Adds tree t to the pool when it is in S and its extension holds X: with
 * log weight log_scale + log p(t)L(t) (a draw from q: log_scale = −log q(t)),
 * counted as `draws` draws and, when `sampled`, in Σω² (the stratum's exact
 * terms add no variance). False when out of memory. */
static bool pool_add(query *c, const nsr_space_tree *t, double log_scale, double draws, bool sampled) {
  const nsr_space *s = c->s;
  uint64_t ext[SPACE_WORDS_MAX], scratch[SPACE_EVAL_SCRATCH];
  int i = 0;
  if (!space_tree_eval(s, t->prog, &i, ext, scratch)) return true;
  for (size_t k = 0; k < s->words; k++) {
    if ((ext[k] & c->mask[k]) != c->mask[k]) return true;
  }
  uint32_t size = space_popcount(ext, s->words);
  pool *p = c->p;
  double lw = log_scale + log_target(s, c->q, t, c->ll_size[size]);
  if (lw > p->ref) pool_rescale(p, lw);
  double w = exp(lw - p->ref);
  size_t e = space_visits_find(&p->v, ext, size, t);
  if (e == SIZE_MAX) return false;
  p->v.hits[e] += w;
  p->v.draws[e] += draws;
  p->sum += w;
  p->sum2 += sampled ? w * w : 0.0;
  p->valid += sampled;
  return true;
}

/* A stratum tree t: weight p(t)L(t) in the draws' units, i.e. the
 * importance weight times n·q(t), its expected draws. */
static bool stratum_visit(void *arg, const nsr_space_tree *t, double log_q) {
  query *c = arg;
  c->nomem = !pool_add(c, t, c->log_draws, exp(c->log_draws + log_q), false);
  return !c->nomem;
}

/* Draws `draws` trees from q (NULL: from the prior), seeded, and pools
 * their weights by extension into p (zeroed by the caller; freed with
 * space_visits_free). With q, the trees whose expected draws draws·q(t)
 * reach `stratum` are pooled exactly instead, with weight p(t)L(t), and
 * the draws that fall on them set aside: the estimate of each sum
 * Σ_t p(t)L(t)f(t) is the stratum's exact part plus the other draws' mean
 * of ω(t)f(t)·[t ∉ stratum], unbiased like plain importance sampling and
 * exact on the trees q makes likely. NSR_ERR_INVALID when nothing pooled
 * contains every example, NOMEM. */
static nsr_code pool_draws(const nsr_space *s, const uint32_t *x, size_t n, const space_q *q, uint64_t draws,
                           uint64_t seed, double stratum, pool *p, nsr_error *err) {
  if (!space_visits_init(&p->v, s->words)) return nsr_fail(err, NSR_ERR_NOMEM, "importance sampling: out of memory");
  query c;
  query_init(s, x, n, q, draws, p, &c);
  p->ref = -INFINITY;
  double log_tau = q && draws > 0 ? log(stratum) - c.log_draws : INFINITY;
  if (isfinite(log_tau) && !space_q_walk(s, q, log_tau, stratum_visit, &c)) {
    return nsr_fail(err, NSR_ERR_NOMEM, "importance sampling: out of memory");
  }
  nsr_rng rng;
  nsr_rng_seed(&rng, seed);
  for (uint64_t d = 0; d < draws; d++) {
    nsr_space_tree t = {.len = 0};
    double log_q = 0.0;
    if (q == NULL) space_tree_draw_prior(s, &rng, &t);
    else log_q = space_q_grow(s, q, 0, &q->root, s->max_size, &rng, t.prog, &t.len);
    if (log_q >= log_tau) continue; /* in the stratum */
    if (!pool_add(&c, &t, -log_q, 1.0, true)) return nsr_fail(err, NSR_ERR_NOMEM, "importance sampling: out of memory");
  }
  if (p->sum == 0) {
    return nsr_fail(err, NSR_ERR_INVALID, "none of the %llu trees drawn contains every example",
                    (unsigned long long)draws);
  }
  return NSR_OK;
}

/* q from the guide, restricted by the needs X sets (space_q_init). */
static nsr_code q_for_examples(const nsr_space *s, const nsr_space_guide *guide, const uint32_t *x, size_t n,
                               space_q *q, nsr_error *err) {
  uint64_t mask[SPACE_WORDS_MAX];
  space_examples_mask(s, x, n, mask);
  return space_q_init(s, guide, mask, q, err);
}

/* g[y − 1] = Σ of the normalised pooled weights of the extensions holding y. */
static void pool_generalization(const nsr_space *s, const pool *p, double *g) {
  memset(g, 0, s->max * sizeof *g);
  for (size_t e = 0; e < p->v.n; e++) {
    double w = p->v.hits[e] / p->sum;
    const uint64_t *bits = p->v.bits + e * s->words;
    for (size_t k = 0; k < s->words; k++) {
      for (uint64_t b = bits[k]; b; b &= b - 1) g[k * 64 + (size_t)__builtin_ctzll(b) - 1] += w;
    }
  }
  for (uint32_t y = 0; y < s->max; y++) g[y] = fmin(g[y], 1.0); /* rounding */
}

nsr_code space_importance(const nsr_space *s, const uint32_t *x, size_t n, const nsr_mh_options *opt, double *g,
                          nsr_mh_report *rep, nsr_error *err) {
  memset(rep, 0, sizeof *rep);
  uint64_t begin = nsr_now_ns();
  space_q q = {0};
  pool p = {0};
  nsr_code rc = opt->guide ? q_for_examples(s, opt->guide, x, n, &q, err) : NSR_OK;
  double stratum = opt->stratum > 0 ? opt->stratum : NSR_MH_STRATUM;
  if (rc == NSR_OK) rc = pool_draws(s, x, n, opt->guide ? &q : NULL, opt->samples, opt->seed, stratum, &p, err);
  if (rc == NSR_OK) {
    pool_generalization(s, &p, g);
    double secs = nsr_seconds_since(begin);
    rep->samples = opt->samples;
    rep->acceptance = (double)p.valid / (double)opt->samples;
    rep->ess = p.sum2 > 0 ? p.sum * p.sum / p.sum2 : INFINITY;
    rep->samples_per_second = secs > 0 ? (double)opt->samples / secs : INFINITY;
    if (opt->top_k > 0 && !space_visits_top(s, &p.v, p.sum, opt->top, opt->top_k, &rep->n_top, &rep->distinct)) {
      rc = nsr_fail(err, NSR_ERR_NOMEM, "importance sampling: out of memory");
    }
  }
  space_q_free(&q);
  space_visits_free(&p.v);
  return rc;
}

/* The exact grammar posterior of extension ext, after nsr_space_infer_grammar
 * left each extension's log score in s->score (log_ev: its log evidence). */
static double exact_posterior(const nsr_space *s, const uint64_t *ext, double log_ev) {
  bool found;
  size_t i = space_slots_probe(s->table, s->table_cap, s->bits, s->words, ext, &found);
  return found ? exp(s->score[s->table[i] - 1] - log_ev) : 0.0;
}

/* Fills out from the pool: the k heaviest, and with an enumerated space
 * their exact posterior (log evidence log_ev) and the mass all cover. */
static nsr_code fill_proposals(const nsr_space *s, const pool *p, bool exact, double log_ev, size_t k,
                               nsr_space_proposals *out, nsr_error *err) {
  size_t *order, used;
  if (!space_visits_rank(&p->v, &order, &used)) return nsr_fail(err, NSR_ERR_NOMEM, "proposals: out of memory");
  out->distinct = p->v.n;
  out->ess = p->sum2 > 0 ? p->sum * p->sum / p->sum2 : INFINITY;
  out->covered = exact ? 0.0 : NAN;
  for (size_t e = 0; e < p->v.n && exact; e++) out->covered += exact_posterior(s, p->v.bits + e * s->words, log_ev);
  out->n_top = used < k ? used : k;
  for (size_t r = 0; r < out->n_top; r++) {
    size_t e = order[r];
    nsr_space_proposal *prop = &out->top[r];
    int i = 0;
    space_tree_describe(s, p->v.tree[e].prog, &i, prop->name, sizeof prop->name);
    prop->size = p->v.size[e];
    prop->q = p->v.draws[e] / (double)out->draws;
    prop->weight = p->v.hits[e] / p->sum;
    prop->posterior = exact ? exact_posterior(s, p->v.bits + e * s->words, log_ev) : NAN;
    prop->restricted = exact ? prop->posterior / out->covered : NAN;
  }
  nsr_free(order);
  return NSR_OK;
}

nsr_code nsr_space_propose(nsr_space *s, const uint32_t *x, size_t n, const nsr_space_guide *guide, uint64_t draws,
                           uint64_t seed, size_t k, nsr_space_proposals *out, nsr_error *err) {
  nsr_code rc = space_check_examples(s, x, n, err);
  if (rc != NSR_OK) return rc;
  if (guide == NULL) return nsr_fail(err, NSR_ERR_INVALID, "proposals need a guide");
  if (k > 0 && out->top == NULL) return nsr_fail(err, NSR_ERR_INVALID, "k proposals without a top array");
  out->n_top = out->distinct = 0;
  out->draws = draws;
  space_q q = {0};
  pool p = {0};
  nsr_numbers_result res = {0};
  rc = q_for_examples(s, guide, x, n, &q, err);
  if (rc == NSR_OK) rc = pool_draws(s, x, n, &q, draws, seed, NSR_MH_STRATUM, &p, err);
  if (rc == NSR_OK && s->enumerated) rc = nsr_space_infer_grammar(s, x, n, 0, &res, err);
  if (rc == NSR_OK) rc = fill_proposals(s, &p, s->enumerated, res.log_evidence, k, out, err);
  nsr_numbers_result_free(&res);
  space_q_free(&q);
  space_visits_free(&p.v);
  return rc;
}
