/* lang_test.h: helpers shared by the Church interpreter's cmocka suites. */
#ifndef NSR_LANG_TEST_H
#define NSR_LANG_TEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "nsr_lang.h"

/* A fresh interpreter with default budgets and the given seed. */
nsr_lang *lt_new(uint64_t seed);
/* A fresh interpreter with the configuration cfg (failing the test when it
 * cannot be made). */
nsr_lang *lt_new_config(const nsr_lang_config *cfg);
/* Evaluates src (named "test.church"), failing the test on an error, and
 * returns the result as `write` prints it (a static buffer). */
const char *lt_eval(nsr_lang *lang, const char *src);
/* Same with the result as a number. */
double lt_eval_number(nsr_lang *lang, const char *src);
/* In a fresh interpreter: src's result must print as `expected`. */
void lt_expect(const char *src, const char *expected);
/* In a fresh interpreter: src must fail with `code` and a message that
 * contains `fragment`. */
void lt_expect_error(const char *src, nsr_code code, const char *fragment);
/* Evaluates src in lang expecting failure; returns the message. */
const char *lt_eval_error(nsr_lang *lang, const char *src, nsr_code code);
/* The fewest evaluation steps src runs in under cfg (bisection on the step
 * budget, each try in a fresh interpreter; steps do not depend on the
 * machine). Fails the test when src fails other than on the budget or
 * needs 2^24 steps or more. */
uint64_t lt_steps_needed(const nsr_lang_config *cfg, const char *src);

#endif
