/* cmd_store.c: `nsr store init`, `nsr sql` and `nsr rules`: the SQLite rule
 * store from the command line. Reads go through nsr_store_query, the same
 * read-only, authorised, row- and time-capped path the LLM tools use. The
 * commands share their option rows (DB_OPTION, QUERY_OPTIONS). */
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "nsr_extract.h"
#include "json.h"
#include "sha256.h"
#include "nsr_store.h"

#define DEFAULT_ROW_LIMIT 1000
#define DEFAULT_TIMEOUT_MS 5000
#define TABLE_MAX_WIDTH 60

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

/* ---- shared options and the query ---------------------------------------- */

/* The options of the commands that query the store. */
typedef struct query_options {
  const char *db;
  bool json, csv;
  uint64_t limit;
  uint64_t timeout_ms;
} query_options;

#define DB_OPTION(target) \
  CLI_OPTION("--db", CLI_STRING, target, "PATH", "the rule store", .env = CLI_ENV_DB)

/* The option rows of a query_options *o. */
#define QUERY_OPTIONS(o)                                                                       \
  DB_OPTION(&(o)->db),                                                                         \
  CLI_FLAG_OPTION("--json", &(o)->json,                                                        \
                  "print {\"columns\":[..],\"rows\":[[..],..],\"truncated\":false}"),          \
  CLI_FLAG_OPTION("--csv", &(o)->csv, "print RFC 4180 CSV with a header line"),                \
  CLI_OPTION("--limit", CLI_U64, &(o)->limit, "N", "rows printed at most", .min = 1,           \
             .max = 10000000),                                                                 \
  CLI_OPTION("--timeout-ms", CLI_U64, &(o)->timeout_ms, "T", "the query stops after T ms",     \
             .min = 1, .max = 3600000)

static query_options default_options(void) {
  return (query_options){.db = CLI_DEFAULT_DB, .limit = DEFAULT_ROW_LIMIT,
                         .timeout_ms = DEFAULT_TIMEOUT_MS};
}

/* Runs sql on the store of o and prints the result as o asks; returns the
 * exit status after reporting any error as `cmd`. */
static int run_query(const char *cmd, const query_options *o, const char *sql) {
  if (o->json && o->csv) return cli_usage_error(cmd, "--json and --csv exclude each other");
  /* A missing store is a usage problem with a hint, not an SQLite message. */
  if (access(o->db, F_OK) != 0) {
    return cli_fail(cmd, CLI_EXIT_USAGE,
                    "no rule store at '%s' (create one with 'nsr store init --db %s')", o->db, o->db);
  }
  json_t *result;
  nsr_error err;
  if (nsr_store_query(o->db, sql, o->limit, (unsigned)o->timeout_ms, &result, &err) != NSR_OK) {
    /* The library names the budget; the command names its option. */
    if (err.code == NSR_ERR_LIMIT && strstr(err.message, "time limit") != NULL) {
      return cli_fail(cmd, CLI_EXIT_FAILURE, "%s (--timeout-ms)", err.message);
    }
    return cli_report(cmd, &err);
  }
  int status = CLI_EXIT_OK;
  if (o->json) {
    if (cli_print_json(stdout, json_incref(result), &err) != NSR_OK) status = cli_report(cmd, &err);
  } else if (o->csv) {
    print_csv(stdout, result);
  } else {
    print_table(stdout, result);
  }
  json_decref(result);
  return cli_finish(cmd, status);
}

/* ---- nsr sql ---------------------------------------------------------------- */

static const char sql_description[] =
    "Runs one read-only SQL statement on the rule store and prints the rows.\n"
    "The database is opened read-only; an authorizer allows reading the store's\n"
    "tables and calling the functions of an allow-list only (no writes, PRAGMA,\n"
    "ATTACH or printf), a second statement is refused, values and the result\n"
    "are capped, at most --limit rows are printed and the query stops after\n"
    "--timeout-ms.\n"
    "Tables: models, concepts, rules, experiments, metrics (see bridge/store/README.md).\n";

int cmd_sql(int argc, char **argv) {
  query_options o = default_options();
  const cli_opt opts[] = {QUERY_OPTIONS(&o)};
  /* Any count of arguments parses, so that two get the quoting hint. */
  const cli_spec spec = {
      .name = "sql", .args = "\"SELECT ...\"", .description = sql_description, .opts = opts,
      .n_opts = sizeof opts / sizeof opts[0], .max_args = SIZE_MAX,
      .epilog = "Example: nsr sql \"SELECT name, size FROM concepts WHERE size < 10\"\n"};
  cli_args args;
  int status = cli_parse(&spec, argc, argv, &args);
  if (status != CLI_CONTINUE) return status;
  if (args.n == 0) return cli_usage_error("sql", "no SQL given");
  if (args.n > 1) return cli_usage_error("sql", "give the SQL as one argument (quote it)");
  return run_query("sql", &o, args.args[0]);
}

/* ---- nsr rules -------------------------------------------------------------- */

static const char rules_description[] =
    "Lists extracted rules, best fidelity first: method, layer, unit, the rule's\n"
    "body and conclusion, fidelity, accuracy, completeness and support.\n";

