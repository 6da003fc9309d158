/* test_tools_spaces.c: number_game's shipped spaces by name and its probes.
 * A scratch folder plays the shipped folder: a tiny space whose answers are
 * derived by hand below, a prior file over the same space, a file that does
 * not build, and entries that must not be offered. argv[1]: the source
 * tree's programs/spaces, for the real shipped names.
 *
 * The tiny space: 1..10, the rules "even" {2,4,6,8,10} and "powers of 2"
 * {2,4,8}, each weight 1, and intervals with λ = 0.5 and σ = 0.05. For
 * X = {2, 4} the size principle gives even (1/5)² = 1/25 and powers of 2
 * (1/3)² = 1/9 with equal priors, so p(powers of 2 | X) = (1/9)/(1/9 + 1/25)
 * = 25/34 and p(even | X) = 9/34. An interval holding 2 and 4 has at least 3
 * members; σ = 0.05 makes its Erlang weight 3·e^(−2/0.05) ≈ 1.3e-17 of a
 * single number's, so intervals change nothing at 1e-12. Hence
 * p(8 ∈ C | X) = 1 (both rules hold 8), p(6 ∈ C | X) = p(10 ∈ C | X) = 9/34
 * (even only), p(1 ∈ C | X) ≈ 0. The prior file gives "even" log weight
 * log 4: then even 4/25 against 1/9, p(even | X) = (4/25)/(1/9 + 4/25) =
 * 36/61 = p(6 ∈ C | X). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mcp_replay.h"
#include "strbuf.h"
#include "nsr_tools.h"
#include "test_workdir.h"
#include "tools_numbers.h"
#include "tools_spaces.h"

#define TINY_SPACE                                                                              \
  "{\"range\":10,\"max_size\":1,\"lambda\":0.5,\"sigma\":0.05,\"primitives\":["              \
  "{\"family\":\"even\"},{\"family\":\"powers\",\"args\":[2]}]}"

static const char *shipped_dir;

static void write_file(const char *name, const char *text) {
  char path[512];
  snprintf(path, sizeof path, "%s/%s", workdir, name);
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs(text, f);
  assert_int_equal(fclose(f), 0);
}

static int folder_setup(void **state) {
  if (workdir_setup(state) != 0) return -1;
  write_file("tiny.json", TINY_SPACE);
  write_file("tiny_fit.json",
             "{\"format\":\"nsr-prior/1\",\"space\":" TINY_SPACE ","
             "\"params\":{\"lambda\":0.5,\"sigma\":0.05,\"alpha\":1,\"beta\":0.5},"
             "\"log_weights\":{\"even\":1.3862943611198906,\"powers of 2\":0}}");
  write_file("broken.json", "{\"range\":10,\"primitives\":[{\"family\":\"sevens\"}]}");
  write_file("unenumerated.json", "{\"enumerate\":false,\"range\":10,\"primitives\":[{\"family\":\"even\"}]}");
  write_file("README.md", "not a space");
  write_file("a b.json", TINY_SPACE);
  write_file("tiny.json.bak", TINY_SPACE);
  write_file(".json", TINY_SPACE);
  return 0;
}

/* A registry with number_game on `dir`'s spaces; *spaces stays readable
 * (its build count) until the registry is freed. */
static tools_registry *registry_on(const char *dir, tools_spaces **spaces) {
  tools_registry *reg;
  nsr_error err;
  assert_int_equal(tools_spaces_open(dir, spaces, &err), NSR_OK);
  assert_int_equal(tools_registry_new(&reg, &err), NSR_OK);
  if (tools_add_number_game(reg, *spaces, &err) != NSR_OK) fail_msg("%s", err.message);
  tools_spaces_release(*spaces); /* the tool holds its own reference */
  return reg;
}

static json_t *call(tools_registry *reg, const char *args, tools_status want, const char *needle) {
  json_t *a = json_loads(args, 0, NULL), *out = NULL;
  assert_non_null(a);
  nsr_error err;
  tools_status st = tools_call(reg, "number_game", a, &out, &err);
  json_decref(a);
  if (st != want) fail_msg("%s: status %d (%s)", args, st, st == TOOLS_OK ? "ok" : err.message);
  if (needle && strstr(err.message, needle) == NULL) fail_msg("'%s' not in '%s'", needle, err.message);
  return out;
}

