/* lang_svg.c: a figure (lang_plot.h) as an SVG document, drawn like the
 * book's (webchurch's vega charts): a centred title, horizontal bars with
 * their labels on the left for hist and barplot, points and lines on two
 * axes for scatter, lineplot and density, light grid lines at the ticks.
 *
 * It lives in the lang wing, not core: it draws only these figures, and
 * its input is the wing's plot_fig. Layout is computed from counts of
 * characters (an average glyph is about 7 px wide at 12 px), so a file
 * looks the same in every renderer without font metrics. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "json.h"
#include "lang_plot.h"

#define WIDTH 640.0
#define CHAR_PX 7.0      /* average width of a 12 px sans-serif glyph */
#define TITLE_LINE 24.0  /* height of a 16 px title line */
#define TITLE_CHARS 56   /* characters on a title line */
#define TITLE_LINES 3
#define BAR_ROW 22.0
#define XY_HEIGHT 300.0
#define BAR_FILL "steelblue"

static const char replacement[] = "\xEF\xBF\xBD"; /* U+FFFD */

/* Characters in the first len bytes of s, each byte that does not continue
 * a UTF-8 sequence counted as one (a layout estimate). */
static size_t utf8_chars(const char *s, size_t len) {
  size_t n = 0;
  for (size_t i = 0; i < len; i++) n += ((unsigned char)s[i] & 0xC0) != 0x80;
  return n;
}

/* plot_xml_text on the first len bytes of s. */
static void xml_text_n(lang_buf *b, const char *s, size_t len, size_t max_chars) {
  const unsigned char *u = (const unsigned char *)s;
  size_t i = 0;
  for (size_t chars = 0; i < len && chars < max_chars; chars++) {
    unsigned c = u[i];
    if (c < 0x80) {
      switch (c) {
        case '&': lang_buf_add(b, "&amp;", 5); break;
        case '<': lang_buf_add(b, "&lt;", 4); break;
        case '>': lang_buf_add(b, "&gt;", 4); break;
        case '"': lang_buf_add(b, "&quot;", 6); break;
        case '\'': lang_buf_add(b, "&apos;", 6); break;
        default: lang_buf_add(b, c < 0x20 || c == 0x7F ? " " : s + i, 1);
      }
      i++;
      continue;
    }
    size_t n = nsr_json_utf8_sequence(s + i, len - i);
    /* U+FFFE and U+FFFF (EF BF BE, EF BF BF) are not XML characters */
    if (n < 2 || (n == 3 && c == 0xEF && u[i + 1] == 0xBF && u[i + 2] >= 0xBE)) {
      lang_buf_add(b, replacement, 3);
      i += n > 0 ? n : 1;
    } else {
      lang_buf_add(b, s + i, n);
      i += n;
    }
  }
  if (i < len) lang_buf_add(b, "\xE2\x80\xA6", 3); /* … */
}

void plot_xml_text(lang_buf *b, const char *s, size_t max_chars) {
  xml_text_n(b, s, strlen(s), max_chars);
}

/* Where the title line starting at s ends: at most TITLE_CHARS characters,
 * broken at the last space when the rest does not fit. */
static size_t title_line_end(const char *s) {
  size_t len = strlen(s), i = 0, chars = 0, last_space = 0;
  for (; i < len; i++) {
    if (((unsigned char)s[i] & 0xC0) != 0x80 && chars++ == TITLE_CHARS) break;
    if (s[i] == ' ') last_space = i;
  }
  return i < len && last_space > 0 ? last_space : i;
}

/* Lines the title takes (0 without one). */
static int title_lines(const char *title) {
  int n = 0;
  if (title == NULL) return 0;
  for (const char *p = title; *p != '\0' && n < TITLE_LINES; n++) {
    p += title_line_end(p);
    while (*p == ' ') p++;
  }
  return n;
}

/* The title, centred, one <text> per line; the last line shown ends with
 * an ellipsis when the title goes on. */
