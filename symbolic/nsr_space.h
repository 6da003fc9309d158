/* nsr_space.h: grammar-defined hypothesis spaces for the number game, human
 * generalization data, and fitting a space's prior and a response model to
 * people's judgments. Users include <nsr.h>, which includes this header.
 *
 * A space is described by a small probabilistic grammar (JSON, format in
 * programs/spaces/README.md): primitive sets (even, primes, multiples of
 * k, contains digit d, ...) and operations (union, intersection,
 * difference, set + k, set × k, set ^ k). Every expression up to a size
 * bound is enumerated; expressions
 * with the same extension (the set of numbers they denote) become one
 * hypothesis whose prior is the summed probability of its expressions and
 * whose name is its shortest description. Intervals [a, b] form a second
 * component: p(h) = λ·π(h)/Z_G for grammar hypotheses and
 * (1−λ)·Erlang(|h|; σ)/Z_I for intervals, as in Tenenbaum's mixture. */
#ifndef NSR_SPACE_H
#define NSR_SPACE_H

#include "nsr_core.h"
#include "nsr_symbolic.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Spaces are over 1..N with N at most this (intervals are explicit). */
#define NSR_SPACE_MAX_N 1000u
#define NSR_SPACE_NAME_MAX 256

/* The response model and the component mixture: the parameters fitted
 * besides the production weights. p(yes | y, X) = α·p(y ∈ C | X) + (1−α)·β. */
typedef struct nsr_space_params {
  double lambda; /* grammar mass, in (0, 1) */
  double sigma;  /* Erlang scale of interval sizes, > 0 */
  double alpha;  /* attention: in (0, 1] */
  double beta;   /* guessing rate when not attending: in (0, 1) */
  /* Sampling strength: p(X | h) = |h|^−(γ1 + γ (n − 1)) for h ⊇ X: the
   * first example counts γ1, each further one γ. γ1 = γ = 1 is the size
   * principle (strong sampling); smaller values temper it, as people do
   * when examples might not be random draws from the concept. > 0. */
  double gamma;
  double gamma1;
  /* Similarity in guessing (Tenenbaum 2000's "rules and similarity", here
   * in the response): when not attending to the concept, people say yes
   * more to targets like the examples, so β depends on the target:
   * logit β_y = logit β + b_near·exp(−d/τ) + b_digit·[y ends in the digit
   * of an example] + b_decade·[y in the decade of an example], d the
   * distance from y to the nearest example. All zero: a constant β. */
  double b_near, tau, b_digit, b_decade;
  /* Attention and guessing by the number of examples: logit offsets of α
   * and β for 2, 3 and 4 or more examples (one example: α, β). A single
   * example leaves people less sure they know the concept. */
  double a_n[3], b_n[3];
  /* The similarity hypothesis S (Tenenbaum 2000's "rules and similarity",
   * as one more hypothesis of the space): prior mass sim_mass (grammar and
   * intervals share the rest), graded membership m(y) = exp(−d/sim_tau), d
   * the distance from y to the nearest example, and the size principle with
   * the soft size M = Σ_y m(y): p(X | S) = M^−(γ1 + γ(n − 1)). It makes
   * graded generalization by magnitude part of p(y ∈ C | X) when no rule
   * explains the examples. sim_mass 0: no S (sim_tau unused). */
  double sim_mass, sim_tau;
} nsr_space_params;

/* Similarity features of target y to examples x[0..n) (n >= 1). */
typedef struct nsr_similarity {
  double dist;   /* to the nearest example */
  double near;   /* exp(−dist/τ) */
  double digit;  /* 1 when y ends in the last digit of an example */
  double decade; /* 1 when y lies in the decade (y/10) of an example */
} nsr_similarity;

void nsr_similarity_of(const nsr_space_params *p, const uint32_t *x, size_t n, uint32_t y,
                       nsr_similarity *f);
