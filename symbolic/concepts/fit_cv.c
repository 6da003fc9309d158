/* fit_cv.c: K-fold cross-validation of a fit inside one data split, used
 * to choose settings (the prior's strength, the space) without touching
 * held-out data. */
#include <string.h>

#include "nsr_space.h"

/* Fits a fresh copy of the space to `train` and writes its p(yes) for
 * every cell of `test` into p[0..test->n_cells). */
static nsr_code fold(const char *space_json, const nsr_human_data *train, const nsr_human_data *test,
                     const nsr_fit_options *opt, double *p, nsr_error *err) {
  nsr_space *s;
  nsr_code rc = nsr_space_from_json(space_json, strlen(space_json), "cross-validation", NSR_SPACE_RECORD_EDGES, &s, err);
  if (rc != NSR_OK) return rc;
  nsr_fit_report rep;
  rc = nsr_fit_space(s, train, opt, &rep, err);
  nsr_space_params prm = nsr_space_get_params(s);
  nsr_numbers_result res = {0};
  for (size_t i = 0; rc == NSR_OK && i < test->n_sets; i++) {
    const nsr_human_set *set = &test->sets[i];
    rc = nsr_space_infer(s, set->examples, set->n_examples, 0, &res, err);
    for (size_t c = 0; rc == NSR_OK && c < set->n_cells; c++) {
      uint32_t y = test->cells[set->first_cell + c].target;
      p[set->first_cell + c] = nsr_space_response(&prm, set->examples, set->n_examples, y, res.generalization[y - 1]);
    }
  }
  nsr_numbers_result_free(&res);
  nsr_space_free(s);
  return rc;
}

nsr_code nsr_fit_cross_validate(const char *space_json, const nsr_human_data *data,
                                const nsr_fit_options *opt, int folds, nsr_fit_metrics *out,
                                nsr_error *err) {
  if (folds < 2 || (size_t)folds > data->n_sets) {
    return nsr_fail(err, NSR_ERR_RANGE, "%d folds: need 2 to %zu (the number of sets)", folds, data->n_sets);
  }
  bool *keep = nsr_calloc(data->n_sets, sizeof *keep);
  /* Zeroed: with several processes each fills only its own folds' cells
   * and the sum over processes completes it. */
  double *p_all = nsr_calloc(data->n_cells, sizeof *p_all);
  double *p_fold = nsr_mallocarray(data->n_cells, sizeof *p_fold);
  nsr_code rc = keep && p_all && p_fold ? NSR_OK : nsr_fail(err, NSR_ERR_NOMEM, "cross-validation: out of memory");
  bool split = opt->part_size > 1 && opt->reduce != NULL;
  for (int f = 0; rc == NSR_OK && f < folds; f++) {
    if (split && f % opt->part_size != opt->part_rank) continue; /* another process's fold */
    nsr_human_data train, test;
    for (size_t i = 0; i < data->n_sets; i++) keep[i] = (int)(i % (size_t)folds) != f;
    rc = nsr_human_data_subset(data, keep, &train, err);
    if (rc != NSR_OK) break;
    for (size_t i = 0; i < data->n_sets; i++) keep[i] = !keep[i];
    rc = nsr_human_data_subset(data, keep, &test, err);
    if (rc == NSR_OK) rc = fold(space_json, &train, &test, opt, p_fold, err);
    /* Held-out predictions go back to their cells' places in `data`. */
    for (size_t i = 0, t = 0; rc == NSR_OK && i < data->n_sets; i++) {
      if (!keep[i]) continue;
      memcpy(p_all + data->sets[i].first_cell, p_fold + test.sets[t].first_cell,
             data->sets[i].n_cells * sizeof *p_all);
      t++;
    }
    nsr_human_data_free(&train);
    nsr_human_data_free(&test);
  }
  if (rc == NSR_OK && split) opt->reduce(opt->reduce_ctx, p_all, data->n_cells);
  /* p_all holds p(yes) itself: α = 1 scores it as is. */
  const nsr_space_params as_is = {.alpha = 1.0, .beta = 0.5, .tau = 1.0};
  if (rc == NSR_OK) nsr_fit_metrics_compute(data, p_all, &as_is, out);
  nsr_free(keep);
  nsr_free(p_all);
  nsr_free(p_fold);
  return rc;
}
