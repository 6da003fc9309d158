/* cmd_train_neural.c: `nsr nn ...`, the encoder from the command line:
 * `init` writes a fresh model, `info` describes one, `forward` runs one on
 * a token sequence and `train` trains one on data files (the format is in
 * train_description). Each subcommand has its own option table (cli.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "fileio.h"
#include "json.h"
#include "nsr_neural.h"

/* Data and config files are read whole; this bounds what a bad path (a
 * device, a huge file) can make the command allocate. */
#define MAX_INPUT_BYTES ((size_t)1 << 30)

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

/* Parses one "tokens -> target" line (see train_description) into
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

/* Reads a data file for a model with config cfg (see train_description). */
static nsr_code load_data(const char *path, const nsr_nn_config *cfg,
                          nn_data *d, nsr_error *err) {
  *d = (nn_data){0};
  char *text;
  size_t len;
  nsr_code rc = nsr_read_file(path, MAX_INPUT_BYTES, &text, &len, err);
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

/* ---- shared by the subcommands ----------------------------------------- */

/* CLI_CONTINUE when the option `name` was given (value not NULL), else a
 * usage error of `cmd`. */
static int require(const char *cmd, const char *name, const char *value) {
  return value != NULL ? CLI_CONTINUE : cli_usage_error(cmd, "%s is required", name);
}

/* CLI_CONTINUE when the input file `path` can be read; else a file named on
 * the command line is missing: bad input, one line naming it. */
static int check_input(const char *cmd, const char *what, const char *path) {
  if (access(path, R_OK) == 0) return CLI_CONTINUE;
  return cli_fail(cmd, CLI_EXIT_USAGE, "%s '%s': %s", what, path, strerror(errno));
}

/* Loads the checkpoint named on the command line into *m; CLI_CONTINUE or
 * the exit status after reporting. */
static int load_model(const char *cmd, const char *path, nsr_nn_model **m) {
  int status = check_input(cmd, "checkpoint", path);
  if (status != CLI_CONTINUE) return status;
  nsr_error err;
  return nsr_nn_load(path, m, &err) == NSR_OK ? CLI_CONTINUE : cli_report(cmd, &err);
}

#define N_OPTS(opts) (sizeof(opts) / sizeof((opts)[0]))

/* ---- nsr nn init --------------------------------------------------------- */

#define CMD_INIT "nn init"

/* Parses the --config value into *cfg: JSON text when it starts with '{',
 * else the name of a file holding it. CLI_CONTINUE, or the exit status
 * after reporting. */
static int read_config(const char *config, nsr_nn_config *cfg) {
  nsr_error err;
  char *text = NULL;
  size_t len = strlen(config);
  if (config[0] != '{') {
    int status = check_input(CMD_INIT, "--config", config);
    if (status != CLI_CONTINUE) return status;
    if (nsr_read_file(config, MAX_INPUT_BYTES, &text, &len, &err) != NSR_OK) {
      return cli_report(CMD_INIT, &err);
    }
  }
  nsr_code rc = nsr_nn_config_parse(text ? text : config, len, cfg, &err);
  nsr_free(text);
  if (rc == NSR_OK) return CLI_CONTINUE;
  nsr_error_prefix(&err, "--config: ");
  return cli_report(CMD_INIT, &err);
}

static int nn_init(int argc, char **argv) {
  const char *config = "{}", *out = NULL;
  uint64_t seed = 1;
  const cli_opt opts[] = {
      CLI_OPTION("--config", CLI_STRING, &config, "CONFIG",
                 "the model's config: a JSON object, or a file holding one\n(keys below)"),
      CLI_OPTION("--seed", CLI_U64, &seed, "S", "seed of the initial parameters"),
      CLI_OPTION("--out", CLI_STRING, &out, "FILE", "the checkpoint to write (required)"),
  };
  char *keys = nsr_nn_config_describe();
  if (keys == NULL) return cli_fail(CMD_INIT, CLI_EXIT_FAILURE, "out of memory");
  char epilog[4096];
  snprintf(epilog, sizeof epilog,
           "Config keys, each with its default (an absent key takes it):\n%s\n"
           "Example: nsr nn init --config '{\"vocab\":101,\"n_classes\":2}' --out m.safetensors\n",
           keys);
  nsr_free(keys);
  const cli_spec spec = {
      .name = CMD_INIT, .opts = opts, .n_opts = N_OPTS(opts), .epilog = epilog,
      .description = "Writes a new encoder with freshly initialised parameters (token embeddings\n"
                     "N(0, 1), linear weights N(0, 0.02), biases 0) to a safetensors checkpoint.\n"};
  cli_args args;
  int status = cli_parse(&spec, argc, argv, &args);
  if (status == CLI_CONTINUE) status = require(CMD_INIT, "--out", out);
  nsr_nn_config cfg;
  if (status == CLI_CONTINUE) status = read_config(config, &cfg);
  if (status != CLI_CONTINUE) return status;
  nsr_error err;
  nsr_nn_model *m = NULL;
  nsr_code rc = nsr_nn_create(&cfg, &m, &err);
  if (rc == NSR_OK) {
    nsr_nn_init_params(m, seed);
    rc = nsr_nn_save(m, out, &err);
  }
  if (rc == NSR_OK) printf("wrote %s: %zu parameters\n", out, nsr_nn_num_params(m));
  nsr_nn_free(m);
  return cli_finish(CMD_INIT, rc == NSR_OK ? CLI_EXIT_OK : cli_report(CMD_INIT, &err));
}

/* ---- nsr nn info --------------------------------------------------------- */

#define CMD_INFO "nn info"

static int nn_info(int argc, char **argv) {
  const cli_spec spec = {
      .name = CMD_INFO, .args = "M.safetensors", .min_args = 1, .max_args = 1,
      .description = "Prints a checkpoint's config, its parameter count and every tensor's\n"
                     "name and shape.\n"};
  cli_args args;
  int status = cli_parse(&spec, argc, argv, &args);
  nsr_nn_model *m = NULL;
  if (status == CLI_CONTINUE) status = load_model(CMD_INFO, args.args[0], &m);
  if (status != CLI_CONTINUE) return status;
  char *config = nsr_nn_config_to_json(nsr_nn_get_config(m));
  printf("config %s\nparameters %zu\n", config ? config : "?", nsr_nn_num_params(m));
  nsr_free(config);
  for (size_t i = 0; i < nsr_nn_num_tensors(m); i++) {
    nsr_nn_tensor t = nsr_nn_tensor_at(m, i);
    if (t.ndim == 2) {
      printf("%-28s [%lld, %lld]\n", t.name, (long long)t.shape[0], (long long)t.shape[1]);
    } else {
      printf("%-28s [%lld]\n", t.name, (long long)t.shape[0]);
    }
  }
  nsr_nn_free(m);
  return cli_finish(CMD_INFO, CLI_EXIT_OK);
}

/* ---- nsr nn forward ------------------------------------------------------ */

#define CMD_FORWARD "nn forward"

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
static nsr_code print_json(const nsr_nn_outputs *o, const nsr_nn_config *cfg, nsr_error *err) {
  json_t *obj = json_object();
  nsr_code rc = obj ? NSR_OK : nsr_fail(err, NSR_ERR_NOMEM, "JSON output: out of memory");
  if (rc == NSR_OK) rc = set_array(obj, "logits", o->logits, cfg->n_classes, err);
  if (rc == NSR_OK) rc = set_array(obj, "probs", o->probs, cfg->n_classes, err);
  if (rc == NSR_OK && cfg->n_labels > 0) {
    rc = set_array(obj, "label_logits", o->label_logits, cfg->n_labels, err);
    if (rc == NSR_OK) rc = set_array(obj, "label_probs", o->label_probs, cfg->n_labels, err);
  }
  if (rc == NSR_OK) return cli_print_json(stdout, obj, err);
  json_decref(obj);
  return rc;
}

/* One line per output: "3\tlogit ..\tprob .." for the first head, then
 * "label 3\tlogit ..\tprob .." for the label head. */
static void print_text(const nsr_nn_outputs *o, const nsr_nn_config *cfg) {
  for (int c = 0; c < cfg->n_classes; c++) {
    printf("%d\tlogit %.6f\tprob %.6f\n", c, (double)o->logits[c], (double)o->probs[c]);
  }
  for (int c = 0; c < cfg->n_labels; c++) {
    printf("label %d\tlogit %.6f\tprob %.6f\n", c, (double)o->label_logits[c],
           (double)o->label_probs[c]);
  }
}

/* Runs m on the token ids in `tokens` and prints its outputs. */
static nsr_code forward(nsr_nn_model *m, const char *tokens, bool json, nsr_error *err) {
  /* One pass: starting a pool (threads, their OpenBLAS instances) costs
   * milliseconds, the pass a fraction of one. */
  if (nsr_nn_set_threads(m, 1, err) != NSR_OK) return err->code;
  const nsr_nn_config *cfg = nsr_nn_get_config(m);
  int32_t *ids = nsr_mallocarray((size_t)cfg->max_len, sizeof(int32_t));
  /* One buffer: the first head's logits and probs, then the label head's. */
  size_t C = (size_t)cfg->n_classes, L = (size_t)cfg->n_labels;
  float *values = nsr_mallocarray(2 * (C + L), sizeof(float));
  int n = 0;
  nsr_code rc = ids && values ? NSR_OK : nsr_fail(err, NSR_ERR_NOMEM, "out of memory");
  if (rc == NSR_OK) rc = parse_ids(tokens, ids, cfg->max_len, &n, NULL, err);
  if (rc == NSR_OK && n == 0) rc = nsr_fail(err, NSR_ERR_PARSE, "no token ids");
  if (rc != NSR_OK && rc != NSR_ERR_NOMEM) nsr_error_prefix(err, "--tokens: ");
  nsr_nn_outputs o = {0};
  if (rc == NSR_OK) {
    o = (nsr_nn_outputs){values, values + C, values + 2 * C, values + 2 * C + L};
    rc = nsr_nn_forward_outputs(m, &(nsr_nn_batch){1, n, ids, NULL}, &o, err);
  }
  if (rc == NSR_OK && json) {
    rc = print_json(&o, cfg, err);
  } else if (rc == NSR_OK) {
    print_text(&o, cfg);
  }
  nsr_free(ids);
  nsr_free(values);
  return rc;
}

static int nn_forward(int argc, char **argv) {
  const char *tokens = NULL;
  bool json = false;
  const cli_opt opts[] = {
      CLI_OPTION("--tokens", CLI_STRING, &tokens, "IDS",
                 "the input: token ids separated by commas or spaces (required)"),
      CLI_FLAG_OPTION("--json", &json, "print one JSON object"),
  };
  const cli_spec spec = {
      .name = CMD_FORWARD, .args = "M.safetensors", .opts = opts, .n_opts = N_OPTS(opts),
      .min_args = 1, .max_args = 1,
      .description =
          "Runs the encoder in M on one token sequence and prints, per output, its\n"
          "logit and probability (\"3\\tlogit ..\\tprob ..\"; a label head's lines start with\n"
          "\"label\").\n"
          "\n"
          "--json prints {\"logits\":[..],\"probs\":[..]}, and for a model with a label head\n"
          "\"label_logits\" and \"label_probs\" too.\n",
      .epilog = "Example: nsr nn forward m.safetensors --tokens 3,17,42\n"};
  cli_args args;
  int status = cli_parse(&spec, argc, argv, &args);
  if (status == CLI_CONTINUE) status = require(CMD_FORWARD, "--tokens", tokens);
  nsr_nn_model *m = NULL;
  if (status == CLI_CONTINUE) status = load_model(CMD_FORWARD, args.args[0], &m);
  if (status != CLI_CONTINUE) return status;
  nsr_error err;
  status = forward(m, tokens, json, &err) == NSR_OK ? CLI_EXIT_OK : cli_report(CMD_FORWARD, &err);
  nsr_nn_free(m);
  return cli_finish(CMD_FORWARD, status);
}

/* ---- nsr nn train -------------------------------------------------------- */

#define CMD_TRAIN "nn train"
#define DEFAULT_STEPS 1000

static const char train_description[] =
    "Trains the encoder in M with AdamW on the examples of --data (random\n"
    "minibatches, the learning rate warmed up over 5% of the steps, then cosine\n"
    "to 0), reports the loss and accuracy on the examples of --held-out (without\n"
    "it: on the training examples, and says so) every K steps and at the end,\n"
    "and writes the trained model to --out.\n"
    "\n"
    "Data files hold one example per line, \"tokens -> target\": token ids\n"
    "separated by spaces or commas, then after \"->\" the class (softmax head) or\n"
    "the classes that are on (sigmoid head; none is allowed). A model with both\n"
    "heads takes \"tokens -> class | labels\": the class, then after '|' the\n"
    "labels that are on (none is allowed). Blank lines and lines starting with\n"
    "'#' are skipped. Shorter sequences are padded.\n";

/* ctx names the evaluation set: "held-out" or "training-set". */
static void print_eval(void *ctx, const nsr_nn_eval *ev) {
  const char *set = ctx;
  printf("step %lld: train loss %.4f, %s loss %.4f, %s accuracy %.4f", (long long)ev->step,
         ev->train_loss, set, ev->loss, set, ev->accuracy);
  /* Only models with a label head measure it (see nsr_nn_eval). */
  if (ev->label_accuracy > 0.0) printf(", label accuracy %.4f", ev->label_accuracy);
  putchar('\n');
}

/* The files of a training run, as named on the command line. */
typedef struct train_files {
  const char *model, *data, *held_out, *out;
} train_files;

/* Trains the checkpoint f->model with opts and saves it to f->out. */
static int train(const train_files *f, const nsr_nn_train_opts *opts) {
  nsr_nn_model *m = NULL;
  int status = load_model(CMD_TRAIN, f->model, &m);
  if (status != CLI_CONTINUE) return status;
  nsr_error err;
  nn_data data = {0}, held = {0};
  nsr_code rc = load_data(f->data, nsr_nn_get_config(m), &data, &err);
  if (rc == NSR_OK && f->held_out) rc = load_data(f->held_out, nsr_nn_get_config(m), &held, &err);
  if (rc == NSR_OK) rc = nsr_nn_train(m, &data.set, f->held_out ? &held.set : &data.set, opts, &err);
  if (rc == NSR_OK) rc = nsr_nn_save(m, f->out, &err);
  if (rc == NSR_OK) printf("wrote %s\n", f->out);
  data_free(&data);
  data_free(&held);
  nsr_nn_free(m);
  return rc == NSR_OK ? CLI_EXIT_OK : cli_report(CMD_TRAIN, &err);
}

static int nn_train(int argc, char **argv) {
  train_files f = {0};
  nsr_nn_train_opts opts;
  nsr_nn_train_opts_default(&opts, DEFAULT_STEPS);
  uint64_t steps = DEFAULT_STEPS, eval_every = (uint64_t)opts.eval_every;
  const cli_opt table[] = {
      CLI_OPTION("--data", CLI_STRING, &f.data, "FILE", "the training examples (required)"),
      CLI_OPTION("--held-out", CLI_STRING, &f.held_out, "FILE",
                 "the examples the loss and accuracy are measured on",
                 .default_text = "the training examples"),
      CLI_OPTION("--out", CLI_STRING, &f.out, "FILE", "the trained checkpoint to write (required)"),
      CLI_OPTION("--steps", CLI_U64, &steps, "N", "AdamW steps", .min = 1, .max = 1e9),
      CLI_OPTION("--batch", CLI_INT, &opts.batch_size, "B", "examples per step", .min = 1,
                 .max = 1 << 20),
      CLI_OPTION("--lr", CLI_DOUBLE, &opts.schedule.lr_max, "X", "peak learning rate (> 0)"),
      CLI_OPTION("--seed", CLI_U64, &opts.seed, "S", "seed of the order of the examples"),
      CLI_OPTION("--eval-every", CLI_U64, &eval_every, "K",
                 "evaluate on --held-out every K steps (0 = only at the end)", .max = 1e9),
  };
  const cli_spec spec = {
      .name = CMD_TRAIN, .args = "M.safetensors", .description = train_description,
      .opts = table, .n_opts = N_OPTS(table), .min_args = 1, .max_args = 1,
      .epilog = "Example: nsr nn train m.safetensors --data train.txt --held-out held.txt\n"
                "           --steps 500 --eval-every 100 --out trained.safetensors\n"};
  cli_args args;
  int status = cli_parse(&spec, argc, argv, &args);
  if (status == CLI_CONTINUE) status = require(CMD_TRAIN, "--data", f.data);
  if (status == CLI_CONTINUE) status = require(CMD_TRAIN, "--out", f.out);
  if (status == CLI_CONTINUE && !(opts.schedule.lr_max > 0.0)) {
    status = cli_usage_error(CMD_TRAIN, "--lr: %g is not positive", opts.schedule.lr_max);
  }
  if (status == CLI_CONTINUE) status = check_input(CMD_TRAIN, "--data", f.data);
  if (status == CLI_CONTINUE && f.held_out) status = check_input(CMD_TRAIN, "--held-out", f.held_out);
  if (status != CLI_CONTINUE) return status;
  f.model = args.args[0];
  /* The defaults again for the steps given (the schedule's warm-up and
   * length follow them), with the options given. */
  nsr_nn_train_opts given = opts;
  nsr_nn_train_opts_default(&opts, (int64_t)steps);
  opts.batch_size = given.batch_size;
  opts.schedule.lr_max = given.schedule.lr_max;
  opts.seed = given.seed;
  opts.eval_every = (int64_t)eval_every;
  opts.on_eval = print_eval;
  opts.ctx = f.held_out ? "held-out" : "training-set";
  return cli_finish(CMD_TRAIN, train(&f, &opts));
}

/* ---- nsr nn -------------------------------------------------------------- */

int cmd_nn(int argc, char **argv) {
  static const cli_subcommand subs[] = {
      {"init", nn_init}, {"info", nn_info}, {"forward", nn_forward}, {"train", nn_train}};
  const cli_spec spec = {
      .name = "nn",
      .description = "The transformer encoder (neural/) from the command line: models are\n"
                     "safetensors checkpoints with their config in the metadata.\n",
      .subcommands = "  init     write a new model from a JSON config\n"
                     "  info     print a model's config and tensors\n"
                     "  forward  run a model on token ids\n"
                     "  train    train a model on token files\n",
      .epilog = "Each subcommand takes --help, e.g. nsr nn train --help.\n"};
  return cli_run_subcommand(&spec, subs, N_OPTS(subs), argc, argv);
}