/* Index into a_n and b_n for n examples; −1 for one (or none). */
int nsr_space_n_index(size_t n);
/* α_n after n examples, β_y of a target with features f, and with them
 * the response p(yes | y, X) = α_n·g + (1 − α_n)·β_y for g = p(y ∈ C | X). */
double nsr_space_attention(const nsr_space_params *p, size_t n);
double nsr_space_guess(const nsr_space_params *p, size_t n, const nsr_similarity *f);
double nsr_space_response(const nsr_space_params *p, const uint32_t *x, size_t n, uint32_t y,
                          double g);

/* The exponent γ1 + γ (n − 1) of 1/|h| for n examples. */
double nsr_space_sampling_exponent(const nsr_space_params *p, size_t n);

typedef struct nsr_space nsr_space;

/* How a space is built (flags of the loaders below). */
enum {
  /* The enumeration keeps its derivation graph, so that production weights
   * can be fitted (nsr_fit_*). */
  NSR_SPACE_RECORD_EDGES = 1,
  /* The grammar only, as "enumerate": false makes it: for the samplers
   * (nsr_space_mh, nsr_space_sample_*), which need no enumeration; exact
   * inference on such a space is refused. Enumerating large.json takes
   * seconds, its sampler milliseconds. */
  NSR_SPACE_GRAMMAR_ONLY = 2,
};

/* Builds a space from its JSON description. `what` names the source in
 * errors; `flags` are NSR_SPACE_* above. Errors: NSR_ERR_PARSE or
 * NSR_ERR_INVALID for a bad description (naming the key), NSR_ERR_LIMIT
 * when more than the description's max_extensions would be made,
 * NSR_ERR_NOMEM. */
nsr_code nsr_space_from_json(const char *text, size_t len, const char *what,
                             unsigned flags, nsr_space **out,
                             nsr_error *err);
nsr_code nsr_space_load(const char *path, unsigned flags, nsr_space **out,
                        nsr_error *err);
void nsr_space_free(nsr_space *space);

uint32_t nsr_space_max(const nsr_space *space);
/* The largest expression size enumerated (the description's max_size). */
int nsr_space_max_size(const nsr_space *space);
/* Distinct non-empty grammar extensions (intervals not counted). */
size_t nsr_space_extensions(const nsr_space *space);
/* Expressions enumerated (each operand order counted; expressions denoting
 * the empty set included, though they form no hypothesis). */
double nsr_space_expressions(const nsr_space *space);
/* Seconds the enumeration took. */
double nsr_space_build_seconds(const nsr_space *space);
/* The description text it was built from (for prior files). */
const char *nsr_space_source(const nsr_space *space);
nsr_space_params nsr_space_get_params(const nsr_space *space);
/* Sets every parameter (checked: NSR_ERR_RANGE outside their ranges). */
nsr_code nsr_space_set_params(nsr_space *space, const nsr_space_params *p,
                              nsr_error *err);

/* Productions: primitives (each with its argument) and operations. */
size_t nsr_space_productions(const nsr_space *space);
/* "multiples of 3", "union", "plus 2", ... */
const char *nsr_space_production_name(const nsr_space *space, size_t i);
/* The family a production belongs to: "multiples", "union", ... */
const char *nsr_space_production_family(const nsr_space *space, size_t i);
bool nsr_space_production_is_primitive(const nsr_space *space, size_t i);
double nsr_space_production_log_weight(const nsr_space *space, size_t i);
/* Sets every production's log weight and recomputes the prior (needs no
 * derivation graph: the enumeration is redone when it was not recorded). */
nsr_code nsr_space_set_log_weights(nsr_space *space, const double *log_w,
                                   nsr_error *err);

/* The shortest description of a result hypothesis (intervals: "interval
 * a..b"; grammar hypotheses carry their extension index in `rule`). */
void nsr_space_hypothesis_name(const nsr_space *space, const nsr_hypothesis *h,
                               char *buf, size_t len);
