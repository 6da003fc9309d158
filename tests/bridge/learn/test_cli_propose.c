/* test_cli_propose.c: `nsr train` and `nsr propose` as a user runs them:
 * a tiny model trained by the command, proposals checked against
 * `nsr numbers` (the exact engine's own command), the shipped default
 * model, and a usage error for every bad argument and model file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <pty.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli_runner.h"
#include "sha256.h"

static char model[512], train_db[512];
static const char *nsr_path;      /* the binary under test */
static const char *shipped_model; /* bridge/models/propose-n100.safetensors */

static int setup(void **state) {
  (void)state;
  snprintf(model, sizeof model, "%s/tiny.safetensors", cli_workdir);
  snprintf(train_db, sizeof train_db, "%s/train.db", cli_workdir);
  run_result r = RUN("train", "--steps", "20", "--d-model", "48", "--layers", "1", "--batch", "8",
                     "--held-out", "20", "--eval-every", "10", "--json", "--out", model, "--db",
                     train_db);
  int ok = r.status == 0;
  json_t *j = ok ? parse_json(r.out) : NULL;
  ok = ok && json_array_size(json_object_get(j, "evals")) == 2 &&
       json_real_value(json_object_get(json_object_get(j, "final"), "top10")) >= 0;
  json_decref(j);
  run_free(&r);
  return ok ? 0 : -1;
}

/* Several seeds: mean ± sd per point, "2 seeds" said; --db wins over
 * NSR_DB. */
static void test_experiment_seeds(void **state) {
  (void)state;
  char db[600], env_db[600], plot[600];
  snprintf(db, sizeof db, "%s/seeds.db", cli_workdir);
  snprintf(env_db, sizeof env_db, "%s/seeds-env.db", cli_workdir);
  snprintf(plot, sizeof plot, "%s/seeds.svg", cli_workdir);
  setenv("NSR_DB", env_db, 1);
  EXPECT_RUN_ALL(RUN("experiment", "injection", "--quick", "--seeds", "2", "--steps", "2",
                     "--max-budget", "16", "--db", db, "--plot", plot),
                 0, "(2 seeds, mean ± sd)", " ± ", db);
  unsetenv("NSR_DB");
  assert_int_equal(access(db, F_OK), 0);
  assert_int_not_equal(access(env_db, F_OK), 0);
  char *svg = slurp(plot);
  assert_non_null(strstr(svg, "(2 seeds, mean ± sd)</text>"));
  free(svg);
}

static void test_experiment_command_line(void **state) {
  (void)state;
  EXPECT_RUN_ALL(RUN("experiment", "--help"), 0, "Usage: nsr experiment SUBCOMMAND", "injection");
  EXPECT_RUN_ALL(RUN("help", "experiment"), 0, "Usage: nsr experiment SUBCOMMAND");
  EXPECT_RUN_ALL(RUN("experiment", "injection", "--help"), 0, "Usage: nsr experiment injection",
                 "--db PATH", "env NSR_DB", "--plot FILE", "--seeds S", "--steps S", "--max-budget K",
                 "--quick");
  expect_usage_error(RUN("experiment", "injection", "--quick=yes"), "--quick takes no value");
  expect_usage_error(RUN("experiment", "injection", "--seeds", "x"), "nsr experiment injection: --seeds: 'x' is not a whole number");
}

/* `nsr train --db` recorded the saved file: its SHA-256, path and the
 * training settings; --no-db records nothing. */
static void test_train_records_model(void **state) {
  (void)state;
  char sha[NSR_SHA256_HEX], sql[400];
  nsr_error err;
  assert_int_equal(nsr_sha256_file(model, sha, &err), NSR_OK);
  snprintf(sql, sizeof sql, "SELECT count(*), min(path), min(json_extract(config_json, '$.train.steps')),"
                            " min(json_extract(config_json, '$.model.d_model')) FROM models"
                            " WHERE sha256 = '%s'", sha);
  run_result r = RUN("sql", sql, "--db", train_db, "--json");
  assert_int_equal(r.status, 0);
  json_t *j = parse_json(r.out);
  json_t *row = json_array_get(json_object_get(j, "rows"), 0);
  assert_int_equal(json_integer_value(json_array_get(row, 0)), 1);
  assert_string_equal(json_string_value(json_array_get(row, 1)), model);
  assert_int_equal(json_integer_value(json_array_get(row, 2)), 20);
  assert_int_equal(json_integer_value(json_array_get(row, 3)), 48);
  json_decref(j);
  run_free(&r);
  char other[600], other_db[600];
  snprintf(other, sizeof other, "%s/nodb.safetensors", cli_workdir);
  snprintf(other_db, sizeof other_db, "%s/nodb.db", cli_workdir);
  setenv("NSR_DB", other_db, 1);
  r = RUN("train", "--steps", "2", "--d-model", "48", "--layers", "1", "--batch", "4", "--held-out", "5",
          "--out", other, "--no-db");
  unsetenv("NSR_DB");
  assert_int_equal(r.status, 0);
  assert_null(strstr(r.out, "recorded as model"));
  run_free(&r);
  assert_int_not_equal(access(other_db, F_OK), 0);
  expect_usage_error(RUN("train", "--db"), "--db");
}

