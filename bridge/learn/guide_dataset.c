/* guide_dataset.c: training data for guides, drawn from a space's own prior
 * (nsr_learn.h, "guide_dataset"). No human data and no enumeration: it
 * works on spaces too large to enumerate. */
#include "nsr_learn.h"

#include <string.h>

struct nsr_guide_dataset {
  nsr_guide_dataset_config cfg;
  const nsr_space *space;
  nsr_rng rng;
  float *target; /* [C·P + 1] */
};

void nsr_guide_dataset_config_default(nsr_guide_dataset_config *cfg) {
  *cfg = (nsr_guide_dataset_config){.min_examples = 1, .max_examples = NSR_DATASET_MAX_EXAMPLES,
                                    .heldout_per_mille = 100, .seed = 1,
                                    .split = NSR_SPLIT_TRAIN};
}

nsr_code nsr_guide_dataset_new(const nsr_space *space, const nsr_guide_dataset_config *cfg,
                               nsr_guide_dataset **out, nsr_error *err) {
  *out = NULL;
  if (nsr_dataset_check_counts(cfg->min_examples, cfg->max_examples, cfg->heldout_per_mille,
                               err) != NSR_OK) {
    return err->code;
  }
  nsr_guide_dataset *ds = nsr_calloc(1, sizeof *ds);
  size_t classes = nsr_space_guide_contexts(space) * nsr_space_productions(space) + 1;
  float *target = nsr_mallocarray(classes, sizeof *target);
  if (ds == NULL || target == NULL) {
    nsr_free(ds);
    nsr_free(target);
    return nsr_fail(err, NSR_ERR_NOMEM, "guide dataset: out of memory");
  }
  ds->cfg = *cfg;
  ds->space = space;
  ds->target = target;
  /* As numbers_dataset: the two splits draw from independent streams. */
  nsr_rng_seed(&ds->rng, cfg->seed);
  if (cfg->split == NSR_SPLIT_HELDOUT) nsr_rng_jump(&ds->rng);
  *out = ds;
  return NSR_OK;
}

void nsr_guide_dataset_free(nsr_guide_dataset *ds) {
  if (ds == NULL) return;
  nsr_free(ds->target);
  nsr_free(ds);
}

/* The tree's (context, production) counts divided by its length: the
 * maximum-likelihood probabilities of one softmax over the pairs for this
 * one tree, so that the cross-entropy towards it is the mean over nodes of
 * −log q(context, production | X) (each row's conditional, the grammar's
 * rule probability, plus the context's own share). */
void nsr_guide_target(const nsr_space *space, const nsr_space_concept *c, float *target) {
  size_t p = nsr_space_productions(space), classes = nsr_space_guide_contexts(space) * p;
  memset(target, 0, (classes + 1) * sizeof *target);
  if (c->kind == NSR_CONCEPT_INTERVAL || c->tree.len < 1) {
    target[classes] = 1.0f;
    return;
  }
  uint16_t ctx[NSR_SPACE_TREE_MAX];
  nsr_space_tree_contexts(space, &c->tree, ctx);
  float share = 1.0f / (float)c->tree.len;
  for (int i = 0; i < c->tree.len; i++) target[ctx[i] * p + c->tree.prog[i]] += share;
}

nsr_code nsr_guide_dataset_next(nsr_guide_dataset *ds, nsr_guide_item *item, nsr_error *err) {
  const nsr_guide_dataset_config *cfg = &ds->cfg;
  uint32_t span = cfg->max_examples - cfg->min_examples + 1;
  /* Draw until the set falls in our split (10% or 90% of draws: cheap). */
  do {
    if (nsr_space_sample_concept(ds->space, &ds->rng, &item->concept, err) != NSR_OK) {
      return err->code;
    }
    item->n_examples = cfg->min_examples + (uint32_t)nsr_rng_below(&ds->rng, span);
    nsr_space_sample_examples(ds->space, &item->concept, item->n_examples, &ds->rng,
                              item->examples);
  } while (nsr_dataset_split_of(item->examples, item->n_examples, cfg->heldout_per_mille) !=
           cfg->split);
  nsr_guide_target(ds->space, &item->concept, ds->target);
  item->target = ds->target;
  return NSR_OK;
}
