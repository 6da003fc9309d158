/* test_mpi.c: `nsr` over several processes (issue 9), run with the real
 * mpirun. Each distributed run is checked against the single-process run
 * of the same command, which never splits work or calls MPI: training's
 * weights agree within float tolerance, batch inference is byte-identical
 * (bad lines included), cross-validated fits agree.
 *
 * Usage: test_mpi NSR MPIRUN HUMAN_DATA.csv SPACE.json */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "cli_runner.h"
#include "nsr_neural.h"

static const char *nsr_bin, *mpirun_bin, *data_csv, *space_json;
static char mpi_asan_options[1024]; /* ASAN_OPTIONS for ranks: see main */

/* Flags that make Open MPI run anywhere CI does: as root, with more ranks
 * than cores, over shared memory only (no network probing); the single-
 * copy mechanism (CMA) is off because containers usually forbid ptrace. */
#define MPIRUN_FLAGS "--allow-run-as-root --oversubscribe --mca btl self,vader " \
                     "--mca btl_vader_single_copy_mechanism none"

/* Runs `nsr args` in the work directory, under `mpirun -np ranks` when
 * ranks > 0, stdin from `input` (a file name in the work directory, or
 * NULL). */
static run_result run_nsr(int ranks, const char *input, const char *fmt, ...) {
  char args[2048], prefix[2048] = "";
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(args, sizeof args, fmt, ap);
  va_end(ap);
  if (ranks > 0) {
    snprintf(prefix, sizeof prefix, "ASAN_OPTIONS='%s' '%s' -np %d " MPIRUN_FLAGS " ", mpi_asan_options,
             mpirun_bin, ranks);
  }
  return run_line(prefix, args, input);
}

static nsr_nn_model *load(const char *name) {
  char path[512];
  snprintf(path, sizeof path, "%s/%s", cli_workdir, name);
  nsr_nn_model *m = NULL;
  nsr_error err;
  if (nsr_nn_load(path, &m, &err) != NSR_OK) fail_msg("loading %s: %s", name, err.message);
  return m;
}

/* The largest |a - b| over every parameter of two models of one shape. */
static double max_weight_diff(const char *a_name, const char *b_name) {
  nsr_nn_model *a = load(a_name), *b = load(b_name);
  assert_int_equal(nsr_nn_num_tensors(a), nsr_nn_num_tensors(b));
  double worst = 0;
  for (size_t i = 0; i < nsr_nn_num_tensors(a); i++) {
    nsr_nn_tensor ta = nsr_nn_tensor_at(a, i), tb = nsr_nn_tensor_at(b, i);
    assert_string_equal(ta.name, tb.name);
    assert_int_equal(ta.numel, tb.numel);
    for (size_t k = 0; k < ta.numel; k++) worst = fmax(worst, fabs((double)ta.data[k] - tb.data[k]));
  }
  nsr_nn_free(a);
  nsr_nn_free(b);
  return worst;
}

/* Trains the same small model alone and with 2 ranks; the weights after
 * 30 AdamW steps agree within float tolerance, while another seed's are
 * far off (the tolerance separates "same training" from "different").
 * mpirun runs are few: under ASan each costs seconds of leak scanning. */
static void check_train_equal(const char *opts) {
  const char *common = "train --steps 30 --d-model 16 --layers 1 --held-out 40 --eval-every 0 --json";
  run_result o = run_nsr(0, NULL, "%s %s --seed 3 --out one.st", common, opts);
  if (o.status != 0) fail_msg("alone: %s", o.err);
  json_t *alone = parse_json(o.out);
  run_free(&o);
  o = run_nsr(2, NULL, "%s %s --seed 3 --out two.st", common, opts);
  if (o.status != 0) fail_msg("2 ranks: %s", o.err);
  /* One report, from rank 0. */
  json_t *shared = parse_json(o.out);
  run_free(&o);
  o = run_nsr(0, NULL, "%s %s --seed 4 --out other.st", common, opts);
  if (o.status != 0) fail_msg("seed 4: %s", o.err);
  run_free(&o);
  double same = max_weight_diff("one.st", "two.st"), other = max_weight_diff("one.st", "other.st");
  if (!(same < 1e-4)) fail_msg("%s: weights differ by %g between 1 and 2 ranks", opts, same);
  if (!(other > 1e-2)) fail_msg("%s: another seed differs by only %g", opts, other);
  /* The held-out evaluation, split over ranks and summed, and the mean
   * training loss agree too. */
  json_t *fa = json_object_get(alone, "final"), *fs = json_object_get(shared, "final");
  const char *keys[] = {"train_loss", "kl", "top10", "gen_corr"};
  for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
    double a = json_number_value(json_object_get(fa, keys[i])), s = json_number_value(json_object_get(fs, keys[i]));
    if (!(fabs(a - s) <= 1e-4 * fmax(1.0, fabs(a)))) fail_msg("%s: %s %g alone, %g on 2 ranks", opts, keys[i], a, s);
  }
  assert_int_equal(json_integer_value(json_object_get(fs, "heldout")), 40);
  json_decref(alone);
  json_decref(shared);
}

