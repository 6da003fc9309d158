/* tools_numbers.c: `number_game` and `list_concepts`. */
#include "tools_numbers.h"

#include <string.h>

#include "json.h"
#include "nsr_report.h"
#include "tools_schema.h"
#include "tools_spaces.h"

#define STR_(x) #x
#define STR(x) STR_(x)

static const char number_game_description[] =
    "Exact Bayesian concept learning in Tenenbaum's number game. Given example numbers "
    "drawn from an unknown concept over 1..range, returns the most probable concepts "
    "p(h | X) (34 rules such as 'powers of 2', 'multiples of 3', 'ends in 7', and every "
    "interval A..B), the generalization p(y in C | X) for y = 1..range (entry i is y = i+1; "
    "with probes, only at those numbers) and log p(X). With space, the concepts are a "
    "shipped grammar's (e.g. large: 2.33 million rules such as 'odd and up to 50') and "
    "intervals, over that space's range. Exact: no sampling.";

static const char number_game_input[] =
    "{\"type\":\"object\",\"additionalProperties\":false,\"required\":[\"examples\"],"
    "\"properties\":{"
    "\"examples\":{\"type\":\"array\",\"minItems\":1,\"maxItems\":10000,"
    "\"items\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":" STR(TOOLS_NUMBERS_MAX_RANGE) "},"
    "\"description\":\"example numbers drawn from the concept, each in 1..range; repeats count as repeated samples\"},"
    "\"range\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":" STR(TOOLS_NUMBERS_MAX_RANGE) ",\"default\":100,"
    "\"description\":\"concepts are sets over 1..range (not with space: it has its own)\"},"
    "\"prior\":{\"type\":\"string\",\"enum\":[\"pmtk3\",\"mixture\"],\"default\":\"pmtk3\","
    "\"description\":\"pmtk3: rules 2/3 each, intervals (1/3)*Erlang(size; sigma), normalised; "
    "mixture: rules lambda/34 each, intervals (1-lambda)*Erlang(size; sigma)/Z (not with space)\"},"
    "\"lambda\":{\"type\":\"number\",\"minimum\":0,\"maximum\":1,"
    "\"description\":\"rule mass of the mixture prior (default 2/3); only with prior mixture\"},"
    "\"sigma\":{\"type\":\"number\",\"exclusiveMinimum\":0,\"default\":10,"
    "\"description\":\"Erlang scale of interval sizes (not with space)\"},"
    "\"top\":{\"type\":\"integer\",\"minimum\":0,\"maximum\":" STR(TOOLS_NUMBERS_MAX_TOP) ",\"default\":10,"
    "\"description\":\"how many hypotheses to list, most probable first\"},"
    "\"probes\":{\"type\":\"array\",\"minItems\":1,\"maxItems\":" STR(TOOLS_NUMBERS_MAX_PROBES) ","
    "\"items\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":" STR(TOOLS_NUMBERS_MAX_RANGE) "},"
    "\"description\":\"numbers y in 1..range: p(y in C | X) is returned only for these "
    "(as probes: [{y, p}], without the full generalization)\"}}}";

static const char number_game_space_description[] =
    "a shipped hypothesis space by name, instead of Tenenbaum's 34 rules: its grammar's "
    "rules and intervals, its range and its prior (so range, prior, lambda and sigma do not "
    "go with it). E.g. lot_mag: a small language of thought (6,072 rules); large: 2.33 "
    "million rules (its first use takes seconds). Spaces too large to enumerate (deep) "
    "are refused: this tool answers exactly";

