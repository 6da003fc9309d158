/* lang_api.c: the public embedding API of the Church interpreter
 * (nsr_lang.h): creating and freeing interpreters, evaluating text and
 * files, reading results, registering C primitives; and the global
 * definitions of the primitives. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "lang_plot.h"

/* The file name of the library's code, in positions and errors. */
#define LIBRARY_NAME "<prelude>"

/* ---- global definitions -------------------------------------------------- */

lang_rc lang_define_global(nsr_lang *I, const char *name, lval v) {
  lang_symbol *s;
  if (lang_intern(I, name, strlen(name), &s) != LANG_OK) return LANG_ERROR;
  s->global = v;
  s->bound = true;
  return LANG_OK;
}

lval lang_global(nsr_lang *I, const char *name) {
  lang_symbol *s;
  if (lang_intern(I, name, strlen(name), &s) != LANG_OK || !s->bound) {
    return lang_nil();
  }
  return s->global;
}

/* The C function of the primitives the machine applies itself (`apply`
 * and the loops); never called. */
static lang_rc prim_machine_marker(nsr_lang *I, lval *args, int nargs, lval *out) {
  (void)args, (void)nargs, (void)out;
  return lang_fail_at(I, I->site.cur_pos, NSR_ERR_INTERNAL, "a machine primitive called directly");
}

static lang_rc define_prim(nsr_lang *I, const char *name, int min_args, int max_args,
                          lang_prim_fn fn, lang_prim_op op, bool pure) {
  lang_prim *p = lang_alloc(I, NSR_LANG_PRIMITIVE, sizeof *p);
  if (p == NULL) return LANG_ERROR;
  p->name = name;
  p->min_args = min_args;
  p->max_args = max_args;
  p->op = op;
  p->pure = pure;
  p->fn = fn;
  return lang_define_global(I, name, lang_obj_val(NSR_LANG_PRIMITIVE, p));
}

lang_rc lang_define_prims(nsr_lang *I, const lang_prim_def *defs, bool pure) {
  for (; defs->name != NULL; defs++) {
    if (define_prim(I, defs->name, defs->min_args, defs->max_args, defs->fn, LANG_PRIM_C, pure) !=
        LANG_OK) {
      return LANG_ERROR;
    }
  }
  return LANG_OK;
}

lang_rc lang_define_machine_prim(nsr_lang *I, const char *name, int min_args, int max_args,
                                 lang_prim_op op) {
  return define_prim(I, name, min_args, max_args, prim_machine_marker, op, false);
}

void nsr_lang_config_default(nsr_lang_config *cfg) {
  *cfg = (nsr_lang_config){
      .seed = 0,
      .max_steps = 1000000000ULL,
      /* The budget counts what the process really holds, which stays
       * within 1.2 times it; filling it takes seconds, not minutes. */
      .max_memory = (size_t)512 << 20,
      .timeout_seconds = 0,
      .max_paths = 1000000ULL,
      .echo = NULL,
      /* NSR_LANG_GC_STRESS=1 turns on collection at every step for whole
       * test runs, to flush out values a C routine forgot to root. */
      .gc_stress = getenv("NSR_LANG_GC_STRESS") != NULL,
  };
}

static const struct {
  const char *name;
  lang_form form;
} form_names[] = {
    {"quote", FORM_QUOTE},
    {"if", FORM_IF},
    {"define", FORM_DEFINE},
    {"set!", FORM_SET},
    {"lambda", FORM_LAMBDA},
    {"begin", FORM_BEGIN},
    {"and", FORM_AND},
    {"or", FORM_OR},
    {"let", FORM_LET},
    {"let*", FORM_LETSTAR},
    {"letrec", FORM_LETREC},
    {"letrec*", FORM_LETREC},
    {"cond", FORM_COND},
    {"case", FORM_CASE},
    {"when", FORM_WHEN},
    {"unless", FORM_UNLESS},
    {"quasiquote", FORM_QUASIQUOTE},
    {"enumeration-query", FORM_ENUM_QUERY},
    {"rejection-query", FORM_REJECTION_QUERY},
    {"mh-query", FORM_MH_QUERY},
    {"query", FORM_QUERY},
};

