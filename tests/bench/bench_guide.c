/* bench_guide.c: what a guide buys (issue 17, "Measure").
 *
 * Usage: bench_guide SPACE.json GUIDE.safetensors [--sets N] [--cap S]
 *                    [--equal K] [--human DIR] [--seed S] [--diagnose]
 *
 * Example sets: N held-out sets drawn from the space's prior
 * (nsr_guide_heldout_make with a seed no guide is trained or evaluated
 * with; sets no grammar expression explains are skipped and counted), then,
 * with --human DIR (tests/data), Tenenbaum's 8 sets and the test split of
 * Bigelow & Piantadosi. Every set has at most 6 examples (a guide's limit).
 *
 * An enumerated space (large.json) is measured against exact inference of
 * the grammar component: for guided and unguided Metropolis-Hastings and
 * importance sampling, the wall time until one run's max |Δ p(y ∈ C | X)|
 * ≤ 0.01 (runs of 1000, 2000, 4000, … samples, each timed alone, until one
 * reaches it or a run takes longer than --cap seconds: a capped run), with
 * the guide's network time added to the guided runs; on the first K sets,
 * the error of runs sized to 10 ms, 100 ms and 1 s; one exact query's time;
 * and the recall of the exact MAP among nsr_space_propose's proposals,
 * two ways: among the top 10 of 1000 draws (seed BENCH_SEED), and among the
 * top 10 that `nsr propose --space` lists with its defaults (10000 draws,
 * seed 1; both rank the distinct proposals by pooled importance weight and
 * rescore each exactly), with, of the latter, how often the MAP is among
 * all the distinct proposals (where, rescored exactly, it ranks first). A space that is not enumerated (deep.json) is
 * measured with two guided and two unguided chains of REF samples each:
 * how far the guided pair's mean is from the unguided pair's (agreement),
 * how far each pair's two chains are from each other (a kind whose chains
 * disagree has not mixed), and the spread across four independent chains
 * at 10 ms and 100 ms. Both print the guide's file
 * size and its median network time per query. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bench_stats.h"
#include "nsr_learn.h"

#define TARGET 0.01
#define MAX_SETS 4096
#define BENCH_SEED 0x42454e43ULL /* "BENC": not a training or evaluation seed */
#define REF_SAMPLES 200000u
#define SPREAD_RUNS 4
/* nsr propose --space's defaults (bridge/cli/cmd_propose.c) */
#define PROPOSE_DRAWS 10000u
#define PROPOSE_SEED 1u
#define RECALL_K 10

typedef struct example_set {
  uint32_t x[NSR_DATASET_MAX_EXAMPLES];
  size_t n;
  const char *source; /* "held-out", "tenenbaum", "bigelow-test" */
} example_set;

typedef struct method {
  const char *name;
  nsr_mh_method kind;
  bool guided;
} method;

static const method methods[] = {
    {"guided MH", NSR_MH_CHAIN, true},
    {"unguided MH", NSR_MH_CHAIN, false},
    {"guided importance", NSR_MH_IMPORTANCE, true},
    {"unguided importance", NSR_MH_IMPORTANCE, false},
};
#define N_METHODS (sizeof methods / sizeof methods[0])

typedef struct bench {
  nsr_space *space;
  nsr_guide *guide;
  uint32_t max;
  double cap;        /* seconds: the longest single run */
  size_t equal_sets; /* sets measured at equal wall time */
  double *log_q;     /* [C·P] the guide on the current set */
  nsr_space_guide q;
  double net_seconds; /* the guide on the current set */
  double *g;          /* [N] scratch */
  bool diagnose;      /* recall only, one line per set */
  nsr_space_proposal *proposals; /* [PROPOSE_DRAWS] scratch */
} bench;

static int fail(const nsr_error *err) {
  fprintf(stderr, "bench_guide: %s\n", err->message);
  return 1;
}

static double max_abs_diff(const double *a, const double *b, uint32_t n) {
  double d = 0.0;
  for (uint32_t y = 0; y < n; y++) d = fmax(d, fabs(a[y] - b[y]));
  return d;
}

