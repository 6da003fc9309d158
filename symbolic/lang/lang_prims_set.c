/* lang_prims_set.c: sets of naturals backed by core's bitsets, so concept
 * learning programs (the number game) test membership and take sizes in
 * constant time instead of walking lists:
 *
 *   (list->number-set '(2 4 8))     a set of the list's naturals
 *   (number-set-range lo hi)        {lo, ..., hi}
 *   (number-set-size s)             |s|
 *   (number-set-member? s x)        x ∈ s (#f for anything not a natural)
 *   (number-set-contains-all? s xs) every item of the list xs is in s
 *   (number-set-subset? a b)        a ⊆ b
 *   (number-set->list s)            members in increasing order
 *   (number-set-mass sets ws lo hi) for y = lo..hi, the total weight of the
 *                                   sets containing y: Σ_i ws_i [y ∈ sets_i]
 *                                   (the number game's generalization) */
#include "lang_internal.h"

/* Sets hold naturals below this; the number game needs 1..N, N ≤ 10^6. */
#define SET_MAX_BITS (1u << 24)

/* Set work is charged to the budgets at one step per machine word of
 * bits scanned, plus one per item made or tested. */
#define WORD_BITS 64

static lang_rc expect_set(nsr_lang *I, const char *name, lval *a, int i) {
  return a[i].type == NSR_LANG_SET ? LANG_OK : lang_type_error(I, name, "a number set", i, a[i]);
}

/* A member candidate: a natural below the limit. */
static lang_rc natural_arg(nsr_lang *I, const char *name, lval v, int argi,
                           int64_t *out) {
  if (v.type != NSR_LANG_INT || v.as.i < 0 || v.as.i >= SET_MAX_BITS) {
    return lang_type_error(I, name, "naturals below 16777216", argi, v);
  }
  *out = v.as.i;
  return LANG_OK;
}

static bool set_has(const lang_set *s, lval v) {
  return v.type == NSR_LANG_INT && v.as.i >= 0 && (uint64_t)v.as.i < s->bits.nbits &&
         nsr_bitset_has(&s->bits, (size_t)v.as.i);
}

static lang_rc p_list_to_set(nsr_lang *I, lval *a, int n, lval *out) {
  (void)n;
  int64_t len, top = -1, x = 0;
  if (lang_arg_list(I, "list->number-set", a, 0, &len) != LANG_OK) return LANG_ERROR;
  for (lval l = a[0]; l.type == NSR_LANG_PAIR; l = lang_cdr(l)) {
    if (natural_arg(I, "list->number-set", lang_car(l), 0, &x) != LANG_OK) return LANG_ERROR;
    if (x > top) top = x;
  }
  if (lang_make_set(I, (size_t)(top + 1), out) != LANG_OK) return LANG_ERROR;
  for (lval l = a[0]; l.type == NSR_LANG_PAIR; l = lang_cdr(l)) {
    nsr_bitset_add(&LANG_SET(*out)->bits, (size_t)lang_car(l).as.i);
  }
  return LANG_OK;
}

static lang_rc p_set_range(nsr_lang *I, lval *a, int n, lval *out) {
  (void)n;
  int64_t lo = 0, hi = 0;
  if (natural_arg(I, "number-set-range", a[0], 0, &lo) != LANG_OK ||
      natural_arg(I, "number-set-range", a[1], 1, &hi) != LANG_OK) {
    return LANG_ERROR;
  }
  if (lang_charge(I, hi >= lo ? (uint64_t)(hi - lo + 1) / WORD_BITS : 0) != LANG_OK ||
      lang_make_set(I, (size_t)(hi + 1), out) != LANG_OK) {
    return LANG_ERROR;
  }
  for (int64_t x = lo; x <= hi; x++) nsr_bitset_add(&LANG_SET(*out)->bits, (size_t)x);
  return LANG_OK;
}

static lang_rc p_set_size(nsr_lang *I, lval *a, int n, lval *out) {
  (void)n;
  if (expect_set(I, "number-set-size", a, 0) != LANG_OK) return LANG_ERROR;
  *out = lang_int((int64_t)nsr_bitset_count(&LANG_SET(a[0])->bits));
  return LANG_OK;
}

static lang_rc p_set_member(nsr_lang *I, lval *a, int n, lval *out) {
  (void)n;
  if (expect_set(I, "number-set-member?", a, 0) != LANG_OK) return LANG_ERROR;
  *out = lang_bool(set_has(LANG_SET(a[0]), a[1]));
  return LANG_OK;
}

static lang_rc p_set_contains_all(nsr_lang *I, lval *a, int n, lval *out) {
  (void)n;
  int64_t len;
  if (expect_set(I, "number-set-contains-all?", a, 0) != LANG_OK ||
      lang_arg_list(I, "number-set-contains-all?", a, 1, &len) != LANG_OK) {
    return LANG_ERROR;
  }
  bool all = true;
  for (lval l = a[1]; all && l.type == NSR_LANG_PAIR; l = lang_cdr(l)) {
    all = set_has(LANG_SET(a[0]), lang_car(l));
  }
  *out = lang_bool(all);
  return LANG_OK;
}

