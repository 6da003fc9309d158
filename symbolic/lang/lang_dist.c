/* lang_dist.c: Church's elementary random primitives and their scoring
 * functions. Each sampling primitive builds a lang_dist from its arguments
 * and hands it to lang_choose (lang_infer.c), which samples it, replays it
 * or enumerates it depending on the running query. Each `NAME-score`
 * primitive takes NAME's parameters followed by a value and returns its
 * log probability (density for continuous distributions). */
#include <float.h>
#include <math.h>

#include "lang_dist.h"

/* Trials beyond this would make enumeration's support absurd; sampling
 * costs the same for any count (binomial_sample). */
#define BINOMIAL_MAX_TRIALS 100000000LL
/* Real parameters (shapes, scales, rates, means, bounds) must be finite
 * and at most this in size, so that every score below stays a number:
 * products such as shape * log(x) cannot overflow to inf - inf. */
#define PARAM_MAX 1e300
/* Means beyond this would give counts that doubles cannot hold exactly. */
#define POISSON_MAX_MEAN 4503599627370496.0 /* 2^52 */

static const char *const dist_names[] = {
    "flip", "uniform-draw", "random-integer", "sample-discrete", "multinomial",
    "binomial", "poisson", "uniform", "gaussian", "beta", "gamma",
    "exponential", "dirichlet",
};

const char *lang_dist_name(lang_dist_kind kind) { return dist_names[kind]; }

/* ---- samplers ------------------------------------------------------------ */

/* Uniform on (0, 1]: safe to take the log of. */
static double open_uniform(nsr_rng *rng) { return 1.0 - nsr_rng_uniform(rng); }

/* Marsaglia and Tsang's method; shapes below 1 use the boost
 * Gamma(k) = Gamma(k + 1) * U^(1/k). Unit scale. */
static double gamma_sample(nsr_rng *rng, double k) {
  if (k < 1.0) return gamma_sample(rng, k + 1.0) * pow(open_uniform(rng), 1.0 / k);
  double d = k - 1.0 / 3.0, c = 1.0 / sqrt(9.0 * d);
  for (;;) {
    double x = nsr_rng_normal(rng), v = 1.0 + c * x;
    if (v <= 0.0) continue;
    v = v * v * v;
    double u = open_uniform(rng);
    if (u < 1.0 - 0.0331 * x * x * x * x) return d * v;
    if (log(u) < 0.5 * x * x + d * (1.0 - v + log(v))) return d * v;
  }
}

/* Knuth's multiplication method for means up to 30 (exp(-mean) stays far
 * from underflow): about mean + 1 uniforms. */
static int64_t poisson_small(nsr_rng *rng, double mean) {
  double limit = exp(-mean), prod = open_uniform(rng);
  int64_t k = 0;
  while (prod > limit) {
    k++;
    prod *= open_uniform(rng);
  }
  return k;
}

/* Hoermann's transformed rejection with squeeze (PTRS, 1993; valid for
 * means of 10 and more) past 30: a bounded expected number of tries whatever the mean, so
 * no budget needs to see it. */
static int64_t poisson_sample(nsr_rng *rng, double mean) {
  if (mean <= 30.0) return poisson_small(rng, mean);
  double root = sqrt(mean), log_mean = log(mean);
  double b = 0.931 + 2.53 * root, a = -0.059 + 0.02483 * b;
  double inv_alpha = 1.1239 + 1.1328 / (b - 3.4), v_r = 0.9277 - 3.6224 / (b - 2.0);
  for (;;) {
    double u = nsr_rng_uniform(rng) - 0.5, v = open_uniform(rng);
    double us = 0.5 - fabs(u);
    double k = floor((2.0 * a / us + b) * u + mean + 0.43);
    if (us >= 0.07 && v <= v_r) return (int64_t)k;
    if (k < 0 || (us < 0.013 && v > us)) continue;
    if (log(v) + log(inv_alpha) - log(a / (us * us) + b) <=
        -mean + k * log_mean - lgamma(k + 1.0)) {
      return (int64_t)k;
    }
  }
}

