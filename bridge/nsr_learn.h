/* nsr_learn.h: the public API of training data, proposal networks, knowledge injection and experiments (bridge/learn/).
 * Sources and private headers live in that folder. */
#ifndef NSR_LEARN_PUBLIC_H
#define NSR_LEARN_PUBLIC_H

#include <jansson.h>

#include "nsr_core.h"
#include "nsr_symbolic.h"
#include "nsr_space.h"
#include "nsr_neural.h"
#include "sha256.h"

/* ---- numbers_dataset ----------------------------------------------------- */
/* numbers_dataset: training data for networks, made by the number game's
 * generative model and labelled by the exact engine.
 *
 * Each item: a concept h drawn from the prior, 1..6 examples drawn from h by
 * the size principle, and the exact p(h' | X) over the whole space (index
 * layout of nsr_numbers_space_size) and p(y ∈ C | X) for y = 1..N. Items
 * are streamed (nothing is held but the current item) and determined by the
 * seed. Every example set belongs to exactly one split, decided by a hash of
 * the set (as a multiset, order-free), so the held-out stream never meets a
 * set the training stream can produce. */

#define NSR_DATASET_MAX_EXAMPLES 6

typedef enum nsr_dataset_split { NSR_SPLIT_TRAIN, NSR_SPLIT_HELDOUT } nsr_dataset_split;

typedef struct nsr_dataset_config {
  nsr_numbers_config numbers; /* the space and prior to sample and label with */
  uint32_t min_examples;      /* 1 */
  uint32_t max_examples;      /* 6 (at most NSR_DATASET_MAX_EXAMPLES) */
  uint32_t heldout_per_mille; /* share of example sets kept for held-out: 100 */
  uint64_t seed;
  nsr_dataset_split split;
} nsr_dataset_config;

typedef struct nsr_dataset_item {
  nsr_hypothesis concept;     /* the concept the examples came from */
  uint32_t n_examples;
  uint32_t examples[NSR_DATASET_MAX_EXAMPLES];
  float *posterior;           /* [space size], owned by the dataset */
  float *generalization;      /* [N], owned by the dataset */
} nsr_dataset_item;

typedef struct nsr_dataset nsr_dataset;

void nsr_dataset_config_default(nsr_dataset_config *cfg);
/* Builds the engine and buffers; the caller frees with nsr_dataset_free. */
nsr_code nsr_dataset_new(const nsr_dataset_config *cfg, nsr_dataset **out,
                         nsr_error *err);
void nsr_dataset_free(nsr_dataset *ds);
/* The next item of the stream. item's arrays stay valid until the next call. */
nsr_code nsr_dataset_next(nsr_dataset *ds, nsr_dataset_item *item,
                          nsr_error *err);
/* Moves past the next item without labelling it (the cheap part of
 * nsr_dataset_next): processes sharing one stream each label only their
 * own items yet stay in step. */
void nsr_dataset_skip(nsr_dataset *ds);
/* Checks the shared stream settings (numbers and guide datasets): 1 <=
 * min_examples <= max_examples <= NSR_DATASET_MAX_EXAMPLES and
 * heldout_per_mille in 1..999; NSR_ERR_RANGE naming the bound otherwise. */
nsr_code nsr_dataset_check_counts(uint32_t min_examples, uint32_t max_examples,
                                  uint32_t heldout_per_mille, nsr_error *err);
/* Which split an example set belongs to (order and the dataset's seed do
 * not matter: the split is a property of the set alone). */
nsr_dataset_split nsr_dataset_split_of(const uint32_t *examples, size_t n,
                                       uint32_t heldout_per_mille);
/* The engine that labels the items (for names, sizes, the index layout). */
nsr_numbers *nsr_dataset_engine(nsr_dataset *ds);

