/* bench_store.c: rule insertion into the SQLite rule store, batched in one
 * transaction, on a real file in /tmp.
 * Usage: bench_store [--rules N] [--runs R]; prints the median rules/s. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench_stats.h"
#include "nsr_store.h"

/* Seconds to insert n rules into a fresh store. */
static double insert_run(size_t n, nsr_store_rule *rules) {
  char path[] = "/tmp/nsr_bench_store_XXXXXX";
  int fd = mkstemp(path);
  close(fd);
  unlink(path);
  nsr_store *s;
  nsr_error err;
  int64_t model;
  if (nsr_store_open(path, &s, &err) != NSR_OK ||
      nsr_store_add_model(s, "bench", path, "{}", &model, &err) != NSR_OK) {
    fprintf(stderr, "bench_store: %s\n", err.message);
    exit(1);
  }
  uint64_t t0 = nsr_now_ns();
  if (nsr_store_add_rules(s, model, rules, n, &err) != NSR_OK) {
    fprintf(stderr, "bench_store: %s\n", err.message);
    exit(1);
  }
  double seconds = nsr_seconds_since(t0);
  nsr_store_close(s);
  char wal[320];
  unlink(path);
  snprintf(wal, sizeof wal, "%s-wal", path);
  unlink(wal);
  snprintf(wal, sizeof wal, "%s-shm", path);
  unlink(wal);
  return seconds;
}

int main(int argc, char **argv) {
  size_t n = 1000000;
  int runs = 3;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--rules") == 0 && i + 1 < argc) n = strtoull(argv[++i], NULL, 10);
    else if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc) runs = atoi(argv[++i]);
    else {
      fprintf(stderr, "usage: %s [--rules N] [--runs R]\n", argv[0]);
      return 2;
    }
  }
  if (n == 0 || runs < 1) return 2;
  nsr_store_rule *rules = malloc(n * sizeof *rules);
  char (*bodies)[32] = malloc(n * sizeof *bodies);
  for (size_t i = 0; i < n; i++) {
    snprintf(bodies[i], sizeof bodies[i], "unit %zu > 0.%03zu", i % 512, i % 1000);
    rules[i] = (nsr_store_rule){"alignment", (int64_t)(i % 4), (int64_t)(i % 512), bodies[i],
                                nsr_numbers_rule_name((uint32_t)(i % 34)), 0.9, 0.8, 0.1, 10,
                                "ffn.0", "(lambda (x) (= (modulo x 2) 0))",
                                "{\"threshold\":0.42,\"direction\":\">\"}"};
  }
  double *t = malloc((size_t)runs * sizeof *t);
  for (int r = 0; r < runs; r++) t[r] = insert_run(n, rules);
  double median = bench_median(t, (size_t)runs);
  printf("store: %zu rules in one transaction: median %.3f s over %d runs = %.0f rules/s\n", n,
         median, runs, (double)n / median);
  free(t);
  free(bodies);
  free(rules);
  return 0;
}
