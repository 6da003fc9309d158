/* nsr_extract.h: the public API of rule extraction and the concept library (bridge/extract/).
 * Sources and private headers live in that folder. */
#ifndef NSR_EXTRACT_PUBLIC_H
#define NSR_EXTRACT_PUBLIC_H

#include "nsr_core.h"
#include "nsr_symbolic.h"
#include "nsr_space.h"
#include "nsr_neural.h"
#include "nsr_lang.h"
#include "nsr_store.h"
#include "nsr_learn.h"
#include "arena.h"

/* ---- concept_library ----------------------------------------------------- */
/* concept_library: the predicates extraction explains network units with.
 *
 * Over the domain 1..N: every rule of the number game's hypothesis space,
 * plus x mod k = r (k = 2..12), x < t (t = 2..N), digit sum = s and tens
 * digit = d. Each concept has a Church definition (a predicate on one
 * number) and its extension as a bitset over [0, N+1). Concepts whose
 * extension is empty, the whole domain, or equal to an earlier concept's are
 * left out, so every extension appears once under its first name. */

#define NSR_CONCEPT_NAME_MAX 48
/* The largest domain extraction enumerates, and the largest sample it draws
 * from a bigger one. The costs grow with the inputs squared: the probes'
 * kernel (n x n doubles), and alignment (the x < t family has n - 1
 * concepts, each scanned over n inputs per unit). */
#define NSR_EXTRACT_MAX_N 4096u
#define NSR_CONCEPT_DEF_MAX 384

typedef struct nsr_concept {
  char name[NSR_CONCEPT_NAME_MAX];
  char definition[NSR_CONCEPT_DEF_MAX]; /* "(lambda (x) ...)" */
  nsr_bitset extension;                 /* member y means y is in the concept */
  uint32_t size;
} nsr_concept;

/* Example sets drawn from a space's prior, to read a guide on (borrowed by
 * libraries and activations that use them). */
typedef struct nsr_guide_sets {
  nsr_heldout sets;      /* the examples, as for proposal models */
  nsr_guide_item *items; /* [sets.n] the concepts they were drawn from */
} nsr_guide_sets;

/* Extensions are over the library's inputs, numbered 1..max: input i is
 * the number i (exact: the whole domain 1..N, max = N), or inputs[i - 1]
 * (sampled: max = the sample size, inputs sorted, domain_max = N). */
typedef struct nsr_concept_library {
  uint32_t max;           /* inputs */
  uint32_t domain_max;    /* N */
  const uint32_t *inputs; /* borrowed; NULL when the inputs are 1..N */
  /* Borrowed; non-NULL when the inputs are example sets
   * (nsr_concept_library_lift): input i is set i - 1, and a concept holds
   * for it when every example is in the number concept. */
  const nsr_heldout *sets;
  /* Borrowed, with `space`; non-NULL when the sets come from a space's
   * prior: (families i) names the rule families of set i's tree. */
  const nsr_guide_sets *guide;
  const nsr_space *space;
  size_t n;
  nsr_concept *items;
  /* Alignment names units with items[align_first .. n) only (0: all; a
   * guide's library: its families, so each unit gets its best family). */
  size_t align_first;
} nsr_concept_library;

/* Builds the library over 1..N of `engine` (N <= NSR_EXTRACT_MAX_N). Extensions are computed in C here and
 * checked against the Church definitions by nsr_concept_library_verify.
 * *lib is zeroed first; free it with nsr_concept_library_free. */
nsr_code nsr_concept_library_build(const nsr_numbers *engine, nsr_concept_library *lib,
                                   nsr_error *err);
/* The same over a sample of 1..N of `engine`: inputs[0 .. n) sorted and
 * distinct, n <= NSR_EXTRACT_MAX_N, borrowed until the library is freed.
 * The x < t family uses the thresholds t = input + 1 (every distinct
 * extension over the sample). */
nsr_code nsr_concept_library_build_sample(const nsr_numbers *engine, const uint32_t *inputs,
                                          uint32_t n, nsr_concept_library *lib, nsr_error *err);
/* The library of `numbers` (over 1..N, not sampled) read on example sets:
 * concept c holds for set X when X ⊆ c, written in Church as
 * (lambda (i) (all (map DEF (examples i)))) with the primitive of
 * nsr_extract_define_sets. Concepts that hold for no set, every set, or the
 * same sets as an earlier one are left out. `sets` (values in 1..N) is
 * borrowed until *out is freed with nsr_concept_library_free. */
nsr_code nsr_concept_library_lift(const nsr_concept_library *numbers, const nsr_heldout *sets,
                                  nsr_concept_library *out, nsr_error *err);
