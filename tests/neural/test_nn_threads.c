/* test_nn_threads.c: the encoder's worker pool: the pool and its barrier on
 * their own, then the model on 1, 2 and 3 threads (the same logits and
 * gradients to float rounding; bit-identical runs for one thread count),
 * thread settings and their bad values, and the workers' own OpenBLAS
 * instances. */
#include <cblas.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>

#include "nn_test_util.h"
#include "model.h"
#include "threads.h"
#include "blas.h"

/* ---- the pool ---------------------------------------------------------- */

typedef struct phase_ctx {
  nn_pool *pool;
  int written[8];    /* phase 1: each thread writes its own slot */
  int seen[8][8];    /* phase 2: what each thread read of every slot */
  pthread_t self[8]; /* which OS thread ran each index */
  int runs[8];       /* how many times each index ran */
} phase_ctx;

/* Phase 1 writes this thread's slot (thread 0 late, so that the others
 * reach the barrier first); phase 2 reads every slot. */
static void phases(void *p, int tid, int n) {
  phase_ctx *c = p;
  c->self[tid] = pthread_self();
  c->runs[tid]++;
  if (tid == 0 && n > 1) nanosleep(&(struct timespec){0, 20000000}, NULL);
  c->written[tid] = 100 + tid;
  nn_pool_barrier(c->pool);
  for (int i = 0; i < n; i++) c->seen[tid][i] = c->written[i];
}

static void test_pool_runs_every_thread_and_barrier_orders(void **state) {
  (void)state;
  for (int n = 2; n <= 4; n++) {
    phase_ctx c;
    memset(&c, 0, sizeof c);
    nsr_error err;
    assert_int_equal(nn_pool_create(n, &c.pool, &err), NSR_OK);
    assert_int_equal(nn_pool_size(c.pool), n);
    for (int run = 0; run < 3; run++) nn_pool_run(c.pool, phases, &c);
    for (int t = 0; t < n; t++) {
      assert_int_equal(c.runs[t], 3);
      /* After the barrier every thread saw every slot written, including
       * thread 0's, which wrote last. */
      for (int i = 0; i < n; i++) assert_int_equal(c.seen[t][i], 100 + i);
      /* Each index is its own OS thread, index 0 the caller. */
      for (int u = t + 1; u < n; u++) assert_false(pthread_equal(c.self[t], c.self[u]));
    }
    assert_true(pthread_equal(c.self[0], pthread_self()));
    assert_int_equal(c.runs[n], 0);
    nn_pool_free(c.pool);
  }
  /* No pool: the caller alone, as thread 0 of 1. */
  phase_ctx c;
  memset(&c, 0, sizeof c);
  nn_pool_run(NULL, phases, &c);
  assert_int_equal(c.runs[0], 1);
  assert_int_equal(c.runs[1], 0);
  assert_int_equal(c.seen[0][0], 100);
  assert_int_equal(nn_pool_size(NULL), 1);
  nn_pool_free(NULL);
}

static void test_pool_bad_sizes(void **state) {
  (void)state;
  nn_pool *p = (nn_pool *)&p;
  nsr_error err;
  assert_int_equal(nn_pool_create(1, &p, &err), NSR_ERR_INVALID);
  assert_null(p);
  assert_non_null(strstr(err.message, "2..64 threads, not 1"));
  assert_int_equal(nn_pool_create(NN_POOL_MAX + 1, &p, &err), NSR_ERR_INVALID);
  nsr_alloc_fail_after(1);
  assert_int_equal(nn_pool_create(2, &p, &err), NSR_ERR_NOMEM);
  nsr_alloc_fail_reset();
  assert_non_null(strstr(err.message, "out of memory"));
}

/* Every split covers 0..total-1 once, in order, with shares differing by
 * at most one: checked by counting, not by the formula. */