/* Successes in n trials of probability p <= 0.5 with n * p < 10: the
 * gaps between successes are geometric, about n * p + 1 draws. */
static int64_t binomial_small(nsr_rng *rng, int64_t n, double p) {
  double log_q = log1p(-p), at = 0;
  for (int64_t k = 0;; k++) {
    at += floor(log(open_uniform(rng)) / log_q) + 1.0;
    if (at > (double)n) return k;
  }
}

/* Hoermann's BTRS (1993) for p <= 0.5 and n * p >= 10: transformed
 * rejection with a bounded expected number of tries whatever n is. */
static int64_t binomial_large(nsr_rng *rng, int64_t n, double p) {
  double q = 1.0 - p, spq = sqrt((double)n * p * q);
  double b = 1.15 + 2.53 * spq, a = -0.0873 + 0.0248 * b + 0.01 * p;
  double c = (double)n * p + 0.5, v_r = 0.92 - 4.2 / b;
  double alpha = (2.83 + 5.1 / b) * spq, log_odds = log(p / q);
  double m = floor((double)(n + 1) * p);
  double h = lgamma(m + 1.0) + lgamma((double)n - m + 1.0);
  for (;;) {
    double u = nsr_rng_uniform(rng) - 0.5, v = open_uniform(rng);
    double us = 0.5 - fabs(u);
    double k = floor((2.0 * a / us + b) * u + c);
    if (k < 0 || k > (double)n) continue;
    if (us >= 0.07 && v <= v_r) return (int64_t)k;
    v = log(v * alpha / (a / (us * us) + b));
    if (v <= h - lgamma(k + 1.0) - lgamma((double)n - k + 1.0) + (k - m) * log_odds) {
      return (int64_t)k;
    }
  }
}

/* Up to this many trials, a sum of Bernoullis (the stream seeded programs
 * have always seen); beyond, a method whose cost does not grow with n. */
#define BINOMIAL_DIRECT_TRIALS 1024

static int64_t binomial_sample(nsr_rng *rng, int64_t n, double p) {
  if (n <= BINOMIAL_DIRECT_TRIALS) {
    int64_t k = 0;
    for (int64_t i = 0; i < n; i++) k += nsr_rng_uniform(rng) < p;
    return k;
  }
  if (p > 0.5) return n - binomial_sample(rng, n, 1.0 - p);
  if (p == 0) return 0;
  return (double)n * p < 10.0 ? binomial_small(rng, n, p) : binomial_large(rng, n, p);
}

/* Index drawn in proportion to a list of non-negative weights. */
static int64_t weighted_index(nsr_rng *rng, lval weights, double total) {
  double u = nsr_rng_uniform(rng) * total, acc = 0;
  int64_t k = 0, last_positive = 0;
  for (lval l = weights; l.type == NSR_LANG_PAIR; l = lang_cdr(l), k++) {
    double w = lang_num(lang_car(l));
    if (w > 0) last_positive = k;
    acc += w;
    if (u < acc) return k;
  }
  return last_positive; /* rounding left u at the very top */
}

/* x moved into the open interval (0, 1), where beta and dirichlet values
 * have a finite density: underflow must not give an impossible sample. */
static double inside_unit(double x) {
  return x <= 0 ? DBL_TRUE_MIN : x >= 1 ? 1.0 - DBL_EPSILON / 2 : x;
}

static lval nth(lval list, int64_t k) {
  while (k-- > 0) list = lang_cdr(list);
  return lang_car(list);
}

/* The cache entry of `slot` for argument i (a list), (re)filled if it
 * holds another list; NULL with a located error when the argument is not a
 * list or memory runs out. */
