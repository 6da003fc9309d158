/* encoder.c: the whole model's forward and backward passes, composed from
 * the layers in layers.c, and activation capture. */
#include <assert.h>
#include <cblas.h>
#include <string.h>

#include "layers.h"
#include "model.h"
#include "threads.h"
#include "vectorise.h"

NN_HOT static void add_inplace(float *y, const float *x, size_t n) {
  for (size_t i = 0; i < n; i++) y[i] += x[i];
}

NN_HOT static void add_into(float *y, const float *x, const float *z, size_t n) {
  for (size_t i = 0; i < n; i++) y[i] = x[i] + z[i];
}

/* Columns j0 .. j1-1 of y [n, ld] += the same columns of x. */
static void add_cols(float *y, const float *x, size_t n, int ld, int j0, int j1) {
  for (size_t r = 0; r < n; r++) {
    add_inplace(y + r * ld + j0, x + r * ld + j0, (size_t)(j1 - j0));
  }
}

/* ---- passes split by columns ------------------------------------------- */

/* A pass of fewer sequences than threads (a single query, say) splits each
 * block as tensor-parallel models do: thread t takes a contiguous share of
 * the attention heads (their q, k and v columns, their attention, and their
 * part of the output projection, a product over its heads' columns only)
 * and a share of the FFN's hidden units (their fc1 columns and GELU, and
 * their part of fc2). Each writes its partial projections to its own
 * buffers (m->column_partials); after a barrier every thread adds all the
 * partials, in thread order, to its own copy of the residual stream, so the
 * copies are identical. Threads 1.. work in activations of their own
 * (m->column_acts) and copy their columns into m->acts only when the
 * caller reads them (training, capture): where two threads wrote
 * neighbouring columns of one tensor, the cores kept taking its cache lines
 * from each other. Two barriers a block, and between them a thread reads
 * nothing another wrote. On this machine, whose two virtual CPUs can sit
 * far apart (a round trip of about 440 ns between them), a first version
 * that split every product by output columns, with five barriers a block
 * and shared activations, ran batch 1 of config A no faster than one
 * thread did (tests/bench/RESULTS.md). */

/* Columns j0 .. j1-1 of dst [n, ld] = the same columns of src. */
static void copy_cols(float *dst, const float *src, size_t n, int ld, int j0,
                      int j1) {
  for (size_t r = 0; r < n; r++) {
    memcpy(dst + r * ld + j0, src + r * ld + j0, (size_t)(j1 - j0) * sizeof(float));
  }
}

/* Where a thread writes partial product `which` of a sublayer whose output
 * is y: with one thread, into y itself. */
static float *partial_out(const nsr_nn_model *m, float *y, int which, int tid,
                          int nt) {
  return nt == 1 ? y : m->column_partials[2 * tid + which];
}

/* y [len] = x + every thread's partial `which`, added in thread order (with
 * one thread, y already holds the only one). Needs the barrier after the
 * partials. */
static void add_partials(const nsr_nn_model *m, float *y, const float *x,
                         int which, size_t len, int nt) {
  if (nt == 1) {
    add_inplace(y, x, len);
    return;
  }
  add_into(y, x, m->column_partials[which], len);
  for (int t = 1; t < nt; t++) add_inplace(y, m->column_partials[2 * t + which], len);
}

/* A thread's shares of one block: heads h0 .. h1-1 (columns c0 .. c1-1 of
 * q, k, v and the heads' outputs) and hidden units f0 .. f1-1. */
typedef struct block_share {
  size_t h0, h1, f0, f1;
  int c0, c1;
} block_share;

static block_share share_of(const nsr_nn_config *c, int tid, int nt) {
  block_share s;
  nn_split((size_t)c->n_heads, tid, nt, &s.h0, &s.h1);
  nn_split((size_t)c->d_ff, tid, nt, &s.f0, &s.f1);
  int hs = c->d_model / c->n_heads;
  s.c0 = (int)s.h0 * hs;
  s.c1 = (int)s.h1 * hs;
  return s;
}

/* Copies a thread's share of a block's activations from its own (mine)
 * into the model's (shared), where the backward pass and capture read them. */
