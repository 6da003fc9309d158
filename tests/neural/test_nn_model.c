/* test_nn_model.c: the whole encoder: gradient checks of every parameter,
 * set-input permutation invariance, padding, activation capture, allocation
 * discipline and input validation. */
#include "nn_test_util.h"

enum { B = 3, T = 5 };
static const int32_t tokens[B * T] = {1, 4, 6, 2, 3, 5, 0, 3, 1, 1, 2, 2, 6, 0, 4};
static const int32_t lengths[B] = {5, 3, 4};

static nsr_nn_model *make_model(nsr_nn_config cfg, uint64_t seed) {
  nsr_nn_model *m;
  nsr_error err;
  if (nsr_nn_create(&cfg, &m, &err) != NSR_OK) fail_msg("%s", err.message);
  nsr_nn_init_params(m, seed);
  /* Larger than the default init, so every path carries real gradient. */
  nsr_rng rng;
  nsr_rng_seed(&rng, seed + 100);
  for (size_t i = 0; i < nsr_nn_num_tensors(m); i++) {
    nsr_nn_tensor t = nsr_nn_tensor_at(m, i);
    for (size_t k = 0; k < t.numel; k++) t.data[k] += (float)(0.3 * nsr_rng_normal(&rng));
  }
  return m;
}

static float loss_of(nsr_nn_model *m, const nsr_nn_batch *batch,
                     const nsr_nn_targets *t) {
  float loss;
  nsr_error err;
  if (nsr_nn_loss(m, batch, t, &loss, &err) != NSR_OK) fail_msg("%s", err.message);
  return loss;
}

/* Central differences of the whole model's loss for every element of every
 * parameter tensor, eps 1e-2, tolerance 1e-4 + 1e-2 |analytic|. */
static void gradcheck_model(nsr_nn_config cfg, const nsr_nn_targets *t) {
  nsr_nn_model *m = make_model(cfg, 11);
  nsr_nn_batch batch = {B, T, tokens, lengths};
  nsr_error err;
  float loss;
  assert_int_equal(nsr_nn_forward_backward(m, &batch, t, &loss, &err), NSR_OK);
  assert_float_equal(loss, loss_of(m, &batch, t), 1e-6);
  const float eps = 1e-2f;
  for (size_t i = 0; i < nsr_nn_num_tensors(m); i++) {
    nsr_nn_tensor p = nsr_nn_tensor_at(m, i);
    for (size_t k = 0; k < p.numel; k++) {
      float saved = p.data[k];
      p.data[k] = saved + eps;
      double plus = loss_of(m, &batch, t);
      p.data[k] = saved - eps;
      double minus = loss_of(m, &batch, t);
      p.data[k] = saved;
      double numeric = (plus - minus) / (2.0 * eps), ana = p.grad[k];
      if (!(fabs(numeric - ana) <= 1e-4 + 1e-2 * fabs(ana))) {
        fail_msg("%s[%zu]: analytic %.7g, numeric %.7g", p.name, k, ana, numeric);
      }
    }
  }
  nsr_nn_free(m);
}

static void test_gradcheck_softmax_labels(void **state) {
  (void)state;
  int32_t labels[B] = {2, 0, 1};
  nsr_nn_targets t = {labels, NULL, NULL};
  gradcheck_model(nn_tiny_config(NSR_NN_POS_SINUSOIDAL, NSR_NN_POOL_MEAN,
                                 NSR_NN_HEAD_SOFTMAX), &t);
}

static void test_gradcheck_softmax_teacher(void **state) {
  (void)state;
  float teacher[B * 3] = {0.7f, 0.2f, 0.1f, 0.0f, 0.5f, 0.5f, 0.3f, 0.3f, 0.4f};
  nsr_nn_targets t = {NULL, teacher, NULL};
  gradcheck_model(nn_tiny_config(NSR_NN_POS_SINUSOIDAL, NSR_NN_POOL_CLS,
                                 NSR_NN_HEAD_SOFTMAX), &t);
}

static void test_gradcheck_sigmoid(void **state) {
  (void)state;
  float multi[B * 3] = {1, 0, 1, 0, 0, 1, 1, 1, 0};
  nsr_nn_targets t = {NULL, multi, NULL};
  gradcheck_model(nn_tiny_config(NSR_NN_POS_NONE, NSR_NN_POOL_MEAN,
                                 NSR_NN_HEAD_SIGMOID), &t);
}

