/* lang_infer.c: Church's queries. Each query runs its model (a thunk built
 * by the expander) many times in a nested activation of the evaluator,
 * with a query context that decides what every random choice returns:
 *
 * - enumeration: depth-first replay of choice sequences. A run replays a
 *   recorded prefix of choice indices and takes index 0 for new choices;
 *   the next sequence increments the last choice that has values left.
 *   The weight of a run is the product of its choices' probabilities and
 *   its factors; runs whose condition fails contribute nothing.
 * - rejection and likelihood weighting: choices are sampled from the
 *   interpreter's RNG; factors weight (or accept) the run.
 * - Metropolis-Hastings: single-site MH over the execution trace (Wingate,
 *   Stuhlmüller and Goodman 2011). A choice's address mixes the call sites
 *   on the path to it (lang_eval.c keeps it in I->addr), and choices inside
 *   mem'd procedures are addressed by the memo and its arguments. A run
 *   reuses the previous trace's value at the same address when the
 *   distribution kind matches and the value is still in its support.
 *
 * Nested queries get contexts of their own, so a query inside a model is
 * simply a deterministic (enumeration) or random (sampling) function of
 * the outer choices. */
#include <math.h>
#include <string.h>

#include "lang_dist.h"

#define QUERY_MAX_DEPTH 32

typedef enum query_kind { Q_ENUMERATE, Q_SAMPLE, Q_MH } query_kind;

typedef struct enum_choice {
  int64_t index, count;
} enum_choice;

typedef struct mh_entry {
  uint64_t addr;
  lang_dist dist;
  lval value;
  double logp;
  bool reused; /* (old trace) its value was reused by the current run */
} mh_entry;

/* A trace: entries in the order the run made them, indexed by address. */
typedef struct mh_trace {
  mh_entry *entries;
  size_t n, cap;
  size_t *slots; /* open addressing: entry index + 1, 0 = empty */
  size_t nslots;
} mh_trace;

typedef struct lang_query {
  query_kind kind;
  struct lang_query *outer;
  lang_pos call; /* where the query was called: every run starts here, so
                    addresses do not depend on how the previous run ended */
  double logw; /* log weight of the current run */

  /* enumeration */
  enum_choice *choices;
  size_t nchoices, choicecap, pos;
  lval index;      /* hash: value -> its slot in vals/logws */
  lval *vals;
  double *logws;
  size_t nvals, valcap;

  /* Metropolis-Hastings */
  mh_trace old, cur;
  bool proposing;
  uint64_t proposal_addr;
  lval proposal_value;
  double fresh_logp; /* sum of log p of values sampled afresh */

  size_t charged; /* bytes of the arrays above, charged to the budget */
} lang_query;

void lang_infer_mark(nsr_lang *I) {
  for (lang_query *q = I->query; q != NULL; q = q->outer) {
    lang_mark(I, q->index);
    for (size_t i = 0; i < q->nvals; i++) lang_mark(I, q->vals[i]);
    mh_trace *traces[] = {&q->old, &q->cur};
    for (int t = 0; t < 2; t++) {
      for (size_t i = 0; i < traces[t]->n; i++) {
        mh_entry *e = &traces[t]->entries[i];
        lang_mark(I, e->value);
        lang_mark(I, e->dist.items);
        lang_mark(I, e->dist.weights);
      }
    }
    lang_mark(I, q->proposal_value);
  }
}

static lang_rc no_memory(nsr_lang *I) {
  return lang_fail_at(I, I->cur_pos, NSR_ERR_NOMEM, "out of memory");
}

/* Grows an array of `size`-byte items to hold one more. */
/* Charges `bytes` of a query's bookkeeping to the memory budget; they are
 * released when the query ends. */
static lang_rc charge(nsr_lang *I, lang_query *q, size_t bytes) {
  if (lang_account(I, (ptrdiff_t)bytes) != LANG_OK) return LANG_ERROR;
  q->charged += bytes;
  return LANG_OK;
}

