/* cmd_numbers.c: `nsr numbers`, exact Bayesian concept learning in
 * Tenenbaum's number game, for one example set or a batch file. */
#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "dist.h"
#include "fileio.h"
#include "json.h"
#include "nsr_report.h"
#include "nsr_report.h"

#define CMD "numbers"
#define DEFAULT_TOP 10
#define MAX_TOP 100000

static const char description[] =
    "Exact Bayesian concept learning in Tenenbaum's number game: given example\n"
    "numbers X drawn from an unknown concept C, prints the most probable concepts\n"
    "p(h | X) and the generalization p(y in C | X) for every y in 1..N.\n"
    "Hypotheses: 34 rules (even, odd, squares, cubes, primes, multiples of 3..12,\n"
    "powers of 2..10, ends in 0..9) and every interval [a, b] in 1..N.\n"
    "Examples may be separated by spaces or commas: 16 8 2 64 or 16,8,2,64.\n"
    "\n"
    "Priors: pmtk3 (the default): rules 2/3 each, intervals (1/3)*Erlang(|h|; sigma),\n"
    "normalised; mixture: rules lambda/34 each, intervals (1-lambda)*Erlang(|h|; sigma)/Z.\n"
    "--lambda selects the mixture prior (with --prior pmtk3 it is an error).\n"
    "--space FILE replaces the 34 rules by a grammar (JSON, see programs/spaces/README.md; intervals\n"
    "stay, with mass 1-lambda); --prior-file FILE uses a prior fitted by\n"
    "'nsr numbers fit', which records its space. Both bring their own range and\n"
    "prior, so --range, --max, --prior, --lambda and --sigma do not go with them.\n"
    "\n"
    "--batch FILE reads one example set per line (\"-\" reads stdin) and prints one\n"
    "JSON object per set, in order (--json is implied); blank lines and # comments\n"
    "are skipped; a bad line prints {\"line\":K,\"error\":\"...\"} and makes the exit\n"
    "status 2 (so does a line with a NUL byte, bytes that are not UTF-8, or more\n"
    "than 16 MiB); under mpirun the ranks share the sets (same output).\n"
    "--json prints one object: {\"examples\", \"range\", \"prior\":{\"name\", \"file\"\n"
    "(with --space or --prior-file), \"lambda\", \"sigma\"}, \"hypotheses\",\n"
    "\"generalization\", \"probes\", \"log_evidence\", \"consistent\"} (bridge/report/README.md).\n"
    "--plot draws p(y in C | X) as SVG; over more than 400 numbers each bar is the\n"
    "largest p among the numbers it covers (the figure says how many).\n";

static const char subcommands[] =
    "  eval   a model against people's judgments (nsr numbers eval --help)\n"
    "  fit    fit a prior to people's judgments (nsr numbers fit --help)\n"
    "  mh     sample a grammar's posterior by Metropolis-Hastings (nsr numbers mh --help)\n";

typedef struct u32_list {
  uint32_t *items;
  size_t len, cap;
} u32_list;

typedef struct numbers_options {
  nsr_numbers_config cfg;
  uint64_t top, max;
  const char *range_text, *prior_name;
  u32_list examples;
  u32_list probes;
  const char *probe_text; /* parsed once N is known */
  bool json, ascii;
  const char *plot_path;
  const char *batch_path;
  const char *space_path, *prior_path;
  /* Which options were given (some exclude others). */
  bool range_given, max_given, prior_given, lambda_given, sigma_given;
} numbers_options;

static nsr_code list_push(u32_list *list, uint32_t v, nsr_error *err) {
  if (list->len == list->cap) {
    size_t cap = list->cap ? list->cap * 2 : 16;
    uint32_t *grown = nsr_reallocarray(list->items, cap, sizeof *grown);
    if (grown == NULL) return nsr_fail(err, NSR_ERR_NOMEM, "number list: out of memory");
    list->items = grown;
    list->cap = cap;
  }
  list->items[list->len++] = v;
  return NSR_OK;
}

