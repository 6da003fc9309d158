/* progress.h: a one-line progress bar on stderr for long work. */
#ifndef NSR_PROGRESS_H
#define NSR_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* Draws "label [#####.....] 42% 1234/5000 12.3/s extra" on one line,
 * redrawn at most every 100 ms. It is quiet unless its stream is a terminal
 * (so logs and pipes stay clean) or `force` was set. */
typedef struct nsr_progress {
  FILE *stream;
  const char *label;
  uint64_t total;       /* 0 = unknown: show a count and a rate only */
  uint64_t start_ns;
  uint64_t last_draw_ns;
  bool active;          /* false: every call is a no-op */
  bool drawn;           /* something is on the line and must be ended */
} nsr_progress;

/* Starts a bar on stderr when stderr is a terminal. */
void nsr_progress_start(nsr_progress *bar, const char *label, uint64_t total);
/* Starts a bar on `stream`; draws even when it is not a terminal if force. */
void nsr_progress_start_on(nsr_progress *bar, FILE *stream, const char *label,
                           uint64_t total, bool force);
/* Reports `done` units finished; `extra` (may be NULL) is shown after the
 * rate, e.g. "loss 0.231". */
void nsr_progress_update(nsr_progress *bar, uint64_t done, const char *extra);
/* Draws the final state and ends the line. */
void nsr_progress_finish(nsr_progress *bar, uint64_t done, const char *extra);

#endif
