/* repl_tty.h: the terminal side of `nsr repl` (cmd_run.c): line editing,
 * history and Ctrl-C through libedit. Only used when standard input is a
 * terminal; piped input is read line by line without it. */
#ifndef NSR_REPL_TTY_H
#define NSR_REPL_TTY_H

#include <signal.h>
#include <stddef.h>

/* Most lines the history keeps, in memory and in its file. */
#define REPL_HISTORY_MAX 1000

/* Set by SIGINT while the session runs; the interpreter reads it
 * (nsr_lang_config.interrupt) and the reader clears the line on it. */
extern volatile sig_atomic_t repl_tty_interrupted;

typedef enum repl_tty_rc {
  REPL_TTY_LINE,    /* *line holds a line (without its newline; nsr_free) */
  REPL_TTY_CLEARED, /* Ctrl-C at the prompt: the line was thrown away */
  REPL_TTY_END,     /* end of input (Ctrl-D on an empty line) */
} repl_tty_rc;

/* Starts line editing on standard input and installs the SIGINT handler.
 * history_path: the history file to load now and save as lines are added,
 * or NULL for none (a file that cannot be read or written is ignored:
 * history is a convenience, not the session's work). */
void repl_tty_open(const char *history_path);
/* Reads one line, showing `prompt`; the Up and Down arrows walk the
 * history. */
repl_tty_rc repl_tty_read(const char *prompt, char **line);
/* Adds a line typed (not blank) to the history and saves the file. */
void repl_tty_remember(const char *line);
/* Saves the history, restores the terminal and the SIGINT disposition. */
void repl_tty_close(void);

/* The history file when none is given (--history, NSR_HISTORY):
 * $XDG_STATE_HOME/nsr/history, else ~/.local/state/nsr/history; its
 * folder is made when missing. NULL when there is no home to put it in.
 * The caller frees it with nsr_free. */
char *repl_tty_default_history(void);

#endif
