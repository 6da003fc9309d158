/* test_extract.c: SHA-256, the concept library against the Church
 * interpreter, and the three extraction methods on planted and hand-made
 * inputs whose answers are worked out by hand below. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "nsr_extract.h"
#include "sha256.h"
#include "tiny_model.h"

/* ---- SHA-256: FIPS 180-4 example vectors (NIST CSRC "SHA-256" examples) */

static void test_sha256_vectors(void **state) {
  (void)state;
  char hex[NSR_SHA256_HEX];
  nsr_sha256_hex("", 0, hex);
  assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  nsr_sha256_hex("abc", 3, hex);
  assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
  nsr_sha256_hex(two, strlen(two), hex);
  assert_string_equal(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  const char *four = "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmno"
                     "ijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu";
  nsr_sha256_hex(four, strlen(four), hex);
  assert_string_equal(hex, "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
  /* One million 'a', fed in uneven pieces to cross block boundaries. */
  static char a[1000000];
  memset(a, 'a', sizeof a);
  nsr_sha256 ctx;
  uint8_t digest[NSR_SHA256_BYTES];
  nsr_sha256_init(&ctx);
  size_t done = 0;
  for (size_t piece = 1; done < sizeof a; piece = piece * 7 % 997 + 1) {
    size_t take = piece < sizeof a - done ? piece : sizeof a - done;
    nsr_sha256_update(&ctx, a + done, take);
    done += take;
  }
  nsr_sha256_final(&ctx, digest);
  assert_int_equal(digest[0], 0xcd);
  assert_int_equal(digest[31], 0xd0);
  nsr_sha256_hex(a, sizeof a, hex);
  assert_string_equal(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

static void test_sha256_file(void **state) {
  (void)state;
  char path[] = "/tmp/nsr_test_sha_XXXXXX";
  int fd = mkstemp(path);
  assert_int_equal(write(fd, "abc", 3), 3);
  close(fd);
  char hex[NSR_SHA256_HEX];
  nsr_error err;
  assert_int_equal(nsr_sha256_file(path, hex, &err), NSR_OK);
  assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  unlink(path);
  assert_int_equal(nsr_sha256_file(path, hex, &err), NSR_ERR_IO);
  assert_non_null(strstr(err.message, path));
}

/* ---- the concept library and Church ------------------------------------- */

/* Every stored concept definition, run by the interpreter over 1..100,
 * has exactly the engine's extension. */
static void test_rule_church_equals_engine(void **state) {
  (void)state;
  nsr_numbers *e = tiny_engine(100);
  nsr_lang *lang = tiny_lang();
  nsr_bitset got;
  nsr_error err;
  assert_int_equal(nsr_bitset_init(&got, 101, &err), NSR_OK);
  for (uint32_t r = 0; r < NSR_NUMBERS_RULES; r++) {
    char def[256];
    nsr_numbers_rule_church(r, def, sizeof def);
    assert_int_equal(nsr_church_extension(lang, def, NULL, 100, &got, &err), NSR_OK);
    if (!nsr_bitset_equal(&got, nsr_numbers_rule_set(e, r))) fail_msg("rule %s", nsr_numbers_rule_name(r));
  }
  nsr_bitset_free(&got);
  nsr_lang_free(lang);
  nsr_numbers_free(e);
}

static const nsr_concept *find_concept(const nsr_concept_library *lib, const char *name) {
  for (size_t i = 0; i < lib->n; i++) if (strcmp(lib->items[i].name, name) == 0) return &lib->items[i];
  return NULL;
}

static void test_library(void **state) {
  (void)state;
  nsr_numbers *e = tiny_engine(100);
  nsr_lang *lang = tiny_lang();
  nsr_concept_library lib;
  nsr_error err;
  assert_int_equal(nsr_concept_library_build(e, &lib, &err), NSR_OK);
  assert_int_equal(nsr_concept_library_verify(&lib, lang, &err), NSR_OK);
  /* Sizes counted by hand over 1..100. */
  assert_int_equal(find_concept(&lib, "x mod 3 = 1")->size, 34);   /* 1, 4, ..., 100 */
  assert_int_equal(find_concept(&lib, "x < 10")->size, 9);
  assert_int_equal(find_concept(&lib, "digit sum = 1")->size, 3);  /* 1, 10, 100 */
  assert_int_equal(find_concept(&lib, "tens digit = 0")->size, 10); /* 1..9, 100 */
  assert_int_equal(find_concept(&lib, "powers of 3")->size, 4);    /* 3, 9, 27, 81 */
  /* Repeats of an earlier extension are left out under their later name. */
  assert_null(find_concept(&lib, "x mod 2 = 0"));
  assert_null(find_concept(&lib, "x mod 10 = 3"));
  assert_null(find_concept(&lib, "x mod 5 = 0"));
  /* A definition that disagrees with its extension is caught. */
  nsr_concept *c = (nsr_concept *)find_concept(&lib, "x < 10");
  snprintf(c->definition, sizeof c->definition, "(lambda (x) (<= x 10))");
  assert_int_equal(nsr_concept_library_verify(&lib, lang, &err), NSR_ERR_INTERNAL);
  assert_non_null(strstr(err.message, "x < 10"));
  nsr_bitset bits;
  assert_int_equal(nsr_bitset_init(&bits, 101, &err), NSR_OK);
  assert_int_equal(nsr_church_extension(lang, "(lambda (x) (+ x 1))", NULL, 100, &bits, &err),
                   NSR_ERR_INVALID);
  assert_non_null(strstr(err.message, "non-boolean"));
  assert_int_equal(nsr_church_extension(lang, "(lambda (x) (car x))", NULL, 100, &bits, &err),
                   NSR_ERR_INVALID);
  nsr_bitset_free(&bits);
  nsr_concept_library_free(&lib);
  nsr_lang_free(lang);
  nsr_numbers_free(e);
}

/* ---- alignment ----------------------------------------------------------- */

typedef struct fixture {
  nsr_numbers *engine;
  nsr_concept_library lib;
} fixture;

static fixture fixture_over(uint32_t max) {
  fixture f = {tiny_engine(max), {0}};
  nsr_error err;
  nsr_lang *lang = tiny_lang();
  assert_int_equal(nsr_concept_library_build(f.engine, &f.lib, &err), NSR_OK);
  assert_int_equal(nsr_concept_library_verify(&f.lib, lang, &err), NSR_OK);
  nsr_lang_free(lang);
  return f;
}

static void fixture_free(fixture *f) {
  nsr_concept_library_free(&f->lib);
  nsr_numbers_free(f->engine);
}

/* A unit that is 1 on the multiples of 3 except 99, else 0: the best
 * concept is "multiples of 3" (33 members), firing above 0.5; it agrees on
 * 99 of 100 numbers; TP 32, FN 1, TN 67, FP 0. */
static void test_align_planted_values(void **state) {
  (void)state;
  fixture f = fixture_over(100);
  float v[100];
  for (int x = 1; x <= 100; x++) v[x - 1] = x % 3 == 0 && x != 99 ? 1.0f : 0.0f;
  nsr_ranked scratch[100];
  nsr_alignment a;
  assert_true(nsr_align_unit(v, 1, &f.lib, 3, scratch, &a));
  assert_string_equal(f.lib.items[a.concept].name, "multiples of 3");
  assert_true(a.above);
  assert_float_equal(a.threshold, 0.5, 1e-12);
  assert_float_equal(a.fidelity, 0.99, 1e-12);
  assert_float_equal(a.balanced_accuracy, (32.0 / 33 + 1.0) / 2, 1e-12);
  assert_float_equal(a.precision, 1.0, 1e-12);
  assert_float_equal(a.recall, 32.0 / 33, 1e-12);
  assert_int_equal(a.fires, 32);
  /* Negated: the same concept, firing below. */
  for (int i = 0; i < 100; i++) v[i] = -v[i];
  assert_true(nsr_align_unit(v, 1, &f.lib, 3, scratch, &a));
  assert_string_equal(f.lib.items[a.concept].name, "multiples of 3");
  assert_false(a.above);
  assert_float_equal(a.threshold, -0.5, 1e-12);
  /* A unit singling out 100 matches no concept of 3..97 members exactly;
   * with sizes down to 1 allowed, "x < 100" (99 members) matches it
   * perfectly, firing below the cut. */
  for (int i = 0; i < 100; i++) v[i] = i == 99 ? 1.0f : 0.0f;
  assert_true(nsr_align_unit(v, 1, &f.lib, 3, scratch, &a));
  assert_true(f.lib.items[a.concept].size >= 3 && a.fidelity < 1);
  assert_true(nsr_align_unit(v, 1, &f.lib, 1, scratch, &a));
  assert_float_equal(a.fidelity, 1.0, 0);
  assert_string_equal(f.lib.items[a.concept].name, "x < 100");
  assert_false(a.above);
  /* A constant unit explains nothing. */
  for (int i = 0; i < 100; i++) v[i] = 2.0f;
  assert_false(nsr_align_unit(v, 1, &f.lib, 3, scratch, &a));
  fixture_free(&f);
}

static void set_tensor(nsr_nn_model *m, const char *name, float value) {
  nsr_nn_tensor t;
  assert_true(nsr_nn_find_tensor(m, name, &t));
  for (size_t i = 0; i < t.numel; i++) t.data[i] = value;
}

/* An encoder with weights written by hand: d_model 2, the block outputs
 * zeroed so the residual stream is the embedding, embedding (1, -1) for
 * even x and (-1, 1) for odd x, and FFN unit 0 reading the first
 * coordinate. LayerNorm maps (±1, ∓1) to (±a, ∓a), a = 1/sqrt(1 + 1e-5)
 * (mean 0, variance 1, eps 1e-5), so unit 0 is GELU(a) = a·Φ(a) ≈ 0.84134
 * on even x and GELU(-a) ≈ -0.15865 on odd x; the cut between them is
 * a(Φ(a) - 1/2) ≈ 0.341343. */
static void test_align_planted_model(void **state) {
  (void)state;
  nsr_nn_config cfg;
  nsr_nn_config_default(&cfg);
  cfg.vocab = 21;
  cfg.d_model = 2;
  cfg.n_heads = 1;
  cfg.n_layers = 1;
  cfg.d_ff = 2;
  cfg.n_classes = NSR_NUMBERS_RULES;
  cfg.pos = NSR_NN_POS_NONE;
  nsr_nn_model *m;
  nsr_error err;
  assert_int_equal(nsr_nn_create(&cfg, &m, &err), NSR_OK);
  nsr_nn_init_params(m, 3);
  set_tensor(m, "blocks.0.attn.proj.weight", 0);
  set_tensor(m, "blocks.0.attn.proj.bias", 0);
  set_tensor(m, "blocks.0.ffn.fc2.weight", 0);
  set_tensor(m, "blocks.0.ffn.fc2.bias", 0);
  set_tensor(m, "blocks.0.ffn.fc1.weight", 0);
  set_tensor(m, "blocks.0.ffn.fc1.bias", 0);
  nsr_nn_tensor emb, fc1;
  assert_true(nsr_nn_find_tensor(m, "tok_emb.weight", &emb));
  assert_true(nsr_nn_find_tensor(m, "blocks.0.ffn.fc1.weight", &fc1));
  for (int x = 0; x < 21; x++) {
    emb.data[2 * x] = x % 2 == 0 ? 1.0f : -1.0f;
    emb.data[2 * x + 1] = -emb.data[2 * x];
  }
  fc1.data[0] = 1.0f; /* row 0 = unit 0, column 0 */
  fixture f = fixture_over(20);
  nsr_activations acts;
  assert_int_equal(nsr_activations_capture(m, 0, &acts, &err), NSR_OK);
  assert_int_equal(acts.max, 20);
  assert_int_equal(acts.layout, NSR_LAYOUT_RULES);
  nsr_extract_opts opts;
  nsr_extract_opts_default(&opts);
  opts.probe = opts.cart = false;
  nsr_extraction ex;
  assert_int_equal(nsr_extract(&acts, &f.lib, f.engine, &opts, NULL, NULL, &ex, &err), NSR_OK);
  int seen = 0;
  double a = 1 / sqrt(1 + 1e-5), phi = 0.5 * erfc(-a / sqrt(2));
  for (size_t i = 0; i < ex.n; i++) {
    const nsr_store_rule *r = &ex.rules[i];
    if (strcmp(r->site, "resid.0") == 0 && r->unit == 0) {
      assert_string_equal(r->conclusion, "even");
      assert_string_equal(r->body, "resid.0[0] > 0");
      assert_float_equal(r->fidelity, 1.0, 0);
      assert_int_equal(r->support, 10);
      assert_string_equal(r->church, "(lambda (x) (equal? (> (activation \"resid.0\" 0 x) 0) "
                                     "((lambda (x) (= (modulo x 2) 0)) x)))");
      seen++;
    } else if (strcmp(r->site, "ffn.0") == 0 && r->unit == 0) {
      assert_string_equal(r->conclusion, "even");
      assert_float_equal(r->fidelity, 1.0, 0);
      double cut;
      assert_int_equal(sscanf(strstr(r->details, "\"threshold\":") + 12, "%lf", &cut), 1);
      assert_float_equal(cut, a * (phi - 0.5), 1e-5);
      seen++;
    } else if (strcmp(r->site, "ffn.0") == 0) {
      fail_msg("unit 1 reads nothing and is constant: %s", r->body);
    }
  }
  assert_int_equal(seen, 2);
  nsr_extraction_free(&ex);
  nsr_activations_free(&acts);
  nsr_nn_free(m);
  fixture_free(&f);
}

/* ---- probes ---------------------------------------------------------------- */

/* Random features plus a planted direction that carries "multiples of 4":
 * the probe finds it; on shuffled labels it cannot beat guessing by much. */
static void test_probe_planted_direction(void **state) {
  (void)state;
  fixture f = fixture_over(100);
  enum { W = 8 };
  float x[100 * W];
  nsr_rng rng;
  nsr_rng_seed(&rng, 7);
  double dir[W], norm = 0;
  for (int j = 0; j < W; j++) {
    dir[j] = nsr_rng_normal(&rng);
    norm += dir[j] * dir[j];
  }
  for (int i = 0; i < 100; i++) {
    double label = (i + 1) % 4 == 0 ? 1.0 : -1.0;
    for (int j = 0; j < W; j++) x[i * W + j] = (float)(0.3 * nsr_rng_normal(&rng) + 2.0 * label * dir[j] / sqrt(norm));
  }
  double acc[f.lib.n], control[f.lib.n];
  nsr_extract_opts opts;
  nsr_extract_opts_default(&opts);
  nsr_error err;
  assert_int_equal(nsr_probe_site(x, W, &f.lib, &opts, acc, control, &err), NSR_OK);
  size_t c = (size_t)(find_concept(&f.lib, "multiples of 4") - f.lib.items);
  assert_float_equal(acc[c], 1.0, 0);
  /* Majority is 0.75; the control stays near or below it. */
  assert_true(control[c] <= 0.85);
  assert_true(acc[c] - control[c] >= 0.15);
  /* Too few folds is refused. */
  opts.probe_folds = 1;
  assert_int_equal(nsr_probe_site(x, W, &f.lib, &opts, acc, control, &err), NSR_ERR_INVALID);
  fixture_free(&f);
}

/* ---- CART ----------------------------------------------------------------- */

/* 12 points, label 0 when f0 <= 5, else 1 when f1 <= 5, else 2. Values are
 * integers, so the cuts are midpoints: f0 at (5 + 6) / 2 = 5.5 between the
 * largest f0 of label 0 (5) and the smallest other (6), f1 likewise. */
static void test_cart_handmade(void **state) {
  (void)state;
  float x[12 * 2] = {1, 9, 2, 1, 3, 7, 4, 3, 5, 8, 5, 2,   /* label 0 */
                     6, 1, 7, 4, 8, 5,                     /* label 1 */
                     6, 9, 9, 7, 7, 6};                    /* label 2 */
  int32_t y[12] = {0, 0, 0, 0, 0, 0, 1, 1, 1, 2, 2, 2};
  uint32_t order[12];
  nsr_cart_rule *rules;
  size_t n;
  nsr_error err;
  assert_int_equal(nsr_cart_grow(x, 2, y, 3, 12, 4, &rules, &n, order, &err), NSR_OK);
  assert_int_equal(n, 3);
  /* Left to right: f0 <= 5.5 -> 0; f0 > 5.5, f1 <= 5.5 -> 1; f1 > 5.5 -> 2. */
  assert_int_equal(rules[0].n_conds, 1);
  assert_int_equal(rules[0].feature[0], 0);
  assert_float_equal(rules[0].threshold[0], 5.5, 0);
  assert_false(rules[0].above[0]);
  assert_int_equal(rules[0].label, 0);
  assert_int_equal(rules[0].covered, 6);
  assert_int_equal(rules[1].n_conds, 2);
  assert_int_equal(rules[1].feature[1], 1);
  assert_float_equal(rules[1].threshold[1], 5.5, 0);
  assert_int_equal(rules[1].label, 1);
  assert_int_equal(rules[2].label, 2);
  for (size_t k = 0; k < n; k++) assert_int_equal(rules[k].agree, rules[k].covered);
  nsr_free(rules);
  /* Depth 0 is one rule for everything, labelled by the majority. */
  assert_int_equal(nsr_cart_grow(x, 2, y, 3, 12, 0, &rules, &n, order, &err), NSR_OK);
  assert_int_equal(n, 1);
  assert_int_equal(rules[0].label, 0);
  assert_int_equal(rules[0].agree, 6);
  nsr_free(rules);
  assert_int_equal(nsr_cart_grow(x, 2, y, 3, 0, 4, &rules, &n, order, &err), NSR_ERR_INVALID);
}

/* Activations over 1..10 with the one site given, the network's choices
 * `top` and the exact MAP's `exact` (rule indexes: the rules layout). They
 * point at the caller's arrays. */
static nsr_activations acts_over_ten(nsr_site *site, int32_t *top, int32_t *exact) {
  return (nsr_activations){.max = 10, .domain_max = 10, .n_sites = 1, .sites = site,
                           .layout = NSR_LAYOUT_RULES, .n_classes = NSR_NUMBERS_RULES, .top = top,
                           .exact = exact};
}

/* PSyKE's metrics by hand on 1..10 with one feature v(x) = x. The network
 * proposes rule 0 ("even") for x <= 4 and x = 9, rule 1 ("odd") otherwise;
 * the exact MAP is "odd" everywhere. Depth 1 splits at 4.5 (a pure left
 * side: Gini 0 + 6·(1 - (25 + 1)/36) beats every other cut):
 *   x <= 4.5 -> even: covers 4, fidelity 4/4, accuracy 0/4, completeness .4
 *   x >  4.5 -> odd:  covers 6, fidelity 5/6, accuracy 6/6, completeness .6
 * The tree: fidelity 9/10, accuracy 6/10, completeness 1, 2 rules. */
static void test_psyke_metrics(void **state) {
  (void)state;
  fixture f = fixture_over(10);
  float v[10];
  int32_t top[10], exact[10];
  for (int x = 1; x <= 10; x++) {
    v[x - 1] = (float)x;
    top[x - 1] = x <= 4 || x == 9 ? 0 : 1;
    exact[x - 1] = 1;
  }
  nsr_site site = {NSR_SITE_RESID, 0, 1, v};
  nsr_activations acts = acts_over_ten(&site, top, exact);
  nsr_extract_opts opts;
  nsr_extract_opts_default(&opts);
  opts.alignment = opts.probe = false;
  opts.cart_depth = 1;
  nsr_extraction ex;
  nsr_error err;
  assert_int_equal(nsr_extract(&acts, &f.lib, f.engine, &opts, NULL, NULL, &ex, &err), NSR_OK);
  assert_int_equal(ex.n, 2);
  assert_string_equal(ex.rules[0].body, "resid.0[0] <= 4.5");
  assert_string_equal(ex.rules[0].conclusion, "even");
  assert_float_equal(ex.rules[0].fidelity, 1.0, 1e-12);
  assert_float_equal(ex.rules[0].accuracy, 0.0, 1e-12);
  assert_float_equal(ex.rules[0].completeness, 0.4, 1e-12);
  assert_int_equal(ex.rules[0].support, 4);
  /* The rule in Church, checked by the interpreter; its inputs {1..4} are
   * the library concept "x < 5". */
  assert_string_equal(ex.rules[0].church, "(lambda (x) (and (<= (activation \"resid.0\" 0 x) 4.5)))");
  assert_non_null(strstr(ex.rules[0].details, "\"covered_concept\":\"x < 5\""));
  assert_string_equal(ex.rules[1].conclusion, "odd");
  assert_float_equal(ex.rules[1].fidelity, 5.0 / 6, 1e-12);
  assert_float_equal(ex.rules[1].accuracy, 1.0, 1e-12);
  assert_float_equal(ex.rules[1].completeness, 0.6, 1e-12);
  assert_float_equal(ex.tree_fidelity, 0.9, 1e-12);
  assert_float_equal(ex.tree_accuracy, 0.6, 1e-12);
  assert_float_equal(ex.tree_completeness, 1.0, 1e-12);
  nsr_extraction_free(&ex);
  /* A library over another domain is refused. */
  fixture g = fixture_over(12);
  assert_int_equal(nsr_extract(&acts, &g.lib, g.engine, &opts, NULL, NULL, &ex, &err),
                   NSR_ERR_INVALID);
  fixture_free(&g);
  fixture_free(&f);
}

/* Two neighbouring floats: their float midpoint rounds onto the upper one,
 * so the cut becomes the lower value itself, 0.1f. The rule's Church
 * predicate must put an activation equal to the cut on the same side as the
 * tree, which needs the cut's exact decimal (0.1f is 0.100000001490116...). */
static void test_cart_threshold_on_a_value(void **state) {
  (void)state;
  fixture f = fixture_over(10);
  float v[10];
  int32_t top[10], exact[10];
  for (int x = 1; x <= 10; x++) {
    v[x - 1] = x <= 5 ? 0.1f : nextafterf(0.1f, 1.0f);
    top[x - 1] = x <= 5 ? 0 : 1;
    exact[x - 1] = 0;
  }
  nsr_site site = {NSR_SITE_RESID, 0, 1, v};
  nsr_activations acts = acts_over_ten(&site, top, exact);
  nsr_extract_opts opts;
  nsr_extract_opts_default(&opts);
  opts.alignment = opts.probe = false;
  nsr_extraction ex;
  nsr_error err;
  if (nsr_extract(&acts, &f.lib, f.engine, &opts, NULL, NULL, &ex, &err) != NSR_OK) fail_msg("%s", err.message);
  assert_int_equal(ex.n, 2);
  assert_int_equal(ex.rules[0].support, 5);
  assert_float_equal(ex.rules[0].fidelity, 1.0, 0);
  assert_float_equal(ex.tree_fidelity, 1.0, 0);
  nsr_extraction_free(&ex);
  fixture_free(&f);
}

/* Every allocation failure during an extraction is reported as out of
 * memory and leaks nothing (the sanitizer build checks the leaks). */
static void test_extract_out_of_memory(void **state) {
  (void)state;
  fixture f = fixture_over(10);
  float v[20];
  int32_t top[10], exact[10];
  for (int x = 1; x <= 10; x++) {
    v[2 * (x - 1)] = (float)x;
    v[2 * (x - 1) + 1] = (float)(x % 3);
    top[x - 1] = x % 2;
    exact[x - 1] = 1;
  }
  nsr_site site = {NSR_SITE_FFN, 0, 2, v};
  nsr_activations acts = acts_over_ten(&site, top, exact);
  nsr_extract_opts opts;
  nsr_extract_opts_default(&opts);
  nsr_extraction ex;
  nsr_error err;
  uint64_t before = nsr_alloc_count();
  assert_int_equal(nsr_extract(&acts, &f.lib, f.engine, &opts, NULL, NULL, &ex, &err), NSR_OK);
  size_t rules = ex.n;
  nsr_extraction_free(&ex);
  uint64_t needed = nsr_alloc_count() - before;
  /* Past the interpreter's start-up, fail each later allocation once. */
  for (uint64_t k = needed > 400 ? needed - 400 : 1; k <= needed; k++) {
    nsr_alloc_fail_after(k);
    nsr_code rc = nsr_extract(&acts, &f.lib, f.engine, &opts, NULL, NULL, &ex, &err);
    nsr_alloc_fail_reset();
    if (rc == NSR_OK) {
      assert_int_equal(ex.n, rules);
      nsr_extraction_free(&ex);
    } else {
      assert_int_equal(rc, NSR_ERR_NOMEM);
      assert_null(ex.rules);
    }
  }
  fixture_free(&f);
}

static void test_capture_bad_domain(void **state) {
  (void)state;
  nsr_nn_config cfg;
  nsr_nn_config_default(&cfg);
  cfg.vocab = 13;
  cfg.d_model = 4;
  cfg.n_heads = 1;
  cfg.n_layers = 1;
  cfg.d_ff = 4;
  nsr_nn_model *m;
  nsr_error err;
  assert_int_equal(nsr_nn_create(&cfg, &m, &err), NSR_OK);
  nsr_activations acts;
  assert_int_equal(nsr_activations_capture(m, 13, &acts, &err), NSR_ERR_INVALID);
  assert_non_null(strstr(err.message, "vocab is 13"));
  assert_int_equal(nsr_activations_capture(m, NSR_EXTRACT_MAX_N + 1, &acts, &err), NSR_ERR_RANGE);
  assert_non_null(strstr(err.message, "at most 1..4096"));
  assert_int_equal(nsr_activations_capture(m, 12, &acts, &err), NSR_OK);
  assert_int_equal(acts.layout, NSR_LAYOUT_OTHER); /* 64 classes: neither layout */
  assert_int_equal(acts.n_sites, 3);
  char name[32];
  nsr_class_name(&acts, NULL, 7, name, sizeof name);
  assert_string_equal(name, "class 7");
  nsr_activations_free(&acts);
  nsr_nn_free(m);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_sha256_vectors),
      cmocka_unit_test(test_sha256_file),
      cmocka_unit_test(test_rule_church_equals_engine),
      cmocka_unit_test(test_library),
      cmocka_unit_test(test_align_planted_values),
      cmocka_unit_test(test_align_planted_model),
      cmocka_unit_test(test_probe_planted_direction),
      cmocka_unit_test(test_cart_handmade),
      cmocka_unit_test(test_psyke_metrics),
      cmocka_unit_test(test_cart_threshold_on_a_value),
      cmocka_unit_test(test_extract_out_of_memory),
      cmocka_unit_test(test_capture_bad_domain),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
