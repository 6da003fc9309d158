/* space_alias.c: Walker's alias tables (Vose's construction), so the
 * samplers draw a production in O(1) instead of a binary search over a
 * cumulative table (the search's mispredicted branches were most of the
 * time of growing a tree from a guide).
 *
 * The m entries of positive weight are the table's columns; column i
 * holds its entry with probability prob and its alias otherwise (the
 * three side by side, so a draw touches one cache line), so that a uniform column and a uniform threshold draw entry
 * k with probability w_k / Σ w. Zero weights get no column, so rounding
 * can never draw one. */
#include <assert.h>

#include "space.h"

/* Column c holds its own entry alone. */
static void keep_column(space_alias_col *c) {
  c->prob = 1.0;
  c->alias = c->entry;
}

size_t space_alias_build(const double *w, size_t n, space_alias_col *cols) {
  assert(n <= SPACE_MAX_PRODUCTIONS && "an alias table fits its work list");
  size_t m = 0;
  double total = 0.0;
  for (size_t k = 0; k < n; k++) {
    if (w[k] > 0) cols[m++].entry = (uint16_t)k, total += w[k];
  }
  /* Columns below their share 1/m wait on `small` (from the front), the
   * others on `large` (from the back) of one work list. */
  uint16_t work[SPACE_MAX_PRODUCTIONS]; /* every column's index is written before it is read */
  size_t n_small = 0, n_large = 0;
  for (size_t i = 0; i < m; i++) {
    cols[i].prob = w[cols[i].entry] * (double)m / total;
    if (cols[i].prob < 1.0) work[n_small++] = (uint16_t)i;
    else work[m - 1 - n_large++] = (uint16_t)i;
  }
  while (n_small > 0 && n_large > 0) {
    space_alias_col *lo = &cols[work[--n_small]], *hi = &cols[work[m - n_large]];
    lo->alias = hi->entry;
    hi->prob -= 1.0 - lo->prob; /* hi gives lo what it lacks */
    if (hi->prob < 1.0) {
      n_large--;
      work[n_small++] = (uint16_t)(hi - cols);
    }
  }
  /* What is left is 1 up to rounding. */
  for (size_t i = 0; i < n_small; i++) keep_column(&cols[work[i]]);
  for (size_t i = 0; i < n_large; i++) keep_column(&cols[work[m - 1 - i]]);
  return m;
}
