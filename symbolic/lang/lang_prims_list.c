/* lang_prims_list.c: pairs, lists, vectors, hash tables, equality and type
 * predicates, mem and apply. Higher-order list functions (map, filter,
 * fold, sort, ...) are written in Church in lang_prelude.c so that the
 * procedures they call run in the evaluator with proper tail calls and
 * traced random choices. */
#include <string.h>

#include "lang_internal.h"

static lang_rc p_cons(nsr_lang *I, lval *a, int n, lval *out) {
  (void)n;
  return lang_cons(I, a[0], a[1], out);
}

static lang_rc expect_pair(nsr_lang *I, const char *name, lval *a, int i) {
  if (a[i].type == NSR_LANG_PAIR) return LANG_OK;
  if (a[i].type == NSR_LANG_NIL) return lang_error(I, "%s: the list is empty", name);
  return lang_type_error(I, name, "a pair", i, a[i]);
}

static lang_rc p_car(nsr_lang *I, lval *a, int n, lval *out) {
  (void)n;
  if (expect_pair(I, "first", a, 0) != LANG_OK) return LANG_ERROR;
  *out = lang_car(a[0]);
  return LANG_OK;
}

static lang_rc p_cdr(nsr_lang *I, lval *a, int n, lval *out) {
  (void)n;
  if (expect_pair(I, "rest", a, 0) != LANG_OK) return LANG_ERROR;
  *out = lang_cdr(a[0]);
  return LANG_OK;
}

/* Element k (0-based) of a list, with a message naming the caller. */
static lang_rc list_nth(nsr_lang *I, const char *name, lval list, int64_t k,
                        lval *out) {
  if (k < 0) return lang_error(I, "%s: negative index %lld", name, (long long)k);
  lval l = list;
  int64_t i = 0;
  for (; i < k && l.type == NSR_LANG_PAIR; i++) l = lang_cdr(l);
  if (lang_charge(I, (uint64_t)i) != LANG_OK) return LANG_ERROR;
  if (l.type != NSR_LANG_PAIR) {
    return lang_error(I, "%s: index %lld is past the end of a list of %lld items",
                      name, (long long)k, (long long)lang_list_length(list));
  }
  *out = lang_car(l);
  return LANG_OK;
}

static const char *const ordinals[] = {"second", "third", "fourth", "fifth",
                                       "sixth", "seventh", "eighth", "ninth",
                                       "tenth"};

#define NTH(cname, k) \
  static lang_rc cname(nsr_lang *I, lval *a, int n, lval *out) { \
    (void)n; return list_nth(I, ordinals[(k) - 1], a[0], k, out); }
NTH(p_second, 1)
NTH(p_third, 2)
NTH(p_fourth, 3)
NTH(p_fifth, 4)
NTH(p_sixth, 5)
NTH(p_seventh, 6)
NTH(p_eighth, 7)
NTH(p_ninth, 8)
NTH(p_tenth, 9)

static lang_rc p_list_ref(nsr_lang *I, lval *a, int n, lval *out) {
  (void)n;
  int64_t k;
  if (lang_arg_int(I, "list-ref", a, 1, &k) != LANG_OK) return LANG_ERROR;
  return list_nth(I, "list-ref", a[0], k, out);
}

static lang_rc p_list_elt(nsr_lang *I, lval *a, int n, lval *out) {
  (void)n;
  int64_t k;
  if (lang_arg_int(I, "list-elt", a, 1, &k) != LANG_OK) return LANG_ERROR;
  return list_nth(I, "list-elt", a[0], k - 1, out);
}

static lang_rc p_list(nsr_lang *I, lval *a, int n, lval *out) {
  return lang_list_from(I, a, (size_t)n, out);
}

static lang_rc p_length(nsr_lang *I, lval *a, int n, lval *out) {
  (void)n;
  if (a[0].type == NSR_LANG_VECTOR) {
    *out = lang_int((int64_t)LANG_VEC(a[0])->len);
    return LANG_OK;
  }
  int64_t len;
  if (lang_arg_list(I, "length", a, 0, &len) != LANG_OK) return LANG_ERROR;
  *out = lang_int(len);
  return LANG_OK;
}

typedef enum type_pred { IS_PAIR, IS_NULL, IS_SYMBOL, IS_STRING,
                         IS_BOOLEAN, IS_PROCEDURE, IS_VECTOR } type_pred;

