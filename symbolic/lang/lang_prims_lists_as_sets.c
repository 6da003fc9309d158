/* lang_prims_lists_as_sets.c: webchurch's set operations on lists, as
 * Underscore's union, intersection and difference (which webchurch calls):
 * items compare by equal?, results keep first-seen order, union and
 * intersection drop duplicates, difference keeps the first list's. Lookups
 * go through equal?-hash tables, so the work is linear in the items (each
 * list walked is charged by lang_arg_list). */
#include "lang_internal.h"

static const lang_pos NOWHERE = {0, 0, 0};

/* Checks that a[from..n) are lists; LANG_ERROR naming `name` if not. */
static lang_rc check_lists(nsr_lang *I, const char *name, lval *a, int from, int n) {
  for (int i = from; i < n; i++) {
    int64_t len;
    if (lang_arg_list(I, name, a, i, &len) != LANG_OK) return LANG_ERROR;
  }
  return LANG_OK;
}

/* Puts every item of list into the hash table *set (made here). */
static lang_rc hash_of(nsr_lang *I, lval list, lval *set) {
  if (lang_make_hash(I, set) != LANG_OK) return LANG_ERROR;
  for (; list.type == NSR_LANG_PAIR; list = lang_cdr(list)) {
    if (lang_hash_put(I, LANG_HASH(*set), lang_car(list), lang_bool(true)) != LANG_OK) {
      return LANG_ERROR;
    }
  }
  return LANG_OK;
}

static bool in_set(lval set, lval x) {
  bool found;
  lang_hash_get(LANG_HASH(set), x, &found);
  return found;
}

/* (union list ...): every item of the lists, once, in first-seen order. */
static lang_rc p_union(nsr_lang *I, lval *a, int n, lval *out) {
  if (check_lists(I, "union", a, 0, n) != LANG_OK) return LANG_ERROR;
  lval seen;
  if (lang_make_hash(I, &seen) != LANG_OK) return LANG_ERROR;
  lang_list_builder b = LANG_LIST_BUILDER;
  for (int i = 0; i < n; i++) {
    for (lval l = a[i]; l.type == NSR_LANG_PAIR; l = lang_cdr(l)) {
      if (in_set(seen, lang_car(l))) continue;
      if (lang_hash_put(I, LANG_HASH(seen), lang_car(l), lang_bool(true)) != LANG_OK ||
          lang_builder_add(I, &b, lang_car(l), NOWHERE) != LANG_OK) {
        return LANG_ERROR;
      }
    }
  }
  *out = lang_builder_finish(&b, lang_nil());
  return LANG_OK;
}

/* Items of a[0] kept by `keep`: in every other list (intersection, each
 * item once) or in none of them (difference, duplicates kept). */
static lang_rc filter_first(nsr_lang *I, const char *name, bool intersect, lval *a, int n,
                            lval *out) {
  if (check_lists(I, name, a, 0, n) != LANG_OK) return LANG_ERROR;
  /* One table per other list; no collection runs inside a primitive, so
   * the tables need no rooting. */
  lval *others = nsr_mallocarray(n > 1 ? (size_t)n - 1 : 1, sizeof *others);
  if (others == NULL) return lang_fail_at(I, I->site.cur_pos, NSR_ERR_NOMEM, "out of memory");
  lang_rc rc = LANG_OK;
  for (int i = 1; rc == LANG_OK && i < n; i++) rc = hash_of(I, a[i], &others[i - 1]);
  lval seen = lang_nil();
  if (rc == LANG_OK) rc = lang_make_hash(I, &seen);
  lang_list_builder b = LANG_LIST_BUILDER;
  for (lval l = a[0]; rc == LANG_OK && l.type == NSR_LANG_PAIR; l = lang_cdr(l)) {
    lval x = lang_car(l);
    bool in_all = true, in_any = false;
    for (int i = 0; i + 1 < n; i++) {
      bool found = in_set(others[i], x);
      in_all = in_all && found;
      in_any = in_any || found;
    }
    if (intersect ? !in_all || in_set(seen, x) : in_any) continue;
    if (intersect) rc = lang_hash_put(I, LANG_HASH(seen), x, lang_bool(true));
    if (rc == LANG_OK) rc = lang_builder_add(I, &b, x, NOWHERE);
  }
  nsr_free(others);
  if (rc == LANG_OK) *out = lang_builder_finish(&b, lang_nil());
  return rc;
}

/* (intersection list ...): the first list's items found in every other. */
static lang_rc p_intersection(nsr_lang *I, lval *a, int n, lval *out) {
  return filter_first(I, "intersection", true, a, n, out);
}

/* (difference list ...): the first list's items found in no other. */
static lang_rc p_difference(nsr_lang *I, lval *a, int n, lval *out) {
  return filter_first(I, "difference", false, a, n, out);
}

const lang_prim_def lang_prims_lists_as_sets[] = {
    {"union", 0, -1, p_union},
    {"intersection", 1, -1, p_intersection},
    {"difference", 1, -1, p_difference},
    {NULL, 0, 0, NULL},
};
