/* bench_mpi.c: data-parallel `nsr train` steps (issue 9), run alone or
 * under `mpirun -np P`. Trains through nsr_train_proposer with the job's
 * hooks (dist.h) wrapped in clocks, so every step's compute (from the end
 * of one gradient sum to the start of the next) and communication (the
 * gradient allreduce, including waiting for the slowest rank) are timed;
 * then times bare allreduces of the same buffer after a barrier-like sum.
 * Compute is also measured in this process's CPU time (rank 0's).
 * Rank 0 prints one line of key=value figures (medians over steps).
 *
 * Usage: bench_mpi [--steps S] [--batch B] [--d-model D] [--layers L] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cblas.h>

#include "bench_stats.h"
#include "dist.h"
#include "nsr_learn.h"

#define MAX_STEPS 10000
#define BARE_REPS 50

/* Wall time, and this process's CPU time: on a machine shared with other
 * work the CPU time of a step's compute is what contention cannot inflate. */
typedef struct clocks {
  size_t steps, floats;
  uint64_t last_out;
  double last_out_cpu;
  double compute_ms[MAX_STEPS], compute_cpu_ms[MAX_STEPS], comm_ms[MAX_STEPS];
} clocks;

static double cpu_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static nsr_code timed_sum_floats(void *ctx, float *values, size_t n, nsr_error *err) {
  clocks *c = ctx;
  uint64_t in = nsr_now_ns();
  double in_cpu = cpu_ms();
  nsr_code rc = nsr_dist_sum_floats(values, n, err);
  uint64_t out = nsr_now_ns();
  if (c->steps < MAX_STEPS && c->last_out != 0) {
    c->compute_ms[c->steps] = (double)(in - c->last_out) / 1e6;
    c->compute_cpu_ms[c->steps] = in_cpu - c->last_out_cpu;
    c->comm_ms[c->steps] = (double)(out - in) / 1e6;
    c->steps++;
  }
  c->last_out = out;
  c->last_out_cpu = cpu_ms();
  c->floats = n;
  return rc;
}

static nsr_code sum_doubles(void *ctx, double *values, size_t n, nsr_error *err) {
  (void)ctx;
  return nsr_dist_sum_doubles(values, n, err);
}

/* Median ms of a bare allreduce of n floats, the ranks lined up first. */
static double bare_allreduce_ms(size_t n, nsr_error *err) {
  float *buf = nsr_calloc(n, sizeof *buf);
  double ms[BARE_REPS], one = 0;
  if (buf == NULL) return -1;
  for (int r = 0; r < BARE_REPS; r++) {
    if (nsr_dist_sum_doubles(&one, 1, err) != NSR_OK) break;
    uint64_t t0 = nsr_now_ns();
    if (nsr_dist_sum_floats(buf, n, err) != NSR_OK) break;
    ms[r] = (double)(nsr_now_ns() - t0) / 1e6;
  }
  nsr_free(buf);
  return err->code == NSR_OK ? bench_median(ms, BARE_REPS) : -1;
}

static int parse_args(int argc, char **argv, nsr_train_config *cfg) {
  for (int i = 1; i + 1 < argc; i += 2) {
    long v = strtol(argv[i + 1], NULL, 10);
    if (strcmp(argv[i], "--steps") == 0 && v >= 3 && v <= MAX_STEPS) cfg->steps = v;
    else if (strcmp(argv[i], "--batch") == 0 && v >= 1 && v <= 256) cfg->batch = (int)v;
    else if (strcmp(argv[i], "--d-model") == 0 && v >= 8 && v % 4 == 0) cfg->d_model = (int)v;
    else if (strcmp(argv[i], "--layers") == 0 && v >= 1 && v <= 8) cfg->n_layers = (int)v;
    else return -1;
  }
  return (argc - 1) % 2 == 0 ? 0 : -1;
}

int main(int argc, char **argv) {
  nsr_error err;
  nsr_error_clear(&err);
  if (nsr_dist_init(&argc, &argv, &err) != NSR_OK) {
    fprintf(stderr, "bench_mpi: %s\n", err.message);
    return 1;
  }
  nsr_train_config cfg;
  nsr_train_config_default(&cfg);
  cfg.steps = 40;
  cfg.eval_every = 0;
  cfg.heldout = 8;
  if (parse_args(argc, argv, &cfg) != 0) {
    fprintf(stderr, "usage: bench_mpi [--steps 3..%d] [--batch B] [--d-model D] [--layers L]\n", MAX_STEPS);
    nsr_dist_finalize(2);
    return 2;
  }
  static clocks c;
  nsr_dist_train_hooks(&cfg.parallel);
  cfg.parallel.ctx = &c;
  cfg.parallel.sum_floats = timed_sum_floats;
  cfg.parallel.sum_doubles = sum_doubles;
  nsr_nn_model *model = NULL;
  nsr_train_eval final;
  int rc = nsr_train_proposer(&cfg, &model, &final, &err) == NSR_OK ? 0 : 1;
  double bare = rc == 0 ? bare_allreduce_ms(c.floats, &err) : -1;
  if (rc == 0 && bare < 0) rc = 1;
  if (rc != 0) fprintf(stderr, "bench_mpi: %s\n", err.message);
  if (rc == 0 && nsr_dist_is_root()) {
    double compute = bench_median(c.compute_ms, c.steps), comm = bench_median(c.comm_ms, c.steps);
    double compute_cpu = bench_median(c.compute_cpu_ms, c.steps);
    const char *threads = getenv("OPENBLAS_NUM_THREADS");
    printf("ranks=%d blas_threads=%s blas_core=%s batch=%d d_model=%d layers=%d params=%zu "
           "allreduce_bytes=%zu steps_timed=%zu compute_ms=%.3f compute_cpu_ms=%.3f comm_ms=%.3f "
           "bare_allreduce_ms=%.4f examples_per_s=%.1f\n",
           nsr_dist_size(), threads ? threads : "default", openblas_get_corename(), cfg.batch, cfg.d_model,
           cfg.n_layers, c.floats, c.floats * sizeof(float), c.steps, compute, compute_cpu, comm, bare,
           cfg.batch / ((compute + comm) / 1e3));
  }
  nsr_nn_free(model);
  nsr_dist_finalize(rc);
  return rc;
}
