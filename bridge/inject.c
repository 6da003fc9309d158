/* inject.c: symbolic knowledge into proposal networks (see inject.h). */
#include "inject.h"

#include <string.h>

#include "propose.h"

#define KBANN_MAGNITUDES 9 /* detectors x > 10, x > 20, .., x > 90 (scaled to N) */
#define KBANN_HEAD_GAIN 2.0f
#define SHUFFLE_SEED 0x5eed5eedULL

static const char *const names[NSR_INJECT_COUNT] = {
    "hard", "distill", "constraint", "kbann", "constraint-shuffled", "kbann-shuffled",
    "constraint-size", "constraint-size-shuffled",
};

const char *nsr_inject_name(nsr_inject method) {
  return method < NSR_INJECT_COUNT ? names[method] : "?";
}

nsr_code nsr_inject_parse(const char *text, nsr_inject *out, nsr_error *err) {
  if (strcmp(text, "none") == 0) {
    *out = NSR_INJECT_HARD;
    return NSR_OK;
  }
  for (int m = 0; m < NSR_INJECT_COUNT; m++) {
    if (strcmp(text, names[m]) == 0) {
      *out = (nsr_inject)m;
      return NSR_OK;
    }
  }
  return nsr_fail(err, NSR_ERR_INVALID,
                  "unknown injection '%s' (expected none, hard, distill, constraint, kbann, "
                  "constraint-size or a -shuffled control)", text);
}

bool nsr_inject_shuffled(nsr_inject method) {
  return method == NSR_INJECT_CONSTRAINT_SHUFFLED || method == NSR_INJECT_KBANN_SHUFFLED ||
         method == NSR_INJECT_CONSTRAINT_SIZE_SHUFFLED;
}

void nsr_inject_permutation(uint32_t n_max, uint32_t *perm) {
  nsr_rng rng;
  nsr_rng_seed(&rng, SHUFFLE_SEED);
  for (uint32_t x = 0; x <= n_max; x++) perm[x] = x;
  for (uint32_t x = n_max; x > 1; x--) { /* Fisher–Yates over 1..N */
    uint32_t j = 1 + (uint32_t)nsr_rng_below(&rng, x);
    uint32_t t = perm[x];
    perm[x] = perm[j];
    perm[j] = t;
  }
}

nsr_code nsr_inject_kbann(nsr_nn_model *model, const nsr_numbers *engine,
                          const uint32_t *perm, nsr_error *err) {
  const nsr_nn_config *cfg = nsr_nn_get_config(model);
  uint32_t n_max = nsr_numbers_get_config(engine)->max;
  int d = cfg->d_model;
  if (d < NSR_NUMBERS_RULES + KBANN_MAGNITUDES) {
    return nsr_fail(err, NSR_ERR_INVALID, "kbann needs d_model >= %d, not %d",
                    NSR_NUMBERS_RULES + KBANN_MAGNITUDES, d);
  }
  nsr_nn_tensor emb, head;
  if (!nsr_nn_find_tensor(model, "tok_emb.weight", &emb) ||
      !nsr_nn_find_tensor(model, "head.weight", &head)) {
    return nsr_fail(err, NSR_ERR_INVALID, "kbann: the model has no tok_emb or head");
  }
  for (uint32_t x = 1; x <= n_max; x++) {
    uint32_t seen = perm ? perm[x] : x;
    float *row = emb.data + (size_t)x * (size_t)d;
    for (uint32_t r = 0; r < NSR_NUMBERS_RULES; r++) {
      row[r] = nsr_bitset_has(nsr_numbers_rule_set(engine, r), seen) ? 1.0f : -1.0f;
    }
    for (int k = 0; k < KBANN_MAGNITUDES; k++) {
      row[NSR_NUMBERS_RULES + k] = seen * 10.0 > (double)(k + 1) * n_max ? 1.0f : -1.0f;
    }
  }
  /* Detectors read by the head: rule r's logit grows with the share of
   * examples inside r, which is 1 exactly when r is consistent. */
  for (uint32_t r = 0; r < NSR_NUMBERS_RULES; r++) {
    float *row = head.data + (size_t)r * (size_t)d;
    row[r] += KBANN_HEAD_GAIN;
  }
  return NSR_OK;
}

/* |h|^-k by k divisions: cheaper than pow() in the O(N^2) loops below. */
static double size_weight(double size, int k) {
  double w = 1.0;
  for (int i = 0; i < k; i++) w /= size;
  return w;
}

void nsr_inject_constraint(const nsr_numbers *engine, const uint32_t *examples,
                           size_t n, const uint32_t *perm, const float *q,
                           double lambda, bool size_principle, float *teacher) {
  uint32_t n_max = nsr_numbers_get_config(engine)->max;
  uint32_t lo = n_max, hi = 1;
  uint32_t seen[NSR_PROPOSE_MAX_EXAMPLES];
  for (size_t i = 0; i < n; i++) {
    seen[i] = perm ? perm[examples[i]] : examples[i];
    if (seen[i] < lo) lo = seen[i];
    if (seen[i] > hi) hi = seen[i];
  }
  /* w(h) = q(h) (times |h|^-n) on S, the hypotheses containing every
   * (seen) example, and 0 elsewhere; its total is `mass`. */
  double mass = 0.0;
  int k = size_principle ? (int)n : 0;
  double rule_w[NSR_NUMBERS_RULES];
  for (uint64_t r = 0; r < NSR_NUMBERS_RULES; r++) {
    const nsr_bitset *set = nsr_numbers_rule_set(engine, (uint32_t)r);
    bool ok = true;
    for (size_t i = 0; i < n && ok; i++) ok = nsr_bitset_has(set, seen[i]);
    rule_w[r] = ok ? q[r] * size_weight((double)nsr_bitset_count(set), k) : 0.0;
    mass += rule_w[r];
  }
  size_t index = NSR_NUMBERS_RULES;
  for (uint32_t a = 1; a <= n_max; a++) {
    for (uint32_t b = a; b <= n_max; b++, index++) {
      if (a <= lo && b >= hi) mass += q[index] * size_weight((double)(b - a + 1), k);
    }
  }
  if (mass <= 0.0) return;
  double keep = 1.0 / (1.0 + lambda), add = lambda / (1.0 + lambda) / mass;
  for (uint64_t r = 0; r < NSR_NUMBERS_RULES; r++) {
    teacher[r] = (float)(keep * teacher[r] + add * rule_w[r]);
  }
  index = NSR_NUMBERS_RULES;
  for (uint32_t a = 1; a <= n_max; a++) {
    for (uint32_t b = a; b <= n_max; b++, index++) {
      double w = a <= lo && b >= hi ? q[index] * size_weight((double)(b - a + 1), k) : 0.0;
      teacher[index] = (float)(keep * teacher[index] + add * w);
    }
  }
}
