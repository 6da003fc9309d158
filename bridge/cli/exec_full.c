/* exec_full.c: runs nsr-full in place of the small `nsr` (exec_full.h). */
#include "exec_full.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

#define FULL_NAME "nsr-full"

/* Writes dirname(/proc/self/exe) + "/" + relative into path (size bytes).
 * Returns 0, or -1 when the executable's path cannot be read or the result
 * does not fit. */
static int beside_self(const char *relative, char *path, size_t size) {
  char self[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0) return -1;
  self[n] = '\0';
  char *slash = strrchr(self, '/');
  if (slash == NULL) return -1;
  slash[1] = '\0';
  int len = snprintf(path, size, "%s%s", self, relative);
  return len < 0 || (size_t)len >= size ? -1 : 0;
}

/* execv(path, argv) if path exists. Returns only if it did not run: 0 when
 * there is no such file (look on), else the failing command's exit status
 * after one error line. */
static int try_exec(const char *command, const char *path, char **argv) {
  execv(path, argv);
  if (errno == ENOENT || errno == ENOTDIR) return 0;
  return cli_fail(command, CLI_EXIT_FAILURE, "cannot run %s: %s", path, strerror(errno));
}

int nsr_exec_full(const char *command, char **argv) {
  /* A build directory; then an install, relative to this program (also
   * under meson install --destdir) and at its configured place. */
  const char *relatives[] = {FULL_NAME, NSR_FULL_FROM_BIN};
  char path[PATH_MAX + sizeof NSR_FULL_FROM_BIN];
  for (size_t i = 0; i < sizeof relatives / sizeof relatives[0]; i++) {
    if (beside_self(relatives[i], path, sizeof path) != 0) continue;
    int status = try_exec(command, path, argv);
    if (status != 0) return status;
  }
  int status = try_exec(command, NSR_FULL_INSTALLED, argv);
  if (status != 0) return status;
  return cli_fail(command, CLI_EXIT_FAILURE,
                  "this command needs %s, which is neither beside this program nor at %s",
                  FULL_NAME, NSR_FULL_INSTALLED);
}
