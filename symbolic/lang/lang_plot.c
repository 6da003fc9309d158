/* lang_plot.c: the figure primitives hist, density, barplot, scatter,
 * lineplot and multiviz. Each reads a program's data into a plot_fig (C
 * memory), then either writes it as an SVG file into cfg.plot_dir
 * (plot-NNN-KIND.svg, in call order, atomically) or prints a short text
 * summary. The rules (sorting, bins, bandwidth, bounds) are in
 * symbolic/lang/README.md, "Figures". Every loop over the data is charged
 * to the budgets. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fileio.h"
#include "lang_plot.h"

/* The bytes a label keeps before it is cut (the SVG shows fewer). */
#define LABEL_BYTES 256

void plot_fig_free(plot_fig *f) {
  nsr_free(f->title);
  nsr_free(f->x_label);
  nsr_free(f->y_label);
  for (size_t i = 0; i < f->n_bars; i++) nsr_free(f->bars[i].label);
  nsr_free(f->bars);
  nsr_free(f->xs);
  nsr_free(f->ys);
  nsr_free(f->bin_heights);
  *f = (plot_fig){0};
}

static lang_rc out_of_memory(nsr_lang *I) {
  return lang_fail_at(I, I->site.cur_pos, NSR_ERR_NOMEM, "out of memory");
}

/* Charges n log2 n steps: a sort of n items. */
static lang_rc charge_sort(nsr_lang *I, size_t n) {
  return lang_charge(I, (uint64_t)((double)n * log2((double)n + 2)));
}

/* Arrays as long as the data live outside the heap: the memory budget
 * counts them while they do. scratch_new gives n zeroed items of `size`
 * bytes, or NULL with the error set; scratch_free takes them back. */
static void *scratch_new(nsr_lang *I, size_t n, size_t size) {
  ptrdiff_t cost = (ptrdiff_t)lang_malloc_cost(n * size);
  if (lang_account(I, cost) != LANG_OK) return NULL;
  void *p = nsr_calloc(n, size);
  if (p == NULL) {
    (void)lang_account(I, -cost);
    out_of_memory(I);
  }
  return p;
}

static void scratch_free(nsr_lang *I, void *p, size_t n, size_t size) {
  if (p == NULL) return;
  nsr_free(p);
  (void)lang_account(I, -(ptrdiff_t)lang_malloc_cost(n * size));
}

/* ---- reading the program's data ------------------------------------------ */

/* v as display prints it, cut to LABEL_BYTES (with an ellipsis), control
 * characters as spaces, into *out (nsr_free). */
static lang_rc make_label(nsr_lang *I, lval v, char **out) {
  lang_buf b = {.limit = LABEL_BYTES};
  lang_print(&b, v, false);
  if (b.failed && !b.over) {
    nsr_free(b.data);
    return out_of_memory(I);
  }
  size_t len = b.len;
  char *s = nsr_mallocarray(len + 4, 1);
  if (s == NULL) {
    nsr_free(b.data);
    return out_of_memory(I);
  }
  for (size_t i = 0; i < len; i++) s[i] = (unsigned char)b.data[i] < 0x20 ? ' ' : b.data[i];
  memcpy(s + len, b.over ? "\xE2\x80\xA6" : "", b.over ? 4 : 1); /* … */
  nsr_free(b.data);
  *out = s;
  return lang_charge(I, len / 64);
}

lang_rc plot_text_arg(nsr_lang *I, const char *name, lval *a, int n, int i, char **out) {
  *out = NULL;
  if (n <= i || (a[i].type == NSR_LANG_BOOL && !a[i].as.b)) return LANG_OK;
  if (a[i].type != NSR_LANG_STRING && a[i].type != NSR_LANG_SYMBOL) {
    return lang_type_error(I, name, "a string (the title)", i, a[i]);
  }
  return make_label(I, a[i], out);
}

/* scatter and lineplot's optional axis titles: a list of two strings. */
static lang_rc axis_labels_arg(nsr_lang *I, const char *name, lval *a, int n, int i,
                               plot_fig *f) {
  if (n <= i || (a[i].type == NSR_LANG_BOOL && !a[i].as.b)) return LANG_OK;
  lval l = a[i];
  if (lang_list_length(l) != 2) {
    return lang_type_error(I, name, "a list of two axis titles", i, l);
  }
  lval two[2] = {lang_car(l), lang_car(lang_cdr(l))};
  return plot_text_arg(I, name, two, 2, 0, &f->x_label) != LANG_OK ||
                 plot_text_arg(I, name, two, 2, 1, &f->y_label) != LANG_OK
             ? LANG_ERROR
             : LANG_OK;
}

