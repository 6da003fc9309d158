/* lang_resolve.c: gives each variable of expanded code its place, once,
 * before the code runs, so the evaluator never looks a name up.
 *
 * A lambda's frame holds its parameters (the rest list last), then every
 * name its body defines, in order of first appearance: a define anywhere
 * in the body but inside a nested lambda binds in the lambda's frame, as
 * the evaluator has always bound it (webchurch, compiling to JavaScript,
 * hoists it the same way). A variable bound by an enclosing lambda becomes
 * a LOCAL (frames out, slot); any other stays its symbol, a global. A
 * lambda list becomes a PARAMS object, which sizes the frame, and an
 * application a CALL, its items in an array, each marked with how it is
 * evaluated.
 *
 * A defined name's slot is unassigned until its define runs. A reference
 * that finds it so means what the name meant outside that lambda (the
 * LOCAL's `outer`), as when bindings were added at run time: in
 * (lambda () (display x) (define x 1)) the display shows the global x. */
#include <assert.h>

#include "lang_internal.h"

/* The names of one lambda's frame, the innermost first in a chain on the
 * C stack of resolve_lambda. */
typedef struct resolve_scope {
  lang_symbol **names; /* slot i is names[i] */
  uint32_t n, cap;
  uint32_t nparams;    /* slots below this are parameters: never unassigned */
  const struct resolve_scope *outer;
} resolve_scope;

static lang_rc resolve(nsr_lang *I, const resolve_scope *sc, lval x, lval *out);

static lang_form core_form(lval x) {
  if (x.type != NSR_LANG_PAIR || lang_car(x).type != NSR_LANG_SYMBOL) return FORM_NONE;
  return (lang_form)LANG_SYM(lang_car(x))->form;
}

/* The slot of s in sc, or -1. */
static int64_t slot_of(const resolve_scope *sc, const lang_symbol *s) {
  for (uint32_t i = 0; i < sc->n; i++) {
    if (sc->names[i] == s) return i;
  }
  return -1;
}

/* Gives s a slot in sc unless it has one. */
static lang_rc add_name(nsr_lang *I, resolve_scope *sc, lang_symbol *s) {
  if (slot_of(sc, s) >= 0) return LANG_OK;
  if (sc->n == sc->cap) {
    uint32_t cap = sc->cap < 8 ? 8 : sc->cap * 2;
    lang_symbol **names = nsr_reallocarray(sc->names, cap, sizeof *names);
    if (names == NULL) return lang_fail_at(I, I->site.cur_pos, NSR_ERR_NOMEM, "out of memory");
    sc->names = names;
    sc->cap = cap;
  }
  sc->names[sc->n++] = s;
  return LANG_OK;
}

/* Adds the names the expression x defines to sc: its defines outside
 * nested lambdas and quotations. */
static lang_rc add_defined(nsr_lang *I, resolve_scope *sc, lval x) {
  if (x.type != NSR_LANG_PAIR) return LANG_OK;
  lang_form form = core_form(x);
  if (form == FORM_QUOTE || form == FORM_LAMBDA) return LANG_OK;
  if (form == FORM_DEFINE) {
    lval target = lang_car(lang_cdr(x));
    if (add_name(I, sc, LANG_SYM(target)) != LANG_OK) return LANG_ERROR;
  }
  for (; x.type == NSR_LANG_PAIR; x = lang_cdr(x)) {
    if (add_defined(I, sc, lang_car(x)) != LANG_OK) return LANG_ERROR;
  }
  return LANG_OK;
}

/* The variable s as seen from sc, `depth` frames in from where it is
 * written: a LOCAL, or s itself when no enclosing lambda binds it. */
static lang_rc resolve_name(nsr_lang *I, const resolve_scope *sc, lang_symbol *s, uint32_t depth,
                            lval *out) {
  for (; sc != NULL; sc = sc->outer, depth++) {
    int64_t slot = slot_of(sc, s);
    if (slot < 0) continue;
    lval outer = lang_obj_val(NSR_LANG_SYMBOL, s);
    if (slot >= sc->nparams && resolve_name(I, sc->outer, s, depth + 1, &outer) != LANG_OK) {
      return LANG_ERROR;
    }
    lang_local *l = lang_alloc(I, NSR_LANG_LOCAL, sizeof *l);
    if (l == NULL) return LANG_ERROR;
    l->sym = s;
    l->depth = depth;
    l->slot = (uint32_t)slot;
    l->outer = outer;
    *out = lang_obj_val(NSR_LANG_LOCAL, l);
    return LANG_OK;
  }
  *out = lang_obj_val(NSR_LANG_SYMBOL, s);
  return LANG_OK;
}

