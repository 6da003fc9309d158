/* lang_infer_resume.c: queries whose runs resume at choice points.
 *
 * Plain enumeration (lang_infer.c) replays every path from the start: a
 * path that differs from the previous one only in its last choice still
 * re-runs everything before it; MH (lang_infer_mh.c) re-runs its model
 * from the start for every proposal. Here, when the model's run reaches a
 * choice in its own activation of the evaluator, the machine's stacks at
 * that moment (the continuation, just before the primitive that chooses is
 * applied) are copied into a resume point. The next path that changes
 * this choice (an MH proposal at it) restores the stacks and applies the
 * primitive again, which now takes the choice's next (proposed) value;
 * everything before it is not re-run.
 *
 * The heap is not copied, so what a path changed after a resume point must
 * be undone before another path resumes there. The evaluator records the
 * changes that can be undone in a trail (a binding added to or changed in
 * an environment, an entry put in a mem'd procedure's cache) and reports
 * every other effect (output, figures, set!, changed vectors and hash
 * tables, global definitions) with lang_effect: from then on the query
 * runs each path from the start, exactly as without resumption, so a
 * program that prints or mutates gets the same behaviour as before. The
 * first path to reach such an effect runs it itself (its prefix, shared
 * with earlier paths, had none), so nothing is printed or done less often
 * than under replay.
 *
 * An MH proposal may be rejected, and the chain then stays where it was:
 * the trail undone for the proposal's run is kept with the values it had
 * set (redo entries), and the resume points after the one it resumed at
 * are set aside as the run reaches their positions (each position has a
 * second slot for the new point), so a rejection undoes the proposal's
 * changes, sets the old ones again and puts the old points back.
 *
 * A choice made elsewhere (in a nested activation: eval, load, a draw run
 * as written by an observation), or a second choice made by the same
 * primitive application, gets no resume point; paths that change it resume
 * at an earlier point and replay the recorded choices from there, or start
 * over. */
#include <assert.h>
#include <math.h>
#include <string.h>

#include "lang_infer.h"

/* Deeper continuations are not captured (copying them at every choice
 * would cost more than replaying): their paths resume earlier. */
#define RESUME_MAX_FRAMES 4096
#define RESUME_MAX_VALS 16384
/* The resume points of one query hold at most this many bytes, and at most
 * an eighth of the memory budget: a long path of choices deep in a
 * recursion ((repeat 3000 flip) keeps 3000 stacks of up to 3000 frames)
 * must not run out of memory where replaying would not. Points past it
 * are not captured. The trail has a limit of the same size: a path that
 * changes more (a helper with internal definitions called a million
 * times) turns resumption off. */
#define RESUME_MAX_BYTES ((size_t)16 << 20)

size_t infer_resume_limit(const nsr_lang *I) {
  size_t limit = RESUME_MAX_BYTES;
  if (I->cfg.max_memory != 0 && I->cfg.max_memory / 8 < limit) limit = I->cfg.max_memory / 8;
  return limit;
}

void lang_resume_off(nsr_lang *I) {
  lang_query *q = I->resuming;
  q->resumable = false;
  q->ntrail = 0; /* nothing will be undone: every later path starts over */
  q->nredo = 0;
  for (size_t i = 0; i < 2 * q->pointcap; i++) q->points[i].valid = false;
  I->resuming = NULL;
}

void infer_resume_begin(nsr_lang *I, lang_query *q) {
  q->resumable = I->resuming == NULL && !I->cfg.replay_queries;
  q->serial = ++I->resume_serials;
  q->frame_base = I->nframes;
  q->val_base = I->nvals;
  q->runs_outer = I->runs;
}

static lang_rc trail_push(nsr_lang *I, const trail_entry *t) {
  lang_query *q = I->resuming;
  if ((q->ntrail + 1) * sizeof *q->trail > infer_resume_limit(I)) {
    lang_resume_off(I);
    return LANG_OK;
  }
  if (infer_reserve(I, q, (void **)&q->trail, &q->trailcap, q->ntrail, sizeof *q->trail) !=
      LANG_OK) {
    return LANG_ERROR;
  }
  q->trail[q->ntrail++] = *t;
  return LANG_OK;
}

