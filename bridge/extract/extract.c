/* extract.c: activations on the whole domain, class names, and the driver
 * that runs the extraction methods and turns their findings into rules. */
#include "nsr_extract.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "strbuf.h"

const char *const nsr_extract_methods[NSR_METHODS + 1] = {"alignment", "probe", "cart", NULL};

void nsr_extract_opts_default(nsr_extract_opts *opts) {
  *opts = (nsr_extract_opts){.alignment = true, .probe = true, .cart = true, .align_min_size = 3,
                             .probe_folds = 5,
                             .probe_ridge = 0.1, .cart_depth = 4, .seed = 1};
}

void nsr_site_name(const nsr_site *site, char *buf, size_t len) {
  if (site->kind == NSR_SITE_POOLED) snprintf(buf, len, "pooled");
  else snprintf(buf, len, "%s.%d", site->kind == NSR_SITE_FFN ? "ffn" : "resid", site->layer);
}

static uint64_t space_size(uint32_t max) { return NSR_NUMBERS_RULES + (uint64_t)max * (max + 1) / 2; }

void nsr_class_name(const nsr_activations *acts, const nsr_numbers *engine, int k, char *buf,
                    size_t len) {
  nsr_hypothesis h;
  if (acts->layout == NSR_LAYOUT_PRODUCTIONS) {
    bool production = k >= 0 && (size_t)k < nsr_space_productions(acts->space);
    snprintf(buf, len, "%s", production ? nsr_space_production_name(acts->space, (size_t)k) : "interval");
  } else if (acts->layout == NSR_LAYOUT_OTHER ||
      nsr_numbers_hypothesis_at(engine, (uint64_t)k, &h, NULL) != NSR_OK) {
    snprintf(buf, len, "class %d", k);
  } else {
    nsr_numbers_hypothesis_name(&h, buf, len);
  }
}

void nsr_activations_free(nsr_activations *acts) {
  for (int s = 0; s < acts->n_sites; s++) nsr_free(acts->sites[s].values);
  nsr_free(acts->sites);
  nsr_free(acts->top);
  nsr_free(acts->exact);
  nsr_free(acts->inputs);
  memset(acts, 0, sizeof *acts);
}

static uint32_t input_number(const nsr_activations *acts, uint32_t i) {
  return acts->inputs ? acts->inputs[i - 1] : i;
}

/* The examples of input i (1-based): set i - 1, or the number itself.
 * Returns how many. */
static size_t input_examples(const nsr_activations *acts, uint32_t i, uint32_t *x) {
  if (acts->sets == NULL) {
    x[0] = input_number(acts, i);
    return 1;
  }
  size_t n = acts->sets->n_examples[i - 1];
  memcpy(x, acts->sets->examples + (size_t)(i - 1) * NSR_PROPOSE_MAX_EXAMPLES, n * sizeof *x);
  return n;
}

/* The exact MAP hypothesis of every input's examples, as a class (none
 * for the "other" layout, which has no classes to compare with). */
static nsr_code exact_classes(nsr_activations *acts, nsr_error *err) {
  for (uint32_t i = 0; i < acts->max; i++) {
    acts->exact[i] = acts->guide ? nsr_guide_truth_class(acts->space, &acts->guide->items[i].concept)
                                 : -1;
  }
  if (acts->layout == NSR_LAYOUT_OTHER || acts->layout == NSR_LAYOUT_PRODUCTIONS) return NSR_OK;
  nsr_numbers_config cfg;
  nsr_numbers_config_default(&cfg);
  cfg.max = acts->domain_max;
  nsr_numbers *engine = NULL;
  nsr_numbers_result result = {0};
  nsr_code rc = nsr_numbers_new(&cfg, &engine, err);
  for (uint32_t i = 1; rc == NSR_OK && i <= acts->max; i++) {
    uint32_t x[NSR_PROPOSE_MAX_EXAMPLES];
    size_t n = input_examples(acts, i, x);
    rc = nsr_numbers_infer(engine, x, n, 1, &result, err);
    if (rc != NSR_OK) break;
    uint64_t index = nsr_numbers_hypothesis_index(engine, &result.top[0]);
    bool is_class = acts->layout == NSR_LAYOUT_SPACE ||
                    (acts->layout == NSR_LAYOUT_RULES && result.top[0].kind == NSR_HYP_RULE);
    acts->exact[i - 1] = is_class ? (int32_t)index : -1;
  }
  nsr_numbers_result_free(&result);
  nsr_numbers_free(engine);
  return rc;
}

/* The model's tokens for every input: one number per row (T = 1), or a
 * set and its count token (T = NSR_PROPOSE_MAX_LEN, lengths per set). */
static void input_tokens(const nsr_activations *acts, int T, int32_t *tokens, int32_t *lengths) {
  for (uint32_t i = 1; i <= acts->max; i++) {
    if (acts->sets == NULL) {
      tokens[i - 1] = (int32_t)input_number(acts, i);
      lengths[i - 1] = 1;
    } else {
      uint32_t x[NSR_PROPOSE_MAX_EXAMPLES];
      size_t n = input_examples(acts, i, x);
      lengths[i - 1] = nsr_propose_tokens(acts->domain_max, x, n, tokens + (size_t)(i - 1) * T);
    }
  }
}

