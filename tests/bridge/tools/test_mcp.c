/* test_mcp.c: `nsr mcp` as a client drives it: a real process on real
 * pipes, both protocol eras, and hostile input (malformed JSON, wrong
 * types, unknown methods and tools, over-long lines, missing _meta,
 * unsupported versions), each checked for its exact error code and
 * followed by proof that the server keeps serving. Also `nsr tools` and
 * the command-line errors of both. argv: the nsr binary, the test
 * library for a foreign-tool manifest. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "test_workdir.h"

#include "cli_runner.h"
#include "mcp_proc.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* The number_game result of a tools/call: structuredContent equal to the
 * text item, and the WebPPL peer's posterior. */
static void check_number_game(json_t *r) {
  assert_true(json_is_false(json_object_get(r, "isError")));
  json_t *sc = json_object_get(r, "structuredContent");
  json_t *item = json_array_get(json_object_get(r, "content"), 0);
  assert_string_equal(json_string_value(json_object_get(item, "type")), "text");
  json_t *text = json_loads(json_string_value(json_object_get(item, "text")), 0, NULL);
  assert_true(json_equal(text, sc));
  json_decref(text);
  json_t *h0 = json_array_get(json_object_get(sc, "hypotheses"), 0);
  assert_string_equal(json_string_value(json_object_get(h0, "name")), "powers of 2");
  assert_true(fabs(json_number_value(json_object_get(h0, "posterior")) - 0.999792) < 5e-7);
}

static void test_legacy_session(void **state) {
  (void)state;
  server *s = start(NULL);
  initialize(s, "2025-06-18", "2025-06-18");
  json_t *r = expect_result(request(s, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/list\"}"), 2);
  json_t *tools = json_object_get(r, "tools");
  /* propose_hypotheses too: the shipped model is --weights' default. */
  assert_int_equal(json_array_size(tools), 5);
  assert_string_equal(json_string_value(json_object_get(json_array_get(tools, 4), "name")),
                      "propose_hypotheses");
  assert_null(json_object_get(r, "resultType"));
  assert_null(json_object_get(r, "nextCursor"));
  json_decref(r);
  r = expect_result(request(s, "{\"jsonrpc\":\"2.0\",\"id\":\"str-id\",\"method\":\"tools/call\",\"params\":{\"name\":\"number_game\",\"arguments\":{\"examples\":[16,8,2,64]}}}"), 0);
  json_decref(r); /* id "str-id": json_integer_value of a string is 0 */
  r = expect_result(request(s, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/call\",\"params\":{\"name\":\"number_game\",\"arguments\":{\"examples\":[16,8,2,64]}}}"), 3);
  check_number_game(r);
  json_decref(r);
  /* A bad argument is a tool error the model can act on, not a protocol error. */
  r = expect_result(request(s, "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"tools/call\",\"params\":{\"name\":\"number_game\",\"arguments\":{\"examples\":[16],\"tpo\":3}}}"), 4);
  assert_true(json_is_true(json_object_get(r, "isError")));
  assert_null(json_object_get(r, "structuredContent"));
  const char *msg = json_string_value(json_object_get(json_array_get(json_object_get(r, "content"), 0), "text"));
  assert_non_null(strstr(msg, "unknown property \"tpo\" (allowed: examples, range, prior, lambda, sigma, top, probes, space)"));
  json_decref(r);
  r = expect_result(request(s, "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"tools/call\",\"params\":{\"name\":\"list_concepts\"}}"), 5);
  assert_int_equal(json_array_size(json_object_get(json_object_get(r, "structuredContent"), "rules")), 34);
  json_decref(r);
  still_serving(s, false);
  stop(s);
}

static void test_initialize_versions(void **state) {
  (void)state;
  server *s = start(NULL);
  initialize(s, "1999-01-01", "2025-11-25"); /* unknown: offer the latest */
  stop(s);
  s = start(NULL);
  initialize(s, "2024-11-05", "2024-11-05");
  expect_error(request(s, "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"initialize\",\"params\":{\"protocolVersion\":5}}"),
               7, -32602, "protocolVersion must be a string");
  stop(s);
}

