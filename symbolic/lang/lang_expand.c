/* lang_expand.c: checks the syntax of special forms and rewrites the derived
 * ones into the core forms the evaluator knows (quote, if, define, set!,
 * lambda, begin, and, or, application). New cells take the position of the
 * form they came from, so run-time errors still point into the source.
 *
 *   (let ((v e) ...) b ...)          ((lambda (v ...) b ...) e ...)
 *   (let name ((v e) ...) b ...)     ((letrec ((name (lambda (v ...) b ...)))
 *                                       name) e ...)
 *   (let* ((v e) rest ...) b ...)    (let ((v e)) (let* (rest ...) b ...))
 *   (letrec ((v e) ...) b ...)       ((lambda () (define v e) ... b ...))
 *   (cond (t b ...) ...)             nested if; (t => f) and (t) too
 *   (case k ((d ...) b ...) ...)     ((lambda (tmp) (if (memv tmp '(d ...))
 *                                       ...)) k); under webchurch
 *                                       (memv tmp (<list> d ...))
 *   (when c b ...) (unless c b ...)  (if c (begin b ...)) and its converse
 *   `x                               cons/list/append/list->vector calls
 *   (enumeration-query d ... q c)    (<enumeration-query>
 *                                       (lambda () d ... (<condition> c) q))
 *                                    (the body by webchurch's rules: see
 *                                    lang_expand_query.c)
 *   (mh-query n lag d ... q c)       (<mh-query> n lag (lambda () ...))
 *   (query method d ... q c)         (<query> method (lambda () ...))
 *   (conditional m d ... q c)        (lambda () (%conditional-draw m
 *     (webchurch only)                 (query (%conditional-method m)
 *                                        d ... q c)))
 * where <p> is the primitive itself, so user definitions cannot capture it.
 *
 * Special-form names are keywords at top level (redefining one globally is
 * an error), but a local binding (a parameter, a let variable, an internal
 * define) shadows them within its scope, as in Scheme: (lambda (query)
 * (query 1)) calls the parameter. */
#include <string.h>

#include "lang_expand.h"
#include "lang_internal.h"

static lang_rc expand(nsr_lang *I, lval x, lval *out);

/* The names bound by one enclosing lambda (parameters and internal
 * defines), innermost first. Frames live on the C stack of make_lambda. */
typedef struct lang_scope {
  lval params;      /* the lambda list */
  lval body;        /* scanned for (define name ...) */
  struct lang_scope *outer;
} lang_scope;

bool lang_expand_defines_name(lval body, lang_symbol *s) {
  for (; body.type == NSR_LANG_PAIR; body = lang_cdr(body)) {
    lval form = lang_car(body);
    if (form.type != NSR_LANG_PAIR || lang_car(form).type != NSR_LANG_SYMBOL ||
        LANG_SYM(lang_car(form))->form != FORM_DEFINE || lang_cdr(form).type != NSR_LANG_PAIR) {
      continue;
    }
    lval target = lang_car(lang_cdr(form));
    if (target.type == NSR_LANG_PAIR) target = lang_car(target);
    if (target.type == NSR_LANG_SYMBOL && LANG_SYM(target) == s) return true;
  }
  return false;
}

bool lang_expand_locally_bound(const nsr_lang *I, lang_symbol *s) {
  for (const lang_scope *sc = I->scope; sc != NULL; sc = sc->outer) {
    lval p = sc->params;
    for (; p.type == NSR_LANG_PAIR; p = lang_cdr(p)) {
      if (LANG_SYM(lang_car(p)) == s) return true;
    }
    if ((p.type == NSR_LANG_SYMBOL && LANG_SYM(p) == s) || lang_expand_defines_name(sc->body, s)) return true;
  }
  return false;
}

static lang_rc bad_syntax(nsr_lang *I, lval form, const char *msg) {
  return lang_fail_at(I, lang_pos_of(form), NSR_ERR_PARSE, "%s", msg);
}

static lval sym(lang_symbol *s) { return lang_obj_val(NSR_LANG_SYMBOL, s); }

/* (head name value) at pos, the value's cell at value_pos (where the
 * program wrote it, so a variable there is reported at its place). */
static lang_rc binding_form(nsr_lang *I, lang_pos pos, lval head, lval name,
                            lval value, lang_pos value_pos, lval *out) {
  lval tail;
  if (cons_at(I, value_pos.line ? value_pos : pos, value, lang_nil(), &tail) != LANG_OK ||
      cons_at(I, pos, name, tail, &tail) != LANG_OK) {
    return LANG_ERROR;
  }
  return cons_at(I, pos, head, tail, out);
}

