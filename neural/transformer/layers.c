/* layers.c: forward/backward pairs of the encoder's layers (see layers.h). */
#include "layers.h"
#include "blas.h"
#include "vectorise.h"

#include <math.h>
#include <string.h>

/* ---- embedding -------------------------------------------------------- */

NN_HOT void nn_embed_forward(float *x0, const int32_t *tokens, const float *tok_emb,
                      const float *pe, int B, int T, int d) {
  for (int b = 0; b < B; b++) {
    for (int t = 0; t < T; t++) {
      float *out = x0 + ((size_t)b * T + t) * d;
      const float *emb = tok_emb + (size_t)tokens[(size_t)b * T + t] * d;
      if (pe == NULL) {
        memcpy(out, emb, (size_t)d * sizeof(float));
      } else {
        const float *pos = pe + (size_t)t * d;
        for (int i = 0; i < d; i++) out[i] = emb[i] + pos[i];
      }
    }
  }
}

NN_HOT void nn_embed_backward_cols(float *dtok_emb, const float *dx0,
                            const int32_t *tokens, size_t n, int d, int i0,
                            int i1) {
  for (size_t r = 0; r < n; r++) {
    float *g = dtok_emb + (size_t)tokens[r] * d;
    const float *src = dx0 + r * d;
    for (int i = i0; i < i1; i++) g[i] += src[i];
  }
}

void nn_embed_backward(float *dtok_emb, const float *dx0,
                       const int32_t *tokens, size_t n, int d) {
  nn_embed_backward_cols(dtok_emb, dx0, tokens, n, d, 0, d);
}

/* ---- LayerNorm -------------------------------------------------------- */

/* Row sums below run in NN_LANES interleaved partial sums (lane k adds
 * elements k, k + NN_LANES, ...; then the lanes pairwise, then the tail):
 * a fixed order, so every run gives the same bits, and one that vectorises,
 * where a single running sum is a chain of dependent scalar adds. */
#define NN_LANES 8

static NN_HOT_INLINE float lanes_total(const float acc[NN_LANES]) {
  return ((acc[0] + acc[1]) + (acc[2] + acc[3])) +
         ((acc[4] + acc[5]) + (acc[6] + acc[7]));
}

/* The sum of x[0..d-1]. */
static NN_HOT_INLINE float row_sum(const float *x, int d) {
  float acc[NN_LANES] = {0};
  int body = d - d % NN_LANES;
  for (int i = 0; i < body; i += NN_LANES) {
    for (int k = 0; k < NN_LANES; k++) acc[k] += x[i + k];
  }
  float total = lanes_total(acc);
  for (int i = body; i < d; i++) total += x[i];
  return total;
}

/* The sum of (x[i] - m)^2. */
static NN_HOT_INLINE float row_sq_dev(const float *x, float m, int d) {
  float acc[NN_LANES] = {0};
  int body = d - d % NN_LANES;
  for (int i = 0; i < body; i += NN_LANES) {
    for (int k = 0; k < NN_LANES; k++) acc[k] += (x[i + k] - m) * (x[i + k] - m);
  }
  float total = lanes_total(acc);
  for (int i = body; i < d; i++) total += (x[i] - m) * (x[i] - m);
  return total;
}

NN_HOT void nn_layernorm_forward(float *out, float *mean, float *rstd,
                          const float *in, const float *w, const float *b,
                          size_t n, int d) {
  for (size_t r = 0; r < n; r++) {
    const float *x = in + r * d;
    float *y = out + r * d;
    float m = row_sum(x, d) / (float)d;
    /* two passes: no cancellation for large means */
    float var = row_sq_dev(x, m, d) / (float)d;
    float s = 1.0f / sqrtf(var + NN_LN_EPS);
    for (int i = 0; i < d; i++) y[i] = (x[i] - m) * s * w[i] + b[i];
    mean[r] = m;
    rstd[r] = s;
  }
}

