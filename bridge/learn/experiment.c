/* experiment.c: the injection experiment (see experiment.h). */
#include "nsr_learn.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include <stdlib.h>
#include <unistd.h>

#include "json.h"
#include "progress.h"
#include "sha256.h"
#include "strbuf.h"

const nsr_variant nsr_variants[] = {
    {"hard", NSR_INJECT_HARD, false},
    {"distill", NSR_INJECT_DISTILL, false},
    {"constraint", NSR_INJECT_CONSTRAINT, false},
    {"constraint-shuffled", NSR_INJECT_CONSTRAINT_SHUFFLED, false},
    {"constraint-size", NSR_INJECT_CONSTRAINT_SIZE, false},
    {"constraint-size-shuffled", NSR_INJECT_CONSTRAINT_SIZE_SHUFFLED, false},
    {"kbann", NSR_INJECT_KBANN, false},
    {"kbann-shuffled", NSR_INJECT_KBANN_SHUFFLED, false},
    {"kbann-distill", NSR_INJECT_KBANN_DISTILL, false},
    {"kbann-distill-shuffled", NSR_INJECT_KBANN_DISTILL_SHUFFLED, false},
    {"sinusoidal", NSR_INJECT_HARD, true},
};
const size_t nsr_variant_count = sizeof nsr_variants / sizeof nsr_variants[0];
_Static_assert(sizeof nsr_variants / sizeof nsr_variants[0] <= NSR_EXPERIMENT_MAX_VARIANTS,
               "the result table holds every variant");

void nsr_experiment_config_default(nsr_experiment_config *cfg, bool quick) {
  memset(cfg, 0, sizeof *cfg);
  nsr_train_config_default(&cfg->train);
  cfg->train.d_model = 48;
  cfg->train.n_layers = 1;
  cfg->train.batch = 32;
  cfg->train.eval_every = 0;
  const uint64_t full[] = {16, 64, 256, 1024};
  cfg->n_budgets = quick ? 2 : 4;
  memcpy(cfg->budgets, full, cfg->n_budgets * sizeof *full);
  cfg->seeds = quick ? 1 : 5;
  cfg->train.steps = quick ? 30 : 400;
  cfg->train.heldout = quick ? 50 : 500;
}

const char *nsr_experiment_points_text(size_t seeds, char *buf, size_t len) {
  if (seeds == 1) snprintf(buf, len, "1 seed");
  else snprintf(buf, len, "%zu seeds, mean ± sd", seeds);
  return buf;
}

static void mean_sd(const double *v, size_t n, nsr_experiment_point *out) {
  double m = 0, ss = 0;
  for (size_t i = 0; i < n; i++) m += v[i];
  m /= (double)n;
  for (size_t i = 0; i < n; i++) ss += (v[i] - m) * (v[i] - m);
  out->mean = m;
  out->sd = n > 1 ? sqrt(ss / (double)(n - 1)) : 0.0;
}

static nsr_code config_json(const nsr_experiment_config *cfg, char **out, nsr_error *err) {
  nsr_strbuf sb = {0};
  char lr[NSR_JSON_REAL_MAX];
  nsr_strbuf_printf(&sb, "{\"seeds\":%zu,\"steps\":%lld,\"batch\":%d,\"d_model\":%d,\"n_layers\":%d,"
                    "\"heldout\":%u,\"lr\":%s,\"budgets\":[", cfg->seeds, (long long)cfg->train.steps,
                    cfg->train.batch, cfg->train.d_model, cfg->train.n_layers, cfg->train.heldout,
                    nsr_json_real_text(cfg->train.lr, lr));
  for (size_t b = 0; b < cfg->n_budgets; b++) {
    nsr_strbuf_printf(&sb, "%s%llu", b ? "," : "", (unsigned long long)cfg->budgets[b]);
  }
  nsr_strbuf_printf(&sb, "]}");
  return nsr_strbuf_finish(&sb, out, NULL, err);
}

char *nsr_train_record_json(const nsr_train_config *cfg, const nsr_nn_model *model) {
  char *encoder = nsr_nn_config_to_json(nsr_nn_get_config(model));
  json_t *enc = encoder ? json_loads(encoder, 0, NULL) : NULL;
  nsr_free(encoder);
  json_t *o = enc ? json_pack("{s:o, s:{s:s, s:s, s:I, s:i, s:f, s:I, s:I}}", "model", enc, "train",
                              "inject", nsr_inject_name(cfg->inject), "positions",
                              cfg->sinusoidal ? "sinusoidal" : "none", "steps", (json_int_t)cfg->steps,
                              "batch", cfg->batch, "lr", cfg->lr, "seed", (json_int_t)cfg->seed,
                              "examples_budget", (json_int_t)cfg->examples_budget)
                  : NULL;
  char *text = o ? nsr_json_dump(o) : NULL;
  json_decref(o);
  return text;
}

