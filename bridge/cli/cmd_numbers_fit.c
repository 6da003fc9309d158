/* cmd_numbers_fit.c: `nsr numbers fit`: fits a space's prior (production
 * weights, rule/interval mixture λ, σ) and the response model (α, β) to
 * human yes/no data by maximum a posteriori, and writes a prior file. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "nsr_report.h"
#include "commands.h"
#include "dist.h"
#include "fileio.h"
#include "json.h"

#define CMD "numbers fit"

static const char description[] =
    "Fits a prior to people's yes/no judgments (Bigelow & Piantadosi layout):\n"
    "every production's log weight, the grammar/interval mixture lambda, the interval\n"
    "scale sigma, and the response model p(yes) = alpha*p(y in C | X) + (1-alpha)*beta,\n"
    "by maximum a posteriori (Gaussian prior on log weights around the space file's\n"
    "values) with L-BFGS and exact gradients. Writes a prior file that records the\n"
    "space, so 'nsr numbers --prior-file PRIOR.json ...' reproduces the fitted model,\n"
    "and prints the learned prior.\n"
    "The model fitted is --space FILE, or --prior-file FILE (a fitted prior to start\n"
    "from, with its space), or by default the model of 'nsr numbers': Tenenbaum's 34\n"
    "rules (as a grammar without operations, equal weights) and intervals, with the\n"
    "pmtk3 prior's rule mass as lambda and sigma 10.\n"
    "Data with a dev/test split is fitted on dev only (--split dev); --split all\n"
    "fits files without a split column.\n"
    "Optional terms: --fit-gamma fits the sampling strengths, p(X | h) =\n"
    "|h|^-(gamma1 + gamma*(n-1)); --similarity fits similarity in guessing: beta becomes\n"
    "beta_y, logit beta_y = logit beta + b_near*exp(-d/tau) + b_digit*[same last digit\n"
    "as an example] + b_decade*[same decade], d the distance to the nearest example;\n"
    "--by-n fits offsets of logit alpha and logit beta for 2, 3 and 4 examples;\n"
    "--sim-hypothesis fits a similarity hypothesis in the space: prior mass mu,\n"
    "membership exp(-d/tau_s), size principle with the soft size sum_y exp(-d/tau_s).\n"
    "Without them the space's values are kept (gamma1 = gamma = 1: the size principle).\n"
    "--folds K: K-fold cross-validation inside the split (sets dealt round-robin):\n"
    "prints the held-out r and log-likelihood of each --max-size and --weight-sd\n"
    "value, then fits all of the split with the best pair.\n";

#define MAX_GRID 16

typedef struct fit_cli {
  const char *data, *split, *space, *prior, *out;
  const char *weight_sd_text, *max_size_text; /* value lists, parsed after */
  nsr_fit_options opt;
  bool json, no_weights, family_sd_given;
  int cv_folds;              /* 0: no cross-validation */
  double sd_grid[MAX_GRID];  /* --weight-sd values to choose among */
  size_t n_sd;
  double size_grid[MAX_GRID]; /* --max-size values (whole numbers) */
  size_t n_size;
} fit_cli;

/* Parses a comma-separated list of numbers in [min, max] (whole ones when
 * `whole`) for option `name`. */
static nsr_code parse_grid(const char *text, const char *name, double min, double max, bool whole,
                           double *grid, size_t *n, nsr_error *err) {
  char buf[512];
  snprintf(buf, sizeof buf, "%s", text);
  *n = 0;
  for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
    if (*n == MAX_GRID) return nsr_fail(err, NSR_ERR_INVALID, "%s: at most %d values", name, MAX_GRID);
    double v;
    nsr_code rc = cli_parse_double(tok, name, &v, err);
    if (rc != NSR_OK) return rc;
    if (!(v >= min && v <= max) || (whole && v != floor(v))) {
      return nsr_fail(err, NSR_ERR_RANGE, "%s: '%s' must be a%s number in [%g, %g]", name, tok,
                      whole ? " whole" : "", min, max);
    }
    grid[(*n)++] = v;
  }
  if (*n == 0) return nsr_fail(err, NSR_ERR_INVALID, "%s needs a value", name);
  return NSR_OK;
}