NN_HOT void nn_layernorm_backward_rows(float *din, const float *dout,
                                const float *in, const float *w,
                                const float *mean, const float *rstd,
                                size_t r0, size_t r1, int d) {
  int body = d - d % NN_LANES;
  for (size_t r = r0; r < r1; r++) {
    const float *x = in + r * d, *dy = dout + r * d;
    float *dx = din + r * d;
    float m = mean[r], s = rstd[r];
    /* With xhat = (x - m) s and g = dy * w:
     * dx = s (g - mean(g) - xhat mean(g xhat)). */
    float g_acc[NN_LANES] = {0}, gx_acc[NN_LANES] = {0};
    for (int i = 0; i < body; i += NN_LANES) {
      for (int k = 0; k < NN_LANES; k++) {
        float g = dy[i + k] * w[i + k];
        g_acc[k] += g;
        gx_acc[k] += g * ((x[i + k] - m) * s);
      }
    }
    float g_mean = lanes_total(g_acc), gx_mean = lanes_total(gx_acc);
    for (int i = body; i < d; i++) {
      float g = dy[i] * w[i];
      g_mean += g;
      gx_mean += g * ((x[i] - m) * s);
    }
    g_mean /= (float)d;
    gx_mean /= (float)d;
    for (int i = 0; i < d; i++) {
      float xhat = (x[i] - m) * s;
      dx[i] += s * (dy[i] * w[i] - g_mean - xhat * gx_mean);
    }
  }
}

NN_HOT void nn_layernorm_backward_params(float *dw, float *db, const float *dout,
                                  const float *in, const float *mean,
                                  const float *rstd, size_t n, int d, int i0,
                                  int i1) {
  for (size_t r = 0; r < n; r++) {
    const float *x = in + r * d, *dy = dout + r * d;
    float m = mean[r], s = rstd[r];
    for (int i = i0; i < i1; i++) {
      dw[i] += dy[i] * ((x[i] - m) * s);
      db[i] += dy[i];
    }
  }
}

void nn_layernorm_backward(float *din, float *dw, float *db, const float *dout,
                           const float *in, const float *w, const float *mean,
                           const float *rstd, size_t n, int d) {
  nn_layernorm_backward_rows(din, dout, in, w, mean, rstd, 0, n, d);
  nn_layernorm_backward_params(dw, db, dout, in, mean, rstd, n, d, 0, d);
}

/* ---- linear ----------------------------------------------------------- */

/* Output columns j0 .. j1-1 of out [n, n_out] = in[:, k0 .. k1-1]
 * W[j0 .. j1-1, k0 .. k1-1]^T, plus b[j0 .. j1-1] when b is not NULL: the
 * block of a linear layer that a thread computes, whether the product is
 * split by its outputs or by its inputs. */
static void linear_forward_block(float *out, const float *in, const float *w,
                                 const float *b, size_t n, int n_in, int n_out,
                                 int j0, int j1, int k0, int k1) {
  int cols = j1 - j0, ks = k1 - k0;
  if (cols <= 0) return;
  /* Start from the bias and accumulate onto it (beta 1), or overwrite (beta
   * 0); an empty input range leaves the bias or zeros. */
  float beta = b != NULL ? 1.0f : 0.0f;
  if (b != NULL || ks <= 0) {
    for (size_t r = 0; r < n; r++) {
      float *row = out + r * n_out + j0;
      if (b != NULL) {
        memcpy(row, b + j0, (size_t)cols * sizeof(float));
      } else {
        memset(row, 0, (size_t)cols * sizeof(float));
      }
    }
  }
  if (ks <= 0) return;
  const float *wb = w + (size_t)j0 * n_in + k0;
  /* One row (a pooled single query through the head): sgemm would pack all
   * of w first, which costs more than the product itself. */
  if (n == 1) {
    nn_sgemv(CblasNoTrans, cols, ks, 1.0f, wb, n_in, in + k0, 1, beta, out + j0,
             1);
    return;
  }
  nn_sgemm(CblasNoTrans, CblasTrans, (int)n, cols, ks, 1.0f, in + k0, n_in, wb,
           n_in, beta, out + j0, n_out);
}

void nn_linear_forward_cols(float *out, const float *in, const float *w,
                            const float *b, size_t n, int n_in, int n_out,
                            int j0, int j1) {
  linear_forward_block(out, in, w, b, n, n_in, n_out, j0, j1, 0, n_in);
}

