/* test_space_guide.c: drawing from a space's prior, guides (conditioned
 * grammars), guided Metropolis-Hastings, importance sampling and proposals,
 * against answers derived independently of the code under test: every
 * expression tree of a tiny grammar built one by one and weighted by hand
 * (space_brute.h: Π w_k, the size principle), which gives the exact prior
 * and posterior of each extension; a few values are worked out by hand.
 * What X needs of each node of q: test_space_needs.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nsr_space.h"
#include "nsr_test_util.h"
#include "space_brute.h"

/* ---- drawing from the prior ------------------------------------------------ */

/* Weights with W = Σ w = 4.2 ≠ 1, so that the prior (Π w_k) and the PCFG
 * (Π w_k / W) differ: trees of 3 symbols weigh W² = 17.6 times more in the
 * prior than in the PCFG. */
static const tprod small_prods[] = {{'e', 0, 1.0}, {'o', 0, 0.5}, {'m', 3, 1.0}, {'m', 4, 1.0},
                                    {'u', 0, 0.2}, {'i', 0, 0.2}, {'+', 1, 0.3}};
static const char small_json[] =
    "{\"range\":12,\"max_size\":3,\"lambda\":0.4,\"sigma\":4,\"primitives\":["
    "{\"family\":\"even\"},{\"family\":\"odd\",\"weight\":0.5},{\"family\":\"multiples\",\"args\":[3,4]}],"
    "\"operations\":[{\"family\":\"union\",\"weight\":0.2},{\"family\":\"intersection\",\"weight\":0.2},"
    "{\"family\":\"plus\",\"args\":[1],\"weight\":0.3}]}";
static const grammar small = {small_prods, 7, 12, 3};

/* Sampled concepts against the prior: the grammar's share λ, each grammar
 * extension's frequency against π(h)/Z_G from the brute force, and each
 * interval size's against (N − s + 1)·Erlang(s; σ) normalised. Every
 * frequency f of M draws with probability p is within 4.5 sd,
 * sd = sqrt(p(1 − p)/M) (binomial). */
static void test_sample_concept_matches_prior(void **state) {
  (void)state;
  nsr_space *s = space_build(small_json);
  brute *b = brute_build(&small);
  dist prior = {.n = 0};
  for (int t = 0; t < b->count; t++) {
    if (b->ext[t]) prior.w[dist_index(&prior, b->ext[t])] += b->p[t];
  }
  dist_normalise(&prior);
  const uint32_t n = 12;
  double erlang[13], ez = 0, size_count[13] = {0};
  for (uint32_t k = 1; k <= n; k++) ez += erlang[k] = (n - k + 1) * k / 16.0 * exp(-(double)k / 4.0);
  dist got = {.n = 0};
  for (int i = 0; i < prior.n; i++) dist_index(&got, prior.mask[i]);
  const int m = 200000;
  nsr_rng rng;
  nsr_rng_seed(&rng, 11);
  int grammar_draws = 0;
  nsr_error err;
  for (int i = 0; i < m; i++) {
    nsr_space_concept c;
    assert_int_equal(nsr_space_sample_concept(s, &rng, &c, &err), NSR_OK);
    assert_int_equal(c.size, __builtin_popcountll(c.bits[0]));
    if (c.kind == NSR_CONCEPT_INTERVAL) {
      assert_true(c.lo >= 1 && c.hi <= n && c.hi - c.lo + 1 == c.size);
      assert_true(c.bits[0] == ((UINT64_C(1) << (c.hi + 1)) - (UINT64_C(1) << c.lo)));
      size_count[c.size]++;
      continue;
    }
    grammar_draws++;
    uint64_t bits[1];
    assert_int_equal(nsr_space_tree_extension(s, &c.tree, bits), c.size);
    assert_true(bits[0] == c.bits[0]);
    int before = got.n;
    got.w[dist_index(&got, c.bits[0])] += 1;
    assert_int_equal(got.n, before); /* only extensions the brute force makes */
  }
  assert_near(grammar_draws / (double)m, 0.4, 4.5 * sqrt(0.4 * 0.6 / m), "share of grammar concepts");
  for (int i = 0; i < prior.n; i++) {
    double p = prior.w[i];
    assert_near(got.w[i] / grammar_draws, p, 4.5 * sqrt(p * (1 - p) / grammar_draws), "grammar extension");
  }
  int intervals = m - grammar_draws;
  for (uint32_t k = 1; k <= n; k++) {
    double p = erlang[k] / ez;
    assert_near(size_count[k] / intervals, p, 4.5 * sqrt(p * (1 - p) / intervals), "interval size");
  }
  free(b);
  nsr_space_free(s);
}