static void test_split(void **state) {
  (void)state;
  const size_t totals[] = {0, 1, 2, 5, 16, 17, 384, 1001};
  for (size_t k = 0; k < sizeof totals / sizeof totals[0]; k++) {
    for (int n = 1; n <= 5; n++) {
      size_t next = 0, smallest = SIZE_MAX, largest = 0;
      for (int t = 0; t < n; t++) {
        size_t lo, hi;
        nn_split(totals[k], t, n, &lo, &hi);
        assert_int_equal(lo, next);
        assert_true(hi >= lo);
        smallest = hi - lo < smallest ? hi - lo : smallest;
        largest = hi - lo > largest ? hi - lo : largest;
        next = hi;
      }
      assert_int_equal(next, totals[k]);
      assert_true(largest - smallest <= 1);
    }
  }
}

static void test_auto_threads_reads_the_environment(void **state) {
  (void)state;
  long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  int fallback = cpus >= 2 ? 2 : 1;
  setenv("NSR_NN_THREADS", "3", 1);
  assert_int_equal(nn_auto_threads(), 3);
  const char *bad[] = {"0", "65", "two", "2x", "", "-1"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    setenv("NSR_NN_THREADS", bad[i], 1);
    assert_int_equal(nn_auto_threads(), fallback);
  }
  unsetenv("NSR_NN_THREADS");
  assert_int_equal(nn_auto_threads(), fallback);
}

/* ---- the model on several threads -------------------------------------- */

enum { BATCH = 5, SEQ = 16 };

typedef struct run_result {
  float logits[BATCH * 64], label_logits[BATCH * 8];
  float loss;
  float *grads; /* nsr_nn_num_params floats, freed by the caller */
  float *captured; /* CAPTURED floats: what activation capture recorded */
} run_result;

/* Config A's activation capture of a batch of BATCH: residual streams,
 * attention weights, FFN hidden activations of both blocks, pooled vectors. */
enum {
  CAP_RES = 2 * BATCH * SEQ * 128, CAP_ATT = 2 * BATCH * 4 * SEQ * SEQ,
  CAP_FFN = 2 * BATCH * SEQ * 512, CAPTURED = CAP_RES + CAP_ATT + CAP_FFN + BATCH * 128
};

/* Config A with a both-heads output, so every split (rows, columns,
 * (sequence, head) pairs, both heads) is used, and ragged lengths. */
static nsr_nn_config threads_config(nsr_nn_pool pool) {
  nsr_nn_config cfg;
  nsr_nn_config_default(&cfg);
  cfg.head = NSR_NN_HEAD_BOTH;
  cfg.n_labels = 8;
  cfg.pool = pool;
  return cfg;
}

/* A fresh model from seed 5 on `threads` threads: the outputs of a forward
 * pass, then the loss and gradients of a training pass, on the first B
 * sequences of a fixed batch. With at least as many sequences as threads a
 * pass splits the sequences among the threads; with fewer, every product
 * by columns (encoder.c): B 5 and 1 test both. */
