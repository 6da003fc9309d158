/* train.h: training proposal networks (propose.h's layout) on the number
 * game's generative model, with symbolic knowledge injected (inject.h), and
 * evaluating them on held-out example sets against the exact engine. */
#ifndef NSR_TRAIN_H
#define NSR_TRAIN_H

#include "inject.h"
#include "nsr.h"

typedef struct nsr_train_eval {
  int64_t step;
  double train_loss; /* mean training loss since the previous evaluation */
  size_t n;          /* held-out sets */
  double top1;       /* share whose network argmax is an exact MAP */
  double top10;      /* share with an exact MAP among the network's top 10 */
  double kl;         /* mean KL(exact || network), nats */
  double gen_corr;   /* Pearson r of network vs exact p(y ∈ C | X), all y */
} nsr_train_eval;

/* Data parallelism (`mpirun nsr train`): process `rank` of `size` takes its
 * slice of every global batch (the batch is the same whatever the size),
 * and the sums add a buffer over every process in place (each gets the
 * total). Zero (size 0 or 1, no sums): one process does everything;
 * sum_floats is called once per step whenever it is set (a benchmark's
 * clock at size 1). */
typedef struct nsr_train_parallel {
  int rank, size;
  void *ctx;
  nsr_code (*sum_floats)(void *ctx, float *values, size_t n, nsr_error *err);
  nsr_code (*sum_doubles)(void *ctx, double *values, size_t n, nsr_error *err);
} nsr_train_parallel;

typedef struct nsr_train_config {
  int d_model, n_layers;
  bool sinusoidal;          /* positions (an architectural control) or none */
  nsr_inject inject;
  int64_t steps;
  int batch;
  double lr;
  uint64_t seed;            /* model init, training stream and minibatches */
  uint64_t examples_budget; /* distinct training sets; 0 = the whole stream */
  uint32_t heldout;         /* held-out sets (drawn with a fixed seed) */
  int64_t eval_every;       /* 0 = only at the end */
  bool progress;            /* progress bar on stderr (when a terminal) */
  void (*on_eval)(void *ctx, const nsr_train_eval *eval);
  void *ctx;
  nsr_train_parallel parallel;
} nsr_train_config;

/* d 64, 2 layers, no positions, distill, 3000 steps of 64, lr 2e-3, seed 1,
 * whole stream, 1000 held-out sets, evaluation every 500 steps. */
void nsr_train_config_default(nsr_train_config *cfg);

/* Held-out example sets: drawn once from the held-out split, labelled on
 * demand by the exact engine. */
typedef struct nsr_heldout {
  size_t n;
  uint32_t *n_examples;  /* [n] */
  uint32_t *examples;    /* [n * NSR_PROPOSE_MAX_EXAMPLES] */
} nsr_heldout;

/* Draws n held-out sets for numbers 1..n_max from the dataset's held-out
 * split with `seed`. Free with nsr_heldout_free. */
nsr_code nsr_heldout_make(uint32_t n_max, size_t n, uint64_t seed,
                          nsr_heldout *out, nsr_error *err);
void nsr_heldout_free(nsr_heldout *h);

/* Evaluates a proposal model on held-out sets (out->step and train_loss are
 * left 0). */
nsr_code nsr_train_evaluate(nsr_nn_model *model, const nsr_heldout *heldout,
                            nsr_train_eval *out, nsr_error *err);

/* Makes, injects and trains a model for numbers 1..100; *out is the trained
 * model (caller frees with nsr_nn_free), *final its last evaluation. */
nsr_code nsr_train_proposer(const nsr_train_config *cfg, nsr_nn_model **out,
                            nsr_train_eval *final, nsr_error *err);

#endif
