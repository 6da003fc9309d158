/* tools_propose.c: `propose_hypotheses` {examples, top?} → the shape of
 * `nsr propose --json`. */
#include "tools_propose.h"

#include "nsr_learn.h"
#include "tools_schema.h"

#define STR_(x) #x
#define STR(x) STR_(x)
#define PROPOSE_DEFAULT_TOP 10

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
    ",\"items\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":100},"
    "\"description\":\"the example numbers, in any order\"},"
    "\"top\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":" STR(NSR_PROPOSE_MAX_TOP)
    ",\"default\":" STR(PROPOSE_DEFAULT_TOP) ",\"description\":\"how many proposals\"}}}";

static const char propose_output[] =
    "{\"type\":\"object\",\"required\":[\"examples\",\"proposals\",\"exact_map\",\"covered\"],"
    "\"properties\":{"
    "\"examples\":{\"type\":\"array\",\"items\":{\"type\":\"integer\"}},"
    "\"proposals\":{\"type\":\"array\",\"items\":{\"type\":\"object\","
    "\"required\":[\"name\",\"network\",\"posterior\",\"restricted\"],\"properties\":{"
    "\"name\":{\"type\":\"string\"},\"network\":{\"type\":\"number\"},"
    "\"posterior\":{\"type\":\"number\"},\"restricted\":{\"type\":\"number\"}}}},"
    "\"exact_map\":{\"type\":\"object\",\"required\":[\"name\",\"posterior\"],\"properties\":{"
    "\"name\":{\"type\":\"string\"},\"network\":{\"type\":\"number\"},"
    "\"posterior\":{\"type\":\"number\"}}},"
    "\"covered\":{\"type\":\"number\"}}}";

/* The registry has checked args against propose_input already. */
static nsr_code propose_call(void *ctx, const json_t *args, json_t **result, nsr_error *err) {
  nsr_proposer *proposer = ctx;
  const json_t *list = json_object_get(args, "examples");
  const json_t *top = json_object_get(args, "top");
  uint32_t x[NSR_PROPOSE_MAX_EXAMPLES];
  size_t n = json_array_size(list);
  for (size_t i = 0; i < n; i++) x[i] = (uint32_t)json_integer_value(json_array_get(list, i));
  nsr_proposals proposals;
  nsr_code rc = nsr_propose(proposer, x, n, top ? (size_t)json_integer_value(top) : PROPOSE_DEFAULT_TOP,
                            &proposals, err);
  if (rc != NSR_OK) return rc;
  *result = nsr_proposals_json(x, n, &proposals);
  return *result ? NSR_OK : nsr_fail(err, NSR_ERR_NOMEM, "propose_hypotheses: out of memory");
}

static void proposer_free(void *ctx) { nsr_proposer_free(ctx); }

nsr_code tools_add_propose_hypotheses(tools_registry *reg, const char *weights_path,
                                      nsr_error *err) {
  nsr_proposer *proposer;
  nsr_code rc = nsr_proposer_load(weights_path, 0, &proposer, err);
  if (rc != NSR_OK) {
    /* A model file that cannot be read is the caller's bad argument. */
    if (err) err->code = NSR_ERR_INVALID;
    nsr_error_prefix(err, "--weights: ");
    return NSR_ERR_INVALID;
  }
  tool_def def = {"propose_hypotheses", propose_description, NULL, NULL, propose_call, proposer,
                  proposer_free, true};
  return tools_register_literal(reg, &def, propose_input, propose_output, err);
}