static void run_model(nsr_nn_pool pool_kind, int threads, int B, run_result *r) {
  nsr_nn_config cfg = threads_config(pool_kind);
  nsr_nn_model *m;
  nsr_error err;
  assert_int_equal(nsr_nn_create(&cfg, &m, &err), NSR_OK);
  nsr_nn_init_params(m, 5);
  /* Larger weights than the init, so that differences would show. */
  nsr_rng rng;
  nsr_rng_seed(&rng, 6);
  for (size_t i = 0; i < nsr_nn_num_tensors(m); i++) {
    nsr_nn_tensor t = nsr_nn_tensor_at(m, i);
    for (size_t k = 0; k < t.numel; k++) t.data[k] += (float)(0.2 * nsr_rng_normal(&rng));
  }
  assert_int_equal(nsr_nn_set_threads(m, threads, &err), NSR_OK);
  int32_t tokens[BATCH * SEQ], lengths[BATCH] = {16, 3, 9, 1, 12};
  int32_t labels[BATCH];
  float label_probs[BATCH * 8];
  for (int i = 0; i < BATCH * SEQ; i++) tokens[i] = (int32_t)nsr_rng_below(&rng, 128);
  for (int i = 0; i < BATCH; i++) labels[i] = (int32_t)nsr_rng_below(&rng, 64);
  for (int i = 0; i < BATCH * 8; i++) label_probs[i] = (float)nsr_rng_uniform(&rng);
  nsr_nn_batch batch = {B, SEQ, tokens, lengths};
  nsr_nn_targets t = {.labels = labels, .label_probs = label_probs};
  /* A pass split by columns leaves some threads' shares of the activations
   * in the model only when asked (training, capture). So that a failure to
   * would show, every activation first comes from other tokens (the
   * memory of an earlier model with this batch could otherwise hold the
   * right values), then passes on this batch read them. */
  int32_t other[BATCH * SEQ];
  for (int i = 0; i < BATCH * SEQ; i++) other[i] = (tokens[i] + 1) % 128;
  nsr_nn_batch decoy = {B, SEQ, other, lengths};
  float decoy_loss;
  assert_int_equal(nsr_nn_forward_backward(m, &decoy, &t, &decoy_loss, &err), NSR_OK);
  nsr_nn_outputs out = {.logits = r->logits, .label_logits = r->label_logits};
  assert_int_equal(nsr_nn_forward_outputs(m, &batch, &out, &err), NSR_OK);
  assert_int_equal(nsr_nn_get_threads(m), threads);
  assert_int_equal(nsr_nn_forward_backward(m, &batch, &t, &r->loss, &err), NSR_OK);
  r->grads = nsr_malloc(nsr_nn_num_params(m) * sizeof(float));
  assert_non_null(r->grads);
  memcpy(r->grads, nsr_nn_tensor_at(m, 0).grad, nsr_nn_num_params(m) * sizeof(float));
  /* Capture reads activations that a pass split by columns keeps in each
   * thread's own buffers unless asked for them. */
  r->captured = nsr_calloc(CAPTURED, sizeof(float));
  assert_non_null(r->captured);
  nsr_nn_capture cap = {r->captured, r->captured + CAP_RES,
                        r->captured + CAP_RES + CAP_ATT,
                        r->captured + CAP_RES + CAP_ATT + CAP_FFN};
  assert_int_equal(nsr_nn_forward_backward(m, &decoy, &t, &decoy_loss, &err), NSR_OK);
  assert_int_equal(nsr_nn_capture_forward(m, &batch, &cap, &err), NSR_OK);
  nsr_nn_free(m);
}

static size_t params_of(nsr_nn_pool pool) {
  nsr_nn_config cfg = threads_config(pool);
  nsr_nn_model *m;
  nsr_error err;
  assert_int_equal(nsr_nn_create(&cfg, &m, &err), NSR_OK);
  size_t n = nsr_nn_num_params(m);
  nsr_nn_free(m);
  return n;
}

static void check_thread_counts(nsr_nn_pool pool, int B) {
  size_t n_params = params_of(pool);
  run_result one, again;
  memset(&one, 0, sizeof one);
  run_model(pool, 1, B, &one);
  for (int threads = 2; threads <= 3; threads++) {
    run_result r;
    memset(&r, 0, sizeof r);
    run_model(pool, threads, B, &r);
    /* The same arithmetic per value, but the BLAS kernels' blocking of a
     * share may differ, and split by sequences each parameter gradient is a
     * sum of the threads' sums: agreement to float rounding. */
    nn_assert_close("logits", r.logits, one.logits, (size_t)B * 64, 1e-5, 1e-5);
    nn_assert_close("label_logits", r.label_logits, one.label_logits,
                    (size_t)B * 8, 1e-5, 1e-5);
    assert_float_equal(r.loss, one.loss, 1e-5 * fabs(one.loss));
    nn_assert_close("grads", r.grads, one.grads, n_params, 1e-6, 1e-4);
    nn_assert_close("captured", r.captured, one.captured, CAPTURED, 1e-5, 1e-5);
    /* A second run on as many threads: bit for bit the same. */
    memset(&again, 0, sizeof again);
    run_model(pool, threads, B, &again);
    assert_memory_equal(r.logits, again.logits, sizeof r.logits);
    assert_memory_equal(r.label_logits, again.label_logits, sizeof r.label_logits);
    assert_memory_equal(&r.loss, &again.loss, sizeof r.loss);
    assert_memory_equal(r.grads, again.grads, n_params * sizeof(float));
    assert_memory_equal(r.captured, again.captured, CAPTURED * sizeof(float));
    nsr_free(r.grads);
    nsr_free(again.grads);
    nsr_free(r.captured);
    nsr_free(again.captured);
  }
  nsr_free(one.grads);
  nsr_free(one.captured);
}