/* ---- propose ------------------------------------------------------------- */
/* propose: amortized inference for the number game: "the network
 * proposes, the engine verifies".
 *
 * Output layout of a proposal model (an nsr_neural encoder):
 *   - input: one token per example, id = the number (1..N), then one count
 *     token, id = N + n for n examples (1..NSR_PROPOSE_MAX_EXAMPLES); id 0
 *     pads. No positions and mean pooling, so the network sees a multiset:
 *     it is invariant to the order of the examples, and the count token lets
 *     it tell {16} from {16, 16} (the size principle depends on n).
 *     vocab = N + 1 + NSR_PROPOSE_MAX_EXAMPLES, max_len = MAX_EXAMPLES + 1.
 *   - output: one softmax over the whole hypothesis space in the index
 *     layout of nsr_numbers_space_size (34 rules, then intervals [1,1],
 *     [1,2], .., [N,N]): 5084 classes for N = 100, trained towards p(h | X).
 *   - generalization is not a second head: it is the network's posterior
 *     marginalised, g(y) = Σ_h q(h) [y ∈ h], so it is always coherent with
 *     the proposals and never puts mass on a number no hypothesis with mass
 *     contains.
 * N is read from the model's shape; everything else (prior, names, exact
 * scores) comes from the engine built with the default number-game config. */

#define NSR_PROPOSE_MAX_EXAMPLES 6
#define NSR_PROPOSE_MAX_LEN (NSR_PROPOSE_MAX_EXAMPLES + 1)
/* The default model, relative to the source tree and to the install prefix. */
#define NSR_PROPOSE_MODEL_FILE "propose-n100.safetensors"

/* The encoder config of the layout above for numbers 1..n_max (classes and
 * vocab filled in; widths are the caller's). */
void nsr_propose_config(uint32_t n_max, int d_model, int n_layers,
                        nsr_nn_config *out);
/* Checks that `cfg` follows the layout and gives its N. NSR_ERR_FORMAT
 * naming the mismatch otherwise. */
nsr_code nsr_propose_check_config(const nsr_nn_config *cfg, uint32_t *n_max,
                                  nsr_error *err);
/* Writes the tokens of one example set (n in 1..MAX_EXAMPLES, values in
 * 1..n_max, checked by the caller) into tokens[0 .. MAX_LEN), padded, and
 * returns the real length. */
int32_t nsr_propose_tokens(uint32_t n_max, const uint32_t *examples, size_t n,
                           int32_t *tokens);

#define NSR_PROPOSE_MAX_TOP 64

typedef struct nsr_proposal {
  uint64_t index;                  /* in the space's index layout */
  char name[NSR_NUMBERS_NAME_MAX]; /* canonical, as `nsr numbers` prints */
  double network;                  /* the network's q(h | X) */
  double posterior;                /* the exact p(h | X) */
  double restricted;               /* p(h | X, h among the proposals) */
} nsr_proposal;

typedef struct nsr_proposals {
  size_t n;                 /* proposals, by network score, highest first */
  nsr_proposal items[NSR_PROPOSE_MAX_TOP];
  nsr_proposal exact_map;   /* the engine's own MAP (network = its q) */
  double covered;           /* exact posterior mass of the proposals */
} nsr_proposals;

typedef struct nsr_proposer nsr_proposer;

/* Loads a proposal model from a checkpoint and builds the engine that
 * rescores it; the network runs on n_threads as nsr_nn_set_threads says
 * (0 automatic; 1 for a process that makes one query, which a pool costs
 * more to start than it saves). Bad files and layouts give NSR_ERR_FORMAT
 * (or NSR_ERR_IO). The caller frees it with nsr_proposer_free. */
nsr_code nsr_proposer_load(const char *path, int n_threads, nsr_proposer **out,
                           nsr_error *err);
/* The same around a model in memory, which the proposer borrows (training
 * evaluates through this). */
nsr_code nsr_proposer_wrap(nsr_nn_model *model, nsr_proposer **out, nsr_error *err);
void nsr_proposer_free(nsr_proposer *p);
nsr_numbers *nsr_proposer_engine(nsr_proposer *p);
uint32_t nsr_proposer_max(const nsr_proposer *p);

