/* cmd_train_neural.c: `nsr nn ...`, the encoder from the command line.
 *
 *   nsr nn init --config JSON|FILE [--seed S] --out M.safetensors
 *   nsr nn info M.safetensors
 *   nsr nn forward M.safetensors --tokens 3,17,42 [--json]
 *   nsr nn train M.safetensors --data FILE [--held-out FILE] --out OUT
 *                [--steps N] [--batch B] [--lr X] [--seed S] [--eval-every K]
 *
 * Data files hold one example per line, "tokens -> target": token ids
 * separated by spaces or commas, then after "->" the class (softmax head) or
 * the classes that are on (sigmoid head; none is allowed). A model with both
 * heads takes "tokens -> class | labels": the class, then after '|' the
 * labels that are on (none is allowed). Blank lines and lines starting with
 * '#' are skipped. Shorter sequences are padded.
 *
 * Entry point nsr_cmd_nn (commands.h): argv[0] is "nn"; returns the process exit status (0, 1 on failure, 2 on a
 * usage error). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "json.h"
#include "nsr_neural.h"

#define NN_CMD_USAGE                                                          \
  "usage: nsr nn init --config JSON|FILE [--seed S] --out M.safetensors\n"   \
  "       nsr nn info M.safetensors\n"                                       \
  "       nsr nn forward M.safetensors --tokens 3,17,42 [--json]\n"          \
  "       nsr nn train M.safetensors --data FILE [--held-out FILE] --out OUT\n" \
  "                [--steps N] [--batch B] [--lr X] [--seed S] [--eval-every K]\n"

/* The value of option `name` in argv[first..argc), or NULL. */
static const char *option(int argc, char **argv, int first, const char *name) {
  for (int i = first; i + 1 < argc; i++) {
    if (strcmp(argv[i], name) == 0) return argv[i + 1];
  }
  return NULL;
}

static bool has_flag(int argc, char **argv, int first, const char *name) {
  for (int i = first; i < argc; i++) {
    if (strcmp(argv[i], name) == 0) return true;
  }
  return false;
}

/* Reads a whole text file, NUL-terminated; caller frees with nsr_free. */
static nsr_code read_text(const char *path, char **text, size_t *len,
                          nsr_error *err) {
  FILE *f = fopen(path, "rb");
  if (f == NULL) return nsr_fail(err, NSR_ERR_IO, "'%s': %s", path, strerror(errno));
  size_t cap = 4096, n = 0;
  char *buf = nsr_malloc(cap);
  size_t got;
  while (buf != NULL && (got = fread(buf + n, 1, cap - n - 1, f)) > 0) {
    n += got;
    if (cap - n - 1 == 0) {
      char *bigger = nsr_realloc(buf, cap * 2);
      if (bigger == NULL) nsr_free(buf);
      buf = bigger;
      cap *= 2;
    }
  }
  bool failed = ferror(f);
  fclose(f);
  if (buf == NULL) return nsr_fail(err, NSR_ERR_NOMEM, "'%s': out of memory", path);
  if (failed) {
    nsr_free(buf);
    return nsr_fail(err, NSR_ERR_IO, "'%s': read failed", path);
  }
  buf[n] = '\0';
  *text = buf;
  *len = n;
  return NSR_OK;
}

/* Parses "3,17,42" or "3 17 42" into at most `max` ids; *count gets how
 * many. Stops at the end of the line, at "->" or at '|'. */
static nsr_code parse_ids(const char *s, int32_t *ids, int max, int *count,
                          const char **rest, nsr_error *err) {
  *count = 0;
  for (;;) {
    while (*s == ' ' || *s == ',' || *s == '\t') s++;
    if (*s == '\0' || *s == '\n' || *s == '\r' || *s == '|' ||
        (s[0] == '-' && s[1] == '>')) {
      break;
    }
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (end == s || errno != 0 || v < 0 || v > INT32_MAX) {
      return nsr_fail(err, NSR_ERR_PARSE, "'%.20s' is not a token id", s);
    }
    if (*count == max) return nsr_fail(err, NSR_ERR_RANGE, "more than %d ids", max);
    ids[(*count)++] = (int32_t)v;
    s = end;
  }
  if (rest) *rest = s;
  return NSR_OK;
}

