/* cli_runner.h: runs the real `nsr` binary for CLI tests (a process with
 * its stdin, stdout and stderr in files) and checks its answers. */
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

/* Runs nsr with args (NULL-terminated), stdin from `input` (may be NULL),
 * stdout to `stdout_path` (NULL = captured into .out). */
run_result run_to(const char *input, const char *stdout_path, const char *const *args);
#define RUN(...) run_to(NULL, NULL, (const char *const[]){__VA_ARGS__, NULL})
void run_free(run_result *r);

/* Reads a whole file into a calloc'd string (fails the test if missing). */
char *slurp(const char *path);
/* Parses JSON or fails the test. */
json_t *parse_json(const char *text);
/* A usage error: status 2, nothing on stdout, exactly one line on stderr
 * that contains `needle`. Frees r. */
void expect_usage_error(run_result r, const char *needle);

#endif
