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
  char buf[1 << 16];
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
  assert_int_equal(json_array_size(tools), 2);
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
  assert_int_equal(json_array_size(json_object_get(r, "tools")), 2);
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
  expect_error(request(s, "{\"jsonrpc\":\"2.0\",\"id\":10,\"method\":\"tools/call\",\"params\":{\"name\":\"run_program\",\"arguments\":{}}}"), 10, -32602, "unknown tool 'run_program'");
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
  char out[8192];
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
  usage_error(RUN("mcp", "--db", "rules.db"), "--db: query_rules and its rule store are not part of this build yet");
  usage_error(RUN("mcp", "--weights", "m.safetensors"), "--weights: propose_hypotheses");
  usage_error(RUN("mcp", "--tools", "/nonexistent/m.json"), "tool manifest '/nonexistent/m.json'");
  /* With stdin at EOF at once the server exits 0, having said on stderr
   * only that it started. */
  r = RUN("mcp");
  assert_int_equal(r.status, 0);
  assert_string_equal(r.out, "");
  assert_non_null(strstr(r.err, "nsr mcp: serving 2 tools"));
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
  assert_int_equal(json_array_size(json_object_get(v, "tools")), 2);
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
      cmocka_unit_test(test_client_goes_away),
      cmocka_unit_test(test_command_lines),
  };
  return cmocka_run_group_tests(tests, workdir_setup, workdir_teardown);
}
