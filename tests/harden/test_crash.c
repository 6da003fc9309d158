/* test_crash.c: SIGKILL the real `nsr` (argv[1]) while it writes, and
 * check what it leaves. Kills land in two ways:
 *  - at a hook point, by construction: the writer runs with
 *    NSR_TEST_STOP_AT=<point> (core/testhook.h) and stops itself (SIGSTOP)
 *    just before its commit ("store-commit") or its rename
 *    ("atomic-rename"); the test sees it stopped (waitpid with WUNTRACED)
 *    and SIGKILLs it. Such a run must stop there, and must leave exactly
 *    the state from before it.
 *  - at random moments: RANDOM_RUNS runs per test are SIGKILLed after a
 *    delay drawn from a seeded RNG (NSR_CRASH_SEED, else the clock) and
 *    scaled by the wall time of an uncut run. A kill may land anywhere, or
 *    after the run ended; either way the state is checked the same way,
 *    and how many landed mid-run is only reported.
 * No assertion depends on timing. What is checked after every run:
 *  - the rule store: `nsr extract` of a model A runs once in full; then
 *    extractions of A again and of a second model B are killed. The
 *    database passes PRAGMA integrity_check, A's rules are exactly its
 *    complete set (the old one or the replacement, which are equal:
 *    extraction is deterministic), and B's are either absent or exactly
 *    its complete set, never a part; the concepts are unchanged.
 *  - checkpoints: `nsr nn init --out P` and `nsr nn train --out P` are
 *    killed while P holds another checkpoint. P loads with nsr_nn_load and
 *    is byte for byte the checkpoint it held before or the one being
 *    written, never torn; at most one temporary file (P.nsr-tmp, see
 *    fileio.h) exists, and a finished save removes it.
 * The complete results are references made by the same commands run to the
 * end. Every failure message names the seed, the phase and the round. */
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
#include "testhook.h"

/* Runs killed at random moments, per test. */
#define RANDOM_RUNS 50
/* Kills at the hook point per writer and starting state. */
#define HOOK_KILLS 3

static const char *nsr;
static nsr_rng rng;
static uint64_t seed;
static const char *phase = "references";
static int round_no = 0;

#define crash_fail(...)                                                                  \
  do {                                                                                   \
    print_message("NSR_CRASH_SEED=%" PRIu64 ", %s, round %d: ", seed, phase, round_no);  \
    fail_msg(__VA_ARGS__);                                                               \
  } while (0)

/* A small proposal model over 1..34 (vocab 34 + 1 + 6 count tokens, the
 * 34 rules and 595 intervals as classes): the test is about kills, not
 * about extraction quality. */
static const char model_config[] =
    "{\"vocab\":41,\"d_model\":16,\"n_heads\":2,\"n_layers\":1,\"d_ff\":32,\"max_len\":7,"
    "\"n_classes\":629,\"pos\":\"none\",\"pool\":\"mean\",\"head\":\"softmax\"}";
/* A larger one for checkpoint writes (1.6 MB), so that writing the file
 * takes a fair share of a run and random kills land in it now and then. */
static const char ckpt_config[] =
    "{\"vocab\":41,\"d_model\":128,\"n_heads\":4,\"n_layers\":2,\"d_ff\":512,\"max_len\":4,"
    "\"n_classes\":34,\"pos\":\"none\",\"pool\":\"mean\",\"head\":\"softmax\"}";

/* The outcome of one run. */
typedef struct run {
  bool killed;    /* the kill came first */
  double seconds; /* wall time to exit or kill */
} run;

/* Starts nsr with argv (NULL-terminated; argv[0] is the name it is shown),
 * output discarded; with stop_at non-NULL it stops itself at that hook
 * point. Returns its pid. */
static pid_t spawn(const char *const *argv, const char *stop_at) {
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    int null = open("/dev/null", O_WRONLY);
    dup2(null, STDOUT_FILENO);
    dup2(null, STDERR_FILENO);
    /* One BLAS thread: training is deterministic per thread count. */
    setenv("OPENBLAS_NUM_THREADS", "1", 1);
    if (stop_at != NULL) setenv(NSR_TEST_STOP_ENV, stop_at, 1);
    execv(nsr, (char *const *)argv);
    _exit(127);
  }
  return pid;
}

/* Runs nsr with argv and SIGKILLs it after delay_us unless delay_us < 0;
 * reaps it. Fails when it exits with a status other than 0. */
static run run_nsr(const char *const *argv, long delay_us) {
  uint64_t start = nsr_now_ns();
  pid_t pid = spawn(argv, NULL);
  if (delay_us >= 0) {
    struct timespec delay = {delay_us / 1000000, delay_us % 1000000 * 1000};
    nanosleep(&delay, NULL);
    kill(pid, SIGKILL);
  }
  int status;
  assert_int_equal(waitpid(pid, &status, 0), pid);
  run r = {WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, nsr_seconds_since(start)};
  if (!r.killed && !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
    crash_fail("%s %s ended with wait status %#x", nsr, argv[1], (unsigned)status);
  }
  return r;
}

