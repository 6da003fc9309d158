/* test_extract_sets.c: extraction's inputs as the networks use them:
 * concepts read on example sets (X ⊆ c) and checked in Church, a proposal
 * model run on sets (its domain from its config; pooling, argmax and
 * exact MAP against the proposer's own path), and a guide's truth classes
 * and rule-family concepts, each expected value worked out by hand. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "nsr_extract.h"
#include "tiny_model.h"

/* Sets as nsr_heldout: n sets from rows of up to 6 numbers ended by 0. */
static void make_sets(const uint32_t rows[][NSR_PROPOSE_MAX_EXAMPLES + 1], size_t n,
                      nsr_heldout *out) {
  out->n = n;
  out->n_examples = calloc(n, sizeof *out->n_examples);
  out->examples = calloc(n * NSR_PROPOSE_MAX_EXAMPLES, sizeof *out->examples);
  for (size_t i = 0; i < n; i++) {
    uint32_t k = 0;
    while (rows[i][k] != 0) {
      out->examples[i * NSR_PROPOSE_MAX_EXAMPLES + k] = rows[i][k];
      k++;
    }
    out->n_examples[i] = k;
  }
}

static void free_sets(nsr_heldout *s) {
  free(s->n_examples);
  free(s->examples);
}

static const nsr_concept *find(const nsr_concept_library *lib, const char *name) {
  for (size_t i = 0; i < lib->n; i++) if (strcmp(lib->items[i].name, name) == 0) return &lib->items[i];
  return NULL;
}

/* The members of a concept's extension as a bit mask of sets 1..n. */
static unsigned mask_of(const nsr_concept *c, size_t n) {
  unsigned m = 0;
  for (size_t i = 1; i <= n; i++) if (nsr_bitset_has(&c->extension, i)) m |= 1u << (i - 1);
  return m;
}

/* Over 1..20, sets {2, 4}, {3}, {2, 3}, {4, 8, 16}: "even" holds for sets
 * 1 and 4, "odd" for 2, "x mod 3 = 0" for 2 alone, so it repeats "odd" and
 * is left out; "powers of 2" holds for 1 and 4 like "even" (dropped, even
 * comes first); "x < 5" holds for 1, 2, 3. */
static void test_lift(void **state) {
  (void)state;
  static const uint32_t rows[][NSR_PROPOSE_MAX_EXAMPLES + 1] = {
      {2, 4, 0}, {3, 0}, {2, 3, 0}, {4, 8, 16, 0}};
  nsr_heldout sets;
  make_sets(rows, 4, &sets);
  nsr_numbers *e = tiny_engine(20);
  nsr_concept_library numbers, lib;
  nsr_error err;
  assert_int_equal(nsr_concept_library_build(e, &numbers, &err), NSR_OK);
  assert_int_equal(nsr_concept_library_lift(&numbers, &sets, &lib, &err), NSR_OK);
  assert_int_equal(lib.max, 4);
  assert_int_equal(lib.domain_max, 20);
  assert_int_equal(mask_of(find(&lib, "even"), 4), 0x9);
  assert_int_equal(mask_of(find(&lib, "odd"), 4), 0x2);
  assert_int_equal(mask_of(find(&lib, "x < 5"), 4), 0x7);
  assert_null(find(&lib, "powers of 2"));
  assert_null(find(&lib, "x mod 3 = 0"));
  assert_string_equal(find(&lib, "odd")->definition,
                      "(lambda (i) (all (map (lambda (x) (= (modulo x 2) 1)) (examples i))))");
  /* The interpreter agrees with every extension. */
  nsr_lang *lang = tiny_lang();
  assert_int_equal(nsr_extract_define_inputs(lang, &lib, &err), NSR_OK);
  assert_int_equal(nsr_concept_library_verify(&lib, lang, &err), NSR_OK);
  /* (examples i) refuses set numbers outside 1..4. */
  nsr_bitset out;
  assert_int_equal(nsr_bitset_init(&out, 6, &err), NSR_OK);
  assert_int_equal(nsr_church_extension(lang, "(lambda (i) (null? (examples (+ i 1))))", NULL, 5,
                                        &out, &err), NSR_ERR_INVALID);
  assert_non_null(strstr(err.message, "1..4"));
  nsr_bitset_free(&out);
  nsr_lang_free(lang);
  nsr_concept_library_free(&lib);
  /* Bad sets: none, an empty set, a number outside 1..20. */
  static const uint32_t outside[][NSR_PROPOSE_MAX_EXAMPLES + 1] = {{2, 21, 0}};
  static const uint32_t empty[][NSR_PROPOSE_MAX_EXAMPLES + 1] = {{0}};
  nsr_heldout bad;
  make_sets(outside, 1, &bad);
  assert_int_equal(nsr_concept_library_lift(&numbers, &bad, &lib, &err), NSR_ERR_RANGE);
  assert_non_null(strstr(err.message, "example set 1"));
  free_sets(&bad);
  make_sets(empty, 1, &bad);
  assert_int_equal(nsr_concept_library_lift(&numbers, &bad, &lib, &err), NSR_ERR_RANGE);
  bad.n = 0;
  assert_int_equal(nsr_concept_library_lift(&numbers, &bad, &lib, &err), NSR_ERR_RANGE);
  free_sets(&bad);
  nsr_concept_library_free(&numbers);
  nsr_numbers_free(e);
  free_sets(&sets);
}

