/* numbers_report.c: JSON and text reports of a number-game answer. */
#include "nsr_report.h"

#include <langinfo.h>
#include <locale.h>
#include <math.h>
#include <string.h>

#include "json.h"

/* A JSON array of n items made by item(ctx, i); NULL if any allocation
 * fails (an item that comes back NULL fails the whole array). */
static json_t *json_array_of(size_t n, json_t *(*item)(const void *ctx, size_t i),
                             const void *ctx) {
  json_t *a = json_array();
  for (size_t i = 0; a != NULL && i < n; i++) {
    if (json_array_append_new(a, item(ctx, i)) != 0) {
      json_decref(a);
      return NULL;
    }
  }
  return a;
}

static json_t *example_item(const void *ctx, size_t i) {
  return json_integer(((const numbers_query *)ctx)->examples[i]);
}

static json_t *generalization_item(const void *ctx, size_t i) {
  return nsr_json_real(((const numbers_query *)ctx)->result->generalization[i]);
}

void numbers_query_name(const numbers_query *q, size_t i, char *buf, size_t len) {
  if (q->space) nsr_space_hypothesis_name(q->space, &q->result->top[i], buf, len);
  else nsr_numbers_hypothesis_name(&q->result->top[i], buf, len);
}

static json_t *hypothesis_item(const void *ctx, size_t i) {
  const nsr_hypothesis *h = &((const numbers_query *)ctx)->result->top[i];
  char name[NSR_SPACE_NAME_MAX];
  numbers_query_name(ctx, i, name, sizeof name);
  return json_pack("{s:s, s:f, s:f, s:I}", "name", name, "posterior", h->posterior,
                   "prior", h->prior, "size", (json_int_t)h->size);
}

static json_t *probe_item(const void *ctx, size_t i) {
  const numbers_query *q = ctx;
  uint32_t y = q->probes[i];
  return json_pack("{s:I, s:f}", "y", (json_int_t)y, "p", q->result->generalization[y - 1]);
}

const char *numbers_query_prior_name(const numbers_query *q) {
  if (q->model_file) return q->fitted ? "fitted" : "space";
  return nsr_numbers_prior_name(q->cfg->prior);
}

void numbers_query_describe(const numbers_query *q, char *buf, size_t len) {
  const nsr_numbers_config *cfg = q->cfg;
  int used;
  if (q->model_file) {
    used = snprintf(buf, len, "%s %s", q->fitted ? "fitted prior" : "prior of space", q->model_file);
  } else {
    used = snprintf(buf, len, "prior %s", nsr_numbers_prior_name(cfg->prior));
  }
  if (used < 0 || (size_t)used >= len) return;
  /* A space's λ is its grammar's mass against the intervals. */
  if (cfg->prior == NSR_PRIOR_MIXTURE) snprintf(buf + used, len - (size_t)used, " (lambda %g, sigma %g)", cfg->lambda, cfg->sigma);
  else snprintf(buf + used, len - (size_t)used, " (sigma %g)", cfg->sigma);
}

/* {"name", "file" (a space or prior file only), "lambda" (null for pmtk3),
 * "sigma"}. */
static json_t *prior_json(const numbers_query *q) {
  const nsr_numbers_config *cfg = q->cfg;
  json_t *prior = json_pack("{s:s, s:o, s:f}", "name", numbers_query_prior_name(q),
                            "lambda", cfg->prior == NSR_PRIOR_MIXTURE ? nsr_json_real(cfg->lambda)
                                                                      : json_null(),
                            "sigma", cfg->sigma);
  /* The path as the user typed it, maybe not UTF-8 (json_string would fail
   * and every answer be lost as "out of memory"): nsr_json_string mends it. */
  if (prior && q->model_file && json_object_set_new(prior, "file", nsr_json_string(q->model_file)) != 0) {
    json_decref(prior);
    return NULL;
  }
  return prior;
}