static void test_train_stream(void **state) {
  (void)state;
  check_train_equal("--batch 16");
}

/* An odd batch: the ranks' slices (7 and 8 sets) are weighted by size. */
static void test_train_odd_batch_budget_hard(void **state) {
  (void)state;
  check_train_equal("--batch 15 --examples-budget 200 --inject hard");
}

static void test_train_bad_input(void **state) {
  (void)state;
  expect_run(run_nsr(2, NULL, "train --steps 2 --batch 1 --d-model 16 --out x.st"), 2,
             "batch 1 is smaller than the 2 processes");
}

/* Only nsr's own messages: mpirun adds its report of a non-zero exit. */
static void keep_nsr_lines(char *text) {
  char *w = text;
  for (char *line = text; *line;) {
    char *end = strchr(line, '\n');
    size_t len = end ? (size_t)(end - line + 1) : strlen(line);
    if (strncmp(line, "nsr ", 4) == 0) {
      memmove(w, line, len);
      w += len;
    }
    line += len;
  }
  *w = '\0';
}

/* 2100 lines (two chunks of 2048, so a chunk edge is crossed) with
 * comments, blank lines, bad lines and a last line without a newline. */
static void test_batch_identical(void **state) {
  (void)state;
  char *text = malloc(65536);
  size_t len = (size_t)sprintf(text, "# comment\n\n16 8\nfoo\n101\n");
  for (int i = 0; i < 2100; i++) {
    len += (size_t)sprintf(text + len, i % 97 == 5 ? "%d x\n" : i % 50 == 7 ? "\n" : "%d %d\n", i % 100 + 1,
                           (i * 37) % 100 + 1);
  }
  sprintf(text + len, "3 9 0");
  cli_write("batch.txt", text);
  free(text);
  run_result one = run_nsr(0, NULL, "numbers --batch batch.txt --top 3");
  run_result two = run_nsr(2, "batch.txt", "numbers --batch - --top 3");
  assert_int_equal(one.status, 2); /* bad lines */
  assert_int_equal(two.status, 2);
  assert_true(strlen(one.out) > 50000);
  assert_string_equal(one.out, two.out);
  keep_nsr_lines(two.err);
  assert_string_equal(one.err, two.err);
  assert_non_null(strstr(one.err, "batch line 4:"));
  run_free(&one);
  run_free(&two);
  /* A missing file stops every rank with rank 0's message. */
  expect_run(run_nsr(2, NULL, "numbers --batch missing.txt"), 2, "cannot read 'missing.txt'");
}

/* Lines that are no text travel between ranks with their lengths: a NUL
 * byte, bytes that are not UTF-8, CRLF, a line past 16 MiB (sent as a flag,
 * without its bytes) and a last line without newline give rank 0 the
 * single process's output and status. */
static void test_batch_line_bytes_identical(void **state) {
  (void)state;
  static const char head[] = "16 8\0junk\n2 64\n\xff 3\r\n";
  size_t pairs = (8u << 20) + 1, len = sizeof head - 1 + 2 * pairs + 4;
  char *bytes = malloc(len);
  assert_non_null(bytes);
  memcpy(bytes, head, sizeof head - 1);
  for (size_t i = 0; i < pairs; i++) memcpy(bytes + sizeof head - 1 + 2 * i, "2 ", 2);
  memcpy(bytes + len - 4, "\n3 9", 4);
  cli_write_bytes("bytes.txt", bytes, len);
  free(bytes);
  run_result one = run_nsr(0, NULL, "numbers --batch bytes.txt --top 1");
  /* Rank 0 opens the file itself: 16 MiB through mpirun's stdin forwarding
   * would test Open MPI rather than nsr. */
  run_result two = run_nsr(2, NULL, "numbers --batch bytes.txt --top 1");
  assert_int_equal(one.status, 2);
  if (two.status != 2) fail_msg("2 ranks: status %d: %s", two.status, two.err);
  assert_string_equal(one.out, two.out);
  keep_nsr_lines(two.err);
  assert_string_equal(one.err, two.err);
  assert_non_null(strstr(one.out, "{\"line\":1,\"error\":\"the line holds a NUL byte\"}\n{\"examples\":[2,64],"));
  assert_non_null(strstr(one.out, "{\"line\":3,\"error\":\"the line is not UTF-8 text\"}\n"));
  assert_non_null(strstr(one.out, "{\"line\":4,\"error\":\"the line is longer than 16777216 bytes\"}\n{\"examples\":[3,9],"));
  run_free(&one);
  run_free(&two);
}

