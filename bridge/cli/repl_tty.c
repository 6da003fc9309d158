/* repl_tty.c: the terminal side of `nsr repl` through libedit's
 * readline-compatible API (Debian's libedit, <editline/readline.h>).
 *
 * Lines are read with the callback interface (rl_callback_read_char after
 * poll), not readline(): a SIGINT then interrupts the wait itself (poll
 * fails with EINTR), so Ctrl-C at the prompt clears the line at once, and
 * libedit is told not to handle signals, leaving SIGINT to this file's
 * handler, which only sets a flag (the interpreter reads it to stop the
 * running form). */
#include "fileio.h"
#include "repl_tty.h"

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <editline/readline.h>

#include "nsr_core.h"

volatile sig_atomic_t repl_tty_interrupted;

static struct sigaction previous_sigint;
static char *history_path; /* nsr_free; NULL: no history file */

/* What the line callback handed over. */
static char *done_line;
static bool line_done;

static void on_sigint(int sig) {
  (void)sig;
  repl_tty_interrupted = 1;
}

/* libedit's callback for a finished line (NULL at end of input). */
static void on_line(char *line) {
  done_line = line;
  line_done = true;
  rl_callback_handler_remove();
}

void repl_tty_open(const char *path) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_sigint;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0; /* no SA_RESTART: the wait for a key must end */
  sigaction(SIGINT, &sa, &previous_sigint);
  rl_catch_signals = 0;
  rl_readline_name = "nsr";
  using_history();
  stifle_history(REPL_HISTORY_MAX);
  history_path = path != NULL ? nsr_strdup(path) : NULL;
  if (history_path != NULL) (void)read_history(history_path);
}

repl_tty_rc repl_tty_read(const char *prompt, char **line) {
  *line = NULL;
  line_done = false;
  done_line = NULL;
  rl_callback_handler_install(prompt, on_line);
  while (!line_done) {
    if (repl_tty_interrupted) {
      /* Ctrl-C at the prompt: throw the line away, start a fresh one. */
      repl_tty_interrupted = 0;
      rl_callback_handler_remove();
      fputs("\n", stdout);
      fflush(stdout);
      return REPL_TTY_CLEARED;
    }
    struct pollfd p = {.fd = fileno(stdin), .events = POLLIN};
    int n = poll(&p, 1, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      rl_callback_handler_remove();
      return REPL_TTY_END;
    }
    rl_callback_read_char();
  }
  if (done_line == NULL) return REPL_TTY_END;
  *line = done_line;
  return REPL_TTY_LINE;
}

void repl_tty_remember(const char *line) {
  if (line[strspn(line, " \t\r")] == '\0') return;
  add_history(line);
  if (history_path != NULL) (void)write_history(history_path);
}

void repl_tty_close(void) {
  if (history_path != NULL) (void)write_history(history_path);
  nsr_free(history_path);
  history_path = NULL;
  sigaction(SIGINT, &previous_sigint, NULL);
}

char *repl_tty_default_history(void) {
  const char *state = getenv("XDG_STATE_HOME");
  const char *home = getenv("HOME");
  char buf[4096];
  int n;
  if (state != NULL && state[0] == '/') {
    n = snprintf(buf, sizeof buf, "%s/nsr/history", state);
  } else if (home != NULL && home[0] == '/') {
    n = snprintf(buf, sizeof buf, "%s/.local/state/nsr/history", home);
  } else {
    return NULL;
  }
  if (n < 0 || (size_t)n >= sizeof buf) return NULL;
  /* its folder, made private: a history is the user's own */
  *strrchr(buf, '/') = '\0';
  bool made = nsr_make_directories(buf, 0700) == 0;
  buf[strlen(buf)] = '/';
  if (!made) return NULL;
  return nsr_strdup(buf);
}
