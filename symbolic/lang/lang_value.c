/* lang_value.c: heap objects of the Church interpreter, their constructors,
 * equality and hashing, and located error messages (printing is in
 * lang_print.c). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lang_internal.h"

/* ---- allocation ---------------------------------------------------------- */

static lang_rc memory_exhausted(nsr_lang *I) {
  return lang_fail_at(I, I->site.cur_pos, NSR_ERR_LIMIT,
                      "memory budget of %zu bytes exhausted (--max-memory)",
                      I->cfg.max_memory);
}

lang_rc lang_account(nsr_lang *I, ptrdiff_t delta) {
  if (delta > 0 && I->cfg.max_memory != 0 &&
      I->heap_bytes + (size_t)delta > I->cfg.max_memory) {
    return memory_exhausted(I);
  }
  I->heap_bytes += (size_t)delta;
  return LANG_OK;
}

size_t lang_malloc_cost(size_t bytes) {
  /* glibc's chunks: the request plus an 8-byte header, rounded up to 16
   * bytes, at least 32. A request of 72 bytes really takes 80. */
  size_t chunk = (bytes + 8 + 15) & ~(size_t)15;
  return chunk < 32 ? 32 : chunk;
}

lang_rc lang_cons_at(nsr_lang *I, lval car, lval cdr, lang_pos pos,
                     lval *out) {
  lang_pair *p = lang_alloc(I, NSR_LANG_PAIR, sizeof *p);
  if (p == NULL) return LANG_ERROR;
  p->car = car;
  p->cdr = cdr;
  p->pos = pos;
  *out = lang_obj_val(NSR_LANG_PAIR, p);
  return LANG_OK;
}

lang_rc lang_cons(nsr_lang *I, lval car, lval cdr, lval *out) {
  return lang_cons_at(I, car, cdr, (lang_pos){0, 0, 0}, out);
}

lang_rc lang_make_string(nsr_lang *I, const char *s, size_t len, lval *out) {
  lang_string *str = lang_alloc(I, NSR_LANG_STRING, sizeof *str + len + 1);
  if (str == NULL) return LANG_ERROR;
  str->len = len;
  if (len > 0) memcpy(str->chars, s, len);
  str->chars[len] = '\0';
  *out = lang_obj_val(NSR_LANG_STRING, str);
  return LANG_OK;
}

lang_rc lang_make_vector(nsr_lang *I, size_t len, lval fill, lval *out) {
  if (len > (SIZE_MAX - sizeof(lang_vector)) / sizeof(lval)) {
    return memory_exhausted(I);
  }
  lang_vector *v =
      lang_alloc(I, NSR_LANG_VECTOR, sizeof *v + len * sizeof(lval));
  if (v == NULL) return LANG_ERROR;
  v->len = len;
  for (size_t i = 0; i < len; i++) v->items[i] = fill;
  *out = lang_obj_val(NSR_LANG_VECTOR, v);
  return LANG_OK;
}

lang_rc lang_make_hash(nsr_lang *I, lval *out) {
  lang_hash *t = lang_alloc(I, NSR_LANG_HASH, sizeof *t);
  if (t == NULL) return LANG_ERROR;
  *out = lang_obj_val(NSR_LANG_HASH, t);
  return LANG_OK;
}

lang_rc lang_make_set(nsr_lang *I, size_t nbits, lval *out) {
  size_t words = (nbits + 63) / 64;
  lang_set *set = lang_alloc(I, NSR_LANG_SET, sizeof *set + words * sizeof(uint64_t));
  if (set == NULL) return LANG_ERROR;
  nsr_error err;
  if (nsr_bitset_init(&set->bits, nbits, &err) != NSR_OK) {
    return lang_fail_at(I, I->site.cur_pos, NSR_ERR_NOMEM, "out of memory");
  }
  *out = lang_obj_val(NSR_LANG_SET, set);
  return LANG_OK;
}