static void test_modern_era(void **state) {
  (void)state;
  server *s = start(NULL);
  json_t *r = expect_result(request(s, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"server/discover\",\"params\":{" MODERN_META "}}"), 1);
  assert_string_equal(json_string_value(json_object_get(r, "resultType")), "complete");
  assert_string_equal(json_string_value(json_array_get(json_object_get(r, "supportedVersions"), 0)), "2026-07-28");
  assert_non_null(json_object_get(json_object_get(r, "capabilities"), "tools"));
  assert_true(json_integer_value(json_object_get(r, "ttlMs")) > 0);
  assert_non_null(json_string_value(json_object_get(r, "cacheScope")));
  json_decref(r);
  r = expect_result(request(s, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/list\",\"params\":{" MODERN_META "}}"), 2);
  assert_string_equal(json_string_value(json_object_get(r, "resultType")), "complete");
  assert_true(json_integer_value(json_object_get(r, "ttlMs")) > 0);
  assert_non_null(json_string_value(json_object_get(r, "cacheScope")));
  assert_int_equal(json_array_size(json_object_get(r, "tools")), 5);
  json_decref(r);
  r = expect_result(request(s, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/call\",\"params\":{\"name\":\"number_game\",\"arguments\":{\"examples\":[16,8,2,64]}," MODERN_META "}}"), 3);
  assert_string_equal(json_string_value(json_object_get(r, "resultType")), "complete");
  check_number_game(r);
  json_decref(r);
  /* Stateless: each request must carry _meta; none was initialized. */
  expect_error(request(s, "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"tools/list\"}"), 4, -32602,
               "params._meta[\"io.modelcontextprotocol/protocolVersion\"] is required");
  expect_error(request(s, "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"tools/call\",\"params\":{\"name\":\"number_game\",\"arguments\":{\"examples\":[4]}}}"),
               5, -32602, "is required");
  expect_error(request(s, "{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":\"server/discover\"}"), 6, -32602, "is required");
  expect_error(request(s, "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"tools/list\",\"params\":{\"_meta\":{\"io.modelcontextprotocol/protocolVersion\":\"2026-07-28\"}}}"),
               7, -32602, "clientCapabilities\"] must be an object");
  expect_error(request(s, "{\"jsonrpc\":\"2.0\",\"id\":8,\"method\":\"tools/list\",\"params\":{\"_meta\":[]}}"),
               8, -32602, "params._meta must be an object");
  json_t *reply = request(s, "{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"tools/list\",\"params\":{\"_meta\":{\"io.modelcontextprotocol/protocolVersion\":\"2099-01-01\",\"io.modelcontextprotocol/clientCapabilities\":{}}}}");
  json_t *data = json_object_get(json_object_get(reply, "error"), "data");
  assert_string_equal(json_string_value(json_array_get(json_object_get(data, "supported"), 0)), "2026-07-28");
  assert_int_equal(json_array_size(json_object_get(data, "supported")), 1);
  assert_string_equal(json_string_value(json_object_get(data, "requested")), "2099-01-01");
  expect_error(reply, 9, -32022, "Unsupported protocol version");
  /* A legacy version in _meta, without initialize, is not a modern request either. */
  expect_error(request(s, "{\"jsonrpc\":\"2.0\",\"id\":10,\"method\":\"server/discover\",\"params\":{\"_meta\":{\"io.modelcontextprotocol/protocolVersion\":\"2025-11-25\",\"io.modelcontextprotocol/clientCapabilities\":{}}}}"),
               10, -32022, "Unsupported");
  expect_error(request(s, "{\"jsonrpc\":\"2.0\",\"id\":11,\"method\":\"tools/call\",\"params\":{\"name\":\"nope\"," MODERN_META "}}"),
               11, -32602, "unknown tool 'nope'");
  still_serving(s, true);
  still_serving(s, false); /* ping is answered in either era */
  stop(s);
}