/* Extension i as a bitset over [0, N+1) (bit y means y ∈ h). */
void nsr_space_extension_set(const nsr_space *space, size_t i,
                             nsr_bitset *out);

/* Exact inference over every grammar extension and every interval, as
 * nsr_numbers_infer does for Tenenbaum's space: fills `result` (zeroed before
 * first use; freed with nsr_numbers_result_free). In `top`, kind
 * NSR_HYP_RULE marks a grammar hypothesis and `rule` is its extension index;
 * consistent_rules counts consistent grammar extensions. */
nsr_code nsr_space_infer(nsr_space *space, const uint32_t *examples, size_t n,
                         size_t top_k, nsr_numbers_result *result,
                         nsr_error *err);

/* The same, restricted to the grammar component (no intervals): p(h | X)
 * ∝ π(h)·|h|^−(γ1 + γ(n − 1)) over the grammar extensions, which is what
 * nsr_space_mh samples; `prior` of a hypothesis is π(h)/Z_G and
 * log_evidence is log p(X | grammar). NSR_ERR_INVALID when no grammar
 * hypothesis contains the examples. */
nsr_code nsr_space_infer_grammar(nsr_space *space, const uint32_t *examples, size_t n,
                                 size_t top_k, nsr_numbers_result *result, nsr_error *err);

/* ---- Metropolis-Hastings ----------------------------------------------- */

/* One extension the chain visited after burn-in, named by the shortest
 * tree that reached it. */
typedef struct nsr_mh_visit {
  char name[NSR_SPACE_NAME_MAX];
  uint32_t size;    /* |h| */
  double posterior; /* share of the recorded samples spent in it */
} nsr_mh_visit;

/* ---- expression trees and the grammar's prior over them -----------------
 * A tree is a program in prefix order: production indices, each followed by
 * its operands' subtrees. The grammar's prior over trees is the one the
 * enumeration sums into π(h): p(t) ∝ Π_{k ∈ t} w_k over trees of at most
 * max_size symbols (at most NSR_SPACE_TREE_MAX) with no empty
 * sub-expression. (It is the PCFG with rule probabilities w_k / W,
 * W = Σ_k w_k, reweighted by W^|t|: with W > 1 it favours larger trees than
 * that PCFG does.) */

#define NSR_SPACE_TREE_MAX 32

typedef struct nsr_space_tree {
  uint16_t prog[NSR_SPACE_TREE_MAX];
  int len;
} nsr_space_tree;

typedef enum nsr_concept_kind { NSR_CONCEPT_GRAMMAR, NSR_CONCEPT_INTERVAL } nsr_concept_kind;

/* A concept drawn from a space's prior, with its extension. */
typedef struct nsr_space_concept {
  nsr_concept_kind kind;
  nsr_space_tree tree; /* NSR_CONCEPT_GRAMMAR: the expression drawn */
  uint32_t lo, hi;     /* NSR_CONCEPT_INTERVAL: [lo, hi] */
  uint32_t size;       /* |extension| ≥ 1 */
  uint64_t bits[(NSR_SPACE_MAX_N + 64) / 64]; /* bit y set ⇔ y ∈ C, y in 1..N */
} nsr_space_concept;

/* Draws a concept from the space's prior: with probability λ a tree from the
 * grammar's prior above (exactly: its size first, then the tree; trees with
 * an empty sub-expression are drawn again), else an interval by the interval prior (size s with
 * probability ∝ (N − s + 1)·Erlang(s; σ), start uniform). The similarity
 * hypothesis is never drawn. Works on spaces built with "enumerate": false.
 * Errors: NSR_ERR_INVALID when no valid tree is drawn in 10^6 tries. */
nsr_code nsr_space_sample_concept(const nsr_space *space, nsr_rng *rng, nsr_space_concept *out,
                                  nsr_error *err);

