/* test_spaces.c: grammar-defined spaces, checked against derivations made
 * independently of the code under test: counts of expressions and
 * extensions worked out by hand for tiny grammars, a brute-force
 * enumerator written here that builds every expression tree one by one,
 * and Tenenbaum's engine (itself checked against the WebPPL peer), which a
 * space of the 34 rules with pmtk3's rule mass must reproduce. */
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
#include "space.h"

static nsr_space *build(const char *json, bool edges) {
  nsr_space *s = NULL;
  nsr_error err;
  nsr_code rc = nsr_space_from_json(json, strlen(json), "test", edges ? NSR_SPACE_RECORD_EDGES : 0, &s,
                                    &err);
  if (rc != NSR_OK) fail_msg("space: %s", err.message);
  return s;
}

/* ---- hand-derived counts ------------------------------------------------ */

/* even, odd, multiples of 3 over 1..10 with union, intersection and
 * difference, up to 3 symbols. By hand: 3 primitives, 3 × 3 × 3 = 27
 * binary expressions, 30 in all. Distinct non-empty extensions: the 3
 * primitives, all of 1..10 (even ∪ odd), {2,3,4,6,8,9,10}, {1,3,5,6,7,9},
 * {6}, {3,9}, {2,4,8,10}, {1,5,7}: 10. (A − A and even ∩ odd are empty;
 * every other result repeats one of these.) */
static const char tiny[] =
    "{\"range\":10,\"max_size\":3,\"primitives\":[{\"family\":\"even\"},{\"family\":\"odd\"},"
    "{\"family\":\"multiples\",\"args\":[3]}],\"operations\":[{\"family\":\"union\"},"
    "{\"family\":\"intersection\"},{\"family\":\"difference\"}]}";

static void test_tiny_grammar_counts_by_hand(void **state) {
  (void)state;
  nsr_space *s = build(tiny, false);
  assert_int_equal(nsr_space_extensions(s), 10);
  assert_near(nsr_space_expressions(s), 30, 0, "expressions");
  /* With unit weights, π({6}) counts its expressions: even ∩ m3, m3 ∩ even,
   * m3 − odd: 3. π(even) = even, even ∪ even, even ∩ even, even − odd,
   * even − ... : by hand 1 + 1 + 1 + 1 (even − odd) = 4. */
  nsr_bitset set;
  nsr_error err;
  assert_int_equal(nsr_bitset_init(&set, 11, &err), NSR_OK);
  bool seen6 = false, seen_even = false;
  for (size_t e = 0; e < nsr_space_extensions(s); e++) {
    nsr_space_extension_set(s, e, &set);
    size_t n = nsr_bitset_count(&set);
    if (n == 1 && nsr_bitset_has(&set, 6)) {
      assert_near(s->pi[e], 3, 1e-12, "pi({6})");
      seen6 = true;
    }
    if (n == 5 && nsr_bitset_has(&set, 2) && nsr_bitset_has(&set, 10)) {
      assert_near(s->pi[e], 4, 1e-12, "pi(even)");
      seen_even = true;
    }
  }
  assert_true(seen6 && seen_even);
  nsr_bitset_free(&set);
  nsr_space_free(s);
}

/* ---- brute force -------------------------------------------------------- */

/* Every expression tree of a small grammar, built one by one over 1..N
 * (N < 32, extensions as bit masks), with its own set predicates. */
#define BF_MAX 200000
typedef struct bf_expr {
  uint32_t ext;
  double w;
  int size;
} bf_expr;

typedef struct brute {
  uint32_t n;
  bf_expr *exprs; /* every expression with a non-empty extension */
  size_t count;
  double total; /* expressions, top-level empty ones included */
} brute;

static uint32_t bf_prim(const char *fam, uint32_t arg, uint32_t n) {
  uint32_t m = 0;
  for (uint32_t y = 1; y <= n; y++) {
    bool in = strcmp(fam, "even") == 0 ? y % 2 == 0
              : strcmp(fam, "odd") == 0 ? y % 2 == 1
              : strcmp(fam, "multiples") == 0 ? y % arg == 0
              : strcmp(fam, "ends_in") == 0 ? y % 10 == arg
              : false;
    if (in) m |= 1u << y;
  }
  return m;
}

