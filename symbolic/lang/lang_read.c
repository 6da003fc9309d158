/* lang_read.c: the reader. Turns program text into data (lists, symbols,
 * numbers, strings, vectors); every list cell carries the file, line and
 * column of its datum, and every syntax error names the place it was found.
 * Columns count bytes from 1. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lang_internal.h"

/* Lists nest by recursion in the reader (and the expander); this bound
 * keeps hostile input from exhausting the C stack. */
#define READ_MAX_DEPTH 1000

typedef struct reader {
  nsr_lang *I;
  uint32_t file;
  const char *text;
  size_t len, i;
  uint32_t line, col;
} reader;

static lang_pos here(const reader *r) {
  return (lang_pos){r->file, r->line, r->col};
}

static int peek(const reader *r) {
  return r->i < r->len ? (unsigned char)r->text[r->i] : -1;
}

static void advance(reader *r) {
  if (r->i >= r->len) return;
  if (r->text[r->i++] == '\n') {
    r->line++;
    r->col = 1;
  } else {
    r->col++;
  }
}

/* Records a syntax error at pos; always LANG_ERROR (returned here rather
 * than lang_fail_at's result, so that the analyzer sees that no datum is
 * expected after it). */
static lang_rc syntax_error(reader *r, lang_pos pos, const char *msg) {
  lang_fail_at(r->I, pos, NSR_ERR_PARSE, "%s", msg);
  return LANG_ERROR;
}

/* Skips whitespace, ; line comments and nested #| block comments |#. */
static lang_rc skip_space(reader *r) {
  for (;;) {
    int c = peek(r);
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f') {
      advance(r);
    } else if (c == ';') {
      while (peek(r) != -1 && peek(r) != '\n') advance(r);
    } else if (c == '#' && r->i + 1 < r->len && r->text[r->i + 1] == '|') {
      lang_pos start = here(r);
      advance(r);
      advance(r);
      int depth = 1;
      while (depth > 0) {
        if (peek(r) == -1) {
          return syntax_error(r, start, "block comment '#|' is never closed");
        }
        if (peek(r) == '|' && r->i + 1 < r->len && r->text[r->i + 1] == '#') {
          depth--;
          advance(r);
        } else if (peek(r) == '#' && r->i + 1 < r->len &&
                   r->text[r->i + 1] == '|') {
          depth++;
          advance(r);
        }
        advance(r);
      }
    } else {
      return LANG_OK;
    }
  }
}

static bool is_delimiter(int c) {
  return c == -1 || c == ' ' || c == '\t' || c == '\n' || c == '\r' ||
         c == '\f' || c == '(' || c == ')' || c == '[' || c == ']' || c == '"' || c == ';' ||
         c == '\'' || c == '`' || c == ',';
}

static lang_rc read_datum(reader *r, int depth, lval *out);

/* The closer a list opened with `opener` needs: square brackets are
 * parentheses too (as in R6RS and webchurch), but each pair must match. */
static int closer_of(int opener) {
  return opener == '[' ? ']' : ')';
}

/* At a closer `c` that does not match the list opened with `opener` at
 * `open`: an error naming both places. */
static lang_rc mismatched_closer(reader *r, lang_pos open, int opener, int c) {
  char msg[160];
  snprintf(msg, sizeof msg, "'%c' closes the '%s' at %u:%u; expected '%c'", c,
           opener == '[' ? "[" : opener == '#' ? "#(" : "(", (unsigned)open.line,
           (unsigned)open.col, closer_of(opener));
  return syntax_error(r, here(r), msg);
}

/* After '(', '[' or '#(' (opener '#'): the elements up to the matching
 * closer; a '.' before the last datum makes an improper list (not allowed
 * in vectors). */