static bool has_type(lval v, type_pred p) {
  switch (p) {
    case IS_PAIR: return v.type == NSR_LANG_PAIR;
    case IS_NULL: return v.type == NSR_LANG_NIL;
    case IS_SYMBOL: return v.type == NSR_LANG_SYMBOL;
    case IS_STRING: return v.type == NSR_LANG_STRING;
    case IS_BOOLEAN: return v.type == NSR_LANG_BOOL;
    case IS_PROCEDURE: return lang_is_procedure(v);
    case IS_VECTOR: return v.type == NSR_LANG_VECTOR;
  }
  return false;
}

#define TYPEPRED(cname, pred) \
  static lang_rc cname(nsr_lang *I, lval *a, int n, lval *out) { \
    (void)I, (void)n; *out = lang_bool(has_type(a[0], pred)); return LANG_OK; }
TYPEPRED(p_pairp, IS_PAIR)
TYPEPRED(p_nullp, IS_NULL)
TYPEPRED(p_symbolp, IS_SYMBOL)
TYPEPRED(p_stringp, IS_STRING)
TYPEPRED(p_booleanp, IS_BOOLEAN)
TYPEPRED(p_procedurep, IS_PROCEDURE)
TYPEPRED(p_vectorp, IS_VECTOR)

/* list? walks the list: charged like lang_arg_list. */
static lang_rc p_listp(nsr_lang *I, lval *a, int n, lval *out) {
  (void)n;
  int64_t len = lang_list_length(a[0]);
  *out = lang_bool(len >= 0);
  return lang_charge(I, len > 0 ? (uint64_t)len : 0);
}

static lang_rc p_not(nsr_lang *I, lval *a, int n, lval *out) {
  (void)I, (void)n;
  *out = lang_bool(!lang_truthy(I, a[0]));
  return LANG_OK;
}

/* and, or as procedures (fold and #t xs): every argument is evaluated; the
 * value is the special forms' (the last true value, or the first false
 * one, for and). In a call's head position the special forms still win. */
static lang_rc p_and(nsr_lang *I, lval *a, int n, lval *out) {
  *out = lang_bool(true);
  for (int i = 0; i < n; i++) {
    *out = a[i];
    if (!lang_truthy(I, a[i])) break;
  }
  return LANG_OK;
}

static lang_rc p_or(nsr_lang *I, lval *a, int n, lval *out) {
  *out = lang_bool(false);
  for (int i = 0; i < n; i++) {
    if (lang_truthy(I, a[i])) {
      *out = a[i];
      break;
    }
  }
  return LANG_OK;
}

/* eq? is eqv? here: numbers and booleans are immediate, so identity and
 * value agree for them, as Church programs expect of (eq? x 1). */
static lang_rc p_eqv(nsr_lang *I, lval *a, int n, lval *out) {
  (void)n;
  *out = lang_bool(lang_eqv_in(I, a[0], a[1]));
  return LANG_OK;
}

static lang_rc p_equal(nsr_lang *I, lval *a, int n, lval *out) {
  (void)n;
  *out = lang_bool(lang_equal_in(I, a[0], a[1]));
  return LANG_OK;
}

static const lang_pos NOWHERE = {0, 0, 0};

/* Adds the items of list to b. */
static lang_rc add_all(nsr_lang *I, lang_list_builder *b, lval list) {
  for (; list.type == NSR_LANG_PAIR; list = lang_cdr(list)) {
    if (lang_builder_add(I, b, lang_car(list), NOWHERE) != LANG_OK) return LANG_ERROR;
  }
  return LANG_OK;
}

static lang_rc p_append(nsr_lang *I, lval *a, int n, lval *out) {
  lang_list_builder b = LANG_LIST_BUILDER;
  for (int i = 0; i + 1 < n; i++) {
    int64_t len;
    if (lang_arg_list(I, "append", a, i, &len) != LANG_OK) return LANG_ERROR;
    if (add_all(I, &b, a[i]) != LANG_OK) return LANG_ERROR;
  }
  /* The last argument is shared, as in Scheme. */
  *out = lang_builder_finish(&b, n > 0 ? a[n - 1] : lang_nil());
  return LANG_OK;
}