/* Expands every element of a proper list. */
static lang_rc expand_list(nsr_lang *I, lval list, lval *out) {
  if (list.type != NSR_LANG_PAIR) {
    *out = list;
    return LANG_OK;
  }
  lang_list_builder b = LANG_LIST_BUILDER;
  for (lval l = list; l.type == NSR_LANG_PAIR; l = lang_cdr(l)) {
    lval x;
    if (expand(I, lang_car(l), &x) != LANG_OK ||
        lang_builder_add(I, &b, x, LANG_PAIR(l)->pos) != LANG_OK) {
      return LANG_ERROR;
    }
  }
  *out = lang_builder_finish(&b, lang_nil());
  LANG_PAIR(*out)->head_col = LANG_PAIR(list)->head_col;
  return LANG_OK;
}

static bool is_form(lval x, lang_symbol *s) {
  return x.type == NSR_LANG_PAIR && lang_car(x).type == NSR_LANG_SYMBOL &&
         LANG_SYM(lang_car(x)) == s;
}

/* A fresh symbol no program can name: not interned. */
static lang_rc gensym(nsr_lang *I, const char *name, lval *out) {
  size_t len = strlen(name);
  lang_symbol *s = lang_alloc(I, NSR_LANG_SYMBOL, sizeof *s + len + 1);
  if (s == NULL) return LANG_ERROR;
  memcpy(s->name, name, len + 1);
  s->len = len;
  *out = sym(s);
  return LANG_OK;
}

/* Checks a lambda list: symbols, no repeats, an optional rest symbol. */
static lang_rc check_params(nsr_lang *I, lval form, lval params) {
  lval p = params;
  for (; p.type == NSR_LANG_PAIR; p = lang_cdr(p)) {
    lval v = lang_car(p);
    if (v.type != NSR_LANG_SYMBOL) {
      return bad_syntax(I, form, "lambda: parameters must be symbols");
    }
    for (lval q = lang_cdr(p); q.type == NSR_LANG_PAIR; q = lang_cdr(q)) {
      if (lang_eqv(lang_car(q), v)) {
        return lang_fail_at(I, lang_pos_of(form), NSR_ERR_PARSE,
                            "lambda: parameter '%s' appears twice",
                            LANG_SYM(v)->name);
      }
    }
  }
  if (p.type != NSR_LANG_NIL && p.type != NSR_LANG_SYMBOL) {
    return bad_syntax(I, form, "lambda: parameters must be symbols");
  }
  return LANG_OK;
}

/* (lambda params body ...) from its pieces; body must be non-empty. */
static lang_rc make_lambda(nsr_lang *I, lval form, lval params, lval body,
                           lval *out) {
  if (check_params(I, form, params) != LANG_OK) return LANG_ERROR;
  if (lang_list_length(body) < 1) {
    return bad_syntax(I, form, "a procedure body needs at least one expression");
  }
  lval ebody, rest;
  lang_scope scope = {params, body, I->scope};
  I->scope = &scope;
  lang_rc rc = expand_list(I, body, &ebody);
  I->scope = scope.outer;
  if (rc != LANG_OK) return LANG_ERROR;
  lang_pos pos = lang_pos_of(form);
  if (cons_at(I, pos, params, ebody, &rest) != LANG_OK) return LANG_ERROR;
  return cons_at(I, pos, sym(I->s_lambda), rest, out);
}

static lang_rc expand_define(nsr_lang *I, lval x, lval *out) {
  lang_pos pos = lang_pos_of(x);
  int64_t n = lang_list_length(x);
  if (n < 2) return bad_syntax(I, x, "define: expected a name");
  lval target = lang_car(lang_cdr(x));
  if (target.type == NSR_LANG_PAIR) {
    /* (define (name . params) body ...) */
    lval name = lang_car(target), lam;
    if (name.type != NSR_LANG_SYMBOL) {
      return bad_syntax(I, x, "define: the procedure name must be a symbol");
    }
    if (I->scope == NULL && LANG_SYM(name)->form != FORM_NONE) {
      return lang_fail_at(I, pos, NSR_ERR_PARSE,
                          "define: '%s' is a special form and cannot be redefined globally",
                          LANG_SYM(name)->name);
    }
    if (make_lambda(I, x, lang_cdr(target), lang_cdr(lang_cdr(x)), &lam) != LANG_OK) {
      return LANG_ERROR;
    }
    lval items[] = {sym(I->s_define), name, lam};
    return list_at(I, pos, out, 3, items);
  }
  if (target.type != NSR_LANG_SYMBOL) {
    return bad_syntax(I, x, "define: expected a symbol or (name params ...)");
  }
  if (I->scope == NULL && LANG_SYM(target)->form != FORM_NONE) {
    return lang_fail_at(I, pos, NSR_ERR_PARSE,
                        "define: '%s' is a special form and cannot be redefined globally",
                        LANG_SYM(target)->name);
  }
  if (n != 3) return bad_syntax(I, x, "define: expected (define name expression)");
  lval e, value_cell = lang_cdr(lang_cdr(x));
  if (expand(I, lang_car(value_cell), &e) != LANG_OK) return LANG_ERROR;
  return binding_form(I, pos, sym(I->s_define), target, e, lang_pos_of(value_cell), out);
}

