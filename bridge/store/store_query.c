/* store_query.c: one SQL statement from a user or a tool, run so that it
 * cannot write, cannot run long, and cannot return without bound:
 *   - the connection is opened read-only (SQLITE_OPEN_READONLY);
 *   - an authorizer allows reading tables and calling functions only, so
 *     PRAGMA, ATTACH and every write are refused while preparing;
 *   - a second statement in the text is refused;
 *   - a progress handler interrupts after the time limit;
 *   - at most max_rows rows are returned, and strings and blobs are capped. */
#include <sqlite3.h>
#include <string.h>

#include "json.h"
#include "nsr_store.h"

#define QUERY_MAX_VALUE_BYTES (1 << 20)
#define QUERY_PROGRESS_OPS 1000

typedef struct query_guard {
  uint64_t deadline_ns;
  bool timed_out;
} query_guard;

static int query_progress(void *arg) {
  query_guard *g = arg;
  if (nsr_now_ns() < g->deadline_ns) return 0;
  g->timed_out = true;
  return 1; /* interrupts the statement */
}

static int query_authorizer(void *arg, int action, const char *a, const char *b,
                            const char *db, const char *trigger) {
  (void)arg, (void)a, (void)b, (void)db, (void)trigger;
  switch (action) {
    case SQLITE_SELECT:
    case SQLITE_READ:
    case SQLITE_FUNCTION:
    case SQLITE_RECURSIVE:
      return SQLITE_OK;
    default:
      return SQLITE_DENY;
  }
}

/* One column value as JSON: integers, reals, text, NULL; blobs as hex. */
static json_t *column_json(sqlite3_stmt *st, int col) {
  switch (sqlite3_column_type(st, col)) {
    case SQLITE_INTEGER: return json_integer(sqlite3_column_int64(st, col));
    case SQLITE_FLOAT: return nsr_json_real(sqlite3_column_double(st, col));
    case SQLITE_TEXT: {
      const char *text = (const char *)sqlite3_column_text(st, col);
      return json_stringn(text ? text : "", (size_t)sqlite3_column_bytes(st, col));
    }
    case SQLITE_BLOB: {
      const unsigned char *blob = sqlite3_column_blob(st, col);
      int len = sqlite3_column_bytes(st, col);
      char *hex = nsr_malloc((size_t)len * 2 + 1);
      if (hex == NULL) return NULL;
      for (int i = 0; i < len; i++) snprintf(hex + 2 * i, 3, "%02x", blob[i]);
      hex[2 * len] = '\0';
      json_t *v = json_string(hex);
      nsr_free(hex);
      return v;
    }
    default: return json_null();
  }
}

/* Opens the store read-only with the authorizer, limits and guard set. */
static nsr_code query_open(const char *path, query_guard *guard, sqlite3 **out,
                           nsr_error *err) {
  sqlite3 *db = NULL;
  if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
    nsr_code rc = nsr_fail(err, NSR_ERR_IO, "rule store '%s': %s", path,
                           db ? sqlite3_errmsg(db) : "out of memory");
    sqlite3_close(db);
    return rc;
  }
  sqlite3_busy_timeout(db, 1000);
  sqlite3_limit(db, SQLITE_LIMIT_LENGTH, QUERY_MAX_VALUE_BYTES);
  sqlite3_limit(db, SQLITE_LIMIT_ATTACHED, 0);
  sqlite3_set_authorizer(db, query_authorizer, NULL);
  sqlite3_progress_handler(db, QUERY_PROGRESS_OPS, query_progress, guard);
  *out = db;
  return NSR_OK;
}

