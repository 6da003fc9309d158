/* tools_rules.c: `query_rules` and the rules://{id} resources. */
#include "nsr_tools.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "json.h"
#include "nsr_store.h"
#include "tools_schema.h"

#define STR_(x) #x
#define STR(x) STR_(x)
#define RULE_URI_PREFIX "rules://"

static const char query_rules_description[] =
    "Runs one read-only SQL SELECT on nsr's rule store (SQLite) and returns the columns and "
    "rows. Tables: concepts(id, name, definition, size, extension, domain_max): the number "
    "game's concept library, each with a Church definition; rules(id, model_id, method, "
    "layer, unit, body, conclusion, fidelity, accuracy, completeness, support, created_at): "
    "rules extracted from networks; models(id, sha256, path, config_json, created_at); "
    "experiments and metrics. Writes, PRAGMA, ATTACH, second statements and functions off "
    "an allow-list (the usual scalar, aggregate, window, date, math and JSON ones; not "
    "printf or format) are refused; a value may hold " STR(NSR_STORE_MAX_VALUE_BYTES) " bytes and "
    "a result " STR(NSR_STORE_MAX_RESULT_BYTES) " bytes; at most "
    "`limit` rows come back (truncated says more existed); a query stops after "
    STR(TOOLS_RULES_TIMEOUT_MS) " ms. Rule r is also the resource rules://r.";

static const char query_rules_input[] =
    "{\"type\":\"object\",\"additionalProperties\":false,\"required\":[\"sql\"],"
    "\"properties\":{"
    "\"sql\":{\"type\":\"string\",\"maxLength\":" STR(NSR_STORE_MAX_SQL_BYTES) ",\"description\":\"one SELECT statement\"},"
    "\"limit\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":" STR(TOOLS_RULES_MAX_LIMIT)
    ",\"default\":" STR(TOOLS_RULES_DEFAULT_LIMIT) ",\"description\":\"most rows to return\"}}}";

static const char query_rules_output[] =
    "{\"type\":\"object\",\"required\":[\"columns\",\"rows\",\"truncated\"],\"properties\":{"
    "\"columns\":{\"type\":\"array\",\"items\":{\"type\":\"string\"}},"
    "\"rows\":{\"type\":\"array\",\"items\":{\"type\":\"array\"},"
    "\"description\":\"one array per row, in column order; blobs as hex\"},"
    "\"truncated\":{\"type\":\"boolean\",\"description\":\"more rows existed than limit\"}}}";

/* A missing store is the operator's to fix; say how. */
static nsr_code need_store(const char *db, nsr_error *err) {
  if (access(db, F_OK) == 0) return NSR_OK;
  return nsr_fail(err, NSR_ERR_INVALID,
                  "there is no rule store at '%s' yet: create it with 'nsr store init --db %s' "
                  "(or start nsr mcp with --db naming an existing one)",
                  db, db);
}

static nsr_code query_rules_call(void *p, const json_t *args, json_t **result, nsr_error *err) {
  const char *db = p;
  const json_t *limit = json_object_get(args, "limit");
  size_t max_rows = limit ? (size_t)json_integer_value(limit) : TOOLS_RULES_DEFAULT_LIMIT;
  nsr_code rc = need_store(db, err);
  if (rc == NSR_OK) {
    rc = nsr_store_query(db, json_string_value(json_object_get(args, "sql")), max_rows,
                         TOOLS_RULES_TIMEOUT_MS, result, err);
  }
  return rc;
}

nsr_code tools_add_query_rules(tools_registry *reg, const char *db_path, nsr_error *err) {
  char *db = nsr_strdup(db_path);
  if (db == NULL) return nsr_fail(err, NSR_ERR_NOMEM, "query_rules: out of memory");
  tool_def def = {"query_rules", query_rules_description, NULL, NULL, query_rules_call, db,
                  nsr_free, true};
  return tools_register_literal(reg, &def, query_rules_input, query_rules_output, err);
}

/* ---- resources ------------------------------------------------------------ */

#define RULE_COLUMNS                                                                   \
  "id, model_id, method, layer, unit, body, conclusion, fidelity, accuracy, completeness, " \
  "support, created_at"

/* A positive decimal rule id with nothing around it. */
static bool parse_id(const char *text, int64_t *out) {
  if (text == NULL || text[0] < '1' || text[0] > '9' || strlen(text) > 18) return false;
  char *end;
  errno = 0;
  long long v = strtoll(text, &end, 10);
  if (errno != 0 || *end != '\0') return false;
  *out = v;
  return true;
}

