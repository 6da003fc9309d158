/* propose.c: a proposal network run on one example set, its top K rescored
 * by the exact engine. See propose.h for the input and output layout. */
#include "nsr_learn.h"

#include <math.h>
#include <string.h>

#include "json.h"

struct nsr_proposer {
  nsr_nn_model *model;
  bool owns_model;
  nsr_numbers *engine;
  nsr_numbers_result result; /* the exact MAP and log p(X) */
  uint32_t n_max;
  size_t n_classes;
  float *probs; /* [n_classes] the network's q(h | X) */
};

void nsr_propose_config(uint32_t n_max, int d_model, int n_layers,
                        nsr_nn_config *out) {
  nsr_nn_config_default(out);
  out->vocab = (int)n_max + 1 + NSR_PROPOSE_MAX_EXAMPLES;
  out->max_len = NSR_PROPOSE_MAX_LEN;
  out->n_classes = (int)(NSR_NUMBERS_RULES + (uint64_t)n_max * (n_max + 1) / 2);
  out->d_model = d_model;
  out->n_heads = 4;
  out->d_ff = 4 * d_model;
  out->n_layers = n_layers;
  out->pos = NSR_NN_POS_NONE;
  out->pool = NSR_NN_POOL_MEAN;
  out->head = NSR_NN_HEAD_SOFTMAX;
}

nsr_code nsr_propose_check_config(const nsr_nn_config *cfg, uint32_t *n_max,
                                  nsr_error *err) {
  int n = cfg->vocab - 1 - NSR_PROPOSE_MAX_EXAMPLES;
  if (n < 1) return nsr_fail(err, NSR_ERR_FORMAT, "not a proposal model: vocab %d is too small", cfg->vocab);
  uint64_t classes = NSR_NUMBERS_RULES + (uint64_t)n * (uint64_t)(n + 1) / 2;
  if ((uint64_t)cfg->n_classes != classes) {
    return nsr_fail(err, NSR_ERR_FORMAT,
                    "not a proposal model: %d classes, but numbers 1..%d need %llu",
                    cfg->n_classes, n, (unsigned long long)classes);
  }
  if (cfg->max_len < NSR_PROPOSE_MAX_LEN) {
    return nsr_fail(err, NSR_ERR_FORMAT, "not a proposal model: max_len %d < %d",
                    cfg->max_len, NSR_PROPOSE_MAX_LEN);
  }
  if (cfg->head != NSR_NN_HEAD_SOFTMAX) {
    return nsr_fail(err, NSR_ERR_FORMAT, "not a proposal model: the head must be a softmax");
  }
  *n_max = (uint32_t)n;
  return NSR_OK;
}

int32_t nsr_propose_tokens(uint32_t n_max, const uint32_t *examples, size_t n,
                           int32_t *tokens) {
  memset(tokens, 0, NSR_PROPOSE_MAX_LEN * sizeof *tokens);
  for (size_t i = 0; i < n; i++) tokens[i] = (int32_t)examples[i];
  tokens[n] = (int32_t)(n_max + n);
  return (int32_t)n + 1;
}

nsr_code nsr_proposer_wrap(nsr_nn_model *model, nsr_proposer **out, nsr_error *err) {
  uint32_t n_max;
  if (nsr_propose_check_config(nsr_nn_get_config(model), &n_max, err) != NSR_OK) return err->code;
  nsr_proposer *p = nsr_calloc(1, sizeof *p);
  if (p == NULL) return nsr_fail(err, NSR_ERR_NOMEM, "out of memory");
  p->model = model;
  p->n_max = n_max;
  p->n_classes = (size_t)nsr_nn_get_config(model)->n_classes;
  nsr_numbers_config cfg;
  nsr_numbers_config_default(&cfg);
  cfg.max = n_max;
  if (nsr_numbers_new(&cfg, &p->engine, err) != NSR_OK) {
    nsr_proposer_free(p);
    return err->code;
  }
  p->probs = nsr_mallocarray(p->n_classes, sizeof(float));
  if (p->probs == NULL) {
    nsr_proposer_free(p);
    return nsr_fail(err, NSR_ERR_NOMEM, "out of memory");
  }
  /* Reserving now keeps every later query free of allocation. */
  if (nsr_nn_reserve(model, 1, false, err) != NSR_OK) {
    nsr_proposer_free(p);
    return err->code;
  }
  *out = p;
  return NSR_OK;
}