/* One site's value per input from a captured [B, T, width] block: the mean
 * over the input's real positions, as the network pools them (with T = 1
 * a copy). */
static void pool_positions(const float *block, int n, int T, int width, const int32_t *lengths,
                           float *out) {
  for (int i = 0; i < n; i++) {
    float *row = out + (size_t)i * width;
    memset(row, 0, (size_t)width * sizeof *row);
    for (int t = 0; t < lengths[i]; t++) {
      const float *src = block + ((size_t)i * T + t) * width;
      for (int u = 0; u < width; u++) row[u] += src[u];
    }
    for (int u = 0; u < width; u++) row[u] /= (float)lengths[i];
  }
}

/* Runs the model on acts->max inputs (acts->sets, acts->inputs, or
 * 1..max), whose bounds the callers checked. */
static nsr_code capture_inputs(nsr_nn_model *model, nsr_activations *acts, nsr_error *err) {
  const nsr_nn_config *cfg = nsr_nn_get_config(model);
  uint32_t max = acts->max;
  int L = cfg->n_layers, d = cfg->d_model, ff = cfg->d_ff, n = (int)max;
  int T = acts->sets ? NSR_PROPOSE_MAX_LEN : 1;
  uint64_t space = space_size(acts->domain_max);
  acts->layout = (uint64_t)cfg->n_classes >= space ? NSR_LAYOUT_SPACE
                 : cfg->n_classes == NSR_NUMBERS_RULES ? NSR_LAYOUT_RULES
                                                       : NSR_LAYOUT_OTHER;
  acts->n_classes = acts->layout == NSR_LAYOUT_SPACE ? (int)space : cfg->n_classes;
  if (acts->space) { /* a guide: its C·P + 1 classes read as the P productions and "interval" */
    acts->layout = NSR_LAYOUT_PRODUCTIONS;
    acts->n_classes = (int)nsr_space_productions(acts->space) + 1;
  }
  acts->n_sites = 2 * L + 1;
  acts->sites = nsr_calloc((size_t)acts->n_sites, sizeof *acts->sites);
  acts->top = nsr_mallocarray(max, sizeof *acts->top);
  acts->exact = nsr_mallocarray(max, sizeof *acts->exact);
  int32_t *tokens = nsr_mallocarray((size_t)max * T, sizeof *tokens);
  int32_t *lengths = nsr_mallocarray(max, sizeof *lengths);
  float *ffn = nsr_mallocarray((size_t)L * n * T * ff, sizeof *ffn);
  float *resid = nsr_mallocarray((size_t)L * n * T * d, sizeof *resid);
  float *logits = nsr_mallocarray((size_t)n * cfg->n_classes, sizeof *logits);
  nsr_code rc = NSR_OK;
  if (acts->sites == NULL || acts->top == NULL || acts->exact == NULL || tokens == NULL ||
      lengths == NULL || ffn == NULL || resid == NULL || logits == NULL) {
    rc = nsr_fail(err, NSR_ERR_NOMEM, "capturing activations: out of memory");
    goto done;
  }
  for (int s = 0; s < acts->n_sites; s++) {
    nsr_site *site = &acts->sites[s];
    site->kind = s == 2 * L ? NSR_SITE_POOLED : s % 2 == 0 ? NSR_SITE_FFN : NSR_SITE_RESID;
    site->layer = s / 2;
    site->width = site->kind == NSR_SITE_FFN ? ff : d;
    site->values = nsr_mallocarray((size_t)n * site->width, sizeof *site->values);
    if (site->values == NULL) {
      rc = nsr_fail(err, NSR_ERR_NOMEM, "capturing activations: out of memory");
      goto done;
    }
  }
  input_tokens(acts, T, tokens, lengths);
  nsr_nn_batch batch = {.batch = n, .seq_len = T, .tokens = tokens, .lengths = lengths};
  nsr_nn_capture cap = {.residual = resid, .ffn_hidden = ffn,
                        .pooled = acts->sites[2 * L].values};
  rc = nsr_nn_reserve(model, n, false, err);
  if (rc == NSR_OK) rc = nsr_nn_capture_forward(model, &batch, &cap, err);
  if (rc == NSR_OK) rc = nsr_nn_forward(model, &batch, logits, NULL, err);
  if (rc != NSR_OK) goto done;
  for (int l = 0; l < L; l++) {
    pool_positions(ffn + (size_t)l * n * T * ff, n, T, ff, lengths, acts->sites[2 * l].values);
    pool_positions(resid + (size_t)l * n * T * d, n, T, d, lengths, acts->sites[2 * l + 1].values);
  }
  int p = acts->n_classes - 1, read = acts->space ? cfg->n_classes : acts->n_classes;
  for (int i = 0; i < n; i++) {
    const float *row = logits + (size_t)i * cfg->n_classes;
    int best = 0;
    for (int k = 1; k < read; k++) if (row[k] > row[best]) best = k;
    /* A guide's class c·P + k is production k at context c. */
    acts->top[i] = acts->space ? (best == read - 1 ? p : best % p) : best;
  }
  rc = exact_classes(acts, err);
done:
  nsr_free(tokens);
  nsr_free(lengths);
  nsr_free(ffn);
  nsr_free(resid);
  nsr_free(logits);
  if (rc != NSR_OK) nsr_activations_free(acts);
  return rc;
}