nsr_code nsr_model_sha256(const nsr_nn_model *model, char hex[NSR_SHA256_HEX], nsr_error *err) {
  const char *tmpdir = getenv("TMPDIR");
  const char *dir = tmpdir && *tmpdir ? tmpdir : "/tmp";
  char path[4096];
  snprintf(path, sizeof path, "%s/nsr-model-XXXXXX", dir);
  int fd = mkstemp(path);
  if (fd < 0) return nsr_fail(err, NSR_ERR_IO, "hashing a model: cannot create a file in %s", dir);
  close(fd);
  nsr_code rc = nsr_nn_save(model, path, err);
  if (rc == NSR_OK) rc = nsr_sha256_file(path, hex, err);
  unlink(path);
  return rc;
}

/* Records run r's model in models[r]: its checkpoint hash and config. */
static nsr_code record_model(const nsr_train_config *t, const nsr_nn_model *model,
                             nsr_experiment_model *out, nsr_error *err) {
  if (nsr_model_sha256(model, out->sha256, err) != NSR_OK) return err->code;
  out->config_json = nsr_train_record_json(t, model);
  return out->config_json ? NSR_OK : nsr_fail(err, NSR_ERR_NOMEM, "out of memory");
}

nsr_code nsr_experiment_injection(const nsr_experiment_config *cfg, const char *db_path,
                                  nsr_experiment_result *out, int64_t *experiment_id,
                                  nsr_error *err) {
  if (cfg->seeds < 1 || cfg->seeds > NSR_EXPERIMENT_MAX_SEEDS || cfg->n_budgets < 1 ||
      cfg->n_budgets > NSR_EXPERIMENT_MAX_BUDGETS) {
    return nsr_fail(err, NSR_ERR_INVALID, "experiment: 1..%d seeds and 1..%d budgets",
                    NSR_EXPERIMENT_MAX_SEEDS, NSR_EXPERIMENT_MAX_BUDGETS);
  }
  size_t runs = nsr_variant_count * cfg->n_budgets * cfg->seeds;
  nsr_metric *metrics = nsr_mallocarray(runs * 3, sizeof *metrics);
  nsr_experiment_model *models = nsr_calloc(runs, sizeof *models);
  if (metrics == NULL || models == NULL) {
    nsr_free(metrics);
    nsr_free(models);
    return nsr_fail(err, NSR_ERR_NOMEM, "out of memory");
  }
  uint64_t start = nsr_now_ns();
  nsr_progress bar;
  if (cfg->progress) nsr_progress_start(&bar, "experiment", runs);
  size_t done = 0, n_metrics = 0;
  nsr_code rc = NSR_OK;
  for (size_t v = 0; rc == NSR_OK && v < nsr_variant_count; v++) {
    for (size_t b = 0; rc == NSR_OK && b < cfg->n_budgets; b++) {
      double acc[NSR_EXPERIMENT_MAX_SEEDS];
      for (size_t s = 0; rc == NSR_OK && s < cfg->seeds; s++) {
        nsr_train_config t = cfg->train;
        t.inject = nsr_variants[v].inject;
        t.sinusoidal = nsr_variants[v].sinusoidal;
        t.examples_budget = cfg->budgets[b];
        t.seed = s + 1;
        t.progress = false;
        nsr_nn_model *model;
        nsr_train_eval e;
        rc = nsr_train_proposer(&t, &model, &e, err);
        if (rc != NSR_OK) break;
        if (db_path) rc = record_model(&t, model, &models[done], err);
        nsr_nn_free(model);
        if (rc != NSR_OK) break;
        acc[s] = e.top1;
        const char *names[3] = {"top1", "top10", "kl"};
        const double values[3] = {e.top1, e.top10, e.kl};
        for (int k = 0; k < 3; k++) {
          metrics[n_metrics++] = (nsr_metric){names[k], nsr_variants[v].name, (int64_t)t.seed,
                                              (int64_t)t.examples_budget, t.steps, values[k],
                                              db_path ? (int64_t)done + 1 : 0};
        }
        done++;
        if (cfg->progress) nsr_progress_update(&bar, done, nsr_variants[v].name);
      }
      if (rc == NSR_OK) mean_sd(acc, cfg->seeds, &out->top1[v][b]);
    }
  }
  if (cfg->progress) nsr_progress_finish(&bar, done, NULL);
  out->seconds = nsr_seconds_since(start);
  if (rc == NSR_OK && db_path) {
    char *json = NULL;
    rc = config_json(cfg, &json, err);
    if (rc == NSR_OK) {
      rc = nsr_store_add_experiment(db_path, "injection", json, models, done, metrics, n_metrics,
                                    experiment_id, err);
    }
    nsr_free(json);
  }
  for (size_t r = 0; r < runs; r++) nsr_free(models[r].config_json);
  nsr_free(models);
  nsr_free(metrics);
  return rc;
}
