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
 * - Metropolis-Hastings and sequential Monte Carlo: over execution traces,
 *   in lang_infer_mh.c.
 *
 * Nested queries get contexts of their own, so a query inside a model is
 * a deterministic (enumeration) or random (sampling) function of the outer
 * choices; inside MH and SMC a sampling query's randomness is itself a
 * choice of the outer trace (infer_enter). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lang_infer.h"

void lang_infer_mark(nsr_lang *I) {
  for (lang_query *q = I->query; q != NULL; q = q->outer) {
    lang_mark(I, q->index);
    for (size_t i = 0; i < q->nvals; i++) lang_mark(I, q->vals[i]);
    infer_mh_mark(I, q);
    infer_smc_mark(I, q);
    infer_resume_mark(I, q);
  }
}

lang_rc infer_no_memory(nsr_lang *I) {
  return lang_fail_at(I, I->site.cur_pos, NSR_ERR_NOMEM, "out of memory");
}

lang_rc infer_charge(nsr_lang *I, lang_query *q, size_t bytes) {
  if (lang_account(I, (ptrdiff_t)bytes) != LANG_OK) return LANG_ERROR;
  q->charged += bytes;
  return LANG_OK;
}

void infer_uncharge(nsr_lang *I, lang_query *q, size_t bytes) {
  I->heap_bytes -= bytes;
  q->charged -= bytes;
}

