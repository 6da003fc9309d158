/* ffi_sig.c: signatures as type names, bound with dlsym and libffi. */
#include "nsr_ffi.h"

#include <ctype.h>
#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

_Static_assert(sizeof(int) == 4, "the type name \"int\" means int32");

static const struct {
  const char *c_name, *json_type;
  ffi_type *type;
  int64_t min, max; /* integer kinds: what an argument may be */
} kinds[FFI_SIG_KINDS] = {
    [FFI_SIG_INT64] = {"int64", "integer", &ffi_type_sint64, INT64_MIN, INT64_MAX},
    [FFI_SIG_INT32] = {"int32", "integer", &ffi_type_sint32, INT32_MIN, INT32_MAX},
    [FFI_SIG_UINT64] = {"uint64", "integer", &ffi_type_uint64, 0, INT64_MAX},
    [FFI_SIG_DOUBLE] = {"double", "number", &ffi_type_double, 0, 0},
    [FFI_SIG_BOOL] = {"bool", "boolean", &ffi_type_uint8, 0, 0},
    [FFI_SIG_STRING] = {"const char*", "string", &ffi_type_pointer, 0, 0},
};

/* C spellings that denote a kind exactly on this build; `long` and
 * `size_t` only where they are 64 bits wide. */
static const struct {
  const char *name;
  ffi_sig_kind kind;
} aliases[] = {
    {"int64_t", FFI_SIG_INT64}, {"int32_t", FFI_SIG_INT32}, {"int", FFI_SIG_INT32},
    {"uint64_t", FFI_SIG_UINT64},
#if LONG_MAX == INT64_MAX
    {"long", FFI_SIG_INT64},
#endif
#if SIZE_MAX == UINT64_MAX
    {"size_t", FFI_SIG_UINT64},
#endif
};

const char ffi_sig_kind_names[] = "int64, int32, uint64, double, bool, const char* (or int64_t, "
#if LONG_MAX == INT64_MAX
                                  "long, "
#endif
                                  "int32_t, int, uint64_t"
#if SIZE_MAX == UINT64_MAX
                                  ", size_t"
#endif
                                  ")";

struct ffi_sig_lib {
  void *handle;
  size_t refs;
};

bool ffi_sig_kind_of(const char *name, ffi_sig_kind *out) {
  for (int k = 0; name && k < FFI_SIG_KINDS; k++) {
    if (strcmp(kinds[k].c_name, name) == 0) {
      *out = (ffi_sig_kind)k;
      return true;
    }
  }
  for (size_t a = 0; name && a < sizeof aliases / sizeof aliases[0]; a++) {
    if (strcmp(aliases[a].name, name) == 0) {
      *out = aliases[a].kind;
      return true;
    }
  }
  return false;
}

bool ffi_sig_int_range(ffi_sig_kind kind, int64_t *min, int64_t *max) {
  if (kind != FFI_SIG_INT64 && kind != FFI_SIG_INT32 && kind != FFI_SIG_UINT64) return false;
  *min = kinds[kind].min;
  *max = kinds[kind].max;
  return true;
}

bool ffi_sig_int_arg(ffi_sig_kind kind, int64_t v, ffi_sig_value *out) {
  int64_t min, max;
  if (!ffi_sig_int_range(kind, &min, &max) || v < min || v > max) return false;
  if (kind == FFI_SIG_INT32) out->i32 = (int32_t)v;
  else if (kind == FFI_SIG_UINT64) out->u = (uint64_t)v;
  else out->i = v;
  return true;
}

bool ffi_sig_int_result(ffi_sig_kind kind, ffi_sig_value rv, int64_t *out) {
  if (kind == FFI_SIG_UINT64) {
    if (rv.u > (uint64_t)INT64_MAX) return false;
    *out = (int64_t)rv.u;
  } else {
    *out = rv.i; /* ffi_sig_call widened an int32 into i */
  }
  return true;
}

/* ---- the C-like signature text ------------------------------------------ */

/* The type name in text[0..len) without surrounding spaces, runs of spaces
 * as one and no space before '*', into buf; false when it does not fit. */
static bool normalize_type(const char *text, size_t len, char *buf, size_t n) {
  size_t o = 0;
  bool space = false;
  for (size_t i = 0; i < len; i++) {
    if (isspace((unsigned char)text[i])) {
      space = o > 0;
      continue;
    }
    if (space && text[i] != '*') {
      if (o + 1 >= n) return false;
      buf[o++] = ' ';
    }
    space = false;
    if (o + 1 >= n) return false;
    buf[o++] = text[i];
  }
  buf[o] = '\0';
  return true;
}

/* The kind named by text[0..len); the message names the signature. */
static nsr_code parse_type(const char *sig_text, const char *text, size_t len, ffi_sig_kind *out,
                           nsr_error *err) {
  char name[32];
  if (normalize_type(text, len, name, sizeof name) && ffi_sig_kind_of(name, out)) return NSR_OK;
  return nsr_fail(err, NSR_ERR_INVALID, "signature '%.200s': '%.*s' is not one of %s", sig_text,
                  (int)(len < 64 ? len : 64), text, ffi_sig_kind_names);
}

