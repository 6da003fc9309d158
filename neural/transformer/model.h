/* model.h: the encoder's internal state, shared by the neural/ modules.
 *
 * Parameters are described by a table of tensors in checkpoint order; the
 * same offsets index the parameter, gradient and AdamW buffers. Activations
 * are carved from one buffer sized for (max_batch, max_len). */
#ifndef NSR_NN_MODEL_H
#define NSR_NN_MODEL_H

#include "nsr_neural.h"
#include "threads.h"

#define NN_TENSOR_NAME_MAX 48

/* The tensors of one block, in checkpoint order. */
enum nn_block_slot {
  NN_LN1_W, NN_LN1_B, NN_QKV_W, NN_QKV_B, NN_PROJ_W, NN_PROJ_B,
  NN_LN2_W, NN_LN2_B, NN_FC1_W, NN_FC1_B, NN_FC2_W, NN_FC2_B,
  NN_BLOCK_SLOTS
};

typedef struct nn_tensor_desc {
  char name[NN_TENSOR_NAME_MAX];
  int ndim;
  int64_t shape[2];
  size_t numel;
  size_t offset; /* in floats, into every parameter-shaped buffer */
} nn_tensor_desc;

/* Activations of one block for a batch of n = B*T rows. */
typedef struct nn_block_acts {
  float *ln1, *ln1_mean, *ln1_rstd; /* [n,d], [n], [n] */
  float *qkv;                       /* [n,3d]: q | k | v */
  float *att;                       /* [B,h,T,T] softmax weights */
  float *atty;                      /* [n,d] heads' outputs, before proj */
  float *res_att;                   /* [n,d] x + proj(atty) */
  float *ln2, *ln2_mean, *ln2_rstd; /* [n,d], [n], [n] */
  float *fc1;                       /* [n,d_ff] before GELU */
  float *gelu;                      /* [n,d_ff] */
  float *out;                       /* [n,d] res_att + fc2(gelu) */
} nn_block_acts;

typedef struct nn_acts {
  float *x0;                        /* [n,d] embeddings (+ positions) */
  nn_block_acts *blocks;            /* [n_layers] */
  float *lnf, *lnf_mean, *lnf_rstd; /* [n,d], [n], [n] */
  float *pooled;                    /* [B,d] */
  float *logits, *probs;            /* [B,C] */
  float *label_logits, *label_probs; /* [B,L] head "both" */
} nn_acts;

/* Gradients of the loss with respect to activations, reused layer by layer. */
typedef struct nn_act_grads {
  float *res;    /* [n,d] the residual stream */
  float *ln;     /* [n,d] a LayerNorm output */
  float *atty;   /* [n,d] */
  float *qkv;    /* [n,3d] */
  float *att;    /* [B,h,T,T] */
  float *hidden; /* [n,d_ff] GELU output, then fc1 output */
  float *pooled; /* [B,d] */
  float *logits; /* [B,C] */
  float *label_logits; /* [B,L] head "both" */
  float *label_pooled; /* [B,d] the label head's share of dL/dpooled */
} nn_act_grads;

/* Calls fn(ctx, &tensor, per_sequence) on every tensor pointer of a (or
 * g), in layout order, with the floats that one sequence of T positions
 * takes of it. Every tensor is [sequences, ...]: the buffers are laid out
 * with it (model.c) and a thread's view of some sequences moves each
 * pointer on by whole sequences (encoder.c). */
typedef void (*nn_tensor_fn)(void *ctx, float **tensor, size_t per_sequence);
void nn_walk_acts(const nsr_nn_config *c, size_t T, nn_acts *a,
                  nn_tensor_fn fn, void *ctx);
void nn_walk_act_grads(const nsr_nn_config *c, size_t T, nn_act_grads *g,
                       nn_tensor_fn fn, void *ctx);

struct nsr_nn_model {
  nsr_nn_config cfg;
  size_t n_tensors;
  nn_tensor_desc *tensors;
  size_t n_params;
  float *params;
  float *pe; /* [max_len, d] sinusoidal table, or NULL */

  /* Sized for batches of up to act_batch sequences of max_len positions. */
  int act_batch;
  float *act_buffer;
  nn_acts acts;

  /* Training state, present after a training reserve. */
  int grad_batch;
  float *grads;      /* like params */
  float *adam_m;     /* like params */
  float *adam_v;     /* like params */
  int64_t adam_step; /* AdamW steps taken */
  float *act_grad_buffer;
  nn_act_grads act_grads;