/* The checks the option table cannot make: the required options, the
 * value lists, and options that would have no effect with the others. */
static nsr_code check_fit_options(fit_cli *o, nsr_error *err) {
  if (o->data == NULL) return nsr_fail(err, NSR_ERR_INVALID, "--data CSV is required");
  if (o->out == NULL) return nsr_fail(err, NSR_ERR_INVALID, "--out FILE is required");
  if (!(o->opt.family_sd > 0)) return nsr_fail(err, NSR_ERR_RANGE, "--family-sd: %g is not positive", o->opt.family_sd);
  if (!(o->opt.sigma_sd > 0)) return nsr_fail(err, NSR_ERR_RANGE, "--sigma-sd: %g is not positive", o->opt.sigma_sd);
  if (o->no_weights && (o->weight_sd_text || o->family_sd_given)) {
    return nsr_fail(err, NSR_ERR_INVALID, "%s has no effect with --no-weights (the production weights are kept)",
                    o->weight_sd_text ? "--weight-sd" : "--family-sd");
  }
  o->opt.fit_weights = !o->no_weights;
  if (o->weight_sd_text) {
    if (parse_grid(o->weight_sd_text, "--weight-sd", 1e-6, 1e6, false, o->sd_grid, &o->n_sd, err) != NSR_OK) {
      return err->code;
    }
    o->opt.weight_sd = o->sd_grid[0];
  }
  if (o->max_size_text &&
      parse_grid(o->max_size_text, "--max-size", 1, 32, true, o->size_grid, &o->n_size, err) != NSR_OK) {
    return err->code;
  }
  if ((o->n_sd > 1 || o->n_size > 1) && o->cv_folds == 0) {
    return nsr_fail(err, NSR_ERR_INVALID, "several --weight-sd or --max-size values need --folds K to choose among them");
  }
  if (o->n_size > 0 && o->prior) {
    return nsr_fail(err, NSR_ERR_INVALID, "--max-size rebuilds the space: use it with --space, not --prior-file");
  }
  return NSR_OK;
}

/* Σ exp(log w) over the productions of one kind (primitives or not). */
static double kind_total(const nsr_space *s, bool primitive) {
  double total = 0.0;
  for (size_t i = 0; i < nsr_space_productions(s); i++) {
    if (nsr_space_production_is_primitive(s, i) == primitive) total += exp(nsr_space_production_log_weight(s, i));
  }
  return total;
}

/* The learned prior by family: each family's share of its kind's weight
 * (primitives among primitives, operations among operations). */
static json_t *families_json(const nsr_space *s) {
  json_t *fam = json_object();
  double prim = kind_total(s, true), ops = kind_total(s, false);
  for (size_t i = 0; fam && i < nsr_space_productions(s); i++) {
    bool is_prim = nsr_space_production_is_primitive(s, i);
    const char *name = nsr_space_production_family(s, i);
    double share = exp(nsr_space_production_log_weight(s, i)) / (is_prim ? prim : ops);
    json_t *old = json_object_get(fam, name);
    double before = old ? json_real_value(old) : 0.0;
    json_object_set_new(fam, name, nsr_json_real(before + share));
  }
  return fam;
}