/* The network's top_k (1..NSR_PROPOSE_MAX_TOP) hypotheses for examples X,
 * (about 100 µs for the default model with one OpenBLAS thread: see
 * tests/bench/bench_propose.c; the caller chooses the thread count),
 * each rescored exactly, and the exact MAP. Errors: NSR_ERR_INVALID for no
 * examples or more than MAX_EXAMPLES, NSR_ERR_RANGE for an example outside
 * 1..N. No allocation after the first call. */
nsr_code nsr_propose(nsr_proposer *p, const uint32_t *examples, size_t n,
                     size_t top_k, nsr_proposals *out, nsr_error *err);

/* The network's whole distribution q over the space for X (after
 * nsr_propose or nsr_propose_forward); valid until the next call. */
const float *nsr_proposer_probs(const nsr_proposer *p);
/* Runs only the network for X, filling nsr_proposer_probs. */
nsr_code nsr_propose_forward(nsr_proposer *p, const uint32_t *examples,
                             size_t n, nsr_error *err);
/* Writes the indices of the k largest entries of q[0 .. count), largest
 * first, into idx and returns how many (min(k, count)). */
size_t nsr_propose_top_k(const float *q, size_t count, size_t k, uint64_t *idx);
/* g(y) = Σ_h q(h) [y ∈ h] for y = 1..N into out[0 .. N), from any
 * distribution q over the space of `engine` (the network's, or exact). */
void nsr_propose_generalization(const nsr_numbers *engine, const float *q,
                                double *out);

/* The proposals as JSON: {"examples":[..], "proposals":[{"name", "network",
 * "posterior", "restricted"},..], "exact_map":{"name", "network",
 * "posterior"}, "covered":..} (`nsr propose --json` and the
 * propose_hypotheses tool). NULL when out of memory; the caller decrefs. */
json_t *nsr_proposals_json(const uint32_t *examples, size_t n, const nsr_proposals *r);
/* A guide's proposals in a grammar space (nsr_space_propose) as JSON:
 * {"examples", "draws", "distinct", "ess", "rescored": "exact"|"importance",
 * "covered" (exact only), "proposals": [{"name", "size", "q", "weight",
 * "posterior", "restricted" (exact only)}]} (`nsr propose --space --json` and
 * propose_hypotheses with "space"). NULL when out of memory; the caller decrefs. */
json_t *nsr_space_proposals_json(const uint32_t *examples, size_t n, const nsr_space_proposals *r);

/* ---- guide --------------------------------------------------------------- */
/* guide: recognition networks for grammar spaces (guide.c, guide_dataset.c,
 * guide_train.c). A guide reads an example set (order-free) and outputs a
 * grammar conditioned on it, q(t | X) (nsr_space_guide in nsr_space.h),
 * which symbolic/'s samplers use as a proposal; every sample is still
 * weighed by the exact model, so a bad guide costs speed, never correctness.
 *
 * A guide file is a safetensors checkpoint whose __metadata__ holds, beside
 * "nsr.config", "nsr.guide": {"format": "nsr-guide/2", "space": the space
 * file's name, "signature": nsr_space_signature as 16 hex digits, "range":
 * N, "productions": P}. Format nsr-guide/1 (one weight per production, no
 * contexts) is refused with a message that says to retrain. */

typedef struct nsr_guide nsr_guide;

/* Loads a guide and checks it against `space`: a file that is not a guide,
 * or a guide trained for another space (signature, range or production
 * count differ), is refused with NSR_ERR_FORMAT and a message naming both
 * spaces. n_threads as nsr_proposer_load. The caller frees it. */
nsr_code nsr_guide_load(const char *path, const nsr_space *space, int n_threads, nsr_guide **out,
                        nsr_error *err);
void nsr_guide_free(nsr_guide *guide);
/* The space name recorded in the guide's metadata. */
const char *nsr_guide_space_name(const nsr_guide *guide);
/* Runs the network on X (1..NSR_DATASET_MAX_EXAMPLES examples in 1..N):
 * log_q[0..C·P) receives the conditioned grammar's log rule weights, one
 * row of P per context (C = nsr_space_guide_contexts; an nsr_space_guide
 * with rows = C).
 * NSR_ERR_INVALID / NSR_ERR_RANGE for bad examples. */
