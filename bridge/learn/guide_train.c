/* guide_train.c: training a guide on its space's own prior (guide_dataset.c)
 * and evaluating it on the held-out split (nsr_learn.h, "guide_train"). */
#include "nsr_learn.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "progress.h"

#define GUIDE_HELDOUT_SEED 0x47554944ULL /* fixed: every guide meets the same sets */
#define RECALL_TOP 10
#define MAX_BATCH 256

void nsr_guide_train_config_default(nsr_guide_train_config *cfg) {
  *cfg = (nsr_guide_train_config){.d_model = 64, .n_layers = 2, .steps = 3000, .batch = 64,
                                  .lr = 2e-3, .seed = 1, .heldout = 1000, .eval_every = 500};
}

nsr_code nsr_guide_heldout_make(const nsr_space *space, size_t n, uint64_t seed,
                                nsr_guide_item **items, nsr_error *err) {
  *items = NULL;
  nsr_guide_dataset_config cfg;
  nsr_guide_dataset_config_default(&cfg);
  cfg.seed = seed;
  cfg.split = NSR_SPLIT_HELDOUT;
  nsr_guide_dataset *ds;
  nsr_code rc = nsr_guide_dataset_new(space, &cfg, &ds, err);
  if (rc != NSR_OK) return rc;
  nsr_guide_item *all = nsr_mallocarray(n ? n : 1, sizeof *all);
  if (all == NULL) rc = nsr_fail(err, NSR_ERR_NOMEM, "held-out sets: out of memory");
  for (size_t i = 0; rc == NSR_OK && i < n; i++) {
    rc = nsr_guide_dataset_next(ds, &all[i], err);
    all[i].target = NULL; /* the dataset's buffer dies with it */
  }
  nsr_guide_dataset_free(ds);
  if (rc != NSR_OK) {
    nsr_free(all);
    return rc;
  }
  *items = all;
  return NSR_OK;
}

/* ---- evaluation ---------------------------------------------------------- */

/* Share of the tree's nodes whose production is among the k largest
 * weights of its context's row (log_q: rows of p). */
static double tree_recall(const nsr_space *space, const nsr_space_tree *t, const double *log_q, size_t p, size_t k) {
  uint16_t ctx[NSR_SPACE_TREE_MAX];
  nsr_space_tree_contexts(space, t, ctx);
  size_t found = 0;
  for (int i = 0; i < t->len; i++) {
    const double *row = log_q + ctx[i] * p;
    /* A production is in the top k when fewer than k others beat it. */
    size_t above = 0;
    for (size_t c = 0; c < p; c++) above += row[c] > row[t->prog[i]];
    found += above < k;
  }
  return t->len ? (double)found / (double)t->len : 0.0;
}

typedef struct guide_sums {
  double nll, prior_nll, recall, interval;
  size_t trees, intervals;
} guide_sums;

/* Adds one held-out item, with log_q the guide's conditioned grammar,
 * log_w the space's own rule weights and q_interval the guide's
 * probability of the class "interval". */
static void eval_add(guide_sums *s, const nsr_space *space, const nsr_guide_item *item,
                     const double *log_q, const double *log_w, double q_interval) {
  if (item->concept.kind == NSR_CONCEPT_INTERVAL) {
    s->interval += q_interval;
    s->intervals++;
    return;
  }
  const nsr_space_tree *t = &item->concept.tree;
  nsr_space_guide g = {.log_q = log_q, .rows = nsr_space_guide_contexts(space)}, prior = {.log_q = log_w, .rows = 1};
  s->nll -= nsr_space_guide_log_q(space, &g, t) / t->len;
  s->prior_nll -= nsr_space_guide_log_q(space, &prior, t) / t->len;
  s->recall += tree_recall(space, t, log_q, nsr_space_productions(space), RECALL_TOP);
  s->trees++;
}

