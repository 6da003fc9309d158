/* mcp_stdio.c: the MCP stdio transport: one JSON-RPC message per line. */
#include <errno.h>
#include <string.h>

#include "nsr_tools.h"

/* Reads one line into buf (max_line + 1 bytes). Returns the line's length
 * without the newline, or -1 at end of input; sets *too_long (and skips the
 * rest of the line, so the next message is read whole) when it exceeds
 * max_line bytes. */
static long read_line(FILE *in, char *buf, size_t max_line, bool *too_long) {
  size_t len = 0;
  *too_long = false;
  int c;
  while ((c = getc_unlocked(in)) != EOF && c != '\n') {
    if (len < max_line) {
      buf[len++] = (char)c;
    } else {
      *too_long = true;
    }
  }
  if (c == EOF && len == 0 && !*too_long) return -1;
  if (len > 0 && buf[len - 1] == '\r') len--;
  buf[len] = '\0';
  return (long)len;
}

static nsr_code send_line(FILE *out, const char *reply, nsr_error *err) {
  if (fputs(reply, out) == EOF || putc('\n', out) == EOF || fflush(out) != 0) {
    return nsr_fail(err, NSR_ERR_IO, "writing a reply: %s", strerror(errno));
  }
  return NSR_OK;
}

nsr_code mcp_serve(mcp_server *server, FILE *in, FILE *out, FILE *log, size_t max_line,
                   nsr_error *err) {
  char *buf = nsr_malloc(max_line + 1);
  if (buf == NULL) return nsr_fail(err, NSR_ERR_NOMEM, "MCP: out of memory for the line buffer");
  nsr_code rc = NSR_OK;
  unsigned long lineno = 0;
  for (;;) {
    bool too_long;
    long len = read_line(in, buf, max_line, &too_long);
    if (len < 0) break;
    lineno++;
    char *reply = NULL;
    if (too_long) {
      char message[128];
      snprintf(message, sizeof message, "Invalid Request: message longer than %zu bytes", max_line);
      if (log) fprintf(log, "nsr mcp: line %lu: %s\n", lineno, message);
      rc = mcp_error_reply(MCP_INVALID_REQUEST, message, &reply, err);
    } else if (strspn(buf, " \t") != (size_t)len) {
      rc = mcp_server_handle(server, buf, (size_t)len, &reply, err);
    }
    if (rc == NSR_OK && reply) rc = send_line(out, reply, err);
    nsr_free(reply);
    if (rc != NSR_OK) break;
  }
  if (rc == NSR_OK && ferror(in)) rc = nsr_fail(err, NSR_ERR_IO, "reading requests: %s", strerror(errno));
  nsr_free(buf);
  return rc;
}
