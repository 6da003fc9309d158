/* lang_infer_mh.c: Metropolis-Hastings over execution traces, and the
 * traces SMC's particles hold too (lang_infer_smc.c).
 *
 * A trace holds a run's random choices by address: a choice's address
 * mixes the call sites on the path to it (lang_eval.c keeps it in
 * I->addr), and choices inside mem'd procedures are addressed by the memo
 * and its arguments. A run reuses the previous trace's value at the same
 * address when the distribution kind matches and the value is still in
 * its support (rescored under its new parameters), and draws afresh
 * otherwise.
 *
 * MH: single-site Metropolis-Hastings (Wingate, Stuhlmüller and Goodman
 * 2011); see mh_accept_log for the acceptance ratio. A proposal's run
 * resumes at the choice it changes (lang_infer_resume.c). */
#include <math.h>
#include <string.h>

#include "lang_infer.h"

/* ---- traces -------------------------------------------------------------- */

static void trace_clear(mh_trace *t) {
  t->n = 0;
  if (t->slots != NULL) memset(t->slots, 0, t->nslots * sizeof *t->slots);
}

void infer_trace_free(mh_trace *t) {
  nsr_free(t->entries);
  nsr_free(t->slots);
  *t = (mh_trace){0};
}

/* The slot of addr in t's table (nslots > 0): the one that indexes its
 * entry, or the empty one where it would go. */
static size_t *trace_slot(const mh_trace *t, uint64_t addr) {
  size_t mask = t->nslots - 1;
  for (size_t j = addr & mask;; j = (j + 1) & mask) {
    if (t->slots[j] == 0 || t->entries[t->slots[j] - 1].addr == addr) return &t->slots[j];
  }
}

static mh_entry *trace_find(const mh_trace *t, uint64_t addr) {
  if (t->nslots == 0) return NULL;
  size_t at = *trace_slot(t, addr);
  return at == 0 ? NULL : &t->entries[at - 1];
}

/* Grows t for `more` entries past its n, charged to q: the entry array
 * grows as infer_reserve grows it, and the slot table doubles (and is
 * rebuilt) until it would be at most half full, so adding entries one by
 * one or together ends with the same arrays and the same charge. */
static lang_rc trace_grow(nsr_lang *I, lang_query *q, mh_trace *t, size_t more) {
  size_t need = t->n + more;
  if (need * 2 > t->nslots) {
    size_t ns = t->nslots == 0 ? 64 : t->nslots * 2;
    while (need * 2 > ns) ns *= 2;
    if (infer_charge(I, q, (ns - t->nslots) * sizeof *t->slots) != LANG_OK) return LANG_ERROR;
    size_t *slots = nsr_calloc(ns, sizeof *slots);
    if (slots == NULL) return infer_no_memory(I);
    nsr_free(t->slots);
    t->slots = slots;
    t->nslots = ns;
    for (size_t i = 0; i < t->n; i++) *trace_slot(t, t->entries[i].addr) = i + 1;
  }
  while (t->cap < need) {
    if (infer_reserve(I, q, (void **)&t->entries, &t->cap, t->cap, sizeof *t->entries) !=
        LANG_OK) {
      return LANG_ERROR;
    }
  }
  return LANG_OK;
}

/* Makes room in t for `more` entries past its n (see trace_grow). */
static inline lang_rc trace_reserve(nsr_lang *I, lang_query *q, mh_trace *t, size_t more) {
  bool room = t->n + more <= t->cap && (t->n + more) * 2 <= t->nslots;
  return room ? LANG_OK : trace_grow(I, q, t, more);
}

/* Appends entries[0 .. n) to t (their addresses not in it yet). */
static lang_rc trace_append(nsr_lang *I, lang_query *q, mh_trace *t, const mh_entry *entries,
                            size_t n) {
  if (trace_reserve(I, q, t, n) != LANG_OK) return LANG_ERROR;
  for (size_t i = 0; i < n; i++) {
    t->entries[t->n] = entries[i];
    *trace_slot(t, entries[i].addr) = ++t->n;
  }
  return LANG_OK;
}

/* The bytes t's arrays hold (charged to the query that grew them). */
static size_t trace_bytes(const mh_trace *t) {
  return t->cap * sizeof *t->entries + t->nslots * sizeof *t->slots;
}