static lang_rc p_set_subset(nsr_lang *I, lval *a, int n, lval *out) {
  (void)n;
  if (expect_set(I, "number-set-subset?", a, 0) != LANG_OK ||
      expect_set(I, "number-set-subset?", a, 1) != LANG_OK) {
    return LANG_ERROR;
  }
  const nsr_bitset *x = &LANG_SET(a[0])->bits;
  if (lang_charge(I, x->nbits / WORD_BITS + nsr_bitset_count(x)) != LANG_OK) return LANG_ERROR;
  bool subset = true;
  for (size_t i = nsr_bitset_next(x, 0); subset && i < x->nbits; i = nsr_bitset_next(x, i + 1)) {
    subset = set_has(LANG_SET(a[1]), lang_int((int64_t)i));
  }
  *out = lang_bool(subset);
  return LANG_OK;
}

static lang_rc p_set_to_list(nsr_lang *I, lval *a, int n, lval *out) {
  (void)n;
  if (expect_set(I, "number-set->list", a, 0) != LANG_OK) return LANG_ERROR;
  const nsr_bitset *bits = &LANG_SET(a[0])->bits;
  if (lang_charge(I, bits->nbits / WORD_BITS + nsr_bitset_count(bits)) != LANG_OK) return LANG_ERROR;
  lval list = lang_nil();
  for (size_t i = bits->nbits; i-- > 0;) {
    if (nsr_bitset_has(bits, i) && lang_cons(I, lang_int((int64_t)i), list, &list) != LANG_OK) {
      return LANG_ERROR;
    }
  }
  *out = list;
  return LANG_OK;
}

static lang_rc p_set_mass(nsr_lang *I, lval *a, int n, lval *out) {
  (void)n;
  int64_t nsets, nweights, lo = 0, hi = 0;
  if (lang_arg_list(I, "number-set-mass", a, 0, &nsets) != LANG_OK ||
      lang_arg_list(I, "number-set-mass", a, 1, &nweights) != LANG_OK ||
      natural_arg(I, "number-set-mass", a[2], 2, &lo) != LANG_OK ||
      natural_arg(I, "number-set-mass", a[3], 3, &hi) != LANG_OK) {
    return LANG_ERROR;
  }
  if (nsets != nweights) {
    return lang_error(I, "number-set-mass: %lld sets but %lld weights", (long long)nsets,
                      (long long)nweights);
  }
  size_t span = hi >= lo ? (size_t)(hi - lo + 1) : 0;
  /* The answer's span items; each set's scan is charged below, by the
   * words it scans and the members it adds. */
  if (lang_charge(I, span) != LANG_OK) return LANG_ERROR;
  double *mass = nsr_calloc(span > 0 ? span : 1, sizeof *mass);
  if (mass == NULL) return lang_fail_at(I, I->site.cur_pos, NSR_ERR_NOMEM, "out of memory");
  lang_rc rc = LANG_OK;
  for (lval s = a[0], w = a[1]; rc == LANG_OK && s.type == NSR_LANG_PAIR;
       s = lang_cdr(s), w = lang_cdr(w)) {
    if (lang_car(s).type != NSR_LANG_SET) {
      rc = lang_type_error(I, "number-set-mass", "a list of number sets", 0, a[0]);
    } else if (!lang_is_number(lang_car(w))) {
      rc = lang_type_error(I, "number-set-mass", "a list of numbers", 1, a[1]);
    } else {
      const nsr_bitset *bits = &LANG_SET(lang_car(s))->bits;
      double weight = lang_num(lang_car(w));
      uint64_t members = 0;
      for (size_t y = nsr_bitset_next(bits, (size_t)lo); y < bits->nbits && y <= (size_t)hi;
           y = nsr_bitset_next(bits, y + 1), members++) {
        mass[y - (size_t)lo] += weight;
      }
      rc = lang_charge(I, span / WORD_BITS + members);
    }
  }
  lang_list_builder b = LANG_LIST_BUILDER;
  for (size_t k = 0; rc == LANG_OK && k < span; k++) {
    rc = lang_builder_add(I, &b, lang_real(mass[k]), (lang_pos){0, 0, 0});
  }
  nsr_free(mass);
  if (rc == LANG_OK) *out = lang_builder_finish(&b, lang_nil());
  return rc;
}

const lang_prim_def lang_prims_set[] = {
    {"list->number-set", 1, 1, p_list_to_set},
    {"number-set-range", 2, 2, p_set_range},
    {"number-set-size", 1, 1, p_set_size},
    {"number-set-member?", 2, 2, p_set_member},
    {"number-set-contains-all?", 2, 2, p_set_contains_all},
    {"number-set-subset?", 2, 2, p_set_subset},
    {"number-set->list", 1, 1, p_set_to_list},
    {"number-set-mass", 4, 4, p_set_mass},
    {NULL, 0, 0, NULL},
};
