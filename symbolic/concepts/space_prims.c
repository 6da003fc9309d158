/* space_prims.c: the primitive sets and operations a space file may use.
 * Primitive names follow Tenenbaum's rules ("multiples of 3", "ends in 7")
 * so that the 34-rule space reads as in nsr_numbers. */
#include <stdio.h>
#include <string.h>

#include "space.h"

typedef struct family {
  const char *name;
  prod_kind kind;
  bool has_arg;
  uint32_t arg_min, arg_max;
  const char *label; /* printf format of a production's name (arg: %u) */
} family;

enum {
  F_EVEN, F_ODD, F_SQUARES, F_CUBES, F_PRIMES, F_FIBONACCI, F_TRIANGULAR,
  F_MULTIPLES, F_POWERS, F_ENDS_IN, F_CONTAINS_DIGIT, F_DECADE, F_UP_TO, F_FROM,
  F_UNION, F_INTERSECTION, F_DIFFERENCE, F_PLUS, F_TIMES, F_POWER, F_COUNT
};

static const family families[F_COUNT] = {
    [F_EVEN] = {"even", PROD_PRIMITIVE, false, 0, 0, "even"},
    [F_ODD] = {"odd", PROD_PRIMITIVE, false, 0, 0, "odd"},
    [F_SQUARES] = {"squares", PROD_PRIMITIVE, false, 0, 0, "squares"},
    [F_CUBES] = {"cubes", PROD_PRIMITIVE, false, 0, 0, "cubes"},
    [F_PRIMES] = {"primes", PROD_PRIMITIVE, false, 0, 0, "primes"},
    [F_FIBONACCI] = {"fibonacci", PROD_PRIMITIVE, false, 0, 0, "fibonacci"},
    [F_TRIANGULAR] = {"triangular", PROD_PRIMITIVE, false, 0, 0, "triangular"},
    [F_MULTIPLES] = {"multiples", PROD_PRIMITIVE, true, 2, 1000, "multiples of %u"},
    [F_POWERS] = {"powers", PROD_PRIMITIVE, true, 2, 1000, "powers of %u"},
    [F_ENDS_IN] = {"ends_in", PROD_PRIMITIVE, true, 0, 9, "ends in %u"},
    [F_CONTAINS_DIGIT] = {"contains_digit", PROD_PRIMITIVE, true, 0, 9, "contains digit %u"},
    [F_DECADE] = {"decade", PROD_PRIMITIVE, true, 0, 99, "decade %u"},
    /* Magnitude bounds, so that a rule can be restricted to a range
     * ("odd and up to 50"), as B&P's participants often do. */
    [F_UP_TO] = {"up_to", PROD_PRIMITIVE, true, 1, 1000, "up to %u"},
    [F_FROM] = {"from", PROD_PRIMITIVE, true, 1, 1000, "from %u"},
    [F_UNION] = {"union", PROD_BINARY, false, 0, 0, "union"},
    [F_INTERSECTION] = {"intersection", PROD_BINARY, false, 0, 0, "intersection"},
    [F_DIFFERENCE] = {"difference", PROD_BINARY, false, 0, 0, "difference"},
    [F_PLUS] = {"plus", PROD_UNARY, true, 1, 1000, "plus %u"},
    [F_TIMES] = {"times", PROD_UNARY, true, 2, 1000, "times %u"},
    [F_POWER] = {"power", PROD_UNARY, true, 2, 10, "power %u"},
};

int space_family_find(const char *name) {
  for (int f = 0; f < F_COUNT; f++) {
    if (strcmp(families[f].name, name) == 0) return f;
  }
  return -1;
}

const char *space_family_name(int f) { return families[f].name; }
prod_kind space_family_kind(int f) { return families[f].kind; }
bool space_family_has_arg(int f) { return families[f].has_arg; }

