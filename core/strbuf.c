/* strbuf.c: a growable string with sticky allocation failure. */
#include "strbuf.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Makes room for `extra` more bytes plus the NUL. */
static bool strbuf_reserve(nsr_strbuf *sb, size_t extra) {
  if (sb->failed) return false;
  if (extra >= SIZE_MAX - sb->len - 1) {
    sb->failed = true;
    return false;
  }
  size_t need = sb->len + extra + 1;
  if (need <= sb->cap) return true;
  size_t cap = sb->cap ? sb->cap : 256;
  while (cap < need) cap = cap > SIZE_MAX / 2 ? need : cap * 2;
  char *grown = nsr_realloc(sb->data, cap);
  if (grown == NULL) {
    sb->failed = true;
    return false;
  }
  sb->data = grown;
  sb->cap = cap;
  return true;
}

void nsr_strbuf_append(nsr_strbuf *sb, const char *text, size_t len) {
  if (!strbuf_reserve(sb, len)) return;
  memcpy(sb->data + sb->len, text, len);
  sb->len += len;
  sb->data[sb->len] = '\0';
}

void nsr_strbuf_puts(nsr_strbuf *sb, const char *text) {
  nsr_strbuf_append(sb, text, strlen(text));
}

void nsr_strbuf_printf(nsr_strbuf *sb, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (n < 0) {
    sb->failed = true;
    return;
  }
  if (!strbuf_reserve(sb, (size_t)n)) return;
  va_start(ap, fmt);
  vsnprintf(sb->data + sb->len, (size_t)n + 1, fmt, ap);
  va_end(ap);
  sb->len += (size_t)n;
}

/* Every append writes the NUL after what it added, so only a buffer that
 * never had a byte needs one here: an empty buffer hands over "", not a
 * fresh block whose first byte nobody wrote. */
nsr_code nsr_strbuf_finish(nsr_strbuf *sb, char **out, size_t *len,
                           nsr_error *err) {
  if (sb->data == NULL && strbuf_reserve(sb, 0)) {
    assert(sb->data != NULL && "a reserved buffer has a block");
    sb->data[0] = '\0';
  }
  if (sb->failed) {
    nsr_strbuf_free(sb);
    return nsr_fail(err, NSR_ERR_NOMEM, "building text: out of memory");
  }
  *out = sb->data;
  if (len) *len = sb->len;
  sb->data = NULL;
  sb->len = sb->cap = 0;
  return NSR_OK;
}

void nsr_strbuf_free(nsr_strbuf *sb) {
  nsr_free(sb->data);
  sb->data = NULL;
  sb->len = sb->cap = 0;
  sb->failed = false;
}
