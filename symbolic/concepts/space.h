/* space.h: internals of grammar-defined spaces, shared by space_prims.c
 * (primitive sets and operations), space_grammar.c (the JSON description),
 * space_enum.c (enumeration and dedup), space_infer.c (queries),
 * space_tree.c (expression trees), space_alias.c (categorical draws), space_visits.c (counts by extension),
 * space_sample.c, space_mh.c, space_guide.c, space_propose.c (sampling) and
 * fit_model.c (gradients). */
#ifndef NSR_SPACE_INTERNAL_H
#define NSR_SPACE_INTERNAL_H

#include "nsr_space.h"
#include "numbers.h"

#define SPACE_NONE UINT32_MAX
#define SPACE_PROD_NAME_MAX 48
#define SPACE_MAX_PRODUCTIONS 4096
#define SPACE_WORDS_MAX ((NSR_SPACE_MAX_N + 64) / 64)

/* One column of an alias table (space_alias.c). */
typedef struct space_alias_col {
  double prob;           /* the chance the column keeps its own entry */
  uint16_t entry, alias; /* its own entry, and the one it gives way to */
} space_alias_col;

typedef enum prod_kind { PROD_PRIMITIVE, PROD_UNARY, PROD_BINARY } prod_kind;

/* One production of the grammar: a primitive set with its argument, or an
 * operation (with its argument for unary ones). */
typedef struct production {
  char name[SPACE_PROD_NAME_MAX]; /* "multiples of 3", "union", "plus 2" */
  int family;                     /* index in the family table */
  prod_kind kind;
  uint32_t arg;
  double log_w;  /* current log weight */
  double log_w0; /* as in the description: centre of the fit's prior */
} production;

/* All expressions of one size whose extension is `ext`, with their summed
 * unnormalised probability. */
typedef struct space_class {
  uint32_t ext;
  double pi;
  double count; /* how many expressions (for reports) */
} space_class;

/* One way of making a class: production `prod` applied to classes a (and
 * b), counted `mult` times (an unordered pair of a commutative operation
 * stands for both orders). Primitives have a = b = SPACE_NONE. */
typedef struct space_edge {
  uint32_t parent, a, b;
  uint16_t prod;
  uint16_t mult;
} space_edge;

/* The shortest description of an extension: production and operand
 * extensions; ties go to the more probable expression. */
typedef struct space_best {
  uint32_t prod, a, b;
  uint32_t size;
  double log_w;
} space_best;

struct nsr_space {
  uint32_t max;     /* N */
  size_t words;     /* 64-bit words per extension, bits 0..N */
  int max_size;     /* largest expression size enumerated */
  size_t max_ext;   /* limit on distinct extensions */
  nsr_space_params params;
  double sigma0;    /* σ in the description: centre of the fit's prior */
  char *source;     /* the JSON description */
  production *prods;
  size_t n_prods;
  /* Distinct extensions, in order of discovery. */
  uint64_t *bits;   /* [n_ext * words] */
  uint32_t *ext_size;
  double *pi;       /* summed unnormalised prior over sizes */
  space_best *best;
  size_t n_ext, cap_ext;
  uint32_t *table;  /* open addressing: extension index + 1, 0 = empty */
  size_t table_cap;
  uint32_t *class_of; /* [cap_ext]: class of the size being built */
  space_class *classes;
  size_t n_classes, cap_classes;
  size_t size_start[34]; /* classes of size s: [size_start[s], size_start[s+1]) */
  bool enumerated;   /* false with "enumerate": false (sampling only) */
  bool record_edges;
  space_edge *edges;
  size_t n_edges, cap_edges;
  double n_expressions; /* Σ class counts, empty extensions included */
  double build_seconds;
  double log_z_grammar;     /* log Σ_e pi[e] */
  double *interval_lp;      /* [N+1]: log prior of one interval of size s */
  double interval_mean_size; /* E[s] under the interval prior */
  double *score;            /* [cap_ext] query scratch */
  double *diff;             /* [N+2] query scratch */
  /* Tables of the samplers (space_tree.c), refreshed by space_tree_weights
   * whenever the log weights change. */
  uint64_t *prim;           /* [n_prods * words]: primitives' extensions */
  space_alias_col *pcfg_cols; /* [n_prods]: w_k / W as an alias table (space_alias.c) of pcfg_m columns */
  size_t pcfg_m;
  double *pcfg_log_p;       /* [n_prods]: log(w_k / W) */
  double log_w_total;       /* log W, W = Σ_k w_k */
  double *size_cum;         /* [max_size]: cumulative p(|t| = s), s = index + 1 */
  double *size_prod_cum;    /* [(max_size + 1) * n_prods]: row s, the root production of a tree of s symbols */
  double *split_cum;        /* [(max_size + 1) * max_size]: row s, the left operand's size (index + 1) */
  double *interval_cum;     /* [N]: cumulative p(interval size = index + 1) */
};

