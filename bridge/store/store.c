/* store.c: the rule store's writer side: schema migrations, the concept
 * library, models and rules. Every write runs in a transaction. */
#include "nsr_store.h"
#include "testhook.h"

#include <math.h>
#include <sqlite3.h>
#include <string.h>
#include <time.h>

struct nsr_store {
  sqlite3 *db;
  char *path;
};

/* Migration k brings user_version from k-1 to k. Append; never edit. */
static const char *const migrations[] = {
    /* 1: the initial schema */
    "CREATE TABLE models("
    "  id INTEGER PRIMARY KEY,"
    "  sha256 TEXT NOT NULL UNIQUE,"
    "  path TEXT,"
    "  config_json TEXT NOT NULL,"
    "  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')));"
    "CREATE TABLE concepts("
    "  id INTEGER PRIMARY KEY,"
    "  name TEXT NOT NULL,"
    "  definition TEXT NOT NULL,"     /* a Church predicate */
    "  size INTEGER NOT NULL,"
    "  extension BLOB NOT NULL,"      /* little-endian bitset: bit y set when y is in */
    "  domain_max INTEGER NOT NULL,"  /* the universe is 1..domain_max */
    "  UNIQUE(name, domain_max));"
    "CREATE TABLE rules("
    "  id INTEGER PRIMARY KEY,"
    "  model_id INTEGER NOT NULL REFERENCES models(id) ON DELETE CASCADE,"
    "  method TEXT NOT NULL,"
    "  layer INTEGER,"
    "  unit INTEGER,"
    "  body TEXT NOT NULL,"
    "  conclusion TEXT NOT NULL,"
    "  fidelity REAL,"
    "  accuracy REAL,"
    "  completeness REAL,"
    "  support INTEGER,"
    "  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')));"
    "CREATE INDEX rules_by_model_method ON rules(model_id, method);"
    "CREATE INDEX rules_by_conclusion ON rules(conclusion);"
    "CREATE INDEX rules_by_fidelity ON rules(fidelity);"
    "CREATE TABLE experiments("
    "  id INTEGER PRIMARY KEY,"
    "  name TEXT NOT NULL,"
    "  config_json TEXT NOT NULL,"
    "  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')));"
    "CREATE TABLE metrics("
    "  id INTEGER PRIMARY KEY,"
    "  experiment_id INTEGER REFERENCES experiments(id) ON DELETE CASCADE,"
    "  model_id INTEGER REFERENCES models(id) ON DELETE CASCADE,"
    "  name TEXT NOT NULL,"
    "  method TEXT,"
    "  seed INTEGER,"
    "  n_train INTEGER,"
    "  step INTEGER,"
    "  value REAL NOT NULL);"
    "CREATE INDEX metrics_by_experiment ON metrics(experiment_id, name);",
    /* 2: where a rule lives in the network, its Church predicate, and the
     * method's own numbers (extraction) */
    "ALTER TABLE rules ADD COLUMN site TEXT;"
    "ALTER TABLE rules ADD COLUMN church TEXT;"
    "ALTER TABLE rules ADD COLUMN details TEXT;",
    /* 3: rules measured on a sample of a domain too large to enumerate:
     * the sample size and Wilson 95% intervals (NULL when exact). */
    "ALTER TABLE rules ADD COLUMN sample_size INTEGER;"
    "ALTER TABLE rules ADD COLUMN fidelity_lo REAL;"
    "ALTER TABLE rules ADD COLUMN fidelity_hi REAL;"
    "ALTER TABLE rules ADD COLUMN accuracy_lo REAL;"
    "ALTER TABLE rules ADD COLUMN accuracy_hi REAL;"
    "ALTER TABLE rules ADD COLUMN completeness_lo REAL;"
    "ALTER TABLE rules ADD COLUMN completeness_hi REAL;",
};
_Static_assert(sizeof migrations / sizeof migrations[0] == NSR_STORE_SCHEMA_VERSION,
               "one migration per schema version");

