/* test_crash.c: SIGKILL a process writing rules to the store, and one
 * writing checkpoints, at ROUNDS random moments each (from start-up, when
 * the store is being created and migrated, to the middle of a batch or a
 * save). After every kill: the database passes PRAGMA integrity_check,
 * every batch the writer recorded as committed is there in full and no
 * batch is there in part; the checkpoint loads and is the last recorded one
 * or the one being saved when the kill came, never a mix. The writer is
 * crash_writer (argv[1]). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "json.h"
#include "scratch.h"
#include "nsr_neural.h"

#define ROUNDS 50
#define BATCH_RULES 20 /* as in crash_writer.c */
/* Kills land uniformly in [0, MAX_DELAY_US) after the start. */
#define MAX_DELAY_US 500000

static const char *writer;
static nsr_rng rng;

/* The recorded numbers: how many, and the last (-1 when none). */
static long side_last(const char *side, long *count) {
  long last = -1, n = 0, v;
  FILE *f = fopen(side, "r");
  if (f != NULL) {
    while (fscanf(f, "%ld", &v) == 1) last = v, n++;
    fclose(f);
  }
  *count = n;
  return last;
}

/* Starts the writer, kills it after a random delay, reaps it. */
static void run_and_kill(const char *mode, const char *path, const char *side, long first) {
  char first_text[32];
  snprintf(first_text, sizeof first_text, "%ld", first);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    execl(writer, writer, mode, path, side, first_text, (char *)NULL);
    _exit(127);
  }
  long delay_us = (long)nsr_rng_below(&rng, MAX_DELAY_US);
  struct timespec delay = {delay_us / 1000000, delay_us % 1000000 * 1000};
  nanosleep(&delay, NULL);
  kill(pid, SIGKILL);
  int status;
  assert_int_equal(waitpid(pid, &status, 0), pid);
  /* Killed, or (never expected) exited on its own with an error. */
  if (!WIFSIGNALED(status)) fail_msg("%s writer exited with status %d", mode, WEXITSTATUS(status));
}

static sqlite3_int64 scalar(sqlite3 *db, const char *sql) {
  sqlite3_stmt *st;
  assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
  assert_int_equal(sqlite3_step(st), SQLITE_ROW);
  sqlite3_int64 v = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  return v;
}

/* Checks the store after a kill; returns the batches present. */
static long check_store(const char *db_path, long recorded_last, long recorded_count) {
  sqlite3 *db;
  assert_int_equal(sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
  sqlite3_stmt *st;
  assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL), SQLITE_OK);
  assert_int_equal(sqlite3_step(st), SQLITE_ROW);
  assert_string_equal((const char *)sqlite3_column_text(st, 0), "ok");
  sqlite3_finalize(st);
  /* Killed before the first migration committed: an empty database. */
  if (scalar(db, "SELECT count(*) FROM sqlite_master WHERE name = 'rules'") == 0) {
    assert_int_equal(recorded_count, 0);
    sqlite3_close(db);
    return 0;
  }
  /* Rules per batch: every batch complete, none in part. */
  sqlite3_int64 partial = scalar(db,
      "SELECT count(*) FROM (SELECT count(*) AS n FROM rules GROUP BY "
      "substr(body, 1, instr(substr(body, 7), ' ') + 6) HAVING n != 20)");
  assert_int_equal(partial, 0);
  long batches = (long)scalar(db, "SELECT count(*) / 20 FROM rules");
  /* Every recorded batch is there: batches are numbered 0.. in order, and
   * the one in flight at the kill may be there without its record. */
  char sql[128];
  snprintf(sql, sizeof sql, "SELECT count(*) FROM rules WHERE body = 'batch %ld rule %d'",
           recorded_last, BATCH_RULES - 1);
  if (recorded_last >= 0) assert_int_equal(scalar(db, sql), 1);
  assert_true(batches == recorded_count || batches == recorded_count + 1);
  sqlite3_close(db);
  return batches;
}

static void test_kill_rule_writer(void **state) {
  (void)state;
  const char *db = scratch_path("nsr.db"), *side = scratch_path("rules.side");
  long total_kills_mid_batch = 0;
  for (int round = 0; round < ROUNDS; round++) {
    long count, last = side_last(side, &count);
    /* Start after the batches present (one may be committed unrecorded). */
    long present = count;
    if (access(db, F_OK) == 0) present = check_store(db, last, count);
    if (present > count) {
      /* The unrecorded batch counts as committed from now on. */
      FILE *f = fopen(side, "a");
      assert_non_null(f);
      fprintf(f, "%ld\n", present - 1);
      fclose(f);
      total_kills_mid_batch++;
    }
    run_and_kill("rules", db, side, present);
  }
  long count, last = side_last(side, &count);
  long present = check_store(db, last, count);
  print_message("rule writer: %d kills, %ld batches committed, %ld committed but unrecorded\n",
                ROUNDS, present, total_kills_mid_batch);
  assert_true(present > 0);
}

/* Loads the checkpoint and returns the value all its parameters hold. */
static long checkpoint_value(const char *path) {
  nsr_nn_model *model;
  nsr_error err;
  if (nsr_nn_load(path, &model, &err) != NSR_OK) fail_msg("%s", err.message);
  float v = nsr_nn_tensor_at(model, 0).data[0];
  for (size_t t = 0; t < nsr_nn_num_tensors(model); t++) {
    nsr_nn_tensor tensor = nsr_nn_tensor_at(model, t);
    for (size_t i = 0; i < tensor.numel; i++) {
      if (tensor.data[i] != v) fail_msg("torn checkpoint: %g next to %g", tensor.data[i], v);
    }
  }
  nsr_nn_free(model);
  return (long)v;
}

static void test_kill_checkpoint_writer(void **state) {
  (void)state;
  const char *path = scratch_path("model.safetensors"), *side = scratch_path("ckpt.side");
  long next = 0, loads = 0;
  for (int round = 0; round < ROUNDS; round++) {
    run_and_kill("checkpoint", path, side, next);
    long count, last = side_last(side, &count);
    if (access(path, F_OK) != 0) {
      assert_int_equal(last, -1); /* nothing saved yet: nothing recorded */
      continue;
    }
    long v = checkpoint_value(path);
    loads++;
    /* The last recorded save, or the next one (renamed into place just
     * before the kill, not yet recorded). */
    if (v != last && v != last + 1) fail_msg("checkpoint %ld after recorded %ld", v, last);
    next = v + 1;
  }
  print_message("checkpoint writer: %d kills, %ld checkpoints loaded, last %ld\n", ROUNDS, loads,
                next - 1);
  assert_true(loads > 0);
}

int main(int argc, char **argv) {
  if (argc != 2) return 2;
  writer = argv[1];
  nsr_json_init();
  nsr_rng_seed(&rng, (uint64_t)time(NULL));
  if (!scratch_make()) return 1;
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_kill_rule_writer),
      cmocka_unit_test(test_kill_checkpoint_writer),
  };
  int failed = cmocka_run_group_tests(tests, NULL, NULL);
  if (!scratch_remove()) failed++;
  return failed;
}