static lang_rc read_list_tail(reader *r, lang_pos open, int depth, int opener, lval *out) {
  bool vector = opener == '#';
  int closer = closer_of(opener);
  lang_list_builder b = LANG_LIST_BUILDER;
  for (;;) {
    if (skip_space(r) != LANG_OK) return LANG_ERROR;
    int c = peek(r);
    if (c == -1) {
      return syntax_error(r, open, vector ? "'#(' is never closed"
                                   : opener == '[' ? "'[' is never closed"
                                                   : "'(' is never closed");
    }
    if (c == ')' || c == ']') {
      if (c != closer) return mismatched_closer(r, open, opener, c);
      advance(r);
      *out = lang_builder_finish(&b, lang_nil());
      return LANG_OK;
    }
    lang_pos pos = here(r);
    if (c == '.' && !vector && r->i + 1 <= r->len &&
        is_delimiter(r->i + 1 < r->len ? (unsigned char)r->text[r->i + 1] : -1)) {
      if (b.head.type != NSR_LANG_PAIR) {
        return syntax_error(r, pos, "'.' must follow at least one datum");
      }
      advance(r);
      lval last;
      if (read_datum(r, depth + 1, &last) != LANG_OK) return LANG_ERROR;
      if (skip_space(r) != LANG_OK) return LANG_ERROR;
      if (peek(r) != closer) {
        char msg[80];
        snprintf(msg, sizeof msg, "expected '%c' after the datum following '.'", closer);
        return syntax_error(r, here(r), msg);
      }
      advance(r);
      *out = lang_builder_finish(&b, last);
      return LANG_OK;
    }
    lval item = lang_nil(); /* set by read_datum (clang's analyzer loses it in the recursion) */
    if (read_datum(r, depth + 1, &item) != LANG_OK) return LANG_ERROR;
    /* The first cell is the list itself and carries the '(' position; the
     * first item's own column goes beside it when it is on that line. */
    bool first = b.head.type == NSR_LANG_NIL;
    if (lang_builder_add(r->I, &b, item, first ? open : pos) != LANG_OK) return LANG_ERROR;
    if (first && pos.line == open.line) LANG_PAIR(b.head)->head_col = pos.col;
  }
}

static lang_rc read_string(reader *r, lval *out) {
  lang_pos start = here(r);
  advance(r); /* the opening quote */
  lang_buf b = {0};
  lang_rc rc = LANG_OK;
  for (;;) {
    int c = peek(r);
    if (c == -1) {
      rc = syntax_error(r, start, "string is never closed");
      break;
    }
    if (c == '"') {
      advance(r);
      break;
    }
    if (c == '\\') {
      lang_pos esc = here(r);
      advance(r);
      int e = peek(r);
      char ch;
      switch (e) {
        case 'n': ch = '\n'; break;
        case 't': ch = '\t'; break;
        case 'r': ch = '\r'; break;
        case 'a': ch = '\a'; break;
        case '0': ch = '\0'; break;
        case '\\': ch = '\\'; break;
        case '"': ch = '"'; break;
        case '\n': ch = 0; break; /* a line continuation */
        default: rc = syntax_error(r, esc, "unknown escape in string"); break;
      }
      if (rc != LANG_OK) break;
      advance(r);
      if (e != '\n') lang_buf_add(&b, &ch, 1);
      continue;
    }
    char ch = (char)c;
    lang_buf_add(&b, &ch, 1);
    advance(r);
  }
  if (rc == LANG_OK && b.failed) {
    rc = lang_fail_at(r->I, start, NSR_ERR_NOMEM, "out of memory");
  }
  if (rc == LANG_OK) rc = lang_make_string(r->I, b.data ? b.data : "", b.len, out);
  nsr_free(b.data);
  return rc;
}

/* Parses an atom's text as a number when it is a numeral (see
 * lang_parse_numeral); an integer past 64 bits is a located error. */
static lang_rc parse_number(reader *r, lang_pos pos, const char *s,
                            bool *is_number, lval *out) {
  lang_numeral k = lang_parse_numeral(r->I, s, out);
  if (k == LANG_NUMERAL_TOO_BIG) {
    return lang_fail_at(r->I, pos, NSR_ERR_PARSE,
                        "integer literal %s does not fit in 64 bits (write %s.0 for an "
                        "inexact number)", s, s);
  }
  *is_number = k == LANG_NUMERAL;
  return LANG_OK;
}

static lang_rc read_atom(reader *r, lval *out) {
  lang_pos pos = here(r);
  size_t start = r->i;
  while (!is_delimiter(peek(r))) advance(r);
  size_t n = r->i - start;
  char small[64];
  char *s = n < sizeof small ? small : nsr_malloc(n + 1);
  if (s == NULL) return lang_fail_at(r->I, pos, NSR_ERR_NOMEM, "out of memory");
  memcpy(s, r->text + start, n);
  s[n] = '\0';
  lang_rc rc = LANG_OK;
  bool is_number = false;
  if (strcmp(s, "#t") == 0 || strcmp(s, "#true") == 0) {
    *out = lang_bool(true);
  } else if (strcmp(s, "#f") == 0 || strcmp(s, "#false") == 0) {
    *out = lang_bool(false);
  } else if (s[0] == '#') {
    rc = lang_fail_at(r->I, pos, NSR_ERR_PARSE, "unknown syntax '%s'", s);
  } else if ((rc = parse_number(r, pos, s, &is_number, out)) == LANG_OK &&
             !is_number) {
    lang_symbol *sym;
    rc = lang_intern(r->I, s, n, &sym);
    if (rc == LANG_OK) *out = lang_obj_val(NSR_LANG_SYMBOL, sym);
  }
  if (s != small) nsr_free(s);
  return rc;
}

