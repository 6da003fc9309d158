/* test_tools.c: the tool registry's C API: listing, strict argument
 * checking, the number-game tools against independently known values, and
 * libffi foreign tools from manifests (a library built by the test suite,
 * and libm). argv[1] is the path of the test library. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "test_workdir.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "json.h"
#include "mcp_replay.h"
#include "nsr_tools.h"
#include "tools_schema.h"

static const char *testlib;

static tools_registry *build(const char *const *manifests) {
  tools_options opt = {0};
  for (; manifests && manifests[opt.n_manifests]; opt.n_manifests++) {
    opt.manifests[opt.n_manifests] = manifests[opt.n_manifests];
  }
  tools_registry *reg = NULL;
  nsr_error err;
  if (tools_registry_build(&opt, &reg, &err) != NSR_OK) fail_msg("build: %s", err.message);
  return reg;
}

static json_t *parse(const char *text) {
  json_error_t jerr;
  json_t *v = json_loads(text, JSON_ALLOW_NUL, &jerr);
  if (v == NULL) fail_msg("bad JSON in test (%s): %s", jerr.text, text);
  return v;
}

/* Calls a tool expecting success; returns its output. */
static json_t *call_ok(tools_registry *reg, const char *name, const char *args) {
  json_t *a = parse(args), *out = NULL;
  nsr_error err;
  tools_status st = tools_call(reg, name, a, &out, &err);
  json_decref(a);
  if (st != TOOLS_OK) fail_msg("%s %s: %s", name, args, err.message);
  return out;
}

/* Calls a tool expecting a tool error whose message contains `needle`. */
static void call_fails(tools_registry *reg, const char *name, const char *args,
                       const char *needle) {
  json_t *a = parse(args), *out = NULL;
  nsr_error err;
  tools_status st = tools_call(reg, name, a, &out, &err);
  json_decref(a);
  if (st != TOOLS_FAILED) fail_msg("%s %s: status %d, wanted a tool error", name, args, st);
  assert_null(out);
  if (strstr(err.message, needle) == NULL) fail_msg("'%s' not in '%s'", needle, err.message);
}

static double num(const json_t *v) {
  assert_true(json_is_number(v));
  return json_number_value(v);
}

static const json_t *hypothesis(const json_t *out, size_t i) {
  return json_array_get(json_object_get(out, "hypotheses"), i);
}

/* Checks a tool's output against its own published output schema. */
static void matches_output_schema(tools_registry *reg, const char *name, const json_t *out) {
  json_t *list;
  nsr_error err;
  assert_int_equal(tools_list_json(reg, &list, &err), NSR_OK);
  size_t i;
  json_t *t;
  json_array_foreach(list, i, t) {
    if (strcmp(json_string_value(json_object_get(t, "name")), name) != 0) continue;
    if (tools_schema_check(json_object_get(t, "outputSchema"), out, "output", &err) != NSR_OK) {
      fail_msg("%s output: %s", name, err.message);
    }
  }
  json_decref(list);
}

static void test_list(void **state) {
  (void)state;
  tools_registry *reg = build(NULL);
  json_t *list;
  nsr_error err;
  assert_int_equal(tools_list_json(reg, &list, &err), NSR_OK);
  assert_int_equal(json_array_size(list), 4);
  json_t *ng = json_array_get(list, 0), *lc = json_array_get(list, 1);
  assert_string_equal(json_string_value(json_object_get(ng, "name")), "number_game");
  assert_string_equal(json_string_value(json_object_get(lc, "name")), "list_concepts");
  /* The property names the issue fixes, and no others. */
  const char *expected[] = {"examples", "range", "prior", "lambda", "sigma", "top", "probes"};
  json_t *props = json_object_get(json_object_get(ng, "inputSchema"), "properties");
  assert_int_equal(json_object_size(props), 7); /* no "space": these options ship none */
  for (size_t k = 0; k < 7; k++) assert_non_null(json_object_get(props, expected[k]));
  json_t *req = json_object_get(json_object_get(ng, "inputSchema"), "required");
  assert_int_equal(json_array_size(req), 1);
  assert_string_equal(json_string_value(json_array_get(req, 0)), "examples");
  assert_int_equal(json_object_size(json_object_get(json_object_get(lc, "inputSchema"), "properties")), 0);
  for (size_t k = 0; k < 2; k++) {
    json_t *t = json_array_get(list, k);
    assert_true(json_is_object(json_object_get(t, "outputSchema")));
    assert_true(json_is_true(json_object_get(json_object_get(t, "annotations"), "readOnlyHint")));
    assert_true(strlen(json_string_value(json_object_get(t, "description"))) > 40);
  }
  json_decref(list);
  assert_int_equal(tools_list_openai_json(reg, &list, &err), NSR_OK);
  json_t *f = json_object_get(json_array_get(list, 0), "function");
  assert_string_equal(json_string_value(json_object_get(json_array_get(list, 0), "type")), "function");
  assert_string_equal(json_string_value(json_object_get(f, "name")), "number_game");
  assert_non_null(json_object_get(json_object_get(f, "parameters"), "properties"));
  json_decref(list);
  tools_registry_free(reg);
}

/* Values from the WebPPL peer (../shared/peers/README.md): exact
 * enumeration of the same model. */
