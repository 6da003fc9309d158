/* cmd_store.c: `nsr store init`, `nsr sql` and `nsr rules`: the SQLite rule
 * store from the command line. Reads go through nsr_store_query, the same
 * read-only, authorised, row- and time-capped path the LLM tools use. */
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "json.h"
#include "sha256.h"
#include "store.h"

#define DEFAULT_ROW_LIMIT 1000
#define DEFAULT_TIMEOUT_MS 5000
#define TABLE_MAX_WIDTH 60

typedef enum output_format { OUT_TABLE, OUT_JSON, OUT_CSV } output_format;

/* ---- printing a query result ------------------------------------------- */

/* A cell as display text into buf (NULL prints as empty). */
static const char *cell_text(const json_t *v, char *buf, size_t len) {
  if (json_is_string(v)) return json_string_value(v);
  if (json_is_integer(v)) snprintf(buf, len, "%lld", (long long)json_integer_value(v));
  else if (json_is_real(v)) snprintf(buf, len, "%.10g", json_real_value(v));
  else buf[0] = '\0';
  return buf;
}

static void print_csv_field(FILE *out, const char *text) {
  if (strpbrk(text, ",\"\r\n") == NULL) {
    fputs(text, out);
    return;
  }
  fputc('"', out);
  for (const char *p = text; *p; p++) {
    if (*p == '"') fputc('"', out);
    fputc(*p, out);
  }
  fputc('"', out);
}

static void print_csv(FILE *out, const json_t *result) {
  const json_t *cols = json_object_get(result, "columns"), *rows = json_object_get(result, "rows");
  size_t c, r;
  json_t *v, *row;
  json_array_foreach(cols, c, v) {
    if (c) fputc(',', out);
    print_csv_field(out, json_string_value(v));
  }
  fputs("\r\n", out);
  json_array_foreach(rows, r, row) {
    json_array_foreach(row, c, v) {
      char buf[64];
      if (c) fputc(',', out);
      print_csv_field(out, cell_text(v, buf, sizeof buf));
    }
    fputs("\r\n", out);
  }
}

static int display_width(const char *text) {
  int w = 0;
  for (const char *p = text; *p; p++) w += ((unsigned char)*p & 0xc0) != 0x80;
  return w;
}

/* Prints text padded to width (unless last), cut with "..." when longer. */
static void print_cell(FILE *out, const char *text, int width, bool last) {
  int w = display_width(text);
  if (w <= width) {
    fprintf(out, "%s%*s", text, last ? 0 : width - w, "");
    return;
  }
  int shown = 0;
  for (const char *p = text; *p; p++) {
    if (((unsigned char)*p & 0xc0) != 0x80 && ++shown > width - 3) break;
    fputc(*p, out);
  }
  fputs("...", out);
}

static void print_table(FILE *out, const json_t *result) {
  const json_t *cols = json_object_get(result, "columns"), *rows = json_object_get(result, "rows");
  size_t ncol = json_array_size(cols), c, r;
  int *width = calloc(ncol ? ncol : 1, sizeof *width);
  json_t *v, *row;
  char buf[64];
  json_array_foreach(cols, c, v) width[c] = display_width(json_string_value(v));
  json_array_foreach(rows, r, row) json_array_foreach(row, c, v) {
    int w = display_width(cell_text(v, buf, sizeof buf));
    if (w > width[c]) width[c] = w > TABLE_MAX_WIDTH ? TABLE_MAX_WIDTH : w;
  }
  json_array_foreach(cols, c, v) {
    fputs(c ? "  " : "", out);
    print_cell(out, json_string_value(v), width[c], c + 1 == ncol);
  }
  fputc('\n', out);
  for (c = 0; c < ncol; c++) fprintf(out, "%s%.*s", c ? "  " : "", width[c],
                                     "------------------------------------------------------------");
  fputc('\n', out);
  json_array_foreach(rows, r, row) {
    json_array_foreach(row, c, v) {
      fputs(c ? "  " : "", out);
      print_cell(out, cell_text(v, buf, sizeof buf), width[c], c + 1 == ncol);
    }
    fputc('\n', out);
  }
  fprintf(out, "(%zu row%s%s)\n", json_array_size(rows), json_array_size(rows) == 1 ? "" : "s",
          json_is_true(json_object_get(result, "truncated")) ? ", truncated: raise --limit" : "");
  free(width);
}

