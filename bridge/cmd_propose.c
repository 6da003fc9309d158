/* cmd_propose.c: `nsr propose`, the network's proposals for an example set,
 * each rescored exactly by the engine, next to the engine's own MAP. */
#include <cblas.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "json.h"
#include "propose.h"

#define CMD "propose"
#define DEFAULT_TOP 10

static const char help_text[] =
    "Usage: nsr propose [OPTIONS] X1 X2 ...\n"
    "\n"
    "Amortized inference: a trained network proposes hypotheses for the examples\n"
    "X (1 to 6 numbers in 1..100, spaces or commas), and the exact engine verifies\n"
    "them. For each of the network's top K: its network probability q(h | X), the\n"
    "exact posterior p(h | X), and p(h | X) restricted to the K proposals. The\n"
    "engine's own MAP is shown for comparison.\n"
    "\n"
    "Options:\n"
    "  --weights FILE   the proposal model (default: " NSR_PROPOSE_MODEL_FILE "\n"
    "                   from the source tree's bridge/models/, else the installed\n"
    "                   share/nsr/; made by `nsr train`)\n"
    "  --top K          how many proposals, 1..64 (default 10)\n"
    "  --json           one JSON object: {\"examples\":[..], \"proposals\":[{\"name\",\n"
    "                   \"network\",\"posterior\",\"restricted\"},..], \"exact_map\":{\"name\",\n"
    "                   \"posterior\",\"network\"}, \"covered\": exact mass of the proposals}\n"
    "  -h, --help       show this help\n"
    "\n"
    "Exit status: 0 on success, 2 on bad arguments, input or model file, 1 otherwise.\n"
    "Example: nsr propose 16 8 2 64 --top 5\n";

/* The default model: the source tree's copy (a build directory), else the
 * installed one. Both paths are fixed by meson at configure time. */
static const char *default_weights(void) {
  if (access(NSR_PROPOSE_SOURCE_MODEL, R_OK) == 0) return NSR_PROPOSE_SOURCE_MODEL;
  return NSR_PROPOSE_INSTALLED_MODEL;
}

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
  json_t *root = nsr_proposals_json(x, n, r);
  char *text = root ? nsr_json_dump(root) : NULL;
  json_decref(root);
  int status = text ? CLI_EXIT_OK : CLI_EXIT_FAILURE;
  if (text) puts(text);
  nsr_free(text);
  return status;
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
  const char *weights = NULL;
  size_t top = DEFAULT_TOP, n = 0;
  bool json = false;
  uint32_t x[NSR_PROPOSE_MAX_EXAMPLES];
  nsr_error err = {0};
  for (int i = 1; i < argc; i++) {
    const char *v;
    if (cli_is_help(argv[i])) {
      fputs(help_text, stdout);
      return CLI_EXIT_OK;
    } else if (strcmp(argv[i], "--json") == 0) {
      json = true;
    } else if (cli_option(argc, argv, &i, "--weights", &v)) {
      if (v == NULL || *v == '\0') return cli_usage_error(CMD, "--weights needs a file");
      weights = v;
    } else if (cli_option(argc, argv, &i, "--top", &v)) {
      uint64_t k;
      if (v == NULL) return cli_usage_error(CMD, "--top needs a value");
      if (cli_parse_u64(v, "--top", 1, NSR_PROPOSE_MAX_TOP, &k, &err) != NSR_OK) return cli_usage_error(CMD, "%s", err.message);
      top = (size_t)k;
    } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
      return cli_usage_error(CMD, "unknown option '%s'", argv[i]);
    } else if (parse_example(argv[i], x, &n, &err) != NSR_OK) {
      return cli_usage_error(CMD, "%s", err.message);
    }
  }
  if (n == 0) return cli_usage_error(CMD, "no examples");
  /* One query is a few tiny matrix products: a second BLAS thread only adds
   * hand-offs. */
  openblas_set_num_threads(1);
  /* One query, so no encoder pool either: starting one (threads, their
   * OpenBLAS instances) costs milliseconds, the query tens of microseconds. */
  nsr_proposer *p;
  if (nsr_proposer_load(weights ? weights : default_weights(), 1, &p, &err) != NSR_OK) return cli_report(CMD, &err);
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
  return rc;
}
