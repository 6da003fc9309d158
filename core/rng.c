/* rng.c: xoshiro256** seeded by splitmix64 (both by Blackman and Vigna,
 * public domain algorithms; written here from their published definitions). */
#include "nsr_core.h"

#include <math.h>

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static uint64_t splitmix64(uint64_t *state) {
  uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

void nsr_rng_seed(nsr_rng *rng, uint64_t seed) {
  uint64_t sm = seed;
  for (int i = 0; i < 4; i++) rng->s[i] = splitmix64(&sm);
}

uint64_t nsr_rng_u64(nsr_rng *rng) {
  uint64_t *s = rng->s;
  uint64_t result = rotl(s[1] * 5, 7) * 9;
  uint64_t t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 45);
  return result;
}

double nsr_rng_uniform(nsr_rng *rng) {
  return (double)(nsr_rng_u64(rng) >> 11) * 0x1.0p-53;
}

/* Lemire's multiply-and-reject method: unbiased, usually one multiply. */
uint64_t nsr_rng_below(nsr_rng *rng, uint64_t bound) {
  __uint128_t m = (__uint128_t)nsr_rng_u64(rng) * bound;
  uint64_t low = (uint64_t)m;
  if (low < bound) {
    uint64_t threshold = -bound % bound;
    while (low < threshold) {
      m = (__uint128_t)nsr_rng_u64(rng) * bound;
      low = (uint64_t)m;
    }
  }
  return (uint64_t)(m >> 64);
}

double nsr_rng_normal(nsr_rng *rng) {
  for (;;) {
    double u = 2.0 * nsr_rng_uniform(rng) - 1.0;
    double v = 2.0 * nsr_rng_uniform(rng) - 1.0;
    double r2 = u * u + v * v;
    if (r2 > 0.0 && r2 < 1.0) return u * sqrt(-2.0 * log(r2) / r2);
  }
}

void nsr_rng_jump(nsr_rng *rng) {
  static const uint64_t jump[] = {0x180ec6d33cfd0abaULL, 0xd5a61266f0c9392cULL,
                                  0xa9582618e03fc9aaULL, 0x39abdc4529b1661cULL};
  uint64_t acc[4] = {0, 0, 0, 0};
  for (int i = 0; i < 4; i++) {
    for (int b = 0; b < 64; b++) {
      if (jump[i] & (1ULL << b)) {
        for (int k = 0; k < 4; k++) acc[k] ^= rng->s[k];
      }
      nsr_rng_u64(rng);
    }
  }
  for (int k = 0; k < 4; k++) rng->s[k] = acc[k];
}
