/* ffi_tools.c: foreign C functions as tools, through dlopen and libffi. */
#include "ffi_tools.h"

#include <math.h>
#include <string.h>

#include "nsr_ffi.h"
#include "fileio.h"
#include "json.h"
#include "tools_schema.h"

static const char manifest_schema[] =
    "{\"type\":\"object\",\"additionalProperties\":false,\"required\":[\"library\",\"functions\"],"
    "\"properties\":{\"library\":{\"type\":\"string\",\"maxLength\":4096},"
    "\"functions\":{\"type\":\"array\",\"minItems\":1,\"maxItems\":256,\"items\":{"
    "\"type\":\"object\",\"additionalProperties\":false,"
    "\"required\":[\"name\",\"description\",\"returns\",\"params\"],\"properties\":{"
    "\"name\":{\"type\":\"string\",\"maxLength\":128},\"tool\":{\"type\":\"string\",\"maxLength\":64},"
    "\"description\":{\"type\":\"string\",\"maxLength\":4096},"
    "\"returns\":{\"type\":\"string\",\"maxLength\":32},"
    "\"params\":{\"type\":\"array\",\"maxItems\":16,\"items\":{\"type\":\"object\","
    "\"additionalProperties\":false,\"required\":[\"name\",\"type\"],\"properties\":{"
    "\"name\":{\"type\":\"string\",\"maxLength\":64},"
    "\"type\":{\"type\":\"string\",\"maxLength\":32},"
    "\"description\":{\"type\":\"string\",\"maxLength\":4096}}}}}}}}}";

typedef struct ffi_function {
  ffi_sig sig;
  char *symbol;
  char *names[FFI_SIG_MAX_PARAMS];
} ffi_function;

static void function_free(void *p) {
  ffi_function *f = p;
  for (size_t i = 0; i < f->sig.n_params; i++) nsr_free(f->names[i]);
  nsr_free(f->symbol);
  ffi_sig_unbind(&f->sig);
  nsr_free(f);
}

/* ---- calls ---------------------------------------------------------------- */

static nsr_code marshal_arg(const ffi_function *f, size_t i, const json_t *v,
                            ffi_sig_value *out, nsr_error *err) {
  int64_t n;
  switch (f->sig.kinds[i]) {
    case FFI_SIG_DOUBLE: out->d = json_number_value(v); break;
    case FFI_SIG_BOOL: out->b = json_is_true(v); break;
    case FFI_SIG_STRING:
      out->s = json_string_value(v);
      /* C would see only the part before an embedded NUL. */
      if (strlen(out->s) != json_string_length(v)) {
        return nsr_fail(err, NSR_ERR_INVALID, "arguments.%s: the string contains a NUL byte",
                        f->names[i]);
      }
      break;
    default:
      /* A JSON integer exactly (a double would round past 2^53); an
       * integral real, which the schema bounds to the kind's range. */
      n = json_is_integer(v) ? (int64_t)json_integer_value(v) : (int64_t)json_real_value(v);
      if (!ffi_sig_int_arg(f->sig.kinds[i], n, out)) {
        return nsr_fail(err, NSR_ERR_INVALID, "arguments.%s: %lld is out of range for %s",
                        f->names[i], (long long)n, ffi_sig_kind_name(f->sig.kinds[i]));
      }
      break;
  }
  return NSR_OK;
}

static nsr_code result_json(const ffi_function *f, ffi_sig_value rv, json_t **value,
                            nsr_error *err) {
  int64_t n;
  switch (f->sig.ret) {
    case FFI_SIG_DOUBLE:
      if (!isfinite(rv.d)) {
        return nsr_fail(err, NSR_ERR_RANGE, "%s returned %g, which JSON cannot carry; check the arguments",
                        f->symbol, rv.d);
      }
      *value = nsr_json_real(rv.d);
      break;
    case FFI_SIG_BOOL: *value = json_boolean(rv.b); break;
    case FFI_SIG_STRING:
      *value = rv.s ? json_string(rv.s) : json_null();
      if (rv.s && *value == NULL) {
        return nsr_fail(err, NSR_ERR_FORMAT, "%s returned a string that is not UTF-8", f->symbol);
      }
      break;
    default:
      if (!ffi_sig_int_result(f->sig.ret, rv, &n)) {
        return nsr_fail(err, NSR_ERR_RANGE, "%s returned %llu, past the largest integer JSON carries here (%lld)",
                        f->symbol, (unsigned long long)rv.u, (long long)INT64_MAX);
      }
      *value = json_integer((json_int_t)n);
      break;
  }
  return *value ? NSR_OK : nsr_fail(err, NSR_ERR_NOMEM, "%s: out of memory", f->symbol);
}

