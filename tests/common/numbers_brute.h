/* numbers_brute.h: a reference implementation of the number game for tests:
 * rule predicates of its own and inference that visits every one of the
 * 34 + N(N+1)/2 hypotheses, sharing no code with symbolic/. */
#ifndef NSR_TEST_NUMBERS_BRUTE_H
#define NSR_TEST_NUMBERS_BRUTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nsr_symbolic.h"

typedef struct brute {
  double *gen;         /* [N], caller-allocated: p(y ∈ C | X) */
  double log_evidence;
  double rule_post[34];
  double best_interval_post;
  double rules_prior_mass; /* normalised prior mass of all rules */
  double *interval_post;   /* NULL, or caller-allocated [N(N+1)/2]: p(h | X)
                              for [1,1], [1,2], .., [1,N], [2,2], .., [N,N] */
} brute;

/* Rule r in Tenenbaum's order (even, odd, squares, cubes, primes, multiples
 * of 3..12, powers of 2..10, ends in 0..9) as a predicate on y. */
bool rule_has(int r, uint32_t y);
/* Exact inference by visiting every hypothesis; fills *b. */
void brute_force(const nsr_numbers_config *cfg, const uint32_t *x, size_t n, brute *b);
#endif
