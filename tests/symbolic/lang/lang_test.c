/* lang_test.c: helpers shared by the Church interpreter's cmocka suites. */
#include "lang_test.h"

#include <stdio.h>
#include <string.h>

nsr_lang *lt_new_config(const nsr_lang_config *cfg) {
  nsr_lang *lang = NULL;
  nsr_error err;
  if (nsr_lang_new(cfg, &lang, &err) != NSR_OK) fail_msg("nsr_lang_new: %s", err.message);
  return lang;
}

nsr_lang *lt_new(uint64_t seed) {
  nsr_lang_config cfg;
  nsr_lang_config_default(&cfg);
  cfg.seed = seed;
  return lt_new_config(&cfg);
}

const char *lt_eval(nsr_lang *lang, const char *src) {
  static char buf[8192];
  nsr_error err;
  if (nsr_lang_eval_string(lang, "test.church", src, strlen(src), &err) != NSR_OK) {
    fail_msg("evaluating %s: %s", src, err.message);
  }
  nsr_lang_format(lang, nsr_lang_result(lang), buf, sizeof buf);
  return buf;
}

double lt_eval_number(nsr_lang *lang, const char *src) {
  lt_eval(lang, src);
  double x = 0;
  if (!nsr_lang_to_double(nsr_lang_result(lang), &x)) fail_msg("%s: not a number", src);
  return x;
}

void lt_expect(const char *src, const char *expected) {
  nsr_lang *lang = lt_new(1);
  const char *got = lt_eval(lang, src);
  if (strcmp(got, expected) != 0) {
    nsr_lang_free(lang);
    fail_msg("%s\n  expected %s\n  got      %s", src, expected, got);
  }
  nsr_lang_free(lang);
}

const char *lt_eval_error(nsr_lang *lang, const char *src, nsr_code code) {
  static char msg[NSR_ERROR_MESSAGE_MAX];
  nsr_error err;
  nsr_error_clear(&err);
  nsr_code got = nsr_lang_eval_string(lang, "test.church", src, strlen(src), &err);
  if (got != code) {
    fail_msg("%s: expected error code %s, got %s (%s)", src, nsr_code_name(code),
             nsr_code_name(got), err.message);
  }
  snprintf(msg, sizeof msg, "%s", err.message);
  return msg;
}

void lt_expect_error(const char *src, nsr_code code, const char *fragment) {
  nsr_lang *lang = lt_new(1);
  const char *msg = lt_eval_error(lang, src, code);
  bool found = strstr(msg, fragment) != NULL;
  char copy[NSR_ERROR_MESSAGE_MAX];
  snprintf(copy, sizeof copy, "%s", msg);
  nsr_lang_free(lang);
  if (!found) fail_msg("%s: message \"%s\" lacks \"%s\"", src, copy, fragment);
}

uint64_t lt_steps_needed(const nsr_lang_config *cfg, const char *src) {
  uint64_t lo = 1, hi = 1u << 24; /* src fails at lo, runs within hi */
  while (hi - lo > 1) {
    uint64_t mid = lo + (hi - lo) / 2;
    nsr_lang_config tried = *cfg;
    tried.max_steps = mid;
    nsr_lang *lang = lt_new_config(&tried);
    nsr_error err;
    if (nsr_lang_eval_string(lang, "test.church", src, strlen(src), &err) == NSR_OK) {
      hi = mid;
    } else {
      assert_int_equal(err.code, NSR_ERR_LIMIT);
      lo = mid;
    }
    nsr_lang_free(lang);
  }
  return hi;
}