static nsr_code ffi_tool_call(void *p, const json_t *args, json_t **result, nsr_error *err) {
  const ffi_function *f = p;
  ffi_sig_value vals[FFI_SIG_MAX_PARAMS];
  for (size_t i = 0; i < f->sig.n_params; i++) {
    nsr_code rc = marshal_arg(f, i, json_object_get(args, f->names[i]), &vals[i], err);
    if (rc != NSR_OK) return rc;
  }
  json_t *value = NULL;
  nsr_code rc = result_json(f, ffi_sig_call(&f->sig, vals), &value, err);
  if (rc != NSR_OK) return rc;
  *result = json_pack("{s:o}", "result", value);
  return *result ? NSR_OK : nsr_fail(err, NSR_ERR_NOMEM, "%s: out of memory", f->symbol);
}

/* ---- loading -------------------------------------------------------------- */

/* The input schema {"type":"object", properties from the params, all
 * required, nothing else} and the output schema {"result": T}. */
static nsr_code derive_schemas(const ffi_function *f, const json_t *params, json_t **input,
                               json_t **output, nsr_error *err) {
  json_t *props = json_object(), *required = json_array();
  nsr_code rc = props && required ? NSR_OK : nsr_fail(err, NSR_ERR_NOMEM, "out of memory");
  for (size_t i = 0; rc == NSR_OK && i < f->sig.n_params; i++) {
    const char *desc = json_string_value(json_object_get(json_array_get(params, i), "description"));
    json_t *prop = json_pack("{s:s}", "type", ffi_sig_json_type(f->sig.kinds[i]));
    /* Bounds narrower than a JSON integer's (int32, uint64's 0). */
    int64_t min, max;
    if (prop && ffi_sig_int_range(f->sig.kinds[i], &min, &max)) {
      if (min > INT64_MIN) json_object_set_new(prop, "minimum", json_integer((json_int_t)min));
      if (max < INT64_MAX) json_object_set_new(prop, "maximum", json_integer((json_int_t)max));
    }
    if (prop && desc) json_object_set_new(prop, "description", json_string(desc));
    rc = nsr_json_set(props, f->names[i], prop, err);
    if (rc == NSR_OK) rc = nsr_json_append(required, json_string(f->names[i]), err);
  }
  *input = json_pack("{s:s, s:o, s:o, s:b}", "type", "object", "properties", props, "required",
                     required, "additionalProperties", 0);
  json_t *ret = f->sig.ret == FFI_SIG_STRING
                    ? json_pack("{s:[s,s]}", "type", "string", "null")
                    : json_pack("{s:s}", "type", ffi_sig_json_type(f->sig.ret));
  *output = json_pack("{s:s, s:{s:o}, s:[s]}", "type", "object", "properties", "result", ret,
                      "required", "result");
  if (rc == NSR_OK && (*input == NULL || *output == NULL)) rc = nsr_fail(err, NSR_ERR_NOMEM, "out of memory");
  return rc;
}

static nsr_code read_params(ffi_function *f, const json_t *params, nsr_error *err) {
  size_t i;
  const json_t *p;
  json_array_foreach(params, i, p) {
    const char *name = json_string_value(json_object_get(p, "name"));
    if (!ffi_sig_is_identifier(name)) {
      return nsr_fail(err, NSR_ERR_FORMAT, "params[%zu]: '%s' is not a C identifier", i, name);
    }
    for (size_t k = 0; k < i; k++) {
      if (strcmp(f->names[k], name) == 0) {
        return nsr_fail(err, NSR_ERR_FORMAT, "params[%zu]: '%s' appears twice", i, name);
      }
    }
    const char *type = json_string_value(json_object_get(p, "type"));
    if (!ffi_sig_kind_of(type, &f->sig.kinds[i])) {
      return nsr_fail(err, NSR_ERR_FORMAT, "params[%zu]: type '%.64s' is not one of %s", i, type,
                      ffi_sig_kind_names);
    }
    f->names[i] = nsr_strdup(name);
    if (f->names[i] == NULL) return nsr_fail(err, NSR_ERR_NOMEM, "out of memory");
    f->sig.n_params = i + 1;
  }
  return NSR_OK;
}

/* Binds one manifest entry: looks its own symbol up in the library, builds
 * the call interface, and registers the tool. */
