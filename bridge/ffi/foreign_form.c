/* lang_foreign.c: `foreign`, C functions bound by signature strings from
 * inside a program, limited to the host's allow-list. */
#include "nsr_ffi.h"

#include <string.h>


typedef struct allowed {
  char *library;  /* owns the entry's text, cut at the ':' */
  const char *function;
} allowed;

typedef struct binding {
  const allowed *entry;
  ffi_sig sig;
} binding;

struct lang_foreign {
  allowed allow[LANG_FOREIGN_MAX];
  size_t n_allow;
  binding *binds[LANG_FOREIGN_MAX];
  size_t n_binds;
};

nsr_code lang_foreign_new(lang_foreign **out, nsr_error *err) {
  *out = nsr_calloc(1, sizeof **out);
  return *out ? NSR_OK : nsr_fail(err, NSR_ERR_NOMEM, "foreign: out of memory");
}

static void drop_bindings(lang_foreign *F) {
  for (size_t i = 0; i < F->n_binds; i++) {
    ffi_sig_unbind(&F->binds[i]->sig);
    nsr_free(F->binds[i]);
  }
  F->n_binds = 0;
}

void lang_foreign_free(lang_foreign *F) {
  if (F == NULL) return;
  drop_bindings(F);
  for (size_t i = 0; i < F->n_allow; i++) nsr_free(F->allow[i].library);
  nsr_free(F);
}

nsr_code lang_foreign_allow(lang_foreign *F, const char *entry, nsr_error *err) {
  const char *colon = strrchr(entry, ':');
  if (colon == NULL || colon == entry || !ffi_sig_is_identifier(colon + 1)) {
    return nsr_fail(err, NSR_ERR_INVALID,
                    "foreign allow-list entry '%.200s' must be LIBRARY:FUNCTION, e.g. libm.so.6:cbrt",
                    entry);
  }
  if (F->n_allow == LANG_FOREIGN_MAX) {
    return nsr_fail(err, NSR_ERR_INVALID, "foreign allow-list: at most %d entries", LANG_FOREIGN_MAX);
  }
  char *copy = nsr_strdup(entry);
  if (copy == NULL) return nsr_fail(err, NSR_ERR_NOMEM, "foreign: out of memory");
  copy[colon - entry] = '\0';
  F->allow[F->n_allow++] = (allowed){copy, copy + (colon - entry) + 1};
  return NSR_OK;
}

size_t lang_foreign_count(const lang_foreign *F) { return F->n_allow; }

static const allowed *find_allowed(const lang_foreign *F, const char *library,
                                   const char *function) {
  for (size_t i = 0; i < F->n_allow; i++) {
    if (strcmp(F->allow[i].library, library) == 0 && strcmp(F->allow[i].function, function) == 0) {
      return &F->allow[i];
    }
  }
  return NULL;
}

/* ---- calling a bound function ------------------------------------------- */

static nsr_code to_c(const binding *b, size_t i, nsr_lang_value v, ffi_sig_value *out,
                     nsr_error *err) {
  const char *want = NULL;
  switch (b->sig.kinds[i]) {
    case FFI_SIG_INT64:
      if (v.type == NSR_LANG_INT) out->i = v.as.i;
      else want = "an exact integer";
      break;
    case FFI_SIG_DOUBLE:
      if (!nsr_lang_to_double(v, &out->d)) want = "a number";
      break;
    case FFI_SIG_BOOL:
      if (v.type == NSR_LANG_BOOL) out->b = v.as.b;
      else want = "#t or #f";
      break;
    default:
      if (v.type == NSR_LANG_STRING) out->s = nsr_lang_to_string(v);
      else want = "a string";
      break;
  }
  if (want == NULL) return NSR_OK;
  /* The interpreter prefixes the procedure's name. */
  return nsr_fail(err, NSR_ERR_INVALID, "argument %zu must be %s (%s)", i + 1, want,
                  ffi_sig_kind_name(b->sig.kinds[i]));
}