/* The nearest-rank p-quantile of v[0..n) (sorts v; capped runs are +inf). */
static double quantile(double *v, size_t n, double p) {
  bench_sort(v, n);
  size_t k = (size_t)ceil(p * (double)n);
  return v[k ? k - 1 : 0];
}

static void print_seconds(const char *label, double s, double cap) {
  if (isinf(s)) printf("%s > %.3g s (capped)", label, cap);
  else printf("%s %.4g s", label, s);
}

/* ---- example sets ---------------------------------------------------------- */

/* Appends the held-out sets the grammar can explain (a short chain
 * starts: some tree contains the examples), up to `want`; g[N] is scratch. */
static nsr_code add_heldout(nsr_space *space, size_t want, uint64_t seed, double *g, example_set *sets,
                            size_t *n, size_t *skipped, nsr_error *err) {
  nsr_guide_item *items;
  size_t draw = 3 * want + 16; /* intervals the grammar cannot explain are skipped */
  nsr_code rc = nsr_guide_heldout_make(space, draw, seed, &items, err);
  for (size_t i = 0, got = 0; rc == NSR_OK && i < draw && got < want && *n < MAX_SETS; i++) {
    nsr_error e;
    nsr_mh_report rep;
    bool explained = nsr_space_mh(space, items[i].examples, items[i].n_examples,
                                  &(nsr_mh_options){.samples = 100, .seed = 1}, g, &rep, &e) == NSR_OK;
    if (!explained) {
      (*skipped)++;
      continue;
    }
    example_set *s = &sets[(*n)++];
    s->n = items[i].n_examples;
    memcpy(s->x, items[i].examples, s->n * sizeof *s->x);
    s->source = "held-out";
    got++;
  }
  if (rc == NSR_OK) nsr_free(items);
  return rc;
}

/* Appends the sets of a human-data file (split may be NULL) with at most 6
 * examples. */
static nsr_code add_human(const char *path, const char *split, uint32_t max, const char *source,
                          example_set *sets, size_t *n, nsr_error *err) {
  nsr_human_data d;
  nsr_code rc = nsr_human_data_load(path, split, max, &d, err);
  for (size_t i = 0; rc == NSR_OK && i < d.n_sets && *n < MAX_SETS; i++) {
    if (d.sets[i].n_examples > NSR_DATASET_MAX_EXAMPLES) continue;
    example_set *s = &sets[(*n)++];
    s->n = d.sets[i].n_examples;
    memcpy(s->x, d.sets[i].examples, s->n * sizeof *s->x);
    s->source = source;
  }
  if (rc == NSR_OK) nsr_human_data_free(&d);
  return rc;
}

/* ---- one run ---------------------------------------------------------------- */

/* Runs method m on set s for `samples` into b->g; *seconds is its wall time
 * plus, guided, the network's time on the set. A run in which no tree
 * contains the examples counts as error 1 (*failed). */
static nsr_code run_once(bench *b, const example_set *s, const method *m, uint64_t samples, uint64_t seed,
                         double *seconds, bool *failed, nsr_error *err) {
  nsr_mh_options opt = {.samples = samples, .burn_in = m->kind == NSR_MH_CHAIN ? samples / 10 : 0,
                        .seed = seed, .method = m->kind, .guide = m->guided ? &b->q : NULL};
  nsr_mh_report rep;
  uint64_t start = nsr_now_ns();
  nsr_code rc = nsr_space_mh(b->space, s->x, s->n, &opt, b->g, &rep, err);
  *seconds = nsr_seconds_since(start) + (m->guided ? b->net_seconds : 0.0);
  *failed = rc == NSR_ERR_INVALID;
  return *failed ? NSR_OK : rc;
}

/* Conditions the guide on s (timed). */
static nsr_code condition(bench *b, const example_set *s, nsr_error *err) {
  uint64_t start = nsr_now_ns();
  nsr_code rc = nsr_guide_condition(b->guide, s->x, s->n, b->log_q, err);
  b->net_seconds = nsr_seconds_since(start);
  return rc;
}

/* ---- an enumerated space: against exact inference --------------------------- */

