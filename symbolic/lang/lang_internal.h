/* lang_internal.h: internals of the Church interpreter shared by the
 * symbolic/lang_*.c files.
 *
 * Memory: small objects (at most LANG_SMALL_MAX bytes: pairs, frames of
 * bindings, closures, short strings) are cells of blocks, one size class
 * per block, handed out from a free list per class; larger ones are
 * malloc'd one by one and kept on a list. A precise mark-sweep collector
 * reclaims both (lang_gc.c): the sweep walks the blocks, rebuilds the free
 * lists and keeps blocks left empty as spares for any class (the excess,
 * and all of them at the end of an evaluation, go back to the system).
 * Collection happens only at
 * safe points: the top of the evaluator's loop. So C code (primitives, the
 * reader, the expander) may hold heap values in locals freely as long as it
 * does not run the evaluator; code that does (the inference engines) must
 * make its values reachable from a root first (lang_root_push). */
#ifndef NSR_LANG_INTERNAL_H
#define NSR_LANG_INTERNAL_H

#include <stdarg.h>
#include <string.h>

#include "nsr_lang.h"

typedef nsr_lang_value lval;

/* How a C routine of the interpreter ended. LANG_ERROR has the details in
 * the interpreter's error; LANG_ABORT means a query's condition failed (or
 * its weight became zero) and unwinds to that query. */
typedef enum lang_rc { LANG_OK = 0, LANG_ERROR, LANG_ABORT } lang_rc;

/* A source position; line 0 means "made at run time". */
typedef struct lang_pos {
  uint32_t file; /* index into the interpreter's file names */
  uint32_t line;
  uint32_t col;
} lang_pos;

/* Every heap object's header. What the collector needs beyond it lives
 * elsewhere (lang_gc.c): a free cell's link in its body, a large object's
 * list link and size in front of it. */
typedef struct lang_obj {
  uint32_t type;         /* nsr_lang_type; NSR_LANG_NIL marks a free cell */
  uint32_t marked;
} lang_obj;

/* Objects of at most this many bytes are cells of blocks; size classes are
 * multiples of 8 bytes. */
#define LANG_SMALL_MAX 256
#define LANG_CLASSES (LANG_SMALL_MAX / 8)
struct lang_block; /* lang_gc.c */

typedef struct lang_string {
  lang_obj h;
  size_t len;
  char chars[]; /* len bytes + NUL */
} lang_string;

/* Special forms known to the evaluator after expansion, and the derived
 * forms the expander rewrites. */
typedef enum lang_form {
  FORM_NONE = 0,
  /* core: evaluated directly */
  FORM_QUOTE, FORM_IF, FORM_DEFINE, FORM_SET, FORM_LAMBDA, FORM_BEGIN,
  FORM_AND, FORM_OR,
  /* derived: rewritten by lang_expand.c */
  FORM_LET, FORM_LETSTAR, FORM_LETREC, FORM_COND, FORM_CASE, FORM_WHEN,
  FORM_UNLESS, FORM_QUASIQUOTE, FORM_ENUM_QUERY, FORM_REJECTION_QUERY,
  FORM_MH_QUERY, FORM_QUERY,
  FORM_CONDITIONAL, /* webchurch's (conditional METHOD d ... q c); only
                       under webchurch */
} lang_form;

typedef struct lang_symbol {
  lang_obj h;
  lval global;       /* the global binding, when `bound` */
  bool bound;
  uint8_t form;      /* lang_form */
  uint8_t prelude;   /* 1 + the lang_prelude entry that defines it, while
                        not yet loaded (lang_prelude_load); else 0 */
  uint64_t hash;
  size_t len;
  char name[];
} lang_symbol;

typedef struct lang_pair {
  lang_obj h;
  lval car, cdr;
  lang_pos pos;
  /* The reader's first cell of a list carries the '(' position; this is the
   * column of its first item when that item is on the same line (else 0),
   * so an error about an operator points at it. It fills padding: a pair
   * is no larger for it. */
  uint32_t head_col;
} lang_pair;

typedef struct lang_vector {
  lang_obj h;
  size_t len;
  lval items[];
} lang_vector;

/* A frame of bindings: a lambda's parameters, then the names its body
 * defines (lang_resolve.c gives each its slot). A defined name's slot
 * holds lang_unassigned() until its define runs. */
typedef struct lang_env {
  lang_obj h;
  struct lang_env *parent; /* NULL: the next scope is the global one */
  uint32_t n;
  lval vals[];
} lang_env;

/* A variable of resolved code bound by an enclosing lambda: slot `slot` of
 * the frame `depth` parents out. When that slot is a defined name still
 * unassigned, the variable means `outer`: the same name resolved outside
 * that lambda (a LOCAL, or the symbol itself for a global). */
typedef struct lang_local {
  lang_obj h;
  lang_symbol *sym; /* the name as written, for errors */
  uint32_t depth, slot;
  lval outer;
} lang_local;