/* Splits text on commas and white space and appends each whole number,
 * which must lie in 1..max. `what` names the source in errors ("examples",
 * "--probe"). */
static nsr_code parse_numbers(const char *text, const char *what, uint32_t max,
                              u32_list *list, nsr_error *err) {
  const char *p = text;
  for (;;) {
    while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n') p++;
    if (*p == '\0') return NSR_OK;
    const char *end = p;
    while (*end && *end != ',' && *end != ' ' && *end != '\t' && *end != '\r' && *end != '\n') end++;
    if (end == p) return nsr_fail(err, NSR_ERR_INVALID, "%s: empty number in '%s'", what, text);
    char token[32];
    size_t len = (size_t)(end - p);
    if (len >= sizeof token) {
      return nsr_fail(err, NSR_ERR_INVALID, "%s: '%.*s' is not a whole number in range", what,
                      (int)(len > 40 ? 40 : len), p);
    }
    memcpy(token, p, len);
    token[len] = '\0';
    uint64_t v;
    nsr_code rc = cli_parse_u64(token, what, 1, max, &v, err);
    if (rc != NSR_OK) return rc;
    rc = list_push(list, (uint32_t)v, err);
    if (rc != NSR_OK) return rc;
    p = end;
    while (*p == ' ' || *p == '\t') p++;
    if (*p == ',') p++;
  }
}

static nsr_code parse_range(const char *text, uint32_t *max, nsr_error *err) {
  const char *dots = strstr(text, "..");
  if (dots == NULL) {
    return nsr_fail(err, NSR_ERR_INVALID, "--range: '%s' is not of the form 1..N", text);
  }
  if (dots - text != 1 || text[0] != '1') {
    return nsr_fail(err, NSR_ERR_INVALID, "--range: '%s' must start at 1 (concepts are sets over 1..N)", text);
  }
  uint64_t n;
  nsr_code rc = cli_parse_u64(dots + 2, "--range", 1, NSR_NUMBERS_MAX_N, &n, err);
  if (rc == NSR_OK) *max = (uint32_t)n;
  return rc;
}

/* The first given option among Tenenbaum's model's own (--range, --max,
 * --prior, --lambda, --sigma), or NULL. */
static const char *engine_option_given(const numbers_options *o) {
  if (o->range_given) return "--range";
  if (o->max_given) return "--max";
  if (o->prior_given) return "--prior";
  if (o->lambda_given) return "--lambda";
  return o->sigma_given ? "--sigma" : NULL;
}

/* Checks the options against each other (an option that would have no
 * effect is an error, never silently ignored) and settles the model's
 * configuration: N, the prior (--lambda selects the mixture). */
static nsr_code settle_options(numbers_options *o, nsr_error *err) {
  const char *engine_option = engine_option_given(o);
  if ((o->space_path || o->prior_path) && engine_option) {
    return nsr_fail(err, NSR_ERR_INVALID, "%s does not go with --%s: the range and prior come from the %s file",
                    engine_option, o->space_path ? "space" : "prior-file", o->space_path ? "space" : "prior");
  }
  if (o->range_given && o->max_given) return nsr_fail(err, NSR_ERR_INVALID, "give --range or --max, not both (both set N)");
  if (o->range_given && parse_range(o->range_text, &o->cfg.max, err) != NSR_OK) return err->code;
  if (o->max_given) o->cfg.max = (uint32_t)o->max;
  if (nsr_numbers_prior_parse(o->prior_name, &o->cfg.prior, err) != NSR_OK) return err->code;
  if (o->lambda_given && o->prior_given && o->cfg.prior != NSR_PRIOR_MIXTURE) {
    return nsr_fail(err, NSR_ERR_INVALID, "--lambda is the mixture prior's rule mass: it has no effect with --prior %s",
                    o->prior_name);
  }
  if (o->lambda_given) o->cfg.prior = NSR_PRIOR_MIXTURE;
  if (!(o->cfg.sigma > 0)) return nsr_fail(err, NSR_ERR_RANGE, "--sigma: %g is not positive", o->cfg.sigma);
  if (o->ascii && (o->json || o->batch_path)) {
    return nsr_fail(err, NSR_ERR_INVALID, "--ascii draws the text chart: it has no effect with %s",
                    o->json ? "--json" : "--batch (JSON lines)");
  }
  if (o->batch_path && o->plot_path) {
    return nsr_fail(err, NSR_ERR_INVALID, "--plot draws one example set; it cannot be used with --batch");
  }
  return o->plot_path ? numbers_plot_path_check(o->plot_path, err) : NSR_OK;
}