/* Examples are uniform over the concept's members: {3, 6, 9, 12} each with
 * frequency 1/4 within 4.5 sd of M draws. */
static void test_sample_examples_uniform(void **state) {
  (void)state;
  nsr_space *s = space_build(small_json);
  nsr_space_concept c = {.kind = NSR_CONCEPT_GRAMMAR, .tree = {.prog = {2}, .len = 1}};
  c.size = nsr_space_tree_extension(s, &c.tree, c.bits);
  assert_int_equal(c.size, 4);
  nsr_rng rng;
  nsr_rng_seed(&rng, 3);
  enum { M = 40000 };
  uint32_t x[M];
  nsr_space_sample_examples(s, &c, M, &rng, x);
  double count[13] = {0};
  for (int i = 0; i < M; i++) {
    assert_true(x[i] % 3 == 0 && x[i] >= 3 && x[i] <= 12);
    count[x[i]]++;
  }
  for (uint32_t y = 3; y <= 12; y += 3) assert_near(count[y] / M, 0.25, 4.5 * sqrt(0.25 * 0.75 / M), "example share");
  nsr_space_free(s);
}

/* ---- trees, names, signatures ----------------------------------------------- */

static void test_trees_by_hand(void **state) {
  (void)state;
  nsr_space *s = space_build(small_json);
  uint64_t bits[1];
  char name[NSR_SPACE_NAME_MAX];
  /* union(multiples of 4, odd + 1): {4, 8, 12} ∪ {2, 4, ..., 12} = the even numbers */
  nsr_space_tree t = {.prog = {4, 3, 6, 1}, .len = 4};
  assert_int_equal(nsr_space_tree_extension(s, &t, bits), 6);
  assert_true(bits[0] == 0x1554); /* 2, 4, 6, 8, 10, 12 */
  nsr_space_tree_name(s, &t, name, sizeof name);
  assert_string_equal(name, "multiples of 4 or (odd + 1)");
  /* odd ∩ even is empty: no extension, as for a tree with an empty part */
  nsr_space_tree empty = {.prog = {5, 1, 0}, .len = 3};
  assert_int_equal(nsr_space_tree_extension(s, &empty, bits), 0);
  nsr_space_tree inner_empty = {.prog = {4, 5, 1, 0, 2}, .len = 5};
  assert_int_equal(nsr_space_tree_extension(s, &inner_empty, bits), 0);
  /* malformed: a missing operand, a trailing symbol, an unknown production, lengths */
  const nsr_space_tree bad[] = {{.prog = {4, 0}, .len = 2}, {.prog = {0, 1}, .len = 2}, {.prog = {7}, .len = 1},
                                {.prog = {0}, .len = 0}, {.prog = {0}, .len = NSR_SPACE_TREE_MAX + 1}};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    assert_int_equal(nsr_space_tree_extension(s, &bad[i], bits), 0);
    nsr_space_tree_name(s, &bad[i], name, sizeof name);
    assert_non_null(strstr(name, "not a tree"));
  }
  nsr_space_free(s);
}

/* The signature depends on the range, max_size and the productions in
 * order, not on weights or other parameters. */
