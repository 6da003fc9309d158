/* nsr_symbolic.h: the public part of symbolic/: the concept engine for
 * Tenenbaum's number game. Users include <nsr.h>, which includes this. */
#ifndef NSR_SYMBOLIC_H
#define NSR_SYMBOLIC_H

#include "nsr_core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- the number game ------------------------------------------------------
 * Concepts are sets over 1..N. The hypothesis space is Tenenbaum's: 34
 * mathematical rules plus every interval [a, b], 1 <= a <= b <= N. Inference
 * is exact: p(h | X) ∝ p(h) (1/|h|)^n for h ⊇ X. Intervals are never visited
 * one by one: all intervals of one size share their score, so their total
 * mass and their share of each p(y ∈ C | X) follow from prefix sums over
 * sizes, in O(N) per query for any N. */

#define NSR_NUMBERS_RULES 34
#define NSR_NUMBERS_MAX_N 1000000u
#define NSR_NUMBERS_DEFAULT_N 100u
#define NSR_NUMBERS_DEFAULT_SIGMA 10.0
#define NSR_NUMBERS_DEFAULT_LAMBDA (2.0 / 3.0)
/* Longest canonical hypothesis name plus NUL ("interval 1000000..1000000"). */
#define NSR_NUMBERS_NAME_MAX 40

typedef enum nsr_numbers_prior {
  /* pmtk3's numbersGame demo: weight 2/3 per rule, (1/3)·Erlang(|h|; σ) per
   * interval, then normalised over the whole space. */
  NSR_PRIOR_PMTK3,
  /* λ/34 per rule, (1−λ)·Erlang(|h|; σ)/Z per interval, Z = Σ_intervals
   * Erlang(|h|; σ). */
  NSR_PRIOR_MIXTURE,
} nsr_numbers_prior;

typedef struct nsr_numbers_config {
  uint32_t max;            /* N: concepts are sets over 1..N */
  nsr_numbers_prior prior;
  double lambda;           /* rule mass, NSR_PRIOR_MIXTURE only; in [0, 1] */
  double sigma;            /* Erlang scale of interval sizes; > 0 */
} nsr_numbers_config;

/* N = 100, pmtk3, λ = 2/3, σ = 10. */
void nsr_numbers_config_default(nsr_numbers_config *cfg);
/* "pmtk3" or "mixture". */
const char *nsr_numbers_prior_name(nsr_numbers_prior prior);
/* Parses "pmtk3" or "mixture"; NSR_ERR_INVALID otherwise. */
nsr_code nsr_numbers_prior_parse(const char *text, nsr_numbers_prior *out,
                                 nsr_error *err);

typedef enum nsr_hypothesis_kind { NSR_HYP_RULE, NSR_HYP_INTERVAL } nsr_hypothesis_kind;

typedef struct nsr_hypothesis {
  nsr_hypothesis_kind kind;
  uint32_t rule;      /* NSR_HYP_RULE: index in [0, 34) */
  uint32_t lo, hi;    /* NSR_HYP_INTERVAL: [lo, hi] */
  uint32_t size;      /* |h| */
  double prior;       /* normalised p(h) */
  double posterior;   /* p(h | X) */
} nsr_hypothesis;

/* The answer to one query. Arrays are owned by the result and reused by the
 * next nsr_numbers_infer into the same result. */
typedef struct nsr_numbers_result {
  size_t n_top;                  /* entries in top */
  nsr_hypothesis *top;           /* by posterior, highest first */
  size_t top_capacity;
  uint32_t max;                  /* N */
  double *generalization;        /* [N]: entry i is p(i+1 ∈ C | X) */
  double log_evidence;           /* log p(X) under the normalised prior */
  uint32_t consistent_rules;     /* rules containing every example */
  uint64_t consistent_intervals; /* intervals containing every example */
} nsr_numbers_result;

/* A hypothesis space and prior for one configuration, with scratch space
 * for queries. One engine serves one thread at a time. */
typedef struct nsr_numbers nsr_numbers;

