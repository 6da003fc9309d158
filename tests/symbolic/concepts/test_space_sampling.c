/* test_space_sampling.c: the samplers' internal mechanisms (space.h), each
 * against an answer derived here from its definition: an alias table's
 * draw probabilities summed column by column, unary operations worked by
 * hand, and their preimages. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "nsr_test_util.h"
#include "space.h"

/* The probability an alias table gives entry k: a column is chosen with
 * probability 1/m, then keeps its own entry with probability prob. */
static double alias_mass(const space_alias_col *cols, size_t m, size_t k) {
  double p = 0.0;
  for (size_t i = 0; i < m; i++) p += ((cols[i].entry == k) * cols[i].prob + (cols[i].alias == k) * (1.0 - cols[i].prob)) / (double)m;
  return p;
}

/* Weights with zeros, one dominant entry, near-equal ones and a single
 * positive one: every entry's mass is its share, zeros get none. */
static void test_alias_masses(void **state) {
  (void)state;
  static const double cases[][7] = {
      {1, 2, 3, 4, 5, 6, 7}, {0, 5, 0, 1e-9, 0, 2, 0}, {1e6, 1, 1, 1, 1, 1, 1}, {0, 0, 0, 3, 0, 0, 0},
      {1, 1, 1, 1, 1, 1, 1.0000001},
  };
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
    const double *w = cases[c];
    double total = 0.0;
    space_alias_col cols[7];
    for (size_t k = 0; k < 7; k++) total += w[k];
    size_t m = space_alias_build(w, 7, cols);
    size_t positive = 0;
    for (size_t k = 0; k < 7; k++) positive += w[k] > 0;
    assert_int_equal(m, positive);
    for (size_t k = 0; k < 7; k++) {
      double mass = alias_mass(cols, m, k);
      if (w[k] == 0) assert_true(mass == 0.0);
      else assert_near(mass, w[k] / total, 1e-12, "alias mass");
    }
    /* the extreme draws stay inside the table */
    assert_true(space_alias_draw(cols, m, 0.0) < 7);
    assert_true(w[space_alias_draw(cols, m, nextafter(1.0, 0.0))] > 0);
  }
}

static uint64_t bit(uint32_t y, size_t word) { return y / 64 == word ? UINT64_C(1) << (y % 64) : 0; }

/* The set {ys} over 1..100 as two words. */
static void set_of(const uint32_t *ys, size_t n, uint64_t *w) {
  w[0] = w[1] = 0;
  for (size_t i = 0; i < n; i++) w[0] |= bit(ys[i], 0), w[1] |= bit(ys[i], 1);
}

/* Unary operations on a set across the word boundary, by hand: a = {2, 3,
 * 10, 60, 63, 64, 65, 99}; + 5 = {7, 8, 15, 65, 68, 69, 70} (104 > 100);
 * × 3 = {6, 9, 30} (180 and up > 100); ^2 = {4, 9, 100}. */
static void test_unary_operations(void **state) {
  (void)state;
  static const uint32_t a[] = {2, 3, 10, 60, 63, 64, 65, 99};
  static const struct {
    const char *family;
    uint32_t arg;
    uint32_t want[8];
    size_t n;
  } cases[] = {
      {"plus", 5, {7, 8, 15, 65, 68, 69, 70}, 7}, {"times", 3, {6, 9, 30}, 3}, {"power", 2, {4, 9, 100}, 3}};
  uint64_t in[2], out[2], want[2];
  set_of(a, 8, in);
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
    production p;
    nsr_error err;
    assert_int_equal(space_production_init(&p, space_family_find(cases[c].family), cases[c].arg, 100, &err), NSR_OK);
    space_apply(&p, 100, in, NULL, out, 2);
    set_of(cases[c].want, cases[c].n, want);
    assert_true(out[0] == want[0] && out[1] == want[1]);
  }
}

/* Preimages of unary operations (what a shifted set's operand must hold),
 * by hand: of {1, 5, 64, 70, 100} under + 5: {59, 65, 95} (1 and 5 have no
 * positive preimage); under × 5: {1, 14, 20} (64 is no multiple of 5);
 * under ^2: {1, 8, 10} (5 and 70 are no squares); of {1, 8, 27, 64, 65,
 * 100} under ^3: {1, 2, 3, 4}. */
static void test_unary_preimages(void **state) {
  (void)state;
  static const uint32_t a[] = {1, 5, 64, 70, 100}, cubes[] = {1, 8, 27, 64, 65, 100};
  static const struct {
    const char *family;
    uint32_t arg;
    uint32_t want[4];
    size_t n;
  } cases[] = {{"plus", 5, {59, 65, 95}, 3}, {"times", 5, {1, 14, 20}, 3}, {"power", 2, {1, 8, 10}, 3},
               {"power", 3, {1, 2, 3, 4}, 4}};
  uint64_t in[2], out[2], want[2];
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
    production p;
    nsr_error err;
    assert_int_equal(space_production_init(&p, space_family_find(cases[c].family), cases[c].arg, 100, &err), NSR_OK);
    if (cases[c].arg == 3) set_of(cubes, 6, in);
    else set_of(a, 5, in);
    space_unapply(&p, in, out, 2);
    set_of(cases[c].want, cases[c].n, want);
    assert_true(out[0] == want[0] && out[1] == want[1]);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_alias_masses),
      cmocka_unit_test(test_unary_operations),
      cmocka_unit_test(test_unary_preimages),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