bool lang_set_equal(const lang_set *a, const lang_set *b) {
  size_t i = nsr_bitset_next(&a->bits, 0), j = nsr_bitset_next(&b->bits, 0);
  while (i < a->bits.nbits && j < b->bits.nbits) {
    if (i != j) return false;
    i = nsr_bitset_next(&a->bits, i + 1);
    j = nsr_bitset_next(&b->bits, j + 1);
  }
  return i >= a->bits.nbits && j >= b->bits.nbits;
}

lang_rc lang_builder_add(nsr_lang *I, lang_list_builder *b, lval v,
                         lang_pos pos) {
  lval cell;
  if (lang_cons_at(I, v, lang_nil(), pos, &cell) != LANG_OK) return LANG_ERROR;
  if (b->head.type == NSR_LANG_NIL) {
    b->head = cell;
  } else {
    LANG_PAIR(b->tail)->cdr = cell;
  }
  b->tail = cell;
  return LANG_OK;
}

lval lang_builder_finish(lang_list_builder *b, lval rest) {
  if (b->head.type == NSR_LANG_NIL) return rest;
  LANG_PAIR(b->tail)->cdr = rest;
  return b->head;
}

lang_rc lang_list_from(nsr_lang *I, const lval *vals, size_t n, lval *out) {
  lval list = lang_nil();
  for (size_t i = n; i-- > 0;) {
    if (lang_cons(I, vals[i], list, &list) != LANG_OK) return LANG_ERROR;
  }
  *out = list;
  return LANG_OK;
}

int64_t lang_list_length(lval list) {
  int64_t n = 0;
  while (list.type == NSR_LANG_PAIR) {
    n++;
    list = lang_cdr(list);
  }
  return list.type == NSR_LANG_NIL ? n : -1;
}

/* ---- symbols --------------------------------------------------------------*/

/* FNV-1a: symbol names are short, and the table only needs spread. */
static uint64_t hash_bytes(const char *s, size_t len) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (size_t i = 0; i < len; i++) {
    h ^= (unsigned char)s[i];
    h *= 0x100000001b3ULL;
  }
  return h;
}

/* Doubles the symbol table; entries are re-slotted by their stored hash. */
static lang_rc symtab_grow(nsr_lang *I) {
  size_t cap = I->symcap == 0 ? 256 : I->symcap * 2;
  lang_symbol **tab = nsr_calloc(cap, sizeof *tab);
  if (tab == NULL) return lang_fail_at(I, I->site.cur_pos, NSR_ERR_NOMEM, "out of memory");
  if (lang_account(I, (ptrdiff_t)((cap - I->symcap) * sizeof *tab)) != LANG_OK) {
    nsr_free(tab);
    return LANG_ERROR;
  }
  for (size_t i = 0; i < I->symcap; i++) {
    lang_symbol *s = I->symtab[i];
    if (s == NULL) continue;
    size_t j = s->hash & (cap - 1);
    while (tab[j] != NULL) j = (j + 1) & (cap - 1);
    tab[j] = s;
  }
  nsr_free(I->symtab);
  I->symtab = tab;
  I->symcap = cap;
  return LANG_OK;
}

lang_rc lang_intern(nsr_lang *I, const char *s, size_t len,
                    lang_symbol **out) {
  if ((I->nsyms + 1) * 2 > I->symcap && symtab_grow(I) != LANG_OK) {
    return LANG_ERROR;
  }
  uint64_t h = hash_bytes(s, len);
  size_t j = h & (I->symcap - 1);
  for (lang_symbol *e; (e = I->symtab[j]) != NULL; j = (j + 1) & (I->symcap - 1)) {
    if (e->hash == h && e->len == len && memcmp(e->name, s, len) == 0) {
      *out = e;
      return LANG_OK;
    }
  }
  lang_symbol *sym = lang_alloc(I, NSR_LANG_SYMBOL, sizeof *sym + len + 1);
  if (sym == NULL) return LANG_ERROR;
  memcpy(sym->name, s, len);
  sym->name[len] = '\0';
  sym->len = len;
  sym->hash = h;
  I->symtab[j] = sym;
  I->nsyms++;
  *out = sym;
  return LANG_OK;
}

