/* test_propose.c: proposal networks against the exact engine as an
 * independent oracle: the layout, exact rescoring, the marginalised
 * generalization, the injections (constraint teacher, KBANN detectors), a
 * tiny training run, and bad model files. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "nsr_learn.h"
#include "nsr_test_util.h"
#include "nsr_store.h"
#include "nsr_learn.h"

static nsr_numbers *engine_n(uint32_t n) {
  nsr_numbers_config cfg;
  nsr_numbers_config_default(&cfg);
  cfg.max = n;
  nsr_numbers *e;
  nsr_error err = {0};
  assert_int_equal(nsr_numbers_new(&cfg, &e, &err), NSR_OK);
  return e;
}

/* A freshly initialised (untrained) proposal model for numbers 1..100. */
static nsr_nn_model *fresh_model(uint64_t seed) {
  nsr_nn_config cfg;
  nsr_propose_config(100, 48, 1, &cfg);
  nsr_nn_model *m;
  nsr_error err = {0};
  assert_int_equal(nsr_nn_create(&cfg, &m, &err), NSR_OK);
  nsr_nn_init_params(m, seed);
  return m;
}

static void test_layout(void **state) {
  (void)state;
  nsr_nn_config cfg;
  nsr_propose_config(100, 64, 2, &cfg);
  assert_int_equal(cfg.n_classes, 5084);
  assert_int_equal(cfg.vocab, 107);
  assert_int_equal(cfg.pos, NSR_NN_POS_NONE);
  uint32_t n;
  nsr_error err = {0};
  assert_int_equal(nsr_propose_check_config(&cfg, &n, &err), NSR_OK);
  assert_int_equal(n, 100);
  cfg.n_classes = 5083;
  assert_int_equal(nsr_propose_check_config(&cfg, &n, &err), NSR_ERR_FORMAT);
  nsr_propose_config(100, 64, 2, &cfg);
  cfg.head = NSR_NN_HEAD_SIGMOID;
  assert_int_equal(nsr_propose_check_config(&cfg, &n, &err), NSR_ERR_FORMAT);
  int32_t tok[NSR_PROPOSE_MAX_LEN];
  uint32_t x[] = {16, 8, 16};
  assert_int_equal(nsr_propose_tokens(100, x, 3, tok), 4);
  int32_t want[NSR_PROPOSE_MAX_LEN] = {16, 8, 16, 103, 0, 0, 0};
  assert_memory_equal(tok, want, sizeof want);
}

/* The network's output is the same for every order of the examples. */
static void test_order_free(void **state) {
  (void)state;
  nsr_nn_model *m = fresh_model(3);
  nsr_proposer *p;
  nsr_error err = {0};
  assert_int_equal(nsr_proposer_wrap(m, &p, &err), NSR_OK);
  size_t c = nsr_numbers_space_size(nsr_proposer_engine(p));
  float *a = malloc(c * sizeof *a);
  uint32_t x1[] = {3, 50, 7, 7}, x2[] = {7, 7, 50, 3};
  assert_int_equal(nsr_propose_forward(p, x1, 4, &err), NSR_OK);
  memcpy(a, nsr_proposer_probs(p), c * sizeof *a);
  assert_int_equal(nsr_propose_forward(p, x2, 4, &err), NSR_OK);
  for (size_t i = 0; i < c; i++) assert_float_equal(a[i], nsr_proposer_probs(p)[i], 1e-6);
  free(a);
  nsr_proposer_free(p);
  nsr_nn_free(m);
}

/* Every proposal's exact score equals posterior_all's entry, the restricted
 * scores renormalise over the proposals, and exact_map is posterior_all's
 * argmax. */
