/* test_lang_limits_num.c: the limits of exact-integer arithmetic, of the
 * samplers and of the primitives' C loops (issue #19).
 *
 * - Exact integers are int64: every operation whose exact result leaves
 *   [-2^63, 2^63) is an error naming the operation, or under webchurch an
 *   inexact result; none may trap (INT64_MIN / -1 raised SIGFPE and killed
 *   `nsr run` and `nsr mcp`) or saturate. Checked in the interpreter and
 *   through the real `nsr run` and `nsr mcp` processes (argv[1]).
 * - Samplers reject parameters they cannot serve, naming the distribution;
 *   poisson and binomial cost no more for large parameters; scores of
 *   out-of-range values are -inf, never NaN.
 * - List, vector, string and set primitives charge their loops to the
 *   step budget.
 * - factor: -inf is an impossible path, +inf and NaN are errors, in every
 *   inference method.
 *
 * Figures used below, derived by hand:
 *   2^63 = 9223372036854775808, so -(-2^63) and -2^63 / -1 do not fit. As a
 *   double 2^63 is exact; its shortest round-trip form has 16 digits,
 *   9.223372036854776e+18 (off by 192, within half the spacing 2048 of
 *   doubles there; 15 digits, 9.22337203685478e+18, are off by 4192).
 *   Under webchurch it prints as JavaScript writes it, in full below 1e21:
 *   those 16 digits then three zeros, 9223372036854776000. */
#include "lang_test.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_runner.h"

#define TWO_63_INEXACT "9223372036854776000" /* as webchurch prints it */
#define OVERFLOW "exact integer overflow"

/* An interpreter with the given mode and step budget (0: the default). */
static nsr_lang *new_lang(bool webchurch, uint64_t max_steps) {
  nsr_lang_config cfg;
  nsr_lang_config_default(&cfg);
  cfg.seed = 7;
  cfg.webchurch = webchurch;
  if (max_steps != 0) cfg.max_steps = max_steps;
  nsr_lang *lang;
  nsr_error err;
  if (nsr_lang_new(&cfg, &lang, &err) != NSR_OK) fail_msg("%s", err.message);
  return lang;
}

/* src under webchurch must print as expected. */
static void expect_webchurch(const char *src, const char *expected) {
  nsr_lang *lang = new_lang(true, 0);
  const char *got = lt_eval(lang, src);
  bool same = strcmp(got, expected) == 0;
  char copy[256];
  snprintf(copy, sizeof copy, "%s", got);
  nsr_lang_free(lang);
  if (!same) fail_msg("webchurch %s: got %s, want %s", src, copy, expected);
}

/* src under a budget of max_steps must fail with the step budget's message. */
static void expect_step_budget(const char *src, uint64_t max_steps) {
  nsr_lang *lang = new_lang(false, max_steps);
  const char *msg = lt_eval_error(lang, src, NSR_ERR_LIMIT);
  char want[96];
  snprintf(want, sizeof want, "step budget of %llu steps exhausted (--max-steps)",
           (unsigned long long)max_steps);
  bool found = strstr(msg, want) != NULL;
  char copy[NSR_ERROR_MESSAGE_MAX];
  snprintf(copy, sizeof copy, "%s", msg);
  nsr_lang_free(lang);
  if (!found) fail_msg("%s: message \"%s\" lacks \"%s\"", src, copy, want);
}

/* ---- exact integers ------------------------------------------------------ */

/* Each operation's overflow is an error naming it. */
static void test_exact_overflow_is_an_error(void **state) {
  (void)state;
  static const char *const cases[][2] = {
      {"(/ -9223372036854775808 -1)", "/: " OVERFLOW},
      {"(/ -9223372036854775808 1 -1)", "/: " OVERFLOW}, /* still exact before the -1 */
      {"(quotient -9223372036854775808 -1)", "quotient: " OVERFLOW},
      {"(div -9223372036854775808 -1)", "div: " OVERFLOW},
      {"(- -9223372036854775808)", "-: " OVERFLOW},
      {"(abs -9223372036854775808)", "abs: " OVERFLOW},
      {"(* -1 -9223372036854775808)", "*: " OVERFLOW},
      {"(+ 9223372036854775807 1)", "+: " OVERFLOW},
      {"(expt 2 63)", "expt: " OVERFLOW},
      {"(string->number \"9223372036854775808\")", "string->number: " OVERFLOW},
      {"(string->number \"-99999999999999999999\")", "string->number: " OVERFLOW},
      {"(inexact->exact 1e300)", "inexact->exact: " OVERFLOW},
      {"(inexact->exact 9223372036854775808.0)", "inexact->exact: " OVERFLOW},
      {"(sum (list 9223372036854775807 1))", "sum: " OVERFLOW},
      {"(iota 2 9223372036854775807)", "iota: " OVERFLOW},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    lt_expect_error(cases[i][0], NSR_ERR_RANGE, cases[i][1]);
  }
  /* The reader: a numeral past 64 bits is a syntax error, not INT64_MAX. */
  lt_expect_error("9223372036854775808", NSR_ERR_PARSE,
                  "integer literal 9223372036854775808 does not fit in 64 bits");
}

