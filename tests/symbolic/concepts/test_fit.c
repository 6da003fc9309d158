/* test_fit.c: human data, agreement metrics and fitting. Expected values
 * come from hand calculations, from central finite differences of the
 * objective (for its analytic gradient), and from the data README's
 * published reference figures (Tenenbaum's model: r = 0.948 on his ratings,
 * r = 0.58 on all Bigelow & Piantadosi cells). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fit.h"
#include "nsr_space.h"
#include "nsr_test_util.h"

/* ---- CSV ---------------------------------------------------------------- */

static const char bp_small[] =
    "split,set,n_examples,target,yes,no,n,p_yes\n"
    "dev,16 8,2,2,3,1,4,0.75\n"
    "dev,16 8,2,3,0,4,4,0\n"
    "test,7,1,7,5,0,5,1\n"
    "dev,16 8,2,4,2,2,4,0.5\n";

static void test_csv_groups_sets_and_splits(void **state) {
  (void)state;
  nsr_human_data d;
  nsr_error err;
  assert_int_equal(nsr_human_data_parse(bp_small, strlen(bp_small), "bp", NULL, 100, &d, &err), NSR_OK);
  assert_int_equal(d.n_sets, 2);
  assert_int_equal(d.n_cells, 4);
  assert_true(d.has_counts && d.has_split);
  assert_int_equal(d.sets[0].n_examples, 2);
  assert_int_equal(d.sets[0].examples[1], 8);
  assert_int_equal(d.sets[0].n_cells, 3); /* the later row joins its set */
  assert_int_equal(d.cells[d.sets[0].first_cell + 2].target, 4);
  assert_string_equal(d.sets[1].split, "test");
  nsr_human_data_free(&d);
  assert_int_equal(nsr_human_data_parse(bp_small, strlen(bp_small), "bp", "dev", 100, &d, &err), NSR_OK);
  assert_int_equal(d.n_sets, 1);
  assert_int_equal(d.n_cells, 3);
  nsr_human_data_free(&d);
  const char tb[] = "set_id,examples,probe,p_yes\n1,16,2,0.5\n1,16,4,0.75\n2,60,10,1\n";
  assert_int_equal(nsr_human_data_parse(tb, strlen(tb), "tb", NULL, 100, &d, &err), NSR_OK);
  assert_int_equal(d.n_sets, 2);
  assert_false(d.has_counts);
  assert_near(d.cells[1].p_yes, 0.75, 0, "p_yes");
  nsr_human_data_free(&d);
}

