/* test_tools_program.c: the language behind the tools, through the C API:
 * the foreign form's embedding API on every marshalled type, run_program's
 * arguments, seeds and output schema, and run_program, query_rules and the
 * rules://{id} resources under allocation failure. argv: the test library
 * (tests/bridge/tools/ffi_testlib.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "test_workdir.h"

#include <math.h>
#include <string.h>

#include "json.h"
#include "nsr_ffi.h"
#include "mcp_replay.h"
#include "nsr_tools.h"
#include "nsr_store.h"
#include "tools_schema.h"

static const char *testlib;

/* `source` run in a fresh interpreter with F installed, its value as JSON
 * text (caller frees), or NULL with the error in *err. */
static char *eval_json(lang_foreign *F, const char *source, nsr_error *err) {
  nsr_lang_config cfg;
  nsr_lang_config_default(&cfg);
  nsr_lang *lang = NULL;
  char *text = NULL;
  nsr_code rc = nsr_lang_new(&cfg, &lang, err);
  if (rc == NSR_OK) rc = lang_foreign_install(F, lang, err);
  if (rc == NSR_OK) rc = nsr_lang_eval_string(lang, "t", source, strlen(source), err);
  if (rc == NSR_OK) rc = nsr_lang_to_json(lang, nsr_lang_result(lang), &text, err);
  nsr_lang_free(lang);
  return rc == NSR_OK ? text : NULL;
}

static void yields(lang_foreign *F, const char *source, const char *want) {
  nsr_error err;
  char *got = eval_json(F, source, &err);
  if (got == NULL) fail_msg("%s: %s", source, err.message);
  if (strcmp(got, want) != 0) fail_msg("%s: got %s, expected %s", source, got, want);
  nsr_free(got);
}

static void fails_with(lang_foreign *F, const char *source, const char *needle) {
  nsr_error err;
  char *got = eval_json(F, source, &err);
  if (got != NULL) fail_msg("%s: succeeded with %s", source, got);
  if (strstr(err.message, needle) == NULL) fail_msg("%s: no '%s' in %s", source, needle, err.message);
}

/* The embedding API: allow-list entries, then each marshalled type both
 * ways, the values computed by hand from ffi_testlib.c's definitions. */
