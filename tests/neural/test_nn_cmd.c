/* test_nn_cmd.c: `nsr nn init|info|forward|train` (bridge/cmd_train_neural.c)
 * as a user runs them: the real binary on files in a temporary folder. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <unistd.h>

#include "cli_runner.h"
#include "nsr_test_util.h"

static char out_text[65536], err_text[4096];

/* The path of `name` in the run's folder: one buffer per name, valid
 * for the whole run. */
static const char *in_dir(const char *name) {
  static char names[16][32], paths[16][600];
  size_t i = 0;
  while (i < 16 && names[i][0] != '\0' && strcmp(names[i], name) != 0) i++;
  assert_true(i < 16 && strlen(name) < sizeof names[i]);
  snprintf(names[i], sizeof names[i], "%s", name);
  snprintf(paths[i], sizeof paths[i], "%s/%s", cli_workdir, name);
  return paths[i];
}

/* Keeps r's stdout and stderr in out_text and err_text; returns its exit
 * status. */
static int got(run_result r) {
  snprintf(out_text, sizeof out_text, "%s", r.out);
  snprintf(err_text, sizeof err_text, "%s", r.err);
  run_free(&r);
  return r.status;
}

/* `nsr nn info M` succeeds and prints every string of `lines`
 * (NULL-terminated). */
static void expect_info(const char *m, const char *const *lines) {
  assert_int_equal(got(RUN("nn", "info", m)), 0);
  for (; *lines != NULL; lines++) {
    if (strstr(out_text, *lines) == NULL) fail_msg("'%s' not in: %s", *lines, out_text);
  }
}

/* `nsr nn forward M --tokens TOKENS --json` succeeds; its report, parsed
 * (the caller frees it). */
static json_t *forward_json(const char *m, const char *tokens) {
  assert_int_equal(got(RUN("nn", "forward", m, "--tokens", tokens, "--json")), 0);
  json_t *doc = json_loads(out_text, 0, NULL);
  assert_non_null(doc);
  return doc;
}

static const char *config =
    "{\"vocab\":6,\"d_model\":8,\"n_heads\":2,\"n_layers\":1,\"d_ff\":16,"
    "\"max_len\":4,\"n_classes\":2,\"pos\":\"none\",\"pool\":\"mean\"}";

static void test_init_info_forward(void **state) {
  (void)state;
  const char *m = in_dir("m.safetensors");
  assert_int_equal(got(RUN("nn", "init", "--config", config, "--seed", "3", "--out", m)), 0);
  assert_non_null(strstr(out_text, "wrote"));
  expect_info(m, (const char *const[]){"\"pos\":\"none\"", "blocks.0.attn.qkv.weight     [24, 8]",
                                       "head.bias                    [2]", NULL});

  json_t *doc = forward_json(m, "1,2,3");
  json_t *logits = json_object_get(doc, "logits"), *probs = json_object_get(doc, "probs");
  assert_int_equal(json_array_size(logits), 2);
  /* softmax of two logits: p1 = 1 / (1 + e^(l0 - l1)) */
  double l0 = json_real_value(json_array_get(logits, 0));
  double l1 = json_real_value(json_array_get(logits, 1));
  assert_float_equal(json_real_value(json_array_get(probs, 1)), 1 / (1 + exp(l0 - l1)), 1e-6);
  json_decref(doc);
  /* A set model: the order of the tokens does not matter. */
  static char first[sizeof out_text];
  assert_int_equal(got(RUN("nn", "forward", m, "--tokens", "1,2,3")), 0);
  snprintf(first, sizeof first, "%s", out_text);
  assert_int_equal(got(RUN("nn", "forward", m, "--tokens", "3 1 2")), 0);
  assert_string_equal(out_text, first);

  /* Bad input is exit status 2, one line. */
  expect_usage_error(RUN("nn", "forward", m, "--tokens", "1,9"), "token 9 is not in 0..5");
  expect_usage_error(RUN("nn", "forward", m, "--tokens", "1,2,3,4,5"), "--tokens: more than 4 ids");
  expect_usage_error(RUN("nn", "forward", m, "--tokens", ","), "--tokens: no token ids");
  expect_usage_error(RUN("nn", "init", "--config", "{\"vocab\":\"many\"}", "--out", m),
                     "nsr nn init: --config: \"vocab\" must be an integer");
}