/* A resolved lambda list: how a call binds its arguments. */
typedef struct lang_params {
  lang_obj h;
  lval list;       /* the lambda list as written: (a b . rest) or rest */
  uint32_t nreq;   /* required parameters */
  uint32_t nslots; /* the frame: parameters, rest list, defined names */
  bool rest;       /* takes a rest list */
} lang_params;

/* How the evaluator gets an item of a CALL: a constant (a quotation's
 * datum or a self-evaluating one), a variable (a LOCAL or a global's
 * symbol), or an expression it must run. */
typedef enum lang_item_kind { ITEM_CONST, ITEM_VAR, ITEM_EXPR } lang_item_kind;

typedef struct lang_call_item {
  lval x;
  lang_pos pos; /* where the item is written; line 0: made at run time */
  uint32_t kind; /* lang_item_kind */
} lang_call_item;

/* An application of resolved code, (operator operand ...), decoded once by
 * lang_resolve: the evaluator walks an array whose items say how each is
 * evaluated, and finds what the call's errors name ready-made, instead of
 * walking a list and testing each item as it goes. */
/* How deep calls applied in place may nest, (f (g (h x))) being 3: the
 * evaluator recurses in C for each. */
#define LANG_IN_PLACE_DEPTH 4

typedef struct lang_call {
  lang_obj h;
  lang_pos pos;    /* the call's own position */
  lang_pos op_pos; /* where an error blaming the operator points */
  /* The operator as the program wrote it, when a variable of the program
   * (not of the library): the call's errors are named after it. */
  lang_symbol *call_name;
  bool user;       /* written by the program, not the library (lang_site) */
  /* The operator a variable, every operand a variable, a constant or a
   * call in place itself (LANG_IN_PLACE_DEPTH deep at most), and no
   * operator found to be other than a pure primitive so far: the evaluator
   * tries to apply it in place (lang_eval.c). */
  bool in_place;
  uint8_t depth;   /* when in_place: 1, or 1 + its deepest operand call's */
  uint32_t n;      /* items: the operator, then the operands */
  /* When in_place: the steps the machine takes for the call after its own
   * evaluation step, up to its application included; the values it puts
   * on the value stack at most. */
  uint32_t steps, stack;
  lang_call_item items[];
} lang_call;

typedef struct lang_closure {
  lang_obj h;
  lval body;      /* non-empty list of expressions */
  lang_env *env;
  lval name;      /* symbol when made by (define (f ...)), else nil */
  uint32_t nreq;  /* required parameters */
  uint32_t nslots;
  bool rest;      /* takes a rest list */
} lang_closure;

typedef lang_rc (*lang_prim_fn)(nsr_lang *I, lval *args, int nargs, lval *out);

/* A primitive: either built in (fn) or registered through the public API
 * (user_fn, user). */
/* What applying a primitive does: call its C function, or something the
 * evaluator's machine does itself (lang_eval.c, lang_eval_iter.c). */
typedef enum lang_prim_op {
  LANG_PRIM_C, LANG_PRIM_APPLY, LANG_PRIM_MAP, LANG_PRIM_FILTER, LANG_PRIM_FOR_EACH,
  LANG_PRIM_REPEAT,
} lang_prim_op;

typedef struct lang_prim {
  lang_obj h;
  const char *name;
  int min_args, max_args; /* max -1: variadic */
  lang_prim_op op;
  /* Its C function (fn) computes a value from its arguments and nothing
   * else: no choice, factor, Church code, output or change to a value the
   * program can see, and no use of where it is called from (lang_site).
   * Applying it twice is then the same as once, so the evaluator may
   * apply it in place and, when it fails, again through the machine to
   * report the error as the machine does (lang_eval.c). */
  bool pure;
  lang_prim_fn fn;
  nsr_lang_primitive_fn user_fn;
  void *user;
} lang_prim;

/* A hash table keyed by equal?; also the cache of a mem'd procedure. */
typedef struct lang_hash_entry {
  lval key, val;
  uint64_t hash;
  bool used;
} lang_hash_entry;

typedef struct lang_hash {
  lang_obj h;
  size_t count, cap; /* cap is 0 or a power of two */
  lang_hash_entry *entries;
} lang_hash;

/* A set of naturals below bits.nbits, for concept learning (the number
 * game): membership and sizes in O(1) and O(words). */
typedef struct lang_set {
  lang_obj h;
  nsr_bitset bits;
} lang_set;

typedef struct lang_memo {
  lang_obj h;
  lval proc;
  lang_hash *cache;
  uint64_t addr; /* where mem was called: random choices made by the
                    procedure get addresses from this and the arguments,
                    wherever it is first called (mem-aware MH) */
  uint64_t resuming_serial; /* I->resuming_serial when made: a cache made by
                               a resuming enumeration's model is restored
                               on resumption, any other's change is an
                               effect (lang_infer_resume.c) */
} lang_memo;

