/* fit_metrics.c: agreement between model predictions and human judgments. */
#include <math.h>

#include "nsr_space.h"

/* Pearson's r over n pairs read at byte strides, so that a field of an
 * array of structs (p_yes of the cells) needs no copy. Two passes: the
 * centred sums do not cancel. */
static double pearson_strided(const char *x, size_t x_stride, const char *y, size_t y_stride,
                              size_t n) {
  if (n < 2) return NAN;
#define AT(base, stride, i) (*(const double *)(const void *)((base) + (i) * (stride)))
  double mx = 0, my = 0;
  for (size_t i = 0; i < n; i++) {
    mx += AT(x, x_stride, i);
    my += AT(y, y_stride, i);
  }
  mx /= (double)n;
  my /= (double)n;
  double sxy = 0, sxx = 0, syy = 0;
  for (size_t i = 0; i < n; i++) {
    double dx = AT(x, x_stride, i) - mx, dy = AT(y, y_stride, i) - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
#undef AT
  /* A constant vector has no correlation with anything. */
  if (sxx <= 1e-300 || syy <= 1e-300) return NAN;
  return sxy / sqrt(sxx * syy);
}

double nsr_pearson(const double *x, const double *y, size_t n) {
  return pearson_strided((const char *)x, sizeof *x, (const char *)y, sizeof *y, n);
}

static double noise_ceiling(const nsr_human_data *d) {
  double mean = 0.0, var = 0.0, noise = 0.0, n = (double)d->n_cells;
  for (size_t i = 0; i < d->n_cells; i++) mean += d->cells[i].p_yes / n;
  for (size_t i = 0; i < d->n_cells; i++) {
    const nsr_human_cell *c = &d->cells[i];
    double k = (double)c->yes + c->no;
    var += (c->p_yes - mean) * (c->p_yes - mean) / n;
    /* A cell of one response says nothing about its own noise. */
    if (k > 1) noise += c->p_yes * (1 - c->p_yes) / (k - 1) / n;
  }
  return var > 0 && noise < var ? sqrt(1 - noise / var) : NAN;
}

void nsr_fit_metrics_compute(const nsr_human_data *data, const double *g, const nsr_space_params *prm,
                             nsr_fit_metrics *out) {
  out->n_cells = data->n_cells;
  out->r = out->r_concept = out->rmse = NAN;
  double *p = nsr_mallocarray(data->n_cells ? data->n_cells : 1, sizeof *p);
  if (p == NULL) return; /* NAN metrics: nothing to score with */
  for (size_t s = 0; s < data->n_sets; s++) {
    const nsr_human_set *set = &data->sets[s];
    for (size_t c = set->first_cell; c < set->first_cell + set->n_cells; c++) {
      p[c] = nsr_space_response(prm, set->examples, set->n_examples, data->cells[c].target, g[c]);
    }
  }
  if (data->n_cells) {
    const char *people = (const char *)&data->cells[0].p_yes;
    out->r = pearson_strided((const char *)p, sizeof *p, people, sizeof data->cells[0], data->n_cells);
    out->r_concept = pearson_strided((const char *)g, sizeof *g, people, sizeof data->cells[0], data->n_cells);
  }
  double ll = 0, responses = 0, sq = 0;
  for (size_t i = 0; i < data->n_cells; i++) {
    const nsr_human_cell *c = &data->cells[i];
    sq += (p[i] - c->p_yes) * (p[i] - c->p_yes);
    if (!data->has_counts) continue;
    /* p can reach 0 or 1 only when α = 1; the log of 0 then is honest. */
    if (c->yes) ll += c->yes * log(p[i]);
    if (c->no) ll += c->no * log1p(-p[i]);
    responses += c->yes + c->no;
  }
  nsr_free(p);
  if (data->n_cells) out->rmse = sqrt(sq / (double)data->n_cells);
  out->ceiling_r = data->has_counts ? noise_ceiling(data) : NAN;
  out->log_lik = data->has_counts ? ll : NAN;
  out->log_lik_per_response = data->has_counts && responses > 0 ? ll / responses : NAN;
}
