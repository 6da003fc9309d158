/* test_lang_read.c: the reader: data, positions, and located syntax
 * errors. Expected positions are counted by hand (line:column, 1-based). */
#include <string.h>

#include "lang_test.h"

static void test_atoms(void **state) {
  (void)state;
  lt_expect("42", "42");
  lt_expect("-17", "-17");
  lt_expect("+5", "5");
  lt_expect("2.5", "2.5");
  lt_expect("1e3", "1000.0");
  lt_expect("-1.5e-2", "-0.015");
  lt_expect(".5", "0.5");
  lt_expect("#t", "#t");
  lt_expect("#false", "#f");
  lt_expect("'abc", "abc");
  lt_expect("'-", "-");
  lt_expect("'1+", "1+");
  lt_expect("\"a\\nb\\t\\\"q\\\"\\\\\"", "\"a\\nb\\t\\\"q\\\"\\\\\"");
  lt_expect("(string-length \"a\\nb\")", "3");
}

static void test_lists_and_quotes(void **state) {
  (void)state;
  lt_expect("'(1 (2 3) . 4)", "(1 (2 3) . 4)");
  lt_expect("'()", "()");
  lt_expect("''a", "(quote a)");
  lt_expect("'`(a ,b ,@c)", "(quasiquote (a (unquote b) (unquote-splicing c)))");
  lt_expect("'#(1 \"x\" y)", "#(1 \"x\" y)");
}

static void test_comments(void **state) {
  (void)state;
  lt_expect("; a comment\n1 ; another\n", "1");
  lt_expect("#| block\n #| nested |# still |# 7", "7");
  lt_expect("(+ 1 #| inside |# 2)", "3");
}

static void test_syntax_errors_are_located(void **state) {
  (void)state;
  lt_expect_error("(define x 1)\n(display (+ x 2)))", NSR_ERR_PARSE,
                  "test.church:2:18: unbalanced ')'");
  lt_expect_error("(define x 1)\n  (foo (bar", NSR_ERR_PARSE,
                  "test.church:2:8: '(' is never closed");
  lt_expect_error("\n\"abc", NSR_ERR_PARSE, "test.church:2:1: string is never closed");
  lt_expect_error("#| open", NSR_ERR_PARSE, "test.church:1:1: block comment '#|' is never closed");
  lt_expect_error("(a . b c)", NSR_ERR_PARSE, "test.church:1:8: expected ')'");
  lt_expect_error("\"\\q\"", NSR_ERR_PARSE, "test.church:1:2: unknown escape");
  lt_expect_error("'", NSR_ERR_PARSE, "test.church:1:1: a quote mark must be followed");
  lt_expect_error("99999999999999999999", NSR_ERR_PARSE, "test.church:1:1: integer literal 99999999999999999999 does not fit in 64 bits");
  lt_expect_error("#\\a", NSR_ERR_PARSE, "unknown syntax '#\\a'");
}

/* Square brackets are parentheses (both modes); each closer must match its
 * opener, and a mismatch names both places. */
static void test_square_brackets(void **state) {
  (void)state;
  lt_expect("(let* ([x 1] [y (+ x 1)]) [list x y])", "(1 2)");
  lt_expect("'([a] [a b] ([c]))", "((a) (a b) ((c)))");
  lt_expect("'[1 . 2]", "(1 . 2)");
  lt_expect("(car '[[x]])", "(x)");
  lt_expect_error("(let* ([x 1) x)", NSR_ERR_PARSE,
                  "test.church:1:12: ')' closes the '[' at 1:8; expected ']'");
  lt_expect_error("(list 1\n 2]", NSR_ERR_PARSE,
                  "test.church:2:3: ']' closes the '(' at 1:1; expected ')'");
  lt_expect_error("'#(1 2]", NSR_ERR_PARSE, "1:7: ']' closes the '#(' at 1:2; expected ')'");
  lt_expect_error("'[1 . 2)", NSR_ERR_PARSE, "1:8: expected ']' after the datum following '.'");
  lt_expect_error("1 ]", NSR_ERR_PARSE, "test.church:1:3: unbalanced ']'");
  lt_expect_error("\n [a b", NSR_ERR_PARSE, "test.church:2:2: '[' is never closed");
  lt_expect_error("'[", NSR_ERR_PARSE, "'[' is never closed");
  lt_expect_error("']", NSR_ERR_PARSE, "a quote mark must be followed by a datum");
}

