/* experiment.h: `nsr experiment injection`: data efficiency of knowledge
 * injection. Each variant (an injection method, its shuffled-rule control,
 * the uninjected baseline, and sinusoidal positions as an architectural
 * control) is trained on K fixed example sets for each budget K and several
 * seeds, and scored on the same held-out sets (top-1 recall of the exact
 * MAP). Results go to the rule store and to an SVG plot. */
#ifndef NSR_EXPERIMENT_H
#define NSR_EXPERIMENT_H

#include "sha256.h"
#include "train.h"

#define NSR_EXPERIMENT_MAX_BUDGETS 12
#define NSR_EXPERIMENT_MAX_SEEDS 32
#define NSR_EXPERIMENT_MAX_VARIANTS 12

typedef struct nsr_variant {
  const char *name; /* "hard", "distill", ..., "sinusoidal" */
  nsr_inject inject;
  bool sinusoidal;
} nsr_variant;

/* The variants compared, baseline ("hard") first. */
extern const nsr_variant nsr_variants[];
extern const size_t nsr_variant_count;

typedef struct nsr_experiment_config {
  uint64_t budgets[NSR_EXPERIMENT_MAX_BUDGETS];
  size_t n_budgets;
  size_t seeds;          /* seeds 1..seeds per point */
  nsr_train_config train; /* model size, steps, batch, held-out size */
  bool progress;
} nsr_experiment_config;

/* One measured point: the mean and sample sd over seeds. */
typedef struct nsr_experiment_point {
  double mean, sd;
} nsr_experiment_point;

typedef struct nsr_experiment_result {
  /* [variant][budget] top-1 recall of the exact MAP on held-out sets */
  nsr_experiment_point top1[NSR_EXPERIMENT_MAX_VARIANTS][NSR_EXPERIMENT_MAX_BUDGETS];
  double seconds;
} nsr_experiment_result;

/* budgets 16, 64, 256, 1024; 5 seeds; d 48, 1 layer, 400 steps of 32, 500
 * held-out sets. quick: budgets 16, 64; 1 seed; 30 steps; 50 sets. */
void nsr_experiment_config_default(nsr_experiment_config *cfg, bool quick);

/* What each point of the summary and the plot is, into buf: "1 seed" (no
 * spread to show) or "5 seeds, mean ± sd". Returns buf. */
const char *nsr_experiment_points_text(size_t seeds, char *buf, size_t len);

/* A metric row for the store's metrics table. */
typedef struct nsr_metric {
  const char *name, *method;
  int64_t seed, n_train, step;
  double value;
  int64_t model; /* index into the experiment's models + 1; 0: none (NULL) */
} nsr_metric;

/* A model an experiment trained, for the models table: the SHA-256 of its
 * checkpoint (as nsr_nn_save writes it) and nsr_train_record_json. */
typedef struct nsr_experiment_model {
  char sha256[NSR_SHA256_HEX];
  char *config_json; /* owned (nsr_free) */
} nsr_experiment_model;

/* Records an experiment, its models (path NULL: not kept on disk; a model
 * already there keeps its row) and its metric rows, with model_id set from
 * nsr_metric.model, in one transaction (creating or upgrading the store at
 * `path`); *id is the experiment's id. */
nsr_code nsr_store_add_experiment(const char *path, const char *name, const char *config_json,
                                  const nsr_experiment_model *models, size_t n_models,
                                  const nsr_metric *metrics, size_t n, int64_t *id,
                                  nsr_error *err);

/* The models row config of a trained proposal model: {"model": its encoder
 * config, "train": {"inject", "positions", "steps", "batch", "lr", "seed",
 * "examples_budget"}}. NULL when out of memory; the caller frees it with
 * nsr_free. */
char *nsr_train_record_json(const nsr_train_config *cfg, const nsr_nn_model *model);

/* The SHA-256 (hex) of the checkpoint nsr_nn_save writes for `model`, via
 * a temporary file that is removed again. */
nsr_code nsr_model_sha256(const nsr_nn_model *model, char hex[NSR_SHA256_HEX], nsr_error *err);

/* Runs every variant x budget x seed, writes the metrics (top1, top10, kl)
 * to the store at db_path (NULL: none) and fills *out. */
nsr_code nsr_experiment_injection(const nsr_experiment_config *cfg, const char *db_path,
                                  nsr_experiment_result *out, int64_t *experiment_id,
                                  nsr_error *err);

/* The curves as SVG: top-1 recall against training sets (log axis), one
 * line per variant with ±1 sd error bars. Caller frees *svg with nsr_free. */
nsr_code nsr_experiment_svg(const nsr_experiment_config *cfg, const nsr_experiment_result *r,
                            char **svg, nsr_error *err);

#endif