static void test_number_game_values(void **state) {
  (void)state;
  tools_registry *reg = build(NULL);
  json_t *out = call_ok(reg, "number_game", "{\"examples\":[16,8,2,64]}");
  assert_string_equal(json_string_value(json_object_get(hypothesis(out, 0), "name")), "powers of 2");
  assert_true(fabs(num(json_object_get(hypothesis(out, 0), "posterior")) - 0.999792) < 5e-7);
  assert_string_equal(json_string_value(json_object_get(hypothesis(out, 1), "name")), "even");
  assert_true(fabs(num(json_object_get(hypothesis(out, 1), "posterior")) - 2.073169e-4) < 1e-9);
  assert_string_equal(json_string_value(json_object_get(hypothesis(out, 2), "name")), "interval 2..64");
  assert_true(fabs(num(json_object_get(hypothesis(out, 2), "posterior")) - 4.757818e-8) < 1e-13);
  assert_int_equal(json_array_size(json_object_get(out, "hypotheses")), 10);
  json_t *gen = json_object_get(out, "generalization");
  assert_int_equal(json_array_size(gen), 100);
  /* 32 is in powers of 2, even and the interval: p(32 in C) = 1 up to the
   * intervals too short to hold it, which cannot contain 2..64 anyway. */
  assert_true(fabs(num(json_array_get(gen, 31)) - 1.0) < 1e-12);
  /* 3 lies in every consistent interval (each holds 2..64) and in neither
   * consistent rule, so p(3 in C) = 1 - p(powers of 2) - p(even). */
  double rules = num(json_object_get(hypothesis(out, 0), "posterior")) +
                 num(json_object_get(hypothesis(out, 1), "posterior"));
  assert_true(fabs(num(json_array_get(gen, 2)) - (1.0 - rules)) < 1e-12);
  matches_output_schema(reg, "number_game", out);
  json_decref(out);
  tools_registry_free(reg);
}

/* A tiny case derived by hand: N = 4, X = {2}, mixture prior with
 * lambda = 1 (intervals get no mass). Rules over 1..4 containing 2:
 * even {2,4} (size 2) and powers of 2 {2,4} (size 2), multiples of 4 ...
 * no; ends in 2 {2} (size 1); primes {2,3} (size 2), and no other rule
 * holds 2 within 1..4. Weights 1/|h|: 1/2, 1/2, 1/2, 1, so "ends in 2" has
 * posterior 1/(1/2+1/2+1/2+1) = 0.4. */
static void test_number_game_hand_derived(void **state) {
  (void)state;
  tools_registry *reg = build(NULL);
  json_t *out = call_ok(reg, "number_game",
                        "{\"examples\":[2],\"range\":4,\"prior\":\"mixture\",\"lambda\":1,\"top\":4}");
  assert_string_equal(json_string_value(json_object_get(hypothesis(out, 0), "name")), "ends in 2");
  assert_true(fabs(num(json_object_get(hypothesis(out, 0), "posterior")) - 0.4) < 1e-12);
  assert_true(fabs(num(json_object_get(hypothesis(out, 1), "posterior")) - 0.2) < 1e-12);
  assert_int_equal(json_integer_value(json_object_get(json_object_get(out, "consistent"), "rules")), 4);
  /* p(4 in C) = even + powers of 2 = 0.4; p(3) = primes = 0.2. */
  json_t *gen = json_object_get(out, "generalization");
  assert_true(fabs(num(json_array_get(gen, 3)) - 0.4) < 1e-12);
  assert_true(fabs(num(json_array_get(gen, 2)) - 0.2) < 1e-12);
  assert_true(fabs(num(json_object_get(json_object_get(out, "prior"), "lambda")) - 1.0) < 1e-15);
  json_decref(out);
  /* The engine is cached per configuration: switching back and forth must
   * give each configuration's own answer. */
  out = call_ok(reg, "number_game", "{\"examples\":[16,8,2,64],\"top\":1}");
  assert_true(fabs(num(json_object_get(hypothesis(out, 0), "posterior")) - 0.999792) < 5e-7);
  json_decref(out);
  out = call_ok(reg, "number_game", "{\"examples\":[2.0],\"range\":4,\"prior\":\"mixture\",\"lambda\":1,\"top\":1}");
  assert_true(fabs(num(json_object_get(hypothesis(out, 0), "posterior")) - 0.4) < 1e-12);
  json_decref(out);
  tools_registry_free(reg);
}