static void print_learned(const nsr_numbers_model *m, const nsr_fit_report *rep, const fit_cli *o,
                          const json_t *fam) {
  const nsr_space *s = m->space;
  nsr_space_params p = nsr_space_get_params(s);
  printf("fitted %s on %s (split %s) in %.2f s, %d L-BFGS iterations\n", m->label, o->data, o->split,
         rep->seconds, rep->iterations);
  printf("training log-likelihood %.2f   negative log posterior %.2f\n", rep->log_lik, rep->objective);
  printf("lambda %.4f   sigma %.3f   alpha %.4f   beta %.4f   gamma1 %.4f   gamma %.4f\n", p.lambda,
         p.sigma, p.alpha, p.beta, p.gamma1, p.gamma);
  printf("similarity in guessing: b_near %.4f   tau %.3f   b_digit %.4f   b_decade %.4f\n", p.b_near, p.tau,
         p.b_digit, p.b_decade);
  if (p.sim_mass > 0) printf("similarity hypothesis: mass %.4f   tau %.3f\n", p.sim_mass, p.sim_tau);
  printf("alpha, beta by number of examples:");
  for (size_t n = 1; n <= 4; n++) {
    nsr_similarity none = {.near = 0};
    printf("   %zu: %.4f %.4f", n, nsr_space_attention(&p, n), nsr_space_guess(&p, n, &none));
  }
  printf("\n\n");
  printf("weight of each family (share of its kind's weight):\n");
  const char *key;
  json_t *v;
  json_object_foreach((json_t *)fam, key, v) printf("  %-16s %.4f\n", key, json_real_value(v));
  printf("\nproductions (log weight, share of its kind):\n");
  double prim = kind_total(s, true), ops = kind_total(s, false);
  for (size_t i = 0; i < nsr_space_productions(s); i++) {
    double lw = nsr_space_production_log_weight(s, i);
    printf("  %-22s %8.3f %8.4f\n", nsr_space_production_name(s, i), lw,
           exp(lw) / (nsr_space_production_is_primitive(s, i) ? prim : ops));
  }
  printf("\nwrote %s\n", o->out);
}

static nsr_code write_prior(const nsr_space *s, const fit_cli *o, const nsr_fit_report *rep,
                            const json_t *fam, const json_t *cv, nsr_error *err) {
  json_t *fit = json_pack("{s:o, s:o, s:o, s:o, s:i, s:o, s:o, s:o, s:o, s:b, s:b, s:b, s:b, s:O, s:O?}", "data",
                          nsr_json_string(o->data), "split", nsr_json_string(o->split), "log_lik",
                          nsr_json_real(rep->log_lik), "objective", nsr_json_real(rep->objective),
                          "iterations", rep->iterations, "seconds", nsr_json_real(rep->seconds), "weight_sd",
                          nsr_json_real(o->opt.weight_sd), "family_sd", nsr_json_real(o->opt.family_sd),
                          "sigma_sd", nsr_json_real(o->opt.sigma_sd), "fit_weights", o->opt.fit_weights, "fit_gamma",
                          o->opt.fit_gamma, "fit_similarity", o->opt.fit_similarity, "fit_by_n",
                          o->opt.fit_by_n, "families", fam, "cross_validation", cv);
  if (fit) json_object_set_new(fit, "fit_sim_hypothesis", json_boolean(o->opt.fit_sim_hypothesis));
  char *fit_text = fit ? nsr_json_dump(fit) : NULL;
  json_decref(fit);
  if (fit_text == NULL) return nsr_fail(err, NSR_ERR_NOMEM, "prior file: out of memory");
  char *text;
  nsr_code rc = nsr_space_prior_text(s, fit_text, &text, err);
  free(fit_text);
  if (rc != NSR_OK) return rc;
  rc = nsr_write_file_atomic(o->out, text, strlen(text), err);
  nsr_free(text);
  if (rc != NSR_OK) nsr_error_prefix(err, "--out: ");
  return rc;
}

/* The space description `source` with "max_size" set to `size` (caller
 * frees with free()). */
static nsr_code with_max_size(const char *source, int size, char **out, nsr_error *err) {
  json_t *root;
  nsr_code rc = nsr_json_parse(source, strlen(source), &root, err);
  if (rc != NSR_OK) return rc;
  rc = nsr_json_set(root, "max_size", json_integer(size), err);
  *out = rc == NSR_OK ? nsr_json_dump(root) : NULL;
  json_decref(root);
  if (rc == NSR_OK && *out == NULL) rc = nsr_fail(err, NSR_ERR_NOMEM, "fit: out of memory");
  return rc;
}

/* Replaces *space by the same description built with max_size `size`
 * (derivation graph recorded, for the fit). */
