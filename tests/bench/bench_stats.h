/* bench_stats.h: order statistics for benchmark timings. */
#ifndef NSR_BENCH_STATS_H
#define NSR_BENCH_STATS_H

#include <stddef.h>

/* Sorts v[0..n) ascending in place. */
void bench_sort(double *v, size_t n);
/* Sorts v[0..n) and returns its median (n >= 1). */
double bench_median(double *v, size_t n);

#endif
