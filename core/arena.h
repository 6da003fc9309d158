/* arena.h: a bump allocator for many small objects freed together. */
#ifndef NSR_ARENA_H
#define NSR_ARENA_H

#include "nsr_core.h"

typedef struct nsr_arena_chunk nsr_arena_chunk;

/* An arena hands out memory from chunks obtained through nsr_malloc and frees
 * all of it at once. Zero-initialise it (or call nsr_arena_init) before use. */
typedef struct nsr_arena {
  nsr_arena_chunk *head; /* newest chunk; older chunks follow */
  size_t chunk_size;     /* default size of a new chunk */
  size_t bytes_used;     /* total handed out since the last reset */
  size_t bytes_limit;    /* 0 = unlimited; else allocations past it fail */
} nsr_arena;

/* A position in an arena to rewind to. */
typedef struct nsr_arena_mark {
  nsr_arena_chunk *chunk;
  size_t used;
  size_t bytes_used;
} nsr_arena_mark;

/* chunk_size 0 picks a default (64 KiB). bytes_limit 0 means no limit. */
void nsr_arena_init(nsr_arena *arena, size_t chunk_size, size_t bytes_limit);
/* Returns `size` bytes aligned to `align` (a power of two, at most 64), or
 * NULL when memory or the arena's limit runs out. The memory is not zeroed. */
void *nsr_arena_alloc(nsr_arena *arena, size_t size, size_t align);
/* Like nsr_arena_alloc, zeroed. */
void *nsr_arena_calloc(nsr_arena *arena, size_t count, size_t size);
/* Copies a NUL-terminated string into the arena. */
char *nsr_arena_strdup(nsr_arena *arena, const char *s);
nsr_arena_mark nsr_arena_get_mark(const nsr_arena *arena);
/* Frees everything allocated after `mark` was taken. */
void nsr_arena_rewind(nsr_arena *arena, nsr_arena_mark mark);
/* Frees every chunk. The arena may be used again afterwards. */
void nsr_arena_free(nsr_arena *arena);

#endif
