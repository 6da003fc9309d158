/* fuzz_lang_read.c: libFuzzer harness for the Church reader alone
 * (lang_read_all): any bytes must give a datum list or a located parse
 * error, never a crash, hang or leak. One interpreter serves every input;
 * the reader's results are garbage once the next input is read, and the
 * collector reclaims them, so memory stays bounded across executions. */
#include <stddef.h>
#include <stdint.h>

#include "lang_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static nsr_lang *interp;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (interp == NULL) {
    nsr_lang_config cfg;
    nsr_lang_config_default(&cfg);
    cfg.max_memory = 64u << 20;
    if (nsr_lang_new(&cfg, &interp, NULL) != NSR_OK) __builtin_trap();
  }
  uint32_t file;
  lval program;
  /* The same name every time: lang_add_file then reuses one slot. */
  if (lang_add_file(interp, "fuzz", &file) == LANG_OK) {
    lang_budget_start(interp);
    (void)lang_read_all(interp, file, 1, (const char *)data, size, &program);
  }
  lang_collect(interp);
  return 0;
}
