/* blas.h: the encoder's matrix products, each thread on its own OpenBLAS.
 *
 * OpenBLAS 0.3.21 (Debian 12) allocates a work buffer for every sgemm call
 * from one process-wide table under one mutex. When the pool's threads
 * call it at once, that mutex and table move between the cores several
 * times a call: a 16x16x32 product takes 0.36 us on one thread and
 * 1.0-1.3 us on each of two (tests/bench/RESULTS.md). A worker
 * therefore loads a private instance of the same library file into a
 * link-map namespace of its own (glibc's dlmopen), with its own globals,
 * and makes its products there; the calling thread (thread 0) keeps the
 * process's instance. The instance has the same code and the kernels the
 * same OPENBLAS_CORETYPE picks, checked by core name, so results do not
 * depend on which instance ran a product.
 *
 * Instances are loaded once per worker index, shared by every pool's
 * worker of that index, and stay until the process exits: threads of any
 * pool may be inside them. Where they cannot be had (no dlmopen, OpenBLAS
 * linked statically, namespaces exhausted, NSR_NN_PRIVATE_BLAS=0), the
 * worker uses the process's instance, which gives the same results. */
#ifndef NSR_NN_BLAS_H
#define NSR_NN_BLAS_H

#include <cblas.h>
#include <stdbool.h>

/* At most this many private instances (glibc has 16 namespaces in all,
 * and every one takes static TLS). Workers past it share the process's. */
#define NN_BLAS_PRIVATE_MAX 7

/* cblas_sgemm and cblas_sgemv in row-major order, made by the calling
 * thread's instance. */
void nn_sgemm(CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, int m, int n, int k,
              float alpha, const float *a, int lda, const float *b, int ldb,
              float beta, float *c, int ldc);
void nn_sgemv(CBLAS_TRANSPOSE ta, int m, int n, float alpha, const float *a,
              int lda, const float *x, int incx, float beta, float *y,
              int incy);

/* Makes private instance `slot` (1..NN_BLAS_PRIVATE_MAX) ready, loading
 * it on first use (a few milliseconds). Returns false when it cannot be
 * had: slot out of range, NSR_NN_PRIVATE_BLAS=0, or loading failed now or
 * before (nn_blas_refusal says why). Thread-safe. */
bool nn_blas_load(int slot);
/* Makes the calling thread's products run on instance `slot`, which
 * nn_blas_load returned true for, or with 0 on the process's. */
void nn_blas_bind(int slot);
/* Whether the calling thread makes its products on a private instance. */
bool nn_blas_thread_private(void);
/* Why private instances could not be loaded (a static string), or NULL. */
const char *nn_blas_refusal(void);

#endif