nsr_code nsr_guide_condition(nsr_guide *guide, const uint32_t *examples, size_t n, double *log_q,
                             nsr_error *err);
/* The network's probability of the class "interval" (the examples came
 * from an interval, not from the grammar) at the last nsr_guide_condition. */
double nsr_guide_interval_share(const nsr_guide *guide);
/* The shipped guide for a space file: "guide-<basename without .json>.safetensors"
 * in the models folder (the source tree's bridge/models when run from a
 * build directory, else <prefix>/share/nsr), written into buf. False when
 * there is none (the caller then runs unguided). */
bool nsr_guide_default_path(const char *space_path, char *buf, size_t len);

/* The metadata key and format of a guide file (above). */
#define NSR_GUIDE_FORMAT "nsr-guide/2"
#define NSR_GUIDE_FORMAT_V1 "nsr-guide/1"
#define NSR_GUIDE_META_KEY "nsr.guide"

/* The encoder config of a guide for `space` (widths are the caller's): the
 * proposal model's input layout (nsr_propose_tokens for numbers 1..N, no
 * positions, mean pooling) and a softmax over C·P + 1 classes: class
 * c·P + k is production k at context c (C = nsr_space_guide_contexts: the
 * root, then each operand of each operation), then one class "interval" for
 * concepts drawn from the interval component. One softmax over the pairs
 * (context, production) is trained towards the tree's pairs, so each row's
 * conditional is trained as a bigram grammar would be;
 * nsr_guide_condition drops "interval" and the samplers renormalise each
 * row. */
void nsr_guide_config(const nsr_space *space, int d_model, int n_layers, nsr_nn_config *out);
/* Saves `model` (made by nsr_guide_config for `space`) as a guide file:
 * the checkpoint plus the "nsr.guide" metadata; `space_name` is recorded as
 * the space's name (the file's base name, e.g. "large.json"). */
nsr_code nsr_guide_save(const nsr_nn_model *model, const nsr_space *space, const char *space_name,
                        const char *path, nsr_error *err);
/* A guide around a model in memory (made by nsr_guide_config for `space`),
 * which the guide borrows (training evaluates through this). NSR_ERR_FORMAT
 * when the model's layout does not fit the space. */
nsr_code nsr_guide_wrap(nsr_nn_model *model, const nsr_space *space, nsr_guide **out,
                        nsr_error *err);

/* ---- guide_dataset: training data for guides from a space's prior ---------
 * Each item: a concept drawn from the space's prior (nsr_space_sample_concept:
 * a tree of the grammar with probability λ, else an interval), 1..6 examples
 * drawn from its extension, and the target the guide is trained towards:
 * the tree's (context, production) pairs as normalised counts over C·P + 1
 * classes (an interval: all mass on the last class). Streamed, determined by the seed, and
 * split like numbers_dataset (nsr_dataset_split_of), so held-out sets never
 * meet training. */

typedef struct nsr_guide_dataset_config {
  uint32_t min_examples;      /* 1 */
  uint32_t max_examples;      /* 6 */
  uint32_t heldout_per_mille; /* 100 */
  uint64_t seed;              /* 1 */
  nsr_dataset_split split;    /* train */
} nsr_guide_dataset_config;

typedef struct nsr_guide_item {
  nsr_space_concept concept;
  uint32_t n_examples;
  uint32_t examples[NSR_DATASET_MAX_EXAMPLES];
  const float *target; /* [C·P + 1], sums to 1; owned by the dataset, valid until the next item */
} nsr_guide_item;

typedef struct nsr_guide_dataset nsr_guide_dataset;

void nsr_guide_dataset_config_default(nsr_guide_dataset_config *cfg);
/* A stream over `space`, which it borrows (it must outlive the stream).
 * NSR_ERR_RANGE for bad counts; the caller frees with
 * nsr_guide_dataset_free. */
nsr_code nsr_guide_dataset_new(const nsr_space *space, const nsr_guide_dataset_config *cfg,
                               nsr_guide_dataset **out, nsr_error *err);