/* Draws n examples independently and uniformly from the concept's extension
 * into x[0..n) (the size principle's generative model). */
void nsr_space_sample_examples(const nsr_space *space, const nsr_space_concept *c, size_t n,
                               nsr_rng *rng, uint32_t *x);

/* Evaluates a tree into bits (bits over 0..N, words as in
 * nsr_space_concept.bits); returns |extension|, 0 when the tree or any
 * sub-expression is empty or the tree is malformed. */
uint32_t nsr_space_tree_extension(const nsr_space *space, const nsr_space_tree *t, uint64_t *bits);

/* The tree's description, as results name hypotheses ("odd and up to 50"). */
void nsr_space_tree_name(const nsr_space *space, const nsr_space_tree *t, char *buf, size_t len);

/* A 64-bit signature of what a guide depends on: the range, max_size and
 * the productions' names in order (not their weights, so a guide serves a
 * fitted prior of its space too). */
uint64_t nsr_space_signature(const nsr_space *space);

/* ---- guides: a grammar conditioned on the examples ------------------------
 * q(t | X) is a grammar over the space's productions with one row of log
 * weights per context: a node's context is the root or "operand j of
 * operation k" (parent→child weights, as DreamCoder's bigram model). A
 * node chooses among the productions whose arity still fits the symbols
 * left before max_size (its room), its row renormalised over them, so q
 * draws only trees of at most max_size symbols and sums to 1 over them;
 * log q of any tree is exact (space_guide.c derives it). symbolic/ knows
 * nothing of where log_q comes from: a recognition network in bridge/learn,
 * or a hand-made one in tests. */
typedef struct nsr_space_guide {
  /* [rows * nsr_space_productions], row-major: unnormalised, finite. */
  const double *log_q;
  /* 0 or 1: one row for every context; else nsr_space_guide_contexts. */
  size_t rows;
} nsr_space_guide;

/* The contexts of the space: 1 (the root) + Σ over operations of their
 * arity; operation k's operand j is context 1 + (Σ of the arities of the
 * operations before k) + j. */
size_t nsr_space_guide_contexts(const nsr_space *space);
/* The context of each node of a well-formed tree into ctx[0..t->len). */
void nsr_space_tree_contexts(const nsr_space *space, const nsr_space_tree *t, uint16_t *ctx);
/* log q(t | X) (−∞ for a tree of more than max_size symbols; NAN for a
 * malformed tree or a guide space_q_init refuses). */
double nsr_space_guide_log_q(const nsr_space *space, const nsr_space_guide *guide,
                             const nsr_space_tree *t);
/* log q(t | X) as the samplers draw from it: restricted, node by node, to
 * the productions that may meet what X needs of the node (space_guide.c);
 * still exact and summing to 1 over the trees of at most max_size symbols.
 * NAN also for no examples or one outside 1..N. */
double nsr_space_guide_log_q_given(const nsr_space *space, const nsr_space_guide *guide, const uint32_t *x,
                                   size_t n, const nsr_space_tree *t);

typedef enum nsr_mh_method {
  NSR_MH_CHAIN,     /* Metropolis-Hastings (default) */
  NSR_MH_IMPORTANCE /* self-normalised importance sampling with q as proposal */
} nsr_mh_method;