static double probe(const json_t *out, size_t i, uint32_t y) {
  const json_t *p = json_array_get(json_object_get(out, "probes"), i);
  assert_int_equal(json_integer_value(json_object_get(p, "y")), y);
  return json_number_value(json_object_get(p, "p"));
}

static const json_t *hypothesis(const json_t *out, size_t i) {
  return json_array_get(json_object_get(out, "hypotheses"), i);
}

static void test_names_offered(void **state) {
  (void)state;
  tools_spaces *spaces;
  tools_registry *reg = registry_on(workdir, &spaces);
  json_t *list;
  assert_int_equal(tools_list_json(reg, &list, NULL), NSR_OK);
  const json_t *prop = json_object_get(
      json_object_get(json_object_get(json_array_get(list, 0), "inputSchema"), "properties"), "space");
  /* Sorted; README.md, "a b.json", "tiny.json.bak" and ".json" are not offered. */
  json_t *want = json_pack("[s, s, s, s]", "broken", "tiny", "tiny_fit", "unenumerated");
  assert_true(json_equal(json_object_get(prop, "enum"), want));
  json_decref(want);
  json_decref(list);
  assert_int_equal(tools_spaces_find(spaces, "tiny"), 1);
  assert_int_equal(tools_spaces_find(spaces, "a b"), -1);
  assert_string_equal(tools_spaces_file(spaces, 1), "tiny.json");
  tools_registry_free(reg);
  /* No folder: nothing offered, and "space" is an unknown property. */
  reg = registry_on(NULL, &spaces);
  call(reg, "{\"examples\":[2],\"space\":\"tiny\"}", TOOLS_FAILED, "unknown property \"space\"");
  tools_registry_free(reg);
  nsr_error err;
  assert_int_equal(tools_spaces_open("/nonexistent/spaces", &spaces, &err), NSR_ERR_IO);
  assert_non_null(strstr(err.message, "'/nonexistent/spaces' cannot be read"));
}

static void test_space_by_name_hand_derived(void **state) {
  (void)state;
  tools_spaces *spaces;
  tools_registry *reg = registry_on(workdir, &spaces);
  json_t *out = call(reg, "{\"examples\":[2,4],\"space\":\"tiny\",\"top\":2,\"probes\":[8,6,10,1]}",
                     TOOLS_OK, NULL);
  assert_string_equal(json_string_value(json_object_get(hypothesis(out, 0), "name")), "powers of 2");
  assert_true(fabs(json_number_value(json_object_get(hypothesis(out, 0), "posterior")) - 25.0 / 34) < 1e-12);
  assert_true(fabs(json_number_value(json_object_get(hypothesis(out, 1), "posterior")) - 9.0 / 34) < 1e-12);
  assert_true(fabs(probe(out, 0, 8) - 1.0) < 1e-12);
  assert_true(fabs(probe(out, 1, 6) - 9.0 / 34) < 1e-12);
  assert_true(fabs(probe(out, 2, 10) - 9.0 / 34) < 1e-12);
  assert_true(probe(out, 3, 1) < 1e-12);
  /* Probes replace the full generalization; the file is named, not its path. */
  assert_null(json_object_get(out, "generalization"));
  const json_t *prior = json_object_get(out, "prior");
  assert_string_equal(json_string_value(json_object_get(prior, "name")), "space");
  assert_string_equal(json_string_value(json_object_get(prior, "file")), "tiny.json");
  assert_int_equal(json_integer_value(json_array_get(json_object_get(out, "range"), 1)), 10);
  json_decref(out);
  /* Without probes, the whole generalization over the space's range. */
  out = call(reg, "{\"examples\":[2,4],\"space\":\"tiny\"}", TOOLS_OK, NULL);
  assert_int_equal(json_array_size(json_object_get(out, "generalization")), 10);
  assert_true(fabs(json_number_value(json_array_get(json_object_get(out, "generalization"), 5)) - 9.0 / 34) < 1e-12);
  assert_null(json_object_get(out, "probes"));
  json_decref(out);
  /* The prior file: its fitted weights, not the description's. */
  out = call(reg, "{\"examples\":[2,4],\"space\":\"tiny_fit\",\"probes\":[6]}", TOOLS_OK, NULL);
  assert_true(fabs(probe(out, 0, 6) - 36.0 / 61) < 1e-12);
  assert_string_equal(json_string_value(json_object_get(json_object_get(out, "prior"), "name")), "fitted");
  json_decref(out);
  tools_registry_free(reg);
}

