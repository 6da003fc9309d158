/* mcp_proc.c: `nsr` as a child process on pipes (see mcp_proc.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mcp_proc.h"

const char *nsr_bin;
const char *testlib;
const char *mcp_workdir;

/* How long to wait for the server's next output: a hang guard only (the
 * whole mcp suite takes about 17 s under ASan on the loaded, shared
 * machine), so that a slow machine never fails a test. */
#define REPLY_GUARD_MS 60000

bool mcp_proc_args(int argc, char **argv, const char *workdir) {
  if (argc < 3) {
    fprintf(stderr, "usage: %s PATH-TO-NSR PATH-TO-TEST-LIBRARY\n", argv[0]);
    return false;
  }
  nsr_bin = argv[1];
  testlib = argv[2];
  mcp_workdir = workdir;
  signal(SIGPIPE, SIG_IGN);
  return true;
}

/* Runs `nsr ARGS...` with its stdin and stdout on pipes and its stderr in
 * the work directory's file "stderr". */
server *spawn(const char *const *args) {
  server *s = calloc(1, sizeof *s);
  int in[2], out[2];
  assert_int_equal(pipe(in), 0);
  assert_int_equal(pipe(out), 0);
  char err_path[300];
  snprintf(err_path, sizeof err_path, "%s/stderr", mcp_workdir);
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

void run_ok(const char *const *args) {
  server *s = spawn(args);
  fclose(s->to);
  char sink[4096];
  while (read(s->from, sink, sizeof sink) > 0) continue;
  int status;
  assert_int_equal(waitpid(s->pid, &status, 0), s->pid);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) fail_msg("nsr %s failed", args[0]);
  close(s->from);
  free(s);
}

/* `nsr mcp EXTRA...` */
server *start(const char *const *extra) {
  const char *args[16] = {"mcp"};
  for (size_t n = 0; extra && extra[n]; n++) args[n + 1] = extra[n];
  return spawn(args);
}

void send_line(server *s, const char *line) {
  assert_true(fputs(line, s->to) >= 0);
  assert_true(fputc('\n', s->to) != EOF);
  assert_int_equal(fflush(s->to), 0);
}

/* The next line the server writes, parsed; fails when none comes within
 * REPLY_GUARD_MS. */
json_t *recv_json(server *s) {
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
    if (poll(&p, 1, REPLY_GUARD_MS) != 1) {
      fail_msg("no reply from nsr mcp within %d s", REPLY_GUARD_MS / 1000);
    }
    assert_true(s->len < sizeof s->buf);
    ssize_t got = read(s->from, s->buf + s->len, sizeof s->buf - s->len);
    if (got <= 0) fail_msg("nsr mcp closed its output");
    s->len += (size_t)got;
  }
}

json_t *request(server *s, const char *line) {
  send_line(s, line);
  return recv_json(s);
}

/* Ends the session with EOF; the server must exit 0 having written
 * nothing more. */
void stop(server *s) {
  if (s->to) fclose(s->to);
  struct pollfd p = {s->from, POLLIN, 0};
  assert_int_equal(poll(&p, 1, REPLY_GUARD_MS), 1);
  char c;
  assert_int_equal(read(s->from, &c, 1), 0); /* EOF, no stray output */
  int status;
  assert_int_equal(waitpid(s->pid, &status, 0), s->pid);
  assert_true(WIFEXITED(status));
  assert_int_equal(WEXITSTATUS(status), 0);
  close(s->from);
  free(s);
}

void expect_error(json_t *reply, json_int_t id, int code, const char *needle) {
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

json_t *expect_result(json_t *reply, json_int_t id) {
  assert_int_equal(json_integer_value(json_object_get(reply, "id")), id);
  json_t *r = json_object_get(reply, "result");
  if (r == NULL) fail_msg("no result in %s", json_dumps(reply, 0));
  json_incref(r);
  json_decref(reply);
  return r;
}

/* The server still answers: a ping, in whichever era fits. */
void still_serving(server *s, bool modern) {
  char line[300];
  snprintf(line, sizeof line, "{\"jsonrpc\":\"2.0\",\"id\":9999,\"method\":\"ping\"%s}",
           modern ? ",\"params\":{" MODERN_META "}" : "");
  json_decref(expect_result(request(s, line), 9999));
}

void initialize(server *s, const char *version, const char *expected) {
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

/* tools/call NAME with ARGS (JSON text): the result. */
json_t *call_tool(server *s, int id, const char *name, const char *args) {
  size_t cap = strlen(args) + strlen(name) + 128;
  char *line = malloc(cap);
  assert_non_null(line);
  snprintf(line, cap,
           "{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":\"tools/call\",\"params\":{\"name\":\"%s\",\"arguments\":%s}}",
           id, name, args);
  json_t *reply = request(s, line);
  free(line);
  return expect_result(reply, id);
}

/* The call is a tool error whose text holds needle; the server then still
 * answers. */
void tool_fails(server *s, int id, const char *name, const char *args, const char *needle) {
  json_t *r = call_tool(s, id, name, args);
  assert_true(json_is_true(json_object_get(r, "isError")));
  const char *text = json_string_value(json_object_get(json_array_get(json_object_get(r, "content"), 0), "text"));
  if (text == NULL || strstr(text, needle) == NULL) fail_msg("no '%s' in %s", needle, text);
  json_decref(r);
  still_serving(s, false);
}

/* The structuredContent of a successful call. */
json_t *tool_ok(server *s, int id, const char *name, const char *args) {
  json_t *r = call_tool(s, id, name, args);
  if (!json_is_false(json_object_get(r, "isError"))) fail_msg("%s failed: %s", name, json_dumps(r, 0));
  json_t *sc = json_incref(json_object_get(r, "structuredContent"));
  json_decref(r);
  return sc;
}