/* The results that do fit, at the edges. */
static void test_exact_edges(void **state) {
  (void)state;
  /* -2^63 mod -1 and rem -1 are 0: no trap, no error. */
  lt_expect("(remainder -9223372036854775808 -1)", "0");
  lt_expect("(modulo -9223372036854775808 -1)", "0");
  lt_expect("(/ -9223372036854775808 1)", "-9223372036854775808");
  lt_expect("(quotient -9223372036854775808 2)", "-4611686018427387904");
  lt_expect("(- 9223372036854775807)", "-9223372036854775807");
  lt_expect("(string->number \"9223372036854775807\")", "9223372036854775807");
  lt_expect("(string->number \"-9223372036854775808\")", "-9223372036854775808");
  /* -2^63 and 9e18 are doubles that convert exactly. */
  lt_expect("(inexact->exact -9223372036854775808.0)", "-9223372036854775808");
  lt_expect("(inexact->exact 9e18)", "9000000000000000000");
  /* Both are 2^63 as doubles: only an exact comparison tells them apart. */
  lt_expect("(min 9223372036854775807 9223372036854775806)", "9223372036854775806");
  lt_expect("(max 9223372036854775806 9223372036854775807)", "9223372036854775807");
  /* A NaN argument makes min and max NaN wherever it stands. */
  lt_expect("(max 1 (/ 0.0 0.0) 3)", "+nan.0");
  lt_expect("(min (/ 0.0 0.0) 1)", "+nan.0");
  /* 1e300 = 2^300 * 5^300 * ... is even; fmod(1e300, 2) is exactly 0. */
  lt_expect("(even? 1e300)", "#t");
  lt_expect("(odd? 1e300)", "#f");
  /* Not numerals: the reader's rules (no spaces, hex, inf or nan). */
  lt_expect("(list (string->number \" 12\") (string->number \"0x10\") (string->number \"inf\"))",
            "(#f #f #f)");
  /* An infinity is not an integer for the integer divisions. */
  lt_expect_error("(modulo 1e300 (/ 1.0 0))", NSR_ERR_INVALID, "modulo: expected an integer");
}

/* webchurch's numbers are doubles: overflow gives the inexact value. */
static void test_webchurch_overflow_is_inexact(void **state) {
  (void)state;
  expect_webchurch("(/ -9223372036854775808 -1)", TWO_63_INEXACT);
  expect_webchurch("(quotient -9223372036854775808 -1)", TWO_63_INEXACT);
  expect_webchurch("(div -9223372036854775808 -1)", TWO_63_INEXACT);
  expect_webchurch("(- -9223372036854775808)", TWO_63_INEXACT);
  expect_webchurch("(abs -9223372036854775808)", TWO_63_INEXACT);
  expect_webchurch("(string->number \"9223372036854775808\")", TWO_63_INEXACT);
  expect_webchurch("9223372036854775808", TWO_63_INEXACT);
  expect_webchurch("(inexact->exact 1e300)", "1e+300");
  /* 2^63 - 1 fits; the next item, 2^63, is the double 2^63. */
  expect_webchurch("(iota 2 9223372036854775807)", "(9223372036854775807 " TWO_63_INEXACT ")");
  expect_webchurch("(remainder -9223372036854775808 -1)", "0");
}

/* ---- the real processes -------------------------------------------------- */

/* The SIGFPE family through `nsr run -e`: an error line and the status of a
 * program error (2, bridge/cli/README.md), never a signal. */
