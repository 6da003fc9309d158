/* train.c: a proposal network trained on example sets from the number
 * game's generative model, labelled by the exact engine; evaluated on a
 * held-out split the training stream never produces. */
#include "nsr_learn.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nsr_learn.h"
#include "progress.h"

#define HELDOUT_SEED 0x4e4f5445ULL /* fixed: every model meets the same sets */
#define CONSTRAINT_LAMBDA 1.0
#define MAP_TIE 1e-6 /* hypotheses within this relative gap of the MAP tie */

void nsr_train_config_default(nsr_train_config *cfg) {
  *cfg = (nsr_train_config){
      .d_model = 64, .n_layers = 2, .inject = NSR_INJECT_DISTILL, .steps = 3000,
      .batch = 64, .lr = 2e-3, .seed = 1, .heldout = 1000, .eval_every = 500,
  };
}

static nsr_code dataset_open(uint32_t n_max, uint64_t seed, nsr_dataset_split split,
                             nsr_dataset **out, nsr_error *err) {
  nsr_dataset_config cfg;
  nsr_dataset_config_default(&cfg);
  cfg.numbers.max = n_max;
  cfg.seed = seed;
  cfg.split = split;
  return nsr_dataset_new(&cfg, out, err);
}

/* Draws n sets from a split into h (also the training budget's store). */
static nsr_code draw_sets(uint32_t n_max, size_t n, uint64_t seed, nsr_dataset_split split,
                          nsr_heldout *h, nsr_error *err) {
  memset(h, 0, sizeof *h);
  nsr_dataset *ds;
  if (dataset_open(n_max, seed, split, &ds, err) != NSR_OK) return err->code;
  h->n_examples = nsr_mallocarray(n, sizeof *h->n_examples);
  h->examples = nsr_mallocarray(n * NSR_PROPOSE_MAX_EXAMPLES, sizeof *h->examples);
  if (h->n_examples == NULL || h->examples == NULL) {
    nsr_dataset_free(ds);
    nsr_heldout_free(h);
    return nsr_fail(err, NSR_ERR_NOMEM, "out of memory");
  }
  for (size_t i = 0; i < n; i++) {
    nsr_dataset_item item;
    if (nsr_dataset_next(ds, &item, err) != NSR_OK) {
      nsr_dataset_free(ds);
      nsr_heldout_free(h);
      return err->code;
    }
    h->n_examples[i] = item.n_examples;
    memcpy(h->examples + i * NSR_PROPOSE_MAX_EXAMPLES, item.examples,
           item.n_examples * sizeof *item.examples);
    h->n++;
  }
  nsr_dataset_free(ds);
  return NSR_OK;
}

nsr_code nsr_heldout_make(uint32_t n_max, size_t n, uint64_t seed, nsr_heldout *out,
                          nsr_error *err) {
  return draw_sets(n_max, n, seed, NSR_SPLIT_HELDOUT, out, err);
}

void nsr_heldout_free(nsr_heldout *h) {
  nsr_free(h->n_examples);
  nsr_free(h->examples);
  memset(h, 0, sizeof *h);
}

/* Whether the network's k best include a hypothesis whose exact posterior
 * ties the MAP's (several intervals can share the MAP's score). */
static bool map_in_top(const float *q, const float *p, size_t count, size_t k, float p_max) {
  uint64_t idx[10];
  size_t have = nsr_propose_top_k(q, count, k, idx);
  for (size_t j = 0; j < have; j++) {
    if (p[idx[j]] >= p_max * (float)(1.0 - MAP_TIE)) return true;
  }
  return false;
}

typedef struct eval_sums {
  double top1, top10, kl, sx, sy, sxx, syy, sxy, m;
} eval_sums;

