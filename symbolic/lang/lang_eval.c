/* lang_eval.c: the evaluator, an explicit-continuation machine.
 *
 * The machine state is (mode, expr, env, val) plus a stack of frames (what
 * to do with the value being computed) and a stack of evaluated arguments.
 * Nothing recurses in C: calls in tail position push no frame, so loops run
 * in constant space, and deep non-tail recursion grows the heap-accounted
 * stacks until the memory budget stops it with a clean error.
 *
 * The top of the loop is the collector's only safe point: every live value
 * is then in the run's registers or on the stacks. */
#include <assert.h>
#include <math.h>
#include <string.h>

#include "lang_dist.h"
#include "lang_internal.h"

/* How often (in steps) the wall clock is read. */
#define TIME_CHECK_INTERVAL 1024

typedef enum mode { M_EVAL, M_RETURN, M_APPLY } mode;

void lang_budget_start(nsr_lang *I) {
  I->steps = 0;
  I->step_alarm = 0; /* the first step sets it */
  I->start_ns = nsr_now_ns();
}

/* Doubles one of the evaluator's stacks, `*items` of `*cap` items of
 * `size` bytes (the slow path of push_frame and push_val); the growth is
 * charged to the memory budget. */
static lang_rc grow_stack(nsr_lang *I, void **items, size_t *cap, size_t size) {
  size_t grown = *cap == 0 ? 256 : *cap * 2;
  if (lang_account(I, (ptrdiff_t)((grown - *cap) * size)) != LANG_OK) return LANG_ERROR;
  void *p = nsr_reallocarray(*items, grown, size);
  if (p == NULL) {
    I->heap_bytes -= (grown - *cap) * size;
    return lang_fail_at(I, I->site.cur_pos, NSR_ERR_NOMEM, "out of memory");
  }
  *items = p;
  *cap = grown;
  return LANG_OK;
}

static lang_rc grow_frames(nsr_lang *I) {
  void *items = I->frames;
  lang_rc rc = grow_stack(I, &items, &I->framecap, sizeof(lang_frame));
  I->frames = items;
  return rc;
}

static lang_rc grow_vals(nsr_lang *I) {
  void *items = I->vals;
  lang_rc rc = grow_stack(I, &items, &I->valcap, sizeof(lval));
  I->vals = items;
  return rc;
}

lang_rc lang_grow_stacks(nsr_lang *I, size_t nframes, size_t nvals) {
  while (I->framecap < nframes) {
    if (grow_frames(I) != LANG_OK) return LANG_ERROR;
  }
  while (I->valcap < nvals) {
    if (grow_vals(I) != LANG_OK) return LANG_ERROR;
  }
  return LANG_OK;
}

static inline lang_rc push_frame(nsr_lang *I, lang_frame_kind kind, lval a,
                                 lval b, lang_env *env) {
  if (I->nframes == I->framecap && grow_frames(I) != LANG_OK) return LANG_ERROR;
  I->frames[I->nframes++] = (lang_frame){kind, (uint32_t)I->nvals, a, b, env, I->addr};
  return LANG_OK;
}

static inline lang_rc push_val(nsr_lang *I, lval v) {
  if (I->nvals == I->valcap && grow_vals(I) != LANG_OK) return LANG_ERROR;
  I->vals[I->nvals++] = v;
  return LANG_OK;
}

/* ---- environments -------------------------------------------------------- */

/* The slot of the variable x (a LOCAL, or a global's symbol) in env:
 * NULL when x, or the outer meaning of an unassigned defined name, is a
 * global; *x is then its symbol. */
static inline lval *variable_slot(lang_env *env, lval *x) {
  while (x->type == NSR_LANG_LOCAL) {
    const lang_local *l = LANG_LOCAL(*x);
    lang_env *e = env;
    for (uint32_t d = l->depth; d > 0; d--) e = e->parent;
    assert(e != NULL && l->slot < e->n && "a resolved variable's frame is on the chain");
    lval *slot = &e->vals[l->slot];
    if (!lang_is_unassigned(*slot)) return slot;
    *x = l->outer;
  }
  return NULL;
}

/* lookup's rarer cases: a defined name still unassigned, a library name
 * not yet loaded, the errors. */
static lang_rc lookup_slow(nsr_lang *I, lang_env *env, lval x, lval *out) {
  lval *slot = variable_slot(env, &x);
  if (slot != NULL) {
    *out = *slot;
    return LANG_OK;
  }
  lang_symbol *s = LANG_SYM(x);
  if (!s->bound && s->prelude != 0 && lang_prelude_load(I, s) != LANG_OK) return LANG_ERROR;
  if (s->bound) {
    *out = s->global;
    return LANG_OK;
  }
  if (s->form != FORM_NONE) {
    return lang_error(I, "'%s' is a special form, not a value", s->name);
  }
  return lang_error(I, "unbound variable '%s'", s->name);
}

