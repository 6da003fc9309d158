/* numbers.h: internals of the number-game concept engine, shared by
 * numbers_space.c (hypotheses and prior) and numbers_infer.c (queries). */
#ifndef NSR_NUMBERS_H
#define NSR_NUMBERS_H

#include "nsr_symbolic.h"

struct nsr_numbers {
  nsr_numbers_config cfg;
  nsr_bitset rules[NSR_NUMBERS_RULES]; /* over [0, N+1); bit y means y ∈ h */
  uint32_t rule_size[NSR_NUMBERS_RULES];
  double rule_log_weight;  /* unnormalised log prior of every rule */
  double *interval_log_weight; /* [N+1]: unnormalised log prior of one
                                  interval of size s; entry 0 unused */
  double log_prior_norm;   /* log of the sum of all unnormalised weights */
  double rules_prior_mass; /* normalised prior mass of all 34 rules */
  double *size_cdf;        /* [N+1]: cumulative normalised prior mass of all
                              intervals of size <= s, over intervals only */
  /* Query scratch, [N+2] each: per-size scaled interval mass and its
   * prefix sums (long double: differences of them must not cancel). */
  double *size_mass;
  long double *size_prefix;
};

/* log Erlang(s; σ) = log s − 2 log σ − s/σ. */
double numbers_log_erlang(double s, double sigma);
/* log(e^a + e^b) without overflow; either may be -INFINITY. */
double numbers_log_add(double a, double b);

/* Inserts h into top[0..*count) kept sorted by posterior (ties: rules
 * first, then by rule index or lower bound), holding at most k entries.
 * Shared with the grammar spaces (space_infer.c). */
void numbers_top_insert(nsr_hypothesis *top, size_t *count, size_t k,
                        const nsr_hypothesis *h);
/* Makes room in *res for N generalization values and top_k hypotheses. */
nsr_code numbers_result_reserve(nsr_numbers_result *res, uint32_t max,
                                size_t top_k, nsr_error *err);

#endif
