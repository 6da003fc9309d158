/* exec_full.h: how the small `nsr` runs the commands it does not link.
 *
 * `nsr` links only the Church commands (run, repl) so that it starts fast;
 * every other command is run by `nsr-full`, which links them all (see
 * README.md, "Two executables"). */
#ifndef NSR_EXEC_FULL_H
#define NSR_EXEC_FULL_H

/* Replaces this process with nsr-full run on argv (the whole command line,
 * argv[0] included, NULL-terminated, unchanged), so the command's output,
 * error lines and exit status are its own. nsr-full is looked for beside
 * this executable (/proc/self/exe: a build directory), then at
 * NSR_FULL_FROM_BIN relative to it (an install, also one moved or made with
 * --destdir), then at NSR_FULL_INSTALLED (where `meson install` puts it).
 * Returns only when none can be run: prints one line `nsr COMMAND: ...` on
 * stderr and returns CLI_EXIT_FAILURE. */
int nsr_exec_full(const char *command, char **argv);

#endif