/* The value of the variable x (a LOCAL, or a global's symbol) in env, in
 * its common cases, an assigned local or a bound global: false for the
 * others (lookup_slow). The frame walk repeats variable_slot's on purpose:
 * sharing it as a helper made GCC lay run_machine out worse (1.2-1.4% more
 * instructions on hmm_deep and tug_of_war). */
__attribute__((always_inline)) static inline bool lookup_fast(lang_env *env, lval x, lval *out) {
  if (x.type == NSR_LANG_LOCAL) {
    const lang_local *l = LANG_LOCAL(x);
    lang_env *e = env;
    for (uint32_t d = l->depth; d > 0; d--) e = e->parent;
    lval v = e->vals[l->slot];
    if (lang_is_unassigned(v)) return false;
    *out = v;
    return true;
  }
  if (!LANG_SYM(x)->bound) return false;
  *out = LANG_SYM(x)->global;
  return true;
}

/* The value of the variable x (a LOCAL, or a global's symbol) in env. */
static inline lang_rc lookup(nsr_lang *I, lang_env *env, lval x, lval *out) {
  return lookup_fast(env, x, out) ? LANG_OK : lookup_slow(I, env, x, out);
}

/* The symbol of the variable x as written. */
static lang_symbol *variable_name(lval x) {
  return x.type == NSR_LANG_LOCAL ? LANG_LOCAL(x)->sym : LANG_SYM(x);
}

/* (define target v) in env: a global's symbol, or a slot of env itself
 * (lang_resolve gives a lambda's defines slots of its own frame). */
static lang_rc define(nsr_lang *I, lang_env *env, lval target, lval v) {
  if (v.type == NSR_LANG_CLOSURE && LANG_CLOSURE(v)->name.type == NSR_LANG_NIL) {
    LANG_CLOSURE(v)->name = lang_obj_val(NSR_LANG_SYMBOL, variable_name(target));
  }
  if (target.type == NSR_LANG_SYMBOL) {
    lang_effect(I);
    LANG_SYM(target)->global = v;
    LANG_SYM(target)->bound = true;
    LANG_SYM(target)->prelude = 0; /* the library's definition is not wanted */
    return LANG_OK;
  }
  const lang_local *l = LANG_LOCAL(target);
  assert(l->depth == 0 && env != NULL && l->slot < env->n && "a define binds in its own frame");
  if (I->resuming != NULL &&
      lang_trail_env(I, env, l->slot, env->vals[l->slot], v) != LANG_OK) {
    return LANG_ERROR;
  }
  env->vals[l->slot] = v;
  return LANG_OK;
}

lang_rc lang_make_closure(nsr_lang *I, lval lambda, lang_env *env, lval *out) {
  lang_closure *c = lang_alloc(I, NSR_LANG_CLOSURE, sizeof *c);
  if (c == NULL) return LANG_ERROR;
  const lang_params *params = LANG_PARAMS(lang_car(lang_cdr(lambda)));
  c->body = lang_cdr(lang_cdr(lambda));
  c->env = env;
  c->name = lang_nil();
  c->nreq = params->nreq;
  c->rest = params->rest;
  c->nslots = params->nslots;
  *out = lang_obj_val(NSR_LANG_CLOSURE, c);
  return LANG_OK;
}

/* ---- application --------------------------------------------------------- */

static const char *proc_name(lval proc) {
  if (proc.type == NSR_LANG_PRIMITIVE) return LANG_PRIM(proc)->name;
  if (proc.type == NSR_LANG_CLOSURE &&
      LANG_CLOSURE(proc)->name.type == NSR_LANG_SYMBOL) {
    return LANG_SYM(LANG_CLOSURE(proc)->name)->name;
  }
  return proc.type == NSR_LANG_MEMO ? "mem'd procedure" : "procedure";
}

/* The wrong number of arguments, naming the procedure as the program
 * called it (its operator symbol) or else by its own name. */
static lang_rc arity_error(nsr_lang *I, lval proc, int min, int max, int got) {
  const char *name = I->site.call_name != NULL ? I->site.call_name->name : proc_name(proc);
  if (min == max) {
    return lang_error(I, "%s: expected %d argument%s, got %d", name, min,
                      min == 1 ? "" : "s", got);
  }
  if (max < 0) {
    return lang_error(I, "%s: expected at least %d argument%s, got %d", name,
                      min, min == 1 ? "" : "s", got);
  }
  return lang_error(I, "%s: expected %d to %d arguments, got %d", name, min,
                    max, got);
}