/* The example numbers and probes, in 1..N of the open model. */
static nsr_code parse_operands(const cli_args *args, numbers_options *o, nsr_error *err) {
  for (size_t i = 0; i < args->n; i++) {
    nsr_code rc = parse_numbers(args->args[i], "examples", o->cfg.max, &o->examples, err);
    if (rc != NSR_OK) return rc;
  }
  if (o->probe_text) {
    nsr_code rc = parse_numbers(o->probe_text, "--probe", o->cfg.max, &o->probes, err);
    if (rc != NSR_OK) return rc;
  }
  if (o->batch_path && o->examples.len > 0) {
    return nsr_fail(err, NSR_ERR_INVALID, "give example numbers or --batch FILE, not both");
  }
  if (!o->batch_path && o->examples.len == 0) {
    return nsr_fail(err, NSR_ERR_INVALID, "no examples given: try 'nsr numbers 16 8 2 64'");
  }
  return NSR_OK;
}

static void numbers_options_free(numbers_options *o) {
  nsr_free(o->examples.items);
  nsr_free(o->probes.items);
}

/* Prints the JSON object of one answer on one line of `out`. */
static nsr_code print_json(const numbers_query *q, FILE *out, nsr_error *err) {
  json_t *obj;
  nsr_code rc = numbers_report_json(q, &obj, err);
  if (rc != NSR_OK) return rc;
  return cli_print_json(out, obj, err);
}

static nsr_code write_plot(const numbers_query *q, const char *path, nsr_error *err) {
  char *svg;
  size_t len;
  nsr_code rc = numbers_plot_svg(q, &svg, err);
  if (rc != NSR_OK) return rc;
  len = strlen(svg);
  rc = nsr_write_file_atomic(path, svg, len, err);
  nsr_free(svg);
  if (rc != NSR_OK) nsr_error_prefix(err, "--plot: ");
  return rc;
}

/* The reports' view of one answer of model m to the examples x[0..n). */
static numbers_query query_of(const nsr_numbers_model *m, const numbers_options *o, const uint32_t *x,
                              size_t n, const nsr_numbers_result *r) {
  numbers_query q = nsr_numbers_model_query(m, x, n, r);
  q.cfg = &o->cfg;
  q.probes = o->probes.items;
  q.n_probes = o->probes.len;
  return q;
}

static nsr_code run_single(nsr_numbers_model *m, const numbers_options *o, nsr_error *err) {
  nsr_numbers_result result = {0};
  nsr_code rc = nsr_numbers_model_infer(m, o->examples.items, o->examples.len, o->top, &result, err);
  numbers_query q = query_of(m, o, o->examples.items, o->examples.len, &result);
  if (rc == NSR_OK && o->plot_path) rc = write_plot(&q, o->plot_path, err);
  if (rc == NSR_OK) {
    if (o->json) rc = print_json(&q, stdout, err);
    else numbers_report_text(stdout, &q, !o->ascii && numbers_terminal_utf8());
  }
  nsr_numbers_result_free(&result);
  return rc;
}

/* Longest batch line: more than any example set needs, little enough to
 * hold; a longer line is one error and the batch goes on. */
#define BATCH_MAX_LINE (16u << 20)

/* nsr_read_line on the batch input at `path`: a read error is an unreadable
 * input (exit 2), as a missing file is. */