static const char number_game_output[] =
    "{\"type\":\"object\","
    "\"required\":[\"examples\",\"range\",\"prior\",\"hypotheses\",\"log_evidence\",\"consistent\"],"
    "\"properties\":{"
    "\"examples\":{\"type\":\"array\",\"items\":{\"type\":\"integer\"}},"
    "\"range\":{\"type\":\"array\",\"items\":{\"type\":\"integer\"},\"minItems\":2,\"maxItems\":2},"
    "\"prior\":{\"type\":\"object\",\"required\":[\"name\",\"lambda\",\"sigma\"],\"properties\":{"
    "\"name\":{\"type\":\"string\"},\"lambda\":{\"type\":[\"number\",\"null\"]},\"sigma\":{\"type\":\"number\"},"
    "\"file\":{\"type\":\"string\",\"description\":\"the shipped space's file\"}}},"
    "\"hypotheses\":{\"type\":\"array\",\"items\":{\"type\":\"object\","
    "\"required\":[\"name\",\"posterior\",\"prior\",\"size\"],\"properties\":{"
    "\"name\":{\"type\":\"string\"},\"posterior\":{\"type\":\"number\"},"
    "\"prior\":{\"type\":\"number\"},\"size\":{\"type\":\"integer\"}}}},"
    "\"generalization\":{\"type\":\"array\",\"items\":{\"type\":\"number\"},"
    "\"description\":\"entry i is p(i+1 in C | X); left out with probes\"},"
    "\"probes\":{\"type\":\"array\",\"items\":{\"type\":\"object\",\"required\":[\"y\",\"p\"],"
    "\"properties\":{\"y\":{\"type\":\"integer\"},\"p\":{\"type\":\"number\"}}},"
    "\"description\":\"p(y in C | X) at each probe, in the order asked\"},"
    "\"log_evidence\":{\"type\":\"number\"},"
    "\"space\":{\"type\":\"object\",\"properties\":{\"extensions\":{\"type\":\"integer\"},"
    "\"expressions\":{\"type\":\"number\"},\"build_seconds\":{\"type\":\"number\"}}},"
    "\"consistent\":{\"type\":\"object\",\"required\":[\"rules\",\"intervals\"],\"properties\":{"
    "\"rules\":{\"type\":\"integer\"},\"intervals\":{\"type\":\"integer\"}}}}}";

/* The Tenenbaum model of the last configuration is kept, so that a loop of
 * calls with the same range and prior (the usual case) does not rebuild the
 * 34 rule sets each time. It is opened through the same switch as `nsr
 * numbers` (nsr_numbers_model_open); the shipped spaces are built once each,
 * in `spaces` (shared with propose_hypotheses). */
typedef struct number_game_ctx {
  nsr_numbers_model model;
  bool open;
  tools_spaces *spaces;
  nsr_numbers_result result;
  uint32_t *examples; /* the examples, then the probes */
  size_t examples_cap;
} number_game_ctx;

static void number_game_free(void *p) {
  number_game_ctx *ctx = p;
  nsr_numbers_model_close(&ctx->model);
  tools_spaces_release(ctx->spaces);
  nsr_numbers_result_free(&ctx->result);
  nsr_free(ctx->examples);
  nsr_free(ctx);
}

/* Reads the configuration from validated arguments; what the schema cannot
 * express (lambda only with the mixture prior) is checked here. */
static nsr_code read_config(const json_t *args, nsr_numbers_config *cfg, int64_t *top,
                            nsr_error *err) {
  nsr_numbers_config_default(cfg);
  int64_t range = cfg->max;
  const char *prior = NULL;
  nsr_code rc = nsr_json_get_int_opt(args, "range", &range, err);
  if (rc == NSR_OK) rc = nsr_json_get_string_opt(args, "prior", &prior, err);
  if (rc == NSR_OK && prior) rc = nsr_numbers_prior_parse(prior, &cfg->prior, err);
  if (rc == NSR_OK) rc = nsr_json_get_number_opt(args, "sigma", &cfg->sigma, err);
  if (rc == NSR_OK) rc = nsr_json_get_number_opt(args, "lambda", &cfg->lambda, err);
  if (rc == NSR_OK) rc = nsr_json_get_int_opt(args, "top", top, err);
  if (rc == NSR_OK && json_object_get(args, "lambda") && cfg->prior != NSR_PRIOR_MIXTURE) {
    rc = nsr_fail(err, NSR_ERR_INVALID,
                  "\"lambda\" applies only to the mixture prior: add \"prior\":\"mixture\" or drop \"lambda\"");
  }
  cfg->max = (uint32_t)range;
  return rc;
}

static bool same_config(const nsr_numbers_config *a, const nsr_numbers_config *b) {
  return a->max == b->max && a->prior == b->prior && a->lambda == b->lambda &&
         a->sigma == b->sigma;
}

/* Tenenbaum's model for the arguments' configuration, rebuilt only when it
 * changes. */
static nsr_code tenenbaum_model(number_game_ctx *ctx, const nsr_numbers_config *cfg,
                                nsr_numbers_model **out, nsr_error *err) {
  if (!ctx->open || !same_config(&ctx->model.cfg, cfg)) {
    nsr_numbers_model_close(&ctx->model);
    ctx->open = false;
    nsr_code rc = nsr_numbers_model_open(&ctx->model, cfg, NULL, NULL, 0, err);
    if (rc != NSR_OK) return rc;
    ctx->open = true;
  }
  *out = &ctx->model;
  return NSR_OK;
}