/* (apply f a ... list) on the value stack from base: rewrites it in place
 * to f a ... list-elements. */
static lang_rc spread_apply(nsr_lang *I, size_t base) {
  size_t n = I->nvals - base - 1; /* arguments of apply */
  if (n < 1) return lang_error(I, "apply: expected a procedure");
  lval list = I->vals[I->nvals - 1];
  if (lang_list_length(list) < 0) {
    return lang_type_error(I, "apply", "a list", (int)n - 1, list);
  }
  memmove(&I->vals[base], &I->vals[base + 1], (n - 1) * sizeof(lval));
  I->nvals -= 2;
  I->site.call_name = NULL; /* the operator written was `apply` */
  for (; list.type == NSR_LANG_PAIR; list = lang_cdr(list)) {
    if (push_val(I, lang_car(list)) != LANG_OK) return LANG_ERROR;
  }
  return LANG_OK;
}

static lang_rc not_a_procedure(nsr_lang *I, lval v) {
  lang_buf b = {.limit = 64}; /* only 60 bytes are shown */
  lang_print(&b, v, true);
  int n = b.data == NULL ? 0 : (int)b.len;
  lang_error(I, "cannot call %.*s%s: it is not a procedure", n > 60 ? 60 : n,
             b.data == NULL ? "" : b.data, n > 60 ? "..." : "");
  nsr_free(b.data);
  return LANG_ERROR;
}

static uint64_t pos_hash(lang_pos pos) {
  return ((uint64_t)pos.file << 48) ^ ((uint64_t)pos.line << 20) ^ pos.col;
}

/* Binds a closure's parameters to the arguments vals[base+1..] in a new
 * frame; *env receives it. */
static lang_rc bind_args(nsr_lang *I, lval proc, size_t base,
                         lang_env **env) {
  lang_closure *c = LANG_CLOSURE(proc);
  int nargs = (int)(I->nvals - base - 1);
  /* webchurch (JavaScript) ignores extra arguments. */
  if (I->cfg.webchurch && !c->rest && nargs > (int)c->nreq) nargs = (int)c->nreq;
  if (nargs < (int)c->nreq || (!c->rest && nargs > (int)c->nreq)) {
    return arity_error(I, proc, (int)c->nreq, c->rest ? -1 : (int)c->nreq, nargs);
  }
  lang_env *e = lang_alloc(I, NSR_LANG_ENV, sizeof *e + c->nslots * sizeof(lval));
  if (e == NULL) return LANG_ERROR;
  e->parent = c->env;
  e->n = c->nslots;
  const lval *args = &I->vals[base + 1];
  for (uint32_t i = 0; i < c->nreq; i++) e->vals[i] = args[i];
  uint32_t bound = c->nreq;
  if (c->rest &&
      lang_list_from(I, args + c->nreq, (size_t)nargs - c->nreq, &e->vals[bound++]) != LANG_OK) {
    return LANG_ERROR;
  }
  for (uint32_t i = bound; i < c->nslots; i++) e->vals[i] = lang_unassigned();
  *env = e;
  return LANG_OK;
}

static lang_rc call_primitive(nsr_lang *I, lval proc, size_t base,
                              lval *out) {
  lang_prim *p = LANG_PRIM(proc);
  int nargs = (int)(I->nvals - base - 1);
  lang_dist_kind kind;
  if (I->cfg.webchurch && p->max_args >= 0 && nargs == p->max_args + 1 &&
      lang_dist_prim_kind(proc, &kind)) {
    /* webchurch's conditioned draw, (gaussian 10 1 10): the argument past
     * the sampler's parameters is the value observed; it is returned and
     * the run weighted by its density (webchurch's ERPs take it so). */
    if (I->query == NULL) {
      return lang_error(I, "%s: argument %d, an observed value, is allowed only inside a query",
                        p->name, nargs);
    }
    lval value = I->vals[base + 1 + p->max_args];
    *out = value;
    return lang_observe_draw(I, proc, &I->vals[base + 1], p->max_args, value);
  }
  if (I->cfg.webchurch && p->max_args >= 0 && nargs > p->max_args) nargs = p->max_args;
  if (nargs < p->min_args || (p->max_args >= 0 && nargs > p->max_args)) {
    return arity_error(I, proc, p->min_args, p->max_args, nargs);
  }
  lval *args = &I->vals[base + 1];
  /* Errors name the call as written; a call the library made names the
   * primitive itself (its code may be shared: car's says "first"), except
   * the library's own %-names, whose messages name the form written. */
  I->prim_name = I->site.call_name != NULL ? I->site.call_name->name
                 : p->name[0] != '%'  ? p->name
                                      : NULL;
  lang_rc rc = LANG_OK;
  if (p->fn != NULL) {
    rc = p->fn(I, args, nargs, out);
  } else {
    nsr_error err;
    nsr_error_clear(&err);
    if (p->user_fn(I, p->user, args, nargs, out, &err) != NSR_OK) {
      rc = lang_fail_at(I, I->site.cur_pos, err.code, "%s: %s", p->name, err.message);
    }
  }
  I->prim_name = NULL;
  return rc;
}

