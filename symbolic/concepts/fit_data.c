/* fit_data.c: reads human generalization data (Tenenbaum's ratings and
 * Bigelow & Piantadosi's yes/no counts) from CSV into sets and cells. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fileio.h"
#include "nsr_space.h"

#define MAX_FIELDS 16
#define MAX_DATA_BYTES (64u << 20)

enum column { COL_SPLIT, COL_SET, COL_EXAMPLES, COL_TARGET, COL_YES, COL_NO, COL_N, COL_P, COL_COUNT };

/* Both layouts: the set is named by `set` (B&P, which lists the examples)
 * or by `set_id` with the examples in `examples` (Tenenbaum). */
static const char *const column_names[COL_COUNT] = {"split", "set", "examples", "target",
                                                    "yes", "no", "n", "p_yes"};

typedef struct parser {
  const char *what;
  unsigned long line;
  uint32_t max;
  int col[COL_COUNT]; /* field index, -1 when absent */
  int id_col;         /* set_id (Tenenbaum) */
  int n_fields;
  nsr_error *err;
} parser;

typedef struct row_cell {
  nsr_human_cell cell;
  size_t set;
} row_cell;

typedef struct builder {
  nsr_human_set *sets;
  char **keys;
  size_t n_sets, cap_sets;
  row_cell *cells;
  size_t n_cells, cap_cells;
} builder;

/* Splits line (modified in place) at commas into at most MAX_FIELDS fields,
 * trimming blanks and surrounding double quotes. Returns the count, or -1
 * when there are too many. */
static int split_fields(char *line, char **fields) {
  int n = 0;
  for (char *p = line;;) {
    if (n == MAX_FIELDS) return -1;
    char *end = strchr(p, ',');
    if (end) *end = '\0';
    while (isspace((unsigned char)*p)) p++;
    size_t len = strlen(p);
    while (len > 0 && isspace((unsigned char)p[len - 1])) p[--len] = '\0';
    if (len >= 2 && p[0] == '"' && p[len - 1] == '"') {
      p[len - 1] = '\0';
      p++;
    }
    fields[n++] = p;
    if (end == NULL) return n;
    p = end + 1;
  }
}

/* Finds the columns by name and tells the two layouts apart; fails naming
 * the first missing column. */
static nsr_code parse_header(parser *ps, char **fields, int n) {
  for (int c = 0; c < COL_COUNT; c++) ps->col[c] = -1;
  ps->id_col = -1;
  for (int i = 0; i < n; i++) {
    if (strcmp(fields[i], "set_id") == 0) ps->id_col = i;
    for (int c = 0; c < COL_COUNT; c++) {
      if (strcmp(fields[i], column_names[c]) == 0) ps->col[c] = i;
    }
  }
  ps->n_fields = n;
  bool tenenbaum = ps->id_col >= 0 && ps->col[COL_EXAMPLES] >= 0;
  bool bp = ps->col[COL_SET] >= 0 && ps->col[COL_YES] >= 0 && ps->col[COL_NO] >= 0;
  if (!tenenbaum && !bp) {
    return nsr_fail(ps->err, NSR_ERR_FORMAT,
                    "%s:1: unknown header: expected columns set_id,examples,probe,p_yes "
                    "or split,set,n_examples,target,yes,no,n,p_yes", ps->what);
  }
  if (ps->col[COL_TARGET] < 0 && tenenbaum) {
    for (int i = 0; i < n; i++) {
      if (strcmp(fields[i], "probe") == 0) ps->col[COL_TARGET] = i;
    }
  }
  const char *need = ps->col[COL_TARGET] < 0 ? (tenenbaum ? "probe" : "target")
                     : ps->col[COL_P] < 0 && tenenbaum ? "p_yes" : NULL;
  if (need) return nsr_fail(ps->err, NSR_ERR_FORMAT, "%s:1: missing column '%s'", ps->what, need);
  if (tenenbaum) ps->col[COL_SET] = -1; /* examples come from `examples` */
  return NSR_OK;
}

static nsr_code parse_uint(parser *ps, const char *text, const char *name, uint64_t min,
                           uint64_t max, uint64_t *out) {
  errno = 0;
  char *end;
  unsigned long long v = strtoull(text, &end, 10);
  if (end == text || *end != '\0' || errno == ERANGE || text[0] == '-' || v < min || v > max) {
    return nsr_fail(ps->err, NSR_ERR_INVALID, "%s:%lu: %s '%s' is not a whole number in %llu..%llu",
                    ps->what, ps->line, name, text, (unsigned long long)min,
                    (unsigned long long)max);
  }
  *out = v;
  return NSR_OK;
}

