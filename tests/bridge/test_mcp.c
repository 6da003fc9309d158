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

#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *nsr_bin;
static const char *testlib;

#define MODERN_META                                                        \
  "\"_meta\":{\"io.modelcontextprotocol/protocolVersion\":\"2026-07-28\"," \
  "\"io.modelcontextprotocol/clientCapabilities\":{}}"

typedef struct server {
  pid_t pid;
  FILE *to;   /* the server's stdin */
  int from;   /* the server's stdout */
  char buf[1 << 18];
  size_t len; /* bytes buffered from the server */
} server;

/* Runs `nsr ARGS...` with its stdin and stdout on pipes and its stderr in
 * the work directory's file "stderr". */
static server *spawn(const char *const *args) {
  server *s = calloc(1, sizeof *s);
  int in[2], out[2];
  assert_int_equal(pipe(in), 0);
  assert_int_equal(pipe(out), 0);
  char err_path[300];
  snprintf(err_path, sizeof err_path, "%s/stderr", workdir);
  const char *argv[16] = {nsr_bin};
  size_t n = 1;
  for (; args[n - 1]; n++) argv[n] = args[n - 1];
  argv[n] = NULL;
  s->pid = fork();
  assert_true(s->pid >= 0);
  if (s->pid == 0) {
    dup2(in[0], 0);
    dup2(out[1], 1);
    int fe = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(fe, 2);
    close(in[1]);
    close(out[0]);
    execv(nsr_bin, (char *const *)argv);
    _exit(127);
  }
  close(in[0]);
  close(out[1]);
  s->to = fdopen(in[1], "w");
  s->from = out[0];
  return s;
}

/* `nsr mcp EXTRA...` */
static server *start(const char *const *extra) {
  const char *args[16] = {"mcp"};
  for (size_t n = 0; extra && extra[n]; n++) args[n + 1] = extra[n];
  return spawn(args);
}

static void send_line(server *s, const char *line) {
  assert_true(fputs(line, s->to) >= 0);
  assert_true(fputc('\n', s->to) != EOF);
  assert_int_equal(fflush(s->to), 0);
}

/* The next line the server writes, parsed; fails after 20 s (the ASan
 * build is slow, but not that slow). */
static json_t *recv_json(server *s) {
  for (;;) {
    char *nl = memchr(s->buf, '\n', s->len);
    if (nl) {
      json_error_t jerr;
      json_t *v = json_loadb(s->buf, (size_t)(nl - s->buf), 0, &jerr);
      if (v == NULL) fail_msg("server wrote a line that is not JSON: %.200s", s->buf);
      s->len -= (size_t)(nl + 1 - s->buf);
      memmove(s->buf, nl + 1, s->len);
      return v;
    }
    struct pollfd p = {s->from, POLLIN, 0};
    if (poll(&p, 1, 20000) != 1) fail_msg("no reply from nsr mcp within 20 s");
    assert_true(s->len < sizeof s->buf);
    ssize_t got = read(s->from, s->buf + s->len, sizeof s->buf - s->len);
    if (got <= 0) fail_msg("nsr mcp closed its output");
    s->len += (size_t)got;
  }
}

static json_t *request(server *s, const char *line) {
  send_line(s, line);
  return recv_json(s);
}

/* Ends the session with EOF; the server must exit 0 having written
 * nothing more. */
static void stop(server *s) {
  fclose(s->to);
  struct pollfd p = {s->from, POLLIN, 0};
  assert_int_equal(poll(&p, 1, 20000), 1);
  char c;
  assert_int_equal(read(s->from, &c, 1), 0); /* EOF, no stray output */
  int status;
  assert_int_equal(waitpid(s->pid, &status, 0), s->pid);
  assert_true(WIFEXITED(status));
  assert_int_equal(WEXITSTATUS(status), 0);
  close(s->from);
  free(s);
}

