/* store_guard.c: the limits on one user's SQL statement (store_query.c).
 * Each guard answers one way a statement could run long or big:
 *   - sqlite3_limit caps every value, the statement's text and its shape;
 *   - the authorizer allows reading the store's tables and calling the
 *     functions of one list; everything else is refused while preparing;
 *   - a progress handler reads the clock between steps of the program;
 *   - the few built-ins whose single call costs the product of two
 *     argument lengths are wrapped: a call over QUERY_MAX_CALL_WORK is
 *     refused, a smaller one runs the real built-in on a helper
 *     connection. One call is one step, which no handler and no
 *     sqlite3_interrupt can cut short, so its cost is bounded up front. */
#include "store_guard.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

/* Steps between two looks at the clock. */
#define QUERY_PROGRESS_OPS 100

/* Built-in functions a query may call: pure scalar, aggregate, window,
 * date, math and JSON functions whose cost is bounded by the length of
 * their arguments (and so by QUERY_MAX_VALUE_BYTES), plus the guarded
 * ones. Left out on purpose: printf() and format() (their work grows with
 * a width or precision argument, not with any length), fts3_tokenizer()
 * (returns a pointer into libsqlite3 and registers tokenizers),
 * load_extension(), sqlite_offset(), the connection's state (changes(),
 * total_changes(), last_insert_rowid()) and build details
 * (sqlite_version(), sqlite_source_id(), sqlite_compileoption_*). */
static const char *const allowed_functions[] = {
    /* core scalars */
    "abs", "char", "coalesce", "glob", "hex", "ifnull", "iif", "instr", "length", "like",
    "likelihood", "likely", "lower", "ltrim", "max", "min", "nullif", "quote", "random",
    "randomblob", "replace", "round", "rtrim", "sign", "substr", "substring", "trim", "typeof",
    "unicode", "unlikely", "upper", "zeroblob",
    /* aggregates and windows */
    "avg", "count", "group_concat", "sum", "total", "row_number", "rank", "dense_rank",
    "percent_rank", "cume_dist", "ntile", "lag", "lead", "first_value", "last_value",
    "nth_value",
    /* dates */
    "date", "time", "datetime", "julianday", "unixepoch", "strftime", "current_date",
    "current_time", "current_timestamp",
    /* math */
    "acos", "acosh", "asin", "asinh", "atan", "atan2", "atanh", "ceil", "ceiling", "cos", "cosh",
    "degrees", "exp", "floor", "ln", "log", "log10", "log2", "mod", "pi", "pow", "power",
    "radians", "sin", "sinh", "sqrt", "tan", "tanh", "trunc",
    /* JSON */
    "json", "json_array", "json_array_length", "json_extract", "json_insert", "json_object",
    "json_patch", "json_quote", "json_remove", "json_replace", "json_set", "json_type",
    "json_valid", "json_group_array", "json_group_object", "->", "->>",
};

/* Tables a query may read: the store's own and its schema. (Table-valued
 * functions, json_each() and the pragma_*() tables, are refused: SQLite
 * asks to write the schema when it makes them.) */
static const char *const allowed_tables[] = {
    "models", "concepts", "rules", "experiments", "metrics", "sqlite_master", "sqlite_schema",
};

/* The guarded built-ins and how many arguments their guarded form takes
 * (trim() with one argument strips spaces and costs its length only). */
static const struct {
  const char *name;
  int nargs;
} guarded_builtins[QUERY_GUARDED_CALLS] = {
    {"instr", 2}, {"replace", 3}, {"trim", 2}, {"ltrim", 2}, {"rtrim", 2},
};

static bool in_list(const char *name, const char *const *list, size_t n) {
  for (size_t i = 0; name != NULL && i < n; i++) {
    if (strcasecmp(name, list[i]) == 0) return true;
  }
  return false;
}

