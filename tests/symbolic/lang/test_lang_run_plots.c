/* test_lang_run_plots.c: `nsr run --plot-dir` and `nsr repl --plot-dir`
 * through the real binary: files in call order, the JSON list, the
 * directory made when missing, an unusable one refused before the program
 * runs (exit 2), and the text summaries without the option. */
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "cli_runner.h"

static const char program[] =
    "(hist (repeat 100 flip) \"flips\") (display \"between\") "
    "(density (repeat 200 (lambda () (gaussian 0 1))) \"g\") "
    "(scatter (list '(1 2) '(2 3)))";

static bool exists(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0;
}

static void test_json_lists_files_in_call_order(void **state) {
  (void)state;
  char dir[512], path[600];
  snprintf(dir, sizeof dir, "%s/figs/deeper", cli_workdir); /* made, parents too */
  run_result r = RUN("run", "--plot-dir", dir, "--json", "-e", program);
  assert_int_equal(r.status, 0);
  json_t *j = parse_json(r.out);
  assert_string_equal(json_string_value(json_object_get(j, "output")), "between\n");
  json_t *plots = json_object_get(j, "plots");
  assert_int_equal(json_array_size(plots), 3);
  const char *kinds[] = {"hist", "density", "scatter"};
  for (size_t i = 0; i < 3; i++) {
    snprintf(path, sizeof path, "%s/plot-%03zu-%s.svg", dir, i + 1, kinds[i]);
    assert_string_equal(json_string_value(json_array_get(plots, i)), path);
    assert_true(exists(path));
  }
  json_decref(j);
  run_free(&r);
}

static void test_plain_output_and_summaries(void **state) {
  (void)state;
  char dir[512], path[600];
  snprintf(dir, sizeof dir, "%s/plain", cli_workdir);
  run_result r = RUN("run", "--plot-dir", dir, "-e", program);
  assert_int_equal(r.status, 0);
  assert_string_equal(r.out, "between\n"); /* figures go to files only */
  snprintf(path, sizeof path, "%s/plot-003-scatter.svg", dir);
  assert_true(exists(path));
  run_free(&r);
  /* Without the option: the text summaries, and no "plots" in JSON. */
  EXPECT_RUN_ALL(RUN("run", "-e", program), 0, "hist: flips\n  100 samples\n  #f  ",
                 "between\ndensity: g\n  200 samples", "scatter\n  2 points");
  r = RUN("run", "--json", "-e", "(hist '(1))");
  assert_int_equal(r.status, 0);
  assert_null(strstr(r.out, "\"plots\""));
  run_free(&r);
}

static void test_repl_numbers_on(void **state) {
  (void)state;
  char dir[512], path[600];
  snprintf(dir, sizeof dir, "%s/repl", cli_workdir);
  run_result r = run_to("(hist '(1 2))\n(barplot '((a b) (0.5 0.5)))\n", NULL,
                        (const char *const[]){"repl", "--plot-dir", dir, NULL});
  assert_int_equal(r.status, 0);
  snprintf(path, sizeof path, "%s/plot-001-hist.svg", dir);
  assert_true(exists(path));
  snprintf(path, sizeof path, "%s/plot-002-barplot.svg", dir);
  assert_true(exists(path));
  run_free(&r);
}

static void test_unusable_directories(void **state) {
  (void)state;
  const char *file = cli_write("a-file", "x");
  char below[600];
  snprintf(below, sizeof below, "%s/sub", file);
  expect_usage_error(RUN("run", "--plot-dir", file, "-e", "1"), "--plot-dir");
  expect_usage_error(RUN("run", "--plot-dir", below, "-e", "1"), "--plot-dir: cannot make");
  expect_usage_error(RUN("repl", "--plot-dir", below), "--plot-dir: cannot make");
  expect_usage_error(RUN("run", "--plot-dir", "", "-e", "1"), "--plot-dir");
  expect_usage_error(RUN("run", "--plot-dir"), "--plot-dir");
  /* A figure's bad argument is the program's error: one line, exit 2. */
  run_result r = RUN("run", "--plot-dir", cli_workdir, "-e", "(hist 5)");
  assert_int_equal(r.status, 2);
  assert_non_null(strstr(r.err, "nsr run: <expr>:1:1: hist: expected a list"));
  run_free(&r);
}

int main(int argc, char **argv) {
  if (argc < 2 || cli_runner_init(argv[1]) != 0) return 1;
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_json_lists_files_in_call_order),
      cmocka_unit_test(test_plain_output_and_summaries),
      cmocka_unit_test(test_repl_numbers_on),
      cmocka_unit_test(test_unusable_directories),
  };
  return cli_runner_finish(cmocka_run_group_tests(tests, NULL, NULL));
}
