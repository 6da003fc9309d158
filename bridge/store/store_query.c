/* store_query.c: one SQL statement from a user or a tool, run so that it
 * cannot write, cannot run long, and cannot return without bound:
 *   - the connection is opened read-only (SQLITE_OPEN_READONLY);
 *   - store_guard.c caps values and the statement, allows reading the
 *     store's tables and calling listed functions only, and stops the
 *     statement at its deadline;
 *   - a second statement in the text is refused;
 *   - at most max_rows rows and QUERY_MAX_RESULT_BYTES bytes are returned,
 *     and the clock is read after each row too. */
#include <sqlite3.h>
#include <string.h>

#include "json.h"
#include "nsr_store.h"
#include "store_guard.h"

/* The most text and blob bytes one result may carry (blobs count twice, as
 * hex): enough for the row cap of short rows, far below what would strain
 * the memory of the process or of an LLM reading it. */
#define QUERY_MAX_RESULT_BYTES NSR_STORE_MAX_RESULT_BYTES

static const char hex_digits[] = "0123456789abcdef";

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
      size_t len = (size_t)sqlite3_column_bytes(st, col);
      char *hex = nsr_malloc(len * 2 + 1);
      if (hex == NULL) return NULL;
      for (size_t i = 0; i < len; i++) {
        hex[2 * i] = hex_digits[blob[i] >> 4];
        hex[2 * i + 1] = hex_digits[blob[i] & 15];
      }
      json_t *v = json_stringn(hex, len * 2);
      nsr_free(hex);
      return v;
    }
    default: return json_null();
  }
}

/* The bytes a column value adds to the result (a blob's hex is twice its
 * size; a number or NULL counts as a few). */
static size_t column_cost(sqlite3_stmt *st, int col) {
  switch (sqlite3_column_type(st, col)) {
    case SQLITE_TEXT: return (size_t)sqlite3_column_bytes(st, col);
    case SQLITE_BLOB: return 2 * (size_t)sqlite3_column_bytes(st, col);
    default: return 8;
  }
}

/* Opens the store read-only with the guard installed. The caller closes
 * *out with sqlite3_close, then releases the guard. */
static nsr_code query_open(const char *path, query_guard *guard, unsigned timeout_ms, sqlite3 **out,
                           nsr_error *err) {
  sqlite3 *db = NULL;
  if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
    nsr_code rc = nsr_fail(err, NSR_ERR_IO, "rule store '%s': %s", path,
                           db ? sqlite3_errmsg(db) : "out of memory");
    sqlite3_close(db);
    return rc;
  }
  sqlite3_busy_timeout(db, 1000);
  nsr_code rc = query_guard_install(db, guard, timeout_ms, err);
  if (rc != NSR_OK) {
    sqlite3_close(db);
    return rc;
  }
  *out = db;
  return NSR_OK;
}

/* The reason a prepare failed: what the authorizer refused, the length
 * cap, or SQLite's own message. */
static nsr_code refused(sqlite3 *db, const query_guard *guard, nsr_error *err) {
  if (guard->denied[0] != '\0') {
    return nsr_fail(err, NSR_ERR_INVALID, "SQL refused: not authorized: %s", guard->denied);
  }
  if (sqlite3_errcode(db) == SQLITE_TOOBIG) {
    return nsr_fail(err, NSR_ERR_INVALID, "SQL refused: %s (a value may hold at most %d bytes)",
                    sqlite3_errmsg(db), QUERY_MAX_VALUE_BYTES);
  }
  return nsr_fail(err, NSR_ERR_INVALID, "SQL refused: %s", sqlite3_errmsg(db));
}

