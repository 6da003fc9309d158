/* fuzz_lang_eval.c: libFuzzer harness for the whole interpreter (read,
 * expand, evaluate, infer) under tight budgets. Every input must finish
 * with a value or an error within the budgets below (small, so that
 * run.sh's 10 s -timeout is ten times the time budget: a hang is a budget
 * that is not checked somewhere). A fresh interpreter per input keeps
 * each run independent of the previous ones, so every crash reproduces. */
#include <stddef.h>
#include <stdint.h>

#include "nsr_lang.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  nsr_lang_config cfg;
  nsr_lang_config_default(&cfg);
  cfg.max_steps = 200000;
  cfg.max_memory = 16u << 20;
  cfg.timeout_seconds = 1.0;
  cfg.max_paths = 1000;
  nsr_lang *lang;
  if (nsr_lang_new(&cfg, &lang, NULL) != NSR_OK) __builtin_trap();
  nsr_error err;
  if (nsr_lang_eval_string(lang, "fuzz", (const char *)data, size, &err) == NSR_OK) {
    /* Every way a result leaves the interpreter: a bounded format, the
     * printed text (`nsr run`) and JSON (run_program); each must end on
     * cyclic and shared values too. */
    char text[256], *out = NULL;
    (void)nsr_lang_format(lang, nsr_lang_result(lang), text, sizeof text);
    if (nsr_lang_write(lang, nsr_lang_result(lang), &out, &err) == NSR_OK) nsr_free(out);
    out = NULL;
    if (nsr_lang_to_json(lang, nsr_lang_result(lang), &out, &err) == NSR_OK) nsr_free(out);
  }
  nsr_lang_free(lang);
  return 0;
}