/* (a . rest) in a new cell with the position of `like`. */
static lang_rc cell_like(nsr_lang *I, lval like, lval a, lval rest, lval *out) {
  if (lang_cons_at(I, a, rest, LANG_PAIR(like)->pos, out) != LANG_OK) return LANG_ERROR;
  LANG_PAIR(*out)->head_col = LANG_PAIR(like)->head_col;
  return LANG_OK;
}

/* The proper list `list` with its items from `from` on resolved in sc
 * (new cells, each at its old one's position; the items before `from`
 * kept as they are). */
static lang_rc resolve_items(nsr_lang *I, const resolve_scope *sc, lval list, int from,
                             lval *out) {
  if (list.type != NSR_LANG_PAIR) {
    *out = list;
    return LANG_OK;
  }
  lang_list_builder b = LANG_LIST_BUILDER;
  int i = 0;
  for (lval l = list; l.type == NSR_LANG_PAIR; l = lang_cdr(l), i++) {
    lval item = lang_car(l);
    if ((i >= from && resolve(I, sc, item, &item) != LANG_OK) ||
        lang_builder_add(I, &b, item, LANG_PAIR(l)->pos) != LANG_OK) {
      return LANG_ERROR;
    }
  }
  *out = lang_builder_finish(&b, lang_nil());
  LANG_PAIR(*out)->head_col = LANG_PAIR(list)->head_col;
  return LANG_OK;
}

/* (lambda PARAMS body ...) for x = (lambda params body ...). */
static lang_rc resolve_lambda(nsr_lang *I, const resolve_scope *outer, lval x, lval *out) {
  lval list = lang_car(lang_cdr(x)), body = lang_cdr(lang_cdr(x));
  resolve_scope sc = {.outer = outer};
  lang_rc rc = LANG_OK;
  lval p = list;
  uint32_t nreq = 0;
  for (; rc == LANG_OK && p.type == NSR_LANG_PAIR; p = lang_cdr(p), nreq++) {
    rc = add_name(I, &sc, LANG_SYM(lang_car(p)));
  }
  if (rc == LANG_OK && p.type == NSR_LANG_SYMBOL) rc = add_name(I, &sc, LANG_SYM(p));
  sc.nparams = sc.n;
  for (lval b = body; rc == LANG_OK && b.type == NSR_LANG_PAIR; b = lang_cdr(b)) {
    rc = add_defined(I, &sc, lang_car(b));
  }
  lang_params *params = rc == LANG_OK ? lang_alloc(I, NSR_LANG_PARAMS, sizeof *params) : NULL;
  if (params != NULL) {
    params->list = list;
    params->nreq = nreq;
    params->rest = p.type == NSR_LANG_SYMBOL;
    params->nslots = sc.n;
    lval resolved;
    rc = resolve_items(I, &sc, body, 0, &resolved);
    if (rc == LANG_OK) rc = cell_like(I, lang_cdr(x), lang_obj_val(NSR_LANG_PARAMS, params), resolved, &resolved);
    if (rc == LANG_OK) rc = cell_like(I, x, lang_car(x), resolved, out);
  } else {
    rc = LANG_ERROR;
  }
  nsr_free(sc.names);
  return rc;
}

/* (define|set! VARIABLE value) for x = (define|set! name value): the name
 * resolved as a reference is where the value goes. */
static lang_rc resolve_binding(nsr_lang *I, const resolve_scope *sc, lval x, lval *out) {
  lval target, rest;
  if (resolve_name(I, sc, LANG_SYM(lang_car(lang_cdr(x))), 0, &target) != LANG_OK ||
      resolve_items(I, sc, lang_cdr(lang_cdr(x)), 0, &rest) != LANG_OK ||
      cell_like(I, lang_cdr(x), target, rest, &rest) != LANG_OK) {
    return LANG_ERROR;
  }
  return cell_like(I, x, lang_car(x), rest, out);
}

