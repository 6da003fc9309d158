/* experiment_plot.c: the injection curves as SVG, in the style of
 * svg_plot.c: top-1 recall of the exact MAP (0..1) against the number of
 * training example sets on a log axis, one line per variant, ±1 sd bars. */
#include <math.h>

#include "nsr_learn.h"
#include "strbuf.h"

#define W 860
#define H 460
#define LEFT 70
#define RIGHT 200 /* room for the legend */
#define TOP 40
#define BOTTOM 60

static const char *const colours[NSR_EXPERIMENT_MAX_VARIANTS] = {
    "#222222", "#1f77b4", "#d62728", "#ff9896", "#ff7f0e",
    "#ffbb78", "#2ca02c", "#98df8a", "#17becf", "#9edae5",
    "#9467bd", "#8c564b"};

nsr_code nsr_experiment_svg(const nsr_experiment_config *cfg, const nsr_experiment_result *r,
                            char **svg, nsr_error *err) {
  nsr_strbuf sb = {0};
  double pw = W - LEFT - RIGHT, ph = H - TOP - BOTTOM;
  double lo = log2((double)cfg->budgets[0]), hi = log2((double)cfg->budgets[cfg->n_budgets - 1]);
  if (hi <= lo) hi = lo + 1;
#define X(k) (LEFT + (log2((double)(k)) - lo) / (hi - lo) * pw)
#define Y(p) (TOP + (1.0 - (p)) * ph)
  char points[64];
  nsr_strbuf_printf(&sb, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
                    "font-family=\"Helvetica, Arial, sans-serif\" font-size=\"12\">\n"
                    "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n"
                    "<text x=\"%d\" y=\"22\" font-size=\"15\">Held-out top-1 recall of the exact MAP "
                    "vs training example sets (%s)</text>\n", W, H, LEFT,
                    nsr_experiment_points_text(cfg->seeds, points, sizeof points));
  for (int i = 0; i <= 4; i++) {
    double p = i / 4.0;
    nsr_strbuf_printf(&sb, "<line x1=\"%d\" y1=\"%g\" x2=\"%g\" y2=\"%g\" stroke=\"#ddd\"/>"
                      "<text x=\"%d\" y=\"%g\" text-anchor=\"end\">%.2f</text>\n",
                      LEFT, Y(p), LEFT + pw, Y(p), LEFT - 6, Y(p) + 4, p);
  }
  for (size_t b = 0; b < cfg->n_budgets; b++) {
    nsr_strbuf_printf(&sb, "<text x=\"%g\" y=\"%g\" text-anchor=\"middle\">%llu</text>\n",
                      X(cfg->budgets[b]), TOP + ph + 18, (unsigned long long)cfg->budgets[b]);
  }
  nsr_strbuf_printf(&sb, "<line x1=\"%d\" y1=\"%g\" x2=\"%g\" y2=\"%g\" stroke=\"#333\"/>"
                    "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%g\" stroke=\"#333\"/>\n"
                    "<text x=\"%g\" y=\"%d\" text-anchor=\"middle\">training example sets (log scale)</text>\n",
                    LEFT, TOP + ph, LEFT + pw, TOP + ph, LEFT, TOP, LEFT, TOP + ph, LEFT + pw / 2, H - 15);
  for (size_t v = 0; v < nsr_variant_count; v++) {
    const char *c = colours[v];
    const nsr_experiment_point *pt = r->top1[v];
    nsr_strbuf_printf(&sb, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\" points=\"", c);
    for (size_t b = 0; b < cfg->n_budgets; b++) {
      nsr_strbuf_printf(&sb, "%s%g,%g", b ? " " : "", X(cfg->budgets[b]), Y(pt[b].mean));
    }
    nsr_strbuf_printf(&sb, "\"/>\n");
    for (size_t b = 0; b < cfg->n_budgets; b++) {
      double x = X(cfg->budgets[b]) + ((double)v - 5.0) * 2.0; /* offset so bars do not overlap */
      nsr_strbuf_printf(&sb, "<line x1=\"%g\" y1=\"%g\" x2=\"%g\" y2=\"%g\" stroke=\"%s\"/>"
                        "<circle cx=\"%g\" cy=\"%g\" r=\"3\" fill=\"%s\"/>\n", x,
                        Y(fmin(1.0, pt[b].mean + pt[b].sd)), x, Y(fmax(0.0, pt[b].mean - pt[b].sd)), c,
                        X(cfg->budgets[b]), Y(pt[b].mean), c);
    }
    double ly = TOP + 10 + 20.0 * (double)v;
    nsr_strbuf_printf(&sb, "<line x1=\"%g\" y1=\"%g\" x2=\"%g\" y2=\"%g\" stroke=\"%s\" stroke-width=\"2\"/>"
                      "<text x=\"%g\" y=\"%g\">%s</text>\n", LEFT + pw + 15, ly, LEFT + pw + 40, ly, c,
                      LEFT + pw + 46, ly + 4, nsr_variants[v].name);
  }
#undef X
#undef Y
  nsr_strbuf_printf(&sb, "</svg>\n");
  return nsr_strbuf_finish(&sb, svg, NULL, err);
}
