/* lang_plot_data.c: the numeric rules of figures (lang_plot.h): bins,
 * quantiles, density's bandwidth and kernel estimate, axis ticks. Plain C
 * on arrays: callers charge the budgets for the work. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "lang_plot.h"

double plot_quantile(const double *sorted, size_t n, double q) {
  double pos = q * (double)(n - 1);
  size_t i = (size_t)pos;
  if (i + 1 >= n) return sorted[n - 1];
  double frac = pos - (double)i;
  return sorted[i] + frac * (sorted[i + 1] - sorted[i]);
}

size_t plot_bin_count(const double *sorted, size_t n) {
  if (n < 2 || !(sorted[n - 1] > sorted[0])) return 1;
  double range = sorted[n - 1] - sorted[0];
  double iqr = plot_quantile(sorted, n, 0.75) - plot_quantile(sorted, n, 0.25);
  double k = iqr > 0 ? ceil(range / (2.0 * iqr / cbrt((double)n)))
                     : ceil(log2((double)n)) + 1.0;
  if (!(k >= PLOT_MIN_BINS)) k = PLOT_MIN_BINS; /* also a NaN from overflow */
  if (k > PLOT_MAX_BINS) k = PLOT_MAX_BINS;
  return (size_t)k;
}

/* v rounded up to 1, 2, 2.5 or 5 times a power of ten. */
static double round_width(double v) {
  double mag = pow(10, floor(log10(v))), r = v / mag;
  return (r <= 1 ? 1 : r <= 2 ? 2 : r <= 2.5 ? 2.5 : r <= 5 ? 5 : 10) * mag;
}

size_t plot_bins(const double *sorted, size_t n, double *start, double *width) {
  double lo = sorted[0], hi = sorted[n - 1];
  double w = round_width((hi - lo) / (double)plot_bin_count(sorted, n));
  if (!(w > 0) || !isfinite(w) || !isfinite(lo / w)) { /* one value (or no room) */
    *start = lo - 0.5;
    *width = 1;
    return 1;
  }
  *start = floor(lo / w) * w;
  *width = w;
  double k = floor((hi - *start) / w) + 1;
  return k > PLOT_MAX_BINS + 1 ? PLOT_MAX_BINS + 1 : (size_t)k;
}

void plot_bin_counts(const double *sorted, size_t n, double start, double width, size_t k,
                     uint64_t *counts) {
  for (size_t b = 0; b < k; b++) counts[b] = 0;
  for (size_t i = 0; i < n; i++) {
    double b = floor((sorted[i] - start) / width);
    counts[b >= (double)k ? k - 1 : b > 0 ? (size_t)b : 0]++;
  }
}

double plot_bandwidth(const double *xs, size_t n) {
  double sum = 0;
  for (size_t i = 0; i < n; i++) sum += xs[i];
  double mean = sum / (double)n, ss = 0;
  for (size_t i = 0; i < n; i++) ss += (xs[i] - mean) * (xs[i] - mean);
  double s = n > 1 ? sqrt(ss / (double)(n - 1)) : 0;
  if (!(s > 0) || !isfinite(s)) return 0.1 * fmax(1.0, fabs(mean));
  return 1.06 * s * pow((double)n, -0.2);
}

double plot_kde(const double *sorted, size_t n, double h, double x, uint64_t *work) {
  size_t lo = 0, hi = n; /* first value >= x - h */
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (sorted[mid] < x - h) lo = mid + 1;
    else hi = mid;
  }
  double sum = 0;
  size_t i = lo;
  for (; i < n && sorted[i] <= x + h; i++) {
    double u = (x - sorted[i]) / h;
    if (u >= -1 && u <= 1) sum += 0.75 * (1 - u * u);
  }
  *work = (i - lo) + 1;
  return sum / ((double)n * h);
}

plot_axis plot_nice_axis(double lo, double hi, int target) {
  if (!isfinite(lo) || !isfinite(hi)) return (plot_axis){0, 1, 0.2};
  if (hi < lo) {
    double t = lo;
    lo = hi;
    hi = t;
  }
  if (hi == lo) { /* one value: a unit (or its own size) around it */
    double pad = lo != 0 ? fabs(lo) * 0.5 : 0.5;
    lo -= pad;
    hi += pad;
  }
  double raw = (hi - lo) / (target > 0 ? target : 1);
  if (!isfinite(raw) || raw <= 0) return (plot_axis){lo, hi, hi - lo};
  double mag = pow(10, floor(log10(raw))), r = raw / mag;
  double step = (r <= 1 ? 1 : r <= 2 ? 2 : r <= 5 ? 5 : 10) * mag;
  return (plot_axis){floor(lo / step + 1e-9) * step, ceil(hi / step - 1e-9) * step, step};
}

/* v in short scientific notation: "2.5e8", "-1e-7". */
static void format_scientific(double v, char *buf, size_t len) {
  char raw[40], *e;
  snprintf(raw, sizeof raw, "%.4g", v);
  if ((e = strchr(raw, 'e')) == NULL) {
    snprintf(buf, len, "%s", raw);
    return;
  }
  const char *digits = e + 1 + (e[1] == '+' || e[1] == '-');
  while (*digits == '0' && digits[1] != '\0') digits++;
  snprintf(buf, len, "%.*se%s%s", (int)(e - raw), raw, e[1] == '-' ? "-" : "", digits);
}

void plot_format_number(double v, double step, char *buf, size_t len) {
  if (!isfinite(v) || !(step > 0) || step >= 1e5 || fabs(v) >= 1e9 ||
      (step < 1e-5 && fabs(v) >= step * 1e-6)) {
    format_scientific(v, buf, len);
    return;
  }
  if (fabs(v) < step * 1e-6) v = 0; /* no "-0" or "1e-17" at zero */
  int d = step >= 1 ? 0 : (int)ceil(-log10(step) - 1e-9);
  /* One more digit when the value is not a multiple of 10^-d
   * (bin edges need not be round). */
  for (int extra = 0; extra < 1; extra++, d++) {
    double scaled = v * pow(10, d);
    if (fabs(scaled - nearbyint(scaled)) < 1e-6 * fmax(1, fabs(scaled))) break;
  }
  if (d > 12) d = 12;
  snprintf(buf, len, "%.*f", d, v);
}

int plot_point_by_x(const void *p, const void *q) {
  const plot_point *a = p, *b = q;
  return a->x != b->x ? (a->x > b->x) - (a->x < b->x) : (a->order > b->order) - (a->order < b->order);
}
