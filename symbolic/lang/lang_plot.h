/* lang_plot.h: figures (hist, density, barplot, scatter, lineplot), inside
 * the lang wing. lang_plot.c turns a program's data into a plot_fig and
 * prints its text summary or hands it to lang_svg.c; lang_plot_data.c
 * holds the numeric rules (bins, bandwidth, kernel density, axis ticks),
 * plain C on arrays so tests can check them against hand computations. */
#ifndef NSR_LANG_PLOT_H
#define NSR_LANG_PLOT_H

#include <stddef.h>
#include <stdint.h>

#include "lang_internal.h"

/* Bounds that keep a figure's file small whatever the data. */
#define PLOT_MAX_BARS 40      /* bars of a hist or barplot; past it, the
                                 most frequent PLOT_MAX_BARS - 1 and one
                                 "others" bar */
#define PLOT_MAX_POINTS 5000  /* points drawn by scatter and lineplot;
                                 past it, every k-th point (k = ceil(n /
                                 PLOT_MAX_POINTS)), in order */
#define PLOT_MAX_LABEL 40     /* characters of a bar's label */
#define PLOT_MAX_TITLE 150    /* characters of a title */
#define PLOT_DISTINCT_NUMBERS 20 /* hist: more distinct numbers than this
                                    are put into bins */
#define PLOT_MIN_BINS 5
#define PLOT_MAX_BINS 30
#define PLOT_GRID 101         /* points where density evaluates its estimate */
#define PLOT_MAX_FILES 999    /* figures one interpreter writes */

/* One bar: its label (UTF-8, owned) and its height. */
typedef struct plot_bar {
  char *label;
  double value;
} plot_bar;

/* A figure, in C memory (no heap values): what the SVG writer and the text
 * summary draw. plot_fig_free frees every pointer in it. */
typedef struct plot_fig {
  const char *kind;   /* "hist", "barplot", ...: names the file */
  char *title;        /* the program's title, or NULL */
  char *x_label, *y_label; /* axis titles, or NULL */
  /* Bar figures (hist, barplot): horizontal bars, one per label. */
  plot_bar *bars;
  size_t n_bars;
  bool percent;       /* values are shares: the axis reads in % */
  /* XY figures (scatter, lineplot, density). */
  double *xs, *ys;
  size_t n_points;
  bool dots, line;    /* draw the points; join them in order */
  size_t n_total;     /* points the data had (more than drawn when thinned) */
  /* density's optional histogram behind the curve: bins of equal width
   * from bin_start, heights on the density's scale. */
  double *bin_heights;
  size_t n_bins;
  double bin_start, bin_width; /* hist's bins too (width 0: none) */
  double bandwidth, mean, sd;  /* density's, for its text summary */
} plot_fig;

void plot_fig_free(plot_fig *f);

/* ---- lang_plot.c: shared with lang_plot_series.c -------------------------- */

#define PLOT_MAX_SERIES 16 /* lineplot-value titles per interpreter */

/* One lineplot-value series: its title, its points in call order (at most
 * PLOT_MAX_POINTS), its file, whether it changed since last drawn. */
typedef struct plot_series {
  char *title;
  double *xs, *ys;
  size_t n, file;
  bool dirty;
} plot_series;

/* An interpreter's figures (nsr_lang.plots): the files named so far and
 * lineplot-value's series. */
struct lang_plots {
  size_t n;
  char names[PLOT_MAX_FILES][32];
  plot_series series[PLOT_MAX_SERIES];
  size_t n_series;
};

/* I->plots, made on first use. */
lang_rc plot_state(nsr_lang *I, struct lang_plots **out);
/* Names the next file of cfg.plot_dir, plot-NNN-KIND.svg, in *index. */
lang_rc plot_reserve_file(nsr_lang *I, const char *kind, size_t *index);
/* Writes f as the SVG file named at `index`, atomically. */
lang_rc plot_write_file(nsr_lang *I, size_t index, const plot_fig *f);
/* Argument i, when given, as a title or axis text into *out (nsr_free): a
 * string or a symbol (#f or a missing argument: none). */
lang_rc plot_text_arg(nsr_lang *I, const char *name, lval *a, int n, int i, char **out);
/* A finite number into *x, or false. */
bool plot_finite_number(lval v, double *x);
/* The item and weight of a datum (item . weight) or (item weight), or false. */
bool plot_item_and_weight(lval d, lval *item, double *w);