/* Prepares exactly one statement from sql, refusing a second one. */
static nsr_code query_prepare(sqlite3 *db, const query_guard *guard, const char *sql,
                              sqlite3_stmt **out, nsr_error *err) {
  size_t length = strlen(sql);
  if (length > QUERY_MAX_SQL_BYTES) {
    return nsr_fail(err, NSR_ERR_INVALID, "SQL refused: the statement is %zu bytes long; at most %d",
                    length, QUERY_MAX_SQL_BYTES);
  }
  const char *tail = NULL;
  if (sqlite3_prepare_v2(db, sql, -1, out, &tail) != SQLITE_OK) return refused(db, guard, err);
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

/* Why sqlite3_step stopped short: the deadline, a value over the cap, or
 * the statement's own error. */
static nsr_code step_failed(sqlite3 *db, const query_guard *guard, nsr_error *err) {
  if (guard->timed_out) {
    return nsr_fail(err, NSR_ERR_LIMIT, "SQL stopped: time limit of %u ms reached",
                    guard->timeout_ms);
  }
  if (sqlite3_errcode(db) == SQLITE_TOOBIG) {
    return nsr_fail(err, NSR_ERR_INVALID, "SQL failed: %s (a value may hold at most %d bytes)",
                    sqlite3_errmsg(db), QUERY_MAX_VALUE_BYTES);
  }
  return nsr_fail(err, NSR_ERR_INVALID, "SQL failed: %s", sqlite3_errmsg(db));
}

/* One row appended to rows; *bytes grows by its cost. */
static nsr_code append_row(sqlite3_stmt *st, int ncol, size_t count, json_t *rows, size_t *bytes,
                           nsr_error *err) {
  json_t *row = json_array();
  for (int c = 0; row != NULL && c < ncol; c++) {
    *bytes += column_cost(st, c);
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
  return nsr_json_append(rows, row, err);
}

static nsr_code query_rows(sqlite3 *db, sqlite3_stmt *st, size_t max_rows, query_guard *guard,
                           json_t *result, nsr_error *err) {
  int ncol = sqlite3_column_count(st);
  json_t *columns = json_object_get(result, "columns"), *rows = json_object_get(result, "rows");
  for (int c = 0; c < ncol; c++) {
    const char *name = sqlite3_column_name(st, c);
    if (nsr_json_append(columns, nsr_json_string(name ? name : "?"), err) != NSR_OK) return NSR_ERR_NOMEM;
  }
  size_t count = 0, bytes = 0;
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    if (count == max_rows) {
      json_object_set_new(result, "truncated", json_true());
      return NSR_OK;
    }
    nsr_code code = append_row(st, ncol, count, rows, &bytes, err);
    if (code != NSR_OK) return code;
    count++;
    if (bytes > QUERY_MAX_RESULT_BYTES) {
      return nsr_fail(err, NSR_ERR_LIMIT, "SQL stopped: the result passed %d bytes at row %zu "
                      "(ask for fewer rows or shorter columns)", QUERY_MAX_RESULT_BYTES, count);
    }
    /* Converting a row is work of ours that the progress handler does
     * not see. */
    if (query_guard_expired(guard)) break;
  }
  if (rc == SQLITE_DONE) return NSR_OK;
  return step_failed(db, guard, err);
}

nsr_code nsr_store_query(const char *path, const char *sql, size_t max_rows,
                         unsigned timeout_ms, json_t **out, nsr_error *err) {
  *out = NULL;
  query_guard guard;
  sqlite3 *db = NULL;
  nsr_code rc = query_open(path, &guard, timeout_ms, &db, err);
  if (rc != NSR_OK) return rc;
  sqlite3_stmt *st = NULL;
  rc = query_prepare(db, &guard, sql, &st, err);
  json_t *result = NULL;
  if (rc == NSR_OK) {
    result = json_pack("{s:[], s:[], s:b}", "columns", "rows", "truncated", 0);
    if (result == NULL) rc = nsr_fail(err, NSR_ERR_NOMEM, "SQL result: out of memory");
  }
  if (rc == NSR_OK) rc = query_rows(db, st, max_rows, &guard, result, err);
  sqlite3_finalize(st);
  sqlite3_close(db);
  query_guard_release(&guard);
  if (rc != NSR_OK) {
    json_decref(result);
    return rc;
  }
  *out = result;
  return NSR_OK;
}
