/* test_atomic_fallback.c: nsr_write_file_atomic on a file system without
 * O_TMPFILE, where it writes PATH.nsr-tmp itself (core/fileio.c open_named).
 *
 * This executable is linked with -Wl,--wrap=open,--wrap=open64
 * (tests/meson.build): every open() call of the objects linked into it,
 * core/fileio.c's among them (nsr_core is a static library), reaches
 * __wrap_open or __wrap_open64 below instead. That
 * refuses O_TMPFILE with EOPNOTSUPP, as such a file system does, and counts
 * the refusals, so each test can check the fallback really ran and did not
 * pass by way of the O_TMPFILE path. Every other open is the real one. */
/* O_TMPFILE is a Linux (GNU) extension. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "nsr_core.h"

/* How many open() calls carrying O_TMPFILE were refused. */
static int tmpfile_refusals;

int __real_open(const char *path, int flags, ...);
int __real_open64(const char *path, int flags, ...);
int __wrap_open(const char *path, int flags, ...);
int __wrap_open64(const char *path, int flags, ...);

/* The open() the wrappers stand for, given the real one: refuses O_TMPFILE
 * (see the top of the file), else calls `real`. */
static int open_without_tmpfile(int (*real)(const char *, int, ...),
                                const char *path, int flags, mode_t mode) {
  if ((flags & O_TMPFILE) == O_TMPFILE) {
    tmpfile_refusals++;
    errno = EOPNOTSUPP;
    return -1;
  }
  return real(path, flags, mode);
}

/* The mode argument exists only when the flags create a file (O_CREAT, or
 * O_TMPFILE), so va_arg reads it only then. */
#define OPEN_MODE(flags, mode)                                        \
  do {                                                                \
    if ((flags) & O_CREAT || ((flags) & O_TMPFILE) == O_TMPFILE) {    \
      va_list ap;                                                     \
      va_start(ap, flags);                                            \
      (mode) = va_arg(ap, mode_t);                                    \
      va_end(ap);                                                     \
    }                                                                 \
  } while (0)

/* open() and open64(): which one fileio.c calls depends on
 * _FILE_OFFSET_BITS (Meson sets 64, so open64); both are wrapped. */
int __wrap_open(const char *path, int flags, ...) {
  mode_t mode = 0;
  OPEN_MODE(flags, mode);
  return open_without_tmpfile(__real_open, path, flags, mode);
}

int __wrap_open64(const char *path, int flags, ...) {
  mode_t mode = 0;
  OPEN_MODE(flags, mode);
  return open_without_tmpfile(__real_open64, path, flags, mode);
}

/* A fresh directory under /tmp and the paths the tests use in it. */
typedef struct {
  char dir[32];
  char path[64]; /* DIR/out.bin, the file written */
  char tmp[80];  /* PATH.nsr-tmp */
} scratch;

static void scratch_make(scratch *s) {
  snprintf(s->dir, sizeof s->dir, "/tmp/nsr_fallback_XXXXXX");
  assert_non_null(mkdtemp(s->dir));
  snprintf(s->path, sizeof s->path, "%s/out.bin", s->dir);
  snprintf(s->tmp, sizeof s->tmp, "%s%s", s->path, NSR_ATOMIC_TMP_SUFFIX);
  tmpfile_refusals = 0;
}

static void scratch_remove(const scratch *s) {
  char cmd[128];
  snprintf(cmd, sizeof cmd, "chmod -R u+w %s && rm -rf %s", s->dir, s->dir);
  assert_int_equal(system(cmd), 0);
}

/* Writes `len` bytes to `path` with plain stdio (not the code under test). */
static void put_file(const char *path, const char *data, size_t len) {
  FILE *f = fopen(path, "wb");
  assert_non_null(f);
  assert_int_equal(fwrite(data, 1, len, f), len);
  assert_int_equal(fclose(f), 0);
}

/* Fails the test unless `path` holds exactly the `len` bytes of `want`. */
static void assert_file_holds(const char *path, const char *want, size_t len) {
  char got[256];
  FILE *f = fopen(path, "rb");
  assert_non_null(f);
  size_t n = fread(got, 1, sizeof got, f);
  fclose(f);
  assert_int_equal(n, len);
  assert_memory_equal(got, want, len);
}

/* The number of entries in `dir` besides . and .. */
static int count_entries(const char *dir) {
  DIR *d = opendir(dir);
  assert_non_null(d);
  int n = 0;
  for (const struct dirent *e; (e = readdir(d)) != NULL;)
    if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) n++;
  closedir(d);
  return n;
}