bool plot_finite_number(lval v, double *x) {
  if (!lang_is_number(v)) return false;
  *x = lang_num(v);
  return isfinite(*x);
}

/* The list argument i as n >= 1 finite numbers into *xs (scratch_free). */
static lang_rc numbers_arg(nsr_lang *I, const char *name, lval *a, int i, double **xs,
                           size_t *n) {
  int64_t len;
  if (lang_arg_list(I, name, a, i, &len) != LANG_OK) return LANG_ERROR;
  if (len == 0) return lang_error(I, "%s: no samples to draw", name);
  double *v = scratch_new(I, (size_t)len, sizeof *v);
  if (v == NULL) return LANG_ERROR;
  size_t k = 0;
  for (lval l = a[i]; l.type == NSR_LANG_PAIR; l = lang_cdr(l), k++) {
    if (!plot_finite_number(lang_car(l), &v[k])) {
      scratch_free(I, v, (size_t)len, sizeof *v);
      return lang_type_error(I, name, "a list of finite numbers", i, a[i]);
    }
  }
  *xs = v;
  *n = k;
  return LANG_OK;
}

static int compare_doubles(const void *x, const void *y) {
  double a = *(const double *)x, b = *(const double *)y;
  return (a > b) - (a < b);
}

/* ---- bars ------------------------------------------------------------------ */

/* A bar being collected: the program's value it stands for (its label is
 * made only for the bars kept), or its label; the number it sorts by, its
 * weight (count or value) and its place in the data. */
typedef struct entry {
  lval item;
  char *label;
  double key, weight;
  size_t order;
} entry;

static int by_key(const void *x, const void *y) {
  const entry *a = x, *b = y;
  if (a->key != b->key) return (a->key > b->key) - (a->key < b->key);
  return (a->order > b->order) - (a->order < b->order);
}

static int by_label(const void *x, const void *y) {
  const entry *a = x, *b = y;
  int c = strcmp(a->label, b->label);
  return c != 0 ? c : (a->order > b->order) - (a->order < b->order);
}

static int by_order(const void *x, const void *y) {
  const entry *a = x, *b = y;
  return (a->order > b->order) - (a->order < b->order);
}

static int by_weight_down(const void *x, const void *y) {
  const entry *a = x, *b = y;
  double wa = fabs(a->weight), wb = fabs(b->weight);
  return wa != wb ? (wa < wb) - (wa > wb) : by_order(x, y);
}

static void free_entries(nsr_lang *I, entry *e, size_t n) {
  for (size_t i = 0; e != NULL && i < n; i++) nsr_free(e[i].label);
  scratch_free(I, e, n, sizeof *e);
}

/* Labels entries [0, n) that have none from their items. */
static lang_rc label_entries(nsr_lang *I, entry *e, size_t n) {
  for (size_t i = 0; i < n; i++) {
    if (e[i].label == NULL && make_label(I, e[i].item, &e[i].label) != LANG_OK) return LANG_ERROR;
  }
  return LANG_OK;
}

/* Turns n entries (freed here) into f's bars, each weight divided by
 * `total`: sorted by `order`, at most PLOT_MAX_BARS of them (the largest
 * weights, then one "others" bar for the rest). */
static lang_rc entries_to_bars(nsr_lang *I, entry *e, size_t n, double total,
                               int (*order)(const void *, const void *), plot_fig *f) {
  size_t kept = n, dropped = 0;
  double rest = 0;
  lang_rc rc = charge_sort(I, n);
  if (rc == LANG_OK && n > PLOT_MAX_BARS) {
    qsort(e, n, sizeof *e, by_weight_down);
    kept = PLOT_MAX_BARS - 1;
    dropped = n - kept;
    for (size_t i = kept; i < n; i++) rest += e[i].weight;
  }
  if (rc == LANG_OK) rc = label_entries(I, e, kept);
  if (rc == LANG_OK) {
    qsort(e, kept, sizeof *e, order);
    f->bars = nsr_calloc(kept + 1, sizeof *f->bars);
    char others[64];
    snprintf(others, sizeof others, "others (%zu)", dropped);
    if (dropped > 0) { /* the first dropped entry becomes "others" */
      nsr_free(e[kept].label);
      e[kept].label = nsr_strdup(others);
      e[kept].weight = rest;
    }
    if (f->bars == NULL || (dropped > 0 && e[kept].label == NULL)) rc = out_of_memory(I);
  }
  for (size_t i = 0; rc == LANG_OK && i < kept + (dropped > 0); i++) {
    f->bars[i] = (plot_bar){e[i].label, e[i].weight / total};
    e[i].label = NULL;
    f->n_bars = i + 1;
  }
  free_entries(I, e, n);
  return rc;
}

