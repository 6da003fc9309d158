/* nsr_test_util.c: see nsr_test_util.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "nsr_test_util.h"

void write_text_file(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  if (f == NULL) fail_msg("cannot write %s", path);
  fputs(text, f);
  fclose(f);
}

void remove_sqlite_file(const char *path) {
  unlink(path);
  char side[1024];
  snprintf(side, sizeof side, "%s-wal", path);
  unlink(side);
  snprintf(side, sizeof side, "%s-shm", path);
  unlink(side);
}

const char *test_data_path(const char *name) {
  static char path[1024];
  const char *dir = getenv("NSR_TEST_DATA");
  snprintf(path, sizeof path, "%s/%s", dir ? dir : "tests/data", name);
  return path;
}

void assert_near(double got, double want, double tol, const char *what) {
  if (!(fabs(got - want) <= tol)) fail_msg("%s: got %.12g, want %.12g (tol %g)", what, got, want, tol);
}
