/* lang_print.c: text buffers, the printed forms of values (write and
 * display, numbers as Scheme or as webchurch's JavaScript prints them), and
 * the program's output. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lang_internal.h"

void lang_buf_add(lang_buf *b, const char *s, size_t n) {
  if (b->failed) return;
  if (b->limit != 0 && n > b->limit - b->len) {
    b->failed = b->over = true;
    return;
  }
  if (b->len + n + 1 > b->cap) {
    size_t cap = b->cap == 0 ? 64 : b->cap;
    while (b->len + n + 1 > cap) cap *= 2;
    /* Never more than the limit allows: the buffer is what the limit
     * measures. */
    if (b->limit != 0 && cap > b->limit + 1) cap = b->limit + 1;
    char *d = nsr_realloc(b->data, cap);
    if (d == NULL) {
      b->failed = true;
      return;
    }
    b->data = d;
    b->cap = cap;
  }
  memcpy(b->data + b->len, s, n);
  b->len += n;
  b->data[b->len] = '\0';
}

lang_buf lang_text_buf(const nsr_lang *I) {
  if (I->cfg.max_memory == 0) return (lang_buf){.webchurch = I->cfg.webchurch};
  size_t room = I->cfg.max_memory > I->heap_bytes ? I->cfg.max_memory - I->heap_bytes : 0;
  return (lang_buf){.limit = room / 2 > 0 ? room / 2 : 1, .webchurch = I->cfg.webchurch};
}

nsr_code lang_buf_failure(const nsr_lang *I, const lang_buf *b, char *msg, size_t len) {
  if (!b->over) {
    snprintf(msg, len, "out of memory");
    return NSR_ERR_NOMEM;
  }
  if (b->limit == LANG_TEXT_MAX) {
    snprintf(msg, len, "printed text passed %zu bytes, the most one print may make", b->limit);
  } else {
    snprintf(msg, len,
             "memory budget of %zu bytes exhausted (--max-memory): text being made passed "
             "%zu bytes, half the room left in it",
             I->cfg.max_memory, b->limit);
  }
  return NSR_ERR_LIMIT;
}

lang_rc lang_buf_error(nsr_lang *I, const lang_buf *b) {
  char msg[NSR_ERROR_MESSAGE_MAX];
  nsr_code code = lang_buf_failure(I, b, msg, sizeof msg);
  return lang_fail_at(I, I->site.cur_pos, code, "%s", msg);
}