static uint32_t bf_plus(uint32_t a, uint32_t k, uint32_t n) {
  uint32_t m = 0;
  for (uint32_t y = 1; y + k <= n; y++) {
    if (a >> y & 1) m |= 1u << (y + k);
  }
  return m;
}

/* Brute force for: primitives even (w 1), odd (w 2), multiples of 3
 * (w 0.5); union (w 0.3), difference (w 0.2), plus 1 (w 0.1); size ≤ 4.
 * Sub-expressions denoting the empty set are left out, as the space
 * file format specifies. */
static void brute_build(brute *b, uint32_t n) {
  b->n = n;
  b->exprs = calloc(BF_MAX, sizeof *b->exprs);
  b->count = 0;
  b->total = 0;
  size_t start[6] = {0};
  for (int size = 1; size <= 4; size++) {
    start[size] = b->count;
    size_t end_prev = b->count;
#define EMIT(ext_, w_)                                                          \
  do {                                                                          \
    b->total += 1;                                                              \
    if ((ext_) != 0) b->exprs[b->count++] = (bf_expr){(ext_), (w_), size};      \
  } while (0)
    if (size == 1) {
      EMIT(bf_prim("even", 0, n), 1.0);
      EMIT(bf_prim("odd", 0, n), 2.0);
      EMIT(bf_prim("multiples", 3, n), 0.5);
      continue;
    }
    for (size_t i = start[size - 1]; i < end_prev; i++) {
      EMIT(bf_plus(b->exprs[i].ext, 1, n), 0.1 * b->exprs[i].w);
    }
    for (int s1 = 1; s1 <= size - 2; s1++) {
      int s2 = size - 1 - s1;
      for (size_t i = 0; i < end_prev; i++) {
        if (b->exprs[i].size != s1) continue;
        for (size_t j = 0; j < end_prev; j++) {
          if (b->exprs[j].size != s2) continue;
          EMIT(b->exprs[i].ext | b->exprs[j].ext, 0.3 * b->exprs[i].w * b->exprs[j].w);
          EMIT(b->exprs[i].ext & ~b->exprs[j].ext, 0.2 * b->exprs[i].w * b->exprs[j].w);
        }
      }
    }
#undef EMIT
  }
}

static const char brute_space[] =
    "{\"range\":12,\"max_size\":4,\"lambda\":0.3,\"sigma\":4,\"primitives\":["
    "{\"family\":\"even\",\"weight\":1},{\"family\":\"odd\",\"weight\":2},"
    "{\"family\":\"multiples\",\"args\":[3],\"weight\":0.5}],\"operations\":["
    "{\"family\":\"union\",\"weight\":0.3},{\"family\":\"difference\",\"weight\":0.2},"
    "{\"family\":\"plus\",\"args\":[1],\"weight\":0.1}]}";

static uint32_t space_mask(const nsr_space *s, size_t e) {
  nsr_bitset set;
  nsr_error err;
  assert_int_equal(nsr_bitset_init(&set, s->max + 1, &err), NSR_OK);
  nsr_space_extension_set(s, e, &set);
  uint32_t m = 0;
  for (uint32_t y = 1; y <= s->max; y++) {
    if (nsr_bitset_has(&set, y)) m |= 1u << y;
  }
  nsr_bitset_free(&set);
  return m;
}

static void test_enumeration_matches_brute_force(void **state) {
  (void)state;
  brute b;
  brute_build(&b, 12);
  nsr_space *s = build(brute_space, false);
  assert_near(nsr_space_expressions(s), b.total, 0, "expression count");
  /* Every space extension's summed weight equals the brute-force sum over
   * the trees with that extension, and every tree's extension is there. */
  size_t matched = 0;
  for (size_t e = 0; e < nsr_space_extensions(s); e++) {
    uint32_t m = space_mask(s, e);
    double sum = 0;
    int shortest = 99;
    for (size_t i = 0; i < b.count; i++) {
      if (b.exprs[i].ext != m) continue;
      sum += b.exprs[i].w;
      matched++;
      if (b.exprs[i].size < shortest) shortest = b.exprs[i].size;
    }
    assert_near(s->pi[e], sum, 1e-12 * sum, "summed prior");
    assert_int_equal(s->best[e].size, shortest);
  }
  assert_int_equal(matched, b.count);
  free(b.exprs);
  nsr_space_free(s);
}

