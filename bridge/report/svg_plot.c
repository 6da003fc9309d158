/* svg_plot.c: an SVG bar chart of p(y ∈ C | X), styled after the figures of
 * Tenenbaum (2000): one bar per number, probability on a 0..1 axis, the
 * examples marked. For large N, each bar is the largest p over a bin (a
 * mean would hide a single certain number), and the figure says so. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "nsr_report.h"
#include "strbuf.h"

#define SVG_WIDTH 960
#define SVG_HEIGHT 360
#define SVG_LEFT 70   /* room for the y axis and its label */
#define SVG_RIGHT 20
#define SVG_TOP 40    /* room for the title */
#define SVG_BOTTOM 70 /* room for ticks, labels and example marks */
#define SVG_MAX_BARS 400

/* A "nice" tick step (1, 2 or 5 times a power of ten) giving about 10 ticks. */
static uint32_t tick_step(uint32_t n) {
  double raw = n / 10.0, scale = pow(10.0, floor(log10(raw > 1 ? raw : 1)));
  double step = raw / scale <= 1 ? 1 : raw / scale <= 2 ? 2 : raw / scale <= 5 ? 5 : 10;
  uint32_t s = (uint32_t)(step * scale);
  return s ? s : 1;
}

static void svg_axes(nsr_strbuf *sb, const numbers_query *q, double plot_w, double plot_h) {
  uint32_t n = q->cfg->max;
  double x0 = SVG_LEFT, y0 = SVG_TOP + plot_h;
  nsr_strbuf_printf(sb, "<g stroke=\"#333\" stroke-width=\"1\">"
                    "<line x1=\"%g\" y1=\"%g\" x2=\"%g\" y2=\"%g\"/>"
                    "<line x1=\"%g\" y1=\"%g\" x2=\"%g\" y2=\"%g\"/></g>\n",
                    x0, y0, x0 + plot_w, y0, x0, (double)SVG_TOP, x0, y0);
  for (int i = 0; i <= 4; i++) {
    double p = i / 4.0, y = y0 - p * plot_h;
    nsr_strbuf_printf(sb, "<line x1=\"%g\" y1=\"%g\" x2=\"%g\" y2=\"%g\" stroke=\"#ddd\"/>"
                      "<text x=\"%g\" y=\"%g\" text-anchor=\"end\">%.2f</text>\n",
                      x0 + 1, y, x0 + plot_w, y, x0 - 6, y + 4, p);
  }
  uint32_t step = tick_step(n);
  for (uint32_t v = step; v <= n; v += step) {
    double x = x0 + (v - 0.5) * plot_w / n;
    nsr_strbuf_printf(sb, "<line x1=\"%g\" y1=\"%g\" x2=\"%g\" y2=\"%g\" stroke=\"#333\"/>"
                      "<text x=\"%g\" y=\"%g\" text-anchor=\"middle\">%u</text>\n",
                      x, y0, x, y0 + 5, x, y0 + 20, v);
  }
  nsr_strbuf_printf(sb, "<text x=\"%g\" y=\"%d\" text-anchor=\"middle\">y</text>\n",
                    x0 + plot_w / 2, SVG_HEIGHT - 8);
  nsr_strbuf_printf(sb, "<text transform=\"translate(18 %g) rotate(-90)\" "
                    "text-anchor=\"middle\">p(y \xe2\x88\x88 C | X)</text>\n",
                    SVG_TOP + plot_h / 2);
}

/* How many numbers one bar covers. */
static uint32_t numbers_per_bar(uint32_t n) { return (n + SVG_MAX_BARS - 1) / SVG_MAX_BARS; }

/* One bar per number, or per bin of numbers_per_bar numbers at the bin's
 * largest p; each bar's tooltip gives its numbers and p. */
static void svg_bars(nsr_strbuf *sb, const numbers_query *q, double plot_w, double plot_h) {
  uint32_t n = q->cfg->max, per = numbers_per_bar(n);
  double bar_w = plot_w * per / n, y0 = SVG_TOP + plot_h;
  nsr_strbuf_puts(sb, "<g fill=\"#4a6fa5\">\n");
  for (uint32_t first = 0; first < n; first += per) {
    uint32_t last = first + per < n ? first + per : n;
    double p = numbers_bin_max(q->result->generalization, first, last), h = p * plot_h;
    if (h <= 0) continue;
    nsr_strbuf_printf(sb, "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\">",
                      SVG_LEFT + first * plot_w / n + bar_w * 0.1, y0 - h, bar_w * 0.8, h);
    if (last - first > 1) nsr_strbuf_printf(sb, "<title>y %u..%u: %.6g</title></rect>\n", first + 1, last, p);
    else nsr_strbuf_printf(sb, "<title>y %u: %.6g</title></rect>\n", last, p);
  }
  nsr_strbuf_puts(sb, "</g>\n");
}

/* Red triangles under the axis at every example. */
static void svg_examples(nsr_strbuf *sb, const numbers_query *q, double plot_w, double plot_h) {
  double y = SVG_TOP + plot_h + 30;
  nsr_strbuf_puts(sb, "<g fill=\"#c0392b\">\n");
  for (size_t i = 0; i < q->n_examples; i++) {
    double x = SVG_LEFT + (q->examples[i] - 0.5) * plot_w / q->cfg->max;
    nsr_strbuf_printf(sb, "<path d=\"M%.2f %.2f l-5 9 h10 z\"><title>example %u</title></path>\n",
                      x, y, q->examples[i]);
  }
  nsr_strbuf_printf(sb, "</g>\n<text x=\"%d\" y=\"%g\" fill=\"#c0392b\" text-anchor=\"end\">examples</text>\n",
                    SVG_LEFT - 6, y + 9);
}

