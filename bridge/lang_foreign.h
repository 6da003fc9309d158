/* lang_foreign.h: the language's `foreign` form, which binds a C function
 * by the signature strings of a tool manifest (see ffi_sig.h):
 *
 *   (foreign LIBRARY FUNCTION RETURN (PARAM ...) [NAME])
 *   (foreign "libm.so.6" "cbrt" "double" '("double"))   ; then (cbrt 27.0) => 3.0
 *
 * LIBRARY, FUNCTION and the type names are strings (or symbols); NAME, a
 * string or symbol, is the global the procedure is bound to (default
 * FUNCTION). Like define, the form returns nothing useful. The procedure
 * takes exactly the declared arguments: int64 an exact integer, double any
 * number, bool #t or #f, "const char*" a string (read up to its first NUL
 * byte); a returned NULL string is #f.
 *
 * The host decides what may be bound, one function at a time: an entry
 * "LIBRARY:FUNCTION" allows exactly that pair, LIBRARY byte for byte as the
 * program writes it (it is what dlopen receives: a bare file name such as
 * "libm.so.6" goes to the linker's search, anything with a '/' is a path).
 * Nothing else reaches dlopen or dlsym: a pair that is not listed fails
 * before either is called. With no entries every use of `foreign` fails
 * with a message saying how the host allows one. */
#ifndef NSR_LANG_FOREIGN_H
#define NSR_LANG_FOREIGN_H

#include "nsr_lang.h"

/* Longest allow-list; also the most distinct functions one interpreter
 * may bind (rebinding the same one reuses its binding). */
#define LANG_FOREIGN_MAX 64

typedef struct lang_foreign lang_foreign;

nsr_code lang_foreign_new(lang_foreign **out, nsr_error *err);
/* Frees the allow-list and every binding: after the interpreters it served
 * are freed. NULL is allowed. */
void lang_foreign_free(lang_foreign *F);

/* Adds "LIBRARY:FUNCTION" (split at the last ':'; FUNCTION must be a C
 * identifier). NSR_ERR_INVALID for a malformed entry or a full list. */
nsr_code lang_foreign_allow(lang_foreign *F, const char *entry, nsr_error *err);
size_t lang_foreign_count(const lang_foreign *F);

/* Defines `foreign` in lang. F serves one interpreter at a time: the
 * bindings made for the previous one (which must already be freed) are
 * dropped. */
nsr_code lang_foreign_install(lang_foreign *F, nsr_lang *lang, nsr_error *err);

#endif