static void test_foreign_embedding(void **state) {
  (void)state;
  lang_foreign *F;
  nsr_error err;
  assert_int_equal(lang_foreign_new(&F, &err), NSR_OK);
  /* Entries without a signature, or with a bad one, are refused. */
  static const struct {
    const char *entry, *needle;
  } bad[] = {
      {"", "must be LIBRARY:FUNCTION:SIGNATURE"},
      {"cbrt", "must be LIBRARY:FUNCTION:SIGNATURE"},
      {"libm.so.6:cbrt", "must be LIBRARY:FUNCTION:SIGNATURE"},
      {"cbrt:double(double)", "must be LIBRARY:FUNCTION:SIGNATURE"},
      {":cbrt:double(double)", "must be LIBRARY:FUNCTION:SIGNATURE"},
      {"libm.so.6::double(double)", "must be LIBRARY:FUNCTION:SIGNATURE"},
      {"libm.so.6:1x:double(double)", "must be LIBRARY:FUNCTION:SIGNATURE"},
      {"libm.so.6:cbrt :double(double)", "must be LIBRARY:FUNCTION:SIGNATURE"},
      {"libm.so.6:cbrt:double(double", "signature 'double(double' must be RETURN(PARAM, ...)"},
      {"libm.so.6:cbrt:double(double) x", "must be RETURN(PARAM, ...)"},
      {"libm.so.6:cbrt:float(double)", "'float' is not one of"},
      {"libm.so.6:cbrt:double(char*)", "'char*' is not one of"},
      {"libm.so.6:cbrt:double(double,)", "'' is not one of"},
      {"libm.so.6:cbrt:double(void*)", "'void*' is not one of"},
      {"l:f:int(int,int,int,int,int,int,int,int,int,int,int,int,int,int,int,int,int)", "at most 16 parameters"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    if (lang_foreign_allow(F, bad[i].entry, &err) != NSR_ERR_INVALID) fail_msg("accepted '%s'", bad[i].entry);
    if (strstr(err.message, bad[i].needle) == NULL) fail_msg("'%s': %s", bad[i].entry, err.message);
  }
  assert_int_equal(lang_foreign_count(F), 0);
  /* Spacing and C aliases are free in the host's signature. */
  static const char *const fns[] = {"t_add:int64(int64_t, long)", "t_scale:double(double,int64)",
                                    "t_and:bool(bool, bool)", "t_greet:const char *(const char*, int64)",
                                    "t_maybe: const  char* ( bool )", "t_length:int64(const char*)",
                                    "t_neg32:int(int32_t)", "t_half:size_t(uint64)",
                                    "t_umax:uint64_t(void)", "t_forty_two:int64()"};
  char entry[600];
  for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++) {
    snprintf(entry, sizeof entry, "%s:%s", testlib, fns[i]);
    if (lang_foreign_allow(F, entry, &err) != NSR_OK) fail_msg("%s: %s", entry, err.message);
  }
  assert_int_equal(lang_foreign_count(F), 10);
  snprintf(entry, sizeof entry, "%s:t_add:double(double, double)", testlib);
  assert_int_equal(lang_foreign_allow(F, entry, &err), NSR_ERR_INVALID);
  assert_non_null(strstr(err.message, "t_add' is listed twice"));
  /* Types as strings or as symbols, or left out to take the host's. */
  static const struct {
    const char *form, *call, *want;
  } cases[] = {
      {"\"t_add\" 'int64 '(int64 int64)", "(t_add 40 2)", "42"},
      {"\"t_add\" \"int64\" '(\"int64\" \"int64\")", "(t_add -9007199254740993 0)",
       "-9007199254740993"}, /* exact past 2^53 */
      {"\"t_add\" 'long '(int64_t long)", "(t_add 1 2)", "3"}, /* aliases are the same types */
      {"\"t_add\"", "(t_add 40 2)", "42"},
      {"\"t_scale\" 'double '(double int64)", "(t_scale 1.5 -4)", "-6.0"},
      {"\"t_scale\"", "(t_scale 3 2)", "6.0"}, /* an integer as a double */
      {"\"t_and\" 'bool '(bool bool)", "(list (t_and #t #t) (t_and #t #f))", "[true,false]"},
      {"\"t_greet\" \"const char*\" '(\"const char*\" int64) 'greet", "(greet \"nsr\" 2)",
       "\"hi nsr, hi nsr\""},
      {"\"t_maybe\" \"const char*\" '(bool)", "(list (t_maybe #t) (t_maybe #f))", "[\"here\",false]"},
      {"\"t_length\" 'int64 '(\"const char*\")", "(t_length \"\")", "0"},
      /* -x of int32s: the sign survives libffi's widening of the result. */
      {"\"t_neg32\" 'int32 '(int)", "(list (t_neg32 5) (t_neg32 -2147483647))", "[-5,2147483647]"},
      {"\"t_half\" 'uint64 '(size_t)", "(t_half 9223372036854775807)", "4611686018427387903"},
      {"\"t_forty_two\" 'int64 '()", "(t_forty_two)", "42"},
  };
  char src[1200];
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    snprintf(src, sizeof src, "(foreign \"%s\" %s) %s", testlib, cases[i].form, cases[i].call);
    yields(F, src, cases[i].want);
  }
  static const struct {
    const char *form, *needle;
  } refused[] = {
      {"\"t_and\" 'bool '(bool bool)) (t_and 1 #t)", "t_and: argument 1 must be #t or #f (bool)"},
      {"\"t_length\") (t_length 'sym)", "argument 1 must be a string"},
      /* A number where the host pinned a string is a type error, never an address. */
      {"\"t_length\") (t_length 4096)", "t_length: argument 1 must be a string (const char*)"},
      {"\"t_neg32\") (t_neg32 2147483648)", "t_neg32: argument 1 must be from -2147483648 to 2147483647 (int32), not 2147483648"},
      {"\"t_neg32\") (t_neg32 1.0)", "t_neg32: argument 1 must be an exact integer (int32)"},
      {"\"t_half\") (t_half -1)", "t_half: argument 1 must be from 0 to 9223372036854775807 (uint64), not -1"},
      {"\"t_umax\") (t_umax)", "t_umax: returned 18446744073709551615, past the largest exact integer"},
      {"\"t_add\" 'int64 (vector 'int64 'int64))", "must be a list of at most 16 type names"},
      {"\"t_add\" 'int64 '(int64 int64) 5)", "must be strings or symbols"},
      {"\"t_add\" 'int64)", "give RETURN and (PARAM ...) together, or neither"},
      {"\"t_add\" 'float '(int64 int64))", "the return type must be one of"},
      /* Declarations must match the host's pin exactly; the message shows both. */
      {"\"t_add\" 'double '(double double))",
       "the host pins '%s:t_add' as int64(int64, int64), but the program declares double(double, double)"},
      {"\"t_add\" 'int64 '(int64))", "as int64(int64, int64), but the program declares int64(int64)"},
      {"\"t_neg32\" 'bool '(int32))", "as int32(int32), but the program declares bool(int32)"},
      {"\"t_length\" 'int64 '(int64))", "as int64(const char*), but the program declares int64(int64)"},
      {"\"t_half\" 'int64 '(int64))", "as uint64(uint64), but the program declares int64(int64)"},
  };
  char needle[600];
  for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
    snprintf(src, sizeof src, "(foreign \"%s\" %s", testlib, refused[i].form);
    snprintf(needle, sizeof needle, refused[i].needle, testlib);
    fails_with(F, src, needle);
  }
  fails_with(F, "(foreign \"libm.so.6\")", "expected 2 to 5 arguments");
  fails_with(F, "(foreign \"libm.so.6\" \"cbrt\")", "'libm.so.6:cbrt' is not allow-listed by the host");
  /* A library allow-listed but absent fails at dlopen, cleanly; so does
   * a missing symbol. */
  assert_int_equal(lang_foreign_allow(F, "/nonexistent/libx.so:f:int64()", &err), NSR_OK);
  fails_with(F, "(foreign \"/nonexistent/libx.so\" \"f\")", "cannot open library");
  snprintf(src, sizeof src, "%s:t_nosuch:int64()", testlib);
  assert_int_equal(lang_foreign_allow(F, src, &err), NSR_OK);
  snprintf(src, sizeof src, "(foreign \"%s\" \"t_nosuch\" 'int64 '())", testlib);
  fails_with(F, src, "no function 't_nosuch' in the library");
  /* A full allow-list refuses more. */
  while (lang_foreign_count(F) < LANG_FOREIGN_MAX) {
    snprintf(entry, sizeof entry, "l:f%zu:int64()", lang_foreign_count(F));
    assert_int_equal(lang_foreign_allow(F, entry, &err), NSR_OK);
  }
  assert_int_equal(lang_foreign_allow(F, "l:g:int64()", &err), NSR_ERR_INVALID);
  assert_non_null(strstr(err.message, "at most 64 entries"));
  lang_foreign_free(F);
}

