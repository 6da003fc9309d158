/* cli_runner.c: see cli_runner.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli_runner.h"
#include "nsr_test_util.h"

char cli_workdir[] = "/tmp/nsr_cli_XXXXXX";
static const char *nsr_bin;

int cli_runner_init(const char *nsr_path) {
  nsr_bin = nsr_path;
  return mkdtemp(cli_workdir) == NULL ? -1 : 0;
}

int cli_runner_cleanup(void) {
  char cmd[300];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", cli_workdir);
  return system(cmd);
}

int cli_runner_finish(int failed) {
  int removed = cli_runner_cleanup() == 0;
  return failed != 0 || removed ? failed : 1;
}

char *slurp(const char *path) {
  FILE *f = fopen(path, "rb");
  if (f == NULL) fail_msg("cannot open %s", path);
  fseek(f, 0, SEEK_END);
  long len = ftell(f);
  rewind(f);
  char *buf = calloc((size_t)len + 1, 1);
  assert_int_equal(fread(buf, 1, (size_t)len, f), (size_t)len);
  fclose(f);
  return buf;
}

run_result run_to(const char *input, const char *stdout_path, const char *const *args) {
  char out_path[300], err_path[300], in_path[300];
  snprintf(out_path, sizeof out_path, "%s/stdout", cli_workdir);
  snprintf(err_path, sizeof err_path, "%s/stderr", cli_workdir);
  snprintf(in_path, sizeof in_path, "%s/stdin", cli_workdir);
  FILE *in = fopen(in_path, "w");
  if (input) fputs(input, in);
  fclose(in);
  const char *argv[64] = {nsr_bin};
  size_t n = 1;
  for (; args[n - 1] != NULL; n++) argv[n] = args[n - 1];
  argv[n] = NULL;
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    int fi = open(in_path, O_RDONLY);
    int fo = open(stdout_path ? stdout_path : out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int fe = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(fi, 0);
    dup2(fo, 1);
    dup2(fe, 2);
    execv(nsr_bin, (char *const *)argv);
    _exit(127);
  }
  int status;
  assert_int_equal(waitpid(pid, &status, 0), pid);
  run_result r = {WIFEXITED(status) ? WEXITSTATUS(status) : -1,
                  stdout_path ? calloc(1, 1) : slurp(out_path), slurp(err_path)};
  return r;
}

void run_free(run_result *r) {
  free(r->out);
  free(r->err);
  r->out = r->err = NULL;
}

run_result run_line(const char *prefix, const char *args, const char *input) {
  char cmd[8192], path[300];
  int len = snprintf(cmd, sizeof cmd, "cd '%s' && %s'%s' %s < %s > stdout 2> stderr", cli_workdir,
                     prefix ? prefix : "", nsr_bin, args, input ? input : "/dev/null");
  if (len < 0 || (size_t)len >= sizeof cmd) fail_msg("command line too long: %s", args);
  int st = system(cmd);
  run_result r = {.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1};
  snprintf(path, sizeof path, "%s/stdout", cli_workdir);
  r.out = slurp(path);
  snprintf(path, sizeof path, "%s/stderr", cli_workdir);
  r.err = slurp(path);
  return r;
}

void expect_run_all(run_result r, int status, const char *const *needles) {
  if (r.status != status) fail_msg("status %d, want %d; stderr: %s", r.status, status, r.err);
  const char *text = status == 0 ? r.out : r.err;
  for (; *needles != NULL; needles++) {
    if (strstr(text, *needles) == NULL) fail_msg("'%s' not in: %s", *needles, text);
  }
  run_free(&r);
}

void expect_run(run_result r, int status, const char *needle) {
  expect_run_all(r, status, (const char *const[]){needle, NULL});
}

const char *cli_write(const char *name, const char *text) {
  return cli_write_bytes(name, text, strlen(text));
}

const char *cli_write_bytes(const char *name, const void *bytes, size_t len) {
  static char path[600];
  snprintf(path, sizeof path, "%s/%s", cli_workdir, name);
  FILE *f = fopen(path, "wb");
  if (f == NULL || fwrite(bytes, 1, len, f) != len || fclose(f) != 0) fail_msg("cannot write %s", path);
  return path;
}

json_t *parse_json(const char *text) {
  json_error_t jerr;
  json_t *v = json_loads(text, 0, &jerr);
  if (v == NULL) fail_msg("bad JSON (%s): %.200s", jerr.text, text);
  return v;
}

void expect_usage_error(run_result r, const char *needle) {
  if (r.status != 2) fail_msg("status %d, stderr: %s", r.status, r.err);
  assert_string_equal(r.out, "");
  char *nl = strchr(r.err, '\n');
  assert_non_null(nl);
  assert_int_equal(nl[1], '\0');
  if (strstr(r.err, needle) == NULL) fail_msg("'%s' not in: %s", needle, r.err);
  run_free(&r);
}