static void svg_title(lang_buf *b, const char *title) {
  if (title == NULL) return;
  const char *p = title;
  for (int line = 0; *p != '\0' && line < TITLE_LINES; line++) {
    size_t end = title_line_end(p);
    const char *next = p + end;
    while (*next == ' ') next++;
    bool cut = line == TITLE_LINES - 1 && *next != '\0';
    lang_buf_printf(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"16\">",
                    WIDTH / 2, 22.0 + TITLE_LINE * line);
    xml_text_n(b, p, cut ? strlen(p) : end, TITLE_CHARS);
    lang_buf_add(b, "</text>\n", 8);
    p = next;
  }
}

/* Where the plot area starts below the title. */
static double plot_top(const char *title) { return 18.0 + TITLE_LINE * title_lines(title); }

static void svg_open(lang_buf *b, double height, const plot_fig *f) {
  lang_buf_printf(b,
                  "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                  "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
                  "viewBox=\"0 0 %.0f %.0f\" font-family=\"sans-serif\" font-size=\"12\">\n"
                  "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n",
                  WIDTH, height, WIDTH, height);
  svg_title(b, f->title);
}

/* A tick's label into buf: the number, or a percentage of a share. */
static void tick_label(double v, double step, bool percent, char *buf, size_t len) {
  if (percent) {
    plot_format_number(v * 100, step * 100, buf, len - 1);
    strcat(buf, "%");
  } else {
    plot_format_number(v, step, buf, len);
  }
}

/* Ticks of an axis, lo..hi by step (at most a few dozen by construction). */
static int tick_count(plot_axis a) {
  double n = floor((a.hi - a.lo) / a.step + 1e-6) + 1;
  return n >= 1 && n <= 60 ? (int)n : 1;
}

/* Width in px of an axis' widest tick label. */
static double widest_label(plot_axis a, bool percent) {
  double widest = 0;
  for (int i = 0; i < tick_count(a); i++) {
    char text[48];
    tick_label(a.lo + i * a.step, a.step, percent, text, sizeof text);
    widest = fmax(widest, (double)strlen(text) * CHAR_PX);
  }
  return widest;
}

/* Labels every k-th tick so that labels `px_per_tick` apart do not touch. */
static int label_stride(plot_axis a, double px_per_tick, bool percent) {
  double widest = widest_label(a, percent);
  int k = 1;
  while (k < 60 && px_per_tick * k < widest + 10) k++;
  return k;
}

/* A horizontal axis at y from x0 to x1 over a: grid lines up to grid_top,
 * ticks and labels. */
static void svg_x_axis(lang_buf *b, plot_axis a, bool percent, double x0, double x1, double y,
                       double grid_top) {
  int n = tick_count(a), stride = label_stride(a, (x1 - x0) / fmax(1, n - 1), percent);
  for (int i = 0; i < n; i++) {
    double v = a.lo + i * a.step, x = x0 + (v - a.lo) / (a.hi - a.lo) * (x1 - x0);
    lang_buf_printf(b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#e4e4e4\"/>\n"
                       "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#333\"/>\n",
                    x, grid_top, x, y, x, y, x, y + 5);
    if (i % stride != 0) continue;
    char text[48];
    tick_label(v, a.step, percent, text, sizeof text);
    lang_buf_printf(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>\n", x,
                    y + 18, text);
  }
  lang_buf_printf(b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#333\"/>\n", x0,
                  y, x1, y);
}

/* A vertical axis at x from y1 (bottom) up to y0 over a, grid lines to
 * grid_right. */
static void svg_y_axis(lang_buf *b, plot_axis a, double x, double y0, double y1,
                       double grid_right) {
  int n = tick_count(a), stride = 1;
  while (stride < 60 && (y1 - y0) / fmax(1, n - 1) * stride < 16) stride++;
  for (int i = 0; i < n; i++) {
    double v = a.lo + i * a.step, y = y1 - (v - a.lo) / (a.hi - a.lo) * (y1 - y0);
    lang_buf_printf(b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#e4e4e4\"/>\n"
                       "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#333\"/>\n",
                    x, y, grid_right, y, x - 5, y, x, y);
    if (i % stride != 0) continue;
    char text[48];
    tick_label(v, a.step, false, text, sizeof text);
    lang_buf_printf(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n", x - 8,
                    y + 4, text);
  }
  lang_buf_printf(b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#333\"/>\n", x,
                  y0, x, y1);
}