static bool read_batch_line(FILE *in, const char *path, nsr_line *line, nsr_error *err) {
  char what[300];
  snprintf(what, sizeof what, "'%s'", path);
  if (nsr_read_line(in, BATCH_MAX_LINE, what, line, err)) return true;
  if (err->code == NSR_ERR_IO) err->code = NSR_ERR_INVALID;
  if (err->code != NSR_OK) nsr_error_prefix(err, "--batch: ");
  return false;
}

/* Whether a batch line gets an answer (an example set's, or an error
 * object): every line but blank lines and # comments. A line that is no
 * text (a NUL byte, bytes that are not UTF-8, too long) is never skipped,
 * whatever it starts with: it gets its error. */
static bool answered_line(const nsr_line *line) {
  if (line->too_long || nsr_line_problem(line) != NULL) return true;
  const char *p = line->text;
  while (*p == ' ' || *p == '\t' || *p == '\r') p++;
  return *p != '\0' && *p != '#';
}

/* Where batch lines' answers go: JSON lines to out, bad lines' messages
 * to errs. */
typedef struct batch_sink {
  FILE *out, *errs;
} batch_sink;

/* Refuses, before parsing, an answered line text[0..len) that holds no
 * text (see answered_line). */
static nsr_code check_batch_line(const char *text, size_t len, bool too_long, nsr_error *err) {
  if (too_long) return nsr_fail(err, NSR_ERR_INVALID, "the line is longer than %u bytes", BATCH_MAX_LINE);
  const char *problem = nsr_line_problem(&(nsr_line){.text = (char *)text, .len = len});
  return problem ? nsr_fail(err, NSR_ERR_INVALID, "the line %s", problem) : NSR_OK;
}

/* Answers one batch line, text[0..len) (NUL-terminated after len); a bad
 * line becomes an error object, not a stop. */
static nsr_code batch_line(nsr_numbers_model *m, const numbers_options *o, const char *text, size_t len,
                           bool too_long, unsigned long lineno, nsr_numbers_result *result,
                           u32_list *examples, const batch_sink *sink, bool *line_failed, nsr_error *err) {
  nsr_error line_err;
  nsr_error_clear(&line_err);
  examples->len = 0;
  nsr_code rc = check_batch_line(text, len, too_long, &line_err);
  if (rc == NSR_OK) rc = parse_numbers(text, "examples", o->cfg.max, examples, &line_err);
  if (rc == NSR_OK) rc = nsr_numbers_model_infer(m, examples->items, examples->len, o->top, result, &line_err);
  if (rc == NSR_ERR_NOMEM) {
    *err = line_err;
    return rc;
  }
  if (rc != NSR_OK) {
    *line_failed = true;
    fprintf(sink->errs, "nsr numbers: batch line %lu: %s\n", lineno, line_err.message);
    json_t *obj = json_pack("{s:I, s:o}", "line", (json_int_t)lineno, "error", nsr_json_string(line_err.message));
    return cli_print_json(sink->out, obj, err);
  }
  numbers_query q = query_of(m, o, examples->items, examples->len, result);
  return print_json(&q, sink->out, err);
}

/* One process: answers every line as it is read. */
static nsr_code run_batch_alone(nsr_numbers_model *m, const numbers_options *o, bool *any_line_failed,
                                nsr_error *err) {
  bool from_stdin = strcmp(o->batch_path, "-") == 0;
  FILE *in = from_stdin ? stdin : fopen(o->batch_path, "r");
  if (in == NULL) {
    return nsr_fail(err, NSR_ERR_INVALID, "--batch: cannot read '%s': %s", o->batch_path, strerror(errno));
  }
  nsr_line line = {0};
  unsigned long lineno = 0;
  nsr_numbers_result result = {0};
  u32_list examples = {0};
  nsr_code rc = NSR_OK;
  while (rc == NSR_OK && read_batch_line(in, o->batch_path, &line, err)) {
    lineno++;
    if (!answered_line(&line)) continue;
    rc = batch_line(m, o, line.text, line.len, line.too_long, lineno, &result, &examples,
                    &(batch_sink){stdout, stderr}, any_line_failed, err);
  }
  if (rc == NSR_OK) rc = err->code;
  if (!from_stdin) fclose(in);
  nsr_free(line.text);
  nsr_free(examples.items);
  nsr_numbers_result_free(&result);
  return rc;
}