static void expect_error(json_t *reply, json_int_t id, int code, const char *needle) {
  json_t *jid = json_object_get(reply, "id");
  if (id < 0) assert_true(json_is_null(jid));
  else assert_int_equal(json_integer_value(jid), id);
  assert_string_equal(json_string_value(json_object_get(reply, "jsonrpc")), "2.0");
  json_t *e = json_object_get(reply, "error");
  if (e == NULL) fail_msg("no error in %s", json_dumps(reply, 0));
  assert_null(json_object_get(reply, "result"));
  assert_int_equal(json_integer_value(json_object_get(e, "code")), code);
  const char *msg = json_string_value(json_object_get(e, "message"));
  if (msg == NULL || strstr(msg, needle) == NULL) fail_msg("'%s' not in '%s'", needle, msg);
  json_decref(reply);
}

static json_t *expect_result(json_t *reply, json_int_t id) {
  assert_int_equal(json_integer_value(json_object_get(reply, "id")), id);
  json_t *r = json_object_get(reply, "result");
  if (r == NULL) fail_msg("no result in %s", json_dumps(reply, 0));
  json_incref(r);
  json_decref(reply);
  return r;
}

/* The server still answers: a ping, in whichever era fits. */
static void still_serving(server *s, bool modern) {
  char line[300];
  snprintf(line, sizeof line, "{\"jsonrpc\":\"2.0\",\"id\":9999,\"method\":\"ping\"%s}",
           modern ? ",\"params\":{" MODERN_META "}" : "");
  json_decref(expect_result(request(s, line), 9999));
}

static void initialize(server *s, const char *version, const char *expected) {
  char line[400];
  snprintf(line, sizeof line,
           "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{\"protocolVersion\":\"%s\","
           "\"capabilities\":{},\"clientInfo\":{\"name\":\"test\",\"version\":\"1\"}}}", version);
  json_t *r = expect_result(request(s, line), 1);
  assert_string_equal(json_string_value(json_object_get(r, "protocolVersion")), expected);
  assert_non_null(json_object_get(json_object_get(r, "capabilities"), "tools"));
  assert_string_equal(json_string_value(json_object_get(json_object_get(r, "serverInfo"), "name")), "nsr");
  assert_null(json_object_get(r, "resultType"));
  json_decref(r);
  send_line(s, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}");
}

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
  assert_int_equal(json_array_size(tools), 4);
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
  assert_non_null(strstr(msg, "unknown property \"tpo\" (allowed: examples, range, prior, lambda, sigma, top)"));
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
  assert_int_equal(json_array_size(json_object_get(r, "tools")), 4);
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
  expect_error(request(s, "{\"jsonrpc\":\"2.0\",\"id\":10,\"method\":\"tools/call\",\"params\":{\"name\":\"propose_hypotheses\",\"arguments\":{}}}"), 10, -32602, "unknown tool 'propose_hypotheses'");
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
/* tools/call NAME with ARGS (JSON text): the result. */
static json_t *call_tool(server *s, int id, const char *name, const char *args) {
  char line[4096];
  snprintf(line, sizeof line,
           "{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":\"tools/call\",\"params\":{\"name\":\"%s\",\"arguments\":%s}}",
           id, name, args);
  return expect_result(request(s, line), id);
}

/* The call is a tool error whose text holds needle; the server then still
 * answers. */
static void tool_fails(server *s, int id, const char *name, const char *args, const char *needle) {
  json_t *r = call_tool(s, id, name, args);
  assert_true(json_is_true(json_object_get(r, "isError")));
  const char *text = json_string_value(json_object_get(json_array_get(json_object_get(r, "content"), 0), "text"));
  if (text == NULL || strstr(text, needle) == NULL) fail_msg("no '%s' in %s", needle, text);
  json_decref(r);
  still_serving(s, false);
}

/* The structuredContent of a successful call. */
static json_t *tool_ok(server *s, int id, const char *name, const char *args) {
  json_t *r = call_tool(s, id, name, args);
  if (!json_is_false(json_object_get(r, "isError"))) fail_msg("%s failed: %s", name, json_dumps(r, 0));
  json_t *sc = json_incref(json_object_get(r, "structuredContent"));
  json_decref(r);
  return sc;
}

