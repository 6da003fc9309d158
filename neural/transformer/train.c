/* train.c: the minibatch training loop and evaluation on held-out data. */
#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "model.h"
#include "progress.h"

void nsr_nn_train_opts_default(nsr_nn_train_opts *opts, int64_t steps) {
  *opts = (nsr_nn_train_opts){
      .batch_size = 32,
      .steps = steps,
      .schedule = {.lr_max = 1e-3, .lr_min = 0.0, .warmup_steps = steps / 20,
                   .total_steps = steps},
      .adamw = {.beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8, .weight_decay = 0.01},
      .clip_norm = 1.0,
      .seed = 1,
      .eval_every = 0,
      .progress = true,
  };
}

/* Checks the shape of a dataset; per-example values are checked batch by
 * batch by the forward pass. */
static nsr_code check_dataset(const nsr_nn_model *m, const nsr_nn_dataset *d,
                              const char *what, nsr_error *err) {
  if (d->n < 1 || d->tokens == NULL) {
    return nsr_fail(err, NSR_ERR_INVALID, "%s data: no examples", what);
  }
  if (d->seq_len < 1 || d->seq_len > m->cfg.max_len) {
    return nsr_fail(err, NSR_ERR_INVALID,
                    "%s data: sequence length %d is not in 1..%d", what,
                    d->seq_len, m->cfg.max_len);
  }
  if ((d->labels == NULL) == (d->probs == NULL)) {
    return nsr_fail(err, NSR_ERR_INVALID,
                    "%s data: give either labels or target probabilities", what);
  }
  if ((m->cfg.n_labels > 0) != (d->label_probs != NULL)) {
    return nsr_fail(err, NSR_ERR_INVALID,
                    "%s data: label targets must be given exactly when the model "
                    "has a label head", what);
  }
  return NSR_OK;
}

/* The batch of examples first .. first+count-1 of `d`, pointing into it. */
static void slice(const nsr_nn_dataset *d, const nsr_nn_config *c,
                  int64_t first, int count, nsr_nn_batch *batch,
                  nsr_nn_targets *t) {
  *batch = (nsr_nn_batch){
      .batch = count, .seq_len = d->seq_len,
      .tokens = d->tokens + first * d->seq_len,
      .lengths = d->lengths ? d->lengths + first : NULL,
  };
  *t = (nsr_nn_targets){
      .labels = d->labels ? d->labels + first : NULL,
      .probs = d->probs ? d->probs + first * c->n_classes : NULL,
      .label_probs = d->label_probs ? d->label_probs + first * c->n_labels : NULL,
  };
}

static int argmax(const float *v, int n) {
  int best = 0;
  for (int i = 1; i < n; i++) best = v[i] > v[best] ? i : best;
  return best;
}

/* The share of the B * C sigmoid outputs p on the same side of 0.5 as the
 * targets y, summed per example (so it adds up like whole examples). */
static double count_sigmoid_correct(const float *p, const float *y, int B,
                                    int C) {
  assert(y != NULL && "check_targets rejects a sigmoid head without target probabilities");
  double correct = 0.0;
  for (int b = 0; b < B; b++) {
    int right = 0;
    for (int c = 0; c < C; c++) {
      right += (p[(size_t)b * C + c] > 0.5f) == (y[(size_t)b * C + c] > 0.5f);
    }
    correct += (double)right / C;
  }
  return correct;
}

/* How many of the B examples the first head's probabilities in
 * m->acts.probs get right: whole examples for a softmax head, outputs / C
 * for a sigmoid head. */
static double count_correct(const nsr_nn_model *m, int B,
                            const nsr_nn_targets *t) {
  int C = m->cfg.n_classes;
  if (m->cfg.head == NSR_NN_HEAD_SIGMOID) {
    return count_sigmoid_correct(m->acts.probs, t->probs, B, C);
  }
  double correct = 0.0;
  for (int b = 0; b < B; b++) {
    int want = t->labels ? t->labels[b] : argmax(t->probs + (size_t)b * C, C);
    correct += argmax(m->acts.probs + (size_t)b * C, C) == want;
  }
  return correct;
}