static lang_rc p_reverse(nsr_lang *I, lval *a, int n, lval *out) {
  (void)n;
  int64_t len;
  if (lang_arg_list(I, "reverse", a, 0, &len) != LANG_OK) return LANG_ERROR;
  lval r = lang_nil();
  for (lval l = a[0]; l.type == NSR_LANG_PAIR; l = lang_cdr(l)) {
    if (lang_cons(I, lang_car(l), r, &r) != LANG_OK) return LANG_ERROR;
  }
  *out = r;
  return LANG_OK;
}

/* Loops that make items charge them as they go, CHARGE_CHUNK at a time
 * (i counts the items made), after allocating: a size too large for both
 * budgets meets the memory budget first, which names the real problem. */
#define CHARGE_CHUNK 1024

static lang_rc charge_item(nsr_lang *I, int64_t i) {
  return (i + 1) % CHARGE_CHUNK == 0 ? lang_charge(I, CHARGE_CHUNK) : LANG_OK;
}

static lang_rc p_make_list(nsr_lang *I, lval *a, int n, lval *out) {
  (void)n;
  int64_t k;
  if (lang_arg_int(I, "make-list", a, 0, &k) != LANG_OK) return LANG_ERROR;
  if (k < 0) return lang_error(I, "make-list: negative length %lld", (long long)k);
  lval r = lang_nil();
  for (int64_t i = 0; i < k; i++) {
    if (lang_cons(I, a[1], r, &r) != LANG_OK || charge_item(I, i) != LANG_OK) return LANG_ERROR;
  }
  *out = r;
  return LANG_OK;
}

/* count items start, start+step, ...; exact when start and step are.
 * An item past 64 bits is an overflow error, or inexact under webchurch. */
static lang_rc arithmetic_list(nsr_lang *I, const char *name, int64_t count,
                               lval start, lval step, lval *out) {
  if (count < 0) return lang_error(I, "%s: negative count %lld", name, (long long)count);
  bool exact = start.type == NSR_LANG_INT && step.type == NSR_LANG_INT;
  lval r = lang_nil();
  for (int64_t i = count; i-- > 0;) {
    lval v;
    int64_t x;
    bool ovf = exact && (__builtin_mul_overflow(i, step.as.i, &x) ||
                         __builtin_add_overflow(x, start.as.i, &x));
    if (ovf && !I->cfg.webchurch) {
      return lang_fail_at(I, I->site.cur_pos, NSR_ERR_RANGE, "%s: exact integer overflow", name);
    }
    if (exact && !ovf) {
      v = lang_int(x);
    } else {
      v = lang_real(lang_num(start) + (double)i * lang_num(step));
      /* (iota 3 1 0.5) is (1 1.5 2) in webchurch, whose numbers are one type. */
      if (I->cfg.webchurch) v = lang_webchurch_number(v);
    }
    if (lang_cons(I, v, r, &r) != LANG_OK || charge_item(I, count - 1 - i) != LANG_OK) {
      return LANG_ERROR;
    }
  }
  *out = r;
  return LANG_OK;
}

static lang_rc p_iota(nsr_lang *I, lval *a, int n, lval *out) {
  int64_t count;
  if (lang_arg_int(I, "iota", a, 0, &count) != LANG_OK) return LANG_ERROR;
  for (int i = 1; i < n; i++) {
    if (!lang_is_number(a[i])) return lang_type_error(I, "iota", "a number", i, a[i]);
  }
  return arithmetic_list(I, "iota", count, n > 1 ? a[1] : lang_int(0),
                         n > 2 ? a[2] : lang_int(1), out);
}

/* (range a b): a, a+1, ..., b inclusive, as in webchurch. */
static lang_rc p_range(nsr_lang *I, lval *a, int n, lval *out) {
  (void)n;
  int64_t lo, hi;
  if (lang_arg_int(I, "range", a, 0, &lo) != LANG_OK ||
      lang_arg_int(I, "range", a, 1, &hi) != LANG_OK) {
    return LANG_ERROR;
  }
  /* hi - lo + 1 may not fit (range of the whole int64 line): such a count
   * is left to the budgets, which it exceeds. */
  int64_t count = 0;
  if (hi >= lo && (__builtin_sub_overflow(hi, lo, &count) || __builtin_add_overflow(count, 1, &count))) {
    count = INT64_MAX;
  }
  return arithmetic_list(I, "range", count, lang_int(lo), lang_int(1), out);
}

