/* bench_neural.c: times the encoder against the PyTorch peer's figures.
 *
 *   bench_neural [--steps N] [--d-model D]
 *
 * Config A (as /work/shared/peers/torch_encoder.py): V=128, d=128, 4 heads,
 * 2 layers, d_ff=512, T=16, 64 classes, mean pooling, sinusoidal positions.
 * Prints the median of N timed repetitions (after warm-up) of a training
 * step at batch 64 (forward, cross-entropy, backward, AdamW) and of
 * inference at batch 1 and 64: with the model's automatic thread rule
 * ("nsr"), on one thread with one BLAS thread ("nsr-1t"), without the
 * encoder's pool on OpenBLAS's default threads ("nsr-blas"), and always on
 * the encoder's pool of 2 threads ("nsr-pool"). Then, for d=512 (8 heads, d_ff=2048), the
 * matmul GFLOP/s a training step achieves against cblas_sgemm alone running
 * the same sequence of shapes. Every line carries openblas_get_corename(). */
#include <cblas.h>
#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nsr_neural.h"

/* Declared by OpenBLAS's cblas.h on most builds; repeated for the others. */
char *openblas_get_corename(void);
int openblas_get_num_threads(void);
void openblas_set_num_threads(int num_threads);

enum { BATCH = 64, SEQ = 16 };

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Median seconds of `reps` calls of fn(ctx) after `warmup` untimed ones. */
static double median_time(void (*fn)(void *), void *ctx, int warmup, int reps) {
  for (int i = 0; i < warmup; i++) fn(ctx);
  double *t = nsr_malloc((size_t)reps * sizeof *t);
  for (int i = 0; i < reps; i++) {
    uint64_t start = nsr_now_ns();
    fn(ctx);
    t[i] = nsr_seconds_since(start);
  }
  qsort(t, (size_t)reps, sizeof *t, cmp_double);
  double med = t[reps / 2];
  nsr_free(t);
  return med;
}

typedef struct bench_ctx {
  nsr_nn_model *model;
  nsr_nn_batch batch;
  nsr_nn_targets targets;
  nsr_nn_adamw adamw;
  float *logits;
} bench_ctx;

static void die(const nsr_error *err) {
  fprintf(stderr, "bench_neural: %s\n", err->message);
  exit(1);
}

static void train_step(void *p) {
  bench_ctx *c = p;
  nsr_error err;
  float loss;
  if (nsr_nn_forward_backward(c->model, &c->batch, &c->targets, &loss, &err) != NSR_OK ||
      nsr_nn_adamw_step(c->model, &c->adamw, 1e-3, &err) != NSR_OK) {
    die(&err);
  }
}

static void infer(void *p) {
  bench_ctx *c = p;
  nsr_error err;
  if (nsr_nn_forward(c->model, &c->batch, c->logits, NULL, &err) != NSR_OK) die(&err);
}

/* ---- how far apart the two cores are ---------------------------------- */

/* A pass split by columns waits at barriers and reads what the other
 * thread wrote, so its time depends on how far apart the virtual CPUs
 * that the host gives the two threads are, which changes while the
 * machine runs: a ball bounced between the caller and a second thread
 * through one cache line times it. */
enum { BOUNCES = 100000 };
static _Alignas(64) atomic_int ball;

static void *bounce_back(void *arg) {
  (void)arg;
  for (int i = 0; i < BOUNCES; i++) {
    while (atomic_load_explicit(&ball, memory_order_acquire) != 2 * i + 1) {}
    atomic_store_explicit(&ball, 2 * i + 2, memory_order_release);
  }
  return NULL;
}

static void bounce(void *arg) {
  (void)arg;
  atomic_store(&ball, 0);
  pthread_t other;
  if (pthread_create(&other, NULL, bounce_back, NULL) != 0) {
    fprintf(stderr, "bench_neural: pthread_create failed\n");
    exit(1);
  }
  for (int i = 0; i < BOUNCES; i++) {
    atomic_store_explicit(&ball, 2 * i + 1, memory_order_release);
    while (atomic_load_explicit(&ball, memory_order_acquire) != 2 * i + 2) {}
  }
  pthread_join(other, NULL);
}

/* ---- the matmuls of one training step --------------------------------- */

typedef struct gemm_shape {
  CBLAS_TRANSPOSE ta, tb;
  int m, n, k, count;
} gemm_shape;

/* The cblas_sgemm calls of one training step of `cfg` at batch B, in the
 * encoder's order (see encoder.c); returns how many shapes it wrote. */