/* ---- space_prims.c ---- */
/* Looks up a family by its JSON name; -1 when unknown. */
int space_family_find(const char *name);
const char *space_family_name(int family);
prod_kind space_family_kind(int family);
bool space_family_has_arg(int family);
/* Checks a family's argument; fills the production's display name. */
nsr_code space_production_init(production *p, int family, uint32_t arg, uint32_t max,
                               nsr_error *err);
/* out = the extension of a primitive production over 1..N. */
void space_primitive_fill(const production *p, uint32_t max, uint64_t *out, size_t words);
/* out = op(a) or op(a, b) over 1..N (b unused for unary operations). */
void space_apply(const production *p, uint32_t max, const uint64_t *a, const uint64_t *b,
                 uint64_t *out, size_t words);
/* out = {a in 1..N : op(a) ∈ in} for a unary operation p: its preimage,
 * exact since every unary operation is injective (plus, times, power are
 * strictly increasing over the positive integers). */
void space_unapply(const production *p, const uint64_t *in, uint64_t *out, size_t words);
/* The set operation of a binary production. */
typedef enum space_set_op { SPACE_SET_NONE, SPACE_SET_UNION, SPACE_SET_INTERSECTION, SPACE_SET_DIFFERENCE } space_set_op;
space_set_op space_set_op_of(const production *p);
/* What a sub-expression must be for its tree to contain the examples X (a
 * need, space_guide.c): a superset of `hold` and disjoint from `avoid`
 * (the space's words of each; both empty: anything). */
typedef struct space_need {
  uint64_t hold[SPACE_WORDS_MAX], avoid[SPACE_WORDS_MAX];
} space_need;
/* Appends the description of "op applied to the named operands". */
void space_describe(const production *p, const char *a, bool a_compound, const char *b,
                    bool b_compound, char *buf, size_t len);

/* ---- space_grammar.c ---- */
/* The similarity hypothesis' membership m[y] = exp(−d[y]/sim_tau) for y in
 * 1..max (m[0] = d[0] = 0), d[y] the distance to the nearest of x[0..n);
 * returns the soft size M = Σ m[y]. m and d have max + 1 entries. */
double space_sim_profile(const nsr_space_params *p, const uint32_t *x, size_t n, uint32_t max, double *m,
                         double *d);
/* The extension index that names the similarity hypothesis in results. */
#define SPACE_SIM_HYPOTHESIS (UINT32_MAX - 1)

/* ---- space_enum.c ---- */
/* Enumerates the space from its productions (weights from log_w). */
nsr_code space_enumerate(nsr_space *s, nsr_error *err);

/* An open-addressing set of bitsets, shared by enumeration and MH: slots
 * hold entry index + 1 (0 = empty), cap is a power of two, entry e's words
 * are bits[e * words ..]. space_slots_fill rehashes entries 0..n-1 into
 * zeroed slots; space_slots_probe returns the slot holding w, or the empty
 * slot where it belongs (*found says which). */
void space_slots_fill(uint32_t *slots, size_t cap, const uint64_t *bits, size_t n, size_t words);
size_t space_slots_probe(const uint32_t *slots, size_t cap, const uint64_t *bits, size_t words,
                         const uint64_t *w, bool *found);
