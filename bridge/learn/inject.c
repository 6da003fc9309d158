/* inject.c: symbolic knowledge into proposal networks (see inject.h). */
#include "nsr_learn.h"

#include <math.h>
#include <string.h>


#define KBANN_MAGNITUDES 9 /* detectors x > 10, x > 20, .., x > 90 (scaled to N) */
#define KBANN_HEAD_GAIN 2.0f
#define SHUFFLE_SEED 0x5eed5eedULL

static const char *const names[NSR_INJECT_COUNT] = {
    "hard", "distill", "constraint", "kbann", "constraint-shuffled", "kbann-shuffled",
    "constraint-size", "constraint-size-shuffled", "kbann-distill", "kbann-distill-shuffled",
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
                  "constraint-size, kbann-distill or a -shuffled control)", text);
}

bool nsr_inject_shuffled(nsr_inject method) {
  return method == NSR_INJECT_CONSTRAINT_SHUFFLED || method == NSR_INJECT_KBANN_SHUFFLED ||
         method == NSR_INJECT_CONSTRAINT_SIZE_SHUFFLED || method == NSR_INJECT_KBANN_DISTILL_SHUFFLED;
}

bool nsr_inject_uses_kbann(nsr_inject method) {
  return method == NSR_INJECT_KBANN || method == NSR_INJECT_KBANN_SHUFFLED ||
         method == NSR_INJECT_KBANN_DISTILL || method == NSR_INJECT_KBANN_DISTILL_SHUFFLED;
}

