/* test_lang_compat.c: what webchurch's programs (its test suite, the book's
 * chapters) need: library procedures, `load` and `eval`, and the rules that
 * hold only under --webchurch (0 is false, symbols equal strings, extra
 * arguments ignored, case evaluates its data, JavaScript's numerals).
 * Expected values are worked out by hand from webchurch's documented
 * behaviour (church_builtins.js, JavaScript's Number toString), and normal
 * mode is checked to stay strict. */
#include "lang_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A fresh interpreter under webchurch (and files allowed when `files`),
 * with 10^7 steps: the loops that test the budget stop 100 times sooner
 * than under the default (seconds under the sanitizers). */
static nsr_lang *new_lang(bool webchurch, bool files) {
  nsr_lang_config cfg;
  nsr_lang_config_default(&cfg);
  cfg.seed = 1;
  cfg.max_steps = 10000000;
  cfg.webchurch = webchurch;
  cfg.load_files = files;
  return lt_new_config(&cfg);
}

/* src under webchurch must print (as `write`) as expected. */
static void expect_wc(const char *src, const char *expected) {
  nsr_lang *lang = new_lang(true, false);
  char got[4096];
  snprintf(got, sizeof got, "%s", lt_eval(lang, src));
  nsr_lang_free(lang);
  if (strcmp(got, expected) != 0) fail_msg("webchurch %s\n  expected %s\n  got      %s", src, expected, got);
}

/* src under webchurch must fail with code and a message holding fragment. */
static void expect_wc_error(const char *src, nsr_code code, const char *fragment) {
  nsr_lang *lang = new_lang(true, false);
  char msg[NSR_ERROR_MESSAGE_MAX];
  snprintf(msg, sizeof msg, "%s", lt_eval_error(lang, src, code));
  nsr_lang_free(lang);
  if (strstr(msg, fragment) == NULL) fail_msg("webchurch %s: message \"%s\" lacks \"%s\"", src, msg, fragment);
}

/* What src under webchurch displays. */
static void expect_wc_output(const char *src, const char *expected) {
  nsr_lang *lang = new_lang(true, false);
  lt_eval(lang, src);
  size_t len;
  const char *out = nsr_lang_output(lang, &len);
  char got[4096];
  snprintf(got, sizeof got, "%s", out);
  nsr_lang_free(lang);
  if (strcmp(got, expected) != 0) fail_msg("webchurch %s displays\n%s\nnot\n%s", src, got, expected);
}

static void test_lists_as_sets(void **state) {
  (void)state;
  /* Underscore's union/intersection/difference: first-seen order. */
  lt_expect("(union '(3 1 3) '(2 1) '(4))", "(3 1 2 4)");
  lt_expect("(union)", "()");
  lt_expect("(intersection '(b a b c) '(c b) '(b c d))", "(b c)");
  lt_expect("(intersection '(1 2))", "(1 2)");
  lt_expect("(difference '(1 2 1 3) '(3))", "(1 2 1)");
  lt_expect("(difference '(1 2))", "(1 2)");
  lt_expect("(nub '(x y x z y))", "(x y z)");
  lt_expect("(nub '())", "()");
  lt_expect_error("(union '(1) 2)", NSR_ERR_INVALID, "union: expected a list as argument 2, got 2");
  lt_expect_error("(difference 5 '(1))", NSR_ERR_INVALID,
                  "difference: expected a list as argument 1, got 5");
  lt_expect_error("(intersection '(1) '(2 . 3))", NSR_ERR_INVALID,
                  "intersection: expected a list as argument 2");
  lt_expect_error("(intersection)", NSR_ERR_INVALID, "intersection: expected at least 1 argument, got 0");
  lt_expect_error("(nub 'a)", NSR_ERR_INVALID, "nub: expected a list as argument 1, got a");
  /* Items compare by equal? (lists too). */
  lt_expect("(list (union '((1) 2) '((1) 3)) (intersection '((a) b) '((a))) (difference '((a) b) '((a))))",
            "(((1) 2 3) ((a)) (b))");
}

/* webchurch's conditioned draw: an argument past a sampler's parameters
 * is the value observed (its ERPs take a conditionedValue). Hand values:
 * flip observing #t weighs x by 0.9 or 0.1 against a uniform prior; a
 * gaussian of sd 1 observed at 1 from mean 1 or 0 weighs by
 * exp(0) : exp(-1/2), so p(x) = 1 / (1 + exp(-0.5)) = 0.62245933120185. */
