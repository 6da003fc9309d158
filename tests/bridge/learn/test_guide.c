/* test_guide.c: guides (recognition networks for grammar spaces): the
 * dataset drawn from a space's prior (determinism, disjoint splits,
 * targets checked against the tree by counting), guide files (saved and
 * loaded; bad files and guides of another space refused with a clear
 * message), conditioning (finite, normalised, order-free, bad examples), a
 * short training run against the untrained model, and the shipped-guide
 * resolution. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "nsr_learn.h"
#include "nsr_test_util.h"

/* Two small spaces over 1..30 that differ in one production (so in their
 * signature) but not in their range or production count. P = 10. */
#define SPACE_A                                                                                  \
  "{\"range\": 30, \"max_size\": 3, \"lambda\": 0.7, \"sigma\": 10, \"primitives\": ["          \
  "{\"family\": \"even\"}, {\"family\": \"odd\"}, {\"family\": \"squares\"},"                   \
  "{\"family\": \"primes\"}, {\"family\": \"multiples\", \"args\": [3, 5]},"                    \
  "{\"family\": \"ends_in\", \"args\": [1, 5]}], \"operations\": ["                             \
  "{\"family\": \"union\", \"weight\": 0.3}, {\"family\": \"intersection\", \"weight\": 0.3}]}"
#define SPACE_B                                                                                  \
  "{\"range\": 30, \"max_size\": 3, \"lambda\": 0.7, \"sigma\": 10, \"primitives\": ["          \
  "{\"family\": \"even\"}, {\"family\": \"odd\"}, {\"family\": \"cubes\"},"                     \
  "{\"family\": \"primes\"}, {\"family\": \"multiples\", \"args\": [3, 5]},"                    \
  "{\"family\": \"ends_in\", \"args\": [1, 5]}], \"operations\": ["                             \
  "{\"family\": \"union\", \"weight\": 0.3}, {\"family\": \"intersection\", \"weight\": 0.3}]}"
#define P_TINY 10
/* Contexts of SPACE_A: the root (0), union's operands (1, 2), intersection's
 * (3, 4); the network's grammar classes are context · P + production. */
#define C_TINY 5
#define W_TINY (C_TINY * P_TINY)
#define UNION_A 8

static char workdir[256];

static nsr_space *space_from(const char *json) {
  nsr_space *s;
  nsr_error err = {0};
  if (nsr_space_from_json(json, strlen(json), "test space", false, &s, &err) != NSR_OK) {
    fail_msg("space: %s", err.message);
  }
  return s;
}

static nsr_guide_dataset *stream(const nsr_space *s, uint64_t seed, nsr_dataset_split split) {
  nsr_guide_dataset_config cfg;
  nsr_guide_dataset_config_default(&cfg);
  cfg.seed = seed;
  cfg.split = split;
  nsr_guide_dataset *ds;
  nsr_error err = {0};
  assert_int_equal(nsr_guide_dataset_new(s, &cfg, &ds, &err), NSR_OK);
  return ds;
}

static bool same_item(const nsr_guide_item *a, const nsr_guide_item *b) {
  if (a->n_examples != b->n_examples || a->concept.kind != b->concept.kind) return false;
  if (memcmp(a->examples, b->examples, a->n_examples * sizeof *a->examples) != 0) return false;
  if (a->concept.kind == NSR_CONCEPT_INTERVAL) {
    return a->concept.lo == b->concept.lo && a->concept.hi == b->concept.hi;
  }
  return a->concept.tree.len == b->concept.tree.len &&
         memcmp(a->concept.tree.prog, b->concept.tree.prog,
                (size_t)a->concept.tree.len * sizeof a->concept.tree.prog[0]) == 0;
}