/* Grows a query's array of `size`-byte items to hold one more. */
static lang_rc reserve(nsr_lang *I, lang_query *q, void **items, size_t *cap,
                       size_t n, size_t size) {
  if (n < *cap) return LANG_OK;
  size_t c = *cap == 0 ? 16 : *cap * 2;
  if (charge(I, q, (c - *cap) * size) != LANG_OK) return LANG_ERROR;
  void *p = nsr_reallocarray(*items, c, size);
  if (p == NULL) return no_memory(I);
  *items = p;
  *cap = c;
  return LANG_OK;
}

/* ---- traces -------------------------------------------------------------- */

static void trace_clear(mh_trace *t) {
  t->n = 0;
  if (t->slots != NULL) memset(t->slots, 0, t->nslots * sizeof *t->slots);
}

static void trace_free(mh_trace *t) {
  nsr_free(t->entries);
  nsr_free(t->slots);
  *t = (mh_trace){0};
}

static mh_entry *trace_find(const mh_trace *t, uint64_t addr) {
  if (t->nslots == 0) return NULL;
  for (size_t j = addr & (t->nslots - 1);; j = (j + 1) & (t->nslots - 1)) {
    if (t->slots[j] == 0) return NULL;
    mh_entry *e = &t->entries[t->slots[j] - 1];
    if (e->addr == addr) return e;
  }
}

static lang_rc trace_add(nsr_lang *I, lang_query *q, mh_trace *t,
                         const mh_entry *e) {
  if ((t->n + 1) * 2 > t->nslots) {
    size_t ns = t->nslots == 0 ? 64 : t->nslots * 2;
    if (charge(I, q, (ns - t->nslots) * sizeof *t->slots) != LANG_OK) return LANG_ERROR;
    size_t *slots = nsr_calloc(ns, sizeof *slots);
    if (slots == NULL) return no_memory(I);
    nsr_free(t->slots);
    t->slots = slots;
    t->nslots = ns;
    for (size_t i = 0; i < t->n; i++) {
      size_t j = t->entries[i].addr & (ns - 1);
      while (slots[j] != 0) j = (j + 1) & (ns - 1);
      slots[j] = i + 1;
    }
  }
  if (reserve(I, q, (void **)&t->entries, &t->cap, t->n, sizeof *e) != LANG_OK) return LANG_ERROR;
  t->entries[t->n] = *e;
  size_t j = e->addr & (t->nslots - 1);
  while (t->slots[j] != 0) j = (j + 1) & (t->nslots - 1);
  t->slots[j] = ++t->n;
  return LANG_OK;
}

/* ---- the choice hook ----------------------------------------------------- */

static lang_rc enumerate_choice(nsr_lang *I, lang_query *q,
                                const lang_dist *d, lval *out) {
  int64_t count = lang_dist_support(d);
  if (count < 0) {
    return lang_error(I, "enumeration-query cannot enumerate %s (continuous "
                      "or unbounded support); use mh-query or rejection-query",
                      lang_dist_name(d->kind));
  }
  int64_t index = 0;
  if (q->pos < q->nchoices) {
    index = q->choices[q->pos].index;
  } else {
    if (reserve(I, q, (void **)&q->choices, &q->choicecap, q->nchoices,
                sizeof *q->choices) != LANG_OK) {
      return LANG_ERROR;
    }
    q->choices[q->nchoices++] = (enum_choice){0, count};
  }
  q->pos++;
  double lp = lang_dist_support_logp(I, d, index);
  if (lp == -INFINITY) return LANG_ABORT; /* a zero-probability branch */
  q->logw += lp;
  return lang_dist_support_value(I, d, index, out);
}