/* Continuation frames of the evaluator (see lang_eval.c). */
typedef enum lang_frame_kind {
  /* A call's items being evaluated: a = the next item's index (an
   * integer), b = the CALL, its values on the value stack from valbase. */
  FRAME_ARGS,
  FRAME_SEQ, FRAME_IF, FRAME_DEFINE, FRAME_SET, FRAME_AND,
  FRAME_OR, FRAME_MEMO,
  /* Loops over items (lang_eval_iter.c): a = the procedure, b = the items
   * left (the count left for repeat), results on the value stack from
   * valbase. */
  FRAME_MAP, FRAME_FILTER, FRAME_FOR_EACH, FRAME_REPEAT,
} lang_frame_kind;

typedef struct lang_frame {
  lang_frame_kind kind;
  uint32_t valbase; /* where the frame's values start (FRAME_ARGS, loops) */
  lval a, b;
  lang_env *env;
  uint64_t addr;
} lang_frame;

/* The registers of one activation of the evaluator loop. Queries run their
 * model in a nested activation; the collector marks all of them. */
typedef struct lang_run {
  lval expr, val;
  lang_env *env;
  struct lang_run *outer;
} lang_run;

struct lang_query; /* lang_infer.c */
struct lang_scope; /* lang_expand.c */

/* A list the samplers see again and again (a model's prior weights or its
 * hypotheses, re-read on every run of a query), with its items in an array
 * for O(1) indexing and, for lists of numbers, their sum. The list stays
 * reachable while cached, so its address cannot be reused meanwhile. */
typedef struct lang_list_cache {
  lval list;
  int64_t n;
  lval *items;
  double total;
  bool numbers;  /* every item is a finite number >= 0 */
  bool positive; /* ... and > 0 */
} lang_list_cache;

enum { LANG_CACHE_WEIGHTS, LANG_CACHE_ITEMS, LANG_CACHES };

/* Where the evaluator is, for errors and choice addresses: registers of
 * the interpreter that a resume point saves and restores together. */
typedef struct lang_site {
  lang_pos cur_pos;  /* the application being evaluated (or the variable
                        being looked up), for errors */
  /* The latest call made from a program (not from the library, whose file
   * index is nsr_lang.library_file): errors inside library procedures are
   * reported there, where the user can act on them. */
  lang_pos user_pos;
  lang_symbol *user_call_name; /* the operator written there, when a symbol:
                                  it heads those errors (sort: <: ...) */
  /* The operator symbol of the call being applied, when the program (not
   * the library) wrote one; NULL otherwise. */
  lang_symbol *call_name;
  lang_pos op_pos;   /* where that call's operator was written */
} lang_site;

struct nsr_lang {
  nsr_lang_config cfg;
  nsr_error error;

  /* heap */
  struct lang_large *objects;  /* large objects, newest first */
  struct lang_block *blocks;   /* every block of small objects in use */
  struct lang_block *spare;    /* empty blocks kept for reuse (counted in
                                  heap_bytes: the process holds them) */
  size_t spare_bytes;
  struct lang_free_cell *free_cells[LANG_CLASSES]; /* free cells of each size class */
  size_t heap_bytes;  /* blocks + large objects + evaluator stacks + mark
                         stack + kept output + query bookkeeping */
  size_t freed_bytes; /* freed since memory was last given back to the OS */
  size_t next_gc;
  uint64_t collections;
  lang_obj **gray; /* the collector's mark stack (counted in heap_bytes) */
  size_t ngray, graycap;
  bool gray_overflow; /* the mark stack could not grow: skip the sweep */

  /* symbols, interned by name; a root of the collector */
  lang_symbol **symtab;
  size_t nsyms, symcap; /* open addressing, symcap a power of two */

  /* evaluator stacks; roots */
  lang_frame *frames;
  size_t nframes, framecap;
  lval *vals;
  size_t nvals, valcap;
  lang_run *runs;
  /* values C code holds across evaluator runs */
  lval **roots;
  size_t nroots, rootcap;

  /* source file names for positions; index 0 is "<runtime>" */
  char **files;
  size_t nfiles;

  nsr_rng rng;
  uint64_t steps, start_ns;
  uint64_t step_alarm; /* below this count a step needs no check (lang_eval.c) */
  lang_site site;
  uint32_t library_file; /* the library's file index (see lang_site) */
  /* While a primitive's C code runs: the name its call was written with
   * (call_name) or else its own, or NULL. Errors then name what the user
   * wrote: the name heading the primitive's message is replaced by it. */
  const char *prim_name;
  uint64_t addr;     /* address of the current call (see lang_infer.c) */
  bool memo_site;    /* a primitive runs as a mem'd procedure: its random
                        choice is addressed without the call site */
  struct lang_query *query; /* innermost running query, or NULL */
  int query_depth;
  /* The primitive being applied: its procedure's slot on the value stack
   * and a count of primitive applications (lang_infer_resume.c captures
   * the machine before the primitive that makes a choice). */
  size_t prim_base;
  uint64_t prim_serial;
  /* The enumeration whose runs resume at choice points, while its model
   * runs: the evaluator records undoable mutations for it and reports the
   * others (lang_infer_resume.c); NULL otherwise. */
  struct lang_query *resuming;
  uint64_t resuming_serial, resume_serials;

