/* cmd_train.c: `nsr train`, a proposal network for `nsr propose`, trained on
 * the number game's generative model with a chosen knowledge injection. */
#include <stdio.h>
#include <string.h>

#include <stdlib.h>

#include "cli.h"
#include "commands.h"
#include "dist.h"
#include "experiment.h"
#include "json.h"
#include <cblas.h>
#include "propose.h"
#include "sha256.h"
#include "store.h"
#include "train.h"

#define CMD "train"

static const char help_text[] =
    "Usage: nsr train [OPTIONS]\n"
    "\n"
    "Trains a proposal network for `nsr propose`: example sets drawn from the\n"
    "number game's prior and size principle (1-6 examples, numbers 1..100),\n"
    "labelled by the exact engine, with a held-out split the training stream\n"
    "never produces. Evaluates on 1000 held-out sets: top-1 and top-10 recall of\n"
    "the exact MAP, mean KL(exact || network), and the correlation of the\n"
    "network's generalization p(y in C | X) with the exact one.\n"
    "\n"
    "Options:\n"
    "  --steps S            AdamW steps (default 3000)\n"
    "  --seed S             model init and data order (default 1)\n"
    "  --out FILE           where to save the model (default propose.safetensors)\n"
    "  --inject METHOD      none|hard: hard MAP labels; distill (default): the exact\n"
    "                       posterior as soft targets; constraint: hard labels plus a\n"
    "                       semantic loss on mass outside the hypotheses consistent\n"
    "                       with X; constraint-size: the same weighted by the size\n"
    "                       principle; kbann: hard labels after writing rule detectors\n"
    "                       into the embeddings, FFN and head; kbann-distill: those\n"
    "                       weights trained on the exact posterior; the controls\n"
    "                       constraint-shuffled, constraint-size-shuffled,\n"
    "                       kbann-shuffled, kbann-distill-shuffled:\n"
    "                       controls with the rules' members permuted\n"
    "  --examples-budget K  train on K fixed example sets (default: the whole stream)\n"
    "  --d-model D          width (default 64); --layers L (default 2)\n"
    "  --batch B            sets per step, 1..256 (default 64)\n"
    "  --lr X               peak learning rate (default 0.002)\n"
    "  --positions P        none (default: the model sees a set) or sinusoidal\n"
    "  --heldout N          held-out sets (default 1000); --eval-every S (default 500)\n"
    "  --db PATH            record the saved model (SHA-256, path, config) in the\n"
    "                       rule store's models table (default $NSR_DB or nsr.db)\n"
    "  --no-db              do not record it\n"
    "  --json               print the evaluations as one JSON object\n"
    "  -h, --help           show this help\n"
    "\n"
    "The shipped model: nsr train --seed 1 --steps 6000 --out bridge/models/"
    NSR_PROPOSE_MODEL_FILE "\n";

typedef struct train_run {
  bool json;
  json_t *evals;
  const char *db; /* NULL: --no-db */
} train_run;

static json_t *eval_json(const nsr_train_eval *e) {
  /* A diverged run's loss, KL or correlation may be infinite or NaN. */
  return json_pack("{s:I, s:o, s:I, s:f, s:f, s:o, s:o}", "step", (json_int_t)e->step,
                   "train_loss", nsr_json_real(e->train_loss), "heldout", (json_int_t)e->n, "top1", e->top1,
                   "top10", e->top10, "kl", nsr_json_real(e->kl), "gen_corr", nsr_json_real(e->gen_corr));
}

static void on_eval(void *ctx, const nsr_train_eval *e) {
  train_run *run = ctx;
  if (!nsr_dist_is_root()) return; /* under mpirun rank 0 reports */
  if (run->json) {
    json_array_append_new(run->evals, eval_json(e));
    return;
  }
  printf("step %6lld  loss %.4f  top1 %.4f  top10 %.4f  KL %.4f  gen r %.4f\n",
         (long long)e->step, e->train_loss, e->top1, e->top10, e->kl, e->gen_corr);
  fflush(stdout);
}

