/* mcp_proc.h: `nsr` as a child process on pipes, for the tests that drive
 * `nsr mcp` (and other commands) as a client would. Each helper fails the
 * running cmocka test on anything unexpected. */
#ifndef NSR_TEST_MCP_PROC_H
#define NSR_TEST_MCP_PROC_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

/* Set by main: the nsr binary, the test library, and the work directory
 * (where each child's stderr goes, as the file "stderr"). */
extern const char *nsr_bin;
extern const char *testlib;
extern const char *mcp_workdir;

/* main's prologue: takes NSR and TESTLIB from argv, the work directory
 * (filled later by the group setup), and ignores SIGPIPE so a server that
 * dies mid-test fails a check instead of killing the test. False after a
 * usage message when arguments are missing. */
bool mcp_proc_args(int argc, char **argv, const char *workdir);

#define MODERN_META                                                        \
  "\"_meta\":{\"io.modelcontextprotocol/protocolVersion\":\"2026-07-28\"," \
  "\"io.modelcontextprotocol/clientCapabilities\":{}}"

typedef struct server {
  pid_t pid;
  FILE *to;   /* the server's stdin */
  int from;   /* the server's stdout */
  char buf[1 << 22]; /* a number_game reply over 1..10000 is 268 KB */
  size_t len; /* bytes buffered from the server */
} server;

/* Runs `nsr ARGS...` with its stdin and stdout on pipes and its stderr in
 * the work directory's file "stderr". */
server *spawn(const char *const *args);

/* Runs `nsr ARGS...` to the end with stdout discarded; it must exit 0. */
void run_ok(const char *const *args);

/* `nsr mcp EXTRA...` */
server *start(const char *const *extra);

void send_line(server *s, const char *line);

/* The next line the server writes, parsed; fails when none comes within a
 * hang guard of 60 s. */
json_t *recv_json(server *s);

json_t *request(server *s, const char *line);

/* Ends the session with EOF (unless the test closed `to` and set it NULL);
 * the server must exit 0 having written nothing more. */
void stop(server *s);

/* reply (consumed) is the JSON-RPC error `code` for request `id` (-1: id
 * null) whose message holds needle. */
void expect_error(json_t *reply, json_int_t id, int code, const char *needle);

/* reply (consumed) answers request `id`; its result, which the caller
 * releases. */
json_t *expect_result(json_t *reply, json_int_t id);

/* The server still answers: a ping, in whichever era fits. */
void still_serving(server *s, bool modern);

/* The legacy handshake: initialize with `version`, answered with
 * `expected`, then notifications/initialized. */
void initialize(server *s, const char *version, const char *expected);

/* tools/call NAME with ARGS (JSON text): the result. */
json_t *call_tool(server *s, int id, const char *name, const char *args);

/* The call is a tool error whose text holds needle; the server then still
 * answers. */
void tool_fails(server *s, int id, const char *name, const char *args, const char *needle);

/* The structuredContent of a successful call. */
json_t *tool_ok(server *s, int id, const char *name, const char *args);

#endif
