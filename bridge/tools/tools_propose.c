/* tools_propose.c: `propose_hypotheses` {examples, top?, space?} → the shape
 * of `nsr propose --json`, or with a shipped space, of `nsr propose --space
 * --json` (the space's shipped guide, its proposals rescored). */
#include "tools_propose.h"

#include "nsr_learn.h"
#include "tools_schema.h"
#include "tools_spaces.h"

#define STR_(x) #x
#define STR(x) STR_(x)
#define PROPOSE_DEFAULT_TOP 10
#define PROPOSE_SPACE_DRAWS 10000 /* as `nsr propose --space` */
#define PROPOSE_SPACE_SEED 1
#define SPACE_MAX_TEXT "1000" /* NSR_SPACE_MAX_N, written for the schema */
_Static_assert(NSR_SPACE_MAX_N == 1000, "SPACE_MAX_TEXT follows NSR_SPACE_MAX_N");

static const char propose_description[] =
    "A trained network proposes hypotheses for the number game (concepts over 1..100: the "
    "34 rules such as 'powers of 2' and every interval 'interval A..B') from 1 to "
    STR(NSR_PROPOSE_MAX_EXAMPLES) " example numbers; the exact engine then rescores each "
    "proposal. network = the network's probability, posterior = the exact p(h | X), "
    "restricted = the exact posterior renormalised over the proposals, covered = the exact "
    "mass the proposals hold; exact_map is the engine's own best hypothesis.";

static const char propose_input[] =
    "{\"type\":\"object\",\"additionalProperties\":false,\"required\":[\"examples\"],"
    "\"properties\":{"
    "\"examples\":{\"type\":\"array\",\"minItems\":1,\"maxItems\":" STR(NSR_PROPOSE_MAX_EXAMPLES)
    ",\"items\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":" SPACE_MAX_TEXT "},"
    "\"description\":\"the example numbers, in any order (1..100 without a space)\"},"
    "\"top\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":" STR(NSR_PROPOSE_MAX_TOP)
    ",\"default\":" STR(PROPOSE_DEFAULT_TOP) ",\"description\":\"how many proposals\"}}}";

static const char propose_output[] =
    "{\"type\":\"object\",\"required\":[\"examples\",\"proposals\"],"
    "\"properties\":{"
    "\"examples\":{\"type\":\"array\",\"items\":{\"type\":\"integer\"}},"
    "\"proposals\":{\"type\":\"array\",\"items\":{\"type\":\"object\","
    "\"required\":[\"name\"],\"properties\":{"
    "\"name\":{\"type\":\"string\"},\"network\":{\"type\":\"number\"},"
    "\"size\":{\"type\":\"integer\"},\"q\":{\"type\":\"number\"},\"weight\":{\"type\":\"number\"},"
    "\"posterior\":{\"type\":\"number\"},\"restricted\":{\"type\":\"number\"}}}},"
    "\"exact_map\":{\"type\":\"object\",\"required\":[\"name\",\"posterior\"],\"properties\":{"
    "\"name\":{\"type\":\"string\"},\"network\":{\"type\":\"number\"},"
    "\"posterior\":{\"type\":\"number\"}}},"
    "\"space\":{\"type\":\"string\"},"
    "\"draws\":{\"type\":\"integer\"},\"distinct\":{\"type\":\"integer\"},\"ess\":{\"type\":\"number\"},"
    "\"rescored\":{\"type\":\"string\"},"
    "\"covered\":{\"type\":\"number\"}}}";

static const char propose_space_description[] =
    "a shipped hypothesis space by name: its shipped guide (a recognition network) conditions the "
    "space's grammar on the examples, " STR(PROPOSE_SPACE_DRAWS) " expressions are drawn from it, "
    "and each distinct one is weighed by the exact model (q = share of the draws, weight = "
    "importance estimate of p(h | X); posterior, restricted and covered when the space is enumerable)";

/* The tool's state: the proposal model, the shipped spaces and the guide of
 * each space, loaded on first use and kept. */
typedef struct propose_tool {
  nsr_proposer *proposer;
  tools_spaces *spaces;
  nsr_guide *guides[TOOLS_SPACES_MAX];
} propose_tool;

/* The guide of space i, loaded on first use against its model. A space
 * without a shipped guide is the caller's bad input. */
static nsr_code space_guide(propose_tool *t, size_t i, const nsr_space *space, nsr_guide **out,
                            nsr_error *err) {
  if (t->guides[i] == NULL) {
    char path[4096];
    if (!nsr_guide_default_path(tools_spaces_path(t->spaces, i), path, sizeof path)) {
      return nsr_fail(err, NSR_ERR_INVALID, "space '%s' has no shipped guide", tools_spaces_file(t->spaces, i));
    }
    nsr_code rc = nsr_guide_load(path, space, 1, &t->guides[i], err);
    if (rc != NSR_OK) return rc;
  }
  *out = t->guides[i];
  return NSR_OK;
}

