/* test_lang_eval.c: special forms, proper tail calls, numbers, the list
 * and string library, budgets, the collector and the embedding API.
 * Expected values are worked out by hand from Scheme's semantics. */
#include "lang_test.h"

#include <stdio.h>
#include <string.h>

static void test_define_and_lambda(void **state) {
  (void)state;
  lt_expect("(define x 3) x", "3");
  lt_expect("(define (sq x) (* x x)) (sq 7)", "49");
  lt_expect("((lambda (a . rest) (list a rest)) 1 2 3)", "(1 (2 3))");
  lt_expect("((lambda args args) 1 2)", "(1 2)");
  lt_expect("(define (f . xs) (length xs)) (f)", "0");
  lt_expect("(define (outer) (define a 1) (define (inner) (+ a 1)) (inner)) (outer)", "2");
  lt_expect("(define x 5) (set! x (+ x 1)) x", "6");
  lt_expect("(define (counter) (define n 0) (lambda () (set! n (+ n 1)) n))"
            "(define c (counter)) (c) (c) (c)", "3");
  lt_expect_error("(set! nowhere 1)", NSR_ERR_INVALID, "set!: unbound variable 'nowhere'");
}

/* Each variable is resolved to its frame slot before the code runs
 * (lang_resolve.c); a lambda's defines get slots of its own frame, and
 * until one runs the name keeps the meaning it had outside. */
static void test_variables_resolve_to_their_binding(void **state) {
  (void)state;
  /* Depth: the innermost binding of a name wins, at any distance. */
  lt_expect("(define x 'g) (((lambda (x) (lambda (y) (list x y))) 1) 2)", "(1 2)");
  lt_expect("(define (f a) (lambda (b) (lambda (a) (list a b)))) (((f 1) 2) 3)", "(3 2)");
  lt_expect("(define (f a b . c) (define d (list a b c)) (lambda () d)) ((f 1 2 3 4))",
            "(1 2 (3 4))");
  /* A define in a nested form of the body binds in the lambda's frame. */
  lt_expect("(define (f t) (if t (define v 'yes) (define v 'no)) v) (list (f #t) (f #f))",
            "(yes no)");
  lt_expect("(define (f) (begin (define a 1) (define b (+ a 1))) (list a b)) (f)", "(1 2)");
  /* Before its define runs, a name means what it meant outside: the
   * parameter, or the global. */
  lt_expect("(define x 'global) (define (f) (define y x) (define x 'local) (list y x)) (f)",
            "(global local)");
  lt_expect("(define (f x) ((lambda () (define y x) (define x 'inner) (list y x)))) (f 'param)",
            "(param inner)");
  lt_expect_error("(define (f) (define y z) (define z 1) y) (f)", NSR_ERR_INVALID,
                  "unbound variable 'z'");
  /* set! before the define changes the outer binding; after, the local. */
  lt_expect("(define x 1) (define (g) (set! x 2) (define x 3) (set! x (+ x 10)) x) (list (g) x)",
            "(13 2)");
  /* Each call has its own frame, defines included. */
  lt_expect("(define (mk n) (define k (* n 10)) (lambda () k)) (define a (mk 1)) (define b (mk 2))"
            "(list (a) (b))",
            "(10 20)");
  /* Mutual recursion through internal defines, a define redefined. */
  lt_expect("(define (f n) (define (ev? k) (if (= k 0) #t (od? (- k 1))))"
            " (define (od? k) (if (= k 0) #f (ev? (- k 1)))) (ev? n)) (list (f 10) (f 7))",
            "(#t #f)");
  lt_expect("(define (f) (define a 1) (define a (+ a 1)) a) (f)", "2");
  lt_expect("(define (f x) (define x (* x 2)) x) (f 4)", "8");
  /* Quoted code is data, never resolved. */
  lt_expect("(define (f x) '(x y)) (f 1)", "(x y)");
  /* A query's body is a lambda of its own: its defines are its frame's. */
  lt_expect("(define a 'outside)"
            "(define d (enumeration-query (define b (flip)) (define a (if b 1 2)) a #t))"
            "(list (first d) a)",
            "((1 2) outside)");
}

/* The library's Church procedures are read at their first use
 * (lang_prelude.c): as if all were defined before the program. */
static void test_library_names_behave_as_predefined(void **state) {
  (void)state;
  lt_expect("(list (fold + 0 '(1 2 3)) (sort '(3 1 2)) (map + '(1 2) '(10 20)))",
            "(6 (1 2 3) (11 22))");
  lt_expect("(list true false soft= gensym map)",
            "(#t #f #<procedure soft-equal> #<procedure gensym> #<procedure map>)");
  lt_expect("(list (gensym) (gensym) ((make-gensym 'x)) (gensym))", "(g0 g1 x0 g2)");
  /* A program's own definition wins, before or after a use. */
  lt_expect("(define (sort l) 'mine) (sort '(3 1 2))", "mine");
  lt_expect("(define a (sort '(2 1))) (define (sort l) 'mine) (list a (sort '(2 1)))",
            "((1 2) mine)");
  lt_expect("(set! fold 5) fold", "5");
  /* Library code calls the names as the program has them (late binding). */
  lt_expect("(define (identity x) 'mine) ((compose) 5)", "mine");
  /* A library procedure's errors still name the program's call. */
  lt_expect_error("(sort 5)", NSR_ERR_INVALID, "sort");
}

