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
    "Extracts rules from a proposal model (the --weights file, else the shipped\n"
    "model) on the inputs it was trained on: K example sets (--sets) drawn like\n"
    "its training data from the held-out split with --seed, each with its count\n"
    "token. The domain 1..N is the model's own (from its config). A unit's value\n"
    "for a set is its mean over the set's tokens, as the network pools them.\n"
    "The rules go to the rule store (created if missing) in one transaction,\n"
    "replacing the model's earlier rules of the same methods.\n"
    "\n"
    "Methods:\n"
    "  alignment  each FFN unit, residual and pooled dimension: the library\n"
    "             concept (true of 2%..98% of the sets) and threshold that best explain\n"
    "             it (balanced accuracy), with its fidelity\n"
    "  probe      ridge linear probes per concept and layer, K-fold accuracy\n"
    "             and selectivity against a shuffled-label control task\n"
    "  cart       a depth-D CART tree over all activations predicting the\n"
    "             network's top hypothesis; PSyKE fidelity (agreement with the\n"
    "             network), accuracy (with the exact MAP), completeness\n"
    "A concept (the 34 rules, x mod k = r, x < t, digit sum, tens digit) holds\n"
    "for a set when every example is in it. Each is a Church predicate checked\n"
    "by the interpreter on the numbers 1..N and on the sets; every alignment and\n"
    "CART rule is written as a Church predicate that reads the network through\n"
    "(activation SITE UNIT i) for set i, and its metrics are counted on the\n"
    "interpreter's answers. Metrics are over the K sets: each rule stores\n"
    "sample_size = K and Wilson 95% intervals.\n"
    "\n"
    "With --space FILE the model is a guide of that space (nsr train --space;\n"
    "default: the space's shipped guide): the sets are drawn from the space's\n"
    "prior, N is the space's, CART predicts the guide's top production (or\n"
    "\"interval\"; accuracy: the most frequent production of the tree the set\n"
    "was drawn from), and the concepts add \"uses FAMILY\" for each rule family\n"
    "of the space and \"from an interval\", true of a set when its tree used it.\n"
    "\n"
    "--json prints one object: {\"model\":{\"path\",\"sha256\",\"id\",\"kind\" (proposal\n"
    "or guide), \"space\" (guides)}, \"domain\":[1,N],\n"
    "\"inputs\":{\"sets\",\"seed\",\"split\"}, \"layout\", \"concepts\", \"rules\":{\"alignment\",\n"
    "\"probe\",\"cart\"}, \"cart_tree\":{\"fidelity\",\"accuracy\",\"completeness\",\"rules\"}\n"
    "(null without cart), \"seconds\", \"db\"}.\n";