void nn_linear_forward(float *out, const float *in, const float *w,
                       const float *b, size_t n, int n_in, int n_out) {
  nn_linear_forward_cols(out, in, w, b, n, n_in, n_out, 0, n_out);
}

void nn_linear_forward_inputs(float *out, const float *in, const float *w,
                              const float *b, size_t n, int n_in, int n_out,
                              int k0, int k1) {
  linear_forward_block(out, in, w, b, n, n_in, n_out, 0, n_out, k0, k1);
}

NN_HOT void nn_linear_backward_share(float *din, float *dw, float *db,
                              const float *dout, const float *in,
                              const float *w, size_t n, int n_in, int n_out,
                              int i0, int i1, int j0, int j1) {
  if (din != NULL && i1 > i0) {
    nn_sgemm(CblasNoTrans, CblasNoTrans, (int)n, i1 - i0, n_out, 1.0f, dout,
             n_out, w + i0, n_in, 0.0f, din + i0, n_in);
  }
  if (j1 <= j0) return;
  nn_sgemm(CblasTrans, CblasNoTrans, j1 - j0, n_in, (int)n, 1.0f, dout + j0,
           n_out, in, n_in, 1.0f, dw + (size_t)j0 * n_in, n_in);
  for (size_t r = 0; r < n; r++) {
    const float *g = dout + r * n_out;
    for (int j = j0; j < j1; j++) db[j] += g[j];
  }
}

void nn_linear_backward(float *din, float *dw, float *db, const float *dout,
                        const float *in, const float *w, size_t n, int n_in,
                        int n_out) {
  nn_linear_backward_share(din, dw, db, dout, in, w, n, n_in, n_out, 0, n_in,
                           0, n_out);
}

/* ---- a vectorisable exp ---------------------------------------------- */

#define NN_LOG2E 1.44269504088896340736f

/* e^x for x <= 0 (arguments below -87 give about 1e-38, as good as 0), in
 * plain arithmetic so that loops calling it vectorise, unlike calls of
 * expf: x = n ln2 + r with |r| <= ln2/2, e^r by its Taylor series to r^7
 * (truncation below 1e-8 relative), 2^n from the exponent bits. Relative
 * error about 1e-7, as expf. */
static NN_HOT_INLINE float exp_nonpos(float x) {
  /* Floor at -87 by the bit patterns: a float compare may trap, which keeps
   * GCC from vectorising the select. As unsigned integers, negative floats
   * order by magnitude above every positive one. */
  float floor_value = -87.0f;
  uint32_t xb, fb;
  memcpy(&xb, &x, sizeof xb);
  memcpy(&fb, &floor_value, sizeof fb);
  xb = xb > fb ? fb : xb;
  memcpy(&x, &xb, sizeof x);
  /* Adding 1.5 * 2^23 rounds to an integer in the float unit itself; that
   * integer k (-126..0) is then the low bits of the sum's pattern. */
  float shifted = x * NN_LOG2E + 12582912.0f;
  float n = shifted - 12582912.0f;
  float r = (x - n * 0.693145751953125f) - n * 1.428606765330187e-06f;
  float p = 1.0f + r * (1.0f + r * (0.5f + r * (1.0f / 6 + r * (1.0f / 24 +
            r * (1.0f / 120 + r * (1.0f / 720 + r * (1.0f / 5040)))))));
  /* 2^k as the float with exponent field k + 127, built in unsigned
   * arithmetic from the pattern, never by converting n: a NaN x (from an
   * overflowed activation) then gives some defined pattern, and p, NaN,
   * carries the NaN on, where (int32_t)n and a shift of its negative value
   * were undefined. */
  uint32_t sb;
  memcpy(&sb, &shifted, sizeof sb);
  uint32_t bits = (sb - 0x4B400000u + 127u) << 23;
  float scale;
  memcpy(&scale, &bits, sizeof scale);
  return p * scale;
}

/* ---- GELU ------------------------------------------------------------- */

