/* cmd_numbers_mh.c: `nsr numbers mh`: the grammar component of a space's
 * posterior by Metropolis-Hastings over expression trees (nsr_space_mh),
 * for spaces too large to enumerate, with an optional check against exact
 * inference where the space can be enumerated. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "nsr_report.h"
#include "commands.h"
#include "json.h"
#include "nsr_report.h"

#define CMD "numbers mh"
#define MAX_TOP 1000
#define MAX_EXAMPLES 1000

static const char description[] =
    "Samples the grammar component of the posterior, p(h | X, grammar), by\n"
    "Metropolis-Hastings over expression trees (subtree regeneration with the\n"
    "grammar as proposal), without enumerating the space: for spaces too large\n"
    "to enumerate (\"enumerate\": false, or a large max_size). Intervals are not\n"
    "sampled. Prints the most visited hypotheses, p(y in C | X, grammar) and the\n"
    "sampler's speed; --exact also runs exact inference over the enumerated\n"
    "grammar and prints the largest difference.\n"
    "The space is --space FILE, --prior-file FILE (a fitted prior, with its space),\n"
    "or by default the model of 'nsr numbers': Tenenbaum's 34 rules as a grammar.\n"
    "--json prints {\"examples\", \"range\", \"space\", \"component\": \"grammar\",\n"
    "\"hypotheses\":[{\"name\", \"posterior\", \"size\"}], \"generalization\", \"mh\":\n"
    "{\"samples\", \"burn_in\", \"seed\", \"acceptance\", \"samples_per_second\",\n"
    "\"seconds\", \"distinct\"}, \"exact\" (with --exact)}.\n";

typedef struct mh_cli {
  const char *space, *prior;
  nsr_mh_options opt;
  uint64_t top;
  bool exact, json, ascii;
  char **operands; /* the example arguments, parsed once N is known */
  size_t n_operands;
} mh_cli;

/* The examples of the operands (spaces or commas between numbers), each
 * in 1..max, into x[MAX_EXAMPLES]. */
static nsr_code parse_examples(const mh_cli *o, uint32_t max, uint32_t *x, size_t *n, nsr_error *err) {
  *n = 0;
  for (size_t i = 0; i < o->n_operands; i++) {
    char buf[4096];
    if (snprintf(buf, sizeof buf, "%s", o->operands[i]) >= (int)sizeof buf) {
      return nsr_fail(err, NSR_ERR_INVALID, "examples: argument too long");
    }
    for (char *save = NULL, *tok = strtok_r(buf, ", \t", &save); tok; tok = strtok_r(NULL, ", \t", &save)) {
      uint64_t v;
      nsr_code rc = cli_parse_u64(tok, "examples", 1, max, &v, err);
      if (rc != NSR_OK) return rc;
      if (*n == MAX_EXAMPLES) return nsr_fail(err, NSR_ERR_INVALID, "at most %d examples", MAX_EXAMPLES);
      x[(*n)++] = (uint32_t)v;
    }
  }
  if (*n == 0) return nsr_fail(err, NSR_ERR_INVALID, "no examples given");
  return NSR_OK;
}

/* The largest |a[y] − b[y]| over y. */
static double max_abs_diff(const double *a, const double *b, uint32_t n) {
  double d = 0.0;
  for (uint32_t y = 0; y < n; y++) d = fmax(d, fabs(a[y] - b[y]));
  return d;
}

typedef struct mh_answer {
  const uint32_t *x;
  size_t n;
  const double *g;       /* [N] */
  const nsr_mh_report *rep;
  double seconds;
  const nsr_numbers_result *exact; /* NULL without --exact */
  double diff;
} mh_answer;

