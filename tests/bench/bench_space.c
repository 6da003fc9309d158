/* bench_space.c: enumeration and exact inference over a grammar-defined
 * space, the time of one fit, and Metropolis-Hastings against exact answers.
 *
 * Usage: bench_space SPACE.json DATA.csv [--reps R] [--fit] [--mh SAMPLES]
 * Prints the distinct extensions, the expressions they summarise, the
 * enumeration time, and the mean time of one exact query (posterior over
 * every extension and interval, top 10, p(y ∈ C | X) for every y) over the
 * example sets of DATA.csv, R times. With --fit, fits the space to the dev
 * split of DATA.csv and prints the fit's time and iterations. With --mh,
 * runs Metropolis-Hastings over trees for X = {16} and X = {16, 8, 2, 64}
 * at 10^4 .. SAMPLES samples and prints samples/s and the largest error of
 * its p(y ∈ C | X) against the exact grammar component (λ → 1). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nsr_space.h"


static int fit_time(const char *space_path, const char *data_path) {
  nsr_space *s;
  nsr_error err;
  nsr_human_data d;
  if (nsr_space_load(space_path, NSR_SPACE_RECORD_EDGES, &s, &err) != NSR_OK ||
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
  static const uint32_t one[] = {16}, four[] = {16, 8, 2, 64};
  const uint32_t *xs[2] = {one, four};
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

/* Mean seconds of one exact query over every set of d, reps times. */
static double query_seconds(nsr_space *s, const nsr_human_data *d, int reps) {
  nsr_numbers_result r = {0};
  nsr_error err;
  uint64_t start = nsr_now_ns();
  for (int k = 0; k < reps; k++) {
    for (size_t i = 0; i < d->n_sets; i++) {
      if (nsr_space_infer(s, d->sets[i].examples, d->sets[i].n_examples, 10, &r, &err) != NSR_OK) {
        fprintf(stderr, "bench_space: %s\n", err.message);
        exit(1);
      }
    }
  }
  nsr_numbers_result_free(&r);
  return nsr_seconds_since(start) / ((double)reps * (double)d->n_sets);
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: bench_space SPACE.json DATA.csv [--reps R] [--fit] [--mh SAMPLES]\n");
    return 2;
  }
  int reps = 1;
  bool fit = false;
  uint64_t mh = 0;
  for (int i = 3; i < argc; i++) {
    if (strcmp(argv[i], "--fit") == 0) fit = true;
    else if (strcmp(argv[i], "--reps") == 0 && i + 1 < argc) reps = atoi(argv[++i]);
    else if (strcmp(argv[i], "--mh") == 0 && i + 1 < argc) mh = strtoull(argv[++i], NULL, 10);
  }
  if (reps < 1) reps = 1;
  nsr_space *s;
  nsr_error err;
  nsr_human_data d;
  if (nsr_space_load(argv[1], false, &s, &err) != NSR_OK ||
      nsr_human_data_load(argv[2], "all", nsr_space_max(s), &d, &err) != NSR_OK) {
    fprintf(stderr, "bench_space: %s\n", err.message);
    return 1;
  }
  printf("space %s: %zu distinct extensions from %.4g expressions, enumerated in %.3f s\n", argv[1],
         nsr_space_extensions(s), nsr_space_expressions(s), nsr_space_build_seconds(s));
  printf("exact query: %.3f ms on average over %zu example sets x %d\n", 1e3 * query_seconds(s, &d, reps),
         d.n_sets, reps);
  nsr_human_data_free(&d);
  int rc = mh ? mh_convergence(s, mh) : 0;
  nsr_space_free(s);
  return rc ? rc : fit ? fit_time(argv[1], argv[2]) : 0;
}
