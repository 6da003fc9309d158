/* space_visits.c: the extensions a sampler meets, keyed by their bits, with
 * what it accumulates for each (visits of a chain, pooled importance
 * weights, draws) and the shortest tree that reached each, so the heaviest
 * can be listed by name. */
#include <stdlib.h>
#include <string.h>

#include "space.h"

void space_visits_free(space_visits *v) {
  nsr_free(v->slot);
  nsr_free(v->bits);
  nsr_free(v->hits);
  nsr_free(v->draws);
  nsr_free(v->size);
  nsr_free(v->tree);
  memset(v, 0, sizeof *v);
}

/* Doubles the slot table (rehashing) and the entry arrays; false when out
 * of memory (v still usable). */
static bool visits_grow(space_visits *v) {
  size_t room = v->room ? v->room * 2 : 1024, cap = 2 * room;
  uint32_t *slot = nsr_calloc(cap, sizeof *slot);
  uint64_t *bits = nsr_reallocarray(v->bits, room * v->words, sizeof *bits);
  if (bits) v->bits = bits;
  double *hits = nsr_reallocarray(v->hits, room, sizeof *hits);
  if (hits) v->hits = hits;
  double *draws = nsr_reallocarray(v->draws, room, sizeof *draws);
  if (draws) v->draws = draws;
  uint32_t *size = nsr_reallocarray(v->size, room, sizeof *size);
  if (size) v->size = size;
  nsr_space_tree *tree = nsr_reallocarray(v->tree, room, sizeof *tree);
  if (tree) v->tree = tree;
  if (!slot || !bits || !hits || !draws || !size || !tree) {
    nsr_free(slot);
    return false;
  }
  space_slots_fill(slot, cap, v->bits, v->n, v->words);
  nsr_free(v->slot);
  v->slot = slot;
  v->cap = cap;
  v->room = room;
  return true;
}

bool space_visits_init(space_visits *v, size_t words) {
  memset(v, 0, sizeof *v);
  v->words = words;
  return visits_grow(v);
}

size_t space_visits_find(space_visits *v, const uint64_t *ext, uint32_t size, const nsr_space_tree *t) {
  if (v->n == v->room && !visits_grow(v)) return SIZE_MAX;
  bool found;
  size_t i = space_slots_probe(v->slot, v->cap, v->bits, v->words, ext, &found);
  if (found) {
    size_t e = v->slot[i] - 1;
    if (t->len < v->tree[e].len) v->tree[e] = *t;
    return e;
  }
  size_t e = v->n++;
  memcpy(v->bits + e * v->words, ext, v->words * sizeof *ext);
  v->hits[e] = v->draws[e] = 0.0;
  v->size[e] = size;
  v->tree[e] = *t;
  v->slot[i] = (uint32_t)e + 1;
  return e;
}

typedef struct ranked {
  double hits;
  size_t entry;
} ranked;

/* Most hits first; ties: the entry found first. */
static int by_hits(const void *pa, const void *pb) {
  const ranked *a = pa, *b = pb;
  if (a->hits != b->hits) return a->hits < b->hits ? 1 : -1;
  return a->entry < b->entry ? -1 : a->entry > b->entry;
}

bool space_visits_rank(const space_visits *v, size_t **order, size_t *used) {
  ranked *r = nsr_mallocarray(v->n ? v->n : 1, sizeof *r);
  *order = nsr_mallocarray(v->n ? v->n : 1, sizeof **order);
  if (r == NULL || *order == NULL) {
    nsr_free(r);
    nsr_free(*order);
    *order = NULL;
    return false;
  }
  *used = 0;
  for (size_t e = 0; e < v->n; e++) {
    if (v->hits[e] > 0) r[(*used)++] = (ranked){v->hits[e], e};
  }
  qsort(r, *used, sizeof *r, by_hits);
  for (size_t k = 0; k < *used; k++) (*order)[k] = r[k].entry;
  nsr_free(r);
  return true;
}

bool space_visits_top(const nsr_space *s, const space_visits *v, double total, nsr_mh_visit *top, size_t k,
                      size_t *n_top, uint64_t *distinct) {
  size_t *order, used;
  if (!space_visits_rank(v, &order, &used)) return false;
  *distinct = used;
  *n_top = used < k ? used : k;
  for (size_t r = 0; r < *n_top; r++) {
    size_t e = order[r];
    int i = 0;
    space_tree_describe(s, v->tree[e].prog, &i, top[r].name, sizeof top[r].name);
    top[r].size = v->size[e];
    top[r].posterior = v->hits[e] / total;
  }
  nsr_free(order);
  return true;
}
