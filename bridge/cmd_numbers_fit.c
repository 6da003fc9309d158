/* cmd_numbers_fit.c: `nsr numbers fit`: fits a space's prior (production
 * weights, rule/interval mixture λ, σ) and the response model (α, β) to
 * human yes/no data by maximum a posteriori, and writes a prior file. */
#include <assert.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cmd_numbers_model.h"
#include "commands.h"
#include "dist.h"
#include "fileio.h"
#include "json.h"

#define CMD "numbers fit"

static const char help_text[] =
    "Usage: nsr numbers fit --data CSV --space FILE --out PRIOR.json [OPTIONS]\n"
    "\n"
    "Fits a space's prior to people's yes/no judgments (Bigelow & Piantadosi layout):\n"
    "every production's log weight, the grammar/interval mixture lambda, the interval\n"
    "scale sigma, and the response model p(yes) = alpha*p(y in C | X) + (1-alpha)*beta,\n"
    "by maximum a posteriori (Gaussian prior on log weights around the space file's\n"
    "values) with L-BFGS and exact gradients. Writes a prior file that records the\n"
    "space, so 'nsr numbers --prior-file PRIOR.json ...' reproduces the fitted model,\n"
    "and prints the learned prior.\n"
    "\n"
    "Options:\n"
    "  --data CSV         the human data (required)\n"
    "  --split S          dev (default); data with a dev/test split is fitted on dev\n"
    "                     only; 'all' fits files without a split column\n"
    "  --space FILE       the space to fit (JSON; see README.md)\n"
    "  --prior-file FILE  start from a fitted prior instead (its space is used)\n"
    "  --out FILE         where to write the prior file (written atomically; required)\n"
    "  --weight-sd S      sd of the prior on each production's log-weight offset from\n"
    "                     its family's (default 0.1); with --cv, a comma-separated list\n"
    "                     to choose from (e.g. 0.1,0.25,0.5,1)\n"
    "  --family-sd S      sd of the prior on each family's shared log-weight offset from\n"
    "                     the space file's weights (default 2)\n"
    "  --sigma-sd S       sd of the prior on log sigma around the space's sigma (default 0.5)\n"
    "  --max-size N       override the space's expression size bound; with --cv, a\n"
    "                     comma-separated list to choose from (e.g. 1,2,3)\n"
    "  --cv K             K-fold cross-validation inside the split (sets dealt round-robin):\n"
    "                     prints the held-out r and log-likelihood of each --max-size and\n"
    "                     --weight-sd, then fits all of the split with the best pair\n"
    "  --iterations K     L-BFGS iterations at most (default 200)\n"
    "  --no-weights       keep production weights; fit lambda, sigma, alpha, beta only\n"
    "  --fit-gamma        also fit the sampling strengths: p(X | h) = |h|^-(gamma1 + gamma*(n-1))\n"
    "  --similarity       also fit similarity in guessing: beta becomes beta_y, with\n"
    "                     logit beta_y = logit beta + b_near*exp(-d/tau) + b_digit*[same\n"
    "                     last digit as an example] + b_decade*[same decade], d the\n"
    "                     distance to the nearest example\n"
    "  --by-n             also fit offsets of logit alpha and logit beta for 2, 3 and\n"
    "                     4 examples (one example: alpha, beta)\n"
    "  --sim-hypothesis   also fit a similarity hypothesis in the space: prior mass mu,\n"
    "                     membership exp(-d/tau_s) by distance d to the nearest example,\n"
    "                     size principle with the soft size sum_y exp(-d/tau_s)\n"
    "                     (default: keep the space's, gamma1 = gamma = 1: the size principle)\n"
    "  --json             print the result as one JSON object\n"
    "  -h, --help         show this help\n"
    "\n"
    "Exit status: 0 on success, 2 on bad arguments or input, 1 on other failures.\n"
    "Example: nsr numbers fit --data bigelow_piantadosi_2016.csv --split dev \\\n"
    "           --space programs/spaces/lot.json --out prior.json\n";

#define MAX_GRID 16

