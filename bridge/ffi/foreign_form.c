/* foreign_form.c: `foreign`, C functions bound from inside a program,
 * limited to the host's allow-list, each with the signature the host pinned. */
#include "nsr_ffi.h"

#include <string.h>


typedef struct allowed {
  char *library;  /* owns the entry's text, cut at the ':'s */
  const char *function;
  ffi_sig sig;    /* pinned by the host; bound on the first use */
} allowed;

struct lang_foreign {
  allowed allow[LANG_FOREIGN_MAX];
  size_t n_allow;
};

/* The form the messages show. */
#define ENTRY_FORM "LIBRARY:FUNCTION:SIGNATURE, e.g. 'libc.so.6:strlen:size_t(const char*)'"

nsr_code lang_foreign_new(lang_foreign **out, nsr_error *err) {
  *out = nsr_calloc(1, sizeof **out);
  return *out ? NSR_OK : nsr_fail(err, NSR_ERR_NOMEM, "foreign: out of memory");
}

static void drop_bindings(lang_foreign *F) {
  for (size_t i = 0; i < F->n_allow; i++) ffi_sig_unbind(&F->allow[i].sig);
}

void lang_foreign_free(lang_foreign *F) {
  if (F == NULL) return;
  drop_bindings(F);
  for (size_t i = 0; i < F->n_allow; i++) nsr_free(F->allow[i].library);
  nsr_free(F);
}

static allowed *find_allowed(lang_foreign *F, const char *library, const char *function) {
  for (size_t i = 0; i < F->n_allow; i++) {
    if (strcmp(F->allow[i].library, library) == 0 && strcmp(F->allow[i].function, function) == 0) {
      return &F->allow[i];
    }
  }
  return NULL;
}

/* Splits entry into a (library, function, signature) triple in a's fresh
 * copy. The signature is after the last ':' (type names have none); the
 * function before it; the library, which may hold ':', is the rest. */
static nsr_code parse_entry(const char *entry, allowed *a, nsr_error *err) {
  const char *sig = strrchr(entry, ':');
  if (sig == NULL || strchr(sig, '(') == NULL) {
    return nsr_fail(err, NSR_ERR_INVALID,
                    "foreign allow-list entry '%.200s' must be " ENTRY_FORM
                    ": the host pins each function's C signature", entry);
  }
  const char *fn = sig;
  while (fn > entry && fn[-1] != ':') fn--;
  size_t lib_len = fn > entry ? (size_t)(fn - entry) - 1 : 0, fn_len = (size_t)(sig - fn);
  char *copy = nsr_strdup(entry);
  if (copy == NULL) return nsr_fail(err, NSR_ERR_NOMEM, "foreign: out of memory");
  copy[sig - entry] = '\0';
  *a = (allowed){copy, copy + (fn - entry), {0}};
  if (lib_len > 0) copy[lib_len] = '\0';
  nsr_code rc = NSR_OK;
  if (lib_len == 0 || fn_len == 0 || !ffi_sig_is_identifier(a->function)) {
    rc = nsr_fail(err, NSR_ERR_INVALID, "foreign allow-list entry '%.200s' must be " ENTRY_FORM,
                  entry);
  }
  if (rc == NSR_OK) {
    rc = ffi_sig_parse(sig + 1, &a->sig, err);
    if (rc != NSR_OK) nsr_error_prefix(err, "foreign allow-list entry '%.200s': ", entry);
  }
  if (rc != NSR_OK) nsr_free(copy);
  return rc;
}

nsr_code lang_foreign_allow(lang_foreign *F, const char *entry, nsr_error *err) {
  if (F->n_allow == LANG_FOREIGN_MAX) {
    return nsr_fail(err, NSR_ERR_INVALID, "foreign allow-list: at most %d entries", LANG_FOREIGN_MAX);
  }
  allowed a;
  nsr_code rc = parse_entry(entry, &a, err);
  if (rc != NSR_OK) return rc;
  /* One signature per function: a second entry could only contradict it. */
  if (find_allowed(F, a.library, a.function) != NULL) {
    rc = nsr_fail(err, NSR_ERR_INVALID, "foreign allow-list: '%.200s:%.100s' is listed twice",
                  a.library, a.function);
    nsr_free(a.library);
    return rc;
  }
  F->allow[F->n_allow++] = a;
  return NSR_OK;
}