/* hist of n >= 1 numbers: one bar per distinct value (ascending), or bins
 * past PLOT_DISTINCT_NUMBERS distinct values. xs is sorted here. */
static lang_rc hist_numbers(nsr_lang *I, double *xs, size_t n, plot_fig *f) {
  if (charge_sort(I, n) != LANG_OK || lang_charge(I, 2 * (uint64_t)n) != LANG_OK) {
    return LANG_ERROR; /* the sort, then counting and binning */
  }
  qsort(xs, n, sizeof *xs, compare_doubles);
  size_t distinct = 1;
  for (size_t i = 1; i < n; i++) distinct += xs[i] != xs[i - 1];
  double start = 0, width = 0;
  size_t k = distinct > PLOT_DISTINCT_NUMBERS ? plot_bins(xs, n, &start, &width) : distinct;
  entry *e = nsr_calloc(k, sizeof *e); /* at most PLOT_MAX_BINS + 1 */
  uint64_t *counts = nsr_calloc(k, sizeof *counts);
  if (e == NULL || counts == NULL) {
    nsr_free(e);
    nsr_free(counts);
    return out_of_memory(I);
  }
  if (width > 0) plot_bin_counts(xs, n, start, width, k, counts);
  for (size_t i = 0, run = 0; i < k; i++) {
    char text[96], lo[40], hi[40];
    if (width > 0) {
      plot_format_number(start + width * (double)i, width, lo, sizeof lo);
      plot_format_number(start + width * (double)(i + 1), width, hi, sizeof hi);
      snprintf(text, sizeof text, "%s to %s", lo, hi);
      e[i].weight = (double)counts[i];
    } else { /* the i-th run of equal values */
      size_t end = run;
      while (end < n && xs[end] == xs[run]) end++;
      snprintf(text, sizeof text, "%.15g", xs[run]);
      e[i].weight = (double)(end - run);
      run = end;
    }
    e[i].key = (double)i;
    e[i].order = i;
    if ((e[i].label = nsr_strdup(text)) == NULL) {
      for (size_t j = 0; j < i; j++) nsr_free(e[j].label);
      nsr_free(e);
      nsr_free(counts);
      return out_of_memory(I);
    }
  }
  nsr_free(counts);
  /* entries_to_bars frees them as scratch: count them as such. */
  if (lang_account(I, (ptrdiff_t)lang_malloc_cost(k * sizeof *e)) != LANG_OK) {
    for (size_t j = 0; j < k; j++) nsr_free(e[j].label);
    nsr_free(e);
    return LANG_ERROR;
  }
  if (width > 0) {
    f->bin_start = start;
    f->bin_width = width;
  }
  return entries_to_bars(I, e, k, (double)n, by_key, f);
}

/* hist of values that are not all numbers: one bar per distinct value
 * (equal?), sorted by their printed text as webchurch sorts its keys. */
static lang_rc hist_values(nsr_lang *I, lval list, size_t n, plot_fig *f) {
  lval counts, order = lang_nil();
  if (lang_make_hash(I, &counts) != LANG_OK) return LANG_ERROR;
  size_t distinct = 0;
  for (lval l = list; l.type == NSR_LANG_PAIR; l = lang_cdr(l)) {
    bool found;
    lval c = lang_hash_get(LANG_HASH(counts), lang_car(l), &found);
    if (!found) {
      distinct++;
      if (lang_cons(I, lang_car(l), order, &order) != LANG_OK) return LANG_ERROR;
    }
    if (lang_hash_put(I, LANG_HASH(counts), lang_car(l), lang_int(found ? c.as.i + 1 : 1)) !=
        LANG_OK) {
      return LANG_ERROR;
    }
  }
  entry *e = scratch_new(I, distinct, sizeof *e);
  if (e == NULL) return LANG_ERROR;
  size_t i = distinct; /* `order` holds the last seen first */
  for (lval l = order; l.type == NSR_LANG_PAIR; l = lang_cdr(l)) {
    bool found;
    i--;
    e[i].item = lang_car(l);
    e[i].weight = (double)lang_hash_get(LANG_HASH(counts), lang_car(l), &found).as.i;
    e[i].order = i;
  }
  if (lang_charge(I, 2 * (uint64_t)distinct) != LANG_OK) {
    free_entries(I, e, distinct);
    return LANG_ERROR;
  }
  return entries_to_bars(I, e, distinct, (double)n, by_label, f);
}

