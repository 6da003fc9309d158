/* timing.c: a monotonic clock. */
#include "nsr_core.h"

#include <time.h>

uint64_t nsr_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

double nsr_seconds_since(uint64_t start_ns) {
  return (double)(nsr_now_ns() - start_ns) * 1e-9;
}
