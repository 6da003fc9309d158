/* lang_prims_num.c: numeric primitives with Scheme's exactness rules.
 * Exact integers are 64-bit; overflow is an error, never wraparound. An
 * operation on exact arguments is exact when the result is an integer
 * (there are no rationals: (/ 1 2) is 0.5); any inexact argument makes the
 * result inexact. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lang_internal.h"

lang_rc lang_arg_real(nsr_lang *I, const char *name, lval *args, int i,
                      double *out) {
  if (!lang_is_number(args[i])) return lang_type_error(I, name, "a number", i, args[i]);
  *out = lang_num(args[i]);
  return LANG_OK;
}

/* Whether a double converts to int64 without undefined behaviour: within
 * [-2^63, 2^63), both bounds exact in binary. NaN is not. */
static bool fits_int64(double x) {
  return x >= -9223372036854775808.0 && x < 9223372036854775808.0;
}

/* Integral reals (3.0) are accepted where a count or index is needed:
 * Church programs compute them with round and floor. */
lang_rc lang_arg_int(nsr_lang *I, const char *name, lval *args, int i,
                     int64_t *out) {
  lval v = args[i];
  if (v.type == NSR_LANG_INT) {
    *out = v.as.i;
    return LANG_OK;
  }
  if (v.type == NSR_LANG_REAL && v.as.r == floor(v.as.r) && fits_int64(v.as.r)) {
    *out = (int64_t)v.as.r;
    return LANG_OK;
  }
  return lang_type_error(I, name, "an integer", i, v);
}

/* Measuring the list walks it, and the caller walks it again: both are
 * charged here, one step per item, so no primitive's list loop is free. */
lang_rc lang_arg_list(nsr_lang *I, const char *name, lval *args, int i,
                      int64_t *len) {
  *len = lang_list_length(args[i]);
  if (*len < 0) return lang_type_error(I, name, "a list", i, args[i]);
  return lang_charge(I, (uint64_t)*len);
}

static lang_rc overflow(nsr_lang *I, const char *name) {
  return lang_fail_at(I, I->site.cur_pos, NSR_ERR_RANGE,
                      "%s: exact integer overflow (use an inexact number, "
                      "e.g. 1.0, for large values)", name);
}

/* An exact result that does not fit in 64 bits: an error naming the
 * operation, or under webchurch (whose numbers are doubles) the inexact
 * value `approx`. */
static lang_rc exact_overflow(nsr_lang *I, const char *name, double approx,
                              lval *out) {
  if (!I->cfg.webchurch) return overflow(I, name);
  *out = lang_real(approx);
  return LANG_OK;
}

static lang_rc check_numbers(nsr_lang *I, const char *name, lval *args,
                             int nargs, bool *all_exact) {
  *all_exact = true;
  for (int i = 0; i < nargs; i++) {
    if (!lang_is_number(args[i])) return lang_type_error(I, name, "a number", i, args[i]);
    if (args[i].type == NSR_LANG_REAL) *all_exact = false;
  }
  return LANG_OK;
}

typedef enum arith { ADD, SUB, MUL } arith;

/* +, - and *: exact while every argument is, with overflow checks. */
static lang_rc fold_arith(nsr_lang *I, const char *name, arith op, lval *args,
                          int nargs, lval *out) {
  bool exact;
  if (check_numbers(I, name, args, nargs, &exact) != LANG_OK) return LANG_ERROR;
  if (nargs == 0) {
    *out = lang_int(op == MUL ? 1 : 0);
    return LANG_OK;
  }
  if (op == SUB && nargs == 1) {
    if (exact) {
      if (args[0].as.i == INT64_MIN) return exact_overflow(I, name, -(double)INT64_MIN, out);
      *out = lang_int(-args[0].as.i);
    } else {
      *out = lang_real(-args[0].as.r);
    }
    return LANG_OK;
  }
  if (exact) {
    int64_t acc = args[0].as.i;
    bool ovf = false;
    for (int i = 1; !ovf && i < nargs; i++) {
      int64_t b = args[i].as.i;
      ovf = op == ADD   ? __builtin_add_overflow(acc, b, &acc)
            : op == SUB ? __builtin_sub_overflow(acc, b, &acc)
                        : __builtin_mul_overflow(acc, b, &acc);
    }
    if (!ovf) {
      *out = lang_int(acc);
      return LANG_OK;
    }
    /* webchurch numbers are doubles: redo the sum inexactly. */
    if (!I->cfg.webchurch) return overflow(I, name);
  }
  double acc = lang_num(args[0]);
  for (int i = 1; i < nargs; i++) {
    double b = lang_num(args[i]);
    acc = op == ADD ? acc + b : op == SUB ? acc - b : acc * b;
  }
  *out = lang_real(acc);
  return LANG_OK;
}

