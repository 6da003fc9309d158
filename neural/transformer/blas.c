/* blas.c: per-thread OpenBLAS instances for the encoder (see blas.h). */
#if defined(__linux__)
#define _GNU_SOURCE /* dlmopen, dladdr, before any header */
#endif
#include "blas.h"

#include <assert.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#if defined(__GLIBC__)
#include <dlfcn.h>
#define NN_HAVE_DLMOPEN 1
#else
#define NN_HAVE_DLMOPEN 0
#endif

typedef void (*sgemm_fn)(CBLAS_ORDER, CBLAS_TRANSPOSE, CBLAS_TRANSPOSE,
                         blasint, blasint, blasint, float, const float *,
                         blasint, const float *, blasint, float, float *,
                         blasint);
typedef void (*sgemv_fn)(CBLAS_ORDER, CBLAS_TRANSPOSE, blasint, blasint,
                         float, const float *, blasint, const float *, blasint,
                         float, float *, blasint);

typedef struct blas_instance {
  sgemm_fn sgemm;
  sgemv_fn sgemv;
} blas_instance;

/* The process's own instance, which thread 0 and unbound threads use. */
static const blas_instance shared_instance = {cblas_sgemm, cblas_sgemv};

static _Thread_local const blas_instance *thread_instance;

static pthread_mutex_t private_lock = PTHREAD_MUTEX_INITIALIZER;
/* Slot i (1..NN_BLAS_PRIVATE_MAX), loaded when its sgemm is not NULL;
 * written under the lock. */
static blas_instance private_instances[NN_BLAS_PRIVATE_MAX + 1];
/* Why loading failed, once it has; later binds do not retry. */
static const char *private_refusal;

static inline const blas_instance *current(void) {
  return thread_instance != NULL ? thread_instance : &shared_instance;
}

void nn_sgemm(CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, int m, int n, int k,
              float alpha, const float *a, int lda, const float *b, int ldb,
              float beta, float *c, int ldc) {
  current()->sgemm(CblasRowMajor, ta, tb, m, n, k, alpha, a, lda, b, ldb,
                   beta, c, ldc);
}

void nn_sgemv(CBLAS_TRANSPOSE ta, int m, int n, float alpha, const float *a,
              int lda, const float *x, int incx, float beta, float *y,
              int incy) {
  current()->sgemv(CblasRowMajor, ta, m, n, alpha, a, lda, x, incx, beta, y,
                   incy);
}

#if NN_HAVE_DLMOPEN
/* Loads a new instance of the library file that holds the process's
 * cblas_sgemm into a namespace of its own and fills *out. Needs the
 * lock. Returns NULL, or why not (a static string). The handle is never
 * closed: the instance lives as long as the process. */
static const char *load_instance(blas_instance *out) {
  Dl_info info;
  if (dladdr((void *)cblas_sgemm, &info) == 0 || info.dli_fname == NULL) {
    return "cannot find the file OpenBLAS was loaded from";
  }
  void *lib = dlmopen(LM_ID_NEWLM, info.dli_fname, RTLD_NOW | RTLD_LOCAL);
  if (lib == NULL) return "dlmopen refused OpenBLAS (statically linked, or no namespace left)";
  /* dlsym returns object pointers; POSIX guarantees they convert to
   * function pointers, which C17 alone does not say. */
  sgemm_fn sgemm;
  sgemv_fn sgemv;
  void (*set_threads)(int);
  char *(*corename)(void);
  void *sym;
  sym = dlsym(lib, "cblas_sgemm");
  memcpy(&sgemm, &sym, sizeof sym);
  sym = dlsym(lib, "cblas_sgemv");
  memcpy(&sgemv, &sym, sizeof sym);
  sym = dlsym(lib, "openblas_set_num_threads");
  memcpy(&set_threads, &sym, sizeof sym);
  sym = dlsym(lib, "openblas_get_corename");
  memcpy(&corename, &sym, sizeof sym);
  if (sgemm == NULL || sgemv == NULL || set_threads == NULL || corename == NULL) {
    dlclose(lib); /* nothing of it ran yet but its constructor */
    return "the loaded library lacks OpenBLAS's entry points";
  }
  /* Same kernels, or 1 and 2 threads would round differently. */
  if (strcmp(corename(), openblas_get_corename()) != 0) {
    dlclose(lib);
    return "the new instance picked other kernels than the process's";
  }
  set_threads(1);
  /* Its constructor started idle server threads, which spin in
   * sched_yield for about a tenth of a second; with one thread it never
   * needs them. An optional internal entry point: skipped if absent. */
  sym = dlsym(lib, "blas_thread_shutdown_");
  if (sym != NULL) {
    int (*shutdown)(void);
    memcpy(&shutdown, &sym, sizeof sym);
    shutdown();
  }
  *out = (blas_instance){sgemm, sgemv};
  return NULL;
}
#else
static const char *load_instance(blas_instance *out) {
  (void)out;
  return "this C library has no dlmopen";
}
#endif

static bool private_wanted(void) {
  const char *env = getenv("NSR_NN_PRIVATE_BLAS");
  return env == NULL || strcmp(env, "0") != 0;
}

bool nn_blas_load(int slot) {
  if (slot < 1 || slot > NN_BLAS_PRIVATE_MAX || !private_wanted()) return false;
  pthread_mutex_lock(&private_lock);
  blas_instance *instance = &private_instances[slot];
  if (instance->sgemm == NULL && private_refusal == NULL) {
    private_refusal = load_instance(instance);
  }
  bool loaded = instance->sgemm != NULL;
  pthread_mutex_unlock(&private_lock);
  return loaded;
}

/* A slot's instance is written once, by nn_blas_load, before the thread
 * that binds it starts: read without the lock. */
void nn_blas_bind(int slot) {
  thread_instance = slot == 0 ? NULL : &private_instances[slot];
  assert((slot == 0 || thread_instance->sgemm != NULL) &&
         "bind only an instance nn_blas_load gave");
}

bool nn_blas_thread_private(void) { return thread_instance != NULL; }

const char *nn_blas_refusal(void) {
  pthread_mutex_lock(&private_lock);
  const char *why = private_refusal;
  pthread_mutex_unlock(&private_lock);
  return why;
}
