/* cmd_propose.c: `nsr propose`, the network's proposals for an example set,
 * each rescored exactly by the engine, next to the engine's own MAP; with
 * --space, a guide's proposals in a grammar space, rescored exactly when
 * the space is enumerated, else by their importance weights. */
#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "guide_cli.h"
#include "json.h"
#include "nsr_learn.h"
#include "nsr_report.h"

#define CMD "propose"
#define DEFAULT_TOP 10
#define DEFAULT_DRAWS 10000

static const char description[] =
    "Amortized inference: a trained network proposes hypotheses for the examples\n"
    "X (1 to 6 numbers in 1..100, spaces or commas), and the exact engine verifies\n"
    "them. For each of the network's top K: its network probability q(h | X), the\n"
    "exact posterior p(h | X), and p(h | X) restricted to the K proposals. The\n"
    "engine's own MAP is shown for comparison.\n"
    "\n"
    "--json prints one object: {\"examples\":[..], \"proposals\":[{\"name\",\n"
    "\"network\",\"posterior\",\"restricted\"},..], \"exact_map\":{\"name\",\n"
    "\"posterior\",\"network\"}, \"covered\": exact mass of the proposals}.\n"
    "\n"
    "With --space FILE, a guide (--guide, by default the space's shipped guide;\n"
    "none: the grammar's prior) draws --draws expression trees for X (1 to 6\n"
    "numbers in the space's range), pooled by extension. Each proposal shows its\n"
    "share q of the draws and its normalised importance weight, the estimate of\n"
    "p(h | X, grammar); when the space is enumerated, also the exact posterior of\n"
    "the grammar component, the posterior restricted to the distinct proposals,\n"
    "and the exact mass they cover. --json prints {\"examples\", \"space\",\n"
    "\"guide\": FILE or null, \"draws\", \"seed\", \"distinct\", \"ess\",\n"
    "\"rescored\": \"exact\"|\"importance\", \"covered\" (exact only),\n"
    "\"guide_seconds\", \"seconds\", \"proposals\":[{\"name\", \"size\", \"q\",\n"
    "\"weight\", \"posterior\" and \"restricted\" (exact only)}]}.\n";

/* The options of the --space mode. */
typedef struct space_cli {
  const char *space, *guide;
  uint64_t draws, seed, top;
  bool json;
} space_cli;

/* Appends the numbers of `text` (spaces or commas between them), each in
 * 1..max, to out[*n..NSR_PROPOSE_MAX_EXAMPLES). */
