/* inject.h: putting symbolic knowledge of the number game into a proposal
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
#ifndef NSR_INJECT_H
#define NSR_INJECT_H

#include "nsr.h"

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

#endif