/* Wall time of the first run (1000, 2000, … samples) within TARGET of
 * `exact`; +inf when a run takes longer than the cap first. */
static nsr_code time_to_target(bench *b, const example_set *s, const method *m, const double *exact,
                               uint64_t seed, double *out, nsr_error *err) {
  *out = INFINITY;
  for (uint64_t samples = 1000;; samples *= 2) {
    double t;
    bool failed;
    nsr_code rc = run_once(b, s, m, samples, seed++, &t, &failed, err);
    if (rc != NSR_OK) return rc;
    if (!failed && max_abs_diff(b->g, exact, b->max) <= TARGET) {
      *out = t;
      return NSR_OK;
    }
    if (t > b->cap) return NSR_OK;
  }
}

/* Error of a run sized to `budget` seconds, from the speed of a short run. */
static nsr_code error_at(bench *b, const example_set *s, const method *m, const double *exact, double budget,
                         uint64_t seed, double *out, nsr_error *err) {
  double t;
  bool failed;
  nsr_code rc = run_once(b, s, m, 2000, seed, &t, &failed, err);
  double net = m->guided ? b->net_seconds : 0.0;
  double rate = 2000 / fmax(t - net, 1e-9);
  uint64_t samples = (uint64_t)fmax(100.0, (budget - net) * rate);
  if (rc == NSR_OK) rc = run_once(b, s, m, samples, seed + 1, &t, &failed, err);
  *out = failed ? 1.0 : max_abs_diff(b->g, exact, b->max);
  return rc;
}

/* --diagnose: one tab-separated line per set on stdout: source, examples,
 * recalled, the exact MAP's name, size and posterior, the guide's mass
 * covering the exact posterior (covered), and its heaviest proposal. */
static void diagnose_line(const bench *b, const example_set *s, const nsr_numbers_result *exact,
                          const nsr_space_proposal *top, const nsr_space_proposals *p, bool hit) {
  char name[NSR_SPACE_NAME_MAX];
  nsr_space_hypothesis_name(b->space, &exact->top[0], name, sizeof name);
  printf("diag\t%s\t", s->source);
  for (size_t i = 0; i < s->n; i++) printf("%s%u", i ? "," : "", s->x[i]);
  printf("\t%d\t%s\t%u\t%.4f\t%.4f\t%s\t%.4f\n", hit, name, exact->top[0].size, exact->top[0].posterior,
         p->n_top ? p->covered : 0.0, p->n_top ? top[0].name : "-", p->n_top ? top[0].posterior : 0.0);
}

/* The rank (from 1) of the exact MAP among the first k of the guide's
 * proposals from `draws` draws (seeded), in nsr_space_propose's order
 * (pooled importance weight), matched by its exact posterior and size; 0
 * when it is not among them or no draw explains X. Fills p (top: b's
 * scratch, k ≤ PROPOSE_DRAWS). */
static nsr_code map_rank(bench *b, const example_set *s, const nsr_numbers_result *exact, uint64_t draws,
                         uint64_t seed, size_t k, nsr_space_proposals *p, size_t *rank, nsr_error *err) {
  *p = (nsr_space_proposals){.top = b->proposals};
  *rank = 0;
  nsr_code rc = nsr_space_propose(b->space, s->x, s->n, &b->q, draws, seed, k, p, err);
  if (rc == NSR_ERR_INVALID) p->n_top = 0, rc = NSR_OK; /* no draw explains X: not recalled */
  const nsr_hypothesis *map = &exact->top[0];
  for (size_t i = 0; rc == NSR_OK && i < p->n_top && *rank == 0; i++) {
    const nsr_space_proposal *t = &p->top[i];
    if (t->size == map->size && fabs(t->posterior - map->posterior) <= 1e-9 * map->posterior) *rank = i + 1;
  }
  return rc;
}

/* The recall counts of one set's exact MAP (see the top). */
typedef struct recall {
  size_t top10;  /* among the top 10 of 1000 draws */
  size_t listed; /* among the top 10 nsr propose --space lists */
  size_t drawn;  /* among all distinct proposals of nsr propose --space's draws */
} recall;