/* A call of a pure primitive (numbers, lists, scores) on variables,
 * constants and such calls is applied in place, without the machine's
 * turns (lang_eval.c). It must
 * take the steps those turns take, counted here by hand: the call's
 * evaluation 1, each item 2, the application 1, the return 1; and fail,
 * where and as the machine reports it. */
static void test_calls_applied_in_place_behave_as_applied(void **state) {
  (void)state;
  nsr_lang_config cfg;
  nsr_lang_config_default(&cfg);
  assert_int_equal(lt_steps_needed(&cfg, "(+ 1 2)"), 1 + 3 * 2 + 1 + 1);
  /* As an operand: the outer call's evaluation, its operator, the inner
   * call's 9 steps, the application, the final return. */
  assert_int_equal(lt_steps_needed(&cfg, "(list (+ 1 2))"), 1 + 2 + 9 + 1 + 1);
  /* As an if's test: the if's evaluation, the test's 9, the branch's
   * evaluation, the final return. */
  assert_int_equal(lt_steps_needed(&cfg, "(if (< 1 2) 'a 'b)"), 1 + 9 + 1 + 1);
  /* Nested: (* 2 3) takes 9 steps as an operand, (+ (* 2 3) 1) 1 + 2 + 9
   * + 2 + 1 + 1 = 16 as one. */
  assert_int_equal(lt_steps_needed(&cfg, "(list (+ (* 2 3) 1))"), 1 + 2 + 16 + 1 + 1);
  /* Its errors point at the call and name the operator as written. */
  lt_expect_error("(define x 5)\n(define (f y) (list (car y)))\n(f x)", NSR_ERR_INVALID,
                  "test.church:2:21: car: expected a pair as argument 1, got 5");
  lt_expect_error("(define head car)\n(if (head 5) 1 2)", NSR_ERR_INVALID,
                  "test.church:2:5: head: expected a pair as argument 1, got 5");
  lt_expect_error("(define (f) (list (car 1 2)))\n(f)", NSR_ERR_INVALID,
                  "test.church:1:19: car: expected 1 argument, got 2");
  lt_expect_error("(define x '(1))\n(define (f) (+ (car (cdr x)) 1))\n(f)", NSR_ERR_INVALID,
                  "test.church:2:16: car: the list is empty");
  lt_expect_error("(define (f s) (list (gaussian-score 0 s 1)))\n(f -1)", NSR_ERR_RANGE,
                  "test.church:1:21: gaussian-score: argument 2 must be > 0");
  /* The operator is looked up at each call: rebinding it in either
   * direction, or passing a primitive as an argument, still works. */
  lt_expect("(define (h x) (list (car x))) (define a (h '(1)))"
            "(set! car (lambda (x) 'mine)) (list a (h '(1)))",
            "((1) (mine))");
  lt_expect("(define (op x y) 'closure) (define (h) (list (op 5 3))) (define a (h))"
            "(set! op -) (list a (h))",
            "((closure) (2))");
  lt_expect("((lambda (f) (list (f 1 2))) +)", "(3)");
}

static void test_let_family(void **state) {
  (void)state;
  lt_expect("(let ((x 1) (y 2)) (+ x y))", "3");
  lt_expect("(let ((x 1)) (let ((x 2) (y x)) y))", "1");
  lt_expect("(let* ((x 1) (y (+ x 1)) (z (* y 10))) z)", "20");
  lt_expect("(let* () 5)", "5");
  lt_expect("(letrec ((ev? (lambda (n) (if (= n 0) #t (od? (- n 1)))))"
            "         (od? (lambda (n) (if (= n 0) #f (ev? (- n 1))))))"
            "  (list (ev? 10) (od? 7)))", "(#t #t)");
  lt_expect("(let loop ((i 0) (acc '())) (if (= i 3) acc (loop (+ i 1) (cons i acc))))",
            "(2 1 0)");
}