static void test_hostile_input(void **state) {
  (void)state;
  server *s = start(NULL);
  initialize(s, "2025-11-25", "2025-11-25");
  expect_error(request(s, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\""), -1, -32700, "Parse error");
  still_serving(s, false);
  expect_error(request(s, "not json at all"), -1, -32700, "Parse error");
  expect_error(request(s, "[]"), -1, -32600, "batches are not supported");
  expect_error(request(s, "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}]"), -1, -32600, "batches");
  expect_error(request(s, "42"), -1, -32600, "must be an object");
  expect_error(request(s, "{\"jsonrpc\":\"1.0\",\"id\":2,\"method\":\"ping\"}"), 2, -32600, "\"jsonrpc\" must be \"2.0\"");
  expect_error(request(s, "{\"id\":3,\"method\":\"ping\"}"), 3, -32600, "\"jsonrpc\"");
  expect_error(request(s, "{\"jsonrpc\":\"2.0\",\"id\":{\"a\":1},\"method\":\"ping\"}"), -1, -32600, "id must be a string or an integer");
  expect_error(request(s, "{\"jsonrpc\":\"2.0\",\"id\":1.5,\"method\":\"ping\"}"), -1, -32600, "id must be");
  expect_error(request(s, "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":7}"), 4, -32600, "\"method\" must be a string");
  expect_error(request(s, "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"resources/frobnicate\"}"), 5, -32601, "Method not found");
  expect_error(request(s, "{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":\"tools/list\",\"params\":[1]}"), 6, -32602, "params must be an object");
  expect_error(request(s, "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"tools/call\",\"params\":{}}"), 7, -32602, "params.name must be a string");
  expect_error(request(s, "{\"jsonrpc\":\"2.0\",\"id\":8,\"method\":\"tools/call\",\"params\":{\"name\":5}}"), 8, -32602, "params.name must be a string");
  expect_error(request(s, "{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"tools/call\",\"params\":{\"name\":\"number_game\",\"arguments\":[16]}}"), 9, -32602, "arguments must be an object");
  /* Served by default; arguments it lacks are the model's to fix. */
  json_t *missing = expect_result(request(s, "{\"jsonrpc\":\"2.0\",\"id\":10,\"method\":\"tools/call\",\"params\":{\"name\":\"propose_hypotheses\",\"arguments\":{}}}"), 10);
  assert_true(json_is_true(json_object_get(missing, "isError")));
  json_decref(missing);
  expect_error(request(s, "{\"jsonrpc\":\"2.0\",\"id\":11,\"method\":\"tools/call\",\"params\":{\"name\":\"cbrt\",\"arguments\":{\"x\":8}}}"), 11, -32602, "unknown tool 'cbrt'");
  expect_error(request(s, "{\"jsonrpc\":\"2.0\",\"id\":12,\"method\":\"tools/list\",\"params\":{\"cursor\":\"x\"}}"), 12, -32602, "unknown cursor");
  expect_error(request(s, "{\"jsonrpc\":\"2.0\",\"id\":13,\"method\":\"tools/call\",\"params\":{\"name\":\"number_game\",\"arguments\":{\"examples\":[\"\\u0000\"]}}}"), -1, -32700, "Parse error");
  /* Wrong argument types: tool errors, one message each. */
  json_t *r = expect_result(request(s, "{\"jsonrpc\":\"2.0\",\"id\":14,\"method\":\"tools/call\",\"params\":{\"name\":\"number_game\",\"arguments\":{\"examples\":\"16 8\"}}}"), 14);
  assert_true(json_is_true(json_object_get(r, "isError")));
  json_decref(r);
  /* Notifications (even unknown or malformed ones) and client responses
   * are never answered: the next reply is the ping's. */
  send_line(s, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/whatever\",\"params\":{}}");
  send_line(s, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/cancelled\",\"params\":[1]}");
  send_line(s, "{\"jsonrpc\":\"2.0\",\"id\":77,\"result\":{}}");
  send_line(s, "");
  send_line(s, "   ");
  still_serving(s, false);
  /* CRLF line ends are accepted. */
  json_decref(expect_result(request(s, "{\"jsonrpc\":\"2.0\",\"id\":15,\"method\":\"ping\"}\r"), 15));
  /* A line over 1 MiB: refused, skipped whole, and the next one served. */
  size_t big = (1u << 20) + 100;
  char *line = malloc(big + 1);
  memset(line, ' ', big);
  memcpy(line, "{\"jsonrpc\":\"2.0\",\"id\":16,\"method\":\"ping\",\"params\":{\"pad\":\"", 58);
  memcpy(line + big - 4, "\"}}", 3);
  line[big - 1] = ' ';
  line[big] = '\0';
  expect_error(request(s, line), -1, -32600, "longer than 1048576 bytes");
  free(line);
  still_serving(s, false);
  /* Nesting a million levels deep is a parse error, not a stack overflow. */
  big = 1u << 20;
  line = malloc(big + 1);
  memset(line, '[', big);
  line[big] = '\0';
  expect_error(request(s, line), -1, -32700, "Parse error");
  free(line);
  /* More examples than the schema allows: a tool error naming the limit. */
  line = malloc(200000);
  int used = snprintf(line, 200000, "{\"jsonrpc\":\"2.0\",\"id\":18,\"method\":\"tools/call\",\"params\":{\"name\":\"number_game\",\"arguments\":{\"examples\":[");
  for (int i = 0; i < 10001; i++) used += snprintf(line + used, 200000 - (size_t)used, i ? ",%d" : "%d", i % 100 + 1);
  snprintf(line + used, 200000 - (size_t)used, "]}}}");
  json_t *res = expect_result(request(s, line), 18);
  assert_true(json_is_true(json_object_get(res, "isError")));
  assert_non_null(strstr(json_string_value(json_object_get(json_array_get(json_object_get(res, "content"), 0), "text")),
                         "has 10001 items, more than the maximum 10000"));
  json_decref(res);
  free(line);
  /* Just under the cap is served. */
  big = (1u << 20) - 10;
  line = malloc(big + 1);
  int head = snprintf(line, big + 1, "{\"jsonrpc\":\"2.0\",\"id\":17,\"method\":\"ping\",\"params\":{\"pad\":\"");
  memset(line + head, 'x', big - (size_t)head - 3);
  memcpy(line + big - 3, "\"}}", 4);
  json_decref(expect_result(request(s, line), 17));
  free(line);
  stop(s);
}

