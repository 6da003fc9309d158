/* tools_schema.c: a JSON Schema subset checker for tool arguments. */
#include "tools_schema.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "json.h"
#include "strbuf.h"

/* Longest path kept in messages; deeper paths are cut, never overflowed. */
#define PATH_MAX_LEN 160

/* True when v is a whole number: a JSON integer, or a real like 3.0 that
 * JSON writers in other languages emit for integers. */
static bool is_whole(const json_t *v) {
  if (json_is_integer(v)) return true;
  if (!json_is_real(v)) return false;
  double d = json_real_value(v);
  return isfinite(d) && d == floor(d) && fabs(d) < 9.0e15;
}

static bool type_matches(const char *type, const json_t *v) {
  if (strcmp(type, "object") == 0) return json_is_object(v);
  if (strcmp(type, "array") == 0) return json_is_array(v);
  if (strcmp(type, "integer") == 0) return is_whole(v);
  if (strcmp(type, "number") == 0) return json_is_number(v);
  if (strcmp(type, "string") == 0) return json_is_string(v);
  if (strcmp(type, "boolean") == 0) return json_is_boolean(v);
  if (strcmp(type, "null") == 0) return json_is_null(v);
  return false;
}

/* "an integer", "a string or null": the schema's type in words. */
static void describe_type(const json_t *type, char *buf, size_t len) {
  static const struct { const char *name, *words; } names[] = {
      {"object", "an object"}, {"array", "an array"},   {"integer", "an integer"},
      {"number", "a number"},  {"string", "a string"},  {"boolean", "true or false"},
      {"null", "null"},
  };
  buf[0] = '\0';
  size_t n = json_is_array(type) ? json_array_size(type) : 1;
  for (size_t i = 0; i < n; i++) {
    const char *t = json_string_value(json_is_array(type) ? json_array_get(type, i) : type);
    const char *words = t ? t : "?";
    for (size_t k = 0; t && k < sizeof names / sizeof names[0]; k++) {
      if (strcmp(names[k].name, t) == 0) words = names[k].words;
    }
    size_t used = strlen(buf);
    snprintf(buf + used, len - used, "%s%s", i ? " or " : "", words);
  }
}

static nsr_code check_type(const json_t *schema, const json_t *v, const char *path,
                           nsr_error *err) {
  const json_t *type = json_object_get(schema, "type");
  if (type == NULL) return NSR_OK;
  if (json_is_string(type) && type_matches(json_string_value(type), v)) return NSR_OK;
  for (size_t i = 0; json_is_array(type) && i < json_array_size(type); i++) {
    const char *t = json_string_value(json_array_get(type, i));
    if (t && type_matches(t, v)) return NSR_OK;
  }
  char words[96];
  describe_type(type, words, sizeof words);
  return nsr_fail(err, NSR_ERR_INVALID, "%s must be %s", path, words);
}

static nsr_code check_number(const json_t *schema, const json_t *v, const char *path,
                             nsr_error *err) {
  if (!json_is_number(v)) return NSR_OK;
  double x = json_number_value(v);
  const json_t *lim = json_object_get(schema, "minimum");
  if (json_is_number(lim) && x < json_number_value(lim)) {
    return nsr_fail(err, NSR_ERR_INVALID, "%s: %g is below the minimum %g", path, x,
                    json_number_value(lim));
  }
  lim = json_object_get(schema, "exclusiveMinimum");
  if (json_is_number(lim) && x <= json_number_value(lim)) {
    return nsr_fail(err, NSR_ERR_INVALID, "%s: %g must be greater than %g", path, x,
                    json_number_value(lim));
  }
  lim = json_object_get(schema, "maximum");
  if (json_is_number(lim) && x > json_number_value(lim)) {
    return nsr_fail(err, NSR_ERR_INVALID, "%s: %g is above the maximum %g", path, x,
                    json_number_value(lim));
  }
  return NSR_OK;
}

static nsr_code check_string(const json_t *schema, const json_t *v, const char *path,
                             nsr_error *err) {
  if (!json_is_string(v)) return NSR_OK;
  const json_t *max = json_object_get(schema, "maxLength");
  if (json_is_integer(max) && json_string_length(v) > (size_t)json_integer_value(max)) {
    return nsr_fail(err, NSR_ERR_INVALID, "%s is longer than %lld bytes", path,
                    (long long)json_integer_value(max));
  }
  const json_t *choices = json_object_get(schema, "enum");
  if (!json_is_array(choices)) return NSR_OK;
  nsr_strbuf allowed = {0};
  size_t i;
  const json_t *c;
  json_array_foreach(choices, i, c) {
    if (json_equal(c, v)) {
      nsr_strbuf_free(&allowed);
      return NSR_OK;
    }
    nsr_strbuf_printf(&allowed, "%s\"%s\"", i ? ", " : "", json_string_value(c));
  }
  nsr_fail(err, NSR_ERR_INVALID, "%s: \"%.60s\" is not one of %s", path, json_string_value(v),
           allowed.failed || allowed.data == NULL ? "the allowed values" : allowed.data);
  nsr_strbuf_free(&allowed);
  return NSR_ERR_INVALID;
}