static void test_deep_nesting_is_an_error_not_a_crash(void **state) {
  (void)state;
  char text[5000];
  for (int i = 0; i < 2000; i++) text[i] = '(';
  text[2000] = '\0';
  lt_expect_error(text, NSR_ERR_PARSE, "nested more than 1000 levels");
}

/* Issue 18: a run-time error points at the subexpression at fault (a
 * variable where it is written, not the list around it) and names the
 * procedure as the program called it. Every position below is counted by
 * hand from the program text (lines and columns from 1, columns in bytes). */
static void test_runtime_errors_point_at_the_call(void **state) {
  (void)state;
  static const char *const cases[][2] = {
      /* variables: operands, operators, define and let values, if tests,
       * bodies, cond clauses, top level */
      {"(list 1\n  b\n    c)", "test.church:2:3: unbound variable 'b'"},
      {"(let ((a 1))\n  (undefined-thing a))", "test.church:2:4: unbound variable 'undefined-thing'"},
      {"(define y\n   qq)", "test.church:2:4: unbound variable 'qq'"},
      {"(let ((a 1)\n      (b zz)) a)", "test.church:2:10: unbound variable 'zz'"},
      {"(if zz 1 2)", "test.church:1:5: unbound variable 'zz'"},
      {"(define (h)\n  (+ 1 qq))\n(h)", "test.church:2:8: unbound variable 'qq'"},
      {"(cond ((= 1 2) 1)\n      (else zz))", "test.church:2:13: unbound variable 'zz'"},
      {"(cond ((= 1 2) 1)\n (qq 2))", "test.church:2:3: unbound variable 'qq'"},
      {"1\n  zz", "test.church:2:3: unbound variable 'zz'"},
      {"(when zz 1)", "test.church:1:7: unbound variable 'zz'"},
      /* an unquoted variable: at its unquote mark */
      {"(list 1\n `(a ,zz))", "test.church:2:6: unbound variable 'zz'"},
      {"`(,@qq 1)", "test.church:1:3: unbound variable 'qq'"},
      {"(unless #f\n  1 qq)", "test.church:2:5: unbound variable 'qq'"},
      {"(set! nowhere 1)", "test.church:1:1: set!: unbound variable 'nowhere'"},
      /* the procedure as written: car, not the first it shares code with */
      {"(define x 1)\n  (car '())", "test.church:2:3: car: the list is empty"},
      {"(define xs '(1 2 3))\n(car (cdr (cdr (cdr xs))))", "test.church:2:1: car: the list is empty"},
      {"(define xs '(1))\n(car (cdr (cdr xs)))", "test.church:2:6: cdr: the list is empty"},
      {"(define hd car)\n(hd '())", "test.church:2:1: hd: the list is empty"},
      {"(apply car '(()))", "test.church:1:1: car: the list is empty"},
      /* arity, type errors, not a procedure, division by zero */
      {"(define (f y) y)\n(+ 1\n   (f 1 2))", "test.church:3:4: f: expected 1 argument, got 2"},
      {"(car 1 2)", "test.church:1:1: car: expected 1 argument, got 2"},
      {"(first 1 2)", "test.church:1:1: first: expected 1 argument, got 2"},
      {"(+ 1 'a)", "test.church:1:1: +: expected a number as argument 2, got a"},
      {"(define n 5)\n(+ 1 (n 3))", "test.church:2:7: cannot call 5: it is not a procedure"},
      {"(5 3)", "test.church:1:2: cannot call 5: it is not a procedure"},
      {"(define z 0)\n(* 2\n   (/ 1 z))", "test.church:3:4: /: division by exact zero"},
      {"(modulo 5 0)", "test.church:1:1: modulo: division by zero"},
      /* conditions */
      {"(define a 1)\n  (condition #f)", "test.church:2:3: condition used outside of a query"},
      {"(rejection-query (define x (flip))\n  x\n  (undefined-y x))",
       "test.church:3:4: unbound variable 'undefined-y'"},
      /* Errors inside library procedures (sort and map are written in
       * Church, map's loop and filter are the machine's) point at the
       * program's call, not into the library, and name the procedure the
       * program called, then the one at fault. */
      {"(define xs '(1 2))\n(map car xs)", "test.church:2:1: map: car: expected a pair as argument 1, got 1"},
      {"(define (f x) x)\n(map f '(1) '(2))", "test.church:2:1: map: f: expected 1 argument, got 2"},
      {"(list 1\n  (sort '(3 a 2)))", "test.church:2:3: sort: <: expected a number as argument 2, got a"},
      {"(repeat 'x flip)", "test.church:1:1: repeat: expected a number as argument 1, got x"},
      {"(filter car\n  '(1))", "test.church:1:1: filter: car: expected a pair as argument 1, got 1"},
      {"(define xs 5)\n(map car xs)", "test.church:2:1: map: expected a list as argument 2, got 5"},
      {"(for-each display '(1 . 2))",
       "test.church:1:1: for-each: expected a list as argument 2, got (1 . 2)"},
      {"(repeat 2 (lambda (x) x))", "test.church:1:1: repeat: procedure: expected 1 argument, got 0"},
      /* ... but an error in the program's own procedure, called by the
       * library, is the program's, at its place. */
      {"(map (lambda (x)\n  (+ x 'b)) '(1))", "test.church:2:3: +: expected a number as argument 2, got b"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    nsr_lang *lang = lt_new(1);
    const char *msg = lt_eval_error(lang, cases[i][0], NSR_ERR_INVALID);
    if (strncmp(msg, cases[i][1], strlen(cases[i][1])) != 0) {
      fail_msg("%s: got \"%s\", want \"%s...\"", cases[i][0], msg, cases[i][1]);
    }
    nsr_lang_free(lang);
  }
  lt_expect_error("(poisson-score 1e300 3)", NSR_ERR_RANGE,
                  "test.church:1:1: poisson-score: argument 1 must be");
  lt_expect_error("(if)", NSR_ERR_PARSE, "test.church:1:1: if: expected");
  lt_expect_error("(lambda (x x) x)", NSR_ERR_PARSE, "parameter 'x' appears twice");
  lt_expect_error("(let ((x)) x)", NSR_ERR_PARSE, "each binding must be (name value)");
  lt_expect_error("(define)", NSR_ERR_PARSE, "define: expected a name");
}

/* nsr_lang_eval_lines numbers the text's lines from the line given, as the
 * REPL does for the lines of a session. */
static void test_eval_lines_numbers_from_the_line_given(void **state) {
  (void)state;
  nsr_lang *lang = lt_new(1);
  nsr_error err;
  const char *src = "(+ 1\n   oops)";
  assert_int_equal(nsr_lang_eval_lines(lang, "<repl>", 7, src, strlen(src), &err), NSR_ERR_INVALID);
  assert_string_equal(err.message, "<repl>:8:4: unbound variable 'oops'");
  nsr_lang_free(lang);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_atoms),
      cmocka_unit_test(test_lists_and_quotes),
      cmocka_unit_test(test_comments),
      cmocka_unit_test(test_syntax_errors_are_located),
      cmocka_unit_test(test_square_brackets),
      cmocka_unit_test(test_deep_nesting_is_an_error_not_a_crash),
      cmocka_unit_test(test_runtime_errors_point_at_the_call),
      cmocka_unit_test(test_eval_lines_numbers_from_the_line_given),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
