/* nsr_core.h: the public part of core/ (errors, allocation, RNG, bitsets,
 * timing). Users include <nsr.h>, which includes this header. */
#ifndef NSR_CORE_H
#define NSR_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- version ---------------------------------------------------------- */

/* The library's version string, e.g. "0.1.0". Static storage. */
const char *nsr_version(void);

/* ---- errors ----------------------------------------------------------- */

typedef enum nsr_code {
  NSR_OK = 0,
  NSR_ERR_NOMEM,    /* an allocation failed */
  NSR_ERR_INVALID,  /* a caller passed a bad argument or bad input */
  NSR_ERR_RANGE,    /* a value lies outside the allowed range */
  NSR_ERR_PARSE,    /* text could not be parsed */
  NSR_ERR_IO,       /* a file or socket operation failed */
  NSR_ERR_FORMAT,   /* a file is corrupt or of the wrong format */
  NSR_ERR_LIMIT,    /* a budget (steps, memory, time, rows) ran out */
  NSR_ERR_INTERNAL, /* an invariant broke: a bug in nsr */
} nsr_code;

#define NSR_ERROR_MESSAGE_MAX 512

/* What failed, and where. `message` says what failed in words meant for a
 * user ("batch file 'x.txt': No such file or directory"); `file` and `line`
 * say where in nsr's source the failure was detected, for bug reports. */
typedef struct nsr_error {
  nsr_code code;
  const char *file;
  int line;
  char message[NSR_ERROR_MESSAGE_MAX];
} nsr_error;

/* Records a failure in *err (which may be NULL) and returns `code`, so a
 * caller can write `return nsr_fail(err, NSR_ERR_RANGE, "...", ...);`. */
nsr_code nsr_error_set_at(nsr_error *err, nsr_code code, const char *file,
                          int line, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
#ifndef __clang_analyzer__
#define nsr_fail(err, code, ...) \
  nsr_error_set_at((err), (code), __FILE__, __LINE__, __VA_ARGS__)
#else
/* The static analyzer sees one file at a time, so it cannot know that the
 * result is `code` and never NSR_OK; without this it follows the error
 * returns of every parser as if they had succeeded without writing their
 * output ("garbage value" reports). */
#define nsr_fail(err, code, ...) \
  (nsr_error_set_at((err), (code), __FILE__, __LINE__, __VA_ARGS__), (code))
#endif

/* Prepends context to an error already recorded: "loading m.bin: " + old. */
void nsr_error_prefix(nsr_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Resets *err to NSR_OK with an empty message. */
void nsr_error_clear(nsr_error *err);

/* A short stable name for a code: "out of memory", "invalid input", ... */
const char *nsr_code_name(nsr_code code);

/* ---- allocation ------------------------------------------------------- */

/* Every allocation in nsr goes through these. They behave like the C library
 * functions (nsr_realloc(p, 0) frees p and returns NULL), except that they
 * can be told to fail, and the array forms check size overflow. */
void *nsr_malloc(size_t size);
void *nsr_calloc(size_t count, size_t size);
void *nsr_realloc(void *ptr, size_t size);
void *nsr_reallocarray(void *ptr, size_t count, size_t size);
void *nsr_mallocarray(size_t count, size_t size);
char *nsr_strdup(const char *s);
char *nsr_strndup(const char *s, size_t n);
void nsr_free(void *ptr);

/* Test hook: the allocation that is the `n`th from now (1 = the next one)
 * fails, and so does every later one until nsr_alloc_fail_reset(). n = 0
 * disables failure injection. Counts malloc, calloc and growing realloc. */
void nsr_alloc_fail_after(uint64_t n);
void nsr_alloc_fail_reset(void);
/* How many allocations have been attempted since the process started. */
uint64_t nsr_alloc_count(void);

/* ---- random numbers --------------------------------------------------- */

/* xoshiro256** (Blackman & Vigna 2018), seeded through splitmix64. The same
 * seed gives the same stream on every machine. */
typedef struct nsr_rng {
  uint64_t s[4];
} nsr_rng;

void nsr_rng_seed(nsr_rng *rng, uint64_t seed);
uint64_t nsr_rng_u64(nsr_rng *rng);
/* Uniform on [0, 1) with 53 random bits. */
double nsr_rng_uniform(nsr_rng *rng);
/* Uniform integer on [0, bound), unbiased; bound must be > 0. */
uint64_t nsr_rng_below(nsr_rng *rng, uint64_t bound);
/* Standard normal deviate (polar Box-Muller; no cached spare, so the stream
 * depends only on the number of calls). */
double nsr_rng_normal(nsr_rng *rng);
/* Advances the state by 2^128 steps: gives independent parallel streams. */
void nsr_rng_jump(nsr_rng *rng);

/* ---- bitsets ---------------------------------------------------------- */

/* A set of integers in [0, nbits). Word storage is owned by the bitset. */
typedef struct nsr_bitset {
  size_t nbits;
  size_t nwords;
  uint64_t *words;
} nsr_bitset;

/* Makes an empty set able to hold [0, nbits). Returns NSR_ERR_NOMEM on
 * allocation failure, leaving *set empty and safe to free. */
nsr_code nsr_bitset_init(nsr_bitset *set, size_t nbits, nsr_error *err);
void nsr_bitset_free(nsr_bitset *set);
void nsr_bitset_clear_all(nsr_bitset *set);
void nsr_bitset_add(nsr_bitset *set, size_t i);
void nsr_bitset_remove(nsr_bitset *set, size_t i);
bool nsr_bitset_has(const nsr_bitset *set, size_t i);
/* dst = a op b. All three must have the same nbits; dst may alias a or b. */
void nsr_bitset_and(nsr_bitset *dst, const nsr_bitset *a, const nsr_bitset *b);
void nsr_bitset_or(nsr_bitset *dst, const nsr_bitset *a, const nsr_bitset *b);
void nsr_bitset_andnot(nsr_bitset *dst, const nsr_bitset *a,
                       const nsr_bitset *b);
void nsr_bitset_copy(nsr_bitset *dst, const nsr_bitset *src);
size_t nsr_bitset_count(const nsr_bitset *set);
/* |a ∩ b| without building the intersection. */
size_t nsr_bitset_count_and(const nsr_bitset *a, const nsr_bitset *b);
bool nsr_bitset_is_subset(const nsr_bitset *a, const nsr_bitset *b);
bool nsr_bitset_equal(const nsr_bitset *a, const nsr_bitset *b);
/* The smallest member >= from, or set->nbits if there is none. Iterate with
 * for (i = nsr_bitset_next(s, 0); i < s->nbits; i = nsr_bitset_next(s, i+1)) */
size_t nsr_bitset_next(const nsr_bitset *set, size_t from);

/* ---- time ------------------------------------------------------------- */

/* Nanoseconds on a monotonic clock with an arbitrary origin. */
uint64_t nsr_now_ns(void);
/* Seconds elapsed since `start_ns` (a value from nsr_now_ns()). */
double nsr_seconds_since(uint64_t start_ns);

#ifdef __cplusplus
}
#endif

#endif /* NSR_CORE_H */
