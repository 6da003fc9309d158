/* lang_eval_iter.c: map, filter, for-each and repeat as loops of the
 * evaluator's machine.
 *
 * Written in Church (lang_prelude.c), these took about ten machine steps
 * per item (the test for the end, car, cdr, cons, the recursive call) and
 * were most of the steps of typical models: 86% of the benchmark's
 * wide_enum, 79% of dirichlet_marbles. Written as C loops calling back
 * into the evaluator they would put the items' random choices in a nested
 * activation, where queries cannot resume at them (lang_infer_resume.c).
 * So they are primitives the machine runs itself: an iteration frame holds
 * the procedure and where the loop is, the items' results wait on the
 * value stack above it, and each item costs one machine step besides its
 * procedure's own. The procedure is applied to the items in order, as the
 * Church definitions did, so random choices are made in the same order;
 * each item's application gets an address of its own (the frame's address
 * advanced by one per item), as the recursion's call sites gave before. */
#include <math.h>

#include "lang_internal.h"

/* The position of an item's application: in the library, so that an error
 * of a primitive applied directly, (map car '(1 2)), is placed at the
 * program's call and headed by the name written there (map: car: ...). */
static lang_pos library_pos(const nsr_lang *I) {
  return (lang_pos){.file = I->library_file, .line = 1, .col = 1};
}

/* Pushes the application of the frame's procedure to its next item (no
 * argument for repeat); *apply_base receives the procedure's slot. */
static lang_rc apply_next(nsr_lang *I, size_t *apply_base) {
  if (lang_reserve_stacks(I, I->nframes, I->nvals + 2) != LANG_OK) return LANG_ERROR;
  lang_frame *f = &I->frames[I->nframes - 1];
  f->addr = lang_mix(f->addr, 1);
  I->addr = f->addr;
  *apply_base = I->nvals;
  I->vals[I->nvals++] = f->a;
  if (f->kind != FRAME_REPEAT) I->vals[I->nvals++] = lang_car(f->b);
  /* Both from one local: reading back the position just stored, as a
   * chained assignment compiles, stalled on store forwarding (a tenth of
   * wide_enum's time). */
  lang_pos pos = library_pos(I);
  I->site.cur_pos = pos;
  I->site.op_pos = pos;
  I->site.call_name = NULL;
  return LANG_OK;
}

/* Whether the frame has another item to apply its procedure to. */
static bool has_next(const lang_frame *f) {
  return f->kind == FRAME_REPEAT ? f->b.as.i > 0 : f->b.type == NSR_LANG_PAIR;
}

/* Ends the loop: its results (on the value stack from the frame's
 * valbase) become a list in *out, or unspecified for for-each. */
static lang_rc finish(nsr_lang *I, lval *out) {
  lang_frame *f = &I->frames[I->nframes - 1];
  size_t n = I->nvals - f->valbase;
  *out = lang_unspec();
  if (f->kind != FRAME_FOR_EACH) {
    if (lang_charge(I, n) != LANG_OK) return LANG_ERROR; /* the list's cells */
    if (lang_list_from(I, &I->vals[f->valbase], n, out) != LANG_OK) return LANG_ERROR;
  }
  I->nvals = f->valbase;
  I->nframes--;
  return LANG_OK;
}

lang_rc lang_iter_start(nsr_lang *I, size_t apply_base, lval *out, size_t *next_base,
                        bool *more) {
  lang_prim *p = LANG_PRIM(I->vals[apply_base]);
  lval *args = &I->vals[apply_base + 1];
  const char *name = p->op == LANG_PRIM_MAP ? "map" : p->name;
  lang_frame_kind kind = p->op == LANG_PRIM_MAP      ? FRAME_MAP
                         : p->op == LANG_PRIM_FILTER ? FRAME_FILTER
                         : p->op == LANG_PRIM_REPEAT ? FRAME_REPEAT
                                                          : FRAME_FOR_EACH;
  lval proc = args[0], items = args[1];
  if (kind == FRAME_REPEAT) {
    /* (repeat n thunk): n calls, n rounded up, as (- n 1) counted down. */
    double n;
    if (lang_arg_real(I, name, args, 0, &n) != LANG_OK) return LANG_ERROR;
    proc = args[1];
    items = lang_int(!(n > 0) ? 0 : n >= 0x1p62 ? INT64_C(1) << 62 : (int64_t)ceil(n));
  } else if (lang_list_length(items) < 0) {
    return lang_type_error(I, name, "a list", 1, items);
  }
  I->nvals = apply_base;
  if (lang_reserve_stacks(I, I->nframes + 1, I->nvals) != LANG_OK) return LANG_ERROR;
  I->frames[I->nframes++] = (lang_frame){kind, (uint32_t)I->nvals, proc, items, NULL, I->addr};
  *more = has_next(&I->frames[I->nframes - 1]);
  return *more ? apply_next(I, next_base) : finish(I, out);
}

lang_rc lang_iter_step(nsr_lang *I, lval val, lval *out, size_t *next_base, bool *more) {
  if (lang_reserve_stacks(I, I->nframes, I->nvals + 1) != LANG_OK) return LANG_ERROR;
  lang_frame *f = &I->frames[I->nframes - 1];
  switch (f->kind) {
    case FRAME_MAP:
    case FRAME_REPEAT: I->vals[I->nvals++] = val; break;
    case FRAME_FILTER:
      if (lang_truthy(I, val)) I->vals[I->nvals++] = lang_car(f->b);
      break;
    default: break;
  }
  f->b = f->kind == FRAME_REPEAT ? lang_int(f->b.as.i - 1) : lang_cdr(f->b);
  *more = has_next(f);
  return *more ? apply_next(I, next_base) : finish(I, out);
}

lang_rc lang_define_machine_prims(nsr_lang *I) {
  static const struct {
    const char *name;
    int min_args, max_args;
    lang_prim_op op;
  } prims[] = {
      {"apply", 1, -1, LANG_PRIM_APPLY}, /* spread by the evaluator */
      {"%map1", 2, 2, LANG_PRIM_MAP},
      {"filter", 2, 2, LANG_PRIM_FILTER},
      {"for-each", 2, 2, LANG_PRIM_FOR_EACH},
      {"repeat", 2, 2, LANG_PRIM_REPEAT},
  };
  for (size_t i = 0; i < sizeof prims / sizeof prims[0]; i++) {
    if (lang_define_machine_prim(I, prims[i].name, prims[i].min_args, prims[i].max_args,
                                 prims[i].op) != LANG_OK) {
      return LANG_ERROR;
    }
  }
  return LANG_OK;
}