static void test_number_game_bad_arguments(void **state) {
  (void)state;
  tools_registry *reg = build(NULL);
  call_fails(reg, "number_game", "{}", "arguments: missing required property \"examples\"");
  call_fails(reg, "number_game", "{\"examples\":16}", "arguments.examples must be an array");
  call_fails(reg, "number_game", "{\"examples\":[]}", "arguments.examples needs at least 1 item");
  call_fails(reg, "number_game", "{\"examples\":[16,\"8\"]}", "arguments.examples[1] must be an integer");
  call_fails(reg, "number_game", "{\"examples\":[16,8.5]}", "arguments.examples[1] must be an integer");
  call_fails(reg, "number_game", "{\"examples\":[16,true]}", "arguments.examples[1] must be an integer");
  call_fails(reg, "number_game", "{\"examples\":[0]}", "arguments.examples[0]: 0 is below the minimum 1");
  call_fails(reg, "number_game", "{\"examples\":[-5]}", "below the minimum 1");
  call_fails(reg, "number_game", "{\"examples\":[10001]}", "10001 is above the maximum 10000");
  call_fails(reg, "number_game", "{\"examples\":[1e300]}", "must be an integer");
  call_fails(reg, "number_game", "{\"examples\":[64],\"range\":50}", "arguments.examples[0]: 64 is outside 1..50");
  call_fails(reg, "number_game", "{\"examples\":[4],\"tpo\":3}",
             "arguments: unknown property \"tpo\" (allowed: examples, range, prior, lambda, sigma, top, probes)");
  call_fails(reg, "number_game", "{\"examples\":[4],\"range\":0}", "below the minimum 1");
  call_fails(reg, "number_game", "{\"examples\":[4],\"range\":\"1..100\"}", "arguments.range must be an integer");
  call_fails(reg, "number_game", "{\"examples\":[4],\"prior\":\"flat\"}", "\"flat\" is not one of \"pmtk3\", \"mixture\"");
  call_fails(reg, "number_game", "{\"examples\":[4],\"lambda\":0.5}", "only to the mixture prior");
  call_fails(reg, "number_game", "{\"examples\":[4],\"prior\":\"mixture\",\"lambda\":2}", "above the maximum 1");
  call_fails(reg, "number_game", "{\"examples\":[4],\"sigma\":0}", "arguments.sigma: 0 must be greater than 0");
  call_fails(reg, "number_game", "{\"examples\":[4],\"sigma\":null}", "arguments.sigma must be a number");
  call_fails(reg, "number_game", "{\"examples\":[4],\"top\":-1}", "below the minimum 0");
  call_fails(reg, "number_game", "{\"examples\":[4],\"top\":1001}", "above the maximum 1000");
  call_fails(reg, "list_concepts", "{\"x\":1}", "unknown property \"x\" (allowed: none)");
  /* Not an object at all. */
  json_t *arr = json_array(), *out = NULL;
  nsr_error err;
  assert_int_equal(tools_call(reg, "number_game", arr, &out, &err), TOOLS_FAILED);
  assert_non_null(strstr(err.message, "arguments must be an object"));
  json_decref(arr);
  assert_int_equal(tools_call(reg, "number_game", NULL, &out, &err), TOOLS_FAILED);
  assert_int_equal(tools_call(reg, "propose_hypotheses", NULL, &out, &err), TOOLS_UNKNOWN);
  assert_int_equal(tools_call(reg, "run_program", NULL, &out, &err), TOOLS_FAILED);
  assert_non_null(strstr(err.message, "missing required property \"source\""));
  assert_int_equal(tools_call(reg, NULL, NULL, &out, &err), TOOLS_UNKNOWN);
  tools_registry_free(reg);
}

/* The members of each rule over 1..100, from the rule's name alone. */
static bool in_rule(const char *name, long y) {
  long k;
  if (strcmp(name, "even") == 0) return y % 2 == 0;
  if (strcmp(name, "odd") == 0) return y % 2 == 1;
  if (strcmp(name, "squares") == 0) {
    for (long r = 1; r * r <= y; r++) if (r * r == y) return true;
    return false;
  }
  if (strcmp(name, "cubes") == 0) {
    for (long r = 1; r * r * r <= y; r++) if (r * r * r == y) return true;
    return false;
  }
  if (strcmp(name, "primes") == 0) {
    if (y < 2) return false;
    for (long d = 2; d * d <= y; d++) if (y % d == 0) return false;
    return true;
  }
  if (sscanf(name, "multiples of %ld", &k) == 1) return y % k == 0;
  if (sscanf(name, "powers of %ld", &k) == 1) {
    for (long p = k; p <= y; p *= k) if (p == y) return true;
    return false;
  }
  if (sscanf(name, "ends in %ld", &k) == 1) return y % 10 == k;
  fail_msg("unexpected rule name '%s'", name);
  return false;
}

static void test_list_concepts(void **state) {
  (void)state;
  tools_registry *reg = build(NULL);
  json_t *out = call_ok(reg, "list_concepts", "{}");
  json_t *rules = json_object_get(out, "rules");
  assert_int_equal(json_array_size(rules), 34);
  size_t i;
  json_t *r;
  json_array_foreach(rules, i, r) {
    const char *name = json_string_value(json_object_get(r, "name"));
    json_t *members = json_object_get(r, "members");
    size_t m = 0;
    for (long y = 1; y <= 100; y++) {
      if (!in_rule(name, y)) continue;
      if (json_integer_value(json_array_get(members, m)) != y) fail_msg("%s: %ld missing", name, y);
      m++;
    }
    if (m != json_array_size(members)) fail_msg("%s: %zu members, expected %zu", name, json_array_size(members), m);
    assert_int_equal(json_integer_value(json_object_get(r, "size")), m);
  }
  assert_int_equal(json_integer_value(json_object_get(json_object_get(out, "intervals"), "count")), 5050);
  matches_output_schema(reg, "list_concepts", out);
  json_decref(out);
  json_decref(call_ok(reg, "list_concepts", "{}")); /* twice: no state carried over */
  tools_registry_free(reg);
}

/* Every allocation failure in a call gives a clean error, never a crash
 * or a leak (the ASan build checks the leaks). */
static void test_allocation_failures(void **state) {
  (void)state;
  tools_registry *reg = build(NULL);
  json_t *args = parse("{\"examples\":[16,8,2,64],\"range\":120,\"top\":3}");
  int failed = 0;
  for (uint64_t n = 1; n < 400; n++) {
    json_t *out = NULL;
    nsr_error err;
    nsr_alloc_fail_after(n);
    tools_status st = tools_call(reg, "number_game", args, &out, &err);
    nsr_alloc_fail_reset();
    if (st == TOOLS_OK) {
      json_decref(out);
      break;
    }
    assert_int_equal(st, TOOLS_FAILED);
    failed++;
  }
  assert_true(failed > 5);
  json_decref(args);
  json_decref(call_ok(reg, "number_game", "{\"examples\":[16]}"));
  tools_registry_free(reg);
}