/* ---- batch over the processes of an MPI job ------------------------------
 * Rank 0 reads CHUNK_LINES lines at a time (mpirun gives stdin to rank 0
 * only) and broadcasts them; each rank answers a contiguous slice into
 * memory; rank 0 gathers the slices in rank order and prints them, so the
 * output is the single process's, line for line. Memory: one chunk. */

#define CHUNK_LINES 2048 /* few rounds (each costs collectives), bounded memory */

enum { CHUNK_MORE, CHUNK_END, CHUNK_FAILED };

#define C_STATUS(c) ((c)->meta[0])
#define C_LINES(c) ((c)->meta[1])
#define C_BYTES(c) ((c)->meta[2])
#define C_LINENO(c) ((c)->meta + 3)
#define C_LEN(c) ((c)->meta + 3 + CHUNK_LINES)
#define C_TOO_LONG UINT64_MAX /* a C_LEN: the line was too long; no bytes kept */

typedef struct batch_chunk {
  /* Broadcast in one piece: status, lines, text bytes, then each line's
   * number in the input and its length (see the macros below). */
  uint64_t meta[3 + 2 * CHUNK_LINES];
  char *text; /* the lines, each followed by a NUL (they may hold NULs) */
  size_t cap;
} batch_chunk;

static nsr_code chunk_reserve(batch_chunk *c, size_t bytes, nsr_error *err) {
  if (bytes <= c->cap) return NSR_OK;
  char *grown = nsr_realloc(c->text, bytes);
  if (grown == NULL) return nsr_fail(err, NSR_ERR_NOMEM, "--batch: out of memory for %zu bytes", bytes);
  c->text = grown;
  c->cap = bytes;
  return NSR_OK;
}

/* Rank 0: reads up to CHUNK_LINES answered lines into c, counting every
 * line in *lineno. C_STATUS(c) tells the other ranks what follows. */
static nsr_code chunk_read(FILE *in, const char *path, batch_chunk *c, nsr_line *line,
                           unsigned long *lineno, nsr_error *err) {
  size_t used = 0, n = 0;
  nsr_code rc = NSR_OK;
  while (rc == NSR_OK && n < CHUNK_LINES && read_batch_line(in, path, line, err)) {
    (*lineno)++;
    if (!answered_line(line)) continue;
    size_t kept = line->too_long ? 0 : line->len;
    rc = chunk_reserve(c, used + kept + 1, err);
    if (rc != NSR_OK) break;
    assert(c->text != NULL && "a reserved chunk has a block");
    if (kept > 0) memcpy(c->text + used, line->text, kept); /* text is NULL when empty */
    c->text[used + kept] = '\0';
    used += kept + 1;
    C_LEN(c)[n] = line->too_long ? C_TOO_LONG : kept;
    C_LINENO(c)[n++] = *lineno;
  }
  if (rc == NSR_OK) rc = err->code;
  C_STATUS(c) = rc != NSR_OK ? CHUNK_FAILED : n > 0 ? CHUNK_MORE : CHUNK_END;
  C_LINES(c) = n;
  C_BYTES(c) = used;
  return rc;
}

/* Gives every rank rank 0's chunk. */
static nsr_code chunk_share(batch_chunk *c, nsr_error *err) {
  if (nsr_dist_broadcast(c->meta, sizeof c->meta, err) != NSR_OK) return err->code;
  if (C_STATUS(c) != CHUNK_MORE) return NSR_OK;
  if (chunk_reserve(c, (size_t)C_BYTES(c), err) != NSR_OK) return err->code;
  return nsr_dist_broadcast(c->text, (size_t)C_BYTES(c), err);
}