/* The same seed gives the same stream; another seed another. */
static void test_dataset_determinism(void **state) {
  (void)state;
  nsr_space *s = space_from(SPACE_A);
  nsr_guide_dataset *a = stream(s, 7, NSR_SPLIT_TRAIN), *b = stream(s, 7, NSR_SPLIT_TRAIN),
                    *c = stream(s, 8, NSR_SPLIT_TRAIN);
  nsr_error err = {0};
  size_t differ = 0;
  for (int i = 0; i < 200; i++) {
    nsr_guide_item x, y, z;
    assert_int_equal(nsr_guide_dataset_next(a, &x, &err), NSR_OK);
    assert_int_equal(nsr_guide_dataset_next(b, &y, &err), NSR_OK);
    assert_int_equal(nsr_guide_dataset_next(c, &z, &err), NSR_OK);
    assert_true(same_item(&x, &y));
    differ += !same_item(&x, &z);
  }
  assert_true(differ > 100);
  nsr_guide_dataset_free(a);
  nsr_guide_dataset_free(b);
  nsr_guide_dataset_free(c);
  nsr_space_free(s);
}

static int compare_u32(const void *a, const void *b) {
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  return (x > y) - (x < y);
}

/* A set as sorted values and its length, for comparing multisets. */
typedef struct sorted_set {
  uint32_t n, v[NSR_DATASET_MAX_EXAMPLES];
} sorted_set;

static sorted_set sorted(const nsr_guide_item *it) {
  sorted_set s = {.n = it->n_examples};
  memcpy(s.v, it->examples, it->n_examples * sizeof *it->examples);
  qsort(s.v, s.n, sizeof s.v[0], compare_u32);
  return s;
}

/* Every item lies in its stream's split, examples in its concept and in
 * 1..N, 1..6 of them; no held-out set (as a multiset) is a training set. */
static void test_dataset_splits(void **state) {
  (void)state;
  enum { N_TRAIN = 3000, N_HELD = 300 };
  nsr_space *s = space_from(SPACE_A);
  nsr_guide_dataset *tr = stream(s, 3, NSR_SPLIT_TRAIN), *he = stream(s, 3, NSR_SPLIT_HELDOUT);
  sorted_set *train = calloc(N_TRAIN, sizeof *train);
  assert_non_null(train);
  nsr_error err = {0};
  for (int i = 0; i < N_TRAIN; i++) {
    nsr_guide_item it;
    assert_int_equal(nsr_guide_dataset_next(tr, &it, &err), NSR_OK);
    assert_int_equal(nsr_dataset_split_of(it.examples, it.n_examples, 100), NSR_SPLIT_TRAIN);
    assert_true(it.n_examples >= 1 && it.n_examples <= 6);
    for (uint32_t k = 0; k < it.n_examples; k++) {
      uint32_t y = it.examples[k];
      assert_true(y >= 1 && y <= 30);
      assert_true(it.concept.bits[y / 64] >> (y % 64) & 1);
    }
    train[i] = sorted(&it);
  }
  for (int i = 0; i < N_HELD; i++) {
    nsr_guide_item it;
    assert_int_equal(nsr_guide_dataset_next(he, &it, &err), NSR_OK);
    assert_int_equal(nsr_dataset_split_of(it.examples, it.n_examples, 100), NSR_SPLIT_HELDOUT);
    sorted_set h = sorted(&it);
    for (int j = 0; j < N_TRAIN; j++) {
      assert_false(train[j].n == h.n && memcmp(train[j].v, h.v, h.n * sizeof h.v[0]) == 0);
    }
  }
  free(train);
  nsr_guide_dataset_free(tr);
  nsr_guide_dataset_free(he);
  nsr_space_free(s);
}

/* The target sums to 1; for a tree, target[k]·|t| is the count of k in the
 * program (counted here directly) and the class "interval" gets 0; for an
 * interval all mass is on class P. Both kinds occur (λ = 0.7). */
