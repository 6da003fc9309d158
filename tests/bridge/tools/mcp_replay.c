/* mcp_replay.c: see mcp_replay.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "mcp_replay.h"

void mcp_replay_under_failure(mcp_server *server, const char *req, uint64_t max_n) {
  nsr_error err;
  char *expected = NULL;
  assert_int_equal(mcp_server_handle(server, req, strlen(req), &expected, &err), NSR_OK);
  for (uint64_t n = 1;; n++) {
    char *reply = NULL;
    nsr_alloc_fail_after(n);
    nsr_code rc = mcp_server_handle(server, req, strlen(req), &reply, &err);
    nsr_alloc_fail_reset();
    if (rc == NSR_OK) {
      if (expected) assert_string_equal(reply, expected);
      else assert_null(reply);
      nsr_free(reply);
      break;
    }
    assert_int_equal(rc, NSR_ERR_NOMEM);
    assert_null(reply);
    if (n > max_n) fail_msg("%.60s... still failing after %llu allocations", req, (unsigned long long)n);
  }
  nsr_free(expected);
}