static void test_thread_counts_agree_mean_pool(void **state) {
  (void)state;
  check_thread_counts(NSR_NN_POOL_MEAN, BATCH);
  check_thread_counts(NSR_NN_POOL_MEAN, 1);
}

static void test_thread_counts_agree_cls_pool(void **state) {
  (void)state;
  check_thread_counts(NSR_NN_POOL_CLS, BATCH);
  check_thread_counts(NSR_NN_POOL_CLS, 1);
}

/* The automatic setting makes a pool only for models whose passes it
 * pays for, and set_threads changes it. */
static void test_thread_settings(void **state) {
  (void)state;
  setenv("NSR_NN_THREADS", "2", 1);
  nsr_nn_config tiny = nn_tiny_config(NSR_NN_POS_SINUSOIDAL, NSR_NN_POOL_MEAN,
                                      NSR_NN_HEAD_SOFTMAX);
  nsr_nn_config a;
  nsr_nn_config_default(&a);
  nsr_nn_model *m;
  nsr_error err;
  assert_int_equal(nsr_nn_create(&tiny, &m, &err), NSR_OK);
  assert_int_equal(nsr_nn_reserve(m, 4, true, &err), NSR_OK);
  assert_int_equal(nsr_nn_get_threads(m), 1); /* too small to pay */
  assert_int_equal(nsr_nn_set_threads(m, 3, &err), NSR_OK);
  assert_int_equal(nsr_nn_get_threads(m), 3); /* asked for: always */
  assert_int_equal(nsr_nn_set_threads(m, -1, &err), NSR_ERR_INVALID);
  assert_non_null(strstr(err.message, "-1 is not in 0..64"));
  assert_int_equal(nsr_nn_set_threads(m, 65, &err), NSR_ERR_INVALID);
  assert_int_equal(nsr_nn_get_threads(m), 3); /* a refused value changes nothing */
  assert_int_equal(nsr_nn_set_threads(m, 1, &err), NSR_OK);
  assert_int_equal(nsr_nn_get_threads(m), 1);
  nsr_nn_free(m);

  assert_int_equal(nsr_nn_create(&a, &m, &err), NSR_OK);
  assert_int_equal(nsr_nn_get_threads(m), 1); /* no buffers, no pool yet */
  /* Config A at batch 1 (12.6 MFLOP per pass) pays: every product split
   * by columns; from 2 sequences the sequences split; even one position
   * (0.79 MFLOP) passes the threshold (0.4 MFLOP). */
  assert_int_equal(nsr_nn_reserve(m, 1, false, &err), NSR_OK);
  assert_int_equal(nsr_nn_get_threads(m), 2);
  assert_int_equal(nn_choose_split(m, 1, 16), NN_BY_COLUMNS);
  assert_int_equal(nn_choose_split(m, 2, 16), NN_BY_SEQUENCES);
  assert_int_equal(nn_choose_split(m, 64, 1), NN_BY_SEQUENCES);
  assert_int_equal(nn_choose_split(m, 1, 1), NN_BY_COLUMNS);
  nsr_nn_free(m);
  /* d = 32 (49,152 FLOP a position): 16 positions pay, so the model gets
   * its pool; a pass below the threshold runs alone unless threads were
   * asked for. */
  a.d_model = 32;
  a.d_ff = 128;
  assert_int_equal(nsr_nn_create(&a, &m, &err), NSR_OK);
  assert_int_equal(nsr_nn_reserve(m, 1, false, &err), NSR_OK);
  assert_int_equal(nsr_nn_get_threads(m), 2);
  assert_int_equal(nn_choose_split(m, 1, 16), NN_BY_COLUMNS); /* 0.79 MFLOP */
  assert_int_equal(nn_choose_split(m, 1, 8), NN_ALONE);       /* 0.39 MFLOP */
  assert_int_equal(nsr_nn_set_threads(m, 2, &err), NSR_OK);
  assert_int_equal(nn_choose_split(m, 1, 8), NN_BY_COLUMNS); /* asked for */
  nsr_nn_free(m);
  unsetenv("NSR_NN_THREADS");
}

