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

/* A change to the heap a resumed path must undo (lang_infer_resume.c). */
typedef enum trail_kind { TRAIL_ENV_SET, TRAIL_MEMO } trail_kind;
typedef struct trail_entry {
  trail_kind kind;
  uint32_t slot;     /* the environment's binding */
  bool had;          /* TRAIL_MEMO: the key was in the cache, with `old` */
  lval obj;          /* the environment or the cache */
  lval key, old;
  lval now;          /* what the change set */
  uint64_t hash;     /* TRAIL_MEMO: the key's lang_hash_value */
} trail_entry;

/* The machine just before the primitive application that made a choice:
 * its stacks above the query's bases and the registers errors read. */
typedef struct resume_point {
  bool valid;
  bool memo_call;
  lang_frame *frames;
  size_t nframes, framecap;
  lval *vals;
  size_t nvals, valcap;
  size_t apply_off; /* the primitive's slot, from the query's val_base */
  uint64_t addr;
  lang_site site;
  double logw, factors;
  int64_t barriers;
  size_t trail_mark;
} resume_point;

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
 * weight since the last resampling; when its query resumes, the machine at
 * the barrier it stopped at and the changes its runs made to the heap
 * (lang_infer_smc.c). */
typedef struct smc_particle {
  mh_trace trace;
  lval value;     /* the model's value once done */
  double ll;      /* log score of the trace (choices and factors) */
  double factors; /* the factors' part of ll */
  double logw;    /* weight increment of the current step */
  bool done;      /* the run ended (no barrier left) */
  resume_point at;
  trail_entry *changes;
  size_t nchanges, changecap;
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
  /* resuming at choice points (lang_infer_resume.c) */
  bool resumable;
  bool choice_points;      /* MH: resume points at choices (SMC keeps its own) */
  uint64_t serial;         /* I->resuming_serial while it runs its model */
  /* Resume points by choice position, two slots each: side[i] picks
   * position i's current one; an MH proposal's run captures into the
   * other while the old point waits in its own until the run is settled
   * (lang_infer_resume.c). */
  resume_point *points;    /* 2 * pointcap */
  uint8_t *side;
  size_t pointcap;
  size_t npoints;          /* positions ever captured at: past them no point */
  size_t point_bytes;      /* held by the points' copies of the stacks */
  trail_entry *trail;
  size_t ntrail, trailcap;
  size_t frame_base, val_base; /* the stacks' heights where its runs start */
  struct lang_run *runs_outer; /* I->runs there */
  uint64_t capture_serial;     /* I->prim_serial at the latest choice */
  /* An MH proposal's run may be taken back (rejected): the points after
   * the one it resumed at, as the run reaches their positions, and the
   * trail since then wait until it is settled. */
  bool trying;             /* a proposal's run is not settled yet */
  size_t tried;            /* the point it resumed at, + 1 (0: the start) */
  size_t aside;            /* positions tried .. aside have switched sides */
  trail_entry *redo; /* the trail it undid, to be done again */
  size_t nredo, redocap;

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
  resume_point *stop_at;  /* where a run that stops at a barrier is kept */
  smc_particle *heap_of;  /* the particle whose changes the heap holds */
  size_t change_bytes;    /* held by the particles' changes */

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

/* ---- lang_infer_resume.c ------------------------------------------------- */

/* q's runs will resume at choice points, from the evaluator's stacks as
 * they are now, unless an outer query already resumes (its trail records
 * q's changes) or the configuration asks for replay. */
void infer_resume_begin(nsr_lang *I, lang_query *q);
/* Called by a choice hook before it takes choice q->pos: records a resume
 * point there when it can (see the file's comment). */
lang_rc infer_resume_capture(nsr_lang *I, lang_query *q);
/* Copies the machine, just before the primitive application being made,
 * into p when it is in q's model's own activation (p->valid); else leaves
 * p invalid. The copy's room is charged to q. */
lang_rc infer_resume_keep(nsr_lang *I, lang_query *q, resume_point *p);
/* *to (holding no buffers) = a copy of point `from`, charged to q; past
 * the resume points' memory limit (or without `from` valid) an invalid
 * point. */
lang_rc infer_resume_point_copy(nsr_lang *I, lang_query *q, const resume_point *from,
                                resume_point *to);
/* Frees p's buffers, giving their charge back to q; p becomes empty. */
void infer_resume_point_release(nsr_lang *I, lang_query *q, resume_point *p);
/* Runs q's model on from p (the heap as it was there: the caller's
 * business). As infer_run. */
lang_rc infer_resume_from(nsr_lang *I, lang_query *q, const resume_point *p, lval *value);
/* Takes back n trail entries' changes, newest first; makes them again,
 * oldest first (fails only on memory). */
void infer_trail_undo(nsr_lang *I, const trail_entry *entries, size_t n);
lang_rc infer_trail_redo(nsr_lang *I, const trail_entry *entries, size_t n);
void infer_trail_mark(nsr_lang *I, const trail_entry *entries, size_t n);
void infer_resume_point_mark(nsr_lang *I, const resume_point *p);
/* The bytes a query's resume points, and its trail, may each hold. */
size_t infer_resume_limit(const nsr_lang *I);
/* The latest valid resume point at or before choice `changed`, as its
 * position + 1; 0 when there is none (the run starts over). */
size_t infer_resume_latest(const lang_query *q, size_t changed);
/* Enumeration: the next path after choice `bumped` took its next value:
 * resumed at the latest resume point at or before it (the heap's recorded
 * changes since undone), or run from the start when there is none. As
 * infer_run. */
lang_rc infer_resume_run(nsr_lang *I, lang_query *q, lval thunk, size_t bumped, lval *value);
/* MH: a proposal's run, resumed at point k - 1 (k from infer_resume_latest;
 * 0: from the start), that infer_resume_settle can take back. As
 * infer_run. */
lang_rc infer_resume_try(nsr_lang *I, lang_query *q, lval thunk, size_t k, lval *value);
/* Ends the tried run: accepted, its state stays; rejected, the heap's
 * recorded changes and the resume points are put back as they were before
 * it. Fails only on memory. */
lang_rc infer_resume_settle(nsr_lang *I, lang_query *q, bool accepted);
void infer_resume_mark(nsr_lang *I, const lang_query *q);
void infer_resume_free(lang_query *q);

/* ---- lang_infer_mh.c ----------------------------------------------------- */

/* The choice hook under MH and SMC: reuses the value of the old trace at
 * the choice's address when it can, else draws afresh. */
lang_rc infer_mh_choice(nsr_lang *I, lang_query *q, const lang_dist *d, lval *out);
/* Marks and frees q's traces. */
void infer_mh_mark(nsr_lang *I, const lang_query *q);
void infer_mh_free(lang_query *q);
/* `samples` states of an MH chain, `lag` steps apart after `burn` steps. */
lang_rc infer_mh(nsr_lang *I, lval thunk, int64_t samples, int64_t lag, int64_t burn,
                 lval *out);
/* One run of the model into q->cur against q->old (every choice at an
 * address of q->old reuses its value). As infer_run. */
lang_rc infer_mh_run(nsr_lang *I, lang_query *q, lval thunk, lval *value);
/* A state of a chain (or a particle): its trace is q->old while it moves. */
typedef struct mh_state {
  lval value;     /* the model's value, when done */
  double ll;      /* log score of the trace */
  double factors; /* the factors' part of ll */
  bool done;      /* the run ended rather than stopping at a barrier */
} mh_state;
/* Whether a run that returned rc reached a state of the target: it ended,
 * or it stopped at its barrier limit (SMC). */
bool infer_reached_state(const lang_query *q, lang_rc rc);
/* One MH step from *st (trace q->old): picks a site, proposes, re-runs the
 * model into q->cur (proposed, a rooted slot, receives its value) and
 * accepts or rejects; on acceptance *st and q->old are the new state.
 * Needs *st rooted. LANG_ERROR only for program errors. */
lang_rc infer_mh_step(nsr_lang *I, lang_query *q, lval thunk, mh_state *st, lval *proposed);
/* Traces: a copy of `from` charged to q; freeing one (and giving its
 * charge back); marking its values. */
lang_rc infer_trace_copy(nsr_lang *I, lang_query *q, const mh_trace *from, mh_trace *to);
void infer_trace_release(nsr_lang *I, lang_query *q, mh_trace *t);
void infer_trace_free(mh_trace *t);
void infer_trace_mark(nsr_lang *I, const mh_trace *t);

/* ---- lang_infer_smc.c ---------------------------------------------------- */

/* `particles` values from sequential Monte Carlo with `rejuv` MH steps per
 * particle after each resampling. */
lang_rc infer_smc(nsr_lang *I, lval thunk, int64_t particles, int64_t rejuv, lval *out);
/* Marks and frees q's particles. */
void infer_smc_mark(nsr_lang *I, const lang_query *q);
void infer_smc_free(lang_query *q);
/* Called at the barrier a run stops at: keeps the machine there for the
 * particle that runs (q->stop_at). */
lang_rc infer_smc_stop(nsr_lang *I, lang_query *q);

#endif
