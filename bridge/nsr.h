/* nsr.h: the public header of libnsr, the neuro-symbolic reasoning engine.
 * It brings in each layer's public API:
 *   nsr_core.h      errors, allocation, RNG, bitsets, time
 *   nsr_symbolic.h  the number-game concept engine
 *   nsr_neural.h    the transformer encoder
 *   nsr_space.h     grammar-defined spaces, human data, fitting
 */
#ifndef NSR_H
#define NSR_H

#include "nsr_core.h"
#include "nsr_neural.h"
#include "nsr_symbolic.h"
#include "nsr_space.h"

#endif /* NSR_H */
