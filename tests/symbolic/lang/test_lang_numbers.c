/* test_lang_numbers.c: programs/number_game.church, Tenenbaum's number
 * game written in Church, must agree with the C concept engine
 * (symbolic/numbers_*, `nsr numbers`, written independently) to 1e-9 on
 * the generalization curve and the top posteriors, for many example
 * sets. */
#include "lang_test.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nsr_symbolic.h"

static const char *const example_sets[] = {
    "16", "16 8 2 64", "60", "60 80 10 30", "81 25 4 36", "3 9 27", "17",
    "50 51 52", "99", "1", "2 4", "7 14 21 49", "13 17 19", "90 95 100",
    "64", "10 20", "33 66 99", "5 25",
};

#ifdef __SANITIZE_ADDRESS__
#define SETS 4
#else
#define SETS (sizeof example_sets / sizeof example_sets[0])
#endif

/* Runs the program with the examples as command-line arguments. */
static void run_program(nsr_lang *lang, const char *examples) {
  nsr_error err;
  nsr_lang_value items[8];
  size_t n = 0;
  char copy[64];
  snprintf(copy, sizeof copy, "%s", examples);
  for (char *tok = strtok(copy, " "); tok != NULL; tok = strtok(NULL, " ")) {
    assert_int_equal(nsr_lang_string(lang, tok, strlen(tok), &items[n++], &err), NSR_OK);
  }
  nsr_lang_value args;
  assert_int_equal(nsr_lang_list(lang, items, n, &args, &err), NSR_OK);
  assert_int_equal(nsr_lang_define(lang, "command-line-arguments", args, &err), NSR_OK);
  if (nsr_lang_eval_file(lang, NSR_PROGRAMS_DIR "/number_game.church", &err) != NSR_OK) {
    fail_msg("number_game.church: %s", err.message);
  }
}

static void test_number_game_matches_the_concept_engine(void **state) {
  (void)state;
  nsr_numbers_config cfg;
  nsr_numbers_config_default(&cfg); /* N = 100, pmtk3 prior, sigma = 10 */
  nsr_numbers *engine;
  nsr_error err;
  assert_int_equal(nsr_numbers_new(&cfg, &engine, &err), NSR_OK);
  nsr_numbers_result res;
  memset(&res, 0, sizeof res);
  for (size_t s = 0; s < SETS; s++) {
    uint32_t xs[8];
    size_t n = 0;
    char copy[64];
    snprintf(copy, sizeof copy, "%s", example_sets[s]);
    for (char *tok = strtok(copy, " "); tok != NULL; tok = strtok(NULL, " ")) {
      xs[n++] = (uint32_t)atoi(tok);
    }
    assert_int_equal(nsr_numbers_infer(engine, xs, n, 5, &res, &err), NSR_OK);

    nsr_lang *lang = lt_new(1);
    run_program(lang, example_sets[s]);
    nsr_lang_value result = nsr_lang_result(lang);
    nsr_lang_value top = nsr_lang_ref(result, 0), gen = nsr_lang_ref(result, 1);
    assert_int_equal(nsr_lang_length(gen), 100);
    for (int y = 1; y <= 100; y++) {
      double p;
      assert_true(nsr_lang_to_double(nsr_lang_ref(gen, y - 1), &p));
      if (fabs(p - res.generalization[y - 1]) > 1e-9) {
        fail_msg("X = {%s}: p(%d in C) = %.12g in Church, %.12g in C", example_sets[s], y, p,
                 res.generalization[y - 1]);
      }
    }
    for (size_t k = 0; k < res.n_top && k < 5; k++) {
      double p;
      assert_true(nsr_lang_to_double(nsr_lang_ref(nsr_lang_ref(top, (int64_t)k), 1), &p));
      if (fabs(p - res.top[k].posterior) > 1e-9) {
        fail_msg("X = {%s}: posterior #%zu %.12g in Church, %.12g in C", example_sets[s], k + 1,
                 p, res.top[k].posterior);
      }
    }
    char name[NSR_NUMBERS_NAME_MAX];
    nsr_numbers_hypothesis_name(&res.top[0], name, sizeof name);
    assert_string_equal(nsr_lang_to_string(nsr_lang_ref(nsr_lang_ref(top, 0), 0)), name);
    nsr_lang_free(lang);
  }
  nsr_numbers_result_free(&res);
  nsr_numbers_free(engine);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_number_game_matches_the_concept_engine),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
