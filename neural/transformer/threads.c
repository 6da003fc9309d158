/* threads.c: the encoder's worker pool (see threads.h). */
#include "threads.h"
#include "blas.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

/* How long a waiting thread polls before it blocks: some tens of
 * microseconds, longer than the gaps between a forward pass's phases and
 * between back-to-back calls, short enough that a thread whose partner was
 * descheduled (a loaded machine) soon gives its core away. */
#define NN_SPIN_ROUNDS 4000
#define NN_YIELD_ROUNDS 16

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

/* A generation barrier: the last of n arrivals bumps `generation`; the
 * others poll it for a while, then sleep on the condition variable. The
 * last arrival takes the mutex and broadcasts only when some thread
 * sleeps: when both sides spin, as between the phases of a pass, a barrier
 * costs no system call. */
typedef struct nn_barrier {
  atomic_int arrived;
  atomic_uint generation;
  atomic_int sleepers;  /* threads between announcing a sleep and waking */
  atomic_int n; /* changes only when starting workers fails */
  pthread_mutex_t mutex;
  pthread_cond_t cond;
} nn_barrier;

/* Sleeps until the generation moves on from gen. A sleeper announces
 * itself before it checks the generation, and the last arrival bumps the
 * generation before it reads `sleepers` (both sequentially consistent):
 * so either the sleeper sees the new generation, or the last arrival sees
 * the sleeper and broadcasts under the mutex, which the sleeper holds
 * from its check until cond_wait releases it. */
static void barrier_sleep(nn_barrier *b, unsigned gen) {
  pthread_mutex_lock(&b->mutex);
  atomic_fetch_add(&b->sleepers, 1);
  while (atomic_load(&b->generation) == gen) {
    pthread_cond_wait(&b->cond, &b->mutex);
  }
  atomic_fetch_sub(&b->sleepers, 1);
  pthread_mutex_unlock(&b->mutex);
}

static void barrier_wait(nn_barrier *b) {
  unsigned gen = atomic_load_explicit(&b->generation, memory_order_acquire);
  if (atomic_fetch_add_explicit(&b->arrived, 1, memory_order_acq_rel) ==
      atomic_load_explicit(&b->n, memory_order_relaxed) - 1) {
    atomic_store_explicit(&b->arrived, 0, memory_order_relaxed);
    atomic_fetch_add(&b->generation, 1);
    if (atomic_load(&b->sleepers) > 0) {
      pthread_mutex_lock(&b->mutex);
      pthread_cond_broadcast(&b->cond);
      pthread_mutex_unlock(&b->mutex);
    }
    return;
  }
  for (int i = 0; i < NN_SPIN_ROUNDS; i++) {
    if (atomic_load_explicit(&b->generation, memory_order_acquire) != gen) return;
    cpu_relax();
  }
  /* On a busy machine the thread awaited may be queued behind this one:
   * give it the core a few times before paying a sleep and a wake-up. */
  for (int i = 0; i < NN_YIELD_ROUNDS; i++) {
    if (atomic_load_explicit(&b->generation, memory_order_acquire) != gen) return;
    sched_yield();
  }
  barrier_sleep(b, gen);
}

typedef struct nn_worker {
  nn_pool *pool;
  int tid;
  int blas_slot; /* its private OpenBLAS instance (blas.h), or 0 */
} nn_worker;

struct nn_pool {
  int n;
  nn_barrier barrier; /* starts and ends runs, and the phases inside */
  nn_pool_fn fn;      /* the current run; written before the start barrier */
  void *ctx;
  bool stop;          /* set before a start barrier: workers return */
  pthread_t threads[NN_POOL_MAX];
  nn_worker workers[NN_POOL_MAX];
  int started;        /* workers created */
};

/* A worker: waits for a run, does its share, waits for the others. */
static void *worker_main(void *arg) {
  nn_worker *w = arg;
  nn_pool *p = w->pool;
  nn_blas_bind(w->blas_slot);
  for (;;) {
    barrier_wait(&p->barrier);
    if (p->stop) return NULL;
    p->fn(p->ctx, w->tid, p->n);
    barrier_wait(&p->barrier);
  }
}