#define NN_INV_SQRT2 0.70710678118654752440f
#define NN_INV_SQRT_2PI 0.39894228040143267794f

/* Phi(x), the normal CDF, with z = |x| / sqrt2: the upper tail
 * Q = erfc(z) / 2 by the Chebyshev fit of erfc in Numerical Recipes (erfcc:
 * relative error below 1.2e-7 for every argument, so the tail stays accurate
 * where GELU of a negative input is tiny), then 1 - Q or Q by the sign. */
static NN_HOT_INLINE float normal_cdf(float x, float z) {
  float t = 1.0f / (1.0f + 0.5f * z);
  float poly = -1.26551223f + t * (1.00002368f + t * (0.37409196f +
               t * (0.09678418f + t * (-0.18628806f + t * (0.27886807f +
               t * (-1.13520398f + t * (1.48851587f + t * (-0.82215223f +
               t * 0.17087277f))))))));
  float q = 0.5f * t * exp_nonpos(poly - z * z);
  /* 1 - q for x >= 0, else q, without a branch. */
  return q + (float)(x >= 0.0f) * (1.0f - 2.0f * q);
}

NN_HOT void nn_gelu_forward(float *out, const float *in, size_t n) {
  for (size_t i = 0; i < n; i++) {
    out[i] = in[i] * normal_cdf(in[i], fabsf(in[i]) * NN_INV_SQRT2);
  }
}

/* Inputs this close to 0 take Phi = 1/2 rather than out / in. */
#define NN_GELU_TINY 1e-30f

NN_HOT void nn_gelu_backward(float *grad, const float *in, const float *out,
                             size_t n) {
  for (size_t i = 0; i < n; i++) {
    float x = in[i], z = fabsf(x) * NN_INV_SQRT2;
    float pdf = NN_INV_SQRT_2PI * exp_nonpos(-z * z); /* z^2 = x^2 / 2 */
    /* Phi(x) = out / x: the forward pass's erfc fit again for one
     * division (about 2e-7 relative error added). Selects in arithmetic,
     * so that the loop vectorises: a tiny x divides 1 instead and takes
     * Phi = 1/2. */
    float tiny = (float)(fabsf(x) < NN_GELU_TINY);
    float cdf = out[i] / (x + tiny * (1.0f - x));
    cdf += tiny * (0.5f - cdf);
    grad[i] *= cdf + x * pdf;
  }
}

/* ---- attention -------------------------------------------------------- */

/* Softmax of each of the T rows of scores [T,T] in place over the first
 * `len` columns; the masked columns get weight 0. */
NN_HOT static void masked_softmax_rows(float *scores, int T, int len) {
  for (int i = 0; i < T; i++) {
    float *row = scores + (size_t)i * T;
    float max = row[0];
    for (int j = 1; j < len; j++) max = row[j] > max ? row[j] : max;
    for (int j = 0; j < len; j++) row[j] = exp_nonpos(row[j] - max);
    float sum = 0.0f; /* a separate loop, so the exps vectorise */
    for (int j = 0; j < len; j++) sum += row[j];
    float inv = 1.0f / sum;
    for (int j = 0; j < len; j++) row[j] *= inv;
    for (int j = len; j < T; j++) row[j] = 0.0f;
  }
}

void nn_attention_forward_range(float *out, float *att, const float *qkv,
                                const int32_t *lengths, int T, int d, int h,
                                size_t p0, size_t p1) {
  int hs = d / h, ld = 3 * d;
  float scale = 1.0f / sqrtf((float)hs);
  for (size_t pair = p0; pair < p1; pair++) {
    size_t b = pair / (size_t)h;
    int head = (int)(pair % (size_t)h);
    int len = lengths ? lengths[b] : T;
    const float *q = qkv + b * T * ld + (size_t)head * hs;
    const float *k = q + d, *v = q + 2 * d;
    float *a = att + pair * T * T;
    /* a = scale * q k^T, then softmax over the unmasked keys */
    nn_sgemm(CblasNoTrans, CblasTrans, T, T, hs, scale, q, ld, k, ld, 0.0f, a,
             T);
    masked_softmax_rows(a, T, len);
    /* this head's slice of out = a v */
    nn_sgemm(CblasNoTrans, CblasNoTrans, T, hs, T, 1.0f, a, T, v, ld, 0.0f,
             out + b * T * d + (size_t)head * hs, d);
  }
}

