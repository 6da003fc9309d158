/* nsr_ffi.h: the public API of C functions by signature strings (libffi) and the language's `foreign` form (bridge/ffi/).
 * Sources and private headers live in that folder. */
#ifndef NSR_FFI_PUBLIC_H
#define NSR_FFI_PUBLIC_H

#include <ffi.h>
#include <stdbool.h>
#include <stdint.h>

#include "nsr_core.h"
#include "nsr_lang.h"

/* ---- ffi_sig ------------------------------------------------------------- */
/* ffi_sig: calling a C function by a signature written as type names,
 * through dlopen/dlsym and libffi. Shared by foreign tools (ffi_tools.c,
 * JSON arguments) and the language's `foreign` form (foreign_form.c,
 * interpreter values), so both accept exactly the same signatures:
 *
 *   "int64"        int64_t   (aliases "int64_t", and "long" where long is 64 bits)
 *   "int32"        int32_t   (aliases "int32_t", "int": C int is 32 bits on
 *                            every ABI nsr builds for)
 *   "uint64"       uint64_t  (aliases "uint64_t", and "size_t" where size_t is
 *                            64 bits); values past INT64_MAX cannot be carried
 *                            and are refused, never wrapped
 *   "double"       double
 *   "bool"         C bool (_Bool, one byte on every ABI libffi supports)
 *   "const char*"  a NUL-terminated string the function only reads; a
 *                  returned one is copied by the caller, never freed
 *
 * An alias is the same kind: "int" and "int32" are one type. No other
 * pointers and no variadic functions: nothing a caller passes can become
 * an address the function writes through. */

#define FFI_SIG_MAX_PARAMS 16

typedef enum ffi_sig_kind {
  FFI_SIG_INT64,
  FFI_SIG_INT32,
  FFI_SIG_UINT64,
  FFI_SIG_DOUBLE,
  FFI_SIG_BOOL,
  FFI_SIG_STRING,
  FFI_SIG_KINDS
} ffi_sig_kind;

/* One argument or result, in the member of its kind (int32 in i32, uint64
 * in u); every member starts at the union's first byte, which is where
 * libffi reads an argument and writes a result. */
typedef union ffi_sig_value {
  int64_t i;
  int32_t i32;
  uint64_t u;
  double d;
  bool b;
  const char *s;
} ffi_sig_value;

/* An open shared library, reference-counted: each bound function holds a
 * reference, and the last release closes it. */
typedef struct ffi_sig_lib ffi_sig_lib;

/* A bound function. Callers fill ret, n_params and kinds (or ffi_sig_parse
 * does), then bind. */
typedef struct ffi_sig {
  ffi_sig_kind ret;
  size_t n_params;
  ffi_sig_kind kinds[FFI_SIG_MAX_PARAMS];
  /* set by ffi_sig_bind */
  ffi_sig_lib *lib;
  void (*fn)(void);
  ffi_type *types[FFI_SIG_MAX_PARAMS];
  ffi_cif cif;
} ffi_sig;

/* The kind a type name or alias denotes; false for any other name. */
bool ffi_sig_kind_of(const char *name, ffi_sig_kind *out);
/* The type name of a kind ("const char*"), and the JSON Schema type that
 * carries its values ("integer", "number", "boolean", "string"). */
const char *ffi_sig_kind_name(ffi_sig_kind kind);
const char *ffi_sig_json_type(ffi_sig_kind kind);
/* The accepted type names, for messages and docs: the kinds' names, then
 * the aliases this build accepts. */
extern const char ffi_sig_kind_names[];

/* True for the integer kinds (int64, int32, uint64); *min and *max then
 * hold the values an argument of that kind may take (uint64's max is
 * INT64_MAX: neither the language nor JSON carries more). */
bool ffi_sig_int_range(ffi_sig_kind kind, int64_t *min, int64_t *max);
/* Stores v as an argument of integer kind `kind` in its member of *out;
 * false (out untouched) when v is outside the kind's range. */
bool ffi_sig_int_arg(ffi_sig_kind kind, int64_t v, ffi_sig_value *out);
/* The result rv of integer kind `kind` as an int64 in *out; false when it
 * does not fit (a uint64 past INT64_MAX), so that nothing wraps. */
bool ffi_sig_int_result(ffi_sig_kind kind, ffi_sig_value rv, int64_t *out);

/* Parses a C-like signature "RETURN(PARAM, ...)" -- "size_t(const char*)",
 * "double(double, int64)", "int64()" or "int64(void)" -- into sig's ret,
 * n_params and kinds. Spaces around names and before '*' do not matter.
 * NSR_ERR_INVALID naming the text and what is wrong. */