static void test_dataset_targets(void **state) {
  (void)state;
  nsr_space *s = space_from(SPACE_A);
  assert_int_equal(nsr_space_productions(s), P_TINY);
  nsr_guide_dataset *ds = stream(s, 11, NSR_SPLIT_TRAIN);
  nsr_error err = {0};
  int trees = 0, intervals = 0, compound = 0;
  for (int i = 0; i < 500; i++) {
    nsr_guide_item it;
    assert_int_equal(nsr_guide_dataset_next(ds, &it, &err), NSR_OK);
    double sum = 0;
    for (int k = 0; k <= W_TINY; k++) sum += it.target[k];
    assert_near(sum, 1.0, 1e-6, "target mass");
    if (it.concept.kind == NSR_CONCEPT_INTERVAL) {
      intervals++;
      assert_true(it.target[W_TINY] == 1.0f);
      continue;
    }
    trees++;
    const nsr_space_tree *t = &it.concept.tree;
    compound += t->len > 1;
    assert_true(t->len == 1 || t->len == 3); /* max_size 3, no unary operation */
    assert_true(it.target[W_TINY] == 0.0f);
    /* By hand: a primitive alone is at the root; op(a, b) puts a and b at
     * the op's first and second operand contexts. */
    float want[W_TINY] = {0};
    want[t->prog[0]] += 1.0f / (float)t->len;
    if (t->len == 3) {
      int first = t->prog[0] == UNION_A ? 1 : 3;
      want[first * P_TINY + t->prog[1]] += 1.0f / 3;
      want[(first + 1) * P_TINY + t->prog[2]] += 1.0f / 3;
    }
    for (int k = 0; k < W_TINY; k++) assert_near(it.target[k], want[k], 1e-6, "target by context");
  }
  assert_true(trees > 250 && intervals > 75 && compound > 0);
  nsr_guide_dataset_free(ds);
  nsr_space_free(s);
}

static void test_dataset_bad_config(void **state) {
  (void)state;
  nsr_space *s = space_from(SPACE_A);
  nsr_guide_dataset_config cfg;
  nsr_guide_dataset_config_default(&cfg);
  cfg.max_examples = 7;
  nsr_guide_dataset *ds = (nsr_guide_dataset *)1;
  nsr_error err = {0};
  assert_int_equal(nsr_guide_dataset_new(s, &cfg, &ds, &err), NSR_ERR_RANGE);
  assert_null(ds);
  nsr_guide_dataset_config_default(&cfg);
  cfg.heldout_per_mille = 1000;
  assert_int_equal(nsr_guide_dataset_new(s, &cfg, &ds, &err), NSR_ERR_RANGE);
  assert_non_null(strstr(err.message, "held-out"));
  nsr_space_free(s);
}

/* ---- guide files ---------------------------------------------------------- */

static nsr_nn_model *fresh_guide_model(const nsr_space *s, uint64_t seed) {
  nsr_nn_config cfg;
  nsr_guide_config(s, 16, 1, &cfg);
  nsr_nn_model *m;
  nsr_error err = {0};
  assert_int_equal(nsr_nn_create(&cfg, &m, &err), NSR_OK);
  nsr_nn_init_params(m, seed);
  return m;
}

static const char *work_path(const char *name) {
  static char path[512];
  snprintf(path, sizeof path, "%s/%s", workdir, name);
  return path;
}

/* Loads `path` for space s expecting failure `code` with `needle` in the
 * message. */
static void expect_refused(const char *path, const nsr_space *s, nsr_code code, const char *needle) {
  nsr_guide *g = (nsr_guide *)1;
  nsr_error err = {0};
  assert_int_equal(nsr_guide_load(path, s, 1, &g, &err), code);
  assert_null(g);
  if (strstr(err.message, needle) == NULL) fail_msg("'%s' lacks '%s'", err.message, needle);
  assert_null(strchr(err.message, '\n'));
}