static nsr_code rebuild_with_size(nsr_space **space, int size, nsr_error *err) {
  char *text = NULL; /* freed below even when with_max_size fails */
  nsr_code rc = with_max_size(nsr_space_source(*space), size, &text, err);
  nsr_space *rebuilt = NULL;
  if (rc == NSR_OK) rc = nsr_space_from_json(text, strlen(text), "--max-size", NSR_SPACE_RECORD_EDGES, &rebuilt, err);
  free(text);
  if (rc != NSR_OK) return rc;
  nsr_space_free(*space);
  *space = rebuilt;
  return NSR_OK;
}

/* One row of the cross-validation table: held-out scores of the space
 * `source` with the given weight sd; appended to rows. */
static nsr_code cv_row(const fit_cli *o, const char *source, int size, double sd, const nsr_human_data *d,
                       json_t *rows, double *log_lik, nsr_error *err) {
  nsr_fit_options opt = o->opt;
  opt.weight_sd = sd;
  nsr_fit_metrics m;
  uint64_t start = nsr_now_ns();
  nsr_code rc = nsr_fit_cross_validate(source, d, &opt, o->cv_folds, &m, err);
  if (rc != NSR_OK) return rc;
  double secs = nsr_seconds_since(start);
  if (!o->json) printf("%8d %10g %12.4f %16.5f %8.2f\n", size, sd, m.r, m.log_lik_per_response, secs);
  *log_lik = m.log_lik;
  return nsr_json_append(rows, json_pack("{s:i, s:o, s:o, s:o, s:o}", "max_size", size, "weight_sd", nsr_json_real(sd),
                                         "r", nsr_json_real(m.r), "log_lik_per_response",
                                         nsr_json_real(m.log_lik_per_response), "seconds", nsr_json_real(secs)),
                         err);
}

/* Chooses the expression size bound (among o->size_grid, or the space's
 * own) and opt.weight_sd (among o->sd_grid) by K-fold cross-validation:
 * the highest held-out log-likelihood. Rebuilds *space with the chosen
 * bound; records the table in *cv_json. */
static nsr_code choose_by_cv(fit_cli *o, nsr_space **space, const nsr_human_data *d, json_t **cv_json,
                             nsr_error *err) {
  json_t *rows = json_array();
  if (rows == NULL) return nsr_fail(err, NSR_ERR_NOMEM, "fit: out of memory");
  double own_sd = o->opt.weight_sd, best = -INFINITY, best_sd = own_sd;
  int own_size = nsr_space_max_size(*space), best_size = own_size;
  size_t n_size = o->n_size ? o->n_size : 1, n_sd = o->n_sd ? o->n_sd : 1;
  nsr_code rc = NSR_OK;
  if (!o->json) printf("%d-fold cross-validation inside split %s:\n%8s %10s %12s %16s %8s\n", o->cv_folds, o->split,
                       "max-size", "weight-sd", "held-out r", "LL per response", "seconds");
  for (size_t i = 0; rc == NSR_OK && i < n_size; i++) {
    char *source = NULL;
    int size = o->n_size ? (int)o->size_grid[i] : own_size;
    rc = with_max_size(nsr_space_source(*space), size, &source, err);
    for (size_t j = 0; rc == NSR_OK && j < n_sd; j++) {
      double sd = o->n_sd ? o->sd_grid[j] : own_sd, ll;
      rc = cv_row(o, source, size, sd, d, rows, &ll, err);
      if (rc == NSR_OK && ll > best) {
        best = ll;
        best_sd = sd;
        best_size = size;
      }
    }
    free(source);
  }
  if (rc == NSR_OK && best_size != own_size) rc = rebuild_with_size(space, best_size, err);
  if (rc != NSR_OK) {
    json_decref(rows);
    return rc;
  }
  o->opt.weight_sd = best_sd;
  if (!o->json) printf("chosen: max-size %d, weight-sd %g\n\n", best_size, best_sd);
  *cv_json = json_pack("{s:i, s:o, s:i, s:o}", "folds", o->cv_folds, "grid", rows, "chosen_max_size", best_size,
                       "chosen_weight_sd", nsr_json_real(best_sd));
  return *cv_json ? NSR_OK : nsr_fail(err, NSR_ERR_NOMEM, "fit: out of memory");
}

