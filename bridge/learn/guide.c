/* guide.c: guide files (a checkpoint plus "nsr.guide" metadata), checked
 * against the space they are used with, and the network run on one
 * example set (nsr_learn.h, "guide"). */
#include "nsr_learn.h"

#include <inttypes.h>
#include <stdlib.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "json.h"

struct nsr_guide {
  nsr_nn_model *model;
  bool owns_model;
  uint32_t n_max;
  size_t weights;                 /* C·P: the grammar's classes, before "interval" */
  char space[NSR_SPACE_NAME_MAX]; /* the name in the metadata ("" when wrapped) */
  float *logits;                  /* [C·P + 1] of the last nsr_guide_condition */
};

void nsr_guide_config(const nsr_space *space, int d_model, int n_layers, nsr_nn_config *out) {
  nsr_propose_config(nsr_space_max(space), d_model, n_layers, out);
  out->n_classes = (int)(nsr_space_guide_contexts(space) * nsr_space_productions(space)) + 1;
}

/* Checks that the model's layout is the one nsr_guide_config makes for
 * `space`; NSR_ERR_FORMAT naming the mismatch otherwise. */
static nsr_code check_layout(const nsr_nn_config *cfg, const nsr_space *space, nsr_error *err) {
  nsr_nn_config want;
  nsr_guide_config(space, cfg->d_model, cfg->n_layers, &want);
  if (cfg->vocab != want.vocab || cfg->n_classes != want.n_classes ||
      cfg->max_len < want.max_len || cfg->head != NSR_NN_HEAD_SOFTMAX) {
    return nsr_fail(err, NSR_ERR_FORMAT,
                    "the network (vocab %d, %d classes, max_len %d) does not fit the space "
                    "(vocab %d, %d classes, max_len >= %d, a softmax head)",
                    cfg->vocab, cfg->n_classes, cfg->max_len, want.vocab, want.n_classes,
                    want.max_len);
  }
  return NSR_OK;
}

nsr_code nsr_guide_wrap(nsr_nn_model *model, const nsr_space *space, nsr_guide **out,
                        nsr_error *err) {
  *out = NULL;
  nsr_code rc = check_layout(nsr_nn_get_config(model), space, err);
  if (rc != NSR_OK) return rc;
  nsr_guide *g = nsr_calloc(1, sizeof *g);
  size_t p = nsr_space_guide_contexts(space) * nsr_space_productions(space);
  float *logits = nsr_mallocarray(p + 1, sizeof *logits);
  if (g == NULL || logits == NULL) {
    nsr_free(g);
    nsr_free(logits);
    return nsr_fail(err, NSR_ERR_NOMEM, "guide: out of memory");
  }
  *g = (nsr_guide){.model = model, .n_max = nsr_space_max(space), .weights = p, .logits = logits};
  memset(logits, 0, (p + 1) * sizeof *logits);
  /* Reserving now keeps every later query free of allocation. */
  rc = nsr_nn_reserve(model, 1, false, err);
  if (rc != NSR_OK) {
    nsr_guide_free(g);
    return rc;
  }
  *out = g;
  return NSR_OK;
}

void nsr_guide_free(nsr_guide *guide) {
  if (guide == NULL) return;
  if (guide->owns_model) nsr_nn_free(guide->model);
  nsr_free(guide->logits);
  nsr_free(guide);
}

const char *nsr_guide_space_name(const nsr_guide *guide) { return guide->space; }

/* ---- files ---------------------------------------------------------------- */