typedef struct nsr_mh_options {
  uint64_t samples; /* chain: recorded steps after burn-in; importance: draws */
  uint64_t burn_in; /* chain only */
  uint64_t seed;
  /* With top_k > 0, the top_k most visited extensions go to top[0..top_k)
   * (the caller's array), most visited first (importance: the largest
   * pooled weights). Zero: no visit counts. */
  size_t top_k;
  nsr_mh_visit *top;
  nsr_mh_method method;
  /* NULL: the grammar's prior is the only proposal (chain: subtree
   * regeneration; importance: draws from the prior, i.e. likelihood
   * weighting). With a guide, the chain makes an independence proposal
   * t' ~ q(· | X) with probability guide_mix at each step (acceptance
   * min(1, p(t')L(t')q(t) / (p(t)L(t)q(t')))) and a subtree regeneration
   * otherwise (half of them regrown from q at the node's context, half from
   * the grammar; space_mh.c derives the ratios); importance draws every
   * tree from q with weight
   * p(t)L(t)/q(t), pooled by extension. */
  const nsr_space_guide *guide;
  double guide_mix; /* in [0, 1]; 0 with a guide means 0.5 */
  /* Importance sampling with a guide: the trees whose expected draws
   * samples·q(t | X) reach `stratum` are summed exactly (weight p(t)L(t)
   * each) and the draws that fall on them set aside; the rest are weighed
   * as above. Stratified so, both sums of the ratio stay unbiased. 0 means
   * NSR_MH_STRATUM; INFINITY: no stratum (plain importance sampling). */
  double stratum;
} nsr_mh_options;

/* The default stratum (see nsr_mh_options): trees q expects to draw at least
 * this many times are summed instead of counted (1: every tree with
 * q(t) ≥ 1/samples; tests/bench/RESULTS.md, session 13, for why not 4). */
#define NSR_MH_STRATUM 1.0

typedef struct nsr_mh_report {
  uint64_t samples;
  double acceptance;         /* chain: accepted proposals / steps; importance: draws of positive weight outside the stratum / draws */
  double guide_acceptance;   /* accepted / made, of the independence proposals (chain with a guide) */
  double samples_per_second; /* steps or draws (burn-in included) per second */
  double ess;                /* importance: (Σw)² / Σw² over the draws outside the stratum (the stratum's weights in Σw only): the effective sample size; INFINITY when the stratum holds every weight */
  size_t n_top;              /* entries filled in opt->top */
  uint64_t distinct;         /* extensions visited after burn-in (with top_k > 0) */
} nsr_mh_report;

/* Estimates the grammar component's generalization p(y ∈ C | X, grammar)
 * into g[N] by Metropolis-Hastings over expression trees (subtree
 * regeneration from the grammar as proposal), without enumerating: the
 * target is the same as the enumerated grammar hypotheses' (trees up to
 * max_size symbols, at most 32, no empty sub-expression; likelihood
 * |h|^(−γn)). Intervals are not sampled. Only the productions and
 * parameters of `space` are used. Errors: NSR_ERR_INVALID when no tree
 * drawn from the grammar contains the examples, NSR_ERR_RANGE, NOMEM. */
nsr_code nsr_space_mh(const nsr_space *space, const uint32_t *examples, size_t n,
                      const nsr_mh_options *opt, double *g, nsr_mh_report *report,
                      nsr_error *err);

/* One distinct extension among a guide's proposals. */
typedef struct nsr_space_proposal {
  char name[NSR_SPACE_NAME_MAX]; /* the shortest tree drawn for it */
  uint32_t size;                 /* |h| */
  double q;          /* share of the draws from q that denote it (a stratum tree counted as its expected draws, draws·q(t)): an estimate of q(h | X) */
  double weight;     /* its pooled, normalised importance weight: the estimate of p(h | X, grammar) */
  double posterior;  /* exact p(h | X, grammar); NAN when the space is not enumerated */
  double restricted; /* the exact posterior renormalised over all distinct proposals; NAN likewise */
} nsr_space_proposal;

typedef struct nsr_space_proposals {
  nsr_space_proposal *top; /* [k] the caller's array; filled by decreasing weight */
  size_t n_top;
  uint64_t draws;    /* trees drawn from q */
  size_t distinct;   /* distinct extensions among the valid draws */
  double covered;    /* exact posterior mass of all distinct proposals; NAN when not enumerated */
  double ess;        /* effective sample size of the importance weights */
} nsr_space_proposals;