static lang_rc intern_cstr(nsr_lang *I, const char *s, lang_symbol **out) {
  return lang_intern(I, s, strlen(s), out);
}

/* Symbols, special forms and library primitives every interpreter has. */
static lang_rc init_language(nsr_lang *I) {
  uint32_t runtime;
  if (lang_add_file(I, "<runtime>", &runtime) != LANG_OK) return LANG_ERROR;
  for (size_t i = 0; i < sizeof form_names / sizeof form_names[0]; i++) {
    lang_symbol *s;
    if (intern_cstr(I, form_names[i].name, &s) != LANG_OK) return LANG_ERROR;
    s->form = (uint8_t)form_names[i].form;
  }
  /* webchurch's conditional is a keyword only in its mode: elsewhere the
   * name stays free for programs. */
  if (I->cfg.webchurch) {
    lang_symbol *s;
    if (intern_cstr(I, "conditional", &s) != LANG_OK) return LANG_ERROR;
    s->form = FORM_CONDITIONAL;
  }
  struct {
    const char *name;
    lang_symbol **slot;
  } syms[] = {
      {"quote", &I->s_quote},       {"quasiquote", &I->s_quasiquote},
      {"unquote", &I->s_unquote},   {"unquote-splicing", &I->s_unquote_splicing},
      {"lambda", &I->s_lambda},     {"define", &I->s_define},
      {"else", &I->s_else},         {"begin", &I->s_begin},
      {"if", &I->s_if},
  };
  for (size_t i = 0; i < sizeof syms / sizeof syms[0]; i++) {
    if (intern_cstr(I, syms[i].name, syms[i].slot) != LANG_OK) return LANG_ERROR;
  }
  if (lang_define_machine_prims(I) != LANG_OK) return LANG_ERROR;
  const struct {
    const lang_prim_def *defs;
    bool pure;
  } tables[] = {
      {lang_prims_num, true},    {lang_prims_list, true},  {lang_prims_list_effects, false},
      {lang_prims_text, false},  {lang_prims_dist, false}, {lang_prims_dist_scores, true},
      {lang_prims_infer, false},
      {lang_prims_set, false},   {lang_prims_plot, false}, {lang_prims_load, false},
      {lang_prims_lists_as_sets, false},
  };
  for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++) {
    if (lang_define_prims(I, tables[i].defs, tables[i].pure) != LANG_OK) return LANG_ERROR;
  }
  I->p_cons = lang_global(I, "cons");
  I->p_list = lang_global(I, "list");
  I->p_append = lang_global(I, "append");
  I->p_list_to_vector = lang_global(I, "list->vector");
  I->p_memv = lang_global(I, "memv");
  I->p_condition = lang_global(I, "condition");
  I->p_enum_query = lang_global(I, "enumeration-query");
  I->p_rejection_query = lang_global(I, "rejection-query");
  I->p_mh_query = lang_global(I, "mh-query");
  I->p_query = lang_global(I, "%query");
  /* `nsr run FILE -- ARGS` rebinds it to the arguments. */
  return lang_define_global(I, "command-line-arguments", lang_nil());
}

/* Reads, expands and evaluates every form of text, whose first line is
 * numbered first_line; the last value becomes the result. The program's
 * data stay rooted while it runs. */