/* One page of rules after id `after`, as MCP Resource objects. */
static nsr_code rules_list(void *ctx, const char *cursor, json_t **result, nsr_error *err) {
  const char *db = ctx;
  int64_t after = 0;
  if (cursor && !parse_id(cursor, &after)) {
    return nsr_fail(err, NSR_ERR_INVALID, "resources/list: unknown cursor '%.40s'", cursor);
  }
  json_t *page = NULL;
  if (access(db, F_OK) == 0) {
    char sql[160];
    snprintf(sql, sizeof sql,
             "SELECT id, method, body, conclusion FROM rules WHERE id > %" PRId64 " ORDER BY id",
             after);
    nsr_code rc = nsr_store_query(db, sql, TOOLS_RULES_PAGE, TOOLS_RULES_TIMEOUT_MS, &page, err);
    if (rc != NSR_OK) return rc;
  }
  json_t *resources = json_array();
  const json_t *rows = json_object_get(page, "rows"), *row = NULL;
  size_t i;
  nsr_code rc = resources ? NSR_OK : nsr_fail(err, NSR_ERR_NOMEM, "out of memory");
  json_array_foreach(rows, i, row) {
    if (rc != NSR_OK) break;
    json_int_t id = json_integer_value(json_array_get(row, 0));
    char uri[40], name[40];
    snprintf(uri, sizeof uri, RULE_URI_PREFIX "%" JSON_INTEGER_FORMAT, id);
    snprintf(name, sizeof name, "rule %" JSON_INTEGER_FORMAT, id);
    json_t *title = json_sprintf("%s => %s", json_string_value(json_array_get(row, 2)),
                                 json_string_value(json_array_get(row, 3)));
    rc = nsr_json_append(resources,
                         json_pack("{s:s, s:s, s:o, s:s, s:s}", "uri", uri, "name", name, "title",
                                   title, "description", json_string_value(json_array_get(row, 1)),
                                   "mimeType", "application/json"),
                         err);
  }
  *result = rc == NSR_OK ? json_pack("{s:o}", "resources", resources) : NULL;
  if (rc == NSR_OK) resources = NULL;
  if (*result && json_is_true(json_object_get(page, "truncated"))) {
    char next[24];
    snprintf(next, sizeof next, "%" JSON_INTEGER_FORMAT,
             json_integer_value(json_array_get(json_array_get(rows, i - 1), 0)));
    json_object_set_new(*result, "nextCursor", json_string(next));
  }
  json_decref(resources);
  json_decref(page);
  if (rc == NSR_OK && *result == NULL) rc = nsr_fail(err, NSR_ERR_NOMEM, "out of memory");
  return rc;
}

/* The rule as one JSON object, column name to value. */
static nsr_code rule_object(const json_t *page, json_t **out, nsr_error *err) {
  const json_t *columns = json_object_get(page, "columns");
  const json_t *row = json_array_get(json_object_get(page, "rows"), 0);
  *out = json_object();
  nsr_code rc = *out ? NSR_OK : nsr_fail(err, NSR_ERR_NOMEM, "out of memory");
  for (size_t c = 0; rc == NSR_OK && c < json_array_size(columns); c++) {
    rc = nsr_json_set(*out, json_string_value(json_array_get(columns, c)),
                      json_incref(json_array_get(row, c)), err);
  }
  return rc;
}

static nsr_code rules_read(void *ctx, const char *uri, json_t **result, nsr_error *err) {
  const char *db = ctx;
  int64_t id;
  size_t prefix = strlen(RULE_URI_PREFIX);
  if (strncmp(uri, RULE_URI_PREFIX, prefix) != 0 || !parse_id(uri + prefix, &id)) {
    return nsr_fail(err, NSR_ERR_INVALID,
                    "Resource not found: '%.100s' (rules are rules://ID, ID a positive integer)", uri);
  }
  if (access(db, F_OK) != 0) {
    return nsr_fail(err, NSR_ERR_INVALID, "Resource not found: '%.100s' (no rule store at '%.200s')",
                    uri, db);
  }
  char sql[200];
  snprintf(sql, sizeof sql, "SELECT " RULE_COLUMNS " FROM rules WHERE id = %" PRId64, id);
  json_t *page = NULL, *rule = NULL;
  nsr_code rc = nsr_store_query(db, sql, 1, TOOLS_RULES_TIMEOUT_MS, &page, err);
  if (rc == NSR_OK && json_array_size(json_object_get(page, "rows")) == 0) {
    rc = nsr_fail(err, NSR_ERR_INVALID, "Resource not found: '%.100s' (no rule has that id)", uri);
  }
  if (rc == NSR_OK) rc = rule_object(page, &rule, err);
  char *text = rc == NSR_OK ? nsr_json_dump(rule) : NULL;
  if (rc == NSR_OK && text == NULL) rc = nsr_fail(err, NSR_ERR_NOMEM, "out of memory");
  if (rc == NSR_OK) {
    *result = json_pack("{s:[{s:s, s:s, s:s}]}", "contents", "uri", uri, "mimeType",
                        "application/json", "text", text);
    if (*result == NULL) rc = nsr_fail(err, NSR_ERR_NOMEM, "out of memory");
  }
  free(text);
  json_decref(rule);
  json_decref(page);
  return rc;
}

static nsr_code rules_templates(void *ctx, json_t **result, nsr_error *err) {
  (void)ctx;
  *result = json_pack("{s:[{s:s, s:s, s:s, s:s, s:s}]}", "resourceTemplates", "uriTemplate",
                      RULE_URI_PREFIX "{id}", "name", "rule", "title", "A rule from the rule store",
                      "description",
                      "One row of the rules table (body => conclusion, method, fidelity, ...) "
                      "as a JSON object; id is the row's id",
                      "mimeType", "application/json");
  return *result ? NSR_OK : nsr_fail(err, NSR_ERR_NOMEM, "out of memory");
}

mcp_resources tools_rules_resources(const char *db_path) {
  return (mcp_resources){rules_list, rules_read, rules_templates, (void *)db_path};
}
