/* nsr_test_util.c: see nsr_test_util.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

unsigned char *read_file_bytes(const char *path, long *size) {
  FILE *f = fopen(path, "rb");
  assert_non_null(f);
  assert_int_equal(fseek(f, 0, SEEK_END), 0);
  *size = ftell(f);
  rewind(f);
  unsigned char *bytes = malloc((size_t)*size);
  assert_non_null(bytes);
  assert_int_equal(fread(bytes, 1, (size_t)*size, f), (size_t)*size);
  fclose(f);
  return bytes;
}

void damage_sqlite_page(const char *path, long page) {
  FILE *f = fopen(path, "r+b");
  assert_non_null(f);
  unsigned char header[100];
  assert_int_equal(fread(header, 1, sizeof header, f), sizeof header);
  long page_size = header[16] << 8 | header[17]; /* big-endian (file format spec) */
  unsigned char junk[64];
  memset(junk, 0xff, sizeof junk);
  assert_int_equal(fseek(f, (page - 1) * page_size, SEEK_SET), 0);
  assert_int_equal(fwrite(junk, 1, sizeof junk, f), sizeof junk);
  fclose(f);
}