static lang_rc p_add(nsr_lang *I, lval *a, int n, lval *out) { return fold_arith(I, "+", ADD, a, n, out); }
static lang_rc p_sub(nsr_lang *I, lval *a, int n, lval *out) { return fold_arith(I, "-", SUB, a, n, out); }
static lang_rc p_mul(nsr_lang *I, lval *a, int n, lval *out) { return fold_arith(I, "*", MUL, a, n, out); }

/* Exact while every quotient is an integer; the first that is not (or an
 * inexact argument) makes the rest inexact. INT64_MIN / -1 is checked
 * before any C division: the hardware traps on it. */
static lang_rc p_div(nsr_lang *I, lval *a, int n, lval *out) {
  bool exact;
  if (check_numbers(I, "/", a, n, &exact) != LANG_OK) return LANG_ERROR;
  lval acc = n == 1 ? lang_int(1) : a[0];
  for (int i = n == 1 ? 0 : 1; i < n; i++) {
    lval b = a[i];
    if (acc.type == NSR_LANG_INT && b.type == NSR_LANG_INT) {
      if (b.as.i == 0) return lang_error(I, "/: division by exact zero");
      if (acc.as.i == INT64_MIN && b.as.i == -1) {
        if (exact_overflow(I, "/", -(double)INT64_MIN, &acc) != LANG_OK) return LANG_ERROR;
        continue;
      }
      if (acc.as.i % b.as.i == 0) {
        acc = lang_int(acc.as.i / b.as.i);
        continue;
      }
    }
    acc = lang_real(lang_num(acc) / lang_num(b));
  }
  *out = acc;
  return LANG_OK;
}

typedef enum cmp { LT, GT, LE, GE, EQ } cmp;

/* The order of two numbers: -1, 0 or 1, or 2 when either is NaN. Exact
 * pairs compare as integers: doubles lose precision past 2^53. */
static int num_compare(lval x, lval y) {
  if (x.type == NSR_LANG_INT && y.type == NSR_LANG_INT) {
    return (x.as.i > y.as.i) - (x.as.i < y.as.i);
  }
  double u = lang_num(x), v = lang_num(y);
  if (isnan(u) || isnan(v)) return 2;
  return (u > v) - (u < v);
}

static lang_rc compare_chain(nsr_lang *I, const char *name, cmp op, lval *a,
                             int n, lval *out) {
  bool exact;
  if (check_numbers(I, name, a, n, &exact) != LANG_OK) return LANG_ERROR;
  bool ok = true;
  for (int i = 0; ok && i + 1 < n; i++) {
    int c = num_compare(a[i], a[i + 1]);
    ok = c != 2 && (op == LT ? c < 0 : op == GT ? c > 0 : op == LE ? c <= 0 : op == GE ? c >= 0 : c == 0);
  }
  *out = lang_bool(ok);
  return LANG_OK;
}

static lang_rc p_lt(nsr_lang *I, lval *a, int n, lval *out) { return compare_chain(I, "<", LT, a, n, out); }
static lang_rc p_gt(nsr_lang *I, lval *a, int n, lval *out) { return compare_chain(I, ">", GT, a, n, out); }
static lang_rc p_le(nsr_lang *I, lval *a, int n, lval *out) { return compare_chain(I, "<=", LE, a, n, out); }
static lang_rc p_ge(nsr_lang *I, lval *a, int n, lval *out) { return compare_chain(I, ">=", GE, a, n, out); }
static lang_rc p_numeq(nsr_lang *I, lval *a, int n, lval *out) { return compare_chain(I, "=", EQ, a, n, out); }
/* webchurch's pairwise comparisons (.<. and so on) are the chained ones. */
static lang_rc p_dot_lt(nsr_lang *I, lval *a, int n, lval *out) { return compare_chain(I, ".<.", LT, a, n, out); }
static lang_rc p_dot_gt(nsr_lang *I, lval *a, int n, lval *out) { return compare_chain(I, ".>.", GT, a, n, out); }
static lang_rc p_dot_le(nsr_lang *I, lval *a, int n, lval *out) { return compare_chain(I, ".<=.", LE, a, n, out); }
static lang_rc p_dot_ge(nsr_lang *I, lval *a, int n, lval *out) { return compare_chain(I, ".>=.", GE, a, n, out); }