nsr_code nsr_guide_evaluate(nsr_guide *guide, const nsr_space *space, const nsr_guide_item *items,
                            size_t n, nsr_guide_eval *out, nsr_error *err) {
  size_t p = nsr_space_productions(space);
  double *log_q = nsr_mallocarray(nsr_space_guide_contexts(space) * p, sizeof *log_q);
  double *log_w = nsr_mallocarray(p, sizeof *log_w);
  nsr_code rc = log_q && log_w ? NSR_OK : nsr_fail(err, NSR_ERR_NOMEM, "out of memory");
  for (size_t k = 0; rc == NSR_OK && k < p; k++) log_w[k] = nsr_space_production_log_weight(space, k);
  guide_sums s = {0};
  for (size_t i = 0; rc == NSR_OK && i < n; i++) {
    rc = nsr_guide_condition(guide, items[i].examples, items[i].n_examples, log_q, err);
    if (rc != NSR_OK) break;
    eval_add(&s, space, &items[i], log_q, log_w, nsr_guide_interval_share(guide));
  }
  nsr_free(log_q);
  nsr_free(log_w);
  if (rc != NSR_OK) return rc;
  *out = (nsr_guide_eval){
      .n = n, .n_trees = s.trees,
      .nll = s.trees ? s.nll / (double)s.trees : NAN,
      .prior_nll = s.trees ? s.prior_nll / (double)s.trees : NAN,
      .recall10 = s.trees ? s.recall / (double)s.trees : NAN,
      .interval = s.intervals ? s.interval / (double)s.intervals : NAN};
  return NSR_OK;
}

/* ---- training ------------------------------------------------------------ */

typedef struct guide_trainer {
  const nsr_guide_train_config *cfg;
  const nsr_space *space;
  nsr_nn_model *model;
  nsr_guide_dataset *stream;
  size_t classes;
  int32_t *tokens, *lengths; /* [batch * MAX_LEN], [batch] */
  float *targets;            /* [batch * classes] */
} guide_trainer;

static void trainer_free(guide_trainer *t) {
  nsr_guide_dataset_free(t->stream);
  nsr_free(t->tokens);
  nsr_free(t->lengths);
  nsr_free(t->targets);
}

static nsr_code trainer_init(guide_trainer *t, const nsr_space *space,
                             const nsr_guide_train_config *cfg, nsr_error *err) {
  *t = (guide_trainer){.cfg = cfg, .space = space,
                       .classes = nsr_space_guide_contexts(space) * nsr_space_productions(space) + 1};
  nsr_nn_config ncfg;
  nsr_guide_config(space, cfg->d_model, cfg->n_layers, &ncfg);
  if (nsr_nn_create(&ncfg, &t->model, err) != NSR_OK) return err->code;
  nsr_nn_init_params(t->model, cfg->seed);
  size_t b = (size_t)cfg->batch;
  t->tokens = nsr_mallocarray(b * NSR_PROPOSE_MAX_LEN, sizeof *t->tokens);
  t->lengths = nsr_mallocarray(b, sizeof *t->lengths);
  t->targets = nsr_mallocarray(b * t->classes, sizeof *t->targets);
  if (!t->tokens || !t->lengths || !t->targets) return nsr_fail(err, NSR_ERR_NOMEM, "out of memory");
  nsr_guide_dataset_config dcfg;
  nsr_guide_dataset_config_default(&dcfg);
  dcfg.seed = cfg->seed;
  return nsr_guide_dataset_new(space, &dcfg, &t->stream, err);
}

/* One AdamW step on the next minibatch of the stream; *loss is its mean
 * cross-entropy towards the targets (KL plus the targets' entropy). */
static nsr_code train_step(guide_trainer *t, int64_t step, double *loss, nsr_error *err) {
  const nsr_guide_train_config *cfg = t->cfg;
  uint32_t n_max = nsr_space_max(t->space);
  for (int b = 0; b < cfg->batch; b++) {
    nsr_guide_item item;
    if (nsr_guide_dataset_next(t->stream, &item, err) != NSR_OK) return err->code;
    t->lengths[b] = nsr_propose_tokens(n_max, item.examples, item.n_examples,
                                       t->tokens + (size_t)b * NSR_PROPOSE_MAX_LEN);
    memcpy(t->targets + (size_t)b * t->classes, item.target, t->classes * sizeof(float));
  }
  nsr_nn_batch batch = {.batch = cfg->batch, .seq_len = NSR_PROPOSE_MAX_LEN,
                        .tokens = t->tokens, .lengths = t->lengths};
  nsr_nn_targets targets = {.probs = t->targets};
  float l;
  if (nsr_nn_forward_backward(t->model, &batch, &targets, &l, err) != NSR_OK) return err->code;
  nsr_nn_clip_grad_norm(t->model, 1.0);
  nsr_nn_schedule sched = {.lr_max = cfg->lr, .lr_min = cfg->lr * 0.05,
                           .warmup_steps = cfg->steps / 20 + 1, .total_steps = cfg->steps};
  nsr_nn_adamw opt = {.beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8, .weight_decay = 0.01};
  *loss = l;
  return nsr_nn_adamw_step(t->model, &opt, nsr_nn_schedule_lr(&sched, step), err);
}

