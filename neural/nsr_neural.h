/* nsr_neural.h: the public part of neural/, a small transformer encoder that
 * is trained and run in C with every matrix product in cblas_sgemm.
 *
 * Model: x = tok_emb[token] (+ sinusoidal PE[position]); n_layers pre-LN
 * blocks x += Attn(LN1(x)); x += FFN(LN2(x)) with fused-QKV multi-head
 * attention, a key-padding mask and an exact-erf GELU FFN; final LayerNorm;
 * "cls" (position 0) or "mean" (over real positions) pooling; one linear head
 * read as a softmax over classes or as independent sigmoids, or both heads
 * at once: a softmax head over n_classes and a multi-label sigmoid head
 * ("label_head") over n_labels.
 *
 * Memory: parameters, gradients, AdamW moments and activations each live in
 * one allocation. nsr_nn_reserve() makes the activation (and, for training,
 * gradient) buffers for a largest batch; after that no call allocates. */
#ifndef NSR_NEURAL_H
#define NSR_NEURAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "nsr_core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- configuration ---------------------------------------------------- */

typedef enum nsr_nn_pos {
  NSR_NN_POS_NONE,       /* no positions: the model sees a set */
  NSR_NN_POS_SINUSOIDAL, /* PE[p,2i] = sin(p/10000^(2i/d)), PE[p,2i+1] = cos */
} nsr_nn_pos;

typedef enum nsr_nn_pool {
  NSR_NN_POOL_CLS,  /* the final-LayerNorm output at position 0 */
  NSR_NN_POOL_MEAN, /* the mean over the non-padding positions */
} nsr_nn_pool;

typedef enum nsr_nn_head {
  NSR_NN_HEAD_SOFTMAX, /* one class out of n_classes */
  NSR_NN_HEAD_SIGMOID, /* n_classes independent labels */
  NSR_NN_HEAD_BOTH,    /* softmax over n_classes and n_labels sigmoids */
} nsr_nn_head;

typedef struct nsr_nn_config {
  int vocab;     /* token ids are 0 .. vocab-1 */
  int d_model;   /* width of the residual stream */
  int n_heads;   /* must divide d_model */
  int n_layers;
  int d_ff;      /* hidden width of the FFN */
  int max_len;   /* longest input sequence */
  int n_classes; /* outputs of the head */
  nsr_nn_pos pos;
  nsr_nn_pool pool;
  nsr_nn_head head;
  int n_labels;  /* outputs of the sigmoid label head; only (and required)
                    with head NSR_NN_HEAD_BOTH, else 0 */
} nsr_nn_config;

/* Fills *cfg with "config A" of the issue: V=128, d=128, 4 heads, 2 layers,
 * d_ff=512, max_len 16, 64 classes, sinusoidal, mean pooling, softmax. */
void nsr_nn_config_default(nsr_nn_config *cfg);
/* NSR_OK, or NSR_ERR_INVALID naming the first field out of range. */
nsr_code nsr_nn_config_validate(const nsr_nn_config *cfg, nsr_error *err);
/* Parses the JSON object of the checkpoint metadata "nsr.config" (keys vocab,
 * d_model, n_heads, n_layers, d_ff, max_len, n_classes, pos, pool, head,
 * n_labels; every absent key takes its nsr_nn_config_default value, so "{}"
 * is the default model; head is "softmax", "sigmoid" or "both"; n_labels is
 * needed by and only allowed with "both") and validates it. Any other key is
 * NSR_ERR_INVALID, naming it. */
nsr_code nsr_nn_config_parse(const char *json_text, size_t len,
                             nsr_nn_config *out, nsr_error *err);
/* Text describing every key of the config, one per line ("  vocab 128  token
 * ids are ..."), with its default; NULL when out of memory. Caller frees it
 * with nsr_free. */
char *nsr_nn_config_describe(void);
/* The config as compact JSON text, or NULL when out of memory. Caller frees
 * it with nsr_free. */
char *nsr_nn_config_to_json(const nsr_nn_config *cfg);

/* ---- the model -------------------------------------------------------- */

typedef struct nsr_nn_model nsr_nn_model;

/* Makes a model for a valid config with every parameter zero (call
 * nsr_nn_init_params or load a checkpoint). Caller frees with nsr_nn_free. */
nsr_code nsr_nn_create(const nsr_nn_config *cfg, nsr_nn_model **out,
                       nsr_error *err);