static lang_rc mh_choice(nsr_lang *I, lang_query *q, const lang_dist *d,
                         lval *out) {
  uint64_t site = I->memo_site ? 0
                                : ((uint64_t)I->cur_pos.file << 48) ^
                                      ((uint64_t)I->cur_pos.line << 20) ^ I->cur_pos.col;
  uint64_t addr = lang_mix(I->addr, site);
  /* The same address twice in one run (a loop without recursion, say):
   * later occurrences are numbered. */
  for (uint64_t k = 1; trace_find(&q->cur, addr) != NULL; k++) addr = lang_mix(addr, k);
  mh_entry e = {.addr = addr, .dist = *d};
  mh_entry *old = trace_find(&q->old, addr);
  bool have = false;
  if (q->proposing && addr == q->proposal_addr) {
    e.value = q->proposal_value;
    e.logp = lang_dist_logp(d, e.value);
    have = true;
  } else if (old != NULL && old->dist.kind == d->kind) {
    e.value = old->value;
    e.logp = lang_dist_logp(d, e.value);
    have = e.logp != -INFINITY;
  }
  if (old != NULL && have) old->reused = true;
  if (!have) {
    if (lang_dist_sample(I, d, &I->rng, &e.value) != LANG_OK) return LANG_ERROR;
    e.logp = lang_dist_logp(d, e.value);
    q->fresh_logp += e.logp;
  }
  if (trace_add(I, q, &q->cur, &e) != LANG_OK) return LANG_ERROR;
  q->logw += e.logp;
  if (e.logp == -INFINITY) return LANG_ABORT;
  *out = e.value;
  return LANG_OK;
}

lang_rc lang_choose(nsr_lang *I, const lang_dist *d, lval *out) {
  lang_query *q = I->query;
  if (q == NULL || q->kind == Q_SAMPLE) return lang_dist_sample(I, d, &I->rng, out);
  if (q->kind == Q_ENUMERATE) return enumerate_choice(I, q, d, out);
  return mh_choice(I, q, d, out);
}

/* What a log weight means, the same for every inference method: -inf is
 * an impossible path (like a failed condition); +inf and NaN have no
 * probability to normalise, so they are errors, as is a finite sum of
 * factors that overflows to +inf. */
lang_rc lang_factor(nsr_lang *I, double logw) {
  if (I->query == NULL) return lang_error(I, "factor used outside of a query");
  if (isnan(logw)) return lang_error(I, "factor: the log weight is not a number (+nan.0)");
  if (logw == INFINITY) {
    return lang_error(I, "factor: the log weight is +inf.0 (use -inf.0 for an impossible path, "
                         "or a finite weight)");
  }
  I->query->logw += logw;
  if (I->query->logw == INFINITY) {
    return lang_error(I, "factor: the run's total log weight overflows to +inf.0");
  }
  return I->query->logw == -INFINITY ? LANG_ABORT : LANG_OK;
}

static lang_rc p_condition(nsr_lang *I, lval *a, int n, lval *out) {
  (void)n;
  if (I->query == NULL) return lang_error(I, "condition used outside of a query");
  *out = lang_unspec();
  return lang_truthy(I, a[0]) ? LANG_OK : LANG_ABORT;
}

static lang_rc p_factor(nsr_lang *I, lval *a, int n, lval *out) {
  (void)n;
  double w;
  if (lang_arg_real(I, "factor", a, 0, &w) != LANG_OK) return LANG_ERROR;
  *out = lang_unspec();
  return lang_factor(I, w);
}

/* ---- running queries ----------------------------------------------------- */

static lang_rc query_enter(nsr_lang *I, lang_query *q, query_kind kind) {
  if (I->query_depth >= QUERY_MAX_DEPTH) {
    return lang_error(I, "queries nested more than %d deep", QUERY_MAX_DEPTH);
  }
  *q = (lang_query){.kind = kind, .outer = I->query, .call = I->cur_pos,
                    .index = lang_nil(), .proposal_value = lang_nil()};
  I->query = q;
  I->query_depth++;
  return LANG_OK;
}

static void query_leave(nsr_lang *I, lang_query *q) {
  I->heap_bytes -= q->charged;
  I->query = q->outer;
  I->cur_pos = q->call;
  I->query_depth--;
  nsr_free(q->choices);
  nsr_free(q->vals);
  nsr_free(q->logws);
  trace_free(&q->old);
  trace_free(&q->cur);
}