/* Adds to a library read on `guide`'s sets (lifted from numbers over the
 * space's 1..N) one concept per rule family of `space`, "uses FAMILY": the
 * tree set i was drawn from has a production of that family, in Church
 * (lambda (i) (if (member "FAMILY" (families i)) #t #f)); and "from an
 * interval" (the set was drawn from the interval component); one that
 * holds for no set, every set, or the same sets as an earlier family is
 * left out. Both are borrowed until the library is freed. Alignment then
 * uses these concepts only (align_first). */
nsr_code nsr_concept_library_add_families(nsr_concept_library *lib, const nsr_space *space,
                                          const nsr_guide_sets *guide, nsr_error *err);
/* NSR_ERR_RANGE unless there are 1..NSR_EXTRACT_MAX_N sets, each of
 * 1..NSR_PROPOSE_MAX_EXAMPLES examples in 1..max. */
nsr_code nsr_example_sets_check(const nsr_heldout *sets, uint32_t max, nsr_error *err);
/* Defines what a library read on sets needs in `lang`: (examples i), the
 * list of the examples of set i (1-based), and with a guide's sets
 * (families i), the family names of the tree set i was drawn from (empty
 * for an interval). The interpreter borrows lib's sets while it runs. */
nsr_code nsr_extract_define_inputs(nsr_lang *lang, const nsr_concept_library *lib, nsr_error *err);
void nsr_concept_library_free(nsr_concept_library *lib);

/* The extension of a Church predicate over n inputs, computed by the
 * interpreter `lang`: bit i of *out (nbits n + 1) is set when (pred x) is
 * #t for input i, x = inputs[i - 1] (or x = i when inputs is NULL).
 * NSR_ERR_INVALID when the predicate fails or answers a non-boolean. */
nsr_code nsr_church_extension(nsr_lang *lang, const char *predicate, const uint32_t *inputs,
                              uint32_t n, nsr_bitset *out, nsr_error *err);

/* Evaluates every definition with the interpreter over the inputs and
 * compares with the stored extension: NSR_ERR_INTERNAL naming the first
 * concept whose definition and extension differ. After success every
 * fidelity computed from the extensions is the Church definition's. */
nsr_code nsr_concept_library_verify(const nsr_concept_library *lib, nsr_lang *lang,
                                    nsr_error *err);

/* ---- extract ------------------------------------------------------------- */
/* extract: rule extraction from a trained encoder (subsymbolic ->
 * symbolic), on the number game's finite domain.
 *
 * Inputs are the single numbers x = 1..N (token id x; N = vocab - 1 unless
 * asked otherwise), which is small enough to enumerate, so every metric
 * below is computed over the whole domain and is exact. Three methods:
 *   alignment  for every FFN unit, residual dimension and pooled dimension,
 *              the library concept and threshold that best explain it;
 *   probe      ridge-regression linear probes per concept per layer,
 *              cross-validated, against a shuffled-label control task
 *              (Hewitt & Liang 2019, "Designing and interpreting probes with
 *              control tasks");
 *   cart       a CART tree over all activations predicting the network's own
 *              top class; each leaf is a rule with PSyKE's metrics (Sabbatini
 *              et al. 2021): fidelity, accuracy, completeness.
 * Attention heads are left out: on one-token inputs every head attends to
 * that token with weight 1, so they carry nothing to explain. */

/* Where in the network a unit lives. */
typedef enum nsr_site_kind {
  NSR_SITE_FFN,    /* FFN hidden unit after GELU, per layer */
  NSR_SITE_RESID,  /* residual stream after a block */
  NSR_SITE_POOLED, /* pooled final-LayerNorm output */
} nsr_site_kind;

/* One activation site over the domain: values[(x - 1) * width + unit]. */
typedef struct nsr_site {
  nsr_site_kind kind;
  int layer; /* block index; n_layers for the pooled output */
  int width;
  float *values;
} nsr_site;

/* How the output classes read as hypotheses. */
typedef enum nsr_class_layout {
  NSR_LAYOUT_SPACE, /* class k = hypothesis index k (nsr_numbers_hypothesis_at);
                       extra outputs after the space are ignored */
  NSR_LAYOUT_RULES, /* 34 classes: the rules */
  NSR_LAYOUT_OTHER, /* unknown: "class k", accuracy not measured */
  NSR_LAYOUT_PRODUCTIONS, /* a guide: class k < P = production k of the
                             space, class P = "interval"; the network's top
                             class (context c, production k) counts as k */
} nsr_class_layout;

/* The network's activations on its inputs (every single number 1..N, or a
 * uniform sample of them), and what it proposes (its top class) next to the
 * exact MAP hypothesis. Per-input arrays are indexed by input - 1. */
