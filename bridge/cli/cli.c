/* cli.c: the command-line contract (cli.h): option tables, their parsing,
 * generated help, error lines and exit statuses. */
#include "cli.h"

#include <assert.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "json.h"

/* ---- error lines ---------------------------------------------------------- */

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

int cli_fail(const char *command, int status, const char *fmt, ...) {
  char message[NSR_ERROR_MESSAGE_MAX];
  va_list ap;
  va_start(ap, fmt);
  // NOLINTNEXTLINE(clang-analyzer-valist.Uninitialized): ap was set by va_start just above
  vsnprintf(message, sizeof message, fmt, ap);
  va_end(ap);
  fprintf(stderr, "nsr %s: %s\n", command, message);
  return status;
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

nsr_code cli_print_json(FILE *out, json_t *value, nsr_error *err) {
  char *text = value ? nsr_json_dump(value) : NULL;
  json_decref(value);
  if (text == NULL) return nsr_fail(err, NSR_ERR_NOMEM, "JSON output: out of memory");
  fputs(text, out);
  fputc('\n', out);
  nsr_free(text);
  return NSR_OK;
}

int cli_finish(const char *command, int status) {
  if (fflush(stdout) != 0 || ferror(stdout)) {
    fprintf(stderr, "nsr %s: writing the output failed\n", command);
    return status == CLI_EXIT_OK ? CLI_EXIT_FAILURE : status;
  }
  return status;
}

bool cli_is_help(const char *arg) {
  return strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0;
}

const char *cli_default_model(void) {
  if (access(NSR_PROPOSE_SOURCE_MODEL, R_OK) == 0) return NSR_PROPOSE_SOURCE_MODEL;
  return NSR_PROPOSE_INSTALLED_MODEL;
}

const char *cli_shipped_spaces(void) {
  if (access(NSR_SPACES_SOURCE_DIR, R_OK | X_OK) == 0) return NSR_SPACES_SOURCE_DIR;
  return NSR_SPACES_INSTALLED_DIR;
}

/* ---- values --------------------------------------------------------------- */

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

static nsr_code parse_int(const cli_opt *o, const char *text, nsr_error *err) {
  bool negative = text[0] == '-';
  uint64_t mag;
  double lo = o->min < 0 ? 0 : o->min, hi = o->max > o->min ? o->max : INT32_MAX;
  if (negative) {
    if (o->min >= 0) {
      return nsr_fail(err, NSR_ERR_RANGE, "%s: %s is outside the range %.0f..%.0f", o->name,
                      text, o->min, o->max);
    }
    lo = 0;
    hi = -o->min;
  }
  if (cli_parse_u64(negative ? text + 1 : text, o->name, (uint64_t)lo, (uint64_t)hi, &mag,
                    err) != NSR_OK) {
    if (err->code == NSR_ERR_RANGE) {
      return nsr_fail(err, NSR_ERR_RANGE, "%s: %s is outside the range %.0f..%.0f", o->name,
                      text, o->min, o->max);
    }
    return nsr_fail(err, NSR_ERR_INVALID, "%s: '%s' is not a whole number", o->name, text);
  }
  *(int *)o->target = negative ? -(int)mag : (int)mag;
  return NSR_OK;
}

/* A byte count as help and errors show it: with the largest of the K, M or
 * G suffixes that divides it exactly. */
static void format_bytes(uint64_t v, char *buf, size_t len) {
  static const char units[] = "GMK";
  for (int i = 0; i < 3; i++) {
    unsigned shift = 10u * (unsigned)(3 - i);
    if (v != 0 && v % (UINT64_C(1) << shift) == 0) {
      snprintf(buf, len, "%llu%c", (unsigned long long)(v >> shift), units[i]);
      return;
    }
  }
  snprintf(buf, len, "%llu", (unsigned long long)v);
}

/* CLI_BYTES: digits with an optional K, M or G suffix (powers of 1024). */
static nsr_code parse_bytes(const cli_opt *o, const char *text, nsr_error *err) {
  static const char units[] = "KMG";
  char digits[32];
  size_t len = strlen(text);
  uint64_t n = 0;
  unsigned shift = 0;
  nsr_error ignored;
  if (len > 0 && len < sizeof digits) {
    memcpy(digits, text, len + 1);
    char last = (char)(digits[len - 1] & ~0x20); /* k and K alike */
    const char *unit = last != '\0' && len > 1 ? strchr(units, last) : NULL;
    if (unit) {
      digits[len - 1] = '\0';
      shift = 10u * (unsigned)(unit - units + 1);
    }
  }
  if (len == 0 || len >= sizeof digits ||
      cli_parse_u64(digits, o->name, 0, UINT64_MAX, &n, &ignored) != NSR_OK) {
    return nsr_fail(err, NSR_ERR_INVALID,
                    "%s: '%s' is not a byte count (digits with an optional K, M or G)", o->name, text);
  }
  bool bounded = o->max > o->min;
  uint64_t lo = (uint64_t)o->min, hi = bounded ? (uint64_t)o->max : SIZE_MAX;
  if (!bounded && n > (hi >> shift)) {
    return nsr_fail(err, NSR_ERR_RANGE, "%s: %s is more bytes than this machine can address",
                    o->name, text);
  }
  if (n > (hi >> shift) || (n << shift) < lo) {
    char lo_text[32], hi_text[32];
    format_bytes(lo, lo_text, sizeof lo_text);
    format_bytes(hi, hi_text, sizeof hi_text);
    return nsr_fail(err, NSR_ERR_RANGE, "%s: %s is outside the range %s..%s", o->name, text,
                    lo_text, hi_text);
  }
  *(size_t *)o->target = (size_t)(n << shift);
  return NSR_OK;
}

/* How many values the CLI_LIST o takes, at most. */
static size_t list_most(const cli_opt *o) {
  return o->max > 0 && o->max < CLI_LIST_MAX ? (size_t)o->max : CLI_LIST_MAX;
}

/* Stores `text` as o's value, checked against its kind and range. */
static nsr_code set_value(const cli_opt *o, const char *text, nsr_error *err) {
  switch (o->kind) {
    case CLI_FLAG:
      *(bool *)o->target = true;
      return NSR_OK;
    case CLI_STRING:
      if (text[0] == '\0') return nsr_fail(err, NSR_ERR_INVALID, "%s: the value is empty", o->name);
      *(const char **)o->target = text;
      return NSR_OK;
    case CLI_U64:
      return cli_parse_u64(text, o->name, (uint64_t)o->min,
                           o->max > o->min ? (uint64_t)o->max : UINT64_MAX, o->target, err);
    case CLI_INT:
      return parse_int(o, text, err);
    case CLI_DOUBLE: {
      double v;
      if (cli_parse_double(text, o->name, &v, err) != NSR_OK) return err->code;
      if (o->max > o->min && (v < o->min || v > o->max)) {
        return nsr_fail(err, NSR_ERR_RANGE, "%s: %s is outside the range %g..%g", o->name, text,
                        o->min, o->max);
      }
      *(double *)o->target = v;
      return NSR_OK;
    }
    case CLI_CHOICE:
      for (const char *const *c = o->choices; *c; c++) {
        if (strcmp(*c, text) == 0) {
          *(const char **)o->target = *c;
          return NSR_OK;
        }
      }
      {
        char list[256] = "";
        for (const char *const *c = o->choices; *c; c++) {
          size_t used = strlen(list);
          snprintf(list + used, sizeof list - used, "%s%s", c == o->choices ? "" : ", ", *c);
        }
        return nsr_fail(err, NSR_ERR_INVALID, "%s: '%s' is not one of %s", o->name, text, list);
      }
    case CLI_LIST: {
      cli_list *l = o->target;
      if (text[0] == '\0') return nsr_fail(err, NSR_ERR_INVALID, "%s: the value is empty", o->name);
      size_t most = list_most(o);
      if (l->n == most) return nsr_fail(err, NSR_ERR_RANGE, "%s: at most %zu times", o->name, most);
      l->items[l->n++] = text;
      return NSR_OK;
    }
    case CLI_BYTES:
      return parse_bytes(o, text, err);
  }
  return nsr_fail(err, NSR_ERR_INVALID, "%s: unknown option kind", o->name);
}

/* ---- parsing -------------------------------------------------------------- */

static bool spelled(const char *name, const char *arg, size_t len) {
  return name != NULL && strlen(name) == len && strncmp(name, arg, len) == 0;
}

/* The option whose name or alias is arg[0..len), or NULL. */
static const cli_opt *find_opt(const cli_spec *spec, const char *arg, size_t len) {
  for (size_t i = 0; i < spec->n_opts; i++) {
    if (spelled(spec->opts[i].name, arg, len) || spelled(spec->opts[i].alias, arg, len)) {
      return &spec->opts[i];
    }
  }
  return NULL;
}

/* Options not given on the command line take their environment variable,
 * checked like a value given with the option. */
static int apply_env(const cli_spec *spec, const bool *seen) {
  for (size_t i = 0; i < spec->n_opts; i++) {
    const cli_opt *o = &spec->opts[i];
    if (o->env == NULL || seen[i]) continue;
    const char *v = getenv(o->env);
    if (v == NULL || v[0] == '\0') continue;
    nsr_error err;
    if (set_value(o, v, &err) != NSR_OK) {
      return cli_usage_error(spec->name, "$%s: %s", o->env, err.message);
    }
  }
  return CLI_CONTINUE;
}

/* What o's value is, for help and errors: its value_name, or for a choice
 * without one its choices ("text|mcp|openai"), written into buf. */
static const char *value_name(const cli_opt *o, char *buf, size_t len) {
  if (o->value_name) return o->value_name;
  if (o->kind != CLI_CHOICE) return "VALUE";
  size_t used = 0;
  buf[0] = '\0';
  for (const char *const *c = o->choices; *c && used < len; c++) {
    used += (size_t)snprintf(buf + used, len - used, "%s%s", c == o->choices ? "" : "|", *c);
  }
  return buf;
}

/* Handles the option at argv[*i] (known to look like one). */
static int parse_option(const cli_spec *spec, int argc, char **argv, int *i, bool *seen) {
  const char *arg = argv[*i];
  char name[128];
  const char *eq = strchr(arg, '=');
  size_t len = eq ? (size_t)(eq - arg) : strlen(arg);
  const cli_opt *o = find_opt(spec, arg, len);
  if (o == NULL) return cli_usage_error(spec->name, "unknown option '%.*s'", (int)len, arg);
  const char *value = NULL;
  if (o->kind == CLI_FLAG) {
    if (eq) return cli_usage_error(spec->name, "%s takes no value", o->name);
  } else if (eq) {
    value = eq + 1;
  } else if (*i + 1 < argc) {
    value = argv[++*i];
  } else {
    return cli_usage_error(spec->name, "%s needs a value (%s)", o->name, value_name(o, name, sizeof name));
  }
  if (seen[o - spec->opts] && o->kind != CLI_LIST) {
    return cli_usage_error(spec->name, "%s given twice", o->name);
  }
  seen[o - spec->opts] = true;
  if (o->given) *o->given = true;
  nsr_error err;
  if (set_value(o, value, &err) != NSR_OK) return cli_usage_error(spec->name, "%s", err.message);
  return CLI_CONTINUE;
}

/* Whether arg is an option rather than a positional argument: "-x" and
 * "--x", but not "-" (standard input) nor a negative number. */
static bool looks_like_option(const char *arg) {
  if (arg[0] != '-' || arg[1] == '\0') return false;
  if ((arg[1] >= '0' && arg[1] <= '9') || arg[1] == '.') return false;
  return true;
}

int cli_parse(const cli_spec *spec, int argc, char **argv, cli_args *out) {
  *out = (cli_args){.args = argv + 1};
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--") == 0) break;
    if (cli_is_help(argv[i])) {
      cli_print_help(spec, stdout);
      return CLI_EXIT_OK;
    }
  }
  bool seen[CLI_MAX_OPTS] = {false};
  assert(spec->n_opts <= CLI_MAX_OPTS && "an option table fits cli_parse's bookkeeping");
  size_t n = 0;
  int i = 1;
  for (; i < argc; i++) {
    char *arg = argv[i];
    if (strcmp(arg, "--") == 0) {
      i++;
      break;
    }
    if (!looks_like_option(arg)) {
      argv[1 + n++] = arg; /* positionals move to the front, in order */
      continue;
    }
    int rc = parse_option(spec, argc, argv, &i, seen);
    if (rc != CLI_CONTINUE) return rc;
  }
  if (spec->rest_after_dashdash) {
    out->rest = argv + i;
    out->n_rest = (size_t)(argc - i);
  } else {
    for (; i < argc; i++) argv[1 + n++] = argv[i];
  }
  out->n = n;
  int rc = apply_env(spec, seen);
  if (rc != CLI_CONTINUE) return rc;
  if (n < spec->min_args) {
    return cli_usage_error(spec->name, "%s (%s)", n == 0 ? "missing arguments" : "too few arguments",
                           spec->args ? spec->args : "see the usage line");
  }
  if (n > spec->max_args) {
    return cli_usage_error(spec->name, "unexpected argument '%s'", out->args[spec->max_args]);
  }
  return CLI_CONTINUE;
}