/* Opens the space (with its derivation graph), optionally chooses settings
 * by cross-validation, fits, writes the prior file and reports. */
static nsr_code run_fit(fit_cli *o, nsr_error *err) {
  nsr_numbers_config cfg;
  nsr_numbers_config_default(&cfg);
  nsr_numbers_model m;
  nsr_code rc = nsr_numbers_model_open(&m, &cfg, o->space, o->prior, NSR_NUMBERS_MODEL_EDGES | NSR_NUMBERS_MODEL_SPACE, err);
  nsr_human_data d = {0};
  if (rc == NSR_OK) rc = nsr_human_data_load(o->data, o->split, m.cfg.max, &d, err);
  if (rc == NSR_ERR_IO) err->code = rc = NSR_ERR_INVALID;
  /* Held-out data stays held out: with a split column, only dev is fitted. */
  if (rc == NSR_OK && d.has_split && strcmp(o->split, "dev") != 0) {
    rc = nsr_fail(err, NSR_ERR_INVALID, "%s has a dev/test split: fit on --split dev only (test is for eval)",
                  o->data);
  }
  nsr_fit_report rep;
  json_t *cv = NULL;
  if (rc == NSR_OK && o->cv_folds) rc = choose_by_cv(o, &m.space, &d, &cv, err);
  else if (rc == NSR_OK && o->n_size == 1) rc = rebuild_with_size(&m.space, (int)o->size_grid[0], err);
  if (rc == NSR_OK) rc = nsr_fit_space(m.space, &d, &o->opt, &rep, err);
  json_t *fam = rc == NSR_OK ? families_json(m.space) : NULL;
  if (rc == NSR_OK && fam == NULL) rc = nsr_fail(err, NSR_ERR_NOMEM, "fit: out of memory");
  if (rc == NSR_OK && nsr_dist_is_root()) rc = write_prior(m.space, o, &rep, fam, cv, err);
  if (rc == NSR_OK && o->json) {
    nsr_space_params p = nsr_space_get_params(m.space);
    json_t *obj = json_pack("{s:o, s:o, s:o, s:i, s:o, s:{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}, s:O}", "out",
                            nsr_json_string(o->out), "log_lik", nsr_json_real(rep.log_lik), "objective",
                            nsr_json_real(rep.objective), "iterations", rep.iterations, "seconds",
                            nsr_json_real(rep.seconds), "params", "lambda", nsr_json_real(p.lambda), "sigma",
                            nsr_json_real(p.sigma), "alpha", nsr_json_real(p.alpha), "beta", nsr_json_real(p.beta),
                            "gamma", nsr_json_real(p.gamma), "gamma1", nsr_json_real(p.gamma1), "b_near",
                            nsr_json_real(p.b_near), "tau", nsr_json_real(p.tau), "b_digit", nsr_json_real(p.b_digit),
                            "b_decade", nsr_json_real(p.b_decade), "families", fam);
    if (obj) {
      json_t *params = json_object_get(obj, "params");
      json_object_set_new(params, "sim_mass", nsr_json_real(p.sim_mass));
      json_object_set_new(params, "sim_tau", nsr_json_real(p.sim_tau));
    }
    rc = cli_print_json(stdout, obj, err);
  } else if (rc == NSR_OK) {
    print_learned(&m, &rep, o, fam);
  }
  json_decref(fam);
  json_decref(cv);
  nsr_human_data_free(&d);
  nsr_numbers_model_close(&m);
  return rc;
}