static void test_conditioned_draws(void **state) {
  (void)state;
  expect_wc("(enumeration-query (define x (flip)) x (flip (if x 0.9 0.1) #t))", "((#t #f) (0.9 0.1))");
  expect_wc("(< (abs (- (first (second (enumeration-query (define x (flip)) x"
            " (= (gaussian (if x 1 0) 1 1) 1)))) 0.62245933120185)) 1e-12)",
            "#t");
  expect_wc("(rejection-query (define x 0) x (condition (= (gaussian 0 1 x) x)))", "0");
  expect_wc_error("(gaussian 0 1 0.5)", NSR_ERR_INVALID,
                  "gaussian: argument 3, an observed value, is allowed only inside a query");
  lt_expect_error("(gaussian 0 1 0.5)", NSR_ERR_INVALID, "gaussian: expected 0 to 2 arguments, got 3");
}

static void test_gensym(void **state) {
  (void)state;
  lt_expect("(define g (make-gensym)) (define h (make-gensym \"v\")) (list (g) (g) (h) (g))",
            "(g0 g1 v0 g2)");
  lt_expect("((make-gensym 'k))", "k0");
  lt_expect("(list (gensym) (gensym))", "(g0 g1)");
  lt_expect("(symbol? (gensym))", "#t");
  lt_expect_error("((make-gensym 5))", NSR_ERR_INVALID, "string-append: expected a string");
  lt_expect_error("(gensym 1)", NSR_ERR_INVALID, "expected 0 arguments, got 1");
}

static void test_string_split(void **state) {
  (void)state;
  lt_expect("(string-split \"a.bc.\" \".\")", "(\"a\" \"bc\" \"\")");
  lt_expect("(string-split \"a--b\" \"--\")", "(\"a\" \"b\")");
  lt_expect("(string-split \"abc\" \"x\")", "(\"abc\")");
  lt_expect("(string-split \"\" \",\")", "(\"\")");
  lt_expect("(string-split \"ab\" \"\")", "(\"a\" \"b\")");
  lt_expect("(string-split \"\xc3\xa9t\xc3\xa9\" \"\")", "(\"\xc3\xa9\" \"t\" \"\xc3\xa9\")");
  lt_expect("(string-split \"\" \"\")", "()");
  lt_expect_error("(string-split 'abc \".\")", NSR_ERR_INVALID,
                  "string-split: expected a string as argument 1, got abc");
  lt_expect_error("(string-split \"a\" 1)", NSR_ERR_INVALID, "expected a string as argument 2");
  lt_expect_error("(string-split \"a\")", NSR_ERR_INVALID, "expected 2 arguments, got 1");
}

static void test_comparisons_and_logic(void **state) {
  (void)state;
  lt_expect("(list (.<. 1 2 3) (.<. 1 3 3) (.<=. 1 3 3) (.>. 3 2 1) (.>=. 3 3 1) (.>=. 1 2))",
            "(#t #f #t #t #t #f)");
  lt_expect("(list (=) (= 1))", "(#t #t)");
  lt_expect("(list (soft= 1.0 1.05 0.1) (soft= 1.0 1.2 0.1))", "(#t #f)");
  /* and, or as values: Scheme's results, every argument evaluated. */
  lt_expect("(list (fold and #t '(#t 1 #f)) (fold or #f '(#f 2)) (and) (or) (apply and '(1 2)))",
            "(#f 2 #t #f 2)");
  lt_expect("(map or '(#f 1) '(3 #f))", "(3 1)");
  lt_expect_error("(.<. 1 'a)", NSR_ERR_INVALID, ".<.: expected a number as argument 2, got a");
  lt_expect_error("(.>.)", NSR_ERR_INVALID, ".>.: expected at least 1 argument, got 0");
  lt_expect_error("(soft= 1 2)", NSR_ERR_INVALID, "expected 3 arguments, got 2");
}

static void test_eval(void **state) {
  (void)state;
  lt_expect("(eval '(+ 1 2))", "3");
  lt_expect("((eval (list 'lambda '(x) (list '* 'x 'x))) 7)", "49");
  lt_expect("(eval '(define z 4)) (* z 2)", "8");
  lt_expect("(eval ''(a b))", "(a b)");
  lt_expect("(eval 5 'ignored-environment)", "5");
  /* eval sees global definitions only (webchurch's sees local ones too). */
  lt_expect_error("(define (f b) (eval 'b)) (f 1)", NSR_ERR_INVALID, "unbound variable 'b'");
  lt_expect_error("(eval '(if))", NSR_ERR_PARSE, "expected (if test then [else])");
  lt_expect_error("(eval)", NSR_ERR_INVALID, "eval: expected 1 to 2 arguments, got 0");
  lt_expect_error("(eval '(car 1))", NSR_ERR_INVALID, "expected a pair");
  /* eval'd code is under the program's budgets. */
  nsr_lang *lang = new_lang(false, false);
  assert_non_null(strstr(lt_eval_error(lang, "(eval '(let loop () (loop)))", NSR_ERR_LIMIT), "step budget"));
  nsr_lang_free(lang);
}