static tools_registry *registry(const char *db) {
  tools_options opt = {.db = db, .max_steps = 1000000};
  tools_registry *reg = NULL;
  nsr_error err;
  if (tools_registry_build(&opt, &reg, &err) != NSR_OK) fail_msg("build: %s", err.message);
  return reg;
}

static json_t *run(tools_registry *reg, const char *args_json) {
  json_t *args = json_loads(args_json, 0, NULL), *out = NULL;
  nsr_error err;
  assert_non_null(args);
  if (tools_call(reg, "run_program", args, &out, &err) != TOOLS_OK) fail_msg("%s: %s", args_json, err.message);
  json_decref(args);
  return out;
}

/* Arguments arrive typed; seeds decide the random stream; every result
 * matches the published output schema. */
static void test_run_program_values(void **state) {
  (void)state;
  tools_registry *reg = registry(NULL);
  json_t *list, *schema = NULL;
  nsr_error err;
  assert_int_equal(tools_list_json(reg, &list, &err), NSR_OK);
  for (size_t i = 0; i < json_array_size(list); i++) {
    json_t *t = json_array_get(list, i);
    if (strcmp(json_string_value(json_object_get(t, "name")), "run_program") == 0) {
      schema = json_object_get(t, "outputSchema");
    }
  }
  assert_non_null(schema);
  json_t *out = run(reg, "{\"source\":\"args\",\"args\":[\"a\",2,2.5,true,false]}");
  json_t *want = json_loads("[\"a\",2,2.5,true,false]", 0, NULL);
  assert_true(json_equal(json_object_get(out, "value"), want));
  assert_int_equal(tools_schema_check(schema, out, "output", &err), NSR_OK);
  json_decref(want);
  json_decref(out);
  out = run(reg, "{\"source\":\"(define x 1)\"}"); /* unspecified: null */
  assert_true(json_is_null(json_object_get(out, "value")));
  json_decref(out);
  out = run(reg, "{\"source\":\"(length args)\"}"); /* no args: the empty list */
  assert_int_equal(json_integer_value(json_object_get(out, "value")), 0);
  json_decref(out);
  /* 64 draws of (flip) per seed: the same seed gives the same draws, and
   * two seeds agreeing on all 64 would have probability 2^-64. */
  const char *draws = "{\"source\":\"(repeat 64 flip)\",\"seed\":%d}";
  char args[100];
  snprintf(args, sizeof args, draws, 7);
  json_t *a = run(reg, args), *b = run(reg, args);
  snprintf(args, sizeof args, draws, 8);
  json_t *c = run(reg, args);
  assert_true(json_equal(a, b));
  assert_false(json_equal(a, c));
  assert_int_equal(json_array_size(json_object_get(a, "value")), 64);
  json_decref(a);
  json_decref(b);
  json_decref(c);
  /* A program run for a client reads no file: (load PATH) is refused. */
  json_t *load_args = json_loads("{\"source\":\"(load \\\"/etc/hostname\\\")\"}", 0, NULL);
  json_t *load_out = NULL;
  assert_non_null(load_args);
  tools_status load_status = tools_call(reg, "run_program", load_args, &load_out, &err);
  json_decref(load_args);
  json_decref(load_out);
  assert_int_not_equal(load_status, TOOLS_OK);
  if (strstr(err.message, "load: reading files is not allowed here") == NULL) {
    fail_msg("run_program's load: %s", err.message);
  }
  json_decref(list);
  tools_registry_free(reg);
}

