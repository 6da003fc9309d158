/* test_cli_numbers.c: the `nsr` command as a user runs it: a real process,
 * real files, exit statuses and messages, JSON parsed back with jansson.
 * The path of the nsr binary is the first argument. */
#define _XOPEN_SOURCE 700 /* realpath */
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
  expect_usage_error(RUN("numbers", "16", "--top"), "--top needs a value");
  expect_usage_error(RUN("numbers", "16", "--top", "-1"), "--top");
  expect_usage_error(RUN("numbers", "16", "--range", "2..100"), "must start at 1");
  expect_usage_error(RUN("numbers", "16", "--range", "100"), "1..N");
  expect_usage_error(RUN("numbers", "16", "--range", "1..0"), "outside the range 1..1000000");
  expect_usage_error(RUN("numbers", "16", "--max", "2000000"), "outside the range 1..1000000");
  expect_usage_error(RUN("numbers", "16", "--prior", "flat"), "--prior: 'flat' is not one of pmtk3, mixture");
  expect_usage_error(RUN("numbers", "16", "--sigma", "0"), "--sigma: 0 is not positive");
  expect_usage_error(RUN("numbers", "16", "--sigma", "abc"), "'abc' is not a number");
  expect_usage_error(RUN("numbers", "16", "--prior", "mixture", "--lambda", "2"), "--lambda: 2 is outside the range 0..1");
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
  /* A line that is not UTF-8 is refused as such, before its numbers. */
  r = run_to("16 \xff\n", NULL, (const char *const[]){"numbers", "--batch", "-", NULL});
  assert_int_equal(r.status, 2);
  assert_string_equal(r.out, "{\"line\":1,\"error\":\"the line is not UTF-8 text\"}\n");
  run_free(&r);
}

/* One expected answer line of a batch: an error object for input line
 * `line` whose message holds `needle`, or (needle NULL) an answer whose
 * "examples" print as `examples`. */
typedef struct batch_answer {
  long line;
  const char *needle, *examples;
} batch_answer;

/* r answered with exactly the n lines of want, and exited with status. */
static void expect_batch(run_result r, int status, const batch_answer *want, size_t n) {
  if (r.status != status) fail_msg("status %d, stderr: %s", r.status, r.err);
  char *line = r.out;
  for (size_t i = 0; i < n; i++) {
    char *nl = strchr(line, '\n');
    if (nl == NULL) fail_msg("answer %zu of %zu is missing; output: %.300s", i + 1, n, r.out);
    *nl = '\0';
    json_t *o = parse_json(line);
    if (want[i].needle) {
      assert_int_equal(json_integer_value(json_object_get(o, "line")), want[i].line);
      const char *msg = json_string_value(json_object_get(o, "error"));
      if (msg == NULL || strstr(msg, want[i].needle) == NULL) fail_msg("answer %zu: '%s' not in %s", i + 1, want[i].needle, line);
    } else {
      char *ex = json_dumps(json_object_get(o, "examples"), JSON_COMPACT);
      assert_non_null(ex);
      assert_string_equal(ex, want[i].examples);
      free(ex);
    }
    json_decref(o);
    line = nl + 1;
  }
  assert_string_equal(line, ""); /* nothing more */
  run_free(&r);
}

/* Issue 19 item 8: every line is read whole by its true length, so a NUL
 * byte cannot merge it with the next; a line that is no text is one error
 * object and the batch goes on. The bytes of the report, exactly. */
static void test_batch_nul_byte(void **state) {
  (void)state;
  static const char bytes[] = "16 8\0junk\n2 64\n3 9\n";
  const char *path = cli_write_bytes("nul.txt", bytes, sizeof bytes - 1);
  const batch_answer want[] = {{1, "the line holds a NUL byte", NULL}, {0, NULL, "[2,64]"}, {0, NULL, "[3,9]"}};
  run_result r = RUN("numbers", "--batch", path, "--top", "1");
  assert_non_null(strstr(r.err, "batch line 1: the line holds a NUL byte"));
  expect_batch(r, 2, want, 3);
}

/* The reader's cousins: CRLF, bytes that are not UTF-8, a line that is only
 * a NUL (not blank), blank lines and a UTF-8 comment (skipped), a last line
 * without a newline; the same from a file and from stdin. */
