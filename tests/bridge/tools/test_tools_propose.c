/* test_tools_propose.c: the propose_hypotheses tool on the shipped default
 * model (its path is the first argument). Expected posteriors come from the
 * WebPPL peer (../shared/peers/numbergame.wppl): powers of 2 0.999792 and
 * even 2.073169e-4 for X = {16, 8, 2, 64}. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "nsr_tools.h"

static const char *model_path;
static const char *spaces_dir; /* the shipped spaces (programs/spaces) */

static tools_registry *registry_with(const char *weights) {
  tools_options opt = {0};
  opt.weights = weights;
  opt.spaces_dir = spaces_dir;
  tools_registry *reg;
  nsr_error err;
  if (tools_registry_build(&opt, &reg, &err) != NSR_OK) fail_msg("build: %s", err.message);
  return reg;
}

static json_t *call(tools_registry *reg, const char *args_json, tools_status want) {
  json_t *args = json_loads(args_json, 0, NULL), *out = NULL;
  nsr_error err;
  tools_status st = tools_call(reg, "propose_hypotheses", args, &out, &err);
  json_decref(args);
  if (st != want) fail_msg("%s: status %d (%s)", args_json, st, st == TOOLS_OK ? "ok" : err.message);
  return out;
}

static const json_t *proposal(const json_t *out, size_t i) {
  return json_array_get(json_object_get(out, "proposals"), i);
}

static double number(const json_t *o, const char *key) { return json_number_value(json_object_get(o, key)); }

static void test_listed_only_with_weights(void **state) {
  (void)state;
  tools_registry *reg = registry_with(NULL);
  json_t *list;
  assert_int_equal(tools_list_json(reg, &list, NULL), NSR_OK);
  char *text = json_dumps(list, 0);
  assert_null(strstr(text, "propose_hypotheses"));
  free(text);
  json_decref(list);
  tools_registry_free(reg);
  tools_options opt = {0};
  opt.weights = "/nonexistent/m.safetensors";
  nsr_error err;
  assert_int_equal(tools_registry_build(&opt, &reg, &err), NSR_ERR_INVALID);
  assert_non_null(strstr(err.message, "--weights: checkpoint '/nonexistent/m.safetensors'"));
}

static void test_proposals_are_rescored_exactly(void **state) {
  (void)state;
  tools_registry *reg = registry_with(model_path);
  json_t *out = call(reg, "{\"examples\":[16,8,2,64],\"top\":3}", TOOLS_OK);
  assert_int_equal(json_array_size(json_object_get(out, "proposals")), 3);
  assert_string_equal(json_string_value(json_object_get(proposal(out, 0), "name")), "powers of 2");
  assert_true(fabs(number(proposal(out, 0), "posterior") - 0.999792) < 1e-6);
  const json_t *map = json_object_get(out, "exact_map");
  assert_string_equal(json_string_value(json_object_get(map, "name")), "powers of 2");
  double restricted = 0;
  for (size_t i = 0; i < 3; i++) {
    const char *name = json_string_value(json_object_get(proposal(out, i), "name"));
    if (strcmp(name, "even") == 0) assert_true(fabs(number(proposal(out, i), "posterior") - 2.073169e-4) < 1e-9);
    restricted += number(proposal(out, i), "restricted");
  }
  assert_true(fabs(restricted - 1.0) < 1e-9); /* renormalised over the proposals */
  /* A set has no order: the same answer for any order of the examples. */
  json_t *again = call(reg, "{\"examples\":[64,2,16,8],\"top\":3}", TOOLS_OK);
  assert_true(number(proposal(again, 0), "network") == number(proposal(out, 0), "network"));
  json_decref(again);
  json_decref(out);
  tools_registry_free(reg);
}

static void test_bad_arguments_are_tool_errors(void **state) {
  (void)state;
  tools_registry *reg = registry_with(model_path);
  static const char *const bad[] = {
      "{}", "{\"examples\":[]}", "{\"examples\":[0]}", "{\"examples\":[101]}",
      "{\"examples\":[1,2,3,4,5,6,7]}", "{\"examples\":[16],\"top\":0}",
      "{\"examples\":[16],\"top\":65}", "{\"examples\":[\"16\"]}", "{\"examples\":[16],\"range\":50}"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    json_t *out = call(reg, bad[i], TOOLS_FAILED);
    json_decref(out);
  }
  tools_registry_free(reg);
}

/* "space": the shipped guide of deep.json (not enumerable) proposes
 * hypotheses weighed by importance: every weight in (0, 1], largest first,
 * their sum at most 1 (exact rescoring is tested through `nsr propose
 * --space` in test_cli_guide.c); a space without a guide, a name that is
 * not shipped and an example outside 1..100 without a space are tool
 * errors. */
static void test_space_proposals(void **state) {
  (void)state;
  tools_registry *reg = registry_with(model_path);
  json_t *out = call(reg, "{\"examples\":[7,49,21,35],\"space\":\"deep\",\"top\":5}", TOOLS_OK);
  assert_string_equal(json_string_value(json_object_get(out, "space")), "deep.json");
  assert_string_equal(json_string_value(json_object_get(out, "rescored")), "importance");
  assert_int_equal(json_integer_value(json_object_get(out, "draws")), 10000);
  size_t n = json_array_size(json_object_get(out, "proposals"));
  assert_true(n >= 1 && n <= 5);
  double sum = 0;
  for (size_t i = 0; i < n; i++) {
    double w = number(proposal(out, i), "weight");
    assert_true(w > 0 && w <= 1);
    if (i > 0) assert_true(w <= number(proposal(out, i - 1), "weight"));
    sum += w;
  }
  assert_true(sum <= 1 + 1e-9);
  json_decref(out);
  json_decref(call(reg, "{\"examples\":[7],\"space\":\"lot\"}", TOOLS_FAILED));
  json_decref(call(reg, "{\"examples\":[7],\"space\":\"../deep\"}", TOOLS_FAILED));
  json_decref(call(reg, "{\"examples\":[700]}", TOOLS_FAILED));
  tools_registry_free(reg);
}

int main(int argc, char **argv) {
  if (argc < 3) return 2;
  model_path = argv[1];
  spaces_dir = argv[2];
  nsr_json_init();
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_listed_only_with_weights),
      cmocka_unit_test(test_proposals_are_rescored_exactly),
      cmocka_unit_test(test_bad_arguments_are_tool_errors),
      cmocka_unit_test(test_space_proposals),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