static nsr_code parse_example(const char *text, uint32_t max, uint32_t *out, size_t *n, nsr_error *err) {
  char buf[256];
  snprintf(buf, sizeof buf, "%s", text);
  for (char *save = NULL, *tok = strtok_r(buf, ", \t", &save); tok; tok = strtok_r(NULL, ", \t", &save)) {
    if (*n == NSR_PROPOSE_MAX_EXAMPLES) {
      return nsr_fail(err, NSR_ERR_INVALID, "more than %d examples (the network's limit)",
                      NSR_PROPOSE_MAX_EXAMPLES);
    }
    uint64_t v;
    if (cli_parse_u64(tok, "example", 1, max, &v, err) != NSR_OK) return err->code;
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

/* ---- --space: a guide's proposals in a grammar space ---------------------- */

static bool exact_rescoring(const nsr_space_proposals *r) {
  return !isnan(r->covered);
}

/* The answer to one --space query, for the printers. */
typedef struct space_answer {
  const space_cli *o;
  const uint32_t *x;
  size_t n;
  const guide_cli *guide;
  const nsr_space_proposals *r;
  double seconds; /* drawing and rescoring */
} space_answer;

static nsr_code print_space_json(const space_answer *a, nsr_error *err) {
  json_t *obj = nsr_space_proposals_json(a->x, a->n, a->r);
  if (obj == NULL || json_object_set_new(obj, "space", nsr_json_string(a->o->space)) != 0 ||
      json_object_set_new(obj, "guide", a->guide->path ? nsr_json_string(a->guide->path) : json_null()) != 0 ||
      json_object_set_new(obj, "seed", json_integer((json_int_t)a->o->seed)) != 0 ||
      json_object_set_new(obj, "guide_seconds", nsr_json_real(a->guide->seconds)) != 0 ||
      json_object_set_new(obj, "seconds", nsr_json_real(a->seconds)) != 0) {
    json_decref(obj);
    return nsr_fail(err, NSR_ERR_NOMEM, "JSON output: out of memory");
  }
  return cli_print_json(stdout, obj, err);
}

static void print_space_text(const space_answer *a) {
  const nsr_space_proposals *r = a->r;
  bool exact = exact_rescoring(r);
  printf("X = {");
  for (size_t i = 0; i < a->n; i++) printf(i ? ", %u" : "%u", a->x[i]);
  printf("}   space %s   guide %s\n", a->o->space, guide_cli_label(a->guide));
  printf("%llu draws (seed %llu) in %.3g s: %zu distinct hypotheses contain the examples, effective sample "
         "size %.4g; rescored %s\n\n",
         (unsigned long long)r->draws, (unsigned long long)a->o->seed, a->seconds, r->distinct, r->ess,
         exact ? "exactly" : "by importance weights (the space is not enumerated)");
  printf("%-4s %-36s %7s %9s %10s", "rank", "hypothesis", "size", "q", "weight");
  if (exact) printf(" %10s %10s", "posterior", "restricted");
  putchar('\n');
  for (size_t i = 0; i < r->n_top; i++) {
    const nsr_space_proposal *p = &r->top[i];
    printf("%-4zu %-36s %7u %9.4f %10.4g", i + 1, p->name, p->size, p->q, p->weight);
    if (exact) printf(" %10.4g %10.4f", p->posterior, p->restricted);
    putchar('\n');
  }
  if (exact) printf("\nthe proposals cover %.4f of the exact posterior mass (grammar component)\n", r->covered);
}

static nsr_code run_space(const space_cli *o, char **args, size_t n_args, nsr_error *err) {
  nsr_numbers_config cfg;
  nsr_numbers_config_default(&cfg);
  nsr_numbers_model m;
  uint32_t x[NSR_PROPOSE_MAX_EXAMPLES];
  size_t n = 0;
  nsr_code rc = nsr_numbers_model_open(&m, &cfg, o->space, NULL, NSR_NUMBERS_MODEL_SPACE, err);
  for (size_t i = 0; rc == NSR_OK && i < n_args; i++) rc = parse_example(args[i], nsr_space_max(m.space), x, &n, err);
  if (rc == NSR_ERR_RANGE) err->code = rc = NSR_ERR_INVALID; /* a bad example is a usage error */
  guide_cli guide = {0};
  if (rc == NSR_OK) rc = guide_cli_open(&guide, o->guide, o->space, m.space, x, n, true, err);
  nsr_space_proposal *top = rc == NSR_OK ? nsr_calloc(o->top, sizeof *top) : NULL;
  if (rc == NSR_OK && top == NULL) rc = nsr_fail(err, NSR_ERR_NOMEM, "out of memory");
  nsr_space_proposals r = {.top = top};
  space_answer a = {.o = o, .x = x, .n = n, .guide = &guide, .r = &r};
  uint64_t start = nsr_now_ns();
  if (rc == NSR_OK) rc = nsr_space_propose(m.space, x, n, &guide.guide, o->draws, o->seed, o->top, &r, err);
  a.seconds = nsr_seconds_since(start);
  if (rc == NSR_OK && o->json) rc = print_space_json(&a, err);
  else if (rc == NSR_OK) print_space_text(&a);
  nsr_free(top);
  guide_cli_close(&guide);
  nsr_numbers_model_close(&m);
  return rc;
}

/* ---- the command ----------------------------------------------------------- */

int cmd_propose(int argc, char **argv) {
  const char *weights = cli_default_model();
  space_cli sp = {.draws = DEFAULT_DRAWS, .seed = 1, .top = DEFAULT_TOP};
  bool weights_given = false, guide_given = false, draws_given = false, seed_given = false;
  const cli_opt opts[] = {
      CLI_OPTION("--weights", CLI_STRING, &weights, "FILE", "the proposal model (made by `nsr train`)",
                 .default_text = "the shipped model", .env = CLI_ENV_WEIGHTS, .given = &weights_given),
      CLI_OPTION("--space", CLI_STRING, &sp.space, "FILE", "a grammar space: proposals from its guide instead",
                 .default_text = ""),
      CLI_OPTION("--guide", CLI_STRING, &sp.guide, "FILE", "with --space: the guide, or 'none' (the grammar's prior)",
                 .default_text = "the space's shipped guide, else none", .given = &guide_given),
      CLI_OPTION("--draws", CLI_U64, &sp.draws, "K", "with --space: trees drawn from the guide", .min = 1,
                 .max = (double)(UINT64_C(1) << 32), .given = &draws_given),
      CLI_OPTION("--seed", CLI_U64, &sp.seed, "S", "with --space: random seed", .given = &seed_given),
      CLI_OPTION("--top", CLI_U64, &sp.top, "K", "how many proposals", .min = 1,
                 .max = NSR_PROPOSE_MAX_TOP),
      CLI_FLAG_OPTION("--json", &sp.json, "print one JSON object"),
  };
  const cli_spec spec = {.name = CMD, .args = "X1 X2 ...", .description = description,
                         .opts = opts, .n_opts = sizeof opts / sizeof opts[0],
                         .min_args = 1, .max_args = NSR_PROPOSE_MAX_EXAMPLES,
                         .epilog = "Example: nsr propose 16 8 2 64 --top 5\n"
                                   "         nsr propose --space programs/spaces/large.json 7 49 21 35\n"};
  cli_args args;
  int status = cli_parse(&spec, argc, argv, &args);
  if (status != CLI_CONTINUE) return status;
  nsr_error err = {0};
  if (sp.space) {
    if (weights_given) return cli_usage_error(CMD, "--weights is the model of Tenenbaum's space: not with --space");
    status = run_space(&sp, args.args, args.n, &err) == NSR_OK ? CLI_EXIT_OK : cli_report(CMD, &err);
    return cli_finish(CMD, status);
  }
  if (guide_given || draws_given || seed_given) {
    return cli_usage_error(CMD, "--guide, --draws and --seed need --space");
  }
  uint32_t x[NSR_PROPOSE_MAX_EXAMPLES];
  size_t n = 0;
  for (size_t i = 0; i < args.n; i++) {
    if (parse_example(args.args[i], NSR_NUMBERS_DEFAULT_N, x, &n, &err) != NSR_OK) {
      return cli_usage_error(CMD, "%s", err.message);
    }
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
  if (nsr_propose(p, x, n, sp.top, &r, &err) != NSR_OK) {
    rc = cli_report(CMD, &err);
  } else if (sp.json) {
    rc = print_json(x, n, &r);
  } else {
    print_text(&r);
  }
  nsr_proposer_free(p);
  return cli_finish(CMD, rc);
}
