/* fileio.h: whole-file reads and crash-safe whole-file writes. */
#ifndef NSR_FILEIO_H
#define NSR_FILEIO_H

#include <stdio.h>

#include "nsr_core.h"

/* Writes `len` bytes to `path` so that a crash leaves either the old file or
 * the new one, never a torn mix: the data goes to a temporary file in the
 * same directory, which is flushed, fsynced and renamed over `path`; then
 * the directory is fsynced. On failure the temporary file is removed. */
nsr_code nsr_write_file_atomic(const char *path, const void *data, size_t len,
                               nsr_error *err);

/* Reads all of `stream` into a NUL-terminated buffer the caller frees with
 * nsr_free. `what` names the source in error messages. Fails with
 * NSR_ERR_LIMIT past max_bytes (0 = no limit). */
nsr_code nsr_read_stream(FILE *stream, const char *what, size_t max_bytes,
                         char **out, size_t *out_len, nsr_error *err);

/* nsr_read_stream on the file at `path`. */
nsr_code nsr_read_file(const char *path, size_t max_bytes, char **out,
                       size_t *out_len, nsr_error *err);

#endif