nsr_code nsr_nn_evaluate(nsr_nn_model *m, const nsr_nn_dataset *data,
                         nsr_nn_eval *out, nsr_error *err) {
  nsr_code rc = check_dataset(m, data, "evaluation", err);
  if (rc != NSR_OK) return rc;
  /* Use the activations already there; a fresh model gets room for 64. */
  int cap = m->act_batch > 0 ? m->act_batch : 64;
  double loss_sum = 0.0, correct = 0.0, label_correct = 0.0;
  for (int64_t first = 0; first < data->n; first += cap) {
    int count = (int)(data->n - first < cap ? data->n - first : cap);
    nsr_nn_batch batch;
    nsr_nn_targets t;
    slice(data, &m->cfg, first, count, &batch, &t);
    float loss;
    rc = nsr_nn_loss(m, &batch, &t, &loss, err);
    if (rc != NSR_OK) {
      nsr_error_prefix(err, "evaluating examples %lld..%lld: ", (long long)first,
                       (long long)(first + count - 1));
      return rc;
    }
    loss_sum += (double)loss * count;
    correct += count_correct(m, count, &t);
    if (t.label_probs != NULL) {
      label_correct += count_sigmoid_correct(m->acts.label_probs, t.label_probs,
                                             count, m->cfg.n_labels);
    }
  }
  out->loss = loss_sum / (double)data->n;
  out->accuracy = correct / (double)data->n;
  out->label_accuracy = label_correct / (double)data->n;
  return NSR_OK;
}

/* Buffers for one gathered minibatch, made once before training. */
typedef struct staging {
  int64_t *order; /* [n] a permutation of the training examples */
  int32_t *tokens, *lengths, *labels;
  float *probs, *label_probs;
} staging;

static void staging_free(staging *s) {
  nsr_free(s->order);
  nsr_free(s->tokens);
  nsr_free(s->lengths);
  nsr_free(s->labels);
  nsr_free(s->probs);
  nsr_free(s->label_probs);
}

/* Allocates the staging buffers for batches of B examples of d and sets
 * order to the identity. Free with staging_free. */
static nsr_code staging_init(staging *s, const nsr_nn_dataset *d, int B,
                             const nsr_nn_config *c, nsr_error *err) {
  *s = (staging){0};
  s->order = nsr_mallocarray((size_t)d->n, sizeof(int64_t));
  s->tokens = nsr_mallocarray((size_t)B * d->seq_len, sizeof(int32_t));
  bool ok = s->order && s->tokens;
  if (d->lengths) ok = ok && (s->lengths = nsr_mallocarray((size_t)B, sizeof(int32_t)));
  if (d->labels) ok = ok && (s->labels = nsr_mallocarray((size_t)B, sizeof(int32_t)));
  if (d->probs) {
    ok = ok && (s->probs = nsr_mallocarray((size_t)B * c->n_classes, sizeof(float)));
  }
  if (d->label_probs) {
    ok = ok && (s->label_probs = nsr_mallocarray((size_t)B * c->n_labels, sizeof(float)));
  }
  if (!ok) {
    staging_free(s);
    return nsr_fail(err, NSR_ERR_NOMEM, "training batches: out of memory");
  }
  for (int64_t i = 0; i < d->n; i++) s->order[i] = i;
  return NSR_OK;
}

static void shuffle(int64_t *order, int64_t n, nsr_rng *rng) {
  for (int64_t i = n - 1; i > 0; i--) {
    int64_t j = (int64_t)nsr_rng_below(rng, (uint64_t)i + 1);
    int64_t tmp = order[i];
    order[i] = order[j];
    order[j] = tmp;
  }
}