/* The shipped space the arguments name: it brings its own range and prior,
 * so the options that set those are refused beside it. */
static nsr_code shipped_model(number_game_ctx *ctx, const json_t *args, const char *name,
                              nsr_numbers_model **out, nsr_error *err) {
  static const char *const own[] = {"range", "prior", "lambda", "sigma"};
  for (size_t i = 0; i < sizeof own / sizeof own[0]; i++) {
    if (json_object_get(args, own[i])) {
      return nsr_fail(err, NSR_ERR_INVALID,
                      "\"%s\" does not go with \"space\": a space brings its own range and prior; drop \"%s\"",
                      own[i], own[i]);
    }
  }
  int i = tools_spaces_find(ctx->spaces, name);
  if (i < 0) return nsr_fail(err, NSR_ERR_INVALID, "arguments.space: no shipped space is named \"%.60s\"", name);
  nsr_code rc = tools_spaces_model(ctx->spaces, (size_t)i, out, err);
  if (rc == NSR_OK && nsr_space_extensions((*out)->space) == 0) {
    return nsr_fail(err, NSR_ERR_INVALID,
                    "arguments.space: \"%s\" is too large to enumerate and number_game answers "
                    "exactly; propose_hypotheses samples it (its \"space\" argument)",
                    name);
  }
  return rc;
}

/* Copies the integers of `list` (validated: integers ≥ 1) into dst, each at
 * most max; `what` names the list in the message for one beyond it. */
static nsr_code read_numbers(const json_t *list, const char *what, uint32_t max, uint32_t *dst,
                             nsr_error *err) {
  for (size_t i = 0; i < json_array_size(list); i++) {
    json_int_t v = (json_int_t)json_number_value(json_array_get(list, i));
    if (v > (json_int_t)max) {
      return nsr_fail(err, NSR_ERR_RANGE, "arguments.%s[%zu]: %lld is outside 1..%u; %s", what, i,
                      (long long)v, max,
                      strcmp(what, "examples") == 0 ? "raise \"range\" or drop it" : "drop it");
    }
    dst[i] = (uint32_t)v;
  }
  return NSR_OK;
}

/* The examples into ctx->examples[0..n), the probes after them. */
static nsr_code read_query(number_game_ctx *ctx, const json_t *examples, const json_t *probes,
                           uint32_t max, nsr_error *err) {
  size_t n = json_array_size(examples), total = n + json_array_size(probes);
  if (total > ctx->examples_cap) {
    uint32_t *grown = nsr_reallocarray(ctx->examples, total, sizeof *grown);
    if (grown == NULL) return nsr_fail(err, NSR_ERR_NOMEM, "number_game: out of memory");
    ctx->examples = grown;
    ctx->examples_cap = total;
  }
  nsr_code rc = read_numbers(examples, "examples", max, ctx->examples, err);
  if (rc == NSR_OK) rc = read_numbers(probes, "probes", max, ctx->examples + n, err);
  return rc;
}

static nsr_code number_game_call(void *p, const json_t *args, json_t **result,
                                 nsr_error *err) {
  number_game_ctx *ctx = p;
  nsr_numbers_config cfg;
  int64_t top = 10;
  const char *space = NULL;
  nsr_numbers_model *model = NULL;
  nsr_code rc = read_config(args, &cfg, &top, err);
  if (rc == NSR_OK) rc = nsr_json_get_string_opt(args, "space", &space, err);
  if (rc == NSR_OK) {
    rc = space ? shipped_model(ctx, args, space, &model, err) : tenenbaum_model(ctx, &cfg, &model, err);
  }
  const json_t *list = json_object_get(args, "examples"), *probes = json_object_get(args, "probes");
  if (rc == NSR_OK) rc = read_query(ctx, list, probes, model->cfg.max, err);
  size_t n = json_array_size(list);
  if (rc == NSR_OK) {
    rc = nsr_numbers_model_infer(model, ctx->examples, n, (size_t)top, &ctx->result, err);
  }
  if (rc != NSR_OK) return rc;
  numbers_query q = nsr_numbers_model_query(model, ctx->examples, n, &ctx->result);
  if (space) q.model_file = tools_spaces_file(ctx->spaces, (size_t)tools_spaces_find(ctx->spaces, space));
  if (probes) {
    q.probes = ctx->examples + n;
    q.n_probes = json_array_size(probes);
    q.probes_only = true;
  }
  return numbers_report_json(&q, result, err);
}

