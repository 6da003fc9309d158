/* test_lang_dist.c: every sampler's first two moments for a fixed seed
 * (within 5 standard errors of the textbook values) and every scoring
 * function against its density worked out by hand. */
#include "lang_test.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#ifdef __SANITIZE_ADDRESS__
#define SAMPLES 20000
#else
#define SAMPLES 100000
#endif

typedef struct moment_case {
  const char *expr; /* a numeric sample */
  double mean, var; /* the distribution's true moments */
} moment_case;

/* Moments from the textbook formulas for each family. */
static const moment_case cases[] = {
    {"(if (flip 0.3) 1 0)", 0.3, 0.21},
    {"(uniform 2 5)", 3.5, 0.75},                       /* (b-a)^2/12 */
    {"(gaussian 1 2)", 1.0, 4.0},
    {"(gaussian)", 0.0, 1.0},
    {"(beta 2 3)", 0.4, 0.04},                          /* ab/((a+b)^2 (a+b+1)) */
    {"(gamma 3 2)", 6.0, 12.0},                         /* k θ, k θ^2 */
    {"(gamma 0.5 1)", 0.5, 0.5},
    {"(exponential 4)", 0.25, 0.0625},                  /* 1/λ, 1/λ^2 */
    {"(poisson 3.5)", 3.5, 3.5},
    {"(poisson 50)", 50.0, 50.0},
    {"(binomial 0.3 10)", 3.0, 2.1},                    /* np, np(1-p) */
    {"(random-integer 6)", 2.5, 35.0 / 12.0},           /* (n^2-1)/12 */
    {"(sample-integer 6)", 2.5, 35.0 / 12.0},
    {"(sample-discrete '(1 2 3 4))", 2.0, 1.0},         /* Σk w_k/10; Σk^2 w_k/10 - 4 */
    {"(uniform-draw '(1 2 3 4))", 2.5, 1.25},
    {"(if (eq? (multinomial '(a b c) '(0.2 0.3 0.5)) 'c) 1 0)", 0.5, 0.25},
    {"(second (dirichlet '(1 2 3)))", 1.0 / 3.0, 2.0 * 4.0 / (36.0 * 7.0)}, /* α_i/α0, α_i(α0-α_i)/(α0^2(α0+1)) */
};

static void test_sampler_moments(void **state) {
  (void)state;
  nsr_lang *lang = lt_new(12345);
  lt_eval(lang, "(define (variance xs) (let ((m (mean xs)))"
                "  (mean (map (lambda (x) (* (- x m) (- x m))) xs))))");
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char src[512];
    snprintf(src, sizeof src, "(define xs (repeat %d (lambda () %s))) (mean xs)", SAMPLES,
             cases[i].expr);
    double mean = lt_eval_number(lang, src);
    double var = lt_eval_number(lang, "(variance xs)");
    double se = sqrt(cases[i].var / SAMPLES);
    if (fabs(mean - cases[i].mean) > 5 * se) {
      fail_msg("%s: mean %g, expected %g ± %g", cases[i].expr, mean, cases[i].mean, 5 * se);
    }
    /* The variance estimate's spread depends on the fourth moment; 6% is
     * more than 5 of its standard errors for these families at this n
     * (20000 samples: 12%). */
    double rel = SAMPLES >= 100000 ? 0.06 : 0.12;
    if (fabs(var - cases[i].var) > rel * cases[i].var) {
      fail_msg("%s: variance %g, expected %g", cases[i].expr, var, cases[i].var);
    }
  }
  nsr_lang_free(lang);
}

static void test_same_seed_same_samples(void **state) {
  (void)state;
  nsr_lang *a = lt_new(7), *b = lt_new(7), *c = lt_new(8);
  const char *src = "(list (flip) (gaussian) (gamma 0.7 1) (poisson 4) (dirichlet '(1 1)))";
  char first[1024];
  snprintf(first, sizeof first, "%s", lt_eval(a, src));
  assert_string_equal(lt_eval(b, src), first);
  assert_string_not_equal(lt_eval(c, src), first);
  nsr_lang_free(a);
  nsr_lang_free(b);
  nsr_lang_free(c);
}