/* ---- equality and hashing ------------------------------------------------ */

/* lang_eqv, inlined where equal? and the hash tables compare atoms. */
static inline bool eqv(lval a, lval b) {
  if (a.type != b.type) return false;
  switch (a.type) {
    case NSR_LANG_NIL:
    case NSR_LANG_UNSPECIFIED: return true;
    case NSR_LANG_BOOL: return a.as.b == b.as.b;
    case NSR_LANG_INT: return a.as.i == b.as.i;
    case NSR_LANG_REAL: return a.as.r == b.as.r;
    default: return a.as.obj == b.as.obj;
  }
}

bool lang_eqv(lval a, lval b) { return eqv(a, b); }

/* Pairs of values still to compare, on an explicit stack so that deeply
 * nested data cost heap, not C stack. */
typedef struct equal_stack {
  struct { lval a, b; } local[64], *items;
  size_t n, cap;
  bool failed; /* the stack could not grow (out of memory) */
} equal_stack;

/* Doubles st's room (st->failed when it cannot). */
static void equal_grow(equal_stack *st) {
  size_t cap = st->cap * 2;
  void *grown = st->items == st->local ? nsr_mallocarray(cap, sizeof st->local[0])
                                       : nsr_reallocarray(st->items, cap, sizeof st->local[0]);
  if (grown == NULL) {
    st->failed = true;
    return;
  }
  if (st->items == st->local) memcpy(grown, st->local, sizeof st->local);
  st->items = grown;
  st->cap = cap;
}

static inline void equal_push(equal_stack *st, lval a, lval b) {
  if (st->n == st->cap) {
    equal_grow(st);
    if (st->failed) return;
  }
  st->items[st->n].a = a;
  st->items[st->n].b = b;
  st->n++;
}

/* Union-find over heap objects, for comparing values that share structure
 * or contain themselves (a vector holding itself): two objects already
 * merged are taken as equal (R7RS equal? by bisimulation), so each object
 * is expanded at most once and the walk is linear in the objects it meets
 * instead of exponential in shared nesting or endless on a cycle.
 *
 * An object's set is found through its header's `marked` field, which is
 * zero outside a collection and no collection runs during a comparison:
 * it holds 1 + the object's index here, and is zeroed again at the end. */
typedef struct equal_sets {
  lang_obj **objs;   /* the objects met, to clear their headers */
  uint32_t *parent;
  size_t n, cap;
  bool failed;       /* out of memory (or 2^32 objects) */
} equal_sets;

/* The representative of o's set (o joins as a set of its own). */
static uint32_t sets_find(equal_sets *s, lang_obj *o) {
  if (o->marked == 0) {
    if (s->n == s->cap) {
      size_t cap = s->cap == 0 ? 1024 : s->cap * 2;
      lang_obj **objs = cap < UINT32_MAX ? nsr_reallocarray(s->objs, cap, sizeof *objs) : NULL;
      if (objs != NULL) s->objs = objs;
      uint32_t *parent = objs != NULL ? nsr_reallocarray(s->parent, cap, sizeof *parent) : NULL;
      if (parent == NULL) {
        s->failed = true;
        return 0;
      }
      s->parent = parent;
      s->cap = cap;
    }
    s->objs[s->n] = o;
    s->parent[s->n] = (uint32_t)s->n;
    o->marked = (uint32_t)++s->n;
  }
  uint32_t x = o->marked - 1;
  while (s->parent[x] != x) {
    s->parent[x] = s->parent[s->parent[x]]; /* path halving */
    x = s->parent[x];
  }
  return x;
}

/* True when a and b were already merged (so assumed equal); else merges
 * them and returns false: the caller compares their contents. */
static bool sets_merged(equal_sets *s, lval a, lval b) {
  uint32_t ra = sets_find(s, (lang_obj *)a.as.obj);
  uint32_t rb = s->failed ? 0 : sets_find(s, (lang_obj *)b.as.obj);
  if (s->failed) return false;
  if (ra == rb) return true;
  s->parent[ra] = rb;
  return false;
}