/* Both heads: the loss is the softmax head's plus the label head's, and
 * every parameter (label_head's too) gets its gradient. */
static void test_gradcheck_both_heads(void **state) {
  (void)state;
  nsr_nn_config cfg = nn_tiny_config(NSR_NN_POS_SINUSOIDAL, NSR_NN_POOL_MEAN,
                                     NSR_NN_HEAD_BOTH);
  cfg.n_labels = 2;
  int32_t labels[B] = {1, 0, 2};
  float multi[B * 2] = {1, 0, 0.25f, 1, 0, 0};
  nsr_nn_targets t = {labels, NULL, multi};
  gradcheck_model(cfg, &t);
  float teacher[B * 3] = {0.7f, 0.2f, 0.1f, 0.0f, 0.5f, 0.5f, 0.3f, 0.3f, 0.4f};
  t = (nsr_nn_targets){NULL, teacher, multi};
  cfg.pool = NSR_NN_POOL_CLS;
  gradcheck_model(cfg, &t);
}

/* The two heads read the same pooled vector: each head's outputs equal a
 * one-head model's with the same encoder and that head's weights, and the
 * loss is the sum of the two one-head losses. */
static void test_both_heads_are_the_two_single_heads(void **state) {
  (void)state;
  nsr_nn_config cfg = nn_tiny_config(NSR_NN_POS_SINUSOIDAL, NSR_NN_POOL_MEAN,
                                     NSR_NN_HEAD_BOTH);
  cfg.n_labels = 2;
  nsr_nn_model *both = make_model(cfg, 5);
  nsr_nn_config soft_cfg = cfg, sig_cfg = cfg;
  soft_cfg.head = NSR_NN_HEAD_SOFTMAX;
  soft_cfg.n_labels = 0;
  sig_cfg.head = NSR_NN_HEAD_SIGMOID;
  sig_cfg.n_classes = 2;
  sig_cfg.n_labels = 0;
  nsr_nn_model *soft = make_model(soft_cfg, 1), *sig = make_model(sig_cfg, 2);
  /* Copy the shared encoder and each head's weights by name. */
  for (size_t i = 0; i < nsr_nn_num_tensors(both); i++) {
    nsr_nn_tensor src = nsr_nn_tensor_at(both, i), dst;
    if (nsr_nn_find_tensor(soft, src.name, &dst)) memcpy(dst.data, src.data, src.numel * 4);
    const char *name = strncmp(src.name, "label_head.", 11) == 0 ? src.name + 6 : src.name;
    if (strncmp(src.name, "head.", 5) != 0 && nsr_nn_find_tensor(sig, name, &dst)) {
      memcpy(dst.data, src.data, src.numel * 4);
    }
  }
  nsr_nn_batch batch = {B, T, tokens, lengths};
  float logits[B * 3], probs[B * 3], label_logits[B * 2], label_probs[B * 2];
  nsr_nn_outputs out = {logits, probs, label_logits, label_probs};
  nsr_error err;
  assert_int_equal(nsr_nn_forward_outputs(both, &batch, &out, &err), NSR_OK);
  float want[B * 3], want_probs[B * 3];
  assert_int_equal(nsr_nn_forward(soft, &batch, want, want_probs, &err), NSR_OK);
  nn_assert_close("logits", logits, want, B * 3, 0, 0);
  nn_assert_close("probs", probs, want_probs, B * 3, 0, 0);
  assert_int_equal(nsr_nn_forward(sig, &batch, want, want_probs, &err), NSR_OK);
  nn_assert_close("label_logits", label_logits, want, B * 2, 0, 0);
  nn_assert_close("label_probs", label_probs, want_probs, B * 2, 0, 0);

  int32_t labels[B] = {1, 0, 2};
  float multi[B * 2] = {1, 0, 0.25f, 1, 0, 0};
  nsr_nn_targets t = {labels, NULL, multi}, t_soft = {labels, NULL, NULL},
                 t_sig = {NULL, multi, NULL};
  assert_float_equal(loss_of(both, &batch, &t),
                     (double)loss_of(soft, &batch, &t_soft) + loss_of(sig, &batch, &t_sig),
                     1e-6);
  /* Targets must fit the heads. */
  float loss;
  assert_int_equal(nsr_nn_loss(both, &batch, &t_soft, &loss, &err), NSR_ERR_INVALID);
  assert_non_null(strstr(err.message, "a model with a label head needs label targets"));
  assert_int_equal(nsr_nn_loss(soft, &batch, &t, &loss, &err), NSR_ERR_INVALID);
  assert_non_null(strstr(err.message, "the model has no label head"));
  multi[3] = 1.5f;
  assert_int_equal(nsr_nn_loss(both, &batch, &t, &loss, &err), NSR_ERR_RANGE);
  assert_non_null(strstr(err.message, "example 1, label 1 has probability 1.5"));
  nsr_nn_free(both);
  nsr_nn_free(soft);
  nsr_nn_free(sig);
}