bool nsr_inject_soft_targets(nsr_inject method) {
  return method == NSR_INJECT_DISTILL || method == NSR_INJECT_KBANN_DISTILL ||
         method == NSR_INJECT_KBANN_DISTILL_SHUFFLED;
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

/* Residual dimensions of the KBANN layout: the 34 rule detectors, then the
 * magnitude detectors, then an "on" dimension that is 1 on every number
 * token. The FFN units read a detector against "on", which cancels the mean
 * LayerNorm subtracts (it differs from number to number), so a unit sees 0
 * for a member and -2/sigma for a non-member. */
#define KBANN_MAG_DIM NSR_NUMBERS_RULES
#define KBANN_DETECTORS (NSR_NUMBERS_RULES + KBANN_MAGNITUDES)
#define KBANN_ON_DIM KBANN_DETECTORS
#define KBANN_DIMS (KBANN_DETECTORS + 1)
#define KBANN_UNIT_GAIN 6.0f   /* fc1 weight on (detector - on) */
#define KBANN_UNIT_BIAS 3.0f   /* fc1 bias: member -> GELU(3), others -> ~0 */
#define KBANN_UNIT_WRITE 1.0f  /* what a firing unit adds to its detector */

static bool find(const nsr_nn_model *model, const char *name, nsr_nn_tensor *t) {
  return nsr_nn_find_tensor(model, name, t);
}

/* Whether number x lies above the k-th magnitude threshold (10 (k+1) % of N). */
static bool above(uint32_t x, int k, uint32_t n_max) {
  return x * 10.0 > (double)(k + 1) * n_max;
}

/* Rows of tok_emb: number x gets ±1 for "perm[x] in rule r" and "perm[x] >
 * threshold k" and 1 on "on"; count tokens get 0 on every detector, so the
 * FFN units stay off for them and their share in the pooled detectors is 0. */
static void kbann_embed(float *emb, int d, const nsr_numbers *engine, uint32_t n_max,
                        const uint32_t *perm) {
  for (uint32_t x = 1; x <= n_max; x++) {
    uint32_t seen = perm ? perm[x] : x;
    float *row = emb + (size_t)x * (size_t)d;
    for (uint32_t r = 0; r < NSR_NUMBERS_RULES; r++) {
      row[r] = nsr_bitset_has(nsr_numbers_rule_set(engine, r), seen) ? 1.0f : -1.0f;
    }
    for (int k = 0; k < KBANN_MAGNITUDES; k++) row[KBANN_MAG_DIM + k] = above(seen, k, n_max) ? 1.0f : -1.0f;
    row[KBANN_ON_DIM] = 1.0f;
  }
  for (uint32_t c = n_max + 1; c <= n_max + NSR_PROPOSE_MAX_EXAMPLES; c++) {
    float *row = emb + (size_t)c * (size_t)d;
    for (int j = 0; j < KBANN_DETECTORS; j++) row[j] = 0.0f;
    row[KBANN_ON_DIM] = 1.0f;
  }
}

/* FFN unit j of block 0 computes detector j from the embedding: it reads
 * (detector j - on) after LayerNorm, fires (GELU(3)) for members and stays
 * near 0 otherwise, and writes KBANN_UNIT_WRITE back into detector j. The
 * weights depend only on j, so the shuffled control gets the same units
 * reading its permuted detectors. */
static void kbann_ffn(nsr_nn_tensor *fc1, nsr_nn_tensor *fc1_b, nsr_nn_tensor *fc2, int d, int ff) {
  float g1 = KBANN_UNIT_BIAS * 0.5f * (1.0f + erff(KBANN_UNIT_BIAS / sqrtf(2.0f)));
  for (int j = 0; j < KBANN_DETECTORS; j++) {
    float *row = fc1->data + (size_t)j * (size_t)d;
    memset(row, 0, (size_t)d * sizeof *row);
    row[j] = KBANN_UNIT_GAIN;
    row[KBANN_ON_DIM] = -KBANN_UNIT_GAIN;
    fc1_b->data[j] = KBANN_UNIT_BIAS;
    for (int i = 0; i < d; i++) fc2->data[(size_t)i * (size_t)ff + (size_t)j] = 0.0f;
    fc2->data[(size_t)j * (size_t)ff + (size_t)j] = KBANN_UNIT_WRITE / g1;
  }
}

/* Head rows: rule r reads its own detector, so "all examples in r" raises
 * its logit. (Interval rows reading the magnitude detectors were tried and
 * lowered top-1 after training: see bridge/learn/README.md.) */
static void kbann_head(nsr_nn_tensor *head, int d) {
  for (uint32_t r = 0; r < NSR_NUMBERS_RULES; r++) {
    head->data[(size_t)r * (size_t)d + r] += KBANN_HEAD_GAIN;
  }
}

nsr_code nsr_inject_kbann(nsr_nn_model *model, const nsr_numbers *engine,
                          const uint32_t *perm, nsr_error *err) {
  const nsr_nn_config *cfg = nsr_nn_get_config(model);
  uint32_t n_max = nsr_numbers_get_config(engine)->max;
  int d = cfg->d_model;
  if (d < KBANN_DIMS || cfg->d_ff < KBANN_DETECTORS) {
    return nsr_fail(err, NSR_ERR_INVALID, "kbann needs d_model >= %d and d_ff >= %d, not %d and %d",
                    KBANN_DIMS, KBANN_DETECTORS, d, cfg->d_ff);
  }
  if ((size_t)cfg->vocab <= (size_t)n_max + NSR_PROPOSE_MAX_EXAMPLES ||
      (uint64_t)cfg->n_classes != nsr_numbers_space_size(engine)) {
    return nsr_fail(err, NSR_ERR_INVALID, "kbann: the model is not a proposal model for 1..%u", n_max);
  }
  nsr_nn_tensor emb, head, fc1, fc1_b, fc2;
  if (!find(model, "tok_emb.weight", &emb) || !find(model, "head.weight", &head) ||
      !find(model, "blocks.0.ffn.fc1.weight", &fc1) || !find(model, "blocks.0.ffn.fc1.bias", &fc1_b) ||
      !find(model, "blocks.0.ffn.fc2.weight", &fc2)) {
    return nsr_fail(err, NSR_ERR_INVALID, "kbann: the model lacks tok_emb, head or block 0's FFN");
  }
  kbann_embed(emb.data, d, engine, n_max, perm);
  kbann_ffn(&fc1, &fc1_b, &fc2, d, cfg->d_ff);
  kbann_head(&head, d);
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