/* The bytes of line i kept in c->text (before its NUL). */
static size_t chunk_kept(const batch_chunk *c, size_t i) {
  return C_LEN(c)[i] == C_TOO_LONG ? 0 : (size_t)C_LEN(c)[i];
}

/* Answers this rank's slice of the chunk into *out and *errs (malloc'd by
 * open_memstream: the caller frees them with free). */
static nsr_code chunk_answer(nsr_numbers_model *m, const numbers_options *o, const batch_chunk *c,
                             char **out, size_t *out_len, char **errs, size_t *errs_len,
                             nsr_error *err) {
  size_t n = (size_t)C_LINES(c), size = (size_t)nsr_dist_size(), rank = (size_t)nsr_dist_rank();
  size_t lo = n * rank / size, hi = n * (rank + 1) / size;
  batch_sink sink = {open_memstream(out, out_len), open_memstream(errs, errs_len)};
  nsr_code rc = sink.out && sink.errs ? NSR_OK : nsr_fail(err, NSR_ERR_NOMEM, "--batch: out of memory");
  const char *line = c->text;
  for (size_t i = 0; i < lo; i++) line += chunk_kept(c, i) + 1;
  nsr_numbers_result result = {0};
  u32_list examples = {0};
  bool failed = false; /* rank 0 learns of bad lines from their messages */
  for (size_t i = lo; rc == NSR_OK && i < hi; line += chunk_kept(c, i) + 1, i++) {
    rc = batch_line(m, o, line, chunk_kept(c, i), C_LEN(c)[i] == C_TOO_LONG, (unsigned long)C_LINENO(c)[i],
                    &result, &examples, &sink, &failed, err);
  }
  if (sink.out && fclose(sink.out) != 0 && rc == NSR_OK) rc = nsr_fail(err, NSR_ERR_NOMEM, "--batch: out of memory");
  if (sink.errs && fclose(sink.errs) != 0 && rc == NSR_OK) rc = nsr_fail(err, NSR_ERR_NOMEM, "--batch: out of memory");
  nsr_free(examples.items);
  nsr_numbers_result_free(&result);
  return rc;
}

/* Rank 0: prints the gathered parts, each [errs bytes][out bytes][errs]
 * [out] (two uint64_t then the texts): every message to stderr, then every
 * answer to stdout, in rank order; *any_errs when there was a message. */
static void print_parts(const char *all, size_t len, bool *any_errs) {
  for (int pass = 0; pass < 2; pass++) {
    for (size_t at = 0; at + 2 * sizeof(uint64_t) <= len;) {
      uint64_t n[2];
      memcpy(n, all + at, sizeof n);
      const char *errs = all + at + sizeof n;
      if (pass == 0 && n[0] > 0) {
        fwrite(errs, 1, (size_t)n[0], stderr);
        *any_errs = true;
      }
      if (pass == 1) fwrite(errs + n[0], 1, (size_t)n[1], stdout);
      at += sizeof n + (size_t)(n[0] + n[1]);
    }
  }
}

/* One chunk round on every rank: answer the slice, gather everything at
 * rank 0 in one call, print there. */
static nsr_code chunk_round(nsr_numbers_model *m, const numbers_options *o, const batch_chunk *c,
                            bool *any_line_failed, nsr_error *err) {
  char *out = NULL, *errs = NULL, *part = NULL, *all = NULL;
  size_t out_len = 0, errs_len = 0, all_len = 0;
  nsr_code rc = chunk_answer(m, o, c, &out, &out_len, &errs, &errs_len, err);
  uint64_t n[2] = {errs_len, out_len};
  size_t part_len = sizeof n + errs_len + out_len;
  if (rc == NSR_OK && (part = nsr_malloc(part_len)) == NULL) rc = nsr_fail(err, NSR_ERR_NOMEM, "--batch: out of memory");
  if (rc == NSR_OK) {
    memcpy(part, n, sizeof n);
    if (errs_len) memcpy(part + sizeof n, errs, errs_len);
    if (out_len) memcpy(part + sizeof n + errs_len, out, out_len);
    rc = nsr_dist_gather(part, part_len, &all, &all_len, err);
  }
  if (rc == NSR_OK && all) print_parts(all, all_len, any_line_failed);
  free(out);
  free(errs);
  nsr_free(part);
  nsr_free(all);
  return rc;
}