static void test_conditionals(void **state) {
  (void)state;
  lt_expect("(if #f 1)", "#<void>");
  lt_expect("(if '() 'yes 'no)", "yes"); /* only #f is false */
  lt_expect("(cond ((= 1 2) 'a) ((= 1 1) 'b) (else 'c))", "b");
  lt_expect("(cond ((= 1 2) 'a) (else 'c))", "c");
  lt_expect("(cond ((member 2 '(1 2 3)) => length) (else 0))", "2");
  lt_expect("(cond (#f 1) (7))", "7");
  lt_expect("(case (* 2 3) ((2 3 5 7) 'prime) ((1 4 6 8 9) 'composite))", "composite");
  lt_expect("(case 'z ((a) 1) (else 'other))", "other");
  lt_expect("(and 1 2 3)", "3");
  lt_expect("(and 1 #f 3)", "#f");
  lt_expect("(and)", "#t");
  lt_expect("(or #f 2 (car '()))", "2"); /* short-circuit: car never runs */
  lt_expect("(or)", "#f");
  lt_expect("(when (> 2 1) 'a 'b)", "b");
  lt_expect("(unless (> 2 1) 'a)", "#<void>");
  lt_expect("(unless #f 'x)", "x");
  lt_expect("(begin 1 2 3)", "3");
}

/* Local bindings shadow special-form names; global redefinition is an
 * error rather than a silent change of syntax. */
static void test_special_form_names_can_be_shadowed(void **state) {
  (void)state;
  lt_expect("(define (f query) (query 2)) (f (lambda (x) (* x 10)))", "20");
  lt_expect("(define (g) (define (when x) (+ x 1)) (when 5)) (g)", "6");
  lt_expect("(let ((case list)) (case 1 2))", "(1 2)");
  lt_expect("(define (f if) (list if (cond (#f 1) (else 2)))) (f 7)", "(7 2)");
  lt_expect_error("(define (query x) x)", NSR_ERR_PARSE,
                  "define: 'query' is a special form and cannot be redefined globally");
}

static void test_quasiquote(void **state) {
  (void)state;
  lt_expect("`(1 ,(+ 1 1) ,@(list 3 4) 5)", "(1 2 3 4 5)");
  lt_expect("`(a . ,(+ 1 2))", "(a . 3)");
  lt_expect("`#(1 ,(* 2 2))", "#(1 4)");
  lt_expect("`(1 `(2 ,(3 ,(+ 1 3))))", "(1 (quasiquote (2 (unquote (3 4)))))");
  lt_expect("(quote (a b))", "(a b)");
}

/* 10^7 iterations of a tail-recursive loop (10^6 under the sanitizers,
 * which slow evaluation down tenfold): constant stack either way, since
 * a growing stack would exhaust the 64 MiB budget set here. */
static void test_tail_calls_run_in_constant_space(void **state) {
  (void)state;
  nsr_lang_config cfg;
  nsr_lang_config_default(&cfg);
  cfg.max_memory = (size_t)64 << 20;
  nsr_lang *lang = lt_new_config(&cfg);
#ifdef __SANITIZE_ADDRESS__
  const char *n = "1000000";
#else
  const char *n = "10000000";
#endif
  char src[512];
  snprintf(src, sizeof src,
           "(define (loop i acc) (if (= i 0) acc (loop (- i 1) (+ acc 1))))"
           "(define (count-down i) (cond ((= i 0) 'done) (else (count-down (- i 1)))))"
           "(list (loop %s 0) (count-down 100000)"
           "      (let lp ((i 0)) (when (< i 100000) (lp (+ i 1)))))", n);
  char expected[64];
  snprintf(expected, sizeof expected, "(%s done #<void>)", n);
  assert_string_equal(lt_eval(lang, src), expected);
  nsr_lang_free(lang);
}

static void test_deep_recursion_hits_a_budget(void **state) {
  (void)state;
  nsr_lang_config cfg;
  nsr_lang_config_default(&cfg);
  cfg.max_memory = (size_t)32 << 20;
  nsr_lang *lang = lt_new_config(&cfg);
  const char *msg = lt_eval_error(
      lang, "(define (depth n) (+ 1 (depth (+ n 1))))\n(depth 0)", NSR_ERR_LIMIT);
  assert_non_null(strstr(msg, "memory budget of 33554432 bytes exhausted (--max-memory)"));
  /* The interpreter is still usable, and a moderate recursion works. */
  assert_string_equal(
      lt_eval(lang, "(define (d n) (if (= n 0) 0 (+ 1 (d (- n 1))))) (d 10000)"), "10000");
  nsr_lang_free(lang);
}

