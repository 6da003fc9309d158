/* scratch.c: see scratch.h. */
#include "scratch.h"

#include <stdio.h>
#include <stdlib.h>

static char dir[] = "/dev/shm/nsr_harden_XXXXXX";

bool scratch_make(void) { return mkdtemp(dir) != NULL; }

const char *scratch_path(const char *name) {
  static char paths[4][300];
  static unsigned next;
  char *p = paths[next++ % 4];
  snprintf(p, sizeof paths[0], "%s/%s", dir, name);
  return p;
}

bool scratch_remove(void) {
  char cmd[sizeof dir + 16];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  return system(cmd) == 0;
}