/* (hist samples [title]) */
static lang_rc make_hist(nsr_lang *I, lval *a, int n, plot_fig *f) {
  int64_t len;
  if (lang_arg_list(I, "hist", a, 0, &len) != LANG_OK) return LANG_ERROR;
  if (len == 0) return lang_error(I, "hist: no samples to draw");
  /* Old Church's (hist samples bins title), as the book's chapter on
   * non-parametric models writes it: the number is accepted and ignored. */
  int title_at = n > 2 && lang_is_number(a[1]) ? 2 : 1;
  if (plot_text_arg(I, "hist", a, n, title_at, &f->title) != LANG_OK) return LANG_ERROR;
  f->percent = true;
  f->n_total = (size_t)len;
  double *xs = scratch_new(I, (size_t)len, sizeof *xs);
  if (xs == NULL) return LANG_ERROR;
  size_t k = 0;
  for (lval l = a[0]; l.type == NSR_LANG_PAIR && plot_finite_number(lang_car(l), &xs[k]);
       l = lang_cdr(l)) {
    k++;
  }
  /* Not all numbers: the values are walked once more, into a table. */
  lang_rc rc = k == (size_t)len ? hist_numbers(I, xs, k, f)
               : lang_charge(I, (uint64_t)len) != LANG_OK ? LANG_ERROR
                                                           : hist_values(I, a[0], (size_t)len, f);
  scratch_free(I, xs, (size_t)len, sizeof *xs);
  return rc;
}

bool plot_item_and_weight(lval d, lval *item, double *w) {
  if (d.type != NSR_LANG_PAIR) return false;
  *item = lang_car(d);
  lval rest = lang_cdr(d);
  if (plot_finite_number(rest, w)) return true;
  return rest.type == NSR_LANG_PAIR && lang_cdr(rest).type == NSR_LANG_NIL &&
         plot_finite_number(lang_car(rest), w);
}

/* barplot's data as entries, in the order given: ((items) (weights)), as
 * an enumeration-query returns, or a list of (item . weight) pairs or
 * (item weight) lists, as the book builds with (map pair ...). *numeric
 * is cleared when an item is not a number (their keys are the items). */
static lang_rc barplot_entries(nsr_lang *I, lval d, entry **out, size_t *n_out, bool *numeric) {
  int64_t n = lang_list_length(d);
  if (n <= 0) return n == 0 ? lang_error(I, "barplot: no bars to draw")
                            : lang_type_error(I, "barplot", "a list", 0, d);
  if (lang_charge(I, (uint64_t)n) != LANG_OK) return LANG_ERROR;
  lval items = n == 2 ? lang_car(d) : lang_nil(), ws = n == 2 ? lang_car(lang_cdr(d)) : lang_nil();
  int64_t columns = n == 2 ? lang_list_length(items) : -1;
  bool two_lists = columns > 0 && lang_list_length(ws) == columns;
  if (columns > 0 && lang_charge(I, 3 * (uint64_t)columns) != LANG_OK) return LANG_ERROR;
  for (lval l = ws; two_lists && l.type == NSR_LANG_PAIR; l = lang_cdr(l)) {
    double w;
    two_lists = plot_finite_number(lang_car(l), &w);
  }
  size_t count = two_lists ? (size_t)columns : (size_t)n;
  entry *e = scratch_new(I, count, sizeof *e);
  if (e == NULL) return LANG_ERROR;
  lval rows = d;
  for (size_t i = 0; i < count; i++) {
    lval item;
    bool ok = true;
    if (two_lists) {
      item = lang_car(items);
      e[i].weight = lang_num(lang_car(ws));
      items = lang_cdr(items);
      ws = lang_cdr(ws);
    } else {
      ok = plot_item_and_weight(lang_car(rows), &item, &e[i].weight);
      rows = lang_cdr(rows);
    }
    e[i].order = i;
    e[i].item = item;
    if (ok && !plot_finite_number(item, &e[i].key)) *numeric = false;
    if (!ok) {
      free_entries(I, e, count);
      return lang_type_error(I, "barplot", "((items) (numbers)) or a list of (item . number)",
                             0, d);
    }
  }
  *out = e;
  *n_out = count;
  return LANG_OK;
}