nsr_code nsr_proposer_load(const char *path, int n_threads, nsr_proposer **out,
                           nsr_error *err) {
  nsr_nn_model *model;
  if (nsr_nn_load(path, &model, err) != NSR_OK) return err->code;
  /* Before wrapping: the reserve there makes the pool. */
  if (nsr_nn_set_threads(model, n_threads, err) != NSR_OK ||
      nsr_proposer_wrap(model, out, err) != NSR_OK) {
    nsr_error_prefix(err, "'%s': ", path);
    nsr_nn_free(model);
    return err->code;
  }
  (*out)->owns_model = true;
  return NSR_OK;
}

void nsr_proposer_free(nsr_proposer *p) {
  if (p == NULL) return;
  if (p->owns_model) nsr_nn_free(p->model);
  nsr_numbers_result_free(&p->result);
  nsr_numbers_free(p->engine);
  nsr_free(p->probs);
  nsr_free(p);
}

nsr_numbers *nsr_proposer_engine(nsr_proposer *p) { return p->engine; }
uint32_t nsr_proposer_max(const nsr_proposer *p) { return p->n_max; }
const float *nsr_proposer_probs(const nsr_proposer *p) { return p->probs; }

static nsr_code check_examples(const nsr_proposer *p, const uint32_t *examples,
                               size_t n, nsr_error *err) {
  if (n == 0) return nsr_fail(err, NSR_ERR_INVALID, "no examples");
  if (n > NSR_PROPOSE_MAX_EXAMPLES) {
    return nsr_fail(err, NSR_ERR_INVALID, "%zu examples: the network takes at most %d",
                    n, NSR_PROPOSE_MAX_EXAMPLES);
  }
  for (size_t i = 0; i < n; i++) {
    if (examples[i] < 1 || examples[i] > p->n_max) {
      return nsr_fail(err, NSR_ERR_RANGE, "example %u is outside 1..%u", examples[i], p->n_max);
    }
  }
  return NSR_OK;
}

nsr_code nsr_propose_forward(nsr_proposer *p, const uint32_t *examples,
                             size_t n, nsr_error *err) {
  if (check_examples(p, examples, n, err) != NSR_OK) return err->code;
  int32_t tokens[NSR_PROPOSE_MAX_LEN];
  int32_t len = nsr_propose_tokens(p->n_max, examples, n, tokens);
  nsr_nn_batch batch = {.batch = 1, .seq_len = len, .tokens = tokens, .lengths = &len};
  return nsr_nn_forward(p->model, &batch, NULL, p->probs, err);
}

#define TOP_K_BLOCK 64

/* Inserts q[i] into the sorted idx[0 .. *have) (at most k kept). */
static void top_insert(const float *q, size_t i, size_t k, uint64_t *idx, size_t *have) {
  size_t j = *have < k ? (*have)++ : k - 1;
  while (j > 0 && q[idx[j - 1]] < q[i]) {
    idx[j] = idx[j - 1];
    j--;
  }
  idx[j] = i;
}

/* Whether any of q[0 .. TOP_K_BLOCK) exceeds kth: an OR of comparisons over
 * a fixed trip count, which the compiler turns into vector compares. */
static bool block_beats(const float *q, float kth) {
  int any = 0;
  for (int i = 0; i < TOP_K_BLOCK; i++) any |= q[i] > kth;
  return any != 0;
}

/* By insertion into a sorted array. Once k entries are held, a whole block
 * that cannot beat the k-th is skipped after one vector scan, which is
 * nearly every block for a peaked q. */