static nsr_code parse_u64_opt(const char *v, const char *name, uint64_t min, uint64_t max,
                              uint64_t *out, nsr_error *err) {
  if (v == NULL) return nsr_fail(err, NSR_ERR_INVALID, "%s needs a value", name);
  return cli_parse_u64(v, name, min, max, out, err);
}

/* Applies one option; NSR_OK with *used false when argv[*i] is not one. */
static nsr_code apply(int argc, char **argv, int *i, nsr_train_config *cfg, const char **out,
                      const char **db, bool *used, nsr_error *err) {
  const char *v;
  uint64_t u;
  *used = true;
  if (cli_option(argc, argv, i, "--steps", &v)) {
    if (parse_u64_opt(v, "--steps", 1, 100000000, &u, err) == NSR_OK) cfg->steps = (int64_t)u;
  } else if (cli_option(argc, argv, i, "--seed", &v)) {
    if (parse_u64_opt(v, "--seed", 0, UINT64_MAX, &u, err) == NSR_OK) cfg->seed = u;
  } else if (cli_option(argc, argv, i, "--examples-budget", &v)) {
    if (parse_u64_opt(v, "--examples-budget", 1, 1000000, &u, err) == NSR_OK) cfg->examples_budget = u;
  } else if (cli_option(argc, argv, i, "--d-model", &v)) {
    if (parse_u64_opt(v, "--d-model", 8, 512, &u, err) == NSR_OK) cfg->d_model = (int)u;
  } else if (cli_option(argc, argv, i, "--layers", &v)) {
    if (parse_u64_opt(v, "--layers", 1, 8, &u, err) == NSR_OK) cfg->n_layers = (int)u;
  } else if (cli_option(argc, argv, i, "--batch", &v)) {
    if (parse_u64_opt(v, "--batch", 1, 256, &u, err) == NSR_OK) cfg->batch = (int)u;
  } else if (cli_option(argc, argv, i, "--heldout", &v)) {
    if (parse_u64_opt(v, "--heldout", 1, 1000000, &u, err) == NSR_OK) cfg->heldout = (uint32_t)u;
  } else if (cli_option(argc, argv, i, "--eval-every", &v)) {
    if (parse_u64_opt(v, "--eval-every", 0, 100000000, &u, err) == NSR_OK) cfg->eval_every = (int64_t)u;
  } else if (cli_option(argc, argv, i, "--lr", &v)) {
    if (v == NULL) return nsr_fail(err, NSR_ERR_INVALID, "--lr needs a value");
    if (cli_parse_double(v, "--lr", &cfg->lr, err) == NSR_OK && !(cfg->lr > 0 && cfg->lr < 1)) {
      return nsr_fail(err, NSR_ERR_INVALID, "--lr must be in (0, 1)");
    }
  } else if (cli_option(argc, argv, i, "--inject", &v)) {
    if (v == NULL) return nsr_fail(err, NSR_ERR_INVALID, "--inject needs a method");
    nsr_inject_parse(v, &cfg->inject, err);
  } else if (cli_option(argc, argv, i, "--positions", &v)) {
    if (v == NULL || (strcmp(v, "none") != 0 && strcmp(v, "sinusoidal") != 0)) {
      return nsr_fail(err, NSR_ERR_INVALID, "--positions must be none or sinusoidal");
    }
    cfg->sinusoidal = strcmp(v, "sinusoidal") == 0;
  } else if (cli_option(argc, argv, i, "--out", &v)) {
    if (v == NULL || *v == '\0') return nsr_fail(err, NSR_ERR_INVALID, "--out needs a file");
    *out = v;
  } else if (cli_option(argc, argv, i, "--db", &v)) {
    if (v == NULL || *v == '\0') return nsr_fail(err, NSR_ERR_INVALID, "--db needs a file");
    *db = v;
  } else {
    *used = false;
  }
  return err->code;
}

/* Records the saved checkpoint in the store's models table (keyed by the
 * file's SHA-256; a model already there keeps its row). */
