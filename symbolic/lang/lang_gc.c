/* lang_gc.c: the heap of the Church interpreter: its allocator and its
 * precise mark-sweep collector.
 *
 * Small objects are cells of blocks of BLOCK_BYTES, each block holding one
 * size class; allocation pops the class's free list (one malloc per block,
 * not per object), and the sweep walks the blocks in address order,
 * threading dead cells back onto the free lists; blocks left empty become
 * spares that any class can take, up to half the room before the next
 * collection, and the rest are freed. Large objects are malloc'd singly
 * and swept off their list.
 *
 * Roots: the symbol table (global bindings), the evaluator's frame and value
 * stacks, the registers of every active evaluator run, the explicit root
 * stack, the last result, and the values held by running queries. Marking
 * uses an explicit gray stack, so long lists cost no C stack. */
#include <stddef.h>
#include <string.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "lang_internal.h"

/* Memory given back to the OS once this much was freed: trimming walks the
 * allocator's free lists and the pages given back fault in again when
 * reused, so it is kept for large releases at the end of an evaluation
 * (within one, the budget bounds the heap anyway). */
#define RELEASE_AFTER_BYTES ((size_t)32 << 20)

/* A block's request: with glibc's 16-byte chunk header it takes 16 KiB.
 * Small enough that a budget of a few MiB fits every class's block. */
#define BLOCK_BYTES ((size_t)16384 - 16)

/* What goes before a large object (malloc'd singly). */
typedef struct lang_large {
  struct lang_large *next; /* the next large object, newest first */
  size_t bytes;            /* accounted: the object's own and its arrays' */
  _Alignas(16) lang_obj obj[];
} lang_large;

typedef struct lang_block {
  struct lang_block *next; /* every block, newest first */
  uint32_t cell;           /* bytes per cell: a multiple of 8 */
  uint32_t ncells;
  /* Cells start at a multiple of 8 bytes from the block's start, which
   * malloc aligns to 16: every object field is aligned. */
  _Alignas(8) unsigned char cells[];
} lang_block;

static lang_obj *block_cell(lang_block *b, uint32_t i) {
  return (lang_obj *)(void *)(b->cells + (size_t)i * b->cell);
}

/* Adds a block of class cls and threads its cells onto the class's free
 * list, first cell first. Fails (error set) on the budget or memory. */
static lang_rc add_block(nsr_lang *I, size_t cls) {
  size_t cost = lang_malloc_cost(BLOCK_BYTES);
  lang_block *b = I->spare;
  if (b != NULL) {
    LANG_UNPOISON(b, BLOCK_BYTES); /* its cells were of another size */
    I->spare = b->next;
    I->spare_bytes -= cost;
  } else {
    if (lang_account(I, (ptrdiff_t)cost) != LANG_OK) return LANG_ERROR;
    b = nsr_malloc(BLOCK_BYTES);
    if (b == NULL) {
      I->heap_bytes -= cost;
      return lang_fail_at(I, I->site.cur_pos, NSR_ERR_NOMEM, "out of memory");
    }
  }
  b->cell = (uint32_t)((cls + 1) * 8);
  b->ncells = (uint32_t)((BLOCK_BYTES - offsetof(lang_block, cells)) / b->cell);
  b->next = I->blocks;
  I->blocks = b;
  lang_free_cell *head = I->free_cells[cls];
  for (uint32_t i = b->ncells; i-- > 0;) {
    lang_free_cell *c = (lang_free_cell *)block_cell(b, i);
    c->h.type = NSR_LANG_NIL;
    c->h.marked = 0; /* the sweep reads it on free cells too */
    c->next = head;
    LANG_POISON_CELL(c, b->cell);
    head = c;
  }
  I->free_cells[cls] = head;
  return LANG_OK;
}

void *lang_alloc_slow(nsr_lang *I, nsr_lang_type type, size_t bytes) {
  lang_obj *o;
  if (bytes <= LANG_SMALL_MAX) {
    size_t cls = lang_size_class(bytes);
    if (add_block(I, cls) != LANG_OK) return NULL;
    lang_free_cell *c = I->free_cells[cls];
    I->free_cells[cls] = c->next;
    o = &c->h;
    LANG_UNPOISON(o, bytes);
    memset(o, 0, bytes);
  } else {
    size_t cost = lang_malloc_cost(sizeof(lang_large) + bytes);
    if (lang_account(I, (ptrdiff_t)cost) != LANG_OK) return NULL;
    lang_large *l = nsr_calloc(1, sizeof(lang_large) + bytes);
    if (l == NULL) {
      I->heap_bytes -= cost;
      lang_fail_at(I, I->site.cur_pos, NSR_ERR_NOMEM, "out of memory");
      return NULL;
    }
    l->bytes = cost;
    l->next = I->objects;
    I->objects = l;
    o = l->obj;
  }
  o->type = type;
  return o;
}