static void test_rescoring_matches_engine(void **state) {
  (void)state;
  nsr_nn_model *m = fresh_model(5);
  nsr_proposer *p;
  nsr_error err = {0};
  assert_int_equal(nsr_proposer_wrap(m, &p, &err), NSR_OK);
  nsr_numbers *e = engine_n(100);
  size_t c = nsr_numbers_space_size(e);
  float *post = malloc(c * sizeof *post);
  const uint32_t sets[][4] = {{16, 8, 2, 64}, {60, 52, 57, 55}, {81, 1, 1, 1}, {37, 0, 0, 0}};
  const size_t lens[] = {4, 4, 4, 1};
  for (size_t s = 0; s < 4; s++) {
    nsr_proposals r;
    assert_int_equal(nsr_propose(p, sets[s], lens[s], 64, &r, &err), NSR_OK);
    assert_int_equal(r.n, 64);
    assert_int_equal(nsr_numbers_posterior_all(e, sets[s], lens[s], post, c, &err), NSR_OK);
    /* The proposals are the network's softmax's top K, and their q its
     * values (nsr_propose normalises logits itself). */
    assert_int_equal(nsr_propose_forward(p, sets[s], lens[s], &err), NSR_OK);
    const float *q = nsr_proposer_probs(p);
    double sum = 0, kth = r.items[r.n - 1].network;
    bool chosen[6000] = {false};
    for (size_t i = 0; i < r.n; i++) {
      assert_float_equal(r.items[i].posterior, post[r.items[i].index], 1e-6 + 1e-4 * post[r.items[i].index]);
      assert_float_equal(r.items[i].network, q[r.items[i].index], 1e-6 * q[r.items[i].index]);
      if (i) assert_true(r.items[i].network <= r.items[i - 1].network);
      chosen[r.items[i].index] = true;
      sum += r.items[i].restricted;
    }
    for (size_t i = 0; i < c; i++) assert_true(chosen[i] || q[i] <= kth * (1 + 1e-6));
    if (r.covered > 0) assert_float_equal(sum, 1.0, 1e-9);
    size_t best = 0;
    for (size_t i = 1; i < c; i++) best = post[i] > post[best] ? i : best;
    assert_float_equal(r.exact_map.posterior, post[best], 1e-5);
  }
  nsr_proposals r;
  uint32_t bad[] = {0, 5};
  assert_int_equal(nsr_propose(p, bad, 2, 5, &r, &err), NSR_ERR_RANGE);
  uint32_t many[7] = {1, 2, 3, 4, 5, 6, 7};
  assert_int_equal(nsr_propose(p, many, 7, 5, &r, &err), NSR_ERR_INVALID);
  assert_int_equal(nsr_propose(p, many, 0, 5, &r, &err), NSR_ERR_INVALID);
  assert_int_equal(nsr_propose(p, many, 3, 0, &r, &err), NSR_ERR_INVALID);
  assert_int_equal(nsr_propose(p, many, 3, 65, &r, &err), NSR_ERR_INVALID);
  free(post);
  nsr_numbers_free(e);
  nsr_proposer_free(p);
  nsr_nn_free(m);
}

/* Marginalising the exact posterior gives the engine's own generalization. */
static void test_generalization_marginal(void **state) {
  (void)state;
  nsr_numbers *e = engine_n(100);
  size_t c = nsr_numbers_space_size(e);
  float *post = malloc(c * sizeof *post);
  double g[100];
  nsr_numbers_result res = {0};
  nsr_error err = {0};
  const uint32_t sets[][3] = {{16, 8, 2}, {60, 52, 57}, {10, 20, 30}};
  for (size_t s = 0; s < 3; s++) {
    assert_int_equal(nsr_numbers_posterior_all(e, sets[s], 3, post, c, &err), NSR_OK);
    assert_int_equal(nsr_numbers_infer(e, sets[s], 3, 1, &res, &err), NSR_OK);
    nsr_propose_generalization(e, post, g);
    for (int y = 0; y < 100; y++) assert_float_equal(g[y], res.generalization[y], 1e-5);
  }
  nsr_numbers_result_free(&res);
  free(post);
  nsr_numbers_free(e);
}

/* The constraint teacher: (t + r) / 2 with r = q on consistent hypotheses,
 * renormalised; checked against a direct computation for N = 10. */