typedef struct nsr_activations {
  uint32_t max;        /* inputs: N when exact, the sample size when sampled,
                          the number of sets for example sets */
  uint32_t domain_max; /* N */
  uint32_t *inputs;    /* sampled: the numbers, sorted [max]; NULL when exact */
  const nsr_heldout *sets; /* example sets (borrowed): input i is set i - 1 */
  const nsr_space *space;  /* a guide's space (borrowed), else NULL */
  const nsr_guide_sets *guide; /* the concepts of a guide's sets (borrowed) */
  int n_sites;
  nsr_site *sites;
  nsr_class_layout layout;
  int n_classes;      /* outputs read as classes */
  int32_t *top;       /* [max]: the network's argmax class for the input */
  int32_t *exact;     /* [max]: the exact MAP as a class, -1 if not a class
                         (or the layout is "other"); for a guide, the largest
                         class of its training target (the most frequent
                         production of the set's tree, or "interval") */
} nsr_activations;

/* Draws a uniform sample of k distinct numbers from 1..n (k <= n) with
 * `seed` into out[0 .. k), sorted (Floyd's algorithm). NSR_ERR_NOMEM when
 * its n-bit scratch set cannot be allocated. */
nsr_code nsr_sample_domain(uint32_t n, uint32_t k, uint64_t seed, uint32_t *out, nsr_error *err);

/* The Wilson score interval at 95% (z = 1.959964) for k successes of n
 * trials: *lo, *hi in [0, 1]; [0, 1] when n is 0. */
void nsr_wilson95(uint64_t k, uint64_t n, double *lo, double *hi);

/* Runs `model` on every x in 1..max (max 0: vocab - 1) and fills *acts
 * (zeroed first; free with nsr_activations_free). NSR_ERR_INVALID when the
 * model cannot read the domain (vocab < 2 or max >= vocab). */
nsr_code nsr_activations_capture(nsr_nn_model *model, uint32_t max, nsr_activations *acts,
                                 nsr_error *err);
/* The same on a uniform sample of `sample` numbers of 1..domain_max, drawn
 * with nsr_sample_domain(seed) (sample <= NSR_EXTRACT_MAX_N <= domain_max,
 * domain_max < vocab; NSR_ERR_RANGE or NSR_ERR_INVALID otherwise). */
nsr_code nsr_activations_capture_sample(nsr_nn_model *model, uint32_t domain_max, uint32_t sample,
                                        uint64_t seed, nsr_activations *acts, nsr_error *err);
/* Runs a proposal model (nsr_learn.h's layout; its N read from its config)
 * on example sets as it was trained: each set's examples and its count
 * token. A site's value for a set is its mean over the set's tokens, as the
 * network pools them (the pooled site is the pooled output itself). top is
 * the network's argmax hypothesis, exact the exact MAP. `sets` (values in
 * 1..N, 1..NSR_PROPOSE_MAX_EXAMPLES each) is borrowed until *acts is freed.
 * NSR_ERR_FORMAT when the model is not a proposal model, NSR_ERR_RANGE for
 * a set outside its domain. */
nsr_code nsr_activations_capture_sets(nsr_nn_model *model, const nsr_heldout *sets,
                                      nsr_activations *acts, nsr_error *err);
/* Draws n held-out sets of `space`'s prior with `seed`, as a guide's
 * training data (nsr_guide_heldout_make). Free with nsr_guide_sets_free. */
nsr_code nsr_guide_sets_make(const nsr_space *space, size_t n, uint64_t seed, nsr_guide_sets *out,
                             nsr_error *err);
void nsr_guide_sets_free(nsr_guide_sets *s);
/* The largest class of a concept's guide target (nsr_guide_target; the
 * first on a tie): what the guide is trained to rank first. */
int32_t nsr_guide_truth_class(const nsr_space *space, const nsr_space_concept *c);
/* Runs a guide's network (nsr_guide_config's layout for `space`; its N the
 * space's) on the sets of `in`, as nsr_activations_capture_sets does for
 * proposal models; top is the network's argmax class (a production or
 * "interval"), exact nsr_guide_truth_class. space and in are borrowed.
 * NSR_ERR_FORMAT when the network does not fit the space. */
nsr_code nsr_activations_capture_guide(nsr_nn_model *model, const nsr_space *space,
                                       const nsr_guide_sets *in, nsr_activations *acts,
                                       nsr_error *err);
void nsr_activations_free(nsr_activations *acts);
/* "ffn.0", "resid.1", "pooled". */
void nsr_site_name(const nsr_site *site, char *buf, size_t len);
/* The name of class k under the layout ("powers of 2", "interval 2..9",
 * "class 17", a production's name, "interval"). */
void nsr_class_name(const nsr_activations *acts, const nsr_numbers *engine, int k, char *buf,
                    size_t len);

/* The extraction methods, in the order of nsr_extraction.per_method. */
enum { NSR_METHOD_ALIGNMENT, NSR_METHOD_PROBE, NSR_METHOD_CART, NSR_METHODS };
/* Their names, NULL-terminated: rules.method in the store, and the values
 * of `nsr extract --methods` and `nsr rules --method`. */
