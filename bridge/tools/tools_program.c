/* tools_program.c: `run_program`. Every call gets a new interpreter, so
 * nothing one program defines or allocates reaches the next; the budgets
 * turn a program that loops or allocates without bound into a tool error
 * naming the budget. */
#include "tools_program.h"

#include <stdio.h>
#include <string.h>

#include "json.h"
#include "nsr_ffi.h"
#include "tools_schema.h"

static const char run_program_description[] =
    "Runs a program in Church (probmods' probabilistic Scheme: define, lambda, let, if, "
    "flip, uniform-draw, gaussian, mem, enumeration-query, rejection-query, mh-query, display, "
    "...) in a fresh interpreter and returns the value of its last top-level form as JSON "
    "(lists become arrays, symbols strings, #t/#f booleans) and everything it printed. "
    "`args` is bound in the program as the list `args` (strings, numbers, booleans). "
    "Random choices come from `seed` (default 0): the same seed gives the same result. "
    "Step, memory and wall-time budgets apply; running out of one is an error naming it. "
    "Figures (hist, density, barplot, scatter, lineplot) print a text summary into the output.";

static const char run_program_input[] =
    "{\"type\":\"object\",\"additionalProperties\":false,\"required\":[\"source\"],"
    "\"properties\":{"
    "\"source\":{\"type\":\"string\",\"maxLength\":1000000,"
    "\"description\":\"Church source: one or more top-level forms\"},"
    "\"args\":{\"type\":\"array\",\"maxItems\":10000,"
    "\"items\":{\"type\":[\"string\",\"integer\",\"number\",\"boolean\"]},"
    "\"description\":\"bound in the program as the list args\"},"
    "\"seed\":{\"type\":\"integer\",\"minimum\":0,\"default\":0,"
    "\"description\":\"seed of the random stream\"}}}";

static const char run_program_output[] =
    "{\"type\":\"object\",\"required\":[\"value\",\"output\",\"output_truncated\"],"
    "\"properties\":{"
    "\"value\":{\"description\":\"the last top-level form's value as JSON (null when unspecified)\"},"
    "\"output\":{\"type\":\"string\",\"description\":\"what the program printed\"},"
    "\"output_truncated\":{\"type\":\"boolean\",\"description\":\"output was cut at 64 KiB\"}}}";

typedef struct program_ctx {
  nsr_lang_config cfg;
  lang_foreign *foreign;
} program_ctx;

static void program_free(void *p) {
  program_ctx *c = p;
  lang_foreign_free(c->foreign);
  nsr_free(c);
}

/* `args` as the program's list `args`. */
static nsr_code bind_args(nsr_lang *lang, const json_t *args, nsr_error *err) {
  size_t n = json_array_size(args);
  nsr_lang_value *items = nsr_calloc(n ? n : 1, sizeof *items);
  if (items == NULL) return nsr_fail(err, NSR_ERR_NOMEM, "run_program: out of memory");
  nsr_code rc = NSR_OK;
  for (size_t i = 0; rc == NSR_OK && i < n; i++) {
    const json_t *a = json_array_get(args, i);
    if (json_is_string(a)) {
      rc = nsr_lang_string(lang, json_string_value(a), json_string_length(a), &items[i], err);
    } else if (json_is_integer(a)) {
      items[i] = nsr_lang_int((int64_t)json_integer_value(a));
    } else if (json_is_real(a)) {
      items[i] = nsr_lang_real(json_real_value(a));
    } else {
      items[i] = nsr_lang_bool(json_is_true(a));
    }
  }
  nsr_lang_value list;
  if (rc == NSR_OK) rc = nsr_lang_list(lang, items, n, &list, err);
  if (rc == NSR_OK) rc = nsr_lang_define(lang, "args", list, err);
  nsr_free(items);
  return rc;
}

