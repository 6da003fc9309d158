/* test_lang_infer_forms.c: the query forms (webchurch's body rules, the
 * missing-condition error), equality conditions as observations, SMC's
 * syntax and bad input, exact sums and the order of enumeration results,
 * and webchurch's own test/support-change.church and test/mh.church cases
 * (run from the peer's mirror when present; skipped otherwise). Expected
 * numbers are derived by hand in the comments. */
#include "lang_test.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void expect_near(nsr_lang *lang, const char *src, double want, double tol) {
  double got = lt_eval_number(lang, src);
  if (fabs(got - want) > tol) fail_msg("%s = %.17g, expected %.17g ± %g", src, got, want, tol);
}

/* webchurch's rule: the first statement that is not define, condition or
 * factor is the query expression; later ones are conditions. So (list a b)
 * is the value, given a (explicit) and b (implicit): only (#t #t). */
static void test_query_value_is_first_expression(void **state) {
  (void)state;
  lt_expect("(enumeration-query (define a (flip)) (define b (flip)) (list a b) (condition a) b)",
            "(((#t #t)) (1.0))");
  /* Statements after the value are conditions; defines after it still
   * run before it. Two fair flips given a: b is 1/2. */
  lt_expect("(enumeration-query (define a (flip)) b (condition a) (define b (flip)) true)",
            "((#t #f) (0.5 0.5))");
  /* factor statements are declarations too: weight e^1 on a, so
   * P(a) = e / (e + 1). */
  nsr_lang *lang = lt_new(1);
  expect_near(lang,
              "(define d (enumeration-query (define a (flip)) (factor (if a 1 0)) a true))"
              "(first (second d))",
              exp(1) / (exp(1) + 1), 1e-12);
  nsr_lang_free(lang);
  /* The classic form is unchanged. */
  lt_expect("(enumeration-query (define a (flip)) (define b (flip)) a (or a b))",
            "((#t #f) (0.6666666666666666 0.3333333333333333))");
}

static void test_query_without_condition(void **state) {
  (void)state;
  lt_expect_error("(enumeration-query (define x (flip)) x)", NSR_ERR_PARSE,
                  "enumeration-query: expected a query expression and a condition (or "
                  "(condition ...) in the body)");
  lt_expect_error("(mh-query 10 1 (define x (flip)) x)", NSR_ERR_PARSE,
                  "mh-query: expected a query expression and a condition");
  lt_expect_error("(enumeration-query (define x (flip)) (condition x))", NSR_ERR_PARSE,
                  "expected a query expression after the define, condition and factor");
  lt_expect_error("(rejection-query x)", NSR_ERR_PARSE, "expected a query expression and a condition");
  /* Under --webchurch a query without a condition is unconditioned, as in
   * webchurch (its dsgr_query accepts it). */
  nsr_lang_config cfg;
  nsr_lang_config_default(&cfg);
  cfg.webchurch = true;
  nsr_lang *lang = lt_new_config(&cfg);
  assert_string_equal(lt_eval(lang, "(enumeration-query (define x (flip)) x)"), "((#t #f) (0.5 0.5))");
  nsr_lang_free(lang);
  /* A (condition ...) statement is a condition. */
  lt_expect("(enumeration-query (define x (flip)) (condition x) x)", "((#t) (1.0))");
}

/* Exact sums: equal-probability paths give exact results. */
static void test_exact_sums(void **state) {
  (void)state;
  lt_expect("(enumeration-query (define a (flip)) (define b (flip)) (list a b) true)",
            "(((#t #t) (#t #f) (#f #t) (#f #f)) (0.25 0.25 0.25 0.25))");
  /* Ten fair flips, value = number of heads: 252/1024 in the middle. */
  nsr_lang *lang = lt_new(1);
  expect_near(lang,
              "(define d (enumeration-query (define xs (repeat 10 flip))"
              " (length (filter (lambda (x) x) xs)) true))"
              "(list-ref (second d) 5)",
              252.0 / 1024.0, 0);
  nsr_lang_free(lang);
}

/* Order: index-like integers (0 .. 2^32-2) ascending, then the rest as
 * first seen, as a JavaScript object keyed by JSON text iterates. */
static void test_result_order(void **state) {
  (void)state;
  lt_expect("(first (enumeration-query (define a (random-integer 4)) (- 3 a) true))", "(0 1 2 3)");
  lt_expect("(first (enumeration-query (define a (uniform-draw '(b 7 -1 2 x 0.5))) a true))",
            "(2 7 b -1 x 0.5)");
}

/* Equality conditions on draws are observations: these end at once
 * (as conditions they would never be satisfied). Posterior of a gaussian
 * mean with prior N(0, 1) and one observation 1.0 at sd 0.5: mean
 * 1/(1 + 0.25) = 0.8; by enumeration with a discrete prior, exact. */