/* min and max compare exactly (num_compare); a NaN argument makes the
 * result NaN, and any inexact argument makes it inexact, as in Scheme. */
static lang_rc min_max(nsr_lang *I, const char *name, bool want_max, lval *a,
                       int n, lval *out) {
  bool exact;
  if (check_numbers(I, name, a, n, &exact) != LANG_OK) return LANG_ERROR;
  lval best = a[0];
  for (int i = 1; i < n; i++) {
    int c = num_compare(a[i], best);
    if (c == 2) {
      *out = lang_real(NAN);
      return LANG_OK;
    }
    if (want_max ? c > 0 : c < 0) best = a[i];
  }
  *out = exact ? best : lang_real(lang_num(best));
  return LANG_OK;
}

static lang_rc p_min(nsr_lang *I, lval *a, int n, lval *out) { return min_max(I, "min", false, a, n, out); }
static lang_rc p_max(nsr_lang *I, lval *a, int n, lval *out) { return min_max(I, "max", true, a, n, out); }

static lang_rc p_abs(nsr_lang *I, lval *a, int n, lval *out) {
  (void)n;
  if (a[0].type == NSR_LANG_INT) {
    if (a[0].as.i == INT64_MIN) return exact_overflow(I, "abs", -(double)INT64_MIN, out);
    *out = lang_int(a[0].as.i < 0 ? -a[0].as.i : a[0].as.i);
    return LANG_OK;
  }
  double x;
  if (lang_arg_real(I, "abs", a, 0, &x) != LANG_OK) return LANG_ERROR;
  *out = lang_real(fabs(x));
  return LANG_OK;
}

/* A finite double with no fraction (infinities are not integers). */
static bool is_integral(double x) { return isfinite(x) && x == floor(x); }

typedef enum intdiv { QUOTIENT, REMAINDER, MODULO, DIV } intdiv;

/* quotient/remainder truncate; modulo and div floor (the remainder takes
 * the divisor's sign). Exact for exact arguments. */
static lang_rc integer_division(nsr_lang *I, const char *name, intdiv op,
                                lval *a, lval *out) {
  if (a[0].type == NSR_LANG_INT && a[1].type == NSR_LANG_INT) {
    int64_t x = a[0].as.i, y = a[1].as.i;
    if (y == 0) return lang_error(I, "%s: division by zero", name);
    /* Checked before C's / and %, which trap on it. */
    if (x == INT64_MIN && y == -1) {
      if (op == QUOTIENT || op == DIV) return exact_overflow(I, name, -(double)INT64_MIN, out);
      *out = lang_int(0);
      return LANG_OK;
    }
    int64_t q = x / y, r = x % y;
    if ((op == MODULO || op == DIV) && r != 0 && ((r < 0) != (y < 0))) {
      q -= 1;
      r += y;
    }
    *out = lang_int(op == QUOTIENT || op == DIV ? q : r);
    return LANG_OK;
  }
  double x, y;
  if (lang_arg_real(I, name, a, 0, &x) != LANG_OK ||
      lang_arg_real(I, name, a, 1, &y) != LANG_OK) {
    return LANG_ERROR;
  }
  if (!is_integral(x)) return lang_type_error(I, name, "an integer", 0, a[0]);
  if (!is_integral(y)) return lang_type_error(I, name, "an integer", 1, a[1]);
  if (y == 0) return lang_error(I, "%s: division by zero", name);
  double q = op == QUOTIENT ? trunc(x / y) : floor(x / y);
  double r = x - q * y;
  *out = lang_real(op == QUOTIENT || op == DIV ? q : r);
  return LANG_OK;
}

static lang_rc p_quotient(nsr_lang *I, lval *a, int n, lval *out) { (void)n; return integer_division(I, "quotient", QUOTIENT, a, out); }
static lang_rc p_remainder(nsr_lang *I, lval *a, int n, lval *out) { (void)n; return integer_division(I, "remainder", REMAINDER, a, out); }
static lang_rc p_modulo(nsr_lang *I, lval *a, int n, lval *out) { (void)n; return integer_division(I, "modulo", MODULO, a, out); }
static lang_rc p_intdiv(nsr_lang *I, lval *a, int n, lval *out) { (void)n; return integer_division(I, "div", DIV, a, out); }