typedef struct fit_cli {
  const char *data, *split, *space, *prior, *out;
  nsr_fit_options opt;
  bool json;
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

/* Fills the fit_cli at `options` from argv; --data, --out and a space are
 * required. */
static nsr_code parse_fit_args(int argc, char **argv, void *options, nsr_error *err) {
  fit_cli *o = options;
  assert(o != NULL); /* tells the static analyzer; the command table always passes one */
  for (int i = 1; i < argc; i++) {
    const char *v = NULL, **slot = NULL;
    if (strcmp(argv[i], "--json") == 0) {
      o->json = true;
      continue;
    }
    if (strcmp(argv[i], "--no-weights") == 0) {
      o->opt.fit_weights = false;
      continue;
    }
    if (strcmp(argv[i], "--by-n") == 0) {
      o->opt.fit_by_n = true;
      continue;
    }
    if (strcmp(argv[i], "--similarity") == 0) {
      o->opt.fit_similarity = true;
      continue;
    }
    if (strcmp(argv[i], "--sim-hypothesis") == 0) {
      o->opt.fit_sim_hypothesis = true;
      continue;
    }
    if (strcmp(argv[i], "--fit-gamma") == 0) {
      o->opt.fit_gamma = true;
      continue;
    }
    uint64_t iterations;
    nsr_code rc = NSR_OK;
    if (cli_option(argc, argv, &i, "--data", &v)) slot = &o->data;
    else if (cli_option(argc, argv, &i, "--split", &v)) slot = &o->split;
    else if (cli_option(argc, argv, &i, "--space", &v)) slot = &o->space;
    else if (cli_option(argc, argv, &i, "--prior-file", &v)) slot = &o->prior;
    else if (cli_option(argc, argv, &i, "--out", &v)) slot = &o->out;
    else if (cli_option(argc, argv, &i, "--weight-sd", &v)) {
      if (v && (rc = parse_grid(v, "--weight-sd", 1e-6, 1e6, false, o->sd_grid, &o->n_sd, err)) == NSR_OK) {
        o->opt.weight_sd = o->sd_grid[0];
      }
    } else if (cli_option(argc, argv, &i, "--max-size", &v)) {
      if (v) rc = parse_grid(v, "--max-size", 1, 32, true, o->size_grid, &o->n_size, err);
    } else if (cli_option(argc, argv, &i, "--family-sd", &v)) {
      if (v && (rc = cli_parse_double(v, "--family-sd", &o->opt.family_sd, err)) == NSR_OK && !(o->opt.family_sd > 0)) {
        rc = nsr_fail(err, NSR_ERR_RANGE, "--family-sd must be positive");
      }
    } else if (cli_option(argc, argv, &i, "--sigma-sd", &v)) {
      if (v && (rc = cli_parse_double(v, "--sigma-sd", &o->opt.sigma_sd, err)) == NSR_OK && !(o->opt.sigma_sd > 0)) {
        rc = nsr_fail(err, NSR_ERR_RANGE, "--sigma-sd must be positive");
      }
    } else if (cli_option(argc, argv, &i, "--cv", &v)) {
      if (v && (rc = cli_parse_u64(v, "--cv", 2, 1000, &iterations, err)) == NSR_OK) o->cv_folds = (int)iterations;
    } else if (cli_option(argc, argv, &i, "--iterations", &v)) {
      if (v && (rc = cli_parse_u64(v, "--iterations", 1, 100000, &iterations, err)) == NSR_OK) {
        o->opt.max_iterations = (int)iterations;
      }
    } else {
      return nsr_fail(err, NSR_ERR_INVALID, "unknown argument '%s'", argv[i]);
    }
    if (v == NULL) return nsr_fail(err, NSR_ERR_INVALID, "option '%s' needs a value", argv[i]);
    if (rc != NSR_OK) return rc;
    if (slot) *slot = v;
  }
  if (o->data == NULL) return nsr_fail(err, NSR_ERR_INVALID, "--data CSV is required");
  if (o->out == NULL) return nsr_fail(err, NSR_ERR_INVALID, "--out FILE is required");
  if ((o->n_sd > 1 || o->n_size > 1) && o->cv_folds == 0) {
    return nsr_fail(err, NSR_ERR_INVALID, "several --weight-sd or --max-size values need --cv K to choose among them");
  }
  if (o->n_size > 0 && o->prior) {
    return nsr_fail(err, NSR_ERR_INVALID, "--max-size rebuilds the space: use it with --space, not --prior-file");
  }
  if (o->space == NULL && o->prior == NULL) {
    return nsr_fail(err, NSR_ERR_INVALID, "give the space to fit: --space FILE or --prior-file FILE");
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

static void print_learned(const nsr_space *s, const nsr_fit_report *rep, const fit_cli *o,
                          const json_t *fam) {
  nsr_space_params p = nsr_space_get_params(s);
  printf("fitted %s on %s (split %s) in %.2f s, %d L-BFGS iterations\n", o->space ? o->space : o->prior,
         o->data, o->split, rep->seconds, rep->iterations);
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
  json_t *fit = json_pack("{s:s, s:s, s:f, s:f, s:i, s:f, s:f, s:f, s:f, s:b, s:b, s:b, s:b, s:O, s:O?}", "data", o->data,
                          "split", o->split, "log_lik", rep->log_lik, "objective", rep->objective,
                          "iterations", rep->iterations, "seconds", rep->seconds, "weight_sd",
                          o->opt.weight_sd, "family_sd", o->opt.family_sd, "sigma_sd", o->opt.sigma_sd, "fit_weights", o->opt.fit_weights, "fit_gamma",
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
  if (rc == NSR_OK) rc = nsr_space_from_json(text, strlen(text), "--max-size", true, &rebuilt, err);
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
  return nsr_json_append(rows, json_pack("{s:i, s:f, s:o, s:o, s:f}", "max_size", size, "weight_sd", sd, "r",
                                         nsr_json_real(m.r), "log_lik_per_response",
                                         nsr_json_real(m.log_lik_per_response), "seconds", secs),
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
  *cv_json = json_pack("{s:i, s:o, s:i, s:f}", "folds", o->cv_folds, "grid", rows, "chosen_max_size", best_size,
                       "chosen_weight_sd", best_sd);
  return *cv_json ? NSR_OK : nsr_fail(err, NSR_ERR_NOMEM, "fit: out of memory");
}

/* Opens the space (with its derivation graph), optionally chooses settings
 * by cross-validation, fits, writes the prior file and reports. */
static nsr_code run_fit(void *options, nsr_error *err) {
  fit_cli *o = options;
  nsr_numbers_config cfg;
  nsr_numbers_config_default(&cfg);
  numbers_model m;
  nsr_code rc = numbers_model_open(&m, &cfg, o->space, o->prior, true, err);
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
    json_t *obj = json_pack("{s:s, s:f, s:f, s:i, s:f, s:{s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f}, s:O}", "out",
                            o->out, "log_lik", rep.log_lik, "objective", rep.objective, "iterations",
                            rep.iterations, "seconds", rep.seconds, "params", "lambda", p.lambda,
                            "sigma", p.sigma, "alpha", p.alpha, "beta", p.beta, "gamma", p.gamma, "gamma1", p.gamma1,
                            "b_near", p.b_near, "tau", p.tau, "b_digit", p.b_digit, "b_decade", p.b_decade,
                            "families", fam);
    if (obj) {
      json_t *params = json_object_get(obj, "params");
      json_object_set_new(params, "sim_mass", nsr_json_real(p.sim_mass));
      json_object_set_new(params, "sim_tau", nsr_json_real(p.sim_tau));
    }
    char *text = obj ? nsr_json_dump(obj) : NULL;
    json_decref(obj);
    if (text == NULL) rc = nsr_fail(err, NSR_ERR_NOMEM, "fit JSON: out of memory");
    else puts(text);
    free(text);
  } else if (rc == NSR_OK) {
    print_learned(m.space, &rep, o, fam);
  }
  json_decref(fam);
  json_decref(cv);
  nsr_human_data_free(&d);
  numbers_model_close(&m);
  return rc;
}

int cmd_numbers_fit(int argc, char **argv) {
  fit_cli o = {.split = "dev"};
  nsr_fit_options_default(&o.opt);
  nsr_dist_fit_hooks(&o.opt); /* under mpirun: folds split by rank, rank 0 writes */
  if (!nsr_dist_is_root() && freopen("/dev/null", "w", stdout) == NULL) return CLI_EXIT_FAILURE;
  return numbers_subcommand(argc, argv, CMD, help_text, &o, parse_fit_args, run_fit);
}
