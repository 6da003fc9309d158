/* lang_dist.h: the elementary random primitives (ERPs) of Church as data: a
 * distribution with its parameters, which the inference engines can sample,
 * score and (when finite) enumerate. */
#ifndef NSR_LANG_DIST_H
#define NSR_LANG_DIST_H

#include "lang_internal.h"

typedef enum lang_dist_kind {
  DIST_FLIP,        /* p[0] = probability of #t */
  DIST_DRAW,        /* uniform-draw: an element of `items` (n of them) */
  DIST_INTEGER,     /* random-integer: 0..n-1 uniformly */
  DIST_DISCRETE,    /* sample-discrete: index 0..n-1 by `weights` */
  DIST_MULTINOMIAL, /* an element of `items` by `weights` */
  DIST_BINOMIAL,    /* p[0] = success probability, n trials */
  DIST_POISSON,     /* p[0] = mean */
  DIST_UNIFORM,     /* [p[0], p[1]] */
  DIST_GAUSSIAN,    /* mean p[0], standard deviation p[1] */
  DIST_BETA,        /* p[0] = a, p[1] = b */
  DIST_GAMMA,       /* shape p[0], scale p[1] */
  DIST_EXPONENTIAL, /* rate p[0] */
  DIST_DIRICHLET,   /* `weights` = alpha; the value is a list */
} lang_dist_kind;

typedef struct lang_dist {
  lang_dist_kind kind;
  double p[2];
  int64_t n;
  lval items;   /* list, or nil */
  lval weights; /* list of numbers, or nil; their sum is `total` */
  double total;
} lang_dist;

/* Draws a value from d with rng. */
lang_rc lang_dist_sample(nsr_lang *I, const lang_dist *d, nsr_rng *rng,
                         lval *out);
/* log p(v) under d; -INFINITY outside the support. */
double lang_dist_logp(const lang_dist *d, lval v);
/* Number of values for finite distributions; -1 for continuous ones and
 * those with infinite support (poisson). */
int64_t lang_dist_support(const lang_dist *d);
/* Value k of a finite support (0 <= k < lang_dist_support(d)). Values may
 * repeat (uniform-draw over a list with duplicates); each carries its own
 * share of the mass, given by lang_dist_support_logp. */
lang_rc lang_dist_support_value(nsr_lang *I, const lang_dist *d, int64_t k,
                                lval *out);
double lang_dist_support_logp(const nsr_lang *I, const lang_dist *d, int64_t k);
/* Whether proc is the built-in sampling primitive of a distribution (flip,
 * gaussian, ...; not a NAME-score), with *kind its kind. */
bool lang_dist_prim_kind(lval proc, lang_dist_kind *kind);
/* Fills *d from the n arguments of kind's sampling primitive, checking them
 * as the primitive does (errors name it) and charging its list walks. */
lang_rc lang_dist_parse(nsr_lang *I, lang_dist_kind kind, lval *a, int n,
                        lang_dist *d);
/* The distribution's Church name ("flip", "gaussian", ...). */
const char *lang_dist_name(lang_dist_kind kind);

#endif