/* Runs argv with its stop at hook point `point`, waits until it stops
 * there, SIGKILLs it and reaps it. Fails when the run ends any other way:
 * the kill lands at the point by construction, whatever the machine's
 * load. */
static void kill_at_hook(const char *const *argv, const char *point) {
  pid_t pid = spawn(argv, point);
  int status;
  assert_int_equal(waitpid(pid, &status, WUNTRACED), pid);
  if (!WIFSTOPPED(status) || WSTOPSIG(status) != SIGSTOP) {
    crash_fail("%s %s ended (wait status %#x) without stopping at %s", nsr, argv[1],
               (unsigned)status, point);
  }
  assert_int_equal(kill(pid, SIGKILL), 0);
  assert_int_equal(waitpid(pid, &status, 0), pid);
  if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL) {
    crash_fail("%s %s stopped at %s survived SIGKILL (wait status %#x)", nsr, argv[1], point,
               (unsigned)status);
  }
}

/* Runs argv to the end; returns its wall time in microseconds. */
static long run_uncut(const char *const *argv) {
  run r = run_nsr(argv, -1);
  assert_false(r.killed);
  return (long)(r.seconds * 1e6) + 1;
}

/* The median wall time of three uncut runs of argv, the scale of random
 * kill delays (machine load makes one run a poor measure; a poor measure
 * only moves where kills land, which nothing asserts on). */
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

/* The store under test and what it must hold after any kill. */
typedef struct store_check {
  const char *db, *a, *b;
  store_state want; /* A's complete set and the concepts, B none */
  rule_set b_all;   /* B's complete set */
} store_check;

/* What B's rules may be after a kill. */
typedef enum b_allowed { B_NONE, B_NONE_OR_ALL, B_ALL } b_allowed;

/* Checks the store after a run that may have been killed: integrity_check
 * ok, A's complete set, the concepts unchanged, B's rules as `b` allows.
 * Returns whether B's complete set is there. */
static bool check_store(const store_check *c, b_allowed b) {
  store_state got = read_store(c->db, c->a, c->b);
  expect_set("A", got.a, c->want.a);
  if (got.concepts != c->want.concepts) crash_fail("%ld concepts, not %ld", got.concepts, c->want.concepts);
  bool b_done = got.b.rows > 0;
  if (b == B_ALL || b_done) expect_set("B", got.b, c->b_all);
  if (b == B_NONE && b_done) {
    crash_fail("model B has %ld rules before any B extraction committed", got.b.rows);
  }
  return b_done;
}

