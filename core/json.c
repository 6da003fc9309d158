/* json.c: jansson helpers with nsr_error messages. */
#include "json.h"

void nsr_json_init(void) { json_set_alloc_funcs(nsr_malloc, nsr_free); }

static nsr_code json_missing(const char *key, const char *want,
                             nsr_error *err) {
  return nsr_fail(err, NSR_ERR_INVALID, "\"%s\" must be %s", key, want);
}

/* Looks up key; *present tells whether it is there and non-null. */
static json_t *json_lookup(const json_t *obj, const char *key, bool *present) {
  json_t *v = json_is_object(obj) ? json_object_get(obj, key) : NULL;
  *present = v != NULL && !json_is_null(v);
  return v;
}

nsr_code nsr_json_get_int_opt(const json_t *obj, const char *key, int64_t *out,
                              nsr_error *err) {
  bool present;
  json_t *v = json_lookup(obj, key, &present);
  if (!present) return NSR_OK;
  if (json_is_integer(v)) {
    *out = (int64_t)json_integer_value(v);
    return NSR_OK;
  }
  /* JSON writers often emit 3.0 for 3; accept integral reals. */
  if (json_is_real(v)) {
    double d = json_real_value(v);
    if (d == (double)(int64_t)d && d > -9.2e18 && d < 9.2e18) {
      *out = (int64_t)d;
      return NSR_OK;
    }
  }
  return json_missing(key, "an integer", err);
}

nsr_code nsr_json_get_int(const json_t *obj, const char *key, int64_t *out,
                          nsr_error *err) {
  bool present;
  json_lookup(obj, key, &present);
  if (!present) return json_missing(key, "an integer", err);
  return nsr_json_get_int_opt(obj, key, out, err);
}

nsr_code nsr_json_get_number_opt(const json_t *obj, const char *key,
                                 double *out, nsr_error *err) {
  bool present;
  json_t *v = json_lookup(obj, key, &present);
  if (!present) return NSR_OK;
  if (!json_is_number(v)) return json_missing(key, "a number", err);
  *out = json_number_value(v);
  return NSR_OK;
}

nsr_code nsr_json_get_number(const json_t *obj, const char *key, double *out,
                             nsr_error *err) {
  bool present;
  json_lookup(obj, key, &present);
  if (!present) return json_missing(key, "a number", err);
  return nsr_json_get_number_opt(obj, key, out, err);
}

nsr_code nsr_json_get_string_opt(const json_t *obj, const char *key,
                                 const char **out, nsr_error *err) {
  bool present;
  json_t *v = json_lookup(obj, key, &present);
  if (!present) return NSR_OK;
  if (!json_is_string(v)) return json_missing(key, "a string", err);
  *out = json_string_value(v);
  return NSR_OK;
}

nsr_code nsr_json_get_string(const json_t *obj, const char *key,
                             const char **out, nsr_error *err) {
  bool present;
  json_lookup(obj, key, &present);
  if (!present) return json_missing(key, "a string", err);
  return nsr_json_get_string_opt(obj, key, out, err);
}

nsr_code nsr_json_get_bool_opt(const json_t *obj, const char *key, bool *out,
                               nsr_error *err) {
  bool present;
  json_t *v = json_lookup(obj, key, &present);
  if (!present) return NSR_OK;
  if (!json_is_boolean(v)) return json_missing(key, "true or false", err);
  *out = json_is_true(v);
  return NSR_OK;
}

nsr_code nsr_json_set(json_t *obj, const char *key, json_t *value,
                      nsr_error *err) {
  if (value == NULL || json_object_set_new(obj, key, value) != 0) {
    return nsr_fail(err, NSR_ERR_NOMEM, "building JSON field \"%s\": out of memory", key);
  }
  return NSR_OK;
}

nsr_code nsr_json_append(json_t *array, json_t *value, nsr_error *err) {
  if (value == NULL || json_array_append_new(array, value) != 0) {
    return nsr_fail(err, NSR_ERR_NOMEM, "building JSON array: out of memory");
  }
  return NSR_OK;
}

nsr_code nsr_json_parse(const char *text, size_t len, json_t **out,
                        nsr_error *err) {
  json_error_t jerr;
  *out = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
  if (*out == NULL) {
    return nsr_fail(err, NSR_ERR_PARSE, "JSON at line %d column %d: %s",
                    jerr.line, jerr.column, jerr.text);
  }
  return NSR_OK;
}

char *nsr_json_dump(const json_t *value, int precision) {
  size_t flags = JSON_COMPACT | JSON_ENCODE_ANY;
  if (precision > 0 && precision <= 31) flags |= JSON_REAL_PRECISION(precision);
  return json_dumps(value, flags);
}