static int training_gemms(const nsr_nn_config *cfg, int B, gemm_shape *out) {
  int n = B * SEQ, d = cfg->d_model, ff = cfg->d_ff, hs = d / cfg->n_heads;
  int bh = B * cfg->n_heads, k = 0;
  const CBLAS_TRANSPOSE N = CblasNoTrans, T = CblasTrans;
  for (int l = 0; l < cfg->n_layers; l++) {
    int ins[] = {d, d, d, ff}, outs[] = {3 * d, d, ff, d};
    for (int i = 0; i < 4; i++) {
      out[k++] = (gemm_shape){N, T, n, outs[i], ins[i], 1};  /* forward */
      out[k++] = (gemm_shape){N, N, n, ins[i], outs[i], 1};  /* d input */
      out[k++] = (gemm_shape){T, N, outs[i], ins[i], n, 1};  /* d weight */
    }
    out[k++] = (gemm_shape){N, T, SEQ, SEQ, hs, 2 * bh}; /* scores, d att */
    out[k++] = (gemm_shape){N, N, SEQ, hs, SEQ, 2 * bh}; /* a v, dq */
    out[k++] = (gemm_shape){T, N, SEQ, hs, SEQ, 2 * bh}; /* dv, dk */
  }
  out[k++] = (gemm_shape){N, T, B, cfg->n_classes, d, 1};
  out[k++] = (gemm_shape){N, N, B, d, cfg->n_classes, 1};
  out[k++] = (gemm_shape){T, N, cfg->n_classes, d, B, 1};
  return k;
}

typedef struct gemm_ctx {
  const gemm_shape *shapes;
  int n_shapes;
  float *a, *b, *c;
} gemm_ctx;

static void run_gemms(void *p) {
  gemm_ctx *g = p;
  for (int s = 0; s < g->n_shapes; s++) {
    const gemm_shape *x = &g->shapes[s];
    int lda = x->ta == CblasNoTrans ? x->k : x->m;
    int ldb = x->tb == CblasNoTrans ? x->n : x->k;
    for (int r = 0; r < x->count; r++) {
      cblas_sgemm(CblasRowMajor, x->ta, x->tb, x->m, x->n, x->k, 1.0f, g->a,
                  lda, g->b, ldb, 0.0f, g->c, x->n);
    }
  }
}

static double gemm_flops(const gemm_shape *s, int n) {
  double f = 0.0;
  for (int i = 0; i < n; i++) f += 2.0 * s[i].m * s[i].n * s[i].k * s[i].count;
  return f;
}

/* ---- driver ----------------------------------------------------------- */

/* One result line: median seconds of a pass over `batch` sequences, with
 * the kernels and threads it ran on. */
static void print_time(const char *who, const char *what, int batch,
                       double seconds, const nsr_nn_model *m) {
  int pool = nsr_nn_get_threads(m);
  printf("%s %s B=%-2d median %8.3f ms  %9.0f ex/s  [%s, %d BLAS threads, pool %d%s]\n",
         who, what, batch, seconds * 1e3, batch / seconds, openblas_get_corename(),
         openblas_get_num_threads(), pool,
         pool < 2 ? "" : nsr_nn_private_blas(m, NULL) > 0 ? ", private BLAS per worker" : ", shared BLAS");
}

static nsr_nn_model *make_model(const nsr_nn_config *cfg) {
  nsr_nn_model *m;
  nsr_error err;
  if (nsr_nn_create(cfg, &m, &err) != NSR_OK) die(&err);
  nsr_nn_init_params(m, 1);
  if (nsr_nn_reserve(m, BATCH, true, &err) != NSR_OK) die(&err);
  return m;
}

static void fill_batch(bench_ctx *c, const nsr_nn_config *cfg, int32_t *tokens,
                       int32_t *labels) {
  nsr_rng rng;
  nsr_rng_seed(&rng, 2);
  for (int i = 0; i < BATCH * SEQ; i++) tokens[i] = (int32_t)nsr_rng_below(&rng, (uint64_t)cfg->vocab);
  for (int i = 0; i < BATCH; i++) labels[i] = (int32_t)nsr_rng_below(&rng, (uint64_t)cfg->n_classes);
  c->batch = (nsr_nn_batch){BATCH, SEQ, tokens, NULL};
  c->targets = (nsr_nn_targets){.labels = labels};
  c->adamw = (nsr_nn_adamw){0.9, 0.999, 1e-8, 0.01};
}

