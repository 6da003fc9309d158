/* lang_plot_series.c: lineplot-value, the book's live line plot. Each call
 * adds a point (x . y) to the series its title names; under a plot
 * directory a series is one lineplot file, numbered at the series' first
 * call and rewritten at the end of each evaluation that changed it (not at
 * every call: a loop of 1,000 calls writes the file once). Without one,
 * each call prints "lineplot-value: TITLE: x y". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lang_plot.h"

static plot_series *find_series(struct lang_plots *P, const char *title) {
  for (size_t i = 0; i < P->n_series; i++) {
    if (strcmp(P->series[i].title, title) == 0) return &P->series[i];
  }
  return NULL;
}

/* A new series named `title` (taken over) with its file reserved. */
static lang_rc new_series(nsr_lang *I, struct lang_plots *P, char **title, plot_series **out) {
  if (P->n_series >= PLOT_MAX_SERIES) {
    return lang_fail_at(I, I->site.cur_pos, NSR_ERR_LIMIT,
                        "lineplot-value: more than %d titles in one run", PLOT_MAX_SERIES);
  }
  plot_series *s = &P->series[P->n_series];
  s->xs = nsr_mallocarray(PLOT_MAX_POINTS, sizeof *s->xs);
  s->ys = nsr_mallocarray(PLOT_MAX_POINTS, sizeof *s->ys);
  if (s->xs == NULL || s->ys == NULL || plot_reserve_file(I, "lineplot", &s->file) != LANG_OK) {
    nsr_free(s->xs);
    nsr_free(s->ys);
    *s = (plot_series){0};
    return I->error.code == NSR_ERR_LIMIT
               ? LANG_ERROR
               : lang_fail_at(I, I->site.cur_pos, NSR_ERR_NOMEM, "out of memory");
  }
  s->title = *title;
  *title = NULL;
  s->n = 0;
  P->n_series++;
  *out = s;
  return LANG_OK;
}

lang_rc plot_lineplot_value(nsr_lang *I, lval *a, int n, lval *out) {
  *out = lang_unspec();
  lval item;
  double x, y;
  if (!plot_item_and_weight(a[0], &item, &y) || !plot_finite_number(item, &x)) {
    return lang_type_error(I, "lineplot-value", "a point (x . y) of finite numbers", 0, a[0]);
  }
  char *title = NULL;
  if (plot_text_arg(I, "lineplot-value", a, n, 1, &title) != LANG_OK) return LANG_ERROR;
  if (title == NULL && (title = nsr_strdup("")) == NULL) {
    return lang_fail_at(I, I->site.cur_pos, NSR_ERR_NOMEM, "out of memory");
  }
  lang_rc rc = LANG_OK;
  if (I->cfg.plot_dir == NULL) {
    char line[96];
    int len = snprintf(line, sizeof line, ": %.6g %.6g\n", x, y);
    rc = lang_output(I, "lineplot-value: ", 16);
    if (rc == LANG_OK) rc = lang_output(I, title, strlen(title));
    if (rc == LANG_OK) rc = lang_output(I, line, (size_t)len);
    nsr_free(title);
    return rc;
  }
  struct lang_plots *P;
  plot_series *s = NULL;
  rc = plot_state(I, &P);
  if (rc == LANG_OK && (s = find_series(P, title)) == NULL) rc = new_series(I, P, &title, &s);
  nsr_free(title);
  if (rc != LANG_OK) return LANG_ERROR;
  if (s->n >= PLOT_MAX_POINTS) {
    return lang_fail_at(I, I->site.cur_pos, NSR_ERR_LIMIT,
                        "lineplot-value: more than %d points with one title", PLOT_MAX_POINTS);
  }
  s->xs[s->n] = x;
  s->ys[s->n++] = y;
  s->dirty = true;
  return LANG_OK;
}

/* Series s as a lineplot figure: its points sorted by x, joined. */
static lang_rc series_figure(const plot_series *s, plot_fig *f) {
  plot_point *p = nsr_mallocarray(s->n, sizeof *p);
  f->xs = nsr_mallocarray(s->n, sizeof *f->xs);
  f->ys = nsr_mallocarray(s->n, sizeof *f->ys);
  if (s->title[0] != '\0') f->title = nsr_strdup(s->title);
  if (p == NULL || f->xs == NULL || f->ys == NULL || (s->title[0] != '\0' && f->title == NULL)) {
    nsr_free(p);
    return LANG_ERROR;
  }
  for (size_t i = 0; i < s->n; i++) p[i] = (plot_point){s->xs[i], s->ys[i], i};
  qsort(p, s->n, sizeof *p, plot_point_by_x);
  for (size_t i = 0; i < s->n; i++) {
    f->xs[i] = p[i].x;
    f->ys[i] = p[i].y;
  }
  nsr_free(p);
  f->n_points = f->n_total = s->n;
  f->dots = f->line = true;
  return LANG_OK;
}

lang_rc plot_series_flush(nsr_lang *I) {
  struct lang_plots *P = I->plots;
  lang_rc rc = LANG_OK;
  for (size_t i = 0; P != NULL && rc == LANG_OK && i < P->n_series; i++) {
    plot_series *s = &P->series[i];
    if (!s->dirty) continue;
    plot_fig f = {.kind = "lineplot"};
    rc = series_figure(s, &f) == LANG_OK
             ? plot_write_file(I, s->file, &f)
             : lang_fail_at(I, I->site.cur_pos, NSR_ERR_NOMEM, "out of memory");
    plot_fig_free(&f);
    s->dirty = false;
  }
  return rc;
}

void plot_series_free(struct lang_plots *P) {
  for (size_t i = 0; i < P->n_series; i++) {
    nsr_free(P->series[i].title);
    nsr_free(P->series[i].xs);
    nsr_free(P->series[i].ys);
  }
  P->n_series = 0;
}
