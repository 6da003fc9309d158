/* fileio.h: whole-file reads and crash-safe whole-file writes. */
#ifndef NSR_FILEIO_H
#define NSR_FILEIO_H

#include <stdio.h>

#include "nsr_core.h"

/* Makes the directory `dir` and its missing parents, each with `mode`
 * (less the umask); an existing one is kept. 0, or -1 with errno. */
int nsr_make_directories(const char *dir, unsigned mode);

/* The one temporary name a write to PATH uses: PATH followed by this. */
#define NSR_ATOMIC_TMP_SUFFIX ".nsr-tmp"

/* Writes `len` bytes to `path` so that a crash leaves either the old file or
 * the new one, never a torn mix: the data goes to an unnamed file (O_TMPFILE)
 * in the same directory, which is fsynced, linked as PATH.nsr-tmp and
 * renamed over `path`; then the directory is fsynced. Where the file system
 * has no O_TMPFILE the data is written to PATH.nsr-tmp directly. Either way
 * a process killed mid-write leaves at most that one file (for the O_TMPFILE
 * path, only when killed between the link and the rename), and the next
 * write to `path` removes it: temporary files never accumulate. Two
 * processes writing the same path at once are not supported (the file
 * stays whole, but one of them may report an error). On failure the
 * temporary file is removed. Linux only (O_TMPFILE, /proc/self/fd). */
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

/* ---- reading text line by line ------------------------------------------ */

/* One line read by nsr_read_line. Start from {0}; free text with nsr_free. */
typedef struct nsr_line {
  char *text;    /* the line's bytes, NUL-terminated after len */
  size_t len;    /* the true length: the bytes may hold NUL themselves */
  size_t cap;    /* allocated bytes of text */
  bool too_long; /* it had more than max bytes: text holds the first max */
} nsr_line;

/* Reads the next line of `in` into *line, growing text up to max + 1 bytes:
 * the bytes before '\n' (neither kept), less one '\r' before it (CRLF); the
 * last line may end without '\n'. A line longer than max is read to its end
 * and dropped past max bytes, with too_long set, so the next call starts on
 * the next line. Returns true with a line; false at end of input, or on
 * failure with err set (NSR_ERR_NOMEM; NSR_ERR_IO for a read error, "cannot
 * read WHAT: reason"); err is cleared at end of input. */
bool nsr_read_line(FILE *in, size_t max, const char *what, nsr_line *line, nsr_error *err);

/* Why a line cannot be taken as text, for a message after "line K: ", or
 * NULL when it can: it holds a NUL byte, or bytes that are not UTF-8. */
const char *nsr_line_problem(const nsr_line *line);

#endif
