/* cli.c: argument parsing and error reporting for nsr's commands. */
#include "cli.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cli_usage_error(const char *command, const char *fmt, ...) {
  char message[NSR_ERROR_MESSAGE_MAX];
  va_list ap;
  va_start(ap, fmt);
  // NOLINTNEXTLINE(clang-analyzer-valist.Uninitialized): ap was set by va_start just above
  vsnprintf(message, sizeof message, fmt, ap);
  va_end(ap);
  fprintf(stderr, "nsr %s: %s (see 'nsr %s --help')\n", command, message, command);
  return CLI_EXIT_USAGE;
}

int cli_report(const char *command, const nsr_error *err) {
  fprintf(stderr, "nsr %s: %s\n", command, err->message);
  switch (err->code) {
    case NSR_ERR_INVALID:
    case NSR_ERR_RANGE:
    case NSR_ERR_PARSE:
    case NSR_ERR_FORMAT:
      return CLI_EXIT_USAGE;
    default:
      return CLI_EXIT_FAILURE;
  }
}

bool cli_is_help(const char *arg) {
  return strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0;
}

bool cli_option(int argc, char **argv, int *i, const char *name,
                const char **value) {
  const char *arg = argv[*i];
  size_t len = strlen(name);
  if (strncmp(arg, name, len) != 0) return false;
  if (arg[len] == '=') {
    *value = arg + len + 1;
    return true;
  }
  if (arg[len] != '\0') return false;
  if (*i + 1 < argc) {
    *value = argv[++*i];
  } else {
    *value = NULL;
  }
  return true;
}

nsr_code cli_parse_u64(const char *text, const char *what, uint64_t min,
                       uint64_t max, uint64_t *out, nsr_error *err) {
  const char *p = text;
  while (*p == ' ' || *p == '\t') p++;
  if (*p == '-' || *p == '+' || *p < '0' || *p > '9') {
    if (*p == '-' && p[1] >= '0' && p[1] <= '9') {
      return nsr_fail(err, NSR_ERR_RANGE, "%s: %s is outside the range %llu..%llu", what,
                      text, (unsigned long long)min, (unsigned long long)max);
    }
    return nsr_fail(err, NSR_ERR_INVALID, "%s: '%s' is not a whole number", what, text);
  }
  errno = 0;
  char *end;
  unsigned long long v = strtoull(p, &end, 10);
  while (*end == ' ' || *end == '\t') end++;
  if (*end != '\0') {
    return nsr_fail(err, NSR_ERR_INVALID, "%s: '%s' is not a whole number", what, text);
  }
  if (errno == ERANGE || v < min || v > max) {
    return nsr_fail(err, NSR_ERR_RANGE, "%s: %s is outside the range %llu..%llu", what,
                    text, (unsigned long long)min, (unsigned long long)max);
  }
  *out = v;
  return NSR_OK;
}

nsr_code cli_parse_double(const char *text, const char *what, double *out,
                          nsr_error *err) {
  errno = 0;
  char *end;
  double v = strtod(text, &end);
  if (end == text || *end != '\0' || errno == ERANGE || !isfinite(v)) {
    return nsr_fail(err, NSR_ERR_INVALID, "%s: '%s' is not a number", what, text);
  }
  *out = v;
  return NSR_OK;
}
