/* test_lang_programs.c: the example programs in programs/ give the answers
 * derived independently: by hand (noted in place) or by the same model in
 * WebPPL 0.9.15 (tests/symbolic/lang/peers/NAME.wppl, run with
 * `webppl NAME.wppl`; enumeration there is exact, so those numbers are
 * matched to 1e-9). Sampling programs get a tolerance of several standard
 * errors of their estimate. */
#include "lang_test.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

typedef struct program_case {
  const char *file;
  int n;             /* numbers in the value: a number, or a list of them */
  double want[4];
  double tol;
} program_case;

static const program_case programs[] = {
    /* peers/medical_diagnosis.wppl */
    {"medical_diagnosis.church", 2, {0.034930792140738, 0.9439131990816508}, 1e-9},
    /* peers/explaining_away.wppl */
    {"explaining_away.church", 3, {0.1, 0.4405621404578975, 0.150146957663686}, 1e-9},
    /* peers/bent_coin.wppl; by hand: posterior ∝ w^7 (1-w)^3 over the five
     * weights */
    {"bent_coin.church", 2, {0.6654450331522808, 0.5923960823362117}, 1e-9},
    /* by hand: Beta(1+7, 1+3) has mean 8/12; MH estimate, 4000 samples */
    {"coin_weight_learning.church", 1, {8.0 / 12.0}, 0.03},
    /* by hand: (1/3)^3 / ((1/3)^3 + (1/6)^3) = 8/9; d is outside {a b c} */
    {"occams_razor.church", 2, {8.0 / 9.0, 0.0}, 1e-9},
    /* peers/blicket_detector.wppl */
    {"blicket_detector.church", 2, {0.8205753713353638, 0.11514644109877731}, 1e-9},
    /* peers/bags_of_marbles.wppl */
    {"bags_of_marbles.church", 2, {0.7450741322456866, 0.5597907727351275}, 1e-9},
    /* by hand: L0(s | some) = 1/3 on 1..3; S1(some | 1) = S1(some | 2) = 1,
     * S1(some | 3) = (1/3) / (1 + 1/3) = 1/4; L1 ∝ 1, 1, 1/4 */
    {"scalar_implicature.church", 4, {0.0, 4.0 / 9.0, 4.0 / 9.0, 1.0 / 9.0}, 1e-9},
    /* peers/hidden_markov_model.wppl */
    {"hidden_markov_model.church", 1, {0.19066793972352514}, 1e-9},
    /* peers/tug_of_war.wppl (rejection, 200000 samples, SE 0.002); MH
     * estimate here, 10000 samples 10 apart (its spread across seeds is
     * about 0.02) */
    {"tug_of_war.church", 1, {0.6726914339213689}, 0.06},
};

static void test_programs(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof programs / sizeof programs[0]; i++) {
    const program_case *pc = &programs[i];
    nsr_lang *lang = lt_new(1);
    nsr_error err;
    char path[512];
    snprintf(path, sizeof path, "%s/%s", NSR_PROGRAMS_DIR, pc->file);
    if (nsr_lang_eval_file(lang, path, &err) != NSR_OK) fail_msg("%s: %s", pc->file, err.message);
    nsr_lang_value v = nsr_lang_result(lang);
    for (int k = 0; k < pc->n; k++) {
      double got;
      nsr_lang_value item = pc->n == 1 && nsr_lang_length(v) < 0 ? v : nsr_lang_ref(v, k);
      if (!nsr_lang_to_double(item, &got)) fail_msg("%s: item %d is not a number", pc->file, k);
      if (fabs(got - pc->want[k]) > pc->tol) {
        fail_msg("%s: item %d = %.17g, expected %.17g ± %g", pc->file, k, got, pc->want[k],
                 pc->tol);
      }
    }
    nsr_lang_free(lang);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_programs),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
