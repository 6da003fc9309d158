/* testhook.c: see testhook.h. */
#include "testhook.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

void nsr_test_hook(const char *name) {
  const char *stop_at = getenv(NSR_TEST_STOP_ENV);
  if (stop_at != NULL && strcmp(stop_at, name) == 0) raise(SIGSTOP);
}