static nsr_code map_recalled(bench *b, const example_set *s, const nsr_numbers_result *exact, recall *r,
                             nsr_error *err) {
  nsr_space_proposals p;
  size_t rank;
  nsr_code rc = map_rank(b, s, exact, 1000, BENCH_SEED, RECALL_K, &p, &rank, err);
  r->top10 += rank > 0;
  if (rc == NSR_OK && b->diagnose) diagnose_line(b, s, exact, p.top, &p, rank > 0);
  if (rc == NSR_OK) rc = map_rank(b, s, exact, PROPOSE_DRAWS, PROPOSE_SEED, PROPOSE_DRAWS, &p, &rank, err);
  r->listed += rank > 0 && rank <= RECALL_K;
  r->drawn += rank > 0;
  return rc;
}

static const double budgets[] = {0.01, 0.1, 1.0};
#define N_BUDGETS (sizeof budgets / sizeof budgets[0])

typedef struct exact_figures {
  double *reach[N_METHODS];           /* [sets] time to TARGET, +inf capped */
  double *at[N_METHODS][N_BUDGETS];   /* [equal_sets] error at equal time */
  double *query, *net;                /* [sets] */
  recall recalled;
} exact_figures;

static nsr_code measure_exact_set(bench *b, const example_set *s, size_t i, exact_figures *f, nsr_error *err) {
  nsr_numbers_result exact = {0};
  uint64_t start = nsr_now_ns();
  nsr_code rc = nsr_space_infer_grammar(b->space, s->x, s->n, 1, &exact, err);
  f->query[i] = nsr_seconds_since(start);
  if (rc == NSR_OK) rc = condition(b, s, err);
  f->net[i] = b->net_seconds;
  if (rc == NSR_OK) rc = map_recalled(b, s, &exact, &f->recalled, err);
  for (size_t m = 0; rc == NSR_OK && !b->diagnose && m < N_METHODS; m++) {
    rc = time_to_target(b, s, &methods[m], exact.generalization, BENCH_SEED + 1000 * i, &f->reach[m][i], err);
    for (size_t k = 0; rc == NSR_OK && i < b->equal_sets && k < N_BUDGETS; k++) {
      rc = error_at(b, s, &methods[m], exact.generalization, budgets[k], BENCH_SEED + 7 * i + k, &f->at[m][k][i],
                    err);
    }
  }
  nsr_numbers_result_free(&exact);
  return rc;
}

static void report_exact(const bench *b, exact_figures *f, size_t n) {
  printf("\nper query: exact grammar query median %.4g s; guide network median %.4g s\n",
         bench_median(f->query, n), bench_median(f->net, n));
  const recall *r = &f->recalled;
  printf("top-10 recall of the exact MAP among the guide's proposals (1000 draws): %.3f (%zu of %zu)\n",
         (double)r->top10 / (double)n, r->top10, n);
  printf("recall of the exact MAP among the top 10 nsr propose --space lists (%u draws, seed %u, by pooled "
         "weight, rescored exactly): %.3f (%zu of %zu); among all its distinct proposals (first once rescored "
         "exactly): %.3f (%zu of %zu)\n",
         PROPOSE_DRAWS, PROPOSE_SEED, (double)r->listed / (double)n, r->listed, n, (double)r->drawn / (double)n,
         r->drawn, n);
  if (b->diagnose) return;
  printf("\ntime to max |error| <= %.2g (cap %.3g s per run; guided includes the network):\n", TARGET, b->cap);
  for (size_t m = 0; m < N_METHODS; m++) {
    size_t capped = 0;
    for (size_t i = 0; i < n; i++) capped += isinf(f->reach[m][i]);
    printf("  %-20s", methods[m].name);
    print_seconds(" median", quantile(f->reach[m], n, 0.5), b->cap);
    print_seconds(", 90th percentile", quantile(f->reach[m], n, 0.9), b->cap);
    printf(", capped %zu of %zu\n", capped, n);
  }
  size_t k_sets = b->equal_sets < n ? b->equal_sets : n;
  if (k_sets == 0) return;
  printf("\nmedian max |error| at equal wall time (first %zu sets):\n", k_sets);
  for (size_t m = 0; m < N_METHODS; m++) {
    printf("  %-20s", methods[m].name);
    for (size_t k = 0; k < N_BUDGETS; k++) {
      printf("  %g s: %.4f", budgets[k], bench_median(f->at[m][k], k_sets));
    }
    putchar('\n');
  }
}

