/* dist.c: the MPI job behind dist.h, or a job of one process when built
 * without MPI or started without a launcher. */
#include "dist.h"

#include <assert.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "nsr_config.h"

/* A job of one: the whole is the caller's own part, copied. */
static nsr_code gather_self(const void *part, size_t bytes, char **all, size_t *all_len,
                            nsr_error *err) {
  *all = NULL;
  *all_len = 0;
  if (bytes == 0) return NSR_OK;
  if ((*all = nsr_malloc(bytes)) == NULL) return nsr_fail(err, NSR_ERR_NOMEM, "gather: out of memory");
  memcpy(*all, part, bytes);
  *all_len = bytes;
  return NSR_OK;
}

#if NSR_HAVE_MPI
#include <mpi.h>

/* MPI counts are int: buffers go in pieces of at most this many items. */
#define PIECE (1 << 30)

static bool joined; /* MPI_Init ran: finalize it */
static int rank, size = 1;

/* Whether an MPI launcher started us: Open MPI, Hydra (MPICH, Intel MPI)
 * and PMIx launchers (srun, prterun) each leave their mark. Started alone,
 * we stay single without paying for MPI_Init's singleton start-up. */
static bool under_launcher(void) {
  static const char *const marks[] = {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK"};
  for (size_t i = 0; i < sizeof marks / sizeof marks[0]; i++) {
    if (getenv(marks[i]) != NULL) return true;
  }
  return false;
}

nsr_code nsr_dist_init(int *argc, char ***argv, nsr_error *err) {
  if (joined || !under_launcher()) return NSR_OK;
  if (MPI_Init(argc, argv) != MPI_SUCCESS) return nsr_fail(err, NSR_ERR_IO, "MPI_Init failed");
  joined = true;
  /* MPI's default handler (MPI_ERRORS_ARE_FATAL) aborts on a failed call,
   * so these cannot return an error. */
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  return NSR_OK;
}

void nsr_dist_finalize(int exit_code) {
  if (!joined) return;
  if (exit_code != CLI_EXIT_OK && exit_code != CLI_EXIT_USAGE && size > 1) MPI_Abort(MPI_COMM_WORLD, exit_code);
  MPI_Finalize();
  joined = false;
  rank = 0;
  size = 1;
}

/* Sums n items of `type` (elem bytes each) in place, piece by piece. */
static nsr_code sum_in_place(void *values, size_t n, size_t elem, MPI_Datatype type,
                             nsr_error *err) {
  for (size_t at = 0; size > 1 && at < n; at += PIECE) {
    int count = n - at < PIECE ? (int)(n - at) : PIECE;
    if (MPI_Allreduce(MPI_IN_PLACE, (char *)values + at * elem, count, type, MPI_SUM,
                      MPI_COMM_WORLD) != MPI_SUCCESS) {
      return nsr_fail(err, NSR_ERR_IO, "MPI_Allreduce of %zu values failed", n);
    }
  }
  return NSR_OK;
}

nsr_code nsr_dist_sum_floats(float *values, size_t n, nsr_error *err) {
  return sum_in_place(values, n, sizeof *values, MPI_FLOAT, err);
}

nsr_code nsr_dist_sum_doubles(double *values, size_t n, nsr_error *err) {
  return sum_in_place(values, n, sizeof *values, MPI_DOUBLE, err);
}

nsr_code nsr_dist_broadcast(void *buf, size_t bytes, nsr_error *err) {
  for (size_t at = 0; size > 1 && at < bytes; at += PIECE) {
    int count = bytes - at < PIECE ? (int)(bytes - at) : PIECE;
    if (MPI_Bcast((char *)buf + at, count, MPI_BYTE, 0, MPI_COMM_WORLD) != MPI_SUCCESS) {
      return nsr_fail(err, NSR_ERR_IO, "MPI_Bcast of %zu bytes failed", bytes);
    }
  }
  return NSR_OK;
}

/* Ends the whole job from rank 0 when a gather cannot go on: the other
 * ranks already wait in it, so returning an error would leave them hung. */
static _Noreturn void abort_job(const char *why) {
  fprintf(stderr, "nsr: %s; aborting the MPI job\n", why);
  MPI_Abort(MPI_COMM_WORLD, 1);
  abort(); /* MPI_Abort does not return; this tells the compiler so */
}

/* At rank 0: every rank's count and displacement from their sizes, and the
 * buffer for the whole (nsr_malloc'd, NULL when empty). */
static char *gather_layout(const unsigned long long *sizes, int *counts, int *displs,
                           size_t *total) {
  assert(sizes && counts && displs && "rank 0 allocated the gather layout");
  *total = 0;
  for (int r = 0; r < size; r++) {
    if (sizes[r] > (unsigned long long)INT_MAX - *total) abort_job("gathering more than INT_MAX bytes");
    counts[r] = (int)sizes[r];
    displs[r] = (int)*total;
    *total += sizes[r];
  }
  char *all = *total ? nsr_malloc(*total) : NULL;
  if (*total && all == NULL) abort_job("gather: out of memory");
  return all;
}

nsr_code nsr_dist_gather(const void *part, size_t bytes, char **all, size_t *all_len,
                         nsr_error *err) {
  if (size == 1) return gather_self(part, bytes, all, all_len, err);
  *all = NULL;
  *all_len = 0;
  if (bytes > INT_MAX) return nsr_fail(err, NSR_ERR_RANGE, "gathering %zu bytes from one rank", bytes);
  unsigned long long mine = bytes, *sizes = NULL;
  int *counts = NULL, *displs = NULL;
  if (rank == 0) {
    sizes = nsr_mallocarray((size_t)size, sizeof *sizes);
    counts = nsr_mallocarray((size_t)size, sizeof *counts);
    displs = nsr_mallocarray((size_t)size, sizeof *displs);
    if (!sizes || !counts || !displs) abort_job("gather: out of memory");
  }
  nsr_code rc = NSR_OK;
  if (MPI_Gather(&mine, 1, MPI_UNSIGNED_LONG_LONG, sizes, 1, MPI_UNSIGNED_LONG_LONG, 0,
                 MPI_COMM_WORLD) != MPI_SUCCESS) {
    rc = nsr_fail(err, NSR_ERR_IO, "MPI_Gather failed");
  }
  size_t total = 0;
  if (rc == NSR_OK && rank == 0) *all = gather_layout(sizes, counts, displs, &total);
  if (rc == NSR_OK && MPI_Gatherv(part, (int)bytes, MPI_BYTE, *all, counts, displs, MPI_BYTE, 0,
                                  MPI_COMM_WORLD) != MPI_SUCCESS) {
    rc = nsr_fail(err, NSR_ERR_IO, "MPI_Gatherv failed");
  }
  *all_len = rc == NSR_OK ? total : 0;
  nsr_free(sizes);
  nsr_free(counts);
  nsr_free(displs);
  return rc;
}

int nsr_dist_rank(void) { return rank; }
int nsr_dist_size(void) { return size; }

#else /* one process */

nsr_code nsr_dist_init(int *argc, char ***argv, nsr_error *err) {
  (void)argc;
  (void)argv;
  (void)err;
  /* Started by mpirun without MPI built in, every copy would do the whole
   * job (and write the same files): say so once. */
  const char *n = getenv("OMPI_COMM_WORLD_SIZE"), *r = getenv("OMPI_COMM_WORLD_RANK");
  if (n && strcmp(n, "1") != 0 && r && strcmp(r, "0") == 0) {
    fprintf(stderr, "nsr: warning: built without MPI (NSR_MPI=disabled or not found): each of the %s "
                    "processes runs the whole command\n", n);
  }
  return NSR_OK;
}

void nsr_dist_finalize(int exit_code) { (void)exit_code; }

nsr_code nsr_dist_sum_floats(float *values, size_t n, nsr_error *err) {
  (void)values;
  (void)n;
  (void)err;
  return NSR_OK;
}

nsr_code nsr_dist_sum_doubles(double *values, size_t n, nsr_error *err) {
  (void)values;
  (void)n;
  (void)err;
  return NSR_OK;
}

nsr_code nsr_dist_broadcast(void *buf, size_t bytes, nsr_error *err) {
  (void)buf;
  (void)bytes;
  (void)err;
  return NSR_OK;
}

nsr_code nsr_dist_gather(const void *part, size_t bytes, char **all, size_t *all_len,
                         nsr_error *err) {
  return gather_self(part, bytes, all, all_len, err);
}

int nsr_dist_rank(void) { return 0; }
int nsr_dist_size(void) { return 1; }

#endif

bool nsr_dist_is_root(void) { return nsr_dist_rank() == 0; }

static nsr_code train_sum_floats(void *ctx, float *values, size_t n, nsr_error *err) {
  (void)ctx;
  return nsr_dist_sum_floats(values, n, err);
}

static nsr_code train_sum_doubles(void *ctx, double *values, size_t n, nsr_error *err) {
  (void)ctx;
  return nsr_dist_sum_doubles(values, n, err);
}

void nsr_dist_train_hooks(nsr_train_parallel *out) {
  *out = (nsr_train_parallel){0};
  if (nsr_dist_size() < 2) return;
  *out = (nsr_train_parallel){.rank = nsr_dist_rank(), .size = nsr_dist_size(),
                              .sum_floats = train_sum_floats, .sum_doubles = train_sum_doubles};
}

/* The fitting's reduce hook returns nothing: a failed MPI call has already
 * aborted the job (MPI_ERRORS_ARE_FATAL, MPI's default). */
static void fit_reduce(void *ctx, double *values, size_t n) {
  (void)ctx;
  nsr_error err;
  nsr_error_clear(&err);
  if (nsr_dist_sum_doubles(values, n, &err) != NSR_OK) abort();
}

void nsr_dist_fit_hooks(nsr_fit_options *opt) {
  if (nsr_dist_size() < 2) return;
  opt->part_rank = nsr_dist_rank();
  opt->part_size = nsr_dist_size();
  opt->reduce = fit_reduce;
}