void nsr_guide_dataset_free(nsr_guide_dataset *ds);
/* The next item of the stream (errors: those of nsr_space_sample_concept). */
nsr_code nsr_guide_dataset_next(nsr_guide_dataset *ds, nsr_guide_item *item, nsr_error *err);
/* The target of a concept into target[0 .. C·P + 1) (what the dataset does
 * for each item). */
void nsr_guide_target(const nsr_space *space, const nsr_space_concept *c, float *target);

/* ---- guide_train --------------------------------------------------------- */

typedef struct nsr_guide_eval {
  int64_t step;
  double train_loss; /* mean training loss since the previous evaluation */
  size_t n;          /* held-out sets (grammar concepts and intervals) */
  size_t n_trees;    /* of which grammar concepts */
  double nll;        /* mean over trees of −log q(t | X) / |t|: nats per node */
  double prior_nll;  /* the same for the unconditioned rules w_k / W (what the guide must beat) */
  double recall10;   /* mean share of a tree's nodes whose production is among the 10 most probable of its context */
  double interval;   /* mean q of the class "interval" on interval concepts (NAN: none) */
} nsr_guide_eval;

typedef struct nsr_guide_train_config {
  int d_model, n_layers;
  int64_t steps;
  int batch;
  double lr;
  uint64_t seed;      /* model init and the training stream */
  uint32_t heldout;   /* held-out sets (drawn with a fixed seed) */
  int64_t eval_every; /* 0 = only at the end */
  bool progress;      /* progress bar on stderr (when a terminal) */
  void (*on_eval)(void *ctx, const nsr_guide_eval *eval);
  void *ctx;
} nsr_guide_train_config;

/* d 64, 2 layers, 3000 steps of 64, lr 2e-3, seed 1, 1000 held-out sets,
 * evaluation every 500 steps. */
void nsr_guide_train_config_default(nsr_guide_train_config *cfg);

/* Held-out items of a space: n items of the held-out split drawn with
 * `seed` (targets not kept). Free with nsr_free(*items). */
nsr_code nsr_guide_heldout_make(const nsr_space *space, size_t n, uint64_t seed,
                                nsr_guide_item **items, nsr_error *err);
/* Evaluates a guide on held-out items (out->step and train_loss left 0). */
nsr_code nsr_guide_evaluate(nsr_guide *guide, const nsr_space *space, const nsr_guide_item *items,
                            size_t n, nsr_guide_eval *out, nsr_error *err);
/* Makes and trains a guide's model for `space`; *out is the model (caller
 * frees with nsr_nn_free; save it with nsr_guide_save), *final its last
 * evaluation. */
nsr_code nsr_guide_train(const nsr_space *space, const nsr_guide_train_config *cfg,
                         nsr_nn_model **out, nsr_guide_eval *final, nsr_error *err);
/* The models row config of a trained guide: {"model": encoder config,
 * "guide": {"space", "signature", "steps", "batch", "lr", "seed"}}. NULL
 * when out of memory; the caller frees it with nsr_free. */
char *nsr_guide_record_json(const nsr_guide_train_config *cfg, const nsr_space *space,
                            const char *space_name, const nsr_nn_model *model);

