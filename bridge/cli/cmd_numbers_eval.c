/* cmd_numbers_eval.c: `nsr numbers eval`: how well a model's
 * generalization matches people's judgments in a CSV data set. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "nsr_report.h"
#include "commands.h"
#include "fileio.h"
#include "json.h"
#include "nsr_report.h"

#define CMD "numbers eval"

static const char description[] =
    "Compares a model with people's judgments: Pearson r over all (set, target)\n"
    "cells of the response model p(yes) = alpha*p(y in C | X) + (1-alpha)*beta_y\n"
    "and of the generalization p(y in C | X) itself, the log-likelihood of the\n"
    "yes/no answers under p(yes) (for data with counts), and r within each set.\n"
    "beta_y is constant unless a fitted prior has similarity in guessing\n"
    "(numbers fit --similarity).\n"
    "CSV layouts: set_id,examples,probe,p_yes (Tenenbaum 2000) or\n"
    "split,set,n_examples,target,yes,no,n,p_yes (Bigelow & Piantadosi 2016).\n"
    "Without --space or --prior-file the model is Tenenbaum's, as in 'nsr numbers'\n"
    "(34 rules + intervals, prior pmtk3, sigma 10).\n"
    "--json prints {\"data\", \"split\", \"model\", \"sets\", \"cells\", \"r\", \"r_concept\",\n"
    "\"log_likelihood\", \"log_likelihood_per_response\", \"rmse\", \"noise_ceiling_r\",\n"
    "\"alpha\", \"beta\", \"per_set\":[{\"set\", \"split\", \"cells\", \"r\"}]}.\n";

typedef struct eval_options {
  const char *data, *split, *space, *prior, *plot;
  double alpha, beta;
  bool has_alpha, has_beta, json;
} eval_options;

/* The checks the option table cannot make: --data is required, α in
 * (0, 1], β in (0, 1), the plot is SVG. */
static nsr_code check_eval_options(const eval_options *o, nsr_error *err) {
  if (o->data == NULL) return nsr_fail(err, NSR_ERR_INVALID, "--data CSV is required");
  if (o->has_alpha && !(o->alpha > 0 && o->alpha <= 1)) return nsr_fail(err, NSR_ERR_RANGE, "--alpha: %g is outside (0, 1]", o->alpha);
  if (o->has_beta && !(o->beta > 0 && o->beta < 1)) return nsr_fail(err, NSR_ERR_RANGE, "--beta: %g is outside (0, 1)", o->beta);
  return o->plot ? numbers_plot_path_check(o->plot, err) : NSR_OK;
}

/* r within one set's cells; NAN when either side is constant. */
static double set_r(const nsr_human_data *d, const nsr_human_set *set, const double *g,
                    double *people) {
  for (size_t c = 0; c < set->n_cells; c++) people[c] = d->cells[set->first_cell + c].p_yes;
  return nsr_pearson(g + set->first_cell, people, set->n_cells);
}

static json_t *real_or_null(double v) { return isfinite(v) ? nsr_json_real(v) : json_null(); }

static void format_examples(const nsr_human_set *set, char *buf, size_t len) {
  size_t used = 0;
  buf[0] = '\0';
  for (size_t i = 0; i < set->n_examples && used < len; i++) {
    int k = snprintf(buf + used, len - used, i ? " %u" : "%u", set->examples[i]);
    if (k < 0) break;
    used += (size_t)k;
  }
}

/* Prints the report as text or one JSON object; per-set r is of p(yes),
 * `p`. */
