/* scratch.h: a scratch directory for one hardening test process, in
 * /dev/shm: the store's fsyncs on a disk would make the hundreds of runs of
 * these tests take minutes, and neither allocation failure nor a SIGKILL
 * needs the data to reach the disk. */
#ifndef NSR_HARDEN_SCRATCH_H
#define NSR_HARDEN_SCRATCH_H

#include <stdbool.h>

/* Creates the directory; false when it cannot. */
bool scratch_make(void);
/* NAME inside it. The result lives until the fourth next call, so a few
 * paths can be held at once. */
const char *scratch_path(const char *name);
/* Removes the directory and everything in it; false on failure. */
bool scratch_remove(void);

#endif