/* ---- the machine --------------------------------------------------------- */

/* Sets the count at which a step must come back to lang_charge: the next
 * multiple of TIME_CHECK_INTERVAL (the clock), or the step budget's end if
 * sooner; below it charge_steps only counts. */
static void set_step_alarm(nsr_lang *I) {
  uint64_t alarm = (I->steps / TIME_CHECK_INTERVAL + 1) * TIME_CHECK_INTERVAL;
  if (I->cfg.max_steps != 0 && I->cfg.max_steps < alarm) alarm = I->cfg.max_steps + 1;
  I->step_alarm = alarm;
}

lang_rc lang_charge(nsr_lang *I, uint64_t work) {
  uint64_t before = I->steps;
  I->steps += work;
  if (I->cfg.max_steps != 0 && I->steps > I->cfg.max_steps) {
    return lang_fail_at(I, I->site.cur_pos, NSR_ERR_LIMIT,
                        "step budget of %llu steps exhausted (--max-steps)",
                        (unsigned long long)I->cfg.max_steps);
  }
  /* The clock and the host's interrupt flag are read whenever the charge
   * crosses an interval boundary, so one large charge from a primitive's
   * loop reads them too. */
  set_step_alarm(I);
  if (before / TIME_CHECK_INTERVAL == I->steps / TIME_CHECK_INTERVAL) return LANG_OK;
  if (I->cfg.interrupt != NULL && *I->cfg.interrupt != 0) {
    return lang_fail_at(I, I->site.cur_pos, NSR_ERR_LIMIT, "interrupted");
  }
  if (I->cfg.timeout_seconds > 0 && nsr_seconds_since(I->start_ns) > I->cfg.timeout_seconds) {
    return lang_fail_at(I, I->site.cur_pos, NSR_ERR_LIMIT,
                        "time budget of %g seconds exhausted (--max-time)",
                        I->cfg.timeout_seconds);
  }
  return LANG_OK;
}

/* The item of `cell`, the next expression to evaluate: a variable's errors
 * point at the cell's position, which the reader made the item's own. */
static lval item_of(nsr_lang *I, lval cell) {
  lang_pos pos = LANG_PAIR(cell)->pos;
  if (pos.line != 0) I->site.cur_pos = pos;
  return lang_car(cell);
}

/* n evaluation steps: lang_charge(I, n) without the call while neither
 * the clock's turn nor the step budget's end is reached (step_alarm). */
static inline lang_rc charge_steps(nsr_lang *I, uint64_t n) {
  if (I->steps + n < I->step_alarm) {
    I->steps += n;
    return LANG_OK;
  }
  return lang_charge(I, n);
}

/* Sets the position and names the errors of applying the call c (its
 * operator and operands are on the value stack). */
static inline void call_ready(nsr_lang *I, const lang_call *c) {
  I->site.cur_pos = c->pos;
  I->site.call_name = c->call_name;
  I->site.op_pos = c->op_pos;
  if (c->user) {
    I->site.user_pos = c->pos;
    I->site.user_call_name = c->call_name;
  }
}

/* How evaluating a call in place ended. */
typedef enum in_place_end {
  IN_PLACE_DONE,
  IN_PLACE_NEVER, /* an operator is not a pure primitive taking its operands */
  IN_PLACE_FAILED, /* a primitive failed, or a variable needs lookup_slow */
} in_place_end;

/* The value of the call c (c->in_place) in env into *out, its operands'
 * calls evaluated first, in order, by the same rule; the arguments go on
 * the value stack (c->stack values at most) and come off it. A call that
 * ends IN_PLACE_NEVER is not tried again, nor are the calls around it. */
