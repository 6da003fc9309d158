/* nsr_store.h: the public API of the SQLite rule store (bridge/store/).
 * Sources and private headers live in that folder. */
#ifndef NSR_STORE_PUBLIC_H
#define NSR_STORE_PUBLIC_H

#include <jansson.h>

#include "nsr_core.h"
#include "nsr_symbolic.h"
#include "nsr_space.h"
#include "nsr_neural.h"

/* ---- store --------------------------------------------------------------- */
/* store: the SQLite rule store. One database file (nsr.db by default)
 * holds the models, the concept library, extracted rules, and experiment
 * metrics. Writers use WAL mode and one transaction per batch; readers from
 * tools and `nsr sql` use a separate read-only connection (store_query.c). */

#define NSR_STORE_DEFAULT_PATH "nsr.db"
/* The schema version this build creates and understands (PRAGMA user_version). */
#define NSR_STORE_SCHEMA_VERSION 3

typedef struct nsr_store nsr_store;

/* One extracted rule, as stored. Strings are borrowed for the call. */
/* Schema 3: a rule measured on a sample of the domain. sample_size 0 means
 * the metrics are exact (over the whole domain) and the columns stay NULL. */
typedef struct nsr_store_sample {
  int64_t size;           /* inputs in the sample */
  double fidelity[2];     /* Wilson 95% interval [lo, hi]; NAN when not measured */
  double accuracy[2];
  double completeness[2];
} nsr_store_sample;

typedef struct nsr_store_rule {
  const char *method;      /* "alignment", "probe", "cart", ... */
  int64_t layer, unit;     /* -1 when not applicable */
  const char *body;        /* the condition, readable ("unit 17 > 0.42") */
  const char *conclusion;  /* what it predicts ("multiples of 4") */
  double fidelity, accuracy, completeness; /* NAN when not measured */
  int64_t support;         /* inputs the rule covers */
  /* Schema 2; NULL stores NULL, so older initialisers stay valid. */
  const char *site;        /* where in the network: "ffn.0", "resid.1", "pooled" */
  const char *church;      /* the rule (or its concept) as a Church predicate */
  const char *details;     /* method-specific JSON (threshold, control accuracy, ...) */
} nsr_store_rule;

/* Routes every SQLite allocation through nsr_malloc (so failure injection
 * covers the store). Call once, before any other use of SQLite in the
 * process; NSR_ERR_INTERNAL when SQLite has already been initialised. */
nsr_code nsr_store_route_alloc(nsr_error *err);

/* Opens (creating if needed) the store at `path` for writing, bringing its
 * schema up to date with numbered migrations. Fails with NSR_ERR_FORMAT when
 * the file is not a SQLite database or its schema is newer than this build,
 * and with NSR_ERR_IO, before writing anything, when PRAGMA quick_check
 * finds the file damaged.
 * The caller closes it with nsr_store_close. */
nsr_code nsr_store_open(const char *path, nsr_store **out, nsr_error *err);
void nsr_store_close(nsr_store *store);

/* Writes the concept library for `engine`'s universe (its 34 rules, each
 * with a Church definition and its extension) unless already there.
 * Idempotent. */
nsr_code nsr_store_sync_concepts(nsr_store *store, const nsr_numbers *engine,
                                 nsr_error *err);

/* A concept to store: name, Church definition, extension over [0, N]. */
typedef struct nsr_store_concept {
  const char *name;
  const char *definition;
  const nsr_bitset *extension;
} nsr_store_concept;

/* Writes concepts over 1..max in one transaction; a concept whose name is
 * already there for this domain is kept as it is. */
nsr_code nsr_store_add_concepts(nsr_store *store, const nsr_store_concept *concepts, size_t n,
                                uint32_t max, nsr_error *err);

/* Records a model (by the SHA-256 of its weights, hex) and returns its id;
 * an existing model with the same hash keeps its id. */
nsr_code nsr_store_add_model(nsr_store *store, const char *sha256, const char *path,
                             const char *config_json, int64_t *id, nsr_error *err);

/* Inserts n rules for model_id in one transaction: all or none. */
nsr_code nsr_store_add_rules(nsr_store *store, int64_t model_id,
                             const nsr_store_rule *rules, size_t n, nsr_error *err);

/* One extraction in one transaction: records the model (as
 * nsr_store_add_model), deletes its earlier rules of the methods in the
 * batch (rules of one method must be adjacent), and inserts the batch, with
 * samples[i] the sampling columns of rules[i] (samples NULL: every rule is
 * exact). All or nothing. */
nsr_code nsr_store_add_extraction(nsr_store *store, const char *sha256, const char *path,
                                  const char *config_json, const nsr_store_rule *rules,
                                  const nsr_store_sample *samples, size_t n, int64_t *model_id,
                                  nsr_error *err);

/* The store's SQLite connection, for the store's own modules
 * (store_metrics.c) that write tables store.c does not; valid until
 * nsr_store_close. */
struct sqlite3 *nsr_store_sqlite(nsr_store *store);

/* The caps of nsr_store_query: the most bytes of one string or blob, of
 * one result's text and blobs (blobs counted as hex), and of the
 * statement's text. */
#define NSR_STORE_MAX_VALUE_BYTES 262144
#define NSR_STORE_MAX_RESULT_BYTES 8388608
#define NSR_STORE_MAX_SQL_BYTES 100000

/* Runs one read-only SQL statement on the store at `path` through a
 * read-only connection: an authorizer allows reading the store's tables
 * and calling the functions of an allow-list only (bridge/store/README.md),
 * more than one statement is refused, values, the statement and the result
 * are capped (NSR_STORE_MAX_*), at most max_rows rows are returned (then
 * "truncated" is true), and execution stops after timeout_ms: NSR_ERR_LIMIT
 * for the time and the result caps, NSR_ERR_INVALID for refused SQL.
 * *out is {"columns":[..], "rows":[[..],..], "truncated":bool}; the caller
 * frees it. */
nsr_code nsr_store_query(const char *path, const char *sql, size_t max_rows,
                         unsigned timeout_ms, json_t **out, nsr_error *err);

#endif