static nsr_code sql_fail(nsr_store *s, nsr_code code, const char *what, nsr_error *err) {
  return nsr_fail(err, code, "rule store '%s': %s: %s", s->path, what, sqlite3_errmsg(s->db));
}

/* Runs statements that return no rows. */
static nsr_code store_exec(nsr_store *s, const char *sql, const char *what, nsr_error *err) {
  char *msg = NULL;
  if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
    nsr_code rc = nsr_fail(err, NSR_ERR_IO, "rule store '%s': %s: %s", s->path, what,
                           msg ? msg : sqlite3_errmsg(s->db));
    sqlite3_free(msg);
    return rc;
  }
  return NSR_OK;
}

static nsr_code read_user_version(nsr_store *s, int *version, nsr_error *err) {
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK) {
    /* "file is not a database" surfaces here. */
    return sql_fail(s, NSR_ERR_FORMAT, "reading the schema version", err);
  }
  int rc = sqlite3_step(st);
  *version = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
  sqlite3_finalize(st);
  if (rc != SQLITE_ROW) return sql_fail(s, NSR_ERR_FORMAT, "reading the schema version", err);
  return NSR_OK;
}

/* Applies the missing migrations, each with its version bump in one
 * transaction, so a crash leaves a consistent version. */
static nsr_code migrate(nsr_store *s, nsr_error *err) {
  int version;
  nsr_code rc = read_user_version(s, &version, err);
  if (rc != NSR_OK) return rc;
  if (version > NSR_STORE_SCHEMA_VERSION) {
    return nsr_fail(err, NSR_ERR_FORMAT,
                    "rule store '%s' has schema version %d; this nsr understands up to %d",
                    s->path, version, NSR_STORE_SCHEMA_VERSION);
  }
  for (int v = version; v < NSR_STORE_SCHEMA_VERSION; v++) {
    char bump[64];
    snprintf(bump, sizeof bump, "PRAGMA user_version = %d;", v + 1);
    rc = store_exec(s, "BEGIN IMMEDIATE", "starting a migration", err);
    if (rc == NSR_OK) rc = store_exec(s, migrations[v], "migrating the schema", err);
    if (rc == NSR_OK) rc = store_exec(s, bump, "migrating the schema", err);
    if (rc == NSR_OK) rc = store_exec(s, "COMMIT", "committing a migration", err);
    if (rc != NSR_OK) {
      sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
      return rc;
    }
  }
  return NSR_OK;
}

/* Refuses a damaged file before anything is written to it: PRAGMA
 * quick_check reads every page and answers "ok" or the first problems. */
static nsr_code check_intact(nsr_store *s, nsr_error *err) {
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(s->db, "PRAGMA quick_check(1)", -1, &st, NULL) != SQLITE_OK) {
    return sql_fail(s, NSR_ERR_IO, "checking the file", err);
  }
  int rc = sqlite3_step(st);
  const char *answer = rc == SQLITE_ROW ? (const char *)sqlite3_column_text(st, 0) : NULL;
  nsr_code code = NSR_OK;
  if (answer == NULL) {
    code = sql_fail(s, NSR_ERR_IO, "checking the file (PRAGMA quick_check)", err);
  } else if (strcmp(answer, "ok") != 0) {
    char first[200]; /* the first problem, on one line */
    snprintf(first, sizeof first, "%s", answer);
    for (char *p = first; *p; p++) *p = *p == '\n' ? ' ' : *p;
    code = nsr_fail(err, NSR_ERR_IO, "rule store '%s' is damaged (PRAGMA quick_check: %s); "
                    "nothing was written: restore it from a copy or remove it", s->path, first);
  }
  sqlite3_finalize(st);
  return code;
}

