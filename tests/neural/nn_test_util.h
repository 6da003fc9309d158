/* nn_test_util.h: helpers shared by the neural/ test suites (header-only:
 * each suite is one executable). */
#ifndef NN_TEST_UTIL_H
#define NN_TEST_UTIL_H

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "nsr_neural.h"

/* Reads a whole file into memory freed with nsr_free; fails the test when
 * it cannot. */
static inline unsigned char *nn_read_file(const char *path, size_t *size) {
  FILE *f = fopen(path, "rb");
  if (f == NULL) fail_msg("cannot open '%s'", path);
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  unsigned char *bytes = nsr_malloc(n > 0 ? (size_t)n : 1);
  assert_non_null(bytes);
  assert_int_equal(fread(bytes, 1, (size_t)n, f), (size_t)n);
  fclose(f);
  *size = (size_t)n;
  return bytes;
}

/* Fails the test unless |got - want| <= abs_tol + rel_tol * max|want| for
 * every element; names the first element out of tolerance. */
static inline void nn_assert_close(const char *what, const float *got,
                                   const float *want, size_t n, double abs_tol,
                                   double rel_tol) {
  double max = 0.0;
  for (size_t i = 0; i < n; i++) max = fmax(max, fabs((double)want[i]));
  double tol = abs_tol + rel_tol * max;
  for (size_t i = 0; i < n; i++) {
    double diff = fabs((double)got[i] - (double)want[i]);
    if (!(diff <= tol)) {
      fail_msg("%s[%zu]: got %.9g, want %.9g (|diff| %.3g > tol %.3g)", what,
               i, (double)got[i], (double)want[i], diff, tol);
    }
  }
}

/* A small config used by several suites. */
static inline nsr_nn_config nn_tiny_config(nsr_nn_pos pos, nsr_nn_pool pool,
                                           nsr_nn_head head) {
  return (nsr_nn_config){.vocab = 7, .d_model = 8, .n_heads = 2, .n_layers = 2,
                         .d_ff = 12, .max_len = 5, .n_classes = 3,
                         .pos = pos, .pool = pool, .head = head};
}

#endif