/* One run of the model: LANG_OK with *value, LANG_ABORT when its condition
 * failed, LANG_ERROR on a program error. */
static lang_rc run_model(nsr_lang *I, lang_query *q, lval thunk, lval *value) {
  q->logw = 0;
  q->pos = 0;
  q->fresh_logp = 0;
  I->cur_pos = q->call;
  lang_rc rc = lang_apply(I, thunk, NULL, 0, value);
  if (rc == LANG_OK && q->logw == -INFINITY) rc = LANG_ABORT;
  return rc;
}

static double log_add(double a, double b) {
  if (a == -INFINITY) return b;
  if (b == -INFINITY) return a;
  double m = a > b ? a : b;
  return m + log(exp(a - m) + exp(b - m));
}

/* Adds weight exp(logw) to value v of the distribution being built. */
static lang_rc tally(nsr_lang *I, lang_query *q, lval v, double logw) {
  bool found;
  lval slot = lang_hash_get(LANG_HASH(q->index), v, &found);
  if (found) {
    q->logws[slot.as.i] = log_add(q->logws[slot.as.i], logw);
    return LANG_OK;
  }
  size_t cap = q->valcap;
  if (reserve(I, q, (void **)&q->vals, &cap, q->nvals, sizeof *q->vals) != LANG_OK ||
      reserve(I, q, (void **)&q->logws, &q->valcap, q->nvals, sizeof *q->logws) != LANG_OK) {
    return LANG_ERROR;
  }
  q->vals[q->nvals] = v;
  q->logws[q->nvals] = logw;
  if (lang_hash_put(I, LANG_HASH(q->index), v, lang_int((int64_t)q->nvals)) != LANG_OK) {
    return LANG_ERROR;
  }
  q->nvals++;
  return LANG_OK;
}

/* The tallied distribution as Church's ((values ...) (probabilities ...)). */
static lang_rc distribution_result(nsr_lang *I, lang_query *q,
                                   const char *name, lval *out) {
  double total = -INFINITY;
  for (size_t i = 0; i < q->nvals; i++) total = log_add(total, q->logws[i]);
  if (q->nvals == 0 || total == -INFINITY) {
    return lang_error(I, "%s: the condition is never satisfied", name);
  }
  lval probs = lang_nil(), values = lang_nil(), pair;
  for (size_t i = q->nvals; i-- > 0;) {
    if (lang_cons(I, lang_real(exp(q->logws[i] - total)), probs, &probs) != LANG_OK ||
        lang_cons(I, q->vals[i], values, &values) != LANG_OK) {
      return LANG_ERROR;
    }
  }
  if (lang_cons(I, probs, lang_nil(), &pair) != LANG_OK) return LANG_ERROR;
  return lang_cons(I, values, pair, out);
}

static lang_rc enumerate(nsr_lang *I, lval thunk, lval *out) {
  lang_query q;
  if (query_enter(I, &q, Q_ENUMERATE) != LANG_OK) return LANG_ERROR;
  lang_rc rc = lang_make_hash(I, &q.index);
  uint64_t paths = 0;
  while (rc == LANG_OK) {
    if (I->cfg.max_paths != 0 && paths >= I->cfg.max_paths) {
      rc = lang_fail_at(I, q.call, NSR_ERR_LIMIT,
                        "enumeration stopped after %llu paths (--max-paths)",
                        (unsigned long long)I->cfg.max_paths);
      break;
    }
    paths++;
    lval v;
    lang_rc run = run_model(I, &q, thunk, &v);
    if (run == LANG_OK) {
      rc = tally(I, &q, v, q.logw);
    } else if (run == LANG_ERROR) {
      rc = LANG_ERROR;
    }
    /* The next sequence: bump the last choice with values left. */
    size_t j = q.pos < q.nchoices ? q.pos : q.nchoices;
    while (j > 0 && q.choices[j - 1].index + 1 >= q.choices[j - 1].count) j--;
    if (j == 0) break;
    q.choices[j - 1].index++;
    q.nchoices = j;
  }
  I->cur_pos = q.call;
  if (rc == LANG_OK) rc = distribution_result(I, &q, "enumeration-query", out);
  query_leave(I, &q);
  return rc;
}