static lang_rc p_expt(nsr_lang *I, lval *a, int n, lval *out) {
  (void)n;
  double x, y;
  if (lang_arg_real(I, "expt", a, 0, &x) != LANG_OK ||
      lang_arg_real(I, "expt", a, 1, &y) != LANG_OK) {
    return LANG_ERROR;
  }
  if (a[0].type == NSR_LANG_INT && a[1].type == NSR_LANG_INT && a[1].as.i >= 0) {
    int64_t base = a[0].as.i, e = a[1].as.i, acc = 1;
    /* Square-and-multiply; every product is checked. */
    bool ovf = false;
    while (!ovf && e > 0) {
      ovf = (e & 1) && __builtin_mul_overflow(acc, base, &acc);
      e >>= 1;
      ovf = ovf || (e > 0 && __builtin_mul_overflow(base, base, &base));
    }
    if (!ovf) {
      *out = lang_int(acc);
      return LANG_OK;
    }
    if (!I->cfg.webchurch) return overflow(I, "expt");
  }
  *out = lang_real(pow(x, y));
  return LANG_OK;
}

/* One-argument real functions. */
typedef struct unary_def {
  const char *name;
  double (*fn)(double);
} unary_def;

static const unary_def unary_fns[] = {
    {"exp", exp},   {"sqrt", sqrt}, {"sin", sin},   {"cos", cos},
    {"tan", tan},   {"asin", asin}, {"acos", acos}, {"lgamma", lgamma},
};

static lang_rc apply_unary(nsr_lang *I, int which, lval *a, lval *out) {
  double x;
  if (lang_arg_real(I, unary_fns[which].name, a, 0, &x) != LANG_OK) return LANG_ERROR;
  *out = lang_real(unary_fns[which].fn(x));
  return LANG_OK;
}

#define UNARY(cname, idx) \
  static lang_rc cname(nsr_lang *I, lval *a, int n, lval *out) { (void)n; return apply_unary(I, idx, a, out); }
UNARY(p_exp, 0)
UNARY(p_sqrt, 1)
UNARY(p_sin, 2)
UNARY(p_cos, 3)
UNARY(p_tan, 4)
UNARY(p_asin, 5)
UNARY(p_acos, 6)
UNARY(p_lgamma, 7)

static lang_rc p_log(nsr_lang *I, lval *a, int n, lval *out) {
  double x, b = 0;
  if (lang_arg_real(I, "log", a, 0, &x) != LANG_OK) return LANG_ERROR;
  if (n == 2 && lang_arg_real(I, "log", a, 1, &b) != LANG_OK) return LANG_ERROR;
  *out = lang_real(n == 2 ? log(x) / log(b) : log(x));
  return LANG_OK;
}

static lang_rc p_atan(nsr_lang *I, lval *a, int n, lval *out) {
  double y, x = 1;
  if (lang_arg_real(I, "atan", a, 0, &y) != LANG_OK) return LANG_ERROR;
  if (n == 2 && lang_arg_real(I, "atan", a, 1, &x) != LANG_OK) return LANG_ERROR;
  *out = lang_real(n == 2 ? atan2(y, x) : atan(y));
  return LANG_OK;
}

/* floor, ceiling, round (half to even, as Scheme) and truncate keep
 * exactness: integers map to themselves, reals to integral reals. */
static lang_rc rounding(nsr_lang *I, const char *name, double (*fn)(double),
                        lval *a, lval *out) {
  if (a[0].type == NSR_LANG_INT) {
    *out = a[0];
    return LANG_OK;
  }
  double x;
  if (lang_arg_real(I, name, a, 0, &x) != LANG_OK) return LANG_ERROR;
  *out = lang_real(fn(x));
  return LANG_OK;
}

static lang_rc p_floor(nsr_lang *I, lval *a, int n, lval *out) { (void)n; return rounding(I, "floor", floor, a, out); }
static lang_rc p_ceiling(nsr_lang *I, lval *a, int n, lval *out) { (void)n; return rounding(I, "ceiling", ceil, a, out); }
/* JavaScript's Math.round: halves go up. */
static double round_half_up(double x) { return floor(x + 0.5); }