static nsr_code bench_exact(bench *b, const example_set *sets, size_t n, nsr_error *err) {
  exact_figures f = {0};
  double *all = nsr_calloc((N_METHODS * (1 + N_BUDGETS) + 2) * (n ? n : 1), sizeof *all);
  if (all == NULL) return nsr_fail(err, NSR_ERR_NOMEM, "out of memory");
  double *next = all;
  for (size_t m = 0; m < N_METHODS; m++) {
    f.reach[m] = next, next += n;
    for (size_t k = 0; k < N_BUDGETS; k++) f.at[m][k] = next, next += n;
  }
  f.query = next, next += n;
  f.net = next;
  nsr_code rc = NSR_OK;
  for (size_t i = 0; rc == NSR_OK && i < n; i++) {
    rc = measure_exact_set(b, &sets[i], i, &f, err);
    if (rc == NSR_OK && (i + 1) % 20 == 0) fprintf(stderr, "bench_guide: %zu of %zu sets\n", i + 1, n);
  }
  if (rc == NSR_OK) report_exact(b, &f, n);
  nsr_free(all);
  return rc;
}

/* ---- beyond enumeration: against a pooled reference ------------------------- */

typedef struct pooled_figures {
  double *agree;        /* [sets] max |guided pair mean − unguided pair mean| */
  double *within[2];    /* [kind][sets] max |chain 1 − chain 2| of a pair */
  double *spread[2][2]; /* [kind][budget 10 ms, 100 ms][sets] */
} pooled_figures;

/* The largest sd over y of SPREAD_RUNS independent chains of kind m, each
 * sized to `budget` seconds. */
static nsr_code spread_at(bench *b, const example_set *s, const method *m, double budget, uint64_t seed,
                          double *out, nsr_error *err) {
  double *sum = nsr_calloc(2 * (size_t)b->max, sizeof *sum), *sq = sum ? sum + b->max : NULL;
  if (sum == NULL) return nsr_fail(err, NSR_ERR_NOMEM, "out of memory");
  double t;
  bool failed;
  nsr_code rc = run_once(b, s, m, 2000, seed, &t, &failed, err);
  double net = m->guided ? b->net_seconds : 0.0;
  uint64_t samples = (uint64_t)fmax(100.0, (budget - net) * 2000 / fmax(t - net, 1e-9));
  for (int r = 0; rc == NSR_OK && r < SPREAD_RUNS; r++) {
    rc = run_once(b, s, m, samples, seed + 1 + (uint64_t)r, &t, &failed, err);
    for (uint32_t y = 0; y < b->max; y++) sum[y] += b->g[y], sq[y] += b->g[y] * b->g[y];
  }
  *out = 0.0;
  for (uint32_t y = 0; y < b->max; y++) {
    double mean = sum[y] / SPREAD_RUNS;
    *out = fmax(*out, sqrt(fmax(0.0, (sq[y] / SPREAD_RUNS - mean * mean) * SPREAD_RUNS / (SPREAD_RUNS - 1))));
  }
  nsr_free(sum);
  return rc;
}

/* Two long chains of kind (0 guided, 1 unguided) into pair[2][N]. */
static nsr_code long_pair(bench *b, const example_set *s, int kind, uint64_t seed, double *pair, nsr_error *err) {
  nsr_code rc = NSR_OK;
  for (int r = 0; rc == NSR_OK && r < 2; r++) {
    double t;
    bool failed;
    rc = run_once(b, s, &methods[kind], REF_SAMPLES, seed + (uint64_t)r, &t, &failed, err);
    for (uint32_t y = 0; rc == NSR_OK && y < b->max; y++) pair[r * b->max + y] = failed ? 0.0 : b->g[y];
  }
  return rc;
}