/* Every proposal's exact posterior is the one `nsr numbers` reports. */
static void check_against_numbers(const char *weights) {
  run_result r = weights ? RUN("propose", "16", "8,2", "64", "--top", "5", "--json", "--weights", weights)
                         : RUN("propose", "16", "8,2", "64", "--top", "5", "--json");
  assert_int_equal(r.status, 0);
  json_t *j = parse_json(r.out);
  run_result n = RUN("numbers", "16", "8", "2", "64", "--top", "5084", "--json");
  assert_int_equal(n.status, 0);
  json_t *exact = parse_json(n.out);
  json_t *props = json_object_get(j, "proposals");
  assert_int_equal(json_array_size(props), 5);
  assert_int_equal(json_array_size(json_object_get(j, "examples")), 4);
  size_t i;
  json_t *p;
  json_array_foreach(props, i, p) {
    const char *name = json_string_value(json_object_get(p, "name"));
    double want = 0;
    size_t k;
    json_t *h;
    json_array_foreach(json_object_get(exact, "hypotheses"), k, h) {
      if (strcmp(json_string_value(json_object_get(h, "name")), name) == 0) {
        want = json_real_value(json_object_get(h, "posterior"));
      }
    }
    /* Both commands print every digit: what differs is summation order. */
    assert_float_equal(json_real_value(json_object_get(p, "posterior")), want, 1e-12);
    assert_true(json_is_real(json_object_get(p, "network")));
  }
  json_t *map = json_object_get(j, "exact_map");
  assert_string_equal(json_string_value(json_object_get(map, "name")), "powers of 2");
  json_decref(j);
  json_decref(exact);
  run_free(&r);
  run_free(&n);
}

static void test_tiny_model(void **state) {
  (void)state;
  check_against_numbers(model);
  expect_run(RUN("propose", "--weights", model, "7"), 0, "exact MAP:");
}

/* The shipped model works without --weights and gets the classic right. */
static void test_default_model(void **state) {
  (void)state;
  check_against_numbers(NULL);
  run_result r = RUN("propose", "16", "8", "2", "64", "--top", "1", "--json");
  json_t *j = parse_json(r.out);
  json_t *first = json_array_get(json_object_get(j, "proposals"), 0);
  assert_string_equal(json_string_value(json_object_get(first, "name")), "powers of 2");
  assert_true(json_real_value(json_object_get(first, "network")) > 0.5);
  json_decref(j);
  run_free(&r);
}

