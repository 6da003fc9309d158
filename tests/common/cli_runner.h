/* cli_runner.h: runs the real `nsr` binary for CLI tests (a process with
 * its stdin, stdout and stderr in files, started directly or by a shell
 * in the work directory) and checks its answers. The helpers fail the
 * running cmocka test on anything unexpected. */
#ifndef NSR_TEST_CLI_RUNNER_H
#define NSR_TEST_CLI_RUNNER_H

#include <jansson.h>

typedef struct run_result {
  int status; /* exit status, or -1 when killed by a signal */
  char *out;
  char *err;
} run_result;

/* A fresh temporary directory for the run's files: cli_workdir. */
extern char cli_workdir[];

/* Remembers the binary and makes cli_workdir; 0 on success. */
int cli_runner_init(const char *nsr_path);
/* Removes cli_workdir; 0 on success. */
int cli_runner_cleanup(void);
/* main's epilogue: removes cli_workdir and returns `failed` (the count of
 * failed tests), or 1 when nothing failed but the removal did. */
int cli_runner_finish(int failed);

/* Runs nsr with args (NULL-terminated), stdin from `input` (may be NULL),
 * stdout to `stdout_path` (NULL = captured into .out). */
run_result run_to(const char *input, const char *stdout_path, const char *const *args);
#define RUN(...) run_to(NULL, NULL, (const char *const[]){__VA_ARGS__, NULL})
/* Frees r's texts (and clears them, so a second call is harmless). */
void run_free(run_result *r);
/* Runs `PREFIX NSR ARGS` through the shell in cli_workdir, so relative
 * paths in `args` name files there; `args` is one command line of fixed
 * test strings (the shell splits it). `prefix` (may be NULL) goes before
 * the binary (an mpirun command line, environment settings); stdin is the
 * file `input` in cli_workdir, or /dev/null when NULL. */
run_result run_line(const char *prefix, const char *args, const char *input);

/* r exited with `status`, and its stdout (status 0) or stderr (otherwise)
 * contains every string of `needles` (NULL-terminated). Frees r. */
void expect_run_all(run_result r, int status, const char *const *needles);
#define EXPECT_RUN_ALL(r, status, ...) expect_run_all(r, status, (const char *const[]){__VA_ARGS__, NULL})
/* The same with one needle, or none when it is NULL. */
void expect_run(run_result r, int status, const char *needle);
/* Writes `text` to the file `name` in cli_workdir, replacing it. Returns
 * its path: a static buffer, overwritten by the next call. */
const char *cli_write(const char *name, const char *text);
/* The same for any bytes (NULs included). */
const char *cli_write_bytes(const char *name, const void *bytes, size_t len);

/* Reads a whole file into a calloc'd string (fails the test if missing). */
char *slurp(const char *path);
/* Parses JSON or fails the test. */
json_t *parse_json(const char *text);
/* A usage error: status 2, nothing on stdout, exactly one line on stderr
 * that contains `needle`. Frees r. */
void expect_usage_error(run_result r, const char *needle);

#endif
