/* nsr_lang.h: the public API of nsr's Church interpreter (symbolic/lang_*).
 *
 * An interpreter is a self-contained state: its own heap and garbage
 * collector, symbol table, random stream and budgets. There is no global
 * state, so any number of interpreters may live side by side in one process
 * (one thread per interpreter at a time). */
#ifndef NSR_LANG_H
#define NSR_LANG_H

#include <signal.h>
#include <stdio.h>

#include "nsr_core.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct nsr_lang nsr_lang;

/* Every budget is checked during evaluation; running out of one is an
 * NSR_ERR_LIMIT error whose message names the budget and its value. */
typedef struct nsr_lang_config {
  uint64_t seed;          /* seeds the interpreter's xoshiro256** stream */
  uint64_t max_steps;     /* evaluation steps per top-level eval; 0 = none */
  size_t max_memory;      /* bytes the process holds for the heap (with
                             the allocator's overhead), evaluator stacks,
                             the collector's mark stack, query
                             bookkeeping, kept output and text being
                             printed; 0 = none */
  double timeout_seconds; /* wall time per top-level eval; 0 = none */
  uint64_t max_paths;     /* execution paths per enumeration-query; 0 = none */
  FILE *echo;             /* if set, printed output goes here as it is
                             made, instead of being kept for
                             nsr_lang_output */
  bool gc_stress;         /* collect at every evaluation step (tests) */
  /* webchurch compatibility: numbers behave like webchurch's JavaScript
   * numbers. Integral results are exact integers (so 2.0 is 2 and
   * (equal? (* 0.5 4) 2) is #t), exact overflow gives an inexact result
   * instead of an error, and round takes halves up (Math.round). */
  bool webchurch;
  /* If set, hist, density, barplot, scatter and lineplot write SVG files
   * into this existing directory, plot-001-hist.svg, ... in call order
   * (see nsr_lang_plot_file), instead of printing a text summary. The
   * string must outlive the interpreter. */
  const char *plot_dir;
  /* If set, evaluation stops with NSR_ERR_LIMIT "interrupted" soon after
   * *interrupt becomes non-zero (it is read with the clock, every 1024
   * steps). A host's SIGINT handler sets it; the host clears it before the
   * next evaluation. The interpreter stays usable, with every definition
   * made before the interrupted form. */
  const volatile sig_atomic_t *interrupt;
  /* (load PATH) may read files. Off by default, so a host running
   * programs it did not write (the run_program tool) never opens a file
   * for them; `nsr run` and `nsr repl` turn it on. */
  bool load_files;
  /* Exact enumeration re-runs every path, MH every proposal and SMC every
   * particle's step from the start instead of resuming where they left
   * off: the same answers, slower; tests compare the two. */
  bool replay_queries;
} nsr_lang_config;

/* Seed 0, 10^9 steps, 512 MiB, no timeout, 10^6 paths, no echo; gc_stress
 * when the environment variable NSR_LANG_GC_STRESS is set. */
void nsr_lang_config_default(nsr_lang_config *cfg);

/* Creates an interpreter with Church's library loaded. The caller frees it
 * with nsr_lang_free. Fails with NSR_ERR_NOMEM or NSR_ERR_LIMIT (a budget
 * too small to load the library). */
nsr_code nsr_lang_new(const nsr_lang_config *cfg, nsr_lang **out,
                      nsr_error *err);
void nsr_lang_free(nsr_lang *lang);

/* Reads and evaluates every top-level form of `text` (`len` bytes; `name`
 * labels positions in messages, e.g. "prog.church"). The value of the last
 * form becomes the result (see nsr_lang_result_*). Errors carry
 * "NAME:LINE:COL: message"; the interpreter stays usable afterwards. */
nsr_code nsr_lang_eval_string(nsr_lang *lang, const char *name,
                              const char *text, size_t len, nsr_error *err);
/* Like nsr_lang_eval_string with the text's first line numbered
 * `first_line` (>= 1) in positions: a REPL numbers the lines of its whole
 * session, so an error points at the line as typed. */
nsr_code nsr_lang_eval_lines(nsr_lang *lang, const char *name, uint32_t first_line,
                             const char *text, size_t len, nsr_error *err);
/* Like nsr_lang_eval_string on a file's contents; NSR_ERR_IO if unreadable. */
nsr_code nsr_lang_eval_file(nsr_lang *lang, const char *path, nsr_error *err);

/* Everything printed by display/print/hist... since the interpreter was made
 * or the output was last cleared (nothing when cfg.echo is set). Kept
 * output counts against the memory budget. NUL-terminated; owned by the
 * interpreter. */
const char *nsr_lang_output(const nsr_lang *lang, size_t *len);
void nsr_lang_output_clear(nsr_lang *lang);

/* Figures written into cfg.plot_dir since the interpreter was made: how
 * many, and the file name (within the directory) of the i-th in call
 * order, owned by the interpreter; NULL past the end. */
size_t nsr_lang_plot_count(const nsr_lang *lang);
const char *nsr_lang_plot_file(const nsr_lang *lang, size_t i);

/* ---- values -------------------------------------------------------------
 * A value is a small tagged struct. Heap values (strings, pairs, ...) point
 * into the interpreter's heap and stay valid only until the next
 * evaluation, which may collect them. */