/* The items of list in reverse order (results are gathered backwards). */
static lang_rc reverse_into(nsr_lang *I, lval list, lval *out) {
  lval r = lang_nil();
  for (; list.type == NSR_LANG_PAIR; list = lang_cdr(list)) {
    if (lang_cons(I, lang_car(list), r, &r) != LANG_OK) return LANG_ERROR;
  }
  *out = r;
  return LANG_OK;
}

/* Samples until a run satisfies the condition; factors (which must be
 * <= 0) accept a run with probability exp(weight). */
static lang_rc rejection_sample(nsr_lang *I, lang_query *q, lval thunk,
                                lval *out) {
  for (;;) {
    lang_rc rc = run_model(I, q, thunk, out);
    if (rc == LANG_ERROR) return rc;
    if (rc == LANG_ABORT) continue;
    if (q->logw > 0) {
      return lang_error(I, "rejection-query needs factor weights <= 0, got %g", q->logw);
    }
    if (q->logw == 0 || log(1.0 - nsr_rng_uniform(&I->rng)) < q->logw) return LANG_OK;
  }
}

static lang_rc rejection(nsr_lang *I, lval thunk, int64_t samples, bool list,
                         lval *out) {
  lang_query q;
  if (query_enter(I, &q, Q_SAMPLE) != LANG_OK) return LANG_ERROR;
  lang_rc rc = LANG_OK;
  lval acc = lang_nil(), v;
  if (lang_root_push(I, &acc) != LANG_OK) {
    query_leave(I, &q);
    return LANG_ERROR;
  }
  for (int64_t i = 0; rc == LANG_OK && i < samples; i++) {
    rc = rejection_sample(I, &q, thunk, &v);
    if (rc == LANG_OK) rc = lang_cons(I, v, acc, &acc);
  }
  lang_root_pop(I, 1);
  query_leave(I, &q);
  if (rc != LANG_OK) return rc;
  if (!list) {
    *out = lang_car(acc);
    return LANG_OK;
  }
  return reverse_into(I, acc, out);
}

/* Likelihood weighting: `samples` runs from the prior, each weighted by
 * its factors; the result is a distribution like enumeration's. */
static lang_rc importance(nsr_lang *I, lval thunk, int64_t samples,
                          lval *out) {
  lang_query q;
  if (query_enter(I, &q, Q_SAMPLE) != LANG_OK) return LANG_ERROR;
  lang_rc rc = lang_make_hash(I, &q.index);
  for (int64_t i = 0; rc == LANG_OK && i < samples; i++) {
    lval v;
    lang_rc run = run_model(I, &q, thunk, &v);
    if (run == LANG_OK) rc = tally(I, &q, v, q.logw);
    if (run == LANG_ERROR) rc = LANG_ERROR;
  }
  I->cur_pos = q.call;
  if (rc == LANG_OK) rc = distribution_result(I, &q, "importance query", out);
  query_leave(I, &q);
  return rc;
}

/* One MH run into q->cur against q->old; *value and its log score. */
static lang_rc mh_run(nsr_lang *I, lang_query *q, lval thunk, lval *value) {
  trace_clear(&q->cur);
  for (size_t i = 0; i < q->old.n; i++) q->old.entries[i].reused = false;
  return run_model(I, q, thunk, value);
}

static void swap_traces(lang_query *q) {
  mh_trace t = q->old;
  q->old = q->cur;
  q->cur = t;
}

/* A new value for the choice at `site`: usually a draw from its
 * distribution (*fwd = its log probability), but for gaussians half the
 * time a random-walk step of a quarter of the prior's variance (*drift;
 * symmetric, so *fwd = 0 and the reverse term is 0 too), which mixes far
 * better when the data pin the value down. Either kernel alone satisfies
 * detailed balance, so choosing between them at random does too. */