static const lang_list_cache *cache_list(nsr_lang *I, int slot,
                                         const char *name, lval *a, int i) {
  lang_list_cache *c = &I->list_cache[slot];
  lval list = a[i];
  if (c->list.type == NSR_LANG_PAIR && c->list.as.obj == list.as.obj) return c;
  int64_t n;
  if (lang_arg_list(I, name, a, i, &n) != LANG_OK) return NULL;
  lval *items = nsr_mallocarray(n > 0 ? (size_t)n : 1, sizeof *items);
  if (items == NULL) {
    lang_fail_at(I, I->site.cur_pos, NSR_ERR_NOMEM, "out of memory");
    return NULL;
  }
  nsr_free(c->items);
  *c = (lang_list_cache){.list = list, .n = n, .items = items, .numbers = true, .positive = true};
  for (int64_t k = 0; k < n; k++, list = lang_cdr(list)) {
    lval v = lang_car(list);
    items[k] = v;
    double x = lang_is_number(v) ? lang_num(v) : NAN;
    if (!(x >= 0) || isinf(x)) c->numbers = c->positive = false;
    if (!(x > 0)) c->positive = false;
    if (c->numbers) c->total += x;
  }
  return c;
}

/* Item k of a list, in O(1) when the list is in a cache slot. */
static lval list_item(const nsr_lang *I, lval list, int64_t k) {
  for (int i = 0; i < LANG_CACHES; i++) {
    const lang_list_cache *c = &I->list_cache[i];
    if (c->list.type == NSR_LANG_PAIR && c->list.as.obj == list.as.obj) return c->items[k];
  }
  while (k-- > 0) list = lang_cdr(list);
  return lang_car(list);
}

lang_rc lang_dist_sample(nsr_lang *I, const lang_dist *d, nsr_rng *rng,
                         lval *out) {
  switch (d->kind) {
    case DIST_FLIP: *out = lang_bool(nsr_rng_uniform(rng) < d->p[0]); return LANG_OK;
    case DIST_DRAW: *out = list_item(I, d->items, (int64_t)nsr_rng_below(rng, (uint64_t)d->n)); return LANG_OK;
    case DIST_INTEGER: *out = lang_int((int64_t)nsr_rng_below(rng, (uint64_t)d->n)); return LANG_OK;
    case DIST_DISCRETE: *out = lang_int(weighted_index(rng, d->weights, d->total)); return LANG_OK;
    case DIST_MULTINOMIAL:
      *out = list_item(I, d->items, weighted_index(rng, d->weights, d->total));
      return LANG_OK;
    case DIST_BINOMIAL: *out = lang_int(binomial_sample(rng, d->n, d->p[0])); return LANG_OK;
    case DIST_POISSON: *out = lang_int(poisson_sample(rng, d->p[0])); return LANG_OK;
    case DIST_UNIFORM:
      *out = lang_real(d->p[0] + (d->p[1] - d->p[0]) * nsr_rng_uniform(rng));
      return LANG_OK;
    case DIST_GAUSSIAN: *out = lang_real(d->p[0] + d->p[1] * nsr_rng_normal(rng)); return LANG_OK;
    case DIST_BETA: {
      double x = gamma_sample(rng, d->p[0]), y = gamma_sample(rng, d->p[1]);
      /* Tiny shapes make both draws underflow to 0: the mass is then at
       * the ends, 1 with probability a / (a + b). */
      double r = x + y > 0 ? x / (x + y) : nsr_rng_uniform(rng) * (d->p[0] + d->p[1]) < d->p[0];
      *out = lang_real(inside_unit(r));
      return LANG_OK;
    }
    case DIST_GAMMA: *out = lang_real(gamma_sample(rng, d->p[0]) * d->p[1]); return LANG_OK;
    case DIST_EXPONENTIAL: *out = lang_real(-log(open_uniform(rng)) / d->p[0]); return LANG_OK;
    case DIST_DIRICHLET: {
      /* Gamma draws in a fresh list, then normalised in place. When tiny
       * alphas make every draw underflow, the mass goes to one component
       * drawn in proportion to the alphas (the limit of the distribution). */
      lang_list_builder b = LANG_LIST_BUILDER;
      double sum = 0;
      for (lval l = d->weights; l.type == NSR_LANG_PAIR; l = lang_cdr(l)) {
        double g = gamma_sample(rng, lang_num(lang_car(l)));
        sum += g;
        if (lang_builder_add(I, &b, lang_real(g), (lang_pos){0, 0, 0}) != LANG_OK) return LANG_ERROR;
      }
      int64_t winner = sum > 0 ? -1 : weighted_index(rng, d->weights, d->total), k = 0;
      for (lval l = b.head; l.type == NSR_LANG_PAIR; l = lang_cdr(l), k++) {
        double *x = &LANG_PAIR(l)->car.as.r;
        *x = inside_unit(winner < 0 ? *x / sum : k == winner);
      }
      *out = b.head;
      return LANG_OK;
    }
  }
  return lang_fail_at(I, I->site.cur_pos, NSR_ERR_INTERNAL, "unknown distribution");
}

