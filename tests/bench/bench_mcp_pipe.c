/* bench_mcp_pipe.c: tools/call number_game round trips to `nsr mcp` from a
 * C client on plain pipes: the server's own latency, without a JavaScript
 * client's event loop in the measurement. One connection, calls one after
 * another, each waiting for its reply.
 *
 * Usage: bench_mcp_pipe NSR [CALLS]   (default 10000) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Reads one reply line; returns its length, or -1 at end of output. */
static long read_reply(FILE *in, char **line, size_t *cap) {
  ssize_t n = getline(line, cap, in);
  return n > 0 ? (long)n : -1;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s NSR [CALLS]\n", argv[0]);
    return 2;
  }
  long calls = argc > 2 ? atol(argv[2]) : 10000;
  if (calls < 1) calls = 1;
  int to[2], from[2];
  if (pipe(to) != 0 || pipe(from) != 0) return 1;
  pid_t pid = fork();
  if (pid < 0) return 1;
  if (pid == 0) {
    dup2(to[0], 0);
    dup2(from[1], 1);
    close(to[1]);
    close(from[0]);
    execl(argv[1], argv[1], "mcp", (char *)NULL);
    _exit(127);
  }
  close(to[0]);
  close(from[1]);
  FILE *out = fdopen(to[1], "w"), *in = fdopen(from[0], "r");
  char *line = NULL;
  size_t cap = 0;
  fputs("{\"jsonrpc\":\"2.0\",\"id\":0,\"method\":\"initialize\",\"params\":{\"protocolVersion\":\"2025-11-25\","
        "\"capabilities\":{},\"clientInfo\":{\"name\":\"bench\",\"version\":\"1\"}}}\n"
        "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}\n", out);
  fflush(out);
  if (read_reply(in, &line, &cap) < 0) return 1;
  double *t = malloc((size_t)calls * sizeof *t);
  double start = now_us();
  for (long i = 0; i < calls; i++) {
    double t0 = now_us();
    fprintf(out, "{\"jsonrpc\":\"2.0\",\"id\":%ld,\"method\":\"tools/call\",\"params\":{\"name\":\"number_game\","
                 "\"arguments\":{\"examples\":[16,8,2,64]}}}\n", i + 1);
    fflush(out);
    if (read_reply(in, &line, &cap) < 0 || strstr(line, "powers of 2") == NULL) {
      fprintf(stderr, "bench_mcp_pipe: bad or missing reply to call %ld\n", i + 1);
      return 1;
    }
    t[i] = now_us() - t0;
  }
  double total = now_us() - start;
  fclose(out);
  waitpid(pid, NULL, 0);
  qsort(t, (size_t)calls, sizeof *t, cmp_double);
  printf("nsr pipe (C client): median %.1f us, p90 %.1f us, p99 %.1f us, %.0f calls/s (%ld calls)\n",
         t[calls / 2], t[calls * 9 / 10], t[calls * 99 / 100], calls / total * 1e6, calls);
  printf("result nsr_pipe_median_us=%.1f nsr_pipe_calls_per_s=%.0f\n", t[calls / 2], calls / total * 1e6);
  free(t);
  free(line);
  fclose(in);
  return 0;
}