/* Frees t and gives its charge back to q. */
void infer_trace_release(nsr_lang *I, lang_query *q, mh_trace *t) {
  infer_uncharge(I, q, trace_bytes(t));
  infer_trace_free(t);
}

/* *to = a copy of `from`, charged to q. */
lang_rc infer_trace_copy(nsr_lang *I, lang_query *q, const mh_trace *from, mh_trace *to) {
  *to = (mh_trace){0};
  if (infer_charge(I, q, trace_bytes(from)) != LANG_OK) return LANG_ERROR;
  to->entries = nsr_reallocarray(NULL, from->cap ? from->cap : 1, sizeof *to->entries);
  to->slots = nsr_calloc(from->nslots ? from->nslots : 1, sizeof *to->slots);
  if (to->entries == NULL || to->slots == NULL) {
    infer_uncharge(I, q, trace_bytes(from));
    infer_trace_free(to);
    return infer_no_memory(I);
  }
  to->n = from->n;
  to->cap = from->cap;
  to->nslots = from->nslots;
  if (from->n > 0) memcpy(to->entries, from->entries, from->n * sizeof *to->entries);
  if (from->nslots > 0) memcpy(to->slots, from->slots, from->nslots * sizeof *to->slots);
  return LANG_OK;
}

void infer_trace_mark(nsr_lang *I, const mh_trace *t) {
  for (size_t i = 0; i < t->n; i++) {
    const mh_entry *e = &t->entries[i];
    lang_mark(I, e->value);
    lang_mark(I, e->dist.items);
    lang_mark(I, e->dist.weights);
  }
}

void infer_mh_mark(nsr_lang *I, const lang_query *q) {
  infer_trace_mark(I, &q->old);
  infer_trace_mark(I, &q->cur);
  lang_mark(I, q->proposal_value);
}

void infer_mh_free(lang_query *q) {
  infer_trace_free(&q->old);
  infer_trace_free(&q->cur);
}

/* ---- the choice hook ----------------------------------------------------- */

/* Whether lang_dist_logp scores any value alike under a and b: the same
 * kind, parameters bit for bit and list of weights (the same object: a
 * list of numbers, which nothing mutates). Distributions over items are
 * never taken as the same: scoring compares the value with the items by
 * equal?, which sees a vector's new contents. */
static bool same_bits(double x, double y) {
  uint64_t u, v;
  memcpy(&u, &x, sizeof u);
  memcpy(&v, &y, sizeof v);
  return u == v;
}

static bool same_dist(const lang_dist *a, const lang_dist *b) {
  for (size_t i = 0; i < sizeof a->p / sizeof a->p[0]; i++) {
    if (!same_bits(a->p[i], b->p[i])) return false;
  }
  return a->kind == b->kind && a->n == b->n && a->items.type == NSR_LANG_NIL &&
         b->items.type == NSR_LANG_NIL && a->weights.type == b->weights.type &&
         (a->weights.type == NSR_LANG_NIL || a->weights.as.obj == b->weights.as.obj) &&
         same_bits(a->total, b->total);
}

lang_rc infer_mh_choice(nsr_lang *I, lang_query *q, const lang_dist *d, lval *out) {
  if (q->resumable && q->choice_points) {
    q->pos = q->cur.n;
    if (infer_resume_capture(I, q) != LANG_OK) return LANG_ERROR;
  }
  uint64_t site = I->memo_site ? 0
                                : ((uint64_t)I->site.cur_pos.file << 48) ^
                                      ((uint64_t)I->site.cur_pos.line << 20) ^ I->site.cur_pos.col;
  uint64_t addr = lang_mix(I->addr, site);
  mh_trace *cur = &q->cur;
  if (trace_reserve(I, q, cur, 1) != LANG_OK) return LANG_ERROR;
  /* The same address twice in one run (a loop without recursion, say):
   * later occurrences are numbered. */
  size_t *slot;
  for (uint64_t k = 1; *(slot = trace_slot(cur, addr)) != 0; k++) addr = lang_mix(addr, k);
  /* The entry is made in place, and joins the trace (its slot is set)
   * once complete: every way there sets its value and logp. */
  mh_entry *e = &cur->entries[cur->n];
  e->addr = addr;
  e->dist = *d;
  e->reused = false;
  mh_entry *old = trace_find(&q->old, addr);
  bool have = false;
  if (q->proposing && addr == q->proposal_addr) {
    e->value = q->proposal_value;
    e->logp = lang_dist_logp(d, e->value);
    have = true;
  } else if (old != NULL && old->dist.kind == d->kind) {
    e->value = old->value;
    /* A choice's distribution seldom changes between runs: its old
     * score then stands (an entry's logp is always lang_dist_logp's). */
    e->logp = same_dist(&old->dist, d) ? old->logp : lang_dist_logp(d, e->value);
    have = e->logp != -INFINITY;
  }
  if (old != NULL && have) old->reused = true;
  if (!have) {
    if (lang_dist_sample(I, d, &I->rng, &e->value) != LANG_OK) return LANG_ERROR;
    e->logp = lang_dist_logp(d, e->value);
    q->fresh_logp += e->logp;
    /* The reverse move would reuse this fresh value if it lay in the old
     * distribution's support (same kind), and could then never give back
     * the old value: the move has no reverse, so it is rejected (see
     * mh_accept_log). Aborting the run rejects it. */
    if (q->proposing && old != NULL && old->dist.kind == d->kind &&
        lang_dist_logp(&old->dist, e->value) != -INFINITY) {
      return LANG_ABORT;
    }
  }
  *slot = ++cur->n;
  q->logw += e->logp;
  if (e->logp == -INFINITY) return LANG_ABORT;
  *out = e->value;
  return LANG_OK;
}

