/* dist.h: the processes of an MPI job (issue 9: data-parallel training,
 * batch inference and fitting over several processes).
 *
 * Only dist.c includes mpi.h. Without MPI (built with NSR_MPI=disabled or
 * without Open MPI/MPICH found, or not started by an MPI launcher) every
 * function behaves as a job of one process: rank 0 of 1, reductions leave
 * the buffer as it is, gathers return the caller's own part. Collectives
 * must be called by every rank in the same order. */
#ifndef NSR_DIST_H
#define NSR_DIST_H

#include "nsr.h"
#include "nsr_learn.h"

/* Joins the MPI job when the process was started by an MPI launcher
 * (mpirun, mpiexec, srun), else stays a single process. Call once, first. */
nsr_code nsr_dist_init(int *argc, char ***argv, nsr_error *err);
/* Leaves the job. `exit_code` is the command's: a failure (not a usage
 * error, which every rank meets alike) aborts the whole job so no rank
 * waits forever in a collective the failed rank never reaches. */
void nsr_dist_finalize(int exit_code);

int nsr_dist_rank(void);
int nsr_dist_size(void);
bool nsr_dist_is_root(void); /* rank 0: reads input, writes output */

/* Sums values[0..n) over every rank, in place: each rank gets the total. */
nsr_code nsr_dist_sum_floats(float *values, size_t n, nsr_error *err);
nsr_code nsr_dist_sum_doubles(double *values, size_t n, nsr_error *err);
/* Copies rank 0's buf[0..bytes) to every rank. */
nsr_code nsr_dist_broadcast(void *buf, size_t bytes, nsr_error *err);
/* Concatenates every rank's part, in rank order, at rank 0: *all (freed by
 * the caller with nsr_free; NULL when empty) and *all_len. Other ranks get
 * NULL and 0. */
nsr_code nsr_dist_gather(const void *part, size_t bytes, char **all, size_t *all_len,
                         nsr_error *err);

/* The job as `nsr train`'s data-parallel hooks (size 1: no split). */
void nsr_dist_train_hooks(nsr_train_parallel *out);
/* The job as the fitting's hooks (cross-validation folds split by rank). */
void nsr_dist_fit_hooks(nsr_fit_options *opt);

#endif
