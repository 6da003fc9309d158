/* lang_infer_smc.c: sequential Monte Carlo over execution traces.
 *
 * Particles advance one barrier (factor or condition) at a time: each runs
 * on to its next barrier (lang_query.barrier_limit), weighted by the
 * factors it passed on the way; then the particles are resampled
 * (systematic resampling) and optionally rejuvenated by MH steps whose
 * runs stop at the same barrier.
 *
 * A particle's run either replays its trace from the start (every address
 * matches, so every value is reused), which costs O(barriers^2) runs per
 * particle, or, while the query resumes (lang_infer_resume.c), goes on
 * from the machine kept at the barrier it stopped at. The particles share
 * one heap, so each also keeps the changes its runs made to it (bindings,
 * entries of mem caches made in the model: the trail): before a particle
 * runs, the heap's current particle's changes are undone and its own made
 * again. A copy made by resampling gets its parent's machine and changes.
 * A particle whose barrier was met in a nested activation replays its
 * next run; any other effect, or rejuvenation (which changes traces under
 * the kept machines), makes the whole query replay, as before. */
#include <math.h>
#include <string.h>

#include "lang_infer.h"

/* ---- particles ----------------------------------------------------------- */

/* Frees p's kept machine and changes, giving their charge back. */
static void forget_kept(nsr_lang *I, lang_query *q, smc_particle *p) {
  infer_resume_point_release(I, q, &p->at);
  q->change_bytes -= p->nchanges * sizeof *p->changes;
  infer_uncharge(I, q, p->changecap * sizeof *p->changes);
  nsr_free(p->changes);
  p->changes = NULL;
  p->nchanges = p->changecap = 0;
}

/* Frees p's trace, kept machine and changes, giving their charge back. */
static void particle_release(nsr_lang *I, lang_query *q, smc_particle *p) {
  infer_trace_release(I, q, &p->trace);
  forget_kept(I, q, p);
}

/* Copies n items of `size` bytes into a new array *to, charged to q (a
 * particle's changes; its machine is a resume point's copy). */
static lang_rc copy_array(nsr_lang *I, lang_query *q, void **to, const void *from, size_t n,
                          size_t size) {
  *to = NULL;
  if (n == 0) return LANG_OK;
  if (infer_charge(I, q, n * size) != LANG_OK) return LANG_ERROR;
  *to = nsr_mallocarray(n, size);
  if (*to == NULL) return infer_no_memory(I);
  memcpy(*to, from, n * size);
  return LANG_OK;
}

/* *to = a copy of particle `from` (trace, machine, changes), charged to q;
 * on failure *to holds what was copied, to be released. */
static lang_rc particle_copy(nsr_lang *I, lang_query *q, const smc_particle *from,
                             smc_particle *to) {
  *to = *from;
  to->trace = (mh_trace){0};
  to->at = (resume_point){0};
  to->changes = NULL;
  to->nchanges = to->changecap = 0;
  if (infer_trace_copy(I, q, &from->trace, &to->trace) != LANG_OK) return LANG_ERROR;
  if (copy_array(I, q, (void **)&to->changes, from->changes, from->nchanges,
                 sizeof *to->changes) != LANG_OK) {
    return LANG_ERROR;
  }
  to->nchanges = to->changecap = from->nchanges;
  q->change_bytes += from->nchanges * sizeof *from->changes;
  /* Past the points' limit the copy has no machine: it replays. */
  return infer_resume_point_copy(I, q, &from->at, &to->at);
}

void infer_smc_mark(nsr_lang *I, const lang_query *q) {
  for (size_t i = 0; i < q->nparticles; i++) {
    const smc_particle *p = &q->particles[i];
    infer_trace_mark(I, &p->trace);
    lang_mark(I, p->value);
    infer_resume_point_mark(I, &p->at);
    infer_trail_mark(I, p->changes, p->nchanges);
  }
}