int cmd_rules(int argc, char **argv) {
  query_options o = default_options();
  double min_fidelity = 0;
  bool fidelity_given = false;
  const char *method = NULL, *weights = NULL;
  uint64_t model = 0;
  const cli_opt opts[] = {
      QUERY_OPTIONS(&o),
      CLI_OPTION("--weights", CLI_STRING, &weights, "FILE",
                 "only the rules of the model in FILE (known by\nits SHA-256)",
                 .default_text = "every model"),
      CLI_OPTION("--model", CLI_U64, &model, "ID", "only the rules of model ID", .min = 1,
                 .max = 1e15, .default_text = "every model"),
      CLI_OPTION("--method", CLI_CHOICE, &method, NULL, "only the rules of one method",
                 .choices = nsr_extract_methods, .default_text = "every method"),
      CLI_OPTION("--min-fidelity", CLI_DOUBLE, &min_fidelity, "F",
                 "only the rules of fidelity F or more", .min = 0, .max = 1,
                 .default_text = "every rule", .given = &fidelity_given),
  };
  const cli_spec spec = {.name = "rules", .description = rules_description, .opts = opts,
                         .n_opts = sizeof opts / sizeof opts[0],
                         .epilog = "Example: nsr rules --method alignment --min-fidelity 0.9\n"};
  cli_args args;
  int status = cli_parse(&spec, argc, argv, &args);
  if (status != CLI_CONTINUE) return status;
  /* A model is known by its contents: the file's hash, not its path. */
  char sha[NSR_SHA256_HEX] = "";
  nsr_error err;
  if (weights != NULL && nsr_sha256_file(weights, sha, &err) != NSR_OK) {
    return cli_usage_error("rules", "--weights: %s", err.message);
  }
  /* Values are parsed numbers, a method from the table or %Q-quoted
   * strings: nothing is spliced raw. */
  char *sql = sqlite3_mprintf(
      "SELECT id, model_id, method, site, layer, unit, body, conclusion, fidelity, accuracy,"
      " completeness, support FROM rules WHERE 1 %s%.17g %s%Q %s%lld %s%Q%s"
      " ORDER BY fidelity DESC, id",
      fidelity_given ? "AND fidelity >= " : "AND -1e308 < ", min_fidelity,
      method ? "AND method = " : "AND ''=", method ? method : "",
      model ? "AND model_id = " : "AND 0 < 1+", (long long)model,
      weights ? "AND model_id IN (SELECT id FROM models WHERE sha256 = " : "AND ''=", sha,
      weights ? ")" : "");
  if (sql == NULL) return cli_fail("rules", CLI_EXIT_FAILURE, "out of memory");
  status = run_query("rules", &o, sql);
  sqlite3_free(sql);
  return status;
}

/* ---- nsr store ----------------------------------------------------------- */

#define CMD_INIT "store init"

/* Prints what store init made: a line, or {"db","schema_version","max"}. */
static int print_store(const char *db, uint32_t max, bool json) {
  if (!json) {
    printf("rule store '%s': schema version %d, concept library over 1..%u\n", db,
           NSR_STORE_SCHEMA_VERSION, max);
    return CLI_EXIT_OK;
  }
  json_t *o = json_pack("{s:o,s:i,s:I}", "db", nsr_json_string(db), "schema_version", NSR_STORE_SCHEMA_VERSION,
                        "max", (json_int_t)max);
  nsr_error err;
  return cli_print_json(stdout, o, &err) == NSR_OK ? CLI_EXIT_OK : cli_report(CMD_INIT, &err);
}

static int store_init(int argc, char **argv) {
  const char *db = CLI_DEFAULT_DB;
  nsr_numbers_config cfg;
  nsr_numbers_config_default(&cfg);
  uint64_t max = cfg.max;
  bool json = false;
  const cli_opt opts[] = {
      DB_OPTION(&db),
      CLI_OPTION("--max", CLI_U64, &max, "N", "the concept library's domain 1..N", .min = 1,
                 .max = NSR_NUMBERS_MAX_N),
      CLI_FLAG_OPTION("--json", &json, "print {\"db\",\"schema_version\",\"max\"}"),
  };
  const cli_spec spec = {
      .name = CMD_INIT, .opts = opts, .n_opts = sizeof opts / sizeof opts[0],
      .description = "Creates the rule store (or brings an older one up to date) and writes the\n"
                     "concept library: the 34 rules of the number game over 1..N, each with its\n"
                     "Church definition, size and extension.\n"};
  cli_args args;
  int status = cli_parse(&spec, argc, argv, &args);
  if (status != CLI_CONTINUE) return status;
  cfg.max = (uint32_t)max;
  nsr_store *store = NULL;
  nsr_numbers *engine = NULL;
  nsr_error err;
  nsr_code rc = nsr_store_open(db, &store, &err);
  if (rc == NSR_OK) rc = nsr_numbers_new(&cfg, &engine, &err);
  if (rc == NSR_OK) rc = nsr_store_sync_concepts(store, engine, &err);
  nsr_numbers_free(engine);
  nsr_store_close(store);
  if (rc != NSR_OK) return cli_report(CMD_INIT, &err);
  return cli_finish(CMD_INIT, print_store(db, cfg.max, json));
}

int cmd_store(int argc, char **argv) {
  static const cli_subcommand subs[] = {{"init", store_init}};
  const cli_spec spec = {
      .name = "store",
      .description = "The SQLite rule store: models, the concept library, extracted rules,\n"
                     "experiments and their metrics (read it with nsr sql and nsr rules).\n",
      .subcommands = "  init     create the store (or bring it up to date) and its concept library\n",
      .epilog = "Example: nsr store init --db rules.db\n"};
  return cli_run_subcommand(&spec, subs, sizeof subs / sizeof subs[0], argc, argv);
}