/* Draws `draws` trees from q(· | X) (seeded; q restricted by X's needs and
 * its likely trees summed exactly, as nsr_space_mh's importance sampling
 * with the default stratum), pools them by extension and
 * fills out->top[0..k) with the distinct extensions containing the examples,
 * largest importance weight first. When the space is enumerated, each is
 * rescored exactly against the grammar component (nsr_space_infer_grammar's
 * posterior) and out->covered is the exact mass of every distinct proposal.
 * Errors: NSR_ERR_INVALID (no examples, guide NULL, no draw contains the
 * examples), NSR_ERR_RANGE, NOMEM. */
nsr_code nsr_space_propose(nsr_space *space, const uint32_t *examples, size_t n,
                           const nsr_space_guide *guide, uint64_t draws, uint64_t seed, size_t k,
                           nsr_space_proposals *out, nsr_error *err);

/* ---- human data ----------------------------------------------------------
 * Two CSV layouts are read, recognised by their header (column order is
 * free): Tenenbaum's `set_id,examples,probe,p_yes` (mean ratings) and
 * Bigelow & Piantadosi's `split,set,n_examples,target,yes,no,n,p_yes`
 * (yes/no counts). Examples are space-separated. */

typedef struct nsr_human_cell {
  uint32_t target;
  double p_yes;
  uint32_t yes, no; /* 0, 0 when the file has no counts */
} nsr_human_cell;

typedef struct nsr_human_set {
  uint32_t *examples;
  size_t n_examples;
  char split[8];     /* "dev", "test", or "" without a split column */
  size_t first_cell; /* cells [first_cell, first_cell + n_cells) */
  size_t n_cells;
} nsr_human_set;

typedef struct nsr_human_data {
  nsr_human_set *sets;
  size_t n_sets;
  nsr_human_cell *cells; /* grouped by set, in file order within a set */
  size_t n_cells;
  bool has_counts;
  bool has_split;
} nsr_human_data;

/* Parses CSV text. Keeps only sets whose split is `split` ("dev", "test";
 * NULL or "all" keeps every set; a split with a file lacking a split column
 * is NSR_ERR_INVALID). Numbers must lie in 1..max. Errors name
 * `what`:line. */
nsr_code nsr_human_data_parse(const char *text, size_t len, const char *what,
                              const char *split, uint32_t max,
                              nsr_human_data *out, nsr_error *err);
nsr_code nsr_human_data_load(const char *path, const char *split, uint32_t max,
                             nsr_human_data *out, nsr_error *err);
void nsr_human_data_free(nsr_human_data *data);

/* How well predictions g (one per cell, p(y ∈ C | X)) match the data. */
typedef struct nsr_fit_metrics {
  double r;              /* Pearson r of p(yes) with p_yes over all cells */
  double r_concept;      /* Pearson r of g itself (= r when β is constant) */
  double log_lik;        /* Σ yes·log p + no·log(1−p), p = p(yes);
                            NAN without counts */
  double log_lik_per_response; /* log_lik / Σ n; NAN without counts */
  double rmse;           /* of p(yes) against p_yes */
  /* The highest r any model can expect against these noisy proportions:
   * sqrt(1 − E[binomial variance of p_yes] / var(p_yes)), with the
   * unbiased p(1−p)/(n−1) per cell. NAN without counts. */
  double ceiling_r;
  size_t n_cells;
} nsr_fit_metrics;

/* The sets of `in` whose index i has keep[i] true, with their cells, in
 * the same order, into *out (freed with nsr_human_data_free). */
nsr_code nsr_human_data_subset(const nsr_human_data *in, const bool *keep,
                               nsr_human_data *out, nsr_error *err);

/* Pearson's r of x and y (n >= 2); NAN when either has no variance. */
double nsr_pearson(const double *x, const double *y, size_t n);
/* Metrics of p(y ∈ C | X) = g[n_cells] under the response model of p
 * (nsr_space_response): r, LL and rmse of p(yes), r_concept of g. */