/* ---- scores -------------------------------------------------------------- */

static const double LOG_SQRT_2PI = 0.91893853320467274178;

static double log_choose(int64_t n, int64_t k) {
  return lgamma((double)n + 1) - lgamma((double)k + 1) - lgamma((double)(n - k) + 1);
}

/* log of the weight share of every item equal to v. */
static double log_share_of_equal(lval items, lval weights, double total, lval v) {
  double mass = 0;
  for (; items.type == NSR_LANG_PAIR; items = lang_cdr(items), weights = lang_cdr(weights)) {
    if (lang_equal(lang_car(items), v)) mass += lang_num(lang_car(weights));
  }
  return log(mass / total);
}

static bool integer_value(lval v, int64_t *out) {
  if (v.type == NSR_LANG_INT) {
    *out = v.as.i;
    return true;
  }
  return false;
}

double lang_dist_logp(const lang_dist *d, lval v) {
  const double NEG_INF = -INFINITY;
  int64_t k;
  double x = lang_is_number(v) ? lang_num(v) : NAN;
  switch (d->kind) {
    case DIST_FLIP:
      if (v.type != NSR_LANG_BOOL) return NEG_INF;
      return log(v.as.b ? d->p[0] : 1.0 - d->p[0]);
    case DIST_DRAW: {
      int64_t count = 0;
      for (lval l = d->items; l.type == NSR_LANG_PAIR; l = lang_cdr(l)) {
        count += lang_equal(lang_car(l), v);
      }
      return log((double)count / (double)d->n);
    }
    case DIST_INTEGER:
      if (!integer_value(v, &k) || k < 0 || k >= d->n) return NEG_INF;
      return -log((double)d->n);
    case DIST_DISCRETE:
      if (!integer_value(v, &k) || k < 0 || k >= d->n) return NEG_INF;
      return log(lang_num(nth(d->weights, k)) / d->total);
    case DIST_MULTINOMIAL: return log_share_of_equal(d->items, d->weights, d->total, v);
    case DIST_BINOMIAL:
      if (!integer_value(v, &k) || k < 0 || k > d->n) return NEG_INF;
      if (d->p[0] == 0.0 || d->p[0] == 1.0) {
        return (k == 0 && d->p[0] == 0.0) || (k == d->n && d->p[0] == 1.0) ? 0.0 : NEG_INF;
      }
      return log_choose(d->n, k) + (double)k * log(d->p[0]) +
             (double)(d->n - k) * log1p(-d->p[0]);
    case DIST_POISSON:
      if (!integer_value(v, &k) || k < 0) return NEG_INF;
      return (double)k * log(d->p[0]) - d->p[0] - lgamma((double)k + 1);
    case DIST_UNIFORM:
      if (isnan(x) || x < d->p[0] || x > d->p[1]) return NEG_INF;
      return -log(d->p[1] - d->p[0]);
    case DIST_GAUSSIAN: {
      if (isnan(x)) return NEG_INF;
      double z = (x - d->p[0]) / d->p[1];
      return -LOG_SQRT_2PI - log(d->p[1]) - 0.5 * z * z;
    }
    case DIST_BETA:
      if (isnan(x) || x <= 0 || x >= 1) return NEG_INF;
      return (d->p[0] - 1) * log(x) + (d->p[1] - 1) * log1p(-x) -
             (lgamma(d->p[0]) + lgamma(d->p[1]) - lgamma(d->p[0] + d->p[1]));
    case DIST_GAMMA:
      if (isnan(x) || x <= 0) return NEG_INF;
      return (d->p[0] - 1) * log(x) - x / d->p[1] - lgamma(d->p[0]) - d->p[0] * log(d->p[1]);
    case DIST_EXPONENTIAL:
      if (isnan(x) || x < 0) return NEG_INF;
      return log(d->p[0]) - d->p[0] * x;
    case DIST_DIRICHLET: {
      if (lang_list_length(v) != d->n) return NEG_INF;
      double lp = 0, alpha_sum = 0;
      lval a = d->weights;
      for (; v.type == NSR_LANG_PAIR; v = lang_cdr(v), a = lang_cdr(a)) {
        if (!lang_is_number(lang_car(v))) return NEG_INF;
        double xi = lang_num(lang_car(v)), ai = lang_num(lang_car(a));
        if (!(xi > 0 && xi <= 1)) return NEG_INF; /* NaN too */
        lp += (ai - 1) * log(xi) - lgamma(ai);
        alpha_sum += ai;
      }
      return lp + lgamma(alpha_sum);
    }
  }
  return NEG_INF;
}

