/* lang_infer.h: the query contexts shared by lang_infer.c (the choice hook,
 * factors, enumeration, rejection, likelihood weighting, the query
 * primitives) and lang_infer_mh.c (Metropolis-Hastings and sequential
 * Monte Carlo over execution traces). Private to those two files. */
#ifndef NSR_LANG_INFER_H
#define NSR_LANG_INFER_H

#include "lang_dist.h"

#define QUERY_MAX_DEPTH 32

/* Q_MH also serves SMC, whose particles are traces too. */
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

/* An SMC particle: its trace so far, what its last run gave, and its log
 * weight since the last resampling. */
typedef struct smc_particle {
  mh_trace trace;
  lval value;     /* the model's value once done */
  double ll;      /* log score of the trace (choices and factors) */
  double factors; /* the factors' part of ll */
  double logw;    /* weight increment of the current step */
  bool done;      /* the run ended (no barrier left) */
} smc_particle;

typedef struct lang_query {
  query_kind kind;
  struct lang_query *outer;
  lang_pos call; /* where the query was called: every run starts here, so
                    addresses do not depend on how the previous run ended */
  double logw;   /* log weight of the current run */
  double factors; /* the part of logw from factors and observations */

  /* enumeration */
  enum_choice *choices;
  size_t nchoices, choicecap, pos;
  lval index;      /* hash: value -> its slot in vals/sums */
  lval *vals;
  long double *sums; /* weights, relative to exp(ref) (see tally) */
  double ref;
  size_t nvals, valcap;

  /* Metropolis-Hastings */
  mh_trace old, cur;
  bool proposing;
  uint64_t proposal_addr;
  lval proposal_value;
  double fresh_logp; /* sum of log p of values sampled afresh */

  /* Barriers (factors and conditions): a run that has passed
   * barrier_limit of them stops at the next one (suspended), so SMC can
   * advance its particles one barrier at a time. INT64_MAX: no limit. */
  int64_t barrier_limit, barriers;
  bool suspended;
  smc_particle *particles;
  size_t nparticles;

  /* A sampling query nested in an MH or SMC model runs on its own stream
   * (see infer_enter); the outer one is restored when it ends. */
  nsr_rng saved_rng;
  bool reseeded;

  size_t charged; /* bytes of the arrays above, charged to the budget */
} lang_query;

/* ---- lang_infer.c -------------------------------------------------------- */

lang_rc infer_no_memory(nsr_lang *I);
/* Charges `bytes` of q's bookkeeping to the memory budget (given back when
 * q ends, or earlier by infer_uncharge). */
lang_rc infer_charge(nsr_lang *I, lang_query *q, size_t bytes);
void infer_uncharge(nsr_lang *I, lang_query *q, size_t bytes);
/* Grows q's array *items of `size`-byte items (capacity *cap, n used) to
 * hold one more, charging the growth. */
lang_rc infer_reserve(nsr_lang *I, lang_query *q, void **items, size_t *cap,
                      size_t n, size_t size);
/* Makes q the running query (of `kind`), nested in the current one.
 * LANG_ABORT (the outer run is rejected) or LANG_ERROR when it cannot. */
lang_rc infer_enter(nsr_lang *I, lang_query *q, query_kind kind);
/* Ends q: frees its bookkeeping and gives its charge back. */
void infer_leave(nsr_lang *I, lang_query *q);
/* One run of the model: LANG_OK with *value, LANG_ABORT when a condition
 * failed, its weight became zero or it stopped at a barrier
 * (q->suspended), LANG_ERROR on a program error. */
lang_rc infer_run(nsr_lang *I, lang_query *q, lval thunk, lval *value);
/* The items of list in reverse order, as a new list. */
lang_rc infer_reverse(nsr_lang *I, lval list, lval *out);

/* ---- lang_infer_mh.c ----------------------------------------------------- */

/* The choice hook under MH and SMC: reuses the value of the old trace at
 * the choice's address when it can, else draws afresh. */
lang_rc infer_mh_choice(nsr_lang *I, lang_query *q, const lang_dist *d, lval *out);
/* Marks and frees the traces and particles of q. */
void infer_mh_mark(nsr_lang *I, const lang_query *q);
void infer_mh_free(lang_query *q);
/* `samples` states of an MH chain, `lag` steps apart after `burn` steps. */
lang_rc infer_mh(nsr_lang *I, lval thunk, int64_t samples, int64_t lag, int64_t burn,
                 lval *out);
/* `particles` values from sequential Monte Carlo with `rejuv` MH steps per
 * particle after each resampling. */
lang_rc infer_smc(nsr_lang *I, lval thunk, int64_t particles, int64_t rejuv, lval *out);

#endif