static int contexts_freed;
static void count_free(void *ctx) {
  (void)ctx;
  contexts_freed++;
}
static nsr_code empty_call(void *ctx, const json_t *args, json_t **result, nsr_error *err) {
  (void)ctx;
  (void)args;
  *result = json_object();
  return *result ? NSR_OK : nsr_fail(err, NSR_ERR_NOMEM, "out of memory");
}

/* The seconds the timed form of the tool below was given (-1: the plain
 * form ran). */
static double timed_seconds_seen;
static nsr_code plain_call(void *ctx, const json_t *args, json_t **result, nsr_error *err) {
  timed_seconds_seen = -1;
  return empty_call(ctx, args, result, err);
}
static nsr_code timed_call(void *ctx, const json_t *args, double max_seconds, json_t **result,
                           nsr_error *err) {
  timed_seconds_seen = max_seconds;
  return empty_call(ctx, args, result, err);
}

/* tools_call_timed hands the cap to a tool's timed form, after the same
 * argument check; tools_call, a cap of 0 and a tool without a timed form
 * take the plain form; tools_set_call_timed names a registered tool. */
static void test_call_timed(void **state) {
  (void)state;
  static const char strict[] = "{\"type\":\"object\",\"additionalProperties\":false}";
  tools_registry *reg;
  nsr_error err;
  assert_int_equal(tools_registry_new(&reg, &err), NSR_OK);
  tool_def def = {"timed", "a tool that can be cut short", NULL, NULL, plain_call, NULL, NULL, true};
  assert_int_equal(tools_register_literal(reg, &def, strict, strict, &err), NSR_OK);
  def = (tool_def){"plain", "a tool that cannot", NULL, NULL, plain_call, NULL, NULL, true};
  assert_int_equal(tools_register_literal(reg, &def, strict, strict, &err), NSR_OK);
  assert_int_equal(tools_set_call_timed(reg, "nope", timed_call, &err), NSR_ERR_INVALID);
  assert_string_equal(err.message, "no tool named 'nope'");
  assert_int_equal(tools_set_call_timed(reg, "timed", timed_call, &err), NSR_OK);
  json_t *args = json_object(), *bad = json_pack("{s:i}", "x", 1), *out = NULL;
  struct {
    const char *tool;
    double cap, seen;
  } cases[] = {{"timed", 0.25, 0.25}, {"timed", 0, -1}, {"plain", 0.25, -1}};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    timed_seconds_seen = 99;
    assert_int_equal(tools_call_timed(reg, cases[i].tool, args, cases[i].cap, &out, &err), TOOLS_OK);
    assert_true(timed_seconds_seen == cases[i].seen);
    json_decref(out);
  }
  timed_seconds_seen = 99;
  assert_int_equal(tools_call(reg, "timed", args, &out, &err), TOOLS_OK);
  assert_true(timed_seconds_seen == -1);
  json_decref(out);
  timed_seconds_seen = 99;
  assert_int_equal(tools_call_timed(reg, "timed", bad, 0.25, &out, &err), TOOLS_FAILED);
  assert_true(timed_seconds_seen == 99);
  assert_null(out);
  json_decref(args);
  json_decref(bad);
  tools_registry_free(reg);
}

/* tools_register_literal, the one way nsr's own tools register: a schema
 * literal that does not parse, a taken name, or a failed allocation is
 * refused with the context freed exactly once and the registry unchanged;
 * tools_def_discard releases a definition never registered. */
static void test_register_literal(void **state) {
  (void)state;
  static const char schema[] = "{\"type\":\"object\"}";
  tools_registry *reg;
  nsr_error err;
  assert_int_equal(tools_registry_new(&reg, &err), NSR_OK);
  int ctx = 0;
  contexts_freed = 0;
  tool_def def = {"t", "a test tool", NULL, NULL, empty_call, &ctx, count_free, true};
  assert_int_equal(tools_register_literal(reg, &def, "{\"type\":", schema, &err), NSR_ERR_INTERNAL);
  assert_int_equal(contexts_freed, 1);
  def = (tool_def){"t", "a test tool", NULL, NULL, empty_call, &ctx, count_free, true};
  assert_int_equal(tools_register_literal(reg, &def, schema, "[", &err), NSR_ERR_INTERNAL);
  assert_int_equal(contexts_freed, 2);
  assert_int_equal(tools_count(reg), 0);
  def = (tool_def){"t", "a test tool", NULL, NULL, empty_call, &ctx, count_free, true};
  assert_int_equal(tools_register_literal(reg, &def, schema, schema, &err), NSR_OK);
  assert_int_equal(tools_count(reg), 1);
  json_decref(call_ok(reg, "t", "{}"));
  def = (tool_def){"t", "again", NULL, NULL, empty_call, &ctx, count_free, true};
  assert_int_equal(tools_register_literal(reg, &def, schema, schema, &err), NSR_ERR_INVALID);
  assert_non_null(strstr(err.message, "already registered"));
  assert_int_equal(contexts_freed, 3);
  for (uint64_t n = 1;; n++) {
    def = (tool_def){"u", "under failure", NULL, NULL, empty_call, &ctx, count_free, true};
    int before = contexts_freed;
    nsr_alloc_fail_after(n);
    nsr_code rc = tools_register_literal(reg, &def, schema, schema, &err);
    nsr_alloc_fail_reset();
    if (rc == NSR_OK) break;
    assert_int_equal(contexts_freed, before + 1);
    assert_int_equal(tools_count(reg), 1);
  }
  assert_int_equal(tools_count(reg), 2);
  def = (tool_def){"v", "never registered", json_object(), json_object(), empty_call, &ctx,
                   count_free, true};
  int before = contexts_freed;
  tools_def_discard(&def);
  assert_int_equal(contexts_freed, before + 1);
  assert_null(def.input_schema);
  assert_null(def.ctx);
  tools_def_discard(&def); /* a cleared definition releases nothing */
  assert_int_equal(contexts_freed, before + 1);
  tools_registry_free(reg);
  assert_int_equal(contexts_freed, before + 3);
}

