/* fileio.c: whole-file reads and atomic writes. */
#include "fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
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

nsr_code nsr_write_file_atomic(const char *path, const void *data, size_t len,
                               nsr_error *err) {
  size_t tmp_len = strlen(path) + 16;
  char *tmp = nsr_malloc(tmp_len);
  if (tmp == NULL) return nsr_fail(err, NSR_ERR_NOMEM, "writing '%s': out of memory", path);
  snprintf(tmp, tmp_len, "%s.tmpXXXXXX", path);
  int fd = mkstemp(tmp);
  if (fd < 0) {
    nsr_code rc = nsr_fail(err, NSR_ERR_IO, "writing '%s': %s", path, strerror(errno));
    nsr_free(tmp);
    return rc;
  }
  const char *step = "write";
  if (write_all(fd, data, len) != 0) goto fail;
  step = "fsync";
  if (fsync(fd) != 0) goto fail;
  step = "close";
  if (close(fd) != 0) {
    fd = -1;
    goto fail;
  }
  fd = -1;
  step = "rename";
  if (rename(tmp, path) != 0) goto fail;
  nsr_free(tmp);
  /* The data is in place; a failed directory sync only weakens durability. */
  (void)sync_parent_dir(path);
  return NSR_OK;
fail:;
  int saved = errno;
  if (fd >= 0) close(fd);
  unlink(tmp);
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