/* JSON text from the interpreter (which writes valid JSON) as a value. */
static nsr_code load_json(const char *text, json_t **out, nsr_error *err) {
  *out = json_loads(text, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
  return *out ? NSR_OK : nsr_fail(err, NSR_ERR_NOMEM, "run_program: out of memory");
}

/* Printed output up to TOOLS_PROGRAM_MAX_OUTPUT bytes, cut on a UTF-8
 * character boundary. */
static nsr_code output_json(const nsr_lang *lang, json_t **out, bool *truncated, nsr_error *err) {
  size_t len;
  const char *text = nsr_lang_output(lang, &len);
  *truncated = len > TOOLS_PROGRAM_MAX_OUTPUT;
  if (*truncated) {
    len = TOOLS_PROGRAM_MAX_OUTPUT;
    while (len > 0 && ((unsigned char)text[len] & 0xC0) == 0x80) len--;
  }
  char *literal = NULL;
  nsr_code rc = nsr_lang_json_string(text, len, &literal, err);
  if (rc == NSR_OK) rc = load_json(literal, out, err);
  nsr_free(literal);
  return rc;
}

static nsr_code program_result(const nsr_lang *lang, json_t **result, nsr_error *err) {
  char *text = NULL;
  json_t *value = NULL, *output = NULL;
  bool truncated;
  nsr_code rc = nsr_lang_to_json(lang, nsr_lang_result(lang), &text, err);
  if (rc == NSR_OK && strlen(text) > TOOLS_PROGRAM_MAX_VALUE) {
    rc = nsr_fail(err, NSR_ERR_LIMIT,
                  "the value is %zu bytes as JSON, over the %u-byte limit: return a summary of it",
                  strlen(text), TOOLS_PROGRAM_MAX_VALUE);
  }
  if (rc == NSR_OK) rc = load_json(text, &value, err);
  if (rc == NSR_OK) rc = output_json(lang, &output, &truncated, err);
  nsr_free(text);
  if (rc == NSR_OK) {
    *result = json_pack("{s:o, s:o, s:b}", "value", value, "output", output, "output_truncated",
                        truncated);
    value = output = NULL;
    if (*result == NULL) rc = nsr_fail(err, NSR_ERR_NOMEM, "run_program: out of memory");
  }
  json_decref(value);
  json_decref(output);
  return rc;
}

/* run_program within max_seconds of wall time when that is less than the
 * server's --max-time (0: --max-time): the agent gives each call what
 * remains of its own budget. */
static nsr_code run_program_timed(void *p, const json_t *args, double max_seconds,
                                  json_t **result, nsr_error *err) {
  program_ctx *c = p;
  nsr_lang_config cfg = c->cfg;
  if (max_seconds > 0 && (cfg.timeout_seconds <= 0 || max_seconds < cfg.timeout_seconds)) {
    cfg.timeout_seconds = max_seconds;
  }
  const json_t *seed = json_object_get(args, "seed");
  if (seed) cfg.seed = (uint64_t)json_integer_value(seed);
  const json_t *source = json_object_get(args, "source");
  nsr_lang *lang = NULL;
  nsr_code rc = nsr_lang_new(&cfg, &lang, err);
  if (rc == NSR_OK) rc = lang_foreign_install(c->foreign, lang, err);
  if (rc == NSR_OK) rc = bind_args(lang, json_object_get(args, "args"), err);
  if (rc == NSR_OK) {
    rc = nsr_lang_eval_string(lang, "source", json_string_value(source),
                              json_string_length(source), err);
  }
  if (rc == NSR_OK) rc = program_result(lang, result, err);
  /* The interpreter names nsr run's option; say whose budget it is here. */
  if (rc == NSR_ERR_LIMIT) {
    size_t n = strlen(err->message);
    snprintf(err->message + n, sizeof err->message - n,
             "; run_program allows %llu steps, %zu MiB and %g s per call",
             (unsigned long long)cfg.max_steps, cfg.max_memory >> 20, c->cfg.timeout_seconds);
  }
  nsr_lang_free(lang);
  return rc;
}

static nsr_code run_program_call(void *p, const json_t *args, json_t **result, nsr_error *err) {
  return run_program_timed(p, args, 0, result, err);
}

nsr_code tools_add_run_program(tools_registry *reg, const tools_options *opt, nsr_error *err) {
  program_ctx *c = nsr_calloc(1, sizeof *c);
  if (c == NULL) return nsr_fail(err, NSR_ERR_NOMEM, "run_program: out of memory");
  nsr_lang_config_default(&c->cfg);
  c->cfg.max_steps = opt->max_steps ? opt->max_steps : TOOLS_DEFAULT_MAX_STEPS;
  c->cfg.max_memory = opt->max_memory ? opt->max_memory : TOOLS_DEFAULT_MAX_MEMORY;
  c->cfg.timeout_seconds = opt->timeout_seconds > 0 ? opt->timeout_seconds : TOOLS_DEFAULT_TIMEOUT;
  nsr_code rc = lang_foreign_new(&c->foreign, err);
  for (size_t i = 0; rc == NSR_OK && i < opt->n_foreign; i++) {
    rc = lang_foreign_allow(c->foreign, opt->foreign[i], err);
  }
  if (rc != NSR_OK) {
    program_free(c);
    return rc;
  }
  tool_def def = {"run_program", run_program_description, NULL, NULL, run_program_call, c,
                  program_free,
                  /* pure unless the host let programs call C */
                  opt->n_foreign == 0};
  rc = tools_register_literal(reg, &def, run_program_input, run_program_output, err);
  return rc == NSR_OK ? tools_set_call_timed(reg, "run_program", run_program_timed, err) : rc;
}