static nsr_code run_batch_shared(nsr_numbers_model *m, const numbers_options *o, bool *any_line_failed,
                                 nsr_error *err) {
  bool root = nsr_dist_is_root(), from_stdin = strcmp(o->batch_path, "-") == 0;
  FILE *in = !root ? NULL : from_stdin ? stdin : fopen(o->batch_path, "r");
  nsr_code rc = NSR_OK;
  batch_chunk c = {.meta = {CHUNK_FAILED}};
  if (root && in == NULL) {
    rc = nsr_fail(err, NSR_ERR_INVALID, "--batch: cannot read '%s': %s", o->batch_path, strerror(errno));
  }
  nsr_line line = {0};
  unsigned long lineno = 0;
  for (;;) {
    /* Rank 0's read failure still goes out (as CHUNK_FAILED): every rank stops. */
    if (root && rc == NSR_OK) rc = chunk_read(in, o->batch_path, &c, &line, &lineno, err);
    nsr_error share_err;
    nsr_error_clear(&share_err);
    nsr_code shared = chunk_share(&c, &share_err);
    if (shared != NSR_OK && rc == NSR_OK) {
      rc = shared;
      *err = share_err;
    }
    if (rc != NSR_OK || C_STATUS(&c) != CHUNK_MORE) break;
    rc = chunk_round(m, o, &c, any_line_failed, err);
  }
  if (in && !from_stdin) fclose(in);
  nsr_free(line.text);
  nsr_free(c.text);
  return rc;
}

static nsr_code run_batch(nsr_numbers_model *m, const numbers_options *o, bool *any_line_failed,
                          nsr_error *err) {
  if (nsr_dist_size() > 1) return run_batch_shared(m, o, any_line_failed, err);
  return run_batch_alone(m, o, any_line_failed, err);
}

/* `nsr numbers SUB ...`: the subcommand's status, or CLI_CONTINUE when
 * argv[1] names none. A word that is neither a subcommand nor a number is a
 * usage error. */
static int run_subcommand(int argc, char **argv) {
  static const cli_subcommand subs[] = {
      {"eval", cmd_numbers_eval}, {"fit", cmd_numbers_fit}, {"mh", cmd_numbers_mh}};
  if (argc < 2) return CLI_CONTINUE;
  const cli_subcommand *sub = cli_find_subcommand(subs, sizeof subs / sizeof subs[0], argv[1]);
  if (sub) return sub->run(argc - 1, argv + 1);
  if (isalpha((unsigned char)argv[1][0])) {
    return cli_usage_error(CMD, "unknown subcommand '%s' (eval, fit or mh; examples are whole numbers)", argv[1]);
  }
  return CLI_CONTINUE;
}

/* Parses the options (the table, then settle_options), opens the model and
 * reads the examples; CLI_CONTINUE when the work can start. */
