/* test_lang_run.c: `nsr run` (bridge/cmd_run.c): options, exit statuses,
 * plain and JSON output, program arguments. Output is captured by pointing
 * file descriptors 1 and 2 at temporary files. */
#include "lang_test.h"

#include <stdio.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int cmd_run(int argc, char **argv);
int cmd_repl(int argc, char **argv);

typedef struct captured {
  int status;
  char out[8192], err[8192];
} captured;

static void slurp(FILE *f, char *buf, size_t len) {
  rewind(f);
  size_t n = fread(buf, 1, len - 1, f);
  buf[n] = '\0';
  fclose(f);
}

/* Runs cmd_run (or cmd_repl reading input[0..len)) on a NULL-terminated
 * argument list (argv[0] = "run" or "repl"). */
static void run_with_bytes(captured *c, const char *const *args, const char *input, size_t len) {
  char *argv[32];
  int argc = 0;
  for (; args[argc] != NULL; argc++) argv[argc] = (char *)args[argc];
  argv[argc] = NULL;
  FILE *out = tmpfile(), *err = tmpfile();
  assert_non_null(out);
  assert_non_null(err);
  fflush(stdout);
  fflush(stderr);
  int saved_out = dup(1), saved_err = dup(2), saved_in = dup(0);
  dup2(fileno(out), 1);
  dup2(fileno(err), 2);
  FILE *in = NULL;
  if (input != NULL) {
    in = tmpfile();
    assert_non_null(in);
    assert_int_equal(fwrite(input, 1, len, in), len);
    rewind(in);
    dup2(fileno(in), 0);
    clearerr(stdin);
    /* drops what an earlier run left in stdin's buffer (a session ended
     * by (exit) reads no further) */
    __fpurge(stdin);
  }
  c->status = input != NULL ? cmd_repl(argc, argv) : cmd_run(argc, argv);
  fflush(stdout);
  fflush(stderr);
  dup2(saved_out, 1);
  dup2(saved_err, 2);
  dup2(saved_in, 0);
  close(saved_out);
  close(saved_err);
  close(saved_in);
  if (in != NULL) fclose(in);
  slurp(out, c->out, sizeof c->out);
  slurp(err, c->err, sizeof c->err);
}

/* run_with_bytes on a string (NULL: cmd_run). */
static void run_with_input(captured *c, const char *const *args, const char *input) {
  run_with_bytes(c, args, input, input ? strlen(input) : 0);
}

static void run(captured *c, const char *const *args) { run_with_input(c, args, NULL); }

static char *write_program(const char *text) {
  static char path[64];
  snprintf(path, sizeof path, "/tmp/nsr-lang-run-XXXXXX");
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
  close(fd);
  return path;
}

/* c failed with `status` and exactly one line on stderr that starts with
 * `prefix` and contains `needle`. */
static void expect_one_error_line(const captured *c, int status, const char *prefix,
                                  const char *needle) {
  if (c->status != status) fail_msg("status %d, want %d; stderr: %s", c->status, status, c->err);
  const char *nl = strchr(c->err, '\n');
  if (nl == NULL || nl[1] != '\0' || strncmp(c->err, prefix, strlen(prefix)) != 0 ||
      strstr(c->err, needle) == NULL) {
    fail_msg("want one line '%s...%s...', got: %s", prefix, needle, c->err);
  }
}