static lang_rc eval_forms(nsr_lang *I, const char *name, uint32_t first_line,
                          const char *text, size_t len) {
  nsr_error_clear(&I->error);
  lang_budget_start(I);
  I->site.cur_pos = (lang_pos){0, 0, 0};
  if (I->heap_bytes >= I->next_gc) lang_collect(I);
  I->site.user_pos = (lang_pos){0, 0, 0};
  I->site.user_call_name = NULL;
  uint32_t file;
  if (lang_add_file(I, name, &file) != LANG_OK) return LANG_ERROR;
  lval program = lang_nil(), form = lang_nil(), value = lang_unspec();
  if (lang_read_all(I, file, first_line, text, len, &program) != LANG_OK) return LANG_ERROR;
  if (lang_root_push(I, &program) != LANG_OK) return LANG_ERROR;
  if (lang_root_push(I, &form) != LANG_OK) {
    lang_root_pop(I, 1);
    return LANG_ERROR;
  }
  lang_rc rc = LANG_OK;
  for (lval l = program; rc == LANG_OK && l.type == NSR_LANG_PAIR; l = lang_cdr(l)) {
    I->site.cur_pos = lang_pos_of(l); /* a lone variable's own position */
    rc = lang_expand(I, lang_car(l), &form);
    if (rc == LANG_OK) rc = lang_eval(I, form, NULL, &value);
  }
  lang_root_pop(I, 2);
  if (rc == LANG_ABORT) {
    rc = lang_error(I, "condition failed outside of any query");
  }
  if (rc == LANG_OK) I->result = value;
  return rc;
}

/* eval_forms, then, when it failed, a collection: a failed evaluation may
 * leave garbage up to the memory budget, which would otherwise stay in the
 * process (and fail the next evaluation's first allocation) until then.
 * Memory freed meanwhile goes back to the system. */
static lang_rc eval_text(nsr_lang *I, const char *name, uint32_t first_line,
                         const char *text, size_t len) {
  lang_rc rc = eval_forms(I, name, first_line, text, len);
  /* lineplot-value's figures are drawn once an evaluation ends, also
   * one that failed (its error is the one reported). */
  nsr_error failure = I->error;
  if (plot_series_flush(I) != LANG_OK && rc == LANG_OK) rc = LANG_ERROR;
  else if (rc != LANG_OK) I->error = failure;
  if (rc != LANG_OK) lang_collect(I);
  lang_release_memory(I);
  return rc;
}

static nsr_code report(nsr_lang *I, lang_rc rc, nsr_error *err) {
  if (rc == LANG_OK) return NSR_OK;
  if (err != NULL) *err = I->error;
  return I->error.code == NSR_OK ? NSR_ERR_INTERNAL : I->error.code;
}

nsr_code nsr_lang_new(const nsr_lang_config *cfg, nsr_lang **out,
                      nsr_error *err) {
  *out = NULL;
  nsr_lang *I = nsr_calloc(1, sizeof *I);
  if (I == NULL) return nsr_fail(err, NSR_ERR_NOMEM, "interpreter: out of memory");
  if (cfg != NULL) {
    I->cfg = *cfg;
  } else {
    nsr_lang_config_default(&I->cfg);
  }
  nsr_rng_seed(&I->rng, I->cfg.seed);
  I->next_gc = I->cfg.gc_stress ? 0 : (size_t)1 << 20;
  I->result = lang_unspec();
  for (int i = 0; i < LANG_CACHES; i++) I->list_cache[i].list = lang_nil();
  lang_rc rc = init_language(I);
  if (rc == LANG_OK) rc = lang_add_file(I, LIBRARY_NAME, &I->library_file);
  if (rc == LANG_OK) rc = lang_prelude_start(I);
  if (rc != LANG_OK) {
    nsr_code code = report(I, rc, err);
    nsr_error_prefix(err, "loading Church's library: ");
    nsr_lang_free(I);
    return code;
  }
  I->result = lang_unspec();
  *out = I;
  return NSR_OK;
}

void nsr_lang_free(nsr_lang *I) {
  if (I == NULL) return;
  I->freed_bytes += I->heap_bytes;
  lang_free_all(I);
  for (size_t i = 0; i < I->nfiles; i++) nsr_free(I->files[i]);
  nsr_free(I->files);
  nsr_free(I->symtab);
  nsr_free(I->frames);
  nsr_free(I->vals);
  nsr_free(I->roots);
  nsr_free(I->out);
  lang_plots_free(I);
  for (int i = 0; i < LANG_CACHES; i++) nsr_free(I->list_cache[i].items);
  lang_release_memory(I);
  nsr_free(I);
}