/* How the evaluator gets the resolved item x of a call: a quotation
 * becomes its datum. */
static lang_call_item call_item(lval x, lang_pos pos) {
  if (x.type == NSR_LANG_LOCAL || x.type == NSR_LANG_SYMBOL) return (lang_call_item){x, pos, ITEM_VAR};
  if (core_form(x) == FORM_QUOTE) return (lang_call_item){lang_car(lang_cdr(x)), pos, ITEM_CONST};
  if (x.type == NSR_LANG_PAIR || x.type == NSR_LANG_CALL) return (lang_call_item){x, pos, ITEM_EXPR};
  return (lang_call_item){x, pos, ITEM_CONST};
}

/* The application x, a proper list (the expander checked), as a CALL.
 * The operator's item carries the position its errors point at (the
 * call's, its column moved to the operator's when the reader knew it);
 * each operand's, its cell's. */
static lang_rc resolve_call(nsr_lang *I, const resolve_scope *sc, lval x, lval *out) {
  int64_t n = lang_list_length(x);
  assert(n > 0 && "the expander passes only proper, non-empty applications");
  lang_call *c = lang_alloc(I, NSR_LANG_CALL, sizeof *c + (size_t)n * sizeof c->items[0]);
  if (c == NULL) return LANG_ERROR;
  c->n = (uint32_t)n;
  c->pos = LANG_PAIR(x)->pos;
  uint32_t i = 0, depth = 1;
  for (lval l = x; l.type == NSR_LANG_PAIR; l = lang_cdr(l), i++) {
    lval item;
    if (resolve(I, sc, lang_car(l), &item) != LANG_OK) return LANG_ERROR;
    c->items[i] = call_item(item, i == 0 ? lang_head_pos(x) : LANG_PAIR(l)->pos);
  }
  /* Whether it may be applied in place (lang_call), and its steps: two for
   * each variable or constant; for a call in place, its evaluation and
   * return steps around its own. */
  c->in_place = c->items[0].kind == ITEM_VAR;
  c->steps = 1; /* the application */
  c->stack = c->n - 1;
  uint32_t inner_stack = 0;
  for (i = 0; i < c->n && c->in_place; i++) {
    const lang_call_item *it = &c->items[i];
    if (it->kind != ITEM_EXPR) {
      c->steps += 2;
      continue;
    }
    const lang_call *inner = it->x.type == NSR_LANG_CALL ? LANG_CALL(it->x) : NULL;
    c->in_place = inner != NULL && inner->in_place && inner->depth < LANG_IN_PLACE_DEPTH;
    if (!c->in_place) break;
    c->steps += 2 + inner->steps;
    if (inner->stack > inner_stack) inner_stack = inner->stack;
    if ((uint32_t)inner->depth + 1 > depth) depth = (uint32_t)inner->depth + 1;
  }
  c->stack += inner_stack;
  c->depth = (uint8_t)depth;
  c->user = c->pos.line != 0 && c->pos.file != I->library_file;
  c->op_pos = c->user ? c->items[0].pos : c->pos;
  if (c->user && c->items[0].kind == ITEM_VAR) {
    lval op = c->items[0].x;
    c->call_name = op.type == NSR_LANG_LOCAL ? LANG_LOCAL(op)->sym : LANG_SYM(op);
  }
  *out = lang_obj_val(NSR_LANG_CALL, c);
  return LANG_OK;
}

static lang_rc resolve(nsr_lang *I, const resolve_scope *sc, lval x, lval *out) {
  if (x.type == NSR_LANG_SYMBOL) return resolve_name(I, sc, LANG_SYM(x), 0, out);
  if (x.type != NSR_LANG_PAIR) {
    *out = x;
    return LANG_OK;
  }
  switch (core_form(x)) {
    case FORM_QUOTE: *out = x; return LANG_OK;
    case FORM_LAMBDA: return resolve_lambda(I, sc, x, out);
    case FORM_DEFINE:
    case FORM_SET: return resolve_binding(I, sc, x, out);
    case FORM_IF:
    case FORM_BEGIN:
    case FORM_AND:
    case FORM_OR: return resolve_items(I, sc, x, 1, out);
    default: return resolve_call(I, sc, x, out);
  }
}

lang_rc lang_resolve(nsr_lang *I, lval x, lval *out) { return resolve(I, NULL, x, out); }