/* ---- data files ------------------------------------------------------- */

typedef struct nn_data {
  nsr_nn_dataset set;
  int32_t *tokens, *lengths, *labels;
  float *probs, *label_probs;
} nn_data;

static void data_free(nn_data *d) {
  nsr_free(d->tokens);
  nsr_free(d->lengths);
  nsr_free(d->labels);
  nsr_free(d->probs);
  nsr_free(d->label_probs);
  *d = (nn_data){0};
}

/* Parses the ids of the outputs that are on ("3 5") from s into `ids`
 * (scratch room for n ids) and sets them to 1 in row[0..n-1]; `what` names
 * them in errors. *rest gets where parsing stopped. */
static nsr_code parse_on(const char *s, const char *what, int n, int32_t *ids,
                         float *row, const char **rest, nsr_error *err) {
  int count;
  nsr_code rc = parse_ids(s, ids, n, &count, rest, err);
  for (int k = 0; rc == NSR_OK && k < count; k++) {
    if (ids[k] >= n) {
      return nsr_fail(err, NSR_ERR_RANGE, "%s %d is not in 0..%d", what, ids[k], n - 1);
    }
    row[ids[k]] = 1.0f;
  }
  return rc;
}

/* Parses one "tokens -> target" line (see the top of the file) into
 * example i of d; `ids` is scratch room for max(n_classes, n_labels) ids. */
static nsr_code parse_example(const char *line, const nsr_nn_config *cfg,
                              nn_data *d, int64_t i, int32_t *ids,
                              nsr_error *err) {
  int32_t *tokens = d->tokens + i * cfg->max_len;
  int n;
  const char *rest;
  nsr_code rc = parse_ids(line, tokens, cfg->max_len, &n, &rest, err);
  if (rc != NSR_OK) return rc;
  if (n == 0 || rest[0] != '-') return nsr_fail(err, NSR_ERR_PARSE, "expected \"tokens -> target\"");
  for (int k = 0; k < n; k++) {
    if (tokens[k] >= cfg->vocab) {
      return nsr_fail(err, NSR_ERR_RANGE, "token %d is not in 0..%d", tokens[k], cfg->vocab - 1);
    }
  }
  d->lengths[i] = n;
  if (cfg->head == NSR_NN_HEAD_SIGMOID) {
    rc = parse_on(rest + 2, "class", cfg->n_classes, ids,
                  d->probs + i * cfg->n_classes, &rest, err);
  } else {
    int n_targets;
    rc = parse_ids(rest + 2, ids, cfg->n_classes, &n_targets, &rest, err);
    if (rc == NSR_OK && n_targets != 1) {
      rc = nsr_fail(err, NSR_ERR_PARSE, "expected one class after \"->\"");
    }
    if (rc == NSR_OK && ids[0] >= cfg->n_classes) {
      rc = nsr_fail(err, NSR_ERR_RANGE, "class %d is not in 0..%d", ids[0],
                    cfg->n_classes - 1);
    }
    if (rc == NSR_OK) d->labels[i] = ids[0];
  }
  if (rc == NSR_OK && cfg->n_labels > 0) {
    if (rest[0] != '|') {
      return nsr_fail(err, NSR_ERR_PARSE,
                      "expected \"tokens -> class | labels\" for a model with a label head");
    }
    rc = parse_on(rest + 1, "label", cfg->n_labels, ids,
                  d->label_probs + i * cfg->n_labels, &rest, err);
  }
  if (rc == NSR_OK && *rest != '\0' && *rest != '\r') {
    rc = nsr_fail(err, NSR_ERR_PARSE, "unexpected '%.10s' after the targets", rest);
  }
  return rc;
}