/* A pass on the pool runs OpenBLAS on one thread and leaves it so (every
 * change wakes OpenBLAS's own threads); dropping the pool gives back the
 * count the process had. */
static void test_pool_sets_openblas_threads_once(void **state) {
  (void)state;
  openblas_set_num_threads(2);
  int before = openblas_get_num_threads(); /* 1 on a one-core machine */
  nsr_nn_config cfg;
  nsr_nn_config_default(&cfg);
  nsr_nn_model *m;
  nsr_error err;
  assert_int_equal(nsr_nn_create(&cfg, &m, &err), NSR_OK);
  assert_int_equal(nsr_nn_set_threads(m, 2, &err), NSR_OK);
  int32_t tokens[2 * 16] = {0};
  nsr_nn_batch batch = {2, 16, tokens, NULL};
  assert_int_equal(nsr_nn_forward(m, &batch, NULL, NULL, &err), NSR_OK);
  assert_int_equal(openblas_get_num_threads(), 1);
  assert_int_equal(nsr_nn_forward(m, &batch, NULL, NULL, &err), NSR_OK);
  assert_int_equal(openblas_get_num_threads(), 1);
  assert_int_equal(nsr_nn_set_threads(m, 1, &err), NSR_OK); /* drops the pool */
  assert_int_equal(openblas_get_num_threads(), before);
  /* Without a pool, passes leave OpenBLAS alone. */
  assert_int_equal(nsr_nn_forward(m, &batch, NULL, NULL, &err), NSR_OK);
  assert_int_equal(openblas_get_num_threads(), before);
  assert_int_equal(nsr_nn_set_threads(m, 2, &err), NSR_OK);
  assert_int_equal(nsr_nn_forward(m, &batch, NULL, NULL, &err), NSR_OK);
  nsr_nn_free(m); /* so does freeing the model */
  assert_int_equal(openblas_get_num_threads(), before);
}

/* ---- each worker's own OpenBLAS ----------------------------------------- */

enum { GM = 37, GN = 53, GK = 29 }; /* odd sizes: kernel edges and tails */

typedef struct blas_ctx {
  const float *a, *b;
  float c[4][GM * GN];  /* each thread's product a b^T */
  float y[4][GN];       /* each thread's b x (x = a's first row) */
  bool private_blas[4]; /* whether the thread ran on its own instance */
} blas_ctx;

static void products_on_every_thread(void *p, int tid, int n) {
  (void)n;
  blas_ctx *c = p;
  c->private_blas[tid] = nn_blas_thread_private();
  nn_sgemm(CblasNoTrans, CblasTrans, GM, GN, GK, 1.0f, c->a, GK, c->b, GK, 0.0f,
           c->c[tid], GN);
  nn_sgemv(CblasNoTrans, GN, GK, 1.0f, c->b, GK, c->a, 1, 0.0f, c->y[tid], 1);
}

/* Runs the products on a new pool of 3 and returns how many of its
 * workers had an instance of their own. */
static int run_products(blas_ctx *c) {
  nn_pool *pool;
  nsr_error err;
  assert_int_equal(nn_pool_create(3, &pool, &err), NSR_OK);
  nn_pool_run(pool, products_on_every_thread, c);
  int count = nn_pool_private_blas(pool);
  nn_pool_free(pool);
  return count;
}