void infer_smc_free(lang_query *q) {
  for (size_t i = 0; i < q->nparticles; i++) {
    smc_particle *p = &q->particles[i];
    infer_trace_free(&p->trace);
    nsr_free(p->at.frames);
    nsr_free(p->at.vals);
    nsr_free(p->changes);
  }
  nsr_free(q->particles);
  q->particles = NULL;
  q->nparticles = 0;
}

/* ---- the shared heap ----------------------------------------------------- */

/* Makes the heap hold p's changes (NULL: none): the current particle's are
 * undone, newest first, and p's made again, oldest first. Once the query
 * has stopped resuming, runs make changes nobody records and every run
 * starts over on objects of its own: nothing is switched any more. */
static lang_rc heap_for(nsr_lang *I, lang_query *q, smc_particle *p) {
  if (!q->resumable) q->heap_of = p = NULL;
  if (q->heap_of == p) return LANG_OK;
  if (q->heap_of != NULL) infer_trail_undo(I, q->heap_of->changes, q->heap_of->nchanges);
  q->heap_of = NULL;
  if (p != NULL && infer_trail_redo(I, p->changes, p->nchanges) != LANG_OK) return LANG_ERROR;
  q->heap_of = p;
  return LANG_OK;
}

/* Adds the run's trail to p's changes. Past the resumption's memory limit
 * (for all particles' changes together) the query stops resuming. */
static lang_rc keep_changes(nsr_lang *I, lang_query *q, smc_particle *p) {
  size_t n = p->nchanges + q->ntrail;
  if (q->change_bytes + q->ntrail * sizeof *q->trail > infer_resume_limit(I)) {
    q->resumable = false;
  } else {
    while (p->changecap < n) {
      if (infer_reserve(I, q, (void **)&p->changes, &p->changecap, p->changecap,
                        sizeof *p->changes) != LANG_OK) {
        return LANG_ERROR;
      }
    }
    if (q->ntrail > 0) memcpy(p->changes + p->nchanges, q->trail, q->ntrail * sizeof *q->trail);
    q->change_bytes += q->ntrail * sizeof *q->trail;
    p->nchanges = n;
  }
  q->ntrail = 0;
  return LANG_OK;
}

lang_rc infer_smc_stop(nsr_lang *I, lang_query *q) {
  return q->stop_at != NULL ? infer_resume_keep(I, q, q->stop_at) : LANG_OK;
}

/* ---- sequential Monte Carlo ---------------------------------------------- */

/* Particle p's run: from its kept machine (its trace grows), or replaying
 * its trace from the start. */
static lang_rc particle_run(nsr_lang *I, lang_query *q, lval thunk, smc_particle *p,
                            lval *value) {
  mh_trace t;
  if (q->resumable && p->at.valid) {
    mh_trace old = q->old;
    q->old = (mh_trace){0}; /* nothing to reuse: every choice is new */
    t = q->cur;
    q->cur = p->trace;
    lang_rc run = infer_resume_from(I, q, &p->at, value);
    p->trace = q->cur;
    q->cur = t;
    q->old = old;
    return run;
  }
  t = q->old;
  q->old = p->trace;
  p->trace = t;
  lang_rc run = infer_mh_run(I, q, thunk, value);
  /* q->cur is the particle's new trace; its old one becomes scratch. */
  t = p->trace;
  p->trace = q->cur;
  q->cur = q->old;
  q->old = t;
  return run;
}

/* Runs particle p on to its next barrier (q->barrier_limit set by the
 * caller); its weight increment is the factors passed on the way, -inf
 * when a condition failed. */
