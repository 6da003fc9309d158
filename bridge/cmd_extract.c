/* cmd_extract.c: `nsr extract`: rules from a trained encoder into the rule
 * store, every rule's concept checked by the Church interpreter over the
 * whole domain first. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "extract.h"
#include "json.h"
#include "progress.h"
#include "sha256.h"

#define DEFAULT_WEIGHTS "models/numbers.safetensors"

static const char extract_help[] =
    "Usage: nsr extract [--weights M] [--db PATH] [--methods alignment,probe,cart]\n"
    "                   [--max N] [--sample K] [--cart-depth D] [--folds K] [--seed S]\n"
    "                   [--json]\n"
    "\n"
    "Extracts rules from the encoder in M (default $NSR_WEIGHTS or\n"
    "" DEFAULT_WEIGHTS ") on every single number 1..N (token x is the number\n"
    "x; N defaults to vocab - 1) and stores them in the rule\n"
    "store (default $NSR_DB or ./nsr.db, created if missing) in one\n"
    "transaction, replacing the model's earlier rules of the same methods.\n"
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
    "(--sample, default and at most 4096, drawn with --seed): each rule then\n"
    "stores sample_size and Wilson 95% intervals (fidelity_lo/_hi, accuracy_lo/\n"
    "_hi, completeness_lo/_hi), and the concepts table is left as it is.\n";

typedef struct extract_args {
  const char *weights, *db;
  uint64_t max, sample;
  bool json;
  nsr_extract_opts opts;
} extract_args;

static nsr_code parse_methods(const char *text, nsr_extract_opts *o, nsr_error *err) {
  o->alignment = o->probe = o->cart = false;
  const char *p = text;
  while (*p) {
    size_t len = strcspn(p, ",");
    if (len == 9 && strncmp(p, "alignment", len) == 0) o->alignment = true;
    else if (len == 5 && strncmp(p, "probe", len) == 0) o->probe = true;
    else if (len == 4 && strncmp(p, "cart", len) == 0) o->cart = true;
    else return nsr_fail(err, NSR_ERR_INVALID, "unknown method '%.*s' in --methods (alignment, probe, cart)", (int)len, p);
    p += len + (p[len] == ',');
  }
  if (!o->alignment && !o->probe && !o->cart) return nsr_fail(err, NSR_ERR_INVALID, "--methods names no method");
  return NSR_OK;
}

/* 0 when parsed; otherwise the exit status (help printed or usage error). */
static int parse_args(int argc, char **argv, extract_args *a) {
  nsr_error err;
  for (int i = 1; i < argc; i++) {
    nsr_code rc = NSR_OK;
    const char *v;
    uint64_t u;
    if (cli_is_help(argv[i])) {
      fputs(extract_help, stdout);
      return -1;
    }
    if (strcmp(argv[i], "--json") == 0) {
      a->json = true;
      continue;
    }
    const char *names[] = {"--weights", "--db", "--methods", "--max", "--cart-depth", "--folds", "--seed",
                           "--sample"};
    size_t k = 0;
    while (k < sizeof names / sizeof names[0] && !cli_option(argc, argv, &i, names[k], &v)) k++;
    if (k == sizeof names / sizeof names[0]) return cli_usage_error("extract", "unknown argument '%s'", argv[i]);
    if (v == NULL) return cli_usage_error("extract", "option '%s' needs a value", names[k]);
    switch (k) {
    case 0: a->weights = v; break;
    case 1: a->db = v; break;
    case 2: rc = parse_methods(v, &a->opts, &err); break;
    case 3: rc = cli_parse_u64(v, "--max", 1, NSR_NUMBERS_MAX_N, &a->max, &err); break;
    case 4:
      rc = cli_parse_u64(v, "--cart-depth", 1, 32, &u, &err);
      a->opts.cart_depth = (int)u;
      break;
    case 5:
      rc = cli_parse_u64(v, "--folds", 2, 100, &u, &err);
      a->opts.probe_folds = (int)u;
      break;
    case 6: rc = cli_parse_u64(v, "--seed", 0, UINT64_MAX, &a->opts.seed, &err); break;
    default: rc = cli_parse_u64(v, "--sample", 1, NSR_EXTRACT_MAX_N, &a->sample, &err); break;
    }
    if (rc != NSR_OK) return cli_usage_error("extract", "%s", err.message);
  }
  return 0;
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
 * else samples --sample numbers (default NSR_EXTRACT_MAX_N) with --seed. */
static nsr_code capture(nsr_nn_model *model, const extract_args *a, nsr_activations *acts,
                        nsr_error *err) {
  int vocab = nsr_nn_get_config(model)->vocab;
  uint64_t n = a->max ? a->max : (uint64_t)(vocab > 1 ? vocab - 1 : 0);
  if (n <= NSR_EXTRACT_MAX_N) return nsr_activations_capture(model, (uint32_t)a->max, acts, err);
  uint32_t k = a->sample ? (uint32_t)a->sample : NSR_EXTRACT_MAX_N;
  return nsr_activations_capture_sample(model, (uint32_t)n, k, a->opts.seed, acts, err);
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
    json_t *o = json_pack("{s:{s:s,s:s,s:I},s:[i,I],s:o,s:s,s:I,s:{s:I,s:I,s:I},s:o,s:f,s:s}",
                          "model", "path", a->weights, "sha256", sha, "id", (json_int_t)model_id,
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
                          "seconds", seconds, "db", a->db);
    char *text = o ? nsr_json_dump(o) : NULL;
    json_decref(o);
    if (text == NULL) {
      fprintf(stderr, "nsr extract: out of memory\n");
      return CLI_EXIT_FAILURE;
    }
    puts(text);
    free(text);
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
  if (fflush(stdout) != 0 || ferror(stdout)) {
    fprintf(stderr, "nsr extract: writing the output failed\n");
    return CLI_EXIT_FAILURE;
  }
  return CLI_EXIT_OK;
}

int cmd_extract(int argc, char **argv) {
  extract_args a = {getenv("NSR_WEIGHTS") ? getenv("NSR_WEIGHTS") : DEFAULT_WEIGHTS,
                    getenv("NSR_DB") ? getenv("NSR_DB") : NSR_STORE_DEFAULT_PATH, 0, 0, false, {0}};
  nsr_extract_opts_default(&a.opts);
  int status = parse_args(argc, argv, &a);
  if (status != 0) return status < 0 ? CLI_EXIT_OK : status;
  if (access(a.weights, R_OK) != 0) {
    return cli_usage_error("extract", "no readable weights file '%s' (train one, or pass --weights M)",
                           a.weights);
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
    nsr_progress_start(&bar, "extract", work_units(&acts, &a.opts));
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
  else status = cli_report("extract", &err);
  nsr_store_close(store);
  nsr_free(config);
  nsr_extraction_free(&ex);
  nsr_lang_free(lang);
  nsr_concept_library_free(&lib);
  nsr_numbers_free(engine);
  nsr_activations_free(&acts);
  nsr_nn_free(model);
  return status;
}