static int print_result(const char *cmd, const json_t *result, output_format format) {
  if (format == OUT_JSON) {
    char *text = nsr_json_dump(result);
    if (text == NULL) {
      fprintf(stderr, "nsr %s: out of memory\n", cmd);
      return CLI_EXIT_FAILURE;
    }
    puts(text);
    free(text);
  } else if (format == OUT_CSV) {
    print_csv(stdout, result);
  } else {
    print_table(stdout, result);
  }
  if (fflush(stdout) != 0 || ferror(stdout)) {
    fprintf(stderr, "nsr %s: writing the output failed\n", cmd);
    return CLI_EXIT_FAILURE;
  }
  return CLI_EXIT_OK;
}

/* ---- shared options ------------------------------------------------------ */

typedef struct store_options {
  const char *db;
  output_format format;
  uint64_t limit;
  uint64_t timeout_ms;
} store_options;

/* Parses an option every store command takes; returns false if argv[*i]
 * is none of them. *rc is set on a bad value. */
static bool parse_common(int argc, char **argv, int *i, store_options *o, nsr_code *rc,
                         nsr_error *err) {
  const char *v;
  *rc = NSR_OK;
  if (strcmp(argv[*i], "--json") == 0) {
    o->format = OUT_JSON;
  } else if (strcmp(argv[*i], "--csv") == 0) {
    o->format = OUT_CSV;
  } else if (cli_option(argc, argv, i, "--db", &v)) {
    if (v) o->db = v;
    else *rc = nsr_fail(err, NSR_ERR_INVALID, "option '--db' needs a value");
  } else if (cli_option(argc, argv, i, "--limit", &v)) {
    *rc = v ? cli_parse_u64(v, "--limit", 1, 10000000, &o->limit, err)
            : nsr_fail(err, NSR_ERR_INVALID, "option '--limit' needs a value");
  } else if (cli_option(argc, argv, i, "--timeout-ms", &v)) {
    *rc = v ? cli_parse_u64(v, "--timeout-ms", 1, 3600000, &o->timeout_ms, err)
            : nsr_fail(err, NSR_ERR_INVALID, "option '--timeout-ms' needs a value");
  } else {
    return false;
  }
  return true;
}

static store_options default_options(void) {
  store_options o = {getenv("NSR_DB") ? getenv("NSR_DB") : NSR_STORE_DEFAULT_PATH, OUT_TABLE,
                     DEFAULT_ROW_LIMIT, DEFAULT_TIMEOUT_MS};
  return o;
}

/* A missing store is a usage problem with a hint, not an SQLite message. */
static bool store_exists(const char *cmd, const char *path) {
  if (access(path, F_OK) == 0) return true;
  fprintf(stderr, "nsr %s: no rule store at '%s' (create one with 'nsr store init --db %s')\n",
          cmd, path, path);
  return false;
}

static int run_query(const char *cmd, const store_options *o, const char *sql) {
  if (!store_exists(cmd, o->db)) return CLI_EXIT_USAGE;
  json_t *result;
  nsr_error err;
  if (nsr_store_query(o->db, sql, o->limit, (unsigned)o->timeout_ms, &result, &err) != NSR_OK) {
    return cli_report(cmd, &err);
  }
  int status = print_result(cmd, result, o->format);
  json_decref(result);
  return status;
}

/* ---- nsr sql ---------------------------------------------------------------- */

