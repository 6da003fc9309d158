/* test_budgets.c: hostile programs stop within their budgets with a
 * message naming the budget that ran out, and long runs of hostile calls
 * leave memory bounded: 1000 run_program calls through a real `nsr mcp`
 * process (argv[1] is nsr) on stdio, its VmRSS measured before and after,
 * and 1000 hostile tools/call messages through the MCP handler in this
 * process. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "json.h"
#include "nsr_tools.h"
#include "nsr_lang.h"

enum budget { STEPS, MEMORY, TIME, PATHS };

static const char *nsr; /* the nsr command, argv[1] */

typedef struct hostile {
  const char *what;
  const char *program;
  enum budget tight; /* the one budget set low; the others are backstops */
  const char *message; /* what the error must say */
} hostile;

static const hostile programs[] = {
    {"infinite loop", "(define (loop n) (loop (+ n 1))) (loop 0)", STEPS, "step budget"},
    {"infinite loop", "(define (loop n) (loop (+ n 1))) (loop 0)", TIME, "time budget"},
    {"deep recursion", "(define (f n) (+ 1 (f (+ n 1)))) (f 0)", MEMORY, "memory budget"},
    {"exponential enumeration",
     "(enumeration-query (define xs (map (lambda (i) (flip)) (iota 40))) xs #t)", PATHS,
     "paths"},
    {"exponential enumeration",
     "(enumeration-query (define xs (map (lambda (i) (flip)) (iota 40))) xs #t)", STEPS,
     "step budget"},
    {"huge list", "(length (iota 100000000))", MEMORY, "memory budget"},
    {"huge list, built",
     "(define (build n acc) (build (+ n 1) (cons n acc))) (build 0 '())", MEMORY,
     "memory budget"},
    {"huge string", "(define (grow s) (grow (string-append s s))) (grow \"ab\")", MEMORY,
     "memory budget"},
    {"huge vector", "(make-vector 1000000000 0)", MEMORY, "memory budget"},
};

/* Tight budgets make the hostile run stop fast; backstops stop it anyway
 * (slowly) if the tight one is not enforced, so the test fails on the
 * message instead of hanging. The time backstop is a hang guard only, far
 * past any slowdown from load or ASan: the message, not the clock, tells
 * which budget stopped a run. */
static void config_for(enum budget tight, nsr_lang_config *cfg) {
  nsr_lang_config_default(cfg);
  cfg->max_steps = tight == STEPS ? 100000 : tight == TIME ? 0 : 200000000;
  cfg->max_memory = tight == MEMORY ? 8u << 20 : 512u << 20;
  cfg->timeout_seconds = tight == TIME ? 0.2 : 120;
  cfg->max_paths = tight == PATHS ? 500 : 0;
}

static void test_hostile_programs_stop(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof programs / sizeof *programs; i++) {
    const hostile *h = &programs[i];
    nsr_lang_config cfg;
    config_for(h->tight, &cfg);
    nsr_lang *lang;
    nsr_error err;
    assert_int_equal(nsr_lang_new(&cfg, &lang, &err), NSR_OK);
    uint64_t start = nsr_now_ns();
    nsr_code rc = nsr_lang_eval_string(lang, "hostile", h->program, strlen(h->program), &err);
    double seconds = nsr_seconds_since(start);
    print_message("%-24s %-40.40s %.3f s: %s\n", h->what, h->program, seconds, err.message);
    assert_int_equal(rc, NSR_ERR_LIMIT);
    if (strstr(err.message, h->message) == NULL) {
      fail_msg("%s: expected '%s' in '%s'", h->what, h->message, err.message);
    }
    /* The interpreter is still usable after the budget stopped it, even
     * when the failed run left its garbage just below the collector's
     * threshold (the first eval after "huge list, built" used to fail). */
    assert_int_equal(nsr_lang_eval_string(lang, "after", "(+ 1 2)", 7, &err), NSR_OK);
    nsr_lang_free(lang);
  }
}

