/* space_sample.c: concepts and examples drawn from a space's generative
 * model (the data a guide is trained on), trees as public values, and the
 * signature that ties a guide to its space. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "space.h"

#define SAMPLE_TRIES 1000000

/* Draws an interval: its size by the interval prior summed over starts
 * (space_interval_prior's table), then its start uniformly. */
static void sample_interval(const nsr_space *s, nsr_rng *rng, nsr_space_concept *out) {
  uint32_t size = 1 + (uint32_t)space_cum_find(s->interval_cum, s->max, nsr_rng_uniform(rng));
  out->kind = NSR_CONCEPT_INTERVAL;
  out->lo = 1 + (uint32_t)nsr_rng_below(rng, s->max - size + 1);
  out->hi = out->lo + size - 1;
  out->size = size;
  for (uint32_t y = out->lo; y <= out->hi; y++) out->bits[y >> 6] |= UINT64_C(1) << (y & 63);
}

nsr_code nsr_space_sample_concept(const nsr_space *s, nsr_rng *rng, nsr_space_concept *out, nsr_error *err) {
  memset(out, 0, sizeof *out);
  if (nsr_rng_uniform(rng) >= s->params.lambda) {
    sample_interval(s, rng, out);
    return NSR_OK;
  }
  out->kind = NSR_CONCEPT_GRAMMAR;
  uint64_t scratch[SPACE_EVAL_SCRATCH];
  for (int tries = 0; tries < SAMPLE_TRIES; tries++) {
    space_tree_draw_prior(s, rng, &out->tree);
    int i = 0;
    if (space_tree_eval(s, out->tree.prog, &i, out->bits, scratch)) {
      out->size = space_popcount(out->bits, s->words);
      return NSR_OK;
    }
  }
  memset(out->bits, 0, sizeof out->bits);
  return nsr_fail(err, NSR_ERR_INVALID, "no expression drawn from the grammar in %d tries is non-empty", SAMPLE_TRIES);
}

void nsr_space_sample_examples(const nsr_space *s, const nsr_space_concept *c, size_t n, nsr_rng *rng,
                               uint32_t *x) {
  for (size_t i = 0; i < n; i++) {
    uint32_t r = (uint32_t)nsr_rng_below(rng, c->size); /* the r-th member, counting from 0 */
    size_t k = 0;
    for (uint32_t count; r >= (count = (uint32_t)__builtin_popcountll(c->bits[k])); k++) r -= count;
    uint64_t w = c->bits[k];
    for (; r > 0; r--) w &= w - 1; /* drop the r lowest members */
    x[i] = (uint32_t)(k * 64 + (size_t)__builtin_ctzll(w));
  }
  (void)s;
}

uint32_t nsr_space_tree_extension(const nsr_space *s, const nsr_space_tree *t, uint64_t *bits) {
  if (!space_tree_valid(s, t)) return 0;
  uint64_t scratch[SPACE_EVAL_SCRATCH];
  int i = 0;
  if (!space_tree_eval(s, t->prog, &i, bits, scratch)) return 0;
  return space_popcount(bits, s->words);
}

void nsr_space_tree_name(const nsr_space *s, const nsr_space_tree *t, char *buf, size_t len) {
  if (!space_tree_valid(s, t)) {
    snprintf(buf, len, "(not a tree of this space)");
    return;
  }
  int i = 0;
  space_tree_describe(s, t->prog, &i, buf, len);
}

/* FNV-1a, 64 bits, over n bytes continuing from h. */
static uint64_t fnv1a(uint64_t h, const void *data, size_t n) {
  const unsigned char *p = data;
  for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * UINT64_C(0x100000001b3);
  return h;
}

uint64_t nsr_space_signature(const nsr_space *s) {
  uint64_t h = UINT64_C(0xcbf29ce484222325);
  uint32_t max_size = (uint32_t)s->max_size;
  unsigned char head[2 * sizeof(uint32_t)]; /* the two words' bytes, as in memory */
  memcpy(head, &s->max, sizeof(uint32_t));
  memcpy(head + sizeof(uint32_t), &max_size, sizeof(uint32_t));
  h = fnv1a(h, head, sizeof head);
  for (size_t k = 0; k < s->n_prods; k++) h = fnv1a(h, s->prods[k].name, strlen(s->prods[k].name) + 1);
  return h;
}