/* hist and barplot: one horizontal bar per label, the value after it. */
static void svg_bars(lang_buf *b, const plot_fig *f) {
  size_t n = f->bars != NULL ? f->n_bars : 0, label_chars = 1;
  double vmin = 0, vmax = 0;
  for (size_t i = 0; i < n; i++) {
    size_t c = utf8_chars(f->bars[i].label, strlen(f->bars[i].label));
    label_chars = c > label_chars ? c : label_chars;
    vmin = fmin(vmin, f->bars[i].value);
    vmax = fmax(vmax, f->bars[i].value);
  }
  if (label_chars > PLOT_MAX_LABEL) label_chars = PLOT_MAX_LABEL + 1;
  double x0 = 16 + CHAR_PX * (double)label_chars + 10, x1 = WIDTH - 64;
  double y0 = plot_top(f->title) + 8, y_axis = y0 + BAR_ROW * (double)n;
  double height = y_axis + 40 + (f->x_label ? 18 : 0);
  plot_axis a = plot_nice_axis(vmin, vmax == vmin ? vmin + 1 : vmax, 6);
  svg_open(b, height, f);
  svg_x_axis(b, a, f->percent, x0, x1, y_axis, y0);
  double x_zero = x0 + (0 - a.lo) / (a.hi - a.lo) * (x1 - x0);
  for (size_t i = 0; i < n; i++) {
    double v = f->bars[i].value, x = x0 + (v - a.lo) / (a.hi - a.lo) * (x1 - x0);
    double y = y0 + BAR_ROW * (double)i, mid = y + BAR_ROW / 2 + 4;
    lang_buf_printf(b, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"/>\n",
                    fmin(x, x_zero), y + 3, fabs(x - x_zero), BAR_ROW - 6, BAR_FILL);
    lang_buf_printf(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">", x0 - 8, mid);
    plot_xml_text(b, f->bars[i].label, PLOT_MAX_LABEL);
    lang_buf_add(b, "</text>\n", 8);
    char value[48];
    if (f->percent) snprintf(value, sizeof value, "%.1f%%", v * 100);
    else snprintf(value, sizeof value, "%.3g", v);
    lang_buf_printf(b, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" fill=\"#444\">%s</text>\n",
                    fmax(x, x_zero) + 4, mid, value);
  }
  if (f->x_label != NULL) {
    lang_buf_printf(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">", (x0 + x1) / 2,
                    height - 6);
    plot_xml_text(b, f->x_label, PLOT_MAX_LABEL);
    lang_buf_add(b, "</text>\n", 8);
  }
  lang_buf_add(b, "</svg>\n", 7);
}

/* The data's extent on both axes (with density's bins). */
static void xy_extent(const plot_fig *f, double *xlo, double *xhi, double *ylo, double *yhi) {
  *xlo = *ylo = INFINITY;
  *xhi = *yhi = -INFINITY;
  for (size_t i = 0; i < f->n_points; i++) {
    *xlo = fmin(*xlo, f->xs[i]);
    *xhi = fmax(*xhi, f->xs[i]);
    *ylo = fmin(*ylo, f->ys[i]);
    *yhi = fmax(*yhi, f->ys[i]);
  }
  for (size_t i = 0; i < f->n_bins; i++) {
    *xlo = fmin(*xlo, f->bin_start);
    *xhi = fmax(*xhi, f->bin_start + f->bin_width * (double)f->n_bins);
    *yhi = fmax(*yhi, f->bin_heights[i]);
  }
  if (f->n_bins > 0 || !f->dots) { /* densities from 0, room above the peak */
    *ylo = fmin(*ylo, 0);
    *yhi += (*yhi - *ylo) * 0.04;
  }
  if (f->dots) { /* points off the axes: a margin of 4% */
    double mx = (*xhi - *xlo) * 0.04, my = (*yhi - *ylo) * 0.04;
    *xlo -= mx, *xhi += mx, *ylo -= my, *yhi += my;
  }
}