/* fit.csv: the first 1000 rows of the human data (10 sets of 100 targets: the
 * folds stay quick under ASan), without its split column. */
static void write_fit_data(void) {
  FILE *in = fopen(data_csv, "r");
  assert_non_null(in);
  char path[512], line[512];
  snprintf(path, sizeof path, "%s/fit.csv", cli_workdir);
  FILE *out = fopen(path, "w");
  assert_non_null(out);
  for (int i = 0; i < 1001 && fgets(line, sizeof line, in); i++) {
    const char *comma = strchr(line, ',');
    assert_non_null(comma);
    fputs(comma + 1, out);
  }
  fclose(in);
  fclose(out);
}

static json_t *load_json(const char *name) {
  char path[512];
  snprintf(path, sizeof path, "%s/%s", cli_workdir, name);
  char *text = slurp(path);
  json_t *j = parse_json(text);
  free(text);
  return j;
}

/* Cross-validation with its folds split over 2 ranks chooses and fits
 * the same as one process: same table, same parameters. */
static void test_fit_cv(void **state) {
  (void)state;
  char args[1024];
  snprintf(args, sizeof args,
           "numbers fit --json --data fit.csv --split all --space '%s' --folds 3 --max-size 1,2 --iterations 10",
           space_json);
  write_fit_data();
  run_result one = run_nsr(0, NULL, "%s --out fit1.json", args);
  run_result two = run_nsr(2, NULL, "%s --out fit2.json", args);
  if (one.status != 0 || two.status != 0) fail_msg("fit failed: %s / %s", one.err, two.err);
  json_t *a = parse_json(one.out), *b = parse_json(two.out);
  const char *keys[] = {"lambda", "sigma", "alpha", "beta"};
  for (size_t i = 0; i < 4; i++) {
    double x = json_number_value(json_object_get(json_object_get(a, "params"), keys[i]));
    double y = json_number_value(json_object_get(json_object_get(b, "params"), keys[i]));
    if (!(fabs(x - y) <= 1e-9 * fabs(x))) fail_msg("%s: %g alone, %g on 2 ranks", keys[i], x, y);
  }
  json_decref(a);
  json_decref(b);
  json_t *p1 = load_json("fit1.json"), *p2 = load_json("fit2.json");
  json_t *g1 = json_object_get(json_object_get(json_object_get(p1, "fit"), "cross_validation"), "grid");
  json_t *g2 = json_object_get(json_object_get(json_object_get(p2, "fit"), "cross_validation"), "grid");
  assert_int_equal(json_array_size(g1), 2);
  assert_int_equal(json_array_size(g2), 2);
  for (size_t i = 0; i < 2; i++) {
    double x = json_number_value(json_object_get(json_array_get(g1, i), "log_lik_per_response"));
    double y = json_number_value(json_object_get(json_array_get(g2, i), "log_lik_per_response"));
    if (!(fabs(x - y) <= 1e-12)) fail_msg("grid row %zu: held-out LL %g alone, %g on 2 ranks", i, x, y);
  }
  json_decref(p1);
  json_decref(p2);
  run_free(&one);
  run_free(&two);
}

int main(int argc, char **argv) {
  if (argc < 5) {
    fprintf(stderr, "usage: test_mpi NSR MPIRUN HUMAN_DATA.csv SPACE.json\n");
    return 2;
  }
  /* The runs cd into the work directory: the binary's path must be absolute. */
  static char nsr_path[4096], cwd[2048];
  if (getcwd(cwd, sizeof cwd) == NULL) return 1;
  snprintf(nsr_path, sizeof nsr_path, "%s/%s", argv[1][0] == '/' ? "" : cwd, argv[1]);
  nsr_bin = nsr_path;
  mpirun_bin = argv[2];
  data_csv = argv[3];
  space_json = argv[4];
  /* ASan builds: the suppressions (lsan.supp) match Open MPI's frames only
   * with the full unwinder, which slows every allocation: ranks get it,
   * single runs (no MPI) do not; the caller's other ASan options are kept. */
  const char *given = getenv("ASAN_OPTIONS");
  snprintf(mpi_asan_options, sizeof mpi_asan_options, "%s%sfast_unwind_on_malloc=0", given ? given : "",
           given && *given ? ":" : "");
  if (cli_runner_init(nsr_bin) != 0) return 1;
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_train_stream),
      cmocka_unit_test(test_train_odd_batch_budget_hard),
      cmocka_unit_test(test_train_bad_input),
      cmocka_unit_test(test_batch_identical),
      cmocka_unit_test(test_batch_line_bytes_identical),
      cmocka_unit_test(test_fit_cv),
  };
  return cli_runner_finish(cmocka_run_group_tests(tests, NULL, NULL));
}