typedef enum match { BY_EQV, BY_EQUAL } match;

static bool same(const nsr_lang *I, lval a, lval b, match m) {
  return m == BY_EQV ? lang_eqv_in(I, a, b) : lang_equal_in(I, a, b);
}

static lang_rc member_of(nsr_lang *I, const char *name, match m, lval *a,
                         lval *out) {
  int64_t len;
  if (lang_arg_list(I, name, a, 1, &len) != LANG_OK) return LANG_ERROR;
  for (lval l = a[1]; l.type == NSR_LANG_PAIR; l = lang_cdr(l)) {
    if (same(I, a[0], lang_car(l), m)) {
      *out = l;
      return LANG_OK;
    }
  }
  *out = lang_bool(false);
  return LANG_OK;
}

static lang_rc assoc_of(nsr_lang *I, const char *name, match m, lval *a,
                        lval *out) {
  int64_t len;
  if (lang_arg_list(I, name, a, 1, &len) != LANG_OK) return LANG_ERROR;
  for (lval l = a[1]; l.type == NSR_LANG_PAIR; l = lang_cdr(l)) {
    lval entry = lang_car(l);
    if (entry.type != NSR_LANG_PAIR) {
      return lang_type_error(I, name, "a list of pairs", 1, a[1]);
    }
    if (same(I, a[0], lang_car(entry), m)) {
      *out = entry;
      return LANG_OK;
    }
  }
  *out = lang_bool(false);
  return LANG_OK;
}

static lang_rc p_member(nsr_lang *I, lval *a, int n, lval *out) { (void)n; return member_of(I, "member", BY_EQUAL, a, out); }
static lang_rc p_memv(nsr_lang *I, lval *a, int n, lval *out) { (void)n; return member_of(I, "memv", BY_EQV, a, out); }
static lang_rc p_assoc(nsr_lang *I, lval *a, int n, lval *out) { (void)n; return assoc_of(I, "assoc", BY_EQUAL, a, out); }
static lang_rc p_assv(nsr_lang *I, lval *a, int n, lval *out) { (void)n; return assoc_of(I, "assv", BY_EQV, a, out); }

/* Sum, product and mean of a list of numbers, exact while all items are. */
typedef enum reduce_op { SUM, PRODUCT, MEAN } reduce_op;

static lang_rc reduce_numbers(nsr_lang *I, const char *name, reduce_op op,
                              lval *a, lval *out) {
  int64_t len;
  if (lang_arg_list(I, name, a, 0, &len) != LANG_OK) return LANG_ERROR;
  if (op == MEAN && len == 0) return lang_error(I, "mean: the list is empty");
  bool exact = true;
  int64_t iacc = op == PRODUCT ? 1 : 0;
  double racc = op == PRODUCT ? 1.0 : 0.0;
  for (lval l = a[0]; l.type == NSR_LANG_PAIR; l = lang_cdr(l)) {
    lval v = lang_car(l);
    if (!lang_is_number(v)) return lang_type_error(I, name, "a list of numbers", 0, a[0]);
    if (exact && v.type == NSR_LANG_INT) {
      int64_t next;
      bool ovf = op == PRODUCT ? __builtin_mul_overflow(iacc, v.as.i, &next)
                               : __builtin_add_overflow(iacc, v.as.i, &next);
      if (!ovf) {
        iacc = next;
        continue;
      }
      if (!I->cfg.webchurch) {
        return lang_fail_at(I, I->site.cur_pos, NSR_ERR_RANGE, "%s: exact integer overflow", name);
      }
      /* webchurch numbers are doubles: go on inexactly. */
      exact = false;
      racc = op == PRODUCT ? (double)iacc * lang_num(v) : (double)iacc + lang_num(v);
    } else {
      if (exact) racc = (double)iacc;
      exact = false;
      racc = op == PRODUCT ? racc * lang_num(v) : racc + lang_num(v);
    }
  }
  if (op == MEAN) {
    double total = exact ? (double)iacc : racc;
    *out = lang_real(total / (double)len);
  } else {
    *out = exact ? lang_int(iacc) : lang_real(racc);
  }
  return LANG_OK;
}