/* Tenenbaum's model with probes over 1..10000: p(32 ∈ C | X) = 1 for
 * X = {16, 8, 2, 64}, as every hypothesis containing X holds 32 (the rules
 * powers of 2 and even, and intervals, which reach from 2 to 64). */
static void test_probes_without_space(void **state) {
  (void)state;
  tools_spaces *spaces;
  tools_registry *reg = registry_on(NULL, &spaces);
  json_t *out = call(reg, "{\"examples\":[16,8,2,64],\"range\":10000,\"probes\":[32,3]}", TOOLS_OK, NULL);
  assert_true(fabs(probe(out, 0, 32) - 1.0) < 1e-6);
  assert_null(json_object_get(out, "generalization"));
  char *text = json_dumps(out, 0);
  assert_true(strlen(text) < 4000); /* the full vector over 1..10000 is about 135 KB */
  free(text);
  json_decref(out);
  tools_registry_free(reg);
}

static void test_paths_and_bad_values_refused(void **state) {
  (void)state;
  tools_spaces *spaces;
  tools_registry *reg = registry_on(workdir, &spaces);
  static const char *const names[] = {"../../etc/passwd", "/etc/passwd", "tiny.json", "TINY",
                                      "", "tiny/", "./tiny", "a b", "README"};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
    char args[128];
    snprintf(args, sizeof args, "{\"examples\":[2],\"space\":\"%s\"}", names[i]);
    call(reg, args, TOOLS_FAILED, "is not one of \"broken\", \"tiny\", \"tiny_fit\", \"unenumerated\"");
  }
  /* A space only a sampler can use (deep.json is one) is offered, since
   * propose_hypotheses samples it, but number_game answers exactly. */
  call(reg, "{\"examples\":[2],\"space\":\"unenumerated\"}", TOOLS_FAILED,
       "\"unenumerated\" is too large to enumerate and number_game answers exactly");
  call(reg, "{\"examples\":[2],\"space\":7}", TOOLS_FAILED, "arguments.space must be a string");
  call(reg, "{\"examples\":[2],\"space\":[\"tiny\"]}", TOOLS_FAILED, "arguments.space must be a string");
  call(reg, "{\"examples\":[2],\"space\":null}", TOOLS_FAILED, "arguments.space must be a string");
  call(reg, "{\"examples\":[2],\"space\":\"tiny\",\"range\":10}", TOOLS_FAILED,
       "\"range\" does not go with \"space\"");
  call(reg, "{\"examples\":[2],\"space\":\"tiny\",\"sigma\":3}", TOOLS_FAILED,
       "\"sigma\" does not go with \"space\"");
  call(reg, "{\"examples\":[11],\"space\":\"tiny\"}", TOOLS_FAILED, "arguments.examples[0]: 11 is outside 1..10");
  call(reg, "{\"examples\":[2],\"space\":\"tiny\",\"probes\":[3,11]}", TOOLS_FAILED,
       "arguments.probes[1]: 11 is outside 1..10");
  call(reg, "{\"examples\":[2],\"probes\":[101]}", TOOLS_FAILED, "arguments.probes[0]: 101 is outside 1..100");
  call(reg, "{\"examples\":[2],\"probes\":[0]}", TOOLS_FAILED, "below the minimum 1");
  call(reg, "{\"examples\":[2],\"probes\":[]}", TOOLS_FAILED, "arguments.probes needs at least 1 item");
  call(reg, "{\"examples\":[2],\"probes\":[2.5]}", TOOLS_FAILED, "arguments.probes[0] must be an integer");
  call(reg, "{\"examples\":[2],\"probes\":\"3\"}", TOOLS_FAILED, "arguments.probes must be an array");
  nsr_strbuf many = {0};
  nsr_strbuf_puts(&many, "{\"examples\":[2],\"probes\":[1");
  for (int i = 0; i < TOOLS_NUMBERS_MAX_PROBES; i++) nsr_strbuf_puts(&many, ",1");
  nsr_strbuf_puts(&many, "]}");
  assert_false(many.failed);
  call(reg, many.data, TOOLS_FAILED, "has 1001 items, more than the maximum 1000");
  nsr_strbuf_free(&many);
  /* A shipped file that does not build: a tool error naming it, and the
   * server goes on answering. */
  call(reg, "{\"examples\":[2],\"space\":\"broken\"}", TOOLS_FAILED, "shipped space \"broken\": ");
  json_decref(call(reg, "{\"examples\":[2,4],\"space\":\"tiny\"}", TOOLS_OK, NULL));
  tools_registry_free(reg);
}