nsr_code nsr_store_open(const char *path, nsr_store **out, nsr_error *err) {
  *out = NULL;
  nsr_store *s = nsr_calloc(1, sizeof *s);
  char *copy = nsr_strdup(path);
  if (s == NULL || copy == NULL) {
    nsr_free(s);
    nsr_free(copy);
    return nsr_fail(err, NSR_ERR_NOMEM, "opening rule store '%s': out of memory", path);
  }
  s->path = copy;
  nsr_code rc;
  if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
    rc = s->db ? sql_fail(s, NSR_ERR_IO, "opening", err)
               : nsr_fail(err, NSR_ERR_NOMEM, "opening rule store '%s': out of memory", path);
    goto fail;
  }
  sqlite3_busy_timeout(s->db, 5000);
  rc = store_exec(s, "PRAGMA foreign_keys = ON", "configuring", err);
  if (rc != NSR_OK) goto fail;
  int version;
  rc = read_user_version(s, &version, err);
  if (rc == NSR_OK) rc = check_intact(s, err);
  if (rc != NSR_OK) goto fail;
  /* WAL: readers never block the writer and a crash never tears a commit. */
  rc = store_exec(s, "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;"
                  " PRAGMA cache_size = -65536",
                  "configuring the journal", err);
  if (rc == NSR_OK) rc = migrate(s, err);
  if (rc != NSR_OK) goto fail;
  *out = s;
  return NSR_OK;
fail:
  nsr_store_close(s);
  return rc;
}

struct sqlite3 *nsr_store_sqlite(nsr_store *store) { return store->db; }

void nsr_store_close(nsr_store *store) {
  if (store == NULL) return;
  sqlite3_close(store->db);
  nsr_free(store->path);
  nsr_free(store);
}

/* Serialises the members of a rule set over [0, N] as little-endian bytes:
 * bit y of the blob is set when y is in the set. */
static size_t extension_blob(const nsr_bitset *set, unsigned char *blob) {
  size_t bytes = (set->nbits + 7) / 8;
  memset(blob, 0, bytes);
  for (size_t y = nsr_bitset_next(set, 0); y < set->nbits; y = nsr_bitset_next(set, y + 1)) {
    blob[y / 8] |= (unsigned char)(1u << (y % 8));
  }
  return bytes;
}

nsr_code nsr_store_add_concepts(nsr_store *s, const nsr_store_concept *concepts, size_t n,
                                uint32_t max, nsr_error *err) {
  size_t blob_cap = (size_t)max / 8 + 1;
  unsigned char *blob = nsr_malloc(blob_cap);
  if (blob == NULL) return nsr_fail(err, NSR_ERR_NOMEM, "concept library: out of memory");
  sqlite3_stmt *st = NULL;
  nsr_code rc = store_exec(s, "BEGIN IMMEDIATE", "writing concepts", err);
  if (rc == NSR_OK &&
      sqlite3_prepare_v2(s->db,
                         "INSERT OR IGNORE INTO concepts(name, definition, size, extension, domain_max)"
                         " VALUES (?1, ?2, ?3, ?4, ?5)",
                         -1, &st, NULL) != SQLITE_OK) {
    rc = sql_fail(s, NSR_ERR_IO, "writing concepts", err);
  }
  for (size_t i = 0; rc == NSR_OK && i < n; i++) {
    size_t bytes = extension_blob(concepts[i].extension, blob);
    sqlite3_bind_text(st, 1, concepts[i].name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, concepts[i].definition, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)nsr_bitset_count(concepts[i].extension));
    sqlite3_bind_blob(st, 4, blob, (int)bytes, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 5, max);
    if (sqlite3_step(st) != SQLITE_DONE) rc = sql_fail(s, NSR_ERR_IO, "writing concepts", err);
    sqlite3_reset(st);
  }
  sqlite3_finalize(st);
  nsr_free(blob);
  if (rc == NSR_OK) return store_exec(s, "COMMIT", "committing concepts", err);
  sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
  return rc;
}

