/* cmd_extract.c: `nsr extract`: rules from a trained encoder into the rule
 * store, every rule's concept checked by the Church interpreter over the
 * whole domain first. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "nsr_extract.h"
#include "json.h"
#include "progress.h"
#include "sha256.h"

#define CMD "extract"

static const char description[] =
    "Extracts rules from the encoder in the --weights file on every single number\n"
    "1..N (token x is the number x; N defaults to vocab - 1) and stores them in\n"
    "the rule store (created if missing) in one transaction, replacing the\n"
    "model's earlier rules of the same methods.\n"
    "\n"
    "Methods:\n"
    "  alignment  each FFN unit, residual and pooled dimension: the library\n"
    "             concept (3..N-3 members) and threshold that best explain it\n"
    "             (balanced accuracy), with its exact fidelity\n"
    "  probe      ridge linear probes per concept and layer, K-fold accuracy\n"
    "             and selectivity against a shuffled-label control task\n"
    "  cart       a depth-D CART tree over all activations predicting the\n"
    "             network's top class; PSyKE fidelity, accuracy, completeness\n"
    "Concepts (the 34 rules, x mod k = r, x < t, digit sum, tens digit) are\n"
    "Church predicates, each evaluated by the interpreter over 1..N; every\n"
    "alignment and CART rule is written as a Church predicate that reads the\n"
    "network through (activation SITE UNIT x), and its stored metrics are\n"
    "counted on the interpreter's answers over the whole domain.\n"
    "Domains up to 1..4096 are enumerated, so the metrics are exact. Larger\n"
    "ones (up to 1..1000000) are measured on a uniform sample of K numbers\n"
    "(--sample, drawn with --seed): each rule then stores sample_size and\n"
    "Wilson 95% intervals (fidelity_lo/_hi, accuracy_lo/_hi, completeness_lo/\n"
    "_hi), and the concepts table is left as it is.\n"
    "\n"
    "--json prints one object: {\"model\":{\"path\",\"sha256\",\"id\"}, \"domain\":[1,N],\n"
    "\"sample\":{\"size\",\"seed\"} or null, \"layout\", \"concepts\", \"rules\":{\"alignment\",\n"
    "\"probe\",\"cart\"}, \"cart_tree\":{\"fidelity\",\"accuracy\",\"completeness\",\"rules\"}\n"
    "or null, \"seconds\", \"db\"}.\n";

typedef struct extract_args {
  const char *weights, *db;
  uint64_t max, sample;
  bool json;
  nsr_extract_opts opts;
} extract_args;

/* Sets the methods o runs from a comma-separated list of their names. */
static nsr_code parse_methods(const char *text, nsr_extract_opts *o, nsr_error *err) {
  bool *on[NSR_METHODS] = {&o->alignment, &o->probe, &o->cart};
  for (int m = 0; m < NSR_METHODS; m++) *on[m] = false;
  for (const char *p = text; *p;) {
    size_t len = strcspn(p, ",");
    int m = 0;
    while (m < NSR_METHODS && !(strlen(nsr_extract_methods[m]) == len &&
                                strncmp(p, nsr_extract_methods[m], len) == 0)) {
      m++;
    }
    if (m == NSR_METHODS) {
      return nsr_fail(err, NSR_ERR_INVALID,
                      "--methods: unknown method '%.*s' (alignment, probe, cart)", (int)len, p);
    }
    *on[m] = true;
    p += len + (p[len] == ',');
  }
  if (!o->alignment && !o->probe && !o->cart) {
    return nsr_fail(err, NSR_ERR_INVALID, "--methods names no method");
  }
  return NSR_OK;
}

/* Parses the command line into *a; CLI_CONTINUE or the exit status (help
 * printed, or a usage error). */