static void test_batch_line_cousins(void **state) {
  (void)state;
  static const char bytes[] = "4 16\r\n\xff\xfe 3\n# caf\xc3\xa9\n\0\n\n  \r\n9 81";
  const batch_answer want[] = {{0, NULL, "[4,16]"}, {2, "the line is not UTF-8 text", NULL},
                               {4, "the line holds a NUL byte", NULL}, {0, NULL, "[9,81]"}};
  const char *path = cli_write_bytes("cousins.txt", bytes, sizeof bytes - 1);
  expect_batch(RUN("numbers", "--batch", path, "--top", "1"), 2, want, 4);
  expect_batch(run_line(NULL, "numbers --batch - --top 1", "cousins.txt"), 2, want, 4);
  /* All good lines: status 0, CRLF and a missing final newline included. */
  const batch_answer good[] = {{0, NULL, "[4,16]"}, {0, NULL, "[9,81]"}};
  path = cli_write("good.txt", "4 16\r\n\n9 81");
  expect_batch(RUN("numbers", "--batch", path, "--top", "1"), 0, good, 2);
}

/* A line past the 16 MiB line limit is one error, read to its end, and the
 * next line is answered. */
static void test_batch_long_line(void **state) {
  (void)state;
  size_t pairs = (8u << 20) + 1, len = 2 * pairs + 6; /* "2 " * pairs: 16 MiB + 2 bytes */
  char *bytes = malloc(len);
  assert_non_null(bytes);
  for (size_t i = 0; i < pairs; i++) memcpy(bytes + 2 * i, "2 ", 2);
  memcpy(bytes + 2 * pairs, "\n5 25\n", 6);
  const char *path = cli_write_bytes("long.txt", bytes, len);
  free(bytes);
  const batch_answer want[] = {{1, "the line is longer than 16777216 bytes", NULL}, {0, NULL, "[5,25]"}};
  expect_batch(RUN("numbers", "--batch", path, "--top", "1"), 2, want, 2);
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

/* A usage error of `nsr CMD`: status 2, nothing on stdout, one line on
 * stderr that starts with "nsr CMD: " and contains `needle`. */
static void expect_usage_line(run_result r, const char *command, const char *needle) {
  char prefix[64];
  snprintf(prefix, sizeof prefix, "nsr %s: ", command);
  if (strncmp(r.err, prefix, strlen(prefix)) != 0) fail_msg("'%s' does not start with '%s'", r.err, prefix);
  expect_usage_error(r, needle);
}

/* Every numbers command answers an unknown option, a missing value and a
 * bad value with one line naming the command, and lists all its options
 * in --help. */
static void test_usage_contract(void **state) {
  (void)state;
  expect_usage_line(RUN("numbers", "16", "--bogus"), "numbers", "unknown option '--bogus'");
  expect_usage_line(RUN("numbers", "16", "--top"), "numbers", "--top needs a value");
  expect_usage_line(RUN("numbers", "16", "--top", "many"), "numbers", "--top: 'many' is not a whole number");
  expect_usage_line(RUN("numbers", "frobnicate", "16"), "numbers", "unknown subcommand 'frobnicate'");
  expect_usage_line(RUN("numbers", "eval", "--bogus"), "numbers eval", "unknown option '--bogus'");
  expect_usage_line(RUN("numbers", "eval", "--data"), "numbers eval", "--data needs a value");
  expect_usage_line(RUN("numbers", "eval", "--data", "x.csv", "--split", "train"), "numbers eval",
                    "--split: 'train' is not one of dev, test, all");
  expect_usage_line(RUN("numbers", "eval", "--data", "x.csv", "--beta", "1"), "numbers eval", "--beta: 1 is outside (0, 1)");
  expect_usage_line(RUN("numbers", "eval", "extra"), "numbers eval", "unexpected argument 'extra'");
  expect_usage_line(RUN("numbers", "fit", "--bogus"), "numbers fit", "unknown option '--bogus'");
  expect_usage_line(RUN("numbers", "fit", "--data", "x.csv", "--out"), "numbers fit", "--out needs a value");
  expect_usage_line(RUN("numbers", "fit", "--iterations", "0"), "numbers fit", "--iterations: 0 is outside the range 1..100000");
  expect_usage_line(RUN("numbers", "fit", "--data", "x.csv"), "numbers fit", "--out FILE is required");
  expect_usage_line(RUN("numbers", "mh", "--bogus", "4"), "numbers mh", "unknown option '--bogus'");
  expect_usage_line(RUN("numbers", "mh", "4", "--seed"), "numbers mh", "--seed needs a value");
  expect_usage_line(RUN("numbers", "mh", "--samples", "0", "4"), "numbers mh", "--samples: 0 is outside the range");
  static const struct {
    const char *command, *usage;
    const char *options[20];
  } helps[] = {
      {"", "Usage: nsr numbers [OPTIONS]",
       {"--range", "--max", "--prior", "--lambda", "--sigma", "--space", "--prior-file", "--top", "--probe", "--json",
        "--plot", "--batch", "--ascii", "eval", "fit", "mh", NULL}},
      {"eval", "Usage: nsr numbers eval [OPTIONS]",
       {"--data", "--split", "--space", "--prior-file", "--alpha", "--beta", "--plot", "--json", NULL}},
      {"fit", "Usage: nsr numbers fit [OPTIONS]",
       {"--data", "--split", "--space", "--prior-file", "--out", "--weight-sd", "--family-sd", "--sigma-sd",
        "--max-size", "--folds", "--iterations", "--no-weights", "--fit-gamma", "--similarity", "--by-n",
        "--sim-hypothesis", "--json", NULL}},
      {"mh", "Usage: nsr numbers mh [OPTIONS] X1 X2 ...",
       {"--space", "--prior-file", "--samples", "--burn-in", "--seed", "--top", "--exact", "--json", "--ascii", NULL}},
  };
  for (size_t i = 0; i < sizeof helps / sizeof helps[0]; i++) {
    run_result r = helps[i].command[0] ? RUN("numbers", helps[i].command, "--help") : RUN("numbers", "--help");
    assert_int_equal(r.status, 0);
    if (strncmp(r.out, helps[i].usage, strlen(helps[i].usage)) != 0) fail_msg("help starts: %.80s", r.out);
    for (const char *const *o = helps[i].options; *o; o++) {
      char line[64];
      snprintf(line, sizeof line, "\n  %s ", *o); /* an option line (or subcommand line) of its own */
      if (strstr(r.out, line) == NULL) fail_msg("nsr numbers %s --help lacks %s", helps[i].command, *o);
    }
    run_free(&r);
  }
}

/* An option that would change nothing with the others given is an error;
 * --lambda alone selects the mixture prior it belongs to. */
static void test_no_option_is_ignored(void **state) {
  (void)state;
  run_result r = RUN("numbers", "--lambda", "0.5", "16", "8", "--json", "--top", "1");
  assert_int_equal(r.status, 0);
  json_t *o = parse_json(r.out);
  json_t *prior = json_object_get(o, "prior");
  assert_string_equal(json_string_value(json_object_get(prior, "name")), "mixture");
  assert_true(json_number_value(json_object_get(prior, "lambda")) == 0.5);
  json_decref(o);
  run_free(&r);
  expect_usage_line(RUN("numbers", "--prior", "pmtk3", "--lambda", "0.5", "16"), "numbers",
                    "--lambda is the mixture prior's rule mass: it has no effect with --prior pmtk3");
  expect_usage_line(RUN("numbers", "--range", "1..50", "--max", "20", "16"), "numbers", "--range or --max, not both");
  expect_usage_line(RUN("numbers", "--ascii", "--json", "16"), "numbers", "--ascii draws the text chart");
  expect_usage_line(RUN("numbers", "--ascii", "--batch", "-"), "numbers", "no effect with --batch");
  expect_usage_line(RUN("numbers", "mh", "--ascii", "--json", "4"), "numbers mh", "--ascii draws the text chart");
  expect_usage_line(RUN("numbers", "fit", "--data", "x.csv", "--out", "p.json", "--no-weights", "--weight-sd", "1"),
                    "numbers fit", "--weight-sd has no effect with --no-weights");
  expect_usage_line(RUN("numbers", "fit", "--data", "x.csv", "--out", "p.json", "--no-weights", "--family-sd", "1"),
                    "numbers fit", "--family-sd has no effect with --no-weights");
  /* K-fold cross-validation is --folds K, as in `nsr extract`. */
  expect_usage_line(RUN("numbers", "fit", "--data", "x.csv", "--out", "p.json", "--cv", "3"), "numbers fit",
                    "unknown option '--cv'");
  expect_usage_line(RUN("numbers", "fit", "--data", "x.csv", "--out", "p.json", "--max-size", "1,2"), "numbers fit",
                    "need --folds K");
}

/* --plot writes SVG, so it refuses any other file name (and writes nothing). */
static void test_plot_is_svg_only(void **state) {
  (void)state;
  char path[300];
  snprintf(path, sizeof path, "%s/gen.png", cli_workdir);
  expect_usage_line(RUN("numbers", "16", "--plot", path), "numbers", "gen.png' does not end in .svg");
  assert_int_not_equal(access(path, F_OK), 0);
  expect_usage_line(RUN("numbers", "eval", "--data", "x.csv", "--plot", "people.pdf"), "numbers eval",
                    "does not end in .svg");
  snprintf(path, sizeof path, "%s/GEN.SVG", cli_workdir);
  expect_run(RUN("numbers", "16", "--plot", path), 0, NULL);
  assert_int_equal(access(path, R_OK), 0);
}

/* Over 1..1000 a bar covers 3 numbers: it shows their largest p, so p(512)
 * near 1 (powers of 2) is a bar of full height, not a third of one, and the
 * figure says what a bar is. The terminal chart does the same. */
static void test_plot_bins_show_the_largest(void **state) {
  (void)state;
  char path[300];
  snprintf(path, sizeof path, "%s/big.svg", cli_workdir);
  run_result r = RUN("numbers", "--range", "1..1000", "16", "8", "2", "64", "--plot", path, "--ascii");
  assert_int_equal(r.status, 0);
  assert_non_null(strstr(r.out, "(each column: the largest p among 10 numbers)"));
  const char *top_row = strstr(r.out, "\n  1.0 |");
  assert_non_null(top_row);
  assert_int_equal(top_row[8 + 51], '#'); /* column 51: y = 511..520 */
  run_free(&r);
  char *svg = slurp(path);
  assert_non_null(strstr(svg, "each bar: the largest p(y \xe2\x88\x88 C | X) among 3 numbers"));
  const double plot_h = 250; /* the plot area's height in svg_plot.c */
  double tallest = 0, at_512 = -1;
  for (const char *p = svg; (p = strstr(p, "<rect x=")) != NULL; p++) {
    double x, y, w, h, value;
    unsigned lo, hi;
    int read = sscanf(p, "<rect x=\"%lf\" y=\"%lf\" width=\"%lf\" height=\"%lf\"><title>y %u..%u: %lf", &x, &y,
                      &w, &h, &lo, &hi, &value);
    if (read == 5) { /* the last bar may hold one number: "y 1000: p" */
      hi = lo;
      read = sscanf(strstr(p, "<title>"), "<title>y %*u: %lf", &value) == 1 ? 7 : 0;
    }
    if (read != 7) fail_msg("bar not understood: %.120s", p);
    assert_true(fabs(h - value * plot_h) < 0.01); /* the height is the p the tooltip gives */
    if (h > tallest) tallest = h;
    if (lo <= 512 && 512 <= hi) at_512 = h;
  }
  assert_true(fabs(tallest - plot_h) < 0.01);
  assert_true(fabs(at_512 - plot_h) < 0.01);
  free(svg);
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
  static char bin[4096];
  if (!realpath(argv[1], bin)) return 2; /* run_line runs it from the work directory */
  if (cli_runner_init(bin) != 0) return 1;
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_text_report),
      cmocka_unit_test(test_json_shape),
      cmocka_unit_test(test_options_change_the_model),
      cmocka_unit_test(test_bad_arguments),
      cmocka_unit_test(test_help_and_version),
      cmocka_unit_test(test_batch),
      cmocka_unit_test(test_batch_nul_byte),
      cmocka_unit_test(test_batch_line_cousins),
      cmocka_unit_test(test_batch_long_line),
      cmocka_unit_test(test_plot),
      cmocka_unit_test(test_output_failure_is_reported),
      cmocka_unit_test(test_usage_contract),
      cmocka_unit_test(test_no_option_is_ignored),
      cmocka_unit_test(test_plot_is_svg_only),
      cmocka_unit_test(test_plot_bins_show_the_largest),
  };
  return cli_runner_finish(cmocka_run_group_tests(tests, NULL, NULL));
}