static void publish_share(const nsr_nn_config *c, const block_share *s,
                          const nn_block_acts *mine, nn_block_acts *shared,
                          int B, int T) {
  size_t n = (size_t)B * T, tt = (size_t)T * T;
  int d = c->d_model, h = c->n_heads;
  for (int part = 0; part < 3; part++) {
    copy_cols(shared->qkv, mine->qkv, n, 3 * d, part * d + s->c0, part * d + s->c1);
  }
  copy_cols(shared->atty, mine->atty, n, d, s->c0, s->c1);
  for (int b = 0; b < B; b++) {
    size_t at = ((size_t)b * h + s->h0) * tt;
    memcpy(shared->att + at, mine->att + at, (s->h1 - s->h0) * tt * sizeof(float));
  }
  copy_cols(shared->fc1, mine->fc1, n, c->d_ff, (int)s->f0, (int)s->f1);
  copy_cols(shared->gelu, mine->gelu, n, c->d_ff, (int)s->f0, (int)s->f1);
}

/* One pre-LN block from the residual stream x into ba (the thread's
 * activations: the model's for thread 0), thread tid of nt's share as above
 * (nt 1: all of it). x may be ba->out (a thread's own activations reuse one
 * block): it is read only before ba->out is written. With `shared` not
 * NULL, a thread other than 0 then copies its share into it. */
static void block_forward(nsr_nn_model *m, int l, const float *x,
                          nn_block_acts *ba, nn_block_acts *shared,
                          const nsr_nn_batch *batch, int tid, int nt) {
  const nsr_nn_config *c = &m->cfg;
  int B = batch->batch, T = batch->seq_len, d = c->d_model, ff = c->d_ff;
  int h = c->n_heads;
  size_t n = (size_t)B * T;
  block_share s = share_of(c, tid, nt);
  nn_pool *pool = nt > 1 ? m->pool : NULL;
#define W(slot) nn_at(m, m->params, nn_block_tensor(l, slot))
  nn_layernorm_forward(ba->ln1, ba->ln1_mean, ba->ln1_rstd, x, W(NN_LN1_W),
                       W(NN_LN1_B), n, d);
  /* q, k, v of this thread's heads: one product when it has them all */
  int parts = s.c1 - s.c0 == d ? 1 : 3, width = parts == 1 ? 3 * d : s.c1 - s.c0;
  for (int part = 0; part < parts; part++) {
    nn_linear_forward_cols(ba->qkv, ba->ln1, W(NN_QKV_W), W(NN_QKV_B), n, d,
                           3 * d, part * d + s.c0, part * d + s.c0 + width);
  }
  for (int b = 0; b < B; b++) {
    nn_attention_forward_range(ba->atty, ba->att, ba->qkv, batch->lengths, T,
                               d, h, (size_t)b * h + s.h0, (size_t)b * h + s.h1);
  }
  nn_linear_forward_inputs(partial_out(m, ba->res_att, 0, tid, nt), ba->atty,
                           W(NN_PROJ_W), tid == 0 ? W(NN_PROJ_B) : NULL, n, d,
                           d, s.c0, s.c1);
  nn_pool_barrier(pool);
  add_partials(m, ba->res_att, x, 0, n * d, nt);
  nn_layernorm_forward(ba->ln2, ba->ln2_mean, ba->ln2_rstd, ba->res_att,
                       W(NN_LN2_W), W(NN_LN2_B), n, d);
  nn_linear_forward_cols(ba->fc1, ba->ln2, W(NN_FC1_W), W(NN_FC1_B), n, d, ff,
                         (int)s.f0, (int)s.f1);
  for (size_t r = 0; r < n; r++) {
    nn_gelu_forward(ba->gelu + r * ff + s.f0, ba->fc1 + r * ff + s.f0, s.f1 - s.f0);
  }
  nn_linear_forward_inputs(partial_out(m, ba->out, 1, tid, nt), ba->gelu,
                           W(NN_FC2_W), tid == 0 ? W(NN_FC2_B) : NULL, n, ff,
                           d, (int)s.f0, (int)s.f1);
  nn_pool_barrier(pool);
  add_partials(m, ba->out, ba->res_att, 1, n * d, nt);
  if (shared != NULL && tid > 0) publish_share(c, &s, ba, shared, B, T);
#undef W
}