static void test_constraint_teacher(void **state) {
  (void)state;
  nsr_numbers *e = engine_n(10);
  size_t c = nsr_numbers_space_size(e);
  float *q = malloc(c * sizeof *q), *t = malloc(c * sizeof *t);
  for (size_t i = 0; i < c; i++) q[i] = 1.0f / (float)c;
  memset(t, 0, c * sizeof *t);
  t[0] = 1.0f; /* "even" */
  uint32_t x[] = {4, 8};
  nsr_inject_constraint(e, x, 2, NULL, q, 1.0, false, t);
  size_t consistent = 0;
  double sum = 0;
  for (size_t i = 0; i < c; i++) {
    nsr_hypothesis h;
    nsr_error err = {0};
    assert_int_equal(nsr_numbers_hypothesis_at(e, i, &h, &err), NSR_OK);
    bool ok = h.kind == NSR_HYP_RULE
                  ? nsr_bitset_has(nsr_numbers_rule_set(e, h.rule), 4) && nsr_bitset_has(nsr_numbers_rule_set(e, h.rule), 8)
                  : h.lo <= 4 && h.hi >= 8;
    consistent += ok;
    if (!ok) assert_float_equal(t[i], 0.0, 0);
    sum += t[i];
  }
  assert_float_equal(sum, 1.0, 1e-5);
  /* even, multiples of 4, ends in... : every consistent one gets 0.5/|S|. */
  assert_float_equal(t[0], 0.5 + 0.5 / (double)consistent, 1e-6);
  /* With the size principle, consistent h get 0.5 |h|^-2 / Σ_S |h'|^-2. */
  memset(t, 0, c * sizeof *t);
  nsr_inject_constraint(e, x, 2, NULL, q, 1.0, true, t);
  double z = 0;
  for (size_t i = 0; i < c; i++) {
    nsr_hypothesis h;
    nsr_error err = {0};
    assert_int_equal(nsr_numbers_hypothesis_at(e, i, &h, &err), NSR_OK);
    if (t[i] > 0) z += 1.0 / ((double)h.size * h.size);
  }
  for (size_t i = 0; i < c; i++) {
    nsr_hypothesis h;
    nsr_error err = {0};
    assert_int_equal(nsr_numbers_hypothesis_at(e, i, &h, &err), NSR_OK);
    if (t[i] > 0) assert_float_equal(t[i], 0.5 / ((double)h.size * h.size) / z, 1e-6);
  }
  free(q);
  free(t);
  nsr_numbers_free(e);
}

/* -log q(label) - λ log Σ_{h ⊇ X} q(h) for one example set. */
static double semantic_objective(nsr_nn_model *m, const nsr_nn_batch *b, int label,
                                 const bool *in_s, size_t c, double lambda) {
  float *q = malloc(c * sizeof *q);
  nsr_error err = {0};
  assert_int_equal(nsr_nn_forward(m, b, NULL, q, &err), NSR_OK);
  double mass = 0;
  for (size_t i = 0; i < c; i++) mass += in_s[i] ? q[i] : 0.0;
  double l = -log(q[label]) - lambda * log(mass);
  free(q);
  return l;
}

/* The constraint rides on the KL loss: the gradient the encoder computes for
 * the mixed teacher, times 1 + λ, equals the finite-difference gradient of
 * cross-entropy plus λ times the semantic loss, on the head's biases. */