nsr_code ffi_sig_parse(const char *text, ffi_sig *sig, nsr_error *err);
/* Writes sig's kinds as "RETURN(PARAM, ...)" with canonical names into
 * buf (cut to n bytes); returns buf. */
const char *ffi_sig_format(const ffi_sig *sig, char *buf, size_t n);
/* True when a and b have the same return and parameter kinds. */
bool ffi_sig_same(const ffi_sig *a, const ffi_sig *b);

/* dlopens `path` (RTLD_NOW | RTLD_LOCAL) exactly as given: a bare file name
 * goes to the linker's search. NSR_ERR_INVALID with dlerror's reason. The
 * caller holds one reference. */
nsr_code ffi_sig_lib_open(const char *path, ffi_sig_lib **out, nsr_error *err);
/* Drops one reference; NULL is allowed. */
void ffi_sig_lib_release(ffi_sig_lib *lib);

/* Looks `symbol` (a C identifier the caller has vetted) up in lib and
 * prepares the call interface; on success f holds a reference to lib.
 * NSR_ERR_INVALID when the symbol is missing or libffi refuses. */
nsr_code ffi_sig_bind(ffi_sig *f, ffi_sig_lib *lib, const char *symbol, nsr_error *err);
/* Releases what ffi_sig_bind took; an unbound f is left alone. */
void ffi_sig_unbind(ffi_sig *f);

/* Calls a bound f with f->n_params arguments of its kinds. */
ffi_sig_value ffi_sig_call(const ffi_sig *f, const ffi_sig_value *args);

/* True when s is a C identifier: [A-Za-z_][A-Za-z0-9_]*. */
bool ffi_sig_is_identifier(const char *s);

/* ---- foreign_form -------------------------------------------------------- */
/* foreign_form: the language's `foreign` form, which binds a C function
 * the host allows, with the signature the host pinned:
 *
 *   (foreign LIBRARY FUNCTION [RETURN (PARAM ...) [NAME]])
 *   (foreign "libm.so.6" "cbrt")                        ; then (cbrt 27.0) => 3.0
 *   (foreign "libm.so.6" "cbrt" "double" '("double"))   ; the same, spelt out
 *
 * LIBRARY, FUNCTION and the type names are strings (or symbols); NAME, a
 * string or symbol, is the global the procedure is bound to (default
 * FUNCTION). Like define, the form returns nothing useful. RETURN and
 * (PARAM ...), when given, must denote the pinned signature exactly (type
 * aliases allowed); otherwise the form fails naming both. The procedure
 * takes exactly the pinned arguments: an integer kind an exact integer in
 * its range, double any number, bool #t or #f, "const char*" a string
 * (read up to its first NUL byte); a returned NULL string is #f.
 *
 * The host decides what may be bound, one function at a time: an entry
 * "LIBRARY:FUNCTION:SIGNATURE" (SIGNATURE as ffi_sig_parse reads it, e.g.
 * "libc.so.6:strlen:size_t(const char*)") allows exactly that pair with
 * that signature, LIBRARY byte for byte as the program writes it (it is
 * what dlopen receives: a bare file name such as "libm.so.6" goes to the
 * linker's search, anything with a '/' is a path). Nothing else reaches
 * dlopen or dlsym: a pair that is not listed fails before either is
 * called. With no entries every use of `foreign` fails with a message
 * saying how the host allows one. */

/* Longest allow-list; each entry is bound at most once per interpreter
 * (rebinding the same one reuses its binding). */
#define LANG_FOREIGN_MAX 64

typedef struct lang_foreign lang_foreign;

nsr_code lang_foreign_new(lang_foreign **out, nsr_error *err);
/* Frees the allow-list and every binding: after the interpreters it served
 * are freed. NULL is allowed. */
void lang_foreign_free(lang_foreign *F);

/* Adds "LIBRARY:FUNCTION:SIGNATURE" (SIGNATURE after the last ':',
 * FUNCTION, a C identifier, after the ':' before it). NSR_ERR_INVALID, with
 * a one-line message showing the expected form, for a malformed entry
 * (one without a signature included), a function listed twice or a full
 * list. */
nsr_code lang_foreign_allow(lang_foreign *F, const char *entry, nsr_error *err);
size_t lang_foreign_count(const lang_foreign *F);

/* Defines `foreign` in lang. F serves one interpreter at a time: the
 * bindings made for the previous one (which must already be freed) are
 * dropped. */
nsr_code lang_foreign_install(lang_foreign *F, nsr_lang *lang, nsr_error *err);

#endif