static int parse_args(int argc, char **argv, extract_args *a) {
  const char *methods = NULL;
  const cli_opt opts[] = {
      CLI_OPTION("--weights", CLI_STRING, &a->weights, "FILE", "the encoder to extract from",
                 .default_text = "the shipped model", .env = CLI_ENV_WEIGHTS),
      CLI_OPTION("--db", CLI_STRING, &a->db, "PATH", "the rule store", .env = CLI_ENV_DB),
      CLI_OPTION("--methods", CLI_STRING, &methods, "LIST",
                 "comma-separated: alignment, probe, cart", .default_text = "all three"),
      CLI_OPTION("--max", CLI_U64, &a->max, "N", "the domain 1..N", .min = 1,
                 .max = NSR_NUMBERS_MAX_N, .default_text = "vocab - 1"),
      CLI_OPTION("--sample", CLI_U64, &a->sample, "K",
                 "numbers sampled from a domain larger than 1..4096", .min = 1,
                 .max = NSR_EXTRACT_MAX_N),
      CLI_OPTION("--cart-depth", CLI_INT, &a->opts.cart_depth, "D", "depth of the CART tree",
                 .min = 1, .max = 32),
      CLI_OPTION("--folds", CLI_INT, &a->opts.probe_folds, "K", "cross-validation folds of the probes",
                 .min = 2, .max = 100),
      CLI_OPTION("--seed", CLI_U64, &a->opts.seed, "S", "seed of the folds, the control task and the sample"),
      CLI_FLAG_OPTION("--json", &a->json, "print one JSON object (see above)"),
  };
  const cli_spec spec = {.name = CMD, .description = description, .opts = opts,
                         .n_opts = sizeof opts / sizeof opts[0],
                         .epilog = "Example: nsr extract --weights m.safetensors --methods alignment,cart\n"};
  cli_args args;
  int status = cli_parse(&spec, argc, argv, &args);
  nsr_error err;
  if (status == CLI_CONTINUE && methods && parse_methods(methods, &a->opts, &err) != NSR_OK) {
    status = cli_usage_error(CMD, "%s", err.message);
  }
  return status;
}

/* The concept library goes to the concepts table, so every conclusion of
 * alignment and probe rules joins with its definition and extension. */
static nsr_code store_library(nsr_store *store, const nsr_concept_library *lib, nsr_error *err) {
  nsr_store_concept *items = nsr_mallocarray(lib->n, sizeof *items);
  if (items == NULL) return nsr_fail(err, NSR_ERR_NOMEM, "out of memory");
  for (size_t i = 0; i < lib->n; i++) {
    items[i] = (nsr_store_concept){lib->items[i].name, lib->items[i].definition,
                                   &lib->items[i].extension};
  }
  nsr_code rc = nsr_store_add_concepts(store, items, lib->n, lib->max, err);
  nsr_free(items);
  return rc;
}

/* Enumerates 1..N when N <= NSR_EXTRACT_MAX_N (N = --max, else vocab - 1),
 * else samples --sample numbers with --seed. */
static nsr_code capture(nsr_nn_model *model, const extract_args *a, nsr_activations *acts,
                        nsr_error *err) {
  int vocab = nsr_nn_get_config(model)->vocab;
  uint64_t n = a->max ? a->max : (uint64_t)(vocab > 1 ? vocab - 1 : 0);
  if (n <= NSR_EXTRACT_MAX_N) return nsr_activations_capture(model, (uint32_t)a->max, acts, err);
  return nsr_activations_capture_sample(model, (uint32_t)n, (uint32_t)a->sample, a->opts.seed, acts,
                                        err);
}

static void on_step(void *ctx, uint64_t done, uint64_t total) {
  (void)total;
  nsr_progress_update(ctx, done, NULL);
}

static uint64_t work_units(const nsr_activations *acts, const nsr_extract_opts *o) {
  uint64_t total = o->cart ? 1 : 0;
  for (int s = 0; s < acts->n_sites; s++) total += (o->alignment ? acts->sites[s].width : 0) + o->probe;
  return total;
}

static json_t *real_or_null(double v) { return isnan(v) ? json_null() : nsr_json_real(v); }

static int print_summary(const extract_args *a, const char *sha, int64_t model_id,
                         const nsr_activations *acts, size_t concepts, const nsr_extraction *ex,
                         double seconds) {
  static const char *const layouts[] = {"space", "rules", "other"};
  if (a->json) {
    json_t *sample = acts->inputs ? json_pack("{s:I,s:I}", "size", (json_int_t)acts->max, "seed",
                                              (json_int_t)a->opts.seed)
                                  : json_null();
    /* The paths through nsr_json_string: one that is not UTF-8 is mended,
     * not a lost report ("s" fails on it). */
    json_t *o = json_pack("{s:{s:o,s:s,s:I},s:[i,I],s:o,s:s,s:I,s:{s:I,s:I,s:I},s:o,s:f,s:o}",
                          "model", "path", nsr_json_string(a->weights), "sha256", sha, "id", (json_int_t)model_id,
                          "domain", 1, (json_int_t)acts->domain_max, "sample", sample,
                          "layout", layouts[acts->layout],
                          "concepts", (json_int_t)concepts, "rules", "alignment",
                          (json_int_t)ex->per_method[0], "probe", (json_int_t)ex->per_method[1],
                          "cart", (json_int_t)ex->per_method[2], "cart_tree",
                          a->opts.cart ? json_pack("{s:o,s:o,s:o,s:I}", "fidelity",
                                                   real_or_null(ex->tree_fidelity), "accuracy",
                                                   real_or_null(ex->tree_accuracy), "completeness",
                                                   real_or_null(ex->tree_completeness), "rules",
                                                   (json_int_t)ex->per_method[2])
                                       : json_null(),
                          "seconds", seconds, "db", nsr_json_string(a->db));
    nsr_error err;
    if (cli_print_json(stdout, o, &err) != NSR_OK) return cli_report(CMD, &err);
  } else {
    printf("model %s (sha256 %.16s…, id %lld), domain 1..%u, %zu concepts checked in Church\n",
           a->weights, sha, (long long)model_id, acts->domain_max, concepts);
    if (acts->inputs) {
      printf("sampled: %u numbers (seed %llu); rules carry sample_size and Wilson 95%% intervals\n",
             acts->max, (unsigned long long)a->opts.seed);
    }
    printf("rules: %zu alignment, %zu probe, %zu cart -> %s in %.2f s\n", ex->per_method[0],
           ex->per_method[1], ex->per_method[2], a->db, seconds);
    if (a->opts.cart) {
      printf("cart tree: fidelity %.4f, accuracy %.4f, completeness %.4f, %zu rules\n",
             ex->tree_fidelity, ex->tree_accuracy, ex->tree_completeness, ex->per_method[2]);
    }
    printf("list them with: nsr rules --db %s --weights %s --min-fidelity 0.9\n", a->db, a->weights);
  }
  return CLI_EXIT_OK;
}