static lang_rc smc_advance(nsr_lang *I, lang_query *q, lval thunk, smc_particle *p,
                           lval *value) {
  bool resuming = q->resumable;
  if (resuming) {
    /* A run from the start makes a heap of its own: p's changes are
     * taken back (if the heap holds them) and forgotten. */
    if (!p->at.valid) {
      heap_for(I, q, NULL);
      forget_kept(I, q, p);
    }
    if (heap_for(I, q, p) != LANG_OK) return LANG_ERROR;
    q->ntrail = 0;
    q->stop_at = &p->at;
    I->resuming = q;
    I->resuming_serial = q->serial;
  }
  lang_rc run = particle_run(I, q, thunk, p, value);
  I->resuming = NULL;
  q->stop_at = NULL;
  if (run == LANG_ERROR) return LANG_ERROR;
  if (!q->suspended) p->at.valid = false; /* it ended: nothing to go on from */
  if (resuming && q->resumable && keep_changes(I, q, p) != LANG_OK) return LANG_ERROR;
  if (resuming && !q->resumable) {
    /* It stopped resuming (an effect, or the memory limit): every particle
     * replays from now on, so what they kept is freed. */
    for (size_t i = 0; i < q->nparticles; i++) forget_kept(I, q, &q->particles[i]);
  }
  if (!infer_reached_state(q, run)) {
    p->logw = -INFINITY;
    return LANG_OK;
  }
  p->logw = q->factors - p->factors;
  p->factors = q->factors;
  p->ll = q->logw;
  p->done = run == LANG_OK;
  p->value = p->done ? *value : lang_nil();
  return LANG_OK;
}

/* Systematic resampling: particle i gets about N w_i / sum(w) copies,
 * from one uniform draw. Replaces q's particles; their increments are
 * zeroed. Fails when every weight is zero. */
static lang_rc smc_resample(nsr_lang *I, lang_query *q) {
  size_t n = q->nparticles;
  double max = -INFINITY;
  for (size_t i = 0; i < n; i++) max = fmax(max, q->particles[i].logw);
  if (max == -INFINITY) {
    return lang_fail_at(I, q->call, NSR_ERR_INVALID,
                        "smc: every particle failed a condition (it may never be satisfied; "
                        "try more particles)");
  }
  /* Particles are dropped below: the heap must hold none's changes. */
  heap_for(I, q, NULL);
  long double total = 0;
  /* Each weight relative to the largest is in (0, 1]: exp in double (expl
   * cost 6% of a 1000-particle model), summed in long double. */
  for (size_t i = 0; i < n; i++) total += exp(q->particles[i].logw - max);
  if (infer_charge(I, q, n * sizeof(smc_particle)) != LANG_OK) return LANG_ERROR;
  smc_particle *next = nsr_calloc(n, sizeof *next);
  if (next == NULL) return infer_no_memory(I);
  long double step = total / (long double)n, u = step * (long double)nsr_rng_uniform(&I->rng);
  long double cum = 0;
  size_t k = 0;
  lang_rc rc = LANG_OK;
  for (size_t i = 0; i < n; i++) {
    smc_particle *p = &q->particles[i];
    cum += exp(p->logw - max);
    bool moved = false;
    for (; k < n && u < cum; k++, u += step) {
      if (!moved) {
        next[k] = *p; /* the first copy takes the particle itself */
        moved = true;
      } else if (rc == LANG_OK) {
        rc = particle_copy(I, q, p, &next[k]);
      } else {
        next[k] = (smc_particle){.value = lang_nil()};
      }
      next[k].logw = 0;
    }
    if (!moved) particle_release(I, q, p);
  }
  /* Rounding may leave the last slots: they copy the last live particle. */
  for (; k > 0 && k < n; k++) {
    next[k] = (smc_particle){.value = lang_nil()};
    if (rc == LANG_OK) rc = particle_copy(I, q, &next[k - 1], &next[k]);
  }
  nsr_free(q->particles);
  infer_uncharge(I, q, n * sizeof(smc_particle));
  q->particles = next;
  return rc;
}

/* `rejuv` MH steps on every particle, against the model stopped at the
 * current barrier limit (an invariant kernel of the intermediate target). */