/* Parses space-separated examples (each in 1..max) into a new array. */
static nsr_code parse_examples(parser *ps, const char *text, uint32_t **out, size_t *n) {
  size_t cap = strlen(text) / 2 + 1;
  uint32_t *x = nsr_mallocarray(cap, sizeof *x);
  if (x == NULL) return nsr_fail(ps->err, NSR_ERR_NOMEM, "%s: out of memory", ps->what);
  *n = 0;
  char token[32];
  for (const char *p = text; *p;) {
    while (*p == ' ') p++;
    if (*p == '\0') break;
    size_t len = strcspn(p, " ");
    snprintf(token, sizeof token, "%.*s", (int)(len < 31 ? len : 31), p);
    uint64_t v;
    nsr_code rc = parse_uint(ps, token, "example", 1, ps->max, &v);
    if (rc != NSR_OK) {
      nsr_free(x);
      return rc;
    }
    x[(*n)++] = (uint32_t)v;
    p += len;
  }
  if (*n == 0) {
    nsr_free(x);
    return nsr_fail(ps->err, NSR_ERR_INVALID, "%s:%lu: a set has no examples", ps->what, ps->line);
  }
  *out = x;
  return NSR_OK;
}

/* The index of the set named `key`, adding it (with its examples parsed
 * from `examples`) when new. */
static nsr_code find_set(parser *ps, builder *b, const char *key, const char *examples,
                         const char *split, size_t *index) {
  for (size_t i = 0; i < b->n_sets; i++) {
    if (strcmp(b->keys[i], key) == 0) {
      *index = i;
      return NSR_OK;
    }
  }
  if (b->n_sets == b->cap_sets) {
    size_t cap = b->cap_sets ? 2 * b->cap_sets : 64;
    nsr_human_set *s = nsr_reallocarray(b->sets, cap, sizeof *s);
    if (s) b->sets = s;
    char **k = nsr_reallocarray(b->keys, cap, sizeof *k);
    if (k) b->keys = k;
    if (!s || !k) return nsr_fail(ps->err, NSR_ERR_NOMEM, "%s: out of memory", ps->what);
    b->cap_sets = cap;
  }
  nsr_human_set *set = &b->sets[b->n_sets];
  memset(set, 0, sizeof *set);
  snprintf(set->split, sizeof set->split, "%s", split);
  nsr_code rc = parse_examples(ps, examples, &set->examples, &set->n_examples);
  if (rc != NSR_OK) return rc;
  b->keys[b->n_sets] = nsr_strdup(key);
  if (b->keys[b->n_sets] == NULL) {
    nsr_free(set->examples);
    return nsr_fail(ps->err, NSR_ERR_NOMEM, "%s: out of memory", ps->what);
  }
  *index = b->n_sets++;
  return NSR_OK;
}

static nsr_code parse_probability(parser *ps, const char *text, double *out) {
  errno = 0;
  char *end;
  double v = strtod(text, &end);
  if (end == text || *end != '\0' || errno == ERANGE || !(v >= 0.0 && v <= 1.0)) {
    return nsr_fail(ps->err, NSR_ERR_INVALID, "%s:%lu: p_yes '%s' is not a number in [0, 1]",
                    ps->what, ps->line, text);
  }
  *out = v;
  return NSR_OK;
}

/* Parses the counts of a B&P row into c (yes + no must equal n when n is
 * given, and be positive). */
static nsr_code parse_counts(parser *ps, char **f, nsr_human_cell *c) {
  uint64_t yes, no, n;
  nsr_code rc = parse_uint(ps, f[ps->col[COL_YES]], "yes", 0, 1000000000, &yes);
  if (rc == NSR_OK) rc = parse_uint(ps, f[ps->col[COL_NO]], "no", 0, 1000000000, &no);
  if (rc != NSR_OK) return rc;
  if (yes + no == 0) return nsr_fail(ps->err, NSR_ERR_INVALID, "%s:%lu: no responses (yes + no = 0)", ps->what, ps->line);
  if (ps->col[COL_N] >= 0) {
    rc = parse_uint(ps, f[ps->col[COL_N]], "n", 0, 2000000000, &n);
    if (rc != NSR_OK) return rc;
    if (n != yes + no) {
      return nsr_fail(ps->err, NSR_ERR_INVALID, "%s:%lu: n = %llu but yes + no = %llu", ps->what,
                      ps->line, (unsigned long long)n, (unsigned long long)(yes + no));
    }
  }
  c->yes = (uint32_t)yes;
  c->no = (uint32_t)no;
  c->p_yes = (double)yes / (double)(yes + no);
  return NSR_OK;
}

/* Parses one data row and appends its cell (unless its split is filtered
 * out). */
