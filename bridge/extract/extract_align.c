/* extract_align.c: unit-concept alignment and linear probes over the
 * enumerated domain 1..N. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nsr_extract.h"

int nsr_ranked_compare(const void *a, const void *b) {
  const nsr_ranked *p = a, *q = b;
  if (p->value != q->value) return p->value < q->value ? -1 : 1;
  return p->x < q->x ? -1 : p->x > q->x;
}

/* Balanced accuracy is the selection score because plain agreement would
 * favour tiny concepts: a unit that never fires agrees with "powers of 7"
 * on 98 of 100 numbers. */
bool nsr_align_unit(const float *values, size_t stride, const nsr_concept_library *lib,
                    uint32_t min_size, nsr_ranked *ranked, nsr_alignment *out) {
  uint32_t n = lib->max;
  for (uint32_t x = 1; x <= n; x++) ranked[x - 1] = (nsr_ranked){values[(x - 1) * stride], x};
  qsort(ranked, n, sizeof *ranked, nsr_ranked_compare);
  if (n < 2 || ranked[0].value == ranked[n - 1].value) return false;
  bool found = false;
  double best = -1.0;
  for (size_t c = 0; c < lib->n; c++) {
    const nsr_concept *con = &lib->items[c];
    if (con->size < min_size || n - con->size < min_size) continue;
    double size = con->size, rest = (double)n - con->size;
    uint32_t in_below = 0;
    for (uint32_t i = 1; i < n; i++) {
      in_below += nsr_bitset_has(&con->extension, ranked[i - 1].x);
      if (ranked[i - 1].value == ranked[i].value) continue;
      /* Firing above the cut: true positives size - in_below, true
       * negatives i - in_below; firing below swaps both. */
      double bacc = ((size - in_below) / size + (i - in_below) / rest) / 2;
      bool above = bacc >= 0.5;
      double score = above ? bacc : 1 - bacc;
      if (score <= best) continue;
      best = score;
      found = true;
      double agree = (double)i + size - 2.0 * in_below;
      uint32_t fires = above ? n - i : i;
      double tp = above ? size - in_below : in_below;
      *out = (nsr_alignment){.concept = c,
                             .threshold = ((double)ranked[i - 1].value + ranked[i].value) / 2,
                             .above = above,
                             .fidelity = (above ? agree : n - agree) / n,
                             .balanced_accuracy = score,
                             .precision = tp / fires,
                             .recall = tp / size,
                             .fires = fires};
    }
  }
  return found;
}

/* ---- linear probes ----------------------------------------------------- */

/* In-place Cholesky factor L (lower) of the SPD matrix a (n x n). */
static bool cholesky(double *a, int n) {
  for (int j = 0; j < n; j++) {
    double d = a[j * n + j];
    for (int k = 0; k < j; k++) d -= a[j * n + k] * a[j * n + k];
    if (!(d > 0)) return false;
    d = sqrt(d);
    a[j * n + j] = d;
    for (int i = j + 1; i < n; i++) {
      double s = a[i * n + j];
      for (int k = 0; k < j; k++) s -= a[i * n + k] * a[j * n + k];
      a[i * n + j] = s / d;
    }
  }
  return true;
}

/* Solves L L^T z = b in place. */
static void cholesky_solve(const double *l, int n, double *b) {
  for (int i = 0; i < n; i++) {
    double s = b[i];
    for (int k = 0; k < i; k++) s -= l[i * n + k] * b[k];
    b[i] = s / l[i * n + i];
  }
  for (int i = n - 1; i >= 0; i--) {
    double s = b[i];
    for (int k = i + 1; k < n; k++) s -= l[k * n + i] * b[k];
    b[i] = s / l[i * n + i];
  }
}

/* One fold's kernel problem: training inputs `train` (nt), test inputs
 * `test` (ns). Fills k (nt x nt, factored) and ks (ns x nt). */
typedef struct fold_work {
  const uint32_t *train, *test;
  int nt, ns;
  double *k, *ks, *mean, *alpha;
} fold_work;

static bool fold_kernel(const float *x, int width, double ridge, fold_work *w) {
  memset(w->mean, 0, (size_t)width * sizeof *w->mean);
  for (int i = 0; i < w->nt; i++) {
    for (int j = 0; j < width; j++) w->mean[j] += x[(size_t)w->train[i] * width + j];
  }
  for (int j = 0; j < width; j++) w->mean[j] /= w->nt;
  double trace = 0;
  for (int a = 0; a < w->nt + w->ns; a++) {
    const float *xa = x + (size_t)(a < w->nt ? w->train[a] : w->test[a - w->nt]) * width;
    for (int b = 0; b < w->nt; b++) {
      const float *xb = x + (size_t)w->train[b] * width;
      double s = 0;
      for (int j = 0; j < width; j++) s += (xa[j] - w->mean[j]) * (xb[j] - w->mean[j]);
      if (a < w->nt) w->k[a * w->nt + b] = s;
      else w->ks[(a - w->nt) * w->nt + b] = s;
    }
    if (a < w->nt) trace += w->k[a * w->nt + a];
  }
  /* The penalty scales with the features' energy, so one setting serves
   * every site whatever its activation scale. */
  double lambda = ridge * (trace > 0 ? trace / w->nt : 1.0);
  for (int a = 0; a < w->nt; a++) w->k[a * w->nt + a] += lambda;
  return cholesky(w->k, w->nt);
}