/* NSR_ERR_INVALID unless the model's tokens cover 1..max. */
static nsr_code check_vocab(const nsr_nn_config *cfg, uint32_t max, nsr_error *err) {
  if (cfg->vocab < 2) {
    return nsr_fail(err, NSR_ERR_INVALID, "model config: vocab %d holds no numbers (token x is the number x)",
                    cfg->vocab);
  }
  if (max >= (uint32_t)cfg->vocab) {
    return nsr_fail(err, NSR_ERR_INVALID,
                    "model config: domain 1..%u needs token ids up to %u, but vocab is %d", max, max,
                    cfg->vocab);
  }
  return NSR_OK;
}

nsr_code nsr_activations_capture(nsr_nn_model *model, uint32_t max, nsr_activations *acts,
                                 nsr_error *err) {
  memset(acts, 0, sizeof *acts);
  const nsr_nn_config *cfg = nsr_nn_get_config(model);
  if (max == 0 && cfg->vocab >= 2) max = (uint32_t)cfg->vocab - 1;
  if (max > NSR_EXTRACT_MAX_N) {
    return nsr_fail(err, NSR_ERR_RANGE, "domain 1..%u: extraction enumerates at most 1..%u (sample "
                    "larger domains)", max, NSR_EXTRACT_MAX_N);
  }
  if (check_vocab(cfg, max, err) != NSR_OK) return err->code;
  acts->max = acts->domain_max = max;
  return capture_inputs(model, acts, err);
}

nsr_code nsr_activations_capture_sample(nsr_nn_model *model, uint32_t domain_max, uint32_t sample,
                                        uint64_t seed, nsr_activations *acts, nsr_error *err) {
  memset(acts, 0, sizeof *acts);
  if (sample < 1 || sample > NSR_EXTRACT_MAX_N || sample > domain_max ||
      domain_max > NSR_NUMBERS_MAX_N) {
    return nsr_fail(err, NSR_ERR_RANGE, "a sample of %u from 1..%u: the sample must be 1..%u and "
                    "at most the domain, the domain at most 1..%u", sample, domain_max,
                    NSR_EXTRACT_MAX_N, NSR_NUMBERS_MAX_N);
  }
  if (check_vocab(nsr_nn_get_config(model), domain_max, err) != NSR_OK) return err->code;
  acts->inputs = nsr_mallocarray(sample, sizeof *acts->inputs);
  if (acts->inputs == NULL) return nsr_fail(err, NSR_ERR_NOMEM, "sampling the domain: out of memory");
  if (nsr_sample_domain(domain_max, sample, seed, acts->inputs, err) != NSR_OK) {
    nsr_activations_free(acts);
    return err->code;
  }
  acts->max = sample;
  acts->domain_max = domain_max;
  return capture_inputs(model, acts, err);
}

nsr_code nsr_activations_capture_sets(nsr_nn_model *model, const nsr_heldout *sets,
                                      nsr_activations *acts, nsr_error *err) {
  memset(acts, 0, sizeof *acts);
  uint32_t n_max;
  if (nsr_propose_check_config(nsr_nn_get_config(model), &n_max, err) != NSR_OK) return err->code;
  if (nsr_example_sets_check(sets, n_max, err) != NSR_OK) return err->code;
  acts->max = (uint32_t)sets->n;
  acts->domain_max = n_max;
  acts->sets = sets;
  return capture_inputs(model, acts, err);
}

nsr_code nsr_activations_capture_guide(nsr_nn_model *model, const nsr_space *space,
                                       const nsr_guide_sets *in, nsr_activations *acts,
                                       nsr_error *err) {
  memset(acts, 0, sizeof *acts);
  /* Wrapping checks the network's layout against the space. */
  nsr_guide *guide = NULL;
  if (nsr_guide_wrap(model, space, &guide, err) != NSR_OK) return err->code;
  nsr_guide_free(guide);
  uint32_t n_max = nsr_space_max(space);
  if (nsr_example_sets_check(&in->sets, n_max, err) != NSR_OK) return err->code;
  acts->max = (uint32_t)in->sets.n;
  acts->domain_max = n_max;
  acts->sets = &in->sets;
  acts->space = space;
  acts->guide = in;
  return capture_inputs(model, acts, err);
}