static lang_rc smc_rejuvenate(nsr_lang *I, lang_query *q, lval thunk, int64_t rejuv,
                              lval *scratch) {
  mh_state st = {.value = lang_nil()};
  if (lang_root_push(I, &st.value) != LANG_OK) return LANG_ERROR;
  lang_rc rc = LANG_OK;
  for (size_t i = 0; rc == LANG_OK && i < q->nparticles; i++) {
    smc_particle *p = &q->particles[i];
    st = (mh_state){.value = p->value, .ll = p->ll, .factors = p->factors, .done = p->done};
    mh_trace t = q->old;
    q->old = p->trace;
    p->trace = t;
    for (int64_t r = 0; rc == LANG_OK && r < rejuv; r++) {
      rc = infer_mh_step(I, q, thunk, &st, scratch);
    }
    t = p->trace;
    p->trace = q->old;
    q->old = t;
    p->value = st.value;
    p->ll = st.ll;
    p->factors = st.factors;
    p->done = st.done;
  }
  lang_root_pop(I, 1);
  return rc;
}

/* The particles' values, in order. */
static lang_rc smc_values(nsr_lang *I, const lang_query *q, lval *out) {
  lval acc = lang_nil();
  for (size_t i = q->nparticles; i-- > 0;) {
    if (lang_cons(I, q->particles[i].value, acc, &acc) != LANG_OK) return LANG_ERROR;
  }
  *out = acc;
  return LANG_OK;
}

lang_rc infer_smc(nsr_lang *I, lval thunk, int64_t particles, int64_t rejuv, lval *out) {
  lang_query q;
  lang_rc entered = infer_enter(I, &q, Q_MH);
  if (entered != LANG_OK) return entered;
  /* Rejuvenation changes traces under the kept machines: it replays. */
  infer_resume_begin(I, &q);
  q.resumable = q.resumable && rejuv == 0;
  lval value = lang_nil();
  lang_rc rc = lang_root_push(I, &value);
  if (rc != LANG_OK) {
    infer_leave(I, &q);
    return rc;
  }
  size_t n = (size_t)particles;
  if ((uint64_t)particles > SIZE_MAX / 4 / sizeof(smc_particle)) {
    rc = lang_fail_at(I, q.call, NSR_ERR_LIMIT, "smc: %lld particles cannot fit in memory",
                      (long long)particles);
  }
  if (rc == LANG_OK) rc = infer_charge(I, &q, n * sizeof(smc_particle));
  smc_particle *ps = rc == LANG_OK ? nsr_calloc(n, sizeof *ps) : NULL;
  if (rc == LANG_OK && ps == NULL) rc = infer_no_memory(I);
  if (ps != NULL) {
    q.particles = ps;
    q.nparticles = n;
    for (size_t i = 0; i < n; i++) ps[i].value = lang_nil();
  }
  /* Step k: every particle still running passes its k-th barrier and stops
   * before the next one. Step 0 runs to the first barrier. */
  bool all_done = false;
  for (int64_t k = 0; rc == LANG_OK && !all_done; k++) {
    q.barrier_limit = k;
    for (size_t i = 0; rc == LANG_OK && i < q.nparticles; i++) {
      smc_particle *p = &q.particles[i];
      p->logw = 0;
      if (!p->done) rc = smc_advance(I, &q, thunk, p, &value);
    }
    if (rc == LANG_OK) rc = smc_resample(I, &q);
    if (rc == LANG_OK && rejuv > 0) rc = smc_rejuvenate(I, &q, thunk, rejuv, &value);
    all_done = true;
    for (size_t i = 0; i < q.nparticles; i++) all_done = all_done && q.particles[i].done;
  }
  I->site.cur_pos = q.call;
  if (rc == LANG_OK) rc = smc_values(I, &q, out);
  lang_root_pop(I, 1);
  infer_leave(I, &q);
  return rc;
}
