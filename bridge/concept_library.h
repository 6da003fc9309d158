/* concept_library.h: the predicates extraction explains network units with.
 *
 * Over the domain 1..N: every rule of the number game's hypothesis space,
 * plus x mod k = r (k = 2..12), x < t (t = 2..N), digit sum = s and tens
 * digit = d. Each concept has a Church definition (a predicate on one
 * number) and its extension as a bitset over [0, N+1). Concepts whose
 * extension is empty, the whole domain, or equal to an earlier concept's are
 * left out, so every extension appears once under its first name. */
#ifndef NSR_CONCEPT_LIBRARY_H
#define NSR_CONCEPT_LIBRARY_H

#include "nsr.h"
#include "nsr_lang.h"

#define NSR_CONCEPT_NAME_MAX 48
/* The largest domain extraction enumerates, and the largest sample it draws
 * from a bigger one. The costs grow with the inputs squared: the probes'
 * kernel (n x n doubles), and alignment (the x < t family has n - 1
 * concepts, each scanned over n inputs per unit). */
#define NSR_EXTRACT_MAX_N 4096u
#define NSR_CONCEPT_DEF_MAX 320

typedef struct nsr_concept {
  char name[NSR_CONCEPT_NAME_MAX];
  char definition[NSR_CONCEPT_DEF_MAX]; /* "(lambda (x) ...)" */
  nsr_bitset extension;                 /* member y means y is in the concept */
  uint32_t size;
} nsr_concept;

/* Extensions are over the library's inputs, numbered 1..max: input i is
 * the number i (exact: the whole domain 1..N, max = N), or inputs[i - 1]
 * (sampled: max = the sample size, inputs sorted, domain_max = N). */
typedef struct nsr_concept_library {
  uint32_t max;           /* inputs */
  uint32_t domain_max;    /* N */
  const uint32_t *inputs; /* borrowed; NULL when the inputs are 1..N */
  size_t n;
  nsr_concept *items;
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

#endif