/* ---- inject -------------------------------------------------------------- */
/* inject: putting symbolic knowledge of the number game into a proposal
 * network (symbolic -> subsymbolic), each method with a control that injects
 * the same amount of structure with the rules shuffled.
 *
 *   hard        hard MAP labels: the uninjected baseline ("none")
 *   distill     soft targets = the exact posterior (distillation)
 *   constraint  hard labels + a semantic-loss term, -log Σ_{h ⊇ X} q(h): the
 *               mass the network puts on hypotheses inconsistent with X
 *   constraint-size
 *               the same with r weighted by the size principle, q(h) |h|^-n on
 *               S, so the trivial [1, N] no longer satisfies it for free
 *   kbann       hard labels, after writing rule detectors into the weights
 *   kbann-distill
 *               the KBANN weights, trained towards the exact posterior
 *   constraint-shuffled, constraint-size-shuffled, kbann-shuffled,
 *   kbann-distill-shuffled
 *               the same with every hypothesis's extension replaced by its
 *               image under a fixed random permutation of 1..N (same sizes,
 *               wrong members)
 *
 * The constraint needs no hook in neural/: for softmax outputs q, the
 * gradient of -log Σ_{h∈S} q(h) with respect to the logits is q - r, where
 * r is q restricted to S and renormalised, which is exactly the gradient of
 * the KL loss towards the teacher r. So hard labels t plus λ times the
 * constraint is the KL loss towards (t + λ r) / (1 + λ), scaled by 1 + λ.
 * Measured weakness: the interval [1, N] contains every X, so mass there
 * satisfies the constraint for any input; early in training the network
 * learns to put its top mass there (after 150 steps on 256 sets: top-1
 * recall 0, top proposal "interval 1..100"). constraint-size exists for
 * that: |h|^-n makes the trivial hypothesis the least rewarded one. */

typedef enum nsr_inject {
  NSR_INJECT_HARD,
  NSR_INJECT_DISTILL,
  NSR_INJECT_CONSTRAINT,
  NSR_INJECT_KBANN,
  NSR_INJECT_CONSTRAINT_SHUFFLED,
  NSR_INJECT_KBANN_SHUFFLED,
  NSR_INJECT_CONSTRAINT_SIZE,
  NSR_INJECT_CONSTRAINT_SIZE_SHUFFLED,
  NSR_INJECT_KBANN_DISTILL,
  NSR_INJECT_KBANN_DISTILL_SHUFFLED,
  NSR_INJECT_COUNT
} nsr_inject;

const char *nsr_inject_name(nsr_inject method);
/* Parses a name above ("none" means hard); NSR_ERR_INVALID otherwise. */
nsr_code nsr_inject_parse(const char *text, nsr_inject *out, nsr_error *err);
bool nsr_inject_shuffled(nsr_inject method);
/* Whether the method writes KBANN weights before training. */
bool nsr_inject_uses_kbann(nsr_inject method);
/* Whether it trains towards the exact posterior (soft targets) rather than
 * hard MAP labels. */
bool nsr_inject_soft_targets(nsr_inject method);

/* The permutation of 1..N the shuffled controls use: perm[x] for x in 1..N
 * (perm[0] = 0), from a fixed seed so every run shuffles alike. */
void nsr_inject_permutation(uint32_t n_max, uint32_t *perm);

/* KBANN: writes symbolic feature detectors into the weights.
 *   tok_emb  number x: ±1 for "x in rule r" for the 34 rules (parity,
 *            divisibility, squares, cubes, primes, powers, last digit) and
 *            for "x > 10 k % of N" (9 magnitudes), and 1 on an "on" dimension;
 *            count tokens: 0 on every detector, 1 on "on".
 *   FFN      block 0's units 0..42: unit j computes detector j from those
 *            embedding directions (fires for members, stays off otherwise)
 *            and writes it back, amplified, into the residual stream.
 *   head     rule r's row reads detector r.
 * So at step 0 "all examples in h" already raises the logit of h. With perm
 * (the control), number x gets the detectors of perm[x]: the same weights,
 * the same sizes, the wrong members. Needs d_model >= 44, d_ff >= 43 and a
 * proposal model for the engine's 1..N; NSR_ERR_INVALID otherwise. */
nsr_code nsr_inject_kbann(nsr_nn_model *model, const nsr_numbers *engine,
                          const uint32_t *perm, nsr_error *err);

/* The constraint's teacher: teacher = (teacher + λ r) / (1 + λ) with r = q
 * restricted to the hypotheses consistent with X (judged on perm[X] when
 * perm is given), times |h|^-n when size_principle, and renormalised;
 * unchanged when r has no mass. */
void nsr_inject_constraint(const nsr_numbers *engine, const uint32_t *examples,
                           size_t n, const uint32_t *perm, const float *q,
                           double lambda, bool size_principle, float *teacher);