static void test_constraint_gradient(void **state) {
  (void)state;
  nsr_nn_model *m = fresh_model(11);
  nsr_numbers *e = engine_n(100);
  size_t c = nsr_numbers_space_size(e);
  nsr_nn_tensor bias;
  assert_true(nsr_nn_find_tensor(m, "head.bias", &bias));
  nsr_rng rng;
  nsr_rng_seed(&rng, 4);
  for (size_t i = 0; i < c; i++) bias.data[i] = (float)nsr_rng_normal(&rng); /* a non-uniform q */
  uint32_t x[] = {4, 8};
  int32_t tok[NSR_PROPOSE_MAX_LEN];
  int32_t len = nsr_propose_tokens(100, x, 2, tok);
  nsr_nn_batch b = {.batch = 1, .seq_len = len, .tokens = tok, .lengths = &len};
  const int label = 6; /* multiples of 4 */
  bool *in_s = calloc(c, sizeof *in_s);
  float *q = malloc(c * sizeof *q), *teacher = calloc(c, sizeof *teacher);
  float *post = malloc(c * sizeof *post);
  nsr_error err = {0};
  assert_int_equal(nsr_numbers_posterior_all(e, x, 2, post, c, &err), NSR_OK);
  for (size_t i = 0; i < c; i++) in_s[i] = post[i] > 0; /* S: the consistent ones */
  assert_int_equal(nsr_nn_forward(m, &b, NULL, q, &err), NSR_OK);
  teacher[label] = 1.0f;
  const double lambda = 0.7;
  nsr_inject_constraint(e, x, 2, NULL, q, lambda, false, teacher);
  nsr_nn_targets t = {.probs = teacher};
  float loss;
  assert_int_equal(nsr_nn_forward_backward(m, &b, &t, &loss, &err), NSR_OK);
  assert_true(nsr_nn_find_tensor(m, "head.bias", &bias)); /* now with its gradient */
  const size_t probe[] = {0, 1, (size_t)label, 40, 4000};
  for (size_t k = 0; k < 5; k++) {
    size_t j = probe[k];
    float keep = bias.data[j];
    const float h = 1e-2f;
    bias.data[j] = keep + h;
    double up = semantic_objective(m, &b, label, in_s, c, lambda);
    bias.data[j] = keep - h;
    double down = semantic_objective(m, &b, label, in_s, c, lambda);
    bias.data[j] = keep;
    double fd = (up - down) / (2.0 * h);
    assert_float_equal((1.0 + lambda) * bias.grad[j], fd, 2e-3 + 1e-2 * fabs(fd));
  }
  free(in_s);
  free(q);
  free(teacher);
  free(post);
  nsr_numbers_free(e);
  nsr_nn_free(m);
}

/* Membership by hand, independent of the engine's rule tables: the rules
 * the KBANN test checks, by their index in the 34 (even, odd, squares,
 * primes, multiples of 7, powers of 2, ends in 3). */
static bool is_prime(uint32_t x) {
  if (x < 2) return false;
  for (uint32_t k = 2; k * k <= x; k++) {
    if (x % k == 0) return false;
  }
  return true;
}

static bool by_hand(int rule, uint32_t x) {
  uint32_t root = 0;
  while ((root + 1) * (root + 1) <= x) root++;
  switch (rule) {
    case 0: return x % 2 == 0;
    case 1: return x % 2 == 1;
    case 2: return root * root == x;
    case 4: return is_prime(x);
    case 9: return x % 7 == 0;
    case 15: return x > 1 && (x & (x - 1)) == 0; /* 2, 4, 8, ..: 2^0 is not one */
    default: return x % 10 == 3; /* 27: ends in 3 */
  }
}

/* FFN activations of block 0 for the single number x (and its count
 * token), after the KBANN weights: hidden[0 .. d_ff) for x, then the count
 * token's. */
static void ffn_of(nsr_nn_model *m, uint32_t x, float *hidden) {
  int32_t tokens[2] = {(int32_t)x, 101}, len = 2;
  nsr_nn_batch batch = {.batch = 1, .seq_len = 2, .tokens = tokens, .lengths = &len};
  nsr_nn_capture cap = {.ffn_hidden = hidden};
  nsr_error err = {0};
  assert_int_equal(nsr_nn_capture_forward(m, &batch, &cap, &err), NSR_OK);
}

static void check_kbann_units(nsr_nn_model *m, const uint32_t *perm) {
  static const int rules[] = {0, 1, 2, 4, 9, 15, 27};
  int ff = nsr_nn_get_config(m)->d_ff;
  float *hidden = malloc(2 * (size_t)ff * sizeof *hidden);
  for (uint32_t x = 1; x <= 100; x++) {
    uint32_t seen = perm ? perm[x] : x;
    ffn_of(m, x, hidden);
    for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++) {
      /* GELU(3) = 2.996 when firing, less the attention's small random
       * output at initialisation; GELU(-9) = 0 when not */
      float a = hidden[rules[i]];
      if (by_hand(rules[i], seen)) {
        assert_true(a > 2.5f);
      } else {
        assert_true(fabsf(a) < 0.05f);
      }
    }
    for (int k = 0; k < 9; k++) { /* magnitude unit 34 + k: x > 10 (k + 1) */
      float a = hidden[34 + k];
      assert_true(seen > 10u * (uint32_t)(k + 1) ? a > 2.5f : fabsf(a) < 0.05f);
    }
    for (int j = 0; j < 43; j++) assert_true(fabsf(hidden[ff + j]) < 0.05f); /* count token: off */
  }
  free(hidden);
}