/* Evaluates the model in training on the held-out items. */
static nsr_code evaluate_model(guide_trainer *t, const nsr_guide_item *items, size_t n,
                               nsr_guide_eval *out, nsr_error *err) {
  nsr_guide *guide;
  if (nsr_guide_wrap(t->model, t->space, &guide, err) != NSR_OK) return err->code;
  nsr_code rc = nsr_guide_evaluate(guide, t->space, items, n, out, err);
  nsr_guide_free(guide);
  return rc;
}

static nsr_code check_config(const nsr_guide_train_config *cfg, nsr_error *err) {
  if (cfg->batch < 1 || cfg->batch > MAX_BATCH) {
    return nsr_fail(err, NSR_ERR_INVALID, "batch %d is outside 1..%d", cfg->batch, MAX_BATCH);
  }
  if (cfg->steps < 1) return nsr_fail(err, NSR_ERR_INVALID, "steps must be at least 1");
  if (cfg->heldout < 1) return nsr_fail(err, NSR_ERR_INVALID, "held-out sets must be at least 1");
  return NSR_OK;
}

nsr_code nsr_guide_train(const nsr_space *space, const nsr_guide_train_config *cfg,
                         nsr_nn_model **out, nsr_guide_eval *final, nsr_error *err) {
  *out = NULL;
  nsr_code rc = check_config(cfg, err);
  if (rc != NSR_OK) return rc;
  guide_trainer t;
  nsr_guide_item *heldout = NULL;
  rc = trainer_init(&t, space, cfg, err);
  if (rc == NSR_OK) rc = nsr_guide_heldout_make(space, cfg->heldout, GUIDE_HELDOUT_SEED, &heldout, err);
  if (rc == NSR_OK) rc = nsr_nn_reserve(t.model, cfg->batch, true, err);
  nsr_progress bar;
  if (cfg->progress) nsr_progress_start(&bar, "train", (uint64_t)cfg->steps);
  double loss_sum = 0.0;
  int64_t loss_n = 0;
  for (int64_t step = 1; rc == NSR_OK && step <= cfg->steps; step++) {
    double loss = 0.0; /* train_step leaves it unset when it fails */
    rc = train_step(&t, step, &loss, err);
    loss_sum += loss;
    loss_n++;
    bool eval = step == cfg->steps || (cfg->eval_every > 0 && step % cfg->eval_every == 0);
    if (rc == NSR_OK && eval) {
      rc = evaluate_model(&t, heldout, cfg->heldout, final, err);
      final->step = step;
      final->train_loss = loss_sum / (double)loss_n;
      loss_sum = 0.0;
      loss_n = 0;
      if (rc == NSR_OK && cfg->on_eval) cfg->on_eval(cfg->ctx, final);
    }
    if (cfg->progress) {
      char extra[48];
      snprintf(extra, sizeof extra, "loss %.3f", loss);
      nsr_progress_update(&bar, (uint64_t)step, extra);
    }
  }
  if (cfg->progress) nsr_progress_finish(&bar, (uint64_t)cfg->steps, NULL);
  nsr_free(heldout);
  if (rc == NSR_OK) {
    *out = t.model;
  } else {
    nsr_nn_free(t.model);
  }
  trainer_free(&t);
  return rc;
}

char *nsr_guide_record_json(const nsr_guide_train_config *cfg, const nsr_space *space,
                            const char *space_name, const nsr_nn_model *model) {
  char *encoder = nsr_nn_config_to_json(nsr_nn_get_config(model));
  json_t *enc = encoder ? json_loads(encoder, 0, NULL) : NULL;
  nsr_free(encoder);
  char signature[17];
  snprintf(signature, sizeof signature, "%016" PRIx64, nsr_space_signature(space));
  json_t *o = enc ? json_pack("{s:o, s:{s:o, s:s, s:I, s:i, s:f, s:I}}", "model", enc, "guide",
                              "space", nsr_json_string(space_name), "signature", signature,
                              "steps", (json_int_t)cfg->steps, "batch", cfg->batch, "lr", cfg->lr,
                              "seed", (json_int_t)cfg->seed)
                  : NULL;
  char *text = o ? nsr_json_dump(o) : NULL;
  json_decref(o);
  return text;
}