/* The whole forward pass of `batch` into the activations `a` (thread 0's:
 * the model's, or a view of them; the others' own), thread tid of nt's
 * share (nt 1: all of it), up to the last block; thread 0 goes on to the
 * logits. With `shared` not NULL (the model's activations), threads 1..
 * copy their shares of every block there. */
static void forward_part(nsr_nn_model *m, nn_acts *a, nn_acts *shared,
                         const nsr_nn_batch *batch, int tid, int nt) {
  const nsr_nn_config *c = &m->cfg;
  int B = batch->batch, T = batch->seq_len, d = c->d_model;
  size_t n = (size_t)B * T;
  float *P = m->params;
  assert((nt == 1 || B < nt) && "split by columns: fewer sequences than "
                                "threads, as m->column_acts holds");
  nn_embed_forward(a->x0, batch->tokens, nn_at(m, P, NN_TOK_EMB), m->pe, B, T, d);
  const float *x = a->x0;
  for (int l = 0; l < c->n_layers; l++) {
    block_forward(m, l, x, &a->blocks[l], shared ? &shared->blocks[l] : NULL,
                  batch, tid, nt);
    x = a->blocks[l].out;
  }
  if (tid > 0) return;
  nn_layernorm_forward(a->lnf, a->lnf_mean, a->lnf_rstd, x,
                       nn_at(m, P, nn_lnf_w(m)), nn_at(m, P, nn_lnf_b(m)), n, d);
  nn_pool_forward(a->pooled, a->lnf, batch->lengths, B, T, d, c->pool);
  nn_linear_forward(a->logits, a->pooled, nn_at(m, P, nn_head_w(m)),
                    nn_at(m, P, nn_head_b(m)), (size_t)B, d, c->n_classes);
  if (c->n_labels > 0) {
    nn_linear_forward(a->label_logits, a->pooled, nn_at(m, P, nn_label_w(m)),
                      nn_at(m, P, nn_label_b(m)), (size_t)B, d, c->n_labels);
  }
}

/* ---- passes split by sequences ----------------------------------------- */

/* A pass of a batch of at least as many sequences as threads splits the
 * batch: each thread runs the whole pass alone (as with no pool) on its
 * contiguous share of the sequences, in its own views of the model's
 * buffers, with no barrier until the backward pass sums the threads'
 * parameter gradients (fewer sequences: the split by columns above).
 * Splitting by sequences shares no activation between threads: each packs
 * only its own rows for sgemm and keeps them in its own cache. */

/* What thread tid works on in a pass split by sequences. */
typedef struct pass_part {
  nsr_nn_batch batch; /* its sequences */
  nn_acts acts;       /* views of m->acts at its first sequence */
  nn_act_grads g;     /* the same for m->act_grads (training) */
  float *grads;       /* its parameter gradients */
} pass_part;

/* Moves a tensor pointer on by `skip` sequences. */
static void skip_sequences(void *ctx, float **tensor, size_t per_sequence) {
  *tensor += *(const size_t *)ctx * per_sequence;
}

/* Points v at the activations of sequences s0.. of a batch of sequences of
 * length T held in a (blocks: room for v's blocks). */
static void view_acts(const nsr_nn_config *c, const nn_acts *a, size_t s0,
                      int T, nn_acts *v, nn_block_acts *blocks) {
  *v = *a;
  memcpy(blocks, a->blocks, (size_t)c->n_layers * sizeof *blocks);
  v->blocks = blocks;
  nn_walk_acts(c, (size_t)T, v, skip_sequences, &s0);
}

/* The same for the activation gradients. */
static void view_act_grads(const nsr_nn_config *c, const nn_act_grads *g,
                           size_t s0, int T, nn_act_grads *v) {
  *v = *g;
  nn_walk_act_grads(c, (size_t)T, v, skip_sequences, &s0);
}