void nn_attention_forward(float *out, float *att, const float *qkv,
                          const int32_t *lengths, int B, int T, int d, int h) {
  nn_attention_forward_range(out, att, qkv, lengths, T, d, h, 0,
                             (size_t)B * h);
}

NN_HOT void nn_attention_backward_range(float *dqkv, float *datt, const float *dout,
                                 const float *qkv, const float *att, int T,
                                 int d, int h, size_t p0, size_t p1) {
  int hs = d / h, ld = 3 * d;
  float scale = 1.0f / sqrtf((float)hs);
  for (size_t pair = p0; pair < p1; pair++) {
    size_t b = pair / (size_t)h;
    int head = (int)(pair % (size_t)h);
    size_t col = b * T * ld + (size_t)head * hs;
    const float *q = qkv + col, *k = q + d, *v = q + 2 * d;
    float *dq = dqkv + col, *dk = dq + d, *dv = dq + 2 * d;
    const float *dy = dout + b * T * d + (size_t)head * hs;
    const float *a = att + pair * T * T;
    float *da = datt + pair * T * T;
    /* out = a v:  da = dy v^T,  dv = a^T dy */
    nn_sgemm(CblasNoTrans, CblasTrans, T, T, hs, 1.0f, dy, d, v, ld, 0.0f, da,
             T);
    nn_sgemm(CblasTrans, CblasNoTrans, T, hs, T, 1.0f, a, T, dy, d, 0.0f, dv,
             ld);
    /* softmax: dscore_ij = a_ij (da_ij - sum_k a_ik da_ik); masked keys
     * have a_ij = 0 and so get no gradient. */
    for (int i = 0; i < T; i++) {
      const float *ar = a + (size_t)i * T;
      float *dr = da + (size_t)i * T;
      float dot = 0.0f;
      for (int j = 0; j < T; j++) dot += ar[j] * dr[j];
      for (int j = 0; j < T; j++) dr[j] = ar[j] * (dr[j] - dot);
    }
    /* score = scale q k^T:  dq = scale ds k,  dk = scale ds^T q */
    nn_sgemm(CblasNoTrans, CblasNoTrans, T, hs, T, scale, da, T, k, ld, 0.0f,
             dq, ld);
    nn_sgemm(CblasTrans, CblasNoTrans, T, hs, T, scale, da, T, q, ld, 0.0f, dk,
             ld);
  }
}

void nn_attention_backward(float *dqkv, float *datt, const float *dout,
                           const float *qkv, const float *att, int B, int T,
                           int d, int h) {
  nn_attention_backward_range(dqkv, datt, dout, qkv, att, T, d, h, 0,
                              (size_t)B * h);
}

/* ---- pooling ---------------------------------------------------------- */

NN_HOT void nn_pool_forward(float *pooled, const float *x, const int32_t *lengths,
                     int B, int T, int d, nsr_nn_pool pool) {
  for (int b = 0; b < B; b++) {
    const float *xb = x + (size_t)b * T * d;
    float *p = pooled + (size_t)b * d;
    if (pool == NSR_NN_POOL_CLS) {
      memcpy(p, xb, (size_t)d * sizeof(float));
      continue;
    }
    int len = lengths ? lengths[b] : T;
    memset(p, 0, (size_t)d * sizeof(float));
    for (int t = 0; t < len; t++) {
      for (int i = 0; i < d; i++) p[i] += xb[(size_t)t * d + i];
    }
    float inv = 1.0f / (float)len;
    for (int i = 0; i < d; i++) p[i] *= inv;
  }
}