/* A proposal model over 1..50 (vocab 57) is read on 1..50. Each set's top
 * class is the argmax of the proposer's own distribution and its exact
 * class the engine's MAP as the proposer reports it; the pooled site is
 * the network's pooled output and the FFN site the mean of the captured
 * FFN rows over the set's tokens. */
static void test_capture_sets(void **state) {
  (void)state;
  static const uint32_t rows[][NSR_PROPOSE_MAX_EXAMPLES + 1] = {
      {16, 0}, {16, 8, 2, 0}, {7, 49, 0}, {50, 1, 25, 30, 3, 9, 0}, {10, 20, 30, 40, 0}};
  nsr_heldout sets;
  make_sets(rows, 5, &sets);
  nsr_nn_model *m = tiny_proposal(50, 16, 2, 3);
  nsr_activations acts;
  nsr_error err;
  assert_int_equal(nsr_activations_capture_sets(m, &sets, &acts, &err), NSR_OK);
  assert_int_equal(acts.domain_max, 50);
  assert_int_equal(acts.max, 5);
  assert_int_equal(acts.layout, NSR_LAYOUT_SPACE);
  assert_int_equal(acts.n_sites, 5);
  nsr_proposer *p;
  assert_int_equal(nsr_proposer_wrap(m, &p, &err), NSR_OK);
  const nsr_nn_config *cfg = nsr_nn_get_config(m);
  for (size_t i = 0; i < sets.n; i++) {
    const uint32_t *x = sets.examples + i * NSR_PROPOSE_MAX_EXAMPLES;
    nsr_proposals out;
    assert_int_equal(nsr_propose(p, x, sets.n_examples[i], 1, &out, &err), NSR_OK);
    assert_int_equal(acts.top[i], (int32_t)out.items[0].index);
    assert_int_equal(acts.exact[i], (int32_t)out.exact_map.index);
    /* The FFN of block 0 and the pooled output, captured directly. */
    int32_t tokens[NSR_PROPOSE_MAX_LEN];
    int32_t len = nsr_propose_tokens(50, x, sets.n_examples[i], tokens);
    nsr_nn_batch batch = {1, NSR_PROPOSE_MAX_LEN, tokens, &len};
    float *ffn = calloc((size_t)cfg->n_layers * NSR_PROPOSE_MAX_LEN * cfg->d_ff, sizeof *ffn);
    float *pooled = calloc((size_t)cfg->d_model, sizeof *pooled);
    nsr_nn_capture cap = {.ffn_hidden = ffn, .pooled = pooled};
    assert_int_equal(nsr_nn_capture_forward(m, &batch, &cap, &err), NSR_OK);
    for (int u = 0; u < cfg->d_ff; u++) {
      double mean = 0;
      for (int t = 0; t < len; t++) mean += ffn[(size_t)t * cfg->d_ff + u];
      assert_float_equal(acts.sites[0].values[i * cfg->d_ff + (size_t)u], mean / len, 1e-5);
    }
    for (int u = 0; u < cfg->d_model; u++) {
      assert_float_equal(acts.sites[4].values[i * cfg->d_model + (size_t)u], pooled[u], 1e-5);
    }
    free(ffn);
    free(pooled);
  }
  nsr_proposer_free(p);
  nsr_activations_free(&acts);
  /* An encoder without count tokens is not a proposal model. */
  nsr_nn_model *wide = tiny_wide(50, 1);
  assert_int_equal(nsr_activations_capture_sets(wide, &sets, &acts, &err), NSR_ERR_FORMAT);
  assert_non_null(strstr(err.message, "not a proposal model"));
  nsr_nn_free(wide);
  nsr_nn_free(m);
  free_sets(&sets);
}

/* A space over 1..10 with P = 5: even 0, odd 1, primes 2, union 3,
 * intersection 4. */