/* (barplot data [title]) */
static lang_rc make_barplot(nsr_lang *I, lval *a, int n, plot_fig *f) {
  entry *e = NULL;
  size_t count = 0;
  bool numeric = true;
  if (barplot_entries(I, a[0], &e, &count, &numeric) != LANG_OK) return LANG_ERROR;
  if (plot_text_arg(I, "barplot", a, n, 1, &f->title) != LANG_OK) {
    free_entries(I, e, count);
    return LANG_ERROR;
  }
  f->n_total = count;
  /* Numbers ascending, as hist sorts them; other items as given (the
   * book's vocabularies have their own order). */
  return entries_to_bars(I, e, count, 1.0, numeric ? by_key : by_order, f);
}

/* ---- points ------------------------------------------------------------------ */

/* Keeps every k-th of n >= 1 points (k = ceil(n / PLOT_MAX_POINTS)) in f. */
static lang_rc points_to_fig(nsr_lang *I, const plot_point *p, size_t n, plot_fig *f) {
  size_t k = n > PLOT_MAX_POINTS ? (n + PLOT_MAX_POINTS - 1) / PLOT_MAX_POINTS : 1;
  size_t m = (n + k - 1) / k;
  f->xs = nsr_mallocarray(m, sizeof *f->xs);
  f->ys = nsr_mallocarray(m, sizeof *f->ys);
  if (f->xs == NULL || f->ys == NULL) return out_of_memory(I);
  for (size_t i = 0; i < m; i++) {
    f->xs[i] = p[i * k].x;
    f->ys[i] = p[i * k].y;
  }
  f->n_points = m;
  f->n_total = n;
  return LANG_OK;
}

/* (scatter pairs [title] [(x-title y-title)]) and lineplot, whose points
 * are sorted by x and joined. */
static lang_rc make_points(nsr_lang *I, const char *name, bool line, lval *a, int n,
                           plot_fig *f) {
  int64_t len;
  if (lang_arg_list(I, name, a, 0, &len) != LANG_OK) return LANG_ERROR;
  if (len == 0) return lang_error(I, "%s: no points to draw", name);
  if (plot_text_arg(I, name, a, n, 1, &f->title) != LANG_OK ||
      axis_labels_arg(I, name, a, n, 2, f) != LANG_OK) {
    return LANG_ERROR;
  }
  plot_point *p = scratch_new(I, (size_t)len, sizeof *p);
  if (p == NULL) return LANG_ERROR;
  size_t k = 0;
  for (lval l = a[0]; l.type == NSR_LANG_PAIR; l = lang_cdr(l), k++) {
    lval xv;
    if (!plot_item_and_weight(lang_car(l), &xv, &p[k].y) || !plot_finite_number(xv, &p[k].x)) {
      scratch_free(I, p, (size_t)len, sizeof *p);
      return lang_type_error(I, name, "a list of (x y) or (x . y) with finite numbers", 0, a[0]);
    }
    p[k].order = k;
  }
  lang_rc rc = LANG_OK;
  if (line) {
    rc = charge_sort(I, k);
    if (rc == LANG_OK) qsort(p, k, sizeof *p, plot_point_by_x);
  }
  f->dots = true;
  f->line = line;
  if (rc == LANG_OK) rc = points_to_fig(I, p, k, f);
  scratch_free(I, p, (size_t)len, sizeof *p);
  return rc;
}

/* (density samples [title] [with-hist]): the kernel density estimate on
 * PLOT_GRID points from min - h to max + h, and with a true third argument
 * the histogram behind it on the same scale. */