int cmd_extract(int argc, char **argv) {
  extract_args a = {.weights = cli_default_model(), .db = CLI_DEFAULT_DB,
                    .sample = NSR_EXTRACT_MAX_N};
  nsr_extract_opts_default(&a.opts);
  int status = parse_args(argc, argv, &a);
  if (status != CLI_CONTINUE) return status;
  if (access(a.weights, R_OK) != 0) {
    return cli_usage_error(CMD, "no readable weights file '%s': %s", a.weights, strerror(errno));
  }
  uint64_t t0 = nsr_now_ns();
  nsr_error err;
  char sha[NSR_SHA256_HEX];
  nsr_nn_model *model = NULL;
  nsr_activations acts = {0};
  nsr_numbers *engine = NULL;
  nsr_concept_library lib = {0};
  nsr_lang *lang = NULL;
  nsr_extraction ex = {0};
  nsr_store *store = NULL;
  char *config = NULL;
  int64_t model_id = 0;
  nsr_numbers_config ncfg;
  nsr_numbers_config_default(&ncfg);
  nsr_lang_config lcfg;
  nsr_lang_config_default(&lcfg);
  nsr_code rc = nsr_sha256_file(a.weights, sha, &err);
  if (rc == NSR_OK) rc = nsr_nn_load(a.weights, &model, &err);
  if (rc == NSR_OK) rc = capture(model, &a, &acts, &err);
  if (rc == NSR_OK) {
    ncfg.max = acts.domain_max;
    rc = nsr_numbers_new(&ncfg, &engine, &err);
  }
  if (rc == NSR_OK) {
    rc = acts.inputs ? nsr_concept_library_build_sample(engine, acts.inputs, acts.max, &lib, &err)
                     : nsr_concept_library_build(engine, &lib, &err);
  }
  if (rc == NSR_OK) rc = nsr_lang_new(&lcfg, &lang, &err);
  if (rc == NSR_OK) rc = nsr_concept_library_verify(&lib, lang, &err);
  if (rc == NSR_OK) {
    nsr_progress bar;
    nsr_progress_start(&bar, CMD, work_units(&acts, &a.opts));
    rc = nsr_extract(&acts, &lib, engine, &a.opts, on_step, &bar, &ex, &err);
    nsr_progress_finish(&bar, bar.total, NULL);
  }
  if (rc == NSR_OK) {
    config = nsr_nn_config_to_json(nsr_nn_get_config(model));
    if (config == NULL) rc = nsr_fail(&err, NSR_ERR_NOMEM, "out of memory");
  }
  if (rc == NSR_OK) rc = nsr_store_open(a.db, &store, &err);
  /* Sampled extensions are over the sample, not 1..N: they stay out of
   * the concepts table. */
  if (rc == NSR_OK && acts.inputs == NULL) rc = store_library(store, &lib, &err);
  if (rc == NSR_OK) {
    rc = nsr_store_add_extraction(store, sha, a.weights, config, ex.rules, ex.samples, ex.n, &model_id, &err);
  }
  if (rc == NSR_OK) status = print_summary(&a, sha, model_id, &acts, lib.n, &ex, nsr_seconds_since(t0));
  else status = cli_report(CMD, &err);
  nsr_store_close(store);
  nsr_free(config);
  nsr_extraction_free(&ex);
  nsr_lang_free(lang);
  nsr_concept_library_free(&lib);
  nsr_numbers_free(engine);
  nsr_activations_free(&acts);
  nsr_nn_free(model);
  return cli_finish(CMD, status);
}
