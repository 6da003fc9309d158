/* test_repl_tty.c: `nsr repl` on a real terminal (a pseudo-terminal from
 * forkpty), typed at as a person would: a multi-line form, the Up arrow,
 * an error's position within the input, Ctrl-C at the prompt and during a
 * long-running loop (the session and its definitions stay), (exit), end
 * of input, and the history file. Every wait has a deadline, so a hang
 * fails the test instead of blocking the run. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

static const char *nsr_path;
static char workdir[] = "/tmp/nsr-repl-tty-XXXXXX";

/* A running session: the terminal's master side and what it printed. */
typedef struct session {
  pid_t pid;
  int fd;
  char out[1 << 16];
  size_t len;
  size_t seen; /* what earlier expectations consumed */
} session;

/* The longest any expected text may take to appear. Generous: it bounds a
 * hang, it does not measure speed. */
#define DEADLINE_SECONDS 20.0

static double now_seconds(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Reads what the session printed for up to `seconds`; false at its end. */
static bool pump(session *s, double seconds) {
  struct pollfd p = {.fd = s->fd, .events = POLLIN};
  int n = poll(&p, 1, (int)(seconds * 1000));
  if (n <= 0) return true;
  if (s->len + 1 >= sizeof s->out) return false;
  ssize_t got = read(s->fd, s->out + s->len, sizeof s->out - 1 - s->len);
  if (got <= 0) return false; /* EIO: the session closed the terminal */
  s->len += (size_t)got;
  s->out[s->len] = '\0';
  return true;
}

static void session_kill(session *s) {
  if (s->pid > 0) {
    kill(s->pid, SIGKILL);
    waitpid(s->pid, NULL, 0);
    s->pid = 0;
  }
  if (s->fd >= 0) close(s->fd);
  s->fd = -1;
}

/* Waits until `needle` appears after what was already seen, and marks it
 * seen; fails the test (showing the screen) past the deadline. */
static void expect(session *s, const char *needle) {
  double end = now_seconds() + DEADLINE_SECONDS;
  for (;;) {
    const char *hit = strstr(s->out + s->seen, needle);
    if (hit != NULL) {
      s->seen = (size_t)(hit - s->out) + strlen(needle);
      return;
    }
    if (now_seconds() > end || !pump(s, 0.1)) {
      fprintf(stderr, "waited for \"%s\"; the terminal showed:\n%s\n", needle, s->out);
      session_kill(s);
      fail();
    }
  }
}

static void type_bytes(session *s, const char *keys, size_t n) {
  assert_int_equal(write(s->fd, keys, n), (ssize_t)n);
}

static void type(session *s, const char *keys) { type_bytes(s, keys, strlen(keys)); }

/* Starts `nsr repl ARGS...` on a new terminal 100 columns wide. */
static void session_start(session *s, const char *const *args) {
  memset(s, 0, sizeof *s);
  struct winsize ws = {.ws_row = 40, .ws_col = 100};
  pid_t pid = forkpty(&s->fd, NULL, NULL, &ws);
  assert_true(pid >= 0);
  if (pid == 0) {
    const char *argv[16] = {nsr_path, "repl"};
    int n = 2;
    for (; args[n - 2] != NULL && n < 15; n++) argv[n] = args[n - 2];
    argv[n] = NULL;
    setenv("TERM", "xterm", 1);
    setenv("HOME", workdir, 1);
    unsetenv("XDG_STATE_HOME");
    unsetenv("NSR_HISTORY");
    execv(nsr_path, (char *const *)argv);
    _exit(127);
  }
  s->pid = pid;
}

/* Waits for the session's end; returns its exit status (-1: a signal). */
static int session_wait(session *s) {
  double end = now_seconds() + DEADLINE_SECONDS;
  int status = 0;
  for (;;) {
    pid_t r = waitpid(s->pid, &status, WNOHANG);
    if (r == s->pid) break;
    if (now_seconds() > end) {
      fprintf(stderr, "the session did not end; the terminal showed:\n%s\n", s->out);
      session_kill(s);
      fail();
    }
    (void)pump(s, 0.05);
  }
  s->pid = 0;
  while (pump(s, 0.05) && s->len < sizeof s->out - 1) {
  }
  close(s->fd);
  s->fd = -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* After a burst of Ctrl-C: a ^C still on its way through the terminal
 * would clear the next line typed, so forms are typed until one answers
 * (each a different sum, found by its value, not its echo). */
static void sync_after_ctrl_c(session *s) {
  double end = now_seconds() + DEADLINE_SECONDS;
  for (int k = 1;; k++) {
    char form[64], value[64];
    snprintf(form, sizeof form, "(+ 1000 %d)\r", k);
    snprintf(value, sizeof value, "\n%d\r\n", 1000 + k);
    type(s, form);
    for (double wait = now_seconds() + 1.0; now_seconds() < wait;) {
      if (strstr(s->out + s->seen, value) != NULL) {
        expect(s, value);
        expect(s, "church> ");
        return;
      }
      if (!pump(s, 0.1)) break;
    }
    if (now_seconds() > end) fail_msg("no answer after Ctrl-C:\n%s", s->out);
  }
}

static void test_session(void **state) {
  (void)state;
  char history[512];
  snprintf(history, sizeof history, "%s/history", workdir);
  session s;
  /* no step or time budget: only Ctrl-C can stop the loop below */
  session_start(&s, (const char *[]){"--history", history, "--max-steps", "0", "--max-time", "0", NULL});
  expect(&s, "church> ");
  type(&s, "(define x 41)\r"); /* session line 1 */
  expect(&s, "church> ");
  /* a multi-line form: the continuation prompt while '(' is open */
  type(&s, "(+ x\r"); /* line 2 */
  expect(&s, "...> ");
  type(&s, "   1)\r"); /* line 3 */
  expect(&s, "42");
  expect(&s, "church> ");
  type(&s, "(* x 2)\r"); /* line 4 */
  expect(&s, "82");
  expect(&s, "church> ");
  /* the Up arrow recalls the last line instead of typing "[A" */
  type(&s, "\033[A\r"); /* line 5 */
  expect(&s, "82");
  expect(&s, "church> ");
  /* an error points at the line and column as typed in the session */
  type(&s, "(list 1\r"); /* line 6 */
  expect(&s, "...> ");
  type(&s, "  oops)\r"); /* line 7 */
  expect(&s, "<repl>:7:3: unbound variable 'oops'");
  expect(&s, "church> ");
  /* Ctrl-C at the prompt throws the line away */
  type(&s, "(undefined-thing");
  expect(&s, "(undefined-thing");
  type(&s, "\003");
  expect(&s, "church> ");
  type(&s, "(+ 1 2)\r"); /* line 8 */
  expect(&s, "3");
  expect(&s, "church> ");
  /* Ctrl-C stops a loop that would run for hours (no time budget) */
  type(&s, "(define (spin n) (if (= n 0) 'done (spin (- n 1))))\r"); /* line 9 */
  expect(&s, "church> ");
  type(&s, "(spin 1000000000000)\r"); /* line 10 */
  /* Ctrl-C flushes what the terminal holds unread: wait until the line
   * was read whole (echoed with its newline) */
  expect(&s, "(spin 1000000000000)\r\n");
  /* Ctrl-C until the form reports it: one typed before the form starts
   * is not the form's, so the test does not depend on timing. */
  double end = now_seconds() + DEADLINE_SECONDS;
  while (strstr(s.out + s.seen, "interrupted") == NULL) {
    type(&s, "\003");
    for (double wait = now_seconds() + 0.5;
         now_seconds() < wait && strstr(s.out + s.seen, "interrupted") == NULL;) {
      if (!pump(&s, 0.1)) break;
    }
    if (now_seconds() > end) {
      fprintf(stderr, "Ctrl-C did not stop the loop; the terminal showed:\n%s\n", s.out);
      session_kill(&s);
      fail();
    }
  }
  expect(&s, "<repl>:9:");
  expect(&s, ": interrupted");
  sync_after_ctrl_c(&s);
  /* the session and its definitions are still there */
  type(&s, "(list x (spin 3))\r");
  expect(&s, "(41 done)");
  expect(&s, "church> ");
  type(&s, "(exit)\r");
  assert_int_equal(session_wait(&s), 0);
  assert_null(strstr(s.out, "undefined-thing'")); /* it was never evaluated */
  assert_null(strstr(s.out, "[A"));
  /* the history file holds the lines typed (libedit writes a space as
   * \040) */
  FILE *f = fopen(history, "r");
  assert_non_null(f);
  char text[4096];
  size_t n = fread(text, 1, sizeof text - 1, f);
  fclose(f);
  text[n] = '\0';
  assert_non_null(strstr(text, "(define\\040x\\04041)"));
  assert_non_null(strstr(text, "(exit)"));
  /* a new session recalls the last session's lines */
  session_start(&s, (const char *[]){"--history", history, NULL});
  expect(&s, "church> ");
  type(&s, "\033[A\033[A\r");
  /* (list x (spin 3)) again, in a session where x is not defined (the
   * terminal redraws only what changed, so its echo is not whole) */
  expect(&s, "<repl>:1:7: unbound variable 'x'");
  expect(&s, "church> ");
  type(&s, "(exit)\r");
  assert_int_equal(session_wait(&s), 0);
}

/* End of input (Ctrl-D) ends the session with status 0; an unfinished
 * form is evaluated so its error is shown; --no-history writes no file
 * (HOME is the work directory, the default place). */
static void test_end_of_input(void **state) {
  (void)state;
  session s;
  session_start(&s, (const char *[]){"--no-history", NULL});
  expect(&s, "church> ");
  type(&s, "(define y 5) (+ y\r");
  expect(&s, "...> ");
  type(&s, "\004");
  assert_int_equal(session_wait(&s), 0);
  assert_non_null(strstr(s.out, "'(' is never closed"));
  struct stat st;
  char path[512];
  snprintf(path, sizeof path, "%s/.local/state/nsr/history", workdir);
  assert_int_equal(stat(path, &st), -1);
  /* without --no-history the default file is made */
  session_start(&s, (const char *[]){NULL});
  expect(&s, "church> ");
  type(&s, "'hello\r");
  expect(&s, "hello");
  expect(&s, "church> ");
  type(&s, "\004");
  assert_int_equal(session_wait(&s), 0);
  assert_int_equal(stat(path, &st), 0);
}

/* A line of 3000 bytes (a string literal), a NUL byte (Ctrl-@) and
 * unbalanced text are bad input the session survives. */
static void test_bad_input(void **state) {
  (void)state;
  session s;
  session_start(&s, (const char *[]){"--no-history", NULL});
  expect(&s, "church> ");
  char line[3100];
  memset(line, 'a', sizeof line);
  line[0] = '(';
  memcpy(line + 1, "string-length \"", 15);
  memcpy(line + 3016, "\")\r", 4);
  type(&s, line);
  expect(&s, "3000");
  expect(&s, "church> ");
  type_bytes(&s, "", 1); /* a NUL byte */
  type(&s, ")\r");
  expect(&s, "unbalanced ')'");
  expect(&s, "church> ");
  type(&s, "(+ 2 2)\r");
  expect(&s, "4");
  type(&s, "(exit)\r");
  assert_int_equal(session_wait(&s), 0);
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s NSR\n", argv[0]);
    return 2;
  }
  nsr_path = argv[1];
  if (mkdtemp(workdir) == NULL) return 1;
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_session),
      cmocka_unit_test(test_end_of_input),
      cmocka_unit_test(test_bad_input),
  };
  int failed = cmocka_run_group_tests(tests, NULL, NULL);
  char cmd[600];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", workdir);
  if (system(cmd) != 0) return failed ? failed : 1;
  return failed;
}
