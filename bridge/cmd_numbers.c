/* cmd_numbers.c: `nsr numbers`, exact Bayesian concept learning in
 * Tenenbaum's number game, for one example set or a batch file. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "dist.h"
#include "fileio.h"
#include "json.h"
#include "cmd_numbers_model.h"
#include "numbers_report.h"

#define CMD "numbers"
#define DEFAULT_TOP 10
#define MAX_TOP 100000

static const char help_text[] =
    "Usage: nsr numbers [OPTIONS] X1 X2 ...\n"
    "       nsr numbers [OPTIONS] --batch FILE\n"
    "       nsr numbers eval --data CSV ...   (model against people; see its --help)\n"
    "       nsr numbers fit --data CSV ...    (fit a prior to people; see its --help)\n"
    "       nsr numbers mh --space FILE X ... (sample a grammar by Metropolis-Hastings)\n"
    "\n"
    "Exact Bayesian concept learning in Tenenbaum's number game: given example\n"
    "numbers X drawn from an unknown concept C, prints the most probable concepts\n"
    "p(h | X) and the generalization p(y in C | X) for every y in 1..N.\n"
    "Hypotheses: 34 rules (even, odd, squares, cubes, primes, multiples of 3..12,\n"
    "powers of 2..10, ends in 0..9) and every interval [a, b] in 1..N.\n"
    "Examples may be separated by spaces or commas: 16 8 2 64 or 16,8,2,64.\n"
    "\n"
    "Options:\n"
    "  --range 1..N       concepts are sets over 1..N (default 1..100, N up to 1000000)\n"
    "  --max N            the same as --range 1..N\n"
    "  --prior NAME       pmtk3 (default): rules 2/3 each, intervals (1/3)*Erlang(|h|; sigma),\n"
    "                     normalised; mixture: rules lambda/34 each, intervals\n"
    "                     (1-lambda)*Erlang(|h|; sigma)/Z\n"
    "  --lambda L         rule mass of the mixture prior, in [0, 1] (default 2/3)\n"
    "  --sigma S          Erlang scale of interval sizes, > 0 (default 10)\n"
    "  --space FILE       use a grammar-defined hypothesis space (JSON, see README.md)\n"
    "                     instead of the 34 rules; intervals stay, with mass 1-lambda\n"
    "  --prior-file FILE  use a prior fitted by 'nsr numbers fit' (it records its space)\n"
    "  --top K            how many hypotheses to list (default 10)\n"
    "  --probe Y1,Y2,...  also print p(y in C | X) for these numbers\n"
    "  --json             print one JSON object (shape in README.md)\n"
    "  --plot FILE.svg    draw p(y in C | X) as an SVG bar chart\n"
    "  --batch FILE       one example set per line (\"-\" reads stdin); prints one JSON\n"
    "                     object per set, in order; blank lines and # comments are\n"
    "                     skipped; a bad line prints {\"line\":K,\"error\":\"...\"};\n"
    "                     under mpirun the ranks share the sets (same output)\n"
    "  --ascii            draw the chart with ASCII characters only\n"
    "  -h, --help         show this help\n"
    "\n"
    "Exit status: 0 on success, 2 on bad arguments or input, 1 on other failures.\n"
    "Example: nsr numbers 16 8 2 64 --top 5 --plot powers.svg\n";

typedef struct u32_list {
  uint32_t *items;
  size_t len, cap;
} u32_list;

typedef struct numbers_options {
  nsr_numbers_config cfg;
  size_t top;
  u32_list examples;
  u32_list probes;
  const char *probe_text; /* parsed once N is known */
  bool json, ascii;
  const char *plot_path;
  const char *batch_path;
  const char *space_path, *prior_path;
  bool engine_options; /* --range, --max, --prior, --lambda or --sigma given */
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

enum valued_option { OPT_RANGE, OPT_MAX, OPT_PRIOR, OPT_LAMBDA, OPT_SIGMA, OPT_TOP,
                     OPT_PROBE, OPT_PLOT, OPT_BATCH, OPT_SPACE, OPT_PRIOR_FILE, OPT_COUNT };