/* Splits ((v e) ...) into a list of names and a list of expressions. */
static lang_rc split_bindings(nsr_lang *I, lval form, lval bindings,
                              lval *names, lval *inits) {
  if (lang_list_length(bindings) < 0) {
    return bad_syntax(I, form, "expected a list of bindings ((name value) ...)");
  }
  lang_pos pos = lang_pos_of(form);
  lang_list_builder nb = LANG_LIST_BUILDER, ib = LANG_LIST_BUILDER;
  for (lval b = bindings; b.type == NSR_LANG_PAIR; b = lang_cdr(b)) {
    lval one = lang_car(b);
    if (lang_list_length(one) != 2 || lang_car(one).type != NSR_LANG_SYMBOL) {
      return bad_syntax(I, form, "each binding must be (name value)");
    }
    /* The value keeps its own position (its cell's), for its errors. */
    lang_pos value_pos = lang_pos_of(lang_cdr(one)).line ? lang_pos_of(lang_cdr(one)) : pos;
    if (lang_builder_add(I, &nb, lang_car(one), pos) != LANG_OK ||
        lang_builder_add(I, &ib, lang_car(lang_cdr(one)), value_pos) != LANG_OK) {
      return LANG_ERROR;
    }
  }
  *names = lang_builder_finish(&nb, lang_nil());
  *inits = lang_builder_finish(&ib, lang_nil());
  return LANG_OK;
}

static lang_rc expand_letrec_parts(nsr_lang *I, lval x, lval names,
                                   lval inits, lval body, lval *out);

static lang_rc expand_let(nsr_lang *I, lval x, lval *out) {
  lang_pos pos = lang_pos_of(x);
  if (lang_list_length(x) < 3) return bad_syntax(I, x, "let: expected bindings and a body");
  lval second = lang_car(lang_cdr(x));
  lval names, inits, lam, args;
  if (second.type == NSR_LANG_SYMBOL) {
    /* Named let: the loop procedure is bound by a letrec around it. */
    if (lang_list_length(x) < 4) return bad_syntax(I, x, "let: expected bindings and a body");
    if (split_bindings(I, x, lang_car(lang_cdr(lang_cdr(x))), &names, &inits) != LANG_OK) {
      return LANG_ERROR;
    }
    lval body = lang_cdr(lang_cdr(lang_cdr(x)));
    lval rest, loop_def, one_name, one_init, loop;
    if (cons_at(I, pos, names, body, &rest) != LANG_OK) return LANG_ERROR;
    if (cons_at(I, pos, sym(I->s_lambda), rest, &lam) != LANG_OK) return LANG_ERROR;
    if (list_at(I, pos, &one_name, 1, &second) != LANG_OK) return LANG_ERROR;
    if (list_at(I, pos, &one_init, 1, &lam) != LANG_OK) return LANG_ERROR;
    if (list_at(I, pos, &loop_def, 1, &second) != LANG_OK) return LANG_ERROR;
    if (expand_letrec_parts(I, x, one_name, one_init, loop_def, &loop) != LANG_OK) {
      return LANG_ERROR;
    }
    if (expand_list(I, inits, &args) != LANG_OK) return LANG_ERROR;
    return cons_at(I, pos, loop, args, out);
  }
  if (split_bindings(I, x, second, &names, &inits) != LANG_OK) return LANG_ERROR;
  if (make_lambda(I, x, names, lang_cdr(lang_cdr(x)), &lam) != LANG_OK) return LANG_ERROR;
  if (expand_list(I, inits, &args) != LANG_OK) return LANG_ERROR;
  return cons_at(I, pos, lam, args, out);
}