  struct lang_plots *plots; /* figures written (lang_plot.c), or NULL */

  /* printed output */
  char *out;
  size_t out_len, out_cap;

  lval result;
  struct lang_scope *scope; /* names bound around the form being expanded */
  lang_list_cache list_cache[LANG_CACHES]; /* lang_dist.c */

  /* symbols and primitives the reader and expander build code with */
  lang_symbol *s_quote, *s_quasiquote, *s_unquote, *s_unquote_splicing,
      *s_lambda, *s_define, *s_else, *s_begin, *s_if;
  lval p_cons, p_list, p_append, p_list_to_vector, p_memv, p_condition,
      p_enum_query, p_rejection_query, p_mh_query, p_query;
};

/* ---- lang_value.c: objects, constructors, equality, hashing, printing ---- */

static inline lval lang_nil(void) { return (lval){.type = NSR_LANG_NIL}; }
static inline lval lang_unspec(void) {
  return (lval){.type = NSR_LANG_UNSPECIFIED};
}
/* What a frame slot of a defined name holds before its define runs: no
 * value a program can make or see. */
static inline lval lang_unassigned(void) {
  return (lval){.type = NSR_LANG_UNSPECIFIED, .as.i = 1};
}
static inline bool lang_is_unassigned(lval v) {
  return v.type == NSR_LANG_UNSPECIFIED && v.as.i == 1;
}
static inline lval lang_bool(bool b) {
  return (lval){.type = NSR_LANG_BOOL, .as.b = b};
}
static inline lval lang_int(int64_t i) {
  return (lval){.type = NSR_LANG_INT, .as.i = i};
}
static inline lval lang_real(double r) {
  return (lval){.type = NSR_LANG_REAL, .as.r = r};
}
static inline lval lang_obj_val(nsr_lang_type t, void *o) {
  return (lval){.type = t, .as.obj = (struct nsr_lang_obj *)o};
}
/* Scheme's truth: only #f is false. Under webchurch, JavaScript's truth
 * for numbers too: 0 (and NaN) are false, as `(if x ...)` over 1/0 flags
 * in the book expects. */
static inline bool lang_truthy(const nsr_lang *I, lval v) {
  if (v.type == NSR_LANG_BOOL) return v.as.b;
  if (I->cfg.webchurch && (v.type == NSR_LANG_INT || v.type == NSR_LANG_REAL)) {
    return v.type == NSR_LANG_INT ? v.as.i != 0 : v.as.r != 0 && v.as.r == v.as.r;
  }
  return true;
}
static inline bool lang_is_number(lval v) {
  return v.type == NSR_LANG_INT || v.type == NSR_LANG_REAL;
}
static inline double lang_num(lval v) {
  return v.type == NSR_LANG_INT ? (double)v.as.i : v.as.r;
}
static inline bool lang_is_procedure(lval v) {
  return v.type == NSR_LANG_CLOSURE || v.type == NSR_LANG_PRIMITIVE ||
         v.type == NSR_LANG_MEMO;
}
/* Under webchurch compatibility an integral real within 2^53 becomes the
 * exact integer it equals (JavaScript has one number type). */
static inline lval lang_webchurch_number(lval v) {
  /* The range test comes first: converting a double outside int64's range
   * (or NaN) is undefined behaviour. */
  if (v.type == NSR_LANG_REAL && v.as.r > -9007199254740992.0 &&
      v.as.r < 9007199254740992.0 && v.as.r == (double)(int64_t)v.as.r) {
    return lang_int((int64_t)v.as.r);
  }
  return v;
}
#define LANG_PAIR(v) ((lang_pair *)(v).as.obj)
#define LANG_STR(v) ((lang_string *)(v).as.obj)
#define LANG_SYM(v) ((lang_symbol *)(v).as.obj)
#define LANG_VEC(v) ((lang_vector *)(v).as.obj)
#define LANG_CLOSURE(v) ((lang_closure *)(v).as.obj)
#define LANG_LOCAL(v) ((lang_local *)(v).as.obj)
#define LANG_PARAMS(v) ((lang_params *)(v).as.obj)
#define LANG_CALL(v) ((lang_call *)(v).as.obj)
#define LANG_PRIM(v) ((lang_prim *)(v).as.obj)
#define LANG_MEMO(v) ((lang_memo *)(v).as.obj)
#define LANG_HASH(v) ((lang_hash *)(v).as.obj)
#define LANG_SET(v) ((lang_set *)(v).as.obj)
static inline lval lang_car(lval v) { return LANG_PAIR(v)->car; }
static inline lval lang_cdr(lval v) { return LANG_PAIR(v)->cdr; }

/* What a malloc of `bytes` really takes from the process (the allocator's
 * header and rounding), which is what the memory budget counts. */
size_t lang_malloc_cost(size_t bytes);
/* Under AddressSanitizer a free cell's body is poisoned, so a value used
 * after the collector freed it (a missing root) is still reported, as it
 * was when every object had its own malloc. The header stays readable: the
 * sweep and the free lists use it. */
