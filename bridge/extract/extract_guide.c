/* extract_guide.c: the inputs a guide is read on: example sets drawn from
 * its space's prior as its training data is, with the concepts they came
 * from and the class the guide is trained to rank first. */
#include "nsr_extract.h"

#include <string.h>

nsr_code nsr_guide_sets_make(const nsr_space *space, size_t n, uint64_t seed, nsr_guide_sets *out,
                             nsr_error *err) {
  memset(out, 0, sizeof *out);
  if (nsr_guide_heldout_make(space, n, seed, &out->items, err) != NSR_OK) return err->code;
  out->sets.n = n;
  out->sets.n_examples = nsr_mallocarray(n ? n : 1, sizeof *out->sets.n_examples);
  out->sets.examples = nsr_calloc(n ? n * NSR_PROPOSE_MAX_EXAMPLES : 1, sizeof *out->sets.examples);
  if (out->sets.n_examples == NULL || out->sets.examples == NULL) {
    nsr_guide_sets_free(out);
    return nsr_fail(err, NSR_ERR_NOMEM, "example sets: out of memory");
  }
  for (size_t i = 0; i < n; i++) {
    const nsr_guide_item *it = &out->items[i];
    out->sets.n_examples[i] = it->n_examples;
    memcpy(out->sets.examples + i * NSR_PROPOSE_MAX_EXAMPLES, it->examples,
           it->n_examples * sizeof *it->examples);
  }
  return NSR_OK;
}

void nsr_guide_sets_free(nsr_guide_sets *s) {
  nsr_heldout_free(&s->sets);
  nsr_free(s->items);
  memset(s, 0, sizeof *s);
}

int32_t nsr_guide_truth_class(const nsr_space *space, const nsr_space_concept *c) {
  size_t p = nsr_space_productions(space);
  if (c->kind != NSR_CONCEPT_GRAMMAR || c->tree.len < 1) return (int32_t)p;
  /* The target is the tree's production counts over its length: its
   * largest class is the most frequent production. */
  uint32_t count[NSR_SPACE_TREE_MAX] = {0};
  int best = 0;
  for (int k = 0; k < c->tree.len; k++) {
    for (int j = 0; j <= k; j++) {
      if (c->tree.prog[j] == c->tree.prog[k]) {
        count[j]++;
        break;
      }
    }
  }
  for (int k = 1; k < c->tree.len; k++) {
    bool more = count[k] > count[best];
    bool tie_lower = count[k] == count[best] && c->tree.prog[k] < c->tree.prog[best];
    if (more || tie_lower) best = k;
  }
  return (int32_t)c->tree.prog[best];
}