static void test_help_and_usage(void **state) {
  (void)state;
  captured c;
  run(&c, (const char *[]){"run", "--help", NULL});
  assert_int_equal(c.status, 0);
  const char *run_options[] = {"Usage: nsr run [OPTIONS] [FILE.church] [-- ARG ...]",
                               "-e, --eval EXPR", "--seed S", "--max-steps N",
                               "--max-memory BYTES", "(default: 512M)", "--max-time SECONDS",
                               "0 = none (0..1e+09, default: 20)",
                               "--max-paths N", "--webchurch", "--foreign LIB:FUNC:SIG",
                               "--json", "command-line-arguments"};
  for (size_t i = 0; i < sizeof run_options / sizeof run_options[0]; i++) {
    if (strstr(c.out, run_options[i]) == NULL) fail_msg("'%s' not in: %s", run_options[i], c.out);
  }
  run(&c, (const char *[]){"run", NULL});
  expect_one_error_line(&c, 2, "nsr run: ", "no program given");
  run(&c, (const char *[]){"run", "-e", "1", "--bogus", NULL});
  expect_one_error_line(&c, 2, "nsr run: ", "unknown option '--bogus' (see 'nsr run --help')");
  run(&c, (const char *[]){"run", "-e", NULL});
  expect_one_error_line(&c, 2, "nsr run: ", "--eval needs a value");
  run(&c, (const char *[]){"run", "-e", "1", "--seed", "x", NULL});
  expect_one_error_line(&c, 2, "nsr run: ", "--seed: 'x' is not a whole number");
  run(&c, (const char *[]){"run", "-e", "1", "--max-memory", "12Q", NULL});
  expect_one_error_line(&c, 2, "nsr run: ", "--max-memory: '12Q'");
  run(&c, (const char *[]){"run", "-e", "1", "--max-time", "-1", NULL});
  expect_one_error_line(&c, 2, "nsr run: ", "--max-time");
  run(&c, (const char *[]){"run", "-e", "1", "prog.church", NULL});
  expect_one_error_line(&c, 2, "nsr run: ", "not both");
  /* A missing file is reported like every other error: one prefixed line. */
  run(&c, (const char *[]){"run", "/nonexistent/prog.church", NULL});
  expect_one_error_line(&c, 2, "nsr run: ", "/nonexistent/prog.church: No such file or directory");
  /* nsr repl names itself, not nsr run. */
  run_with_input(&c, (const char *[]){"repl", "--bogus", NULL}, "");
  expect_one_error_line(&c, 2, "nsr repl: ", "unknown option '--bogus' (see 'nsr repl --help')");
  run_with_input(&c, (const char *[]){"repl", "--max-steps", NULL}, "");
  expect_one_error_line(&c, 2, "nsr repl: ", "--max-steps needs a value");
  run_with_input(&c, (const char *[]){"repl", "--json", NULL}, "");
  expect_one_error_line(&c, 2, "nsr repl: ", "unknown option '--json'");
  run_with_input(&c, (const char *[]){"repl", "--help", NULL}, "");
  assert_int_equal(c.status, 0);
  assert_non_null(strstr(c.out, "Usage: nsr repl [OPTIONS]"));
  assert_non_null(strstr(c.out, "--webchurch"));
  assert_null(strstr(c.out, "--foreign"));
}

static void test_plain_output(void **state) {
  (void)state;
  captured c;
  run(&c, (const char *[]){"run", "-e", "(display \"hello\") (+ 1 2)", NULL});
  assert_int_equal(c.status, 0);
  assert_string_equal(c.out, "hello\n3\n");
  /* A define as the last form prints nothing more. */
  run(&c, (const char *[]){"run", "-e", "(define x 1)", NULL});
  assert_string_equal(c.out, "");
}

static void test_errors_and_statuses(void **state) {
  (void)state;
  captured c;
  char *path = write_program("(define x 1)\n(display (+ x 2)))\n");
  run(&c, (const char *[]){"run", path, NULL});
  /* bad input: a syntax error, its position inside the one line */
  expect_one_error_line(&c, 2, "nsr run: /tmp/nsr-lang-run-", ":2:18: unbalanced ')'");
  assert_string_equal(c.out, "");
  unlink(path);
  path = write_program("(display 1)\n(car '())\n");
  run(&c, (const char *[]){"run", path, NULL});
  /* a program error, after its output */
  expect_one_error_line(&c, 2, "nsr run: /tmp/nsr-lang-run-", ":2:1: car: the list is empty");
  assert_string_equal(c.out, "1\n");
  unlink(path);
  run(&c, (const char *[]){"run", "-e", "(define (f) (f)) (f)", "--max-steps", "1000", NULL});
  expect_one_error_line(&c, 2, "nsr run: <expr>:", "step budget of 1000 steps exhausted (--max-steps)");
  run(&c, (const char *[]){"run", "-e", "(make-list 10000000 1)", "--max-memory", "4M", NULL});
  assert_int_equal(c.status, 2);
  assert_non_null(strstr(c.err, "memory budget of 4194304 bytes exhausted (--max-memory)"));
  run(&c, (const char *[]){"run", "-e", "(enumeration-query (define (g) (if (flip) 0 (+ 1 (g)))) (g) #t)",
                           "--max-paths", "50", NULL});
  assert_int_equal(c.status, 2);
  assert_non_null(strstr(c.err, "enumeration stopped after 50 paths (--max-paths)"));
}

static void test_json_output(void **state) {
  (void)state;
  captured c;
  run(&c, (const char *[]){"run", "--json", "-e",
                           "(display \"a\\\"b\") (enumeration-query (define a (flip)) a #t)", NULL});
  assert_int_equal(c.status, 0);
  assert_string_equal(c.out, "{\"value\":[[true,false],[0.5,0.5]],\"output\":\"a\\\"b\\n\"}\n");
  run(&c, (const char *[]){"run", "--json", "-e", "(list 'sym \"str\" 1.5 (vector 1 2))", NULL});
  assert_string_equal(c.out, "{\"value\":[\"sym\",\"str\",1.5,[1,2]],\"output\":\"\"}\n");
}