lang_rc lang_trail_env(nsr_lang *I, lang_env *env, uint32_t slot, lval old, lval now) {
  return trail_push(I, &(trail_entry){.kind = TRAIL_ENV_SET,
                                      .obj = lang_obj_val(NSR_LANG_ENV, env), .slot = slot,
                                      .key = lang_nil(), .old = old, .now = now});
}

lang_rc lang_trail_memo(nsr_lang *I, lang_hash *cache, lval key, uint64_t hash, bool had, lval old,
                        lval now) {
  return trail_push(I, &(trail_entry){.kind = TRAIL_MEMO, .obj = lang_obj_val(NSR_LANG_HASH, cache),
                                      .had = had, .key = key, .old = old, .now = now,
                                      .hash = hash});
}

/* Makes trail entry t's change again (entries undone are done again
 * oldest first, so the heap is as it was when t was made). Fails only on
 * memory (a cache may grow). */
static lang_rc redo_entry(nsr_lang *I, const trail_entry *t) {
  if (t->kind == TRAIL_MEMO) {
    return lang_hash_put_hashed(I, LANG_HASH(t->obj), t->key, t->hash, t->now);
  }
  ((lang_env *)(void *)t->obj.as.obj)->vals[t->slot] = t->now;
  return LANG_OK;
}

/* Takes trail entry t's change back (entries are undone newest first). */
static void undo_entry(nsr_lang *I, const trail_entry *t) {
  switch (t->kind) {
    case TRAIL_ENV_SET: ((lang_env *)(void *)t->obj.as.obj)->vals[t->slot] = t->old; break;
    case TRAIL_MEMO: {
      lang_hash *h = LANG_HASH(t->obj);
      if (!t->had) {
        lang_hash_remove_hashed(h, t->key, t->hash);
      } else {
        /* The key is there: putting its old value back cannot allocate. */
        lang_rc rc = lang_hash_put_hashed(I, h, t->key, t->hash, t->old);
        assert(rc == LANG_OK && "a cache entry is restored in place");
        (void)rc;
      }
      break;
    }
  }
}

void infer_trail_undo(nsr_lang *I, const trail_entry *entries, size_t n) {
  while (n > 0) undo_entry(I, &entries[--n]);
}

lang_rc infer_trail_redo(nsr_lang *I, const trail_entry *entries, size_t n) {
  for (size_t i = 0; i < n; i++) {
    if (redo_entry(I, &entries[i]) != LANG_OK) return LANG_ERROR;
  }
  return LANG_OK;
}

/* Undoes q's trail, newest first, down to `mark` entries. */
static void undo_to(nsr_lang *I, lang_query *q, size_t mark) {
  if (q->ntrail > mark) infer_trail_undo(I, q->trail + mark, q->ntrail - mark);
  q->ntrail = mark;
}

void infer_resume_point_mark(nsr_lang *I, const resume_point *p) {
  if (!p->valid) return;
  for (size_t k = 0; k < p->nframes; k++) {
    lang_mark(I, p->frames[k].a);
    lang_mark(I, p->frames[k].b);
    if (p->frames[k].env != NULL) lang_mark(I, lang_obj_val(NSR_LANG_ENV, p->frames[k].env));
  }
  for (size_t k = 0; k < p->nvals; k++) lang_mark(I, p->vals[k]);
}

void infer_trail_mark(nsr_lang *I, const trail_entry *entries, size_t n) {
  for (size_t i = 0; i < n; i++) {
    lang_mark(I, entries[i].obj);
    lang_mark(I, entries[i].key);
    lang_mark(I, entries[i].old);
    lang_mark(I, entries[i].now);
  }
}

void infer_resume_mark(nsr_lang *I, const lang_query *q) {
  infer_trail_mark(I, q->trail, q->ntrail);
  infer_trail_mark(I, q->redo, q->nredo);
  for (size_t i = 0; i < 2 * q->pointcap; i++) infer_resume_point_mark(I, &q->points[i]);
}