/* ---- Metropolis-Hastings ------------------------------------------------- */

lang_rc infer_mh_run(nsr_lang *I, lang_query *q, lval thunk, lval *value) {
  trace_clear(&q->cur);
  for (size_t i = 0; i < q->old.n; i++) q->old.entries[i].reused = false;
  return infer_run(I, q, thunk, value);
}

/* A chain's run that changes the choice at position `changed` of q->old
 * (0 for the chain's first runs): when q resumes, it resumes at the latest
 * resume point at or before that choice, the choices before the point
 * taken over from q->old as they were, and infer_resume_settle must then
 * keep it or take it back. Else as infer_mh_run. */
static lang_rc chain_run(nsr_lang *I, lang_query *q, lval thunk, size_t changed, lval *value) {
  if (!q->resumable) return infer_mh_run(I, q, thunk, value);
  size_t k = infer_resume_latest(q, changed);
  size_t kept = k == 0 ? 0 : k - 1;
  trace_clear(&q->cur);
  for (size_t i = 0; i < q->old.n; i++) q->old.entries[i].reused = i < kept;
  if (trace_append(I, q, &q->cur, q->old.entries, kept) != LANG_OK) return LANG_ERROR;
  I->resuming = q;
  I->resuming_serial = q->serial;
  lang_rc rc = infer_resume_try(I, q, thunk, k, value);
  I->resuming = NULL;
  return rc;
}