extern const char *const nsr_extract_methods[NSR_METHODS + 1];

typedef struct nsr_extract_opts {
  bool alignment, probe, cart;
  /* Alignment ignores concepts (and complements) smaller than this: on 1..N
   * some unit almost surely singles out one number at its extreme by
   * chance, while isolating a given 3-set happens once in C(N, 3). */
  uint32_t align_min_size;
  int probe_folds;     /* cross-validation folds (>= 2) */
  double probe_ridge;  /* ridge penalty relative to the mean squared norm */
  int cart_depth;      /* maximum depth of the tree (>= 1) */
  uint64_t seed;       /* folds and the control task's shuffle */
} nsr_extract_opts;

/* All three methods, min size 3, 5 folds, ridge 0.1, depth 4, seed 1. */
void nsr_extract_opts_default(nsr_extract_opts *opts);

/* The rules found, in the store's shape; strings live in `arena`. */
typedef struct nsr_extraction {
  nsr_arena arena;
  size_t n, cap;
  nsr_store_rule *rules;
  nsr_store_sample *samples; /* [n]: each rule's sampling columns (zero: exact) */
  size_t per_method[3]; /* alignment, probe, cart */
  /* The whole CART tree, PSyKE style: agreement with the network and with
   * the exact MAP over the domain, share covered, number of rules. */
  double tree_fidelity, tree_accuracy, tree_completeness;
} nsr_extraction;

void nsr_extraction_free(nsr_extraction *ex);

/* Runs the methods of `opts` on `acts`. `lib` must have been verified
 * against its Church definitions (nsr_concept_library_verify) so fidelities
 * are the definitions', and built over the same inputs. `engine` names
 * classes (its N equals acts->domain_max). Over a sample every rule also
 * carries the sample size and Wilson 95% intervals of its metrics.
 * `step` (may be NULL) is called after each unit of work with done/total. */
nsr_code nsr_extract(const nsr_activations *acts, const nsr_concept_library *lib,
                     const nsr_numbers *engine, const nsr_extract_opts *opts,
                     void (*step)(void *ctx, uint64_t done, uint64_t total), void *ctx,
                     nsr_extraction *ex, nsr_error *err);

/* ---- the methods, for tests and benchmarks ---------------------------- */

/* The best concept for one unit: the threshold and direction ("unit > t" or
 * "unit < t" fires) maximising balanced accuracy against the concept, over
 * every threshold between two distinct values. fidelity = share of the
 * domain where firing and membership agree. false for a constant unit. */
typedef struct nsr_alignment {
  size_t concept;
  double threshold;
  bool above; /* fires when value > threshold */
  double fidelity, balanced_accuracy, precision, recall;
  uint32_t fires; /* inputs on which it fires */
} nsr_alignment;
typedef struct nsr_ranked {
  float value;
  uint32_t x;
} nsr_ranked;
/* qsort order: by value, then by x, so ties break the same everywhere. */
int nsr_ranked_compare(const void *a, const void *b);
/* values[(x - 1) * stride] is the unit on x; `scratch` holds lib->max.
 * Only concepts with min_size..N-min_size members compete. */
bool nsr_align_unit(const float *values, size_t stride, const nsr_concept_library *lib,
                    uint32_t min_size, nsr_ranked *scratch, nsr_alignment *out);

/* A cross-validated linear probe for each concept on n = lib->max inputs
 * with `width` features (x[(i) * width + j] for input i + 1) and for the
 * same labels shuffled (the control task). acc[c], control[c] receive the
 * accuracies; arrays of lib->n. */
nsr_code nsr_probe_site(const float *x, int width, const nsr_concept_library *lib,
                        const nsr_extract_opts *opts, double *acc, double *control,
                        nsr_error *err);

/* A CART leaf as a rule over features. */
typedef struct nsr_cart_rule {
  int n_conds;
  int feature[32];
  float threshold[32];
  bool above[32]; /* condition is feature > threshold */
  int label;      /* majority class of the leaf */
  uint32_t covered, agree; /* inputs covered; of them, with label == `label` */
  uint32_t members_first; /* index in `order` of the leaf's first input */
} nsr_cart_rule;

/* Grows a Gini CART tree of depth <= max_depth on n samples of n_features
 * (x[i * n_features + f]) with labels y[i] in [0, n_labels). Leaves go to
 * rules (caller frees with nsr_free), and `order` (n entries, caller's)
 * lists the inputs leaf by leaf. */
nsr_code nsr_cart_grow(const float *x, int n_features, const int32_t *y, int n_labels, uint32_t n,
                       int max_depth, nsr_cart_rule **rules, size_t *n_rules, uint32_t *order,
                       nsr_error *err);

#endif