nsr_code nsr_sample_domain(uint32_t n, uint32_t k, uint64_t seed, uint32_t *out, nsr_error *err) {
  nsr_bitset chosen;
  if (nsr_bitset_init(&chosen, (size_t)n + 1, err) != NSR_OK) return err->code;
  nsr_rng rng;
  nsr_rng_seed(&rng, seed);
  /* Floyd: for j = n-k+1 .. n add a uniform t in 1..j, or j when t is
   * already in; every k-subset comes out with the same probability. */
  for (uint32_t j = n - k + 1; j <= n; j++) {
    uint32_t t = 1 + (uint32_t)nsr_rng_below(&rng, j);
    nsr_bitset_add(&chosen, nsr_bitset_has(&chosen, t) ? j : t);
  }
  size_t i = 0;
  for (size_t x = nsr_bitset_next(&chosen, 1); x <= n && i < k; x = nsr_bitset_next(&chosen, x + 1)) {
    out[i++] = (uint32_t)x;
  }
  nsr_bitset_free(&chosen);
  return NSR_OK;
}

void nsr_wilson95(uint64_t k, uint64_t n, double *lo, double *hi) {
  if (n == 0) {
    *lo = 0.0;
    *hi = 1.0;
    return;
  }
  const double z = 1.959963984540054;
  double p = (double)k / (double)n, z2n = z * z / (double)n;
  double centre = (p + z2n / 2.0) / (1.0 + z2n);
  double half = z * sqrt(p * (1.0 - p) / (double)n + z2n / (4.0 * (double)n)) / (1.0 + z2n);
  /* At k = 0 and k = n the ends are 0 and 1 exactly; rounding would leave
   * them a hair inside, excluding the observed share itself. */
  *lo = k == 0 ? 0.0 : fmax(0.0, centre - half);
  *hi = k == n ? 1.0 : fmin(1.0, centre + half);
}

/* ---- rules -------------------------------------------------------------- */

void nsr_extraction_free(nsr_extraction *ex) {
  nsr_arena_free(&ex->arena);
  nsr_free(ex->rules);
  nsr_free(ex->samples);
  memset(ex, 0, sizeof *ex);
}