static void test_signature(void **state) {
  (void)state;
  static const char *const same[] = {
      "{\"range\":12,\"max_size\":3,\"primitives\":[{\"family\":\"even\"},{\"family\":\"multiples\",\"args\":[3]}]}",
      "{\"range\":12,\"max_size\":3,\"lambda\":0.9,\"primitives\":[{\"family\":\"even\",\"weight\":3},"
      "{\"family\":\"multiples\",\"args\":[3],\"weight\":0.1}]}"};
  static const char *const other[] = {
      "{\"range\":13,\"max_size\":3,\"primitives\":[{\"family\":\"even\"},{\"family\":\"multiples\",\"args\":[3]}]}",
      "{\"range\":12,\"max_size\":4,\"primitives\":[{\"family\":\"even\"},{\"family\":\"multiples\",\"args\":[3]}]}",
      "{\"range\":12,\"max_size\":3,\"primitives\":[{\"family\":\"multiples\",\"args\":[3]},{\"family\":\"even\"}]}",
      "{\"range\":12,\"max_size\":3,\"primitives\":[{\"family\":\"even\"},{\"family\":\"multiples\",\"args\":[4]}]}"};
  nsr_space *a = space_build(same[0]), *b = space_build(same[1]);
  uint64_t sig = nsr_space_signature(a);
  assert_true(nsr_space_signature(b) == sig);
  double log_w[2] = {1.5, -2};
  nsr_error err;
  assert_int_equal(nsr_space_set_log_weights(b, log_w, &err), NSR_OK);
  assert_true(nsr_space_signature(b) == sig);
  nsr_space_free(a);
  nsr_space_free(b);
  for (size_t i = 0; i < sizeof other / sizeof *other; i++) {
    nsr_space *o = space_build(other[i]);
    assert_true(nsr_space_signature(o) != sig);
    nsr_space_free(o);
  }
}

/* log q by hand on the small space (even, odd, m3, m4, union,
 * intersection, plus 1; max_size 3). One row for every context,
 * exp(log_q) = (1, 2, 3, 4, 1, 1, 1): 13 in all, 10 on the primitives,
 * 11 on the primitives and plus 1. union(m4, odd): the root has room 3
 * (everything fits): 1/13; each operand has room 1 (primitives only):
 * 4/10 and 2/10, so 8/1300. (plus 1)(plus 1)(m3): 1/13 at the root, 1/11
 * at room 2 (no binary operation fits), 3/10 at room 1: 3/1430. A tree of
 * 4 symbols has q = 0. */
static void test_guide_log_q_by_hand(void **state) {
  (void)state;
  nsr_space *s = space_build(small_json);
  const double log_q[7] = {0, log(2), log(3), log(4), 0, 0, 0};
  nsr_space_guide guide = {.log_q = log_q, .rows = 1};
  nsr_space_tree t = {.prog = {4, 3, 1}, .len = 3}, shifts = {.prog = {6, 6, 2}, .len = 3};
  assert_near(nsr_space_guide_log_q(s, &guide, &t), log(8.0 / 1300.0), 1e-12, "log q");
  assert_near(nsr_space_guide_log_q(s, &guide, &shifts), log(3.0 / 1430.0), 1e-12, "log q unary");
  nsr_space_tree four = {.prog = {4, 3, 6, 1}, .len = 4}, malformed = {.prog = {4, 3}, .len = 2};
  assert_true(nsr_space_guide_log_q(s, &guide, &four) == -INFINITY);
  assert_true(isnan(nsr_space_guide_log_q(s, &guide, &malformed)));
  /* adding a constant to every log_q changes nothing */
  const double shifted[7] = {5, 5 + log(2), 5 + log(3), 5 + log(4), 5, 5, 5};
  nsr_space_guide g2 = {.log_q = shifted, .rows = 0}; /* 0 rows: one row, as 1 */
  assert_near(nsr_space_guide_log_q(s, &g2, &t), log(8.0 / 1300.0), 1e-12, "log q shifted");
  nsr_space_free(s);
}

/* Contexts by hand: the small space has union (2 operands), intersection
 * (2) and plus 1 (1), so 6 contexts: the root 0, union's operands 1 and 2,
 * intersection's 3 and 4, plus's 5. With one row per context, all zero
 * but row 1 (log 5 on m4) and row 2 (log 7 on odd), union(m4, odd) takes
 * 1/7 at the root, 5/8 for m4 (primitives 1 + 1 + 1 + 5) and 7/10 for odd
 * (1 + 7 + 1 + 1): 1/16. */
