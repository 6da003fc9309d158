/* cmd_numbers_mh.c: `nsr numbers mh`: the grammar component of a space's
 * posterior by Metropolis-Hastings over expression trees or by importance
 * sampling (nsr_space_mh), optionally guided by a recognition network, for
 * spaces too large to enumerate, with an optional check against exact
 * inference where the space can be enumerated. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "guide_cli.h"
#include "json.h"
#include "nsr_report.h"

#define CMD "numbers mh"
#define MAX_TOP 1000
#define MAX_EXAMPLES 1000

static const char description[] =
    "Samples the grammar component of the posterior, p(h | X, grammar), without\n"
    "enumerating the space: for spaces too large to enumerate (\"enumerate\":\n"
    "false, or a large max_size). --method mh (the default) runs\n"
    "Metropolis-Hastings over expression trees: subtree regeneration from the\n"
    "grammar, mixed with independence proposals from the guide's conditioned\n"
    "grammar q(t | X) when there is a guide (--guide-mix of the steps).\n"
    "--method importance draws trees from q (from the grammar without a guide)\n"
    "and weighs them by p(t) p(X | t) / q(t | X). Either way every sample is\n"
    "weighed by the exact model: a guide changes the speed, not the answer.\n"
    "Intervals are not sampled. Prints the most visited (or heaviest)\n"
    "hypotheses, p(y in C | X, grammar) and the sampler's speed; --exact also\n"
    "enumerates the space (the only option that does: seconds for large.json),\n"
    "runs exact inference over it and prints the largest difference.\n"
    "The space is --space FILE, --prior-file FILE (a fitted prior, with its space),\n"
    "or by default the model of 'nsr numbers': Tenenbaum's 34 rules as a grammar.\n"
    "The guide is --guide FILE (made by 'nsr train --space'), --guide none, or by\n"
    "default the shipped guide of the --space file when there is one.\n"
    "--json prints {\"examples\", \"range\", \"space\", \"component\": \"grammar\",\n"
    "\"method\": \"mh\"|\"importance\", \"guide\": FILE or null, \"hypotheses\":\n"
    "[{\"name\", \"posterior\", \"size\"}], \"generalization\", \"mh\": {\"samples\",\n"
    "\"burn_in\", \"seed\", \"acceptance\", \"samples_per_second\", \"seconds\",\n"
    "\"distinct\", with a guide \"guide_seconds\", for a guided chain \"guide_mix\"\n"
    "and \"guide_acceptance\", for importance \"ess\"}, \"exact\" (with --exact)}.\n";

static const char *const methods[] = {"mh", "importance", NULL};

typedef struct mh_cli {
  const char *space, *prior;
  const char *guide;  /* --guide; NULL: the space's shipped guide, if any */
  const char *method; /* "mh" or "importance" */
  bool mix_given;     /* --guide-mix was given */
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
  const guide_cli *guide;
  const double *g;       /* [N] */
  const nsr_mh_report *rep;
  double seconds;
  const nsr_numbers_result *exact; /* NULL without --exact */
  double diff;
} mh_answer;

static bool guided_chain(const mh_cli *o) {
  return o->opt.guide && o->opt.method == NSR_MH_CHAIN;
}

/* "method" and "guide" in obj, and the sampler's guide and importance
 * figures in obj.mh. */
static nsr_code add_method_json(const mh_cli *o, const mh_answer *a, json_t *obj, nsr_error *err) {
  json_t *mh = json_object_get(obj, "mh");
  nsr_code rc = nsr_json_set(obj, "method", json_string(o->method), err);
  if (rc == NSR_OK) {
    rc = nsr_json_set(obj, "guide", a->guide->path ? nsr_json_string(a->guide->path) : json_null(), err);
  }
  if (rc == NSR_OK && a->guide->path) rc = nsr_json_set(mh, "guide_seconds", nsr_json_real(a->guide->seconds), err);
  if (rc == NSR_OK && guided_chain(o)) rc = nsr_json_set(mh, "guide_mix", nsr_json_real(o->opt.guide_mix), err);
  if (rc == NSR_OK && guided_chain(o)) {
    rc = nsr_json_set(mh, "guide_acceptance", nsr_json_real(a->rep->guide_acceptance), err);
  }
  if (rc == NSR_OK && o->opt.method == NSR_MH_IMPORTANCE) rc = nsr_json_set(mh, "ess", nsr_json_real(a->rep->ess), err);
  return rc;
}

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
  if (rc == NSR_OK) rc = add_method_json(o, a, obj, err);
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
  printf("guide: %s", a->guide->path ? a->guide->path : "none");
  if (a->guide->path) printf(" (%s; network %.3g s)", a->guide->from_default ? "the space's shipped guide" : "--guide",
                             a->guide->seconds);
  putchar('\n');
  if (o->opt.method == NSR_MH_IMPORTANCE) {
    printf("importance sampling from %s: %llu draws (seed %llu) in %.3f s: %.3g draws/s, effective sample size %.4g",
           a->guide->path ? "the guide" : "the grammar's prior", (unsigned long long)o->opt.samples,
           (unsigned long long)o->opt.seed, a->seconds, a->rep->samples_per_second, a->rep->ess);
  } else {
    printf("Metropolis-Hastings: %llu samples after %llu burn-in (seed %llu) in %.3f s: %.3g steps/s, "
           "acceptance %.3f",
           (unsigned long long)o->opt.samples, (unsigned long long)o->opt.burn_in, (unsigned long long)o->opt.seed,
           a->seconds, a->rep->samples_per_second, a->rep->acceptance);
    if (guided_chain(o)) printf(", guide proposals %.2g of the steps, %.3f accepted", o->opt.guide_mix,
                                a->rep->guide_acceptance);
  }
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

