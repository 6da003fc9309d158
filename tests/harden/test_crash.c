/* test_crash.c: SIGKILL the real `nsr` (argv[1]) while it writes, at
 * ROUNDS random moments per writer, and check what it leaves:
 *  - the rule store: `nsr extract` of a model A runs once in full and its
 *    rules are snapshotted; then extractions of A again and of a second
 *    model B are started and killed. After every kill the database passes
 *    PRAGMA integrity_check, A's rules are exactly its complete set (the
 *    old one or the replacement, which are equal: extraction is
 *    deterministic), and B's are either absent (no B extraction has
 *    finished yet) or exactly its complete set, never a part.
 *  - checkpoints: `nsr nn init --out P` and `nsr nn train --out P` are
 *    killed while P holds another checkpoint. After every kill P loads with
 *    nsr_nn_load and is byte for byte the checkpoint it held before or the
 *    one being written, never torn; at most one temporary file (P.nsr-tmp,
 *    see fileio.h) exists, and a finished save removes it.
 * The complete results are references made by the same commands run to the
 * end. Kill delays (random_delay) scale with T, the wall time of an uncut
 * run, and come from a seeded RNG (NSR_CRASH_SEED, else the clock); every failure
 * message names the seed and round. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fileio.h"
#include "json.h"
#include "nsr_neural.h"
#include "scratch.h"

/* Runs are started until ROUNDS of them were killed before they ended
 * (the others ran to the end and are checked the same way), at most
 * MAX_RUNS. */
#define ROUNDS 50
#define MAX_RUNS (4 * ROUNDS)

static const char *nsr;
static nsr_rng rng;
static uint64_t seed;
static int round_no = -1; /* -1: while making the references */

#define crash_fail(...)                                                                  \
  do {                                                                                   \
    print_message("NSR_CRASH_SEED=%" PRIu64 ", round %d: ", seed, round_no);            \
    fail_msg(__VA_ARGS__);                                                               \
  } while (0)

/* A small encoder: the test is about kills, not about extraction quality;
 * with pos none and 34 classes the extraction reads the rules layout. */
static const char model_config[] =
    "{\"vocab\":41,\"d_model\":16,\"n_heads\":2,\"n_layers\":1,\"d_ff\":32,\"max_len\":4,"
    "\"n_classes\":34,\"pos\":\"none\",\"pool\":\"mean\",\"head\":\"softmax\"}";
/* A larger one for checkpoint writes (1.6 MB), so that writing the file
 * takes long enough for kills to land in it. */
static const char ckpt_config[] =
    "{\"vocab\":41,\"d_model\":128,\"n_heads\":4,\"n_layers\":2,\"d_ff\":512,\"max_len\":4,"
    "\"n_classes\":34,\"pos\":\"none\",\"pool\":\"mean\",\"head\":\"softmax\"}";

/* The outcome of one run. */
typedef struct run {
  bool killed;    /* the kill came first */
  int status;     /* exit status otherwise */
  double seconds; /* wall time to exit or kill */
} run;

/* Runs nsr with argv (NULL-terminated; argv[0] is the name it is shown), output discarded,
 * and SIGKILLs it after delay_us unless delay_us < 0; reaps it. */
static run run_nsr(const char *const *argv, long delay_us) {
  uint64_t start = nsr_now_ns();
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    int null = open("/dev/null", O_WRONLY);
    dup2(null, STDOUT_FILENO);
    dup2(null, STDERR_FILENO);
    /* One BLAS thread: training is deterministic per thread count. */
    setenv("OPENBLAS_NUM_THREADS", "1", 1);
    execv(nsr, (char *const *)argv);
    _exit(127);
  }
  run r = {0};
  int status;
  if (delay_us >= 0) {
    struct timespec delay = {delay_us / 1000000, delay_us % 1000000 * 1000};
    nanosleep(&delay, NULL);
    kill(pid, SIGKILL);
  }
  assert_int_equal(waitpid(pid, &status, 0), pid);
  r.seconds = nsr_seconds_since(start);
  r.killed = WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128;
  if (!r.killed && r.status != 0) crash_fail("%s %s exited with %d", nsr, argv[1], r.status);
  return r;
}