static nsr_code print_mh_json(const mh_cli *o, const nsr_numbers_model *m, const mh_answer *a, nsr_error *err) {
  uint32_t max = nsr_space_max(m->space);
  json_t *obj = json_pack("{s:[], s:[i,i], s:s, s:s, s:[], s:[], s:{s:I, s:I, s:I, s:f, s:f, s:f, s:I}}",
                          "examples", "range", 1, (int)max, "space", m->label, "component", "grammar",
                          "hypotheses", "generalization", "mh", "samples", (json_int_t)o->opt.samples,
                          "burn_in", (json_int_t)o->opt.burn_in, "seed", (json_int_t)o->opt.seed,
                          "acceptance", a->rep->acceptance, "samples_per_second", a->rep->samples_per_second,
                          "seconds", a->seconds, "distinct", (json_int_t)a->rep->distinct);
  if (obj == NULL) return nsr_fail(err, NSR_ERR_NOMEM, "JSON output: out of memory");
  nsr_code rc = NSR_OK;
  for (size_t i = 0; rc == NSR_OK && i < a->n; i++) {
    rc = nsr_json_append(json_object_get(obj, "examples"), json_integer(a->x[i]), err);
  }
  for (size_t i = 0; rc == NSR_OK && i < a->rep->n_top; i++) {
    const nsr_mh_visit *h = &o->opt.top[i];
    rc = nsr_json_append(json_object_get(obj, "hypotheses"),
                         json_pack("{s:s, s:f, s:I}", "name", h->name, "posterior", h->posterior, "size",
                                   (json_int_t)h->size), err);
  }
  for (uint32_t y = 0; rc == NSR_OK && y < max; y++) {
    rc = nsr_json_append(json_object_get(obj, "generalization"), nsr_json_real(a->g[y]), err);
  }
  if (rc == NSR_OK && a->exact) {
    rc = nsr_json_set(obj, "exact", json_pack("{s:o, s:o, s:I}", "max_abs_diff", nsr_json_real(a->diff),
                                              "log_evidence", nsr_json_real(a->exact->log_evidence), "consistent",
                                              (json_int_t)a->exact->consistent_rules), err);
  }
  if (rc != NSR_OK) {
    json_decref(obj);
    return rc;
  }
  return cli_print_json(stdout, obj, err);
}

static void print_mh_text(const mh_cli *o, const nsr_numbers_model *m, const mh_answer *a,
                          const nsr_numbers_config *cfg) {
  printf("X = {");
  for (size_t i = 0; i < a->n; i++) printf(i ? ", %u" : "%u", a->x[i]);
  printf("}   range 1..%u   space %s (grammar component; intervals are not sampled)\n",
         nsr_space_max(m->space), m->label);
  printf("Metropolis-Hastings: %llu samples after %llu burn-in (seed %llu) in %.3f s: %.3g steps/s, "
         "acceptance %.3f",
         (unsigned long long)o->opt.samples, (unsigned long long)o->opt.burn_in, (unsigned long long)o->opt.seed,
         a->seconds, a->rep->samples_per_second, a->rep->acceptance);
  if (o->opt.top_k > 0) printf(", %llu distinct hypotheses", (unsigned long long)a->rep->distinct);
  putchar('\n');
  if (a->exact) {
    printf("exact (%u consistent grammar hypotheses, log p(X | grammar) = %.4f): max |difference| of "
           "p(y in C | X) = %.4g\n", a->exact->consistent_rules, a->exact->log_evidence, a->diff);
  }
  putchar('\n');
  if (a->rep->n_top > 0) {
    printf("%4s  %-40s %12s %8s\n", "rank", "hypothesis", "posterior", "size");
    for (size_t i = 0; i < a->rep->n_top; i++) {
      const nsr_mh_visit *h = &o->opt.top[i];
      printf("%4zu  %-40s %12.6g %8u\n", i + 1, h->name, h->posterior, h->size);
    }
    putchar('\n');
  }
  nsr_numbers_result chart = {.max = nsr_space_max(m->space), .generalization = (double *)a->g};
  numbers_query q = {.cfg = cfg, .examples = a->x, .n_examples = a->n, .result = &chart, .space = m->space};
  numbers_report_chart(stdout, &q, !o->ascii && numbers_terminal_utf8());
}

/* Opens the space, samples, optionally compares with exact inference, and
 * prints the answer. */