/* Logits of one batch; the caller frees them with nsr_free. */
static float *logits_of(nsr_nn_model *m, const nsr_nn_batch *batch) {
  float *out = nsr_mallocarray((size_t)batch->batch * nsr_nn_get_config(m)->n_classes,
                               sizeof(float));
  assert_non_null(out);
  nsr_error err;
  if (nsr_nn_forward(m, batch, out, NULL, &err) != NSR_OK) fail_msg("%s", err.message);
  return out;
}

static void test_set_input_is_permutation_invariant(void **state) {
  (void)state;
  nsr_nn_config cfg = nn_tiny_config(NSR_NN_POS_NONE, NSR_NN_POOL_MEAN,
                                     NSR_NN_HEAD_SOFTMAX);
  nsr_nn_model *m = make_model(cfg, 3);
  /* Reversed real positions, padding left in place. */
  int32_t perm[B * T];
  for (int b = 0; b < B; b++) {
    for (int t = 0; t < T; t++) {
      int src = t < lengths[b] ? lengths[b] - 1 - t : t;
      perm[b * T + t] = tokens[b * T + src];
    }
  }
  nsr_nn_batch a = {B, T, tokens, lengths}, p = {B, T, perm, lengths};
  float *la = logits_of(m, &a), *lp = logits_of(m, &p);
  nn_assert_close("permuted logits", lp, la, (size_t)B * cfg.n_classes, 1e-5, 1e-5);
  nsr_free(la);
  nsr_free(lp);
  nsr_nn_free(m);

  /* With positions the order matters (a check that the test can fail). */
  cfg.pos = NSR_NN_POS_SINUSOIDAL;
  m = make_model(cfg, 3);
  la = logits_of(m, &a);
  lp = logits_of(m, &p);
  double diff = 0.0;
  for (int i = 0; i < B * cfg.n_classes; i++) diff = fmax(diff, fabs(la[i] - lp[i]));
  assert_true(diff > 1e-3);
  nsr_free(la);
  nsr_free(lp);
  nsr_nn_free(m);
}

static void test_padding_is_ignored(void **state) {
  (void)state;
  nsr_nn_config cfg = nn_tiny_config(NSR_NN_POS_SINUSOIDAL, NSR_NN_POOL_MEAN,
                                     NSR_NN_HEAD_SOFTMAX);
  nsr_nn_model *m = make_model(cfg, 4);
  /* Other padding tokens, and each sequence alone at its exact length. */
  int32_t repadded[B * T];
  for (int i = 0; i < B * T; i++) {
    repadded[i] = i % T < lengths[i / T] ? tokens[i] : (tokens[i] + 3) % cfg.vocab;
  }
  nsr_nn_batch a = {B, T, tokens, lengths}, r = {B, T, repadded, lengths};
  float *la = logits_of(m, &a), *lr = logits_of(m, &r);
  nn_assert_close("re-padded logits", lr, la, (size_t)B * cfg.n_classes, 1e-6, 1e-6);
  for (int b = 0; b < B; b++) {
    nsr_nn_batch alone = {1, lengths[b], tokens + b * T, NULL};
    float *l1 = logits_of(m, &alone);
    nn_assert_close("unpadded logits", l1, la + b * cfg.n_classes,
                    (size_t)cfg.n_classes, 1e-5, 1e-5);
    nsr_free(l1);
  }
  nsr_free(la);
  nsr_free(lr);
  nsr_nn_free(m);
}