static void test_equality_observation(void **state) {
  (void)state;
  nsr_lang *lang = lt_new(7);
  /* The draw in the condition, either side, = or equal?. */
  const char *forms[] = {
      "(= (gaussian m 1) 3.1)", "(= 3.1 (gaussian m 1))", "(equal? (gaussian m 1) 3.1)",
      "(condition (and (= 3.1 (gaussian m 1)) #t))"};
  double w[3], total = 0;
  for (int i = 0; i < 3; i++) total += w[i] = exp(-(3.1 - i) * (3.1 - i) / 2);
  for (size_t f = 0; f < sizeof forms / sizeof forms[0]; f++) {
    char src[512];
    snprintf(src, sizeof src,
             "(define d (enumeration-query (define m (uniform-draw '(0 1 2))) m %s))"
             "(third (second d))", forms[f]);
    expect_near(lang, src, w[2] / total, 1e-12);
  }
  /* A defined draw observed later: y is the observed value. */
  lt_expect("(enumeration-query (define m (flip)) (define y (gaussian (if m 1 0) 1))"
            " y (condition (= y 0.5)))",
            "((0.5) (1.0))");
  /* Discrete draws too: P(b) given (= (flip 0.6) b) by mass. */
  expect_near(lang,
              "(define d (enumeration-query (define b (flip 0.3)) b (condition (equal? (flip (if b 0.9 0.2)) #t))))"
              "(first (second d))",
              0.27 / (0.27 + 0.14), 1e-12);
  /* Other samplers' densities and masses. Poisson: P(3 | l) = l^3 e^-l / 6,
   * so P(l = 1) = e^-1 / (e^-1 + 8 e^-2). Beta(a, 1) at 0.8: a 0.8^(a-1),
   * 1 for a = 1 and 1.92 for a = 3. */
  expect_near(lang,
              "(define d (enumeration-query (define l (uniform-draw '(1 2))) l (= (poisson l) 3)))"
              "(first (second d))",
              exp(-1) / (exp(-1) + 8 * exp(-2)), 1e-12);
  expect_near(lang,
              "(define d (enumeration-query (define a (uniform-draw '(1 3))) a (= 0.8 (beta a 1))))"
              "(first (second d))",
              1 / 2.92, 1e-12);
  /* MH with a continuous observation ends and is near 0.8. */
  expect_near(lang,
              "(mean (mh-query 20000 2 (define m (gaussian 0 1)) m (= (gaussian m 0.5) 1.0)))",
              0.8, 0.05);
  nsr_lang_free(lang);
  /* Rebinding the sampler keeps the condition as written. */
  lt_expect("(define (gaussian a b) 3) (rejection-query (define x (gaussian 0 1)) x (= x 3))", "3");
  /* A comparison with a later-defined name is left alone (x still
   * conditions as written: x is a flip, y = x). */
  lt_expect("(enumeration-query (define x (flip)) (define y #t) x (condition (equal? x y)))",
            "((#t) (1.0))");
}

static void test_smc(void **state) {
  (void)state;
  nsr_lang *lang = lt_new(5);
  /* P(a | c) in the chain a -> b -> c: 0.219 / 0.387 (test_lang_infer.c). */
  expect_near(lang,
              "(define s (query '(smc 20000 1) (define a (flip 0.3))"
              " (define b (if a (flip 0.9) (flip 0.2))) (define c (flip (if b 0.8 0.1))) a c))"
              "(/ (length (filter (lambda (x) x) s)) (length s))",
              0.219 / 0.387, 0.02);
  assert_string_equal(lt_eval(lang, "(length s)"), "20000");
  /* A sequence: five observations, one factor each (the calls after p
   * are conditions by webchurch's rule; factor's value counts as true). A coin of weight 0.2
   * or 0.7 (equally likely) shows heads 4 times of 5: posterior of 0.7 is
   * 0.7^4 0.3 / (0.7^4 0.3 + 0.2^4 0.8) = 0.07203 / 0.07331. */
  expect_near(lang,
              "(define s (query '(smc 20000) (define p (uniform-draw '(0.2 0.7)))"
              " (define (obs x) (factor (if x (log p) (log (- 1 p)))))"
              " p (obs #t) (obs #t) (obs #f) (obs #t) (obs #t)))"
              "(/ (length (filter (lambda (x) (= x 0.7)) s)) (length s))",
              0.07203 / 0.07331, 0.01);
  /* A nested sampling query whose value feeds two factors: a particle
   * must keep one inner result across its replays (the inner query runs
   * on a stream seeded by a choice of the particle's trace). With
   * P(z | p) = 1/(2-p) (test_lang_infer_stat.c) and weight e^-4 when z
   * fails, P(p = 0.2) = w(0.2) / (w(0.2) + w(0.8)),
   * w(p) = P(z|p) + (1 - P(z|p)) e^-4. */
  double z2 = 1 / 1.8, z8 = 1 / 1.2;
  double w2 = z2 + (1 - z2) * exp(-4), w8 = z8 + (1 - z8) * exp(-4);
  const char *nested =
      "(define p (uniform-draw '(0.2 0.8)))"
      " (define z (rejection-query (define y (flip p)) (define w (flip p)) y (or y w)))"
      " (factor (if z 0 -2)) (factor (if z 0 -2)) p true";
  char src[1024];
  snprintf(src, sizeof src,
           "(define s (apply append (repeat 4 (lambda () (query '(smc 10000) %s)))))"
           "(/ (length (filter (lambda (x) (= x 0.2)) s)) (length s))", nested);
  expect_near(lang, src, w2 / (w2 + w8), 0.01);
  snprintf(src, sizeof src,
           "(define s (query '(mh 40000 2) %s))"
           "(/ (length (filter (lambda (x) (= x 0.2)) s)) (length s))", nested);
  expect_near(lang, src, w2 / (w2 + w8), 0.015);
  /* No barrier at all: prior samples. */
  assert_string_equal(lt_eval(lang, "(length (query '(smc 3) (define x (flip)) x true))"), "3");
  nsr_lang_free(lang);
  /* Bad input. */
  lt_expect_error("(query '(smc -5) (define x (flip)) x true)", NSR_ERR_INVALID,
                  "query smc: argument 1 must be at least 1");
  lt_expect_error("(query '(smc 0) (define x (flip)) x true)", NSR_ERR_INVALID, "at least 1");
  lt_expect_error("(query '(smc 10 -1) (define x (flip)) x true)", NSR_ERR_INVALID,
                  "query smc: argument 2 must be at least 0");
  lt_expect_error("(query '(smc ten) (define x (flip)) x true)", NSR_ERR_INVALID, "query smc");
  lt_expect_error("(query '(smc 10 1 2) (define x (flip)) x true)", NSR_ERR_INVALID,
                  "a method such as");
  lt_expect_error("(query '(smc 10) (define x (flip)) x (condition #f))", NSR_ERR_INVALID,
                  "smc: every particle failed a condition");
  lt_expect_error("(query '(smc 100000000000000000) (define x (flip)) x true)", NSR_ERR_LIMIT,
                  "particles");
  lt_expect_error("(%query '(smc 10) 5)", NSR_ERR_INVALID, "a method such as");
}