/* Reads a data file for a model with config cfg (see the header comment). */
static nsr_code load_data(const char *path, const nsr_nn_config *cfg,
                          nn_data *d, nsr_error *err) {
  *d = (nn_data){0};
  char *text;
  size_t len;
  nsr_code rc = read_text(path, &text, &len, err);
  if (rc != NSR_OK) return rc;
  int64_t lines = 1;
  for (size_t i = 0; i < len; i++) lines += text[i] == '\n';
  size_t T = (size_t)cfg->max_len;
  d->tokens = nsr_calloc((size_t)lines * T, sizeof(int32_t));
  d->lengths = nsr_calloc((size_t)lines, sizeof(int32_t));
  d->labels = nsr_calloc((size_t)lines, sizeof(int32_t));
  d->probs = nsr_calloc((size_t)lines * cfg->n_classes, sizeof(float));
  d->label_probs = nsr_calloc((size_t)lines * cfg->n_labels + 1, sizeof(float));
  int most = cfg->n_classes > cfg->n_labels ? cfg->n_classes : cfg->n_labels;
  int32_t *ids = nsr_mallocarray((size_t)most, sizeof(int32_t));
  if (!d->tokens || !d->lengths || !d->labels || !d->probs || !d->label_probs || !ids) {
    rc = nsr_fail(err, NSR_ERR_NOMEM, "'%s': out of memory", path);
  }
  int64_t n = 0, line_no = 0;
  int longest = 1;
  for (char *line = text; rc == NSR_OK && line != NULL;) {
    char *next = strchr(line, '\n');
    if (next) *next++ = '\0';
    line_no++;
    const char *s = line + strspn(line, " \t\r");
    if (*s != '\0' && *s != '#') {
      rc = parse_example(s, cfg, d, n, ids, err);
      if (rc != NSR_OK) {
        nsr_error_prefix(err, "'%s' line %lld: ", path, (long long)line_no);
      } else {
        longest = d->lengths[n] > longest ? d->lengths[n] : longest;
        n++;
      }
    }
    line = next;
  }
  nsr_free(text);
  nsr_free(ids);
  if (rc == NSR_OK && n == 0) rc = nsr_fail(err, NSR_ERR_PARSE, "'%s': no examples", path);
  if (rc != NSR_OK) {
    data_free(d);
    return rc;
  }
  /* Rows are max_len apart; the dataset uses the longest length seen. */
  for (int64_t i = 1; i < n && (size_t)longest < T; i++) {
    memmove(d->tokens + i * longest, d->tokens + i * (int64_t)T,
            (size_t)longest * sizeof(int32_t));
  }
  bool sigmoid = cfg->head == NSR_NN_HEAD_SIGMOID;
  d->set = (nsr_nn_dataset){
      .n = n, .seq_len = longest, .tokens = d->tokens, .lengths = d->lengths,
      .labels = sigmoid ? NULL : d->labels, .probs = sigmoid ? d->probs : NULL,
      .label_probs = cfg->n_labels > 0 ? d->label_probs : NULL,
  };
  return NSR_OK;
}

/* ---- subcommands ------------------------------------------------------ */

static int fail_with(FILE *errs, const nsr_error *err) {
  fprintf(errs, "nsr nn: %s\n", err->message);
  return 1;
}

/* The same for a bad argument: the usage exit status. */
static int usage_with(FILE *errs, const nsr_error *err) {
  fail_with(errs, err);
  return 2;
}

/* Reads the numeric options of `nsr nn train` into *opts (defaults for the
 * absent ones), each strictly: a whole number in range or a finite real. */