const cli_subcommand *cli_find_subcommand(const cli_subcommand *subs, size_t n_subs,
                                          const char *name) {
  for (size_t i = 0; i < n_subs; i++) {
    if (strcmp(subs[i].name, name) == 0) return &subs[i];
  }
  return NULL;
}

int cli_run_subcommand(const cli_spec *spec, const cli_subcommand *subs, size_t n_subs,
                       int argc, char **argv) {
  if (argc < 2) return cli_usage_error(spec->name, "missing subcommand");
  if (cli_is_help(argv[1])) {
    cli_print_help(spec, stdout);
    return CLI_EXIT_OK;
  }
  const cli_subcommand *sub = cli_find_subcommand(subs, n_subs, argv[1]);
  if (sub) return sub->run(argc - 1, argv + 1);
  return cli_usage_error(spec->name, "unknown %s '%s'", argv[1][0] == '-' ? "option" : "subcommand",
                         argv[1]);
}

/* ---- help ----------------------------------------------------------------- */

/* The default of o as help shows it, into buf; "" when there is none. */
static const char *default_of(const cli_opt *o, char *buf, size_t len) {
  buf[0] = '\0';
  if (o->default_text) return o->default_text;
  switch (o->kind) {
    case CLI_STRING:
    case CLI_CHOICE: {
      const char *s = *(const char *const *)o->target;
      if (s) snprintf(buf, len, "%s", s);
      break;
    }
    case CLI_U64:
      snprintf(buf, len, "%llu", (unsigned long long)*(const uint64_t *)o->target);
      break;
    case CLI_INT:
      snprintf(buf, len, "%d", *(const int *)o->target);
      break;
    case CLI_DOUBLE:
      snprintf(buf, len, "%g", *(const double *)o->target);
      break;
    case CLI_BYTES:
      format_bytes(*(const size_t *)o->target, buf, len);
      break;
    case CLI_FLAG:
    case CLI_LIST:
      break;
  }
  return buf;
}