/* Resident set size in KiB, from /proc/self/statm. */
static long rss_kib(void) {
  long pages_total = 0, pages_resident = 0;
  FILE *f = fopen("/proc/self/statm", "r");
  if (f == NULL) return -1;
  if (fscanf(f, "%ld %ld", &pages_total, &pages_resident) != 2) pages_resident = -1;
  fclose(f);
  return pages_resident * (sysconf(_SC_PAGESIZE) / 1024);
}

/* Under AddressSanitizer freed memory sits in a quarantine of up to 256 MiB,
 * so RSS says nothing about leaks there; LeakSanitizer checks them at exit. */
#if defined(__SANITIZE_ADDRESS__)
#define RSS_MEANINGFUL false
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define RSS_MEANINGFUL false
#endif
#endif
#ifndef RSS_MEANINGFUL
#define RSS_MEANINGFUL true
#endif

#define CALLS 1000
#define WARMUP 50
#define RSS_GROWTH_MAX_KIB (8 * 1024)

static void check_rss(const char *what, long before, long after) {
  print_message("%s: RSS %ld KiB after %d calls, %ld KiB after %d more\n", what, before, WARMUP,
                after, CALLS);
  if (RSS_MEANINGFUL && after - before > RSS_GROWTH_MAX_KIB) {
    fail_msg("%s: RSS grew by %ld KiB over %d calls", what, after - before, CALLS);
  }
}

/* ---- 1000 hostile run_program calls through a real `nsr mcp` ------------ */

/* A running `nsr mcp` and the pipes to it. */
typedef struct server {
  pid_t pid;
  FILE *to, *from;
} server;

/* Starts `nsr mcp` with the budget options in argv (NULL-terminated, after
 * "mcp") and initializes it; stderr (its log) is discarded. */
static server start_server(const char *const *budget_args) {
  int in[2], out[2];
  assert_int_equal(pipe(in), 0);
  assert_int_equal(pipe(out), 0);
  server s = {fork(), NULL, NULL};
  assert_true(s.pid >= 0);
  if (s.pid == 0) {
    dup2(in[0], STDIN_FILENO);
    dup2(out[1], STDOUT_FILENO);
    int null = open("/dev/null", O_WRONLY);
    dup2(null, STDERR_FILENO);
    close(in[1]);
    close(out[0]);
    const char *argv[16] = {"nsr", "mcp", "--db", "/nonexistent/nsr.db"};
    for (int i = 0; i < 10 && budget_args[i] != NULL; i++) argv[4 + i] = budget_args[i];
    execv(nsr, (char *const *)argv);
    _exit(127);
  }
  close(in[0]);
  close(out[1]);
  s.to = fdopen(in[1], "w");
  s.from = fdopen(out[0], "r");
  assert_non_null(s.to);
  assert_non_null(s.from);
  return s;
}

/* Sends one line and returns the parsed reply (the caller decrefs). */
static json_t *rpc(server *s, const char *line) {
  fputs(line, s->to);
  fputc('\n', s->to);
  assert_int_equal(fflush(s->to), 0);
  char *reply = NULL;
  size_t cap = 0;
  if (getline(&reply, &cap, s->from) < 0) fail_msg("nsr mcp closed its output after: %.200s", line);
  json_t *r = json_loads(reply, 0, NULL);
  free(reply);
  assert_non_null(r);
  return r;
}