lang_rc infer_reserve(nsr_lang *I, lang_query *q, void **items, size_t *cap,
                       size_t n, size_t size) {
  if (n < *cap) return LANG_OK;
  size_t c = *cap == 0 ? 16 : *cap * 2;
  if (infer_charge(I, q, (c - *cap) * size) != LANG_OK) return LANG_ERROR;
  void *p = nsr_reallocarray(*items, c, size);
  if (p == NULL) return infer_no_memory(I);
  *items = p;
  *cap = c;
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
  if (q->resumable && count > 1 && infer_resume_capture(I, q) != LANG_OK) return LANG_ERROR;
  int64_t index = 0;
  if (q->pos < q->nchoices) {
    index = q->choices[q->pos].index;
  } else {
    if (infer_reserve(I, q, (void **)&q->choices, &q->choicecap, q->nchoices,
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

lang_rc lang_choose(nsr_lang *I, const lang_dist *d, lval *out) {
  lang_query *q = I->query;
  if (q == NULL || q->kind == Q_SAMPLE) return lang_dist_sample(I, d, &I->rng, out);
  if (q->kind == Q_ENUMERATE) return enumerate_choice(I, q, d, out);
  return infer_mh_choice(I, q, d, out);
}

/* Counts a barrier (a factor or condition) of q's run: LANG_ABORT when the
 * run has passed its limit and stops here, suspended (SMC, which may keep
 * the machine here to go on from later); else LANG_OK. */
static lang_rc barrier(nsr_lang *I, lang_query *q) {
  if (q->barriers >= q->barrier_limit) {
    q->suspended = true;
    return infer_smc_stop(I, q) == LANG_OK ? LANG_ABORT : LANG_ERROR;
  }
  q->barriers++;
  return LANG_OK;
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
  lang_query *q = I->query;
  lang_rc passed = barrier(I, q);
  if (passed != LANG_OK) return passed;
  q->logw += logw;
  q->factors += logw;
  if (q->logw == INFINITY) {
    return lang_error(I, "factor: the run's total log weight overflows to +inf.0");
  }
  return q->logw == -INFINITY ? LANG_ABORT : LANG_OK;
}

static lang_rc p_condition(nsr_lang *I, lval *a, int n, lval *out) {
  (void)n;
  if (I->query == NULL) return lang_error(I, "condition used outside of a query");
  *out = lang_unspec();
  lang_rc passed = barrier(I, I->query);
  if (passed != LANG_OK) return passed;
  return lang_truthy(I, a[0]) ? LANG_OK : LANG_ABORT;
}

static lang_rc p_factor(nsr_lang *I, lval *a, int n, lval *out) {
  (void)n;
  double w;
  if (lang_arg_real(I, "factor", a, 0, &w) != LANG_OK) return LANG_ERROR;
  *out = lang_unspec();
  return lang_factor(I, w);
}

/* Whether pred is the built-in = or equal? (not a user's procedure). */
static bool builtin_equality(lval pred) {
  return pred.type == NSR_LANG_PRIMITIVE && LANG_PRIM(pred)->user_fn == NULL &&
         (strcmp(LANG_PRIM(pred)->name, "=") == 0 || strcmp(LANG_PRIM(pred)->name, "equal?") == 0);
}

lang_rc lang_observe_draw(nsr_lang *I, lval erp, lval *args, int nargs, lval value) {
  lang_dist_kind kind;
  lang_dist d;
  if (!lang_dist_prim_kind(erp, &kind)) return lang_error(I, "not a built-in sampler");
  if (lang_dist_parse(I, kind, args, nargs, &d) != LANG_OK) return LANG_ERROR;
  return lang_factor(I, lang_dist_logp(&d, value));
}

/* (%observe PRED ERP VALUE ARGS ...), made by the expander from an equality
 * condition on a draw (lang_expand.c, after webchurch's
 * transform_equals_condition): when PRED is the built-in = or equal? and
 * ERP a built-in sampler, the run is weighted by ERP's log density at
 * VALUE (a factor), and VALUE is returned; otherwise (names rebound) the
 * draw is made and conditioned on as written, returning it. %observe?
 * returns #t instead, for conjuncts of a condition. */
static lang_rc observe(nsr_lang *I, lval *a, int n, bool test, lval *out) {
  lval pred = a[0], erp = a[1], value = a[2];
  lang_dist_kind kind;
  int nargs = n - 3;
  if (builtin_equality(pred) && lang_dist_prim_kind(erp, &kind) &&
      nargs >= LANG_PRIM(erp)->min_args && nargs <= LANG_PRIM(erp)->max_args) {
    *out = test ? lang_bool(true) : value;
    return lang_observe_draw(I, erp, a + 3, nargs, value);
  }
  /* As written: the draw, then the comparison (a[] may move meanwhile). */
  lval draw = lang_nil(), same;
  if (lang_root_push(I, &pred) != LANG_OK) return LANG_ERROR;
  if (lang_root_push(I, &value) != LANG_OK) {
    lang_root_pop(I, 1);
    return LANG_ERROR;
  }
  lang_rc rc = lang_root_push(I, &draw);
  if (rc == LANG_OK) {
    rc = lang_apply(I, erp, a + 3, nargs, &draw);
    lval both[2] = {draw, value};
    if (rc == LANG_OK) rc = lang_apply(I, pred, both, 2, &same);
    lang_root_pop(I, 1);
  }
  lang_root_pop(I, 2);
  if (rc != LANG_OK) return rc;
  *out = test ? lang_bool(true) : draw;
  return p_condition(I, &same, 1, &(lval){0});
}

static lang_rc p_observe(nsr_lang *I, lval *a, int n, lval *out) {
  return observe(I, a, n, false, out);
}

static lang_rc p_observe_test(nsr_lang *I, lval *a, int n, lval *out) {
  return observe(I, a, n, true, out);
}

/* ---- running queries ----------------------------------------------------- */

lang_rc infer_enter(nsr_lang *I, lang_query *q, query_kind kind) {
  if (I->query_depth >= QUERY_MAX_DEPTH) {
    return lang_error(I, "queries nested more than %d deep", QUERY_MAX_DEPTH);
  }
  /* A sampling query inside an MH or SMC model draws from a stream seeded
   * by a choice of the outer trace: replaying the trace (SMC advancing a
   * particle, MH reusing the choice) gives the same inner result, so a
   * particle's weights stay those of one run, and proposing that choice
   * draws the inner query afresh (its density cancels like any fresh
   * draw's). */
  lval seed = lang_nil();
  if (kind != Q_ENUMERATE && I->query != NULL && I->query->kind == Q_MH) {
    lang_dist d = {.kind = DIST_INTEGER, .n = (int64_t)1 << 53, .items = lang_nil(),
                   .weights = lang_nil()};
    lang_rc rc = lang_choose(I, &d, &seed);
    if (rc != LANG_OK) return rc;
  }
  *q = (lang_query){.kind = kind, .outer = I->query, .call = I->site.cur_pos,
                    .index = lang_nil(), .proposal_value = lang_nil(),
                    .ref = -INFINITY, .barrier_limit = INT64_MAX};
  if (seed.type == NSR_LANG_INT) {
    q->saved_rng = I->rng;
    q->reseeded = true;
    nsr_rng_seed(&I->rng, (uint64_t)seed.as.i);
  }
  I->query = q;
  I->query_depth++;
  return LANG_OK;
}

void infer_leave(nsr_lang *I, lang_query *q) {
  if (q->reseeded) I->rng = q->saved_rng;
  I->heap_bytes -= q->charged;
  I->query = q->outer;
  I->site.cur_pos = q->call;
  I->query_depth--;
  nsr_free(q->choices);
  nsr_free(q->vals);
  nsr_free(q->sums);
  infer_mh_free(q);
  infer_smc_free(q);
  infer_resume_free(q);
}

/* One run of the model: LANG_OK with *value, LANG_ABORT when its condition
 * failed, LANG_ERROR on a program error. */
lang_rc infer_run(nsr_lang *I, lang_query *q, lval thunk, lval *value) {
  q->logw = 0;
  q->factors = 0;
  q->pos = 0;
  q->fresh_logp = 0;
  q->barriers = 0;
  q->suspended = false;
  I->site.cur_pos = q->call;
  lang_rc rc = lang_apply(I, thunk, NULL, 0, value);
  if (rc == LANG_OK && q->logw == -INFINITY) rc = LANG_ABORT;
  return rc;
}

/* Adds weight exp(logw) to value v of the distribution being built.
 *
 * Weights are summed as exp(logw - ref) in long double, ref being the first
 * finite log weight seen (moved up only when a weight passes it by more
 * than 1000 nats, long double's exponent has room for 11356): paths of
 * equal probability then add up exactly (two fair flips give 0.25 each,
 * not 0.24999999999999994 as summing in log space did), and no weight
 * overflows or loses more than rounding. */
static lang_rc tally(nsr_lang *I, lang_query *q, lval v, double logw) {
  if (logw == -INFINITY) return LANG_OK;
  if (q->ref == -INFINITY) q->ref = logw;
  if (logw - q->ref > 1000) {
    long double scale = expl((long double)q->ref - (long double)logw);
    for (size_t i = 0; i < q->nvals; i++) q->sums[i] *= scale;
    q->ref = logw;
  }
  long double w = expl((long double)logw - (long double)q->ref);
  bool found;
  lval slot = lang_hash_get(LANG_HASH(q->index), v, &found);
  if (found) {
    q->sums[slot.as.i] += w;
    return LANG_OK;
  }
  size_t cap = q->valcap;
  if (infer_reserve(I, q, (void **)&q->vals, &cap, q->nvals, sizeof *q->vals) != LANG_OK ||
      infer_reserve(I, q, (void **)&q->sums, &q->valcap, q->nvals, sizeof *q->sums) != LANG_OK) {
    return LANG_ERROR;
  }
  q->vals[q->nvals] = v;
  q->sums[q->nvals] = w;
  if (lang_hash_put(I, LANG_HASH(q->index), v, lang_int((int64_t)q->nvals)) != LANG_OK) {
    return LANG_ERROR;
  }
  q->nvals++;
  return LANG_OK;
}

/* Whether v would be an array index as webchurch's result key (its
 * enumerateDist keys a JavaScript object by JSON.stringify of the value,
 * and JavaScript iterates integer keys 0 .. 2^32-2 first, in increasing
 * order, then the other keys in insertion order). *key is that index. */
static bool index_key(lval v, double *key) {
  if (!lang_is_number(v)) return false;
  double x = lang_num(v);
  if (!(x >= 0 && x <= 4294967294.0) || x != floor(x)) return false;
  *key = x;
  return true;
}

typedef struct result_key {
  double key;
  size_t slot;
} result_key;

/* By key, then by slot (2 and 2.0 share a key: first seen first). */
static int compare_keys(const void *a, const void *b) {
  const result_key *x = a, *y = b;
  if (x->key != y->key) return (x->key > y->key) - (x->key < y->key);
  return (x->slot > y->slot) - (x->slot < y->slot);
}

/* The order of q's values in the result: index-like numbers ascending,
 * then the rest in the order the values were first seen (see index_key).
 * Fills order[] (q->nvals slots), using keys[] (as many) as scratch. */
static void result_order(const lang_query *q, size_t *order, result_key *keys) {
  size_t nkeys = 0, k = 0;
  for (size_t i = 0; i < q->nvals; i++) {
    if (index_key(q->vals[i], &keys[nkeys].key)) keys[nkeys++].slot = i;
  }
  qsort(keys, nkeys, sizeof *keys, compare_keys);
  for (size_t j = 0; j < nkeys; j++) order[k++] = keys[j].slot;
  for (size_t i = 0; i < q->nvals; i++) {
    double key;
    if (!index_key(q->vals[i], &key)) order[k++] = i;
  }
}

/* The tallied distribution as Church's ((values ...) (probabilities ...)),
 * ordered by result_order, probabilities normalised in long double. */
static lang_rc distribution_result(nsr_lang *I, lang_query *q,
                                   const char *name, lval *out) {
  long double total = 0;
  for (size_t i = 0; i < q->nvals; i++) total += q->sums[i];
  if (q->nvals == 0 || !(total > 0)) {
    return lang_error(I, "%s: the condition is never satisfied", name);
  }
  if (infer_charge(I, q, q->nvals * (sizeof(size_t) + sizeof(result_key))) != LANG_OK) return LANG_ERROR;
  size_t *order = nsr_calloc(q->nvals, sizeof *order);
  result_key *keys = nsr_calloc(q->nvals, sizeof *keys);
  lang_rc rc = order == NULL || keys == NULL ? infer_no_memory(I) : LANG_OK;
  if (rc == LANG_OK) result_order(q, order, keys);
  lval probs = lang_nil(), values = lang_nil(), pair;
  for (size_t i = q->nvals; rc == LANG_OK && i-- > 0;) {
    double p = (double)(q->sums[order[i]] / total);
    if (lang_cons(I, lang_real(p), probs, &probs) != LANG_OK ||
        lang_cons(I, q->vals[order[i]], values, &values) != LANG_OK) {
      rc = LANG_ERROR;
    }
  }
  nsr_free(order);
  nsr_free(keys);
  if (rc != LANG_OK || lang_cons(I, probs, lang_nil(), &pair) != LANG_OK) return LANG_ERROR;
  return lang_cons(I, values, pair, out);
}

/* The next path of enumeration q: resumed after choice `bumped` (SIZE_MAX:
 * the first path) while q can resume, with the evaluator recording for q;
 * else run from the start. As infer_run. */
static lang_rc enumerate_path(nsr_lang *I, lang_query *q, lval thunk, size_t bumped, lval *v) {
  if (!q->resumable) return infer_run(I, q, thunk, v);
  I->resuming = q;
  I->resuming_serial = q->serial;
  lang_rc rc = bumped == SIZE_MAX ? infer_run(I, q, thunk, v)
                                  : infer_resume_run(I, q, thunk, bumped, v);
  I->resuming = NULL;
  return rc;
}

static lang_rc enumerate(nsr_lang *I, lval thunk, lval *out) {
  lang_query q;
  lang_rc entered = infer_enter(I, &q, Q_ENUMERATE);
  if (entered != LANG_OK) return entered;
  lang_rc rc = lang_make_hash(I, &q.index);
  /* Paths resume at choice points (lang_infer_resume.c), unless a query
   * around this one already does: its trail then records this one's
   * changes too. */
  infer_resume_begin(I, &q);
  uint64_t paths = 0;
  size_t bumped = SIZE_MAX; /* the choice the previous path changed */
  while (rc == LANG_OK) {
    if (I->cfg.max_paths != 0 && paths >= I->cfg.max_paths) {
      rc = lang_fail_at(I, q.call, NSR_ERR_LIMIT,
                        "enumeration stopped after %llu paths (--max-paths)",
                        (unsigned long long)I->cfg.max_paths);
      break;
    }
    paths++;
    lval v;
    lang_rc run = enumerate_path(I, &q, thunk, bumped, &v);
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
    bumped = j - 1;
  }
  I->site.cur_pos = q.call;
  if (rc == LANG_OK) rc = distribution_result(I, &q, "enumeration-query", out);
  infer_leave(I, &q);
  return rc;
}

/* The items of list in reverse order (results are gathered backwards). */
lang_rc infer_reverse(nsr_lang *I, lval list, lval *out) {
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
    lang_rc rc = infer_run(I, q, thunk, out);
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
  lang_rc entered = infer_enter(I, &q, Q_SAMPLE);
  if (entered != LANG_OK) return entered;
  lang_rc rc = LANG_OK;
  lval acc = lang_nil(), v;
  if (lang_root_push(I, &acc) != LANG_OK) {
    infer_leave(I, &q);
    return LANG_ERROR;
  }
  for (int64_t i = 0; rc == LANG_OK && i < samples; i++) {
    rc = rejection_sample(I, &q, thunk, &v);
    if (rc == LANG_OK) rc = lang_cons(I, v, acc, &acc);
  }
  lang_root_pop(I, 1);
  infer_leave(I, &q);
  if (rc != LANG_OK) return rc;
  if (!list) {
    *out = lang_car(acc);
    return LANG_OK;
  }
  return infer_reverse(I, acc, out);
}

/* Likelihood weighting: `samples` runs from the prior, each weighted by
 * its factors; the result is a distribution like enumeration's. */
static lang_rc importance(nsr_lang *I, lval thunk, int64_t samples,
                          lval *out) {
  lang_query q;
  lang_rc entered = infer_enter(I, &q, Q_SAMPLE);
  if (entered != LANG_OK) return entered;
  lang_rc rc = lang_make_hash(I, &q.index);
  for (int64_t i = 0; rc == LANG_OK && i < samples; i++) {
    lval v;
    lang_rc run = infer_run(I, &q, thunk, &v);
    if (run == LANG_OK) rc = tally(I, &q, v, q.logw);
    if (run == LANG_ERROR) rc = LANG_ERROR;
  }
  I->site.cur_pos = q.call;
  if (rc == LANG_OK) rc = distribution_result(I, &q, "importance query", out);
  infer_leave(I, &q);
  return rc;
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
  return infer_mh(I, a[2], samples, lag, 0, out);
}

/* (query METHOD defines ... query-expr condition-expr), METHOD one of
 *   'enumerate             exact distribution ((values) (probabilities))
 *   '(rejection N)         N samples by rejection
 *   '(importance N)        likelihood weighting: an estimated distribution
 *   '(mh N LAG [BURN])     N samples, LAG steps apart, after BURN steps
 *   '(smc N [REJUV])       N particles' values from sequential Monte Carlo,
 *                          REJUV MH steps per particle after resampling */
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
  if (strcmp(name, "smc") == 0 && nargs >= 1 && nargs <= 2) {
    int64_t rejuv = 0;
    if (positive_count(I, "query smc", args, 0, &count) != LANG_OK ||
        (nargs == 2 && lang_arg_int(I, "query smc", args, 1, &rejuv) != LANG_OK)) {
      return LANG_ERROR;
    }
    if (rejuv < 0) return lang_error(I, "query smc: argument 2 must be at least 0");
    return infer_smc(I, a[1], count, rejuv, out);
  }
  if (strcmp(name, "mh") == 0 && nargs >= 2 && nargs <= 3) {
    if (positive_count(I, "query mh", args, 0, &count) != LANG_OK ||
        positive_count(I, "query mh", args, 1, &lag) != LANG_OK ||
        lang_arg_int(I, "query mh", args, 2, &burn) != LANG_OK) {
      return LANG_ERROR;
    }
    return infer_mh(I, a[1], count, lag, burn < 0 ? 0 : burn, out);
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
    {"%observe", 3, -1, p_observe},
    {"%observe?", 3, -1, p_observe_test},
    {NULL, 0, 0, NULL},
};