static void test_capture(void **state) {
  (void)state;
  nsr_nn_config cfg = nn_tiny_config(NSR_NN_POS_NONE, NSR_NN_POOL_MEAN,
                                     NSR_NN_HEAD_SOFTMAX);
  nsr_nn_model *m = make_model(cfg, 5);
  int L = cfg.n_layers, d = cfg.d_model, h = cfg.n_heads, ff = cfg.d_ff;
  size_t n_res = (size_t)L * B * T * d, n_att = (size_t)L * B * h * T * T;
  size_t n_ffn = (size_t)L * B * T * ff, n_pool = (size_t)B * d;
  nsr_nn_capture cap = {nsr_calloc(n_res, 4), nsr_calloc(n_att, 4),
                        nsr_calloc(n_ffn, 4), nsr_calloc(n_pool, 4)};
  nsr_nn_batch batch = {B, T, tokens, lengths};
  nsr_error err;
  assert_int_equal(nsr_nn_capture_forward(m, &batch, &cap, &err), NSR_OK);
  /* Attention rows are distributions over the real positions. */
  for (int l = 0; l < L; l++) {
    for (int b = 0; b < B; b++) {
      for (int row = 0; row < h * T; row++) {
        const float *a = cap.attention + (((size_t)l * B + b) * h * T + row) * T;
        double sum = 0.0;
        for (int j = 0; j < T; j++) {
          if (j >= lengths[b]) assert_float_equal(a[j], 0.0, 0);
          sum += a[j];
        }
        assert_float_equal(sum, 1.0, 1e-5);
      }
    }
  }
  /* GELU output is >= its minimum, about -0.17. */
  for (size_t i = 0; i < n_ffn; i++) assert_true(cap.ffn_hidden[i] > -0.1701f);
  /* Without positions the residual stream is permutation-equivariant:
   * swapping two real positions swaps their rows at every layer. */
  int32_t swapped[B * T];
  memcpy(swapped, tokens, sizeof swapped);
  swapped[0] = tokens[1];
  swapped[1] = tokens[0];
  nsr_nn_capture cap2 = {nsr_calloc(n_res, 4), NULL, NULL, nsr_calloc(n_pool, 4)};
  nsr_nn_batch sb = {B, T, swapped, lengths};
  assert_int_equal(nsr_nn_capture_forward(m, &sb, &cap2, &err), NSR_OK);
  for (int l = 0; l < L; l++) {
    const float *r1 = cap.residual + (size_t)l * B * T * d;
    const float *r2 = cap2.residual + (size_t)l * B * T * d;
    nn_assert_close("swapped row 0", r2, r1 + d, (size_t)d, 1e-5, 1e-5);
    nn_assert_close("swapped row 1", r2 + d, r1, (size_t)d, 1e-5, 1e-5);
  }
  nn_assert_close("pooled", cap2.pooled, cap.pooled, n_pool, 1e-5, 1e-5);
  nsr_free(cap.residual);
  nsr_free(cap.attention);
  nsr_free(cap.ffn_hidden);
  nsr_free(cap.pooled);
  nsr_free(cap2.residual);
  nsr_free(cap2.pooled);
  nsr_nn_free(m);
}

static void test_training_step_allocates_nothing(void **state) {
  (void)state;
  nsr_nn_model *m = make_model(nn_tiny_config(NSR_NN_POS_SINUSOIDAL,
                                              NSR_NN_POOL_MEAN,
                                              NSR_NN_HEAD_SOFTMAX), 6);
  nsr_error err;
  assert_int_equal(nsr_nn_reserve(m, B, true, &err), NSR_OK);
  int32_t labels[B] = {0, 1, 2};
  nsr_nn_targets t = {labels, NULL, NULL};
  nsr_nn_batch batch = {B, T, tokens, lengths};
  nsr_nn_adamw opt = {0.9, 0.999, 1e-8, 0.01};
  uint64_t before = nsr_alloc_count();
  for (int step = 0; step < 3; step++) {
    float loss;
    assert_int_equal(nsr_nn_forward_backward(m, &batch, &t, &loss, &err), NSR_OK);
    nsr_nn_clip_grad_norm(m, 1.0);
    assert_int_equal(nsr_nn_adamw_step(m, &opt, 1e-3, &err), NSR_OK);
  }
  assert_int_equal(nsr_alloc_count(), before);
  nsr_nn_free(m);
}