/* Prints text indented by `indent` after its first line. */
static void print_wrapped(FILE *out, const char *text, int indent) {
  for (const char *p = text; *p; p++) {
    fputc(*p, out);
    if (*p == '\n' && p[1]) fprintf(out, "%*s", indent, "");
  }
}

static void print_option(FILE *out, const cli_opt *o) {
  char left[64], def[128], name[128];
  const char *alias = o->alias ? o->alias : "", *comma = o->alias ? ", " : "";
  if (o->kind == CLI_FLAG) {
    snprintf(left, sizeof left, "%s%s%s", alias, comma, o->name);
  } else {
    snprintf(left, sizeof left, "%s%s%s %s", alias, comma, o->name, value_name(o, name, sizeof name));
  }
  const int col = 24;
  if ((int)strlen(left) + 2 >= col) {
    fprintf(out, "  %s\n%*s", left, col, "");
  } else {
    fprintf(out, "  %-*s", col - 2, left);
  }
  print_wrapped(out, o->help, col);
  const char *d = default_of(o, def, sizeof def);
  bool ranged = (o->kind == CLI_U64 || o->kind == CLI_INT || o->kind == CLI_DOUBLE) &&
                o->max > o->min;
  if (d[0] || o->env || ranged) {
    const char *sep = "";
    fprintf(out, " (");
    if (ranged) {
      /* Whole numbers in full: %g would print 100000000 as 1e+08. */
      fprintf(out, o->kind == CLI_DOUBLE ? "%g..%g" : "%.0f..%.0f", o->min, o->max);
      sep = ", ";
    }
    if (d[0]) {
      fprintf(out, "%sdefault: %s", sep, d);
      sep = "; ";
    }
    if (o->env) fprintf(out, "%senv %s", sep, o->env);
    fputc(')', out);
  }
  if (o->kind == CLI_LIST) {
    fprintf(out, "; repeatable");
    if (o->max > 0) fprintf(out, ", up to %zu times", list_most(o));
  }
  fputc('\n', out);
}

void cli_print_help(const cli_spec *spec, FILE *out) {
  const char *options = spec->n_opts ? " [OPTIONS]" : "";
  if (spec->subcommands && spec->subcommand_optional) {
    fprintf(out, "Usage: nsr %s%s%s%s\n       nsr %s SUBCOMMAND [ARGS...]\n\n", spec->name, options,
            spec->args ? " " : "", spec->args ? spec->args : "", spec->name);
  } else {
    fprintf(out, "Usage: nsr %s%s%s%s%s\n\n", spec->name, spec->subcommands ? " SUBCOMMAND" : "",
            options, spec->args ? " " : "", spec->args ? spec->args : "");
  }
  if (spec->description) fputs(spec->description, out);
  if (spec->subcommands) fprintf(out, "\nSubcommands:\n%s", spec->subcommands);
  fprintf(out, "\nOptions:\n");
  for (size_t i = 0; i < spec->n_opts; i++) print_option(out, &spec->opts[i]);
  fprintf(out, "  %-22sshow this help\n", "-h, --help");
  fprintf(out, "\nExit status: 0 success, 1 the work failed, 2 bad arguments or input.\n");
  if (spec->epilog) fprintf(out, "\n%s", spec->epilog);
}