static void test_numbers(void **state) {
  (void)state;
  lt_expect("(+ 1 2 3)", "6");
  lt_expect("(+ 1 2.0)", "3.0");
  lt_expect("(- 5)", "-5");
  lt_expect("(* 1.5 2)", "3.0");
  lt_expect("(/ 6 3)", "2");
  lt_expect("(/ 1 4)", "0.25");
  lt_expect("(/ 2)", "0.5");
  lt_expect("(quotient -7 2)", "-3");
  lt_expect("(remainder -7 2)", "-1");
  lt_expect("(modulo -7 2)", "1");
  lt_expect("(div -7 2)", "-4");
  lt_expect("(expt 2 10)", "1024");
  lt_expect("(expt 2 0.5)", "1.4142135623730951");
  lt_expect("(expt 2.0 3)", "8.0");
  lt_expect("(exact->inexact 1)", "1.0");
  lt_expect("(inexact->exact 4.0)", "4");
  lt_expect("(round 2.5)", "2.0");
  lt_expect("(round 3.5)", "4.0");
  lt_expect("(round 7)", "7");
  lt_expect("(floor -1.5)", "-2.0");
  lt_expect("(list (< 1 2 3) (< 1 3 2) (= 1 1.0) (>= 3 3 2))", "(#t #f #t #t)");
  lt_expect("(max 1 2.0)", "2.0");
  lt_expect("(min 4 2 3)", "2");
  lt_expect("(abs -3)", "3");
  lt_expect("(list (exact? 1) (inexact? 1.0) (integer? 2.0) (number? 'a))", "(#t #t #t #f)");
  lt_expect("(list (even? 4) (odd? 4) (zero? 0.0))", "(#t #f #t)");
  lt_expect("(exp 0)", "1.0");
  lt_expect("(log 1)", "0.0");
  lt_expect("(log 8 2)", "3.0");
  lt_expect("(sqrt 16)", "4.0");
  lt_expect("(number->string 3.25)", "\"3.25\"");
  lt_expect("(string->number \"12\")", "12");
  lt_expect("(/ 1.0 0)", "+inf.0");
  lt_expect("(* 4611686018427387904 -2)", "-9223372036854775808");
}

static void test_exact_integer_overflow_is_an_error(void **state) {
  (void)state;
  lt_expect_error("(+ 9223372036854775807 1)", NSR_ERR_RANGE, "+: exact integer overflow");
  lt_expect_error("(* 4294967296 4294967296)", NSR_ERR_RANGE, "*: exact integer overflow");
  lt_expect_error("(- -9223372036854775807 2)", NSR_ERR_RANGE, "-: exact integer overflow");
  lt_expect_error("(expt 3 40)", NSR_ERR_RANGE, "expt: exact integer overflow");
  lt_expect_error("(sum '(9223372036854775807 1))", NSR_ERR_RANGE, "sum: exact integer overflow");
  lt_expect_error("(/ 1 0)", NSR_ERR_INVALID, "division by exact zero");
  /* Inexact arithmetic has no such limit. */
  lt_expect("(+ 9223372036854775807 1.0)", "9.223372036854776e+18"); /* 2^63 */
}

static void test_webchurch_numbers(void **state) {
  (void)state;
  nsr_lang_config cfg;
  nsr_lang_config_default(&cfg);
  cfg.webchurch = true;
  nsr_lang *lang = lt_new_config(&cfg);
  /* JavaScript has one number type: 2.0 is 2, so these are all equal. */
  assert_string_equal(lt_eval(lang, "(list (* 0.5 4) 2.0 (equal? (* 0.5 4) 2) (/ 7 2)"
                                    "      (round 2.5) (round -2.5) (sqrt 16))"),
                      "(2 2 #t 3.5 3 -2 4)");
  /* Overflow turns inexact instead of failing: 2^63 and 2^64, printed as
   * JavaScript does, in full below 1e21 (2^64 = 18446744073709551616; its
   * shortest round-trip digits are 18446744073709552). */
  assert_string_equal(lt_eval(lang, "(list (+ 9223372036854775807 1) (expt 2 64))"),
                      "(9223372036854776000 18446744073709552000)");
  nsr_lang_free(lang);
}