static void test_bad_arguments(void **state) {
  (void)state;
  const char *bad_file = cli_write("garbage.safetensors", "garbage");
  expect_usage_error(RUN("propose", "--weights", model), "missing arguments");
  expect_usage_error(RUN("propose", "--weights", model, "0"), "example");
  expect_usage_error(RUN("propose", "--weights", model, "101"), "example");
  expect_usage_error(RUN("propose", "--weights", model, "x"), "example");
  expect_usage_error(RUN("propose", "--weights", model, "1,2,3,4,5,6,7"), "more than 6");
  expect_usage_error(RUN("propose", "--weights", model, "5", "--top", "0"), "--top");
  expect_usage_error(RUN("propose", "--weights", model, "5", "--top", "65"), "--top");
  expect_usage_error(RUN("propose", "--weights", model, "5", "--top"), "--top");
  expect_usage_error(RUN("propose", "5", "--weights"), "--weights");
  expect_usage_error(RUN("propose", "5", "--frobnicate"), "unknown option");
  expect_usage_error(RUN("propose", "5", "--weights", bad_file), "garbage.safetensors");
  run_result r = RUN("propose", "5", "--weights", "/nonexistent/m.safetensors");
  assert_int_not_equal(r.status, 0);
  run_free(&r);
  expect_usage_error(RUN("train", "--steps", "0"), "--steps");
  expect_usage_error(RUN("train", "--steps", "x"), "--steps");
  expect_usage_error(RUN("train", "--inject", "magic"), "unknown injection");
  expect_usage_error(RUN("train", "--inject"), "--inject");
  expect_usage_error(RUN("train", "--batch", "300"), "--batch");
  expect_usage_error(RUN("train", "--lr", "2"), "--lr");
  expect_usage_error(RUN("train", "--lr", "abc"), "--lr");
  expect_usage_error(RUN("train", "--positions", "learned"), "--positions");
  expect_usage_error(RUN("train", "--examples-budget", "0"), "--examples-budget");
  expect_usage_error(RUN("train", "--d-model", "50"), "multiple of 4");
  expect_usage_error(RUN("train", "--inject", "kbann", "--d-model", "32"), "kbann");
  expect_usage_error(RUN("train", "--out"), "--out");
  expect_usage_error(RUN("train", "extra"), "unexpected argument");
  expect_run(RUN("train", "--help"), 0, "--inject");
}

/* Writes a copy of the shipped model named `name` in the work directory
 * with element `index` of tensor `tensor` set to the float `bits` (a bit
 * pattern); the tensor's place comes from the file's own header. Returns
 * the copy's path (static). */
static const char *patched_model(const char *name, const char *tensor, size_t index, uint32_t bits) {
  FILE *f = fopen(shipped_model, "rb");
  assert_non_null(f);
  assert_int_equal(fseek(f, 0, SEEK_END), 0);
  size_t size = (size_t)ftell(f);
  rewind(f);
  unsigned char *bytes = malloc(size);
  assert_non_null(bytes);
  assert_int_equal(fread(bytes, 1, size, f), size);
  fclose(f);
  uint64_t header_len = 0;
  for (int i = 7; i >= 0; i--) header_len = header_len << 8 | bytes[i];
  json_error_t jerr;
  json_t *header = json_loadb((const char *)bytes + 8, (size_t)header_len, 0, &jerr);
  assert_non_null(header);
  json_t *begin = json_array_get(json_object_get(json_object_get(header, tensor), "data_offsets"), 0);
  assert_true(json_is_integer(begin));
  size_t at = 8 + (size_t)header_len + (size_t)json_integer_value(begin) + 4 * index;
  json_decref(header);
  for (int i = 0; i < 4; i++) bytes[at + (size_t)i] = (unsigned char)(bits >> (8 * i)); /* little-endian */
  const char *path = cli_write_bytes(name, bytes, size);
  free(bytes);
  return path;
}

/* Issue 19 item 9: a checkpoint holding NaN or an infinity is refused at
 * load by every command that reads a model, with one line naming the file,
 * the tensor and the element; --json changes nothing (it exited 1 without
 * a word, or ranked by "network nan" with status 0). */
static void test_non_finite_weights_refused(void **state) {
  (void)state;
  static const struct {
    uint32_t bits;
    const char *name, *shown;
  } cases[] = {{0x7FC00000u, "nan.safetensors", "NaN"},
               {0x7F800000u, "inf.safetensors", "Infinity"},
               {0xFF800000u, "neginf.safetensors", "-Infinity"}};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char path[600], needle[700];
    snprintf(path, sizeof path, "%s", patched_model(cases[i].name, "blocks.0.ln1.bias", 3, cases[i].bits));
    snprintf(needle, sizeof needle, "checkpoint '%s': tensor 'blocks.0.ln1.bias': element 3 is %s;", path,
             cases[i].shown);
    expect_usage_error(RUN("propose", "--weights", path, "16", "8", "2", "64"), needle);
    expect_usage_error(RUN("propose", "--weights", path, "16", "8", "2", "64", "--json"), needle);
  }
  const char *nan_model = patched_model("nan.safetensors", "tok_emb.weight", 0, 0x7FC00000u);
  expect_usage_error(RUN("extract", "--weights", nan_model, "--db", train_db), "tensor 'tok_emb.weight': element 0 is NaN");
  expect_usage_error(RUN("nn", "info", nan_model), "tensor 'tok_emb.weight': element 0 is NaN");
  /* A finite patch (0.0) loads: only the non-finite values are refused. */
  const char *same = patched_model("same.safetensors", "tok_emb.weight", 0, 0);
  expect_run(RUN("propose", "--weights", same, "16", "8", "2", "64", "--top", "1"), 0, "exact MAP:");
}