/* ---- enumeration --------------------------------------------------------- */

int64_t lang_dist_support(const lang_dist *d) {
  switch (d->kind) {
    case DIST_FLIP: return 2;
    case DIST_DRAW:
    case DIST_INTEGER:
    case DIST_DISCRETE:
    case DIST_MULTINOMIAL: return d->n;
    case DIST_BINOMIAL: return d->n + 1;
    default: return -1;
  }
}

lang_rc lang_dist_support_value(nsr_lang *I, const lang_dist *d, int64_t k,
                                lval *out) {
  switch (d->kind) {
    case DIST_FLIP: *out = lang_bool(k == 0); break;
    case DIST_DRAW:
    case DIST_MULTINOMIAL: *out = list_item(I, d->items, k); break;
    default: *out = lang_int(k); break;
  }
  return LANG_OK;
}

double lang_dist_support_logp(const nsr_lang *I, const lang_dist *d, int64_t k) {
  switch (d->kind) {
    case DIST_FLIP: return log(k == 0 ? d->p[0] : 1.0 - d->p[0]);
    case DIST_DRAW:
    case DIST_INTEGER: return -log((double)d->n);
    case DIST_DISCRETE:
    case DIST_MULTINOMIAL: return log(lang_num(list_item(I, d->weights, k)) / d->total);
    case DIST_BINOMIAL: return lang_dist_logp(d, lang_int(k));
    default: return -INFINITY;
  }
}

/* ---- building distributions from arguments ------------------------------- */

/* A list of non-negative (or positive) numbers with a positive sum. */
static lang_rc weights_arg(nsr_lang *I, const char *name, lval *a, int i,
                           bool strictly_positive, lang_dist *d) {
  const lang_list_cache *c = cache_list(I, LANG_CACHE_WEIGHTS, name, a, i);
  if (c == NULL) return LANG_ERROR;
  if (c->n == 0) return lang_error(I, "%s: the list of weights is empty", name);
  if (!(strictly_positive ? c->positive : c->numbers)) {
    return lang_type_error(I, name, strictly_positive ? "a list of positive numbers"
                                                      : "a list of non-negative numbers",
                           i, a[i]);
  }
  if (!(c->total > 0)) return lang_error(I, "%s: the weights sum to zero", name);
  if (c->total > PARAM_MAX) {
    return lang_fail_at(I, I->site.cur_pos, NSR_ERR_RANGE,
                        "%s: the weights sum to %g, more than %g", name, c->total, PARAM_MAX);
  }
  d->weights = a[i];
  d->total = c->total;
  d->n = c->n;
  return LANG_OK;
}

