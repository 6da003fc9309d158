/* fit_optim.c: L-BFGS (Nocedal & Wright 2006, algorithm 7.4, with a
 * backtracking Armijo line search) and the public fitting entry point. */
#include <math.h>
#include <string.h>

#include "fit.h"

#define LBFGS_MEMORY 8
#define LINE_SEARCH_STEPS 40
#define ARMIJO_C1 1e-4
#define REL_TOLERANCE 1e-9

void nsr_fit_options_default(nsr_fit_options *opt) {
  /* 5-fold cross-validation inside the dev split of Bigelow & Piantadosi
   * (programs/spaces/lot.json, family_sd 2): held-out log-likelihood per
   * response −0.53228, −0.53235, −0.53238, −0.53447, −0.53515, −0.53558 for
   * 0.01, 0.03, 0.1, 0.25, 0.5, 1: at most 0.1 is as good as tying a
   * family's productions together. */
  *opt = (nsr_fit_options){0}; /* fields not named below: zero, their default */
  opt->weight_sd = 0.1;
  opt->sigma_sd = 0.5;
  opt->family_sd = 2.0;
  opt->max_iterations = 200;
  opt->fit_weights = true;
  opt->fit_gamma = false;
  opt->fit_similarity = false;
  opt->fit_by_n = false;
}

typedef struct lbfgs {
  size_t n;
  double *s, *y; /* [LBFGS_MEMORY][n] */
  double rho[LBFGS_MEMORY], alpha[LBFGS_MEMORY];
  size_t count, next;
} lbfgs;

static double dot(const double *a, const double *b, size_t n) {
  double sum = 0.0;
  for (size_t i = 0; i < n; i++) sum += a[i] * b[i];
  return sum;
}

/* d = −H g by the two-loop recursion over the stored pairs. */
static void lbfgs_direction(lbfgs *m, const double *g, double *d) {
  size_t n = m->n;
  for (size_t i = 0; i < n; i++) d[i] = -g[i];
  for (size_t k = 0; k < m->count; k++) {
    size_t j = (m->next + LBFGS_MEMORY - 1 - k) % LBFGS_MEMORY;
    m->alpha[j] = m->rho[j] * dot(m->s + j * n, d, n);
    for (size_t i = 0; i < n; i++) d[i] -= m->alpha[j] * m->y[j * n + i];
  }
  if (m->count > 0) {
    size_t j = (m->next + LBFGS_MEMORY - 1) % LBFGS_MEMORY;
    double gamma = dot(m->s + j * n, m->y + j * n, n) / dot(m->y + j * n, m->y + j * n, n);
    for (size_t i = 0; i < n; i++) d[i] *= gamma;
  }
  for (size_t k = m->count; k-- > 0;) {
    size_t j = (m->next + LBFGS_MEMORY - 1 - k) % LBFGS_MEMORY;
    double beta = m->rho[j] * dot(m->y + j * n, d, n);
    for (size_t i = 0; i < n; i++) d[i] += (m->alpha[j] - beta) * m->s[j * n + i];
  }
}

/* Minimises the fit objective from x (updated in place); returns the
 * iterations used and the final value in *fx. */
static int minimise(fit_problem *fp, double *x, double *fx, double *work) {
  size_t n = fp->dim;
  lbfgs m = {.n = n, .s = work, .y = work + LBFGS_MEMORY * n};
  double *g = m.y + LBFGS_MEMORY * n, *d = g + n, *x_new = d + n, *g_new = x_new + n;
  double f = fit_objective(fp, x, g);
  int iter = 0;
  for (; iter < fp->opt.max_iterations; iter++) {
    lbfgs_direction(&m, g, d);
    double slope = dot(g, d, n);
    if (!(slope < 0)) { /* not a descent direction: restart from −g */
      m.count = 0;
      for (size_t i = 0; i < n; i++) d[i] = -g[i];
      slope = dot(g, d, n);
    }
    double t = m.count == 0 ? fmin(1.0, 1.0 / sqrt(dot(g, g, n) + 1e-300)) : 1.0, f_new = f;
    int step = 0;
    for (; step < LINE_SEARCH_STEPS; step++, t *= 0.5) {
      for (size_t i = 0; i < n; i++) x_new[i] = x[i] + t * d[i];
      f_new = fit_objective(fp, x_new, g_new);
      if (isfinite(f_new) && f_new <= f + ARMIJO_C1 * t * slope) break;
    }
    if (step == LINE_SEARCH_STEPS) break; /* no progress along d */
    double *sj = m.s + m.next * n, *yj = m.y + m.next * n;
    for (size_t i = 0; i < n; i++) {
      sj[i] = x_new[i] - x[i];
      yj[i] = g_new[i] - g[i];
    }
    double sy = dot(sj, yj, n);
    if (sy > 1e-12) {
      m.rho[m.next] = 1.0 / sy;
      m.next = (m.next + 1) % LBFGS_MEMORY;
      if (m.count < LBFGS_MEMORY) m.count++;
    }
    bool converged = fabs(f - f_new) <= REL_TOLERANCE * fmax(1.0, fabs(f));
    memcpy(x, x_new, n * sizeof *x);
    memcpy(g, g_new, n * sizeof *g);
    f = f_new;
    if (converged) {
      iter++;
      break;
    }
  }
  fit_objective(fp, x, g); /* leave the space at x */
  *fx = f;
  return iter;
}

nsr_code nsr_fit_space(nsr_space *space, const nsr_human_data *data, const nsr_fit_options *opt,
                       nsr_fit_report *report, nsr_error *err) {
  uint64_t start = nsr_now_ns();
  fit_problem fp;
  nsr_code rc = fit_problem_init(&fp, space, data, opt, err);
  double *x = NULL, *work = NULL;
  if (rc == NSR_OK) {
    x = nsr_mallocarray(fp.dim, sizeof *x);
    work = nsr_mallocarray((2 * LBFGS_MEMORY + 4) * fp.dim, sizeof *work);
    if (!x || !work) rc = nsr_fail(err, NSR_ERR_NOMEM, "fit: out of memory");
  }
  if (rc == NSR_OK) {
    fit_theta_get(&fp, x);
    memset(report, 0, sizeof *report);
    report->iterations = minimise(&fp, x, &report->objective, work);
    report->log_lik = fp.log_lik;
    report->seconds = nsr_seconds_since(start);
    if (!isfinite(report->objective)) {
      rc = nsr_fail(err, NSR_ERR_INTERNAL, "the fit's objective is not finite (%g)", report->objective);
    }
  }
  nsr_free(x);
  nsr_free(work);
  fit_problem_free(&fp);
  return rc;
}