static nsr_code parse_row(parser *ps, builder *b, char **f, int n, const char *want_split) {
  if (n != ps->n_fields) {
    return nsr_fail(ps->err, NSR_ERR_FORMAT, "%s:%lu: %d fields, the header has %d", ps->what,
                    ps->line, n, ps->n_fields);
  }
  const char *split = ps->col[COL_SPLIT] >= 0 ? f[ps->col[COL_SPLIT]] : "";
  if (ps->col[COL_SPLIT] >= 0 && strcmp(split, "dev") != 0 && strcmp(split, "test") != 0) {
    return nsr_fail(ps->err, NSR_ERR_INVALID, "%s:%lu: split '%s' is not dev or test", ps->what,
                    ps->line, split);
  }
  row_cell rc_cell = {0};
  uint64_t target;
  nsr_code rc = parse_uint(ps, f[ps->col[COL_TARGET]], "target", 1, ps->max, &target);
  if (rc != NSR_OK) return rc;
  rc_cell.cell.target = (uint32_t)target;
  if (ps->col[COL_YES] >= 0) rc = parse_counts(ps, f, &rc_cell.cell);
  /* With counts, p_yes is checked but the exact yes / n is kept. */
  double p_file = 0.0;
  if (rc == NSR_OK && ps->col[COL_P] >= 0) rc = parse_probability(ps, f[ps->col[COL_P]], &p_file);
  if (rc == NSR_OK && ps->col[COL_YES] < 0) rc_cell.cell.p_yes = p_file;
  if (rc != NSR_OK) return rc;
  if (want_split && strcmp(split, want_split) != 0) return NSR_OK;
  bool tenenbaum = ps->id_col >= 0 && ps->col[COL_EXAMPLES] >= 0;
  const char *examples = tenenbaum ? f[ps->col[COL_EXAMPLES]] : f[ps->col[COL_SET]];
  char key[512];
  snprintf(key, sizeof key, "%s|%s", split, tenenbaum ? f[ps->id_col] : examples);
  rc = find_set(ps, b, key, examples, split, &rc_cell.set);
  if (rc != NSR_OK) return rc;
  if (b->n_cells == b->cap_cells) {
    size_t cap = b->cap_cells ? 2 * b->cap_cells : 1024;
    row_cell *c = nsr_reallocarray(b->cells, cap, sizeof *c);
    if (c == NULL) return nsr_fail(ps->err, NSR_ERR_NOMEM, "%s: out of memory", ps->what);
    b->cells = c;
    b->cap_cells = cap;
  }
  b->cells[b->n_cells++] = rc_cell;
  return NSR_OK;
}

/* Moves the rows into *out, grouped by set (a stable counting sort). */
static nsr_code finish(parser *ps, builder *b, nsr_human_data *out) {
  if (b->n_cells == 0) return nsr_fail(ps->err, NSR_ERR_INVALID, "%s: no data rows%s", ps->what,
                                       ps->line > 1 ? " in the selected split" : "");
  out->cells = nsr_mallocarray(b->n_cells, sizeof *out->cells);
  if (out->cells == NULL) return nsr_fail(ps->err, NSR_ERR_NOMEM, "%s: out of memory", ps->what);
  for (size_t i = 0; i < b->n_cells; i++) b->sets[b->cells[i].set].n_cells++;
  size_t next = 0;
  for (size_t s = 0; s < b->n_sets; s++) {
    b->sets[s].first_cell = next;
    next += b->sets[s].n_cells;
    b->sets[s].n_cells = 0;
  }
  for (size_t i = 0; i < b->n_cells; i++) {
    nsr_human_set *s = &b->sets[b->cells[i].set];
    out->cells[s->first_cell + s->n_cells++] = b->cells[i].cell;
  }
  out->sets = b->sets;
  out->n_sets = b->n_sets;
  out->n_cells = b->n_cells;
  out->has_counts = ps->col[COL_YES] >= 0;
  out->has_split = ps->col[COL_SPLIT] >= 0;
  for (size_t i = 0; i < b->n_sets; i++) nsr_free(b->keys[i]);
  b->sets = NULL; /* now owned by *out */
  b->n_sets = 0;
  return NSR_OK;
}

static void builder_free(builder *b) {
  for (size_t i = 0; i < b->n_sets; i++) {
    nsr_free(b->sets[i].examples);
    nsr_free(b->keys[i]);
  }
  nsr_free(b->sets);
  nsr_free(b->keys);
  nsr_free(b->cells);
}

