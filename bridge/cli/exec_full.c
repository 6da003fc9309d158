/* exec_full.c: runs nsr-full in place of the small `nsr` (exec_full.h). */
#include "exec_full.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

#define FULL_NAME "nsr-full"

/* Writes dirname(/proc/self/exe) + "/nsr-full" into path (size bytes).
 * Returns 0, or -1 when the executable's path cannot be read or is too long. */
static int beside_self(char *path, size_t size) {
  char self[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0) return -1;
  self[n] = '\0';
  char *slash = strrchr(self, '/');
  if (slash == NULL) return -1;
  slash[1] = '\0';
  int len = snprintf(path, size, "%s%s", self, FULL_NAME);
  return len < 0 || (size_t)len >= size ? -1 : 0;
}

int nsr_exec_full(const char *command, char **argv) {
  char beside[PATH_MAX + sizeof FULL_NAME];
  if (beside_self(beside, sizeof beside) == 0) {
    execv(beside, argv);
    if (errno != ENOENT) {
      return cli_fail(command, CLI_EXIT_FAILURE, "cannot run %s: %s", beside, strerror(errno));
    }
  }
  execv(NSR_FULL_INSTALLED, argv);
  return cli_fail(command, CLI_EXIT_FAILURE,
                  "this command needs %s, which is neither beside this program nor at %s (%s)",
                  FULL_NAME, NSR_FULL_INSTALLED, strerror(errno));
}