static lang_rc make_density(nsr_lang *I, lval *a, int n, plot_fig *f) {
  double *xs = NULL;
  size_t len = 0;
  if (numbers_arg(I, "density", a, 0, &xs, &len) != LANG_OK) return LANG_ERROR;
  lang_rc rc = plot_text_arg(I, "density", a, n, 1, &f->title);
  if (rc == LANG_OK) rc = charge_sort(I, len);
  if (rc == LANG_OK) rc = lang_charge(I, 5 * (uint64_t)len); /* sums and binning */
  if (rc != LANG_OK) {
    scratch_free(I, xs, len, sizeof *xs);
    return LANG_ERROR;
  }
  qsort(xs, len, sizeof *xs, compare_doubles);
  double h = plot_bandwidth(xs, len), lo = xs[0] - h, step = (xs[len - 1] + h - lo) / (PLOT_GRID - 1);
  f->xs = nsr_mallocarray(PLOT_GRID, sizeof *f->xs);
  f->ys = nsr_mallocarray(PLOT_GRID, sizeof *f->ys);
  if (f->xs == NULL || f->ys == NULL) rc = out_of_memory(I);
  for (size_t i = 0; rc == LANG_OK && i < PLOT_GRID; i++) {
    uint64_t work;
    f->xs[i] = lo + step * (double)i;
    f->ys[i] = plot_kde(xs, len, h, f->xs[i], &work);
    if (f->ys[i] < 1e-12 / h) f->ys[i] = 0; /* a kernel's edge, not a bump */
    rc = lang_charge(I, work);
  }
  f->n_points = PLOT_GRID;
  f->line = true;
  f->bandwidth = h;
  f->mean = 0;
  for (size_t i = 0; i < len; i++) f->mean += xs[i] / (double)len;
  for (size_t i = 0; i < len; i++) f->sd += (xs[i] - f->mean) * (xs[i] - f->mean);
  f->sd = len > 1 ? sqrt(f->sd / (double)(len - 1)) : 0;
  f->n_total = len;
  if (rc == LANG_OK && n > 2 && lang_truthy(I, a[2])) {
    double start;
    size_t k = plot_bins(xs, len, &start, &f->bin_width);
    uint64_t *counts = nsr_calloc(k, sizeof *counts);
    f->bin_heights = nsr_calloc(k, sizeof *f->bin_heights);
    if (counts == NULL || f->bin_heights == NULL) {
      rc = out_of_memory(I);
    } else {
      plot_bin_counts(xs, len, start, f->bin_width, k, counts);
      for (size_t i = 0; i < k; i++) f->bin_heights[i] = (double)counts[i] / ((double)len * f->bin_width);
      f->n_bins = k;
      f->bin_start = start;
    }
    nsr_free(counts);
  }
  scratch_free(I, xs, len, sizeof *xs);
  return rc;
}

/* ---- output ------------------------------------------------------------------ */

lang_rc plot_state(nsr_lang *I, struct lang_plots **out) {
  if (I->plots == NULL && (I->plots = nsr_calloc(1, sizeof *I->plots)) == NULL) {
    return out_of_memory(I);
  }
  *out = I->plots;
  return LANG_OK;
}

lang_rc plot_reserve_file(nsr_lang *I, const char *kind, size_t *index) {
  lang_effect(I);
  struct lang_plots *P;
  if (plot_state(I, &P) != LANG_OK) return LANG_ERROR;
  if (P->n >= PLOT_MAX_FILES) {
    return lang_fail_at(I, I->site.cur_pos, NSR_ERR_LIMIT, "%s: more than %d figures in one run",
                        kind, PLOT_MAX_FILES);
  }
  snprintf(P->names[P->n], sizeof P->names[P->n], "plot-%03zu-%s.svg", P->n + 1, kind);
  *index = P->n++;
  return LANG_OK;
}

lang_rc plot_write_file(nsr_lang *I, size_t index, const plot_fig *f) {
  const char *name = I->plots->names[index];
  lang_buf b = lang_text_buf(I);
  plot_svg(&b, f);
  if (b.failed) {
    lang_rc rc = lang_buf_error(I, &b);
    nsr_free(b.data);
    return rc;
  }
  char *path = NULL;
  size_t plen = strlen(I->cfg.plot_dir) + strlen(name) + 2;
  nsr_error err = {0};
  nsr_code code = NSR_ERR_NOMEM;
  if ((path = nsr_mallocarray(plen, 1)) != NULL) {
    snprintf(path, plen, "%s/%s", I->cfg.plot_dir, name);
    code = nsr_write_file_atomic(path, b.data, b.len, &err);
  }
  lang_rc rc = lang_charge(I, b.len / 64);
  nsr_free(b.data);
  nsr_free(path);
  if (code != NSR_OK) {
    return lang_fail_at(I, I->site.cur_pos, code, "%s: %s", f->kind,
                        code == NSR_ERR_NOMEM ? "out of memory" : err.message);
  }
  return rc;
}