static void test_seed_and_arguments(void **state) {
  (void)state;
  captured a, b, c;
  run(&a, (const char *[]){"run", "--seed", "42", "-e", "(repeat 20 flip)", NULL});
  run(&b, (const char *[]){"run", "--seed", "42", "-e", "(repeat 20 flip)", NULL});
  run(&c, (const char *[]){"run", "--seed", "43", "-e", "(repeat 20 flip)", NULL});
  assert_string_equal(a.out, b.out);
  assert_string_not_equal(a.out, c.out);
  run(&a, (const char *[]){"run", "-e", "command-line-arguments", "--", "x", "--json", "--help", NULL});
  assert_int_equal(a.status, 0);
  assert_string_equal(a.out, "(\"x\" \"--json\" \"--help\")\n");
  char *path = write_program("(display command-line-arguments)");
  run(&a, (const char *[]){"run", path, "--seed", "3", "--", "16", "-e", NULL});
  assert_int_equal(a.status, 0);
  assert_string_equal(a.out, "(16 -e)\n");
  unlink(path);
}

static void test_repl(void **state) {
  (void)state;
  captured c;
  run_with_input(&c, (const char *[]){"repl", "--seed", "1", NULL},
                 "(define x 2)\n(+ x\n   3) ; a comment with a (\n(car '())\n\"a;b(\"\n(display 'hi)\n");
  assert_int_equal(c.status, 0);
  assert_string_equal(c.out, "5\n\"a;b(\"\nhi\n");
  /* positions count the session's lines: the error is on line 4 */
  assert_non_null(strstr(c.err, "<repl>:4:1: car: the list is empty"));
  run_with_input(&c, (const char *[]){"repl", "prog.church", NULL}, "");
  expect_one_error_line(&c, 2, "nsr repl: ", "unexpected argument 'prog.church'");
  /* (exit) ends the session at once with status 0, even inside a form */
  run_with_input(&c, (const char *[]){"repl", NULL},
                 "(display 1)\n(begin (exit) (display 2))\n(display 3)\n");
  assert_int_equal(c.status, 0);
  assert_string_equal(c.out, "1\n");
  assert_string_equal(c.err, "");
  run_with_input(&c, (const char *[]){"repl", NULL}, "(exit 1)\n(display 3)\n");
  assert_int_equal(c.status, 0);
  assert_string_equal(c.out, "3\n");
  assert_non_null(strstr(c.err, "<repl>:1:1: exit: expected 0 arguments, got 1"));
}

/* Issue 19: the REPL reads each line whole by its true length. A NUL
 * byte drops its line (and the form it was in) with a message naming the
 * line, instead of swallowing the next forms; a line longer than the old
 * 4 KiB buffer is one line, not two; an unfinished form at end of input
 * reports its error instead of vanishing. */
static void test_repl_lines(void **state) {
  (void)state;
  char input[8192];
  size_t len = 0;
  static const char nul[] = "(+ 1\0 2)\n(+ 3 4)\n(+ 10\n 20)\n\"";
  memcpy(input, nul, sizeof nul - 1);
  len += sizeof nul - 1;
  memset(input + len, 'a', 5000); /* a string literal on one long line */
  len += 5000;
  memcpy(input + len, "\"\r\n(+ 5", 7);
  len += 7;
  captured c;
  run_with_bytes(&c, (const char *[]){"repl", NULL}, input, len);
  assert_int_equal(c.status, 0);
  char want[6000];
  snprintf(want, sizeof want, "7\n30\n\"%.*s\"\n", 5000, input + sizeof nul - 1);
  assert_string_equal(c.out, want);
  assert_non_null(strstr(c.err, "nsr repl: line 1 holds a NUL byte; dropped\n"));
  assert_non_null(strstr(c.err, "'(' is never closed"));
}

/* nsr run lets the user's program load files (run_program does not: the
 * library's default refuses, see test_lang_compat), under --max-steps. */
static void test_load(void **state) {
  (void)state;
  char lib[64], src[128];
  snprintf(lib, sizeof lib, "%s", write_program("(define (twice x) (* 2 x))\n"));
  snprintf(src, sizeof src, "(load \"%s\") (twice 21)", lib);
  captured c;
  run(&c, (const char *[]){"run", "-e", src, NULL});
  assert_int_equal(c.status, 0);
  assert_string_equal(c.out, "42\n");
  char *spin = write_program("(let loop () (loop))\n");
  snprintf(src, sizeof src, "(load \"%s\")", spin);
  run(&c, (const char *[]){"run", "--max-steps", "10000", "-e", src, NULL});
  expect_one_error_line(&c, 2, "nsr run: ", "step budget of 10000 steps exhausted");
  unlink(spin);
  unlink(lib);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_help_and_usage),
      cmocka_unit_test(test_plain_output),
      cmocka_unit_test(test_errors_and_statuses),
      cmocka_unit_test(test_json_output),
      cmocka_unit_test(test_seed_and_arguments),
      cmocka_unit_test(test_load),
      cmocka_unit_test(test_repl),
      cmocka_unit_test(test_repl_lines),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