/* Writes text to a fresh temporary file; returns its path (caller frees
 * and unlinks). */
static char *temp_file(const char *text) {
  char *path = strdup("/tmp/nsr-compat-XXXXXX");
  assert_non_null(path);
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  size_t n = strlen(text);
  assert_int_equal((ssize_t)n, write(fd, text, n));
  close(fd);
  return path;
}

static void test_load(void **state) {
  (void)state;
  char *lib = temp_file("(define (sq x) (* x x))\n(define k 3)\n");
  char *bad = temp_file("(define y 1)\n  (car 5)\n");
  char *loop = temp_file("(define (spin) (spin))\n(spin)\n");
  char src[512];
  nsr_lang *lang = new_lang(false, true);
  snprintf(src, sizeof src, "(load \"%s\") (sq k)", lib);
  assert_string_equal("9", lt_eval(lang, src));
  /* An error inside the file names the file's line and column. */
  snprintf(src, sizeof src, "(load \"%s\")", bad);
  const char *msg = lt_eval_error(lang, src, NSR_ERR_INVALID);
  char want[256];
  snprintf(want, sizeof want, "%s:2:3: ", bad);
  if (strstr(msg, "expected a pair as argument 1, got 5") == NULL) fail_msg("load error: %s", msg);
  if (strstr(msg, want) == NULL) fail_msg("load error: %s lacks %s", msg, want);
  snprintf(src, sizeof src, "(load \"%s\")", loop);
  msg = lt_eval_error(lang, src, NSR_ERR_LIMIT);
  assert_non_null(strstr(msg, "step budget"));
  msg = lt_eval_error(lang, "(load \"/nonexistent/nsr.church\")", NSR_ERR_INVALID);
  assert_non_null(strstr(msg, "load: cannot read /nonexistent/nsr.church: No such file"));
  msg = lt_eval_error(lang, "(load 'lib)", NSR_ERR_INVALID);
  assert_non_null(strstr(msg, "load: expected a string as argument 1, got lib"));
  msg = lt_eval_error(lang, "(load \"/tmp\")", NSR_ERR_INVALID);
  assert_non_null(strstr(msg, "load: cannot read /tmp"));
  nsr_lang_free(lang);
  /* Without load_files (the default, and run_program's), no file is read. */
  snprintf(src, sizeof src, "(load \"%s\")", lib);
  lt_expect_error(src, NSR_ERR_INVALID, "load: reading files is not allowed here");
  unlink(lib);
  unlink(bad);
  unlink(loop);
  free(lib);
  free(bad);
  free(loop);
}

/* Normal mode stays Scheme: 0 is true, symbols are not strings, extra
 * arguments are errors, case quotes its data, `conditional` is free. */
static void test_normal_mode_is_strict(void **state) {
  (void)state;
  lt_expect("(list (if 0 'yes 'no) (equal? 'a \"a\") (eqv? 'a \"a\") (member \"a\" '(a)))",
            "(yes #f #f #f)");
  lt_expect_error("((lambda (x) x) 1 2)", NSR_ERR_INVALID, "expected 1 argument, got 2");
  lt_expect_error("(car '(1) 2)", NSR_ERR_INVALID, "car: expected 1 argument, got 2");
  lt_expect("(case 'a ((a) 1) (else 2))", "1");
  lt_expect("(case 'a (('a) 1) (else 2))", "2"); /* the datum is the list (quote a) */
  lt_expect("(define (conditional x) (* x 2)) (conditional 4)", "8");
  lt_expect("(list 1e20 (if #f #f) 2.0)", "(1e+20 #<void> 2.0)");
}

