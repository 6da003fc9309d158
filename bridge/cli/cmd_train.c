/* cmd_train.c: `nsr train`, a proposal network for `nsr propose`, trained on
 * the number game's generative model with a chosen knowledge injection; with
 * --space, a guide for a grammar space (nsr_learn.h, "guide"). */
#include <cblas.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "dist.h"
#include "nsr_learn.h"
#include "json.h"
#include <cblas.h>

#include "nsr_learn.h"
#include "sha256.h"
#include "nsr_store.h"
#include "nsr_learn.h"

#define CMD "train"

static const char description[] =
    "Trains a proposal network for `nsr propose`: example sets drawn from the\n"
    "number game's prior and size principle (1-6 examples, numbers 1..100),\n"
    "labelled by the exact engine, with a held-out split the training stream\n"
    "never produces. Evaluates on the held-out sets (--held-out, every\n"
    "--eval-every steps and at the end): top-1 and top-10 recall of the exact MAP,\n"
    "mean KL(exact || network), and the correlation of the network's\n"
    "generalization p(y in C | X) with the exact one. Saves the model to --out and\n"
    "records it (SHA-256, path, config) in the rule store's models table.\n"
    "\n"
    "--json prints one object: {\"out\", \"inject\", \"steps\", \"seed\", \"seconds\",\n"
    "\"blas_core\", \"evals\":[{\"step\", \"train_loss\", \"heldout\", \"top1\", \"top10\",\n"
    "\"kl\", \"gen_corr\"},..], \"final\": the last evaluation, \"model\": {\"db\", \"id\"}\n"
    "or null with --no-db}.\n"
    "\n"
    "With --space FILE it trains a guide for that space instead: a network that\n"
    "reads an example set and outputs the space's production weights conditioned\n"
    "on it (for `nsr numbers mh --guide`). Its data come from the space's own prior\n"
    "(a concept, 1-6 examples by the size principle; no enumeration needed); the\n"
    "held-out evaluation reports nll, the mean -log q(t | X) per node of the true\n"
    "tree (prior_nll: the same under the space's own, unconditioned rule\n"
    "weights), recall10, the share of its productions among the guide's top 10, and\n"
    "interval, the mean q of the class \"interval\" on interval concepts.\n"
    "--inject, --examples-budget and --positions do not apply; --out defaults to\n"
    "guide-<space name>.safetensors. --json: {\"out\", \"space\", \"steps\", \"seed\",\n"
    "\"seconds\", \"blas_core\", \"evals\":[{\"step\", \"train_loss\", \"heldout\",\n"
    "\"trees\", \"nll\", \"prior_nll\", \"recall10\", \"interval\"},..], \"final\",\n"
    "\"model\"}.\n";

static const char inject_help[] =
    "none|hard: hard MAP labels; distill: the exact posterior as\n"
    "soft targets; constraint: hard labels plus a semantic loss on\n"
    "mass outside the hypotheses consistent with X; constraint-size:\n"
    "the same weighted by the size principle; kbann: hard labels\n"
    "after writing rule detectors into the embeddings, FFN and head\n"
    "(needs --d-model 44 or more); kbann-distill: those weights\n"
    "trained on the exact posterior; the controls\n"
    "constraint-shuffled, constraint-size-shuffled, kbann-shuffled,\n"
    "kbann-distill-shuffled: the rules' members permuted";

static const char *const positions_choices[] = {"none", "sinusoidal", NULL};

