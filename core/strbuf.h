/* strbuf.h: a growable NUL-terminated string. */
#ifndef NSR_STRBUF_H
#define NSR_STRBUF_H

#include "nsr_core.h"

/* Zero-initialise before use. After an allocation failure the buffer is
 * marked failed, later appends do nothing, and nsr_strbuf_finish reports
 * NSR_ERR_NOMEM: callers check once at the end instead of after each append. */
typedef struct nsr_strbuf {
  char *data;
  size_t len;
  size_t cap;
  bool failed;
} nsr_strbuf;

void nsr_strbuf_append(nsr_strbuf *sb, const char *text, size_t len);
void nsr_strbuf_puts(nsr_strbuf *sb, const char *text);
void nsr_strbuf_printf(nsr_strbuf *sb, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Hands the string to the caller (*out, NUL-terminated, freed with
 * nsr_free; "" when nothing was appended) and empties the buffer for reuse;
 * on an earlier allocation failure frees it and fails. */
nsr_code nsr_strbuf_finish(nsr_strbuf *sb, char **out, size_t *len,
                           nsr_error *err);
void nsr_strbuf_free(nsr_strbuf *sb);

#endif