typedef struct score_case {
  const char *expr;
  double logp; /* worked out by hand from the density or mass function */
} score_case;

static const score_case scores[] = {
    {"(flip-score 0.3 #t)", -1.2039728043259361},        /* log 0.3 */
    {"(flip-score 0.3 #f)", -0.35667494393873245},       /* log 0.7 */
    {"(flip-score #t)", -0.69314718055994529},           /* log 0.5 */
    {"(gaussian-score 0 1 0)", -0.91893853320467274},    /* -log √(2π) */
    {"(gaussian-score 1 2 3)", -2.1120857137646181},     /* -log √(2π) - log 2 - 1/2 */
    {"(uniform-score 0 4 1)", -1.3862943611198906},      /* -log 4 */
    {"(beta-score 2 3 0.5)", 0.40546510810816438},       /* log(0.5·0.25·12) = log 1.5 */
    {"(gamma-score 2 3 1)", -2.5305579106695530},        /* -1/3 - log 9 */
    {"(exponential-score 2 1)", -1.3068528194400546},    /* log 2 - 2 */
    {"(poisson-score 3 2)", -1.4959226032237259},        /* 2 log 3 - 3 - log 2 */
    {"(binomial-score 0.5 4 2)", -0.98082925301172619},  /* log 6/16 */
    {"(sample-discrete-score '(1 3) 1)", -0.28768207245178090}, /* log 3/4 */
    {"(multinomial-score '(a b a) '(0.2 0.3 0.5) 'a)", -0.35667494393873245}, /* log 0.7 */
    {"(uniform-draw-score '(x y) 'x)", -0.69314718055994529},   /* log 1/2 */
    {"(random-integer-score 4 3)", -1.3862943611198906},        /* log 1/4 */
    {"(dirichlet-score '(1 1 1) '(0.2 0.3 0.5))", 0.69314718055994529}, /* log Γ(3) */
};

static void test_scores(void **state) {
  (void)state;
  nsr_lang *lang = lt_new(1);
  for (size_t i = 0; i < sizeof scores / sizeof scores[0]; i++) {
    double got = lt_eval_number(lang, scores[i].expr);
    if (fabs(got - scores[i].logp) > 1e-12) {
      fail_msg("%s = %.17g, expected %.17g", scores[i].expr, got, scores[i].logp);
    }
  }
  /* Values outside the support score -inf. */
  assert_string_equal(lt_eval(lang, "(list (random-integer-score 4 4) (beta-score 2 2 1.5)"
                                    "      (poisson-score 2 -1) (uniform-draw-score '(a) 'b))"),
                      "(-inf.0 -inf.0 -inf.0 -inf.0)");
  nsr_lang_free(lang);
}

static void test_bad_parameters(void **state) {
  (void)state;
  lt_expect_error("(flip 1.5)", NSR_ERR_RANGE, "flip: argument 1 must be >= 0 and <= 1, got 1.5");
  lt_expect_error("(gaussian 0 -1)", NSR_ERR_RANGE, "gaussian: argument 2 must be > 0");
  lt_expect_error("(uniform-draw '())", NSR_ERR_INVALID, "uniform-draw: the list is empty");
  lt_expect_error("(sample-discrete '(0 0))", NSR_ERR_INVALID, "the weights sum to zero");
  lt_expect_error("(multinomial '(a b) '(1))", NSR_ERR_INVALID, "2 items but 1 probabilities");
  lt_expect_error("(random-integer 0)", NSR_ERR_RANGE, "random-integer: argument 1 must be >= 1");
  lt_expect_error("(beta 'a 1)", NSR_ERR_INVALID, "beta: expected a number as argument 1");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_sampler_moments),
      cmocka_unit_test(test_same_seed_same_samples),
      cmocka_unit_test(test_scores),
      cmocka_unit_test(test_bad_parameters),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