/* Prepares exactly one statement from sql, refusing a second one. */
static nsr_code query_prepare(sqlite3 *db, const char *sql, sqlite3_stmt **out, nsr_error *err) {
  const char *tail = NULL;
  if (sqlite3_prepare_v2(db, sql, -1, out, &tail) != SQLITE_OK) {
    return nsr_fail(err, NSR_ERR_INVALID, "SQL refused: %s", sqlite3_errmsg(db));
  }
  if (*out == NULL) return nsr_fail(err, NSR_ERR_INVALID, "SQL refused: no statement given");
  /* Whatever follows may hold only comments and white space. */
  sqlite3_stmt *second = NULL;
  int rc = sqlite3_prepare_v2(db, tail, -1, &second, NULL);
  sqlite3_finalize(second);
  if (rc != SQLITE_OK || second != NULL) {
    sqlite3_finalize(*out);
    *out = NULL;
    return nsr_fail(err, NSR_ERR_INVALID, "SQL refused: only one statement is allowed");
  }
  if (!sqlite3_stmt_readonly(*out)) {
    sqlite3_finalize(*out);
    *out = NULL;
    return nsr_fail(err, NSR_ERR_INVALID, "SQL refused: the rule store is read-only here");
  }
  return NSR_OK;
}

static nsr_code query_rows(sqlite3 *db, sqlite3_stmt *st, size_t max_rows,
                           const query_guard *guard, unsigned timeout_ms, json_t *result,
                           nsr_error *err) {
  int ncol = sqlite3_column_count(st);
  json_t *columns = json_object_get(result, "columns"), *rows = json_object_get(result, "rows");
  for (int c = 0; c < ncol; c++) {
    const char *name = sqlite3_column_name(st, c);
    if (nsr_json_append(columns, nsr_json_string(name ? name : "?"), err) != NSR_OK) return NSR_ERR_NOMEM;
  }
  size_t count = 0;
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    if (count == max_rows) {
      json_object_set_new(result, "truncated", json_true());
      return NSR_OK;
    }
    json_t *row = json_array();
    for (int c = 0; row != NULL && c < ncol; c++) {
      json_t *v = column_json(st, c);
      /* jansson refuses such text; say so rather than "out of memory". */
      if (v == NULL && sqlite3_column_type(st, c) == SQLITE_TEXT &&
          !nsr_json_utf8_valid((const char *)sqlite3_column_text(st, c), (size_t)sqlite3_column_bytes(st, c))) {
        json_decref(row);
        return nsr_fail(err, NSR_ERR_FORMAT, "row %zu, column %d ('%s'): text that is not UTF-8, which JSON "
                        "cannot carry (select hex() of it instead)", count + 1, c + 1, sqlite3_column_name(st, c));
      }
      if (json_array_append_new(row, v) != 0) {
        json_decref(row);
        row = NULL;
      }
    }
    if (nsr_json_append(rows, row, err) != NSR_OK) return NSR_ERR_NOMEM;
    count++;
  }
  if (rc == SQLITE_DONE) return NSR_OK;
  if (guard->timed_out) {
    return nsr_fail(err, NSR_ERR_LIMIT, "SQL stopped: time limit of %u ms reached", timeout_ms);
  }
  return nsr_fail(err, NSR_ERR_INVALID, "SQL failed: %s", sqlite3_errmsg(db));
}

nsr_code nsr_store_query(const char *path, const char *sql, size_t max_rows,
                         unsigned timeout_ms, json_t **out, nsr_error *err) {
  *out = NULL;
  query_guard guard = {nsr_now_ns() + (uint64_t)timeout_ms * 1000000ULL, false};
  sqlite3 *db = NULL;
  nsr_code rc = query_open(path, &guard, &db, err);
  if (rc != NSR_OK) return rc;
  sqlite3_stmt *st = NULL;
  rc = query_prepare(db, sql, &st, err);
  json_t *result = NULL;
  if (rc == NSR_OK) {
    result = json_pack("{s:[], s:[], s:b}", "columns", "rows", "truncated", 0);
    if (result == NULL) rc = nsr_fail(err, NSR_ERR_NOMEM, "SQL result: out of memory");
  }
  if (rc == NSR_OK) rc = query_rows(db, st, max_rows, &guard, timeout_ms, result, err);
  sqlite3_finalize(st);
  sqlite3_close(db);
  if (rc != NSR_OK) {
    json_decref(result);
    return rc;
  }
  *out = result;
  return NSR_OK;
}