void nsr_nn_free(nsr_nn_model *model);
const nsr_nn_config *nsr_nn_get_config(const nsr_nn_model *model);

/* Deterministic initialisation from `seed`: token embeddings N(0, 1), linear
 * weights N(0, 0.02) (the two output projections of each block scaled by
 * 1/sqrt(2 n_layers)), biases 0, LayerNorm gains 1. Resets AdamW state. */
void nsr_nn_init_params(nsr_nn_model *model, uint64_t seed);

/* Makes room for batches of up to max_batch sequences of up to max_len
 * positions; with `training`, also for gradients and AdamW moments. Keeps the
 * buffers it already has when they are large enough. */
nsr_code nsr_nn_reserve(nsr_nn_model *model, int max_batch, bool training,
                        nsr_error *err);

/* One parameter tensor, named as in the checkpoint ("blocks.0.attn.qkv.weight").
 * `data` points into the model's parameter buffer, `grad` into its gradient
 * buffer (NULL before a training reserve). Shapes follow nn.Linear: [out, in]. */
typedef struct nsr_nn_tensor {
  const char *name;
  int ndim;
  int64_t shape[2];
  size_t numel;
  float *data;
  float *grad;
} nsr_nn_tensor;

size_t nsr_nn_num_tensors(const nsr_nn_model *model);
/* Tensor i in checkpoint order, 0 <= i < nsr_nn_num_tensors(). */
nsr_nn_tensor nsr_nn_tensor_at(const nsr_nn_model *model, size_t i);
/* The tensor called `name`; false when there is none. */
bool nsr_nn_find_tensor(const nsr_nn_model *model, const char *name,
                        nsr_nn_tensor *out);
size_t nsr_nn_num_params(const nsr_nn_model *model);
/* The whole gradient buffer (every tensor's, in one allocation of *n =
 * nsr_nn_num_params floats), e.g. to sum it over processes in one call;
 * NULL before a training reserve. */
float *nsr_nn_gradients(nsr_nn_model *model, size_t *n);

/* Threads of the forward and backward passes and of AdamW. n_threads 1:
 * the caller's thread only, with OpenBLAS threading as the process set it.
 * n_threads k >= 2: every pass on a pool of k threads (the caller and k - 1
 * workers made once and joined by nsr_nn_free): a batch of at least k
 * sequences split among the threads, a smaller one with every product
 * split by columns. Pool passes need OpenBLAS on one thread: the first one
 * sets openblas_set_num_threads(1) for the process, and the count it found
 * comes back when the pool goes (set_threads to 1, or nsr_nn_free). 0 (the
 * default): k from the environment variable NSR_NN_THREADS, else the online
 * CPUs capped at 2, used for the passes where the pool measured faster (see
 * neural/README.md); the others run as with 1.
 * Results are bit-identical across runs with the same thread count, and
 * agree to float rounding across thread counts. The pool is made here when
 * the model's buffers exist, else by nsr_nn_reserve. */
nsr_code nsr_nn_set_threads(nsr_nn_model *model, int n_threads, nsr_error *err);
/* The threads a forward pass may use: the pool's size, or 1 without one. */
int nsr_nn_get_threads(const nsr_nn_model *model);
/* How many of the pool's workers make their products on an OpenBLAS
 * instance of their own, loaded with dlmopen when the pool starts, so that
 * the threads do not queue on OpenBLAS's one allocator lock
 * (neural/README.md); 0 without a pool. *why (may be NULL) gets NULL,
 * or why loading failed, in which case workers use the process's instance
 * with the same results. NSR_NN_PRIVATE_BLAS=0 in the environment when a
 * pool starts keeps its workers on the process's instance. */
int nsr_nn_private_blas(const nsr_nn_model *model, const char **why);

/* ---- forward and backward --------------------------------------------- */

/* A batch of token sequences, padded at the end to seq_len. */
typedef struct nsr_nn_batch {
  int batch;              /* sequences */
  int seq_len;            /* positions per row of `tokens`, <= max_len */
  const int32_t *tokens;  /* [batch * seq_len]; padding ids must be valid too */
  const int32_t *lengths; /* [batch] real positions (1..seq_len); NULL = all */
} nsr_nn_batch;

/* What the heads should output for a batch. Set exactly one of `labels` and
 * `probs` for the first head. Softmax head: `labels` (hard classes,
 * cross-entropy) or `probs` (a teacher distribution per example, loss
 * KL(teacher || model)). Sigmoid head: `probs` holds a target in [0, 1] per
 * output (binary cross-entropy, mean over all batch * n_classes outputs).
 * Head "both": the softmax head's targets as above, and `label_probs` a
 * target in [0, 1] per label output; the loss is the SUM of the softmax
 * head's mean loss and the label head's mean BCE (over batch * n_labels). */
