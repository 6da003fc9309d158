/* tiny_model.c: see tiny_model.h. */
#include "tiny_model.h"

#include <stdio.h>
#include <stdlib.h>

#include "nsr_learn.h"

/* The encoder cfg describes, with weights from seed; aborts on failure (the
 * suites cannot go on without it). */
static nsr_nn_model *create(const nsr_nn_config *cfg, uint64_t seed) {
  nsr_nn_model *m = NULL;
  nsr_error err;
  if (nsr_nn_create(cfg, &m, &err) != NSR_OK) {
    fprintf(stderr, "tiny model: %s\n", err.message);
    abort();
  }
  nsr_nn_init_params(m, seed);
  return m;
}

static nsr_nn_model *make(uint32_t max, int d, int d_ff, int layers, uint64_t seed) {
  nsr_nn_config cfg;
  nsr_nn_config_default(&cfg);
  cfg.vocab = (int)max + 1;
  cfg.d_model = d;
  cfg.n_heads = 2;
  cfg.n_layers = layers;
  cfg.d_ff = d_ff;
  cfg.max_len = NSR_DATASET_MAX_EXAMPLES;
  cfg.n_classes = (int)(NSR_NUMBERS_RULES + max * (max + 1) / 2);
  cfg.pos = NSR_NN_POS_NONE;
  return create(&cfg, seed);
}

nsr_nn_model *tiny_random(uint32_t max, int d, int d_ff, int layers, uint64_t seed) {
  return make(max, d, d_ff, layers, seed);
}

nsr_nn_model *tiny_wide(uint32_t max, uint64_t seed) {
  nsr_nn_config cfg;
  nsr_nn_config_default(&cfg);
  cfg.vocab = (int)max + 1;
  cfg.d_model = cfg.d_ff = 8;
  cfg.n_heads = 2;
  cfg.n_layers = 1;
  cfg.n_classes = 5;
  return create(&cfg, seed);
}

nsr_nn_model *tiny_proposal(uint32_t max, int d, int layers, uint64_t seed) {
  nsr_nn_config cfg;
  nsr_propose_config(max, d, layers, &cfg);
  cfg.d_ff = 2 * d;
  return create(&cfg, seed);
}

nsr_nn_model *tiny_trained(uint32_t max, int d, int layers, int steps, uint64_t seed) {
  enum { ITEMS = 2048, T = NSR_PROPOSE_MAX_LEN };
  nsr_nn_model *m = tiny_proposal(max, d, layers, seed);
  int classes = nsr_nn_get_config(m)->n_classes;
  nsr_dataset_config dc;
  nsr_dataset_config_default(&dc);
  dc.numbers.max = max;
  dc.seed = seed;
  nsr_dataset *ds = NULL;
  nsr_error err;
  int32_t *tokens = calloc((size_t)ITEMS * T, sizeof *tokens);
  int32_t *lengths = calloc(ITEMS, sizeof *lengths);
  float *probs = calloc((size_t)ITEMS * classes, sizeof *probs);
  nsr_dataset_item item;
  if (nsr_dataset_new(&dc, &ds, &err) != NSR_OK) abort();
  for (int i = 0; i < ITEMS; i++) {
    if (nsr_dataset_next(ds, &item, &err) != NSR_OK) abort();
    lengths[i] = nsr_propose_tokens(max, item.examples, item.n_examples, tokens + (size_t)i * T);
    for (int k = 0; k < classes; k++) probs[(size_t)i * classes + k] = item.posterior[k];
  }
  nsr_dataset_free(ds);
  nsr_nn_dataset train = {ITEMS, T, tokens, lengths, NULL, probs, NULL};
  nsr_nn_train_opts opts;
  nsr_nn_train_opts_default(&opts, steps);
  opts.schedule.lr_max = 3e-3;
  opts.seed = seed;
  if (nsr_nn_train(m, &train, NULL, &opts, &err) != NSR_OK) {
    fprintf(stderr, "tiny model: %s\n", err.message);
    abort();
  }
  free(tokens);
  free(lengths);
  free(probs);
  return m;
}

nsr_numbers *tiny_engine(uint32_t max) {
  nsr_numbers_config cfg;
  nsr_numbers_config_default(&cfg);
  cfg.max = max;
  nsr_numbers *e = NULL;
  nsr_error err;
  if (nsr_numbers_new(&cfg, &e, &err) != NSR_OK) {
    fprintf(stderr, "tiny engine: %s\n", err.message);
    abort();
  }
  return e;
}

nsr_lang *tiny_lang(void) {
  nsr_lang_config cfg;
  nsr_lang_config_default(&cfg);
  nsr_lang *lang = NULL;
  nsr_error err;
  if (nsr_lang_new(&cfg, &lang, &err) != NSR_OK) {
    fprintf(stderr, "tiny lang: %s\n", err.message);
    abort();
  }
  return lang;
}