static lang_rc propose(nsr_lang *I, const mh_entry *site, lval *value,
                       double *fwd, bool *drift) {
  *drift = site->dist.kind == DIST_GAUSSIAN && lang_is_number(site->value) &&
           nsr_rng_uniform(&I->rng) < 0.5;
  if (*drift) {
    *value = lang_real(lang_num(site->value) + 0.5 * site->dist.p[1] * nsr_rng_normal(&I->rng));
    *fwd = 0.0;
    return LANG_OK;
  }
  if (lang_dist_sample(I, &site->dist, &I->rng, value) != LANG_OK) return LANG_ERROR;
  *fwd = lang_dist_logp(&site->dist, *value);
  return LANG_OK;
}

static lang_rc mh(nsr_lang *I, lval thunk, int64_t samples, int64_t lag,
                  int64_t burn, lval *out) {
  lang_query q;
  if (query_enter(I, &q, Q_MH) != LANG_OK) return LANG_ERROR;
  lval state = lang_nil(), proposed = lang_nil(), acc = lang_nil();
  lang_rc rc = LANG_OK;
  if (lang_root_push(I, &state) != LANG_OK || lang_root_push(I, &proposed) != LANG_OK ||
      lang_root_push(I, &acc) != LANG_OK) {
    query_leave(I, &q);
    return LANG_ERROR;
  }
  /* Start from a run that satisfies the condition (rejection). */
  double ll;
  for (;;) {
    rc = mh_run(I, &q, thunk, &state);
    if (rc != LANG_ABORT) break;
  }
  ll = q.logw;
  if (rc == LANG_OK) swap_traces(&q);
  int64_t total = burn + samples * lag;
  for (int64_t it = 1; rc == LANG_OK && it <= total; it++) {
    if (q.old.n > 0) {
      mh_entry *site = &q.old.entries[nsr_rng_below(&I->rng, q.old.n)];
      lval x_old = site->value;
      q.proposing = true;
      q.proposal_addr = site->addr;
      double fwd;
      bool drift;
      rc = propose(I, site, &q.proposal_value, &fwd, &drift);
      if (rc != LANG_OK) break;
      size_t k_old = q.old.n;
      lang_rc run = mh_run(I, &q, thunk, &proposed);
      q.proposing = false;
      if (run == LANG_ERROR) {
        rc = LANG_ERROR;
        break;
      }
      if (run == LANG_OK) {
        double stale = 0;
        for (size_t i = 0; i < q.old.n; i++) {
          if (!q.old.entries[i].reused && q.old.entries[i].addr != q.proposal_addr) {
            stale += q.old.entries[i].logp;
          }
        }
        mh_entry *site_new = trace_find(&q.cur, q.proposal_addr);
        double rev = site_new == NULL ? -INFINITY
                     : drift     ? 0.0 /* symmetric: cancels fwd */
                                 : lang_dist_logp(&site_new->dist, x_old);
        double log_alpha = q.logw - ll + log((double)k_old) - log((double)q.cur.n) +
                           rev - fwd + stale - q.fresh_logp;
        if (log(1.0 - nsr_rng_uniform(&I->rng)) < log_alpha) {
          state = proposed;
          ll = q.logw;
          swap_traces(&q);
        }
      }
      q.proposal_value = lang_nil();
    }
    if (it > burn && (it - burn) % lag == 0) rc = lang_cons(I, state, acc, &acc);
  }
  lang_root_pop(I, 3);
  query_leave(I, &q);
  return rc == LANG_OK ? reverse_into(I, acc, out) : rc;
}

/* ---- the query primitives ------------------------------------------------ */

static lang_rc expect_thunk(nsr_lang *I, const char *name, lval *a, int i) {
  return lang_is_procedure(a[i]) ? LANG_OK : lang_type_error(I, name, "a procedure", i, a[i]);
}

static lang_rc p_enumeration_query(nsr_lang *I, lval *a, int n, lval *out) {
  (void)n;
  if (expect_thunk(I, "enumeration-query", a, 0) != LANG_OK) return LANG_ERROR;
  return enumerate(I, a[0], out);
}