static lang_rc expand_letstar(nsr_lang *I, lval x, lval *out) {
  lang_pos pos = lang_pos_of(x);
  if (lang_list_length(x) < 3) return bad_syntax(I, x, "let*: expected bindings and a body");
  lval bindings = lang_car(lang_cdr(x)), body = lang_cdr(lang_cdr(x));
  if (lang_list_length(bindings) < 0) {
    return bad_syntax(I, x, "let*: expected a list of bindings");
  }
  lval let_sym;
  lang_symbol *s;
  if (lang_intern(I, "let", 3, &s) != LANG_OK) return LANG_ERROR;
  let_sym = sym(s);
  if (bindings.type == NSR_LANG_NIL || lang_cdr(bindings).type == NSR_LANG_NIL) {
    lval rest, let;
    if (cons_at(I, pos, bindings, body, &rest) != LANG_OK) return LANG_ERROR;
    if (cons_at(I, pos, let_sym, rest, &let) != LANG_OK) return LANG_ERROR;
    return expand_let(I, let, out);
  }
  /* (let (first) (let* (rest ...) body ...)) */
  lval inner, inner_rest, first, outer_items[3];
  if (cons_at(I, pos, lang_cdr(bindings), body, &inner_rest) != LANG_OK) return LANG_ERROR;
  if (cons_at(I, pos, lang_car(x), inner_rest, &inner) != LANG_OK) return LANG_ERROR;
  if (list_at(I, pos, &first, 1, &LANG_PAIR(bindings)->car) != LANG_OK) return LANG_ERROR;
  outer_items[0] = let_sym;
  outer_items[1] = first;
  outer_items[2] = inner;
  lval outer;
  if (list_at(I, pos, &outer, 3, outer_items) != LANG_OK) return LANG_ERROR;
  return expand_let(I, outer, out);
}

/* ((lambda () (define name init) ... body ...)) */
static lang_rc expand_letrec_parts(nsr_lang *I, lval x, lval names,
                                   lval inits, lval body, lval *out) {
  lang_pos pos = lang_pos_of(x);
  lang_list_builder defs = LANG_LIST_BUILDER;
  for (; names.type == NSR_LANG_PAIR; names = lang_cdr(names), inits = lang_cdr(inits)) {
    lval items[] = {sym(I->s_define), lang_car(names), lang_car(inits)}, def;
    if (list_at(I, pos, &def, 3, items) != LANG_OK) return LANG_ERROR;
    if (lang_builder_add(I, &defs, def, pos) != LANG_OK) return LANG_ERROR;
  }
  lval all = lang_builder_finish(&defs, body);
  lval lam;
  if (make_lambda(I, x, lang_nil(), all, &lam) != LANG_OK) return LANG_ERROR;
  return list_at(I, pos, out, 1, &lam);
}

static lang_rc expand_letrec(nsr_lang *I, lval x, lval *out) {
  if (lang_list_length(x) < 3) return bad_syntax(I, x, "letrec: expected bindings and a body");
  lval names, inits;
  if (split_bindings(I, x, lang_car(lang_cdr(x)), &names, &inits) != LANG_OK) {
    return LANG_ERROR;
  }
  return expand_letrec_parts(I, x, names, inits, lang_cdr(lang_cdr(x)), out);
}

/* (begin body ...) expanded; a lone expression stands for itself. */
static lang_rc expand_body_as_begin(nsr_lang *I, lang_pos pos, lval body,
                                    lval *out) {
  if (lang_cdr(body).type == NSR_LANG_NIL) return expand(I, lang_car(body), out);
  lval e;
  if (expand_list(I, body, &e) != LANG_OK) return LANG_ERROR;
  return cons_at(I, pos, sym(I->s_begin), e, out);
}

static lang_rc make_if(nsr_lang *I, lang_pos pos, lval c, lval t, lval e,
                       lval *out) {
  lval items[] = {sym(I->s_if), c, t, e};
  return list_at(I, pos, out, 4, items);
}

/* (if c t e) at pos whose parts' cells carry where each part was written
 * (at[0..2]; a position of line 0 stands for pos), so a variable in any
 * of them is reported at its place. */
static lang_rc make_if_at(nsr_lang *I, lang_pos pos, const lval parts[3],
                          const lang_pos at[3], lval *out) {
  lval l = lang_nil();
  for (int i = 3; i-- > 0;) {
    if (cons_at(I, at[i].line ? at[i] : pos, parts[i], l, &l) != LANG_OK) return LANG_ERROR;
  }
  return cons_at(I, pos, sym(I->s_if), l, out);
}

/* Where the expansion of cond clauses `clauses` was written: an else
 * clause's body, or the clause itself. */
static lang_pos clauses_pos(const nsr_lang *I, lval clauses) {
  if (clauses.type != NSR_LANG_PAIR) return lang_pos_of(clauses);
  lval clause = lang_car(clauses);
  if (clause.type == NSR_LANG_PAIR && lang_car(clause).type == NSR_LANG_SYMBOL &&
      LANG_SYM(lang_car(clause)) == I->s_else) {
    return lang_pos_of(lang_cdr(clause));
  }
  return lang_pos_of(clauses);
}

