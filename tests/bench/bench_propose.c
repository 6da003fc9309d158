/* bench_propose.c: per-query latency of `nsr propose` after load (the
 * network's forward pass, top K, exact rescoring and the exact MAP) against
 * the exact engine alone, on Tenenbaum's eight example sets.
 *
 * Usage: bench_propose MODEL.safetensors [--reps R] [--top K]
 * Prints the median microseconds per query of: nsr_propose (top K),
 * nsr_propose_forward (the network only), nsr_numbers_infer (top K, the
 * exact engine's answer with generalization) and nsr_numbers_posterior_all
 * (the whole exact posterior vector), with OpenBLAS's core and threads. */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_stats.h"
#include "nsr_learn.h"

static const uint32_t sets[8][4] = {{16}, {60}, {16, 8, 2, 64}, {60, 52, 57, 55},
                                    {25, 4, 36, 81}, {23, 16, 19, 20},
                                    {80, 10, 60, 30}, {98, 81, 86, 93}};
static const size_t set_sizes[8] = {1, 1, 4, 4, 4, 4, 4, 4};

typedef enum what { PROPOSE, FORWARD, INFER, POSTERIOR_ALL } what;
static const char *const labels[] = {"nsr_propose (network + exact rescoring)",
                                     "network forward only", "exact engine: nsr_numbers_infer",
                                     "exact engine: posterior_all (5084 values)"};

/* One query of kind w on set s; false on error. */
static bool query(what w, nsr_proposer *p, size_t top, size_t s, nsr_proposals *r,
                  nsr_numbers_result *res, float *all, size_t count) {
  nsr_error err;
  nsr_numbers *e = nsr_proposer_engine(p);
  switch (w) {
    case PROPOSE: return nsr_propose(p, sets[s], set_sizes[s], top, r, &err) == NSR_OK;
    case FORWARD: return nsr_propose_forward(p, sets[s], set_sizes[s], &err) == NSR_OK;
    case INFER: return nsr_numbers_infer(e, sets[s], set_sizes[s], top, res, &err) == NSR_OK;
    case POSTERIOR_ALL: return nsr_numbers_posterior_all(e, sets[s], set_sizes[s], all, count, &err) == NSR_OK;
  }
  return false;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: bench_propose MODEL.safetensors [--reps R] [--top K]\n");
    return 2;
  }
  int reps = 200;
  size_t top = 10;
  for (int i = 2; i + 1 < argc; i += 2) {
    if (strcmp(argv[i], "--reps") == 0) reps = atoi(argv[i + 1]);
    else if (strcmp(argv[i], "--top") == 0) top = (size_t)atoi(argv[i + 1]);
  }
  if (reps < 1 || top < 1 || top > NSR_PROPOSE_MAX_TOP) {
    fprintf(stderr, "bench_propose: bad --reps or --top\n");
    return 2;
  }
  /* One query is a few small matrix products: threads only add hand-offs. */
  openblas_set_num_threads(1);
  nsr_proposer *p;
  nsr_error err;
  if (nsr_proposer_load(argv[1], 0, &p, &err) != NSR_OK) {
    fprintf(stderr, "bench_propose: %s\n", err.message);
    return 1;
  }
  size_t count = nsr_numbers_space_size(nsr_proposer_engine(p));
  float *all = malloc(count * sizeof *all);
  double *t = malloc((size_t)reps * 8 * sizeof *t);
  nsr_numbers_result res = {0};
  nsr_proposals r;
  printf("OpenBLAS core %s, %d threads; median of %d x 8 queries, top %zu\n",
         openblas_get_corename(), openblas_get_num_threads(), reps, top);
  int status = 0;
  for (int w = PROPOSE; w <= POSTERIOR_ALL && status == 0; w++) {
    for (int k = 0; k < reps * 8 && status == 0; k++) {
      uint64_t start = nsr_now_ns();
      if (!query((what)w, p, top, (size_t)k % 8, &r, &res, all, count)) status = 1;
      t[k] = (double)(nsr_now_ns() - start) / 1e3;
    }
    bench_sort(t, (size_t)reps * 8);
    printf("%-44s median %8.1f us  p90 %8.1f us\n", labels[w], t[reps * 4], t[reps * 8 * 9 / 10]);
  }
  nsr_numbers_result_free(&res);
  free(all);
  free(t);
  nsr_proposer_free(p);
  return status;
}