/* Requests of every kind, in both eras, good and bad: the MCP tests below
 * replay them under allocation failure and mutate them at random. */
static const char *const mcp_requests[] = {
    "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{\"protocolVersion\":\"2025-11-25\",\"capabilities\":{}}}",
    "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}",
    "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/list\"}",
    "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/call\",\"params\":{\"name\":\"number_game\",\"arguments\":{\"examples\":[16,8,2,64],\"range\":70,\"prior\":\"mixture\",\"lambda\":0.5,\"sigma\":3,\"top\":2}}}",
    "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"tools/call\",\"params\":{\"name\":\"number_game\",\"arguments\":{\"examples\":[0]}}}",
    "{\"jsonrpc\":\"2.0\",\"id\":\"x\",\"method\":\"server/discover\",\"params\":{\"_meta\":{\"io.modelcontextprotocol/protocolVersion\":\"2026-07-28\",\"io.modelcontextprotocol/clientCapabilities\":{}}}}",
    "{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":\"tools/list\",\"params\":{\"_meta\":{\"io.modelcontextprotocol/protocolVersion\":\"1999\",\"io.modelcontextprotocol/clientCapabilities\":{}}}}",
    "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"nope\"}",
    "not json",
};
#define N_MCP_REQUESTS (sizeof mcp_requests / sizeof mcp_requests[0])

/* The MCP server under allocation failure: for every allocation that can
 * fail, a request either gets its normal reply or reports NSR_ERR_NOMEM,
 * without leaks (ASan checks) or crashes. */
static void test_mcp_allocation_failures(void **state) {
  (void)state;

  tools_registry *reg = build(NULL);
  mcp_server *server;
  nsr_error err;
  assert_int_equal(mcp_server_new(reg, &server, &err), NSR_OK);
  for (size_t k = 0; k < N_MCP_REQUESTS; k++) mcp_replay_under_failure(server, mcp_requests[k], 5000);
  mcp_server_free(server);
  tools_registry_free(reg);
}

/* Random mutations of valid requests (bytes flipped, dropped, doubled):
 * whatever arrives, the reply is one well-formed JSON-RPC response or
 * nothing, and nothing crashes (ASan and UBSan watch the memory). */
static void test_mcp_mutated_requests(void **state) {
  (void)state;

  tools_registry *reg = build(NULL);
  mcp_server *server;
  nsr_error err;
  assert_int_equal(mcp_server_new(reg, &server, &err), NSR_OK);
  /* JSON's punctuation, digits, letters, and (the terminating one) NUL. */
  static const char alphabet[] = " {}[]\":,0123456789-.eaz\\";
  nsr_rng rng;
  nsr_rng_seed(&rng, 20261122);
  char buf[1024];
  for (int iter = 0; iter < 20000; iter++) {
    const char *seed = mcp_requests[nsr_rng_below(&rng, N_MCP_REQUESTS)];
    size_t len = strlen(seed);
    memcpy(buf, seed, len);
    for (uint64_t m = 1 + nsr_rng_below(&rng, 4); m > 0 && len > 1; m--) {
      size_t at = nsr_rng_below(&rng, len);
      switch (nsr_rng_below(&rng, 3)) {
        case 0: buf[at] = alphabet[nsr_rng_below(&rng, sizeof alphabet)]; break;
        case 1: memmove(buf + at, buf + at + 1, len - at - 1); len--; break;
        default:
          if (len + 1 < sizeof buf) {
            memmove(buf + at + 1, buf + at, len - at);
            len++;
          }
      }
    }
    char *reply = NULL;
    assert_int_equal(mcp_server_handle(server, buf, len, &reply, &err), NSR_OK);
    if (reply == NULL) continue; /* a notification or a response */
    json_t *v = parse(reply);
    assert_string_equal(json_string_value(json_object_get(v, "jsonrpc")), "2.0");
    assert_true((json_object_get(v, "result") != NULL) != (json_object_get(v, "error") != NULL));
    json_t *id = json_object_get(v, "id");
    assert_true(json_is_null(id) || json_is_integer(id) || json_is_string(id));
    json_decref(v);
    nsr_free(reply);
  }
  mcp_server_free(server);
  tools_registry_free(reg);
}

/* ---- foreign tools ------------------------------------------------------- */

static char *write_manifest(const char *name, const char *text) {
  static char path[512];
  snprintf(path, sizeof path, "%s/%s", workdir, name);
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs(text, f);
  fclose(f);
  return path;
}