int main(int argc, char **argv) {
  int steps = 300, big_d = 512;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (strcmp(argv[i], "--steps") == 0) steps = atoi(argv[i + 1]);
    if (strcmp(argv[i], "--d-model") == 0) big_d = atoi(argv[i + 1]);
  }
  if (steps < 1) steps = 1;
  const char *core = openblas_get_corename();
  printf("core-to-core round trip  median %.0f ns  (a cache line bounced between two threads)\n",
         median_time(bounce, NULL, 0, 5) / BOUNCES * 1e9);
  int threads = openblas_get_num_threads();
  int32_t tokens[BATCH * SEQ], labels[BATCH];
  float logits[BATCH * 64];

  nsr_nn_config cfg;
  nsr_nn_config_default(&cfg);
  bench_ctx c = {.model = make_model(&cfg), .logits = logits};
  fill_batch(&c, &cfg, tokens, labels);
  printf("config A: V=%d d=%d heads=%d layers=%d d_ff=%d T=%d classes=%d, "
         "%zu parameters, openblas core %s, %d threads\n",
         cfg.vocab, cfg.d_model, cfg.n_heads, cfg.n_layers, cfg.d_ff, SEQ,
         cfg.n_classes, nsr_nn_num_params(c.model), core, threads);
  /* "nsr": the model's default (automatic) thread rule; "nsr-1t": one
   * thread and one BLAS thread; "nsr-blas": no pool, OpenBLAS's own
   * threads (the behaviour before the pool); "nsr-pool": always the pool
   * of 2 (each thread with one BLAS thread); "nsr-pool-shared": the same
   * with the workers on the process's OpenBLAS instead of one of their own
   * (NSR_NN_PRIVATE_BLAS=0). Every pass starts a new pool. */
  const struct {
    const char *who;
    int model_threads, blas_threads;
    bool shared_blas;
  } passes[] = {
      {"nsr", 0, threads, false},        {"nsr-1t", 1, 1, false},
      {"nsr-blas", 1, threads, false},   {"nsr-pool", 2, threads, false},
      {"nsr-pool-shared", 2, threads, true},
  };
  for (size_t pass = 0; pass < sizeof passes / sizeof passes[0]; pass++) {
    const char *who = passes[pass].who;
    nsr_error err;
    if (passes[pass].shared_blas) {
      setenv("NSR_NN_PRIVATE_BLAS", "0", 1);
    } else {
      unsetenv("NSR_NN_PRIVATE_BLAS");
    }
    if (nsr_nn_set_threads(c.model, 1, &err) != NSR_OK ||
        nsr_nn_set_threads(c.model, passes[pass].model_threads, &err) != NSR_OK) {
      die(&err);
    }
    openblas_set_num_threads(passes[pass].blas_threads);
    c.batch.batch = BATCH;
    double train = median_time(train_step, &c, 30, steps);
    print_time(who, "train", BATCH, train, c.model);
    c.batch.batch = 1;
    print_time(who, "infer", 1, median_time(infer, &c, 30, steps * 5), c.model);
    c.batch.batch = BATCH;
    print_time(who, "infer", BATCH, median_time(infer, &c, 30, steps), c.model);
  }
  unsetenv("NSR_NN_PRIVATE_BLAS");
  openblas_set_num_threads(threads);
  nsr_nn_free(c.model);

  /* d = big_d: how close a training step's matmuls come to sgemm alone. */
  cfg.d_model = big_d;
  cfg.n_heads = 8;
  cfg.d_ff = 4 * big_d;
  c.model = make_model(&cfg);
  fill_batch(&c, &cfg, tokens, labels);
  gemm_shape shapes[64];
  int n_shapes = training_gemms(&cfg, BATCH, shapes);
  double flops = gemm_flops(shapes, n_shapes);
  int reps = steps / 10 > 5 ? steps / 10 : 5;
  double big = median_time(train_step, &c, 3, reps);
  /* The model's pool left OpenBLAS on one thread (encoder.c, run_pass):
   * sgemm alone gets the threads the process had. */
  openblas_set_num_threads(threads);
  size_t scratch = (size_t)BATCH * SEQ * cfg.d_ff;
  if (scratch < (size_t)cfg.d_ff * cfg.d_model) scratch = (size_t)cfg.d_ff * cfg.d_model;
  gemm_ctx g = {shapes, n_shapes, nsr_calloc(scratch, 4), nsr_calloc(scratch, 4), nsr_calloc(scratch, 4)};
  double alone = median_time(run_gemms, &g, 3, reps);
  printf("d=%d train B=%d: %.1f GFLOP of matmul per step; step %.2f ms = "
         "%.1f GFLOP/s; the same sgemm calls alone %.2f ms = %.1f GFLOP/s; "
         "ratio %.0f%%  [%s]\n",
         big_d, BATCH, flops / 1e9, big * 1e3, flops / big / 1e9, alone * 1e3,
         flops / alone / 1e9, 100.0 * alone / big, core);
  nsr_free(g.a);
  nsr_free(g.b);
  nsr_free(g.c);
  nsr_nn_free(c.model);
  return 0;
}