static void test_permutation_and_kbann(void **state) {
  (void)state;
  uint32_t perm[101];
  bool seen[101] = {false};
  nsr_inject_permutation(100, perm);
  assert_int_equal(perm[0], 0);
  size_t moved = 0;
  for (int x = 1; x <= 100; x++) {
    assert_true(perm[x] >= 1 && perm[x] <= 100 && !seen[perm[x]]);
    seen[perm[x]] = true;
    moved += perm[x] != (uint32_t)x;
  }
  assert_true(moved > 90);
  nsr_nn_model *m = fresh_model(1);
  nsr_numbers *e = engine_n(100);
  nsr_error err = {0};
  assert_int_equal(nsr_inject_kbann(m, e, NULL, &err), NSR_OK);
  nsr_nn_tensor emb;
  assert_true(nsr_nn_find_tensor(m, "tok_emb.weight", &emb));
  int d = nsr_nn_get_config(m)->d_model;
  assert_float_equal(emb.data[16 * d + 15], 1.0, 0);  /* 16 is a power of 2 */
  assert_float_equal(emb.data[17 * d + 15], -1.0, 0); /* 17 is not */
  assert_float_equal(emb.data[7 * d + 4], 1.0, 0);    /* 7 is prime */
  check_kbann_units(m, NULL);
  nsr_nn_free(m);
  m = fresh_model(2); /* the control: the same units, reading perm[x]'s detectors */
  assert_int_equal(nsr_inject_kbann(m, e, perm, &err), NSR_OK);
  assert_true(nsr_nn_find_tensor(m, "tok_emb.weight", &emb));
  assert_float_equal(emb.data[16 * d + 15], nsr_bitset_has(nsr_numbers_rule_set(e, 15), perm[16]) ? 1.0 : -1.0, 0);
  check_kbann_units(m, perm);
  nsr_nn_free(m);
  nsr_nn_config small;
  nsr_propose_config(100, 32, 1, &small);
  assert_int_equal(nsr_nn_create(&small, &m, &err), NSR_OK);
  assert_int_equal(nsr_inject_kbann(m, e, NULL, &err), NSR_ERR_INVALID);
  assert_non_null(strstr(err.message, "d_model >= 44"));
  nsr_nn_free(m);
  nsr_numbers *e50 = engine_n(50); /* a model for 1..100 is not one for 1..50 */
  m = fresh_model(1);
  assert_int_equal(nsr_inject_kbann(m, e50, NULL, &err), NSR_ERR_INVALID);
  nsr_nn_free(m);
  nsr_numbers_free(e50);
  nsr_numbers_free(e);
}

/* Descending by value, then ascending by index: the order top K keeps
 * (an earlier entry wins a tie). */
static const float *sort_base;
static int by_value_desc(const void *a, const void *b) {
  size_t i = *(const size_t *)a, j = *(const size_t *)b;
  if (sort_base[i] != sort_base[j]) return sort_base[i] < sort_base[j] ? 1 : -1;
  return (i > j) - (i < j);
}

/* nsr_propose_top_k against a full sort, on random arrays of lengths
 * around the block size, with ties, and with k above the length. */