static void test_guide_file_round_trip(void **state) {
  (void)state;
  nsr_space *s = space_from(SPACE_A);
  nsr_nn_model *m = fresh_guide_model(s, 5);
  nsr_error err = {0};
  const char *path = work_path("a.safetensors");
  assert_int_equal(nsr_guide_save(m, s, "a.json", path, &err), NSR_OK);
  nsr_guide *loaded, *wrapped;
  assert_int_equal(nsr_guide_load(path, s, 1, &loaded, &err), NSR_OK);
  assert_string_equal(nsr_guide_space_name(loaded), "a.json");
  assert_int_equal(nsr_guide_wrap(m, s, &wrapped, &err), NSR_OK);
  uint32_t x[] = {3, 9, 27};
  double a[W_TINY], b[W_TINY];
  assert_int_equal(nsr_guide_condition(loaded, x, 3, a, &err), NSR_OK);
  assert_int_equal(nsr_guide_condition(wrapped, x, 3, b, &err), NSR_OK);
  for (int k = 0; k < W_TINY; k++) assert_true(a[k] == b[k]);
  nsr_guide_free(loaded);
  nsr_guide_free(wrapped);
  nsr_nn_free(m);
  nsr_space_free(s);
}

/* Writes bytes[0 .. len) of the file at `from` to `to`, with the float at
 * the start of the data section set to NaN when `nan` is set. */
static void copy_damaged(const char *from, const char *to, long len, bool nan) {
  long size;
  unsigned char *bytes = read_file_bytes(from, &size);
  if (nan) {
    uint64_t header = 0;
    for (int i = 7; i >= 0; i--) header = header << 8 | bytes[i];
    const unsigned char quiet_nan[4] = {0x00, 0x00, 0xc0, 0x7f}; /* little-endian */
    memcpy(bytes + 8 + header, quiet_nan, 4);
  }
  FILE *f = fopen(to, "wb");
  assert_non_null(f);
  assert_int_equal(fwrite(bytes, 1, (size_t)(len < 0 ? size : len), f), (size_t)(len < 0 ? size : len));
  fclose(f);
  free(bytes);
}