/* Test-set hits of the kernel ridge classifier for labels in {-1, +1}. */
static int fold_hits(fold_work *w, const nsr_bitset *set, const uint32_t *relabel) {
  double ybar = 0;
  for (int i = 0; i < w->nt; i++) {
    w->alpha[i] = nsr_bitset_has(set, relabel[w->train[i]] + 1) ? 1.0 : -1.0;
    ybar += w->alpha[i];
  }
  ybar /= w->nt;
  for (int i = 0; i < w->nt; i++) w->alpha[i] -= ybar;
  cholesky_solve(w->k, w->nt, w->alpha);
  int hits = 0;
  for (int s = 0; s < w->ns; s++) {
    double pred = ybar;
    for (int i = 0; i < w->nt; i++) pred += w->ks[s * w->nt + i] * w->alpha[i];
    bool member = nsr_bitset_has(set, relabel[w->test[s]] + 1);
    hits += (pred > 0) == member;
  }
  return hits;
}

static void shuffle(uint32_t *a, uint32_t n, nsr_rng *rng) {
  for (uint32_t i = n; i > 1; i--) {
    uint32_t j = (uint32_t)nsr_rng_below(rng, i), t = a[i - 1];
    a[i - 1] = a[j];
    a[j] = t;
  }
}

nsr_code nsr_probe_site(const float *x, int width, const nsr_concept_library *lib,
                        const nsr_extract_opts *opts, double *acc, double *control,
                        nsr_error *err) {
  uint32_t n = lib->max;
  int folds = opts->probe_folds < (int)n ? opts->probe_folds : (int)n;
  if (folds < 2) return nsr_fail(err, NSR_ERR_INVALID, "probes need at least 2 folds and 2 inputs");
  uint32_t *order = nsr_mallocarray(4 * (size_t)n, sizeof *order);
  double *buf = nsr_mallocarray((size_t)n * n + (size_t)n * n + width + n, sizeof *buf);
  if (order == NULL || buf == NULL) {
    nsr_free(order);
    nsr_free(buf);
    return nsr_fail(err, NSR_ERR_NOMEM, "probes: out of memory");
  }
  /* order: the fold assignment; identity and control: input -> whose
   * label it gets. The control task keeps every concept's label counts and
   * breaks any link to the input (Hewitt & Liang's control, on types). */
  uint32_t *identity = order + n, *shuffled = order + 2 * (size_t)n;
  for (uint32_t i = 0; i < n; i++) order[i] = identity[i] = shuffled[i] = i;
  nsr_rng rng;
  nsr_rng_seed(&rng, opts->seed);
  shuffle(order, n, &rng);
  shuffle(shuffled, n, &rng);
  for (size_t c = 0; c < lib->n; c++) acc[c] = control[c] = 0;
  nsr_code rc = NSR_OK;
  for (int f = 0; f < folds && rc == NSR_OK; f++) {
    /* Fold f tests the positions p with p % folds == f: its test inputs
     * follow its training inputs in `part`. */
    uint32_t *part = order + 3 * (size_t)n;
    int nt = 0, ns = 0;
    for (uint32_t p = 0; p < n; p++) if ((int)(p % folds) != f) part[nt++] = order[p];
    for (uint32_t p = 0; p < n; p++) if ((int)(p % folds) == f) part[nt + ns++] = order[p];
    fold_work w = {part, part + nt, nt, ns, buf, buf + (size_t)n * n,
                   buf + 2 * (size_t)n * n, buf + 2 * (size_t)n * n + width};
    if (!fold_kernel(x, width, opts->probe_ridge, &w)) {
      rc = nsr_fail(err, NSR_ERR_INTERNAL, "probe kernel is not positive definite");
      break;
    }
    for (size_t c = 0; c < lib->n; c++) {
      acc[c] += fold_hits(&w, &lib->items[c].extension, identity);
      control[c] += fold_hits(&w, &lib->items[c].extension, shuffled);
    }
  }
  for (size_t c = 0; c < lib->n; c++) {
    acc[c] /= n;
    control[c] /= n;
  }
  nsr_free(order);
  nsr_free(buf);
  return rc;
}