static void free_points(resume_point *points, size_t n) {
  for (size_t i = 0; i < n; i++) {
    nsr_free(points[i].frames);
    nsr_free(points[i].vals);
  }
  nsr_free(points);
}

void infer_resume_free(lang_query *q) {
  free_points(q->points, 2 * q->pointcap);
  nsr_free(q->side);
  nsr_free(q->trail);
  nsr_free(q->redo);
}

/* Grows the point's buffer *dst of capacity *cap to n items of `size`
 * bytes, charged to q. */
static lang_rc grow_items(nsr_lang *I, lang_query *q, void **dst, size_t *cap, size_t n,
                          size_t size) {
  if (infer_charge(I, q, (n - *cap) * size) != LANG_OK) return LANG_ERROR;
  q->point_bytes += (n - *cap) * size;
  void *p = nsr_reallocarray(*dst, n, size);
  if (p == NULL) return infer_no_memory(I);
  *dst = p;
  *cap = n;
  return LANG_OK;
}

/* Copies n items of `size` bytes from src into the point's buffer *dst of
 * capacity *cap, growing it (charged to q). Inline: it runs twice per
 * choice, and the buffers have mostly grown already. */
static inline lang_rc copy_items(nsr_lang *I, lang_query *q, void **dst, size_t *cap,
                                 const void *src, size_t n, size_t size) {
  if (n > *cap && grow_items(I, q, dst, cap, n, size) != LANG_OK) return LANG_ERROR;
  if (n > 0) {
    assert(*dst != NULL && "a buffer of capacity >= n > 0 is allocated");
    memcpy(*dst, src, n * size);
  }
  return LANG_OK;
}

/* Whether the machine is in q's model's own activation, just before a
 * primitive's application: what a resume point can hold. */
static bool capturable(const nsr_lang *I, const lang_query *q) {
  if (!q->resumable || I->runs == NULL || I->runs->outer != q->runs_outer) return false;
  if (I->nframes < q->frame_base || I->prim_base < q->val_base) return false;
  return I->nframes - q->frame_base <= RESUME_MAX_FRAMES &&
         I->nvals - q->val_base <= RESUME_MAX_VALS;
}

/* infer_resume_keep once the machine is known to be capturable. */
static lang_rc keep_point(nsr_lang *I, lang_query *q, resume_point *p) {
  p->valid = false;
  size_t nframes = I->nframes - q->frame_base, nvals = I->nvals - q->val_base;
  size_t grow = (nframes > p->framecap ? (nframes - p->framecap) * sizeof *p->frames : 0) +
                (nvals > p->valcap ? (nvals - p->valcap) * sizeof *p->vals : 0);
  if (q->point_bytes + grow > infer_resume_limit(I)) return LANG_OK;
  if (copy_items(I, q, (void **)&p->frames, &p->framecap, I->frames + q->frame_base, nframes,
                 sizeof *p->frames) != LANG_OK ||
      copy_items(I, q, (void **)&p->vals, &p->valcap, I->vals + q->val_base, nvals,
                 sizeof *p->vals) != LANG_OK) {
    return LANG_ERROR;
  }
  p->nframes = nframes;
  p->nvals = nvals;
  p->apply_off = I->prim_base - q->val_base;
  p->memo_call = I->memo_site;
  p->addr = I->addr;
  p->site = I->site;
  p->logw = q->logw;
  p->factors = q->factors;
  p->barriers = q->barriers;
  p->trail_mark = q->ntrail;
  p->valid = true;
  return LANG_OK;
}

lang_rc infer_resume_keep(nsr_lang *I, lang_query *q, resume_point *p) {
  p->valid = false;
  return capturable(I, q) ? keep_point(I, q, p) : LANG_OK;
}

lang_rc infer_resume_point_copy(nsr_lang *I, lang_query *q, const resume_point *from,
                                resume_point *to) {
  *to = *from;
  to->frames = NULL;
  to->vals = NULL;
  to->framecap = to->valcap = 0;
  size_t bytes = from->nframes * sizeof *from->frames + from->nvals * sizeof *from->vals;
  to->valid = from->valid && q->point_bytes + bytes <= infer_resume_limit(I);
  if (!to->valid) return LANG_OK;
  if (copy_items(I, q, (void **)&to->frames, &to->framecap, from->frames, from->nframes,
                 sizeof *to->frames) != LANG_OK ||
      copy_items(I, q, (void **)&to->vals, &to->valcap, from->vals, from->nvals,
                 sizeof *to->vals) != LANG_OK) {
    to->valid = false;
    return LANG_ERROR;
  }
  return LANG_OK;
}