/* Resolves and runs the guide for x[0..n) and points o->opt at it. */
static nsr_code open_guide(mh_cli *o, const nsr_numbers_model *m, const uint32_t *x, size_t n, guide_cli *g,
                           nsr_error *err) {
  nsr_code rc = guide_cli_open(g, o->guide, o->space, m->space, x, n, false, err);
  if (rc != NSR_OK) return rc;
  o->opt.guide = g->log_q ? &g->guide : NULL;
  if (o->mix_given && !guided_chain(o)) {
    return nsr_fail(err, NSR_ERR_INVALID, "--guide-mix needs --method mh and a guide (%s)",
                    o->opt.guide ? "--method importance draws every tree from the guide"
                                 : "this space has no shipped guide: give --guide FILE");
  }
  return NSR_OK;
}

/* Opens the space, samples, optionally compares with exact inference, and
 * prints the answer. */
static nsr_code run_mh(mh_cli *o, nsr_error *err) {
  nsr_numbers_config cfg;
  nsr_numbers_config_default(&cfg);
  nsr_numbers_model m;
  uint32_t x[MAX_EXAMPLES];
  size_t n = 0;
  /* The sampler needs the grammar only; enumerating it (seconds for
   * large.json, against milliseconds of sampling) is for --exact. */
  unsigned flags = NSR_NUMBERS_MODEL_SPACE | (o->exact ? 0 : NSR_NUMBERS_MODEL_GRAMMAR_ONLY);
  nsr_code rc = nsr_numbers_model_open(&m, &cfg, o->space, o->prior, flags, err);
  if (rc == NSR_OK) rc = parse_examples(o, nsr_space_max(m.space), x, &n, err);
  if (rc == NSR_ERR_RANGE) err->code = rc = NSR_ERR_INVALID; /* a bad example is a usage error */
  guide_cli guide = {0};
  if (rc == NSR_OK) rc = open_guide(o, &m, x, n, &guide, err);
  uint32_t max = rc == NSR_OK ? nsr_space_max(m.space) : 0;
  double *g = rc == NSR_OK ? nsr_mallocarray(max, sizeof *g) : NULL;
  o->opt.top = rc == NSR_OK && o->opt.top_k ? nsr_calloc(o->opt.top_k, sizeof *o->opt.top) : NULL;
  if (rc == NSR_OK && (g == NULL || (o->opt.top_k && o->opt.top == NULL))) {
    rc = nsr_fail(err, NSR_ERR_NOMEM, "out of memory");
  }
  nsr_mh_report rep = {0};
  nsr_numbers_result exact = {0};
  mh_answer a = {.x = x, .n = n, .guide = &guide, .g = g, .rep = &rep};
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
  o->opt.top = NULL;
  o->opt.guide = NULL; /* it pointed into `guide`, which dies here */
  guide_cli_close(&guide);
  nsr_numbers_model_close(&m);
  return rc;
}

int cmd_numbers_mh(int argc, char **argv) {
  mh_cli o = {.opt = {.samples = 100000, .burn_in = 10000, .seed = 1, .guide_mix = 0.5}, .top = 10,
              .method = methods[0]};
  const cli_opt opts[] = {
      CLI_OPTION("--space", CLI_STRING, &o.space, "FILE", "the space (JSON; see programs/spaces/README.md)",
                 .default_text = "Tenenbaum's rules"),
      CLI_OPTION("--prior-file", CLI_STRING, &o.prior, "FILE", "a fitted prior (from 'nsr numbers fit'), with its space"),
      CLI_OPTION("--guide", CLI_STRING, &o.guide, "FILE", "the guide (made by 'nsr train --space'), or 'none': unguided",
                 .default_text = "the space's shipped guide, else none"),
      CLI_OPTION("--method", CLI_CHOICE, &o.method, NULL, "Metropolis-Hastings or importance sampling",
                 .choices = methods),
      CLI_OPTION("--guide-mix", CLI_DOUBLE, &o.opt.guide_mix, "P",
                 "share of the chain's steps that are independence proposals from the guide", .min = 0.001,
                 .max = 1, .given = &o.mix_given),
      CLI_OPTION("--samples", CLI_U64, &o.opt.samples, "N", "recorded steps after burn-in (importance: draws)", .min = 1,
                 .max = (double)(UINT64_C(1) << 40)),
      CLI_OPTION("--burn-in", CLI_U64, &o.opt.burn_in, "B", "steps discarded first (chain only)", .min = 0,
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
                                   "--exact 16 8 2 64\n"
                                   "         nsr numbers mh --space programs/spaces/large.json --method importance "
                                   "--guide none 7 49 21 35\n"};
  cli_args args;
  int status = cli_parse(&spec, argc, argv, &args);
  if (status != CLI_CONTINUE) return status;
  if (o.ascii && o.json) return cli_usage_error(CMD, "--ascii draws the text chart: it has no effect with --json");
  if (args.n == 0) return cli_usage_error(CMD, "no examples given: try 'nsr numbers mh 16 8 2 64'");
  o.opt.top_k = (size_t)o.top;
  o.opt.method = strcmp(o.method, "importance") == 0 ? NSR_MH_IMPORTANCE : NSR_MH_CHAIN;
  o.operands = args.args;
  o.n_operands = args.n;
  nsr_error err = {0};
  status = run_mh(&o, &err) == NSR_OK ? CLI_EXIT_OK : cli_report(CMD, &err);
  return cli_finish(CMD, status);
}