static lang_rc p_sum(nsr_lang *I, lval *a, int n, lval *out) { (void)n; return reduce_numbers(I, "sum", SUM, a, out); }
static lang_rc p_product(nsr_lang *I, lval *a, int n, lval *out) { (void)n; return reduce_numbers(I, "product", PRODUCT, a, out); }
static lang_rc p_mean(nsr_lang *I, lval *a, int n, lval *out) { (void)n; return reduce_numbers(I, "mean", MEAN, a, out); }

/* all/any/none over a list of values (webchurch's forms). */
typedef enum quant { ALL, ANY, NONE } quant;

static lang_rc quantify(nsr_lang *I, const char *name, quant q, lval *a,
                        lval *out) {
  int64_t len;
  if (lang_arg_list(I, name, a, 0, &len) != LANG_OK) return LANG_ERROR;
  bool any = false, all = true;
  for (lval l = a[0]; l.type == NSR_LANG_PAIR; l = lang_cdr(l)) {
    if (lang_truthy(I, lang_car(l))) {
      any = true;
    } else {
      all = false;
    }
  }
  *out = lang_bool(q == ALL ? all : q == ANY ? any : !any);
  return LANG_OK;
}

static lang_rc p_all(nsr_lang *I, lval *a, int n, lval *out) { (void)n; return quantify(I, "all", ALL, a, out); }
static lang_rc p_any(nsr_lang *I, lval *a, int n, lval *out) { (void)n; return quantify(I, "any", ANY, a, out); }
static lang_rc p_none(nsr_lang *I, lval *a, int n, lval *out) { (void)n; return quantify(I, "none", NONE, a, out); }

/* A fresh copy of the first k cells of list (k <= its length), ended by
 * rest. */
static lang_rc copy_prefix(nsr_lang *I, lval list, int64_t k, lval rest,
                           lval *out) {
  lang_list_builder b = LANG_LIST_BUILDER;
  for (int64_t i = 0; i < k; i++, list = lang_cdr(list)) {
    if (lang_builder_add(I, &b, lang_car(list), NOWHERE) != LANG_OK) return LANG_ERROR;
  }
  *out = lang_builder_finish(&b, rest);
  return LANG_OK;
}

/* take, drop: clamp to the list (webchurch); update-list replaces item k. */
static lang_rc p_take(nsr_lang *I, lval *a, int n, lval *out) {
  (void)n;
  int64_t len, k;
  if (lang_arg_list(I, "take", a, 0, &len) != LANG_OK ||
      lang_arg_int(I, "take", a, 1, &k) != LANG_OK) {
    return LANG_ERROR;
  }
  return copy_prefix(I, a[0], k < 0 ? 0 : k > len ? len : k, lang_nil(), out);
}

static lang_rc p_drop(nsr_lang *I, lval *a, int n, lval *out) {
  (void)n;
  int64_t len, k;
  if (lang_arg_list(I, "drop", a, 0, &len) != LANG_OK ||
      lang_arg_int(I, "drop", a, 1, &k) != LANG_OK) {
    return LANG_ERROR;
  }
  lval l = a[0];
  for (int64_t i = 0; i < k && l.type == NSR_LANG_PAIR; i++) l = lang_cdr(l);
  *out = l;
  return LANG_OK;
}

static lang_rc p_update_list(nsr_lang *I, lval *a, int n, lval *out) {
  (void)n;
  int64_t len, k;
  if (lang_arg_list(I, "update-list", a, 0, &len) != LANG_OK ||
      lang_arg_int(I, "update-list", a, 1, &k) != LANG_OK) {
    return LANG_ERROR;
  }
  if (k < 0 || k >= len) {
    return lang_error(I, "update-list: index %lld is outside a list of %lld items",
                      (long long)k, (long long)len);
  }
  lval l = a[0];
  for (int64_t i = 0; i <= k; i++) l = lang_cdr(l);
  lval rest;
  if (lang_cons(I, a[2], l, &rest) != LANG_OK) return LANG_ERROR;
  return copy_prefix(I, a[0], k, rest, out);
}

static lang_rc p_last(nsr_lang *I, lval *a, int n, lval *out) {
  (void)n;
  int64_t len;
  if (lang_arg_list(I, "last", a, 0, &len) != LANG_OK) return LANG_ERROR;
  if (len == 0) return lang_error(I, "last: the list is empty");
  return list_nth(I, "last", a[0], len - 1, out);
}