nsr_code numbers_report_json(const numbers_query *q, json_t **out,
                             nsr_error *err) {
  const nsr_numbers_result *r = q->result;
  *out = NULL;
  json_t *o = json_object();
  if (o == NULL) return nsr_fail(err, NSR_ERR_NOMEM, "JSON report: out of memory");
  nsr_code rc = nsr_json_set(o, "examples", json_array_of(q->n_examples, example_item, q), err);
  if (rc == NSR_OK) rc = nsr_json_set(o, "range", json_pack("[i, I]", 1, (json_int_t)q->cfg->max), err);
  if (rc == NSR_OK) rc = nsr_json_set(o, "prior", prior_json(q), err);
  if (rc == NSR_OK) rc = nsr_json_set(o, "hypotheses", json_array_of(r->n_top, hypothesis_item, q), err);
  if (rc == NSR_OK && !q->probes_only) rc = nsr_json_set(o, "generalization", json_array_of(r->max, generalization_item, q), err);
  if (rc == NSR_OK && q->n_probes > 0) rc = nsr_json_set(o, "probes", json_array_of(q->n_probes, probe_item, q), err);
  if (rc == NSR_OK) rc = nsr_json_set(o, "log_evidence", nsr_json_real(r->log_evidence), err);
  if (rc == NSR_OK && q->space) {
    rc = nsr_json_set(o, "space",
                      json_pack("{s:I, s:f, s:f}", "extensions", (json_int_t)nsr_space_extensions(q->space),
                                "expressions", nsr_space_expressions(q->space), "build_seconds",
                                nsr_space_build_seconds(q->space)),
                      err);
  }
  if (rc == NSR_OK) {
    rc = nsr_json_set(o, "consistent",
                      json_pack("{s:I, s:I}", "rules", (json_int_t)r->consistent_rules,
                                "intervals", (json_int_t)r->consistent_intervals),
                      err);
  }
  if (rc != NSR_OK) {
    json_decref(o);
    return rc;
  }
  *out = o;
  return NSR_OK;
}

/* ---- text ------------------------------------------------------------- */

#define CHART_ROWS 8
#define CHART_MAX_COLUMNS 100

static void print_examples(FILE *out, const numbers_query *q) {
  fputc('{', out);
  for (size_t i = 0; i < q->n_examples; i++) {
    fprintf(out, i ? ", %u" : "%u", q->examples[i]);
  }
  fputc('}', out);
}

static void print_header(FILE *out, const numbers_query *q) {
  const nsr_numbers_result *r = q->result;
  char model[512];
  numbers_query_describe(q, model, sizeof model);
  fputs("X = ", out);
  print_examples(out, q);
  fprintf(out, "   range 1..%u   %s\n", q->cfg->max, model);
  if (q->space) {
    fprintf(out, "space: %zu grammar hypotheses from %.4g expressions, built in %.3f s\n",
            nsr_space_extensions(q->space), nsr_space_expressions(q->space),
            nsr_space_build_seconds(q->space));
  }
  fprintf(out, "consistent: %u %s, %llu intervals   log p(X) = %.4f\n\n",
          r->consistent_rules, q->space ? "grammar hypotheses" : "rules",
          (unsigned long long)r->consistent_intervals, r->log_evidence);
}

static void print_hypotheses(FILE *out, const numbers_query *q) {
  const nsr_numbers_result *r = q->result;
  if (r->n_top == 0) return;
  fprintf(out, "%4s  %-26s %12s %12s %8s\n", "rank", "hypothesis", "posterior", "prior", "size");
  for (size_t i = 0; i < r->n_top; i++) {
    char name[NSR_SPACE_NAME_MAX];
    numbers_query_name(q, i, name, sizeof name);
    fprintf(out, "%4zu  %-26s %12.6g %12.6g %8u\n", i + 1, name,
            r->top[i].posterior, r->top[i].prior, r->top[i].size);
  }
  fputc('\n', out);
}

