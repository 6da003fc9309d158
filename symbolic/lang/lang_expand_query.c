/* lang_expand_query.c: the body of a query (enumeration-query, mh-query,
 * query, conditional), as lang_expand.c hands it over.
 *
 * The body of a query follows webchurch's rules (dsgr_query and
 * transform_equals_condition in its church_astify.js): `define`,
 * `condition` and `factor` statements stay where they are; the first other
 * statement is the query expression, evaluated last; every other statement
 * after it is a condition. So (... (list a b) (condition a) b) returns
 * (list a b) given a and b.
 *
 * An equality condition on a random draw, (condition (= X (gaussian 3 0.1)))
 * with `=` or `equal?` and the draw on either side, becomes an observation:
 * the draw is not made, and the run is weighted by the draw's log density
 * (mass) at X, as webchurch does. The draw may be written in the condition
 * or be the value of an earlier (define x (ERP ...)) of the body, compared
 * with a constant or with a name defined before x (or not in the body at
 * all); then x is defined as the observed value. At run time %observe
 * checks that the names still mean the built-in predicate and sampler, and
 * otherwise draws and conditions as written. */
#include <string.h>

#include "lang_expand.h"
#include "lang_internal.h"

/* The sampling primitives an equality condition can observe. */
static const char *const observable_erps[] = {
    "flip", "uniform-draw", "random-integer", "sample-integer", "sample-discrete",
    "multinomial", "binomial", "poisson", "uniform", "gaussian", "beta", "gamma",
    "exponential", "dirichlet", NULL,
};

static bool head_named(lval x, const char *name) {
  return x.type == NSR_LANG_PAIR && lang_car(x).type == NSR_LANG_SYMBOL &&
         strcmp(LANG_SYM(lang_car(x))->name, name) == 0;
}

/* Whether x is a statement the query body keeps in place. */
static bool query_declaration(lval x) {
  return head_named(x, "define") || head_named(x, "condition") || head_named(x, "factor");
}

/* Whether x is a call (ERP args ...) of an observable sampler that no
 * enclosing scope (nor the query body itself) rebinds. */
static bool erp_call(const nsr_lang *I, lval body, lval x) {
  if (x.type != NSR_LANG_PAIR || lang_car(x).type != NSR_LANG_SYMBOL) return false;
  lang_symbol *s = LANG_SYM(lang_car(x));
  if (lang_expand_locally_bound(I, s) || lang_expand_defines_name(body, s)) return false;
  for (int i = 0; observable_erps[i] != NULL; i++) {
    if (strcmp(s->name, observable_erps[i]) == 0) return true;
  }
  return false;
}

/* (%observe[?] PRED ERP VALUE ARGS ...) for `erp` = (ERP ARGS ...). */
static lang_rc observe_call(nsr_lang *I, bool test, lval pred, lval erp, lval value,
                            lang_pos pos, lval *out) {
  lval args;
  if (cons_at(I, pos, value, lang_cdr(erp), &args) != LANG_OK ||
      cons_at(I, pos, lang_car(erp), args, &args) != LANG_OK ||
      cons_at(I, pos, pred, args, &args) != LANG_OK) {
    return LANG_ERROR;
  }
  return cons_at(I, pos, lang_global(I, test ? "%observe?" : "%observe"), args, out);
}

/* The cell of body holding the last (define name (ERP ...)) before cell
 * `before`, or nil; *index is its position. */
static lval erp_define_of(const nsr_lang *I, lval body, lval before, lang_symbol *name,
                          int64_t *index) {
  lval found = lang_nil();
  int64_t i = 0;
  for (lval c = body; c.type == NSR_LANG_PAIR && c.as.obj != before.as.obj; c = lang_cdr(c), i++) {
    lval st = lang_car(c);
    if (!head_named(st, "define") || lang_list_length(st) != 3) continue;
    lval target = lang_car(lang_cdr(st));
    if (target.type != NSR_LANG_SYMBOL || LANG_SYM(target) != name) continue;
    found = erp_call(I, body, lang_car(lang_cdr(lang_cdr(st)))) ? c : lang_nil();
    *index = i;
  }
  return found;
}

/* Whether `value` may be evaluated where the define at position `index`
 * is: a constant, a quotation, or a name the body defines before it (or
 * does not define). */
static bool value_known_at(lval body, lval value, int64_t index) {
  if (value.type == NSR_LANG_PAIR) return head_named(value, "quote");
  if (value.type != NSR_LANG_SYMBOL) return true;
  int64_t i = 0;
  for (lval c = body; c.type == NSR_LANG_PAIR; c = lang_cdr(c), i++) {
    lval st = lang_car(c);
    if (i >= index && head_named(st, "define") && lang_cdr(st).type == NSR_LANG_PAIR &&
        lang_car(lang_cdr(st)).type == NSR_LANG_SYMBOL &&
        LANG_SYM(lang_car(lang_cdr(st))) == LANG_SYM(value)) {
      return false;
    }
  }
  return true;
}

/* Rewrites the equality `eq` (a condition, or a conjunct of one, in body
 * cell `cell`) into an observation when it is one. *out is what replaces
 * eq (eq itself when nothing applies); a define observed in its place
 * leaves #t. */