/* (zip l1 l2 ...): lists of corresponding items, as long as the shortest. */
static lang_rc p_zip(nsr_lang *I, lval *a, int n, lval *out) {
  int64_t shortest = -1;
  for (int i = 0; i < n; i++) {
    int64_t len;
    if (lang_arg_list(I, "zip", a, i, &len) != LANG_OK) return LANG_ERROR;
    if (shortest < 0 || len < shortest) shortest = len;
  }
  /* Walks the argument lists in place on the value stack: each a[i]
   * advances to its cdr as its car is taken. */
  lang_list_builder rows = LANG_LIST_BUILDER;
  for (int64_t k = 0; k < shortest; k++) {
    lang_list_builder row = LANG_LIST_BUILDER;
    for (int i = 0; i < n; i++) {
      if (lang_builder_add(I, &row, lang_car(a[i]), NOWHERE) != LANG_OK) return LANG_ERROR;
      a[i] = lang_cdr(a[i]);
    }
    if (lang_builder_add(I, &rows, lang_builder_finish(&row, lang_nil()), NOWHERE) != LANG_OK) {
      return LANG_ERROR;
    }
  }
  *out = lang_builder_finish(&rows, lang_nil());
  return LANG_OK;
}

/* unique items by equal?, first occurrences in order (hash-backed);
 * webchurch's nub is the same. */
static lang_rc unique_items(nsr_lang *I, const char *name, lval *a, lval *out) {
  int64_t len;
  if (lang_arg_list(I, name, a, 0, &len) != LANG_OK) return LANG_ERROR;
  lval seen;
  if (lang_make_hash(I, &seen) != LANG_OK) return LANG_ERROR;
  lang_list_builder b = LANG_LIST_BUILDER;
  for (lval l = a[0]; l.type == NSR_LANG_PAIR; l = lang_cdr(l)) {
    bool found;
    lang_hash_get(LANG_HASH(seen), lang_car(l), &found);
    if (found) continue;
    if (lang_hash_put(I, LANG_HASH(seen), lang_car(l), lang_bool(true)) != LANG_OK ||
        lang_builder_add(I, &b, lang_car(l), NOWHERE) != LANG_OK) {
      return LANG_ERROR;
    }
  }
  *out = lang_builder_finish(&b, lang_nil());
  return LANG_OK;
}

static lang_rc p_unique(nsr_lang *I, lval *a, int n, lval *out) {
  (void)n;
  return unique_items(I, "unique", a, out);
}

static lang_rc p_nub(nsr_lang *I, lval *a, int n, lval *out) {
  (void)n;
  return unique_items(I, "nub", a, out);
}

static lang_rc p_list_index(nsr_lang *I, lval *a, int n, lval *out) {
  (void)n;
  int64_t len, i = 0;
  if (lang_arg_list(I, "list-index", a, 0, &len) != LANG_OK) return LANG_ERROR;
  for (lval l = a[0]; l.type == NSR_LANG_PAIR; l = lang_cdr(l), i++) {
    if (lang_equal_in(I, lang_car(l), a[1])) {
      *out = lang_int(i);
      return LANG_OK;
    }
  }
  *out = lang_int(-1);
  return LANG_OK;
}

/* ---- vectors ------------------------------------------------------------- */

static lang_rc p_vector(nsr_lang *I, lval *a, int n, lval *out) {
  if (lang_make_vector(I, (size_t)n, lang_nil(), out) != LANG_OK) return LANG_ERROR;
  memcpy(LANG_VEC(*out)->items, a, (size_t)n * sizeof *a);
  return LANG_OK;
}

static lang_rc p_make_vector(nsr_lang *I, lval *a, int n, lval *out) {
  int64_t k;
  if (lang_arg_int(I, "make-vector", a, 0, &k) != LANG_OK) return LANG_ERROR;
  if (k < 0) return lang_error(I, "make-vector: negative length %lld", (long long)k);
  /* Allocated first (see charge_item), then charged for its filling. */
  if (lang_make_vector(I, (size_t)k, n > 1 ? a[1] : lang_int(0), out) != LANG_OK) return LANG_ERROR;
  return lang_charge(I, (uint64_t)k);
}