static void sets_free(equal_sets *s) {
  for (size_t i = 0; i < s->n; i++) s->objs[i]->marked = 0;
  nsr_free(s->objs);
  nsr_free(s->parent);
}

/* Compound pairs compared before switching to union-find: small values
 * (the common case, e.g. mem keys) compare with no allocation. */
#define EQUAL_PLAIN_VISITS 1024

/* Whether a symbol and a string (in either order) hold the same text:
 * webchurch's symbols are strings. */
static bool same_name(lval a, lval b) {
  if (a.type == NSR_LANG_STRING) {
    lval t = a;
    a = b;
    b = t;
  }
  if (a.type != NSR_LANG_SYMBOL || b.type != NSR_LANG_STRING) return false;
  const lang_symbol *s = LANG_SYM(a);
  return s->len == LANG_STR(b)->len && memcmp(s->name, LANG_STR(b)->chars, s->len) == 0;
}

bool lang_eqv_in(const nsr_lang *I, lval a, lval b) {
  return lang_eqv(a, b) || (I->cfg.webchurch && same_name(a, b));
}

static bool equal_walk(lval a, lval b, bool names);

/* Atoms and identical objects (mem keys, a cache's own key, the items a
 * draw is scored against) are settled without the walk: eqv values are
 * always equal?, and other values are equal? only when both are pairs,
 * vectors, strings or sets. */
bool lang_equal(lval a, lval b) {
  if (eqv(a, b)) return true;
  bool compound = a.type == NSR_LANG_PAIR || a.type == NSR_LANG_VECTOR ||
                  a.type == NSR_LANG_STRING || a.type == NSR_LANG_SET;
  return compound && a.type == b.type && equal_walk(a, b, false);
}

bool lang_equal_in(const nsr_lang *I, lval a, lval b) {
  return equal_walk(a, b, I->cfg.webchurch);
}

/* Structural equality (equal?); with `names`, a symbol equals the string of
 * its name. Terminates on cyclic values and is linear in shared ones.
 * Comparing data nested deeper than memory allows to track answers
 * false. */
static bool equal_walk(lval a, lval b, bool names) {
  /* Lists whose items are the same atoms (mem keys, most data compared)
   * need no stack: pairs cannot be made circular, so this walk ends. */
  while (a.type == NSR_LANG_PAIR && b.type == NSR_LANG_PAIR && eqv(lang_car(a), lang_car(b))) {
    a = lang_cdr(a);
    b = lang_cdr(b);
  }
  if (eqv(a, b)) return true;
  equal_stack st;
  st.items = st.local;
  st.n = 0;
  st.cap = sizeof st.local / sizeof st.local[0];
  st.failed = false;
  equal_sets sets = {0};
  size_t visits = 0;
  bool same = true;
  equal_push(&st, a, b);
  while (same && st.n > 0 && !st.failed && !sets.failed) {
    st.n--;
    lval x = st.items[st.n].a, y = st.items[st.n].b;
    /* Walk along list spines here; push the cars. */
    while (same && !eqv(x, y)) {
      if (x.type != y.type) {
        same = names && same_name(x, y);
        break;
      }
      if ((x.type == NSR_LANG_PAIR || x.type == NSR_LANG_VECTOR) &&
          ++visits > EQUAL_PLAIN_VISITS && sets_merged(&sets, x, y)) {
        break;
      }
      if (x.type == NSR_LANG_PAIR) {
        /* eqv cars are settled: not pushed (lists of atoms in lists). */
        if (!eqv(lang_car(x), lang_car(y))) equal_push(&st, lang_car(x), lang_car(y));
        x = lang_cdr(x);
        y = lang_cdr(y);
        continue;
      }
      switch (x.type) {
        case NSR_LANG_STRING:
          same = LANG_STR(x)->len == LANG_STR(y)->len &&
                 memcmp(LANG_STR(x)->chars, LANG_STR(y)->chars, LANG_STR(x)->len) == 0;
          break;
        case NSR_LANG_SET: same = lang_set_equal(LANG_SET(x), LANG_SET(y)); break;
        case NSR_LANG_VECTOR:
          same = LANG_VEC(x)->len == LANG_VEC(y)->len;
          for (size_t i = 0; same && i < LANG_VEC(x)->len; i++) {
            equal_push(&st, LANG_VEC(x)->items[i], LANG_VEC(y)->items[i]);
          }
          break;
        default: same = false; break;
      }
      break;
    }
  }
  if (st.items != st.local) nsr_free(st.items);
  sets_free(&sets);
  return same && !st.failed && !sets.failed;
}