/* Runs argv to the end; returns its wall time in microseconds. */
static long run_uncut(const char *const *argv) {
  run r = run_nsr(argv, -1);
  assert_false(r.killed);
  return (long)(r.seconds * 1e6) + 1;
}

/* The median wall time of three uncut runs of argv (machine load makes one
 * run a poor measure). */
static long median_uncut(const char *const *argv) {
  long t[3];
  for (int i = 0; i < 3; i++) t[i] = run_uncut(argv);
  long lo = t[0] < t[1] ? t[0] : t[1], hi = t[0] < t[1] ? t[1] : t[0];
  return t[2] < lo ? lo : t[2] > hi ? hi : t[2];
}

/* A kill delay: for half the rounds uniform over the whole run and a bit
 * past it, for the other half uniform over its last quarter, where the
 * commit or the save happens (a save of a few MB takes a few percent of a
 * run, most of which is start-up and computing). */
static long random_delay(long uncut_us) {
  if (nsr_rng_below(&rng, 2) == 0) return (long)nsr_rng_below(&rng, (uint64_t)(uncut_us + uncut_us / 4));
  return uncut_us * 3 / 4 + (long)nsr_rng_below(&rng, (uint64_t)(uncut_us / 4 + uncut_us / 20));
}

/* ---------------------------------------------------------------- store */

typedef struct rule_set {
  long rows;       /* 0: the model has no rules */
  uint64_t digest; /* FNV-1a over every column of every row, in order */
} rule_set;

static sqlite3_int64 scalar(sqlite3 *db, const char *sql) {
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) crash_fail("%s", sqlite3_errmsg(db));
  assert_int_equal(sqlite3_step(st), SQLITE_ROW);
  sqlite3_int64 v = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  return v;
}

static void fnv(uint64_t *h, const unsigned char *p, size_t n) {
  for (size_t i = 0; i < n; i++) *h = (*h ^ p[i]) * 1099511628211u;
}

/* The rules stored for the model with this weights file name (ids and
 * timestamps left out: a replacement has new ones). */
static rule_set rules_of(sqlite3 *db, const char *weights) {
  const char *sql =
      "SELECT method, site, layer, unit, body, conclusion, fidelity, accuracy, completeness, "
      "support, church, details FROM rules JOIN models ON models.id = rules.model_id "
      "WHERE models.path = ?1 ORDER BY method, site, layer, unit, body, conclusion";
  sqlite3_stmt *st;
  assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
  sqlite3_bind_text(st, 1, weights, -1, SQLITE_STATIC);
  rule_set set = {0, 14695981039346656037u};
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    set.rows++;
    for (int c = 0; c < sqlite3_column_count(st); c++) {
      const unsigned char *text = sqlite3_column_text(st, c);
      fnv(&set.digest, text ? text : (const unsigned char *)"\1NULL", text ? (size_t)sqlite3_column_bytes(st, c) : 5);
      fnv(&set.digest, (const unsigned char *)"\0", 1);
    }
  }
  assert_int_equal(rc, SQLITE_DONE);
  sqlite3_finalize(st);
  return set;
}

typedef struct store_state {
  rule_set a, b;
  long concepts;
} store_state;

/* Opens the store after a kill, checks its integrity, reads both models'
 * rules and the concept count. */
static store_state read_store(const char *path, const char *a, const char *b) {
  sqlite3 *db;
  if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
    crash_fail("%s: %s", path, sqlite3_errmsg(db));
  }
  sqlite3_stmt *st;
  assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL), SQLITE_OK);
  assert_int_equal(sqlite3_step(st), SQLITE_ROW);
  const char *verdict = (const char *)sqlite3_column_text(st, 0);
  if (strcmp(verdict, "ok") != 0) crash_fail("integrity_check: %s", verdict);
  sqlite3_finalize(st);
  store_state s = {rules_of(db, a), rules_of(db, b), (long)scalar(db, "SELECT count(*) FROM concepts")};
  sqlite3_close(db);
  return s;
}

static void expect_set(const char *which, rule_set got, rule_set want) {
  if (got.rows != want.rows || got.digest != want.digest) {
    crash_fail("model %s has %ld rules (digest %016" PRIx64 "), its complete set %ld (%016" PRIx64 ")",
               which, got.rows, got.digest, want.rows, want.digest);
  }
}

