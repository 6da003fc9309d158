/* mcp_replay.h: one MCP request replayed under allocation failure. */
#ifndef NSR_TEST_MCP_REPLAY_H
#define NSR_TEST_MCP_REPLAY_H

#include "nsr_tools.h"

/* Handles `req` once normally, then with the nth allocation and all after
 * it failing, for n = 1, 2, ... until it succeeds: every failing run must
 * report NSR_ERR_NOMEM with no reply (ASan checks for leaks), and the
 * first run past the request's last allocation must give the normal
 * reply (none for a notification). Fails the test after max_n runs. */
void mcp_replay_under_failure(mcp_server *server, const char *req, uint64_t max_n);

#endif