/* Exact inference against the brute-force trees plus every interval, with
 * the posterior normalised directly in long double. */
/* Brute force over every tree, interval and (with mass mu > 0) the
 * similarity hypothesis, written from the definitions: g[1..12] and the
 * evidence z for X = {3, 9}. */
static void brute_posterior(const brute *b, double mu, double sim_tau, long double *g, long double *z) {
  const double lambda = 0.3, sigma = 4;
  long double zg = 0, zi = 0;
  for (size_t i = 0; i < b->count; i++) zg += b->exprs[i].w;
  for (uint32_t lo = 1; lo <= 12; lo++) {
    for (uint32_t hi = lo; hi <= 12; hi++) {
      double k = hi - lo + 1;
      zi += k / (sigma * sigma) * exp(-k / sigma);
    }
  }
  *z = 0;
  for (uint32_t y = 0; y <= 12; y++) g[y] = 0;
  for (size_t i = 0; i < b->count; i++) { /* each tree: its own term */
    uint32_t m = b->exprs[i].ext;
    if (!(m >> 3 & 1) || !(m >> 9 & 1)) continue;
    int size = __builtin_popcount(m);
    long double w = (1 - mu) * lambda * b->exprs[i].w / zg / ((long double)size * size);
    *z += w;
    for (uint32_t y = 1; y <= 12; y++) if (m >> y & 1) g[y] += w;
  }
  for (uint32_t lo = 1; lo <= 3; lo++) {
    for (uint32_t hi = 9; hi <= 12; hi++) {
      double k = hi - lo + 1;
      long double w = (1 - mu) * (1 - lambda) * k / (sigma * sigma) * exp(-k / sigma) / zi / (k * k);
      *z += w;
      for (uint32_t y = lo; y <= hi; y++) g[y] += w;
    }
  }
  if (mu == 0) return;
  /* S: membership exp(−d/τ), d to the nearer of 3 and 9; soft size M. */
  double member[13], soft = 0;
  for (uint32_t y = 1; y <= 12; y++) {
    double d = fmin(fabs(y - 3.0), fabs(y - 9.0));
    member[y] = exp(-d / sim_tau);
    soft += member[y];
  }
  long double w = mu / ((long double)soft * soft);
  *z += w;
  for (uint32_t y = 1; y <= 12; y++) g[y] += w * member[y];
}

static void test_inference_matches_brute_force(void **state) {
  (void)state;
  brute b;
  brute_build(&b, 12);
  nsr_space *s = build(brute_space, false);
  const uint32_t x[] = {3, 9};
  const double masses[] = {0, 0.25};
  for (int t = 0; t < 2; t++) {
    nsr_space_params p = nsr_space_get_params(s);
    p.sim_mass = masses[t];
    p.sim_tau = 3;
    nsr_error err;
    assert_int_equal(nsr_space_set_params(s, &p, &err), NSR_OK);
    long double g[13], z;
    brute_posterior(&b, p.sim_mass, p.sim_tau, g, &z);
    nsr_numbers_result r = {0};
    assert_int_equal(nsr_space_infer(s, x, 2, 200, &r, &err), NSR_OK);
    for (uint32_t y = 1; y <= 12; y++) assert_near(r.generalization[y - 1], (double)(g[y] / z), 1e-12, "g(y)");
    assert_near(r.log_evidence, (double)logl(z), 1e-10, "log evidence");
    bool listed = false;
    for (size_t i = 0; i < r.n_top; i++) {
      char name[NSR_SPACE_NAME_MAX];
      nsr_space_hypothesis_name(s, &r.top[i], name, sizeof name);
      listed = listed || strstr(name, "similar to the examples") != NULL;
    }
    assert_int_equal(listed, p.sim_mass > 0);
    nsr_numbers_result_free(&r);
  }
  nsr_space_params p = nsr_space_get_params(s);
  p.sim_mass = 1;
  nsr_error err;
  assert_int_equal(nsr_space_set_params(s, &p, &err), NSR_ERR_RANGE);
  p.sim_mass = 0.1;
  p.sim_tau = 0;
  assert_int_equal(nsr_space_set_params(s, &p, &err), NSR_ERR_RANGE);
  free(b.exprs);
  nsr_space_free(s);
}