void infer_resume_point_release(nsr_lang *I, lang_query *q, resume_point *p) {
  size_t bytes = p->framecap * sizeof *p->frames + p->valcap * sizeof *p->vals;
  q->point_bytes -= bytes;
  infer_uncharge(I, q, bytes);
  nsr_free(p->frames);
  nsr_free(p->vals);
  *p = (resume_point){0};
}

/* Position i's current resume point, and its other slot. */
static resume_point *point_at(const lang_query *q, size_t i) {
  return &q->points[2 * i + q->side[i]];
}

static resume_point *other_slot(const lang_query *q, size_t i) {
  return &q->points[2 * i + (q->side[i] ^ 1)];
}

/* Grows q's points to hold position `at` (doubling, as infer_reserve
 * does), charged to q; the new slots are empty. */
static lang_rc grow_points(nsr_lang *I, lang_query *q, size_t at) {
  size_t cap = q->pointcap == 0 ? 16 : q->pointcap * 2;
  while (at >= cap) cap *= 2;
  size_t more = cap - q->pointcap;
  if (infer_charge(I, q, more * (2 * sizeof *q->points + sizeof *q->side)) != LANG_OK) {
    return LANG_ERROR;
  }
  resume_point *points = nsr_reallocarray(q->points, 2 * cap, sizeof *points);
  if (points != NULL) q->points = points;
  uint8_t *side = points != NULL ? nsr_reallocarray(q->side, cap, sizeof *side) : NULL;
  if (side == NULL) return infer_no_memory(I);
  q->side = side;
  memset(q->points + 2 * q->pointcap, 0, 2 * more * sizeof *q->points);
  memset(q->side + q->pointcap, 0, more * sizeof *q->side);
  q->pointcap = cap;
  return LANG_OK;
}

/* Sets aside the tried run's old points from position q->aside up to
 * `end`: each position switches to its other slot (invalid, its buffers
 * reused by the new point) and the old point waits in the first. The run
 * reaches positions in order, so each is set aside just before it is
 * first captured at, and no more are. */
static void set_aside_to(lang_query *q, size_t end) {
  for (size_t i = q->aside; i < end; i++) {
    q->side[i] ^= 1;
    point_at(q, i)->valid = false;
  }
  if (end > q->aside) q->aside = end;
}

lang_rc infer_resume_capture(nsr_lang *I, lang_query *q) {
  size_t at = q->pos;
  /* Only the first choice of a primitive application can be resumed by
   * applying that primitive again. */
  bool same_call = q->capture_serial == I->prim_serial;
  q->capture_serial = I->prim_serial;
  if (same_call || !capturable(I, q)) return LANG_OK;
  if (at >= q->pointcap && grow_points(I, q, at) != LANG_OK) return LANG_ERROR;
  if (q->trying) set_aside_to(q, at + 1);
  resume_point *p = point_at(q, at);
  if (p->valid) return LANG_OK; /* this very state, captured by an earlier path */
  if (at >= q->npoints) q->npoints = at + 1;
  return keep_point(I, q, p);
}

size_t infer_resume_latest(const lang_query *q, size_t changed) {
  size_t k = changed + 1;
  while (k > 0 && !(k - 1 < q->pointcap && point_at(q, k - 1)->valid)) k--;
  return k;
}