static void init_model(const char *config, const char *seed_text, const char *out) {
  const char *argv[] = {"nsr", "nn", "init", "--config", config, "--seed", seed_text, "--out", out, NULL};
  run_uncut(argv);
}

static void test_kill_extract(void **state) {
  (void)state;
  const char *a = scratch_path("a.safetensors"), *b = scratch_path("b.safetensors");
  init_model(model_config, "1", a);
  init_model(model_config, "2", b);
  char db[300], ref[300];
  snprintf(db, sizeof db, "%s", scratch_path("nsr.db"));
  snprintf(ref, sizeof ref, "%s", scratch_path("ref.db"));
  /* References: A extracted in full into the store under test, B into a
   * store of its own. */
  const char *extract_a[] = {"nsr", "extract", "--weights", a, "--db", db, NULL};
  const char *extract_b[] = {"nsr", "extract", "--weights", b, "--db", db, NULL};
  const char *ref_b[] = {"nsr", "extract", "--weights", b, "--db", ref, NULL};
  run_uncut(extract_a);
  run_uncut(ref_b);
  store_state want = read_store(db, a, b), ref_state = read_store(ref, a, b);
  assert_true(want.a.rows > 0 && ref_state.b.rows > 0 && want.concepts > 0);
  assert_int_equal(want.b.rows, 0);
  long uncut_us = median_uncut(extract_a); /* replacements, as in the rounds */
  expect_set("A", read_store(db, a, b).a, want.a);
  bool b_done = false;
  int kills = 0;
  for (round_no = 0; kills < ROUNDS; round_no++) {
    if (round_no == MAX_RUNS) crash_fail("only %d of %d runs were killed before they ended", kills, MAX_RUNS);
    bool of_b = nsr_rng_below(&rng, 2) == 1;
    run r = run_nsr(of_b ? extract_b : extract_a, random_delay(uncut_us));
    kills += r.killed;
    store_state got = read_store(db, a, b);
    expect_set("A", got.a, want.a);
    if (got.b.rows > 0 || b_done) {
      expect_set("B", got.b, ref_state.b);
      b_done = true;
    }
    if (got.concepts != want.concepts) crash_fail("%ld concepts, not %ld", got.concepts, want.concepts);
  }
  print_message("nsr extract: %d runs, %d killed mid-run, B's rules %s; uncut run %.3f s\n",
                round_no, kills, b_done ? "committed" : "never committed", uncut_us / 1e6);
}

/* ----------------------------------------------------------- checkpoints */

/* The bytes of `path` (NULL and *len 0 when it does not exist). */
static char *contents(const char *path, size_t *len) {
  char *data = NULL;
  nsr_error err;
  *len = 0;
  if (access(path, F_OK) != 0) return NULL;
  if (nsr_read_file(path, 0, &data, len, &err) != NSR_OK) crash_fail("%s", err.message);
  return data;
}

static bool same(const char *x, size_t nx, const char *y, size_t ny) {
  return x != NULL && y != NULL && nx == ny && memcmp(x, y, nx) == 0;
}

/* The entries of the scratch directory that are temporary files of `out`:
 * fails past one (the single deterministic name). */
static int temp_files(const char *dir, const char *out_name) {
  DIR *d = opendir(dir);
  assert_non_null(d);
  size_t prefix = strlen(out_name);
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (strncmp(e->d_name, out_name, prefix) == 0 && e->d_name[prefix] != '\0') {
      if (strcmp(e->d_name + prefix, NSR_ATOMIC_TMP_SUFFIX) != 0) crash_fail("stray file %s", e->d_name);
      n++;
    }
  }
  closedir(d);
  return n;
}

/* One way to write the checkpoint: the command and its complete result. */
typedef struct writer {
  const char *name;
  const char *const *argv;
  char *result;
  size_t result_len;
  long uncut_us;
} writer;

/* Runs w to the end into `out` to make its reference result. */
static void make_reference(writer *w, const char *out) {
  unlink(out);
  w->uncut_us = median_uncut(w->argv);
  w->result = contents(out, &w->result_len);
  assert_non_null(w->result);
}