/* Adds one held-out set: q the network's distribution, p the exact one. */
static void eval_add(eval_sums *s, nsr_numbers *engine, const float *q, const float *p,
                     size_t count, const double *g_exact, double *g_net) {
  float p_max = 0;
  for (size_t i = 0; i < count; i++) p_max = p[i] > p_max ? p[i] : p_max;
  s->top1 += map_in_top(q, p, count, 1, p_max);
  s->top10 += map_in_top(q, p, count, 10, p_max);
  for (size_t i = 0; i < count; i++) {
    if (p[i] > 0) s->kl += p[i] * (log(p[i]) - log(q[i] > 1e-30f ? q[i] : 1e-30f));
  }
  nsr_propose_generalization(engine, q, g_net);
  uint32_t n_max = nsr_numbers_get_config(engine)->max;
  for (uint32_t y = 0; y < n_max; y++) {
    s->sx += g_exact[y];
    s->sy += g_net[y];
    s->sxx += g_exact[y] * g_exact[y];
    s->syy += g_net[y] * g_net[y];
    s->sxy += g_exact[y] * g_net[y];
    s->m += 1;
  }
}

/* Adds held-out sets [lo, hi) to *s. */
static nsr_code evaluate_sets(nsr_nn_model *model, const nsr_heldout *heldout, size_t lo,
                              size_t hi, eval_sums *s, nsr_error *err) {
  nsr_proposer *prop;
  if (nsr_proposer_wrap(model, &prop, err) != NSR_OK) return err->code;
  nsr_numbers *engine = nsr_proposer_engine(prop);
  uint32_t n_max = nsr_proposer_max(prop);
  size_t count = nsr_numbers_space_size(engine);
  float *p = nsr_mallocarray(count, sizeof *p);
  double *g_net = nsr_mallocarray(n_max, sizeof *g_net);
  nsr_numbers_result exact = {0};
  nsr_code rc = p && g_net ? NSR_OK : nsr_fail(err, NSR_ERR_NOMEM, "out of memory");
  for (size_t i = lo; rc == NSR_OK && i < hi; i++) {
    const uint32_t *x = heldout->examples + i * NSR_PROPOSE_MAX_EXAMPLES;
    size_t n = heldout->n_examples[i];
    rc = nsr_propose_forward(prop, x, n, err);
    if (rc == NSR_OK) rc = nsr_numbers_posterior_all(engine, x, n, p, count, err);
    if (rc == NSR_OK) rc = nsr_numbers_infer(engine, x, n, 1, &exact, err);
    if (rc == NSR_OK) eval_add(s, engine, nsr_proposer_probs(prop), p, count, exact.generalization, g_net);
  }
  nsr_numbers_result_free(&exact);
  nsr_free(p);
  nsr_free(g_net);
  nsr_proposer_free(prop);
  return rc;
}

/* The evaluation of `n` held-out sets from their sums. */
static nsr_train_eval eval_finish(const eval_sums *s, size_t n) {
  double k = n ? (double)n : 1.0;
  double cov = s->sxy - s->sx * s->sy / s->m, vx = s->sxx - s->sx * s->sx / s->m,
         vy = s->syy - s->sy * s->sy / s->m;
  return (nsr_train_eval){.n = n, .top1 = s->top1 / k, .top10 = s->top10 / k, .kl = s->kl / k,
                          .gen_corr = cov / sqrt(vx * vy)};
}

nsr_code nsr_train_evaluate(nsr_nn_model *model, const nsr_heldout *heldout,
                            nsr_train_eval *out, nsr_error *err) {
  eval_sums s = {0};
  if (evaluate_sets(model, heldout, 0, heldout->n, &s, err) != NSR_OK) return err->code;
  *out = eval_finish(&s, heldout->n);
  return NSR_OK;
}

/* ---- training ------------------------------------------------------------ */

typedef struct trainer {
  const nsr_train_config *cfg;
  nsr_nn_model *model;
  nsr_numbers *engine;
  nsr_dataset *stream; /* the training split, when there is no budget */
  nsr_heldout budget;  /* the fixed training sets, when there is one */
  nsr_rng rng;         /* picks minibatches from the budget */
  size_t lo, hi;       /* this process's rows [lo, hi) of every batch */
  uint32_t *perm;      /* the shuffled controls' permutation, else NULL */
  size_t count;        /* classes */
  int32_t *tokens, *lengths, *labels;
  float *teacher, *q;  /* [batch * count] */
} trainer;

static void trainer_free(trainer *t) {
  nsr_numbers_free(t->engine);
  nsr_dataset_free(t->stream);
  nsr_heldout_free(&t->budget);
  nsr_free(t->perm);
  nsr_free(t->tokens);
  nsr_free(t->lengths);
  nsr_free(t->labels);
  nsr_free(t->teacher);
  nsr_free(t->q);
}