static void test_lists(void **state) {
  (void)state;
  lt_expect("(cons 1 2)", "(1 . 2)");
  lt_expect("(pair 1 '())", "(1)");
  lt_expect("(list (first '(1 2 3)) (rest '(1 2 3)) (second '(1 2 3)) (third '(1 2 3)))",
            "(1 (2 3) 2 3)");
  lt_expect("(tenth (iota 10))", "9");
  lt_expect("(list-ref '(a b c) 2)", "c");
  lt_expect("(length '(1 2 3))", "3");
  lt_expect("(append '(1) '(2 3) '() '(4))", "(1 2 3 4)");
  lt_expect("(reverse '(1 2 3))", "(3 2 1)");
  lt_expect("(make-list 3 'x)", "(x x x)");
  lt_expect("(iota 4)", "(0 1 2 3)");
  lt_expect("(iota 3 1)", "(1 2 3)");
  lt_expect("(iota 3 0 0.5)", "(0.0 0.5 1.0)");
  lt_expect("(range 2 5)", "(2 3 4 5)");
  lt_expect("(member 2 '(1 2 3))", "(2 3)");
  lt_expect("(member 9 '(1 2 3))", "#f");
  lt_expect("(assoc \"b\" '((\"a\" . 1) (\"b\" . 2)))", "(\"b\" . 2)");
  lt_expect("(list (null? '()) (list? '(1)) (pair? '()) (list? '(1 . 2)))", "(#t #t #f #f)");
  lt_expect("(list (sum '(1 2 3)) (product '(2 3 4)) (mean '(1 2 3 4)))", "(6 24 2.5)");
  lt_expect("(update-list '(a b c) 1 'z)", "(a z c)");
  lt_expect("(zip '(1 2 3) '(a b))", "((1 a) (2 b))");
  lt_expect("(list (take '(1 2 3) 2) (drop '(1 2 3) 2) (last '(1 2 3)))", "((1 2) (3) 3)");
  lt_expect("(unique '(1 2 1 3 2))", "(1 2 3)");
  lt_expect("(list true false (soft-equal 1.05 1 0.1) (variance '(1 3)) (but-last '(1 2 3)))",
            "(#t #f #t 1.0 (1 2))");
  lt_expect("(list (all '(#t #t)) (any '(#f #t)) (all '()) (any '()))", "(#t #t #t #f)");
  lt_expect("(map + '(1 2 3) '(10 20 30))", "(11 22 33)");
  lt_expect("(map (lambda (x) (* x x)) '(1 2 3))", "(1 4 9)");
  lt_expect("(filter even? (iota 7))", "(0 2 4 6)");
  lt_expect("(fold + 0 '(1 2 3))", "6");
  lt_expect("(fold cons '() '(1 2 3))", "(3 2 1)");
  lt_expect("(foldl - 0 '(1 2 3))", "-6");
  lt_expect("(foldr - 0 '(1 2 3))", "2");
  lt_expect("(reduce + 0 '(1 2 3 4))", "10");
  lt_expect("(repeat 3 (lambda () 'a))", "(a a a)");
  lt_expect("(apply + 1 2 '(3 4))", "10");
  lt_expect("(apply max '(3 9 2))", "9");
  lt_expect("(sort '(3 1 2))", "(1 2 3)");
  lt_expect("(sort '(3 1 2) >)", "(3 2 1)");
  lt_expect("(sort '(3 1 2) (lambda (a b) (- a b)))", "(1 2 3)");
  lt_expect("(list (equal? '(1 (2 #(3))) '(1 (2 #(3)))) (eq? '(1) '(1)) (eqv? 2 2))",
            "(#t #f #t)");
  lt_expect("(vector-ref (vector 1 2 3) 1)", "2");
  lt_expect("(vector->list (list->vector '(1 2)))", "(1 2)");
  lt_expect("(define h (make-hash-table)) (hash-table-set! h '(1 2) 'x)"
            "(list (hash-table-ref h (list 1 2)) (hash-table-ref h 'missing 0))", "(x 0)");
  lt_expect_error("(list-ref '(1 2) 5)", NSR_ERR_INVALID, "list-ref: index 5 is past the end");
  lt_expect_error("(length 5)", NSR_ERR_INVALID, "length: expected a list as argument 1, got 5");
}

/* Data nested 300000 levels deep in the car direction (far past what C
 * recursion survives): equality, hashing (mem) and printing must not use C
 * stack per level. */
static void test_deep_data_takes_no_c_stack(void **state) {
  (void)state;
  lt_expect("(define (nest n) (fold (lambda (x acc) (list acc)) '() (iota n)))"
            "(define a (nest 300000))"
            "(define m (mem (lambda (x) 'cached)))"
            "(list (equal? a (nest 300000)) (equal? a (nest 299999)) (m a) (m (nest 300000))"
            "      (string-length (stringify a)))",
            /* printing stops at depth 1000: 1001 "(", "...", 1001 ")" */
            "(#t #f cached cached 2005)");
}

/* A mem'd procedure answers from its cache exactly when its arguments are
 * equal? to an earlier call's: the cache is searched from the arguments on
 * the stack, whose hash and comparison must agree with those of the key
 * lists it stores (also past the 256 nodes a hash looks at). The count of
 * distinct argument lists below is worked by hand. */
static void test_mem_answers_equal_arguments_from_its_cache(void **state) {
  (void)state;
  lt_expect("(define calls 0)"
            "(define f (mem (lambda args (set! calls (+ calls 1)) calls)))"
            "(f) (f) (f 1) (f 1) (f 1.5) (f 1.5) (f \"s\") (f (string-append \"s\" \"\"))"
            "(f 'a '(1 (2 #t))) (f 'a (list 1 (list 2 #t)))"
            "(f 1 2) (f 2 1) (f 1 2) (f '(1 2)) (f (vector 1 2)) (f (vector 1 2))"
            "(f (iota 300)) (f (iota 300)) (apply f (iota 300)) (apply f (iota 300))"
            "(apply f (iota 301)) (apply f (append (iota 299) '(7)))"
            "(list calls (f 1 2) (f 2 1) (apply f (iota 300)))",
            "(13 6 7 11)");
}