static nsr_code run_mh(mh_cli *o, nsr_error *err) {
  nsr_numbers_config cfg;
  nsr_numbers_config_default(&cfg);
  nsr_numbers_model m;
  uint32_t x[MAX_EXAMPLES];
  size_t n = 0;
  nsr_code rc = nsr_numbers_model_open(&m, &cfg, o->space, o->prior, NSR_NUMBERS_MODEL_SPACE, err);
  if (rc == NSR_OK) rc = parse_examples(o, nsr_space_max(m.space), x, &n, err);
  if (rc == NSR_ERR_RANGE) err->code = rc = NSR_ERR_INVALID; /* a bad example is a usage error */
  uint32_t max = rc == NSR_OK ? nsr_space_max(m.space) : 0;
  double *g = rc == NSR_OK ? nsr_mallocarray(max, sizeof *g) : NULL;
  o->opt.top = rc == NSR_OK && o->opt.top_k ? nsr_calloc(o->opt.top_k, sizeof *o->opt.top) : NULL;
  if (rc == NSR_OK && (g == NULL || (o->opt.top_k && o->opt.top == NULL))) {
    rc = nsr_fail(err, NSR_ERR_NOMEM, "out of memory");
  }
  nsr_mh_report rep = {0};
  nsr_numbers_result exact = {0};
  mh_answer a = {.x = x, .n = n, .g = g, .rep = &rep};
  uint64_t start = nsr_now_ns();
  if (rc == NSR_OK) rc = nsr_space_mh(m.space, x, n, &o->opt, g, &rep, err);
  a.seconds = nsr_seconds_since(start);
  if (rc == NSR_OK && o->exact) {
    rc = nsr_space_infer_grammar(m.space, x, n, 0, &exact, err);
    if (rc != NSR_OK) nsr_error_prefix(err, "--exact: ");
    a.exact = &exact;
    if (rc == NSR_OK) a.diff = max_abs_diff(g, exact.generalization, max);
  }
  if (rc == NSR_OK && o->json) rc = print_mh_json(o, &m, &a, err);
  else if (rc == NSR_OK) print_mh_text(o, &m, &a, &m.cfg);
  nsr_numbers_result_free(&exact);
  nsr_free(g);
  nsr_free(o->opt.top);
  nsr_numbers_model_close(&m);
  return rc;
}

int cmd_numbers_mh(int argc, char **argv) {
  mh_cli o = {.opt = {.samples = 100000, .burn_in = 10000, .seed = 1}, .top = 10};
  const cli_opt opts[] = {
      CLI_OPTION("--space", CLI_STRING, &o.space, "FILE", "the space (JSON; see programs/spaces/README.md)",
                 .default_text = "Tenenbaum's rules"),
      CLI_OPTION("--prior-file", CLI_STRING, &o.prior, "FILE", "a fitted prior (from 'nsr numbers fit'), with its space"),
      CLI_OPTION("--samples", CLI_U64, &o.opt.samples, "N", "recorded steps after burn-in", .min = 1,
                 .max = (double)(UINT64_C(1) << 40)),
      CLI_OPTION("--burn-in", CLI_U64, &o.opt.burn_in, "B", "steps discarded first", .min = 0,
                 .max = (double)(UINT64_C(1) << 40)),
      CLI_OPTION("--seed", CLI_U64, &o.opt.seed, "S", "random seed"),
      CLI_OPTION("--top", CLI_U64, &o.top, "K", "how many hypotheses to list (0: none, and no visit counts)",
                 .min = 0, .max = MAX_TOP),
      CLI_FLAG_OPTION("--exact", &o.exact, "compare with exact inference (the space must be enumerated)"),
      CLI_FLAG_OPTION("--json", &o.json, "print one JSON object"),
      CLI_FLAG_OPTION("--ascii", &o.ascii, "draw the text chart with ASCII characters only"),
  };
  const cli_spec spec = {.name = CMD, .args = "X1 X2 ...", .description = description, .opts = opts,
                         .n_opts = sizeof opts / sizeof opts[0], .max_args = SIZE_MAX,
                         .epilog = "Example: nsr numbers mh --space programs/spaces/lot.json --samples 200000 "
                                   "--exact 16 8 2 64\n"};
  cli_args args;
  int status = cli_parse(&spec, argc, argv, &args);
  if (status != CLI_CONTINUE) return status;
  if (o.ascii && o.json) return cli_usage_error(CMD, "--ascii draws the text chart: it has no effect with --json");
  if (args.n == 0) return cli_usage_error(CMD, "no examples given: try 'nsr numbers mh 16 8 2 64'");
  o.opt.top_k = (size_t)o.top;
  o.operands = args.args;
  o.n_operands = args.n;
  nsr_error err = {0};
  status = run_mh(&o, &err) == NSR_OK ? CLI_EXIT_OK : cli_report(CMD, &err);
  return cli_finish(CMD, status);
}
