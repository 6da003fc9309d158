/* store_alloc.c: SQLite's allocations through nsr_malloc, so that failure
 * injection (nsr_alloc_fail_after) reaches SQLite too and the allocation
 * failure tests cover the store. SQLite asks for the size of a live block
 * (xSize), which malloc cannot tell portably, so each block carries its
 * size in a header; the header is 16 bytes to keep malloc's alignment. */
#include <sqlite3.h>

#include "nsr_store.h"

#define HEADER 16

static void *block_user(void *base) { return (char *)base + HEADER; }
static void *block_base(void *p) { return (char *)p - HEADER; }

static void *sql_malloc(int n) {
  if (n <= 0) return NULL;
  void *base = nsr_malloc((size_t)n + HEADER);
  if (base == NULL) return NULL;
  *(size_t *)base = (size_t)n;
  return block_user(base);
}

static void sql_free(void *p) {
  if (p != NULL) nsr_free(block_base(p));
}

static void *sql_realloc(void *p, int n) {
  if (p == NULL) return sql_malloc(n);
  if (n <= 0) return NULL; /* SQLite never shrinks to 0; keep p valid */
  void *base = nsr_realloc(block_base(p), (size_t)n + HEADER);
  if (base == NULL) return NULL; /* p is still valid, as SQLite expects */
  *(size_t *)base = (size_t)n;
  return block_user(base);
}

static int sql_size(void *p) { return p == NULL ? 0 : (int)*(size_t *)block_base(p); }

static int sql_roundup(int n) { return (n + 7) & ~7; }

static int sql_init(void *unused) {
  (void)unused;
  return SQLITE_OK;
}

static void sql_shutdown(void *unused) { (void)unused; }

nsr_code nsr_store_route_alloc(nsr_error *err) {
  static const sqlite3_mem_methods methods = {
      sql_malloc, sql_free, sql_realloc, sql_size, sql_roundup, sql_init, sql_shutdown, NULL,
  };
  if (sqlite3_config(SQLITE_CONFIG_MALLOC, &methods) != SQLITE_OK) {
    return nsr_fail(err, NSR_ERR_INTERNAL, "SQLite is already in use: its allocator cannot change");
  }
  return NSR_OK;
}