nsr_code nsr_lang_eval_string(nsr_lang *I, const char *name, const char *text,
                              size_t len, nsr_error *err) {
  return report(I, eval_text(I, name, 1, text, len), err);
}

nsr_code nsr_lang_eval_lines(nsr_lang *I, const char *name, uint32_t first_line,
                             const char *text, size_t len, nsr_error *err) {
  return report(I, eval_text(I, name, first_line > 0 ? first_line : 1, text, len), err);
}

nsr_code nsr_lang_eval_file(nsr_lang *I, const char *path, nsr_error *err) {
  FILE *f = fopen(path, "rb");
  if (f == NULL) return nsr_fail(err, NSR_ERR_IO, "%s: %s", path, strerror(errno));
  lang_buf b = {0};
  char chunk[65536];
  size_t n;
  while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) lang_buf_add(&b, chunk, n);
  bool read_failed = ferror(f) != 0;
  fclose(f);
  if (read_failed || b.failed) {
    nsr_free(b.data);
    return read_failed ? nsr_fail(err, NSR_ERR_IO, "%s: read error", path)
                       : nsr_fail(err, NSR_ERR_NOMEM, "%s: out of memory", path);
  }
  nsr_code code = nsr_lang_eval_string(I, path, b.data ? b.data : "", b.len, err);
  nsr_free(b.data);
  return code;
}

const char *nsr_lang_output(const nsr_lang *I, size_t *len) {
  if (len != NULL) *len = I->out_len;
  return I->out != NULL ? I->out : "";
}

void nsr_lang_output_clear(nsr_lang *I) {
  I->heap_bytes -= I->out_len;
  I->out_len = 0;
  if (I->out != NULL) I->out[0] = '\0';
}

/* ---- values -------------------------------------------------------------- */

nsr_lang_value nsr_lang_result(const nsr_lang *I) { return I->result; }

size_t nsr_lang_format(const nsr_lang *I, nsr_lang_value v, char *buf,
                       size_t len) {
  /* The walk stops once buf is full, so a huge value costs len bytes. */
  lang_buf b = {.limit = len > 0 ? len : 1, .webchurch = I->cfg.webchurch};
  lang_print(&b, v, true);
  size_t n = b.over ? b.limit : b.len;
  if (len > 0) {
    size_t k = b.len < len - 1 ? b.len : len - 1;
    if (k > 0) memcpy(buf, b.data, k);
    buf[k] = '\0';
  }
  nsr_free(b.data);
  return n;
}

/* The error of a text buffer that failed outside an evaluation (no
 * interpreter error to set), prefixed with `what`. Frees the buffer, and
 * gives its memory back to the system when it was large. */
static nsr_code text_error(const nsr_lang *I, lang_buf *b, const char *what, nsr_error *err) {
  char msg[NSR_ERROR_MESSAGE_MAX];
  nsr_code code = lang_buf_failure(I, b, msg, sizeof msg);
  nsr_free(b->data);
  lang_release_freed(b->cap);
  return nsr_fail(err, code, "%s: %s", what, msg);
}

nsr_code nsr_lang_write(const nsr_lang *I, nsr_lang_value v, char **out, nsr_error *err) {
  *out = NULL;
  lang_buf b = lang_text_buf(I);
  lang_print(&b, v, true);
  if (b.failed) return text_error(I, &b, "printing the value", err);
  *out = b.data != NULL ? b.data : nsr_strdup("");
  return *out != NULL ? NSR_OK : nsr_fail(err, NSR_ERR_NOMEM, "printing the value: out of memory");
}

bool nsr_lang_to_double(nsr_lang_value v, double *out) {
  if (!lang_is_number(v)) return false;
  *out = lang_num(v);
  return true;
}

const char *nsr_lang_to_string(nsr_lang_value v) {
  if (v.type == NSR_LANG_STRING) return LANG_STR(v)->chars;
  if (v.type == NSR_LANG_SYMBOL) return LANG_SYM(v)->name;
  return NULL;
}