size_t lang_foreign_count(const lang_foreign *F) { return F->n_allow; }

/* ---- calling a bound function ------------------------------------------- */

/* Argument i of sig from the program's value v. */
static nsr_code to_c(const ffi_sig *sig, size_t i, nsr_lang_value v, ffi_sig_value *out,
                     nsr_error *err) {
  const char *want = NULL;
  int64_t min, max;
  switch (sig->kinds[i]) {
    case FFI_SIG_DOUBLE:
      if (!nsr_lang_to_double(v, &out->d)) want = "a number";
      break;
    case FFI_SIG_BOOL:
      if (v.type == NSR_LANG_BOOL) out->b = v.as.b;
      else want = "#t or #f";
      break;
    case FFI_SIG_STRING:
      if (v.type == NSR_LANG_STRING) out->s = nsr_lang_to_string(v);
      else want = "a string";
      break;
    default:
      if (v.type != NSR_LANG_INT) {
        want = "an exact integer";
      } else if (!ffi_sig_int_arg(sig->kinds[i], v.as.i, out)) {
        /* Only the narrower kinds refuse an exact integer: say their range. */
        ffi_sig_int_range(sig->kinds[i], &min, &max);
        return nsr_fail(err, NSR_ERR_INVALID, "argument %zu must be from %lld to %lld (%s), not %lld",
                        i + 1, (long long)min, (long long)max, ffi_sig_kind_name(sig->kinds[i]),
                        (long long)v.as.i);
      }
      break;
  }
  if (want == NULL) return NSR_OK;
  /* The interpreter prefixes the procedure's name. */
  return nsr_fail(err, NSR_ERR_INVALID, "argument %zu must be %s (%s)", i + 1, want,
                  ffi_sig_kind_name(sig->kinds[i]));
}

static nsr_code call_bound(nsr_lang *lang, void *user, const nsr_lang_value *args, int nargs,
                           nsr_lang_value *out, nsr_error *err) {
  const allowed *a = user;
  ffi_sig_value vals[FFI_SIG_MAX_PARAMS];
  for (int i = 0; i < nargs; i++) {
    nsr_code rc = to_c(&a->sig, (size_t)i, args[i], &vals[i], err);
    if (rc != NSR_OK) return rc;
  }
  ffi_sig_value rv = ffi_sig_call(&a->sig, vals);
  int64_t n;
  switch (a->sig.ret) {
    case FFI_SIG_DOUBLE: *out = nsr_lang_real(rv.d); return NSR_OK;
    case FFI_SIG_BOOL: *out = nsr_lang_bool(rv.b); return NSR_OK;
    case FFI_SIG_STRING:
      if (rv.s == NULL) {
        *out = nsr_lang_bool(false);
        return NSR_OK;
      }
      return nsr_lang_string(lang, rv.s, strlen(rv.s), out, err);
    default:
      if (!ffi_sig_int_result(a->sig.ret, rv, &n)) {
        return nsr_fail(err, NSR_ERR_RANGE, "returned %llu, past the largest exact integer (%lld)",
                        (unsigned long long)rv.u, (long long)INT64_MAX);
      }
      *out = nsr_lang_int(n);
      return NSR_OK;
  }
}

/* ---- the form (messages without "foreign: ", which the interpreter adds) */

static nsr_code read_kind(nsr_lang_value v, const char *what, ffi_sig_kind *out, nsr_error *err) {
  const char *name = nsr_lang_to_string(v);
  if (ffi_sig_kind_of(name, out)) return NSR_OK;
  return nsr_fail(err, NSR_ERR_INVALID, "%s must be one of %s", what, ffi_sig_kind_names);
}

