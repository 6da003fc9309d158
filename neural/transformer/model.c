/* model.c: the encoder's configuration, parameter table and buffers. */
#include <cblas.h>

#include "model.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "blas.h"
#include "json.h"
#include "strbuf.h"

/* ---- configuration ---------------------------------------------------- */

void nsr_nn_config_default(nsr_nn_config *cfg) {
  *cfg = (nsr_nn_config){
      .vocab = 128, .d_model = 128, .n_heads = 4, .n_layers = 2,
      .d_ff = 512, .max_len = 16, .n_classes = 64,
      .pos = NSR_NN_POS_SINUSOIDAL, .pool = NSR_NN_POOL_MEAN,
      .head = NSR_NN_HEAD_SOFTMAX, .n_labels = 0,
  };
}

/* Sizes are capped so that every buffer size fits comfortably in size_t and
 * a hostile checkpoint header cannot ask for absurd memory. */
#define NN_DIM_MAX 65536
#define NN_LAYERS_MAX 256

nsr_code nsr_nn_config_validate(const nsr_nn_config *cfg, nsr_error *err) {
  struct {
    const char *name;
    int value, max;
  } dims[] = {
      {"vocab", cfg->vocab, 1 << 24},       {"d_model", cfg->d_model, NN_DIM_MAX},
      {"n_heads", cfg->n_heads, NN_DIM_MAX}, {"n_layers", cfg->n_layers, NN_LAYERS_MAX},
      {"d_ff", cfg->d_ff, NN_DIM_MAX},       {"max_len", cfg->max_len, NN_DIM_MAX},
      {"n_classes", cfg->n_classes, 1 << 24},
  };
  for (size_t i = 0; i < sizeof dims / sizeof dims[0]; i++) {
    if (dims[i].value < 1 || dims[i].value > dims[i].max) {
      return nsr_fail(err, NSR_ERR_INVALID,
                      "model config: %s is %d, must be in 1..%d", dims[i].name,
                      dims[i].value, dims[i].max);
    }
  }
  if (cfg->d_model % cfg->n_heads != 0) {
    return nsr_fail(err, NSR_ERR_INVALID,
                    "model config: d_model %d is not a multiple of n_heads %d",
                    cfg->d_model, cfg->n_heads);
  }
  if (cfg->pos == NSR_NN_POS_SINUSOIDAL && cfg->d_model % 2 != 0) {
    return nsr_fail(err, NSR_ERR_INVALID,
                    "model config: sinusoidal positions need an even d_model, not %d",
                    cfg->d_model);
  }
  if ((unsigned)cfg->pos > NSR_NN_POS_SINUSOIDAL ||
      (unsigned)cfg->pool > NSR_NN_POOL_MEAN ||
      (unsigned)cfg->head > NSR_NN_HEAD_BOTH) {
    return nsr_fail(err, NSR_ERR_INVALID, "model config: bad pos, pool or head");
  }
  bool both = cfg->head == NSR_NN_HEAD_BOTH;
  if (both && (cfg->n_labels < 1 || cfg->n_labels > (1 << 24))) {
    return nsr_fail(err, NSR_ERR_INVALID,
                    "model config: head \"both\" needs n_labels in 1..%d, not %d",
                    1 << 24, cfg->n_labels);
  }
  if (!both && cfg->n_labels != 0) {
    return nsr_fail(err, NSR_ERR_INVALID,
                    "model config: n_labels %d needs head \"both\"", cfg->n_labels);
  }
  return NSR_OK;
}

static const char *const pos_names[] = {"none", "sinusoidal"};
static const char *const pool_names[] = {"cls", "mean"};
static const char *const head_names[] = {"softmax", "sigmoid", "both"};

/* The enum fields are read and written as ints through config_key.offset. */
_Static_assert(sizeof(nsr_nn_pos) == sizeof(int) && sizeof(nsr_nn_pool) == sizeof(int) &&
                   sizeof(nsr_nn_head) == sizeof(int),
               "the config's enums are int-sized");

/* One key of the JSON config: the one table that parsing, printing and the
 * description of the keys (nsr_nn_config_describe) read, so they agree. */
typedef struct config_key {
  const char *name;
  size_t offset;              /* of its int or enum field in nsr_nn_config */
  const char *const *choices; /* an enum's names, index = value; NULL: a number */
  int n_choices;
  const char *help;
} config_key;