/* Workers make their products on instances of their own; every instance
 * computes the same bits, and a plain triple loop agrees with them to
 * float rounding (so the instances really multiply). */
static void test_workers_have_their_own_openblas(void **state) {
  (void)state;
  static float a[GM * GK], b[GN * GK];
  nsr_rng rng;
  nsr_rng_seed(&rng, 5);
  for (size_t i = 0; i < GM * GK; i++) a[i] = (float)nsr_rng_uniform(&rng) - 0.5f;
  for (size_t i = 0; i < GN * GK; i++) b[i] = (float)nsr_rng_uniform(&rng) - 0.5f;
  static blas_ctx c;
  memset(&c, 0, sizeof c);
  c.a = a;
  c.b = b;
  unsetenv("NSR_NN_PRIVATE_BLAS");
  assert_int_equal(run_products(&c), 2);
  assert_null(nn_blas_refusal());
  assert_false(c.private_blas[0]); /* the caller keeps the process's */
  assert_true(c.private_blas[1]);
  assert_true(c.private_blas[2]);
  assert_false(nn_blas_thread_private());
  for (int t = 1; t < 3; t++) {
    assert_memory_equal(c.c[t], c.c[0], sizeof c.c[0]);
    assert_memory_equal(c.y[t], c.y[0], sizeof c.y[0]);
  }
  for (int i = 0; i < GM; i++) {
    for (int j = 0; j < GN; j++) {
      double want = 0.0;
      for (int k = 0; k < GK; k++) want += (double)a[i * GK + k] * b[j * GK + k];
      assert_true(fabs(c.c[0][i * GN + j] - want) < 1e-5);
      if (i == 0) assert_true(fabs(c.y[0][j] - want) < 1e-5);
    }
  }
  /* Refused by the environment: the workers share the process's. */
  setenv("NSR_NN_PRIVATE_BLAS", "0", 1);
  memset(c.private_blas, 0, sizeof c.private_blas);
  assert_int_equal(run_products(&c), 0);
  for (int t = 0; t < 3; t++) assert_false(c.private_blas[t]);
  assert_memory_equal(c.c[1], c.c[0], sizeof c.c[0]);
  unsetenv("NSR_NN_PRIVATE_BLAS");
  /* Slots past the cap or below 1 are never private. */
  assert_false(nn_blas_load(0));
  assert_false(nn_blas_load(NN_BLAS_PRIVATE_MAX + 1));
  assert_true(nn_blas_load(NN_BLAS_PRIVATE_MAX));
}

/* The model reports its pool's private instances. */
static void test_model_reports_private_blas(void **state) {
  (void)state;
  nsr_nn_config cfg;
  nsr_nn_config_default(&cfg);
  nsr_nn_model *m;
  nsr_error err;
  assert_int_equal(nsr_nn_create(&cfg, &m, &err), NSR_OK);
  const char *why = "unset";
  assert_int_equal(nsr_nn_private_blas(m, &why), 0); /* no pool yet */
  assert_null(why);
  assert_int_equal(nsr_nn_set_threads(m, 2, &err), NSR_OK);
  assert_int_equal(nsr_nn_reserve(m, 4, false, &err), NSR_OK);
  assert_int_equal(nsr_nn_private_blas(m, NULL), 1);
  assert_int_equal(nsr_nn_set_threads(m, 1, &err), NSR_OK);
  assert_int_equal(nsr_nn_private_blas(m, NULL), 0);
  nsr_nn_free(m);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_pool_runs_every_thread_and_barrier_orders),
      cmocka_unit_test(test_pool_bad_sizes),
      cmocka_unit_test(test_split),
      cmocka_unit_test(test_auto_threads_reads_the_environment),
      cmocka_unit_test(test_thread_counts_agree_mean_pool),
      cmocka_unit_test(test_thread_counts_agree_cls_pool),
      cmocka_unit_test(test_thread_settings),
      cmocka_unit_test(test_pool_sets_openblas_threads_once),
      cmocka_unit_test(test_workers_have_their_own_openblas),
      cmocka_unit_test(test_model_reports_private_blas),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
