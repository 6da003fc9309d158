/* numbers_dataset.c: streamed, seeded, split training data from the number
 * game (see numbers_dataset.h). */
#include "nsr_learn.h"

#include <stdlib.h>

struct nsr_dataset {
  nsr_dataset_config cfg;
  nsr_numbers *engine;
  nsr_rng rng;
  nsr_numbers_result result; /* for the generalization vector */
  float *posterior;
  float *generalization;
};

void nsr_dataset_config_default(nsr_dataset_config *cfg) {
  nsr_numbers_config_default(&cfg->numbers);
  cfg->min_examples = 1;
  cfg->max_examples = NSR_DATASET_MAX_EXAMPLES;
  cfg->heldout_per_mille = 100;
  cfg->seed = 1;
  cfg->split = NSR_SPLIT_TRAIN;
}

static int compare_u32(const void *a, const void *b) {
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  return (x > y) - (x < y);
}

nsr_dataset_split nsr_dataset_split_of(const uint32_t *examples, size_t n,
                                       uint32_t heldout_per_mille) {
  uint32_t sorted[NSR_DATASET_MAX_EXAMPLES];
  size_t m = n < NSR_DATASET_MAX_EXAMPLES ? n : NSR_DATASET_MAX_EXAMPLES;
  for (size_t i = 0; i < m; i++) sorted[i] = examples[i];
  qsort(sorted, m, sizeof *sorted, compare_u32);
  /* FNV-1a over the sorted values, then a splitmix finaliser to spread it. */
  uint64_t h = 0xcbf29ce484222325ULL;
  for (size_t i = 0; i < m; i++) {
    for (int byte = 0; byte < 4; byte++) {
      h ^= (sorted[i] >> (8 * byte)) & 0xffu;
      h *= 0x100000001b3ULL;
    }
  }
  h ^= h >> 31;
  h *= 0x94d049bb133111ebULL;
  h ^= h >> 29;
  return h % 1000 < heldout_per_mille ? NSR_SPLIT_HELDOUT : NSR_SPLIT_TRAIN;
}

nsr_code nsr_dataset_check_counts(uint32_t min_examples, uint32_t max_examples,
                                  uint32_t heldout_per_mille, nsr_error *err) {
  if (min_examples < 1 || max_examples > NSR_DATASET_MAX_EXAMPLES || min_examples > max_examples) {
    return nsr_fail(err, NSR_ERR_RANGE, "examples per set must satisfy 1 <= %u <= %u <= %d",
                    min_examples, max_examples, NSR_DATASET_MAX_EXAMPLES);
  }
  if (heldout_per_mille == 0 || heldout_per_mille >= 1000) {
    return nsr_fail(err, NSR_ERR_RANGE, "held-out share %u per mille must lie in 1..999",
                    heldout_per_mille);
  }
  return NSR_OK;
}

nsr_code nsr_dataset_new(const nsr_dataset_config *cfg, nsr_dataset **out, nsr_error *err) {
  *out = NULL;
  nsr_code rc = nsr_dataset_check_counts(cfg->min_examples, cfg->max_examples,
                                         cfg->heldout_per_mille, err);
  if (rc != NSR_OK) return rc;
  nsr_dataset *ds = nsr_calloc(1, sizeof *ds);
  if (ds == NULL) return nsr_fail(err, NSR_ERR_NOMEM, "dataset: out of memory");
  ds->cfg = *cfg;
  rc = nsr_numbers_new(&cfg->numbers, &ds->engine, err);
  if (rc != NSR_OK) goto fail;
  ds->posterior = nsr_mallocarray(nsr_numbers_space_size(ds->engine), sizeof(float));
  ds->generalization = nsr_mallocarray(cfg->numbers.max, sizeof(float));
  if (ds->posterior == NULL || ds->generalization == NULL) {
    rc = nsr_fail(err, NSR_ERR_NOMEM, "dataset buffers: out of memory");
    goto fail;
  }
  /* The two splits draw from independent streams of the same seed. */
  nsr_rng_seed(&ds->rng, cfg->seed);
  if (cfg->split == NSR_SPLIT_HELDOUT) nsr_rng_jump(&ds->rng);
  *out = ds;
  return NSR_OK;
fail:
  nsr_dataset_free(ds);
  return rc;
}

void nsr_dataset_free(nsr_dataset *ds) {
  if (ds == NULL) return;
  nsr_numbers_free(ds->engine);
  nsr_numbers_result_free(&ds->result);
  nsr_free(ds->posterior);
  nsr_free(ds->generalization);
  nsr_free(ds);
}

nsr_numbers *nsr_dataset_engine(nsr_dataset *ds) { return ds->engine; }

/* Draws the next example set of the stream's split into item (concept,
 * examples), without labels. */
static void draw(nsr_dataset *ds, nsr_dataset_item *item) {
  const nsr_dataset_config *cfg = &ds->cfg;
  uint32_t span = cfg->max_examples - cfg->min_examples + 1;
  /* Draw until the set falls in our split (10% or 90% of draws: cheap). */
  do {
    nsr_numbers_sample_hypothesis(ds->engine, &ds->rng, &item->concept);
    item->n_examples = cfg->min_examples + (uint32_t)nsr_rng_below(&ds->rng, span);
    nsr_numbers_sample_examples(ds->engine, &ds->rng, &item->concept, item->examples,
                                item->n_examples);
  } while (nsr_dataset_split_of(item->examples, item->n_examples, cfg->heldout_per_mille) !=
           cfg->split);
}

void nsr_dataset_skip(nsr_dataset *ds) {
  nsr_dataset_item item;
  draw(ds, &item);
}

nsr_code nsr_dataset_next(nsr_dataset *ds, nsr_dataset_item *item, nsr_error *err) {
  const nsr_dataset_config *cfg = &ds->cfg;
  draw(ds, item);
  nsr_code rc = nsr_numbers_posterior_all(ds->engine, item->examples, item->n_examples,
                                          ds->posterior, nsr_numbers_space_size(ds->engine), err);
  if (rc == NSR_OK) {
    rc = nsr_numbers_infer(ds->engine, item->examples, item->n_examples, 0, &ds->result, err);
  }
  if (rc != NSR_OK) return rc;
  for (uint32_t y = 0; y < cfg->numbers.max; y++) {
    ds->generalization[y] = (float)ds->result.generalization[y];
  }
  item->posterior = ds->posterior;
  item->generalization = ds->generalization;
  return NSR_OK;
}