static lang_rc expand_cond_clauses(nsr_lang *I, lval x, lval clauses,
                                   lval *out) {
  if (clauses.type == NSR_LANG_NIL) {
    *out = lang_unspec();
    return LANG_OK;
  }
  lval clause = lang_car(clauses);
  lang_pos pos = lang_pos_of(clause).line ? lang_pos_of(clause) : lang_pos_of(x);
  if (lang_list_length(clause) < 1) {
    return bad_syntax(I, x, "cond: each clause must be (test body ...)");
  }
  lval test = lang_car(clause), body = lang_cdr(clause);
  if (test.type == NSR_LANG_SYMBOL && LANG_SYM(test) == I->s_else) {
    if (lang_cdr(clauses).type != NSR_LANG_NIL) {
      return bad_syntax(I, clause, "cond: 'else' must be the last clause");
    }
    if (body.type == NSR_LANG_NIL) return bad_syntax(I, clause, "cond: empty else clause");
    return expand_body_as_begin(I, pos, body, out);
  }
  lval etest, rest;
  if (expand(I, test, &etest) != LANG_OK) return LANG_ERROR;
  if (expand_cond_clauses(I, x, lang_cdr(clauses), &rest) != LANG_OK) return LANG_ERROR;
  if (body.type == NSR_LANG_NIL) {
    /* (test): the test's value when true. */
    lval items[] = {lang_nil(), etest, rest};
    lang_symbol *or_sym;
    if (lang_intern(I, "or", 2, &or_sym) != LANG_OK) return LANG_ERROR;
    items[0] = sym(or_sym);
    return list_at(I, pos, out, 3, items);
  }
  lval first = lang_car(body);
  if (first.type == NSR_LANG_SYMBOL && strcmp(LANG_SYM(first)->name, "=>") == 0) {
    /* (test => f): ((lambda (t) (if t (f t) rest)) test) */
    if (lang_list_length(body) != 2) return bad_syntax(I, clause, "cond: expected (test => procedure)");
    lval t, f, call, branch, params, lam_body, lam, lam_rest;
    if (gensym(I, "cond-value", &t) != LANG_OK) return LANG_ERROR;
    if (expand(I, lang_car(lang_cdr(body)), &f) != LANG_OK) return LANG_ERROR;
    lval call_items[] = {f, t};
    if (list_at(I, pos, &call, 2, call_items) != LANG_OK) return LANG_ERROR;
    if (make_if(I, pos, t, call, rest, &branch) != LANG_OK) return LANG_ERROR;
    if (list_at(I, pos, &params, 1, &t) != LANG_OK) return LANG_ERROR;
    if (list_at(I, pos, &lam_body, 1, &branch) != LANG_OK) return LANG_ERROR;
    if (cons_at(I, pos, params, lam_body, &lam_rest) != LANG_OK) return LANG_ERROR;
    if (cons_at(I, pos, sym(I->s_lambda), lam_rest, &lam) != LANG_OK) return LANG_ERROR;
    lval app_items[] = {lam, etest};
    return list_at(I, pos, out, 2, app_items);
  }
  lval parts[3] = {etest, lang_nil(), rest};
  if (expand_body_as_begin(I, pos, body, &parts[1]) != LANG_OK) return LANG_ERROR;
  const lang_pos at[3] = {lang_head_pos(clause), lang_pos_of(body),
                          clauses_pos(I, lang_cdr(clauses))};
  return make_if_at(I, pos, parts, at, out);
}

/* The list a case clause's key is looked up in: its data quoted, or under
 * webchurch, whose case evaluates them ((('a) ...) is common in the book),
 * a call of list on the expanded data. */
static lang_rc case_choices(nsr_lang *I, lang_pos pos, lval data, lval *out) {
  if (!I->cfg.webchurch) {
    lval q_items[] = {sym(I->s_quote), data};
    return list_at(I, pos, out, 2, q_items);
  }
  lval args;
  if (expand_list(I, data, &args) != LANG_OK) return LANG_ERROR;
  return cons_at(I, pos, I->p_list, args, out);
}