/* Parses every line of `text` (a private copy, modified). */
static nsr_code parse_lines(parser *ps, builder *b, char *text, const char *split) {
  char *fields[MAX_FIELDS];
  bool header = true;
  for (char *line = text; line != NULL;) {
    char *nl = strchr(line, '\n');
    if (nl) *nl = '\0';
    ps->line++;
    size_t len = strlen(line);
    if (len > 0 && line[len - 1] == '\r') line[len - 1] = '\0';
    if (line[strspn(line, " \t")] != '\0') {
      int n = split_fields(line, fields);
      if (n < 0) return nsr_fail(ps->err, NSR_ERR_FORMAT, "%s:%lu: more than %d fields", ps->what, ps->line, MAX_FIELDS);
      nsr_code rc = header ? parse_header(ps, fields, n) : parse_row(ps, b, fields, n, split);
      if (rc != NSR_OK) return rc;
      header = false;
    }
    line = nl ? nl + 1 : NULL;
  }
  if (header) return nsr_fail(ps->err, NSR_ERR_FORMAT, "%s: empty file (no header line)", ps->what);
  return NSR_OK;
}

nsr_code nsr_human_data_parse(const char *text, size_t len, const char *what, const char *split,
                              uint32_t max, nsr_human_data *out, nsr_error *err) {
  memset(out, 0, sizeof *out);
  if (split && strcmp(split, "all") == 0) split = NULL;
  if (split && strcmp(split, "dev") != 0 && strcmp(split, "test") != 0) {
    return nsr_fail(err, NSR_ERR_INVALID, "split '%s': expected dev, test or all", split);
  }
  char *copy = nsr_strndup(text, len);
  if (copy == NULL) return nsr_fail(err, NSR_ERR_NOMEM, "%s: out of memory", what);
  parser ps = {.what = what, .max = max, .err = err};
  builder b = {0};
  nsr_code rc = parse_lines(&ps, &b, copy, split);
  if (rc == NSR_OK && split && ps.col[COL_SPLIT] < 0) {
    rc = nsr_fail(err, NSR_ERR_INVALID, "%s has no split column: use --split all", what);
  }
  if (rc == NSR_OK) rc = finish(&ps, &b, out);
  builder_free(&b);
  nsr_free(copy);
  return rc;
}

nsr_code nsr_human_data_load(const char *path, const char *split, uint32_t max,
                             nsr_human_data *out, nsr_error *err) {
  char *text;
  size_t len;
  memset(out, 0, sizeof *out);
  nsr_code rc = nsr_read_file(path, MAX_DATA_BYTES, &text, &len, err);
  if (rc != NSR_OK) return rc;
  if (memchr(text, '\0', len) != NULL) {
    nsr_free(text);
    return nsr_fail(err, NSR_ERR_FORMAT, "%s: not a text file (contains NUL bytes)", path);
  }
  rc = nsr_human_data_parse(text, len, path, split, max, out, err);
  nsr_free(text);
  return rc;
}

nsr_code nsr_human_data_subset(const nsr_human_data *in, const bool *keep, nsr_human_data *out,
                               nsr_error *err) {
  memset(out, 0, sizeof *out);
  out->has_counts = in->has_counts;
  out->has_split = in->has_split;
  out->sets = nsr_calloc(in->n_sets ? in->n_sets : 1, sizeof *out->sets);
  out->cells = nsr_mallocarray(in->n_cells ? in->n_cells : 1, sizeof *out->cells);
  if (!out->sets || !out->cells) {
    nsr_human_data_free(out);
    return nsr_fail(err, NSR_ERR_NOMEM, "data subset: out of memory");
  }
  for (size_t i = 0; i < in->n_sets; i++) {
    if (!keep[i]) continue;
    const nsr_human_set *src = &in->sets[i];
    nsr_human_set *dst = &out->sets[out->n_sets];
    *dst = *src;
    dst->examples = nsr_mallocarray(src->n_examples, sizeof *dst->examples);
    if (dst->examples == NULL) {
      nsr_human_data_free(out);
      return nsr_fail(err, NSR_ERR_NOMEM, "data subset: out of memory");
    }
    out->n_sets++;
    memcpy(dst->examples, src->examples, src->n_examples * sizeof *dst->examples);
    dst->first_cell = out->n_cells;
    memcpy(out->cells + out->n_cells, in->cells + src->first_cell, src->n_cells * sizeof *out->cells);
    out->n_cells += src->n_cells;
  }
  return NSR_OK;
}

void nsr_human_data_free(nsr_human_data *data) {
  // NOLINTNEXTLINE(clang-analyzer-core.NullDereference): n_sets is 0 whenever sets is NULL
  for (size_t i = 0; i < data->n_sets; i++) nsr_free(data->sets[i].examples);
  nsr_free(data->sets);
  nsr_free(data->cells);
  memset(data, 0, sizeof *data);
}