static void test_same_seed_same_model(void **state) {
  (void)state;
  nsr_nn_config cfg = nn_tiny_config(NSR_NN_POS_SINUSOIDAL, NSR_NN_POOL_MEAN,
                                     NSR_NN_HEAD_SOFTMAX);
  nsr_nn_model *a, *b, *c;
  nsr_error err;
  assert_int_equal(nsr_nn_create(&cfg, &a, &err), NSR_OK);
  assert_int_equal(nsr_nn_create(&cfg, &b, &err), NSR_OK);
  assert_int_equal(nsr_nn_create(&cfg, &c, &err), NSR_OK);
  nsr_nn_init_params(a, 42);
  nsr_nn_init_params(b, 42);
  nsr_nn_init_params(c, 43);
  size_t n = nsr_nn_num_params(a);
  float *pa = nsr_nn_tensor_at(a, 0).data, *pb = nsr_nn_tensor_at(b, 0).data;
  assert_memory_equal(pa, pb, n * sizeof(float));
  assert_memory_not_equal(pa, nsr_nn_tensor_at(c, 0).data, n * sizeof(float));
  /* LayerNorm gains start at 1 and biases at 0. */
  nsr_nn_tensor g, bias;
  assert_true(nsr_nn_find_tensor(a, "blocks.1.ln2.weight", &g));
  assert_true(nsr_nn_find_tensor(a, "blocks.1.ffn.fc1.bias", &bias));
  for (size_t i = 0; i < g.numel; i++) assert_float_equal(g.data[i], 1.0, 0);
  for (size_t i = 0; i < bias.numel; i++) assert_float_equal(bias.data[i], 0.0, 0);
  nsr_nn_free(a);
  nsr_nn_free(b);
  nsr_nn_free(c);
}

static void test_tensor_table(void **state) {
  (void)state;
  nsr_nn_config cfg = nn_tiny_config(NSR_NN_POS_SINUSOIDAL, NSR_NN_POOL_MEAN,
                                     NSR_NN_HEAD_SOFTMAX);
  nsr_nn_model *m;
  nsr_error err;
  assert_int_equal(nsr_nn_create(&cfg, &m, &err), NSR_OK);
  /* Names and [out, in] shapes from the table, counted by hand:
   * V=7, d=8, d_ff=12, C=3, 2 layers. */
  struct {
    const char *name;
    int64_t rows, cols;
  } want[] = {
      {"tok_emb.weight", 7, 8},           {"blocks.0.ln1.weight", 8, 0},
      {"blocks.0.attn.qkv.weight", 24, 8}, {"blocks.0.attn.qkv.bias", 24, 0},
      {"blocks.1.attn.proj.weight", 8, 8}, {"blocks.1.ffn.fc1.weight", 12, 8},
      {"blocks.1.ffn.fc2.weight", 8, 12},  {"ln_f.bias", 8, 0},
      {"head.weight", 3, 8},               {"head.bias", 3, 0},
  };
  for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
    nsr_nn_tensor t;
    assert_true(nsr_nn_find_tensor(m, want[i].name, &t));
    assert_int_equal(t.ndim, want[i].cols ? 2 : 1);
    assert_int_equal(t.shape[0], want[i].rows);
    if (want[i].cols) assert_int_equal(t.shape[1], want[i].cols);
  }
  assert_int_equal(nsr_nn_num_tensors(m), 1 + 2 * 12 + 4);
  size_t per_block = 8 + 8 + 24 * 8 + 24 + 64 + 8 + 8 + 8 + 96 + 12 + 96 + 8;
  assert_int_equal(nsr_nn_num_params(m), 56 + 2 * per_block + 16 + 24 + 3);
  nsr_nn_tensor none;
  assert_false(nsr_nn_find_tensor(m, "blocks.2.ln1.weight", &none));
  nsr_nn_free(m);
}