static void test_guide_contexts_by_hand(void **state) {
  (void)state;
  nsr_space *s = space_build(small_json);
  assert_int_equal(nsr_space_guide_contexts(s), 6);
  nsr_space_tree t = {.prog = {5, 6, 0, 4, 3, 1}, .len = 6};
  uint16_t ctx[6];
  nsr_space_tree_contexts(s, &t, ctx); /* intersection(plus 1 (even), union(m4, odd)) */
  const uint16_t want[6] = {0, 3, 5, 4, 1, 2};
  for (int i = 0; i < 6; i++) assert_int_equal(ctx[i], want[i]);
  double log_q[6 * 7] = {0};
  log_q[1 * 7 + 3] = log(5);
  log_q[2 * 7 + 1] = log(7);
  nsr_space_guide guide = {.log_q = log_q, .rows = 6};
  nsr_space_tree u = {.prog = {4, 3, 1}, .len = 3};
  assert_near(nsr_space_guide_log_q(s, &guide, &u), log(1.0 / 16.0), 1e-12, "log q by context");
  nsr_space_free(s);
}

/* q sums to 1 over every tree of at most max_size symbols (the brute
 * force's list, empty extensions included), for one row and for a row per
 * context, at max_size 3 and 5. */
static void test_guide_q_sums_to_one(void **state) {
  (void)state;
  static const char five_json[] =
      "{\"range\":12,\"max_size\":5,\"lambda\":0.4,\"sigma\":4,\"primitives\":["
      "{\"family\":\"even\"},{\"family\":\"odd\",\"weight\":0.5},{\"family\":\"multiples\",\"args\":[3,4]}],"
      "\"operations\":[{\"family\":\"union\",\"weight\":0.2},{\"family\":\"intersection\",\"weight\":0.2},"
      "{\"family\":\"plus\",\"args\":[1],\"weight\":0.3}]}";
  const char *json[2] = {small_json, five_json};
  for (int v = 0; v < 2; v++) {
    nsr_space *s = space_build(json[v]);
    grammar g = small;
    g.max_size = v ? 5 : 3;
    brute *b = brute_build(&g);
    double log_q[6 * 7];
    for (int k = 0; k < 6 * 7; k++) log_q[k] = sin(1.7 * k) * 2; /* arbitrary, distinct per context */
    for (size_t rows = 1; rows <= 6; rows += 5) {
      nsr_space_guide guide = {.log_q = log_q, .rows = rows};
      double sum = 0.0;
      for (int t = 0; t < b->count; t++) sum += exp(nsr_space_guide_log_q(s, &guide, &b->tree[t]));
      assert_near(sum, 1.0, 1e-12, "q over every tree");
    }
    free(b);
    nsr_space_free(s);
  }
}

/* Guides the samplers refuse: a row count that is neither 1 nor the
 * contexts, a non-finite weight in a later row. */
static void test_guide_bad_rows(void **state) {
  (void)state;
  nsr_space *s = space_build(small_json);
  double log_q[6 * 7] = {0};
  const uint32_t x[] = {4};
  double g[12];
  nsr_mh_report rep;
  nsr_error err;
  nsr_space_guide guide = {.log_q = log_q, .rows = 5};
  nsr_mh_options opt = {.samples = 100, .seed = 1, .guide = &guide};
  assert_int_equal(nsr_space_mh(s, x, 1, &opt, g, &rep, &err), NSR_ERR_INVALID);
  assert_non_null(strstr(err.message, "6 contexts"));
  guide.rows = 6;
  log_q[5 * 7 + 2] = INFINITY;
  assert_int_equal(nsr_space_mh(s, x, 1, &opt, g, &rep, &err), NSR_ERR_RANGE);
  opt.method = NSR_MH_IMPORTANCE;
  assert_int_equal(nsr_space_mh(s, x, 1, &opt, g, &rep, &err), NSR_ERR_RANGE);
  log_q[5 * 7 + 2] = 0.0;
  assert_int_equal(nsr_space_mh(s, x, 1, &opt, g, &rep, &err), NSR_OK);
  nsr_space_free(s);
}

/* ---- guided Metropolis-Hastings -------------------------------------------- */

static const tprod tiny_prods[] = {{'m', 4, 1.0}, {'e', 0, 1.0}, {'o', 0, 1.0}, {'u', 0, 0.3}};
static const char tiny_json[] =
    "{\"range\":12,\"max_size\":3,\"primitives\":[{\"family\":\"multiples\",\"args\":[4]},{\"family\":\"even\"},"
    "{\"family\":\"odd\"}],\"operations\":[{\"family\":\"union\",\"weight\":0.3}]}";