static nsr_code train_options(int argc, char **argv, nsr_nn_train_opts *opts,
                              nsr_error *err) {
  const char *v;
  uint64_t steps = 1000, batch, seed, every;
  double lr;
  nsr_code rc = NSR_OK;
  if ((v = option(argc, argv, 3, "--steps"))) {
    rc = cli_parse_u64(v, "--steps", 1, INT64_MAX, &steps, err);
  }
  if (rc != NSR_OK) return rc;
  nsr_nn_train_opts_default(opts, (int64_t)steps);
  if ((v = option(argc, argv, 3, "--batch"))) {
    rc = cli_parse_u64(v, "--batch", 1, 1 << 20, &batch, err);
    if (rc == NSR_OK) opts->batch_size = (int)batch;
  }
  if (rc == NSR_OK && (v = option(argc, argv, 3, "--lr"))) {
    rc = cli_parse_double(v, "--lr", &lr, err);
    if (rc == NSR_OK && !(lr > 0.0)) {
      rc = nsr_fail(err, NSR_ERR_RANGE, "--lr: %s is not positive", v);
    }
    if (rc == NSR_OK) opts->schedule.lr_max = lr;
  }
  if (rc == NSR_OK && (v = option(argc, argv, 3, "--seed"))) {
    rc = cli_parse_u64(v, "--seed", 0, UINT64_MAX, &seed, err);
    if (rc == NSR_OK) opts->seed = seed;
  }
  if (rc == NSR_OK && (v = option(argc, argv, 3, "--eval-every"))) {
    rc = cli_parse_u64(v, "--eval-every", 0, INT64_MAX, &every, err);
    if (rc == NSR_OK) opts->eval_every = (int64_t)every;
  }
  return rc;
}

/* Each cmd_* runs one subcommand (see the top of the file) and returns the
 * exit status; messages go to errs, results to out. */
static int nn_init(int argc, char **argv, FILE *out, FILE *errs) {
  const char *config = option(argc, argv, 2, "--config");
  const char *path = option(argc, argv, 2, "--out");
  const char *seed = option(argc, argv, 2, "--seed");
  if (config == NULL || path == NULL) {
    fputs(NN_CMD_USAGE, errs);
    return 2;
  }
  nsr_error err;
  uint64_t seed_value = 1;
  if (seed && cli_parse_u64(seed, "--seed", 0, UINT64_MAX, &seed_value, &err) != NSR_OK) {
    return usage_with(errs, &err);
  }
  char *text = NULL;
  size_t len = strlen(config);
  if (config[0] != '{' && read_text(config, &text, &len, &err) != NSR_OK) {
    return fail_with(errs, &err);
  }
  nsr_nn_config cfg;
  nsr_nn_model *m = NULL;
  nsr_code rc = nsr_nn_config_parse(text ? text : config, len, &cfg, &err);
  nsr_free(text);
  if (rc == NSR_OK) rc = nsr_nn_create(&cfg, &m, &err);
  if (rc == NSR_OK) {
    nsr_nn_init_params(m, seed_value);
    rc = nsr_nn_save(m, path, &err);
  }
  if (rc == NSR_OK) {
    fprintf(out, "wrote %s: %zu parameters\n", path, nsr_nn_num_params(m));
  }
  nsr_nn_free(m);
  return rc == NSR_OK ? 0 : fail_with(errs, &err);
}

static int nn_info(int argc, char **argv, FILE *out, FILE *errs) {
  if (argc < 3) {
    fputs(NN_CMD_USAGE, errs);
    return 2;
  }
  nsr_nn_model *m;
  nsr_error err;
  if (nsr_nn_load(argv[2], &m, &err) != NSR_OK) return fail_with(errs, &err);
  char *config = nsr_nn_config_to_json(nsr_nn_get_config(m));
  fprintf(out, "config %s\nparameters %zu\n", config ? config : "?", nsr_nn_num_params(m));
  nsr_free(config);
  for (size_t i = 0; i < nsr_nn_num_tensors(m); i++) {
    nsr_nn_tensor t = nsr_nn_tensor_at(m, i);
    if (t.ndim == 2) {
      fprintf(out, "%-28s [%lld, %lld]\n", t.name, (long long)t.shape[0], (long long)t.shape[1]);
    } else {
      fprintf(out, "%-28s [%lld]\n", t.name, (long long)t.shape[0]);
    }
  }
  nsr_nn_free(m);
  return 0;
}