static lang_rc p_round(nsr_lang *I, lval *a, int n, lval *out) {
  (void)n;
  return rounding(I, "round", I->cfg.webchurch ? round_half_up : nearbyint, a, out);
}
static lang_rc p_truncate(nsr_lang *I, lval *a, int n, lval *out) { (void)n; return rounding(I, "truncate", trunc, a, out); }

static lang_rc p_inexact(nsr_lang *I, lval *a, int n, lval *out) {
  (void)n;
  double x;
  if (lang_arg_real(I, "exact->inexact", a, 0, &x) != LANG_OK) return LANG_ERROR;
  *out = lang_real(x);
  return LANG_OK;
}

/* An integral double beyond 64 bits overflows (stays inexact under
 * webchurch); a fraction or an infinity is not an integer. */
static lang_rc p_exact(nsr_lang *I, lval *a, int n, lval *out) {
  (void)n;
  if (a[0].type == NSR_LANG_REAL && is_integral(a[0].as.r) && !fits_int64(a[0].as.r)) {
    return exact_overflow(I, "inexact->exact", a[0].as.r, out);
  }
  int64_t i;
  if (lang_arg_int(I, "inexact->exact", a, 0, &i) != LANG_OK) return LANG_ERROR;
  *out = lang_int(i);
  return LANG_OK;
}

typedef enum num_pred { IS_NUMBER, IS_INTEGER, IS_EXACT, IS_INEXACT, IS_ZERO,
                        IS_POSITIVE, IS_NEGATIVE, IS_ODD, IS_EVEN } num_pred;

static lang_rc number_predicate(nsr_lang *I, const char *name, num_pred p,
                                lval *a, lval *out) {
  lval v = a[0];
  if (p == IS_NUMBER) {
    *out = lang_bool(lang_is_number(v));
    return LANG_OK;
  }
  if (p == IS_INTEGER) {
    *out = lang_bool(v.type == NSR_LANG_INT ||
                     (v.type == NSR_LANG_REAL && v.as.r == floor(v.as.r) && isfinite(v.as.r)));
    return LANG_OK;
  }
  double x;
  if (lang_arg_real(I, name, a, 0, &x) != LANG_OK) return LANG_ERROR;
  bool r = false;
  switch (p) {
    case IS_EXACT: r = v.type == NSR_LANG_INT; break;
    case IS_INEXACT: r = v.type == NSR_LANG_REAL; break;
    case IS_ZERO: r = x == 0; break;
    case IS_POSITIVE: r = x > 0; break;
    case IS_NEGATIVE: r = x < 0; break;
    case IS_ODD:
    case IS_EVEN:
      /* fmod is exact, and serves integral doubles past 64 bits too. */
      if (v.type == NSR_LANG_REAL && !is_integral(x)) {
        return lang_type_error(I, name, "an integer", 0, v);
      }
      r = (v.type == NSR_LANG_INT ? v.as.i % 2 != 0 : fmod(x, 2.0) != 0) == (p == IS_ODD);
      break;
    default: break;
  }
  *out = lang_bool(r);
  return LANG_OK;
}

#define NUMPRED(cname, str, pred) \
  static lang_rc cname(nsr_lang *I, lval *a, int n, lval *out) { (void)n; return number_predicate(I, str, pred, a, out); }
NUMPRED(p_numberp, "number?", IS_NUMBER)
NUMPRED(p_integerp, "integer?", IS_INTEGER)
NUMPRED(p_exactp, "exact?", IS_EXACT)
NUMPRED(p_inexactp, "inexact?", IS_INEXACT)
NUMPRED(p_zerop, "zero?", IS_ZERO)
NUMPRED(p_positivep, "positive?", IS_POSITIVE)
NUMPRED(p_negativep, "negative?", IS_NEGATIVE)
NUMPRED(p_oddp, "odd?", IS_ODD)
NUMPRED(p_evenp, "even?", IS_EVEN)

static lang_rc p_number_to_string(nsr_lang *I, lval *a, int n, lval *out) {
  (void)n;
  if (!lang_is_number(a[0])) return lang_type_error(I, "number->string", "a number", 0, a[0]);
  lang_buf b = {.webchurch = I->cfg.webchurch};
  lang_print_number(&b, a[0]);
  lang_rc rc = b.failed ? lang_fail_at(I, I->site.cur_pos, NSR_ERR_NOMEM, "out of memory")
                        : lang_make_string(I, b.data, b.len, out);
  nsr_free(b.data);
  return rc;
}