  /* Threads (see nsr_nn_set_threads): as asked (0 auto, 1 none, k >= 2
   * always k), and the pool, made by nsr_nn_reserve when the count the
   * request resolves to is 2 or more. */
  int threads_asked;
  nn_pool *pool;
  /* For passes split by sequences (encoder.c), made with the pool: every
   * thread's views of the blocks' activations ([threads][n_layers]), and,
   * once the model trains, the parameter gradients of threads 1.. (one
   * buffer of threads - 1 gradients; thread 0 writes m->grads). */
  nn_block_acts *part_blocks;
  float *thread_grads;
  /* For passes split by columns (encoder.c), laid out in column_buffer
   * when the pool is made: every thread's two partial products
   * (column_partials[2 t + k], [rows, d], k 0 the attention projection's,
   * 1 fc2's), and for threads 1.. activations of their own
   * (column_acts[t]) for the n_threads - 1 sequences such a pass has at
   * most, with one block's tensors that every layer reuses (its blocks,
   * from column_blocks, all point to the same memory). */
  float *column_buffer;
  float **column_partials;
  nn_acts *column_acts;
  nn_block_acts *column_blocks;
  /* OpenBLAS's thread count before a pass on the pool set it to 1, restored
   * when the pool goes; 0 when the pool did not change it. */
  int blas_threads_before_pool;
};

/* Threads of a pass write neighbouring columns, rows or sequences of the
 * same tensors. Where two threads' writes share a 64-byte cache line, the
 * line moves between their cores at every write (false sharing), which cost
 * a pass split by columns more than the split saved: so every buffer that
 * threads share starts on a line (nn_line_start of an allocation
 * NN_LINE_FLOATS larger), as does every tensor carved from one, and each
 * thread's part of the column buffer. */
#define NN_LINE_FLOATS 16
static inline float *nn_line_start(float *allocation) {
  uintptr_t at = (uintptr_t)allocation, line = NN_LINE_FLOATS * sizeof(float);
  return (float *)((at + line - 1) & ~(line - 1));
}

/* How a pass runs (encoder.c): on the caller alone, or on the pool with
 * the batch's sequences split among the threads, or (for fewer sequences
 * than threads) with each block split by attention heads and hidden
 * units. */
typedef enum nn_pass_split { NN_ALONE, NN_BY_SEQUENCES, NN_BY_COLUMNS } nn_pass_split;
/* The choice for a batch (the rule is in model.c, next to the measurements
 * behind it): the pool always when the model was asked for 2 or more
 * threads, else when it pays. */
nn_pass_split nn_choose_split(const nsr_nn_model *m, int batch, int seq_len);

/* Index into model->tensors of a block's tensor, and of the others. */
static inline size_t nn_block_tensor(int layer, enum nn_block_slot slot) {
  return 1 + (size_t)layer * NN_BLOCK_SLOTS + (size_t)slot;
}
#define NN_TOK_EMB 0
static inline size_t nn_lnf_w(const nsr_nn_model *m) {
  return 1 + (size_t)m->cfg.n_layers * NN_BLOCK_SLOTS;
}
static inline size_t nn_lnf_b(const nsr_nn_model *m) { return nn_lnf_w(m) + 1; }
static inline size_t nn_head_w(const nsr_nn_model *m) { return nn_lnf_w(m) + 2; }
static inline size_t nn_head_b(const nsr_nn_model *m) { return nn_lnf_w(m) + 3; }
/* The label head's tensors follow, when the config has one (n_labels > 0). */
static inline size_t nn_label_w(const nsr_nn_model *m) { return nn_lnf_w(m) + 4; }
static inline size_t nn_label_b(const nsr_nn_model *m) { return nn_lnf_w(m) + 5; }

/* How the first head reads its logits: head "both" has a softmax first head. */
static inline nsr_nn_head nn_first_head(const nsr_nn_config *c) {
  return c->head == NSR_NN_HEAD_SIGMOID ? NSR_NN_HEAD_SIGMOID : NSR_NN_HEAD_SOFTMAX;
}

/* Where tensor `index` starts in a parameter-shaped buffer. */
static inline float *nn_at(const nsr_nn_model *m, float *base, size_t index) {
  return base + m->tensors[index].offset;
}

/* nsr_nn_create in two steps, so that a checkpoint loader can compare the
 * tensor table with a file before allocating: a model with its tensor table
 * but no parameter buffer (free it with nsr_nn_free), then the buffer. */
nsr_code nn_create_table(const nsr_nn_config *cfg, nsr_nn_model **out,
                         nsr_error *err);
nsr_code nn_alloc_params(nsr_nn_model *m, nsr_error *err);

/* Checks a batch against the config. */
nsr_code nn_check_batch(const nsr_nn_model *m, const nsr_nn_batch *batch,
                        nsr_error *err);

#endif