/* ---- Tenenbaum's space -------------------------------------------------- */

/* pmtk3 gives each rule 2/3 and each interval (1/3)·Erlang(|h|; σ); as a
 * mixture, the rules' share is λ = 34·(2/3) / (34·(2/3) + Z_I/3). */
static void test_tenenbaum_space_equals_engine(void **state) {
  (void)state;
  double zi = 0;
  for (int k = 1; k <= 100; k++) zi += (101 - k) * k / 100.0 * exp(-k / 10.0);
  double lambda = 34 * (2.0 / 3) / (34 * (2.0 / 3) + zi / 3);
  char json[1024];
  snprintf(json, sizeof json,
           "{\"range\":100,\"max_size\":1,\"lambda\":%.17g,\"sigma\":10,\"primitives\":["
           "{\"family\":\"even\"},{\"family\":\"odd\"},{\"family\":\"squares\"},{\"family\":\"cubes\"},"
           "{\"family\":\"primes\"},{\"family\":\"multiples\",\"args\":[3,4,5,6,7,8,9,10,11,12]},"
           "{\"family\":\"powers\",\"args\":[2,3,4,5,6,7,8,9,10]},"
           "{\"family\":\"ends_in\",\"args\":[0,1,2,3,4,5,6,7,8,9]}]}", lambda);
  nsr_space *s = build(json, false);
  /* multiples of 10 and ends in 0 coincide over 1..100: 33 extensions. */
  assert_int_equal(nsr_space_extensions(s), 33);
  nsr_numbers_config cfg;
  nsr_numbers_config_default(&cfg);
  nsr_numbers *engine;
  nsr_error err;
  assert_int_equal(nsr_numbers_new(&cfg, &engine, &err), NSR_OK);
  const uint32_t sets[][4] = {{16, 0}, {60, 0}, {16, 8, 2, 64}, {60, 52, 57, 55}, {81, 25, 4, 36}, {98, 81, 86, 93}};
  const size_t lens[] = {1, 1, 4, 4, 4, 4};
  nsr_numbers_result a = {0}, b = {0};
  for (size_t i = 0; i < 6; i++) {
    assert_int_equal(nsr_numbers_infer(engine, sets[i], lens[i], 3, &a, &err), NSR_OK);
    assert_int_equal(nsr_space_infer(s, sets[i], lens[i], 3, &b, &err), NSR_OK);
    for (uint32_t y = 0; y < 100; y++) assert_near(b.generalization[y], a.generalization[y], 1e-9, "g");
    assert_near(b.log_evidence, a.log_evidence, 1e-9, "log evidence");
    /* The engine's best hypothesis is among the space's best three with the
     * same posterior (the space's first may be multiples of 10 = ends in 0,
     * one extension holding both rules' mass). */
    char want[NSR_NUMBERS_NAME_MAX], got[NSR_SPACE_NAME_MAX];
    nsr_numbers_hypothesis_name(&a.top[0], want, sizeof want);
    bool found = false;
    for (size_t k = 0; k < b.n_top && !found; k++) {
      nsr_space_hypothesis_name(s, &b.top[k], got, sizeof got);
      if (strcmp(got, want) == 0) {
        assert_near(b.top[k].posterior, a.top[0].posterior, 1e-9, "posterior of the engine's best");
        found = true;
      }
    }
    if (!found) fail_msg("'%s' is not among the space's best", want);
  }
  nsr_numbers_result_free(&a);
  nsr_numbers_result_free(&b);
  nsr_numbers_free(engine);
  nsr_space_free(s);
}

