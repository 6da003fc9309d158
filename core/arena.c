/* arena.c: chunked bump allocation. */
#include "arena.h"

#include <assert.h>
#include <string.h>

#define ARENA_DEFAULT_CHUNK (64u * 1024u)

struct nsr_arena_chunk {
  nsr_arena_chunk *next;
  size_t capacity;
  size_t used;
  unsigned char data[];
};

void nsr_arena_init(nsr_arena *arena, size_t chunk_size, size_t bytes_limit) {
  arena->head = NULL;
  arena->chunk_size = chunk_size ? chunk_size : ARENA_DEFAULT_CHUNK;
  arena->bytes_used = 0;
  arena->bytes_limit = bytes_limit;
}

/* Offset into chunk->data from `used` on whose address is `align`-aligned. */
static size_t aligned_offset(const nsr_arena_chunk *chunk, size_t used,
                             size_t align) {
  uintptr_t at = (uintptr_t)chunk->data + used;
  uintptr_t aligned = (at + align - 1) & ~(uintptr_t)(align - 1);
  return used + (size_t)(aligned - at);
}

/* Adds a chunk with room for at least `need` bytes; NULL on failure. */
static nsr_arena_chunk *arena_grow(nsr_arena *arena, size_t need) {
  size_t chunk_size = arena->chunk_size ? arena->chunk_size : ARENA_DEFAULT_CHUNK;
  size_t capacity = need > chunk_size ? need : chunk_size;
  if (capacity > SIZE_MAX - sizeof(nsr_arena_chunk)) return NULL;
  nsr_arena_chunk *chunk = nsr_malloc(sizeof *chunk + capacity);
  if (chunk == NULL) return NULL;
  chunk->next = arena->head;
  chunk->capacity = capacity;
  chunk->used = 0;
  arena->head = chunk;
  return chunk;
}

void *nsr_arena_alloc(nsr_arena *arena, size_t size, size_t align) {
  assert(align != 0 && (align & (align - 1)) == 0 && align <= 64 &&
         "arena alignment must be a power of two up to 64");
  if (size == 0) size = 1;
  if (size > SIZE_MAX - 64) return NULL;
  if (arena->bytes_limit && (size > arena->bytes_limit ||
                             arena->bytes_used > arena->bytes_limit - size)) {
    return NULL;
  }
  nsr_arena_chunk *chunk = arena->head;
  size_t offset = chunk ? aligned_offset(chunk, chunk->used, align) : 0;
  if (chunk == NULL || offset > chunk->capacity ||
      chunk->capacity - offset < size) {
    chunk = arena_grow(arena, size + align);
    if (chunk == NULL) return NULL;
    offset = aligned_offset(chunk, 0, align);
  }
  chunk->used = offset + size;
  arena->bytes_used += size;
  return chunk->data + offset;
}

void *nsr_arena_calloc(nsr_arena *arena, size_t count, size_t size) {
  if (size != 0 && count > SIZE_MAX / size) return NULL;
  void *p = nsr_arena_alloc(arena, count * size, 16);
  if (p != NULL) memset(p, 0, count * size);
  return p;
}

char *nsr_arena_strdup(nsr_arena *arena, const char *s) {
  size_t len = strlen(s);
  char *copy = nsr_arena_alloc(arena, len + 1, 1);
  if (copy != NULL) memcpy(copy, s, len + 1);
  return copy;
}

nsr_arena_mark nsr_arena_get_mark(const nsr_arena *arena) {
  nsr_arena_mark mark = {arena->head, arena->head ? arena->head->used : 0,
                         arena->bytes_used};
  return mark;
}

void nsr_arena_rewind(nsr_arena *arena, nsr_arena_mark mark) {
  while (arena->head != mark.chunk) {
    assert(arena->head != NULL && "arena mark does not belong to this arena");
    nsr_arena_chunk *next = arena->head->next;
    nsr_free(arena->head);
    arena->head = next;
  }
  if (arena->head) arena->head->used = mark.used;
  arena->bytes_used = mark.bytes_used;
}

void nsr_arena_free(nsr_arena *arena) {
  nsr_arena_mark empty = {NULL, 0, 0};
  nsr_arena_rewind(arena, empty);
}
