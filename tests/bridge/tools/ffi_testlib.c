/* ffi_testlib.c: a shared library for the foreign-tool tests: one function
 * per marshalled type, one that returns what JSON cannot carry, and one
 * that no manifest lists. */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

int64_t t_add(int64_t a, int64_t b) { return a + b; }
double t_scale(double x, int64_t k) { return x * (double)k; }
bool t_and(bool a, bool b) { return a && b; }
bool t_is_even(int64_t n) { return n % 2 == 0; }
int64_t t_length(const char *s) { return (int64_t)strlen(s); }

/* Returns a buffer owned by the library, as the manifest contract asks. */
const char *t_greet(const char *name, int64_t times) {
  static char buf[256];
  buf[0] = '\0';
  for (int64_t i = 0; i < times && strlen(buf) + strlen(name) + 8 < sizeof buf; i++) {
    strcat(buf, i ? ", hi " : "hi ");
    strcat(buf, name);
  }
  return buf;
}

const char *t_maybe(bool give) { return give ? "here" : NULL; }
double t_nan(void) { return NAN; }
int64_t t_forty_two(void) { return 42; }

/* Results narrower than a register and past int64: the caller must read
 * the whole widened value and refuse what it cannot carry. */
int32_t t_neg32(int32_t x) { return -x; }
uint64_t t_half(uint64_t x) { return x / 2; }
uint64_t t_umax(void) { return UINT64_MAX; }

/* Never listed in a manifest: a request naming it must not reach it. */
int64_t t_secret(void) { return 1234; }