static void test_fallback_writes_and_replaces(void **state) {
  (void)state;
  scratch s;
  scratch_make(&s);
  nsr_error err;
  /* Bytes a text path could lose: a NUL, a high byte, CR LF. */
  static const char first[] = {'a', '\0', 'b', (char)0xff, '\r', '\n'};
  assert_int_equal(nsr_write_file_atomic(s.path, first, sizeof first, &err), NSR_OK);
  assert_file_holds(s.path, first, sizeof first);
  assert_int_equal(nsr_write_file_atomic(s.path, "replaced", 8, &err), NSR_OK);
  assert_file_holds(s.path, "replaced", 8);
  /* An empty write leaves an empty file, not the old one. */
  assert_int_equal(nsr_write_file_atomic(s.path, "", 0, &err), NSR_OK);
  assert_file_holds(s.path, "", 0);
  assert_int_equal(count_entries(s.dir), 1); /* no PATH.nsr-tmp */
  assert_int_equal(tmpfile_refusals, 3);     /* each write tried O_TMPFILE first */
  scratch_remove(&s);
}

static void test_fallback_removes_stale_tmp(void **state) {
  (void)state;
  scratch s;
  scratch_make(&s);
  nsr_error err;
  put_file(s.path, "old", 3);
  /* A killed save's leftover: longer than the new data (so reusing it
   * without truncating would show), and read-only. */
  put_file(s.tmp, "stale bytes of a killed save", 28);
  assert_int_equal(chmod(s.tmp, 0400), 0);
  assert_int_equal(nsr_write_file_atomic(s.path, "new", 3, &err), NSR_OK);
  assert_file_holds(s.path, "new", 3);
  assert_int_equal(access(s.tmp, F_OK), -1);
  assert_int_equal(count_entries(s.dir), 1);
  /* A leftover that is a symlink is removed, not written through. */
  char victim[80];
  snprintf(victim, sizeof victim, "%s/victim", s.dir);
  put_file(victim, "victim", 6);
  assert_int_equal(symlink(victim, s.tmp), 0);
  assert_int_equal(nsr_write_file_atomic(s.path, "newer", 5, &err), NSR_OK);
  assert_file_holds(s.path, "newer", 5);
  assert_file_holds(victim, "victim", 6);
  assert_int_equal(access(s.tmp, F_OK), -1);
  assert_int_equal(count_entries(s.dir), 2); /* out.bin and victim */
  assert_int_equal(tmpfile_refusals, 2);
  scratch_remove(&s);
}

/* A failed write reports an error naming `path` and the failing step. */
static void assert_failed(nsr_code rc, const nsr_error *err, const char *path,
                          const char *step) {
  assert_int_equal(rc, NSR_ERR_IO);
  assert_non_null(strstr(err->message, path));
  assert_non_null(strstr(err->message, step));
}

static void test_fallback_failures_keep_the_old_file(void **state) {
  (void)state;
  scratch s;
  scratch_make(&s);
  nsr_error err;
  /* PATH.nsr-tmp is a directory (not a stale file the write may remove):
   * the temporary file cannot be made and the old file stays. */
  put_file(s.path, "old", 3);
  assert_int_equal(mkdir(s.tmp, 0700), 0);
  assert_failed(nsr_write_file_atomic(s.path, "new", 3, &err), &err, s.path, "(open)");
  assert_file_holds(s.path, "old", 3);
  assert_int_equal(rmdir(s.tmp), 0);
  /* PATH is a directory: the temporary file is written, the rename fails,
   * and the temporary file is removed again. */
  char inside[80];
  snprintf(inside, sizeof inside, "%s/keep", s.path);
  assert_int_equal(unlink(s.path), 0);
  assert_int_equal(mkdir(s.path, 0700), 0);
  put_file(inside, "kept", 4);
  assert_failed(nsr_write_file_atomic(s.path, "new", 3, &err), &err, s.path, "(rename)");
  assert_int_equal(access(s.tmp, F_OK), -1);
  assert_file_holds(inside, "kept", 4);
  assert_int_equal(count_entries(s.dir), 1);
  assert_int_equal(tmpfile_refusals, 2);
  scratch_remove(&s);
}

/* A directory the process may not write to. Root writes anywhere, so the
 * test is skipped there (the failures above cover root). */
static void test_fallback_unwritable_directory(void **state) {
  (void)state;
  if (geteuid() == 0) skip();
  scratch s;
  scratch_make(&s);
  nsr_error err;
  put_file(s.path, "old", 3);
  assert_int_equal(chmod(s.dir, 0500), 0);
  assert_failed(nsr_write_file_atomic(s.path, "new", 3, &err), &err, s.path, "(open)");
  assert_file_holds(s.path, "old", 3);
  assert_int_equal(count_entries(s.dir), 1);
  assert_int_equal(tmpfile_refusals, 1);
  scratch_remove(&s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_fallback_writes_and_replaces),
      cmocka_unit_test(test_fallback_removes_stale_tmp),
      cmocka_unit_test(test_fallback_failures_keep_the_old_file),
      cmocka_unit_test(test_fallback_unwritable_directory),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