typedef struct train_run {
  bool json;
  json_t *evals;
  const char *db;    /* NULL: --no-db */
  const char *space; /* --space: train a guide; NULL: a proposal network */
  bool out_given;
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

/* Records the saved checkpoint in the store's models table with its config
 * text `config` (NULL: out of memory), keyed by the file's SHA-256 (a model
 * already there keeps its row); frees config. */
static nsr_code record_model(char *config, const char *out, const char *db, int64_t *id,
                             nsr_error *err) {
  char sha[NSR_SHA256_HEX];
  nsr_code rc = config ? nsr_sha256_file(out, sha, err) : nsr_fail(err, NSR_ERR_NOMEM, "out of memory");
  nsr_store *store = NULL;
  if (rc == NSR_OK) rc = nsr_store_open(db, &store, err);
  if (rc == NSR_OK) rc = nsr_store_add_model(store, sha, out, config, id, err);
  nsr_store_close(store);
  nsr_free(config);
  return rc;
}

/* Parses the command line into cfg, *out and run (db NULL with --no-db).
 * Returns CLI_CONTINUE, or the exit status when there is nothing to train
 * (help, a usage error). */
static int parse_args(int argc, char **argv, nsr_train_config *cfg, const char **out,
                      train_run *run) {
  uint64_t steps = (uint64_t)cfg->steps, heldout = cfg->heldout,
           eval_every = (uint64_t)cfg->eval_every;
  const char *inject = nsr_inject_name(cfg->inject), *positions = positions_choices[0];
  bool no_db = false, db_given = false, inject_given = false, budget_given = false,
       positions_given = false;
  run->db = CLI_DEFAULT_DB;
  const cli_opt opts[] = {
      CLI_OPTION("--steps", CLI_U64, &steps, "S", "AdamW steps", .min = 1, .max = 100000000),
      CLI_OPTION("--seed", CLI_U64, &cfg->seed, "S", "model init and data order"),
      CLI_OPTION("--out", CLI_STRING, out, "FILE", "where to save the model",
                 .given = &run->out_given),
      CLI_OPTION("--space", CLI_STRING, &run->space, "FILE",
                 "train a guide for this space file instead of a proposal network",
                 .default_text = "none"),
      CLI_OPTION("--inject", CLI_STRING, &inject, "METHOD", inject_help, .given = &inject_given),
      CLI_OPTION("--examples-budget", CLI_U64, &cfg->examples_budget, "K",
                 "train on K fixed example sets", .min = 1, .max = 1000000,
                 .default_text = "the whole stream", .given = &budget_given),
      CLI_OPTION("--d-model", CLI_INT, &cfg->d_model, "D", "width, a multiple of 4 (4 heads)",
                 .min = 8, .max = 512),
      CLI_OPTION("--layers", CLI_INT, &cfg->n_layers, "L", "encoder layers", .min = 1, .max = 8),
      CLI_OPTION("--batch", CLI_INT, &cfg->batch, "B", "sets per step", .min = 1, .max = 256),
      CLI_OPTION("--lr", CLI_DOUBLE, &cfg->lr, "X", "peak learning rate", .min = 1e-6, .max = 1),
      CLI_OPTION("--positions", CLI_CHOICE, &positions, NULL,
                 "none: the model sees a set; sinusoidal: positions", .choices = positions_choices,
                 .given = &positions_given),
      CLI_OPTION("--held-out", CLI_U64, &heldout, "N", "held-out sets to evaluate on", .min = 1,
                 .max = 1000000),
      CLI_OPTION("--eval-every", CLI_U64, &eval_every, "S",
                 "steps between evaluations (0: only at the end)", .max = 100000000),
      CLI_OPTION("--db", CLI_STRING, &run->db, "PATH", "the rule store that records the model",
                 .env = CLI_ENV_DB, .given = &db_given),
      CLI_FLAG_OPTION("--no-db", &no_db, "do not record the model"),
      CLI_FLAG_OPTION("--json", &run->json, "print the evaluations as one JSON object"),
  };
  const cli_spec spec = {.name = CMD, .description = description, .opts = opts,
                         .n_opts = sizeof opts / sizeof opts[0],
                         .epilog = "The shipped model: nsr train --seed 1 --steps 6000 --out "
                                   "bridge/models/" NSR_PROPOSE_MODEL_FILE "\n"
                                   "The shipped guides: see bridge/learn/README.md.\n"};
  cli_args args;
  int status = cli_parse(&spec, argc, argv, &args);
  if (status != CLI_CONTINUE) return status;
  nsr_error err;
  if (nsr_inject_parse(inject, &cfg->inject, &err) != NSR_OK) {
    return cli_usage_error(CMD, "--inject: %s", err.message);
  }
  if (no_db && db_given) return cli_usage_error(CMD, "--db and --no-db contradict each other");
  if (run->space && (inject_given || budget_given || positions_given)) {
    return cli_usage_error(CMD, "--%s does not apply to a guide (--space)",
                           inject_given ? "inject" : budget_given ? "examples-budget" : "positions");
  }
  if (run->space && nsr_dist_size() > 1) {
    return cli_usage_error(CMD, "--space trains in one process (not under mpirun)");
  }
  if (nsr_inject_uses_kbann(cfg->inject) && cfg->d_model < 44) {
    return cli_usage_error(CMD, "--inject kbann needs --d-model of at least 44");
  }
  if (cfg->d_model % 4 != 0) return cli_usage_error(CMD, "--d-model must be a multiple of 4 (4 heads)");
  if (no_db) run->db = NULL;
  cfg->steps = (int64_t)steps;
  cfg->heldout = (uint32_t)heldout;
  cfg->eval_every = (int64_t)eval_every;
  cfg->sinusoidal = strcmp(positions, "sinusoidal") == 0;
  return CLI_CONTINUE;
}

/* Prints the run as one JSON line; the exit status. */
static int print_json(const nsr_train_config *cfg, const train_run *run, const char *out,
                      const nsr_train_eval *final, double seconds, int64_t model_id) {
  /* Paths as typed, maybe not UTF-8: nsr_json_string mends them, where "s"
   * failed and lost the finished run's report as "out of memory". */
  json_t *root = json_pack("{s:o, s:s, s:I, s:I, s:f, s:s, s:o, s:o, s:o}", "out", nsr_json_string(out), "inject",
                           nsr_inject_name(cfg->inject), "steps", (json_int_t)cfg->steps, "seed",
                           (json_int_t)cfg->seed, "seconds", seconds, "blas_core",
                           openblas_get_corename(), "evals", json_incref(run->evals), "final",
                           eval_json(final), "model",
                           run->db ? json_pack("{s:o, s:I}", "db", nsr_json_string(run->db), "id", (json_int_t)model_id)
                                   : json_null());
  nsr_error err;
  return cli_print_json(stdout, root, &err) == NSR_OK ? CLI_EXIT_OK : cli_report(CMD, &err);
}

/* ---- guides (--space) ----------------------------------------------------- */

static json_t *guide_eval_json(const nsr_guide_eval *e) {
  return json_pack("{s:I, s:o, s:I, s:I, s:o, s:o, s:o, s:o}", "step", (json_int_t)e->step,
                   "train_loss", nsr_json_real(e->train_loss), "heldout", (json_int_t)e->n,
                   "trees", (json_int_t)e->n_trees, "nll", nsr_json_real(e->nll), "prior_nll",
                   nsr_json_real(e->prior_nll), "recall10",
                   nsr_json_real(e->recall10), "interval", nsr_json_real(e->interval));
}

static void on_guide_eval(void *ctx, const nsr_guide_eval *e) {
  train_run *run = ctx;
  if (run->json) {
    json_array_append_new(run->evals, guide_eval_json(e));
    return;
  }
  printf("step %6lld  loss %.4f  nll/node %.4f (prior %.4f)  recall10 %.4f  interval %.4f\n",
         (long long)e->step, e->train_loss, e->nll, e->prior_nll, e->recall10, e->interval);
  fflush(stdout);
}

/* The base name of a path (the space's name in the guide's metadata). */
static const char *base_name(const char *path) {
  const char *slash = strrchr(path, '/');
  return slash ? slash + 1 : path;
}

static int print_guide_json(const nsr_guide_train_config *cfg, const train_run *run,
                            const char *out, const nsr_guide_eval *final, double seconds,
                            int64_t model_id) {
  json_t *root = json_pack("{s:o, s:o, s:I, s:I, s:f, s:s, s:o, s:o, s:o}", "out",
                           nsr_json_string(out), "space", nsr_json_string(run->space), "steps",
                           (json_int_t)cfg->steps, "seed", (json_int_t)cfg->seed, "seconds",
                           seconds, "blas_core", openblas_get_corename(), "evals",
                           json_incref(run->evals), "final", guide_eval_json(final), "model",
                           run->db ? json_pack("{s:o, s:I}", "db", nsr_json_string(run->db), "id",
                                               (json_int_t)model_id)
                                   : json_null());
  nsr_error err;
  return cli_print_json(stdout, root, &err) == NSR_OK ? CLI_EXIT_OK : cli_report(CMD, &err);
}

/* `nsr train --space FILE`: trains, saves and records a guide with the
 * shared options of `tc`; the exit status. */
static int train_guide(const nsr_train_config *tc, train_run *run, const char *out) {
  nsr_guide_train_config cfg;
  nsr_guide_train_config_default(&cfg);
  cfg.d_model = tc->d_model;
  cfg.n_layers = tc->n_layers;
  cfg.steps = tc->steps;
  cfg.batch = tc->batch;
  cfg.lr = tc->lr;
  cfg.seed = tc->seed;
  cfg.heldout = tc->heldout;
  cfg.eval_every = tc->eval_every;
  cfg.progress = true;
  cfg.on_eval = on_guide_eval;
  cfg.ctx = run;
  char default_out[NSR_SPACE_NAME_MAX + 32];
  const char *name = base_name(run->space);
  if (!run->out_given) {
    size_t n = strlen(name);
    if (n > 5 && strcmp(name + n - 5, ".json") == 0) n -= 5;
    snprintf(default_out, sizeof default_out, "guide-%.*s.safetensors", (int)(n < 200 ? n : 200), name);
    out = default_out;
  }
  nsr_error err = {0};
  nsr_space *space = NULL;
  nsr_nn_model *model = NULL;
  nsr_guide_eval final;
  int64_t model_id = 0;
  uint64_t start = nsr_now_ns();
  /* Training samples the space's prior: its grammar is enough (enumerating
   * large.json took seconds and hundreds of MB). */
  nsr_code rc = nsr_space_load(run->space, NSR_SPACE_GRAMMAR_ONLY, &space, &err);
  if (rc == NSR_ERR_IO) err.code = rc = NSR_ERR_INVALID; /* an unreadable file named by the user */
  if (rc == NSR_OK) rc = nsr_guide_train(space, &cfg, &model, &final, &err);
  if (rc == NSR_OK) rc = nsr_guide_save(model, space, name, out, &err);
  if (rc == NSR_OK && run->db) {
    rc = record_model(nsr_guide_record_json(&cfg, space, name, model), out, run->db, &model_id, &err);
  }
  int status = CLI_EXIT_OK;
  if (rc != NSR_OK) {
    status = cli_report(CMD, &err);
  } else if (run->json) {
    status = print_guide_json(&cfg, run, out, &final, nsr_seconds_since(start), model_id);
  } else {
    printf("saved guide %s for %s (%zu parameters, %.1f s, OpenBLAS core %s)\n", out, name,
           nsr_nn_num_params(model), nsr_seconds_since(start), openblas_get_corename());
    if (run->db) printf("recorded as model %lld in %s\n", (long long)model_id, run->db);
  }
  nsr_nn_free(model);
  nsr_space_free(space);
  return status;
}

int cmd_train(int argc, char **argv) {
  nsr_train_config cfg;
  nsr_train_config_default(&cfg);
  train_run run = {0};
  const char *out = "propose.safetensors";
  int status = parse_args(argc, argv, &cfg, &out, &run);
  if (status != CLI_CONTINUE) return status;
  if (run.space) {
    run.evals = json_array();
    status = train_guide(&cfg, &run, out);
    json_decref(run.evals);
    return cli_finish(CMD, status);
  }
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
  nsr_error err = {0};
  if (nsr_train_proposer(&cfg, &model, &final, &err) != NSR_OK ||
      (nsr_dist_is_root() && (nsr_nn_save(model, out, &err) != NSR_OK ||
                              (run.db && record_model(nsr_train_record_json(&cfg, model), out, run.db, &model_id, &err) != NSR_OK)))) {
    rc = cli_report(CMD, &err);
  } else if (!nsr_dist_is_root()) {
    /* rank 0 saves and reports */
  } else if (run.json) {
    rc = print_json(&cfg, &run, out, &final, nsr_seconds_since(start), model_id);
  } else {
    printf("saved %s (%zu parameters, %.1f s, OpenBLAS core %s)\n", out,
           nsr_nn_num_params(model), nsr_seconds_since(start), openblas_get_corename());
    if (run.db) printf("recorded as model %lld in %s\n", (long long)model_id, run.db);
  }
  json_decref(run.evals);
  nsr_nn_free(model);
  return cli_finish(CMD, rc);
}
