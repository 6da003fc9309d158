/* numbers_brute.c: see numbers_brute.h. */
#include "numbers_brute.h"

#include <math.h>
#include <stdlib.h>

static bool is_prime_by_trial(uint32_t y) {
  if (y < 2) return false;
  for (uint32_t d = 2; d * d <= y; d++) if (y % d == 0) return false;
  return true;
}

static bool is_perfect_power(uint32_t y, int e) {
  uint32_t k = (uint32_t)llround(pow(y, 1.0 / e));
  for (uint32_t c = k > 0 ? k - 1 : 0; c <= k + 1; c++) {
    uint64_t p = e == 2 ? (uint64_t)c * c : (uint64_t)c * c * c;
    if (c > 0 && p == y) return true;
  }
  return false;
}

static bool is_power_of(uint32_t y, uint32_t b) {
  if (y < b) return false;
  while (y % b == 0) y /= b;
  return y == 1;
}

/* Rule r in Tenenbaum's order, as a predicate on y. */
bool rule_has(int r, uint32_t y) {
  if (r == 0) return y % 2 == 0;
  if (r == 1) return y % 2 == 1;
  if (r == 2) return is_perfect_power(y, 2);
  if (r == 3) return is_perfect_power(y, 3);
  if (r == 4) return is_prime_by_trial(y);
  if (r < 15) return y % (uint32_t)(r - 2) == 0;   /* multiples of 3..12 */
  if (r < 24) return is_power_of(y, (uint32_t)(r - 13)); /* powers of 2..10 */
  return y % 10 == (uint32_t)(r - 24);              /* ends in 0..9 */
}

double brute_log_erlang(double s, double sigma) { return log(s / (sigma * sigma)) - s / sigma; }

/* Visits all 34 + N(N+1)/2 hypotheses one at a time. */
void brute_force(const nsr_numbers_config *cfg, const uint32_t *x, size_t n, brute *b) {
  uint32_t N = cfg->max;
  double sigma = cfg->sigma;
  double erl_total = 0;
  for (uint32_t lo = 1; lo <= N; lo++)
    for (uint32_t hi = lo; hi <= N; hi++) erl_total += exp(brute_log_erlang(hi - lo + 1, sigma));
  double lw_rule = cfg->prior == NSR_PRIOR_PMTK3 ? log(2.0 / 3) : log(cfg->lambda / 34);
  double lw_int = cfg->prior == NSR_PRIOR_PMTK3 ? log(1.0 / 3) : log(1 - cfg->lambda) - log(erl_total);
  double z_prior = 34 * exp(lw_rule) + exp(lw_int) * erl_total;
  /* First pass: the largest log score, for scaling. */
  double rule_score[34], best = -INFINITY;
  for (int r = 0; r < 34; r++) {
    uint32_t size = 0;
    for (uint32_t y = 1; y <= N; y++) size += rule_has(r, y);
    bool ok = size > 0;
    for (size_t i = 0; i < n; i++) ok = ok && rule_has(r, x[i]);
    rule_score[r] = ok ? lw_rule - (double)n * log(size) : -INFINITY;
    if (rule_score[r] > best) best = rule_score[r];
  }
  uint32_t xmin = x[0], xmax = x[0];
  for (size_t i = 0; i < n; i++) {
    if (x[i] < xmin) xmin = x[i];
    if (x[i] > xmax) xmax = x[i];
  }
  for (uint32_t lo = 1; lo <= xmin; lo++)
    for (uint32_t hi = xmax; hi <= N; hi++) {
      double s = lw_int + brute_log_erlang(hi - lo + 1, sigma) - (double)n * log(hi - lo + 1);
      if (s > best) best = s;
    }
  /* Second pass: masses, with a difference array for intervals' coverage. */
  double *diff = calloc(N + 2, sizeof *diff);
  double z = 0, best_int = 0;
  for (uint32_t lo = 1; lo <= xmin; lo++)
    for (uint32_t hi = xmax; hi <= N; hi++) {
      double m = exp(lw_int + brute_log_erlang(hi - lo + 1, sigma) - (double)n * log(hi - lo + 1) - best);
      z += m;
      diff[lo] += m;
      diff[hi + 1] -= m;
      if (m > best_int) best_int = m;
    }
  for (int r = 0; r < 34; r++) z += rule_score[r] > -INFINITY ? exp(rule_score[r] - best) : 0;
  double run = 0;
  for (uint32_t y = 1; y <= N; y++) {
    run += diff[y];
    double g = run;
    for (int r = 0; r < 34; r++)
      if (rule_score[r] > -INFINITY && rule_has(r, y)) g += exp(rule_score[r] - best);
    b->gen[y - 1] = g / z;
  }
  for (int r = 0; r < 34; r++) b->rule_post[r] = rule_score[r] > -INFINITY ? exp(rule_score[r] - best) / z : 0;
  b->best_interval_post = best_int / z;
  b->log_evidence = best + log(z) - log(z_prior);
  b->rules_prior_mass = 34 * exp(lw_rule) / z_prior;
  if (b->interval_post != NULL) {
    double *p = b->interval_post;
    for (uint32_t lo = 1; lo <= N; lo++)
      for (uint32_t hi = lo; hi <= N; hi++) {
        bool consistent = lo <= xmin && hi >= xmax;
        *p++ = consistent ? exp(lw_int + brute_log_erlang(hi - lo + 1, sigma) -
                                (double)n * log(hi - lo + 1) - best) / z
                          : 0.0;
      }
  }
  free(diff);
}