static lang_rc expand_case(nsr_lang *I, lval x, lval *out) {
  lang_pos pos = lang_pos_of(x);
  if (lang_list_length(x) < 2) return bad_syntax(I, x, "case: expected a key");
  lval key, t;
  if (expand(I, lang_car(lang_cdr(x)), &key) != LANG_OK) return LANG_ERROR;
  if (gensym(I, "case-key", &t) != LANG_OK) return LANG_ERROR;
  /* Build the if chain from the last clause backwards. */
  lval reversed = lang_nil();
  for (lval c = lang_cdr(lang_cdr(x)); c.type == NSR_LANG_PAIR; c = lang_cdr(c)) {
    if (lang_cons(I, lang_car(c), reversed, &reversed) != LANG_OK) return LANG_ERROR;
  }
  lval chain = lang_unspec();
  for (bool last = true; reversed.type == NSR_LANG_PAIR; reversed = lang_cdr(reversed), last = false) {
    lval clause = lang_car(reversed);
    if (lang_list_length(clause) < 2) {
      return bad_syntax(I, x, "case: each clause must be ((datum ...) body ...)");
    }
    lval data = lang_car(clause), then;
    if (expand_body_as_begin(I, pos, lang_cdr(clause), &then) != LANG_OK) return LANG_ERROR;
    if (data.type == NSR_LANG_SYMBOL && LANG_SYM(data) == I->s_else) {
      if (!last) return bad_syntax(I, clause, "case: 'else' must be the last clause");
      chain = then;
      continue;
    }
    if (lang_list_length(data) < 0) {
      return bad_syntax(I, clause, "case: expected a list of data");
    }
    lval choices, test;
    if (case_choices(I, pos, data, &choices) != LANG_OK) return LANG_ERROR;
    lval t_items[] = {I->p_memv, t, choices};
    if (list_at(I, pos, &test, 3, t_items) != LANG_OK) return LANG_ERROR;
    if (make_if(I, pos, test, then, chain, &chain) != LANG_OK) return LANG_ERROR;
  }
  lval params, lam_body, lam_rest, lam;
  if (list_at(I, pos, &params, 1, &t) != LANG_OK) return LANG_ERROR;
  if (list_at(I, pos, &lam_body, 1, &chain) != LANG_OK) return LANG_ERROR;
  if (cons_at(I, pos, params, lam_body, &lam_rest) != LANG_OK) return LANG_ERROR;
  if (cons_at(I, pos, sym(I->s_lambda), lam_rest, &lam) != LANG_OK) return LANG_ERROR;
  lval app_items[] = {lam, key};
  return list_at(I, pos, out, 2, app_items);
}

/* webchurch's (conditional METHOD defines... query-expr condition): a
 * procedure that draws one sample from the conditional distribution at each
 * call, by running the query that METHOD names (see the prelude's
 * %conditional-method). METHOD is evaluated at each call. */
static lang_rc expand_conditional(nsr_lang *I, lval x, lval *out) {
  lang_pos pos = lang_pos_of(x);
  if (lang_list_length(x) < 4) {
    return bad_syntax(I, x, "conditional: expected a method, a query expression and a condition");
  }
  lval method = lang_car(lang_cdr(x)), forms = lang_cdr(lang_cdr(x));
  lang_symbol *s_query, *s_method, *s_draw;
  if (lang_intern(I, "query", 5, &s_query) != LANG_OK ||
      lang_intern(I, "%conditional-method", 19, &s_method) != LANG_OK ||
      lang_intern(I, "%conditional-draw", 17, &s_draw) != LANG_OK) {
    return LANG_ERROR;
  }
  lval m_items[] = {sym(s_method), method};
  lval method_call, query_tail, query, draw, thunk;
  if (list_at(I, pos, &method_call, 2, m_items) != LANG_OK ||
      cons_at(I, pos, method_call, forms, &query_tail) != LANG_OK ||
      cons_at(I, pos, sym(s_query), query_tail, &query) != LANG_OK) {
    return LANG_ERROR;
  }
  lval d_items[] = {sym(s_draw), method, query};
  if (list_at(I, pos, &draw, 3, d_items) != LANG_OK) return LANG_ERROR;
  lval t_items[] = {sym(I->s_lambda), lang_nil(), draw};
  if (list_at(I, pos, &thunk, 3, t_items) != LANG_OK) return LANG_ERROR;
  return expand(I, thunk, out);
}

static lang_rc expand_when(nsr_lang *I, lval x, bool unless, lval *out) {
  lang_pos pos = lang_pos_of(x);
  if (lang_list_length(x) < 3) {
    return bad_syntax(I, x, unless ? "unless: expected a test and a body"
                                   : "when: expected a test and a body");
  }
  lval test, body;
  if (expand(I, lang_car(lang_cdr(x)), &test) != LANG_OK) return LANG_ERROR;
  if (expand_body_as_begin(I, pos, lang_cdr(lang_cdr(x)), &body) != LANG_OK) {
    return LANG_ERROR;
  }
  lang_pos test_pos = lang_pos_of(lang_cdr(x)), body_pos = lang_pos_of(lang_cdr(lang_cdr(x)));
  const lval parts[3] = {test, unless ? lang_unspec() : body, unless ? body : lang_unspec()};
  const lang_pos at[3] = {test_pos, unless ? pos : body_pos, unless ? body_pos : pos};
  return make_if_at(I, pos, parts, at, out);
}