static char *testlib_manifest(void) {
  char text[4096];
  snprintf(text, sizeof text,
           "{\"library\":\"%s\",\"functions\":["
           "{\"name\":\"t_add\",\"description\":\"a+b\",\"returns\":\"int64\","
           " \"params\":[{\"name\":\"a\",\"type\":\"int64\"},{\"name\":\"b\",\"type\":\"int64\"}]},"
           "{\"name\":\"t_scale\",\"tool\":\"scale\",\"description\":\"x*k\",\"returns\":\"double\","
           " \"params\":[{\"name\":\"x\",\"type\":\"double\",\"description\":\"the value\"},{\"name\":\"k\",\"type\":\"int64\"}]},"
           "{\"name\":\"t_and\",\"description\":\"a and b\",\"returns\":\"bool\","
           " \"params\":[{\"name\":\"a\",\"type\":\"bool\"},{\"name\":\"b\",\"type\":\"bool\"}]},"
           "{\"name\":\"t_is_even\",\"description\":\"n even\",\"returns\":\"bool\",\"params\":[{\"name\":\"n\",\"type\":\"int64\"}]},"
           "{\"name\":\"t_length\",\"description\":\"strlen\",\"returns\":\"int64\",\"params\":[{\"name\":\"s\",\"type\":\"const char*\"}]},"
           "{\"name\":\"t_greet\",\"description\":\"greets\",\"returns\":\"const char*\","
           " \"params\":[{\"name\":\"name\",\"type\":\"const char*\"},{\"name\":\"times\",\"type\":\"int64\"}]},"
           "{\"name\":\"t_maybe\",\"description\":\"maybe null\",\"returns\":\"const char*\",\"params\":[{\"name\":\"give\",\"type\":\"bool\"}]},"
           "{\"name\":\"t_nan\",\"description\":\"NaN\",\"returns\":\"double\",\"params\":[]},"
           "{\"name\":\"t_forty_two\",\"description\":\"42\",\"returns\":\"int64\",\"params\":[]}]}",
           testlib);
  return write_manifest("testlib.json", text);
}

static void test_ffi_calls(void **state) {
  (void)state;
  char *path = testlib_manifest();
  tools_registry *reg = build((const char *const[]){path, NULL});
  assert_int_equal(tools_count(reg), 13);
  json_t *out = call_ok(reg, "t_add", "{\"a\":40,\"b\":2}");
  assert_int_equal(json_integer_value(json_object_get(out, "result")), 42);
  json_decref(out);
  out = call_ok(reg, "t_add", "{\"a\":9007199254740000,\"b\":-9007199254740001}");
  assert_int_equal(json_integer_value(json_object_get(out, "result")), -1);
  json_decref(out);
  out = call_ok(reg, "t_add", "{\"a\":4611686018427387904,\"b\":4611686018427387903}");
  assert_int_equal(json_integer_value(json_object_get(out, "result")), INT64_MAX); /* 2^62 + 2^62-1 */
  json_decref(out);
  out = call_ok(reg, "t_add", "{\"a\":3.0,\"b\":-1}");
  assert_int_equal(json_integer_value(json_object_get(out, "result")), 2);
  json_decref(out);
  out = call_ok(reg, "scale", "{\"x\":1.5,\"k\":-4}");
  assert_true(num(json_object_get(out, "result")) == -6.0);
  json_decref(out);
  out = call_ok(reg, "t_and", "{\"a\":true,\"b\":true}");
  assert_true(json_is_true(json_object_get(out, "result")));
  json_decref(out);
  out = call_ok(reg, "t_and", "{\"a\":true,\"b\":false}");
  assert_true(json_is_false(json_object_get(out, "result")));
  json_decref(out);
  out = call_ok(reg, "t_is_even", "{\"n\":-7}");
  assert_true(json_is_false(json_object_get(out, "result")));
  json_decref(out);
  out = call_ok(reg, "t_length", "{\"s\":\"h\\u00e9llo\"}"); /* é is two bytes in UTF-8 */
  assert_int_equal(json_integer_value(json_object_get(out, "result")), 6);
  json_decref(out);
  out = call_ok(reg, "t_greet", "{\"name\":\"Ada\",\"times\":2}");
  assert_string_equal(json_string_value(json_object_get(out, "result")), "hi Ada, hi Ada");
  json_decref(out);
  out = call_ok(reg, "t_maybe", "{\"give\":false}");
  assert_true(json_is_null(json_object_get(out, "result")));
  json_decref(out);
  out = call_ok(reg, "t_forty_two", "{}");
  assert_int_equal(json_integer_value(json_object_get(out, "result")), 42);
  json_decref(out);
  /* Schemas derived from the signatures. */
  json_t *list;
  nsr_error err;
  assert_int_equal(tools_list_json(reg, &list, &err), NSR_OK);
  json_t *scale = json_array_get(list, 5);
  assert_string_equal(json_string_value(json_object_get(scale, "name")), "scale");
  assert_null(json_object_get(scale, "annotations"));
  json_t *in = json_object_get(scale, "inputSchema");
  json_t *expected = parse("{\"type\":\"object\",\"properties\":{\"x\":{\"type\":\"number\",\"description\":\"the value\"},"
                           "\"k\":{\"type\":\"integer\"}},\"required\":[\"x\",\"k\"],\"additionalProperties\":false}");
  assert_true(json_equal(in, expected));
  json_decref(expected);
  expected = parse("{\"type\":\"object\",\"properties\":{\"result\":{\"type\":\"number\"}},\"required\":[\"result\"]}");
  assert_true(json_equal(json_object_get(scale, "outputSchema"), expected));
  json_decref(expected);
  json_decref(list);
  tools_registry_free(reg);
}

/* int32 and uint64, by their names and C aliases: a negative int32 result
 * comes back negative (libffi widens it to a whole register), arguments
 * outside a kind's range are refused by the derived schema, and a uint64
 * result past INT64_MAX is refused rather than wrapped to a negative. */
