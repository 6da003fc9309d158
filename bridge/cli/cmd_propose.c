/* cmd_propose.c: `nsr propose`, the network's proposals for an example set,
 * each rescored exactly by the engine, next to the engine's own MAP. */
#include <cblas.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "json.h"
#include "nsr_learn.h"

#define CMD "propose"
#define DEFAULT_TOP 10

static const char description[] =
    "Amortized inference: a trained network proposes hypotheses for the examples\n"
    "X (1 to 6 numbers in 1..100, spaces or commas), and the exact engine verifies\n"
    "them. For each of the network's top K: its network probability q(h | X), the\n"
    "exact posterior p(h | X), and p(h | X) restricted to the K proposals. The\n"
    "engine's own MAP is shown for comparison.\n"
    "\n"
    "--json prints one object: {\"examples\":[..], \"proposals\":[{\"name\",\n"
    "\"network\",\"posterior\",\"restricted\"},..], \"exact_map\":{\"name\",\n"
    "\"posterior\",\"network\"}, \"covered\": exact mass of the proposals}.\n";

static nsr_code parse_example(const char *text, uint32_t *out, size_t *n, nsr_error *err) {
  char buf[256];
  snprintf(buf, sizeof buf, "%s", text);
  for (char *save = NULL, *tok = strtok_r(buf, ", \t", &save); tok; tok = strtok_r(NULL, ", \t", &save)) {
    if (*n == NSR_PROPOSE_MAX_EXAMPLES) {
      return nsr_fail(err, NSR_ERR_INVALID, "more than %d examples (the network's limit)",
                      NSR_PROPOSE_MAX_EXAMPLES);
    }
    uint64_t v;
    if (cli_parse_u64(tok, "example", 1, NSR_NUMBERS_DEFAULT_N, &v, err) != NSR_OK) return err->code;
    out[(*n)++] = (uint32_t)v;
  }
  return NSR_OK;
}

static int print_json(const uint32_t *x, size_t n, const nsr_proposals *r) {
  nsr_error err;
  if (cli_print_json(stdout, nsr_proposals_json(x, n, r), &err) != NSR_OK) return cli_report(CMD, &err);
  return CLI_EXIT_OK;
}

static void print_text(const nsr_proposals *r) {
  printf("%-4s %-28s %10s %10s %10s\n", "rank", "hypothesis", "network", "posterior", "restricted");
  for (size_t i = 0; i < r->n; i++) {
    const nsr_proposal *p = &r->items[i];
    printf("%-4zu %-28s %10.4f %10.4g %10.4f\n", i + 1, p->name, p->network, p->posterior, p->restricted);
  }
  printf("\nexact MAP: %s (posterior %.4g, network %.4f); proposals cover %.4f of the exact mass\n",
         r->exact_map.name, r->exact_map.posterior, r->exact_map.network, r->covered);
}

int cmd_propose(int argc, char **argv) {
  const char *weights = cli_default_model();
  uint64_t top = DEFAULT_TOP;
  bool json = false;
  const cli_opt opts[] = {
      CLI_OPTION("--weights", CLI_STRING, &weights, "FILE", "the proposal model (made by `nsr train`)",
                 .default_text = "the shipped model", .env = CLI_ENV_WEIGHTS),
      CLI_OPTION("--top", CLI_U64, &top, "K", "how many proposals", .min = 1,
                 .max = NSR_PROPOSE_MAX_TOP),
      CLI_FLAG_OPTION("--json", &json, "print one JSON object"),
  };
  const cli_spec spec = {.name = CMD, .args = "X1 X2 ...", .description = description,
                         .opts = opts, .n_opts = sizeof opts / sizeof opts[0],
                         .min_args = 1, .max_args = NSR_PROPOSE_MAX_EXAMPLES,
                         .epilog = "Example: nsr propose 16 8 2 64 --top 5\n"};
  cli_args args;
  int status = cli_parse(&spec, argc, argv, &args);
  if (status != CLI_CONTINUE) return status;
  uint32_t x[NSR_PROPOSE_MAX_EXAMPLES];
  size_t n = 0;
  nsr_error err = {0};
  for (size_t i = 0; i < args.n; i++) {
    if (parse_example(args.args[i], x, &n, &err) != NSR_OK) return cli_usage_error(CMD, "%s", err.message);
  }
  /* One query is a few tiny matrix products: a second BLAS thread only adds
   * hand-offs. */
  openblas_set_num_threads(1);
  /* One query, so no encoder pool either: starting one (threads, their
   * OpenBLAS instances) costs milliseconds, the query tens of microseconds. */
  nsr_proposer *p;
  if (nsr_proposer_load(weights, 1, &p, &err) != NSR_OK) return cli_report(CMD, &err);
  nsr_proposals r;
  int rc = CLI_EXIT_OK;
  if (nsr_propose(p, x, n, top, &r, &err) != NSR_OK) {
    rc = cli_report(CMD, &err);
  } else if (json) {
    rc = print_json(x, n, &r);
  } else {
    print_text(&r);
  }
  nsr_proposer_free(p);
  return cli_finish(CMD, rc);
}