/* XML-escapes text (titles hold file names). */
static void svg_text(nsr_strbuf *sb, const char *text) {
  for (; *text; text++) {
    switch (*text) {
      case '<': nsr_strbuf_puts(sb, "&lt;"); break;
      case '>': nsr_strbuf_puts(sb, "&gt;"); break;
      case '&': nsr_strbuf_puts(sb, "&amp;"); break;
      default: nsr_strbuf_append(sb, text, 1);
    }
  }
}

/* The title (the examples and the model), and under it, when bars cover
 * bins, what a bar shows. */
static void svg_title(nsr_strbuf *sb, const numbers_query *q) {
  nsr_strbuf_printf(sb, "<text x=\"%d\" y=\"18\" font-size=\"15\">", SVG_LEFT);
  nsr_strbuf_puts(sb, "Generalization p(y \xe2\x88\x88 C | X) for X = {");
  for (size_t i = 0; i < q->n_examples; i++) nsr_strbuf_printf(sb, i ? ", %u" : "%u", q->examples[i]);
  char model[512];
  numbers_query_describe(q, model, sizeof model);
  nsr_strbuf_puts(sb, "}, ");
  svg_text(sb, model);
  nsr_strbuf_puts(sb, "</text>\n");
  uint32_t per = numbers_per_bar(q->cfg->max);
  if (per > 1) {
    nsr_strbuf_printf(sb, "<text x=\"%d\" y=\"34\" fill=\"#555\">each bar: the largest "
                      "p(y \xe2\x88\x88 C | X) among %u numbers</text>\n", SVG_LEFT, per);
  }
}

nsr_code numbers_plot_path_check(const char *path, nsr_error *err) {
  size_t len = strlen(path);
  if (len > 4 && strcasecmp(path + len - 4, ".svg") == 0) return NSR_OK;
  return nsr_fail(err, NSR_ERR_INVALID, "--plot: '%s' does not end in .svg (the plot is an SVG file)", path);
}

nsr_code numbers_plot_svg(const numbers_query *q, char **out, nsr_error *err) {
  nsr_strbuf sb = {0};
  double plot_w = SVG_WIDTH - SVG_LEFT - SVG_RIGHT;
  double plot_h = SVG_HEIGHT - SVG_TOP - SVG_BOTTOM;
  nsr_strbuf_printf(&sb, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
                    "viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"12\">\n"
                    "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n",
                    SVG_WIDTH, SVG_HEIGHT, SVG_WIDTH, SVG_HEIGHT);
  svg_title(&sb, q);
  svg_axes(&sb, q, plot_w, plot_h); /* first, so the bars cover the grid */
  svg_bars(&sb, q, plot_w, plot_h);
  svg_examples(&sb, q, plot_w, plot_h);
  nsr_strbuf_puts(&sb, "</svg>\n");
  return nsr_strbuf_finish(&sb, out, NULL, err);
}

nsr_code numbers_scatter_svg(const double *model, const double *people, size_t n,
                             const char *title, char **out, nsr_error *err) {
  nsr_strbuf sb = {0};
  const int size = 560, margin = 70;
  double side = size - 2.0 * margin;
  nsr_strbuf_printf(&sb, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
                    "viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"12\">\n"
                    "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n", size, size, size, size);
  /* One text element per line of the title (long file names). */
  double y = 20;
  for (const char *line = title; *line; y += 16) {
    size_t len = strcspn(line, "\n");
    char buf[512];
    snprintf(buf, sizeof buf, "%.*s", (int)(len < sizeof buf ? len : sizeof buf - 1), line);
    nsr_strbuf_printf(&sb, "<text x=\"10\" y=\"%g\" font-size=\"12\">", y);
    svg_text(&sb, buf);
    nsr_strbuf_puts(&sb, "</text>\n");
    line += len + (line[len] == '\n');
  }
  for (int i = 0; i <= 4; i++) {
    double p = i / 4.0, x = margin + p * side, y = size - margin - p * side;
    nsr_strbuf_printf(&sb, "<line x1=\"%d\" y1=\"%g\" x2=\"%g\" y2=\"%g\" stroke=\"#ddd\"/>"
                      "<line x1=\"%g\" y1=\"%d\" x2=\"%g\" y2=\"%g\" stroke=\"#ddd\"/>"
                      "<text x=\"%d\" y=\"%g\" text-anchor=\"end\">%.2f</text>"
                      "<text x=\"%g\" y=\"%d\" text-anchor=\"middle\">%.2f</text>\n",
                      margin, y, margin + side, y, x, size - margin, x, (double)margin,
                      margin - 6, y + 4, p, x, size - margin + 18, p);
  }
  nsr_strbuf_printf(&sb, "<line x1=\"%d\" y1=\"%d\" x2=\"%g\" y2=\"%g\" stroke=\"#999\" "
                    "stroke-dasharray=\"4 4\"/>\n", margin, size - margin, margin + side, (double)margin);
  nsr_strbuf_printf(&sb, "<text x=\"%g\" y=\"%d\" text-anchor=\"middle\">model p(yes)</text>\n"
                    "<text transform=\"translate(18 %g) rotate(-90)\" text-anchor=\"middle\">"
                    "people p(yes)</text>\n<g fill=\"#4a6fa5\" fill-opacity=\"0.35\">\n",
                    margin + side / 2, size - 20, margin + side / 2);
  for (size_t i = 0; i < n; i++) {
    nsr_strbuf_printf(&sb, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2\"/>\n", margin + model[i] * side,
                      size - margin - people[i] * side);
  }
  nsr_strbuf_puts(&sb, "</g>\n</svg>\n");
  return nsr_strbuf_finish(&sb, out, NULL, err);
}