/* 'x `x ,x ,@x become (quote x) and so on, positioned at the prefix. */
static lang_rc read_prefixed(reader *r, lang_symbol *sym, int depth,
                             lval *out) {
  lang_pos pos = here(r);
  advance(r);
  if (sym == r->I->s_unquote_splicing) advance(r);
  if (skip_space(r) != LANG_OK) return LANG_ERROR;
  if (peek(r) == -1 || peek(r) == ')' || peek(r) == ']') {
    return syntax_error(r, pos, "a quote mark must be followed by a datum");
  }
  lval x = lang_nil(), rest; /* x: as item in read_list_tail */
  if (read_datum(r, depth + 1, &x) != LANG_OK) return LANG_ERROR;
  if (lang_cons_at(r->I, x, lang_nil(), pos, &rest) != LANG_OK) return LANG_ERROR;
  return lang_cons_at(r->I, lang_obj_val(NSR_LANG_SYMBOL, sym), rest, pos, out);
}

/* Reads one datum; the caller has skipped space and checked for end. */
static lang_rc read_datum(reader *r, int depth, lval *out) {
  if (depth > READ_MAX_DEPTH) {
    return syntax_error(r, here(r), "data nested more than 1000 levels deep");
  }
  if (skip_space(r) != LANG_OK) return LANG_ERROR;
  lang_pos pos = here(r);
  int c = peek(r);
  nsr_lang *I = r->I;
  switch (c) {
    case -1: return syntax_error(r, pos, "unexpected end of text");
    case '(':
    case '[':
      advance(r);
      return read_list_tail(r, pos, depth, c, out);
    case ')': return syntax_error(r, pos, "unbalanced ')'");
    case ']': return syntax_error(r, pos, "unbalanced ']'");
    case '"': return read_string(r, out);
    case '\'': return read_prefixed(r, I->s_quote, depth, out);
    case '`': return read_prefixed(r, I->s_quasiquote, depth, out);
    case ',':
      return read_prefixed(r,
                           r->i + 1 < r->len && r->text[r->i + 1] == '@'
                               ? I->s_unquote_splicing
                               : I->s_unquote,
                           depth, out);
    case '#':
      if (r->i + 1 < r->len && r->text[r->i + 1] == '(') {
        advance(r);
        advance(r);
        lval items = lang_nil();
        if (read_list_tail(r, pos, depth, '#', &items) != LANG_OK) {
          return LANG_ERROR;
        }
        int64_t n = lang_list_length(items);
        if (lang_make_vector(I, (size_t)n, lang_nil(), out) != LANG_OK) {
          return LANG_ERROR;
        }
        for (int64_t k = 0; k < n; k++, items = lang_cdr(items)) {
          LANG_VEC(*out)->items[k] = lang_car(items);
        }
        return LANG_OK;
      }
      return read_atom(r, out);
    default: return read_atom(r, out);
  }
}

lang_rc lang_read_all(nsr_lang *I, uint32_t file, uint32_t first_line,
                      const char *text, size_t len, lval *out) {
  reader r = {I, file, text, len, 0, first_line, 1};
  lang_list_builder b = LANG_LIST_BUILDER;
  for (;;) {
    if (skip_space(&r) != LANG_OK) return LANG_ERROR;
    if (peek(&r) == -1) break;
    lang_pos pos = here(&r);
    lval x;
    if (read_datum(&r, 0, &x) != LANG_OK || lang_builder_add(I, &b, x, pos) != LANG_OK) {
      return LANG_ERROR;
    }
  }
  *out = lang_builder_finish(&b, lang_nil());
  return LANG_OK;
}

lang_rc lang_add_file(nsr_lang *I, const char *name, uint32_t *out) {
  for (size_t i = 0; i < I->nfiles; i++) {
    if (strcmp(I->files[i], name) == 0) {
      *out = (uint32_t)i;
      return LANG_OK;
    }
  }
  char **files = nsr_reallocarray(I->files, I->nfiles + 1, sizeof *files);
  if (files == NULL) return lang_fail_at(I, I->site.cur_pos, NSR_ERR_NOMEM, "out of memory");
  I->files = files;
  files[I->nfiles] = nsr_strdup(name);
  if (files[I->nfiles] == NULL) {
    return lang_fail_at(I, I->site.cur_pos, NSR_ERR_NOMEM, "out of memory");
  }
  *out = (uint32_t)I->nfiles++;
  return LANG_OK;
}
