/* nsr_test_util.h: small helpers that suites in several test areas share:
 * files written and removed for a test, the human data sets, and a
 * tolerance check with a readable failure. Each fails the running cmocka
 * test on anything unexpected. */
#ifndef NSR_TEST_UTIL_H
#define NSR_TEST_UTIL_H

/* Writes `text` to `path`, replacing the file; fails the test when the
 * file cannot be opened. */
void write_text_file(const char *path, const char *text);

/* Removes a SQLite file and the -wal and -shm files WAL mode leaves next to
 * it (each may be missing). */
void remove_sqlite_file(const char *path);

/* The whole file at path, *size its length (caller frees). */
unsigned char *read_file_bytes(const char *path, long *size);

/* Overwrites the first 64 bytes of page `page` (1-based; page 1 holds the
 * header) of the SQLite file at path with 0xff: a damaged page that
 * PRAGMA quick_check reports. */
void damage_sqlite_page(const char *path, long page);

/* The path of tests/data/NAME: the folder comes from NSR_TEST_DATA (set by
 * tests/meson.build), else "tests/data". A static buffer, overwritten by
 * the next call. */
const char *test_data_path(const char *name);

/* |got - want| <= tol, else a failure naming `what` with both values. */
void assert_near(double got, double want, double tol, const char *what);

#endif