static void test_bad_guide_files(void **state) {
  (void)state;
  nsr_space *s = space_from(SPACE_A);
  nsr_nn_model *m = fresh_guide_model(s, 5);
  nsr_error err = {0};
  char good[512];
  snprintf(good, sizeof good, "%s", work_path("good.safetensors"));
  assert_int_equal(nsr_guide_save(m, s, "a.json", good, &err), NSR_OK);
  long size;
  free(read_file_bytes(good, &size));

  expect_refused(work_path("missing.safetensors"), s, NSR_ERR_IO, "missing.safetensors");
  copy_damaged(good, work_path("truncated.safetensors"), size / 2, false);
  expect_refused(work_path("truncated.safetensors"), s, NSR_ERR_FORMAT, "truncated.safetensors");
  copy_damaged(good, work_path("nan.safetensors"), -1, true);
  expect_refused(work_path("nan.safetensors"), s, NSR_ERR_FORMAT, "nan.safetensors");
  write_text_file(work_path("text.safetensors"), "not a checkpoint at all");
  expect_refused(work_path("text.safetensors"), s, NSR_ERR_FORMAT, "text.safetensors");

  /* A network of the right layout without the metadata: not a guide. */
  assert_int_equal(nsr_nn_save(m, work_path("plain.safetensors"), &err), NSR_OK);
  expect_refused(work_path("plain.safetensors"), s, NSR_ERR_FORMAT,
                 "not a guide: no \"nsr.guide\" metadata");
  static const struct {
    const char *meta, *needle;
  } bad[] = {
      {"{not json", "is not an object with format, space"},
      {"{\"format\": \"nsr-guide/1\"}", "is not an object with format, space"},
      {"[1, 2]", "is not an object"},
      {"{\"format\": \"nsr-guide/9\", \"space\": \"a.json\", \"signature\": \"0000000000000000\", "
       "\"range\": 30, \"productions\": 10}",
       "guide format 'nsr-guide/9' is not nsr-guide/2"},
      /* the old format (one weight per production): refused, saying to retrain */
      {"{\"format\": \"nsr-guide/1\", \"space\": \"a.json\", \"signature\": \"0000000000000000\", "
       "\"range\": 30, \"productions\": 10}",
       "guide format 'nsr-guide/1' (one weight per production) is no longer read: retrain it"},
      {"{\"format\": \"nsr-guide/2\", \"space\": \"a.json\", \"signature\": \"xyz\", "
       "\"range\": 30, \"productions\": 10}",
       "signature 'xyz' is not 16 hex digits"},
      {"{\"format\": \"nsr-guide/2\", \"space\": \"a.json\", \"signature\": \"00000000000000zz\", "
       "\"range\": 30, \"productions\": 10}",
       "is not 16 hex digits"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    const char *extra[] = {NSR_GUIDE_META_KEY, bad[i].meta};
    assert_int_equal(nsr_nn_save_meta(m, work_path("meta.safetensors"), extra, 1, &err), NSR_OK);
    expect_refused(work_path("meta.safetensors"), s, NSR_ERR_FORMAT, bad[i].needle);
  }
  /* The reserved keys cannot be overwritten. */
  const char *reserved[] = {"nsr.config", "{}"};
  assert_int_equal(nsr_nn_save_meta(m, work_path("r.safetensors"), reserved, 1, &err),
                   NSR_ERR_INVALID);
  nsr_nn_free(m);
  nsr_space_free(s);
}

/* A guide of space A is refused for space B (another signature) and for
 * a space of another range, naming both. */
static void test_guide_of_another_space(void **state) {
  (void)state;
  nsr_space *a = space_from(SPACE_A), *b = space_from(SPACE_B);
  assert_true(nsr_space_signature(a) != nsr_space_signature(b));
  nsr_nn_model *m = fresh_guide_model(a, 5);
  nsr_error err = {0};
  assert_int_equal(nsr_guide_save(m, a, "a.json", work_path("a.safetensors"), &err), NSR_OK);
  expect_refused(work_path("a.safetensors"), b, NSR_ERR_FORMAT, "a guide for space 'a.json'");
  expect_refused(work_path("a.safetensors"), b, NSR_ERR_FORMAT,
                 "not for this space (range 30, 10 productions, signature");
  nsr_space *big = space_from("{\"range\": 50, \"primitives\": [{\"family\": \"even\"}]}");
  expect_refused(work_path("a.safetensors"), big, NSR_ERR_FORMAT, "range 50, 1 productions");
  nsr_guide *g;
  assert_int_equal(nsr_guide_wrap(m, big, &g, &err), NSR_ERR_FORMAT);
  assert_non_null(strstr(err.message, "does not fit the space"));
  nsr_space_free(big);
  nsr_nn_free(m);
  nsr_space_free(a);
  nsr_space_free(b);
}

/* ---- conditioning ------------------------------------------------------- */

static double log_sum_exp(const double *v, size_t n) {
  double max = v[0], sum = 0;
  for (size_t i = 1; i < n; i++) max = v[i] > max ? v[i] : max;
  for (size_t i = 0; i < n; i++) sum += exp(v[i] - max);
  return max + log(sum);
}

static void test_condition(void **state) {
  (void)state;
  nsr_space *s = space_from(SPACE_A);
  nsr_nn_model *m = fresh_guide_model(s, 9);
  nsr_guide *g;
  nsr_error err = {0};
  assert_int_equal(nsr_guide_wrap(m, s, &g, &err), NSR_OK);
  uint32_t x[] = {2, 30, 17, 9, 2, 11}, y[] = {11, 2, 9, 30, 2, 17};
  double a[W_TINY], b[W_TINY];
  assert_int_equal(nsr_guide_condition(g, x, 6, a, &err), NSR_OK);
  assert_int_equal(nsr_guide_condition(g, y, 6, b, &err), NSR_OK);
  for (int k = 0; k < W_TINY; k++) {
    assert_true(isfinite(a[k]));
    assert_near(a[k], b[k], 1e-5, "log q under reordering"); /* float sums in another order */
  }
  assert_near(log_sum_exp(a, W_TINY), 0.0, 1e-9, "log q normalised over the grammar's classes");
  double share = nsr_guide_interval_share(g);
  assert_true(share > 0 && share < 1);
  /* The count token: {2} and {2, 2} are different inputs. */
  uint32_t twice[] = {2, 2};
  assert_int_equal(nsr_guide_condition(g, twice, 1, a, &err), NSR_OK);
  assert_int_equal(nsr_guide_condition(g, twice, 2, b, &err), NSR_OK);
  bool differ = false;
  for (int k = 0; k < W_TINY; k++) differ |= a[k] != b[k];
  assert_true(differ);
  uint32_t seven[7] = {1, 2, 3, 4, 5, 6, 7}, zero[] = {0}, over[] = {31};
  assert_int_equal(nsr_guide_condition(g, x, 0, a, &err), NSR_ERR_INVALID);
  assert_int_equal(nsr_guide_condition(g, seven, 7, a, &err), NSR_ERR_INVALID);
  assert_int_equal(nsr_guide_condition(g, zero, 1, a, &err), NSR_ERR_RANGE);
  assert_int_equal(nsr_guide_condition(g, over, 1, a, &err), NSR_ERR_RANGE);
  assert_non_null(strstr(err.message, "31 is outside 1..30"));
  nsr_guide_free(g);
  nsr_nn_free(m);
  nsr_space_free(s);
}

/* ---- training ---------------------------------------------------------------- */

static void no_eval(void *ctx, const nsr_guide_eval *e) {
  (void)ctx;
  (void)e;
}

/* A short run lowers the held-out loss below the untrained model's (the
 * same initialisation, the same held-out sets), keeps recall, and is
 * deterministic. The untrained guide is near uniform over the 10
 * productions (log 10 = 2.30 nats per node); this run reaches about 1.7,
 * and the test asks for 0.3 below the untrained model. */
static void test_training_lowers_heldout_loss(void **state) {
  (void)state;
  nsr_space *s = space_from(SPACE_A);
  nsr_guide_train_config cfg;
  nsr_guide_train_config_default(&cfg);
  cfg.d_model = 16;
  cfg.n_layers = 1;
  cfg.steps = 400;
  cfg.batch = 32;
  cfg.lr = 5e-3;
  cfg.heldout = 200;
  cfg.eval_every = 0;
  cfg.on_eval = no_eval;
  nsr_nn_model *trained, *again;
  nsr_guide_eval final, final2, before;
  nsr_error err = {0};
  assert_int_equal(nsr_guide_train(s, &cfg, &trained, &final, &err), NSR_OK);
  assert_int_equal(nsr_guide_train(s, &cfg, &again, &final2, &err), NSR_OK);
  assert_true(final.nll == final2.nll && final.recall10 == final2.recall10);

  nsr_guide_item *items;
  assert_int_equal(nsr_guide_heldout_make(s, 200, 0x47554944ULL, &items, &err), NSR_OK);
  nsr_nn_model *untrained = fresh_guide_model(s, cfg.seed);
  nsr_guide *g;
  assert_int_equal(nsr_guide_wrap(untrained, s, &g, &err), NSR_OK);
  assert_int_equal(nsr_guide_evaluate(g, s, items, 200, &before, &err), NSR_OK);
  nsr_guide_free(g);
  assert_int_equal(before.n, 200);
  assert_true(before.n_trees > 100 && before.n_trees == final.n_trees);
  assert_true(isfinite(before.nll) && isfinite(final.nll));
  if (!(final.nll < before.nll - 0.3)) fail_msg("nll %g after training, %g before", final.nll, before.nll);
  assert_true(final.recall10 >= before.recall10);
  assert_true(final.recall10 > 0 && final.recall10 <= 1);
  nsr_free(items);
  nsr_nn_free(untrained);
  nsr_nn_free(trained);
  nsr_nn_free(again);
  nsr_space_free(s);
}

static void test_training_bad_config(void **state) {
  (void)state;
  nsr_space *s = space_from(SPACE_A);
  nsr_guide_train_config cfg;
  nsr_guide_train_config_default(&cfg);
  cfg.batch = 0;
  nsr_nn_model *m = (nsr_nn_model *)1;
  nsr_guide_eval e;
  nsr_error err = {0};
  assert_int_equal(nsr_guide_train(s, &cfg, &m, &e, &err), NSR_ERR_INVALID);
  assert_null(m);
  nsr_guide_train_config_default(&cfg);
  cfg.steps = 0;
  assert_int_equal(nsr_guide_train(s, &cfg, &m, &e, &err), NSR_ERR_INVALID);
  nsr_space_free(s);
}

/* The record for the models table names the space and its signature. */
static void test_record_json(void **state) {
  (void)state;
  nsr_space *s = space_from(SPACE_A);
  nsr_nn_model *m = fresh_guide_model(s, 1);
  nsr_guide_train_config cfg;
  nsr_guide_train_config_default(&cfg);
  char *text = nsr_guide_record_json(&cfg, s, "a.json", m);
  assert_non_null(text);
  json_t *j = json_loads(text, 0, NULL);
  assert_non_null(j);
  assert_string_equal(json_string_value(json_object_get(json_object_get(j, "guide"), "space")), "a.json");
  assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "model"), "n_classes")), W_TINY + 1);
  json_decref(j);
  nsr_free(text);
  nsr_nn_free(m);
  nsr_space_free(s);
}