void lang_buf_printf(lang_buf *b, const char *fmt, ...) {
  char tmp[256];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
  va_end(ap);
  if (n < 0) return;
  lang_buf_add(b, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

/* Appends an exact integer: by hand, as printing large values is mostly
 * this and printf's parsing of "%lld" cost more than the digits. */
static void print_int(lang_buf *b, int64_t i) {
  char tmp[24], *p = tmp + sizeof tmp;
  uint64_t u = i < 0 ? 0 - (uint64_t)i : (uint64_t)i;
  do {
    *--p = (char)('0' + u % 10);
    u /= 10;
  } while (u != 0);
  if (i < 0) *--p = '-';
  lang_buf_add(b, p, (size_t)(tmp + sizeof tmp - p));
}

/* A finite nonzero double as JavaScript's Number.prototype.toString writes
 * it (ECMA-262, Number::toString): the shortest digits that read back as
 * r, in positional notation from 1e-6 up to 1e21 (so 1e20 is written in
 * full), in exponent notation (1e+21, 1.5e-7) beyond. */
static void print_js_real(lang_buf *b, double r) {
  char tmp[40];
  for (int prec = 0; prec <= 16; prec++) {
    snprintf(tmp, sizeof tmp, "%.*e", prec, r);
    if (strtod(tmp, NULL) == r) break;
  }
  /* tmp is [-]D[.DDD]e[+-]X: gather the digits and the exponent. */
  const char *p = tmp;
  if (*p == '-') lang_buf_add(b, p++, 1);
  char digits[24];
  int k = 0;
  for (; *p != 'e'; p++) {
    if (*p != '.') digits[k++] = *p;
  }
  while (k > 1 && digits[k - 1] == '0') k--;
  int point = atoi(p + 1) + 1; /* digits before the decimal point */
  if (k <= point && point <= 21) {
    lang_buf_add(b, digits, (size_t)k);
    for (int i = k; i < point; i++) lang_buf_add(b, "0", 1);
  } else if (0 < point && point <= 21) {
    lang_buf_add(b, digits, (size_t)point);
    lang_buf_add(b, ".", 1);
    lang_buf_add(b, digits + point, (size_t)(k - point));
  } else if (-6 < point && point <= 0) {
    lang_buf_add(b, "0.", 2);
    for (int i = point; i < 0; i++) lang_buf_add(b, "0", 1);
    lang_buf_add(b, digits, (size_t)k);
  } else {
    lang_buf_add(b, digits, 1);
    if (k > 1) {
      lang_buf_add(b, ".", 1);
      lang_buf_add(b, digits + 1, (size_t)(k - 1));
    }
    lang_buf_printf(b, "e%c%d", point - 1 >= 0 ? '+' : '-', abs(point - 1));
  }
}

void lang_print_number(lang_buf *b, lval v) {
  if (v.type == NSR_LANG_INT) {
    print_int(b, v.as.i);
    return;
  }
  double r = v.as.r;
  if (b->webchurch) {
    if (isnan(r) || isinf(r) || r == 0) {
      const char *t = isnan(r) ? "NaN" : r > 0 ? "Infinity" : r < 0 ? "-Infinity" : "0";
      lang_buf_add(b, t, strlen(t));
    } else {
      print_js_real(b, r);
    }
    return;
  }
  if (isnan(r)) {
    lang_buf_add(b, "+nan.0", 6);
    return;
  }
  if (isinf(r)) {
    lang_buf_add(b, r > 0 ? "+inf.0" : "-inf.0", 6);
    return;
  }
  /* The shortest of %.15g..%.17g that reads back as the same double. */
  char tmp[40];
  for (int prec = 15; prec <= 17; prec++) {
    snprintf(tmp, sizeof tmp, "%.*g", prec, r);
    if (strtod(tmp, NULL) == r) break;
  }
  lang_buf_add(b, tmp, strlen(tmp));
  /* Inexact numbers always show a point, as in Scheme: 1.0, not 1. */
  if (strpbrk(tmp, ".e") == NULL) lang_buf_add(b, ".0", 2);
}

static void print_string_literal(lang_buf *b, const lang_string *s) {
  lang_buf_add(b, "\"", 1);
  for (size_t i = 0; i < s->len; i++) {
    char c = s->chars[i];
    switch (c) {
      case '"': lang_buf_add(b, "\\\"", 2); break;
      case '\\': lang_buf_add(b, "\\\\", 2); break;
      case '\n': lang_buf_add(b, "\\n", 2); break;
      case '\t': lang_buf_add(b, "\\t", 2); break;
      default: lang_buf_add(b, &c, 1);
    }
  }
  lang_buf_add(b, "\"", 1);
}

/* Printing recurses on list elements and vector items (not along a list's
 * spine); nesting deeper than this prints "..." instead of using the stack.
 * A cyclic vector therefore prints 1000 levels of itself; the buffer's
 * limit stops a value whose text (shared structure) would be larger, and
 * the walk ends as soon as the buffer fails. */
#define PRINT_MAX_DEPTH 1000

static void print_value(lang_buf *b, lval v, bool write, int depth) {
  if (b->failed) return;
  if (depth > PRINT_MAX_DEPTH) {
    lang_buf_add(b, "...", 3);
    return;
  }
  switch (v.type) {
    case NSR_LANG_NIL: lang_buf_add(b, "()", 2); return;
    case NSR_LANG_BOOL: lang_buf_add(b, v.as.b ? "#t" : "#f", 2); return;
    case NSR_LANG_INT:
    case NSR_LANG_REAL: lang_print_number(b, v); return;
    case NSR_LANG_UNSPECIFIED:
      if (b->webchurch) {
        lang_buf_add(b, "undefined", 9);
      } else {
        lang_buf_add(b, "#<void>", 7);
      }
      return;
    case NSR_LANG_STRING:
      if (write) {
        print_string_literal(b, LANG_STR(v));
      } else {
        lang_buf_add(b, LANG_STR(v)->chars, LANG_STR(v)->len);
      }
      return;
    case NSR_LANG_SYMBOL: lang_buf_add(b, LANG_SYM(v)->name, LANG_SYM(v)->len); return;
    case NSR_LANG_PAIR: {
      lang_buf_add(b, "(", 1);
      for (;;) {
        print_value(b, lang_car(v), write, depth + 1);
        v = lang_cdr(v);
        if (v.type != NSR_LANG_PAIR || b->failed) break;
        lang_buf_add(b, " ", 1);
      }
      if (v.type != NSR_LANG_NIL) {
        lang_buf_add(b, " . ", 3);
        print_value(b, v, write, depth + 1);
      }
      lang_buf_add(b, ")", 1);
      return;
    }
    case NSR_LANG_VECTOR: {
      lang_buf_add(b, "#(", 2);
      for (size_t i = 0; i < LANG_VEC(v)->len && !b->failed; i++) {
        if (i > 0) lang_buf_add(b, " ", 1);
        print_value(b, LANG_VEC(v)->items[i], write, depth + 1);
      }
      lang_buf_add(b, ")", 1);
      return;
    }
    case NSR_LANG_CLOSURE: {
      lval name = LANG_CLOSURE(v)->name;
      if (name.type == NSR_LANG_SYMBOL) {
        lang_buf_printf(b, "#<procedure %s>", LANG_SYM(name)->name);
      } else {
        lang_buf_add(b, "#<procedure>", 12);
      }
      return;
    }
    case NSR_LANG_PRIMITIVE:
      lang_buf_printf(b, "#<procedure %s>", LANG_PRIM(v)->name);
      return;
    case NSR_LANG_MEMO: lang_buf_add(b, "#<procedure mem>", 16); return;
    case NSR_LANG_HASH: lang_buf_add(b, "#<hash-table>", 13); return;
    case NSR_LANG_SET: {
      const nsr_bitset *bits = &LANG_SET(v)->bits;
      lang_buf_add(b, "#<set", 5);
      for (size_t i = nsr_bitset_next(bits, 0); i < bits->nbits; i = nsr_bitset_next(bits, i + 1)) {
        lang_buf_printf(b, " %zu", i);
      }
      lang_buf_add(b, ">", 1);
      return;
    }
    case NSR_LANG_ENV: lang_buf_add(b, "#<environment>", 14); return;
    /* Code as resolved prints as written. */
    case NSR_LANG_LOCAL: lang_buf_add(b, LANG_LOCAL(v)->sym->name, LANG_LOCAL(v)->sym->len); return;
    case NSR_LANG_PARAMS: print_value(b, LANG_PARAMS(v)->list, write, depth); return;
    case NSR_LANG_CALL: lang_buf_add(b, "#<call>", 7); return; /* no program can see one */
  }
}

void lang_buf_print_limit(lang_buf *b) {
  if (b->limit == 0 || b->limit > LANG_TEXT_MAX) b->limit = LANG_TEXT_MAX;
}

void lang_print_glimpse(lang_buf *b, lval v) {
  print_value(b, v, true, PRINT_MAX_DEPTH - 2);
}

void lang_print(lang_buf *b, lval v, bool write) {
  lang_buf_print_limit(b);
  print_value(b, v, write, 0);
}

lang_rc lang_output(nsr_lang *I, const char *s, size_t n) {
  lang_effect(I); /* a resumed path would not print its prefix's output again */
  if (I->cfg.echo != NULL) {
    fwrite(s, 1, n, I->cfg.echo);
    fflush(I->cfg.echo);
    return LANG_OK;
  }
  /* Kept output counts against the memory budget like the heap does. */
  if (lang_account(I, (ptrdiff_t)n) != LANG_OK) return LANG_ERROR;
  lang_buf b = {I->out, I->out_len, I->out_cap, false, 0, false, false};
  lang_buf_add(&b, s, n);
  I->out = b.data;
  I->out_len = b.len;
  I->out_cap = b.cap;
  if (b.failed) return lang_fail_at(I, I->site.cur_pos, NSR_ERR_NOMEM, "out of memory");
  return LANG_OK;
}