nsr_code nsr_store_sync_concepts(nsr_store *s, const nsr_numbers *engine, nsr_error *err) {
  char definitions[NSR_NUMBERS_RULES][256];
  nsr_store_concept rules[NSR_NUMBERS_RULES];
  for (uint32_t r = 0; r < NSR_NUMBERS_RULES; r++) {
    nsr_numbers_rule_church(r, definitions[r], sizeof definitions[r]);
    rules[r] = (nsr_store_concept){nsr_numbers_rule_name(r), definitions[r],
                                   nsr_numbers_rule_set(engine, r)};
  }
  return nsr_store_add_concepts(s, rules, NSR_NUMBERS_RULES, nsr_numbers_get_config(engine)->max,
                                err);
}

nsr_code nsr_store_add_model(nsr_store *s, const char *sha256, const char *path,
                             const char *config_json, int64_t *id, nsr_error *err) {
  sqlite3_stmt *st;
  /* The no-op update makes RETURNING give the id of an existing row too. */
  if (sqlite3_prepare_v2(s->db,
                         "INSERT INTO models(sha256, path, config_json) VALUES (?1, ?2, ?3)"
                         " ON CONFLICT(sha256) DO UPDATE SET sha256 = excluded.sha256"
                         " RETURNING id",
                         -1, &st, NULL) != SQLITE_OK) {
    return sql_fail(s, NSR_ERR_IO, "recording a model", err);
  }
  sqlite3_bind_text(st, 1, sha256, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, path, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 3, config_json, -1, SQLITE_STATIC);
  nsr_code rc = NSR_OK;
  if (sqlite3_step(st) == SQLITE_ROW) *id = sqlite3_column_int64(st, 0);
  else rc = sql_fail(s, NSR_ERR_IO, "recording a model", err);
  sqlite3_finalize(st);
  return rc;
}

static void bind_real_or_null(sqlite3_stmt *st, int col, double v) {
  if (isnan(v)) sqlite3_bind_null(st, col);
  else sqlite3_bind_double(st, col, v);
}

static void bind_int_or_null(sqlite3_stmt *st, int col, int64_t v) {
  if (v < 0) sqlite3_bind_null(st, col);
  else sqlite3_bind_int64(st, col, v);
}

/* Columns col .. col + 6: the sample size and the three intervals, all
 * NULL for an exact rule. */
static void bind_sample(sqlite3_stmt *st, int col, const nsr_store_sample *sample) {
  bool exact = sample->size <= 0;
  bind_int_or_null(st, col, exact ? -1 : sample->size);
  const double *ci[3] = {sample->fidelity, sample->accuracy, sample->completeness};
  for (int k = 0; k < 3; k++) {
    bind_real_or_null(st, col + 1 + 2 * k, exact ? NAN : ci[k][0]);
    bind_real_or_null(st, col + 2 + 2 * k, exact ? NAN : ci[k][1]);
  }
}