static nsr_code bind_function(tools_registry *reg, ffi_sig_lib *lib, const json_t *entry,
                              nsr_error *err) {
  ffi_function *f = nsr_calloc(1, sizeof *f);
  if (f == NULL) return nsr_fail(err, NSR_ERR_NOMEM, "out of memory");
  const char *symbol = json_string_value(json_object_get(entry, "name"));
  f->symbol = nsr_strdup(symbol);
  const json_t *params = json_object_get(entry, "params");
  const char *returns = json_string_value(json_object_get(entry, "returns"));
  nsr_code rc = f->symbol ? read_params(f, params, err) : nsr_fail(err, NSR_ERR_NOMEM, "out of memory");
  if (rc == NSR_OK && !ffi_sig_kind_of(returns, &f->sig.ret)) {
    rc = nsr_fail(err, NSR_ERR_FORMAT, "returns '%.64s' is not one of %s", returns, ffi_sig_kind_names);
  }
  if (rc == NSR_OK && !ffi_sig_is_identifier(symbol)) {
    rc = nsr_fail(err, NSR_ERR_FORMAT, "'%s' is not a C identifier", symbol);
  }
  if (rc == NSR_OK) rc = ffi_sig_bind(&f->sig, lib, symbol, err);
  /* Not marked read-only: nsr cannot know what a foreign function does. */
  tool_def def = {NULL, json_string_value(json_object_get(entry, "description")), NULL, NULL,
                  ffi_tool_call, f, function_free, false};
  const char *tool = json_string_value(json_object_get(entry, "tool"));
  def.name = tool ? tool : symbol;
  if (rc == NSR_OK) rc = derive_schemas(f, params, &def.input_schema, &def.output_schema, err);
  if (rc != NSR_OK) {
    tools_def_discard(&def);
    return rc;
  }
  return tools_register(reg, &def, err);
}

/* dlopen's argument: a bare file name goes to the linker's search; a
 * relative path is taken from the manifest's directory, so a manifest and
 * its library can move together. */
static nsr_code library_path(const char *manifest, const char *library, char **out,
                             nsr_error *err) {
  const char *slash = strrchr(manifest, '/');
  if (strchr(library, '/') == NULL || library[0] == '/' || slash == NULL) {
    *out = nsr_strdup(library);
  } else {
    size_t dir = (size_t)(slash - manifest) + 1, len = strlen(library);
    *out = nsr_malloc(dir + len + 1);
    if (*out) {
      memcpy(*out, manifest, dir);
      memcpy(*out + dir, library, len + 1);
    }
  }
  return *out ? NSR_OK : nsr_fail(err, NSR_ERR_NOMEM, "out of memory");
}

static nsr_code open_library(const char *manifest, const char *library, ffi_sig_lib **out,
                             nsr_error *err) {
  char *path;
  nsr_code rc = library_path(manifest, library, &path, err);
  if (rc != NSR_OK) return rc;
  rc = ffi_sig_lib_open(path, out, err);
  nsr_free(path);
  return rc;
}

nsr_code ffi_tools_load(tools_registry *reg, const char *path, nsr_error *err) {
  char *text = NULL;
  size_t len;
  json_t *manifest = NULL, *schema = NULL;
  ffi_sig_lib *lib = NULL;
  nsr_code rc = nsr_read_file(path, FFI_TOOLS_MAX_MANIFEST_BYTES, &text, &len, err);
  /* A missing or oversized manifest is a bad argument, not a failed run. */
  if (rc == NSR_ERR_IO || rc == NSR_ERR_LIMIT) rc = err->code = NSR_ERR_INVALID;
  if (rc == NSR_OK) {
    rc = nsr_json_parse(text, len, &manifest, err);
    if (rc == NSR_ERR_PARSE) rc = err->code = NSR_ERR_FORMAT;
  }
  if (rc == NSR_OK) rc = tools_schema_parse(manifest_schema, &schema, err);
  if (rc == NSR_OK) {
    rc = tools_schema_check(schema, manifest, "manifest", err);
    if (rc == NSR_ERR_INVALID) rc = err->code = NSR_ERR_FORMAT;
  }
  if (rc == NSR_OK) {
    rc = open_library(path, json_string_value(json_object_get(manifest, "library")), &lib, err);
  }
  const json_t *functions = json_object_get(manifest, "functions");
  for (size_t i = 0; rc == NSR_OK && i < json_array_size(functions); i++) {
    rc = bind_function(reg, lib, json_array_get(functions, i), err);
    if (rc != NSR_OK) nsr_error_prefix(err, "functions[%zu]: ", i);
  }
  ffi_sig_lib_release(lib); /* the loader's own reference */
  json_decref(schema);
  json_decref(manifest);
  nsr_free(text);
  if (rc != NSR_OK) nsr_error_prefix(err, "tool manifest '%s': ", path);
  return rc;
}
