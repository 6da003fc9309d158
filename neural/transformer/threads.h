/* threads.h: a small persistent pool of worker threads for the encoder.
 *
 * The pool runs one function on every thread at once (the caller is thread
 * 0), SPMD style: each thread picks its own share of the work by its index,
 * and nn_pool_barrier() separates the phases that read what another thread
 * wrote. Each worker makes its matrix products on an OpenBLAS instance of
 * its own (blas.h): on the process's one, threads released together by a
 * barrier collide on OpenBLAS's allocator lock. Workers are created once
 * and wait between runs by spinning briefly and then blocking, so that
 * back-to-back calls (a forward pass is a few hundred microseconds) do not
 * pay a wake-up each. Work is shared out by fixed index ranges, so a given
 * thread count always computes every value the same way. */
#ifndef NSR_NN_THREADS_H
#define NSR_NN_THREADS_H

#include <stddef.h>

#include "nsr_core.h"

typedef struct nn_pool nn_pool;

/* The work of one run: called as fn(ctx, tid, n_threads) on every thread. */
typedef void (*nn_pool_fn)(void *ctx, int tid, int n_threads);

/* Makes a pool of n_threads threads in all (the caller and n_threads - 1
 * workers), 2 <= n_threads <= NN_POOL_MAX. Caller frees with nn_pool_free. */
#define NN_POOL_MAX 64
nsr_code nn_pool_create(int n_threads, nn_pool **out, nsr_error *err);
/* Stops and joins the workers and frees the pool; NULL is allowed. */
void nn_pool_free(nn_pool *pool);
int nn_pool_size(const nn_pool *pool);
/* How many of the pool's workers make their products on an OpenBLAS
 * instance of their own (blas.h); 0 for a NULL pool. */
int nn_pool_private_blas(const nn_pool *pool);

/* Runs fn on every thread of the pool and returns when all have finished.
 * With pool NULL, runs fn(ctx, 0, 1) on the caller. Not reentrant: one run
 * at a time per pool. */
void nn_pool_run(nn_pool *pool, nn_pool_fn fn, void *ctx);
/* Inside a run: returns once every thread has reached it. No-op for a NULL
 * pool. */
void nn_pool_barrier(nn_pool *pool);

/* Thread tid's share [*lo, *hi) of `total` items split into n_threads
 * contiguous ranges whose sizes differ by at most one. */
void nn_split(size_t total, int tid, int n_threads, size_t *lo, size_t *hi);

/* The thread count the encoder uses when asked for 0 ("auto"): the
 * environment variable NSR_NN_THREADS when it holds a number in
 * 1..NN_POOL_MAX, else the online CPUs, at most 2. */
int nn_auto_threads(void);

#endif
