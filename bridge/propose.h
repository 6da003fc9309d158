/* propose.h: amortized inference for the number game: "the network
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
#ifndef NSR_PROPOSE_H
#define NSR_PROPOSE_H

#include <jansson.h>

#include "nsr.h"

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

#endif