/* Inserts the rules inside the caller's transaction. */
static nsr_code insert_rules(nsr_store *s, int64_t model_id, const nsr_store_rule *rules,
                             const nsr_store_sample *samples, size_t n, nsr_error *err) {
  static const nsr_store_sample exact = {0};
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2(s->db,
                         "INSERT INTO rules(model_id, method, layer, unit, body, conclusion,"
                         " fidelity, accuracy, completeness, support, created_at, site, church,"
                         " details, sample_size, fidelity_lo, fidelity_hi, accuracy_lo,"
                         " accuracy_hi, completeness_lo, completeness_hi)"
                         " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14,"
                         " ?15, ?16, ?17, ?18, ?19, ?20, ?21)",
                         -1, &st, NULL) != SQLITE_OK) {
    return sql_fail(s, NSR_ERR_IO, "writing rules", err);
  }
  /* One batch, one time stamp: formatting it per row would cost more than
   * the insert itself. */
  char stamp[32];
  time_t now = time(NULL);
  struct tm tm;
  gmtime_r(&now, &tm);
  strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm);
  sqlite3_bind_text(st, 11, stamp, -1, SQLITE_STATIC);
  nsr_code rc = NSR_OK;
  for (size_t i = 0; rc == NSR_OK && i < n; i++) {
    const nsr_store_rule *r = &rules[i];
    sqlite3_bind_int64(st, 1, model_id);
    sqlite3_bind_text(st, 2, r->method, -1, SQLITE_STATIC);
    bind_int_or_null(st, 3, r->layer);
    bind_int_or_null(st, 4, r->unit);
    sqlite3_bind_text(st, 5, r->body, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, r->conclusion, -1, SQLITE_STATIC);
    bind_real_or_null(st, 7, r->fidelity);
    bind_real_or_null(st, 8, r->accuracy);
    bind_real_or_null(st, 9, r->completeness);
    bind_int_or_null(st, 10, r->support);
    sqlite3_bind_text(st, 12, r->site, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 13, r->church, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 14, r->details, -1, SQLITE_STATIC);
    bind_sample(st, 15, samples ? &samples[i] : &exact);
    if (sqlite3_step(st) != SQLITE_DONE) rc = sql_fail(s, NSR_ERR_IO, "writing rules", err);
    sqlite3_reset(st);
  }
  sqlite3_finalize(st);
  return rc;
}

/* Ends the transaction begun by the caller: COMMIT after success, else
 * ROLLBACK and the original error. */
static nsr_code finish(nsr_store *s, nsr_code rc, nsr_error *err) {
  if (rc == NSR_OK) return store_exec(s, "COMMIT", "committing rules", err);
  sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
  return rc;
}

nsr_code nsr_store_add_rules(nsr_store *s, int64_t model_id, const nsr_store_rule *rules,
                             size_t n, nsr_error *err) {
  nsr_code rc = store_exec(s, "BEGIN IMMEDIATE", "writing rules", err);
  if (rc != NSR_OK) return rc;
  return finish(s, insert_rules(s, model_id, rules, NULL, n, err), err);
}

/* Deletes the model's earlier rules of every method present in the batch,
 * so extracting again replaces instead of duplicating. */
static nsr_code delete_methods(nsr_store *s, int64_t model_id, const nsr_store_rule *rules,
                               size_t n, nsr_error *err) {
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(s->db, "DELETE FROM rules WHERE model_id = ?1 AND method = ?2", -1, &st,
                         NULL) != SQLITE_OK) {
    return sql_fail(s, NSR_ERR_IO, "replacing rules", err);
  }
  nsr_code rc = NSR_OK;
  for (size_t i = 0; rc == NSR_OK && i < n; i++) {
    if (i > 0 && strcmp(rules[i].method, rules[i - 1].method) == 0) continue;
    sqlite3_bind_int64(st, 1, model_id);
    sqlite3_bind_text(st, 2, rules[i].method, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE) rc = sql_fail(s, NSR_ERR_IO, "replacing rules", err);
    sqlite3_reset(st);
  }
  sqlite3_finalize(st);
  return rc;
}

nsr_code nsr_store_add_extraction(nsr_store *s, const char *sha256, const char *path,
                                  const char *config_json, const nsr_store_rule *rules,
                                  const nsr_store_sample *samples, size_t n, int64_t *model_id,
                                  nsr_error *err) {
  nsr_code rc = store_exec(s, "BEGIN IMMEDIATE", "writing an extraction", err);
  if (rc != NSR_OK) return rc;
  rc = nsr_store_add_model(s, sha256, path, config_json, model_id, err);
  if (rc == NSR_OK) rc = delete_methods(s, *model_id, rules, n, err);
  if (rc == NSR_OK) rc = insert_rules(s, *model_id, rules, samples, n, err);
  if (rc == NSR_OK) nsr_test_hook("store-commit");
  return finish(s, rc, err);
}
