/* ffi_sig.c: signatures as type names, bound with dlsym and libffi. */
#include "nsr_ffi.h"

#include <dlfcn.h>
#include <string.h>

static const struct {
  const char *c_name, *json_type;
  ffi_type *type;
} kinds[FFI_SIG_KINDS] = {
    [FFI_SIG_INT64] = {"int64", "integer", &ffi_type_sint64},
    [FFI_SIG_DOUBLE] = {"double", "number", &ffi_type_double},
    [FFI_SIG_BOOL] = {"bool", "boolean", &ffi_type_uint8},
    [FFI_SIG_STRING] = {"const char*", "string", &ffi_type_pointer},
};

const char ffi_sig_kind_names[] = "int64, double, bool, const char*";

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
  return false;
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
   * the value is a pointer to the member libffi reads. */
  void *ptrs[FFI_SIG_MAX_PARAMS];
  for (size_t i = 0; i < f->n_params; i++) ptrs[i] = (void *)&args[i];
  union {
    ffi_arg a;
    int64_t i;
    double d;
    const char *s;
  } rv = {0};
  ffi_call((ffi_cif *)&f->cif, f->fn, &rv, ptrs);
  ffi_sig_value out;
  switch (f->ret) {
    case FFI_SIG_INT64: out.i = rv.i; break;
    case FFI_SIG_DOUBLE: out.d = rv.d; break;
    /* libffi widens small integral returns to a whole ffi_arg. */
    case FFI_SIG_BOOL: out.b = (uint8_t)rv.a != 0; break;
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
