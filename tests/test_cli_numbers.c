/* test_cli_numbers.c: the `nsr` command as a user runs it: a real process,
 * real files, exit statuses and messages, JSON parsed back with jansson.
 * The path of the nsr binary is the first argument. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli_runner.h"

static void test_text_report(void **state) {
  (void)state;
  run_result r = RUN("numbers", "16", "8", "2", "64");
  assert_int_equal(r.status, 0);
  assert_non_null(strstr(r.out, "powers of 2"));
  assert_non_null(strstr(r.out, "0.999792"));
  assert_non_null(strstr(r.out, "p(y in C | X), y = 1..100"));
  assert_string_equal(r.err, "");
  run_free(&r);
  expect_run(RUN("numbers", "--ascii", "16,8,2,64"), 0, "#");
}

static void test_json_shape(void **state) {
  (void)state;
  run_result r = RUN("numbers", "16", "8", "2", "64", "--json");
  assert_int_equal(r.status, 0);
  json_t *o = parse_json(r.out);
  json_t *ex = json_object_get(o, "examples");
  assert_int_equal(json_array_size(ex), 4);
  assert_int_equal(json_integer_value(json_array_get(ex, 0)), 16);
  json_t *range = json_object_get(o, "range");
  assert_int_equal(json_integer_value(json_array_get(range, 0)), 1);
  assert_int_equal(json_integer_value(json_array_get(range, 1)), 100);
  json_t *prior = json_object_get(o, "prior");
  assert_string_equal(json_string_value(json_object_get(prior, "name")), "pmtk3");
  assert_true(json_is_null(json_object_get(prior, "lambda")));
  assert_true(json_number_value(json_object_get(prior, "sigma")) == 10.0);
  json_t *hyps = json_object_get(o, "hypotheses");
  assert_int_equal(json_array_size(hyps), 10);
  json_t *h0 = json_array_get(hyps, 0);
  assert_string_equal(json_string_value(json_object_get(h0, "name")), "powers of 2");
  assert_true(fabs(json_number_value(json_object_get(h0, "posterior")) - 0.999792) < 1e-6);
  assert_int_equal(json_integer_value(json_object_get(h0, "size")), 6);
  assert_true(json_is_number(json_object_get(h0, "prior")));
  double last = 1.0;
  for (size_t i = 0; i < json_array_size(hyps); i++) {
    double p = json_number_value(json_object_get(json_array_get(hyps, i), "posterior"));
    assert_true(p <= last);
    last = p;
  }
  json_t *gen = json_object_get(o, "generalization");
  assert_int_equal(json_array_size(gen), 100);
  assert_true(fabs(json_number_value(json_array_get(gen, 31)) - 1.0) < 1e-6); /* y = 32 */
  json_decref(o);
  run_free(&r);
}

static void test_options_change_the_model(void **state) {
  (void)state;
  run_result r = RUN("numbers", "60", "--prior", "mixture", "--lambda=0.5", "--sigma", "15",
                     "--top", "3", "--probe", "1,61", "--max", "200", "--json");
  assert_int_equal(r.status, 0);
  json_t *o = parse_json(r.out);
  json_t *prior = json_object_get(o, "prior");
  assert_string_equal(json_string_value(json_object_get(prior, "name")), "mixture");
  assert_true(json_number_value(json_object_get(prior, "lambda")) == 0.5);
  assert_int_equal(json_array_size(json_object_get(o, "hypotheses")), 3);
  assert_int_equal(json_array_size(json_object_get(o, "generalization")), 200);
  json_t *probes = json_object_get(o, "probes");
  assert_int_equal(json_array_size(probes), 2);
  assert_int_equal(json_integer_value(json_object_get(json_array_get(probes, 1), "y")), 61);
  json_decref(o);
  run_free(&r);
  r = RUN("numbers", "5", "--range", "1..1000", "--json");
  assert_int_equal(r.status, 0);
  o = parse_json(r.out);
  assert_int_equal(json_array_size(json_object_get(o, "generalization")), 1000);
  json_decref(o);
  run_free(&r);
  expect_run(RUN("numbers", "16", "8", "--probe", "32,33"), 0, "y = 32");
}

static void test_bad_arguments(void **state) {
  (void)state;
  expect_usage_error(RUN("numbers"), "no examples given");
  expect_usage_error(RUN("numbers", "16", "abc"), "'abc' is not a whole number");
  expect_usage_error(RUN("numbers", "16.5"), "'16.5' is not a whole number");
  expect_usage_error(RUN("numbers", "0"), "examples: 0 is outside the range 1..100");
  expect_usage_error(RUN("numbers", "101"), "examples: 101 is outside the range 1..100");
  expect_usage_error(RUN("numbers", "-5"), "examples: -5 is outside the range 1..100");
  expect_usage_error(RUN("numbers", "150", "--max", "120"), "150 is outside the range 1..120");
  expect_usage_error(RUN("numbers", "16,,8"), "empty number");
  expect_usage_error(RUN("numbers", "99999999999999999999"), "outside");
  expect_usage_error(RUN("numbers", "16", "--frob"), "unknown option '--frob'");
  expect_usage_error(RUN("numbers", "16", "--top"), "option '--top' needs a value");
  expect_usage_error(RUN("numbers", "16", "--top", "-1"), "--top");
  expect_usage_error(RUN("numbers", "16", "--range", "2..100"), "must start at 1");
  expect_usage_error(RUN("numbers", "16", "--range", "100"), "1..N");
  expect_usage_error(RUN("numbers", "16", "--range", "1..0"), "outside the range 1..1000000");
  expect_usage_error(RUN("numbers", "16", "--max", "2000000"), "outside the range 1..1000000");
  expect_usage_error(RUN("numbers", "16", "--prior", "flat"), "unknown prior 'flat'");
  expect_usage_error(RUN("numbers", "16", "--sigma", "0"), "sigma 0");
  expect_usage_error(RUN("numbers", "16", "--sigma", "abc"), "'abc' is not a number");
  expect_usage_error(RUN("numbers", "16", "--prior", "mixture", "--lambda", "2"), "lambda 2");
  expect_usage_error(RUN("numbers", "16", "--probe", "500"), "--probe: 500 is outside");
  expect_usage_error(RUN("numbers", "16", "--batch", "x.txt"), "not both");
  expect_usage_error(RUN("numbers", "--batch", "/nonexistent/sets.txt"), "cannot read '/nonexistent/sets.txt'");
  expect_usage_error(RUN("numbers", "--batch", "/"), "cannot read '/'");
  expect_usage_error(RUN("numbers", "--batch", "-", "--plot", "x.svg"), "--plot");
  expect_run(RUN("frobnicate"), 2, "unknown command 'frobnicate'");
  expect_run(RUN("help", "frobnicate"), 2, NULL);
}

