/* testhook.h: named points where a crash test stops a writer. */
#ifndef NSR_TESTHOOK_H
#define NSR_TESTHOOK_H

/* The environment variable that names the point to stop at. */
#define NSR_TEST_STOP_ENV "NSR_TEST_STOP_AT"

/* Marks the point `name` in a writer ("store-commit": an extraction's
 * transaction just before its COMMIT; "atomic-rename": an atomic file
 * write just before its rename). It exists for tests/harden/test_crash.c:
 * when NSR_TEST_STOP_AT equals `name`, the process stops itself there
 * (SIGSTOP), so the test, waiting with WUNTRACED, sees it stopped at
 * exactly that point and SIGKILLs it, with no timing involved. Otherwise
 * it does nothing, at the cost of one getenv per call (each call sits
 * next to a COMMIT or an fsync, which cost far more). */
void nsr_test_hook(const char *name);

#endif
