/* json.c: jansson helpers with nsr_error messages, and the one JSON writer. */
#include "json.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strbuf.h"

void nsr_json_init(void) { json_set_alloc_funcs(nsr_malloc, nsr_free); }

static nsr_code json_missing(const char *key, const char *want,
                             nsr_error *err) {
  return nsr_fail(err, NSR_ERR_INVALID, "\"%s\" must be %s", key, want);
}

/* Looks up key; *present tells whether it is there and non-null. */
static json_t *json_lookup(const json_t *obj, const char *key, bool *present) {
  json_t *v = json_is_object(obj) ? json_object_get(obj, key) : NULL;
  *present = v != NULL && !json_is_null(v);
  return v;
}

nsr_code nsr_json_get_int_opt(const json_t *obj, const char *key, int64_t *out,
                              nsr_error *err) {
  bool present;
  json_t *v = json_lookup(obj, key, &present);
  if (!present) return NSR_OK;
  if (json_is_integer(v)) {
    *out = (int64_t)json_integer_value(v);
    return NSR_OK;
  }
  /* JSON writers often emit 3.0 for 3; accept integral reals. */
  if (json_is_real(v)) {
    double d = json_real_value(v);
    if (d == (double)(int64_t)d && d > -9.2e18 && d < 9.2e18) {
      *out = (int64_t)d;
      return NSR_OK;
    }
  }
  return json_missing(key, "an integer", err);
}

nsr_code nsr_json_get_int(const json_t *obj, const char *key, int64_t *out,
                          nsr_error *err) {
  bool present;
  json_lookup(obj, key, &present);
  if (!present) return json_missing(key, "an integer", err);
  return nsr_json_get_int_opt(obj, key, out, err);
}

nsr_code nsr_json_get_number_opt(const json_t *obj, const char *key,
                                 double *out, nsr_error *err) {
  bool present;
  json_t *v = json_lookup(obj, key, &present);
  if (!present) return NSR_OK;
  if (!json_is_number(v)) return json_missing(key, "a number", err);
  *out = json_number_value(v);
  return NSR_OK;
}

nsr_code nsr_json_get_number(const json_t *obj, const char *key, double *out,
                             nsr_error *err) {
  bool present;
  json_lookup(obj, key, &present);
  if (!present) return json_missing(key, "a number", err);
  return nsr_json_get_number_opt(obj, key, out, err);
}

nsr_code nsr_json_get_string_opt(const json_t *obj, const char *key,
                                 const char **out, nsr_error *err) {
  bool present;
  json_t *v = json_lookup(obj, key, &present);
  if (!present) return NSR_OK;
  if (!json_is_string(v)) return json_missing(key, "a string", err);
  *out = json_string_value(v);
  return NSR_OK;
}

nsr_code nsr_json_get_string(const json_t *obj, const char *key,
                             const char **out, nsr_error *err) {
  bool present;
  json_lookup(obj, key, &present);
  if (!present) return json_missing(key, "a string", err);
  return nsr_json_get_string_opt(obj, key, out, err);
}

nsr_code nsr_json_get_bool_opt(const json_t *obj, const char *key, bool *out,
                               nsr_error *err) {
  bool present;
  json_t *v = json_lookup(obj, key, &present);
  if (!present) return NSR_OK;
  if (!json_is_boolean(v)) return json_missing(key, "true or false", err);
  *out = json_is_true(v);
  return NSR_OK;
}

nsr_code nsr_json_set(json_t *obj, const char *key, json_t *value,
                      nsr_error *err) {
  if (value == NULL || json_object_set_new(obj, key, value) != 0) {
    return nsr_fail(err, NSR_ERR_NOMEM, "building JSON field \"%s\": out of memory", key);
  }
  return NSR_OK;
}

nsr_code nsr_json_append(json_t *array, json_t *value, nsr_error *err) {
  if (value == NULL || json_array_append_new(array, value) != 0) {
    return nsr_fail(err, NSR_ERR_NOMEM, "building JSON array: out of memory");
  }
  return NSR_OK;
}

