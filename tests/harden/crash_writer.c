/* crash_writer.c: the victim of test_crash. It writes forever, recording
 * each write in a side file only after the write is complete, until the
 * test SIGKILLs it at a random moment:
 *   crash_writer rules DB SIDE FIRST
 *     adds batches FIRST, FIRST+1, ... of BATCH_RULES rules each to the rule
 *     store DB (one nsr_store_add_rules transaction per batch; rule bodies
 *     "batch B rule R"), appending "B\n" to SIDE after each commit;
 *   crash_writer checkpoint PATH SIDE FIRST
 *     saves checkpoints FIRST, FIRST+1, ... to PATH with nsr_nn_save, every
 *     parameter of checkpoint K equal to K, appending "K\n" to SIDE after
 *     each save returns.
 * A process kill keeps what reached the kernel, so the side file needs no
 * fsync: what it lists was committed before the kill. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "json.h"
#include "nsr_neural.h"
#include "store.h"

#define BATCH_RULES 20

static int side_fd;

static void record(long n) {
  char line[32];
  int len = snprintf(line, sizeof line, "%ld\n", n);
  if (write(side_fd, line, (size_t)len) != len) exit(3);
}

static int die(const nsr_error *err) {
  fprintf(stderr, "crash_writer: %s\n", err->message);
  return 1;
}

static int write_rules(const char *db, long first) {
  nsr_store *store;
  nsr_error err;
  int64_t model;
  if (nsr_store_open(db, &store, &err) != NSR_OK) return die(&err);
  if (nsr_store_add_model(store, "feed", "m.safetensors", "{}", &model, &err) != NSR_OK) {
    return die(&err);
  }
  char bodies[BATCH_RULES][48];
  nsr_store_rule rules[BATCH_RULES];
  for (long b = first;; b++) {
    for (int r = 0; r < BATCH_RULES; r++) {
      snprintf(bodies[r], sizeof bodies[r], "batch %ld rule %d", b, r);
      rules[r] = (nsr_store_rule){"alignment", 0, r, bodies[r], "even", 0.9, 0.9, 0.9, 1, NULL, NULL, NULL};
    }
    if (nsr_store_add_rules(store, model, rules, BATCH_RULES, &err) != NSR_OK) return die(&err);
    record(b);
  }
}

static int write_checkpoints(const char *path, long first) {
  /* Small enough to save many times a second even under ASan, large
   * enough (about 300 KB) that a torn write would show. */
  nsr_nn_config cfg;
  nsr_nn_config_default(&cfg);
  cfg.vocab = 64;
  cfg.d_model = 64;
  cfg.n_heads = 2;
  cfg.d_ff = 128;
  nsr_nn_model *model;
  nsr_error err;
  if (nsr_nn_create(&cfg, &model, &err) != NSR_OK) return die(&err);
  for (long k = first;; k++) {
    for (size_t t = 0; t < nsr_nn_num_tensors(model); t++) {
      nsr_nn_tensor tensor = nsr_nn_tensor_at(model, t);
      for (size_t i = 0; i < tensor.numel; i++) tensor.data[i] = (float)k;
    }
    if (nsr_nn_save(model, path, &err) != NSR_OK) return die(&err);
    record(k);
  }
}

int main(int argc, char **argv) {
  if (argc != 5) {
    fputs("usage: crash_writer rules|checkpoint PATH SIDE FIRST\n", stderr);
    return 2;
  }
  side_fd = open(argv[3], O_WRONLY | O_APPEND | O_CREAT, 0644);
  if (side_fd < 0) return 2;
  long first = strtol(argv[4], NULL, 10);
  nsr_json_init();
  if (strcmp(argv[1], "rules") == 0) return write_rules(argv[2], first);
  if (strcmp(argv[1], "checkpoint") == 0) return write_checkpoints(argv[2], first);
  return 2;
}