#if defined(__SANITIZE_ADDRESS__)
#define LANG_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define LANG_ASAN 1
#endif
#endif
#ifdef LANG_ASAN
#include <sanitizer/asan_interface.h>
#define LANG_POISON_CELL(o, cell) \
  ASAN_POISON_MEMORY_REGION((char *)(o) + sizeof(lang_free_cell), (cell) - sizeof(lang_free_cell))
#define LANG_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define LANG_POISON_CELL(o, cell) ((void)(o), (void)(cell))
#define LANG_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

/* A free cell of a block (lang_gc.c): the header the sweep reads, then the
 * link of its class's free list. The smallest cell is this large. */
typedef struct lang_free_cell {
  lang_obj h;
  struct lang_free_cell *next;
} lang_free_cell;

/* The size class of a small object of `bytes`: its cell holds at least a
 * free cell (no object is smaller). */
static inline size_t lang_size_class(size_t bytes) {
  return bytes < sizeof(lang_free_cell) ? sizeof(lang_free_cell) / 8 - 1 : (bytes + 7) / 8 - 1;
}

/* lang_alloc's cases other than a small object whose class has a free
 * cell: a new block, a large object (lang_gc.c). */
void *lang_alloc_slow(nsr_lang *I, nsr_lang_type type, size_t bytes);

/* Allocates a zeroed object of `bytes`: a cell of a block when small
 * (charging a whole block when a new one is needed), else its own malloc
 * (charging lang_malloc_cost(bytes)). Fails (NULL, error set) when memory
 * or the memory budget runs out. Inline: most objects are made with a
 * constant size, whose zeroing the compiler then does with a few stores
 * (as a call, its register saving and memset were most of its cost). */
static inline void *lang_alloc(nsr_lang *I, nsr_lang_type type, size_t bytes) {
  if (bytes <= LANG_SMALL_MAX) {
    size_t cls = lang_size_class(bytes);
    lang_free_cell *c = I->free_cells[cls];
    if (c != NULL) {
      I->free_cells[cls] = c->next;
      LANG_UNPOISON(c, bytes);
      memset(c, 0, bytes);
      c->h.type = type;
      return c;
    }
  }
  return lang_alloc_slow(I, type, bytes);
}
/* Accounts `delta` more (or fewer) bytes owned by an object (arrays it
 * grows); fails like lang_alloc when the budget would be exceeded. */
lang_rc lang_account(nsr_lang *I, ptrdiff_t delta);

lang_rc lang_cons(nsr_lang *I, lval car, lval cdr, lval *out);
/* A pair carrying the source position `pos`. */
lang_rc lang_cons_at(nsr_lang *I, lval car, lval cdr, lang_pos pos,
                     lval *out);
lang_rc lang_make_string(nsr_lang *I, const char *s, size_t len, lval *out);
lang_rc lang_make_vector(nsr_lang *I, size_t len, lval fill, lval *out);
lang_rc lang_make_hash(nsr_lang *I, lval *out);
/* The symbol named s[0..len), created on first use. */
lang_rc lang_intern(nsr_lang *I, const char *s, size_t len, lang_symbol **out);
/* Builds a list front to back: zero-initialise (both nil), add, finish. */
typedef struct lang_list_builder {
  lval head, tail;
} lang_list_builder;
#define LANG_LIST_BUILDER {{.type = NSR_LANG_NIL}, {.type = NSR_LANG_NIL}}
/* Appends v in a new cell carrying `pos`. */
lang_rc lang_builder_add(nsr_lang *I, lang_list_builder *b, lval v,
                         lang_pos pos);
/* The list, ended by `rest` instead of (). */
lval lang_builder_finish(lang_list_builder *b, lval rest);

/* A list from n values (vals may point into the value stack). */
lang_rc lang_list_from(nsr_lang *I, const lval *vals, size_t n, lval *out);
/* Length of a proper list, or -1. */
int64_t lang_list_length(lval list);

/* An empty set able to hold 0..nbits-1. */
lang_rc lang_make_set(nsr_lang *I, size_t nbits, lval *out);
bool lang_set_equal(const lang_set *a, const lang_set *b);

bool lang_eqv(lval a, lval b);
bool lang_equal(lval a, lval b);
/* eqv? and equal? as the program sees them: under webchurch, where symbols
 * are strings, a symbol equals the string of its name (at any depth for
 * equal?). */
bool lang_eqv_in(const nsr_lang *I, lval a, lval b);
bool lang_equal_in(const nsr_lang *I, lval a, lval b);
/* A hash consistent with lang_equal. */
uint64_t lang_hash_value(lval v);
static inline uint64_t lang_mix(uint64_t h, uint64_t x) {
  h ^= x + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
  h ^= h >> 31;
  h *= 0xbf58476d1ce4e5b9ULL;
  return h ^ (h >> 29);
}
/* Looks key up; *found tells whether it was there. */
lval lang_hash_get(lang_hash *t, lval key, bool *found);
/* lang_hash_get of the list of the n values at items (a mem'd procedure's
 * arguments), without making the list; *hash receives the list's
 * lang_hash_value. */