static const grammar tiny = {tiny_prods, 4, 12, 3};
/* A good guide (its mass on multiples of 4, the answer) and a bad one (its
 * mass on odd and union, which explain nothing here). */
static const double tgood_q[4] = {2, 0, -1, -1};
static const double tbad_q[4] = {-2, 0, 2, 2};
/* A bad guide with a row per context (the root, union's two operands):
 * union at the root, odd and even below it. */
static const double tbad_rows[3 * 4] = {-2, 0, 2, 2, -2, 0, 2, -1, -2, 2, 0, -1};


/* The chain, unguided, with a good guide and with bad ones (one row, and a
 * row per context; guide_mix 0.5; half the regenerations drawn from the
 * guide), against the brute force's posterior over extensions, within TV
 * 1e-3 at 10^6 steps (10^5 and 1e-3·sqrt(10) under the sanitizers). The
 * space is tiny and the examples many ({4, 8, 12} ×2, 4, 8: p(multiples
 * of 4) = 0.994) because only there is 1e-3 about 3 sd above a chain's
 * mean TV: over seeds 1..20 the TV had mean 1.9e-4 / 1.0e-4 / 3.6e-4 /
 * 3.5e-4 and sd 1.1e-4 / 0.8e-4 / 2.2e-4 / 2.2e-4 (unguided / good / bad /
 * bad per context), measured, not derived; at 10^7 steps the bad guides'
 * TV fell to 1.2–1.6e-4 (seeds 1..3), as a chain without bias does. A
 * chain that forgot q(t)/q(t') would follow π·q and miss by far more (e^4
 * on the bad guide's favourites). */
static void test_guided_mh_matches_exact(void **state) {
  (void)state;
  nsr_space *s = space_build(tiny_json);
  brute *b = brute_build(&tiny);
  const uint32_t x[] = {4, 8, 12, 4, 8, 12, 4, 8};
  dist exact;
  brute_posterior(b, x, 8, &exact);
  double tol = 1e-3 * sqrt(1e6 / stat_steps());
  nsr_mh_report rep;
  assert_true(guided_tv(s, b, &exact, x, 8, NULL, 1, 0, 1, stat_steps(), &rep) <= tol);
  assert_true(guided_tv(s, b, &exact, x, 8, tgood_q, 1, 0, 1, stat_steps(), &rep) <= tol);
  assert_true(rep.guide_acceptance > 0.3);
  assert_true(guided_tv(s, b, &exact, x, 8, tbad_q, 1, 0.5, 1, stat_steps(), &rep) <= tol);
  assert_true(rep.guide_acceptance < 0.1);
  assert_true(guided_tv(s, b, &exact, x, 8, tbad_rows, 3, 0.5, 1, stat_steps(), &rep) <= tol);
  assert_true(rep.guide_acceptance < 0.1);
  free(b);
  nsr_space_free(s);
}

/* A space worked by hand for importance sampling and proposals: over 1..6,
 * even {2,4,6} and multiples of 3 {3,6} (weight 1 each) and intersection
 * (0.5), trees up to 3 symbols: even, m3, and the four intersections,
 * ∩(even, even) = even, ∩(m3, m3) = m3, ∩(even, m3) = ∩(m3, even) = {6}.
 * So π(even) = π(m3) = 1.5, π({6}) = 1. Given X = {6} the likelihoods are
 * 1/3, 1/2, 1, so p ∝ 0.5, 0.75, 1: p(even) = 2/9, p(m3) = 1/3,
 * p({6}) = 4/9, and g(2) = 2/9, g(3) = 1/3, g(6) = 1. */
static const char hand_json[] =
    "{\"range\": 6, \"max_size\": 3, \"primitives\": [{\"family\": \"even\"}, {\"family\": \"multiples\", "
    "\"args\": [3]}], \"operations\": [{\"family\": \"intersection\", \"weight\": 0.5}]}";
static const double hand_q[3] = {2, -1, 1}; /* a guide far from the prior */