#define NUMBER_KEY(field, help) {#field, offsetof(nsr_nn_config, field), NULL, 0, help}
#define CHOICE_KEY(field, names, help) \
  {#field, offsetof(nsr_nn_config, field), names, (int)(sizeof(names) / sizeof((names)[0])), help}

static const config_key config_keys[] = {
    NUMBER_KEY(vocab, "token ids are 0 .. vocab-1"),
    NUMBER_KEY(d_model, "width of the residual stream"),
    NUMBER_KEY(n_heads, "attention heads; must divide d_model"),
    NUMBER_KEY(n_layers, "encoder blocks"),
    NUMBER_KEY(d_ff, "hidden width of each block's FFN"),
    NUMBER_KEY(max_len, "longest input sequence"),
    NUMBER_KEY(n_classes, "outputs of the head"),
    CHOICE_KEY(pos, pos_names, "\"sinusoidal\" positions, or \"none\": a set model"),
    CHOICE_KEY(pool, pool_names, "\"mean\" over the tokens, or \"cls\" (position 0)"),
    CHOICE_KEY(head, head_names,
               "\"softmax\" (one class), \"sigmoid\" (independent\n"
               "classes), or \"both\" (softmax and a label head)"),
    NUMBER_KEY(n_labels, "outputs of the label head; needed by and only\nwith head \"both\""),
};
#define N_CONFIG_KEYS (sizeof config_keys / sizeof config_keys[0])

static int *key_field(nsr_nn_config *cfg, const config_key *k) {
  return (int *)((char *)cfg + k->offset);
}

static int key_value(const nsr_nn_config *cfg, const config_key *k) {
  return *(const int *)((const char *)cfg + k->offset);
}

/* Reads the optional string `key` as one of names[0..n-1] into *out. */
static nsr_code parse_choice(const json_t *obj, const char *key,
                             const char *const *names, int n, int *out,
                             nsr_error *err) {
  const char *s = NULL;
  nsr_code rc = nsr_json_get_string_opt(obj, key, &s, err);
  if (rc != NSR_OK || s == NULL) return rc;
  for (int i = 0; i < n; i++) {
    if (strcmp(s, names[i]) == 0) {
      *out = i;
      return NSR_OK;
    }
  }
  char choices[64] = "";
  for (int i = 0; i < n; i++) {
    size_t used = strlen(choices);
    snprintf(choices + used, sizeof choices - used, "%s\"%s\"",
             i == 0 ? "" : i + 1 < n ? ", " : " or ", names[i]);
  }
  return nsr_fail(err, NSR_ERR_INVALID, "\"%s\" must be %s, not \"%s\"", key,
                  choices, s);
}

/* Reads the optional whole number `key` into *out (left as it is when
 * absent); a negative one is out of range. */
static nsr_code parse_number(const json_t *obj, const char *key, int *out, nsr_error *err) {
  int64_t v = *out;
  nsr_code rc = nsr_json_get_int_opt(obj, key, &v, err);
  if (rc != NSR_OK) return rc;
  if (v < 0 || v > INT32_MAX) return nsr_fail(err, NSR_ERR_INVALID, "\"%s\" is out of range", key);
  *out = (int)v;
  return NSR_OK;
}

/* Fails on the first key of obj that is not a config key, naming it. */
static nsr_code check_keys(const json_t *obj, nsr_error *err) {
  const char *name;
  const json_t *v;
  json_object_foreach((json_t *)obj, name, v) {
    bool known = false;
    for (size_t i = 0; i < N_CONFIG_KEYS && !known; i++) known = strcmp(name, config_keys[i].name) == 0;
    if (!known) {
      char keys[160] = "";
      for (size_t i = 0; i < N_CONFIG_KEYS; i++) {
        size_t used = strlen(keys);
        snprintf(keys + used, sizeof keys - used, "%s%s", i ? ", " : "", config_keys[i].name);
      }
      return nsr_fail(err, NSR_ERR_INVALID, "unknown key \"%s\" (the keys are %s)", name, keys);
    }
  }
  return NSR_OK;
}

/* Fills *out from a parsed config object, every absent key at its default
 * (nsr_nn_config_default), and validates it. */
static nsr_code config_from_json(const json_t *obj, nsr_nn_config *out,
                                 nsr_error *err) {
  if (!json_is_object(obj)) {
    return nsr_fail(err, NSR_ERR_INVALID, "model config must be a JSON object");
  }
  nsr_code rc = check_keys(obj, err);
  nsr_nn_config_default(out);
  for (size_t i = 0; rc == NSR_OK && i < N_CONFIG_KEYS; i++) {
    const config_key *k = &config_keys[i];
    rc = k->choices ? parse_choice(obj, k->name, k->choices, k->n_choices, key_field(out, k), err)
                    : parse_number(obj, k->name, key_field(out, k), err);
  }
  return rc == NSR_OK ? nsr_nn_config_validate(out, err) : rc;
}

nsr_code nsr_nn_config_parse(const char *json_text, size_t len,
                             nsr_nn_config *out, nsr_error *err) {
  json_t *obj;
  nsr_code rc = nsr_json_parse(json_text, len, &obj, err);
  if (rc != NSR_OK) return rc;
  rc = config_from_json(obj, out, err);
  json_decref(obj);
  return rc;
}

/* Appends key k's value in cfg as JSON: a number or a quoted name. */
static void print_value(nsr_strbuf *sb, const nsr_nn_config *cfg, const config_key *k) {
  int v = key_value(cfg, k);
  if (k->choices) {
    nsr_strbuf_printf(sb, "\"%s\"", k->choices[v]);
  } else {
    nsr_strbuf_printf(sb, "%d", v);
  }
}

char *nsr_nn_config_to_json(const nsr_nn_config *cfg) {
  nsr_strbuf sb = {0};
  for (size_t i = 0; i < N_CONFIG_KEYS; i++) {
    const config_key *k = &config_keys[i];
    /* n_labels 0 is left out: the text of a one-head model stays as it was
     * before the label head. */
    if (k->offset == offsetof(nsr_nn_config, n_labels) && cfg->n_labels == 0) continue;
    nsr_strbuf_printf(&sb, "%s\"%s\":", i ? "," : "{", k->name);
    print_value(&sb, cfg, k);
  }
  nsr_strbuf_puts(&sb, "}");
  char *text;
  size_t len;
  return nsr_strbuf_finish(&sb, &text, &len, NULL) == NSR_OK ? text : NULL;
}

char *nsr_nn_config_describe(void) {
  nsr_nn_config def;
  nsr_nn_config_default(&def);
  nsr_strbuf sb = {0};
  for (size_t i = 0; i < N_CONFIG_KEYS; i++) {
    const config_key *k = &config_keys[i];
    size_t start = sb.len;
    nsr_strbuf_printf(&sb, "  %s ", k->name);
    print_value(&sb, &def, k);
    /* The help in a column, its later lines under its first. */
    nsr_strbuf_printf(&sb, "%*s", (int)(start + 26 > sb.len ? start + 26 - sb.len : 1), "");
    for (const char *p = k->help; *p; p++) {
      nsr_strbuf_append(&sb, p, 1);
      if (*p == '\n') nsr_strbuf_printf(&sb, "%26s", "");
    }
    nsr_strbuf_puts(&sb, "\n");
  }
  char *text;
  size_t len;
  return nsr_strbuf_finish(&sb, &text, &len, NULL) == NSR_OK ? text : NULL;
}

/* ---- the parameter table ---------------------------------------------- */

/* Appends a tensor description to m->tensors at *count. */
static void add_tensor(nsr_nn_model *m, size_t *count, int64_t rows,
                       int64_t cols, const char *fmt, int layer) {
  nn_tensor_desc *t = &m->tensors[*count];
  snprintf(t->name, sizeof t->name, fmt, layer);
  t->ndim = cols > 0 ? 2 : 1;
  t->shape[0] = rows;
  t->shape[1] = cols > 0 ? cols : 0;
  t->numel = (size_t)rows * (size_t)(cols > 0 ? cols : 1);
  t->offset = m->n_params;
  m->n_params += t->numel;
  (*count)++;
}

/* Fills m->tensors (already allocated for every tensor) from m->cfg. The
 * order is the checkpoint order and matches nn_block_tensor(). */
static void build_tensor_table(nsr_nn_model *m) {
  const nsr_nn_config *c = &m->cfg;
  int64_t d = c->d_model, ff = c->d_ff;
  size_t count = 0;
  m->n_params = 0;
  add_tensor(m, &count, c->vocab, d, "tok_emb.weight", 0);
  for (int l = 0; l < c->n_layers; l++) {
    add_tensor(m, &count, d, 0, "blocks.%d.ln1.weight", l);
    add_tensor(m, &count, d, 0, "blocks.%d.ln1.bias", l);
    add_tensor(m, &count, 3 * d, d, "blocks.%d.attn.qkv.weight", l);
    add_tensor(m, &count, 3 * d, 0, "blocks.%d.attn.qkv.bias", l);
    add_tensor(m, &count, d, d, "blocks.%d.attn.proj.weight", l);
    add_tensor(m, &count, d, 0, "blocks.%d.attn.proj.bias", l);
    add_tensor(m, &count, d, 0, "blocks.%d.ln2.weight", l);
    add_tensor(m, &count, d, 0, "blocks.%d.ln2.bias", l);
    add_tensor(m, &count, ff, d, "blocks.%d.ffn.fc1.weight", l);
    add_tensor(m, &count, ff, 0, "blocks.%d.ffn.fc1.bias", l);
    add_tensor(m, &count, d, ff, "blocks.%d.ffn.fc2.weight", l);
    add_tensor(m, &count, d, 0, "blocks.%d.ffn.fc2.bias", l);
  }
  add_tensor(m, &count, d, 0, "ln_f.weight", 0);
  add_tensor(m, &count, d, 0, "ln_f.bias", 0);
  add_tensor(m, &count, c->n_classes, d, "head.weight", 0);
  add_tensor(m, &count, c->n_classes, 0, "head.bias", 0);
  if (c->n_labels > 0) {
    add_tensor(m, &count, c->n_labels, d, "label_head.weight", 0);
    add_tensor(m, &count, c->n_labels, 0, "label_head.bias", 0);
  }
}

/* Fills the [max_len, d] sinusoidal table, computed in double. */
static void fill_positions(float *pe, int max_len, int d) {
  for (int p = 0; p < max_len; p++) {
    for (int i = 0; i < d; i += 2) {
      double angle = p / pow(10000.0, (double)i / d);
      pe[(size_t)p * d + i] = (float)sin(angle);
      pe[(size_t)p * d + i + 1] = (float)cos(angle);
    }
  }
}

nsr_code nn_create_table(const nsr_nn_config *cfg, nsr_nn_model **out,
                         nsr_error *err) {
  *out = NULL;
  nsr_code rc = nsr_nn_config_validate(cfg, err);
  if (rc != NSR_OK) return rc;
  nsr_nn_model *m = nsr_calloc(1, sizeof *m);
  if (m == NULL) goto nomem;
  m->cfg = *cfg;
  m->n_tensors = 1 + (size_t)cfg->n_layers * NN_BLOCK_SLOTS + 4 +
                 (cfg->n_labels > 0 ? 2 : 0);
  m->tensors = nsr_calloc(m->n_tensors, sizeof *m->tensors);
  if (m->tensors == NULL) goto nomem;
  build_tensor_table(m);
  *out = m;
  return NSR_OK;
nomem:
  nsr_nn_free(m);
  return nsr_fail(err, NSR_ERR_NOMEM, "creating the encoder: out of memory");
}

nsr_code nn_alloc_params(nsr_nn_model *m, nsr_error *err) {
  const nsr_nn_config *cfg = &m->cfg;
  m->params = nsr_calloc(m->n_params, sizeof(float));
  if (m->params == NULL) goto nomem;
  if (cfg->pos == NSR_NN_POS_SINUSOIDAL) {
    m->pe = nsr_mallocarray((size_t)cfg->max_len * cfg->d_model, sizeof(float));
    if (m->pe == NULL) goto nomem;
    fill_positions(m->pe, cfg->max_len, cfg->d_model);
  }
  return NSR_OK;
nomem:
  return nsr_fail(err, NSR_ERR_NOMEM,
                  "encoder parameters (%zu floats): out of memory", m->n_params);
}

nsr_code nsr_nn_create(const nsr_nn_config *cfg, nsr_nn_model **out,
                       nsr_error *err) {
  nsr_code rc = nn_create_table(cfg, out, err);
  if (rc == NSR_OK && (rc = nn_alloc_params(*out, err)) != NSR_OK) {
    nsr_nn_free(*out);
    *out = NULL;
  }
  return rc;
}

static void drop_pool(nsr_nn_model *m);

void nsr_nn_free(nsr_nn_model *m) {
  if (m == NULL) return;
  nsr_free(m->tensors);
  nsr_free(m->params);
  nsr_free(m->pe);
  nsr_free(m->act_buffer);
  nsr_free(m->acts.blocks);
  nsr_free(m->grads);
  nsr_free(m->adam_m);
  nsr_free(m->adam_v);
  nsr_free(m->act_grad_buffer);
  drop_pool(m);
  nsr_free(m);
}

const nsr_nn_config *nsr_nn_get_config(const nsr_nn_model *m) { return &m->cfg; }

size_t nsr_nn_num_params(const nsr_nn_model *m) { return m->n_params; }

float *nsr_nn_gradients(nsr_nn_model *m, size_t *n) {
  *n = m->grads ? m->n_params : 0;
  return m->grads;
}

size_t nsr_nn_num_tensors(const nsr_nn_model *m) { return m->n_tensors; }

nsr_nn_tensor nsr_nn_tensor_at(const nsr_nn_model *m, size_t i) {
  const nn_tensor_desc *t = &m->tensors[i];
  return (nsr_nn_tensor){
      .name = t->name, .ndim = t->ndim, .shape = {t->shape[0], t->shape[1]},
      .numel = t->numel, .data = m->params + t->offset,
      .grad = m->grads ? m->grads + t->offset : NULL,
  };
}

bool nsr_nn_find_tensor(const nsr_nn_model *m, const char *name,
                        nsr_nn_tensor *out) {
  for (size_t i = 0; i < m->n_tensors; i++) {
    if (strcmp(m->tensors[i].name, name) == 0) {
      *out = nsr_nn_tensor_at(m, i);
      return true;
    }
  }
  return false;
}

/* ---- initialisation --------------------------------------------------- */

static void fill_normal(float *p, size_t n, double std, nsr_rng *rng) {
  for (size_t i = 0; i < n; i++) p[i] = (float)(std * nsr_rng_normal(rng));
}

static void fill_value(float *p, size_t n, float value) {
  for (size_t i = 0; i < n; i++) p[i] = value;
}

void nsr_nn_init_params(nsr_nn_model *m, uint64_t seed) {
  nsr_rng rng;
  nsr_rng_seed(&rng, seed);
  /* Residual-branch outputs are scaled down so the stream's variance does
   * not grow with depth (as in GPT-2). */
  double out_std = 0.02 / sqrt(2.0 * m->cfg.n_layers);
  for (size_t i = 0; i < m->n_tensors; i++) {
    const nn_tensor_desc *t = &m->tensors[i];
    float *p = m->params + t->offset;
    const char *suffix = strrchr(t->name, '.');
    if (i == NN_TOK_EMB) {
      fill_normal(p, t->numel, 1.0, &rng);
    } else if (strcmp(suffix, ".bias") == 0) {
      fill_value(p, t->numel, 0.0f);
    } else if (t->ndim == 1) { /* a LayerNorm gain */
      fill_value(p, t->numel, 1.0f);
    } else if (strstr(t->name, "attn.proj") || strstr(t->name, "ffn.fc2")) {
      fill_normal(p, t->numel, out_std, &rng);
    } else {
      fill_normal(p, t->numel, 0.02, &rng);
    }
  }
  if (m->grads != NULL) {
    memset(m->adam_m, 0, m->n_params * sizeof(float));
    memset(m->adam_v, 0, m->n_params * sizeof(float));
  }
  m->adam_step = 0;
}

/* ---- activation and gradient buffers ----------------------------------- */

/* Hands out n floats from a buffer being laid out, each tensor from the
 * start of a cache line (see nn_line_start). With base NULL it only counts,
 * so one function both sizes and carves a buffer. */
typedef struct carver {
  float *base;
  size_t used;
  double approx; /* `used` in floating point, to detect size_t overflow */
} carver;

static float *carve(carver *c, size_t n) {
  float *p = c->base ? c->base + c->used : NULL;
  size_t lines = n / NN_LINE_FLOATS + (n % NN_LINE_FLOATS != 0);
  c->used += lines * NN_LINE_FLOATS;
  c->approx += (double)n + NN_LINE_FLOATS;
  return p;
}

/* Buffers beyond this many floats (256 GiB) are refused before trying. */
#define NN_MAX_BUFFER_FLOATS 68719476736.0

/* The float count of a counting pass, or 0 when it is absurdly large (the
 * size_t arithmetic may even have wrapped). */
static size_t carved_size(const carver *c, const nsr_nn_config *cfg, size_t B) {
  /* The largest single product, B h T^2, is checked in floating point too. */
  double att = (double)B * cfg->n_heads * cfg->max_len * cfg->max_len;
  if (c->approx > NN_MAX_BUFFER_FLOATS || att > NN_MAX_BUFFER_FLOATS) return 0;
  return c->used;
}

void nn_walk_acts(const nsr_nn_config *c, size_t T, nn_acts *a,
                  nn_tensor_fn fn, void *ctx) {
  size_t d = (size_t)c->d_model, ff = (size_t)c->d_ff;
  fn(ctx, &a->x0, T * d);
  for (int l = 0; l < c->n_layers; l++) {
    nn_block_acts *b = &a->blocks[l];
    fn(ctx, &b->ln1, T * d);
    fn(ctx, &b->ln1_mean, T);
    fn(ctx, &b->ln1_rstd, T);
    fn(ctx, &b->qkv, T * 3 * d);
    fn(ctx, &b->att, (size_t)c->n_heads * T * T);
    fn(ctx, &b->atty, T * d);
    fn(ctx, &b->res_att, T * d);
    fn(ctx, &b->ln2, T * d);
    fn(ctx, &b->ln2_mean, T);
    fn(ctx, &b->ln2_rstd, T);
    fn(ctx, &b->fc1, T * ff);
    fn(ctx, &b->gelu, T * ff);
    fn(ctx, &b->out, T * d);
  }
  fn(ctx, &a->lnf, T * d);
  fn(ctx, &a->lnf_mean, T);
  fn(ctx, &a->lnf_rstd, T);
  fn(ctx, &a->pooled, d);
  fn(ctx, &a->logits, (size_t)c->n_classes);
  fn(ctx, &a->probs, (size_t)c->n_classes);
  fn(ctx, &a->label_logits, (size_t)c->n_labels);
  fn(ctx, &a->label_probs, (size_t)c->n_labels);
}

void nn_walk_act_grads(const nsr_nn_config *c, size_t T, nn_act_grads *g,
                       nn_tensor_fn fn, void *ctx) {
  size_t d = (size_t)c->d_model;
  fn(ctx, &g->res, T * d);
  fn(ctx, &g->ln, T * d);
  fn(ctx, &g->atty, T * d);
  fn(ctx, &g->qkv, T * 3 * d);
  fn(ctx, &g->att, (size_t)c->n_heads * T * T);
  fn(ctx, &g->hidden, T * (size_t)c->d_ff);
  fn(ctx, &g->pooled, d);
  fn(ctx, &g->logits, (size_t)c->n_classes);
  fn(ctx, &g->label_logits, (size_t)c->n_labels);
  fn(ctx, &g->label_pooled, c->n_labels > 0 ? d : 0);
}

/* Carves a tensor for `sequences` sequences (a carve_job) of max_len
 * positions. */
typedef struct carve_job {
  carver *cv;
  size_t sequences;
} carve_job;

static void carve_tensor(void *ctx, float **tensor, size_t per_sequence) {
  carve_job *job = ctx;
  *tensor = carve(job->cv, job->sequences * per_sequence);
}

/* Lays out the activations for B sequences of max_len positions. */
static void layout_acts(const nsr_nn_config *c, size_t B, carver *cv,
                        nn_acts *a) {
  carve_job job = {cv, B};
  nn_walk_acts(c, (size_t)c->max_len, a, carve_tensor, &job);
}

static void layout_act_grads(const nsr_nn_config *c, size_t B, carver *cv,
                             nn_act_grads *g) {
  carve_job job = {cv, B};
  nn_walk_act_grads(c, (size_t)c->max_len, g, carve_tensor, &job);
}

/* Grows the activation buffer to max_batch sequences; keeps it when it is
 * already large enough. On failure the old buffer stays valid. */
static nsr_code reserve_acts(nsr_nn_model *m, int max_batch, nsr_error *err) {
  if (m->act_batch >= max_batch) return NSR_OK;
  if (m->acts.blocks == NULL) {
    m->acts.blocks = nsr_calloc((size_t)m->cfg.n_layers, sizeof(nn_block_acts));
    if (m->acts.blocks == NULL) goto nomem;
  }
  carver cv = {NULL, 0, 0.0};
  layout_acts(&m->cfg, (size_t)max_batch, &cv, &m->acts);
  size_t size = carved_size(&cv, &m->cfg, (size_t)max_batch);
  float *buf = size ? nsr_mallocarray(size + NN_LINE_FLOATS, sizeof(float)) : NULL;
  if (buf == NULL) goto nomem;
  nsr_free(m->act_buffer);
  m->act_buffer = buf;
  cv = (carver){nn_line_start(buf), 0, 0.0};
  layout_acts(&m->cfg, (size_t)max_batch, &cv, &m->acts);
  m->act_batch = max_batch;
  return NSR_OK;
nomem:
  return nsr_fail(err, NSR_ERR_NOMEM,
                  "encoder activations for batch %d: out of memory", max_batch);
}

/* Makes the gradient and AdamW buffers (once, zeroed) and grows the
 * activation-gradient scratch to max_batch sequences. */
static nsr_code reserve_grads(nsr_nn_model *m, int max_batch, nsr_error *err) {
  if (m->grads == NULL) {
    m->grads = nsr_calloc(m->n_params, sizeof(float));
    m->adam_m = nsr_calloc(m->n_params, sizeof(float));
    m->adam_v = nsr_calloc(m->n_params, sizeof(float));
    if (m->grads == NULL || m->adam_m == NULL || m->adam_v == NULL) {
      nsr_free(m->grads);
      nsr_free(m->adam_m);
      nsr_free(m->adam_v);
      m->grads = m->adam_m = m->adam_v = NULL;
      return nsr_fail(err, NSR_ERR_NOMEM, "encoder gradients: out of memory");
    }
  }
  if (m->grad_batch >= max_batch) return NSR_OK;
  carver cv = {NULL, 0, 0.0};
  layout_act_grads(&m->cfg, (size_t)max_batch, &cv, &m->act_grads);
  size_t size = carved_size(&cv, &m->cfg, (size_t)max_batch);
  float *buf = size ? nsr_mallocarray(size + NN_LINE_FLOATS, sizeof(float)) : NULL;
  if (buf == NULL) {
    return nsr_fail(err, NSR_ERR_NOMEM,
                    "encoder activation gradients for batch %d: out of memory",
                    max_batch);
  }
  nsr_free(m->act_grad_buffer);
  m->act_grad_buffer = buf;
  cv = (carver){nn_line_start(buf), 0, 0.0};
  layout_act_grads(&m->cfg, (size_t)max_batch, &cv, &m->act_grads);
  m->grad_batch = max_batch;
  return NSR_OK;
}

/* ---- threads ------------------------------------------------------------ */

/* The automatic rule, from timings on 2 quiet cores with the workers on
 * OpenBLAS instances of their own (neural/README.md; timings in
 * tests/bench/RESULTS.md): the pool pays from about this many matmul
 * FLOPs per forward pass. Split by sequences a pass has no barrier;
 * split by columns (a
 * single query) it has a few per block, and still pays: one query through
 * config A's shape at d = 64 (8 heads, d_ff 256) ran with 3 positions
 * (0.59 MFLOP) in 0.024 ms on 2 threads against 0.039 ms on one, with 2
 * positions (0.39 MFLOP) 0.019 against 0.029 ms; at 0.2 MFLOP the two were
 * even. On a loaded machine, where the second core is busy, the pool
 * loses. */
#define NN_POOL_MIN_FLOPS 4e5

/* Whether the automatic rule runs a pass over `rows` positions on a pool. */
static bool pool_pays(const nsr_nn_model *m, size_t rows) {
  const nsr_nn_config *c = &m->cfg;
  double d = c->d_model, per_row = d * 3 * d + d * d + 2 * d * c->d_ff;
  return 2.0 * (double)rows * c->n_layers * per_row >= NN_POOL_MIN_FLOPS;
}

nn_pass_split nn_choose_split(const nsr_nn_model *m, int batch, int seq_len) {
  if (m->pool == NULL ||
      (m->threads_asked < 2 && !pool_pays(m, (size_t)batch * (size_t)seq_len))) {
    return NN_ALONE;
  }
  return batch >= nn_pool_size(m->pool) ? NN_BY_SEQUENCES : NN_BY_COLUMNS;
}

/* The pool size m->threads_asked resolves to. */
static int resolved_threads(const nsr_nn_model *m) {
  return m->threads_asked == 0 ? nn_auto_threads() : m->threads_asked;
}

/* Frees the pool and what its threads own, and gives OpenBLAS back the
 * thread count the pool's passes changed (encoder.c, run_pass). */
static void drop_pool(nsr_nn_model *m) {
  if (m->blas_threads_before_pool > 0) {
    openblas_set_num_threads(m->blas_threads_before_pool);
    m->blas_threads_before_pool = 0;
  }
  nn_pool_free(m->pool);
  nsr_free(m->part_blocks);
  nsr_free(m->thread_grads);
  nsr_free(m->column_buffer);
  nsr_free(m->column_partials);
  nsr_free(m->column_acts);
  nsr_free(m->column_blocks);
  m->pool = NULL;
  m->part_blocks = NULL;
  m->thread_grads = NULL;
  m->column_buffer = NULL;
  m->column_partials = NULL;
  m->column_acts = NULL;
  m->column_blocks = NULL;
}

/* Lays out the buffers of passes split by columns for a pool of n threads
 * (see model.h) from cv; with cv's base NULL, only counts. */
static void layout_columns(nsr_nn_model *m, int n, carver *cv) {
  nsr_nn_config one_block = m->cfg;
  one_block.n_layers = 1;
  size_t seqs = (size_t)n - 1, rows = seqs * (size_t)m->cfg.max_len;
  for (int t = 0; t < n; t++) {
    m->column_partials[2 * t] = carve(cv, rows * (size_t)m->cfg.d_model);
    m->column_partials[2 * t + 1] = carve(cv, rows * (size_t)m->cfg.d_model);
    if (t == 0) continue; /* thread 0 works in m->acts */
    nn_acts *a = &m->column_acts[t];
    a->blocks = m->column_blocks + (size_t)t * m->cfg.n_layers;
    layout_acts(&one_block, seqs, cv, a);
    for (int l = 1; l < m->cfg.n_layers; l++) a->blocks[l] = a->blocks[0];
  }
}

/* Makes the buffers of passes split by columns for a pool of n threads. */
static nsr_code make_columns(nsr_nn_model *m, int n) {
  m->column_partials = nsr_calloc(2 * (size_t)n, sizeof(float *));
  m->column_acts = nsr_calloc((size_t)n, sizeof(nn_acts));
  m->column_blocks = nsr_calloc((size_t)n * (size_t)m->cfg.n_layers,
                                sizeof(nn_block_acts));
  if (m->column_partials == NULL || m->column_acts == NULL || m->column_blocks == NULL) {
    return NSR_ERR_NOMEM;
  }
  carver cv = {NULL, 0, 0.0};
  layout_columns(m, n, &cv);
  m->column_buffer = nsr_mallocarray(cv.used + NN_LINE_FLOATS, sizeof(float));
  if (m->column_buffer == NULL) return NSR_ERR_NOMEM;
  cv = (carver){nn_line_start(m->column_buffer), 0, 0.0};
  layout_columns(m, n, &cv);
  return NSR_OK;
}

/* Gives threads 1.. of the pool their gradient buffer, once the model has
 * both gradients and a pool: a training step then allocates nothing. */
static nsr_code ensure_thread_grads(nsr_nn_model *m, nsr_error *err) {
  if (m->grads == NULL || m->pool == NULL || m->thread_grads != NULL) return NSR_OK;
  size_t others = (size_t)nn_pool_size(m->pool) - 1;
  m->thread_grads = nsr_mallocarray(others * m->n_params, sizeof(float));
  if (m->thread_grads == NULL) {
    return nsr_fail(err, NSR_ERR_NOMEM, "encoder threads' gradients: out of memory");
  }
  return NSR_OK;
}

/* Makes the pool the request asks for, when there is none yet and some
 * pass over up to max_batch sequences would use it, and its threads'
 * buffers. Every pass calls it: the thread count is resolved only when a
 * pool may be made (the automatic count reads a file, sysconf(3), which
 * cost a batch-1 pass about 10 us). */
static nsr_code ensure_pool(nsr_nn_model *m, size_t max_batch, nsr_error *err) {
  bool wanted = m->pool == NULL &&
                (m->threads_asked != 0 || pool_pays(m, max_batch * (size_t)m->cfg.max_len));
  int n = wanted ? resolved_threads(m) : 1;
  if (n >= 2) {
    nsr_code rc = nn_pool_create(n, &m->pool, err);
    if (rc != NSR_OK) return rc;
    m->part_blocks = nsr_calloc((size_t)n * (size_t)m->cfg.n_layers,
                                sizeof(nn_block_acts));
    if (m->part_blocks == NULL || make_columns(m, n) != NSR_OK) {
      drop_pool(m);
      return nsr_fail(err, NSR_ERR_NOMEM, "encoder threads: out of memory");
    }
  }
  return ensure_thread_grads(m, err);
}

nsr_code nsr_nn_set_threads(nsr_nn_model *m, int n_threads, nsr_error *err) {
  if (n_threads < 0 || n_threads > NN_POOL_MAX) {
    return nsr_fail(err, NSR_ERR_INVALID,
                    "encoder threads: %d is not in 0..%d (0 = automatic)",
                    n_threads, NN_POOL_MAX);
  }
  m->threads_asked = n_threads;
  if (m->pool != NULL && nn_pool_size(m->pool) != resolved_threads(m)) {
    drop_pool(m);
  }
  return m->act_buffer != NULL
             ? ensure_pool(m, (size_t)m->act_batch, err)
             : NSR_OK;
}

int nsr_nn_get_threads(const nsr_nn_model *m) { return nn_pool_size(m->pool); }

int nsr_nn_private_blas(const nsr_nn_model *m, const char **why) {
  if (why != NULL) *why = nn_blas_refusal();
  return nn_pool_private_blas(m->pool);
}

nsr_code nsr_nn_reserve(nsr_nn_model *m, int max_batch, bool training,
                        nsr_error *err) {
  if (max_batch < 1 || max_batch > (1 << 20)) {
    return nsr_fail(err, NSR_ERR_INVALID, "batch size %d is not in 1..%d",
                    max_batch, 1 << 20);
  }
  nsr_code rc = reserve_acts(m, max_batch, err);
  if (rc == NSR_OK && training) rc = reserve_grads(m, max_batch, err);
  if (rc == NSR_OK) rc = ensure_pool(m, (size_t)max_batch, err);
  return rc;
}

nsr_code nn_check_batch(const nsr_nn_model *m, const nsr_nn_batch *batch,
                        nsr_error *err) {
  const nsr_nn_config *c = &m->cfg;
  if (batch->tokens == NULL) {
    return nsr_fail(err, NSR_ERR_INVALID, "batch without tokens");
  }
  if (batch->batch < 1 || batch->seq_len < 1 || batch->seq_len > c->max_len) {
    return nsr_fail(err, NSR_ERR_INVALID,
                    "batch of %d sequences of length %d: need at least one "
                    "sequence and a length in 1..%d",
                    batch->batch, batch->seq_len, c->max_len);
  }
  size_t n = (size_t)batch->batch * batch->seq_len;
  for (size_t i = 0; i < n; i++) {
    if (batch->tokens[i] < 0 || batch->tokens[i] >= c->vocab) {
      return nsr_fail(err, NSR_ERR_RANGE,
                      "sequence %zu, position %zu: token %d is not in 0..%d",
                      i / batch->seq_len, i % batch->seq_len, batch->tokens[i],
                      c->vocab - 1);
    }
  }
  for (int b = 0; batch->lengths != NULL && b < batch->batch; b++) {
    if (batch->lengths[b] < 1 || batch->lengths[b] > batch->seq_len) {
      return nsr_fail(err, NSR_ERR_RANGE,
                      "sequence %d: length %d is not in 1..%d", b,
                      batch->lengths[b], batch->seq_len);
    }
  }
  return NSR_OK;
}