/* Hashing looks at this many nodes (pairs, vectors, atoms) of a value, in
 * a fixed depth-first order that depends on its structure only: equal
 * values still hash alike, and a shared or cyclic value costs no more than
 * a small one. Keys that differ only further on collide and are told apart
 * by lang_equal. */
#define HASH_MAX_NODES 256

/* The hash of v folded into h, when v is one node (not a pair, vector
 * or set): *out, and true. */
static inline bool hash_atom(lval v, uint64_t h, uint64_t *out) {
  switch (v.type) {
    case NSR_LANG_NIL:
    case NSR_LANG_UNSPECIFIED: *out = lang_mix(h, 1); return true;
    case NSR_LANG_BOOL: *out = lang_mix(h, v.as.b); return true;
    case NSR_LANG_INT: *out = lang_mix(h, (uint64_t)v.as.i); return true;
    case NSR_LANG_REAL: {
      double r = v.as.r == 0.0 ? 0.0 : v.as.r; /* -0.0 = 0.0 */
      uint64_t bits;
      memcpy(&bits, &r, sizeof bits);
      *out = lang_mix(h, bits);
      return true;
    }
    case NSR_LANG_STRING:
      *out = lang_mix(h, hash_bytes(LANG_STR(v)->chars, LANG_STR(v)->len));
      return true;
    case NSR_LANG_VECTOR:
    case NSR_LANG_SET:
    case NSR_LANG_PAIR: return false;
    default: *out = lang_mix(h, (uint64_t)(uintptr_t)v.as.obj); return true;
  }
}

static uint64_t hash_walk(lval v, int *left);

/* hash_walk(v, left), without the call for an atom (mem keys' items). */
static inline uint64_t hash_node(lval v, int *left) {
  uint64_t h = (uint64_t)v.type * 0x9e3779b97f4a7c15ULL, atom;
  if (hash_atom(v, h, &atom)) return --*left < 0 ? h : atom;
  return hash_walk(v, left);
}

/* Hashes v, spending nodes from *left (recursion depth is bounded by it). */
static uint64_t hash_walk(lval v, int *left) {
  uint64_t h = (uint64_t)v.type * 0x9e3779b97f4a7c15ULL;
  for (;;) {
    if (--*left < 0) return h;
    uint64_t atom;
    if (hash_atom(v, h, &atom)) return atom;
    switch (v.type) {
      case NSR_LANG_VECTOR:
        h = lang_mix(h, LANG_VEC(v)->len);
        for (size_t i = 0; i < LANG_VEC(v)->len && *left > 0; i++) {
          h = lang_mix(h, hash_node(LANG_VEC(v)->items[i], left));
        }
        return h;
      case NSR_LANG_SET: {
        const nsr_bitset *bits = &LANG_SET(v)->bits;
        for (size_t i = nsr_bitset_next(bits, 0); i < bits->nbits; i = nsr_bitset_next(bits, i + 1)) {
          h = lang_mix(h, i);
        }
        return h;
      }
      default: /* a pair */
        h = lang_mix(h, hash_node(lang_car(v), left));
        v = lang_cdr(v);
        continue;
    }
  }
}

uint64_t lang_hash_value(lval v) {
  int left = HASH_MAX_NODES;
  return hash_walk(v, &left);
}

/* lang_hash_value of the list of the n values at items, without making
 * the list: hash_walk's fold over a list's pairs, step for step. */