lang_numeral lang_parse_numeral(const nsr_lang *I, const char *s, lval *out) {
  const char *p = s + (*s == '+' || *s == '-');
  if (!((p[0] >= '0' && p[0] <= '9') || (p[0] == '.' && p[1] >= '0' && p[1] <= '9'))) {
    return LANG_NOT_NUMERAL;
  }
  char *end;
  errno = 0;
  long long i = strtoll(s, &end, 10);
  if (*end == '\0' && errno != ERANGE) {
    *out = lang_int(i);
    return LANG_NUMERAL;
  }
  bool too_big = *end == '\0';
  /* strtod would also take hex, inf and nan: they are not numerals here. */
  double d = strtod(s, &end);
  if (*end != '\0' || strpbrk(s, "xXnNiIpP") != NULL) return LANG_NOT_NUMERAL;
  if (too_big && !I->cfg.webchurch) return LANG_NUMERAL_TOO_BIG;
  *out = I->cfg.webchurch ? lang_webchurch_number(lang_real(d)) : lang_real(d);
  return LANG_NUMERAL;
}

/* The reader's numerals; anything else is #f. An integer past 64 bits is
 * an overflow error (inexact under webchurch), never a saturated value. */
static lang_rc p_string_to_number(nsr_lang *I, lval *a, int n, lval *out) {
  (void)n;
  if (a[0].type != NSR_LANG_STRING) return lang_type_error(I, "string->number", "a string", 0, a[0]);
  switch (lang_parse_numeral(I, LANG_STR(a[0])->chars, out)) {
    case LANG_NUMERAL: return LANG_OK;
    case LANG_NUMERAL_TOO_BIG: return overflow(I, "string->number");
    case LANG_NOT_NUMERAL: break;
  }
  *out = lang_bool(false);
  return LANG_OK;
}

/* Pure (see lang_prim). */
const lang_prim_def lang_prims_num[] = {
    {"+", 0, -1, p_add},
    {"-", 1, -1, p_sub},
    {"*", 0, -1, p_mul},
    {"/", 1, -1, p_div},
    {"<", 1, -1, p_lt},
    {">", 1, -1, p_gt},
    {"<=", 1, -1, p_le},
    {">=", 1, -1, p_ge},
    {"=", 0, -1, p_numeq}, /* (=) is true, as in webchurch */
    {".<.", 1, -1, p_dot_lt},
    {".>.", 1, -1, p_dot_gt},
    {".<=.", 1, -1, p_dot_le},
    {".>=.", 1, -1, p_dot_ge},
    {"min", 1, -1, p_min},
    {"max", 1, -1, p_max},
    {"abs", 1, 1, p_abs},
    {"quotient", 2, 2, p_quotient},
    {"remainder", 2, 2, p_remainder},
    {"modulo", 2, 2, p_modulo},
    {"div", 2, 2, p_intdiv},
    {"expt", 2, 2, p_expt},
    {"pow", 2, 2, p_expt},
    {"exp", 1, 1, p_exp},
    {"log", 1, 2, p_log},
    {"sqrt", 1, 1, p_sqrt},
    {"sin", 1, 1, p_sin},
    {"cos", 1, 1, p_cos},
    {"tan", 1, 1, p_tan},
    {"asin", 1, 1, p_asin},
    {"acos", 1, 1, p_acos},
    {"atan", 1, 2, p_atan},
    {"lgamma", 1, 1, p_lgamma},
    {"floor", 1, 1, p_floor},
    {"ceiling", 1, 1, p_ceiling},
    {"round", 1, 1, p_round},
    {"truncate", 1, 1, p_truncate},
    {"exact->inexact", 1, 1, p_inexact},
    {"inexact", 1, 1, p_inexact},
    {"inexact->exact", 1, 1, p_exact},
    {"exact", 1, 1, p_exact},
    {"number?", 1, 1, p_numberp},
    {"real?", 1, 1, p_numberp},
    {"integer?", 1, 1, p_integerp},
    {"exact?", 1, 1, p_exactp},
    {"inexact?", 1, 1, p_inexactp},
    {"zero?", 1, 1, p_zerop},
    {"positive?", 1, 1, p_positivep},
    {"negative?", 1, 1, p_negativep},
    {"odd?", 1, 1, p_oddp},
    {"even?", 1, 1, p_evenp},
    {"number->string", 1, 1, p_number_to_string},
    {"string->number", 1, 1, p_string_to_number},
    {NULL, 0, 0, NULL},
};