/* Issue 19, the "JSON output: out of memory" family: paths that are not
 * UTF-8 (a Latin-1 file name) reach the --json reports of train and
 * extract as U+FFFD instead of losing the finished run's report. */
static void test_json_paths_not_utf8(void **state) {
  (void)state;
  char out[600], db[600];
  snprintf(out, sizeof out, "%s/caf\xe9.safetensors", cli_workdir);
  snprintf(db, sizeof db, "%s/caf\xe9.db", cli_workdir);
  run_result r = RUN("train", "--steps", "1", "--d-model", "16", "--layers", "1", "--batch", "2", "--held-out", "2",
                     "--json", "--out", out, "--db", db);
  assert_int_equal(r.status, 0);
  json_t *j = parse_json(r.out);
  const char *shown = json_string_value(json_object_get(j, "out"));
  assert_non_null(shown);
  assert_non_null(strstr(shown, "/caf\xef\xbf\xbd.safetensors"));
  json_decref(j);
  run_free(&r);
  r = RUN("extract", "--weights", out, "--db", db, "--sets", "50", "--json");
  assert_int_equal(r.status, 0);
  j = parse_json(r.out);
  assert_non_null(strstr(json_string_value(json_object_get(json_object_get(j, "model"), "path")), "/caf\xef\xbf\xbd.safetensors"));
  assert_non_null(strstr(json_string_value(json_object_get(j, "db")), "/caf\xef\xbf\xbd.db"));
  json_decref(j);
  run_free(&r);
}

/* The quick experiment writes every run's metrics to a real store, readable
 * by `nsr sql`, and a plot with one line per variant. The store is NSR_DB's
 * (a regression: experiment ignored it). One seed: the means alone, no
 * "± 0.000", and "1 seed" in the summary and the plot. */
static void test_experiment_quick(void **state) {
  (void)state;
  char db[600], plot[600];
  snprintf(db, sizeof db, "%s/exp.db", cli_workdir);
  snprintf(plot, sizeof plot, "%s/exp.svg", cli_workdir);
  setenv("NSR_DB", db, 1);
  run_result q = RUN("experiment", "injection", "--quick", "--steps", "5", "--plot", plot);
  unsetenv("NSR_DB");
  assert_int_equal(q.status, 0);
  assert_non_null(strstr(q.out, "kbann-shuffled"));
  assert_non_null(strstr(q.out, "(1 seed)"));
  assert_null(strstr(q.out, "±"));
  assert_non_null(strstr(q.out, db));
  run_free(&q);
  // NOLINTNEXTLINE(bugprone-suspicious-missing-comma): one SQL statement over two lines
  run_result r = RUN("sql", "SELECT count(*), count(DISTINCT method), min(value) >= 0 FROM metrics "
                            "WHERE name = 'top1'", "--db", db, "--json");
  assert_int_equal(r.status, 0);
  json_t *j = parse_json(r.out);
  json_t *row = json_array_get(json_object_get(j, "rows"), 0);
  assert_int_equal(json_integer_value(json_array_get(row, 0)), 11 * 2);
  assert_int_equal(json_integer_value(json_array_get(row, 1)), 11);
  assert_int_equal(json_integer_value(json_array_get(row, 2)), 1);
  json_decref(j);
  run_free(&r);
  /* Every metric names the model it measured: one models row per run
   * (11 variants x 2 budgets x 1 seed), not kept on disk (path NULL). */
  static const char *const metric_models =
      "SELECT count(*), count(model_id), count(DISTINCT model_id), "
      "(SELECT count(*) FROM models WHERE path IS NULL AND "
      "json_extract(config_json, '$.train.steps') = 5) FROM metrics";
  r = RUN("sql", metric_models, "--db", db, "--json");
  assert_int_equal(r.status, 0);
  j = parse_json(r.out);
  row = json_array_get(json_object_get(j, "rows"), 0);
  assert_int_equal(json_integer_value(json_array_get(row, 0)), 11 * 2 * 3);
  assert_int_equal(json_integer_value(json_array_get(row, 1)), 11 * 2 * 3);
  assert_int_equal(json_integer_value(json_array_get(row, 2)), 11 * 2);
  assert_int_equal(json_integer_value(json_array_get(row, 3)), 11 * 2);
  json_decref(j);
  run_free(&r);
  char *svg = slurp(plot);
  size_t lines = 0;
  for (const char *p = svg; (p = strstr(p, "<polyline")) != NULL; p++) lines++;
  assert_int_equal(lines, 11);
  assert_non_null(strstr(svg, "(1 seed)</text>"));
  free(svg);
  expect_usage_error(RUN("experiment", "injection", "--seeds", "0"), "--seeds");
  expect_usage_error(RUN("experiment", "injection", "--seeds", "33"), "--seeds");
  expect_usage_error(RUN("experiment", "injection", "--steps"), "nsr experiment injection: --steps needs a value (S)");
  expect_usage_error(RUN("experiment", "injection", "--max-budget", "8"), "--max-budget");
  expect_usage_error(RUN("experiment", "injection", "--db"), "--db");
  expect_usage_error(RUN("experiment", "injection", "--plot", ""), "--plot");
  expect_usage_error(RUN("experiment", "injection", "--bogus"), "nsr experiment injection: unknown option '--bogus'");
  expect_usage_error(RUN("experiment", "injection", "extra"), "unexpected argument 'extra'");
  expect_usage_error(RUN("experiment", "other"), "nsr experiment: unknown subcommand 'other'");
  expect_usage_error(RUN("experiment", "--bogus"), "nsr experiment: unknown option '--bogus'");
  expect_usage_error(RUN("experiment"), "nsr experiment: missing subcommand");
}