/* Programs that loop forever or allocate without bound, hostile foreign
 * forms: each a tool error naming what to change, the server serving on. */
static void test_run_program_hostile(void **state) {
  (void)state;
  char allow[400];
  snprintf(allow, sizeof allow, "%s:t_add", testlib);
  server *s = start((const char *const[]){"--max-steps", "3000000", "--max-memory", "32M",
                                          "--foreign", allow, NULL});
  initialize(s, "2025-11-25", "2025-11-25");
  tool_fails(s, 1, "run_program", "{\"source\":\"(define (f) (f)) (f)\"}",
             "step budget of 3000000 steps exhausted");
  tool_fails(s, 2, "run_program", "{\"source\":\"(define (g s) (g (string-append s s))) (g \\\"xx\\\")\"}",
             "memory budget of 33554432 bytes exhausted");
  tool_fails(s, 3, "run_program", "{\"source\":\"(+ 1\"}", "source:1:");
  tool_fails(s, 4, "run_program", "{\"source\":\"(car 5)\"}", "expected a pair as argument 1, got 5");
  tool_fails(s, 5, "run_program", "{\"source\":\"1\",\"seed\":-1}", "below the minimum 0");
  tool_fails(s, 6, "run_program", "{\"source\":\"1\",\"args\":[[1]]}", "arguments.args[0]");
  /* Only the allow-listed pair is ever bound: not another function of
   * the same library (t_secret is in no manifest and no allow-list), not
   * libc's system, not the same name in another library. */
  char src[1200];
  snprintf(src, sizeof src, "{\"source\":\"(foreign \\\"%s\\\" \\\"t_secret\\\" \\\"int64\\\" '())\"}", testlib);
  tool_fails(s, 7, "run_program", src, ":t_secret' is not allow-listed");
  tool_fails(s, 8, "run_program",
             "{\"source\":\"(foreign \\\"libc.so.6\\\" \\\"system\\\" \\\"int64\\\" '(\\\"const char*\\\"))\"}",
             "'libc.so.6:system' is not allow-listed");
  tool_fails(s, 9, "run_program",
             "{\"source\":\"(foreign \\\"libm.so.6\\\" \\\"t_add\\\" \\\"int64\\\" '(\\\"int64\\\" \\\"int64\\\"))\"}",
             "'libm.so.6:t_add' is not allow-listed");
  snprintf(src, sizeof src, "{\"source\":\"(foreign \\\"%s\\\" \\\"t_add\\\" \\\"int64\\\" '(\\\"float\\\"))\"}", testlib);
  tool_fails(s, 10, "run_program", src, "each parameter type must be one of int64, double, bool, const char*");
  snprintf(src, sizeof src, "{\"source\":\"(foreign \\\"%s\\\" \\\"t_add\\\" \\\"int64\\\" '(\\\"int64\\\" \\\"int64\\\")) (t_add 1.5 2)\"}", testlib);
  tool_fails(s, 11, "run_program", src, "t_add: argument 1 must be an exact integer (int64)");
  snprintf(src, sizeof src, "{\"source\":\"(foreign \\\"%s\\\" \\\"t_add\\\" \\\"int64\\\" '(\\\"int64\\\" \\\"int64\\\")) (t_add 1)\"}", testlib);
  tool_fails(s, 12, "run_program", src, "t_add");
  /* The allowed one works, and a program rebinding it in a loop reuses
   * one binding: 40 + 2 by the library, 1 + ... + 100 = 5050 by Gauss. */
  snprintf(src, sizeof src,
           "{\"source\":\"(define (bind) (foreign \\\"%s\\\" \\\"t_add\\\" \\\"int64\\\" '(\\\"int64\\\" \\\"int64\\\") 'add))"
           " (bind) (define (sum n) (bind) (if (= n 0) 0 (add n (sum (- n 1))))) (list (add 40 2) (sum 100))\"}",
           testlib);
  json_t *sc = tool_ok(s, 13, "run_program", src);
  assert_int_equal(json_integer_value(json_array_get(json_object_get(sc, "value"), 0)), 42);
  assert_int_equal(json_integer_value(json_array_get(json_object_get(sc, "value"), 1)), 5050);
  json_decref(sc);
  /* Printed output is capped at 64 KiB: 10,000 lines of 11 bytes (display
   * ends each line). */
  sc = tool_ok(s, 14, "run_program",
               "{\"source\":\"(define (p n) (if (> n 0) (begin (display \\\"0123456789\\\") (p (- n 1))) 'done)) (p 10000)\"}");
  assert_true(json_is_true(json_object_get(sc, "output_truncated")));
  assert_int_equal(json_string_length(json_object_get(sc, "output")), 65536); /* ASCII: cut at the byte */
  assert_string_equal(json_string_value(json_object_get(sc, "value")), "done");
  json_decref(sc);
  /* Every call is a fresh interpreter: nothing defined before survives. */
  json_decref(tool_ok(s, 15, "run_program", "{\"source\":\"(define secret 7) secret\"}"));
  tool_fails(s, 16, "run_program", "{\"source\":\"secret\"}", "unbound variable 'secret'");
  stop(s);
  /* Wall time, with steps to spare. */
  s = start((const char *const[]){"--max-time", "0.3", NULL});
  initialize(s, "2025-11-25", "2025-11-25");
  tool_fails(s, 1, "run_program", "{\"source\":\"(define (f) (f)) (f)\"}",
             "time budget of 0.3 seconds exhausted");
  /* Without --foreign no program may bind anything. */
  tool_fails(s, 2, "run_program",
             "{\"source\":\"(foreign \\\"libm.so.6\\\" \\\"cbrt\\\" \\\"double\\\" '(\\\"double\\\"))\"}",
             "it allows none");
  stop(s);
}