size_t nsr_propose_top_k(const float *q, size_t count, size_t k, uint64_t *idx) {
  size_t have = 0;
  float kth = 0.0f; /* q[idx[k - 1]] once k are held */
  for (size_t start = 0; start < count; start += TOP_K_BLOCK) {
    size_t end = start + TOP_K_BLOCK < count ? start + TOP_K_BLOCK : count;
    if (have == k && end - start == TOP_K_BLOCK && !block_beats(q + start, kth)) continue;
    for (size_t i = start; i < end; i++) {
      if (have == k && !(q[i] > kth)) continue;
      top_insert(q, i, k, idx, &have);
      if (have == k) kth = q[idx[k - 1]];
    }
  }
  return have;
}

static bool consistent(const nsr_numbers *engine, const nsr_hypothesis *h,
                       const uint32_t *examples, size_t n) {
  for (size_t i = 0; i < n; i++) {
    bool in = h->kind == NSR_HYP_RULE ? nsr_bitset_has(nsr_numbers_rule_set(engine, h->rule), examples[i])
                                      : examples[i] >= h->lo && examples[i] <= h->hi;
    if (!in) return false;
  }
  return true;
}

/* Fills one proposal: p(h | X) = p(h) |h|^-n / p(X) for h ⊇ X, else 0. */
static nsr_code score(nsr_proposer *p, uint64_t index, const uint32_t *examples,
                      size_t n, nsr_proposal *out, nsr_error *err) {
  nsr_hypothesis h;
  if (nsr_numbers_hypothesis_at(p->engine, index, &h, err) != NSR_OK) return err->code;
  out->index = index;
  nsr_numbers_hypothesis_name(&h, out->name, sizeof out->name);
  out->network = p->probs[index];
  out->posterior = consistent(p->engine, &h, examples, n)
                       ? exp(log(h.prior) - (double)n * log((double)h.size) - p->result.log_evidence)
                       : 0.0;
  out->restricted = 0.0;
  return NSR_OK;
}

nsr_code nsr_propose(nsr_proposer *p, const uint32_t *examples, size_t n,
                     size_t k, nsr_proposals *out, nsr_error *err) {
  if (k < 1 || k > NSR_PROPOSE_MAX_TOP) {
    return nsr_fail(err, NSR_ERR_INVALID, "top %zu is outside 1..%d", k, NSR_PROPOSE_MAX_TOP);
  }
  if (nsr_propose_forward(p, examples, n, err) != NSR_OK) return err->code;
  if (nsr_numbers_infer(p->engine, examples, n, 1, &p->result, err) != NSR_OK) return err->code;
  uint64_t idx[NSR_PROPOSE_MAX_TOP];
  out->n = nsr_propose_top_k(p->probs, p->n_classes, k, idx);
  out->covered = 0.0;
  for (size_t i = 0; i < out->n; i++) {
    // NOLINTNEXTLINE(clang-analyzer-core.CallAndMessage): score writes items[i] only; the analyzer forgets out->n
    if (score(p, idx[i], examples, n, &out->items[i], err) != NSR_OK) return err->code;
    out->covered += out->items[i].posterior;
  }
  for (size_t i = 0; i < out->n; i++) {
    if (out->covered > 0) out->items[i].restricted = out->items[i].posterior / out->covered;
  }
  uint64_t map = nsr_numbers_hypothesis_index(p->engine, &p->result.top[0]);
  if (score(p, map, examples, n, &out->exact_map, err) != NSR_OK) return err->code;
  out->exact_map.restricted = 1.0;
  return NSR_OK;
}