int64_t nsr_lang_length(nsr_lang_value v) {
  if (v.type == NSR_LANG_VECTOR) return (int64_t)LANG_VEC(v)->len;
  return lang_list_length(v);
}

nsr_lang_value nsr_lang_ref(nsr_lang_value v, int64_t i) {
  if (v.type == NSR_LANG_VECTOR) {
    return i >= 0 && (uint64_t)i < LANG_VEC(v)->len ? LANG_VEC(v)->items[i] : lang_nil();
  }
  for (; i > 0 && v.type == NSR_LANG_PAIR; i--) v = lang_cdr(v);
  return i == 0 && v.type == NSR_LANG_PAIR ? lang_car(v) : lang_nil();
}

nsr_lang_value nsr_lang_int(int64_t i) { return lang_int(i); }
nsr_lang_value nsr_lang_real(double r) { return lang_real(r); }
nsr_lang_value nsr_lang_bool(bool b) { return lang_bool(b); }

nsr_code nsr_lang_string(nsr_lang *I, const char *text, size_t len,
                         nsr_lang_value *out, nsr_error *err) {
  return report(I, lang_make_string(I, text, len, out), err);
}

nsr_code nsr_lang_list(nsr_lang *I, const nsr_lang_value *items, size_t n,
                       nsr_lang_value *out, nsr_error *err) {
  return report(I, lang_list_from(I, items, n, out), err);
}

nsr_code nsr_lang_define(nsr_lang *I, const char *name, nsr_lang_value value,
                         nsr_error *err) {
  return report(I, lang_define_global(I, name, value), err);
}

nsr_code nsr_lang_define_primitive(nsr_lang *I, const char *name,
                                   int min_args, int max_args,
                                   nsr_lang_primitive_fn fn, void *user,
                                   nsr_error *err) {
  if (fn == NULL || min_args < 0 || (max_args >= 0 && max_args < min_args)) {
    return nsr_fail(err, NSR_ERR_INVALID, "primitive '%s': bad arity or function", name);
  }
  lang_symbol *s;
  if (intern_cstr(I, name, &s) != LANG_OK) return report(I, LANG_ERROR, err);
  lang_prim *p = lang_alloc(I, NSR_LANG_PRIMITIVE, sizeof *p);
  if (p == NULL) return report(I, LANG_ERROR, err);
  p->name = s->name; /* symbols are never collected */
  p->min_args = min_args;
  p->max_args = max_args;
  p->user_fn = fn;
  p->user = user;
  s->global = lang_obj_val(NSR_LANG_PRIMITIVE, p);
  s->bound = true;
  return NSR_OK;
}

/* ---- JSON ---------------------------------------------------------------- */

/* JSON clients commonly parse recursively and give up (or crash) on deep
 * nesting, so results nest at most this deep (see nsr_lang.h). */
#define JSON_MAX_DEPTH NSR_LANG_JSON_MAX_DEPTH

static void lang_json_string(lang_buf *b, const char *s, size_t n) {
  lang_buf_add(b, "\"", 1);
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '"' || c == '\\') {
      char esc[2] = {'\\', (char)c};
      lang_buf_add(b, esc, 2);
    } else if (c == '\n') {
      lang_buf_add(b, "\\n", 2);
    } else if (c == '\t') {
      lang_buf_add(b, "\\t", 2);
    } else if (c < 0x20) {
      lang_buf_printf(b, "\\u%04x", c);
    } else {
      lang_buf_add(b, (const char *)&s[i], 1);
    }
  }
  lang_buf_add(b, "\"", 1);
}

/* Appends v as JSON. Arrays nested deeper than JSON_MAX_DEPTH set
 * *too_deep and stop the walk, as does the buffer failing. */
