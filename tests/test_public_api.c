/* test_public_api.c: a program that uses only <nsr.h> and links the shared
 * libnsr, as an installed user would: the public header is self-contained
 * and the library exports what it declares. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <nsr.h>

static void test_number_game_through_the_shared_library(void **state) {
  (void)state;
  nsr_numbers_config cfg;
  nsr_numbers_config_default(&cfg);
  nsr_numbers *engine;
  nsr_error err;
  assert_int_equal(nsr_numbers_new(&cfg, &engine, &err), NSR_OK);
  const uint32_t x[] = {16, 8, 2, 64};
  nsr_numbers_result result = {0};
  assert_int_equal(nsr_numbers_infer(engine, x, 4, 3, &result, &err), NSR_OK);
  char name[NSR_NUMBERS_NAME_MAX];
  nsr_numbers_hypothesis_name(&result.top[0], name, sizeof name);
  assert_string_equal(name, "powers of 2");
  assert_true(result.generalization[31] > 0.9999); /* y = 32 */
  nsr_numbers_result_free(&result);
  nsr_numbers_free(engine);
  assert_non_null(nsr_version());
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_number_game_through_the_shared_library),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