/* ---- propose_train ------------------------------------------------------- */
/* train.h: training proposal networks (propose.h's layout) on the number
 * game's generative model, with symbolic knowledge injected (inject.h), and
 * evaluating them on held-out example sets against the exact engine. */

typedef struct nsr_train_eval {
  int64_t step;
  double train_loss; /* mean training loss since the previous evaluation */
  size_t n;          /* held-out sets */
  double top1;       /* share whose network argmax is an exact MAP */
  double top10;      /* share with an exact MAP among the network's top 10 */
  double kl;         /* mean KL(exact || network), nats */
  double gen_corr;   /* Pearson r of network vs exact p(y ∈ C | X), all y */
} nsr_train_eval;

/* Data parallelism (`mpirun nsr train`): process `rank` of `size` takes its
 * slice of every global batch (the batch is the same whatever the size),
 * and the sums add a buffer over every process in place (each gets the
 * total). Zero (size 0 or 1, no sums): one process does everything;
 * sum_floats is called once per step whenever it is set (a benchmark's
 * clock at size 1). */
typedef struct nsr_train_parallel {
  int rank, size;
  void *ctx;
  nsr_code (*sum_floats)(void *ctx, float *values, size_t n, nsr_error *err);
  nsr_code (*sum_doubles)(void *ctx, double *values, size_t n, nsr_error *err);
} nsr_train_parallel;

typedef struct nsr_train_config {
  int d_model, n_layers;
  bool sinusoidal;          /* positions (an architectural control) or none */
  nsr_inject inject;
  int64_t steps;
  int batch;
  double lr;
  uint64_t seed;            /* model init, training stream and minibatches */
  uint64_t examples_budget; /* distinct training sets; 0 = the whole stream */
  uint32_t heldout;         /* held-out sets (drawn with a fixed seed) */
  int64_t eval_every;       /* 0 = only at the end */
  bool progress;            /* progress bar on stderr (when a terminal) */
  void (*on_eval)(void *ctx, const nsr_train_eval *eval);
  void *ctx;
  nsr_train_parallel parallel;
} nsr_train_config;

/* d 64, 2 layers, no positions, distill, 3000 steps of 64, lr 2e-3, seed 1,
 * whole stream, 1000 held-out sets, evaluation every 500 steps. */
void nsr_train_config_default(nsr_train_config *cfg);

/* Held-out example sets: drawn once from the held-out split, labelled on
 * demand by the exact engine. */
typedef struct nsr_heldout {
  size_t n;
  uint32_t *n_examples;  /* [n] */
  uint32_t *examples;    /* [n * NSR_PROPOSE_MAX_EXAMPLES] */
} nsr_heldout;

/* Draws n held-out sets for numbers 1..n_max from the dataset's held-out
 * split with `seed`. Free with nsr_heldout_free. */
nsr_code nsr_heldout_make(uint32_t n_max, size_t n, uint64_t seed,
                          nsr_heldout *out, nsr_error *err);
void nsr_heldout_free(nsr_heldout *h);

/* Evaluates a proposal model on held-out sets (out->step and train_loss are
 * left 0). */
nsr_code nsr_train_evaluate(nsr_nn_model *model, const nsr_heldout *heldout,
                            nsr_train_eval *out, nsr_error *err);

/* Makes, injects and trains a model for numbers 1..100; *out is the trained
 * model (caller frees with nsr_nn_free), *final its last evaluation. */
nsr_code nsr_train_proposer(const nsr_train_config *cfg, nsr_nn_model **out,
                            nsr_train_eval *final, nsr_error *err);

/* ---- experiment ---------------------------------------------------------- */
/* experiment: `nsr experiment injection`: data efficiency of knowledge
 * injection. Each variant (an injection method, its shuffled-rule control,
 * the uninjected baseline, and sinusoidal positions as an architectural
 * control) is trained on K fixed example sets for each budget K and several
 * seeds, and scored on the same held-out sets (top-1 recall of the exact
 * MAP). Results go to the rule store and to an SVG plot. */

#define NSR_EXPERIMENT_MAX_BUDGETS 12
#define NSR_EXPERIMENT_MAX_SEEDS 32
#define NSR_EXPERIMENT_MAX_VARIANTS 12

