/* alloc.c: the one allocator of nsr, with failure injection for tests. */
#include "nsr_core.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

/* Number of allocations attempted so far, and the count at which injected
 * failures start (0 = never). Atomic so threads may allocate. */
static _Atomic uint64_t alloc_count;
static _Atomic uint64_t fail_from;

void nsr_alloc_fail_after(uint64_t n) {
  fail_from = n == 0 ? 0 : atomic_load(&alloc_count) + n;
}

void nsr_alloc_fail_reset(void) { fail_from = 0; }

uint64_t nsr_alloc_count(void) { return atomic_load(&alloc_count); }

/* Counts one allocation attempt; true when it must fail. */
static bool alloc_should_fail(void) {
  uint64_t n = atomic_fetch_add(&alloc_count, 1) + 1;
  uint64_t from = atomic_load(&fail_from);
  return from != 0 && n >= from;
}

void *nsr_malloc(size_t size) {
  if (alloc_should_fail()) return NULL;
  return malloc(size == 0 ? 1 : size);
}

void *nsr_calloc(size_t count, size_t size) {
  if (alloc_should_fail()) return NULL;
  if (count == 0 || size == 0) count = size = 1;
  return calloc(count, size);
}

void *nsr_realloc(void *ptr, size_t size) {
  if (size == 0) {
    free(ptr);
    return NULL;
  }
  if (alloc_should_fail()) return NULL;
  return realloc(ptr, size);
}

void *nsr_reallocarray(void *ptr, size_t count, size_t size) {
  if (size != 0 && count > SIZE_MAX / size) return NULL;
  return nsr_realloc(ptr, count * size == 0 ? 1 : count * size);
}

void *nsr_mallocarray(size_t count, size_t size) {
  if (size != 0 && count > SIZE_MAX / size) return NULL;
  return nsr_malloc(count * size);
}

char *nsr_strndup(const char *s, size_t n) {
  size_t len = strnlen(s, n);
  char *copy = nsr_malloc(len + 1);
  if (copy == NULL) return NULL;
  memcpy(copy, s, len);
  copy[len] = '\0';
  return copy;
}

char *nsr_strdup(const char *s) { return nsr_strndup(s, SIZE_MAX); }

void nsr_free(void *ptr) { free(ptr); }