static const char *const valued_options[OPT_COUNT] = {
    "--range", "--max", "--prior", "--lambda", "--sigma", "--top", "--probe", "--plot", "--batch",
    "--space", "--prior-file"};

static nsr_code apply_option(enum valued_option opt, const char *v, numbers_options *o,
                             nsr_error *err) {
  uint64_t u;
  nsr_code rc = NSR_OK;
  if (opt <= OPT_SIGMA) o->engine_options = true;
  switch (opt) {
    case OPT_RANGE: return parse_range(v, &o->cfg.max, err);
    case OPT_MAX:
      rc = cli_parse_u64(v, "--max", 1, NSR_NUMBERS_MAX_N, &u, err);
      if (rc == NSR_OK) o->cfg.max = (uint32_t)u;
      return rc;
    case OPT_PRIOR: return nsr_numbers_prior_parse(v, &o->cfg.prior, err);
    case OPT_LAMBDA: return cli_parse_double(v, "--lambda", &o->cfg.lambda, err);
    case OPT_SIGMA: return cli_parse_double(v, "--sigma", &o->cfg.sigma, err);
    case OPT_TOP:
      rc = cli_parse_u64(v, "--top", 0, MAX_TOP, &u, err);
      if (rc == NSR_OK) o->top = (size_t)u;
      return rc;
    case OPT_PROBE: o->probe_text = v; return NSR_OK;
    case OPT_PLOT: o->plot_path = v; return NSR_OK;
    case OPT_BATCH: o->batch_path = v; return NSR_OK;
    case OPT_SPACE: o->space_path = v; return NSR_OK;
    case OPT_PRIOR_FILE: o->prior_path = v; return NSR_OK;
    case OPT_COUNT: break;
  }
  return nsr_fail(err, NSR_ERR_INTERNAL, "option table out of step");
}

/* Applies the option at argv[*i] (advancing *i past its value). */
static nsr_code parse_option(int argc, char **argv, int *i, numbers_options *o,
                             nsr_error *err) {
  const char *arg = argv[*i];
  if (strcmp(arg, "--json") == 0) {
    o->json = true;
    return NSR_OK;
  }
  if (strcmp(arg, "--ascii") == 0) {
    o->ascii = true;
    return NSR_OK;
  }
  for (int opt = 0; opt < OPT_COUNT; opt++) {
    const char *v;
    if (!cli_option(argc, argv, i, valued_options[opt], &v)) continue;
    if (v == NULL) return nsr_fail(err, NSR_ERR_INVALID, "option '%s' needs a value", arg);
    return apply_option((enum valued_option)opt, v, o, err);
  }
  return nsr_fail(err, NSR_ERR_INVALID, "unknown option '%s'", arg);
}

/* A lone '-' followed by a digit is a (negative) number, not an option. */
static bool looks_like_option(const char *arg) {
  return arg[0] == '-' && !(arg[1] >= '0' && arg[1] <= '9');
}

/* The options; the numbers come after the model is open, since their range
 * depends on --range or on the space file. */
static nsr_code parse_options(int argc, char **argv, numbers_options *o, nsr_error *err) {
  for (int i = 1; i < argc; i++) {
    if (!looks_like_option(argv[i])) continue;
    nsr_code rc = parse_option(argc, argv, &i, o, err);
    if (rc != NSR_OK) return rc;
  }
  if ((o->space_path || o->prior_path) && o->engine_options) {
    return nsr_fail(err, NSR_ERR_INVALID,
                    "--range, --max, --prior, --lambda and --sigma come from the space or prior file");
  }
  return NSR_OK;
}