static void gray_push(nsr_lang *I, lang_obj *o) {
  if (o == NULL || o->marked) return;
  o->marked = 1;
  if (I->ngray == I->graycap) {
    size_t cap = I->graycap == 0 ? 1024 : I->graycap * 2;
    lang_obj **g = nsr_reallocarray(I->gray, cap, sizeof *g);
    if (g == NULL) {
      /* Out of memory while marking: objects reachable only through o
       * would be missed, so this collection must not sweep. */
      I->gray_overflow = true;
      return;
    }
    /* Counted like the heap (a collection cannot fail on the budget; the
     * next allocation will). */
    I->heap_bytes += (cap - I->graycap) * sizeof *g;
    I->gray = g;
    I->graycap = cap;
  }
  I->gray[I->ngray++] = o;
}

void lang_mark(nsr_lang *I, lval v) {
  if (v.type >= NSR_LANG_STRING) gray_push(I, (lang_obj *)v.as.obj);
}

/* Grays the children of o. */
static void scan(nsr_lang *I, lang_obj *o) {
  switch ((nsr_lang_type)o->type) {
    case NSR_LANG_PAIR: {
      lang_pair *p = (lang_pair *)o;
      lang_mark(I, p->car);
      lang_mark(I, p->cdr);
      return;
    }
    case NSR_LANG_VECTOR: {
      lang_vector *v = (lang_vector *)o;
      for (size_t i = 0; i < v->len; i++) lang_mark(I, v->items[i]);
      return;
    }
    case NSR_LANG_SYMBOL: {
      lang_symbol *s = (lang_symbol *)o;
      if (s->bound) lang_mark(I, s->global);
      return;
    }
    case NSR_LANG_CLOSURE: {
      lang_closure *c = (lang_closure *)o;
      lang_mark(I, c->body);
      lang_mark(I, c->name);
      if (c->env != NULL) gray_push(I, &c->env->h);
      return;
    }
    case NSR_LANG_ENV: {
      lang_env *e = (lang_env *)o;
      if (e->parent != NULL) gray_push(I, &e->parent->h);
      for (uint32_t i = 0; i < e->n; i++) lang_mark(I, e->vals[i]);
      return;
    }
    case NSR_LANG_LOCAL: {
      lang_local *l = (lang_local *)o;
      gray_push(I, &l->sym->h);
      lang_mark(I, l->outer);
      return;
    }
    case NSR_LANG_PARAMS: lang_mark(I, ((lang_params *)o)->list); return;
    case NSR_LANG_CALL: {
      lang_call *c = (lang_call *)o;
      for (uint32_t i = 0; i < c->n; i++) lang_mark(I, c->items[i].x);
      return; /* call_name is an operator's symbol, marked with it */
    }
    case NSR_LANG_HASH: {
      lang_hash *t = (lang_hash *)o;
      for (size_t i = 0; i < t->cap; i++) {
        if (!t->entries[i].used) continue;
        lang_mark(I, t->entries[i].key);
        lang_mark(I, t->entries[i].val);
      }
      return;
    }
    case NSR_LANG_MEMO: {
      lang_memo *m = (lang_memo *)o;
      lang_mark(I, m->proc);
      gray_push(I, &m->cache->h);
      return;
    }
    default: return; /* strings and primitives hold no values */
  }
}

static void mark_roots(nsr_lang *I) {
  for (size_t i = 0; i < I->symcap; i++) {
    if (I->symtab[i] != NULL) gray_push(I, &I->symtab[i]->h);
  }
  for (size_t i = 0; i < I->nframes; i++) {
    lang_frame *f = &I->frames[i];
    lang_mark(I, f->a);
    lang_mark(I, f->b);
    if (f->env != NULL) gray_push(I, &f->env->h);
  }
  for (size_t i = 0; i < I->nvals; i++) lang_mark(I, I->vals[i]);
  for (lang_run *r = I->runs; r != NULL; r = r->outer) {
    lang_mark(I, r->expr);
    lang_mark(I, r->val);
    if (r->env != NULL) gray_push(I, &r->env->h);
  }
  for (size_t i = 0; i < I->nroots; i++) lang_mark(I, *I->roots[i]);
  lang_mark(I, I->result);
  for (int i = 0; i < LANG_CACHES; i++) lang_mark(I, I->list_cache[i].list);
  lval *prims[] = {&I->p_cons, &I->p_list, &I->p_append, &I->p_list_to_vector,
                   &I->p_memv, &I->p_condition, &I->p_enum_query,
                   &I->p_rejection_query, &I->p_mh_query, &I->p_query};
  for (size_t i = 0; i < sizeof prims / sizeof prims[0]; i++) {
    lang_mark(I, *prims[i]);
  }
  lang_infer_mark(I);
}