nsr_code space_production_init(production *p, int f, uint32_t arg, uint32_t max,
                               nsr_error *err) {
  const family *fam = &families[f];
  if (fam->has_arg && (arg < fam->arg_min || arg > fam->arg_max || arg > max)) {
    return nsr_fail(err, NSR_ERR_RANGE, "%s: argument %u is outside %u..%u", fam->name, arg,
                    fam->arg_min, fam->arg_max < max ? fam->arg_max : max);
  }
  memset(p, 0, sizeof *p);
  p->family = f;
  p->kind = fam->kind;
  p->arg = arg;
  /* The label is one of the fixed formats above, each with at most one %u. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
  snprintf(p->name, sizeof p->name, fam->label, arg);
#pragma GCC diagnostic pop
  return NSR_OK;
}

static void set_bit(uint64_t *w, uint64_t y) { w[y >> 6] |= UINT64_C(1) << (y & 63); }

static bool is_prime(uint32_t y) {
  if (y < 2) return false;
  for (uint32_t d = 2; d * d <= y; d++) {
    if (y % d == 0) return false;
  }
  return true;
}

/* Whether y is in primitive family f with argument arg (simple predicates:
 * primitives are built once per space). */
static bool in_primitive(int f, uint32_t arg, uint32_t y) {
  switch (f) {
    case F_EVEN: return y % 2 == 0;
    case F_ODD: return y % 2 == 1;
    case F_PRIMES: return is_prime(y);
    case F_MULTIPLES: return y % arg == 0;
    case F_ENDS_IN: return y % 10 == arg;
    case F_DECADE: return y / 10 == arg;
    case F_UP_TO: return y <= arg;
    case F_FROM: return y >= arg;
    case F_CONTAINS_DIGIT:
      for (uint32_t v = y; v > 0; v /= 10) {
        if (v % 10 == arg) return true;
      }
      return false;
    default: return false;
  }
}

void space_primitive_fill(const production *p, uint32_t max, uint64_t *out, size_t words) {
  memset(out, 0, words * sizeof *out);
  switch (p->family) {
    case F_SQUARES:
    case F_CUBES:
      for (uint64_t k = 1;; k++) {
        uint64_t y = p->family == F_SQUARES ? k * k : k * k * k;
        if (y > max) break;
        set_bit(out, y);
      }
      return;
    case F_POWERS: /* base^1, base^2, ...: 1 = base^0 is not a power */
      for (uint64_t y = p->arg; y <= max; y *= p->arg) set_bit(out, y);
      return;
    case F_FIBONACCI:
      for (uint64_t a = 1, b = 2; a <= max; b = a + b, a = b - a) set_bit(out, a);
      return;
    case F_TRIANGULAR:
      for (uint64_t k = 1; k * (k + 1) / 2 <= max; k++) set_bit(out, k * (k + 1) / 2);
      return;
    default:
      for (uint32_t y = 1; y <= max; y++) {
        if (in_primitive(p->family, p->arg, y)) set_bit(out, y);
      }
  }
}

/* Sets bit op(y) of out for a unary operation p when op(y) ≤ max. */
static void apply_one(const production *p, uint32_t max, uint64_t y, uint64_t *out) {
  uint64_t v = y;
  if (p->family == F_PLUS) {
    v = y + p->arg;
  } else if (p->family == F_TIMES) {
    v = y * p->arg;
  } else {
    for (uint32_t k = 1; k < p->arg && v <= max; k++) v *= y;
  }
  if (v <= max) set_bit(out, v);
}

/* The a ≥ 1 with op(a) = y for a unary operation p (every one is
 * strictly increasing over the positive integers), 0 when there is none. */
static uint64_t unapply_one(const production *p, uint64_t y) {
  if (p->family == F_PLUS) return y > p->arg ? y - p->arg : 0;
  if (p->family == F_TIMES) return y % p->arg == 0 ? y / p->arg : 0;
  uint64_t lo = 1, hi = y; /* power: the integer arg-th root of y, if exact */
  while (lo < hi) {
    uint64_t mid = (lo + hi) / 2, v = 1;
    for (uint32_t k = 0; k < p->arg && v <= y; k++) v *= mid;
    if (v < y) lo = mid + 1;
    else hi = mid;
  }
  uint64_t v = 1;
  for (uint32_t k = 0; k < p->arg && v <= y; k++) v *= lo;
  return v == y ? lo : 0;
}

void space_unapply(const production *p, const uint64_t *in, uint64_t *out, size_t words) {
  memset(out, 0, words * sizeof *out);
  for (size_t k = 0; k < words; k++) {
    for (uint64_t bits = in[k]; bits; bits &= bits - 1) {
      uint64_t a = unapply_one(p, k * 64 + (uint64_t)__builtin_ctzll(bits));
      if (a >= 1) set_bit(out, a);
    }
  }
}

space_set_op space_set_op_of(const production *p) {
  switch (p->family) {
    case F_UNION: return SPACE_SET_UNION;
    case F_INTERSECTION: return SPACE_SET_INTERSECTION;
    case F_DIFFERENCE: return SPACE_SET_DIFFERENCE;
    default: return SPACE_SET_NONE;
  }
}

void space_apply(const production *p, uint32_t max, const uint64_t *a, const uint64_t *b,
                 uint64_t *out, size_t words) {
  switch (p->family) {
    case F_UNION: for (size_t i = 0; i < words; i++) out[i] = a[i] | b[i]; return;
    case F_INTERSECTION: for (size_t i = 0; i < words; i++) out[i] = a[i] & b[i]; return;
    case F_DIFFERENCE: for (size_t i = 0; i < words; i++) out[i] = a[i] & ~b[i]; return;
    default: break;
  }
  memset(out, 0, words * sizeof *out);
  /* only the members of a: most operands are small sets */
  for (size_t k = 0; k < words; k++) {
    for (uint64_t bits = a[k]; bits; bits &= bits - 1) {
      uint64_t y = k * 64 + (uint64_t)__builtin_ctzll(bits);
      if (y >= 1 && y <= max) apply_one(p, max, y, out);
    }
  }
}

void space_describe(const production *p, const char *a, bool a_compound, const char *b,
                    bool b_compound, char *buf, size_t len) {
  static const char *const binary_word[] = {"or", "and", "except"};
  const char *ao = a_compound ? "(" : "", *ac = a_compound ? ")" : "";
  if (p->kind == PROD_BINARY) {
    const char *bo = b_compound ? "(" : "", *bc = b_compound ? ")" : "";
    snprintf(buf, len, "%s%s%s %s %s%s%s", ao, a, ac, binary_word[p->family - F_UNION], bo, b,
             bc);
  } else {
    static const char *const unary_fmt[] = {"%s%s%s + %u", "%s%s%s * %u", "%s%s%s ^ %u"};
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
    snprintf(buf, len, unary_fmt[p->family - F_PLUS], ao, a, ac, p->arg);
#pragma GCC diagnostic pop
  }
}
