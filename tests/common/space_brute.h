/* space_brute.h: every expression tree of a tiny grammar space, built one
 * by one and evaluated with set operations of its own over 1..N (N < 64,
 * sets as bit masks), sharing no code with symbolic/: the independent
 * reference of the sampling suites (the exact prior and posterior of each
 * extension, and the samplers' answers compared with them). Fails the
 * running cmocka test on anything unexpected. */
#ifndef NSR_TEST_SPACE_BRUTE_H
#define NSR_TEST_SPACE_BRUTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nsr_space.h"

/* One production, in the order of the space's description (primitives, then
 * operations; each argument its own production). */
typedef struct tprod {
  char op;      /* 'e' even, 'o' odd, 'm' multiples; '+' plus, '*' times, '^' power; 'u' union, 'i' intersection, 'd' difference */
  uint32_t arg;
  double w;
} tprod;

int t_arity(char op);

typedef struct grammar {
  const tprod *prods;
  int n_prods;
  uint32_t n; /* range 1..n, n < 64 */
  int max_size;
} grammar;

/* The extension of a primitive. */
uint64_t t_prim(const grammar *g, const tprod *p);
/* {op(y) ≤ n : y ∈ a} for a unary production. */
uint64_t t_unary(const grammar *g, const tprod *p, uint64_t a);
/* Evaluates the subtree at *i (advanced past it); 0 when it or a
 * sub-expression is empty. */
uint64_t t_eval(const grammar *g, const uint16_t *prog, int *i);

/* Every tree of the grammar with its extension (0 when it or a
 * sub-expression is empty) and Π w_k. */
#define MAX_TREES 20000
typedef struct brute {
  nsr_space_tree tree[MAX_TREES];
  uint64_t ext[MAX_TREES];
  double p[MAX_TREES];
  int count;
} brute;

/* Every tree of at most g->max_size symbols (caller frees). */
brute *brute_build(const grammar *g);

/* Distinct masks with a weight each. */
#define MAX_EXT 1024
typedef struct dist {
  uint64_t mask[MAX_EXT];
  double w[MAX_EXT];
  int n;
} dist;

/* The index of mask in d, added with weight 0 when new. */
int dist_index(dist *d, uint64_t mask);
void dist_normalise(dist *d);
uint64_t mask_of(const uint32_t *x, size_t n);
/* p(h | X) ∝ Σ_{t: ext t = h} Π w_k · |h|^(−n) over the valid trees (γ = 1). */
void brute_posterior(const brute *b, const uint32_t *x, size_t n, dist *d);
/* gen[y − 1] = Σ_h p(h | X)[y ∈ h], y = 1..g->n. */
void brute_generalization(const grammar *g, const brute *b, const uint32_t *x, size_t n, double *gen);
/* max_y |a[y] − b[y]| over n entries. */
double max_diff(const double *a, const double *b, size_t n);
/* Total variation between `exact` and the named shares of a sampler (every
 * tree of b is named by the space). */
double tv_named(const nsr_space *s, const brute *b, const dist *exact, const nsr_mh_visit *top, size_t n_top);
/* TV over extensions of a guided chain of `steps` steps after 1000 burn-in
 * (guide log_q of `rows` rows, NULL: unguided; mixture mix) against the
 * brute force's posterior exact; the chain's report in *rep. */
double guided_tv(const nsr_space *s, const brute *b, const dist *exact, const uint32_t *x, size_t n,
                 const double *log_q, size_t rows, double mix, uint64_t seed, double steps, nsr_mh_report *rep);

/* A space from its JSON; fails the test when it does not load. */
nsr_space *space_build(const char *json);

/* Steps of the statistical tests: 10^6, 10^5 under the sanitizers (the
 * suite's NSR_STAT_SMALL). */
static inline double stat_steps(void) {
#ifdef NSR_STAT_SMALL
  return 1e5;
#else
  return 1e6;
#endif
}

#endif
