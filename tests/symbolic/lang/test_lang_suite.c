/* test_lang_suite.c: the language suite. Each tests/symbolic/lang/suite/NAME.church
 * runs in a fresh interpreter; what it prints, then "=> VALUE" (its last
 * value, unless unspecified) or "error: MESSAGE", must equal
 * NAME.expected, written by hand. */
#include "lang_test.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *read_text(const char *path) {
  FILE *f = fopen(path, "rb");
  if (f == NULL) return NULL;
  char *buf = nsr_malloc(1 << 16);
  size_t n = buf == NULL ? 0 : fread(buf, 1, (1 << 16) - 1, f);
  fclose(f);
  if (buf != NULL) buf[n] = '\0';
  return buf;
}

/* Runs one program; returns its transcript (caller frees). */
static char *transcript(const char *name, const char *text) {
  nsr_lang *lang = lt_new(1);
  nsr_error err;
  nsr_code code = nsr_lang_eval_string(lang, name, text, strlen(text), &err);
  size_t out_len;
  const char *out = nsr_lang_output(lang, &out_len);
  char value[4096] = "";
  if (code == NSR_OK && nsr_lang_result(lang).type != NSR_LANG_UNSPECIFIED) {
    nsr_lang_format(lang, nsr_lang_result(lang), value, sizeof value);
  }
  size_t cap = out_len + sizeof value + NSR_ERROR_MESSAGE_MAX + 16;
  char *t = nsr_malloc(cap);
  assert_non_null(t);
  if (code != NSR_OK) {
    snprintf(t, cap, "%serror: %s\n", out, err.message);
  } else if (value[0] != '\0') {
    snprintf(t, cap, "%s=> %s\n", out, value);
  } else {
    snprintf(t, cap, "%s", out);
  }
  nsr_lang_free(lang);
  return t;
}

static void test_suite(void **state) {
  (void)state;
  DIR *dir = opendir(NSR_LANG_SUITE_DIR);
  assert_non_null(dir);
  int ran = 0;
  for (struct dirent *e; (e = readdir(dir)) != NULL;) {
    size_t len = strlen(e->d_name);
    if (len < 8 || strcmp(e->d_name + len - 7, ".church") != 0) continue;
    char path[1024], expected_path[1024];
    snprintf(path, sizeof path, "%s/%s", NSR_LANG_SUITE_DIR, e->d_name);
    snprintf(expected_path, sizeof expected_path, "%s/%.*s.expected", NSR_LANG_SUITE_DIR,
             (int)(len - 7), e->d_name);
    char *text = read_text(path), *expected = read_text(expected_path);
    if (text == NULL || expected == NULL) fail_msg("%s: missing program or .expected", e->d_name);
    char *got = transcript(e->d_name, text);
    if (strcmp(got, expected) != 0) {
      fail_msg("%s\n--- expected\n%s--- got\n%s", e->d_name, expected, got);
    }
    nsr_free(text);
    nsr_free(expected);
    nsr_free(got);
    ran++;
  }
  closedir(dir);
  assert_true(ran >= 9);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_suite),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