static void test_nsr_run_process(void **state) {
  (void)state;
  static const char *const programs[] = {
      "(/ -9223372036854775808 -1)", "(quotient -9223372036854775808 -1)",
      "(div -9223372036854775808 -1)", "(- -9223372036854775808)",
      "(abs -9223372036854775808)", "(inexact->exact 1e300)",
  };
  for (size_t i = 0; i < sizeof programs / sizeof programs[0]; i++) {
    run_result r = RUN("run", "-e", programs[i]);
    if (r.status != 2 || strncmp(r.err, "nsr run: <expr>:1:1: ", 21) != 0 ||
        strstr(r.err, OVERFLOW) == NULL || strchr(r.err, '\n') != r.err + strlen(r.err) - 1) {
      fail_msg("%s: status %d (-1: a signal), stderr %s", programs[i], r.status, r.err);
    }
    run_free(&r);
  }
  run_result r = RUN("run", "--webchurch", "-e", "(/ -9223372036854775808 -1)");
  EXPECT_RUN_ALL(r, 0, TWO_63_INEXACT "\n");
}

/* The same request to `nsr mcp`: a tool error, and the server goes on to
 * answer the next request. */
static void test_nsr_mcp_process(void **state) {
  (void)state;
  const char *input =
      "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{\"protocolVersion\":"
      "\"2025-11-25\",\"capabilities\":{},\"clientInfo\":{\"name\":\"t\",\"version\":\"1\"}}}\n"
      "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}\n"
      "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\",\"params\":{\"name\":\"run_program\","
      "\"arguments\":{\"source\":\"(/ -9223372036854775808 -1)\"}}}\n"
      "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/call\",\"params\":{\"name\":\"run_program\","
      "\"arguments\":{\"source\":\"(+ 40 2)\"}}}\n";
  run_result r = run_to(input, NULL, (const char *const[]){"mcp", NULL});
  assert_int_equal(r.status, 0);
  /* Three replies: initialize, the error, 42. */
  char *second = strstr(r.out, "\"id\":2");
  char *third = strstr(r.out, "\"id\":3");
  if (second == NULL || third == NULL || strstr(second, OVERFLOW) == NULL ||
      strstr(second, "\"isError\":true") == NULL || strstr(third, "42") == NULL) {
    fail_msg("replies: %s", r.out);
  }
  run_free(&r);
}

/* ---- samplers ------------------------------------------------------------ */

/* Parameters a sampler cannot serve: a range error naming the
 * distribution and the argument. NaN, infinities, and sizes past the caps
 * (poisson's mean 2^52 = 4503599627370496 ~ 4.5036e+15, others 1e300). */
