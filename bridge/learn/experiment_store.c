/* store_metrics.c: experiment results into the rule store's experiments,
 * models and metrics tables, in one transaction on the store's connection. */
#include <sqlite3.h>

#include "nsr_learn.h"
#include "nsr_store.h"

static nsr_code db_fail(sqlite3 *db, const char *path, const char *what, nsr_error *err) {
  return nsr_fail(err, NSR_ERR_IO, "rule store '%s': %s: %s", path, what, sqlite3_errmsg(db));
}

nsr_code nsr_store_add_experiment(const char *path, const char *name, const char *config_json,
                                  const nsr_experiment_model *models, size_t n_models,
                                  const nsr_metric *metrics, size_t n, int64_t *id,
                                  nsr_error *err) {
  nsr_store *store;
  if (nsr_store_open(path, &store, err) != NSR_OK) return err->code;
  int64_t *model_ids = nsr_mallocarray(n_models ? n_models : 1, sizeof *model_ids);
  if (model_ids == NULL) {
    nsr_store_close(store);
    return nsr_fail(err, NSR_ERR_NOMEM, "recording an experiment: out of memory");
  }
  sqlite3 *db = nsr_store_sqlite(store);
  sqlite3_stmt *exp = NULL, *met = NULL;
  nsr_code rc = NSR_OK;
  if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK ||
      sqlite3_prepare_v2(db, "INSERT INTO experiments(name, config_json) VALUES (?, ?)", -1, &exp, NULL) != SQLITE_OK ||
      sqlite3_prepare_v2(db, "INSERT INTO metrics(experiment_id, name, method, seed, n_train, step, value,"
                             " model_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", -1, &met, NULL) != SQLITE_OK) {
    rc = db_fail(db, path, "prepare", err);
  }
  if (rc == NSR_OK) {
    sqlite3_bind_text(exp, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_text(exp, 2, config_json, -1, SQLITE_STATIC);
    if (sqlite3_step(exp) != SQLITE_DONE) rc = db_fail(db, path, "insert experiment", err);
    *id = sqlite3_last_insert_rowid(db);
  }
  for (size_t j = 0; rc == NSR_OK && j < n_models; j++) {
    rc = nsr_store_add_model(store, models[j].sha256, NULL, models[j].config_json, &model_ids[j], err);
  }
  for (size_t i = 0; rc == NSR_OK && i < n; i++) {
    const nsr_metric *m = &metrics[i];
    sqlite3_reset(met);
    sqlite3_bind_int64(met, 1, *id);
    sqlite3_bind_text(met, 2, m->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(met, 3, m->method, -1, SQLITE_STATIC);
    sqlite3_bind_int64(met, 4, m->seed);
    sqlite3_bind_int64(met, 5, m->n_train);
    sqlite3_bind_int64(met, 6, m->step);
    sqlite3_bind_double(met, 7, m->value);
    if (m->model > 0 && (size_t)m->model <= n_models) {
      sqlite3_bind_int64(met, 8, model_ids[m->model - 1]);
    } else {
      sqlite3_bind_null(met, 8);
    }
    if (sqlite3_step(met) != SQLITE_DONE) rc = db_fail(db, path, "insert metric", err);
  }
  sqlite3_finalize(exp);
  sqlite3_finalize(met);
  if (rc == NSR_OK && sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
    rc = db_fail(db, path, "commit", err);
  }
  if (rc != NSR_OK) sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
  nsr_free(model_ids);
  nsr_store_close(store);
  return rc;
}