static nsr_code call_bound(nsr_lang *lang, void *user, const nsr_lang_value *args, int nargs,
                           nsr_lang_value *out, nsr_error *err) {
  const binding *b = user;
  ffi_sig_value vals[FFI_SIG_MAX_PARAMS];
  for (int i = 0; i < nargs; i++) {
    nsr_code rc = to_c(b, (size_t)i, args[i], &vals[i], err);
    if (rc != NSR_OK) return rc;
  }
  ffi_sig_value rv = ffi_sig_call(&b->sig, vals);
  switch (b->sig.ret) {
    case FFI_SIG_INT64: *out = nsr_lang_int(rv.i); return NSR_OK;
    case FFI_SIG_DOUBLE: *out = nsr_lang_real(rv.d); return NSR_OK;
    case FFI_SIG_BOOL: *out = nsr_lang_bool(rv.b); return NSR_OK;
    default:
      if (rv.s == NULL) {
        *out = nsr_lang_bool(false);
        return NSR_OK;
      }
      return nsr_lang_string(lang, rv.s, strlen(rv.s), out, err);
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

static bool same_signature(const ffi_sig *a, const ffi_sig *b) {
  return a->ret == b->ret && a->n_params == b->n_params &&
         memcmp(a->kinds, b->kinds, a->n_params * sizeof a->kinds[0]) == 0;
}

/* The binding of entry with signature want: an earlier one of this
 * interpreter, or a new one (dlopen and dlsym happen only here, for an
 * allow-listed pair). */
static nsr_code get_binding(lang_foreign *F, const allowed *entry, const ffi_sig *want,
                            binding **out, nsr_error *err) {
  for (size_t i = 0; i < F->n_binds; i++) {
    if (F->binds[i]->entry == entry && same_signature(&F->binds[i]->sig, want)) {
      *out = F->binds[i];
      return NSR_OK;
    }
  }
  if (F->n_binds == LANG_FOREIGN_MAX) {
    return nsr_fail(err, NSR_ERR_LIMIT, "at most %d bindings per program", LANG_FOREIGN_MAX);
  }
  binding *b = nsr_calloc(1, sizeof *b);
  if (b == NULL) return nsr_fail(err, NSR_ERR_NOMEM, "out of memory");
  b->entry = entry;
  b->sig = *want;
  ffi_sig_lib *lib = NULL;
  nsr_code rc = ffi_sig_lib_open(entry->library, &lib, err);
  if (rc == NSR_OK) rc = ffi_sig_bind(&b->sig, lib, entry->function, err);
  ffi_sig_lib_release(lib); /* the binding holds its own reference */
  if (rc != NSR_OK) {
    nsr_free(b);
    return rc;
  }
  F->binds[F->n_binds++] = b;
  *out = b;
  return NSR_OK;
}

static nsr_code foreign_form(nsr_lang *lang, void *user, const nsr_lang_value *args, int nargs,
                             nsr_lang_value *out, nsr_error *err) {
  lang_foreign *F = user;
  const char *library = nsr_lang_to_string(args[0]);
  const char *function = nsr_lang_to_string(args[1]);
  const char *name = nargs > 4 ? nsr_lang_to_string(args[4]) : function;
  if (library == NULL || function == NULL || name == NULL) {
    return nsr_fail(err, NSR_ERR_INVALID,
                    "library, function and name must be strings or symbols");
  }
  /* The allow-list is consulted before anything touches the library. */
  const allowed *entry = find_allowed(F, library, function);
  if (entry == NULL) {
    return nsr_fail(err, NSR_ERR_INVALID,
                    "'%.200s:%.100s' is not allow-listed by the host%s", library, function,
                    F->n_allow == 0 ? " (it allows none; nsr run and nsr mcp take --foreign LIBRARY:FUNCTION)"
                                    : "");
  }
  ffi_sig want = {0};
  binding *b = NULL;
  nsr_code rc = read_signature(args[2], args[3], &want, err);
  if (rc == NSR_OK) rc = get_binding(F, entry, &want, &b, err);
  if (rc == NSR_OK) {
    int n = (int)b->sig.n_params;
    rc = nsr_lang_define_primitive(lang, name, n, n, call_bound, b, err);
  }
  out->type = NSR_LANG_UNSPECIFIED;
  return rc;
}

nsr_code lang_foreign_install(lang_foreign *F, nsr_lang *lang, nsr_error *err) {
  drop_bindings(F);
  return nsr_lang_define_primitive(lang, "foreign", 4, 5, foreign_form, F, err);
}