void nsr_propose_generalization(const nsr_numbers *engine, const float *q,
                                double *out) {
  uint32_t n_max = nsr_numbers_get_config(engine)->max;
  memset(out, 0, n_max * sizeof *out);
  /* Intervals first, with out as a difference array: [a, b] adds its mass at
   * a and removes it after b; a running sum then gives Σ over a <= y <= b in
   * O(N^2) for all y instead of O(N^3). */
  size_t index = NSR_NUMBERS_RULES;
  for (uint32_t a = 1; a <= n_max; a++) {
    for (uint32_t b = a; b <= n_max; b++, index++) {
      out[a - 1] += q[index];
      if (b < n_max) out[b] -= q[index];
    }
  }
  for (uint32_t y = 1; y < n_max; y++) out[y] += out[y - 1];
  for (uint32_t r = 0; r < NSR_NUMBERS_RULES; r++) {
    const nsr_bitset *set = nsr_numbers_rule_set(engine, r);
    for (size_t y = nsr_bitset_next(set, 1); y <= n_max; y = nsr_bitset_next(set, y + 1)) {
      out[y - 1] += q[r];
    }
  }
}

static json_t *proposal_json(const nsr_proposal *p, bool with_restricted) {
  /* nsr_json_real, not "f": a network whose activations overflow gives
   * NaN, which json_pack refuses (the object would be lost as if memory ran
   * out). */
  json_t *o = json_pack("{s:s, s:o, s:o}", "name", p->name, "network", nsr_json_real(p->network),
                        "posterior", nsr_json_real(p->posterior));
  if (o && with_restricted && json_object_set_new(o, "restricted", nsr_json_real(p->restricted)) != 0) {
    json_decref(o);
    return NULL;
  }
  return o;
}

json_t *nsr_proposals_json(const uint32_t *examples, size_t n, const nsr_proposals *r) {
  json_t *ex = json_array(), *props = json_array();
  for (size_t i = 0; ex && i < n; i++) {
    if (json_array_append_new(ex, json_integer(examples[i])) != 0) goto fail;
  }
  for (size_t i = 0; props && i < r->n; i++) {
    if (json_array_append_new(props, proposal_json(&r->items[i], true)) != 0) goto fail;
  }
  if (ex == NULL || props == NULL) goto fail;
  return json_pack("{s:o, s:o, s:o, s:o}", "examples", ex, "proposals", props, "exact_map",
                   proposal_json(&r->exact_map, false), "covered", nsr_json_real(r->covered));
fail:
  json_decref(ex);
  json_decref(props);
  return NULL;
}

static json_t *space_proposal_json(const nsr_space_proposal *p, bool exact) {
  json_t *o = json_pack("{s:o, s:I, s:o, s:o}", "name", nsr_json_string(p->name), "size", (json_int_t)p->size, "q",
                        nsr_json_real(p->q), "weight", nsr_json_real(p->weight));
  if (o && exact && (json_object_set_new(o, "posterior", nsr_json_real(p->posterior)) != 0 ||
                     json_object_set_new(o, "restricted", nsr_json_real(p->restricted)) != 0)) {
    json_decref(o);
    return NULL;
  }
  return o;
}

json_t *nsr_space_proposals_json(const uint32_t *examples, size_t n, const nsr_space_proposals *r) {
  bool exact = !isnan(r->covered);
  json_t *obj = json_pack("{s:[], s:I, s:I, s:o, s:s, s:[]}", "examples", "draws", (json_int_t)r->draws,
                          "distinct", (json_int_t)r->distinct, "ess", nsr_json_real(r->ess), "rescored",
                          exact ? "exact" : "importance", "proposals");
  bool ok = obj != NULL && (!exact || json_object_set_new(obj, "covered", nsr_json_real(r->covered)) == 0);
  for (size_t i = 0; ok && i < n; i++) ok = json_array_append_new(json_object_get(obj, "examples"), json_integer(examples[i])) == 0;
  for (size_t i = 0; ok && i < r->n_top; i++) {
    json_t *item = space_proposal_json(&r->top[i], exact);
    ok = item != NULL && json_array_append_new(json_object_get(obj, "proposals"), item) == 0;
  }
  if (!ok) {
    json_decref(obj);
    return NULL;
  }
  return obj;
}