static void test_kill_checkpoint_writes(void **state) {
  (void)state;
  char dir[300], out[300], start[300], data[300];
  snprintf(dir, sizeof dir, "%s", scratch_path(""));
  snprintf(out, sizeof out, "%s", scratch_path("model.safetensors"));
  snprintf(start, sizeof start, "%s", scratch_path("start.safetensors"));
  snprintf(data, sizeof data, "%s", scratch_path("train.txt"));
  /* A few examples of the 34-class head: tokens -> class. */
  FILE *f = fopen(data, "w");
  assert_non_null(f);
  fputs("2 4 6 -> 1\n3 9 27 -> 5\n10 20 -> 7\n7 -> 0\n16 32 -> 12\n", f);
  fclose(f);
  init_model(ckpt_config, "3", start);
  const char *init1[] = {"nsr", "nn", "init", "--config", ckpt_config, "--seed", "1", "--out", out, NULL};
  const char *init2[] = {"nsr", "nn", "init", "--config", ckpt_config, "--seed", "2", "--out", out, NULL};
  const char *train[] = {"nsr", "nn", "train", start, "--data", data, "--held-out", data,
                         "--out", out, "--steps", "2", "--batch", "5", "--seed", "7", NULL};
  writer writers[] = {{"nn init --seed 1", init1, NULL, 0, 0},
                      {"nn init --seed 2", init2, NULL, 0, 0},
                      {"nn train", train, NULL, 0, 0}};
  const size_t n_writers = sizeof writers / sizeof *writers;
  for (size_t w = 0; w < n_writers; w++) make_reference(&writers[w], out);
  for (size_t w = 1; w < n_writers; w++) assert_false(same(writers[0].result, writers[0].result_len, writers[w].result, writers[w].result_len));
  const char *out_name = strrchr(out, '/') + 1;
  int kills = 0, temps_seen = 0;
  for (round_no = 0; kills < ROUNDS; round_no++) {
    if (round_no == MAX_RUNS) crash_fail("only %d of %d runs were killed before they ended", kills, MAX_RUNS);
    size_t before_len, after_len;
    char *before = contents(out, &before_len);
    writer *w = &writers[nsr_rng_below(&rng, n_writers)];
    run r = run_nsr(w->argv, random_delay(w->uncut_us));
    kills += r.killed;
    char *after = contents(out, &after_len);
    if (!same(after, after_len, before, before_len) && !same(after, after_len, w->result, w->result_len)) {
      crash_fail("%s killed after %.3f s: %s is neither the checkpoint before (%zu bytes) nor the "
                 "new one (%zu bytes) but %zu bytes",
                 w->name, r.seconds, out, before_len, w->result_len, after_len);
    }
    nsr_nn_model *model;
    nsr_error err;
    if (nsr_nn_load(out, &model, &err) != NSR_OK) crash_fail("%s", err.message);
    nsr_nn_free(model);
    temps_seen += temp_files(dir, out_name);
    nsr_free(before);
    nsr_free(after);
  }
  /* A finished save leaves no temporary file. */
  run_uncut(writers[0].argv);
  assert_int_equal(temp_files(dir, out_name), 0);
  print_message("checkpoint writes: %d runs, %d killed mid-run, %d left the temporary file "
                "(removed by the next save)\n", round_no, kills, temps_seen);
  for (size_t w = 0; w < n_writers; w++) nsr_free(writers[w].result);
}

int main(int argc, char **argv) {
  if (argc != 2) return 2;
  nsr = argv[1];
  nsr_json_init();
  const char *fixed = getenv("NSR_CRASH_SEED");
  seed = fixed != NULL ? strtoull(fixed, NULL, 10) : (uint64_t)time(NULL);
  print_message("NSR_CRASH_SEED=%" PRIu64 "\n", seed);
  nsr_rng_seed(&rng, seed);
  if (!scratch_make()) return 1;
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_kill_extract),
      cmocka_unit_test(test_kill_checkpoint_writes),
  };
  int failed = cmocka_run_group_tests(tests, NULL, NULL);
  if (!scratch_remove()) failed++;
  return failed;
}