/* A non-empty list of items to draw from. */
static lang_rc items_arg(nsr_lang *I, const char *name, lval *a, int i,
                         lang_dist *d) {
  const lang_list_cache *c = cache_list(I, LANG_CACHE_ITEMS, name, a, i);
  if (c == NULL) return LANG_ERROR;
  if (c->n == 0) return lang_error(I, "%s: the list is empty", name);
  d->items = a[i];
  d->n = c->n;
  return LANG_OK;
}

/* The error for real parameter i of `name`: not a number, or outside
 * lo..hi (above lo when open_lo). Out of line: draws seldom fail. */
static lang_rc real_error(nsr_lang *I, const char *name, lval *a, int i, double lo, double hi,
                          bool open_lo) {
  if (!lang_is_number(a[i])) return lang_type_error(I, name, "a number", i, a[i]);
  return lang_fail_at(I, I->site.cur_pos, NSR_ERR_RANGE,
                      "%s: argument %d must be %s %g and <= %g, got %g", name, i + 1,
                      open_lo ? ">" : ">=", lo, hi, lang_num(a[i]));
}

/* Real parameter i of distribution `name`: a finite number in lo..hi
 * (above lo when open_lo), which must lie within +-PARAM_MAX. NaN and the
 * infinities fail every comparison below or the bound, so they are
 * rejected with the rest. Inline: every draw checks its parameters. */
static inline lang_rc real_in(nsr_lang *I, const char *name, lval *a, int i,
                              double lo, double hi, bool open_lo, double *out) {
  if (!lang_is_number(a[i])) return real_error(I, name, a, i, lo, hi, open_lo);
  double x = lang_num(a[i]);
  if (!((open_lo ? x > lo : x >= lo) && x <= hi)) return real_error(I, name, a, i, lo, hi, open_lo);
  *out = x;
  return LANG_OK;
}

static lang_rc count_arg(nsr_lang *I, const char *name, lval *a, int i,
                         int64_t min, int64_t *out) {
  if (lang_arg_int(I, name, a, i, out) != LANG_OK) return LANG_ERROR;
  if (*out < min) {
    return lang_fail_at(I, I->site.cur_pos, NSR_ERR_RANGE,
                        "%s: argument %d must be >= %lld, got %lld", name, i + 1, (long long)min,
                        (long long)*out);
  }
  return LANG_OK;
}