void nn_pool_run(nn_pool *p, nn_pool_fn fn, void *ctx) {
  if (p == NULL) {
    fn(ctx, 0, 1);
    return;
  }
  p->fn = fn;
  p->ctx = ctx;
  barrier_wait(&p->barrier);
  fn(ctx, 0, p->n);
  barrier_wait(&p->barrier);
}

void nn_pool_barrier(nn_pool *p) {
  if (p != NULL) barrier_wait(&p->barrier);
}

int nn_pool_size(const nn_pool *p) { return p ? p->n : 1; }

int nn_pool_private_blas(const nn_pool *p) {
  int count = 0;
  for (int i = 0; p != NULL && i < p->n - 1; i++) count += p->workers[i].blas_slot != 0;
  return count;
}


/* Stops the workers started so far, which wait at the start barrier, and
 * joins them. */
static void stop_workers(nn_pool *p) {
  if (p->started == 0) return;
  p->stop = true;
  barrier_wait(&p->barrier);
  for (int i = 0; i < p->started; i++) pthread_join(p->threads[i], NULL);
}

nsr_code nn_pool_create(int n_threads, nn_pool **out, nsr_error *err) {
  *out = NULL;
  if (n_threads < 2 || n_threads > NN_POOL_MAX) {
    return nsr_fail(err, NSR_ERR_INVALID,
                    "encoder threads: a pool needs 2..%d threads, not %d",
                    NN_POOL_MAX, n_threads);
  }
  nn_pool *p = nsr_calloc(1, sizeof *p);
  if (p == NULL) {
    return nsr_fail(err, NSR_ERR_NOMEM, "encoder threads: out of memory");
  }
  p->n = n_threads;
  atomic_init(&p->barrier.arrived, 0);
  atomic_init(&p->barrier.generation, 0u);
  atomic_init(&p->barrier.sleepers, 0);
  pthread_mutex_init(&p->barrier.mutex, NULL);
  pthread_cond_init(&p->barrier.cond, NULL);
  atomic_init(&p->barrier.n, n_threads);
  for (int i = 1; i < n_threads; i++) {
    p->workers[i - 1] = (nn_worker){p, i, nn_blas_load(i) ? i : 0};
    int rc = pthread_create(&p->threads[i - 1], NULL, worker_main, &p->workers[i - 1]);
    if (rc != 0) {
      /* The workers started so far wait at the start barrier, which cannot
       * trip before all n arrive: it now counts only them and the caller. */
      atomic_store(&p->barrier.n, i);
      stop_workers(p);
      pthread_mutex_destroy(&p->barrier.mutex);
      pthread_cond_destroy(&p->barrier.cond);
      nsr_free(p);
      return nsr_fail(err, NSR_ERR_IO, "encoder threads: cannot start a worker (error %d)", rc);
    }
    p->started = i;
  }
  *out = p;
  return NSR_OK;
}

void nn_split(size_t total, int tid, int n_threads, size_t *lo, size_t *hi) {
  size_t base = total / (size_t)n_threads, extra = total % (size_t)n_threads;
  size_t t = (size_t)tid;
  *lo = t * base + (t < extra ? t : extra);
  *hi = *lo + base + (t < extra ? 1 : 0);
}

int nn_auto_threads(void) {
  const char *env = getenv("NSR_NN_THREADS");
  if (env != NULL && *env != '\0') {
    char *end;
    long v = strtol(env, &end, 10);
    if (*end == '\0' && v >= 1 && v <= NN_POOL_MAX) return (int)v;
  }
  long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  return cpus >= 2 ? 2 : 1;
}

void nn_pool_free(nn_pool *p) {
  if (p == NULL) return;
  stop_workers(p);
  pthread_mutex_destroy(&p->barrier.mutex);
  pthread_cond_destroy(&p->barrier.cond);
  nsr_free(p);
}
