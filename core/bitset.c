/* bitset.c: sets of small integers as arrays of 64-bit words. Bits past
 * nbits in the last word are always zero, so counts and comparisons can work
 * word by word. */
#include "nsr_core.h"

#include <assert.h>
#include <string.h>

#define WORD_BITS 64

nsr_code nsr_bitset_init(nsr_bitset *set, size_t nbits, nsr_error *err) {
  set->nbits = 0;
  set->nwords = 0;
  set->words = NULL;
  size_t nwords = (nbits + WORD_BITS - 1) / WORD_BITS;
  uint64_t *words = nsr_calloc(nwords == 0 ? 1 : nwords, sizeof *words);
  if (words == NULL) {
    return nsr_fail(err, NSR_ERR_NOMEM, "bitset of %zu bits: out of memory",
                    nbits);
  }
  set->nbits = nbits;
  set->nwords = nwords;
  set->words = words;
  return NSR_OK;
}

void nsr_bitset_free(nsr_bitset *set) {
  nsr_free(set->words);
  set->words = NULL;
  set->nbits = set->nwords = 0;
}

void nsr_bitset_clear_all(nsr_bitset *set) {
  if (set->nwords) memset(set->words, 0, set->nwords * sizeof *set->words);
}

void nsr_bitset_add(nsr_bitset *set, size_t i) {
  assert(i < set->nbits && "bitset member out of range");
  set->words[i / WORD_BITS] |= 1ULL << (i % WORD_BITS);
}

void nsr_bitset_remove(nsr_bitset *set, size_t i) {
  assert(i < set->nbits && "bitset member out of range");
  set->words[i / WORD_BITS] &= ~(1ULL << (i % WORD_BITS));
}

bool nsr_bitset_has(const nsr_bitset *set, size_t i) {
  if (i >= set->nbits) return false;
  return (set->words[i / WORD_BITS] >> (i % WORD_BITS)) & 1U;
}

#define ASSERT_SAME_UNIVERSE(a, b) \
  assert((a)->nbits == (b)->nbits && "bitsets over different universes")

void nsr_bitset_and(nsr_bitset *dst, const nsr_bitset *a, const nsr_bitset *b) {
  ASSERT_SAME_UNIVERSE(a, b);
  ASSERT_SAME_UNIVERSE(dst, a);
  for (size_t w = 0; w < dst->nwords; w++) dst->words[w] = a->words[w] & b->words[w];
}

void nsr_bitset_or(nsr_bitset *dst, const nsr_bitset *a, const nsr_bitset *b) {
  ASSERT_SAME_UNIVERSE(a, b);
  ASSERT_SAME_UNIVERSE(dst, a);
  for (size_t w = 0; w < dst->nwords; w++) dst->words[w] = a->words[w] | b->words[w];
}

void nsr_bitset_andnot(nsr_bitset *dst, const nsr_bitset *a,
                       const nsr_bitset *b) {
  ASSERT_SAME_UNIVERSE(a, b);
  ASSERT_SAME_UNIVERSE(dst, a);
  for (size_t w = 0; w < dst->nwords; w++) dst->words[w] = a->words[w] & ~b->words[w];
}

void nsr_bitset_copy(nsr_bitset *dst, const nsr_bitset *src) {
  ASSERT_SAME_UNIVERSE(dst, src);
  if (dst->nwords) memcpy(dst->words, src->words, dst->nwords * sizeof *dst->words);
}

size_t nsr_bitset_count(const nsr_bitset *set) {
  size_t n = 0;
  for (size_t w = 0; w < set->nwords; w++) n += (size_t)__builtin_popcountll(set->words[w]);
  return n;
}

size_t nsr_bitset_count_and(const nsr_bitset *a, const nsr_bitset *b) {
  ASSERT_SAME_UNIVERSE(a, b);
  size_t n = 0;
  for (size_t w = 0; w < a->nwords; w++) {
    n += (size_t)__builtin_popcountll(a->words[w] & b->words[w]);
  }
  return n;
}

bool nsr_bitset_is_subset(const nsr_bitset *a, const nsr_bitset *b) {
  ASSERT_SAME_UNIVERSE(a, b);
  for (size_t w = 0; w < a->nwords; w++) {
    if (a->words[w] & ~b->words[w]) return false;
  }
  return true;
}

bool nsr_bitset_equal(const nsr_bitset *a, const nsr_bitset *b) {
  ASSERT_SAME_UNIVERSE(a, b);
  return a->nwords == 0 ||
         memcmp(a->words, b->words, a->nwords * sizeof *a->words) == 0;
}

size_t nsr_bitset_next(const nsr_bitset *set, size_t from) {
  if (from >= set->nbits) return set->nbits;
  size_t w = from / WORD_BITS;
  uint64_t word = set->words[w] & (~0ULL << (from % WORD_BITS));
  for (;;) {
    if (word != 0) {
      size_t i = w * WORD_BITS + (size_t)__builtin_ctzll(word);
      return i < set->nbits ? i : set->nbits;
    }
    if (++w >= set->nwords) return set->nbits;
    word = set->words[w];
  }
}