/* ---- webchurch's own cases ------------------------------------------------ */

#define WEBCHURCH_MIRROR "/work/.mirror/probmods+webchurch/repo"

/* Runs every case of webchurch's test file `path` (cases split at blank
 * lines, the last line the expected output, as its tester.js does) in
 * --webchurch mode. Brackets are read as parentheses (the reader learns
 * them in a separate change). Returns the failures. */
static int run_webchurch_file(const char *path) {
  char cmd[512];
  snprintf(cmd, sizeof cmd, "git -C %s show HEAD:%s 2>/dev/null", WEBCHURCH_MIRROR, path);
  FILE *p = popen(cmd, "r");
  if (p == NULL) return -1;
  static char text[1 << 16];
  size_t len = fread(text, 1, sizeof text - 1, p);
  text[len] = '\0';
  if (pclose(p) != 0 || len == 0) return -1;
  for (char *c = text; *c; c++) {
    if (*c == '[') *c = '(';
    if (*c == ']') *c = ')';
  }
  int failures = 0, cases = 0;
  for (char *start = text; *start;) {
    char *end = strstr(start, "\n\n");
    if (end != NULL) *end = '\0';
    while (*start == '\n') start++;
    for (size_t n = strlen(start); n > 0 && (start[n - 1] == '\n' || start[n - 1] == ' '); n--) {
      start[n - 1] = '\0';
    }
    char *nl = strrchr(start, '\n');
    if (nl != NULL) {
      *nl = '\0';
      const char *want = nl + 1;
      nsr_lang_config cfg;
      nsr_lang_config_default(&cfg);
      cfg.seed = 1;
      cfg.webchurch = true;
      nsr_lang *lang = NULL;
      nsr_error err;
      assert_int_equal(nsr_lang_new(&cfg, &lang, &err), NSR_OK);
      char got[NSR_ERROR_MESSAGE_MAX + 16] = "";
      if (nsr_lang_eval_string(lang, path, start, strlen(start), &err) == NSR_OK) {
        nsr_lang_format(lang, nsr_lang_result(lang), got, sizeof got);
      } else {
        snprintf(got, sizeof got, "error: %s", err.message);
      }
      nsr_lang_free(lang);
      cases++;
      if (strcmp(got, want) != 0) {
        failures++;
        printf("%s: case %d: expected %s, got %s\n", path, cases, want, got);
      }
    }
    if (end == NULL) break;
    start = end + 2;
  }
  printf("%s: %d of %d cases pass\n", path, cases - failures, cases);
  return failures;
}

static void test_webchurch_cases(void **state) {
  (void)state;
  int a = run_webchurch_file("test/support-change.church");
  int b = run_webchurch_file("test/mh.church");
  if (a < 0 || b < 0) skip(); /* the mirror is absent */
  assert_int_equal(a, 0);
  assert_int_equal(b, 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_query_value_is_first_expression),
      cmocka_unit_test(test_query_without_condition),
      cmocka_unit_test(test_exact_sums),
      cmocka_unit_test(test_result_order),
      cmocka_unit_test(test_equality_observation),
      cmocka_unit_test(test_smc),
      cmocka_unit_test(test_webchurch_cases),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