/* A rule store made by `nsr store init`, with two rules as an extractor
 * writes them. */
static void make_store(const char *path) {
  pid_t pid = fork();
  if (pid == 0) {
    freopen("/dev/null", "w", stdout);
    execl(nsr_bin, nsr_bin, "store", "init", "--db", path, (char *)NULL);
    _exit(127);
  }
  int status;
  waitpid(pid, &status, 0);
  assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  sqlite3 *db;
  assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
  assert_int_equal(sqlite3_exec(db,
      "INSERT INTO models(id, sha256, config_json) VALUES (1, 'ab12', '{}');"
      "INSERT INTO rules(id, model_id, method, layer, unit, body, conclusion, fidelity, support)"
      " VALUES (1, 1, 'probe', 2, 17, 'unit 17 > 0.42', 'multiples of 4', 0.5, 25),"
      " (2, 1, 'cart', NULL, NULL, 'x mod 10 = 7', 'ends in 7', 0.25, 10);",
      NULL, NULL, NULL), SQLITE_OK);
  sqlite3_close(db);
}

static void test_rules_hostile(void **state) {
  (void)state;
  char db[300];
  snprintf(db, sizeof db, "%s/rules.db", workdir);
  make_store(db);
  server *s = start((const char *const[]){"--db", db, NULL});
  initialize(s, "2025-11-25", "2025-11-25");
  json_t *sc = tool_ok(s, 1, "query_rules", "{\"sql\":\"SELECT id, conclusion, fidelity FROM rules ORDER BY id\"}");
  json_t *want = json_loads("{\"columns\":[\"id\",\"conclusion\",\"fidelity\"],"
                            "\"rows\":[[1,\"multiples of 4\",0.5],[2,\"ends in 7\",0.25]],\"truncated\":false}", 0, NULL);
  assert_true(json_equal(sc, want));
  json_decref(want);
  json_decref(sc);
  /* 34 concepts in the library; two of them asked for. */
  sc = tool_ok(s, 2, "query_rules", "{\"sql\":\"SELECT name FROM concepts\",\"limit\":2}");
  assert_int_equal(json_array_size(json_object_get(sc, "rows")), 2);
  assert_true(json_is_true(json_object_get(sc, "truncated")));
  json_decref(sc);
  tool_fails(s, 3, "query_rules", "{\"sql\":\"DELETE FROM rules\"}", "SQL refused");
  tool_fails(s, 4, "query_rules", "{\"sql\":\"SELECT 1; DELETE FROM rules\"}", "only one statement");
  tool_fails(s, 5, "query_rules", "{\"sql\":\"SELECT 1; SELECT 2\"}", "only one statement");
  tool_fails(s, 6, "query_rules", "{\"sql\":\"PRAGMA writable_schema = 1\"}", "SQL refused");
  tool_fails(s, 7, "query_rules", "{\"sql\":\"ATTACH DATABASE '/tmp/x.db' AS x\"}", "SQL refused");
  tool_fails(s, 8, "query_rules", "{\"sql\":\"UPDATE rules SET body = 'x'\"}", "SQL refused");
  tool_fails(s, 9, "query_rules", "{\"sql\":\"SELEKT 1\"}", "SQL refused");
  tool_fails(s, 10, "query_rules", "{\"sql\":\"SELECT 1\",\"limit\":0}", "below the minimum 1");
  tool_fails(s, 11, "query_rules", "{\"sql\":\"WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c\"}",
             "time limit of 2000 ms");
  /* Nothing was written. */
  sc = tool_ok(s, 12, "query_rules", "{\"sql\":\"SELECT count(*), sum(length(body)) FROM rules\"}");
  assert_int_equal(json_integer_value(json_array_get(json_array_get(json_object_get(sc, "rows"), 0), 0)), 2);
  assert_int_equal(json_integer_value(json_array_get(json_array_get(json_object_get(sc, "rows"), 0), 1)), 14 + 12);
  json_decref(sc);
  /* Resources. */
  json_t *r = expect_result(request(s, "{\"jsonrpc\":\"2.0\",\"id\":20,\"method\":\"resources/list\"}"), 20);
  json_t *list = json_object_get(r, "resources");
  assert_int_equal(json_array_size(list), 2);
  assert_string_equal(json_string_value(json_object_get(json_array_get(list, 0), "uri")), "rules://1");
  assert_string_equal(json_string_value(json_object_get(json_array_get(list, 0), "title")), "unit 17 > 0.42 => multiples of 4");
  assert_null(json_object_get(r, "nextCursor"));
  json_decref(r);
  r = expect_result(request(s, "{\"jsonrpc\":\"2.0\",\"id\":21,\"method\":\"resources/list\",\"params\":{\"cursor\":\"1\"}}"), 21);
  assert_int_equal(json_array_size(json_object_get(r, "resources")), 1);
  json_decref(r);
  r = expect_result(request(s, "{\"jsonrpc\":\"2.0\",\"id\":22,\"method\":\"resources/read\",\"params\":{\"uri\":\"rules://2\"}}"), 22);
  json_t *content = json_array_get(json_object_get(r, "contents"), 0);
  assert_string_equal(json_string_value(json_object_get(content, "uri")), "rules://2");
  json_t *rule = json_loads(json_string_value(json_object_get(content, "text")), 0, NULL);
  assert_string_equal(json_string_value(json_object_get(rule, "conclusion")), "ends in 7");
  assert_true(json_is_null(json_object_get(rule, "layer")));
  assert_true(json_real_value(json_object_get(rule, "fidelity")) == 0.25);
  json_decref(rule);
  json_decref(r);
  r = expect_result(request(s, "{\"jsonrpc\":\"2.0\",\"id\":23,\"method\":\"resources/templates/list\"}"), 23);
  assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(r, "resourceTemplates"), 0), "uriTemplate")), "rules://{id}");
  json_decref(r);
  static const char *const bad_uris[] = {"rules://3", "rules://0", "rules://1x", "rules://-1", "rules://",
                                         "rules://99999999999999999999", "file:///etc/passwd", "rules://1 OR 1=1"};
  for (size_t i = 0; i < sizeof bad_uris / sizeof bad_uris[0]; i++) {
    char line[300];
    snprintf(line, sizeof line, "{\"jsonrpc\":\"2.0\",\"id\":24,\"method\":\"resources/read\",\"params\":{\"uri\":\"%s\"}}", bad_uris[i]);
    r = request(s, line);
    assert_string_equal(json_string_value(json_object_get(json_object_get(json_object_get(r, "error"), "data"), "uri")), bad_uris[i]);
    expect_error(r, 24, -32602, "Resource not found");
  }
  expect_error(request(s, "{\"jsonrpc\":\"2.0\",\"id\":25,\"method\":\"resources/read\",\"params\":{}}"), 25, -32602, "params.uri must be a string");
  expect_error(request(s, "{\"jsonrpc\":\"2.0\",\"id\":26,\"method\":\"resources/list\",\"params\":{\"cursor\":\"x\"}}"), 26, -32602, "unknown cursor");
  expect_error(request(s, "{\"jsonrpc\":\"2.0\",\"id\":27,\"method\":\"resources/list\",\"params\":{\"cursor\":5}}"), 27, -32602, "cursor must be a string");
  /* The modern era, with its caching hints. */
  r = expect_result(request(s, "{\"jsonrpc\":\"2.0\",\"id\":28,\"method\":\"resources/read\",\"params\":{\"uri\":\"rules://1\"," MODERN_META "}}"), 28);
  assert_string_equal(json_string_value(json_object_get(r, "resultType")), "complete");
  assert_true(json_integer_value(json_object_get(r, "ttlMs")) > 0);
  json_decref(r);
  stop(s);
  /* No store at --db: the tool says how to make one; no resources. */
  snprintf(db, sizeof db, "%s/none.db", workdir);
  s = start((const char *const[]){"--db", db, NULL});
  initialize(s, "2025-11-25", "2025-11-25");
  tool_fails(s, 1, "query_rules", "{\"sql\":\"SELECT 1\"}", "create it with 'nsr store init --db");
  r = expect_result(request(s, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"resources/list\"}"), 2);
  assert_int_equal(json_array_size(json_object_get(r, "resources")), 0);
  json_decref(r);
  expect_error(request(s, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"resources/read\",\"params\":{\"uri\":\"rules://1\"}}"), 3, -32602, "no rule store");
  stop(s);
  assert_int_equal(access(db, F_OK), -1); /* and none was created */
}

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

