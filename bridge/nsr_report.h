/* nsr_report.h: the public API of number-game reports and SVG plots (bridge/report/).
 * Sources and private headers live in that folder. */
#ifndef NSR_REPORT_PUBLIC_H
#define NSR_REPORT_PUBLIC_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

#include "nsr_core.h"
#include "nsr_symbolic.h"
#include "nsr_space.h"
#include "nsr_neural.h"

/* ---- numbers_report ------------------------------------------------------ */
/* numbers_report: how a number-game answer is shown: the JSON object of
 * `nsr numbers --json` (also the `number_game` tool's output), the text
 * report with its terminal bar chart, and the SVG plot. */

/* One query and its answer, as the reports need them. */
typedef struct numbers_query {
  const nsr_numbers_config *cfg;
  const uint32_t *examples;
  size_t n_examples;
  const uint32_t *probes; /* may be NULL */
  size_t n_probes;
  /* JSON: p(y ∈ C | X) at the probes only, without "generalization" (the
   * number_game tool, so that a query over 1..10000 stays small). */
  bool probes_only;
  const nsr_numbers_result *result;
  /* Names hypotheses of a grammar space (NULL: Tenenbaum's names). */
  const nsr_space *space;
  /* The file the space came from: a space description, or with `fitted` a
   * prior file of `nsr numbers fit`; NULL for Tenenbaum's model. */
  const char *model_file;
  bool fitted;
} numbers_query;

/* The prior's name in reports: "pmtk3" or "mixture" (Tenenbaum's model),
 * "space" (a space file's grammar weights) or "fitted" (a prior file). */
const char *numbers_query_prior_name(const numbers_query *q);

/* One line naming the model and its prior: "prior pmtk3 (sigma 10)",
 * "prior of space lot.json (lambda 0.5, sigma 10)", "fitted prior p.json
 * (lambda 0.4, sigma 9.1)". */
void numbers_query_describe(const numbers_query *q, char *buf, size_t len);

/* The largest of g[first..last): what a bar or a chart column over several
 * numbers shows, so that a single number with p = 1 is still drawn full. */
double numbers_bin_max(const double *g, size_t first, size_t last);

/* Checks that `path` names an SVG file (ends in .svg, any case): --plot
 * writes SVG only. NSR_ERR_INVALID otherwise. */
nsr_code numbers_plot_path_check(const char *path, nsr_error *err);

/* The name of q->result->top[i] (rules and intervals, or a space's
 * shortest descriptions). */
void numbers_query_name(const numbers_query *q, size_t i, char *buf, size_t len);

/* Builds the documented JSON object:
 *   {"examples":[..], "range":[1,N],
 *    "prior":{"name","file" (with a space or prior file),"lambda","sigma"},
 *    "hypotheses":[{"name","posterior","prior","size"},..],
 *    "generalization":[p(1),..,p(N)] (not with probes_only),
 *    "probes":[{"y","p"},..] (with probes),
 *    "log_evidence":x, "consistent":{"rules":r,"intervals":i}}
 * The caller owns *out (json_decref). */
nsr_code numbers_report_json(const numbers_query *q, json_t **out,
                             nsr_error *err);

/* Writes the text report: header, top hypotheses, probes, and a bar chart of
 * p(y ∈ C | X). `unicode` selects block characters over ASCII. */
void numbers_report_text(FILE *out, const numbers_query *q, bool unicode);

/* True when the locale's terminal encoding is UTF-8 (block characters). */
bool numbers_terminal_utf8(void);

/* Writes only the bar chart of q->result->generalization (examples marked). */
void numbers_report_chart(FILE *out, const numbers_query *q, bool unicode);

/* Renders an SVG bar chart of p(y ∈ C | X) over 1..N in the style of
 * Tenenbaum's figures, with examples marked, into a string the caller frees
 * with nsr_free. */
nsr_code numbers_plot_svg(const numbers_query *q, char **out, nsr_error *err);

/* Renders an SVG scatter plot of model predictions against people's
 * judgments (n points on [0, 1]², with the diagonal) into a string the
 * caller frees with nsr_free. The title may hold line breaks. */
nsr_code numbers_scatter_svg(const double *model, const double *people, size_t n,
                             const char *title, char **out, nsr_error *err);

/* ---- nsr_numbers_model ------------------------------------------------------ */
/* nsr_numbers_model: the one switch between Tenenbaum's engine (the default), a
 * grammar space (a space file) and a fitted prior (a prior file, which
 * carries its space). `nsr numbers` and its subcommands and the MCP
 * number_game tool all open their model here. */

typedef struct nsr_numbers_model {
  nsr_numbers *engine; /* set when no space is used */
  nsr_space *space;    /* set with --space or --prior-file, or NSR_NUMBERS_MODEL_SPACE */
  nsr_numbers_config cfg; /* for reports; with a space: mixture, λ, σ */
  nsr_space_params response; /* α, β and similarity in guessing; with a
                               space its parameters, else α 1, β 0.5 */
  const char *label;      /* "tenenbaum", the space file or the prior file */
  const char *file;       /* the space or prior file; NULL for Tenenbaum's */
  bool fitted;            /* file is a fitted prior (from `numbers fit`) */
} nsr_numbers_model;

/* How nsr_numbers_model_open builds the model. */
enum {
  NSR_NUMBERS_MODEL_EDGES = 1, /* record a space's derivation graph (for fitting) */
  NSR_NUMBERS_MODEL_SPACE = 2, /* always a space: without a file, Tenenbaum's 34
                              rules as a grammar, with the prior of `cfg` */
  NSR_NUMBERS_MODEL_GRAMMAR_ONLY = 4, /* a space file's grammar, not enumerated
                                         (NSR_SPACE_GRAMMAR_ONLY): for samplers */
};

/* Opens the model the options ask for: prior_path (a fitted prior file),
 * else space_path (a space description), else Tenenbaum's model with `cfg`
 * (its engine, or with NSR_NUMBERS_MODEL_SPACE the same model as a space).
 * Giving both paths is an error; an unreadable or bad file is bad input
 * (NSR_ERR_INVALID). Close *m even when this fails. */
nsr_code nsr_numbers_model_open(nsr_numbers_model *m, const nsr_numbers_config *cfg,
                            const char *space_path, const char *prior_path,
                            unsigned flags, nsr_error *err);
void nsr_numbers_model_close(nsr_numbers_model *m);

nsr_code nsr_numbers_model_infer(nsr_numbers_model *m, const uint32_t *x, size_t n,
                             size_t top_k, nsr_numbers_result *res,
                             nsr_error *err);
/* The reports' view of m's answer r to the examples x[0..n), without
 * probes: m's configuration, its space and file. Borrows everything. */
numbers_query nsr_numbers_model_query(const nsr_numbers_model *m, const uint32_t *x, size_t n,
                                      const nsr_numbers_result *r);

/* p(y ∈ C | X) for every cell of data, into g[n_cells]. */
nsr_code nsr_numbers_model_predict(nsr_numbers_model *m, const nsr_human_data *data,
                               double *g, nsr_error *err);

#endif