/* Writes len raw bytes and, when `newline`, the line's end. */
static void send_bytes(server *s, const char *bytes, size_t len, bool newline) {
  assert_int_equal(fwrite(bytes, 1, len, s->to), len);
  if (newline) assert_true(fputc('\n', s->to) != EOF);
  assert_int_equal(fflush(s->to), 0);
}

#define SEND_BYTES(s, literal) send_bytes((s), (literal), sizeof(literal) - 1, true)

/* Issue 19: each line is one message, read by its true length, and gets
 * exactly one answer (requests) or none (notifications, blank lines),
 * whatever its bytes. */
static void test_line_bytes(void **state) {
  (void)state;
  server *s = start(NULL);
  initialize(s, "2025-11-25", "2025-11-25");
  /* A NUL inside a request: one Parse error naming it, not a merge with
   * the next line and not "end of file". */
  SEND_BYTES(s, "{\"jsonrpc\":\"2.0\",\"id\":1,\0\"method\":\"ping\"}");
  expect_error(recv_json(s), -1, -32700, "holds a NUL byte");
  SEND_BYTES(s, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"pi\0ng\"}");
  expect_error(recv_json(s), -1, -32700, "holds a NUL byte");
  json_decref(expect_result(request(s, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"ping\"}"), 3));
  /* Bytes that are not UTF-8, inside a string and outside. */
  SEND_BYTES(s, "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"ping\xff\"}");
  expect_error(recv_json(s), -1, -32700, "Parse error");
  SEND_BYTES(s, "\xc3\x28");
  expect_error(recv_json(s), -1, -32700, "Parse error");
  /* A method name whose echo is cut inside a UTF-8 sequence ("a" then
   * 60 two-byte letters: the message quotes 80 bytes): the error is still
   * sent, and the server lives (it exited 1 with "out of memory"). */
  char line[400];
  int used = snprintf(line, sizeof line, "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"a");
  for (int i = 0; i < 60; i++) used += snprintf(line + used, sizeof line - (size_t)used, "\xc3\xa9");
  snprintf(line + used, sizeof line - (size_t)used, "\"}");
  expect_error(request(s, line), 5, -32601, "Method not found: 'a\xc3\xa9");
  /* Blank lines (CRLF ones too) are no messages: nothing is answered. */
  SEND_BYTES(s, "\r");
  SEND_BYTES(s, " \t \r");
  still_serving(s, false);
  /* The last request may end at EOF without a newline: it is answered. */
  const char *last = "{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":\"ping\"}";
  send_bytes(s, last, strlen(last), false);
  fclose(s->to);
  s->to = NULL;
  json_decref(expect_result(recv_json(s), 6));
  stop(s);
}

static void test_foreign_tools_served(void **state) {
  (void)state;
  char path[400], text[1024];
  snprintf(path, sizeof path, "%s/m.json", workdir);
  snprintf(text, sizeof text,
           "{\"library\":\"%s\",\"functions\":[{\"name\":\"t_add\",\"description\":\"sum\",\"returns\":\"int64\","
           "\"params\":[{\"name\":\"a\",\"type\":\"int64\"},{\"name\":\"b\",\"type\":\"int64\"}]}]}", testlib);
  FILE *f = fopen(path, "w");
  fputs(text, f);
  fclose(f);
  server *s = start((const char *const[]){"--tools", path, NULL});
  json_t *r = expect_result(request(s, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":\"t_add\",\"arguments\":{\"a\":2,\"b\":40}," MODERN_META "}}"), 1);
  assert_int_equal(json_integer_value(json_object_get(json_object_get(r, "structuredContent"), "result")), 42);
  json_decref(r);
  expect_error(request(s, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\",\"params\":{\"name\":\"t_secret\",\"arguments\":{}," MODERN_META "}}"),
               2, -32602, "unknown tool 't_secret'");
  stop(s);
}

/* A client that stops reading: the server's next write fails (EPIPE, not
 * a SIGPIPE death), and it exits 1 saying so. */
static void test_client_goes_away(void **state) {
  (void)state;
  server *s = start(NULL);
  close(s->from);
  send_line(s, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}");
  fclose(s->to);
  int status;
  assert_int_equal(waitpid(s->pid, &status, 0), s->pid);
  assert_true(WIFEXITED(status));
  assert_int_equal(WEXITSTATUS(status), 1);
  free(s);
  char path[300], text[512] = "";
  snprintf(path, sizeof path, "%s/stderr", workdir);
  FILE *f = fopen(path, "r");
  assert_non_null(f);
  text[fread(text, 1, sizeof text - 1, f)] = '\0';
  fclose(f);
  assert_non_null(strstr(text, "nsr mcp: writing a reply: Broken pipe"));
}

static void test_command_lines(void **state) {
  (void)state;
  EXPECT_RUN_ALL(RUN("mcp", "--help"), 0, "Usage: nsr mcp", "--tools MANIFEST");
  expect_usage_error(RUN("mcp", "--frob"), "nsr mcp: unknown option '--frob'");
  expect_usage_error(RUN("mcp", "extra"), "unexpected argument 'extra'");
  expect_usage_error(RUN("mcp", "--tools"), "nsr mcp: --tools needs a value (MANIFEST)");
  expect_usage_error(RUN("mcp", "--db"), "--db needs a value (PATH)");
  expect_usage_error(RUN("mcp", "--db", ""), "--db: the value is empty");
  /* --tools is repeatable up to TOOLS_MAX_MANIFESTS (16) times. */
  const char *many[2 + 2 * 17] = {"mcp"};
  for (int i = 0; i < 17; i++) {
    many[1 + 2 * i] = "--tools";
    many[2 + 2 * i] = "/nonexistent/m.json";
  }
  expect_usage_error(run_to(NULL, NULL, many), "nsr mcp: --tools: at most 16 times");
  expect_usage_error(RUN("mcp", "--max-steps", "0"), "nsr mcp: --max-steps: 0 is outside");
  expect_usage_error(RUN("mcp", "--max-memory", "12Q"), "--max-memory");
  expect_usage_error(RUN("mcp", "--max-memory", "99999999999G"), "--max-memory");
  expect_usage_error(RUN("mcp", "--max-time", "-1"), "--max-time");
  /* --foreign entries carry the C signature; without one, or with a bad
   * one, every command that takes --foreign refuses them the same way. */
  expect_usage_error(RUN("mcp", "--foreign", "cbrt"), "must be LIBRARY:FUNCTION:SIGNATURE");
  expect_usage_error(RUN("mcp", "--foreign", "libm.so.6:cbrt"),
                     "nsr mcp: foreign allow-list entry 'libm.so.6:cbrt' must be "
                     "LIBRARY:FUNCTION:SIGNATURE, e.g. 'libc.so.6:strlen:size_t(const char*)'");
  expect_usage_error(RUN("mcp", "--foreign", "libm.so.6:1x:double(double)"), "must be LIBRARY:FUNCTION:SIGNATURE");
  expect_usage_error(RUN("mcp", "--foreign", "libm.so.6:cbrt:float(float)"), "signature 'float(float)': 'float' is not one of");
  expect_usage_error(RUN("run", "--foreign", "libm.so.6:cbrt", "-e", "1"), "nsr run: --foreign: foreign allow-list entry 'libm.so.6:cbrt' must be");
  expect_usage_error(RUN("run", "--foreign", ":cbrt:double(double)", "-e", "1"), "must be LIBRARY:FUNCTION:SIGNATURE");
  expect_usage_error(RUN("run", "--foreign", "libm.so.6:cbrt:double(double", "-e", "1"), "must be RETURN(PARAM, ...)");
  expect_usage_error(RUN("run", "--foreign", "libm.so.6:cbrt:double(double)", "--foreign", "libm.so.6:cbrt:int(int)", "-e", "1"),
                     "'libm.so.6:cbrt' is listed twice");
  expect_usage_error(RUN("repl", "--foreign", "libm.so.6:cbrt:double(double)"), "nsr repl: unknown option '--foreign'");
  /* `nsr run` binds what its --foreign allows, and nothing else. */
  run_result r = RUN("run", "--foreign", "libm.so.6:fabs:double(double)", "-e", "(foreign \"libm.so.6\" \"fabs\" \"double\" '(\"double\")) (fabs -2.5)");
  assert_int_equal(r.status, 0);
  assert_string_equal(r.out, "2.5\n");
  run_free(&r);
  expect_run(RUN("run", "-e", "(foreign \"libm.so.6\" \"fabs\" \"double\" '(\"double\"))"), 2, "not allow-listed");
  /* Issue 19's reproducers: the program no longer chooses the signature. */
  const char *strlen_pin = "libc.so.6:strlen:size_t(const char*)";
  expect_usage_error(RUN("run", "--foreign", strlen_pin, "-e", "(foreign \"libc.so.6\" \"strlen\" \"int64\" (list \"int64\")) (strlen 4096)"),
                     "nsr run: <expr>:1:1: foreign: the host pins 'libc.so.6:strlen' as uint64(const char*), but the program declares int64(int64)");
  expect_usage_error(RUN("run", "--foreign", strlen_pin, "-e", "(foreign \"libc.so.6\" \"strlen\") (strlen 4096)"),
                     "strlen: argument 1 must be a string (const char*)");
  expect_usage_error(RUN("run", "--foreign", "libc.so.6:getenv:const char*(const char*)", "-e",
                         "(foreign \"libc.so.6\" \"getenv\" \"int64\" (list \"const char*\")) (getenv \"HOME\")"),
                     "the host pins 'libc.so.6:getenv' as const char*(const char*), but the program declares int64(const char*)");
  expect_usage_error(RUN("run", "--foreign", strlen_pin, "-e", "(foreign \"libc.so.6\" \"strlen\" 'int64)"),
                     "give RETURN and (PARAM ...) together, or neither");
  r = RUN("run", "--foreign", strlen_pin, "-e", "(foreign \"libc.so.6\" \"strlen\") (strlen \"hello\")");
  assert_int_equal(r.status, 0);
  assert_string_equal(r.out, "5\n");
  run_free(&r);
  /* isalpha returns an int, nonzero for a letter (C17 7.4.1.2); glibc's
   * nonzero has a zero low byte, so a result cut to a byte would read 0. */
  r = RUN("run", "--foreign", "libc.so.6:isalpha:int(int)", "-e",
          "(foreign \"libc.so.6\" \"isalpha\") (list (not (= 0 (isalpha 65))) (isalpha 48))");
  assert_int_equal(r.status, 0);
  assert_string_equal(r.out, "(#t 0)\n");
  run_free(&r);
  expect_usage_error(RUN("run", "--foreign", "libc.so.6:isalpha:int(int)", "-e", "(foreign \"libc.so.6\" \"isalpha\" 'bool '(int))"),
                     "as int32(int32), but the program declares bool(int32)");
  expect_usage_error(RUN("mcp", "--weights", "m.safetensors"), "--weights: checkpoint 'm.safetensors'");
  expect_usage_error(RUN("mcp", "--tools", "/nonexistent/m.json"), "tool manifest '/nonexistent/m.json'");
  /* With stdin at EOF at once the server exits 0, having said on stderr
   * only that it started. */
  r = RUN("mcp");
  assert_int_equal(r.status, 0);
  assert_string_equal(r.out, "");
  assert_non_null(strstr(r.err, "nsr mcp: serving 5 tools"));
  run_free(&r);
  EXPECT_RUN_ALL(RUN("tools"), 0, "number_game(examples, range?, prior?, lambda?, sigma?, top?, probes?, space?)",
                 "list_concepts()");
  r = RUN("tools", "--format", "openai");
  assert_int_equal(r.status, 0);
  json_t *v = json_loads(r.out, 0, NULL);
  assert_true(json_is_array(v));
  assert_string_equal(json_string_value(json_object_get(json_object_get(json_array_get(v, 0), "function"), "name")), "number_game");
  json_decref(v);
  run_free(&r);
  r = RUN("tools", "--format=mcp");
  v = json_loads(r.out, 0, NULL);
  assert_int_equal(json_array_size(json_object_get(v, "tools")), 5);
  json_decref(v);
  run_free(&r);
  expect_run(RUN("tools", "--json"), 0, NULL);
  expect_usage_error(RUN("tools", "--format", "yaml"), "nsr tools: --format: 'yaml' is not one of text, mcp, openai");
  expect_usage_error(RUN("tools", "--json", "--format", "openai"), "--json is --format mcp");
  expect_usage_error(RUN("tools", "--frob"), "nsr tools: unknown option '--frob'");
  expect_usage_error(RUN("tools", "--format"), "nsr tools: --format needs a value (text|mcp|openai)");
  expect_usage_error(RUN("tools", "x"), "unexpected argument 'x'");
  expect_run(RUN("help", "tools"), 0, "Usage: nsr tools");
}

/* The options mcp, agent and tools share, as every --help lists them. */
static const char *const shared_options[] = {"--tools MANIFEST", "--db PATH", "--weights FILE",
                                             "--max-steps N", "--max-memory BYTES",
                                             "--max-time SECONDS", "--foreign LIB:FUNC:SIG", NULL};

/* `nsr COMMAND --help` lists the shared options and each of `more`. */
static void expect_help(const char *command, const char *const *more) {
  run_result r = RUN(command, "--help");
  assert_int_equal(r.status, 0);
  for (const char *const *o = shared_options; *o; o++) {
    if (strstr(r.out, *o) == NULL) fail_msg("nsr %s --help lacks %s", command, *o);
  }
  for (const char *const *o = more; *o; o++) {
    if (strstr(r.out, *o) == NULL) fail_msg("nsr %s --help lacks %s", command, *o);
  }
  run_free(&r);
}

static void test_help_lists_every_option(void **state) {
  (void)state;
  expect_help("mcp", (const char *const[]){"default: nsr.db; env NSR_DB",
                                           "default: the shipped model; env NSR_WEIGHTS",
                                           "default: 256M", "repeatable, up to 16 times", NULL});
  expect_help("tools", (const char *const[]){"--format text|mcp|openai", "--json", NULL});
}

/* Regressions: NSR_DB names the store of mcp (and of every command that
 * takes --db), --db still wins; the shipped model is --weights' default,
 * so propose_hypotheses is served without it; NSR_WEIGHTS replaces it. */
static void test_environment_and_defaults(void **state) {
  (void)state;
  setenv("NSR_DB", "/nonexistent/env.db", 1);
  run_result r = RUN("mcp");
  assert_int_equal(r.status, 0);
  assert_non_null(strstr(r.err, "the rules of '/nonexistent/env.db'"));
  run_free(&r);
  r = RUN("mcp", "--db", "/nonexistent/flag.db");
  assert_int_equal(r.status, 0);
  assert_non_null(strstr(r.err, "the rules of '/nonexistent/flag.db'"));
  run_free(&r);
  unsetenv("NSR_DB");
  EXPECT_RUN_ALL(RUN("tools"), 0, "propose_hypotheses(examples, top?, space?)");
  setenv("NSR_WEIGHTS", "/nonexistent/env.safetensors", 1);
  expect_usage_error(RUN("tools"), "--weights: checkpoint '/nonexistent/env.safetensors'");
  expect_usage_error(RUN("mcp"), "--weights: checkpoint '/nonexistent/env.safetensors'");
  unsetenv("NSR_WEIGHTS");
}

int main(int argc, char **argv) {
  if (!mcp_proc_args(argc, argv, workdir)) return 2;
  if (cli_runner_init(nsr_bin) != 0) return 1;
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_legacy_session),
      cmocka_unit_test(test_initialize_versions),
      cmocka_unit_test(test_modern_era),
      cmocka_unit_test(test_hostile_input),
      cmocka_unit_test(test_line_bytes),
      cmocka_unit_test(test_foreign_tools_served),
      cmocka_unit_test(test_client_goes_away),
      cmocka_unit_test(test_command_lines),
      cmocka_unit_test(test_help_lists_every_option),
      cmocka_unit_test(test_environment_and_defaults),
  };
  return cli_runner_finish(cmocka_run_group_tests(tests, workdir_setup, workdir_teardown));
}