typedef struct nsr_variant {
  const char *name; /* "hard", "distill", ..., "sinusoidal" */
  nsr_inject inject;
  bool sinusoidal;
} nsr_variant;

/* The variants compared, baseline ("hard") first. */
extern const nsr_variant nsr_variants[];
extern const size_t nsr_variant_count;

typedef struct nsr_experiment_config {
  uint64_t budgets[NSR_EXPERIMENT_MAX_BUDGETS];
  size_t n_budgets;
  size_t seeds;          /* seeds 1..seeds per point */
  nsr_train_config train; /* model size, steps, batch, held-out size */
  bool progress;
} nsr_experiment_config;

/* One measured point: the mean and sample sd over seeds. */
typedef struct nsr_experiment_point {
  double mean, sd;
} nsr_experiment_point;

typedef struct nsr_experiment_result {
  /* [variant][budget] top-1 recall of the exact MAP on held-out sets */
  nsr_experiment_point top1[NSR_EXPERIMENT_MAX_VARIANTS][NSR_EXPERIMENT_MAX_BUDGETS];
  double seconds;
} nsr_experiment_result;

/* budgets 16, 64, 256, 1024; 5 seeds; d 48, 1 layer, 400 steps of 32, 500
 * held-out sets. quick: budgets 16, 64; 1 seed; 30 steps; 50 sets. */
void nsr_experiment_config_default(nsr_experiment_config *cfg, bool quick);

/* What each point of the summary and the plot is, into buf: "1 seed" (no
 * spread to show) or "5 seeds, mean ± sd". Returns buf. */
const char *nsr_experiment_points_text(size_t seeds, char *buf, size_t len);

/* A metric row for the store's metrics table. */
typedef struct nsr_metric {
  const char *name, *method;
  int64_t seed, n_train, step;
  double value;
  int64_t model; /* index into the experiment's models + 1; 0: none (NULL) */
} nsr_metric;

/* A model an experiment trained, for the models table: the SHA-256 of its
 * checkpoint (as nsr_nn_save writes it) and nsr_train_record_json. */
typedef struct nsr_experiment_model {
  char sha256[NSR_SHA256_HEX];
  char *config_json; /* owned (nsr_free) */
} nsr_experiment_model;

/* Records an experiment, its models (path NULL: not kept on disk; a model
 * already there keeps its row) and its metric rows, with model_id set from
 * nsr_metric.model, in one transaction (creating or upgrading the store at
 * `path`); *id is the experiment's id. */
nsr_code nsr_store_add_experiment(const char *path, const char *name, const char *config_json,
                                  const nsr_experiment_model *models, size_t n_models,
                                  const nsr_metric *metrics, size_t n, int64_t *id,
                                  nsr_error *err);

/* The models row config of a trained proposal model: {"model": its encoder
 * config, "train": {"inject", "positions", "steps", "batch", "lr", "seed",
 * "examples_budget"}}. NULL when out of memory; the caller frees it with
 * nsr_free. */
char *nsr_train_record_json(const nsr_train_config *cfg, const nsr_nn_model *model);

/* The SHA-256 (hex) of the checkpoint nsr_nn_save writes for `model`, via
 * a temporary file that is removed again. */
nsr_code nsr_model_sha256(const nsr_nn_model *model, char hex[NSR_SHA256_HEX], nsr_error *err);

/* Runs every variant x budget x seed, writes the metrics (top1, top10, kl)
 * to the store at db_path (NULL: none) and fills *out. */
nsr_code nsr_experiment_injection(const nsr_experiment_config *cfg, const char *db_path,
                                  nsr_experiment_result *out, int64_t *experiment_id,
                                  nsr_error *err);

/* The curves as SVG: top-1 recall against training sets (log axis), one
 * line per variant with ±1 sd error bars. Caller frees *svg with nsr_free. */
nsr_code nsr_experiment_svg(const nsr_experiment_config *cfg, const nsr_experiment_result *r,
                            char **svg, nsr_error *err);

#endif