/* The words for a refused action in the error ("INSERT into rules"). */
static const char *action_name(int action) {
  switch (action) {
    case SQLITE_INSERT: return "INSERT into";
    case SQLITE_UPDATE: return "UPDATE of";
    case SQLITE_DELETE: return "DELETE from";
    case SQLITE_PRAGMA: return "PRAGMA";
    case SQLITE_ATTACH: return "ATTACH of";
    case SQLITE_DETACH: return "DETACH of";
    case SQLITE_TRANSACTION: return "transaction control";
    case SQLITE_SAVEPOINT: return "SAVEPOINT";
    default: return "a statement that is not a SELECT:";
  }
}

/* Allows reading the listed tables of main and calling listed functions;
 * records what it refused in g->denied for the error message. A read
 * without a database is count(*) of a table or a CTE, which shows no
 * column. */
static int query_authorizer(void *arg, int action, const char *a, const char *b, const char *db,
                            const char *trigger) {
  query_guard *g = arg;
  (void)trigger;
  switch (action) {
    case SQLITE_SELECT:
    case SQLITE_RECURSIVE:
      return SQLITE_OK;
    case SQLITE_READ:
      if (db == NULL || (strcmp(db, "main") == 0 &&
                         in_list(a, allowed_tables, sizeof allowed_tables / sizeof allowed_tables[0]))) {
        return SQLITE_OK;
      }
      snprintf(g->denied, sizeof g->denied, "reading table '%.60s' of '%.20s' (the store's tables "
               "are models, concepts, rules, experiments, metrics)", a ? a : "?", db);
      return SQLITE_DENY;
    case SQLITE_FUNCTION:
      if (in_list(b, allowed_functions, sizeof allowed_functions / sizeof allowed_functions[0])) {
        return SQLITE_OK;
      }
      snprintf(g->denied, sizeof g->denied,
               "function %.60s() is not on the allow-list (see bridge/store/README.md)", b ? b : "?");
      return SQLITE_DENY;
    default:
      snprintf(g->denied, sizeof g->denied, "%s %.60s (the store is read-only here)",
               action_name(action), a ? a : "");
      return SQLITE_DENY;
  }
}

bool query_guard_expired(query_guard *g) {
  if (!g->timed_out && nsr_now_ns() >= g->deadline_ns) g->timed_out = true;
  return g->timed_out;
}

static int query_progress(void *arg) { return query_guard_expired(arg) ? 1 : 0; }

/* The helper connection's statement running the real built-in of c,
 * prepared at its first use; NULL (with a message in ctx) on failure. */
