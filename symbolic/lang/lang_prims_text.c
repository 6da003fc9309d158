/* lang_prims_text.c: strings, symbols and printing. (Figures: lang_plot.c.) */
#include <string.h>

#include "lang_internal.h"

/* Text work is charged to the budgets at one step per this many bytes
 * copied or scanned (a step of the evaluator costs about as much). */
#define BYTES_PER_STEP 64

static lang_rc charge_bytes(nsr_lang *I, size_t bytes) {
  return lang_charge(I, bytes / BYTES_PER_STEP);
}

static lang_rc expect_string(nsr_lang *I, const char *name, lval *a, int i) {
  return a[i].type == NSR_LANG_STRING ? LANG_OK : lang_type_error(I, name, "a string", i, a[i]);
}

/* Finishes a buffer: its error (past its limit or out of memory), or the
 * new string, then the text built charged (after the memory budget has
 * seen it: that budget names the problem when both run out). Frees the
 * buffer. */
static lang_rc buf_to_string(nsr_lang *I, lang_buf *b, lval *out) {
  lang_rc rc = b->failed ? lang_buf_error(I, b)
                         : lang_make_string(I, b->data ? b->data : "", b->len, out);
  if (rc == LANG_OK) rc = charge_bytes(I, b->len);
  nsr_free(b->data);
  return rc;
}

/* Sends a buffer to the output, or reports its error; charged like
 * buf_to_string. Frees the buffer. */
static lang_rc buf_to_output(nsr_lang *I, lang_buf *b) {
  lang_rc rc = b->failed ? lang_buf_error(I, b)
                         : lang_output(I, b->data ? b->data : "", b->len);
  if (rc == LANG_OK) rc = charge_bytes(I, b->len);
  nsr_free(b->data);
  return rc;
}

static lang_rc p_string_append(nsr_lang *I, lval *a, int n, lval *out) {
  for (int i = 0; i < n; i++) {
    if (expect_string(I, "string-append", a, i) != LANG_OK) return LANG_ERROR;
  }
  lang_buf b = lang_text_buf(I);
  for (int i = 0; i < n; i++) lang_buf_add(&b, LANG_STR(a[i])->chars, LANG_STR(a[i])->len);
  return buf_to_string(I, &b, out);
}

/* Bytes of the UTF-8 character starting with byte c (1 for a stray byte). */
static size_t utf8_char_len(unsigned char c) {
  return c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
}

/* Adds s[0..n) to the list being built, as a new string. */
static lang_rc add_piece(nsr_lang *I, lang_list_builder *b, const char *s, size_t n) {
  lval piece;
  if (lang_make_string(I, s, n, &piece) != LANG_OK) return LANG_ERROR;
  return lang_builder_add(I, b, piece, I->site.cur_pos);
}

/* (string-split s sep): the pieces of s between occurrences of sep, as
 * JavaScript's split (webchurch): an empty sep gives s's characters. */
static lang_rc p_string_split(nsr_lang *I, lval *a, int n, lval *out) {
  (void)n;
  if (expect_string(I, "string-split", a, 0) != LANG_OK ||
      expect_string(I, "string-split", a, 1) != LANG_OK) {
    return LANG_ERROR;
  }
  const lang_string *s = LANG_STR(a[0]), *sep = LANG_STR(a[1]);
  lang_list_builder b = LANG_LIST_BUILDER;
  size_t start = 0, i = 0;
  while (i < s->len) {
    size_t step = sep->len == 0 ? utf8_char_len((unsigned char)s->chars[i]) : 1;
    bool cut = sep->len == 0 || (s->len - i >= sep->len && memcmp(s->chars + i, sep->chars, sep->len) == 0);
    if (!cut) {
      i += step;
      continue;
    }
    size_t end = sep->len == 0 ? (i + step < s->len ? i + step : s->len) : i;
    if (add_piece(I, &b, s->chars + start, end - start) != LANG_OK) return LANG_ERROR;
    i = sep->len == 0 ? end : i + sep->len;
    start = i;
  }
  if (sep->len != 0 && add_piece(I, &b, s->chars + start, s->len - start) != LANG_OK) {
    return LANG_ERROR;
  }
  *out = lang_builder_finish(&b, lang_nil());
  return charge_bytes(I, s->len);
}

static lang_rc p_string_length(nsr_lang *I, lval *a, int n, lval *out) {
  (void)n;
  if (expect_string(I, "string-length", a, 0) != LANG_OK) return LANG_ERROR;
  *out = lang_int((int64_t)LANG_STR(a[0])->len);
  return LANG_OK;
}

static lang_rc string_compare(nsr_lang *I, const char *name, lval *a,
                              int *c) {
  if (expect_string(I, name, a, 0) != LANG_OK || expect_string(I, name, a, 1) != LANG_OK) {
    return LANG_ERROR;
  }
  lang_string *x = LANG_STR(a[0]), *y = LANG_STR(a[1]);
  size_t m = x->len < y->len ? x->len : y->len;
  if (charge_bytes(I, m) != LANG_OK) return LANG_ERROR;
  int r = memcmp(x->chars, y->chars, m);
  *c = r != 0 ? r : (x->len > y->len) - (x->len < y->len);
  return LANG_OK;
}

static lang_rc p_string_eq(nsr_lang *I, lval *a, int n, lval *out) {
  (void)n;
  int c;
  if (string_compare(I, "string=?", a, &c) != LANG_OK) return LANG_ERROR;
  *out = lang_bool(c == 0);
  return LANG_OK;
}

