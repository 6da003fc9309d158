/* test_workdir.h: a scratch directory for one test executable, made before
 * its tests run and removed after, as cmocka group setup and teardown. */
#ifndef NSR_TEST_WORKDIR_H
#define NSR_TEST_WORKDIR_H

#include <stdio.h>
#include <stdlib.h>

static char workdir[] = "/tmp/nsr_bridge_XXXXXX";

static int workdir_setup(void **state) {
  (void)state;
  return mkdtemp(workdir) ? 0 : -1;
}

static int workdir_teardown(void **state) {
  (void)state;
  char cmd[sizeof workdir + 16];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", workdir);
  return system(cmd) == 0 ? 0 : -1;
}

#endif
