/* fuzz_sql.c: libFuzzer harness for the read-only SQL path (nsr_store_query,
 * what `nsr sql` and the LLM tools use) against a small real store: the
 * concept library over 1..100, one model and a few rules. Whatever the
 * statement, the store must come out unchanged (checked by a row count that
 * a write would alter) and the call must return rows or a clean error. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nsr_store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char db_path[64];

static void make_store(void) {
  char dir[] = "/tmp/nsr-fuzz-sql-XXXXXX";
  if (mkdtemp(dir) == NULL) __builtin_trap();
  snprintf(db_path, sizeof db_path, "%s/nsr.db", dir);
  nsr_numbers_config cfg;
  nsr_numbers_config_default(&cfg);
  nsr_numbers *engine;
  nsr_store *store;
  int64_t model;
  nsr_store_rule rules[] = {
      {"alignment", 0, 17, "unit 17 > 0.42", "multiples of 4", 0.9, 0.8, 0.7, 40, NULL, NULL, NULL},
      {"probe", 1, -1, "probe(even) > 0.5", "even", 0.95, 0.9, 0.99, 50, NULL, NULL, NULL},
      {"cart", -1, -1, "x mod 10 == 0", "ends in 0", 1.0, 1.0, 1.0, 10, NULL, NULL, NULL},
  };
  if (nsr_numbers_new(&cfg, &engine, NULL) != NSR_OK) __builtin_trap();
  if (nsr_store_open(db_path, &store, NULL) != NSR_OK) __builtin_trap();
  if (nsr_store_sync_concepts(store, engine, NULL) != NSR_OK) __builtin_trap();
  if (nsr_store_add_model(store, "00ff", "m.safetensors", "{}", &model, NULL) != NSR_OK) {
    __builtin_trap();
  }
  if (nsr_store_add_rules(store, model, rules, 3, NULL) != NSR_OK) __builtin_trap();
  nsr_store_close(store);
  nsr_numbers_free(engine);
}

static json_int_t count_rules(void) {
  json_t *out;
  if (nsr_store_query(db_path, "SELECT count(*) FROM rules", 1, 5000, &out, NULL) != NSR_OK) {
    __builtin_trap();
  }
  json_int_t n = json_integer_value(json_array_get(json_array_get(json_object_get(out, "rows"), 0), 0));
  json_decref(out);
  return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (db_path[0] == '\0') make_store();
  char *sql = nsr_strndup((const char *)data, size);
  if (sql == NULL) return 0;
  json_t *out = NULL;
  if (nsr_store_query(db_path, sql, 50, 200, &out, NULL) == NSR_OK) json_decref(out);
  nsr_free(sql);
  if (count_rules() != 3) __builtin_trap();
  return 0;
}