NN_HOT void nn_pool_backward(float *dx, const float *dpooled, const int32_t *lengths,
                      int B, int T, int d, nsr_nn_pool pool) {
  memset(dx, 0, (size_t)B * T * d * sizeof(float));
  for (int b = 0; b < B; b++) {
    float *dxb = dx + (size_t)b * T * d;
    const float *g = dpooled + (size_t)b * d;
    if (pool == NSR_NN_POOL_CLS) {
      memcpy(dxb, g, (size_t)d * sizeof(float));
      continue;
    }
    int len = lengths ? lengths[b] : T;
    float inv = 1.0f / (float)len;
    for (int t = 0; t < len; t++) {
      for (int i = 0; i < d; i++) dxb[(size_t)t * d + i] = g[i] * inv;
    }
  }
}

/* ---- head and loss ---------------------------------------------------- */

/* Softmax of one row of C logits into probs; returns log(sum exp(z)). */
NN_HOT static double softmax_row(float *probs, const float *z, int C) {
  float max = z[0];
  for (int c = 1; c < C; c++) max = z[c] > max ? z[c] : max;
  /* One exp per class (kept, then scaled): with thousands of classes the
   * exps are a large part of a single query's forward pass, so they are
   * the vectorisable float ones, summed in double by four partial sums. */
  for (int c = 0; c < C; c++) probs[c] = exp_nonpos(z[c] - max);
  double part[4] = {0.0, 0.0, 0.0, 0.0};
  int c4 = C & ~3;
  for (int c = 0; c < c4; c += 4) {
    for (int k = 0; k < 4; k++) part[k] += probs[c + k];
  }
  for (int c = c4; c < C; c++) part[0] += probs[c];
  double sum = (part[0] + part[1]) + (part[2] + part[3]);
  float inv = (float)(1.0 / sum);
  for (int c = 0; c < C; c++) probs[c] *= inv;
  return max + log(sum);
}

static float sigmoid(float z) { return 1.0f / (1.0f + expf(-z)); }

void nn_head_probs(float *probs, const float *logits, int B, int C,
                   nsr_nn_head head) {
  for (int b = 0; b < B; b++) {
    const float *z = logits + (size_t)b * C;
    float *p = probs + (size_t)b * C;
    if (head == NSR_NN_HEAD_SOFTMAX) {
      softmax_row(p, z, C);
    } else {
      for (int c = 0; c < C; c++) p[c] = sigmoid(z[c]);
    }
  }
}

double nn_head_loss(float *probs, float *dlogits, const float *logits,
                    const nsr_nn_targets *targets, int B, int C,
                    nsr_nn_head head) {
  double loss = 0.0;
  for (int b = 0; b < B; b++) {
    const float *z = logits + (size_t)b * C;
    float *p = probs + (size_t)b * C;
    float *dz = dlogits ? dlogits + (size_t)b * C : NULL;
    const float *t = targets->probs ? targets->probs + (size_t)b * C : NULL;
    if (head == NSR_NN_HEAD_SIGMOID) {
      /* BCE with logits, stable form: max(z,0) - z y + log(1 + e^-|z|) */
      for (int c = 0; c < C; c++) {
        double zc = z[c];
        // NOLINTNEXTLINE(clang-analyzer-core.NullDereference): check_targets requires probs for a sigmoid head
        loss += fmax(zc, 0.0) - zc * t[c] + log1p(exp(-fabs(zc)));
        p[c] = sigmoid(z[c]);
        if (dz) dz[c] = (p[c] - t[c]) / ((float)B * C);
      }
      continue;
    }
    double lse = softmax_row(p, z, C);
    if (t == NULL) {
      int y = targets->labels[b];
      loss += lse - z[y];
      for (int c = 0; dz && c < C; c++) dz[c] = (p[c] - (c == y)) / (float)B;
    } else {
      /* KL(t || p) = sum t (log t - log p); its gradient p sum(t) - t is the
       * cross-entropy's, the teacher's entropy being constant. */
      double t_sum = 0.0;
      for (int c = 0; c < C; c++) {
        if (t[c] > 0.0f) loss += t[c] * (log((double)t[c]) - (z[c] - lse));
        t_sum += t[c];
      }
      for (int c = 0; dz && c < C; c++) {
        dz[c] = (float)((p[c] * t_sum - t[c]) / B);
      }
    }
  }
  return head == NSR_NN_HEAD_SIGMOID ? loss / ((double)B * C) : loss / B;
}