/* Thread tid of nt's part of the batch. */
static void make_part(nsr_nn_model *m, const nsr_nn_batch *batch, int tid,
                      int nt, bool training, pass_part *p) {
  size_t lo, hi;
  nn_split((size_t)batch->batch, tid, nt, &lo, &hi);
  int T = batch->seq_len;
  p->batch = (nsr_nn_batch){(int)(hi - lo), T, batch->tokens + lo * T,
                            batch->lengths ? batch->lengths + lo : NULL};
  view_acts(&m->cfg, &m->acts, lo, T, &p->acts,
            m->part_blocks + (size_t)tid * m->cfg.n_layers);
  if (training) {
    view_act_grads(&m->cfg, &m->act_grads, lo, T, &p->g);
    p->grads = tid == 0 ? m->grads
                        : m->thread_grads + (size_t)(tid - 1) * m->n_params;
  }
}

/* One pass (forward or backward) shared by the threads of a run (see
 * threads.h). keep_acts: the forward pass leaves every activation in
 * m->acts (for a backward pass or capture), not only those up to the
 * logits. */
typedef struct pass_job {
  nsr_nn_model *m;
  const nsr_nn_batch *batch;
  bool keep_acts;
} pass_job;

static void forward_by_columns(void *ctx, int tid, int nt) {
  const pass_job *job = ctx;
  nsr_nn_model *m = job->m;
  nn_acts *mine = tid == 0 ? &m->acts : &m->column_acts[tid];
  forward_part(m, mine, job->keep_acts ? &m->acts : NULL, job->batch, tid, nt);
}

static void forward_by_sequences(void *ctx, int tid, int nt) {
  const pass_job *job = ctx;
  pass_part part;
  make_part(job->m, job->batch, tid, nt, false, &part);
  forward_part(job->m, &part.acts, NULL, &part.batch, 0, 1);
}

/* Runs a pass as nn_choose_split says: by_columns on the caller alone
 * with OpenBLAS threading as the process has it, or by_sequences or
 * by_columns on the pool with OpenBLAS on one thread, the pool's threads
 * using the cores. Every openblas_set_num_threads call wakes OpenBLAS's
 * idle server threads, which then spin in sched_yield for a while beside
 * the pool's (thousands of yields a second, measured with perf stat), so
 * the count is set once, and restored when the pool goes (drop_pool). */
static void run_pass(nsr_nn_model *m, nn_pool_fn by_columns,
                     nn_pool_fn by_sequences, pass_job *job) {
  nn_pass_split split = nn_choose_split(m, job->batch->batch, job->batch->seq_len);
  if (split == NN_ALONE) {
    by_columns(job, 0, 1);
    return;
  }
  int blas_threads = openblas_get_num_threads();
  if (blas_threads != 1) {
    if (m->blas_threads_before_pool == 0) m->blas_threads_before_pool = blas_threads;
    openblas_set_num_threads(1);
  }
  nn_pool_run(m->pool, split == NN_BY_SEQUENCES ? by_sequences : by_columns, job);
}

/* This thread's share of a linear layer's backward pass: columns of din
 * (n_in) and rows of dw and db (n_out). */
static void linear_back_share(float *din, float *dw, float *db,
                              const float *dout, const float *in,
                              const float *w, size_t n, int n_in, int n_out,
                              int tid, int nt) {
  size_t i0, i1, j0, j1;
  nn_split((size_t)n_in, tid, nt, &i0, &i1);
  nn_split((size_t)n_out, tid, nt, &j0, &j1);
  nn_linear_backward_share(din, dw, db, dout, in, w, n, n_in, n_out, (int)i0,
                           (int)i1, (int)j0, (int)j1);
}

/* This thread's share of a LayerNorm's backward pass (din += ..): rows of
 * din, columns of dw and db. */