lval lang_hash_get_items(lang_hash *t, const lval *items, size_t n, uint64_t *hash, bool *found);
lang_rc lang_hash_put(nsr_lang *I, lang_hash *t, lval key, lval val);
/* The same, given the key's lang_hash_value (a caller that has it saves
 * hashing the key again). */
lval lang_hash_get_hashed(lang_hash *t, lval key, uint64_t hash, bool *found);
lang_rc lang_hash_put_hashed(nsr_lang *I, lang_hash *t, lval key, uint64_t hash, lval val);

/* Text buffers that grow through nsr_realloc (not the heap: their owner
 * frees them). */
typedef struct lang_buf {
  char *data;
  size_t len, cap;
  bool failed; /* an append ran out of memory or passed the limit */
  size_t limit; /* most bytes the text may have; 0 = no limit */
  bool over;    /* failed because of the limit */
  bool webchurch; /* print values as webchurch shows them: JavaScript's
                     numerals, `undefined` (lang_text_buf sets it under
                     webchurch) */
} lang_buf;
/* The most text one print makes, whatever the memory budget: printing a
 * value that shares structure can make text exponentially larger than
 * the value, and this bounds the time too. */
#define LANG_TEXT_MAX ((size_t)64 << 20)
/* Lowers b's limit to LANG_TEXT_MAX, as printing (and JSON) do. */
void lang_buf_print_limit(lang_buf *b);
void lang_buf_add(lang_buf *b, const char *s, size_t n);
/* An empty buffer for text made in interpreter I (printing, joining
 * strings): its limit is half the room left in the memory budget (the text
 * is usually copied once more, into the output or a string). */
lang_buf lang_text_buf(const nsr_lang *I);
/* Why buffer b failed, into msg: NSR_ERR_LIMIT naming the memory budget
 * or LANG_TEXT_MAX, or NSR_ERR_NOMEM. */
