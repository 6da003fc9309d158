/* space.h: internals of grammar-defined spaces, shared by space_prims.c
 * (primitive sets and operations), space_grammar.c (the JSON description),
 * space_enum.c (enumeration and dedup), space_infer.c (queries) and
 * fit_model.c (gradients). */
#ifndef NSR_SPACE_INTERNAL_H
#define NSR_SPACE_INTERNAL_H

#include "nsr_space.h"
#include "numbers.h"

#define SPACE_NONE UINT32_MAX
#define SPACE_PROD_NAME_MAX 48

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