static void layernorm_back_share(float *din, float *dw, float *db,
                                 const float *dout, const float *in,
                                 const float *w, const float *mean,
                                 const float *rstd, size_t n, int d, int tid,
                                 int nt) {
  size_t lo, hi;
  nn_split(n, tid, nt, &lo, &hi);
  nn_layernorm_backward_rows(din, dout, in, w, mean, rstd, lo, hi, d);
  nn_split((size_t)d, tid, nt, &lo, &hi);
  nn_layernorm_backward_params(dw, db, dout, in, mean, rstd, n, d, (int)lo,
                               (int)hi);
}

/* One block's backward pass, thread tid's share: on entry g->res holds
 * dL/d(block output), on return dL/d(block input) x. */
static void block_backward(nsr_nn_model *m, int l, const float *x,
                           const nn_block_acts *ba, const nn_act_grads *g,
                           float *G, const nsr_nn_batch *batch, int tid,
                           int nt) {
  const nsr_nn_config *c = &m->cfg;
  int B = batch->batch, T = batch->seq_len, d = c->d_model, ff = c->d_ff;
  size_t n = (size_t)B * T, lo, hi;
  nn_pool *pool = nt > 1 ? m->pool : NULL;
#define W(slot) nn_at(m, m->params, nn_block_tensor(l, slot))
#define DW(slot) nn_at(m, G, nn_block_tensor(l, slot))
  /* out = res_att + fc2(gelu(fc1(ln2(res_att)))); the GELU's backward
   * needs only this thread's columns of the hidden gradient. */
  linear_back_share(g->hidden, DW(NN_FC2_W), DW(NN_FC2_B), g->res, ba->gelu,
                    W(NN_FC2_W), n, ff, d, tid, nt);
  nn_split((size_t)ff, tid, nt, &lo, &hi);
  for (size_t r = 0; r < n; r++) {
    nn_gelu_backward(g->hidden + r * ff + lo, ba->fc1 + r * ff + lo,
                     ba->gelu + r * ff + lo, hi - lo);
  }
  nn_pool_barrier(pool);
  linear_back_share(g->ln, DW(NN_FC1_W), DW(NN_FC1_B), g->hidden, ba->ln2,
                    W(NN_FC1_W), n, d, ff, tid, nt);
  nn_pool_barrier(pool);
  layernorm_back_share(g->res, DW(NN_LN2_W), DW(NN_LN2_B), g->ln, ba->res_att,
                       W(NN_LN2_W), ba->ln2_mean, ba->ln2_rstd, n, d, tid, nt);
  nn_pool_barrier(pool);
  /* res_att = x + proj(attention(qkv(ln1(x)))) */
  linear_back_share(g->atty, DW(NN_PROJ_W), DW(NN_PROJ_B), g->res, ba->atty,
                    W(NN_PROJ_W), n, d, d, tid, nt);
  nn_pool_barrier(pool);
  nn_split((size_t)B * c->n_heads, tid, nt, &lo, &hi);
  nn_attention_backward_range(g->qkv, g->att, g->atty, ba->qkv, ba->att, T, d,
                              c->n_heads, lo, hi);
  nn_pool_barrier(pool);
  linear_back_share(g->ln, DW(NN_QKV_W), DW(NN_QKV_B), g->qkv, ba->ln1,
                    W(NN_QKV_W), n, d, 3 * d, tid, nt);
  nn_pool_barrier(pool);
  layernorm_back_share(g->res, DW(NN_LN1_W), DW(NN_LN1_B), g->ln, x,
                       W(NN_LN1_W), ba->ln1_mean, ba->ln1_rstd, n, d, tid, nt);
  nn_pool_barrier(pool);
#undef W
#undef DW
}

/* The backward pass, thread tid of nt's share (nt 1: all of it):
 * back-propagates g->logits (set by the loss) through the batch the forward
 * pass just ran into the activations `a`, overwriting the parameter
 * gradients G. Each gradient value is computed by one thread, summing over
 * rows in row order. */