nsr_code ffi_sig_parse(const char *text, ffi_sig *sig, nsr_error *err) {
  const char *open = strchr(text, '('), *close = strrchr(text, ')');
  if (open == NULL || close == NULL || close < open || close[1 + strspn(close + 1, " \t")] != '\0') {
    return nsr_fail(err, NSR_ERR_INVALID,
                    "signature '%.200s' must be RETURN(PARAM, ...), e.g. size_t(const char*)", text);
  }
  nsr_code rc = parse_type(text, text, (size_t)(open - text), &sig->ret, err);
  sig->n_params = 0;
  char inner[8];
  const char *p = open + 1;
  bool none = normalize_type(p, (size_t)(close - p), inner, sizeof inner) &&
              (inner[0] == '\0' || strcmp(inner, "void") == 0);
  while (rc == NSR_OK && !none) {
    const char *end = memchr(p, ',', (size_t)(close - p));
    if (end == NULL) end = close;
    if (sig->n_params == FFI_SIG_MAX_PARAMS) {
      return nsr_fail(err, NSR_ERR_INVALID, "signature '%.200s': at most %d parameters", text,
                      FFI_SIG_MAX_PARAMS);
    }
    rc = parse_type(text, p, (size_t)(end - p), &sig->kinds[sig->n_params++], err);
    if (end == close) break;
    p = end + 1;
  }
  return rc;
}

const char *ffi_sig_format(const ffi_sig *sig, char *buf, size_t n) {
  int o = snprintf(buf, n, "%s(", kinds[sig->ret].c_name);
  for (size_t i = 0; i < sig->n_params && o >= 0 && (size_t)o < n; i++) {
    o += snprintf(buf + o, n - (size_t)o, "%s%s", i ? ", " : "", kinds[sig->kinds[i]].c_name);
  }
  if (o >= 0 && (size_t)o < n) snprintf(buf + o, n - (size_t)o, ")");
  return buf;
}

bool ffi_sig_same(const ffi_sig *a, const ffi_sig *b) {
  return a->ret == b->ret && a->n_params == b->n_params &&
         memcmp(a->kinds, b->kinds, a->n_params * sizeof a->kinds[0]) == 0;
}

const char *ffi_sig_kind_name(ffi_sig_kind kind) { return kinds[kind].c_name; }
const char *ffi_sig_json_type(ffi_sig_kind kind) { return kinds[kind].json_type; }

nsr_code ffi_sig_lib_open(const char *path, ffi_sig_lib **out, nsr_error *err) {
  void *handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (handle == NULL) {
    const char *why = dlerror();
    return nsr_fail(err, NSR_ERR_INVALID, "cannot open library '%s': %s", path,
                    why ? why : "unknown error");
  }
  *out = nsr_calloc(1, sizeof **out);
  if (*out == NULL) {
    dlclose(handle);
    return nsr_fail(err, NSR_ERR_NOMEM, "out of memory");
  }
  (*out)->handle = handle;
  (*out)->refs = 1;
  return NSR_OK;
}

void ffi_sig_lib_release(ffi_sig_lib *lib) {
  if (lib && --lib->refs == 0) {
    dlclose(lib->handle);
    nsr_free(lib);
  }
}

nsr_code ffi_sig_bind(ffi_sig *f, ffi_sig_lib *lib, const char *symbol, nsr_error *err) {
  dlerror();
  void *sym = dlsym(lib->handle, symbol);
  if (sym == NULL) return nsr_fail(err, NSR_ERR_INVALID, "no function '%s' in the library", symbol);
  for (size_t i = 0; i < f->n_params; i++) f->types[i] = kinds[f->kinds[i]].type;
  if (ffi_prep_cif(&f->cif, FFI_DEFAULT_ABI, (unsigned)f->n_params, kinds[f->ret].type,
                   f->types) != FFI_OK) {
    return nsr_fail(err, NSR_ERR_INVALID, "libffi cannot call '%s' with this signature", symbol);
  }
  f->fn = (void (*)(void))sym;
  f->lib = lib;
  lib->refs++;
  return NSR_OK;
}

void ffi_sig_unbind(ffi_sig *f) {
  ffi_sig_lib_release(f->lib);
  f->lib = NULL;
  f->fn = NULL;
}

ffi_sig_value ffi_sig_call(const ffi_sig *f, const ffi_sig_value *args) {
  /* Every member of the union starts at its first byte, so a pointer to
   * the value is a pointer to the member of its kind, which libffi reads. */
  void *ptrs[FFI_SIG_MAX_PARAMS];
  for (size_t i = 0; i < f->n_params; i++) ptrs[i] = (void *)&args[i];
  union {
    ffi_arg a;
    ffi_sarg sa;
    int64_t i;
    uint64_t u;
    double d;
    const char *s;
  } rv = {0};
  ffi_call((ffi_cif *)&f->cif, f->fn, &rv, ptrs);
  ffi_sig_value out;
  switch (f->ret) {
    case FFI_SIG_INT64: out.i = rv.i; break;
    /* libffi widens integral returns narrower than ffi_arg to a whole
     * ffi_arg (signed ones through ffi_sarg): the result is that whole
     * register, never its first bytes, which hold the low bytes only on
     * little-endian machines. */
    case FFI_SIG_INT32: out.i = (int32_t)rv.sa; break;
    case FFI_SIG_BOOL: out.b = rv.a != 0; break;
    case FFI_SIG_UINT64: out.u = rv.u; break;
    case FFI_SIG_DOUBLE: out.d = rv.d; break;
    default: out.s = rv.s; break;
  }
  return out;
}

bool ffi_sig_is_identifier(const char *s) {
  if (s == NULL || !((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_')) {
    return false;
  }
  for (s++; *s; s++) {
    if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
          *s == '_')) {
      return false;
    }
  }
  return true;
}