typedef struct run_result {
  int status;
  char out[65536];
  char err[2048];
} run_result;

/* Runs `nsr ARGS...` with stdin at EOF and collects its output. */
static run_result run(const char *const *args) {
  server *s = spawn(args);
  fclose(s->to);
  run_result r = {0, "", ""};
  size_t len = 0;
  ssize_t got;
  while ((got = read(s->from, r.out + len, sizeof r.out - 1 - len)) > 0) len += (size_t)got;
  r.out[len] = '\0';
  close(s->from);
  int status;
  assert_int_equal(waitpid(s->pid, &status, 0), s->pid);
  free(s);
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  char err_path[300];
  snprintf(err_path, sizeof err_path, "%s/stderr", workdir);
  FILE *f = fopen(err_path, "r");
  size_t n = f ? fread(r.err, 1, sizeof r.err - 1, f) : 0;
  r.err[n] = '\0';
  if (f) fclose(f);
  return r;
}

#define RUN(...) run((const char *const[]){__VA_ARGS__, NULL})

static void usage_error(run_result r, const char *needle) {
  if (r.status != 2) fail_msg("status %d: %s", r.status, r.err);
  assert_string_equal(r.out, "");
  char *nl = strchr(r.err, '\n');
  assert_true(nl && nl[1] == '\0');
  if (strstr(r.err, needle) == NULL) fail_msg("'%s' not in '%s'", needle, r.err);
}