/* (prim item rest) at pos, item's cell at item_pos (where the program
 * wrote it, so an unquoted variable is reported at its place). */
static lang_rc call2_at(nsr_lang *I, lang_pos pos, lval prim, lval item, lang_pos item_pos,
                        lval rest, lval *out) {
  lval l;
  if (cons_at(I, pos, rest, lang_nil(), &l) != LANG_OK ||
      cons_at(I, item_pos.line ? item_pos : pos, item, l, &l) != LANG_OK) {
    return LANG_ERROR;
  }
  return cons_at(I, pos, prim, l, out);
}

/* Quasiquote at nesting `depth` (1 = outermost). */
static lang_rc expand_qq(nsr_lang *I, lang_pos pos, lval x, int depth,
                         lval *out) {
  if (is_form(x, I->s_unquote) || is_form(x, I->s_quasiquote)) {
    if (lang_list_length(x) != 2) return bad_syntax(I, x, "unquote: expected one expression");
    bool unq = is_form(x, I->s_unquote);
    if (unq && depth == 1) return expand(I, lang_car(lang_cdr(x)), out);
    lval inner, quoted_head;
    if (expand_qq(I, pos, lang_car(lang_cdr(x)), unq ? depth - 1 : depth + 1, &inner) != LANG_OK) {
      return LANG_ERROR;
    }
    lval q_items[] = {sym(I->s_quote), lang_car(x)};
    if (list_at(I, pos, &quoted_head, 2, q_items) != LANG_OK) return LANG_ERROR;
    lval items[] = {I->p_list, quoted_head, inner};
    return list_at(I, pos, out, 3, items);
  }
  if (x.type == NSR_LANG_PAIR) {
    lval head = lang_car(x), rest;
    lang_pos head_pos = lang_head_pos(x); /* the item's own (x's cell) */
    if (expand_qq(I, pos, lang_cdr(x), depth, &rest) != LANG_OK) return LANG_ERROR;
    if (is_form(head, I->s_unquote_splicing) && depth == 1) {
      if (lang_list_length(head) != 2) return bad_syntax(I, head, "unquote-splicing: expected one expression");
      lval spliced;
      if (expand(I, lang_car(lang_cdr(head)), &spliced) != LANG_OK) return LANG_ERROR;
      return call2_at(I, pos, I->p_append, spliced, head_pos, rest, out);
    }
    lval first;
    if (expand_qq(I, pos, head, depth, &first) != LANG_OK) return LANG_ERROR;
    return call2_at(I, pos, I->p_cons, first, head_pos, rest, out);
  }
  if (x.type == NSR_LANG_VECTOR) {
    lval list, elist;
    lang_vector *v = LANG_VEC(x);
    if (lang_list_from(I, v->items, v->len, &list) != LANG_OK) return LANG_ERROR;
    if (expand_qq(I, pos, list, depth, &elist) != LANG_OK) return LANG_ERROR;
    lval items[] = {I->p_list_to_vector, elist};
    return list_at(I, pos, out, 2, items);
  }
  lval items[] = {sym(I->s_quote), x};
  return list_at(I, pos, out, 2, items);
}

/* (PRIM leading ... (lambda () body ...)): the query's model as a thunk
 * (body from query_body); `lead` expressions (samples, lag, method) come
 * first. */
static lang_rc expand_query(nsr_lang *I, lval x, lval prim, int lead,
                            lval *out) {
  lang_pos pos = lang_pos_of(x);
  int64_t n = lang_list_length(x);
  const char *name = LANG_SYM(lang_car(x))->name;
  if (n < 3 + lead) {
    return lang_fail_at(I, pos, NSR_ERR_PARSE,
                        "%s: expected %sa query expression and a condition",
                        name, lead == 2 ? "samples, lag, " : lead == 1 ? "a method, " : "");
  }
  lang_list_builder call = LANG_LIST_BUILDER;
  if (lang_builder_add(I, &call, prim, pos) != LANG_OK) return LANG_ERROR;
  lval c = lang_cdr(x);
  for (int k = 0; k < lead; k++, c = lang_cdr(c)) {
    lval e;
    if (expand(I, lang_car(c), &e) != LANG_OK) return LANG_ERROR;
    if (lang_builder_add(I, &call, e, pos) != LANG_OK) return LANG_ERROR;
  }
  lval body, thunk;
  if (lang_expand_query_body(I, x, c, &body) != LANG_OK ||
      make_lambda(I, x, lang_nil(), body, &thunk) != LANG_OK ||
      lang_builder_add(I, &call, thunk, pos) != LANG_OK) {
    return LANG_ERROR;
  }
  *out = lang_builder_finish(&call, lang_nil());
  return LANG_OK;
}