static nsr_code check_array(const json_t *schema, const json_t *v, const char *path,
                            nsr_error *err) {
  if (!json_is_array(v)) return NSR_OK;
  size_t n = json_array_size(v);
  const json_t *min = json_object_get(schema, "minItems");
  if (json_is_integer(min) && n < (size_t)json_integer_value(min)) {
    return nsr_fail(err, NSR_ERR_INVALID, "%s needs at least %lld item%s", path,
                    (long long)json_integer_value(min), json_integer_value(min) == 1 ? "" : "s");
  }
  const json_t *max = json_object_get(schema, "maxItems");
  if (json_is_integer(max) && n > (size_t)json_integer_value(max)) {
    return nsr_fail(err, NSR_ERR_INVALID, "%s has %zu items, more than the maximum %lld", path,
                    n, (long long)json_integer_value(max));
  }
  const json_t *items = json_object_get(schema, "items");
  if (!json_is_object(items)) return NSR_OK;
  for (size_t i = 0; i < n; i++) {
    char sub[PATH_MAX_LEN];
    snprintf(sub, sizeof sub, "%s[%zu]", path, i);
    nsr_code rc = tools_schema_check(items, json_array_get(v, i), sub, err);
    if (rc != NSR_OK) return rc;
  }
  return NSR_OK;
}

/* Unknown properties are refused, with the allowed names listed, so that a
 * model that misspells one learns the right spelling from the error. */
static nsr_code unknown_property(const json_t *props, const char *key, const char *path,
                                 nsr_error *err) {
  nsr_strbuf allowed = {0};
  const char *name;
  const json_t *unused;
  json_object_foreach((json_t *)props, name, unused) {
    nsr_strbuf_printf(&allowed, "%s%s", allowed.len ? ", " : "", name);
  }
  nsr_fail(err, NSR_ERR_INVALID, "%s: unknown property \"%.60s\" (allowed: %s)", path, key,
           allowed.failed ? "?" : allowed.len ? allowed.data : "none");
  nsr_strbuf_free(&allowed);
  return NSR_ERR_INVALID;
}

static nsr_code check_object(const json_t *schema, const json_t *v, const char *path,
                             nsr_error *err) {
  if (!json_is_object(v)) return NSR_OK;
  const json_t *props = json_object_get(schema, "properties");
  const json_t *required = json_object_get(schema, "required");
  size_t i;
  const json_t *name;
  json_array_foreach(required, i, name) {
    const json_t *got = json_object_get(v, json_string_value(name));
    if (got == NULL) {
      return nsr_fail(err, NSR_ERR_INVALID, "%s: missing required property \"%s\"", path,
                      json_string_value(name));
    }
  }
  bool closed = json_is_false(json_object_get(schema, "additionalProperties"));
  const char *key;
  const json_t *value;
  json_object_foreach((json_t *)v, key, value) {
    const json_t *sub_schema = json_is_object(props) ? json_object_get(props, key) : NULL;
    if (sub_schema == NULL) {
      if (closed) return unknown_property(props, key, path, err);
      continue;
    }
    char sub[PATH_MAX_LEN];
    snprintf(sub, sizeof sub, "%s.%s", path, key);
    nsr_code rc = tools_schema_check(sub_schema, value, sub, err);
    if (rc != NSR_OK) return rc;
  }
  return NSR_OK;
}

nsr_code tools_schema_check(const json_t *schema, const json_t *value,
                            const char *path, nsr_error *err) {
  nsr_code rc = check_type(schema, value, path, err);
  if (rc == NSR_OK) rc = check_number(schema, value, path, err);
  if (rc == NSR_OK) rc = check_string(schema, value, path, err);
  if (rc == NSR_OK) rc = check_array(schema, value, path, err);
  if (rc == NSR_OK) rc = check_object(schema, value, path, err);
  return rc;
}

nsr_code tools_schema_parse(const char *text, json_t **out, nsr_error *err) {
  nsr_code rc = nsr_json_parse(text, strlen(text), out, err);
  if (rc == NSR_ERR_PARSE) {
    nsr_error_prefix(err, "tool schema: ");
    err->code = NSR_ERR_INTERNAL;
    return NSR_ERR_INTERNAL;
  }
  return rc;
}