/* The agreement and within-pair figures of set i from the long pairs. */
static void pair_figures(const bench *b, const double *pair[2], size_t i, pooled_figures *f) {
  f->agree[i] = 0.0;
  for (int k = 0; k < 2; k++) f->within[k][i] = max_abs_diff(pair[k], pair[k] + b->max, b->max);
  for (uint32_t y = 0; y < b->max; y++) {
    double g = (pair[0][y] + pair[0][b->max + y]) / 2, u = (pair[1][y] + pair[1][b->max + y]) / 2;
    f->agree[i] = fmax(f->agree[i], fabs(g - u));
  }
}

static nsr_code bench_pooled(bench *b, const example_set *sets, size_t n, nsr_error *err) {
  pooled_figures f;
  size_t rows = n ? n : 1;
  double *all = nsr_calloc(8 * rows + 4 * (size_t)b->max, sizeof *all);
  if (all == NULL) return nsr_fail(err, NSR_ERR_NOMEM, "out of memory");
  f.agree = all, f.within[0] = all + rows, f.within[1] = all + 2 * rows;
  for (int k = 0; k < 2; k++) f.spread[k][0] = all + (3 + 2 * (size_t)k) * rows, f.spread[k][1] = f.spread[k][0] + rows;
  double *net = all + 7 * rows, *pairs = all + 8 * rows;
  const double *pair[2] = {pairs, pairs + 2 * (size_t)b->max};
  nsr_code rc = NSR_OK;
  for (size_t i = 0; rc == NSR_OK && i < n; i++) {
    rc = condition(b, &sets[i], err);
    net[i] = b->net_seconds;
    for (int k = 0; rc == NSR_OK && k < 2; k++) {
      rc = long_pair(b, &sets[i], k, BENCH_SEED + 100 * i + 10 * (uint64_t)k, pairs + 2 * (size_t)k * b->max, err);
    }
    if (rc == NSR_OK) pair_figures(b, pair, i, &f);
    for (int k = 0; rc == NSR_OK && k < 2; k++) {
      for (int t = 0; rc == NSR_OK && t < 2; t++) {
        rc = spread_at(b, &sets[i], &methods[k], budgets[t], BENCH_SEED + 100 * i + 50 + 10 * (uint64_t)t,
                       &f.spread[k][t][i], err);
      }
    }
    if (rc == NSR_OK && (i + 1) % 20 == 0) fprintf(stderr, "bench_guide: %zu of %zu sets\n", i + 1, n);
  }
  if (rc == NSR_OK) {
    printf("\nguide network median %.4g s per query\n", bench_median(net, n));
    double agree90 = quantile(f.agree, n, 0.9);
    printf("chains of %u samples: max |guided pair mean - unguided pair mean| median %.4f, 90th percentile %.4f;\n"
           "max |chain 1 - chain 2| within a pair, median: guided %.4f, unguided %.4f\n",
           REF_SAMPLES, bench_median(f.agree, n), agree90, bench_median(f.within[0], n),
           bench_median(f.within[1], n));
    for (int t = 0; t < 2; t++) {
      double g = bench_median(f.spread[0][t], n), u = bench_median(f.spread[1][t], n);
      printf("median max sd across %d independent chains at %g s: guided %.4f, unguided %.4f; "
             "time ratio for equal sd (unguided/guided, (sd_u/sd_g)^2) %.3g\n",
             SPREAD_RUNS, budgets[t], g, u, (u / g) * (u / g));
    }
  }
  nsr_free(all);
  return rc;
}

/* ---- main ------------------------------------------------------------------- */

typedef struct bench_args {
  const char *space, *guide, *human;
  size_t sets;
  double cap;
  size_t equal;
  uint64_t seed;
  bool diagnose;
} bench_args;

