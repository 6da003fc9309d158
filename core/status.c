/* status.c: nsr_error, the one way failures travel through nsr. */
#include "nsr_core.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "nsr_config.h"

const char *nsr_version(void) { return NSR_VERSION; }

nsr_code nsr_error_set_at(nsr_error *err, nsr_code code, const char *file,
                          int line, const char *fmt, ...) {
  if (err == NULL) return code;
  err->code = code;
  err->file = file;
  err->line = line;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err->message, sizeof err->message, fmt, ap);
  va_end(ap);
  return code;
}

void nsr_error_prefix(nsr_error *err, const char *fmt, ...) {
  if (err == NULL) return;
  char prefix[NSR_ERROR_MESSAGE_MAX];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(prefix, sizeof prefix, fmt, ap);
  va_end(ap);
  if (n < 0) return;
  /* Truncation keeps the prefix and as much of the old message as fits. */
  size_t plen = strlen(prefix);
  size_t olen = strnlen(err->message, sizeof err->message - 1);
  if (plen > sizeof err->message - 1) plen = sizeof err->message - 1;
  if (olen > sizeof err->message - 1 - plen) olen = sizeof err->message - 1 - plen;
  memmove(err->message + plen, err->message, olen);
  memcpy(err->message, prefix, plen);
  err->message[plen + olen] = '\0';
}

void nsr_error_clear(nsr_error *err) {
  if (err == NULL) return;
  err->code = NSR_OK;
  err->file = NULL;
  err->line = 0;
  err->message[0] = '\0';
}

const char *nsr_code_name(nsr_code code) {
  switch (code) {
    case NSR_OK: return "ok";
    case NSR_ERR_NOMEM: return "out of memory";
    case NSR_ERR_INVALID: return "invalid input";
    case NSR_ERR_RANGE: return "out of range";
    case NSR_ERR_PARSE: return "parse error";
    case NSR_ERR_IO: return "i/o error";
    case NSR_ERR_FORMAT: return "bad format";
    case NSR_ERR_LIMIT: return "budget exceeded";
    case NSR_ERR_INTERNAL: return "internal error";
  }
  return "unknown error";
}