static in_place_end eval_in_place(nsr_lang *I, lang_env *env, lang_call *c, lval *out) {
  lval op;
  if (!lookup_fast(env, c->items[0].x, &op)) return IN_PLACE_FAILED;
  int nargs = (int)c->n - 1;
  const lang_prim *p = LANG_PRIM(op);
  if (op.type != NSR_LANG_PRIMITIVE || !p->pure || nargs < p->min_args ||
      (p->max_args >= 0 && nargs > p->max_args)) {
    c->in_place = false; /* mostly the same operator: stop trying */
    return IN_PLACE_NEVER;
  }
  size_t base = I->nvals;
  in_place_end end = IN_PLACE_DONE;
  for (uint32_t i = 1; i < c->n && end == IN_PLACE_DONE; i++) {
    const lang_call_item *it = &c->items[i];
    lval v = it->x;
    if (it->kind == ITEM_EXPR) {
      lang_call *inner = LANG_CALL(it->x);
      end = inner->in_place ? eval_in_place(I, env, inner, &v) : IN_PLACE_NEVER;
      if (end == IN_PLACE_NEVER) c->in_place = false;
    } else if (it->kind == ITEM_VAR && !lookup_fast(env, it->x, &v)) {
      end = IN_PLACE_FAILED;
    }
    I->vals[I->nvals++] = v; /* room for c->stack values was checked */
  }
  if (end == IN_PLACE_DONE && p->fn(I, &I->vals[base], nargs, out) != LANG_OK) {
    end = IN_PLACE_FAILED;
  }
  I->nvals = base;
  return end;
}

/* Applies the call c (c->in_place) in place: its pure primitives called
 * on its operands' values with no turn of the machine, charged the steps
 * the machine would have taken for it, `extra` more ahead of the
 * primitives and `after` once they are done (*after_rc, the only error
 * this can report). Returns false, having changed nothing the machine can
 * see, when a primitive fails or anything else would need the machine:
 * the machine then evaluates the call itself and repeats the failure,
 * reporting it where and as it does (a pure primitive leaves no trace). */
static inline bool apply_in_place(nsr_lang *I, lang_env *env, lang_call *c, uint64_t extra,
                                  uint64_t after, lval *out, lang_rc *after_rc) {
  uint64_t before = c->steps + extra;
  if (I->cfg.webchurch || I->steps + before + after >= I->step_alarm ||
      I->valcap - I->nvals < c->stack) {
    return false;
  }
  uint64_t steps_in = I->steps;
  I->steps += before;
  if (eval_in_place(I, env, c, out) != IN_PLACE_DONE) {
    I->steps = steps_in; /* with whatever the primitives charged */
    set_step_alarm(I);
    nsr_error_clear(&I->error);
    return false;
  }
  I->site.cur_pos = c->pos;
  if (c->user) {
    I->site.user_pos = c->pos;
    I->site.user_call_name = c->call_name;
  }
  *after_rc = charge_steps(I, after);
  return true;
}

/* Evaluates the items of `call` from item i on, its operator and first
 * operands being on the value stack from base. Constants and variables
 * are evaluated in place, charged the two steps (evaluate, return) the
 * machine would take for them: a call's items are mostly such, and taking
 * each through the machine was most of the evaluator's time. At the first
 * item that needs the machine, leaves the rest in a FRAME_ARGS frame on
 * top (a = the next item's index as an integer; pushed, or the one already
 * `waiting` there), sets *expr to it and *next = M_EVAL; when none is
 * left, pops that frame, sets the call's position and name for its
 * errors, *apply_base = base and *next = M_APPLY. Forced inline: as a
 * call it cost a tenth of the evaluator's instructions. */
__attribute__((always_inline)) static inline lang_rc operands(nsr_lang *I, lang_env *env, lval call,
                                                              uint32_t i, size_t base, bool waiting,
                                                              lval *expr, mode *next,
                                                              size_t *apply_base) {
  const lang_call *c = LANG_CALL(call);
  for (; i < c->n; i++) {
    const lang_call_item *it = &c->items[i];
    if (it->kind == ITEM_EXPR) {
      lang_rc rc;
      lval v;
      if (it->x.type == NSR_LANG_CALL && LANG_CALL(it->x)->in_place &&
          apply_in_place(I, env, LANG_CALL(it->x), 1, 1, &v, &rc)) {
        if (rc != LANG_OK || push_val(I, v) != LANG_OK) return LANG_ERROR;
        continue;
      }
      if (it->pos.line != 0) I->site.cur_pos = it->pos;
      if (waiting) {
        I->frames[I->nframes - 1].a = lang_int(i + 1);
      } else {
        if (I->nframes == I->framecap && grow_frames(I) != LANG_OK) return LANG_ERROR;
        I->frames[I->nframes++] =
            (lang_frame){FRAME_ARGS, (uint32_t)base, lang_int(i + 1), call, env, I->addr};
      }
      *expr = it->x;
      *next = M_EVAL;
      return LANG_OK;
    }
    /* The item's position is the current one only where something may
     * report it: the budget's checks, a variable's rarer cases. */
    if (I->steps + 2 < I->step_alarm) {
      I->steps += 2;
    } else {
      if (it->pos.line != 0) I->site.cur_pos = it->pos;
      if (lang_charge(I, 2) != LANG_OK) return LANG_ERROR;
    }
    lval v = it->x;
    if (it->kind == ITEM_VAR && !lookup_fast(env, it->x, &v)) {
      if (it->pos.line != 0) I->site.cur_pos = it->pos;
      if (lookup_slow(I, env, it->x, &v) != LANG_OK) return LANG_ERROR;
    }
    if (push_val(I, v) != LANG_OK) return LANG_ERROR;
  }
  if (waiting) I->nframes--;
  *apply_base = base;
  call_ready(I, c);
  *next = M_APPLY;
  return LANG_OK;
}

