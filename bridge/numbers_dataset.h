/* numbers_dataset.h: training data for networks, made by the number game's
 * generative model and labelled by the exact engine.
 *
 * Each item: a concept h drawn from the prior, 1..6 examples drawn from h by
 * the size principle, and the exact p(h' | X) over the whole space (index
 * layout of nsr_numbers_space_size) and p(y ∈ C | X) for y = 1..N. Items
 * are streamed (nothing is held but the current item) and determined by the
 * seed. Every example set belongs to exactly one split, decided by a hash of
 * the set (as a multiset, order-free), so the held-out stream never meets a
 * set the training stream can produce. */
#ifndef NSR_NUMBERS_DATASET_H
#define NSR_NUMBERS_DATASET_H

#include "nsr.h"

#define NSR_DATASET_MAX_EXAMPLES 6

typedef enum nsr_dataset_split { NSR_SPLIT_TRAIN, NSR_SPLIT_HELDOUT } nsr_dataset_split;

typedef struct nsr_dataset_config {
  nsr_numbers_config numbers; /* the space and prior to sample and label with */
  uint32_t min_examples;      /* 1 */
  uint32_t max_examples;      /* 6 (at most NSR_DATASET_MAX_EXAMPLES) */
  uint32_t heldout_per_mille; /* share of example sets kept for held-out: 100 */
  uint64_t seed;
  nsr_dataset_split split;
} nsr_dataset_config;

typedef struct nsr_dataset_item {
  nsr_hypothesis concept;     /* the concept the examples came from */
  uint32_t n_examples;
  uint32_t examples[NSR_DATASET_MAX_EXAMPLES];
  float *posterior;           /* [space size], owned by the dataset */
  float *generalization;      /* [N], owned by the dataset */
} nsr_dataset_item;

typedef struct nsr_dataset nsr_dataset;

void nsr_dataset_config_default(nsr_dataset_config *cfg);
/* Builds the engine and buffers; the caller frees with nsr_dataset_free. */
nsr_code nsr_dataset_new(const nsr_dataset_config *cfg, nsr_dataset **out,
                         nsr_error *err);
void nsr_dataset_free(nsr_dataset *ds);
/* The next item of the stream. item's arrays stay valid until the next call. */
nsr_code nsr_dataset_next(nsr_dataset *ds, nsr_dataset_item *item,
                          nsr_error *err);
/* Moves past the next item without labelling it (the cheap part of
 * nsr_dataset_next): processes sharing one stream each label only their
 * own items yet stay in step. */
void nsr_dataset_skip(nsr_dataset *ds);
/* Which split an example set belongs to (order and the dataset's seed do
 * not matter: the split is a property of the set alone). */
nsr_dataset_split nsr_dataset_split_of(const uint32_t *examples, size_t n,
                                       uint32_t heldout_per_mille);
/* The engine that labels the items (for names, sizes, the index layout). */
nsr_numbers *nsr_dataset_engine(nsr_dataset *ds);

#endif