static int numbers_setup(int argc, char **argv, numbers_options *o, nsr_numbers_model *m) {
  static const char *const priors[] = {"pmtk3", "mixture", NULL};
  const cli_opt opts[] = {
      CLI_OPTION("--range", CLI_STRING, &o->range_text, "1..N", "concepts are sets over 1..N (N up to 1000000)",
                 .default_text = "1..100", .given = &o->range_given),
      CLI_OPTION("--max", CLI_U64, &o->max, "N", "the same as --range 1..N", .min = 1, .max = NSR_NUMBERS_MAX_N,
                 .given = &o->max_given),
      CLI_OPTION("--prior", CLI_CHOICE, &o->prior_name, NULL, "the prior of Tenenbaum's model (see above)",
                 .choices = priors, .given = &o->prior_given),
      CLI_OPTION("--lambda", CLI_DOUBLE, &o->cfg.lambda, "L", "rule mass of the mixture prior; selects --prior mixture",
                 .min = 0, .max = 1, .default_text = "2/3", .given = &o->lambda_given),
      CLI_OPTION("--sigma", CLI_DOUBLE, &o->cfg.sigma, "S", "Erlang scale of interval sizes, > 0", .given = &o->sigma_given),
      CLI_OPTION("--space", CLI_STRING, &o->space_path, "FILE", "a grammar-defined hypothesis space (JSON, see programs/spaces/README.md)"),
      CLI_OPTION("--prior-file", CLI_STRING, &o->prior_path, "FILE", "a prior fitted by 'nsr numbers fit' (it records its space)"),
      CLI_OPTION("--top", CLI_U64, &o->top, "K", "how many hypotheses to list", .min = 0, .max = MAX_TOP),
      CLI_OPTION("--probe", CLI_STRING, &o->probe_text, "Y1,Y2,...", "also print p(y in C | X) for these numbers"),
      CLI_FLAG_OPTION("--json", &o->json, "print one JSON object (shape above and in bridge/report/README.md)"),
      CLI_OPTION("--plot", CLI_STRING, &o->plot_path, "FILE.svg", "draw p(y in C | X) as an SVG bar chart"),
      CLI_OPTION("--batch", CLI_STRING, &o->batch_path, "FILE", "one example set per line (\"-\": stdin); JSON lines out"),
      CLI_FLAG_OPTION("--ascii", &o->ascii, "draw the text chart with ASCII characters only"),
  };
  const cli_spec spec = {.name = CMD, .args = "(X1 X2 ... | --batch FILE)", .description = description,
                         .opts = opts, .n_opts = sizeof opts / sizeof opts[0], .max_args = SIZE_MAX,
                         .subcommands = subcommands, .subcommand_optional = true,
                         .epilog = "Example: nsr numbers 16 8 2 64 --top 5 --plot powers.svg\n"};
  cli_args args;
  int status = cli_parse(&spec, argc, argv, &args);
  if (status != CLI_CONTINUE) return status;
  nsr_error err = {0};
  if (settle_options(o, &err) != NSR_OK) return cli_usage_error(CMD, "%s", err.message);
  if (nsr_numbers_model_open(m, &o->cfg, o->space_path, o->prior_path, 0, &err) != NSR_OK) return cli_report(CMD, &err);
  o->cfg = m->cfg;
  nsr_code rc = parse_operands(&args, o, &err);
  if (rc == NSR_ERR_INVALID || rc == NSR_ERR_RANGE) return cli_usage_error(CMD, "%s", err.message);
  return rc == NSR_OK ? CLI_CONTINUE : cli_report(CMD, &err);
}

int cmd_numbers(int argc, char **argv) {
  int status = run_subcommand(argc, argv);
  if (status != CLI_CONTINUE) return status;
  numbers_options o = {.top = DEFAULT_TOP, .max = NSR_NUMBERS_DEFAULT_N, .prior_name = "pmtk3"};
  nsr_numbers_config_default(&o.cfg);
  nsr_numbers_model m = {0};
  status = numbers_setup(argc, argv, &o, &m);
  if (status == CLI_CONTINUE) {
    nsr_error err = {0};
    bool any_line_failed = false;
    nsr_code rc = o.batch_path ? run_batch(&m, &o, &any_line_failed, &err) : run_single(&m, &o, &err);
    status = rc != NSR_OK ? cli_report(CMD, &err) : any_line_failed ? CLI_EXIT_USAGE : CLI_EXIT_OK;
    status = cli_finish(CMD, status);
  }
  nsr_numbers_model_close(&m);
  numbers_options_free(&o);
  return status;
}