static void test_train(void **state) {
  (void)state;
  const char *m = in_dir("m.safetensors"), *t = in_dir("t.safetensors");
  assert_int_equal(got(RUN("nn", "init", "--config", config, "--out", m)), 0);
  /* class 1 when token 5 is in the set: trained on every pair, held out on
   * triples */
  char train[2048] = "# tokens -> class\n", held[2048] = "";
  for (int a = 0; a < 6; a++) {
    for (int b = 0; b < 6; b++) {
      size_t n = strlen(train);
      snprintf(train + n, sizeof train - n, "%d %d -> %d\n", a, b, a == 5 || b == 5);
      n = strlen(held);
      snprintf(held + n, sizeof held - n, "%d,%d,%d -> %d\n", a, b, (a + b) % 5,
               a == 5 || b == 5);
    }
  }
  write_text_file(in_dir("train.txt"), train);
  write_text_file(in_dir("held.txt"), held);
  assert_int_equal(got(RUN("nn", "train", m, "--data", in_dir("train.txt"), "--held-out",
                       in_dir("held.txt"), "--steps", "150", "--batch", "12", "--lr",
                       "0.01", "--eval-every", "50", "--out", t)), 0);
  assert_non_null(strstr(out_text, "step 50: train loss"));
  assert_non_null(strstr(out_text, "step 150: train loss"));
  if (strstr(out_text, "accuracy 1.0000") == NULL) fail_msg("%s", out_text);
  assert_int_equal(got(RUN("nn", "forward", t, "--tokens", "0 5")), 0);
  double p1;
  const char *line = strstr(out_text, "\n1\t");
  assert_non_null(line);
  assert_int_equal(sscanf(strstr(line, "prob") + 5, "%lf", &p1), 1);
  assert_true(p1 > 0.9);

  write_text_file(in_dir("bad.txt"), "1 2 -> 0\n1 2 -> 7\n");
  expect_usage_error(RUN("nn", "train", m, "--data", in_dir("bad.txt"), "--held-out",
                         in_dir("held.txt"), "--out", t),
                     "bad.txt' line 2: class 7 is not in 0..1");
  expect_usage_error(RUN("nn", "train", m, "--data", in_dir("train.txt"), "--held-out",
                         in_dir("bad.txt"), "--out", t),
                     "bad.txt' line 2: class 7 is not in 0..1");
}

/* Numeric options are parsed strictly: garbage, trailing text, negative and
 * out-of-range values are usage errors (exit 2) naming the option. */