/* propose_hypotheses with "space": the guide's proposals, rescored. */
static nsr_code propose_in_space(propose_tool *t, const char *name, const uint32_t *x, size_t n, size_t top,
                                 json_t **result, nsr_error *err) {
  int i = tools_spaces_find(t->spaces, name);
  if (i < 0) return nsr_fail(err, NSR_ERR_INVALID, "space '%s' is not shipped", name);
  nsr_numbers_model *model = NULL;
  nsr_guide *guide = NULL;
  nsr_code rc = tools_spaces_model(t->spaces, (size_t)i, &model, err);
  if (rc == NSR_OK && model->space == NULL) rc = nsr_fail(err, NSR_ERR_INVALID, "'%s' is not a grammar space", name);
  if (rc == NSR_OK) rc = space_guide(t, (size_t)i, model->space, &guide, err);
  if (rc != NSR_OK) return rc;
  size_t rows = nsr_space_guide_contexts(model->space);
  double *log_q = nsr_mallocarray(rows * nsr_space_productions(model->space), sizeof *log_q);
  nsr_space_proposal *items = nsr_calloc(top, sizeof *items);
  rc = log_q && items ? nsr_guide_condition(guide, x, n, log_q, err)
                      : nsr_fail(err, NSR_ERR_NOMEM, "propose_hypotheses: out of memory");
  nsr_space_guide q = {.log_q = log_q, .rows = rows};
  nsr_space_proposals r = {.top = items};
  if (rc == NSR_OK) rc = nsr_space_propose(model->space, x, n, &q, PROPOSE_SPACE_DRAWS, PROPOSE_SPACE_SEED, top, &r, err);
  if (rc == NSR_OK) {
    *result = nsr_space_proposals_json(x, n, &r);
    if (*result == NULL || json_object_set_new(*result, "space", json_string(tools_spaces_file(t->spaces, (size_t)i))) != 0) {
      json_decref(*result);
      rc = nsr_fail(err, NSR_ERR_NOMEM, "propose_hypotheses: out of memory");
    }
  }
  nsr_free(items);
  nsr_free(log_q);
  return rc;
}

/* The registry has checked args against propose_input already. */
static nsr_code propose_call(void *ctx, const json_t *args, json_t **result, nsr_error *err) {
  propose_tool *t = ctx;
  const json_t *list = json_object_get(args, "examples");
  const json_t *top = json_object_get(args, "top");
  const json_t *space = json_object_get(args, "space");
  size_t k = top ? (size_t)json_integer_value(top) : PROPOSE_DEFAULT_TOP;
  uint32_t x[NSR_PROPOSE_MAX_EXAMPLES];
  size_t n = json_array_size(list);
  for (size_t i = 0; i < n; i++) x[i] = (uint32_t)json_integer_value(json_array_get(list, i));
  if (space) return propose_in_space(t, json_string_value(space), x, n, k, result, err);
  nsr_proposals proposals;
  nsr_code rc = nsr_propose(t->proposer, x, n, k, &proposals, err);
  if (rc != NSR_OK) return rc;
  *result = nsr_proposals_json(x, n, &proposals);
  return *result ? NSR_OK : nsr_fail(err, NSR_ERR_NOMEM, "propose_hypotheses: out of memory");
}

static void propose_tool_free(void *ctx) {
  propose_tool *t = ctx;
  if (t == NULL) return;
  nsr_proposer_free(t->proposer);
  for (size_t i = 0; i < TOOLS_SPACES_MAX; i++) nsr_guide_free(t->guides[i]);
  tools_spaces_release(t->spaces);
  nsr_free(t);
}

nsr_code tools_add_propose_hypotheses(tools_registry *reg, const char *weights_path, tools_spaces *spaces,
                                      nsr_error *err) {
  propose_tool *t = nsr_calloc(1, sizeof *t);
  if (t == NULL) return nsr_fail(err, NSR_ERR_NOMEM, "propose_hypotheses: out of memory");
  nsr_code rc = nsr_proposer_load(weights_path, 0, &t->proposer, err);
  if (rc != NSR_OK) {
    nsr_free(t);
    /* A model file that cannot be read is the caller's bad argument. */
    if (err) err->code = NSR_ERR_INVALID;
    nsr_error_prefix(err, "--weights: ");
    return NSR_ERR_INVALID;
  }
  t->spaces = tools_spaces_retain(spaces);
  tool_def def = {"propose_hypotheses", propose_description, NULL, NULL, propose_call, t, propose_tool_free, true};
  return tools_spaces_register(reg, spaces, &def, propose_input, propose_output, propose_space_description, err);
}