static nsr_code print_eval(const eval_options *o, const nsr_numbers_model *m, const nsr_human_data *d,
                           const double *p, const nsr_fit_metrics *fm, nsr_error *err) {
  double *people = nsr_mallocarray(d->n_cells, sizeof *people);
  if (people == NULL) return nsr_fail(err, NSR_ERR_NOMEM, "eval: out of memory");
  json_t *root = NULL, *sets = NULL;
  nsr_code rc = NSR_OK;
  if (o->json) {
    root = json_pack("{s:o, s:o, s:o, s:I, s:I, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "data",
                     nsr_json_string(o->data), "split", nsr_json_string(o->split), "model",
                     nsr_json_string(m->label), "sets",
                     (json_int_t)d->n_sets, "cells", (json_int_t)d->n_cells, "r", real_or_null(fm->r), "r_concept", real_or_null(fm->r_concept),
                     "log_likelihood", real_or_null(fm->log_lik), "log_likelihood_per_response",
                     real_or_null(fm->log_lik_per_response), "rmse", real_or_null(fm->rmse),
                     "noise_ceiling_r", real_or_null(fm->ceiling_r), "alpha",
                     nsr_json_real(m->response.alpha), "beta", nsr_json_real(m->response.beta));
    sets = json_array();
    if (root == NULL || sets == NULL) rc = nsr_fail(err, NSR_ERR_NOMEM, "eval JSON: out of memory");
  } else {
    printf("data %s (split %s): %zu sets, %zu cells\nmodel %s (alpha %g, beta %g)\n", o->data,
           o->split, d->n_sets, d->n_cells, m->label, m->response.alpha, m->response.beta);
    printf("r = %.4f (p(yes))   r = %.4f (p(y in C | X))   rmse = %.4f", fm->r, fm->r_concept, fm->rmse);
    if (d->has_counts) {
      printf("   log-likelihood = %.2f (%.4f per response)\nnoise ceiling of r (binomial sampling of the proportions) = %.4f",
             fm->log_lik, fm->log_lik_per_response, fm->ceiling_r);
    }
    printf("\n\n%-16s %5s %8s\n", "set", "cells", "r");
  }
  for (size_t i = 0; rc == NSR_OK && i < d->n_sets; i++) {
    const nsr_human_set *set = &d->sets[i];
    double r = set_r(d, set, p, people);
    char name[128];
    format_examples(set, name, sizeof name);
    if (o->json) {
      rc = nsr_json_append(sets, json_pack("{s:o, s:o, s:I, s:o}", "set", nsr_json_string(name), "split", nsr_json_string(set->split),
                                           "cells", (json_int_t)set->n_cells, "r", real_or_null(r)), err);
    } else {
      printf("%-16s %5zu %8.3f\n", name, set->n_cells, r);
    }
  }
  if (o->json && rc == NSR_OK) {
    rc = nsr_json_set(root, "per_set", sets, err);
    sets = NULL;
    if (rc == NSR_OK) rc = cli_print_json(stdout, json_incref(root), err);
  }
  json_decref(sets);
  json_decref(root);
  nsr_free(people);
  return rc;
}

/* Draws p(yes) (`model`) against people's proportions. */
static nsr_code write_scatter(const eval_options *o, const nsr_numbers_model *m, const nsr_human_data *d,
                              const double *model, double r, nsr_error *err) {
  double *people = nsr_mallocarray(d->n_cells, sizeof *people);
  nsr_code rc = NSR_OK;
  char *svg = NULL;
  if (!people) rc = nsr_fail(err, NSR_ERR_NOMEM, "--plot: out of memory");
  for (size_t i = 0; rc == NSR_OK && i < d->n_cells; i++) {
    people[i] = d->cells[i].p_yes;
  }
  char title[512];
  snprintf(title, sizeof title, "people: %s (split %s)\nmodel: %s\nr = %.4f over %zu cells", o->data,
           o->split, m->label, r, d->n_cells);
  if (rc == NSR_OK) rc = numbers_scatter_svg(model, people, d->n_cells, title, &svg, err);
  if (rc == NSR_OK) rc = nsr_write_file_atomic(o->plot, svg, strlen(svg), err);
  if (rc != NSR_OK) nsr_error_prefix(err, "--plot: ");
  nsr_free(svg);
  nsr_free(people);
  return rc;
}