static void test_sampler_parameters(void **state) {
  (void)state;
  static const char *const cases[][2] = {
      {"(poisson 1e300)", "poisson: argument 1 must be > 0 and <= 4.5036e+15, got 1e+300"},
      {"(poisson (/ 1.0 0))", "poisson: argument 1 must be > 0"},
      {"(poisson (/ 0.0 0))", "poisson: argument 1 must be > 0"},
      {"(poisson -1)", "poisson: argument 1 must be > 0"},
      {"(flip (/ 0.0 0))", "flip: argument 1 must be >= 0 and <= 1"},
      {"(binomial (/ 0.0 0) 10)", "binomial: argument 1 must be >= 0 and <= 1"},
      {"(binomial 0.5 100000001)", "binomial: at most 100000000 trials"},
      {"(gaussian (/ 1.0 0) 1)", "gaussian: argument 1 must be >= -1e+300"},
      {"(gaussian 0 (/ 1.0 0))", "gaussian: argument 2 must be > 0 and <= 1e+300"},
      {"(uniform 0 (/ 1.0 0))", "uniform: argument 2 must be > 0"},
      {"(uniform (- (/ 1.0 0)) 0)", "uniform: argument 1 must be >= -1e+300"},
      {"(exponential (/ 1.0 0))", "exponential: argument 1 must be > 0"},
      {"(beta 1 (/ 0.0 0))", "beta: argument 2 must be > 0"},
      {"(gamma 1e300 1e300)", "gamma: shape * scale must be <= 1e+300"},
      {"(sample-discrete (list 1e300 1e300))", "sample-discrete: the weights sum to 2e+300"},
      {"(dirichlet (list 1e300 1e300))", "dirichlet: the weights sum to 2e+300"},
      {"(poisson-score 1e300 3)", "poisson-score: argument 1 must be"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    lt_expect_error(cases[i][0], NSR_ERR_RANGE, cases[i][1]);
  }
}

/* The mean and variance of n draws of expr, as a Church list. */
static void moments(const char *expr, int n, double *mean, double *var) {
  char src[256];
  snprintf(src, sizeof src, "(define xs (repeat %d (lambda () %s))) (list (mean xs) (variance xs))",
           n, expr);
  nsr_lang *lang = new_lang(false, 0);
  const char *got = lt_eval(lang, src);
  if (sscanf(got, "(%lf %lf)", mean, var) != 2) fail_msg("%s: %s", src, got);
  nsr_lang_free(lang);
}

/* The large-parameter methods (PTRS for poisson past 30, BTRS and
 * geometric gaps for binomial past 1024 trials) draw from the right
 * distribution: with 4000 seeded draws the sample mean is within 5
 * standard errors sqrt(var / 4000) of the true mean, and the sample
 * variance within 15% of the true one (its relative standard error is
 * about sqrt(2 / 4000) = 2.2%). Poisson(m): mean = var = m. Binomial(p, n):
 * mean n p, var n p (1 - p). */
static void test_large_parameter_samplers(void **state) {
  (void)state;
  static const struct {
    const char *expr;
    double mean, var;
  } cases[] = {
      {"(poisson 31)", 31, 31},
      {"(poisson 1000)", 1000, 1000},
      {"(poisson 1e12)", 1e12, 1e12},
      {"(binomial 0.3 5000)", 1500, 1050},
      {"(binomial 0.001 5000)", 5, 4.995},
      {"(binomial 0.8 2000)", 1600, 320},
      {"(binomial 0.5 100000000)", 5e7, 2.5e7},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    double m, v;
    moments(cases[i].expr, 4000, &m, &v);
    double se = sqrt(cases[i].var / 4000);
    if (fabs(m - cases[i].mean) > 5 * se || fabs(v - cases[i].var) > 0.15 * cases[i].var) {
      fail_msg("%s: mean %g var %g, want %g and %g", cases[i].expr, m, v, cases[i].mean,
               cases[i].var);
    }
  }
  /* The edges: p = 0 and p = 1 past 1024 trials. */
  lt_expect("(list (binomial 0 5000) (binomial 1 5000))", "(0 5000)");
}

/* Tiny shapes make every gamma draw underflow to 0: beta and dirichlet
 * still give values strictly inside (0, 1), whose scores are finite. */
static void test_underflowing_shapes(void **state) {
  (void)state;
  lt_expect("(let ((x (beta 1e-300 1e-300))) (list (> x 0) (< x 1) (> (beta-score 1e-300 1e-300 x) "
            "(- (/ 1.0 0)))))",
            "(#t #t #t)");
  lt_expect("(all (map (lambda (x) (and (> x 0) (< x 1))) (dirichlet (list 1e-300 1e-300 1e-300))))",
            "#t");
}

/* Scores of values outside the support are -inf, never NaN; scores of
 * extreme but allowed parameters are numbers. */
static void test_scores_are_never_nan(void **state) {
  (void)state;
  lt_expect("(dirichlet-score (list 1 1) (list (/ 0.0 0) 0.5))", "-inf.0");
  lt_expect("(dirichlet-score (list 1 1) (list 2.0 -1.0))", "-inf.0");
  lt_expect("(gaussian-score 0 1 (/ 1.0 0))", "-inf.0");
  lt_expect("(gamma-score 1e300 1e-300 1e308)", "-inf.0");
  lt_expect("(exponential-score 1 (/ 0.0 0))", "-inf.0");
  lt_expect("(poisson-score 3 -1)", "-inf.0");
  /* (a-1) log x + (b-1) log(1-x) - log B(a, b) with a = b = 1e300 at 0.5:
   * every term finite, so the sum is a number (NaN is not = to itself). */
  lt_expect("(let ((s (beta-score 1e300 1e300 0.5))) (= s s))", "#t");
}

/* ---- primitives' loops are charged --------------------------------------- */

/* Each program does far more C work than its evaluator steps: a budget
 * that the steps alone would never exhaust must stop it. */
static void test_primitive_loops_are_charged(void **state) {
  (void)state;
  /* Making: the size is charged before the loop. */
  expect_step_budget("(make-list 1000000 0)", 100000);
  expect_step_budget("(iota 1000000)", 100000);
  expect_step_budget("(range 1 1000000)", 100000);
  expect_step_budget("(make-vector 1000000 0)", 100000);
  /* The whole int64 line: a count that does not even fit in int64. */
  expect_step_budget("(range -9223372036854775808 9223372036854775807)", 100000);
  /* Walking: ten walks of 50000 items are 500000 steps. */
  static const char *const walks[] = {"length", "reverse", "sum", "last", "list?", "unique",
                                      "list->vector"};
  for (size_t i = 0; i < sizeof walks / sizeof walks[0]; i++) {
    char src[256];
    snprintf(src, sizeof src,
             "(define l (make-list 50000 1)) (define (loop k) (if (> k 0) (begin (%s l) "
             "(loop (- k 1))))) (loop 10)",
             walks[i]);
    expect_step_budget(src, 100000);
  }
  expect_step_budget("(define l (make-list 50000 1)) (repeat 10 (lambda () (list-ref l 49999)))",
                     100000);
  expect_step_budget("(define l (make-list 50000 1)) (repeat 10 (lambda () (sample-discrete l)))",
                     100000);
  /* Strings: 2^21 bytes doubled 20 times is 20 * 2^22 / 64 = 1310720 steps. */
  expect_step_budget("(define (dbl s k) (if (= k 0) s (dbl (string-append s s) (- k 1)))) "
                     "(define s (dbl \"x\" 21)) (repeat 20 (lambda () (string-append s s)))",
                     400000);
  /* Sets: 2^24 bits listed ten times. */
  expect_step_budget("(define s (number-set-range 0 16777215)) "
                     "(repeat 10 (lambda () (number-set-size (list->number-set "
                     "(number-set->list s)))))",
                     1000000);
}

/* ---- factor -------------------------------------------------------------- */

/* +inf and NaN log weights are errors naming factor in every method; -inf
 * is an impossible path. */
static void test_factor_infinities(void **state) {
  (void)state;
  /* Each program is its two halves around the weight. */
  static const char *const methods[][2] = {
      {"(enumeration-query (define a (flip)) (factor (if a ", " 0)) a #t)"},
      {"(mh-query 10 1 (define a (flip)) (factor (if a ", " 0)) a #t)"},
      {"(query '(importance 10) (define a (flip)) (factor (if a ", " 0)) a #t)"},
      {"(query '(rejection 10) (define a #t) (factor ", ") a #t)"},
  };
  for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++) {
    char src[256];
    snprintf(src, sizeof src, "%s(/ 1.0 0)%s", methods[i][0], methods[i][1]);
    lt_expect_error(src, NSR_ERR_INVALID, "factor: the log weight is +inf.0");
    snprintf(src, sizeof src, "%s(/ 0.0 0)%s", methods[i][0], methods[i][1]);
    lt_expect_error(src, NSR_ERR_INVALID, "factor: the log weight is not a number");
  }
  /* Two finite factors whose sum overflows. */
  lt_expect_error("(enumeration-query (factor 1e308) (factor 1e308) 1 #t)", NSR_ERR_INVALID,
                  "factor: the run's total log weight overflows to +inf.0");
  /* -inf removes a's #t branch: #f with probability 1. */
  lt_expect("(enumeration-query (define a (flip)) (factor (if a (- (/ 1.0 0)) 0)) a #t)",
            "((#f) (1.0))");
  lt_expect("(mh-query 5 1 (define a (flip)) (factor (if a (- (/ 1.0 0)) 0)) a #t)",
            "(#f #f #f #f #f)");
}

int main(int argc, char **argv) {
  if (argc < 2 || cli_runner_init(argv[1]) != 0) return 1;
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_exact_overflow_is_an_error),
      cmocka_unit_test(test_exact_edges),
      cmocka_unit_test(test_webchurch_overflow_is_inexact),
      cmocka_unit_test(test_nsr_run_process),
      cmocka_unit_test(test_nsr_mcp_process),
      cmocka_unit_test(test_sampler_parameters),
      cmocka_unit_test(test_large_parameter_samplers),
      cmocka_unit_test(test_underflowing_shapes),
      cmocka_unit_test(test_scores_are_never_nan),
      cmocka_unit_test(test_primitive_loops_are_charged),
      cmocka_unit_test(test_factor_infinities),
  };
  return cli_runner_finish(cmocka_run_group_tests(tests, NULL, NULL));
}