/* Self-normalised importance sampling from the prior and from a guide (no
 * stratum: every tree drawn) is unbiased in the limit: g(2) and g(3) within
 * 5 sd of the hand answer, the sd of a share p estimated with effective
 * sample size ess being sqrt(p(1 − p)/ess) (the delta method for a ratio
 * estimator). */
static void test_importance_matches_hand(void **state) {
  (void)state;
  nsr_space *s = space_build(hand_json);
  nsr_space_guide guide = {.log_q = hand_q, .rows = 1};
  const uint32_t x[] = {6};
  for (int guided = 0; guided < 2; guided++) {
    nsr_mh_options opt = {.samples = (uint64_t)stat_steps(), .seed = 3, .method = NSR_MH_IMPORTANCE,
                          .guide = guided ? &guide : NULL, .stratum = INFINITY};
    nsr_mh_report rep;
    nsr_error err;
    double g[6];
    assert_int_equal(nsr_space_mh(s, x, 1, &opt, g, &rep, &err), NSR_OK);
    assert_true(rep.ess >= 1000.0 && rep.ess <= stat_steps());
    const double p2 = 2.0 / 9.0, p3 = 1.0 / 3.0;
    assert_true(fabs(g[1] - p2) <= 5.0 * sqrt(p2 * (1 - p2) / rep.ess));
    assert_true(fabs(g[2] - p3) <= 5.0 * sqrt(p3 * (1 - p3) / rep.ess));
    assert_true(fabs(g[5] - 1.0) < 1e-12); /* every hypothesis holds 6 */
    assert_true(g[0] == 0.0 && g[4] == 0.0);
  }
  nsr_space_free(s);
}

/* nsr_space_propose on the enumerated hand space: all three extensions are
 * proposed (1000 draws, q ≥ 0.02 for each), rescored to 4/9, 1/3, 2/9,
 * covering the whole posterior; bad inputs refused. */
static void test_propose_rescores_exactly(void **state) {
  (void)state;
  nsr_space *s = space_build(hand_json);
  nsr_error err;
  nsr_space_guide guide = {.log_q = hand_q, .rows = 1};
  const uint32_t x[] = {6};
  nsr_space_proposal top[5];
  nsr_space_proposals out = {.top = top};
  assert_int_equal(nsr_space_propose(s, x, 1, &guide, 1000, 1, 5, &out, &err), NSR_OK);
  assert_int_equal(out.n_top, 3);
  assert_int_equal(out.distinct, 3);
  assert_true(fabs(out.covered - 1.0) < 1e-9);
  double by_size[4] = {0};
  for (size_t i = 0; i < out.n_top; i++) {
    assert_true(top[i].size >= 1 && top[i].size <= 3);
    by_size[top[i].size] = top[i].posterior;
    assert_true(fabs(top[i].restricted - top[i].posterior) < 1e-9);
  }
  assert_true(fabs(by_size[1] - 4.0 / 9.0) < 1e-9);
  assert_true(fabs(by_size[2] - 1.0 / 3.0) < 1e-9);
  assert_true(fabs(by_size[3] - 2.0 / 9.0) < 1e-9);
  assert_int_equal(nsr_space_propose(s, x, 1, NULL, 1000, 1, 5, &out, &err), NSR_ERR_INVALID);
  const uint32_t outside[] = {7};
  assert_int_equal(nsr_space_propose(s, outside, 1, &guide, 1000, 1, 5, &out, &err), NSR_ERR_RANGE);
  assert_int_equal(nsr_space_propose(s, x, 0, &guide, 1000, 1, 5, &out, &err), NSR_ERR_INVALID);
  nsr_space_free(s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_sample_concept_matches_prior),
      cmocka_unit_test(test_sample_examples_uniform),
      cmocka_unit_test(test_trees_by_hand),
      cmocka_unit_test(test_signature),
      cmocka_unit_test(test_guide_log_q_by_hand),
      cmocka_unit_test(test_guide_contexts_by_hand),
      cmocka_unit_test(test_guide_q_sums_to_one),
      cmocka_unit_test(test_guide_bad_rows),
      cmocka_unit_test(test_guided_mh_matches_exact),
      cmocka_unit_test(test_importance_matches_hand),
      cmocka_unit_test(test_propose_rescores_exactly),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
