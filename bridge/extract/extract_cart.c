/* extract_cart.c: a CART decision tree (Breiman et al. 1984; Gini impurity,
 * binary splits at midpoints between distinct values) grown over
 * activations, read off leaf by leaf as rules. */
#include <stdlib.h>
#include <string.h>

#include "nsr_extract.h"

#define CART_MAX_DEPTH 32

typedef struct cart {
  const float *x;
  int n_features;
  const int32_t *y;
  int n_labels;
  int max_depth;
  uint32_t *order;    /* inputs; each node owns a contiguous range */
  nsr_ranked *sorted; /* scratch: one feature's values in a node, with input */
  uint32_t *left, *right; /* scratch: label counts */
  nsr_cart_rule *rules;
  size_t n_rules, cap;
  nsr_cart_rule path; /* conditions from the root to the current node */
} cart;

/* n * Gini impurity of a node with these counts: n - sum(c^2)/n. */
static double weighted_gini(double sumsq, uint32_t n) { return n ? n - sumsq / n : 0; }

/* The best split of order[lo, hi): feature and threshold minimising the
 * children's weighted impurity; false when nothing lowers the node's. */
static bool best_split(cart *t, uint32_t lo, uint32_t hi, int *feature, float *threshold) {
  uint32_t n = hi - lo;
  memset(t->right, 0, (size_t)t->n_labels * sizeof *t->right);
  double sumsq = 0;
  for (uint32_t i = lo; i < hi; i++) {
    uint32_t c = t->right[t->y[t->order[i]]]++;
    sumsq += 2.0 * c + 1;
  }
  double best = weighted_gini(sumsq, n) - 1e-9;
  bool found = false;
  for (int f = 0; f < t->n_features; f++) {
    for (uint32_t i = lo; i < hi; i++) {
      uint32_t in = t->order[i];
      t->sorted[i - lo] = (nsr_ranked){t->x[(size_t)in * t->n_features + f], in};
    }
    qsort(t->sorted, n, sizeof *t->sorted, nsr_ranked_compare);
    if (t->sorted[0].value == t->sorted[n - 1].value) continue;
    memset(t->left, 0, (size_t)t->n_labels * sizeof *t->left);
    for (uint32_t i = lo; i < hi; i++) t->right[t->y[t->order[i]]] = 0;
    for (uint32_t i = lo; i < hi; i++) t->right[t->y[t->order[i]]]++;
    double sq_left = 0, sq_right = sumsq;
    for (uint32_t k = 1; k < n; k++) {
      int32_t label = t->y[t->sorted[k - 1].x];
      /* Moving one input of `label` left: (c+1)^2 - c^2 = 2c + 1. */
      sq_left += 2.0 * t->left[label]++ + 1;
      sq_right -= 2.0 * --t->right[label] + 1;
      if (t->sorted[k - 1].value == t->sorted[k].value) continue;
      double g = weighted_gini(sq_left, k) + weighted_gini(sq_right, n - k);
      if (g < best) {
        best = g;
        found = true;
        *feature = f;
        *threshold = (t->sorted[k - 1].value + t->sorted[k].value) / 2;
        /* Floats: the midpoint of two neighbours may round onto the upper
         * one, which would then fall on the wrong side. */
        if (!(*threshold < t->sorted[k].value)) *threshold = t->sorted[k - 1].value;
      }
    }
  }
  return found;
}

static nsr_code add_leaf(cart *t, uint32_t lo, uint32_t hi, nsr_error *err) {
  if (t->n_rules == t->cap) {
    size_t cap = t->cap ? 2 * t->cap : 16;
    nsr_cart_rule *grown = nsr_reallocarray(t->rules, cap, sizeof *grown);
    if (grown == NULL) return nsr_fail(err, NSR_ERR_NOMEM, "CART: out of memory");
    t->rules = grown;
    t->cap = cap;
  }
  memset(t->left, 0, (size_t)t->n_labels * sizeof *t->left);
  int label = t->y[t->order[lo]];
  for (uint32_t i = lo; i < hi; i++) {
    int32_t c = t->y[t->order[i]];
    t->left[c]++;
    /* Ties go to the smaller label, so the tree does not depend on order. */
    if (t->left[c] > t->left[label] || (t->left[c] == t->left[label] && c < label)) label = c;
  }
  nsr_cart_rule *r = &t->rules[t->n_rules++];
  *r = t->path;
  r->label = label;
  r->covered = hi - lo;
  r->agree = t->left[label];
  r->members_first = lo;
  return NSR_OK;
}

static nsr_code grow(cart *t, uint32_t lo, uint32_t hi, int depth, nsr_error *err) {
  int feature;
  float threshold;
  if (depth >= t->max_depth || hi - lo < 2 || !best_split(t, lo, hi, &feature, &threshold)) {
    return add_leaf(t, lo, hi, err);
  }
  /* Partition: inputs at or below the threshold first. */
  uint32_t mid = lo;
  for (uint32_t i = lo; i < hi; i++) {
    uint32_t in = t->order[i];
    if (t->x[(size_t)in * t->n_features + feature] <= threshold) {
      t->order[i] = t->order[mid];
      t->order[mid++] = in;
    }
  }
  int k = t->path.n_conds++;
  t->path.feature[k] = feature;
  t->path.threshold[k] = threshold;
  for (int side = 0; side < 2; side++) {
    t->path.above[k] = side == 1;
    nsr_code rc = side == 0 ? grow(t, lo, mid, depth + 1, err) : grow(t, mid, hi, depth + 1, err);
    if (rc != NSR_OK) return rc;
  }
  t->path.n_conds--;
  return NSR_OK;
}

nsr_code nsr_cart_grow(const float *x, int n_features, const int32_t *y, int n_labels, uint32_t n,
                       int max_depth, nsr_cart_rule **rules, size_t *n_rules, uint32_t *order,
                       nsr_error *err) {
  *rules = NULL;
  *n_rules = 0;
  if (n == 0 || n_labels < 1 || max_depth < 0 || max_depth > CART_MAX_DEPTH) {
    return nsr_fail(err, NSR_ERR_INVALID, "CART: needs inputs, labels and a depth in 0..%d",
                    CART_MAX_DEPTH);
  }
  cart t = {.x = x, .n_features = n_features, .y = y, .n_labels = n_labels,
            .max_depth = max_depth, .order = order};
  t.sorted = nsr_mallocarray(n, sizeof *t.sorted);
  t.left = nsr_mallocarray((size_t)n_labels, sizeof *t.left);
  t.right = nsr_mallocarray((size_t)n_labels, sizeof *t.right);
  nsr_code rc = NSR_OK;
  if (t.sorted == NULL || t.left == NULL || t.right == NULL) {
    rc = nsr_fail(err, NSR_ERR_NOMEM, "CART: out of memory");
  } else {
    for (uint32_t i = 0; i < n; i++) order[i] = i;
    rc = grow(&t, 0, n, 0, err);
  }
  nsr_free(t.sorted);
  nsr_free(t.left);
  nsr_free(t.right);
  if (rc != NSR_OK) {
    nsr_free(t.rules);
    return rc;
  }
  *rules = t.rules;
  *n_rules = t.n_rules;
  return NSR_OK;
}
