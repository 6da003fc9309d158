/* bench_space.c: enumeration and exact inference over a grammar-defined
 * space, and (with --data) the time of one fit.
 *
 * Usage: bench_space SPACE.json [--reps R] [--data CSV]
 * Prints the distinct extensions, the expressions they summarise, the
 * enumeration time, and the median time of one exact query over
 * Tenenbaum's eight example sets (posterior over every extension and
 * interval, top 10, p(y ∈ C | X) for every y). With --data, fits the space
 * to its dev split and prints the fit's time and iterations. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nsr_space.h"

static const uint32_t sets[8][4] = {{16}, {60}, {16, 8, 2, 64}, {60, 52, 57, 55},
                                    {25, 4, 36, 81}, {23, 16, 19, 20},
                                    {80, 10, 60, 30}, {98, 81, 86, 93}};
static const size_t set_sizes[8] = {1, 1, 4, 4, 4, 4, 4, 4};

static int compare_doubles(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static int fit_time(const char *space_path, const char *data_path) {
  nsr_space *s;
  nsr_error err;
  nsr_human_data d;
  if (nsr_space_load(space_path, true, &s, &err) != NSR_OK ||
      nsr_human_data_load(data_path, "dev", nsr_space_max(s), &d, &err) != NSR_OK) {
    fprintf(stderr, "bench_space: %s\n", err.message);
    return 1;
  }
  nsr_fit_options opt;
  nsr_fit_options_default(&opt);
  nsr_fit_report rep;
  int rc = nsr_fit_space(s, &d, &opt, &rep, &err) != NSR_OK;
  if (rc) fprintf(stderr, "bench_space: %s\n", err.message);
  else printf("fit on dev (%zu sets): %.2f s, %d L-BFGS iterations, log-likelihood %.2f\n", d.n_sets,
              rep.seconds, rep.iterations, rep.log_lik);
  nsr_human_data_free(&d);
  nsr_space_free(s);
  return rc;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: bench_space SPACE.json [--reps R] [--data CSV]\n");
    return 2;
  }
  int reps = 5;
  const char *data = NULL;
  for (int i = 2; i + 1 < argc; i += 2) {
    if (strcmp(argv[i], "--reps") == 0) reps = atoi(argv[i + 1]);
    else if (strcmp(argv[i], "--data") == 0) data = argv[i + 1];
  }
  if (reps < 1) reps = 1;
  nsr_space *s;
  nsr_error err;
  if (nsr_space_load(argv[1], false, &s, &err) != NSR_OK) {
    fprintf(stderr, "bench_space: %s\n", err.message);
    return 1;
  }
  printf("space %s: %zu distinct extensions from %.4g expressions, enumerated in %.3f s\n", argv[1],
         nsr_space_extensions(s), nsr_space_expressions(s), nsr_space_build_seconds(s));
  double *t = malloc((size_t)reps * 8 * sizeof *t);
  nsr_numbers_result r = {0};
  for (int k = 0; k < reps * 8; k++) {
    uint64_t start = nsr_now_ns();
    if (nsr_space_infer(s, sets[k % 8], set_sizes[k % 8], 10, &r, &err) != NSR_OK) {
      fprintf(stderr, "bench_space: %s\n", err.message);
      return 1;
    }
    t[k] = nsr_seconds_since(start);
  }
  qsort(t, (size_t)reps * 8, sizeof *t, compare_doubles);
  printf("exact query: median %.3f ms over %d queries\n", 1e3 * t[reps * 4], reps * 8);
  free(t);
  nsr_numbers_result_free(&r);
  nsr_space_free(s);
  return data ? fit_time(argv[1], data) : 0;
}