static void json_value(lang_buf *b, lval v, int depth, bool *too_deep) {
  if (b->failed || *too_deep) return;
  switch (v.type) {
    case NSR_LANG_NIL: lang_buf_add(b, "[]", 2); return;
    case NSR_LANG_BOOL: lang_buf_add(b, v.as.b ? "true" : "false", v.as.b ? 4 : 5); return;
    case NSR_LANG_INT: lang_print_number(b, v); return;
    case NSR_LANG_REAL: {
      char text[NSR_JSON_REAL_MAX];
      lang_buf_printf(b, "%s", nsr_json_real_text(v.as.r, text));
      return;
    }
    case NSR_LANG_STRING: lang_json_string(b, LANG_STR(v)->chars, LANG_STR(v)->len); return;
    case NSR_LANG_SYMBOL: lang_json_string(b, LANG_SYM(v)->name, LANG_SYM(v)->len); return;
    case NSR_LANG_PAIR: {
      /* A list is an array; an improper tail becomes its last element. */
      if (depth >= JSON_MAX_DEPTH) {
        *too_deep = true;
        return;
      }
      lang_buf_add(b, "[", 1);
      for (bool first = true;; first = false) {
        if (!first) lang_buf_add(b, ",", 1);
        json_value(b, lang_car(v), depth + 1, too_deep);
        v = lang_cdr(v);
        if (v.type != NSR_LANG_PAIR || b->failed || *too_deep) break;
      }
      if (v.type != NSR_LANG_NIL && v.type != NSR_LANG_PAIR) {
        lang_buf_add(b, ",", 1);
        json_value(b, v, depth + 1, too_deep);
      }
      lang_buf_add(b, "]", 1);
      return;
    }
    case NSR_LANG_VECTOR:
      if (depth >= JSON_MAX_DEPTH) {
        *too_deep = true;
        return;
      }
      lang_buf_add(b, "[", 1);
      for (size_t i = 0; i < LANG_VEC(v)->len && !b->failed && !*too_deep; i++) {
        if (i > 0) lang_buf_add(b, ",", 1);
        json_value(b, LANG_VEC(v)->items[i], depth + 1, too_deep);
      }
      lang_buf_add(b, "]", 1);
      return;
    case NSR_LANG_UNSPECIFIED: lang_buf_add(b, "null", 4); return;
    case NSR_LANG_SET: {
      const nsr_bitset *bits = &LANG_SET(v)->bits;
      lang_buf_add(b, "[", 1);
      for (size_t i = nsr_bitset_next(bits, 0); i < bits->nbits; i = nsr_bitset_next(bits, i + 1)) {
        lang_buf_printf(b, i == nsr_bitset_next(bits, 0) ? "%zu" : ",%zu", i);
      }
      lang_buf_add(b, "]", 1);
      return;
    }
    default: {
      lang_buf text = {.limit = 4096}; /* a procedure's or table's name */
      lang_print(&text, v, true);
      lang_json_string(b, text.data ? text.data : "", text.len);
      nsr_free(text.data);
      return;
    }
  }
}

nsr_code nsr_lang_to_json(const nsr_lang *I, nsr_lang_value v, char **out,
                          nsr_error *err) {
  *out = NULL;
  /* JSON is printing too: the same limits as lang_print's. */
  lang_buf b = lang_text_buf(I);
  lang_buf_print_limit(&b);
  bool too_deep = false;
  json_value(&b, v, 0, &too_deep);
  if (b.failed) return text_error(I, &b, "JSON output", err);
  if (too_deep) {
    nsr_free(b.data);
    return nsr_fail(err, NSR_ERR_LIMIT,
                    "JSON output: the value nests lists or vectors deeper than %d levels, the "
                    "most a JSON result may (many JSON parsers recurse); return it flatter",
                    JSON_MAX_DEPTH);
  }
  *out = b.data != NULL ? b.data : nsr_strdup("null");
  return *out != NULL ? NSR_OK : nsr_fail(err, NSR_ERR_NOMEM, "JSON output: out of memory");
}

nsr_code nsr_lang_json_string(const char *text, size_t len, char **out,
                              nsr_error *err) {
  lang_buf b = {0};
  lang_json_string(&b, text, len);
  if (b.failed) {
    nsr_free(b.data);
    return nsr_fail(err, NSR_ERR_NOMEM, "JSON output: out of memory");
  }
  *out = b.data;
  return NSR_OK;
}