/* The example numbers and probes, in 1..N of the open model. */
static nsr_code parse_operands(int argc, char **argv, numbers_options *o, nsr_error *err) {
  for (int i = 1; i < argc; i++) {
    if (looks_like_option(argv[i])) {
      const char *unused;
      for (int opt = 0; opt < OPT_COUNT; opt++) {
        if (cli_option(argc, argv, &i, valued_options[opt], &unused)) break;
      }
      continue;
    }
    nsr_code rc = parse_numbers(argv[i], "examples", o->cfg.max, &o->examples, err);
    if (rc != NSR_OK) return rc;
  }
  if (o->probe_text) {
    nsr_code rc = parse_numbers(o->probe_text, "--probe", o->cfg.max, &o->probes, err);
    if (rc != NSR_OK) return rc;
  }
  if (o->batch_path && o->examples.len > 0) {
    return nsr_fail(err, NSR_ERR_INVALID, "give example numbers or --batch FILE, not both");
  }
  if (o->batch_path && o->plot_path) {
    return nsr_fail(err, NSR_ERR_INVALID, "--plot draws one example set; it cannot be used with --batch");
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
  char *text = nsr_json_dump(obj);
  json_decref(obj);
  if (text == NULL) return nsr_fail(err, NSR_ERR_NOMEM, "JSON output: out of memory");
  fputs(text, out);
  fputc('\n', out);
  free(text);
  return NSR_OK;
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

static nsr_code run_single(numbers_model *m, const numbers_options *o, nsr_error *err) {
  nsr_numbers_result result = {0};
  nsr_code rc = numbers_model_infer(m, o->examples.items, o->examples.len, o->top, &result, err);
  numbers_query q = {&o->cfg, o->examples.items, o->examples.len, o->probes.items, o->probes.len, &result,
                     m->space};
  if (rc == NSR_OK && o->plot_path) rc = write_plot(&q, o->plot_path, err);
  if (rc == NSR_OK) {
    if (o->json) rc = print_json(&q, stdout, err);
    else numbers_report_text(stdout, &q, !o->ascii && numbers_terminal_utf8());
  }
  nsr_numbers_result_free(&result);
  return rc;
}

/* Reads one line of any length into *line (grown with nsr_realloc); returns
 * false at end of input. Sets *failed on allocation failure. */
static bool read_line(FILE *in, char **line, size_t *cap, bool *failed) {
  size_t len = 0;
  for (;;) {
    if (*cap - len < 2) {
      size_t grown_cap = *cap ? *cap * 2 : 256;
      char *grown = nsr_realloc(*line, grown_cap);
      if (grown == NULL) {
        *failed = true;
        return false;
      }
      *line = grown;
      *cap = grown_cap;
    }
    if (fgets(*line + len, (int)(*cap - len), in) == NULL) return len > 0;
    len += strlen(*line + len);
    if (len > 0 && (*line)[len - 1] == '\n') return true;
  }
}

static bool skippable_line(const char *line) {
  while (*line == ' ' || *line == '\t' || *line == '\r' || *line == '\n') line++;
  return *line == '\0' || *line == '#';
}

/* Where batch lines' answers go: JSON lines to out, bad lines' messages
 * to errs. */
typedef struct batch_sink {
  FILE *out, *errs;
} batch_sink;

/* Answers one batch line; a bad line becomes an error object, not a stop. */
static nsr_code batch_line(numbers_model *m, const numbers_options *o, const char *line,
                           unsigned long lineno, nsr_numbers_result *result, u32_list *examples,
                           const batch_sink *sink, bool *line_failed, nsr_error *err) {
  nsr_error line_err;
  nsr_error_clear(&line_err);
  examples->len = 0;
  nsr_code rc = parse_numbers(line, "examples", o->cfg.max, examples, &line_err);
  if (rc == NSR_OK) rc = numbers_model_infer(m, examples->items, examples->len, o->top, result, &line_err);
  if (rc == NSR_ERR_NOMEM) {
    *err = line_err;
    return rc;
  }
  if (rc != NSR_OK) {
    *line_failed = true;
    fprintf(sink->errs, "nsr numbers: batch line %lu: %s\n", lineno, line_err.message);
    json_t *obj = json_pack("{s:I, s:o}", "line", (json_int_t)lineno, "error", nsr_json_string(line_err.message));
    char *text = obj ? nsr_json_dump(obj) : NULL;
    json_decref(obj);
    if (text == NULL) return nsr_fail(err, NSR_ERR_NOMEM, "JSON output: out of memory");
    fputs(text, sink->out);
    fputc('\n', sink->out);
    free(text);
    return NSR_OK;
  }
  numbers_query q = {&o->cfg, examples->items, examples->len, o->probes.items, o->probes.len, result,
                     m->space};
  return print_json(&q, sink->out, err);
}

/* One process: answers every line as it is read. */
static nsr_code run_batch_alone(numbers_model *m, const numbers_options *o, bool *any_line_failed,
                                nsr_error *err) {
  bool from_stdin = strcmp(o->batch_path, "-") == 0;
  FILE *in = from_stdin ? stdin : fopen(o->batch_path, "r");
  if (in == NULL) {
    return nsr_fail(err, NSR_ERR_INVALID, "--batch: cannot read '%s': %s", o->batch_path, strerror(errno));
  }
  char *line = NULL;
  size_t cap = 0;
  bool alloc_failed = false;
  unsigned long lineno = 0;
  nsr_numbers_result result = {0};
  u32_list examples = {0};
  nsr_code rc = NSR_OK;
  while (rc == NSR_OK && read_line(in, &line, &cap, &alloc_failed)) {
    lineno++;
    if (skippable_line(line)) continue;
    rc = batch_line(m, o, line, lineno, &result, &examples, &(batch_sink){stdout, stderr},
                    any_line_failed, err);
  }
  if (rc == NSR_OK && alloc_failed) rc = nsr_fail(err, NSR_ERR_NOMEM, "--batch: out of memory reading a line");
  if (rc == NSR_OK && ferror(in)) {
    rc = nsr_fail(err, NSR_ERR_INVALID, "--batch: cannot read '%s': %s", o->batch_path, strerror(errno));
  }
  if (!from_stdin) fclose(in);
  nsr_free(line);
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

typedef struct batch_chunk {
  /* Broadcast in one piece: status, lines, text bytes, then each line's
   * number in the input (see the macros below). */
  uint64_t meta[3 + CHUNK_LINES];
  char *text;                     /* the lines, each NUL-terminated */
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

/* Rank 0: reads up to CHUNK_LINES answerable lines into c, counting every
 * line in *lineno. c->head[0] tells the other ranks what follows. */
static nsr_code chunk_read(FILE *in, const char *path, batch_chunk *c, char **line, size_t *cap,
                           unsigned long *lineno, nsr_error *err) {
  bool alloc_failed = false;
  size_t used = 0, n = 0;
  nsr_code rc = NSR_OK;
  while (rc == NSR_OK && n < CHUNK_LINES && read_line(in, line, cap, &alloc_failed)) {
    (*lineno)++;
    if (skippable_line(*line)) continue;
    size_t len = strlen(*line) + 1;
    rc = chunk_reserve(c, used + len, err);
    if (rc != NSR_OK) break;
    memcpy(c->text + used, *line, len);
    used += len;
    C_LINENO(c)[n++] = *lineno;
  }
  if (rc == NSR_OK && alloc_failed) rc = nsr_fail(err, NSR_ERR_NOMEM, "--batch: out of memory reading a line");
  if (rc == NSR_OK && ferror(in)) rc = nsr_fail(err, NSR_ERR_INVALID, "--batch: cannot read '%s': %s", path, strerror(errno));
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

/* Answers this rank's slice of the chunk into *out and *errs (malloc'd by
 * open_memstream: the caller frees them with free). */
static nsr_code chunk_answer(numbers_model *m, const numbers_options *o, const batch_chunk *c,
                             char **out, size_t *out_len, char **errs, size_t *errs_len,
                             nsr_error *err) {
  size_t n = (size_t)C_LINES(c), size = (size_t)nsr_dist_size(), rank = (size_t)nsr_dist_rank();
  size_t lo = n * rank / size, hi = n * (rank + 1) / size;
  batch_sink sink = {open_memstream(out, out_len), open_memstream(errs, errs_len)};
  nsr_code rc = sink.out && sink.errs ? NSR_OK : nsr_fail(err, NSR_ERR_NOMEM, "--batch: out of memory");
  const char *line = c->text;
  for (size_t i = 0; i < lo; i++) line += strlen(line) + 1;
  nsr_numbers_result result = {0};
  u32_list examples = {0};
  bool failed = false; /* rank 0 learns of bad lines from their messages */
  for (size_t i = lo; rc == NSR_OK && i < hi; i++, line += strlen(line) + 1) {
    rc = batch_line(m, o, line, (unsigned long)C_LINENO(c)[i], &result, &examples, &sink, &failed, err);
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
static nsr_code chunk_round(numbers_model *m, const numbers_options *o, const batch_chunk *c,
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

static nsr_code run_batch_shared(numbers_model *m, const numbers_options *o, bool *any_line_failed,
                                 nsr_error *err) {
  bool root = nsr_dist_is_root(), from_stdin = strcmp(o->batch_path, "-") == 0;
  FILE *in = !root ? NULL : from_stdin ? stdin : fopen(o->batch_path, "r");
  nsr_code rc = NSR_OK;
  batch_chunk c = {.meta = {CHUNK_FAILED}};
  if (root && in == NULL) {
    rc = nsr_fail(err, NSR_ERR_INVALID, "--batch: cannot read '%s': %s", o->batch_path, strerror(errno));
  }
  char *line = NULL;
  size_t cap = 0;
  unsigned long lineno = 0;
  for (;;) {
    /* Rank 0's read failure still goes out (as CHUNK_FAILED): every rank stops. */
    if (root && rc == NSR_OK) rc = chunk_read(in, o->batch_path, &c, &line, &cap, &lineno, err);
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
  nsr_free(line);
  nsr_free(c.text);
  return rc;
}

static nsr_code run_batch(numbers_model *m, const numbers_options *o, bool *any_line_failed,
                          nsr_error *err) {
  if (nsr_dist_size() > 1) return run_batch_shared(m, o, any_line_failed, err);
  return run_batch_alone(m, o, any_line_failed, err);
}

int cmd_numbers(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "eval") == 0) return cmd_numbers_eval(argc - 1, argv + 1);
  if (argc > 1 && strcmp(argv[1], "fit") == 0) return cmd_numbers_fit(argc - 1, argv + 1);
  if (argc > 1 && strcmp(argv[1], "mh") == 0) return cmd_numbers_mh(argc - 1, argv + 1);
  for (int i = 1; i < argc; i++) {
    if (cli_is_help(argv[i])) {
      fputs(help_text, stdout);
      return CLI_EXIT_OK;
    }
  }
  numbers_options o = {.top = DEFAULT_TOP};
  nsr_numbers_config_default(&o.cfg);
  nsr_error err;
  nsr_error_clear(&err);
  numbers_model m = {0};
  bool any_line_failed = false;
  nsr_code rc = parse_options(argc, argv, &o, &err);
  bool usage = rc != NSR_OK;
  if (rc == NSR_OK) rc = numbers_model_open(&m, &o.cfg, o.space_path, o.prior_path, false, &err);
  if (rc == NSR_OK) {
    o.cfg = m.cfg;
    rc = parse_operands(argc, argv, &o, &err);
    usage = rc != NSR_OK;
  }
  if (usage && (rc == NSR_ERR_INVALID || rc == NSR_ERR_RANGE)) {
    numbers_model_close(&m);
    numbers_options_free(&o);
    return cli_usage_error(CMD, "%s", err.message);
  }
  if (rc == NSR_OK) rc = o.batch_path ? run_batch(&m, &o, &any_line_failed, &err) : run_single(&m, &o, &err);
  if (rc == NSR_OK && (fflush(stdout) != 0 || ferror(stdout))) {
    rc = nsr_fail(&err, NSR_ERR_IO, "writing the output: %s", strerror(errno));
  }
  numbers_model_close(&m);
  numbers_options_free(&o);
  if (rc != NSR_OK) return cli_report(CMD, &err);
  return any_line_failed ? CLI_EXIT_USAGE : CLI_EXIT_OK;
}