static const char sql_help[] =
    "Usage: nsr sql \"SELECT ...\" [--db PATH] [--json | --csv] [--limit N] [--timeout-ms T]\n"
    "\n"
    "Runs one read-only SQL statement on the rule store and prints the rows.\n"
    "The database is opened read-only; an authorizer refuses anything but\n"
    "reading (no writes, PRAGMA or ATTACH), a second statement is refused,\n"
    "at most N rows are printed (default 1000) and the query stops after T ms\n"
    "(default 5000). Tables: models, concepts, rules, experiments, metrics\n"
    "(see README.md).\n"
    "\n"
    "  --db PATH        the rule store (default $NSR_DB or ./nsr.db)\n"
    "  --json           {\"columns\":[..],\"rows\":[[..],..],\"truncated\":false}\n"
    "  --csv            RFC 4180 CSV with a header line\n"
    "\n"
    "Example: nsr sql \"SELECT name, size FROM concepts WHERE size < 10\"\n";

int cmd_sql(int argc, char **argv) {
  store_options o = default_options();
  const char *sql = NULL;
  nsr_error err;
  for (int i = 1; i < argc; i++) {
    nsr_code rc;
    if (cli_is_help(argv[i])) {
      fputs(sql_help, stdout);
      return CLI_EXIT_OK;
    }
    if (parse_common(argc, argv, &i, &o, &rc, &err)) {
      if (rc != NSR_OK) return cli_usage_error("sql", "%s", err.message);
    } else if (argv[i][0] == '-' && argv[i][1] == '-') {
      return cli_usage_error("sql", "unknown option '%s'", argv[i]);
    } else if (sql != NULL) {
      return cli_usage_error("sql", "give the SQL as one argument (quote it)");
    } else {
      sql = argv[i];
    }
  }
  if (sql == NULL) return cli_usage_error("sql", "no SQL given");
  return run_query("sql", &o, sql);
}

/* ---- nsr rules -------------------------------------------------------------- */

static const char rules_help[] =
    "Usage: nsr rules [--db PATH] [--weights M] [--min-fidelity F] [--method M]\n"
    "                 [--model ID] [--limit N] [--json | --csv]\n"
    "\n"
    "Lists extracted rules, best fidelity first: method, layer, unit, the rule's\n"
    "body and conclusion, fidelity, accuracy, completeness and support.\n"
    "--weights M keeps the rules of the model whose file has M's SHA-256.\n";

int cmd_rules(int argc, char **argv) {
  store_options o = default_options();
  double min_fidelity = -INFINITY;
  const char *method = NULL;
  uint64_t model = 0;
  const char *weights = NULL;
  nsr_error err;
  for (int i = 1; i < argc; i++) {
    nsr_code rc = NSR_OK;
    const char *v;
    if (cli_is_help(argv[i])) {
      fputs(rules_help, stdout);
      return CLI_EXIT_OK;
    }
    if (parse_common(argc, argv, &i, &o, &rc, &err)) {
    } else if (cli_option(argc, argv, &i, "--min-fidelity", &v)) {
      rc = v ? cli_parse_double(v, "--min-fidelity", &min_fidelity, &err)
             : nsr_fail(&err, NSR_ERR_INVALID, "option '--min-fidelity' needs a value");
    } else if (cli_option(argc, argv, &i, "--method", &v)) {
      method = v;
      if (v == NULL) rc = nsr_fail(&err, NSR_ERR_INVALID, "option '--method' needs a value");
    } else if (cli_option(argc, argv, &i, "--model", &v)) {
      rc = v ? cli_parse_u64(v, "--model", 1, INT64_MAX, &model, &err)
             : nsr_fail(&err, NSR_ERR_INVALID, "option '--model' needs a value");
    } else if (cli_option(argc, argv, &i, "--weights", &v)) {
      weights = v;
      if (v == NULL) rc = nsr_fail(&err, NSR_ERR_INVALID, "option '--weights' needs a value");
    } else {
      return cli_usage_error("rules", "unknown argument '%s'", argv[i]);
    }
    if (rc != NSR_OK) return cli_usage_error("rules", "%s", err.message);
  }
  /* A model is known by its contents: the file's hash, not its path. */
  char sha[NSR_SHA256_HEX] = "";
  if (weights != NULL && nsr_sha256_file(weights, sha, &err) != NSR_OK) {
    return cli_usage_error("rules", "--weights: %s", err.message);
  }
  /* Values are parsed numbers or %Q-quoted strings: nothing is spliced raw. */
  char *sql = sqlite3_mprintf(
      "SELECT id, model_id, method, site, layer, unit, body, conclusion, fidelity, accuracy,"
      " completeness, support FROM rules WHERE 1 %s%.17g %s%Q %s%lld %s%Q%s"
      " ORDER BY fidelity DESC, id",
      isinf(min_fidelity) ? "AND -1e308 < " : "AND fidelity >= ",
      isinf(min_fidelity) ? 0.0 : min_fidelity, method ? "AND method = " : "AND ''=",
      method ? method : "", model ? "AND model_id = " : "AND 0 < 1+", (long long)model,
      weights ? "AND model_id IN (SELECT id FROM models WHERE sha256 = " : "AND ''=", sha,
      weights ? ")" : "");
  if (sql == NULL) {
    fprintf(stderr, "nsr rules: out of memory\n");
    return CLI_EXIT_FAILURE;
  }
  int status = run_query("rules", &o, sql);
  sqlite3_free(sql);
  return status;
}