static void test_bad_numbers_are_refused(void **state) {
  (void)state;
  const char *m = in_dir("m.safetensors"), *t = in_dir("t.safetensors");
  unlink(t);
  assert_int_equal(got(RUN("nn", "init", "--config", config, "--out", m)), 0);
  write_text_file(in_dir("train.txt"), "1 2 -> 0\n3 4 -> 1\n");
  struct {
    const char *option, *value, *message;
  } bad[] = {
      {"--steps", "ten", "--steps: 'ten' is not a whole number"},
      {"--steps", "0", "--steps: 0 is outside the range 1.."},
      {"--steps", "-5", "--steps: -5 is outside the range"},
      {"--steps", "12abc", "--steps: '12abc' is not a whole number"},
      {"--batch", "", "--batch: '' is not a whole number"},
      {"--batch", "4000000", "--batch: 4000000 is outside the range 1..1048576"},
      {"--lr", "fast", "--lr: 'fast' is not a number"},
      {"--lr", "1e-3x", "--lr: '1e-3x' is not a number"},
      {"--lr", "-0.1", "--lr: -0.1 is not positive"},
      {"--lr", "nan", "--lr: 'nan' is not a number"},
      {"--seed", "0x10", "--seed: '0x10' is not a whole number"},
      {"--seed", "99999999999999999999999", "--seed: 99999999999999999999999 is outside"},
      {"--eval-every", "1.5", "--eval-every: '1.5' is not a whole number"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    int status = got(RUN("nn", "train", m, "--data", in_dir("train.txt"), "--held-out",
                         in_dir("train.txt"), bad[i].option, bad[i].value, "--out", t));
    if (status != 2 || strstr(err_text, bad[i].message) == NULL) {
      fail_msg("%s %s: status %d, %s", bad[i].option, bad[i].value, status, err_text);
    }
  }
  assert_int_equal(got(RUN("nn", "init", "--config", config, "--seed", "one", "--out", m)), 2);
  assert_non_null(strstr(err_text, "--seed: 'one' is not a whole number"));
  assert_int_equal(access(t, F_OK), -1); /* nothing was trained or written */
}

/* A model with both heads: info lists label_head, forward prints both
 * heads, and train reads "tokens -> class | labels". */
static void test_both_heads(void **state) {
  (void)state;
  const char *m = in_dir("m.safetensors"), *t = in_dir("t.safetensors");
  const char *both =
      "{\"vocab\":6,\"d_model\":8,\"n_heads\":2,\"n_layers\":1,\"d_ff\":16,"
      "\"max_len\":4,\"n_classes\":2,\"pos\":\"none\",\"head\":\"both\",\"n_labels\":3}";
  assert_int_equal(got(RUN("nn", "init", "--config", both, "--out", m)), 0);
  expect_info(m, (const char *const[]){"\"head\":\"both\",\"n_labels\":3",
                                       "label_head.weight            [3, 8]",
                                       "label_head.bias              [3]", NULL});

  json_t *doc = forward_json(m, "1,2");
  json_t *ll = json_object_get(doc, "label_logits"), *lp = json_object_get(doc, "label_probs");
  assert_int_equal(json_array_size(json_object_get(doc, "probs")), 2);
  assert_int_equal(json_array_size(ll), 3);
  for (size_t i = 0; i < 3; i++) { /* independent sigmoids */
    double z = json_real_value(json_array_get(ll, i));
    assert_float_equal(json_real_value(json_array_get(lp, i)), 1 / (1 + exp(-z)), 1e-6);
  }
  json_decref(doc);
  assert_int_equal(got(RUN("nn", "forward", m, "--tokens", "1,2")), 0);
  assert_non_null(strstr(out_text, "\nlabel 2\tlogit "));

  /* class: is token 5 present; labels: which of tokens 0, 1, 2 are present */
  char train[4096] = "";
  for (int a = 0; a < 6; a++) {
    for (int b = 0; b < 6; b++) {
      size_t n = strlen(train);
      n += (size_t)snprintf(train + n, sizeof train - n, "%d %d -> %d |", a, b,
                            a == 5 || b == 5);
      for (int l = 0; l < 3; l++) {
        if (a == l || b == l) n += (size_t)snprintf(train + n, sizeof train - n, " %d", l);
      }
      snprintf(train + n, sizeof train - n, "\n");
    }
  }
  write_text_file(in_dir("train.txt"), train);
  assert_int_equal(got(RUN("nn", "train", m, "--data", in_dir("train.txt"), "--held-out",
                           in_dir("train.txt"), "--steps", "200", "--batch", "12", "--lr", "0.01",
                           "--out", t)),
                   0);
  if (strstr(out_text, "accuracy 1.0000, label accuracy 1.0000") == NULL) {
    fail_msg("%s", out_text);
  }
  struct {
    const char *line, *message;
  } bad[] = {
      {"1 2 -> 0\n", "line 1: expected \"tokens -> class | labels\""},
      {"1 2 -> 0 | 3\n", "line 1: label 3 is not in 0..2"},
      {"1 2 -> 0 1 | 2\n", "line 1: expected one class after \"->\""},
      {"1 2 -> 0 | 1 | 2\n", "line 1: unexpected '| 2' after the targets"},
      {"1 2 -> 0 | x\n", "line 1: 'x' is not a token id"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    write_text_file(in_dir("bad.txt"), bad[i].line);
    int status = got(RUN("nn", "train", m, "--data", in_dir("bad.txt"), "--held-out",
                         in_dir("train.txt"), "--out", t));
    if (status != 2 || strstr(err_text, bad[i].message) == NULL) {
      fail_msg("%s: status %d, %s", bad[i].line, status, err_text);
    }
  }
  /* A one-head model refuses the label part. */
  assert_int_equal(got(RUN("nn", "init", "--config", config, "--out", m)), 0);
  write_text_file(in_dir("bad.txt"), "1 2 -> 0 | 1\n");
  expect_usage_error(RUN("nn", "train", m, "--data", in_dir("bad.txt"), "--held-out",
                         in_dir("bad.txt"), "--out", t),
                     "unexpected '| 1' after the targets");
}

/* Unknown options, missing values and missing required options are one
 * usage line (exit 2), never ignored: a misspelt --held-out used to train
 * silently with the training set reported as the "held-out" one. */
/* Without --held-out the evaluation is on the training examples, and the
 * report says so instead of calling it held-out. */
static void test_train_without_held_out(void **state) {
  (void)state;
  const char *m = in_dir("m.safetensors"), *t = in_dir("t.safetensors");
  const char *data = in_dir("train.txt");
  assert_int_equal(got(RUN("nn", "init", "--config", config, "--out", m)), 0);
  write_text_file(data, "1 2 -> 0\n3 4 -> 1\n");
  run_result r = RUN("nn", "train", m, "--data", data, "--steps", "2", "--out", t);
  assert_int_equal(r.status, 0);
  assert_non_null(strstr(r.out, "training-set loss"));
  assert_null(strstr(r.out, "held-out"));
  run_free(&r);
  r = RUN("nn", "train", m, "--data", data, "--held-out", data, "--steps", "2", "--out", t);
  assert_int_equal(r.status, 0);
  assert_non_null(strstr(r.out, "held-out loss"));
  run_free(&r);
}

static void test_usage_errors(void **state) {
  (void)state;
  const char *m = in_dir("m.safetensors"), *t = in_dir("t.safetensors");
  const char *data = in_dir("train.txt");
  unlink(t);
  assert_int_equal(got(RUN("nn", "init", "--config", config, "--out", m)), 0);
  write_text_file(data, "1 2 -> 0\n3 4 -> 1\n");
  expect_usage_error(RUN("nn", "train", m, "--data", data, "--heldout", data, "--out", t),
                     "nsr nn train: unknown option '--heldout' (see 'nsr nn train --help')");
  expect_usage_error(RUN("nn", "init", "--seeed", "3", "--out", m),
                     "nsr nn init: unknown option '--seeed'");
  expect_usage_error(RUN("nn", "forward", m, "--tokens", "1", "--bogus", "x"),
                     "nsr nn forward: unknown option '--bogus'");
  expect_usage_error(RUN("nn", "info", m, "extra"), "nsr nn info: unexpected argument 'extra'");
  expect_usage_error(RUN("nn", "init", "--out"), "--out needs a value");
  expect_usage_error(RUN("nn", "forward", m, "--tokens"), "--tokens needs a value");
  expect_usage_error(RUN("nn", "forward", m), "--tokens is required");
  expect_usage_error(RUN("nn", "init", "--config", config), "--out is required");
  expect_usage_error(RUN("nn", "train", m, "--held-out", data, "--out", t), "--data is required");
  expect_usage_error(RUN("nn", "train", m, "--data", data, "--held-out", data), "--out is required");
  /* Files named on the command line that are missing: bad input too. */
  expect_usage_error(RUN("nn", "train", m, "--data", data, "--held-out", "/no/such/held.txt",
                         "--out", t),
                     "nsr nn train: --held-out '/no/such/held.txt': No such file");
  expect_usage_error(RUN("nn", "info", "/no/such/m.safetensors"),
                     "nsr nn info: checkpoint '/no/such/m.safetensors': No such file");
  expect_usage_error(RUN("nn", "forward", "/no/such/m.safetensors", "--tokens", "1"),
                     "checkpoint '/no/such/m.safetensors'");
  expect_usage_error(RUN("nn", "init", "--config", "/no/such/config.json", "--out", m),
                     "--config '/no/such/config.json'");
  expect_usage_error(RUN("nn", "init", "--config", "{\"layers\":3}", "--out", m),
                     "nsr nn init: --config: unknown key \"layers\"");
  expect_usage_error(RUN("nn", "bogus"), "nsr nn: unknown subcommand 'bogus' (see 'nsr nn --help')");
  expect_usage_error(RUN("nn"), "nsr nn: missing subcommand");
  assert_int_equal(access(t, F_OK), -1); /* nothing was trained or written */
}

/* `{}`, like no --config at all, is the default model. */
static void test_default_config(void **state) {
  (void)state;
  const char *m = in_dir("d.safetensors");
  static const char *const default_config[] = {
      "config {\"vocab\":128,\"d_model\":128,\"n_heads\":4,\"n_layers\":2,\"d_ff\":512,"
      "\"max_len\":16,\"n_classes\":64,\"pos\":\"sinusoidal\",\"pool\":\"mean\",\"head\":\"softmax\"}",
      NULL};
  assert_int_equal(got(RUN("nn", "init", "--config", "{}", "--out", m)), 0);
  expect_info(m, default_config);
  assert_int_equal(got(RUN("nn", "init", "--out", m)), 0);
  expect_info(m, default_config);
  unlink(m);
}

/* Each help lists every option of its subcommand; init's names every
 * config key with its default. */
static void test_help(void **state) {
  (void)state;
  EXPECT_RUN_ALL(RUN("nn", "--help"), 0, "Usage: nsr nn SUBCOMMAND", "  init ", "  info ",
                 "  forward ", "  train ");
  EXPECT_RUN_ALL(RUN("help", "nn"), 0, "Usage: nsr nn SUBCOMMAND");
  EXPECT_RUN_ALL(RUN("nn", "init", "--help"), 0, "Usage: nsr nn init [OPTIONS]",
                 "--config CONFIG", "(default: {})", "--seed S", "--out FILE", "  vocab 128 ",
                 "  d_model 128 ", "  n_heads 4 ", "  n_layers 2 ", "  d_ff 512 ", "  max_len 16 ",
                 "  n_classes 64 ", "  pos \"sinusoidal\" ", "  pool \"mean\" ",
                 "  head \"softmax\" ", "  n_labels 0 ");
  EXPECT_RUN_ALL(RUN("nn", "info", "-h"), 0, "Usage: nsr nn info M.safetensors");
  EXPECT_RUN_ALL(RUN("nn", "forward", "--help"), 0, "Usage: nsr nn forward [OPTIONS] M.safetensors",
                 "--tokens IDS", "--json", "\"label_logits\"");
  EXPECT_RUN_ALL(RUN("nn", "train", "--help"), 0, "--data FILE", "--held-out FILE", "--out FILE",
                 "--steps N", "(1..1000000000, default: 1000)", "(1..1048576, default: 32)", "--batch B", "--lr X", "--seed S",
                 "--eval-every K", "\"tokens -> target\"");
}

int main(int argc, char **argv) {
  if (argc < 2 || cli_runner_init(argv[1]) != 0) return 1;
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_init_info_forward),
      cmocka_unit_test(test_train),
      cmocka_unit_test(test_bad_numbers_are_refused),
      cmocka_unit_test(test_both_heads),
      cmocka_unit_test(test_usage_errors),
      cmocka_unit_test(test_train_without_held_out),
      cmocka_unit_test(test_default_config),
      cmocka_unit_test(test_help),
  };
  return cli_runner_finish(cmocka_run_group_tests(tests, NULL, NULL));
}
