/* fuzz_mcp.c: libFuzzer harness for the MCP message handler. The input is
 * split at newlines into messages handled in order by one fresh server, so
 * sequences (initialize, then tools/call ...) are reachable. Every message
 * must get a reply or none, never a crash; the only allowed failure is
 * running out of memory. run_program runs under small budgets and one
 * input holds at most MAX_MESSAGES messages, so that the slowest input
 * (each message a query_rules call stopped by its 2 s limit) stays under
 * run.sh's -timeout for this harness: a timeout is a budget not kept. */
#include <stdint.h>
#include <string.h>

#include "nsr_tools.h"

#define MAX_MESSAGES 8

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static tools_registry *reg;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (reg == NULL) {
    tools_options opt = {.max_steps = 200000, .max_memory = 16u << 20, .timeout_seconds = 0.25};
    if (tools_registry_build(&opt, &reg, NULL) != NSR_OK) __builtin_trap();
  }
  mcp_server *server;
  if (mcp_server_new(reg, &server, NULL) != NSR_OK) __builtin_trap();
  const char *p = (const char *)data, *end = p + size;
  for (int n = 0; p < end && n < MAX_MESSAGES; n++) {
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
