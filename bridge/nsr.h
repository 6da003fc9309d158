/* nsr.h: the public header of libnsr, the neuro-symbolic reasoning engine.
 * It brings in every public API the library holds:
 *   nsr_core.h      errors, allocation, RNG, bitsets, time (core/)
 *   nsr_symbolic.h  the number-game concept engine (symbolic/concepts/)
 *   nsr_space.h     grammar-defined spaces, human data, fitting (symbolic/concepts/)
 *   nsr_lang.h      the Church interpreter (symbolic/lang/)
 *   nsr_neural.h    the transformer encoder (neural/)
 *   nsr_store.h     the SQLite rule store (bridge/store/)
 *   nsr_report.h    number-game reports and plots (bridge/report/)
 *   nsr_learn.h     training data, proposals, injection (bridge/learn/)
 *   nsr_extract.h   rule extraction, the concept library (bridge/extract/)
 * The tools for LLM loops (nsr_tools.h) and libffi (nsr_ffi.h) are not in
 * libnsr. */
#ifndef NSR_H
#define NSR_H

#include "nsr_core.h"
#include "nsr_extract.h"
#include "nsr_lang.h"
#include "nsr_learn.h"
#include "nsr_neural.h"
#include "nsr_report.h"
#include "nsr_space.h"
#include "nsr_store.h"
#include "nsr_symbolic.h"

#endif /* NSR_H */