/* Writes f as the next SVG file of cfg.plot_dir; a file that could not be
 * written is not listed. */
static lang_rc write_svg(nsr_lang *I, const plot_fig *f) {
  size_t index;
  if (plot_reserve_file(I, f->kind, &index) != LANG_OK) return LANG_ERROR;
  lang_rc rc = plot_write_file(I, index, f);
  if (rc != LANG_OK) I->plots->n--;
  return rc;
}

/* Draws f: a file under cfg.plot_dir, else its text summary. Frees f. */
static lang_rc draw(nsr_lang *I, plot_fig *f, lang_rc made, lval *out) {
  *out = lang_unspec();
  lang_rc rc = made;
  if (rc == LANG_OK && I->cfg.plot_dir != NULL) {
    rc = write_svg(I, f);
  } else if (rc == LANG_OK) {
    lang_buf b = lang_text_buf(I);
    plot_text(&b, f);
    rc = b.failed ? lang_buf_error(I, &b) : lang_output(I, b.data ? b.data : "", b.len);
    if (rc == LANG_OK) rc = lang_charge(I, b.len / 64);
    nsr_free(b.data);
  }
  plot_fig_free(f);
  return rc;
}

static lang_rc p_hist(nsr_lang *I, lval *a, int n, lval *out) {
  plot_fig f = {.kind = "hist"};
  return draw(I, &f, make_hist(I, a, n, &f), out);
}

static lang_rc p_barplot(nsr_lang *I, lval *a, int n, lval *out) {
  plot_fig f = {.kind = "barplot"};
  return draw(I, &f, make_barplot(I, a, n, &f), out);
}

static lang_rc p_density(nsr_lang *I, lval *a, int n, lval *out) {
  plot_fig f = {.kind = "density"};
  return draw(I, &f, make_density(I, a, n, &f), out);
}

static lang_rc p_scatter(nsr_lang *I, lval *a, int n, lval *out) {
  plot_fig f = {.kind = "scatter"};
  return draw(I, &f, make_points(I, "scatter", false, a, n, &f), out);
}

static lang_rc p_lineplot(nsr_lang *I, lval *a, int n, lval *out) {
  plot_fig f = {.kind = "lineplot"};
  return draw(I, &f, make_points(I, "lineplot", true, a, n, &f), out);
}

/* (multiviz x ...): its arguments' figures were drawn as they were
 * evaluated, in order; the other values are displayed, one a line. */
static lang_rc p_multiviz(nsr_lang *I, lval *a, int n, lval *out) {
  *out = lang_unspec();
  lang_buf b = lang_text_buf(I);
  for (int i = 0; i < n; i++) {
    if (a[i].type == NSR_LANG_UNSPECIFIED) continue;
    lang_print(&b, a[i], false);
    lang_buf_add(&b, "\n", 1);
  }
  lang_rc rc = b.failed ? lang_buf_error(I, &b) : lang_output(I, b.data ? b.data : "", b.len);
  if (rc == LANG_OK) rc = lang_charge(I, b.len / 64);
  nsr_free(b.data);
  return rc;
}

size_t nsr_lang_plot_count(const nsr_lang *lang) {
  return lang->plots != NULL ? lang->plots->n : 0;
}

const char *nsr_lang_plot_file(const nsr_lang *lang, size_t i) {
  return i < nsr_lang_plot_count(lang) ? lang->plots->names[i] : NULL;
}

void lang_plots_free(nsr_lang *I) {
  if (I->plots == NULL) return;
  plot_series_free(I->plots);
  nsr_free(I->plots);
  I->plots = NULL;
}

/* Extra arguments (webchurch's are ignored by some of its plots) are
 * accepted and ignored. */
const lang_prim_def lang_prims_plot[] = {
    {"hist", 1, 3, p_hist},
    {"barplot", 1, 3, p_barplot},
    {"density", 1, 3, p_density},
    {"scatter", 1, 3, p_scatter},
    {"lineplot", 1, 3, p_lineplot},
    {"multiviz", 0, -1, p_multiviz},
    {"lineplot-value", 1, 2, plot_lineplot_value},
    {NULL, 0, 0, NULL},
};