nsr_code tools_add_number_game(tools_registry *reg, tools_spaces *spaces, nsr_error *err) {
  number_game_ctx *ctx = nsr_calloc(1, sizeof *ctx);
  if (ctx == NULL) return nsr_fail(err, NSR_ERR_NOMEM, "number_game: out of memory");
  ctx->spaces = tools_spaces_retain(spaces);
  tool_def def = {"number_game", number_game_description, NULL, NULL, number_game_call, ctx,
                  number_game_free, true};
  return tools_spaces_register(reg, spaces, &def, number_game_input, number_game_output,
                               number_game_space_description, err);
}

/* ---- list_concepts -------------------------------------------------------- */

static const char list_concepts_description[] =
    "The hypothesis space of number_game: the 34 rules with their members over 1..100 "
    "(number_game's default range) and sizes, and the interval family 'interval A..B' "
    "(every 1 <= A <= B <= range, size B-A+1).";

static const char list_concepts_input[] =
    "{\"type\":\"object\",\"additionalProperties\":false,\"properties\":{}}";

static const char list_concepts_output[] =
    "{\"type\":\"object\",\"required\":[\"range\",\"rules\",\"intervals\"],\"properties\":{"
    "\"range\":{\"type\":\"array\",\"items\":{\"type\":\"integer\"},\"minItems\":2,\"maxItems\":2},"
    "\"rules\":{\"type\":\"array\",\"items\":{\"type\":\"object\",\"required\":[\"name\",\"size\",\"members\"],"
    "\"properties\":{\"name\":{\"type\":\"string\"},\"size\":{\"type\":\"integer\"},"
    "\"members\":{\"type\":\"array\",\"items\":{\"type\":\"integer\"}}}}},"
    "\"intervals\":{\"type\":\"object\",\"required\":[\"name\",\"count\",\"description\"],\"properties\":{"
    "\"name\":{\"type\":\"string\"},\"count\":{\"type\":\"integer\"},\"description\":{\"type\":\"string\"}}}}}";

static json_t *rule_json(const nsr_numbers *engine, uint32_t rule) {
  const nsr_bitset *set = nsr_numbers_rule_set(engine, rule);
  json_t *members = json_array();
  for (size_t y = nsr_bitset_next(set, 1); members && y < set->nbits;
       y = nsr_bitset_next(set, y + 1)) {
    if (json_array_append_new(members, json_integer((json_int_t)y)) != 0) {
      json_decref(members);
      members = NULL;
    }
  }
  return json_pack("{s:s, s:I, s:o}", "name", nsr_numbers_rule_name(rule), "size",
                   (json_int_t)json_array_size(members), "members", members);
}

static nsr_code list_concepts_call(void *p, const json_t *args, json_t **result,
                                   nsr_error *err) {
  (void)p;
  (void)args;
  nsr_numbers_config cfg;
  nsr_numbers_config_default(&cfg);
  nsr_numbers *engine;
  nsr_code rc = nsr_numbers_new(&cfg, &engine, err);
  if (rc != NSR_OK) return rc;
  json_t *rules = json_array();
  rc = rules ? NSR_OK : nsr_fail(err, NSR_ERR_NOMEM, "list_concepts: out of memory");
  for (uint32_t r = 0; rc == NSR_OK && r < NSR_NUMBERS_RULES; r++) {
    rc = nsr_json_append(rules, rule_json(engine, r), err);
  }
  nsr_numbers_free(engine);
  json_int_t n = cfg.max;
  json_t *out = json_pack("{s:[i,I], s:o, s:{s:s, s:I, s:s}}", "range", 1, n, "rules", rules,
                          "intervals", "name", "interval A..B", "count", n * (n + 1) / 2,
                          "description",
                          "every interval A..B with 1 <= A <= B <= range; size B-A+1; "
                          "prior weight Erlang(size; sigma) = size/sigma^2 * exp(-size/sigma)");
  if (rc != NSR_OK || out == NULL) {
    json_decref(out);
    return rc != NSR_OK ? rc : nsr_fail(err, NSR_ERR_NOMEM, "list_concepts: out of memory");
  }
  *result = out;
  return NSR_OK;
}

nsr_code tools_add_list_concepts(tools_registry *reg, nsr_error *err) {
  tool_def def = {"list_concepts", list_concepts_description, NULL, NULL, list_concepts_call,
                  NULL, NULL, true};
  return tools_register_literal(reg, &def, list_concepts_input, list_concepts_output, err);
}