nsr_code nsr_guide_save(const nsr_nn_model *model, const nsr_space *space, const char *space_name,
                        const char *path, nsr_error *err) {
  char signature[17];
  snprintf(signature, sizeof signature, "%016" PRIx64, nsr_space_signature(space));
  json_t *meta = json_pack("{s:s, s:o, s:s, s:I, s:I}", "format", NSR_GUIDE_FORMAT, "space",
                           nsr_json_string(space_name), "signature", signature, "range",
                           (json_int_t)nsr_space_max(space), "productions",
                           (json_int_t)nsr_space_productions(space));
  char *text = meta ? json_dumps(meta, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
  json_decref(meta);
  if (text == NULL) return nsr_fail(err, NSR_ERR_NOMEM, "saving '%s': out of memory", path);
  const char *extra[] = {NSR_GUIDE_META_KEY, text};
  nsr_code rc = nsr_nn_save_meta(model, path, extra, 1, err);
  free(text); /* jansson's allocator */
  return rc;
}

/* What a guide file says about its space. */
typedef struct guide_meta {
  char space[NSR_SPACE_NAME_MAX];
  uint64_t signature;
  json_int_t range, productions;
} guide_meta;

/* Parses the "nsr.guide" metadata text; NSR_ERR_FORMAT naming what is
 * wrong. */
static nsr_code parse_meta(const char *text, guide_meta *out, nsr_error *err) {
  if (text == NULL) {
    return nsr_fail(err, NSR_ERR_FORMAT, "not a guide: no \"" NSR_GUIDE_META_KEY "\" metadata");
  }
  json_error_t jerr;
  json_t *root = json_loads(text, 0, &jerr);
  const char *format = NULL, *space = NULL, *signature = NULL;
  int bad = root == NULL ||
            json_unpack(root, "{s:s, s:s, s:s, s:I, s:I}", "format", &format, "space", &space,
                        "signature", &signature, "range", &out->range, "productions",
                        &out->productions) != 0;
  nsr_code rc = NSR_OK;
  char *end = NULL;
  if (bad) {
    rc = nsr_fail(err, NSR_ERR_FORMAT,
                  "metadata \"" NSR_GUIDE_META_KEY "\" is not an object with format, space, "
                  "signature, range and productions");
  } else if (strcmp(format, NSR_GUIDE_FORMAT_V1) == 0) {
    rc = nsr_fail(err, NSR_ERR_FORMAT,
                  "guide format '%s' (one weight per production) is no longer read: retrain it "
                  "with nsr train --space (format " NSR_GUIDE_FORMAT ")", format);
  } else if (strcmp(format, NSR_GUIDE_FORMAT) != 0) {
    rc = nsr_fail(err, NSR_ERR_FORMAT, "guide format '%s' is not " NSR_GUIDE_FORMAT, format);
  } else if (strlen(signature) != 16 ||
             (out->signature = strtoull(signature, &end, 16), *end != '\0')) {
    rc = nsr_fail(err, NSR_ERR_FORMAT, "guide signature '%s' is not 16 hex digits", signature);
  } else {
    snprintf(out->space, sizeof out->space, "%s", space);
  }
  json_decref(root);
  return rc;
}

/* Refuses a guide made for another space, naming both. */
static nsr_code check_space(const guide_meta *m, const nsr_space *space, nsr_error *err) {
  uint64_t sig = nsr_space_signature(space);
  size_t p = nsr_space_productions(space);
  if (m->signature == sig && m->range == (json_int_t)nsr_space_max(space) &&
      m->productions == (json_int_t)p) {
    return NSR_OK;
  }
  return nsr_fail(err, NSR_ERR_FORMAT,
                  "a guide for space '%s' (range %lld, %lld productions, signature %016" PRIx64
                  "), not for this space (range %u, %zu productions, signature %016" PRIx64 ")",
                  m->space, (long long)m->range, (long long)m->productions, m->signature,
                  nsr_space_max(space), p, sig);
}

nsr_code nsr_guide_load(const char *path, const nsr_space *space, int n_threads, nsr_guide **out,
                        nsr_error *err) {
  *out = NULL;
  nsr_nn_model *model = NULL;
  char *text = NULL;
  guide_meta meta;
  nsr_code rc = nsr_nn_load_meta(path, NSR_GUIDE_META_KEY, &model, &text, err);
  if (rc == NSR_OK) rc = parse_meta(text, &meta, err);
  if (rc == NSR_OK) rc = check_space(&meta, space, err);
  /* Before wrapping: the reserve there makes the pool. */
  if (rc == NSR_OK) rc = nsr_nn_set_threads(model, n_threads, err);
  if (rc == NSR_OK) rc = nsr_guide_wrap(model, space, out, err);
  nsr_free(text);
  if (rc != NSR_OK) {
    nsr_nn_free(model);
    /* nsr_nn_load names the file itself. */
    if (model != NULL) nsr_error_prefix(err, "guide '%s': ", path);
    return rc;
  }
  (*out)->owns_model = true;
  snprintf((*out)->space, sizeof (*out)->space, "%s", meta.space);
  return NSR_OK;
}

/* ---- conditioning ------------------------------------------------------- */

nsr_code nsr_guide_condition(nsr_guide *guide, const uint32_t *examples, size_t n, double *log_q,
                             nsr_error *err) {
  if (n == 0) return nsr_fail(err, NSR_ERR_INVALID, "no examples");
  if (n > NSR_DATASET_MAX_EXAMPLES) {
    return nsr_fail(err, NSR_ERR_INVALID, "%zu examples: a guide takes at most %d", n,
                    NSR_DATASET_MAX_EXAMPLES);
  }
  for (size_t i = 0; i < n; i++) {
    if (examples[i] < 1 || examples[i] > guide->n_max) {
      return nsr_fail(err, NSR_ERR_RANGE, "example %u is outside 1..%u", examples[i],
                      guide->n_max);
    }
  }
  int32_t tokens[NSR_PROPOSE_MAX_LEN];
  int32_t len = nsr_propose_tokens(guide->n_max, examples, n, tokens);
  nsr_nn_batch batch = {.batch = 1, .seq_len = len, .tokens = tokens, .lengths = &len};
  if (nsr_nn_forward(guide->model, &batch, guide->logits, NULL, err) != NSR_OK) return err->code;
  /* log softmax over the grammar's classes alone: the class "interval" is
   * no rule of the grammar. Each row is renormalised where it is used
   * (space_guide.c), so only its differences matter. */
  size_t p = guide->weights;
  double max = guide->logits[0];
  for (size_t k = 1; k < p; k++) {
    if (guide->logits[k] > max) max = guide->logits[k];
  }
  double sum = 0.0;
  for (size_t k = 0; k < p; k++) sum += exp(guide->logits[k] - max);
  double log_z = max + log(sum);
  for (size_t k = 0; k < p; k++) log_q[k] = guide->logits[k] - log_z;
  return NSR_OK;
}

double nsr_guide_interval_share(const nsr_guide *guide) {
  const float *logits = guide->logits;
  size_t p = guide->weights;
  double max = logits[p];
  for (size_t k = 0; k < p; k++) max = logits[k] > max ? logits[k] : max;
  double sum = 0.0;
  for (size_t k = 0; k <= p; k++) sum += exp(logits[k] - max);
  return exp(logits[p] - max) / sum;
}

/* ---- the shipped guides ------------------------------------------------- */

bool nsr_guide_default_path(const char *space_path, char *buf, size_t len) {
  const char *base = strrchr(space_path, '/');
  base = base ? base + 1 : space_path;
  size_t n = strlen(base);
  if (n > 5 && strcmp(base + n - 5, ".json") == 0) n -= 5;
  if (n == 0) return false;
  /* As the proposal model (cli_default_model): the source tree's copy when
   * it is there (a build directory), else the installed one. */
  const char *dirs[] = {NSR_MODELS_SOURCE_DIR, NSR_MODELS_INSTALLED_DIR};
  for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
    int w = snprintf(buf, len, "%s/guide-%.*s.safetensors", dirs[i], (int)n, base);
    if (w > 0 && (size_t)w < len && access(buf, R_OK) == 0) return true;
  }
  if (len > 0) buf[0] = '\0';
  return false;
}