/* Recomputes the class masses, pi and log_z_grammar from the productions'
 * log_w along the recorded edges. */
void space_forward(nsr_space *s);
/* Recomputes the interval prior from λ and σ. */
void space_interval_prior(nsr_space *s);

/* ---- space_tree.c ---- */
/* Scratch words tree evaluation needs: two extensions per level of depth. */
#define SPACE_EVAL_SCRATCH (2 * NSR_SPACE_TREE_MAX * SPACE_WORDS_MAX)

static inline int space_arity(const production *p) {
  return p->kind == PROD_BINARY ? 2 : p->kind == PROD_UNARY ? 1 : 0;
}
/* Allocates the sampler tables (after the productions are parsed) and fills
 * them; NSR_ERR_NOMEM. */
nsr_code space_tree_tables(nsr_space *s, nsr_error *err);
/* Refills the weight-dependent tables from the productions' log_w. */
void space_tree_weights(nsr_space *s);
/* cum[0..n) = the running sum of w[0..n) over their total, the entries from
 * the last positive one on set to 2 (so that rounding never selects a
 * zero-weight entry or runs off the end); returns the total. */
double space_cum_build(const double *w, size_t n, double *cum);
/* The first k with cum[k] > u (u in [0, 1)): a draw from a space_cum_build table. */
static inline size_t space_cum_find(const double *cum, size_t n, double u) {
  size_t lo = 0, hi = n - 1;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (cum[mid] > u) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/* ---- space_alias.c ---- */
/* Fills an alias table for weights w[0..n) (n ≤ SPACE_MAX_PRODUCTIONS, at
 * least one positive): cols needs n entries; returns m, the number of
 * columns (the positive weights). */
size_t space_alias_build(const double *w, size_t n, space_alias_col *cols);
/* The entry an alias table of m ≥ 1 columns draws for u uniform on [0, 1):
 * k with probability w_k / Σ w. u·m < m in doubles for every u < 1, so the
 * column is in range. */
static inline size_t space_alias_draw(const space_alias_col *cols, size_t m, double u) {
  double x = u * (double)m;
  size_t i = (size_t)x;
  return x - (double)i < cols[i].prob ? cols[i].entry : cols[i].alias;
}

/* ll[k] = −gn·log k for k = 1..N, ll[0] = −∞ (ll has N + 1 entries): the
 * log likelihood of an extension of k members under the size principle
 * (gn = γ1 + γ(n − 1)), one log per size per query instead of one per draw. */
void space_size_loglik(const nsr_space *s, double gn, double *ll);
/* Appends a subtree drawn from the PCFG (rule probabilities w_k / W) to
 * out[*len..]; false (out partly written) when it would exceed `budget`
 * symbols in all. */
bool space_tree_grow(const nsr_space *s, nsr_rng *rng, uint16_t *out, int *len, int budget);
/* Draws a tree from the space's prior over trees, p(t) ∝ Π w_k over trees
 * of at most max_size symbols (empty sub-expressions not yet excluded: the
 * caller rejects them through space_tree_eval). */
void space_tree_draw_prior(const nsr_space *s, nsr_rng *rng, nsr_space_tree *t);
/* The end (exclusive) of the well-formed subtree starting at i. */
int space_subtree_end(const nsr_space *s, const uint16_t *prog, int i);
/* True when t is one complete tree of 1..NSR_SPACE_TREE_MAX known productions. */
bool space_tree_valid(const nsr_space *s, const nsr_space_tree *t);
/* Evaluates the well-formed subtree at *i (advanced past it) into out
 * (`words` words; scratch: SPACE_EVAL_SCRATCH words); false when it or any
 * sub-expression is empty. */
bool space_tree_eval(const nsr_space *s, const uint16_t *prog, int *i, uint64_t *out, uint64_t *scratch);
/* Σ over the tree's nodes of table[k] (log probabilities of a PCFG). */
static inline double space_tree_sum(const double *table, const nsr_space_tree *t) {
  double sum = 0.0;
  for (int i = 0; i < t->len; i++) sum += table[t->prog[i]];
  return sum;
}
/* Writes the description of the well-formed subtree at *i (advanced past it). */
void space_tree_describe(const nsr_space *s, const uint16_t *prog, int *i, char *buf, size_t len);
static inline uint32_t space_popcount(const uint64_t *w, size_t words) {
  uint32_t n = 0;
  for (size_t i = 0; i < words; i++) n += (uint32_t)__builtin_popcountll(w[i]);
  return n;
}

/* ---- space_visits.c ----
 * Extensions met by a sampler (open addressing over their bits), each with
 * two accumulators and the shortest tree seen for it, so the heaviest can
 * be named. */
typedef struct space_visits {
  size_t words;
  uint32_t *slot;  /* [cap]: entry + 1, 0 = empty */
  size_t cap;      /* a power of two, twice room */
  uint64_t *bits;  /* [room * words] */
  double *hits;    /* [room] the sampler's mass in the entry (visits, weights) */
  double *draws;   /* [room] how many draws denoted it (importance sampling) */
  uint32_t *size;  /* [room] |h| */
  nsr_space_tree *tree; /* [room] shortest tree seen */
  size_t n, room;
} space_visits;

/* Makes room for the first entries; false when out of memory. */
bool space_visits_init(space_visits *v, size_t words);
void space_visits_free(space_visits *v);
/* The entry of extension ext (|ext| = size), added with zero accumulators
 * when new; keeps the shorter of its tree and t. SIZE_MAX: out of memory. */
size_t space_visits_find(space_visits *v, const uint64_t *ext, uint32_t size, const nsr_space_tree *t);
/* The entries with hits > 0, largest hits first (ties: first found), into a
 * new array (*order, caller frees with nsr_free) of *used entries; false
 * when out of memory. */
bool space_visits_rank(const space_visits *v, size_t **order, size_t *used);
/* The k heaviest entries into top[0..*n_top), named by their shortest
 * trees, posterior = hits / total; *distinct = entries with hits > 0.
 * False when out of memory. */
bool space_visits_top(const nsr_space *s, const space_visits *v, double total, nsr_mh_visit *top, size_t k,
                      size_t *n_top, uint64_t *distinct);

/* ---- space_guide.c ---- */
/* A guide's proposal q(t | X) (contexts, room and needs: see space_guide.c). */
typedef struct space_q {
  size_t rows;        /* 1 (every context shares row 0) or the space's contexts */
  size_t words;       /* the space's words per extension */
  uint64_t x[SPACE_WORDS_MAX]; /* X as bits (zero when q does not know X) */
  space_need root;    /* the root's need: (X, ∅), or (∅, ∅) without X */
  uint16_t *ctx_base; /* [n_prods]: the context of operation k's operand 0 */
  uint8_t *op;        /* [n_prods]: space_set_op_of each production */
  uint8_t *arity;     /* [n_prods]: space_arity of each */
  double *log_p;      /* [rows * n_prods]: log softmax of each row */
  double *w;          /* [rows * n_prods]: exp(log_p) */
  double *wbuf;       /* [n_prods]: a table's weights while it is filled */
  uint64_t *reach;    /* [n_prods * words]: a primitive's extension, a unary operation's image of 1..N */
  /* Tables: a row restricted to arity ≤ a (its room's class) and to the
   * productions that may meet a need. Tables [0, n_static) are the static
   * needs (∅, ∅), (X, ∅), (∅, X), index (row * 3 + a) * 3 + which; the
   * next `slots` tables cache other needs, each slot keyed by
   * slot_key[slot * (2 words + 1) ..] = (row * 3 + a + 1, hold, avoid)
   * (0: empty) and refilled when another need maps to it. */
  size_t n_static, slots;
  uint64_t *slot_key;
  double *log_fit;    /* [tables]: log of the table's mass (≥ its largest log_p) */
  space_alias_col *cols; /* [tables * n_prods]: the table as an alias table (space_alias.c) of m[table] columns */
  size_t *m;
  uint8_t *member;  /* [tables * n_prods]: 1 when the table holds production k */
  uint16_t *order; /* [rows * n_prods]: each row's productions, most probable first */
  uint64_t *scratch; /* [SPACE_EVAL_SCRATCH]: evaluating a first operand */
  /* The needs operands get from parents of static need (space_guide.c's
   * fill_fixed): fixed[fixed_of[(k * 2 + j) * 3 + the parent's]], −1 when
   * it depends on operand 0; fixed_which: each one's static need or −1. */
  space_need *fixed;
  int16_t *fixed_which;
  int16_t *fixed_of;
} space_q;
/* Fills q from a guide; with mask (the examples X as bits), every node's
 * choice is restricted by its need, the root's (X, ∅), so that q draws
 * fewer trees that cannot contain X (a need no production meets leaves
 * the node unrestricted); NULL: unrestricted. The cached tables make q's
 * functions below write through q's pointers: one q serves one thread.
 * NSR_ERR_INVALID for a row count that is neither 1 nor the space's
 * contexts, NSR_ERR_RANGE for a non-finite weight, NOMEM. Freed with
 * space_q_free (also after a failure). */
nsr_code space_q_init(const nsr_space *s, const nsr_space_guide *guide, const uint64_t *mask, space_q *q,
                      nsr_error *err);
void space_q_free(space_q *q);
/* Appends a subtree drawn from q at context ctx with need `need` (NULL:
 * none) and room ≥ 1 symbols to out[*len..] (never more than room);
 * returns its log q. */
double space_q_grow(const nsr_space *s, const space_q *q, size_t ctx, const space_need *need, int room,
                    nsr_rng *rng, uint16_t *out, int *len);
/* What space_q_walk calls on each tree it finds (t and its log q);
 * returning false stops the walk. */
typedef bool (*space_q_visit)(void *arg, const nsr_space_tree *t, double log_q);
/* Calls visit on every whole tree t with log q(t) ≥ log_tau, summed as
 * space_q_grow sums it (so a draw of log q ≥ log_tau is exactly one of
 * them): at most e^−log_tau trees, since q sums to 1. The search prunes
 * a partial tree once its log q falls below log_tau (log q never rises
 * along a tree). False when a visit stopped it. */
bool space_q_walk(const nsr_space *s, const space_q *q, double log_tau, space_q_visit visit, void *arg);
/* log q of the well-formed subtree at *i (advanced past it, unless the
 * result is −∞: it does not fit room) at context ctx with need `need`
 * (NULL: none). */
double space_q_log(const nsr_space *s, const space_q *q, const uint16_t *prog, int *i, size_t ctx,
                   const space_need *need, int room);
/* log q(t) of a whole well-formed tree (room max_size and q's root need at the root). */
double space_q_tree_log(const nsr_space *s, const space_q *q, const nsr_space_tree *t);
/* The context of node `node` of the well-formed tree t. */
size_t space_q_context(const nsr_space *s, const space_q *q, const nsr_space_tree *t, int node);
/* Checks examples x[0..n) against the space's range (NSR_ERR_INVALID for
 * none, NSR_ERR_RANGE outside 1..N). */
nsr_code space_check_examples(const nsr_space *s, const uint32_t *x, size_t n, nsr_error *err);

/* ---- space_propose.c ---- */
/* nsr_space_mh with method NSR_MH_IMPORTANCE (options already checked). */
nsr_code space_importance(const nsr_space *s, const uint32_t *x, size_t n, const nsr_mh_options *opt, double *g,
                          nsr_mh_report *rep, nsr_error *err);

/* ---- space_infer.c ---- */
/* mask = the set of examples (bits over [0, N+1)). */
void space_examples_mask(const nsr_space *s, const uint32_t *x, size_t n, uint64_t *mask);
/* True when extension e contains every bit of mask. */
static inline bool space_ext_contains(const nsr_space *s, size_t e, const uint64_t *mask) {
  const uint64_t *w = s->bits + e * s->words;
  for (size_t i = 0; i < s->words; i++) {
    if ((w[i] & mask[i]) != mask[i]) return false;
  }
  return true;
}

#endif
