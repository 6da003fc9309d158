/* bench_numbers.c: latency of exact number-game queries and throughput of
 * `nsr numbers --batch`.
 *
 * Usage: bench_numbers [--reps R] [--batch-lines M] [--nsr PATH]
 * Prints, for N = 100 and N = 10,000, the median latency of one query over
 * Tenenbaum's eight example sets (each query: posterior over all 34 rules
 * and N(N+1)/2 intervals, top 10, and p(y ∈ C | X) for every y), then the
 * batch throughput of the real command writing JSON to /dev/null. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_stats.h"
#include "nsr_symbolic.h"

/* Tenenbaum (2000), the eight example sets of his figures. */
static const uint32_t sets[8][4] = {{16}, {60}, {16, 8, 2, 64}, {60, 52, 57, 55},
                                    {25, 4, 36, 81}, {23, 16, 19, 20},
                                    {80, 10, 60, 30}, {98, 81, 86, 93}};
static const size_t set_sizes[8] = {1, 1, 4, 4, 4, 4, 4, 4};

/* Median seconds per query at this N over reps rounds of the eight sets. */
static double query_latency(uint32_t n, int reps) {
  nsr_numbers_config cfg;
  nsr_numbers_config_default(&cfg);
  cfg.max = n;
  nsr_numbers *engine;
  nsr_error err;
  if (nsr_numbers_new(&cfg, &engine, &err) != NSR_OK) {
    fprintf(stderr, "bench: %s\n", err.message);
    exit(1);
  }
  nsr_numbers_result result = {0};
  double *times = malloc((size_t)reps * 8 * sizeof *times);
  size_t k = 0;
  for (int r = 0; r < reps; r++) {
    for (int s = 0; s < 8; s++) {
      uint64_t t0 = nsr_now_ns();
      if (nsr_numbers_infer(engine, sets[s], set_sizes[s], 10, &result, &err) != NSR_OK) {
        fprintf(stderr, "bench: %s\n", err.message);
        exit(1);
      }
      times[k++] = nsr_seconds_since(t0);
    }
  }
  double m = bench_median(times, k);
  free(times);
  nsr_numbers_result_free(&result);
  nsr_numbers_free(engine);
  return m;
}

/* Runs `nsr numbers --batch FILE` with stdout to /dev/null; returns seconds. */
static double batch_seconds(const char *nsr, const char *path) {
  fflush(stdout); /* or the child would write our buffered lines again */
  uint64_t t0 = nsr_now_ns();
  pid_t pid = fork();
  if (pid == 0) {
    if (freopen("/dev/null", "w", stdout) == NULL) _exit(127);
    execl(nsr, nsr, "numbers", "--batch", path, (char *)NULL);
    _exit(127);
  }
  int status;
  waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    fprintf(stderr, "bench: '%s numbers --batch' failed\n", nsr);
    exit(1);
  }
  return nsr_seconds_since(t0);
}

static void batch_throughput(const char *nsr, int lines, int reps) {
  char path[] = "/tmp/nsr_bench_XXXXXX";
  int fd = mkstemp(path);
  FILE *f = fdopen(fd, "w");
  nsr_rng rng;
  nsr_rng_seed(&rng, 1);
  for (int i = 0; i < lines; i++) {
    int n = 1 + (int)nsr_rng_below(&rng, 4);
    for (int j = 0; j < n; j++) fprintf(f, "%s%u", j ? " " : "", 1 + (unsigned)nsr_rng_below(&rng, 100));
    fputc('\n', f);
  }
  fclose(f);
  double *t = malloc((size_t)reps * sizeof *t);
  for (int r = 0; r < reps; r++) t[r] = batch_seconds(nsr, path);
  double m = bench_median(t, (size_t)reps);
  printf("batch N=100: %d sets in %.3f s (median of %d) = %.0f sets/s, JSON out\n", lines, m,
         reps, lines / m);
  printf("result batch_sets_per_s=%.0f\n", lines / m);
  free(t);
  unlink(path);
}

int main(int argc, char **argv) {
  int reps = 200, lines = 20000;
  const char *nsr = NULL;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--reps") == 0 && i + 1 < argc) reps = atoi(argv[++i]);
    else if (strcmp(argv[i], "--batch-lines") == 0 && i + 1 < argc) lines = atoi(argv[++i]);
    else if (strcmp(argv[i], "--nsr") == 0 && i + 1 < argc) nsr = argv[++i];
    else {
      fprintf(stderr, "usage: %s [--reps R] [--batch-lines M] [--nsr PATH]\n", argv[0]);
      return 2;
    }
  }
  if (reps < 1 || lines < 1) {
    fprintf(stderr, "bench: --reps and --batch-lines must be positive\n");
    return 2;
  }
  static const uint32_t sizes[] = {100, 10000};
  for (size_t i = 0; i < 2; i++) {
    double s = query_latency(sizes[i], reps);
    printf("query N=%u: median %.2f us per query (%d x 8 Tenenbaum sets)\n", sizes[i], s * 1e6, reps);
    printf("result median_us_n%u=%.3f\n", sizes[i], s * 1e6);
  }
  if (nsr) batch_throughput(nsr, lines, reps < 5 ? reps : 5);
  return 0;
}