static void test_help_and_version(void **state) {
  (void)state;
  EXPECT_RUN_ALL(RUN("numbers", "--help"), 0, "Usage: nsr numbers", "--batch FILE");
  expect_run(RUN("help", "numbers"), 0, "Usage: nsr numbers");
  expect_run(RUN("help"), 0, "numbers");
  expect_run(RUN("version"), 0, "nsr 0.");
  expect_run(RUN("version", "--help"), 0, NULL);
  expect_run(RUN("--help"), 0, NULL);
}

static void test_batch(void **state) {
  (void)state;
  const char *path = cli_write("sets.txt", "# Tenenbaum's sets\n16 8 2 64\n\n60,52,57,55\n16 banana\n81 25 4 36");
  run_result r = RUN("numbers", "--batch", path, "--top", "1");
  assert_int_equal(r.status, 2); /* one bad line */
  assert_non_null(strstr(r.err, "batch line 5: examples: 'banana' is not a whole number"));
  const char *expected_first[] = {"powers of 2", "interval 52..60", NULL, "squares"};
  char *line = r.out;
  for (int i = 0; i < 4; i++) {
    char *nl = strchr(line, '\n');
    assert_non_null(nl);
    *nl = '\0';
    json_t *o = parse_json(line);
    if (expected_first[i] == NULL) {
      assert_int_equal(json_integer_value(json_object_get(o, "line")), 5);
      assert_non_null(json_object_get(o, "error"));
    } else {
      json_t *h = json_array_get(json_object_get(o, "hypotheses"), 0);
      assert_string_equal(json_string_value(json_object_get(h, "name")), expected_first[i]);
    }
    json_decref(o);
    line = nl + 1;
  }
  assert_string_equal(line, "");
  run_free(&r);
  r = run_to("2 4 8\n3,9\n", NULL, (const char *const[]){"numbers", "--batch", "-", NULL});
  assert_int_equal(r.status, 0);
  assert_int_equal(strchr(strchr(r.out, '\n') + 1, '\n')[1], '\0');
  run_free(&r);
  /* A line that is not UTF-8: its error still goes out as JSON, each bad
   * byte shown as U+FFFD. */
  r = run_to("16 \xff\n", NULL, (const char *const[]){"numbers", "--batch", "-", NULL});
  assert_int_equal(r.status, 2);
  assert_string_equal(r.out, "{\"line\":1,\"error\":\"examples: '\xef\xbf\xbd' is not a whole number\"}\n");
  run_free(&r);
}

static void test_plot(void **state) {
  (void)state;
  char path[300];
  snprintf(path, sizeof path, "%s/gen.svg", cli_workdir);
  run_result r = RUN("numbers", "16", "8", "2", "64", "--plot", path, "--json");
  assert_int_equal(r.status, 0);
  json_decref(parse_json(r.out));
  run_free(&r);
  char *svg = slurp(path);
  assert_memory_equal(svg, "<svg", 4);
  assert_non_null(strstr(svg, "</svg>"));
  assert_non_null(strstr(svg, "X = {16, 8, 2, 64}"));
  int markers = 0;
  for (const char *p = svg; (p = strstr(p, "<title>example ")) != NULL; p++) markers++;
  assert_int_equal(markers, 4);
  int bars = 0;
  for (const char *p = svg; (p = strstr(p, "<rect x=")) != NULL; p++) bars++;
  assert_true(bars >= 6); /* at least the six powers of two have visible bars */
  free(svg);
  snprintf(path, sizeof path, "%s/missing/gen.svg", cli_workdir);
  expect_run(RUN("numbers", "16", "--plot", path), 1, "--plot: writing");
}

static void test_output_failure_is_reported(void **state) {
  (void)state;
  if (access("/dev/full", W_OK) != 0) skip();
  run_result r = run_to(NULL, "/dev/full", (const char *const[]){"numbers", "16", "--json", NULL});
  assert_int_equal(r.status, 1);
  assert_non_null(strstr(r.err, "writing the output"));
  run_free(&r);
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s PATH-TO-NSR\n", argv[0]);
    return 2;
  }
  if (cli_runner_init(argv[1]) != 0) return 1;
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_text_report),
      cmocka_unit_test(test_json_shape),
      cmocka_unit_test(test_options_change_the_model),
      cmocka_unit_test(test_bad_arguments),
      cmocka_unit_test(test_help_and_version),
      cmocka_unit_test(test_batch),
      cmocka_unit_test(test_plot),
      cmocka_unit_test(test_output_failure_is_reported),
  };
  return cli_runner_finish(cmocka_run_group_tests(tests, NULL, NULL));
}