static void test_csv_errors_name_the_line(void **state) {
  (void)state;
  static const struct { const char *text, *split, *message; } cases[] = {
      {"", NULL, "x.csv: empty file"},
      {"\n\n", NULL, "x.csv: empty file"},
      {"a,b,c\n1,2,3\n", NULL, "x.csv:1: unknown header"},
      {"set_id,examples,p_yes\n1,16,0.5\n", NULL, "x.csv:1: missing column 'probe'"},
      {"set_id,examples,probe,p_yes\n1,16,2,0.5\n1,16,x,0.5\n", NULL, "x.csv:3: target 'x' is not a whole number"},
      {"set_id,examples,probe,p_yes\n1,16,101,0.5\n", NULL, "x.csv:2: target '101' is not a whole number in 1..100"},
      {"set_id,examples,probe,p_yes\n1,16,2,1.5\n", NULL, "x.csv:2: p_yes '1.5' is not a number in [0, 1]"},
      {"set_id,examples,probe,p_yes\n1,16 0,2,0.5\n", NULL, "x.csv:2: example '0'"},
      {"set_id,examples,probe,p_yes\n1,16,2\n", NULL, "x.csv:2: 3 fields, the header has 4"},
      {"set_id,examples,probe,p_yes\n1,16,2,0.5\n", "dev", "x.csv has no split column"},
      {"split,set,n_examples,target,yes,no,n,p_yes\ndev,5,1,3,2,2,5,0.4\n", NULL, "x.csv:2: n = 5 but yes + no = 4"},
      {"split,set,n_examples,target,yes,no,n,p_yes\ntrain,5,1,3,2,2,4,0.5\n", NULL, "x.csv:2: split 'train'"},
      {"split,set,n_examples,target,yes,no,n,p_yes\ndev,5,1,3,-2,2,4,0.5\n", NULL, "x.csv:2: yes '-2'"},
      {"split,set,n_examples,target,yes,no,n,p_yes\ntest,5,1,3,2,2,4,0.5\n", "dev", "no data rows in the selected split"},
      {"set_id,examples,probe,p_yes\n1,16,2,0.5\n", "train", "split 'train': expected dev, test or all"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    nsr_human_data d;
    nsr_error err;
    nsr_code rc = nsr_human_data_parse(cases[i].text, strlen(cases[i].text), "x.csv", cases[i].split, 100, &d, &err);
    if (rc == NSR_OK) fail_msg("case %zu accepted", i);
    if (strstr(err.message, cases[i].message) == NULL) fail_msg("case %zu: '%s' lacks '%s'", i, err.message, cases[i].message);
  }
}

/* Random byte mutations of a valid file: each parse either succeeds or
 * fails with a message, and never reads or writes out of bounds (the
 * sanitizer build checks that). */
static void test_csv_survives_mutations(void **state) {
  (void)state;
  nsr_rng rng;
  nsr_rng_seed(&rng, 42);
  static const char alphabet[] = "0123456789,. \n\r-\"ae";
  char buf[sizeof bp_small];
  size_t ok = 0;
  for (int round = 0; round < 3000; round++) {
    memcpy(buf, bp_small, sizeof bp_small);
    int edits = 1 + (int)nsr_rng_below(&rng, 4);
    for (int k = 0; k < edits; k++) {
      buf[nsr_rng_below(&rng, sizeof bp_small - 1)] = alphabet[nsr_rng_below(&rng, sizeof alphabet - 1)];
    }
    size_t len = nsr_rng_below(&rng, sizeof bp_small);
    nsr_human_data d;
    nsr_error err;
    if (nsr_human_data_parse(buf, len, "m", NULL, 100, &d, &err) == NSR_OK) {
      ok++;
      assert_true(d.n_cells > 0 && d.n_sets > 0);
      nsr_human_data_free(&d);
    } else {
      assert_true(err.message[0] != '\0');
    }
  }
  assert_true(ok > 0);
}

static void test_csv_allocation_failures(void **state) {
  (void)state;
  for (uint64_t n = 1; n < 200; n++) {
    nsr_alloc_fail_after(n);
    nsr_human_data d;
    nsr_error err;
    nsr_code rc = nsr_human_data_parse(bp_small, strlen(bp_small), "bp", NULL, 100, &d, &err);
    nsr_alloc_fail_reset();
    if (rc == NSR_OK) {
      nsr_human_data_free(&d);
      return;
    }
    assert_int_equal(rc, NSR_ERR_NOMEM);
  }
  fail_msg("parsing never succeeded");
}

/* ---- metrics by hand ------------------------------------------------------ */

/* x = 1, 2, 3; y = 2, 4, 7: centred sums Sxy = 5, Sxx = 2, Syy = 114/9, so
 * r = 5 / sqrt(2 · 114/9) = 0.99339926... */
static void test_pearson_and_log_likelihood_by_hand(void **state) {
  (void)state;
  const double x[] = {1, 2, 3}, y[] = {2, 4, 7};
  assert_near(nsr_pearson(x, y, 3), 5 / sqrt(2 * 114.0 / 9), 1e-14, "r");
  const double flat[] = {1, 1, 1};
  assert_true(isnan(nsr_pearson(x, flat, 3)));
  /* Cells: 3 yes 1 no at g = 0.5 and 0 yes 4 no at g = 0.1, α = 0.8,
   * β = 0.25: p = 0.45 and 0.13, LL = 3 ln 0.45 + ln 0.55 + 4 ln 0.87. */
  nsr_human_data d;
  nsr_error err;
  const char text[] = "split,set,n_examples,target,yes,no,n,p_yes\ndev,5,1,1,3,1,4,0.75\ndev,5,1,2,0,4,4,0\n";
  assert_int_equal(nsr_human_data_parse(text, strlen(text), "t", NULL, 100, &d, &err), NSR_OK);
  const double g[] = {0.5, 0.1};
  nsr_fit_metrics m;
  const nsr_space_params prm = {.alpha = 0.8, .beta = 0.25, .tau = 1};
  nsr_fit_metrics_compute(&d, g, &prm, &m);
  assert_near(m.log_lik, 3 * log(0.45) + log(0.55) + 4 * log(0.87), 1e-12, "LL");
  assert_near(m.log_lik_per_response, m.log_lik / 8, 1e-15, "LL per response");
  assert_near(m.rmse, sqrt(((0.45 - 0.75) * (0.45 - 0.75) + 0.13 * 0.13) / 2), 1e-14, "rmse");
  nsr_human_data_free(&d);
}

/* Similarity features and β_y by hand: examples {16, 42}, τ 4. */
static void test_similarity_in_guessing_by_hand(void **state) {
  (void)state;
  const uint32_t x[] = {16, 42};
  nsr_space_params p = {.alpha = 0.6, .beta = 0.2, .tau = 4, .b_near = 1.5, .b_digit = 0.8, .b_decade = -0.3};
  nsr_similarity f;
  /* 12: 4 from 16, ends in 2 like 42, decade 1 like 16. */
  nsr_similarity_of(&p, x, 2, 12, &f);
  assert_near(f.dist, 4, 0, "dist");
  assert_near(f.near, exp(-1.0), 1e-15, "near");
  assert_near(f.digit, 1, 0, "digit");
  assert_near(f.decade, 1, 0, "decade");
  double z = log(0.2 / 0.8) + 1.5 * exp(-1.0) + 0.8 - 0.3;
  assert_near(nsr_space_guess(&p, 2, &f), 1 / (1 + exp(-z)), 1e-15, "beta_y");
  assert_near(nsr_space_response(&p, x, 2, 12, 0.5), 0.6 * 0.5 + 0.4 / (1 + exp(-z)), 1e-15, "p(yes)");
  /* 99: 57 from 42, shares neither digit nor decade. */
  nsr_similarity_of(&p, x, 2, 99, &f);
  assert_near(f.near, exp(-57.0 / 4), 1e-15, "near 99");
  assert_true(f.digit == 0 && f.decade == 0);
  /* All weights zero: β itself. */
  p.b_near = p.b_digit = p.b_decade = 0;
  assert_near(nsr_space_response(&p, x, 2, 12, 0.5), 0.6 * 0.5 + 0.4 * 0.2, 1e-15, "constant beta");
  /* Offsets by n: 2 examples move logit α by −0.5 and logit β by 1; one
   * example and five (counted as 4) take their own. */
  p.a_n[0] = -0.5;
  p.b_n[0] = 1.0;
  p.a_n[2] = 2.0;
  double a2 = 1 / (1 + exp(-(log(0.6 / 0.4) - 0.5))), b2 = 1 / (1 + exp(-(log(0.2 / 0.8) + 1)));
  assert_near(nsr_space_response(&p, x, 2, 12, 0.5), a2 * 0.5 + (1 - a2) * b2, 1e-15, "by n = 2");
  assert_near(nsr_space_attention(&p, 1), 0.6, 0, "n = 1");
  assert_near(nsr_space_attention(&p, 5), 1 / (1 + exp(-(log(0.6 / 0.4) + 2))), 1e-15, "n = 5");
  assert_int_equal(nsr_space_n_index(3), 1);
}

/* ---- the reference figures ------------------------------------------------ */

/* Scores g as p(yes) itself (α = 1). */
static const nsr_space_params as_is = {.alpha = 1, .beta = 0.5, .tau = 1};

typedef nsr_code (*infer_fn)(void *model, const uint32_t *x, size_t n, nsr_numbers_result *r,
                             nsr_error *err);

static nsr_code engine_infer(void *model, const uint32_t *x, size_t n, nsr_numbers_result *r,
                             nsr_error *err) {
  return nsr_numbers_infer(model, x, n, 0, r, err);
}

static nsr_code space_infer(void *model, const uint32_t *x, size_t n, nsr_numbers_result *r,
                            nsr_error *err) {
  return nsr_space_infer(model, x, n, 0, r, err);
}

/* p(y ∈ C | X) of a model for every cell of d (caller frees). */
static double *predict(const nsr_human_data *d, infer_fn infer, void *model) {
  double *g = calloc(d->n_cells, sizeof *g);
  nsr_numbers_result r = {0};
  nsr_error err;
  for (size_t s = 0; s < d->n_sets; s++) {
    if (infer(model, d->sets[s].examples, d->sets[s].n_examples, &r, &err) != NSR_OK) fail_msg("%s", err.message);
    for (size_t c = 0; c < d->sets[s].n_cells; c++) {
      size_t i = d->sets[s].first_cell + c;
      g[i] = r.generalization[d->cells[i].target - 1];
    }
  }
  nsr_numbers_result_free(&r);
  return g;
}

static double tenenbaum_r(const char *file, const char *split) {
  nsr_human_data d;
  nsr_error err;
  if (nsr_human_data_load(test_data_path(file), split, 100, &d, &err) != NSR_OK) fail_msg("%s", err.message);
  nsr_numbers_config cfg;
  nsr_numbers_config_default(&cfg);
  nsr_numbers *engine;
  assert_int_equal(nsr_numbers_new(&cfg, &engine, &err), NSR_OK);
  double *g = predict(&d, engine_infer, engine);
  nsr_fit_metrics m;
  nsr_fit_metrics_compute(&d, g, &as_is, &m);
  nsr_numbers_free(engine);
  free(g);
  nsr_human_data_free(&d);
  return m.r;
}

/* The noise ceiling against a separate computation of the same formula
 * (Python over the CSV: dev 0.86910, test 0.87725). */
static void test_noise_ceiling(void **state) {
  (void)state;
  const char *splits[] = {"dev", "test"};
  const double want[] = {0.869101, 0.877249};
  for (int i = 0; i < 2; i++) {
    nsr_human_data d;
    nsr_error err;
    if (nsr_human_data_load(test_data_path("bigelow_piantadosi_2016.csv"), splits[i], 100, &d, &err) != NSR_OK) {
      fail_msg("%s", err.message);
    }
    double *g = calloc(d.n_cells, sizeof *g);
    nsr_fit_metrics m;
    nsr_fit_metrics_compute(&d, g, &as_is, &m);
    assert_near(m.ceiling_r, want[i], 1e-5, splits[i]);
    free(g);
    nsr_human_data_free(&d);
  }
}

static void test_reference_figures(void **state) {
  (void)state;
  assert_near(tenenbaum_r("tenenbaum_generalization.csv", NULL), 0.948, 0.0005, "r on Tenenbaum's sets");
  assert_near(tenenbaum_r("bigelow_piantadosi_2016.csv", NULL), 0.58, 0.005, "r on all B&P cells");
}

/* ---- the gradient ----------------------------------------------------------- */

static const char fit_space[] =
    "{\"range\":100,\"max_size\":3,\"lambda\":0.6,\"sigma\":12,\"alpha\":0.8,\"beta\":0.3,"
    "\"primitives\":[{\"family\":\"even\"},{\"family\":\"odd\",\"weight\":0.7},"
    "{\"family\":\"multiples\",\"args\":[3,5],\"weight\":0.5},{\"family\":\"powers\",\"args\":[2]},"
    "{\"family\":\"ends_in\",\"args\":[3]}],"
    "\"operations\":[{\"family\":\"union\",\"weight\":0.1},{\"family\":\"difference\",\"weight\":0.05},"
    "{\"family\":\"plus\",\"args\":[1],\"weight\":0.2}]}";

static const char fit_data[] =
    "split,set,n_examples,target,yes,no,n,p_yes\n"
    "dev,16 8,2,2,7,3,10,0.7\ndev,16 8,2,4,9,1,10,0.9\ndev,16 8,2,5,1,9,10,0.1\n"
    "dev,16 8,2,32,8,2,10,0.8\ndev,16 8,2,60,2,8,10,0.2\n"
    "dev,13,1,3,6,4,10,0.6\ndev,13,1,14,5,5,10,0.5\ndev,13,1,23,8,2,10,0.8\n"
    "dev,13,1,90,1,9,10,0.1\ndev,30 60,2,45,4,6,10,0.4\ndev,30 60,2,90,6,4,10,0.6\n"
    "dev,30 60,2,7,0,10,10,0\n";

static nsr_space *fit_space_new(void) {
  nsr_space *s;
  nsr_error err;
  if (nsr_space_from_json(fit_space, strlen(fit_space), "t", NSR_SPACE_RECORD_EDGES, &s, &err) != NSR_OK) fail_msg("%s", err.message);
  return s;
}

static void fit_data_parse(nsr_human_data *d) {
  nsr_error err;
  if (nsr_human_data_parse(fit_data, strlen(fit_data), "d", "dev", 100, d, &err) != NSR_OK) fail_msg("%s", err.message);
}

/* The analytic gradient against central differences (step 1e-5): an
 * independent derivation of every partial derivative. */
static void test_gradient_matches_finite_differences(void **state) {
  (void)state;
  nsr_space *s = fit_space_new();
  nsr_error err;
  nsr_human_data d;
  fit_data_parse(&d);
  nsr_fit_options opt;
  nsr_fit_options_default(&opt);
  opt.fit_gamma = true;
  opt.fit_similarity = true;
  opt.fit_by_n = true;
  opt.fit_sim_hypothesis = true;
  fit_problem fp;
  assert_int_equal(fit_problem_init(&fp, s, &d, &opt, &err), NSR_OK);
  double theta[64], grad[64], scratch[64];
  assert_true(fp.dim <= 64);
  fit_theta_get(&fp, theta);
  /* Similarity weights away from zero, so that τ's derivative is too. */
  theta[FIT_NEAR] = 0.7;
  theta[FIT_TAU] = log(3.0);
  theta[FIT_DIGIT] = -0.4;
  theta[FIT_DECADE] = 0.5;
  theta[FIT_SIM_MASS] = log(0.2 / 0.8); /* a similarity hypothesis with real weight */
  theta[FIT_SIM_TAU] = log(6.0);
  for (int k = 0; k < 3; k++) {
    theta[FIT_A_N + k] = 0.3 * k - 0.2;
    theta[FIT_B_N + k] = 0.4 - 0.3 * k;
  }
  for (size_t i = FIT_FIXED; i < fp.dim; i++) theta[i] += 0.1 * (double)(i % 3) - 0.1; /* off the prior's centre */
  fit_objective(&fp, theta, grad);
  for (size_t i = 0; i < fp.dim; i++) {
    const double h = 1e-5, saved = theta[i];
    theta[i] = saved + h;
    double up = fit_objective(&fp, theta, scratch);
    theta[i] = saved - h;
    double down = fit_objective(&fp, theta, scratch);
    theta[i] = saved;
    double fd = (up - down) / (2 * h);
    char what[64];
    snprintf(what, sizeof what, "d objective / d theta[%zu]", i);
    assert_near(grad[i], fd, 1e-6 * (1 + fabs(fd)), what);
  }
  fit_problem_free(&fp);
  nsr_human_data_free(&d);
  nsr_space_free(s);
}

/* ---- fitting and prior files ----------------------------------------------- */

static double eval_ll(nsr_space *s, const nsr_human_data *d) {
  double *g = predict(d, space_infer, s);
  nsr_space_params p = nsr_space_get_params(s);
  nsr_fit_metrics m;
  nsr_fit_metrics_compute(d, g, &p, &m);
  free(g);
  return m.log_lik;
}

static void test_fit_improves_and_prior_file_reproduces(void **state) {
  (void)state;
  nsr_space *s = fit_space_new();
  nsr_error err;
  nsr_human_data d;
  fit_data_parse(&d);
  double before = eval_ll(s, &d);
  nsr_fit_options opt;
  nsr_fit_options_default(&opt);
  /* The response's similarity and offsets by n go through the file too. */
  opt.fit_similarity = opt.fit_by_n = true;
  nsr_fit_report rep;
  assert_int_equal(nsr_fit_space(s, &d, &opt, &rep, &err), NSR_OK);
  double after = eval_ll(s, &d);
  nsr_space_params fitted = nsr_space_get_params(s);
  assert_true(fitted.b_near != 0 && fitted.a_n[0] != 0 && fitted.b_n[0] != 0);
  assert_true(after > before + 1.0);
  /* The fit's own log-likelihood is the one inference gives. */
  assert_near(rep.log_lik, after, 1e-8 * fabs(after), "training LL");
  char *text;
  assert_int_equal(nsr_space_prior_text(s, "{\"note\":1}", &text, &err), NSR_OK);
  char path[] = "/tmp/nsr_prior_XXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
  close(fd);
  nsr_free(text);
  nsr_space *t;
  assert_int_equal(nsr_space_load_prior(path, false, &t, &err), NSR_OK);
  assert_near(eval_ll(t, &d), after, 1e-9 * fabs(after), "LL after reloading the prior file");
  nsr_space_free(t);
  unlink(path);
  nsr_human_data_free(&d);
  nsr_space_free(s);
}

static void test_fit_allocation_failures(void **state) {
  (void)state;
  nsr_space *s = fit_space_new();
  nsr_human_data d;
  fit_data_parse(&d);
  nsr_fit_options opt;
  nsr_fit_options_default(&opt);
  opt.max_iterations = 2;
  for (uint64_t n = 1; n < 100; n++) {
    nsr_fit_report rep;
    nsr_error err;
    nsr_alloc_fail_after(n);
    nsr_code rc = nsr_fit_space(s, &d, &opt, &rep, &err);
    nsr_alloc_fail_reset();
    if (rc == NSR_OK) break;
    assert_int_equal(rc, NSR_ERR_NOMEM);
  }
  nsr_human_data_free(&d);
  nsr_space_free(s);
}

/* Subsets keep whole sets in order; 3-fold cross-validation over three
 * sets holds each set out once and scores every cell. */
static void test_subset_and_cross_validation(void **state) {
  (void)state;
  nsr_human_data d, sub;
  nsr_error err;
  assert_int_equal(nsr_human_data_parse(fit_data, strlen(fit_data), "d", "dev", 100, &d, &err), NSR_OK);
  assert_int_equal(d.n_sets, 3);
  const bool keep[] = {true, false, true};
  assert_int_equal(nsr_human_data_subset(&d, keep, &sub, &err), NSR_OK);
  assert_int_equal(sub.n_sets, 2);
  assert_int_equal(sub.n_cells, 5 + 3); /* "16 8" has 5 cells, "30 60" 3 */
  assert_int_equal(sub.sets[1].examples[0], 30);
  assert_int_equal(sub.cells[sub.sets[1].first_cell].target, 45);
  nsr_human_data_free(&sub);
  nsr_fit_options opt;
  nsr_fit_options_default(&opt);
  opt.max_iterations = 30;
  nsr_fit_metrics m;
  assert_int_equal(nsr_fit_cross_validate(fit_space, &d, &opt, 3, &m, &err), NSR_OK);
  assert_int_equal(m.n_cells, 12);
  assert_true(isfinite(m.r) && isfinite(m.log_lik) && m.log_lik < 0);
  assert_int_equal(nsr_fit_cross_validate(fit_space, &d, &opt, 4, &m, &err), NSR_ERR_RANGE);
  nsr_human_data_free(&d);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_csv_groups_sets_and_splits),
      cmocka_unit_test(test_csv_errors_name_the_line),
      cmocka_unit_test(test_csv_survives_mutations),
      cmocka_unit_test(test_csv_allocation_failures),
      cmocka_unit_test(test_pearson_and_log_likelihood_by_hand),
      cmocka_unit_test(test_similarity_in_guessing_by_hand),
      cmocka_unit_test(test_reference_figures),
      cmocka_unit_test(test_noise_ceiling),
      cmocka_unit_test(test_gradient_matches_finite_differences),
      cmocka_unit_test(test_fit_improves_and_prior_file_reproduces),
      cmocka_unit_test(test_subset_and_cross_validation),
      cmocka_unit_test(test_fit_allocation_failures),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
