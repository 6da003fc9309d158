/* test_lang_infer.c: queries. Exact answers are derived by hand (Bayes'
 * rule over the worlds each model can produce); sampling answers must land
 * within a few standard errors of them. */
#include "lang_test.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static void expect_near(nsr_lang *lang, const char *src, double want, double tol) {
  double got = lt_eval_number(lang, src);
  if (fabs(got - want) > tol) fail_msg("%s = %.17g, expected %.17g ± %g", src, got, want, tol);
}

/* P(a | a or b) for fair coins: worlds TT, TF, FT remain, a holds in 2. */
static void test_two_coins(void **state) {
  (void)state;
  nsr_lang *lang = lt_new(1);
  lt_eval(lang, "(define d (enumeration-query (define a (flip)) (define b (flip)) a (or a b)))");
  assert_string_equal(lt_eval(lang, "(first d)"), "(#t #f)");
  expect_near(lang, "(first (second d))", 2.0 / 3.0, 1e-12);
  expect_near(lang, "(second (second d))", 1.0 / 3.0, 1e-12);
  /* Biased coins 0.3 and 0.6: TT .18, TF .12, FT .42 out of .72. */
  lt_eval(lang, "(define d2 (enumeration-query (define a (flip 0.3)) (define b (flip 0.6))"
                "  (list a b) (or a b)))");
  assert_string_equal(lt_eval(lang, "(first d2)"), "((#t #t) (#t #f) (#f #t))");
  expect_near(lang, "(first (second d2))", 0.18 / 0.72, 1e-12);
  expect_near(lang, "(second (second d2))", 0.12 / 0.72, 1e-12);
  expect_near(lang, "(third (second d2))", 0.42 / 0.72, 1e-12);
  nsr_lang_free(lang);
}

/* a ~ flip(0.3); b ~ flip(a ? 0.9 : 0.2); c ~ flip(b ? 0.8 : 0.1); c observed.
 * P(a, c) = 0.3 (0.9·0.8 + 0.1·0.1) = 0.219; P(¬a, c) = 0.7 (0.2·0.8 + 0.8·0.1)
 * = 0.168; P(a | c) = 0.219 / 0.387. The two branches call different flips,
 * so the trace's structure changes between worlds. */
static const char *chain_model =
    "(define a (flip 0.3))"
    "(define b (if a (flip 0.9) (flip 0.2)))"
    "(define c (flip (if b 0.8 0.1)))";
static const double chain_answer = 0.219 / 0.387;

static void test_enumeration_matches_hand_answer(void **state) {
  (void)state;
  nsr_lang *lang = lt_new(1);
  char src[1024];
  snprintf(src, sizeof src, "(define d (enumeration-query %s a c))"
                            "(cadr-of-true d)", chain_model);
  lt_eval(lang, "(define (cadr-of-true d) (let ((i (list-index (first d) #t)))"
                "  (list-ref (second d) i)))");
  expect_near(lang, src, chain_answer, 1e-12);
  nsr_lang_free(lang);
}

static void test_mh_agrees_with_enumeration(void **state) {
  (void)state;
  nsr_lang *lang = lt_new(2024);
  char src[1024];
  snprintf(src, sizeof src,
           "(define s (mh-query 20000 2 %s a c))"
           "(/ (length (filter (lambda (x) x) s)) (length s))", chain_model);
  /* Correlated samples: 0.025 is several effective standard errors. */
  expect_near(lang, src, chain_answer, 0.025);
  assert_string_equal(lt_eval(lang, "(length s)"), "20000");
  nsr_lang_free(lang);
}

/* Three fair coins, at least two heads: the four worlds HHT, HTH, THH, HHH
 * are equally likely, so the mean number of heads is (3·2 + 3)/4 = 2.25.
 * (This caught addresses that depended on how the previous run ended.) */
static void test_mh_three_coins(void **state) {
  (void)state;
  nsr_lang *lang = lt_new(1);
  expect_near(lang,
              "(define (heads xs) (sum (map (lambda (x) (if x 1 0)) xs)))"
              "(mean (mh-query 40000 1 (define xs (repeat 3 flip)) (heads xs) (>= (heads xs) 2)))",
              2.25, 0.02);
  nsr_lang_free(lang);
}

static void test_mh_continuous_posterior(void **state) {
  (void)state;
  /* x ~ N(0, 1), y = 1 observed with noise N(0, 0.5^2): the posterior is
   * normal with precision 1 + 4 = 5 and mean 4·1/5 = 0.8. */
  nsr_lang *lang = lt_new(99);
  expect_near(lang,
              "(mean (mh-query 4000 5 (define x (gaussian 0 1))"
              "  x (begin (factor (gaussian-score x 0.5 1)) #t)))",
              0.8, 0.05);
  expect_near(lang,
              "(define d (query '(importance 20000) (define x (gaussian 0 1))"
              "  x (begin (factor (gaussian-score x 0.5 1)) #t)))"
              "(sum (map * (first d) (second d)))",
              0.8, 0.03);
  nsr_lang_free(lang);
}