/* The bytes accounted for the arrays o owns (a set's bits count in its
 * own size). */
static size_t owned_bytes(const lang_obj *o) {
  return o->type == NSR_LANG_HASH ? ((const lang_hash *)o)->cap * sizeof(lang_hash_entry) : 0;
}

/* Frees the arrays o owns (not o itself); returns owned_bytes(o). */
static size_t free_owned(lang_obj *o) {
  size_t bytes = owned_bytes(o);
  if (o->type == NSR_LANG_HASH) nsr_free(((lang_hash *)o)->entries);
  if (o->type == NSR_LANG_SET) nsr_bitset_free(&((lang_set *)o)->bits);
  return bytes;
}

/* Sweeps block b: dead cells go onto the free list of b's class, marks are
 * cleared, and *kept grows by the live cells' bytes and their arrays'.
 * Returns the number of live cells; when none, the class's free list is
 * left as it was (the caller frees b). Only hash tables and sets own
 * arrays: other cells are tested for nothing else. */
static uint32_t sweep_block(nsr_lang *I, lang_block *b, size_t *kept) {
  size_t cls = b->cell / 8 - 1;
  lang_free_cell *head = I->free_cells[cls];
  uint32_t live = 0;
  size_t owned_live = 0, owned_freed = 0;
  for (uint32_t i = b->ncells; i-- > 0;) {
    lang_free_cell *c = (lang_free_cell *)block_cell(b, i);
    uint32_t type = c->h.type;
    bool owns = type == NSR_LANG_HASH || type == NSR_LANG_SET;
    if (c->h.marked) {
      c->h.marked = 0;
      live++;
      if (owns) owned_live += owned_bytes(&c->h);
      continue;
    }
    if (type != NSR_LANG_NIL) {
      if (owns) owned_freed += free_owned(&c->h);
      c->h.type = NSR_LANG_NIL;
      LANG_POISON_CELL(c, b->cell);
    }
    c->next = head;
    head = c;
  }
  I->heap_bytes -= owned_freed;
  I->freed_bytes += owned_freed;
  *kept += (size_t)live * b->cell + owned_live;
  if (live > 0) I->free_cells[cls] = head;
  return live;
}

/* Rebuilds every free list from the blocks' dead cells and moves the
 * blocks left empty to the spare list. Returns the bytes of the cells
 * left live and of their arrays. */
static size_t sweep_blocks(nsr_lang *I) {
  memset(I->free_cells, 0, sizeof I->free_cells);
  size_t cost = lang_malloc_cost(BLOCK_BYTES), kept = 0;
  lang_block **link = &I->blocks;
  while (*link != NULL) {
    lang_block *b = *link;
    if (sweep_block(I, b, &kept) > 0) {
      link = &b->next;
      continue;
    }
    *link = b->next;
    b->next = I->spare;
    I->spare = b;
    I->spare_bytes += cost;
  }
  return kept;
}

/* Frees spare blocks until at most `keep` bytes of them are left. */
static void trim_spare(nsr_lang *I, size_t keep) {
  size_t cost = lang_malloc_cost(BLOCK_BYTES);
  while (I->spare != NULL && I->spare_bytes > keep) {
    lang_block *b = I->spare;
    I->spare = b->next;
    I->spare_bytes -= cost;
    I->heap_bytes -= cost;
    I->freed_bytes += cost;
    LANG_UNPOISON(b, BLOCK_BYTES);
    nsr_free(b);
  }
}

/* Frees the large objects left unmarked; returns the bytes of the others. */
static size_t sweep_large(nsr_lang *I) {
  lang_large **link = &I->objects;
  size_t kept = 0;
  while (*link != NULL) {
    lang_large *l = *link;
    if (l->obj->marked) {
      l->obj->marked = 0;
      kept += l->bytes + owned_bytes(l->obj);
      link = &l->next;
    } else {
      *link = l->next;
      size_t bytes = l->bytes + free_owned(l->obj);
      I->heap_bytes -= bytes;
      I->freed_bytes += bytes;
      nsr_free(l);
    }
  }
  return kept;
}

/* After a mark that could not finish: clears the marks, frees nothing. */
static void unmark_all(nsr_lang *I) {
  for (lang_block *b = I->blocks; b != NULL; b = b->next) {
    for (uint32_t i = 0; i < b->ncells; i++) block_cell(b, i)->marked = 0;
  }
  for (lang_large *l = I->objects; l != NULL; l = l->next) l->obj->marked = 0;
}