int cmd_numbers_fit(int argc, char **argv) {
  static const char *const splits[] = {"dev", "test", "all", NULL};
  fit_cli o = {.split = "dev"};
  nsr_fit_options_default(&o.opt);
  char weight_sd[32];
  snprintf(weight_sd, sizeof weight_sd, "%g", o.opt.weight_sd);
  const cli_opt opts[] = {
      CLI_OPTION("--data", CLI_STRING, &o.data, "CSV", "the human data (required)"),
      CLI_OPTION("--split", CLI_CHOICE, &o.split, NULL, "the sets to fit (test is for eval)", .choices = splits),
      CLI_OPTION("--space", CLI_STRING, &o.space, "FILE", "the space to fit (JSON; see programs/spaces/README.md)",
                 .default_text = "Tenenbaum's rules"),
      CLI_OPTION("--prior-file", CLI_STRING, &o.prior, "FILE", "start from a fitted prior instead (its space is used)"),
      CLI_OPTION("--out", CLI_STRING, &o.out, "FILE", "where to write the prior file (atomically; required)"),
      CLI_OPTION("--weight-sd", CLI_STRING, &o.weight_sd_text, "S[,S...]",
                 "sd of the prior on each production's log-weight offset from its\n"
                 "family's; with --folds, a list to choose from (e.g. 0.1,0.25,0.5,1)",
                 .default_text = weight_sd),
      CLI_OPTION("--family-sd", CLI_DOUBLE, &o.opt.family_sd, "S",
                 "sd of the prior on each family's shared log-weight offset from the\n"
                 "space file's weights, > 0", .given = &o.family_sd_given),
      CLI_OPTION("--sigma-sd", CLI_DOUBLE, &o.opt.sigma_sd, "S", "sd of the prior on log sigma around the space's sigma, > 0"),
      CLI_OPTION("--max-size", CLI_STRING, &o.max_size_text, "N[,N...]",
                 "override the space's expression size bound (1..32); with --folds,\n"
                 "a list to choose from (e.g. 1,2,3)", .default_text = "the space's"),
      CLI_OPTION("--folds", CLI_INT, &o.cv_folds, "K", "choose --max-size and --weight-sd by K-fold cross-validation",
                 .min = 2, .max = 1000, .default_text = "none"),
      CLI_OPTION("--iterations", CLI_INT, &o.opt.max_iterations, "K", "L-BFGS iterations at most", .min = 1,
                 .max = 100000),
      CLI_FLAG_OPTION("--no-weights", &o.no_weights, "keep production weights; fit lambda, sigma, alpha, beta only"),
      CLI_FLAG_OPTION("--fit-gamma", &o.opt.fit_gamma, "also fit the sampling strengths gamma1, gamma"),
      CLI_FLAG_OPTION("--similarity", &o.opt.fit_similarity, "also fit similarity in guessing (beta_y)"),
      CLI_FLAG_OPTION("--by-n", &o.opt.fit_by_n, "also fit alpha and beta offsets by number of examples"),
      CLI_FLAG_OPTION("--sim-hypothesis", &o.opt.fit_sim_hypothesis, "also fit a similarity hypothesis (mu, tau_s)"),
      CLI_FLAG_OPTION("--json", &o.json, "print the result as one JSON object"),
  };
  const cli_spec spec = {.name = CMD, .description = description, .opts = opts,
                         .n_opts = sizeof opts / sizeof opts[0],
                         .epilog = "Example: nsr numbers fit --data bigelow_piantadosi_2016.csv --split dev \\\n"
                                   "           --space programs/spaces/lot.json --out prior.json\n"};
  /* Under mpirun rank 0 alone prints (and writes the prior file). */
  if (!nsr_dist_is_root() && freopen("/dev/null", "w", stdout) == NULL) return CLI_EXIT_FAILURE;
  cli_args args;
  int status = cli_parse(&spec, argc, argv, &args);
  if (status != CLI_CONTINUE) return status;
  nsr_error err = {0};
  if (check_fit_options(&o, &err) != NSR_OK) return cli_usage_error(CMD, "%s", err.message);
  nsr_dist_fit_hooks(&o.opt); /* under mpirun: the folds split by rank */
  status = run_fit(&o, &err) == NSR_OK ? CLI_EXIT_OK : cli_report(CMD, &err);
  return cli_finish(CMD, status);
}