static void test_bad_inputs_are_refused(void **state) {
  (void)state;
  nsr_nn_config cfg = nn_tiny_config(NSR_NN_POS_SINUSOIDAL, NSR_NN_POOL_MEAN,
                                     NSR_NN_HEAD_SOFTMAX);
  nsr_nn_model *m = make_model(cfg, 7);
  nsr_error err;
  int32_t bad_tok[B * T];
  memcpy(bad_tok, tokens, sizeof bad_tok);
  bad_tok[7] = 7;
  nsr_nn_batch batch = {B, T, bad_tok, lengths};
  assert_int_equal(nsr_nn_forward(m, &batch, NULL, NULL, &err), NSR_ERR_RANGE);
  assert_non_null(strstr(err.message, "sequence 1, position 2: token 7"));
  int32_t bad_len[B] = {5, 0, 2};
  batch = (nsr_nn_batch){B, T, tokens, bad_len};
  assert_int_equal(nsr_nn_forward(m, &batch, NULL, NULL, &err), NSR_ERR_RANGE);
  batch = (nsr_nn_batch){B, 6, tokens, NULL};
  assert_int_equal(nsr_nn_forward(m, &batch, NULL, NULL, &err), NSR_ERR_INVALID);
  batch = (nsr_nn_batch){B, T, tokens, lengths};
  int32_t bad_labels[B] = {0, 3, 1};
  nsr_nn_targets t = {bad_labels, NULL, NULL};
  float loss;
  assert_int_equal(nsr_nn_loss(m, &batch, &t, &loss, &err), NSR_ERR_RANGE);
  assert_non_null(strstr(err.message, "example 1 has label 3"));
  nsr_nn_targets neither = {NULL, NULL, NULL};
  assert_int_equal(nsr_nn_loss(m, &batch, &neither, &loss, &err), NSR_ERR_INVALID);
  nsr_nn_adamw opt = {0.9, 0.999, 1e-8, 0.0};
  assert_int_equal(nsr_nn_adamw_step(m, &opt, 1e-3, &err), NSR_ERR_INVALID);

  batch = (nsr_nn_batch){B, T, NULL, NULL};
  assert_int_equal(nsr_nn_forward(m, &batch, NULL, NULL, &err), NSR_ERR_INVALID);
  nsr_nn_free(m);

  /* Activation buffers too large to be sensible are refused up front. */
  nsr_nn_config wide = {.vocab = 2, .d_model = 2, .n_heads = 1, .n_layers = 1,
                        .d_ff = 2, .max_len = 65536, .n_classes = 2};
  assert_int_equal(nsr_nn_create(&wide, &m, &err), NSR_OK);
  assert_int_equal(nsr_nn_reserve(m, 1 << 20, false, &err), NSR_ERR_NOMEM);
  assert_non_null(strstr(err.message, "encoder activations for batch 1048576"));
  nsr_nn_free(m);

  cfg.n_heads = 3;
  assert_int_equal(nsr_nn_create(&cfg, &m, &err), NSR_ERR_INVALID);
  assert_non_null(strstr(err.message, "not a multiple of n_heads"));
  assert_null(m);
}

static void test_out_of_memory_is_clean(void **state) {
  (void)state;
  nsr_nn_config cfg = nn_tiny_config(NSR_NN_POS_SINUSOIDAL, NSR_NN_POOL_MEAN,
                                     NSR_NN_HEAD_SOFTMAX);
  int32_t labels[B] = {0, 1, 2};
  nsr_nn_targets t = {labels, NULL, NULL};
  nsr_nn_batch batch = {B, T, tokens, lengths};
  /* Fail the k-th allocation for every k until a full run succeeds. */
  for (uint64_t k = 1;; k++) {
    nsr_error err;
    nsr_nn_model *m = NULL;
    float loss;
    nsr_alloc_fail_after(k);
    nsr_code rc = nsr_nn_create(&cfg, &m, &err);
    if (rc == NSR_OK) rc = nsr_nn_forward_backward(m, &batch, &t, &loss, &err);
    nsr_alloc_fail_reset();
    nsr_nn_free(m);
    if (rc == NSR_OK) break;
    assert_int_equal(rc, NSR_ERR_NOMEM);
    assert_non_null(strstr(err.message, "out of memory"));
    assert_true(k < 100);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_gradcheck_softmax_labels),
      cmocka_unit_test(test_gradcheck_softmax_teacher),
      cmocka_unit_test(test_gradcheck_sigmoid),
      cmocka_unit_test(test_gradcheck_both_heads),
      cmocka_unit_test(test_both_heads_are_the_two_single_heads),
      cmocka_unit_test(test_set_input_is_permutation_invariant),
      cmocka_unit_test(test_padding_is_ignored),
      cmocka_unit_test(test_capture),
      cmocka_unit_test(test_training_step_allocates_nothing),
      cmocka_unit_test(test_same_seed_same_model),
      cmocka_unit_test(test_tensor_table),
      cmocka_unit_test(test_bad_inputs_are_refused),
      cmocka_unit_test(test_out_of_memory_is_clean),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
