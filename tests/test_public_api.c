/* test_public_api.c: a program that uses only <nsr.h> and links the shared
 * libnsr, as an installed user would: the public header is self-contained
 * and the library exports what it declares. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

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

/* The bridge's declarations reach a user through nsr.h too: the concept
 * library (nsr_extract.h), verified by the interpreter (nsr_lang.h), and
 * the rule store (nsr_store.h) on a real file. */
static void test_bridge_through_the_shared_library(void **state) {
  (void)state;
  nsr_numbers_config cfg;
  nsr_numbers_config_default(&cfg);
  cfg.max = 20;
  nsr_numbers *engine;
  nsr_error err;
  assert_int_equal(nsr_numbers_new(&cfg, &engine, &err), NSR_OK);
  nsr_concept_library lib;
  assert_int_equal(nsr_concept_library_build(engine, &lib, &err), NSR_OK);
  assert_true(lib.n > 10);
  nsr_lang_config lcfg;
  nsr_lang_config_default(&lcfg);
  nsr_lang *lang;
  assert_int_equal(nsr_lang_new(&lcfg, &lang, &err), NSR_OK);
  assert_int_equal(nsr_concept_library_verify(&lib, lang, &err), NSR_OK);
  nsr_lang_free(lang);
  nsr_concept_library_free(&lib);
  nsr_numbers_free(engine);

  char dir[] = "/tmp/nsr-public-api-XXXXXX", path[64];
  assert_non_null(mkdtemp(dir));
  snprintf(path, sizeof path, "%s/nsr.db", dir);
  nsr_store *store;
  assert_int_equal(nsr_store_open(path, &store, &err), NSR_OK);
  nsr_store_close(store);
  assert_int_equal(unlink(path), 0);
  char wal[80];
  snprintf(wal, sizeof wal, "%s-wal", path);
  unlink(wal);
  snprintf(wal, sizeof wal, "%s-shm", path);
  unlink(wal);
  assert_int_equal(rmdir(dir), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_number_game_through_the_shared_library),
      cmocka_unit_test(test_bridge_through_the_shared_library),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