static void test_command_lines(void **state) {
  (void)state;
  run_result r = RUN("mcp", "--help");
  assert_int_equal(r.status, 0);
  assert_non_null(strstr(r.out, "Usage: nsr mcp"));
  assert_non_null(strstr(r.out, "--tools MANIFEST"));
  usage_error(RUN("mcp", "--frob"), "unknown option '--frob'");
  usage_error(RUN("mcp", "extra"), "unexpected argument 'extra'");
  usage_error(RUN("mcp", "--tools"), "option '--tools' needs a value");
  usage_error(RUN("mcp", "--db"), "option '--db' needs a path");
  usage_error(RUN("mcp", "--max-steps", "0"), "--max-steps: 0 is outside");
  usage_error(RUN("mcp", "--max-memory", "12Q"), "--max-memory");
  usage_error(RUN("mcp", "--max-memory", "99999999999G"), "--max-memory");
  usage_error(RUN("mcp", "--max-time", "-1"), "--max-time");
  usage_error(RUN("mcp", "--foreign", "cbrt"), "must be LIBRARY:FUNCTION");
  usage_error(RUN("mcp", "--foreign", "libm.so.6:1x"), "must be LIBRARY:FUNCTION");
  r = RUN("run", "--foreign", ":cbrt", "-e", "1");
  assert_int_equal(r.status, 2);
  assert_non_null(strstr(r.err, "must be LIBRARY:FUNCTION"));
  /* `nsr run` binds what its --foreign allows, and nothing else. */
  r = RUN("run", "--foreign", "libm.so.6:fabs", "-e", "(foreign \"libm.so.6\" \"fabs\" \"double\" '(\"double\")) (fabs -2.5)");
  assert_int_equal(r.status, 0);
  assert_string_equal(r.out, "2.5\n");
  r = RUN("run", "-e", "(foreign \"libm.so.6\" \"fabs\" \"double\" '(\"double\"))");
  assert_int_equal(r.status, 1);
  assert_non_null(strstr(r.err, "not allow-listed"));
  usage_error(RUN("mcp", "--weights", "m.safetensors"), "--weights: propose_hypotheses");
  usage_error(RUN("mcp", "--tools", "/nonexistent/m.json"), "tool manifest '/nonexistent/m.json'");
  /* With stdin at EOF at once the server exits 0, having said on stderr
   * only that it started. */
  r = RUN("mcp");
  assert_int_equal(r.status, 0);
  assert_string_equal(r.out, "");
  assert_non_null(strstr(r.err, "nsr mcp: serving 4 tools"));
  r = RUN("tools");
  assert_int_equal(r.status, 0);
  assert_non_null(strstr(r.out, "number_game(examples, range?, prior?, lambda?, sigma?, top?)"));
  assert_non_null(strstr(r.out, "list_concepts()"));
  r = RUN("tools", "--format", "openai");
  assert_int_equal(r.status, 0);
  json_t *v = json_loads(r.out, 0, NULL);
  assert_true(json_is_array(v));
  assert_string_equal(json_string_value(json_object_get(json_object_get(json_array_get(v, 0), "function"), "name")), "number_game");
  json_decref(v);
  r = RUN("tools", "--format=mcp");
  v = json_loads(r.out, 0, NULL);
  assert_int_equal(json_array_size(json_object_get(v, "tools")), 4);
  json_decref(v);
  r = RUN("tools", "--json");
  assert_int_equal(r.status, 0);
  usage_error(RUN("tools", "--format", "yaml"), "unknown format 'yaml'");
  usage_error(RUN("tools", "--format"), "needs a value");
  usage_error(RUN("tools", "x"), "unexpected argument 'x'");
  r = RUN("help", "tools");
  assert_int_equal(r.status, 0);
  assert_non_null(strstr(r.out, "Usage: nsr tools"));
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: %s PATH-TO-NSR PATH-TO-TEST-LIBRARY\n", argv[0]);
    return 2;
  }
  nsr_bin = argv[1];
  testlib = argv[2];
  signal(SIGPIPE, SIG_IGN);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_legacy_session),
      cmocka_unit_test(test_initialize_versions),
      cmocka_unit_test(test_modern_era),
      cmocka_unit_test(test_hostile_input),
      cmocka_unit_test(test_foreign_tools_served),
      cmocka_unit_test(test_run_program_hostile),
      cmocka_unit_test(test_rules_hostile),
      cmocka_unit_test(test_client_goes_away),
      cmocka_unit_test(test_command_lines),
  };
  return cmocka_run_group_tests(tests, workdir_setup, workdir_teardown);
}