nsr_code nsr_json_parse(const char *text, size_t len, json_t **out,
                        nsr_error *err) {
  json_error_t jerr;
  *out = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
  if (*out == NULL) {
    return nsr_fail(err, NSR_ERR_PARSE, "JSON at line %d column %d: %s",
                    jerr.line, jerr.column, jerr.text);
  }
  return NSR_OK;
}

json_t *nsr_json_real(double v) {
  if (isfinite(v)) return json_real(v);
  return json_string(isnan(v) ? "NaN" : v > 0 ? "Infinity" : "-Infinity");
}

const char *nsr_json_real_text(double v, char buf[NSR_JSON_REAL_MAX]) {
  if (!isfinite(v)) {
    snprintf(buf, NSR_JSON_REAL_MAX, "\"%s\"", isnan(v) ? "NaN" : v > 0 ? "Infinity" : "-Infinity");
    return buf;
  }
  /* The fewest significant digits that read back as v: %.*e gives the same
   * digits as %.*g, and a fixed place for sign, digits and exponent. 17
   * digits always round-trip. */
  char sci[NSR_JSON_REAL_MAX];
  for (int digits = 1; digits <= 17; digits++) {
    snprintf(sci, sizeof sci, "%.*e", digits - 1, v);
    if (strtod(sci, NULL) == v) break; /* the sign of -0.0 is in the text */
  }
  /* sci is "[-]d[.ddd]e(+|-)xx": split into sign, digits and exponent. */
  const char *p = sci;
  char *out = buf;
  if (*p == '-') *out++ = *p++;
  char digits[18] = {0};
  int n = 0;
  for (; *p != 'e'; p++) {
    if (*p != '.') digits[n++] = *p;
  }
  while (n > 1 && digits[n - 1] == '0') n--;
  int exp = (int)strtol(p + 1, NULL, 10);
  if (exp < -4 || exp > 16) { /* where %.17g uses an exponent: d.ddde-x, d.dddex */
    *out++ = digits[0];
    if (n > 1) *out++ = '.';
    memcpy(out, digits + 1, (size_t)(n - 1));
    snprintf(out + n - 1, 8, "e%d", exp);
  } else if (exp < 0) { /* 0.ddd to 0.000ddd: "0." and -exp - 1 zeros */
    memcpy(out, "0.000", (size_t)(1 - exp));
    memcpy(out + 1 - exp, digits, (size_t)n);
    out[1 - exp + n] = '\0';
  } else { /* ddd.ddd, with zeros up to the point and ".0" if no fraction */
    for (int i = 0; i <= exp; i++) *out++ = i < n ? digits[i] : '0';
    *out++ = '.';
    if (n <= exp + 1) *out++ = '0';
    for (int i = exp + 1; i < n; i++) *out++ = digits[i];
    *out = '\0';
  }
  return buf;
}

size_t nsr_json_utf8_sequence(const char *s, size_t len) {
  const unsigned char *u = (const unsigned char *)s;
  unsigned char c = u[0];
  if (c < 0x80) return 1;
  /* The number of continuation bytes, and the range of the first of them,
   * which excludes overlong forms, surrogates and code points past
   * U+10FFFF. */
  size_t need;
  unsigned char lo = 0x80, hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) {
    need = 1;
  } else if (c >= 0xE0 && c <= 0xEF) {
    need = 2;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    need = 3;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (len <= need || u[1] < lo || u[1] > hi) return 0;
  for (size_t k = 2; k <= need; k++) {
    if ((u[k] & 0xC0) != 0x80) return 0;
  }
  return need + 1;
}

bool nsr_json_utf8_valid(const char *s, size_t len) {
  for (size_t i = 0, n; i < len; i += n) {
    n = nsr_json_utf8_sequence(s + i, len - i);
    if (n == 0) return false;
  }
  return true;
}

json_t *nsr_json_string(const char *s) {
  size_t len = strlen(s);
  if (nsr_json_utf8_valid(s, len)) return json_stringn(s, len);
  nsr_strbuf sb = {0};
  for (size_t i = 0, n; i < len; i += n) {
    n = nsr_json_utf8_sequence(s + i, len - i);
    if (n) {
      nsr_strbuf_append(&sb, s + i, n);
    } else {
      nsr_strbuf_append(&sb, "\xEF\xBF\xBD", 3); /* U+FFFD for the byte */
      n = 1;
    }
  }
  char *text = NULL;
  nsr_error err;
  json_t *v = nsr_strbuf_finish(&sb, &text, NULL, &err) == NSR_OK ? json_string(text) : NULL;
  nsr_free(text);
  return v;
}