static int parse_args(int argc, char **argv, bench_args *a) {
  *a = (bench_args){.sets = 200, .cap = 1.0, .equal = 30, .seed = BENCH_SEED};
  if (argc < 3) return 2;
  a->space = argv[1], a->guide = argv[2];
  int end = argc;
  if (argc > 3 && strcmp(argv[argc - 1], "--diagnose") == 0) a->diagnose = true, end--;
  for (int i = 3; i + 1 < end; i += 2) {
    if (strcmp(argv[i], "--sets") == 0) a->sets = strtoul(argv[i + 1], NULL, 10);
    else if (strcmp(argv[i], "--cap") == 0) a->cap = strtod(argv[i + 1], NULL);
    else if (strcmp(argv[i], "--equal") == 0) a->equal = strtoul(argv[i + 1], NULL, 10);
    else if (strcmp(argv[i], "--human") == 0) a->human = argv[i + 1];
    else if (strcmp(argv[i], "--seed") == 0) a->seed = strtoull(argv[i + 1], NULL, 10);
    else return 2;
  }
  return (end - 3) % 2 ? 2 : 0;
}

static nsr_code collect_sets(nsr_space *space, const bench_args *a, double *g, example_set *sets, size_t *n,
                             nsr_error *err) {
  size_t skipped = 0;
  *n = 0;
  nsr_code rc = add_heldout(space, a->sets, a->seed, g, sets, n, &skipped, err);
  size_t held = *n;
  char path[4096];
  if (rc == NSR_OK && a->human) {
    snprintf(path, sizeof path, "%s/tenenbaum_generalization.csv", a->human);
    rc = add_human(path, NULL, nsr_space_max(space), "tenenbaum", sets, n, err);
  }
  if (rc == NSR_OK && a->human) {
    snprintf(path, sizeof path, "%s/bigelow_piantadosi_2016.csv", a->human);
    rc = add_human(path, "test", nsr_space_max(space), "bigelow-test", sets, n, err);
  }
  if (rc == NSR_OK) {
    printf("sets: %zu held-out from the prior (seed %llu; %zu skipped: no grammar expression explains them), "
           "%zu human\n", held, (unsigned long long)a->seed, skipped, *n - held);
  }
  return rc;
}

int main(int argc, char **argv) {
  bench_args a;
  if (parse_args(argc, argv, &a) != 0) {
    fprintf(stderr, "usage: bench_guide SPACE.json GUIDE.safetensors [--sets N] [--cap S] [--equal K] "
                    "[--human DIR] [--seed S] [--diagnose]\n");
    return 2;
  }
  nsr_error err;
  bench b = {.cap = a.cap, .equal_sets = a.equal, .diagnose = a.diagnose};
  uint64_t start = nsr_now_ns();
  if (nsr_space_load(a.space, false, &b.space, &err) != NSR_OK) return fail(&err);
  double build = nsr_seconds_since(start);
  b.max = nsr_space_max(b.space);
  bool enumerated = nsr_space_extensions(b.space) > 0;
  if (nsr_guide_load(a.guide, b.space, 1, &b.guide, &err) != NSR_OK) return fail(&err);
  struct stat st;
  printf("space %s: range 1..%u, %zu extensions, built in %.3g s; guide %s, %lld bytes\n", a.space, b.max,
         nsr_space_extensions(b.space), build, a.guide, stat(a.guide, &st) == 0 ? (long long)st.st_size : -1LL);
  b.q.rows = nsr_space_guide_contexts(b.space);
  b.log_q = nsr_mallocarray(b.q.rows * nsr_space_productions(b.space), sizeof *b.log_q);
  b.g = nsr_mallocarray(b.max, sizeof *b.g);
  b.proposals = nsr_mallocarray(PROPOSE_DRAWS, sizeof *b.proposals);
  example_set *sets = nsr_calloc(MAX_SETS, sizeof *sets);
  if (b.log_q == NULL || b.g == NULL || b.proposals == NULL || sets == NULL) return fprintf(stderr, "bench_guide: out of memory\n"), 1;
  b.q.log_q = b.log_q;
  size_t n = 0;
  nsr_code rc = collect_sets(b.space, &a, b.g, sets, &n, &err);
  if (rc == NSR_OK) rc = enumerated ? bench_exact(&b, sets, n, &err) : bench_pooled(&b, sets, n, &err);
  nsr_free(sets);
  nsr_free(b.proposals);
  nsr_free(b.g);
  nsr_free(b.log_q);
  nsr_guide_free(b.guide);
  nsr_space_free(b.space);
  return rc == NSR_OK ? 0 : fail(&err);
}