typedef enum nsr_lang_type {
  NSR_LANG_NIL,         /* the empty list */
  NSR_LANG_BOOL,
  NSR_LANG_INT,         /* exact 64-bit integer */
  NSR_LANG_REAL,        /* inexact: a double */
  NSR_LANG_UNSPECIFIED, /* what display or set! return */
  NSR_LANG_STRING,
  NSR_LANG_SYMBOL,
  NSR_LANG_PAIR,
  NSR_LANG_VECTOR,
  NSR_LANG_CLOSURE,
  NSR_LANG_PRIMITIVE,
  NSR_LANG_MEMO,        /* a procedure made by mem */
  NSR_LANG_HASH,        /* a hash table */
  NSR_LANG_SET,         /* a set of naturals (bitset-backed, number game) */
  NSR_LANG_ENV,         /* internal: a frame of variable bindings */
  NSR_LANG_LOCAL,       /* internal: a variable of code, resolved to a slot */
  NSR_LANG_PARAMS,      /* internal: a lambda list, resolved to a frame size */
  NSR_LANG_CALL,        /* internal: an application of code, decoded */
} nsr_lang_type;

struct nsr_lang_obj;
typedef struct nsr_lang_value {
  nsr_lang_type type;
  union {
    bool b;
    int64_t i;
    double r;
    struct nsr_lang_obj *obj;
  } as;
} nsr_lang_value;

/* The value of the last top-level form of the last successful eval. */
nsr_lang_value nsr_lang_result(const nsr_lang *lang);
/* Writes `value` as the language's `write` would into buf (truncated to
 * len - 1 bytes, NUL-terminated); returns the text's length, or a number
 * >= len when it did not fit (printing stops there, so a huge value costs
 * only len bytes). */
size_t nsr_lang_format(const nsr_lang *lang, nsr_lang_value value, char *buf,
                       size_t len);
/* `value` as `write` prints it into *out (caller frees with nsr_free).
 * The text may take half the room left in the memory budget (a value
 * sharing structure can print far larger than it is): past that,
 * NSR_ERR_LIMIT naming the budget. */
nsr_code nsr_lang_write(const nsr_lang *lang, nsr_lang_value value, char **out,
                        nsr_error *err);
/* Numeric value of an int or real; false for any other type. */
bool nsr_lang_to_double(nsr_lang_value value, double *out);
/* The bytes of a string or the name of a symbol (NUL-terminated); NULL for
 * other types. Valid while the value is. */
const char *nsr_lang_to_string(nsr_lang_value value);
/* Length of a proper list or a vector; -1 for anything else. */
int64_t nsr_lang_length(nsr_lang_value value);
/* Element i of a proper list or vector (nil when out of range). */
nsr_lang_value nsr_lang_ref(nsr_lang_value value, int64_t i);

/* `value` as JSON into *out (caller frees with nsr_free): lists and vectors
 * are arrays, symbols and strings are strings, #t/#f are true/false,
 * numbers are numbers as nsr_json_dump writes them (json.h: shortest
 * round-trip reals; non-finite ones "Infinity", "-Infinity" or "NaN"),
 * unspecified is null and procedures are their printed names. Arrays nest
 * at most NSR_LANG_JSON_MAX_DEPTH deep (JSON clients commonly parse
 * recursively) and the text may take half the room left in the memory
 * budget; past either, NSR_ERR_LIMIT saying which. */
#define NSR_LANG_JSON_MAX_DEPTH 100
nsr_code nsr_lang_to_json(const nsr_lang *lang, nsr_lang_value value,
                          char **out, nsr_error *err);
/* `len` bytes of text as a JSON string literal into *out (caller frees with
 * nsr_free). */
nsr_code nsr_lang_json_string(const char *text, size_t len, char **out,
                              nsr_error *err);

nsr_lang_value nsr_lang_int(int64_t i);
nsr_lang_value nsr_lang_real(double r);
nsr_lang_value nsr_lang_bool(bool b);
/* A new string value; NSR_ERR_NOMEM or NSR_ERR_LIMIT (memory budget). */
nsr_code nsr_lang_string(nsr_lang *lang, const char *text, size_t len,
                         nsr_lang_value *out, nsr_error *err);

/* A proper list of n values (NSR_ERR_NOMEM or NSR_ERR_LIMIT on failure). */
nsr_code nsr_lang_list(nsr_lang *lang, const nsr_lang_value *items, size_t n,
                       nsr_lang_value *out, nsr_error *err);
/* Binds `name` globally to `value`, as (define name value) would. */
nsr_code nsr_lang_define(nsr_lang *lang, const char *name,
                         nsr_lang_value value, nsr_error *err);

/* A C primitive: receives `nargs` arguments, stores its result in *out, and
 * returns NSR_OK, or a failure recorded with nsr_fail(err, ...); the
 * interpreter adds the call's source position to the message. It must not
 * keep heap values past its return. */
typedef nsr_code (*nsr_lang_primitive_fn)(nsr_lang *lang, void *user,
                                          const nsr_lang_value *args,
                                          int nargs, nsr_lang_value *out,
                                          nsr_error *err);
/* Binds `name` globally to a primitive taking min_args..max_args arguments
 * (max_args -1: any number). `user` is passed to every call. */
nsr_code nsr_lang_define_primitive(nsr_lang *lang, const char *name,
                                   int min_args, int max_args,
                                   nsr_lang_primitive_fn fn, void *user,
                                   nsr_error *err);

#ifdef __cplusplus
}
#endif

#endif /* NSR_LANG_H */