static bool uses_hard_labels(nsr_inject m) { return !nsr_inject_soft_targets(m); }
static bool uses_constraint(nsr_inject m) {
  return m == NSR_INJECT_CONSTRAINT || m == NSR_INJECT_CONSTRAINT_SHUFFLED ||
         m == NSR_INJECT_CONSTRAINT_SIZE || m == NSR_INJECT_CONSTRAINT_SIZE_SHUFFLED;
}

/* The part [lo, hi) of n items that this process takes (all of them when
 * there is one process). */
static void batch_slice(const nsr_train_parallel *par, size_t n, size_t *lo, size_t *hi) {
  size_t size = par->size > 1 ? (size_t)par->size : 1, rank = par->size > 1 ? (size_t)par->rank : 0;
  *lo = n * rank / size;
  *hi = n * (rank + 1) / size;
}

static nsr_code trainer_init(trainer *t, const nsr_train_config *cfg, uint32_t n_max,
                             nsr_error *err) {
  memset(t, 0, sizeof *t);
  t->cfg = cfg;
  nsr_nn_config ncfg;
  nsr_propose_config(n_max, cfg->d_model, cfg->n_layers, &ncfg);
  if (cfg->sinusoidal) ncfg.pos = NSR_NN_POS_SINUSOIDAL;
  if (nsr_nn_create(&ncfg, &t->model, err) != NSR_OK) return err->code;
  nsr_nn_init_params(t->model, cfg->seed);
  /* Under MPI the ranks are the parallelism, one per core: each rank's
   * encoder stays on one thread unless NSR_NN_THREADS asks otherwise. */
  if (cfg->parallel.size > 1 && getenv("NSR_NN_THREADS") == NULL &&
      nsr_nn_set_threads(t->model, 1, err) != NSR_OK) {
    return err->code;
  }
  nsr_numbers_config ncon;
  nsr_numbers_config_default(&ncon);
  ncon.max = n_max;
  if (nsr_numbers_new(&ncon, &t->engine, err) != NSR_OK) return err->code;
  t->count = nsr_numbers_space_size(t->engine);
  batch_slice(&cfg->parallel, (size_t)cfg->batch, &t->lo, &t->hi);
  size_t b = t->hi - t->lo;
  t->tokens = nsr_mallocarray(b * NSR_PROPOSE_MAX_LEN, sizeof *t->tokens);
  t->lengths = nsr_mallocarray(b, sizeof *t->lengths);
  t->labels = nsr_mallocarray(b, sizeof *t->labels);
  t->teacher = nsr_mallocarray(b * t->count, sizeof *t->teacher);
  t->q = nsr_mallocarray(b * t->count, sizeof *t->q);
  if (nsr_inject_shuffled(cfg->inject)) t->perm = nsr_mallocarray(n_max + 1, sizeof *t->perm);
  if (!t->tokens || !t->lengths || !t->labels || !t->teacher || !t->q ||
      (nsr_inject_shuffled(cfg->inject) && !t->perm)) {
    return nsr_fail(err, NSR_ERR_NOMEM, "out of memory");
  }
  if (t->perm) nsr_inject_permutation(n_max, t->perm);
  if (nsr_inject_uses_kbann(cfg->inject)) {
    if (nsr_inject_kbann(t->model, t->engine, t->perm, err) != NSR_OK) return err->code;
  }
  nsr_rng_seed(&t->rng, cfg->seed ^ 0xb0d9e7ULL);
  if (cfg->examples_budget > 0) {
    return draw_sets(n_max, cfg->examples_budget, cfg->seed, NSR_SPLIT_TRAIN, &t->budget, err);
  }
  return dataset_open(n_max, cfg->seed, NSR_SPLIT_TRAIN, &t->stream, err);
}

/* Fills row b of the batch with the next training set and its exact
 * posterior (the teacher row). */