static void test_top_k_against_sort(void **state) {
  (void)state;
  enum { MAX = 700 };
  static float q[MAX];
  static size_t order[MAX];
  nsr_rng rng;
  nsr_rng_seed(&rng, 42);
  const size_t lengths[] = {1, 5, 63, 64, 65, 128, 129, 700};
  const size_t ks[] = {1, 3, 10, 64};
  for (size_t l = 0; l < sizeof lengths / sizeof lengths[0]; l++) {
    for (int trial = 0; trial < 20; trial++) {
      size_t n = lengths[l];
      for (size_t i = 0; i < n; i++) {
        /* few distinct values on even trials: many ties */
        q[i] = trial % 2 ? (float)nsr_rng_uniform(&rng) : (float)nsr_rng_below(&rng, 7);
        order[i] = i;
      }
      sort_base = q;
      qsort(order, n, sizeof *order, by_value_desc);
      for (size_t t = 0; t < sizeof ks / sizeof ks[0]; t++) {
        uint64_t idx[64];
        size_t have = nsr_propose_top_k(q, n, ks[t], idx);
        assert_int_equal(have, ks[t] < n ? ks[t] : n);
        for (size_t i = 0; i < have; i++) assert_int_equal(idx[i], order[i]);
      }
    }
  }
}

static void test_inject_names(void **state) {
  (void)state;
  nsr_inject m;
  nsr_error err = {0};
  for (int i = 0; i < NSR_INJECT_COUNT; i++) {
    assert_int_equal(nsr_inject_parse(nsr_inject_name((nsr_inject)i), &m, &err), NSR_OK);
    assert_int_equal(m, i);
  }
  assert_int_equal(nsr_inject_parse("none", &m, &err), NSR_OK);
  assert_int_equal(m, NSR_INJECT_HARD);
  assert_int_equal(nsr_inject_parse("kbann2", &m, &err), NSR_ERR_INVALID);
}

/* A tiny run learns: held-out top-10 recall and KL improve on the untrained
 * model, for distillation and for the constraint loss. */
static void test_tiny_training(void **state) {
  (void)state;
  nsr_heldout h;
  nsr_error err = {0};
  assert_int_equal(nsr_heldout_make(100, 100, 9, &h, &err), NSR_OK);
  nsr_nn_model *m = fresh_model(1);
  nsr_train_eval before, after;
  assert_int_equal(nsr_train_evaluate(m, &h, &before, &err), NSR_OK);
  nsr_nn_free(m);
  const nsr_inject methods[] = {NSR_INJECT_DISTILL, NSR_INJECT_CONSTRAINT};
  for (int k = 0; k < 2; k++) {
    nsr_train_config cfg;
    nsr_train_config_default(&cfg);
    cfg.d_model = 48;
    cfg.n_layers = 1;
    cfg.steps = 60;
    cfg.batch = 16;
    cfg.heldout = 50;
    cfg.eval_every = 0;
    cfg.inject = methods[k];
    cfg.examples_budget = k ? 64 : 0;
    assert_int_equal(nsr_train_proposer(&cfg, &m, &after, &err), NSR_OK);
    nsr_train_eval e;
    assert_int_equal(nsr_train_evaluate(m, &h, &e, &err), NSR_OK);
    /* Hard labels (under the constraint) may sharpen q past the exact
     * posterior, so only distillation must lower the KL. */
    if (methods[k] == NSR_INJECT_DISTILL) assert_true(e.kl < before.kl);
    assert_true(e.top10 > before.top10);
    nsr_nn_free(m);
  }
  nsr_heldout_free(&h);
}

static void test_bad_model_files(void **state) {
  (void)state;
  char path[] = "/tmp/nsr_propose_XXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  assert_int_equal(write(fd, "not a model", 11), 11);
  close(fd);
  nsr_proposer *p;
  nsr_error err = {0};
  assert_int_equal(nsr_proposer_load(path, 0, &p, &err), NSR_ERR_FORMAT);
  /* A valid checkpoint of another layout. */
  nsr_nn_config cfg;
  nsr_nn_config_default(&cfg);
  nsr_nn_model *m;
  assert_int_equal(nsr_nn_create(&cfg, &m, &err), NSR_OK);
  assert_int_equal(nsr_nn_save(m, path, &err), NSR_OK);
  nsr_nn_free(m);
  assert_int_equal(nsr_proposer_load(path, 0, &p, &err), NSR_ERR_FORMAT);
  /* The path, then ": ", then the reason (they used to run together). */
  char want[64];
  snprintf(want, sizeof want, "'%s': not a proposal model: ", path);
  if (strncmp(err.message, want, strlen(want)) != 0) fail_msg("%s", err.message);
  unlink(path);
  assert_int_not_equal(nsr_proposer_load("/nonexistent/x.safetensors", 0, &p, &err), NSR_OK);
}