static void test_webchurch_truth_equality_arity(void **state) {
  (void)state;
  expect_wc("(list (if 0 'yes 'no) (if 0.0 'yes 'no) (if 1 'yes 'no) (if (sqrt -1) 'yes 'no))",
            "(no no yes no)");
  expect_wc("(list (not 0) (and 1 0) (or 0 2) (all '(1 0)) (any '(0 1)))", "(#t 0 2 #f #t)");
  expect_wc("(rejection-query (define x (if (flip) 1 0)) x x)", "1");
  expect_wc("(list (equal? 'a \"a\") (eqv? \"b\" 'b) (equal? '(a (b)) (list \"a\" (list \"b\"))) "
            "(member \"b\" '(a b c)) (equal? 'a \"b\") (equal? 'a 'a))",
            "(#t #t #t (b c) #f #t)");
  expect_wc("(list ((lambda (x) x) 1 2 3) (car '(1) 2) (abs -3 'extra))", "(1 1 3)");
  /* Missing arguments are still errors. */
  expect_wc_error("((lambda (x y) x) 1)", NSR_ERR_INVALID, "expected 2 arguments, got 1");
  expect_wc_error("(car)", NSR_ERR_INVALID, "car: expected 1 argument, got 0");
}

static void test_webchurch_case(void **state) {
  (void)state;
  /* webchurch evaluates each datum: ('D) matches the symbol D. */
  expect_wc("(define (f x) (case x (('a 'b) 1) ((2 (+ 1 2)) 2) (else 3))) "
            "(list (f 'a) (f 'b) (f 2) (f 3) (f 'c))",
            "(1 1 2 2 3)");
  expect_wc("(case #t ((#f) 1))", "undefined");
  expect_wc_error("(case 'a ((a) 1))", NSR_ERR_INVALID, "unbound variable 'a'");
  expect_wc_error("(case 1 (x))", NSR_ERR_PARSE, "case: each clause must be ((datum ...) body ...)");
}

static void test_webchurch_conditional(void **state) {
  (void)state;
  /* Only x = 1, y = 0 satisfies the condition: every draw is 1. */
  const char *methods[] = {"'(enumerate)", "'(rejection)", "'(mh 5)", "'enumerate"};
  for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++) {
    char src[512];
    snprintf(src, sizeof src,
             "(repeat 4 (conditional %s (define x (if (flip) 1 0)) (define y (if (flip) 1 0)) "
             "(+ x y) (and (= x 1) (= y 0))))",
             methods[i]);
    expect_wc(src, "(1 1 1 1)");
  }
  /* Drawn in proportion: a fair coin's conditional on nothing, by
   * enumeration, 2000 draws with a fixed seed: within 5 sigma of 1000. */
  nsr_lang *lang = new_lang(true, false);
  double heads = lt_eval_number(
      lang, "(sum (repeat 2000 (conditional '(enumerate) (define c (flip)) (if c 1 0) #t)))");
  nsr_lang_free(lang);
  assert_true(heads > 1000 - 5 * 22.4 && heads < 1000 + 5 * 22.4);
  expect_wc_error("((conditional '(gibbs) (define x (flip)) x #t))", NSR_ERR_INVALID,
                  "conditional: the method must be");
  expect_wc_error("(conditional '(mh 1) x)", NSR_ERR_PARSE,
                  "conditional: expected a method, a query expression and a condition");
}

static void test_webchurch_printing(void **state) {
  (void)state;
  /* JavaScript's Number toString: positional below 1e21, exponent from
   * 1e21 and below 1e-6, the shortest digits that read back. */
  expect_wc_output("(display (list 1e20 1e21 1.5e-7 0.000001 123.456 -2.5 (sqrt -1) (exp 1000) "
                   "(- (exp 1000)) 1.7976931348623157e308 (/ 1 3) (if #f #f)))",
                   "(100000000000000000000 1e+21 1.5e-7 0.000001 123.456 -2.5 NaN Infinity "
                   "-Infinity 1.7976931348623157e+308 0.3333333333333333 undefined)\n");
  expect_wc("(list (number->string 1e20) (number->string 2.0) (number->string 5e-324))",
            "(\"100000000000000000000\" \"2\" \"5e-324\")");
  expect_wc("(list (iota 3 1 0.5) (equal? (iota 3 1 0.5) '(1 1.5 2)) (iota 3 0 -0.1))",
            "((1 1.5 2) #t (0 -0.1 -0.2))");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_lists_as_sets),
      cmocka_unit_test(test_gensym),
      cmocka_unit_test(test_conditioned_draws),
      cmocka_unit_test(test_string_split),
      cmocka_unit_test(test_comparisons_and_logic),
      cmocka_unit_test(test_eval),
      cmocka_unit_test(test_load),
      cmocka_unit_test(test_normal_mode_is_strict),
      cmocka_unit_test(test_webchurch_truth_equality_arity),
      cmocka_unit_test(test_webchurch_case),
      cmocka_unit_test(test_webchurch_conditional),
      cmocka_unit_test(test_webchurch_printing),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