static sqlite3_stmt *delegate_of(guarded_call *c, sqlite3_context *ctx) {
  if (c->delegate != NULL) return c->delegate;
  query_guard *g = c->guard;
  if (g->helper == NULL) {
    if (sqlite3_open_v2(":memory:", &g->helper, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
      sqlite3_result_error_nomem(ctx);
      return NULL;
    }
    sqlite3_limit(g->helper, SQLITE_LIMIT_LENGTH, QUERY_MAX_VALUE_BYTES);
  }
  char sql[64];
  snprintf(sql, sizeof sql, "SELECT %s(?1, ?2%s)", c->name, c->nargs == 3 ? ", ?3" : "");
  if (sqlite3_prepare_v2(g->helper, sql, -1, &c->delegate, NULL) != SQLITE_OK) {
    sqlite3_result_error(ctx, sqlite3_errmsg(g->helper), -1);
    return NULL;
  }
  return c->delegate;
}

/* A guarded built-in: refuses a call whose first two arguments' lengths
 * multiply past QUERY_MAX_CALL_WORK, else returns what the real built-in
 * returns (its value or its error). */
static void guarded_func(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  guarded_call *c = sqlite3_user_data(ctx);
  long long work = (long long)sqlite3_value_bytes(argv[0]) * sqlite3_value_bytes(argv[1]);
  if (work > QUERY_MAX_CALL_WORK) {
    char msg[200];
    snprintf(msg, sizeof msg, "%s(): arguments of %d and %d bytes are too long together (their "
             "product may be at most %d)", c->name, sqlite3_value_bytes(argv[0]),
             sqlite3_value_bytes(argv[1]), QUERY_MAX_CALL_WORK);
    sqlite3_result_error(ctx, msg, -1);
    return;
  }
  sqlite3_stmt *st = delegate_of(c, ctx);
  if (st == NULL) return;
  for (int i = 0; i < argc; i++) sqlite3_bind_value(st, i + 1, argv[i]);
  if (sqlite3_step(st) == SQLITE_ROW) {
    sqlite3_result_value(ctx, sqlite3_column_value(st, 0)); /* a copy */
  } else if (sqlite3_errcode(c->guard->helper) == SQLITE_TOOBIG) {
    sqlite3_result_error_toobig(ctx);
  } else {
    sqlite3_result_error(ctx, sqlite3_errmsg(c->guard->helper), -1);
  }
  sqlite3_reset(st);
  sqlite3_clear_bindings(st);
}

/* Every cap on the connection's SQL, smaller than SQLite's defaults. */
static void set_limits(sqlite3 *db) {
  static const int limits[][2] = {
      {SQLITE_LIMIT_LENGTH, QUERY_MAX_VALUE_BYTES},
      {SQLITE_LIMIT_SQL_LENGTH, QUERY_MAX_SQL_BYTES},
      {SQLITE_LIMIT_COLUMN, 100},              /* columns of a result or index */
      {SQLITE_LIMIT_EXPR_DEPTH, 100},          /* nesting of one expression */
      {SQLITE_LIMIT_COMPOUND_SELECT, 50},      /* terms of a UNION chain */
      {SQLITE_LIMIT_VDBE_OP, 20000},           /* instructions of the compiled program */
      {SQLITE_LIMIT_FUNCTION_ARG, 32},         /* arguments of one call */
      {SQLITE_LIMIT_ATTACHED, 0},
      {SQLITE_LIMIT_LIKE_PATTERN_LENGTH, 1000},
      {SQLITE_LIMIT_VARIABLE_NUMBER, 0},       /* nothing is bound */
      {SQLITE_LIMIT_TRIGGER_DEPTH, 1},
      {SQLITE_LIMIT_WORKER_THREADS, 0},
  };
  for (size_t i = 0; i < sizeof limits / sizeof limits[0]; i++) {
    sqlite3_limit(db, limits[i][0], limits[i][1]);
  }
}

nsr_code query_guard_install(sqlite3 *db, query_guard *g, unsigned timeout_ms, nsr_error *err) {
  *g = (query_guard){.deadline_ns = nsr_now_ns() + (uint64_t)timeout_ms * 1000000ULL,
                     .timeout_ms = timeout_ms};
  set_limits(db);
  sqlite3_set_authorizer(db, query_authorizer, g);
  sqlite3_progress_handler(db, QUERY_PROGRESS_OPS, query_progress, g);
  for (int i = 0; i < QUERY_GUARDED_CALLS; i++) {
    guarded_call *c = &g->calls[i];
    *c = (guarded_call){g, guarded_builtins[i].name, guarded_builtins[i].nargs, NULL};
    if (sqlite3_create_function(db, c->name, c->nargs, SQLITE_UTF8 | SQLITE_DETERMINISTIC, c,
                                guarded_func, NULL, NULL) != SQLITE_OK) {
      return nsr_fail(err, NSR_ERR_NOMEM, "SQL guard: %s", sqlite3_errmsg(db));
    }
  }
  return NSR_OK;
}

void query_guard_release(query_guard *g) {
  for (int i = 0; i < QUERY_GUARDED_CALLS; i++) sqlite3_finalize(g->calls[i].delegate);
  sqlite3_close(g->helper);
  g->helper = NULL;
}