/* Builds the 34 rule sets over 1..cfg->max and the interval prior. Returns
 * NSR_ERR_RANGE for N outside 1..NSR_NUMBERS_MAX_N, σ <= 0 or λ outside
 * [0, 1]; NSR_ERR_NOMEM when allocation fails. The caller frees *out with
 * nsr_numbers_free. */
nsr_code nsr_numbers_new(const nsr_numbers_config *cfg, nsr_numbers **out,
                         nsr_error *err);
void nsr_numbers_free(nsr_numbers *engine);
const nsr_numbers_config *nsr_numbers_get_config(const nsr_numbers *engine);

/* The rule's canonical name ("even", "multiples of 3", "powers of 2",
 * "ends in 7", ...) for rule in [0, 34); NULL otherwise. */
const char *nsr_numbers_rule_name(uint32_t rule);
/* Writes the rule's meaning as a Church predicate on one number, e.g.
 * "(lambda (x) (= (modulo x 2) 0))" for even; "" for a bad index. 256
 * bytes always suffice. */
void nsr_numbers_rule_church(uint32_t rule, char *buf, size_t len);
/* The rule's extension: a bitset over [0, N+1) whose member y means y ∈ h. */
const nsr_bitset *nsr_numbers_rule_set(const nsr_numbers *engine, uint32_t rule);
/* Writes the canonical name ("powers of 2", "interval 2..64") into buf. */
void nsr_numbers_hypothesis_name(const nsr_hypothesis *h, char *buf, size_t len);

/* Exact inference for the examples X (n >= 1 values in 1..N; repeats count
 * as repeated samples). Fills *result with the `top_k` most probable
 * hypotheses, p(y ∈ C | X) for every y, and log p(X). *result must be zeroed
 * before its first use and released with nsr_numbers_result_free. Errors:
 * NSR_ERR_INVALID (no examples, or no hypothesis has prior mass on X),
 * NSR_ERR_RANGE (an example outside 1..N), NSR_ERR_NOMEM. */
nsr_code nsr_numbers_infer(nsr_numbers *engine, const uint32_t *examples,
                           size_t n, size_t top_k, nsr_numbers_result *result,
                           nsr_error *err);
void nsr_numbers_result_free(nsr_numbers_result *result);

/* ---- the whole hypothesis space as a vector ---------------------------------
 * For learning (targets of a network) every hypothesis has an index: rules
 * first (0..33), then intervals by lower bound then upper bound:
 * [1,1], [1,2], ..., [1,N], [2,2], ..., [N,N]. */

/* 34 + N(N+1)/2. */
uint64_t nsr_numbers_space_size(const nsr_numbers *engine);
/* The hypothesis at `index` (prior filled in, posterior 0); NSR_ERR_RANGE
 * past the end. */
nsr_code nsr_numbers_hypothesis_at(const nsr_numbers *engine, uint64_t index,
                                   nsr_hypothesis *out, nsr_error *err);
/* The index of a rule or an interval hypothesis (its kind, rule, lo, hi). */
uint64_t nsr_numbers_hypothesis_index(const nsr_numbers *engine,
                                      const nsr_hypothesis *h);
/* Writes p(h | X) for every hypothesis into out[0 .. space_size), in index
 * order. `len` must equal nsr_numbers_space_size (NSR_ERR_INVALID
 * otherwise); errors as nsr_numbers_infer. O(34·n + N²) per call. */
nsr_code nsr_numbers_posterior_all(nsr_numbers *engine, const uint32_t *examples,
                                   size_t n, float *out, uint64_t len,
                                   nsr_error *err);

/* ---- sampling: the generative model of the number game --------------------- */

/* Draws a hypothesis from the normalised prior. */
void nsr_numbers_sample_hypothesis(const nsr_numbers *engine, nsr_rng *rng,
                                   nsr_hypothesis *out);
/* Draws n examples from h by the size principle: independently and uniformly
 * from h's extension (with replacement). h must be non-empty. */
void nsr_numbers_sample_examples(const nsr_numbers *engine, nsr_rng *rng,
                                 const nsr_hypothesis *h, uint32_t *out,
                                 size_t n);

#ifdef __cplusplus
}
#endif

#endif /* NSR_SYMBOLIC_H */