static void test_ffi_narrow_and_unsigned(void **state) {
  (void)state;
  char text[2048];
  snprintf(text, sizeof text,
           "{\"library\":\"%s\",\"functions\":["
           "{\"name\":\"t_neg32\",\"description\":\"-x\",\"returns\":\"int\",\"params\":[{\"name\":\"x\",\"type\":\"int32\"}]},"
           "{\"name\":\"t_half\",\"description\":\"x/2\",\"returns\":\"uint64\",\"params\":[{\"name\":\"x\",\"type\":\"size_t\"}]},"
           "{\"name\":\"t_umax\",\"description\":\"2^64-1\",\"returns\":\"uint64_t\",\"params\":[]}]}",
           testlib);
  tools_registry *reg = build((const char *const[]){write_manifest("narrow.json", text), NULL});
  json_t *out = call_ok(reg, "t_neg32", "{\"x\":5}");
  assert_int_equal(json_integer_value(json_object_get(out, "result")), -5);
  json_decref(out);
  out = call_ok(reg, "t_neg32", "{\"x\":-2147483647}");
  assert_int_equal(json_integer_value(json_object_get(out, "result")), 2147483647);
  json_decref(out);
  call_fails(reg, "t_neg32", "{\"x\":2147483648}", "arguments.x: 2.14748e+09 is above the maximum");
  call_fails(reg, "t_neg32", "{\"x\":-2147483649}", "is below the minimum");
  out = call_ok(reg, "t_half", "{\"x\":9223372036854775807}");
  assert_int_equal(json_integer_value(json_object_get(out, "result")), 4611686018427387903); /* (2^63-1) div 2 */
  json_decref(out);
  call_fails(reg, "t_half", "{\"x\":-1}", "arguments.x: -1 is below the minimum 0");
  call_fails(reg, "t_umax", "{}", "t_umax returned 18446744073709551615, past the largest integer");
  /* The schemas carry the bounds; uint64 has no maximum below JSON's. */
  json_t *list;
  nsr_error err;
  assert_int_equal(tools_list_json(reg, &list, &err), NSR_OK);
  static const char *const want[] = {
      "{\"x\":{\"type\":\"integer\",\"minimum\":-2147483648,\"maximum\":2147483647}}",
      "{\"x\":{\"type\":\"integer\",\"minimum\":0}}"};
  for (size_t i = 0; i < 2; i++) {
    json_t *tool = json_array_get(list, 4 + i); /* after the 4 built-in tools */
    json_t *expected = parse(want[i]);
    assert_true(json_equal(json_object_get(json_object_get(tool, "inputSchema"), "properties"), expected));
    json_decref(expected);
  }
  json_decref(list);
  tools_registry_free(reg);
}

static void test_ffi_bad_calls(void **state) {
  (void)state;
  tools_registry *reg = build((const char *const[]){testlib_manifest(), NULL});
  call_fails(reg, "t_add", "{\"a\":1}", "missing required property \"b\"");
  call_fails(reg, "t_add", "{\"a\":1,\"b\":2.5}", "arguments.b must be an integer");
  /* An integral real past int64 never reaches a C conversion (undefined there): the schema refuses it. */
  call_fails(reg, "t_add", "{\"a\":1,\"b\":1e300}", "arguments.b must be an integer");
  call_fails(reg, "t_add", "{\"a\":1,\"b\":\"2\"}", "arguments.b must be an integer");
  call_fails(reg, "t_add", "{\"a\":1,\"b\":2,\"c\":3}", "unknown property \"c\" (allowed: a, b)");
  call_fails(reg, "t_and", "{\"a\":1,\"b\":true}", "arguments.a must be true or false");
  call_fails(reg, "t_length", "{\"s\":null}", "arguments.s must be a string");
  call_fails(reg, "t_length", "{\"s\":\"a\\u0000b\"}", "NUL byte");
  call_fails(reg, "t_nan", "{}", "which JSON cannot carry");
  /* The library exports t_secret and every libc symbol, but only the
   * manifest's functions are tools: a request's name is never a symbol. */
  json_t *out;
  nsr_error err;
  assert_int_equal(tools_call(reg, "t_secret", NULL, &out, &err), TOOLS_UNKNOWN);
  assert_int_equal(tools_call(reg, "system", NULL, &out, &err), TOOLS_UNKNOWN);
  assert_int_equal(tools_call(reg, "t_scale", NULL, &out, &err), TOOLS_UNKNOWN); /* renamed */
  tools_registry_free(reg);
}

static void test_ffi_libm(void **state) {
  (void)state;
  char *path = write_manifest("libm.json",
      "{\"library\":\"libm.so.6\",\"functions\":[{\"name\":\"cbrt\",\"description\":\"cube root\","
      "\"returns\":\"double\",\"params\":[{\"name\":\"x\",\"type\":\"double\"}]},"
      "{\"name\":\"pow\",\"description\":\"x^y\",\"returns\":\"double\","
      "\"params\":[{\"name\":\"x\",\"type\":\"double\"},{\"name\":\"y\",\"type\":\"double\"}]}]}");
  tools_registry *reg = build((const char *const[]){path, NULL});
  /* glibc's cbrt is within an ulp or two, not always exact (27 gives
   * 3.0000000000000004). */
  json_t *out = call_ok(reg, "cbrt", "{\"x\":27}");
  assert_true(fabs(num(json_object_get(out, "result")) - 3.0) < 1e-15);
  json_decref(out);
  out = call_ok(reg, "cbrt", "{\"x\":-0.125}");
  assert_true(fabs(num(json_object_get(out, "result")) + 0.5) < 1e-15);
  json_decref(out);
  out = call_ok(reg, "pow", "{\"x\":2,\"y\":10}");
  assert_true(num(json_object_get(out, "result")) == 1024.0);
  json_decref(out);
  call_fails(reg, "pow", "{\"x\":0,\"y\":-1}", "pow returned inf");
  tools_registry_free(reg);
}