static char *arena_printf(nsr_arena *arena, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static char *arena_printf(nsr_arena *arena, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  // NOLINTNEXTLINE(clang-analyzer-valist.Uninitialized): ap was set by va_start just above
  int len = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  char *s = nsr_arena_alloc(arena, (size_t)len + 1, 1);
  if (s == NULL) return NULL;
  va_start(ap, fmt);
  vsnprintf(s, (size_t)len + 1, fmt, ap);
  va_end(ap);
  return s;
}

/* Appends a rule and its sampling columns; its strings must already live
 * in the arena. */
static nsr_code push_rule(nsr_extraction *ex, const nsr_store_rule *r, const nsr_store_sample *sample,
                          int method, nsr_error *err) {
  if (r->body == NULL || r->conclusion == NULL || r->details == NULL) {
    return nsr_fail(err, NSR_ERR_NOMEM, "extraction: out of memory");
  }
  if (ex->n == ex->cap) {
    size_t cap = ex->cap ? 2 * ex->cap : 256;
    nsr_store_rule *grown = nsr_reallocarray(ex->rules, cap, sizeof *grown);
    if (grown != NULL) ex->rules = grown;
    nsr_store_sample *more = grown ? nsr_reallocarray(ex->samples, cap, sizeof *more) : NULL;
    if (more == NULL) return nsr_fail(err, NSR_ERR_NOMEM, "extraction: out of memory");
    ex->samples = more;
    ex->cap = cap;
  }
  ex->samples[ex->n] = *sample;
  ex->rules[ex->n++] = *r;
  ex->per_method[method]++;
  return NSR_OK;
}

/* What every method needs besides its inputs: progress reporting, and an
 * interpreter that reads the network through (activation SITE UNIT x), so
 * each rule's Church predicate can be evaluated over the domain. */
typedef struct progress_ctx {
  void (*step)(void *ctx, uint64_t done, uint64_t total);
  void *ctx;
  uint64_t done, total;
  nsr_lang *lang;
  nsr_bitset church; /* the extension of the last predicate checked */
} progress_ctx;

static int compare_u32(const void *a, const void *b) {
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  return (x > y) - (x < y);
}

/* The index (input - 1) of the number x, or -1 when x is not an input. */
static long input_index(const nsr_activations *acts, double x) {
  /* Exact inputs are 1..N and sets are numbered 1..max: both bounded by max. */
  uint32_t bound = acts->inputs ? acts->domain_max : acts->max;
  if (!(x >= 1 && x <= bound) || x != floor(x)) return -1;
  uint32_t key = (uint32_t)x;
  if (acts->inputs == NULL) return (long)key - 1;
  const uint32_t *hit = bsearch(&key, acts->inputs, acts->max, sizeof key, compare_u32);
  return hit ? (long)(hit - acts->inputs) : -1;
}

/* Over a sample, the rule's sample size and Wilson 95% intervals: fidelity
 * fid_k of fid_n, accuracy acc_k of acc_n (acc_n 0: not measured), and
 * completeness cov of the sample. Exact extractions keep the zero. */
static nsr_store_sample sample_stats(const nsr_activations *acts, uint64_t fid_k, uint64_t fid_n,
                                     uint64_t acc_k, uint64_t acc_n, uint64_t cov) {
  nsr_store_sample s = {0};
  if (acts->inputs == NULL && acts->sets == NULL) return s;
  s.size = acts->max;
  s.fidelity[0] = s.fidelity[1] = s.accuracy[0] = s.accuracy[1] = NAN;
  if (fid_n > 0) nsr_wilson95(fid_k, fid_n, &s.fidelity[0], &s.fidelity[1]);
  if (acc_n > 0) nsr_wilson95(acc_k, acc_n, &s.accuracy[0], &s.accuracy[1]);
  nsr_wilson95(cov, acts->max, &s.completeness[0], &s.completeness[1]);
  return s;
}

static nsr_code prim_activation(nsr_lang *lang, void *user, const nsr_lang_value *args, int nargs,
                                nsr_lang_value *out, nsr_error *err) {
  (void)lang;
  (void)nargs;
  const nsr_activations *acts = user;
  const char *name = nsr_lang_to_string(args[0]);
  double unit, x;
  if (name == NULL || !nsr_lang_to_double(args[1], &unit) || !nsr_lang_to_double(args[2], &x)) {
    return nsr_fail(err, NSR_ERR_INVALID, "activation: expects (activation SITE UNIT X)");
  }
  for (int s = 0; s < acts->n_sites; s++) {
    char site[32];
    nsr_site_name(&acts->sites[s], site, sizeof site);
    if (strcmp(site, name) != 0) continue;
    long i = input_index(acts, x);
    if (!(unit >= 0 && unit < acts->sites[s].width) || i < 0) {
      return nsr_fail(err, NSR_ERR_RANGE, "activation: unit %g of %s on %g is out of range%s", unit,
                      name, x, acts->inputs ? " (or not in the sample)" : "");
    }
    const nsr_site *site_p = &acts->sites[s];
    *out = nsr_lang_real(site_p->values[(size_t)i * site_p->width + (size_t)unit]);
    return NSR_OK;
  }
  return nsr_fail(err, NSR_ERR_INVALID, "activation: no site '%s'", name);
}

static void advance(progress_ctx *p) {
  p->done++;
  if (p->step) p->step(p->ctx, p->done, p->total);
}

static nsr_code run_alignment(const nsr_activations *acts, const nsr_concept_library *lib,
                              const nsr_extract_opts *opts, nsr_extraction *ex, progress_ctx *p,
                              nsr_error *err) {
  nsr_ranked *scratch = nsr_mallocarray(acts->max, sizeof *scratch);
  if (scratch == NULL) return nsr_fail(err, NSR_ERR_NOMEM, "alignment: out of memory");
  /* The concepts alignment competes over: a view of the library's tail. */
  nsr_concept_library view = *lib;
  view.items += lib->align_first;
  view.n -= lib->align_first;
  view.align_first = 0;
  lib = &view;
  nsr_code rc = NSR_OK;
  for (int s = 0; s < acts->n_sites && rc == NSR_OK; s++) {
    const nsr_site *site = &acts->sites[s];
    char name[32];
    nsr_site_name(site, name, sizeof name);
    for (int u = 0; u < site->width && rc == NSR_OK; u++) {
      nsr_alignment a;
      if (nsr_align_unit(site->values + u, (size_t)site->width, lib, opts->align_min_size,
                         scratch, &a)) {
        const nsr_concept *c = &lib->items[a.concept];
        /* The rule as a biconditional: true on x exactly when firing and
         * membership agree, so the share of the domain where the
         * interpreter says #t is the fidelity. 17 digits: the threshold
         * round-trips, and the interpreter compares as the C code did. */
        char *church = arena_printf(&ex->arena,
                                    "(lambda (x) (equal? (%s (activation \"%s\" %d x) %.17g) (%s x)))",
                                    a.above ? ">" : "<", name, u, a.threshold, c->definition);
        if (church == NULL) rc = nsr_fail(err, NSR_ERR_NOMEM, "alignment: out of memory");
        if (rc == NSR_OK) rc = nsr_church_extension(p->lang, church, acts->inputs, acts->max, &p->church, err);
        if (rc != NSR_OK) break;
        size_t agree = nsr_bitset_count(&p->church);
        if (agree != (size_t)lround(a.fidelity * acts->max)) {
          rc = nsr_fail(err, NSR_ERR_INTERNAL, "alignment of %s[%d]: Church gives %zu agreements, "
                        "the scan %.0f", name, u, agree, a.fidelity * acts->max);
          break;
        }
        char num[4][NSR_JSON_REAL_MAX];
        nsr_store_rule r = {
            .method = nsr_extract_methods[NSR_METHOD_ALIGNMENT], .layer = site->layer, .unit = u,
            .site = nsr_arena_strdup(&ex->arena, name),
            .body = arena_printf(&ex->arena, "%s[%d] %s %.6g", name, u, a.above ? ">" : "<",
                                 a.threshold),
            .conclusion = c->name, .church = church,
            .fidelity = (double)agree / acts->max, .accuracy = NAN, .completeness = 1.0, .support = a.fires,
            .details = arena_printf(&ex->arena,
                                    "{\"threshold\":%s,\"direction\":\"%s\",\"balanced_accuracy\":%s,"
                                    "\"precision\":%s,\"recall\":%s,\"concept_size\":%u}",
                                    nsr_json_real_text(a.threshold, num[0]), a.above ? ">" : "<",
                                    nsr_json_real_text(a.balanced_accuracy, num[1]),
                                    nsr_json_real_text(a.precision, num[2]),
                                    nsr_json_real_text(a.recall, num[3]), c->size)};
        if (r.site == NULL) r.body = NULL;
        nsr_store_sample sample = sample_stats(acts, agree, acts->max, 0, 0, acts->max);
        rc = push_rule(ex, &r, &sample, NSR_METHOD_ALIGNMENT, err);
      }
      advance(p);
    }
  }
  nsr_free(scratch);
  return rc;
}

static nsr_code run_probes(const nsr_activations *acts, const nsr_concept_library *lib,
                           const nsr_extract_opts *opts, nsr_extraction *ex, progress_ctx *p,
                           nsr_error *err) {
  double *acc = nsr_mallocarray(2 * lib->n, sizeof *acc);
  if (acc == NULL) return nsr_fail(err, NSR_ERR_NOMEM, "probes: out of memory");
  double *control = acc + lib->n;
  nsr_code rc = NSR_OK;
  for (int s = 0; s < acts->n_sites && rc == NSR_OK; s++) {
    const nsr_site *site = &acts->sites[s];
    char name[32];
    nsr_site_name(site, name, sizeof name);
    rc = nsr_probe_site(site->values, site->width, lib, opts, acc, control, err);
    for (size_t c = 0; c < lib->n && rc == NSR_OK; c++) {
      const nsr_concept *con = &lib->items[c];
      double majority = (double)(con->size > lib->max - con->size ? con->size : lib->max - con->size) /
                        lib->max;
      char num[4][NSR_JSON_REAL_MAX];
      nsr_store_rule r = {
          .method = nsr_extract_methods[NSR_METHOD_PROBE], .layer = site->layer, .unit = -1,
          .site = nsr_arena_strdup(&ex->arena, name),
          .body = arena_printf(&ex->arena, "linear probe on %s (%d dims)", name, site->width),
          .conclusion = con->name, .church = con->definition, .fidelity = NAN,
          .accuracy = acc[c], .completeness = 1.0, .support = lib->max,
          .details = arena_printf(&ex->arena,
                                  "{\"control_accuracy\":%s,\"selectivity\":%s,"
                                  "\"majority\":%s,\"folds\":%d,\"ridge\":%s}",
                                  nsr_json_real_text(control[c], num[0]),
                                  nsr_json_real_text(acc[c] - control[c], num[1]),
                                  nsr_json_real_text(majority, num[2]), opts->probe_folds,
                                  nsr_json_real_text(opts->probe_ridge, num[3]))};
      if (r.site == NULL) r.body = NULL;
      nsr_store_sample sample =
          sample_stats(acts, 0, 0, (uint64_t)llround(acc[c] * lib->max), lib->max, lib->max);
      rc = push_rule(ex, &r, &sample, NSR_METHOD_PROBE, err);
    }
    advance(p);
  }
  nsr_free(acc);
  return rc;
}

/* Feature f of the CART matrix: unit f - offset of the site holding it. */
static void feature_name(const nsr_activations *acts, int f, char *buf, size_t len) {
  int s = 0;
  while (f >= acts->sites[s].width) f -= acts->sites[s++].width;
  char site[32];
  nsr_site_name(&acts->sites[s], site, sizeof site);
  snprintf(buf, len, "%s[%d]", site, f);
}

static int compare_i32(const void *a, const void *b) {
  int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
  return (x > y) - (x < y);
}

/* CART's label of a class: with the whole space as classes every interval
 * is one label, CART_INTERVAL ("an interval"), since a tree of 2^D leaves
 * cannot name thousands of intervals one by one (on example sets the
 * shipped model's top hypotheses are a third distinct intervals); other
 * classes are their own label, -1 (no class) stays -1. */
#define CART_INTERVAL (-2)
static int32_t cart_class(const nsr_activations *acts, int32_t k) {
  return acts->layout == NSR_LAYOUT_SPACE && k >= (int32_t)NSR_NUMBERS_RULES ? CART_INTERVAL : k;
}

/* The index of a library concept whose extension is `set`, or -1. */
static long concept_of(const nsr_concept_library *lib, const nsr_bitset *set) {
  for (size_t c = 0; c < lib->n; c++) {
    if (nsr_bitset_equal(&lib->items[c].extension, set)) return (long)c;
  }
  return -1;
}

/* One leaf as a stored rule with PSyKE's metrics (Sabbatini et al. 2021)
 * over the inputs it covers. The leaf is written as a Church predicate over
 * x; the interpreter's extension of it must be the leaf's inputs, and the
 * metrics are counted on that extension. */
static nsr_code cart_rule(const nsr_activations *acts, const nsr_concept_library *lib,
                          const nsr_numbers *engine, const nsr_cart_rule *leaf,
                          const int32_t *classes, const uint32_t *order, nsr_bitset *covered,
                          nsr_extraction *ex, progress_ctx *p, nsr_error *err) {
  nsr_strbuf body = {0}, church = {0};
  nsr_strbuf_puts(&church, "(lambda (x) (and");
  for (int k = 0; k < leaf->n_conds; k++) {
    char name[48], site[32];
    feature_name(acts, leaf->feature[k], name, sizeof name);
    const char *op = leaf->above[k] ? ">" : "<=";
    nsr_strbuf_printf(&body, "%s%s %s %.6g", k ? " and " : "", name, op, (double)leaf->threshold[k]);
    /* 17 digits: the decimal read back is the threshold's exact double,
     * so an activation equal to the threshold falls on the same side as in
     * the tree (9 digits would only round back to the same float). */
    int unit = (int)strtol(strchr(name, '[') + 1, NULL, 10);
    snprintf(site, sizeof site, "%.*s", (int)(strchr(name, '[') - name), name);
    nsr_strbuf_printf(&church, " (%s (activation \"%s\" %d x) %.17g)", op, site, unit,
                      (double)leaf->threshold[k]);
  }
  if (leaf->n_conds == 0) nsr_strbuf_puts(&body, "true");
  nsr_strbuf_puts(&church, "))");
  char *body_text = NULL, *church_text = NULL;
  nsr_code rc = nsr_strbuf_finish(&body, &body_text, NULL, err);
  if (nsr_strbuf_finish(&church, &church_text, NULL, err) != NSR_OK) rc = NSR_ERR_NOMEM;
  if (rc == NSR_OK) rc = nsr_church_extension(p->lang, church_text, acts->inputs, acts->max, &p->church, err);
  nsr_bitset_clear_all(covered);
  for (uint32_t i = 0; i < leaf->covered; i++) nsr_bitset_add(covered, order[leaf->members_first + i] + 1);
  if (rc == NSR_OK && !nsr_bitset_equal(covered, &p->church)) {
    rc = nsr_fail(err, NSR_ERR_INTERNAL, "CART rule '%s': its Church predicate covers other inputs",
                  body_text);
  }
  int32_t klass = classes[leaf->label];
  uint32_t agree = 0, exact_agree = 0, n = 0;
  for (size_t x = nsr_bitset_next(&p->church, 1); x < p->church.nbits; x = nsr_bitset_next(&p->church, x + 1)) {
    agree += cart_class(acts, acts->top[x - 1]) == klass;
    exact_agree += cart_class(acts, acts->exact[x - 1]) == klass;
    n++;
  }
  long concept = concept_of(lib, covered);
  char conclusion[NSR_NUMBERS_NAME_MAX + 16];
  if (klass == CART_INTERVAL) snprintf(conclusion, sizeof conclusion, "an interval");
  else nsr_class_name(acts, engine, klass, conclusion, sizeof conclusion);
  nsr_store_rule r = {
      .method = nsr_extract_methods[NSR_METHOD_CART], .layer = -1, .unit = -1, .site = "activations",
      .body = nsr_arena_strdup(&ex->arena, body_text ? body_text : ""),
      .conclusion = nsr_arena_strdup(&ex->arena, conclusion),
      .church = nsr_arena_strdup(&ex->arena, church_text ? church_text : ""),
      .fidelity = (double)agree / n,
      .accuracy = acts->layout == NSR_LAYOUT_OTHER ? NAN : (double)exact_agree / n,
      .completeness = (double)n / acts->max, .support = n,
      .details = concept >= 0 ? arena_printf(&ex->arena, "{\"conditions\":%d,\"covered_concept\":\"%s\"}",
                                             leaf->n_conds, lib->items[concept].name)
                              : arena_printf(&ex->arena, "{\"conditions\":%d}", leaf->n_conds)};
  nsr_store_sample sample =
      sample_stats(acts, agree, n, exact_agree, acts->layout == NSR_LAYOUT_OTHER ? 0 : n, n);
  nsr_free(body_text);
  nsr_free(church_text);
  if (rc != NSR_OK) return rc;
  ex->tree_fidelity += (double)agree / acts->max;
  ex->tree_accuracy += (double)exact_agree / acts->max;
  ex->tree_completeness += r.completeness;
  return push_rule(ex, &r, &sample, NSR_METHOD_CART, err);
}

static nsr_code run_cart(const nsr_activations *acts, const nsr_concept_library *lib,
                         const nsr_numbers *engine, const nsr_extract_opts *opts,
                         nsr_extraction *ex, progress_ctx *p, nsr_error *err) {
  uint32_t n = acts->max;
  int features = 0;
  for (int s = 0; s < acts->n_sites; s++) features += acts->sites[s].width;
  float *x = nsr_mallocarray((size_t)n * features, sizeof *x);
  int32_t *classes = nsr_mallocarray(n, sizeof *classes);
  int32_t *labels = nsr_mallocarray(n, sizeof *labels);
  uint32_t *order = nsr_mallocarray(n, sizeof *order);
  nsr_bitset scratch = {0};
  nsr_cart_rule *leaves = NULL;
  size_t n_leaves = 0;
  nsr_code rc = NSR_OK;
  if (x == NULL || classes == NULL || labels == NULL || order == NULL ||
      nsr_bitset_init(&scratch, n + 1, err) != NSR_OK) {
    rc = nsr_fail(err, NSR_ERR_NOMEM, "CART: out of memory");
    goto done;
  }
  for (uint32_t i = 0; i < n; i++) {
    float *row = x + (size_t)i * features;
    for (int s = 0; s < acts->n_sites; s++) {
      const nsr_site *site = &acts->sites[s];
      memcpy(row, site->values + (size_t)i * site->width, (size_t)site->width * sizeof *row);
      row += site->width;
    }
  }
  /* Labels are the distinct proposals, numbered densely, so the tree's
   * counts are as small as the number of classes the network uses. */
  for (uint32_t i = 0; i < n; i++) classes[i] = cart_class(acts, acts->top[i]);
  qsort(classes, n, sizeof *classes, compare_i32);
  int n_labels = 0;
  for (uint32_t i = 0; i < n; i++) if (i == 0 || classes[i] != classes[i - 1]) classes[n_labels++] = classes[i];
  for (uint32_t i = 0; i < n; i++) {
    int32_t label = cart_class(acts, acts->top[i]);
    int32_t *hit = bsearch(&label, classes, (size_t)n_labels, sizeof *classes, compare_i32);
    labels[i] = (int32_t)(hit - classes);
  }
  ex->tree_fidelity = ex->tree_accuracy = ex->tree_completeness = 0;
  rc = nsr_cart_grow(x, features, labels, n_labels, n, opts->cart_depth, &leaves, &n_leaves, order,
                     err);
  for (size_t k = 0; k < n_leaves && rc == NSR_OK; k++) {
    rc = cart_rule(acts, lib, engine, &leaves[k], classes, order, &scratch, ex, p, err);
  }
  if (acts->layout == NSR_LAYOUT_OTHER) ex->tree_accuracy = NAN;
  advance(p);
done:
  nsr_free(x);
  nsr_free(classes);
  nsr_free(labels);
  nsr_free(order);
  nsr_free(leaves);
  nsr_bitset_free(&scratch);
  return rc;
}

nsr_code nsr_extract(const nsr_activations *acts, const nsr_concept_library *lib,
                     const nsr_numbers *engine, const nsr_extract_opts *opts,
                     void (*step)(void *ctx, uint64_t done, uint64_t total), void *ctx,
                     nsr_extraction *ex, nsr_error *err) {
  memset(ex, 0, sizeof *ex);
  nsr_arena_init(&ex->arena, 0, 0);
  ex->tree_fidelity = ex->tree_accuracy = ex->tree_completeness = NAN;
  bool same_inputs = lib->max == acts->max && lib->domain_max == acts->domain_max &&
                     (lib->inputs == NULL) == (acts->inputs == NULL) &&
                     (lib->inputs == NULL ||
                      memcmp(lib->inputs, acts->inputs, acts->max * sizeof *acts->inputs) == 0) &&
                     lib->sets == acts->sets;
  if (!same_inputs || nsr_numbers_get_config(engine)->max != acts->domain_max) {
    return nsr_fail(err, NSR_ERR_INVALID, "extraction: concept library, engine and activations "
                                          "disagree on the domain");
  }
  progress_ctx p = {step, ctx, 0, 0, NULL, {0}};
  nsr_lang_config cfg;
  nsr_lang_config_default(&cfg);
  nsr_code rc = nsr_lang_new(&cfg, &p.lang, err);
  if (rc == NSR_OK) rc = nsr_bitset_init(&p.church, acts->max + 1, err);
  if (rc == NSR_OK) {
    /* The interpreter only reads acts during this call. */
    rc = nsr_lang_define_primitive(p.lang, "activation", 3, 3, prim_activation, (void *)acts, err);
  }
  if (rc == NSR_OK) rc = nsr_extract_define_inputs(p.lang, lib, err);
  for (int s = 0; s < acts->n_sites; s++) {
    p.total += (opts->alignment ? (uint64_t)acts->sites[s].width : 0) + (opts->probe ? 1 : 0);
  }
  p.total += opts->cart ? 1 : 0;
  if (rc == NSR_OK && opts->alignment) rc = run_alignment(acts, lib, opts, ex, &p, err);
  if (rc == NSR_OK && opts->probe) rc = run_probes(acts, lib, opts, ex, &p, err);
  if (rc == NSR_OK && opts->cart) rc = run_cart(acts, lib, engine, opts, ex, &p, err);
  nsr_bitset_free(&p.church);
  nsr_lang_free(p.lang);
  if (rc != NSR_OK) nsr_extraction_free(ex);
  return rc;
}
