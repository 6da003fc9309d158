/* fuzz_safetensors.c: libFuzzer harness for the safetensors parser and the
 * checkpoint loader on top of it: any bytes give a model or a clean
 * NSR_ERR_FORMAT/NSR_ERR_NOMEM error. */
#include <stdint.h>

#include "nsr_neural.h"
#include "safetensors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  st_file f;
  (void)st_parse(data, size, &f, NULL);
  st_file_free(&f);
  nsr_nn_model *model = NULL;
  if (nsr_nn_load_buffer(data, size, "fuzz", &model, NULL) == NSR_OK) nsr_nn_free(model);
  return 0;
}