/* Axis titles of an XY figure. */
static void svg_axis_titles(lang_buf *b, const plot_fig *f, double x0, double x1, double y0,
                            double y1, double height) {
  if (f->x_label != NULL) {
    lang_buf_printf(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">", (x0 + x1) / 2,
                    height - 8);
    plot_xml_text(b, f->x_label, PLOT_MAX_LABEL);
    lang_buf_add(b, "</text>\n", 8);
  }
  if (f->y_label != NULL) {
    double cy = (y0 + y1) / 2;
    lang_buf_printf(b, "<text x=\"16\" y=\"%.1f\" text-anchor=\"middle\" "
                       "transform=\"rotate(-90 16 %.1f)\">", cy, cy);
    plot_xml_text(b, f->y_label, PLOT_MAX_LABEL);
    lang_buf_add(b, "</text>\n", 8);
  }
}

/* scatter, lineplot and density: points and lines on two axes. */
static void svg_xy(lang_buf *b, const plot_fig *f) {
  double xlo, xhi, ylo, yhi;
  xy_extent(f, &xlo, &xhi, &ylo, &yhi);
  bool thinned = f->dots && f->n_total > f->n_points;
  plot_axis ax = plot_nice_axis(xlo, xhi, 8), ay = plot_nice_axis(ylo, yhi, 6);
  double x0 = fmax(70, widest_label(ay, false) + 22) + (f->y_label ? 16 : 0), x1 = WIDTH - 28;
  double y0 = plot_top(f->title) + 8, y1 = y0 + XY_HEIGHT;
  double height = y1 + 40 + (f->x_label ? 20 : 0) + (thinned ? 14 : 0);
  svg_open(b, height, f);
  svg_y_axis(b, ay, x0, y0, y1, x1);
  svg_x_axis(b, ax, false, x0, x1, y1, y0);
#define SX(v) (x0 + ((v) - ax.lo) / (ax.hi - ax.lo) * (x1 - x0))
#define SY(v) (y1 - ((v) - ay.lo) / (ay.hi - ay.lo) * (y1 - y0))
  for (size_t i = 0; i < f->n_bins; i++) {
    double l = SX(f->bin_start + f->bin_width * (double)i);
    double r = SX(f->bin_start + f->bin_width * (double)(i + 1));
    double top = SY(f->bin_heights[i]);
    lang_buf_printf(b, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\" "
                       "fill-opacity=\"0.55\" stroke=\"white\"/>\n",
                    l, top, r - l, y1 - top, BAR_FILL);
  }
  if (f->line && f->n_points > 0) {
    lang_buf_printf(b, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"%s\" points=\"",
                    f->dots ? BAR_FILL : "black", f->dots ? "2" : "2.5");
    for (size_t i = 0; i < f->n_points; i++) {
      lang_buf_printf(b, "%s%.1f,%.1f", i ? " " : "", SX(f->xs[i]), SY(f->ys[i]));
    }
    lang_buf_add(b, "\"/>\n", 4);
  }
  for (size_t i = 0; f->dots && i < f->n_points; i++) {
    lang_buf_printf(b, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\" fill=\"%s\" fill-opacity=\"0.75\"/>\n",
                    SX(f->xs[i]), SY(f->ys[i]), BAR_FILL);
  }
#undef SX
#undef SY
  svg_axis_titles(b, f, x0, x1, y0, y1, height - (thinned ? 14 : 0));
  if (thinned) {
    lang_buf_printf(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" font-size=\"10\" "
                       "fill=\"#666\">%zu of %zu points drawn (every %zu-th)</text>\n",
                    x1, height - 6, f->n_points, f->n_total,
                    (f->n_total + PLOT_MAX_POINTS - 1) / PLOT_MAX_POINTS);
  }
  lang_buf_add(b, "</svg>\n", 7);
}

void plot_svg(lang_buf *b, const plot_fig *fig) {
  if (fig->bars != NULL || fig->n_points == 0) svg_bars(b, fig);
  else svg_xy(b, fig);
}