static void test_allocation_failures(void **state) {
  (void)state;
  char db[300];
  snprintf(db, sizeof db, "%s/rules.db", workdir);
  nsr_store *store;
  nsr_numbers *engine;
  nsr_numbers_config cfg;
  nsr_numbers_config_default(&cfg);
  nsr_error err;
  int64_t model;
  nsr_store_rule rule = {"probe", 1, 2, "unit 2 > 0.5", "even", 0.75, NAN, NAN, 50, NULL, NULL, NULL};
  assert_int_equal(nsr_store_open(db, &store, &err), NSR_OK);
  assert_int_equal(nsr_numbers_new(&cfg, &engine, &err), NSR_OK);
  assert_int_equal(nsr_store_sync_concepts(store, engine, &err), NSR_OK);
  assert_int_equal(nsr_store_add_model(store, "ff", NULL, "{}", &model, &err), NSR_OK);
  assert_int_equal(nsr_store_add_rules(store, model, &rule, 1, &err), NSR_OK);
  nsr_numbers_free(engine);
  nsr_store_close(store);

  tools_registry *reg = registry(db);
  mcp_server *server;
  assert_int_equal(mcp_server_new(reg, &server, &err), NSR_OK);
  mcp_resources res = tools_rules_resources(db);
  mcp_server_set_resources(server, &res);
  static const char *const requests[] = {
      "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{\"protocolVersion\":\"2025-11-25\"}}",
      "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\",\"params\":{\"name\":\"run_program\","
      "\"arguments\":{\"source\":\"(display 1) (list (+ 1 2) 'a \\\"s\\\")\",\"args\":[\"x\",1]}}}",
      "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/call\",\"params\":{\"name\":\"query_rules\","
      "\"arguments\":{\"sql\":\"SELECT name, size FROM concepts WHERE size < 5\"}}}",
      "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"resources/list\"}",
      "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"resources/read\",\"params\":{\"uri\":\"rules://1\"}}",
      "{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":\"resources/read\",\"params\":{\"uri\":\"rules://9\"}}",
      "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"resources/templates/list\"}",
  };
  for (size_t i = 0; i < sizeof requests / sizeof requests[0]; i++) mcp_replay_under_failure(server, requests[i], 200000);
  mcp_server_free(server);
  tools_registry_free(reg);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_foreign_embedding),
    cmocka_unit_test(test_run_program_values),
    cmocka_unit_test(test_allocation_failures),
};

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: test_tools_program TESTLIB\n");
    return 2;
  }
  testlib = argv[1];
  return cmocka_run_group_tests(tests, workdir_setup, workdir_teardown);
}
