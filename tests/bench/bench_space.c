/* bench_space.c: enumeration and exact inference over a grammar-defined
 * space, and (with --data) the time of one fit.
 *
 * Usage: bench_space SPACE.json [--reps R] [--data CSV] [--mh SAMPLES]
 * Prints the distinct extensions, the expressions they summarise, the
 * enumeration time, and the median time of one exact query over
 * Tenenbaum's eight example sets (posterior over every extension and
 * interval, top 10, p(y ∈ C | X) for every y). With --data, fits the space
 * to its dev split and prints the fit's time and iterations. With --mh,
 * runs Metropolis-Hastings over trees for X = {16} and X = {16, 8, 2, 64}
 * at 10^4 .. SAMPLES samples and prints samples/s and the largest error of
 * its p(y ∈ C | X) against the exact grammar component (λ → 1). */
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

static int mh_convergence(nsr_space *s, uint64_t max_samples) {
  nsr_space_params p = nsr_space_get_params(s);
  p.lambda = 1 - 1e-12; /* the exact answer of the grammar component alone */
  nsr_error err;
  if (nsr_space_set_params(s, &p, &err) != NSR_OK) return 1;
  const uint32_t *xs[2] = {sets[0], sets[2]};
  const size_t ns[2] = {1, 4};
  nsr_numbers_result r = {0};
  double *g = malloc(nsr_space_max(s) * sizeof *g);
  for (int k = 0; k < 2; k++) {
    if (nsr_space_infer(s, xs[k], ns[k], 0, &r, &err) != NSR_OK) return 1;
    for (uint64_t samples = 10000; samples <= max_samples; samples *= 10) {
      nsr_mh_options opt = {.samples = samples, .burn_in = 1000, .seed = 1};
      nsr_mh_report rep;
      if (nsr_space_mh(s, xs[k], ns[k], &opt, g, &rep, &err) != NSR_OK) {
        fprintf(stderr, "bench_space: %s\n", err.message);
        return 1;
      }
      double worst = 0;
      for (uint32_t y = 0; y < nsr_space_max(s); y++) {
        double d = g[y] > r.generalization[y] ? g[y] - r.generalization[y] : r.generalization[y] - g[y];
        if (d > worst) worst = d;
      }
      printf("MH, %zu example(s): %9llu samples, %.2e samples/s, acceptance %.3f, max |error| %.4f\n", ns[k],
             (unsigned long long)samples, rep.samples_per_second, rep.acceptance, worst);
    }
  }
  free(g);
  nsr_numbers_result_free(&r);
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: bench_space SPACE.json [--reps R] [--data CSV]\n");
    return 2;
  }
  int reps = 5;
  const char *data = NULL;
  uint64_t mh = 0;
  for (int i = 2; i + 1 < argc; i += 2) {
    if (strcmp(argv[i], "--reps") == 0) reps = atoi(argv[i + 1]);
    else if (strcmp(argv[i], "--data") == 0) data = argv[i + 1];
    else if (strcmp(argv[i], "--mh") == 0) mh = strtoull(argv[i + 1], NULL, 10);
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
  int rc = mh ? mh_convergence(s, mh) : 0;
  nsr_space_free(s);
  return rc ? rc : data ? fit_time(argv[1], data) : 0;
}
