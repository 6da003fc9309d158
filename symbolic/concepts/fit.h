/* fit.h: internals of fitting a space to human data, shared by fit_model.c
 * (the objective and its gradient) and fit_optim.c (L-BFGS and the public
 * entry point). */
#ifndef NSR_FIT_H
#define NSR_FIT_H

#include "space.h"

/* Unconstrained parameters: θ[0] = logit λ, θ[1] = log σ, θ[2] = logit α,
 * θ[3] = logit β, θ[4] = log γ, θ[5] = log γ1, θ[6..9] = b_near, log τ,
 * b_digit, b_decade (the similarity in guessing), θ[10..12] = a_n,
 * θ[13..15] = b_n (offsets by number of examples), θ[16] = logit of the
 * similarity hypothesis' mass, θ[17] = log of its τ, then (when fitting
 * weights) one offset per family used and one per production: the log
 * weight of production k in family f is log w0_k + φ_f + δ_k, a
 * hierarchical prior (φ_f ~ N(0, family_sd²), δ_k ~ N(0, weight_sd²)) that
 * lets a family's productions share strength. */
enum { FIT_LAMBDA, FIT_SIGMA, FIT_ALPHA, FIT_BETA, FIT_GAMMA, FIT_GAMMA1, FIT_NEAR, FIT_TAU, FIT_DIGIT, FIT_DECADE,
       FIT_A_N, FIT_B_N = FIT_A_N + 3, FIT_SIM_MASS = FIT_B_N + 3, FIT_SIM_TAU, FIT_FIXED };

/* A set of the data with what does not change during the fit. */
typedef struct fit_set {
  const nsr_human_set *set;
  uint32_t lo, hi;      /* min and max example */
  uint32_t *consistent; /* grammar extensions containing every example */
  size_t n_consistent;
} fit_set;

typedef struct fit_problem {
  nsr_space *space;
  const nsr_human_data *data;
  nsr_fit_options opt;
  fit_set *sets;
  size_t dim;
  size_t n_fam;      /* families with a parameter */
  size_t *fam_of;    /* [n_prods]: index of the production's family in θ */
  size_t prod_base;  /* θ index of δ_0 */
  double log_lik; /* of the last objective evaluation */
  /* Scratch. */
  double *u;      /* [n_ext]: ∂LL/∂ log p(h) of grammar hypotheses */
  double *adj;    /* [n_classes]: ∂LL/∂π of expression classes */
  double *post;   /* [n_ext] */
  double *g, *r, *r_prefix, *diff, *qk; /* [N + 2] */
  double *sim_m, *sim_d; /* [N + 2]: the similarity hypothesis' membership and distances */
  double sim_q, sim_soft; /* its posterior and soft size in the current set */
} fit_problem;

/* Prepares the consistent-hypothesis lists of every set. The space must
 * have been built with record_edges when weights are fitted. */
nsr_code fit_problem_init(fit_problem *fp, nsr_space *space, const nsr_human_data *data,
                          const nsr_fit_options *opt, nsr_error *err);
void fit_problem_free(fit_problem *fp);
/* θ of the space's current parameters. */
void fit_theta_get(const fit_problem *fp, double *theta);
/* Puts θ into the space (parameters and weights). */
void fit_theta_set(fit_problem *fp, const double *theta);
/* The negative log posterior at θ (which it puts into the space), and its
 * gradient into grad[dim]. */
double fit_objective(fit_problem *fp, const double *theta, double *grad);

#endif
