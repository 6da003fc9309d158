/* store_guard.h: what keeps one user's SQL statement small and short on
 * the read-only connection of store_query.c (private to bridge/store/). */
#ifndef NSR_STORE_GUARD_H
#define NSR_STORE_GUARD_H

#include <sqlite3.h>

#include "nsr_store.h"

/* The largest string or blob one value may hold (SQLITE_LIMIT_LENGTH). The
 * largest stored value, a concept's extension over 1..NSR_NUMBERS_MAX_N,
 * and its hex() both fit. */
#define QUERY_MAX_VALUE_BYTES NSR_STORE_MAX_VALUE_BYTES
_Static_assert(QUERY_MAX_VALUE_BYTES > 2 * (NSR_NUMBERS_MAX_N / 8 + 1),
               "hex() of the largest extension fits in one value");
/* The longest statement text (SQLITE_LIMIT_SQL_LENGTH). */
#define QUERY_MAX_SQL_BYTES NSR_STORE_MAX_SQL_BYTES
/* What one call of instr(), replace() or a trim() with a character set
 * may compare: the product of its first two arguments' lengths in bytes.
 * Their work grows with that product inside one step that nothing can
 * interrupt, so a longer call is refused before it starts. */
#define QUERY_MAX_CALL_WORK (16 * 1024 * 1024)

/* A built-in whose cost grows with the product of two argument lengths. */
typedef struct guarded_call {
  struct query_guard *guard;
  const char *name;
  int nargs;
  sqlite3_stmt *delegate; /* SELECT name(?1, ...) on guard->helper */
} guarded_call;

#define QUERY_GUARDED_CALLS 5

/* The state of one query: its deadline, why it stopped, what the
 * authorizer refused, and the connection that runs guarded built-ins. */
typedef struct query_guard {
  uint64_t deadline_ns;
  unsigned timeout_ms;
  bool timed_out;
  char denied[256]; /* "function printf()", "table sqlite_temp_master", ... */
  sqlite3 *helper;  /* in-memory, opened at the first guarded call */
  guarded_call calls[QUERY_GUARDED_CALLS];
} query_guard;

/* Sets every limit, the allow-list authorizer, the clock-reading progress
 * handler and the guarded built-ins on db for a query of timeout_ms.
 * g must outlive db's use; release it with query_guard_release after
 * closing nothing yet (it finalizes statements of its helper only). */
nsr_code query_guard_install(sqlite3 *db, query_guard *g, unsigned timeout_ms, nsr_error *err);

/* True once the deadline has passed (then g->timed_out is set too). */
bool query_guard_expired(query_guard *g);

/* Closes the helper connection and its statements. */
void query_guard_release(query_guard *g);

#endif