/* ---- nsr store ----------------------------------------------------------- */

static const char store_help[] =
    "Usage: nsr store init [--db PATH] [--max N]\n"
    "\n"
    "Creates the rule store (or brings an older one up to date) and writes the\n"
    "concept library: the 34 rules of the number game over 1..N (default 100),\n"
    "each with its Church definition, size and extension.\n";

int cmd_store(int argc, char **argv) {
  if (argc < 2) return cli_usage_error("store", "no action given: try 'nsr store init'");
  if (cli_is_help(argv[1])) {
    fputs(store_help, stdout);
    return CLI_EXIT_OK;
  }
  if (strcmp(argv[1], "init") != 0) return cli_usage_error("store", "unknown action '%s'", argv[1]);
  store_options o = default_options();
  nsr_numbers_config cfg;
  nsr_numbers_config_default(&cfg);
  nsr_error err;
  for (int i = 2; i < argc; i++) {
    nsr_code rc = NSR_OK;
    const char *v;
    uint64_t max;
    if (cli_is_help(argv[i])) {
      fputs(store_help, stdout);
      return CLI_EXIT_OK;
    }
    if (cli_option(argc, argv, &i, "--db", &v)) {
      o.db = v;
      if (v == NULL) rc = nsr_fail(&err, NSR_ERR_INVALID, "option '--db' needs a value");
    } else if (cli_option(argc, argv, &i, "--max", &v)) {
      rc = v ? cli_parse_u64(v, "--max", 1, NSR_NUMBERS_MAX_N, &max, &err)
             : nsr_fail(&err, NSR_ERR_INVALID, "option '--max' needs a value");
      if (rc == NSR_OK) cfg.max = (uint32_t)max;
    } else {
      return cli_usage_error("store", "unknown argument '%s'", argv[i]);
    }
    if (rc != NSR_OK) return cli_usage_error("store", "%s", err.message);
  }
  nsr_store *store = NULL;
  nsr_numbers *engine = NULL;
  nsr_code rc = nsr_store_open(o.db, &store, &err);
  if (rc == NSR_OK) rc = nsr_numbers_new(&cfg, &engine, &err);
  if (rc == NSR_OK) rc = nsr_store_sync_concepts(store, engine, &err);
  nsr_numbers_free(engine);
  nsr_store_close(store);
  if (rc != NSR_OK) return cli_report("store", &err);
  printf("rule store '%s': schema version %d, concept library over 1..%u\n", o.db,
         NSR_STORE_SCHEMA_VERSION, cfg.max);
  return CLI_EXIT_OK;
}