static void backward_part(nsr_nn_model *m, const nn_acts *a,
                          const nn_act_grads *g, float *G,
                          const nsr_nn_batch *batch, int tid, int nt) {
  const nsr_nn_config *c = &m->cfg;
  int B = batch->batch, T = batch->seq_len, d = c->d_model;
  size_t n = (size_t)B * T, lo, hi;
  float *P = m->params;
  nn_pool *pool = nt > 1 ? m->pool : NULL;

  nn_split(m->n_params, tid, nt, &lo, &hi);
  memset(G + lo, 0, (hi - lo) * sizeof(float));
  nn_pool_barrier(pool);
  linear_back_share(g->pooled, nn_at(m, G, nn_head_w(m)),
                    nn_at(m, G, nn_head_b(m)), g->logits, a->pooled,
                    nn_at(m, P, nn_head_w(m)), (size_t)B, d, c->n_classes, tid,
                    nt);
  if (c->n_labels > 0) { /* the pooled vector feeds both heads */
    linear_back_share(g->label_pooled, nn_at(m, G, nn_label_w(m)),
                      nn_at(m, G, nn_label_b(m)), g->label_logits, a->pooled,
                      nn_at(m, P, nn_label_w(m)), (size_t)B, d, c->n_labels,
                      tid, nt);
    nn_split((size_t)d, tid, nt, &lo, &hi); /* the din columns just written */
    add_cols(g->pooled, g->label_pooled, (size_t)B, d, (int)lo, (int)hi);
  }
  nn_pool_barrier(pool);
  nn_split((size_t)B, tid, nt, &lo, &hi);
  nn_pool_backward(g->ln + lo * T * d, g->pooled + lo * d,
                   batch->lengths ? batch->lengths + lo : NULL, (int)(hi - lo),
                   T, d, c->pool);
  memset(g->res + lo * T * d, 0, (hi - lo) * T * d * sizeof(float));
  nn_pool_barrier(pool);
  const float *last = a->blocks[c->n_layers - 1].out;
  layernorm_back_share(g->res, nn_at(m, G, nn_lnf_w(m)),
                       nn_at(m, G, nn_lnf_b(m)), g->ln, last,
                       nn_at(m, P, nn_lnf_w(m)), a->lnf_mean, a->lnf_rstd, n,
                       d, tid, nt);
  nn_pool_barrier(pool);
  for (int l = c->n_layers - 1; l >= 0; l--) {
    block_backward(m, l, l > 0 ? a->blocks[l - 1].out : a->x0, &a->blocks[l],
                   g, G, batch, tid, nt);
  }
  nn_split((size_t)d, tid, nt, &lo, &hi);
  nn_embed_backward_cols(nn_at(m, G, NN_TOK_EMB), g->res, batch->tokens, n, d,
                         (int)lo, (int)hi);
}

static void backward_by_columns(void *ctx, int tid, int nt) {
  const pass_job *job = ctx;
  nsr_nn_model *m = job->m;
  backward_part(m, &m->acts, &m->act_grads, m->grads, job->batch, tid, nt);
}

/* Each thread's gradients for its sequences, then the sum over threads in
 * thread order, each thread summing a share of the parameters. */
static void backward_by_sequences(void *ctx, int tid, int nt) {
  const pass_job *job = ctx;
  nsr_nn_model *m = job->m;
  pass_part part;
  make_part(m, job->batch, tid, nt, true, &part);
  backward_part(m, &part.acts, &part.g, part.grads, &part.batch, 0, 1);
  nn_pool_barrier(m->pool);
  size_t lo, hi;
  nn_split(m->n_params, tid, nt, &lo, &hi);
  for (int t = 1; t < nt; t++) {
    add_inplace(m->grads + lo, m->thread_grads + (size_t)(t - 1) * m->n_params + lo,
                hi - lo);
  }
}

/* The forward pass of a checked batch that fits the reserved buffers, up
 * to the logits in m->acts: with keep_acts, every activation, else (an
 * inference) at least the pooled vectors and logits. */
static void encoder_forward(nsr_nn_model *m, const nsr_nn_batch *batch,
                            bool keep_acts) {
  pass_job job = {m, batch, keep_acts};
  run_pass(m, forward_by_columns, forward_by_sequences, &job);
}

/* The backward pass after encoder_forward and the loss. */
static void encoder_backward(nsr_nn_model *m, const nsr_nn_batch *batch) {
  pass_job job = {m, batch, true};
  run_pass(m, backward_by_columns, backward_by_sequences, &job);
}