/* Metrics land in a real store file, in one experiment, readable back. */
static void test_store_metrics(void **state) {
  (void)state;
  char path[] = "/tmp/nsr_metrics_XXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  close(fd);
  unlink(path); /* a fresh store is created at the path */
  /* The first row's model, the second has none. */
  const nsr_metric rows[] = {{"top1", "kbann", 1, 16, 30, 0.25, 1}, {"top1", "hard", 2, 64, 30, 0.5, 0}};
  nsr_experiment_model model = {.config_json = "{\"train\":{\"seed\":1}}"};
  memset(model.sha256, 'a', 64);
  model.sha256[64] = '\0';
  int64_t id = 0;
  nsr_error err = {0};
  assert_int_equal(nsr_store_add_experiment(path, "injection", "{}", &model, 1, rows, 2, &id, &err), NSR_OK);
  assert_int_equal(id, 1);
  json_t *ids;
  assert_int_equal(nsr_store_query(path, "SELECT m.sha256, m.path IS NULL, json_extract(m.config_json,"
                                   " '$.train.seed'), x.model_id IS NULL FROM metrics x LEFT JOIN"
                                   " models m ON m.id = x.model_id ORDER BY x.id", 10, 1000, &ids, &err),
                   NSR_OK);
  json_t *a = json_array_get(json_object_get(ids, "rows"), 0), *b = json_array_get(json_object_get(ids, "rows"), 1);
  assert_string_equal(json_string_value(json_array_get(a, 0)), model.sha256);
  assert_int_equal(json_integer_value(json_array_get(a, 1)), 1);
  assert_int_equal(json_integer_value(json_array_get(a, 2)), 1);
  assert_int_equal(json_integer_value(json_array_get(b, 3)), 1);
  json_decref(ids);
  json_t *out;
  assert_int_equal(nsr_store_query(path, "SELECT method, n_train, value FROM metrics ORDER BY id",
                                   10, 1000, &out, &err), NSR_OK);
  json_t *r1 = json_array_get(json_object_get(out, "rows"), 1);
  assert_string_equal(json_string_value(json_array_get(r1, 0)), "hard");
  assert_int_equal(json_integer_value(json_array_get(r1, 1)), 64);
  assert_float_equal(json_real_value(json_array_get(r1, 2)), 0.5, 0);
  json_decref(out);
  /* The same model again keeps its row. */
  assert_int_equal(nsr_store_add_experiment(path, "again", "{}", &model, 1, rows, 1, &id, &err), NSR_OK);
  assert_int_equal(id, 2);
  assert_int_equal(nsr_store_query(path, "SELECT count(*), count(DISTINCT model_id) FROM models, metrics"
                                   " WHERE metrics.model_id = models.id", 10, 1000, &ids, &err), NSR_OK);
  a = json_array_get(json_object_get(ids, "rows"), 0);
  assert_int_equal(json_integer_value(json_array_get(a, 0)), 2);
  assert_int_equal(json_integer_value(json_array_get(a, 1)), 1);
  json_decref(ids);
  remove_sqlite_file(path);
  assert_int_not_equal(nsr_store_add_experiment("/nonexistent/dir/x.db", "x", "{}", NULL, 0, rows + 1, 1,
                                                &id, &err), NSR_OK);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_layout),
      cmocka_unit_test(test_order_free),
      cmocka_unit_test(test_rescoring_matches_engine),
      cmocka_unit_test(test_generalization_marginal),
      cmocka_unit_test(test_constraint_teacher),
      cmocka_unit_test(test_constraint_gradient),
      cmocka_unit_test(test_permutation_and_kbann),
      cmocka_unit_test(test_top_k_against_sort),
      cmocka_unit_test(test_inject_names),
      cmocka_unit_test(test_tiny_training),
      cmocka_unit_test(test_bad_model_files),
      cmocka_unit_test(test_store_metrics),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