static void test_strings_and_output(void **state) {
  (void)state;
  lt_expect("(string-append \"ab\" \"cd\")", "\"abcd\"");
  lt_expect("(string-length \"hello\")", "5");
  lt_expect("(substring \"hello\" 1 3)", "\"el\"");
  lt_expect("(symbol->string 'abc)", "\"abc\"");
  lt_expect("(string->symbol \"q\")", "q");
  lt_expect("(list (string=? \"a\" \"a\") (string<? \"a\" \"b\"))", "(#t #t)");
  nsr_lang *lang = lt_new(1);
  lt_eval(lang, "(display \"x =\" 3) (write-string \"a\" 'b) (newline) (write \"q\")");
  assert_string_equal(nsr_lang_output(lang, NULL), "x =\n3\nab\n\"q\"");
  nsr_lang_output_clear(lang);
  lt_eval(lang, "(hist '(a b a a))");
  assert_string_equal(nsr_lang_output(lang, NULL),
                      "hist\n  4 samples\n  a  ######################################## 0.75\n"
                      "  b  ############# 0.25\n");
  nsr_lang_free(lang);
  lt_expect_error("(error \"bad thing:\" 42)", NSR_ERR_INVALID, "error: bad thing: 42");
}

static void test_step_budget(void **state) {
  (void)state;
  nsr_lang_config cfg;
  nsr_lang_config_default(&cfg);
  cfg.max_steps = 100000;
  nsr_lang *lang = lt_new_config(&cfg);
  const char *msg = lt_eval_error(lang, "(define (spin) (spin))\n(spin)", NSR_ERR_LIMIT);
  assert_non_null(strstr(msg, "step budget of 100000 steps exhausted (--max-steps)"));
  /* Budgets are per evaluation: the next one starts afresh. */
  assert_string_equal(lt_eval(lang, "(+ 1 1)"), "2");
  nsr_lang_free(lang);
}

static void test_memory_budget(void **state) {
  (void)state;
  nsr_lang_config cfg;
  nsr_lang_config_default(&cfg);
  cfg.max_memory = (size_t)16 << 20;
  nsr_lang *lang = lt_new_config(&cfg);
  const char *msg = lt_eval_error(lang, "(define big (make-list 10000000 0))", NSR_ERR_LIMIT);
  assert_non_null(strstr(msg, "memory budget of 16777216 bytes exhausted (--max-memory)"));
  /* Garbage is collected: building and dropping many small lists within
   * the budget works. */
  assert_string_equal(
      lt_eval(lang, "(define (churn i) (if (= i 0) 'ok (begin (make-list 1000 i) (churn (- i 1)))))"
                    "(churn 5000)"),
      "ok");
  /* Kept output counts too: printing forever exhausts the budget. */
  msg = lt_eval_error(lang, "(define (chatter) (display \"0123456789\") (chatter)) (chatter)",
                      NSR_ERR_LIMIT);
  assert_non_null(strstr(msg, "memory budget of 16777216 bytes exhausted"));
  nsr_lang_output_clear(lang);
  /* So does a query's bookkeeping: an MH trace of a million choices made
   * by a loop that keeps no data. */
  msg = lt_eval_error(lang, "(define (flips n) (if (= n 0) 0 (begin (flip) (flips (- n 1)))))"
                            "(mh-query 1 1 (flips 1000000) #t)",
                      NSR_ERR_LIMIT);
  assert_non_null(strstr(msg, "memory budget of 16777216 bytes exhausted"));
  nsr_lang_free(lang);
}

/* Small objects live in blocks of one size class each: blocks a dropped
 * structure leaves empty must serve other sizes, or a program that builds
 * one kind of data and then another would run out of a budget that holds
 * either. 150,000 pairs take 10.8 MB (72 bytes each; 12 MB when each was
 * its own malloc); 100,000 strings of 40 characters 8 MB (80 bytes each)
 * and their vector 1.6 MB; both at once do not fit 16 MiB. */
static void test_emptied_blocks_serve_other_sizes(void **state) {
  (void)state;
  nsr_lang_config cfg;
  nsr_lang_config_default(&cfg);
  cfg.max_memory = (size_t)16 << 20;
  nsr_lang *lang = lt_new_config(&cfg);
  const char *strings =
      "(define v (make-vector 100000 0))"
      "(define (fill i)"
      "  (when (< i 100000)"
      "    (vector-set! v i (string-append \"0123456789012345678901234567890123456789\" \"\"))"
      "    (fill (+ i 1))))"
      "(fill 0)"
      "(string-length (vector-ref v 99999))";
  /* Built by the evaluator, not by one primitive: collections run only
   * at the evaluator's safe points. */
  assert_string_equal(lt_eval(lang, "(define (build n acc) (if (= n 0) acc (build (- n 1) (cons n acc))))"
                                    "(quote ok)"),
                      "ok");
  for (int round = 0; round < 2; round++) {
    assert_string_equal(lt_eval(lang, "(define big (build 150000 '())) (length big)"), "150000");
    assert_string_equal(lt_eval(lang, "(set! big 0) (quote dropped)"), "dropped");
    assert_string_equal(lt_eval(lang, strings), "40");
    assert_string_equal(lt_eval(lang, "(set! v 0) (quote dropped)"), "dropped");
  }
  nsr_lang_free(lang);
}