static nsr_code next_set(trainer *t, int b, uint32_t *n_ex, uint32_t *x, nsr_error *err) {
  float *teacher = t->teacher + (size_t)b * t->count;
  if (t->stream) {
    nsr_dataset_item item;
    if (nsr_dataset_next(t->stream, &item, err) != NSR_OK) return err->code;
    *n_ex = item.n_examples;
    memcpy(x, item.examples, item.n_examples * sizeof *x);
    memcpy(teacher, item.posterior, t->count * sizeof *teacher);
    return NSR_OK;
  }
  size_t i = (size_t)nsr_rng_below(&t->rng, t->budget.n);
  *n_ex = t->budget.n_examples[i];
  memcpy(x, t->budget.examples + i * NSR_PROPOSE_MAX_EXAMPLES, *n_ex * sizeof *x);
  return nsr_numbers_posterior_all(t->engine, x, *n_ex, teacher, t->count, err);
}

/* Moves past a training set another process labels, so that every process
 * walks the same stream and the global batch is the same for any number of
 * processes. */
static void skip_set(trainer *t) {
  if (t->stream) {
    nsr_dataset_skip(t->stream);
  } else {
    (void)nsr_rng_below(&t->rng, t->budget.n);
  }
}

/* Sums the processes' gradients, each weighted by its share of the global
 * batch, so every process holds the gradient of the global mean loss: one
 * call on the model's whole gradient buffer. */
static nsr_code sum_gradients(trainer *t, nsr_error *err) {
  const nsr_train_parallel *par = &t->cfg->parallel;
  if (par->sum_floats == NULL) return NSR_OK;
  size_t n;
  float *g = nsr_nn_gradients(t->model, &n);
  float share = (float)(t->hi - t->lo) / (float)t->cfg->batch;
  for (size_t i = 0; i < n; i++) g[i] *= share;
  return par->sum_floats(par->ctx, g, n, err);
}

/* One AdamW step on a fresh minibatch; *loss is the mean training loss of
 * this process's rows. */
static nsr_code train_step(trainer *t, int64_t step, double *loss, nsr_error *err) {
  const nsr_train_config *cfg = t->cfg;
  uint32_t n_max = nsr_numbers_get_config(t->engine)->max;
  uint32_t n_ex[256] = {0}, x[256][NSR_PROPOSE_MAX_EXAMPLES];
  int rows = (int)(t->hi - t->lo);
  for (int g = 0; g < cfg->batch; g++) {
    if ((size_t)g < t->lo || (size_t)g >= t->hi) {
      skip_set(t);
      continue;
    }
    int b = g - (int)t->lo;
    if (next_set(t, b, &n_ex[b], x[b], err) != NSR_OK) return err->code;
    // NOLINTNEXTLINE(clang-analyzer-core.CallAndMessage): a failed next_set leaves err->code != NSR_OK
    t->lengths[b] = nsr_propose_tokens(n_max, x[b], n_ex[b], t->tokens + (size_t)b * NSR_PROPOSE_MAX_LEN);
    if (uses_hard_labels(cfg->inject)) {
      float *row = t->teacher + (size_t)b * t->count;
      uint64_t map;
      nsr_propose_top_k(row, t->count, 1, &map);
      t->labels[b] = (int32_t)map;
      memset(row, 0, t->count * sizeof *row);
      row[map] = 1.0f;
    }
  }
  nsr_nn_batch batch = {.batch = rows, .seq_len = NSR_PROPOSE_MAX_LEN,
                        .tokens = t->tokens, .lengths = t->lengths};
  nsr_nn_targets targets = {.probs = t->teacher};
  if (uses_constraint(cfg->inject)) {
    if (nsr_nn_forward(t->model, &batch, NULL, t->q, err) != NSR_OK) return err->code;
    for (int b = 0; b < rows; b++) {
      nsr_inject_constraint(t->engine, x[b], n_ex[b], t->perm, t->q + (size_t)b * t->count,
                            CONSTRAINT_LAMBDA,
                            cfg->inject == NSR_INJECT_CONSTRAINT_SIZE ||
                                cfg->inject == NSR_INJECT_CONSTRAINT_SIZE_SHUFFLED,
                            t->teacher + (size_t)b * t->count);
    }
  } else if (uses_hard_labels(cfg->inject)) {
    targets = (nsr_nn_targets){.labels = t->labels};
  }
  float l;
  if (nsr_nn_forward_backward(t->model, &batch, &targets, &l, err) != NSR_OK) return err->code;
  if (sum_gradients(t, err) != NSR_OK) return err->code;
  nsr_nn_clip_grad_norm(t->model, 1.0);
  nsr_nn_schedule sched = {.lr_max = cfg->lr, .lr_min = cfg->lr * 0.05,
                           .warmup_steps = cfg->steps / 20 + 1, .total_steps = cfg->steps};
  nsr_nn_adamw opt = {.beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8, .weight_decay = 0.01};
  *loss = l;
  return nsr_nn_adamw_step(t->model, &opt, nsr_nn_schedule_lr(&sched, step), err);
}