static void test_each_space_built_once(void **state) {
  (void)state;
  tools_spaces *spaces;
  tools_registry *reg = registry_on(workdir, &spaces);
  assert_int_equal(tools_spaces_builds(spaces), 0); /* nothing is built before it is asked for */
  json_decref(call(reg, "{\"examples\":[2,4],\"space\":\"tiny\"}", TOOLS_OK, NULL));
  assert_int_equal(tools_spaces_builds(spaces), 1);
  json_decref(call(reg, "{\"examples\":[8],\"space\":\"tiny\",\"probes\":[2]}", TOOLS_OK, NULL));
  json_decref(call(reg, "{\"examples\":[16]}", TOOLS_OK, NULL)); /* Tenenbaum's: no space */
  assert_int_equal(tools_spaces_builds(spaces), 1);
  json_decref(call(reg, "{\"examples\":[2],\"space\":\"tiny_fit\"}", TOOLS_OK, NULL));
  call(reg, "{\"examples\":[2],\"space\":\"broken\"}", TOOLS_FAILED, NULL);
  json_decref(call(reg, "{\"examples\":[4],\"space\":\"tiny\"}", TOOLS_OK, NULL));
  json_decref(call(reg, "{\"examples\":[4],\"space\":\"tiny_fit\"}", TOOLS_OK, NULL));
  assert_int_equal(tools_spaces_builds(spaces), 2);
  tools_registry_free(reg);
}

/* The real shipped folder: its names resolve, and a space answers. */
static void test_shipped_names(void **state) {
  (void)state;
  tools_spaces *spaces;
  tools_registry *reg = registry_on(shipped_dir, &spaces);
  static const char *const shipped[] = {"large", "lot", "lot_mag", "tenenbaum"};
  for (size_t i = 0; i < 4; i++) assert_true(tools_spaces_find(spaces, shipped[i]) >= 0);
  json_t *out = call(reg, "{\"examples\":[16,8,2,64],\"space\":\"lot\",\"top\":1,\"probes\":[32]}", TOOLS_OK, NULL);
  assert_string_equal(json_string_value(json_object_get(hypothesis(out, 0), "name")), "powers of 2");
  assert_string_equal(json_string_value(json_object_get(json_object_get(out, "prior"), "file")), "lot.json");
  json_decref(out);
  tools_registry_free(reg);
}

/* Every allocation of a first build and call may fail: NSR_ERR_NOMEM, no
 * leak (ASan), then the normal answer. */
static void test_allocation_failures(void **state) {
  (void)state;
  static const char req[] =
      "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\",\"params\":{\"name\":\"number_game\","
      "\"arguments\":{\"examples\":[2,4],\"space\":\"tiny_fit\",\"probes\":[8,6]}}}";
  for (uint64_t n = 1;; n++) {
    tools_spaces *spaces = NULL;
    nsr_error err;
    nsr_alloc_fail_after(n);
    nsr_code rc = tools_spaces_open(workdir, &spaces, &err);
    nsr_numbers_model *model;
    if (rc == NSR_OK) rc = tools_spaces_model(spaces, 2, &model, &err);
    nsr_alloc_fail_reset();
    tools_spaces_release(spaces);
    if (rc == NSR_OK) break;
    assert_int_equal(rc, NSR_ERR_NOMEM);
    if (n > 100000) fail_msg("still failing after %llu allocations", (unsigned long long)n);
  }
  tools_spaces *spaces;
  tools_registry *reg = registry_on(workdir, &spaces);
  mcp_server *server;
  assert_int_equal(mcp_server_new(reg, &server, NULL), NSR_OK);
  mcp_replay_under_failure(server, req, 100000);
  mcp_server_free(server);
  tools_registry_free(reg);
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: test_tools_spaces SHIPPED_SPACES_DIR\n");
    return 2;
  }
  shipped_dir = argv[1];
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_names_offered),
      cmocka_unit_test(test_space_by_name_hand_derived),
      cmocka_unit_test(test_probes_without_space),
      cmocka_unit_test(test_paths_and_bad_values_refused),
      cmocka_unit_test(test_each_space_built_once),
      cmocka_unit_test(test_shipped_names),
      cmocka_unit_test(test_allocation_failures),
  };
  return cmocka_run_group_tests(tests, folder_setup, workdir_teardown);
}