/* Checks that n values are probabilities; `what` names them in errors. */
static nsr_code check_probs(const float *p, int B, int C, const char *what,
                            nsr_error *err) {
  for (size_t i = 0; i < (size_t)B * C; i++) {
    if (!(p[i] >= 0.0f && p[i] <= 1.0f)) {
      return nsr_fail(err, NSR_ERR_RANGE,
                      "targets: example %zu, %s %zu has probability %g, not in [0, 1]",
                      i / C, what, i % C, (double)p[i]);
    }
  }
  return NSR_OK;
}

/* Checks that targets fit the heads (see nsr_nn_targets). */
static nsr_code check_targets(const nsr_nn_model *m, int B,
                              const nsr_nn_targets *t, nsr_error *err) {
  int C = m->cfg.n_classes;
  if ((t->labels == NULL) == (t->probs == NULL)) {
    return nsr_fail(err, NSR_ERR_INVALID,
                    "targets: give either class labels or probabilities");
  }
  if ((m->cfg.n_labels > 0) != (t->label_probs != NULL)) {
    return nsr_fail(err, NSR_ERR_INVALID,
                    m->cfg.n_labels > 0
                        ? "targets: a model with a label head needs label targets"
                        : "targets: label targets given, but the model has no label head");
  }
  nsr_code rc = NSR_OK;
  if (t->label_probs != NULL) {
    rc = check_probs(t->label_probs, B, m->cfg.n_labels, "label", err);
  }
  if (rc != NSR_OK || t->labels == NULL) {
    return rc != NSR_OK ? rc : check_probs(t->probs, B, C, "output", err);
  }
  if (m->cfg.head == NSR_NN_HEAD_SIGMOID) {
    return nsr_fail(err, NSR_ERR_INVALID,
                    "targets: a sigmoid head needs a probability per output, not labels");
  }
  for (int b = 0; b < B; b++) {
    if (t->labels[b] < 0 || t->labels[b] >= C) {
      return nsr_fail(err, NSR_ERR_RANGE,
                      "targets: example %d has label %d, not in 0..%d", b,
                      t->labels[b], C - 1);
    }
  }
  return NSR_OK;
}

/* The probabilities of every head from the logits of encoder_forward. */
static void heads_probs(nsr_nn_model *m, int B) {
  const nsr_nn_config *c = &m->cfg;
  nn_head_probs(m->acts.probs, m->acts.logits, B, c->n_classes, nn_first_head(c));
  if (c->n_labels > 0) {
    nn_head_probs(m->acts.label_probs, m->acts.label_logits, B, c->n_labels,
                  NSR_NN_HEAD_SIGMOID);
  }
}

/* The loss of every head after encoder_forward (their sum, see
 * nsr_nn_targets), filling the probabilities and, when `training`, the
 * gradients of the loss with respect to the logits. */
static double heads_loss(nsr_nn_model *m, int B, const nsr_nn_targets *t,
                         bool training) {
  const nsr_nn_config *c = &m->cfg;
  nn_act_grads *g = &m->act_grads;
  double loss = nn_head_loss(m->acts.probs, training ? g->logits : NULL,
                             m->acts.logits, t, B, c->n_classes, nn_first_head(c));
  if (c->n_labels > 0) {
    nsr_nn_targets labels = {.probs = t->label_probs};
    loss += nn_head_loss(m->acts.label_probs, training ? g->label_logits : NULL,
                         m->acts.label_logits, &labels, B, c->n_labels,
                         NSR_NN_HEAD_SIGMOID);
  }
  return loss;
}

/* Checks the batch and makes room for it (with gradients when training). */
static nsr_code prepare(nsr_nn_model *m, const nsr_nn_batch *batch,
                        bool training, nsr_error *err) {
  nsr_code rc = nn_check_batch(m, batch, err);
  if (rc == NSR_OK) rc = nsr_nn_reserve(m, batch->batch, training, err);
  return rc;
}

/* nsr_nn_forward_outputs, and with keep_acts every activation left in
 * m->acts (see encoder_forward). */
