/* layers.h: forward/backward pairs of the encoder's layers.
 *
 * Row-major throughout: a [n, k] tensor is n rows of k floats. Backward
 * functions ADD into parameter gradients (dw, db) and into the gradient of an
 * input that other paths also feed (the residual stream); the comment of each
 * says which outputs it overwrites instead. None allocates. */
#ifndef NSR_NN_LAYERS_H
#define NSR_NN_LAYERS_H

#include <stddef.h>
#include <stdint.h>

#include "nsr_neural.h"

#define NN_LN_EPS 1e-5f

/* x0[b,t,:] = tok_emb[tokens[b,t],:] + pe[t,:] (pe may be NULL). */
void nn_embed_forward(float *x0, const int32_t *tokens, const float *tok_emb,
                      const float *pe, int B, int T, int d);
/* dtok_emb[tokens[i],:] += dx0[i,:] for the n = B*T rows. */
void nn_embed_backward(float *dtok_emb, const float *dx0,
                       const int32_t *tokens, size_t n, int d);
/* The same for columns i0 .. i1-1 only, rows added in order (a thread's
 * share: repeated tokens never race). */
void nn_embed_backward_cols(float *dtok_emb, const float *dx0,
                            const int32_t *tokens, size_t n, int d, int i0,
                            int i1);

/* out = (in - mean) * rstd * w + b per row; stores each row's mean and
 * 1/sqrt(var + eps) for the backward pass. */
void nn_layernorm_forward(float *out, float *mean, float *rstd,
                          const float *in, const float *w, const float *b,
                          size_t n, int d);
/* din += dL/din; dw += ..; db += .. */
void nn_layernorm_backward(float *din, float *dw, float *db, const float *dout,
                           const float *in, const float *w, const float *mean,
                           const float *rstd, size_t n, int d);
/* Its two halves, for splitting across threads: din += .. for rows
 * r0 .. r1-1; dw, db += .. for columns i0 .. i1-1 over all n rows in order. */
void nn_layernorm_backward_rows(float *din, const float *dout,
                                const float *in, const float *w,
                                const float *mean, const float *rstd,
                                size_t r0, size_t r1, int d);
void nn_layernorm_backward_params(float *dw, float *db, const float *dout,
                                  const float *in, const float *mean,
                                  const float *rstd, size_t n, int d, int i0,
                                  int i1);

/* out[n, n_out] = in[n, n_in] W^T + b, with W [n_out, n_in] as nn.Linear. */
void nn_linear_forward(float *out, const float *in, const float *w,
                       const float *b, size_t n, int n_in, int n_out);
/* The same for output columns j0 .. j1-1 only (out keeps its row stride
 * n_out): the share of one thread when a product is split by columns. */
void nn_linear_forward_cols(float *out, const float *in, const float *w,
                            const float *b, size_t n, int n_in, int n_out,
                            int j0, int j1);
/* out[n, n_out] = in[:, k0 .. k1-1] W[:, k0 .. k1-1]^T, plus b when b is not
 * NULL: the part of the product that input columns k0 .. k1-1 contribute,
 * one thread's partial sum when a product is split by its inputs. Overwrites
 * out (zeros, or b, for an empty range). */
void nn_linear_forward_inputs(float *out, const float *in, const float *w,
                              const float *b, size_t n, int n_in, int n_out,
                              int k0, int k1);
/* Overwrites din (skipped when NULL); dw += dout^T in; db += column sums. */
void nn_linear_backward(float *din, float *dw, float *db, const float *dout,
                        const float *in, const float *w, size_t n, int n_in,
                        int n_out);
/* The same for columns i0 .. i1-1 of din and rows j0 .. j1-1 of dw (and
 * db[j0 .. j1-1]) only: a thread's share, with no sum across threads. */
void nn_linear_backward_share(float *din, float *dw, float *db,
                              const float *dout, const float *in,
                              const float *w, size_t n, int n_in, int n_out,
                              int i0, int i1, int j0, int j1);

/* out = x * Phi(x) with the exact normal CDF (erf). */
void nn_gelu_forward(float *out, const float *in, size_t n);
/* In place: on entry grad holds dL/dout, on return dL/din; out is what
 * nn_gelu_forward made of in. */
void nn_gelu_backward(float *grad, const float *in, const float *out,
                      size_t n);

/* Multi-head scaled dot-product attention over qkv [B,T,3d] (q | k | v, head
 * i using columns i*d/h .. (i+1)*d/h - 1 of each). Keys at positions >=
 * lengths[b] are masked (lengths may be NULL). Writes att [B,h,T,T] (softmax
 * weights) and out [B,T,d]. */
void nn_attention_forward(float *out, float *att, const float *qkv,
                          const int32_t *lengths, int B, int T, int d, int h);
/* The same for the (sequence, head) pairs p0 .. p1-1 only, pair p being
 * sequence p / h, head p % h (lengths indexed by sequence). */
void nn_attention_forward_range(float *out, float *att, const float *qkv,
                                const int32_t *lengths, int T, int d, int h,
                                size_t p0, size_t p1);
/* Overwrites dqkv [B,T,3d]; datt [B,h,T,T] is scratch. */
void nn_attention_backward(float *dqkv, float *datt, const float *dout,
                           const float *qkv, const float *att, int B, int T,
                           int d, int h);
/* The same for the (sequence, head) pairs p0 .. p1-1 only. */
void nn_attention_backward_range(float *dqkv, float *datt, const float *dout,
                                 const float *qkv, const float *att, int T,
                                 int d, int h, size_t p0, size_t p1);

/* pooled[b,:] = x[b,0,:] (cls) or the mean of x[b,t,:] over t < lengths[b]. */
void nn_pool_forward(float *pooled, const float *x, const int32_t *lengths,
                     int B, int T, int d, nsr_nn_pool pool);
/* Overwrites dx [B,T,d]. */
void nn_pool_backward(float *dx, const float *dpooled, const int32_t *lengths,
                      int B, int T, int d, nsr_nn_pool pool);

/* The head's probabilities (softmax or sigmoid of logits [B,C]) and the mean
 * loss against targets (see nsr_nn_targets). When dlogits is not NULL it
 * receives dLoss/dlogits. */
double nn_head_loss(float *probs, float *dlogits, const float *logits,
                    const nsr_nn_targets *targets, int B, int C,
                    nsr_nn_head head);
/* Only the probabilities. */
void nn_head_probs(float *probs, const float *logits, int B, int C,
                   nsr_nn_head head);

#endif
