/* lang_expand.h: what lang_expand.c and lang_expand_query.c share. */
#ifndef NSR_LANG_EXPAND_H
#define NSR_LANG_EXPAND_H

#include "lang_internal.h"

/* (a . rest), its cell at pos. */
static inline lang_rc cons_at(nsr_lang *I, lang_pos pos, lval a, lval rest, lval *out) {
  return lang_cons_at(I, a, rest, pos, out);
}

/* A list of the n items, every cell at pos. */
static inline lang_rc list_at(nsr_lang *I, lang_pos pos, lval *out, int n, const lval *items) {
  lval l = lang_nil();
  for (int i = n; i-- > 0;) {
    if (cons_at(I, pos, items[i], l, &l) != LANG_OK) return LANG_ERROR;
  }
  *out = l;
  return LANG_OK;
}

/* Whether the lambda body `body` has a (define s ...) of its own. */
bool lang_expand_defines_name(lval body, lang_symbol *s);

/* Whether s is bound by a lambda around the form being expanded. */
bool lang_expand_locally_bound(const nsr_lang *I, lang_symbol *s);

/* The body of the query form x, whose statements are `stmts`, as a list:
 * the statements but the query expression, in order, statements after it
 * wrapped in (<condition> s), then the query expression; equality
 * conditions on draws become observations. Fails naming the query when
 * there is no query expression or, outside --webchurch, no condition. */
lang_rc lang_expand_query_body(nsr_lang *I, lval x, lval stmts, lval *out);

#endif
