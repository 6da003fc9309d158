/* test_nn_torch.c: every tensor of the C encoder against PyTorch.
 *
 * The fixtures in tests/neural/fixtures were written by gen_reference.py
 * with torch 1.13: activations, logits, loss, every parameter gradient and
 * the parameters after 10 AdamW steps (clipping, warmup + cosine schedule). */
#include "nn_test_util.h"

#include "model.h"
#include "safetensors.h"

/* Must match gen_reference.py. */
#define LR_MAX 1e-2
#define LR_MIN 1e-3
#define WARMUP 3
#define TOTAL 10
#define CLIP 0.5

typedef struct reference {
  unsigned char *bytes;
  st_file file;
} reference;

static void ref_open(reference *r, const char *scenario) {
  char path[512];
  snprintf(path, sizeof path, "%s/%s.ref.safetensors", NN_FIXTURES, scenario);
  size_t size;
  r->bytes = nn_read_file(path, &size);
  nsr_error err;
  if (st_parse(r->bytes, size, &r->file, &err) != NSR_OK) {
    fail_msg("%s: %s", path, err.message);
  }
}

static void ref_close(reference *r) {
  st_file_free(&r->file);
  nsr_free(r->bytes);
}

/* The reference tensor `name` as a float array (freed with nsr_free); its
 * element count must be `numel`. */
static float *ref_get(const reference *r, const char *name, size_t numel) {
  const st_tensor *t = st_find(&r->file, name);
  if (t == NULL) fail_msg("reference tensor '%s' missing", name);
  if (t->numel != numel) {
    fail_msg("reference tensor '%s' has %zu elements, want %zu", name, t->numel, numel);
  }
  float *out = nsr_mallocarray(numel ? numel : 1, sizeof(float));
  assert_non_null(out);
  memcpy(out, t->data, numel * sizeof(float));
  return out;
}

static void check(const reference *r, const char *name, const float *got,
                  size_t numel, double abs_tol, double rel_tol) {
  float *want = ref_get(r, name, numel);
  nn_assert_close(name, got, want, numel, abs_tol, rel_tol);
  nsr_free(want);
}

/* The activations of the forward pass, 1e-5 relative to each tensor's size. */
static void check_activations(const reference *r, const nsr_nn_model *m, int B,
                              int T) {
  const nsr_nn_config *c = &m->cfg;
  size_t n = (size_t)B * T, d = c->d_model, ff = c->d_ff;
  size_t att = (size_t)B * c->n_heads * T * T;
  const double tol = 1e-5;
  check(r, "acts.x0", m->acts.x0, n * d, tol, tol);
  for (int l = 0; l < c->n_layers; l++) {
    const nn_block_acts *ba = &m->acts.blocks[l];
    struct {
      const char *name;
      const float *data;
      size_t numel;
    } items[] = {
        {"ln1", ba->ln1, n * d},         {"qkv", ba->qkv, n * 3 * d},
        {"att", ba->att, att},           {"atty", ba->atty, n * d},
        {"res_att", ba->res_att, n * d}, {"ln2", ba->ln2, n * d},
        {"fc1", ba->fc1, n * ff},        {"gelu", ba->gelu, n * ff},
        {"out", ba->out, n * d},
    };
    for (size_t i = 0; i < sizeof items / sizeof items[0]; i++) {
      char name[64];
      snprintf(name, sizeof name, "acts.blocks.%d.%s", l, items[i].name);
      check(r, name, items[i].data, items[i].numel, tol, tol);
    }
  }
  check(r, "acts.lnf", m->acts.lnf, n * d, tol, tol);
  check(r, "acts.pooled", m->acts.pooled, (size_t)B * d, tol, tol);
}

/* The gradient of every key bias is mathematically zero (see below). */
static void check_key_bias_grad(const nsr_nn_model *m) {
  size_t d = (size_t)m->cfg.d_model;
  for (int l = 0; l < m->cfg.n_layers; l++) {
    nsr_nn_tensor t = nsr_nn_tensor_at(m, nn_block_tensor(l, NN_QKV_B));
    for (size_t i = d; i < 2 * d; i++) assert_true(fabsf(t.grad[i]) < 1e-6f);
  }
}