/* Regressions: the held-out size is --held-out (as in `nsr nn train`), and
 * --heldout is unknown; NSR_DB names the store that records the model. */
static void test_train_command_line(void **state) {
  (void)state;
  expect_usage_error(RUN("train", "--heldout", "5"), "nsr train: unknown option '--heldout'");
  expect_usage_error(RUN("train", "--held-out"), "nsr train: --held-out needs a value (N)");
  expect_usage_error(RUN("train", "--held-out", "0"), "nsr train: --held-out: 0 is outside the range 1..1000000");
  expect_usage_error(RUN("train", "--held-out", "x"), "--held-out: 'x' is not a whole number");
  expect_usage_error(RUN("train", "--db", "x.db", "--no-db"), "--db and --no-db");
  expect_usage_error(RUN("train", "--json=1"), "--json takes no value");
  EXPECT_RUN_ALL(RUN("train", "--help"), 0, "Usage: nsr train [OPTIONS]", "--steps S", "--seed S",
                 "--out FILE", "--inject METHOD", "--examples-budget K", "--d-model D", "--layers L",
                 "--batch B", "--lr X", "--positions none|sinusoidal", "--held-out N",
                 "--eval-every S", "--db PATH", "default: nsr.db; env NSR_DB", "--no-db", "--json",
                 "nsr train --seed 1 --steps 6000");
  char out[600], env_db[600];
  snprintf(out, sizeof out, "%s/env.safetensors", cli_workdir);
  snprintf(env_db, sizeof env_db, "%s/env.db", cli_workdir);
  setenv("NSR_DB", env_db, 1);
  run_result r = RUN("train", "--steps", "2", "--d-model", "48", "--layers", "1", "--batch", "4",
                     "--held-out", "5", "--out", out);
  unsetenv("NSR_DB");
  assert_int_equal(r.status, 0);
  assert_non_null(strstr(r.out, "recorded as model 1 in"));
  assert_non_null(strstr(r.out, env_db));
  run_free(&r);
  assert_int_equal(access(env_db, F_OK), 0);
}

/* `nsr train --space`: a guide for a grammar space, trained, saved with its
 * metadata and recorded; every bad argument is one line and exit 2. The
 * space has room for 2 extensions, far fewer than it makes: training
 * never enumerates it (it samples the prior). */