/* ---- descriptions and limits -------------------------------------------- */

static void test_shortest_descriptions(void **state) {
  (void)state;
  nsr_space *s = build(
      "{\"range\":100,\"max_size\":3,\"primitives\":[{\"family\":\"powers\",\"args\":[2]},"
      "{\"family\":\"squares\"},{\"family\":\"ends_in\",\"args\":[5]}],"
      "\"operations\":[{\"family\":\"intersection\"},{\"family\":\"plus\",\"args\":[1]}]}", false);
  const uint32_t x[] = {4, 16, 64};
  nsr_numbers_result r = {0};
  nsr_error err;
  assert_int_equal(nsr_space_infer(s, x, 3, 2, &r, &err), NSR_OK);
  char name[NSR_SPACE_NAME_MAX];
  nsr_space_hypothesis_name(s, &r.top[0], name, sizeof name);
  /* {4, 16, 64} = powers of 2 ∩ squares, the only extension this small. */
  assert_string_equal(name, "powers of 2 and squares");
  /* {17}: powers of 2 + 1 = {3, 5, 9, 17, 33, 65} is the smallest set
   * containing 17 (squares + 1 has 9 members). */
  const uint32_t y[] = {17};
  assert_int_equal(nsr_space_infer(s, y, 1, 1, &r, &err), NSR_OK);
  nsr_space_hypothesis_name(s, &r.top[0], name, sizeof name);
  assert_string_equal(name, "powers of 2 + 1");
  nsr_numbers_result_free(&r);
  nsr_space_free(s);
}

/* Magnitude bounds restrict rules: by hand, {3, 7, 41} is in odd ∩ up to
 * 50 (25 members) and {91, 93} in odd ∩ from 90 (5: 91..99), each the
 * smallest consistent extension; up to 50 itself has 50 members. */
static void test_magnitude_bounds(void **state) {
  (void)state;
  nsr_space *s = build(
      "{\"range\":100,\"max_size\":3,\"primitives\":[{\"family\":\"odd\"},"
      "{\"family\":\"up_to\",\"args\":[50]},{\"family\":\"from\",\"args\":[90]}],"
      "\"operations\":[{\"family\":\"intersection\"}]}", false);
  const uint32_t x[] = {3, 7, 41}, y[] = {91, 93};
  nsr_numbers_result r = {0};
  nsr_error err;
  char name[NSR_SPACE_NAME_MAX];
  assert_int_equal(nsr_space_infer(s, x, 3, 1, &r, &err), NSR_OK);
  nsr_space_hypothesis_name(s, &r.top[0], name, sizeof name);
  assert_string_equal(name, "odd and up to 50");
  /* Even 50 has only "up to 50" and intervals; odd 49 also the rule. */
  assert_true(r.generalization[49 - 1] > r.generalization[50 - 1] + 0.3);
  assert_int_equal(nsr_space_infer(s, y, 2, 1, &r, &err), NSR_OK);
  nsr_space_hypothesis_name(s, &r.top[0], name, sizeof name);
  assert_string_equal(name, "odd and from 90");
  nsr_numbers_result_free(&r);
  nsr_space_free(s);
}