static lang_rc vector_index(nsr_lang *I, const char *name, lval *a,
                            int64_t *k) {
  if (a[0].type != NSR_LANG_VECTOR) return lang_type_error(I, name, "a vector", 0, a[0]);
  if (lang_arg_int(I, name, a, 1, k) != LANG_OK) return LANG_ERROR;
  if (*k < 0 || (uint64_t)*k >= LANG_VEC(a[0])->len) {
    return lang_error(I, "%s: index %lld is outside a vector of %zu items", name,
                      (long long)*k, LANG_VEC(a[0])->len);
  }
  return LANG_OK;
}

static lang_rc p_vector_ref(nsr_lang *I, lval *a, int n, lval *out) {
  (void)n;
  int64_t k;
  if (vector_index(I, "vector-ref", a, &k) != LANG_OK) return LANG_ERROR;
  *out = LANG_VEC(a[0])->items[k];
  return LANG_OK;
}

static lang_rc p_vector_set(nsr_lang *I, lval *a, int n, lval *out) {
  (void)n;
  lang_effect(I);
  int64_t k;
  if (vector_index(I, "vector-set!", a, &k) != LANG_OK) return LANG_ERROR;
  LANG_VEC(a[0])->items[k] = a[2];
  *out = lang_unspec();
  return LANG_OK;
}

static lang_rc p_vector_to_list(nsr_lang *I, lval *a, int n, lval *out) {
  (void)n;
  if (a[0].type != NSR_LANG_VECTOR) return lang_type_error(I, "vector->list", "a vector", 0, a[0]);
  if (lang_list_from(I, LANG_VEC(a[0])->items, LANG_VEC(a[0])->len, out) != LANG_OK) return LANG_ERROR;
  return lang_charge(I, LANG_VEC(a[0])->len);
}

static lang_rc p_list_to_vector(nsr_lang *I, lval *a, int n, lval *out) {
  (void)n;
  int64_t len;
  if (lang_arg_list(I, "list->vector", a, 0, &len) != LANG_OK) return LANG_ERROR;
  if (lang_make_vector(I, (size_t)len, lang_nil(), out) != LANG_OK) return LANG_ERROR;
  lval l = a[0];
  for (int64_t i = 0; i < len; i++, l = lang_cdr(l)) LANG_VEC(*out)->items[i] = lang_car(l);
  return LANG_OK;
}

/* ---- hash tables and mem ------------------------------------------------- */

static lang_rc p_make_hash(nsr_lang *I, lval *a, int n, lval *out) {
  (void)a, (void)n;
  return lang_make_hash(I, out);
}

static lang_rc p_hash_ref(nsr_lang *I, lval *a, int n, lval *out) {
  if (a[0].type != NSR_LANG_HASH) return lang_type_error(I, "hash-table-ref", "a hash table", 0, a[0]);
  bool found;
  lval v = lang_hash_get(LANG_HASH(a[0]), a[1], &found);
  if (!found && n < 3) return lang_error(I, "hash-table-ref: key not found");
  *out = found ? v : a[2];
  return LANG_OK;
}

static lang_rc p_hash_set(nsr_lang *I, lval *a, int n, lval *out) {
  (void)n;
  if (a[0].type != NSR_LANG_HASH) return lang_type_error(I, "hash-table-set!", "a hash table", 0, a[0]);
  *out = lang_unspec();
  lang_effect(I);
  return lang_hash_put(I, LANG_HASH(a[0]), a[1], a[2]);
}

static lang_rc p_hash_count(nsr_lang *I, lval *a, int n, lval *out) {
  (void)n;
  if (a[0].type != NSR_LANG_HASH) return lang_type_error(I, "hash-table-count", "a hash table", 0, a[0]);
  *out = lang_int((int64_t)LANG_HASH(a[0])->count);
  return LANG_OK;
}