/* Sets obj[key] to a JSON array of the n values. */
static nsr_code set_array(json_t *obj, const char *key, const float *v, int n,
                          nsr_error *err) {
  json_t *a = json_array();
  nsr_code rc = a ? NSR_OK : nsr_fail(err, NSR_ERR_NOMEM, "JSON output: out of memory");
  for (int i = 0; rc == NSR_OK && i < n; i++) rc = nsr_json_append(a, nsr_json_real(v[i]), err);
  if (rc == NSR_OK) return nsr_json_set(obj, key, a, err);
  if (a) json_decref(a);
  return rc;
}

/* Writes {"logits":[...],"probs":[...]} for the first head's outputs and,
 * for a model with a label head, "label_logits" and "label_probs" too. */
static nsr_code print_json(FILE *out, const nsr_nn_outputs *o,
                           const nsr_nn_config *cfg, nsr_error *err) {
  json_t *obj = json_object();
  nsr_code rc = obj ? NSR_OK : nsr_fail(err, NSR_ERR_NOMEM, "JSON output: out of memory");
  if (rc == NSR_OK) rc = set_array(obj, "logits", o->logits, cfg->n_classes, err);
  if (rc == NSR_OK) rc = set_array(obj, "probs", o->probs, cfg->n_classes, err);
  if (rc == NSR_OK && cfg->n_labels > 0) {
    rc = set_array(obj, "label_logits", o->label_logits, cfg->n_labels, err);
    if (rc == NSR_OK) rc = set_array(obj, "label_probs", o->label_probs, cfg->n_labels, err);
  }
  char *text = rc == NSR_OK ? nsr_json_dump(obj) : NULL;
  if (rc == NSR_OK && text == NULL) rc = nsr_fail(err, NSR_ERR_NOMEM, "JSON output: out of memory");
  if (text) fprintf(out, "%s\n", text);
  nsr_free(text);
  if (obj) json_decref(obj);
  return rc;
}

/* One line per output: "3\tlogit ..\tprob .." for the first head, then
 * "label 3\tlogit ..\tprob .." for the label head. */
static void print_text(FILE *out, const nsr_nn_outputs *o, const nsr_nn_config *cfg) {
  for (int c = 0; c < cfg->n_classes; c++) {
    fprintf(out, "%d\tlogit %.6f\tprob %.6f\n", c, (double)o->logits[c], (double)o->probs[c]);
  }
  for (int c = 0; c < cfg->n_labels; c++) {
    fprintf(out, "label %d\tlogit %.6f\tprob %.6f\n", c, (double)o->label_logits[c],
            (double)o->label_probs[c]);
  }
}

static int nn_forward(int argc, char **argv, FILE *out, FILE *errs) {
  const char *tokens = option(argc, argv, 3, "--tokens");
  if (argc < 3 || tokens == NULL) {
    fputs(NN_CMD_USAGE, errs);
    return 2;
  }
  nsr_nn_model *m;
  nsr_error err;
  if (nsr_nn_load(argv[2], &m, &err) != NSR_OK) return fail_with(errs, &err);
  /* One pass: starting a pool (threads, their OpenBLAS instances) costs
   * milliseconds, the pass a fraction of one. */
  if (nsr_nn_set_threads(m, 1, &err) != NSR_OK) {
    nsr_nn_free(m);
    return fail_with(errs, &err);
  }
  const nsr_nn_config *cfg = nsr_nn_get_config(m);
  int32_t *ids = nsr_mallocarray((size_t)cfg->max_len, sizeof(int32_t));
  /* One buffer: the first head's logits and probs, then the label head's. */
  size_t C = (size_t)cfg->n_classes, L = (size_t)cfg->n_labels;
  float *values = nsr_mallocarray(2 * (C + L), sizeof(float));
  int n = 0;
  nsr_code rc = ids && values ? NSR_OK : nsr_fail(&err, NSR_ERR_NOMEM, "out of memory");
  if (rc == NSR_OK) rc = parse_ids(tokens, ids, cfg->max_len, &n, NULL, &err);
  if (rc == NSR_OK && n == 0) rc = nsr_fail(&err, NSR_ERR_PARSE, "--tokens: no token ids");
  if (rc != NSR_OK) nsr_error_prefix(&err, "--tokens: ");
  nsr_nn_outputs o = {0};
  if (rc == NSR_OK) {
    o = (nsr_nn_outputs){values, values + C, values + 2 * C, values + 2 * C + L};
    nsr_nn_batch batch = {1, n, ids, NULL};
    rc = nsr_nn_forward_outputs(m, &batch, &o, &err);
  }
  if (rc == NSR_OK && has_flag(argc, argv, 3, "--json")) {
    rc = print_json(out, &o, cfg, &err);
  } else if (rc == NSR_OK) {
    print_text(out, &o, cfg);
  }
  nsr_free(ids);
  nsr_free(values);
  nsr_nn_free(m);
  return rc == NSR_OK ? 0 : fail_with(errs, &err);
}