/* Fills *d from the n parameters of a kind's primitive. */
static lang_rc parse_dist(nsr_lang *I, lang_dist_kind kind, lval *a, int n,
                          lang_dist *d) {
  const char *name = dist_names[kind];
  const double MAX = PARAM_MAX;
  *d = (lang_dist){.kind = kind, .items = lang_nil(), .weights = lang_nil()};
  switch (kind) {
    case DIST_FLIP:
      d->p[0] = 0.5;
      return n == 0 ? LANG_OK : real_in(I, name, a, 0, 0, 1, false, &d->p[0]);
    case DIST_DRAW: return items_arg(I, name, a, 0, d);
    case DIST_INTEGER: return count_arg(I, name, a, 0, 1, &d->n);
    case DIST_DISCRETE: return weights_arg(I, name, a, 0, false, d);
    case DIST_MULTINOMIAL: {
      if (items_arg(I, name, a, 0, d) != LANG_OK) return LANG_ERROR;
      int64_t len = d->n;
      if (weights_arg(I, name, a, 1, false, d) != LANG_OK) return LANG_ERROR;
      if (len != d->n) {
        return lang_error(I, "multinomial: %lld items but %lld probabilities",
                          (long long)len, (long long)d->n);
      }
      return LANG_OK;
    }
    case DIST_BINOMIAL:
      if (real_in(I, name, a, 0, 0, 1, false, &d->p[0]) != LANG_OK) return LANG_ERROR;
      if (count_arg(I, name, a, 1, 0, &d->n) != LANG_OK) return LANG_ERROR;
      if (d->n > BINOMIAL_MAX_TRIALS) {
        return lang_fail_at(I, I->site.cur_pos, NSR_ERR_RANGE, "binomial: at most %lld trials",
                            BINOMIAL_MAX_TRIALS);
      }
      return LANG_OK;
    case DIST_POISSON: return real_in(I, name, a, 0, 0, POISSON_MAX_MEAN, true, &d->p[0]);
    case DIST_UNIFORM:
      if (real_in(I, name, a, 0, -MAX, MAX, false, &d->p[0]) != LANG_OK) return LANG_ERROR;
      return real_in(I, name, a, 1, d->p[0], MAX, true, &d->p[1]);
    case DIST_GAUSSIAN:
      d->p[0] = 0;
      d->p[1] = 1;
      if (n > 0 && real_in(I, name, a, 0, -MAX, MAX, false, &d->p[0]) != LANG_OK) return LANG_ERROR;
      return n > 1 ? real_in(I, name, a, 1, 0, MAX, true, &d->p[1]) : LANG_OK;
    case DIST_BETA:
    case DIST_GAMMA:
      if (real_in(I, name, a, 0, 0, MAX, true, &d->p[0]) != LANG_OK ||
          real_in(I, name, a, 1, 0, MAX, true, &d->p[1]) != LANG_OK) {
        return LANG_ERROR;
      }
      /* A gamma draw is about shape * scale: past MAX it would be inf. */
      if (kind == DIST_GAMMA && d->p[0] * d->p[1] > MAX) {
        return lang_fail_at(I, I->site.cur_pos, NSR_ERR_RANGE,
                            "gamma: shape * scale must be <= %g, got %g", MAX, d->p[0] * d->p[1]);
      }
      return LANG_OK;
    case DIST_EXPONENTIAL: return real_in(I, name, a, 0, 0, MAX, true, &d->p[0]);
    case DIST_DIRICHLET: return weights_arg(I, name, a, 0, true, d);
  }
  return LANG_OK;
}

/* The items a sample or a score of d may walk (its lists), charged to
 * the budgets: the walks are C loops the evaluator's steps do not see. */
static uint64_t list_work(const lang_dist *d) {
  bool lists = d->kind == DIST_DRAW || d->kind == DIST_DISCRETE ||
               d->kind == DIST_MULTINOMIAL || d->kind == DIST_DIRICHLET;
  return lists ? (uint64_t)d->n : 0;
}

lang_rc lang_dist_parse(nsr_lang *I, lang_dist_kind kind, lval *a, int n,
                        lang_dist *d) {
  if (parse_dist(I, kind, a, n, d) != LANG_OK) return LANG_ERROR;
  /* Charging nothing changes nothing: most draws walk no list. */
  uint64_t work = list_work(d);
  return work == 0 ? LANG_OK : lang_charge(I, work);
}

static lang_rc sample_prim(nsr_lang *I, lang_dist_kind kind, lval *a, int n,
                           lval *out) {
  lang_dist d;
  if (lang_dist_parse(I, kind, a, n, &d) != LANG_OK) return LANG_ERROR;
  return lang_choose(I, &d, out);
}

/* NAME-score: the parameters, then the value. */
static lang_rc score_prim(nsr_lang *I, lang_dist_kind kind, lval *a, int n,
                          lval *out) {
  lang_dist d;
  if (lang_dist_parse(I, kind, a, n - 1, &d) != LANG_OK) return LANG_ERROR;
  *out = lang_real(lang_dist_logp(&d, a[n - 1]));
  return LANG_OK;
}

#define ERP(cname, kind)                                               \
  static lang_rc cname(nsr_lang *I, lval *a, int n, lval *out) {       \
    return sample_prim(I, kind, a, n, out);                            \
  }                                                                    \
  static lang_rc cname##_score(nsr_lang *I, lval *a, int n, lval *out) { \
    return score_prim(I, kind, a, n, out);                             \
  }
