/* bench_extract.c: a full extraction (alignment, probes, CART) over a
 * default-size encoder on 1..100 (d_model 128, d_ff 512, 2 layers, the
 * whole hypothesis space as classes), plus storing its rules in a real
 * SQLite file. Extraction time does not depend on training, so the
 * weights are random unless a checkpoint is given.
 * Usage: bench_extract [M.safetensors]; prints seconds per stage. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "nsr_extract.h"

int main(int argc, char **argv) {
  nsr_error err;
  nsr_nn_model *m = NULL;
  if (argc > 1) {
    if (nsr_nn_load(argv[1], &m, &err) != NSR_OK) goto fail;
  } else {
    nsr_nn_config cfg;
    nsr_nn_config_default(&cfg);
    cfg.vocab = 101;
    cfg.n_classes = NSR_NUMBERS_RULES + 100 * 101 / 2;
    if (nsr_nn_create(&cfg, &m, &err) != NSR_OK) goto fail;
    nsr_nn_init_params(m, 1);
  }
  uint64_t t0 = nsr_now_ns();
  nsr_activations acts;
  if (nsr_activations_capture(m, 0, &acts, &err) != NSR_OK) goto fail;
  double t_capture = nsr_seconds_since(t0);
  nsr_numbers_config ncfg;
  nsr_numbers_config_default(&ncfg);
  ncfg.max = acts.max;
  nsr_numbers *engine;
  nsr_concept_library lib;
  nsr_lang *lang;
  nsr_lang_config lcfg;
  nsr_lang_config_default(&lcfg);
  uint64_t t1 = nsr_now_ns();
  if (nsr_numbers_new(&ncfg, &engine, &err) != NSR_OK ||
      nsr_concept_library_build(engine, &lib, &err) != NSR_OK ||
      nsr_lang_new(&lcfg, &lang, &err) != NSR_OK ||
      nsr_concept_library_verify(&lib, lang, &err) != NSR_OK) {
    goto fail;
  }
  double t_church = nsr_seconds_since(t1);
  nsr_extract_opts opts;
  nsr_extract_opts_default(&opts);
  double t_method[3];
  size_t total = 0;
  for (int k = 0; k < 3; k++) {
    opts.alignment = k == 0;
    opts.probe = k == 1;
    opts.cart = k == 2;
    nsr_extraction ex;
    uint64_t t = nsr_now_ns();
    if (nsr_extract(&acts, &lib, engine, &opts, NULL, NULL, &ex, &err) != NSR_OK) goto fail;
    t_method[k] = nsr_seconds_since(t);
    total += ex.n;
    nsr_extraction_free(&ex);
  }
  nsr_extract_opts_default(&opts);
  nsr_extraction ex;
  if (nsr_extract(&acts, &lib, engine, &opts, NULL, NULL, &ex, &err) != NSR_OK) goto fail;
  char path[] = "/tmp/nsr_bench_extract_XXXXXX";
  int fd = mkstemp(path);
  close(fd);
  unlink(path);
  nsr_store *s;
  int64_t id;
  uint64_t t2 = nsr_now_ns();
  if (nsr_store_open(path, &s, &err) != NSR_OK ||
      nsr_store_add_extraction(s, "bench", path, "{}", ex.rules, ex.samples, ex.n, &id, &err) != NSR_OK) {
    goto fail;
  }
  double t_store = nsr_seconds_since(t2);
  nsr_store_close(s);
  printf("extract: domain 1..%u, %zu concepts; capture %.3f s, Church check %.3f s,\n"
         "  alignment %.3f s, probes %.3f s, cart %.3f s, store %zu rules %.3f s; total %.3f s\n",
         acts.max, lib.n, t_capture, t_church, t_method[0], t_method[1], t_method[2], total, t_store,
         nsr_seconds_since(t0));
  char side[64];
  unlink(path);
  snprintf(side, sizeof side, "%s-wal", path);
  unlink(side);
  snprintf(side, sizeof side, "%s-shm", path);
  unlink(side);
  return 0;
fail:
  fprintf(stderr, "bench_extract: %s\n", err.message);
  return 1;
}
