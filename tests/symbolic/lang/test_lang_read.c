/* test_lang_read.c: the reader: data, positions, and located syntax
 * errors. Expected positions are counted by hand (line:column, 1-based). */
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

static void test_runtime_errors_point_at_the_call(void **state) {
  (void)state;
  lt_expect_error("(define x 1)\n  (car '())", NSR_ERR_INVALID,
                  "test.church:2:3: first: the list is empty");
  lt_expect_error("(define (f y) y)\n(+ 1\n   (f 1 2))", NSR_ERR_INVALID,
                  "test.church:3:4: f: expected 1 argument, got 2");
  lt_expect_error("(let ((a 1))\n  (undefined-thing a))", NSR_ERR_INVALID,
                  "test.church:2:3: unbound variable 'undefined-thing'");
  lt_expect_error("(if)", NSR_ERR_PARSE, "test.church:1:1: if: expected");
  lt_expect_error("(lambda (x x) x)", NSR_ERR_PARSE, "parameter 'x' appears twice");
  lt_expect_error("(let ((x)) x)", NSR_ERR_PARSE, "each binding must be (name value)");
  lt_expect_error("(define)", NSR_ERR_PARSE, "define: expected a name");
  lt_expect_error("(5 3)", NSR_ERR_INVALID, "cannot call 5: it is not a procedure");
  /* Errors inside library procedures (map is written in Church) point at
   * the program's call, not into the library. */
  lt_expect_error("(define xs '(1 2))\n(map car xs)", NSR_ERR_INVALID,
                  "test.church:2:1: first: expected a pair as argument 1, got 1");
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
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