/* Keeps (accepted) or takes back the run chain_run made. */
static lang_rc chain_settle(nsr_lang *I, lang_query *q, bool accepted) {
  return q->resumable ? infer_resume_settle(I, q, accepted) : LANG_OK;
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

/* The log acceptance probability of the run just made (q->cur) against
 * the state it started from (q->old, log score ll, k_old choices), whose
 * choice at q->proposal_addr was changed from x_old by a kernel of log
 * density fwd (drift: a symmetric random walk).
 *
 * Derivation (Wingate, Stuhlmüller and Goodman 2011, section 4: single-site
 * MH over traces). A trace x holds K choices; a move picks one site
 * uniformly (1/K), draws a new value for it (q(v'|v)), re-runs the model,
 * reuses every other choice whose address, kind and value are still valid
 * (rescored under its new parameters) and draws the rest afresh from their
 * priors (F, the fresh draws). Choices of x that the new run did not reuse
 * are dropped (S, the stale ones). So
 *   Q(x -> x') = 1/K  q(v'|v)  prod_{c in F} p(c)
 * and the reverse move, from x' with K' choices, picks the same site,
 * draws v back, reuses what x' and x share and draws S afresh:
 *   Q(x' -> x) = 1/K' q(v|v')  prod_{c in S} p(c).
 * With the target's unnormalised score P (choices' log probabilities and
 * factors: q->logw and ll), detailed balance needs
 *   alpha = P(x') Q(x' -> x) / (P(x) Q(x -> x'))
 *         = P(x')/P(x) * K/K' * q(v|v')/q(v'|v) * p(S)/p(F).
 * This holds only when the reverse move really is one: a fresh value that
 * the reverse run would reuse (it lies in the old distribution's support,
 * same kind) would never give back the old value, so mh_choice rejects
 * such runs outright (the support-change case: uniform-draw over '(0) or
 * '(0 1) depending on a flip). Choices made inside mem'd procedures are
 * addressed by memo and arguments, so they are reused like any other;
 * nested queries are functions of the choices (exact) or draw afresh at
 * every run, which cancels in the ratio like any fresh draw. */
static double mh_accept_log(const lang_query *q, double ll, size_t k_old,
                            lval x_old, double fwd, bool drift) {
  double stale = 0;
  for (size_t i = 0; i < q->old.n; i++) {
    if (!q->old.entries[i].reused && q->old.entries[i].addr != q->proposal_addr) {
      stale += q->old.entries[i].logp;
    }
  }
  const mh_entry *site_new = trace_find(&q->cur, q->proposal_addr);
  double rev = site_new == NULL ? -INFINITY
               : drift          ? 0.0 /* symmetric: cancels fwd */
                                : lang_dist_logp(&site_new->dist, x_old);
  return q->logw - ll + log((double)k_old) - log((double)q->cur.n) + rev - fwd + stale -
         q->fresh_logp;
}

bool infer_reached_state(const lang_query *q, lang_rc rc) {
  return rc == LANG_OK || (rc == LANG_ABORT && q->suspended);
}

lang_rc infer_mh_step(nsr_lang *I, lang_query *q, lval thunk, mh_state *st, lval *proposed) {
  if (q->old.n == 0) return LANG_OK;
  size_t at = (size_t)nsr_rng_below(&I->rng, q->old.n);
  mh_entry *site = &q->old.entries[at];
  lval x_old = site->value;
  double fwd;
  bool drift;
  if (propose(I, site, &q->proposal_value, &fwd, &drift) != LANG_OK) return LANG_ERROR;
  q->proposing = true;
  q->proposal_addr = site->addr;
  size_t k_old = q->old.n;
  lang_rc run = chain_run(I, q, thunk, at, proposed);
  q->proposing = false;
  q->proposal_value = lang_nil();
  if (run == LANG_ERROR) return LANG_ERROR;
  bool accepted = infer_reached_state(q, run) &&
                  log(1.0 - nsr_rng_uniform(&I->rng)) <
                      mh_accept_log(q, st->ll, k_old, x_old, fwd, drift);
  if (accepted) {
    *st = (mh_state){.value = run == LANG_OK ? *proposed : lang_nil(), .ll = q->logw,
                     .factors = q->factors, .done = run == LANG_OK};
    swap_traces(q);
  }
  return chain_settle(I, q, accepted);
}

lang_rc infer_mh(nsr_lang *I, lval thunk, int64_t samples, int64_t lag, int64_t burn,
                 lval *out) {
  lang_query q;
  lang_rc entered = infer_enter(I, &q, Q_MH);
  if (entered != LANG_OK) return entered;
  mh_state st = {.value = lang_nil()};
  lval proposed = lang_nil(), acc = lang_nil();
  lang_rc rc = LANG_OK;
  if (lang_root_push(I, &st.value) != LANG_OK || lang_root_push(I, &proposed) != LANG_OK ||
      lang_root_push(I, &acc) != LANG_OK) {
    infer_leave(I, &q);
    return LANG_ERROR;
  }
  /* Runs resume at choice points (lang_infer_resume.c). Start from a run
   * that satisfies the condition (rejection). */
  infer_resume_begin(I, &q);
  q.choice_points = true;
  do {
    rc = chain_run(I, &q, thunk, 0, &st.value);
    if (rc != LANG_ERROR && chain_settle(I, &q, rc == LANG_OK) != LANG_OK) rc = LANG_ERROR;
  } while (rc == LANG_ABORT);
  st.ll = q.logw;
  if (rc == LANG_OK) swap_traces(&q);
  int64_t total = burn + samples * lag;
  for (int64_t it = 1; rc == LANG_OK && it <= total; it++) {
    rc = infer_mh_step(I, &q, thunk, &st, &proposed);
    if (rc == LANG_OK && it > burn && (it - burn) % lag == 0) rc = lang_cons(I, st.value, acc, &acc);
  }
  lang_root_pop(I, 3);
  infer_leave(I, &q);
  return rc == LANG_OK ? infer_reverse(I, acc, out) : rc;
}
