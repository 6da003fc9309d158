/* mcp_stdio.c: the MCP stdio transport: one JSON-RPC message per line. */
#include <errno.h>
#include <string.h>

#include "fileio.h"
#include "nsr_tools.h"

static nsr_code send_line(FILE *out, const char *reply, nsr_error *err) {
  if (fputs(reply, out) == EOF || putc('\n', out) == EOF || fflush(out) != 0) {
    return nsr_fail(err, NSR_ERR_IO, "writing a reply: %s", strerror(errno));
  }
  return NSR_OK;
}

nsr_code mcp_serve(mcp_server *server, FILE *in, FILE *out, FILE *log, size_t max_line,
                   nsr_error *err) {
  nsr_line line = {0};
  nsr_code rc = NSR_OK;
  unsigned long lineno = 0;
  /* The whole line goes to the parser with its true length, so a NUL or a
   * byte that is not UTF-8 is one Parse error for that line, never a cut. */
  while (nsr_read_line(in, max_line, "requests", &line, err)) {
    lineno++;
    char *reply = NULL;
    if (line.too_long) {
      char message[128];
      snprintf(message, sizeof message, "Invalid Request: message longer than %zu bytes", max_line);
      if (log) fprintf(log, "nsr mcp: line %lu: %s\n", lineno, message);
      rc = mcp_error_reply(MCP_INVALID_REQUEST, message, &reply, err);
    } else if (memchr(line.text, '\0', line.len) != NULL) {
      /* jansson would stop at the NUL and blame a truncated message. */
      rc = mcp_error_reply(MCP_PARSE_ERROR, "Parse error: the message holds a NUL byte", &reply, err);
    } else if (strspn(line.text, " \t") != line.len) {
      /* A blank line is no message: nothing to answer. */
      rc = mcp_server_handle(server, line.text, line.len, &reply, err);
    }
    if (rc == NSR_OK && reply) rc = send_line(out, reply, err);
    nsr_free(reply);
    if (rc != NSR_OK) break;
  }
  if (rc == NSR_OK) rc = err->code;
  nsr_free(line.text);
  return rc;
}