static void dump_string(nsr_strbuf *sb, const char *s, size_t len) {
  nsr_strbuf_append(sb, "\"", 1);
  size_t run = 0; /* bytes before s[i] not yet written */
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    nsr_strbuf_append(sb, s + run, i - run);
    run = i + 1;
    switch (c) {
      case '"': nsr_strbuf_append(sb, "\\\"", 2); break;
      case '\\': nsr_strbuf_append(sb, "\\\\", 2); break;
      case '\b': nsr_strbuf_append(sb, "\\b", 2); break;
      case '\f': nsr_strbuf_append(sb, "\\f", 2); break;
      case '\n': nsr_strbuf_append(sb, "\\n", 2); break;
      case '\r': nsr_strbuf_append(sb, "\\r", 2); break;
      case '\t': nsr_strbuf_append(sb, "\\t", 2); break;
      default: nsr_strbuf_printf(sb, "\\u%04X", c);
    }
  }
  nsr_strbuf_append(sb, s + run, len - run);
  nsr_strbuf_append(sb, "\"", 1);
}

/* With indentation, a newline and depth * indent spaces. */
static void dump_newline(nsr_strbuf *sb, int indent, int depth) {
  if (indent == 0) return;
  nsr_strbuf_printf(sb, "\n%*s", indent * depth, "");
}

/* Appends v at nesting depth `depth`. Recursion is bounded by the tree's
 * depth (jansson's parser allows 2048 levels); the tree is acyclic. */
static void dump_value(nsr_strbuf *sb, const json_t *v, int indent, int depth) {
  switch (json_typeof(v)) {
    case JSON_OBJECT: {
      if (json_object_size(v) == 0) {
        nsr_strbuf_puts(sb, "{}");
        break;
      }
      nsr_strbuf_puts(sb, "{");
      const char *key;
      size_t key_len, i = 0;
      json_t *member;
      json_object_keylen_foreach((json_t *)v, key, key_len, member) {
        if (i++) nsr_strbuf_puts(sb, ",");
        dump_newline(sb, indent, depth + 1);
        dump_string(sb, key, key_len);
        nsr_strbuf_puts(sb, indent ? ": " : ":");
        dump_value(sb, member, indent, depth + 1);
      }
      dump_newline(sb, indent, depth);
      nsr_strbuf_puts(sb, "}");
      break;
    }
    case JSON_ARRAY: {
      size_t n = json_array_size(v);
      nsr_strbuf_puts(sb, "[");
      for (size_t i = 0; i < n; i++) {
        if (i) nsr_strbuf_puts(sb, ",");
        dump_newline(sb, indent, depth + 1);
        dump_value(sb, json_array_get(v, i), indent, depth + 1);
      }
      if (n) dump_newline(sb, indent, depth);
      nsr_strbuf_puts(sb, "]");
      break;
    }
    case JSON_STRING: dump_string(sb, json_string_value(v), json_string_length(v)); break;
    case JSON_INTEGER: nsr_strbuf_printf(sb, "%" JSON_INTEGER_FORMAT, json_integer_value(v)); break;
    case JSON_REAL: {
      char buf[NSR_JSON_REAL_MAX];
      nsr_strbuf_puts(sb, nsr_json_real_text(json_real_value(v), buf));
      break;
    }
    case JSON_TRUE: nsr_strbuf_puts(sb, "true"); break;
    case JSON_FALSE: nsr_strbuf_puts(sb, "false"); break;
    case JSON_NULL: nsr_strbuf_puts(sb, "null"); break;
  }
}

char *nsr_json_dump_indent(const json_t *value, int indent) {
  nsr_strbuf sb = {0};
  dump_value(&sb, value, indent, 0);
  char *text = NULL;
  nsr_error err;
  return nsr_strbuf_finish(&sb, &text, NULL, &err) == NSR_OK ? text : NULL;
}

char *nsr_json_dump(const json_t *value) { return nsr_json_dump_indent(value, 0); }