static void test_train_space(void **state) {
  (void)state;
  const char *space = cli_write("tiny.json",
      "{\"range\": 30, \"max_size\": 3, \"max_extensions\": 2, \"primitives\": [{\"family\": \"even\"},"
      "{\"family\": \"odd\"}, {\"family\": \"multiples\", \"args\": [3, 5]}],"
      "\"operations\": [{\"family\": \"union\", \"weight\": 0.3}]}");
  char space_path[600], out[600], db[600];
  snprintf(space_path, sizeof space_path, "%s", space);
  snprintf(out, sizeof out, "%s/tiny-guide.safetensors", cli_workdir);
  snprintf(db, sizeof db, "%s/guide.db", cli_workdir);
  run_result r = RUN("train", "--space", space_path, "--steps", "6", "--d-model", "16", "--layers",
                     "1", "--batch", "4", "--held-out", "20", "--eval-every", "3", "--json",
                     "--out", out, "--db", db);
  assert_int_equal(r.status, 0);
  json_t *j = parse_json(r.out);
  assert_string_equal(json_string_value(json_object_get(j, "space")), space_path);
  assert_int_equal(json_array_size(json_object_get(j, "evals")), 2);
  json_t *final = json_object_get(j, "final");
  assert_int_equal(json_integer_value(json_object_get(final, "heldout")), 20);
  assert_true(json_real_value(json_object_get(final, "nll")) > 0);
  assert_true(json_is_integer(json_object_get(json_object_get(j, "model"), "id")));
  json_decref(j);
  run_free(&r);
  char *file = slurp(out);
  free(file);
  expect_run(RUN("sql", "--db", db, "SELECT json_extract(config_json, '$.guide.space') FROM models"),
             0, "tiny.json");

  const char *garbage = cli_write("garbage.json", "{\"range\": ");
  char garbage_path[600];
  snprintf(garbage_path, sizeof garbage_path, "%s", garbage);
  expect_usage_error(RUN("train", "--space"), "--space needs a value");
  expect_usage_error(RUN("train", "--space", ""), "--space: the value is empty");
  expect_usage_error(RUN("train", "--space", "/nonexistent/s.json", "--no-db"), "/nonexistent/s.json");
  expect_usage_error(RUN("train", "--space", garbage_path, "--no-db"), "garbage.json");
  expect_usage_error(RUN("train", "--space", space_path, "--inject", "hard"),
                     "--inject does not apply to a guide (--space)");
  expect_usage_error(RUN("train", "--space", space_path, "--positions", "sinusoidal"),
                     "--positions does not apply");
  expect_usage_error(RUN("train", "--space", space_path, "--examples-budget", "5"),
                     "--examples-budget does not apply");
  expect_usage_error(RUN("train", "--space", space_path, "--steps", "0"), "--steps");
  EXPECT_RUN_ALL(RUN("train", "--help"), 0, "--space FILE", "nll", "recall10");
}

/* On a terminal `nsr train` draws its progress bar on stderr. */
static void test_train_progress_bar(void **state) {
  (void)state;
  char out[600];
  snprintf(out, sizeof out, "%s/tty.safetensors", cli_workdir);
  int fd;
  pid_t pid = forkpty(&fd, NULL, NULL, NULL);
  assert_true(pid >= 0);
  if (pid == 0) {
    execl(nsr_path, nsr_path, "train", "--steps", "3", "--d-model", "48", "--layers", "1",
          "--batch", "4", "--held-out", "5", "--no-db", "--out", out, (char *)NULL);
    _exit(127);
  }
  char text[8192];
  size_t len = 0;
  ssize_t n;
  /* read() fails with EIO once the child has closed the terminal. */
  while (len < sizeof text - 1 && (n = read(fd, text + len, sizeof text - 1 - len)) > 0) len += (size_t)n;
  text[len] = '\0';
  close(fd);
  int status;
  assert_int_equal(waitpid(pid, &status, 0), pid);
  assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  if (strstr(text, "train [") == NULL || strstr(text, "3/3") == NULL) {
    fail_msg("no progress bar on the terminal: %.300s", text);
  }
}

int main(int argc, char **argv) {
  if (argc < 3 || cli_runner_init(argv[1]) != 0) return 1;
  nsr_path = argv[1];
  shipped_model = argv[2];
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_tiny_model),
      cmocka_unit_test(test_train_records_model),
      cmocka_unit_test(test_default_model),
      cmocka_unit_test(test_bad_arguments),
      cmocka_unit_test(test_non_finite_weights_refused),
      cmocka_unit_test(test_json_paths_not_utf8),
      cmocka_unit_test(test_experiment_quick),
      cmocka_unit_test(test_experiment_seeds),
      cmocka_unit_test(test_experiment_command_line),
      cmocka_unit_test(test_train_command_line),
      cmocka_unit_test(test_train_progress_bar),
      cmocka_unit_test(test_train_space),
  };
  return cli_runner_finish(cmocka_run_group_tests(tests, setup, NULL));
}