typedef struct extract_args {
  const char *weights, *db, *space;
  uint64_t sets;
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
      CLI_OPTION("--weights", CLI_STRING, &a->weights, "FILE",
                 "the proposal model, or with --space the guide, to extract from",
                 .default_text = "the shipped model; with --space, its shipped guide",
                 .env = CLI_ENV_WEIGHTS),
      CLI_OPTION("--space", CLI_STRING, &a->space, "FILE",
                 "read a guide of this space (a space or prior file)"),
      CLI_OPTION("--db", CLI_STRING, &a->db, "PATH", "the rule store", .env = CLI_ENV_DB),
      CLI_OPTION("--methods", CLI_STRING, &methods, "LIST",
                 "comma-separated: alignment, probe, cart", .default_text = "all three"),
      CLI_OPTION("--sets", CLI_U64, &a->sets, "K", "example sets to read the network on", .min = 10,
                 .max = NSR_EXTRACT_MAX_N),
      CLI_OPTION("--cart-depth", CLI_INT, &a->opts.cart_depth, "D", "depth of the CART tree",
                 .min = 1, .max = 32),
      CLI_OPTION("--folds", CLI_INT, &a->opts.probe_folds, "K", "cross-validation folds of the probes",
                 .min = 2, .max = 100),
      CLI_OPTION("--seed", CLI_U64, &a->opts.seed, "S", "seed of the sets, the folds and the control task"),
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

static void on_step(void *ctx, uint64_t done, uint64_t total) {
  (void)total;
  nsr_progress_update(ctx, done, NULL);
}

static uint64_t work_units(const nsr_activations *acts, const nsr_extract_opts *o) {
  uint64_t total = o->cart ? 1 : 0;
  for (int s = 0; s < acts->n_sites; s++) total += (o->alignment ? acts->sites[s].width : 0) + o->probe;
  return total;
}

static int print_summary(const extract_args *a, const char *sha, int64_t model_id,
                         const nsr_activations *acts, size_t concepts, const nsr_extraction *ex,
                         double seconds) {
  static const char *const layouts[] = {"space", "rules", "other", "productions"};
  if (a->json) {
    /* The paths through nsr_json_string: one that is not UTF-8 is mended,
     * not a lost report ("s" fails on it). */
    json_t *model = json_pack("{s:o,s:s,s:I,s:s}", "path", nsr_json_string(a->weights), "sha256",
                              sha, "id", (json_int_t)model_id, "kind", a->space ? "guide" : "proposal");
    if (a->space) json_object_set_new(model, "space", nsr_json_string(a->space));
    json_t *o = json_pack("{s:o,s:[i,I],s:{s:I,s:I,s:s},s:s,s:I,s:{s:I,s:I,s:I},s:o,s:o,s:o}",
                          "model", model,
                          "domain", 1, (json_int_t)acts->domain_max,
                          "inputs", "sets", (json_int_t)acts->max, "seed", (json_int_t)a->opts.seed,
                          "split", "heldout", "layout", layouts[acts->layout],
                          "concepts", (json_int_t)concepts, "rules", "alignment",
                          (json_int_t)ex->per_method[0], "probe", (json_int_t)ex->per_method[1],
                          "cart", (json_int_t)ex->per_method[2], "cart_tree",
                          a->opts.cart ? json_pack("{s:o,s:o,s:o,s:I}", "fidelity",
                                                   nsr_json_real(ex->tree_fidelity), "accuracy",
                                                   nsr_json_real(ex->tree_accuracy), "completeness",
                                                   nsr_json_real(ex->tree_completeness), "rules",
                                                   (json_int_t)ex->per_method[2])
                                       : json_null(),
                          "seconds", nsr_json_real(seconds), "db", nsr_json_string(a->db));
    nsr_error err;
    if (cli_print_json(stdout, o, &err) != NSR_OK) return cli_report(CMD, &err);
  } else {
    printf("model %s (sha256 %.16s…, id %lld), domain 1..%u, %zu concepts checked in Church\n",
           a->weights, sha, (long long)model_id, acts->domain_max, concepts);
    if (a->space) printf("guide of the space %s (%s)\n", a->space, layouts[acts->layout]);
    printf("inputs: %u held-out example sets (seed %llu), each with its count token\n", acts->max,
           (unsigned long long)a->opts.seed);
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

/* What one extraction holds, freed by run_free. */
typedef struct extract_run {
  nsr_nn_model *model;
  nsr_space *space;       /* a guide's space */
  nsr_guide_sets guided;  /* a guide's sets */
  nsr_heldout sets;       /* a proposal model's sets */
  nsr_activations acts;
  nsr_numbers *engine;
  nsr_concept_library numbers, lib; /* over 1..N, and read on the sets */
  nsr_lang *lang;
  nsr_extraction ex;
} extract_run;

static void run_free(extract_run *r) {
  nsr_extraction_free(&r->ex);
  nsr_lang_free(r->lang);
  nsr_concept_library_free(&r->lib);
  nsr_concept_library_free(&r->numbers);
  nsr_numbers_free(r->engine);
  nsr_activations_free(&r->acts);
  nsr_heldout_free(&r->sets);
  nsr_guide_sets_free(&r->guided);
  nsr_space_free(r->space);
  nsr_nn_free(r->model);
}

/* Loads the model: a proposal model, or with --space a guide checked
 * against its space; *n_max is its domain. A file that is not such a
 * model, or a guide of another space, is NSR_ERR_FORMAT (bad input). */
static nsr_code load_model(const extract_args *a, extract_run *r, uint32_t *n_max, nsr_error *err) {
  nsr_code rc = NSR_OK;
  if (a->space) {
    /* A guide is read on sets from the space's prior: the grammar alone. */
    rc = nsr_space_load(a->space, NSR_SPACE_GRAMMAR_ONLY, &r->space, err);
    nsr_guide *guide = NULL;
    if (rc == NSR_OK) rc = nsr_guide_load(a->weights, r->space, 1, &guide, err);
    nsr_guide_free(guide);
    if (rc != NSR_OK) return rc;
    *n_max = nsr_space_max(r->space);
  }
  rc = nsr_nn_load(a->weights, &r->model, err);
  if (rc == NSR_OK && !a->space) {
    rc = nsr_propose_check_config(nsr_nn_get_config(r->model), n_max, err);
  }
  if (rc != NSR_OK) nsr_error_prefix(err, "%s: ", a->weights);
  return rc;
}

/* Loads the model, draws the sets (like its training data, from the
 * held-out split), runs the network on them and builds the concept
 * library over 1..N and on the sets, every definition checked by the
 * interpreter. */
static nsr_code prepare(const extract_args *a, extract_run *r, nsr_error *err) {
  uint32_t n_max = 0;
  nsr_code rc = load_model(a, r, &n_max, err);
  if (rc == NSR_OK && r->space) {
    rc = nsr_guide_sets_make(r->space, (size_t)a->sets, a->opts.seed, &r->guided, err);
    if (rc == NSR_OK) rc = nsr_activations_capture_guide(r->model, r->space, &r->guided, &r->acts, err);
  } else if (rc == NSR_OK) {
    rc = nsr_heldout_make(n_max, (size_t)a->sets, a->opts.seed, &r->sets, err);
    if (rc == NSR_OK) rc = nsr_activations_capture_sets(r->model, &r->sets, &r->acts, err);
  }
  nsr_numbers_config ncfg;
  nsr_numbers_config_default(&ncfg);
  ncfg.max = n_max;
  if (rc == NSR_OK) rc = nsr_numbers_new(&ncfg, &r->engine, err);
  if (rc == NSR_OK) rc = nsr_concept_library_build(r->engine, &r->numbers, err);
  if (rc == NSR_OK) rc = nsr_concept_library_lift(&r->numbers, r->acts.sets, &r->lib, err);
  if (rc == NSR_OK && r->space) rc = nsr_concept_library_add_families(&r->lib, r->space, &r->guided, err);
  nsr_lang_config lcfg;
  nsr_lang_config_default(&lcfg);
  if (rc == NSR_OK) rc = nsr_lang_new(&lcfg, &r->lang, err);
  if (rc == NSR_OK) rc = nsr_extract_define_inputs(r->lang, &r->lib, err);
  if (rc == NSR_OK) rc = nsr_concept_library_verify(&r->numbers, r->lang, err);
  if (rc == NSR_OK) rc = nsr_concept_library_verify(&r->lib, r->lang, err);
  return rc;
}

/* The model row, the concept library over 1..N and the rules, in one
 * transaction of the store at a->db. */
static nsr_code store_all(const extract_args *a, const char *sha, extract_run *r,
                          int64_t *model_id, nsr_error *err) {
  char *config = nsr_nn_config_to_json(nsr_nn_get_config(r->model));
  if (config == NULL) return nsr_fail(err, NSR_ERR_NOMEM, "out of memory");
  nsr_store *store = NULL;
  nsr_code rc = nsr_store_open(a->db, &store, err);
  if (rc == NSR_OK) rc = store_library(store, &r->numbers, err);
  if (rc == NSR_OK) {
    rc = nsr_store_add_extraction(store, sha, a->weights, config, r->ex.rules, r->ex.samples,
                                  r->ex.n, model_id, err);
  }
  nsr_store_close(store);
  nsr_free(config);
  return rc;
}

int cmd_extract(int argc, char **argv) {
  extract_args a = {.db = CLI_DEFAULT_DB, .sets = 1000};
  nsr_extract_opts_default(&a.opts);
  int status = parse_args(argc, argv, &a);
  if (status != CLI_CONTINUE) return status;
  if (a.space && access(a.space, R_OK) != 0) {
    return cli_usage_error(CMD, "no readable space file '%s': %s", a.space, strerror(errno));
  }
  char guide_path[4096];
  if (a.weights == NULL && a.space == NULL) a.weights = cli_default_model();
  if (a.weights == NULL) {
    if (!nsr_guide_default_path(a.space, guide_path, sizeof guide_path)) {
      return cli_usage_error(CMD, "no shipped guide for '%s': give one with --weights", a.space);
    }
    a.weights = guide_path;
  }
  if (access(a.weights, R_OK) != 0) {
    return cli_usage_error(CMD, "no readable weights file '%s': %s", a.weights, strerror(errno));
  }
  /* A concept true of a handful of sets is singled out by some unit by
   * chance (as one number is on 1..N): alignment needs 2% of the sets. */
  a.opts.align_min_size = a.sets / 50 > 3 ? (uint32_t)(a.sets / 50) : 3;
  uint64_t t0 = nsr_now_ns();
  nsr_error err;
  char sha[NSR_SHA256_HEX];
  extract_run r = {0};
  int64_t model_id = 0;
  nsr_code rc = nsr_sha256_file(a.weights, sha, &err);
  if (rc == NSR_OK) rc = prepare(&a, &r, &err);
  if (rc == NSR_OK) {
    nsr_progress bar;
    nsr_progress_start(&bar, CMD, work_units(&r.acts, &a.opts));
    rc = nsr_extract(&r.acts, &r.lib, r.engine, &a.opts, on_step, &bar, &r.ex, &err);
    nsr_progress_finish(&bar, bar.total, NULL);
  }
  if (rc == NSR_OK) rc = store_all(&a, sha, &r, &model_id, &err);
  if (rc == NSR_OK) {
    status = print_summary(&a, sha, model_id, &r.acts, r.lib.n, &r.ex, nsr_seconds_since(t0));
  } else {
    status = cli_report(CMD, &err);
  }
  run_free(&r);
  return cli_finish(CMD, status);
}