static lang_rc observe_equality(nsr_lang *I, lval body, lval cell, lval eq, bool defines,
                                lval *out) {
  *out = eq;
  if (lang_list_length(eq) != 3 || !(head_named(eq, "=") || head_named(eq, "equal?"))) {
    return LANG_OK;
  }
  lval pred = lang_car(eq), sides[2] = {lang_car(lang_cdr(eq)), lang_car(lang_cdr(lang_cdr(eq)))};
  lang_pos pos = lang_pos_of(eq);
  for (int k = 0; k < 2; k++) {
    if (erp_call(I, body, sides[k])) return observe_call(I, true, pred, sides[k], sides[1 - k], pos, out);
  }
  for (int k = 0; defines && k < 2; k++) {
    if (sides[k].type != NSR_LANG_SYMBOL) continue;
    int64_t index = 0;
    lval def = erp_define_of(I, body, cell, LANG_SYM(sides[k]), &index);
    if (def.type != NSR_LANG_PAIR || !value_known_at(body, sides[1 - k], index)) continue;
    lval st = lang_car(def), init;
    if (observe_call(I, false, pred, lang_car(lang_cdr(lang_cdr(st))), sides[1 - k], pos, &init) != LANG_OK) {
      return LANG_ERROR;
    }
    lval items[] = {lang_car(st), lang_car(lang_cdr(st)), init};
    if (list_at(I, lang_pos_of(st), &LANG_PAIR(def)->car, 3, items) != LANG_OK) return LANG_ERROR;
    *out = lang_bool(true);
    return LANG_OK;
  }
  return LANG_OK;
}

/* The most statements a query body may have for conditions on defined
 * names to become observations: finding the define is a walk over the
 * body, and the expander's work is not charged to the step budget. */
#define OBSERVE_MAX_STATEMENTS 4096

/* Turns the equality conditions of the query body (a fresh list: its cells
 * may be replaced) into observations; a condition (and e ...) is looked at
 * conjunct by conjunct, as webchurch splits it. */
static lang_rc observe_equalities(nsr_lang *I, lval body) {
  bool defines = lang_list_length(body) <= OBSERVE_MAX_STATEMENTS;
  for (lval c = body; c.type == NSR_LANG_PAIR; c = lang_cdr(c)) {
    lval st = lang_car(c);
    if (lang_list_length(st) != 2) continue;
    bool cond = head_named(st, "condition") ||
                (lang_car(st).type == I->p_condition.type && lang_car(st).as.obj == I->p_condition.as.obj);
    if (!cond) continue;
    lval e = lang_car(lang_cdr(st)), rewritten;
    if (head_named(e, "and") && lang_list_length(e) > 1) {
      lang_list_builder b = LANG_LIST_BUILDER;
      if (lang_builder_add(I, &b, lang_car(e), lang_pos_of(e)) != LANG_OK) return LANG_ERROR;
      for (lval x = lang_cdr(e); x.type == NSR_LANG_PAIR; x = lang_cdr(x)) {
        if (observe_equality(I, body, c, lang_car(x), defines, &rewritten) != LANG_OK ||
            lang_builder_add(I, &b, rewritten, lang_pos_of(lang_car(x))) != LANG_OK) {
          return LANG_ERROR;
        }
      }
      rewritten = lang_builder_finish(&b, lang_nil());
    } else if (observe_equality(I, body, c, e, defines, &rewritten) != LANG_OK) {
      return LANG_ERROR;
    }
    if (rewritten.type == e.type && rewritten.as.obj == e.as.obj) continue;
    lval items[] = {lang_car(st), rewritten};
    if (list_at(I, lang_pos_of(st), &LANG_PAIR(c)->car, 2, items) != LANG_OK) return LANG_ERROR;
  }
  return LANG_OK;
}

lang_rc lang_expand_query_body(nsr_lang *I, lval x, lval stmts, lval *out) {
  const char *name = LANG_SYM(lang_car(x))->name;
  lang_pos pos = lang_pos_of(x);
  lval query_expr = lang_nil();
  bool found = false, conditioned = false;
  lang_list_builder body = LANG_LIST_BUILDER;
  for (lval c = stmts; c.type == NSR_LANG_PAIR; c = lang_cdr(c)) {
    lval st = lang_car(c);
    lang_pos at = lang_pos_of(st).line ? lang_pos_of(st) : pos;
    if (query_declaration(st)) {
      conditioned = conditioned || !head_named(st, "define");
    } else if (!found) {
      query_expr = st;
      found = true;
      continue;
    } else {
      lval items[] = {I->p_condition, st};
      if (list_at(I, at, &st, 2, items) != LANG_OK) return LANG_ERROR;
      conditioned = true;
    }
    if (lang_builder_add(I, &body, st, at) != LANG_OK) return LANG_ERROR;
  }
  if (!found) {
    return lang_fail_at(I, pos, NSR_ERR_PARSE,
                        "%s: expected a query expression after the define, condition and "
                        "factor statements", name);
  }
  if (!conditioned && !I->cfg.webchurch) {
    return lang_fail_at(I, pos, NSR_ERR_PARSE,
                        "%s: expected a query expression and a condition (or (condition ...) "
                        "in the body); write true for none", name);
  }
  if (lang_builder_add(I, &body, query_expr, lang_pos_of(query_expr).line ? lang_pos_of(query_expr) : pos) != LANG_OK) {
    return LANG_ERROR;
  }
  *out = lang_builder_finish(&body, lang_nil());
  return observe_equalities(I, *out);
}