static const char space_json[] =
    "{\"range\": 10, \"max_size\": 3, \"lambda\": 0.7, \"sigma\": 10, \"primitives\": ["
    "{\"family\": \"even\"}, {\"family\": \"odd\"}, {\"family\": \"primes\"}], \"operations\": ["
    "{\"family\": \"union\", \"weight\": 0.3}, {\"family\": \"intersection\", \"weight\": 0.3}]}";

static nsr_space_concept tree_of(const uint16_t *prog, int len) {
  nsr_space_concept c = {.kind = NSR_CONCEPT_GRAMMAR};
  memcpy(c.tree.prog, prog, (size_t)len * sizeof *prog);
  c.tree.len = len;
  return c;
}

/* Truth classes: the most frequent production of the tree, the lowest
 * index on a tie; an interval is class P = 5. Families on three sets:
 * set 1 from (union even primes), set 2 from an interval, set 3 from odd.
 * "uses even" = {1}; "uses odd" = {3}; "uses primes" and "uses union"
 * repeat {1} and are left out; "uses intersection" holds for none; "from
 * an interval" = {2}. */
static void test_guide_truth_and_families(void **state) {
  (void)state;
  nsr_space *space;
  nsr_error err;
  assert_int_equal(nsr_space_from_json(space_json, strlen(space_json), "test", false, &space, &err),
                   NSR_OK);
  assert_int_equal(nsr_space_productions(space), 5);
  assert_string_equal(nsr_space_production_family(space, 3), "union");
  static const uint16_t union_even_primes[] = {3, 0, 2}, union_odd_odd[] = {3, 1, 1},
                        odd[] = {1};
  nsr_space_concept c = tree_of(union_even_primes, 3);
  assert_int_equal(nsr_guide_truth_class(space, &c), 0);
  c = tree_of(union_odd_odd, 3);
  assert_int_equal(nsr_guide_truth_class(space, &c), 1);
  nsr_space_concept interval = {.kind = NSR_CONCEPT_INTERVAL, .lo = 3, .hi = 5, .size = 3};
  assert_int_equal(nsr_guide_truth_class(space, &interval), 5);

  static const uint32_t rows[][NSR_PROPOSE_MAX_EXAMPLES + 1] = {{2, 4, 0}, {3, 4, 0}, {1, 3, 0}};
  nsr_guide_item items[3] = {{.concept = tree_of(union_even_primes, 3)}, {.concept = interval},
                             {.concept = tree_of(odd, 1)}};
  nsr_guide_sets in = {.items = items};
  make_sets(rows, 3, &in.sets);
  nsr_numbers *e = tiny_engine(10);
  nsr_concept_library numbers, lib;
  assert_int_equal(nsr_concept_library_build(e, &numbers, &err), NSR_OK);
  assert_int_equal(nsr_concept_library_lift(&numbers, &in.sets, &lib, &err), NSR_OK);
  size_t lifted = lib.n;
  assert_int_equal(nsr_concept_library_add_families(&lib, space, &in, &err), NSR_OK);
  assert_int_equal(lib.align_first, lifted);
  assert_int_equal(lib.n, lifted + 3);
  assert_int_equal(mask_of(find(&lib, "uses even"), 3), 0x1);
  assert_int_equal(mask_of(find(&lib, "uses odd"), 3), 0x4);
  assert_int_equal(mask_of(find(&lib, "from an interval"), 3), 0x2);
  assert_null(find(&lib, "uses primes"));
  assert_null(find(&lib, "uses union"));
  assert_null(find(&lib, "uses intersection"));
  nsr_lang *lang = tiny_lang();
  assert_int_equal(nsr_extract_define_inputs(lang, &lib, &err), NSR_OK);
  assert_int_equal(nsr_concept_library_verify(&lib, lang, &err), NSR_OK);
  nsr_lang_free(lang);
  /* Families need the library read on the guide's own sets. */
  nsr_concept_library other;
  assert_int_equal(nsr_concept_library_lift(&numbers, &in.sets, &other, &err), NSR_OK);
  nsr_guide_sets copy = in;
  assert_int_equal(nsr_concept_library_add_families(&other, space, &copy, &err), NSR_ERR_INVALID);
  nsr_concept_library_free(&other);
  nsr_concept_library_free(&lib);
  nsr_concept_library_free(&numbers);
  nsr_numbers_free(e);
  free_sets(&in.sets);
  nsr_space_free(space);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_lift),
      cmocka_unit_test(test_capture_sets),
      cmocka_unit_test(test_guide_truth_and_families),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