/* The branch an if whose test gave `test` takes, from `branches` (then
 * [else]): sets r->expr to it and returns M_EVAL, or, with no else to
 * take, sets r->val and returns M_RETURN. */
static inline mode take_branch(nsr_lang *I, lval branches, lval test, lang_run *r) {
  if (lang_truthy(I, test)) {
    r->expr = item_of(I, branches);
  } else if (lang_cdr(branches).type == NSR_LANG_PAIR) {
    r->expr = item_of(I, lang_cdr(branches));
  } else {
    r->val = lang_unspec();
    return M_RETURN;
  }
  return M_EVAL;
}

/* Runs the machine from `m`: M_EVAL evaluates expr in env; M_APPLY applies
 * the procedure at vals[base] to the values above it (a mem'd procedure's
 * own when memo_call). Frames above frame_base and values above val_base
 * belong to this run (a resumed continuation brings some). Returns when
 * they are all popped, leaving the stacks at the bases. */
static lang_rc run_machine(nsr_lang *I, mode m, lval expr, lang_env *env, size_t base,
                           size_t frame_base, size_t val_base, bool memo_call, lval *out) {
  uint64_t addr_in = I->addr;
  lang_run r = {expr, lang_unspec(), env, I->runs};
  I->runs = &r;
  /* A primitive that runs the evaluator (a query, a higher-order call)
   * must not lend its name to the errors of what runs inside. */
  const char *prim_name_in = I->prim_name;
  I->prim_name = NULL;
  I->site.call_name = NULL;
  I->site.op_pos = I->site.cur_pos;
  lang_rc rc = LANG_OK;
  size_t apply_base = base;
  /* memo_call is set while applying a mem'd procedure's underlying
   * procedure: its address then depends on the memo and the arguments
   * only, not on the call site. */

  for (;;) {
    if (I->heap_bytes >= I->next_gc) lang_collect(I); /* 0 under gc_stress */
    if ((rc = charge_steps(I, 1)) != LANG_OK) break;

    if (m == M_APPLY) {
      lval proc = I->vals[apply_base];
      if (proc.type == NSR_LANG_CLOSURE) {
        lang_env *e = NULL;
        if ((rc = bind_args(I, proc, apply_base, &e)) != LANG_OK) break;
        I->nvals = apply_base;
        if (!memo_call) I->addr = lang_mix(I->addr, pos_hash(I->site.cur_pos));
        memo_call = false;
        lval body = LANG_CLOSURE(proc)->body;
        r.env = e;
        r.expr = item_of(I, body);
        if (lang_cdr(body).type != NSR_LANG_NIL &&
            (rc = push_frame(I, FRAME_SEQ, lang_cdr(body), lang_nil(), e)) != LANG_OK) {
          break;
        }
        m = M_EVAL;
      } else if (proc.type == NSR_LANG_PRIMITIVE) {
        if (LANG_PRIM(proc)->op == LANG_PRIM_APPLY) {
          if ((rc = spread_apply(I, apply_base)) != LANG_OK) break;
          continue;
        }
        if (LANG_PRIM(proc)->op != LANG_PRIM_C) {
          bool more;
          memo_call = false;
          if ((rc = lang_iter_start(I, apply_base, &r.val, &apply_base, &more)) != LANG_OK) break;
          m = more ? M_APPLY : M_RETURN;
          continue;
        }
        I->memo_site = memo_call;
        I->prim_base = apply_base;
        I->prim_serial++;
        rc = call_primitive(I, proc, apply_base, &r.val);
        I->memo_site = memo_call = false;
        if (rc != LANG_OK) break;
        if (I->cfg.webchurch) r.val = lang_webchurch_number(r.val);
        I->nvals = apply_base;
        m = M_RETURN;
      } else if (proc.type == NSR_LANG_MEMO) {
        lang_memo *memo = LANG_MEMO(proc);
        lval *args = &I->vals[apply_base + 1];
        size_t nargs = I->nvals - apply_base - 1;
        bool found;
        uint64_t key_hash;
        lval v = lang_hash_get_items(memo->cache, args, nargs, &key_hash, &found);
        if (found) {
          r.val = v;
          I->nvals = apply_base;
          m = M_RETURN;
          continue;
        }
        lval key; /* the cache's key: the arguments as a list */
        if ((rc = lang_list_from(I, args, nargs, &key)) != LANG_OK ||
            (rc = push_frame(I, FRAME_MEMO, proc, key, r.env)) != LANG_OK) {
          break;
        }
        /* Choices inside get addresses from the memo and its arguments,
         * independent of where the call happens. */
        I->addr = lang_mix(memo->addr, key_hash);
        I->vals[apply_base] = memo->proc;
        memo_call = true;
      } else {
        I->site.cur_pos = I->site.op_pos; /* the operator is at fault */
        rc = not_a_procedure(I, proc);
        break;
      }
      continue;
    }

    if (m == M_EVAL) {
      lval x = r.expr;
      if (x.type == NSR_LANG_CALL) {
        if (LANG_CALL(x)->in_place && apply_in_place(I, r.env, LANG_CALL(x), 0, 0, &r.val, &rc)) {
          if (rc != LANG_OK) break;
          m = M_RETURN;
          continue;
        }
        I->site.cur_pos = LANG_CALL(x)->items[0].pos;
        if ((rc = operands(I, r.env, x, 0, I->nvals, false, &r.expr, &m, &apply_base)) != LANG_OK) {
          break;
        }
        continue;
      }
      if (x.type == NSR_LANG_LOCAL || x.type == NSR_LANG_SYMBOL) {
        if ((rc = lookup(I, r.env, x, &r.val)) != LANG_OK) break;
        m = M_RETURN;
        continue;
      }
      if (x.type != NSR_LANG_PAIR) {
        r.val = x; /* self-evaluating */
        m = M_RETURN;
        continue;
      }
      I->site.cur_pos = LANG_PAIR(x)->pos;
      lval head = lang_car(x), rest = lang_cdr(x);
      lang_form form = head.type == NSR_LANG_SYMBOL ? (lang_form)LANG_SYM(head)->form : FORM_NONE;
      switch (form) {
        case FORM_QUOTE:
          r.val = lang_car(rest);
          m = M_RETURN;
          continue;
        case FORM_IF: {
          lval test = lang_car(rest), v;
          if (test.type == NSR_LANG_CALL && LANG_CALL(test)->in_place &&
              apply_in_place(I, r.env, LANG_CALL(test), 1, 1, &v, &rc)) {
            if (rc == LANG_OK) m = take_branch(I, lang_cdr(rest), v, &r);
            break;
          }
          rc = push_frame(I, FRAME_IF, lang_cdr(rest), lang_nil(), r.env);
          r.expr = item_of(I, rest);
          break;
        }
        case FORM_DEFINE:
        case FORM_SET:
          rc = push_frame(I, form == FORM_DEFINE ? FRAME_DEFINE : FRAME_SET,
                          lang_car(rest), x, r.env);
          r.expr = item_of(I, lang_cdr(rest));
          break;
        case FORM_LAMBDA:
          rc = lang_make_closure(I, x, r.env, &r.val);
          m = M_RETURN;
          break;
        case FORM_BEGIN:
        case FORM_AND:
        case FORM_OR:
          if (rest.type == NSR_LANG_NIL) {
            r.val = form == FORM_AND ? lang_bool(true)
                    : form == FORM_OR ? lang_bool(false) : lang_unspec();
            m = M_RETURN;
            continue;
          }
          if (lang_cdr(rest).type != NSR_LANG_NIL) {
            lang_frame_kind k = form == FORM_BEGIN ? FRAME_SEQ
                                : form == FORM_AND ? FRAME_AND : FRAME_OR;
            rc = push_frame(I, k, lang_cdr(rest), lang_nil(), r.env);
          }
          r.expr = item_of(I, rest);
          break;
        default:
          /* lang_resolve made every application a CALL. */
          assert(false && "a pair of resolved code is a special form");
          rc = lang_error(I, "internal error: not a special form");
          break;
      }
      if (rc != LANG_OK) break;
      continue;
    }

    /* M_RETURN: hand r.val to the top frame. */
    if (I->nframes == frame_base) break;
    lang_frame *f = &I->frames[I->nframes - 1];
    /* Sub-expressions run in the frame's environment and address: what a
     * callee did to I->addr must not leak into its siblings' addresses. */
    r.env = f->env;
    I->addr = f->addr;
    switch (f->kind) {
      case FRAME_ARGS:
        if ((rc = push_val(I, r.val)) != LANG_OK) break;
        rc = operands(I, r.env, f->b, (uint32_t)f->a.as.i, f->valbase, true, &r.expr, &m,
                      &apply_base);
        break;
      case FRAME_SEQ:
      case FRAME_AND:
      case FRAME_OR:
        if ((f->kind == FRAME_AND && !lang_truthy(I, r.val)) ||
            (f->kind == FRAME_OR && lang_truthy(I, r.val))) {
          I->nframes--;
          break;
        }
        r.expr = item_of(I, f->a);
        if (lang_cdr(f->a).type == NSR_LANG_NIL) {
          I->nframes--; /* the last expression is in tail position */
        } else {
          f->a = lang_cdr(f->a);
        }
        m = M_EVAL;
        break;
      case FRAME_IF:
        I->nframes--;
        m = take_branch(I, f->a, r.val, &r);
        break;
      case FRAME_DEFINE:
        I->site.cur_pos = lang_pos_of(f->b);
        I->nframes--;
        rc = define(I, r.env, f->a, r.val);
        r.val = lang_unspec();
        break;
      case FRAME_SET: {
        I->site.cur_pos = lang_pos_of(f->b);
        I->nframes--;
        lang_effect(I);
        lval target = f->a;
        lval *slot = variable_slot(r.env, &target);
        lang_symbol *s = LANG_SYM(target);
        if (slot == NULL && !s->bound && s->prelude != 0 && (rc = lang_prelude_load(I, s)) != LANG_OK) {
          break;
        }
        if (slot != NULL) {
          *slot = r.val;
        } else if (s->bound) {
          s->global = r.val;
        } else {
          rc = lang_error(I, "set!: unbound variable '%s'", s->name);
        }
        r.val = lang_unspec();
        break;
      }
      case FRAME_MAP:
      case FRAME_FILTER:
      case FRAME_FOR_EACH:
      case FRAME_REPEAT: {
        bool more;
        if ((rc = lang_iter_step(I, r.val, &r.val, &apply_base, &more)) == LANG_OK && more) {
          m = M_APPLY;
        }
        break;
      }
      case FRAME_MEMO: {
        lval memo = f->a, key = f->b;
        I->nframes--;
        lang_hash *cache = LANG_MEMO(memo)->cache;
        uint64_t hash = lang_hash_value(key);
        if (I->resuming != NULL && LANG_MEMO(memo)->resuming_serial != I->resuming_serial) {
          lang_effect(I); /* a cache older than the query: not ours to undo */
        } else if (I->resuming != NULL) {
          bool had;
          lval old = lang_hash_get_hashed(cache, key, hash, &had);
          if ((rc = lang_trail_memo(I, cache, key, hash, had, old, r.val)) != LANG_OK) break;
        }
        rc = lang_hash_put_hashed(I, cache, key, hash, r.val);
        break;
      }
    }
    if (rc != LANG_OK) break;
  }

  /* Unwind whatever this run left, on success or failure. */
  I->nframes = frame_base;
  I->nvals = val_base;
  I->runs = r.outer;
  I->addr = addr_in;
  I->prim_name = prim_name_in;
  if (rc == LANG_OK) *out = r.val;
  return rc;
}

static lang_rc run(nsr_lang *I, mode m, lval expr, lang_env *env, size_t base, lval *out) {
  return run_machine(I, m, expr, env, base, I->nframes, m == M_APPLY ? base : I->nvals, false,
                     out);
}

lang_rc lang_run_from(nsr_lang *I, size_t frame_base, size_t val_base, size_t apply_base,
                      bool memo_call, lval *out) {
  return run_machine(I, M_APPLY, lang_nil(), NULL, apply_base, frame_base, val_base, memo_call,
                     out);
}

lang_rc lang_eval(nsr_lang *I, lval x, lang_env *env, lval *out) {
  return run(I, M_EVAL, x, env, 0, out);
}

lang_rc lang_apply(nsr_lang *I, lval proc, const lval *args, int n,
                   lval *out) {
  size_t base = I->nvals;
  if (push_val(I, proc) != LANG_OK) return LANG_ERROR;
  for (int i = 0; i < n; i++) {
    if (push_val(I, args[i]) != LANG_OK) {
      I->nvals = base;
      return LANG_ERROR;
    }
  }
  return run(I, M_APPLY, lang_nil(), NULL, base, out);
}
