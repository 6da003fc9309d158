/* lang_prims_load.c: program text made or found at run time: `eval` of a
 * datum and `load` of a file of Church forms. Both evaluate at top level
 * (definitions are global), in a nested activation of the evaluator, under
 * the budgets of the running program. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lang_internal.h"

/* Text is charged at one step per this many bytes read (as printing is). */
#define LOAD_BYTES_PER_STEP 64

/* Expands and evaluates each form of the list `forms` at top level; *out
 * is the last value (unspecified for none). `forms` must be rooted by the
 * caller; the form being run is rooted here. */
static lang_rc eval_top_level(nsr_lang *I, lval forms, lval *out) {
  lval form = lang_nil();
  *out = lang_unspec();
  if (lang_root_push(I, &form) != LANG_OK) return LANG_ERROR;
  lang_rc rc = LANG_OK;
  for (lval l = forms; rc == LANG_OK && l.type == NSR_LANG_PAIR; l = lang_cdr(l)) {
    rc = lang_expand(I, lang_car(l), &form);
    if (rc == LANG_OK) rc = lang_eval(I, form, NULL, out);
  }
  lang_root_pop(I, 1);
  return rc;
}

/* (eval datum [environment]): evaluates the datum as a program form in the
 * global environment (an environment argument, as webchurch and Scheme
 * programs pass, is ignored). */
static lang_rc p_eval(nsr_lang *I, lval *a, int n, lval *out) {
  (void)n;
  lval forms;
  if (lang_cons(I, a[0], lang_nil(), &forms) != LANG_OK) return LANG_ERROR;
  if (lang_root_push(I, &forms) != LANG_OK) return LANG_ERROR;
  lang_rc rc = eval_top_level(I, forms, out);
  lang_root_pop(I, 1);
  return rc;
}

/* Reads the file at path into b (bounded by the memory budget, as text
 * being made is) and charges the bytes read; a located error naming the
 * path when it cannot be read. */
static lang_rc read_file(nsr_lang *I, const char *path, lang_buf *b) {
  FILE *f = fopen(path, "rb");
  if (f == NULL) return lang_error(I, "load: cannot read %s: %s", path, strerror(errno));
  char chunk[16384];
  size_t got;
  lang_rc rc = LANG_OK;
  while (rc == LANG_OK && !b->failed && (got = fread(chunk, 1, sizeof chunk, f)) > 0) {
    lang_buf_add(b, chunk, got);
    rc = lang_charge(I, got / LOAD_BYTES_PER_STEP + 1);
  }
  bool read_failed = ferror(f) != 0;
  fclose(f);
  if (rc != LANG_OK) return rc;
  if (b->failed) return lang_buf_error(I, b);
  if (read_failed) return lang_error(I, "load: cannot read %s: read error", path);
  return LANG_OK;
}

/* (load path): reads, expands and evaluates the file's forms at top level,
 * as if they stood at the call; positions in errors name the file. Only
 * when the host allows files (nsr_lang_config.load_files): a tool such as
 * run_program does not. */
static lang_rc p_load(nsr_lang *I, lval *a, int n, lval *out) {
  (void)n;
  if (a[0].type != NSR_LANG_STRING) return lang_type_error(I, "load", "a string", 0, a[0]);
  if (!I->cfg.load_files) {
    return lang_error(I, "load: reading files is not allowed here (only `nsr run` and "
                         "`nsr repl` allow it)");
  }
  const lang_string *s = LANG_STR(a[0]);
  if (memchr(s->chars, '\0', s->len) != NULL) {
    return lang_error(I, "load: a path cannot hold a NUL byte");
  }
  char *path = nsr_malloc(s->len + 1);
  if (path == NULL) return lang_fail_at(I, I->site.cur_pos, NSR_ERR_NOMEM, "out of memory");
  memcpy(path, s->chars, s->len);
  path[s->len] = '\0';
  lang_buf text = lang_text_buf(I);
  uint32_t file = 0;
  lval forms = lang_nil();
  lang_rc rc = read_file(I, path, &text);
  if (rc == LANG_OK) rc = lang_add_file(I, path, &file);
  if (rc == LANG_OK) rc = lang_read_all(I, file, 1, text.data ? text.data : "", text.len, &forms);
  nsr_free(text.data);
  nsr_free(path);
  if (rc != LANG_OK) return rc;
  if (lang_root_push(I, &forms) != LANG_OK) return LANG_ERROR;
  lval last;
  rc = eval_top_level(I, forms, &last);
  lang_root_pop(I, 1);
  *out = lang_unspec();
  return rc;
}

const lang_prim_def lang_prims_load[] = {
    {"eval", 1, 2, p_eval},
    {"load", 1, 1, p_load},
    {NULL, 0, 0, NULL},
};