static void test_time_budget(void **state) {
  (void)state;
  nsr_lang_config cfg;
  nsr_lang_config_default(&cfg);
  cfg.timeout_seconds = 0.2;
  nsr_lang *lang = lt_new_config(&cfg);
  const char *msg = lt_eval_error(lang, "(define (spin) (spin)) (spin)", NSR_ERR_LIMIT);
  assert_non_null(strstr(msg, "time budget of 0.2 seconds exhausted (--max-time)"));
  nsr_lang_free(lang);
}

/* Collecting at every step must not change any answer. */
static void test_gc_stress(void **state) {
  (void)state;
  nsr_lang_config cfg;
  nsr_lang_config_default(&cfg);
  cfg.gc_stress = true;
  nsr_lang *lang = lt_new_config(&cfg);
  assert_string_equal(
      lt_eval(lang, "(define (build n) (if (= n 0) '() (cons (list n (* n n)) (build (- n 1)))))"
                    "(define m (mem (lambda (k) (make-list k k))))"
                    "(list (length (build 200)) (m 3) (m 3) (map (lambda (p) (second p)) (build 3))"
                    "      `(1 ,@(m 2)))"),
      "(200 (3 3 3) (3 3 3) (9 4 1) (1 2 2))");
  /* Three equally likely worlds satisfy the condition: 1/3 each. */
  assert_string_equal(
      lt_eval(lang, "(define d (enumeration-query (define a (flip)) (define b (flip))"
                    "                             (list a b) (or a b)))"
                    "(list (first d) (map (lambda (p) (< (abs (- p (/ 1 3))) 1e-12)) (second d)))"),
      "(((#t #t) (#t #f) (#f #t)) (#t #t #t))");
  /* Nested queries, mem inside a model, and MH traces under collection at
   * every step: the scalar implicature answer (1/9 for all three red;
   * see test_lang_programs.c) and a short MH chain that must run. */
  assert_string_equal(
      lt_eval(lang, "(define (meaning u s) (case u ((none) (= s 0)) ((some) (> s 0)) ((all) (= s 3))))"
                    "(define (l0 u) (enumeration-query (define s (uniform-draw '(0 1 2 3))) s (meaning u s)))"
                    "(define (s1 s) (enumeration-query (define u (uniform-draw '(some all))) u"
                    "  (let ((d (l0 u))) (equal? s (multinomial (first d) (second d))))))"
                    "(define l1 (enumeration-query (define s (uniform-draw '(1 2 3))) s"
                    "  (let ((d (s1 s))) (eq? 'some (multinomial (first d) (second d))))))"
                    "(< (abs (- (third (second l1)) (/ 1 9))) 1e-12)"),
      "#t");
  assert_string_equal(
      lt_eval(lang, "(length (mh-query 20 2 (define f (mem (lambda (i) (gaussian))))"
                    "  (list (f 1) (f 2)) (> (+ (f 1) (f 1)) -100)))"),
      "20");
  nsr_lang_free(lang);
}

static void test_two_interpreters_side_by_side(void **state) {
  (void)state;
  nsr_lang *a = lt_new(1), *b = lt_new(1);
  lt_eval(a, "(define x 'from-a)");
  lt_eval(b, "(define x 'from-b)");
  assert_string_equal(lt_eval(a, "x"), "from-a");
  assert_string_equal(lt_eval(b, "x"), "from-b");
  /* Same seed, same stream, independent of the other interpreter. */
  char first[256];
  snprintf(first, sizeof first, "%s", lt_eval(a, "(repeat 10 flip)"));
  assert_string_equal(lt_eval(b, "(repeat 10 flip)"), first);
  nsr_lang_free(a);
  nsr_lang_free(b);
}

static nsr_code c_hypot(nsr_lang *lang, void *user, const nsr_lang_value *args, int nargs,
                        nsr_lang_value *out, nsr_error *err) {
  (void)lang, (void)nargs;
  int *calls = user;
  (*calls)++;
  double x, y;
  if (!nsr_lang_to_double(args[0], &x) || !nsr_lang_to_double(args[1], &y)) {
    return nsr_fail(err, NSR_ERR_INVALID, "expected two numbers");
  }
  *out = nsr_lang_real(x * x + y * y);
  return NSR_OK;
}