static uint64_t hash_items(const lval *items, size_t n) {
  if (n == 0) return lang_hash_value(lang_nil());
  int left = HASH_MAX_NODES;
  uint64_t h = (uint64_t)NSR_LANG_PAIR * 0x9e3779b97f4a7c15ULL;
  for (size_t i = 0; i < n; i++) {
    if (--left < 0) return h;
    h = lang_mix(h, hash_node(items[i], &left));
  }
  return --left < 0 ? h : lang_mix(h, 1); /* the list's end */
}

/* Whether list is equal? to the list of the n values at items. */
static bool equal_items(lval list, const lval *items, size_t n) {
  for (size_t i = 0; i < n; i++, list = lang_cdr(list)) {
    if (list.type != NSR_LANG_PAIR || !lang_equal(lang_car(list), items[i])) return false;
  }
  return list.type == NSR_LANG_NIL;
}

lval lang_hash_get_items(lang_hash *t, const lval *items, size_t n, uint64_t *hash, bool *found) {
  uint64_t h = hash_items(items, n);
  *hash = h;
  *found = false;
  if (t->cap == 0) return lang_nil();
  for (size_t j = h & (t->cap - 1);; j = (j + 1) & (t->cap - 1)) {
    lang_hash_entry *e = &t->entries[j];
    if (!e->used) return lang_nil();
    if (e->hash == h && equal_items(e->key, items, n)) {
      *found = true;
      return e->val;
    }
  }
}

/* The slot of key in t (cap > 0): its entry or the empty slot to fill. */
static lang_hash_entry *hash_slot(lang_hash *t, lval key, uint64_t h) {
  size_t j = h & (t->cap - 1);
  for (;;) {
    lang_hash_entry *e = &t->entries[j];
    if (!e->used || (e->hash == h && lang_equal(e->key, key))) return e;
    j = (j + 1) & (t->cap - 1);
  }
}

lval lang_hash_get(lang_hash *t, lval key, bool *found) {
  return lang_hash_get_hashed(t, key, lang_hash_value(key), found);
}

lval lang_hash_get_hashed(lang_hash *t, lval key, uint64_t hash, bool *found) {
  *found = false;
  if (t->cap == 0) return lang_nil();
  lang_hash_entry *e = hash_slot(t, key, hash);
  *found = e->used;
  return e->used ? e->val : lang_nil();
}

/* Linear probing's deletion: the entries after the hole that would not be
 * found across it move back into it, so no tombstone is needed. */
void lang_hash_remove_hashed(lang_hash *t, lval key, uint64_t hash) {
  if (t->cap == 0) return;
  lang_hash_entry *e = hash_slot(t, key, hash);
  if (!e->used) return;
  size_t mask = t->cap - 1, hole = (size_t)(e - t->entries);
  for (size_t j = (hole + 1) & mask; t->entries[j].used; j = (j + 1) & mask) {
    size_t home = t->entries[j].hash & mask;
    /* j's entry may fill the hole when its home is not in (hole, j]. */
    bool reachable = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
    if (!reachable) {
      t->entries[hole] = t->entries[j];
      hole = j;
    }
  }
  t->entries[hole].used = false;
  t->entries[hole].key = t->entries[hole].val = lang_nil();
  t->count--;
}

lang_rc lang_hash_put(nsr_lang *I, lang_hash *t, lval key, lval val) {
  return lang_hash_put_hashed(I, t, key, lang_hash_value(key), val);
}