static lang_rc p_mem(nsr_lang *I, lval *a, int n, lval *out) {
  (void)n;
  if (!lang_is_procedure(a[0])) return lang_type_error(I, "mem", "a procedure", 0, a[0]);
  lval cache;
  if (lang_make_hash(I, &cache) != LANG_OK) return LANG_ERROR;
  lang_memo *m = lang_alloc(I, NSR_LANG_MEMO, sizeof *m);
  if (m == NULL) return LANG_ERROR;
  m->proc = a[0];
  m->cache = LANG_HASH(cache);
  m->addr = lang_mix(I->addr, ((uint64_t)I->site.cur_pos.line << 20) ^ I->site.cur_pos.col);
  m->resuming_serial = I->resuming != NULL ? I->resuming_serial : 0;
  *out = lang_obj_val(NSR_LANG_MEMO, m);
  return LANG_OK;
}

/* Pure (see lang_prim): they compute a value from their arguments. */
const lang_prim_def lang_prims_list[] = {
    {"cons", 2, 2, p_cons},
    {"pair", 2, 2, p_cons},
    {"car", 1, 1, p_car},
    {"first", 1, 1, p_car},
    {"cdr", 1, 1, p_cdr},
    {"rest", 1, 1, p_cdr},
    {"second", 1, 1, p_second},
    {"third", 1, 1, p_third},
    {"fourth", 1, 1, p_fourth},
    {"fifth", 1, 1, p_fifth},
    {"sixth", 1, 1, p_sixth},
    {"seventh", 1, 1, p_seventh},
    {"eighth", 1, 1, p_eighth},
    {"ninth", 1, 1, p_ninth},
    {"tenth", 1, 1, p_tenth},
    {"list-ref", 2, 2, p_list_ref},
    {"list-elt", 2, 2, p_list_elt},
    {"list", 0, -1, p_list},
    {"length", 1, 1, p_length},
    {"pair?", 1, 1, p_pairp},
    {"null?", 1, 1, p_nullp},
    {"list?", 1, 1, p_listp},
    {"symbol?", 1, 1, p_symbolp},
    {"string?", 1, 1, p_stringp},
    {"boolean?", 1, 1, p_booleanp},
    {"procedure?", 1, 1, p_procedurep},
    {"vector?", 1, 1, p_vectorp},
    {"not", 1, 1, p_not},
    {"and", 0, -1, p_and},
    {"or", 0, -1, p_or},
    {"eq?", 2, 2, p_eqv},
    {"eqv?", 2, 2, p_eqv},
    {"equal?", 2, 2, p_equal},
    {"append", 0, -1, p_append},
    {"reverse", 1, 1, p_reverse},
    {"make-list", 2, 2, p_make_list},
    {"iota", 1, 3, p_iota},
    {"range", 2, 2, p_range},
    {"member", 2, 2, p_member},
    {"memv", 2, 2, p_memv},
    {"memq", 2, 2, p_memv},
    {"assoc", 2, 2, p_assoc},
    {"assv", 2, 2, p_assv},
    {"assq", 2, 2, p_assv},
    {"sum", 1, 1, p_sum},
    {"product", 1, 1, p_product},
    {"prod", 1, 1, p_product},
    {"mean", 1, 1, p_mean},
    {"all", 1, 1, p_all},
    {"any", 1, 1, p_any},
    {"some", 1, 1, p_any},
    {"none", 1, 1, p_none},
    {"take", 2, 2, p_take},
    {"drop", 2, 2, p_drop},
    {"update-list", 3, 3, p_update_list},
    {"last", 1, 1, p_last},
    {"zip", 1, -1, p_zip},
    {"unique", 1, 1, p_unique},
    {"nub", 1, 1, p_nub},
    {"list-index", 2, 2, p_list_index},
    {"position", 2, 2, p_list_index},
    {"vector", 0, -1, p_vector},
    {"make-vector", 1, 2, p_make_vector},
    {"vector-ref", 2, 2, p_vector_ref},
    {"vector->list", 1, 1, p_vector_to_list},
    {"list->vector", 1, 1, p_list_to_vector},
    {"make-hash-table", 0, 0, p_make_hash},
    {"hash-table-ref", 2, 3, p_hash_ref},
    {"hash-table-count", 1, 1, p_hash_count},
    {NULL, 0, 0, NULL},
};

/* The list library's primitives that change a value or read where they are
 * called from. */
const lang_prim_def lang_prims_list_effects[] = {
    {"vector-set!", 3, 3, p_vector_set},
    {"hash-table-set!", 3, 3, p_hash_set},
    {"mem", 1, 1, p_mem},
    {NULL, 0, 0, NULL},
};