static void test_kill_extract(void **state) {
  (void)state;
  phase = "references";
  const char *a = scratch_path("a.safetensors"), *b = scratch_path("b.safetensors");
  init_model(model_config, "1", a);
  init_model(model_config, "2", b);
  char db[300], ref[300];
  snprintf(db, sizeof db, "%s", scratch_path("nsr.db"));
  snprintf(ref, sizeof ref, "%s", scratch_path("ref.db"));
  /* References: A extracted in full into the store under test, B into a
   * store of its own. */
  const char *extract_a[] = {"nsr", "extract", "--weights", a, "--db", db, "--sets", "200", NULL};
  const char *extract_b[] = {"nsr", "extract", "--weights", b, "--db", db, "--sets", "200", NULL};
  const char *ref_b[] = {"nsr", "extract", "--weights", b, "--db", ref, "--sets", "200", NULL};
  run_uncut(extract_a);
  run_uncut(ref_b);
  store_check c = {db, a, b, read_store(db, a, b), read_store(ref, a, b).b};
  assert_true(c.want.a.rows > 0 && c.b_all.rows > 0 && c.want.concepts > 0);
  assert_int_equal(c.want.b.rows, 0);
  long uncut_us = median_uncut(extract_a); /* replacements, as in the rounds */
  check_store(&c, B_NONE);
  /* Stopped before COMMIT, A's replacement and B's first extraction leave
   * nothing. */
  phase = "kill at store-commit";
  for (round_no = 0; round_no < HOOK_KILLS; round_no++) {
    kill_at_hook(extract_a, "store-commit");
    check_store(&c, B_NONE);
    kill_at_hook(extract_b, "store-commit");
    check_store(&c, B_NONE);
  }
  phase = "random kill";
  bool b_done = false;
  int kills = 0;
  for (round_no = 0; round_no < RANDOM_RUNS; round_no++) {
    bool of_b = nsr_rng_below(&rng, 2) == 1;
    kills += run_nsr(of_b ? extract_b : extract_a, random_delay(uncut_us)).killed;
    b_done = check_store(&c, b_done ? B_ALL : B_NONE_OR_ALL);
  }
  /* With B's complete set stored, its replacement stopped before COMMIT
   * leaves that set. */
  phase = "kill at store-commit, B stored";
  round_no = 0;
  run_uncut(extract_b);
  check_store(&c, B_ALL);
  for (round_no = 0; round_no < HOOK_KILLS; round_no++) {
    kill_at_hook(extract_b, "store-commit");
    check_store(&c, B_ALL);
  }
  print_message("nsr extract: %d kills at store-commit; %d runs killed at random moments, %d of "
                "them mid-run, B's rules %s by then; uncut run %.3f s\n",
                3 * HOOK_KILLS, RANDOM_RUNS, kills, b_done ? "committed" : "not committed",
                uncut_us / 1e6);
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

/* The number of temporary files of `out` in the scratch directory: 0 or 1,
 * as there is one temporary name; fails on any other file named after
 * `out`. */
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

/* Writes `w`'s result to `out` in this process, as the state a run of
 * another writer starts from (which also removes a temporary file left by
 * a killed save). */
static void put_checkpoint(const writer *w, const char *out) {
  nsr_error err;
  if (nsr_write_file_atomic(out, w->result, w->result_len, &err) != NSR_OK) crash_fail("%s", err.message);
}

/* Checks `out` after a run of w that may have been killed, given its
 * bytes before: it is byte for byte `before`, or w's result unless
 * `only_before`, and it loads. Returns the number of temporary files
 * beside it (temp_files). */
static int check_checkpoint(const writer *w, const char *dir, const char *out, const char *before,
                            size_t before_len, bool only_before) {
  size_t after_len;
  char *after = contents(out, &after_len);
  bool old = same(after, after_len, before, before_len);
  if (!old && (only_before || !same(after, after_len, w->result, w->result_len))) {
    crash_fail("after %s, %s (%zu bytes) is not the checkpoint before (%zu bytes)%s", w->name, out,
               after_len, before_len, only_before ? "" : " nor the new one");
  }
  nsr_free(after);
  nsr_nn_model *model;
  nsr_error err;
  if (nsr_nn_load(out, &model, &err) != NSR_OK) crash_fail("%s", err.message);
  nsr_nn_free(model);
  return temp_files(dir, strrchr(out, '/') + 1);
}

/* Each writer, from each writer's checkpoint, stopped before its rename:
 * `out` is unchanged and the linked temporary file is there. */
static void kill_saves_at_hook(const writer *writers, size_t n_writers, const char *dir,
                               const char *out) {
  phase = "kill at atomic-rename";
  round_no = 0;
  for (int k = 0; k < HOOK_KILLS; k++) {
    for (size_t w = 0; w < n_writers; w++) {
      for (size_t from = 0; from < n_writers; from++, round_no++) {
        put_checkpoint(&writers[from], out);
        kill_at_hook(writers[w].argv, "atomic-rename");
        int temps = check_checkpoint(&writers[w], dir, out, writers[from].result,
                                     writers[from].result_len, true);
        if (temps != 1) {
          crash_fail("%d temporary files after %s stopped before its rename", temps, writers[w].name);
        }
      }
    }
  }
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
  phase = "references";
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
  kill_saves_at_hook(writers, n_writers, dir, out);
  phase = "random kill";
  int kills = 0, temps_seen = 0;
  for (round_no = 0; round_no < RANDOM_RUNS; round_no++) {
    size_t before_len;
    char *before = contents(out, &before_len);
    writer *w = &writers[nsr_rng_below(&rng, n_writers)];
    kills += run_nsr(w->argv, random_delay(w->uncut_us)).killed;
    temps_seen += check_checkpoint(w, dir, out, before, before_len, false);
    nsr_free(before);
  }
  /* A finished save leaves no temporary file. */
  phase = "after the kills";
  run_uncut(writers[0].argv);
  assert_int_equal(temp_files(dir, strrchr(out, '/') + 1), 0);
  print_message("checkpoint writes: %zu kills at atomic-rename; %d runs killed at random moments, "
                "%d of them mid-run; a temporary file was left after %d of the %d (a finished "
                "save removes it)\n",
                HOOK_KILLS * n_writers * n_writers, RANDOM_RUNS, kills, temps_seen, RANDOM_RUNS);
  for (size_t w = 0; w < n_writers; w++) nsr_free(writers[w].result);
}

int main(int argc, char **argv) {
  if (argc != 2) return 2;
  nsr = argv[1];
  /* This process writes checkpoints itself (put_checkpoint): it must never
   * stop at a hook; only the children it starts with stop_at do. */
  unsetenv(NSR_TEST_STOP_ENV);
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