lang_rc infer_resume_from(nsr_lang *I, lang_query *q, const resume_point *p, lval *value) {
  assert(p->valid && "a path resumes at a valid point");
  assert(I->nframes == q->frame_base && I->nvals == q->val_base &&
         "a path resumes on the stacks its query started from");
  lang_rc rc = lang_reserve_stacks(I, q->frame_base + p->nframes, q->val_base + p->nvals);
  if (rc != LANG_OK) return rc;
  if (p->nframes > 0) memcpy(I->frames + q->frame_base, p->frames, p->nframes * sizeof(lang_frame));
  if (p->nvals > 0) memcpy(I->vals + q->val_base, p->vals, p->nvals * sizeof(lval));
  I->nframes = q->frame_base + p->nframes;
  I->nvals = q->val_base + p->nvals;
  /* The machine gives back the address it started from: the query's, for
   * the next run from the start. */
  uint64_t addr = I->addr;
  I->addr = p->addr;
  I->site = p->site;
  q->logw = p->logw;
  q->factors = p->factors;
  q->barriers = p->barriers;
  q->suspended = false;
  q->fresh_logp = 0;
  q->capture_serial = 0;
  rc = lang_run_from(I, q->frame_base, q->val_base, q->val_base + p->apply_off, p->memo_call,
                     value);
  I->addr = addr;
  if (rc == LANG_OK && q->logw == -INFINITY) rc = LANG_ABORT;
  return rc;
}

/* Runs on from resume point k - 1, its trail undone by the caller. */
static lang_rc run_from_point(nsr_lang *I, lang_query *q, size_t k, lval *value) {
  assert(q->ntrail == point_at(q, k - 1)->trail_mark && "a path resumes at a point with its heap");
  q->pos = k - 1;
  return infer_resume_from(I, q, point_at(q, k - 1), value);
}

lang_rc infer_resume_run(nsr_lang *I, lang_query *q, lval thunk, size_t bumped, lval *value) {
  /* The choices between the point and the changed one are replayed from
   * q->choices. */
  size_t k = infer_resume_latest(q, bumped);
  for (size_t i = k; i < q->pointcap; i++) point_at(q, i)->valid = false;
  undo_to(I, q, k == 0 ? 0 : point_at(q, k - 1)->trail_mark);
  return k == 0 ? infer_run(I, q, thunk, value) : run_from_point(I, q, k, value);
}

lang_rc infer_resume_try(nsr_lang *I, lang_query *q, lval thunk, size_t k, lval *value) {
  size_t mark = k == 0 ? 0 : point_at(q, k - 1)->trail_mark;
  while (q->redocap < q->ntrail - mark) {
    if (infer_reserve(I, q, (void **)&q->redo, &q->redocap, q->redocap, sizeof *q->redo) !=
        LANG_OK) {
      return LANG_ERROR;
    }
  }
  q->nredo = q->ntrail - mark;
  if (q->nredo > 0) memcpy(q->redo, q->trail + mark, q->nredo * sizeof *q->redo);
  undo_to(I, q, mark);
  q->trying = true;
  q->tried = q->aside = k;
  return k == 0 ? infer_run(I, q, thunk, value) : run_from_point(I, q, k, value);
}

lang_rc infer_resume_settle(nsr_lang *I, lang_query *q, bool accepted) {
  q->trying = false;
  if (!q->resumable) return LANG_OK; /* an effect: no state to keep */
  size_t k = q->tried;
  if (accepted) {
    /* The old points from k on are stale: those set aside and those the
     * run did not reach. */
    for (size_t i = k; i < q->aside; i++) other_slot(q, i)->valid = false;
    for (size_t i = q->aside; i < q->npoints; i++) point_at(q, i)->valid = false;
    q->nredo = 0;
    return LANG_OK;
  }
  undo_to(I, q, k == 0 ? 0 : point_at(q, k - 1)->trail_mark);
  for (size_t i = k; i < q->aside; i++) {
    point_at(q, i)->valid = false; /* the proposal's: only its buffers stay */
    q->side[i] ^= 1;                /* the old point comes back */
  }
  if (infer_trail_redo(I, q->redo, q->nredo) != LANG_OK) return LANG_ERROR;
  /* The trail held these entries before: their room is still there. */
  assert(q->ntrail + q->nredo <= q->trailcap && "redone entries return to their place");
  if (q->nredo > 0) memcpy(q->trail + q->ntrail, q->redo, q->nredo * sizeof *q->redo);
  q->ntrail += q->nredo;
  q->nredo = 0;
  return LANG_OK;
}
