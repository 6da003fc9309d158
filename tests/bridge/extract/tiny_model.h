/* tiny_model.h: small encoders for the extraction tests: one trained on the
 * number game's data set, and hand-written ones with planted units. */
#ifndef NSR_TEST_TINY_MODEL_H
#define NSR_TEST_TINY_MODEL_H

#include "nsr.h"

/* A proposal model over 1..max (nsr_learn.h's layout: count tokens, the
 * whole hypothesis space as classes), d_model d, d_ff 2d, `layers` blocks,
 * random weights from seed. */
nsr_nn_model *tiny_proposal(uint32_t max, int d, int layers, uint64_t seed);

/* The same, trained for `steps` AdamW steps on nsr_dataset items (soft
 * targets: the exact posterior). */
nsr_nn_model *tiny_trained(uint32_t max, int d, int layers, int steps, uint64_t seed);

/* An untrained encoder of the given shape over 1..max (random weights). */
nsr_nn_model *tiny_random(uint32_t max, int d, int d_ff, int layers, uint64_t seed);

/* A random encoder over tokens 0..max with 5 classes (the "other" layout:
 * no exact MAP to compare with): d_model 8, 2 heads, 1 block, d_ff 8. */
nsr_nn_model *tiny_wide(uint32_t max, uint64_t seed);

/* The fixtures around them: Tenenbaum's engine over 1..max (default prior)
 * and an interpreter with the default configuration; both abort on failure,
 * like the models. */
nsr_numbers *tiny_engine(uint32_t max);
nsr_lang *tiny_lang(void);

#endif