static nsr_code record_model(const nsr_train_config *cfg, const nsr_nn_model *model,
                             const char *out, const char *db, int64_t *id, nsr_error *err) {
  char sha[NSR_SHA256_HEX];
  if (nsr_sha256_file(out, sha, err) != NSR_OK) return err->code;
  char *config = nsr_train_record_json(cfg, model);
  if (config == NULL) return nsr_fail(err, NSR_ERR_NOMEM, "out of memory");
  nsr_store *store = NULL;
  nsr_code rc = nsr_store_open(db, &store, err);
  if (rc == NSR_OK) rc = nsr_store_add_model(store, sha, out, config, id, err);
  nsr_store_close(store);
  nsr_free(config);
  return rc;
}

int cmd_train(int argc, char **argv) {
  nsr_train_config cfg;
  nsr_train_config_default(&cfg);
  const char *env_db = getenv("NSR_DB");
  train_run run = {.db = env_db && *env_db ? env_db : NSR_STORE_DEFAULT_PATH};
  bool no_db = false;
  const char *out = "propose.safetensors";
  nsr_error err = {0};
  for (int i = 1; i < argc; i++) {
    bool used;
    if (cli_is_help(argv[i])) {
      fputs(help_text, stdout);
      return CLI_EXIT_OK;
    } else if (strcmp(argv[i], "--json") == 0) {
      run.json = true;
    } else if (strcmp(argv[i], "--no-db") == 0) {
      no_db = true;
    } else if (apply(argc, argv, &i, &cfg, &out, &run.db, &used, &err) != NSR_OK) {
      return cli_usage_error(CMD, "%s", err.message);
    } else if (!used) {
      return cli_usage_error(CMD, "unexpected argument '%s'", argv[i]);
    }
  }
  if (no_db) run.db = NULL;
  if (nsr_inject_uses_kbann(cfg.inject) && cfg.d_model < 44) {
    return cli_usage_error(CMD, "--inject kbann needs --d-model of at least 44");
  }
  if (cfg.d_model % 4 != 0) return cli_usage_error(CMD, "--d-model must be a multiple of 4 (4 heads)");
  cfg.progress = nsr_dist_is_root();
  nsr_dist_train_hooks(&cfg.parallel);
  cfg.on_eval = on_eval;
  cfg.ctx = &run;
  run.evals = json_array();
  nsr_nn_model *model = NULL;
  nsr_train_eval final;
  uint64_t start = nsr_now_ns();
  int rc = CLI_EXIT_OK;
  int64_t model_id = 0;
  if (nsr_train_proposer(&cfg, &model, &final, &err) != NSR_OK ||
      (nsr_dist_is_root() && (nsr_nn_save(model, out, &err) != NSR_OK ||
                              (run.db && record_model(&cfg, model, out, run.db, &model_id, &err) != NSR_OK)))) {
    rc = cli_report(CMD, &err);
  } else if (!nsr_dist_is_root()) {
    /* rank 0 saves and reports */
  } else if (run.json) {
    json_t *root = json_pack("{s:s, s:s, s:I, s:I, s:f, s:s, s:o, s:o, s:o}", "out", out, "inject",
                             nsr_inject_name(cfg.inject), "steps", (json_int_t)cfg.steps, "seed",
                             (json_int_t)cfg.seed, "seconds", nsr_seconds_since(start),
                             "blas_core", openblas_get_corename(), "evals", json_incref(run.evals),
                             "final", eval_json(&final), "model",
                             run.db ? json_pack("{s:s, s:I}", "db", run.db, "id", (json_int_t)model_id)
                                    : json_null());
    char *text = root ? nsr_json_dump(root) : NULL;
    json_decref(root);
    if (text) {
      puts(text);
    } else {
      nsr_fail(&err, NSR_ERR_NOMEM, "JSON output: out of memory");
      rc = cli_report(CMD, &err);
    }
    nsr_free(text);
  } else {
    printf("saved %s (%zu parameters, %.1f s, OpenBLAS core %s)\n", out,
           nsr_nn_num_params(model), nsr_seconds_since(start), openblas_get_corename());
    if (run.db) printf("recorded as model %lld in %s\n", (long long)model_id, run.db);
  }
  json_decref(run.evals);
  nsr_nn_free(model);
  return rc;
}