/* The signature (RETURN (PARAM ...)) into sig. */
static nsr_code read_signature(nsr_lang_value ret, nsr_lang_value params, ffi_sig *sig,
                               nsr_error *err) {
  nsr_code rc = read_kind(ret, "the return type", &sig->ret, err);
  int64_t n = nsr_lang_length(params);
  if (rc == NSR_OK && (n < 0 || params.type == NSR_LANG_VECTOR || n > FFI_SIG_MAX_PARAMS)) {
    rc = nsr_fail(err, NSR_ERR_INVALID,
                  "the parameter types must be a list of at most %d type names",
                  FFI_SIG_MAX_PARAMS);
  }
  for (int64_t i = 0; rc == NSR_OK && i < n; i++) {
    rc = read_kind(nsr_lang_ref(params, i), "each parameter type", &sig->kinds[i], err);
  }
  sig->n_params = (size_t)(n > 0 ? n : 0);
  return rc;
}

/* A program's declaration (RETURN (PARAM ...)) checked against the
 * signature the host pinned for a. */
static nsr_code check_declared(const allowed *a, nsr_lang_value ret, nsr_lang_value params,
                               nsr_error *err) {
  ffi_sig declared = {0};
  nsr_code rc = read_signature(ret, params, &declared, err);
  if (rc != NSR_OK || ffi_sig_same(&declared, &a->sig)) return rc;
  char pinned[256], wrote[256];
  return nsr_fail(err, NSR_ERR_INVALID,
                  "the host pins '%.200s:%.100s' as %s, but the program declares %s", a->library,
                  a->function, ffi_sig_format(&a->sig, pinned, sizeof pinned),
                  ffi_sig_format(&declared, wrote, sizeof wrote));
}

/* Binds a on its first use: dlopen and dlsym happen only here, for an
 * allow-listed pair and the host's signature. */
static nsr_code ensure_bound(allowed *a, nsr_error *err) {
  if (a->sig.fn != NULL) return NSR_OK;
  ffi_sig_lib *lib = NULL;
  nsr_code rc = ffi_sig_lib_open(a->library, &lib, err);
  if (rc == NSR_OK) rc = ffi_sig_bind(&a->sig, lib, a->function, err);
  ffi_sig_lib_release(lib); /* the binding holds its own reference */
  return rc;
}

static nsr_code foreign_form(nsr_lang *lang, void *user, const nsr_lang_value *args, int nargs,
                             nsr_lang_value *out, nsr_error *err) {
  lang_foreign *F = user;
  out->type = NSR_LANG_UNSPECIFIED;
  if (nargs == 3) {
    return nsr_fail(err, NSR_ERR_INVALID,
                    "give RETURN and (PARAM ...) together, or neither to take the host's signature");
  }
  const char *library = nsr_lang_to_string(args[0]);
  const char *function = nsr_lang_to_string(args[1]);
  const char *name = nargs > 4 ? nsr_lang_to_string(args[4]) : function;
  if (library == NULL || function == NULL || name == NULL) {
    return nsr_fail(err, NSR_ERR_INVALID,
                    "library, function and name must be strings or symbols");
  }
  /* The allow-list is consulted before anything touches the library. */
  allowed *a = find_allowed(F, library, function);
  if (a == NULL) {
    return nsr_fail(err, NSR_ERR_INVALID,
                    "'%.200s:%.100s' is not allow-listed by the host%s", library, function,
                    F->n_allow == 0 ? " (it allows none; nsr run and nsr mcp take --foreign "
                                      "LIBRARY:FUNCTION:SIGNATURE)"
                                    : "");
  }
  nsr_code rc = nargs >= 4 ? check_declared(a, args[2], args[3], err) : NSR_OK;
  if (rc == NSR_OK) rc = ensure_bound(a, err);
  if (rc == NSR_OK) {
    int n = (int)a->sig.n_params;
    rc = nsr_lang_define_primitive(lang, name, n, n, call_bound, a, err);
  }
  return rc;
}

nsr_code lang_foreign_install(lang_foreign *F, nsr_lang *lang, nsr_error *err) {
  drop_bindings(F);
  return nsr_lang_define_primitive(lang, "foreign", 2, 5, foreign_form, F, err);
}