/* Forms whose arguments are all expressions: (begin ...), (and ...),
 * (or ...), (if c t [e]), (set! v e). */
static lang_rc expand_simple(nsr_lang *I, lval x, lang_form form, lval *out) {
  int64_t n = lang_list_length(x);
  if (n < 0) return bad_syntax(I, x, "malformed special form");
  if (form == FORM_IF && (n < 3 || n > 4)) {
    return bad_syntax(I, x, "if: expected (if test then [else])");
  }
  if (form == FORM_SET) {
    if (n != 3 || lang_car(lang_cdr(x)).type != NSR_LANG_SYMBOL) {
      return bad_syntax(I, x, "set!: expected (set! name expression)");
    }
    lval e, value_cell = lang_cdr(lang_cdr(x));
    if (expand(I, lang_car(value_cell), &e) != LANG_OK) return LANG_ERROR;
    return binding_form(I, lang_pos_of(x), lang_car(x), lang_car(lang_cdr(x)), e,
                        lang_pos_of(value_cell), out);
  }
  lval args;
  if (expand_list(I, lang_cdr(x), &args) != LANG_OK) return LANG_ERROR;
  return cons_at(I, lang_pos_of(x), lang_car(x), args, out);
}

static lang_rc expand(nsr_lang *I, lval x, lval *out) {
  if (x.type != NSR_LANG_PAIR) {
    *out = x;
    return LANG_OK;
  }
  if (lang_list_length(x) < 0) {
    return bad_syntax(I, x, "a call must be a proper list");
  }
  lval head = lang_car(x);
  lang_form form = head.type == NSR_LANG_SYMBOL ? (lang_form)LANG_SYM(head)->form : FORM_NONE;
  if (form != FORM_NONE && lang_expand_locally_bound(I, LANG_SYM(head))) {
    /* A call of a local variable named like a special form: the operator
     * becomes (begin name), which the evaluator treats as a variable
     * reference rather than the form. */
    lval op, args, op_items[] = {sym(I->s_begin), head};
    if (list_at(I, lang_pos_of(x), &op, 2, op_items) != LANG_OK ||
        expand_list(I, lang_cdr(x), &args) != LANG_OK) {
      return LANG_ERROR;
    }
    return cons_at(I, lang_pos_of(x), op, args, out);
  }
  switch (form) {
    case FORM_NONE: return expand_list(I, x, out);
    case FORM_QUOTE:
      if (lang_list_length(x) != 2) return bad_syntax(I, x, "quote: expected one datum");
      *out = x;
      return LANG_OK;
    case FORM_IF:
    case FORM_SET:
    case FORM_BEGIN:
    case FORM_AND:
    case FORM_OR: return expand_simple(I, x, form, out);
    case FORM_DEFINE: return expand_define(I, x, out);
    case FORM_LAMBDA:
      if (lang_list_length(x) < 3) return bad_syntax(I, x, "lambda: expected parameters and a body");
      return make_lambda(I, x, lang_car(lang_cdr(x)), lang_cdr(lang_cdr(x)), out);
    case FORM_LET: return expand_let(I, x, out);
    case FORM_LETSTAR: return expand_letstar(I, x, out);
    case FORM_LETREC: return expand_letrec(I, x, out);
    case FORM_COND: return expand_cond_clauses(I, x, lang_cdr(x), out);
    case FORM_CASE: return expand_case(I, x, out);
    case FORM_WHEN: return expand_when(I, x, false, out);
    case FORM_UNLESS: return expand_when(I, x, true, out);
    case FORM_QUASIQUOTE:
      if (lang_list_length(x) != 2) return bad_syntax(I, x, "quasiquote: expected one datum");
      return expand_qq(I, lang_pos_of(x), lang_car(lang_cdr(x)), 1, out);
    case FORM_ENUM_QUERY: return expand_query(I, x, I->p_enum_query, 0, out);
    case FORM_REJECTION_QUERY: return expand_query(I, x, I->p_rejection_query, 0, out);
    case FORM_MH_QUERY: return expand_query(I, x, I->p_mh_query, 2, out);
    case FORM_QUERY: return expand_query(I, x, I->p_query, 1, out);
    case FORM_CONDITIONAL: return expand_conditional(I, x, out);
  }
  return bad_syntax(I, x, "unknown special form");
}

lang_rc lang_expand(nsr_lang *I, lval x, lval *out) {
  lval expanded;
  if (expand(I, x, &expanded) != LANG_OK) return LANG_ERROR;
  return lang_resolve(I, expanded, out);
}
