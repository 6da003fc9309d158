/* lang_plot_text.c: a figure's text summary, what hist, density, barplot,
 * scatter and lineplot print when there is no plot directory: a few lines
 * a reader can take in at a glance, whatever the amount of data. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "lang_plot.h"

#define BAR_MARKS 40      /* '#' marks of the longest bar */
#define DENSITY_ROWS 13   /* points of the curve shown */
#define LIST_POINTS 20    /* up to this many points are listed */
#define CANVAS_COLS 60
#define CANVAS_ROWS 15

/* Characters of s as a terminal shows them (continuation bytes of UTF-8
 * take no column). */
static size_t columns(const char *s) {
  size_t n = 0;
  for (; *s != '\0'; s++) n += ((unsigned char)*s & 0xC0) != 0x80;
  return n;
}

static void header(lang_buf *b, const plot_fig *f) {
  lang_buf_add(b, f->kind, strlen(f->kind));
  if (f->title != NULL) {
    lang_buf_add(b, ": ", 2);
    lang_buf_add(b, f->title, strlen(f->title));
  }
  lang_buf_add(b, "\n", 1);
}

/* "  LABEL   ####### VALUE", the label padded to `width` columns and the
 * bar scaled so that `largest` takes BAR_MARKS marks. */
static void bar_row(lang_buf *b, const char *label, size_t width, double value, double largest,
                    const char *value_text) {
  lang_buf_add(b, "  ", 2);
  lang_buf_add(b, label, strlen(label));
  for (size_t c = columns(label); c < width + 2; c++) lang_buf_add(b, " ", 1);
  int marks = largest > 0 ? (int)lround(fabs(value) / largest * BAR_MARKS) : 0;
  for (int i = 0; i < marks; i++) lang_buf_add(b, "#", 1);
  lang_buf_printf(b, "%s%s\n", marks > 0 ? " " : "", value_text);
}

static void text_bars(lang_buf *b, const plot_fig *f) {
  size_t width = 0;
  double largest = 0;
  for (size_t i = 0; i < f->n_bars; i++) {
    size_t c = columns(f->bars[i].label);
    width = c > width ? c : width;
    largest = fmax(largest, fabs(f->bars[i].value));
  }
  if (f->percent) {
    lang_buf_printf(b, "  %zu samples", f->n_total);
    if (f->bin_width > 0) {
      char w[40];
      plot_format_number(f->bin_width, f->bin_width, w, sizeof w);
      lang_buf_printf(b, " in %zu bins of width %s", f->n_bars, w);
    }
    lang_buf_add(b, "\n", 1);
  }
  for (size_t i = 0; i < f->n_bars; i++) {
    char value[40];
    snprintf(value, sizeof value, "%.4g", f->bars[i].value);
    bar_row(b, f->bars[i].label, width, f->bars[i].value, largest, value);
  }
}

static void text_density(lang_buf *b, const plot_fig *f) {
  lang_buf_printf(b, "  %zu samples, mean %.4g, sd %.4g; bandwidth %.3g (Epanechnikov kernel)\n",
                  f->n_total, f->mean, f->sd, f->bandwidth);
  double largest = 0;
  for (size_t i = 0; i < f->n_points; i++) largest = fmax(largest, f->ys[i]);
  double step = (f->xs[f->n_points - 1] - f->xs[0]) / (DENSITY_ROWS - 1);
  char labels[DENSITY_ROWS][40];
  size_t width = 0;
  for (int r = 0; r < DENSITY_ROWS; r++) {
    size_t i = (size_t)r * (f->n_points - 1) / (DENSITY_ROWS - 1);
    plot_format_number(f->xs[i], step, labels[r], sizeof labels[r]);
    width = strlen(labels[r]) > width ? strlen(labels[r]) : width;
  }
  for (int r = 0; r < DENSITY_ROWS; r++) {
    size_t i = (size_t)r * (f->n_points - 1) / (DENSITY_ROWS - 1);
    char value[40];
    snprintf(value, sizeof value, "%.3g", f->ys[i]);
    bar_row(b, labels[r], width, f->ys[i], largest, value);
  }
}

/* The points on a character canvas, '*' where at least one falls. */
static void text_canvas(lang_buf *b, const plot_fig *f, double xlo, double xhi, double ylo,
                        double yhi) {
  char grid[CANVAS_ROWS][CANVAS_COLS + 1];
  memset(grid, ' ', sizeof grid);
  double xs = xhi > xlo ? xhi - xlo : 1, ys = yhi > ylo ? yhi - ylo : 1;
  for (size_t i = 0; i < f->n_points; i++) {
    int c = (int)lround((f->xs[i] - xlo) / xs * (CANVAS_COLS - 1));
    int r = (int)lround((yhi - f->ys[i]) / ys * (CANVAS_ROWS - 1));
    grid[r][c] = '*';
  }
  char top[40], bottom[40], left[40];
  snprintf(top, sizeof top, "%.4g", yhi);
  snprintf(bottom, sizeof bottom, "%.4g", ylo);
  int w = (int)(strlen(top) > strlen(bottom) ? strlen(top) : strlen(bottom));
  for (int r = 0; r < CANVAS_ROWS; r++) {
    grid[r][CANVAS_COLS] = '\0';
    const char *label = r == 0 ? top : r == CANVAS_ROWS - 1 ? bottom : "";
    lang_buf_printf(b, "  %*s |%s\n", w, label, grid[r]);
  }
  lang_buf_printf(b, "  %*s +", w, "");
  for (int c = 0; c < CANVAS_COLS; c++) lang_buf_add(b, "-", 1);
  snprintf(left, sizeof left, "%.4g", xlo);
  lang_buf_printf(b, "\n  %*s  %-*s%.4g\n", w, "", CANVAS_COLS - 8, left, xhi);
}

static void text_points(lang_buf *b, const plot_fig *f) {
  double xlo = INFINITY, xhi = -INFINITY, ylo = INFINITY, yhi = -INFINITY;
  for (size_t i = 0; i < f->n_points; i++) {
    xlo = fmin(xlo, f->xs[i]);
    xhi = fmax(xhi, f->xs[i]);
    ylo = fmin(ylo, f->ys[i]);
    yhi = fmax(yhi, f->ys[i]);
  }
  lang_buf_printf(b, "  %zu points; x from %.4g to %.4g, y from %.4g to %.4g\n", f->n_total, xlo,
                  xhi, ylo, yhi);
  if (f->x_label != NULL || f->y_label != NULL) {
    lang_buf_printf(b, "  x: %s, y: %s\n", f->x_label ? f->x_label : "",
                    f->y_label ? f->y_label : "");
  }
  if (f->n_total > LIST_POINTS) {
    text_canvas(b, f, xlo, xhi, ylo, yhi);
    return;
  }
  for (size_t i = 0; i < f->n_points; i++) {
    lang_buf_printf(b, "  %-12.6g %.6g\n", f->xs[i], f->ys[i]);
  }
}

void plot_text(lang_buf *b, const plot_fig *f) {
  header(b, f);
  if (f->bars != NULL) text_bars(b, f);
  else if (!f->dots) text_density(b, f);
  else text_points(b, f);
}