ERP(p_flip, DIST_FLIP)
ERP(p_uniform_draw, DIST_DRAW)
ERP(p_random_integer, DIST_INTEGER)
ERP(p_sample_discrete, DIST_DISCRETE)
ERP(p_multinomial, DIST_MULTINOMIAL)
ERP(p_binomial, DIST_BINOMIAL)
ERP(p_poisson, DIST_POISSON)
ERP(p_uniform, DIST_UNIFORM)
ERP(p_gaussian, DIST_GAUSSIAN)
ERP(p_beta, DIST_BETA)
ERP(p_gamma, DIST_GAMMA)
ERP(p_exponential, DIST_EXPONENTIAL)
ERP(p_dirichlet, DIST_DIRICHLET)

/* The sampling primitives by kind (observations recognise them). */
static const lang_prim_fn dist_prims[] = {
    [DIST_FLIP] = p_flip, [DIST_DRAW] = p_uniform_draw, [DIST_INTEGER] = p_random_integer,
    [DIST_DISCRETE] = p_sample_discrete, [DIST_MULTINOMIAL] = p_multinomial,
    [DIST_BINOMIAL] = p_binomial, [DIST_POISSON] = p_poisson, [DIST_UNIFORM] = p_uniform,
    [DIST_GAUSSIAN] = p_gaussian, [DIST_BETA] = p_beta, [DIST_GAMMA] = p_gamma,
    [DIST_EXPONENTIAL] = p_exponential, [DIST_DIRICHLET] = p_dirichlet,
};

bool lang_dist_prim_kind(lval proc, lang_dist_kind *kind) {
  if (proc.type != NSR_LANG_PRIMITIVE) return false;
  for (size_t k = 0; k < sizeof dist_prims / sizeof dist_prims[0]; k++) {
    if (LANG_PRIM(proc)->fn == dist_prims[k]) {
      *kind = (lang_dist_kind)k;
      return true;
    }
  }
  return false;
}

const lang_prim_def lang_prims_dist[] = {
    {"flip", 0, 1, p_flip},
    {"uniform-draw", 1, 1, p_uniform_draw},
    {"random-integer", 1, 1, p_random_integer},
    {"sample-integer", 1, 1, p_random_integer},
    {"sample-discrete", 1, 1, p_sample_discrete},
    {"multinomial", 2, 2, p_multinomial},
    {"binomial", 2, 2, p_binomial},
    {"poisson", 1, 1, p_poisson},
    {"uniform", 2, 2, p_uniform},
    {"gaussian", 0, 2, p_gaussian},
    {"beta", 2, 2, p_beta},
    {"gamma", 2, 2, p_gamma},
    {"exponential", 1, 1, p_exponential},
    {"dirichlet", 1, 1, p_dirichlet},
    {NULL, 0, 0, NULL},
};

/* The scores: pure (see lang_prim). */
const lang_prim_def lang_prims_dist_scores[] = {
    {"flip-score", 1, 2, p_flip_score},
    {"uniform-draw-score", 2, 2, p_uniform_draw_score},
    {"random-integer-score", 2, 2, p_random_integer_score},
    {"sample-integer-score", 2, 2, p_random_integer_score},
    {"sample-discrete-score", 2, 2, p_sample_discrete_score},
    {"multinomial-score", 3, 3, p_multinomial_score},
    {"binomial-score", 3, 3, p_binomial_score},
    {"poisson-score", 2, 2, p_poisson_score},
    {"uniform-score", 3, 3, p_uniform_score},
    {"gaussian-score", 1, 3, p_gaussian_score},
    {"beta-score", 3, 3, p_beta_score},
    {"gamma-score", 3, 3, p_gamma_score},
    {"exponential-score", 2, 2, p_exponential_score},
    {"dirichlet-score", 2, 2, p_dirichlet_score},
    {NULL, 0, 0, NULL},
};