/* Copies the examples order[0..B-1] into the staging buffers. */
static void gather(const nsr_nn_dataset *d, const nsr_nn_config *c,
                   const int64_t *order, int B, staging *s, nsr_nn_batch *batch,
                   nsr_nn_targets *t) {
  size_t T = (size_t)d->seq_len, C = (size_t)c->n_classes, L = (size_t)c->n_labels;
  for (int b = 0; b < B; b++) {
    int64_t i = order[b];
    memcpy(s->tokens + b * T, d->tokens + i * T, T * sizeof(int32_t));
    if (s->lengths) s->lengths[b] = d->lengths[i];
    if (s->labels) s->labels[b] = d->labels[i];
    if (s->probs) memcpy(s->probs + b * C, d->probs + i * C, C * sizeof(float));
    if (s->label_probs) {
      memcpy(s->label_probs + b * L, d->label_probs + i * L, L * sizeof(float));
    }
  }
  *batch = (nsr_nn_batch){B, d->seq_len, s->tokens, s->lengths};
  *t = (nsr_nn_targets){s->labels, s->probs, s->label_probs};
}

nsr_code nsr_nn_train(nsr_nn_model *m, const nsr_nn_dataset *train,
                      const nsr_nn_dataset *held_out,
                      const nsr_nn_train_opts *opts, nsr_error *err) {
  if (opts->batch_size < 1 || opts->steps < 1) {
    return nsr_fail(err, NSR_ERR_INVALID,
                    "training: batch size %d and steps %lld must be positive",
                    opts->batch_size, (long long)opts->steps);
  }
  nsr_code rc = check_dataset(m, train, "training", err);
  if (rc == NSR_OK && held_out) rc = check_dataset(m, held_out, "held-out", err);
  if (rc != NSR_OK) return rc;
  int B = train->n < opts->batch_size ? (int)train->n : opts->batch_size;
  rc = nsr_nn_reserve(m, B, true, err);
  staging stage;
  if (rc == NSR_OK) rc = staging_init(&stage, train, B, &m->cfg, err);
  if (rc != NSR_OK) return rc;

  nsr_nn_schedule schedule = opts->schedule;
  if (schedule.total_steps == 0) schedule.total_steps = opts->steps;
  nsr_rng rng;
  nsr_rng_seed(&rng, opts->seed);
  shuffle(stage.order, train->n, &rng);
  int64_t next = 0; /* position in stage.order */
  double loss_sum = 0.0;
  int64_t loss_count = 0;
  nsr_progress bar;
  if (opts->progress) nsr_progress_start(&bar, "train", (uint64_t)opts->steps);
  uint64_t start_ns = nsr_now_ns();
  char extra[96] = "";
  int64_t done = 0;

  for (int64_t step = 1; step <= opts->steps; step++) {
    if (next + B > train->n) { /* a new epoch */
      shuffle(stage.order, train->n, &rng);
      next = 0;
    }
    nsr_nn_batch batch;
    nsr_nn_targets t;
    gather(train, &m->cfg, stage.order + next, B, &stage, &batch, &t);
    next += B;
    float loss;
    rc = nsr_nn_forward_backward(m, &batch, &t, &loss, err);
    if (rc != NSR_OK) {
      nsr_error_prefix(err, "training step %lld: ", (long long)step);
      break;
    }
    if (opts->clip_norm > 0) nsr_nn_clip_grad_norm(m, opts->clip_norm);
    rc = nsr_nn_adamw_step(m, &opts->adamw, nsr_nn_schedule_lr(&schedule, step), err);
    if (rc != NSR_OK) break;
    done = step;
    loss_sum += loss;
    loss_count++;
    snprintf(extra, sizeof extra, "loss %.4f  %.0f ex/s", (double)loss,
             (double)step * B / nsr_seconds_since(start_ns));
    if (opts->progress) nsr_progress_update(&bar, (uint64_t)step, extra);

    bool eval_now = step == opts->steps ||
                    (opts->eval_every > 0 && step % opts->eval_every == 0);
    if (eval_now && held_out != NULL) {
      nsr_nn_eval ev = {.step = step, .train_loss = loss_sum / loss_count};
      rc = nsr_nn_evaluate(m, held_out, &ev, err);
      if (rc != NSR_OK) break;
      if (opts->on_eval) opts->on_eval(opts->ctx, &ev);
      loss_sum = 0.0;
      loss_count = 0;
    }
  }
  if (opts->progress) nsr_progress_finish(&bar, (uint64_t)done, extra);
  staging_free(&stage);
  return rc;
}
