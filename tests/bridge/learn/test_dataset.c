/* test_dataset.c: the streamed, seeded, split training data of the number
 * game (bridge/numbers_dataset.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "numbers_brute.h"
#include "nsr_learn.h"

static nsr_dataset *open_dataset(uint64_t seed, nsr_dataset_split split) {
  nsr_dataset_config cfg;
  nsr_dataset_config_default(&cfg);
  cfg.seed = seed;
  cfg.split = split;
  nsr_dataset *ds;
  nsr_error err;
  assert_int_equal(nsr_dataset_new(&cfg, &ds, &err), NSR_OK);
  return ds;
}

static void test_same_seed_same_stream(void **state) {
  (void)state;
  nsr_dataset *a = open_dataset(7, NSR_SPLIT_TRAIN), *b = open_dataset(7, NSR_SPLIT_TRAIN);
  nsr_dataset *c = open_dataset(8, NSR_SPLIT_TRAIN);
  int differ = 0;
  for (int i = 0; i < 50; i++) {
    nsr_dataset_item x, y, z;
    assert_int_equal(nsr_dataset_next(a, &x, NULL), NSR_OK);
    assert_int_equal(nsr_dataset_next(b, &y, NULL), NSR_OK);
    assert_int_equal(nsr_dataset_next(c, &z, NULL), NSR_OK);
    assert_int_equal(x.n_examples, y.n_examples);
    assert_memory_equal(x.examples, y.examples, x.n_examples * sizeof(uint32_t));
    assert_memory_equal(x.posterior, y.posterior, 5084 * sizeof(float));
    differ += z.n_examples != x.n_examples || memcmp(z.examples, x.examples, x.n_examples * 4) != 0;
  }
  assert_true(differ > 40);
  nsr_dataset_free(a);
  nsr_dataset_free(b);
  nsr_dataset_free(c);
}

static int compare_u32(const void *a, const void *b) {
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  return (x > y) - (x < y);
}

/* A set as a sorted, zero-padded key. */
typedef struct set_key { uint32_t v[NSR_DATASET_MAX_EXAMPLES]; } set_key;

static set_key key_of(const nsr_dataset_item *item) {
  set_key k = {{0}};
  memcpy(k.v, item->examples, item->n_examples * sizeof(uint32_t));
  qsort(k.v, item->n_examples, sizeof(uint32_t), compare_u32);
  return k;
}

static int compare_keys(const void *a, const void *b) { return memcmp(a, b, sizeof(set_key)); }

static void test_splits_never_meet(void **state) {
  (void)state;
  enum { TRAIN = 20000, HELDOUT = 3000 };
  nsr_dataset *train = open_dataset(1, NSR_SPLIT_TRAIN), *held = open_dataset(1, NSR_SPLIT_HELDOUT);
  set_key *keys = malloc(TRAIN * sizeof *keys);
  nsr_dataset_item item;
  for (int i = 0; i < TRAIN; i++) {
    assert_int_equal(nsr_dataset_next(train, &item, NULL), NSR_OK);
    keys[i] = key_of(&item);
  }
  qsort(keys, TRAIN, sizeof *keys, compare_keys);
  int shared_single_examples = 0;
  for (int i = 0; i < HELDOUT; i++) {
    assert_int_equal(nsr_dataset_next(held, &item, NULL), NSR_OK);
    set_key k = key_of(&item);
    assert_null(bsearch(&k, keys, TRAIN, sizeof *keys, compare_keys));
    shared_single_examples += item.n_examples == 1;
  }
  assert_true(shared_single_examples > 0); /* the check above had sets to catch */
  free(keys);
  nsr_dataset_free(train);
  nsr_dataset_free(held);
}

static void test_split_is_order_free_and_about_ten_percent(void **state) {
  (void)state;
  nsr_rng rng;
  nsr_rng_seed(&rng, 3);
  int held = 0;
  enum { SETS = 100000 };
  for (int i = 0; i < SETS; i++) {
    uint32_t x[4], r[4];
    for (int k = 0; k < 4; k++) x[k] = 1 + (uint32_t)nsr_rng_below(&rng, 100);
    for (int k = 0; k < 4; k++) r[k] = x[3 - k];
    nsr_dataset_split s = nsr_dataset_split_of(x, 4, 100);
    assert_int_equal(s, nsr_dataset_split_of(r, 4, 100));
    held += s == NSR_SPLIT_HELDOUT;
  }
  assert_true(fabs((double)held / SETS - 0.1) < 0.005); /* s.e. ≈ 0.00095 */
}

/* Labels: a distribution over the space; every example is certainly in C;
 * the generating concept contains the examples and has posterior mass. */
static void test_items_are_labelled_consistently(void **state) {
  (void)state;
  nsr_dataset *ds = open_dataset(21, NSR_SPLIT_TRAIN);
  nsr_numbers *engine = nsr_dataset_engine(ds);
  int sizes[NSR_DATASET_MAX_EXAMPLES + 1] = {0};
  for (int i = 0; i < 600; i++) {
    nsr_dataset_item item;
    assert_int_equal(nsr_dataset_next(ds, &item, NULL), NSR_OK);
    assert_true(item.n_examples >= 1 && item.n_examples <= 6);
    sizes[item.n_examples]++;
    double total = 0;
    for (uint64_t h = 0; h < nsr_numbers_space_size(engine); h++) total += item.posterior[h];
    assert_true(fabs(total - 1.0) < 1e-4);
    for (uint32_t k = 0; k < item.n_examples; k++) {
      uint32_t y = item.examples[k];
      assert_true(fabs(item.generalization[y - 1] - 1.0) < 1e-5);
      if (item.concept.kind == NSR_HYP_RULE) assert_true(rule_has((int)item.concept.rule, y));
      else assert_true(y >= item.concept.lo && y <= item.concept.hi);
    }
    assert_true(item.posterior[nsr_numbers_hypothesis_index(engine, &item.concept)] > 0.0f);
  }
  for (int n = 1; n <= 6; n++) assert_true(sizes[n] > 60); /* uniform: 100 expected */
  nsr_dataset_free(ds);
}

static void test_bad_config(void **state) {
  (void)state;
  nsr_dataset_config cfg;
  nsr_dataset_config_default(&cfg);
  nsr_dataset *ds;
  nsr_error err;
  cfg.max_examples = 7;
  assert_int_equal(nsr_dataset_new(&cfg, &ds, &err), NSR_ERR_RANGE);
  nsr_dataset_config_default(&cfg);
  cfg.heldout_per_mille = 0;
  assert_int_equal(nsr_dataset_new(&cfg, &ds, &err), NSR_ERR_RANGE);
  nsr_dataset_config_default(&cfg);
  cfg.numbers.max = 0;
  assert_int_equal(nsr_dataset_new(&cfg, &ds, &err), NSR_ERR_RANGE);
  for (uint64_t k = 1;; k++) {
    nsr_dataset_config_default(&cfg);
    nsr_alloc_fail_after(k);
    nsr_code rc = nsr_dataset_new(&cfg, &ds, &err);
    nsr_alloc_fail_reset();
    if (rc == NSR_OK) {
      nsr_dataset_free(ds);
      break;
    }
    assert_int_equal(rc, NSR_ERR_NOMEM);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_same_seed_same_stream),
      cmocka_unit_test(test_splits_never_meet),
      cmocka_unit_test(test_split_is_order_free_and_about_ten_percent),
      cmocka_unit_test(test_items_are_labelled_consistently),
      cmocka_unit_test(test_bad_config),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