static void test_bad_descriptions(void **state) {
  (void)state;
  static const struct { const char *json; const char *message; } cases[] = {
      {"{\"primitives\":[]}", "\"primitives\" must be a non-empty array"},
      {"{\"primitives\":[{\"family\":\"nope\"}]}", "unknown primitive family 'nope'"},
      {"{\"primitives\":[{\"family\":\"union\"}]}", "unknown primitive family 'union'"},
      {"{\"primitives\":[{\"family\":\"multiples\"}]}", "needs \"args\""},
      {"{\"primitives\":[{\"family\":\"even\",\"weight\":0}]}", "weight must be a positive number"},
      {"{\"primitives\":[{\"family\":\"ends_in\",\"args\":[12]}]}", "argument 12 is outside"},
      {"{\"range\":0,\"primitives\":[{\"family\":\"even\"}]}", "\"range\" 0 must lie in"},
      {"{\"lambda\":1,\"primitives\":[{\"family\":\"even\"}]}", "lambda 1 must lie in (0, 1)"},
      {"{\"primitives\":[{\"family\":\"even\"},{\"family\":\"even\"}]}", "listed twice"},
      {"{\"max_extensions\":2,\"max_size\":3,\"primitives\":[{\"family\":\"even\"},{\"family\":\"odd\"}],"
       "\"operations\":[{\"family\":\"union\"}]}", "more than 2 distinct extensions"},
      {"[1]", "must be a JSON object"},
      {"{", "JSON at line 1"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    nsr_space *s = (nsr_space *)1;
    nsr_error err;
    nsr_code rc = nsr_space_from_json(cases[i].json, strlen(cases[i].json), "bad.json", false, &s, &err);
    if (rc == NSR_OK) fail_msg("case %zu accepted", i);
    assert_null(s);
    if (strstr(err.message, cases[i].message) == NULL || strstr(err.message, "bad.json") == NULL) {
      fail_msg("case %zu: message '%s' lacks '%s'", i, err.message, cases[i].message);
    }
  }
}

static void test_allocation_failures_are_clean(void **state) {
  (void)state;
  for (uint64_t n = 1; n < 400; n++) {
    nsr_alloc_fail_after(n);
    nsr_space *s = NULL;
    nsr_error err;
    nsr_code rc = nsr_space_from_json(brute_space, strlen(brute_space), "t", NSR_SPACE_RECORD_EDGES, &s, &err);
    nsr_alloc_fail_reset();
    if (rc == NSR_OK) {
      nsr_space_free(s);
      return;
    }
    assert_int_equal(rc, NSR_ERR_NOMEM);
  }
  fail_msg("the space never built");
}

/* Metropolis-Hastings over trees against the exact grammar component: the
 * enumeration's π (itself checked against brute force above) with the size
 * principle, normalised over the consistent extensions. */
static void test_mh_converges_to_exact(void **state) {
  (void)state;
  nsr_space *s = build(brute_space, false);
  const uint32_t x[] = {3};
  uint64_t mask[1] = {UINT64_C(1) << 3};
  double exact[13] = {0}, z = 0;
  for (size_t e = 0; e < s->n_ext; e++) {
    if ((s->bits[e] & mask[0]) != mask[0]) continue;
    double w = s->pi[e] / s->ext_size[e];
    z += w;
    for (uint32_t y = 1; y <= 12; y++) {
      if (s->bits[e] >> y & 1) exact[y] += w;
    }
  }
  double g[12];
  nsr_mh_options opt = {.samples = 400000, .burn_in = 1000, .seed = 7};
  nsr_mh_report rep;
  nsr_error err;
  assert_int_equal(nsr_space_mh(s, x, 1, &opt, g, &rep, &err), NSR_OK);
  for (uint32_t y = 1; y <= 12; y++) assert_near(g[y - 1], exact[y] / z, 0.01, "MH estimate of g(y)");
  assert_true(rep.acceptance > 0.01 && rep.acceptance < 1 && rep.samples_per_second > 0);
  const uint32_t bad[] = {13};
  assert_int_equal(nsr_space_mh(s, bad, 1, &opt, g, &rep, &err), NSR_ERR_RANGE);
  nsr_space_free(s);
  /* Without enumeration ("enumerate": false, or NSR_SPACE_GRAMMAR_ONLY for
   * any space), sampling still works, draw for draw as on the enumerated
   * space, and exact inference says why it cannot run. */
  double g_enumerated[12];
  assert_int_equal(nsr_space_mh(s = build(brute_space, false), x, 1, &opt, g_enumerated, &rep, &err),
                   NSR_OK);
  nsr_space_free(s);
  char json[sizeof brute_space + 32];
  snprintf(json, sizeof json, "{\"enumerate\":false,%s", brute_space + 1);
  nsr_space *unenumerated[2] = {build(json, false), NULL};
  assert_int_equal(nsr_space_from_json(brute_space, strlen(brute_space), "t", NSR_SPACE_GRAMMAR_ONLY,
                                       &unenumerated[1], &err),
                   NSR_OK);
  for (int i = 0; i < 2; i++) {
    s = unenumerated[i];
    assert_int_equal(nsr_space_extensions(s), 0);
    assert_int_equal(nsr_space_mh(s, x, 1, &opt, g, &rep, &err), NSR_OK);
    assert_memory_equal(g, g_enumerated, sizeof g);
    nsr_numbers_result r = {0};
    assert_int_equal(nsr_space_infer(s, x, 1, 1, &r, &err), NSR_ERR_INVALID);
    assert_non_null(strstr(err.message, "not enumerated"));
    nsr_numbers_result_free(&r);
    nsr_space_free(s);
  }
}

/* The visit counts: the most visited extensions' shares sum to at most 1,
 * are in order, and the top one is the exact grammar posterior's top one
 * (nsr_space_infer_grammar, whose posterior it estimates). Running out of
 * memory anywhere fails cleanly. */
static void test_mh_visits(void **state) {
  (void)state;
  nsr_space *s = build(brute_space, false);
  const uint32_t x[] = {3, 9};
  nsr_mh_visit top[4];
  nsr_mh_options opt = {.samples = 200000, .burn_in = 1000, .seed = 5, .top_k = 4, .top = top};
  nsr_mh_report rep;
  nsr_error err;
  double g[12];
  assert_int_equal(nsr_space_mh(s, x, 2, &opt, g, &rep, &err), NSR_OK);
  assert_int_equal(rep.n_top, 4);
  assert_true(rep.distinct >= rep.n_top);
  double sum = 0;
  for (size_t i = 0; i < rep.n_top; i++) {
    sum += top[i].posterior;
    if (i > 0) assert_true(top[i].posterior <= top[i - 1].posterior);
  }
  assert_true(sum <= 1.0 + 1e-12);
  nsr_numbers_result r = {0};
  assert_int_equal(nsr_space_infer_grammar(s, x, 2, 1, &r, &err), NSR_OK);
  char name[NSR_SPACE_NAME_MAX];
  nsr_space_hypothesis_name(s, &r.top[0], name, sizeof name);
  assert_string_equal(top[0].name, name);
  assert_near(top[0].posterior, r.top[0].posterior, 0.02, "MH share of the top hypothesis");
  assert_int_equal(r.consistent_intervals, 0);
  for (uint64_t n = 1; n < 64; n++) {
    nsr_alloc_fail_after(n);
    nsr_code rc = nsr_space_mh(s, x, 2, &opt, g, &rep, &err);
    nsr_alloc_fail_reset();
    assert_true(rc == NSR_OK || rc == NSR_ERR_NOMEM);
    if (rc == NSR_OK) break;
  }
  nsr_space_free(s);
  /* Only intervals hold an odd number when the grammar is "even" alone. */
  s = build("{\"range\":12,\"primitives\":[{\"family\":\"even\"}]}", false);
  assert_int_equal(nsr_space_infer_grammar(s, x, 1, 1, &r, &err), NSR_ERR_INVALID);
  assert_non_null(strstr(err.message, "no grammar hypothesis"));
  assert_int_equal(nsr_space_infer(s, x, 1, 1, &r, &err), NSR_OK);
  nsr_numbers_result_free(&r);
  nsr_space_free(s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_tiny_grammar_counts_by_hand),
      cmocka_unit_test(test_enumeration_matches_brute_force),
      cmocka_unit_test(test_inference_matches_brute_force),
      cmocka_unit_test(test_tenenbaum_space_equals_engine),
      cmocka_unit_test(test_shortest_descriptions),
      cmocka_unit_test(test_magnitude_bounds),
      cmocka_unit_test(test_bad_descriptions),
      cmocka_unit_test(test_allocation_failures_are_clean),
      cmocka_unit_test(test_mh_converges_to_exact),
      cmocka_unit_test(test_mh_visits),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
