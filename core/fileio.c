/* fileio.c: whole-file reads and atomic writes. */
/* O_TMPFILE and linkat's AT_SYMLINK_FOLLOW are Linux (GNU) extensions. */
#define _GNU_SOURCE
#include "fileio.h"
#include "json.h"
#include "testhook.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Writes all of buf to fd, retrying short writes and EINTR. */
static int write_all(int fd, const unsigned char *buf, size_t len) {
  while (len > 0) {
    ssize_t n = write(fd, buf, len);
    if (n < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    buf += n;
    len -= (size_t)n;
  }
  return 0;
}

/* fsyncs the directory holding `path` so the rename itself is durable. */
static int sync_parent_dir(const char *path) {
  char *copy = nsr_strdup(path);
  if (copy == NULL) return -1;
  int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY);
  nsr_free(copy);
  if (fd < 0) return -1;
  int rc = fsync(fd);
  close(fd);
  return rc;
}

/* Opens an unnamed file in the directory of `path` (O_TMPFILE): a process
 * killed before it is linked leaves nothing behind. Returns the descriptor,
 * or -1 with errno set (EOPNOTSUPP, EISDIR or EINVAL where the kernel or
 * file system has no O_TMPFILE). */
static int open_unnamed(const char *path) {
  char *copy = nsr_strdup(path);
  if (copy == NULL) {
    errno = ENOMEM;
    return -1;
  }
  int fd = open(dirname(copy), O_WRONLY | O_TMPFILE | O_CLOEXEC, 0666);
  int saved = errno;
  nsr_free(copy);
  errno = saved;
  return fd;
}

static bool tmpfile_unsupported(int e) {
  return e == EOPNOTSUPP || e == EISDIR || e == EINVAL;
}

/* Gives the unnamed file `fd` the name `tmp` (removing a stale file of that
 * name left by a killed save first). */
static int link_unnamed(int fd, const char *tmp) {
  char proc[64];
  snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
  if (unlink(tmp) != 0 && errno != ENOENT) return -1;
  return linkat(AT_FDCWD, proc, AT_FDCWD, tmp, AT_SYMLINK_FOLLOW);
}

/* Opens the named temporary file `tmp` afresh (the fallback without
 * O_TMPFILE): a stale one is removed, O_EXCL refuses anything planted in
 * between. */
static int open_named(const char *tmp) {
  if (unlink(tmp) != 0 && errno != ENOENT) return -1;
  return open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
}

nsr_code nsr_write_file_atomic(const char *path, const void *data, size_t len,
                               nsr_error *err) {
  size_t tmp_len = strlen(path) + sizeof NSR_ATOMIC_TMP_SUFFIX;
  char *tmp = nsr_malloc(tmp_len);
  if (tmp == NULL) return nsr_fail(err, NSR_ERR_NOMEM, "writing '%s': out of memory", path);
  snprintf(tmp, tmp_len, "%s%s", path, NSR_ATOMIC_TMP_SUFFIX);
  bool named = false;
  const char *step = "open";
  int fd = open_unnamed(path);
  if (fd < 0 && tmpfile_unsupported(errno)) {
    fd = open_named(tmp);
    named = fd >= 0;
  }
  if (fd < 0) goto fail;
  step = "write";
  if (write_all(fd, data, len) != 0) goto fail;
  step = "fsync";
  if (fsync(fd) != 0) goto fail;
  step = "link";
  if (!named && link_unnamed(fd, tmp) != 0) goto fail;
  named = true;
  step = "close";
  int closed = close(fd);
  fd = -1;
  if (closed != 0) goto fail;
  nsr_test_hook("atomic-rename");
  step = "rename";
  if (rename(tmp, path) != 0) goto fail;
  nsr_free(tmp);
  /* The data is in place; a failed directory sync only weakens durability. */
  (void)sync_parent_dir(path);
  return NSR_OK;
fail:;
  int saved = errno;
  if (fd >= 0) close(fd);
  if (named) unlink(tmp);
  nsr_free(tmp);
  return nsr_fail(err, NSR_ERR_IO, "writing '%s' (%s): %s", path, step, strerror(saved));
}