nsr_code lang_buf_failure(const nsr_lang *I, const lang_buf *b, char *msg, size_t len);
/* The same as the interpreter's located error; returns LANG_ERROR. */
lang_rc lang_buf_error(nsr_lang *I, const lang_buf *b);
void lang_buf_printf(lang_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Appends v as `write` (strings quoted) or `display` (raw) would. The walk
 * stops when the buffer fails, and a buffer's limit is lowered to
 * LANG_TEXT_MAX: huge shared or cyclic values cost at most that much. */
void lang_print(lang_buf *b, lval v, bool write);
/* v written as lang_print does, three levels deep at most (what an error
 * message shows of a value). */
void lang_print_glimpse(lang_buf *b, lval v);
/* Appends a number the way the language prints it. */
void lang_print_number(lang_buf *b, lval v);
/* Appends text to the interpreter's output (and echo stream). */
lang_rc lang_output(nsr_lang *I, const char *s, size_t n);

/* ---- errors -------------------------------------------------------------- */

/* Records "FILE:LINE:COL: message" at `pos` with `code`; returns LANG_ERROR. */
lang_rc lang_fail_at(nsr_lang *I, lang_pos pos, nsr_code code,
                     const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Same at the application being evaluated, with NSR_ERR_INVALID. */
lang_rc lang_error(nsr_lang *I, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* "NAME: expected WHAT as argument I, got VALUE". */
lang_rc lang_type_error(nsr_lang *I, const char *name, const char *what,
                        int argi, lval got);
#ifdef __clang_analyzer__
/* For the static analyzer, which sees one file at a time: these never
 * return LANG_OK (see nsr_fail in nsr_core.h). lang_value.c defines them
 * with parenthesised names, which these macros leave alone. */
#define lang_fail_at(...) (lang_fail_at(__VA_ARGS__), LANG_ERROR)
#define lang_error(...) (lang_error(__VA_ARGS__), LANG_ERROR)
#define lang_type_error(...) (lang_type_error(__VA_ARGS__), LANG_ERROR)
#endif
/* The position a datum carries (its pair's, else none). Inline: the
 * evaluator asks at every call. */
static inline lang_pos lang_pos_of(lval v) {
  return v.type == NSR_LANG_PAIR ? LANG_PAIR(v)->pos : (lang_pos){0, 0, 0};
}
/* The position of a list's first item: its own when the reader knew it
 * (head_col), else the list's. */
static inline lang_pos lang_head_pos(lval list) {
  lang_pos pos = lang_pos_of(list);
  if (list.type == NSR_LANG_PAIR && LANG_PAIR(list)->head_col != 0) {
    pos.col = LANG_PAIR(list)->head_col;
  }
  return pos;
}

/* ---- lang_gc.c ----------------------------------------------------------- */

/* Marks everything reachable from the roots and frees the rest. */
void lang_collect(nsr_lang *I);
/* Gives freed memory back to the operating system when much was freed
 * since the last time (the allocator keeps it otherwise, and the
 * process's resident size would stay at its peak). Called at the end of
 * an evaluation and when the interpreter is freed. */
void lang_release_memory(nsr_lang *I);
/* The same after `freed` bytes were freed outside the heap (a text that
 * failed its limit). */
void lang_release_freed(size_t freed);
/* Frees every object (interpreter teardown). */
void lang_free_all(nsr_lang *I);
lang_rc lang_root_push(nsr_lang *I, lval *slot);
void lang_root_pop(nsr_lang *I, size_t n);
/* Marks one value (used by lang_infer.c for its own roots). */
void lang_mark(nsr_lang *I, lval v);

/* ---- lang_read.c --------------------------------------------------------- */

/* Reads every datum of text into a list (*out); file is an index from
 * lang_add_file and the text's first line is numbered first_line. Each
 * cell carries the position of its item (the first cell of a list, the
 * list's own, with head_col). Errors are located. */
lang_rc lang_read_all(nsr_lang *I, uint32_t file, uint32_t first_line,
                      const char *text, size_t len, lval *out);
lang_rc lang_add_file(nsr_lang *I, const char *name, uint32_t *out);

/* ---- lang_expand.c ------------------------------------------------------- */

/* Rewrites derived forms of datum `x` into core forms, checking syntax,
 * and resolves its variables (lang_resolve): the code lang_eval runs.
 * Positions are kept. */
lang_rc lang_expand(nsr_lang *I, lval x, lval *out);

/* ---- lang_resolve.c ------------------------------------------------------ */

/* The expanded top-level form x with its variables resolved to frame
 * slots and its lambda lists to frame sizes (new cells, positions kept);
 * *out must be rooted by the caller. Fails only on the memory budget. */
lang_rc lang_resolve(nsr_lang *I, lval x, lval *out);

/* ---- lang_eval.c --------------------------------------------------------- */

/* Evaluates expanded expression x in env (NULL: global) to *out. */
lang_rc lang_eval(nsr_lang *I, lval x, lang_env *env, lval *out);
/* The closure of the resolved (lambda PARAMS body ...) in env. */
lang_rc lang_make_closure(nsr_lang *I, lval lambda, lang_env *env, lval *out);
/* Applies proc to n arguments and runs to completion (a nested activation
 * of the evaluator). args need not be rooted; *out is. */
lang_rc lang_apply(nsr_lang *I, lval proc, const lval *args, int n,
                   lval *out);
/* Starts the budgets of one top-level evaluation. */
void lang_budget_start(nsr_lang *I);
/* Charges `work` evaluation steps to the step budget and reads the clock
 * when due. Primitives whose C loops grow with their arguments call it
 * inside the loop (one step per unit of work), so no budget is blind to
 * them. LANG_ERROR (NSR_ERR_LIMIT, naming the budget) when one runs out. */
lang_rc lang_charge(nsr_lang *I, uint64_t work);

/* ---- primitives (lang_prims_*.c, lang_dist.c, lang_infer.c) -------------- */

typedef struct lang_prim_def {
  const char *name;
  int min_args, max_args;
  lang_prim_fn fn;
} lang_prim_def;

/* Binds each primitive of a NULL-terminated table globally; `pure` says
 * they all are (lang_prim). */
lang_rc lang_define_prims(nsr_lang *I, const lang_prim_def *defs, bool pure);
/* Binds a primitive that the machine applies itself (op, not LANG_PRIM_C). */
lang_rc lang_define_machine_prim(nsr_lang *I, const char *name, int min_args, int max_args,
                                 lang_prim_op op);
lang_rc lang_define_global(nsr_lang *I, const char *name, lval v);
/* The global value of `name`, which must be bound (library primitives). */
lval lang_global(nsr_lang *I, const char *name);

/* ---- lang_eval_iter.c: map, filter, for-each and repeat ----------------- */

/* Starts the loop of the machine primitive at vals[apply_base] (its
 * arguments above it): with items to go, pushes its frame and the first
 * item's application (*next_base: the procedure's slot) and sets *more;
 * else *out is the result. */
lang_rc lang_iter_start(nsr_lang *I, size_t apply_base, lval *out, size_t *next_base,
                        bool *more);
/* The loop frame on top gets its item's value `val`: pushes the next
 * item's application (*more) or pops the frame with the result in *out. */
lang_rc lang_iter_step(nsr_lang *I, lval val, lval *out, size_t *next_base, bool *more);
/* Binds apply and the loops: the primitives the machine applies itself. */
lang_rc lang_define_machine_prims(nsr_lang *I);

extern const lang_prim_def lang_prims_num[];
extern const lang_prim_def lang_prims_list[];
extern const lang_prim_def lang_prims_list_effects[];
extern const lang_prim_def lang_prims_text[];
extern const lang_prim_def lang_prims_dist[];
extern const lang_prim_def lang_prims_dist_scores[];
extern const lang_prim_def lang_prims_infer[];
extern const lang_prim_def lang_prims_set[];
extern const lang_prim_def lang_prims_plot[];
/* Frees the record of figures written (lang_plot.c). */
void lang_plots_free(nsr_lang *I);
extern const lang_prim_def lang_prims_load[];
extern const lang_prim_def lang_prims_lists_as_sets[];

/* Argument helpers: each checks the type and reports a located error. */
lang_rc lang_arg_int(nsr_lang *I, const char *name, lval *args, int i,
                     int64_t *out);
lang_rc lang_arg_real(nsr_lang *I, const char *name, lval *args, int i,
                      double *out);
lang_rc lang_arg_list(nsr_lang *I, const char *name, lval *args, int i,
                      int64_t *len);

/* What a text is as a number (the reader and string->number agree): an
 * optional sign, then digits or a point and a digit; no hex, inf or nan. */
typedef enum lang_numeral {
  LANG_NOT_NUMERAL,     /* not a number: a symbol, or #f */
  LANG_NUMERAL,         /* *out holds it */
  LANG_NUMERAL_TOO_BIG, /* an integer past 64 bits (not under webchurch,
                           where it reads as a double) */
} lang_numeral;
lang_numeral lang_parse_numeral(const nsr_lang *I, const char *s, lval *out);

/* The Church-source part of the library (map, filter, fold, ...). */
/* The library's definitions written in Church, each read at its first
 * use (lang_prelude.c). */
typedef struct lang_prelude_def {
  const char *name; /* what the text defines */
  const char *text; /* NULL ends the table */
} lang_prelude_def;
extern const lang_prelude_def lang_prelude[];
/* Marks each library name as defined by its entry. */
lang_rc lang_prelude_start(nsr_lang *I);
/* Defines the library name s (s->prelude set, s unbound) from its entry:
 * reads and expands it and makes its closure (or takes its constant, or
 * the library value it names), without running the machine, so no
 * collection can happen. Fails only on the memory budget. */
lang_rc lang_prelude_load(nsr_lang *I, lang_symbol *s);

/* ---- lang_infer.c -------------------------------------------------------- */

/* Marks the values held by running queries. */
void lang_infer_mark(nsr_lang *I);

/* ---- lang_infer_resume.c: what a resuming enumeration must know ---------- */

/* A binding of env changed (slot `slot`, which held `old`: for a define,
 * lang_unassigned()), and an entry put in a mem'd procedure's cache (`had`: key, whose
 * lang_hash_value is `hash`, was there with `old`), each set to `now`: recorded while I->resuming, to be
 * undone when the query goes back to an earlier choice (and done again
 * when an MH proposal is rejected). Fail only on memory. */
lang_rc lang_trail_env(nsr_lang *I, lang_env *env, uint32_t slot, lval old, lval now);
lang_rc lang_trail_memo(nsr_lang *I, lang_hash *cache, lval key, uint64_t hash, bool had, lval old,
                        lval now);
/* An effect that undoing cannot take back (output, set!, a vector or hash
 * table changed, a global defined, a figure): the resuming enumeration
 * replays every later path from the start, as without resumption. */
void lang_resume_off(nsr_lang *I);
static inline void lang_effect(nsr_lang *I) {
  if (I->resuming != NULL) lang_resume_off(I);
}
/* Runs the machine on stacks set up by the caller: frames from frame_base
 * and values from val_base are a captured continuation whose next step
 * applies the procedure at vals[apply_base] (as a mem'd procedure's own
 * when memo_call). Returns like lang_apply, the stacks unwound to the
 * bases (lang_eval.c). */
lang_rc lang_run_from(nsr_lang *I, size_t frame_base, size_t val_base, size_t apply_base,
                      bool memo_call, lval *out);
/* Grows the evaluator's stacks to hold nframes frames and nvals values, as
 * their own growth does (charged to the memory budget). */
lang_rc lang_grow_stacks(nsr_lang *I, size_t nframes, size_t nvals);
static inline lang_rc lang_reserve_stacks(nsr_lang *I, size_t nframes, size_t nvals) {
  return I->framecap >= nframes && I->valcap >= nvals ? LANG_OK
                                                       : lang_grow_stacks(I, nframes, nvals);
}
/* Removes key, whose lang_hash_value is hash, from t if there
 * (lang_value.c); never allocates. */
void lang_hash_remove_hashed(lang_hash *t, lval key, uint64_t hash);

/* The random-choice hook of every sampler: under a query it replays or
 * records the choice; outside one it samples from the interpreter's RNG.
 * See lang_dist.c for the distributions. */
struct lang_dist;
lang_rc lang_choose(nsr_lang *I, const struct lang_dist *d, lval *out);
/* Adds `logw` to the running query's log weight (factor); LANG_ABORT when
 * it makes the weight zero. Outside a query: an error. */
lang_rc lang_factor(nsr_lang *I, double logw);
/* Weights the current run by the log density (mass) at `value` of the
 * built-in sampler `erp` with its `nargs` parameters `args`, instead of
 * drawing (an observation; lang_infer.c). Outside a query it is
 * lang_factor's error. */
lang_rc lang_observe_draw(nsr_lang *I, lval erp, lval *args, int nargs, lval value);

#endif /* NSR_LANG_INTERNAL_H */