static void run_scenario(const char *scenario, bool hard_labels) {
  char path[512];
  snprintf(path, sizeof path, "%s/%s.model.safetensors", NN_FIXTURES, scenario);
  nsr_nn_model *m;
  nsr_error err;
  if (nsr_nn_load(path, &m, &err) != NSR_OK) fail_msg("%s", err.message);
  reference r;
  ref_open(&r, scenario);
  const nsr_nn_config *c = &m->cfg;

  const st_tensor *tok = st_find(&r.file, "batch.tokens");
  assert_non_null(tok);
  int B = (int)tok->shape[0], T = (int)tok->shape[1], C = c->n_classes;
  float *tokens_f = ref_get(&r, "batch.tokens", (size_t)B * T);
  float *lengths_f = ref_get(&r, "batch.lengths", (size_t)B);
  float *targets = ref_get(&r, "batch.targets", hard_labels ? (size_t)B : (size_t)B * C);
  int L = c->n_labels;
  float *label_targets = L > 0 ? ref_get(&r, "batch.label_targets", (size_t)B * L) : NULL;
  int32_t tokens[64], lengths[8], labels[8];
  assert_true(B * T <= 64 && B <= 8);
  for (int i = 0; i < B * T; i++) tokens[i] = (int32_t)tokens_f[i];
  for (int b = 0; b < B; b++) {
    lengths[b] = (int32_t)lengths_f[b];
    labels[b] = hard_labels ? (int32_t)targets[b] : 0;
  }
  nsr_nn_batch batch = {B, T, tokens, lengths};
  nsr_nn_targets t = {hard_labels ? labels : NULL, hard_labels ? NULL : targets,
                      label_targets};

  float loss;
  assert_int_equal(nsr_nn_forward_backward(m, &batch, &t, &loss, &err), NSR_OK);
  check_activations(&r, m, B, T);
  check(&r, "logits", m->acts.logits, (size_t)B * C, 1e-5, 0);
  check(&r, "probs", m->acts.probs, (size_t)B * C, 1e-5, 0);
  if (L > 0) {
    check(&r, "label_logits", m->acts.label_logits, (size_t)B * L, 1e-5, 0);
    check(&r, "label_probs", m->acts.label_probs, (size_t)B * L, 1e-5, 0);
  }
  check(&r, "loss", &loss, 1, 1e-5, 0);
  for (size_t i = 0; i < m->n_tensors; i++) {
    nsr_nn_tensor p = nsr_nn_tensor_at(m, i);
    char name[96];
    snprintf(name, sizeof name, "grad.%s", p.name);
    check(&r, name, p.grad, p.numel, 1e-7, 1e-4);
  }
  check_key_bias_grad(m);

  nsr_nn_schedule schedule = {LR_MAX, LR_MIN, WARMUP, TOTAL};
  nsr_nn_adamw opt = {.beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8, .weight_decay = 0.1};
  for (int step = 1; step <= TOTAL; step++) {
    assert_int_equal(nsr_nn_forward_backward(m, &batch, &t, &loss, &err), NSR_OK);
    nsr_nn_clip_grad_norm(m, CLIP);
    assert_int_equal(nsr_nn_adamw_step(m, &opt, nsr_nn_schedule_lr(&schedule, step), &err),
                     NSR_OK);
  }
  for (size_t i = 0; i < m->n_tensors; i++) {
    nsr_nn_tensor p = nsr_nn_tensor_at(m, i);
    char name[96];
    snprintf(name, sizeof name, "step10.%s", p.name);
    float *want = ref_get(&r, name, p.numel);
    if (strstr(p.name, "attn.qkv.bias") != NULL) {
      /* The key bias adds q.b_k to a whole row of scores, which the softmax
       * ignores: its gradient is exactly 0 up to rounding (checked in
       * check_key_bias_grad), and Adam turns rounding noise into steps of
       * about lr in either direction on both sides. Compare q and v only. */
      size_t d = (size_t)c->d_model;
      nn_assert_close(name, p.data, want, d, 2e-4, 0);
      nn_assert_close(name, p.data + 2 * d, want + 2 * d, d, 2e-4, 0);
    } else {
      nn_assert_close(name, p.data, want, p.numel, 2e-4, 0);
    }
    nsr_free(want);
  }
  nsr_free(tokens_f);
  nsr_free(lengths_f);
  nsr_free(targets);
  nsr_free(label_targets);
  ref_close(&r);
  nsr_nn_free(m);
}

static void test_softmax_hard_labels(void **state) {
  (void)state;
  run_scenario("softmax_hard", true);
}

static void test_softmax_teacher_kl(void **state) {
  (void)state;
  run_scenario("softmax_soft", false);
}

static void test_sigmoid_multilabel_set_cls(void **state) {
  (void)state;
  run_scenario("sigmoid_multi", false);
}

/* Both heads: softmax with hard labels plus three sigmoid labels, loss
 * CE + BCE. */
static void test_both_heads(void **state) {
  (void)state;
  run_scenario("both_heads", true);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_softmax_hard_labels),
      cmocka_unit_test(test_softmax_teacher_kl),
      cmocka_unit_test(test_sigmoid_multilabel_set_cls),
      cmocka_unit_test(test_both_heads),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