/* The shipped guides are found by the space file's base name. */
static void test_default_path(void **state) {
  (void)state;
  char buf[1024];
  assert_false(nsr_guide_default_path("programs/spaces/no-such-space.json", buf, sizeof buf));
  assert_string_equal(buf, "");
  assert_false(nsr_guide_default_path("", buf, sizeof buf));
  static const char *const shipped[] = {"large", "deep"};
  for (size_t i = 0; i < 2; i++) {
    char space[64], want[64];
    snprintf(space, sizeof space, "/anywhere/%s.json", shipped[i]);
    snprintf(want, sizeof want, "/guide-%s.safetensors", shipped[i]);
    assert_true(nsr_guide_default_path(space, buf, sizeof buf));
    size_t n = strlen(buf), w = strlen(want);
    assert_true(n > w && strcmp(buf + n - w, want) == 0);
  }
  assert_false(nsr_guide_default_path("large.json", buf, 8)); /* too small a buffer */
}

static int setup(void **state) {
  (void)state;
  snprintf(workdir, sizeof workdir, "/tmp/nsr-test-guide-XXXXXX");
  return mkdtemp(workdir) ? 0 : -1;
}

static int teardown(void **state) {
  (void)state;
  char cmd[300];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", workdir);
  return system(cmd) == 0 ? 0 : -1;
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_dataset_determinism),
      cmocka_unit_test(test_dataset_splits),
      cmocka_unit_test(test_dataset_targets),
      cmocka_unit_test(test_dataset_bad_config),
      cmocka_unit_test(test_guide_file_round_trip),
      cmocka_unit_test(test_bad_guide_files),
      cmocka_unit_test(test_guide_of_another_space),
      cmocka_unit_test(test_condition),
      cmocka_unit_test(test_training_lowers_heldout_loss),
      cmocka_unit_test(test_training_bad_config),
      cmocka_unit_test(test_record_json),
      cmocka_unit_test(test_default_path),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