/* Frees the mark stack: it is as large as the widest part of the heap was,
 * and is needed again only at the next collection. */
static void free_gray(nsr_lang *I) {
  I->heap_bytes -= I->graycap * sizeof *I->gray;
  I->freed_bytes += I->graycap * sizeof *I->gray;
  nsr_free(I->gray);
  I->gray = NULL;
  I->ngray = I->graycap = 0;
}

void lang_release_freed(size_t freed) {
#ifdef __GLIBC__
  if (freed >= RELEASE_AFTER_BYTES) malloc_trim(0);
#else
  (void)freed;
#endif
}

void lang_release_memory(nsr_lang *I) {
  trim_spare(I, 0);
  lang_release_freed(I->freed_bytes);
  if (I->freed_bytes >= RELEASE_AFTER_BYTES) I->freed_bytes = 0;
}

void lang_collect(nsr_lang *I) {
  I->gray_overflow = false;
  I->ngray = 0;
  mark_roots(I);
  while (I->ngray > 0) scan(I, I->gray[--I->ngray]);
  size_t kept = 0; /* the bytes of the cells and large objects left live */
  if (I->gray_overflow) {
    unmark_all(I);
  } else {
    kept = sweep_blocks(I) + sweep_large(I);
  }
  I->collections++;
  free_gray(I);
  /* Collect again when the heap has grown by what the sweep left live
   * (counted in cells, not in the blocks that hold them: live cells
   * spread over many blocks made a heap of 8.7 MB doubling for 1 MB of
   * data; the free cells of kept blocks are used first), at least 1 MiB (a
   * heap that stays within the core's cache makes allocation and the sweep
   * cheaper than fewer collections over a larger one; 4 MiB took 3-13%
   * longer on the Church benchmarks), but halfway to the memory budget, so garbage does not cause a budget
   * error. Yet, when halfway is nearer, at least an eighth of the budget
   * later: halving the room each time would make a program that keeps
   * what it allocates (a cons bomb) mark its whole heap some 20 times in
   * its last megabytes. A program whose live data pass 7/8 of the budget
   * may so stop on it. (The eighth is no minimum for small heaps: a heap
   * that stays a few MiB is reused from the cache and touches no new
   * pages.) */
  size_t live = I->heap_bytes - I->spare_bytes;
  if (I->gray_overflow) kept = live; /* nothing was swept: all counts as kept */
  size_t next = live + (kept > (1u << 20) ? kept : (1u << 20));
  if (I->cfg.max_memory != 0 && I->cfg.max_memory > live) {
    size_t half_room = live + (I->cfg.max_memory - live) / 2;
    if (next > half_room) {
      next = half_room;
      if (next < live + I->cfg.max_memory / 8) next = live + I->cfg.max_memory / 8;
    }
  }
  /* Empty blocks are kept for the allocations until the next collection
   * (freeing them and taking them back from the system at once costs
   * page faults), at most half of that room: they count in heap_bytes. */
  trim_spare(I, next > live ? (next - live) / 2 : 0);
  I->next_gc = I->cfg.gc_stress ? 0 : next; /* stress: at every step */
}

void lang_free_all(nsr_lang *I) {
  while (I->objects != NULL) {
    lang_large *l = I->objects;
    I->objects = l->next;
    free_owned(l->obj);
    nsr_free(l);
  }
  trim_spare(I, 0);
  while (I->blocks != NULL) {
    lang_block *b = I->blocks;
    I->blocks = b->next;
    for (uint32_t i = 0; i < b->ncells; i++) {
      lang_obj *o = block_cell(b, i);
      if (o->type != NSR_LANG_NIL) free_owned(o);
    }
    LANG_UNPOISON(b, BLOCK_BYTES);
    nsr_free(b);
  }
  memset(I->free_cells, 0, sizeof I->free_cells);
  free_gray(I);
}

lang_rc lang_root_push(nsr_lang *I, lval *slot) {
  if (I->nroots == I->rootcap) {
    size_t cap = I->rootcap == 0 ? 32 : I->rootcap * 2;
    lval **r = nsr_reallocarray(I->roots, cap, sizeof *r);
    if (r == NULL) return lang_fail_at(I, I->site.cur_pos, NSR_ERR_NOMEM, "out of memory");
    I->roots = r;
    I->rootcap = cap;
  }
  I->roots[I->nroots++] = slot;
  return LANG_OK;
}

void lang_root_pop(nsr_lang *I, size_t n) { I->nroots -= n; }