static void test_rejection_query(void **state) {
  (void)state;
  nsr_lang *lang = lt_new(5);
  /* 2000 samples of P(a | a or b) = 2/3: standard error 0.0105. */
  expect_near(lang,
              "(mean (map (lambda (x) (if x 1 0)) (repeat 2000 (lambda ()"
              "  (rejection-query (define a (flip)) (define b (flip)) a (or a b))))))",
              2.0 / 3.0, 0.045);
  expect_near(lang,
              "(mean (map (lambda (x) (if x 1 0)) (query '(rejection 2000)"
              "  (define a (flip)) (define b (flip)) a (or a b))))",
              2.0 / 3.0, 0.045);
  nsr_lang_free(lang);
}

static void test_factor_and_mem(void **state) {
  (void)state;
  nsr_lang *lang = lt_new(1);
  /* Weights: a true 0.5·1, a false 0.5·3, so P(a) = 1/4. */
  expect_near(lang,
              "(first (second (enumeration-query (define a (flip)) a"
              "  (begin (factor (if a 0 (log 3))) #t))))",
              0.25, 1e-12);
  /* mem: (f 1) is one random choice however often it is called. */
  assert_string_equal(
      lt_eval(lang, "(first (enumeration-query (define f (mem (lambda (i) (flip))))"
                    "  (list (f 1) (f 1) (f 2)) #t))"),
      "((#t #t #t) (#t #t #f) (#f #f #t) (#f #f #f))");
  nsr_lang_free(lang);
}

/* DPmem with alpha = 1 over a fair coin: the second call joins the first
 * table with probability 1/(1+1), else flips afresh; the two values agree
 * with probability 1/2 + 1/2 · 1/2 = 3/4. */
static void test_dpmem(void **state) {
  (void)state;
  nsr_lang *lang = lt_new(1);
  expect_near(lang,
              "(define d (enumeration-query (define g (DPmem 1.0 (lambda () (flip))))"
              "  (equal? (g) (g)) #t))"
              "(list-ref (second d) (list-index (first d) #t))",
              0.75, 1e-12);
  nsr_lang_free(lang);
}

/* The outer model picks a coin weight of 0.2 or 0.8 and observes heads
 * with the probability an inner enumeration computes: P(0.8 | heads) =
 * 0.5·0.8 / (0.5·0.8 + 0.5·0.2) = 0.8. */
static void test_nested_queries(void **state) {
  (void)state;
  nsr_lang *lang = lt_new(1);
  expect_near(lang,
              "(define d (enumeration-query"
              "  (define w (uniform-draw '(0.2 0.8)))"
              "  (define inner (enumeration-query (define y (flip w)) y #t))"
              "  w (flip (first (second inner)))))"
              "(second (second d))",
              0.8, 1e-12);
  nsr_lang_free(lang);
}

static void test_query_errors(void **state) {
  (void)state;
  lt_expect_error("(enumeration-query (define x (gaussian)) x #t)", NSR_ERR_INVALID,
                  "enumeration-query cannot enumerate gaussian");
  lt_expect_error("(define z 1)\n(enumeration-query (define x (flip)) x (and x (not x)))",
                  NSR_ERR_INVALID,
                  "test.church:2:1: enumeration-query: the condition is never satisfied");
  lt_expect_error("(condition #t)", NSR_ERR_INVALID, "condition used outside of a query");
  lt_expect_error("(factor 1)", NSR_ERR_INVALID, "factor used outside of a query");
  lt_expect_error("(mh-query 0 1 (flip) #t)", NSR_ERR_INVALID, "mh-query: argument 1 must be at least 1");
  lt_expect_error("(enumeration-query #t)", NSR_ERR_PARSE,
                  "enumeration-query: expected a query expression and a condition");
  lt_expect_error("(query 'magic (flip) #t)", NSR_ERR_INVALID, "query: expected a method");
}

static void test_path_budget(void **state) {
  (void)state;
  nsr_lang_config cfg;
  nsr_lang_config_default(&cfg);
  cfg.max_paths = 1000;
  nsr_lang *lang = lt_new_config(&cfg);
  /* A geometric variable has infinitely many execution paths. */
  const char *msg = lt_eval_error(
      lang, "(enumeration-query (define (geom) (if (flip) 0 (+ 1 (geom)))) (geom) #t)",
      NSR_ERR_LIMIT);
  assert_non_null(strstr(msg, "enumeration stopped after 1000 paths (--max-paths)"));
  nsr_lang_free(lang);
}

static void test_same_seed_same_chain(void **state) {
  (void)state;
  nsr_lang *a = lt_new(3), *b = lt_new(3);
  const char *src = "(mh-query 50 3 (define x (gaussian)) (define y (flip)) (list x y) #t)";
  char first[8192];
  snprintf(first, sizeof first, "%s", lt_eval(a, src));
  assert_string_equal(lt_eval(b, src), first);
  nsr_lang_free(a);
  nsr_lang_free(b);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_two_coins),
      cmocka_unit_test(test_enumeration_matches_hand_answer),
      cmocka_unit_test(test_mh_agrees_with_enumeration),
      cmocka_unit_test(test_mh_three_coins),
      cmocka_unit_test(test_mh_continuous_posterior),
      cmocka_unit_test(test_rejection_query),
      cmocka_unit_test(test_factor_and_mem),
      cmocka_unit_test(test_dpmem),
      cmocka_unit_test(test_nested_queries),
      cmocka_unit_test(test_query_errors),
      cmocka_unit_test(test_path_budget),
      cmocka_unit_test(test_same_seed_same_chain),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
