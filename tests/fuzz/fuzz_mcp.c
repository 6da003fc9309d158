/* fuzz_mcp.c: libFuzzer harness for the MCP message handler. The input is
 * split at newlines into messages handled in order by one fresh server, so
 * sequences (initialize, then tools/call ...) are reachable. Every message
 * must get a reply or none, never a crash; the only allowed failure is
 * running out of memory. */
#include <stdint.h>
#include <string.h>

#include "nsr_tools.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static tools_registry *reg;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (reg == NULL) {
    tools_options opt = {0};
    if (tools_registry_build(&opt, &reg, NULL) != NSR_OK) __builtin_trap();
  }
  mcp_server *server;
  if (mcp_server_new(reg, &server, NULL) != NSR_OK) __builtin_trap();
  const char *p = (const char *)data, *end = p + size;
  while (p < end) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
    char *reply = NULL;
    nsr_error err;
    if (mcp_server_handle(server, p, len, &reply, &err) != NSR_OK) __builtin_trap();
    nsr_free(reply);
    p += len + 1;
  }
  mcp_server_free(server);
  return 0;
}