static void test_embedding_api(void **state) {
  (void)state;
  nsr_lang *lang = lt_new(1);
  int calls = 0;
  nsr_error err;
  assert_int_equal(nsr_lang_define_primitive(lang, "sumsq", 2, 2, c_hypot, &calls, &err), NSR_OK);
  assert_string_equal(lt_eval(lang, "(map sumsq '(1 2) '(3 4))"), "(10.0 20.0)");
  assert_int_equal(calls, 2);
  const char *msg = lt_eval_error(lang, "(sumsq 1\n 'a)", NSR_ERR_INVALID);
  assert_string_equal(msg, "test.church:1:1: sumsq: expected two numbers");
  lt_eval(lang, "(list 1 \"two\" 'three 4.5)");
  nsr_lang_value v = nsr_lang_result(lang);
  assert_int_equal(nsr_lang_length(v), 4);
  assert_string_equal(nsr_lang_to_string(nsr_lang_ref(v, 1)), "two");
  assert_string_equal(nsr_lang_to_string(nsr_lang_ref(v, 2)), "three");
  double d;
  assert_true(nsr_lang_to_double(nsr_lang_ref(v, 3), &d));
  assert_true(d == 4.5);
  char *json;
  assert_int_equal(nsr_lang_to_json(lang, v, &json, &err), NSR_OK);
  assert_string_equal(json, "[1,\"two\",\"three\",4.5]");
  nsr_free(json);
  lt_eval(lang, "(list #t '() (vector 1 2) (/ 1.0 0) (- (/ 1.0 0)) 0.1 (/ 1.0 3) 1e20 100.0)");
  assert_int_equal(nsr_lang_to_json(lang, nsr_lang_result(lang), &json, &err), NSR_OK);
  assert_string_equal(json, "[true,[],[1,2],\"Infinity\",\"-Infinity\",0.1,0.3333333333333333,1e20,100.0]");
  nsr_free(json);
  nsr_lang_free(lang);
}

/* Every allocation failure on the way must give an error, not a crash or
 * a leak (the sanitizer build checks the leaks). */
static void test_allocation_failures(void **state) {
  (void)state;
  nsr_lang_config cfg;
  nsr_lang_config_default(&cfg);
  for (uint64_t n = 1; n < 4000; n += 37) {
    nsr_lang *lang = NULL;
    nsr_error err;
    nsr_alloc_fail_after(n);
    nsr_code code = nsr_lang_new(&cfg, &lang, &err);
    if (code == NSR_OK) {
      const char *src = "(define (f n) (if (= n 0) '() (cons n (f (- n 1))))) (f 50)";
      code = nsr_lang_eval_string(lang, "t", src, strlen(src), &err);
    }
    nsr_alloc_fail_reset();
    assert_true(code == NSR_OK || code == NSR_ERR_NOMEM);
    nsr_lang_free(lang);
  }
}

/* A host's interrupt flag (nsr repl's Ctrl-C) stops any evaluation, even
 * one with no step or time budget, within 1024 steps; the interpreter and
 * its definitions stay. */
static void test_interrupt_flag(void **state) {
  (void)state;
  static volatile sig_atomic_t flag;
  nsr_lang_config cfg;
  nsr_lang_config_default(&cfg);
  cfg.max_steps = 0;
  cfg.timeout_seconds = 0;
  cfg.interrupt = &flag;
  nsr_lang *lang = lt_new_config(&cfg);
  lt_eval(lang, "(define x 41) (define (spin n) (if (= n 0) 'done (spin (- n 1))))");
  flag = 1;
  static const char *const forms[] = {
      "(spin 1000000000000)",
      /* a query whose condition never holds, and a primitive's own loop */
      "(rejection-query (define a (flip)) a (and a (not a)))",
      "(length (make-list 100000000 0))",
  };
  for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
    const char *msg = lt_eval_error(lang, forms[i], NSR_ERR_LIMIT);
    if (strstr(msg, "interrupted") == NULL) fail_msg("%s: %s", forms[i], msg);
  }
  flag = 0;
  assert_string_equal(lt_eval(lang, "(list x (spin 3))"), "(41 done)");
  nsr_lang_free(lang);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_define_and_lambda),
      cmocka_unit_test(test_variables_resolve_to_their_binding),
      cmocka_unit_test(test_library_names_behave_as_predefined),
      cmocka_unit_test(test_calls_applied_in_place_behave_as_applied),
      cmocka_unit_test(test_let_family),
      cmocka_unit_test(test_conditionals),
      cmocka_unit_test(test_special_form_names_can_be_shadowed),
      cmocka_unit_test(test_quasiquote),
      cmocka_unit_test(test_tail_calls_run_in_constant_space),
      cmocka_unit_test(test_deep_recursion_hits_a_budget),
      cmocka_unit_test(test_numbers),
      cmocka_unit_test(test_exact_integer_overflow_is_an_error),
      cmocka_unit_test(test_webchurch_numbers),
      cmocka_unit_test(test_lists),
      cmocka_unit_test(test_deep_data_takes_no_c_stack),
      cmocka_unit_test(test_mem_answers_equal_arguments_from_its_cache),
      cmocka_unit_test(test_strings_and_output),
      cmocka_unit_test(test_step_budget),
      cmocka_unit_test(test_memory_budget),
      cmocka_unit_test(test_emptied_blocks_serve_other_sizes),
      cmocka_unit_test(test_time_budget),
      cmocka_unit_test(test_gc_stress),
      cmocka_unit_test(test_two_interpreters_side_by_side),
      cmocka_unit_test(test_embedding_api),
      cmocka_unit_test(test_allocation_failures),
      cmocka_unit_test(test_interrupt_flag),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