static nsr_code forward_outputs(nsr_nn_model *m, const nsr_nn_batch *batch,
                                const nsr_nn_outputs *out, bool keep_acts,
                                nsr_error *err) {
  nsr_code rc = prepare(m, batch, false, err);
  if (rc != NSR_OK) return rc;
  encoder_forward(m, batch, keep_acts);
  heads_probs(m, batch->batch);
  size_t C = (size_t)batch->batch * m->cfg.n_classes;
  size_t L = (size_t)batch->batch * m->cfg.n_labels;
  struct {
    float *dst;
    const float *src;
    size_t n;
  } copies[] = {
      {out->logits, m->acts.logits, C},
      {out->probs, m->acts.probs, C},
      {out->label_logits, m->acts.label_logits, L},
      {out->label_probs, m->acts.label_probs, L},
  };
  for (size_t i = 0; i < sizeof copies / sizeof copies[0]; i++) {
    if (copies[i].dst && copies[i].n) {
      memcpy(copies[i].dst, copies[i].src, copies[i].n * sizeof(float));
    }
  }
  return NSR_OK;
}

nsr_code nsr_nn_forward_outputs(nsr_nn_model *m, const nsr_nn_batch *batch,
                                const nsr_nn_outputs *out, nsr_error *err) {
  return forward_outputs(m, batch, out, false, err);
}

nsr_code nsr_nn_forward(nsr_nn_model *m, const nsr_nn_batch *batch,
                        float *logits, float *probs, nsr_error *err) {
  nsr_nn_outputs out = {.logits = logits, .probs = probs};
  return nsr_nn_forward_outputs(m, batch, &out, err);
}

nsr_code nsr_nn_loss(nsr_nn_model *m, const nsr_nn_batch *batch,
                     const nsr_nn_targets *targets, float *loss,
                     nsr_error *err) {
  nsr_code rc = prepare(m, batch, false, err);
  if (rc == NSR_OK) rc = check_targets(m, batch->batch, targets, err);
  if (rc != NSR_OK) return rc;
  encoder_forward(m, batch, false);
  *loss = (float)heads_loss(m, batch->batch, targets, false);
  return NSR_OK;
}

nsr_code nsr_nn_forward_backward(nsr_nn_model *m, const nsr_nn_batch *batch,
                                 const nsr_nn_targets *targets, float *loss,
                                 nsr_error *err) {
  nsr_code rc = prepare(m, batch, true, err);
  if (rc == NSR_OK) rc = check_targets(m, batch->batch, targets, err);
  if (rc != NSR_OK) return rc;
  encoder_forward(m, batch, true);
  *loss = (float)heads_loss(m, batch->batch, targets, true);
  encoder_backward(m, batch);
  return NSR_OK;
}

nsr_code nsr_nn_capture_forward(nsr_nn_model *m, const nsr_nn_batch *batch,
                                const nsr_nn_capture *capture, nsr_error *err) {
  nsr_code rc = forward_outputs(m, batch, &(nsr_nn_outputs){0}, true, err);
  if (rc != NSR_OK) return rc;
  const nsr_nn_config *c = &m->cfg;
  size_t n = (size_t)batch->batch * batch->seq_len;
  size_t att = (size_t)batch->batch * c->n_heads * batch->seq_len * batch->seq_len;
  for (int l = 0; l < c->n_layers; l++) {
    const nn_block_acts *ba = &m->acts.blocks[l];
    if (capture->residual) {
      memcpy(capture->residual + l * n * c->d_model, ba->out,
             n * c->d_model * sizeof(float));
    }
    if (capture->attention) {
      memcpy(capture->attention + l * att, ba->att, att * sizeof(float));
    }
    if (capture->ffn_hidden) {
      memcpy(capture->ffn_hidden + l * n * c->d_ff, ba->gelu,
             n * c->d_ff * sizeof(float));
    }
  }
  if (capture->pooled) {
    memcpy(capture->pooled, m->acts.pooled,
           (size_t)batch->batch * c->d_model * sizeof(float));
  }
  return NSR_OK;
}