/* Evaluates on the held-out sets, each process taking its slice; sums the
 * slices' statistics and the processes' *loss_sum in one call (every
 * process gets the same *out and the global *loss_sum). */
static nsr_code evaluate_parallel(trainer *t, const nsr_heldout *h, double *loss_sum,
                                  nsr_train_eval *out, nsr_error *err) {
  const nsr_train_parallel *par = &t->cfg->parallel;
  size_t lo, hi;
  batch_slice(par, h->n, &lo, &hi);
  eval_sums s = {0};
  if (evaluate_sets(t->model, h, lo, hi, &s, err) != NSR_OK) return err->code;
  if (par->sum_doubles != NULL) {
    double v[10] = {s.top1, s.top10, s.kl, s.sx, s.sy, s.sxx, s.syy, s.sxy, s.m, *loss_sum};
    if (par->sum_doubles(par->ctx, v, 10, err) != NSR_OK) return err->code;
    s = (eval_sums){.top1 = v[0], .top10 = v[1], .kl = v[2], .sx = v[3], .sy = v[4],
                    .sxx = v[5], .syy = v[6], .sxy = v[7], .m = v[8]};
    *loss_sum = v[9];
  }
  *out = eval_finish(&s, h->n);
  return NSR_OK;
}

nsr_code nsr_train_proposer(const nsr_train_config *cfg, nsr_nn_model **out,
                            nsr_train_eval *final, nsr_error *err) {
  if (cfg->batch < 1 || cfg->batch > 256) return nsr_fail(err, NSR_ERR_INVALID, "batch %d is outside 1..256", cfg->batch);
  if (cfg->steps < 1) return nsr_fail(err, NSR_ERR_INVALID, "steps must be at least 1");
  if (cfg->parallel.size > 1 && cfg->batch < cfg->parallel.size) {
    return nsr_fail(err, NSR_ERR_INVALID, "batch %d is smaller than the %d processes", cfg->batch,
                    cfg->parallel.size);
  }
  trainer t;
  nsr_heldout heldout = {0};
  nsr_code rc = trainer_init(&t, cfg, NSR_NUMBERS_DEFAULT_N, err);
  if (rc == NSR_OK) rc = nsr_heldout_make(NSR_NUMBERS_DEFAULT_N, cfg->heldout, HELDOUT_SEED, &heldout, err);
  if (rc == NSR_OK) rc = nsr_nn_reserve(t.model, (int)(t.hi - t.lo), true, err);
  nsr_progress bar;
  if (cfg->progress) nsr_progress_start(&bar, "train", (uint64_t)cfg->steps);
  double loss_sum = 0.0;
  int64_t loss_n = 0;
  for (int64_t step = 1; rc == NSR_OK && step <= cfg->steps; step++) {
    double loss = 0.0; /* train_step leaves it unset when it fails */
    rc = train_step(&t, step, &loss, err);
    loss_sum += loss * (double)(t.hi - t.lo) / cfg->batch; /* summed over processes below */
    loss_n++;
    bool eval = step == cfg->steps || (cfg->eval_every > 0 && step % cfg->eval_every == 0);
    if (rc == NSR_OK && eval) {
      rc = evaluate_parallel(&t, &heldout, &loss_sum, final, err);
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
  nsr_heldout_free(&heldout);
  if (rc == NSR_OK) {
    *out = t.model;
  } else {
    nsr_nn_free(t.model);
  }
  trainer_free(&t);
  return rc;
}