void nsr_fit_metrics_compute(const nsr_human_data *data, const double *g,
                             const nsr_space_params *p, nsr_fit_metrics *out);

/* ---- fitting ------------------------------------------------------------ */

typedef struct nsr_fit_options {
  double weight_sd;   /* sd of the Gaussian prior on each production's own
                         log-weight offset from the space file's value, on
                         top of its family's offset */
  double family_sd;   /* sd of the Gaussian prior on each family's shared
                         log-weight offset (production offsets: weight_sd) */
  double sigma_sd;    /* sd of the Gaussian prior on log σ, centred on the
                         space file's σ (intervals are weakly constrained by
                         rule-like data: without it σ drifts to flat) */
  int max_iterations; /* L-BFGS iterations */
  bool fit_weights;   /* fit production weights (else only λ, σ, α, β) */
  bool fit_gamma;     /* fit the sampling strengths γ1, γ (else keep them) */
  bool fit_similarity; /* fit b_near, τ, b_digit, b_decade (else keep them) */
  bool fit_by_n;      /* fit α's and β's offsets by number of examples */
  bool fit_sim_hypothesis; /* fit the similarity hypothesis' mass and τ
                              (starting from 0.05 and 10 when absent) */
  /* Several processes (`mpirun nsr numbers fit`): independent work (the
   * cross-validation folds) is split, this process doing part part_rank of
   * part_size, and reduce sums values[0..n) over every process in place.
   * Zero (part_size 0 or 1, reduce NULL): one process does everything. */
  int part_rank, part_size;
  void (*reduce)(void *ctx, double *values, size_t n);
  void *reduce_ctx;
} nsr_fit_options;

void nsr_fit_options_default(nsr_fit_options *opt);

typedef struct nsr_fit_report {
  double objective;  /* final negative log posterior */
  double log_lik;    /* final training log-likelihood */
  int iterations;
  double seconds;
} nsr_fit_report;

/* MAP fit of λ, σ, α, β and (with opt->fit_weights) every production's log
 * weight to `data` (which needs yes/no counts), by L-BFGS on unconstrained
 * parameters with analytic gradients. The space must have been built with
 * NSR_SPACE_RECORD_EDGES. Leaves the fitted values in the space. */
nsr_code nsr_fit_space(nsr_space *space, const nsr_human_data *data,
                       const nsr_fit_options *opt, nsr_fit_report *report,
                       nsr_error *err);

/* K-fold cross-validation inside `data` (set i is held out in fold i mod
 * K): for each fold, the space described by `space_json` is fitted to the
 * other folds, then predicts the held-out sets with its fitted α and β.
 * *out scores the held-out predictions of every cell together (r and
 * log-likelihood, the prediction being p(yes) itself). */
nsr_code nsr_fit_cross_validate(const char *space_json, const nsr_human_data *data,
                                const nsr_fit_options *opt, int folds,
                                nsr_fit_metrics *out, nsr_error *err);

/* ---- prior files -------------------------------------------------------
 * {"format":"nsr-prior/1", "space":{the description}, "params":{"lambda",
 *  "sigma","alpha","beta"}, "log_weights":{"production name":w, ...},
 *  "fit":{...}} — the space itself is recorded, so the file alone rebuilds
 * the fitted model. */

/* The prior file of the space's current parameters as JSON text (caller
 * frees with nsr_free). `fit_json` (may be NULL) is a JSON object recorded
 * under "fit" (data, split, scores). */
nsr_code nsr_space_prior_text(const nsr_space *space, const char *fit_json,
                              char **out, nsr_error *err);
/* Rebuilds the space a prior file records and applies its parameters. */
nsr_code nsr_space_load_prior(const char *path, unsigned flags,
                              nsr_space **out, nsr_error *err);

#ifdef __cplusplus
}
#endif

#endif /* NSR_SPACE_H */