nsr_code nsr_read_stream(FILE *stream, const char *what, size_t max_bytes,
                         char **out, size_t *out_len, nsr_error *err) {
  size_t cap = 4096, len = 0;
  char *buf = nsr_malloc(cap);
  if (buf == NULL) return nsr_fail(err, NSR_ERR_NOMEM, "reading %s: out of memory", what);
  for (;;) {
    if (cap - len < 2) {
      char *grown = cap > SIZE_MAX / 2 ? NULL : nsr_realloc(buf, cap * 2);
      if (grown == NULL) {
        nsr_free(buf);
        return nsr_fail(err, NSR_ERR_NOMEM, "reading %s: out of memory", what);
      }
      buf = grown;
      cap *= 2;
    }
    size_t n = fread(buf + len, 1, cap - len - 1, stream);
    len += n;
    if (max_bytes && len > max_bytes) {
      nsr_free(buf);
      return nsr_fail(err, NSR_ERR_LIMIT, "reading %s: larger than %zu bytes", what, max_bytes);
    }
    if (n == 0) break;
  }
  if (ferror(stream)) {
    nsr_free(buf);
    return nsr_fail(err, NSR_ERR_IO, "reading %s: %s", what, strerror(errno));
  }
  buf[len] = '\0';
  *out = buf;
  if (out_len) *out_len = len;
  return NSR_OK;
}

nsr_code nsr_read_file(const char *path, size_t max_bytes, char **out,
                       size_t *out_len, nsr_error *err) {
  FILE *f = fopen(path, "rb");
  if (f == NULL) return nsr_fail(err, NSR_ERR_IO, "'%s': %s", path, strerror(errno));
  char what[300];
  snprintf(what, sizeof what, "'%s'", path);
  nsr_code rc = nsr_read_stream(f, what, max_bytes, out, out_len, err);
  fclose(f);
  return rc;
}

/* Makes room in line->text for one more byte and the terminating NUL, up to
 * max + 1 bytes in all. */
static bool line_reserve(nsr_line *line, size_t max) {
  if (line->len + 2 <= line->cap) return true;
  size_t cap = line->cap ? line->cap * 2 : 256;
  if (cap > max + 1) cap = max + 1;
  char *grown = nsr_realloc(line->text, cap);
  if (grown == NULL) return false;
  line->text = grown;
  line->cap = cap;
  return true;
}

bool nsr_read_line(FILE *in, size_t max, const char *what, nsr_line *line, nsr_error *err) {
  nsr_error_clear(err);
  line->len = 0;
  line->too_long = false;
  bool any = false; /* a byte was read: an empty line is still a line */
  int c;
  while ((c = getc_unlocked(in)) != EOF) {
    any = true;
    if (c == '\n') break;
    if (line->len == max) {
      line->too_long = true;
      continue;
    }
    if (!line_reserve(line, max)) {
      nsr_fail(err, NSR_ERR_NOMEM, "reading %s: out of memory for a line", what);
      return false;
    }
    line->text[line->len++] = (char)c;
  }
  if (ferror(in)) {
    nsr_fail(err, NSR_ERR_IO, "cannot read %s: %s", what, strerror(errno));
    return false;
  }
  if (!any) return false;
  if (line->cap == 0 && !line_reserve(line, max)) { /* an empty first line */
    nsr_fail(err, NSR_ERR_NOMEM, "reading %s: out of memory for a line", what);
    return false;
  }
  if (line->len > 0 && line->text[line->len - 1] == '\r' && !line->too_long) line->len--;
  line->text[line->len] = '\0';
  return true;
}

const char *nsr_line_problem(const nsr_line *line) {
  if (memchr(line->text, '\0', line->len) != NULL) return "holds a NUL byte";
  if (!nsr_json_utf8_valid(line->text, line->len)) return "is not UTF-8 text";
  return NULL;
}

int nsr_make_directories(const char *dir, unsigned mode) {
  char path[4096];
  size_t len = strlen(dir);
  if (len == 0 || len >= sizeof path) {
    errno = len == 0 ? ENOENT : ENAMETOOLONG;
    return -1;
  }
  memcpy(path, dir, len + 1);
  for (size_t i = 1; i <= len; i++) {
    if (path[i] != '/' && path[i] != '\0') continue;
    char c = path[i];
    path[i] = '\0';
    if (mkdir(path, (mode_t)mode) != 0 && errno != EEXIST) return -1;
    path[i] = c;
  }
  return 0;
}