/* Opens the model, predicts every cell of the data, scores and reports. */
static nsr_code run_eval(const eval_options *o, nsr_error *err) {
  nsr_numbers_config cfg;
  nsr_numbers_config_default(&cfg);
  nsr_numbers_model m;
  nsr_code rc = nsr_numbers_model_open(&m, &cfg, o->space, o->prior, 0, err);
  if (rc != NSR_OK) {
    nsr_numbers_model_close(&m);
    return rc;
  }
  if (o->has_alpha) m.response.alpha = o->alpha;
  if (o->has_beta) m.response.beta = o->beta;
  nsr_human_data d;
  rc = nsr_human_data_load(o->data, o->split, m.cfg.max, &d, err);
  if (rc == NSR_ERR_IO) err->code = rc = NSR_ERR_INVALID; /* an unreadable --data is bad input */
  double *g = rc == NSR_OK ? nsr_mallocarray(d.n_cells ? d.n_cells : 1, sizeof *g) : NULL;
  double *p = rc == NSR_OK ? nsr_mallocarray(d.n_cells ? d.n_cells : 1, sizeof *p) : NULL;
  if (rc == NSR_OK && (g == NULL || p == NULL)) rc = nsr_fail(err, NSR_ERR_NOMEM, "eval: out of memory");
  if (rc == NSR_OK) rc = nsr_numbers_model_predict(&m, &d, g, err);
  for (size_t i = 0; rc == NSR_OK && i < d.n_sets; i++) {
    const nsr_human_set *set = &d.sets[i];
    for (size_t c = set->first_cell; c < set->first_cell + set->n_cells; c++) {
      p[c] = nsr_space_response(&m.response, set->examples, set->n_examples, d.cells[c].target, g[c]);
    }
  }
  nsr_fit_metrics fm;
  if (rc == NSR_OK) nsr_fit_metrics_compute(&d, g, &m.response, &fm);
  if (rc == NSR_OK && o->plot) rc = write_scatter(o, &m, &d, p, fm.r, err);
  if (rc == NSR_OK) rc = print_eval(o, &m, &d, p, &fm, err);
  nsr_free(g);
  nsr_free(p);
  nsr_human_data_free(&d);
  nsr_numbers_model_close(&m);
  return rc;
}

int cmd_numbers_eval(int argc, char **argv) {
  static const char *const splits[] = {"dev", "test", "all", NULL};
  eval_options o = {.split = "all", .alpha = 1.0, .beta = 0.5};
  const cli_opt opts[] = {
      CLI_OPTION("--data", CLI_STRING, &o.data, "CSV", "the human data (required)"),
      CLI_OPTION("--split", CLI_CHOICE, &o.split, NULL, "the sets to compare with (all: every set)", .choices = splits),
      CLI_OPTION("--space", CLI_STRING, &o.space, "FILE", "a grammar-defined space (JSON; see programs/spaces/README.md)"),
      CLI_OPTION("--prior-file", CLI_STRING, &o.prior, "FILE", "a fitted prior (from 'nsr numbers fit'), with its space"),
      CLI_OPTION("--alpha", CLI_DOUBLE, &o.alpha, "A", "response model attention, in (0, 1]",
                 .default_text = "1, or the fitted value", .given = &o.has_alpha),
      CLI_OPTION("--beta", CLI_DOUBLE, &o.beta, "B", "response model guessing rate, in (0, 1)",
                 .default_text = "0.5, or the fitted value", .given = &o.has_beta),
      CLI_OPTION("--plot", CLI_STRING, &o.plot, "FILE.svg", "draw model against people (one dot per cell)"),
      CLI_FLAG_OPTION("--json", &o.json, "print one JSON object"),
  };
  const cli_spec spec = {.name = CMD, .description = description, .opts = opts,
                         .n_opts = sizeof opts / sizeof opts[0],
                         .epilog = "Example: nsr numbers eval --data bigelow_piantadosi_2016.csv --split test\n"};
  cli_args args;
  int status = cli_parse(&spec, argc, argv, &args);
  if (status != CLI_CONTINUE) return status;
  nsr_error err = {0};
  if (check_eval_options(&o, &err) != NSR_OK) return cli_usage_error(CMD, "%s", err.message);
  status = run_eval(&o, &err) == NSR_OK ? CLI_EXIT_OK : cli_report(CMD, &err);
  return cli_finish(CMD, status);
}