static void print_probes(FILE *out, const numbers_query *q) {
  if (q->n_probes == 0) return;
  fputs("p(y in C | X) at the probes:\n", out);
  for (size_t i = 0; i < q->n_probes; i++) {
    fprintf(out, "  y = %-8u %.6g\n", q->probes[i], q->result->generalization[q->probes[i] - 1]);
  }
  fputc('\n', out);
}

double numbers_bin_max(const double *g, size_t first, size_t last) {
  double m = 0.0;
  for (size_t y = first; y < last; y++) m = g[y] > m ? g[y] : m;
  return m;
}

/* The largest p(y ∈ C | X) over the numbers that chart column `col` covers. */
static double column_value(const nsr_numbers_result *r, size_t col, size_t per) {
  size_t first = col * per, last = first + per;
  return numbers_bin_max(r->generalization, first, last < r->max ? last : r->max);
}

static void print_chart_row(FILE *out, const nsr_numbers_result *r, size_t columns,
                            size_t per, int row, bool unicode) {
  static const char *const blocks[] = {" ", "▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"};
  fprintf(out, "%5s |", row == CHART_ROWS - 1 ? "1.0" : row == CHART_ROWS / 2 - 1 ? "0.5" : "");
  for (size_t c = 0; c < columns; c++) {
    /* Height in eighths of a row, rounded, so p = 1 fills every row. */
    long eighths = lround(column_value(r, c, per) * CHART_ROWS * 8) - 8L * row;
    if (eighths < 0) eighths = 0;
    if (eighths > 8) eighths = 8;
    if (unicode) fputs(blocks[eighths], out);
    else fputc(eighths >= 4 ? '#' : ' ', out);
  }
  fputc('\n', out);
}

void numbers_report_chart(FILE *out, const numbers_query *q, bool unicode) {
  const nsr_numbers_result *r = q->result;
  size_t per = (r->max + CHART_MAX_COLUMNS - 1) / CHART_MAX_COLUMNS;
  size_t columns = (r->max + per - 1) / per;
  fprintf(out, "p(y in C | X), y = 1..%u", r->max);
  if (per > 1) fprintf(out, " (each column: the largest p among %zu numbers)", per);
  fputc('\n', out);
  for (int row = CHART_ROWS - 1; row >= 0; row--) print_chart_row(out, r, columns, per, row, unicode);
  fprintf(out, "%5s +", "0.0");
  for (size_t c = 0; c < columns; c++) fputc(c % 10 == 9 ? '+' : '-', out);
  fputc('\n', out);
  /* Tick labels: the last number of every tenth column, right-aligned to it. */
  char axis[CHART_MAX_COLUMNS + 16];
  memset(axis, ' ', sizeof axis);
  for (size_t c = 9; c < columns; c += 10) {
    char label[16];
    int len = snprintf(label, sizeof label, "%zu", (c + 1) * per < r->max ? (c + 1) * per : r->max);
    if (len > 0 && (size_t)len <= c + 1) memcpy(axis + c + 1 - (size_t)len, label, (size_t)len);
  }
  axis[columns] = '\0';
  fprintf(out, "%5s  %s\n", "", axis);
  memset(axis, ' ', columns);
  for (size_t i = 0; i < q->n_examples; i++) axis[(q->examples[i] - 1) / per] = '^';
  fprintf(out, "%5s  %s  (^ = example)\n", "", axis);
}

bool numbers_terminal_utf8(void) {
  setlocale(LC_CTYPE, "");
  const char *codeset = nl_langinfo(CODESET);
  return codeset != NULL && (strcmp(codeset, "UTF-8") == 0 || strcmp(codeset, "utf8") == 0);
}

void numbers_report_text(FILE *out, const numbers_query *q, bool unicode) {
  print_header(out, q);
  print_hypotheses(out, q);
  print_probes(out, q);
  numbers_report_chart(out, q, unicode);
}