/* ---- lang_plot_series.c: lineplot-value ----------------------------------- */

/* (lineplot-value (x . y) [title]): adds a point to the title's series. */
lang_rc plot_lineplot_value(nsr_lang *I, lval *a, int n, lval *out);
/* Draws the series changed since last drawn (end of each evaluation). */
lang_rc plot_series_flush(nsr_lang *I);
void plot_series_free(struct lang_plots *P);

/* ---- lang_plot_data.c: the numeric rules ---------------------------------- */

/* A point of scatter or lineplot; `order` is its place in the data, so
 * sorting by x keeps equal x in the order given. */
typedef struct plot_point {
  double x, y;
  size_t order;
} plot_point;

/* qsort order of plot_points: x ascending, then order. */
int plot_point_by_x(const void *p, const void *q);

/* Number of equal-width bins for n sorted values: the Freedman-Diaconis
 * width 2 IQR / n^(1/3) over the range, or Sturges' ceil(log2 n) + 1 when
 * the IQR is 0, clamped to PLOT_MIN_BINS..PLOT_MAX_BINS; 1 when every value
 * is the same. */
size_t plot_bin_count(const double *sorted, size_t n);
/* The bins of n >= 1 sorted values: the width range / plot_bin_count
 * rounded up to a round number (1, 2, 2.5 or 5 times a power of ten), the
 * first bin starting at the largest multiple of it not above the minimum,
 * bins [start + i w, start + (i+1) w) up to the one holding the maximum.
 * Returns their number (at most PLOT_MAX_BINS + 1); one value alone is one
 * bin of width 1 around it. */
size_t plot_bins(const double *sorted, size_t n, double *start, double *width);
/* Counts n sorted values into the k bins from plot_bins (counts[0..k)). */
void plot_bin_counts(const double *sorted, size_t n, double start, double width, size_t k,
                     uint64_t *counts);
/* The linear-interpolated quantile q (0..1) of n >= 1 sorted values. */
double plot_quantile(const double *sorted, size_t n, double q);
/* Density's bandwidth, as webchurch's: 1.06 s n^(-1/5) (Silverman's
 * normal-reference rule), s the sample standard deviation (n - 1); when
 * the values do not vary (or n is 1), 0.1 max(1, |mean|). */
double plot_bandwidth(const double *xs, size_t n);
/* The Epanechnikov kernel density estimate at x of n sorted values with
 * bandwidth h: sum of 0.75 (1 - u^2) over |u| <= 1, u = (x - xi) / h,
 * divided by n h. *work gets the values visited (for the budgets). */
double plot_kde(const double *sorted, size_t n, double h, double x, uint64_t *work);

/* Axis ticks: a "nice" step (1, 2 or 5 times a power of ten) giving about
 * `target` ticks over [lo, hi], and the domain widened to multiples of it. */
typedef struct plot_axis {
  double lo, hi, step;
} plot_axis;
plot_axis plot_nice_axis(double lo, double hi, int target);
/* v printed for a tick or a bin edge spaced `step` apart: no more digits
 * than the step needs ("0.3", not "0.30000000000000004"); steps from 10^5
 * or below 10^-5 (and values past 10^9) in short scientific notation
 * ("2.5e8"), so labels stay narrow. */
void plot_format_number(double v, double step, char *buf, size_t len);

/* ---- lang_svg.c ---------------------------------------------------------- */

/* Appends fig as a standalone SVG document to b. Every text from the
 * program is escaped and cut to its bound. */
void plot_svg(lang_buf *b, const plot_fig *fig);
/* Appends s (UTF-8 from a program) as XML character data: & < > " '
 * escaped, control characters as spaces, bytes that are not UTF-8 (and
 * the non-characters U+FFFE, U+FFFF) as U+FFFD; at most max_chars
 * characters, then an ellipsis. */
void plot_xml_text(lang_buf *b, const char *s, size_t max_chars);

/* ---- lang_plot_text.c ----------------------------------------------------- */

/* Appends fig's text summary to b (what hist and the others print without
 * a plot directory): the kind and title, then at most PLOT_MAX_BARS bars of
 * '#' marks, or density's curve at a few points, or the points (a
 * character canvas past 20 of them). */
void plot_text(lang_buf *b, const plot_fig *fig);

extern const lang_prim_def lang_prims_plot[];

#endif