typedef struct nsr_nn_targets {
  const int32_t *labels;    /* [batch] */
  const float *probs;       /* [batch * n_classes] */
  const float *label_probs; /* [batch * n_labels], head "both" only */
} nsr_nn_targets;

/* Runs the model. `logits` and `probs` ([batch * n_classes], either may be
 * NULL) receive the first head's outputs and its softmax or sigmoid. */
nsr_code nsr_nn_forward(nsr_nn_model *model, const nsr_nn_batch *batch,
                        float *logits, float *probs, nsr_error *err);

/* Caller-owned output buffers of nsr_nn_forward_outputs; any may be NULL. */
typedef struct nsr_nn_outputs {
  float *logits, *probs;             /* [batch * n_classes] the first head */
  float *label_logits, *label_probs; /* [batch * n_labels] head "both" only */
} nsr_nn_outputs;

/* Runs the model and copies the outputs of every head it has into *out. */
nsr_code nsr_nn_forward_outputs(nsr_nn_model *model, const nsr_nn_batch *batch,
                                const nsr_nn_outputs *out, nsr_error *err);
/* Forward pass and mean loss against `targets`, without gradients. */
nsr_code nsr_nn_loss(nsr_nn_model *model, const nsr_nn_batch *batch,
                     const nsr_nn_targets *targets, float *loss,
                     nsr_error *err);
/* Forward pass, loss, and the gradient of the loss with respect to every
 * parameter (overwriting the gradient buffer). Needs a training reserve
 * (made here if missing; that is the only allocation it may do). */
nsr_code nsr_nn_forward_backward(nsr_nn_model *model,
                                 const nsr_nn_batch *batch,
                                 const nsr_nn_targets *targets, float *loss,
                                 nsr_error *err);

/* Caller-owned buffers for nsr_nn_capture; any may be NULL. Layout, with
 * B = batch, T = seq_len, d = d_model, h = n_heads:
 *   residual   [n_layers, B, T, d]     the residual stream after each block
 *   attention  [n_layers, B, h, T, T]  softmax weights (query row, key col)
 *   ffn_hidden [n_layers, B, T, d_ff]  FFN activations after GELU
 *   pooled     [B, d]                  the pooled final-LayerNorm output */
typedef struct nsr_nn_capture {
  float *residual;
  float *attention;
  float *ffn_hidden;
  float *pooled;
} nsr_nn_capture;

/* Forward pass that also copies the activations asked for into *capture. */
nsr_code nsr_nn_capture_forward(nsr_nn_model *model, const nsr_nn_batch *batch,
                                const nsr_nn_capture *capture, nsr_error *err);

/* ---- optimisation ----------------------------------------------------- */

typedef struct nsr_nn_adamw {
  double beta1, beta2, eps, weight_decay;
} nsr_nn_adamw;

/* One AdamW step with learning rate lr, exactly as torch.optim.AdamW
 * (decoupled decay p -= lr*wd*p on every tensor, bias-corrected moments).
 * Needs gradients from nsr_nn_forward_backward. */
nsr_code nsr_nn_adamw_step(nsr_nn_model *model, const nsr_nn_adamw *opt,
                           double lr, nsr_error *err);
/* Scales the gradients so their global L2 norm is at most max_norm, as
 * torch.nn.utils.clip_grad_norm_ does; returns the norm before clipping. */
double nsr_nn_clip_grad_norm(nsr_nn_model *model, double max_norm);

/* Linear warmup from lr_max/warmup to lr_max over the first warmup steps,
 * then a cosine from lr_max down to lr_min at step total. Steps count from 1. */
typedef struct nsr_nn_schedule {
  double lr_max, lr_min;
  int64_t warmup_steps, total_steps;
} nsr_nn_schedule;
double nsr_nn_schedule_lr(const nsr_nn_schedule *schedule, int64_t step);

/* ---- training --------------------------------------------------------- */

/* n examples of seq_len positions each, with targets as in nsr_nn_targets
 * (labels [n] or probs [n * n_classes], and label_probs [n * n_labels] for
 * head "both"). The caller owns every array. */