lang_rc lang_hash_put_hashed(nsr_lang *I, lang_hash *t, lval key, uint64_t hash, lval val) {
  if ((t->count + 1) * 2 > t->cap) {
    size_t cap = t->cap == 0 ? 8 : t->cap * 2;
    size_t grow = (cap - t->cap) * sizeof(lang_hash_entry);
    if (lang_account(I, (ptrdiff_t)grow) != LANG_OK) return LANG_ERROR;
    lang_hash_entry *entries = nsr_calloc(cap, sizeof *entries);
    if (entries == NULL) {
      I->heap_bytes -= grow;
      return lang_fail_at(I, I->site.cur_pos, NSR_ERR_NOMEM, "out of memory");
    }
    lang_hash_entry *old = t->entries;
    size_t oldcap = t->cap;
    t->entries = entries;
    t->cap = cap;
    for (size_t i = 0; i < oldcap; i++) {
      if (old[i].used) *hash_slot(t, old[i].key, old[i].hash) = old[i];
    }
    nsr_free(old);
  }
  lang_hash_entry *e = hash_slot(t, key, hash);
  if (!e->used) {
    e->used = true;
    e->key = key;
    e->hash = hash;
    t->count++;
  }
  e->val = val;
  return LANG_OK;
}

/* ---- errors -------------------------------------------------------------- */

/* msg with its leading "NAME: " (a name without spaces, as primitives head
 * their messages) replaced by "WRITTEN: ", into out; msg unchanged when it
 * has no such head. */
static void rename_head(const char *msg, const char *written, char *out, size_t len) {
  size_t n = strcspn(msg, " :");
  if (n == 0 || msg[n] != ':' || msg[n + 1] != ' ') {
    snprintf(out, len, "%s", msg);
  } else {
    snprintf(out, len, "%s%s", written, msg + n);
  }
}

static lang_rc fail_v(nsr_lang *I, lang_pos pos, nsr_code code,
                      const char *fmt, va_list ap) {
  char msg[NSR_ERROR_MESSAGE_MAX];
  vsnprintf(msg, sizeof msg, fmt, ap);
  if (I->prim_name != NULL) {
    /* A primitive's error names the procedure as the program called it
     * (car, not first, whose code car shares). */
    char raw[NSR_ERROR_MESSAGE_MAX];
    memcpy(raw, msg, sizeof raw);
    rename_head(raw, I->prim_name, msg, sizeof msg);
  }
  if (pos.file == I->library_file && I->site.user_pos.line != 0) {
    /* Inside a library procedure: the error is placed at the program's call
     * and headed by the name the program wrote there (sort: <: ...), as the
     * primitive at fault is the library's, not the program's. */
    pos = I->site.user_pos;
    const char *written = I->site.user_call_name != NULL ? I->site.user_call_name->name : NULL;
    size_t n = written != NULL ? strlen(written) : 0;
    if (n > 0 && !(strncmp(msg, written, n) == 0 && msg[n] == ':')) {
      char raw[NSR_ERROR_MESSAGE_MAX];
      memcpy(raw, msg, sizeof raw);
      int head = snprintf(msg, sizeof msg, "%.64s: ", written);
      snprintf(msg + head, sizeof msg - (size_t)head, "%.*s", (int)(sizeof msg - (size_t)head - 1), raw);
    }
  }
  if (pos.line == 0 || pos.file >= I->nfiles) {
    nsr_fail(&I->error, code, "%s", msg);
  } else {
    nsr_fail(&I->error, code, "%s:%u:%u: %s", I->files[pos.file], pos.line,
             pos.col, msg);
  }
  return LANG_ERROR;
}

lang_rc (lang_fail_at)(nsr_lang *I, lang_pos pos, nsr_code code,
                     const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fail_v(I, pos, code, fmt, ap);
  va_end(ap);
  return LANG_ERROR;
}

lang_rc (lang_error)(nsr_lang *I, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fail_v(I, I->site.cur_pos, NSR_ERR_INVALID, fmt, ap);
  va_end(ap);
  return LANG_ERROR;
}

lang_rc (lang_type_error)(nsr_lang *I, const char *name, const char *what,
                        int argi, lval got) {
  lang_buf b = {.limit = 64}; /* only 60 bytes are shown */
  lang_print_glimpse(&b, got);
  const char *shown = b.data == NULL ? "?" : b.data;
  int n = (int)strlen(shown);
  lang_error(I, "%s: expected %s as argument %d, got %.*s%s", name, what,
             argi + 1, n > 60 ? 60 : n, shown, n > 60 ? "..." : "");
  nsr_free(b.data);
  return LANG_ERROR;
}