static void manifest_fails(const char *text, const char *needle) {
  tools_options opt = {.n_manifests = 1};
  opt.manifests[0] = text ? write_manifest("bad.json", text) : "/nonexistent/m.json";
  tools_registry *reg = NULL;
  nsr_error err;
  if (tools_registry_build(&opt, &reg, &err) == NSR_OK) fail_msg("manifest accepted: %s", text);
  assert_null(reg);
  if (strstr(err.message, needle) == NULL) fail_msg("'%s' not in '%s'", needle, err.message);
  assert_non_null(strstr(err.message, "tool manifest '"));
}

/* One function entry of a manifest over the test library, and the words
 * its refusal must contain. */
static const struct {
  const char *entry, *needle;
} bad_entries[] = {
    {"{\"name\":\"t_add\",\"description\":\"d\",\"returns\":\"float\",\"params\":[]}",
     "functions[0]: returns 'float' is not one of int64, int32, uint64, double, bool, const char*"},
    {"{\"name\":\"t_add\",\"description\":\"d\",\"returns\":\"int64\",\"params\":[{\"name\":\"a\",\"type\":\"void*\"}]}",
     "functions[0]: params[0]: type 'void*' is not one of"},
    {"{\"name\":\"t_missing\",\"description\":\"d\",\"returns\":\"int64\",\"params\":[]}",
     "functions[0]: no function 't_missing' in the library"},
    {"{\"name\":\"t_add\",\"description\":\"d\",\"returns\":\"int64\",\"params\":[{\"name\":\"a\",\"type\":\"int64\"},{\"name\":\"a\",\"type\":\"int64\"}]}",
     "params[1]: 'a' appears twice"},
    {"{\"name\":\"t_add\",\"description\":\"d\",\"returns\":\"int64\",\"params\":[{\"name\":\"a b\",\"type\":\"int64\"}]}",
     "'a b' is not a C identifier"},
    {"{\"name\":\"../t_add\",\"description\":\"d\",\"returns\":\"int64\",\"params\":[]}", "is not a C identifier"},
    {"{\"name\":\"t_add\",\"returns\":\"int64\",\"params\":[]}", "missing required property \"description\""},
    {"{\"name\":\"t_add\",\"tool\":\"number_game\",\"description\":\"d\",\"returns\":\"int64\",\"params\":[]}",
     "a tool named 'number_game' is already registered"},
    {"{\"name\":\"t_add\",\"tool\":\"bad name!\",\"description\":\"d\",\"returns\":\"int64\",\"params\":[]}",
     "tool name 'bad name!'"},
    {"{\"name\":\"t_add\",\"description\":\"d\",\"returns\":\"int64\",\"params\":[],\"variadic\":true}",
     "unknown property \"variadic\""},
};

static void test_ffi_bad_manifests(void **state) {
  (void)state;
  manifest_fails(NULL, "/nonexistent/m.json");
  manifest_fails("{\"library\":", "JSON at line 1");
  manifest_fails("[]", "manifest must be an object");
  manifest_fails("{\"functions\":[]}", "missing required property \"library\"");
  manifest_fails("{\"library\":\"libm.so.6\",\"functions\":[]}", "manifest.functions needs at least 1 item");
  manifest_fails("{\"library\":\"libm.so.6\",\"extra\":1,\"functions\":[]}", "unknown property \"extra\"");
  manifest_fails("{\"library\":\"/nonexistent/libx.so\",\"functions\":[{\"name\":\"f\",\"description\":\"d\",\"returns\":\"int64\",\"params\":[]}]}",
                 "cannot open library '/nonexistent/libx.so'");
  for (size_t i = 0; i < sizeof bad_entries / sizeof bad_entries[0]; i++) {
    char text[2048];
    snprintf(text, sizeof text, "{\"library\":\"%s\",\"functions\":[%s]}", testlib, bad_entries[i].entry);
    manifest_fails(text, bad_entries[i].needle);
  }
}

/* A relative library path is taken from the manifest's directory, not the
 * working directory. */
static void test_ffi_relative_library(void **state) {
  (void)state;
  char link[600];
  snprintf(link, sizeof link, "%s/libcopy.so", workdir);
  assert_int_equal(symlink(testlib, link), 0);
  char *path = write_manifest("relative.json",
      "{\"library\":\"./libcopy.so\",\"functions\":[{\"name\":\"t_forty_two\",\"description\":\"42\","
      "\"returns\":\"int64\",\"params\":[]}]}");
  assert_int_equal(chdir("/"), 0);
  tools_registry *reg = build((const char *const[]){path, NULL});
  json_t *out = call_ok(reg, "t_forty_two", "{}");
  assert_int_equal(json_integer_value(json_object_get(out, "result")), 42);
  json_decref(out);
  tools_registry_free(reg);
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s PATH-TO-TEST-LIBRARY\n", argv[0]);
    return 2;
  }
  testlib = argv[1];
  nsr_json_init();
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_list),
      cmocka_unit_test(test_number_game_values),
      cmocka_unit_test(test_number_game_hand_derived),
      cmocka_unit_test(test_number_game_bad_arguments),
      cmocka_unit_test(test_list_concepts),
      cmocka_unit_test(test_allocation_failures),
      cmocka_unit_test(test_register_literal),
      cmocka_unit_test(test_call_timed),
      cmocka_unit_test(test_mcp_allocation_failures),
      cmocka_unit_test(test_mcp_mutated_requests),
      cmocka_unit_test(test_ffi_calls),
      cmocka_unit_test(test_ffi_narrow_and_unsigned),
      cmocka_unit_test(test_ffi_bad_calls),
      cmocka_unit_test(test_ffi_libm),
      cmocka_unit_test(test_ffi_bad_manifests),
      cmocka_unit_test(test_ffi_relative_library),
  };
  return cmocka_run_group_tests(tests, workdir_setup, workdir_teardown);
}