static lang_rc p_rejection_query(nsr_lang *I, lval *a, int n, lval *out) {
  (void)n;
  if (expect_thunk(I, "rejection-query", a, 0) != LANG_OK) return LANG_ERROR;
  return rejection(I, a[0], 1, false, out);
}

static lang_rc positive_count(nsr_lang *I, const char *name, lval *a, int i,
                              int64_t *out) {
  if (lang_arg_int(I, name, a, i, out) != LANG_OK) return LANG_ERROR;
  if (*out < 1) return lang_error(I, "%s: argument %d must be at least 1", name, i + 1);
  return LANG_OK;
}

static lang_rc p_mh_query(nsr_lang *I, lval *a, int n, lval *out) {
  (void)n;
  int64_t samples, lag;
  if (positive_count(I, "mh-query", a, 0, &samples) != LANG_OK ||
      positive_count(I, "mh-query", a, 1, &lag) != LANG_OK ||
      expect_thunk(I, "mh-query", a, 2) != LANG_OK) {
    return LANG_ERROR;
  }
  return mh(I, a[2], samples, lag, 0, out);
}

/* (query METHOD defines ... query-expr condition-expr), METHOD one of
 *   'enumerate             exact distribution ((values) (probabilities))
 *   '(rejection N)         N samples by rejection
 *   '(importance N)        likelihood weighting: an estimated distribution
 *   '(mh N LAG [BURN])     N samples, LAG steps apart, after BURN steps */
static lang_rc p_query(nsr_lang *I, lval *a, int n, lval *out) {
  (void)n;
  lval method = a[0];
  lval head = method.type == NSR_LANG_PAIR ? lang_car(method) : method;
  if (head.type != NSR_LANG_SYMBOL || expect_thunk(I, "query", a, 1) != LANG_OK) {
    return lang_type_error(I, "query", "a method such as 'enumerate or '(mh 100 10)", 0, method);
  }
  const char *name = LANG_SYM(head)->name;
  int64_t nargs = method.type == NSR_LANG_PAIR ? lang_list_length(method) - 1 : 0;
  lval args[3] = {lang_int(1), lang_int(1), lang_int(0)};
  lval l = method.type == NSR_LANG_PAIR ? lang_cdr(method) : lang_nil();
  for (int64_t i = 0; i < nargs && i < 3; i++, l = lang_cdr(l)) args[i] = lang_car(l);
  int64_t count, lag, burn;
  if (strcmp(name, "enumerate") == 0 && nargs == 0) return enumerate(I, a[1], out);
  if (strcmp(name, "rejection") == 0 && nargs <= 1) {
    if (positive_count(I, "query rejection", args, 0, &count) != LANG_OK) return LANG_ERROR;
    return rejection(I, a[1], count, nargs == 1, out);
  }
  if (strcmp(name, "importance") == 0 && nargs == 1) {
    if (positive_count(I, "query importance", args, 0, &count) != LANG_OK) return LANG_ERROR;
    return importance(I, a[1], count, out);
  }
  if (strcmp(name, "mh") == 0 && nargs >= 2 && nargs <= 3) {
    if (positive_count(I, "query mh", args, 0, &count) != LANG_OK ||
        positive_count(I, "query mh", args, 1, &lag) != LANG_OK ||
        lang_arg_int(I, "query mh", args, 2, &burn) != LANG_OK) {
      return LANG_ERROR;
    }
    return mh(I, a[1], count, lag, burn < 0 ? 0 : burn, out);
  }
  return lang_type_error(I, "query", "a method such as 'enumerate or '(mh 100 10)", 0, method);
}

const lang_prim_def lang_prims_infer[] = {
    {"condition", 1, 1, p_condition},
    {"factor", 1, 1, p_factor},
    {"enumeration-query", 1, 1, p_enumeration_query},
    {"rejection-query", 1, 1, p_rejection_query},
    {"mh-query", 3, 3, p_mh_query},
    {"%query", 2, 2, p_query},
    {NULL, 0, 0, NULL},
};