static void print_eval(void *ctx, const nsr_nn_eval *ev) {
  fprintf((FILE *)ctx, "step %lld: train loss %.4f, held-out loss %.4f, accuracy %.4f",
          (long long)ev->step, ev->train_loss, ev->loss, ev->accuracy);
  /* Only models with a label head measure it (see nsr_nn_eval). */
  if (ev->label_accuracy > 0.0) {
    fprintf((FILE *)ctx, ", label accuracy %.4f", ev->label_accuracy);
  }
  fputc('\n', (FILE *)ctx);
}

static int nn_train(int argc, char **argv, FILE *out, FILE *errs) {
  const char *data_path = option(argc, argv, 3, "--data");
  const char *held_path = option(argc, argv, 3, "--held-out");
  const char *out_path = option(argc, argv, 3, "--out");
  if (argc < 3 || data_path == NULL || out_path == NULL) {
    fputs(NN_CMD_USAGE, errs);
    return 2;
  }
  nsr_nn_train_opts opts;
  nsr_error err;
  if (train_options(argc, argv, &opts, &err) != NSR_OK) return usage_with(errs, &err);
  opts.on_eval = print_eval;
  opts.ctx = out;

  nsr_nn_model *m;
  if (nsr_nn_load(argv[2], &m, &err) != NSR_OK) return fail_with(errs, &err);
  nn_data train = {0}, held = {0};
  nsr_code rc = load_data(data_path, nsr_nn_get_config(m), &train, &err);
  if (rc == NSR_OK && held_path) rc = load_data(held_path, nsr_nn_get_config(m), &held, &err);
  if (rc == NSR_OK) {
    rc = nsr_nn_train(m, &train.set, held_path ? &held.set : &train.set, &opts, &err);
  }
  if (rc == NSR_OK) rc = nsr_nn_save(m, out_path, &err);
  if (rc == NSR_OK) fprintf(out, "wrote %s\n", out_path);
  data_free(&train);
  data_free(&held);
  nsr_nn_free(m);
  return rc == NSR_OK ? 0 : fail_with(errs, &err);
}

int nsr_cmd_nn(int argc, char **argv, FILE *out, FILE *errs) {
  const char *sub = argc > 1 ? argv[1] : "";
  if (cli_is_help(sub) || (argc > 2 && cli_is_help(argv[2]))) {
    fputs(NN_CMD_USAGE, out);
    return 0;
  }
  if (strcmp(sub, "init") == 0) return nn_init(argc, argv, out, errs);
  if (strcmp(sub, "info") == 0) return nn_info(argc, argv, out, errs);
  if (strcmp(sub, "forward") == 0) return nn_forward(argc, argv, out, errs);
  if (strcmp(sub, "train") == 0) return nn_train(argc, argv, out, errs);
  fputs(NN_CMD_USAGE, errs);
  return 2;
}