static lang_rc p_string_lt(nsr_lang *I, lval *a, int n, lval *out) {
  (void)n;
  int c;
  if (string_compare(I, "string<?", a, &c) != LANG_OK) return LANG_ERROR;
  *out = lang_bool(c < 0);
  return LANG_OK;
}

/* (substring s start [end]), byte offsets. */
static lang_rc p_substring(nsr_lang *I, lval *a, int n, lval *out) {
  int64_t start, end;
  if (expect_string(I, "substring", a, 0) != LANG_OK ||
      lang_arg_int(I, "substring", a, 1, &start) != LANG_OK) {
    return LANG_ERROR;
  }
  int64_t len = (int64_t)LANG_STR(a[0])->len;
  end = len;
  if (n > 2 && lang_arg_int(I, "substring", a, 2, &end) != LANG_OK) return LANG_ERROR;
  if (start < 0 || end > len || start > end) {
    return lang_error(I, "substring: range %lld..%lld is outside a string of length %lld",
                      (long long)start, (long long)end, (long long)len);
  }
  if (lang_make_string(I, LANG_STR(a[0])->chars + start, (size_t)(end - start), out) != LANG_OK) {
    return LANG_ERROR;
  }
  return charge_bytes(I, (size_t)(end - start));
}

static lang_rc p_string_to_symbol(nsr_lang *I, lval *a, int n, lval *out) {
  (void)n;
  if (expect_string(I, "string->symbol", a, 0) != LANG_OK ||
      charge_bytes(I, LANG_STR(a[0])->len) != LANG_OK) {
    return LANG_ERROR;
  }
  lang_symbol *s;
  if (lang_intern(I, LANG_STR(a[0])->chars, LANG_STR(a[0])->len, &s) != LANG_OK) {
    return LANG_ERROR;
  }
  *out = lang_obj_val(NSR_LANG_SYMBOL, s);
  return LANG_OK;
}

static lang_rc p_symbol_to_string(nsr_lang *I, lval *a, int n, lval *out) {
  (void)n;
  if (a[0].type != NSR_LANG_SYMBOL) return lang_type_error(I, "symbol->string", "a symbol", 0, a[0]);
  if (lang_make_string(I, LANG_SYM(a[0])->name, LANG_SYM(a[0])->len, out) != LANG_OK) return LANG_ERROR;
  return charge_bytes(I, LANG_SYM(a[0])->len);
}

/* (stringify x): x as display would print it. */
static lang_rc p_stringify(nsr_lang *I, lval *a, int n, lval *out) {
  (void)n;
  lang_buf b = lang_text_buf(I);
  lang_print(&b, a[0], false);
  return buf_to_string(I, &b, out);
}

/* display prints each argument on a line of its own, as webchurch does
 * (Church programs rely on it); write-string prints text without a
 * newline for Scheme-style output. */
static lang_rc p_display(nsr_lang *I, lval *a, int n, lval *out) {
  lang_buf b = lang_text_buf(I);
  for (int i = 0; i < n; i++) {
    lang_print(&b, a[i], false);
    lang_buf_add(&b, "\n", 1);
  }
  *out = lang_unspec();
  return buf_to_output(I, &b);
}

static lang_rc p_write(nsr_lang *I, lval *a, int n, lval *out) {
  (void)n;
  lang_buf b = lang_text_buf(I);
  lang_print(&b, a[0], true);
  *out = lang_unspec();
  return buf_to_output(I, &b);
}

static lang_rc p_write_string(nsr_lang *I, lval *a, int n, lval *out) {
  lang_buf b = lang_text_buf(I);
  for (int i = 0; i < n; i++) lang_print(&b, a[i], false);
  *out = lang_unspec();
  return buf_to_output(I, &b);
}

static lang_rc p_newline(nsr_lang *I, lval *a, int n, lval *out) {
  (void)a, (void)n;
  *out = lang_unspec();
  return lang_output(I, "\n", 1);
}

/* (error msg irritant ...): a located program error. */
static lang_rc p_error(nsr_lang *I, lval *a, int n, lval *out) {
  (void)out;
  lang_buf b = {.limit = NSR_ERROR_MESSAGE_MAX}; /* what the message keeps */
  for (int i = 0; i < n; i++) {
    if (i > 0) lang_buf_add(&b, " ", 1);
    lang_print(&b, a[i], i > 0);
  }
  lang_error(I, "error: %s", b.data ? b.data : "");
  nsr_free(b.data);
  return LANG_ERROR;
}

const lang_prim_def lang_prims_text[] = {
    {"string-append", 0, -1, p_string_append},
    {"string-length", 1, 1, p_string_length},
    {"string-split", 2, 2, p_string_split},
    {"string=?", 2, 2, p_string_eq},
    {"string<?", 2, 2, p_string_lt},
    {"substring", 2, 3, p_substring},
    {"string-slice", 2, 3, p_substring},
    {"string->symbol", 1, 1, p_string_to_symbol},
    {"symbol->string", 1, 1, p_symbol_to_string},
    {"stringify", 1, 1, p_stringify},
    {"display", 0, -1, p_display},
    {"print", 0, -1, p_display},
    {"write", 1, 1, p_write},
    {"write-string", 0, -1, p_write_string},
    {"newline", 0, 0, p_newline},
    {"error", 0, -1, p_error},
    {NULL, 0, 0, NULL},
};
