/* vectorise.h: wide vectors for the encoder's elementwise loops.
 *
 * The build targets baseline x86-64, whose vectors hold 4 floats and which
 * has no fused multiply-add: there GELU, softmax, LayerNorm and AdamW cost a
 * training step about as much as all its matrix products do (callgrind and
 * perf; neural/README.md). NN_HOT compiles a function
 * twice, for x86-64-v3 (AVX2 + FMA, 8 floats) and for the baseline, and the
 * dynamic loader picks one once at startup (an ifunc): the same binary still
 * runs on any x86-64. Helpers that hot functions call are NN_HOT_INLINE,
 * always inlined, so that each clone gets a copy compiled for its own ISA.
 *
 * GCC also needs the loop vectoriser's "dynamic" cost model (-O2 uses the
 * "very cheap" one, which refuses loops that need a peeled tail) and
 * fp-contract=fast (ISO C mode turns off contraction into FMAs).
 * neural/meson.build adds -fno-math-errno, without which a loop calling
 * sqrtf does not vectorise (an attribute cannot turn errno off). */
#ifndef NSR_NN_VECTORISE_H
#define NSR_NN_VECTORISE_H

#define NN_OPTIMIZE \
  optimize("tree-vectorize", "vect-cost-model=dynamic", "fp-contract=fast")
#define NN_CLONES target_clones("arch=x86-64-v3", "default")
#if defined(__x86_64__) && defined(__ELF__) /* ifuncs */
#define NN_CAN_CLONE 1
#else
#define NN_CAN_CLONE 0
#endif

#if defined(__GNUC__) && !defined(__clang__) && NN_CAN_CLONE
#define NN_HOT __attribute__((NN_CLONES, NN_OPTIMIZE))
#define NN_HOT_INLINE __attribute__((always_inline, NN_OPTIMIZE)) inline
#elif defined(__GNUC__) && !defined(__clang__)
#define NN_HOT __attribute__((NN_OPTIMIZE))
#define NN_HOT_INLINE __attribute__((always_inline, NN_OPTIMIZE)) inline
#else
/* Clang 14 (the fuzzers' compiler) leaves the ifunc of an external
 * target_clones function undefined unless its own file calls it; other
 * compilers, and cppcheck, which cannot parse the attributes, get none. */
#define NN_HOT
#define NN_HOT_INLINE inline
#endif

#endif