/* Closes the server's input and checks that it exits 0. */
static void stop_server(server *s) {
  fclose(s->to);
  fclose(s->from);
  int status;
  assert_int_equal(waitpid(s->pid, &status, 0), s->pid);
  assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* VmRSS (or another field of /proc/PID/status) in KiB. */
static long status_kib(pid_t pid, const char *field) {
  char path[64], line[256];
  snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
  FILE *f = fopen(path, "r");
  assert_non_null(f);
  long v = -1;
  size_t n = strlen(field);
  while (fgets(line, sizeof line, f) != NULL) {
    if (strncmp(line, field, n) == 0 && line[n] == ':') v = strtol(line + n + 1, NULL, 10);
  }
  fclose(f);
  assert_true(v >= 0);
  return v;
}

static const char init_request[] =
    "{\"jsonrpc\":\"2.0\",\"id\":0,\"method\":\"initialize\",\"params\":{\"protocolVersion\":"
    "\"2025-11-25\",\"capabilities\":{},\"clientInfo\":{\"name\":\"t\",\"version\":\"1\"}}}";

/* Calls run_program with `program` as request `id`; the call must fail as
 * a tool error whose text names `budget`. */
static void hostile_call(server *s, int id, const char *program, const char *budget) {
  json_t *req = json_pack("{s:s, s:i, s:s, s:{s:s, s:{s:s}}}", "jsonrpc", "2.0", "id", id,
                          "method", "tools/call", "params", "name", "run_program", "arguments",
                          "source", program);
  assert_non_null(req);
  char *line = json_dumps(req, JSON_COMPACT);
  json_decref(req);
  assert_non_null(line);
  json_t *r = rpc(s, line);
  free(line);
  assert_int_equal(json_integer_value(json_object_get(r, "id")), id);
  json_t *result = json_object_get(r, "result");
  const char *text = json_string_value(
      json_object_get(json_array_get(json_object_get(result, "content"), 0), "text"));
  if (!json_is_true(json_object_get(result, "isError")) || text == NULL ||
      strstr(text, budget) == NULL) {
    char *dump = json_dumps(r, 0);
    fail_msg("call %d, %s: expected a tool error naming the %s, got %s", id, program, budget, dump);
  }
  json_decref(r);
}

/* The budgets of the server for the 1000 calls; for each program, the one
 * that stops it there (found by hand: tail loops, deep recursion and
 * enumeration take steps without holding memory; the rest allocate). The
 * enumeration's value is the same on every path: with a value per path
 * its table of values grows too, and the memory budget may stop it first.
 * The time budget is a hang guard only (see config_for). */
static const char *const tight_budgets[] = {"--max-steps", "100000", "--max-memory", "4194304",
                                            "--max-time", "120", NULL};
static const struct {
  const char *program, *budget;
} mcp_programs[] = {
    {"(define (loop n) (loop (+ n 1))) (loop 0)", "step budget"},
    {"(define (f n) (+ 1 (f (+ n 1)))) (f 0)", "step budget"},
    {"(enumeration-query (define xs (map (lambda (i) (flip)) (iota 40))) (length xs) #t)",
     "step budget"},
    {"(length (iota 100000000))", "memory budget"},
    {"(define (build n acc) (build (+ n 1) (cons n acc))) (build 0 '())", "step budget"},
    {"(define (grow s) (grow (string-append s s))) (grow \"ab\")", "memory budget"},
    {"(make-vector 1000000000 0)", "memory budget"},
};

/* Bounds on the server's memory: growth over the 1000 calls (a leak of a
 * few hundred bytes per call would pass; one of the interpreter's heap, a
 * few MiB per call, would not), and its peak, a 4 MiB interpreter budget
 * over a resident size of about 10 MiB. */
#define SERVER_RSS_GROWTH_MAX_KIB (4 * 1024)
#define SERVER_PEAK_MAX_KIB (64 * 1024)

static void test_thousand_run_program_calls(void **state) {
  (void)state;
  server s = start_server(tight_budgets);
  json_decref(rpc(&s, init_request));
  const size_t n = sizeof mcp_programs / sizeof *mcp_programs;
  long before = 0;
  for (int i = 0; i < WARMUP + CALLS; i++) {
    if (i == WARMUP) before = status_kib(s.pid, "VmRSS");
    hostile_call(&s, i + 1, mcp_programs[(size_t)i % n].program, mcp_programs[(size_t)i % n].budget);
  }
  long after = status_kib(s.pid, "VmRSS"), peak = status_kib(s.pid, "VmHWM");
  print_message("nsr mcp: VmRSS %ld KiB after %d run_program calls, %ld KiB after %d more, "
                "peak %ld KiB\n", before, WARMUP, after, CALLS, peak);
  if (RSS_MEANINGFUL && after - before > SERVER_RSS_GROWTH_MAX_KIB) {
    fail_msg("nsr mcp: RSS grew by %ld KiB over %d calls", after - before, CALLS);
  }
  if (RSS_MEANINGFUL && peak > SERVER_PEAK_MAX_KIB) fail_msg("nsr mcp: peak RSS %ld KiB", peak);
  stop_server(&s);
  /* The time budget, on a server whose step budget is the default. */
  const char *const slow[] = {"--max-time", "0.2", NULL};
  s = start_server(slow);
  json_decref(rpc(&s, init_request));
  for (int i = 0; i < 3; i++) hostile_call(&s, i + 1, mcp_programs[0].program, "time budget");
  stop_server(&s);
}

/* Hostile tools/call messages: huge and malformed arguments, unknown
 * tools, deep nesting. Every one gets a reply. */
static const char *const mcp_hostile[] = {
    "{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":\"tools/call\",\"params\":{\"name\":\"number_game\","
    "\"arguments\":{\"examples\":[1,2,3],\"max\":1000000,\"top\":1000000}}}",
    "{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":\"tools/call\",\"params\":{\"name\":\"number_game\","
    "\"arguments\":{\"examples\":[-1,1e300,\"x\",null]}}}",
    "{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":\"tools/call\",\"params\":{\"name\":\"nope\"}}",
    "{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":\"tools/call\",\"params\":"
    "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}",
    "{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":\"tools/call\",\"params\":{\"name\":\"list_concepts\","
    "\"arguments\":{\"max\":-5}}}",
};

static void test_thousand_mcp_calls(void **state) {
  (void)state;
  tools_options opt = {0};
  tools_registry *reg;
  mcp_server *server;
  assert_int_equal(tools_registry_build(&opt, &reg, NULL), NSR_OK);
  assert_int_equal(mcp_server_new(reg, &server, NULL), NSR_OK);
  const char *init =
      "{\"jsonrpc\":\"2.0\",\"id\":0,\"method\":\"initialize\",\"params\":{\"protocolVersion\":"
      "\"2025-11-25\",\"capabilities\":{},\"clientInfo\":{\"name\":\"t\",\"version\":\"1\"}}}";
  char *reply;
  assert_int_equal(mcp_server_handle(server, init, strlen(init), &reply, NULL), NSR_OK);
  nsr_free(reply);
  const size_t n = sizeof mcp_hostile / sizeof *mcp_hostile;
  long before = 0;
  for (int i = 0; i < WARMUP + CALLS; i++) {
    if (i == WARMUP) before = rss_kib();
    char line[512];
    snprintf(line, sizeof line, mcp_hostile[(size_t)i % n], i + 1);
    reply = NULL;
    assert_int_equal(mcp_server_handle(server, line, strlen(line), &reply, NULL), NSR_OK);
    assert_non_null(reply);
    json_t *r = json_loads(reply, 0, NULL);
    assert_non_null(r);
    assert_int_equal(json_integer_value(json_object_get(r, "id")), i + 1);
    json_decref(r);
    nsr_free(reply);
  }
  check_rss("MCP tools/call", before, rss_kib());
  mcp_server_free(server);
  tools_registry_free(reg);
}

int main(int argc, char **argv) {
  if (argc != 2) return 2;
  nsr = argv[1];
  nsr_json_init();
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_hostile_programs_stop),
      cmocka_unit_test(test_thousand_run_program_calls),
      cmocka_unit_test(test_thousand_mcp_calls),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