typedef struct nsr_nn_dataset {
  int64_t n;
  int seq_len;
  const int32_t *tokens;  /* [n * seq_len] */
  const int32_t *lengths; /* [n] or NULL */
  const int32_t *labels;  /* [n] or NULL */
  const float *probs;     /* [n * n_classes] or NULL */
  const float *label_probs; /* [n * n_labels], head "both" only */
} nsr_nn_dataset;

/* The result of an evaluation. Accuracy is the share of examples whose
 * argmax matches the label (or the teacher's argmax); for a sigmoid head the
 * share of outputs on the right side of 0.5. The loss is as in
 * nsr_nn_targets (for head "both" the sum of the two heads' losses). */
typedef struct nsr_nn_eval {
  int64_t step;      /* training steps done when it was measured */
  double train_loss; /* mean training loss since the previous evaluation */
  double loss;
  double accuracy;
  double label_accuracy; /* head "both": the label head's outputs on the
                            right side of 0.5, as a share; else 0 */
} nsr_nn_eval;

typedef struct nsr_nn_train_opts {
  int batch_size;
  int64_t steps;
  nsr_nn_schedule schedule; /* total_steps 0 means `steps` */
  nsr_nn_adamw adamw;
  double clip_norm;         /* 0 = no clipping */
  uint64_t seed;            /* the order of examples */
  int64_t eval_every;       /* 0 = only at the end */
  /* Called after each evaluation on the held-out set; may be NULL. */
  void (*on_eval)(void *ctx, const nsr_nn_eval *eval);
  void *ctx;
  bool progress;            /* progress bar on stderr when it is a terminal */
} nsr_nn_train_opts;

/* batch 32, lr 1e-3 warm for 5% of the steps then cosine to 0, betas
 * (0.9, 0.999), eps 1e-8, weight decay 0.01, clip 1.0, seed 1. */
void nsr_nn_train_opts_default(nsr_nn_train_opts *opts, int64_t steps);

/* Trains on `train` for opts->steps AdamW steps of random minibatches (each
 * epoch a fresh shuffle from opts->seed). Evaluates on `held_out` (may be
 * NULL) every eval_every steps and at the end. Allocates only before the
 * first step. */
nsr_code nsr_nn_train(nsr_nn_model *model, const nsr_nn_dataset *train,
                      const nsr_nn_dataset *held_out,
                      const nsr_nn_train_opts *opts, nsr_error *err);
/* Mean loss and accuracy of the model on `data`. */
nsr_code nsr_nn_evaluate(nsr_nn_model *model, const nsr_nn_dataset *data,
                         nsr_nn_eval *out, nsr_error *err);

/* ---- checkpoints (safetensors) ---------------------------------------- */

/* Writes the parameters and the config (metadata "nsr.config") as a
 * safetensors file, atomically: a temporary file in the same directory,
 * fsync, rename, fsync of the directory. */
nsr_code nsr_nn_save(const nsr_nn_model *model, const char *path,
                     nsr_error *err);
/* Reads a checkpoint written by nsr_nn_save (or by any safetensors writer
 * with the same names, shapes and F32 data). Every offset, dtype and shape is
 * checked; a corrupt or truncated file gives NSR_ERR_FORMAT naming the
 * problem. Caller frees *out with nsr_nn_free. */
nsr_code nsr_nn_load(const char *path, nsr_nn_model **out, nsr_error *err);
/* The same from bytes in memory; `what` names them in messages. */
nsr_code nsr_nn_load_buffer(const void *bytes, size_t size, const char *what,
                            nsr_nn_model **out, nsr_error *err);

/* Checkpoints that carry more than the model (a guide's space, ...):
 * nsr_nn_save with n_extra further metadata pairs extra[2i] = extra[2i+1]
 * (at most 8; "nsr.config" and "format" are reserved: NSR_ERR_INVALID), and
 * nsr_nn_load that also returns a copy of the metadata string under `key`
 * in *value (NULL when absent; the caller frees it with nsr_free). */
nsr_code nsr_nn_save_meta(const nsr_nn_model *model, const char *path, const char *const *extra,
                          size_t n_extra, nsr_error *err);
nsr_code nsr_nn_load_meta(const char *path, const char *key, nsr_nn_model **out, char **value,
                          nsr_error *err);
nsr_code nsr_nn_load_buffer_meta(const void *bytes, size_t size, const char *what,
                                 const char *key, nsr_nn_model **out, char **value,
                                 nsr_error *err);

#ifdef __cplusplus
}
#endif

#endif /* NSR_NEURAL_H */
